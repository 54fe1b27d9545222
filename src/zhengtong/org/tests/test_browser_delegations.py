"""Browser test of the AB岗 page: choose the delegate's post with the picker, set the window, revoke;
the delegate sees it under 我代理的."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.org.models import Delegation
from zhengtong.org.tests.factories import DelegationFactory
from zhengtong.org.tests.test_views import build_small_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def org():
    org = build_small_org()
    User.objects.update(otp_exempt=True)
    return org


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_delegation_create_and_revoke(page, live_server, login, org):
    # a past one, to show the history
    DelegationFactory(principal=org.zhangsan, delegate=org.wangwu, reason="去年培训",
                      starts_at=timezone.now() - timedelta(days=40), ends_at=timezone.now() - timedelta(days=30))
    login("zhangsan")
    page.goto(f"{live_server.url}/accounts/profile/")
    page.click("text=AB岗委托设置")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "AB岗委托"
    form = page.locator("form.deleg-form")
    search = form.locator(".org-picker-search")
    search.fill("lisi")
    form.locator("[role=option]", has_text="李四").click()
    assert form.locator(".org-picker-chip").inner_text().startswith("李四（示范市人民政府办公室 主任）")
    assert form.locator("input[name=delegate]").input_value() == str(org.lisi.pk)
    form.locator("#id_scope").select_option(label="收文")
    start = timezone.now() + timedelta(days=1)
    form.locator("#id_starts_at").fill(_local(start))
    form.locator("#id_ends_at").fill(_local(start + timedelta(days=5)))
    form.locator("#id_reason").fill("外出学习")
    screenshot(page, "org-delegations-form-desktop")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已设置AB岗：李四" in page.locator(".messages").inner_text()
    delegation = Delegation.objects.get(principal=org.zhangsan, revoked_at__isnull=True, delegate=org.lisi)
    item = page.locator(f"#delegation-{delegation.pk}")
    assert "未开始" in item.inner_text() and "收文" in item.inner_text() and "外出学习" in item.inner_text()
    screenshot(page, "org-delegations-desktop")

    # the delegate sees it under 我代理的, without a revoke button
    page.context.clear_cookies()
    login("lisi")
    page.goto(f"{live_server.url}/org/delegations/")
    received = page.locator("section[aria-labelledby=h-received]")
    assert "张三" in received.inner_text()
    assert received.locator("text=撤销").count() == 0

    page.context.clear_cookies()
    login("zhangsan")
    page.goto(f"{live_server.url}/org/delegations/")
    page.once("dialog", lambda dialog: dialog.accept())  # 确定撤销这项委托？
    page.locator(f"#delegation-{delegation.pk} button", has_text="撤销").click()
    page.wait_for_load_state("networkidle")
    assert "已撤销委托" in page.locator(".messages").inner_text()
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None
    page.locator("summary", has_text="历史委托").click()
    assert "已撤销" in page.locator(f"#delegation-{delegation.pk}").inner_text()


def test_delegation_errors_and_phone_width(phone_page, live_server, login, org):
    login("zhangsan", target=phone_page)
    phone_page.goto(f"{live_server.url}/org/delegations/")
    form = phone_page.locator("form.deleg-form")
    form.locator(".org-picker-search").click()
    form.locator(".org-picker-search").fill("zs")  # myself: refused with the reason
    form.locator("[role=option]", has_text="张三").click()
    form.locator("button[type=submit]").click()
    phone_page.wait_for_load_state("networkidle")
    assert "受托人不能是本人" in phone_page.locator("form.deleg-form").inner_text()
    # the chosen (refused) post stays in the picker for correction
    assert phone_page.locator("form.deleg-form .org-picker-chip").inner_text().startswith("张三")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "org-delegations-phone")
