"""The audit facade: every service and security event calls `record()`.

Each record carries SM3(prev_hash + canonical content); appending locks the chain head so the chain
has exactly one order. Records are written in the caller's transaction: a change that rolls back
leaves no record, and a record exists for every change that committed.

Also here: the audit trail's own actions — purging records past the retention period
(`purge_before`, R7.1: never younger than 180 days), recording a chain verification
(`record_verification`) and the auditor's request for one (`request_verification`). Reading and
exporting are in selectors.py and export.py; the chain walk is verify.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, models, transaction
from django.utils import timezone

from zhengtong.core import context
from zhengtong.core.crypto import canonical_json, sm3_hex
from zhengtong.core.errors import ServiceError

from .models import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64
MIN_RETENTION_DAYS = 180  # 等保 2.0 level 3: audit records kept at least six months (R7.1)
PURGE_ACTION = "audit.purged"
VERIFIED_ACTION = "audit.chain_verified"
BROKEN_ACTION = "audit.chain_broken"
VERIFY_REQUESTED_ACTION = "audit.verify_requested"
EXPORTED_ACTION = "audit.exported"
CHAIN_OBJECT = {"object_type": "audit.chain", "object_repr": "审计链"}
HASHED_FIELDS = (
    "seq", "time", "actor_id", "actor_username", "actor_name", "identity_id", "unit_id", "unit_name", "ip",
    "channel", "action", "category", "object_type", "object_id", "object_repr", "outcome", "changes", "detail",
)


def content_hash(fields: dict[str, Any], prev_hash: str) -> str:
    content = {name: fields.get(name) for name in HASHED_FIELDS}
    if hasattr(content["time"], "isoformat"):
        content["time"] = content["time"].isoformat()
    return sm3_hex(prev_hash.encode() + canonical_json(content))


def record_hash(rec: AuditRecord) -> str:
    return content_hash({name: getattr(rec, name) for name in HASHED_FIELDS}, rec.prev_hash)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list]:
    """{field: [old, new]} for the fields that changed."""
    before, after = before or {}, after or {}
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)}


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Plain values of a model's concrete fields, for `diff`."""
    out = {}
    for field in instance._meta.concrete_fields:
        if fields and field.name not in fields:
            continue
        if field.name in {"password", "pinyin", "initials"}:
            continue
        value = field.value_from_object(instance)
        out[field.attname if field.is_relation else field.name] = value if isinstance(
            value, str | int | float | bool | type(None)) else str(value)
    return out


def _main_unit(user_id: int):
    from zhengtong.org.models import Unit

    return Unit.objects.filter(identities__person__user_id=user_id, identities__is_main=True,
                               identities__active=True).only("id", "name").first()


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    outcome: str = AuditRecord.Outcome.SUCCESS,
    category: str = "business",
    changes: dict | None = None,
    detail: dict | None = None,
    user=None,
    username: str = "",
    identity=None,
    unit=None,
) -> AuditRecord:
    """Append one audit record. `user` defaults to the acting user of the current request/command."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
    actor_id = user.pk if user is not None else ctx.user_id
    if user is None and actor_id is not None:
        user = get_user_model().objects.select_related("person").filter(pk=actor_id).first()
    actor_username = (user.get_username() if user is not None else "") or username or ctx.username
    actor_name = ""
    if unit is None and identity is None and actor_id is not None:
        unit = _main_unit(actor_id)  # so the auditor's unit filter finds logins and other personal events
    if user is not None:
        person = getattr(user, "person", None) if user.pk else None
        # the three administrators have accounts without a person; their name is on the account
        actor_name = (person.name if person else f"{user.last_name}{user.first_name}".strip())[:50]
    if identity is not None and unit is None:
        unit = identity.unit
    # no savepoint: a record is written inside its change's transaction, and a failure must undo the change too
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        fields = {
            "seq": head.seq + 1,
            "time": timezone.now(),
            "actor_id": actor_id,
            "actor_username": actor_username[:150],
            "actor_name": actor_name,
            "identity_id": identity.pk if identity is not None else None,
            "unit_id": unit.pk if unit is not None else None,
            "unit_name": unit.name if unit is not None else "",
            "ip": ctx.ip,
            "channel": ctx.channel,
            "action": action,
            "category": category,
            "object_type": object_type,
            "object_id": str(object_id)[:64] if object_id not in (None, "") else "",
            "object_repr": object_repr[:200],
            "outcome": outcome,
            "changes": changes or {},
            "detail": detail or {},
        }
        # normalise through JSON so what is hashed equals what the database returns
        fields["changes"] = json.loads(canonical_json(fields["changes"]))
        fields["detail"] = json.loads(canonical_json(fields["detail"]))
        digest = content_hash(fields, head.hash)
        rec = AuditRecord.objects.create(prev_hash=head.hash, hash=digest, **fields)
        AuditChainHead.objects.filter(pk=1).update(seq=rec.seq, hash=digest)
    return rec


def security_event(action: str, **kwargs) -> AuditRecord:
    return record(action, category="security", **kwargs)


# --- retention and purge (R7.1) ------------------------------------------------------------------

def retention_days() -> int:
    """Days an audit record is kept at least: AUDIT_RETENTION_DAYS, never below 180."""
    return max(MIN_RETENTION_DAYS, int(getattr(settings, "AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)))


def latest_purge_date(today: date | None = None) -> date:
    """The latest `--before` date allowed today: every record before it is older than the retention period."""
    return (today or timezone.localdate()) - timedelta(days=retention_days())


@dataclass(frozen=True)
class PurgeResult:
    before: date
    cutoff: datetime
    count: int
    first_seq: int | None = None
    last_seq: int | None = None
    oldest: datetime | None = None
    newest: datetime | None = None
    dry_run: bool = False
    record: AuditRecord | None = None

    def summary(self) -> str:
        if not self.count:
            return f"{self.before.isoformat()} 之前没有审计记录，无需清理"
        verb = "将清理" if self.dry_run else "已清理"
        span = f"{timezone.localtime(self.oldest):%Y-%m-%d %H:%M} 至 {timezone.localtime(self.newest):%Y-%m-%d %H:%M}"
        return f"{verb} {self.count} 条审计记录（第 {self.first_seq}–{self.last_seq} 条，{span}）"


def purge_before(before: date, *, dry_run: bool = False, today: date | None = None) -> PurgeResult:
    """Delete the audit records made before `before` (local date), keeping the chain verifiable.

    Refused when `before` is later than today − retention period (R7.1: records younger than 180 days
    are never purged) and when the chain is broken (a purge must not destroy evidence of tampering).
    Records are removed from the start of the chain only: up to, not including, the first record
    made on or after `before`. The purge appends `audit.purged` naming the last removed record's seq
    and hash; verify_chain starts from there (see verify.py). Runs on the database purge path
    (db_triggers.purge_allowed), in one transaction with its own record.
    """
    from .db_triggers import purge_allowed
    from .verify import verify_chain

    limit = latest_purge_date(today)
    if before > limit:
        raise ServiceError(
            "audit.retention_refused",
            f"拒绝清理：审计记录至少保存 {retention_days()} 天，--before 最晚只能是 {limit.isoformat()}")
    cutoff = timezone.make_aware(datetime.combine(before, time.min))
    if dry_run:
        return _purge_plan(before, cutoff, dry_run=True)[0]
    report = verify_chain()
    if not report.ok:
        raise ServiceError("audit.chain_broken", f"拒绝清理：{report.summary()}。请先查明原因，清理会销毁证据。")
    with purge_allowed():
        AuditChainHead.objects.select_for_update().get_or_create(pk=1)  # no appends while we cut
        plan, last_hash = _purge_plan(before, cutoff)
        deleted = 0
        if plan.count:
            table = connections["default"].ops.quote_name(AuditRecord._meta.db_table)
            with connections["default"].cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE seq <= %s", [plan.last_seq])
                deleted = cursor.rowcount
        rec = security_event(PURGE_ACTION, **CHAIN_OBJECT, detail={
            "before": before.isoformat(),
            "retention_days": retention_days(),
            "deleted": deleted,
            "first_seq": plan.first_seq,
            "last_seq": plan.last_seq,
            "last_hash": last_hash,
        })
    return replace(plan, count=deleted, record=rec)


def _purge_plan(before: date, cutoff: datetime, *, dry_run: bool = False) -> tuple[PurgeResult, str]:
    """The records to purge: the start of the chain up to the first record made at or after `cutoff`."""
    records = AuditRecord.objects.order_by("seq")
    first_young = records.filter(time__gte=cutoff).values_list("seq", flat=True).first()
    doomed = records.filter(seq__lt=first_young) if first_young is not None else records
    first = doomed.values("seq", "time").first()
    if first is None:
        return PurgeResult(before=before, cutoff=cutoff, count=0, dry_run=dry_run), ""
    last = doomed.order_by("-seq").values("seq", "time", "hash").first()
    plan = PurgeResult(before=before, cutoff=cutoff, count=last["seq"] - first["seq"] + 1, first_seq=first["seq"],
                       last_seq=last["seq"], oldest=first["time"], newest=last["time"], dry_run=dry_run)
    return plan, last["hash"]


# --- chain verification (R7.3) -------------------------------------------------------------------

def record_verification(report, *, requested_by: int | None = None) -> AuditRecord:
    """Append the outcome of a chain walk: `audit.chain_verified` or `audit.chain_broken`."""
    detail = {
        "summary": report.summary(),
        "checked": report.checked,
        "first_seq": report.first_seq,
        "last_seq": report.last_seq,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "purged_through": report.purged_through,
        "seconds": round(report.seconds, 3),
        "requested_by": requested_by,
    }
    if report.broken is not None:
        detail["broken"] = {"seq": report.broken.seq, "record_id": report.broken.record_id,
                            "reason": report.broken.reason, "message": report.broken.message}
    return security_event(VERIFIED_ACTION if report.ok else BROKEN_ACTION, **CHAIN_OBJECT,
                          outcome=AuditRecord.Outcome.SUCCESS if report.ok else AuditRecord.Outcome.FAILURE,
                          detail=detail)


def request_verification(actor) -> AuditRecord:
    """The 安全审计员 asks for a chain walk now; it runs as a background task (a million records
    take longer than a web request should)."""
    from zhengtong.accounts.models import AdminRole
    from zhengtong.accounts.permissions import require_admin_role

    require_admin_role(actor, AdminRole.AUDITOR)
    from .tasks import verify_audit_chain

    with transaction.atomic():
        rec = security_event(VERIFY_REQUESTED_ACTION, user=actor, **CHAIN_OBJECT)
        transaction.on_commit(lambda: verify_audit_chain(requested_by=actor.pk))
    return rec
