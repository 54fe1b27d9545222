"""Pages of the notifications: the centre (list, mark read, open), the live badge polled by HTMX, a person's
settings, a unit's defaults (单位系统管理员), and the delivery page with the robots and gateways (系统管理员 for the
platform, 单位系统管理员 for their unit). Every write is one call of notify.services; a refusal is a message on the
page or a 403 with the reason."""
from __future__ import annotations

import json
from datetime import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhengtong.accounts.permissions import administered_unit_ids, is_any_admin
from zhengtong.core.errors import Forbidden, NotFound, ServiceError
from zhengtong.org.models import Unit

from . import channels, selectors, services
from .models import Event, Preference
from .preferences import PLATFORM_DEFAULT

PER_PAGE = 30
STOP_POLLING = 286  # htmx: stop the `every 30s` trigger (logged out, or an account without a person)


def _denied(request, exc: Forbidden):
    message = exc.message if exc.message.endswith("。") else exc.message + "。"
    return render(request, "flow/denied.html", {"message": message, "area": "消息提醒"}, status=403)


@require_GET
@never_cache
def count(request):
    """The badge: the unread count as a tiny fragment (no session write, one indexed count)."""
    n = selectors.badge(request.user.pk) if request.user.is_authenticated else None
    if n is None:  # the same rule as the bell (notify_tags): no person, or a 三员 account
        return HttpResponse("", status=STOP_POLLING)
    label = "99+" if n > 99 else str(n)
    body = f'<span class="bell-count" title="未读消息 {n} 条">{label}</span>' if n else ""
    return HttpResponse(body)


@login_required
@require_GET
def centre(request):
    try:
        person = services._person(request.user)
    except Forbidden as exc:
        return _denied(request, exc)
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(selectors.centre(person, unread_only=unread_only), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "notify/centre.html", {
        "page": page, "unread_only": unread_only, "unread": selectors.unread_count(person.pk),
        "events": dict(Event.choices)})


@login_required
@require_POST
def mark_read(request):
    try:
        ids = None if request.POST.get("all") else request.POST.getlist("id")
        n = services.mark_read(request.user, ids)
    except Forbidden as exc:
        return _denied(request, exc)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("notify:centre")
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Trigger": "notifications-read"})
    messages.success(request, f"已将 {n} 条消息标为已读" if n else "没有未读消息")
    return redirect(request.POST.get("next") if url_has_allowed_host_and_scheme(
        request.POST.get("next", ""), allowed_hosts={request.get_host()}) else reverse("notify:centre"))


@login_required
@require_GET
def open_item(request, pk: int):
    """Mark read and go to the item (a notification without a link stays in the centre)."""
    try:
        row = services.open_notification(request.user, pk)
    except Forbidden as exc:
        return _denied(request, exc)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if row.url and url_has_allowed_host_and_scheme(row.url, allowed_hosts=None):
        return redirect(row.url)
    return redirect(reverse("notify:centre") + f"#n{row.pk}")


# --- settings ------------------------------------------------------------------------------------------------

def _time(text: str, what: str) -> time | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        hour, minute = (int(p) for p in text.split(":")[:2])
        return time(hour, minute)
    except ValueError as exc:
        raise ServiceError("notify.invalid_time", f"{what}应为 时:分，如 22:00") from exc


def _posted_choice(post) -> dict:
    names = list(channels.registry())
    chosen = {event: [c for c in names if post.get(f"{event}:{c}")] for event in Event.values}
    return {"channels_by_event": chosen, "quiet_start": _time(post.get("quiet_start"), "免打扰开始时间"),
            "quiet_end": _time(post.get("quiet_end"), "免打扰结束时间"), "digest": bool(post.get("digest"))}


def _matrix(row: Preference | None, fallback: Preference | None = None) -> list[dict]:
    current = {**(fallback.channels if fallback else {}), **(row.channels if row else {})}
    return [{"event": e, "label": label, "on": set(current.get(e, PLATFORM_DEFAULT.get(e, [])))}
            for e, label in Event.choices]


def _settings_page(request, *, row, fallback, action, heading, intro, save):
    if request.method == "POST":
        try:
            save(**_posted_choice(request.POST))
        except Forbidden as exc:
            return _denied(request, exc)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "提醒设置已保存")
            return redirect(action)
    return render(request, "notify/settings.html", {
        "matrix": _matrix(row, fallback), "channels": channels.labels(), "row": row or fallback,
        "action": action, "heading": heading, "intro": intro})


@login_required
@require_http_methods(["GET", "POST"])
def my_settings(request):
    try:
        person = services._person(request.user)
    except Forbidden as exc:
        return _denied(request, exc)
    row = Preference.objects.filter(person=person).first()
    main = person.identities.filter(active=True).order_by("-is_main", "order").first()
    fallback = Preference.objects.filter(unit_id=main.unit_id).first() if main else None
    return _settings_page(request, row=row, fallback=fallback, action=reverse("notify:settings"),
                          heading="提醒设置", intro="选择各类事件通过哪些方式提醒您；系统内消息中心始终会收到。",
                          save=lambda **kw: services.save_preference(request.user, **kw))


@login_required
@require_http_methods(["GET", "POST"])
def unit_defaults(request, unit_id: int):
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise Http404("单位不存在")
    try:
        services.require_unit_admin(request.user, unit.pk, "设置单位默认提醒")
    except Forbidden as exc:
        return _denied(request, exc)
    row = Preference.objects.filter(unit=unit).first()
    return _settings_page(request, row=row, fallback=None, action=reverse("notify:unit", args=[unit.pk]),
                          heading=f"{unit.name} · 默认提醒设置",
                          intro="本单位人员未自行设置时按此提醒；个人设置优先。",
                          save=lambda **kw: services.save_unit_default(request.user, unit.pk, **kw))


@login_required
@require_GET
def unit_pick(request):
    """The unit chosen on the delivery page → its defaults page."""
    unit = request.GET.get("unit", "")
    if not unit.isascii() or not unit.isdigit():
        messages.error(request, "请选择单位")
        return redirect("notify:admin")
    return redirect("notify:unit", unit_id=int(unit))


# --- the administrators' page ----------------------------------------------------------------------------------

def _admin_scope(request):
    scope = administered_unit_ids(request.user)
    if scope is not None and not scope:
        raise Forbidden("notify.not_admin", "只有系统管理员或单位系统管理员可以查看消息推送情况")
    return scope


@login_required
@require_http_methods(["GET", "POST"])
def admin_page(request):
    try:
        scope = _admin_scope(request)
    except Forbidden as exc:
        from zhengtong.audit.services import security_event

        security_event("permission.denied", user=request.user, outcome="denied", object_type="notify.admin",
                       detail={"code": exc.code})
        return _denied(request, exc)
    if request.method == "POST":
        try:
            _admin_post(request)
        except Forbidden as exc:
            return _denied(request, exc)
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("notify:admin")
    units = Unit.objects.filter(active=True).order_by("order", "pk") if scope is None else \
        Unit.objects.filter(pk__in=scope).order_by("order", "pk")
    return render(request, "notify/admin.html", {
        "statuses": selectors.status_by_channel(scope), "problems": selectors.problems(scope),
        "configs": selectors.channel_configs(scope), "kinds": channels.configurable(), "units": units[:500],
        "platform": scope is None, "is_admin_account": is_any_admin(request.user)})


def _admin_post(request) -> None:
    post = request.POST
    action = post.get("action")
    if action == "resend":
        n = services.resend(request.user, post.getlist("message"))
        messages.success(request, f"已重新排队发送 {n} 条消息")
        return
    if action == "save_channel":
        unit_id = post.get("unit") or None
        try:
            options = json.loads(post["options"]) if post.get("options", "").strip() else None
            per_minute = int(post["per_minute"]) if post.get("per_minute", "").strip() else None
            unit_id = int(unit_id) if unit_id else None
            pk = int(post["pk"]) if post.get("pk") else None
        except (ValueError, json.JSONDecodeError) as exc:
            raise ServiceError("notify.invalid_form", "参数应为 JSON 对象，每分钟上限和单位应为数字") from exc
        config = services.save_channel_config(request.user, kind=post.get("kind", ""), name=post.get("name", ""),
                                              unit_id=unit_id, url=post.get("url", ""), secret=post.get("secret", ""),
                                              options=options, per_minute=per_minute,
                                              active=bool(post.get("active")), pk=pk)
        messages.success(request, f"已保存消息通道“{config.name}”")
        return
    raise ServiceError("notify.invalid_action", "未知操作")

