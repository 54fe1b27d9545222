"""Signals of the flow app for the notification channels (issue #3 §3/§4; the notifications issue connects to them).

Both are sent after the transaction commits (`transaction.on_commit`), so a receiver never sees a change that was
rolled back, and a slow receiver never holds the instance lock.

- `task_urged(sender=Task, task=<the urged open task>, actor=<user>, message=<str>)` — 催办.
- `task_circulated(sender=Task, task=<the task circulated from>, tasks=<the new 待阅 rows>, actor=<user>)` — 传阅.
"""
from __future__ import annotations

from django.dispatch import Signal

task_urged = Signal()
task_circulated = Signal()
