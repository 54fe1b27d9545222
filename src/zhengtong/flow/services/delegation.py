"""AB岗 after the fact: open 待办 follow delegations that start, end or are revoked (issue #3 §2)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhengtong.audit.services import record

from ..models import ProcessInstance, Task, TrailEntry
from ..signals import send_tasks_assigned

# --- AB岗 when a delegation starts or ends (issue #3 §2) ------------------------------------------------------

def reapply_delegations(principal, *, at=None, actor=None) -> list[int]:
    """Move the open 待办 of `principal` to where AB岗 says they belong at `at`: to the delegate (on behalf of the
    principal) while a delegation is in force, back to the principal when it ended or was revoked.

    Idempotent; run by the system (`flow.tasks.reapply_delegations_due`) and callable when a delegation is
    created or revoked. Instances are locked (in id order) like every other operation. Returns the task ids moved.
    """
    from ..assignment import effective_handlers

    at = at or timezone.now()
    mine = Q(assignee=principal, on_behalf_of__isnull=True) | Q(on_behalf_of=principal)
    base = Task.objects.filter(mine, status=Task.Status.OPEN, kind=Task.Kind.TODO)
    moved: list[int] = []
    with transaction.atomic():
        instance_ids = sorted(set(base.values_list("instance_id", flat=True)))
        if not instance_ids:
            return moved
        list(ProcessInstance.objects.select_for_update().filter(pk__in=instance_ids).order_by("pk")
             .values_list("pk", flat=True))
        tasks = list(base.filter(instance_id__in=instance_ids).select_related("instance"))
        targets = {}
        for business_type in {t.instance.business_type for t in tasks}:
            [handler] = effective_handlers([principal], business_type=business_type, at=at)
            targets[business_type] = handler
        for task in tasks:
            handler = targets[task.instance.business_type]
            if (task.assignee_id, task.on_behalf_of_id) == (handler.identity.pk, getattr(handler.on_behalf_of, "pk",
                                                                                          None)):
                continue
            before = (task.assignee_id, task.on_behalf_of_id)
            task.assignee, task.on_behalf_of = handler.identity, handler.on_behalf_of
            task.save(update_fields=["assignee", "on_behalf_of"])
            send_tasks_assigned([task])
            TrailEntry.objects.create(instance=task.instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                      actor=actor, identity=handler.identity, on_behalf_of=handler.on_behalf_of,
                                      operation="delegation", created_at=at)
            record("flow.task_reassigned_by_delegation", obj=task.instance, user=actor, username="AB岗",
                   unit=task.instance.unit,
                   changes={"assignee": [before[0], task.assignee_id], "on_behalf_of": [before[1], task.on_behalf_of_id]},
                   detail={"task": task.pk, "principal": principal.pk})
            moved.append(task.pk)
    return moved


def reapply_delegations_between(since, until) -> list[int]:
    """AB岗 for every principal whose delegation started, ended, was revoked or was created (perhaps back-dated)
    in (since, until]."""
    from zhengtong.org.models import Delegation, Identity

    changed = (Q(starts_at__gt=since, starts_at__lte=until) | Q(ends_at__gt=since, ends_at__lte=until)
               | Q(revoked_at__gt=since, revoked_at__lte=until) | Q(created_at__gt=since, created_at__lte=until))
    principal_ids = set(Delegation.objects.filter(changed).values_list("principal_id", flat=True))
    moved: list[int] = []
    for principal in Identity.objects.filter(pk__in=principal_ids).order_by("pk"):
        moved += reapply_delegations(principal, at=until)
    return moved
