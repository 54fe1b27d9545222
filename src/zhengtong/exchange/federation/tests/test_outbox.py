"""The outbox worker against a real local HTTP server (issue #5 §2): a neighbour that fails is retried with
growing delays, an accepted envelope is marked sent, too many failures dead-letter it and bring the document
back to its sender as 退文 with the reason; a permanent refusal (tampered) dead-letters at once; two workers
never claim the same envelope."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.support import answer_json
from zhengtong.audit.models import AuditRecord
from zhengtong.documents.models import Dispatch, Document
from zhengtong.exchange import services as exchange
from zhengtong.org.models import Identity, Unit

from .. import outbox, transport
from ..models import Envelope, RemoteInstance
from .support import PDF, REMOTE_CODE, build_world

pytestmark = pytest.mark.django_db


class Neighbour(BaseHTTPRequestHandler):
    """Answers from a script: each POST takes the next (status, body); records what it got."""

    script: list[tuple[int, dict]] = []
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "size": len(body), "instance": self.headers[transport.H_INSTANCE]})
        status, answer = type(self).script.pop(0) if type(self).script else (200, {"status": "accepted"})
        answer_json(self, status, json.dumps(answer).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def neighbour():
    Neighbour.script, Neighbour.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Neighbour)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def sent(world, neighbour, settings):
    """A document of ours dispatched to the neighbour's unit: its delivery and its envelope in the outbox."""
    settings.EXCHANGE_MAX_ATTEMPTS = 3
    RemoteInstance.objects.filter(pk=world.neighbour.pk).update(base_url=neighbour)
    clerk = Identity.objects.get(person__user=world.clerk)
    document = Document.objects.create(direction="outgoing", doc_kind="通知", status="sealed", unit=world.unit,
                                       issuing_unit=world.unit, drafter=clerk, title="关于联合开展汛期安全检查的通知",
                                       doc_number="示府办〔2026〕3号", sealed_at=timezone.now())
    document.sealed_pdf.save("3.pdf", ContentFile(PDF))
    dispatch = Dispatch.objects.create(document=document, unit=Unit.objects.get(credit_code=REMOTE_CODE),
                                       kind="main", dispatched_by=clerk)
    [delivery] = exchange.on_dispatch_recorded(sender=Document, document=document, dispatches=[dispatch],
                                               actor=world.clerk)
    return delivery, Envelope.objects.get(direction="out", kind="document")


def make_due(row: Envelope) -> None:
    Envelope.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_failing_neighbour_is_retried_with_growing_delays_then_the_envelope_is_sent(sent):
    delivery, row = sent
    assert [e.kind for e in delivery.events.all()] == ["sent_remote"]
    Neighbour.script = [(503, {"code": "busy"}), (502, {})]
    before = timezone.now()
    assert outbox.deliver_due() == 0
    row.refresh_from_db()
    first_wait = row.next_attempt_at - before
    assert (row.status, row.attempts) == ("pending", 1) and "HTTP 503" in row.last_error
    make_due(row)
    assert outbox.deliver_due() == 0
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at - timezone.now() > first_wait
    assert RemoteInstance.objects.get(pk=row.peer_id).failures == 2
    make_due(row)
    assert outbox.deliver_due() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert len(Neighbour.received) == 3 and {r["instance"] for r in Neighbour.received} == {"city-test"}
    assert Neighbour.received[-1]["path"] == transport.PATH and Neighbour.received[-1]["size"] == row.size
    assert RemoteInstance.objects.get(pk=row.peer_id).failures == 0


def test_too_many_failures_dead_letter_it_and_the_sender_gets_it_back_as_a_refusal(sent):
    delivery, row = sent
    Neighbour.script = [(500, {})] * 3
    for _ in range(3):
        make_due(row)
        outbox.deliver_due()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 3, None)
    delivery.refresh_from_db()
    assert delivery.status == "refused" and delivery.reason.startswith("多次发送失败")
    assert AuditRecord.objects.filter(action="exchange.envelope_dead", category="security").count() == 1
    # the sender may 重发: a new envelope (a new id) goes into the outbox
    renewed = exchange.resend_delivery(sent[0].document.drafter.person.user, delivery.pk)
    assert renewed.status == "pending"
    assert Envelope.objects.filter(direction="out", kind="document", status="pending").count() == 1


def test_a_permanent_refusal_dead_letters_at_once_with_the_peers_reason(sent):
    delivery, row = sent
    Neighbour.script = [(400, {"code": "exchange.envelope_tampered", "message": "交换包中的文件与清单不符"})]
    outbox.deliver_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("dead", 1) and "exchange.envelope_tampered" in row.last_error
    delivery.refresh_from_db()
    assert delivery.status == "refused" and delivery.reason.startswith("对方平台拒收")


def test_an_unreachable_neighbour_is_a_retry_not_an_error(sent):
    _, row = sent
    RemoteInstance.objects.filter(pk=row.peer_id).update(base_url="http://127.0.0.1:9")
    assert outbox.deliver_due() == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error.startswith("无法连接")


def test_an_envelope_changed_on_disk_is_not_sent_and_comes_back_at_once(sent):
    """Bytes that no longer match what was written (disk damage, tampering here) are never signed for transport:
    dead at once, and the document is back with its sender as 退文."""
    delivery, row = sent
    with row.file.open("rb") as handle:
        data = bytearray(handle.read())
    data[-10] ^= 1
    with open(row.file.path, "wb") as handle:
        handle.write(data)
    assert outbox.deliver_due() == 0
    row.refresh_from_db()
    assert (row.status, Neighbour.received) == ("dead", []) and "已损坏" in row.last_error
    delivery.refresh_from_db()
    assert delivery.status == "refused" and "已损坏" in delivery.reason


def test_a_relayed_envelope_damaged_on_disk_does_not_stop_the_drain(sent, world):
    """A relay whose stored bytes were damaged (its manifest unreadable) is dead at once — no receipt can be sent
    back, the operators are told — and the other envelopes of the drain still go."""
    _, good = sent
    relay = outbox.put(envelope_id="relay-1", data=b"ZTENV1\n\xff\xff\xff", kind="document",
                       origin="county-behind", to=world.neighbour, kick_worker=False)
    with open(relay.file.path, "wb") as handle:
        handle.write(b"ZTENV1\n\x00\x00\x00\x05\xff\xfe{}")
    assert outbox.deliver_due() == 1
    relay.refresh_from_db()
    good.refresh_from_db()
    assert (relay.status, good.status) == ("dead", "sent") and "损坏" in relay.last_error
    assert RemoteInstance.objects.get(pk=world.neighbour.pk).failures == 0  # our file, not the neighbour's fault


def test_two_workers_claiming_at_once_get_different_envelopes(sent, world):
    """Each claim marks its rows with a token of its own: the second worker's claim, made while the first holds
    the row, takes nothing — and the first worker's outcome counts only under its token."""
    _, row = sent
    [first] = outbox.claim(10)
    assert outbox.claim(10) == [] and first.claim
    Envelope.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    [second] = outbox.claim(10)  # the first worker's lease ran out
    assert second.claim != first.claim
    assert not outbox._mine(first).exists() and outbox._mine(second).exists()


def test_a_claimed_envelope_is_not_claimed_again_until_its_lease_ends(sent):
    _, row = sent
    assert [r.pk for r in outbox.claim(10)] == [row.pk]
    assert outbox.claim(10) == []  # a second worker finds nothing due
    Envelope.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert [r.pk for r in outbox.claim(10)] == [row.pk]  # the first worker died: due again after the lease


def test_a_batch_of_receipts_is_applied_to_our_deliveries(client, world, sent):
    from ..envelope import seal_envelope
    from .support import post

    delivery, row = sent
    key = world.neighbour_key
    arrived, signed = (timezone.now() + timedelta(minutes=m) for m in (1, 30))
    _, body = seal_envelope(key, kind="receipt", to_instance="city-test", sender_unit={}, recipients=[], files=[],
                            document={"receipts": [
                                {"about": row.envelope_id, "events": [
                                    {"unit": REMOTE_CODE, "event": "delivered", "at": arrived.isoformat()},
                                    {"unit": REMOTE_CODE, "event": "signed", "by": "吴海燕", "note": "乙收〔2026〕7号",
                                     "at": signed.isoformat()}]},
                                {"about": "an-envelope-we-never-sent", "events": [{"unit": REMOTE_CODE,
                                                                                   "event": "signed"}]}]})
    assert post(client, body, key).status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "signed" and delivery.signed_at == signed  # when it happened there
    events = [(e.kind, e.note) for e in delivery.events.order_by("at", "pk")]
    assert events == [("sent_remote", ""), ("delivered", "已送达测试省平台"),
                      ("signed", "测试省平台 吴海燕，收文号 乙收〔2026〕7号")]


def receipt_from(key, about: str, *events) -> bytes:
    from ..envelope import seal_envelope

    return seal_envelope(key, kind="receipt", to_instance="city-test", sender_unit={}, recipients=[], files=[],
                         document={"receipts": [{"about": about, "events": [
                             {"unit": REMOTE_CODE, "event": e, "note": "伪造"} for e in events]}]})[1]


def test_receipts_count_only_from_the_instance_the_document_went_to(client, world, sent):
    from .support import post

    delivery, row = sent  # went to province-test
    assert post(client, receipt_from(world.behind_key, row.envelope_id, "signed"), world.neighbour_key).status_code \
        == 200
    delivery.refresh_from_db()
    assert delivery.status == "pending" and [e.kind for e in delivery.events.all()] == ["sent_remote"]
    assert AuditRecord.objects.filter(action="exchange.receipt_refused").count() == 1
    # and an answer to a 撤回 nobody asked for changes nothing either
    post(client, receipt_from(world.neighbour_key, row.envelope_id, "recalled"), world.neighbour_key)
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_a_worker_whose_lease_ran_out_does_not_overwrite_what_another_recorded(sent):
    _, row = sent
    [mine] = outbox.claim(10)
    mine = outbox.take(mine)
    # meanwhile the lease ran out and another worker sent it
    Envelope.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    [theirs] = outbox.claim(10)
    outbox._mine(outbox.take(theirs)).update(status="sent")
    outbox._failed(mine, "HTTP 502", permanent=True)  # the first worker's late answer
    row.refresh_from_db()
    assert row.status == "sent" and sent[0].status == "pending"
    sent[0].refresh_from_db()
    assert sent[0].status == "pending"  # not turned into a 退文


def test_nobody_is_added_to_a_unit_of_another_platform(world):
    from zhengtong.accounts.models import AdminRole
    from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
    from zhengtong.core.errors import ServiceError
    from zhengtong.org import services as org

    admin = AdminRoleGrantFactory(role=AdminRole.SYSTEM, user=UserFactory(username="sys1", otp_exempt=True)).user
    with pytest.raises(ServiceError) as refused:
        org.create_person(admin, Unit.objects.get(credit_code=REMOTE_CODE), name="张三", username="zhangsan",
                          duty="doc_clerk")
    assert refused.value.code == "org.remote_unit"
