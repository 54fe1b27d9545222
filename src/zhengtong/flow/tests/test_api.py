"""The public contract of /api/v1/process-definitions (issue #3 §6)."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengtong.accounts.tests.factories import ApiTokenFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.crypto import token_digest
from zhengtong.flow.models import ProcessDefinition
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, make_sysadmin, make_unit_admin

from .factories import SIMPLE, ProcessDefinitionFactory, bpmn, task

pytestmark = pytest.mark.django_db
URL = "/api/v1/process-definitions"


def auth(user) -> dict:
    ApiTokenFactory(user=user, digest=token_digest("flow-test-token"))
    return {"HTTP_AUTHORIZATION": "Bearer flow-test-token"}


def post(client, user, xml=SIMPLE, **fields):
    data = {"business_type": "sign_report", "name": "签报流程",
            "file": SimpleUploadedFile("flow.bpmn", xml.encode() if isinstance(xml, str) else xml,
                                       content_type="application/xml"), **fields}
    client.force_login(user)
    return client.post(URL, data)


def test_upload_201_with_id_version_status(client):
    response = post(client, make_sysadmin())
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "version", "status"}
    assert (body["version"], body["status"]) == (1, "draft")
    assert ProcessDefinition.objects.get(pk=body["id"]).unit is None


def test_upload_with_a_bearer_token_for_a_unit(client):
    unit = UnitFactory()
    admin = make_unit_admin(unit)
    data = {"business_type": "dispatch", "unit": str(unit.pk),
            "file": SimpleUploadedFile("flow.bpmn", SIMPLE.encode())}
    response = client.post(URL, data, **auth(admin))
    assert response.status_code == 201, response.content
    assert ProcessDefinition.objects.get(pk=response.json()["id"]).unit == unit


def test_invalid_upload_400_lists_every_problem_at_the_top_level_and_saves_nothing(client):
    xml = bpmn(task("a", ext=""), extra='<bpmn:scriptTask id="s1"/>')
    response = post(client, make_sysadmin(), xml)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "flow.invalid_definition" and "未保存" in body["message"]
    assert {(p["kind"], p["element_id"]) for p in body["problems"]} == {("assignment_missing", "a"),
                                                                        ("unsupported", "s1")}
    assert all(set(p) == {"element_id", "kind", "message"} for p in body["problems"])
    assert not ProcessDefinition.objects.exists()


def test_invalid_xml_400(client):
    response = post(client, make_sysadmin(), b"not xml at all")
    assert response.status_code == 400
    assert response.json()["problems"][0]["kind"] == "invalid_xml"


def test_upload_403_for_another_unit_and_404_for_a_missing_unit(client):
    unit, other = UnitFactory(), UnitFactory()
    admin = make_unit_admin(unit)
    response = post(client, admin, unit=str(other.pk))
    assert response.status_code == 403 and response.json()["code"] == "permission.denied"
    assert post(client, admin, unit="987654").status_code == 403
    assert post(client, make_sysadmin(), unit="987654").status_code == 404
    assert AuditRecord.objects.filter(action="api.forbidden").exists()
    assert not ProcessDefinition.objects.exists()


def test_upload_requires_authentication(client):
    response = client.post(URL, {"business_type": "dispatch", "file": SimpleUploadedFile("f.bpmn", SIMPLE.encode())})
    assert response.status_code == 401 and response.json()["code"] == "auth.required"


def test_list_filters_by_business_type_and_shows_only_administered_units(client):
    unit, other = UnitFactory(), UnitFactory()
    mine = ProcessDefinitionFactory(unit=unit, business_type="dispatch")
    ProcessDefinitionFactory(unit=unit, business_type="receipt")
    ProcessDefinitionFactory(unit=other, business_type="dispatch")
    platform = ProcessDefinitionFactory(unit=None, business_type="dispatch")
    client.force_login(make_unit_admin(unit))
    body = client.get(URL, {"business_type": "dispatch"}).json()
    assert [item["id"] for item in body["items"]] == [mine.pk]
    assert body["items"][0]["business_type_label"] == "发文"
    client.force_login(make_sysadmin())
    ids = {item["id"] for item in client.get(URL, {"business_type": "dispatch"}).json()["items"]}
    assert ids == {mine.pk, platform.pk, ProcessDefinition.objects.get(unit=other).pk}
    assert [i["id"] for i in client.get(URL, {"business_type": "dispatch", "unit": 0}).json()["items"]] == [
        platform.pk]


def test_list_403_for_people_who_administer_nothing(client):
    client.force_login(IdentityFactory().person.user)
    assert client.get(URL).status_code == 403


def test_activate_200_then_409_and_403_for_another_unit(client):
    unit = UnitFactory()
    admin = make_unit_admin(unit)
    definition = ProcessDefinitionFactory(unit=unit)
    client.force_login(admin)
    response = client.post(f"{URL}/{definition.pk}/activate")
    assert response.status_code == 200 and response.json()["status"] == "active"
    again = client.post(f"{URL}/{definition.pk}/activate")
    assert again.status_code == 409 and again.json()["code"] == "flow.already_active"
    foreign = ProcessDefinitionFactory(unit=UnitFactory())
    assert client.post(f"{URL}/{foreign.pk}/activate").status_code == 403
    assert client.post(f"{URL}/999999/activate").status_code == 404


def test_openapi_schema_holds_the_definitions_contract(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths[URL] and "get" in paths[URL]
    assert "post" in paths[URL + "/{definition_id}/activate"]
