from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from zhengtong.org import models
from zhengtong.org.credit_code import make_credit_code


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
    class Meta:
        model = models.Duty
        django_get_or_create = ("code",)

    code = models.Duty.CLERK
    name = factory.LazyAttribute(lambda o: models.Duty.BUILTIN.get(o.code, o.code))
    builtin = factory.LazyAttribute(lambda o: o.code in models.Duty.BUILTIN)


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = models.Person

    name = factory.Faker("name", locale="zh_CN")
    user = factory.SubFactory("zhengtong.accounts.tests.factories.UserFactory")


class IdentityFactory(DjangoModelFactory):
    class Meta:
        model = models.Identity

    person = factory.SubFactory(PersonFactory)
    unit = factory.SubFactory(UnitFactory)
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
    class Meta:
        model = models.Delegation

    principal = factory.SubFactory(IdentityFactory)
    delegate = factory.SubFactory(IdentityFactory)
    starts_at = factory.Faker("date_time_this_month", tzinfo=__import__("datetime").timezone.utc)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + __import__("datetime").timedelta(days=7))
