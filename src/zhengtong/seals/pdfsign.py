"""pyHanko mechanics, no database: sign a PDF (PAdES B-T, visible seal, in-process RFC 3161 timestamp) and check one
signature against the platform root and CRL. seals.services decides who may, and records what happened.

Pitfalls found by the spike (docs/seal-notes.md): `embed_roots=False` (an embedded root is covered by no signature);
`/Contents` must be canonical (its padding, whitespace and hex case are outside the ByteRange); revocation mode
"require" with our CRL given explicitly ("hard-fail" skips certificates without a CRL pointer)."""
from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

BYTES_RESERVED = 12288  # /Contents in hex digits (6 KB): the CMS with the timestamp token is ~3 KB
SEAL_OPACITY = 0.88  # the black 署名 and date stay legible through the red, as through ink

log = logging.getLogger(__name__)


def off_loop(fn):
    """pyHanko's synchronous API runs asyncio.run() inside; where this thread already runs an event loop (an ASGI
    server, a test process driving a browser) that fails, so the call moves to a worker thread. Only pure
    computation goes there: no database access (another thread has another connection)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


@dataclass(frozen=True)
class Trust:
    """What signing and verifying need from the platform CA, parsed and decrypted once per CA and CRL revision."""

    root: object  # asn1crypto Certificate
    crl: bytes
    timestamper: object  # pyHanko DummyTimeStamper holding the platform TSA key

    def context(self):
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(trust_roots=[self.root], crls=[self.crl], allow_fetching=False,
                                 revocation_mode="require")


def _platform_timestamper(tsa_cert, tsa_key_der: bytes):
    """pyHanko's DummyTimeStamper is a complete in-process RFC 3161 issuer (nonce, ESS signing-certificate, system
    clock) despite its name, but it parses its RSA key again for every token — ~40 ms of OpenSSL's RSA key check,
    most of the cost of 用印. This one keeps the parsed key. (It overrides a private method: pyHanko is pinned.)"""
    from asn1crypto import cms, core
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign.general import as_signing_certificate, get_pyca_cryptography_hash, simple_cms_attribute
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    class PlatformTimeStamper(DummyTimeStamper):
        def __init__(self):
            super().__init__(tsa_cert=tsa_cert, tsa_key=asn1_keys.PrivateKeyInfo.load(tsa_key_der))
            self._key = serialization.load_der_private_key(tsa_key_der, password=None)

        def _sign_tst_info(self, tst_info_data, md_algorithm, dt):
            # the parent's method, with the key parsed once
            digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
            digest.update(tst_info_data)
            signed_attrs = cms.CMSAttributes([
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ])
            signature = self._key.sign(signed_attrs.dump(), PKCS1v15(),
                                       get_pyca_cryptography_hash(md_algorithm.upper()))
            return signature, signed_attrs

    return PlatformTimeStamper()


def make_trust(root_der: bytes, tsa_der: bytes, tsa_key_der: bytes, crl_der: bytes) -> Trust:
    from asn1crypto import x509 as asn1_x509

    # without `certs_to_embed` the token carries only the TSA certificate, no root copy (see _self_signed_inside)
    stamper = _platform_timestamper(asn1_x509.Certificate.load(tsa_der), tsa_key_der)
    return Trust(root=asn1_x509.Certificate.load(root_der), crl=crl_der, timestamper=stamper)


def sign(pdf: bytes, *, trust: Trust, cert_der: bytes, key_der: bytes, image_png: bytes, field_name: str, page: int,
         box: tuple[float, float, float, float], reason: str, signer_name: str) -> bytes:
    """Sign `pdf`; the first seal certifies with DocMDP P=2 so later seals of a 联合行文 stay allowed. Raises
    whatever pyHanko raises on a PDF it cannot extend."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from PIL import Image
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert_der), signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([trust.root]), embed_roots=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        certify=b"/ByteRange" not in pdf, docmdp_permissions=fields.MDPPerm.FILL_FORMS, reason=reason,
        name=signer_name, use_pades_lta=False, embed_validation_info=False)
    # only the seal image: no border, no text, no margins (pyHanko's defaults add a 3 pt border and 5 pt margins)
    style = StaticStampStyle(
        background=PdfImage(Image.open(io.BytesIO(image_png))), background_opacity=SEAL_OPACITY, border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MID,
                                                     y_align=layout.AxisAlignment.ALIGN_MID,
                                                     margins=layout.Margins.uniform(0)))
    spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page, box=tuple(round(v) for v in box))
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=trust.timestamper, stamp_style=style,
                                   new_field_spec=spec)
    return off_loop(lambda: pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO(),
                                                bytes_reserved=BYTES_RESERVED).getvalue())


@dataclass(frozen=True)
class Checked:
    """One embedded signature as pyHanko and our extra checks see it."""

    serial: str
    common_name: str
    signer_reported: object  # datetime | None
    timestamp: object  # datetime | None
    intact: bool  # the signed bytes and the CMS signature are sound
    trusted: bool
    revoked: bool
    docmdp_ok: bool  # nothing but allowed changes after it
    covers_whole_file: bool
    timestamp_ok: bool
    canonical: bool  # /Contents is exactly hex(CMS) + zero padding
    foreign_roots: bool  # a self-signed certificate rides in the CMS or the timestamp token

    @property
    def ok(self) -> bool:
        return (self.intact and self.trusted and not self.revoked and self.docmdp_ok and self.timestamp_ok
                and self.canonical and not self.foreign_roots)


def canonical_contents(data: bytes, sig) -> bool:
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


def _self_signed_inside(sig) -> bool:
    """A root certificate in the CMS (or its timestamp token) is covered by no signature: we never embed one, so
    finding one means the file was made elsewhere or altered."""
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    def roots(signed_data) -> bool:
        return any(c.chosen.self_signed in ("maybe", "yes") for c in signed_data["certificates"])

    tokens = list(extract_tst_data_iter(sig.signer_info, signed=False))
    return roots(sig.signed_data) or any(roots(token) for token in tokens)


def _joint_seal_policy():
    """pyHanko's default diff policy, except that a new *visible* signature field may follow a certifying signature
    (pyHanko forbids it by default, "stricter than Acrobat"): a 联合行文 carries one visible seal per issuing unit, the
    first certifying with P=2. Every later seal is itself checked (trusted, timestamped, recorded)."""
    from pyhanko.sign.diff_analysis import policies
    from pyhanko.sign.diff_analysis.rules.form_field_rules import (
        GenericFieldModificationRule,
        SigFieldCreationRule,
        SigFieldModificationRule,
    )

    return policies.StandardDiffPolicy(
        global_rules=policies.DEFAULT_DIFF_POLICY.global_rules,
        form_rule=policies.FormUpdatingRule(field_rules=[
            SigFieldCreationRule(allow_new_visible_after_certify=True), SigFieldModificationRule(),
            GenericFieldModificationRule()]))


def check(data: bytes, trust: Trust) -> list[Checked]:
    """Validate every signature in `data` (raises on an unreadable file: the caller maps that to 无效)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    embedded = reader.embedded_signatures
    policy = _joint_seal_policy()
    statuses = off_loop(lambda: [validate_pdf_signature(sig, signer_validation_context=trust.context(),
                                                        ts_validation_context=trust.context(), diff_policy=policy)
                                 for sig in embedded])
    result = []
    for sig, st in zip(embedded, statuses, strict=True):
        ts = st.timestamp_validity
        cert = st.signing_cert
        result.append(Checked(
            serial=format(cert.serial_number, "x"), common_name=cert.subject.native.get("common_name", ""),
            signer_reported=st.signer_reported_dt, timestamp=ts.timestamp if ts else None,
            intact=bool(st.intact and st.valid), trusted=bool(st.trusted), revoked=bool(st.revoked),
            docmdp_ok=bool(st.docmdp_ok or st.modification_level is None),
            covers_whole_file=st.coverage == SignatureCoverageLevel.ENTIRE_FILE,
            timestamp_ok=bool(ts is not None and ts.valid and ts.intact and ts.trusted),
            canonical=canonical_contents(data, sig), foreign_roots=_self_signed_inside(sig)))
    return result
