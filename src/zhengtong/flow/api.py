"""Process definitions API, mounted at /api/v1/process-definitions (issue #3 §6).

- POST /                 multipart: file (.bpmn), business_type, unit? (id; empty = platform default), name?
                         → 201 {id, version, status} | 400 {"code": "flow.invalid_definition", "message",
                         "problems": [{"element_id", "kind", "message"}]} — nothing saved.
- GET  /?business_type=&unit=   definitions the caller administers (platform 系统管理员: all).
- POST /{id}/activate    → 200 {id, version, status}; the previous active version is retired.
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from zhengtong.accounts.permissions import administered_unit_ids, require_authenticated, require_unit_admin
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.org.models import Unit

from . import services
from .models import ProcessDefinition

router = Router(tags=["flow"])


class ErrorOut(Schema):
    code: str
    message: str


class Problem(Schema):
    element_id: str = Field(description="出问题的 BPMN 元素 id（整个文件的问题为空）")
    kind: str = Field(description="问题类别，如 invalid_xml、unsupported、assignment_missing、unreachable")
    message: str = Field(description="中文说明")


class InvalidDefinitionOut(ErrorOut):
    problems: list[Problem] = []


class CreatedOut(Schema):
    id: int
    version: int
    status: str


class DefinitionOut(Schema):
    id: int
    business_type: str
    business_type_label: str
    unit_id: int | None = Field(description="为空表示平台默认流程")
    key: str
    version: int
    name: str
    status: str
    sm3: str
    created_at: str
    activated_at: str | None


class DefinitionsOut(Schema):
    items: list[DefinitionOut]


class ListFilter(Schema):
    business_type: str | None = None
    unit: int | None = Field(None, description="单位 id；0 表示平台默认流程")


def _out(d: ProcessDefinition) -> dict:
    return {"id": d.pk, "business_type": d.business_type, "business_type_label": d.get_business_type_display(),
            "unit_id": d.unit_id, "key": d.key, "version": d.version, "name": d.name, "status": d.status,
            "sm3": d.sm3, "created_at": d.created_at.isoformat(),
            "activated_at": d.activated_at.isoformat() if d.activated_at else None}


@router.post("", response={201: CreatedOut, 400: InvalidDefinitionOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                           422: ErrorOut}, summary="上传流程定义（.bpmn）")
def upload(request, file: File[UploadedFile], business_type: Form[str], unit: Form[int | None] = None,
           name: Form[str] = ""):
    unit_obj = None
    if unit:
        unit_obj = Unit.objects.filter(pk=unit).first()
        if unit_obj is None:
            require_unit_admin(request.auth, unit)  # only the platform administrator learns that it does not exist
            raise ServiceError("org.unit_not_found", "单位不存在", status=404)
    if file.size is not None and file.size > 1_000_000:
        raise ServiceError("flow.invalid_definition", "流程定义有 1 个问题，未保存", details={"problems": [
            {"element_id": "", "kind": "too_large", "message": "文件过大，上限 1000000 字节"}]})
    definition = services.upload_definition(request.auth, business_type=business_type, unit=unit_obj,
                                            file_bytes=file.read(), name=name)
    return Status(201, {"id": definition.pk, "version": definition.version, "status": definition.status})


@router.get("", response={200: DefinitionsOut, 401: ErrorOut, 403: ErrorOut}, summary="流程定义列表")
def definitions(request, flt: Query[ListFilter]):
    require_authenticated(request.auth)
    allowed = administered_unit_ids(request.auth)
    qs = ProcessDefinition.objects.all()
    if allowed is not None:
        if not allowed:
            raise Forbidden("permission.denied", "需要系统管理员或单位系统管理员权限")
        qs = qs.filter(unit_id__in=allowed)
    if flt.business_type:
        qs = qs.filter(business_type=flt.business_type)
    if flt.unit is not None:
        qs = qs.filter(unit__isnull=True) if flt.unit == 0 else qs.filter(unit_id=flt.unit)
    return {"items": [_out(d) for d in qs.order_by("business_type", "unit_id", "key", "-version")[:500]]}


@router.post("/{int:definition_id}/activate", response={200: CreatedOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                                       409: ErrorOut}, summary="启用流程定义版本")
def activate(request, definition_id: int):
    definition = get_object_or_404(ProcessDefinition.objects.select_related("unit"), pk=definition_id)
    definition = services.activate_definition(request.auth, definition)
    return {"id": definition.pk, "version": definition.version, "status": definition.status}
