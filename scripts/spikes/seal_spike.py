"""Spike for issue #4 §5 (electronic seals, R7.4): PAdES B-T seal with pyHanko, verify, tamper, timings.

Standalone: NOT part of the Django app and not imported by it. Run it in a throw-away venv so the project's
pyproject/constraints stay untouched:

    python3 -m venv /tmp/sealvenv
    /tmp/sealvenv/bin/pip install pyhanko pyhanko-certvalidator reportlab pillow
    /tmp/sealvenv/bin/python scripts/spikes/seal_spike.py /tmp/seal-spike

`--gm` runs the SM2/SM3 experiment instead (needs `pip install tongsuopy` in the same venv).

It writes into the output directory: seal.png (the seal image), plain.pdf, sealed.pdf, tampered.pdf,
appended.pdf, and prints the verification results and the timings (p50/p95 over RUNS runs).
Render the sealed page with `pdftoppm -r 100 -png -f 1 -l 1 sealed.pdf page` and look at it.

What it shows:
- platform root CA (ECDSA P-256), a unit seal certificate (ECDSA P-256) and a time-stamping certificate
  (RSA-2048, EKU timeStamping; pyHanko's DummyTimeStamper signs with RSA only), all made with `cryptography`;
- the seal's private key kept encrypted at rest (AES-256-GCM under a platform key-encryption key, AAD = seal id)
  and decrypted only for the signing call;
- a red round seal PNG drawn with Pillow (unit name on the arc, star in the middle, transparent background);
- a simple 公文-like PDF made with reportlab, the seal placed over 发文机关署名 and 成文日期 (GB/T 9704 7.3.5.1);
- a certifying PAdES B-T signature (DocMDP P=2 so later seals of a 联合行文 are still allowed) with an RFC 3161
  timestamp from the platform's own time-stamping key, no network;
- verification against a ValidationContext that trusts only our root and has our CRL (hard-fail revocation);
- one flipped byte -> invalid; FLIPS (1000) random single-byte flips anywhere in the file -> none valid; an appended incremental update that
  draws on the page -> signature still "intact" but modification level OTHER / docmdp not ok -> invalid;
- a revoked seal certificate -> not trusted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import math
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

RUNS = int(os.environ.get("RUNS", "30"))
FLIPS = int(os.environ.get("FLIPS", "1000"))
# /Contents size in HEX DIGITS (12288 -> 6144 bytes; the CMS is ~2.8 KB); 0 -> None = pyHanko dry-run estimate
BYTES_RESERVED = int(os.environ.get("BYTES_RESERVED", "12288")) or None
UNIT = "某市人民政府办公室"
SEAL_DIAMETER_MM = 42.0  # 直径 42 mm round seal
SEAL_RED = (230, 0, 18, 255)
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
MM = 72 / 25.4  # PDF points per mm
NOW = dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------------------------- CA hierarchy
def _name(cn: str, org: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def make_pki():
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("政通平台电子印章根CA", "政通平台")
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski)

    def leaf(public_key, subject, *, tsa=False):
        b = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(root_name)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(hours=1)).not_valid_after(NOW + dt.timedelta(days=3 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=not tsa, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(aki, critical=False)
        )
        if tsa:  # RFC 3161 2.3: the TSA certificate carries only id-kp-timeStamping, critical
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        return b.sign(root_key, hashes.SHA256())

    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal_cert = leaf(seal_key.public_key(), _name(f"{UNIT}印章", "某市人民政府", UNIT))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = leaf(tsa_key.public_key(), _name("政通平台时间戳服务", "政通平台"), tsa=True)
    return root_key, root, seal_key, seal_cert, tsa_key, tsa_cert


def make_crl(root_key, root, revoked_serials=(), reason=x509.ReasonFlags.key_compromise, when=None):
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(NOW - dt.timedelta(minutes=5)).next_update(NOW + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
    )
    for serial in revoked_serials:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial)
            .revocation_date(when or NOW - dt.timedelta(minutes=1))
            .add_extension(x509.CRLReason(reason), critical=False).build()
        )
    return b.sign(root_key, hashes.SHA256())


def to_asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


# --------------------------------------------------------------------------- private key encrypted at rest
def encrypt_key(kek: bytes, seal_id: str, private_key) -> bytes:
    """What the DB stores: nonce || AES-256-GCM(PKCS#8 DER), AAD binds the blob to its seal row."""
    der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    nonce = os.urandom(12)
    return nonce + AESGCM(kek).encrypt(nonce, der, seal_id.encode())


def decrypt_key(kek: bytes, seal_id: str, blob: bytes) -> asn1_keys.PrivateKeyInfo:
    der = AESGCM(kek).decrypt(blob[:12], blob[12:], seal_id.encode())
    return asn1_keys.PrivateKeyInfo.load(der)


# ------------------------------------------------------------------------------------------- seal image
def draw_seal(unit: str, diameter_mm: float = SEAL_DIAMETER_MM, dpi: int = 300) -> Image.Image:
    ss = 2  # supersample, then downscale for smooth edges
    size = round(diameter_mm / 25.4 * dpi) * ss
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    c = size / 2
    ring = size * 0.035
    d.ellipse([ring / 2, ring / 2, size - ring / 2, size - ring / 2], outline=SEAL_RED, width=round(ring))
    # five-pointed star
    r_out, r_in = size * 0.17, size * 0.17 * 0.382
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        r = r_out if i % 2 == 0 else r_in
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    d.polygon(pts, fill=SEAL_RED)
    # unit name along the upper arc, clockwise, each glyph rotated to face the centre
    font_px = round(size * 0.13)
    font = ImageFont.truetype(CJK_FONT, font_px, index=0)  # index 0 of the TTC = Noto Serif CJK (SC glyphs)
    n = len(unit)
    span = min(240.0, 26.0 * n)  # degrees covered by the text
    r_text = c - ring * 1.8 - font_px * 0.8
    for i, ch in enumerate(unit):
        theta = -span / 2 + span * (i + 0.5) / n  # 0 = top, clockwise positive
        glyph = Image.new("RGBA", (font_px * 2, font_px * 2), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text((font_px, font_px), ch, font=font, fill=SEAL_RED, anchor="mm")
        glyph = glyph.rotate(-theta, resample=Image.BICUBIC)
        t = math.radians(theta)
        x, y = c + r_text * math.sin(t), c - r_text * math.cos(t)
        img.alpha_composite(glyph, (round(x - font_px), round(y - font_px)))
    return img.resize((size // ss, size // ss), Image.LANCZOS)


# ------------------------------------------------------------------------------------------- sample PDF
def make_pdf() -> tuple[bytes, tuple[float, float]]:
    """A4 page with a title, a body and, at the bottom right, 署名 + 成文日期. Returns (pdf, seal centre)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    cv = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    w, h = A4
    left, right = 28 * MM, w - 26 * MM
    cv.setFont("STSong-Light", 22)
    cv.drawCentredString(w / 2, h - 60 * MM, "关于开展电子印章试点工作的通知")
    cv.setFont("STSong-Light", 16)
    y = h - 80 * MM
    lines = [
        "各区人民政府，市政府各部门：",
        "　　为推进公文电子化，经市政府同意，决定在市政府办公室开展",
        "电子印章试点。试点期间，电子公文加盖电子印章后与纸质公文",
        "加盖实物印章具有同等效力。请各单位按要求做好相关工作。",
    ]
    for line in lines:
        cv.drawString(left, y, line)
        y -= 28.9
    # GB/T 9704 7.3.5.1: 成文日期右空四字, 署名以成文日期为准居中; seal 端正、居中下压署名和成文日期
    date_text = f"{NOW.year}年{NOW.month}月{NOW.day}日"
    date_right = right - 4 * 16
    date_y = y - 3 * 28.9
    date_w = cv.stringWidth(date_text, "STSong-Light", 16)
    centre_x = date_right - date_w / 2
    cv.drawCentredString(centre_x, date_y + 28.9, UNIT)
    cv.drawRightString(date_right, date_y, date_text)
    cv.showPage()
    cv.save()
    # 署名 and 日期 sit a little below the seal's centre ("居印章中心偏下")
    return buf.getvalue(), (centre_x, date_y + 28.9 / 2 + 16 * 0.9)


# ----------------------------------------------------------------------------------------------- sealing
class Platform:
    def __init__(self):
        (self.root_key, root, seal_key, seal_cert, tsa_key, tsa_cert) = make_pki()
        self.root_crypto, self.seal_cert_crypto = root, seal_cert
        self.root, self.seal_cert, self.tsa_cert = to_asn1_cert(root), to_asn1_cert(seal_cert), to_asn1_cert(tsa_cert)
        self.kek = AESGCM.generate_key(bit_length=256)  # prod: from settings/env (SEAL_KEK), never in the DB
        self.seal_id = "seal-0001"
        self.seal_key_blob = encrypt_key(self.kek, self.seal_id, seal_key)
        tsa_pk = asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.timestamper = DummyTimeStamper(tsa_cert=self.tsa_cert, tsa_key=tsa_pk)  # no root copy, see seal()
        self.crl = make_crl(self.root_key, root)
        self.registry: set[str] = set()  # prod: SealRecord.sha256 rows written in the 用印 transaction

    def validation_context(self, crl=None) -> ValidationContext:
        crl = crl or self.crl
        return ValidationContext(
            trust_roots=[self.root], crls=[crl.public_bytes(serialization.Encoding.DER)],
            allow_fetching=False, revocation_mode="require",
        )

    def seal(self, pdf: bytes, seal_png: Image.Image, centre: tuple[float, float], who: str) -> bytes:
        signer = signers.SimpleSigner(
            signing_cert=self.seal_cert,
            signing_key=decrypt_key(self.kek, self.seal_id, self.seal_key_blob),
            cert_registry=SimpleCertificateStore.from_certs([self.root]),
            # verifiers have the root anyway; an embedded copy is not covered by any signature, so a flipped byte
            # in it would go unnoticed (seen in this spike: 3 of 200 random flips)
            embed_roots=False,
        )
        side = SEAL_DIAMETER_MM * MM
        x, y = centre
        box = (round(x - side / 2), round(y - side / 2), round(x + side / 2), round(y + side / 2))
        meta = signers.PdfSignatureMetadata(
            field_name="Seal-1",
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,  # P=2: further seals (联合行文) still allowed
            reason="用印",
            location="某市",
            name=who,  # the person who pressed 用印 (the certificate names the unit)
            use_pades_lta=False,
            embed_validation_info=False,
        )
        style = StaticStampStyle(
            background=PdfImage(seal_png),
            background_opacity=0.88,  # black 署名/日期 stay legible through the red, like ink on paper
            border_width=0,
            background_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins.uniform(0)),
        )
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, timestamper=self.timestamper, stamp_style=style,
            new_field_spec=fields.SigFieldSpec(sig_field_name="Seal-1", on_page=0, box=box),
        )
        out = pdf_signer.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO(), bytes_reserved=BYTES_RESERVED).getvalue()
        self.registry.add(hashlib.sha256(out).hexdigest())
        return out


def contents_canonical(data: bytes, sig) -> bool:
    """The /Contents hex string is NOT covered by the ByteRange. PDF readers ignore its padding, whitespace and
    hex-digit case, so "9 of 200 random byte flips" slip past pyHanko. Issue #4 wants ANY changed byte to fail,
    so the platform also requires /Contents to be exactly <hex(CMS DER) + '0' padding> in one letter case."""
    (_, a_end), (b_start, _) = signed_ranges(data)
    gap = data[a_end:b_start]
    raw = bytes(sig.sig_object["/Contents"])
    _, _, _, header, body, _ = asn1_parser.parse(raw, strict=False)
    used = len(header) + len(body)
    hexed = raw.hex().encode()
    return raw[used:] == b"\0" * (len(raw) - used) and gap in (b"<" + hexed + b">", b"<" + hexed.upper() + b">")


def verify(data: bytes, vc_factory, registry: set[str] | None = None) -> dict:
    """The fields the verification page / API should show. Any parse error counts as invalid.

    pades_valid: what any PAdES verifier concludes (plus our /Contents canonical check).
    registered: the file's SHA-256 is one the platform recorded at 用印 (None = no registry consulted).
    valid: both. The registry is what makes "any changed byte fails" true: parts of the CMS envelope outside
    the signed attributes (SignedData version, digestAlgorithms set, ...) can be altered without breaking the
    signature (this spike found such bytes by exhaustive flipping)."""
    registered = None if registry is None else hashlib.sha256(data).hexdigest() in registry
    try:
        r = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = r.embedded_signatures
        if not sigs:
            return {"valid": False, "registered": registered, "reason": "no signature"}
        s = sigs[0]
        st = validate_pdf_signature(s, signer_validation_context=vc_factory(), ts_validation_context=vc_factory())
    except Exception as exc:  # noqa: BLE001 - a damaged file is an invalid file, never a 500
        return {"valid": False, "registered": registered, "reason": f"{type(exc).__name__}: {exc}"[:160]}
    ts = st.timestamp_validity
    canonical = contents_canonical(data, s)
    pades_valid = bool(st.bottom_line and canonical and ts is not None and ts.valid and ts.intact and ts.trusted)
    return {
        "valid": pades_valid and registered is not False,
        "pades_valid": pades_valid,
        "registered": registered,
        "contents_canonical": canonical,
        "intact": st.intact,
        "signature_valid": st.valid,
        "trusted": st.trusted,
        "revoked": st.revoked,
        "signer": st.signing_cert.subject.human_friendly,
        "signer_name": s.sig_object.get("/Name"),
        "reason": s.sig_object.get("/Reason"),
        "timestamp": ts.timestamp.isoformat() if ts else None,
        "timestamp_ok": bool(ts and ts.valid and ts.intact and ts.trusted),
        "tsa": ts.signing_cert.subject.human_friendly if ts else None,
        "coverage": st.coverage.name if st.coverage else None,
        "modification_level": st.modification_level.name if st.modification_level else None,
        "docmdp_ok": st.docmdp_ok,
        "bottom_line": st.bottom_line,
    }


def signed_ranges(data: bytes) -> list[tuple[int, int]]:
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    a, b, c, d = map(int, m.groups())
    return [(a, a + b), (c, c + d)]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main(out_dir: Path) -> int:
    logging.disable(logging.CRITICAL)  # pyHanko logs expected validation failures with tracebacks
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    platform = Platform()
    print(f"PKI (root P-256, seal P-256, TSA RSA-2048) + CRL: {1000 * (time.perf_counter() - t0):.0f} ms")
    seal_png = draw_seal(UNIT)
    seal_png.save(out_dir / "seal.png")
    pdf, centre = make_pdf()
    (out_dir / "plain.pdf").write_bytes(pdf)

    sealed = platform.seal(pdf, seal_png, centre, who="bgs.sfy 收发员")
    (out_dir / "sealed.pdf").write_bytes(sealed)
    vc = platform.validation_context
    ok = verify(sealed, vc, platform.registry)
    print("sealed:", ok)
    failures = []
    if not (ok["valid"] and ok["pades_valid"] and ok["registered"]) or ok["coverage"] != "ENTIRE_FILE":
        failures.append("sealed document does not verify")

    # one flipped byte inside the original page content (a digit of the date in the content stream)
    ranges = signed_ranges(sealed)
    pos = sealed.index(b"BT", sealed.index(b"stream")) + 40
    assert ranges[0][0] <= pos < ranges[0][1]
    tampered = bytearray(sealed)
    tampered[pos] ^= 0x01
    (out_dir / "tampered.pdf").write_bytes(bytes(tampered))
    bad = verify(bytes(tampered), vc, platform.registry)
    print(f"one byte flipped at {pos}:", bad)
    if bad["valid"]:
        failures.append("tampered document still verifies")

    # sweep: FLIPS random single-byte flips anywhere in the file
    rng = random.Random(4)
    outcome = {"valid": 0, "invalid": 0, "unreadable": 0, "pades_alone_missed": 0}
    for _ in range(FLIPS):
        p = rng.randrange(len(sealed))
        t = bytearray(sealed)
        t[p] ^= 1 << rng.randrange(8)
        res = verify(bytes(t), vc, platform.registry)
        outcome["pades_alone_missed"] += bool(res.get("pades_valid"))
        outcome["valid" if res["valid"] else ("unreadable" if "intact" not in res else "invalid")] += 1
    print(f"{FLIPS} random single-byte flips:", outcome)
    if outcome["valid"]:
        failures.append("a flipped byte went undetected")

    # an incremental update appended after sealing that draws on the page: bytes of the signed revision are
    # untouched (intact stays True), only the diff analysis catches it
    w = IncrementalPdfFileWriter(io.BytesIO(sealed))
    stream = generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 200 50 re f Q")
    w.add_stream_to_page(0, w.add_object(stream))
    buf = io.BytesIO()
    w.write(buf)
    appended = buf.getvalue()
    (out_dir / "appended.pdf").write_bytes(appended)
    app = verify(appended, vc, platform.registry)
    print("incremental update appended:", app)
    if app["valid"]:
        failures.append("appended page change not detected")

    # revoked seal certificate (key compromise): CRL from the platform CA lists it
    revoked_crl = make_crl(platform.root_key, platform.root_crypto, [platform.seal_cert_crypto.serial_number])
    rev = verify(sealed, lambda: platform.validation_context(revoked_crl), platform.registry)
    print("seal certificate revoked:", {k: rev.get(k) for k in ("valid", "trusted", "revoked", "reason")})
    if rev["valid"]:
        failures.append("revoked seal still verifies")

    # retired seal (superseded, revoked AFTER the document was sealed): informational, see notes
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    sup_crl = make_crl(platform.root_key, platform.root_crypto, [platform.seal_cert_crypto.serial_number],
                       reason=x509.ReasonFlags.superseded, when=later)
    sup = verify(sealed, lambda: platform.validation_context(sup_crl))
    print("seal superseded after sealing (info):", {k: sup.get(k) for k in ("valid", "trusted", "revoked")})

    # an unrelated CA: not trusted
    other = Platform()
    foreign = verify(sealed, other.validation_context)
    print("verified against another platform's CA:", {k: foreign.get(k) for k in ("valid", "intact", "trusted")})
    if foreign["valid"]:
        failures.append("foreign CA accepted")

    # timings
    seal_ms, verify_ms, img_ms = [], [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        draw_seal(UNIT)
        img_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        s = platform.seal(pdf, seal_png, centre, who="bgs.sfy 收发员")
        seal_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        assert verify(s, vc, platform.registry)["valid"]
        verify_ms.append(1000 * (time.perf_counter() - t))
    print(f"timings over {RUNS} runs (ms): seal p50 {statistics.median(seal_ms):.1f} p95 {pct(seal_ms, 95):.1f} | "
          f"verify p50 {statistics.median(verify_ms):.1f} p95 {pct(verify_ms, 95):.1f} | "
          f"draw seal image p50 {statistics.median(img_ms):.1f}")
    print(f"sizes: plain {len(pdf)} B, sealed {len(sealed)} B (+{len(sealed) - len(pdf)} B), "
          f"seal.png {os.path.getsize(out_dir / 'seal.png')} B")
    if failures:
        print("FAILURES:", failures)
        return 1
    print("all checks passed")
    return 0


# ------------------------------------------------------------------------------------ 国密 (SM2/SM3) experiment
def gm_experiment(pdf: bytes) -> int:
    """`--gm`: can pyHanko make and check a PDF signature whose CMS uses SM2-with-SM3 (GM/T 0010 OIDs)?

    Needs `pip install tongsuopy` (a cryptography fork on Tongsuo/OpenSSL with SM2). pyca/cryptography has SM3
    and SM4 but no SM2, so certificates are built with asn1crypto and signed with tongsuopy; pyHanko gets a
    Signer subclass (sign_raw) and pyhanko-certvalidator a SignatureValidator plug-in for SM2."""
    from asn1crypto import algos
    from asn1crypto import x509 as ax
    from pyhanko.sign.signers.pdf_cms import Signer
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator, SignatureValidator
    from tongsuopy.crypto import hashes as t_hashes
    from tongsuopy.crypto import serialization as t_ser
    from tongsuopy.crypto.asymciphers import ec as t_ec

    # teach asn1crypto the GM/T 0006 OIDs (pyHanko and certvalidator name algorithms through asn1crypto)
    asn1_keys.NamedCurve.register("sm2p256v1", "1.2.156.10197.1.301", 32)
    for cls, oid, name in ((algos.DigestAlgorithmId, "1.2.156.10197.1.401", "sm3"),
                           (algos.SignedDigestAlgorithmId, "1.2.156.10197.1.501", "sm2_sm3")):
        cls._map[oid] = name
        if cls._reverse_map is not None:
            cls._reverse_map[name] = oid
    sm2_sm3 = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})

    def spki(pub) -> asn1_keys.PublicKeyInfo:
        return asn1_keys.PublicKeyInfo.load(pub.public_bytes(t_ser.Encoding.DER, t_ser.PublicFormat.SubjectPublicKeyInfo))

    def sm2_sign(key, data: bytes) -> bytes:  # GM/T 0009: e = SM3(Z_A || M), default ID; DER SEQUENCE{r, s}
        return key.sign(data, t_ec.ECDSA(t_hashes.SM3()))

    def cert(subject, issuer, pub, issuer_key, ca: bool) -> ax.Certificate:
        ext = [{"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
               {"extn_id": "key_usage", "critical": True,
                "extn_value": {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}}]
        tbs = ax.TbsCertificate({
            "version": "v3", "serial_number": x509.random_serial_number(), "signature": sm2_sm3,
            "issuer": issuer, "subject": subject, "subject_public_key_info": spki(pub),
            "validity": {"not_before": ax.Time({"utc_time": NOW - dt.timedelta(hours=1)}),
                         "not_after": ax.Time({"utc_time": NOW + dt.timedelta(days=365)})},
            "extensions": ext,
        })
        return ax.Certificate({"tbs_certificate": tbs, "signature_algorithm": sm2_sm3,
                               "signature_value": sm2_sign(issuer_key, tbs.dump())})

    root_key, seal_key = t_ec.generate_private_key(t_ec.SM2()), t_ec.generate_private_key(t_ec.SM2())
    root_name = ax.Name.build({"country_name": "CN", "organization_name": "政通平台", "common_name": "政通国密根CA"})
    seal_name = ax.Name.build({"country_name": "CN", "organization_name": "某市人民政府", "common_name": f"{UNIT}印章"})
    root = cert(root_name, root_name, root_key.public_key(), root_key, True)
    seal = cert(seal_name, root_name, seal_key.public_key(), root_key, False)

    class SM2Signer(Signer):
        def __init__(self):
            super().__init__(signing_cert=seal, cert_registry=SimpleCertificateStore.from_certs([root]),
                             signature_mechanism=sm2_sm3, embed_roots=False)

        def get_signature_mechanism_for_digest(self, digest_algorithm):
            return sm2_sm3

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
            assert digest_algorithm == "sm3"
            return sm2_sign(seal_key, data)

    class SM2Validator(SignatureValidator):
        def validate_signature(self, signature, signed_data, public_key_info, signature_algorithm, context=None):
            if signature_algorithm["algorithm"].native != "sm2_sm3":
                return DefaultSignatureValidator().validate_signature(
                    signature, signed_data, public_key_info, signature_algorithm, *([context] if context else []))
            pub = t_ser.load_der_public_key(public_key_info.dump())
            try:
                pub.verify(signature, signed_data, t_ec.ECDSA(t_hashes.SM3()))
            except Exception as exc:
                from cryptography.exceptions import InvalidSignature
                raise InvalidSignature() from exc

    steps = {}
    try:
        meta = signers.PdfSignatureMetadata(field_name="GMSeal", md_algorithm="sm3",
                                            subfilter=fields.SigSeedSubFilter.PADES, reason="用印（国密）")
        t = time.perf_counter()
        out = signers.PdfSigner(meta, signer=SM2Signer()).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO()).getvalue()
        steps["sign_ms"] = round(1000 * (time.perf_counter() - t), 1)
        steps["signed"] = True
    except Exception as exc:  # noqa: BLE001
        print("国密 signing failed:", type(exc).__name__, exc)
        return 1
    sig = PdfFileReader(io.BytesIO(out)).embedded_signatures[0]
    si = sig.signer_info
    steps["cms_digest_oid"] = si["digest_algorithm"]["algorithm"].dotted
    steps["cms_signature_oid"] = si["signature_algorithm"]["algorithm"].dotted

    def check(data: bytes, validator) -> str:
        try:
            s = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[0]
            vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail",
                                   signature_validator=validator)
            st = validate_pdf_signature(s, signer_validation_context=vc)
            return f"intact={st.intact} valid={st.valid} trusted={st.trusted} bottom_line={st.bottom_line}"
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__}: {str(exc)[:120]}"

    steps["verify_stock_pyhanko"] = check(out, None)
    t = time.perf_counter()
    steps["verify_with_sm2_plugin"] = check(out, SM2Validator())
    steps["verify_ms"] = round(1000 * (time.perf_counter() - t), 1)
    flipped = bytearray(out)
    flipped[out.index(b"BT", out.index(b"stream")) + 40] ^= 1
    steps["tampered_with_sm2_plugin"] = check(bytes(flipped), SM2Validator())
    for k, v in steps.items():
        print(f"国密 {k}: {v}")
    return 0


if __name__ == "__main__":
    if "--gm" in sys.argv:
        logging.disable(logging.CRITICAL)
        sys.exit(gm_experiment(make_pdf()[0]))
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/seal-spike")))
