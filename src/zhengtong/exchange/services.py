"""公文交换 inside one instance (issue #5 §1): the only writer of deliveries and their receipts.

Who may do what: the recipient unit's 收发员 opens, signs for (签收) and refuses (退文) a delivery; the sending
unit's 收发员 — or whoever dispatched it — recalls (撤回) an unsigned delivery, urges (催办) recipients that have not
signed and resends (重发) after a 退文. Anyone else gets 404 (a delivery's existence is not disclosed), recorded.
Each change locks the delivery row, so 签收 and 撤回 racing each other end with exactly one winner; the loser gets a
409 with a message saying what happened.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import Conflict, NotFound, ServiceError
from zhengtong.documents.services.outgoing import set_dispatch_withdrawn
from zhengtong.flow.services.common import person_of
from zhengtong.org.models import Duty, Identity

from . import signals
from .federation import messages
from .models import Delivery, DeliveryEvent

Kind = DeliveryEvent.Kind
Status = Delivery.Status
MAX_REASON = 200
NOT_PENDING = {
    Status.SIGNED: ("exchange.already_signed", "该文件已由收文单位签收"),
    Status.REFUSED: ("exchange.already_refused", "该文件已被退文"),
    Status.RECALLED: ("exchange.recalled", "发文单位已撤回该文件"),
}


def on_dispatch_recorded(sender, document, dispatches, actor, all_local: bool = False, **kwargs) -> list[Delivery]:
    """核发 (documents.services.outgoing, inside its transaction): one delivery per recipient unit, in its 交换箱.
    `all_local`: the caller knows every recipient is this instance's own (a document arriving from another)."""
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create([
        Delivery(dispatch=d, document=document, sender_unit_id=document.unit_id, unit_id=d.unit_id, kind=d.kind,
                 copies=d.copies, print_limit=d.print_limit, delivered_at=now) for d in dispatches])
    remote = set() if all_local else messages.remote_unit_ids(d.unit_id for d in dispatches)
    DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery=x, kind=Kind.SENT_REMOTE if x.unit_id in remote
                                                     else Kind.DELIVERED, at=now, identity_id=d.dispatched_by_id)
                                       for x, d in zip(deliveries, dispatches, strict=True)])
    record("exchange.delivered", obj=document, user=actor, unit=document.unit,
           detail={"deliveries": [x.pk for x in deliveries], "units": [x.unit_id for x in deliveries]})
    if remote:  # another instance's units: their envelopes are in the outbox when this 核发 commits
        messages.send_document(document, [x for x in deliveries if x.unit_id in remote])
    local = [x for x in deliveries if x.unit_id not in remote]
    # robust: a listener that fails (in Python) must not undo the 核发 or the arrival
    signals.deliveries_arrived.send_robust(sender=Delivery, deliveries=local)
    return deliveries


# --- who is acting ------------------------------------------------------------------------------------------

def clerk_identity(actor, unit_id: int) -> Identity | None:
    person = person_of(actor)
    return (Identity.objects.filter(person=person, active=True, unit_id=unit_id, duty__code=Duty.DOC_CLERK)
            .select_related("unit").first())


def _not_found(actor, delivery_id, code: str) -> NotFound:
    security_event("permission.denied", user=actor, outcome="denied", object_type="exchange.delivery",
                   object_id=delivery_id, detail={"code": code})
    return NotFound("exchange.not_found", "交换件不存在或您无权办理")


def _delivery(delivery_id) -> Delivery | None:
    try:
        return Delivery.objects.select_related("document", "unit", "sender_unit").filter(pk=int(delivery_id)).first()
    except (TypeError, ValueError):
        return None


def for_recipient(actor, delivery_id) -> tuple[Delivery, Identity]:
    """The delivery and the actor's 收发员 identity in its receiving unit; 404 otherwise."""
    delivery = _delivery(delivery_id)
    identity = clerk_identity(actor, delivery.unit_id) if delivery else None
    if identity is None:
        raise _not_found(actor, delivery_id, "exchange.not_recipient_clerk")
    return delivery, identity


def sender_identity(actor, document) -> Identity | None:
    """The actor's identity entitled to act for the sender: the sending unit's 收发员, or the one who dispatched."""
    identity = clerk_identity(actor, document.unit_id)
    if identity is not None:
        return identity
    person = person_of(actor)
    dispatched_by = document.dispatches.values_list("dispatched_by_id", flat=True).first()
    return Identity.objects.filter(pk=dispatched_by, person=person, active=True).first() if dispatched_by else None


def for_sender(actor, delivery_id) -> tuple[Delivery, Identity]:
    """The delivery and the actor's identity on its sending side: the 收发员 of the unit that sent it (the
    document's unit, or the unit that forwarded it), or whoever dispatched it."""
    delivery = _delivery(delivery_id)
    identity = None
    if delivery is not None:
        identity = clerk_identity(actor, delivery.sender_unit_id)
        if identity is None and delivery.forwarded_from_id is None:
            identity = sender_identity(actor, delivery.document)
    if identity is None:
        raise _not_found(actor, delivery_id, "exchange.not_sender")
    return delivery, identity


def _locked_pending(delivery_id) -> Delivery:
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != Status.PENDING:
        code, message = NOT_PENDING[delivery.status]
        raise Conflict(code, message)
    return delivery


def _event(delivery, kind, identity, now, note: str = "") -> None:
    DeliveryEvent.objects.create(delivery=delivery, kind=kind, at=now, identity=identity, note=note[:200])


def _reason(reason: str, *, required: bool, what: str) -> str:
    reason = (reason or "").strip()
    if required and len(reason) < 2:
        raise ServiceError("exchange.reason_required", f"请填写{what}理由")
    if len(reason) > MAX_REASON:
        raise ServiceError("exchange.reason_too_long", f"{what}理由不能超过 {MAX_REASON} 个字")
    return reason


# --- the recipient ------------------------------------------------------------------------------------------

def open_delivery(actor, delivery_id) -> Delivery:
    """The recipient 收发员 looks at it: the first look is a receipt (已查看)."""
    delivery, identity = for_recipient(actor, delivery_id)
    if delivery.opened_at is None:
        now = timezone.now()
        with transaction.atomic():
            if Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=now,
                                                                                       opened_by=identity):
                _event(delivery, Kind.OPENED, identity, now)
        delivery.refresh_from_db()
    return delivery


def sign_delivery(actor, delivery_id):
    """签收: the incoming document is registered in the receiving unit (收文号, the sealed PDF as its 正文原件) and
    its 收文 flow starts (R1.6); returns that document."""
    from zhengtong.documents import services as documents

    delivery, identity = for_recipient(actor, delivery_id)
    now = timezone.now()
    with transaction.atomic():
        delivery = _locked_pending(delivery.pk)
        sent = delivery.document
        data = b""
        if sent.sealed_pdf:
            with sent.sealed_pdf.open("rb") as f:
                data = f.read()
        incoming = documents.register_incoming(
            actor, title=sent.title, doc_kind=sent.doc_kind, source_unit_id=sent.issuing_unit_id or sent.unit_id,
            source_number=sent.doc_number, urgency=sent.urgency, classification=sent.classification,
            body_html=sent.body_html, received_at=now, identity_id=identity.pk,
            scan_filename=f"{sent.doc_number or sent.pk}.pdf" if data else "", scan_data=data or None,
            scan_title="来文（电子公文，已用印）")
        delivery.status, delivery.signed_at, delivery.signed_by, delivery.incoming = Status.SIGNED, now, identity, incoming
        if delivery.opened_at is None:
            delivery.opened_at, delivery.opened_by = now, identity
        delivery.save()
        _event(delivery, Kind.SIGNED, identity, now, incoming.receipt_number)
        messages.answered(delivery, "signed", by=identity.person.name, note=incoming.receipt_number)
        record("exchange.signed", obj=sent, user=actor, identity=identity, unit=identity.unit,
               detail={"delivery": delivery.pk, "incoming": incoming.pk, "receipt_number": incoming.receipt_number})
        signals.delivery_signed.send(sender=Delivery, delivery=delivery)
    return incoming


def refuse_delivery(actor, delivery_id, *, reason: str) -> Delivery:
    """拒收/退文: back to the sender with the reason; the sender may fix and 重发."""
    delivery, identity = for_recipient(actor, delivery_id)
    reason = _reason(reason, required=True, what="退文")
    now = timezone.now()
    with transaction.atomic():
        delivery = _locked_pending(delivery.pk)
        delivery.status, delivery.refused_at, delivery.refused_by, delivery.reason = Status.REFUSED, now, identity, reason
        delivery.save(update_fields=["status", "refused_at", "refused_by", "reason"])
        _event(delivery, Kind.REFUSED, identity, now, reason)
        messages.answered(delivery, "refused", by=identity.person.name, note=reason)
        record("exchange.refused", obj=delivery.document, user=actor, identity=identity, unit=identity.unit,
               detail={"delivery": delivery.pk, "reason": reason})
        signals.delivery_refused.send(sender=Delivery, delivery=delivery)
    return delivery


def record_print(actor, delivery_id, *, copies: int = 1) -> Delivery:
    """The recipient 收发员 prints copies of the document: counted against the print limit set at 核发."""
    delivery, identity = for_recipient(actor, delivery_id)
    try:
        copies = int(copies)
    except (TypeError, ValueError):
        copies = 0
    if not 1 <= copies <= 1000:
        raise ServiceError("exchange.invalid_copies", "打印份数应为 1–1000")
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status not in Delivery.LIVE:
            code, message = NOT_PENDING[delivery.status]
            raise Conflict(code, message)
        if delivery.print_limit and delivery.printed + copies > delivery.print_limit:
            raise Conflict("exchange.print_limit",
                           f"该文限印 {delivery.print_limit} 份，已打印 {delivery.printed} 份，不能再打印 {copies} 份")
        delivery.printed += copies
        delivery.save(update_fields=["printed"])
        _event(delivery, Kind.PRINTED, identity, now, f"{copies} 份")
        record("exchange.printed", obj=delivery.document, user=actor, identity=identity, unit=identity.unit,
               detail={"delivery": delivery.pk, "copies": copies, "printed": delivery.printed})
    return delivery


def forward_delivery(actor, delivery_id, *, unit_ids) -> list[Delivery]:
    """转发: a unit that has signed for a document sends it on to its own subordinate units (their 交换箱); the
    forwarding unit's 收发员 then answers for those deliveries (receipts, 撤回, 重发, 催办)."""
    from zhengtong.documents.models import Dispatch
    from zhengtong.documents.services.common import refresh_readers
    from zhengtong.org.models import Unit

    delivery, identity = for_recipient(actor, delivery_id)
    try:
        wanted = list(dict.fromkeys(int(pk) for pk in unit_ids or []))
    except (TypeError, ValueError) as exc:
        raise ServiceError("exchange.invalid_unit", "转发单位应为单位编号") from exc
    if not wanted:
        raise ServiceError("exchange.invalid_unit", "请选择要转发的下级单位")
    targets = {u.pk: u for u in Unit.objects.filter(pk__in=wanted, parent_id=delivery.unit_id, active=True)}
    if len(targets) != len(wanted):
        raise ServiceError("exchange.not_subordinate", "只能转发给本单位的下级单位")
    now = timezone.now()
    with transaction.atomic():
        source = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if source.status != Status.SIGNED:
            raise Conflict("exchange.sign_first", "请先签收，再转发给下级单位")
        document = source.document
        existing = {d.unit_id: d for d in Dispatch.objects.filter(document=document, unit_id__in=wanted)}
        live = set(Delivery.objects.filter(document=document, unit_id__in=wanted, status__in=Delivery.LIVE)
                   .values_list("unit_id", flat=True))
        if live:
            names = "、".join(targets[u].name for u in sorted(live))
            raise Conflict("exchange.already_delivered", f"{names}已收到该文件，无需转发")
        created = []
        for unit_id in wanted:
            dispatch = existing.get(unit_id)
            if dispatch is None:
                dispatch = Dispatch.objects.create(document=document, unit_id=unit_id, kind="main", copies=1,
                                                   dispatched_by=identity, dispatched_at=now)
            else:
                set_dispatch_withdrawn(dispatch, False)
            new = Delivery.objects.create(dispatch=dispatch, document=document, sender_unit_id=source.unit_id,
                                          unit_id=unit_id, kind="main", delivered_at=now, forwarded_from=source)
            _event(new, Kind.DELIVERED, identity, now, f"{source.unit.name}转发")
            created.append(new)
        _event(source, Kind.FORWARDED, identity, now, "、".join(targets[u].name for u in wanted))
        refresh_readers([document])  # the subordinate units' 收发员 may read it now
        record("exchange.forwarded", obj=document, user=actor, identity=identity, unit=identity.unit,
               detail={"delivery": source.pk, "units": wanted, "deliveries": [d.pk for d in created]})
        signals.deliveries_arrived.send_robust(sender=Delivery, deliveries=created)
    return created


# --- the sender ---------------------------------------------------------------------------------------------

def recall_delivery(actor, delivery_id, *, reason: str = "") -> Delivery:
    """撤回 a delivery not yet signed for: the recipient sees it withdrawn."""
    delivery, identity = for_sender(actor, delivery_id)
    reason = _reason(reason, required=False, what="撤回")
    now = timezone.now()
    sent = messages.sent_envelope(delivery)
    if sent is not None:
        return _request_remote_recall(actor, delivery, identity, sent, reason, now)
    with transaction.atomic():
        delivery = _locked_pending(delivery.pk)
        delivery.status, delivery.recalled_at, delivery.recalled_by = Status.RECALLED, now, identity
        delivery.reason = reason
        delivery.save(update_fields=["status", "recalled_at", "recalled_by", "reason"])
        set_dispatch_withdrawn(delivery.dispatch, True)
        _event(delivery, Kind.RECALLED, identity, now, reason)
        record("exchange.recalled", obj=delivery.document, user=actor, identity=identity, unit=identity.unit,
               detail={"delivery": delivery.pk, "unit": delivery.unit_id, "reason": reason})
        signals.delivery_recalled.send(sender=Delivery, delivery=delivery)
    return delivery


def _request_remote_recall(actor, delivery, identity, sent, reason: str, now) -> Delivery:
    """撤回 at another instance is decided there (its delivery row's lock, as here): we ask, and the answer comes
    back as a receipt — 已撤回, or 已签收 if 签收 won."""
    with transaction.atomic():
        delivery = _locked_pending(delivery.pk)
        if delivery.events.filter(kind=Kind.RECALL_REQUESTED).exists():
            raise Conflict("exchange.recall_requested", "已申请撤回，正在等待对方平台确认")
        messages.request(sent, [delivery], "recall", note=reason)
        _event(delivery, Kind.RECALL_REQUESTED, identity, now, reason)
        record("exchange.recall_requested", obj=delivery.document, user=actor, identity=identity,
               unit=identity.unit, detail={"delivery": delivery.pk, "unit": delivery.unit_id, "reason": reason})
    return delivery


def resend_delivery(actor, delivery_id) -> Delivery:
    """重发 after a 退文 or 撤回: a new pending delivery to the same unit."""
    delivery, identity = for_sender(actor, delivery_id)
    now = timezone.now()
    with transaction.atomic():
        old = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if old.status not in (Status.REFUSED, Status.RECALLED):
            raise Conflict("exchange.not_returned", "只有被退文或已撤回的文件可以重发")
        if Delivery.objects.filter(dispatch_id=old.dispatch_id, status__in=Delivery.LIVE).exists():
            raise Conflict("exchange.already_resent", "该单位已有一份待签收或已签收的文件")
        new = Delivery.objects.create(dispatch_id=old.dispatch_id, document_id=old.document_id,
                                      sender_unit_id=old.sender_unit_id, unit_id=old.unit_id, kind=old.kind,
                                      copies=old.copies, print_limit=old.print_limit, delivered_at=now,
                                      resend_of=old, forwarded_from=old.forwarded_from)  # a forward stays one
        set_dispatch_withdrawn(old.dispatch, False)
        _event(old, Kind.RESENT, identity, now, "已重新发送")
        remote = bool(messages.send_document(old.document, [new]))  # [] for a unit of this instance
        _event(new, Kind.SENT_REMOTE if remote else Kind.DELIVERED, identity, now, "重发")
        record("exchange.resent", obj=old.document, user=actor, identity=identity, unit=identity.unit,
               detail={"delivery": old.pk, "new_delivery": new.pk, "unit": old.unit_id})
        signals.deliveries_arrived.send_robust(sender=Delivery, deliveries=[new])
    return new


def sending_side(actor, document) -> tuple[Identity | None, list[int]]:
    """The actor's identity on the sending side of a document and the units whose deliveries they answer for: the
    document's sender (its unit's 收发员 or the dispatcher: every unit it sent to directly), or the 收发员 of a unit
    that forwarded it (the deliveries that unit forwarded)."""
    identity = sender_identity(actor, document)
    if identity is not None:
        return identity, [document.unit_id]
    forwarders = set(Delivery.objects.filter(document=document, forwarded_from__isnull=False)
                     .values_list("sender_unit_id", flat=True))
    for unit_id in sorted(forwarders):
        identity = clerk_identity(actor, unit_id)
        if identity is not None:
            return identity, [unit_id]
    return None, []


def urge_dispatch(actor, document, *, message: str = "") -> list[Delivery]:
    """催办 every recipient that has not signed for the document yet (of the actor's sending side); returns those
    deliveries."""
    identity, units = sending_side(actor, document)
    if identity is None:
        raise _not_found(actor, document.pk, "exchange.not_sender")
    message = _reason(message, required=False, what="催办")
    now = timezone.now()
    with transaction.atomic():
        pending = list(Delivery.objects.select_for_update().filter(document=document, status=Status.PENDING,
                                                                   sender_unit_id__in=units))
        if not pending:
            raise ServiceError("exchange.nothing_to_urge", "没有待签收的收文单位，无需催办")
        for delivery in pending:
            delivery.urged_at, delivery.urge_count = now, delivery.urge_count + 1
            delivery.save(update_fields=["urged_at", "urge_count"])
            _event(delivery, Kind.URGED, identity, now, message)
        for sent, group in _by_sent_envelope(pending):
            messages.request(sent, group, "urge", note=message)
        record("exchange.urged", obj=document, user=actor, identity=identity, unit=identity.unit,
               detail={"deliveries": [d.pk for d in pending], "message": message})
        signals.delivery_urged.send(sender=Delivery, deliveries=pending, message=message)
    return pending


def _by_sent_envelope(deliveries) -> list[tuple]:
    """Deliveries to other instances' units, grouped by the envelope that carried them there."""
    from .federation.models import Envelope

    by_id = {d.pk: d for d in deliveries}
    links = (Envelope.deliveries.through.objects.filter(delivery_id__in=by_id, envelope__direction="out",
                                                          envelope__kind="document").select_related("envelope"))
    groups: dict = {}
    for link in links:  # one query for all of them
        groups.setdefault(link.envelope, []).append(by_id[link.delivery_id])
    return list(groups.items())


# --- receipts and requests from other instances (federation.inbox, inside its transaction) -----------------

def apply_remote_arrivals(arrivals, *, instance_name: str) -> None:
    """送达 receipts from another instance, (delivery, when) pairs, in one insert: the routine receipt changes no
    status, so its DeliveryEvent is the whole record (the receiving instance audits the arrival)."""
    DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery=delivery, kind=Kind.DELIVERED, at=at,
                                                     note=f"已送达{instance_name}"[:200]) for delivery, at in arrivals])


def apply_remote_receipt(delivery, *, event: str, at, by: str, note: str, instance_name: str) -> None:
    """What happened to our delivery at another instance: 签收, 退文, 撤回 (or a 撤回 that lost to 签收); 送达 is
    apply_remote_arrivals."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    who = f"{instance_name} {by}".strip()
    if event == "signed" and delivery.status == Status.PENDING:
        delivery.status, delivery.signed_at = Status.SIGNED, at
        delivery.opened_at = delivery.opened_at or at
        delivery.save(update_fields=["status", "signed_at", "opened_at"])
        _event(delivery, Kind.SIGNED, None, at, f"{who}，收文号 {note}" if note else who)
        signals.delivery_signed.send(sender=Delivery, delivery=delivery)
    elif event in ("refused", "undeliverable") and delivery.status == Status.PENDING:
        delivery.status, delivery.refused_at, delivery.reason = Status.REFUSED, at, (note or "对方拒收")[:200]
        delivery.save(update_fields=["status", "refused_at", "reason"])
        _event(delivery, Kind.REFUSED, None, at, f"{who}：{delivery.reason}")
        signals.delivery_refused.send(sender=Delivery, delivery=delivery)
    elif event in ("recalled", "recall_refused") and not delivery.events.filter(
            kind=Kind.RECALL_REQUESTED).exists():
        return  # an answer to a 撤回 we never asked for
    elif event == "recalled" and delivery.status == Status.PENDING:
        requested = delivery.events.filter(kind=Kind.RECALL_REQUESTED).order_by("-at").first()
        delivery.status, delivery.recalled_at = Status.RECALLED, at
        delivery.recalled_by_id = requested.identity_id if requested else None
        delivery.save(update_fields=["status", "recalled_at", "recalled_by"])
        set_dispatch_withdrawn(delivery.dispatch, True)
        _event(delivery, Kind.RECALLED, None, at, f"{instance_name}已确认撤回")
    elif event == "recall_refused":
        _event(delivery, Kind.RECALL_FAILED, None, at, note)
    else:
        return
    record("exchange.remote_receipt", obj=delivery.document, unit=delivery.sender_unit,
           detail={"delivery": delivery.pk, "event": event, "by": who, "note": note})


def apply_remote_request(delivery, *, action: str, note: str) -> dict | None:
    """The origin asks to 撤回 or 催办 a delivery to our unit; returns the outcome to send back (for a 撤回)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    if action == "urge" and delivery.status == Status.PENDING:
        delivery.urged_at, delivery.urge_count = now, delivery.urge_count + 1
        delivery.save(update_fields=["urged_at", "urge_count"])
        _event(delivery, Kind.URGED, None, now, note)
        signals.delivery_urged.send(sender=Delivery, deliveries=[delivery], message=note)
        return None
    if action != "recall":
        return None
    if delivery.status != Status.PENDING:
        return {"event": "recall_refused", "note": NOT_PENDING[delivery.status][1]}
    delivery.status, delivery.recalled_at, delivery.reason = Status.RECALLED, now, note
    delivery.save(update_fields=["status", "recalled_at", "reason"])
    set_dispatch_withdrawn(delivery.dispatch, True)
    _event(delivery, Kind.RECALLED, None, now, note)
    signals.delivery_recalled.send(sender=Delivery, delivery=delivery)
    return {"event": "recalled", "note": note}


def returned_undelivered(deliveries, reason: str) -> None:
    """Deliveries whose envelope cannot reach the other instance come back as 退文 with the reason."""
    for delivery in deliveries:
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == Status.PENDING:
            now = timezone.now()
            delivery.status, delivery.refused_at, delivery.reason = Status.REFUSED, now, reason
            delivery.save(update_fields=["status", "refused_at", "reason"])
            _event(delivery, Kind.REFUSED, None, now, reason)
            record("exchange.undeliverable", obj=delivery.document, unit=delivery.sender_unit,
                   detail={"delivery": delivery.pk, "reason": reason})
            signals.delivery_refused.send(sender=Delivery, delivery=delivery)


# --- 分发名单 ----------------------------------------------------------------------------------------------

def _list_editor(actor, unit_id: int) -> Identity:
    """The unit's 收发员 or 单位系统管理员 keep its lists."""
    person = person_of(actor)
    identity = (Identity.objects.filter(person=person, active=True, unit_id=unit_id,
                                        duty__code__in=[Duty.DOC_CLERK, Duty.UNIT_ADMIN]).select_related("unit")
                .first())
    if identity is None:
        raise _not_found(actor, unit_id, "exchange.not_list_editor")
    return identity


def save_distribution_list(actor, *, unit_id: int, name: str, unit_ids, list_id: int | None = None):
    """Create or replace a saved 分发名单 of a unit (its 收发员 or 单位系统管理员)."""
    from zhengtong.org.models import Unit

    from .models import DistributionList

    identity = _list_editor(actor, unit_id)
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise ServiceError("exchange.invalid_list_name", "名单名称不能为空，且不超过 50 个字")
    try:
        wanted = list(dict.fromkeys(int(pk) for pk in unit_ids or []))
    except (TypeError, ValueError) as exc:
        raise ServiceError("exchange.invalid_unit", "收文单位应为单位编号") from exc
    units = list(Unit.objects.filter(pk__in=wanted, active=True))
    if not units or len(units) != len(wanted):
        raise ServiceError("exchange.invalid_unit", "名单须包含至少一个有效的收文单位")
    with transaction.atomic():
        if list_id is None:
            if DistributionList.objects.filter(unit_id=unit_id, name=name).exists():
                raise Conflict("exchange.list_exists", f"已有名为“{name}”的分发名单")
            row = DistributionList.objects.create(unit_id=unit_id, name=name, updated_by=identity)
        else:
            row = DistributionList.objects.select_for_update().filter(pk=list_id, unit_id=unit_id).first()
            if row is None:
                raise _not_found(actor, list_id, "exchange.list_not_found")
            if DistributionList.objects.filter(unit_id=unit_id, name=name).exclude(pk=row.pk).exists():
                raise Conflict("exchange.list_exists", f"已有名为“{name}”的分发名单")
            row.name, row.updated_by, row.updated_at = name, identity, timezone.now()
            row.save(update_fields=["name", "updated_by", "updated_at"])
        row.units.set(units)
        record("exchange.list_saved", obj=row, user=actor, identity=identity, unit=identity.unit,
               detail={"name": name, "units": [u.pk for u in units]})
    return row


def delete_distribution_list(actor, list_id: int) -> None:
    from .models import DistributionList

    row = DistributionList.objects.filter(pk=list_id).first()
    if row is None:
        raise _not_found(actor, list_id, "exchange.list_not_found")
    identity = _list_editor(actor, row.unit_id)
    with transaction.atomic():
        record("exchange.list_deleted", obj=row, user=actor, identity=identity, unit=identity.unit,
               detail={"name": row.name})
        row.delete()
