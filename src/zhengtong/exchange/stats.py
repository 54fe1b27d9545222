"""收发统计 (issue #5 §1): per unit and period, how promptly the exchange went — pure reads.

Where the practice comes from (the seeds, /work/shared/seeds/):
- 003_2392bce58495d169.txt: the platform "具有统计分析和办理时间记录功能"; the supervising office "将各单位效能情况按
  绩效考核指标进一步量化，对各个单位的行政绩效进行评分"; "公文处理实行限时办结制，一般件在1个工作日内办理完毕"; the use of
  the platform by each unit "纳入年度政府绩效考核".
- 001_2abd034731a79efc.txt: the units' e-government work "列入全市机关工作考核项目 … 由市电子政务办公室负责组织实施" —
  an office of the city rates every unit, hence the oversight rule below.
- 004_ff111bf1d6714ac0.txt: each unit "及時上傳、下達各類文件"; 000_307c4ee6f12a4747.txt reports "无一件超时办结" — the
  overdue count is what gets reported.

The period is [from, to) in whole local days; a delivery belongs to it by its 送达 time (`delivered_at`) and is
counted with its state now (a delivery of the 31st signed on the 2nd counts in the month it arrived).

Per unit, as recipient (deliveries to it, a recalled one left out: the sender took it back before anyone had to act):
- received: deliveries delivered in the period, not recalled; signed / pending / refused (退文, by it) among them;
- time to 签收: working time from delivery to 签收 (core.working_hours: office hours `OFFICE_HOURS`, default
  08:30–12:00 and 14:00–17:30 Asia/Shanghai, on the calendar's working days — nights, weekends and holidays do not
  count); median and p90 (nearest rank: the smallest time at least 90 % of the signed deliveries did not exceed);
- on time: signed within the limit `EXCHANGE_SIGN_LIMIT_HOURS` (default 4 working hours);
- overdue: signed later than the limit, or still pending and older than the limit now;
- assessed = signed + pending-and-overdue (a pending delivery still inside its limit is not judged yet; a refusal is
  a legitimate answer and is counted apart); share on time = on time / assessed (= 1 − overdue / assessed).
As sender (deliveries whose `sender_unit` is it): documents (distinct), deliveries, refused by their recipients,
recalled.

Timeliness score (及时性得分), 0–100, per unit and for the total, None when nothing was assessed:
    score = 100 × Σ points / assessed, one decimal, where each assessed delivery earns
      1.0  signed within the limit (4 working hours),
      0.6  signed within one working day (the seeds' 限时办结: 一般件在1个工作日内办理完毕; 7 working hours by default),
      0.3  signed later,
      0    still pending past the limit.
So a unit that signs everything within 4 working hours scores 100, one that signs everything the same day 60,
one that leaves everything lying 0.

Who may see what (the rule; 403 `exchange.statistics_forbidden` otherwise):
- a person (never a 三员 account: R7.2) sees each unit where they hold an active post as 主要负责人, 分管领导,
  单位系统管理员 or 收发员 (`STATS_DUTIES`);
- oversight: the 办公室 of a body — a unit under it named after it, "<body>办公室" or "<body>办公厅" (示范市人民政府办公室
  under 示范市人民政府, 中共示范市委员会办公室 under 中共示范市委员会) — rates the units of the body's region and the
  regions below it (seed 001: the city's office organises the rating of every unit). Whoever holds one of
  `STATS_DUTIES` in such an office (bgs.sfy, the 市政府办公室's 收发员, in the demo), and the body's own 主要负责人 and
  分管领导 (市长, 副市长), see every unit of the city, its counties and townships; a county's government office sees
  its county and townships.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from zhengtong.accounts.permissions import is_any_admin
from zhengtong.core import working_hours
from zhengtong.core.errors import Forbidden, NotFound, ServiceError
from zhengtong.org.models import Duty, Identity, Region, Unit

from .models import Delivery

Status = Delivery.Status

MAX_PERIOD_DAYS = 366
EARLIEST = date(2000, 1, 1)
STATS_DUTIES = (Duty.PRINCIPAL, Duty.DEPUTY, Duty.UNIT_ADMIN, Duty.DOC_CLERK)
LEADER_DUTIES = (Duty.PRINCIPAL, Duty.DEPUTY)
OFFICE_SUFFIXES = ("办公室", "办公厅")
POINTS_ON_TIME, POINTS_SAME_DAY, POINTS_LATE = 1.0, 0.6, 0.3
FORBIDDEN_MESSAGE = "只有单位负责人、单位系统管理员和收发员可以查看本单位的收发统计"


# --- the period -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: date  # first day counted
    end: date  # the day after the last one (exclusive)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def since(self) -> datetime:
        return working_hours.local_midnight(self.start)

    @property
    def until(self) -> datetime:
        return working_hours.local_midnight(self.end)

    def label(self) -> str:
        """2026年10月1日至2026年10月31日"""
        first, last = self.start, self.last_day
        return f"{first.year}年{first.month}月{first.day}日至{last.year}年{last.month}月{last.day}日"


def _invalid(message: str) -> ServiceError:
    return ServiceError("exchange.invalid_period", message)


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _invalid(f"{what}格式应为 YYYY-MM-DD") from None


def parse_period(start: str | None, end: str | None, *, today: date) -> Period:
    """`from`/`to` as given in a request (YYYY-MM-DD, `to` exclusive). Missing `to`: through today; missing `from`:
    the first day of the month of the last day. At most MAX_PERIOD_DAYS days."""
    last_excl = _date(end, "截止日期") if (end or "").strip() else today + timedelta(days=1)
    first = (_date(start, "起始日期") if (start or "").strip()
             else (last_excl - timedelta(days=1)).replace(day=1))
    if first < EARLIEST:  # also keeps the local midnight of year 1 from overflowing in UTC
        raise _invalid(f"起始日期不能早于 {EARLIEST:%Y-%m-%d}")
    if first >= last_excl:
        raise _invalid("起始日期应早于截止日期（截止日期不计入统计期间）")
    if (last_excl - first).days > MAX_PERIOD_DAYS:
        raise _invalid(f"统计期间不能超过 {MAX_PERIOD_DAYS} 天")
    return Period(first, last_excl)


def parse_unit(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise ServiceError("exchange.invalid_unit", "单位应为单位编号")
    return int(text)


def sign_limit_seconds() -> float:
    hours = float(getattr(settings, "EXCHANGE_SIGN_LIMIT_HOURS", 4))
    if hours <= 0:
        raise ImproperlyConfigured("EXCHANGE_SIGN_LIMIT_HOURS must be above 0")
    return hours * 3600


# --- who may see which units ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    unit_ids: frozenset[int] = frozenset()  # units seen as one's own
    region_ids: frozenset[int] = frozenset()  # every unit of these regions (oversight)

    def __bool__(self) -> bool:
        return bool(self.unit_ids or self.region_ids)

    def units(self) -> QuerySet[Unit]:
        return Unit.objects.filter(Q(pk__in=self.unit_ids) | Q(region_id__in=self.region_ids))

    def covers(self, unit: Unit) -> bool:
        return unit.pk in self.unit_ids or unit.region_id in self.region_ids


def _office_names(body: Unit) -> list[str]:
    return [body.name + suffix for suffix in OFFICE_SUFFIXES]


def _is_office_of_parent(unit: Unit) -> bool:
    return unit.active and unit.parent is not None and unit.name in _office_names(unit.parent)


def _has_office(body: Unit) -> bool:
    return Unit.objects.filter(parent=body, active=True, name__in=_office_names(body)).exists()


def _region_and_below(region_ids: set[int]) -> set[int]:
    found, frontier = set(region_ids), set(region_ids)
    while frontier:  # three levels: city → county → township
        frontier = set(Region.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


def visible_scope(user) -> Scope:
    """The units whose statistics `user` may see (the rule in the module docstring); empty for anyone else."""
    person = getattr(user, "person", None) if user is not None and user.is_authenticated else None
    if person is None or is_any_admin(user):
        return Scope()
    unit_ids, overseen = set(), set()
    posts = (Identity.objects.filter(person=person, active=True, duty__code__in=STATS_DUTIES)
             .select_related("unit__parent", "duty"))
    for post in posts:
        unit_ids.add(post.unit_id)
        if _is_office_of_parent(post.unit):
            overseen.add(post.unit.parent.region_id)
        elif post.duty.code in LEADER_DUTIES and _has_office(post.unit):
            overseen.add(post.unit.region_id)
    return Scope(frozenset(unit_ids), frozenset(_region_and_below(overseen)) if overseen else frozenset())


def units_for(user, unit_id: int | None = None) -> tuple[list[Unit], QuerySet[Unit]]:
    """The units of the report — `unit_id` alone, or every unit the user may see — as a list in the organisation's
    order and as a queryset (for subqueries). 403 when the user may see none, or not that one."""
    scope = visible_scope(user)
    if not scope:
        raise Forbidden("exchange.statistics_forbidden", FORBIDDEN_MESSAGE)
    if unit_id is not None:
        unit = Unit.objects.filter(pk=unit_id).first()
        if unit is None:
            raise NotFound("exchange.unit_not_found", "单位不存在")
        if not scope.covers(unit):
            raise Forbidden("exchange.statistics_forbidden", "无权查看该单位的收发统计")
        return [unit], Unit.objects.filter(pk=unit_id)
    units = scope.units()
    return list(units.select_related("region").order_by("region__level", "region__code", "order", "pk")), units


# --- the figures ----------------------------------------------------------------------------------------------

@dataclass
class Figures:
    """One row of the report (a unit, or the total)."""

    sent_documents: int = 0
    sent: int = 0
    sent_refused: int = 0
    sent_recalled: int = 0
    received: int = 0
    signed: int = 0
    pending: int = 0
    refused: int = 0
    on_time: int = 0
    signed_late: int = 0
    pending_overdue: int = 0
    points: float = 0.0
    durations: list[float] = field(default_factory=list, repr=False)  # working seconds to 签收

    @property
    def assessed(self) -> int:
        return self.on_time + self.signed_late + self.pending_overdue

    @property
    def overdue(self) -> int:
        return self.signed_late + self.pending_overdue

    @property
    def on_time_share(self) -> float | None:
        return round(self.on_time / self.assessed, 4) if self.assessed else None

    @property
    def score(self) -> float | None:
        return round(100 * self.points / self.assessed, 1) if self.assessed else None

    def minutes(self, which: str) -> float | None:
        if not self.durations:
            return None
        ordered = sorted(self.durations)
        if which == "median":
            value = statistics.median(ordered)
        else:  # p90, nearest rank
            value = ordered[math.ceil(0.9 * len(ordered)) - 1]
        return round(value / 60, 1)

    def add(self, other: Figures) -> None:
        for name in ("sent_documents", "sent", "sent_refused", "sent_recalled", "received", "signed", "pending",
                     "refused", "on_time", "signed_late", "pending_overdue", "points"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.durations.extend(other.durations)

    def as_dict(self) -> dict:
        return {
            "sent_documents": self.sent_documents, "sent": self.sent, "sent_refused": self.sent_refused,
            "sent_recalled": self.sent_recalled, "received": self.received, "signed": self.signed,
            "pending": self.pending, "refused": self.refused,
            "median_minutes": self.minutes("median"), "p90_minutes": self.minutes("p90"),
            "on_time": self.on_time, "assessed": self.assessed, "on_time_share": self.on_time_share,
            "overdue": self.overdue, "overdue_signed": self.signed_late, "overdue_pending": self.pending_overdue,
            "score": self.score,
        }


@dataclass
class UnitRow:
    unit: Unit
    figures: Figures

    def as_dict(self) -> dict:
        return {"unit_id": self.unit.pk, "unit": self.unit.name, "short_name": self.unit.short_name,
                **self.figures.as_dict()}


@dataclass
class Report:
    period: Period
    rows: list[UnitRow]
    total: Figures
    generated_at: datetime
    office_hours: str
    limit_hours: float

    def as_dict(self) -> dict:
        return {"from": self.period.start, "to": self.period.end, "period": self.period.label(),
                "generated_at": self.generated_at, "office_hours": self.office_hours,
                "limit_hours": self.limit_hours, "units": [r.as_dict() for r in self.rows],
                "total": self.total.as_dict()}


def _in_period(period: Period) -> Q:
    return Q(delivered_at__gte=period.since, delivered_at__lt=period.until)


def _count(status: str) -> Count:
    return Count("pk", filter=Q(status=status))


def _received_counts(units: QuerySet, period: Period) -> dict[int, dict]:
    rows = (Delivery.objects.filter(_in_period(period), unit_id__in=units).values("unit_id")
            .annotate(received=Count("pk", filter=~Q(status=Status.RECALLED)), signed=_count(Status.SIGNED),
                      pending=_count(Status.PENDING), refused=_count(Status.REFUSED))
            .order_by())
    return {r.pop("unit_id"): r for r in rows}


def _sent_counts(units: QuerySet, period: Period) -> dict[int, dict]:
    rows = (Delivery.objects.filter(_in_period(period), sender_unit_id__in=units).values("sender_unit_id")
            .annotate(sent_documents=Count("document_id", distinct=True), sent=Count("pk"),
                      sent_refused=_count(Status.REFUSED), sent_recalled=_count(Status.RECALLED))
            .order_by())
    return {r.pop("sender_unit_id"): r for r in rows}


def _timings(units: QuerySet, period: Period, now: datetime, by_unit: dict[int, Figures]) -> None:
    """Working time of every signed delivery of the period, and which pending ones are past the limit now.

    One streamed query; the Python work per delivery is two clock look-ups (memoised per day). A pending delivery
    younger than the limit in wall-clock time cannot be overdue (working time never exceeds it): left in SQL."""
    limit = sign_limit_seconds()
    clock = working_hours.WorkingClock(period.start)
    same_day = max(limit, clock.hours.day_seconds)
    rows = (Delivery.objects.filter(_in_period(period), unit_id__in=units)
            .filter(Q(status=Status.SIGNED, signed_at__isnull=False)
                    | Q(status=Status.PENDING, delivered_at__lte=now - timedelta(seconds=limit)))
            .values_list("unit_id", "status", "delivered_at", "signed_at").order_by())
    for unit_id, status, delivered_at, signed_at in rows.iterator(chunk_size=5000):
        figures = by_unit[unit_id]
        if status == Status.SIGNED:
            seconds = clock.seconds_between(delivered_at, signed_at)
            figures.durations.append(seconds)
            if seconds <= limit:
                figures.on_time += 1
                figures.points += POINTS_ON_TIME
            else:
                figures.signed_late += 1
                figures.points += POINTS_SAME_DAY if seconds <= same_day else POINTS_LATE
        elif clock.seconds_between(delivered_at, now) > limit:
            figures.pending_overdue += 1


def unit_statistics(user, period: Period, *, unit_id: int | None = None, now: datetime | None = None) -> Report:
    """The 收发统计 of the units `user` may see (or of `unit_id`) for `period`, with the total. Permission first."""
    units, queryset = units_for(user, unit_id)
    now = now or timezone.now()
    # deliveries are filtered by a subquery, not a list of ids: an oversight scope may hold thousands of units
    scope = queryset.values("pk")
    by_unit = {u.pk: Figures() for u in units}
    for source in (_received_counts(scope, period), _sent_counts(scope, period)):
        for pk, counts in source.items():
            if pk in by_unit:
                for name, value in counts.items():
                    setattr(by_unit[pk], name, value)
    _timings(scope, period, now, by_unit)
    # an inactive unit only when asked for by id or when it had deliveries in the period
    rows = [UnitRow(u, by_unit[u.pk]) for u in units
            if u.active or unit_id is not None or by_unit[u.pk].received or by_unit[u.pk].sent]
    total = Figures()
    for row in rows:
        total.add(row.figures)
    return Report(period=period, rows=rows, total=total, generated_at=now,
                  office_hours=working_hours.office_hours().label(), limit_hours=sign_limit_seconds() / 3600)
