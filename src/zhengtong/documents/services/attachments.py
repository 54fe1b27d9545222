"""附件 and 正文原件: checked by type and size, text extracted for search, R1.8 marks refused on upload."""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from zhengtong.audit.services import record
from zhengtong.core.errors import NotFound, ServiceError

from ..models import Attachment, Direction, Document
from .common import editable_fields, open_task, refuse_classified, reindex, require_step
from .drafting import _add_version, clean_body


def _attachment_step(actor, document: Document, what: str):
    """Attachments change at a step whose form allows them (起草), or at 登记 for incoming documents."""
    field = "register" if document.direction == Direction.INCOMING else "attachments"
    return require_step(actor, document, field, what)


def check_attachment(actor, filename: str, data: bytes, *, obj=None) -> tuple[str, str, str, str]:
    """(file name, content type, SHA-256, text) of an acceptable upload; a wrong type or size and an R1.8 mark in its
    text are refused (the mark audited). Callers that register a document together with its files run this before
    their transaction: a refusal inside it would roll its own audit record back."""
    from .. import files

    filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    content_type, digest = files.check_upload(filename, data)
    text = files.extract_text(filename, data)
    refuse_classified(actor, text=text, where=f"附件“{filename}”", obj=obj)
    return filename, content_type, digest, text


def add_attachment(actor, document: Document, *, filename: str, data: bytes, title: str = "",
                   role: str = Attachment.Role.ATTACHMENT) -> Attachment:
    task = _attachment_step(actor, document, "上传附件")
    if role not in Attachment.Role.values:
        raise ServiceError("document.invalid_attachment_role", "附件类别无效")
    filename, content_type, digest, text = check_attachment(actor, filename, data, obj=document)
    title = (title or filename.rsplit(".", 1)[0]).strip()[:200]
    with transaction.atomic():
        order = (document.attachments.filter(role=role).aggregate(m=Max("order"))["m"] or 0) + 1
        attachment = Attachment(document=document, role=role, title=title, filename=filename,
                                content_type=content_type, size=len(data), sha256=digest, text=text, order=order,
                                uploaded_by=task.assignee)
        attachment.file.save(f"{digest[:16]}-{filename}", ContentFile(data), save=False)
        attachment.save()
        reindex(document)
        record("document.attachment_added", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               detail={"attachment": attachment.pk, "filename": filename, "size": len(data), "sha256": digest,
                       "role": role})
    return attachment


def remove_attachment(actor, document: Document, attachment_id: int) -> None:
    task = _attachment_step(actor, document, "删除附件")
    attachment = document.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("document.attachment_not_found", "附件不存在")
    with transaction.atomic():
        attachment.delete()
        reindex(document)
        record("document.attachment_removed", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               detail={"attachment": attachment_id, "filename": attachment.filename, "sha256": attachment.sha256})


def import_docx(actor, document: Document, *, filename: str, data: bytes) -> Document:
    """正文 from an uploaded .docx: converted to the editor's structure; a new version; the file kept as 正文原件."""
    from .. import body as body_rules
    from .. import files

    task = open_task(actor, document)
    if task is None or "body" not in editable_fields(task):
        require_step(actor, document, "body", "导入正文")
    content_type, digest = files.check_upload(filename, data)
    html = body_rules.docx_to_html(data)
    html, text = clean_body(actor, html, None, obj=document)
    with transaction.atomic():
        locked = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        locked.body_html, locked.body_text = html, text
        _add_version(locked, task.assignee, task.node_name, f"导入 {filename}"[:200])
        locked.save()
        source = Attachment(document=locked, role=Attachment.Role.SOURCE, title=filename.rsplit(".", 1)[0][:200],
                            filename=filename[:255], content_type=content_type, size=len(data), sha256=digest,
                            text="", uploaded_by=task.assignee)
        source.file.save(f"{source.sha256[:16]}.docx", ContentFile(data), save=False)
        source.save()
        reindex(locked)
        record("document.body_imported", obj=locked, user=actor, identity=task.assignee, unit=locked.unit,
               detail={"filename": filename, "version": locked.body_version, "sha256": source.sha256})
    return locked
