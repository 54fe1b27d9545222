"""Browser tests (Playwright + Debian chromium): login, lockout message, the 2FA step, profile, console.

With SHOTS_DIR set, each test also saves screenshots there (desktop 1280 and phone 390 wide).
"""
from __future__ import annotations

import re

import pytest

from tests.support import screenshot
from zhengtong.accounts.lockout import LOCKED_MESSAGE
from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.conftest import current_code, enrolled_device
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DepartmentFactory, DutyFactory, IdentityFactory, PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def clerk(username="bgs.test"):
    unit_identity = IdentityFactory(person=PersonFactory(name="王晓明", user=UserFactory(username=username)),
                                    duty=DutyFactory(code=Duty.CLERK), title="科员")
    unit_identity.department = DepartmentFactory(unit=unit_identity.unit, name="秘书科")
    unit_identity.save()
    return unit_identity.person.user


def test_login_through_the_form_lands_on_the_workspace(live_server, page, phone_page, login):
    user = clerk()
    page.goto(f"{live_server.url}/accounts/login/")
    screenshot(page, "login-desktop")
    phone_page.goto(f"{live_server.url}/accounts/login/")
    screenshot(phone_page, "login-phone")
    login(user.username)
    assert page.url == f"{live_server.url}/"
    assert page.locator(".greeting h1").inner_text().startswith("王晓明")
    screenshot(page, "home-desktop")
    login(user.username, target=phone_page)
    assert phone_page.locator(".greeting h1").inner_text().startswith("王晓明")
    screenshot(phone_page, "home-phone")


def test_r7_1_lockout_message_is_the_same_for_unknown_accounts(live_server, page):
    user = UserFactory(username="real.user")
    seen = {}
    for username in (user.username, "no.such.user"):
        for _ in range(5):
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "Wrong#Pass1")
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
        seen[username] = page.locator("[data-testid=login-error]").inner_text()
    assert seen[user.username] == seen["no.such.user"] == LOCKED_MESSAGE
    screenshot(page, "login-locked")


def test_r7_1_second_factor_step(live_server, page, phone_page):
    user = clerk("bgs.otp")
    device = enrolled_device(user)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "Demo@2026")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/login/otp/$"))
    assert "动态口令验证" in page.content()
    screenshot(page, "login-otp-desktop")
    page.fill("input[name=token]", "000000" if current_code(device) != "000000" else "111111")
    page.click("button[type=submit]")
    assert "动态口令不正确" in page.locator("[data-testid=login-error]").inner_text()
    page.fill("input[name=token]", current_code(device))
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator(".greeting h1").inner_text().startswith("王晓明")
    # the phone width of the same step
    phone_page.goto(f"{live_server.url}/accounts/login/")
    phone_page.fill("input[name=username]", user.username)
    phone_page.fill("input[name=password]", "Demo@2026")
    phone_page.click("button[type=submit]")
    phone_page.wait_for_url(re.compile(r".*/accounts/login/otp/$"))
    screenshot(phone_page, "login-otp-phone")


def test_profile_and_enrollment_pages(live_server, page, phone_page, login):
    user = clerk("bgs.profile")
    login(user.username)
    page.goto(f"{live_server.url}/accounts/profile/")
    assert page.get_by_role("link", name="AB岗委托设置").count() == 1
    screenshot(page, "profile-desktop")
    page.get_by_role("link", name="绑定动态口令").click()
    page.wait_for_url(re.compile(r".*/accounts/otp/enroll/$"))
    assert page.locator("img.otp-qr").evaluate("img => img.naturalWidth") > 0  # the data: SVG passes the CSP
    screenshot(page, "otp-enroll-desktop")
    login(user.username, target=phone_page)
    phone_page.goto(f"{live_server.url}/accounts/profile/")
    screenshot(phone_page, "profile-phone")
    phone_page.goto(f"{live_server.url}/accounts/otp/enroll/")
    screenshot(phone_page, "otp-enroll-phone")


def test_secadmin_console(live_server, page, phone_page, login):
    secadmin = AdminRoleGrantFactory(role=AdminRole.SECURITY,
                                     user=UserFactory(username="sec.admin", last_name="何文涛", otp_exempt=True)).user
    AdminRoleGrantFactory(role=AdminRole.AUDITOR, user=UserFactory(username="shen.ji", last_name="审计员甲"))
    AdminRoleGrantFactory(role=AdminRole.SYSTEM, user=UserFactory(username="xi.tong", last_name="系统员甲"))
    for code in (Duty.PRINCIPAL, Duty.DEPUTY, Duty.DEPT_HEAD, Duty.CLERK, Duty.DOC_CLERK, Duty.UNIT_ADMIN):
        DutyFactory(code=code)
    UserFactory(username="forced.user", otp_required=True)
    login(secadmin.username)
    page.goto(f"{live_server.url}/console/secadmin/")
    page.fill("input[name=username]", "shen.ji")
    page.select_option("select[name=role]", "sysadmin")
    page.get_by_role("button", name="授予").click()
    assert "不能与系统管理员或安全保密管理员角色由同一账号兼任" in page.locator(".grant-error").inner_text()
    screenshot(page, "secadmin-desktop")
    login(secadmin.username, target=phone_page)
    phone_page.goto(f"{live_server.url}/console/secadmin/")
    screenshot(phone_page, "secadmin-phone")
