"""发文 after 签发: the fixed-layout PDF (R2), 用印 (R7.4) and 核发 (one dispatch record per recipient unit).

联合行文 (R1.2, R1.4): each issuing body seals with its own seal, in the issuers' order, on the same file — the lead
body's 收发员 at 用印 (`seal`, the first seal certifies the file), then at 联合用印 (`joint_seal`) a 收发员 of each other
body, who adds that body's seal over its name; 核发 waits for every seal."""
from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import Conflict, Forbidden, ServiceError

from ..models import Direction, Dispatch, Document, Recipient, Status
from .common import editable_fields, open_task, refresh_readers, require_step

# sent after commit: the exchange issue turns the dispatch records into deliveries
document_dispatched = Signal()  # sender=Document, document=<Document>, dispatches=<list[Dispatch]>, actor=<user>
# the same, sent inside the 核发's transaction: the exchange writes its deliveries there, so none is ever lost
dispatch_recorded = Signal()  # sender=Document, document=<Document>, dispatches=<list[Dispatch]>, actor=<user>


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


def issuers(document: Document) -> list:
    """The issuing bodies in order: the lead (发文机关), then the other bodies of a 联合行文."""
    return [j.unit for j in document.joint_issuers.select_related("unit")] or [document.issuing_unit or document.unit]


def seal_reference(document: Document) -> str:
    return f"documents.document:{document.pk}"


def sealed_unit_ids(document: Document) -> set[int]:
    """The bodies whose seal is on the document's file (each 用印 is a SealUse naming the document)."""
    from zhengtong.seals.models import SealUse

    if not document.sealed_at:
        return set()
    return set(SealUse.objects.filter(reference=seal_reference(document)).values_list("seal__unit_id", flat=True))


def unsealed_issuers(document: Document) -> list:
    done = sealed_unit_ids(document)
    return [u for u in issuers(document) if u.pk not in done]


def sealing_unit(document: Document, task):
    """The body whose seal the holder of `task` applies: the lead at 用印, their own body at 联合用印 (None when
    their body is not one of the document's issuers, or the step seals nothing)."""
    tags = editable_fields(task)
    units = issuers(document)
    if "seal" in tags:
        return units[0]
    if "joint_seal" in tags:
        return next((u for u in units[1:] if u.pk == task.assignee.unit_id), None)
    return None


def _refuse_seal(actor, document: Document, code: str, message: str, **detail) -> Forbidden:
    security_event("permission.denied", user=actor, outcome="denied", obj=document, detail={"code": code, **detail})
    return Forbidden(code, message)


def _seal_to_use(actor, document: Document, task, unit, seal_id: int | None):
    """One of the holder's own seals of `unit` (R1.2: the seal matches the body it is put over); a seal of another
    body, or one the actor does not hold, is refused and audited."""
    from zhengtong.seals import selectors as seal_selectors
    from zhengtong.seals.models import UnitSeal

    mine = [s for s in seal_selectors.seals_for(task.assignee) if s.unit_id == unit.pk]
    if seal_id is None and mine:
        return mine[0]
    chosen = next((s for s in mine if s.pk == seal_id), None)
    if chosen is not None:
        return chosen
    if seal_id is not None:
        other = UnitSeal.objects.filter(pk=seal_id).first()
        raise _refuse_seal(actor, document, "document.seal_not_allowed",
                           f"{f'“{other.name}”' if other else '所选印章'}不能用于这一步：这里只能加盖“{unit.name}”的印章，"
                           "且须由该印章的用印人加盖（R1.2 印章须与发文机关署名一致）", seal=seal_id, unit=unit.pk)
    raise _refuse_seal(actor, document, "document.no_seal", f"您没有“{unit.name}”的可用印章（R1.2 印章须与发文机关署名"
                       "一致），请单位系统管理员把您列为印章使用人", unit=unit.pk)


def render_pdf(document: Document):
    """The document as GB/T 9704 PDF, rendered now (a preview until it is sealed)."""
    from .. import pdf

    return pdf.render(pdf_document(document))


def seal_document(actor, document: Document, *, seal_id: int | None = None) -> Document:
    """用印: render the numbered document and seal it with the issuing unit's seal (PAdES, visible seal, timestamp);
    at 联合行文's 联合用印, add the holder's own body's seal to the sealed file, over that body's name."""
    from zhengtong.seals import services as seal_services

    task = open_task(actor, document)
    if task is None or "joint_seal" not in editable_fields(task):
        task = require_step(actor, document, "seal", "用印")
    units = issuers(document)
    unit = sealing_unit(document, task)
    if unit is None:
        raise _refuse_seal(actor, document, "document.not_issuer", "您所在单位不是本公文的发文机关，不能在本公文上用印")
    index = [u.pk for u in units].index(unit.pk)
    if not document.doc_number:
        raise Conflict("document.not_numbered", "请先编号再用印")
    if (index == 0 and document.sealed_at) or unit.pk in sealed_unit_ids(document):
        raise Conflict("document.already_sealed", f"本公文已加盖“{unit.name}”的印章")
    if index > 0 and not document.sealed_at:
        raise Conflict("document.lead_not_sealed", f"请待主办机关“{units[0].name}”用印后再加盖本机关印章")
    seal = _seal_to_use(actor, document, task, unit, seal_id)
    now = timezone.now()
    if index == 0:
        document.printing_date = document.printing_date or timezone.localdate()
    result = render_pdf(document)  # a co-issuer seals the stored file: the same layout tells where its seal goes
    if index >= len(result.seal_boxes):
        raise ServiceError("document.no_seal_place", "版式文件中没有该发文机关的用印位置，请联系系统管理员")
    box = result.seal_boxes[index]
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if (index == 0 and locked.sealed_at) or unit.pk in sealed_unit_ids(locked):
            raise Conflict("document.already_sealed", f"本公文已加盖“{unit.name}”的印章")
        if index == 0:
            source = result.pdf
        else:  # read under the lock: two co-issuers sealing at once each add to the other's file
            with locked.sealed_pdf.open("rb") as handle:
                source = handle.read()
        reason = f"{document.doc_number} 用印" + (f"（联合发文机关：{unit.name}）" if index else "")
        sealed = seal_services.seal_pdf(actor, seal, source, page=box.page, box=box.box, reason=reason,
                                        reference=seal_reference(document), identity=task.assignee)
        digest = hashlib.sha256(sealed).hexdigest()
        locked.sealed_pdf.save(f"{document.pk}-{digest[:12]}.pdf", ContentFile(sealed), save=False)
        locked.sealed_sha256, locked.updated_at = digest, now
        if index == 0:
            locked.printing_date = document.printing_date
            locked.sealed_at, locked.sealed_by, locked.status = now, task.assignee, Status.SEALED
        locked.save()
        record("document.sealed", obj=locked, user=actor, identity=task.assignee, unit=locked.unit,
               detail={"seal": seal.pk, "seal_unit": unit.pk, "joint": index > 0, "sha256": digest,
                       "pages": result.pages, "fonts": result.fonts})
    return locked


MAX_COPIES = 1000


def set_distribution(actor, document: Document, rows) -> list[Recipient]:
    """At 核发: the copies and the print limit (0 = none) of each 主送/抄送 unit — R1.5: 登记 fixes the distribution
    and the copy count. `rows`: [{"unit": id, "copies": n, "print_limit": n}] for some or all recipients."""
    task = require_step(actor, document, "dispatch", "核发")
    if document.dispatched_at:
        raise Conflict("document.already_dispatched", "该公文已核发，不能再改份数")
    current = {r.unit_id: r for r in document.recipients.all()}
    changes = {}
    try:
        for row in rows or []:
            unit, copies, limit = int(row["unit"]), int(row.get("copies", 1)), int(row.get("print_limit", 0))
            if unit not in current:
                raise ServiceError("document.not_a_recipient", "只能设置本文主送、抄送单位的份数")
            if not 1 <= copies <= MAX_COPIES or not 0 <= limit <= MAX_COPIES:
                raise ServiceError("document.invalid_copies", f"份数应为 1–{MAX_COPIES}，限印份数应为 0–{MAX_COPIES}（0 表示不限）")
            changes[unit] = (copies, limit)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ServiceError("document.invalid_copies", "份数和限印份数应为整数") from exc
    with transaction.atomic():
        for unit, (copies, limit) in changes.items():
            Recipient.objects.filter(pk=current[unit].pk).update(copies=copies, print_limit=limit)
        record("document.distribution_set", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               detail={"recipients": {str(u): {"copies": c, "print_limit": p} for u, (c, p) in changes.items()}})
    return list(document.recipients.select_related("unit").order_by("kind", "order"))


def set_dispatch_withdrawn(dispatch: Dispatch, withdrawn: bool) -> None:
    """The exchange's 撤回 (True) or 重发 (False) of a delivery, in its transaction: whether the receiving unit's
    收发员 may read the document (selectors.readable_ids), with its search reader keys."""
    if Dispatch.objects.filter(pk=dispatch.pk).exclude(withdrawn=withdrawn).update(withdrawn=withdrawn):
        refresh_readers([dispatch.document])


def dispatch_document(actor, document: Document) -> list[Dispatch]:
    """核发: one record per 主送/抄送 unit (with the copy count); the exchange issue delivers them."""
    task = require_step(actor, document, "dispatch", "核发")
    if document.direction != Direction.OUTGOING:
        raise ServiceError("document.not_outgoing", "只有发文需要核发")
    if not document.sealed_at:
        raise Conflict("document.not_sealed", "请先用印再核发")
    missing = unsealed_issuers(document)
    if missing:
        raise Conflict("document.joint_seal_missing", "联合行文须由各发文机关用印后核发，尚未用印："
                       + "、".join(u.name for u in missing))
    return record_dispatch(actor, document, task.assignee)


def record_dispatch(actor, document: Document, by) -> list[Dispatch]:
    """The 核发 itself, in one transaction with everything that follows from it (deliveries, outbox envelopes);
    `dispatch_document` calls it at the flow's 核发 step; `by`: the dispatching identity."""
    now = timezone.now()
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if locked.dispatched_at:
            raise Conflict("document.already_dispatched", "该公文已核发")
        recipients = list(locked.recipients.select_related("unit"))
        if not recipients:
            raise ServiceError("document.no_recipients", "没有主送或抄送机关，无法核发")
        rows = Dispatch.objects.bulk_create([Dispatch(document=locked, unit=r.unit, kind=r.kind, copies=r.copies,
                                                      print_limit=r.print_limit, dispatched_by=by,
                                                      dispatched_at=now)
                                             for r in recipients])
        locked.dispatched_at, locked.status, locked.updated_at = now, Status.DISPATCHED, now
        locked.save(update_fields=["dispatched_at", "status", "updated_at"])
        refresh_readers([locked])  # the recipients' 收发员 may read it now
        dispatch_recorded.send(sender=Document, document=locked, dispatches=rows, actor=actor)
        record("document.dispatched", obj=locked, user=actor, identity=by, unit=locked.unit,
               detail={"units": [r.unit_id for r in recipients], "sha256": locked.sealed_sha256})
        transaction.on_commit(lambda: document_dispatched.send(sender=Document, document=locked, dispatches=rows,
                                                               actor=actor))
    return rows
