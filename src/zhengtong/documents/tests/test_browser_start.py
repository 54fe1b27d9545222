"""发起 in a real browser on the demo city: from 待办中心 the drafter clicks 发起流程, then 发文, and lands on the 拟稿
form of a 发文 (the flow starts when it is saved); the 收发员, on a phone, clicks 收文 and lands on 收文登记."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.flow.models import ProcessInstance
from zhengtong.flow.tests.test_browser_e2e import watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)
    User.objects.update(otp_exempt=True)


def test_clicking_dispatch_on_the_start_page_opens_the_drafting_form(page, phone_page, live_server, login, city):
    errors: list[str] = []
    watch(page, errors)
    watch(phone_page, errors)
    started = ProcessInstance.objects.count()
    login("bgs.keyuan")
    page.goto(f"{live_server.url}/tasks/")
    page.get_by_role("link", name="发起流程").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1.page-title").inner_text() == "发起流程"
    choices = page.get_by_role("region", name="从业务办理开始")
    assert choices.get_by_role("link", name="收文").count() == 0  # registered by the 收发员, not by a 科员
    assert "收文由本单位收发员签收登记" in choices.inner_text()
    screenshot(page, "flow-start-desktop")

    choices.get_by_role("link", name="发文", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}/documents/new/?direction=outgoing"
    assert page.locator("h1.page-title").inner_text() == "拟稿：发文"
    assert page.locator("input[name=direction]").input_value() == "outgoing"
    assert page.get_by_label("发文机关", exact=True).is_visible() and page.get_by_label("标题", exact=True).is_visible()
    assert page.get_by_role("textbox", name="正文").is_visible()  # the body editor is ready
    assert ProcessInstance.objects.count() == started  # nothing started before the draft is saved

    login("bgs.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/tasks/start/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= phone_page.viewport_size["width"] + 1
    phone_page.get_by_role("region", name="从业务办理开始").get_by_role("link", name="收文").click()
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.url == f"{live_server.url}/documents/register/"
    assert phone_page.locator("h1.page-title").inner_text() == "收文登记"
    assert errors == []
