"""编号 (R1.3): gapless numbers per unit, 机关代字 and year, safe under concurrency; 空号 recorded and reusable.

The sequence row is locked (`select_for_update`) for the increment, so 50 parallel calls give 50 distinct,
consecutive numbers. A number taken and then not used (the document was terminated, or the 收发员 voided it)
becomes 空号: listed for the 收发员, who may give it to another document of the same 代字 and year.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengtong.audit.services import record
from zhengtong.core.errors import Conflict, ServiceError

from ..models import Document, NumberEntry, NumberSequence, Status
from ..rules import NUMBER_RE
from .common import reindex, require_step

RECEIPT_CODE = "收"  # 收文号 share the machinery: per receiving unit and year


def format_number(code: str, year: int, seq: int) -> str:
    return f"{code}〔{year}〕{seq}号"


def next_seq(unit_id: int, code: str, year: int) -> int:
    """Increment the unit's sequence in the caller's transaction (the row stays locked until it commits)."""
    row = NumberSequence.objects.select_for_update().filter(unit_id=unit_id, code=code, year=year).first()
    if row is None:
        try:
            with transaction.atomic():  # savepoint: a concurrent first caller may create the row first
                NumberSequence.objects.create(unit_id=unit_id, code=code, year=year, last=0)
        except IntegrityError:
            pass
        row = NumberSequence.objects.select_for_update().get(unit_id=unit_id, code=code, year=year)
    row.last += 1
    row.save(update_fields=["last"])
    return row.last


def take_number(actor, document: Document, *, code: str = "", year: int | None = None,
                reuse_seq: int | None = None) -> Document:
    """取号 at the 编号 step: the next number of the issuing unit's 代字 and year, or a recorded 空号 (`reuse_seq`)."""
    task = require_step(actor, document, "doc_number", "编号")
    if document.direction != "outgoing":
        raise ServiceError("document.not_outgoing", "只有发文需要编号；收文的来文字号在登记时填写")
    issuing = document.issuing_unit or document.unit
    code = (code or issuing.doc_code or "").strip()
    if not code:
        raise ServiceError("document.no_doc_code", f"“{issuing.name}”没有设置机关代字，请联系单位系统管理员设置后再编号")
    year = year or timezone.localdate().year
    if not NUMBER_RE.match(format_number(code, year, 1)):
        raise ServiceError("document.rule_violation", f"机关代字“{code}”或年份“{year}”不符合发文字号格式（R1.3）")
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if document.doc_number:
            raise Conflict("document.already_numbered", f"该公文已编号“{document.doc_number}”；如需改号请先作废")
        if reuse_seq is not None:
            entry = (NumberEntry.objects.select_for_update()
                     .filter(unit=issuing, code=code, year=year, seq=reuse_seq, status=NumberEntry.Status.VOID).first())
            if entry is None:
                raise Conflict("document.number_not_void", f"“{format_number(code, year, reuse_seq)}”不是可用的空号")
            entry.status, entry.document, entry.reason = NumberEntry.Status.USED, document, ""
            entry.taken_by, entry.taken_at = task.assignee, timezone.now()
            entry.save()
            seq = reuse_seq
        else:
            seq = next_seq(issuing.pk, code, year)
            NumberEntry.objects.create(unit=issuing, code=code, year=year, seq=seq, document=document,
                                       taken_by=task.assignee)
        document.doc_code, document.doc_year, document.doc_seq = code, year, seq
        document.doc_number = format_number(code, year, seq)
        document.status = Status.NUMBERED
        document.updated_at = timezone.now()
        document.save(update_fields=["doc_code", "doc_year", "doc_seq", "doc_number", "status", "updated_at"])
        reindex(document)
        record("document.numbered", obj=document, user=actor, identity=task.assignee, unit=issuing,
               detail={"number": document.doc_number, "reused": reuse_seq is not None})
    return document


def release_number(document: Document, *, reason: str, actor=None, identity=None) -> str:
    """The document gives its number back: the entry becomes 空号 (in the caller's transaction)."""
    if not document.doc_seq:
        return ""
    number = document.doc_number
    NumberEntry.objects.filter(unit=document.issuing_unit or document.unit, code=document.doc_code,
                               year=document.doc_year, seq=document.doc_seq).update(
        status=NumberEntry.Status.VOID, document=None, reason=reason[:200])
    document.doc_code, document.doc_year, document.doc_seq, document.doc_number = "", None, None, ""
    document.save(update_fields=["doc_code", "doc_year", "doc_seq", "doc_number"])
    record("document.number_voided", obj=document, user=actor, identity=identity,
           unit=document.issuing_unit or document.unit, detail={"number": number, "reason": reason})
    return number


def void_number(actor, document: Document, *, reason: str) -> str:
    """作废文号 at the 编号 step (before 用印): the number becomes 空号 and the document may take another."""
    task = require_step(actor, document, "doc_number", "作废文号")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("document.reason_required", "请填写作废原因")
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if document.sealed_at:
            raise Conflict("document.already_sealed", "已用印的公文不能作废文号")
        if not document.doc_number:
            raise Conflict("document.not_numbered", "该公文还没有编号")
        number = release_number(document, reason=reason, actor=actor, identity=task.assignee)
        document.status = Status.SIGNED
        document.save(update_fields=["status"])
    return number


def take_receipt_number(document: Document, year: int) -> None:
    """收文号 (R1.6 登记): per receiving unit and year, in the caller's transaction."""
    seq = next_seq(document.unit_id, RECEIPT_CODE, year)
    document.receipt_year, document.receipt_seq = year, seq
    document.receipt_number = f"收文〔{year}〕{seq}号"
