"""Seal services: the only writers of the seals tables. Permission first, every change and every use audited.

- the 安全保密管理员 keeps the platform CA and issues / revokes seal certificates;
- the unit's own 单位系统管理员 names who may use its seals (identities of that unit);
- 用印 (`seal_pdf`) only by a named holder: a PAdES B-T signature (pyHanko) with the visible seal image and an RFC 3161
  timestamp from the platform's own time-stamping key, and a `SealUse` with the output's SHA-256;
- `verify_pdf` checks the signature against the platform root and CRL (no network), that /Contents is canonical and
  that the file's SHA-256 was recorded at 用印 — so any changed byte anywhere makes the file invalid
  (docs/seal-notes.md explains why all three are needed).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import is_any_admin, require_admin_role, require_authenticated
from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.org.models import Duty, Identity

from . import keys, pki
from .models import PlatformCA, SealUse, UnitSeal

log = logging.getLogger(__name__)
PLATFORM = "政通平台"
BYTES_RESERVED = 12288  # /Contents in hex digits: the CMS with timestamp is ~3 KB
MAX_VERIFY_BYTES = 200 * 1024 * 1024


def _off_loop(fn):
    """pyHanko's synchronous API runs asyncio.run() inside; where this thread already runs an event loop (an ASGI
    server, a test process driving a browser) that fails, so the call moves to a worker thread. Only pure
    computation goes there: no database access (another thread has another connection)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def _deny(actor, code: str, message: str, obj=None) -> Forbidden:
    security_event("permission.denied", user=actor, outcome="denied", obj=obj, detail={"code": code})
    return Forbidden(code, message)


def active_ca() -> PlatformCA | None:
    return PlatformCA.objects.filter(active=True).order_by("-pk").first()


def _create_ca(actor, now) -> PlatformCA:
    root_key, root = pki.make_root(PLATFORM, now)
    tsa_key, tsa = pki.make_tsa(root_key, root, PLATFORM, now)
    ca = PlatformCA(name=f"{PLATFORM}电子印章 CA", certificate_pem=pki.pem(root), tsa_certificate_pem=pki.pem(tsa),
                    key_blob=keys.encrypt_private_key(root_key, f"ca:{root.serial_number}"),
                    tsa_key_blob=keys.encrypt_private_key(tsa_key, f"tsa:{tsa.serial_number}"),
                    crl_der=pki.make_crl(root_key, root, [], 1, now), crl_updated_at=now,
                    created_by=actor if getattr(actor, "pk", None) else None, created_at=now)
    ca.save()
    return ca


def ensure_platform_ca(actor) -> PlatformCA:
    """The active CA, created on first use by the 安全保密管理员."""
    require_admin_role(actor, AdminRole.SECURITY)
    with transaction.atomic():
        ca = active_ca()
        if ca is None:
            ca = _create_ca(actor, timezone.now())
            record("seals.ca_created", obj=ca, user=actor, detail={"root": pki.load(ca.certificate_pem).serial_number})
    return ca


def _root_key(ca: PlatformCA):
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    root = pki.load(ca.certificate_pem)
    return load_der_private_key(keys.decrypt_private_key(ca.key_blob, f"ca:{root.serial_number}"), None), root


def _issue_seal(ca: PlatformCA, unit, seal_name: str, now) -> UnitSeal:
    root_key, root = _root_key(ca)
    key = pki.make_seal_key()
    org = unit.parent.name if unit.parent_id else unit.name
    cert = pki.issue(root_key, root, key.public_key(), pki.name(seal_name, org, unit.name), now,
                     years=pki.SEAL_YEARS)
    seal = UnitSeal(unit=unit, ca=ca, name=seal_name, image=pki.draw_seal(seal_name), certificate_pem=pki.pem(cert),
                    serial=format(cert.serial_number, "x"),
                    key_blob=keys.encrypt_private_key(key, f"seal:{format(cert.serial_number, 'x')}"),
                    valid_from=cert.not_valid_before_utc, valid_to=cert.not_valid_after_utc, created_at=now)
    seal.save()
    return seal


def create_seal(actor, unit, *, name: str = "") -> UnitSeal:
    """制发印章: an image, a key pair and a certificate for the unit; the name must be the unit's (R1.2)."""
    require_admin_role(actor, AdminRole.SECURITY)
    seal_name = (name or unit.name).strip()
    if seal_name != unit.name and not seal_name.startswith(unit.name):
        raise ServiceError("seals.name_mismatch", f"印章名称须与单位名称“{unit.name}”一致（可加“公文专用章”等后缀）")
    ca = ensure_platform_ca(actor)
    with transaction.atomic():
        seal = _issue_seal(ca, unit, seal_name, timezone.now())
        record("seals.seal_created", obj=seal, user=actor, unit=unit,
               detail={"serial": seal.serial, "valid_to": seal.valid_to.isoformat()})
    return seal


def refresh_crl(ca: PlatformCA, now=None) -> PlatformCA:
    now = now or timezone.now()
    root_key, root = _root_key(ca)
    revoked = [(int(s.serial, 16), s.revoked_at) for s in ca.seals.filter(status=UnitSeal.Status.REVOKED)]
    ca.crl_number += 1
    ca.crl_der = pki.make_crl(root_key, root, revoked, ca.crl_number, now)
    ca.crl_updated_at = now
    ca.save(update_fields=["crl_der", "crl_number", "crl_updated_at"])
    _context_cache.clear()
    return ca


def revoke_seal(actor, seal: UnitSeal, *, reason: str) -> UnitSeal:
    require_admin_role(actor, AdminRole.SECURITY)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("seals.reason_required", "请填写吊销原因")
    with transaction.atomic():
        seal = UnitSeal.objects.select_for_update().get(pk=seal.pk)
        if seal.status == UnitSeal.Status.REVOKED:
            raise Conflict("seals.already_revoked", "该印章已吊销")
        seal.status, seal.revoked_at, seal.revoke_reason = UnitSeal.Status.REVOKED, timezone.now(), reason[:200]
        seal.save(update_fields=["status", "revoked_at", "revoke_reason"])
        refresh_crl(seal.ca)
        record("seals.seal_revoked", obj=seal, user=actor, unit=seal.unit, detail={"reason": reason})
    return seal


def set_seal_holders(actor, seal: UnitSeal, identity_ids) -> list[Identity]:
    """指定用印人: by the unit's own 单位系统管理员 (not the platform's 三员), identities of that unit only."""
    require_authenticated(actor)
    person = getattr(actor, "person", None)
    if is_any_admin(actor) or person is None or not person.identities.filter(
            active=True, unit_id=seal.unit_id, duty__code=Duty.UNIT_ADMIN).exists():
        raise _deny(actor, "seals.not_unit_admin", "只有本单位的单位系统管理员可以指定用印人", obj=seal)
    try:
        ids = {int(pk) for pk in identity_ids or []}
    except (TypeError, ValueError) as exc:
        raise ServiceError("seals.invalid_identity", "用印人应为身份编号") from exc
    identities = list(Identity.objects.filter(pk__in=ids, unit_id=seal.unit_id, active=True))
    if len(identities) != len(ids):
        raise ServiceError("seals.invalid_identity", "用印人须是本单位在岗人员")
    with transaction.atomic():
        before = sorted(seal.holders.values_list("pk", flat=True))
        seal.holders.set(identities)
        record("seals.holders_set", obj=seal, user=actor, unit=seal.unit,
               changes={"holders": [before, sorted(ids)]})
    return identities


# --- sealing and verifying ----------------------------------------------------------------------------------------

_context_cache: dict = {}


def _signer_parts(ca: PlatformCA):
    """The time stamper and the trust material, decrypted/parsed once per CA and CRL revision."""
    key = (ca.pk, ca.crl_number, hashlib.sha256(ca.certificate_pem.encode()).hexdigest())
    cached = _context_cache.get(key)
    if cached is None:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        root, tsa = pki.load(ca.certificate_pem), pki.load(ca.tsa_certificate_pem)
        der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
        tsa_key = asn1_keys.PrivateKeyInfo.load(keys.decrypt_private_key(ca.tsa_key_blob, f"tsa:{tsa.serial_number}"))
        cached = {"root": der(root), "tsa": DummyTimeStamper(tsa_cert=der(tsa), tsa_key=tsa_key),
                  "crl": bytes(ca.crl_der)}
        _context_cache.clear()
        _context_cache[key] = cached
    return cached


def _validation_context(parts):
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=[parts["root"]], crls=[parts["crl"]], allow_fetching=False,
                             revocation_mode="require")


def seal_pdf(actor, seal: UnitSeal, pdf: bytes, *, page: int, box: tuple[float, float, float, float], reason: str,
             reference: str, identity: Identity | None = None) -> bytes:
    """用印: only a named holder of an active seal; returns the sealed PDF (SealUse recorded in the caller's
    transaction, so a rolled-back 用印 leaves no record)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    require_authenticated(actor)
    seal = UnitSeal.objects.select_related("unit", "ca").get(pk=seal.pk)  # the current status, not the caller's copy
    person = getattr(actor, "person", None)
    holder = None
    if not is_any_admin(actor) and person is not None:
        mine = seal.holders.filter(person=person, active=True)
        holder = (mine.filter(pk=identity.pk) if identity is not None else mine).first()
    if holder is None:
        raise _deny(actor, "seals.not_holder", f"您不是“{seal.name}”的用印人，请单位系统管理员指定后再用印", obj=seal)
    if seal.status != UnitSeal.Status.ACTIVE or seal.valid_to <= timezone.now():
        raise Conflict("seals.seal_inactive", f"“{seal.name}”已吊销或过期，不能用印")
    from PIL import Image

    parts = _signer_parts(seal.ca)
    cert = pki.load(seal.certificate_pem)
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(keys.decrypt_private_key(seal.key_blob, f"seal:{seal.serial}")),
        cert_registry=SimpleCertificateStore.from_certs([parts["root"]]),
        embed_roots=False)  # an embedded root is outside every signature: a flipped byte there would go unnoticed
    field_name = f"Seal-{seal.pk}-{timezone.now().strftime('%Y%m%d%H%M%S%f')}"
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=not _has_signature(pdf), docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        reason=reason[:200], name=f"{holder.person.name}（{seal.name}）", use_pades_lta=False,
        embed_validation_info=False)
    style = StaticStampStyle(
        background=PdfImage(Image.open(io.BytesIO(bytes(seal.image)))), background_opacity=0.88, border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MID,
                                                     y_align=layout.AxisAlignment.ALIGN_MID,
                                                     margins=layout.Margins.uniform(0)))
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=parts["tsa"], stamp_style=style,
                                   new_field_spec=fields.SigFieldSpec(sig_field_name=field_name, on_page=page,
                                                                      box=tuple(round(v) for v in box)))
    try:
        out = _off_loop(lambda: pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO(),
                                                    bytes_reserved=BYTES_RESERVED).getvalue())
    except Exception as exc:  # a PDF pyHanko cannot extend: say so, never a 500
        log.warning("sealing failed: %s", exc)
        raise ServiceError("seals.pdf_invalid", "该文件无法用印（不是有效的 PDF 或已损坏）") from exc
    digest = hashlib.sha256(out).hexdigest()
    with transaction.atomic():
        use = SealUse.objects.create(seal=seal, identity=holder, user=actor, sha256=digest, reference=reference[:100],
                                     reason=reason[:200])
        record("seals.sealed", obj=seal, user=actor, identity=holder, unit=seal.unit,
               detail={"use": use.pk, "sha256": digest, "reference": reference})
    return out


def _has_signature(pdf: bytes) -> bool:
    return b"/ByteRange" in pdf


@dataclass(frozen=True)
class SealInfo:
    seal_name: str
    unit_name: str
    sealed_at: dt.datetime | None
    timestamp: dt.datetime | None
    certificate_serial: str
    trusted: bool
    revoked: bool
    intact: bool


@dataclass(frozen=True)
class Verification:
    valid: bool
    intact: bool
    recorded: bool
    seals: list[SealInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _canonical_contents(data: bytes, sig) -> bool:
    """/Contents (outside the ByteRange) must be exactly hex(CMS DER) + zero padding, in one letter case: readers
    ignore padding, whitespace and case there, so without this some flipped bytes would pass."""
    from asn1crypto import parser as asn1_parser

    byte_range = sig.sig_object["/ByteRange"]
    a_end, b_start = int(byte_range[0]) + int(byte_range[1]), int(byte_range[2])
    gap = data[a_end:b_start]
    raw = bytes(sig.sig_object["/Contents"])
    _, _, _, header, body, _ = asn1_parser.parse(raw, strict=False)
    used = len(header) + len(body)
    hexed = raw.hex().encode()
    return raw[used:] == b"\0" * (len(raw) - used) and gap in (b"<" + hexed + b">", b"<" + hexed.upper() + b">")


def verify_pdf(data: bytes) -> Verification:
    """Who sealed, when, valid or not — for any PDF (read only)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    if not data or not data.startswith(b"%PDF"):
        return Verification(False, False, False, problems=["不是 PDF 文件"])
    if len(data) > MAX_VERIFY_BYTES:
        return Verification(False, False, False, problems=["文件过大"])
    ca = active_ca()
    if ca is None:
        return Verification(False, False, False, problems=["平台尚未建立印章 CA，无法验证"])
    digest = hashlib.sha256(data).hexdigest()
    recorded = SealUse.objects.filter(sha256=digest).exists()
    problems: list[str] = []
    seals: list[SealInfo] = []
    parts = _signer_parts(ca)
    logging.disable(logging.WARNING)  # pyHanko logs each expected failure with a traceback
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = reader.embedded_signatures
        if not embedded:
            return Verification(False, False, recorded, problems=["文件中没有电子印章"])
        all_ok = True
        statuses = _off_loop(lambda: [validate_pdf_signature(sig, signer_validation_context=_validation_context(parts),
                                                             ts_validation_context=_validation_context(parts))
                                      for sig in embedded])
        for sig, status in zip(embedded, statuses, strict=True):
            ts = status.timestamp_validity
            canonical = _canonical_contents(data, sig)
            ok = bool(status.bottom_line and canonical and ts is not None and ts.valid and ts.intact and ts.trusted)
            all_ok = all_ok and ok
            cert = status.signing_cert
            serial = format(cert.serial_number, "x")
            known = UnitSeal.objects.filter(serial=serial).select_related("unit").first()
            seals.append(SealInfo(seal_name=known.name if known else cert.subject.native.get("common_name", ""),
                                  unit_name=known.unit.name if known else "", sealed_at=status.signer_reported_dt,
                                  timestamp=ts.timestamp if ts else None, certificate_serial=serial,
                                  trusted=bool(status.trusted), revoked=bool(status.revoked),
                                  intact=bool(status.intact and status.valid)))
            if not (status.intact and status.valid):
                problems.append("文件在用印后被改动（签名与内容不符）")
            elif not status.trusted:
                problems.append("印章证书不是本平台签发的，或已被吊销" if not status.revoked else "印章已被吊销")
            elif not status.docmdp_ok or not canonical:
                problems.append("用印后文件被追加或改动")
            elif ts is None or not (ts.valid and ts.trusted):
                problems.append("时间戳无效")
    except Exception as exc:  # noqa: BLE001 — a damaged file is an invalid file, never a 500
        log.info("verification failed to read the file: %s", exc)
        return Verification(False, False, recorded, seals, problems + ["文件已损坏，无法读取电子印章"])
    finally:
        logging.disable(logging.NOTSET)
    if not recorded:
        problems.append("文件摘要不在本平台的用印记录中（文件可能被改动）")
    intact = all(s.intact for s in seals)
    return Verification(valid=bool(all_ok and recorded), intact=intact, recorded=recorded, seals=seals,
                        problems=list(dict.fromkeys(problems)))


def seed_demo_seals(units, extra_holders: dict | None = None) -> int:
    """Demo only: one seal per unit (the unit's name), its 收发员 named as holders — plus `extra_holders`
    ({unit id: [identities]}, e.g. the 市政府办公室's 收发员 for the 市政府's seal); the system acts (no user)."""
    now = timezone.now()
    with transaction.atomic():
        ca = active_ca() or _create_ca(None, now)
        made = 0
        for unit in units:
            if UnitSeal.objects.filter(unit=unit, status=UnitSeal.Status.ACTIVE).exists():
                continue
            seal = _issue_seal(ca, unit, unit.name, now)
            seal.holders.set(Identity.objects.filter(unit=unit, duty__code=Duty.DOC_CLERK, active=True))
            seal.holders.add(*(extra_holders or {}).get(unit.pk, []))
            made += 1
        record("seals.demo_seeded", object_type="seals.unitseal", detail={"seals": made})
    return made


def get_seal(pk) -> UnitSeal:
    seal = UnitSeal.objects.filter(pk=pk).select_related("unit", "ca").first()
    if seal is None:
        raise NotFound("seals.not_found", "印章不存在")
    return seal

