"""The document panel on the flow's task page: what the document is and the step's own actions (取号, 用印, 联合用印,
核发, 拟办, 答复, 修改正文), shown only to the holder of the step that allows them."""
from __future__ import annotations

from .models import Document
from .rules import check
from .services.common import editable_fields
from .services.drafting import draft_of


def task_panel(user, task):
    document = (Document.objects.filter(instance_id=task.instance_id)
                .select_related("unit", "issuing_unit", "lead_department").first())
    if document is None:
        return None
    mine = task.status == "open" and task.kind == "todo" and getattr(user, "person", None) is not None \
        and task.assignee.person_id == user.person.pk
    tags = editable_fields(task) if mine else frozenset()
    context = {"document": document, "step_tags": tags,
               "recipients": list(document.recipients.select_related("unit")),
               "attachments": list(document.attachments.all()),
               "warnings": [v for v in check(draft_of(document)) if not v.error] if "sign" in tags else []}
    if document.handling_kind:  # the 拟办 as decided, for the 批示 and 承办 that follow
        context["assisting"] = list(document.assisting_departments.all())
    if "doc_number" in tags:
        from .selectors import void_numbers

        context["void_numbers"] = list(void_numbers([document.issuing_unit_id or document.unit_id])[:20])
    if tags & {"seal", "joint_seal"}:
        from zhengtong.seals import selectors as seal_selectors

        from .services.outgoing import issuers, sealed_unit_ids, sealing_unit

        unit = sealing_unit(document, task)
        sealed = sealed_unit_ids(document)
        context.update(seal_unit=unit, seal_done=unit is not None and unit.pk in sealed,
                       seals=[s for s in seal_selectors.seals_for(task.assignee) if unit and s.unit_id == unit.pk],
                       joint_unsealed=[u for u in issuers(document)[1:] if u.pk not in sealed])
    if "handling" in tags:
        context["departments"] = list(document.unit.departments.all())
    return "documents/_task_panel.html", context
