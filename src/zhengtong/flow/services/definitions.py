"""Changes to process definitions: upload (validated, saved as a draft version), activate, install the defaults.

Permission: the platform 系统管理员 for platform defaults (unit None); a unit's 单位系统管理员 (or the
platform 系统管理员) for a unit's own definitions. Every change is audited in its transaction.
"""
from __future__ import annotations

from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import require_admin_role, require_authenticated, require_unit_admin
from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.crypto import sm3_hex
from zhengtong.core.errors import Conflict, ServiceError

from ..models import BusinessType, ProcessDefinition
from ..validation import validate

DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "definitions"
DEFAULT_FILES = {
    BusinessType.DISPATCH: ("dispatch.bpmn", "发文（平台默认）"),
    BusinessType.RECEIPT: ("receipt.bpmn", "收文（平台默认）"),
    BusinessType.SIGN_REPORT: ("sign_report.bpmn", "签报（平台默认）"),
}
AUDIT_FIELDS = ["business_type", "unit", "key", "version", "name", "sm3", "status", "activated_at"]


def require_definition_admin(actor, unit) -> None:
    require_authenticated(actor)
    if unit is None:
        require_admin_role(actor, AdminRole.SYSTEM)
    else:
        require_unit_admin(actor, unit.pk)


def _clean_business_type(value: str) -> str:
    if value not in BusinessType.values:
        raise ServiceError("flow.invalid_business_type", "业务类型无效，可用："
                           + "、".join(f"{v}（{label}）" for v, label in BusinessType.choices))
    return value


def _create(actor, *, business_type: str, unit, file_bytes: bytes, name: str, username: str = "") -> ProcessDefinition:
    result = validate(file_bytes, unit=unit)
    if not result.ok:
        raise ServiceError("flow.invalid_definition", f"流程定义有 {len(result.problems)} 个问题，未保存",
                           details={"problems": result.problems})
    name = (name or "").strip() or result.name or result.key
    if len(name) > 100:
        raise ServiceError("flow.invalid_name", "名称不能超过 100 个字")
    scope = {"unit": unit, "business_type": business_type, "key": result.key}
    try:
        with transaction.atomic():
            latest = ProcessDefinition.objects.filter(**scope).aggregate(v=Max("version"))["v"] or 0
            definition = ProcessDefinition.objects.create(
                **scope, version=latest + 1, name=name, bpmn_xml=file_bytes.decode("utf-8"),
                sm3=sm3_hex(file_bytes), status=ProcessDefinition.Status.DRAFT,
                created_by=actor if actor is not None and actor.pk else None)
            record("flow.definition_uploaded", user=actor, username=username, obj=definition, unit=unit,
                   changes=diff(None, snapshot(definition, AUDIT_FIELDS)))
    except IntegrityError as exc:
        raise Conflict("flow.version_conflict", "另一人同时上传了同一流程，请重试") from exc
    return definition


def upload_definition(actor, *, business_type: str, unit=None, file_bytes: bytes, name: str = "") -> ProcessDefinition:
    """上传流程定义: validated; saved as a draft with the next version number of (unit, business type, key)."""
    require_definition_admin(actor, unit)
    business_type = _clean_business_type(business_type)
    return _create(actor, business_type=business_type, unit=unit, file_bytes=file_bytes, name=name)


def _activate(actor, definition: ProcessDefinition, username: str = "") -> ProcessDefinition:
    try:
        with transaction.atomic():
            definition = ProcessDefinition.objects.select_for_update().get(pk=definition.pk)
            if definition.status == ProcessDefinition.Status.ACTIVE:
                raise Conflict("flow.already_active", "该版本已经启用")
            previous = list(ProcessDefinition.objects.select_for_update().filter(
                unit=definition.unit, business_type=definition.business_type,
                status=ProcessDefinition.Status.ACTIVE))
            for old in previous:
                before = snapshot(old, AUDIT_FIELDS)
                old.status = ProcessDefinition.Status.RETIRED
                old.save(update_fields=["status"])
                record("flow.definition_retired", user=actor, username=username, obj=old, unit=old.unit,
                       changes=diff(before, snapshot(old, AUDIT_FIELDS)), detail={"replaced_by": definition.pk})
            before = snapshot(definition, AUDIT_FIELDS)
            definition.status = ProcessDefinition.Status.ACTIVE
            definition.activated_at = timezone.now()
            definition.save(update_fields=["status", "activated_at"])
            record("flow.definition_activated", user=actor, username=username, obj=definition, unit=definition.unit,
                   changes=diff(before, snapshot(definition, AUDIT_FIELDS)),
                   detail={"retired": [old.pk for old in previous]})
    except IntegrityError as exc:
        raise Conflict("flow.activation_conflict", "另一人同时启用了该业务的流程，请刷新后重试") from exc
    return definition


def activate_definition(actor, definition: ProcessDefinition) -> ProcessDefinition:
    """启用: this version becomes the one new instances of (unit, business type) start with; the previous
    active one is retired. Running instances keep the version they started with."""
    require_definition_admin(actor, definition.unit)
    return _activate(actor, definition)


def install_default_definitions(*, update: bool = False) -> list[ProcessDefinition]:
    """平台默认流程: install the shipped files as active platform defaults (the `load_default_flows` command).

    Idempotent: a business type that already has an active platform default is left alone, unless
    `update` is set and the shipped file differs from it. Runs as the system (no acting user).
    """
    installed = []
    for business_type, (filename, name) in DEFAULT_FILES.items():
        data = (DEFINITIONS_DIR / filename).read_bytes()
        active = ProcessDefinition.objects.filter(unit=None, business_type=business_type,
                                                  status=ProcessDefinition.Status.ACTIVE).first()
        if active is not None and (not update or active.sm3 == sm3_hex(data)):
            continue
        with transaction.atomic():
            definition = _create(None, business_type=business_type, unit=None, file_bytes=data, name=name,
                                 username="")
            installed.append(_activate(None, definition, username=""))
    return installed
