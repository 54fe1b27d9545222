"""What the document services share: the acting post, the task the actor holds, what a step may edit, the
refusals (rule violations, classified content) and keeping the search index current."""
from __future__ import annotations

from zhengtong.audit.services import security_event
from zhengtong.core.errors import Forbidden, NotFound, ServiceError
from zhengtong.flow import engine, selectors_ops
from zhengtong.flow.models import Task
from zhengtong.flow.services.common import person_of

from ..models import Document
from ..rules import REFUSED_CLASSIFICATIONS, Violation

SEARCH_KIND = "document"


class RuleViolation(ServiceError):
    """A document rule failed: the API answers 400 {"code": "document.rule_violation", "rule", "message"}."""

    def __init__(self, violation: Violation, others: list[Violation] | None = None):
        self.rule = violation.rule
        self.violations = [violation, *(others or [])]
        super().__init__("document.rule_violation", violation.message, status=400, details={
            "rule": violation.rule,
            "violations": [{"rule": v.rule, "message": v.message, "error": v.error} for v in self.violations]})


def raise_errors(violations: list[Violation]) -> None:
    errors = [v for v in violations if v.error]
    if errors:
        raise RuleViolation(errors[0], errors[1:])


def refuse_classified(actor, *, classification: str = "", text: str = "", where: str = "正文", obj=None) -> None:
    """R1.8: 秘密/机密/绝密 documents are not handled here — neither as a field nor as a mark in the text."""
    from .. import body as body_rules

    classification = (classification or "").strip()
    mark = classification if classification in REFUSED_CLASSIFICATIONS else None
    if mark is None and text:
        mark = body_rules.find_classification_mark(text)
        if mark is None:
            return
        message = (f"{where}中含有密级标志“{mark}”。涉密公文不得在本平台处理（R1.8），请通过涉密渠道办理；"
                   "如属误标，请删除标志后重新提交")
    elif mark is None:
        return
    else:
        message = f"密级为“{mark}”的公文不得在本平台处理（R1.8），请通过涉密渠道办理；本平台只处理非密和内部公文"
    security_event("document.classified_refused", user=actor, outcome="denied", obj=obj,
                   object_type="" if obj else "documents.document",
                   detail={"mark": mark, "where": where})
    raise ServiceError("document.classified_refused", message, status=400)


def open_task(actor, document: Document) -> Task | None:
    """The actor's own open 待办 on the document's flow (None when they hold none)."""
    person = person_of(actor)
    if document.instance_id is None:
        return None
    return (Task.objects.filter(instance_id=document.instance_id, status=Task.Status.OPEN, kind=Task.Kind.TODO,
                                assignee__person=person)
            .select_related("assignee__unit", "assignee__person", "instance__definition").order_by("pk").first())


def editable_fields(task: Task | None) -> frozenset[str]:
    """The node's `zt:form editable` list (the designer sets it): what the holder of this step may change."""
    if task is None:
        return frozenset()
    workflow = selectors_ops.page_workflow(task.instance)  # restored once per instance object (the task page shares it)
    spec = engine.node_spec(workflow, task.node_id)
    if spec is None:
        return frozenset()
    return frozenset(engine.node_extensions(spec).editable_fields)


def require_step(actor, document: Document, field: str, what: str) -> Task:
    """The actor must hold an open step of the document whose form lets them change `field`."""
    task = open_task(actor, document)
    if task is None or field not in editable_fields(task):
        security_event("permission.denied", user=actor, outcome="denied", obj=document,
                       detail={"code": "document.not_editable", "field": field})
        step = f"（当前在您手中的是“{task.node_name}”）" if task else ""
        raise Forbidden("document.not_editable", f"{what}只能由办理相应环节的人员进行{step}")
    return task


def not_found() -> NotFound:
    return NotFound("document.not_found", "公文不存在或您无权查看")


def reindex(document: Document, *, new: bool = False) -> None:
    """Title, number, body and attachment text, and who may read it, go to the full-text index in the caller's
    transaction. `new`: the document was created in this transaction (not indexed yet)."""
    from zhengtong.core import search

    from ..selectors import reader_keys

    attachments = "\n".join(t for t in document.attachments.values_list("text", flat=True) if t)
    search.index(SEARCH_KIND, document.pk, unit_id=document.unit_id, title=document.title,
                 number=" ".join(n for n in (document.doc_number, document.receipt_number, document.source_number)
                                 if n),
                 body=document.body_text, attachments=attachments, created_at=document.created_at,
                 readers=reader_keys(document), new=new)


def refresh_readers(documents) -> None:
    """Who may read these documents changed (a task, a grant, a dispatch): their search reader keys follow, in the
    caller's transaction. The keys only narrow a search; selectors.readable_ids stays the rule."""
    from zhengtong.core import search

    from ..selectors import reader_keys

    for document in documents:
        search.set_readers(SEARCH_KIND, document.pk, reader_keys(document))


def on_participants_changed(sender, instance_ids, **kwargs) -> None:
    """flow.signals.participants_changed: a step, 传阅, 转办, AB岗 … gave a document's flow new participants."""
    refresh_readers(Document.objects.filter(instance_id__in=instance_ids).only("pk", "drafter_id", "unit_id",
                                                                                "instance_id"))
