"""Certificates: the platform root (ECDSA P-256), seal certificates (P-256, the unit in O/OU/CN), the time-stamping
certificate (RSA-2048: pyHanko's in-process time stamper signs with RSA only) and the CRL."""
from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SEAL_YEARS = 5


def name(cn: str, org: str, ou: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def load(pem_text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem_text.encode())


def _key_usage(*, cert_sign: bool = False, sign: bool = True, commitment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=commitment, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
                         encipher_only=False, decipher_only=False)


def make_root(platform: str, now: dt.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = name(f"{platform}电子印章根CA", platform)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True, sign=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(root_key, root: x509.Certificate, public_key, subject: x509.Name, now: dt.datetime, *, years: int,
          tsa: bool = False) -> x509.Certificate:
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(root.subject).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=years * 365))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(commitment=not tsa), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False))
    if tsa:  # RFC 3161 §2.3: only id-kp-timeStamping, critical
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(root_key, hashes.SHA256())


def make_tsa(root_key, root, platform: str, now: dt.datetime):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, issue(root_key, root, key.public_key(), name(f"{platform}时间戳服务", platform), now, years=10,
                      tsa=True)


def make_seal_key():
    return ec.generate_private_key(ec.SECP256R1())


def make_crl(root_key, root: x509.Certificate, revoked: list[tuple[int, dt.datetime]], number: int,
             now: dt.datetime) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
               .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=30))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                              critical=False))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False).build())
    return builder.sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
