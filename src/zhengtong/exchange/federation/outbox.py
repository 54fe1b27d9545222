"""The outbox: envelopes written in the transaction of what caused them (核发, 签收, 退文, a relay, …) and delivered
to the next-hop neighbour by the worker, with retries, exponential backoff and a dead-letter state.

At-least-once: a worker claims a due row by moving its next attempt a lease ahead (a conditional UPDATE, so two
workers never claim the same row at once); if it dies mid-send the row is due again when the lease ends. The
receiver stores envelopes by id, so a second delivery of the same envelope creates nothing new — exactly-once
arrival.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import logging
import random
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import Conflict, NotFound

from . import directory, transport
from .envelope import seal_envelope
from .models import Envelope, RemoteInstance

logger = logging.getLogger(__name__)
HEALTH_EVERY = timedelta(seconds=5)  # a drain records a peer's success at most this often (one write, not one each)
CONNECT_TIMEOUT, SEND_TIMEOUT = 5, 45  # seconds
LEASE = timedelta(seconds=60)  # renewed before each send, longer than one send may take
# refusals the receiver will give again however often we try: dead at once, and the sender is told why
PERMANENT = {"exchange.envelope_malformed", "exchange.unknown_sender", "exchange.certificate_expired",
             "exchange.envelope_signature_invalid", "exchange.envelope_tampered", "exchange.envelope_too_large",
             "exchange.unit_conflict", "exchange.unit_not_theirs", "exchange.envelope_id_conflict"}


def max_attempts() -> int:
    return int(getattr(settings, "EXCHANGE_MAX_ATTEMPTS", 60))


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at an hour, ±20 % jitter so peers coming back are not hit all at once."""
    base = float(getattr(settings, "EXCHANGE_RETRY_BASE_SECONDS", 5))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600) * random.uniform(0.8, 1.2))


def put(*, envelope_id: str, data: bytes, kind: str, origin: str, to: RemoteInstance, document=None,
        deliveries=(), summary: str = "", stored_name: str = "", sha256: str = "",
        kick_worker: bool = True) -> Envelope:
    """An outbox row for `data`, addressed to instance `to` through its next hop; must run inside the
    transaction of what caused it. `stored_name`, `sha256`: reuse a file already stored and its digest (a relay
    sends the bytes it got)."""
    hop = directory.next_hop(to)
    row = Envelope(envelope_id=envelope_id, direction=Envelope.Direction.OUT, kind=kind,
                   status=Envelope.Status.PENDING, origin_instance=origin, to_instance=to.instance_id, peer=hop,
                   document=document, size=len(data), sha256=sha256 or hashlib.sha256(data).hexdigest(),
                   summary=summary[:300], next_attempt_at=timezone.now())
    if stored_name:
        row.file.name = stored_name
    else:
        row.file.save(f"{envelope_id}.zte", ContentFile(data), save=False)
    row.save()
    if deliveries:
        row.deliveries.set(deliveries)
    if kick_worker:
        transaction.on_commit(kick, robust=True)  # the periodic drain covers a queue that is down
    return row


def seal_and_put(*, kind: str, to: RemoteInstance, sender_unit: dict, recipients: list[dict], document: dict,
                 files=(), document_row=None, deliveries=(), summary: str = "", kick_worker: bool = True) -> Envelope:
    key = directory.local_key()
    envelope_id, data = seal_envelope(key, kind=kind, to_instance=to.instance_id, sender_unit=sender_unit,
                                      recipients=recipients, document=document, files=list(files))
    return put(envelope_id=envelope_id, data=data, kind=kind, origin=key.instance_id, to=to,
               document=document_row, deliveries=deliveries, summary=summary, kick_worker=kick_worker)


def kick() -> None:
    """Ask the worker to drain the outbox now (the periodic drain catches anything this misses)."""
    from .tasks import deliver_outbox

    deliver_outbox()


RECEIPT_DELAY = 2  # seconds: receipts queued meanwhile travel together


def kick_soon() -> None:
    """For receipts: one drain a moment from now rather than one per receipt, so a burst of arrivals sends its
    送达 receipts in a few envelopes. Called after commit, so a drain already scheduled (the cache key still set)
    runs after this receipt was written and packs it."""
    from django.core.cache import cache

    from .tasks import deliver_outbox

    if cache.add("federation:receipts-drain", 1, timeout=RECEIPT_DELAY):
        deliver_outbox.schedule(delay=RECEIPT_DELAY)


# --- the worker ----------------------------------------------------------------------------------------------

def claim(limit: int) -> list[Envelope]:
    """Due rows, claimed in one conditional UPDATE: a lease (their next attempt moves a minute ahead) and a claim
    token of this call's own, which tells our rows from another worker's. A row another worker claimed is no
    longer due, so the UPDATE passes it by."""
    now = timezone.now()
    due = list(Envelope.objects.filter(status=Envelope.Status.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not due:
        return []
    token = uuid.uuid4().hex
    Envelope.objects.filter(pk__in=due, status=Envelope.Status.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + LEASE, claim=token)
    return list(Envelope.objects.filter(pk__in=due, status=Envelope.Status.PENDING, claim=token)
                .select_related("peer").order_by("pk"))


RECEIPTS_PER_ENVELOPE = 500


def pack_receipts(limit: int = 5000) -> int:
    """Seal the pending receipts into envelopes, one per origin (and per RECEIPTS_PER_ENVELOPE), in one transaction
    with deleting them: a receipt is in exactly one envelope, and a worker dying here leaves them pending."""
    from collections import defaultdict

    from .models import PendingReceipt

    if not PendingReceipt.objects.exists():  # the usual case: no write transaction (on SQLite, no write lock)
        return 0
    with transaction.atomic():
        rows = list(PendingReceipt.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
        if not rows:
            return 0
        # on SQLite (no row locks) a concurrent packer may have taken some: only rows we delete are ours
        taken = PendingReceipt.objects.filter(pk__in=[r.pk for r in rows]).delete()[0]
        if taken != len(rows):
            transaction.set_rollback(True)
            return 0
        by_origin: dict[str, list] = defaultdict(list)
        for row in rows:
            by_origin[row.origin_instance].append(row)
        for origin, items in by_origin.items():
            to = RemoteInstance.objects.get(instance_id=origin)
            for start in range(0, len(items), RECEIPTS_PER_ENVELOPE):
                chunk = items[start:start + RECEIPTS_PER_ENVELOPE]
                about: dict[str, list] = defaultdict(list)
                for item in chunk:
                    about[item.about].append(item.event)
                seal_and_put(kind="receipt", to=to, sender_unit={}, recipients=[],
                             document={"receipts": [{"about": a, "events": e} for a, e in about.items()]},
                             summary=f"回执 {len(chunk)} 条（{len(about)} 件公文）",
                             kick_worker=False)  # called by the worker, which sends it next
    return len(rows)


def take(row: Envelope) -> Envelope | None:
    """Just before sending a row: its lease, renewed if what is left of it may not cover one send (a batch may
    outlast the lease it was claimed with); None if another worker has taken it meanwhile. Every later update is
    conditional on this lease."""
    now = timezone.now()
    if row.next_attempt_at - now > timedelta(seconds=CONNECT_TIMEOUT + SEND_TIMEOUT):
        return row  # the usual case, early in a batch: no write
    lease = now + LEASE
    if not _mine(row).filter(next_attempt_at__gt=now).update(next_attempt_at=lease):
        return None  # the lease ran out: another worker may have it
    row.next_attempt_at = lease
    return row


def _mine(row: Envelope):
    """The row while this worker's claim holds (a slow send must not overwrite what a later worker recorded)."""
    return Envelope.objects.filter(pk=row.pk, status=Envelope.Status.PENDING, claim=row.claim)


def deliver_due(limit: int = 200) -> int:
    """Pack pending receipts, then send what is due; returns how many envelopes the neighbours accepted."""
    sent = 0
    connections: dict[int, Connection] = {}
    key = None
    try:
        while True:
            try:
                pack_receipts()
            except Exception:  # one origin's bad receipts must not stop every send (they stay queued)
                logger.exception("exchange receipts could not be packed")
            batch = claim(min(limit - sent, 50)) if sent < limit else []
            if not batch:
                return sent
            for row in batch:
                connection = connections.setdefault(row.peer_id, Connection(row.peer.base_url))
                if connection.down:
                    continue  # unreachable in this drain: its rows come due again when their lease ends
                taken = take(row)
                if taken is None:
                    continue
                key = key or directory.local_key()
                try:
                    sent += _send(taken, connection, key)
                except Exception:  # one bad row must not stop the drain: it is due again after its lease
                    logger.exception("exchange envelope %s could not be sent", row.envelope_id)
    finally:
        for connection in connections.values():
            connection.close()


class Connection:
    """A kept-alive HTTP(S) connection to one neighbour, reopened after an error."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.secure, self.host, self.port = parts.scheme == "https", parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.http = None
        self.healthy_at = None  # when this drain last recorded the peer's success
        self.down = False  # could not connect in this drain: the peer's other rows wait for the next one

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
        if self.http is None:
            kind = http.client.HTTPSConnection if self.secure else http.client.HTTPConnection
            self.http = kind(self.host, self.port, timeout=CONNECT_TIMEOUT)
            self.http.connect()
            self.http.sock.settimeout(SEND_TIMEOUT)
        try:
            self.http.request("POST", self.prefix + path, body=body, headers=headers)
            response = self.http.getresponse()
            return response.status, response.read()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


def _send(row: Envelope, connection: Connection, key) -> int:
    peer = row.peer
    try:
        with row.file.open("rb") as handle:
            data = handle.read()
    except OSError:
        data = b""
    if len(data) != row.size or hashlib.sha256(data).hexdigest() != row.sha256:
        # missing or changed on disk since it was written: never sent as is
        _failed(row, "本平台存储的交换包文件已损坏或缺失（与写入时的摘要不符）", permanent=True, peer_fault=False)
        return 0
    sha256 = row.sha256
    headers = transport.sign_request(key, peer.instance_id, data, body_sha256=sha256)
    try:
        status, answer = connection.post(transport.PATH, data, headers)
    except (OSError, http.client.HTTPException) as exc:
        connection.healthy_at, connection.down = None, True
        _failed(row, f"无法连接：{type(exc).__name__}", permanent=False)
        return 0
    if status == 200:
        now = timezone.now()
        if not _mine(row).update(status=Envelope.Status.SENT, done_at=now, last_error="", attempts=row.attempts + 1):
            return 0  # the lease ran out and another worker has it: the receiver stores it once anyway
        if connection.healthy_at is None or now - connection.healthy_at > HEALTH_EVERY:
            RemoteInstance.objects.filter(pk=peer.pk).update(last_success_at=now, failures=0, last_error="")
            connection.healthy_at = now
        return 1
    try:
        parsed = json.loads(answer)
        code, message = parsed.get("code", ""), parsed.get("message", "")
    except (ValueError, AttributeError):
        code, message = "", answer[:200].decode(errors="replace")
    _failed(row, f"HTTP {status} {code} {message}".strip(), permanent=code in PERMANENT)
    return 0


def _failed(row: Envelope, error: str, *, permanent: bool, peer_fault: bool = True) -> None:
    """A failed attempt: retried later, or dead. `peer_fault`: counts against the neighbour's health (not when our
    own stored file is damaged)."""
    now = timezone.now()
    attempts = row.attempts + 1
    dead = permanent or attempts >= max_attempts()
    with transaction.atomic():
        if not _mine(row).update(attempts=attempts, last_error=error[:500],
                                 status=Envelope.Status.DEAD if dead else Envelope.Status.PENDING,
                                 next_attempt_at=None if dead else now + backoff(attempts)):
            return  # another worker has it now (and may have sent it): its outcome stands
        if peer_fault:
            RemoteInstance.objects.filter(pk=row.peer_id).update(last_failure_at=now, last_error=error[:500],
                                                                 failures=F("failures") + 1)
        if dead:
            row.refresh_from_db()
            dead_lettered(row, error, refused=permanent)


def dead_lettered(row: Envelope, error: str, *, refused: bool) -> None:
    """A document envelope that will not arrive: its deliveries come back as 退文 with the reason (the sender sees
    why and may 重发), an alert is raised (ERROR log, security audit)."""
    from zhengtong.exchange.services import returned_undelivered

    reason = ("对方平台拒收：" if refused else "多次发送失败，") + error
    logger.error("exchange envelope %s to %s dead-lettered: %s", row.envelope_id, row.peer.instance_id, error)
    security_event("exchange.envelope_dead", object_type="federation.envelope", object_id=row.pk, outcome="failed",
                   detail={"envelope": row.envelope_id, "peer": row.peer.instance_id, "error": error[:300]})
    if row.kind == Envelope.Kind.DOCUMENT and row.document_id:
        returned_undelivered(list(row.deliveries.all()), reason[:200])
    elif row.kind == Envelope.Kind.DOCUMENT and row.origin_instance != directory.local().instance_id:
        _relay_undeliverable(row, reason)


def _relay_undeliverable(row: Envelope, reason: str) -> None:
    """A document we relay will not get through: its origin hears so (an "undeliverable" receipt per recipient),
    so the sender sees a 退文 with the reason instead of waiting for ever."""
    from .envelope import read_manifest
    from .models import PendingReceipt

    try:
        with row.file.open("rb") as handle:
            manifest = read_manifest(handle.read())
    except Exception:  # noqa: BLE001 — our stored copy is damaged: nobody can be named, the operators are told
        logger.exception("exchange envelope %s: its stored manifest cannot be read; no receipts sent back",
                         row.envelope_id)
        return
    now = timezone.now().isoformat()
    PendingReceipt.objects.bulk_create([
        PendingReceipt(origin_instance=row.origin_instance, about=row.envelope_id,
                       event={"unit": r["code"], "event": "undeliverable", "at": now, "by": "",
                              "note": f"经{directory.local().name}转交失败：{reason}"[:200]})
        for r in manifest.get("recipients", [])])
    transaction.on_commit(kick_soon, robust=True)


def resend(actor, envelope_pk: int) -> Envelope:
    """The operations console: a dead-lettered receipt, request or relay goes back into the queue (the same bytes,
    the same id). A document of ours is not: its deliveries came back as 退文, and 重发 sends a new envelope."""
    with transaction.atomic():
        row = Envelope.objects.select_for_update().filter(pk=envelope_pk, direction=Envelope.Direction.OUT).first()
        if row is None:
            raise NotFound("exchange.envelope_not_found", "交换包不存在")
        if row.status != Envelope.Status.DEAD:
            raise Conflict("exchange.envelope_not_dead", "只有发送失败的交换包可以重新发送")
        if row.kind == Envelope.Kind.DOCUMENT and row.document_id and row.deliveries.exists():
            raise Conflict("exchange.resend_from_receipts", "本单位发出的公文请在“发送情况”中重发")
        row.status, row.next_attempt_at, row.attempts = Envelope.Status.PENDING, timezone.now(), 0
        row.save(update_fields=["status", "next_attempt_at", "attempts"])
        record("exchange.envelope_resent", obj=row, user=actor, detail={"envelope": row.envelope_id})
        transaction.on_commit(kick, robust=True)
    return row
