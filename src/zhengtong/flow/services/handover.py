"""转办 and 委派: the open task goes to another identity of the unit; 委派 comes back to the delegator."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import Conflict

from .. import engine
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


def hand_over(actor, task: Task, to_identity, operation: str, label: str):
    """The shared start of 转办 and 委派 (inside the caller's transaction): lock, load the engine, check the node
    allows `operation` and that the task is not itself delegated, resolve the target (AB岗 applied)."""
    instance, task = lock_instance(actor, task)
    workflow = engine.load_state(instance.definition, instance.state)
    spiff_task = ready_spiff_task(workflow, task)
    if task.delegated_from_id:
        again = "再" if operation == "delegate" else ""
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”是受委派办理的任务，不能{again}{label}")
    require_operation(task, spiff_task, operation)
    return instance, task, workflow, target_identity(instance, task, to_identity, label)


def transfer_task(actor, task: Task, *, to_identity, opinion: str = "") -> Task:
    """转办: the open task moves to another identity of the unit (AB岗 applied); the engine does not move."""
    require_task_holder(actor, task)
    opinion = clean_text(opinion, "flow.opinion_too_long", "意见")
    now = timezone.now()
    with transaction.atomic():
        instance, task, workflow, handler = hand_over(actor, task, to_identity, "transfer", "转办")
        before = snapshot(instance, INSTANCE_FIELDS)
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        # an added signer's row stays one (加签 waits for it), whoever finally handles it
        new = copy_task(task, handler, now, added_from_id=task.added_from_id, add_position=task.add_position)
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "transfer", opinion=opinion, now=now)
        add_trail(instance, new, actor, "transferred_to", identity=handler.identity, on_behalf_of=handler.on_behalf_of,
               now=now)
        record("flow.task_transferred", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "new_task": new.pk, "to": handler.identity.pk,
                       "on_behalf_of": handler.on_behalf_of.pk if handler.on_behalf_of else None})
    return new


def delegate_task(actor, task: Task, *, to_identity, opinion: str = "") -> Task:
    """委派: a task for the delegate; when the delegate submits, the task comes back to the delegator (the engine
    moves only when the delegator submits). The delegator's row waits as `delegated`."""
    require_task_holder(actor, task)
    opinion = clean_text(opinion, "flow.opinion_too_long", "意见")
    now = timezone.now()
    with transaction.atomic():
        instance, task, workflow, handler = hand_over(actor, task, to_identity, "delegate", "委派")
        before = snapshot(instance, INSTANCE_FIELDS)
        task.status = Task.Status.DELEGATED
        task.save(update_fields=["status"])
        new = copy_task(task, handler, now, delegated_from=task)
        save_state(instance, workflow, now)
        add_trail(instance, task, actor, "delegate", opinion=opinion, now=now)
        add_trail(instance, new, actor, "delegated_to", identity=handler.identity, on_behalf_of=handler.on_behalf_of,
                  now=now)
        record("flow.task_delegated", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "new_task": new.pk, "to": handler.identity.pk})
    return new


def finish_delegation(actor, instance, task: Task, workflow, opinion: str, now) -> list[Task]:
    """The delegate submits: the delegator's task is open again (the engine has not moved)."""
    before = snapshot(instance, INSTANCE_FIELDS)
    task.status, task.completed_at = Task.Status.DONE, now
    task.save(update_fields=["status", "completed_at"])
    original = Task.objects.select_for_update().get(pk=task.delegated_from_id)
    original.status, original.received_at, original.sender = Task.Status.OPEN, now, task.assignee
    original.save(update_fields=["status", "received_at", "sender"])
    save_state(instance, workflow, now)
    add_trail(instance, task, actor, "delegate_done", opinion=opinion, now=now)
    record("flow.delegated_task_submitted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
           changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
           detail={"task": task.pk, "node": task.node_id, "back_to": original.pk})
    return [original]
