"""`manage.py purge_audit`: records younger than the retention period are never purged (R7.1, R7.3),
and the chain verifies after a legitimate purge."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from zhengtong.audit import services
from zhengtong.audit.models import AuditRecord
from zhengtong.audit.verify import verify_chain
from zhengtong.core.errors import ServiceError

from .factories import backdate, make_chain, raw, tampering

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_audit", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_and_young():
    """Records 1–10 made 400 days ago, 11–15 today."""
    make_chain(15)
    backdate(400, through_seq=10)
    return AuditRecord.objects.order_by("seq")


def test_r7_3_retention_is_at_least_180_days_even_if_configured_lower(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    assert services.retention_days() == 180
    assert services.latest_purge_date(today()) == today() - timedelta(days=180)
    settings.AUDIT_RETENTION_DAYS = 365
    assert services.retention_days() == 365


@pytest.mark.parametrize("days_ago", [0, 1, 100, 179])
def test_r7_3_purging_records_younger_than_180_days_is_refused(old_and_young, days_ago):
    before = (today() - timedelta(days=days_ago)).isoformat()
    with pytest.raises(CommandError, match="审计记录至少保存 180 天"):
        purge("--before", before)
    with pytest.raises(CommandError, match="审计记录至少保存 180 天"):
        purge("--before", before, "--dry-run")
    assert AuditRecord.objects.count() == 15
    assert not AuditRecord.objects.filter(action=services.PURGE_ACTION).exists()


def test_r7_3_a_longer_configured_retention_is_honoured(old_and_young, settings):
    settings.AUDIT_RETENTION_DAYS = 500
    with pytest.raises(ServiceError) as info:
        services.purge_before(today() - timedelta(days=450))
    assert info.value.code == "audit.retention_refused"
    assert AuditRecord.objects.count() == 15


def test_dry_run_counts_and_changes_nothing(old_and_young):
    out = purge("--before", (today() - timedelta(days=180)).isoformat(), "--dry-run")
    assert "将清理 10 条审计记录（第 1–10 条" in out
    assert AuditRecord.objects.count() == 15


def test_r7_3_purge_at_exactly_180_days_removes_old_records_and_the_chain_still_verifies(old_and_young):
    out = purge("--before", (today() - timedelta(days=180)).isoformat())
    assert "已清理 10 条审计记录（第 1–10 条" in out
    assert list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True)) == list(range(11, 17))
    purge_record = AuditRecord.objects.get(action=services.PURGE_ACTION)
    assert purge_record.seq == 16 and purge_record.category == "security" and purge_record.channel == "command"
    assert purge_record.detail["deleted"] == 10 and purge_record.detail["last_seq"] == 10
    report = verify_chain()
    assert report.ok, report.summary()
    assert report.purged_through == 10 and report.checked == 6
    assert "第 1–10 条已按保存期限清理" in report.summary()
    code_out = StringIO()
    call_command("verify_audit", stdout=code_out)
    assert "审计链完整：6 条记录" in code_out.getvalue()


def test_two_purges_in_a_row_keep_the_chain_verifiable():
    make_chain(15)
    backdate(300)
    backdate(100, through_seq=10)  # 1–10: 400 days old, 11–15: 300 days old
    make_chain(3)  # 16–18 today
    services.purge_before(today() - timedelta(days=350))
    assert verify_chain().ok
    result = services.purge_before(today() - timedelta(days=200))
    assert (result.count, result.first_seq, result.last_seq) == (5, 11, 15)
    report = verify_chain()
    assert report.ok, report.summary()
    assert report.purged_through == 15


def test_nothing_to_purge_still_records_the_attempt(old_and_young):
    out = purge("--before", (today() - timedelta(days=500)).isoformat())
    assert "之前没有审计记录" in out
    assert AuditRecord.objects.filter(action=services.PURGE_ACTION, detail__deleted=0).count() == 1
    assert verify_chain().ok


def test_purge_refuses_a_broken_chain(old_and_young):
    with tampering():
        raw("UPDATE {table} SET actor_username = 'x' WHERE seq = 3")
    with pytest.raises(CommandError, match="拒绝清理：审计链断裂：第 3 条记录"):
        purge("--before", (today() - timedelta(days=180)).isoformat())
    assert AuditRecord.objects.count() == 15


def test_r7_3_deleting_the_start_and_forging_an_anchor_is_caught(old_and_young):
    """A purge record's anchor is inside the chain: editing it breaks the chain."""
    purge("--before", (today() - timedelta(days=180)).isoformat())
    with tampering():
        raw("DELETE FROM {table} WHERE seq = 11")
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (12, "start_unanchored")


def test_bad_date_is_a_clear_error():
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        purge("--before", "2026/01/01")


def test_r7_3_editing_the_purge_records_anchor_is_caught(old_and_young):
    purge("--before", (today() - timedelta(days=180)).isoformat())
    rec = AuditRecord.objects.get(action=services.PURGE_ACTION)
    forged = {**rec.detail, "last_hash": "a" * 64}
    from zhengtong.core.crypto import canonical_json

    with tampering():
        raw("UPDATE {table} SET detail = %s WHERE seq = %s", [canonical_json(forged).decode(), rec.seq])
    report = verify_chain()
    assert not report.ok
    assert (report.broken.seq, report.broken.reason) == (11, "prev_hash_mismatch")
