"""The workspace home (R8.1: today's place on the working-day calendar)."""
from datetime import date, timedelta

import pytest
from django.utils import timezone

from zhengtong.org.tests.factories import IdentityFactory
from zhengtong.web import views
from zhengtong.web.tests.factories import NoticeFactory

pytestmark = pytest.mark.django_db


def at(monkeypatch, day: date) -> None:
    monkeypatch.setattr(views, "local_today", lambda: day)


def test_home_shows_identity_holiday_and_the_date_five_working_days_on(client, monkeypatch):
    identity = IdentityFactory(title="科员")
    client.force_login(identity.person.user)
    at(monkeypatch, date(2026, 9, 30))  # 国庆 2026: 10-01…10-07 off, 10-10 (Sat) a make-up working day

    page = client.get("/").content.decode()

    assert identity.unit.name in page and "主身份" in page
    assert "工作日" in page
    assert "5 个工作日后为 10月13日" in page  # 10-08, 10-09, 10-10 (make-up), 10-12, 10-13
    assert 'href="/org/delegations/"' in page


def test_home_on_a_holiday_names_it(client, monkeypatch):
    client.force_login(IdentityFactory().person.user)
    at(monkeypatch, date(2026, 10, 1))
    assert "节假日（国庆节）" in client.get("/").content.decode()
    at(monkeypatch, date(2026, 10, 10))
    assert "调休上班（国庆节）" in client.get("/").content.decode()


def test_home_without_calendar_data_says_so_instead_of_failing(client, monkeypatch):
    client.force_login(IdentityFactory().person.user)
    at(monkeypatch, date(2031, 3, 3))
    response = client.get("/")
    assert response.status_code == 200
    assert "工作日历数据缺失" in response.content.decode()


def test_home_lists_pinned_notices_first_and_only_those_the_user_may_see(client):
    identity = IdentityFactory()
    NoticeFactory(unit=identity.unit, title="关于报送年度总结的通知")
    NoticeFactory(unit=identity.unit, title="关于春节值班安排的通知", pinned=True,
                  published_at=timezone.now() - timedelta(days=3))
    NoticeFactory(title="其他单位的内部通知")  # another unit, not platform-wide
    client.force_login(identity.person.user)
    page = client.get("/").content.decode()
    assert page.index("关于春节值班安排的通知") < page.index("关于报送年度总结的通知")
    assert "其他单位的内部通知" not in page
