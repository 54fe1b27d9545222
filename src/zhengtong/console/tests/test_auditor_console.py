"""安全审计员 console (R7.2, R7.3): only the auditor reads the audit; filters, pages, a record's diff and
hashes, the .xlsx export (itself audited), the verify button."""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit import export, selectors, services
from zhengtong.audit.models import AuditRecord
from zhengtong.audit.tests.factories import AuditRecordFactory, make_chain, raw, tampering
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor():
    return AdminRoleGrantFactory(role=AdminRole.AUDITOR, user=UserFactory(username="aud1", last_name="冯雅琴",
                                                                          otp_exempt=True)).user


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


AUDITOR_PAGES = [
    ("get", "console:auditor", {}),
    ("get", "console:auditor_record", {"seq": 1}),
    ("post", "console:auditor_export", {}),
    ("post", "console:auditor_verify", {}),
    ("get", "console:auditor_verify_status", {}),
]


@pytest.mark.parametrize("role", [None, AdminRole.SYSTEM, AdminRole.SECURITY])
def test_r7_2_audit_console_is_403_and_audited_for_everyone_else(client, role):
    """三员分立: the 系统管理员 and the 安全保密管理员 cannot read the audit trail."""
    make_chain(3, object_repr="机密对象")
    user = AdminRoleGrantFactory(role=role).user if role else IdentityFactory().person.user
    client.force_login(user)
    for method, name, kwargs in AUDITOR_PAGES:
        response = getattr(client, method)(reverse(name, kwargs=kwargs))
        assert response.status_code == 403, name
        body = response.content.decode()
        assert "仅限安全审计员" in body and "机密对象" not in body
    denied = AuditRecord.objects.filter(action="permission.denied", actor_id=user.pk, outcome="denied")
    assert denied.count() == len(AUDITOR_PAGES)
    assert all(r.detail == {"needs": "auditor"} for r in denied)
    assert not AuditRecord.objects.filter(action__in=[services.EXPORTED_ACTION,
                                                      services.VERIFY_REQUESTED_ACTION]).exists()


def test_anonymous_is_sent_to_login(client):
    assert client.get(reverse("console:auditor")).status_code == 302


def test_r7_2_auditor_reads_everyones_records_newest_first(auditor_client):
    sysadmin = AdminRoleGrantFactory(role=AdminRole.SYSTEM, user=UserFactory(username="sys9")).user
    AuditRecordFactory(action="accounts.deactivated", user=sysadmin, object_repr="bgs.keyuan")
    AuditRecordFactory(action="auth.login", username="someone")
    response = auditor_client.get(reverse("console:auditor"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["record"].action for r in rows[:2]] == ["auth.login", "accounts.deactivated"]
    body = response.content.decode()
    assert "停用账号" in body and "sys9" in body and "审计日志" in body
    assert "全部记录：2 条" in body


def test_filters_by_actor_unit_action_category_outcome_and_time(auditor_client):
    unit = UnitFactory(name="示范市教育局", short_name="教育局")
    person = IdentityFactory(unit=unit).person
    AuditRecordFactory(action="org.person_updated", user=person.user, unit=unit)
    AuditRecordFactory(action="auth.login", user=person.user, category="security")
    AuditRecordFactory(action="auth.login_failed", username="nobody", category="security", outcome="failure")
    AuditRecordFactory(action="calendar.day_set")

    def seqs(**params):
        response = auditor_client.get(reverse("console:auditor"), params)
        assert response.status_code == 200
        return [r["record"].action for r in response.context["rows"]]

    assert seqs(actor=person.user.username) == ["auth.login", "org.person_updated"]
    assert seqs(actor=person.name) == ["auth.login", "org.person_updated"]
    # the login names no unit: it is filed under the actor's main unit
    assert seqs(unit="教育") == ["auth.login", "org.person_updated"]
    assert seqs(unit=str(unit.pk)) == ["auth.login", "org.person_updated"]
    assert seqs(action="auth.") == ["auth.login_failed", "auth.login"]
    assert seqs(category="security") == ["auth.login_failed", "auth.login"]
    assert seqs(outcome="failure") == ["auth.login_failed"]
    today = timezone.localdate()
    assert len(seqs(since=today.isoformat(), until=today.isoformat())) == 4
    assert seqs(until=(today - timedelta(days=1)).isoformat()) == []
    assert seqs(actor="nobody", action="auth.", outcome="failure") == ["auth.login_failed"]


def test_bad_filter_is_a_message_not_an_error(auditor_client):
    response = auditor_client.get(reverse("console:auditor"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 400
    assert "截止日期不能早于起始日期" in response.content.decode()


def test_keyset_pages_walk_back_and_forth(auditor_client, auditor):
    make_chain(120)
    url = reverse("console:auditor")
    first = auditor_client.get(url, {"action": "test."}).context["page"]
    assert [r.seq for r in first.rows][:2] == [120, 119] and len(first.rows) == 50
    assert first.newer is None and first.older == 71
    second = auditor_client.get(url, {"action": "test.", "before": first.older}).context["page"]
    assert second.rows[0].seq == 70 and second.newer == 70 and second.older == 21
    third = auditor_client.get(url, {"action": "test.", "before": second.older}).context["page"]
    assert [r.seq for r in third.rows] == list(range(20, 0, -1)) and third.older is None
    back = auditor_client.get(url, {"action": "test.", "after": third.newer}).context["page"]
    assert [r.seq for r in back.rows] == [r.seq for r in second.rows]
    body = auditor_client.get(url, {"action": "test.", "before": first.older}).content.decode()
    assert "?action=test.&before=21" in body and "?action=test.&after=70" in body


def test_page_queries_do_not_use_offset(auditor, django_assert_max_num_queries):
    make_chain(60)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        selectors.page(auditor, selectors.RecordFilter(), before=40)
    assert not any("OFFSET" in q["sql"] for q in queries.captured_queries)


def test_record_detail_shows_the_diff_readably_and_the_hashes(auditor_client):
    user = UserFactory(username="target1")
    rec = AuditRecordFactory(action="accounts.deactivated", obj=user, changes={"is_active": [True, False]},
                             detail={"reason": "离职"})
    response = auditor_client.get(reverse("console:auditor_record", kwargs={"seq": rec.seq}))
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["changes"] == [{"field": "is_active", "label": "有效", "old": "是", "new": "否"}]
    assert "停用账号" in body and "离职" in body
    assert rec.hash in body and rec.prev_hash in body
    assert response.context["content_ok"] and response.context["linked"]


def test_record_detail_flags_a_tampered_record(auditor_client):
    make_chain(3)
    with tampering():
        raw("UPDATE {table} SET object_repr = '改' WHERE seq = 2")
    response = auditor_client.get(reverse("console:auditor_record", kwargs={"seq": 2}))
    assert response.context["content_ok"] is False
    assert "记录内容在写入后被改动" in response.content.decode()


def test_missing_record_is_a_message(auditor_client):
    response = auditor_client.get(reverse("console:auditor_record", kwargs={"seq": 999}), follow=True)
    assert "第 999 条审计记录不存在" in response.content.decode()


def read_xlsx(response) -> list[tuple]:
    wb = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [tuple(row) for row in wb["审计记录"].iter_rows(values_only=True)]


def test_export_of_the_current_filter_is_an_xlsx_and_is_audited(auditor_client, auditor):
    user = UserFactory(username="target2")
    AuditRecordFactory(action="accounts.deactivated", obj=user, changes={"is_active": [True, False]})
    AuditRecordFactory(action="auth.login", username="someone")
    AuditRecordFactory(action="auth.login_failed", username="=HYPERLINK(\"http://x\")", outcome="failure")
    response = auditor_client.post(reverse("console:auditor_export"), {"action": "auth."})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = read_xlsx(response)
    assert rows[0][:3] == ("序号", "时间", "操作人账号")
    assert [r[9] for r in rows[1:]] == ["auth.login_failed", "auth.login"]
    assert rows[1][2] == "=HYPERLINK(\"http://x\")"  # kept as text, never a formula
    exported = AuditRecord.objects.get(action=services.EXPORTED_ACTION)
    assert exported.actor_id == auditor.pk and exported.detail == {"filter": {"action": "auth."}, "rows": 2}


def test_export_shows_the_diff_as_field_old_new(auditor_client):
    user = UserFactory(username="target3")
    AuditRecordFactory(action="accounts.deactivated", obj=user, changes={"is_active": [True, False]})
    rows = read_xlsx(auditor_client.post(reverse("console:auditor_export"), {}))
    assert rows[1][14] == "有效: 是 → 否"


def test_export_over_the_cap_is_refused_with_a_clear_message(auditor_client, auditor, monkeypatch):
    make_chain(6)
    monkeypatch.setattr(export, "EXPORT_CAP", 5)
    response = auditor_client.post(reverse("console:auditor_export"), {"category": "business"}, follow=True)
    assert "符合条件的记录超过 5 条，无法一次导出" in response.content.decode()
    assert not AuditRecord.objects.filter(action=services.EXPORTED_ACTION).exists()


def test_verify_button_shows_the_result(auditor_client, auditor, django_capture_on_commit_callbacks):
    make_chain(4)
    with django_capture_on_commit_callbacks(execute=True):
        response = auditor_client.post(reverse("console:auditor_verify"))
    assert response.status_code == 302
    page = auditor_client.get(reverse("console:auditor")).content.decode()
    assert "审计链完整：5 条记录" in page  # the 4 records and the request itself
    assert AuditRecord.objects.filter(action=services.VERIFIED_ACTION, detail__requested_by=auditor.pk).exists()


def test_verify_button_shows_a_broken_chain(auditor_client, django_capture_on_commit_callbacks):
    make_chain(4)
    with tampering():
        raw("DELETE FROM {table} WHERE seq = 2")
    with django_capture_on_commit_callbacks(execute=True):
        auditor_client.post(reverse("console:auditor_verify"))
    page = auditor_client.get(reverse("console:auditor")).content.decode()
    assert "审计链断裂：第 3 条记录" in page and "查看第 3 条" in page


def test_pending_verification_polls_for_its_result(auditor_client, auditor):
    services.security_event(services.VERIFY_REQUESTED_ACTION, user=auditor)
    panel = auditor_client.get(reverse("console:auditor_verify_status")).content.decode()
    assert 'hx-trigger="every 3s"' in panel and "校验中" in panel
    assert '"X-Background": "1"' in panel  # polling is not activity for the idle timeout


@pytest.mark.parametrize("probe", [1, 2000])
def test_action_prefix_matches_exactly_the_prefix(auditor, monkeypatch, probe):
    """SQLite reads a prefix as a range (or LIKE when it is common): both give the same set."""
    monkeypatch.setattr(selectors, "PREFIX_PROBE", probe)
    for action in ["auth.login", "auth.zzz", "authx", "auth", "aut", "auth/", "accounts.unlocked"]:
        AuditRecordFactory(action=action)
    for ordered in (False, True):
        flt = selectors.RecordFilter(action="auth.")
        got = sorted(selectors.filtered(auditor, flt, ordered=ordered).values_list("action", flat=True))
        assert got == ["auth.login", "auth.zzz"]
    assert [r.action for r in selectors.page(auditor, selectors.RecordFilter(action="auth.")).rows] == [
        "auth.zzz", "auth.login"]
