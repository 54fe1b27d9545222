"""Working time in hours: office hours on the working days of the calendar (R8), nights, weekends and holidays skipped.

"Signed for within 4 working hours" counts only the time the office is open. The office hours are one setting,
`OFFICE_HOURS` (default `08:30-12:00,14:00-17:30`, local time `TIME_ZONE`: the usual hours of a Chinese 机关 —
morning and afternoon, a lunch break between), the same on every working day; the working days are those of
`core.calendar` (the State Council's arrangement, 调休 working weekends included). A day is therefore 7 working
hours with the default.

`WorkingClock` maps an instant to a position on a line of working seconds that starts at an anchor date, so the
working time between two instants is a subtraction. Positions are memoised per day, so measuring many intervals in
one period costs one calendar look-up per distinct date, not per interval (the exchange statistics measure
100,000 deliveries in one pass). A date in a year without holiday data raises `calendar.CalendarDataMissing`
(R8.2), never a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from . import calendar

DEFAULT_OFFICE_HOURS = "08:30-12:00,14:00-17:30"
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class OfficeHours:
    """The open spans of a working day, as seconds after midnight: ((start, end), …), ascending, disjoint."""

    spans: tuple[tuple[int, int], ...]

    @property
    def day_seconds(self) -> int:
        return sum(end - start for start, end in self.spans)

    def elapsed(self, seconds_of_day: float) -> float:
        """Open seconds of a working day before the given time of day."""
        total = 0.0
        for start, end in self.spans:
            if seconds_of_day <= start:
                break
            total += min(seconds_of_day, end) - start
        return total

    def label(self) -> str:
        """08:30–12:00、14:00–17:30"""
        return "、".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in self.spans)


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@lru_cache(maxsize=8)
def parse_office_hours(text: str) -> OfficeHours:
    """`08:30-12:00,14:00-17:30` → OfficeHours; ImproperlyConfigured for anything else (a setting's error)."""
    spans = []
    for part in (text or "").split(","):
        match = _SPAN.match(part)
        if not match:
            raise ImproperlyConfigured(f"OFFICE_HOURS: “{part.strip()}” is not HH:MM-HH:MM (e.g. {DEFAULT_OFFICE_HOURS})")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ImproperlyConfigured(f"OFFICE_HOURS: “{part.strip()}” is not a time of day")
        start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if not 0 <= start < end <= 24 * 3600:
            raise ImproperlyConfigured(f"OFFICE_HOURS: “{part.strip()}” ends before it starts")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in pairwise(spans):
        if start < end:
            raise ImproperlyConfigured(f"OFFICE_HOURS: the spans of “{text}” overlap")
    return OfficeHours(tuple(spans))


def office_hours() -> OfficeHours:
    return parse_office_hours(getattr(settings, "OFFICE_HOURS", DEFAULT_OFFICE_HOURS))


class WorkingClock:
    """Working seconds since `anchor` (a date): `position(b) - position(a)` is the working time from a to b.

    Instants before the anchor count as the anchor's midnight (callers anchor at the earliest date they measure).
    """

    def __init__(self, anchor: date, hours: OfficeHours | None = None):
        self.anchor = anchor
        self.hours = hours or office_hours()
        self.tz = timezone.get_default_timezone()
        self._anchor_working: bool | None = None  # looked up at the first measurement, not before it is needed
        self._days: dict[int, tuple[float, bool]] = {}  # ordinal → (working seconds before that day, working?)

    def _day(self, d: date) -> tuple[float, bool]:
        key = d.toordinal()
        cached = self._days.get(key)
        if cached is None:
            if self._anchor_working is None:
                self._anchor_working = calendar.is_working_day(self.anchor)
            working = calendar.is_working_day(d)
            # working days in [anchor, d): those in (anchor, d], minus d, plus the anchor itself
            before = calendar.working_days_between(self.anchor, d) - working + self._anchor_working
            cached = self._days[key] = (before * self.hours.day_seconds, working)
        return cached

    def position(self, instant: datetime) -> float:
        local = instant.astimezone(self.tz)
        d = local.date()
        if d < self.anchor:
            return 0.0
        before, working = self._day(d)
        if not working:
            return before
        return before + self.hours.elapsed(local.hour * 3600 + local.minute * 60 + local.second
                                           + local.microsecond / 1e6)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from `start` to `end`; 0 when end is not after start."""
        return max(0.0, self.position(end) - self.position(start))


def working_seconds_between(start: datetime, end: datetime) -> float:
    """The working time from `start` to `end` in seconds (one-off; use a WorkingClock for many intervals)."""
    anchor = timezone.localtime(min(start, end), timezone.get_default_timezone()).date()
    return WorkingClock(anchor).seconds_between(start, end)


def local_midnight(d: date) -> datetime:
    """The aware instant a local date starts (periods [from, to) are whole local days)."""
    return timezone.make_aware(datetime.combine(d, time.min), timezone.get_default_timezone())
