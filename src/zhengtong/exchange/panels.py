"""What the exchange adds to other pages, and the reads behind its own page sections:

- 发送情况 on the document page of a dispatched document (documents.page_panels, registered in apps.py): for the
  sending side only (`services.sender_identity`), one row per recipient unit with its current delivery and the
  earlier ones (a 退文 or 撤回 followed by a 重发); the rows of units a recipient forwarded it to are shown too, marked
  with the forwarding unit and without buttons (that unit's 收发员 answers for them);
- 来文交换 on the document page of a 收文 registered by 签收, for the receiving unit's 收发员: back to the delivery
  (转发, 打印);
- on the delivery page: the units it may be forwarded to (转发) and the forwards made, with their receipts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from zhengtong.documents.page_panels import DocumentPanel
from zhengtong.org.models import Duty, Identity, Unit

from . import selectors, services
from .models import Delivery

Status = Delivery.Status
STYLESHEET = "exchange/exchange.css"


@dataclass
class RecipientRow:
    current: Delivery
    earlier: list[Delivery] = field(default_factory=list)
    can_act: bool = True  # the viewer answers for it (撤回, 重发); a unit's forwards are that unit's

    @property
    def events(self) -> list:
        """Every receipt of this unit, oldest first (the earlier deliveries' too)."""
        rows = [e for d in [*self.earlier, self.current] for e in d.events.all()]
        return sorted(rows, key=lambda e: (e.at, e.pk))

    @property
    def forwarded_by(self) -> Unit | None:
        """The unit that forwarded it (转发), None for the document's own 核发. A 重发 of a forward keeps its sender."""
        d = self.current
        return d.sender_unit if d.sender_unit_id != d.document.unit_id else None


def recipient_rows(deliveries: list[Delivery]) -> list[RecipientRow]:
    """Deliveries grouped by their 核发 record (one per unit; a 重发 keeps it), the newest as the current one; the
    document's own recipients first, then those it was forwarded to."""
    rows: dict[int, RecipientRow] = {}
    for delivery in sorted(deliveries, key=lambda d: d.pk):
        row = rows.get(delivery.dispatch_id)
        if row is None:
            rows[delivery.dispatch_id] = RecipientRow(delivery)
        else:
            row.earlier.append(row.current)
            row.current = delivery
    return sorted(rows.values(), key=lambda r: (r.forwarded_by is not None, r.current.kind != "main",
                                                r.current.unit.name))


def _receipts_context(rows: list[RecipientRow]) -> dict:
    tally = {status: 0 for status in Status.values}
    for row in rows:
        tally[row.current.status] += 1
    return {"rows": rows, "tally": [(Status(s).label, n, s) for s, n in tally.items() if n],
            # 催办 reaches the pending deliveries of the viewer's own sending side only (services.urge_dispatch)
            "unsigned": sum(1 for r in rows if r.can_act and r.current.status == Status.PENDING)}


def receipts_panel(user, document) -> DocumentPanel | None:
    if document.direction != "outgoing" or document.dispatched_at is None:
        return None
    if services.sender_identity(user, document) is None:  # checked quietly: every other reader just sees no panel
        return None
    rows = recipient_rows(selectors.receipts(user, document))
    if not rows:
        return None
    for row in rows:
        row.can_act = row.forwarded_by is None
    return DocumentPanel("exchange/_receipts.html", _receipts_context(rows), stylesheet=STYLESHEET)


def received_panel(user, document) -> DocumentPanel | None:
    """On a 收文 that came through the exchange, its receiving unit's 收发员 finds the way back to the delivery."""
    if document.direction != "incoming":
        return None
    person = getattr(user, "person", None)  # quietly: selectors.clerk_units would record a 三员 as refused
    delivery = Delivery.objects.filter(incoming=document).select_related("unit").first() if person else None
    if delivery is None or not Identity.objects.filter(person=person, active=True, unit_id=delivery.unit_id,
                                                       duty__code=Duty.DOC_CLERK).exists():
        return None
    return DocumentPanel("exchange/_received.html", {"delivery": delivery, "can_forward": forward_targets(delivery)},
                         stylesheet=STYLESHEET)


# --- 转发 on the delivery page (the viewer is the receiving unit's 收发员: services.for_recipient let them in) -----

@dataclass
class ForwardTarget:
    unit: Unit
    has_it: bool  # a pending or signed delivery of the document already: 转发 would be refused


def forward_targets(delivery: Delivery) -> list[ForwardTarget]:
    """The receiving unit's active subordinate units (`Unit.parent`, as services.forward_delivery requires), each
    marked when it already has the document."""
    units = list(Unit.objects.filter(parent_id=delivery.unit_id, active=True).order_by("order", "pk"))
    having = set(Delivery.objects.filter(document_id=delivery.document_id, unit__in=units, status__in=Delivery.LIVE)
                 .values_list("unit_id", flat=True))
    return [ForwardTarget(u, u.pk in having) for u in units]


def forwards(delivery: Delivery) -> dict | None:
    """The deliveries this unit forwarded the document to (and their 重发), as the 发送情况 rows; None before any."""
    rows = recipient_rows(list(
        Delivery.objects.filter(document_id=delivery.document_id, sender_unit_id=delivery.unit_id)
        .select_related("document", "sender_unit", "unit", "signed_by__person", "refused_by__person",
                        "recalled_by__person")
        .prefetch_related("events__identity__person")))
    return _receipts_context(rows) if rows else None
