"""Signed envelopes between instances (issue #5 §2): what a trusted peer signed opens; any changed byte of a file or
the manifest, an unknown sender, a forged key or an expired certificate is refused with a stable code."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from zhengtong.exchange.federation import identity
from zhengtong.exchange.federation.envelope import (
    MAGIC,
    EnvelopeRefused,
    canonical,
    open_envelope,
    seal_envelope,
)

PDF = b"%PDF-1.7\n" + bytes(random.Random(1).randrange(256) for _ in range(20_000)) + b"\n%%EOF\n"
ATTACHMENT = "附件：2027年度学校安全检查表".encode() * 50


def sealed(key, **overrides):
    values = dict(sender_unit={"code": "11990100000000001X", "name": "示范市人民政府"},
                  recipients=[{"unit_code": "11990200000000002X", "kind": "main"}],
                  document={"title": "示范市人民政府关于做好2027年冬季校园安全工作的通知", "doc_number": "示政发〔2026〕2号"},
                  files=[("正文.pdf", "sealed_pdf", PDF), ("附件1.docx", "attachment", ATTACHMENT)])
    values.update(overrides)
    return seal_envelope(key, **values)


@pytest.fixture(scope="module", params=identity.ALGORITHMS)
def city(request):
    return identity.generate("city-shifan", algorithm=request.param)


@pytest.mark.parametrize("algorithm", identity.ALGORITHMS)
def test_a_peer_signed_envelope_opens_with_its_files(algorithm):
    key = identity.generate("county-qingchuan", algorithm=algorithm)
    envelope_id, data = sealed(key)
    opened = open_envelope(data, {key.instance_id: key.certificate})
    assert opened.envelope_id == envelope_id and opened.files == {"正文.pdf": PDF, "附件1.docx": ATTACHMENT}
    assert opened.manifest["document"]["doc_number"] == "示政发〔2026〕2号"
    assert data.startswith(MAGIC)


def test_every_single_byte_changed_anywhere_is_refused(city):
    _, data = sealed(city)
    trusted = {city.instance_id: city.certificate}
    rnd = random.Random(20261127)
    codes = set()
    for _ in range(300):
        at = rnd.randrange(len(data))
        changed = bytearray(data)
        changed[at] ^= 1 << rnd.randrange(8)
        with pytest.raises(EnvelopeRefused) as exc:
            open_envelope(bytes(changed), trusted)
        codes.add(exc.value.code)
    # most of the bytes are file bytes: those flips are caught by the hashes
    assert "exchange.envelope_tampered" in codes
    assert codes <= {"exchange.envelope_tampered", "exchange.envelope_signature_invalid", "exchange.envelope_malformed",
                     "exchange.unknown_sender"}


def test_each_region_of_the_envelope_has_its_own_refusal(city):
    _, data = sealed(city)
    trusted = {city.instance_id: city.certificate}
    manifest_at = len(MAGIC) + 4 + 10
    pdf_at = data.index(PDF[:64]) + 100

    def refused(blob):
        with pytest.raises(EnvelopeRefused) as exc:
            open_envelope(blob, trusted)
        return exc.value.code

    def flip(at):
        return data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1:]

    assert refused(flip(pdf_at)) == "exchange.envelope_tampered"
    assert refused(flip(manifest_at)) in {"exchange.envelope_signature_invalid", "exchange.envelope_malformed"}
    assert refused(data + b"\x00") == "exchange.envelope_tampered"
    assert refused(data[:-1]) == "exchange.envelope_malformed"
    assert refused(b"PK\x03\x04" + data) == "exchange.envelope_malformed"


def test_an_unknown_sender_a_forged_key_and_a_rewritten_manifest_are_refused(city):
    _, data = sealed(city)
    with pytest.raises(EnvelopeRefused) as exc:
        open_envelope(data, {})
    assert exc.value.code == "exchange.unknown_sender" and "city-shifan" in exc.value.message
    impostor = identity.generate("city-shifan", algorithm=city.algorithm)  # same name, another key
    _, forged = sealed(impostor)
    with pytest.raises(EnvelopeRefused) as exc:
        open_envelope(forged, {city.instance_id: city.certificate})
    assert exc.value.code == "exchange.envelope_signature_invalid"
    # a certificate pinned under another instance's name does not vouch for this sender
    with pytest.raises(EnvelopeRefused) as exc:
        open_envelope(data, {city.instance_id: identity.generate("province").certificate})
    assert exc.value.code == "exchange.unknown_sender"


@pytest.mark.parametrize("algorithm", identity.ALGORITHMS)
def test_an_expired_or_not_yet_valid_certificate_is_refused(algorithm):
    old = identity.generate("county-old", days=30, not_before=datetime.now(UTC) - timedelta(days=60),
                            algorithm=algorithm)
    _, data = sealed(old)
    with pytest.raises(EnvelopeRefused) as exc:
        open_envelope(data, {old.instance_id: old.certificate})
    assert exc.value.code == "exchange.certificate_expired"
    future = identity.generate("county-new", not_before=datetime.now(UTC) + timedelta(days=1), algorithm=algorithm)
    _, data = sealed(future)
    with pytest.raises(EnvelopeRefused) as exc:
        open_envelope(data, {future.instance_id: future.certificate})
    assert exc.value.code == "exchange.certificate_expired"


def test_the_manifest_is_canonical_json_and_names_every_file_with_its_hash(city):
    import hashlib
    import json
    import struct

    _, data = sealed(city)
    size = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])[0]
    body = data[len(MAGIC) + 4:len(MAGIC) + 4 + size]
    manifest = json.loads(body)
    assert canonical(manifest) == body
    digest = "sm3" if city.algorithm == "sm2" else "sha256"  # 国密 mode hashes with SM3
    assert [(f["name"], f[digest]) for f in manifest["files"]] == [
        ("正文.pdf", identity.hexdigest(digest, PDF)), ("附件1.docx", identity.hexdigest(digest, ATTACHMENT))]
    assert identity.hexdigest("sm3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert identity.hexdigest("sha256", PDF) == hashlib.sha256(PDF).hexdigest()
    with pytest.raises(ValueError):
        sealed(city, files=[("a.pdf", "sealed_pdf", PDF), ("a.pdf", "attachment", PDF)])


def test_a_gm_identity_is_an_sm2_certificate_with_sm2_sm3_signatures():
    """国密 mode: an X.509 v3 certificate with an SM2 key (curve 1.2.156.10197.1.301), self-signed SM2-with-SM3
    (1.2.156.10197.1.501); it survives PEM (the directory stores it so) and signs envelopes only its key can."""
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = identity.generate("county-gm", algorithm="sm2")
    pinned = x509.load_pem_x509_certificate(key.certificate_pem())
    parsed = asn1_x509.Certificate.load(pinned.public_bytes(serialization.Encoding.DER))
    assert pinned.signature_algorithm_oid.dotted_string == identity.SM2_WITH_SM3
    assert parsed["tbs_certificate"]["subject_public_key_info"]["algorithm"]["parameters"].dump() == \
        bytes.fromhex("06082a811ccf5501822d")  # OID 1.2.156.10197.1.301, the SM2 curve
    assert identity.instance_of(pinned) == "county-gm" and identity.algorithm_of(pinned) == "sm2"
    assert identity.verify_signature(pinned, pinned.signature, pinned.tbs_certificate_bytes)  # self-signed
    signature = key.sign(b"ZT")
    assert identity.verify_signature(pinned, signature, b"ZT") and not identity.verify_signature(pinned, signature,
                                                                                                   b"ZU")
    assert not identity.verify_signature(identity.generate("county-gm", algorithm="sm2").certificate, signature,
                                         b"ZT")
    # an SM2 envelope opens at an instance whose own identity is ECDSA (mixed levels exchange)
    _, data = sealed(key)
    assert open_envelope(data, {"county-gm": pinned}).files["正文.pdf"] == PDF


def test_an_instance_in_gm_mode_must_hash_with_sm3(monkeypatch):
    """The digest follows the signer's algorithm: an SM2-signed manifest listing SHA-256 digests is refused (the
    signature is valid — the rule is 国密 all the way)."""
    from zhengtong.exchange.federation import envelope

    key = identity.generate("county-gm", algorithm="sm2")
    monkeypatch.setattr(envelope, "digest_name", lambda algorithm: "sha256")
    _, data = sealed(key)
    monkeypatch.undo()
    with pytest.raises(EnvelopeRefused) as exc:
        open_envelope(data, {"county-gm": key.certificate})
    assert exc.value.code == "exchange.envelope_malformed" and "SM3" in exc.value.message
