"""已阅 (the 待阅 box's batch and the task page's button) and the 常用语 page: thin views over services.reading.

A ServiceError becomes a Chinese message (and the page again), never a 500; someone else's phrase is a 404.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from zhengtong.core.errors import NotFound, ServiceError

from . import selectors_reading, services
from .models import Phrase, Task
from .services.reading import MAX_PHRASES


def _ids(values) -> list[int]:
    try:
        return list(dict.fromkeys(int(v) for v in values))
    except (TypeError, ValueError):
        return []


@login_required
@require_http_methods(["POST"])
def mark_read(request):
    """标为已阅: the ticked rows of the 待阅 box (`ids`), or the task page's 已阅 with an optional 阅知意见."""
    ids = _ids(request.POST.getlist("ids"))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = ""
    tasks = list(Task.objects.select_related("assignee").filter(pk__in=ids))
    try:
        if not ids or len(tasks) != len(ids):
            raise ServiceError("flow.tasks_required", "请先勾选要标为已阅的待阅件")
        count = services.mark_read(request.user, tasks, opinion=request.POST.get("opinion", ""))
    except ServiceError as exc:
        messages.error(request, f"未能标为已阅：{exc.message}")
    else:
        messages.success(request, f"已标为已阅 {count} 件" if count else "所选待阅件已经阅过")
    return redirect(target or "flow:toread")


@login_required
@require_http_methods(["GET", "POST"])
def phrases(request):
    """常用语: the viewer's list (or the defaults) with add, delete and move up / down."""
    error, text, status = "", "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        text = request.POST.get("text", "")
        try:
            if action == "add":
                services.add_phrase(request.user, text)
                messages.success(request, "已添加常用语")
            elif action in ("delete", "move"):
                [pk] = _ids([request.POST.get("id")]) or [0]
                phrase = Phrase.objects.filter(pk=pk).first()
                if phrase is None:
                    raise NotFound("flow.phrase_not_found", "常用语不存在")
                if action == "delete":
                    services.delete_phrase(request.user, phrase)
                    messages.success(request, f"已删除常用语“{phrase.text}”")
                else:
                    services.move_phrase(request.user, phrase, request.POST.get("position", ""))
            else:
                raise ServiceError("flow.unknown_action", "未知的操作")
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except ServiceError as exc:
            error, status = exc.message, exc.status
        else:
            return redirect("flow:phrases")
    items = selectors_reading.phrases_for(request.user)
    return render(request, "flow/phrases.html", {
        "items": items, "defaults": bool(items) and items[0]["id"] is None, "error": error, "text": text,
        "max": MAX_PHRASES, "last": len(items) - 1,
    }, status=status)
