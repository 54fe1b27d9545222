"""Requests between neighbour instances are signed: the sender's instance id, the time, and its signature over
(time, receiving instance, digest of the body: SHA-256, or SM3 from an instance in 国密 mode). The receiver checks
the signature against the neighbour's pinned certificate and refuses a time more than `MAX_SKEW` away, so a request
cannot be forged or sent to another peer; a replay to the same peer changes nothing (envelopes are stored by id).
Runs over HTTPS in production; mutual TLS can be added at the proxy.
"""
from __future__ import annotations

import base64
import time

from zhengtong.core.errors import ServiceError

from .identity import InstanceKey, algorithm_of, digest_name, hexdigest, verify_signature

MAX_SKEW = 300  # seconds
PATH = "/federation/v1/envelopes"
H_INSTANCE, H_TIME, H_SIGNATURE = "X-ZT-Instance", "X-ZT-Time", "X-ZT-Signature"
H_PRESIGNATURE = "X-ZT-Length-Signature"  # over (time, receiver, body length): checked before the body is read


class TransportRefused(ServiceError):
    status = 401


def _signed_text(at: int, to_instance: str, body_digest: str) -> bytes:
    return f"ZT-TRANSPORT-1\n{at}\n{to_instance}\n{body_digest}".encode()


def _length_text(at: int, to_instance: str, length: int) -> bytes:
    return f"ZT-TRANSPORT-LENGTH-1\n{at}\n{to_instance}\n{length}".encode()


def sign_request(key: InstanceKey, to_instance: str, body: bytes, *, at: int | None = None,
                 body_sha256: str = "") -> dict[str, str]:
    """The body's digest is SM3 for a key in 国密 mode, SHA-256 otherwise; `body_sha256`: the SHA-256 when the
    caller has it (the outbox row keeps it), so 1 MB is not hashed again."""
    at = int(time.time()) if at is None else at
    signature = key.sign(_signed_text(at, to_instance, _digest(key.algorithm, body, body_sha256)))
    presignature = key.sign(_length_text(at, to_instance, len(body)))
    return {H_INSTANCE: key.instance_id, H_TIME: str(at), H_SIGNATURE: base64.b64encode(signature).decode(),
            H_PRESIGNATURE: base64.b64encode(presignature).decode(),
            "Content-Type": "application/vnd.zhengtong.envelope"}


def verify_preamble(headers, length: int, *, me: str, neighbours: dict, now: float | None = None) -> str:
    """Before reading a body of `length` bytes: a neighbour, in time, signed this length for us. The full check
    (`verify_request`) follows once the body is read."""
    return _verify(headers, _length_text, length, H_PRESIGNATURE, me=me, neighbours=neighbours, now=now)


def verify_request(headers, body: bytes, *, me: str, neighbours: dict, body_sha256: str = "",
                   now: float | None = None) -> str:
    """The neighbour's instance id, or TransportRefused. `neighbours`: instance id → pinned certificate;
    `body_sha256`: the body's SHA-256 when the caller has it (the receiver stores it too: hashed once)."""
    certificate = neighbours.get(headers.get(H_INSTANCE, ""))
    digest = _digest(algorithm_of(certificate), body, body_sha256) if certificate is not None else ""
    return _verify(headers, _signed_text, digest, H_SIGNATURE, me=me, neighbours=neighbours, now=now)


def _digest(algorithm: str, body: bytes, body_sha256: str) -> str:
    name = digest_name(algorithm)
    return body_sha256 if name == "sha256" and body_sha256 else hexdigest(name, body)


def _verify(headers, text, subject, header: str, *, me: str, neighbours: dict, now: float | None) -> str:
    sender = headers.get(H_INSTANCE, "")
    certificate = neighbours.get(sender)
    if certificate is None:
        raise TransportRefused("exchange.unknown_peer", f"“{sender[:64]}”不是本平台的相邻交换平台")
    try:
        at = int(headers.get(H_TIME, ""))
        signature = base64.b64decode(headers.get(header, ""), validate=True)
    except ValueError as exc:
        raise TransportRefused("exchange.transport_signature_invalid", "交换请求签名格式错误") from exc
    if abs((time.time() if now is None else now) - at) > MAX_SKEW:
        raise TransportRefused("exchange.transport_stale", "交换请求时间与本平台相差过大（超过 5 分钟）")
    if not verify_signature(certificate, signature, text(at, me, subject)):
        raise TransportRefused("exchange.transport_signature_invalid", "交换请求签名无效")
    return sender
