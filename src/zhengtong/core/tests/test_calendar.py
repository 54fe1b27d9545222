"""Working-day calendar (R8): 2026 arrangements from chinesecalendar, overrides, the missing-year error."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhengtong.core import calendar
from zhengtong.core.calendar import (
    CalendarDataMissing,
    add_working_days,
    is_working_day,
    next_working_day,
    working_days_between,
)
from zhengtong.core.errors import ServiceError
from zhengtong.core.models import CalendarYear, HolidayDate
from zhengtong.core.tests.factories import CalendarYearFactory, HolidayDateFactory

pytestmark = pytest.mark.django_db

D = date


# --- 2026 from the built-in arrangement ------------------------------------------------------------

def test_r8_1_spring_festival_2026_holidays_are_not_working_days():
    for offset in range(9):  # 2/15 … 2/23
        day = D(2026, 2, 15) + timedelta(days=offset)
        assert not is_working_day(day), day
    assert calendar.day_info(D(2026, 2, 17)).name == "春节"


def test_r8_1_spring_festival_2026_makeup_saturdays_are_working_days():
    assert is_working_day(D(2026, 2, 14))  # Saturday 调休上班
    assert is_working_day(D(2026, 2, 28))  # Saturday 调休上班
    info = calendar.day_info(D(2026, 2, 14))
    assert info.kind == calendar.MAKEUP and info.name == "春节"


def test_r8_1_start_day_not_counted_friday_before_spring_festival():
    # Friday 2/13 + 1 working day = Saturday 2/14, a make-up working day
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    # + 2 skips the nine-day holiday: Tuesday 2/24
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2


def test_r8_1_starting_inside_the_holiday_counts_from_the_first_working_day_after():
    assert add_working_days(D(2026, 2, 18), 1) == D(2026, 2, 24)
    assert add_working_days(D(2026, 2, 23), 5) == D(2026, 2, 28)  # 24, 25, 26, 27, Sat 28 (调休)
    assert next_working_day(D(2026, 2, 20)) == D(2026, 2, 24)


def test_r8_1_national_day_2026_and_its_makeup_days():
    assert is_working_day(D(2026, 9, 20))  # Sunday 调休上班
    assert is_working_day(D(2026, 10, 10))  # Saturday 调休上班
    for offset in range(7):
        assert not is_working_day(D(2026, 10, 1) + timedelta(days=offset))
    assert calendar.day_info(D(2026, 10, 1)).name == "国庆节"
    # Wednesday 9/30 + 1 = Thursday 10/8; + 3 = Saturday 10/10 (调休)
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert add_working_days(D(2026, 9, 19), 1) == D(2026, 9, 20)  # Saturday + 1 = Sunday make-up day


def test_r8_1_ordinary_week():
    assert add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)  # Friday → Monday
    assert add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 9)  # Saturday → Monday
    assert working_days_between(D(2026, 3, 6), D(2026, 3, 13)) == 5


def test_zero_days_is_the_start_itself_even_on_a_holiday():
    assert add_working_days(D(2026, 2, 17), 0) == D(2026, 2, 17)
    assert working_days_between(D(2026, 2, 17), D(2026, 2, 17)) == 0


def test_negative_days_go_backwards():
    assert add_working_days(D(2026, 2, 24), -1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert add_working_days(D(2026, 3, 9), -1) == D(2026, 3, 6)
    assert working_days_between(D(2026, 2, 24), D(2026, 2, 14)) == -1


def test_across_the_year_boundary_2025_2026():
    # 2026-01-01..03 holiday, Sunday 1/4 调休上班
    assert add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert working_days_between(D(2025, 12, 30), D(2026, 1, 5)) == 3  # 12/31, 1/4, 1/5
    assert add_working_days(D(2026, 1, 4), -1) == D(2025, 12, 31)


def test_aware_datetime_is_taken_in_local_time():
    # 2026-02-13 17:00 UTC is already Saturday 2/14 01:00 in Beijing
    moment = datetime(2026, 2, 13, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert add_working_days(moment, 1) == D(2026, 2, 24)


# --- R8.2: a year without data is an error ------------------------------------------------------------

def test_r8_2_year_2027_without_data_raises_calendar_data_missing():
    with pytest.raises(CalendarDataMissing) as caught:
        is_working_day(D(2027, 3, 1))
    assert caught.value.code == "calendar.year_missing"
    assert "2027 年" in caught.value.message
    assert caught.value.year == 2027
    assert isinstance(caught.value, ServiceError)


def test_r8_2_deadline_crossing_into_2027_raises_not_a_weekend_guess():
    assert add_working_days(D(2026, 12, 30), 1) == D(2026, 12, 31)
    with pytest.raises(CalendarDataMissing):
        add_working_days(D(2026, 12, 28), 10)
    with pytest.raises(CalendarDataMissing):
        working_days_between(D(2026, 12, 1), D(2027, 1, 15))
    with pytest.raises(CalendarDataMissing):
        next_working_day(D(2026, 12, 31))


def test_r8_2_years_before_the_builtin_data_are_missing_too():
    with pytest.raises(CalendarDataMissing):
        is_working_day(D(calendar.BUILTIN_FIRST_YEAR - 1, 6, 1))


def test_r8_2_one_entered_holiday_does_not_make_2027_known():
    HolidayDate.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
    calendar.invalidate()
    with pytest.raises(CalendarDataMissing):
        is_working_day(D(2027, 1, 1))
    CalendarYear.objects.create(year=2027, confirmed=False)
    calendar.invalidate()
    assert not calendar.is_year_covered(2027)


def test_r8_2_confirmed_2027_uses_entries_over_monday_to_friday():
    HolidayDateFactory(date=D(2027, 2, 8), name="春节")
    HolidayDateFactory(date=D(2027, 2, 20), kind="workday", name="春节")  # Saturday
    CalendarYearFactory(year=2027)
    calendar.invalidate()
    assert calendar.year_status(2027) == calendar.CONFIRMED
    assert not is_working_day(D(2027, 2, 8))  # Monday declared holiday
    assert is_working_day(D(2027, 2, 20))  # Saturday declared working
    assert not is_working_day(D(2027, 2, 21))  # ordinary Sunday
    assert add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 9)  # Friday → (Monday holiday) → Tuesday
    assert add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 1)  # nothing entered for 元旦 here


def test_override_beats_builtin_data():
    HolidayDate.objects.create(date=D(2026, 3, 10), kind="holiday", name="示范停工")
    HolidayDate.objects.create(date=D(2026, 2, 16), kind="workday", name="纠正")  # Monday in 春节
    calendar.invalidate()
    assert not is_working_day(D(2026, 3, 10))
    assert is_working_day(D(2026, 2, 16))
    assert calendar.day_info(D(2026, 3, 10)).source == "override"


def test_missing_years_warns_from_november():
    assert calendar.missing_years(D(2026, 10, 31)) == []
    assert calendar.missing_years(D(2026, 11, 1)) == [2027]
    assert calendar.missing_years(D(2026, 11, 25)) == [2027]
    assert calendar.missing_years(D(2027, 1, 5)) == [2027]


def test_cache_reloads_when_another_process_changes_the_revision(monkeypatch):
    from zhengtong.core.models import CalendarRevision

    assert is_working_day(D(2026, 3, 10))
    # another process edits: writes the row and bumps the token, this process only sees the token
    HolidayDate.objects.create(date=D(2026, 3, 10), kind="holiday", name="停工")
    CalendarRevision.objects.update_or_create(pk=1, defaults={"token": "other-process"})
    assert is_working_day(D(2026, 3, 10))  # still cached within the check interval
    monkeypatch.setattr(calendar, "REVISION_CHECK_SECONDS", 0)
    assert not is_working_day(D(2026, 3, 10))


def test_year_days_of_a_missing_year_show_weekends_without_error():
    days = calendar.year_days(2027)
    assert len(days) == 365
    assert days[0].date == D(2027, 1, 1) and days[1].kind == calendar.WEEKEND  # 2027-01-02 Saturday


# --- properties -------------------------------------------------------------------------------------

dates_2004_2026 = st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 8, 31))
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPS
@given(start=dates_2004_2026, n=st.integers(min_value=-300, max_value=60))
def test_r8_1_property_between_inverts_add(start, n):
    if start + timedelta(days=n * 2 - 30) < D(2004, 1, 1):
        return
    assert working_days_between(start, add_working_days(start, n)) == n


@PROPS
@given(start=dates_2004_2026, n=st.integers(min_value=1, max_value=60))
def test_r8_1_property_result_is_a_working_day_after_start(start, n):
    end = add_working_days(start, n)
    assert end > start
    assert is_working_day(end)
    # no working day is skipped: exactly n-1 working days strictly between
    assert sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days)) == n - 1


@PROPS
@given(a=dates_2004_2026, b=dates_2004_2026)
def test_r8_1_property_between_matches_day_by_day_count(a, b):
    lo, hi = min(a, b), max(a, b)
    if (hi - lo).days > 800:
        hi = lo + timedelta(days=800)
    expected = sum(is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    assert working_days_between(lo, hi) == expected
    assert working_days_between(hi, lo) == -sum(is_working_day(lo + timedelta(days=i))
                                                 for i in range((hi - lo).days))
