"""Browser test of the 安全审计员 console (R7.2, R7.3): filter, open a record, export, verify; phone width.

With SHOTS_DIR set (`make screenshots`), saves auditor-*.png at 1280 and 390 px wide.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.support import screenshot
from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit import services
from zhengtong.audit.models import AuditRecord
from zhengtong.audit.tests.factories import AuditRecordFactory
from zhengtong.core.context import acting_as
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trail():
    """An auditor (like the demo's) and a small trail: logins, a failure, an administrator's changes."""
    auditor = AdminRoleGrantFactory(role=AdminRole.AUDITOR,
                                    user=UserFactory(username="auditor", last_name="冯雅琴", otp_exempt=True)).user
    sysadmin = AdminRoleGrantFactory(role=AdminRole.SYSTEM,
                                     user=UserFactory(username="sysadmin", last_name="周建国", otp_exempt=True)).user
    unit = UnitFactory(name="示范市人民政府办公室", short_name="市政府办")
    clerk = IdentityFactory(unit=unit, person__name="李明").person
    edu = UnitFactory(name="示范市教育局", short_name="市教育局")
    head = IdentityFactory(unit=edu, person__name="王芳").person
    for i in range(30):
        with acting_as(ip=f"10.1.0.{i % 7 + 2}", channel="web"):
            AuditRecordFactory(action="auth.login", category="security", user=clerk.user, unit=unit, obj=clerk.user,
                               detail={"channel": "web"})
            AuditRecordFactory(action="auth.login", category="security", user=head.user, unit=edu, obj=head.user,
                               detail={"channel": "web"})
    with acting_as(ip="10.9.8.7", channel="web"):
        for _ in range(3):
            AuditRecordFactory(action="auth.login_failed", category="security", username="zhangsan",
                               outcome="failure", detail={"channel": "web"}, no_object=True)
        AuditRecordFactory(action="auth.locked_out", category="security", username="zhangsan", outcome="denied",
                           no_object=True)
    with acting_as(ip="10.1.0.1", channel="web"):
        AuditRecordFactory(action="accounts.deactivated", category="security", user=sysadmin, obj=clerk.user,
                           changes={"is_active": [True, False]})
        AuditRecordFactory(action="permission.denied", category="security", user=sysadmin, outcome="denied",
                           detail={"needs": "auditor"}, no_object=True)
    return {"auditor": auditor, "sysadmin": sysadmin, "clerk": clerk}


def _login(target, live_server, username="auditor"):
    target.goto(f"{live_server.url}/accounts/login/")
    target.fill("input[name=username]", username)
    target.fill("input[name=password]", "Demo@2026")
    target.click("button[type=submit]")
    target.wait_for_load_state("networkidle")
    return target


def test_r7_2_auditor_filters_opens_a_record_exports_and_verifies(page, live_server, trail, tmp_path):
    _login(page, live_server)
    page.goto(f"{live_server.url}/console/auditor/")
    assert page.locator("h1").inner_text() == "审计日志"
    assert page.locator("table.audit-records tbody tr").count() == 50
    assert "较早" in page.locator(".pagination").inner_text()
    screenshot(page, "auditor-desktop")

    # filter: the 系统管理员's security events
    page.fill("#id_actor", "sysadmin")
    page.select_option("#id_category", "security")
    page.click(".audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    rows = page.locator("table.audit-records tbody tr")
    assert rows.count() == 2
    assert "越权访问被拒绝" in rows.nth(0).inner_text() and "停用账号" in rows.nth(1).inner_text()
    assert "符合条件的记录：2 条" in page.locator(".result-count").inner_text()
    screenshot(page, "auditor-filtered-desktop")

    # open the deactivation: the diff reads field: old → new
    rows.nth(1).locator("a.seq-link").click()
    page.wait_for_load_state("networkidle")
    change = page.locator(".change-list li").first
    assert change.locator(".change-field").inner_text() == "有效"
    assert change.locator(".change-old").inner_text() == "是" and change.locator(".change-new").inner_text() == "否"
    assert "一致" in page.locator(".hash-facts").inner_text()
    rec = AuditRecord.objects.get(action="accounts.deactivated")
    assert rec.hash in page.locator(".hash-facts").inner_text()
    screenshot(page, "auditor-record-desktop")
    page.click("text=← 返回审计日志")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_actor") == "sysadmin"

    # export the filter: two rows in the workbook, and the export is in the trail
    with page.expect_download() as info:
        page.click("#export-xlsx")
    path = tmp_path / "export.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename.startswith("审计记录-") and info.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(path, read_only=True)["审计记录"]
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[9] for r in rows[1:]] == ["permission.denied", "accounts.deactivated"]
    assert rows[2][2] == "sysadmin" and rows[2][3] == "周建国" and rows[2][14] == "有效: 是 → 否"
    exported = AuditRecord.objects.get(action=services.EXPORTED_ACTION)
    assert exported.actor_username == "auditor" and exported.detail["rows"] == 2

    # verify the chain now
    page.goto(f"{live_server.url}/console/auditor/")
    page.click("#verify-panel button[type=submit]")
    page.wait_for_load_state("networkidle")
    panel = page.locator("#verify-panel")
    assert "完整" in panel.locator(".badge").inner_text()
    assert "审计链完整" in panel.inner_text()
    screenshot(page, "auditor-verified-desktop", full_page=False)


def test_r7_2_sysadmin_cannot_read_the_audit(page, live_server, trail):
    _login(page, live_server, "sysadmin")
    response = page.goto(f"{live_server.url}/console/auditor/")
    assert response.status == 403
    assert "仅限安全审计员" in page.content()
    assert AuditRecord.objects.filter(action="permission.denied", actor_username="sysadmin",
                                      detail__needs="auditor").count() == 2


def test_audit_console_at_phone_width(phone_page, live_server, trail):
    _login(phone_page, live_server)
    phone_page.goto(f"{live_server.url}/console/auditor/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "auditor-phone", full_page=False)  # the whole list is 50 cards long
    phone_page.locator(".result-bar").scroll_into_view_if_needed()
    screenshot(phone_page, "auditor-phone-list", full_page=False)
    today = timezone.localdate()
    phone_page.fill("#id_action", "auth.login_failed")
    phone_page.fill("#id_since", (today - timedelta(days=1)).isoformat())
    phone_page.fill("#id_until", today.isoformat())
    phone_page.click(".audit-filters button[type=submit]")
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.locator("table.audit-records tbody tr").count() == 3
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "auditor-filtered-phone")
    phone_page.locator("a.seq-link").first.click()
    phone_page.wait_for_load_state("networkidle")
    assert "登录失败" in phone_page.locator(".record-head").inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "auditor-record-phone")
