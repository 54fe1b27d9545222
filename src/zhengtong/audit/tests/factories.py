"""Factories for the audit models.

An audit record is only ever made by `audit.services.record()` (it computes the seq and the SM3
chain), so the factory calls it: `AuditRecordFactory(action="org.unit_updated", user=u, unit=unit)`.

    records = make_chain(20)                      # 20 records, seq 1..20, a valid chain
    with tampering(): AuditRecord.objects.raw…    # the append-only triggers off inside the block
"""
from __future__ import annotations

import contextlib

import factory
from django.db import connection

from zhengtong.audit import db_triggers, services
from zhengtong.audit.models import AuditChainHead, AuditRecord


class AuditRecordFactory(factory.Factory):
    class Meta:
        model = AuditRecord

    action = factory.Sequence(lambda n: f"test.action{n % 5}")
    category = "business"
    outcome = AuditRecord.Outcome.SUCCESS
    obj = None
    no_object = False  # True: a record about no object at all (a failed login by user name)
    object_type = ""
    object_id = ""
    object_repr = ""
    changes = factory.LazyFunction(dict)
    detail = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.pop("no_object"):
            pass
        elif kwargs["obj"] is None and not kwargs["object_type"]:  # an object of no real model
            n = AuditRecord.objects.count() + 1
            kwargs.update(object_type="test.thing", object_id=kwargs["object_id"] or str(n),
                          object_repr=kwargs["object_repr"] or f"测试对象{n}")
        return services.record(kwargs.pop("action"), **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("audit records are only created through audit.services.record()")


class AuditChainHeadFactory(factory.django.DjangoModelFactory):
    """The single head row (pk=1); `record()` creates it itself, tests rarely need this."""

    class Meta:
        model = AuditChainHead
        django_get_or_create = ("id",)

    id = 1


def make_chain(n: int, **kwargs) -> list[AuditRecord]:
    return [AuditRecordFactory(**kwargs) for _ in range(n)]


@contextlib.contextmanager
def tampering():
    """Drop the append-only triggers for the block (the test's transaction restores them), as an
    attacker with database access would, so tests can show the hash chain still catches it."""
    db_triggers.uninstall(connection)
    try:
        yield
    finally:
        db_triggers.install(connection)


def raw(sql: str, params=None) -> int:
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params or [])
        return cursor.rowcount


def backdate(days: int, *, through_seq: int | None = None) -> None:
    """Move records 1..through_seq (default: all) `days` into the past and re-sign the whole chain.

    For purge tests: records can only be made "now", so the test moves them into the past and
    recomputes every hash, the way an old production chain would look.
    """
    from datetime import timedelta

    prev = services.GENESIS_HASH
    with tampering():
        for rec in AuditRecord.objects.order_by("seq"):
            fields = {name: getattr(rec, name) for name in services.HASHED_FIELDS}
            if through_seq is None or rec.seq <= through_seq:
                fields["time"] = rec.time - timedelta(days=days)
            digest = services.content_hash(fields, prev)
            raw("UPDATE {table} SET time = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [connection.ops.adapt_datetimefield_value(fields["time"]), prev, digest, rec.pk])
            prev = digest
        AuditChainHead.objects.filter(pk=1).update(hash=prev)
