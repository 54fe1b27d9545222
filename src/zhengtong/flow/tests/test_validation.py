"""Upload validation: every problem kind is listed in Chinese with the element id (issue #3 §1)."""
from __future__ import annotations

from pathlib import Path

import pytest

from zhengtong.flow.extensions import Assignment
from zhengtong.flow.validation import validate
from zhengtong.org.tests.factories import GroupFactory, RoleFactory, UnitFactory

from .factories import DRAFTER, SIMPLE, bpmn, task

pytestmark = pytest.mark.django_db
DEFINITIONS = Path(__file__).parent.parent / "definitions"


def problems(xml, **kw):
    result = validate(xml.encode() if isinstance(xml, str) else xml, **kw)
    return result.problems


def kinds(xml, **kw):
    return {(p["kind"], p["element_id"]) for p in problems(xml, **kw)}


@pytest.mark.parametrize("filename", ["dispatch.bpmn", "receipt.bpmn", "sign_report.bpmn"])
def test_shipped_definitions_validate(filename):
    """R1.5 / R1.6: the shipped defaults pass every check, including SpiffWorkflow's parser."""
    result = validate((DEFINITIONS / filename).read_bytes())
    assert result.problems == []
    assert result.key == filename.removesuffix(".bpmn")
    assert all(ext.assignment is not None for ext in result.nodes.values())


def test_shipped_definitions_carry_diagram_shapes_for_every_element():
    from lxml import etree

    for path in DEFINITIONS.glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
              "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
        elements = {e.get("id") for e in root.xpath("//bpmn:process/*[@id]", namespaces=ns)}
        drawn = {e.get("bpmnElement") for e in root.xpath("//bpmndi:BPMNShape|//bpmndi:BPMNEdge", namespaces=ns)}
        assert elements and elements <= drawn, path.name


def test_simple_definition_is_valid_and_extensions_are_typed():
    result = validate(SIMPLE.encode())
    assert result.ok
    assert result.nodes["b"].assignment == Assignment(rule="duty", duty="dept_head", relative="drafter_department")


def test_invalid_xml():
    [p] = problems(b"<bpmn:definitions><oops></bpmn:definitions>")
    assert p["kind"] == "invalid_xml" and "不是有效的 XML" in p["message"]


def test_encoding_other_than_utf8():
    gbk = SIMPLE.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    [p] = problems(gbk)
    assert p["kind"] == "encoding" and "UTF-8" in p["message"]


def test_xml_entities_are_not_expanded():
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    [p] = problems(xxe)
    assert p["kind"] == "not_bpmn"
    assert "root" not in p["message"]


def test_not_bpmn():
    [p] = problems(b'<?xml version="1.0"?><html id="x"><body/></html>')
    assert p["kind"] == "not_bpmn" and p["element_id"] == "x" and "bpmn:definitions" in p["message"]


def test_no_process():
    [p] = problems(bpmn(task()).split("<bpmn:process")[0] + "</bpmn:definitions>")
    assert p["kind"] == "no_process"


def test_unsupported_elements_are_each_listed_with_the_supported_ones():
    xml = bpmn(task("a"), extra='<bpmn:scriptTask id="s1"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
               '<bpmn:serviceTask id="svc"/>', outside='<bpmn:message id="m1" name="x"/>')
    found = problems(xml)
    unsupported = {p["element_id"] for p in found if p["kind"] == "unsupported"}
    assert unsupported == {"s1", "svc", "m1"}
    assert all("支持的元素：开始事件、结束事件、用户任务" in p["message"] for p in found if p["kind"] == "unsupported")


def test_unsupported_event_definition_inside_a_start_event():
    xml = bpmn(task("a")).replace('<bpmn:startEvent id="start"/>',
                                  '<bpmn:startEvent id="start"><bpmn:timerEventDefinition/></bpmn:startEvent>')
    assert ("unsupported", "start") in kinds(xml)


def test_user_task_without_assignment_rule():
    found = problems(bpmn(task("a"), task("b", "审核", ext="")))
    assert [(p["kind"], p["element_id"]) for p in found] == [("assignment_missing", "b")]
    assert "缺少办理人规则" in found[0]["message"] and "“审核”" in found[0]["message"]


@pytest.mark.parametrize("ext, needle", [
    ('<zt:assignment rule="magic"/>', "办理人规则“magic”无效"),
    ('<zt:assignment rule="duty" duty="dept_head" relative="moon"/>', "relative=“moon”无效"),
    ('<zt:assignment rule="identity" identity="abc"/>', "identity"),
    ('<zt:assignment rule="chosen"/>', "至少需要一个 zt:candidates"),
    ('<zt:assignment rule="chosen"><zt:candidates rule="chosen"/></zt:assignment>', "“chosen”无效"),
    (DRAFTER + '<zt:deadline workingDays="-1"/>', "办理时限"),
    (DRAFTER + '<zt:operations allowed="return,fly"/>', "操作“fly”未知"),
    (DRAFTER + '<zt:opinion required="yes"/>', "true 或 false"),
    (DRAFTER + '<zt:form editable="Title!"/>', "可编辑字段名“Title!”无效"),
    (DRAFTER + DRAFTER, "多个 zt:assignment"),
    (DRAFTER + '<zt:colour value="red"/>', "未知的扩展元素 zt:colour"),
])
def test_malformed_extensions(ext, needle):
    [p] = problems(bpmn(task("a", ext=ext)))
    assert p["kind"] == "invalid_extension" and p["element_id"] == "a" and needle in p["message"]


def test_unknown_duty_role_group_and_identity_codes():
    xml = bpmn(
        task("a", ext='<zt:assignment rule="duty" duty="astronaut" relative="drafter_unit"/>'),
        task("b", ext='<zt:assignment rule="role" role="nobody"/>'),
        task("c", ext='<zt:assignment rule="group" group="不存在的组"/>'),
        task("d", ext='<zt:assignment rule="identity" identity="999999"/>'),
        task("e", ext='<zt:assignment rule="chosen"><zt:candidates rule="duty" duty="ghost" '
                      'relative="drafter_unit"/></zt:assignment>'),
    )
    assert kinds(xml) == {("unknown_duty", "a"), ("unknown_role", "b"), ("unknown_group", "c"),
                          ("unknown_identity", "d"), ("unknown_duty", "e")}


def test_roles_and_groups_of_the_unit_or_the_platform_are_known():
    unit, other = UnitFactory(), UnitFactory()
    RoleFactory(code="reviewer", unit=None)
    RoleFactory(code="own_role", unit=unit)
    GroupFactory(name="党组成员", unit=unit)
    RoleFactory(code="foreign", unit=other)
    xml = bpmn(task("a", ext='<zt:assignment rule="role" role="reviewer"/>'),
               task("b", ext='<zt:assignment rule="role" role="own_role"/>'),
               task("c", ext='<zt:assignment rule="group" group="党组成员"/>'),
               task("d", ext='<zt:assignment rule="role" role="foreign"/>'))
    assert kinds(xml, unit=unit) == {("unknown_role", "d")}
    assert ("unknown_role", "b") in kinds(xml)  # the platform default cannot use a unit's role


def test_unreachable_node_and_node_that_cannot_reach_an_end():
    flows = ('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/>'
             '<bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="end"/>'
             '<bpmn:sequenceFlow id="f3" sourceRef="a" targetRef="stuck"/>'
             '<bpmn:sequenceFlow id="f4" sourceRef="island" targetRef="end"/>')
    xml = bpmn(task("a"), task("stuck", "死胡同"), task("island", "孤岛"), flows=flows)
    found = problems(xml)
    assert {(p["kind"], p["element_id"]) for p in found} == {("dead_end", "stuck"), ("unreachable", "island")}
    assert any("从开始事件无法到达" in p["message"] and "“孤岛”" in p["message"] for p in found)


def test_start_end_and_dangling_flows():
    xml = bpmn(task("a"), flows='<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="nowhere"/>')
    assert ("dangling_flow", "f1") in kinds(xml)
    no_end = bpmn(task("a")).replace('<bpmn:endEvent id="end"/>', "")
    assert ("no_end", "") in kinds(no_end)
    two_starts = bpmn(task("a"), extra='<bpmn:startEvent id="start2"/>')
    assert any(k == "start_count" for k, _ in kinds(two_starts))


def test_conditions_may_not_run_code():
    """Conditions are evaluated by SpiffWorkflow's Python engine: only plain expressions are accepted."""
    def gw(cond):
        return bpmn(task("a"), task("b"), flows=(
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="a">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{cond}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="b"/>'
            '<bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="end"/>'
            '<bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="end"/>'),
            extra='<bpmn:exclusiveGateway id="gw" default="f3"/>')

    assert problems(gw('route == "x" and not urgent')) == []
    for bad in ('__import__("os").system("id")', "open('/etc/passwd').read()", "route.upper()", "_secret"):
        assert ("unsafe_expression", "f2") in kinds(gw(bad)), bad


def test_multi_instance_user_task():
    mi = ('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>'
          '</bpmn:multiInstanceLoopCharacteristics>')
    assert problems(bpmn(task("a", extra=mi))) == []
    no_card = '<bpmn:multiInstanceLoopCharacteristics/>'
    assert ("invalid_multi_instance", "a") in kinds(bpmn(task("a", extra=no_card)))
    loop = '<bpmn:standardLoopCharacteristics/>'
    assert ("unsupported", "a") in kinds(bpmn(task("a", extra=loop)))


def test_what_the_engine_refuses_is_listed():
    """An exclusive gateway with two unconditional outgoing flows and no default: SpiffWorkflow refuses it."""
    xml = bpmn(task("a"), task("b"), flows=(
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="a"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="b"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="end"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="end"/>'), extra='<bpmn:exclusiveGateway id="gw"/>')
    [p] = problems(xml)
    assert p["kind"] == "engine_refused" and "流程引擎无法解析" in p["message"]


def test_every_problem_is_listed_not_just_the_first():
    xml = bpmn(task("a", ext=""), task("b", ext='<zt:assignment rule="role" role="nobody"/>'),
               extra='<bpmn:scriptTask id="s1"/>')
    assert {k for k, _ in kinds(xml)} >= {"assignment_missing", "unknown_role", "unsupported"}
