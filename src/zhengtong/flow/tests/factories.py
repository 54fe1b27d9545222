"""Factories and BPMN builders for the flow tests.

    definition = ProcessDefinitionFactory(unit=unit)        # a draft 签报-shaped definition v1
    xml = bpmn(task(id="a", ext=DRAFTER))                    # a minimal valid process around user tasks
"""
from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from zhengtong.core.crypto import sm3_hex
from zhengtong.flow import models

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:zt="https://zhengtong.example/bpmn" '
          'id="defs" targetNamespace="https://zhengtong.example/test">')
DRAFTER = '<zt:assignment rule="drafter"/>'


def task(id="t1", name="办理", ext=DRAFTER, extra=""):
    ext_xml = f"<bpmn:extensionElements>{ext}</bpmn:extensionElements>" if ext else ""
    return f'<bpmn:userTask id="{id}" name="{name}">{ext_xml}{extra}</bpmn:userTask>'


def bpmn(*tasks: str, flows: str | None = None, process_id="test_flow", extra="", outside="") -> str:
    """A process start → tasks in order → end (unless `flows` is given)."""
    ids = ["start"] + [t.split('id="', 1)[1].split('"', 1)[0] for t in tasks] + ["end"]
    if flows is None:
        flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return (f'{HEADER}<bpmn:process id="{process_id}" name="测试流程" isExecutable="true">'
            f'<bpmn:startEvent id="start"/>{"".join(tasks)}<bpmn:endEvent id="end"/>{extra}{flows}'
            f'</bpmn:process>{outside}</bpmn:definitions>')


SIMPLE = bpmn(task("a", "拟稿"), task("b", "审核", '<zt:assignment rule="duty" duty="dept_head" '
                                           'relative="drafter_department"/>'))


class ProcessDefinitionFactory(DjangoModelFactory):
    class Meta:
        model = models.ProcessDefinition

    business_type = models.BusinessType.SIGN_REPORT
    unit = None
    key = "test_flow"
    version = factory.Sequence(lambda n: n + 1)
    name = "测试流程"
    bpmn_xml = SIMPLE
    sm3 = factory.LazyAttribute(lambda o: sm3_hex(o.bpmn_xml.encode()))
    status = models.ProcessDefinition.Status.DRAFT
