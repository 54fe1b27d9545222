"""Changing the organisation: units, departments (内设机构), people, identities (posts), duties, groups,
roles and delegations (AB岗). The only writer of the org tables (besides the demo seed and the .xlsx
import, which calls the validators here).

Who may do what (R7.2 三员分立: organisation is the 系统管理员's business):
- the platform 系统管理员 (AdminRole.SYSTEM) manages everything;
- a unit's 单位系统管理员 (an active identity with duty `unit_admin`) manages the structure of that unit
  only: its departments, the people whose main identity is there, identities in the unit, its groups and
  roles, and a few of the unit's own fields (short name, 机关代字, order). Creating units, changing a
  unit's legal name, credit code, kind, region or parent, custom duties, platform-wide groups/roles and
  giving anyone the duty 单位系统管理员 stay with the platform 系统管理员.
- a delegation (AB岗) is set by the principal identity's own person, or by that unit's administrators.

Every write is audited in the same transaction; refusals raise core.errors with a stable code.

Audit actions: org.unit_created, org.unit_updated, org.department_created, org.department_updated,
org.department_deactivated, org.person_created, org.person_updated, org.person_deactivated,
org.identity_added, org.identity_updated, org.identity_ended, org.main_identity_set, org.duty_created,
org.group_created, org.group_members_set, org.role_created, org.role_members_set, org.delegation_created,
org.delegation_revoked, org.imported.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import (
    administered_unit_ids,
    has_admin_role,
    require_admin_role,
    require_authenticated,
    require_unit_admin,
)
from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError

from .credit_code import is_valid_credit_code
from .models import Delegation, Department, Duty, Group, Identity, Person, Region, Role, Unit

UNIT_FIELDS = ["name", "short_name", "kind", "credit_code", "doc_code", "region", "parent", "order", "active"]
UNIT_ADMIN_UNIT_FIELDS = {"short_name", "doc_code", "order"}  # what a unit's own administrator may change
DEPARTMENT_FIELDS = ["name", "parent", "order"]
PERSON_FIELDS = ["name", "gender", "mobile", "office_phone", "email"]
IDENTITY_FIELDS = ["department", "duty", "title", "order"]

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,149}$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
OFFICE_PHONE_RE = re.compile(r"^[0-9+()（）\-\s转]{3,30}$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
SCOPE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_DELEGATION_DAYS = 366


# --- permissions ------------------------------------------------------------------------------------

def is_platform_admin(actor) -> bool:
    return has_admin_role(actor, AdminRole.SYSTEM)


def _require_platform(actor) -> None:
    require_admin_role(actor, AdminRole.SYSTEM)


def _require_unit(actor, unit_id: int | None) -> None:
    """The platform 系统管理员, or the 单位系统管理员 of `unit_id` (None = platform-wide object)."""
    if unit_id is None:
        _require_platform(actor)
    else:
        require_unit_admin(actor, unit_id)


def main_unit_id(person: Person) -> int | None:
    main = person.identities.filter(is_main=True, active=True).values_list("unit_id", flat=True).first()
    if main is None:
        main = person.identities.order_by("-active", "-is_main", "id").values_list("unit_id", flat=True).first()
    return main


def _require_person_admin(actor, person: Person) -> None:
    """A person is managed by the administrators of the unit of their main identity."""
    require_authenticated(actor)
    if is_platform_admin(actor):
        return
    _require_unit(actor, main_unit_id(person) or -1)


# --- field checks (shared with the .xlsx import) ----------------------------------------------------

def clean_text(value, *, label: str, max_length: int, required: bool = False, code: str = "org.invalid") -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ServiceError(code, f"{label}不能为空")
    if len(text) > max_length:
        raise ServiceError(code, f"{label}不能超过 {max_length} 个字")
    return text


def clean_credit_code(value) -> str:
    code = clean_text(value, label="统一社会信用代码", max_length=18, required=True,
                      code="org.invalid_credit_code").upper()
    if not is_valid_credit_code(code):
        raise ServiceError("org.invalid_credit_code", f"统一社会信用代码“{code}”校验不通过（应为 18 位，末位为校验码）")
    return code


def clean_kind(value) -> str:
    text = clean_text(value, label="单位类别", max_length=20, required=True, code="org.invalid_kind")
    for kind in Unit.Kind:
        if text in (kind.value, kind.label):
            return kind.value
    raise ServiceError("org.invalid_kind", f"单位类别“{text}”不存在，可选：{'、'.join(Unit.Kind.labels)}")


def clean_username(value) -> str:
    username = clean_text(value, label="账号", max_length=150, required=True, code="org.invalid_username")
    if not USERNAME_RE.match(username):
        raise ServiceError("org.invalid_username", f"账号“{username}”不合规：2–150 位英文字母、数字或 _ . @ -，以字母或数字开头")
    return username


def clean_mobile(value) -> str:
    mobile = clean_text(value, label="手机", max_length=20, code="org.invalid_mobile").replace(" ", "")
    if mobile and not MOBILE_RE.match(mobile):
        raise ServiceError("org.invalid_mobile", f"手机号“{mobile}”不正确，应为 11 位数字，以 1 开头")
    return mobile


def clean_office_phone(value) -> str:
    phone = clean_text(value, label="办公电话", max_length=30, code="org.invalid_phone")
    if phone and not OFFICE_PHONE_RE.match(phone):
        raise ServiceError("org.invalid_phone", f"办公电话“{phone}”不正确")
    return phone


def clean_email(value) -> str:
    email = clean_text(value, label="电子邮箱", max_length=254, code="org.invalid_email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError("org.invalid_email", f"电子邮箱“{email}”格式不正确") from None
    return email


def clean_gender(value) -> str:
    text = clean_text(value, label="性别", max_length=2, code="org.invalid_gender")
    mapping = {"": "", "M": "M", "F": "F", "男": "M", "女": "F", "m": "M", "f": "F"}
    if text not in mapping:
        raise ServiceError("org.invalid_gender", f"性别“{text}”不正确，应为“男”或“女”")
    return mapping[text]


def resolve_duty(value: Duty | str) -> Duty:
    if isinstance(value, Duty):
        return value
    text = clean_text(value, label="职责", max_length=50, required=True, code="org.duty_not_found")
    found = Duty.objects.filter(Q(code=text) | Q(name=text)).first()
    if found is None:
        raise NotFound("org.duty_not_found", f"职责“{text}”不存在")
    return found


def _check_department(unit: Unit, department: Department | None) -> None:
    if department is None:
        return
    if department.unit_id != unit.pk:
        raise ServiceError("org.department_other_unit", f"内设机构“{department.name}”不属于{unit.name}")
    if not department.active:
        raise ServiceError("org.department_inactive", f"内设机构“{department.name}”已停用")


def _check_duty_grant(actor, duty: Duty, before: Duty | None = None) -> None:
    """Making someone a 单位系统管理员 widens who administers a unit: platform 系统管理员 only."""
    if duty.code == Duty.UNIT_ADMIN and (before is None or before.code != Duty.UNIT_ADMIN) \
            and not is_platform_admin(actor):
        raise Forbidden("org.unit_admin_reserved", "“单位系统管理员”职责只能由平台系统管理员设置")


def _descendant_unit_ids(unit_id: int) -> set[int]:
    found, frontier = set(), {unit_id}
    while frontier:
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= frontier
    return found


def _descendant_department_ids(department_id: int) -> set[int]:
    found, frontier = set(), {department_id}
    while frontier:
        frontier = set(Department.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= frontier
    return found


# --- units ------------------------------------------------------------------------------------------

def _refuse_remote(unit: Unit) -> None:
    """A unit of another platform (公文交换's mirror) has no people here: they would act for it in its 交换箱."""
    if Unit.objects.filter(pk=unit.pk, remote__isnull=False).exists():
        raise ServiceError("org.remote_unit", f"{unit.name}是外平台单位，不能在本平台添加人员或身份")


def _check_unit(unit: Unit) -> None:
    unit.name = clean_text(unit.name, label="单位全称", max_length=100, required=True)
    unit.short_name = clean_text(unit.short_name, label="简称", max_length=50)
    unit.doc_code = clean_text(unit.doc_code, label="机关代字", max_length=20)
    unit.kind = clean_kind(unit.kind)
    unit.credit_code = clean_credit_code(unit.credit_code)
    if unit.region_id is None:
        raise ServiceError("org.region_required", "请选择行政区划")
    if unit.order is None or int(unit.order) < 0:
        raise ServiceError("org.invalid", "排序须为非负整数")
    if Unit.objects.filter(credit_code=unit.credit_code).exclude(pk=unit.pk).exists():
        raise Conflict("org.duplicate_credit_code", f"统一社会信用代码 {unit.credit_code} 已被其他单位使用")
    if Unit.objects.filter(region_id=unit.region_id, name=unit.name).exclude(pk=unit.pk).exists():
        raise Conflict("org.duplicate_unit_name", f"同一行政区划内已有单位“{unit.name}”")
    if unit.parent_id is not None:
        if unit.pk and (unit.parent_id == unit.pk or unit.parent_id in _descendant_unit_ids(unit.pk)):
            raise ServiceError("org.invalid_parent", "上级单位不能是本单位或其下属单位")
        if not Unit.objects.filter(pk=unit.parent_id, active=True).exists():
            raise ServiceError("org.invalid_parent", "上级单位不存在或已停用")


def create_unit(actor, *, name: str, kind: str, credit_code: str, region: Region, parent: Unit | None = None,
                short_name: str = "", doc_code: str = "", order: int = 0) -> Unit:
    """新建单位: platform 系统管理员 only."""
    _require_platform(actor)
    unit = Unit(name=name, kind=kind, credit_code=credit_code, region=region, parent=parent,
                short_name=short_name, doc_code=doc_code, order=order)
    _check_unit(unit)
    with transaction.atomic():
        unit.save()
        record("org.unit_created", user=actor, obj=unit, unit=unit, changes=diff(None, snapshot(unit, UNIT_FIELDS)))
    return unit


def update_unit(actor, unit: Unit, **fields) -> Unit:
    """修改单位. A unit's own administrator may change only its short name, 机关代字 and order."""
    unknown = set(fields) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"not unit fields: {sorted(unknown)}")
    require_authenticated(actor)
    if not is_platform_admin(actor):
        require_unit_admin(actor, unit.pk)
        restricted = set(fields) - UNIT_ADMIN_UNIT_FIELDS
        if restricted:
            raise Forbidden("org.unit_field_reserved",
                            "单位全称、类别、统一社会信用代码、行政区划、上级单位和启用状态只能由平台系统管理员修改")
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        before = snapshot(unit, UNIT_FIELDS)
        for field, value in fields.items():
            setattr(unit, field, value)
        _check_unit(unit)
        if fields.get("active") is False and unit.children.filter(active=True).exists():
            raise Conflict("org.unit_in_use", "该单位还有启用的下属单位，请先调整下属单位")
        if fields.get("active") is False and unit.identities.filter(active=True).exists():
            raise Conflict("org.unit_in_use", "该单位还有在岗人员，请先调整其身份后再停用")
        unit.save()
        changes = diff(before, snapshot(unit, UNIT_FIELDS))
        if changes:
            record("org.unit_updated", user=actor, obj=unit, unit=unit, changes=changes)
    return unit


# --- departments ------------------------------------------------------------------------------------

def _check_department_fields(dept: Department) -> None:
    dept.name = clean_text(dept.name, label="内设机构名称", max_length=100, required=True)
    if dept.order is None or int(dept.order) < 0:
        raise ServiceError("org.invalid", "排序须为非负整数")
    if Department.objects.filter(unit_id=dept.unit_id, name=dept.name).exclude(pk=dept.pk).exists():
        raise Conflict("org.duplicate_department", f"本单位已有内设机构“{dept.name}”")
    if dept.parent_id is not None:
        parent = Department.objects.filter(pk=dept.parent_id).first()
        if parent is None or parent.unit_id != dept.unit_id:
            raise ServiceError("org.invalid_parent", "上级部门必须属于同一单位")
        if dept.pk and (dept.parent_id == dept.pk or dept.parent_id in _descendant_department_ids(dept.pk)):
            raise ServiceError("org.invalid_parent", "上级部门不能是本部门或其下级部门")


def create_department(actor, unit: Unit, *, name: str, parent: Department | None = None,
                      order: int = 0) -> Department:
    """新建内设机构 (处室/科室) in `unit`."""
    _require_unit(actor, unit.pk)
    if not unit.active:
        raise ServiceError("org.unit_inactive", f"{unit.name}已停用")
    _refuse_remote(unit)
    dept = Department(unit=unit, name=name, parent=parent, order=order)
    _check_department_fields(dept)
    with transaction.atomic():
        dept.save()
        record("org.department_created", user=actor, obj=dept, unit=unit,
               changes=diff(None, snapshot(dept, ["unit", *DEPARTMENT_FIELDS])))
    return dept


def update_department(actor, department: Department, **fields) -> Department:
    unknown = set(fields) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise TypeError(f"not department fields: {sorted(unknown)}")
    _require_unit(actor, department.unit_id)
    with transaction.atomic():
        dept = Department.objects.select_for_update().get(pk=department.pk)
        before = snapshot(dept, DEPARTMENT_FIELDS)
        for field, value in fields.items():
            setattr(dept, field, value)
        _check_department_fields(dept)
        dept.save()
        changes = diff(before, snapshot(dept, DEPARTMENT_FIELDS))
        if changes:
            record("org.department_updated", user=actor, obj=dept, unit=dept.unit, changes=changes)
    return dept


def deactivate_department(actor, department: Department) -> Department:
    """停用内设机构: refused while people still hold posts in it or sub-departments are active."""
    _require_unit(actor, department.unit_id)
    with transaction.atomic():
        dept = Department.objects.select_for_update().get(pk=department.pk)
        if not dept.active:
            raise Conflict("org.department_inactive", f"内设机构“{dept.name}”已停用")
        people = dept.identities.filter(active=True).count()
        if people:
            raise Conflict("org.department_in_use",
                           f"“{dept.name}”还有 {people} 名在岗人员，请先调整他们的身份（调离或结束）后再停用")
        if dept.children.filter(active=True).exists():
            raise Conflict("org.department_in_use", f"“{dept.name}”还有启用的下级部门，请先停用下级部门")
        dept.active = False
        dept.save(update_fields=["active"])
        record("org.department_deactivated", user=actor, obj=dept, unit=dept.unit, changes={"active": [True, False]})
    return dept


# --- people -----------------------------------------------------------------------------------------

def _check_person_fields(person: Person) -> None:
    person.name = clean_text(person.name, label="姓名", max_length=50, required=True)
    person.gender = clean_gender(person.gender)
    person.mobile = clean_mobile(person.mobile)
    person.office_phone = clean_office_phone(person.office_phone)
    person.email = clean_email(person.email)


def _username_taken(username: str) -> bool:
    return get_user_model().objects.filter(username__iexact=username).exists()


def create_person(actor, unit: Unit, *, name: str, username: str, department: Department | None = None,
                  duty: Duty | str, title: str = "", mobile: str = "", office_phone: str = "", email: str = "",
                  gender: str = "") -> tuple[Person, str]:
    """新增人员: the login account (temporary password, changed at first login), the person and the main
    identity in `unit`. Returns the person and the temporary password to hand over."""
    from zhengtong.accounts.services import generate_password

    _require_unit(actor, unit.pk)
    if not unit.active:
        raise ServiceError("org.unit_inactive", f"{unit.name}已停用")
    _refuse_remote(unit)
    duty = resolve_duty(duty)
    _check_duty_grant(actor, duty)
    _check_department(unit, department)
    username = clean_username(username)
    title = clean_text(title, label="职务", max_length=50)
    person = Person(name=name, gender=gender, mobile=mobile, office_phone=office_phone, email=email)
    _check_person_fields(person)
    if _username_taken(username):
        raise Conflict("org.username_taken", f"账号“{username}”已被使用")
    password = generate_password()
    User = get_user_model()
    with transaction.atomic():
        user = User(username=username, last_name=person.name, email=person.email, must_change_password=True,
                    password_changed_at=timezone.now())
        user.set_password(password)
        user.save()
        person.user = user
        person.save()
        identity = Identity.objects.create(person=person, unit=unit, department=department, duty=duty, title=title,
                                           is_main=True)
        record("org.person_created", user=actor, obj=person, unit=unit,
               changes=diff(None, {**snapshot(person, PERSON_FIELDS), "username": username}),
               detail={"identity_id": identity.pk, "department_id": department.pk if department else None,
                       "duty": duty.code, "title": title})
    return person, password


def update_person(actor, person: Person, **fields) -> Person:
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"not person fields: {sorted(unknown)}")
    _require_person_admin(actor, person)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(person, PERSON_FIELDS)
        for field, value in fields.items():
            setattr(person, field, value)
        _check_person_fields(person)
        person.save()
        changes = diff(before, snapshot(person, PERSON_FIELDS))
        if changes:
            if person.user_id and ({"name", "email"} & set(changes)):
                get_user_model().objects.filter(pk=person.user_id).update(last_name=person.name, email=person.email)
            record("org.person_updated", user=actor, obj=person, unit=_unit_or_none(main_unit_id(person)),
                   changes=changes)
    return person


def _unit_or_none(unit_id: int | None) -> Unit | None:
    return Unit.objects.filter(pk=unit_id).first() if unit_id else None


def deactivate_person(actor, person: Person) -> Person:
    """人员离岗/停用: the account can no longer log in, every identity ends, delegations to or from them are
    revoked. The person stays (documents keep their names)."""
    _require_person_admin(actor, person)
    if person.user_id and person.user_id == getattr(actor, "pk", None):
        raise ServiceError("org.cannot_deactivate_self", "不能停用自己的账号")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if not person.active:
            raise Conflict("org.person_inactive", f"{person.name}已停用")
        unit = _unit_or_none(main_unit_id(person))
        ended = list(person.identities.filter(active=True).values_list("id", flat=True))
        person.identities.filter(active=True).update(active=False)
        revoked = _revoke_delegations_of(ended)
        person.active = False
        person.save(update_fields=["active"])
        if person.user_id:
            get_user_model().objects.filter(pk=person.user_id).update(is_active=False)
        record("org.person_deactivated", user=actor, obj=person, unit=unit,
               changes={"active": [True, False], "user.is_active": [True, False]},
               detail={"identities_ended": ended, "delegations_revoked": revoked})
    return person


def _revoke_delegations_of(identity_ids: list[int]) -> list[int]:
    now = timezone.now()
    open_ = Delegation.objects.filter(Q(principal_id__in=identity_ids) | Q(delegate_id__in=identity_ids),
                                      revoked_at__isnull=True, ends_at__gt=now)
    ids = list(open_.values_list("id", flat=True))
    Delegation.objects.filter(pk__in=ids).update(revoked_at=now)
    return ids


# --- identities (posts) -------------------------------------------------------------------------------

def add_identity(actor, person: Person, *, unit: Unit, department: Department | None = None, duty: Duty | str,
                 title: str = "", is_main: bool = False) -> Identity:
    """新增身份 (兼职/挂职): a post of `person` in `unit`, set by that unit's administrators."""
    _require_unit(actor, unit.pk)
    if not person.active:
        raise ServiceError("org.person_inactive", f"{person.name}已停用")
    if not unit.active:
        raise ServiceError("org.unit_inactive", f"{unit.name}已停用")
    _refuse_remote(unit)
    duty = resolve_duty(duty)
    _check_duty_grant(actor, duty)
    _check_department(unit, department)
    title = clean_text(title, label="职务", max_length=50)
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        has_main = person.identities.filter(is_main=True, active=True).exists()
        if is_main and has_main:
            person.identities.filter(is_main=True, active=True).update(is_main=False)
        identity = Identity.objects.create(person=person, unit=unit, department=department, duty=duty, title=title,
                                           is_main=is_main or not has_main)
        record("org.identity_added", user=actor, obj=identity, unit=unit,
               changes=diff(None, snapshot(identity, ["person", "unit", *IDENTITY_FIELDS, "is_main"])))
    return identity


def update_identity(actor, identity: Identity, **fields) -> Identity:
    """Change a post's department, duty, title or order (a move to another unit is end + add)."""
    unknown = set(fields) - set(IDENTITY_FIELDS)
    if unknown:
        raise TypeError(f"not identity fields: {sorted(unknown)}")
    _require_unit(actor, identity.unit_id)
    with transaction.atomic():
        row = Identity.objects.select_for_update().select_related("unit", "duty").get(pk=identity.pk)
        if not row.active:
            raise Conflict("org.identity_inactive", "该身份已结束")
        before = snapshot(row, IDENTITY_FIELDS)
        old_duty = row.duty
        if "duty" in fields:
            fields["duty"] = resolve_duty(fields["duty"])
            _check_duty_grant(actor, fields["duty"], old_duty)
        if "department" in fields:
            _check_department(row.unit, fields["department"])
        if "title" in fields:
            fields["title"] = clean_text(fields["title"], label="职务", max_length=50)
        for field, value in fields.items():
            setattr(row, field, value)
        row.save()
        changes = diff(before, snapshot(row, IDENTITY_FIELDS))
        if changes:
            record("org.identity_updated", user=actor, obj=row, unit=row.unit, changes=changes)
    return row


def end_identity(actor, identity: Identity) -> Identity:
    """结束身份 (调离/免职). The last post of a person cannot end here (deactivate the person instead);
    ending the main post makes the person's next post (by duty rank) the main one."""
    _require_unit(actor, identity.unit_id)
    with transaction.atomic():
        row = Identity.objects.select_for_update().select_related("unit", "person").get(pk=identity.pk)
        if not row.active:
            raise Conflict("org.identity_inactive", "该身份已结束")
        others = Identity.objects.filter(person_id=row.person_id, active=True).exclude(pk=row.pk) \
            .order_by("duty__rank", "id")
        successor = others.first()
        if successor is None:
            raise Conflict("org.last_identity", f"这是{row.person.name}唯一的在岗身份，请改为停用该人员")
        detail = {"delegations_revoked": _revoke_delegations_of([row.pk])}
        was_main = row.is_main
        row.active, row.is_main = False, False
        row.save(update_fields=["active", "is_main"])
        if was_main:
            Identity.objects.filter(pk=successor.pk).update(is_main=True)
            detail["new_main_identity_id"] = successor.pk
        record("org.identity_ended", user=actor, obj=row, unit=row.unit,
               changes={"active": [True, False], **({"is_main": [True, False]} if was_main else {})}, detail=detail)
    return row


def set_main_identity(actor, identity: Identity) -> Identity:
    """设为主身份: the post shown first and used when the person acts without choosing."""
    require_authenticated(actor)
    own = identity.person.user_id is not None and identity.person.user_id == actor.pk
    if not own and not is_platform_admin(actor):
        require_unit_admin(actor, identity.unit_id)
    with transaction.atomic():
        row = Identity.objects.select_for_update().select_related("unit").get(pk=identity.pk)
        if not row.active:
            raise Conflict("org.identity_inactive", "该身份已结束")
        if row.is_main:
            return row
        previous = list(Identity.objects.filter(person_id=row.person_id, is_main=True, active=True)
                        .values_list("id", flat=True))
        Identity.objects.filter(pk__in=previous).update(is_main=False)
        row.is_main = True
        row.save(update_fields=["is_main"])
        record("org.main_identity_set", user=actor, obj=row, unit=row.unit, changes={"is_main": [False, True]},
               detail={"previous_main_identity_ids": previous})
    return row


# --- duties, groups, roles ------------------------------------------------------------------------------

def create_duty(actor, *, code: str, name: str, rank: int = 100) -> Duty:
    """自定义职责 (e.g. 督查专员): platform 系统管理员 only; built-in duties come with the platform."""
    _require_platform(actor)
    code = clean_text(code, label="职责代码", max_length=40, required=True, code="org.invalid_code").lower()
    if not CODE_RE.match(code):
        raise ServiceError("org.invalid_code", "职责代码须为 2–40 位小写字母、数字或下划线，以字母开头")
    name = clean_text(name, label="职责名称", max_length=50, required=True)
    if not 0 <= int(rank) <= 32767:
        raise ServiceError("org.invalid", "排序须在 0–32767 之间")
    if Duty.objects.filter(code=code).exists():
        raise Conflict("org.duplicate_duty", f"职责代码“{code}”已存在")
    if Duty.objects.filter(name=name).exists():
        raise Conflict("org.duplicate_duty", f"职责“{name}”已存在")
    with transaction.atomic():
        duty = Duty.objects.create(code=code, name=name, rank=int(rank), builtin=False)
        record("org.duty_created", user=actor, obj=duty, changes=diff(None, snapshot(duty, ["code", "name", "rank"])))
    return duty


def _check_members(identities: Iterable[Identity]) -> list[Identity]:
    members = list(identities)
    ids = [i.pk for i in members]
    active = set(Identity.objects.filter(pk__in=ids, active=True, person__active=True).values_list("id", flat=True))
    if set(ids) - active:
        raise ServiceError("org.identity_inactive", "成员中有已结束的身份或已停用的人员")
    return members


def create_group(actor, *, name: str, unit: Unit | None = None, description: str = "") -> Group:
    """新建群组: a unit's own group (its administrators) or platform-wide (platform 系统管理员)."""
    _require_unit(actor, unit.pk if unit else None)
    name = clean_text(name, label="群组名称", max_length=100, required=True)
    description = clean_text(description, label="说明", max_length=200)
    if Group.objects.filter(unit=unit, name=name).exists():
        raise Conflict("org.duplicate_group", f"已有群组“{name}”")
    with transaction.atomic():
        group = Group.objects.create(name=name, unit=unit, description=description)
        record("org.group_created", user=actor, obj=group, unit=unit,
               changes=diff(None, snapshot(group, ["name", "unit", "description"])))
    return group


def _set_members(actor, holder: Group | Role, identities: Iterable[Identity], action: str) -> None:
    """Replace a group's or role's members; audited with the member ids before and after."""
    _require_unit(actor, holder.unit_id)
    members = _check_members(identities)
    with transaction.atomic():
        before = sorted(holder.members.values_list("id", flat=True))
        holder.members.set(members)
        after = sorted(i.pk for i in members)
        if before != after:
            record(action, user=actor, obj=holder, unit=holder.unit, changes={"members": [before, after]})


def set_group_members(actor, group: Group, identities: Iterable[Identity]) -> Group:
    _set_members(actor, group, identities, "org.group_members_set")
    return group


def create_role(actor, *, code: str, name: str, unit: Unit | None = None) -> Role:
    """新建业务角色 (核稿人, 督查专员…) that workflows assign to."""
    _require_unit(actor, unit.pk if unit else None)
    code = clean_text(code, label="角色代码", max_length=40, required=True, code="org.invalid_code").lower()
    if not CODE_RE.match(code):
        raise ServiceError("org.invalid_code", "角色代码须为 2–40 位小写字母、数字或下划线，以字母开头")
    name = clean_text(name, label="角色名称", max_length=100, required=True)
    if Role.objects.filter(unit=unit, code=code).exists():
        raise Conflict("org.duplicate_role", f"已有角色代码“{code}”")
    with transaction.atomic():
        role = Role.objects.create(code=code, name=name, unit=unit)
        record("org.role_created", user=actor, obj=role, unit=unit,
               changes=diff(None, snapshot(role, ["code", "name", "unit"])))
    return role


def set_role_members(actor, role: Role, identities: Iterable[Identity]) -> Role:
    _set_members(actor, role, identities, "org.role_members_set")
    return role


# --- delegation (AB岗) ------------------------------------------------------------------------------------

def _may_manage_delegation(actor, principal: Identity) -> bool:
    if principal.person.user_id is not None and principal.person.user_id == actor.pk:
        return True
    allowed = administered_unit_ids(actor)
    return allowed is None or principal.unit_id in allowed


def _deny_delegation(actor, principal: Identity):
    from zhengtong.audit.services import security_event

    security_event("permission.denied", user=actor, outcome="denied", object_type="org.identity",
                   object_id=principal.pk, detail={"needs": "delegation_principal"})
    return Forbidden("org.delegation_forbidden", "只能为本人的身份设置AB岗，或由本单位系统管理员设置")


def create_delegation(actor, *, principal: Identity, delegate: Identity, scope: str = Delegation.ALL_SCOPES,
                      starts_at: datetime, ends_at: datetime, reason: str = "") -> Delegation:
    """设置AB岗: `principal`'s work in `scope` goes to `delegate` from `starts_at` to `ends_at`."""
    require_authenticated(actor)
    if not _may_manage_delegation(actor, principal):
        raise _deny_delegation(actor, principal)
    scope = clean_text(scope, label="范围", max_length=40, required=True, code="org.delegation_invalid")
    if not SCOPE_RE.match(scope):
        raise ServiceError("org.delegation_invalid", "范围须为 all（全部业务）或业务类型代码")
    reason = clean_text(reason, label="事由", max_length=200, code="org.delegation_invalid")
    if not principal.active or not principal.person.active:
        raise ServiceError("org.identity_inactive", "委托人的身份已结束")
    if not delegate.active or not delegate.person.active:
        raise ServiceError("org.delegate_inactive", "受托人的身份已结束或人员已停用，请另选受托人")
    if delegate.person_id == principal.person_id:
        raise ServiceError("org.delegate_self", "受托人不能是本人（包括本人的其他身份）")
    if starts_at is None or ends_at is None:
        raise ServiceError("org.delegation_invalid", "请填写开始时间和结束时间")
    if ends_at <= starts_at:
        raise ServiceError("org.delegation_window", "结束时间必须晚于开始时间")
    if ends_at <= timezone.now():
        raise ServiceError("org.delegation_window", "结束时间已过，请重新选择")
    if (ends_at - starts_at).days > MAX_DELEGATION_DAYS:
        raise ServiceError("org.delegation_window", f"一次委托最长 {MAX_DELEGATION_DAYS} 天")
    with transaction.atomic():
        Identity.objects.select_for_update().filter(pk=principal.pk).first()  # one writer per principal
        clash = Delegation.objects.filter(principal=principal, scope=scope, revoked_at__isnull=True,
                                          starts_at__lt=ends_at, ends_at__gt=starts_at).select_related(
            "delegate__person").first()
        if clash is not None:
            raise Conflict("org.delegation_overlap",
                           f"该时段已委托给{clash.delegate.person.name}"
                           f"（{timezone.localtime(clash.starts_at):%Y-%m-%d %H:%M} 至 "
                           f"{timezone.localtime(clash.ends_at):%Y-%m-%d %H:%M}），请先撤销或调整时间")
        delegation = Delegation.objects.create(principal=principal, delegate=delegate, scope=scope,
                                               starts_at=starts_at, ends_at=ends_at, reason=reason, created_by=actor)
        record("org.delegation_created", user=actor, obj=delegation, identity=principal,
               changes=diff(None, snapshot(delegation, ["principal", "delegate", "scope", "starts_at", "ends_at",
                                                        "reason"])))
    return delegation


def revoke_delegation(actor, delegation: Delegation) -> Delegation:
    """撤销AB岗 (before or during its window)."""
    require_authenticated(actor)
    principal = delegation.principal
    if not _may_manage_delegation(actor, principal) and delegation.created_by_id != actor.pk:
        raise _deny_delegation(actor, principal)
    with transaction.atomic():
        row = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if row.revoked_at is not None:
            raise Conflict("org.delegation_revoked", "该委托已撤销")
        if row.ends_at <= timezone.now():
            raise Conflict("org.delegation_ended", "该委托已到期，无需撤销")
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record("org.delegation_revoked", user=actor, obj=row, identity=principal,
               changes={"revoked_at": [None, row.revoked_at.isoformat()]})
    return row

