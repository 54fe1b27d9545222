"""Seals API (issue #4 §5): POST /api/v1/seals/verify and GET /api/v1/seals — stable codes, no 500 on garbage."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengtong.accounts.models import AdminRole, AdminRoleGrant
from zhengtong.accounts.tests.factories import UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty
from zhengtong.seals import services

from .conftest import seal_it

pytestmark = pytest.mark.django_db
URL = "/api/v1/seals"


def upload(client, data: bytes, name="sealed.pdf"):
    return client.post(f"{URL}/verify", {"file": SimpleUploadedFile(name, data, content_type="application/pdf")})


def test_r7_4_verify_a_sealed_pdf(client, world):
    sealed = seal_it(world)
    client.force_login(UserFactory())  # any signed-in user
    response = upload(client, sealed)
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["recorded"] is True and body["problems"] == []
    [seal] = body["seals"]
    assert seal["seal_name"] == "示范市财政局" and seal["unit_name"] == "示范市财政局"
    assert seal["trusted"] is True and seal["revoked"] is False and seal["timestamp"] and seal["sealed_at"]
    assert seal["certificate_serial"] == world["seal"].serial
    assert AuditRecord.objects.filter(action="seals.verified", outcome="success").exists()


def test_r7_4_a_changed_byte_is_invalid_through_the_api(client, world):
    sealed = bytearray(seal_it(world))
    sealed[len(sealed) // 3] ^= 0x01
    client.force_login(UserFactory())
    body = upload(client, bytes(sealed)).json()
    assert body["valid"] is False and body["problems"]


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"", 400, "seals.empty_file"),
    (b"\x89PNG\r\n\x1a\n not a pdf", 400, "seals.not_pdf"),
    (b"hello world", 400, "seals.not_pdf"),
])
def test_garbage_uploads_get_a_code_not_a_500(client, world, data, status, code):
    client.force_login(UserFactory())
    response = upload(client, data)
    assert response.status_code == status and response.json()["code"] == code and response.json()["message"]


@pytest.mark.parametrize("cut", [100, 5000, -200])
def test_a_truncated_or_damaged_pdf_is_reported_invalid(client, world, cut):
    client.force_login(UserFactory())
    response = upload(client, seal_it(world)[:cut])
    assert response.status_code == 200
    assert response.json()["valid"] is False and response.json()["problems"]


def test_a_missing_file_is_422_and_anonymous_is_401(client, world):
    assert client.post(f"{URL}/verify").status_code == 401
    client.force_login(UserFactory())
    response = client.post(f"{URL}/verify")
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"


def test_list_seals_secadmin_all_unit_admin_own_others_403(client, world):
    other = UnitFactory(name="示范市教育局")
    other_admin = IdentityFactory(unit=other, duty=duty(Duty.UNIT_ADMIN))
    services.create_seal(world["secadmin"], other)
    client.force_login(world["secadmin"])
    assert {s["unit"]["name"] for s in client.get(URL).json()["items"]} == {"示范市财政局", "示范市教育局"}
    client.force_login(world["admin"].person.user)
    [mine] = client.get(URL).json()["items"]
    assert mine["unit"]["name"] == "示范市财政局" and mine["status"] == "active"
    assert [h["id"] for h in mine["holders"]] == [world["clerk"].pk]
    client.force_login(other_admin.person.user)
    assert [s["unit"]["name"] for s in client.get(URL).json()["items"]] == ["示范市教育局"]
    sysadmin = UserFactory()
    AdminRoleGrant.objects.create(user=sysadmin, role=AdminRole.SYSTEM)
    for user in (world["clerk"].person.user, sysadmin):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 403 and response.json()["code"] == "seals.forbidden"


def test_openapi_lists_the_seals_contract(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/seals/verify"] and "get" in paths["/api/v1/seals"]
