"""/api/v1/org: the public contract (issue #2 §7) — people and units by name or pinyin, the lazy tree."""
from __future__ import annotations

import pytest

from zhengtong.accounts.tests.factories import ApiTokenFactory
from zhengtong.core.crypto import token_digest
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, zhangsan):
    """A signed-in ordinary user (张三 himself)."""
    client.force_login(zhangsan.person.user)
    return client


def test_people_by_initials_and_full_pinyin(api, zhangsan, unit, office):
    for q in ("zs", "zhangsan", "张三"):
        body = api.get("/api/v1/org/people", {"q": q}).json()
        assert body == {"items": [{
            "id": zhangsan.person_id, "name": "张三",
            "identities": [{"id": zhangsan.pk, "unit": {"id": unit.pk, "name": "示范市教育局"},
                            "department": {"id": office.pk, "name": "办公室"}, "duty": "科员", "duty_code": "clerk",
                            "title": "科员", "main": True}],
        }]}, q


def test_people_unit_filter_repeatable_and_limit(api, zhangsan, unit, other_unit):
    IdentityFactory(person__name="张思", unit=other_unit)
    assert [p["name"] for p in api.get("/api/v1/org/people", {"q": "zs", "unit": unit.pk}).json()["items"]] == ["张三"]
    both = api.get(f"/api/v1/org/people?q=zs&unit={unit.pk}&unit={other_unit.pk}").json()["items"]
    assert sorted(p["name"] for p in both) == ["张三", "张思"]
    assert len(api.get("/api/v1/org/people", {"q": "zs", "limit": 1}).json()["items"]) == 1


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "  "}, {"q": "z" * 51}, {"q": "zs", "limit": 0},
                                   {"q": "zs", "limit": 51}, {"q": "zs", "unit": "x"}])
def test_bad_query_is_422_request_invalid(api, query):
    response = api.get("/api/v1/org/people", query)
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"
    assert api.get("/api/v1/org/units", query).status_code in (200, 422)


@pytest.mark.parametrize("path", ["/api/v1/org/people?q=zs", "/api/v1/org/units?q=jyj", "/api/v1/org/units/0/children",
                                  "/api/v1/org/units/1"])
def test_r7_1_unauthenticated_is_401(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.json()["code"] == "auth.required"


def test_bearer_token_works(client, zhangsan):
    ApiTokenFactory(user=zhangsan.person.user, digest=token_digest("org-api-token"))
    response = client.get("/api/v1/org/people", {"q": "zs"}, HTTP_AUTHORIZATION="Bearer org-api-token")
    assert response.status_code == 200 and response.json()["items"][0]["name"] == "张三"


def test_units_search(api, unit):
    body = api.get("/api/v1/org/units", {"q": "jyj"}).json()
    assert body == {"items": [{"id": unit.pk, "name": "示范市教育局", "short_name": "市教育局", "kind": "gov_dept",
                               "kind_label": "政府工作部门", "region": "示范市", "parent_id": None}]}
    response = api.get("/api/v1/org/units", {"q": ""})
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"


def test_children_top_level_and_unit(api, unit, other_unit, office, zhangsan, city):
    child = UnitFactory(region=city, parent=unit, name="示范市教育考试院")
    top = api.get("/api/v1/org/units/0/children").json()
    assert top["unit"] is None and top["departments"] == [] and top["identities"] == []
    assert {u["id"]: u["has_children"] for u in top["units"]} == {unit.pk: True, other_unit.pk: False}
    level = api.get(f"/api/v1/org/units/{unit.pk}/children").json()
    assert level["unit"]["id"] == unit.pk and level["unit"]["has_children"] is True
    assert [u["name"] for u in level["units"]] == [child.name]
    assert level["departments"] == [{"id": office.pk, "name": "办公室", "parent_id": None}]
    assert level["identities"] == [{"id": zhangsan.pk, "person_id": zhangsan.person_id, "name": "张三",
                                    "department": {"id": office.pk, "name": "办公室"}, "duty": "科员",
                                    "title": "科员", "main": True}]


def test_unit_detail_and_not_found(api, unit, office):
    body = api.get(f"/api/v1/org/units/{unit.pk}").json()
    assert body["credit_code"] == unit.credit_code and body["departments"] == [
        {"id": office.pk, "name": "办公室", "parent_id": None}]
    for path in ("/api/v1/org/units/999999", "/api/v1/org/units/999999/children"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["code"] == "org.unit_not_found"


def test_openapi_lists_the_org_contract(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/org/people", "/api/v1/org/units", "/api/v1/org/units/{unit_id}/children",
                 "/api/v1/org/units/{unit_id}"):
        assert "get" in paths[path], path
