"""拟稿 and editing: a new document starts its flow; each change of the body is a version (痕迹保留)."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import ServiceError
from zhengtong.flow import services as flow_services
from zhengtong.flow.models import BusinessType
from zhengtong.flow.services.common import deny, person_of
from zhengtong.org.models import Unit

from ..models import (
    KIND_ORIENTATION,
    Classification,
    Direction,
    DocKind,
    Document,
    JointIssuer,
    Orientation,
    Recipient,
    Status,
    Urgency,
    Version,
)
from ..rules import Draft, check
from .common import raise_errors, refresh_readers, refuse_classified, reindex, require_step

FLOW_OF = {Direction.OUTGOING: BusinessType.DISPATCH, Direction.MEMO: BusinessType.SIGN_REPORT,
           Direction.INCOMING: BusinessType.RECEIPT}
AUDITED = ["title", "doc_kind", "orientation", "urgency", "classification", "issuing_unit", "main_recipients_text",
           "note", "copies", "body_version", "status"]
MAX_BODY = 200_000


def body_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def clean_choice(value, choices, code: str, label: str) -> str:
    value = (value or "").strip()
    if value not in {c[0] for c in choices}:
        raise ServiceError(code, f"{label}“{value}”无效，可选：" + "、".join(c[1] for c in choices if c[0]))
    return value


def clean_body(actor, body_html: str | None, body_text: str | None, obj=None) -> tuple[str, str]:
    """The editor sends HTML; API clients may send plain text. Stored: the sanitized HTML and its plain text."""
    from .. import body as body_rules

    if body_html:
        html = body_rules.sanitize_html(body_html)
    else:
        html = body_rules.text_to_html(body_text or "")
    text = body_rules.html_to_text(html)
    if len(text) > MAX_BODY:
        raise ServiceError("document.body_too_long", f"正文不能超过 {MAX_BODY} 个字")
    refuse_classified(actor, text=text, where="正文", obj=obj)
    return html, text


def _units(ids, label: str) -> list[Unit]:
    try:
        ids = list(dict.fromkeys(int(pk) for pk in ids or []))
    except (TypeError, ValueError) as exc:
        raise ServiceError("document.invalid_unit", f"{label}应为单位编号") from exc
    units = {u.pk: u for u in Unit.objects.filter(pk__in=ids, active=True)}
    missing = [pk for pk in ids if pk not in units]
    if missing:
        raise ServiceError("document.invalid_unit", f"{label}中有不存在或已停用的单位（编号 {missing[0]}）")
    return [units[pk] for pk in ids]


def _subordinates(unit: Unit) -> set[int]:
    """Units below `unit` (children, grandchildren…), for R1.7; unit trees are a few levels deep."""
    found, frontier = set(), {unit.pk}
    while frontier:
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


def draft_of(document: Document, *, main=None, copy=None, joint=None) -> Draft:
    """The rule checker's view of a document (recipients and issuers as given, or as stored)."""
    if main is None:
        rows = list(document.recipients.values_list("unit_id", "kind"))
        main = [u for u, k in rows if k == Recipient.Kind.MAIN]
        copy = [u for u, k in rows if k == Recipient.Kind.COPY]
    issuers = joint if joint is not None else [j.unit for j in document.joint_issuers.select_related("unit")]
    lead = document.issuing_unit or document.unit
    unsigned = [j.unit.name for j in document.joint_issuers.select_related("unit") if j.order and not j.signed_at] \
        if document.pk else []
    return Draft(direction=document.direction, doc_kind=document.doc_kind, orientation=document.orientation,
                 title=document.title, issuing_unit_names=[lead.name, *[u.name for u in issuers]],
                 main_recipient_ids=list(main), copy_recipient_ids=list(copy or []),
                 subordinate_ids=_subordinates(lead) if document.doc_kind == DocKind.REQUEST else set(),
                 doc_number=document.doc_number, signer_names=list(document.signer_names),
                 joint_unsigned=unsigned, body_text=document.body_text)


def _set_recipients(document: Document, main: list[Unit], copy: list[Unit]) -> None:
    document.recipients.all().delete()
    Recipient.objects.bulk_create(
        [Recipient(document=document, unit=u, kind=Recipient.Kind.MAIN, order=i) for i, u in enumerate(main)]
        + [Recipient(document=document, unit=u, kind=Recipient.Kind.COPY, order=i) for i, u in enumerate(copy)])


def _add_version(document: Document, author, step: str, comment: str = "") -> Version:
    document.body_version += 1
    return Version.objects.create(document=document, number=document.body_version, title=document.title,
                                  body_html=document.body_html, body_text=document.body_text, author=author,
                                  step=step, comment=comment[:200])


def create_document(actor, *, direction: str, doc_kind: str, title: str, body_html: str = "", body_text: str = "",
                    main_recipients=(), copy_recipients=(), urgency: str = "", classification: str = "",
                    orientation: str = "", issuing_unit_id: int | None = None, joint_unit_ids=(),
                    main_recipients_text: str = "", note: str = "", identity_id: int | None = None) -> Document:
    """拟稿: a 发文 or 签报 in the actor's unit (or in the name of a unit above it), its flow started; the first
    step (起草) is the actor's. Checked: the kind, R1.8 (classification and marks in the body), R1.2/R1.3/R1.7."""
    person_of(actor)
    refuse_classified(actor, classification=classification)
    direction = clean_choice(direction, [c for c in Direction.choices if c[0] != Direction.INCOMING],
                             "document.invalid_direction", "类别")
    doc_kind = clean_choice(doc_kind, DocKind.choices, "document.invalid_kind", "文种")
    urgency = clean_choice(urgency, Urgency.choices, "document.invalid_urgency", "紧急程度")
    classification = "" if classification in ("", "非密") else classification
    classification = clean_choice(classification, Classification.choices, "document.invalid_classification", "密级")
    orientation = clean_choice(orientation or KIND_ORIENTATION.get(doc_kind, Orientation.DOWNWARD),
                               Orientation.choices, "document.invalid_orientation", "行文方向")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ServiceError("document.invalid_title", "标题不能为空，且不超过 200 个字")
    refuse_classified(actor, text=title, where="标题")
    identity = flow_services.identity_to_start(actor, identity_id)
    issuing = identity.unit
    if issuing_unit_id:
        issuing = (_units([issuing_unit_id], "发文机关") or [identity.unit])[0]
    main = _units(main_recipients, "主送机关")
    copy = _units(copy_recipients, "抄送机关")
    joint = [u for u in _units(joint_unit_ids, "联合发文机关") if u.pk != issuing.pk]
    html, text = clean_body(actor, body_html, body_text)
    now = timezone.now()
    document = Document(direction=direction, doc_kind=doc_kind, orientation=orientation, unit=identity.unit,
                        issuing_unit=issuing, drafter=identity, title=title, urgency=urgency,
                        classification=classification, body_html=html, body_text=text,
                        main_recipients_text=(main_recipients_text or "").strip()[:500], note=(note or "").strip()[:200],
                        signature_text=issuing.name, printing_unit=identity.unit.name, created_at=now, updated_at=now)
    raise_errors(check(draft_of(document, main=[u.pk for u in main], copy=[u.pk for u in copy], joint=joint)))
    with transaction.atomic():
        instance = flow_services.start_process(actor, identity=identity, business_type=FLOW_OF[direction],
                                               title=title, issuing_unit=issuing, joint_units=joint)
        document.instance = instance
        document.status = Status.DRAFT
        document.save()
        _set_recipients(document, main, copy)
        if joint:
            JointIssuer.objects.bulk_create([JointIssuer(document=document, unit=u, order=i)
                                             for i, u in enumerate([issuing, *joint])])
        _add_version(document, identity, "起草", "初稿")
        document.save(update_fields=["body_version"])
        reindex(document)
        record("document.created", obj=document, user=actor, identity=identity, unit=identity.unit,
               changes=diff(None, snapshot(document, AUDITED)),
               detail={"instance": instance.pk, "main": [u.pk for u in main], "copy": [u.pk for u in copy],
                       "joint": [u.pk for u in joint]})
    return document


EDITABLE = {  # document field → the `zt:form editable` name that allows it
    "title": "title", "doc_kind": "title", "orientation": "title", "urgency": "title", "note": "title",
    "main_recipients_text": "recipients", "main_recipients": "recipients", "copy_recipients": "recipients",
    "copies": "copies", "body": "body",
}


def update_document(actor, document: Document, *, comment: str = "", **changes) -> Document:
    """Change the fields the actor's current step may edit; a changed body or title is a new version."""
    unknown = set(changes) - set(EDITABLE)
    if not changes:
        raise ServiceError("document.nothing_to_change", "没有要修改的内容")
    if unknown:
        raise ServiceError("document.invalid_field", "不能修改：" + "、".join(sorted(unknown)))
    tasks = {require_step(actor, document, EDITABLE[f], "修改公文") for f in changes}
    task = next(iter(tasks)) if tasks else None
    # R1.8 refusals before the transaction: their audit record must survive the refusal's rollback
    if "title" in changes:
        refuse_classified(actor, text=(changes["title"] or "").strip(), where="标题", obj=document)
    cleaned_body = clean_body(actor, changes["body"], None, obj=document) if "body" in changes else None
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).get(pk=document.pk)
        before = snapshot(document, AUDITED)
        old_text, old_title = document.body_text, document.title
        main = copy = None
        if "title" in changes:
            document.title = (changes["title"] or "").strip()
            if not document.title or len(document.title) > 200:
                raise ServiceError("document.invalid_title", "标题不能为空，且不超过 200 个字")
        if "doc_kind" in changes:
            document.doc_kind = clean_choice(changes["doc_kind"], DocKind.choices, "document.invalid_kind", "文种")
        if "orientation" in changes:
            document.orientation = clean_choice(changes["orientation"], Orientation.choices,
                                                "document.invalid_orientation", "行文方向")
        if "urgency" in changes:
            document.urgency = clean_choice(changes["urgency"], Urgency.choices, "document.invalid_urgency", "紧急程度")
        if "note" in changes:
            document.note = (changes["note"] or "").strip()[:200]
        if "main_recipients_text" in changes:
            document.main_recipients_text = (changes["main_recipients_text"] or "").strip()[:500]
        if "copies" in changes:
            try:
                document.copies = max(1, min(int(changes["copies"]), 100_000))
            except (TypeError, ValueError) as exc:
                raise ServiceError("document.invalid_copies", "印发份数应为正整数") from exc
        if "main_recipients" in changes or "copy_recipients" in changes:
            current = list(document.recipients.values_list("unit_id", "kind"))
            main = _units(changes.get("main_recipients", [u for u, k in current if k == "main"]), "主送机关")
            copy = _units(changes.get("copy_recipients", [u for u, k in current if k == "copy"]), "抄送机关")
        if cleaned_body is not None:
            document.body_html, document.body_text = cleaned_body
        raise_errors(check(draft_of(document, main=[u.pk for u in main] if main is not None else None,
                                    copy=[u.pk for u in copy] if copy is not None else None)))
        if main is not None:
            _set_recipients(document, main, copy)
        if document.body_text != old_text or document.title != old_title:
            _add_version(document, task.assignee, task.node_name, comment)
        document.updated_at = timezone.now()
        document.save()
        if document.title != old_title and document.instance_id:
            type(document.instance).objects.filter(pk=document.instance_id).update(title=document.title)
        reindex(document)
        record("document.updated", obj=document, user=actor, identity=task.assignee, unit=document.unit,
               changes=diff(before, snapshot(document, AUDITED)),
               detail={"step": task.node_id, "fields": sorted(changes),
                       **({"recipients": {"main": [u.pk for u in main], "copy": [u.pk for u in copy]}}
                          if main is not None else {})})
    return document


def grant_access(actor, document: Document, *, identity_ids, reason: str) -> int:
    """授权阅读: the drafting unit's 收发员 (or the drafter) lets named people read the document."""
    from zhengtong.org.models import Duty, Identity

    from ..models import Access

    person = person_of(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ServiceError("document.reason_required", "请填写授权理由（不超过 200 个字）")
    granter = (Identity.objects.filter(person=person, active=True, unit=document.unit, duty__code=Duty.DOC_CLERK)
               .first() or Identity.objects.filter(pk=document.drafter_id, person=person).first())
    if granter is None:
        raise deny(actor, "document.grant_denied", "只有本单位收发员或拟稿人可以授权他人阅读", obj=document)
    identities = list(Identity.objects.filter(pk__in=list(identity_ids or []), active=True))
    if not identities:
        raise ServiceError("document.invalid_identity", "请选择被授权人")
    with transaction.atomic():
        created = 0
        for identity in identities:
            _, new = Access.objects.get_or_create(document=document, identity=identity,
                                                  defaults={"granted_by": granter, "reason": reason})
            created += new
        refresh_readers([document])
        record("document.access_granted", obj=document, user=actor, identity=granter, unit=document.unit,
               detail={"identities": [i.pk for i in identities], "reason": reason})
    return created
