"""Signals of the flow app, all sent inside the transaction of the change, so whatever a receiver writes (the
notification outbox, derived search data) commits or rolls back with it; a receiver that needs the change to be
visible elsewhere first defers its work with `transaction.on_commit`.

For the notifications (issue #6):

- `tasks_assigned(sender=Task, tasks=<Task rows>)` — tasks that someone now holds: a new step, 退回, 转办/委派, 加签,
  传阅 (待阅 rows), AB岗 or a hand-over moving open tasks, an administrator's reassignment.
- `task_urged(sender=Task, task=<the urged open task>, actor=<user>, message=<str>)` — 催办.
- `task_circulated(sender=Task, task=<the task circulated from>, tasks=<the new 待阅 rows>, actor=<user>)` — 传阅.
- `deadline_statuses_changed(sender=Task, tasks=<Task rows>)` — open tasks that just turned 黄牌 or 红牌.

For data derived from who takes part in a flow (the documents app's search reader keys):

- `participants_changed(sender=Task, instance_ids=<set of instance ids>)` — task rows were created or handed to
  someone else (a new step, 传阅, 转办/委派, 加签, AB岗, an administrator's reassignment).
"""
from __future__ import annotations

from django.dispatch import Signal

tasks_assigned = Signal()
task_urged = Signal()
task_circulated = Signal()
deadline_statuses_changed = Signal()
participants_changed = Signal()


def send_participants_changed(instance_ids) -> None:
    ids = {i for i in instance_ids if i}
    if ids:
        from .models import Task

        participants_changed.send(sender=Task, instance_ids=ids)


def send_tasks_assigned(tasks) -> None:
    """Both signals for rows someone now holds: who takes part changed, and each holder is to be told."""
    tasks = [t for t in tasks if t is not None]
    if tasks:
        from .models import Task

        send_participants_changed({t.instance_id for t in tasks})
        tasks_assigned.send(sender=Task, tasks=tasks)
