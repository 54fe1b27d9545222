"""What each event of the flow and the exchange tells whom (issue #6 §2). The signals are sent inside the event's
transaction, so the notifications are in the outbox exactly when the event committed."""
from __future__ import annotations

import functools
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from zhengtong.core import calendar, working_hours
from zhengtong.org.models import Duty, Identity

from .models import Event
from .services import Note, notify, notify_all, settle

URGENT = "特急"


def _urgencies(instance_ids) -> dict[int, str]:
    from zhengtong.documents.models import Document

    return dict(Document.objects.filter(instance_id__in=set(instance_ids)).values_list("instance_id", "urgency"))


def _tasks(tasks):
    from zhengtong.flow.models import Task

    return list(Task.objects.filter(pk__in=[t.pk for t in tasks])
                .select_related("assignee__person", "assignee__unit", "instance", "sender__person",
                                "returned_by__person", "on_behalf_of__person").order_by("pk"))


def office_opens(day):
    """When the office next opens on or after `day` (local): 08:30 of the first working day. Without the year's
    holiday arrangement, `day` itself (never a weekdays-only guess, R8.2)."""
    try:
        day = calendar.working_day_on_or_after(day)
    except calendar.CalendarDataMissing:
        pass
    return working_hours.local_midnight(day) + timedelta(seconds=working_hours.office_hours().spans[0][0])


def _what(task) -> str:
    label = task.instance.get_business_type_display()
    return f"{label}《{task.instance.title}》"


def on_tasks_assigned(sender, tasks, **kwargs) -> None:
    rows = _tasks(tasks)
    urgency = _urgencies(t.instance_id for t in rows)
    notes = []
    for task in rows:
        if task.status != "open" or (task.sender_id and task.sender.person_id == task.assignee.person_id):
            continue  # done already, or sent to oneself (the drafter's first step, 复核 → 编号 → 用印 by one clerk)
        urgent = urgency.get(task.instance_id) == URGENT
        behalf = f"（代 {task.on_behalf_of.person.name} 办理）" if task.on_behalf_of_id else ""
        if task.kind == "toread":
            event, title = Event.TOREAD, f"待阅：{task.instance.title}"
            body = f"{task.sender.person.name if task.sender_id else '系统'}传阅{_what(task)}，请阅知。"
        elif task.returned_by_id:
            event, title = Event.RETURNED, f"退回：{task.instance.title}"
            body = f"{task.returned_by.person.name}将{_what(task)}退回给您（{task.node_name}）{behalf}，请重新办理。"
        else:
            event, title = Event.TODO, f"待办：{task.instance.title}"
            who = f"{task.sender.person.name}送来" if task.sender_id else "新到"
            due = f"，办理时限 {task.deadline:%Y年%-m月%-d日}" if task.deadline else ""
            body = f"{who}{_what(task)}，请办理“{task.node_name}”{behalf}{due}。"
        if urgent:
            title = f"【特急】{title}"
        notes.append(Note(event, f"task:{task.pk}:{task.assignee_id}", [task.assignee], title=title, body=body,
                          url=reverse("flow:task", args=[task.pk]), urgent=urgent))
    notify_all(notes)
    # the steps these tasks follow are handled: their 待办 / 退回 notifications need no more attention
    from zhengtong.flow.models import Task

    handled = (Task.objects.filter(instance_id__in={t.instance_id for t in rows}, kind="todo")
               .exclude(status="open").values_list("pk", "assignee_id", "assignee__person__user_id"))
    handled = list(handled)
    settle([f"task:{pk}:{assignee}" for pk, assignee, _ in handled], {user for _, _, user in handled})


def on_task_urged(sender, task, actor, message, **kwargs) -> None:
    [task] = _tasks([task])
    urgent = _urgencies([task.instance_id]).get(task.instance_id) == URGENT
    urger = getattr(getattr(actor, "person", None), "name", "")
    notify(Event.URGED, f"urge:{task.pk}:{task.urge_count}", [task.assignee],
           title=f"催办：{task.instance.title}", body=f"{urger}催办{_what(task)}（{task.node_name}）：{message}",
           url=reverse("flow:task", args=[task.pk]), urgent=urgent)


def on_deadline_statuses_changed(sender, tasks, **kwargs) -> None:
    rows = _tasks(tasks)
    # the nightly scan runs after midnight: the messages wait for office hours, the centre has them at once
    opens = office_opens(timezone.localdate())
    notes = []
    for task in rows:
        red = task.deadline_status == "red"
        card = "红牌" if red else "黄牌"
        state = "已超过办理时限" if red else "即将到期"
        notes.append(Note(Event.DEADLINE, f"deadline:{task.pk}:{task.deadline_status}:{task.assignee_id}",
                          [task.assignee], title=f"{card}：{task.instance.title}",
                          body=f"{_what(task)}“{task.node_name}”{state}（时限 {task.deadline:%Y年%-m月%-d日}），请尽快办理。",
                          url=reverse("flow:task", args=[task.pk]), urgent=red, not_before=opens))
    notify_all(notes)


# --- the exchange ------------------------------------------------------------------------------------------------

def clerks(unit_ids) -> dict[int, list[Identity]]:
    found: dict[int, list[Identity]] = {}
    for identity in (Identity.objects.filter(unit_id__in=set(unit_ids), active=True, duty__code=Duty.DOC_CLERK)
                     .select_related("person", "unit").order_by("order", "pk")):
        found.setdefault(identity.unit_id, []).append(identity)
    return found


def _deliveries(deliveries):
    from zhengtong.exchange.models import Delivery

    return list(Delivery.objects.filter(pk__in=[d.pk for d in deliveries])
                .select_related("document", "sender_unit", "unit", "dispatch__dispatched_by__person",
                                "dispatch__dispatched_by__unit").order_by("pk"))


def on_deliveries_arrived(sender, deliveries, **kwargs) -> None:
    rows = _deliveries(deliveries)
    by_unit = clerks(d.unit_id for d in rows)
    notes = []
    for d in rows:
        urgent = d.document.urgency == URGENT
        kind = "抄送" if d.kind == "copy" else "主送"
        notes.append(Note(Event.ARRIVED, f"arrived:{d.pk}", by_unit.get(d.unit_id, []),
                          title=f"{'【特急】' if urgent else ''}来文待签收：{d.document.title}",
                          body=f"{d.sender_unit.name}发来《{d.document.title}》（{kind}），请在交换箱及时签收。",
                          url=reverse("exchange:delivery", args=[d.pk]), urgent=urgent))
    notify_all(notes)


def _sending_side(d) -> list[Identity]:
    people = list(clerks([d.sender_unit_id]).get(d.sender_unit_id, []))
    if d.dispatch_id and d.dispatch.dispatched_by_id and d.forwarded_from_id is None:
        people.append(d.dispatch.dispatched_by)
    return people


def on_delivery_refused(sender, delivery, **kwargs) -> None:
    [d] = _deliveries([delivery])
    notify(Event.REFUSED, f"refused:{d.pk}", _sending_side(d), title=f"被退文：{d.document.title}",
           body=f"{d.unit.name}退回了《{d.document.title}》，理由：{d.reason or '未说明'}。",
           url=reverse("documents:detail", args=[d.document_id]))


def on_delivery_urged(sender, deliveries, message, **kwargs) -> None:
    rows = _deliveries(deliveries)
    by_unit = clerks(d.unit_id for d in rows)
    notify_all([Note(Event.URGED, f"xurge:{d.pk}:{d.urge_count}", by_unit.get(d.unit_id, []),
                     title=f"催签收：{d.document.title}", body=f"{d.sender_unit.name}催办签收《{d.document.title}》：{message}",
                     url=reverse("exchange:delivery", args=[d.pk]), urgent=d.document.urgency == URGENT)
                for d in rows])


def in_savepoint(receiver):
    """Run a receiver in a savepoint of the event's transaction, its reads included: a failure undoes only what
    it wrote, and a signal sent robustly (arrivals) goes on with the caller's transaction intact."""
    @functools.wraps(receiver)
    def wrapped(*args, **kwargs):
        with transaction.atomic():
            return receiver(*args, **kwargs)

    return wrapped


def connect() -> None:
    from zhengtong.exchange import signals as exchange
    from zhengtong.flow import signals as flow

    for signal, receiver in ((flow.tasks_assigned, on_tasks_assigned), (flow.task_urged, on_task_urged),
                             (flow.deadline_statuses_changed, on_deadline_statuses_changed),
                             (exchange.deliveries_arrived, on_deliveries_arrived),
                             (exchange.delivery_refused, on_delivery_refused),
                             (exchange.delivery_urged, on_delivery_urged)):
        signal.connect(in_savepoint(receiver), weak=False, dispatch_uid=f"notify.{receiver.__name__}")
