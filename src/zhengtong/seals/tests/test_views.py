"""Seal pages: verification upload, the secadmin seal register (make, revoke), the unit admin's holders page."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengtong.accounts.tests.factories import UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty
from zhengtong.seals.models import UnitSeal

from .conftest import seal_it

pytestmark = pytest.mark.django_db


def test_r7_4_the_verification_page_shows_who_and_when(client, world):
    sealed = seal_it(world)
    client.force_login(UserFactory())
    assert client.get("/seals/verify/").status_code == 200
    page = client.post("/seals/verify/", {"file": SimpleUploadedFile("a.pdf", sealed)}).content.decode()
    assert "✔ 有效" in page and "示范市财政局" in page and "时间戳" in page and "本平台签发" in page
    tampered = sealed.replace(b"/Reason (", b"/Reason [", 1) if b"/Reason (" in sealed else sealed[:-10]
    page = client.post("/seals/verify/", {"file": SimpleUploadedFile("b.pdf", tampered)}).content.decode()
    assert "✘ 无效" in page
    response = client.post("/seals/verify/", {"file": SimpleUploadedFile("c.txt", b"hello")})
    assert response.status_code == 400 and "只能验证 PDF 文件" in response.content.decode()


def test_the_verification_page_needs_a_login(client):
    assert client.get("/seals/verify/").status_code == 302


def test_r7_2_the_secadmin_makes_and_revokes_seals_in_the_console(client, world):
    unit = UnitFactory(name="示范市教育局")
    client.force_login(world["secadmin"])
    page = client.get("/console/secadmin/seals/").content.decode()
    assert "示范市财政局" in page and "制发印章" in page
    client.post("/console/secadmin/seals/create/", {"unit": unit.pk, "name": "示范市教育局公文专用章"})
    seal = UnitSeal.objects.get(unit=unit)
    assert seal.name == "示范市教育局公文专用章"
    assert client.get(f"/seals/{seal.pk}/image.png")["Content-Type"] == "image/png"
    client.post(f"/console/secadmin/seals/{seal.pk}/revoke/", {"reason": ""})
    assert UnitSeal.objects.get(pk=seal.pk).status == "active"  # a reason is required
    client.post(f"/console/secadmin/seals/{seal.pk}/revoke/", {"reason": "单位更名"})
    assert UnitSeal.objects.get(pk=seal.pk).status == "revoked"


def test_others_cannot_open_the_seal_register(client, world):
    client.force_login(world["admin"].person.user)
    assert client.get("/console/secadmin/seals/").status_code == 403
    response = client.post("/console/secadmin/seals/create/", {"unit": world["unit"].pk})
    assert response.status_code == 403 and UnitSeal.objects.count() == 1
    assert AuditRecord.objects.filter(action="console.denied").count() == 2


def test_the_unit_admin_names_holders_of_the_own_unit(client, world):
    colleague = IdentityFactory(unit=world["unit"], duty=duty(Duty.DOC_CLERK))
    client.force_login(world["admin"].person.user)
    page = client.get("/seals/holders/").content.decode()
    assert world["seal"].name in page and colleague.person.name in page
    client.post(f"/seals/{world['seal'].pk}/holders/", {"holders": [world["clerk"].pk, colleague.pk]})
    assert set(world["seal"].holders.all()) == {world["clerk"], colleague}


def test_nobody_else_names_holders_or_sees_the_image(client, world):
    other_admin = IdentityFactory(unit=UnitFactory(), duty=duty(Duty.UNIT_ADMIN))
    stranger = UserFactory()
    for user in (other_admin.person.user, world["clerk"].person.user, world["secadmin"]):
        client.force_login(user)
        response = client.post(f"/seals/{world['seal'].pk}/holders/", {"holders": []})
        assert response.status_code == 403
    assert list(world["seal"].holders.all()) == [world["clerk"]]
    client.force_login(stranger)
    assert client.get("/seals/holders/").status_code == 403
    assert client.get(f"/seals/{world['seal'].pk}/image.png").status_code == 404
    client.force_login(world["clerk"].person.user)  # a holder sees the seal's image
    assert client.get(f"/seals/{world['seal'].pk}/image.png").status_code == 200
