"""流程管理 (/flows/): the unit administrator's process definitions and the graphical designer (issue #3 §1).

- `/flows/`                 the definitions the user administers, by business type: the platform 系统管理员 sees
                            all; a 单位系统管理员 their units' own plus the platform defaults they inherit (read-only).
- `/flows/<id>/design/`     the bpmn-js modeler on that version's XML, with our own properties panel
                            (flow/designer.js). `?unit=<id>` = 新建: a copy of a platform default for that unit.
- `/flows/<id>/save/`       POST {xml, name, unit} (fetch, JSON) → `services.upload_definition` → a new draft
                            version (201) or every validation problem (400 {code, message, problems}).
- `/flows/<id>/activate/`   POST (form) → `services.activate_definition`.

The services are the only writers; they check the permission again and audit. The views refuse, with a 403 page
(audited as a security event), anyone who administers no unit, and anyone reading or copying a definition of a
unit they do not administer. The designer page alone sends a CSP with `style-src-attr` hashes for the four fixed
style="" values of bpmn-js's align/distribute icons (docs/flow-designer-notes.md, "CSP finding").
"""
from __future__ import annotations

import json
from collections import OrderedDict

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from zhengtong.accounts.permissions import administered_unit_ids
from zhengtong.audit.services import security_event
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.org.models import Duty, Group, Identity, Role, Unit

from . import services
from .extensions import OPERATIONS, RELATIVES, RULES
from .models import BusinessType, ProcessDefinition

# style-src-attr for the bpmn-js align/distribute icons: 'unsafe-hashes' plus the sha256 of each of the four
# style="" strings in the vendored modeler bundle (tests check them against the bundle), nothing else.
BPMN_JS_STYLE_ATTR = [
    "'unsafe-hashes'",
    "'sha256-YYsquP+xqomqgdAIk5J+Ecd2u1EqIWPCaE4ltXAtPYE='",  # stroke:currentColor;stroke-width:100;stroke-linecap:round;
    "'sha256-yCTUeVKU6CD7LMSHPoB5JSg4Cl/BZ8jCyNCepX770PY='",  # fill:none;stroke:currentColor;stroke-width:100;
    "'sha256-d2xoiruNEGKe7tm8eQYZ4wZfl8lYgb2Sr9xKlvmCmcU='",  # fill:currentColor;…;opacity:.5;
    "'sha256-HXhQM6ELrVUcZms/DLHL1dH06lIksex0j+VgqIIlSmM='",  # fill:none;…;stroke-linejoin:round;
]
EDITABLE_FIELDS = [("title", "标题"), ("body", "正文"), ("recipients", "主送/抄送"), ("attachments", "附件")]
NEEDS = "只有系统管理员和单位系统管理员可以管理流程。"


def _deny(request, code: str, message: str, *, obj=None, as_json: bool = False, status: int = 403):
    security_event("permission.denied", user=request.user, outcome="denied", obj=obj,
                   detail={"code": code, "path": request.path})
    if as_json:
        return JsonResponse({"code": code, "message": message}, status=status)
    return render(request, "flow/denied.html", {"message": message, "area": "流程管理"}, status=status)


def _scope(user) -> set[int] | None:
    """None = every unit (platform 系统管理员); else the ids of the units the user administers (may be empty)."""
    return administered_unit_ids(user)


def _readable(allowed: set[int] | None, definition: ProcessDefinition) -> bool:
    return allowed is None or definition.unit_id is None or definition.unit_id in allowed


def _editable(allowed: set[int] | None, unit_id: int | None) -> bool:
    return allowed is None or (unit_id is not None and unit_id in allowed)


def _owner(definition: ProcessDefinition) -> str:
    return definition.unit.name if definition.unit_id else "平台默认"


@login_required
@require_GET
def definition_list(request):
    """流程管理: every definition the user administers, grouped by business type, newest version first."""
    allowed = _scope(request.user)
    if allowed is not None and not allowed:
        return _deny(request, "flow.not_definition_admin", NEEDS)
    rows = ProcessDefinition.objects.select_related("unit", "created_by")
    if allowed is not None:
        rows = rows.filter(Q(unit__isnull=True) | Q(unit_id__in=allowed))
    rows = rows.order_by("business_type", "unit_id", "key", "-version")
    units = list(Unit.objects.filter(pk__in=allowed).order_by("order", "pk")) if allowed is not None else []
    active = {(d.unit_id, d.business_type): d for d in rows if d.status == ProcessDefinition.Status.ACTIVE}
    groups: OrderedDict[str, dict] = OrderedDict(
        (value, {"value": value, "label": label, "rows": [], "new": []}) for value, label in BusinessType.choices)
    for d in rows:
        groups[d.business_type]["rows"].append({
            "definition": d, "owner": _owner(d), "editable": _editable(allowed, d.unit_id),
            "platform": d.unit_id is None})
    for value, group in groups.items():
        platform = active.get((None, value))
        if allowed is None:
            # the platform 系统管理员: 新建 = a new platform version from the active default
            if platform is not None:
                group["new"].append({"label": "新建平台版本", "url": reverse("flow_designer:design", args=[platform.pk])})
            continue
        for unit in units:
            source = active.get((unit.pk, value)) or platform
            if source is None:
                continue
            url = reverse("flow_designer:design", args=[source.pk])
            if source.unit_id is None:
                url += f"?unit={unit.pk}"
            group["new"].append({"label": f"新建（{unit.short_name or unit.name}）" if len(units) > 1 else "新建",
                                 "url": url})
    return render(request, "flow/designer/list.html", {
        "groups": list(groups.values()), "is_platform_admin": allowed is None, "units": units})


def _target(request, allowed, definition):
    """(unit the save goes to, copy?) for the designer of `definition`; raises PermissionError / Http404."""
    raw = request.GET.get("unit", "")
    if not raw:
        return definition.unit, False
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("单位不存在")
    unit = Unit.objects.filter(pk=int(raw)).first()
    if unit is None:
        raise Http404("单位不存在")
    if not _editable(allowed, unit.pk) or definition.unit_id not in (None, unit.pk):
        raise PermissionError
    return unit, definition.unit_id is None


def _choices(unit) -> dict:
    scope = Q(unit__isnull=True) | Q(unit=unit) if unit is not None else Q(unit__isnull=True)
    identities = []
    if unit is not None:
        identities = [
            (i.pk, f"{i.person.name}（{i.department.name + ' ' if i.department_id else ''}{i.title or i.duty.name}）")
            for i in Identity.objects.filter(unit=unit, active=True).select_related("person", "department", "duty")
            .order_by("duty__rank", "order", "pk")[:500]]
    return {
        "rules": list(RULES.items()),
        "relatives": list(RELATIVES.items()),
        "operations": list(OPERATIONS.items()),
        "duties": list(Duty.objects.order_by("rank", "code").values_list("code", "name")),
        "roles": list(Role.objects.filter(scope).order_by("code").values_list("code", "name")),
        "groups": list(Group.objects.filter(scope).order_by("name").values_list("name", "name")),
        "identities": identities,
        "fields": EDITABLE_FIELDS,
    }


@login_required
@require_GET
@csp_update({"style-src-attr": BPMN_JS_STYLE_ATTR})
def design(request, definition_id: int):
    """The designer on one version's XML: editable for its administrators, read-only for a unit administrator
    looking at the platform default they inherit (新建 makes their copy: `?unit=`)."""
    definition = get_object_or_404(ProcessDefinition.objects.select_related("unit", "created_by"), pk=definition_id)
    allowed = _scope(request.user)
    if allowed is not None and not allowed:
        return _deny(request, "flow.not_definition_admin", NEEDS, obj=definition)
    if not _readable(allowed, definition):
        return _deny(request, "flow.not_your_definition", "这是其他单位的流程，您不能查看或修改。", obj=definition)
    try:
        unit, copy = _target(request, allowed, definition)
    except PermissionError:
        return _deny(request, "flow.not_your_unit", "只能为本单位新建流程。", obj=definition)
    editable = _editable(allowed, unit.pk if unit is not None else None) if not copy else True
    if copy:
        name = f"{definition.get_business_type_display()}（{unit.short_name or unit.name}）"
    else:
        name = definition.name
    copy_url = ""
    if not editable and definition.unit_id is None and allowed:
        first = Unit.objects.filter(pk__in=allowed).order_by("order", "pk").first()
        copy_url = f"{reverse('flow_designer:design', args=[definition.pk])}?unit={first.pk}" if first else ""
    return render(request, "flow/designer/design.html", {
        "definition": definition, "owner": _owner(definition), "target_unit": unit, "copy": copy,
        "editable": editable, "name": name, "copy_url": copy_url,
        "can_activate": (editable and not copy and definition.status == ProcessDefinition.Status.DRAFT),
        "choices": _choices(unit), "xml": definition.bpmn_xml,
        "save_url": reverse("flow_designer:save", args=[definition.pk]),
    })


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServiceError("flow.invalid_request", "请求格式错误，请刷新页面后重试") from exc
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise ServiceError("flow.invalid_request", "请求缺少流程图（xml），请刷新页面后重试")
    return body


@login_required
@require_POST
def save(request, definition_id: int):
    """保存: the designer's XML becomes a new draft version through `services.upload_definition` (it validates,
    checks the permission again and audits). JSON in and out; 400 lists every problem with its element id."""
    definition = get_object_or_404(ProcessDefinition.objects.select_related("unit"), pk=definition_id)
    allowed = _scope(request.user)
    if (allowed is not None and not allowed) or not _readable(allowed, definition):
        return _deny(request, "flow.not_your_definition", "这是其他单位的流程，您不能修改。", obj=definition,
                     as_json=True)
    try:
        body = _json_body(request)
        raw_unit = body.get("unit")
        unit = definition.unit
        if raw_unit not in (None, "") and raw_unit != definition.unit_id:
            if definition.unit_id is not None or not (str(raw_unit).isascii() and str(raw_unit).isdigit()):
                return _deny(request, "flow.not_your_unit", "只能把平台默认流程复制为本单位的流程。", obj=definition,
                             as_json=True)
            unit = Unit.objects.filter(pk=int(raw_unit)).first()
            if unit is None:
                return JsonResponse({"code": "org.unit_not_found", "message": "单位不存在"}, status=404)
        name = body.get("name") if isinstance(body.get("name"), str) else ""
        created = services.upload_definition(request.user, business_type=definition.business_type, unit=unit,
                                             file_bytes=body["xml"].encode("utf-8"), name=name)
    except ServiceError as exc:
        out = {"code": exc.code, "message": exc.message}
        if "problems" in exc.details:
            out["problems"] = exc.details["problems"]
        return JsonResponse(out, status=exc.status)
    messages.success(request, f"已保存为“{created.name}”第 {created.version} 版（草稿）。检查无误后点“启用”。")
    return JsonResponse({"id": created.pk, "version": created.version, "status": created.status,
                         "design_url": reverse("flow_designer:design", args=[created.pk])}, status=201)


@login_required
@require_POST
def activate(request, definition_id: int):
    """启用 (form POST from the list or the designer): `services.activate_definition` checks and audits."""
    definition = get_object_or_404(ProcessDefinition.objects.select_related("unit"), pk=definition_id)
    try:
        definition = services.activate_definition(request.user, definition)
    except Forbidden:  # already recorded as a security event by the permission check
        return render(request, "flow/denied.html", {"message": "您不能启用这个流程。", "area": "流程管理"}, status=403)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已启用“{definition.name}”第 {definition.version} 版；新发起的"
                         f"{definition.get_business_type_display()}按此流程办理，办理中的不受影响。")
    return redirect("flow_designer:list")
