"""Cryptographic helpers. SM3 (GB/T 32905) is the platform's hash for integrity (R7.3)."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def canonical_json(value: Any) -> bytes:
    """Stable bytes for hashing: sorted keys, no whitespace, UTF-8, dates as ISO strings."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def token_digest(token: str) -> str:
    """Tokens are stored as digests only, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()
