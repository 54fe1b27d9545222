"""The document's side of each flow step (flow.business hooks), keyed by the node's `zt:form editable` tags so a
flow changed in the designer keeps its meaning: `sign` 签发, `joint_sign` 联合行文会签, `recheck` 复核,
`doc_number` 编号, `seal` 用印, `joint_seal` 联合用印, `dispatch` 核发, `first_review` 初审, `handling` 拟办,
`reply` 承办.

Both hooks run inside the submit's transaction with the instance row locked; a refusal rolls the submit back.
A flow instance without a document (started directly through the flow API) passes untouched.
"""
from __future__ import annotations

from django.utils import timezone

from zhengtong.audit.services import record
from zhengtong.core.errors import Conflict, ServiceError
from zhengtong.flow.models import ProcessInstance

from ..models import Direction, Document, JointIssuer, Status, Version
from ..rules import Violation, check
from .common import RuleViolation, raise_errors
from .drafting import body_digest, draft_of
from .numbering import release_number
from .outgoing import issuers, sealed_unit_ids, unsealed_issuers

BACK_TO_SIGNER = "back_to_signer"
RETURN_TO_SENDER = "return_to_sender"
JOINT_SEAL = "joint_seal"


def _document(instance) -> Document | None:
    return Document.objects.select_for_update(of=("self",)).filter(instance_id=instance.pk).first()


def before_submit(actor, instance, task, route: str, opinion: str, tags: frozenset[str]) -> None:
    document = _document(instance)
    if document is None:
        return
    from .. import body as body_rules

    if "sign" in tags:
        draft = draft_of(document)
        draft.signer_names = [task.assignee.person.name]
        raise_errors(check(draft, stage="sign"))
    if "recheck" in tags and route != BACK_TO_SIGNER and document.signed_version:
        signed = Version.objects.filter(document=document, number=document.signed_version).first()
        if signed and body_rules.is_substantive_change(signed.body_text, document.body_text):
            raise RuleViolation(Violation("R1.5", "正文在签发后有实质性修改，应选择“退回签发人”重新签发"))
    outgoing = document.direction == Direction.OUTGOING  # in 收文, doc_number is the sender's 来文字号
    if "doc_number" in tags and outgoing and not document.doc_number:
        raise Conflict("document.not_numbered", "请先取号（编号）再提交")
    if "seal" in tags and outgoing and not document.sealed_at:
        raise Conflict("document.not_sealed", "请先用印再提交")
    if "seal" in tags and outgoing:
        _check_joint_seal_route(document, route)
    if "joint_seal" in tags and outgoing and task.assignee.unit_id not in sealed_unit_ids(document):
        raise Conflict("document.not_sealed", "请先加盖本机关印章再提交")
    if "dispatch" in tags and outgoing and not document.dispatched_at:
        raise Conflict("document.not_dispatched", "请先核发再提交")
    if "handling" in tags and not document.handling_kind:
        raise ServiceError("document.handling_required", "请先确定办理类别（阅件/办件）和主办、协办处室（R1.6）")
    if "reply" in tags and document.handling_kind == "act" and not document.reply.strip():
        raise ServiceError("document.reply_required", "办件须填写办理结果（答复）后再提交（R1.6）")


def _check_joint_seal_route(document: Document, route: str) -> None:
    """用印 of a 联合行文 goes on to 联合用印 by the other bodies; a single body's document goes straight to 核发."""
    others = [u.name for u in unsealed_issuers(document)]
    if route == JOINT_SEAL and len(issuers(document)) < 2:
        raise ServiceError("document.not_joint", "本公文不是联合行文，请按常规流程提交")
    if others and route != JOINT_SEAL:
        raise Conflict("document.joint_seal_required", "联合行文须由各发文机关分别用印：请选择“转联合用印”，并为"
                       + "、".join(others) + "各选择一位用印人（该机关的收发员）")


def _check_joint_sealers(document: Document, new_tasks) -> None:
    """Every body that still has to seal gets a 联合用印 task (its own 收发员: only they hold its seal)."""
    chosen = {t.assignee.unit_id for t in new_tasks}
    missing = [u.name for u in unsealed_issuers(document) if u.pk not in chosen]
    if missing:
        raise ServiceError("document.joint_sealer_missing", "联合用印须为每个尚未用印的发文机关选择一位用印人，尚缺："
                           + "、".join(missing))


def after_submit(actor, instance, task, route: str, opinion: str, new_tasks, tags: frozenset[str]) -> None:
    document = _document(instance)
    if document is None:
        return
    if "seal" in tags and route == JOINT_SEAL:
        _check_joint_sealers(document, new_tasks)
    now = timezone.now()
    fields = {"updated_at"}
    if document.status == Status.DRAFT:
        document.status = Status.IN_PROGRESS
        fields.add("status")
    if "joint_sign" in tags:
        JointIssuer.objects.filter(document=document, unit_id=task.assignee.unit_id, signed_at__isnull=True).update(
            signed_by=task.assignee, signed_at=now)
    if "sign" in tags:
        document.signed_by, document.signer_names = task.assignee, [task.assignee.person.name]
        document.sign_opinion, document.signed_at = opinion, now
        document.issued_date = timezone.localdate(now)  # 成文日期: the day the leader signed (R1.2)
        document.signed_body_sha256, document.signed_version = body_digest(document.body_text), document.body_version
        document.status = Status.SIGNED
        fields |= {"signed_by", "signer_names", "sign_opinion", "signed_at", "issued_date", "signed_body_sha256",
                   "signed_version", "status"}
        JointIssuer.objects.filter(document=document, order=0).update(signed_by=task.assignee, signed_at=now)
        record("document.signed", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               detail={"opinion": opinion, "date": document.issued_date.isoformat(), "version": document.body_version})
    if "first_review" in tags and route == RETURN_TO_SENDER:
        document.status, document.returned_reason = Status.RETURNED, opinion[:500]
        fields |= {"status", "returned_reason"}
    if "handling" in tags and document.status == Status.REGISTERED:
        document.status = Status.HANDLING
        fields.add("status")
    if instance.status == ProcessInstance.Status.COMPLETED and document.status != Status.RETURNED:  # saved by submit
        document.status, document.closed_at = Status.CLOSED, now
        fields |= {"status", "closed_at"}
        if document.direction == Direction.INCOMING:
            record("document.closed", obj=document, user=actor, identity=task.assignee, unit=document.unit)
    document.updated_at = now
    document.save(update_fields=sorted(fields))


def after_terminate(actor, instance) -> None:
    """终止: the document stops; a number it took and did not send out becomes 空号."""
    document = _document(instance)
    if document is None:
        return
    if document.doc_number and not document.dispatched_at:
        release_number(document, reason="公文终止办理", actor=actor)
    document.status, document.updated_at = Status.TERMINATED, timezone.now()
    document.save(update_fields=["status", "updated_at"])
