"""`manage.py verify_audit`: walk the SM3 hash chain of the audit records (R7.3).

Exit status 0 and "审计链完整：N 条记录" on an intact chain; exit status 1 and the first broken
record (seq, id, why) when any record was changed, deleted or inserted out of order. Reads in seq
batches, so memory stays bounded however long the chain. `--record` also appends the outcome to the
audit trail (as the nightly task does).
"""
from __future__ import annotations

import json as jsonlib
import os

from django.core.management.base import BaseCommand, CommandError

from zhengtong.audit import services
from zhengtong.audit.verify import BATCH, verify_chain
from zhengtong.core.context import acting_as


class Command(BaseCommand):
    help = "校验审计记录的 SM3 哈希链：完整时退出码 0；否则退出码 1，并指出第一条断裂的记录"

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=BATCH, help=f"每批读取的记录数（默认 {BATCH}）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")
        parser.add_argument("--record", action="store_true",
                            help="把校验结果写入审计记录（audit.chain_verified / audit.chain_broken）")

    def handle(self, *args, batch: int = BATCH, json: bool = False, record: bool = False, **options):
        if batch < 1:
            raise CommandError("--batch 必须大于 0")
        verbosity = options.get("verbosity", 1)

        def progress(checked: int, last_seq: int) -> None:
            if verbosity >= 2:
                self.stderr.write(f"已校验 {checked} 条（至第 {last_seq} 条）")

        report = verify_chain(batch=batch, progress=progress)
        if record:
            with acting_as(channel="command", username=f"manage.py verify_audit ({os.environ.get('USER', '')})"):
                services.record_verification(report)
        if json:
            self.stdout.write(_json(report.as_dict()))
        elif report.ok:
            self.stdout.write(self.style.SUCCESS(report.summary()))
            if verbosity >= 2:
                self.stdout.write(f"链头：第 {report.head_seq} 条，{report.head_hash}；用时 {report.seconds:.2f} 秒")
        if not report.ok:
            raise CommandError(report.summary(), returncode=1)


def _json(data: dict) -> str:
    return jsonlib.dumps(data, ensure_ascii=False, indent=2, default=str)
