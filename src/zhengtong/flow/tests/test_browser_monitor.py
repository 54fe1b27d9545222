"""Browser test of 流程监控 and the task page's 流程控制: the drafter suspends their 发文 from the task page; the unit
administrator sees it in 流程监控 (desktop and 390 px), resumes it, dispatches it to 签发 with the picker, and
previews a 工作交接. Fails on console errors (CSP: no inline script or style)."""
from __future__ import annotations

import pytest

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.flow import services
from zhengtong.flow.models import ProcessInstance, Task
from zhengtong.org.tests.factories import IdentityFactory, duty

from .test_runtime import make_office, open_tasks, start, submit, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def top(pg):
    """Back to the top before a full-page shot (a focused field scrolls the sticky header into the middle)."""
    pg.evaluate("window.scrollTo(0, 0)")


@pytest.fixture
def office():
    o = make_office()
    o.admin = IdentityFactory(unit=o.unit, duty=duty("unit_admin"), title="单位系统管理员")
    User.objects.update(otp_exempt=True)
    return o


def test_suspend_from_the_task_page_then_monitor_resume_and_dispatch(page, phone_page, live_server, login, office):
    instance = start(office)
    other = services.start_process(user(office.drafter), identity=office.drafter, business_type="dispatch",
                                   title="关于开展安全生产检查的通知")
    [draft2] = open_tasks(other)
    submit(draft2)
    [draft] = open_tasks(instance)
    errors = []
    for pg in (page, phone_page):
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on("pageerror", lambda exc: errors.append(str(exc)))

    # the drafter suspends from the task page (流程控制)
    login(user(office.drafter).username)
    page.goto(f"{live_server.url}/tasks/{draft.pk}/")
    control = page.locator(".ops-instance")
    assert control.count() == 1
    control.locator("#op-suspend-reason").fill("等待财务部门意见")
    top(page)
    screenshot(page, "monitor-task-suspend-desktop")
    control.locator("#op-suspend button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已挂起" in page.locator(".messages").inner_text()
    assert "该流程已挂起" in page.locator(".ops-instance").inner_text()
    assert ProcessInstance.objects.get(pk=instance.pk).status == "suspended"
    page.context.clear_cookies()

    # the unit administrator: 流程监控 from the nav, the list (suspended badge), the instance page
    login(user(office.admin).username)
    page.locator(".mainnav a", has_text="流程监控").click()
    page.wait_for_load_state("networkidle")
    rows = page.locator("table.monitor-list tbody tr")
    assert rows.count() == 2
    assert "已挂起" in page.locator("tr", has_text=instance.title).inner_text()
    screenshot(page, "monitor-list-desktop")
    page.locator("a", has_text=instance.title).click()
    page.wait_for_load_state("networkidle")
    assert "等待财务部门意见" in page.locator(".flow-trail").inner_text()
    page.locator("form", has=page.locator("input[value=resume]")).locator("button").click()
    page.wait_for_load_state("networkidle")
    assert "已恢复" in page.locator(".messages").inner_text()

    # 调度 to 签发 with the picker
    move = page.locator("form", has=page.locator("input[value=move]"))
    move.locator("#move-node").select_option("sign")
    move.locator(".org-picker-search").fill(office.deputy.person.name)
    move.locator("[role=option]", has_text="副局长").first.click()
    move.locator("#move-reason").fill("领导要求尽快签发")
    top(page)
    screenshot(page, "monitor-detail-desktop")
    move.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已调度：签发" in page.locator(".messages").inner_text()
    [sign] = open_tasks(instance)
    assert (sign.node_id, sign.assignee) == ("sign", office.deputy)
    assert Task.objects.get(pk=draft.pk).status == "cancelled"
    trail = page.locator(".flow-trail").inner_text()
    assert "调度跳过" in trail and "领导要求尽快签发" in trail

    # the phone: the list as cards, the instance page
    login(user(office.admin).username, target=phone_page)
    phone_page.goto(f"{live_server.url}/flows/monitor/")
    assert phone_page.locator("table.monitor-list tbody tr").count() == 2
    screenshot(phone_page, "monitor-list-phone")
    phone_page.goto(f"{live_server.url}/flows/monitor/{instance.pk}/")
    assert phone_page.locator("h1.page-title").inner_text() == instance.title
    screenshot(phone_page, "monitor-detail-phone")

    # 工作交接: the 处室负责人's 处室核稿 of the other instance, previewed
    successor = IdentityFactory(unit=office.unit, duty=duty("dept_head"), title="副处长")
    phone_page.goto(f"{live_server.url}/flows/monitor/handover/?from_identity={office.dept_head.pk}"
                    f"&to_identity={successor.pk}")
    assert "1 件待办" in phone_page.locator(".monitor-preview").inner_text()
    phone_page.fill("#handover-reason", "岗位调整")
    top(phone_page)
    screenshot(phone_page, "monitor-handover-phone")
    phone_page.locator(".monitor-confirm button[type=submit]").click()
    phone_page.wait_for_load_state("networkidle")
    assert "1 件待办移交给" in phone_page.locator(".messages").inner_text()
    assert Task.objects.get(instance=other, status="open").assignee == successor
    assert errors == []
