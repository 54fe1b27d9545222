"""签报 (memo) in a real browser on the demo city: a 科员 of 市教育局's 基础教育处 drafts a 签报 to the leaders with the
editor; it runs the platform's 签报 flow (sign_report.bpmn: 拟稿 → 处室负责人 → 办公室 → 分管领导 → 主要负责人) — each
holder finds it in 待办, writes an opinion and picks the next handler — jyj.juzhang gives his 批示 and it is closed. The
drafter sees every opinion, the 批示 last, on the document page; the page works at phone width."""
from __future__ import annotations

import pytest

from tests.support import screenshot
from zhengtong.documents.models import Document
from zhengtong.documents.tests.browser_support import messages, staff, todo_row
from zhengtong.documents.tests.test_browser_documents import city, fits, main_identity, open_task  # noqa: F401
from zhengtong.flow.models import Task
from zhengtong.flow.tests.test_browser_e2e import Desk, watch
from zhengtong.org.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TITLE = "市教育局基础教育处关于开展2027年中小学课后服务质量评估的请示"
INSTRUCTION = "同意开展评估。请基础教育处会同计划财务处细化方案，3月底前报局党组会审议。"


def test_a_memo_goes_up_to_the_director_and_his_instruction_is_on_the_document_page(page, phone_page, live_server,
                                                                                    login, city):  # noqa: F811
    errors: list[str] = []
    watch(page, errors)
    watch(phone_page, errors)
    desk = Desk(page, live_server, login, errors)
    bureau = Unit.objects.get(short_name="市教育局", region__level=1)
    drafter = staff(bureau, "clerk", "基础教育处")
    head, office_head = staff(bureau, "dept_head", "基础教育处"), staff(bureau, "dept_head", "办公室")
    deputy, director = staff(bureau, "deputy"), main_identity("jyj.juzhang")

    # 拟稿: the 签报 form has no 主送/发文机关 (an internal memo), a 请示 is fine without them
    login(drafter.person.user.username)
    page.goto(f"{live_server.url}/documents/")
    page.get_by_role("link", name="拟签报").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1.page-title").inner_text() == "拟稿：签报"
    assert page.locator("input[name=main_recipients]").count() == 0 and page.locator("#id_issuing_unit").count() == 0
    page.select_option("#id_doc_kind", "请示")
    page.fill("#id_title", TITLE)
    page.locator(".doc-editor-area").click()
    page.keyboard.type("为落实“双减”工作要求，拟于2027年3月组织开展全市中小学课后服务质量评估。")
    page.keyboard.press("Enter")
    page.keyboard.type("妥否，请批示。")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_load_state("networkidle")
    assert not page.locator(".alert-error").count(), page.locator(".alert-error").all_inner_texts()
    document = Document.objects.get(title=TITLE)
    assert (document.direction, document.doc_kind, document.unit) == ("memo", "请示", bureau)
    assert document.instance.business_type == "sign_report"
    assert "已拟稿" in messages(page)
    assert page.locator(".doc-panel").is_visible() and page.locator(".flow-submit h2").inner_text() == "办理：拟稿"

    desk.submit(open_task(document), opinion="请处长审核")
    review = open_task(document)
    assert (review.node_name, review.assignee) == ("处室负责人", head)
    desk.submit(review, opinion="同意，请办公室审核", choose=[office_head])
    office = open_task(document)
    assert (office.node_name, office.assignee) == ("办公室", office_head)
    desk.submit(office, opinion="已核，请分管领导审阅", choose=[deputy])
    assert open_task(document).assignee == deputy

    # the 分管领导 sends it on to the 局长: the route 报主要负责人 (the default ends the memo with him)
    row = todo_row(page, live_server, TITLE)  # still logged in as the office head: no longer in his 待办
    assert row.count() == 0
    desk.submit(open_task(document), opinion="拟同意，呈周局长阅示", route="principal")

    # the 局长's 待办, on his phone: the memo at 主要负责人 with every opinion so far on the page
    login("jyj.juzhang", target=phone_page)
    row = todo_row(phone_page, live_server, TITLE)
    assert "主要负责人" in row.inner_text() and "签报" in row.inner_text()
    row.locator("a").first.click()
    phone_page.wait_for_load_state("networkidle")
    trail = phone_page.locator(".flow-trail").inner_text()
    for opinion in ("请处长审核", "同意，请办公室审核", "已核，请分管领导审阅", "拟同意，呈周局长阅示"):
        assert opinion in trail
    assert "妥否，请批示。" in phone_page.locator(".doc-panel").inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "documents-memo-instruct-phone")
    phone_page.locator("#id_opinion").fill(INSTRUCTION)
    phone_page.locator("#submit-form").get_by_role("button", name="提交", exact=True).click()
    phone_page.wait_for_load_state("networkidle")
    assert "流程已办结" in messages(phone_page)
    assert todo_row(phone_page, live_server, TITLE).count() == 0

    document.refresh_from_db()
    assert document.status == "closed" and document.closed_at is not None
    assert not Task.objects.filter(instance_id=document.instance_id, status="open").exists()

    # the drafter's document page: 已办结, each opinion with who gave it, the 批示 named as such
    page.context.clear_cookies()
    login(drafter.person.user.username)
    page.goto(f"{live_server.url}/documents/?box=memo")
    listed = page.locator("table.flow-list tbody tr", has_text=TITLE)
    assert "已办结" in listed.inner_text()
    listed.get_by_role("link", name=TITLE).click()
    page.wait_for_load_state("networkidle")
    opinions = page.locator(".doc-opinions")
    text = opinions.inner_text()
    assert INSTRUCTION in text and director.person.name in text and "主要负责人" in text
    assert "拟同意，呈周局长阅示" in text and deputy.person.name in text
    assert "已办结" in page.locator(".doc-badges").inner_text()
    screenshot(page, "documents-memo-detail-desktop")
    phone_page.context.clear_cookies()
    login(drafter.person.user.username, target=phone_page)
    phone_page.goto(page.url)
    assert INSTRUCTION in phone_page.locator(".doc-opinions").inner_text()
    assert fits(phone_page)
    screenshot(phone_page, "documents-memo-detail-phone")
    assert errors == []
