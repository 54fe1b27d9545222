"""收文 (R1.6): 签收 with its time, 登记 with a 收文号, 初审, 拟办 (阅件/办件, one 主办 and any 协办 departments, a
deadline for urgent documents), 批示, 承办 with the 答复, 传阅, 办结 — on the receipt flow."""
from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import ServiceError
from zhengtong.flow import services as flow_services
from zhengtong.flow.models import BusinessType, Task
from zhengtong.flow.services.common import deny, person_of
from zhengtong.org.models import Department, Duty, Unit

from ..models import Attachment, Classification, DocKind, Document, Status, Urgency
from .attachments import add_attachment, check_attachment
from .common import refuse_classified, reindex, require_step
from .drafting import _add_version, clean_body, clean_choice
from .numbering import take_receipt_number

HANDLING_FIELDS = ["handling_kind", "lead_department", "handling_deadline", "status"]


def register_incoming(actor, *, title: str, doc_kind: str, source_unit_id: int | None = None,
                      source_unit_name: str = "", source_number: str = "", urgency: str = "",
                      classification: str = "", body_html: str = "", body_text: str = "",
                      received_at=None, identity_id: int | None = None, scan_filename: str = "",
                      scan_data: bytes | None = None, scan_title: str = "来文扫描件") -> Document:
    """签收 + 登记 of a document that arrived on paper or by other means (the exchange issue calls this too):
    only the unit's 收发员; the 签收 time is recorded and the 收文号 given; the flow waits at 登记. `scan_data`: the
    paper's scan (正文原件), kept with the registration or refused before anything is registered."""
    person = person_of(actor)
    refuse_classified(actor, classification=classification)
    identity = flow_services.identity_to_start(actor, identity_id)
    if identity.duty.code != Duty.DOC_CLERK:
        clerk = person.identities.filter(active=True, duty__code=Duty.DOC_CLERK).select_related("unit", "duty").first()
        if clerk is None:
            raise deny(actor, "document.clerk_only", "只有收发员可以登记收文", object_type="documents.document")
        identity = clerk
    doc_kind = clean_choice(doc_kind, DocKind.choices, "document.invalid_kind", "文种")
    urgency = clean_choice(urgency, Urgency.choices, "document.invalid_urgency", "紧急程度")
    classification = "" if classification in ("", "非密") else classification
    classification = clean_choice(classification, Classification.choices, "document.invalid_classification", "密级")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ServiceError("document.invalid_title", "标题不能为空，且不超过 200 个字")
    refuse_classified(actor, text=title, where="标题")
    source = None
    if source_unit_id:
        source = Unit.objects.filter(pk=source_unit_id).first()
        if source is None:
            raise ServiceError("document.invalid_unit", "来文单位不存在")
    source_name = (source.name if source else (source_unit_name or "").strip())[:100]
    if not source_name:
        raise ServiceError("document.source_required", "请填写来文单位")
    html, text = clean_body(actor, body_html, body_text)
    if scan_data is not None:
        check_attachment(actor, scan_filename, scan_data)
    now = timezone.now()
    received_at = received_at or now
    with transaction.atomic():
        instance = flow_services.start_process(actor, identity=identity, business_type=BusinessType.RECEIPT,
                                               title=title)
        document = Document(direction="incoming", doc_kind=doc_kind, unit=identity.unit, drafter=identity,
                            instance=instance, title=title, urgency=urgency, classification=classification,
                            source_unit=source, source_unit_name=source_name,
                            source_number=(source_number or "").strip()[:40], body_html=html, body_text=text,
                            received_at=received_at, status=Status.REGISTERED, created_at=now, updated_at=now)
        take_receipt_number(document, timezone.localdate(received_at).year)
        document.save()
        _add_version(document, identity, "登记", "来文")
        document.save(update_fields=["body_version"])
        first = Task.objects.filter(instance=instance, status=Task.Status.OPEN, kind=Task.Kind.TODO).first()
        if first is not None and first.node_id == "sign_in":  # 签收 happened now, by this 收发员
            flow_services.submit_task(actor, first, opinion="已签收")
        if scan_data is not None:
            add_attachment(actor, document, filename=scan_filename, data=scan_data, title=scan_title,
                           role=Attachment.Role.SOURCE)
        reindex(document)
        record("document.registered", obj=document, user=actor, identity=identity, unit=identity.unit,
               detail={"receipt_number": document.receipt_number, "source": source_name,
                       "source_number": document.source_number, "received_at": received_at.isoformat()})
    return document


def set_handling(actor, document: Document, *, handling_kind: str, lead_department_id: int | None = None,
                 assisting_department_ids=(), deadline: date | None = None) -> Document:
    """拟办: 阅件 or 办件; a 办件 has one 主办 department and any 协办; urgent documents get a deadline (R1.6)."""
    task = require_step(actor, document, "handling", "拟办")
    if handling_kind not in ("read", "act"):
        raise ServiceError("document.invalid_handling", "办理类别应为“阅件”或“办件”")
    departments = {d.pk: d for d in Department.objects.filter(unit_id=document.unit_id)}
    try:
        assisting = [departments[int(pk)] for pk in assisting_department_ids or []]
        lead = departments[int(lead_department_id)] if lead_department_id else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceError("document.invalid_department", "主办、协办处室须是本单位的处室") from exc
    if handling_kind == "act" and lead is None:
        raise ServiceError("document.lead_required", "办件须确定一个主办处室（R1.6）")
    if lead is not None and lead in assisting:
        raise ServiceError("document.lead_required", "主办处室不能同时是协办处室")
    if handling_kind == "act" and document.urgency and deadline is None:
        raise ServiceError("document.deadline_required", f"{document.urgency}件须确定办理时限（R1.6）")
    if deadline is not None and deadline < timezone.localdate():
        raise ServiceError("document.invalid_deadline", "办理时限不能早于今天")
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        before = snapshot(document, HANDLING_FIELDS)
        document.handling_kind, document.lead_department, document.handling_deadline = handling_kind, lead, deadline
        document.updated_at = timezone.now()
        document.save()
        document.assisting_departments.set(assisting)
        record("document.handling_set", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               changes=diff(before, snapshot(document, HANDLING_FIELDS)),
               detail={"assisting": [d.pk for d in assisting]})
    return document


def save_reply(actor, document: Document, *, reply: str) -> Document:
    """承办: the handling department writes what was done (答复)."""
    task = require_step(actor, document, "reply", "填写办理结果")
    reply = (reply or "").strip()
    if not reply or len(reply) > 20_000:
        raise ServiceError("document.invalid_reply", "办理结果不能为空，且不超过 20000 个字")
    refuse_classified(actor, text=reply, where="办理结果", obj=document)
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        document.reply, document.updated_at = reply, timezone.now()
        document.save(update_fields=["reply", "updated_at"])
        record("document.reply_saved", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               detail={"length": len(reply)})
    return document


def update_registration(actor, document: Document, **changes) -> Document:
    """登记: the 收发员 corrects title, 来文单位, 来文字号 and urgency before 初审."""
    task = require_step(actor, document, "register", "修改登记信息")
    allowed = {"title", "source_unit_name", "source_number", "urgency", "body_html"}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError("document.invalid_field", "不能修改：" + "、".join(sorted(unknown)))
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        before = snapshot(document, ["title", "source_unit_name", "source_number", "urgency"])
        if "title" in changes:
            title = (changes["title"] or "").strip()
            if not title or len(title) > 200:
                raise ServiceError("document.invalid_title", "标题不能为空，且不超过 200 个字")
            refuse_classified(actor, text=title, where="标题", obj=document)
            document.title = title
        if "source_unit_name" in changes:
            document.source_unit_name = (changes["source_unit_name"] or "").strip()[:100] or document.source_unit_name
        if "source_number" in changes:
            document.source_number = (changes["source_number"] or "").strip()[:40]
        if "urgency" in changes:
            document.urgency = clean_choice(changes["urgency"], Urgency.choices, "document.invalid_urgency", "紧急程度")
        if "body_html" in changes:
            document.body_html, document.body_text = clean_body(actor, changes["body_html"], None, obj=document)
            _add_version(document, task.assignee, task.node_name, "登记修改")
        document.updated_at = timezone.now()
        document.save()
        reindex(document)
        record("document.registration_updated", obj=document, user=actor, identity=task.assignee,
               unit=document.unit, changes=diff(before, snapshot(document, ["title", "source_unit_name",
                                                                              "source_number", "urgency"])))
    return document
