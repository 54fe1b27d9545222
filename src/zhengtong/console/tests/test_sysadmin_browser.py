"""Browser test of the 系统管理员 console (R8.2): the 2027 warning, adding a holiday, phone width."""
from __future__ import annotations

from datetime import date

import pytest

from tests.support import screenshot
from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.console import sysadmin_views
from zhengtong.core.models import HolidayDate
from zhengtong.org.tests.factories import IdentityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WARNING_2027 = "2027 年节假日安排尚未录入，期限计算将报错，请于国务院办公厅公布后录入"



@pytest.fixture
def sysadmin(monkeypatch):
    # the console's "today" is 25 November 2026: next year's data is due (live_server runs in this process)
    monkeypatch.setattr(sysadmin_views, "today", lambda: date(2026, 11, 25))
    user = UserFactory(username="sysadmin.test", otp_exempt=True)
    AdminRoleGrantFactory(user=user, role=AdminRole.SYSTEM)
    IdentityFactory()  # a little organisation for the figures
    return user


def _logged_in(target, live_server, username):
    target.goto(f"{live_server.url}/accounts/login/")
    target.fill("input[name=username]", username)
    target.fill("input[name=password]", "Demo@2026")
    target.click("button[type=submit]")
    target.wait_for_load_state("networkidle")
    return target


def test_r8_2_sysadmin_sees_the_2027_warning_and_adds_a_holiday(page, live_server, sysadmin):
    _logged_in(page, live_server, sysadmin.username)
    page.goto(f"{live_server.url}/console/sysadmin/")
    assert page.locator(".calendar-banner").first.inner_text().startswith(WARNING_2027)
    assert page.locator(".counter-label", has_text="已锁定账号").count() == 1
    screenshot(page, "sysadmin-home-desktop")

    page.click("text=录入 2027 年安排")
    page.wait_for_load_state("networkidle")
    assert page.locator("#h-year").inner_text() == "2027 年"
    assert "未录入" in page.locator(".year-status").inner_text()
    page.click('td[data-date="2027-02-08"]')  # choosing a day in the grid fills the form
    assert page.input_value("#id_date") == "2027-02-08"
    assert page.input_value("#id_kind") == "holiday"  # an ordinary Monday: suggest a holiday
    page.fill("#id_name", "春节")
    page.click("#set-day button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已将 2027-02-08 设为休息（节假日）：春节" in page.locator(".messages").inner_text()
    cell = page.locator('td[data-date="2027-02-08"]')
    assert "day-holiday" in cell.get_attribute("class")
    assert "春节" in cell.inner_text()
    assert HolidayDate.objects.filter(date=date(2027, 2, 8), kind="holiday").exists()
    screenshot(page, "sysadmin-calendar-2027-desktop")

    page.goto(f"{live_server.url}/console/sysadmin/calendar/2026/")
    assert "day-makeup" in page.locator('td[data-date="2026-02-14"]').get_attribute("class")
    assert "day-holiday" in page.locator('td[data-date="2026-10-01"]').get_attribute("class")
    screenshot(page, "sysadmin-calendar-2026-desktop")


def test_sysadmin_console_at_phone_width(phone_page, live_server, sysadmin):
    _logged_in(phone_page, live_server, sysadmin.username)
    phone_page.goto(f"{live_server.url}/console/sysadmin/")
    banner = phone_page.locator(".calendar-banner").first
    assert WARNING_2027 in banner.inner_text()
    # nothing wider than the screen
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(phone_page, "sysadmin-home-phone")
    phone_page.goto(f"{live_server.url}/console/sysadmin/calendar/2026/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "sysadmin-calendar-2026-phone")
    screenshot(phone_page, "sysadmin-calendar-2026-phone-top", full_page=False)
    phone_page.locator('td[data-date="2026-02-14"]').scroll_into_view_if_needed()
    screenshot(phone_page, "sysadmin-calendar-2026-phone-february", full_page=False)
    phone_page.locator("#set-day").scroll_into_view_if_needed()
    screenshot(phone_page, "sysadmin-calendar-2026-phone-forms", full_page=False)
    phone_page.goto(f"{live_server.url}/console/sysadmin/accounts/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "sysadmin-accounts-phone")


def test_accounts_page_desktop(page, live_server, sysadmin):
    _logged_in(page, live_server, sysadmin.username)
    page.goto(f"{live_server.url}/console/sysadmin/accounts/")
    assert page.locator("table.accounts").count() == 1
    screenshot(page, "sysadmin-accounts-desktop")
