"""流程监控 (/flows/monitor/): the unit administrator's view of the running and suspended instances of their
unit(s), one instance's page with the admin operations, and 工作交接 (/flows/monitor/handover/).

Reads are indexed queries on the instance and task rows (deadline status is stored, refreshed nightly); writes go
through `flow.services.admin` (permission, lock, audit there) via `api_admin.perform`, the same as the API. A
ServiceError becomes a Chinese message, never a 500. Who sees the pages: a 单位系统管理员 (their units) or the
platform 系统管理员 (all); anyone else gets 403, audited.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from zhengtong.audit.services import security_event
from zhengtong.core.errors import ServiceError
from zhengtong.org.models import Identity, Unit
from zhengtong.org.picker import parse_ids

from . import engine, selectors, services
from .api_admin import AdminActionIn, perform
from .models import BusinessType, ProcessInstance, Task
from .services.admin import LABELS, handover_queryset, own_unit_admin_ids
from .views import OPERATIONS

PAGE_SIZE = 20
BUSINESS_LABELS = dict(BusinessType.choices)
STATUS_CHOICES = [(s.value, s.label) for s in ProcessInstance.Status]
DEADLINE_CHOICES = [("normal", "正常"), ("yellow", "黄牌"), ("red", "红牌")]
MONITOR_OPERATIONS = {**OPERATIONS, "dispatch": "调度", "dispatch_skip": "调度跳过", "reassign": "重置处理人",
                      "handover": "工作交接", "set_deadline": "设置时限"}


def _denied(request, message: str, **detail):
    security_event("permission.denied", user=request.user, outcome="denied",
                   detail={"code": "flow.not_unit_admin", **detail})
    return render(request, "flow/denied.html", {"message": message}, status=403)


def _units(user) -> list[Unit]:
    """The units whose 单位系统管理员 the user is ([] = none). Not the platform 三员: documents are not theirs (R7.2)."""
    return list(Unit.objects.filter(pk__in=own_unit_admin_ids(user)).order_by("name"))


def _int(value, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 100000))
    except (TypeError, ValueError):
        return default


@login_required
def index(request):
    """Running / suspended instances of the administrator's units: filters (业务类型, 状态, 时限状态, 标题, 拟稿人),
    sorted by the 整体办结时限 (none last), then the oldest first; 20 a page; current nodes of the page's rows."""
    units = _units(request.user)
    if units == []:
        return _denied(request, "只有单位系统管理员可以查看流程监控。", page="monitor")
    q = request.GET
    filters = {
        "business_type": q.get("business_type", "") if q.get("business_type", "") in BUSINESS_LABELS else "",
        "status": q.get("status", "") if q.get("status", "") in dict(STATUS_CHOICES) else "",
        "deadline_status": q.get("deadline_status", "") if q.get("deadline_status", "") in dict(DEADLINE_CHOICES)
        else "",
        "title": q.get("title", "").strip()[:100],
        "drafter": q.get("drafter", "").strip()[:50],
        "unit": q.get("unit", "") if q.get("unit", "").isascii() and q.get("unit", "").isdigit() else "",
    }
    qs = ProcessInstance.objects.defer("state")  # a list never needs the engine state (~5–50 KB a row)
    if units is not None:
        qs = qs.filter(unit__in=[u.pk for u in units])
    if filters["unit"]:
        qs = qs.filter(unit_id=int(filters["unit"]))
    if filters["status"]:
        qs = qs.filter(status=filters["status"])
    else:
        qs = qs.filter(status__in=[ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED])
    if filters["business_type"]:
        qs = qs.filter(business_type=filters["business_type"])
    if filters["deadline_status"]:
        qs = qs.filter(deadline_status=filters["deadline_status"])
    if filters["title"]:
        qs = qs.filter(title__icontains=filters["title"])
    if filters["drafter"]:
        qs = qs.filter(Q(drafter__person__name__icontains=filters["drafter"])
                       | Q(drafter__person__pinyin__icontains=filters["drafter"].lower()))
    count = qs.count()
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(_int(q.get("page", "1")), pages)
    rows = list(qs.select_related("drafter__person", "unit")
                .order_by(F("deadline").asc(nulls_last=True), "started_at", "id")[(page - 1) * PAGE_SIZE:page * PAGE_SIZE])
    current: dict[int, list[str]] = {}
    for t in (Task.objects.filter(instance__in=[r.pk for r in rows], status=Task.Status.OPEN, kind=Task.Kind.TODO)
              .select_related("assignee__person").order_by("id")):
        current.setdefault(t.instance_id, []).append(f"{t.node_name}（{t.assignee.person.name}）")
    items = [{"instance": r, "business_type_label": BUSINESS_LABELS.get(r.business_type, r.business_type),
              "current": current.get(r.pk, [])} for r in rows]
    kept = {k: v for k, v in filters.items() if v}
    return render(request, "flow/monitor/list.html", {
        "items": items, "count": count, "page": page, "pages": pages, "filters": kept, "filtered": bool(kept),
        "query": urlencode(kept), "prev_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None, "business_types": BusinessType.choices,
        "status_choices": STATUS_CHOICES, "deadline_choices": DEADLINE_CHOICES,
        "units": units if units is not None else [], "all_units": units is None,
    })


def _instance_or_denied(request, instance_id: int):
    instance = (ProcessInstance.objects.select_related("definition", "drafter__person", "unit")
                .filter(pk=instance_id).first())
    if instance is None:
        raise Http404("流程不存在")
    if not services.admin.is_unit_admin(request.user, instance.unit_id):
        return instance, _denied(request, "只有本单位系统管理员可以查看该流程的监控页。", instance=instance.pk)
    return instance, None


@login_required
def detail(request, instance_id: int):
    """One instance: facts, current nodes (重置处理人 per open task), the 调度 / 挂起·恢复·终止 / 整体时限 forms,
    the trail."""
    instance, denied = _instance_or_denied(request, instance_id)
    if denied:
        return denied
    info = selectors.instance_detail(instance)
    for entry in info["trail"]:
        entry["operation_label"] = MONITOR_OPERATIONS.get(entry["operation"], entry["operation"])
    try:
        nodes = engine.user_task_nodes(engine.load_state(instance.definition, instance.state))
    except Exception:  # noqa: BLE001 — a broken state must not make the page a 500; 调度 will say why
        nodes = []
    for c in info["current"]:
        c["picker_id"] = f"reassign-{c['task_id']}"
    current_ids = {c["node_id"] for c in info["current"]}
    live = instance.status in (ProcessInstance.Status.RUNNING, ProcessInstance.Status.SUSPENDED)
    return render(request, "flow/monitor/detail.html", {
        "instance": instance, "detail": info, "business_type_label": BUSINESS_LABELS.get(instance.business_type, ""),
        "nodes": [(node_id, name, multi, node_id in current_ids) for node_id, name, multi in nodes],
        "running": instance.status == ProcessInstance.Status.RUNNING,
        "suspended": instance.status == ProcessInstance.Status.SUSPENDED, "live": live,
    })


@login_required
@require_POST
def act(request, instance_id: int):
    """The detail page's forms: one POST endpoint over `api_admin.perform` (the API's dispatcher)."""
    instance, denied = _instance_or_denied(request, instance_id)
    if denied:
        return denied
    post = request.POST
    action = post.get("action", "")
    label = LABELS.get(action, "操作")
    try:
        if action not in ("suspend", "resume", "terminate", "move", "reassign", "set_deadline"):
            raise ServiceError("flow.unknown_action", "未知的操作")
        try:
            to_identities = parse_ids(post.get("to_identities", ""))
            task_id = int(post["task_id"]) if post.get("task_id") else None
            deadline = date.fromisoformat(post["deadline"]) if post.get("deadline") else None
        except ValueError as exc:
            raise ServiceError("flow.invalid_request", "所选人员、任务或日期无效") from exc
        new_tasks = perform(request.user, instance, AdminActionIn(
            action=action, target_node=post.get("target_node", "").strip()[:100], task_id=task_id,
            to_identities=to_identities, deadline=deadline, reason=post.get("reason", "").strip()[:2000]))
    except ServiceError as exc:
        messages.error(request, f"{label}未完成：{exc.message}")
        return redirect("flow_monitor:detail", instance_id=instance.pk)
    names = "、".join(dict.fromkeys(f"{t.node_name}（{t.assignee.person.name}）" for t in new_tasks))
    messages.success(request, f"已{label}" + (f"：{names}" if names else ""))
    return redirect("flow_monitor:detail", instance_id=instance.pk)


@login_required
@require_http_methods(["GET", "POST"])
def handover(request):
    """工作交接: choose the leaving post and the successor, see how many 待办 will move (预览), then confirm."""
    units = _units(request.user)
    if units == []:
        return _denied(request, "只有单位系统管理员可以办理工作交接。", page="handover")
    data = request.POST if request.method == "POST" else request.GET
    values = {"from_identity": data.get("from_identity", "").strip(), "to_identity": data.get("to_identity", "").strip(),
              "reason": data.get("reason", "").strip()[:2000]}
    error, preview, chosen = "", None, {}
    if values["from_identity"] or values["to_identity"]:
        try:
            ids = {}
            for key in ("from_identity", "to_identity"):
                parsed = parse_ids(values[key]) if values[key] else []
                if len(parsed) != 1:
                    raise ServiceError("flow.one_identity_required", "交接人和接收人各选择一位")
                ids[key] = parsed[0]
            found = {i.pk: i for i in Identity.objects.select_related("person", "unit", "department")
                     .filter(pk__in=ids.values())}
            if set(ids.values()) - set(found):
                raise ServiceError("flow.identity_not_found", "所选人员不存在")
            chosen = {key: found[pk] for key, pk in ids.items()}
            if not services.admin.is_unit_admin(request.user, chosen["from_identity"].unit_id):
                return _denied(request, "只能交接本单位人员的工作。", identity=ids["from_identity"])
            tasks = handover_queryset(chosen["from_identity"])
            preview = {"count": tasks.count(), "instances": tasks.values("instance_id").distinct().count()}
            if request.method == "POST":
                moved = services.hand_over_work(request.user, from_identity=chosen["from_identity"],
                                                to_identity=chosen["to_identity"], reason=values["reason"])
                messages.success(request, f"已将 {chosen['from_identity'].person.name} 的 {len(moved)} 件待办移交给 "
                                          f"{chosen['to_identity'].person.name}")
                return redirect("flow_monitor:handover")
        except ServiceError as exc:
            error = exc.message
    return render(request, "flow/monitor/handover.html", {
        "values": values, "error": error, "preview": preview, "chosen": chosen,
        "unit": units[0].pk if units and len(units) == 1 else None,
    }, status=400 if error and request.method == "POST" else 200)
