"""Append-only audit records, enforced by the database too (R7.1, R7.3).

The model refuses `save()` on an existing record, `delete()`, and queryset `update()`/`delete()`;
these triggers also stop raw SQL, `bulk_update`, a second program on the same database and a
careless `manage.py dbshell`:

- UPDATE of an audit record is always refused.
- DELETE (and, on PostgreSQL, TRUNCATE) is refused unless the deleting transaction opened the purge
  path with `purge_allowed()`: PostgreSQL reads the transaction-local setting
  `zhengtong.audit_purge` (`SET LOCAL`, gone at commit or rollback); SQLite, whose triggers cannot
  read connection state, looks for a row in the one-column table `audit_purge_guard`, inserted and
  removed again inside the same transaction (no other connection ever sees it: SQLite has one writer
  and readers see committed data only).

Only `purge_audit` (records older than the retention period) and the development/test `flush`
command use the purge path. Anyone who can drop a trigger can still tamper with the table; the
SM3 hash chain is what detects that (`manage.py verify_audit`).

Installed by migration 0002 and again after every `migrate` (post_migrate), idempotently: SQLite
drops triggers when Django rebuilds a table during a later migration, and this puts them back.
"""
from __future__ import annotations

import contextlib

from django.db import connections, transaction

PREFIX = "audit_auditrecord_append_only"
GUARD_TABLE = "audit_purge_guard"
PURGE_SETTING = "zhengtong.audit_purge"
MESSAGE = "audit.append_only: audit records cannot be updated or deleted (purge_audit only)"


def _table(connection) -> str:
    from django.apps import apps

    return connection.ops.quote_name(apps.get_model("audit", "AuditRecord")._meta.db_table)


def install(connection) -> None:
    table = _table(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {GUARD_TABLE} (opened INTEGER NOT NULL)")
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {PREFIX}_update BEFORE UPDATE ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {PREFIX}_delete BEFORE DELETE ON {table} "
                           f"WHEN NOT EXISTS (SELECT 1 FROM {GUARD_TABLE}) "
                           f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
        elif connection.vendor == "postgresql":
            cursor.execute(f"""
                CREATE OR REPLACE FUNCTION {PREFIX}() RETURNS trigger AS $$
                BEGIN
                  IF TG_OP IN ('DELETE', 'TRUNCATE')
                     AND coalesce(current_setting('{PURGE_SETTING}', true), '') = 'on' THEN
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NULL;
                  END IF;
                  RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
                END;
                $$ LANGUAGE plpgsql;""")
            cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX} ON {table}")
            cursor.execute(f"CREATE TRIGGER {PREFIX} BEFORE UPDATE OR DELETE ON {table} "
                           f"FOR EACH ROW EXECUTE FUNCTION {PREFIX}()")
            cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}_truncate ON {table}")
            cursor.execute(f"CREATE TRIGGER {PREFIX}_truncate BEFORE TRUNCATE ON {table} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}()")
        # other engines: the model's refusals still apply


def uninstall(connection) -> None:
    table = _table(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}_update")
            cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}_delete")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX} ON {table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {PREFIX}_truncate ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}()")


def installed(connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                           [f"{PREFIX}%"])
            return cursor.fetchone()[0] == 2
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE %s", [f"{PREFIX}%"])
            return cursor.fetchone()[0] == 2
    return False


@contextlib.contextmanager
def purge_allowed(using: str = "default"):
    """Open the purge path for the statements inside; everything runs in one transaction.

    On an exception the transaction (or savepoint) rolls back and takes the opening with it.
    """
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {PURGE_SETTING} = 'on'")
            elif connection.vendor == "sqlite":
                cursor.execute(f"INSERT INTO {GUARD_TABLE} (opened) VALUES (1)")
        yield
        with connection.cursor() as cursor:
            # close it again at once: an outer transaction may go on after this block
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {PURGE_SETTING} = 'off'")
            elif connection.vendor == "sqlite":
                cursor.execute(f"DELETE FROM {GUARD_TABLE}")


def reinstall_after_migrate(sender, using="default", **kwargs) -> None:
    from django.apps import apps

    connection = connections[using]
    if apps.get_model("audit", "AuditRecord")._meta.db_table in connection.introspection.table_names():
        install(connection)
