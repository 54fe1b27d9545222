"""The default 发文 and 收文 flows end to end in a real browser (issue #3, done criterion), on the demo city (small
scale): each holder logs in through the login form, finds the item in 待办, opens it and acts with the page's own
forms — opinion, route, the organisation picker for the next handlers, 会签, 传阅, 圈阅, 已阅. R1.5, R1.6.

The instances start as the documents app starts them (拟稿, 登记 → `services.start_process`), without a document:
the 发起 page sends these types to the documents app (documents/tests/test_browser_start.py), and the document's
side of the steps is walked in documents/tests/test_browser_documents.py."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.flow import services
from zhengtong.flow.models import ProcessInstance, Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)
    call_command("load_default_flows")
    User.objects.update(otp_exempt=True)


class Desk:
    """One person at a time at the browser, like colleagues taking turns at their own desks."""

    def __init__(self, page, live_server, login, errors):
        self.page, self.url, self.login, self.errors = page, live_server.url, login, errors

    def open_from_todo(self, task: Task):
        self.page.context.clear_cookies()
        self.login(task.assignee.person.user.username)
        self.page.goto(f"{self.url}/tasks/")
        row = self.page.locator("table.flow-list tbody tr", has_text=task.instance.title).first
        assert task.node_name in row.inner_text()
        row.locator("a").first.click()
        self.page.wait_for_load_state("networkidle")
        assert self.page.locator("h1.page-title").inner_text() == task.instance.title

    def choose(self, form, picker_name: str, identities):
        picker = form.locator(f".org-picker:has(input[name={picker_name}])")
        for identity in identities:
            picker.locator(".org-picker-search").fill(identity.person.name)
            where = identity.department.name if identity.department_id else identity.title
            picker.locator("[role=option]", has_text=identity.person.name).filter(has_text=where).first.click()
        chosen = picker.locator(f"input[name={picker_name}]").input_value().split(",")
        assert chosen == [str(i.pk) for i in identities]

    def submit(self, task: Task, *, opinion: str = "", route: str = "", choose=(), circle: bool = False,
               shot: str = ""):
        self.open_from_todo(task)
        form = self.page.locator("#submit-form")
        if opinion:
            form.locator("#id_opinion").fill(opinion)
        if route:
            form.locator("#id_route").select_option(route)
        if choose:
            self.choose(form, "next_handlers", choose)
        if shot:
            screenshot(self.page, shot)
        if circle:
            self.page.get_by_role("button", name="圈阅").click()
        else:
            form.get_by_role("button", name="提交", exact=True).click()
        self.page.wait_for_load_state("networkidle")
        assert f"已提交“{task.node_name}”" in self.page.locator(".messages").inner_text()


def start(username: str, business_type: str, title: str) -> ProcessInstance:
    actor = User.objects.get(username=username)
    return services.start_process(actor, identity=services.identity_to_start(actor), business_type=business_type,
                                  title=title)


def open_todo(instance) -> list[Task]:
    return list(Task.objects.filter(instance=instance, status="open", kind="todo")
                .select_related("assignee__person__user", "instance").order_by("id"))


def candidates(instance, duty: str, exclude=()) -> list:
    from zhengtong.org.models import Identity

    return list(Identity.objects.filter(unit=instance.unit, duty__code=duty, active=True)
                .exclude(pk__in=[i.pk for i in exclude]).select_related("person", "department").order_by("pk"))


def watch(pg, errors):
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))


def test_r1_5_dispatch_through_the_web_ui(page, live_server, login, city):
    errors: list[str] = []
    watch(page, errors)
    desk = Desk(page, live_server, login, errors)
    instance = start("bgs.keyuan", "dispatch", "关于开展2027年度安全生产大检查的通知")
    [draft] = open_todo(instance)
    desk.submit(draft, opinion="请审核")
    [review] = open_todo(instance)
    office_head = candidates(instance, "dept_head", exclude=[review.assignee])[0]
    desk.submit(review, opinion="同意，请办公室审核", choose=[office_head])
    [office] = open_todo(instance)
    assert office.assignee == office_head
    signers = candidates(instance, "dept_head", exclude=[office_head])[:2]
    desk.submit(office, opinion="请相关处室会签", route="countersign", choose=signers, shot="e2e-dispatch-countersign")
    first, second = open_todo(instance)
    assert [first.assignee, second.assignee] == signers and first.node_name == "会签"
    desk.submit(first, opinion="无意见")
    zhuren = User.objects.get(username="bgs.zhuren").person.identities.get(unit=instance.unit)
    desk.submit(second, opinion="同意", choose=[zhuren])  # the last signer chooses who signs
    [sign] = open_todo(instance)
    assert sign.assignee == zhuren
    desk.submit(sign, opinion="同意印发", shot="e2e-dispatch-sign")
    for node in ("复核", "编号", "用印", "核发"):
        [step] = open_todo(instance)
        assert step.node_name == node
        desk.submit(step, shot="e2e-dispatch-issue" if node == "核发" else "")
    instance.refresh_from_db()
    assert instance.status == "completed"

    # the drafter follows it in 我发起的 and reads the whole trail
    page.context.clear_cookies()
    login("bgs.keyuan")
    page.goto(f"{live_server.url}/tasks/started/")
    row = page.locator("table.flow-list tbody tr", has_text=instance.title)
    assert "已办结" in row.inner_text()
    row.locator("a").click()
    page.wait_for_load_state("networkidle")
    trail = page.locator(".flow-trail").inner_text()
    for text in ("请审核", "请相关处室会签", "无意见", "同意印发", "王建华"):
        assert text in trail
    page.wait_for_selector("#flow-diagram[data-state=ready]")
    screenshot(page, "e2e-dispatch-done")
    assert errors == []


def test_r1_6_receipt_through_the_web_ui_with_circulation_and_circle(page, phone_page, live_server, login, city):
    errors: list[str] = []
    watch(page, errors)
    watch(phone_page, errors)
    desk = Desk(page, live_server, login, errors)
    instance = start("jyj.sfy", "receipt", "市政府办公室关于做好寒假期间校园安全工作的通知")
    [sign_in] = open_todo(instance)
    desk.submit(sign_in)
    [register] = open_todo(instance)
    desk.submit(register)
    [review] = open_todo(instance)
    head = candidates(instance, "dept_head")[0]
    desk.submit(review, opinion="符合收文要求", choose=[head])
    [propose] = open_todo(instance)
    juzhang = User.objects.get(username="jyj.juzhang").person.identities.get(unit=instance.unit)
    desk.submit(propose, opinion="拟请周局长阅示", choose=[juzhang])
    [instruct] = open_todo(instance)
    assert instruct.assignee == juzhang

    # the 局长 circulates it to two colleagues with the picker, then circles it (R1.4) and names who handles it
    readers = candidates(instance, "dept_head", exclude=[head])[:2]
    desk.open_from_todo(instruct)
    circulate = page.locator("#circulate-form")
    desk.choose(circulate, "to_identities", readers)
    circulate.get_by_role("button", name="传阅").click()
    page.wait_for_load_state("networkidle")
    assert "已传阅" in page.locator(".messages").inner_text()
    desk.submit(instruct, choose=[head], circle=True, shot="e2e-receipt-instruct")
    [handle] = open_todo(instance)
    desk.submit(handle, opinion="已按要求部署落实")
    [last] = open_todo(instance)
    assert last.node_name == "传阅"
    desk.submit(last)
    instance.refresh_from_db()
    assert instance.status == "completed"

    # a reader, on the phone: 待阅 → open → 已阅
    reader = readers[0]
    login(reader.person.user.username, target=phone_page)
    phone_page.goto(f"{live_server.url}/tasks/toread/")
    row = phone_page.locator("table.flow-list tbody tr", has_text=instance.title)
    row.locator("a").first.click()
    phone_page.wait_for_load_state("networkidle")
    phone_page.locator("#read-form").get_by_role("button", name="已阅", exact=True).click()
    phone_page.wait_for_load_state("networkidle")
    assert Task.objects.get(instance=instance, kind="toread", assignee=reader).status == "done"
    phone_page.goto(f"{live_server.url}/tasks/instances/{instance.pk}/")
    phone_page.wait_for_load_state("networkidle")
    trail = phone_page.locator(".flow-trail").inner_text()
    assert "圈阅" in trail and "周明辉" in trail
    assert "批示 · 已阅" in phone_page.locator(".facts").inner_text()
    phone_page.wait_for_selector("#flow-diagram[data-state=ready]")
    screenshot(phone_page, "e2e-receipt-done-phone")
    assert errors == []
