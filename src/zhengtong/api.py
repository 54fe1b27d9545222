"""The API at /api/v1/: each app contributes a router; errors are always `{"code", "message"}`."""
from __future__ import annotations

import logging

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from zhengtong.accounts.api import me_router
from zhengtong.accounts.api import router as accounts_router
from zhengtong.accounts.auth import API_AUTH
from zhengtong.audit.api import router as audit_router
from zhengtong.core.api import router as core_router
from zhengtong.core.errors import ServiceError
from zhengtong.documents.api import router as documents_router
from zhengtong.documents.api import search_router as documents_search_router
from zhengtong.exchange.api import router as exchange_router
from zhengtong.exchange.api_lists import router as exchange_lists_router
from zhengtong.flow.api import instances_router as flow_instances_router
from zhengtong.flow.api import router as flow_router
from zhengtong.flow.api import tasks_router as flow_tasks_router
from zhengtong.flow.api_admin import router as flow_admin_router
from zhengtong.flow.api_reading import phrases_router as flow_phrases_router
from zhengtong.flow.api_reading import reading_instances_router as flow_reading_instances_router
from zhengtong.flow.api_reading import reading_tasks_router as flow_reading_tasks_router
from zhengtong.org.api import router as org_router
from zhengtong.seals.api import router as seals_router

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="政通 Zhengtong API",
    version="1",
    description="政通协同办公平台接口。认证：POST /api/v1/auth/token 取得令牌，随后在请求头携带 "
    "`Authorization: Bearer <token>`。错误统一返回 `{\"code\", \"message\"}`。",
    auth=API_AUTH,
    urls_namespace="api",
)


@api.exception_handler(ServiceError)
def service_error(request, exc: ServiceError):
    if exc.status == 403:
        from zhengtong.audit.services import security_event

        security_event("api.forbidden", outcome="denied", detail={"path": request.path, "code": exc.code})
    body = exc.as_dict()
    if "problems" in exc.details:  # flow.invalid_definition: the contract puts the list at the top level
        body["problems"] = exc.details["problems"]
    if "rule" in exc.details:  # document.rule_violation: the rule id at the top level (issue #4 §7)
        body["rule"] = exc.details["rule"]
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return api.create_response(request, {"code": "auth.required", "message": "请先登录或提供有效的令牌"}, status=401)


@api.exception_handler(ValidationError)
def invalid_input(request, exc: ValidationError):
    return api.create_response(
        request, {"code": "request.invalid", "message": "请求参数不正确", "details": {"errors": exc.errors}},
        status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"code": "not_found", "message": "对象不存在"}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return api.create_response(request, {"code": f"http.{exc.status_code}", "message": str(exc)},
                               status=exc.status_code)


@api.exception_handler(Exception)
def unexpected(request, exc: Exception):
    log.exception("unhandled API error on %s", request.path)
    return api.create_response(request, {"code": "server.error", "message": "服务器内部错误，已记录"}, status=500)


api.add_router("/auth", accounts_router)
api.add_router("/", me_router)
api.add_router("/org", org_router)
api.add_router("/calendar", core_router)
api.add_router("/audit", audit_router)
api.add_router("/process-definitions", flow_router)
api.add_router("/tasks", flow_tasks_router)
api.add_router("/process-instances", flow_instances_router)
api.add_router("/tasks", flow_reading_tasks_router)  # POST /tasks/read (批量已阅)
api.add_router("/process-instances", flow_reading_instances_router)  # GET /process-instances/{id}/readers
api.add_router("/phrases", flow_phrases_router)
api.add_router("/", flow_admin_router)
api.add_router("/documents", documents_router)
api.add_router("/search", documents_search_router)
api.add_router("/seals", seals_router)
api.add_router("/exchange", exchange_router)
api.add_router("/exchange", exchange_lists_router)  # 分发名单
