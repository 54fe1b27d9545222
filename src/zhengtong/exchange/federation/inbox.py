"""Receiving envelopes from a neighbour: check who sent the request (transport signature) and who made the envelope
(its origin's signature and every file's hash), store it once by its id, then act on it in the same transaction:

- a document for this instance: a read-only mirror of the sender's document (the sealed PDF byte for byte) and a
  `Delivery` per local recipient, in their 交换箱 — 签收, 退文 and the rest then work as inside one instance; an
  "arrived" receipt goes back to the origin;
- a receipt for a document we sent: applied to our deliveries (送达, 签收, 退文, 撤回);
- a request (撤回, 催办) about a document we received: applied to the local delivery, the outcome sent back;
- anything for another instance: relayed, unchanged, to its next hop (the origin's signature travels end to end).

A refused envelope (tampered, unknown sender, expired certificate) is answered with its code, audited as a
security event and logged at ERROR (the operators' alert).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import ServiceError

from . import directory, messages, outbox, transport
from .envelope import EnvelopeRefused, Opened, open_envelope, read_manifest, reassemble
from .envelope import head as envelope_head
from .manifest import check as check_manifest
from .models import Envelope, LocalInstance, RemoteInstance

logger = logging.getLogger(__name__)


def _refused(exc: ServiceError, headers, ip: str, size: int) -> ServiceError:
    peer = headers.get(transport.H_INSTANCE, "")[:64]
    logger.error("exchange envelope refused from %s (%s): %s", peer or "?", ip, exc.code)
    security_event("exchange.envelope_refused", object_type="federation.envelope", outcome="denied",
                   detail={"code": exc.code, "message": exc.message, "peer": peer, "ip": ip, "size": size})
    return exc


@dataclass
class Known:
    """This instance and the enabled instances of the directory, loaded once per request."""
    me: LocalInstance
    instances: list[RemoteInstance]

    @classmethod
    def load(cls) -> Known:
        return cls(directory.local(), list(RemoteInstance.objects.filter(enabled=True)))

    def certificates(self, *, neighbours_only: bool = False) -> dict:
        return {r.instance_id: directory.certificate(r.certificate_pem) for r in self.instances
                if r.base_url or not neighbours_only}

    def get(self, instance_id: str) -> RemoteInstance | None:
        return next((r for r in self.instances if r.instance_id == instance_id), None)


def require_neighbour(headers, *, ip: str = "", size: int = 0) -> Known:
    """Before the body is read: a neighbour of ours signed this request's time, our id and the body's length (the
    full signature over the body is checked once it is read) — a stranger cannot make us read 512 MB."""
    known = Known.load()
    try:
        transport.verify_preamble(headers, size, me=known.me.instance_id,
                                  neighbours=known.certificates(neighbours_only=True))
    except transport.TransportRefused as exc:
        raise _refused(exc, headers, ip, size) from None
    return known


def receive(headers, body: bytes, *, ip: str = "", known: Known | None = None) -> dict:
    known = known or Known.load()
    sha256 = hashlib.sha256(body).hexdigest()  # once: the transport signature covers it and the row keeps it
    try:
        peer_id = transport.verify_request(headers, body, body_sha256=sha256, me=known.me.instance_id,
                                           neighbours=known.certificates(neighbours_only=True))
        opened = open_envelope(body, known.certificates())
        check_manifest(opened.manifest)
    except (transport.TransportRefused, EnvelopeRefused) as exc:
        raise _refused(exc, headers, ip, len(body)) from None
    saved: list[str] = []  # files written for this arrival: removed again if it is not stored
    committed: list[bool] = []
    result: dict | None = None
    try:
        # the files first, outside the transaction: on SQLite it holds the database's write lock
        staged = _stage(known, opened, body, saved)
        with transaction.atomic():
            # registered first: it has run before any later on_commit callback could raise out of the block
            transaction.on_commit(lambda: committed.append(True))
            result = _store_and_act(known, known.get(peer_id), opened, body, sha256, staged)
    except Exception as exc:
        if not committed:
            return _not_stored(exc, headers, ip, body, opened, sha256, saved, peer_id)
        # stored: a step after the commit failed; it must not touch the files the rows point to
        logger.exception("exchange envelope %s stored; a step after its commit failed", opened.envelope_id)
        result = result or {"envelope_id": opened.envelope_id, "status": "accepted"}
    _remove([name for name in staged.files.values() if name not in staged.used])  # e.g. a refused document's
    return result


def _not_stored(exc: Exception, headers, ip: str, body: bytes, opened: Opened, sha256: str, saved: list[str],
                peer_id: str) -> dict:
    """The arrival rolled back: its files go; a repeat is answered as such, a refusal for good is audited."""
    from django.core.exceptions import SuspiciousFileOperation

    _remove(saved)
    if isinstance(exc, SuspiciousFileOperation):  # a file name the storage cannot keep: refused for good
        exc = ServiceError("exchange.envelope_malformed", "交换包中的文件名无法保存", status=400)
    if isinstance(exc, IntegrityError):
        stored = Envelope.objects.filter(direction=Envelope.Direction.IN, envelope_id=opened.envelope_id).first()
        if stored is None:
            raise exc
        if stored.sha256 != sha256 or stored.origin_instance != opened.manifest["sender_instance"]:
            # another envelope under a known id (a relay on the way cannot pre-empt the real one unnoticed)
            conflict = ServiceError("exchange.envelope_id_conflict", "交换包编号已被另一个交换包使用", status=409)
            raise _refused(conflict, headers, ip, len(body)) from None
        # a repeat (a retry whose answer was lost, or the same envelope twice at once): stored once, nothing new
        return {"envelope_id": opened.envelope_id, "status": "duplicate"}
    if isinstance(exc, ServiceError):
        if exc.code in outbox.PERMANENT:  # refused for good (the sender dead-letters it): an alert, audited
            raise _refused(exc, headers, ip, len(body)) from None
        logger.warning("exchange envelope %s from %s not accepted yet: %s", opened.envelope_id, peer_id, exc.code)
    raise exc


def _remove(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # a file left behind is untidy, not wrong: the answer stands
            logger.warning("exchange: could not remove %s", name, exc_info=True)


@dataclass
class Staged:
    """Files of an arrival written before its transaction: the envelope (or its head) and a document's files."""
    envelope: str
    files: dict[str, str]  # name in the envelope → stored name
    used: set[str] = field(default_factory=set)

    def take(self, name: str) -> str:
        self.used.add(self.files[name])
        return self.files[name]


def _stage(known: Known, opened: Opened, body: bytes, saved: list[str]) -> Staged:
    """A document for us keeps the envelope's head (manifest and signature) and its files as the mirror's own files
    (envelope.reassemble rebuilds the envelope, `stored_envelope`), so 1 MB is not written twice; anything else
    keeps the envelope as it came (a relay sends these bytes on)."""
    from zhengtong.documents.models import Attachment, Document

    def write(model_field, name: str, data: bytes) -> str:
        stored = default_storage.save(model_field.generate_filename(None, name), ContentFile(data),
                                      max_length=model_field.max_length)
        saved.append(stored)
        return stored

    manifest = opened.manifest
    mine = manifest["kind"] == "document" and manifest["to_instance"] == known.me.instance_id
    staged = Staged(write(Envelope._meta.get_field("file"), f"{opened.envelope_id}.zte",
                          envelope_head(body) if mine else body), {})
    if mine:
        for name, entry in zip(opened.files, manifest["files"], strict=True):
            target = Document._meta.get_field("sealed_pdf") if entry["role"] == "sealed_pdf" else \
                Attachment._meta.get_field("file")
            staged.files[name] = write(target, name, opened.files[name])
    return staged


def stored_envelope(row: Envelope) -> bytes:
    """The envelope as it arrived, byte for byte: a document's rebuilt from the stored head and the mirror's files
    (checked against row.sha256; ValueError if they no longer give it), anything else as stored. A document refused
    under R1.8 keeps its head only, which is what this returns for it."""
    with row.file.open("rb") as handle:
        data = handle.read()
    if row.kind != Envelope.Kind.DOCUMENT or row.document is None or len(data) == row.size:
        return data
    files = {a.filename: a.file for a in row.document.attachments.all()}
    blobs = []
    for entry in read_manifest(data)["files"]:
        stored = row.document.sealed_pdf if entry["role"] == "sealed_pdf" else files[entry["name"][:255]]
        with stored.open("rb") as handle:
            blobs.append(handle.read())
    rebuilt = reassemble(data, blobs)
    if hashlib.sha256(rebuilt).hexdigest() != row.sha256:
        raise ValueError(f"envelope {row.envelope_id}: the stored files no longer give the envelope that arrived")
    return rebuilt


def _store_and_act(known: Known, peer: RemoteInstance, opened: Opened, body: bytes, sha256: str,
                   staged: Staged) -> dict:
    manifest = opened.manifest
    # stored by its id: a repeat fails this insert (envelope_once) and is answered in receive()
    row = Envelope(envelope_id=opened.envelope_id, direction=Envelope.Direction.IN, kind=manifest["kind"],
                   status=Envelope.Status.ACCEPTED, origin_instance=manifest["sender_instance"],
                   to_instance=manifest["to_instance"], peer=peer, size=len(body), done_at=timezone.now(),
                   sha256=sha256, summary=_summary(manifest))
    row.file.name = staged.envelope
    row.save()
    if manifest["to_instance"] != known.me.instance_id:
        target = known.get(manifest["to_instance"])
        if target is None:
            raise ServiceError("exchange.no_route", f"没有到“{manifest['to_instance'][:64]}”的交换路由")
        outbox.put(envelope_id=opened.envelope_id, data=body, kind=row.kind, origin=row.origin_instance, to=target,
                   summary=row.summary, stored_name=row.file.name, sha256=sha256)
        return {"envelope_id": opened.envelope_id, "status": "relayed"}
    if row.kind == "document":
        _document(known, row, opened, staged)
    elif row.kind == "receipt":
        _receipt(known, row, opened)
    else:
        _request(row, opened)
    return {"envelope_id": opened.envelope_id, "status": "accepted"}


def _summary(manifest: dict) -> str:
    document = manifest.get("document") or {}
    if manifest["kind"] == "document":
        return f"{document.get('doc_number', '')} {document.get('title', '')}".strip()
    if manifest["kind"] == "receipt":
        return f"回执 {sum(len(b['events']) for b in document['receipts'])} 条"
    events = ",".join(e.get("event", "") for e in document.get("events", []))
    return f"{manifest['kind']} {document.get('about', '')} {events}".strip()


# --- a document for our units -------------------------------------------------------------------------------

def _document(known: Known, row: Envelope, opened: Opened, staged: Staged) -> None:
    from zhengtong.documents.models import Attachment, Dispatch, Document, Status
    from zhengtong.documents.services.common import reindex
    from zhengtong.exchange.services import on_dispatch_recorded
    from zhengtong.org.models import Unit

    manifest, meta = opened.manifest, opened.manifest["document"]
    codes = [r["code"] for r in manifest["recipients"]]
    refusal = _refusal(meta, row)
    if refusal:  # R1.8: stored (a repeat changes nothing) but not delivered; the origin is told why
        messages.send_receipt(row, [{"unit": code, "event": "refused", "at": timezone.now().isoformat(),
                                     "by": "", "note": refusal[:200]} for code in codes])
        return
    origin = known.get(manifest["sender_instance"])
    # an instance speaks for its own units only: not for ours, not for another instance's (directory.link moves one)
    sender = directory.mirror_unit(origin, manifest["sender_unit"], move=False)
    local_units = {u.credit_code: u for u in Unit.objects.filter(credit_code__in=codes, remote__isnull=True,
                                                                 active=True)}
    now = timezone.now()
    pdf = next((name for name, entry in zip(opened.files, manifest["files"], strict=True)
                if entry["role"] == "sealed_pdf"), None)
    document = Document(direction="outgoing", doc_kind=meta["doc_kind"], status=Status.DISPATCHED,
                        unit=sender.unit, issuing_unit=sender.unit, drafter=sender.agent, title=meta["title"][:200],
                        urgency=meta.get("urgency", ""), classification=meta.get("classification", ""),
                        doc_number=meta.get("doc_number", "")[:40], body_html=meta.get("body_html", ""),
                        body_text=meta.get("body_text", ""), signer_names=meta.get("signer_names", []),
                        main_recipients_text=meta.get("main_recipients_text", "")[:500],
                        issued_date=meta.get("issued_date") or None, sealed_sha256=meta.get("sealed_sha256", ""),
                        sealed_at=_when(meta.get("sealed_at")), dispatched_at=now, created_at=now, updated_at=now)
    if pdf:
        document.sealed_pdf.name = staged.take(pdf)
    document.save()
    for order, (name, entry) in enumerate(zip(opened.files, manifest["files"], strict=True)):
        if entry["role"] == "attachment":
            attachment = Attachment(document=document, title=entry.get("title", name)[:200], filename=name[:255],
                                    content_type=entry.get("content_type", "application/octet-stream")[:100],
                                    size=entry["size"], order=order,
                                    sha256=entry.get("sha256") or hashlib.sha256(opened.files[name]).hexdigest(),
                                    uploaded_by=sender.agent)
            attachment.file.name = staged.take(name)
            attachment.save()
    wanted = [r for r in manifest["recipients"] if r["code"] in local_units]
    dispatches = Dispatch.objects.bulk_create([
        Dispatch(document=document, unit=local_units[r["code"]], kind=r.get("kind", "main"),
                 copies=max(int(r.get("copies", 1)), 1), print_limit=max(int(r.get("print_limit", 0)), 0),
                 dispatched_by=sender.agent, dispatched_at=now) for r in wanted])
    reindex(document, new=True)  # after the dispatches: their 收发员 are among its readers (search, preview)
    deliveries = on_dispatch_recorded(sender=Document, document=document, dispatches=dispatches, actor=None,
                                      all_local=True)  # local_units are this instance's own
    row.document = document
    row.save(update_fields=["document"])
    Envelope.deliveries.through.objects.bulk_create([Envelope.deliveries.through(envelope=row, delivery=d)
                                                     for d in deliveries])
    events = [{"unit": r["code"], "event": "delivered", "at": now.isoformat(), "note": ""} for r in wanted]
    events += [{"unit": code, "event": "undeliverable", "at": now.isoformat(), "note": "收文单位不在本平台"}
               for code in codes if code not in local_units]
    messages.send_receipt(row, events)


def _refusal(meta: dict, row: Envelope) -> str:
    """Why a document may not be delivered here: 秘密/机密/绝密 as its field or as a mark in its text (R1.8; audited
    as a security event), or fields this platform does not know (a kind outside R1.1, an unknown urgency)."""
    from zhengtong.documents.models import Classification, DocKind, Urgency
    from zhengtong.documents.services.common import refuse_classified

    try:
        refuse_classified(None, classification=str(meta.get("classification", "")),
                          text=f"{meta.get('title', '')}\n{meta.get('body_text', '')}", where="来文", obj=row)
    except ServiceError as exc:
        return exc.message
    if meta.get("classification", "") not in Classification.values:
        return f"密级“{str(meta.get('classification'))[:10]}”不是本平台可处理的密级"
    if meta.get("doc_kind") not in DocKind.values or meta.get("urgency", "") not in Urgency.values:
        return "文种或紧急程度不符合《党政机关公文处理工作条例》，无法登记"
    if not str(meta.get("title", "")).strip():
        return "来文没有标题"
    return ""


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# --- a receipt for a document we sent -------------------------------------------------------------------------

def _receipt(known: Known, row: Envelope, opened: Opened) -> None:
    """Receipts for documents we sent (a batch: {"receipts": [{"about": envelope id, "events": […]}]}), each
    applied to our delivery to that unit — the many 送达 of a batch in one insert."""
    from zhengtong.exchange.services import apply_remote_arrivals, apply_remote_receipt

    meta = opened.manifest["document"]
    batches = meta["receipts"]
    sent = {e.envelope_id: e for e in Envelope.objects.filter(
        direction=Envelope.Direction.OUT, kind=Envelope.Kind.DOCUMENT, origin_instance=known.me.instance_id,
        envelope_id__in=[str(b.get("about", ""))[:64] for b in batches]).prefetch_related("deliveries__unit")}
    origin = known.get(row.origin_instance)  # trusted: open_envelope checked its signature
    routes: dict[str, set[str]] = {}
    arrivals, others = [], []
    for batch in batches:
        envelope = sent.get(batch.get("about"))
        if envelope is None:
            logger.warning("exchange receipt %s for an envelope we did not send: %s", row.envelope_id,
                           batch.get("about"))
            continue
        if envelope.to_instance not in routes:
            routes[envelope.to_instance] = directory.route_to(envelope.to_instance)
        deliveries = {d.unit.credit_code: d for d in envelope.deliveries.all()}
        for event in batch.get("events", []):
            # only the instance the document went to answers for its units; a relay on the way may only say it
            # could not pass it on
            if origin.instance_id != envelope.to_instance and not (
                    event.get("event") == "undeliverable" and origin.instance_id in routes[envelope.to_instance]):
                security_event("exchange.receipt_refused", object_type="federation.envelope", outcome="denied",
                               object_id=row.pk, detail={"from": origin.instance_id, "about": envelope.envelope_id,
                                                         "event": event.get("event")})
                continue
            delivery = deliveries.get(event.get("unit"))
            if delivery is not None:
                at = _when(event.get("at")) or timezone.now()
                (arrivals if event.get("event") == "delivered" else others).append((delivery, at, event))
    apply_remote_arrivals([(delivery, at) for delivery, at, _ in arrivals], instance_name=origin.name)
    for delivery, at, event in others:  # after the 送达 they follow
        apply_remote_receipt(delivery, event=event.get("event", ""), at=at, by=str(event.get("by", ""))[:50],
                             note=str(event.get("note", ""))[:200], instance_name=origin.name)


# --- a request about a document we received ---------------------------------------------------------------------

def _request(row: Envelope, opened: Opened) -> None:
    from zhengtong.exchange.services import apply_remote_request

    meta = opened.manifest["document"]
    received = (Envelope.objects.filter(direction=Envelope.Direction.IN, kind=Envelope.Kind.DOCUMENT,
                                        envelope_id=meta.get("about", ""),
                                        origin_instance=opened.manifest["sender_instance"]).first())
    if received is None:
        # it may have overtaken its document (a retry of the document pending at the origin): not stored, so the
        # origin sends it again later (409 is not a permanent refusal)
        raise ServiceError("exchange.about_unknown", "该请求所涉公文尚未到达本平台，请稍后重发", status=409)
    deliveries = {d.unit.credit_code: d for d in received.deliveries.select_related("unit")}
    outcomes = []
    for event in meta.get("events", []):
        delivery = deliveries.get(event.get("unit"))
        if delivery is not None:
            outcome = apply_remote_request(delivery, action=event.get("event", ""),
                                           note=str(event.get("note", ""))[:200])
            if outcome:
                outcomes.append({"unit": event["unit"], "at": timezone.now().isoformat(), **outcome})
    messages.send_receipt(received, outcomes)
    record("exchange.remote_request", obj=row, detail={"about": meta.get("about"), "outcomes": outcomes})
