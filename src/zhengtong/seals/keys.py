"""Private keys at rest: AES-256-GCM under the platform master key (SEAL_MASTER_KEY, or a 0600 key file in DATA_DIR
for development), with associated data binding each blob to its row so blobs cannot be swapped between seals."""
from __future__ import annotations

import base64
import os
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def master_key() -> bytes:
    configured = getattr(settings, "SEAL_MASTER_KEY", "")
    if configured:
        key = base64.b64decode(configured)
        if len(key) != 32:
            raise ImproperlyConfigured("SEAL_MASTER_KEY must be 32 bytes, base64-encoded")
        return key
    path = settings.DATA_DIR / "seal_master_key"
    if not path.exists():
        # written whole to a private temp file, then linked into place: a concurrent process never reads a
        # half-written key, and if two race, the first link wins and both read its key
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".seal_master_key.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return base64.b64decode(path.read_bytes())


def encrypt_private_key(private_key, aad: str) -> bytes:
    return encrypt_der(private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()), aad)


def encrypt_der(der: bytes, aad: str) -> bytes:
    """A PKCS#8 DER key (any library's), AES-256-GCM under the master key, bound to `aad`."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master_key()).encrypt(nonce, der, aad.encode())


def decrypt_private_key(blob: bytes, aad: str) -> bytes:
    """PKCS#8 DER of the key (raises cryptography's InvalidTag if the blob or its binding was changed)."""
    blob = bytes(blob)
    return AESGCM(master_key()).decrypt(blob[:12], blob[12:], aad.encode())
