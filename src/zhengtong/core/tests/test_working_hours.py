"""Working time in hours (core.working_hours): office hours 08:30–12:00 and 14:00–17:30 Asia/Shanghai on the
calendar's working days (R8.1: the State Council's arrangement, 调休 included); nights, weekends, holidays skipped."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import timezone

from zhengtong.core import calendar
from zhengtong.core.working_hours import (
    WorkingClock,
    office_hours,
    parse_office_hours,
    working_seconds_between,
)

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    """'2026-10-12 09:00' in Asia/Shanghai."""
    return timezone.make_aware(datetime.fromisoformat(text), timezone.get_default_timezone())


def hours(a: str, b: str) -> float:
    return working_seconds_between(at(a), at(b)) / 3600


def test_default_office_hours_are_seven_hours_with_a_lunch_break():
    hours_ = office_hours()
    assert hours_.spans == ((8 * 3600 + 1800, 12 * 3600), (14 * 3600, 17 * 3600 + 1800))
    assert hours_.day_seconds == 7 * 3600
    assert hours_.label() == "08:30–12:00、14:00–17:30"


@pytest.mark.parametrize("text", ["", "8-12", "08:30-12:00,11:00-13:00", "12:00-08:30", "25:00-26:00",
                                  "08:70-09:00"])
def test_r8_malformed_office_hours_are_a_configuration_error(text):
    with pytest.raises(ImproperlyConfigured):
        parse_office_hours(text)


def test_within_one_morning_and_across_the_lunch_break():
    assert hours("2026-10-12 09:00", "2026-10-12 11:30") == 2.5  # Monday
    assert hours("2026-10-12 11:00", "2026-10-12 14:30") == 1.5  # 12:00–14:00 is not counted
    assert hours("2026-10-12 12:30", "2026-10-12 13:30") == 0  # both in the break


def test_a_night_is_not_counted():
    # Monday 16:30 → Tuesday 09:30: one hour before closing, one after opening
    assert hours("2026-10-12 16:30", "2026-10-13 09:30") == 2
    # delivered at 22:00, signed at 08:45 the next morning: a quarter of an hour
    assert hours("2026-10-12 22:00", "2026-10-13 08:45") == 0.25


def test_a_weekend_is_not_counted():
    # Friday 17:00 → Monday 09:00 (2026-10-16 … 2026-10-19)
    assert calendar.day_info(date(2026, 10, 17)).kind == calendar.WEEKEND
    assert hours("2026-10-16 17:00", "2026-10-19 09:00") == 1
    # delivered on Saturday: the clock starts on Monday morning
    assert hours("2026-10-17 10:00", "2026-10-19 10:30") == 2


def test_r8_1_a_holiday_is_not_counted_and_a_makeup_saturday_is():
    # 国庆节 2026: 1–7 October off; Saturday 10 October is a working day (调休)
    assert calendar.day_info(date(2026, 10, 5)).kind == calendar.HOLIDAY
    assert calendar.day_info(date(2026, 10, 10)).kind == calendar.MAKEUP
    assert hours("2026-09-30 17:00", "2026-10-08 09:00") == 1  # Wednesday before → Thursday after the holiday
    assert hours("2026-10-09 17:00", "2026-10-10 09:00") == 1  # Friday → the makeup Saturday
    assert hours("2026-10-10 17:00", "2026-10-12 09:00") == 1  # makeup Saturday → Monday (Sunday off)
    assert hours("2026-09-30 08:30", "2026-10-09 17:30") == 3 * 7  # 30 Sep, 8 Oct, 9 Oct


def test_a_holiday_entered_by_the_administrator_counts_as_rest():
    from zhengtong.core.models import HolidayDate

    HolidayDate.objects.create(date=date(2026, 10, 13), kind="holiday", name="测试假日")
    calendar.invalidate()
    assert hours("2026-10-12 17:00", "2026-10-14 09:00") == 1


def test_end_before_start_is_zero_and_the_clock_is_additive():
    assert hours("2026-10-13 10:00", "2026-10-12 10:00") == 0
    clock = WorkingClock(date(2026, 9, 28))
    a, b, c = at("2026-09-29 10:00"), at("2026-10-08 15:00"), at("2026-10-12 09:00")
    assert clock.seconds_between(a, c) == clock.seconds_between(a, b) + clock.seconds_between(b, c)
    assert clock.seconds_between(a, b) / 3600 == 5.5 + 7 + 4.5  # rest of 29 Sep, 30 Sep, 8 Oct until 15:00


@override_settings(OFFICE_HOURS="09:00-17:00")
def test_office_hours_come_from_the_setting():
    assert office_hours().day_seconds == 8 * 3600
    assert hours("2026-10-12 16:00", "2026-10-13 10:00") == 2
    assert hours("2026-10-12 12:00", "2026-10-12 14:00") == 2  # no lunch break in this office


def test_r8_2_a_year_without_holiday_data_is_an_error():
    with pytest.raises(calendar.CalendarDataMissing):
        hours("2031-03-03 09:00", "2031-03-04 09:00")
