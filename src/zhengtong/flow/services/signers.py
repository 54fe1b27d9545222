"""加签 and 减签 (issue #3 §4), and 会签 signers removed by the one who sent the 会签.

加签 adds co-signers to one's own open step without touching the engine: rows for the same engine task with
`added_from` = the adder's row and `add_position`:
- 前加签 (before): the adder's row waits (status `waiting`) until every added signer has submitted, then it is
  open again and the adder completes the step;
- 后加签 (after): the adder's row is done; the added signers sign in parallel and the last of them completes the
  step (their route and next handlers, as the last 会签 signer does).
减签 removes added signers who have not signed yet (when none is left the adder's row is open again), or — for
the one whose submit sent a 会签 — 会签 signers who have not signed (their engine instance finishes as
`removed`, so completion rules count only real signatures); the last unsigned signer cannot be removed.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import Conflict, ServiceError

from .. import engine, runtime
from ..assignment import AssignmentContext
from ..models import Task
from .common import (
    INSTANCE_FIELDS,
    add_trail,
    clean_text,
    copy_task,
    lock_instance,
    ready_spiff_task,
    require_operation,
    require_task_holder,
    save_state,
    target_identity,
)

MAX_ADDED = 50
POSITIONS = {"before": "前加签", "after": "后加签"}


def add_signers(actor, task: Task, *, to_identities: list, position: str, opinion: str = "") -> list[Task]:
    """加签: co-signers for the actor's open step, before or after them (module docstring); returns their rows."""
    require_task_holder(actor, task)
    if position not in POSITIONS:
        raise ServiceError("flow.invalid_position", "加签方式应为 before（前加签）或 after（后加签）", status=422)
    opinion = clean_text(opinion, "flow.opinion_too_long", "意见")
    if not to_identities:
        raise ServiceError("flow.identity_required", "加签需要选择人员", status=422)
    if len(to_identities) > MAX_ADDED:
        raise ServiceError("flow.too_many_signers", f"一次最多加签 {MAX_ADDED} 人")
    now = timezone.now()
    with transaction.atomic():
        instance, task = lock_instance(actor, task)
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = ready_spiff_task(workflow, task)
        if task.delegated_from_id or task.added_from_id:
            raise Conflict("flow.operation_not_allowed",
                           f"“{task.node_name}”是受委派或加签产生的任务，不能再加签")
        require_operation(task, spiff_task, "add_signers")
        handlers = [target_identity(instance, task, identity, "加签") for identity in to_identities]
        holding = set(Task.objects.filter(instance=instance, spiff_task_id=task.spiff_task_id, kind=Task.Kind.TODO,
                                          status=Task.Status.OPEN).values_list("assignee_id", flat=True))
        already = [h.identity.person.name for h in handlers if h.identity.pk in holding]
        if already:
            raise ServiceError("flow.already_signer", "、".join(already) + "已经在办理这一步，不能重复加签")
        unique = list({h.identity.pk: h for h in handlers}.values())
        before = snapshot(instance, INSTANCE_FIELDS)
        if position == "before":
            task.status = Task.Status.WAITING
        else:
            task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        rows = [copy_task(task, handler, now, added_from=task, add_position=position) for handler in unique]
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "add_signers", route=position, opinion=opinion, now=now)
        for row in rows:
            add_trail(instance, row, actor, "added_signer", identity=row.assignee, on_behalf_of=row.on_behalf_of,
                      route=position, now=now)
        record("flow.signers_added", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "position": position,
                       "new_tasks": [r.pk for r in rows], "to": [r.assignee_id for r in rows]})
    return rows


def finish_added_signer(actor, instance, task: Task, workflow, opinion: str, now) -> list[Task] | None:
    """An added signer submits (inside submit_task's transaction). Returns the rows opened again (the adder's,
    after the last 前加签 signer), [] while others still have to sign, or None when this is the last 后加签 signer:
    then submit_task completes the engine task as for any holder."""
    origin = Task.objects.select_for_update().get(pk=task.added_from_id)
    # a signer who 委派ed is still signing (their row is `delegated` until the delegate hands it back)
    others_open = (Task.objects.filter(added_from=origin, status__in=[Task.Status.OPEN, Task.Status.DELEGATED])
                   .exclude(pk=task.pk).exists())
    if task.add_position == "after" and not others_open:
        return None
    before = snapshot(instance, INSTANCE_FIELDS)
    task.status, task.completed_at = Task.Status.DONE, now
    task.save(update_fields=["status", "completed_at"])
    reopened = []
    if task.add_position == "before" and not others_open:
        origin.status, origin.received_at, origin.sender = Task.Status.OPEN, now, task.assignee
        origin.save(update_fields=["status", "received_at", "sender"])
        reopened = [origin]
    save_state(instance, workflow, now)
    add_trail(instance, task, actor, "added_signer_done", opinion=opinion, now=now)
    record("flow.added_signer_submitted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
           changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
           detail={"task": task.pk, "node": task.node_id, "added_from": origin.pk,
                   "back_to": origin.pk if reopened else None})
    return reopened


def remove_signers(actor, task: Task, *, identities: list, opinion: str = "") -> list[Task]:
    """减签 by the holder of `task` (the adder's row, or the submitted row that sent a 会签); returns the rows
    cancelled. Only signers who have not signed can be removed."""
    require_task_holder(actor, task)
    opinion = clean_text(opinion, "flow.opinion_too_long", "意见")
    wanted = {identity.pk for identity in identities}
    if not wanted:
        raise ServiceError("flow.identity_required", "减签需要选择人员", status=422)
    now = timezone.now()
    with transaction.atomic():
        instance, task = lock_instance(actor, task)
        workflow = engine.load_state(instance.definition, instance.state)
        added = list(Task.objects.filter(added_from=task, status=Task.Status.OPEN).select_related("assignee__person"))
        if added:
            removed, reopened = _remove_added(task, added, wanted, now)
        else:
            removed, reopened = _remove_countersigners(instance, task, workflow, wanted), []
        before = snapshot(instance, INSTANCE_FIELDS)
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "remove_signers", opinion=opinion, now=now)
        for row in removed:
            add_trail(instance, row, actor, "removed_signer", identity=row.assignee, on_behalf_of=row.on_behalf_of,
                      now=now)
        record("flow.signers_removed", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "removed": [r.pk for r in removed],
                       "reopened": [r.pk for r in reopened]})
    return removed


def _not_removable(wanted: set[int], rows: list[Task]) -> None:
    names = {r.assignee_id for r in rows}
    if wanted - names:
        raise ServiceError("flow.signer_not_removable", "所选人员不是可减签的人员（只能减去尚未办理的加签人或会签人）")


def _remove_added(task: Task, added: list[Task], wanted: set[int], now) -> tuple[list[Task], list[Task]]:
    _not_removable(wanted, added)
    removed = [r for r in added if r.assignee_id in wanted]
    Task.objects.filter(pk__in=[r.pk for r in removed]).update(status=Task.Status.CANCELLED, completed_at=now)
    reopened = []
    still_signing = Task.objects.filter(added_from=task, status__in=[Task.Status.OPEN, Task.Status.DELEGATED])
    if not still_signing.exists():  # nobody left to sign (a 委派ed signer still is): the step is the adder's again
        task.status, task.completed_at, task.received_at = Task.Status.OPEN, None, now
        task.save(update_fields=["status", "completed_at", "received_at"])
        reopened = [task]
    return removed, reopened


def _remove_countersigners(instance, task: Task, workflow, wanted: set[int]) -> list[Task]:
    if task.status != Task.Status.DONE or task.completed_at is None:
        raise Conflict("flow.nothing_to_remove", f"“{task.node_name}”没有可减签的人员")
    sent = list(Task.objects.filter(instance=instance, sender=task.assignee, received_at=task.completed_at,
                                    status=Task.Status.OPEN, kind=Task.Kind.TODO, added_from__isnull=True,
                                    delegated_from__isnull=True).select_related("assignee__person"))
    spiff = {row.pk: engine.find_task(workflow, row.spiff_task_id) for row in sent}
    sent = [row for row in sent if spiff[row.pk] is not None and engine.is_countersign(spiff[row.pk])
            and spiff[row.pk].state == engine.TaskState.READY]
    if not sent:
        raise Conflict("flow.nothing_to_remove", f"“{task.node_name}”没有尚未会签的人员可减签")
    _not_removable(wanted, sent)
    spec = engine.node_spec(workflow, task.node_id)
    if spec is None or "add_signers" not in engine.node_extensions(spec).operations:
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”这一步不允许减签")
    removed = [r for r in sent if r.assignee_id in wanted]
    if len(removed) == len(sent):
        raise Conflict("flow.cannot_remove_last_signer", "不能减去全部尚未会签的人员，至少保留一位（或退回重新选择会签人）")
    try:
        for row in removed:
            child = spiff[row.pk]
            engine.complete(workflow, child, {"route": "", **engine.countersign_counts(child, signing=False)})
    except engine.EngineError as exc:
        raise ServiceError("flow.cannot_proceed", f"减签后流程无法继续（{exc}），请联系单位系统管理员检查流程定义",
                           status=422) from exc
    Task.objects.filter(pk__in=[r.pk for r in removed]).update(status=Task.Status.CANCELLED,
                                                               completed_at=timezone.now())
    ctx = AssignmentContext.of(instance, task.assignee)
    try:
        runtime.project(instance, workflow, ctx, sender=task.assignee)
    except ServiceError as exc:  # the completion rule is met now and the next node needs a choice nobody made
        raise Conflict("flow.cannot_remove_last_signer", "减签后会签即告完成，但下一步办理人需由会签人选择："
                       "请保留该会签人，由其提交时选择") from exc
    return removed
