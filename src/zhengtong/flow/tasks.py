"""Background work of the process engine: the nightly 黄牌 / 红牌 refresh of open tasks (issue #3 §5) and AB岗
following delegations that start or end (§2)."""
from __future__ import annotations

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengtong.audit.tasks import at_local_time

DAILY_AT = (0, 5)  # local time, just after midnight: the day's deadlines turn yellow or red


@db_periodic_task(at_local_time(*DAILY_AT))
def refresh_deadlines_daily():
    from .runtime import refresh_deadline_statuses

    return refresh_deadline_statuses()


REAPPLY_WINDOW = timedelta(minutes=10)  # overlaps the 5-minute schedule: a late run misses nothing (idempotent)


@db_periodic_task(crontab(minute="*/5"))
def reapply_delegations_due():
    """AB岗: open tasks follow delegations that started, ended or were revoked in the last minutes."""
    from django.utils import timezone

    from .services import reapply_delegations_between

    now = timezone.now()
    return len(reapply_delegations_between(now - REAPPLY_WINDOW, now))
