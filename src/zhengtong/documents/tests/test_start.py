"""Where a 公文 flow starts (documents.starts, registered as flow.business `start_url`): the flow's 发起 page sends
发文 and 签报 to 拟稿 with the direction chosen and 收文 to the 收发员's 登记; the flow's own bare start of these
types is refused on the page and in the API (an instance without its document would pass 编号, 用印 and 核发
untouched, R1.5), while 拟稿 and 登记 still start their flows."""
from __future__ import annotations

import pytest
from django.urls import reverse

from zhengtong.accounts.models import User
from zhengtong.documents.models import Document
from zhengtong.flow.models import ProcessInstance

from .support import setup, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    found = setup()
    User.objects.update(otp_exempt=True)
    return found


def test_the_start_page_links_dispatch_and_memo_to_drafting_and_receipt_to_registration(client, s):
    client.force_login(user(s.office.drafter))
    body = client.get(reverse("flow:start")).content.decode()
    assert '<a class="btn btn-primary" href="/documents/new/?direction=outgoing">发文</a>' in body
    assert '<a class="btn btn-primary" href="/documents/new/?direction=memo">签报</a>' in body
    assert '<span class="flow-start-off">收文</span>' in body and "收文由本单位收发员签收登记" in body  # 科员: no link
    assert 'id="start-form"' not in body  # every type of the platform starts in its business app now

    client.force_login(user(s.office.doc_clerk))
    body = client.get(reverse("flow:start")).content.decode()
    assert '<a class="btn btn-primary" href="/documents/register/">收文</a>' in body


@pytest.mark.parametrize(("business_type", "heading"), [("dispatch", "拟稿：发文"), ("sign_report", "拟稿：签报")])
def test_starting_dispatch_or_memo_opens_the_drafting_form_with_its_direction(client, s, business_type, heading):
    client.force_login(user(s.office.drafter))
    page = client.get(reverse("flow:start"), {"business_type": business_type}, follow=True)
    direction = {"dispatch": "outgoing", "sign_report": "memo"}[business_type]
    assert page.redirect_chain == [(f"/documents/new/?direction={direction}", 302)]
    body = page.content.decode()
    assert f'<h1 class="page-title">{heading}</h1>' in body
    assert f'<input type="hidden" name="direction" value="{direction}">' in body


def test_starting_receipt_opens_registration_for_the_clerk_only(client, s):
    client.force_login(user(s.office.doc_clerk))
    page = client.get(reverse("flow:start"), {"business_type": "receipt"}, follow=True)
    assert page.redirect_chain == [("/documents/register/", 302)]
    assert '<h1 class="page-title">收文登记</h1>' in page.content.decode()
    client.force_login(user(s.office.drafter))
    page = client.get(reverse("flow:start"), {"business_type": "receipt"})
    assert page.status_code == 200 and "收文由本单位收发员签收登记" in page.content.decode()


@pytest.mark.parametrize(("business_type", "how"), [("dispatch", "发文从拟稿开始"), ("sign_report", "签报从拟稿开始"),
                                                    ("receipt", "收文由本单位收发员签收登记")])
def test_r1_5_r1_6_a_bare_document_flow_is_refused_with_a_code_and_a_message(client, s, business_type, how):
    client.force_login(user(s.office.doc_clerk))
    response = client.post("/api/v1/process-instances", {"business_type": business_type, "title": "关于年终工作的通知"},
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "flow.start_in_business_app" and how in response.json()["message"]
    page = client.post(reverse("flow:start"), {"business_type": business_type, "title": "关于年终工作的通知"})
    assert page.status_code == 400 and "不能单独发起流程" in page.content.decode() and how in page.content.decode()
    assert not ProcessInstance.objects.exists()


def test_drafting_and_registration_still_start_their_flows(client, s):
    client.force_login(user(s.office.drafter))
    response = client.post("/documents/new/?direction=memo", {"direction": "memo", "doc_kind": "报告",
                                                              "title": "关于购置办公设备的请示报告",
                                                              "body_html": "<p>拟购置办公设备一批。</p>"})
    memo = Document.objects.get(title="关于购置办公设备的请示报告")
    assert response.status_code == 302 and memo.instance.business_type == "sign_report"
    client.force_login(user(s.office.doc_clerk))
    response = client.post("/documents/register/", {"title": "省厅关于年终工作的通知", "doc_kind": "通知",
                                                    "source_unit_name": "省厅", "body": "请认真贯彻。"})
    received = Document.objects.get(title="省厅关于年终工作的通知")
    assert response.status_code == 302 and received.instance.business_type == "receipt"
