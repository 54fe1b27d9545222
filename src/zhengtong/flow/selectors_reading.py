"""Reads for 传阅 / 催办 / 常用语 on the task page and the phrases page (flow.services.reading writes)."""
from __future__ import annotations

from zhengtong.org.models import Duty, Identity

from .models import Phrase, ProcessInstance, Task
from .selectors_ops import page_workflow
from .services.reading import DEFAULT_PHRASES, node_operations


def reading_status(instance: ProcessInstance) -> dict:
    """Who the instance was circulated to and who has read it: {"rows", "read", "unread"} in one query.

    Rows are the 待阅/已阅 rows (cancelled ones left out), unread first, each with reader, unit/department,
    sender, received / opened / read times."""
    rows = (Task.objects.filter(instance=instance, kind=Task.Kind.TOREAD,
                                status__in=[Task.Status.OPEN, Task.Status.DONE])
            .select_related("assignee__person", "assignee__unit", "assignee__department", "sender__person")
            .order_by("-status", "received_at", "id"))  # "open" sorts after "done": unread first
    items = [{
        "id": t.pk, "reader": t.assignee.person.name,
        "where": t.assignee.department.name if t.assignee.department_id else t.assignee.unit.short_name
        or t.assignee.unit.name,
        "sender": t.sender.person.name if t.sender_id else "", "node_name": t.node_name,
        "received_at": t.received_at, "opened_at": t.opened_at, "read_at": t.completed_at,
        "read": t.status == Task.Status.DONE,
    } for t in rows]
    read = sum(1 for i in items if i["read"])
    return {"rows": items, "read": read, "unread": len(items) - read}


def phrases_for(user) -> list[dict]:
    """The user's 常用语 in order, or the defaults (id None) while they have saved none."""
    person = getattr(user, "person", None)
    if person is None:
        return []
    rows = list(Phrase.objects.filter(person=person).order_by("position", "id").values("id", "text"))
    return rows or [{"id": None, "text": text} for text in DEFAULT_PHRASES]


def urge_targets(user, instance: ProcessInstance) -> list[dict]:
    """The open todos of a running instance that `user` may urge (drafter, sender, 单位系统管理员; never their own)."""
    if instance.status != ProcessInstance.Status.RUNNING or getattr(user, "person", None) is None:
        return []
    rows = (Task.objects.filter(instance=instance, kind=Task.Kind.TODO, status=Task.Status.OPEN)
            .select_related("instance__drafter__person", "assignee__person", "sender__person").order_by("id"))
    me = user.person.pk
    # the rules of services.reading.urger_identity, with the 单位系统管理员 post looked up once (not per row)
    admin = (instance.drafter.person_id == me
             or Identity.objects.filter(person_id=me, active=True, duty__code=Duty.UNIT_ADMIN,
                                        unit_id=instance.unit_id).exists())
    return [{"id": t.pk, "node_name": t.node_name, "holder": t.assignee.person.name, "urge_count": t.urge_count,
             "last_urged_at": t.last_urged_at, "received_at": t.received_at}
            for t in rows if t.assignee.person_id != me and (admin or (t.sender_id and t.sender.person_id == me))]


def can_circulate(user, task: Task) -> bool:
    """Whether the 传阅 form is shown for `task` (services.reading.circulate checks again)."""
    person = getattr(user, "person", None)
    instance = task.instance
    if person is None or task.kind != Task.Kind.TODO or task.assignee.person_id != person.pk:
        return False
    running, completed = ProcessInstance.Status.RUNNING, ProcessInstance.Status.COMPLETED
    if not ((instance.status == running and task.status == Task.Status.OPEN)
            or (instance.status == completed and task.status == Task.Status.DONE)):
        return False
    try:
        workflow = page_workflow(instance)
    except Exception:  # noqa: BLE001 — a broken state must not make the page a 500
        return False
    return "circulate" in node_operations(instance, task, workflow)
