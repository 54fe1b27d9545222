"""打开, 撤回 and 退回 of a task (issue #3 §4)."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import Conflict, ServiceError

from .. import engine, runtime
from ..assignment import AssignmentContext
from ..models import Task, TrailEntry
from .common import (
    INSTANCE_FIELDS,
    STANDING,
    add_trail,
    clean_text,
    lock_instance,
    locked_instance,
    ready_spiff_task,
    require_operation,
    require_task_holder,
    save_state,
)


def open_task(actor, task: Task) -> Task:
    """打开: the holder opens the task; the first time sets `opened_at` (after that 撤回 by the sender is too late)."""
    require_task_holder(actor, task)
    now = timezone.now()
    with transaction.atomic():
        instance = locked_instance(task.instance_id)
        task = Task.objects.select_related("assignee").get(pk=task.pk)
        require_task_holder(actor, task)
        if task.opened_at is None:
            task.opened_at = now
            task.save(update_fields=["opened_at"])
            record("flow.task_opened", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
                   changes={"opened_at": [None, now.isoformat()]}, detail={"task": task.pk, "node": task.node_id})
    return task


def retract_task(actor, task: Task) -> list[Task]:
    """撤回: take back one's own submission while none of the tasks it created has been opened (or handled); those
    are cancelled and the step comes back to the one who submitted it (the engine is reset to it)."""
    require_task_holder(actor, task)
    now = timezone.now()
    too_late = Conflict("flow.retract_too_late", f"“{task.node_name}”提交后下一步已经打开或办理，不能撤回")
    with transaction.atomic():
        instance, task = lock_instance(actor, task)
        if task.status != Task.Status.DONE or task.completed_at is None:
            raise Conflict("flow.retract_too_late", f"“{task.node_name}”这一步没有提交过，无需撤回")
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = engine.find_task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != engine.TaskState.COMPLETED:
            raise too_late
        require_operation(task, spiff_task, "retract")
        created = list(Task.objects.filter(instance=instance, sender=task.assignee, received_at=task.completed_at,
                                           delegated_from__isnull=True).exclude(pk=task.pk))
        if not created or any(t.status != Task.Status.OPEN or t.opened_at is not None for t in created):
            raise too_late
        for t in created:  # the rows it created must still hang below it in the engine (nothing moved since)
            following = engine.find_task(workflow, t.spiff_task_id)
            if following is None or not following.is_descendant_of(spiff_task):
                raise too_late
        before = snapshot(instance, INSTANCE_FIELDS)
        engine.reset_to(workflow, spiff_task)
        ctx = AssignmentContext.of(instance, task.sender)
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.sender, now=now,
                                    fixed_handlers={task.node_id: [(task.assignee, task.on_behalf_of)]})
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "retract", now=now)
        record("flow.task_retracted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "cancelled": [t.pk for t in created],
                       "new_tasks": [t.pk for t in new_tasks]})
    return new_tasks


def return_task(actor, task: Task, *, target_node: str | None = None, reason: str) -> list[Task]:
    """退回: send the instance back to the previous user step (default) or to an earlier one on the path it actually
    took (`target_node`), with a reason; the step goes to whoever handled it then, `returned_by` = the returner."""
    require_task_holder(actor, task)
    reason = clean_text(reason, "flow.reason_too_long", "退回理由")
    if not reason:
        raise ServiceError("flow.reason_required", "退回必须填写理由")
    target_node = (target_node or "").strip()
    now = timezone.now()
    with transaction.atomic():
        instance, task = lock_instance(actor, task)
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = ready_spiff_task(workflow, task)
        if task.delegated_from_id:
            raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”是受委派办理的任务，不能退回")
        require_operation(task, spiff_task, "return")
        target, handlers = _return_target(instance, spiff_task, target_node)
        if target is None:
            raise ServiceError("flow.return_target_invalid",
                               f"“{target_node}”不是本流程已经办理过的步骤，不能退回到那里" if target_node
                               else f"“{task.node_name}”之前没有可以退回的步骤", status=422)
        before = snapshot(instance, INSTANCE_FIELDS)
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        try:
            engine.reset_to(workflow, target)
        except engine.EngineError as exc:
            raise ServiceError("flow.cannot_proceed", f"无法退回到“{target.task_spec.bpmn_name or target.task_spec.bpmn_id}”"
                               f"（{exc}），请联系单位系统管理员检查流程定义", status=422) from exc
        ctx = AssignmentContext.of(instance, task.assignee)
        target_id = target.task_spec.bpmn_id
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.assignee, now=now,
                                    fixed_handlers={target_id: handlers})
        Task.objects.filter(pk__in=[t.pk for t in new_tasks]).update(returned_by=task.assignee)
        for new in new_tasks:
            new.returned_by = task.assignee
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "return", route=target_id, opinion=reason, now=now)
        record("flow.task_returned", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "target_node": target_id, "reason": reason,
                       "new_tasks": [t.pk for t in new_tasks]})
    return new_tasks


def _last_handler(instance, spiff_id, *, done_only: bool = True):
    rows = Task.objects.filter(instance=instance, spiff_task_id=spiff_id, kind=Task.Kind.TODO)
    rows = rows.filter(status=Task.Status.DONE) if done_only else rows.exclude(status=Task.Status.OPEN)
    return rows.select_related("assignee", "on_behalf_of").order_by("-completed_at", "-id").first()


def _return_target(instance, spiff_task, target_node: str):
    """(engine task to reset to, its handlers) for 退回: the nearest return point (or the nearest with id
    `target_node`) that someone handled. A 会签 goes back to all its signers, in their order (a signer removed
    by 减签 included: the 会签 runs again as it was sent); a step to whoever finally submitted it."""
    for point in engine.return_points(spiff_task):
        if target_node and point.task_spec.bpmn_id != target_node:
            continue
        if engine.is_countersign_node(point):
            rows = [_last_handler(instance, child.id, done_only=False) for child in engine.countersign_instances(point)]
            if rows and all(rows):
                return point, [(r.assignee, r.on_behalf_of) for r in rows]
            continue
        row = _last_handler(instance, point.id)
        if row is not None:
            return point, [(row.assignee, row.on_behalf_of)]
    return None, []


MAX_SKIPPED_STEPS = 30


def send_back_to_returner(actor, task: Task, *, opinion: str = "") -> list[Task]:
    """直接送回退回人: the holder of a returned step (退回 set `returned_by`) sends it straight back to the step of
    the one who returned it, instead of through every step in between.

    The engine completes this step and passes the steps in between along their default flows (the regular
    path, as if each had been submitted without a route choice) until the returner's node is ready; that node
    goes to the returner (the handler of the returned row, AB岗 as it was). A 会签 or a parallel split on the way
    cannot be passed like that: 409 `flow.send_back_impossible`, nothing changes."""
    require_task_holder(actor, task)
    opinion = clean_text(opinion, "flow.opinion_too_long", "意见")
    now = timezone.now()
    with transaction.atomic():
        instance, task = lock_instance(actor, task)
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = ready_spiff_task(workflow, task)
        if task.returned_by_id is None:
            raise Conflict("flow.not_returned", f"“{task.node_name}”不是退回件，请按正常流程提交")
        returned = (TrailEntry.objects.filter(instance=instance, operation="return", identity=task.returned_by,
                                              route=task.node_id, task__isnull=False)
                    .select_related("task").order_by("-created_at", "-id").first())
        if returned is None:
            raise Conflict("flow.not_returned", f"“{task.node_name}”找不到退回记录，请按正常流程提交")
        target_node, returner = returned.node_id, returned.task
        if engine.node_extensions(spiff_task.task_spec).opinion_required and not opinion:
            raise ServiceError("flow.opinion_required", f"“{task.node_name}”需要填写意见")
        impossible = Conflict("flow.send_back_impossible", f"从“{task.node_name}”到“{returned.node_name}”之间有会签"
                              "或并行环节，不能直接送回，请按正常流程逐级提交")
        before = snapshot(instance, INSTANCE_FIELDS)
        try:
            _pass_on_to(workflow, spiff_task, target_node, impossible)
        except engine.EngineError as exc:  # e.g. a 会签 on the way whose signer count nobody chose
            raise impossible from exc
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        Task.objects.filter(instance=instance, spiff_task_id=task.spiff_task_id, status__in=STANDING,
                            kind=Task.Kind.TODO).update(status=Task.Status.CANCELLED, completed_at=now)
        ctx = AssignmentContext.of(instance, task.assignee)
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.assignee, now=now,
                                    fixed_handlers={target_node: [(returner.assignee, returner.on_behalf_of)]})
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "send_back", route=target_node, opinion=opinion, now=now)
        record("flow.task_sent_back", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "target_node": target_node,
                       "new_tasks": [t.pk for t in new_tasks]})
    return new_tasks


def _pass_on_to(workflow, spiff_task, target_node: str, impossible: Exception) -> None:
    engine.complete(workflow, spiff_task, {"route": ""})
    for _ in range(MAX_SKIPPED_STEPS):
        ready = engine.ready_user_tasks(workflow)
        if any(t.task_spec.bpmn_id == target_node for t in ready):
            return
        if len(ready) != 1 or engine.is_countersign(ready[0]):
            raise impossible
        engine.complete(workflow, ready[0], {"route": ""})
    raise impossible
