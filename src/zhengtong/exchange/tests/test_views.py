"""公文交换 pages on the demo city (issue #5 §1): the 交换箱 for a unit's 收发员 (403 with a message for others), a
delivery (预览, 已查看 receipt, 签收 → the 收文 page, 退文 with a required reason, a recalled one shown withdrawn), and
the 发送情况 panel of the document page for the sending side (撤回, 重发, 催办). Refusals come back as messages on
the page, never a 500; a delivery others may not handle is 404."""
from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from zhengtong.accounts.models import AdminRole, AdminRoleGrant, User
from zhengtong.audit.models import AuditRecord
from zhengtong.documents.models import Document
from zhengtong.exchange.models import Delivery, DeliveryEvent

from .support import TITLE, clerk_unit, dispatched

pytestmark = pytest.mark.django_db
REASON = "非本单位主管事项，请改送县教育局"


@pytest.fixture
def sent(client):
    call_command("seed_demo", scale=0.05)
    return dispatched(client, main=[clerk_unit("jyj.sfy")], copy=[clerk_unit("xian1.sfy")])


def as_user(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def delivery_to(sent, username: str) -> Delivery:
    return Delivery.objects.get(document=sent, unit=clerk_unit(username), status="pending")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_inbox_lists_each_tab_newest_first_with_counts(client, sent):
    second = dispatched(client, main=[clerk_unit("jyj.sfy")])  # later: first in the list
    html = page(as_user(client, "jyj.sfy").get("/exchange/"))
    mine = list(Delivery.objects.filter(unit=clerk_unit("jyj.sfy"), status="pending")
                .order_by("-delivered_at", "-pk").values_list("pk", flat=True))
    assert [int(pk) for pk in re.findall(r'href="/exchange/deliveries/(\d+)/"', html)] == mine
    assert mine[0] == Delivery.objects.get(document=second).pk
    assert TITLE in html and sent.doc_number in html and "示范市人民政府" in html and "主送" in html
    assert re.search(rf'aria-current="page">待签收 <span class="flow-tab-count">{len(mine)}</span>', html)
    assert "未查看" in html
    # the shell's link, with the number waiting for 签收
    assert re.search(rf'href="/exchange/" class="active">交换箱 <span class="nav-count"[^>]*>{len(mine)}</span>', html)

    county = page(as_user(client, "xian1.sfy").get("/exchange/"))
    assert TITLE in county and "抄送" in county
    assert "暂无已签收的文件" in page(client.get("/exchange/", {"status": "signed"}))
    assert page(client.get("/exchange/", {"status": "nonsense"})).count('aria-current="page">待签收') == 1


def test_someone_who_is_no_clerk_gets_a_403_with_a_message_and_no_link(client, sent):
    as_user(client, "jyj.juzhang")  # the bureau's head, not its 收发员
    response = client.get("/exchange/")
    assert response.status_code == 403 and "只有收发员可以查看交换箱" in response.content.decode()
    assert AuditRecord.objects.filter(action="permission.denied", object_type="exchange.inbox").count() == 1
    assert "交换箱" not in page(client.get("/"))


def test_the_three_administrators_handle_no_exchange_r7_2(client, sent):
    delivery = delivery_to(sent, "jyj.sfy")
    user = User.objects.get(username="jyj.sfy")
    AdminRoleGrant.objects.create(user=user, role=AdminRole.AUDITOR)
    client.force_login(user)
    assert "交换箱" not in page(client.get("/org/"))
    for response in (client.get("/exchange/"), client.get(f"/exchange/deliveries/{delivery.pk}/"),
                     client.post(f"/exchange/deliveries/{delivery.pk}/sign/")):
        assert response.status_code == 403 and "不能办理公文" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.opened_at is None


@pytest.mark.parametrize("username", ["jyj.juzhang", "xian1.sfy", "bgs.sfy"])
def test_a_delivery_of_another_unit_is_404_to_read_and_to_act(client, sent, username):
    delivery = delivery_to(sent, "jyj.sfy")
    as_user(client, username)
    assert client.get(f"/exchange/deliveries/{delivery.pk}/").status_code == 404
    assert client.post(f"/exchange/deliveries/{delivery.pk}/sign/").status_code == 404
    assert client.post(f"/exchange/deliveries/{delivery.pk}/refuse/", {"reason": "不是我的"}).status_code == 404
    assert client.get("/exchange/deliveries/999999/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.opened_at is None


def test_the_first_look_is_the_opened_receipt_and_signing_lands_on_the_incoming_document(client, sent):
    delivery = delivery_to(sent, "jyj.sfy")
    as_user(client, "jyj.sfy")
    html = page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    assert TITLE in html and sent.doc_number in html and "一、压实责任" in html
    assert f'href="/documents/{sent.pk}/pdf/"' in html and "验证印章" in html
    assert f'action="/exchange/deliveries/{delivery.pk}/sign/"' in html and "退文理由" in html
    page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    assert DeliveryEvent.objects.filter(delivery=delivery, kind="opened").count() == 1
    delivery.refresh_from_db()
    assert delivery.opened_by.person.user.username == "jyj.sfy"
    pdf = client.get(f"/documents/{sent.pk}/pdf/")  # the preview the page links to: the sealed file itself
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    response = client.post(f"/exchange/deliveries/{delivery.pk}/sign/", follow=True)
    delivery.refresh_from_db()
    incoming = delivery.incoming
    assert delivery.status == "signed" and incoming.direction == "incoming"
    assert response.redirect_chain == [(f"/documents/{incoming.pk}/", 302)]
    assert f"已签收，收文号 {incoming.receipt_number}" in page(response)
    signed = page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    assert "查看收文" in signed and "/sign/" not in signed
    assert incoming.receipt_number in page(client.get("/exchange/", {"status": "signed"}))
    # signing twice: a message on the page, not an error
    again = client.post(f"/exchange/deliveries/{delivery.pk}/sign/", follow=True)
    assert "签收未完成：该文件已由收文单位签收" in page(again)


def test_a_refusal_needs_its_reason_and_the_error_is_shown_at_the_form(client, sent):
    delivery = delivery_to(sent, "xian1.sfy")
    as_user(client, "xian1.sfy")
    empty = client.post(f"/exchange/deliveries/{delivery.pk}/refuse/", {"reason": "  "})
    assert empty.status_code == 400 and "请填写退文理由" in empty.content.decode()
    too_long = client.post(f"/exchange/deliveries/{delivery.pk}/refuse/", {"reason": "长" * 201})
    assert too_long.status_code == 400 and "退文理由不能超过 200 个字" in too_long.content.decode()
    assert "长" * 201 in too_long.content.decode()  # what was typed is kept
    delivery.refresh_from_db()
    assert delivery.status == "pending"

    done = client.post(f"/exchange/deliveries/{delivery.pk}/refuse/", {"reason": REASON}, follow=True)
    assert done.redirect_chain == [("/exchange/?status=refused", 302)]
    html = page(done)
    assert "已退文" in html and REASON in html
    delivery.refresh_from_db()
    assert delivery.status == "refused" and delivery.reason == REASON


def test_a_recalled_delivery_is_shown_withdrawn_without_buttons(client, sent):
    delivery = delivery_to(sent, "jyj.sfy")
    back = as_user(client, "bgs.sfy").post(f"/exchange/deliveries/{delivery.pk}/recall/", {"reason": "文号有误，收回重发"})
    assert back.status_code == 302 and back["Location"] == f"/documents/{sent.pk}/#exchange-receipts"
    as_user(client, "jyj.sfy")
    html = page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    assert re.search(r"发文单位已于 [^<]+ 撤回该文件", html) and "撤回理由：文号有误，收回重发" in html
    assert "/sign/" not in html and "/refuse/" not in html and "/pdf/" not in html
    delivery.refresh_from_db()
    assert delivery.opened_at is None  # looking at a withdrawn delivery is no 已查看 receipt
    late = client.post(f"/exchange/deliveries/{delivery.pk}/sign/", follow=True)
    assert "签收未完成：发文单位已撤回该文件" in page(late)
    assert "文号有误，收回重发" in page(client.get("/exchange/", {"status": "recalled"}))
    assert not Document.objects.filter(direction="incoming", source_number=sent.doc_number).exists()


def test_the_sender_sees_receipts_on_the_document_page_and_resends_urges_recalls(client, sent):
    county = delivery_to(sent, "xian1.sfy")
    as_user(client, "xian1.sfy").post(f"/exchange/deliveries/{county.pk}/refuse/", {"reason": REASON})
    education = delivery_to(sent, "jyj.sfy")

    as_user(client, "bgs.sfy")
    html = page(client.get(f"/documents/{sent.pk}/"))
    assert "发送情况" in html and clerk_unit("jyj.sfy").name in html and clerk_unit("xian1.sfy").name in html
    assert f"退文理由：{REASON}" in html and f'action="/exchange/deliveries/{county.pk}/resend/"' in html
    assert f'action="/exchange/deliveries/{education.pk}/recall/"' in html
    assert f'action="/exchange/documents/{sent.pk}/urge/"' in html

    resent = client.post(f"/exchange/deliveries/{county.pk}/resend/", follow=True)
    assert f"已重发给{clerk_unit('xian1.sfy').name}" in page(resent)
    assert Delivery.objects.get(document=sent, unit=clerk_unit("xian1.sfy"), status="pending").resend_of == county
    html = page(client.get(f"/documents/{sent.pk}/"))
    assert "此前已退文" in html and REASON in html and "第 2 次发送" in html
    twice = client.post(f"/exchange/deliveries/{county.pk}/resend/", follow=True)
    assert "重发未完成：该单位已有一份待签收或已签收的文件" in page(twice)

    urged = client.post(f"/exchange/documents/{sent.pk}/urge/", {"message": "请尽快签收"}, follow=True)
    assert "已催办 2 个尚未签收的单位" in page(urged)
    assert "催办 1 次" in page(urged)

    as_user(client, "jyj.sfy").post(f"/exchange/deliveries/{education.pk}/sign/")
    as_user(client, "bgs.sfy")
    html = page(client.get(f"/documents/{sent.pk}/"))
    signer = User.objects.get(username="jyj.sfy").person.name
    assert re.search(rf"签收 \d+月\d+日 \d\d:\d\d · {signer}", html)
    too_late = client.post(f"/exchange/deliveries/{education.pk}/recall/", follow=True)
    assert "撤回未完成：该文件已由收文单位签收" in page(too_late)


def test_the_panel_and_the_sender_actions_are_the_sending_sides_only(client, sent):
    delivery = delivery_to(sent, "jyj.sfy")
    before = AuditRecord.objects.filter(action="permission.denied").count()
    for username in ("jyj.sfy", "bgs.keyuan"):  # the recipient's clerk and the drafter read the document
        html = page(as_user(client, username).get(f"/documents/{sent.pk}/"))
        assert "发送情况" not in html and "/recall/" not in html
    assert AuditRecord.objects.filter(action="permission.denied").count() == before  # reading is no refusal
    for username in ("jyj.sfy", "bgs.keyuan"):
        as_user(client, username)
        assert client.post(f"/exchange/deliveries/{delivery.pk}/recall/").status_code == 404
        assert client.post(f"/exchange/deliveries/{delivery.pk}/resend/").status_code == 404
        assert client.post(f"/exchange/documents/{sent.pk}/urge/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.urge_count == 0


def test_posts_need_the_csrf_token_and_post(sent):
    delivery = delivery_to(sent, "jyj.sfy")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.get(username="jyj.sfy"))
    assert strict.post(f"/exchange/deliveries/{delivery.pk}/sign/").status_code == 403
    assert strict.get(f"/exchange/deliveries/{delivery.pk}/sign/").status_code == 405
    delivery.refresh_from_db()
    assert delivery.status == "pending"
