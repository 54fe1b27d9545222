"""Browser test of the 待办 centre and the task page: the drafter starts a 发文, sees 待办 on the home page, opens
the task and submits; the 处室负责人 submits choosing the next handler with the picker; that handler sees it."""
from __future__ import annotations

import pytest

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.flow.models import Task

from .test_runtime import make_office, open_tasks, start, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office():
    o = make_office()
    User.objects.update(otp_exempt=True)
    return o


def _logout(pg):
    pg.context.clear_cookies()


def test_todo_from_home_to_submit_with_the_picker(page, phone_page, live_server, login, office):
    instance = start(office)
    [draft] = open_tasks(instance)
    errors = []  # CSP violations and script errors show up as console errors
    for pg in (page, phone_page):
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on("pageerror", lambda exc: errors.append(str(exc)))

    # the drafter: 待办 count on the home page → the list → the task → 提交
    login(user(office.drafter).username)
    counter = page.locator(".counter", has_text="待办")
    assert counter.locator(".counter-value").inner_text() == "1"
    screenshot(page, "todo-home-desktop")
    counter.click()
    page.wait_for_load_state("networkidle")
    row = page.locator("table.flow-list tbody tr")
    assert row.count() == 1 and "关于做好年终工作的通知" in row.inner_text() and "起草" in row.inner_text()
    screenshot(page, "todo-list-desktop")
    row.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1.page-title").inner_text() == "关于做好年终工作的通知"
    page.fill("#id_opinion", "请审核")
    page.locator("#submit-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已提交“起草”" in page.locator(".messages").inner_text()
    assert page.locator("table.flow-list").count() == 0 and "暂无待办" in page.inner_text("main")
    _logout(page)

    # the 处室负责人: opinion + the next handler (办公室审核 is "chosen") through the picker
    [review] = open_tasks(instance)
    login(user(office.dept_head).username)
    page.goto(f"{live_server.url}/tasks/{review.pk}/")
    form = page.locator("#submit-form")
    form.locator("#id_opinion").fill("同意，请办公室审核")
    form.locator(".org-picker-search").fill(office.office_head.person.name)
    form.locator("[role=option]", has_text="办公室主任").first.click()
    assert form.locator("input[name=next_handlers]").input_value() == str(office.office_head.pk)
    page.wait_for_selector("#flow-diagram[data-state=ready]")
    assert page.locator(".djs-element.zt-current[data-element-id=dept_review]").count() == 1
    screenshot(page, "todo-task-desktop")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "办公室审核" in page.locator(".messages").inner_text()
    [office_task] = open_tasks(instance)
    assert (office_task.node_id, office_task.assignee) == ("office_review", office.office_head)
    assert Task.objects.get(pk=review.pk).status == "done"
    _logout(page)

    # the chosen handler sees it in 待办, on the phone too (cards)
    login(user(office.office_head).username, target=phone_page)
    assert phone_page.locator(".counter", has_text="待办").locator(".counter-value").inner_text() == "1"
    phone_page.goto(f"{live_server.url}/tasks/")
    card = phone_page.locator("table.flow-list tbody tr")
    assert card.count() == 1 and "办公室审核" in card.inner_text() and office.dept_head.person.name in card.inner_text()
    screenshot(phone_page, "todo-list-phone")
    card.locator("a").click()
    phone_page.wait_for_load_state("networkidle")
    trail = phone_page.locator(".flow-trail").inner_text()
    assert "同意，请办公室审核" in trail and "请审核" in trail
    assert phone_page.locator("#id_route option[value=countersign]").count() == 1
    # the diagram: current node marked, handled ones done
    phone_page.wait_for_selector("#flow-diagram[data-state=ready]")
    assert phone_page.locator(".djs-element.zt-current[data-element-id=office_review]").count() == 1
    assert phone_page.locator(".djs-element.zt-done[data-element-id=dept_review]").count() == 1
    screenshot(phone_page, "todo-task-phone")
    assert errors == []
