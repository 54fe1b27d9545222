"""Background work of the audit trail: the daily chain verification (R7.3) and the auditor's "verify now".

Both walk the whole chain (verify.verify_chain) and append `audit.chain_verified` or
`audit.chain_broken` with the summary, so the result is itself in the audit trail and shows in the
auditor's console. A broken chain is also logged at ERROR level for the operators' monitoring.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from huey.contrib.djhuey import db_periodic_task, db_task

from zhengtong.core.context import acting_as

logger = logging.getLogger(__name__)
DAILY_AT = (2, 30)  # local time (settings.TIME_ZONE), when offices are empty


def at_local_time(hour: int, minute: int):
    """A Huey periodic-task test that fires once a day at hour:minute in settings.TIME_ZONE.

    Huey passes the consumer's clock as naive UTC (its default, `utc=True`) or naive server-local
    time; either way it is read as a moment and converted to the platform's time zone, so 02:30
    means 02:30 in 北京时间 whatever the server's own zone.
    """

    def validate(timestamp: datetime) -> bool:
        if timestamp.tzinfo is None:
            if settings.HUEY.get("utc", True):
                timestamp = timestamp.replace(tzinfo=UTC)
            else:
                timestamp = timestamp.astimezone()  # naive server-local time
        local = timezone.localtime(timestamp)
        return (local.hour, local.minute) == (hour, minute)

    return validate


def run_verification(requested_by: int | None = None):
    from . import services
    from .verify import verify_chain

    with acting_as(channel="task", username="审计链校验任务", user_id=None, ip=""):
        report = verify_chain()
        services.record_verification(report, requested_by=requested_by)
    if not report.ok:
        logger.error("audit chain broken: %s", report.summary())
    else:
        # the head hash in the operators' logs is an anchor outside the database: a chain rebuilt
        # wholesale by someone who can write the table would not end in the hash logged here
        logger.info("audit chain intact: %d records, head seq %d hash %s", report.checked, report.head_seq,
                    report.head_hash)
    return report


@db_task()
def verify_audit_chain(requested_by: int | None = None):
    """Verify on request (the auditor's console button)."""
    return run_verification(requested_by).ok


@db_periodic_task(at_local_time(*DAILY_AT))
def verify_audit_chain_daily():
    """Verify every night at 02:30 local time."""
    return run_verification().ok
