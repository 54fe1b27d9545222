"""收文 (R1.6) in a real browser on the demo city's 市教育局: jyj.sfy signs for a paper document and registers it by
hand (scan + metadata; the 收文号 runs per unit and year), 初审, 拟办 by the 办公室主任 (办件, one 主办 and a 协办 处室,
a deadline because it is urgent), jyj.juzhang's 批示, 承办 with the 答复 by the 主办 处室, 传阅, 办结 — each holder
working from their own 待办. The R1.6 rules refuse with a Chinese message on the page. A second document fails 初审 and
goes back to the sender with the reason, which the document page shows."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support import screenshot
from zhengtong.documents.models import Document
from zhengtong.documents.tests.browser_support import messages, staff, todo_row
from zhengtong.documents.tests.test_browser_documents import city, fits, main_identity, open_task  # noqa: F401
from zhengtong.flow.tests.test_browser_e2e import Desk, watch
from zhengtong.org.models import Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TITLE = "省教育厅关于做好2027年春季学期学校安全工作的通知"
RETURNED = "省卫生健康委关于开展2027年医疗机构安全生产检查的通知"
INSTRUCTION = "请基础教育处牵头抓好落实，安全稳定处配合，按时限报送落实情况。"
REPLY = "已于3月2日召开全市中小学安全工作视频会议部署落实，开学安全检查覆盖全部学校，未发现重大隐患。"


def scan_jpeg() -> bytes:
    """What a scanner gives the 收发员: a page as a JPEG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (620, 877), "white")
    ImageDraw.Draw(image).rectangle((60, 80, 560, 120), fill=(200, 20, 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


def register(page, live_server, *, title: str, source: str, number: str, urgency: str = "", scan=None):
    page.goto(f"{live_server.url}/documents/?box=incoming")
    page.get_by_role("link", name="收文登记").click()
    page.wait_for_load_state("networkidle")
    page.fill("#id_title", title)
    page.select_option("#id_doc_kind", "通知")
    page.fill("#id_source_number", number)
    page.select_option("#id_urgency", urgency)
    page.fill("#id_sun", source)
    page.fill("#id_body", "各设区市教育局：\n春季学期开学在即，现就做好学校安全工作通知如下。")
    if scan is not None:
        page.set_input_files("#id_scan", scan)
    page.get_by_role("button", name="签收并登记").click()
    page.wait_for_load_state("networkidle")


def test_r1_6_incoming_from_registration_to_closing_through_the_web_ui(page, phone_page, live_server, login,
                                                                      city):  # noqa: F811
    errors: list[str] = []
    watch(page, errors)
    watch(phone_page, errors)
    desk = Desk(page, live_server, login, errors)
    bureau = Unit.objects.get(short_name="市教育局", region__level=1)
    clerk, director = main_identity("jyj.sfy"), main_identity("jyj.juzhang")
    office_head, lead_head = staff(bureau, "dept_head", "办公室"), staff(bureau, "dept_head", "基础教育处")
    year = timezone.localdate().year
    before = Document.objects.filter(unit=bureau, direction="incoming", receipt_year=year).count()

    # 签收 + 登记: the paper document's metadata and its scan; 签收 time recorded, 收文号 given
    login("jyj.sfy")
    register(page, live_server, title=TITLE, source="省教育厅", number="省教发〔2027〕3号", urgency="加急",
             scan={"name": "省教发〔2027〕3号.jpg", "mimeType": "image/jpeg", "buffer": scan_jpeg()})
    number = f"收文〔{year}〕{before + 1}号"
    assert f"已签收并登记，收文号 {number}" in messages(page)
    document = Document.objects.get(title=TITLE)
    assert (document.unit, document.drafter, document.receipt_number) == (bureau, clerk, number)
    assert document.received_at is not None and document.urgency == "加急"
    panel = page.locator(".doc-panel")
    assert f"{number}（省教育厅 省教发〔2027〕3号）" in panel.inner_text()
    assert "来文扫描件" in panel.locator(".doc-files").inner_text()
    assert page.locator(".flow-submit h2").inner_text() == "办理：登记"
    desk.submit(open_task(document))
    first_review = open_task(document)
    assert (first_review.node_name, first_review.assignee) == ("初审", clerk)
    desk.submit(first_review, opinion="属本局职责，文种、格式符合要求", choose=[office_head])

    # 拟办 by the 办公室主任: the R1.6 rules refuse with a message on the page until the handling is complete
    propose = open_task(document)
    assert (propose.node_name, propose.assignee) == ("拟办", office_head)
    desk.open_from_todo(propose)
    form = page.locator("#submit-form")
    form.locator("#id_opinion").fill("拟请周局长阅示")
    form.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "请先确定办理类别（阅件/办件）和主办、协办处室（R1.6）" in page.locator(".alert-error").inner_text()
    handling = page.locator(".doc-panel details", has_text="拟办：办理类别与承办处室")

    def save_handling():
        handling.get_by_role("button", name="保存拟办").click()
        page.wait_for_load_state("networkidle")
        return messages(page)

    handling.get_by_label("办件").check()
    assert "拟办未完成：办件须确定一个主办处室（R1.6）" in save_handling()
    handling.locator("#lead").select_option(label="基础教育处")
    assert "拟办未完成：加急件须确定办理时限（R1.6）" in save_handling()
    handling.locator("#lead").select_option(label="基础教育处")
    handling.get_by_label("安全稳定处").check()
    deadline = timezone.localdate() + timedelta(days=7)
    handling.locator("#deadline").fill(deadline.isoformat())
    assert "已拟办" in save_handling()
    document.refresh_from_db()
    assert document.handling_kind == "act" and document.lead_department.name == "基础教育处"
    assert [d.name for d in document.assisting_departments.all()] == ["安全稳定处"]
    assert document.handling_deadline == deadline
    desk.submit(propose, opinion="拟请周局长阅示，由基础教育处主办、安全稳定处协办", choose=[director])

    # 批示 by the 局长 on his phone: the 拟办 (主办, 协办, 时限) is on the document panel; he names the 承办 head
    instruct = open_task(document)
    assert (instruct.node_name, instruct.assignee) == ("批示", director)
    document.refresh_from_db()
    assert document.status == "handling"
    phone_desk = Desk(phone_page, live_server, lambda username: login(username, target=phone_page), errors)
    phone_desk.open_from_todo(instruct)
    proposed = f"办件，主办：基础教育处，协办：安全稳定处，时限 {deadline.month}月{deadline.day}日"
    assert proposed in phone_page.locator(".doc-panel").inner_text()
    assert fits(phone_page)
    phone_desk.submit(instruct, opinion=INSTRUCTION, choose=[lead_head], shot="documents-incoming-instruct-phone")

    # 承办: a 办件 cannot be submitted without its 答复 (R1.6)
    handle = open_task(document)
    assert (handle.node_name, handle.assignee) == ("承办", lead_head)
    desk.open_from_todo(handle)
    assert INSTRUCTION in page.locator(".flow-trail").inner_text()
    page.locator("#submit-form #id_opinion").fill("已办理")
    page.locator("#submit-form").get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "办件须填写办理结果（答复）后再提交（R1.6）" in page.locator(".alert-error").inner_text()
    reply = page.locator(".doc-panel details", has_text="办理结果（答复）")
    reply.locator("textarea[name=reply]").fill(REPLY)
    reply.get_by_role("button", name="保存办理结果").click()
    page.wait_for_load_state("networkidle")
    assert "已保存办理结果" in messages(page)
    desk.submit(handle, opinion="已按局长批示办理完毕")

    # 传阅 back at the 收发员, then 办结
    last = open_task(document)
    assert (last.node_name, last.assignee) == ("传阅", clerk)
    desk.submit(last)
    assert "流程已办结" in messages(page)
    document.refresh_from_db()
    assert document.status == "closed" and document.closed_at is not None and document.reply == REPLY

    # the document page: everything the 收发员 registered and everyone decided
    page.goto(f"{live_server.url}/documents/{document.pk}/")
    facts = page.locator(".doc-side").inner_text()
    for text in (number, "办件，主办：基础教育处，协办：安全稳定处", f"时限 {deadline.month}月{deadline.day}日", REPLY,
                 "来文扫描件"):
        assert text in facts, text
    assert "省教育厅 · 省教发〔2027〕3号" in page.locator(".doc-source").inner_text()
    assert "已办结" in page.locator(".doc-badges").inner_text()
    opinions = page.locator(".doc-opinions").inner_text()
    assert INSTRUCTION in opinions and director.person.name in opinions and "批示" in opinions
    screenshot(page, "documents-incoming-detail-desktop")
    phone_page.context.clear_cookies()
    login("jyj.sfy", target=phone_page)
    phone_page.goto(f"{live_server.url}/documents/{document.pk}/")
    assert fits(phone_page)
    screenshot(phone_page, "documents-incoming-detail-phone")

    # 收文号 are per unit and year: the 市政府办公室's 收发员 starts her own sequence
    page.context.clear_cookies()
    login("bgs.sfy")
    office = main_identity("bgs.sfy").unit
    office_before = Document.objects.filter(unit=office, direction="incoming", receipt_year=year).count()
    register(page, live_server, title="省政府办公厅关于做好2027年春节期间值班工作的通知", source="省政府办公厅",
             number="省政办明电〔2027〕1号")
    assert f"收文号 收文〔{year}〕{office_before + 1}号" in messages(page)
    refused = [e for e in errors if "status of 400" in e]  # the two refused 提交 answer 400 with the form again
    assert len(refused) == 2 and [e for e in errors if e not in refused] == []


def test_r1_6_first_review_returns_a_document_to_the_sender_with_the_reason(page, phone_page, live_server, login,
                                                                            city):  # noqa: F811
    errors: list[str] = []
    watch(page, errors)
    desk = Desk(page, live_server, login, errors)
    reason = "来文事项属市卫生健康委职责，不属本局办理范围，退回来文单位。"
    login("jyj.sfy")
    register(page, live_server, title=RETURNED, source="省卫生健康委员会", number="省卫发〔2027〕11号")
    document = Document.objects.get(title=RETURNED)
    desk.submit(open_task(document))
    first_review = open_task(document)
    desk.open_from_todo(first_review)
    route = page.locator("#id_route")
    assert "转退回来文单位" in route.inner_text()
    route.select_option("return_to_sender")
    page.locator("#id_opinion").fill(reason)
    page.locator("#submit-form").get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "已提交“初审”，流程已办结" in messages(page)
    assert todo_row(page, live_server, RETURNED).count() == 0
    document.refresh_from_db()
    assert document.status == "returned" and document.returned_reason == reason and document.closed_at is None

    page.goto(f"{live_server.url}/documents/?box=incoming")
    assert "已退回来文单位" in page.locator("table.flow-list tbody tr", has_text=RETURNED).inner_text()
    page.get_by_role("link", name=RETURNED).click()
    page.wait_for_load_state("networkidle")
    assert "已退回来文单位" in page.locator(".doc-badges").inner_text()
    facts = page.locator(".doc-side").inner_text()
    assert f"退回理由\n{reason}" in facts or f"退回理由\t{reason}" in facts, facts
    assert reason in page.locator(".doc-opinions").inner_text()
    login("jyj.sfy", target=phone_page)
    phone_page.goto(page.url)
    assert reason in phone_page.locator(".doc-side").inner_text() and fits(phone_page)
    screenshot(phone_page, "documents-incoming-returned-phone")
    assert errors == []
