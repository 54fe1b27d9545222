"""系统管理员 console (R7.2, R8.2): access control, the calendar warning and editing, account operations."""
from __future__ import annotations

import html
from datetime import date

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.console import services, sysadmin_views
from zhengtong.core import calendar
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.core.models import CalendarYear, HolidayDate
from zhengtong.org.tests.factories import IdentityFactory

pytestmark = pytest.mark.django_db

WARNING_2027 = "2027 年节假日安排尚未录入，期限计算将报错，请于国务院办公厅公布后录入"


@pytest.fixture
def sysadmin():
    return AdminRoleGrantFactory(role=AdminRole.SYSTEM, user=UserFactory(username="sys1", otp_exempt=True)).user


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    return client


@pytest.fixture
def on_day(monkeypatch):
    def set_day(day: date):
        monkeypatch.setattr(sysadmin_views, "today", lambda: day)

    return set_day


def lock(username: str):
    AccessAttempt.objects.create(username=username, ip_address="10.0.0.1", user_agent="test", http_accept="*/*",
                                 path_info="/accounts/login/", get_data="", post_data="",
                                 failures_since_start=settings.AXES_FAILURE_LIMIT)


# --- access control ------------------------------------------------------------------------------

SYSADMIN_PAGES = [
    ("get", "console:sysadmin", {}),
    ("get", "console:sysadmin_calendar", {"year": 2027}),
    ("get", "console:sysadmin_accounts", {}),
    ("post", "console:sysadmin_calendar_day", {"year": 2027}),
    ("post", "console:sysadmin_calendar_import", {"year": 2027}),
    ("post", "console:sysadmin_calendar_confirm", {"year": 2027}),
    ("post", "console:sysadmin_account_unlock", {"user_id": 1}),
    ("post", "console:sysadmin_account_active", {"user_id": 1}),
    ("post", "console:sysadmin_account_reset_password", {"user_id": 1}),
]


@pytest.mark.parametrize("role", [None, AdminRole.SECURITY, AdminRole.AUDITOR])
def test_r7_2_sysadmin_console_is_403_and_audited_for_everyone_else(client, role):
    user = AdminRoleGrantFactory(role=role).user if role else IdentityFactory().person.user
    client.force_login(user)
    for method, name, kwargs in SYSADMIN_PAGES:
        response = getattr(client, method)(reverse(name, kwargs=kwargs))
        assert response.status_code == 403, name
        assert "仅限系统管理员" in response.content.decode()
    denied = AuditRecord.objects.filter(action="permission.denied", actor_id=user.pk, outcome="denied")
    assert denied.count() == len(SYSADMIN_PAGES)
    assert not HolidayDate.objects.exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("console:sysadmin"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- home ----------------------------------------------------------------------------------------

def test_r8_2_home_warns_from_1_november_when_next_year_is_missing(admin_client, on_day):
    on_day(date(2026, 11, 25))
    page = admin_client.get(reverse("console:sysadmin")).content.decode()
    assert WARNING_2027 in page
    assert reverse("console:sysadmin_calendar", kwargs={"year": 2027}) in page


def test_r8_2_no_warning_in_october(admin_client, on_day):
    on_day(date(2026, 10, 31))
    page = admin_client.get(reverse("console:sysadmin")).content.decode()
    assert "尚未录入" not in page.split("<section class=\"counters\"")[0]


def test_r8_2_warning_disappears_once_2027_is_confirmed(admin_client, sysadmin, on_day):
    on_day(date(2026, 11, 25))
    HolidayDate.objects.create(date=date(2027, 2, 8), kind="holiday", name="春节")
    CalendarYear.objects.create(year=2027, confirmed=True)
    calendar.invalidate()
    page = admin_client.get(reverse("console:sysadmin")).content.decode()
    assert WARNING_2027 not in page


def test_home_shows_platform_figures_and_links(admin_client, on_day):
    on_day(date(2026, 11, 25))
    IdentityFactory()
    lock("someone")
    page = admin_client.get(reverse("console:sysadmin")).content.decode()
    for label in ("行政区划", "单位", "人员", "账号", "已锁定账号", "有效会话"):
        assert f'<span class="counter-label">{label}</span>' in page
    assert 'href="/org/"' in page
    assert "/org/import/" in page
    assert reverse("console:sysadmin_accounts") in page


# --- calendar page -------------------------------------------------------------------------------

def test_calendar_page_marks_2026_holidays_and_makeup_days(admin_client):
    page = admin_client.get(reverse("console:sysadmin_calendar", kwargs={"year": 2026})).content.decode()
    assert 'class="day day-makeup" title="2026-02-14' in page
    assert 'class="day day-holiday" title="2026-02-17' in page
    assert 'class="day day-makeup" title="2026-09-20' in page
    assert "内置数据" in page


def test_r8_2_calendar_page_2027_offers_confirmation(admin_client):
    page = admin_client.get(reverse("console:sysadmin_calendar", kwargs={"year": 2027})).content.decode()
    assert "2027 年节假日安排尚未确认" in page
    assert "未录入" in page


def test_adding_a_holiday_through_the_page(admin_client, sysadmin):
    url = reverse("console:sysadmin_calendar_day", kwargs={"year": 2027})
    response = admin_client.post(url, {"date": "2027-02-08", "kind": "holiday", "name": "春节", "note": ""})
    assert response.status_code == 302
    row = HolidayDate.objects.get(date=date(2027, 2, 8))
    assert (row.kind, row.name, row.created_by) == ("holiday", "春节", sysadmin)
    page = admin_client.get(response["Location"]).content.decode()
    assert "已将 2027-02-08 设为休息（节假日）：春节" in page
    assert 'class="day day-holiday day-override" title="2027-02-08' in page
    assert AuditRecord.objects.filter(action="calendar.day_set", actor_id=sysadmin.pk).exists()


def test_bad_day_form_is_400_with_message(admin_client):
    url = reverse("console:sysadmin_calendar_day", kwargs={"year": 2027})
    response = admin_client.post(url, {"date": "2027-02-30", "kind": "holiday"})
    assert response.status_code == 400
    assert "未保存" in response.content.decode()
    assert not HolidayDate.objects.exists()


def test_import_errors_are_listed_by_line_and_nothing_applied(admin_client):
    url = reverse("console:sysadmin_calendar_import", kwargs={"year": 2027})
    response = admin_client.post(url, {"text": "2027-01-01 元旦 holiday\n2027-13-01 春节 holiday"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "第 2 行" in page and "2027-13-01" in page
    assert not HolidayDate.objects.exists()


def test_r8_2_import_and_confirm_through_the_page_makes_2027_computable(admin_client):
    admin_client.post(reverse("console:sysadmin_calendar_import", kwargs={"year": 2027}),
                      {"text": "2027-02-06~2027-02-14 春节 holiday\n2027-02-20 春节 workday"})
    assert HolidayDate.objects.count() == 10
    response = admin_client.post(reverse("console:sysadmin_calendar_confirm", kwargs={"year": 2027}),
                                 {"note": "国办发明电〔2026〕示例"})
    assert response.status_code == 302
    assert calendar.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 15)
    page = admin_client.get(response["Location"]).content.decode()
    assert "已录入并确认" in page and "国办发明电〔2026〕示例" in page

    admin_client.post(reverse("console:sysadmin_calendar_confirm", kwargs={"year": 2027}), {"action": "withdraw"})
    assert not calendar.is_year_covered(2027)


def test_removing_a_day_through_the_page(admin_client, sysadmin):
    HolidayDate.objects.create(date=date(2027, 2, 8), kind="holiday", name="春节")
    response = admin_client.post(reverse("console:sysadmin_calendar_remove", kwargs={"year": 2027,
                                                                                     "day": "2027-02-08"}))
    assert response.status_code == 302
    assert not HolidayDate.objects.exists()


def test_confirming_an_empty_year_shows_the_message(admin_client):
    response = admin_client.post(reverse("console:sysadmin_calendar_confirm", kwargs={"year": 2028}), follow=True)
    assert "2028 年尚未录入任何节假日，不能确认" in response.content.decode()
    assert not CalendarYear.objects.filter(confirmed=True).exists()


# --- accounts ------------------------------------------------------------------------------------

def test_accounts_list_and_search_by_pinyin(admin_client):
    identity = IdentityFactory(person__name="张三丰", person__user__username="zsf")
    page = admin_client.get(reverse("console:sysadmin_accounts"), {"q": "zhangsanfeng"}).content.decode()
    assert "zsf" in page and identity.person.name in page
    page = admin_client.get(reverse("console:sysadmin_accounts"), {"q": "nobody-here"}).content.decode()
    assert "没有符合条件的账号" in page


def test_unlock_a_locked_account_is_audited(admin_client, sysadmin):
    victim = UserFactory(username="locked1")
    lock("locked1")
    assert "locked1" in services.locked_usernames()
    page = admin_client.get(reverse("console:sysadmin_accounts"), {"status": "locked"}).content.decode()
    assert "locked1" in page and "已锁定" in page
    response = admin_client.post(reverse("console:sysadmin_account_unlock", kwargs={"user_id": victim.pk}))
    assert response.status_code == 302
    assert "locked1" not in services.locked_usernames()
    rec = AuditRecord.objects.get(action="accounts.unlocked")
    assert rec.actor_id == sysadmin.pk and rec.object_id == str(victim.pk) and rec.category == "security"


def test_unlock_without_failures_is_an_error(sysadmin):
    with pytest.raises(ServiceError):
        services.unlock_account(sysadmin, UserFactory())


def test_deactivate_and_reactivate_an_account(admin_client, sysadmin):
    target = UserFactory()
    url = reverse("console:sysadmin_account_active", kwargs={"user_id": target.pk})
    admin_client.post(url, {"active": "0"})
    target.refresh_from_db()
    assert not target.is_active
    rec = AuditRecord.objects.get(action="accounts.deactivated")
    assert rec.changes == {"is_active": [True, False]}
    admin_client.post(url, {"active": "1"})
    target.refresh_from_db()
    assert target.is_active
    assert AuditRecord.objects.filter(action="accounts.reactivated").exists()


def test_reset_password_shows_a_temporary_password_once(admin_client, sysadmin):
    target = UserFactory(username="forgetful")
    response = admin_client.post(reverse("console:sysadmin_account_reset_password", kwargs={"user_id": target.pk}))
    assert response.status_code == 302
    page = admin_client.get(response["Location"]).content.decode()
    assert "已为 <strong>forgetful</strong> 重置密码" in page
    temporary = html.unescape(page.split('<code class="temp-password-value">')[1].split("</code>")[0])
    target.refresh_from_db()
    assert target.check_password(temporary)
    assert target.must_change_password
    assert "temp-password-value" not in admin_client.get(reverse("console:sysadmin_accounts")).content.decode()
    rec = AuditRecord.objects.get(action="accounts.password_reset")
    assert temporary not in str(rec.changes) + str(rec.detail)


@pytest.mark.parametrize("role", [AdminRole.SECURITY, AdminRole.AUDITOR, AdminRole.SYSTEM])
def test_r7_2_sysadmin_cannot_deactivate_or_reset_other_administrators(sysadmin, role):
    other = AdminRoleGrantFactory(role=role).user
    with pytest.raises(Forbidden):
        services.set_account_active(sysadmin, other, False)
    with pytest.raises(Forbidden):
        services.reset_password(sysadmin, other)
    other.refresh_from_db()
    assert other.is_active
    assert AuditRecord.objects.filter(action="accounts.operation_refused").count() == 2


def test_sysadmin_cannot_deactivate_self(sysadmin):
    with pytest.raises(Forbidden):
        services.set_account_active(sysadmin, sysadmin, False)


def test_account_services_require_the_sysadmin_role():
    actor = AdminRoleGrantFactory(role=AdminRole.SECURITY).user
    target = UserFactory()
    for call in (lambda: services.unlock_account(actor, target),
                 lambda: services.set_account_active(actor, target, False),
                 lambda: services.reset_password(actor, target)):
        with pytest.raises(Forbidden):
            call()


def test_r8_2_a_missing_current_year_is_an_error_banner(admin_client, on_day):
    on_day(date(2027, 1, 5))
    page = admin_client.get(reverse("console:sysadmin")).content.decode()
    assert "alert-error calendar-banner" in page
    assert "2027 年节假日安排尚未录入，涉及本年日期的期限计算均会报错，请立即录入" in page
