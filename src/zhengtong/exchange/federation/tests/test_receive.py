"""Receiving envelopes (issue #5 §2): a neighbour's document lands once in the local unit's 交换箱 with an arrival
receipt queued back; a repeat changes nothing; a tampered envelope, an unknown peer, a forged or stale request is
refused with its code, audited as a security event, and leaves nothing behind; an envelope for another instance
is relayed unchanged; a receipt and a 撤回 request act on the right delivery."""
from __future__ import annotations

import hashlib
import json

import pytest

from zhengtong.audit.models import AuditRecord
from zhengtong.documents.models import Document
from zhengtong.exchange import services as exchange
from zhengtong.exchange.models import Delivery

from .. import directory, identity, outbox
from ..envelope import open_envelope, seal_envelope
from ..models import Envelope, PendingReceipt
from .support import LOCAL_CODE, PDF, REMOTE_UNIT, build_world, document_envelope, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def packed_receipt() -> list[dict]:
    """The worker seals the pending receipts (one envelope per origin): the newest receipt envelope's events."""
    from cryptography import x509

    outbox.pack_receipts()
    row = Envelope.objects.filter(direction="out", kind="receipt").order_by("-pk").first()
    assert row.to_instance == "province-test" and row.peer.instance_id == "province-test"
    with row.file.open("rb") as handle:
        data = handle.read()
    # opened as the origin would: with the certificate this instance describes itself by
    pinned = x509.load_pem_x509_certificate(directory.local().certificate_pem.encode())
    document = open_envelope(data, {"city-test": pinned}).manifest["document"]
    return [event for batch in document["receipts"] for event in batch["events"]]


def test_a_document_lands_once_in_the_local_inbox_and_its_arrival_receipt_is_queued(client, world):
    envelope_id, body = document_envelope(world.neighbour_key)
    response = post(client, body, world.neighbour_key)
    assert response.status_code == 200, response.content.decode()
    assert response.json() == {"envelope_id": envelope_id, "status": "accepted"}

    [delivery] = Delivery.objects.filter(unit=world.unit)
    assert (delivery.status, delivery.copies, delivery.print_limit) == ("pending", 2, 2)
    mirror = delivery.document
    assert mirror.unit.remote.instance == world.neighbour and mirror.doc_number == "乙府办〔2026〕9号"
    with mirror.sealed_pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(PDF).hexdigest()
    assert [(e["unit"], e["event"]) for e in packed_receipt()] == [(LOCAL_CODE, "delivered")]

    again = post(client, body, world.neighbour_key)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert Delivery.objects.count() == 1 and Document.objects.count() == 1
    assert PendingReceipt.objects.count() == 0 and Envelope.objects.filter(direction="out").count() == 1

    # the local 收发员 signs for it: the 签收 receipt goes back to the origin with the 收文号
    incoming = exchange.sign_delivery(world.clerk, delivery.pk)
    [event] = packed_receipt()
    assert (event["event"], event["by"], event["note"]) == ("signed", "赵静", incoming.receipt_number)


def test_a_recipient_not_on_this_platform_is_answered_undeliverable(client, world):
    _, body = document_envelope(world.neighbour_key, recipients=[{"code": "91110000000000000X", "name": "无此单位"}])
    assert post(client, body, world.neighbour_key).status_code == 200
    assert not Delivery.objects.exists()
    assert [e["event"] for e in packed_receipt()] == ["undeliverable"]


@pytest.mark.parametrize("where", ["manifest", "file", "signature"])
def test_a_tampered_envelope_is_refused_audited_and_leaves_nothing(client, world, where):
    _, body = document_envelope(world.neighbour_key)
    data = bytearray(body)
    at = {"manifest": 40, "file": len(data) - 100, "signature": body.index(b"}\x00") + 10}[where]
    data[at] ^= 0x01
    # the neighbour signs the transport of the changed bytes: only the envelope's own checks can catch it
    response = post(client, bytes(data), world.neighbour_key)
    assert response.status_code == 400
    assert response.json()["code"] in {"exchange.envelope_tampered", "exchange.envelope_signature_invalid",
                                       "exchange.envelope_malformed"}
    assert not Envelope.objects.exists() and not Delivery.objects.exists()
    audit = AuditRecord.objects.get(action="exchange.envelope_refused")
    assert audit.category == "security" and audit.detail["code"] == response.json()["code"]


def test_requests_from_unknown_forged_or_stale_peers_are_refused(client, world):
    _, body = document_envelope(world.neighbour_key)
    stranger = identity.generate("province-test")  # the right name, another key
    cases = [(post(client, body, stranger), "exchange.transport_signature_invalid"),
             (post(client, body, identity.generate("nobody")), "exchange.unknown_peer"),
             (post(client, body, world.neighbour_key, at=1_000_000_000), "exchange.transport_stale"),
             (post(client, body, world.neighbour_key, to="another-instance"), "exchange.transport_signature_invalid")]
    for response, code in cases:
        assert (response.status_code, response.json()["code"]) == (401, code)
    assert not Envelope.objects.exists()
    assert AuditRecord.objects.filter(action="exchange.envelope_refused").count() == len(cases)


def test_an_envelope_from_an_instance_not_in_the_directory_is_refused(client, world):
    outsider = identity.generate("outsider")
    _, body = document_envelope(outsider)
    response = post(client, body, world.neighbour_key)  # relayed by a neighbour we trust, made by one we do not
    assert (response.status_code, response.json()["code"]) == (400, "exchange.unknown_sender")


def test_an_envelope_for_another_instance_is_relayed_unchanged(client, world):
    envelope_id, body = document_envelope(world.behind_key, to="province-test")
    # from the county behind the province, addressed to the province: we are in the middle for this test
    world.neighbour.base_url, world.behind.base_url, world.behind.via = "", "http://127.0.0.1:9", None
    world.behind.save()
    world.neighbour.via = world.behind
    world.neighbour.save()
    response = post(client, body, world.behind_key)
    assert response.status_code == 200 and response.json()["status"] == "relayed"
    [out] = Envelope.objects.filter(direction="out")
    assert (out.envelope_id, out.peer, out.to_instance) == (envelope_id, world.behind, "province-test")
    assert out.sha256 == hashlib.sha256(body).hexdigest() and not Delivery.objects.exists()


def test_a_recall_request_is_decided_here_and_answered(client, world):
    envelope_id, body = document_envelope(world.neighbour_key)
    post(client, body, world.neighbour_key)
    _, request = outbox_request(world, envelope_id, "recall")
    assert post(client, request, world.neighbour_key).status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.status == "recalled" and delivery.dispatch.withdrawn
    assert [e["event"] for e in packed_receipt()] == ["delivered", "recalled"]
    # a second 撤回 after it is decided is answered with what happened, and changes nothing
    _, again = outbox_request(world, envelope_id, "recall")
    assert post(client, again, world.neighbour_key).status_code == 200
    assert [(e["event"], e["note"]) for e in packed_receipt()] == [("recall_refused", "发文单位已撤回该文件")]
    assert Delivery.objects.get().status == "recalled"


def outbox_request(world, about: str, action: str):
    return seal_envelope(world.neighbour_key, kind="request", to_instance="city-test", sender_unit={}, recipients=[],
                         document={"about": about, "events": [{"unit": LOCAL_CODE, "event": action, "note": "内容需修改"}]},
                         files=[])


def test_the_endpoint_refuses_an_empty_body_and_get(client, world):
    assert client.get("/federation/v1/envelopes").status_code == 405
    response = client.post("/federation/v1/envelopes", data=b"", content_type="application/octet-stream")
    assert response.status_code == 413 and json.loads(response.content)["code"] == "exchange.envelope_too_large"


def test_the_local_clerk_reads_and_finds_a_document_from_another_instance(client, world):
    post(client, document_envelope(world.neighbour_key)[1], world.neighbour_key)
    delivery = Delivery.objects.get()
    client.force_login(world.clerk)
    page = client.get(f"/exchange/deliveries/{delivery.pk}/")
    assert page.status_code == 200
    assert "乙县人民政府办公室关于联合开展汛期安全检查的通知" in page.content.decode()
    pdf = client.get(f"/documents/{delivery.document_id}/pdf/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]) == PDF
    found = client.get("/api/v1/search", {"q": "汛期安全检查"})
    assert [h["id"] for h in found.json()["hits"]] == [delivery.document_id]


@pytest.mark.parametrize("change, expected", [
    ({"classification": "秘密"}, "不得在本平台处理"),
    ({"body_text": "秘密★1年\n请做好检查。"}, "密级标志"),
    ({"doc_kind": "简报"}, "文种或紧急程度"),
])
def test_r1_8_a_classified_or_malformed_document_is_not_delivered_and_the_origin_is_told(client, world, change,
                                                                                          expected, settings,
                                                                                          tmp_path):
    from ..envelope import seal_envelope as seal

    settings.MEDIA_ROOT = tmp_path

    meta = {"title": "乙县人民政府办公室关于联合开展汛期安全检查的通知", "doc_kind": "通知", "doc_number": "乙府办〔2026〕9号",
            "urgency": "", "classification": "", "body_text": "请做好检查。", **change}
    _, body = seal(world.neighbour_key, kind="document", to_instance="city-test", sender_unit=REMOTE_UNIT,
                   recipients=[{"code": LOCAL_CODE, "kind": "main"}], document=meta,
                   files=[("正文.pdf", "sealed_pdf", PDF)])
    assert post(client, body, world.neighbour_key).status_code == 200
    assert not Delivery.objects.exists() and not Document.objects.exists()
    [event] = packed_receipt()
    assert event["event"] == "refused" and expected in event["note"]
    # its content is not kept here: the head of the envelope it came in (manifest, signature) and the receipt
    [arrived] = Envelope.objects.filter(direction="in")
    assert arrived.file.size < len(PDF) and stored_files() == sorted(
        str(e.file.name) for e in Envelope.objects.all())
    if "密级" in expected or "不得" in expected:
        assert AuditRecord.objects.filter(action="document.classified_refused", category="security").exists()


def test_receipts_of_many_documents_travel_back_in_one_envelope(client, world):
    abouts = [post(client, document_envelope(world.neighbour_key)[1], world.neighbour_key).json()["envelope_id"]
              for _ in range(3)]
    assert PendingReceipt.objects.count() == 3
    assert outbox.pack_receipts() == 3 and outbox.pack_receipts() == 0
    [row] = Envelope.objects.filter(direction="out", kind="receipt")
    with row.file.open("rb") as handle:
        document = open_envelope(handle.read(), {"city-test": directory.local_key().certificate}).manifest["document"]
    assert [b["about"] for b in document["receipts"]] == abouts and row.summary == "回执 3 条（3 件公文）"


def test_an_instance_cannot_send_in_the_name_of_another_instances_unit(client, world):
    """The county behind the province claims the province's unit as its sender: refused for good, audited, and
    the unit stays the province's (routing to it unchanged)."""
    _, body = document_envelope(world.behind_key)  # sender_unit = the province's 乙县人民政府办公室
    response = post(client, body, world.neighbour_key)
    assert (response.status_code, response.json()["code"]) == (400, "exchange.unit_not_theirs")
    from ..models import RemoteUnit

    assert RemoteUnit.objects.get(unit__credit_code=REMOTE_UNIT["code"]).instance == world.neighbour
    assert not Delivery.objects.exists() and not Envelope.objects.exists()
    assert AuditRecord.objects.filter(action="exchange.envelope_refused",
                                      detail__code="exchange.unit_not_theirs").exists()


def stored_files() -> list[str]:
    from django.conf import settings

    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("what, change", [
    ("copies", {"recipients": [{"code": LOCAL_CODE, "copies": "x"}]}),
    ("recipient shape", {"recipients": [LOCAL_CODE]}),
    ("same recipient twice", {"recipients": [{"code": LOCAL_CODE}, {"code": LOCAL_CODE}]}),
    ("date", {"document": {"title": "关于检查的通知", "doc_kind": "通知", "issued_date": "yesterday"}}),
    ("number type", {"document": {"title": "关于检查的通知", "doc_kind": "通知", "doc_number": 5}}),
    ("file name", {"files": [("../../x.pdf", "sealed_pdf", PDF)]}),
    ("file role", {"files": [("x.pdf", "script", PDF)]}),
    ("envelope id", {"envelope_id": "x" * 65}),
    ("two sealed PDFs", {"files": [("a.pdf", "sealed_pdf", PDF), ("b.pdf", "sealed_pdf", PDF)]}),
    ("a name storage cannot keep", {"files": [("（）", "sealed_pdf", PDF)]}),
    ("a name storage cannot shorten", {"files": [("表." + "x" * 120, "sealed_pdf", PDF)]}),
])
def test_a_malformed_manifest_is_refused_for_good_and_leaves_no_file(client, world, what, change, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # this test's own folder: parallel tests write files too
    values = dict(kind="document", to_instance="city-test", sender_unit=REMOTE_UNIT,
                  recipients=[{"code": LOCAL_CODE}], document={"title": "关于检查的通知", "doc_kind": "通知"},
                  files=[("a.pdf", "sealed_pdf", PDF)])
    values.update(change)
    before = stored_files()
    _, body = seal_envelope(world.neighbour_key, **values)
    response = post(client, body, world.neighbour_key)
    assert (response.status_code, response.json()["code"]) == (400, "exchange.envelope_malformed"), what
    assert stored_files() == before and not Envelope.objects.exists()


def test_a_request_that_overtook_its_document_is_answered_later(client, world):
    envelope_id, body = document_envelope(world.neighbour_key)
    _, request = outbox_request(world, envelope_id, "recall")
    early = post(client, request, world.neighbour_key)
    assert (early.status_code, early.json()["code"]) == (409, "exchange.about_unknown")  # not permanent: retried
    assert not Envelope.objects.exists()
    post(client, body, world.neighbour_key)
    assert post(client, request, world.neighbour_key).status_code == 200
    assert Delivery.objects.get().status == "recalled"


def test_another_envelope_under_a_known_id_is_a_conflict(client, world):
    envelope_id, body = document_envelope(world.neighbour_key)
    post(client, body, world.neighbour_key)
    _, other = document_envelope(world.neighbour_key, envelope_id=envelope_id,
                                 recipients=[{"code": LOCAL_CODE, "kind": "copy"}])
    response = post(client, other, world.neighbour_key)
    assert (response.status_code, response.json()["code"]) == (409, "exchange.envelope_id_conflict")
    assert Delivery.objects.count() == 1
    assert AuditRecord.objects.filter(action="exchange.envelope_refused",
                                      detail__code="exchange.envelope_id_conflict").exists()


def test_a_file_that_cannot_be_removed_after_commit_leaves_the_stored_arrival_whole(client, world, settings,
                                                                                    tmp_path, monkeypatch):
    """A classified document (R1.8) is stored as its head and its staged PDF removed after commit; if that removal
    fails, the arrival stands (200, its head file kept) and the leftover is only logged."""
    from django.core.files.storage import default_storage

    from ..envelope import seal_envelope as seal

    settings.MEDIA_ROOT = tmp_path

    def broken(name):
        raise PermissionError(name)

    monkeypatch.setattr(default_storage, "delete", broken)
    _, body = seal(world.neighbour_key, kind="document", to_instance="city-test", sender_unit=REMOTE_UNIT,
                   recipients=[{"code": LOCAL_CODE, "kind": "main"}], files=[("正文.pdf", "sealed_pdf", PDF)],
                   document={"title": "关于检查的通知", "doc_kind": "通知", "classification": "秘密"})
    response = post(client, body, world.neighbour_key)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    [row] = Envelope.objects.filter(direction="in")
    assert row.file.storage.exists(row.file.name)


def test_a_document_keeps_the_head_of_its_envelope_and_the_files_rebuild_it(client, world, settings, tmp_path):
    """The PDF and attachments are stored once, as the mirror's files; the envelope's head (manifest, signature)
    and those files give back the envelope byte for byte. A repeat leaves no file behind."""
    from .. import inbox

    settings.MEDIA_ROOT = tmp_path
    table = b"PK\x03\x04" + bytes(range(256)) * 40
    _, body = seal_envelope(world.neighbour_key, kind="document", to_instance="city-test", sender_unit=REMOTE_UNIT,
                            recipients=[{"code": LOCAL_CODE, "kind": "main"}],
                            document={"title": "乙县人民政府办公室关于联合开展汛期安全检查的通知", "doc_kind": "通知",
                                      "doc_number": "乙府办〔2026〕9号", "body_text": "请做好检查。"},
                            files=[("乙府办〔2026〕9号.pdf", "sealed_pdf", PDF), ("检查表.xlsx", "attachment", table)])
    assert post(client, body, world.neighbour_key).status_code == 200
    [row] = Envelope.objects.filter(direction="in")
    mirror = row.document
    assert row.file.size < 2000 and row.size == len(body)
    assert inbox.stored_envelope(row) == body
    [attachment] = mirror.attachments.all()
    with attachment.file.open("rb") as handle:
        assert (attachment.filename, handle.read()) == ("检查表.xlsx", table)
    files = stored_files()
    assert len(files) == 3  # the head, the sealed PDF, the attachment
    assert post(client, body, world.neighbour_key).json()["status"] == "duplicate"
    assert stored_files() == files
    with open(attachment.file.path, "ab") as handle:  # the stored files no longer give the envelope: said so
        handle.write(b"x")
    with pytest.raises(ValueError):
        inbox.stored_envelope(row)


def test_a_body_is_not_read_without_the_neighbours_signature_over_its_length(client, world):
    from .. import transport

    _, body = document_envelope(world.neighbour_key)
    headers = transport.sign_request(world.neighbour_key, "city-test", body)
    forged = transport.sign_request(world.neighbour_key, "city-test", body[:-1])  # signed for another length
    headers[transport.H_PRESIGNATURE] = forged[transport.H_PRESIGNATURE]
    content_type = headers.pop("Content-Type")
    response = client.post("/federation/v1/envelopes", data=body, content_type=content_type, headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "exchange.transport_signature_invalid")
    assert AuditRecord.objects.get(action="exchange.envelope_refused").detail["size"] == len(body)


def test_gm_mode_sm2_instances_exchange_a_document_and_its_receipts(client):
    """国密 mode on both sides: the neighbour's SM2-signed envelope and transport are checked and the document lands;
    this instance's SM2 key, encrypted at rest, signs the 送达 and 签收 receipts the origin opens with our SM2
    certificate."""
    world = build_world("sm2")
    assert directory.local().algorithm == "sm2" and directory.local_key().algorithm == "sm2"
    _, body = document_envelope(world.neighbour_key)
    assert post(client, body, world.neighbour_key).json()["status"] == "accepted"
    [delivery] = Delivery.objects.filter(unit=world.unit)
    incoming = exchange.sign_delivery(world.clerk, delivery.pk)
    assert [(e["event"], e.get("by", "")) for e in packed_receipt()] == [("delivered", ""), ("signed", "赵静")]
    assert incoming.receipt_number
    data = bytearray(body)
    data[len(data) - 50] ^= 1  # a changed byte of the PDF: refused as with any algorithm
    refused = post(client, bytes(data), world.neighbour_key)
    assert (refused.status_code, refused.json()["code"]) == (400, "exchange.envelope_tampered")


@pytest.mark.django_db(transaction=True)
def test_a_listener_failing_after_commit_leaves_the_arrival_stored_with_its_files(client, settings, tmp_path):
    """Something listening for arrivals (a notification) fails after the commit: the answer is still "accepted"
    and the mirror keeps its PDF — so the sender's retry, answered "duplicate", loses nothing."""
    from zhengtong.exchange import signals

    settings.MEDIA_ROOT = tmp_path
    world = build_world()

    def failing(**kwargs):
        raise RuntimeError("notification gateway down")

    signals.deliveries_arrived.connect(failing, dispatch_uid="test-failing")
    try:
        _, body = document_envelope(world.neighbour_key)
        assert post(client, body, world.neighbour_key).json()["status"] == "accepted"
    finally:
        signals.deliveries_arrived.disconnect(dispatch_uid="test-failing")
    mirror = Delivery.objects.get().document
    assert mirror.sealed_pdf.storage.exists(mirror.sealed_pdf.name)
    assert post(client, body, world.neighbour_key).json()["status"] == "duplicate"
