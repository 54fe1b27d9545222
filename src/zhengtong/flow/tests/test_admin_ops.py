"""Instance-level operations (issue #3 §4/§5): 挂起 / 恢复 / 终止, 调度, 重置处理人, 工作交接, 整体时限 — through the
services, the task page's action endpoint, the admin API and the 流程监控 pages. Each: the happy path, the
permission matrix (drafter / unit admin / another unit's admin / stranger: 403 audited, nothing changes) and the
wrong state (409)."""
from __future__ import annotations

import os
import threading
import time
from datetime import date, datetime

import pytest
from django.db import connection, connections
from django.utils import timezone

from zhengtong.audit.models import AuditRecord
from zhengtong.core import calendar
from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.flow import engine, services
from zhengtong.flow.models import BusinessType, ProcessDefinition, ProcessInstance, Task, TrailEntry
from zhengtong.flow.runtime import refresh_deadline_statuses
from zhengtong.org.tests.factories import (
    DelegationFactory,
    IdentityFactory,
    UnitFactory,
    builtin_duties,
    duty,
)

from .factories import DRAFTER, ProcessDefinitionFactory, bpmn, task
from .test_runtime import finish_from_sign, make_office, open_tasks, run_to_office_review, start, submit, user

pytestmark = pytest.mark.django_db

TZ = timezone.get_fixed_timezone(8 * 60)


@pytest.fixture
def clock(monkeypatch):
    """Set the services' clock: clock(datetime(...)) (local time, UTC+8)."""
    def set_now(moment: datetime):
        aware = moment.replace(tzinfo=TZ)
        monkeypatch.setattr(timezone, "now", lambda: aware)
    return set_now


def admin_of(unit):
    return IdentityFactory(unit=unit, duty=duty("unit_admin"), title="单位系统管理员")


def actors(o):
    """The permission matrix: who may (drafter, unit admin) and who may not (another unit's admin, a stranger)."""
    return {"drafter": o.drafter, "admin": admin_of(o.unit), "other_admin": admin_of(UnitFactory()),
            "stranger": IdentityFactory(unit=o.unit, duty=duty("clerk"))}


def reload(instance) -> ProcessInstance:
    return ProcessInstance.objects.get(pk=instance.pk)


def denied_count() -> int:
    return AuditRecord.objects.filter(action="permission.denied").count()


def assert_refused_unchanged(call, instance, code: str):
    """403 with `code`, audited as permission.denied, the instance and its tasks unchanged."""
    before = (reload(instance).status, reload(instance).version,
              sorted(Task.objects.filter(instance=instance).values_list("pk", "status", "assignee_id")))
    denied = denied_count()
    with pytest.raises(Forbidden) as exc:
        call()
    assert exc.value.code == code
    assert denied_count() == denied + 1
    assert before == (reload(instance).status, reload(instance).version,
                      sorted(Task.objects.filter(instance=instance).values_list("pk", "status", "assignee_id")))


# --- 挂起 / 恢复 -----------------------------------------------------------------------------------------------------

def test_suspend_refuses_submit_then_resume_shifts_deadlines_by_working_days_paused_r8(clock):
    """R8.1: paused time is not counted. Suspended on Tue 29 Sep 2026, resumed Mon 12 Oct: the working days after
    29 Sep up to 12 Oct are 30 Sep, 8, 9, 10 (调休 Saturday) and 12 Oct = 5 (the 国庆 holiday 1–7 Oct and Sun 11
    excluded), so the 起草 deadline 8 Oct → 14 Oct and the instance deadline 9 Oct → 15 Oct."""
    o = make_office()
    clock(datetime(2026, 9, 28, 9, 0))
    instance = start(o)
    [draft] = open_tasks(instance)
    assert draft.deadline == date(2026, 10, 8)  # 3 working days: 29, 30 Sep, 8 Oct
    clock(datetime(2026, 9, 29, 10, 0))
    services.set_instance_deadline(user(o.drafter), instance, deadline=date(2026, 10, 9), reason="限期办结")
    assert services.suspend_instance(user(o.drafter), instance, reason="等待上级意见") == []
    instance = reload(instance)
    assert instance.status == "suspended" and instance.suspended_at == timezone.now()
    with pytest.raises(Conflict) as exc:
        submit(draft)
    assert exc.value.code == "flow.instance_not_running"
    assert Task.objects.get(pk=draft.pk).status == "open"
    with pytest.raises(Conflict) as exc:
        services.suspend_instance(user(o.drafter), instance, reason="再挂起")
    assert exc.value.code == "flow.instance_not_running"
    # the nightly refresh leaves a suspended instance alone: its clock is stopped
    refresh_deadline_statuses(date(2026, 10, 9))
    assert Task.objects.get(pk=draft.pk).deadline_status == "normal"
    assert reload(instance).deadline_status == "normal"

    clock(datetime(2026, 10, 12, 8, 30))
    paused = calendar.working_days_between(date(2026, 9, 29), date(2026, 10, 12))
    assert paused == 5
    assert services.resume_instance(user(o.drafter), instance) == []
    instance = reload(instance)
    assert (instance.status, instance.suspended_at) == ("running", None)
    assert instance.deadline == date(2026, 10, 15) == calendar.add_working_days(date(2026, 10, 9), paused)
    draft = Task.objects.get(pk=draft.pk)
    assert draft.deadline == date(2026, 10, 14) == calendar.add_working_days(date(2026, 10, 8), paused)
    assert draft.deadline_status == "normal"
    assert list(TrailEntry.objects.filter(instance=instance, operation__in=["suspend", "resume"])
                .values_list("operation", "opinion")) == [("suspend", "等待上级意见"),
                                                          ("resume", "挂起 5 个工作日，各时限相应顺延")]
    resumed = AuditRecord.objects.get(action="flow.instance_resumed")
    assert resumed.changes["status"] == ["suspended", "running"]
    assert resumed.changes["deadline"] == ["2026-10-09", "2026-10-15"]
    assert resumed.detail["paused_working_days"] == 5
    assert AuditRecord.objects.get(action="flow.instance_suspended").changes["status"] == ["running", "suspended"]
    with pytest.raises(Conflict) as exc:
        services.resume_instance(user(o.drafter), instance)
    assert exc.value.code == "flow.instance_not_suspended"
    # and it runs on
    [review] = submit(draft)
    assert review.node_id == "dept_review"


def test_resume_the_same_day_moves_nothing(clock):
    o = make_office()
    clock(datetime(2026, 9, 28, 9, 0))
    instance = start(o)
    services.suspend_instance(user(o.drafter), instance, reason="暂停")
    clock(datetime(2026, 9, 28, 17, 0))
    services.resume_instance(user(o.drafter), instance)
    assert open_tasks(instance)[0].deadline == date(2026, 10, 8)


def test_resume_refused_when_the_calendar_lacks_the_year_r8_2(clock):
    """R8.2: a deadline moved into a year without holiday data is an error, never a weekends-only guess; nothing
    changes (the instance stays suspended)."""
    o = make_office()
    clock(datetime(2026, 12, 21, 9, 0))
    instance = start(o)
    services.suspend_instance(user(o.drafter), instance, reason="暂停")
    clock(datetime(2026, 12, 30, 9, 0))  # 12-24 + 7 working days lands in 2027
    with pytest.raises(ServiceError) as exc:
        services.resume_instance(user(o.drafter), instance)
    assert exc.value.code == "calendar.year_missing"
    assert reload(instance).status == "suspended"


@pytest.mark.parametrize("who,allowed", [("drafter", True), ("admin", True), ("other_admin", False),
                                         ("stranger", False)])
def test_suspend_resume_terminate_permission_matrix(who, allowed):
    o = make_office()
    instance = start(o)
    actor = user(actors(o)[who])
    if not allowed:
        for call in (lambda: services.suspend_instance(actor, instance, reason="挂起"),
                     lambda: services.terminate_instance(actor, instance, reason="终止"),
                     lambda: services.set_instance_deadline(actor, instance, deadline=None, reason="")):
            assert_refused_unchanged(call, instance, "flow.not_instance_controller")
        services.suspend_instance(user(o.drafter), instance, reason="挂起")
        assert_refused_unchanged(lambda: services.resume_instance(actor, instance), instance,
                                 "flow.not_instance_controller")
        return
    services.suspend_instance(actor, instance, reason="挂起")
    services.resume_instance(actor, instance)
    services.terminate_instance(actor, instance, reason="终止")
    assert reload(instance).status == "terminated"


def test_suspend_requires_a_reason():
    o = make_office()
    instance = start(o)
    with pytest.raises(ServiceError) as exc:
        services.suspend_instance(user(o.drafter), instance, reason="  ")
    assert exc.value.code == "flow.reason_required"
    assert reload(instance).status == "running"


# --- 终止 ---------------------------------------------------------------------------------------------------------

def test_terminate_cancels_every_open_task_and_nothing_can_be_done_afterwards():
    o = make_office()
    office = run_to_office_review(o)
    signers = submit(office, opinion="请会签", route="countersign", next_handlers=[s.pk for s in o.signers])
    submit(signers[0], opinion="同意")
    instance = office.instance
    admin = actors(o)["admin"]
    services.terminate_instance(user(admin), instance, reason="文件已作废")
    instance = reload(instance)
    assert instance.status == "terminated" and instance.completed_at is not None
    assert not Task.objects.filter(instance=instance, status__in=["open", "delegated", "waiting"]).exists()
    assert Task.objects.get(pk=signers[1].pk).status == "cancelled"
    assert Task.objects.get(pk=signers[0].pk).status == "done"  # what was done stays done
    entry = TrailEntry.objects.get(instance=instance, operation="terminate")
    assert (entry.opinion, entry.identity) == ("文件已作废", admin)
    record = AuditRecord.objects.get(action="flow.instance_terminated")
    assert record.changes["status"] == ["running", "terminated"]
    assert sorted(record.detail["cancelled"]) == sorted([signers[1].pk, signers[2].pk])
    with pytest.raises(Conflict) as exc:
        submit(Task.objects.get(pk=signers[1].pk), opinion="同意")
    assert exc.value.code in ("flow.instance_not_running", "flow.task_already_done")
    for call in (lambda: services.terminate_instance(user(admin), instance, reason="再终止"),
                 lambda: services.set_instance_deadline(user(admin), instance, deadline=None)):
        with pytest.raises(Conflict) as exc:
            call()
        assert exc.value.code == "flow.instance_finished"
    with pytest.raises(Conflict) as exc:
        services.suspend_instance(user(admin), instance, reason="挂起")
    assert exc.value.code == "flow.instance_not_running"


def test_a_suspended_instance_can_be_terminated():
    o = make_office()
    instance = start(o)
    services.suspend_instance(user(o.drafter), instance, reason="暂停")
    services.terminate_instance(user(o.drafter), instance, reason="撤销")
    instance = reload(instance)
    assert (instance.status, instance.suspended_at) == ("terminated", None)
    assert not open_tasks(instance)


# --- 调度 ---------------------------------------------------------------------------------------------------------

def engine_ready(instance) -> list[str]:
    instance = reload(instance)
    return sorted(t.task_spec.bpmn_id for t in engine.ready_user_tasks(engine.load_state(instance.definition,
                                                                                          instance.state)))


def test_move_forward_to_sign_skipping_review_then_runs_to_the_end():
    """调度 forward: from 起草 straight to 签发 — 处室核稿 and 办公室审核 are completed by the engine (trail
    dispatch_skip, the default flow, so no 会签), the deputy gets 签发 and the instance finishes normally."""
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    admin = actors(o)["admin"]
    [sign] = services.move_instance(user(admin), instance, target_node="sign", to_identities=[o.deputy],
                                    reason="领导要求尽快签发")
    assert (sign.node_id, sign.assignee, sign.status) == ("sign", o.deputy, "open")
    assert Task.objects.get(pk=draft.pk).status == "cancelled"
    assert engine_ready(instance) == ["sign"]
    trail = list(TrailEntry.objects.filter(instance=instance).exclude(operation="start")
                 .values_list("operation", "node_id"))
    assert trail == [("dispatch_skip", "draft"), ("dispatch_skip", "dept_review"), ("dispatch_skip", "office_review"),
                     ("dispatch", "sign")]
    dispatched = TrailEntry.objects.get(operation="dispatch")
    assert (dispatched.route, dispatched.opinion, dispatched.identity) == ("forward", "领导要求尽快签发", admin)
    record = AuditRecord.objects.get(action="flow.instance_dispatched")
    assert record.detail["skipped"] == ["draft", "dept_review", "office_review"]
    assert record.detail["cancelled"] == [draft.pk] and record.changes["version"]
    instance = finish_from_sign(o, sign)
    assert instance.status == "completed"


def test_move_forward_into_countersign_with_the_chosen_signers():
    o = make_office()
    instance = start(o)
    admin = actors(o)["admin"]
    tasks = services.move_instance(user(admin), instance, target_node="countersign", to_identities=o.signers[:2],
                                   reason="需要会签")
    assert [(t.node_id, t.assignee) for t in tasks] == [("countersign", s) for s in o.signers[:2]]
    assert submit(tasks[0], opinion="同意") == []
    [sign] = submit(tasks[1], opinion="同意", next_handlers=[o.principal.pk])
    assert sign.assignee == o.principal
    assert finish_from_sign(o, sign).status == "completed"


def test_move_backward_to_a_completed_node_goes_to_whom_the_admin_names():
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="请签发", next_handlers=[o.deputy.pk])
    [recheck] = submit(sign, opinion="同意")
    instance = sign.instance
    admin = actors(o)["admin"]
    other = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    [review] = services.move_instance(user(admin), instance, target_node="dept_review", to_identities=[other],
                                      reason="内容需重新核稿")
    assert (review.node_id, review.assignee) == ("dept_review", other)
    assert Task.objects.get(pk=recheck.pk).status == "cancelled"
    assert engine_ready(instance) == ["dept_review"]
    assert TrailEntry.objects.get(operation="dispatch").route == "back"
    assert not TrailEntry.objects.filter(operation="dispatch_skip").exists()
    # the handler of a rule node may be left to the rule: back to 起草 → the drafter
    [draft] = services.move_instance(user(admin), instance, target_node="draft", to_identities=[],
                                     reason="重新起草")
    assert draft.assignee == o.drafter
    [review2] = submit(draft)
    assert review2.assignee == o.dept_head


def test_move_to_a_node_off_the_path_resets_and_goes_forward():
    """From 复核 (reached without 会签) to 会签: reset to 办公室审核 (the nearest completed node from which 会签 lies
    ahead), then forward into 会签 with route countersign."""
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="请签发", next_handlers=[o.deputy.pk])
    [recheck] = submit(sign, opinion="同意")
    admin = actors(o)["admin"]
    tasks = services.move_instance(user(admin), sign.instance, target_node="countersign",
                                   to_identities=o.signers, reason="补充会签")
    assert [t.assignee for t in tasks] == o.signers
    assert list(TrailEntry.objects.filter(operation="dispatch_skip").values_list("node_id", flat=True)) == [
        "office_review"]
    assert engine_ready(sign.instance) == ["countersign"] * 3


def test_move_refusals_and_permission():
    o = make_office()
    instance = start(o)
    a = actors(o)
    for who in ("drafter", "other_admin", "stranger"):
        assert_refused_unchanged(lambda who=who: services.move_instance(
            user(a[who]), instance, target_node="sign", to_identities=[o.deputy], reason="调度"), instance,
            "flow.not_unit_admin")
    admin = user(a["admin"])
    with pytest.raises(Conflict) as exc:
        services.move_instance(admin, instance, target_node="draft", to_identities=[o.drafter], reason="调度")
    assert exc.value.code == "flow.dispatch_same_node"
    with pytest.raises(ServiceError) as exc:
        services.move_instance(admin, instance, target_node="nowhere", to_identities=[], reason="调度")
    assert (exc.value.code, exc.value.status) == ("flow.dispatch_target_invalid", 422)
    with pytest.raises(ServiceError) as exc:
        services.move_instance(admin, instance, target_node="sign", to_identities=[admin_of(UnitFactory())],
                               reason="调度")
    assert exc.value.code == "flow.identity_other_unit"
    with pytest.raises(ServiceError) as exc:  # 签发 is chosen by the previous handler: without names, no handler
        services.move_instance(admin, instance, target_node="sign", to_identities=[], reason="调度")
    assert exc.value.code == "flow.handler_not_allowed"
    with pytest.raises(ServiceError) as exc:
        services.move_instance(admin, instance, target_node="sign", to_identities=[o.deputy], reason="")
    assert exc.value.code == "flow.reason_required"
    assert engine_ready(instance) == ["draft"] and reload(instance).version == 1
    services.suspend_instance(admin, instance, reason="挂起")
    with pytest.raises(Conflict) as exc:
        services.move_instance(admin, instance, target_node="sign", to_identities=[o.deputy], reason="调度")
    assert exc.value.code == "flow.instance_not_running"


def test_move_forward_through_an_unreached_countersign_is_refused():
    """Forward through a 会签 that is not the target and not yet reached: its signers and count are unknown, so it
    is refused with a code (docs/flow-design.md); from inside the 会签 the same target is fine."""
    o = make_office()
    cs = task("cs", "会签", '<zt:assignment rule="chosen"><zt:candidates rule="duty" duty="dept_head" '
              'relative="drafter_unit"/></zt:assignment>',
              extra="<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>countersign_count"
                    "</bpmn:loopCardinality><bpmn:completionCondition>signed &gt;= signers"
                    "</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>")
    xml = bpmn(task("a", "拟稿", DRAFTER), cs, task("z", "汇总", DRAFTER), process_id="cs_flow")
    ProcessDefinitionFactory(unit=o.unit, business_type=BusinessType.SIGN_REPORT, key="cs_flow", bpmn_xml=xml,
                             status=ProcessDefinition.Status.ACTIVE)
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="sign_report", title="会签")
    admin = user(actors(o)["admin"])
    with pytest.raises(Conflict) as exc:
        services.move_instance(admin, instance, target_node="z", to_identities=[], reason="跳过会签")
    assert exc.value.code == "flow.dispatch_through_countersign" and "会签" in exc.value.message
    assert engine_ready(instance) == ["a"] and reload(instance).version == 1
    [first] = open_tasks(instance)
    rows = submit(first, next_handlers=[s.pk for s in o.signers])
    submit(rows[0])
    [z] = services.move_instance(admin, instance, target_node="z", to_identities=[], reason="会签已线下完成")
    assert (z.node_id, z.assignee) == ("z", o.drafter)
    assert list(TrailEntry.objects.filter(operation="dispatch_skip").values_list("node_id", flat=True)) == ["cs", "cs"]
    assert submit(z) == [] and reload(instance).status == "completed"


def test_move_from_inside_a_countersign_forward_completes_its_instances():
    o = make_office()
    office = run_to_office_review(o)
    signers = submit(office, opinion="请会签", route="countersign", next_handlers=[s.pk for s in o.signers])
    # from inside the 会签, forward to 复核: each open 会签 instance is completed on the way
    admin = user(actors(o)["admin"])
    [recheck] = services.move_instance(admin, office.instance, target_node="recheck", to_identities=[o.doc_clerk],
                                       reason="会签已线下完成")
    assert recheck.assignee == o.doc_clerk
    assert all(Task.objects.get(pk=t.pk).status == "cancelled" for t in signers)
    [number] = submit(recheck)
    assert number.node_id == "number"


# --- 重置处理人 -------------------------------------------------------------------------------------------------------

def test_reassign_replaces_the_handler_with_ab_post_applied():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    successor = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    deputy = IdentityFactory(unit=o.unit, duty=duty("clerk"))
    DelegationFactory(principal=successor, delegate=deputy)
    admin = actors(o)["admin"]
    [new] = services.reassign_task(user(admin), review, to_identities=[successor], reason="原处理人出差")
    assert (new.assignee, new.on_behalf_of, new.spiff_task_id, new.deadline) == (
        deputy, successor, review.spiff_task_id, review.deadline)
    assert Task.objects.get(pk=review.pk).status == "cancelled"
    entry = TrailEntry.objects.get(operation="reassign")
    assert entry.node_id == "dept_review" and "原处理人出差" in entry.opinion
    assert AuditRecord.objects.get(action="flow.task_reassigned").detail["old_assignee"] == o.dept_head.pk
    [office] = submit(new, opinion="同意", next_handlers=[o.office_head.pk])
    assert office.node_id == "office_review"
    with pytest.raises(Conflict) as exc:
        services.reassign_task(user(admin), review, to_identities=[successor], reason="再换")
    assert exc.value.code == "flow.task_not_open"


def test_reassign_permission_and_a_countersign_share_takes_one():
    o = make_office()
    office = run_to_office_review(o)
    signers = submit(office, opinion="请会签", route="countersign", next_handlers=[s.pk for s in o.signers])
    a = actors(o)
    for who in ("drafter", "other_admin", "stranger"):
        assert_refused_unchanged(lambda who=who: services.reassign_task(
            user(a[who]), signers[0], to_identities=[o.office_head], reason="换人"), office.instance,
            "flow.not_unit_admin")
    with pytest.raises(ServiceError) as exc:
        services.reassign_task(user(a["admin"]), signers[0], to_identities=[o.office_head, o.dept_head],
                               reason="换人")
    assert exc.value.code == "flow.one_identity_required"
    [new] = services.reassign_task(user(a["admin"]), signers[0], to_identities=[o.office_head], reason="换人")
    assert submit(new, opinion="同意") == []


# --- 工作交接 -------------------------------------------------------------------------------------------------------

def test_handover_moves_every_open_task_across_instances_once():
    o = make_office()
    instances = [start(o) for _ in range(3)]
    for instance in instances[:2]:
        [draft] = open_tasks(instance)
        submit(draft)  # → 处室核稿 for the dept head
    leaving = o.dept_head
    successor = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    admin = actors(o)["admin"]
    open_before = list(Task.objects.filter(assignee=leaving, status="open").values_list("pk", flat=True))
    assert len(open_before) == 2
    moved = services.hand_over_work(user(admin), from_identity=leaving, to_identity=successor, reason="调离")
    assert sorted(t.pk for t in moved) == sorted(open_before)
    assert set(Task.objects.filter(pk__in=open_before).values_list("assignee_id", "status")) == {
        (successor.pk, "open")}
    assert TrailEntry.objects.filter(operation="handover", identity=successor).count() == 2
    assert AuditRecord.objects.filter(action="flow.task_handed_over").count() == 2
    summary = AuditRecord.objects.get(action="flow.work_handed_over")
    assert (summary.detail["moved"], summary.detail["instances"]) == (2, 2)
    # idempotent: nothing left to move
    assert services.hand_over_work(user(admin), from_identity=leaving, to_identity=successor, reason="调离") == []
    assert TrailEntry.objects.filter(operation="handover").count() == 2
    # the successor handles them
    [office] = submit(Task.objects.get(pk=open_before[0]), opinion="同意", next_handlers=[o.office_head.pk])
    assert office.node_id == "office_review"


def test_handover_permission_and_targets():
    o = make_office()
    [draft] = open_tasks(start(o))
    submit(draft)
    a = actors(o)
    successor = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    for who in ("drafter", "other_admin", "stranger"):
        denied = denied_count()
        with pytest.raises(Forbidden) as exc:
            services.hand_over_work(user(a[who]), from_identity=o.dept_head, to_identity=successor, reason="调离")
        assert exc.value.code == "flow.not_unit_admin" and denied_count() == denied + 1
    admin = user(a["admin"])
    for target, code in ((a["other_admin"], "flow.identity_other_unit"), (o.dept_head, "flow.identity_is_self")):
        with pytest.raises(ServiceError) as exc:
            services.hand_over_work(admin, from_identity=o.dept_head, to_identity=target, reason="调离")
        assert exc.value.code == code
    with pytest.raises(ServiceError) as exc:
        services.hand_over_work(admin, from_identity=o.dept_head, to_identity=successor, reason="")
    assert exc.value.code == "flow.reason_required"
    assert Task.objects.filter(assignee=o.dept_head, status="open").count() == 1


def test_handover_of_many_tasks_is_bulk(django_assert_max_num_queries, monkeypatch):
    """工作交接 scales: N tasks over N instances move with a bounded number of statements (one UPDATE per business
    type, trail in batches, the audit in chunks above HANDOVER_AUDIT_PER_TASK_MAX, here 50 — every task is still in
    an audit record); the time is printed (pytest -s) for the report, not asserted. FLOW_HANDOVER_N=10000 gives the
    figure in docs/flow-design.md (with the default chunk of 500)."""
    from zhengtong.flow.services import admin

    n = int(os.environ.get("FLOW_HANDOVER_N", "200"))
    if "FLOW_HANDOVER_N" not in os.environ:
        monkeypatch.setattr(admin, "HANDOVER_AUDIT_PER_TASK_MAX", 50)
    chunk = admin.HANDOVER_AUDIT_PER_TASK_MAX
    o = make_office()
    base = start(o)
    [draft] = open_tasks(base)
    [review] = submit(draft)
    # clone the 处室核稿 state into N instances (the services would take N full runs)
    clones = ProcessInstance.objects.bulk_create([
        ProcessInstance(definition=base.definition, business_type=base.business_type, title=f"文件{i}", unit=o.unit,
                        drafter=o.drafter, state=reload(base).state, version=2) for i in range(n)])
    Task.objects.bulk_create([Task(instance=c, spiff_task_id=review.spiff_task_id, node_id="dept_review",
                                   node_name="处室核稿", assignee=o.dept_head) for c in clones])
    successor = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    admin_user = user(actors(o)["admin"])
    chunks = -(-(n + 1) // chunk)
    started = time.perf_counter()
    with django_assert_max_num_queries(40 + 8 * chunks + (n + 1) // 50):  # SQLite inserts in small batches
        moved = services.hand_over_work(admin_user, from_identity=o.dept_head, to_identity=successor, reason="调离")
    print(f"\nhandover of {len(moved)} tasks: {time.perf_counter() - started:.2f} s")
    assert len(moved) == n + 1
    assert Task.objects.filter(assignee=successor, status="open").count() == n + 1
    assert TrailEntry.objects.filter(operation="handover").count() == n + 1
    audited = [t["task"] for r in AuditRecord.objects.filter(action="flow.tasks_handed_over") for t in r.detail["tasks"]]
    assert sorted(audited) == sorted(t.pk for t in moved) and len(audited) == n + 1


# --- 整体时限 -------------------------------------------------------------------------------------------------------

def test_set_instance_deadline_and_the_nightly_refresh(clock):
    o = make_office()
    clock(datetime(2026, 9, 28, 9, 0))
    instance = start(o)
    admin = actors(o)["admin"]
    services.set_instance_deadline(user(admin), instance, deadline=date(2026, 10, 12), reason="领导交办")
    instance = reload(instance)
    assert (instance.deadline, instance.deadline_status) == (date(2026, 10, 12), "normal")
    assert TrailEntry.objects.get(operation="set_deadline").opinion == "整体办结时限：2026-10-12。领导交办"
    assert AuditRecord.objects.get(action="flow.instance_deadline_set").changes["deadline"] == [None, "2026-10-12"]
    refresh_deadline_statuses(date(2026, 10, 10))  # 10 Oct (调休) is the working day before 12 Oct → 黄牌
    assert reload(instance).deadline_status == "yellow"
    refresh_deadline_statuses(date(2026, 10, 13))
    assert reload(instance).deadline_status == "red"
    with pytest.raises(ServiceError) as exc:
        services.set_instance_deadline(user(admin), instance, deadline=date(2026, 9, 1))
    assert exc.value.code == "flow.deadline_in_past"
    services.set_instance_deadline(user(o.drafter), instance, deadline=None, reason="不限")
    assert (reload(instance).deadline, reload(instance).deadline_status) == (None, "normal")


# --- the task page's actions and the API -------------------------------------------------------------------------

def act(client, identity, task, **body):
    client.force_login(user(identity))
    return client.post(f"/api/v1/tasks/{task.pk}/actions", body, content_type="application/json")


def admin_act(client, identity, instance, **body):
    client.force_login(user(identity))
    return client.post(f"/api/v1/process-instances/{instance.pk}/admin-actions", body,
                       content_type="application/json")


def test_task_actions_suspend_resume_terminate_through_the_dispatcher(client):
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    response = act(client, o.drafter, draft, action="suspend", opinion="等材料")
    assert response.status_code == 200 and response.json()["instance_status"] == "suspended"
    response = act(client, o.drafter, draft, action="submit")
    assert (response.status_code, response.json()["code"]) == (409, "flow.instance_not_running")
    assert act(client, o.drafter, draft, action="resume").json()["instance_status"] == "running"
    response = act(client, o.drafter, draft, action="resume")
    assert (response.status_code, response.json()["code"]) == (409, "flow.instance_not_suspended")
    stranger = actors(o)["stranger"]
    response = act(client, stranger, draft, action="terminate", opinion="终止")
    assert (response.status_code, response.json()["code"]) == (403, "flow.not_instance_controller")
    response = act(client, o.drafter, draft, action="terminate", opinion="作废")
    assert response.json()["instance_status"] == "terminated"


def test_admin_actions_api(client):
    o = make_office()
    instance = start(o)
    a = actors(o)
    response = admin_act(client, a["admin"], instance, action="move", target_node="sign", to_identities=[o.deputy.pk],
                         reason="尽快签发")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["instance_status"] == "running" and [t["node_id"] for t in body["tasks"]] == ["sign"]
    sign = Task.objects.get(pk=body["tasks"][0]["id"])
    response = admin_act(client, a["admin"], instance, action="reassign", task_id=sign.pk,
                         to_identities=[o.principal.pk], reason="改由局长签发")
    assert response.json()["tasks"][0]["assignee_id"] == o.principal.pk
    response = admin_act(client, a["drafter"], instance, action="set_deadline", deadline="2026-12-31", reason="")
    assert response.status_code == 200 and reload(instance).deadline == date(2026, 12, 31)
    response = admin_act(client, a["other_admin"], instance, action="suspend", reason="挂起")
    assert (response.status_code, response.json()["code"]) == (403, "flow.not_instance_controller")
    response = admin_act(client, a["drafter"], instance, action="move", target_node="draft", reason="调度")
    assert (response.status_code, response.json()["code"]) == (403, "flow.not_unit_admin")
    response = admin_act(client, a["admin"], instance, action="reassign", task_id=999999, to_identities=[1],
                         reason="x")
    assert (response.status_code, response.json()["code"]) == (422, "flow.task_not_found")
    response = admin_act(client, a["admin"], instance, action="move", reason="x")
    assert (response.status_code, response.json()["code"]) == (422, "flow.target_node_required")
    response = admin_act(client, a["admin"], instance, action="resume")
    assert (response.status_code, response.json()["code"]) == (409, "flow.instance_not_suspended")
    assert admin_act(client, a["admin"], instance, action="suspend", reason="挂起").json()["instance_status"] == \
        "suspended"
    assert admin_act(client, a["admin"], instance, action="terminate", reason="作废").json()["instance_status"] == \
        "terminated"


def test_work_handover_api(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    submit(draft)
    successor = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    a = actors(o)
    client.force_login(user(a["admin"]))
    body = {"from_identity": o.dept_head.pk, "to_identity": successor.pk, "reason": "调离"}
    response = client.post("/api/v1/work-handovers", body, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"moved": 1}
    assert client.post("/api/v1/work-handovers", body, content_type="application/json").json() == {"moved": 0}
    response = client.post("/api/v1/work-handovers", {**body, "to_identity": 999999}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (422, "flow.identity_not_found")
    client.force_login(user(a["other_admin"]))
    response = client.post("/api/v1/work-handovers", body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (403, "flow.not_unit_admin")


def test_openapi_lists_the_admin_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    action = schema["paths"]["/api/v1/process-instances/{instance_id}/admin-actions"]["post"]
    assert {"200", "403", "409", "422"} <= set(action["responses"])
    assert "flow.instance_not_suspended" in action["description"]
    assert "/api/v1/work-handovers" in schema["paths"]


# --- the 流程监控 pages ----------------------------------------------------------------------------------------------

def test_monitor_list_shows_the_units_instances_with_filters_and_is_for_unit_admins_only(client):
    o = make_office()
    a = actors(o)
    first = start(o)
    second = services.start_process(user(o.drafter), identity=o.drafter, business_type="dispatch", title="关于春节值班的通知")
    services.suspend_instance(user(o.drafter), second, reason="等待")
    services.set_instance_deadline(user(o.drafter), first, deadline=timezone.localdate(), reason="")
    elsewhere = make_office()
    start(elsewhere)
    client.force_login(user(a["admin"]))
    page = client.get("/flows/monitor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "流程监控" in html and first.title in html and second.title in html
    assert html.index(first.title) < html.index(second.title)  # sorted by deadline, none last
    assert html.count("/flows/monitor/") >= 3 and f"/flows/monitor/{first.pk}/" in html
    assert AuditRecord.objects.filter(action="permission.denied").count() == 0
    assert "起草（" in html  # current node with its handler
    assert client.get("/flows/monitor/?status=suspended").content.decode().count("关于春节值班的通知") == 1
    assert first.title not in client.get("/flows/monitor/?status=suspended").content.decode()
    assert second.title not in client.get("/flows/monitor/?title=年终").content.decode()
    assert first.title in client.get(f"/flows/monitor/?drafter={o.drafter.person.name}").content.decode()
    assert first.title in client.get("/flows/monitor/?deadline_status=yellow").content.decode()
    # only the administrator's unit: the other unit's instance is not listed
    assert client.get("/flows/monitor/").context["count"] == 2
    # the nav link
    assert 'href="/flows/monitor/"' in client.get("/tasks/").content.decode()
    for who in ("drafter", "stranger"):
        client.force_login(user(a[who]))
        denied = denied_count()
        assert client.get("/flows/monitor/").status_code == 403
        assert denied_count() == denied + 1
        assert 'href="/flows/monitor/"' not in client.get("/tasks/").content.decode()


def test_monitor_detail_and_its_forms(client):
    o = make_office()
    a = actors(o)
    instance = start(o)
    [draft] = open_tasks(instance)
    client.force_login(user(a["admin"]))
    page = client.get(f"/flows/monitor/{instance.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("调度", "重置处理人", "挂起", "终止流程", "整体办结时限", "签发", "办理轨迹"):
        assert text in html
    url = f"/flows/monitor/{instance.pk}/act/"
    response = client.post(url, {"action": "move", "target_node": "sign", "to_identities": str(o.deputy.pk),
                                 "reason": "尽快签发"}, follow=True)
    assert "已调度：签发（" in response.content.decode()
    [sign] = open_tasks(instance)
    assert sign.assignee == o.deputy and Task.objects.get(pk=draft.pk).status == "cancelled"
    response = client.post(url, {"action": "reassign", "task_id": str(sign.pk), "to_identities": str(o.principal.pk),
                                 "reason": "改由局长签发"}, follow=True)
    assert "已重置处理人" in response.content.decode()
    assert open_tasks(instance)[0].assignee == o.principal
    response = client.post(url, {"action": "suspend", "reason": ""}, follow=True)
    assert "挂起未完成：挂起必须填写理由" in response.content.decode()
    client.post(url, {"action": "suspend", "reason": "等待"})
    assert reload(instance).status == "suspended"
    assert "恢复办理" in client.get(f"/flows/monitor/{instance.pk}/").content.decode()
    client.post(url, {"action": "set_deadline", "deadline": "2026-12-31", "reason": ""})
    assert reload(instance).deadline == date(2026, 12, 31)
    response = client.post(url, {"action": "set_deadline", "deadline": "not-a-date"}, follow=True)
    assert "设置整体时限未完成" in response.content.decode()
    client.post(url, {"action": "resume"})
    client.post(url, {"action": "terminate", "reason": "作废"})
    assert reload(instance).status == "terminated"
    assert "流程操作" not in client.get(f"/flows/monitor/{instance.pk}/").content.decode()
    # another unit's administrator: 403, audited, and nothing happens through the form either
    other = make_office()
    theirs = start(other)
    denied = denied_count()
    assert client.get(f"/flows/monitor/{theirs.pk}/").status_code == 403
    assert client.post(f"/flows/monitor/{theirs.pk}/act/", {"action": "suspend", "reason": "x"}).status_code == 403
    assert denied_count() == denied + 2 and reload(theirs).status == "running"


def test_task_page_offers_suspend_to_the_drafter_only(client):
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    client.force_login(user(o.drafter))
    html = client.get(f"/tasks/{draft.pk}/").content.decode()
    assert "流程控制" in html and 'value="suspend"' in html and 'value="terminate"' in html
    client.force_login(user(o.dept_head))
    assert "流程控制" not in client.get(f"/tasks/{review.pk}/").content.decode()
    client.force_login(user(o.drafter))
    response = client.post(f"/tasks/{draft.pk}/act/", {"action": "suspend", "opinion": "等待材料"}, follow=True)
    assert "已挂起" in response.content.decode() and 'value="resume"' in response.content.decode()
    assert reload(instance).status == "suspended"


def test_handover_page_previews_then_moves(client):
    o = make_office()
    for _ in range(2):
        [draft] = open_tasks(start(o))
        submit(draft)
    a = actors(o)
    successor = IdentityFactory(unit=o.unit, duty=duty("dept_head"))
    client.force_login(user(a["admin"]))
    assert client.get("/flows/monitor/handover/").status_code == 200
    page = client.get(f"/flows/monitor/handover/?from_identity={o.dept_head.pk}&to_identity={successor.pk}")
    assert page.context["preview"] == {"count": 2, "instances": 2}
    assert "确认交接" in page.content.decode()
    response = client.post("/flows/monitor/handover/", {"from_identity": o.dept_head.pk,
                                                        "to_identity": successor.pk, "reason": "调离"}, follow=True)
    assert "2 件待办移交给" in response.content.decode()
    assert Task.objects.filter(assignee=successor, status="open").count() == 2
    response = client.post("/flows/monitor/handover/", {"from_identity": o.dept_head.pk,
                                                        "to_identity": successor.pk, "reason": ""})
    assert response.status_code == 400 and "工作交接必须填写理由" in response.content.decode()
    # another unit's admin may not hand over this unit's people; a stranger sees no page
    client.force_login(user(a["other_admin"]))
    denied = denied_count()
    assert client.get(f"/flows/monitor/handover/?from_identity={o.dept_head.pk}&to_identity={successor.pk}"
                      ).status_code == 403
    assert denied_count() == denied + 1
    client.force_login(user(a["stranger"]))
    assert client.get("/flows/monitor/handover/").status_code == 403


def race(*calls) -> list:
    """Run the calls in threads released together; their results (or Conflicts), in completion order."""
    barrier = threading.Barrier(len(calls))
    results: list = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Conflict as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_terminate_and_submit_at_once_leave_no_open_task():
    """终止 and 提交 at the same moment, in either order: the instance row lock serializes them, so a terminated
    instance never keeps an open 待办 (without the lock the submit could create 处室核稿 after the cancel)."""
    builtin_duties()
    o = make_office()
    admin = user(actors(o)["admin"])
    for _ in range(3):
        instance = start(o)
        [draft] = open_tasks(instance)
        results = race(lambda d=draft: services.submit_task(user(o.drafter), Task.objects.get(pk=d.pk)),
                       lambda i=instance: services.terminate_instance(admin, ProcessInstance.objects.get(pk=i.pk),
                                                                      reason="作废"))
        assert len(results) == 2
        # terminate first: the submit finds its task cancelled (or the instance not running)
        assert [r.code for r in results if isinstance(r, Conflict)] in (
            [], ["flow.task_already_done"], ["flow.instance_not_running"])
        assert reload(instance).status == "terminated"
        assert not Task.objects.filter(instance=instance, status="open").exists()
