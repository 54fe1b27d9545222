"""Signals of the flow app.

For the notification channels (issue #3 §3/§4; the notifications issue connects to them), sent after the
transaction commits (`transaction.on_commit`), so a receiver never sees a change that was rolled back, and a slow
receiver never holds the instance lock:

- `task_urged(sender=Task, task=<the urged open task>, actor=<user>, message=<str>)` — 催办.
- `task_circulated(sender=Task, task=<the task circulated from>, tasks=<the new 待阅 rows>, actor=<user>)` — 传阅.

For data derived from who takes part in a flow (the documents app's search reader keys), sent inside the
transaction, so the derived data commits or rolls back with the change:

- `participants_changed(sender=Task, instance_ids=<set of instance ids>)` — task rows were created or handed to
  someone else (a new step, 传阅, 转办/委派, 加签, AB岗, an administrator's reassignment).
"""
from __future__ import annotations

from django.dispatch import Signal

task_urged = Signal()
task_circulated = Signal()
participants_changed = Signal()


def send_participants_changed(instance_ids) -> None:
    ids = {i for i in instance_ids if i}
    if ids:
        from .models import Task

        participants_changed.send(sender=Task, instance_ids=ids)
