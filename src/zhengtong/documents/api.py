"""公文 API, mounted at /api/v1/documents and /api/v1/search (issue #4 §7; keep stable).

- POST /documents {direction, doc_kind, title, body, main_recipients, copy_recipients, urgency?, classification?,
       attachments?: [{filename, content_base64, title?}], orientation?, issuing_unit?, joint_units?, identity?,
       source_unit?, source_unit_name?, source_number? (收文)} → 201 {id, task_id}
       rule failures → 400 {"code": "document.rule_violation", "rule": "R1.7", "message", "details"};
       classified → 400 {"code": "document.classified_refused", "message"}
- GET  /documents?direction=&status=&page=      the caller's readable documents
- GET  /documents/{id}                          the document (404 unless the caller may read it)
- PATCH /documents/{id}                         fields the caller's current step may change
- GET  /documents/{id}/pdf                      the sealed PDF, or a GB/T 9704 preview before 用印
- GET  /documents/{id}/verification             who sealed, when, valid / invalid
- GET  /documents/{id}/versions, /versions/diff?a=&b=
- POST /documents/{id}/number | /void-number | /seal | /dispatch | /handling | /reply | /attachments
- POST /documents/{id}/distribution {"recipients": [{unit, copies, print_limit}]}  份数 and 限印 at 核发
- GET  /search?q=&page=                         full-text over what the caller may read, matches in <mark>
"""
from __future__ import annotations

import base64
import binascii
from datetime import date, datetime

from django.http import HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from zhengtong.audit.services import record
from zhengtong.core.errors import ServiceError

from . import selectors, services
from .models import Document
from .services.common import open_task

router = Router(tags=["documents"])
search_router = Router(tags=["documents"])
PAGE_SIZE = 20
MAX_INLINE_ATTACHMENT = 20 * 1024 * 1024  # base64 in JSON; larger files go through POST /attachments (multipart)


class ErrorOut(Schema):
    code: str
    message: str


class RuleErrorOut(ErrorOut):
    rule: str = Field("", description="违反的规则编号（STANDARDS.md），如 R1.7")


class AttachmentIn(Schema):
    filename: str
    content_base64: str
    title: str = ""


class DocumentIn(Schema):
    direction: str = Field(description="outgoing 发文 | incoming 收文 | memo 签报")
    doc_kind: str = Field(description="文种（R1.1）：决议、决定、命令、公报、公告、通告、意见、通知、通报、报告、请示、批复、议案、函、纪要")
    title: str
    body: str = Field("", description="正文：纯文本（按“一、”“（一）”等识别标题层级）或编辑器产生的 HTML")
    main_recipients: list[int] = Field(default_factory=list, description="主送单位 id")
    copy_recipients: list[int] = Field(default_factory=list, description="抄送单位 id")
    urgency: str = Field("", description="\"\" | 加急 | 特急")
    classification: str = Field("", description="\"\"/非密 | 内部；秘密、机密、绝密一律拒绝（R1.8）")
    attachments: list[AttachmentIn] = Field(default_factory=list)
    orientation: str = Field("", description="downward | upward | parallel；为空按文种")
    issuing_unit: int | None = Field(None, description="发文机关：本单位或上级机关（如办公室代拟的政府文件）")
    joint_units: list[int] = Field(default_factory=list, description="联合行文的其他发文机关")
    main_recipients_text: str = ""
    note: str = Field("", description="附注，如（此件公开发布）")
    identity: int | None = Field(None, description="以哪个身份拟稿/登记（默认主身份）")
    source_unit: int | None = None
    source_unit_name: str = ""
    source_number: str = ""


class CreatedOut(Schema):
    id: int
    task_id: int | None


class RecipientOut(Schema):
    unit_id: int
    name: str
    kind: str


class AttachmentOut(Schema):
    id: int
    role: str
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str


class DocumentOut(Schema):
    id: int
    direction: str
    doc_kind: str
    orientation: str
    status: str
    status_label: str
    title: str
    urgency: str
    classification: str
    unit_id: int
    issuing_unit_id: int | None
    doc_number: str
    receipt_number: str
    source_unit_name: str
    source_number: str
    signer_names: list[str]
    sign_opinion: str
    signed_at: datetime | None
    issued_date: date | None
    body_html: str
    body_text: str
    body_version: int
    note: str
    copies: int
    recipients: list[RecipientOut]
    attachments: list[AttachmentOut]
    instance_id: int | None
    sealed_at: datetime | None
    sealed_sha256: str
    dispatched_at: datetime | None
    handling_kind: str
    lead_department_id: int | None
    handling_deadline: date | None
    reply: str
    returned_reason: str
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DocumentRow(Schema):
    id: int
    direction: str
    doc_kind: str
    status: str
    title: str
    doc_number: str
    receipt_number: str
    updated_at: datetime


class DocumentPage(Schema):
    count: int
    items: list[DocumentRow]


def document_out(document: Document) -> dict:
    data = {f: getattr(document, f) for f in DocumentOut.model_fields if hasattr(document, f)}
    data["status_label"] = document.get_status_display()
    data["recipients"] = [{"unit_id": r.unit_id, "name": r.unit.name, "kind": r.kind}
                          for r in document.recipients.select_related("unit")]
    data["attachments"] = list(document.attachments.values("id", "role", "title", "filename", "content_type", "size",
                                                           "sha256"))
    return data


def _attachment_bytes(item: AttachmentIn) -> bytes:
    if len(item.content_base64) > MAX_INLINE_ATTACHMENT * 4 // 3 + 4:
        raise ServiceError("document.attachment_too_large", "JSON 中的附件不超过 20 MB，更大的文件请用 "
                           "POST /api/v1/documents/{id}/attachments 上传")
    try:
        return base64.b64decode(item.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError("document.attachment_invalid", f"附件“{item.filename}”的 content_base64 不是有效的 Base64") \
            from exc


@router.post("", response={201: CreatedOut, 400: RuleErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="拟稿（发文、签报）或登记收文", operation_id="create_document")
def create_document(request, payload: DocumentIn):
    from django.db import transaction

    files = [(a, _attachment_bytes(a)) for a in payload.attachments]
    for item, data in files:  # refused before the transaction: its rollback would take the R1.8 refusal's audit along
        services.check_attachment(request.user, item.filename, data)
    with transaction.atomic():  # the document and its attachments, or nothing
        if payload.direction == "incoming":
            document = services.register_incoming(
                request.user, title=payload.title, doc_kind=payload.doc_kind, source_unit_id=payload.source_unit,
                source_unit_name=payload.source_unit_name, source_number=payload.source_number,
                urgency=payload.urgency, classification=payload.classification,
                body_html=payload.body if payload.body.lstrip().startswith("<") else "",
                body_text="" if payload.body.lstrip().startswith("<") else payload.body, identity_id=payload.identity)
        else:
            document = services.create_document(
                request.user, direction=payload.direction, doc_kind=payload.doc_kind, title=payload.title,
                body_html=payload.body if payload.body.lstrip().startswith("<") else "",
                body_text="" if payload.body.lstrip().startswith("<") else payload.body,
                main_recipients=payload.main_recipients, copy_recipients=payload.copy_recipients,
                urgency=payload.urgency, classification=payload.classification, orientation=payload.orientation,
                issuing_unit_id=payload.issuing_unit, joint_unit_ids=payload.joint_units,
                main_recipients_text=payload.main_recipients_text, note=payload.note, identity_id=payload.identity)
        for item, data in files:
            services.add_attachment(request.user, document, filename=item.filename, data=data, title=item.title)
    task = open_task(request.user, document)
    return Status(201, {"id": document.pk, "task_id": task.pk if task else None})


@router.get("", response=DocumentPage, summary="我可以查阅的公文", operation_id="list_documents")
def list_documents(request, direction: str = "", status: str = "", page: int = 1):
    rows = selectors.my_documents(request.user, direction=direction or None, status=status or None)
    page = max(1, min(page, 10_000))
    items = list(rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE])
    return {"count": rows.count(), "items": items}


@router.get("/{document_id}", response={200: DocumentOut, 404: ErrorOut}, summary="公文详情",
            operation_id="get_document")
def get_document(request, document_id: int):
    document = selectors.get_readable(request.user, document_id)
    record("document.viewed", obj=document, user=request.user, detail={"via": "api"})
    return document_out(document)


class DocumentPatch(Schema):
    title: str | None = None
    doc_kind: str | None = None
    orientation: str | None = None
    urgency: str | None = None
    note: str | None = None
    main_recipients_text: str | None = None
    main_recipients: list[int] | None = None
    copy_recipients: list[int] | None = None
    copies: int | None = None
    body: str | None = Field(None, description="正文 HTML 或纯文本；每次修改生成一个版本（痕迹保留）")
    comment: str = Field("", description="修改说明（记入版本）")


@router.patch("/{document_id}", response={200: DocumentOut, 400: RuleErrorOut, 403: ErrorOut, 404: ErrorOut},
              summary="修改公文（限当前环节允许修改的内容）", operation_id="update_document")
def update_document(request, document_id: int, payload: DocumentPatch):
    from . import body as body_rules

    document = selectors.get_readable(request.user, document_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"comment"})
    changes = {k: v for k, v in changes.items() if v is not None}
    if "body" in changes and not changes["body"].lstrip().startswith("<"):
        changes["body"] = body_rules.text_to_html(changes["body"])
    document = services.update_document(request.user, document, comment=payload.comment, **changes)
    return document_out(document)


def _pdf_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{name}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def document_pdf(user, document: Document) -> tuple[bytes, bool]:
    """The sealed file when there is one, else a preview rendered now. A 收文 has none: rendered here it would carry
    the receiving unit's 发文机关标志 over another body's document (its original is the registered scan)."""
    if document.direction == "incoming":
        raise ServiceError("document.no_layout", "收文不在本平台排版，请查看来文原件（附件）", status=404)
    if document.sealed_pdf:
        with document.sealed_pdf.open("rb") as handle:
            return handle.read(), True
    return services.render_pdf(document).pdf, False


@router.get("/{document_id}/pdf", response={200: None, 404: ErrorOut}, summary="版式文件（GB/T 9704 PDF）",
            operation_id="get_document_pdf")
def get_pdf(request, document_id: int):
    from urllib.parse import quote

    document = selectors.get_readable(request.user, document_id)
    data, sealed = document_pdf(request.user, document)
    record("document.pdf_viewed", obj=document, user=request.user, detail={"sealed": sealed, "via": "api"})
    return _pdf_response(data, quote(f"{document.doc_number or document.title}.pdf"))


class SealOut(Schema):
    seal_name: str
    unit_name: str
    sealed_at: datetime | None
    timestamp: datetime | None
    certificate_serial: str
    trusted: bool
    revoked: bool


class VerificationOut(Schema):
    sealed: bool
    valid: bool
    intact: bool
    recorded: bool
    matches_document: bool = Field(description="文件摘要与本平台用印登记一致")
    sealed_sha256: str
    seals: list[SealOut]
    problems: list[str]


def verification_of(document: Document) -> dict:
    from zhengtong.seals import services as seal_services

    if not document.sealed_pdf:
        return {"sealed": False, "valid": False, "intact": False, "recorded": False, "matches_document": False,
                "sealed_sha256": "", "seals": [], "problems": ["该公文尚未用印"]}
    import hashlib

    with document.sealed_pdf.open("rb") as handle:
        data = handle.read()
    result = seal_services.verify_pdf(data)
    matches = hashlib.sha256(data).hexdigest() == document.sealed_sha256
    problems = list(result.problems) + ([] if matches else ["文件与用印时登记的摘要不一致，可能已被替换"])
    return {"sealed": True, "valid": bool(result.valid and matches), "intact": result.intact,
            "recorded": result.recorded, "matches_document": matches, "sealed_sha256": document.sealed_sha256,
            "seals": [{"seal_name": s.seal_name, "unit_name": s.unit_name, "sealed_at": s.sealed_at,
                       "timestamp": s.timestamp, "certificate_serial": str(s.certificate_serial),
                       "trusted": s.trusted, "revoked": s.revoked} for s in result.seals],
            "problems": problems}


@router.get("/{document_id}/verification", response={200: VerificationOut, 404: ErrorOut},
            summary="验证用印：谁、何时、是否有效", operation_id="verify_document")
def verify_document(request, document_id: int):
    document = selectors.get_readable(request.user, document_id)
    result = verification_of(document)
    record("document.verified", obj=document, user=request.user, outcome="success" if result["valid"] else "failure",
           detail={"valid": result["valid"], "problems": result["problems"][:5]})
    return result


class VersionOut(Schema):
    number: int
    title: str
    author: str
    step: str
    comment: str
    created_at: datetime


@router.get("/{document_id}/versions", response={200: list[VersionOut], 404: ErrorOut}, summary="正文版本（痕迹保留）",
            operation_id="list_document_versions")
def versions(request, document_id: int):
    document = selectors.get_readable(request.user, document_id)
    return [{"number": v.number, "title": v.title, "author": v.author.person.name, "step": v.step,
             "comment": v.comment, "created_at": v.created_at}
            for v in document.versions.select_related("author__person")]


class DiffOut(Schema):
    a: int
    b: int
    html: str


@router.get("/{document_id}/versions/diff", response={200: DiffOut, 404: ErrorOut}, summary="两个版本的差异",
            operation_id="diff_document_versions")
def version_diff(request, document_id: int, a: int, b: int):
    from . import body as body_rules

    document = selectors.get_readable(request.user, document_id)
    rows = {v.number: v for v in document.versions.filter(number__in=[a, b])}
    if a not in rows or b not in rows:
        raise ServiceError("document.version_not_found", "版本不存在", status=404)
    return {"a": a, "b": b, "html": body_rules.diff_versions(rows[a].body_html, rows[b].body_html)}


class NumberIn(Schema):
    reuse_seq: int | None = Field(None, description="使用一个已登记的空号（序号）")


@router.post("/{document_id}/number", response={200: DocumentOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="编号（取号）", operation_id="number_document")
def number(request, document_id: int, payload: NumberIn):
    document = selectors.get_readable(request.user, document_id)
    return document_out(services.take_number(request.user, document, reuse_seq=payload.reuse_seq))


class ReasonIn(Schema):
    reason: str


@router.post("/{document_id}/void-number", response={200: DocumentOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="作废文号（记为空号）", operation_id="void_document_number")
def void_number(request, document_id: int, payload: ReasonIn):
    document = selectors.get_readable(request.user, document_id)
    services.void_number(request.user, document, reason=payload.reason)
    document.refresh_from_db()
    return document_out(document)


class SealIn(Schema):
    seal: int | None = None


@router.post("/{document_id}/seal", response={200: DocumentOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="用印", operation_id="seal_document")
def seal(request, document_id: int, payload: SealIn):
    document = selectors.get_readable(request.user, document_id)
    return document_out(services.seal_document(request.user, document, seal_id=payload.seal))


class DispatchOut(Schema):
    unit_id: int
    kind: str
    copies: int
    dispatched_at: datetime


@router.post("/{document_id}/dispatch", response={200: list[DispatchOut], 403: ErrorOut, 404: ErrorOut,
                                                  409: ErrorOut}, summary="核发", operation_id="dispatch_document")
def dispatch(request, document_id: int):
    document = selectors.get_readable(request.user, document_id)
    rows = services.dispatch_document(request.user, document)
    return [{"unit_id": r.unit_id, "kind": r.kind, "copies": r.copies, "dispatched_at": r.dispatched_at} for r in rows]


class DistributionRowIn(Schema):
    unit: int
    copies: int = 1
    print_limit: int = Field(0, description="限印份数，0 表示不限")


class DistributionIn(Schema):
    recipients: list[DistributionRowIn]


class DistributionOut(Schema):
    unit_id: int
    kind: str
    copies: int
    print_limit: int


@router.post("/{document_id}/distribution", response={200: list[DistributionOut], 400: ErrorOut, 403: ErrorOut,
                                                      404: ErrorOut, 409: ErrorOut},
             summary="核发前设置各收文单位的份数与限印份数", operation_id="set_distribution")
def distribution(request, document_id: int, payload: DistributionIn):
    document = selectors.get_readable(request.user, document_id)
    rows = services.set_distribution(request.user, document, [r.dict() for r in payload.recipients])
    return [{"unit_id": r.unit_id, "kind": r.kind, "copies": r.copies, "print_limit": r.print_limit} for r in rows]


class HandlingIn(Schema):
    handling_kind: str = Field(description="read 阅件 | act 办件")
    lead_department: int | None = None
    assisting_departments: list[int] = Field(default_factory=list)
    deadline: date | None = None


@router.post("/{document_id}/handling", response={200: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="拟办：阅件/办件、主办与协办处室、办理时限", operation_id="set_document_handling")
def handling(request, document_id: int, payload: HandlingIn):
    document = selectors.get_readable(request.user, document_id)
    return document_out(services.set_handling(request.user, document, handling_kind=payload.handling_kind,
                                              lead_department_id=payload.lead_department,
                                              assisting_department_ids=payload.assisting_departments,
                                              deadline=payload.deadline))


class ReplyIn(Schema):
    reply: str


@router.post("/{document_id}/reply", response={200: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
             summary="承办：填写办理结果（答复）", operation_id="reply_document")
def reply(request, document_id: int, payload: ReplyIn):
    document = selectors.get_readable(request.user, document_id)
    return document_out(services.save_reply(request.user, document, reply=payload.reply))


@router.post("/{document_id}/attachments", response={201: AttachmentOut, 400: ErrorOut, 403: ErrorOut,
                                                     404: ErrorOut}, summary="上传附件（multipart）",
             operation_id="add_document_attachment")
def add_attachment(request, document_id: int, file: File[UploadedFile], title: str = ""):
    document = selectors.get_readable(request.user, document_id)
    attachment = services.add_attachment(request.user, document, filename=file.name or "", data=file.read(),
                                         title=title)
    return Status(201, attachment)


class HitOut(Schema):
    id: int
    title_html: str
    number_html: str
    snippet_html: str
    doc_number: str
    receipt_number: str
    direction: str
    status: str
    score: float


class SearchOut(Schema):
    total: int
    total_capped: bool = False
    page: int
    hits: list[HitOut]


@search_router.get("", response={200: SearchOut, 400: ErrorOut}, summary="全文检索（只返回本人可阅的公文）",
                   operation_id="search_documents")
def search(request, q: str = Query(..., description="检索词，空格分隔表示同时包含"), page: int = 1):
    from .search import search_documents

    return search_documents(request.user, q, page=page)
