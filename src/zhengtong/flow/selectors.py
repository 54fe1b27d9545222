"""Reads for worklists and the instance page (never the engine state: lists stay indexed queries)."""
from __future__ import annotations

from django.db.models import Q

from zhengtong.org.models import Identity

from .models import ProcessInstance, Task, TrailEntry

PAGE_SIZE = 20
BOXES = {
    "todo": (Task.Kind.TODO, Task.Status.OPEN),
    "done": (Task.Kind.TODO, Task.Status.DONE),
    "toread": (Task.Kind.TOREAD, Task.Status.OPEN),
    "read": (Task.Kind.TOREAD, Task.Status.DONE),
}


def person_name(identity) -> str | None:
    return identity.person.name if identity is not None else None


_name = person_name


def my_identities(user):
    """A subquery of the user's identities (the worklist covers every post the person holds)."""
    return Identity.objects.filter(person__user=user).values("pk")


def box_count(user, box: str = "todo") -> int:
    """The number of tasks in one box of `user` (the workspace counters): one indexed COUNT."""
    kind, status = BOXES[box]
    return Task.objects.filter(assignee__in=my_identities(user), kind=kind, status=status).count()


def worklist(user, box: str = "todo", page: int = 1, page_size: int = PAGE_SIZE, *, business_type: str = "",
             deadline_status: str = "", received_from=None, received_to=None) -> dict:
    """待办 / 已办 / 待阅 / 已阅 of `user`: {"count", "items"} in two queries (count, page).

    Optional filters: business type, deadline status (normal / yellow / red), received date range (local dates,
    both ends included)."""
    kind, status = BOXES[box]
    qs = Task.objects.filter(assignee__in=my_identities(user), kind=kind, status=status)
    if business_type:
        qs = qs.filter(instance__business_type=business_type)
    if deadline_status:
        qs = qs.filter(deadline_status=deadline_status)
    if received_from:
        qs = qs.filter(received_at__date__gte=received_from)
    if received_to:
        qs = qs.filter(received_at__date__lte=received_to)
    count = qs.count()
    ordering = ("deadline", "received_at", "id") if box in ("todo", "toread") else ("-completed_at", "-id")
    start = (max(page, 1) - 1) * page_size
    # The page's ids are sorted and cut on the task table alone, then joined: with the joins in the same SELECT,
    # PostgreSQL joined every task of a heavy holder (1,000+ 已办) before sorting. Only the listed columns are
    # read (no model instances, never the instance's engine state). Figures: bench/flow_bench.py.
    page_ids = qs.order_by(*ordering).values("pk")[start:start + page_size]
    rows = Task.objects.filter(pk__in=page_ids).order_by(*ordering).values(
        "id", "instance__title", "instance__business_type", "node_name", "instance_id", "deadline", "deadline_status",
        "received_at", "sender__person__name", "on_behalf_of__person__name", "urge_count")
    items = [{
        "id": r["id"], "title": r["instance__title"], "business_type": r["instance__business_type"],
        "node_name": r["node_name"], "instance_id": r["instance_id"], "deadline": r["deadline"],
        "deadline_status": r["deadline_status"], "received_at": r["received_at"], "sender": r["sender__person__name"],
        "on_behalf_of": r["on_behalf_of__person__name"], "urge_count": r["urge_count"],
    } for r in rows]
    return {"count": count, "items": items}


def is_participant(user, instance: ProcessInstance) -> bool:
    """The drafter, or anyone who holds or held a task of the instance (also on whose behalf); never the 三员
    (R7.2)."""
    from zhengtong.accounts.permissions import is_any_admin

    if is_any_admin(user):
        return False
    mine = my_identities(user)
    if Identity.objects.filter(pk=instance.drafter_id, person__user=user).exists():
        return True
    return Task.objects.filter(Q(assignee__in=mine) | Q(on_behalf_of__in=mine), instance=instance).exists()


def instance_detail(instance: ProcessInstance) -> dict:
    """Definition version, current nodes (open tasks) and the trail with opinions."""
    open_tasks = (Task.objects.filter(instance=instance, status=Task.Status.OPEN, kind=Task.Kind.TODO)
                  .select_related("assignee__person", "on_behalf_of__person").order_by("id"))
    trail = (TrailEntry.objects.filter(instance=instance)
             .select_related("identity__person", "on_behalf_of__person").order_by("created_at", "id"))
    return {
        "id": instance.pk, "title": instance.title, "business_type": instance.business_type,
        "status": instance.status, "definition_id": instance.definition_id,
        "definition_version": instance.definition.version, "started_at": instance.started_at,
        "completed_at": instance.completed_at,
        "current": [{"task_id": t.pk, "node_id": t.node_id, "node_name": t.node_name,
                     "assignee": _name(t.assignee), "on_behalf_of": _name(t.on_behalf_of),
                     "deadline": t.deadline, "deadline_status": t.deadline_status} for t in open_tasks],
        "trail": [{"operation": e.operation, "node_id": e.node_id, "node_name": e.node_name,
                   "identity": _name(e.identity), "on_behalf_of": _name(e.on_behalf_of), "route": e.route,
                   "opinion": e.opinion, "created_at": e.created_at} for e in trail],
    }


def started(user, page: int = 1, page_size: int = PAGE_SIZE, *, status: str = "") -> dict:
    """我发起的: instances the user's identities started, newest first, each with its current steps: 3 queries
    (count, page, the page's open todo rows)."""
    qs = ProcessInstance.objects.filter(drafter__in=my_identities(user)).defer("state")
    if status:
        qs = qs.filter(status=status)
    count = qs.count()
    start = (max(page, 1) - 1) * page_size
    rows = list(qs.order_by("-started_at", "-id")[start:start + page_size])
    current: dict[int, list[dict]] = {row.pk: [] for row in rows}
    open_rows = (Task.objects.filter(instance_id__in=list(current), status=Task.Status.OPEN, kind=Task.Kind.TODO)
                 .select_related("assignee__person").order_by("id"))
    for t in open_rows:
        current[t.instance_id].append({"task_id": t.pk, "node_name": t.node_name, "assignee": _name(t.assignee),
                                       "deadline": t.deadline, "deadline_status": t.deadline_status})
    items = [{"id": row.pk, "title": row.title, "business_type": row.business_type, "status": row.status,
              "status_label": row.get_status_display(), "started_at": row.started_at,
              "completed_at": row.completed_at, "deadline": row.deadline, "deadline_status": row.deadline_status,
              "current": current[row.pk]} for row in rows]
    return {"count": count, "items": items}


def task_to_show(user, instance: ProcessInstance) -> Task | None:
    """The task row the user's view of an instance opens on: their own open task, else their latest, else (the
    drafter) the first row of the instance."""
    mine = Task.objects.filter(Q(assignee__in=my_identities(user)) | Q(on_behalf_of__in=my_identities(user)),
                               instance=instance)
    return (mine.filter(status=Task.Status.OPEN).order_by("id").first()
            or mine.order_by("-received_at", "-id").first()
            or Task.objects.filter(instance=instance).order_by("id").first())
