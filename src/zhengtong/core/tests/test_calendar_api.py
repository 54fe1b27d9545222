"""Calendar API contract: /api/v1/calendar/… (issue 2 §7, R8)."""
from __future__ import annotations

import pytest

from zhengtong.accounts.tests.factories import ApiTokenFactory, UserFactory
from zhengtong.core.crypto import token_digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    ApiTokenFactory(user=UserFactory(), digest=token_digest("calendar-test-token"))

    def get(path, **params):
        return client.get(f"/api/v1/calendar/{path}", params, HTTP_AUTHORIZATION="Bearer calendar-test-token")

    return get


def test_r8_1_add_working_days_contract(api):
    response = api("add-working-days", start="2026-02-13", days=1)
    assert response.status_code == 200
    assert response.json() == {"date": "2026-02-14"}
    assert api("add-working-days", start="2026-09-30", days=3).json() == {"date": "2026-10-10"}
    assert api("add-working-days", start="2026-02-24", days=-1).json() == {"date": "2026-02-14"}


def test_r8_2_add_working_days_into_2027_is_a_400_with_code(api):
    response = api("add-working-days", start="2027-02-01", days=3)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "calendar.year_missing"
    assert "2027" in body["message"]


@pytest.mark.parametrize("params", [
    {"start": "2026-02-30", "days": 1},
    {"start": "13/02/2026", "days": 1},
    {"start": "2026-02-13", "days": "x"},
    {"start": "2026-02-13", "days": 99999},
    {"days": 1},
    {"start": "2026-02-13"},
])
def test_bad_input_is_422_with_code(api, params):
    response = api("add-working-days", **params)
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"
    assert response.json()["message"]


def test_working_days_between(api):
    assert api("working-days-between", start="2026-02-13", end="2026-02-24").json() == {"days": 2}
    assert api("working-days-between", start="2026-02-24", end="2026-02-13").json() == {"days": -2}
    assert api("working-days-between", start="2026-12-01", end="2027-01-10").status_code == 400


def test_is_working_day(api):
    assert api("is-working-day", date="2026-02-14").json() == {
        "date": "2026-02-14", "working": True, "kind": "makeup", "name": "春节"}
    assert api("is-working-day", date="2026-10-01").json()["name"] == "国庆节"
    assert api("is-working-day", date="2026-03-09").json() == {
        "date": "2026-03-09", "working": True, "kind": "workday", "name": None}
    assert api("is-working-day", date="2027-03-01").json()["code"] == "calendar.year_missing"


def test_unauthenticated_is_401(client):
    response = client.get("/api/v1/calendar/add-working-days", {"start": "2026-02-13", "days": 1})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required"


def test_session_user_may_call(client):
    client.force_login(UserFactory())
    response = client.get("/api/v1/calendar/add-working-days", {"start": "2026-02-13", "days": 1})
    assert response.json() == {"date": "2026-02-14"}


def test_calendar_paths_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for name in ("add-working-days", "working-days-between", "is-working-day"):
        assert f"/api/v1/calendar/{name}" in paths
