"""The working-day calendar (R8): deadlines in working days under the State Council's arrangement.

Data, in order of precedence:

1. `core.HolidayDate` rows, entered by the 系统管理员 (a holiday or a make-up working day, 调休);
2. the chinesecalendar package (the State Council's published arrangements, 2004 up to its last
   release's year);
3. for a year chinesecalendar does not know: Monday–Friday working, Saturday/Sunday rest — but only
   once the 系统管理员 has entered that year's arrangement and confirmed it (`core.CalendarYear`).

A date in a year that neither source covers raises `CalendarDataMissing` (code
`calendar.year_missing`): never a silent weekends-only guess (R8.2).

Counting rules (R8.1: the start day is not counted):

- `add_working_days(start, n)`, n ≥ 1: the n-th working day after `start`. `start` itself never
  counts, whether or not it is a working day: add_working_days(Friday, 1) is the next Monday.
- n == 0: `start` unchanged (even on a holiday; "no days added"). Use `next_working_day` to move
  off a holiday.
- n ≤ -1: backwards, the |n|-th working day before `start` ("3 working days before the meeting").
- `working_days_between(a, b)`: the working days after `a` up to and including `b`; negative when
  b < a (then: from `b` included up to `a` excluded). So for every n,
  `working_days_between(a, add_working_days(a, n)) == n`.
- `next_working_day(d)`: the first working day strictly after `d` (= add_working_days(d, 1)).

The functions are on hot paths (deadlines of thousands of tasks), so each process keeps one
year's table at a time in memory: per-day flags, a prefix count and the list of working days, so
additions and differences are index arithmetic. Edits through core.services invalidate this
process's cache at once; other processes notice the changed `CalendarRevision` token within
`REVISION_CHECK_SECONDS`.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar
from django.utils import timezone

from .errors import ServiceError

REVISION_CHECK_SECONDS = 2.0

# kinds of day
NORMAL = "workday"  # Monday–Friday, working
WEEKEND = "weekend"  # Saturday/Sunday, rest
HOLIDAY = "holiday"  # statutory holiday, rest
MAKEUP = "makeup"  # a weekend day made a working day (调休上班)
WORKING_KINDS = frozenset({NORMAL, MAKEUP})
KIND_LABELS = {NORMAL: "工作日", WEEKEND: "休息日", HOLIDAY: "节假日", MAKEUP: "调休上班"}

BUILTIN = "builtin"  # year covered by chinesecalendar
CONFIRMED = "confirmed"  # year entered and confirmed by the 系统管理员
MISSING = "missing"  # neither
YEAR_STATUS_LABELS = {BUILTIN: "内置数据", CONFIRMED: "已录入并确认", MISSING: "未录入"}

_HOLIDAY_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}
_BUILTIN_YEARS = frozenset(d.year for d in chinese_calendar.constants.holidays)
BUILTIN_FIRST_YEAR = min(_BUILTIN_YEARS)
BUILTIN_LAST_YEAR = max(_BUILTIN_YEARS)


class CalendarDataMissing(ServiceError):
    """A date falls in a year whose holiday arrangement nobody has entered (R8.2)."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            "calendar.year_missing",
            f"{year} 年节假日安排尚未录入，无法计算工作日。请系统管理员在国务院办公厅公布后，"
            f"于“系统管理员控制台 → 工作日历”录入 {year} 年安排并确认。",
            details={"year": year},
        )


@dataclass(frozen=True)
class DayInfo:
    date: date
    kind: str  # NORMAL | WEEKEND | HOLIDAY | MAKEUP
    name: str  # 春节, 国庆节… ("" for an ordinary day)
    source: str  # "builtin" | "override" | "default"
    override_id: int | None = None

    @property
    def working(self) -> bool:
        return self.kind in WORKING_KINDS

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class _Year:
    year: int
    status: str
    first: int  # ordinal of 1 January
    days: tuple[DayInfo, ...]
    cum: tuple[int, ...]  # cum[i] = working days among the year's first i days
    working: tuple[int, ...]  # ordinals of the working days, ascending

    @property
    def total(self) -> int:
        return len(self.working)


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.years: dict[int, _Year | None] = {}  # None: year known to be missing
        self.token: str | None = None
        self.checked_at = 0.0


_cache = _Cache()


def invalidate() -> None:
    """Forget everything loaded in this process; the next call reloads from the database."""
    with _cache.lock:
        _cache.years = {}
        _cache.token = None
        _cache.checked_at = 0.0


def _check_revision() -> None:
    now = time.monotonic()
    if now - _cache.checked_at < REVISION_CHECK_SECONDS:
        return
    from .models import CalendarRevision

    token = CalendarRevision.objects.filter(pk=1).values_list("token", flat=True).first() or ""
    with _cache.lock:
        if token != _cache.token:
            _cache.years = {}
            _cache.token = token
        _cache.checked_at = now


def _builtin_day(d: date) -> DayInfo:
    on_holiday, holiday_name = chinese_calendar.get_holiday_detail(d)
    name = _HOLIDAY_NAMES.get(holiday_name, holiday_name or "")
    weekend = d.weekday() >= 5
    if chinese_calendar.is_workday(d):
        return DayInfo(d, MAKEUP if weekend else NORMAL, name if weekend else "", BUILTIN)
    if name:
        return DayInfo(d, HOLIDAY, name, BUILTIN)
    return DayInfo(d, WEEKEND, "", BUILTIN)


def _default_day(d: date) -> DayInfo:
    return DayInfo(d, WEEKEND if d.weekday() >= 5 else NORMAL, "", "default")


def _override_day(d: date, row) -> DayInfo:
    if row.kind == "holiday":
        kind = HOLIDAY
    else:
        kind = MAKEUP if d.weekday() >= 5 else NORMAL
    return DayInfo(d, kind, row.name, "override", row.pk)


def year_status(year: int) -> str:
    """BUILTIN, CONFIRMED or MISSING — read fresh from the database (for the console)."""
    if year in _BUILTIN_YEARS:
        return BUILTIN
    from .models import CalendarYear

    return CONFIRMED if CalendarYear.objects.filter(year=year, confirmed=True).exists() else MISSING


def _build_year(year: int, status: str) -> _Year:
    from .models import HolidayDate

    overrides = {row.date: row for row in HolidayDate.objects.filter(date__year=year)}
    first = date(year, 1, 1)
    n_days = (date(year + 1, 1, 1) - first).days
    days, cum, working = [], [0], []
    for i in range(n_days):
        d = first + timedelta(days=i)
        if d in overrides:
            info = _override_day(d, overrides[d])
        elif status == BUILTIN:
            info = _builtin_day(d)
        else:
            info = _default_day(d)
        days.append(info)
        if info.working:
            working.append(d.toordinal())
        cum.append(len(working))
    return _Year(year, status, first.toordinal(), tuple(days), tuple(cum), tuple(working))


def _year(year: int) -> _Year:
    _check_revision()
    try:
        data = _cache.years[year]
    except KeyError:
        status = year_status(year)
        data = _build_year(year, status) if status != MISSING else None
        _cache.years[year] = data
    if data is None:
        raise CalendarDataMissing(year)
    return data


def year_days(year: int) -> list[DayInfo]:
    """Every day of `year` for display. A missing year shows weekends and the entered rows (no error)."""
    status = year_status(year)
    if status == MISSING:
        return list(_build_year(year, MISSING).days)
    return list(_year(year).days)


def is_year_covered(year: int) -> bool:
    try:
        _year(year)
    except CalendarDataMissing:
        return False
    return True


def missing_years(today: date) -> list[int]:
    """Years the 系统管理员 must enter now: this year if missing; from 1 November also next year (R8.2)."""
    candidates = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [y for y in candidates if not is_year_covered(y)]


def _as_date(d: date | datetime) -> date:
    if isinstance(d, datetime):
        return (timezone.localtime(d) if timezone.is_aware(d) else d).date()
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d


def day_info(d: date | datetime) -> DayInfo:
    d = _as_date(d)
    data = _year(d.year)
    return data.days[d.toordinal() - data.first]


def is_working_day(d: date | datetime) -> bool:
    return day_info(d).working


def add_working_days(start: date | datetime, n: int) -> date:
    """The n-th working day after `start` (start not counted, R8.1); see the module docstring for n ≤ 0."""
    start = _as_date(start)
    n = int(n)
    if n == 0:
        return start
    data = _year(start.year)
    index = start.toordinal() - data.first
    if n > 0:
        upto = data.cum[index + 1]  # working days on or before start in its year
        if n <= data.total - upto:
            return date.fromordinal(data.working[upto + n - 1])
        n -= data.total - upto
        year = start.year + 1
        while True:
            data = _year(year)
            if n <= data.total:
                return date.fromordinal(data.working[n - 1])
            n -= data.total
            year += 1
    n = -n
    before = data.cum[index]  # working days strictly before start in its year
    if n <= before:
        return date.fromordinal(data.working[before - n])
    n -= before
    year = start.year - 1
    while True:
        data = _year(year)
        if n <= data.total:
            return date.fromordinal(data.working[data.total - n])
        n -= data.total
        year -= 1


def _count(lo: date, hi: date, *, inclusive_end: bool) -> int:
    """Working days in (lo, hi] (inclusive_end) or [lo, hi) (not), lo <= hi; each year touched must be covered."""
    shift = 1 if inclusive_end else 0

    def position(d: date) -> tuple[int, int]:
        data = _year(d.year)
        return d.year, data.cum[d.toordinal() - data.first + shift]

    ylo, clo = position(lo)
    yhi, chi = position(hi)
    if ylo == yhi:
        return chi - clo
    total = _year(ylo).total - clo
    for year in range(ylo + 1, yhi):
        total += _year(year).total
    return total + chi


def working_days_between(a: date | datetime, b: date | datetime) -> int:
    """Working days after `a` up to and including `b`; when b < a, minus those from `b` (included) to `a`.

    The inverse of add_working_days: working_days_between(a, add_working_days(a, n)) == n.
    """
    a, b = _as_date(a), _as_date(b)
    if b >= a:
        return _count(a, b, inclusive_end=True)
    return -_count(b, a, inclusive_end=False)


def next_working_day(d: date | datetime) -> date:
    """The first working day strictly after `d`."""
    return add_working_days(d, 1)


def working_day_on_or_after(d: date | datetime) -> date:
    """`d` itself when it is a working day, else the next one."""
    d = _as_date(d)
    return d if is_working_day(d) else add_working_days(d, 1)
