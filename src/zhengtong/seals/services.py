"""Seal services: the only writers of the seals tables. Permission first, every change and every use audited.

- the 安全保密管理员 keeps the platform CA and issues / revokes seal certificates;
- the unit's own 单位系统管理员 names who may use its seals (identities of that unit);
- 用印 (`seal_pdf`) only by a named holder: a PAdES B-T signature (pyHanko) with the visible seal image and an RFC 3161
  timestamp from the platform's own time-stamping key, and a `SealUse` with the output's SHA-256;
- `verify_pdf` checks the signature against the platform root and CRL (no network), that /Contents is canonical, that
  no foreign root rides in the file and that the file's SHA-256 was recorded at 用印 — so any changed byte anywhere
  makes the file invalid (docs/seal-notes.md explains why all of these are needed).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import is_any_admin, require_admin_role, require_authenticated
from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.org.models import Duty, Identity

from . import images, keys, pdfsign, pki
from .models import PlatformCA, SealUse, UnitSeal

log = logging.getLogger(__name__)
PLATFORM = "政通平台"
MAX_VERIFY_BYTES = 200 * 1024 * 1024
CRL_REFRESH_AFTER = dt.timedelta(days=1)  # the CRL is valid 30 days (pki.make_crl); re-issued daily (seals.tasks)


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
    root = pki.load(ca.certificate_pem)
    der = keys.decrypt_private_key(ca.key_blob, f"ca:{root.serial_number}")
    return serialization.load_der_private_key(der, None), root


def split_name(unit, seal_name: str) -> tuple[str, str]:
    """(text on the arc, line under the star): "某局公文专用章" → ("某局", "公文专用章")."""
    if seal_name.startswith(unit.name) and seal_name != unit.name:
        return unit.name, seal_name[len(unit.name):].strip()
    return seal_name, ""


def _issue_seal(ca: PlatformCA, unit, seal_name: str, now) -> UnitSeal:
    root_key, root = _root_key(ca)
    key = pki.make_seal_key()
    org = unit.parent.name if unit.parent_id else unit.name
    cert = pki.issue(root_key, root, key.public_key(), pki.name(seal_name, org, unit.name), now,
                     years=pki.SEAL_YEARS)
    serial = format(cert.serial_number, "x")
    seal = UnitSeal(unit=unit, ca=ca, name=seal_name, image=images.draw_seal(*split_name(unit, seal_name)),
                    certificate_pem=pki.pem(cert), serial=serial,
                    key_blob=keys.encrypt_private_key(key, f"seal:{serial}"),
                    valid_from=cert.not_valid_before_utc, valid_to=cert.not_valid_after_utc, created_at=now)
    seal.save()
    return seal


def create_seal(actor, unit, name: str | None = None) -> UnitSeal:
    """制发印章: an image, a key pair and a certificate for the unit; the name must be the unit's (R1.2: the seal
    matches the issuing body's name), optionally followed by e.g. 公文专用章."""
    require_admin_role(actor, AdminRole.SECURITY)
    seal_name = (name or unit.name).strip()
    if not seal_name.startswith(unit.name) or len(seal_name) > 100:
        raise ServiceError("seals.name_mismatch", f"印章名称须与单位名称“{unit.name}”一致（可加“公文专用章”等后缀）")
    if not unit.active:
        raise ServiceError("seals.unit_inactive", f"“{unit.name}”已撤销，不能制发印章")
    ca = ensure_platform_ca(actor)
    with transaction.atomic():
        seal = _issue_seal(ca, unit, seal_name, timezone.now())
        record("seals.seal_created", obj=seal, user=actor, unit=unit,
               detail={"serial": seal.serial, "valid_to": seal.valid_to.isoformat()})
    return seal


def refresh_crl(ca: PlatformCA, now=None) -> PlatformCA:
    """Re-issue the CRL (after a revocation, and daily so it never passes its nextUpdate)."""
    now = now or timezone.now()
    root_key, root = _root_key(ca)
    revoked = [(int(s.serial, 16), s.revoked_at) for s in ca.seals.filter(status=UnitSeal.Status.REVOKED)]
    ca.crl_number += 1
    ca.crl_der = pki.make_crl(root_key, root, revoked, ca.crl_number, now)
    ca.crl_updated_at = now
    ca.save(update_fields=["crl_der", "crl_number", "crl_updated_at"])
    _trust_cache.clear()
    return ca


def refresh_crl_if_due(now=None) -> bool:
    """The daily job (seals.tasks): the system re-issues a CRL older than a day."""
    now = now or timezone.now()
    with transaction.atomic():
        ca = PlatformCA.objects.select_for_update().filter(active=True).order_by("-pk").first()
        if ca is None or now - ca.crl_updated_at < CRL_REFRESH_AFTER:
            return False
        refresh_crl(ca, now)
        record("seals.crl_refreshed", obj=ca, detail={"crl_number": ca.crl_number})
    return True


def revoke_seal(actor, seal: UnitSeal, reason: str) -> UnitSeal:
    """吊销印章: no new use; put on the CRL, so documents sealed with it no longer verify (key compromise)."""
    require_admin_role(actor, AdminRole.SECURITY)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("seals.reason_required", "请填写吊销原因")
    with transaction.atomic():
        seal = UnitSeal.objects.select_for_update().select_related("unit", "ca").get(pk=seal.pk)
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

_trust_cache: dict = {}


def _trust(ca: PlatformCA) -> pdfsign.Trust:
    """Trust material, decrypted and parsed once per CA and CRL revision (keyed by the root too: a test database
    that is rebuilt reuses primary keys)."""
    cache_key = (ca.pk, ca.crl_number, hashlib.sha256(ca.certificate_pem.encode()).hexdigest())
    trust = _trust_cache.get(cache_key)
    if trust is None:
        root, tsa = pki.load(ca.certificate_pem), pki.load(ca.tsa_certificate_pem)
        der = serialization.Encoding.DER
        trust = pdfsign.make_trust(root.public_bytes(der), tsa.public_bytes(der),
                                   keys.decrypt_private_key(ca.tsa_key_blob, f"tsa:{tsa.serial_number}"),
                                   bytes(ca.crl_der))
        _trust_cache.clear()
        _trust_cache[cache_key] = trust
    return trust


def _holder(actor, seal: UnitSeal, identity: Identity | None) -> Identity | None:
    """The actor's active identity named as holder of `seal` (the 三员 never: R7.2)."""
    person = getattr(actor, "person", None)
    if is_any_admin(actor) or person is None:
        return None
    mine = seal.holders.filter(person=person, active=True)
    return (mine.filter(pk=identity.pk) if identity is not None else mine).first()


def seal_pdf(actor, seal: UnitSeal, pdf_bytes: bytes, *, page: int, box: tuple[float, float, float, float],
             reason: str, reference: str, identity: Identity | None = None) -> bytes:
    """用印: only a named holder of an active seal; returns the sealed PDF. The SealUse is written in the caller's
    transaction if there is one, so a rolled-back 用印 leaves no record and the sealed file does not verify."""
    require_authenticated(actor)
    seal = UnitSeal.objects.select_related("unit", "ca").filter(pk=getattr(seal, "pk", None)).first()
    if seal is None:
        raise NotFound("seals.not_found", "印章不存在")
    holder = _holder(actor, seal, identity)
    if holder is None:
        raise _deny(actor, "seals.not_holder", f"您不是“{seal.name}”的用印人，请单位系统管理员指定后再用印", obj=seal)
    if seal.status != UnitSeal.Status.ACTIVE or seal.valid_to <= timezone.now():
        security_event("seals.use_refused", user=actor, identity=holder, outcome="denied", obj=seal,
                       detail={"code": "seals.seal_inactive", "status": seal.status})
        raise Conflict("seals.seal_inactive", f"“{seal.name}”已吊销或过期，不能用印")
    if not isinstance(pdf_bytes, bytes | bytearray) or not bytes(pdf_bytes).startswith(b"%PDF"):
        raise ServiceError("seals.pdf_invalid", "该文件无法用印（不是有效的 PDF 或已损坏）")
    cert_der = pki.load(seal.certificate_pem).public_bytes(serialization.Encoding.DER)
    try:
        out = pdfsign.sign(
            bytes(pdf_bytes), trust=_trust(seal.ca), cert_der=cert_der,
            key_der=keys.decrypt_private_key(seal.key_blob, f"seal:{seal.serial}"), image_png=bytes(seal.image),
            field_name=f"Seal-{seal.pk}-{timezone.now().strftime('%Y%m%d%H%M%S%f')}", page=page, box=box,
            reason=(reason or "用印")[:200], signer_name=f"{holder.person.name}（{seal.name}）")
    except Exception as exc:  # a PDF pyHanko cannot extend, a page that does not exist: say so, never a 500
        log.warning("sealing failed: %s", exc)
        raise ServiceError("seals.pdf_invalid", "该文件无法用印（不是有效的 PDF、页码不存在或文件已损坏）") from exc
    digest = hashlib.sha256(out).hexdigest()
    with transaction.atomic():
        use = SealUse.objects.create(seal=seal, identity=holder, user=actor, sha256=digest, reference=reference[:100],
                                     reason=(reason or "")[:200])
        record("seals.sealed", obj=seal, user=actor, identity=holder, unit=seal.unit,
               detail={"use": use.pk, "sha256": digest, "reference": reference, "page": page})
    return out


@dataclass(frozen=True)
class SealInfo:
    seal_name: str
    unit_name: str
    sealed_at: dt.datetime | None  # the time the signer's software reported
    timestamp: dt.datetime | None  # the platform TSA's time: the one to trust
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
    sha256: str = ""


def _problems(c: pdfsign.Checked, last: bool) -> list[str]:
    found = []
    if not c.intact:
        found.append("文件在用印后被改动（签名与内容不符）")
    if c.revoked:
        found.append("印章已被吊销")
    elif not c.trusted:
        found.append("印章证书不是本平台签发的")
    if not c.docmdp_ok or (last and not c.covers_whole_file):
        found.append("用印后文件被追加或改动")
    if not c.canonical:
        found.append("签名数据被改动")
    if c.foreign_roots:
        found.append("文件中夹带了其他根证书")
    if not c.timestamp_ok:
        found.append("时间戳无效")
    return found


def _verify(data: bytes) -> Verification:
    if not data or not data.lstrip()[:5] == b"%PDF-":
        return Verification(False, False, False, problems=["不是 PDF 文件"])
    if len(data) > MAX_VERIFY_BYTES:
        return Verification(False, False, False, problems=["文件过大"])
    digest = hashlib.sha256(data).hexdigest()
    recorded = SealUse.objects.filter(sha256=digest).exists()
    ca = active_ca()
    if ca is None:
        return Verification(False, False, recorded, problems=["平台尚未建立印章 CA，无法验证"], sha256=digest)
    try:  # pyHanko's WARNING tracebacks of expected failures are kept out of the log by settings.LOGGING
        checked = pdfsign.check(data, _trust(ca))
    except Exception as exc:  # noqa: BLE001 — a damaged file is an invalid file, never a 500
        log.info("verification could not read the file: %s", exc)
        return Verification(False, False, recorded, problems=["文件已损坏，无法读取电子印章"], sha256=digest)
    if not checked:
        return Verification(False, False, recorded, problems=["文件中没有电子印章"], sha256=digest)
    known = {s.serial: s for s in UnitSeal.objects.filter(serial__in=[c.serial for c in checked])
             .select_related("unit")}
    seals, problems = [], []
    for i, c in enumerate(checked):
        seal = known.get(c.serial) if c.trusted or c.revoked else None  # a foreign cert may reuse a serial
        seals.append(SealInfo(seal_name=seal.name if seal else c.common_name, unit_name=seal.unit.name if seal else "",
                              sealed_at=c.signer_reported, timestamp=c.timestamp, certificate_serial=c.serial,
                              trusted=c.trusted, revoked=c.revoked, intact=c.intact))
        problems += _problems(c, last=i == len(checked) - 1)
    if not recorded:
        problems.append("文件摘要不在本平台的用印记录中（文件可能被改动）")
    ok = all(c.ok for c in checked) and checked[-1].covers_whole_file and recorded
    return Verification(valid=ok, intact=all(c.intact for c in checked), recorded=recorded, seals=seals,
                        problems=list(dict.fromkeys(problems)), sha256=digest)


def verify_pdf(pdf_bytes: bytes, *, actor=None, reference: str = "") -> Verification:
    """Who sealed, when, valid or not — for any file (read only; a logged-in verifier leaves an audit record)."""
    result = _verify(bytes(pdf_bytes or b""))
    if actor is not None and getattr(actor, "is_authenticated", False):
        record("seals.verified", user=actor, object_type="seals.file", object_id=result.sha256[:16],
               outcome="success" if result.valid else "failure",
               detail={"valid": result.valid, "sha256": result.sha256, "reference": reference,
                       "problems": result.problems})
    return result


def seed_demo_seals(units, extra_holders: dict | None = None) -> int:
    """Demo only (idempotent): one seal per unit (the unit's name), its 收发员 named as holders — plus
    `extra_holders` ({unit id: [identities]}, e.g. the 市政府办公室's 收发员 for the 市政府's seal); the system acts."""
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
        if made:
            record("seals.demo_seeded", object_type="seals.unitseal", detail={"seals": made})
    return made


def get_seal(pk) -> UnitSeal:
    seal = UnitSeal.objects.filter(pk=pk).select_related("unit", "ca").first()
    if seal is None:
        raise NotFound("seals.not_found", "印章不存在")
    return seal
