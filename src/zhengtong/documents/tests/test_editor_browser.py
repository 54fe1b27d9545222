"""The body editor (documents/_editor.html + editor.js) in Chromium, under the site's Content-Security-Policy: styles
from the toolbar, the browser's undo/redo, a paste of hostile HTML cleaned to plain paragraphs, the body's headings in
the accessibility tree a screen reader reads, and what the form finally sends. No server: Playwright answers the
requests itself (the page, the static files, the form post)."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.contrib.staticfiles import finders
from django.template import engines

from tests.support import screenshot
from zhengtong.documents import body

pytestmark = pytest.mark.browser

ORIGIN = "http://zhengtong.test"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HARNESS = """{% load static %}<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>正文编辑器</title>
<link rel="stylesheet" href="{% static 'web/app.css' %}"><link rel="stylesheet" href="{% static 'documents/editor.css' %}">
<script src="{% static 'documents/editor.js' %}" defer></script></head>
<body><main class="content"><form method="post" action="/submit" class="panel stacked-form">
<label>正文</label>{% include "documents/_editor.html" with field_name="body_html" body_html=body_html %}
<p><button type="submit" class="btn btn-primary">保存</button></p></form></main></body></html>"""
HOSTILE_PASTE = ('<meta charset="utf-8"><style>p{color:red}</style><p class="MsoNormal" style="color:red">（二）保障措施</p>'
                 '<script>window.pwned = 1</script><p onclick="window.pwned = 2">加强<b>组织</b>领导'
                 '<img src="x" onerror="window.pwned = 3"></p><table><tr><td>附表</td></tr></table>')
PASTE = """([html, text]) => {
  const data = new DataTransfer();
  if (html) data.setData("text/html", html);
  if (text) data.setData("text/plain", text);
  document.querySelector(".doc-editor-area").dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


class Site:
    """Serves the harness with the CSP header, the static files, and records what the form posts."""

    def __init__(self, body_html: str):
        self.page_html = engines["django"].from_string(HARNESS).render({"body_html": body_html})
        self.posted: list[dict[str, list[str]]] = []

    def handle(self, route):
        request = route.request
        path = request.url[len(ORIGIN):].split("?")[0]
        if path == "/editor":
            route.fulfill(status=200, body=self.page_html, headers={
                "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP})
        elif path == "/submit" and request.method == "POST":
            self.posted.append(parse_qs(request.post_data or ""))
            route.fulfill(status=200, body="<!doctype html><p>已保存</p>", headers={"Content-Type": "text/html; charset=utf-8"})
        elif path.startswith("/static/") and (found := finders.find(path[len("/static/"):])):
            route.fulfill(status=200, body=Path(found).read_bytes(),
                          headers={"Content-Type": mimetypes.guess_type(found)[0] or "application/octet-stream"})
        else:
            route.fulfill(status=404, body="")


def open_editor(page, body_html: str) -> tuple[Site, list[str]]:
    site, errors = Site(body_html), []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append("dialog: " + dialog.message), dialog.dismiss()))
    page.route(f"{ORIGIN}/**", site.handle)
    page.goto(f"{ORIGIN}/editor")
    page.locator(".doc-editor-area").wait_for(state="visible")
    return site, errors


def blocks(page) -> list[tuple[str, str]]:
    return [tuple(b) for b in page.locator(".doc-editor-area").evaluate(
        "area => Array.from(area.children).map(b => [b.tagName.toLowerCase(), b.textContent])")]


def press_level(page, name: str) -> None:
    page.get_by_role("toolbar", name="段落格式").get_by_role("button", name=name, exact=True).click()


def test_r2_4_editor_styles_headings_undoes_cleans_a_paste_and_submits_the_structure(page):
    site, errors = open_editor(page, '<p>各区人民政府：</p><script>alert("x")</script><p onclick="x()">现将有关事项通知如下。</p>')
    area = page.locator(".doc-editor-area")
    assert page.locator("textarea[name=body_html]").is_hidden()  # JavaScript on: the textarea is the form's carrier
    assert "{#" not in page.locator("body").inner_text() and "comment" not in page.locator("body").inner_text()
    assert blocks(page) == [("p", "各区人民政府："), ("p", "现将有关事项通知如下。")]

    area.locator("p").last.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("一、总体要求")
    press_level(page, "一级标题")
    assert page.get_by_role("button", name="一级标题").get_attribute("aria-pressed") == "true"
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # after a heading the next paragraph is body text again
    page.keyboard.type("各单位要高度重视。")
    assert page.get_by_role("button", name="正文").get_attribute("aria-pressed") == "true"

    page.keyboard.press("Enter")
    page.keyboard.type("（一）工作目标")
    press_level(page, "二级标题")
    assert blocks(page)[-1] == ("h2", "（一）工作目标")
    page.keyboard.press("Control+z")  # the browser's own undo takes the style back …
    assert blocks(page)[-1] == ("p", "（一）工作目标")
    page.get_by_role("button", name="重做").click()  # … and redo puts it back
    assert blocks(page)[-1] == ("h2", "（一）工作目标")

    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.evaluate(PASTE, [HOSTILE_PASTE, ""])  # markup alone (no plain text offered): its text, a paragraph a block
    assert blocks(page)[-3:] == [("h2", "（二）保障措施"), ("p", "加强组织领导"), ("p", "附表")]
    assert page.evaluate("window.pwned") is None
    assert area.locator("script, img, style, [style], [onclick], [class]").count() == 0

    page.keyboard.press("Enter")
    # Word offers both; the plain text wins: a paragraph per line, headings by their numbering
    page.evaluate(PASTE, ['<p class="MsoNormal"><span style="font-family:仿宋">ignored</span></p>',
                          "1.目标任务\r\n\r\n（1）第一项　任务\n  正文一段  "])
    assert blocks(page)[-3:] == [("h3", "1.目标任务"), ("h4", "（1）第一项 任务"), ("p", "正文一段")]

    screenshot(page, "documents-editor-desktop", full_page=False)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{ORIGIN}/submit")
    [form] = site.posted
    [sent] = form["body_html"]
    assert sent == ("<p>各区人民政府：</p><p>现将有关事项通知如下。</p><h1>一、总体要求</h1><p>各单位要高度重视。</p>"
                    "<h2>（一）工作目标</h2><h2>（二）保障措施</h2><p>加强组织领导</p><p>附表</p>"
                    "<h3>1.目标任务</h3><h4>（1）第一项 任务</h4><p>正文一段</p>")
    assert body.sanitize_html(sent) == sent  # the editor already sends the server's structure
    assert errors == []  # no CSP violation, no script error, no alert from the hostile markup


def test_editor_on_a_phone_wraps_the_toolbar_and_keeps_the_body_readable(phone_page):
    page = phone_page
    site, errors = open_editor(page, body.text_to_html(
        "各区人民政府：\n现将有关事项通知如下。\n一、总体要求\n（一）工作目标\n1.基本原则\n（1）具体措施\n各单位要高度重视，认真组织实施。"))
    toolbar = page.get_by_role("toolbar", name="段落格式")
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sticks out sideways
    for name in ("正文", "一级标题", "二级标题", "三级标题", "四级标题", "撤销", "重做"):
        box = toolbar.get_by_role("button", name=name, exact=True).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 32
    font_size = page.locator(".doc-editor-area p").first.evaluate("p => parseFloat(getComputedStyle(p).fontSize)")
    assert font_size >= 16
    assert blocks(page)[2:6] == [("h1", "一、总体要求"), ("h2", "（一）工作目标"), ("h3", "1.基本原则"), ("h4", "（1）具体措施")]

    page.locator(".doc-editor-area h3").tap()
    press_level(page, "正文")
    assert blocks(page)[4] == ("p", "1.基本原则")
    screenshot(page, "documents-editor-phone")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{ORIGIN}/submit")
    assert "<p>1.基本原则</p>" in site.posted[0]["body_html"][0]
    assert errors == []


def test_without_changes_the_editor_sends_the_body_it_was_given(page):
    original = body.text_to_html("一、总体要求\n正文 & <内容>")
    site, errors = open_editor(page, original)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{ORIGIN}/submit")
    assert site.posted[0]["body_html"] == [original] and errors == []


def outline(page) -> list[tuple[int, str]]:
    """The headings inside the editor as Chromium hands them to a screen reader (its accessibility tree, not the DOM):
    (level, name) in reading order."""
    cdp = page.context.new_cdp_session(page)
    try:
        area = cdp.send("Runtime.evaluate", {"expression": "document.querySelector('.doc-editor-area')"})["result"]
        nodes = cdp.send("Accessibility.queryAXTree", {"objectId": area["objectId"], "role": "heading"})["nodes"]
    finally:
        cdp.detach()
    levels = [next(p["value"]["value"] for p in n.get("properties", []) if p["name"] == "level") for n in nodes]
    return [(level, n["name"]["value"]) for level, n in zip(levels, nodes, strict=True)]


def test_r2_4_body_headings_are_headings_a_screen_reader_can_navigate_while_editing(page):
    site, errors = open_editor(page, body.text_to_html(
        "各区人民政府：\n一、总体要求\n（一）工作目标\n1.基本原则\n（1）具体措施\n各单位要高度重视，认真组织实施。"))
    loaded = [(1, "一、总体要求"), (2, "（一）工作目标"), (3, "1.基本原则"), (4, "（1）具体措施")]
    assert outline(page) == loaded  # one level per 公文 heading level, as the toolbar names them (一级标题 …)
    textbox = page.get_by_role("textbox", name="正文")
    for level, name in loaded:
        assert textbox.get_by_role("heading", level=level, name=name, exact=True).count() == 1
    assert textbox.get_by_role("paragraph").count() == 2  # the salutation and the body text stay paragraphs

    # a paragraph styled from the toolbar is a heading at once; set back to 正文 it is not
    page.locator(".doc-editor-area p").last.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("二、保障措施")
    press_level(page, "一级标题")
    assert outline(page) == [*loaded, (1, "二、保障措施")]
    press_level(page, "正文")
    assert outline(page) == loaded
    press_level(page, "一级标题")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.evaluate(PASTE, ["", "（一）组织领导\n1.明确分工\n各部门按职责抓好落实。"])  # a pasted outline: headings too
    expected = [*loaded, (1, "二、保障措施"), (2, "（一）组织领导"), (3, "1.明确分工")]
    assert outline(page) == expected

    # what is stored keeps the <h1>–<h4> structure, and the PDF reads the same levels from it
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{ORIGIN}/submit")
    [sent] = site.posted[0]["body_html"]
    assert body.sanitize_html(sent) == sent
    assert [(b.level, b.text) for b in body.html_to_blocks(sent) if b.level] == expected
    assert errors == []
