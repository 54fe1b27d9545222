"""Scheduled reminders (issue #6 §2), run by Huey (notify.tasks) in local time:

- 签收 reminders at the times of NOTIFY_SIGN_REMINDER_TIMES on working days, to each 收发员 whose unit has documents
  waiting for 签收. Each time slot is recorded (`ReminderRun`), so it is sent once; a slot missed while the worker
  was down is sent when it comes back (only the latest one of the day, not a burst of old ones).
- 超时未签收: a recipient that has not signed for `EXCHANGE_SIGN_LIMIT_HOURS` working hours (the 收发统计's own
  limit) is reported once to the sending side.
- AB岗: a delegation that starts or ends (or is revoked) is told to both the principal and the delegate.
- The weekly overdue summary: on Monday morning each unit's leaders get the list of 红牌 tasks of their unit.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone

from zhengtong.core import calendar, working_hours
from zhengtong.org.models import Delegation, Duty, Identity

from .models import Event, Notification, ReminderRun
from .receivers import _deliveries, _sending_side, clerks
from .services import notify


def sign_reminder_times() -> list[time]:
    times = []
    for text in getattr(settings, "NOTIFY_SIGN_REMINDER_TIMES", []):
        try:
            hour, minute = (int(part) for part in text.split(":"))
            times.append(time(hour, minute))
        except ValueError as exc:
            raise ImproperlyConfigured(f"NOTIFY_SIGN_REMINDER_TIMES: “{text}” is not HH:MM") from exc
    return sorted(times)


def _working_day(day: date) -> bool:
    """Raises CalendarDataMissing for a year without the holiday arrangement: never a weekdays-only guess (R8.2)."""
    return calendar.is_working_day(day)


def _once(name: str, slot: str) -> ReminderRun | None:
    """Claim a slot (None when it already ran): inside the caller's transaction, so a failed run frees it."""
    try:
        with transaction.atomic():
            return ReminderRun.objects.create(name=name, slot=slot)
    except IntegrityError:
        return None


def sign_reminder_slot(now: datetime) -> str | None:
    local = timezone.localtime(now)
    if not _working_day(local.date()):
        return None
    passed = [t for t in sign_reminder_times() if t <= local.time()]
    return f"{local.date().isoformat()} {passed[-1]:%H:%M}" if passed else None


def send_sign_reminders(now: datetime | None = None) -> int:
    """Returns the 收发员 reminded."""
    from zhengtong.exchange.models import Delivery

    now = now or timezone.now()
    slot = sign_reminder_slot(now)
    if slot is None:
        return 0
    told = 0
    with transaction.atomic():
        run = _once("sign", slot)
        if run is None:
            return 0
        waiting = list(Delivery.objects.filter(status=Delivery.Status.PENDING).values("unit_id")
                       .annotate(n=Count("pk"), oldest=Min("delivered_at")).order_by("unit_id"))
        by_unit = clerks(w["unit_id"] for w in waiting)
        for w in waiting:
            since = timezone.localtime(w["oldest"])
            people = by_unit.get(w["unit_id"], [])
            told += len(notify(Event.SIGN_REMINDER, f"sign:{slot}:{w['unit_id']}", people,
                               title=f"签收提醒：交换箱有 {w['n']} 件来文待签收",
                               body=f"最早一件 {since:%-m月%-d日 %H:%M} 送达，请及时签收或退文。",
                               url=reverse("exchange:inbox"), now=now))
        run.sent = told
        run.save(update_fields=["sent"])
    return told


def send_unsigned_alerts(now: datetime | None = None) -> int:
    """Tell the sending side about recipients past the 签收 limit, once per delivery. Returns deliveries reported."""
    from zhengtong.exchange.models import Delivery
    from zhengtong.exchange.stats import sign_limit_seconds

    now = now or timezone.now()
    limit = sign_limit_seconds()
    # wall-clock time is at least the working time, so this bound never misses one
    candidates = list(Delivery.objects.filter(status=Delivery.Status.PENDING,
                                              delivered_at__lte=now - timedelta(seconds=limit)).order_by("pk"))
    told = set(Notification.objects.filter(event=Event.UNSIGNED, key__in=[f"unsigned:{d.pk}" for d in candidates])
               .values_list("key", flat=True))
    late = [d for d in candidates if f"unsigned:{d.pk}" not in told
            and working_hours.working_seconds_between(d.delivered_at, now) >= limit]
    hours = f"{limit / 3600:g}"
    with transaction.atomic():
        for d in _deliveries(late):
            notify(Event.UNSIGNED, f"unsigned:{d.pk}", _sending_side(d), title=f"超时未签收：{d.document.title}",
                   body=f"{d.unit.name}收到《{d.document.title}》已超过 {hours} 个工作小时仍未签收，可在发送情况中催办。",
                   url=reverse("documents:detail", args=[d.document_id]), now=now)
    return len(late)


DELEGATION_WINDOW = timedelta(minutes=15)  # the first scan's look-back; later scans start where the last one ended
DELEGATION_MAX_CATCH_UP = timedelta(days=2)  # a worker down longer does not announce long-past hand-overs


def send_delegation_notices(now: datetime | None = None) -> int:
    now = now or timezone.now()
    last = ReminderRun.objects.filter(name="delegation-scan", slot="last").first()
    since = max(last.at if last else now - DELEGATION_WINDOW, now - DELEGATION_MAX_CATCH_UP)
    since = min(since, now - DELEGATION_WINDOW)  # overlap: the keys keep each notice to once
    started = Delegation.objects.filter(Q(starts_at__gt=since) | Q(created_at__gt=since), starts_at__lte=now,
                                        ends_at__gt=now, revoked_at__isnull=True)
    ended = Delegation.objects.filter(Q(ends_at__gt=since, ends_at__lte=now, revoked_at__isnull=True)
                                      | Q(revoked_at__gt=since, starts_at__lte=F("revoked_at")))
    count = 0
    with transaction.atomic():
        for kind, rows in (("start", started), ("end", ended)):
            for d in rows.select_related("principal__person", "principal__unit", "delegate__person",
                                         "delegate__unit"):
                a, b = d.principal.person.name, d.delegate.person.name
                until = f"{timezone.localtime(d.ends_at):%-m月%-d日 %H:%M}"
                if kind == "start":
                    title = f"AB岗代理开始：{b}代{a}办理"
                    body = f"即日起至 {until}，{a}的待办由{b}代为办理（{d.reason or '未填事由'}）。"
                else:
                    title = f"AB岗代理结束：{a}的待办回到本人"
                    body = f"{b}代{a}办理已结束，未办完的待办回到{a}。"
                count += len(notify(Event.DELEGATION, f"delegation:{d.pk}:{kind}", [d.principal, d.delegate],
                                    title=title, body=body, url=reverse("flow:todo"), now=now))
        ReminderRun.objects.update_or_create(name="delegation-scan", slot="last", defaults={"at": now})
    return count


LEADER_DUTIES = (Duty.PRINCIPAL, Duty.DEPUTY)
SUMMARY_LISTED = 10


def send_weekly_overdue_summary(now: datetime | None = None) -> int:
    """Each unit's leaders get the 红牌 tasks of their unit, once per ISO week. Returns the leaders told."""
    from zhengtong.flow.models import Task

    now = now or timezone.now()
    year, week, _ = timezone.localdate(now).isocalendar()
    told = 0
    with transaction.atomic():
        run = _once("overdue-weekly", f"{year}-W{week:02d}")
        if run is None:
            return 0
        overdue = defaultdict(list)
        for task in (Task.objects.filter(status=Task.Status.OPEN, kind=Task.Kind.TODO, deadline_status="red",
                                         instance__status="running")
                     .select_related("instance", "assignee__person").order_by("deadline", "pk")):
            overdue[task.instance.unit_id].append(task)
        leaders = defaultdict(list)
        for identity in (Identity.objects.filter(unit_id__in=overdue, active=True, duty__code__in=LEADER_DUTIES)
                         .select_related("person", "unit")):
            leaders[identity.unit_id].append(identity)
        for unit_id, tasks in overdue.items():
            lines = [f"{i}. 《{t.instance.title}》{t.node_name}，{t.assignee.person.name}，时限 {t.deadline:%-m月%-d日}"
                     for i, t in enumerate(tasks[:SUMMARY_LISTED], 1)]
            if len(tasks) > SUMMARY_LISTED:
                lines.append(f"……另有 {len(tasks) - SUMMARY_LISTED} 件")
            told += len(notify(Event.OVERDUE_SUMMARY, f"overdue:{year}-W{week:02d}:{unit_id}", leaders[unit_id],
                               title=f"本单位超期未办 {len(tasks)} 件（{year} 年第 {week} 周）",
                               body="\n".join(lines), now=now))
        run.sent = told
        run.save(update_fields=["sent"])
    return told
