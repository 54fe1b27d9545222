"""发送情况 on the document page of a dispatched document (documents.page_panels, registered in apps.py): for the
sending side only (`services.sender_identity`), one row per recipient unit with its current delivery and the
earlier ones (a 退文 or 撤回 followed by a 重发)."""
from __future__ import annotations

from dataclasses import dataclass, field

from zhengtong.documents.page_panels import DocumentPanel

from . import selectors, services
from .models import Delivery

Status = Delivery.Status


@dataclass
class RecipientRow:
    current: Delivery
    earlier: list[Delivery] = field(default_factory=list)

    @property
    def events(self) -> list:
        """Every receipt of this unit, oldest first (the earlier deliveries' too)."""
        rows = [e for d in [*self.earlier, self.current] for e in d.events.all()]
        return sorted(rows, key=lambda e: (e.at, e.pk))


def recipient_rows(deliveries: list[Delivery]) -> list[RecipientRow]:
    """Deliveries grouped by their 核发 record (one per unit; a 重发 keeps it), the newest as the current one."""
    rows: dict[int, RecipientRow] = {}
    for delivery in sorted(deliveries, key=lambda d: d.pk):
        row = rows.get(delivery.dispatch_id)
        if row is None:
            rows[delivery.dispatch_id] = RecipientRow(delivery)
        else:
            row.earlier.append(row.current)
            row.current = delivery
    return sorted(rows.values(), key=lambda r: (r.current.kind != "main", r.current.unit.name))


def receipts_panel(user, document) -> DocumentPanel | None:
    if document.direction != "outgoing" or document.dispatched_at is None:
        return None
    if services.sender_identity(user, document) is None:  # checked quietly: every other reader just sees no panel
        return None
    rows = recipient_rows(selectors.receipts(user, document))
    if not rows:
        return None
    tally = {status: 0 for status in Status.values}
    for row in rows:
        tally[row.current.status] += 1
    return DocumentPanel("exchange/_receipts.html", {
        "rows": rows, "tally": [(Status(s).label, n, s) for s, n in tally.items() if n],
        "unsigned": tally[Status.PENDING]}, stylesheet="exchange/exchange.css")
