"""The 待办 centre (/tasks/) and the task page (/tasks/<id>/): thin views over flow.selectors and flow.services.

Reads go through the selectors (indexed worklist queries); the one write, 提交, is `services.submit_task`
(permission, lock, audit there). A ServiceError becomes a Chinese message on the page, never a 500.
"""
from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from zhengtong.audit.services import security_event
from zhengtong.core.errors import ServiceError
from zhengtong.org.picker import parse_ids

from . import actions, business, selectors, selectors_ops, services
from .models import BusinessType, ProcessInstance, Task

BOX_TABS = [("todo", "待办"), ("done", "已办"), ("toread", "待阅"), ("read", "已阅"), ("started", "我发起的")]
BUSINESS_LABELS = dict(BusinessType.choices)
DEADLINE_CHOICES = [("normal", "正常"), ("yellow", "黄牌"), ("red", "红牌")]
OPERATIONS = {"start": "发起", "submit": "提交", "circle_read": "圈阅", "delegation": "AB岗转交", "return": "退回",
              "retract": "撤回", "send_back": "送回退回人", "transfer": "转办", "transferred_to": "接办",
              "delegate": "委派", "delegated_to": "受委派", "delegate_done": "受委派办理", "add_signers": "加签", "added_signer": "被加签",
              "added_signer_done": "加签办理", "remove_signers": "减签", "removed_signer": "被减签",
              "circulate": "传阅", "read": "阅知", "urge": "催办", "suspend": "挂起", "resume": "恢复",
              "terminate": "终止", "dispatch": "调度", "dispatch_skip": "调度跳过", "reassign": "重置处理人",
              "handover": "工作交接", "set_deadline": "设置整体时限"}
HANDLED = {"submit", "circle_read", "send_back", "added_signer_done", "delegate_done"}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 100000))
    except (TypeError, ValueError):
        return default


@login_required
def worklist(request, box: str):
    """待办 / 已办 / 待阅 / 已阅 with filters (业务类型, 时限状态, 收到日期), sorted by deadline, paginated."""
    q = request.GET
    filters = {
        "business_type": q.get("business_type", "") if q.get("business_type", "") in BUSINESS_LABELS else "",
        "deadline_status": q.get("deadline_status", "") if q.get("deadline_status", "") in dict(DEADLINE_CHOICES)
        else "",
        "received_from": _date(q.get("from", "")),
        "received_to": _date(q.get("to", "")),
    }
    page = _int(q.get("page", "1"))
    result = selectors.worklist(request.user, box, page, **filters)
    for item in result["items"]:
        item["business_type_label"] = BUSINESS_LABELS.get(item["business_type"], item["business_type"])
    pages = max(1, -(-result["count"] // selectors.PAGE_SIZE))
    kept = {k: v for k, v in {"business_type": filters["business_type"], "deadline_status": filters["deadline_status"],
                              "from": q.get("from", "") if filters["received_from"] else "",
                              "to": q.get("to", "") if filters["received_to"] else ""}.items() if v}
    return render(request, "flow/worklist.html", {
        "box": box, "box_label": dict(BOX_TABS)[box], "tabs": BOX_TABS, "count": result["count"],
        "items": result["items"], "page": page, "pages": pages, "query": urlencode(kept), "filters": kept,
        "business_types": BusinessType.choices, "deadline_choices": DEADLINE_CHOICES, "filtered": bool(kept),
        "prev_page": page - 1 if page > 1 else None, "next_page": page + 1 if page < pages else None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def task_page(request, task_id: int):
    """The task page: instance, current node, deadline, trail; the 提交 form for the viewer's own open task."""
    task = (Task.objects.select_related("instance__definition", "assignee__person", "on_behalf_of__person",
                                        "sender__person").filter(pk=task_id).first())
    if task is None:
        raise Http404("任务不存在")
    instance = task.instance
    if not selectors.is_participant(request.user, instance):
        security_event("permission.denied", user=request.user, outcome="denied", obj=instance,
                       detail={"code": "flow.not_participant", "task": task.pk})
        return render(request, "flow/denied.html", {"message": "只有该流程的参与人可以查看。"}, status=403)
    person = getattr(request.user, "person", None)
    mine = task.status == Task.Status.OPEN and person is not None and task.assignee.person_id == person.pk
    if mine and task.opened_at is None:
        task = services.open_task(request.user, task)  # 打开: from now on the sender can no longer 撤回
    form = selectors_ops.submit_form(task, with_candidates=True) if mine and task.kind == Task.Kind.TODO else None
    error, values = "", {"opinion": "", "route": "", "next_handlers": ""}
    if request.method == "POST":
        if form is None:
            error = "这一步已经不在您的待办中，不能提交。"
        else:
            values = {k: request.POST.get(k, "").strip() for k in values}
            try:
                try:
                    handlers = parse_ids(values["next_handlers"]) if values["next_handlers"] else []
                except ValueError as exc:
                    raise ServiceError("flow.handler_not_allowed", "下一步办理人无效") from exc
                if request.POST.get("send_back") == "1":
                    new_tasks = services.send_back_to_returner(request.user, task, opinion=values["opinion"])
                else:
                    new_tasks = services.submit_task(request.user, task, route=values["route"],
                                                     next_handlers=handlers, opinion=values["opinion"],
                                                     circled=request.POST.get("circled") == "1")
            except ServiceError as exc:
                error = exc.message
            else:
                names = "、".join(dict.fromkeys(f"{t.node_name}（{t.assignee.person.name}）" for t in new_tasks))
                messages.success(request, f"已提交“{task.node_name}”" + (f"，已送 {names}" if names else "，流程已办结"))
                return redirect("flow:todo")
    detail = selectors.instance_detail(instance)
    for entry in detail["trail"]:
        entry["operation_label"] = OPERATIONS.get(entry["operation"], entry["operation"])
    current_ids = sorted({c["node_id"] for c in detail["current"]})
    done_ids = sorted({e["node_id"] for e in detail["trail"] if e["operation"] in HANDLED and e["node_id"]})
    diagram = {"xml": instance.definition.bpmn_xml, "current": json.dumps(current_ids),
               "done": json.dumps([n for n in done_ids if n not in current_ids])}
    status = 200 if not error else 400
    hooks = business.hooks_for(instance.business_type)
    panel = hooks.panel(request.user, task) if hooks.panel else None
    return render(request, "flow/task.html", {
        "business_panel": panel[0] if panel else "", **(panel[1] if panel else {}),
        "task": task, "instance": instance, "detail": detail, "mine": mine, "form": form, "error": error,
        "values": values, "diagram": diagram, "business_type_label": BUSINESS_LABELS.get(instance.business_type, instance.business_type),
    }, status=status)


# Actions that leave the actor on the task page afterwards (the task is still theirs, or they are watching it).
STAY_ON_PAGE = {"circulate", "urge", "suspend", "resume", "add_signers", "remove_signers"}


@login_required
@require_http_methods(["POST"])
def task_action(request, task_id: int):
    """The task page's operation forms (退回, 撤回, 转办, 委派, 加签, 减签, 传阅, 催办, 挂起, 恢复, 终止): one POST
    endpoint over `actions.perform`, the same dispatcher as the API; a refusal comes back as a message."""
    task = Task.objects.select_related("instance", "assignee").filter(pk=task_id).first()
    if task is None:
        raise Http404("任务不存在")
    post = request.POST
    action = post.get("action", "")
    label = actions.LABELS.get(action, "")
    try:
        if not label or action == "open":
            raise ServiceError("flow.unknown_action", "未知的操作")
        try:
            to_identities = parse_ids(post.getlist("remove") or post.get("to_identities", ""))  # 减签: checkboxes
            to_units = parse_ids(post.get("to_units", ""))
        except ValueError as exc:
            raise ServiceError("flow.identity_not_found", "所选人员或单位无效") from exc
        new_tasks = actions.perform(request.user, task, actions.ActionRequest(
            action=action, route=post.get("route", "").strip(), to_identities=to_identities, to_units=to_units,
            target_node=post.get("target_node", "").strip(), opinion=post.get("opinion", "").strip(),
            position=post.get("position", "").strip(), send_back=post.get("send_back") == "1"))
    except ServiceError as exc:
        messages.error(request, f"{label or '操作'}未完成：{exc.message}")
        return redirect("flow:task", task_id=task.pk)
    names = list(dict.fromkeys(t.assignee.person.name for t in new_tasks if t.assignee_id))
    shown = "、".join(names[:5]) + (f" 等 {len(names)} 人" if len(names) > 5 else "")
    messages.success(request, f"已{label}" + (f"：{shown}" if names else ""))
    if action in STAY_ON_PAGE:
        return redirect("flow:task", task_id=task.pk)
    return redirect("flow:todo")


INSTANCE_STATUSES = [("running", "办理中"), ("suspended", "已挂起"), ("completed", "已办结"), ("terminated", "已终止")]


@login_required
def started(request):
    """我发起的: the instances the user started, newest first, with where each one is now."""
    status = request.GET.get("status", "")
    status = status if status in dict(INSTANCE_STATUSES) else ""
    page = _int(request.GET.get("page", "1"))
    result = selectors.started(request.user, page, status=status)
    for item in result["items"]:
        item["business_type_label"] = BUSINESS_LABELS.get(item["business_type"], item["business_type"])
    pages = max(1, -(-result["count"] // selectors.PAGE_SIZE))
    return render(request, "flow/started.html", {
        "box": "started", "tabs": BOX_TABS, "count": result["count"], "items": result["items"], "page": page,
        "pages": pages, "status": status, "statuses": INSTANCE_STATUSES,
        "query": urlencode({"status": status}) if status else "",
        "prev_page": page - 1 if page > 1 else None, "next_page": page + 1 if page < pages else None,
    })


@login_required
def instance_page(request, instance_id: int):
    """An instance as the viewer sees it: the task page of their own row (participants only)."""
    instance = ProcessInstance.objects.filter(pk=instance_id).first()
    if instance is None:
        raise Http404("流程不存在")
    if not selectors.is_participant(request.user, instance):
        security_event("permission.denied", user=request.user, outcome="denied", obj=instance,
                       detail={"code": "flow.not_participant"})
        return render(request, "flow/denied.html", {"message": "只有该流程的参与人可以查看。"}, status=403)
    task = selectors.task_to_show(request.user, instance)
    if task is None:
        raise Http404("流程没有任务")
    return redirect("flow:task", task_id=task.pk)


@login_required
@require_http_methods(["GET", "POST"])
def start_page(request):
    """发起. A business type its app starts (flow.business `start_url`: 发文 and 签报 at 拟稿, 收文 at the 收发员's
    登记) is a link there, and `?business_type=` of one goes straight on; the others: business type, title and (for
    someone with several posts) the post, then the first step opens. A bare start of the former is refused."""
    person = getattr(request.user, "person", None)
    posts = list(person.identities.filter(active=True).select_related("unit", "department", "duty")) if person else []
    elsewhere = [{"value": value, "label": label, "url": business.start_url(value, request.user),
                  "note": business.hooks_for(value).start_note}
                 for value, label in BusinessType.choices if business.starts_in_business_app(value)]
    bare_types = [(value, label) for value, label in BusinessType.choices
                  if not business.starts_in_business_app(value)]
    values = {"business_type": request.GET.get("business_type", ""), "title": "", "identity": ""}
    error = ""
    if request.method == "GET" and posts and (url := business.start_url(values["business_type"], request.user)):
        return redirect(url)
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        try:
            business.refuse_bare_start(values["business_type"])
            identity = services.identity_to_start(request.user, _int(values["identity"], 0) or None)
            instance = services.start_process(request.user, identity=identity,
                                              business_type=values["business_type"], title=values["title"])
        except ServiceError as exc:
            error = exc.message
        else:
            first = Task.objects.filter(instance=instance, status=Task.Status.OPEN).order_by("id").first()
            messages.success(request, f"已发起“{instance.title}”")
            return redirect("flow:task", task_id=first.pk) if first else redirect("flow:started")
    return render(request, "flow/start.html", {
        "posts": posts, "values": values, "error": error, "business_types": bare_types, "elsewhere": elsewhere,
    }, status=400 if error else 200)
