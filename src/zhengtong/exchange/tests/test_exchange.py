"""公文交换 inside one instance (issue #5 §1, §4) on the demo city: bgs.sfy dispatches a sealed 通知 to 市教育局
(主送) and a county's government office (抄送); each 交换箱 shows it; jyj.sfy signs for it and its 收文 flow starts
(R1.6); xian1.sfy refuses it with a reason, the sender sees why and resends; recall racing 签收 has one winner."""
from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command

from zhengtong.accounts.models import User
from zhengtong.audit.models import AuditRecord
from zhengtong.documents.models import Attachment, Document
from zhengtong.documents.tests.test_api_demo_path import login
from zhengtong.exchange import signals
from zhengtong.exchange.models import Delivery
from zhengtong.flow.models import Task

from .support import TITLE, clerk_unit, dispatched

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(client):
    call_command("seed_demo", scale=0.05)
    return dispatched(client, main=[clerk_unit("jyj.sfy")], copy=[clerk_unit("xian1.sfy")])


def inbox(client, username, status="pending", *, document=None):
    """The user's 交换箱 entries of one document (the demo city has another one waiting there)."""
    login(client, username)
    response = client.get("/api/v1/exchange/inbox", {"status": status})
    assert response.status_code == 200, response.content.decode()
    document = document or Document.objects.get(title=TITLE, direction="outgoing")
    return [e for e in response.json() if e["document_id"] == document.pk]


def post(client, path, body=None):
    return client.post(f"/api/v1/exchange/{path}", body or {}, content_type="application/json")


def test_r1_6_dispatch_reaches_each_inbox_and_signing_starts_the_receipt_flow(client, sent):
    [entry] = inbox(client, "jyj.sfy")
    assert (entry["title"], entry["doc_number"], entry["kind"]) == (TITLE, sent.doc_number, "main")
    assert entry["issuing_unit"] == "示范市人民政府" and entry["status"] == "pending"
    assert [e["kind"] for e in inbox(client, "xian1.sfy")] == ["copy"]
    assert inbox(client, "jyj.sfy", "signed") == []

    login(client, "jyj.sfy")
    response = post(client, f"deliveries/{entry['id']}/sign")
    assert response.status_code == 200, response.content.decode()
    incoming = Document.objects.get(pk=response.json()["incoming_document_id"])
    assert incoming.direction == "incoming" and incoming.unit == clerk_unit("jyj.sfy")
    assert incoming.source_number == sent.doc_number and incoming.source_unit.name == "示范市人民政府"
    assert incoming.receipt_number == response.json()["receipt_number"] != ""
    # the sealed file itself is the 收文's 正文原件, byte for byte
    scan = incoming.attachments.get(role=Attachment.Role.SOURCE)
    assert scan.title == "来文（电子公文，已用印）"
    with scan.file.open("rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == sent.sealed_sha256
    # 签收 is done; the 收文 flow waits at its next step in the receiving unit
    [task] = Task.objects.filter(instance=incoming.instance, status="open", kind="todo")
    assert task.node_id != "sign_in" and task.assignee.unit == clerk_unit("jyj.sfy")
    assert inbox(client, "jyj.sfy") == [] and inbox(client, "jyj.sfy", "signed")[0]["incoming_document_id"] == incoming.pk
    login(client, "jyj.sfy")
    again = post(client, f"deliveries/{entry['id']}/sign")
    assert again.status_code == 409 and again.json()["code"] == "exchange.already_signed"

    login(client, "bgs.sfy")
    receipts = {r["unit"]: r for r in client.get(f"/api/v1/exchange/dispatches/{sent.pk}/receipts").json()}
    education = receipts[clerk_unit("jyj.sfy").name]
    assert education["status"] == "signed" and education["signed_by"] == User.objects.get(username="jyj.sfy").person.name
    assert [e["kind"] for e in education["events"]] == ["delivered", "signed"]
    assert receipts[clerk_unit("xian1.sfy").name]["status"] == "pending"
    assert AuditRecord.objects.filter(action="exchange.signed", object_id=str(sent.pk)).count() == 1
    assert AuditRecord.objects.filter(action="exchange.delivered", object_id=str(sent.pk)).count() == 1


def test_a_refusal_comes_back_with_its_reason_and_the_sender_resends(client, sent):
    [entry] = inbox(client, "xian1.sfy")
    empty = post(client, f"deliveries/{entry['id']}/refuse", {"reason": " "})
    assert empty.status_code == 400 and empty.json()["code"] == "exchange.reason_required"
    refused = post(client, f"deliveries/{entry['id']}/refuse", {"reason": "非本单位主管事项，请改送县教育局"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert inbox(client, "xian1.sfy") == []

    login(client, "bgs.sfy")
    receipts = {r["unit_id"]: r for r in client.get(f"/api/v1/exchange/dispatches/{sent.pk}/receipts").json()}
    county = receipts[clerk_unit("xian1.sfy").pk]
    assert county["status"] == "refused" and county["reason"] == "非本单位主管事项，请改送县教育局"
    resent = post(client, f"deliveries/{entry['id']}/resend")
    assert resent.status_code == 200 and resent.json()["resend_of"] == entry["id"]
    twice = post(client, f"deliveries/{entry['id']}/resend")
    assert twice.status_code == 409 and twice.json()["code"] == "exchange.already_resent"
    [again] = inbox(client, "xian1.sfy")
    assert again["id"] == resent.json()["id"] and again["status"] == "pending"


def test_recall_before_signing_wins_and_signing_after_it_is_refused_with_a_message(client, sent):
    [entry] = inbox(client, "jyj.sfy")
    login(client, "bgs.sfy")
    recalled = post(client, f"deliveries/{entry['id']}/recall", {"reason": "文号有误，收回重发"})
    assert recalled.status_code == 200 and recalled.json()["status"] == "recalled"
    login(client, "jyj.sfy")
    late = post(client, f"deliveries/{entry['id']}/sign")
    assert late.status_code == 409 and late.json()["code"] == "exchange.recalled"
    assert "撤回" in late.json()["message"]
    assert inbox(client, "jyj.sfy", "recalled")[0]["reason"] == "文号有误，收回重发"
    assert not Document.objects.filter(direction="incoming", source_number=sent.doc_number).exists()
    # withdrawn: the receiving unit's 收发员 no longer reads it, nor finds it; a 重发 gives it back
    assert client.get(f"/api/v1/documents/{sent.pk}").status_code == 404
    assert client.get("/api/v1/search", {"q": "冬季校园安全"}).json()["total"] == 0
    login(client, "bgs.sfy")
    assert post(client, f"deliveries/{entry['id']}/resend").status_code == 200
    login(client, "jyj.sfy")
    assert client.get(f"/api/v1/documents/{sent.pk}").status_code == 200
    assert client.get("/api/v1/search", {"q": "冬季校园安全"}).json()["total"] == 1
    # and the other way round: once signed, the sender can no longer recall
    [county] = inbox(client, "xian1.sfy")
    assert post(client, f"deliveries/{county['id']}/sign").status_code == 200
    login(client, "bgs.sfy")
    too_late = post(client, f"deliveries/{county['id']}/recall")
    assert too_late.status_code == 409 and too_late.json()["code"] == "exchange.already_signed"


def test_only_the_units_clerks_act_and_others_get_404_recorded(client, sent):
    [entry] = inbox(client, "jyj.sfy")
    login(client, "jyj.juzhang")  # a leader of the receiving unit, not its 收发员
    response = client.get("/api/v1/exchange/inbox")
    assert response.status_code == 403 and response.json()["code"] == "exchange.clerk_only"
    assert post(client, f"deliveries/{entry['id']}/sign").status_code == 404
    login(client, "xian1.sfy")  # another recipient's clerk
    assert post(client, f"deliveries/{entry['id']}/refuse", {"reason": "不是我的"}).status_code == 404
    assert post(client, f"deliveries/{entry['id']}/recall").status_code == 404  # not the sender either
    login(client, "bgs.keyuan")  # the drafter: neither the sending unit's 收发员 nor the dispatcher
    assert post(client, f"deliveries/{entry['id']}/recall").status_code == 404
    assert client.get(f"/api/v1/exchange/dispatches/{sent.pk}/receipts").status_code == 404
    assert post(client, "deliveries/999999/sign").status_code == 404
    denied = AuditRecord.objects.filter(action="permission.denied", object_type="exchange.delivery")
    assert denied.count() >= 5
    assert Delivery.objects.get(pk=entry["id"]).status == "pending"


def test_urging_reaches_only_recipients_that_have_not_signed(client, sent):
    urged = []
    signals.delivery_urged.connect(lambda sender, deliveries, message, **kw: urged.append(
        ([d.unit_id for d in deliveries], message)), weak=False, dispatch_uid="test-urged")
    try:
        [entry] = inbox(client, "jyj.sfy")
        assert post(client, f"deliveries/{entry['id']}/sign").status_code == 200
        login(client, "bgs.sfy")
        response = post(client, f"dispatches/{sent.pk}/urge", {"message": "请尽快签收"})
        assert response.status_code == 200 and response.json() == {"urged": 1}
        assert urged == [([clerk_unit("xian1.sfy").pk], "请尽快签收")]
        assert Delivery.objects.get(unit=clerk_unit("xian1.sfy"), document=sent).urge_count == 1
        [county] = inbox(client, "xian1.sfy")
        assert post(client, f"deliveries/{county['id']}/sign").status_code == 200
        login(client, "bgs.sfy")
        done = post(client, f"dispatches/{sent.pk}/urge")
        assert done.status_code == 400 and done.json()["code"] == "exchange.nothing_to_urge"
    finally:
        signals.delivery_urged.disconnect(dispatch_uid="test-urged")


def test_copies_and_print_limit_set_at_dispatch_bind_the_recipient(client):
    call_command("seed_demo", scale=0.05)
    education, county = clerk_unit("jyj.sfy"), clerk_unit("xian1.sfy")
    sent = dispatched(client, main=[education], copy=[county],
                      distribution=[{"unit": education.pk, "copies": 3, "print_limit": 2}])
    [entry] = inbox(client, "jyj.sfy", document=sent)
    assert (entry["copies"], entry["print_limit"], entry["printed"]) == (3, 2, 0)
    assert post(client, f"deliveries/{entry['id']}/print", {"copies": 2}).json()["printed"] == 2
    over = post(client, f"deliveries/{entry['id']}/print", {"copies": 1})
    assert over.status_code == 409 and over.json()["code"] == "exchange.print_limit" and "限印 2 份" in over.json()["message"]
    [other] = inbox(client, "xian1.sfy", document=sent)
    assert (other["copies"], other["print_limit"]) == (1, 0)  # not set: one copy, no limit
    assert post(client, f"deliveries/{other['id']}/print", {"copies": 5}).status_code == 200
    login(client, "bgs.sfy")
    receipts = {r["unit_id"]: r for r in client.get(f"/api/v1/exchange/dispatches/{sent.pk}/receipts").json()}
    assert receipts[education.pk]["printed"] == 2 and [e["kind"] for e in receipts[education.pk]["events"]][-1] == "printed"
    # once dispatched the distribution is fixed; a unit that is no recipient is refused
    late = client.post(f"/api/v1/documents/{sent.pk}/distribution", {"recipients": [{"unit": education.pk}]},
                       content_type="application/json")
    assert late.status_code in (403, 409)


def test_a_unit_forwards_a_signed_document_to_its_subordinate_units_and_answers_for_them(client, sent):
    from zhengtong.org.models import Duty
    from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty

    county_office = clerk_unit("xian1.sfy")
    below = UnitFactory(parent=county_office, name="青川县某乡镇人民政府")
    clerk = IdentityFactory(unit=below, duty=duty(Duty.DOC_CLERK))
    elsewhere = UnitFactory(name="不相干的单位")
    [entry] = inbox(client, "xian1.sfy")
    early = post(client, f"deliveries/{entry['id']}/forward", {"units": [below.pk]})
    assert early.status_code == 409 and early.json()["code"] == "exchange.sign_first"
    assert post(client, f"deliveries/{entry['id']}/sign").status_code == 200
    targets = client.get(f"/api/v1/exchange/deliveries/{entry['id']}/forward-targets").json()
    assert [t["id"] for t in targets] == [below.pk]
    wrong = post(client, f"deliveries/{entry['id']}/forward", {"units": [elsewhere.pk]})
    assert wrong.status_code == 400 and wrong.json()["code"] == "exchange.not_subordinate"
    done = post(client, f"deliveries/{entry['id']}/forward", {"units": [below.pk]})
    assert done.status_code == 200, done.content.decode()
    [forwarded] = done.json()
    assert forwarded["forwarded_from"] == entry["id"] and forwarded["sender_unit_id"] == county_office.pk
    again = post(client, f"deliveries/{entry['id']}/forward", {"units": [below.pk]})
    assert again.status_code == 409 and again.json()["code"] == "exchange.already_delivered"

    # the subordinate's 收发员 finds it and may read the document
    client.force_login(clerk.person.user)
    mine = client.get("/api/v1/exchange/inbox").json()
    assert [e["id"] for e in mine] == [forwarded["id"]]
    assert client.get(f"/api/v1/documents/{sent.pk}").status_code == 200
    # the forwarding unit answers for its forward (receipts, 催办, 撤回); the original sender sees it, cannot recall it
    login(client, "xian1.sfy")
    assert [r["id"] for r in client.get(f"/api/v1/exchange/dispatches/{sent.pk}/receipts").json()] == [forwarded["id"]]
    assert post(client, f"dispatches/{sent.pk}/urge").json() == {"urged": 1}
    login(client, "bgs.sfy")
    everything = client.get(f"/api/v1/exchange/dispatches/{sent.pk}/receipts").json()
    assert forwarded["id"] in [r["id"] for r in everything]
    assert post(client, f"deliveries/{forwarded['id']}/recall").status_code == 404
    login(client, "xian1.sfy")
    assert post(client, f"deliveries/{forwarded['id']}/recall").json()["status"] == "recalled"
    client.force_login(clerk.person.user)
    assert client.get(f"/api/v1/documents/{sent.pk}").status_code == 404  # withdrawn from the subordinate
    # a 重发 of the forward is still the forwarding unit's: the original sender cannot recall it either
    login(client, "xian1.sfy")
    again = post(client, f"deliveries/{forwarded['id']}/resend").json()
    assert again["forwarded_from"] == entry["id"]
    login(client, "bgs.sfy")
    assert post(client, f"deliveries/{again['id']}/recall").status_code == 404
    assert AuditRecord.objects.filter(action="exchange.forwarded", object_id=str(sent.pk)).count() == 1
