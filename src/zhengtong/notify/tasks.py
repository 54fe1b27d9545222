"""Huey tasks of the notifications: the outbox worker (queued when a message is written, and every minute as a
safety net) and the scheduled reminders, in local time (`audit.tasks.at_local_time`; Huey's crontab is UTC)."""
from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from zhengtong.audit.tasks import at_local_time

logger = logging.getLogger(__name__)
WEEKLY_AT = (8, 30)  # Monday, local time


@db_task()
def send_notifications():
    from .outbox import deliver_due

    return deliver_due()


@db_periodic_task(crontab(minute="*"))
def send_notifications_due():
    from .outbox import deliver_due

    return deliver_due()


@db_periodic_task(crontab(minute="*"))
def sign_reminders():
    """Every minute: acts when a 签收 reminder time has come (reminders.send_sign_reminders records each one)."""
    from zhengtong.core.calendar import CalendarDataMissing

    from .reminders import send_sign_reminders

    try:
        return send_sign_reminders()
    except CalendarDataMissing as exc:  # the 系统管理员 must enter the year's arrangement; the home page says so
        logger.warning("签收提醒未发送：%s", exc.message)
        return 0


@db_periodic_task(crontab(minute="*/10"))
def unsigned_alerts():
    from zhengtong.core.calendar import CalendarDataMissing

    from .reminders import send_unsigned_alerts

    try:
        return send_unsigned_alerts()
    except CalendarDataMissing as exc:  # working hours cannot be counted without the year's arrangement (R8.2)
        logger.warning("超时未签收提醒未发送：%s", exc.message)
        return 0


@db_periodic_task(crontab(minute="*/5"))
def delegation_notices():
    from .reminders import send_delegation_notices

    return send_delegation_notices()


@db_periodic_task(at_local_time(*WEEKLY_AT))
def weekly_overdue_summary():
    from django.utils import timezone

    from .reminders import send_weekly_overdue_summary

    if timezone.localdate().weekday() != 0:
        return 0
    return send_weekly_overdue_summary()
