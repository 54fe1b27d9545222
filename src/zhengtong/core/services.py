"""Editing the working-day calendar (R8.2): only the platform 系统管理员, every change audited with a diff.

The State Council publishes next year's holiday arrangement each winter; until chinesecalendar ships
it, the 系统管理员 enters it here (day by day, or by pasting the arrangement) and confirms the year.
Every write changes `CalendarRevision`, so the calendar caches of all processes reload.

Audit actions: calendar.day_set, calendar.day_removed, calendar.imported, calendar.year_confirmed,
calendar.year_unconfirmed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot

from . import calendar
from .errors import NotFound, ServiceError
from .models import CalendarRevision, CalendarYear, HolidayDate, new_token

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_RANGE_DAYS = 31
MAX_IMPORT_LINES = 400
DAY_FIELDS = ["date", "kind", "name", "note"]


def _require_sysadmin(user) -> None:
    from zhengtong.accounts.models import AdminRole
    from zhengtong.accounts.permissions import require_admin_role

    require_admin_role(user, AdminRole.SYSTEM)


def _changed() -> None:
    """Bump the revision token (other processes) and drop this process's cache now and after commit."""
    CalendarRevision.objects.update_or_create(pk=1, defaults={"token": new_token()})
    calendar.invalidate()
    transaction.on_commit(calendar.invalidate)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ServiceError("calendar.invalid_date", f"年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间")


def _clean_day(day: date, kind: str, name: str, note: str) -> tuple[str, str, str]:
    _check_year(day.year)
    if kind not in HolidayDate.Kind.values:
        raise ServiceError("calendar.invalid_kind", "类型须为“休息（节假日）”或“上班（调休）”")
    name, note = (name or "").strip(), (note or "").strip()
    if len(name) > 50:
        raise ServiceError("calendar.invalid_name", "名称不能超过 50 个字")
    if len(note) > 200:
        raise ServiceError("calendar.invalid_note", "备注不能超过 200 个字")
    return kind, name, note


def set_calendar_day(user, day: date, kind: str, name: str = "", note: str = "") -> HolidayDate:
    """Declare `day` a holiday or a make-up working day (调休), overriding the built-in data."""
    _require_sysadmin(user)
    kind, name, note = _clean_day(day, kind, name, note)
    with transaction.atomic():
        row = HolidayDate.objects.select_for_update().filter(date=day).first()
        before = snapshot(row, DAY_FIELDS) if row else None
        if row is None:
            row = HolidayDate(date=day, created_by=user)
        row.kind, row.name, row.note, row.updated_by = kind, name, note, user
        row.save()
        changes = diff(before, snapshot(row, DAY_FIELDS))
        if changes:
            _changed()
            record("calendar.day_set", user=user, obj=row, changes=changes)
    return row


def remove_calendar_day(user, day: date) -> None:
    """Remove the override of `day`: the built-in data (or Monday–Friday) applies again."""
    _require_sysadmin(user)
    with transaction.atomic():
        row = HolidayDate.objects.select_for_update().filter(date=day).first()
        if row is None:
            raise NotFound("calendar.day_not_found", f"{day.isoformat()} 没有录入的调整")
        before = snapshot(row, DAY_FIELDS)
        repr_, pk = str(row), row.pk
        row.delete()
        _changed()
        record("calendar.day_removed", user=user, object_type="core.holidaydate", object_id=pk,
               object_repr=repr_, changes=diff(before, None))


def confirm_calendar_year(user, year: int, note: str = "") -> CalendarYear:
    """Declare `year`'s arrangement entered and complete: from now on dates in it can be computed (R8.2)."""
    _require_sysadmin(user)
    _check_year(year)
    if year not in range(calendar.BUILTIN_FIRST_YEAR, calendar.BUILTIN_LAST_YEAR + 1) and not \
            HolidayDate.objects.filter(date__year=year, kind=HolidayDate.Kind.HOLIDAY).exists():
        raise ServiceError("calendar.year_empty",
                           f"{year} 年尚未录入任何节假日，不能确认。请先按国务院办公厅通知录入全年安排")
    with transaction.atomic():
        row, _ = CalendarYear.objects.select_for_update().get_or_create(year=year)
        before = snapshot(row, ["confirmed", "note"])
        row.confirmed, row.confirmed_by, row.confirmed_at = True, user, timezone.now()
        if note.strip():
            row.note = note.strip()[:200]
        row.save()
        _changed()
        record("calendar.year_confirmed", user=user, obj=row,
               changes=diff(before, snapshot(row, ["confirmed", "note"])),
               detail={"entries": HolidayDate.objects.filter(date__year=year).count()})
    return row


def unconfirm_calendar_year(user, year: int) -> CalendarYear:
    """Withdraw a confirmation (e.g. entered by mistake): dates in `year` raise CalendarDataMissing again."""
    _require_sysadmin(user)
    with transaction.atomic():
        row = CalendarYear.objects.select_for_update().filter(year=year, confirmed=True).first()
        if row is None:
            raise NotFound("calendar.year_not_confirmed", f"{year} 年尚未确认")
        row.confirmed, row.confirmed_at = False, None
        row.save()
        _changed()
        record("calendar.year_unconfirmed", user=user, obj=row, changes={"confirmed": [True, False]})
    return row


# --- import of a pasted arrangement ----------------------------------------------------------------

HOLIDAY_WORDS = {"holiday", "rest", "off", "休", "休息", "放假", "假", "节假日"}
WORKDAY_WORDS = {"workday", "work", "班", "上班", "调休上班", "补班"}
RANGE_SEPARATORS = re.compile(r"\s*(?:~|～|至|到|—|－－)\s*")
DATE_PATTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass
class ImportedDay:
    line: int
    date: date
    kind: str
    name: str
    note: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    days: list[ImportedDay] = field(default_factory=list)


def _parse_date(text: str) -> date | None:
    match = DATE_PATTERN.match(text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def parse_calendar_text(text: str) -> list[ImportedDay]:
    """Parse lines like `2027-02-06~2027-02-14 春节 holiday` or `2027-02-15 workday 春节调休`.

    A line: a date or a range (`~`, `至`), a kind (holiday/休/放假 or workday/班/上班), optionally a name
    and a note, separated by spaces, tabs or commas (CSV). Blank lines and lines starting with `#` are
    skipped. Every error names its line; any error raises and nothing is returned.
    """
    errors: list[str] = []
    days: list[ImportedDay] = []
    seen: dict[date, int] = {}
    lines = (text or "").splitlines()
    if len(lines) > MAX_IMPORT_LINES:
        raise ServiceError("calendar.import_invalid", f"一次最多导入 {MAX_IMPORT_LINES} 行")
    for number, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        line = RANGE_SEPARATORS.sub("~", line)
        tokens = [t for t in re.split(r"[\s,，\t;；]+", line) if t]
        spec, rest = tokens[0], tokens[1:]
        first_text, _, last_text = spec.partition("~")
        first = _parse_date(first_text)
        last = _parse_date(last_text) if last_text else first
        if first is None or last is None:
            bad = first_text if first is None else last_text
            errors.append(f"第 {number} 行：日期“{bad or spec}”无效，应为 YYYY-MM-DD 或 YYYY-MM-DD~YYYY-MM-DD")
            continue
        if last < first:
            errors.append(f"第 {number} 行：结束日期早于开始日期")
            continue
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            errors.append(f"第 {number} 行：一个日期范围最多 {MAX_RANGE_DAYS} 天")
            continue
        if not (FIRST_YEAR <= first.year and last.year <= LAST_YEAR):
            errors.append(f"第 {number} 行：年份须在 {FIRST_YEAR}–{LAST_YEAR} 之间")
            continue
        kinds = [i for i, t in enumerate(rest) if t.lower() in HOLIDAY_WORDS | WORKDAY_WORDS]
        found = {rest[i].lower() in HOLIDAY_WORDS for i in kinds}
        if len(found) != 1:
            errors.append(f"第 {number} 行：须写明一个类型：holiday（休息）或 workday（上班）"
                          + ("，不能两者都写" if len(found) > 1 else ""))
            continue
        kind = HolidayDate.Kind.HOLIDAY if found.pop() else HolidayDate.Kind.WORKDAY
        words = rest[:kinds[0]] + rest[kinds[0] + 1:]  # the first kind word; any later one is text
        name = words[0] if words else ""
        note = " ".join(words[1:])
        if len(name) > 50 or len(note) > 200:
            errors.append(f"第 {number} 行：名称不能超过 50 个字，备注不能超过 200 个字")
            continue
        day = first
        while day <= last:
            if day in seen:
                errors.append(f"第 {number} 行：{day.isoformat()} 与第 {seen[day]} 行重复")
                break
            seen[day] = number
            days.append(ImportedDay(number, day, kind, name, note))
            day += timedelta(days=1)
    if errors:
        shown = errors[:20] + ([f"……另有 {len(errors) - 20} 处错误"] if len(errors) > 20 else [])
        raise ServiceError("calendar.import_invalid", "导入失败，未作任何修改：" + "；".join(shown[:3]),
                           details={"errors": shown})
    if not days:
        raise ServiceError("calendar.import_empty", "没有可导入的内容")
    return days


def import_calendar_days(user, text: str) -> ImportResult:
    """Apply a pasted arrangement in one transaction: all lines or none (errors name their line)."""
    _require_sysadmin(user)
    days = parse_calendar_text(text)
    result = ImportResult(days=days)
    changes: dict[str, list] = {}
    with transaction.atomic():
        existing = {row.date: row for row in
                    HolidayDate.objects.select_for_update().filter(date__in=[d.date for d in days])}
        for item in days:
            row = existing.get(item.date)
            new = f"{item.kind} {item.name} {item.note}".strip()
            if row is None:
                HolidayDate.objects.create(date=item.date, kind=item.kind, name=item.name, note=item.note,
                                           created_by=user, updated_by=user)
                result.created += 1
                changes[item.date.isoformat()] = [None, new]
            elif (row.kind, row.name, row.note) != (item.kind, item.name, item.note):
                old = f"{row.kind} {row.name} {row.note}".strip()
                row.kind, row.name, row.note, row.updated_by = item.kind, item.name, item.note, user
                row.save()
                result.updated += 1
                changes[item.date.isoformat()] = [old, new]
            else:
                result.unchanged += 1
        if changes:
            _changed()
        years = sorted({d.date.year for d in days})
        record("calendar.imported", user=user, object_type="core.holidaydate",
               object_repr=f"导入 {', '.join(map(str, years))} 年节假日安排", changes=changes,
               detail={"lines": len({d.line for d in days}), "days": len(days), "created": result.created,
                       "updated": result.updated, "unchanged": result.unchanged})
    return result
