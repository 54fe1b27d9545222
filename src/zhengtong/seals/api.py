"""Seals API, mounted at /api/v1/seals.

Public contract (issue #4 §5):
- POST /verify   multipart `file` → the verification of any PDF (who sealed, when, valid or not); every signed-in
  user. An empty upload → 400 `seals.empty_file`; not a PDF → 400 `seals.not_pdf`; over the limit → 413
  `seals.file_too_large`; a damaged PDF → 200 with `valid: false` and the problem in Chinese.
- GET /          the seals the caller manages: all for the 安全保密管理员, the own unit's for a 单位系统管理员;
  anyone else → 403 `seals.forbidden`.
"""
from __future__ import annotations

import datetime as dt

from ninja import File, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from zhengtong.audit.services import security_event
from zhengtong.core.errors import Forbidden, ServiceError

from . import selectors, services

router = Router(tags=["seals"])


class ErrorOut(Schema):
    code: str
    message: str


class SealOut(Schema):
    seal_name: str = Field(description="印章名称")
    unit_name: str = Field(description="单位（本平台签发的印章）")
    sealed_at: dt.datetime | None = Field(description="签名软件记录的用印时间")
    timestamp: dt.datetime | None = Field(description="平台时间戳服务的时间")
    certificate_serial: str
    trusted: bool = Field(description="证书由本平台 CA 签发")
    revoked: bool
    intact: bool


class VerificationOut(Schema):
    valid: bool = Field(description="有效：签名完好、可信、未吊销、有时间戳，且文件摘要与用印记录一致")
    intact: bool
    recorded: bool = Field(description="文件的 SHA-256 与本平台某次用印的记录一致")
    sha256: str
    seals: list[SealOut]
    problems: list[str] = Field(description="无效的原因（中文）")


class Ref(Schema):
    id: int
    name: str


class UnitSealOut(Schema):
    id: int
    name: str
    unit: Ref
    status: str = Field(description="active | revoked")
    certificate_serial: str
    valid_from: dt.datetime
    valid_to: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str
    holders: list[Ref] = Field(description="用印人（身份）")


class SealsOut(Schema):
    items: list[UnitSealOut]


def as_json(result: services.Verification) -> dict:
    return {"valid": result.valid, "intact": result.intact, "recorded": result.recorded, "sha256": result.sha256,
            "seals": [vars(s) for s in result.seals], "problems": list(result.problems)}


def read_upload(file) -> bytes:
    """The uploaded bytes, or a ServiceError a user can act on."""
    if file is None or not file.size:
        raise ServiceError("seals.empty_file", "请选择要验证的 PDF 文件（文件为空）")
    if file.size > services.MAX_VERIFY_BYTES:
        raise ServiceError("seals.file_too_large", "文件过大，最大 200 MB", status=413)
    data = file.read()
    if not data.lstrip()[:5] == b"%PDF-":
        raise ServiceError("seals.not_pdf", "只能验证 PDF 文件")
    return data


@router.post("/verify", response={200: VerificationOut, 400: ErrorOut, 413: ErrorOut},
             summary="验证 PDF 上的电子印章", operation_id="verify_sealed_pdf")
def verify(request, file: File[UploadedFile]):
    data = read_upload(file)
    return as_json(services.verify_pdf(data, actor=request.user, reference=f"upload:{file.name[:60]}"))


@router.get("", response={200: SealsOut, 403: ErrorOut}, summary="印章列表（安全保密管理员：全部；单位系统管理员：本单位）",
            operation_id="list_seals")
def list_seals(request):
    seals = selectors.manageable_seals(request.user)
    if seals is None:
        security_event("permission.denied", user=request.user, outcome="denied", object_type="seals.unitseal",
                       detail={"code": "seals.forbidden"})
        raise Forbidden("seals.forbidden", "只有安全保密管理员和单位系统管理员可以查看印章")
    return {"items": [{"id": s.pk, "name": s.name, "unit": {"id": s.unit_id, "name": s.unit.name},
                       "status": s.status, "certificate_serial": s.serial, "valid_from": s.valid_from,
                       "valid_to": s.valid_to, "revoked_at": s.revoked_at, "revoke_reason": s.revoke_reason,
                       "holders": [{"id": h.pk, "name": str(h)} for h in s.holders.all()]} for s in seals]}
