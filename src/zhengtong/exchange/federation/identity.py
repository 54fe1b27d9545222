"""An instance's exchange identity: a key pair and a certificate naming the instance (CN = its instance id).

ECDSA P-256 by default; Ed25519, or SM2 with SM3 (国密, `EXCHANGE_ALGORITHM=sm2`) as options. Peers pin each
other's certificates (the directory), so trust is "this certificate, for this instance, within its validity", not
a public PKI.

SM2: `cryptography` has no SM2 curve, so SM2 keys, signatures and SM3 come from tongsuopy (the `gm` extra; the
Tongsuo OpenSSL fork — docs/seal-notes.md) and the certificate is assembled with asn1crypto: X.509 v3, SM2 public
key (curve 1.2.156.10197.1.301), signed SM2-with-SM3 (1.2.156.10197.1.501), as GM/T 0015 lays it out. Signatures
use the default SM2 user id (1234567812345678) for Z_A. `cryptography` still parses such a certificate (name,
validity); only its public key is read through tongsuopy.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from zhengtong.core.errors import ServiceError

ALGORITHMS = ("ecdsa-p256", "ed25519", "sm2")
LABELS = {"ecdsa-p256": "ECDSA P-256", "ed25519": "Ed25519", "sm2": "SM2/SM3（国密）"}
SM2_CURVE = "1.2.156.10197.1.301"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
ORGANIZATION = "政通公文交换"
logger = logging.getLogger(__name__)


class GmUnavailable(ServiceError):
    """SM2 asked for where tongsuopy is not installed: the operators must install it (503 to a neighbour, a
    refusal at `federation_init` or `federation_link`)."""
    status = 503


def _gm():
    try:
        from tongsuopy.crypto import hashes as gm_hashes
        from tongsuopy.crypto import serialization as gm_serialization
        from tongsuopy.crypto.asymciphers import ec as gm_ec
    except ImportError as exc:  # pragma: no cover — the gm extra is part of the dev install
        logger.error("exchange: an SM2 identity is in use and tongsuopy is not installed")
        raise GmUnavailable("exchange.gm_unavailable",
                            "国密（SM2）交换身份需要安装 tongsuopy：pip install 'zhengtong[gm]'") from exc
    return gm_ec, gm_hashes, gm_serialization


@dataclass(frozen=True)
class InstanceKey:
    instance_id: str
    algorithm: str
    private_key: object
    certificate: x509.Certificate

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == "ed25519":
            return self.private_key.sign(data)
        if self.algorithm == "sm2":
            gm_ec, gm_hashes, _ = _gm()
            return self.private_key.sign(data, gm_ec.ECDSA(gm_hashes.SM3()))
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_der(self) -> bytes:
        """PKCS#8 DER (to be encrypted at rest)."""
        if self.algorithm == "sm2":
            _, _, gm_serialization = _gm()
            return self.private_key.private_bytes(gm_serialization.Encoding.DER, gm_serialization.PrivateFormat.PKCS8,
                                                  gm_serialization.NoEncryption())
        return self.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())


def load_private(algorithm: str, der: bytes):
    if algorithm == "sm2":
        return _gm()[2].load_der_private_key(der, None)
    return serialization.load_der_private_key(der, None)


def generate(instance_id: str, *, algorithm: str = "ecdsa-p256", days: int = 825,
             not_before: datetime | None = None) -> InstanceKey:
    """A new key and a self-signed certificate for `instance_id` (e.g. "city-shifan"), valid `days`."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}")
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    if algorithm == "sm2":
        return _generate_sm2(instance_id, start, start + timedelta(days=days))
    key = ed25519.Ed25519PrivateKey.generate() if algorithm == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, instance_id),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + timedelta(days=days))
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False),
                              critical=True))
    certificate = builder.sign(key, None if algorithm == "ed25519" else hashes.SHA256())
    return InstanceKey(instance_id, algorithm, key, certificate)


def _generate_sm2(instance_id: str, start: datetime, end: datetime) -> InstanceKey:
    from asn1crypto import algos, keys
    from asn1crypto import x509 as asn1_x509

    gm_ec, gm_hashes, gm_serialization = _gm()
    key = gm_ec.generate_private_key(gm_ec.SM2())
    spki = key.public_key().public_bytes(gm_serialization.Encoding.DER,
                                         gm_serialization.PublicFormat.SubjectPublicKeyInfo)
    name = asn1_x509.Name.build({"common_name": instance_id, "organization_name": ORGANIZATION})
    algorithm = algos.SignedDigestAlgorithm({"algorithm": SM2_WITH_SM3})
    key_usage = asn1_x509.KeyUsage({"digital_signature", "non_repudiation"})
    tbs = asn1_x509.TbsCertificate({
        "version": "v3", "serial_number": x509.random_serial_number(), "signature": algorithm, "issuer": name,
        "validity": {"not_before": asn1_x509.Time({"utc_time": start}),
                     "not_after": asn1_x509.Time({"utc_time": end})},
        "subject": name, "subject_public_key_info": keys.PublicKeyInfo.load(spki),
        "extensions": [{"extn_id": "key_usage", "critical": True, "extn_value": key_usage}]})
    signature = key.sign(tbs.dump(), gm_ec.ECDSA(gm_hashes.SM3()))
    der = asn1_x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": algorithm,
                                 "signature_value": signature}).dump()
    return InstanceKey(instance_id, "sm2", key, x509.load_der_x509_certificate(der))


def digest_name(algorithm: str) -> str:
    """The hash an instance's envelopes and requests use: SM3 in 国密 mode, SHA-256 otherwise."""
    return "sm3" if algorithm == "sm2" else "sha256"


DIGESTS = ("sha256", "sm3")


def hexdigest(name: str, data: bytes) -> str:
    if name == "sha256":
        return hashlib.sha256(data).hexdigest()
    if name == "sm3":
        digest = hashes.Hash(hashes.SM3())  # OpenSSL's SM3, in cryptography itself
        digest.update(data)
        return digest.finalize().hex()
    raise ValueError(f"digest must be one of {DIGESTS}")


def instance_of(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else ""


def algorithm_of(certificate: x509.Certificate) -> str:
    """One of ALGORITHMS, or "unknown" for a key this platform does not sign with (its signatures never verify).
    GmUnavailable if it is SM2 and tongsuopy is not installed."""
    try:
        if _sm2_public_key(certificate) is not None:
            return "sm2"
        public = certificate.public_key()
    except GmUnavailable:
        raise
    except Exception:  # noqa: BLE001 — a key that cannot be read
        return "unknown"
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        return "ecdsa-p256"
    return "unknown"


@lru_cache(maxsize=256)
def _sm2_public_key(certificate: x509.Certificate):
    """The tongsuopy public key of an SM2 certificate; None for any other (cryptography reads those itself)."""
    try:
        certificate.public_key()
        return None
    except UnsupportedAlgorithm:
        pass
    from asn1crypto import x509 as asn1_x509

    spki = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))[
        "tbs_certificate"]["subject_public_key_info"]
    if spki["algorithm"]["parameters"].dump() != _named_curve(SM2_CURVE):
        return None
    return _gm()[2].load_der_public_key(spki.dump())


def _named_curve(oid: str) -> bytes:
    from asn1crypto import core

    return core.ObjectIdentifier(oid).dump()


def verify_signature(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    try:
        sm2 = _sm2_public_key(certificate)
        if sm2 is not None:
            gm_ec, gm_hashes, _ = _gm()
            sm2.verify(signature, data, gm_ec.ECDSA(gm_hashes.SM3()))
            return True
        public = certificate.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except GmUnavailable:
        raise
    except Exception:  # noqa: BLE001 — InvalidSignature, a malformed signature or key: all mean "not signed by it"
        return False
    return True
