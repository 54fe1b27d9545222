"""Instance-level operations (issue #3 §4/§5): 挂起 / 恢复 / 终止, 调度, 重置处理人, 工作交接, 整体时限.

Who may: 挂起 / 恢复 / 终止 and 整体时限 — the instance's drafter (their own instance) or an administrator of the
instance's unit (单位系统管理员; the platform 系统管理员 too); 调度, 重置处理人, 工作交接 — the administrator only.
Everything else as in the other services: permission first (403, audited), one transaction with the instance row
locked, a trail entry and an audit record with the diff; wrong state → 409 with a stable code.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhengtong.accounts.permissions import is_any_admin
from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core import calendar
from zhengtong.core.errors import Conflict, ServiceError

from .. import business, engine, runtime
from ..assignment import AssignmentContext, effective_handlers
from ..models import ProcessInstance, Task, TrailEntry
from ..signals import send_tasks_assigned
from .common import STANDING, deny, locked_instance, person_of, require_running, save_state

ADMIN_FIELDS = ["status", "version", "completed_at", "suspended_at", "deadline", "deadline_status"]
LABELS = {"suspend": "挂起", "resume": "恢复", "terminate": "终止", "move": "调度", "reassign": "重置处理人",
          "set_deadline": "设置整体时限", "handover": "工作交接"}


# --- permission ------------------------------------------------------------------------------------------------

def own_unit_admin_ids(actor) -> set[int]:
    """The units where the actor holds an active 单位系统管理员 post."""
    from zhengtong.org.models import Duty

    person = getattr(actor, "person", None)
    if person is None or is_any_admin(actor):
        return set()
    return set(person.identities.filter(active=True, duty__code=Duty.UNIT_ADMIN).values_list("unit_id", flat=True))


def is_unit_admin(actor, unit_id: int) -> bool:
    """单位系统管理员 of the unit (a unit_admin post of one's own). Never the platform 系统管理员 or the other 三员:
    they manage the platform, not its documents (R7.2)."""
    if actor is None or not actor.is_authenticated or is_any_admin(actor):
        return False
    return unit_id in own_unit_admin_ids(actor)


def _is_drafter(actor, instance: ProcessInstance) -> bool:
    person = getattr(actor, "person", None)
    return person is not None and instance.drafter.person_id == person.pk


def can_control(actor, instance: ProcessInstance) -> bool:
    """挂起 / 恢复 / 终止 / 整体时限: the drafter or an administrator of the instance's unit."""
    return _is_drafter(actor, instance) or is_unit_admin(actor, instance.unit_id)


def _require_control(actor, instance: ProcessInstance, operation: str) -> None:
    if actor is None or not actor.is_authenticated:
        person_of(actor)  # raises NotAuthenticated
    if not can_control(actor, instance):
        raise deny(actor, "flow.not_instance_controller",
                   f"只有拟稿人或本单位系统管理员可以{LABELS[operation]}该流程", obj=instance)


def _require_admin(actor, unit_id: int, operation: str, *, obj=None) -> None:
    if actor is None or not actor.is_authenticated:
        person_of(actor)
    if not is_unit_admin(actor, unit_id):
        raise deny(actor, "flow.not_unit_admin", f"只有本单位系统管理员可以{LABELS[operation]}", obj=obj,
                   object_type="" if obj is not None else "org.unit", object_id="" if obj is not None else unit_id)


def _acting_identity(actor, instance: ProcessInstance):
    """The post the actor acts in, for the trail: their 单位系统管理员 post in the unit, the drafter's post, or any
    post of theirs in the unit (None: the platform 系统管理员 without one)."""
    from zhengtong.org.models import Duty

    person = getattr(actor, "person", None)
    if person is None:
        return None
    posts = list(person.identities.filter(active=True, unit_id=instance.unit_id).select_related("duty"))
    for post in posts:
        if post.duty is not None and post.duty.code == Duty.UNIT_ADMIN:
            return post
    if instance.drafter.person_id == person.pk:
        return instance.drafter
    return posts[0] if posts else None


# --- shared pieces ---------------------------------------------------------------------------------------------

def _lock(instance: ProcessInstance) -> ProcessInstance:
    return locked_instance(instance.pk)


def _reason(reason: str, operation: str, *, required: bool = True) -> str:
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ServiceError("flow.reason_too_long", f"{LABELS[operation]}理由不能超过 2000 个字")
    if required and not reason:
        raise ServiceError("flow.reason_required", f"{LABELS[operation]}必须填写理由")
    return reason


def _trail(instance, actor, operation: str, *, identity, opinion: str = "", node_id: str = "", node_name: str = "",
           task=None, route: str = "", now=None) -> TrailEntry:
    return TrailEntry.objects.create(instance=instance, task=task, node_id=node_id, node_name=node_name[:100],
                                     actor=actor, identity=identity, operation=operation, route=route,
                                     opinion=opinion, created_at=now or timezone.now())


def _audit(action: str, instance, actor, identity, before: dict, **detail) -> None:
    record(action, obj=instance, user=actor, identity=identity, unit=instance.unit,
           changes=diff(before, snapshot(instance, ADMIN_FIELDS)), detail=detail)


def _target_identities(instance: ProcessInstance, identities, label: str) -> list:
    result = []
    for identity in identities:
        if identity is None or not identity.active or not identity.person.active:
            raise ServiceError("flow.identity_inactive", f"{label}对象不是有效身份")
        if identity.unit_id != instance.unit_id:
            raise ServiceError("flow.identity_other_unit", f"只能{label}给本单位的人员")
        if identity.pk not in {i.pk for i in result}:
            result.append(identity)
    return result


# --- 挂起 / 恢复 / 终止 ----------------------------------------------------------------------------------------------

def suspend_instance(actor, instance: ProcessInstance, *, reason: str) -> list[Task]:
    """挂起: the instance stops (open tasks stay but cannot be acted on: every operation answers 409
    flow.instance_not_running) and its clock stops: 恢复 moves every deadline later by the working days paused."""
    _require_control(actor, instance, "suspend")
    reason = _reason(reason, "suspend")
    now = timezone.now()
    with transaction.atomic():
        instance = _lock(instance)
        require_running(instance)
        before = snapshot(instance, ADMIN_FIELDS)
        instance.status, instance.suspended_at = ProcessInstance.Status.SUSPENDED, now
        instance.version += 1
        instance.save(update_fields=["status", "suspended_at", "version"])
        identity = _acting_identity(actor, instance)
        _trail(instance, actor, "suspend", identity=identity, opinion=reason, now=now)
        _audit("flow.instance_suspended", instance, actor, identity, before, reason=reason)
    return []


def _shift(day: date | None, days: int) -> date | None:
    return calendar.add_working_days(day, days) if day is not None and days > 0 else day


def resume_instance(actor, instance: ProcessInstance) -> list[Task]:
    """恢复: running again; the instance deadline and every open task's deadline move later by the working days
    the instance was suspended (`working_days_between(suspended day, today)`, R8: paused time is not counted; a
    year the calendar lacks is an error, never a guess), 黄牌 / 红牌 recomputed."""
    _require_control(actor, instance, "resume")
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        instance = _lock(instance)
        if instance.status != ProcessInstance.Status.SUSPENDED:
            raise Conflict("flow.instance_not_suspended", f"该流程{instance.get_status_display()}，不需要恢复")
        before = snapshot(instance, ADMIN_FIELDS)
        paused = max(calendar.working_days_between(timezone.localdate(instance.suspended_at), today), 0) \
            if instance.suspended_at else 0
        rows = Task.objects.filter(instance=instance, status__in=STANDING, kind=Task.Kind.TODO, deadline__isnull=False)
        changed, shifted = [], {}
        for row in rows.only("pk", "deadline"):  # per row: one UPDATE per old date would move a row twice when
            old = row.deadline  # its new date is another row's old one
            row.deadline = shifted.setdefault(old, _shift(old, paused))
            row.deadline_status = runtime.deadline_status(row.deadline, today)
            changed.append(row)
        Task.objects.bulk_update(changed, ["deadline", "deadline_status"], batch_size=500)
        instance.deadline = _shift(instance.deadline, paused)
        instance.deadline_status = runtime.deadline_status(instance.deadline, today)
        instance.status, instance.suspended_at = ProcessInstance.Status.RUNNING, None
        instance.version += 1
        instance.save(update_fields=["status", "suspended_at", "version", "deadline", "deadline_status"])
        identity = _acting_identity(actor, instance)
        _trail(instance, actor, "resume", identity=identity, opinion=f"挂起 {paused} 个工作日，各时限相应顺延",
               now=now)
        _audit("flow.instance_resumed", instance, actor, identity, before, paused_working_days=paused,
               task_deadlines={o.isoformat(): n.isoformat() for o, n in shifted.items() if o != n})
    return []


def terminate_instance(actor, instance: ProcessInstance, *, reason: str) -> list[Task]:
    """终止: the instance ends unfinished (running or suspended); its open, 委派 and 加签-waiting 待办 are cancelled
    (待阅 read-copies stay); nothing can be done on it afterwards."""
    _require_control(actor, instance, "terminate")
    reason = _reason(reason, "terminate")
    now = timezone.now()
    with transaction.atomic():
        instance = _lock(instance)
        if instance.status not in (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED):
            raise Conflict("flow.instance_finished", f"该流程{instance.get_status_display()}，不能终止")
        before = snapshot(instance, ADMIN_FIELDS)
        cancelled = list(Task.objects.filter(instance=instance, status__in=STANDING, kind=Task.Kind.TODO)
                         .values_list("pk", flat=True))
        Task.objects.filter(pk__in=cancelled).update(status=Task.Status.CANCELLED, completed_at=now)
        instance.status, instance.completed_at, instance.suspended_at = ProcessInstance.Status.TERMINATED, now, None
        instance.version += 1
        instance.save(update_fields=["status", "completed_at", "suspended_at", "version"])
        identity = _acting_identity(actor, instance)
        _trail(instance, actor, "terminate", identity=identity, opinion=reason, now=now)
        _audit("flow.instance_terminated", instance, actor, identity, before, reason=reason, cancelled=cancelled)
        hooks = business.hooks_for(instance.business_type)
        if hooks.after_terminate:
            hooks.after_terminate(actor, instance)
    return []


# --- 整体时限 -----------------------------------------------------------------------------------------------------

def set_instance_deadline(actor, instance: ProcessInstance, *, deadline: date | None, reason: str = "") -> None:
    """整体办结时限: set (or clear, `deadline=None`) the date the whole instance must be finished by; 黄牌 / 红牌
    as for tasks (stored, refreshed nightly). A suspended instance's deadline still moves on 恢复."""
    _require_control(actor, instance, "set_deadline")
    reason = _reason(reason, "set_deadline", required=False)
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        instance = _lock(instance)
        if instance.status not in (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED):
            raise Conflict("flow.instance_finished", f"该流程{instance.get_status_display()}，不能设置时限")
        if deadline is not None and deadline < today:
            raise ServiceError("flow.deadline_in_past", "整体办结时限不能早于今天")
        before = snapshot(instance, ADMIN_FIELDS)
        instance.deadline = deadline
        instance.deadline_status = runtime.deadline_status(deadline, today)
        instance.version += 1
        instance.save(update_fields=["deadline", "deadline_status", "version"])
        identity = _acting_identity(actor, instance)
        text = f"整体办结时限：{deadline.isoformat() if deadline else '不限'}" + (f"。{reason}" if reason else "")
        _trail(instance, actor, "set_deadline", identity=identity, opinion=text, now=now)
        _audit("flow.instance_deadline_set", instance, actor, identity, before, reason=reason)


# --- 调度 ---------------------------------------------------------------------------------------------------------

MOVE_REFUSALS = {
    "same_node": ("flow.dispatch_same_node", "流程已在“{node}”环节；要换办理人请使用“重置处理人”"),
    "through_countersign": ("flow.dispatch_through_countersign",
                            "调度目标在会签“{node}”之后，会签人无法确定：请先调度到会签环节，或调度到会签之前的环节"),
    "unreachable": ("flow.dispatch_target_invalid", "流程无法从当前环节到达“{node}”"),
}


def move_instance(actor, instance: ProcessInstance, *, target_node: str, to_identities: list, reason: str) -> list[Task]:
    """调度: move a running instance to any user task of its definition, reached or not (engine.move_to: back by a
    reset, forward by completing the tasks on the way — trail `dispatch_skip` for each, no opinion). The target's
    handlers are `to_identities` (会签: one per signer, in order) or, when none are given, the node's own rule.
    The open 待办 of the nodes left are cancelled."""
    _require_admin(actor, instance.unit_id, "move", obj=instance)
    reason = _reason(reason, "move")
    target_node = (target_node or "").strip()
    now = timezone.now()
    with transaction.atomic():
        instance = _lock(instance)
        require_running(instance)
        handlers = _target_identities(instance, to_identities or [], "调度")
        workflow = engine.load_state(instance.definition, instance.state)
        nodes = {node_id: (name, multi) for node_id, name, multi in engine.user_task_nodes(workflow)}
        if target_node not in nodes:
            raise ServiceError("flow.dispatch_target_invalid", f"“{target_node}”不是本流程的办理环节", status=422)
        node_name, multi = nodes[target_node]
        before = snapshot(instance, ADMIN_FIELDS)
        try:
            direction, skipped = engine.move_to(workflow, target_node, countersign_count=len(handlers) or None,
                                                chosen_handlers=[h.pk for h in handlers])
        except engine.MoveRefused as exc:
            code, message = MOVE_REFUSALS[exc.reason]
            label = nodes.get(exc.node, (exc.node, False))[0]
            raise Conflict(code, message.format(node=label)) from exc
        except engine.EngineError as exc:  # the definition cannot run that way (e.g. a variable nobody set)
            raise ServiceError("flow.cannot_proceed", f"流程无法调度到“{node_name}”（{exc}），请检查流程定义",
                               status=422) from exc
        ready_ids = {t.id for t in engine.ready_user_tasks(workflow)}
        left = Task.objects.filter(instance=instance, status__in=STANDING, kind=Task.Kind.TODO).exclude(
            spiff_task_id__in=ready_ids)
        cancelled = list(left.values_list("pk", flat=True))
        left.update(status=Task.Status.CANCELLED, completed_at=now)
        ctx = AssignmentContext.of(instance, None)
        fixed = {target_node: [(identity, None) for identity in handlers]} if handlers else None
        new_tasks = runtime.project(instance, workflow, ctx, sender=None, now=now, fixed_handlers=fixed)
        save_state(instance, workflow, now)
        identity = _acting_identity(actor, instance)
        for spiff_task in skipped:
            spec = spiff_task.task_spec
            _trail(instance, actor, "dispatch_skip", identity=None, node_id=spec.bpmn_id,
                   node_name=spec.bpmn_name or spec.bpmn_id, now=now)
        _trail(instance, actor, "dispatch", identity=identity, opinion=reason, node_id=target_node,
               node_name=node_name, route=direction, now=now)
        _audit("flow.instance_dispatched", instance, actor, identity, before, target_node=target_node,
               direction=direction, reason=reason, skipped=[t.task_spec.bpmn_id for t in skipped],
               cancelled=cancelled, new_tasks=[t.pk for t in new_tasks])
    return new_tasks


# --- 重置处理人 ------------------------------------------------------------------------------------------------------

def reassign_task(actor, task: Task, *, to_identities: list, reason: str) -> list[Task]:
    """重置处理人: the open task's handler(s) replaced: its row → cancelled, one new row per identity for the same
    engine task (AB岗 applied; a 会签 instance takes exactly one). The engine does not move."""
    instance = ProcessInstance.objects.select_related("unit").get(pk=task.instance_id)
    _require_admin(actor, instance.unit_id, "reassign", obj=instance)
    reason = _reason(reason, "reassign")
    now = timezone.now()
    with transaction.atomic():
        instance = _lock(instance)
        require_running(instance)
        task = Task.objects.select_related("assignee", "on_behalf_of").get(pk=task.pk)
        if task.kind != Task.Kind.TODO or task.status != Task.Status.OPEN:
            raise Conflict("flow.task_not_open", f"“{task.node_name}”这一步已不在待办中，不能重置处理人")
        identities = _target_identities(instance, to_identities or [], "重置处理人")
        if not identities:
            raise ServiceError("flow.identity_required", "重置处理人需要选择人员", status=422)
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = engine.find_task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != engine.TaskState.READY:
            raise Conflict("flow.task_not_open", f"“{task.node_name}”这一步已不在办理中，请刷新")
        if engine.is_countersign(spiff_task) and len(identities) != 1:
            raise ServiceError("flow.one_identity_required", "会签的每一份只能由一位办理人办理", status=422)
        before = snapshot(instance, ADMIN_FIELDS)
        task.status, task.completed_at = Task.Status.CANCELLED, now
        task.save(update_fields=["status", "completed_at"])
        handlers = effective_handlers(identities, business_type=instance.business_type, at=now)
        new_tasks = Task.objects.bulk_create([
            Task(instance=instance, spiff_task_id=task.spiff_task_id, node_id=task.node_id, node_name=task.node_name,
                 assignee=h.identity, on_behalf_of=h.on_behalf_of, sender=task.sender, received_at=now,
                 deadline=task.deadline, deadline_status=task.deadline_status,
                 # a 委派ed or 加签 row keeps its link: the work still goes back to whoever is waiting for it
                 delegated_from_id=task.delegated_from_id, added_from_id=task.added_from_id,
                 add_position=task.add_position) for h in handlers])
        send_tasks_assigned(new_tasks)
        instance.version += 1
        instance.save(update_fields=["version"])
        identity = _acting_identity(actor, instance)
        names = "、".join(h.identity.person.name for h in handlers)
        _trail(instance, actor, "reassign", identity=identity, task=task, node_id=task.node_id,
               node_name=task.node_name, opinion=f"{task.assignee.person.name} → {names}。{reason}", now=now)
        _audit("flow.task_reassigned", instance, actor, identity, before, task=task.pk, node=task.node_id,
               old_assignee=task.assignee_id, new_tasks=[t.pk for t in new_tasks],
               to=[h.identity.pk for h in handlers], reason=reason)
    return new_tasks


# --- 工作交接 -------------------------------------------------------------------------------------------------------

def handover_queryset(from_identity):
    """The 待办 a 工作交接 moves: todo rows held by the leaving post (open, 委派 out, waiting for 加签) or held by an
    AB岗 delegate on its behalf, of running or suspended instances. 待阅 rows stay (a read-copy is personal)."""
    return Task.objects.filter(Q(assignee=from_identity) | Q(on_behalf_of=from_identity, status=Task.Status.OPEN),
                               status__in=STANDING, kind=Task.Kind.TODO,
                               instance__status__in=[ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED])


# One audit record per task up to this many; above it, one record per chunk of this many tasks (each listing its
# tasks, instances and old / new holders). The audit chain appends under a lock on one head row, and PostgreSQL
# slows down quadratically when one transaction updates that row thousands of times (measured: 10,000 per-task
# records took 212 s there, 21 s on SQLite).
HANDOVER_AUDIT_PER_TASK_MAX = 500


def _audit_handover(moves, actor, identity, from_identity, reason: str) -> None:
    if len(moves) <= HANDOVER_AUDIT_PER_TASK_MAX:
        for task, old, new in moves:
            record("flow.task_handed_over", obj=task.instance, user=actor, identity=identity, unit=task.instance.unit,
                   changes={"assignee": [old[0], new[0]], "on_behalf_of": [old[1], new[1]]},
                   detail={"task": task.pk, "node": task.node_id, "from": from_identity.pk, "reason": reason})
        return
    for start in range(0, len(moves), HANDOVER_AUDIT_PER_TASK_MAX):
        chunk = moves[start:start + HANDOVER_AUDIT_PER_TASK_MAX]
        record("flow.tasks_handed_over", obj=from_identity, user=actor, identity=identity, unit=from_identity.unit,
               detail={"from": from_identity.pk, "reason": reason,
                       "tasks": [{"task": task.pk, "instance": task.instance_id, "node": task.node_id,
                                  "assignee": [old[0], new[0]], "on_behalf_of": [old[1], new[1]]}
                                 for task, old, new in chunk]})


def hand_over_work(actor, *, from_identity, to_identity, reason: str) -> list[Task]:
    """工作交接: every 待办 of a leaving person's post goes to a successor post of the same unit (AB岗 of the
    successor applied), in place: the rows keep their deadlines and links (委派 / 加签), only the holder changes.
    Instances locked in id order; one trail entry `handover` per task; one audit record per task (above
    HANDOVER_AUDIT_PER_TASK_MAX tasks: one per chunk of that many, listing them), plus a summary record.
    Idempotent (a second run finds nothing). Returns the moved rows."""
    _require_admin(actor, from_identity.unit_id, "handover", obj=from_identity)
    reason = _reason(reason, "handover")
    if to_identity is None or not to_identity.active or not to_identity.person.active:
        raise ServiceError("flow.identity_inactive", "接收人不是有效身份")
    if to_identity.unit_id != from_identity.unit_id:
        raise ServiceError("flow.identity_other_unit", "只能交接给同一单位的人员")
    if to_identity.pk == from_identity.pk:
        raise ServiceError("flow.identity_is_self", "交接人和接收人不能是同一身份")
    now = timezone.now()
    with transaction.atomic():
        base = handover_queryset(from_identity)
        list(ProcessInstance.objects.select_for_update().filter(pk__in=base.values("instance_id")).order_by("pk")
             .values_list("pk", flat=True))
        tasks = list(base.select_related("instance", "instance__unit").order_by("instance_id", "id"))
        by_type: dict[str, list[Task]] = defaultdict(list)
        for task in tasks:
            by_type[task.instance.business_type].append(task)
        identity = None
        person = getattr(actor, "person", None)
        if person is not None:
            identity = person.identities.filter(active=True, unit_id=from_identity.unit_id).first()
        trail, moves = [], []
        for business_type, group in by_type.items():
            [handler] = effective_handlers([to_identity], business_type=business_type, at=now)
            Task.objects.filter(pk__in=[t.pk for t in group]).update(assignee=handler.identity,
                                                                     on_behalf_of=handler.on_behalf_of)
            for task in group:
                old = (task.assignee_id, task.on_behalf_of_id)
                task.assignee, task.on_behalf_of = handler.identity, handler.on_behalf_of
                trail.append(TrailEntry(instance_id=task.instance_id, task=task, node_id=task.node_id,
                                        node_name=task.node_name, actor=actor, identity=handler.identity,
                                        on_behalf_of=handler.on_behalf_of, operation="handover", opinion=reason,
                                        created_at=now))
                moves.append((task, old, (handler.identity.pk, getattr(handler.on_behalf_of, "pk", None))))
            send_tasks_assigned(group)
        TrailEntry.objects.bulk_create(trail, batch_size=1000)
        _audit_handover(moves, actor, identity, from_identity, reason)
        record("flow.work_handed_over", obj=from_identity, user=actor, identity=identity, unit=from_identity.unit,
               detail={"from": from_identity.pk, "to": to_identity.pk, "moved": len(tasks), "reason": reason,
                       "instances": len({t.instance_id for t in tasks})})
    return tasks
