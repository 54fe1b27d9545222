"""Issue #4 done criterion in a real browser on the demo city: bgs.keyuan drafts a 示范市人民政府 通知 with the editor,
the 秘书科 head and bgs.zhuren review, fushizhang signs, bgs.sfy numbers, seals and dispatches from the task page's
document panel; the sealed PDF verifies; the recipient's 收发员 reads it; the pages work at phone width."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.documents.models import Document
from zhengtong.flow.models import Task
from zhengtong.flow.tests.test_browser_e2e import Desk, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TITLE = "示范市人民政府关于做好2027年全民国防教育日活动的通知"


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)
    User.objects.update(otp_exempt=True)


def main_identity(username):
    return User.objects.get(username=username).person.identities.select_related("person", "department").get(
        is_main=True)


def fits(pg) -> bool:
    """Nothing on the page is wider than the phone."""
    return pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 1


def open_task(document) -> Task:
    return Task.objects.select_related("assignee__person__user", "instance").get(
        instance_id=document.instance_id, status="open", kind="todo")


def test_r1_5_a_document_from_draft_to_dispatch_through_the_web_ui(page, phone_page, live_server, login, city):
    errors: list[str] = []
    watch(page, errors)
    desk = Desk(page, live_server, login, errors)
    login("bgs.keyuan")
    page.goto(f"{live_server.url}/documents/new/?direction=outgoing")
    page.select_option("#id_issuing_unit", label="示范市人民政府")
    page.fill("#id_title", TITLE)
    picker = page.locator(".org-picker:has(input[name=main_recipients])")
    picker.locator(".org-picker-search").fill("教育局")
    picker.locator("[role=option]", has_text="示范市教育局").first.click()
    area = page.locator(".doc-editor-area")
    area.click()
    page.keyboard.type("为增强全民国防观念，现就做好全民国防教育日活动有关事项通知如下。")
    page.keyboard.press("Enter")
    page.keyboard.type("一、突出活动主题")
    page.locator(".doc-editor-toolbar [data-level='1']").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("各地各单位要紧扣主题，组织形式多样的宣传教育活动。")
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page paints the sticky header mid-page
    screenshot(page, "documents-new-desktop")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_load_state("networkidle")
    document = Document.objects.get(title=TITLE)
    assert "<h1>一、突出活动主题</h1>" in document.body_html and document.issuing_unit.name == "示范市人民政府"
    assert page.locator(".doc-panel").is_visible()
    screenshot(page, "documents-task-desktop")

    desk.submit(open_task(document), opinion="请审核")
    desk.submit(open_task(document), opinion="同意，请办公室审核", choose=[main_identity("bgs.zhuren")])
    desk.submit(open_task(document), opinion="已审核，请陈副市长签发", choose=[main_identity("fushizhang")])
    sign = open_task(document)
    assert sign.assignee.person.user.username == "fushizhang"
    desk.submit(sign, opinion="同意印发", shot="documents-sign-desktop")
    document.refresh_from_db()
    assert document.signer_names == ["陈志远"] and document.status == "signed"

    desk.submit(open_task(document), opinion="已复核")  # 复核, bgs.sfy
    for step, button in (("编号", "取号"), ("用印", "用印"), ("核发", "核发")):
        task = open_task(document)
        assert task.node_name == step
        desk.open_from_todo(task)
        page.locator(".doc-action-box").get_by_role("button", name=button, exact=True).click()
        page.wait_for_load_state("networkidle")
        assert "未完成" not in page.locator(".messages").inner_text(), page.locator(".messages").inner_text()
        if step == "用印":
            screenshot(page, "documents-seal-desktop")
        page.locator("#submit-form").get_by_role("button", name="提交", exact=True).click()
        page.wait_for_load_state("networkidle")
    document.refresh_from_db()
    assert document.status == "closed" and document.doc_number.startswith("示政发〔")

    page.goto(f"{live_server.url}/documents/{document.pk}/verification/")
    assert "有效" in page.locator(".verify-verdict").inner_text()
    screenshot(page, "documents-verification-desktop")
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    assert document.doc_number in page.locator(".doc-side").inner_text()
    screenshot(page, "documents-detail-desktop")

    # the recipient's 收发员 reads it on a phone
    login("jyj.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/documents/{document.pk}/")
    assert TITLE in phone_page.locator("h1").inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "documents-detail-phone")

    # the sender's 收发员: the list, the 文号登记簿 and search, on a desktop and on a phone
    page.context.clear_cookies()
    login("bgs.sfy")
    page.goto(f"{live_server.url}/documents/")
    assert TITLE in page.locator("table.flow-list").inner_text()
    screenshot(page, "documents-list-desktop")
    page.get_by_role("link", name="文号登记簿").click()
    page.wait_for_load_state("networkidle")
    assert document.doc_number in page.locator("table.doc-entries").inner_text()
    screenshot(page, "documents-numbers-desktop")
    page.goto(f"{live_server.url}/documents/")
    page.fill("#doc-q", "国防教育")
    page.locator(".doc-search").get_by_role("button", name="检索").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".doc-hits mark").count() >= 1
    screenshot(page, "documents-search-desktop")
    phone_page.context.clear_cookies()
    login("bgs.sfy", target=phone_page)
    for path, name in (("/documents/", "list"), ("/documents/new/?direction=outgoing", "new"),
                       ("/documents/numbers/", "numbers"), ("/documents/search/?q=国防教育", "search")):
        phone_page.goto(f"{live_server.url}{path}")
        assert fits(phone_page), path
        screenshot(phone_page, f"documents-{name}-phone")
    assert errors == []


def test_the_task_panel_at_phone_width(phone_page, live_server, login, city):
    """编号 on a phone: the document panel and its 取号 form fit a 390 px screen."""
    document = Document.objects.get(title="示范市人民政府关于做好2027年春季学期开学工作的通知")
    task = open_task(document)
    login("bgs.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/tasks/{task.pk}/")
    panel = phone_page.locator(".doc-panel")
    assert "机关代字：示政发" in panel.inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "documents-task-phone")
    panel.get_by_role("button", name="取号", exact=True).click()
    phone_page.wait_for_load_state("networkidle")
    document.refresh_from_db()
    assert document.doc_number.startswith("示政发〔") and document.doc_number in panel.inner_text()
