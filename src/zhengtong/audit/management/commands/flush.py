"""`manage.py flush` that can also empty the append-only audit table, outside production only.

Django's flush (used by the test runner between transactional tests) deletes every table's rows;
the audit table's triggers (audit.db_triggers) refuse that unless the purge path is open. This
command opens it around the flush itself under development and test settings, and refuses to flush
under production settings, where the audit trail must survive (R7.1: retention ≥ 180 days).
"""
from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections

from zhengtong.audit.db_triggers import purge_allowed


def _production() -> bool:
    module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    return module.endswith("production")


class Command(flush.Command):
    help = flush.Command.help + "（生产配置下拒绝执行：审计记录不可清空）"

    def handle(self, **options):
        if _production():
            raise CommandError("拒绝在生产配置下执行 flush：会清空审计记录。过期审计记录请用 purge_audit 清理。")
        database = options["database"]
        ops = connections[database].ops
        plain = ops.execute_sql_flush

        def execute_sql_flush(sql_list):
            with purge_allowed(database):
                plain(sql_list)

        ops.execute_sql_flush = execute_sql_flush
        try:
            return super().handle(**options)
        finally:
            del ops.execute_sql_flush
