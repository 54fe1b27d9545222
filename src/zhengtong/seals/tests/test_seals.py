"""Electronic seals (R7.4): who may keep the CA, issue seals and name holders; 用印 by holders only; keys encrypted at
rest; a sealed PDF verifies; any changed byte, an appended change, a revoked seal or a foreign CA does not."""
from __future__ import annotations

import io
import random

import pytest

from zhengtong.accounts.models import AdminRole, AdminRoleGrant
from zhengtong.accounts.tests.factories import UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.documents.pdf import render
from zhengtong.documents.tests.pdf_samples import notice
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, builtin_duties, duty
from zhengtong.seals import keys, services
from zhengtong.seals.models import PlatformCA, SealUse, UnitSeal

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    builtin_duties()
    secadmin = UserFactory()
    AdminRoleGrant.objects.create(user=secadmin, role=AdminRole.SECURITY)
    unit = UnitFactory()
    clerk = IdentityFactory(unit=unit, duty=duty(Duty.DOC_CLERK))
    admin = IdentityFactory(unit=unit, duty=duty(Duty.UNIT_ADMIN))
    seal = services.create_seal(secadmin, unit)
    services.set_seal_holders(admin.person.user, seal, [clerk.pk])
    result = render(notice(pages=1, signature=[unit.name]))
    return {"secadmin": secadmin, "unit": unit, "clerk": clerk, "admin": admin, "seal": seal, "render": result}


def seal(world) -> bytes:
    box = world["render"].seal_boxes[0]
    return services.seal_pdf(world["clerk"].person.user, world["seal"], world["render"].pdf, page=box.page,
                             box=box.box, reason="示政发〔2026〕3号 用印", reference="documents.document:1")


def test_r7_4_sealed_pdf_verifies_with_who_and_when(world):
    sealed = seal(world)
    result = services.verify_pdf(sealed)
    assert result.valid and result.intact and result.recorded and result.problems == []
    [info] = result.seals
    assert info.unit_name == world["unit"].name and info.trusted and not info.revoked
    assert info.timestamp is not None
    assert SealUse.objects.get().identity == world["clerk"]
    assert AuditRecord.objects.filter(action="seals.sealed").count() == 1


def test_r7_4_any_changed_byte_makes_it_invalid(world):
    sealed = seal(world)
    rng = random.Random(7)
    for _ in range(60):
        position = rng.randrange(len(sealed))
        tampered = bytearray(sealed)
        tampered[position] ^= 1 << rng.randrange(8)
        assert not services.verify_pdf(bytes(tampered)).valid, position


def test_an_appended_change_after_sealing_is_detected(world):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(seal(world)))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 200 50 re f Q")))
    out = io.BytesIO()
    writer.write(out)
    result = services.verify_pdf(out.getvalue())
    assert not result.valid and result.problems


def test_a_revoked_seal_no_longer_verifies(world):
    sealed = seal(world)
    services.revoke_seal(world["secadmin"], world["seal"], reason="印章密钥泄露")
    result = services.verify_pdf(sealed)
    assert not result.valid and result.seals[0].revoked
    with pytest.raises(ServiceError):
        seal(world)


def test_who_may_do_what(world):
    clerk_user, admin_user = world["clerk"].person.user, world["admin"].person.user
    with pytest.raises(Forbidden):
        services.create_seal(admin_user, world["unit"])  # only the 安全保密管理员 issues seals
    other_admin = IdentityFactory(unit=UnitFactory(), duty=duty(Duty.UNIT_ADMIN))
    with pytest.raises(Forbidden):
        services.set_seal_holders(other_admin.person.user, world["seal"], [world["clerk"].pk])
    with pytest.raises(Forbidden):  # the 三员 name no holders either (R7.2)
        services.set_seal_holders(world["secadmin"], world["seal"], [world["clerk"].pk])
    with pytest.raises(ServiceError):  # holders are the unit's own people
        services.set_seal_holders(admin_user, world["seal"], [other_admin.pk])
    box = world["render"].seal_boxes[0]
    with pytest.raises(Forbidden) as exc:
        services.seal_pdf(admin_user, world["seal"], world["render"].pdf, page=0, box=box.box, reason="x",
                          reference="x")
    assert exc.value.code == "seals.not_holder"
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied").count() >= 4
    assert clerk_user is not None


def test_private_keys_are_encrypted_at_rest(world):
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    stored = bytes(UnitSeal.objects.get().key_blob)
    der = keys.decrypt_private_key(stored, f"seal:{world['seal'].serial}")
    assert der not in stored and load_der_private_key(der, None) is not None
    with pytest.raises(Exception):  # noqa: B017 — bound to its row: another seal's id does not decrypt it
        keys.decrypt_private_key(stored, "seal:other")
    ca = PlatformCA.objects.get()
    assert b"PRIVATE KEY" not in bytes(ca.key_blob) and b"PRIVATE KEY" not in bytes(ca.tsa_key_blob)


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n garbage", None])
def test_garbage_is_invalid_not_an_error(world, data):
    if data is None:
        data = seal(world)[:5000]  # truncated
    result = services.verify_pdf(data)
    assert not result.valid and result.problems


def test_a_foreign_ca_is_not_trusted(world):
    sealed = seal(world)
    PlatformCA.objects.update(active=False)
    services.ensure_platform_ca(world["secadmin"])  # another root: the old seals are not its own
    result = services.verify_pdf(sealed)
    assert not result.valid and not result.seals[0].trusted
