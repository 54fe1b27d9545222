"""The signed envelope a document travels in between instances (issue #5 §2).

Layout (every byte is covered: a changed byte makes the envelope unreadable, its signature invalid or a file's
hash wrong — there is no container metadata outside the signature, unlike a zip's headers):

    b"ZTENV1\\n"
    u32 length + manifest   canonical JSON (sorted keys, no spaces, UTF-8): envelope id, time, sender instance and
                            unit, recipients, document metadata, and per file its name, role, size and digest
                            ("sha256", or "sm3" from an instance in 国密 mode)
    u32 length + signature  over the manifest bytes, by the sender instance's key
    for each file in manifest order: u64 length + bytes

`seal_envelope` builds one; `open_envelope` refuses anything that is not exactly what a trusted peer signed, with a
stable code: exchange.envelope_malformed, exchange.unknown_sender, exchange.certificate_expired (or not yet valid),
exchange.envelope_signature_invalid, exchange.envelope_tampered (a file's size or hash), exchange.envelope_too_large.
"""
from __future__ import annotations

import json
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from zhengtong.core.errors import ServiceError

from .identity import (
    DIGESTS,
    InstanceKey,
    algorithm_of,
    digest_name,
    hexdigest,
    instance_of,
    verify_signature,
)

MAGIC = b"ZTENV1\n"
VERSION = 1
MAX_MANIFEST = 1024 * 1024
MAX_FILES = 100
MAX_TOTAL = 512 * 1024 * 1024
KINDS = ("document", "receipt", "request")


class EnvelopeRefused(ServiceError):
    status = 400


@dataclass(frozen=True)
class Opened:
    manifest: dict
    files: dict[str, bytes]  # name → bytes, in manifest order

    @property
    def envelope_id(self) -> str:
        return self.manifest["envelope_id"]


def canonical(manifest: dict) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def seal_envelope(key: InstanceKey, *, sender_unit: dict, recipients: list[dict], document: dict,
                  files: list[tuple[str, str, bytes]], envelope_id: str | None = None,
                  created_at: datetime | None = None, kind: str = "document",
                  to_instance: str = "") -> tuple[str, bytes]:
    """(envelope id, bytes). `files`: (name, role, bytes) — e.g. ("正文.pdf", "sealed_pdf", …). `kind`: document,
    receipt or request; `to_instance`: the instance it is for (relays pass it on unchanged)."""
    digest = digest_name(key.algorithm)  # SM3 in 国密 mode
    names = [name for name, _, _ in files]
    if len(set(names)) != len(names) or len(files) > MAX_FILES:
        raise ValueError("file names must be unique, at most MAX_FILES")
    manifest = {
        "version": VERSION, "envelope_id": envelope_id or str(uuid.uuid4()), "kind": kind, "to_instance": to_instance,
        "created_at": (created_at or datetime.now(UTC)).isoformat(), "sender_instance": key.instance_id,
        "sender_unit": sender_unit, "recipients": recipients, "document": document,
        "files": [{"name": name, "role": role, "size": len(data), digest: hexdigest(digest, data)}
                  for name, role, data in files],
    }
    body = canonical(manifest)
    signature = key.sign(body)
    out = [MAGIC, struct.pack(">I", len(body)), body, struct.pack(">I", len(signature)), signature]
    for _, _, data in files:
        out += [struct.pack(">Q", len(data)), data]
    return manifest["envelope_id"], b"".join(out)


def _refuse(code: str, message: str, **details) -> EnvelopeRefused:
    return EnvelopeRefused(code, message, details=details)


def open_envelope(data: bytes, trusted: dict, *, now: datetime | None = None) -> Opened:
    """Read and check an envelope. `trusted`: instance id → its pinned x509 certificate (the directory)."""
    if len(data) > MAX_TOTAL + MAX_MANIFEST:
        raise _refuse("exchange.envelope_too_large", "交换包过大")
    view = memoryview(data)
    at = 0

    def take(n: int) -> bytes:
        nonlocal at
        if n < 0 or at + n > len(view):
            raise _refuse("exchange.envelope_malformed", "交换包格式错误或不完整")
        chunk = bytes(view[at:at + n])
        at += n
        return chunk

    if take(len(MAGIC)) != MAGIC:
        raise _refuse("exchange.envelope_malformed", "不是政通公文交换包")
    size = struct.unpack(">I", take(4))[0]
    if size > MAX_MANIFEST:
        raise _refuse("exchange.envelope_malformed", "交换包清单过大")
    body = take(size)
    signature = take(struct.unpack(">I", take(4))[0])
    try:
        manifest = json.loads(body)
        sender, listed = manifest["sender_instance"], manifest["files"]
        shaped = (manifest["version"] == VERSION and isinstance(sender, str) and isinstance(listed, list)
                  and manifest.get("kind") in KINDS and isinstance(manifest.get("to_instance"), str)
                  and len(listed) <= MAX_FILES
                  and all(isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("size"), int)
                          and len([d for d in DIGESTS if isinstance(f.get(d), str)]) == 1 for f in listed))
    except Exception:  # noqa: BLE001 — any shape error is a malformed envelope
        shaped = False
    if not shaped:
        raise _refuse("exchange.envelope_malformed", "交换包清单无法读取")
    certificate = trusted.get(sender)
    if certificate is None or instance_of(certificate) != sender:
        raise _refuse("exchange.unknown_sender", f"发送方“{sender}”不在本平台的交换名录中", sender=str(sender)[:100])
    now = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise _refuse("exchange.certificate_expired", f"发送方“{sender}”的交换证书已过期或尚未生效",
                      sender=sender, not_after=certificate.not_valid_after_utc.isoformat())
    if body != canonical(manifest) or not verify_signature(certificate, signature, body):
        raise _refuse("exchange.envelope_signature_invalid", "交换包签名无效：清单被改动或不是发送方签发", sender=sender)
    expected = digest_name(algorithm_of(certificate))  # an instance in 国密 mode hashes with SM3, others SHA-256
    if any(expected not in entry for entry in listed):
        raise _refuse("exchange.envelope_malformed", f"交换包中的文件摘要应为 {expected.upper()}", sender=sender)
    files: dict[str, bytes] = {}
    for entry in listed:
        blob = take(struct.unpack(">Q", take(8))[0])
        digest = next(d for d in DIGESTS if isinstance(entry.get(d), str))
        if len(blob) != entry["size"] or hexdigest(digest, blob) != entry[digest]:
            raise _refuse("exchange.envelope_tampered", f"交换包中的文件“{entry['name']}”与清单不符（已被改动）",
                          file=entry["name"][:100])
        files[entry["name"]] = blob
    if at != len(view):
        raise _refuse("exchange.envelope_tampered", "交换包末尾有多余的数据")
    return Opened(manifest=manifest, files=files)


def head(data: bytes) -> bytes:
    """An envelope without its files' bytes (magic, manifest, signature): what the receiver keeps of a document it
    stores the files of as the mirror's own — their hashes are in the signed manifest, and `reassemble` rebuilds the
    envelope byte for byte. For envelopes already checked by `open_envelope`."""
    at = len(MAGIC) + 4 + struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])[0]
    return data[:at + 4 + struct.unpack(">I", data[at:at + 4])[0]]


def reassemble(head_bytes: bytes, files: list[bytes]) -> bytes:
    """The envelope from its head and its files' bytes in manifest order."""
    return head_bytes + b"".join(struct.pack(">Q", len(blob)) + blob for blob in files)


def read_manifest(data: bytes) -> dict:
    """The manifest of an envelope this instance already checked and stored (no verification: for bookkeeping)."""
    size = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])[0]
    return json.loads(data[len(MAGIC) + 4:len(MAGIC) + 4 + size])
