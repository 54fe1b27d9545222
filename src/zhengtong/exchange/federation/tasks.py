"""The outbox worker on Huey: a drain is queued when an envelope is written (on commit), and every minute as a
safety net (a worker that died mid-send, a lease that ran out, a retry whose time came)."""
from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def deliver_outbox():
    from .models import LocalInstance
    from .outbox import deliver_due

    return deliver_due() if LocalInstance.objects.exists() else 0


@db_periodic_task(crontab(minute="*"))
def deliver_outbox_due():
    from .models import LocalInstance
    from .outbox import deliver_due

    return deliver_due(limit=10_000) if LocalInstance.objects.exists() else 0
