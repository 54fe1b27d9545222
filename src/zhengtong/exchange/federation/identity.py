"""An instance's exchange identity: a key pair and a certificate naming the instance (CN = its instance id).

ECDSA P-256 by default, Ed25519 as an option; 国密 (SM2) is for a later step — docs/seal-notes.md says what the
libraries allow. Peers pin each other's certificates (the directory), so trust is "this certificate, for this
instance, within its validity", not a public PKI.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

ALGORITHMS = ("ecdsa-p256", "ed25519")


@dataclass(frozen=True)
class InstanceKey:
    instance_id: str
    algorithm: str
    private_key: object
    certificate: x509.Certificate

    def sign(self, data: bytes) -> bytes:
        if self.algorithm == "ed25519":
            return self.private_key.sign(data)
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def generate(instance_id: str, *, algorithm: str = "ecdsa-p256", days: int = 825,
             not_before: datetime | None = None) -> InstanceKey:
    """A new key and a self-signed certificate for `instance_id` (e.g. "city-shifan"), valid `days`."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}")
    key = ed25519.Ed25519PrivateKey.generate() if algorithm == "ed25519" else ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, instance_id),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "政通公文交换")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + timedelta(days=days))
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False),
                              critical=True))
    certificate = builder.sign(key, None if algorithm == "ed25519" else hashes.SHA256())
    return InstanceKey(instance_id, algorithm, key, certificate)


def instance_of(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else ""


def verify_signature(certificate: x509.Certificate, signature: bytes, data: bytes) -> bool:
    public = certificate.public_key()
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except Exception:  # noqa: BLE001 — InvalidSignature or a malformed signature: both mean "not signed by it"
        return False
    return True
