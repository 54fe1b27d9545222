"""Reading the audit trail: only the 安全审计员 (三员分立, R7.2), under a filter, newest first.

Pages are cut by seq (keyset: "the 50 records before seq N"), never by OFFSET, so page 2,000 of a
million records costs what page 1 costs; the model's indexes end in seq for the same reason.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import require_admin_role
from zhengtong.core.errors import NotFound

from . import labels
from .models import AuditRecord

PAGE_SIZE = 50
COUNT_CAP = 10_000
OUTCOME_LABELS = dict(AuditRecord.Outcome.choices)


@dataclass(frozen=True)
class RecordFilter:
    """What the auditor filters on. Empty strings and None mean "any"."""

    actor: str = ""  # account (username), else the person's name, exactly
    unit: str = ""  # part of a unit's name, or its id
    action: str = ""  # an action code or its start ("auth." = every login event)
    category: str = ""  # security | business
    outcome: str = ""  # success | failure | denied
    since: date | None = None  # local dates, both inclusive
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}

    def querystring(self) -> str:
        return urlencode(self.as_query())

    def describe(self) -> list[tuple[str, str]]:
        """Chinese (label, value) pairs of the filter, for the export's cover sheet."""
        names = {"actor": "操作人", "unit": "单位", "action": "操作", "category": "类别", "outcome": "结果",
                 "since": "起始日期", "until": "截止日期"}
        shown = {"category": labels.CATEGORY_LABELS, "outcome": OUTCOME_LABELS}
        return [(names[k], shown.get(k, {}).get(v, v)) for k, v in self.as_query().items()]


def require_auditor(user) -> None:
    require_admin_role(user, AdminRole.AUDITOR)


def unit_ids_matching(text: str) -> list[int]:
    from zhengtong.org.models import Unit

    if text.isdigit():
        return [int(text)]
    return list(Unit.objects.filter(Q(name__contains=text) | Q(short_name__contains=text))
                .values_list("id", flat=True)[:500])


PREFIX_PROBE = 2000


def action_prefix(prefix: str, *, ordered: bool = False) -> dict:
    """Lookups for "action starts with `prefix`" that a database can answer fast.

    PostgreSQL: LIKE 'prefix%', served by the pattern-ops index Django adds on `action`. SQLite's
    LIKE ignores case, so it never uses an index; the same set is the range
    prefix ≤ action < prefix-with-its-last-character-bumped (SQLite compares strings byte by byte),
    which the (action, seq) index serves — ideal for counting and for rare actions. For a page
    ordered by seq, a common prefix is better read by walking seq and skipping the rest (SQLite would
    otherwise sort every matching row): a probe of at most PREFIX_PROBE index entries decides.
    """
    if connection.vendor != "sqlite":
        return {"action__startswith": prefix}
    bounds = {"action__gte": prefix, "action__lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)}
    probe = AuditRecord.objects.filter(**bounds).order_by().values("pk")[:PREFIX_PROBE]  # no sort: only a count
    if ordered and probe.count() == PREFIX_PROBE:
        return {"action__startswith": prefix}
    return bounds


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(user, flt: RecordFilter, *, ordered: bool = False) -> QuerySet[AuditRecord]:
    """The records `flt` selects, for the 安全审计员 only (others: Forbidden, audited).

    `ordered`: the caller will read them in seq order (a page, the export), not count them.
    """
    require_auditor(user)
    qs = AuditRecord.objects.all()
    if flt.actor:
        # one column, not "username OR name": each has an index ending in seq, an OR would scan by seq
        if AuditRecord.objects.filter(actor_username=flt.actor).exists():
            qs = qs.filter(actor_username=flt.actor)
        else:
            qs = qs.filter(actor_name=flt.actor)
    if flt.unit:
        qs = qs.filter(unit_id__in=unit_ids_matching(flt.unit))
    if flt.action:
        qs = qs.filter(**action_prefix(flt.action, ordered=ordered))
    if flt.category:
        qs = qs.filter(category=flt.category)
    if flt.outcome:
        qs = qs.filter(outcome=flt.outcome)
    if flt.since:
        qs = qs.filter(time__gte=_local_midnight(flt.since))
    if flt.until:
        qs = qs.filter(time__lt=_local_midnight(flt.until + timedelta(days=1)))
    return qs


@dataclass
class RecordPage:
    rows: list[AuditRecord]
    newer: int | None  # `after` cursor for the page of newer records, None on the first page
    older: int | None  # `before` cursor for the page of older records, None on the last page
    is_first: bool


def page(user, flt: RecordFilter, *, before: int | None = None, after: int | None = None,
         size: int = PAGE_SIZE) -> RecordPage:
    """One page, newest first: the records before seq `before`, or after seq `after`, or the newest."""
    qs = filtered(user, flt, ordered=True)
    if after is not None:
        rows = list(qs.filter(seq__gt=after).order_by("seq")[:size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        has_older = bool(rows) and qs.filter(seq__lt=rows[-1].seq).exists()
    else:
        window = qs.filter(seq__lt=before) if before is not None else qs
        rows = list(window.order_by("-seq")[:size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = before is not None and bool(rows) and qs.filter(seq__gt=rows[0].seq).exists()
    return RecordPage(rows=rows, newer=rows[0].seq if has_newer and rows else None,
                      older=rows[-1].seq if has_older and rows else None, is_first=not has_newer)


def capped_count(qs: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many records match, counting at most `cap` + 1: (count, more_than_cap)."""
    n = qs.order_by().values("pk")[:cap + 1].count()
    return min(n, cap), n > cap


def record_detail(user, seq: int) -> dict:
    """One record with its neighbours and a check of its own hash and its link to the previous one."""
    from .services import GENESIS_HASH, record_hash
    from .verify import purge_anchor

    require_auditor(user)
    rec = AuditRecord.objects.filter(seq=seq).first()
    if rec is None:
        raise NotFound("audit.record_not_found", f"第 {seq} 条审计记录不存在（可能已按保存期限清理）")
    prev = AuditRecord.objects.filter(seq=seq - 1).values("seq", "hash").first()
    if prev is not None:
        linked, link_note = prev["hash"] == rec.prev_hash, f"第 {seq - 1} 条记录的哈希"
    elif seq == 1:
        linked, link_note = rec.prev_hash == GENESIS_HASH, "链首（创世哈希）"
    else:
        anchor = purge_anchor(seq)
        linked = anchor is not None and anchor["last_hash"] == rec.prev_hash
        link_note = f"清理记录第 {anchor['seq']} 条所载的哈希" if anchor else "前一条记录（已缺失）"
    newer = AuditRecord.objects.filter(seq__gt=seq).order_by("seq").values_list("seq", flat=True).first()
    older = prev["seq"] if prev else None
    return {
        "record": rec,
        "content_ok": record_hash(rec) == rec.hash,
        "linked": linked,
        "link_note": link_note,
        "newer_seq": newer,
        "older_seq": older,
        "changes": readable_changes(rec),
        "detail_items": readable_detail(rec.detail),
    }


def show_value(value) -> str:
    if value is None or value == "":
        return "（空）"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list | dict):
        from zhengtong.core.crypto import canonical_json

        return canonical_json(value).decode()
    return str(value)


def readable_changes(rec: AuditRecord) -> list[dict]:
    """[{field, label, old, new}] from `changes` = {field: [old, new]}."""
    out = []
    for name, pair in (rec.changes or {}).items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        out.append({"field": name, "label": labels.field_label(rec.object_type, name),
                    "old": show_value(old), "new": show_value(new)})
    return out


def readable_detail(detail: dict | None) -> list[tuple[str, str]]:
    return [(labels.DETAIL_LABELS.get(key, key), show_value(value)) for key, value in (detail or {}).items()]


def changes_text(rec: AuditRecord) -> str:
    """The diff as text lines, `字段: 旧 → 新` (the export's 变更 column)."""
    return "\n".join(f"{c['label']}: {c['old']} → {c['new']}" for c in readable_changes(rec))


def latest_verification() -> dict:
    """The last chain verification in the trail and whether one was requested after it."""
    from .services import BROKEN_ACTION, VERIFIED_ACTION, VERIFY_REQUESTED_ACTION

    result = (AuditRecord.objects.filter(action__in=[VERIFIED_ACTION, BROKEN_ACTION]).order_by("-seq").first())
    # a request counts as running for 30 minutes at most (a worker that died must not spin the page forever)
    requested = AuditRecord.objects.filter(action=VERIFY_REQUESTED_ACTION,
                                           time__gte=timezone.now() - timedelta(minutes=30))
    if result is not None:
        requested = requested.filter(seq__gt=result.seq)
    return {"result": result, "pending": requested.exists()}
