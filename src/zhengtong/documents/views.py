"""公文 pages: the list, 拟稿, 收文登记, the document page (versions, PDF, verification), search, and the step actions the
task page's document panel posts to. Every write goes through documents.services; a refusal comes back as a message."""
from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import NotFound, ServiceError

from . import page_panels, selectors, services
from .api import document_pdf, verification_of
from .models import Classification, Direction, DocKind, Orientation, Urgency
from .selectors_pages import doc_clerk_unit_ids, opinions
from .services.common import open_task

TABS = [("outgoing", "发文"), ("incoming", "收文"), ("memo", "签报")]


def _readable_or_404(user, pk):
    try:
        return selectors.get_readable(user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _is_clerk(user) -> bool:
    return bool(doc_clerk_unit_ids(user))


def _ids(raw: str) -> list[int]:
    try:
        return [int(v) for v in (raw or "").replace("，", ",").split(",") if v.strip()]
    except ValueError as exc:
        raise ServiceError("document.invalid_unit", "所选单位无效") from exc


def to_my_step(request, document):
    """After 拟稿 or 登记: on to the step now in the user's hands (its task page has the document panel)."""
    task = open_task(request.user, document)
    return redirect("flow:task", task_id=task.pk) if task else redirect("documents:detail", pk=document.pk)


@login_required
def document_list(request):
    box = request.GET.get("box", "outgoing")
    box = box if box in dict(TABS) else "outgoing"
    rows = selectors.my_documents(request.user, direction=box)
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    return render(request, "documents/list.html", {"tabs": TABS, "box": box, "page": page,
                                                   "is_clerk": _is_clerk(request.user)})


def _issuing_choices(user):
    person = getattr(user, "person", None)
    identity = person.identities.filter(active=True, is_main=True).select_related("unit__parent").first() \
        if person else None
    if identity is None:
        return []
    units, unit = [], identity.unit
    while unit is not None and len(units) < 4:
        units.append(unit)
        unit = unit.parent
    return units


@login_required
@require_http_methods(["GET", "POST"])
def new_document(request):
    direction = request.GET.get("direction") or request.POST.get("direction") or "outgoing"
    direction = direction if direction in ("outgoing", "memo") else "outgoing"
    values = {"doc_kind": "通知" if direction == "outgoing" else "报告", "title": "", "orientation": "",
              "urgency": "", "classification": "", "main_recipients": "", "copy_recipients": "", "joint_units": "",
              "issuing_unit": "", "note": "", "main_recipients_text": "", "body_html": ""}
    violations = []
    if request.method == "POST":
        values.update({k: request.POST.get(k, "").strip() for k in values})
        try:
            document = services.create_document(
                request.user, direction=direction, doc_kind=values["doc_kind"], title=values["title"],
                body_html=values["body_html"], main_recipients=_ids(values["main_recipients"]),
                copy_recipients=_ids(values["copy_recipients"]), urgency=values["urgency"],
                classification=values["classification"], orientation=values["orientation"],
                issuing_unit_id=int(values["issuing_unit"]) if values["issuing_unit"].isdigit() else None,
                joint_unit_ids=_ids(values["joint_units"]), main_recipients_text=values["main_recipients_text"],
                note=values["note"])
        except services.RuleViolation as exc:
            violations = exc.violations
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已拟稿“{document.title}”，请继续完善正文和附件后提交")
            return to_my_step(request, document)
    return render(request, "documents/new.html", {
        "direction": direction, "direction_label": dict(Direction.choices)[direction], "values": values,
        "violations": violations, "kinds": DocKind.choices, "orientations": Orientation.choices,
        "urgencies": Urgency.choices, "classifications": Classification.choices,
        "issuing_units": _issuing_choices(request.user)}, status=400 if violations else 200)


@login_required
@require_http_methods(["GET", "POST"])
def register_incoming(request):
    if not _is_clerk(request.user):
        security_event("permission.denied", user=request.user, outcome="denied",
                       detail={"code": "document.register_not_clerk"})
        return render(request, "flow/denied.html", {"message": "只有收发员可以登记收文。", "area": "收文登记"},
                      status=403)
    values = {k: request.POST.get(k, "").strip() for k in ("title", "doc_kind", "source_unit", "source_unit_name",
                                                           "source_number", "urgency", "classification", "body")}
    if request.method == "POST":
        scan = request.FILES.get("scan")
        try:
            document = services.register_incoming(
                request.user, title=values["title"], doc_kind=values["doc_kind"],
                source_unit_id=(_ids(values["source_unit"]) or [None])[0], source_unit_name=values["source_unit_name"],
                source_number=values["source_number"], urgency=values["urgency"],
                classification=values["classification"], body_text=values["body"],
                scan_filename=scan.name if scan else "", scan_data=scan.read() if scan else None)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已签收并登记，收文号 {document.receipt_number}")
            return to_my_step(request, document)
    return render(request, "documents/register.html", {"values": values, "kinds": DocKind.choices,
                                                        "urgencies": Urgency.choices,
                                                        "classifications": Classification.choices})


@login_required
def detail(request, pk: int):
    document = _readable_or_404(request.user, pk)
    record("document.viewed", obj=document, user=request.user, detail={"via": "web"})
    task = open_task(request.user, document)
    versions = list(document.versions.select_related("author__person").order_by("-number"))
    return render(request, "documents/detail.html", {
        "document": document, "task": task, "versions": versions,
        "recipients": list(document.recipients.select_related("unit")),
        "copies": list(document.recipients.filter(kind="copy").select_related("unit")),
        "attachments": list(document.attachments.all()), "joint": list(document.joint_issuers.select_related("unit")),
        "dispatches": list(document.dispatches.select_related("unit")), "opinions": opinions(request.user, document),
        "assisting": list(document.assisting_departments.all()) if document.handling_kind else [],
        "extra_panels": page_panels.panels_for(request.user, document)})


@login_required
def versions(request, pk: int):
    from . import body

    document = _readable_or_404(request.user, pk)
    rows = {v.number: v for v in document.versions.select_related("author__person")}
    try:
        a = int(request.GET.get("a") or max(1, document.body_version - 1))
        b = int(request.GET.get("b") or document.body_version)
    except ValueError:
        a, b = max(1, document.body_version - 1), document.body_version
    if a not in rows or b not in rows:
        raise Http404("版本不存在")
    return render(request, "documents/versions.html", {
        "document": document, "a": rows[a], "b": rows[b], "all": sorted(rows.values(), key=lambda v: v.number),
        "diff": body.diff_versions(rows[a].body_html, rows[b].body_html)})


@login_required
def pdf(request, pk: int):
    document = _readable_or_404(request.user, pk)
    try:
        data, sealed = document_pdf(request.user, document)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("documents:detail", pk=document.pk)
    record("document.pdf_viewed", obj=document, user=request.user, detail={"sealed": sealed, "via": "web"})
    response = HttpResponse(data, content_type="application/pdf")
    name = quote(f"{document.doc_number or document.title}.pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{name}"
    return response


@login_required
def verification(request, pk: int):
    document = _readable_or_404(request.user, pk)
    result = verification_of(document)
    record("document.verified", obj=document, user=request.user, outcome="success" if result["valid"] else "failure",
           detail={"valid": result["valid"], "via": "web"})
    return render(request, "documents/verification.html", {"document": document, "result": result})


@login_required
def attachment(request, pk: int, attachment_id: int):
    document = _readable_or_404(request.user, pk)
    item = document.attachments.filter(pk=attachment_id).first()
    if item is None:
        raise Http404("附件不存在")
    record("document.attachment_downloaded", obj=document, user=request.user,
           detail={"attachment": item.pk, "filename": item.filename})
    with item.file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type=item.content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(item.filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def search(request):
    from .search import search_documents

    q = request.GET.get("q", "").strip()
    result, error = None, ""
    if q:
        try:
            result = search_documents(request.user, q, page=request.GET.get("page") or 1)
        except ServiceError as exc:
            error = exc.message
    return render(request, "documents/search.html", {"q": q, "result": result, "error": error})


def _back(request, document):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("documents:detail", pk=document.pk)


ACTIONS = {
    "edit": "保存修改", "number": "取号", "void_number": "作废文号", "seal": "用印", "dispatch": "核发",
    "handling": "拟办", "reply": "保存办理结果", "attach": "上传附件", "import_docx": "导入正文",
    "remove_attachment": "删除附件",
}


@login_required
@require_http_methods(["POST"])
def act(request, pk: int):
    """The document panel's forms on the task page: one POST endpoint, each action one service call."""
    document = _readable_or_404(request.user, pk)
    action, post = request.POST.get("action", ""), request.POST
    label = ACTIONS.get(action)
    try:
        if label is None:
            raise ServiceError("document.unknown_action", "未知的操作")
        if action == "edit":
            changes = {}
            if "title" in post:
                changes["title"] = post["title"]
            if "body_html" in post:
                changes["body"] = post["body_html"]
            if "main_recipients" in post:
                changes["main_recipients"] = _ids(post["main_recipients"])
                changes["copy_recipients"] = _ids(post.get("copy_recipients", ""))
            if "main_recipients_text" in post:
                changes["main_recipients_text"] = post["main_recipients_text"].strip()
            services.update_document(request.user, document, comment=post.get("comment", ""), **changes)
        elif action == "number":
            reuse = post.get("reuse_seq", "")
            services.take_number(request.user, document, reuse_seq=int(reuse) if reuse.isdigit() else None)
        elif action == "void_number":
            services.void_number(request.user, document, reason=post.get("reason", ""))
        elif action == "seal":
            seal = post.get("seal", "")
            services.seal_document(request.user, document, seal_id=int(seal) if seal.isdigit() else None)
        elif action == "dispatch":
            services.dispatch_document(request.user, document)
        elif action == "handling":
            import datetime as dt

            deadline = post.get("deadline", "")
            try:
                deadline = dt.date.fromisoformat(deadline) if deadline else None
            except ValueError as exc:
                raise ServiceError("document.invalid_deadline", "办理时限不是有效日期") from exc
            lead = post.get("lead_department", "")
            services.set_handling(request.user, document, handling_kind=post.get("handling_kind", ""),
                                  lead_department_id=int(lead) if lead.isdigit() else None,
                                  assisting_department_ids=[int(v) for v in post.getlist("assisting") if v.isdigit()],
                                  deadline=deadline)
        elif action == "reply":
            services.save_reply(request.user, document, reply=post.get("reply", ""))
        elif action in ("attach", "import_docx"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ServiceError("document.file_required", "请选择要上传的文件")
            if action == "attach":
                services.add_attachment(request.user, document, filename=upload.name, data=upload.read(),
                                        title=post.get("title", ""))
            else:
                services.import_docx(request.user, document, filename=upload.name, data=upload.read())
        elif action == "remove_attachment":
            aid = post.get("attachment", "")
            services.remove_attachment(request.user, document, int(aid) if aid.isdigit() else 0)
    except services.RuleViolation as exc:
        for violation in exc.violations:
            messages.error(request, f"{label}未完成：{violation.message}（{violation.rule}）")
        return _back(request, document)
    except ServiceError as exc:
        messages.error(request, f"{label or '操作'}未完成：{exc.message}")
        return _back(request, document)
    document.refresh_from_db()
    done = {"number": f"已取号：{document.doc_number}", "seal": "已用印，可预览用印后的版式文件",
            "dispatch": f"已核发给 {document.dispatches.count()} 个单位"}.get(action, f"已{label}")
    messages.success(request, done)
    return _back(request, document)

