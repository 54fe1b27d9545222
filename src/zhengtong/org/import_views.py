"""组织机构导入/导出 pages (/org/import/, /org/export/): upload → preview (every error, or what will change) →
confirm. The platform 系统管理员 and units' 单位系统管理员 (inside their own units) may use them; the rules
live in org.transfer, which checks everything again on confirm.

Between preview and confirm the uploaded file waits in the default storage under `org-imports/`, named by a
random token kept in the uploader's session together with the file's SHA-256, and is deleted once used.
"""
from __future__ import annotations

import hashlib
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhengtong.accounts.permissions import administered_unit_ids
from zhengtong.audit.services import security_event
from zhengtong.core.errors import Forbidden, ServiceError

from . import transfer
from .models import Unit

SESSION_KEY = "zt.org_import"
MAX_SHOWN_ERRORS = 2000


def _may_import(user) -> bool:
    allowed = administered_unit_ids(user)
    return allowed is None or bool(allowed)


def _denied(request):
    security_event("permission.denied", user=request.user, outcome="denied", detail={"needs": "unit_admin",
                                                                                     "path": request.path})
    return render(request, "org/denied.html", {"message": "只有平台系统管理员或单位系统管理员可以导入、导出组织机构。"},
                  status=403)


def _scope(user) -> str:
    allowed = administered_unit_ids(user)
    if allowed is None:
        return "全部单位"
    names = list(Unit.objects.filter(pk__in=allowed).order_by("order", "id").values_list("name", flat=True))
    return "、".join(names)


def _stored_name(user, token: str) -> str:
    return f"org-imports/{user.pk}-{token}.xlsx"


def _forget(request) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        default_storage.delete(_stored_name(request.user, pending["token"]))


def _page(request, status: int = 200, **context):
    context.setdefault("scope", _scope(request.user))
    context.setdefault("platform", administered_unit_ids(request.user) is None)
    context["sheets"] = [(name, [c for c in columns if not c.info]) for name, columns in transfer.SHEET_COLUMNS.items()]
    return render(request, "org/import.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    if not _may_import(request.user):
        return _denied(request)
    if request.method == "GET":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, status=400, upload_error="请选择要导入的 .xlsx 文件")
    if upload.size > transfer.MAX_BYTES:
        return _page(request, status=400, upload_error="文件过大：一次最多 20 MB")
    data = upload.read()
    try:
        report = transfer.check_import(request.user, data)
    except Forbidden:
        return _denied(request)
    except ServiceError as exc:
        return _page(request, status=400, upload_error=exc.message, filename=upload.name)
    _forget(request)
    context = {"report": report, "filename": upload.name}
    if report.ok and (report.created or report.updated):
        token = secrets.token_urlsafe(24)
        default_storage.save(_stored_name(request.user, token), ContentFile(data))
        request.session[SESSION_KEY] = {"token": token, "sha256": report.sha256, "filename": upload.name[:200]}
        context["token"] = token
    if not report.ok:
        context["shown_errors"] = report.errors[:MAX_SHOWN_ERRORS]
    return _page(request, status=200 if report.ok else 400, **context)


@never_cache
@login_required
@require_POST
def import_confirm(request):
    if not _may_import(request.user):
        return _denied(request)
    pending = request.session.get(SESSION_KEY)
    if not pending or pending["token"] != request.POST.get("token", ""):
        messages.error(request, "待导入的文件已失效，请重新上传")
        return redirect("org:import")
    name = _stored_name(request.user, pending["token"])
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except OSError:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, "待导入的文件已失效，请重新上传")
        return redirect("org:import")
    if hashlib.sha256(data).hexdigest() != pending["sha256"]:
        _forget(request)
        messages.error(request, "待导入的文件已被改动，请重新上传")
        return redirect("org:import")
    try:
        report = transfer.import_workbook(request.user, data, filename=pending["filename"])
    except Forbidden:
        _forget(request)
        return _denied(request)
    except ServiceError as exc:  # the organisation changed since the preview
        _forget(request)
        errors = exc.details.get("errors") or []
        return _page(request, status=400, upload_error=exc.message + ("：" + "；".join(errors[:5]) if errors else ""))
    _forget(request)
    message = f"导入完成：新增 {report.created} 项，更新 {report.updated} 项。"
    if report.new_accounts:
        message += (f"新建账号 {len(report.new_accounts)} 个，尚未设置密码，请由系统管理员在“账号管理”中重置密码后"
                    "告知本人（首次登录须修改密码）。")
    messages.success(request, message)
    return redirect("org:import")


@never_cache
@login_required
def export(request):
    if not _may_import(request.user):
        return _denied(request)
    data, filename = transfer.export_workbook(request.user)
    response = HttpResponse(data, content_type=transfer.XLSX_TYPE)
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename=\"org.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return response
