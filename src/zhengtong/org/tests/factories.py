"""Factories for the organisation models, shared by every app's tests.

    unit = UnitFactory()                          # 示范市测试局N in the city region 示范市 (990100)
    person = PersonFactory()                      # with a login account (accounts UserFactory)
    identity = IdentityFactory(unit=unit, department=DepartmentFactory(unit=unit), duty=duty("dept_head"))
    admin = make_unit_admin(unit)                 # a user whose identity in `unit` has duty unit_admin
    sysadmin = make_sysadmin()                    # a user holding the platform 系统管理员 role

Duties are the built-in rows the migration creates (`duty("clerk")`); DutyFactory makes custom ones.
"""
from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from zhengtong.org import models
from zhengtong.org.credit_code import make_credit_code


def duty(code: str = models.Duty.CLERK) -> models.Duty:
    """A built-in duty by code (created if a test database lost it)."""
    return DutyFactory(code=code)


def builtin_duties() -> dict[str, models.Duty]:
    """The built-in duties as migration 0002 creates them; transactional (browser) tests flush the tables,
    so a later transactional test calls this to have them back."""
    return {code: DutyFactory(code=code) for code in models.Duty.BUILTIN}


BUILTIN_RANKS = {"principal": 10, "deputy": 20, "dept_head": 30, "clerk": 50, "doc_clerk": 60, "unit_admin": 70}


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = models.Region
        django_get_or_create = ("code",)

    name = "示范市"
    code = "990100"
    level = models.Region.Level.CITY


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = models.Unit

    name = factory.Sequence(lambda n: f"示范市测试局{n}")
    short_name = factory.Sequence(lambda n: f"测试局{n}")
    kind = models.Unit.Kind.GOV_DEPT
    credit_code = factory.Sequence(lambda n: make_credit_code(f"11990100{n:08d}X"[:17]))
    doc_code = factory.Sequence(lambda n: f"示测{n}")
    region = factory.SubFactory(RegionFactory)


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = models.Department

    unit = factory.SubFactory(UnitFactory)
    name = factory.Sequence(lambda n: f"第{n}科")


class DutyFactory(DjangoModelFactory):
    """`DutyFactory(code="clerk")` returns the built-in row; any other code makes a custom duty."""

    class Meta:
        model = models.Duty
        django_get_or_create = ("code",)

    code = models.Duty.CLERK
    name = factory.LazyAttribute(lambda o: models.Duty.BUILTIN.get(o.code, o.code))
    builtin = factory.LazyAttribute(lambda o: o.code in models.Duty.BUILTIN)
    rank = factory.LazyAttribute(lambda o: BUILTIN_RANKS.get(o.code, 100))


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = models.Person

    name = factory.Faker("name", locale="zh_CN")
    user = factory.SubFactory("zhengtong.accounts.tests.factories.UserFactory")


class IdentityFactory(DjangoModelFactory):
    """A main identity by default; pass `is_main=False` for a second post of the same person."""

    class Meta:
        model = models.Identity

    person = factory.SubFactory(PersonFactory)
    unit = factory.LazyAttribute(lambda o: o.department.unit if o.department is not None else UnitFactory())
    department = None
    duty = factory.SubFactory(DutyFactory)
    is_main = True


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = models.Group

    name = factory.Sequence(lambda n: f"工作组{n}")
    unit = factory.SubFactory(UnitFactory)


class RoleFactory(DjangoModelFactory):
    class Meta:
        model = models.Role

    code = factory.Sequence(lambda n: f"role{n}")
    name = factory.Sequence(lambda n: f"角色{n}")
    unit = factory.SubFactory(UnitFactory)


class DelegationFactory(DjangoModelFactory):
    """Current by default: started an hour ago, ends in seven days."""

    class Meta:
        model = models.Delegation

    principal = factory.SubFactory(IdentityFactory)
    delegate = factory.SubFactory(IdentityFactory)
    scope = models.Delegation.ALL_SCOPES
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(days=7))


def make_sysadmin(username: str | None = None):
    """A login account holding the platform 系统管理员 role (no person behind it, like the demo `sysadmin`)."""
    from zhengtong.accounts.models import AdminRole
    from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory

    user = UserFactory(**({"username": username} if username else {}), otp_exempt=True)
    AdminRoleGrantFactory(user=user, role=AdminRole.SYSTEM)
    return user


def make_unit_admin(unit: models.Unit, **identity_fields):
    """A person whose main identity in `unit` has the duty 单位系统管理员; returns the login account."""
    fields = {"unit": unit, "duty": duty(models.Duty.UNIT_ADMIN), "title": "单位系统管理员", **identity_fields}
    return IdentityFactory(**fields).person.user
