"""Background work of the process engine: the nightly 黄牌 / 红牌 refresh of open tasks (issue #3 §5)."""
from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from zhengtong.audit.tasks import at_local_time

DAILY_AT = (0, 5)  # local time, just after midnight: the day's deadlines turn yellow or red


@db_periodic_task(at_local_time(*DAILY_AT))
def refresh_deadlines_daily():
    from .runtime import refresh_deadline_statuses

    return refresh_deadline_statuses()
