"""Operations on a task (issue #3 §4): 打开, 撤回, 退回, 转办, 委派 through the services and the actions endpoint,
on the default 发文 flow. Each: the happy path, a node without the operation, not your task (403), too late / bad
target (409 / 422), trail and audit (R7: every change audited in its transaction)."""
from __future__ import annotations

import pytest

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.flow import engine, services
from zhengtong.flow.models import ProcessInstance, Task, TrailEntry
from zhengtong.org.tests.factories import DelegationFactory, IdentityFactory, duty

from .test_runtime import make_office, open_tasks, run_to_office_review, start, submit, user

pytestmark = pytest.mark.django_db


def act(client, identity, task, **body):
    client.force_login(user(identity))
    return client.post(f"/api/v1/tasks/{task.pk}/actions", body, content_type="application/json")


def engine_ready(instance) -> list[str]:
    instance = ProcessInstance.objects.get(pk=instance.pk)
    return sorted(t.task_spec.bpmn_id for t in engine.ready_user_tasks(engine.load_state(instance.definition,
                                                                                          instance.state)))


# --- 打开 ----------------------------------------------------------------------------------------------------

def test_open_sets_opened_at_once_and_is_audited():
    o = make_office()
    [draft] = open_tasks(start(o))
    first = services.open_task(user(o.drafter), draft).opened_at
    assert first is not None
    assert services.open_task(user(o.drafter), draft).opened_at == first
    assert AuditRecord.objects.filter(action="flow.task_opened").count() == 1
    with pytest.raises(Forbidden):
        services.open_task(user(o.dept_head), draft)


# --- 撤回 ----------------------------------------------------------------------------------------------------

def test_retract_before_the_next_handler_opens_gives_the_step_back():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    [again] = services.retract_task(user(o.drafter), draft)
    assert (again.node_id, again.assignee, again.status) == ("draft", o.drafter, "open")
    assert Task.objects.get(pk=review.pk).status == "cancelled"
    assert engine_ready(instance) == ["draft"]
    assert TrailEntry.objects.filter(instance=instance, operation="retract", identity=o.drafter).exists()
    assert AuditRecord.objects.filter(action="flow.task_retracted").exists()
    # and the flow goes on from there as before
    [review2] = submit(again)
    assert (review2.node_id, review2.assignee) == ("dept_review", o.dept_head)


def test_retract_keeps_the_chosen_handler_of_a_chosen_node():
    o = make_office()
    office = run_to_office_review(o)
    review = Task.objects.get(instance=office.instance, node_id="dept_review")
    [back] = services.retract_task(user(o.dept_head), review)
    assert (back.node_id, back.assignee) == ("dept_review", o.dept_head)
    [office2] = submit(back, opinion="同意", next_handlers=[o.office_head.pk])
    assert office2.assignee == o.office_head


def test_retract_too_late_once_the_next_task_is_opened():
    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    services.open_task(user(o.dept_head), review)
    with pytest.raises(Conflict) as exc:
        services.retract_task(user(o.drafter), draft)
    assert exc.value.code == "flow.retract_too_late"
    assert Task.objects.get(pk=review.pk).status == "open"


def test_retract_too_late_once_the_next_task_is_done_and_not_for_others():
    o = make_office()
    office = run_to_office_review(o)
    draft = Task.objects.get(instance=office.instance, node_id="draft")
    with pytest.raises(Conflict) as exc:
        services.retract_task(user(o.drafter), draft)
    assert exc.value.code == "flow.retract_too_late"
    review = Task.objects.get(instance=office.instance, node_id="dept_review")
    with pytest.raises(Forbidden):
        services.retract_task(user(o.drafter), review)
    with pytest.raises(Conflict) as exc:  # still open: nothing to take back
        services.retract_task(user(o.office_head), office)
    assert exc.value.code == "flow.retract_too_late"


def test_retract_not_allowed_at_a_node_without_it():
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="请签发", next_handlers=[o.deputy.pk])
    [recheck] = submit(sign, opinion="同意")  # 签发 allows return,transfer,circulate only
    with pytest.raises(Conflict) as exc:
        services.retract_task(user(o.deputy), sign)
    assert exc.value.code == "flow.operation_not_allowed" and "签发" in exc.value.message
    assert Task.objects.get(pk=recheck.pk).status == "open"


# --- 退回 ----------------------------------------------------------------------------------------------------

def test_return_to_the_previous_step_goes_to_who_handled_it():
    o = make_office()
    office = run_to_office_review(o)
    instance = office.instance
    [back] = services.return_task(user(o.office_head), office, reason="请补充依据")
    assert (back.node_id, back.assignee, back.returned_by) == ("dept_review", o.dept_head, o.office_head)
    assert Task.objects.get(pk=back.pk).returned_by == o.office_head
    assert Task.objects.get(pk=office.pk).status == "done"
    assert engine_ready(instance) == ["dept_review"]
    entry = TrailEntry.objects.get(instance=instance, operation="return")
    assert (entry.identity, entry.opinion, entry.route) == (o.office_head, "请补充依据", "dept_review")
    assert AuditRecord.objects.filter(action="flow.task_returned").exists()
    [office2] = submit(back, opinion="已补充", next_handlers=[o.office_head.pk])
    assert office2.assignee == o.office_head


def test_return_to_an_earlier_step_of_the_path():
    o = make_office()
    office = run_to_office_review(o)
    [back] = services.return_task(user(o.office_head), office, target_node="draft", reason="重新起草")
    assert (back.node_id, back.assignee) == ("draft", o.drafter)
    assert engine_ready(office.instance) == ["draft"]


def test_return_needs_a_reason_and_a_target_on_the_path():
    o = make_office()
    office = run_to_office_review(o)
    with pytest.raises(ServiceError) as exc:
        services.return_task(user(o.office_head), office, reason="  ")
    assert exc.value.code == "flow.reason_required"
    with pytest.raises(ServiceError) as exc:
        services.return_task(user(o.office_head), office, target_node="sign", reason="退")
    assert exc.value.code == "flow.return_target_invalid" and exc.value.status == 422
    with pytest.raises(Forbidden):
        services.return_task(user(o.drafter), office, reason="退")
    [draft] = [t for t in Task.objects.filter(instance=office.instance, node_id="draft")]
    assert Task.objects.get(pk=office.pk).status == "open" and draft.status == "done"


def test_return_not_allowed_at_the_first_step():
    o = make_office()
    [draft] = open_tasks(start(o))  # 起草 allows retract,circulate only
    with pytest.raises(Conflict) as exc:
        services.return_task(user(o.drafter), draft, reason="退")
    assert exc.value.code == "flow.operation_not_allowed" and "起草" in exc.value.message


# --- 转办 ----------------------------------------------------------------------------------------------------

def test_transfer_moves_the_open_task_with_ab_post_applied():
    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    other = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    stand_in = IdentityFactory(unit=o.unit)
    DelegationFactory(principal=other, delegate=stand_in)
    new = services.transfer_task(user(o.dept_head), review, to_identity=other, opinion="请王处长办理")
    assert (new.assignee, new.on_behalf_of, new.sender, new.spiff_task_id) == (
        stand_in, other, o.dept_head, review.spiff_task_id)
    assert Task.objects.get(pk=review.pk).status == "done"
    ops = list(TrailEntry.objects.filter(instance=review.instance, operation__startswith="transfer")
               .values_list("operation", "identity_id"))
    assert ops == [("transfer", o.dept_head.pk), ("transferred_to", stand_in.pk)]
    assert AuditRecord.objects.filter(action="flow.task_transferred").exists()
    [office] = services.submit_task(user(stand_in), new, opinion="同意", next_handlers=[o.office_head.pk])
    assert office.node_id == "office_review"


def test_transfer_refused_where_not_allowed_not_yours_or_bad_target():
    o = make_office()
    [draft] = open_tasks(start(o))
    with pytest.raises(Conflict) as exc:
        services.transfer_task(user(o.drafter), draft, to_identity=o.dept_head)
    assert exc.value.code == "flow.operation_not_allowed"
    [review] = submit(draft)
    with pytest.raises(Forbidden):
        services.transfer_task(user(o.drafter), review, to_identity=o.office_head)
    with pytest.raises(ServiceError) as exc:
        services.transfer_task(user(o.dept_head), review, to_identity=o.dept_head)
    assert exc.value.code == "flow.identity_is_self"
    with pytest.raises(ServiceError) as exc:
        services.transfer_task(user(o.dept_head), review, to_identity=IdentityFactory())
    assert exc.value.code == "flow.identity_other_unit"
    assert Task.objects.get(pk=review.pk).status == "open"


# --- 委派 ----------------------------------------------------------------------------------------------------

def test_delegate_comes_back_to_the_delegator_and_the_engine_waits():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    helper = IdentityFactory(unit=o.unit)
    new = services.delegate_task(user(o.dept_head), review, to_identity=helper)
    assert (new.assignee, new.delegated_from_id, new.spiff_task_id) == (helper, review.pk, review.spiff_task_id)
    assert Task.objects.get(pk=review.pk).status == "delegated"
    with pytest.raises(Conflict) as exc:
        submit(Task.objects.get(pk=review.pk), opinion="同意", next_handlers=[o.office_head.pk])
    assert exc.value.code == "flow.task_delegated"
    [back] = services.submit_task(user(helper), new, opinion="拟同意")
    assert back.pk == review.pk and Task.objects.get(pk=review.pk).status == "open"
    assert Task.objects.get(pk=new.pk).status == "done"
    assert engine_ready(instance) == ["dept_review"]
    assert TrailEntry.objects.filter(instance=instance, operation="delegate_done", identity=helper,
                                     opinion="拟同意").exists()
    [office] = submit(Task.objects.get(pk=review.pk), opinion="同意", next_handlers=[o.office_head.pk])
    assert office.node_id == "office_review"
    assert AuditRecord.objects.filter(action="flow.task_delegated").exists()


def test_delegate_refused_where_not_allowed_not_yours_or_twice():
    o = make_office()
    [draft] = open_tasks(start(o))
    helper = IdentityFactory(unit=o.unit)
    with pytest.raises(Conflict) as exc:
        services.delegate_task(user(o.drafter), draft, to_identity=helper)
    assert exc.value.code == "flow.operation_not_allowed"
    [review] = submit(draft)
    with pytest.raises(Forbidden):
        services.delegate_task(user(helper), review, to_identity=o.office_head)
    new = services.delegate_task(user(o.dept_head), review, to_identity=helper)
    with pytest.raises(Conflict) as exc:
        services.delegate_task(user(helper), new, to_identity=o.office_head)
    assert exc.value.code == "flow.operation_not_allowed"
    with pytest.raises(Conflict) as exc:
        services.return_task(user(helper), new, reason="退")
    assert exc.value.code == "flow.operation_not_allowed"


# --- the actions endpoint ------------------------------------------------------------------------------------

def test_actions_endpoint_open_retract_return_transfer_delegate(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    response = act(client, o.drafter, draft, action="retract")
    assert response.status_code == 200
    [again] = response.json()["tasks"]
    assert (again["node_id"], again["assignee_id"]) == ("draft", o.drafter.pk)
    draft = Task.objects.get(pk=again["id"])
    [review] = submit(draft)
    assert act(client, o.dept_head, review, action="open").status_code == 200
    response = act(client, o.drafter, draft, action="retract")
    assert response.status_code == 409 and response.json()["code"] == "flow.retract_too_late"
    response = act(client, o.dept_head, review, action="return")
    assert response.status_code == 400 and response.json()["code"] == "flow.reason_required"
    response = act(client, o.dept_head, review, action="return", target_node="sign", opinion="退")
    assert response.status_code == 422 and response.json()["code"] == "flow.return_target_invalid"
    response = act(client, o.dept_head, review, action="transfer", to_identities=[])
    assert response.status_code == 422
    helper = IdentityFactory(unit=o.unit)
    response = act(client, o.dept_head, review, action="delegate", to_identities=[helper.pk])
    assert response.status_code == 200 and response.json()["tasks"][0]["assignee_id"] == helper.pk
    delegated = Task.objects.get(pk=response.json()["tasks"][0]["id"])
    assert act(client, helper, delegated, action="submit", opinion="拟同意").status_code == 200
    response = act(client, o.dept_head, review, action="transfer", to_identities=[o.office_head.pk])
    assert response.status_code == 200
    moved = Task.objects.get(pk=response.json()["tasks"][0]["id"])
    assert moved.assignee == o.office_head
    response = act(client, o.drafter, moved, action="return", opinion="退")  # not theirs
    assert response.status_code == 403 and response.json()["code"] == "flow.not_your_task"
    response = act(client, o.office_head, moved, action="return", opinion="请重拟")
    assert response.status_code == 200 and response.json()["tasks"][0]["node_id"] == "draft"


def test_retract_a_send_to_countersign_and_return_over_it():
    """撤回 of 办公室审核 that started a 会签 cancels every signer's row; 退回 from 签发 over the 会签 to the 办公室;
    from there the 会签 (after it on the path) is no target."""
    o = make_office()
    office = run_to_office_review(o)
    signers = submit(office, route="countersign", opinion="请会签", next_handlers=[s.pk for s in o.signers])
    assert len(signers) == 3
    [again] = services.retract_task(user(o.office_head), office)
    assert again.node_id == "office_review" and again.assignee == o.office_head
    assert set(Task.objects.filter(pk__in=[t.pk for t in signers]).values_list("status", flat=True)) == {"cancelled"}
    assert engine_ready(office.instance) == ["office_review"]
    signers = submit(again, route="countersign", opinion="请会签", next_handlers=[s.pk for s in o.signers])
    for signer in signers[:-1]:
        assert submit(signer, opinion="同意") == []
    [sign] = submit(signers[-1], opinion="同意", next_handlers=[o.deputy.pk])
    [back] = services.return_task(user(o.deputy), sign, target_node="office_review", reason="请再核")
    assert (back.node_id, back.assignee, back.returned_by) == ("office_review", o.office_head, o.deputy)
    with pytest.raises(ServiceError) as exc:
        services.return_task(user(o.office_head), back, target_node="countersign", reason="退")
    assert exc.value.code == "flow.return_target_invalid"


def test_retract_keeps_ab_post_of_the_submitter():
    """R7: the delegate who submitted on behalf of the principal gets the step back, still on behalf of them."""
    o = make_office()
    stand_in = IdentityFactory(unit=o.unit)
    DelegationFactory(principal=o.dept_head, delegate=stand_in)
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    assert (review.assignee, review.on_behalf_of) == (stand_in, o.dept_head)
    services.submit_task(user(stand_in), review, opinion="同意", next_handlers=[o.office_head.pk])
    [back] = services.retract_task(user(stand_in), review)
    assert (back.node_id, back.assignee, back.on_behalf_of) == ("dept_review", stand_in, o.dept_head)
