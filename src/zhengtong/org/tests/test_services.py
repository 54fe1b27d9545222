"""org.services: unit-scoped administration (R7.2), audit of every write (R7.1), the rules of each action."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.org import services
from zhengtong.org.credit_code import make_credit_code
from zhengtong.org.models import Delegation, Department, Duty, Identity, Unit
from zhengtong.org.tests.factories import (
    DelegationFactory,
    DepartmentFactory,
    IdentityFactory,
    PersonFactory,
    UnitFactory,
    duty,
)

pytestmark = pytest.mark.django_db

CODE = make_credit_code("11990100MB0000001")


def audited(action: str) -> AuditRecord:
    return AuditRecord.objects.filter(action=action).latest("seq")


# --- units ----------------------------------------------------------------------------------------

def test_r7_2_platform_sysadmin_creates_a_unit_audited(sysadmin, city, unit):
    created = services.create_unit(sysadmin, name="示范市审计局", kind="政府工作部门", credit_code=CODE.lower(),
                                   region=city, parent=unit, short_name="市审计局", doc_code="示审")
    assert created.kind == Unit.Kind.GOV_DEPT and created.credit_code == CODE
    assert created.pinyin == "shifanshishenjiju" and created.initials == "sfssjj"
    rec = audited("org.unit_created")
    assert rec.actor_id == sysadmin.pk and rec.changes["name"] == [None, "示范市审计局"]


def test_r7_2_unit_admin_cannot_create_units(unit_admin, city):
    with pytest.raises(Forbidden):
        services.create_unit(unit_admin, name="示范市审计局", kind="gov_dept", credit_code=CODE, region=city)
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied").exists()


@pytest.mark.parametrize("code, message", [
    ("11990100MB0000002", "校验不通过"),  # 17 characters
    (CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), "校验不通过"),  # wrong check character
])
def test_credit_code_checksum_is_validated(sysadmin, city, code, message):
    with pytest.raises(ServiceError, match=message) as err:
        services.create_unit(sysadmin, name="示范市审计局", kind="gov_dept", credit_code=code, region=city)
    assert err.value.code == "org.invalid_credit_code"


def test_duplicate_credit_code_and_name_conflict(sysadmin, city, unit):
    with pytest.raises(Conflict) as err:
        services.create_unit(sysadmin, name="另一个局", kind="gov_dept", credit_code=unit.credit_code, region=city)
    assert err.value.code == "org.duplicate_credit_code"
    with pytest.raises(Conflict) as err:
        services.create_unit(sysadmin, name=unit.name, kind="gov_dept", credit_code=CODE, region=city)
    assert err.value.code == "org.duplicate_unit_name"


def test_unknown_kind_lists_the_choices(sysadmin, city):
    with pytest.raises(ServiceError, match="政府工作部门"):
        services.create_unit(sysadmin, name="示范市审计局", kind="ministry", credit_code=CODE, region=city)


def test_unit_admin_updates_own_unit_short_name_only(unit_admin, unit, other_unit):
    services.update_unit(unit_admin, unit, short_name="教育局", doc_code="示教")
    unit.refresh_from_db()
    assert (unit.short_name, unit.doc_code) == ("教育局", "示教")
    assert audited("org.unit_updated").changes["short_name"] == ["市教育局", "教育局"]
    with pytest.raises(Forbidden) as err:
        services.update_unit(unit_admin, unit, name="示范市教育体育局")
    assert err.value.code == "org.unit_field_reserved"
    with pytest.raises(Forbidden):
        services.update_unit(unit_admin, other_unit, short_name="财政")


def test_unit_cannot_become_its_own_descendant(sysadmin, city, unit):
    child = UnitFactory(region=city, parent=unit)
    with pytest.raises(ServiceError) as err:
        services.update_unit(sysadmin, unit, parent=child)
    assert err.value.code == "org.invalid_parent"


# --- departments ---------------------------------------------------------------------------------

def test_r7_2_unit_admin_manages_own_departments_only(unit_admin, unit, other_unit):
    dept = services.create_department(unit_admin, unit, name="基础教育科", order=3)
    assert dept.unit == unit and audited("org.department_created").unit_id == unit.pk
    services.update_department(unit_admin, dept, name="基础教育处")
    assert audited("org.department_updated").changes == {"name": ["基础教育科", "基础教育处"]}
    with pytest.raises(Forbidden):
        services.create_department(unit_admin, other_unit, name="预算科")


def test_department_name_unique_within_unit(unit_admin, unit, office):
    with pytest.raises(Conflict, match="办公室"):
        services.create_department(unit_admin, unit, name="办公室")


def test_department_parent_must_be_same_unit_and_not_a_cycle(sysadmin, unit, other_unit, office):
    foreign = DepartmentFactory(unit=other_unit)
    with pytest.raises(ServiceError, match="同一单位"):
        services.create_department(sysadmin, unit, name="文电科", parent=foreign)
    child = services.create_department(sysadmin, unit, name="文电科", parent=office)
    with pytest.raises(ServiceError, match="下级部门"):
        services.update_department(sysadmin, office, parent=child)


def test_deactivate_department_refused_while_people_remain(unit_admin, unit, office, zhangsan):
    with pytest.raises(Conflict, match="在岗人员") as err:
        services.deactivate_department(unit_admin, office)
    assert err.value.code == "org.department_in_use"
    empty = DepartmentFactory(unit=unit)
    services.deactivate_department(unit_admin, empty)
    empty.refresh_from_db()
    assert not empty.active and audited("org.department_deactivated").object_id == str(empty.pk)


# --- people and identities ---------------------------------------------------------------------------

def test_create_person_makes_account_person_and_main_identity(unit_admin, unit, office):
    person, password = services.create_person(unit_admin, unit, name="李四", username="lisi", department=office,
                                              duty="clerk", title="一级科员", mobile="13800138000",
                                              email="lisi@example.gov.cn", gender="男")
    user = person.user
    assert user.username == "lisi" and user.must_change_password and user.check_password(password)
    assert (person.pinyin, person.initials, person.gender) == ("lisi", "ls", "M")
    identity = person.identities.get()
    assert identity.is_main and identity.department == office and identity.duty.code == Duty.CLERK
    rec = audited("org.person_created")
    assert rec.changes["username"] == [None, "lisi"] and password not in str(rec.changes) + str(rec.detail)


@pytest.mark.parametrize("field, value, code", [
    ("mobile", "1380013800", "org.invalid_mobile"),
    ("email", "lisi@", "org.invalid_email"),
    ("username", "李四", "org.invalid_username"),
    ("name", "  ", "org.invalid"),
    ("gender", "X", "org.invalid_gender"),
])
def test_create_person_rejects_bad_fields(unit_admin, unit, field, value, code):
    fields = {"name": "李四", "username": "lisi", "duty": "clerk", field: value}
    with pytest.raises(ServiceError) as err:
        services.create_person(unit_admin, unit, **fields)
    assert err.value.code == code and err.value.message
    assert not get_user_model().objects.filter(username="lisi").exists()


def test_duplicate_username_conflicts_case_insensitively(unit_admin, unit, zhangsan):
    taken = zhangsan.person.user.username
    with pytest.raises(Conflict) as err:
        services.create_person(unit_admin, unit, name="李四", username=taken.upper(), duty="clerk")
    assert err.value.code == "org.username_taken"


def test_unknown_duty_and_foreign_department(unit_admin, unit, other_unit):
    with pytest.raises(NotFound) as err:
        services.create_person(unit_admin, unit, name="李四", username="lisi", duty="chief_wizard")
    assert err.value.code == "org.duty_not_found"
    with pytest.raises(ServiceError) as err:
        services.create_person(unit_admin, unit, name="李四", username="lisi", duty="clerk",
                               department=DepartmentFactory(unit=other_unit))
    assert err.value.code == "org.department_other_unit"


def test_r7_2_only_platform_sysadmin_appoints_unit_administrators(unit_admin, sysadmin, unit, zhangsan):
    with pytest.raises(Forbidden) as err:
        services.create_person(unit_admin, unit, name="李四", username="lisi", duty=Duty.UNIT_ADMIN)
    assert err.value.code == "org.unit_admin_reserved"
    with pytest.raises(Forbidden):
        services.update_identity(unit_admin, zhangsan, duty=Duty.UNIT_ADMIN)
    services.update_identity(sysadmin, zhangsan, duty=Duty.UNIT_ADMIN)
    assert audited("org.identity_updated").changes["duty_id"][1] == duty(Duty.UNIT_ADMIN).pk


def test_r7_2_unit_admin_cannot_touch_people_of_other_units(other_admin, zhangsan):
    with pytest.raises(Forbidden):
        services.update_person(other_admin, zhangsan.person, mobile="13800138000")
    with pytest.raises(Forbidden):
        services.deactivate_person(other_admin, zhangsan.person)
    with pytest.raises(Forbidden):
        services.end_identity(other_admin, zhangsan)


def test_update_person_diffs_and_keeps_pinyin(unit_admin, zhangsan):
    person = services.update_person(unit_admin, zhangsan.person, name="张叁", mobile="13900139000")
    assert person.initials == "zs" and person.user.last_name == "张叁"
    assert audited("org.person_updated").changes == {"mobile": ["", "13900139000"], "name": ["张三", "张叁"]}


def test_deactivate_person_ends_account_identities_and_delegations(unit_admin, unit, zhangsan):
    delegation = DelegationFactory(principal=zhangsan, delegate=IdentityFactory(unit=unit))
    services.deactivate_person(unit_admin, zhangsan.person)
    zhangsan.refresh_from_db()
    delegation.refresh_from_db()
    assert not zhangsan.active and not zhangsan.person.active and not zhangsan.person.user.is_active
    assert delegation.revoked_at is not None
    assert audited("org.person_deactivated").detail["delegations_revoked"] == [delegation.pk]
    with pytest.raises(Conflict):
        services.deactivate_person(unit_admin, zhangsan.person)


def test_nobody_deactivates_themselves(unit_admin):
    with pytest.raises(ServiceError) as err:
        services.deactivate_person(unit_admin, unit_admin.person)
    assert err.value.code == "org.cannot_deactivate_self"


def test_add_identity_second_post_and_set_main(sysadmin, unit_admin, other_admin, other_unit, zhangsan):
    second = services.add_identity(other_admin, zhangsan.person, unit=other_unit, duty="deputy", title="副局长")
    assert not second.is_main and audited("org.identity_added").unit_id == other_unit.pk
    # the person may choose their own main post
    services.set_main_identity(zhangsan.person.user, second)
    zhangsan.refresh_from_db()
    assert not zhangsan.is_main and Identity.objects.get(pk=second.pk).is_main
    assert audited("org.main_identity_set").detail["previous_main_identity_ids"] == [zhangsan.pk]


def test_end_identity_promotes_the_next_post(unit_admin, other_admin, other_unit, zhangsan):
    second = services.add_identity(other_admin, zhangsan.person, unit=other_unit, duty="clerk")
    services.end_identity(unit_admin, zhangsan)
    zhangsan.refresh_from_db()
    second.refresh_from_db()
    assert not zhangsan.active and second.is_main
    with pytest.raises(Conflict) as err:
        services.end_identity(other_admin, second)
    assert err.value.code == "org.last_identity"


def test_update_identity_checks_department(unit_admin, other_unit, zhangsan):
    with pytest.raises(ServiceError) as err:
        services.update_identity(unit_admin, zhangsan, department=DepartmentFactory(unit=other_unit))
    assert err.value.code == "org.department_other_unit"
    services.update_identity(unit_admin, zhangsan, title="二级主任科员", department=None)
    assert audited("org.identity_updated").changes["title"] == ["科员", "二级主任科员"]


# --- duties, groups, roles ------------------------------------------------------------------------------

def test_custom_duty_platform_only(sysadmin, unit_admin):
    with pytest.raises(Forbidden):
        services.create_duty(unit_admin, code="inspector", name="督查专员")
    created = services.create_duty(sysadmin, code="inspector", name="督查专员", rank=40)
    assert not created.builtin and audited("org.duty_created").object_id == str(created.pk)
    with pytest.raises(Conflict):
        services.create_duty(sysadmin, code="inspector2", name="督查专员")
    with pytest.raises(ServiceError, match="小写字母"):
        services.create_duty(sysadmin, code="督查", name="督查")


def test_groups_and_roles_scoped_to_unit(sysadmin, unit_admin, unit, other_unit, zhangsan):
    group = services.create_group(unit_admin, name="应急值班组", unit=unit)
    services.set_group_members(unit_admin, group, [zhangsan])
    assert list(group.members.all()) == [zhangsan]
    assert audited("org.group_members_set").changes == {"members": [[], [zhangsan.pk]]}
    with pytest.raises(Forbidden):
        services.create_group(unit_admin, name="全市联络员")  # platform-wide
    with pytest.raises(Forbidden):
        services.create_role(unit_admin, code="reviewer", name="核稿人", unit=other_unit)
    role = services.create_role(unit_admin, code="reviewer", name="核稿人", unit=unit)
    services.set_role_members(unit_admin, role, [zhangsan])
    with pytest.raises(Conflict):
        services.create_role(unit_admin, code="reviewer", name="核稿人二", unit=unit)
    services.create_group(sysadmin, name="全市联络员")


def test_members_must_be_active(unit_admin, unit, zhangsan):
    group = services.create_group(unit_admin, name="应急值班组", unit=unit)
    Identity.objects.filter(pk=zhangsan.pk).update(active=False)
    with pytest.raises(ServiceError) as err:
        services.set_group_members(unit_admin, group, [zhangsan])
    assert err.value.code == "org.identity_inactive"


# --- delegation (AB岗) ------------------------------------------------------------------------------

@pytest.fixture
def colleague(unit, office):
    return IdentityFactory(unit=unit, department=office, duty=duty(Duty.CLERK))


def window(days_from_now=0, days=5):
    start = timezone.now() + timedelta(days=days_from_now)
    return {"starts_at": start, "ends_at": start + timedelta(days=days)}


def test_person_delegates_own_identity(zhangsan, colleague):
    delegation = services.create_delegation(zhangsan.person.user, principal=zhangsan, delegate=colleague,
                                            scope="all", reason="出差", **window())
    assert delegation.created_by == zhangsan.person.user
    rec = audited("org.delegation_created")
    assert rec.identity_id == zhangsan.pk and rec.changes["delegate_id"] == [None, colleague.pk]


def test_unit_admin_may_delegate_for_their_unit_others_may_not(unit_admin, other_admin, zhangsan, colleague):
    services.create_delegation(unit_admin, principal=zhangsan, delegate=colleague, scope="fawen", **window())
    with pytest.raises(Forbidden) as err:
        services.create_delegation(other_admin, principal=zhangsan, delegate=colleague, scope="shouwen", **window())
    assert err.value.code == "org.delegation_forbidden"
    with pytest.raises(Forbidden):
        services.create_delegation(colleague.person.user, principal=zhangsan, delegate=colleague, **window())


@pytest.mark.parametrize("case, code", [
    ("self", "org.delegate_self"),
    ("inactive", "org.delegate_inactive"),
    ("backwards", "org.delegation_window"),
    ("past", "org.delegation_window"),
])
def test_delegation_rules(zhangsan, colleague, unit, case, code):
    user = zhangsan.person.user
    delegate, times = colleague, window()
    if case == "self":
        delegate = IdentityFactory(person=zhangsan.person, unit=unit, is_main=False)
    elif case == "inactive":
        Identity.objects.filter(pk=colleague.pk).update(active=False)
        delegate.refresh_from_db()
    elif case == "backwards":
        times = {"starts_at": times["ends_at"], "ends_at": times["starts_at"]}
    elif case == "past":
        times = window(days_from_now=-10, days=2)
    with pytest.raises(ServiceError) as err:
        services.create_delegation(user, principal=zhangsan, delegate=delegate, **times)
    assert err.value.code == code and err.value.message


def test_overlapping_delegation_of_same_scope_refused(zhangsan, colleague, unit):
    user = zhangsan.person.user
    services.create_delegation(user, principal=zhangsan, delegate=colleague, scope="all", **window(0, 5))
    other = IdentityFactory(unit=unit)
    with pytest.raises(Conflict) as err:
        services.create_delegation(user, principal=zhangsan, delegate=other, scope="all", **window(3, 5))
    assert err.value.code == "org.delegation_overlap" and colleague.person.name in err.value.message
    # another scope, or after the window, is fine
    services.create_delegation(user, principal=zhangsan, delegate=other, scope="fawen", **window(3, 5))
    services.create_delegation(user, principal=zhangsan, delegate=other, scope="all", **window(6, 2))


def test_revoke_delegation(zhangsan, colleague, other_admin):
    delegation = services.create_delegation(zhangsan.person.user, principal=zhangsan, delegate=colleague, **window())
    with pytest.raises(Forbidden):
        services.revoke_delegation(other_admin, delegation)
    services.revoke_delegation(zhangsan.person.user, delegation)
    assert Delegation.objects.get(pk=delegation.pk).revoked_at is not None
    assert audited("org.delegation_revoked").object_id == str(delegation.pk)
    with pytest.raises(Conflict):
        services.revoke_delegation(zhangsan.person.user, delegation)
    # once revoked, the window is free again
    services.create_delegation(zhangsan.person.user, principal=zhangsan, delegate=colleague, **window())


def test_anonymous_actor_is_refused(unit):
    from django.contrib.auth.models import AnonymousUser

    from zhengtong.core.errors import NotAuthenticated

    with pytest.raises(NotAuthenticated):
        services.create_department(AnonymousUser(), unit, name="预算科")
    assert not Department.objects.filter(name="预算科").exists()


def test_a_write_that_fails_leaves_no_audit_record(unit_admin, unit, office):
    before = AuditRecord.objects.filter(category="business").count()
    with pytest.raises(Conflict):
        services.create_department(unit_admin, unit, name=office.name)
    assert AuditRecord.objects.filter(category="business").count() == before


def test_person_factory_keeps_pinyin():
    assert PersonFactory(name="曾小明").initials == "cxm zxm"
