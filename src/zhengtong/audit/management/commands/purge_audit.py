"""`manage.py purge_audit --before YYYY-MM-DD [--dry-run]`: remove audit records past the retention period.

Refuses any date later than today − AUDIT_RETENTION_DAYS (never less than 180 days, R7.1), and a
broken chain. The purge appends its own `audit.purged` record, which anchors the remaining chain so
`verify_audit` still passes afterwards (see docs/audit.md).
"""
from __future__ import annotations

import os
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from zhengtong.audit import services
from zhengtong.core.context import acting_as
from zhengtong.core.errors import ServiceError


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text}") from exc


class Command(BaseCommand):
    help = "清理保存期限已过的审计记录：只删除 --before 日期之前的记录，且该日期须早于保存期限（至少 180 天）"

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="清理此日期（本地时间 0 时）之前的记录，YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="只统计将清理多少条，不删除")

    def handle(self, *args, before: str, dry_run: bool = False, **options):
        day = _date(before)
        with acting_as(channel="command", username=f"manage.py purge_audit ({os.environ.get('USER', '')})"):
            try:
                result = services.purge_before(day, dry_run=dry_run)
            except ServiceError as exc:
                raise CommandError(exc.message) from exc
        self.stdout.write(result.summary() if dry_run or not result.count else self.style.SUCCESS(result.summary()))
        if not dry_run:
            self.stdout.write(f"清理已记入审计记录第 {result.record.seq} 条（{services.PURGE_ACTION}）；审计链仍可校验")
