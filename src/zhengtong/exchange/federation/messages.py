"""What the exchange services send to other instances, each written to the outbox inside their transaction:
documents at 核发 and 重发, receipts (送达, 签收, 退文, 撤回) back to a document's origin, and requests (撤回, 催办)
from the origin to the instance that received it. Units are named by 统一社会信用代码 across instances."""
from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from . import directory, outbox
from .models import Envelope, PendingReceipt, RemoteInstance, RemoteUnit


def remote_unit_ids(unit_ids) -> set[int]:
    return set(RemoteUnit.objects.filter(unit_id__in=list(unit_ids)).values_list("unit_id", flat=True))


def send_document(document, deliveries) -> list[Envelope]:
    """One envelope per destination instance: the sealed PDF, the attachments and the metadata, addressed to the
    recipients there."""
    remote = directory.remote_units(d.unit_id for d in deliveries)
    by_instance: dict[int, list] = defaultdict(list)
    for delivery in deliveries:
        if delivery.unit_id in remote:  # deliveries to this instance's own units need no envelope
            by_instance[remote[delivery.unit_id].instance_id].append(delivery)
    if not by_instance:
        return []
    files = _files(document)
    meta = {"title": document.title, "doc_kind": document.doc_kind, "doc_number": document.doc_number,
            "urgency": document.urgency, "classification": document.classification, "body_html": document.body_html,
            "body_text": document.body_text, "signer_names": document.signer_names,
            "main_recipients_text": document.main_recipients_text,
            "issued_date": document.issued_date.isoformat() if document.issued_date else "",
            "sealed_sha256": document.sealed_sha256,
            "sealed_at": document.sealed_at.isoformat() if document.sealed_at else ""}
    sender = directory.unit_entry(document.issuing_unit or document.unit)
    rows = []
    for instance_pk, group in by_instance.items():
        instance = RemoteInstance.objects.get(pk=instance_pk)
        recipients = [{**directory.unit_entry(d.unit), "kind": d.kind, "copies": d.copies,
                       "print_limit": d.print_limit} for d in group]
        rows.append(outbox.seal_and_put(kind="document", to=instance, sender_unit=sender, recipients=recipients,
                                        document=meta, files=files, document_row=document, deliveries=group,
                                        summary=f"{document.doc_number} {document.title}"))
    return rows


def _files(document) -> list[tuple[str, str, bytes]]:
    files = []
    if document.sealed_pdf:
        with document.sealed_pdf.open("rb") as handle:
            files.append((f"{document.doc_number or document.pk}.pdf", "sealed_pdf", handle.read()))
    taken = {name for name, _, _ in files}
    for attachment in document.attachments.filter(role="attachment").order_by("order", "pk"):
        name = attachment.filename
        while name in taken:
            name = f"{attachment.pk}-{name}"
        taken.add(name)
        with attachment.file.open("rb") as handle:
            files.append((name, "attachment", handle.read()))
    return files


def send_receipt(inbound: Envelope, events: list[dict]) -> None:
    """Receipts about a document we received, back to its origin: queued here, sealed in batches by the worker
    (outbox.pack_receipts)."""
    if not events:
        return
    PendingReceipt.objects.bulk_create([PendingReceipt(origin_instance=inbound.origin_instance,
                                                       about=inbound.envelope_id, event=event) for event in events])
    transaction.on_commit(outbox.kick_soon, robust=True)  # a queue that is down: the periodic drain sends them


def received_envelope(delivery) -> Envelope | None:
    return delivery.envelopes.filter(direction=Envelope.Direction.IN).first()


def sent_envelope(delivery) -> Envelope | None:
    return delivery.envelopes.filter(direction=Envelope.Direction.OUT, kind=Envelope.Kind.DOCUMENT).first()


def answered(delivery, event: str, *, by: str = "", note: str = "") -> None:
    """A local recipient signed for or refused a document that came from another instance: tell its origin."""
    inbound = received_envelope(delivery)
    if inbound is not None:
        send_receipt(inbound, [{"unit": delivery.unit.credit_code, "event": event, "by": by, "note": note,
                                "at": timezone.now().isoformat()}])


def request(sent: Envelope, deliveries, action: str, *, note: str = "") -> None:
    """撤回 or 催办 of deliveries at another instance, sent to where the document went."""
    to = RemoteInstance.objects.get(instance_id=sent.to_instance)
    events = [{"unit": d.unit.credit_code, "event": action, "note": note} for d in deliveries]
    outbox.seal_and_put(kind="request", to=to, sender_unit={}, recipients=[],
                        document={"about": sent.envelope_id, "events": events},
                        summary=f"{'撤回' if action == 'recall' else '催办'} {sent.summary}")
