"""Browser tests of the organisation picker: pinyin search (`zs` finds 张三), keyboard, chips, the hidden
input a plain form posts, the lazy tree, the maximum, and the full-width sheet at phone width.

A tiny page at /picker-test/ (this module is the urlconf: the real urls plus that page) renders pickers in
the three modes the later screens use and echoes what a plain form post of them cleans to.
"""
from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.urls import path

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.org.picker import PickerField
from zhengtong.org.tests.test_views import build_small_org
from zhengtong.urls import urlpatterns as real_urlpatterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

PAGE = Template("""{% extends "web/base.html" %}{% load org_picker %}
{% block head %}{% include "org/_picker_assets.html" %}{% endblock %}
{% block content %}<section class="panel"><h1>选择器</h1>
<form method="post">{% csrf_token %}
{% org_picker name="recipients" mode="units" multiple=True max=2 label="主送机关" %}
{% org_picker name="handler" mode="identities" label="下一步办理人" %}
{% org_picker name="readers" mode="people" multiple=True label="传阅人员" %}
<button class="btn btn-primary" type="submit" id="send">提交</button></form>
{% if posted %}<p id="posted">{{ posted }}</p>{% endif %}</section>{% endblock %}""")


def picker_test_view(request):
    posted = ""
    if request.method == "POST":
        fields = {"recipients": PickerField(mode="units", multiple=True, max_items=2, required=False),
                  "handler": PickerField(mode="identities", required=False),
                  "readers": PickerField(mode="people", multiple=True, required=False)}
        cleaned = {name: field.clean(request.POST.get(name, "")) for name, field in fields.items()}
        posted = "；".join(f"{name}=" + ("、".join(o.name if hasattr(o, "name") else o.person.name for o in value)
                                          if isinstance(value, list) else (value.person.name if value else ""))
                          for name, value in cleaned.items())
    return HttpResponse(PAGE.render(RequestContext(request, {"posted": posted})))


urlpatterns = [path("picker-test/", picker_test_view), *real_urlpatterns]


@pytest.fixture
def org():
    org = build_small_org()
    User.objects.update(otp_exempt=True)
    return org


def test_pinyin_search_zs_picks_zhangsan_into_the_hidden_input(page, live_server, login, org):
    """Typing `zs` lists 张三 with unit, department and duty; Enter picks; the chip and the hidden input follow."""
    login("lisi")
    page.goto(f"{live_server.url}/picker-test/")
    box = page.locator("#picker-readers-box")
    search = box.locator(".org-picker-search")
    assert search.get_attribute("role") == "combobox"
    search.fill("zs")
    option = box.locator("[role=option]", has_text="张三")
    option.wait_for()
    assert "示范市人民政府办公室 · 秘书科 · 科员" in option.inner_text()
    assert search.get_attribute("aria-expanded") == "true"
    # keyboard: the first option is active; Enter picks it
    active_id = search.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active_id}").inner_text().startswith("张三")
    screenshot(page, "org-picker-desktop-search", full_page=False)
    search.press("Enter")
    chip = box.locator(".org-picker-chip")
    assert chip.inner_text().startswith("张三")
    assert box.locator("input[type=hidden][name=readers]").input_value() == str(org.zhangsan.person_id)
    # full pinyin finds the same person; picking it again takes it off
    search.fill("zhangsan")
    box.locator("[role=option]", has_text="张三").wait_for()
    assert "已选" in box.locator("[role=option]", has_text="张三").inner_text()
    # a second person by mouse
    search.fill("lisi")
    box.locator("[role=option]", has_text="李四").click()
    assert box.locator(".org-picker-chip").count() == 2
    assert box.locator("input[name=readers]").input_value() == f"{org.zhangsan.person_id},{org.lisi.person_id}"
    # remove 张三 by the chip's button
    box.locator(".org-picker-chip", has_text="张三").locator(".org-picker-remove").click()
    assert box.locator("input[name=readers]").input_value() == str(org.lisi.person_id)
    screenshot(page, "org-picker-desktop-chips", full_page=False)
    page.click("#send")
    page.wait_for_load_state("networkidle")
    assert "readers=李四" in page.locator("#posted").inner_text()


def test_tree_expands_lazily_and_picks_an_identity(page, live_server, login, org):
    login("lisi")
    page.goto(f"{live_server.url}/picker-test/")
    box = page.locator("#picker-handler-box")
    box.locator(".org-picker-tree-toggle").click()
    tree = box.locator(".org-picker-tree")
    city = tree.locator(".org-tree-node", has_text="示范市人民政府").first
    city.locator(".org-twisty").first.click()
    office = tree.locator(f".org-tree-node[data-unit-id='{org.office.pk}']")
    office.locator(".org-tree-label").first.click()  # the name opens the node too
    secretariat = office.locator(".org-tree-node.is-dept", has_text="秘书科")
    secretariat.locator(".org-twisty").click()
    assert secretariat.locator(".org-twisty").get_attribute("aria-expanded") == "true"
    secretariat.locator(".org-tree-pick", has_text="张三").click()
    assert box.locator(".org-picker-chip").inner_text().startswith("张三（秘书科 科员）")
    assert box.locator("input[name=handler]").input_value() == str(org.zhangsan.pk)
    assert secretariat.locator(".org-tree-pick", has_text="张三").get_attribute("aria-pressed") == "true"
    # single choice: picking 李四 replaces 张三
    office.locator(":scope > .org-tree-children > .org-tree-leaf .org-tree-pick", has_text="李四").click()
    assert box.locator(".org-picker-chip").count() == 1
    assert box.locator("input[name=handler]").input_value() == str(org.lisi.pk)
    screenshot(page, "org-picker-desktop-tree", full_page=False)
    page.click("#send")
    page.wait_for_load_state("networkidle")
    assert "handler=李四" in page.locator("#posted").inner_text()


def test_units_mode_respects_the_maximum(page, live_server, login, org):
    login("lisi")
    page.goto(f"{live_server.url}/picker-test/")
    box = page.locator("#picker-recipients-box")
    search = box.locator(".org-picker-search")
    for query, name in (("办公室", "示范市人民政府办公室"), ("sfsjy", "示范市教育局")):
        search.fill(query)
        box.locator("[role=option]", has_text=name).first.click()
    assert box.locator(".org-picker-chip").count() == 2
    search.fill("示范市人民政府")
    box.locator("[role=option]", has_text="示范市人民政府").first.wait_for()
    box.locator("[role=option]").filter(has_not_text="办公室").first.click()
    assert "最多只能选择 2 项" in box.locator(".org-picker-status").inner_text()
    assert box.locator(".org-picker-chip").count() == 2
    page.click("#send")
    page.wait_for_load_state("networkidle")
    assert "recipients=示范市人民政府办公室、示范市教育局" in page.locator("#posted").inner_text()


def test_picker_is_a_full_width_sheet_at_phone_width(phone_page, live_server, login, org):
    login("lisi", target=phone_page)
    phone_page.goto(f"{live_server.url}/picker-test/")
    box = phone_page.locator("#picker-handler-box")
    search = box.locator(".org-picker-search")
    search.click()
    panel = box.locator(".org-picker-panel")
    assert "is-sheet" in box.get_attribute("class")
    rect = panel.bounding_box()
    assert rect["x"] == 0 and rect["width"] == 390
    search.fill("zs")
    box.locator("[role=option]", has_text="张三").wait_for()
    screenshot(phone_page, "org-picker-phone-search", full_page=False)
    box.locator("[role=option]", has_text="张三").click()
    # one choice: the sheet closes and shows the chip in the form
    assert "is-sheet" not in box.get_attribute("class")
    assert box.locator(".org-picker-chip").inner_text().startswith("张三")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "org-picker-phone-chosen", full_page=False)
