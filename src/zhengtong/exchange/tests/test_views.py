"""公文交换 pages on the demo city (issue #5 §1): the 交换箱 for a unit's 收发员 (403 with a message for others), a
delivery (预览, 已查看 receipt, 签收 → the 收文 page, 退文 with a required reason, a recalled one shown withdrawn, 打印
counted against the print limit, 转发 to subordinate units and the forwards' 撤回 / 重发 / 催办), the 发送情况 panel of
the document page for the sending side (撤回, 重发, 催办), and 收发统计 with its .xlsx. Refusals come back as messages
on the page, never a 500; a delivery others may not handle is 404."""
from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from zhengtong.accounts.models import AdminRole, AdminRoleGrant, User
from zhengtong.audit.models import AuditRecord
from zhengtong.documents.models import Document
from zhengtong.exchange.models import Delivery, DeliveryEvent
from zhengtong.org.models import Duty, Unit
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty

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



# --- 打印 -------------------------------------------------------------------------------------------------------

@pytest.fixture
def limited(client, sent):
    """A second 通知 to 市教育局 with 3 copies, at most 2 printed."""
    education = clerk_unit("jyj.sfy")
    document = dispatched(client, main=[education],
                          distribution=[{"unit": education.pk, "copies": 3, "print_limit": 2}])
    return Delivery.objects.get(document=document, unit=education)


def test_printing_is_counted_then_opens_the_sealed_pdf(client, limited):
    as_user(client, "jyj.sfy")
    html = page(client.get(f"/exchange/deliveries/{limited.pk}/"))
    assert f'action="/exchange/deliveries/{limited.pk}/print/"' in html and "已打印 0 份 / 限印 2 份" in html
    response = client.post(f"/exchange/deliveries/{limited.pk}/print/", {"copies": "2"})
    assert response.status_code == 302 and response["Location"] == f"/documents/{limited.document_id}/pdf/"
    limited.refresh_from_db()
    assert limited.printed == 2
    assert DeliveryEvent.objects.get(delivery=limited, kind="printed").note == "2 份"
    back = page(client.get(f"/exchange/deliveries/{limited.pk}/"))  # back from the PDF: the count and the message
    assert "已打印 2 份 / 限印 2 份，已达限印份数" in back and "已登记打印，本文已打印 2 份，限印 2 份" in back
    assert "no-store" in client.get(f"/exchange/deliveries/{limited.pk}/")["Cache-Control"]


def test_printing_past_the_limit_or_a_bad_count_says_why_and_prints_nothing(client, limited):
    as_user(client, "jyj.sfy")
    client.post(f"/exchange/deliveries/{limited.pk}/print/", {"copies": "1"})
    past = client.post(f"/exchange/deliveries/{limited.pk}/print/", {"copies": "2"}, follow=True)
    assert past.redirect_chain == [(f"/exchange/deliveries/{limited.pk}/#exchange-print", 302)]
    assert "打印未完成：该文限印 2 份，已打印 1 份，不能再打印 2 份" in page(past)
    for bad in ("0", "abc", "1001", ""):
        wrong = client.post(f"/exchange/deliveries/{limited.pk}/print/", {"copies": bad}, follow=True)
        assert "打印未完成：打印份数应为 1–1000" in page(wrong)
    limited.refresh_from_db()
    assert limited.printed == 1


def test_only_the_recipient_clerk_prints_and_not_a_withdrawn_delivery(client, sent):
    delivery = delivery_to(sent, "jyj.sfy")
    for username in ("xian1.sfy", "bgs.sfy", "jyj.juzhang"):
        assert as_user(client, username).post(f"/exchange/deliveries/{delivery.pk}/print/",
                                               {"copies": "1"}).status_code == 404
    as_user(client, "bgs.sfy").post(f"/exchange/deliveries/{delivery.pk}/recall/")
    as_user(client, "jyj.sfy")
    assert "/print/" not in page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    late = client.post(f"/exchange/deliveries/{delivery.pk}/print/", {"copies": "1"}, follow=True)
    assert "打印未完成：发文单位已撤回该文件" in page(late)
    delivery.refresh_from_db()
    assert delivery.printed == 0


# --- 转发 -------------------------------------------------------------------------------------------------------

@pytest.fixture
def below():
    """Two units under the county government's office (xian1.sfy's unit), the first with a 收发员; and a unit
    below 市教育局 that is no longer active."""
    office = clerk_unit("xian1.sfy")
    centre = UnitFactory(name="青川县政务服务中心", short_name="县政务服务中心", region=office.region, parent=office,
                         order=1)
    archive = UnitFactory(name="青川县档案馆", short_name="县档案馆", region=office.region, parent=office, order=2)
    UnitFactory(name="示范市教育考试院", region=clerk_unit("jyj.sfy").region, parent=clerk_unit("jyj.sfy"),
                active=False)
    clerk = IdentityFactory(unit=centre, duty=duty(Duty.DOC_CLERK))
    return centre, archive, clerk.person.user


def signed_by_county(client, sent) -> Delivery:
    delivery = delivery_to(sent, "xian1.sfy")
    as_user(client, "xian1.sfy").post(f"/exchange/deliveries/{delivery.pk}/sign/")
    delivery.refresh_from_db()
    return delivery


def checkboxes(html: str) -> dict[int, str]:
    """unit id → the checkbox's attributes after the value (disabled, checked)."""
    return {int(pk): rest.strip() for pk, rest in re.findall(r'name="units" value="(\d+)"([^>]*)>', html)}


def test_the_forward_form_lists_the_subordinate_units_once_signed_for(client, sent, below):
    centre, archive, _clerk = below
    delivery = delivery_to(sent, "xian1.sfy")
    as_user(client, "xian1.sfy")
    assert "/forward/" not in page(client.get(f"/exchange/deliveries/{delivery.pk}/"))  # 待签收: sign first
    early = client.post(f"/exchange/deliveries/{delivery.pk}/forward/", {"units": [centre.pk]}, follow=True)
    assert "转发未完成：请先签收，再转发给下级单位" in page(early)

    client.post(f"/exchange/deliveries/{delivery.pk}/sign/")
    html = page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    assert f'action="/exchange/deliveries/{delivery.pk}/forward/"' in html
    assert checkboxes(html) == {centre.pk: "", archive.pk: ""}
    assert "转发情况" not in html  # nothing forwarded yet
    # the 收文 the 签收 registered leads its 收发员 back here
    incoming = page(client.get(f"/documents/{Delivery.objects.get(pk=delivery.pk).incoming_id}/"))
    assert "来文交换" in incoming and f'href="/exchange/deliveries/{delivery.pk}/#exchange-forward"' in incoming

    education = delivery_to(sent, "jyj.sfy")  # 市教育局: its only subordinate unit is inactive
    as_user(client, "jyj.sfy").post(f"/exchange/deliveries/{education.pk}/sign/")
    html = page(client.get(f"/exchange/deliveries/{education.pk}/"))
    assert "本单位没有下级单位，无需转发" in html and not checkboxes(html)


def test_forwarding_reaches_the_subordinate_units_inbox(client, sent, below):
    centre, archive, centre_clerk = below
    delivery = signed_by_county(client, sent)
    done = client.post(f"/exchange/deliveries/{delivery.pk}/forward/", {"units": [str(centre.pk)]}, follow=True)
    assert done.redirect_chain == [(f"/exchange/deliveries/{delivery.pk}/#exchange-forwards", 302)]
    html = page(done)
    assert "已转发给青川县政务服务中心，待其收发员签收" in html
    assert checkboxes(html) == {centre.pk: "disabled", archive.pk: ""} and "（已收到）" in html
    forwarded = Delivery.objects.get(document=sent, unit=centre)
    assert forwarded.forwarded_from == delivery and forwarded.status == "pending"
    panel = html.split('id="exchange-forwards"')[1]
    assert "转发情况" in html and "青川县政务服务中心" in panel and "待签收" in panel
    assert f'action="/exchange/deliveries/{forwarded.pk}/recall/"' in panel
    assert f'name="back" value="{delivery.pk}"' in panel and f'action="/exchange/documents/{sent.pk}/urge/"' in panel

    client.force_login(centre_clerk)
    inbox = page(client.get("/exchange/"))
    assert TITLE in inbox and "青川县人民政府办公室转发" in inbox
    mine = page(client.get(f"/exchange/deliveries/{forwarded.pk}/"))
    assert re.search(r"<dt>转发单位</dt><dd>青川县人民政府办公室</dd>", mine) and "/sign/" in mine
    pdf = client.get(f"/documents/{sent.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_forward_the_service_refuses_is_explained_at_the_form(client, sent, below):
    centre, archive, _clerk = below
    delivery = signed_by_county(client, sent)
    url = f"/exchange/deliveries/{delivery.pk}/forward/"
    nothing = client.post(url, {})
    assert nothing.status_code == 400 and "请选择要转发的下级单位" in nothing.content.decode()
    outsider = client.post(url, {"units": [centre.pk, clerk_unit("jyj.sfy").pk]})
    assert outsider.status_code == 400 and "只能转发给本单位的下级单位" in outsider.content.decode()
    assert checkboxes(outsider.content.decode())[centre.pk] == "checked"  # the choice is kept
    assert not Delivery.objects.filter(forwarded_from=delivery).exists()

    client.post(url, {"units": [centre.pk]})
    twice = client.post(url, {"units": [centre.pk, archive.pk]}, follow=True)
    assert "转发未完成：青川县政务服务中心已收到该文件，无需转发" in page(twice)
    assert Delivery.objects.filter(forwarded_from=delivery).count() == 1
    # another unit's clerk, the sender: 404, nothing forwarded
    for username in ("jyj.sfy", "bgs.sfy"):
        assert as_user(client, username).post(url, {"units": [archive.pk]}).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(User.objects.get(username="xian1.sfy"))
    assert strict.post(url, {"units": [archive.pk]}).status_code == 403
    assert Delivery.objects.filter(forwarded_from=delivery).count() == 1


def test_the_forwarding_clerk_urges_recalls_and_resends_from_the_delivery_page(client, sent, below):
    centre, archive, centre_clerk = below
    delivery = signed_by_county(client, sent)
    client.post(f"/exchange/deliveries/{delivery.pk}/forward/", {"units": [centre.pk, archive.pk]})
    to_centre = Delivery.objects.get(document=sent, unit=centre)
    back = f"/exchange/deliveries/{delivery.pk}/#exchange-forwards"

    urged = client.post(f"/exchange/documents/{sent.pk}/urge/", {"message": "请尽快签收", "back": delivery.pk},
                        follow=True)
    assert urged.redirect_chain == [(back, 302)] and "已催办 2 个尚未签收的单位" in page(urged)
    assert Delivery.objects.get(document=sent, unit=clerk_unit("jyj.sfy")).urge_count == 0  # not the county's
    recalled = client.post(f"/exchange/deliveries/{to_centre.pk}/recall/", {"reason": "发错单位", "back": delivery.pk},
                           follow=True)
    assert recalled.redirect_chain == [(back, 302)] and "已撤回发往青川县政务服务中心的文件" in page(recalled)
    html = page(client.get(f"/exchange/deliveries/{delivery.pk}/"))
    assert "撤回理由：发错单位" in html and f'action="/exchange/deliveries/{to_centre.pk}/resend/"' in html
    assert checkboxes(html)[centre.pk] == ""  # withdrawn: it may be forwarded again
    resent = client.post(f"/exchange/deliveries/{to_centre.pk}/resend/", {"back": delivery.pk}, follow=True)
    assert "已重发给青川县政务服务中心" in page(resent)
    assert "此前已撤回" in page(resent) and "第 2 次发送" in page(resent)
    client.force_login(centre_clerk)
    assert TITLE in page(client.get("/exchange/"))


def test_the_original_sender_sees_the_forwards_but_cannot_act_on_them(client, sent, below):
    centre, _archive, _clerk = below
    delivery = signed_by_county(client, sent)
    client.post(f"/exchange/deliveries/{delivery.pk}/forward/", {"units": [centre.pk]})
    forwarded = Delivery.objects.get(document=sent, unit=centre)
    html = page(as_user(client, "bgs.sfy").get(f"/documents/{sent.pk}/"))
    row = html.split("青川县政务服务中心</strong>")[1].split("</li>")[0]
    assert "青川县人民政府办公室转发" in row and "待签收" in row and "/recall/" not in row
    assert "催办未签收单位（1）" in html  # 市教育局 only: the forward is the county's to urge
    assert client.post(f"/exchange/deliveries/{forwarded.pk}/recall/").status_code == 404
    forwarded.refresh_from_db()
    assert forwarded.status == "pending"


# --- 收发统计 ---------------------------------------------------------------------------------------------------

NOW = "2026-10-20 10:00"  # a Tuesday


def at(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text), timezone.get_default_timezone())


@pytest.fixture
def october(sent, monkeypatch):
    """The dispatch of `sent` moved into October 2026: 市教育局 signed 2 working hours after delivery (on time), the
    county 's office has not signed for 3 working days (overdue); the clock frozen at NOW."""
    Delivery.objects.filter(document=sent).update(delivered_at=at("2026-10-12 09:00"))
    Delivery.objects.filter(document=sent, unit=clerk_unit("jyj.sfy")).update(status="signed",
                                                                              signed_at=at("2026-10-12 11:00"))
    monkeypatch.setattr(timezone, "now", lambda: at(NOW))
    return sent


def stats_rows(html: str) -> dict[str, list[str]]:
    """unit name → its figures as shown, in the table's order."""
    rows = {}
    for name, cells in re.findall(r'<th scope="row" class="ex-stats-unit">(?:<a [^>]*>)?([^<]+)(?:</a>)?[^\n]*\n(.*?)</tr>',
                                  html, re.S):
        rows[name] = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)]
    return rows


def test_statistics_default_to_this_month_with_the_figures_per_unit(client, october):
    html = page(as_user(client, "bgs.sfy").get("/exchange/statistics/"))  # the city's office: every unit
    assert 'value="2026-10-01"' in html and 'value="2026-10-20"' in html and "2026年10月1日至2026年10月20日" in html
    assert re.search(r'class="btn btn-small btn-on" aria-current="true" href="[^"]*">本月', html)
    rows = stats_rows(html)
    office, education, county = (clerk_unit(u).name for u in ("bgs.sfy", "jyj.sfy", "xian1.sfy"))
    assert len(rows) > 20 and "合计" in rows
    # 发文 件数, 发出, 被退文, 撤回 | 收文, 已签收, 待签收, 退文 | 中位数, P90 | 及时签收率 | 超时 | 得分
    assert rows[office][:4] == ["1", "2", "0", "0"]
    assert rows[education] == ["0", "0", "0", "0", "1", "1", "0", "0", "2小时", "2小时", "100.0%", "0", "100.0"]
    assert rows[county][4:8] == ["1", "0", "1", "0"] and rows[county][-3:] == ["0.0%", "1", "0.0"]
    assert rows["合计"][-3:] == ["50.0%", "1", "50.0"]
    assert f'<option value="{clerk_unit("jyj.sfy").pk}"' in html  # the unit filter
    assert 'href="/exchange/statistics/" class="active">收发统计' in html  # the nav link

    ranked = stats_rows(page(client.get("/exchange/statistics/", {"order": "score", "start": "2026-10-01",
                                                                   "end": "2026-10-20"})))
    assert list(ranked)[:2] == [education, county]  # 100, then 0; the units not assessed after them
    one = stats_rows(page(client.get("/exchange/statistics/", {"unit": clerk_unit("xian1.sfy").pk})))
    assert list(one) == [county]
    busy = stats_rows(page(client.get("/exchange/statistics/", {"busy": "1"})))
    assert set(busy) == {office, education, county, "合计"} and busy["合计"] == rows["合计"]


def test_statistics_export_is_the_same_report_as_xlsx(client, october):
    as_user(client, "jyj.sfy")
    html = page(client.get("/exchange/statistics/", {"start": "2026-10-01", "end": "2026-10-31"}))
    assert list(stats_rows(html)) == [clerk_unit("jyj.sfy").name]  # a 收发员 sees their own unit, no filter
    assert 'name="unit"' not in html
    assert 'href="/exchange/statistics.xlsx?start=2026-10-01&amp;end=2026-10-31"' in html
    response = client.get("/exchange/statistics.xlsx", {"start": "2026-10-01", "end": "2026-10-31"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["收发统计"]
    assert "2026年10月1日至2026年10月31日" in sheet["A1"].value
    assert [c.value for c in sheet[4]][:1] == [clerk_unit("jyj.sfy").name] and sheet["O4"].value == 100
    assert AuditRecord.objects.filter(action="exchange.statistics_exported").count() == 1


def test_statistics_leaders_see_their_unit_and_others_get_a_403(client, october):
    html = page(as_user(client, "jyj.juzhang").get("/exchange/statistics/"))  # the bureau's head: no 交换箱
    assert list(stats_rows(html)) == [clerk_unit("jyj.sfy").name]
    assert 'href="/exchange/statistics/"' in html and 'href="/exchange/"' not in html
    before = AuditRecord.objects.filter(action="permission.denied", object_type="exchange.statistics").count()
    as_user(client, "bgs.keyuan")  # a 科员
    assert "收发统计" not in page(client.get("/"))
    for url in ("/exchange/statistics/", "/exchange/statistics.xlsx"):
        response = client.get(url)
        assert response.status_code == 403
        assert "只有单位负责人、单位系统管理员和收发员可以查看本单位的收发统计。" in response.content.decode()
    assert AuditRecord.objects.filter(action="permission.denied",
                                      object_type="exchange.statistics").count() == before + 2
    admin = User.objects.get(username="jyj.sfy")
    AdminRoleGrant.objects.create(user=admin, role=AdminRole.AUDITOR)  # R7.2: no business figures for the 三员
    client.force_login(admin)
    assert client.get("/exchange/statistics/").status_code == 403
    assert not AuditRecord.objects.filter(action="exchange.statistics_exported").exists()


@pytest.mark.parametrize(("query", "message"), [
    ({"start": "2026-10-20", "end": "2026-10-01"}, "截止日期不能早于起始日期"),
    ({"start": "20261001x", "end": "2026-10-20"}, "起始日期格式应为 YYYY-MM-DD"),
    ({"start": "2026-10-01", "end": "十月"}, "截止日期格式应为 YYYY-MM-DD"),
    ({"start": "2025-01-01", "end": "2026-10-20"}, "统计期间不能超过 366 天"),
    ({"start": "1999-12-31", "end": "2000-01-31"}, "起始日期不能早于 2000-01-01"),
    ({"unit": "教育局"}, "单位应为单位编号"),
])
def test_statistics_a_bad_query_is_a_message_on_the_page(client, october, query, message):
    as_user(client, "bgs.sfy")
    for url in ("/exchange/statistics/", "/exchange/statistics.xlsx"):
        response = client.get(url, query)
        assert response.status_code == 400 and message in response.content.decode()
        assert "ex-stats-table" not in response.content.decode()


def test_statistics_of_a_unit_out_of_sight_is_403_and_of_no_unit_404(client, october):
    as_user(client, "jyj.sfy")
    response = client.get("/exchange/statistics/", {"unit": clerk_unit("bgs.sfy").pk})
    assert response.status_code == 403 and "无权查看该单位的收发统计" in response.content.decode()
    assert client.get("/exchange/statistics/", {"unit": Unit.objects.order_by("-pk").first().pk + 1}
                      ).status_code == 404
