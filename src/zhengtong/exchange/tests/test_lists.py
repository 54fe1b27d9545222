"""分发名单 (issue #5 §1): the built-in lists follow the organisation; a unit's 收发员 keeps its own lists; nobody
else can touch them."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from zhengtong.audit.models import AuditRecord
from zhengtong.documents.tests.test_api_demo_path import login
from zhengtong.org.models import Region, Unit

from .support import clerk_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)


def lists(client):
    response = client.get("/api/v1/exchange/distribution-lists")
    assert response.status_code == 200, response.content.decode()
    return {x["name"]: x for x in response.json()}


def test_builtin_lists_follow_the_organisation(client, city):
    login(client, "bgs.sfy")
    found = lists(client)
    counties = Unit.objects.filter(kind="government", region__level=Region.Level.COUNTY, active=True)
    assert set(found["各县区人民政府"]["unit_ids"]) == set(counties.values_list("pk", flat=True)) != set()
    departments = found["市直各部门"]["unit_ids"]
    assert clerk_unit("jyj.sfy").pk in departments and found["市直各部门"]["builtin"] is True
    county = counties.first()
    county.active = False
    county.save(update_fields=["active"])
    assert county.pk not in lists(client)["各县区人民政府"]["unit_ids"]


def test_a_clerk_saves_renames_and_deletes_a_list_of_the_unit(client, city):
    sfy = login(client, "bgs.sfy")
    office = clerk_unit("bgs.sfy")
    education, county = clerk_unit("jyj.sfy"), clerk_unit("xian1.sfy")
    created = client.post("/api/v1/exchange/distribution-lists",
                          {"unit": office.pk, "name": "教育系统", "units": [education.pk, county.pk]},
                          content_type="application/json")
    assert created.status_code == 201, created.content.decode()
    key = created.json()["key"]
    assert lists(client)["教育系统"]["unit_ids"] == sorted([education.pk, county.pk])
    twice = client.post("/api/v1/exchange/distribution-lists", {"unit": office.pk, "name": "教育系统",
                                                                "units": [education.pk]},
                        content_type="application/json")
    assert twice.status_code == 409 and twice.json()["code"] == "exchange.list_exists"
    bad = client.post("/api/v1/exchange/distribution-lists", {"unit": office.pk, "name": "空", "units": [999999]},
                      content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "exchange.invalid_unit"
    list_id = int(key.split(":")[1])
    renamed = client.put(f"/api/v1/exchange/distribution-lists/{list_id}",
                         {"unit": office.pk, "name": "教育系统各单位", "units": [education.pk]},
                         content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["unit_ids"] == [education.pk]
    # another unit's 收发员 neither sees nor changes it
    login(client, "jyj.sfy")
    assert "教育系统各单位" not in lists(client)
    assert client.delete(f"/api/v1/exchange/distribution-lists/{list_id}").status_code == 404
    login(client, "bgs.keyuan")  # same unit, but neither 收发员 nor 单位系统管理员
    assert client.delete(f"/api/v1/exchange/distribution-lists/{list_id}").status_code == 404
    login(client, "bgs.sfy")
    assert client.delete(f"/api/v1/exchange/distribution-lists/{list_id}").status_code == 204
    assert "教育系统各单位" not in lists(client)
    actions = set(AuditRecord.objects.filter(action__startswith="exchange.list_").values_list("action", flat=True))
    assert actions == {"exchange.list_saved", "exchange.list_deleted"} and sfy is not None
