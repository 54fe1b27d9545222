"""Background work of the seals app: the daily CRL re-issue, so verification (revocation mode "require") never meets a
CRL past its nextUpdate."""
from __future__ import annotations

from huey.contrib.djhuey import db_periodic_task

from zhengtong.audit.tasks import at_local_time

DAILY_AT = (0, 20)  # local time


@db_periodic_task(at_local_time(*DAILY_AT))
def refresh_crl_daily():
    from .services import refresh_crl_if_due

    return refresh_crl_if_due()
