"""加签 / 减签, 会签 completion rules (all / any / ratio, parallel and sequential), operations inside a 会签 and the
leader's 圈阅 (R1.4), through the services and the actions endpoint (issue #3 §4)."""
from __future__ import annotations

import pytest

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.flow import services
from zhengtong.flow.models import BusinessType, ProcessDefinition, Task, TrailEntry

from .factories import DRAFTER, ProcessDefinitionFactory, bpmn, task
from .test_operations import act, engine_ready
from .test_runtime import make_office, open_tasks, run_to_office_review, start, submit, user

pytestmark = pytest.mark.django_db


def to_dept_review(o):
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    return review


def trail_ops(instance) -> list[str]:
    return list(TrailEntry.objects.filter(instance=instance).values_list("operation", flat=True))


# --- 加签 ----------------------------------------------------------------------------------------------------

def test_add_signers_before_the_step_waits_and_comes_back():
    o = make_office()
    review = to_dept_review(o)
    added = services.add_signers(user(o.dept_head), review, to_identities=o.signers[:2], position="before",
                                 opinion="请两位处长先看")
    assert sorted(t.assignee_id for t in added) == sorted(s.pk for s in o.signers[:2])
    assert all(t.added_from_id == review.pk and t.add_position == "before" and t.sender == o.dept_head
               for t in added)
    assert Task.objects.get(pk=review.pk).status == Task.Status.WAITING
    with pytest.raises(Conflict) as exc:
        submit(Task.objects.get(pk=review.pk), opinion="同意", next_handlers=[o.office_head.pk])
    assert exc.value.code == "flow.task_waiting"
    assert submit(added[0], opinion="无意见") == []
    [back] = submit(added[1], opinion="建议补充数据")
    assert (back.pk, back.status, back.sender) == (review.pk, Task.Status.OPEN, added[1].assignee)
    assert engine_ready(review.instance) == ["dept_review"]  # the engine never moved
    [office] = submit(back, opinion="同意", next_handlers=[o.office_head.pk])
    assert office.node_id == "office_review"
    ops = trail_ops(review.instance)
    assert ops.count("added_signer") == 2 and ops.count("added_signer_done") == 2 and "add_signers" in ops
    assert AuditRecord.objects.filter(action="flow.signers_added").exists()
    assert AuditRecord.objects.filter(action="flow.added_signer_submitted").count() == 2


def test_add_signers_after_the_last_added_signer_completes_the_step():
    o = make_office()
    review = to_dept_review(o)
    added = services.add_signers(user(o.dept_head), review, to_identities=o.signers[:2], position="after",
                                 opinion="同意，请两位处长会核")
    assert Task.objects.get(pk=review.pk).status == Task.Status.DONE
    assert submit(added[0], opinion="同意") == []
    assert engine_ready(review.instance) == ["dept_review"]
    [office] = submit(added[1], opinion="同意", next_handlers=[o.office_head.pk])
    assert (office.node_id, office.assignee, office.sender) == ("office_review", o.office_head, added[1].assignee)
    assert engine_ready(review.instance) == ["office_review"]


def test_add_signers_refusals_change_nothing():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    with pytest.raises(Conflict) as exc:  # 起草 allows retract and circulate only
        services.add_signers(user(o.drafter), draft, to_identities=[o.signers[0]], position="before")
    assert exc.value.code == "flow.operation_not_allowed"
    review = submit(draft)[0]
    with pytest.raises(Forbidden):
        services.add_signers(user(o.signers[0]), review, to_identities=[o.signers[1]], position="before")
    assert AuditRecord.objects.filter(action="permission.denied").exists()
    with pytest.raises(ServiceError) as exc:
        services.add_signers(user(o.dept_head), review, to_identities=[o.dept_head], position="before")
    assert exc.value.code == "flow.identity_is_self"
    with pytest.raises(ServiceError) as exc:
        services.add_signers(user(o.dept_head), review, to_identities=[o.signers[0]], position="sideways")
    assert exc.value.code == "flow.invalid_position"
    assert Task.objects.get(pk=review.pk).status == Task.Status.OPEN
    assert not Task.objects.filter(added_from=review).exists()


# --- 减签 ----------------------------------------------------------------------------------------------------

def test_remove_added_signers_and_the_step_returns_when_none_is_left():
    o = make_office()
    review = to_dept_review(o)
    added = services.add_signers(user(o.dept_head), review, to_identities=o.signers[:2], position="before")
    with pytest.raises(ServiceError) as exc:
        services.remove_signers(user(o.dept_head), review, identities=[o.signers[2]])
    assert exc.value.code == "flow.signer_not_removable"
    removed = services.remove_signers(user(o.dept_head), review, identities=[o.signers[0]], opinion="不必看了")
    assert [t.pk for t in removed] == [added[0].pk]
    assert Task.objects.get(pk=added[0].pk).status == Task.Status.CANCELLED
    assert Task.objects.get(pk=review.pk).status == Task.Status.WAITING
    services.remove_signers(user(o.dept_head), review, identities=[o.signers[1]])
    assert Task.objects.get(pk=review.pk).status == Task.Status.OPEN
    assert trail_ops(review.instance).count("removed_signer") == 2
    assert AuditRecord.objects.filter(action="flow.signers_removed").count() == 2


def test_remove_a_countersigner_who_has_not_signed():
    o = make_office()
    office = run_to_office_review(o)
    signers = submit(office, opinion="请会签", route="countersign", next_handlers=[s.pk for s in o.signers])
    assert len(signers) == 3
    removed = services.remove_signers(user(o.office_head), Task.objects.get(pk=office.pk), identities=[o.signers[2]])
    assert [t.assignee for t in removed] == [o.signers[2]]
    assert Task.objects.get(pk=signers[2].pk).status == Task.Status.CANCELLED
    with pytest.raises(Conflict) as exc:  # the last two unsigned signers cannot both go
        services.remove_signers(user(o.office_head), Task.objects.get(pk=office.pk), identities=o.signers[:2])
    assert exc.value.code == "flow.cannot_remove_last_signer"
    assert submit(signers[0], opinion="同意") == []
    [sign] = submit(signers[1], opinion="同意", next_handlers=[o.deputy.pk])
    assert (sign.node_id, sign.assignee) == ("sign", o.deputy)


def test_actions_endpoint_add_and_remove_signers(client):
    o = make_office()
    review = to_dept_review(o)
    response = act(client, o.dept_head, review, action="add_signers", to_identities=[o.signers[0].pk],
                   position="before", opinion="请先看")
    assert response.status_code == 200, response.content
    [added] = response.json()["tasks"]
    assert added["assignee_id"] == o.signers[0].pk
    response = act(client, o.dept_head, review, action="add_signers", to_identities=[o.signers[1].pk])
    assert response.status_code == 422 and response.json()["code"] == "flow.invalid_position"
    response = act(client, o.dept_head, review, action="remove_signers", to_identities=[o.signers[0].pk])
    assert response.status_code == 200 and response.json()["tasks"][0]["id"] == added["id"]
    assert Task.objects.get(pk=review.pk).status == Task.Status.OPEN


# --- 会签 completion rules -------------------------------------------------------------------------------------

def countersign_flow(o, *, condition: str = "", sequential: bool = False, first_ops: str = ""):
    """A unit 签报 flow: 拟稿 (drafter) → 会签 (chosen dept heads, multi-instance) → 汇总 (drafter)."""
    cond = f"<bpmn:completionCondition>{condition}</bpmn:completionCondition>" if condition else ""
    seq = ' isSequential="true"' if sequential else ""
    cs = task("cs", "会签", '<zt:assignment rule="chosen"><zt:candidates rule="duty" duty="dept_head" '
              'relative="drafter_unit"/></zt:assignment><zt:operations allowed="return,transfer,delegate,add_signers"/>',
              extra=f"<bpmn:multiInstanceLoopCharacteristics{seq}><bpmn:loopCardinality>countersign_count"
                    f"</bpmn:loopCardinality>{cond}</bpmn:multiInstanceLoopCharacteristics>")
    ops = f'<zt:operations allowed="{first_ops}"/>' if first_ops else ""
    xml = bpmn(task("a", "拟稿", DRAFTER + ops), cs, task("z", "汇总", DRAFTER), process_id="cs_flow")
    ProcessDefinitionFactory(unit=o.unit, business_type=BusinessType.SIGN_REPORT, key="cs_flow", bpmn_xml=xml,
                             status=ProcessDefinition.Status.ACTIVE)
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="sign_report",
                                      title="会签规则测试")
    [first] = open_tasks(instance)
    return instance, submit(first, next_handlers=[s.pk for s in o.signers])


def test_countersign_all_waits_for_every_signer():
    o = make_office()
    instance, rows = countersign_flow(o)
    assert len(rows) == 3
    assert submit(rows[0]) == [] and submit(rows[1]) == []
    [z] = submit(rows[2])
    assert z.node_id == "z"


def test_countersign_any_completes_on_the_first_signature():
    o = make_office()
    instance, rows = countersign_flow(o, condition="signed &gt;= 1")
    [z] = submit(rows[1], opinion="同意")
    assert z.node_id == "z"
    assert {Task.objects.get(pk=r.pk).status for r in (rows[0], rows[2])} == {Task.Status.CANCELLED}
    assert engine_ready(instance) == ["z"]


def test_countersign_ratio_two_thirds():
    o = make_office()
    instance, rows = countersign_flow(o, condition="signed &gt;= signers * 2 / 3")
    assert submit(rows[0]) == []
    [z] = submit(rows[2])
    assert z.node_id == "z" and Task.objects.get(pk=rows[1].pk).status == Task.Status.CANCELLED


def test_countersign_ratio_counts_only_real_signatures_after_a_removal():
    o = make_office()
    instance, rows = countersign_flow(o, condition="signed &gt;= signers / 2", first_ops="add_signers")
    sender = Task.objects.get(instance=instance, node_id="a")
    services.remove_signers(user(o.drafter), sender, identities=[o.signers[0]])  # 3 signers → 2
    [z] = submit(rows[1])  # one of two is half: done (of three it would not be)
    assert z.node_id == "z" and Task.objects.get(pk=rows[2].pk).status == Task.Status.CANCELLED


def test_sequential_countersign_goes_to_the_chosen_signers_one_by_one_in_order():
    o = make_office()
    instance, rows = countersign_flow(o, sequential=True)
    assert [r.assignee for r in rows] == [o.signers[0]]
    [second] = submit(rows[0], opinion="同意")
    assert second.assignee == o.signers[1] and second.node_id == "cs"
    [third] = submit(second, opinion="同意")
    assert third.assignee == o.signers[2]
    [z] = submit(third, opinion="同意")
    assert z.node_id == "z"


# --- operations inside a 会签 ------------------------------------------------------------------------------------

def test_transfer_and_add_signers_inside_a_countersign():
    o = make_office()
    instance, rows = countersign_flow(o)
    other = o.office_head
    [moved] = [services.transfer_task(user(o.signers[0]), rows[0], to_identity=other, opinion="请主任会签")]
    assert moved.spiff_task_id == rows[0].spiff_task_id and moved.assignee == other
    [helper] = services.add_signers(user(o.signers[1]), rows[1], to_identities=[o.dept_head], position="before")
    [back] = submit(helper, opinion="已核")
    assert back.pk == rows[1].pk
    assert submit(moved) == [] and submit(back) == []
    [z] = submit(rows[2])
    assert z.node_id == "z"


def test_return_from_a_countersigner_sends_the_document_back_and_cancels_the_other_signers():
    o = make_office()
    instance, rows = countersign_flow(o)
    [again] = services.return_task(user(o.signers[0]), rows[0], reason="数据有误，请核实")
    assert (again.node_id, again.assignee, again.returned_by) == ("a", o.drafter, o.signers[0])
    assert {Task.objects.get(pk=r.pk).status for r in rows[1:]} == {Task.Status.CANCELLED}
    assert engine_ready(instance) == ["a"]


def test_retract_is_refused_inside_a_countersign():
    o = make_office()
    instance, rows = countersign_flow(o)
    submit(rows[0])
    with pytest.raises(Conflict) as exc:
        services.retract_task(user(o.signers[0]), Task.objects.get(pk=rows[0].pk))
    assert exc.value.code in ("flow.operation_not_allowed", "flow.retract_too_late")


# --- 圈阅 (R1.4) -------------------------------------------------------------------------------------------------

def test_r1_4_a_leaders_circle_counts_as_consent_where_an_opinion_is_required(client):
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="拟同意", next_handlers=[o.deputy.pk])
    with pytest.raises(ServiceError) as exc:
        submit(sign)
    assert exc.value.code == "flow.opinion_required"
    response = act(client, o.deputy, sign, action="submit", circled=True)
    assert response.status_code == 200, response.content
    entry = TrailEntry.objects.get(instance=sign.instance, node_id="sign", operation="circle_read")
    assert (entry.identity, entry.opinion) == (o.deputy, "圈阅")


# --- 退回 then 直接送回退回人 ---------------------------------------------------------------------------------------

def test_a_returned_step_goes_straight_back_to_the_returner(client):
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="拟同意", next_handlers=[o.deputy.pk])
    [draft] = services.return_task(user(o.deputy), sign, target_node="draft", reason="第二段请重写")
    assert draft.returned_by == o.deputy
    response = act(client, o.drafter, draft, action="submit", send_back=True, opinion="已按批示修改")
    assert response.status_code == 200, response.content
    [back] = response.json()["tasks"]
    assert (back["node_id"], back["assignee_id"]) == ("sign", o.deputy.pk)
    assert engine_ready(sign.instance) == ["sign"]
    entry = TrailEntry.objects.get(instance=sign.instance, operation="send_back")
    assert (entry.route, entry.opinion) == ("sign", "已按批示修改")
    assert AuditRecord.objects.filter(action="flow.task_sent_back").exists()
    # and the flow goes on from 签发 as usual
    [recheck] = submit(Task.objects.get(pk=back["id"]), opinion="同意")
    assert recheck.node_id == "recheck"


def test_send_back_needs_a_returned_step_and_no_countersign_on_the_way():
    o = make_office()
    review = to_dept_review(o)
    with pytest.raises(Conflict) as exc:
        services.send_back_to_returner(user(o.dept_head), review)
    assert exc.value.code == "flow.not_returned"
    instance, rows = countersign_flow(o)
    [again] = services.return_task(user(o.signers[0]), rows[0], reason="请补充")
    version = instance.__class__.objects.get(pk=instance.pk).version
    with pytest.raises(Conflict) as exc:  # the way back to a 会签 instance runs into the 会签 itself
        services.send_back_to_returner(user(o.drafter), again)
    assert exc.value.code == "flow.send_back_impossible"
    assert instance.__class__.objects.get(pk=instance.pk).version == version
    assert Task.objects.get(pk=again.pk).status == Task.Status.OPEN


def test_return_to_a_countersign_runs_it_again_with_the_same_signers():
    o = make_office()
    office = run_to_office_review(o)
    rows = submit(office, opinion="请会签", route="countersign", next_handlers=[s.pk for s in o.signers[:2]])
    submit(rows[0], opinion="同意")
    [sign] = submit(rows[1], opinion="同意", next_handlers=[o.deputy.pk])
    again = services.return_task(user(o.deputy), sign, target_node="countersign", reason="请两位处长再核")
    assert [(t.node_id, t.assignee, t.returned_by) for t in again] == [("countersign", s, o.deputy)
                                                                      for s in o.signers[:2]]
    assert engine_ready(sign.instance) == ["countersign", "countersign"]
    assert submit(again[0], opinion="再核无误") == []
    [sign2] = submit(again[1], opinion="再核无误", next_handlers=[o.deputy.pk])
    assert (sign2.node_id, sign2.assignee) == ("sign", o.deputy)
    # without a target, 签发 returns to the step before it: the 会签
    back = services.return_task(user(o.deputy), sign2, reason="还需会签")
    assert [t.node_id for t in back] == ["countersign", "countersign"]
