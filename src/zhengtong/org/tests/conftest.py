"""Fixtures for the organisation tests: a small city (two units, departments, people) and the actors."""
from __future__ import annotations

import pytest

from zhengtong.org.models import Duty, Region
from zhengtong.org.tests.factories import (
    DepartmentFactory,
    IdentityFactory,
    PersonFactory,
    RegionFactory,
    UnitFactory,
    duty,
    make_sysadmin,
    make_unit_admin,
)


@pytest.fixture
def city() -> Region:
    return RegionFactory()


@pytest.fixture
def unit(city):
    return UnitFactory(name="示范市教育局", short_name="市教育局", region=city)


@pytest.fixture
def other_unit(city):
    return UnitFactory(name="示范市财政局", short_name="市财政局", region=city)


@pytest.fixture
def office(unit):
    return DepartmentFactory(unit=unit, name="办公室")


@pytest.fixture
def sysadmin():
    return make_sysadmin()


@pytest.fixture
def unit_admin(unit, office):
    return make_unit_admin(unit, department=office)


@pytest.fixture
def other_admin(other_unit):
    return make_unit_admin(other_unit)


@pytest.fixture
def zhangsan(unit, office):
    """张三, 科员 in 示范市教育局办公室."""
    return IdentityFactory(person=PersonFactory(name="张三"), unit=unit, department=office, duty=duty(Duty.CLERK),
                           title="科员")
