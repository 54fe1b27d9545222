"""发文 after 签发: the fixed-layout PDF (R2), 用印 (R7.4) and 核发 (one dispatch record per recipient unit)."""
from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from zhengtong.audit.services import record
from zhengtong.core.errors import Conflict, ServiceError

from ..models import Direction, Dispatch, Document, Recipient, Status
from .common import refresh_readers, require_step

# sent after commit: the exchange issue turns the dispatch records into deliveries
document_dispatched = Signal()  # sender=Document, document=<Document>, dispatches=<list[Dispatch]>, actor=<user>


def recipients_line(document: Document, kind: str) -> list[str]:
    return [r.unit.name for r in document.recipients.filter(kind=kind).select_related("unit")]


def pdf_document(document: Document):
    """The renderer's input: the 18 elements of R1.2 as the document holds them now."""
    from .. import body as body_rules
    from .. import pdf

    issuers = [j.unit for j in document.joint_issuers.select_related("unit")] or [document.issuing_unit
                                                                                  or document.unit]
    main = document.main_recipients_text or "，".join(recipients_line(document, Recipient.Kind.MAIN))
    upward = document.orientation == "upward" or document.doc_kind == "请示"
    letter = document.doc_kind == "函"
    attachments = [a.title for a in document.attachments.filter(role="attachment").order_by("order", "pk")]
    return pdf.PdfDocument(
        format="letter" if letter else "document",
        copy_number="000001" if document.classification else "",
        classification=document.classification,
        urgency=document.urgency,
        issuer_marks=[f"{u.name}文件" for u in issuers] if len(issuers) == 1 and not letter
        else [u.name for u in issuers],
        doc_number=document.doc_number,
        signers=list(document.signer_names) if upward else [],
        title=document.title,
        main_recipients=main,
        body=body_rules.html_to_blocks(document.body_html),
        attachment_notes=attachments,
        signature=[document.signature_text] if len(issuers) == 1 else [u.name for u in issuers],
        date=document.issued_date,
        sealed=True,
        note=document.note,
        copy_to=recipients_line(document, Recipient.Kind.COPY),
        printing_unit=document.printing_unit,
        printing_date=document.printing_date or document.issued_date,
    )


def render_pdf(document: Document):
    """The document as GB/T 9704 PDF, rendered now (a preview until it is sealed)."""
    from .. import pdf

    return pdf.render(pdf_document(document))


def seal_document(actor, document: Document, *, seal_id: int | None = None) -> Document:
    """用印: render the numbered document and seal it with the issuing unit's seal (PAdES, visible seal, timestamp)."""
    from zhengtong.seals import selectors as seal_selectors
    from zhengtong.seals import services as seal_services

    task = require_step(actor, document, "seal", "用印")
    if not document.doc_number:
        raise Conflict("document.not_numbered", "请先编号再用印")
    if document.sealed_at:
        raise Conflict("document.already_sealed", "该公文已用印")
    seals = [s for s in seal_selectors.seals_for(task.assignee)
             if s.unit_id == (document.issuing_unit_id or document.unit_id)]
    seal = next((s for s in seals if seal_id is None or s.pk == seal_id), None)
    if seal is None:
        issuing = document.issuing_unit or document.unit
        raise ServiceError("document.no_seal", f"您没有“{issuing.name}”的可用印章（R1.2 印章须与发文机关署名一致），"
                           "请单位系统管理员把您列为印章使用人", status=403)
    now = timezone.now()
    document.printing_date = document.printing_date or timezone.localdate()
    result = render_pdf(document)
    box = result.seal_boxes[0]
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if locked.sealed_at:
            raise Conflict("document.already_sealed", "该公文已用印")
        sealed = seal_services.seal_pdf(actor, seal, result.pdf, page=box.page, box=box.box,
                                        reason=f"{document.doc_number} 用印", reference=f"documents.document:{document.pk}",
                                        identity=task.assignee)
        digest = hashlib.sha256(sealed).hexdigest()
        locked.printing_date = document.printing_date
        locked.sealed_pdf.save(f"{document.pk}-{digest[:12]}.pdf", ContentFile(sealed), save=False)
        locked.sealed_sha256, locked.sealed_at, locked.sealed_by = digest, now, task.assignee
        locked.status, locked.updated_at = Status.SEALED, now
        locked.save()
        record("document.sealed", obj=locked, user=actor, identity=task.assignee, unit=locked.unit,
               detail={"seal": seal.pk, "sha256": digest, "pages": result.pages, "fonts": result.fonts})
    return locked


def dispatch_document(actor, document: Document) -> list[Dispatch]:
    """核发: one record per 主送/抄送 unit (with the copy count); the exchange issue delivers them."""
    task = require_step(actor, document, "dispatch", "核发")
    if document.direction != Direction.OUTGOING:
        raise ServiceError("document.not_outgoing", "只有发文需要核发")
    if not document.sealed_at:
        raise Conflict("document.not_sealed", "请先用印再核发")
    now = timezone.now()
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if locked.dispatched_at:
            raise Conflict("document.already_dispatched", "该公文已核发")
        recipients = list(locked.recipients.select_related("unit"))
        if not recipients:
            raise ServiceError("document.no_recipients", "没有主送或抄送机关，无法核发")
        rows = Dispatch.objects.bulk_create([Dispatch(document=locked, unit=r.unit, kind=r.kind, copies=1,
                                                      dispatched_by=task.assignee, dispatched_at=now)
                                             for r in recipients])
        locked.dispatched_at, locked.status, locked.updated_at = now, Status.DISPATCHED, now
        locked.save(update_fields=["dispatched_at", "status", "updated_at"])
        refresh_readers([locked])  # the recipients' 收发员 may read it now
        record("document.dispatched", obj=locked, user=actor, identity=task.assignee, unit=locked.unit,
               detail={"units": [r.unit_id for r in recipients], "sha256": locked.sealed_sha256})
        transaction.on_commit(lambda: document_dispatched.send(sender=Document, document=locked, dispatches=rows,
                                                               actor=actor))
    return rows
