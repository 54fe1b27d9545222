"""Who gets which event on which channel, and when: the person's choice, else their unit's default (set by its 单位系统
管理员), else the platform's. Quiet hours hold a message until they end, a daily digest until the digest time; urgent
ones (特急, 红牌, 催办 of a 特急) go at once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from .models import Channel, Event, Preference

E, C = Event, Channel
ROBOTS = [C.WECOM, C.DINGTALK]
PLATFORM_DEFAULT: dict[str, list[str]] = {
    E.TODO: [C.EMAIL, *ROBOTS],
    E.TOREAD: [],
    E.RETURNED: [C.EMAIL, *ROBOTS],
    E.URGED: [C.EMAIL, C.SMS, *ROBOTS],
    E.DEADLINE: [C.EMAIL, C.SMS],
    E.DELEGATION: [C.EMAIL],
    E.ARRIVED: [C.EMAIL, *ROBOTS],
    E.REFUSED: [C.EMAIL, *ROBOTS],
    E.UNSIGNED: [C.EMAIL, *ROBOTS],
    E.SIGN_REMINDER: [*ROBOTS, C.SMS],
    E.OVERDUE_SUMMARY: [C.EMAIL],
}


@dataclass(frozen=True)
class Choice:
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None
    digest: bool

    def wants(self, event: str) -> list[str]:
        return self.channels.get(event, PLATFORM_DEFAULT.get(event, []))


def merged(person_pref: Preference | None, unit_pref: Preference | None) -> Choice:
    """The person's choices over the unit's defaults, event by event; quiet hours and digest likewise."""
    channels = {**(unit_pref.channels if unit_pref else {}), **(person_pref.channels if person_pref else {})}
    source = person_pref or unit_pref  # a person who saved settings chose their quiet hours, none included
    quiet = (source.quiet_start, source.quiet_end) if source else (None, None)
    digest = person_pref.digest if person_pref else bool(unit_pref and unit_pref.digest)
    return Choice(channels, *quiet, digest)


def choices_for(pairs) -> dict[int, Choice]:
    """{person id: Choice} for (person id, unit id) pairs, in two queries."""
    pairs = list(pairs)
    persons = {p for p, _ in pairs}
    units = {u for _, u in pairs if u}
    rows = Preference.objects.filter(person_id__in=persons) | Preference.objects.filter(unit_id__in=units)
    by_person, by_unit = {}, {}
    for row in rows:
        (by_person if row.person_id else by_unit)[row.person_id or row.unit_id] = row
    return {p: merged(by_person.get(p), by_unit.get(u)) for p, u in pairs}


def _local(now: datetime) -> datetime:
    return timezone.localtime(now)


def in_quiet_hours(choice: Choice, now: datetime) -> datetime | None:
    """When the quiet hours around `now` end (None when `now` is outside them). A window may span midnight."""
    start, end = choice.quiet_start, choice.quiet_end
    if not start or not end or start == end:
        return None
    local = _local(now)
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def digest_time() -> time:
    hour, minute = str(getattr(settings, "NOTIFY_DIGEST_TIME", "08:30")).split(":")
    return time(int(hour), int(minute))


def next_digest(now: datetime) -> datetime:
    local = _local(now)
    at = digest_time()
    when = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return when if when > local else when + timedelta(days=1)


def send_at(choice: Choice, *, urgent: bool, now: datetime) -> tuple[datetime, bool]:
    """When a message goes out and whether it waits for the digest."""
    if urgent:
        return now, False
    if choice.digest:
        return next_digest(now), True
    return in_quiet_hours(choice, now) or now, False
