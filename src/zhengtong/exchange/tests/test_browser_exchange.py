"""公文交换 in a real browser on the demo city (issue #5 done criterion, inside one instance): bgs.sfy has dispatched a
sealed 示范市人民政府 通知 to 市教育局 (主送) and a county government's office (抄送) — through the API, with the
support helper; jyj.sfy finds it in the 交换箱 from the navigation, previews the sealed PDF, signs for it and lands on
the 收文 page; xian1.sfy, on a phone, refuses it with a reason; bgs.sfy sees the refusal and its reason on the document
page and resends; a recall shows the county the withdrawn delivery. Phone and desktop shots for docs/screenshots."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.documents.tests.browser_support import messages
from zhengtong.documents.tests.test_browser_documents import fits
from zhengtong.exchange.models import Delivery
from zhengtong.flow.tests.test_browser_e2e import watch

from .support import TITLE, clerk_unit, dispatched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REASON = "非本单位主管事项，请改送县教育局"
RECALL = "附件有误，更正后重发"


@pytest.fixture
def sent():
    call_command("seed_demo", scale=0.05)
    User.objects.update(otp_exempt=True)
    return dispatched(Client(), main=[clerk_unit("jyj.sfy")], copy=[clerk_unit("xian1.sfy")])


def open_from_inbox(pg, tab: str = "待签收"):
    pg.locator(".flow-tabs").get_by_role("link", name=tab).click()
    pg.wait_for_load_state("networkidle")
    pg.locator("table.ex-inbox tbody tr", has_text=TITLE).first.get_by_role("link", name=TITLE).click()
    pg.wait_for_load_state("networkidle")


def test_exchange_sign_refuse_resend_in_the_browser(page, phone_page, live_server, login, sent):
    errors: list[str] = []
    watch(page, errors)
    watch(phone_page, errors)

    # 市教育局's 收发员: the 交换箱 from the navigation, the delivery, the sealed PDF, 签收
    login("jyj.sfy")
    nav = page.locator(".mainnav").get_by_role("link", name="交换箱")
    waiting = Delivery.objects.filter(unit=clerk_unit("jyj.sfy"), status="pending").count()
    assert nav.locator(".nav-count").inner_text() == str(waiting)
    nav.click()
    page.wait_for_load_state("networkidle")
    row = page.locator("table.ex-inbox tbody tr", has_text=TITLE).first
    assert sent.doc_number in row.inner_text() and "主送" in row.inner_text() and "未查看" in row.inner_text()
    screenshot(page, "exchange-inbox-desktop")
    open_from_inbox(page)
    assert page.locator("h1").inner_text() == TITLE
    preview = page.get_by_role("link", name="预览用印文件")
    pdf = page.request.get(f"{live_server.url}{preview.get_attribute('href')}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert preview.get_attribute("target") == "_blank"
    screenshot(page, "exchange-delivery-desktop")
    page.get_by_role("button", name="签收", exact=True).click()
    page.wait_for_load_state("networkidle")
    delivery = Delivery.objects.get(document=sent, unit=clerk_unit("jyj.sfy"))
    assert delivery.status == "signed" and delivery.opened_at is not None
    assert page.url == f"{live_server.url}/documents/{delivery.incoming_id}/"
    assert f"已签收，收文号 {delivery.incoming.receipt_number}" in messages(page)
    assert page.locator("h1").inner_text() == TITLE and "收文" in page.locator(".flow-breadcrumb").inner_text()
    screenshot(page, "exchange-signed-desktop")

    # the county's 收发员 on a phone: 退文 needs a reason
    login("xian1.sfy", target=phone_page)
    phone_page.locator(".nav-toggle-label").click()
    phone_page.locator(".mainnav").get_by_role("link", name="交换箱").click()
    phone_page.wait_for_load_state("networkidle")
    assert "抄送" in phone_page.locator("table.ex-inbox tbody tr", has_text=TITLE).first.inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "exchange-inbox-phone")
    open_from_inbox(phone_page)
    assert fits(phone_page)
    screenshot(phone_page, "exchange-delivery-phone")
    phone_page.locator(".ex-refuse summary").click()
    phone_page.fill("#ex-reason", REASON)
    screenshot(phone_page, "exchange-refuse-phone")
    phone_page.get_by_role("button", name="确认退文").click()
    phone_page.wait_for_load_state("networkidle")
    assert "已退文" in messages(phone_page)
    assert REASON in phone_page.locator("table.ex-inbox tbody tr", has_text=TITLE).first.inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "exchange-refused-phone")

    # the sender: the refusal and its reason on the document page, 重发
    page.context.clear_cookies()
    login("bgs.sfy")
    page.goto(f"{live_server.url}/documents/{sent.pk}/")
    county = page.locator(".ex-recipient", has_text=clerk_unit("xian1.sfy").name)
    assert "已退文" in county.inner_text() and f"退文理由：{REASON}" in county.inner_text()
    education = page.locator(".ex-recipient", has_text=clerk_unit("jyj.sfy").name)
    assert "已签收" in education.inner_text() and User.objects.get(username="jyj.sfy").person.name in education.inner_text()
    screenshot(page, "exchange-receipts-desktop")
    page.once("dialog", lambda dialog: dialog.accept())
    county.get_by_role("button", name="重发").click()
    page.wait_for_load_state("networkidle")
    assert f"已重发给{clerk_unit('xian1.sfy').name}" in messages(page)
    county = page.locator(".ex-recipient", has_text=clerk_unit("xian1.sfy").name)
    assert "待签收" in county.inner_text() and "此前已退文" in county.inner_text()

    # … and recalls the new one at once: the county sees it withdrawn, with the reason, and nothing to press
    county.locator(".ex-recall summary").click()
    county.get_by_placeholder("撤回理由（可不填）").fill(RECALL)
    county.get_by_role("button", name="确认撤回").click()
    page.wait_for_load_state("networkidle")
    assert "已撤回" in messages(page)
    phone_page.context.clear_cookies()
    login("bgs.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/documents/{sent.pk}/")
    assert "已撤回" in phone_page.locator(".ex-recipient", has_text=clerk_unit("xian1.sfy").name).inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "exchange-receipts-phone")

    phone_page.context.clear_cookies()
    login("xian1.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/exchange/")
    open_from_inbox(phone_page, "已撤回")
    assert RECALL in phone_page.locator(".ex-withdrawn").inner_text()
    assert phone_page.get_by_role("button", name="签收", exact=True).count() == 0
    assert fits(phone_page)
    screenshot(phone_page, "exchange-withdrawn-phone")
    assert errors == []
