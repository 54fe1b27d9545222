"""Audit records are append-only in the application and in the database (R7.1, R7.3).

Raw SQL UPDATE and DELETE are refused by triggers on SQLite and PostgreSQL (and TRUNCATE on
PostgreSQL); DELETE passes only inside `purge_allowed()`, the path purge_audit uses.
"""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from zhengtong.audit import db_triggers
from zhengtong.audit.models import AuditRecord
from zhengtong.audit.verify import verify_chain

from .factories import make_chain, raw

pytestmark = pytest.mark.django_db


def refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic():
        raw(sql)
    return str(info.value)


def test_triggers_are_installed_by_migrate():
    assert db_triggers.installed(connection)


def test_r7_3_raw_update_is_refused_by_the_database():
    make_chain(3)
    assert "audit.append_only" in refused("UPDATE {table} SET action = 'x' WHERE seq = 2")
    assert "audit.append_only" in refused("UPDATE {table} SET hash = hash")
    assert AuditRecord.objects.filter(action="x").count() == 0
    assert verify_chain().ok


def test_r7_3_raw_delete_is_refused_by_the_database():
    make_chain(3)
    assert "audit.append_only" in refused("DELETE FROM {table} WHERE seq = 2")
    assert "audit.append_only" in refused("DELETE FROM {table}")
    assert AuditRecord.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_r7_3_truncate_is_refused_on_postgresql():
    make_chain(2)
    assert "audit.append_only" in refused("TRUNCATE {table}")
    assert AuditRecord.objects.count() == 2


def test_the_orm_refuses_too():
    rec = make_chain(1)[0]
    rec.action = "changed"
    with pytest.raises(PermissionError):
        rec.save()
    with pytest.raises(PermissionError):
        rec.delete()
    with pytest.raises(PermissionError):
        AuditRecord.objects.filter(pk=rec.pk).update(action="changed")
    with pytest.raises(PermissionError):
        AuditRecord.objects.all().delete()


def test_the_purge_path_allows_delete_only_inside_its_block():
    make_chain(4)
    with db_triggers.purge_allowed():
        assert raw("DELETE FROM {table} WHERE seq = 1") == 1
        # even on the purge path a record is never updated
        assert "audit.append_only" in refused("UPDATE {table} SET action = 'x' WHERE seq = 2")
    assert "audit.append_only" in refused("DELETE FROM {table} WHERE seq = 2")
    assert AuditRecord.objects.count() == 3


def test_the_purge_path_closes_when_its_block_fails():
    make_chain(2)
    with pytest.raises(RuntimeError), db_triggers.purge_allowed():
        raw("DELETE FROM {table} WHERE seq = 1")
        raise RuntimeError("boom")
    assert AuditRecord.objects.count() == 2  # rolled back
    assert "audit.append_only" in refused("DELETE FROM {table} WHERE seq = 1")


def test_triggers_reinstall_idempotently():
    db_triggers.install(connection)
    db_triggers.install(connection)
    assert db_triggers.installed(connection)
    db_triggers.uninstall(connection)
    assert not db_triggers.installed(connection)
    db_triggers.reinstall_after_migrate(sender=None, using="default")
    assert db_triggers.installed(connection)


def test_flush_is_refused_under_production_settings(settings):
    make_chain(2)
    settings.SETTINGS_MODULE = "zhengtong.settings.production"
    with pytest.raises(CommandError, match="拒绝在生产配置下执行 flush"):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditRecord.objects.count() == 2
