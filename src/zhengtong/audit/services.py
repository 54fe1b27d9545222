"""The audit facade: every service and security event calls `record()`.

Each record carries SM3(prev_hash + canonical content); appending locks the chain head so the chain
has exactly one order. Records are written in the caller's transaction: a change that rolls back
leaves no record, and a record exists for every change that committed.
"""
from __future__ import annotations

import json
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from zhengtong.core import context
from zhengtong.core.crypto import canonical_json, sm3_hex

from .models import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64
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
    actor_username = (user.get_username() if user is not None else "") or username or ctx.username
    actor_name = ""
    if user is not None:
        person = getattr(user, "person", None) if user.pk else None
        actor_name = person.name if person else ""
    if identity is not None and unit is None:
        unit = identity.unit
    with transaction.atomic():
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
