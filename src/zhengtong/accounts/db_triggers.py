"""Database-level guard for 三员分立 (R7.2): the auditor role never shares an account with another role.

A unique or check constraint cannot express "no two rows of this user where exactly one is the
auditor", so a trigger does, on SQLite and on PostgreSQL. It stops what the model's `save` cannot
see: `bulk_create`, queryset updates, raw SQL, a second process racing the first (PostgreSQL: the
trigger locks the user's row, so two concurrent grants for one account are serialised; SQLite
serialises writers anyway).

Installed by migration 0002 and again after every `migrate` (post_migrate), idempotently: SQLite
drops triggers when Django rebuilds a table during a later migration, and this puts them back.
"""
from __future__ import annotations

TRIGGER = "accounts_adminrolegrant_auditor_exclusive"
MESSAGE = "accounts.role_conflict: the auditor role cannot be combined with sysadmin or secadmin"


def _tables(connection):
    from django.apps import apps

    grant = apps.get_model("accounts", "AdminRoleGrant")._meta.db_table
    user = apps.get_model("accounts", "User")._meta.db_table
    q = connection.ops.quote_name
    return q(grant), q(user)


def _conflict_exists(grant: str, *, exclude_self: bool) -> str:
    self_clause = "AND g.id <> NEW.id " if exclude_self else ""
    return (f"EXISTS (SELECT 1 FROM {grant} g WHERE g.user_id = NEW.user_id {self_clause}"
            f"AND ((NEW.role = 'auditor') <> (g.role = 'auditor')))")


def install(connection) -> None:
    grant, user = _tables(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {TRIGGER}_insert BEFORE INSERT ON {grant} "
                f"WHEN {_conflict_exists(grant, exclude_self=False)} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {TRIGGER}_update BEFORE UPDATE OF user_id, role ON {grant} "
                f"WHEN {_conflict_exists(grant, exclude_self=True)} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
        elif connection.vendor == "postgresql":
            cursor.execute(f"""
                CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger AS $$
                BEGIN
                  PERFORM 1 FROM {user} WHERE id = NEW.user_id FOR UPDATE;
                  IF {_conflict_exists(grant, exclude_self=True)} THEN
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
                  END IF;
                  RETURN NEW;
                END;
                $$ LANGUAGE plpgsql;""")
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {grant}")
            cursor.execute(f"CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF user_id, role ON {grant} "
                           f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()")
        # other engines: the model and service checks still apply


def uninstall(connection) -> None:
    grant, _ = _tables(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}_insert")
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}_update")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {grant}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")


def installed(connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                           [f"{TRIGGER}%"])
            return cursor.fetchone()[0] == 2
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s", [TRIGGER])
            return cursor.fetchone()[0] == 1
    return False


def reinstall_after_migrate(sender, using="default", **kwargs) -> None:
    from django.apps import apps
    from django.db import connections

    connection = connections[using]
    if apps.get_model("accounts", "AdminRoleGrant")._meta.db_table in connection.introspection.table_names():
        install(connection)
