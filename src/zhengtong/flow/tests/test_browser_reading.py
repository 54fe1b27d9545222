"""Browser test of 传阅 / 已阅 / 催办 / 常用语 (R1.6): the drafter circulates from the task page with the picker (a
person and a whole sub-unit), a reader sees 待阅 on the phone and marks it read with a 常用语, another marks read in
a batch from the 待阅 box, the drafter sees who has read it and urges the next handler."""
from __future__ import annotations

import pytest

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.flow.models import Phrase, Task, TrailEntry
from zhengtong.org.tests.factories import DepartmentFactory, IdentityFactory, UnitFactory, duty

from .test_runtime import make_office, open_tasks, start, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office():
    o = make_office()
    sub = UnitFactory(parent=o.unit, name="示范市测试下属局", short_name="下属局")
    dept = DepartmentFactory(unit=sub, name="综合科")
    o.sub = sub
    o.sub_people = [IdentityFactory(unit=sub, department=dept, duty=duty("clerk"), title="科员") for _ in range(2)]
    User.objects.update(otp_exempt=True)
    return o


def _logout(pg):
    pg.context.clear_cookies()


def _pick(form, box_id: str, query: str, option_text: str):
    box = form.locator(f"#{box_id}-box")
    box.locator(".org-picker-search").fill(query)
    box.locator("[role=option]", has_text=option_text).first.click()


def test_circulate_read_status_urge_and_phrases(page, phone_page, live_server, login, office):
    o = office
    instance = start(o)
    [draft] = open_tasks(instance)
    errors = []  # CSP violations and script errors show up as console errors
    for pg in (page, phone_page):
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on("pageerror", lambda exc: errors.append(str(exc)))

    # the drafter circulates from the task page: 副局长 by name, the whole 下属局 by unit
    login(user(o.drafter).username)
    page.goto(f"{live_server.url}/tasks/{draft.pk}/")
    form = page.locator("#circulate-form")
    _pick(form, "picker-circulate-people", o.deputy.person.name, "副局长")
    _pick(form, "picker-circulate-units", "下属局", "示范市测试下属局")
    assert form.locator("input[name=to_identities]").input_value() == str(o.deputy.pk)
    assert form.locator("input[name=to_units]").input_value() == str(o.sub.pk)
    form.locator("#id_circulate_opinion").fill("请各位阅知")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已传阅" in page.locator(".messages").inner_text()
    readers = [o.deputy] + o.sub_people
    assert sorted(Task.objects.filter(kind="toread").values_list("assignee_id", flat=True)) == sorted(
        r.pk for r in readers)
    status = page.locator("#reading-status")
    assert "已阅 0 人，未阅 3 人" in status.inner_text()
    screenshot(page, "reading-circulated-desktop")
    _logout(page)

    # the 副局长 on the phone: 待阅 on the home page → the task → a 常用语 into the 阅知意见 → 已阅
    login(user(o.deputy).username, target=phone_page)
    assert phone_page.locator(".counter", has_text="待阅").locator(".counter-value").inner_text() == "1"
    phone_page.goto(f"{live_server.url}/tasks/toread/")
    card = phone_page.locator("table.flow-list tbody tr")
    assert card.count() == 1 and "关于做好年终工作的通知" in card.inner_text()
    screenshot(phone_page, "reading-toread-phone")
    card.locator("a").click()
    phone_page.wait_for_load_state("networkidle")
    read_form = phone_page.locator("#read-form")
    read_form.locator("button[data-phrase='已阅。']").click()
    assert read_form.locator("#id_read_opinion").input_value() == "已阅。"
    screenshot(phone_page, "reading-read-phone")
    read_form.locator("button[type=submit]").click()
    phone_page.wait_for_load_state("networkidle")
    assert "已标为已阅 1 件" in phone_page.locator(".messages").inner_text()
    assert "您已于" in phone_page.inner_text("main")
    assert TrailEntry.objects.filter(operation="read", identity=o.deputy, opinion="已阅。").exists()
    _logout(phone_page)

    # a 下属局 reader: batch 标为已阅 from the 待阅 box
    login(user(o.sub_people[0]).username)
    page.goto(f"{live_server.url}/tasks/toread/")
    button = page.locator("button[data-mark-read]")
    assert button.is_disabled()
    page.locator("input[data-select-all]").check()
    assert button.inner_text() == "标为已阅（1）"
    screenshot(page, "reading-toread-desktop")
    button.click()
    page.wait_for_load_state("networkidle")
    assert "已标为已阅 1 件" in page.locator(".messages").inner_text()
    assert "暂无待阅" in page.inner_text("main")
    _logout(page)

    # the drafter: who has read it; 提交 to the 处室负责人 with a 常用语, then 催办 from the drafter's done step
    login(user(o.drafter).username)
    page.goto(f"{live_server.url}/tasks/{draft.pk}/")
    assert "已阅 2 人，未阅 1 人" in page.locator("#reading-status").inner_text()
    rows = page.locator("#reading-status tbody tr")
    assert "未阅" in rows.nth(0).inner_text() and o.sub_people[1].person.name in rows.nth(0).inner_text()
    submit_form = page.locator("#submit-form")
    submit_form.locator("button[data-phrase='请按程序办理。']").click()
    assert submit_form.locator("#id_opinion").input_value() == "请按程序办理。"
    screenshot(page, "reading-status-desktop")
    submit_form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    review = Task.objects.get(instance=instance, kind="todo", status="open")
    page.goto(f"{live_server.url}/tasks/{draft.pk}/")
    urge = page.locator(f"#urge-form-{review.pk}")
    urge.locator("input[name=opinion]").fill("请今天内审核")
    urge.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "已催办" in page.locator(".messages").inner_text()
    page.goto(f"{live_server.url}/tasks/{draft.pk}/")
    assert "已催办 1 次" in page.locator(f"#urge-form-{review.pk}").inner_text()
    screenshot(page, "reading-urge-desktop")

    # 常用语 page: add one, move it first; it shows under the opinion at once
    page.goto(f"{live_server.url}/tasks/phrases/")
    page.fill("#id_text", "请办公室阅处。")
    page.locator("#phrase-add button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    page.locator("button[aria-label='上移：请办公室阅处。']").click()
    page.wait_for_load_state("networkidle")
    texts = list(Phrase.objects.filter(person=o.drafter.person).order_by("position").values_list("text", flat=True))
    assert texts[-2] == "请办公室阅处。" and len(texts) == 6
    screenshot(page, "reading-phrases-desktop")
    _logout(page)

    # the 处室负责人 sees the 催办 badge on the phone
    login(user(o.dept_head).username, target=phone_page)
    phone_page.goto(f"{live_server.url}/tasks/")
    assert "催办 1" in phone_page.locator("table.flow-list tbody tr").inner_text()
    screenshot(phone_page, "reading-urged-list-phone")
    phone_page.goto(f"{live_server.url}/tasks/phrases/")
    screenshot(phone_page, "reading-phrases-phone")
    assert errors == []
