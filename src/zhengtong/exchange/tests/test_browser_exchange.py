"""公文交换 in a real browser on the demo city (issue #5 done criterion, inside one instance): bgs.sfy has dispatched a
sealed 示范市人民政府 通知 to 市教育局 (主送) and a county government's office (抄送) — through the API, with the
support helper; jyj.sfy finds it in the 交换箱 from the navigation, previews the sealed PDF, signs for it and lands on
the 收文 page; xian1.sfy, on a phone, refuses it with a reason; bgs.sfy sees the refusal and its reason on the document
page and resends; a recall shows the county the withdrawn delivery. Then 转发, 打印 and 收发统计: xian1.sfy prints two
copies (counted, the sealed PDF opens), signs for it and forwards it from the 收文 page's 来文交换 to a unit under the
county office; that unit's 收发员 finds it in the 交换箱 on a phone; bgs.sfy reads the 收发统计 and exports it. Phone
and desktop shots for docs/screenshots."""
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
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty

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


@pytest.fixture
def centre(sent):
    """Two units under the county government's office (xian1.sfy's unit); the first with its own 收发员, zwzx.sfy."""
    office = clerk_unit("xian1.sfy")
    unit = UnitFactory(name="青川县政务服务中心", short_name="县政务服务中心", region=office.region, parent=office)
    UnitFactory(name="青川县档案馆", short_name="县档案馆", region=office.region, parent=office)
    clerk = IdentityFactory(unit=unit, duty=duty(Duty.DOC_CLERK), person__name="林晓",
                            person__user__username="zwzx.sfy")
    User.objects.filter(pk=clerk.person.user_id).update(otp_exempt=True)
    return unit


def test_exchange_print_forward_and_statistics_in_the_browser(page, phone_page, live_server, login, sent, centre):
    errors: list[str] = []
    watch(page, errors)
    watch(phone_page, errors)

    # the county office's 收发员: 打印 two copies — counted, then the sealed PDF
    login("xian1.sfy")
    page.goto(f"{live_server.url}/exchange/")
    open_from_inbox(page)
    assert "已打印 0 份 / 不限印数" in page.locator(".ex-print").inner_text()
    page.fill("#ex-copies", "2")
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # Chromium's PDF viewer asks for it
    with page.expect_response(lambda r: r.url.endswith(f"/documents/{sent.pk}/pdf/")) as opened:
        page.get_by_role("button", name="打印", exact=True).click()
    assert opened.value.ok and opened.value.headers["content-type"] == "application/pdf"
    delivery = Delivery.objects.get(document=sent, unit=clerk_unit("xian1.sfy"))
    assert delivery.printed == 2
    page.goto(f"{live_server.url}/exchange/deliveries/{delivery.pk}/")
    assert "已打印 2 份" in page.locator(".ex-print").inner_text()

    # 签收 → the 收文 page → 来文交换 → 转发 to the unit below
    page.get_by_role("button", name="签收", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "收文" in page.locator(".flow-breadcrumb").inner_text()
    screenshot(page, "exchange-received-desktop")
    page.locator(".ex-received").get_by_role("link", name="转发给下级单位").click()
    page.wait_for_load_state("networkidle")
    form = page.locator("#exchange-forward")
    form.get_by_label("青川县政务服务中心").check()
    form.get_by_role("button", name="转发").click()
    page.wait_for_load_state("networkidle")
    assert "已转发给青川县政务服务中心" in messages(page)
    forwards = page.locator("#exchange-forwards")
    assert "青川县政务服务中心" in forwards.inner_text() and "待签收" in forwards.inner_text()
    assert form.get_by_label("青川县政务服务中心").is_disabled()
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a page scrolled to #exchange-forwards: bar in the middle
    screenshot(page, "exchange-forward-desktop")

    # the unit below, on a phone: in its 交换箱, forwarded by the county office; 签收
    login("zwzx.sfy", target=phone_page)
    phone_page.locator(".nav-toggle-label").click()
    phone_page.locator(".mainnav").get_by_role("link", name="交换箱").click()
    phone_page.wait_for_load_state("networkidle")
    row = phone_page.locator("table.ex-inbox tbody tr", has_text=TITLE).first
    assert "经青川县人民政府办公室转发" in row.inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "exchange-forwarded-inbox-phone")
    open_from_inbox(phone_page)
    assert "青川县人民政府办公室" in phone_page.locator(".facts").first.inner_text()
    phone_page.get_by_role("button", name="签收", exact=True).click()
    phone_page.wait_for_load_state("networkidle")
    assert "已签收" in messages(phone_page)

    # the forwarding office sees the 签收 in 转发情况, on a phone too
    phone_page.context.clear_cookies()
    login("xian1.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/exchange/deliveries/{delivery.pk}/#exchange-forwards")
    forwards = phone_page.locator("#exchange-forwards")
    assert "已签收" in forwards.inner_text() and "林晓" in forwards.inner_text()
    assert fits(phone_page)
    phone_page.evaluate("window.scrollTo(0, 0)")
    screenshot(phone_page, "exchange-forward-phone")

    # 收发统计: the city's office sees every unit, from the navigation; 导出 Excel
    page.context.clear_cookies()
    login("bgs.sfy")
    page.locator(".mainnav").get_by_role("link", name="收发统计").click()
    page.wait_for_load_state("networkidle")
    table = page.locator("table.ex-stats-table")
    assert "示范市教育局" in table.inner_text() and "青川县审计局" in table.inner_text()  # every unit…
    page.get_by_label("只看有收发的单位").check()  # … or those that sent or received something
    page.get_by_role("button", name="统计").click()
    page.wait_for_load_state("networkidle")
    assert "青川县政务服务中心" in table.inner_text() and "青川县审计局" not in table.inner_text()
    assert "合计" in table.locator("tfoot").inner_text()
    screenshot(page, "exchange-statistics-desktop")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    phone_page.context.clear_cookies()
    login("bgs.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/exchange/statistics/?unit={clerk_unit('xian1.sfy').pk}")
    assert "青川县人民政府办公室" in phone_page.locator("table.ex-stats-table").inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "exchange-statistics-phone")
    assert errors == []
