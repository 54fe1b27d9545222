"""Factories for the working-day calendar's tables (R8)."""
from __future__ import annotations

from datetime import date

import factory
from factory.django import DjangoModelFactory

from zhengtong.core.models import CalendarRevision, CalendarYear, HolidayDate


class HolidayDateFactory(DjangoModelFactory):
    """An administrator's override of one day: a holiday by default, `kind="workday"` for a 调休 day."""

    class Meta:
        model = HolidayDate
        django_get_or_create = ("date",)

    date = factory.Sequence(lambda n: date.fromordinal(date(2027, 3, 1).toordinal() + n))
    kind = HolidayDate.Kind.HOLIDAY
    name = "假日"


class CalendarYearFactory(DjangoModelFactory):
    class Meta:
        model = CalendarYear
        django_get_or_create = ("year",)

    year = 2027
    confirmed = True


class CalendarRevisionFactory(DjangoModelFactory):
    class Meta:
        model = CalendarRevision
