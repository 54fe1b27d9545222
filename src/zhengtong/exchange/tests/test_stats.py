"""收发统计 (issue #5 §1; exchange.stats): figures per unit and period with a frozen clock, working hours across
a night, a weekend and a holiday (R8.1), the timeliness score, who may see which units, and the .xlsx export."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.test import override_settings
from django.utils import timezone
from openpyxl import load_workbook

from zhengtong.audit.models import AuditRecord
from zhengtong.documents.models import Dispatch, Document
from zhengtong.exchange import stats
from zhengtong.exchange.models import Delivery
from zhengtong.org.models import Duty, Region
from zhengtong.org.tests.factories import IdentityFactory, RegionFactory, UnitFactory, duty, make_sysadmin

pytestmark = pytest.mark.django_db

OCTOBER = stats.Period(date(2026, 10, 1), date(2026, 11, 1))
NOW = "2026-10-20 10:00"  # a Tuesday; every clock in these tests is frozen here


def at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text), timezone.get_default_timezone())


@pytest.fixture
def frozen(monkeypatch):
    """timezone.now() is NOW for the API (the service takes `now=` directly)."""
    monkeypatch.setattr(timezone, "now", lambda: at(NOW))
    return at(NOW)


class City:
    """示范市: its government, the government's office, 教育局, 财政局; 青川县 below with its government and office."""

    def __init__(self):
        city = RegionFactory(code="990100", name="示范市", level=Region.Level.CITY)
        county = RegionFactory(code="990121", name="青川县", level=Region.Level.COUNTY, parent=city)
        self.gov = UnitFactory(name="示范市人民政府", region=city, kind="government", order=1)
        self.office = UnitFactory(name="示范市人民政府办公室", region=city, parent=self.gov, order=2)
        self.education = UnitFactory(name="示范市教育局", region=city, parent=self.gov, order=3)
        self.finance = UnitFactory(name="示范市财政局", region=city, parent=self.gov, order=4)
        # named like an office but of another body: no oversight
        self.cyber = UnitFactory(name="示范市人民政府网络安全办公室", region=city, parent=self.gov, order=5)
        self.county_gov = UnitFactory(name="青川县人民政府", region=county, kind="government", parent=self.gov)
        self.county_office = UnitFactory(name="青川县人民政府办公室", region=county, parent=self.county_gov)
        self.people = {}
        for key, unit, code in [
            ("office_clerk", self.office, Duty.DOC_CLERK), ("office_staff", self.office, Duty.CLERK),
            ("mayor", self.gov, Duty.PRINCIPAL), ("edu_clerk", self.education, Duty.DOC_CLERK),
            ("edu_head", self.education, Duty.PRINCIPAL), ("edu_staff", self.education, Duty.CLERK),
            ("edu_admin", self.education, Duty.UNIT_ADMIN), ("fin_clerk", self.finance, Duty.DOC_CLERK),
            ("county_clerk", self.county_office, Duty.DOC_CLERK), ("cyber_clerk", self.cyber, Duty.DOC_CLERK),
        ]:
            self.people[key] = IdentityFactory(unit=unit, duty=duty(code))

    def user(self, key: str):
        return self.people[key].person.user

    def deliver(self, sender, unit, delivered: str, *, signed: str | None = None, status: str | None = None,
                document: Document | None = None) -> Delivery:
        """One delivery (with the 核发 record and, unless given, the document it carries)."""
        clerk = self.people["office_clerk"]
        if document is None:
            document = Document.objects.create(direction="outgoing", doc_kind="通知", unit=sender, drafter=clerk,
                                               title="关于测试的通知", status="dispatched")
        dispatch = Dispatch.objects.create(document=document, unit=unit, kind="main", dispatched_by=clerk,
                                           dispatched_at=at(delivered))
        status = status or (Delivery.Status.SIGNED if signed else Delivery.Status.PENDING)
        extra = {}
        if status == Delivery.Status.REFUSED:
            extra = {"refused_at": at(delivered), "reason": "文种有误"}
        elif status == Delivery.Status.RECALLED:
            extra = {"recalled_at": at(delivered)}
        return Delivery.objects.create(dispatch=dispatch, document=document, sender_unit=sender, unit=unit,
                                       kind="main", status=status, delivered_at=at(delivered),
                                       signed_at=at(signed) if signed else None, **extra)


@pytest.fixture
def city():
    return City()


def row(report: stats.Report, unit) -> dict:
    [found] = [r.as_dict() for r in report.rows if r.unit.pk == unit.pk]
    return found


def report(city, key="office_clerk", **kwargs) -> stats.Report:
    return stats.unit_statistics(city.user(key), OCTOBER, now=at(NOW), **kwargs)


# --- figures and the score --------------------------------------------------------------------------------------

def test_time_to_sign_counts_working_hours_across_a_night_a_weekend_and_a_holiday(city):
    office, edu = city.office, city.education
    city.deliver(office, edu, "2026-10-12 16:30", signed="2026-10-13 09:30")  # a night: 2 h
    city.deliver(office, edu, "2026-10-16 17:00", signed="2026-10-19 09:00")  # a weekend: 1 h
    city.deliver(office, edu, "2026-09-30 17:00", signed="2026-10-08 09:00")  # 国庆 — delivered in September
    city.deliver(office, edu, "2026-10-09 17:00", signed="2026-10-12 11:30")  # 0.5 + makeup Saturday 7 + 3 h
    edu_row = row(report(city, "edu_clerk"), edu)
    assert edu_row["received"] == edu_row["signed"] == 3  # the September delivery is outside the period
    assert edu_row["median_minutes"] == 120 and edu_row["p90_minutes"] == 630
    assert (edu_row["on_time"], edu_row["overdue"], edu_row["overdue_signed"]) == (2, 1, 1)

    september = stats.Period(date(2026, 9, 1), date(2026, 10, 1))
    holiday = stats.unit_statistics(city.user("edu_clerk"), september, now=at(NOW)).rows[0].as_dict()
    assert holiday["median_minutes"] == 60 and holiday["on_time"] == 1  # 1 Oct – 7 Oct not counted


def test_timeliness_score_formula(city):
    office, edu = city.office, city.education
    city.deliver(office, edu, "2026-10-12 09:00", signed="2026-10-12 11:00")  # 2 h: on time, 1.0
    city.deliver(office, edu, "2026-10-12 09:00", signed="2026-10-12 16:00")  # 5 h: within a working day, 0.6
    city.deliver(office, edu, "2026-10-12 09:00", signed="2026-10-14 09:00")  # 6.5 + 7 + 0.5 h: later, 0.3
    city.deliver(office, edu, "2026-10-16 09:00")  # pending for 15 working hours now: overdue, 0
    city.deliver(office, edu, "2026-10-20 08:00")  # pending, inside its 4 hours: not judged yet
    city.deliver(office, edu, "2026-10-13 09:00", status=Delivery.Status.REFUSED)  # 退文: counted apart
    city.deliver(office, edu, "2026-10-13 09:00", status=Delivery.Status.RECALLED)  # taken back: not received
    figures = row(report(city), edu)
    assert (figures["received"], figures["signed"], figures["pending"], figures["refused"]) == (6, 3, 2, 1)
    assert (figures["assessed"], figures["on_time"], figures["overdue"]) == (4, 1, 3)
    assert (figures["overdue_signed"], figures["overdue_pending"]) == (2, 1)
    assert figures["on_time_share"] == 0.25
    assert figures["score"] == 47.5  # 100 × (1.0 + 0.6 + 0.3 + 0) / 4
    assert figures["median_minutes"] == 300 and figures["p90_minutes"] == 840

    sender = row(report(city), office)
    assert (sender["sent_documents"], sender["sent"], sender["sent_refused"], sender["sent_recalled"]) == (7, 7, 1, 1)
    assert sender["received"] == 0 and sender["score"] is None  # nothing to judge: no score, not 0 or 100


def test_a_unit_that_signs_everything_promptly_scores_100_and_the_total_pools_deliveries(city):
    office, edu, fin = city.office, city.education, city.finance
    document = city.deliver(office, edu, "2026-10-12 09:00", signed="2026-10-12 09:30").document
    city.deliver(office, fin, "2026-10-12 09:00", signed="2026-10-12 10:00", document=document)
    city.deliver(office, fin, "2026-10-12 09:00", signed="2026-10-13 09:00")  # 7 h: 0.6
    full = report(city)
    assert row(full, edu)["score"] == 100.0
    assert row(full, fin)["score"] == 80.0
    assert row(full, office)["sent_documents"] == 2 and row(full, office)["sent"] == 3
    total = full.total.as_dict()
    assert (total["received"], total["signed"], total["sent"], total["sent_documents"]) == (3, 3, 3, 2)
    assert total["median_minutes"] == 60 and total["score"] == round(100 * 2.6 / 3, 1)


@override_settings(EXCHANGE_SIGN_LIMIT_HOURS=8, OFFICE_HOURS="09:00-17:00")
def test_the_limit_and_the_office_hours_are_settings(city):
    city.deliver(city.office, city.education, "2026-10-12 09:00", signed="2026-10-12 16:00")  # 7 h of 8
    result = report(city)
    assert row(result, city.education)["on_time"] == 1
    assert (result.limit_hours, result.office_hours) == (8, "09:00–17:00")


def test_the_period_is_whole_local_days_to_exclusive(city):
    city.deliver(city.office, city.education, "2026-10-31 23:59", signed="2026-11-02 09:00")
    city.deliver(city.office, city.education, "2026-11-01 00:00", signed="2026-11-02 09:00")
    assert row(report(city), city.education)["received"] == 1


# --- the period and the unit as given -------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, message", [
    ("2026-13-01", "", "格式"), ("2026-10-31", "2026-10-01", "早于"), ("2025-01-01", "2026-10-01", "366"),
    ("2026-10-01", "2026-10-01", "早于"), ("yesterday", "", "格式"), ("0001-01-01", "0001-02-01", "2000"),
])
def test_a_bad_period_has_a_stable_code(start, end, message):
    with pytest.raises(stats.ServiceError) as caught:
        stats.parse_period(start, end, today=date(2026, 10, 20))
    assert caught.value.code == "exchange.invalid_period" and message in caught.value.message


def test_period_defaults_to_this_month_so_far():
    assert stats.parse_period("", "", today=date(2026, 10, 20)) == stats.Period(date(2026, 10, 1), date(2026, 10, 21))
    assert stats.parse_period("", "2026-10-01", today=date(2026, 10, 20)) == stats.Period(date(2026, 9, 1),
                                                                                           date(2026, 10, 1))
    assert OCTOBER.label() == "2026年10月1日至2026年10月31日"


# --- who may see which units ------------------------------------------------------------------------------------

def units_seen(city, key) -> set[str]:
    return {r.unit.name for r in report(city, key).rows}


def test_own_unit_for_its_clerk_leader_and_administrator(city):
    for key in ("edu_clerk", "edu_head", "edu_admin"):
        assert units_seen(city, key) == {"示范市教育局"}


def test_the_office_of_the_government_sees_every_unit_of_its_region_and_below(city):
    everything = {"示范市人民政府", "示范市人民政府办公室", "示范市教育局", "示范市财政局", "示范市人民政府网络安全办公室",
                  "青川县人民政府", "青川县人民政府办公室"}
    assert units_seen(city, "office_clerk") == everything
    assert units_seen(city, "mayor") == everything  # the body's own leaders see what its office sees
    assert units_seen(city, "county_clerk") == {"青川县人民政府", "青川县人民政府办公室"}
    assert units_seen(city, "cyber_clerk") == {"示范市人民政府网络安全办公室"}  # not the government's 办公室


def test_others_may_not(city):
    for user in (city.user("edu_staff"), city.user("office_staff"), make_sysadmin()):
        with pytest.raises(stats.Forbidden) as caught:
            stats.unit_statistics(user, OCTOBER, now=at(NOW))
        assert caught.value.code == "exchange.statistics_forbidden"
    with pytest.raises(stats.Forbidden):
        report(city, "edu_clerk", unit_id=city.finance.pk)
    with pytest.raises(stats.Forbidden):
        report(city, "county_clerk", unit_id=city.education.pk)
    assert [r.unit for r in report(city, "office_clerk", unit_id=city.finance.pk).rows] == [city.finance]


def test_an_inactive_unit_is_listed_only_with_deliveries(city):
    city.finance.active = False
    city.finance.save()
    assert "示范市财政局" not in units_seen(city, "office_clerk")
    city.deliver(city.office, city.finance, "2026-10-12 09:00")
    assert "示范市财政局" in units_seen(city, "office_clerk")


# --- the API ---------------------------------------------------------------------------------------------------

def test_api_statistics_json(client, city, frozen):
    city.deliver(city.office, city.education, "2026-10-12 09:00", signed="2026-10-12 11:00")
    client.force_login(city.user("office_clerk"))
    response = client.get("/api/v1/exchange/statistics", {"from": "2026-10-01", "to": "2026-11-01"})
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert (body["from"], body["to"], body["period"]) == ("2026-10-01", "2026-11-01", "2026年10月1日至2026年10月31日")
    assert body["office_hours"] == "08:30–12:00、14:00–17:30" and body["limit_hours"] == 4
    edu = next(u for u in body["units"] if u["unit_id"] == city.education.pk)
    assert (edu["received"], edu["signed"], edu["median_minutes"], edu["score"]) == (1, 1, 120, 100)
    assert body["total"]["sent"] == 1

    only = client.get("/api/v1/exchange/statistics", {"unit": city.education.pk}).json()  # this month so far
    assert [u["unit"] for u in only["units"]] == ["示范市教育局"] and only["from"] == "2026-10-01"
    assert only["to"] == "2026-10-21"


@pytest.mark.parametrize("query, status, code", [
    ({"from": "2026-10-32"}, 400, "exchange.invalid_period"),
    ({"from": "2026-11-01", "to": "2026-10-01"}, 400, "exchange.invalid_period"),
    ({"unit": "教育局"}, 400, "exchange.invalid_unit"),
    ({"unit": "999999"}, 404, "exchange.unit_not_found"),
])
def test_api_bad_input_has_stable_codes(client, city, frozen, query, status, code):
    client.force_login(city.user("edu_clerk"))
    for path in ("statistics", "statistics.xlsx"):
        response = client.get(f"/api/v1/exchange/{path}", query)
        assert (response.status_code, response.json()["code"]) == (status, code)


def test_api_forbidden(client, city, frozen):
    client.force_login(city.user("edu_staff"))
    response = client.get("/api/v1/exchange/statistics")
    assert response.status_code == 403 and response.json()["code"] == "exchange.statistics_forbidden"
    client.force_login(city.user("edu_clerk"))
    for path in ("statistics", "statistics.xlsx"):
        response = client.get(f"/api/v1/exchange/{path}", {"unit": city.finance.pk})
        assert response.status_code == 403 and response.json()["code"] == "exchange.statistics_forbidden"
    assert AuditRecord.objects.filter(action="api.forbidden").count() == 3
    client.logout()
    assert client.get("/api/v1/exchange/statistics").status_code == 401


def test_api_xlsx_has_the_period_in_the_title_a_row_per_unit_and_a_total(client, city, frozen):
    office, edu, fin = city.office, city.education, city.finance
    city.deliver(office, edu, "2026-10-12 09:00", signed="2026-10-12 11:00")  # 2 h
    city.deliver(office, edu, "2026-10-12 09:00", signed="2026-10-12 16:00")  # 5 h
    city.deliver(office, fin, "2026-10-16 09:00")  # overdue
    city.deliver(edu, office, "2026-10-13 09:00", status=Delivery.Status.REFUSED)
    fin.name = "=HYPERLINK(\"http://x\")"  # a hostile name stays text
    fin.save()
    client.force_login(city.user("office_clerk"))
    response = client.get("/api/v1/exchange/statistics.xlsx", {"from": "2026-10-01", "to": "2026-11-01"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''%E6%94%B6%E5%8F%91%E7%BB%9F%E8%AE%A1-20261001-20261031.xlsx" in (
        response["Content-Disposition"])

    book = load_workbook(io.BytesIO(response.content))
    sheet = book["收发统计"]
    assert sheet["A1"].value == "公文交换收发统计（2026年10月1日至2026年10月31日）"
    headers = [c.value for c in sheet[3]]
    assert headers[:6] == ["单位", "发文（件）", "发出（份）", "被退文（份）", "撤回（份）", "收文（份）"]
    assert headers[9:] == ["签收用时中位数（工作小时）", "签收用时P90（工作小时）", "4个工作小时内签收", "及时签收率",
                           "超时（份）", "及时性得分"]
    rows = {r[0].value: [c.value for c in r[1:]] for r in sheet.iter_rows(min_row=4)}
    assert list(rows)[-1] == "合计" and len(rows) == 7 + 1  # seven units, then the total
    assert rows["示范市教育局"] == [1, 1, 1, 0, 2, 2, 0, 0, 3.5, 5, 1, 0.5, 1, 80]
    assert rows["示范市人民政府办公室"] == [3, 3, 0, 0, 1, 0, 0, 1, None, None, 0, None, 0, None]
    assert rows[fin.name][4:8] == [1, 0, 1, 0] and rows[fin.name][13] == 0
    assert rows["合计"] == [4, 4, 1, 0, 4, 2, 1, 1, 3.5, 5, 1, round(1 / 3, 4), 2, round(100 * 1.6 / 3, 1)]
    total_row = sheet.max_row
    assert sheet.cell(total_row, 13).number_format == "0.0%" and sheet.cell(total_row, 10).number_format == "0.00"
    assert sheet.cell(total_row, 1).font.bold
    assert next(r for r in sheet.iter_rows(min_row=4) if r[0].value == fin.name)[0].data_type == "s"
    notes = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert "1个工作日内签收 0.6 分" in notes["及时性得分"]
    assert AuditRecord.objects.filter(action="exchange.statistics_exported").count() == 1


def test_openapi_lists_the_statistics_contract(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/exchange/statistics", "/api/v1/exchange/statistics.xlsx"):
        operation = paths[path]["get"]
        assert [p["name"] for p in operation["parameters"]] == ["from", "to", "unit"]
        assert {"200", "400", "403", "404"} <= set(operation["responses"])
