"""Signals of the exchange for the notifications (issue #6), sent inside the transaction of the change, so the
notification outbox commits or rolls back with it. `deliveries_arrived` is sent robustly: a listener failing in
Python never undoes an arrival.

- `deliveries_arrived(sender=Delivery, deliveries=[...])` — documents arrived in units' 交换箱 (the 收发员).
- `delivery_signed(sender=Delivery, delivery=…)`, `delivery_refused(…)`, `delivery_recalled(…)` — the other side.
- `delivery_urged(sender=Delivery, deliveries=[...], message=str)` — 催办 of recipients that have not signed.
"""
from __future__ import annotations

from django.dispatch import Signal

deliveries_arrived = Signal()
delivery_signed = Signal()
delivery_refused = Signal()
delivery_recalled = Signal()
delivery_urged = Signal()
