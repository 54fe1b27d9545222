"""Instances and tasks through the services (issue #3 §3, §4, §5): the default 发文 flow end to end, 会签,
AB岗, opinions, permission and conflicts. The PostgreSQL thread test is in test_runtime_concurrency.py."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.utils import timezone

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.flow import engine, services
from zhengtong.flow.models import ProcessInstance, Task, TrailEntry
from zhengtong.org.models import Identity
from zhengtong.org.tests.factories import (
    DelegationFactory,
    DepartmentFactory,
    IdentityFactory,
    UnitFactory,
    duty,
)

pytestmark = pytest.mark.django_db


@dataclass
class Office:
    """A unit with a 科 (drafter 科员 + its 处室负责人), the 办公室 (主任), three other 处室 heads, a 分管领导,
    a 主要领导 and a 文书."""

    unit: object
    drafter: Identity
    dept_head: Identity
    office_head: Identity
    signers: list[Identity]
    deputy: Identity
    principal: Identity
    doc_clerk: Identity


def make_office() -> Office:
    call_command("load_default_flows")
    unit = UnitFactory()
    dept = DepartmentFactory(unit=unit, name="综合科")
    office = DepartmentFactory(unit=unit, name="办公室")

    def post(code, department=None, title=""):
        return IdentityFactory(unit=unit, department=department, duty=duty(code), title=title)

    return Office(unit=unit, drafter=post("clerk", dept, "科员"), dept_head=post("dept_head", dept, "科长"),
                  office_head=post("dept_head", office, "办公室主任"),
                  signers=[post("dept_head", DepartmentFactory(unit=unit), "处长") for _ in range(3)],
                  deputy=post("deputy", None, "副局长"), principal=post("principal", None, "局长"),
                  doc_clerk=post("doc_clerk", office, "文书"))


def user(identity):
    return identity.person.user


def open_tasks(instance) -> list[Task]:
    return list(Task.objects.filter(instance=instance, status=Task.Status.OPEN).order_by("id"))


def submit(task, **kwargs) -> list[Task]:
    return services.submit_task(user(task.assignee), task, **kwargs)


def start(o: Office, **kwargs) -> ProcessInstance:
    return services.start_process(user(o.drafter), identity=o.drafter, business_type="dispatch",
                                  title="关于做好年终工作的通知", **kwargs)


def run_to_office_review(o: Office) -> Task:
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    [office] = submit(review, opinion="同意", next_handlers=[o.office_head.pk])
    return office


def finish_from_sign(o: Office, sign: Task) -> ProcessInstance:
    [recheck] = submit(sign, opinion="同意印发")
    assert recheck.assignee == o.doc_clerk
    [number] = submit(recheck)
    [seal] = submit(number)
    [issue] = submit(seal)
    assert submit(issue) == []
    return ProcessInstance.objects.get(pk=sign.instance_id)


def test_dispatch_end_to_end_without_countersign():
    """R1.5: 起草 → 处室核稿 → 办公室审核 → 签发 → 复核 → 编号 → 用印 → 核发, each to the right person."""
    o = make_office()
    instance = start(o)
    assert instance.status == "running" and instance.definition.unit is None and instance.drafter == o.drafter
    [draft] = open_tasks(instance)
    assert (draft.node_id, draft.node_name, draft.assignee, draft.on_behalf_of) == ("draft", "起草", o.drafter, None)
    assert draft.deadline is not None and draft.deadline > timezone.localdate(draft.received_at)
    [review] = submit(draft)
    assert (review.node_id, review.assignee, review.sender) == ("dept_review", o.dept_head, o.drafter)
    [office] = submit(review, opinion="同意", next_handlers=[o.office_head.pk])
    assert (office.node_id, office.assignee) == ("office_review", o.office_head)
    [sign] = submit(office, opinion="请领导签发", next_handlers=[o.deputy.pk])
    assert (sign.node_id, sign.assignee) == ("sign", o.deputy)
    instance = finish_from_sign(o, sign)
    assert instance.status == "completed" and instance.completed_at is not None
    assert not open_tasks(instance)
    assert engine.load_state(instance.definition, instance.state).is_completed()
    trail = list(TrailEntry.objects.filter(instance=instance).values_list("operation", "node_id", "opinion"))
    assert trail[0] == ("start", "", "")
    assert [n for _, n, _ in trail[1:]] == ["draft", "dept_review", "office_review", "sign", "recheck", "number",
                                            "seal", "issue"]
    assert ("submit", "dept_review", "同意") in trail
    assert AuditRecord.objects.filter(action="flow.task_submitted", object_id=str(instance.pk)).count() == 8
    assert AuditRecord.objects.filter(action="flow.instance_started").count() == 1


def test_state_is_stored_without_the_spec_and_restores():
    o = make_office()
    instance = start(o)
    assert '"spec"' not in instance.state and instance.version == 1
    workflow = engine.load_state(instance.definition, instance.state)
    assert [t.task_spec.bpmn_id for t in engine.ready_user_tasks(workflow)] == ["draft"]


def test_dispatch_with_countersign_of_three_one_task_per_signer():
    """会签: the 办公室 chooses three 处室 heads; each gets a task; 签发 comes after the last one signs."""
    o = make_office()
    office = run_to_office_review(o)
    signers = [s.pk for s in o.signers]
    tasks = submit(office, opinion="请会签", route="countersign", next_handlers=signers)
    assert [(t.node_id, t.assignee_id) for t in tasks] == [("countersign", pk) for pk in signers]
    assert len({t.spiff_task_id for t in tasks}) == 3
    assert submit(tasks[0], opinion="无意见") == []
    assert submit(tasks[2], opinion="同意") == []
    with pytest.raises(ServiceError) as exc:  # the last signer picks the 签发 leader
        submit(tasks[1], opinion="同意")
    assert exc.value.code == "flow.handler_not_allowed"
    assert Task.objects.get(pk=tasks[1].pk).status == "open"  # nothing changed
    [sign] = submit(tasks[1], opinion="同意", next_handlers=[o.principal.pk])
    assert (sign.node_id, sign.assignee, sign.sender) == ("sign", o.principal, o.signers[1])
    assert finish_from_sign(o, sign).status == "completed"


def test_chosen_handler_outside_the_candidates_is_refused_and_nothing_changes():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    version = ProcessInstance.objects.get(pk=instance.pk).version
    with pytest.raises(ServiceError) as exc:
        # a plain 科员 of the unit is none of 办公室审核's candidates (处室负责人, 主要负责人, 分管领导)
        submit(review, opinion="同意", next_handlers=[o.drafter.pk])
    assert exc.value.code == "flow.handler_not_allowed"
    assert open_tasks(instance) == [review]
    assert ProcessInstance.objects.get(pk=instance.pk).version == version


def test_no_handler_names_the_node():
    o = make_office()
    o.dept_head.delete()
    instance = start(o)
    [draft] = open_tasks(instance)
    with pytest.raises(ServiceError) as exc:
        submit(draft)
    assert exc.value.code == "flow.no_handler" and "处室核稿" in exc.value.message
    assert Task.objects.get(pk=draft.pk).status == "open"


def test_opinion_required_where_the_node_says_so():
    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    with pytest.raises(ServiceError) as exc:
        submit(review, opinion="  ", next_handlers=[o.office_head.pk])
    assert exc.value.code == "flow.opinion_required" and "处室核稿" in exc.value.message
    assert Task.objects.get(pk=review.pk).status == "open"


def test_ab_post_delegate_receives_the_task_on_behalf_of_the_principal():
    """AB岗: the 科长 is away; the task goes to the delegate, recording on whose behalf; the trail says so."""
    o = make_office()
    delegate = IdentityFactory(unit=o.unit, department=o.dept_head.department, duty=duty("clerk"), title="副科长")
    DelegationFactory(principal=o.dept_head, delegate=delegate)
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    assert (review.assignee, review.on_behalf_of) == (delegate, o.dept_head)
    submit(review, opinion="代为核稿，同意", next_handlers=[o.office_head.pk])
    entry = TrailEntry.objects.get(node_id="dept_review")
    assert (entry.identity, entry.on_behalf_of, entry.actor) == (delegate, o.dept_head, user(delegate))


def test_drafter_keeps_the_first_task_even_with_a_delegation():
    o = make_office()
    DelegationFactory(principal=o.drafter)
    [draft] = open_tasks(start(o))
    assert (draft.assignee, draft.on_behalf_of) == (o.drafter, None)


def test_wrong_person_is_forbidden_audited_and_nothing_changes():
    o = make_office()
    [draft] = open_tasks(start(o))
    with pytest.raises(Forbidden) as exc:
        services.submit_task(user(o.dept_head), draft)
    assert exc.value.code == "flow.not_your_task"
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied").exists()
    assert Task.objects.get(pk=draft.pk).status == "open"


def test_start_only_with_ones_own_identity():
    o = make_office()
    with pytest.raises(Forbidden):
        services.start_process(user(o.dept_head), identity=o.drafter, business_type="dispatch", title="x")
    assert not ProcessInstance.objects.exists()


def test_already_done_is_a_conflict():
    o = make_office()
    [draft] = open_tasks(start(o))
    submit(draft)
    with pytest.raises(Conflict) as exc:
        submit(draft)
    assert exc.value.code == "flow.task_already_done" and "已经办理" in exc.value.message
    assert Task.objects.filter(node_id="dept_review").count() == 1


def test_unit_definition_wins_over_the_platform_default():
    o = make_office()
    from .factories import ProcessDefinitionFactory
    own = ProcessDefinitionFactory(unit=o.unit, business_type="dispatch", status="active")
    instance = start(o)
    assert instance.definition == own
    [task] = open_tasks(instance)
    assert task.node_id == "a"


def test_recheck_sends_back_to_the_signer():
    """R1.5: a substantive change after signing goes back to a signer the 复核 handler picks."""
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="请签发", next_handlers=[o.deputy.pk])
    [recheck] = submit(sign, opinion="同意")
    [sign2] = submit(recheck, route="back_to_signer", next_handlers=[o.deputy.pk])
    assert (sign2.node_id, sign2.assignee) == ("sign", o.deputy)
    assert TrailEntry.objects.get(node_id="recheck").route == "back_to_signer"


def test_deadline_statuses_turn_yellow_then_red_and_are_stored():
    """R8 / issue #3 §5: a node deadline in working days; 黄牌 one working day before, 红牌 once overdue."""
    from zhengtong.core.calendar import add_working_days
    from zhengtong.flow.runtime import refresh_deadline_statuses
    o = make_office()
    [draft] = open_tasks(start(o))  # 起草: 3 working days
    assert draft.deadline == add_working_days(timezone.localdate(draft.received_at), 3)
    Task.objects.filter(pk=draft.pk).update(deadline_status="normal")
    assert refresh_deadline_statuses(add_working_days(draft.deadline, -2)) == 0
    assert refresh_deadline_statuses(add_working_days(draft.deadline, -1)) == 1
    assert Task.objects.get(pk=draft.pk).deadline_status == "yellow"
    assert refresh_deadline_statuses(draft.deadline) == 0  # still yellow on the day itself
    assert refresh_deadline_statuses(add_working_days(draft.deadline, 1)) == 1
    assert Task.objects.get(pk=draft.pk).deadline_status == "red"


def test_route_must_be_one_the_next_gateway_offers():
    o = make_office()
    [draft] = open_tasks(start(o))
    with pytest.raises(ServiceError) as exc:
        submit(draft, route="countersign")  # 起草 has no choice
    assert exc.value.code == "flow.invalid_route" and "起草" in exc.value.message
    office = run_to_office_review(o)
    with pytest.raises(ServiceError) as exc:
        submit(office, opinion="同意", route="back_to_signer", next_handlers=[o.deputy.pk])
    assert exc.value.code == "flow.invalid_route" and "countersign" in exc.value.message
    assert Task.objects.get(pk=office.pk).status == "open"


def test_sign_report_runs_to_the_principal_when_the_deputy_routes_it_there():
    """签报: 起草 → 处室负责人 → 办公室 → 分管领导 → (route principal) 主要领导; stored and restored each step."""
    o = make_office()
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="sign_report",
                                      title="关于购置办公设备的请示")
    [task] = open_tasks(instance)
    nodes = [task.node_id]
    while task is not None:
        ext = engine.node_extensions(engine.load_state(instance.definition, ProcessInstance.objects.get(
            pk=instance.pk).state).get_task_from_id(task.spiff_task_id).task_spec)
        kwargs = {"opinion": "同意"} if ext.opinion_required else {}
        if task.node_id == "deputy":
            kwargs["route"] = "principal"
        candidates = {"dept_head": [o.office_head.pk], "office": [o.deputy.pk], "deputy": [o.principal.pk]}
        new = submit(task, next_handlers=candidates.get(task.node_id), **kwargs)
        task = new[0] if new else None
        if task is not None:
            nodes.append(task.node_id)
    assert nodes == ["draft", "dept_head", "office", "deputy", "principal"]
    assert ProcessInstance.objects.get(pk=instance.pk).status == "completed"


def test_two_holders_of_one_step_first_to_act_wins_the_other_is_cancelled():
    """A duty rule naming two people (two 处室负责人): both see the task; the first to submit completes it."""
    o = make_office()
    second = IdentityFactory(unit=o.unit, department=o.dept_head.department, duty=duty("dept_head"), title="副科长")
    [draft] = open_tasks(start(o))
    rows = submit(draft)
    assert {t.assignee for t in rows} == {o.dept_head, second} and len({t.spiff_task_id for t in rows}) == 1
    mine = next(t for t in rows if t.assignee == second)
    [office] = submit(mine, opinion="同意", next_handlers=[o.office_head.pk])
    other = next(t for t in rows if t.assignee == o.dept_head)
    assert Task.objects.get(pk=other.pk).status == "cancelled"
    with pytest.raises(Conflict):
        submit(other, opinion="同意", next_handlers=[o.office_head.pk])
    assert [t.node_id for t in open_tasks(office.instance)] == ["office_review"]


def test_ab_post_open_tasks_follow_a_delegation_that_starts_and_ends():
    """Issue #3 §2: a delegation starting moves the principal's open 待办 to the delegate (on behalf of the
    principal); when it ends they come back. Idempotent; trail and audit record each move."""
    from datetime import timedelta

    from zhengtong.flow.tasks import reapply_delegations_due  # noqa: F401 - the schedule exists

    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    delegate = IdentityFactory(unit=o.unit, department=o.dept_head.department, duty=duty("clerk"), title="副科长")
    now = timezone.now()
    delegation = DelegationFactory(principal=o.dept_head, delegate=delegate, starts_at=now,
                                   ends_at=now + timedelta(days=2))
    assert services.reapply_delegations_between(now - timedelta(minutes=10), now + timedelta(minutes=1)) == [
        review.pk]
    review.refresh_from_db()
    assert (review.assignee, review.on_behalf_of) == (delegate, o.dept_head)
    assert services.reapply_delegations(o.dept_head, at=now + timedelta(minutes=1)) == []  # idempotent
    assert TrailEntry.objects.get(operation="delegation").identity == delegate
    later = delegation.ends_at + timedelta(minutes=1)
    assert services.reapply_delegations_between(delegation.ends_at - timedelta(minutes=5), later) == [review.pk]
    review.refresh_from_db()
    assert (review.assignee, review.on_behalf_of) == (o.dept_head, None)
    assert AuditRecord.objects.filter(action="flow.task_reassigned_by_delegation").count() == 2


def test_a_row_whose_engine_task_is_gone_is_a_conflict_and_bad_handler_ids_are_refused():
    import uuid

    o = make_office()
    [draft] = open_tasks(start(o))
    with pytest.raises(ServiceError) as exc:
        submit(draft, next_handlers=["x"])
    assert exc.value.code == "flow.handler_not_allowed"
    Task.objects.filter(pk=draft.pk).update(spiff_task_id=uuid.uuid4())
    with pytest.raises(Conflict) as exc:
        submit(Task.objects.get(pk=draft.pk))
    assert exc.value.code == "flow.task_already_done"
