"""Editing the calendar (R8.2): only the 系统管理员, audited with diffs, imports all-or-nothing."""
from __future__ import annotations

from datetime import date

import pytest

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core import calendar, services
from zhengtong.core.errors import Forbidden, NotFound, ServiceError
from zhengtong.core.models import CalendarYear, HolidayDate

pytestmark = pytest.mark.django_db

D = date

ARRANGEMENT_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知（示例）
2027-01-01~2027-01-03 元旦 holiday
2027-02-06~2027-02-14 春节 holiday
2027-02-05, workday, 春节, 调休上班
2027-02-20 春节 班
2027-04-05 清明 休
2027-05-01至2027-05-05 劳动节 放假
2027-06-09 端午 holiday
2027-09-15 中秋 holiday
2027-10-01~2027-10-07 国庆节 holiday
2027-09-26 国庆节 workday
2027-10-09 国庆节 workday
"""


@pytest.fixture
def sysadmin():
    return AdminRoleGrantFactory(role=AdminRole.SYSTEM).user


def test_r8_2_admin_enters_and_confirms_2027_then_deadlines_work(sysadmin):
    with pytest.raises(calendar.CalendarDataMissing):
        calendar.add_working_days(D(2027, 2, 4), 1)
    result = services.import_calendar_days(sysadmin, ARRANGEMENT_2027)
    assert result.created == 3 + 9 + 1 + 1 + 1 + 5 + 1 + 1 + 7 + 1 + 1
    with pytest.raises(calendar.CalendarDataMissing):  # entered but not confirmed
        calendar.add_working_days(D(2027, 2, 4), 1)
    services.confirm_calendar_year(sysadmin, 2027, note="国办发明电〔2026〕示例号")
    assert calendar.add_working_days(D(2027, 2, 4), 1) == D(2027, 2, 5)  # Friday
    assert calendar.add_working_days(D(2027, 2, 5), 1) == D(2027, 2, 15)  # over 春节
    assert calendar.is_working_day(D(2027, 2, 20))  # Saturday 调休
    assert calendar.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert calendar.working_days_between(D(2027, 2, 4), D(2027, 2, 15)) == 2
    assert calendar.day_info(D(2027, 2, 5)).name == "春节"
    row = HolidayDate.objects.get(date=D(2027, 2, 5))
    assert (row.kind, row.name, row.note, row.created_by) == ("workday", "春节", "调休上班", sysadmin)


def test_set_calendar_day_takes_effect_at_once_and_is_audited_with_a_diff(sysadmin):
    assert calendar.is_working_day(D(2026, 3, 10))
    row = services.set_calendar_day(sysadmin, D(2026, 3, 10), "holiday", "示范停工", "演练")
    assert not calendar.is_working_day(D(2026, 3, 10))
    rec = AuditRecord.objects.filter(action="calendar.day_set").latest("seq")
    assert rec.actor_id == sysadmin.pk
    assert rec.changes["kind"] == [None, "holiday"]
    assert rec.changes["name"] == [None, "示范停工"]

    services.set_calendar_day(sysadmin, D(2026, 3, 10), "holiday", "示范停工（改）", "演练")
    rec = AuditRecord.objects.filter(action="calendar.day_set").latest("seq")
    assert rec.changes == {"name": ["示范停工", "示范停工（改）"]}
    row.refresh_from_db()
    assert row.updated_by == sysadmin

    services.remove_calendar_day(sysadmin, D(2026, 3, 10))
    assert calendar.is_working_day(D(2026, 3, 10))
    rec = AuditRecord.objects.filter(action="calendar.day_removed").latest("seq")
    assert rec.changes["kind"] == ["holiday", None]


def test_unchanged_set_writes_no_audit_record(sysadmin):
    services.set_calendar_day(sysadmin, D(2026, 3, 10), "holiday", "停工")
    count = AuditRecord.objects.filter(action="calendar.day_set").count()
    services.set_calendar_day(sysadmin, D(2026, 3, 10), "holiday", "停工")
    assert AuditRecord.objects.filter(action="calendar.day_set").count() == count


def test_remove_unknown_day_is_not_found(sysadmin):
    with pytest.raises(NotFound):
        services.remove_calendar_day(sysadmin, D(2026, 3, 10))


@pytest.mark.parametrize("role", [None, AdminRole.SECURITY, AdminRole.AUDITOR])
def test_r7_2_only_the_system_administrator_edits_the_calendar(role):
    user = AdminRoleGrantFactory(role=role).user if role else UserFactory()
    calls = [
        lambda: services.set_calendar_day(user, D(2026, 3, 10), "holiday", "x"),
        lambda: services.remove_calendar_day(user, D(2026, 3, 10)),
        lambda: services.confirm_calendar_year(user, 2027),
        lambda: services.unconfirm_calendar_year(user, 2027),
        lambda: services.import_calendar_days(user, "2027-01-01 元旦 holiday"),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert not HolidayDate.objects.exists()
    assert AuditRecord.objects.filter(action="permission.denied", actor_id=user.pk).count() == len(calls)


def test_confirming_a_year_with_no_holiday_entered_is_refused(sysadmin):
    with pytest.raises(ServiceError) as caught:
        services.confirm_calendar_year(sysadmin, 2027)
    assert caught.value.code == "calendar.year_empty"
    assert not CalendarYear.objects.filter(year=2027, confirmed=True).exists()


def test_unconfirm_makes_the_year_missing_again(sysadmin):
    services.set_calendar_day(sysadmin, D(2027, 1, 1), "holiday", "元旦")
    services.confirm_calendar_year(sysadmin, 2027)
    assert calendar.is_year_covered(2027)
    services.unconfirm_calendar_year(sysadmin, 2027)
    assert not calendar.is_year_covered(2027)
    assert AuditRecord.objects.filter(action="calendar.year_unconfirmed").exists()


@pytest.mark.parametrize("kind,name,code", [
    ("maybe", "", "calendar.invalid_kind"),
    ("holiday", "长" * 51, "calendar.invalid_name"),
])
def test_invalid_day_input_is_refused(sysadmin, kind, name, code):
    with pytest.raises(ServiceError) as caught:
        services.set_calendar_day(sysadmin, D(2026, 3, 10), kind, name)
    assert caught.value.code == code


def test_set_day_out_of_range_year_refused(sysadmin):
    with pytest.raises(ServiceError) as caught:
        services.set_calendar_day(sysadmin, D(1999, 1, 1), "holiday", "x")
    assert caught.value.code == "calendar.invalid_date"


def test_import_errors_name_their_lines_and_nothing_is_applied(sysadmin):
    text = "\n".join([
        "2027-01-01~2027-01-03 元旦 holiday",  # good
        "2027-02-30 春节 holiday",  # 2: no such date
        "2027-02-06~2027-02-01 春节 holiday",  # 3: reversed
        "2027-02-15 春节",  # 4: no kind
        "2027-01-02 元旦 workday",  # 5: duplicate of line 1
        "明天 holiday",  # 6: not a date
    ])
    with pytest.raises(ServiceError) as caught:
        services.import_calendar_days(sysadmin, text)
    errors = caught.value.details["errors"]
    assert caught.value.code == "calendar.import_invalid"
    assert [e.split("：")[0] for e in errors] == ["第 2 行", "第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    assert "2027-02-30" in errors[0]
    assert "第 1 行" in errors[3]
    assert not HolidayDate.objects.exists()
    assert not AuditRecord.objects.filter(action="calendar.imported").exists()


def test_import_updates_existing_rows_and_audits_one_record(sysadmin):
    services.set_calendar_day(sysadmin, D(2027, 1, 1), "holiday", "新年")
    result = services.import_calendar_days(sysadmin, "2027-01-01~2027-01-02 元旦 holiday\n2027-01-03 元旦 休\n")
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    rec = AuditRecord.objects.filter(action="calendar.imported").latest("seq")
    assert rec.changes["2027-01-01"] == ["holiday 新年", "holiday 元旦"]
    assert rec.changes["2027-01-02"] == [None, "holiday 元旦"]
    assert rec.detail["days"] == 3
    again = services.import_calendar_days(sysadmin, "2027-01-01~2027-01-03 元旦 holiday")
    assert again.unchanged == 3


def test_import_empty_text_is_an_error(sysadmin):
    with pytest.raises(ServiceError) as caught:
        services.import_calendar_days(sysadmin, "# only a comment\n\n")
    assert caught.value.code == "calendar.import_empty"


def test_parse_accepts_chinese_dates_and_separators():
    days = services.parse_calendar_text("2027年2月6日至2027年2月7日 春节 放假\n2027/2/20，上班，春节")
    assert [(d.date, d.kind, d.name) for d in days] == [
        (D(2027, 2, 6), "holiday", "春节"), (D(2027, 2, 7), "holiday", "春节"), (D(2027, 2, 20), "workday", "春节")]


def test_range_longer_than_a_month_refused():
    with pytest.raises(ServiceError) as caught:
        services.parse_calendar_text("2027-01-01~2027-03-01 长假 holiday")
    assert "第 1 行" in caught.value.details["errors"][0]
