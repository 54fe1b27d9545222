"""The daily chain verification (Huey periodic task) and the auditor's "verify now" (R7.3)."""
from __future__ import annotations

from datetime import datetime

import pytest

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory
from zhengtong.audit import services, tasks
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Forbidden

from .factories import make_chain, raw, tampering

pytestmark = pytest.mark.django_db


def test_r7_3_daily_task_records_an_intact_chain(caplog):
    make_chain(5)
    with caplog.at_level("INFO", logger="zhengtong.audit.tasks"):
        assert tasks.verify_audit_chain_daily.call_local() is True
    head = AuditRecord.objects.get(seq=5)
    assert f"head seq 5 hash {head.hash}" in caplog.text  # the anchor kept outside the database
    rec = AuditRecord.objects.get(action=services.VERIFIED_ACTION)
    assert rec.category == "security" and rec.outcome == "success" and rec.channel == "task"
    assert rec.detail["checked"] == 5 and rec.detail["summary"] == "审计链完整：5 条记录（第 1–5 条）"
    assert rec.detail["requested_by"] is None


def test_r7_3_daily_task_records_a_broken_chain(caplog):
    make_chain(5)
    with tampering():
        raw("UPDATE {table} SET ip = '10.9.9.9' WHERE seq = 2")
    assert tasks.verify_audit_chain_daily.call_local() is False
    rec = AuditRecord.objects.get(action=services.BROKEN_ACTION)
    assert rec.outcome == "failure"
    assert rec.detail["broken"]["seq"] == 2 and rec.detail["broken"]["reason"] == "content_changed"
    assert "audit chain broken" in caplog.text


@pytest.mark.parametrize(("utc_time", "fires"), [
    (datetime(2026, 11, 25, 18, 30), True),   # 02:30 北京时间 the next day
    (datetime(2026, 11, 25, 2, 30), False),   # 10:30 北京时间
    (datetime(2026, 11, 25, 18, 31), False),
])
def test_daily_task_fires_at_0230_local_time(settings, utc_time, fires):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert tasks.at_local_time(2, 30)(utc_time) is fires


def test_auditor_requests_a_verification_and_the_task_records_the_result(django_capture_on_commit_callbacks):
    make_chain(3)
    auditor = AdminRoleGrantFactory(role=AdminRole.AUDITOR).user
    with django_capture_on_commit_callbacks(execute=True):
        services.request_verification(auditor)
    requested = AuditRecord.objects.get(action=services.VERIFY_REQUESTED_ACTION)
    assert requested.actor_id == auditor.pk
    result = AuditRecord.objects.get(action=services.VERIFIED_ACTION)
    assert result.detail["requested_by"] == auditor.pk and result.seq > requested.seq


@pytest.mark.parametrize("role", [AdminRole.SYSTEM, AdminRole.SECURITY])
def test_r7_2_only_the_auditor_may_request_a_verification(role):
    user = AdminRoleGrantFactory(role=role).user
    with pytest.raises(Forbidden):
        services.request_verification(user)
    assert AuditRecord.objects.filter(action="permission.denied", actor_id=user.pk).exists()
    assert not AuditRecord.objects.filter(action=services.VERIFY_REQUESTED_ACTION).exists()
