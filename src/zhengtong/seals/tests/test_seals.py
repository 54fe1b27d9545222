"""Electronic seals (R7.4): who may keep the CA, issue seals and name holders; 用印 by holders only; keys encrypted at
rest; a sealed PDF verifies; any changed byte, an appended change, a revoked seal or a foreign CA does not."""
from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.db import connection, transaction

from zhengtong.accounts.models import AdminRole, AdminRoleGrant
from zhengtong.accounts.tests.factories import UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty
from zhengtong.seals import keys, selectors, services
from zhengtong.seals.models import PlatformCA, SealUse, UnitSeal

from .conftest import seal_it

pytestmark = pytest.mark.django_db


def test_r7_4_sealed_pdf_verifies_with_who_and_when(world):
    sealed = seal_it(world)
    result = services.verify_pdf(sealed)
    assert result.valid and result.intact and result.recorded and result.problems == []
    [info] = result.seals
    assert info.unit_name == "示范市财政局" and info.seal_name == "示范市财政局" and info.trusted and not info.revoked
    assert info.timestamp is not None and abs(info.timestamp - info.sealed_at) < dt.timedelta(minutes=1)
    assert info.certificate_serial == world["seal"].serial
    use = SealUse.objects.get()
    assert use.identity == world["clerk"] and use.reference == "documents.document:1" and use.sha256 == result.sha256
    assert AuditRecord.objects.filter(action="seals.sealed", outcome="success").count() == 1


def test_r7_4_the_seal_is_visible_on_its_page_and_the_certificate_names_the_unit(world):
    from cryptography import x509
    from pyhanko.pdf_utils.reader import PdfFileReader

    sealed = seal_it(world)
    reader = PdfFileReader(io.BytesIO(sealed))
    [sig] = reader.embedded_signatures
    widget = sig.sig_field["/Kids"][0].get_object() if "/Kids" in sig.sig_field else sig.sig_field
    assert [round(float(v)) for v in widget["/Rect"]] == [round(v) for v in world["box"]]
    assert widget["/P"].get_object() == reader.root["/Pages"]["/Kids"][world["page"]].get_object()
    appearance = widget["/AP"]["/N"].get_object()
    assert "/Image" in str(appearance["/Resources"]["/XObject"][next(iter(appearance["/Resources"]["/XObject"]))]
                           .get_object()["/Subtype"])
    cert = x509.load_pem_x509_certificate(world["seal"].certificate_pem.encode())
    names = {a.oid._name: a.value for a in cert.subject}
    assert names["commonName"] == "示范市财政局" and names["organizationalUnitName"] == "示范市财政局"


def test_r7_4_any_changed_byte_makes_it_invalid(world):
    """200 random single-bit flips anywhere in the file, plus one inside /Contents: none verifies."""
    sealed = seal_it(world)
    rng = random.Random(4)
    positions = [rng.randrange(len(sealed)) for _ in range(200)]
    contents = sealed.index(b"/Contents <") + len(b"/Contents <")
    positions += [contents + 10, contents + 5000]  # in the CMS, and in its zero padding
    for position in positions:
        tampered = bytearray(sealed)
        tampered[position] ^= 1 << rng.randrange(8)
        result = services.verify_pdf(bytes(tampered))
        assert not result.valid and result.problems, position


def test_r7_4_an_appended_change_to_the_page_is_detected(world):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(seal_it(world)))
    stream = writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 200 50 re f Q"))
    writer.add_stream_to_page(0, stream)
    out = io.BytesIO()
    writer.write(out)
    result = services.verify_pdf(out.getvalue())
    assert not result.valid and result.seals[0].intact  # the signed bytes are intact: only the update is caught
    assert "用印后文件被追加或改动" in result.problems


def test_r7_4_a_revoked_seal_no_longer_verifies_nor_seals(world):
    sealed = seal_it(world)
    services.revoke_seal(world["secadmin"], world["seal"], "印章密钥泄露")
    result = services.verify_pdf(sealed)
    assert not result.valid and result.seals[0].revoked and "印章已被吊销" in result.problems
    with pytest.raises(Conflict) as exc:
        seal_it(world)
    assert exc.value.code == "seals.seal_inactive"
    assert AuditRecord.objects.filter(action="seals.use_refused", outcome="denied").exists()
    assert selectors.seals_for(world["clerk"]) == [] and selectors.unit_seal(world["unit"]) is None
    with pytest.raises(Conflict):
        services.revoke_seal(world["secadmin"], world["seal"], "again")


def test_r7_4_a_pdf_signed_under_a_foreign_self_made_ca_is_not_trusted(world):
    """Someone makes their own root and a certificate with our unit's name and signs with pyHanko: not ours."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from zhengtong.seals import pki
    from zhengtong.seals.pdfsign import off_loop

    now = dt.datetime.now(dt.UTC)
    root_key, root = pki.make_root("冒牌平台", now)
    key = pki.make_seal_key()
    cert = pki.issue(root_key, root, key.public_key(), pki.name("示范市财政局", "示范市财政局"), now, years=1)
    der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    signer = signers.SimpleSigner(
        signing_cert=der(cert), cert_registry=SimpleCertificateStore.from_certs([der(root)]),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())))
    # off_loop: a browser test earlier in this worker leaves Playwright's event loop running in this thread
    forged = off_loop(lambda: signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(world["pdf"])),
                                               signers.PdfSignatureMetadata(field_name="Seal-1"),
                                               signer=signer).getvalue())
    result = services.verify_pdf(forged)
    assert not result.valid and not result.seals[0].trusted and result.seals[0].unit_name == ""
    assert "印章证书不是本平台签发的" in result.problems and "文件中夹带了其他根证书" in result.problems


def test_a_new_platform_root_does_not_trust_the_old_one(world):
    sealed = seal_it(world)
    PlatformCA.objects.update(active=False)
    services.ensure_platform_ca(world["secadmin"])
    result = services.verify_pdf(sealed)
    assert not result.valid and not result.seals[0].trusted


def test_r7_2_only_the_secadmin_keeps_the_ca_and_issues_seals(world):
    sysadmin = UserFactory()
    AdminRoleGrant.objects.create(user=sysadmin, role=AdminRole.SYSTEM)
    for actor in (world["admin"].person.user, world["clerk"].person.user, sysadmin):
        with pytest.raises(Forbidden):
            services.create_seal(actor, world["unit"])
        with pytest.raises(Forbidden):
            services.revoke_seal(actor, world["seal"], "x")
        with pytest.raises(Forbidden):
            services.ensure_platform_ca(actor)
    assert UnitSeal.objects.count() == 1
    with pytest.raises(ServiceError) as exc:  # R1.2: the seal carries the unit's name
        services.create_seal(world["secadmin"], world["unit"], "示范市教育局")
    assert exc.value.code == "seals.name_mismatch"
    special = services.create_seal(world["secadmin"], world["unit"], "示范市财政局公文专用章")
    assert special.name == "示范市财政局公文专用章"
    assert services.split_name(world["unit"], special.name) == ("示范市财政局", "公文专用章")


def test_only_the_units_own_admin_names_holders_of_that_unit(world):
    other_unit = UnitFactory()
    other_admin = IdentityFactory(unit=other_unit, duty=duty(Duty.UNIT_ADMIN))
    stranger = IdentityFactory(unit=other_unit, duty=duty(Duty.DOC_CLERK))
    with pytest.raises(Forbidden):
        services.set_seal_holders(other_admin.person.user, world["seal"], [world["clerk"].pk])
    with pytest.raises(Forbidden):  # the 三员 name no holders either (R7.2)
        services.set_seal_holders(world["secadmin"], world["seal"], [world["clerk"].pk])
    with pytest.raises(Forbidden):
        services.set_seal_holders(world["clerk"].person.user, world["seal"], [world["clerk"].pk])
    with pytest.raises(ServiceError) as exc:  # holders are the unit's own people
        services.set_seal_holders(world["admin"].person.user, world["seal"], [stranger.pk])
    assert exc.value.code == "seals.invalid_identity"
    with pytest.raises(ServiceError):
        services.set_seal_holders(world["admin"].person.user, world["seal"], ["x"])
    assert list(world["seal"].holders.all()) == [world["clerk"]]
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied").count() >= 3
    change = AuditRecord.objects.filter(action="seals.holders_set").latest("pk")
    assert change.changes == {"holders": [[], [world["clerk"].pk]]}


def test_a_non_holder_and_the_three_admins_cannot_seal_and_it_is_audited(world):
    colleague = IdentityFactory(unit=world["unit"], duty=duty(Duty.DOC_CLERK))
    secadmin_with_post = world["secadmin"]
    for actor in (world["admin"].person.user, colleague.person.user, secadmin_with_post):
        before = AuditRecord.objects.filter(action="permission.denied").count()
        with pytest.raises(Forbidden) as exc:
            services.seal_pdf(actor, world["seal"], world["pdf"], page=world["page"], box=world["box"], reason="x",
                              reference="x")
        assert exc.value.code == "seals.not_holder"
        assert AuditRecord.objects.filter(action="permission.denied").count() == before + 1
    # a holder who is also one of the 三员 still may not (R7.2)
    AdminRoleGrant.objects.create(user=world["clerk"].person.user, role=AdminRole.AUDITOR)
    user = type(world["clerk"].person.user).objects.get(pk=world["clerk"].person.user.pk)
    with pytest.raises(Forbidden):
        services.seal_pdf(user, world["seal"], world["pdf"], page=world["page"], box=world["box"], reason="x",
                          reference="x")
    assert not SealUse.objects.exists()


def test_sealing_inside_a_rolled_back_transaction_leaves_no_record(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        sealed = seal_it(world)
        raise RuntimeError("the document step failed")
    assert not SealUse.objects.exists()
    assert not services.verify_pdf(sealed).valid  # an unrecorded file does not verify


def test_a_broken_pdf_or_a_missing_page_is_refused_with_a_code(world):
    for pdf, page in ((b"%PDF-1.7 broken", 0), (world["pdf"], 9), (b"hello", 0)):
        with pytest.raises(ServiceError) as exc:
            services.seal_pdf(world["clerk"].person.user, world["seal"], pdf, page=page, box=world["box"],
                              reason="x", reference="x")
        assert exc.value.code == "seals.pdf_invalid"


def test_r7_3_private_keys_are_encrypted_at_rest(world):
    """The PKCS#8 bytes of the seal, root and TSA keys never appear in the database in clear."""
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    seal, ca = UnitSeal.objects.get(), PlatformCA.objects.get()
    root_serial = services.pki.load(ca.certificate_pem).serial_number
    tsa_serial = services.pki.load(ca.tsa_certificate_pem).serial_number
    clear = [keys.decrypt_private_key(seal.key_blob, f"seal:{seal.serial}"),
             keys.decrypt_private_key(ca.key_blob, f"ca:{root_serial}"),
             keys.decrypt_private_key(ca.tsa_key_blob, f"tsa:{tsa_serial}")]
    assert all(load_der_private_key(der, None) is not None for der in clear)
    dump = b""
    with connection.cursor() as cursor:
        for table in ("seals_unitseal", "seals_platformca"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 — fixed table names
            for row in cursor.fetchall():
                dump += b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
    for der in clear:
        assert der not in dump and der[-32:] not in dump  # not the key, nor its last 32 bytes (the secret scalar)
    assert b"PRIVATE KEY" not in dump
    with pytest.raises(Exception):  # noqa: B017 — bound to its row: another seal's id does not decrypt it
        keys.decrypt_private_key(seal.key_blob, "seal:other")


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n garbage", "truncated", "unsealed"])
def test_garbage_is_invalid_not_an_error(world, data):
    if data == "truncated":
        data = seal_it(world)[:5000]
    elif data == "unsealed":
        data = world["pdf"]
    result = services.verify_pdf(data)
    assert not result.valid and result.problems


def test_verifying_is_read_only_and_audited_for_a_logged_in_verifier(world):
    sealed = seal_it(world)
    counts = (SealUse.objects.count(), UnitSeal.objects.count(), PlatformCA.objects.get().crl_number)
    services.verify_pdf(sealed)
    assert not AuditRecord.objects.filter(action="seals.verified").exists()
    services.verify_pdf(sealed, actor=world["admin"].person.user)
    record = AuditRecord.objects.get(action="seals.verified")
    assert record.detail["valid"] is True and record.actor_username == world["admin"].person.user.username
    assert counts == (SealUse.objects.count(), UnitSeal.objects.count(), PlatformCA.objects.get().crl_number)


def test_the_crl_is_reissued_daily(world):
    ca = PlatformCA.objects.get()
    assert not services.refresh_crl_if_due()
    PlatformCA.objects.update(crl_updated_at=ca.crl_updated_at - services.CRL_REFRESH_AFTER - dt.timedelta(minutes=1))
    assert services.refresh_crl_if_due()
    assert PlatformCA.objects.get().crl_number == ca.crl_number + 1
    assert AuditRecord.objects.filter(action="seals.crl_refreshed").exists()
    assert services.verify_pdf(seal_it(world)).valid


def test_selectors_for_the_documents_app(world):
    assert selectors.seals_for(world["clerk"]) == [world["seal"]]
    assert selectors.seals_for(world["admin"]) == []
    assert selectors.unit_seal(world["unit"]) == world["seal"]
    assert selectors.unit_seal(UnitFactory()) is None


def test_seed_demo_seals_is_idempotent_and_names_the_clerks(world):
    unit = UnitFactory(name="示范市教育局")
    clerk = IdentityFactory(unit=unit, duty=duty(Duty.DOC_CLERK))
    assert services.seed_demo_seals([unit, world["unit"]]) == 1
    assert services.seed_demo_seals([unit, world["unit"]]) == 0
    seal = selectors.unit_seal(unit)
    assert list(seal.holders.all()) == [clerk] and seal.name == "示范市教育局"
    assert AuditRecord.objects.filter(action="seals.demo_seeded").count() == 1


def test_the_seal_image_is_a_transparent_red_round_png(world):
    from PIL import Image

    img = Image.open(io.BytesIO(bytes(world["seal"].image)))
    assert img.format == "PNG" and img.mode == "RGBA" and img.width == img.height == round(42 / 25.4 * 300)
    assert img.getpixel((0, 0))[3] == 0  # the corner is transparent
    centre = img.getpixel((img.width // 2, img.height // 2))  # the star
    assert centre[3] == 255 and centre[0] > 200 and centre[1] < 40


def test_r7_4_a_joint_document_carries_two_units_seals_and_both_verify(world):
    """联合行文: the first seal certifies with DocMDP P=2, so a second unit's seal may follow; the last file verifies."""
    unit_b = UnitFactory(name="示范市教育局")
    clerk_b = IdentityFactory(unit=unit_b, duty=duty(Duty.DOC_CLERK))
    admin_b = IdentityFactory(unit=unit_b, duty=duty(Duty.UNIT_ADMIN))
    seal_b = services.create_seal(world["secadmin"], unit_b)
    services.set_seal_holders(admin_b.person.user, seal_b, [clerk_b.pk])
    first = seal_it(world)
    x0, y0, x1, y1 = world["box"]
    both = services.seal_pdf(clerk_b.person.user, seal_b, first, page=world["page"], box=(x0 - 150, y0, x1 - 150, y1),
                             reason="联合用印", reference="documents.document:1")
    result = services.verify_pdf(both)
    assert result.valid, result.problems
    assert [s.unit_name for s in result.seals] == ["示范市财政局", "示范市教育局"]
