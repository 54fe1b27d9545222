"""Browser tests of the organisation browser and the unit administrator's pages (R7.1 least privilege:
management buttons only for those allowed, a 403 page for everyone else)."""
from __future__ import annotations

import re

import pytest

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.org.models import Department, Person
from zhengtong.org.tests.test_views import build_small_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def org():
    org = build_small_org()
    User.objects.update(otp_exempt=True)
    return org


def test_tree_expands_and_shows_a_unit(page, live_server, login, org):
    login("wangwu")
    page.goto(f"{live_server.url}/org/")  # opens on 王五's own unit; 收起全部 folds the tree to the top
    assert page.locator("#h-unit").inner_text() == "示范市教育局"
    page.locator(".org-tree-all").click()
    page.wait_for_load_state("networkidle")
    tree = page.locator("[data-org-tree]")
    city = tree.locator(f"li[data-unit-id='{org.city.pk}']")
    twisty = city.locator(".org-twisty").first
    assert twisty.get_attribute("aria-expanded") == "false"
    twisty.click()  # loads the children from the API
    office_link = city.locator("a.org-tree-link", has_text="示范市人民政府办公室")
    office_link.wait_for()
    assert twisty.get_attribute("aria-expanded") == "true"
    office_link.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#h-unit").inner_text() == "示范市人民政府办公室"
    facts = page.locator(".org-facts").inner_text()
    for fact in ("市政府办", "示政办发", org.office.credit_code, "示范市人民政府"):
        assert fact in facts
    people = page.locator("table.org-people")
    assert "张三" in people.inner_text() and "0990-1234567" in people.inner_text()
    assert "13800000001" not in people.inner_text()  # another unit's mobile numbers stay hidden
    # the opened branch is rendered by the server on the next page, the current unit marked
    assert tree.locator("a[aria-current=page]").inner_text() == "示范市人民政府办公室"
    # the department filter
    page.locator(".org-dept a", has_text="秘书科").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#h-people").inner_text().startswith("人员 · 秘书科")
    screenshot(page, "org-browser-desktop")


def test_ordinary_user_sees_no_management_buttons_and_gets_403(page, live_server, login, org):
    """R7.1: management is for the unit's 单位系统管理员 or the platform 系统管理员 only."""
    login("zhangsan")
    page.goto(f"{live_server.url}/org/?unit={org.office.pk}")
    assert page.locator("text=新增内设机构").count() == 0
    assert page.locator("text=新增人员").count() == 0
    assert page.locator("a", has_text="管理").count() == 0
    response = page.goto(f"{live_server.url}/org/units/{org.office.pk}/people/new/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert "已记入审计日志" in page.locator(".alert").inner_text()
    screenshot(page, "org-denied-desktop", full_page=False)


def test_search_from_the_browser_opens_the_persons_unit(page, live_server, login, org):
    login("wangwu")
    page.goto(f"{live_server.url}/org/")
    search = page.locator(".org-search .org-picker-search")
    search.fill("zs")
    page.locator(".org-search [role=option]", has_text="张三").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#h-unit").inner_text() == "示范市人民政府办公室"
    assert page.locator(f"#person-{org.zhangsan.person_id}").get_attribute("class") == "is-highlight"


def test_org_browser_at_phone_width(phone_page, live_server, login, org):
    login("lisi", target=phone_page)
    phone_page.goto(f"{live_server.url}/org/?unit={org.office.pk}")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    # stacked: the unit's details come first, the tree after them
    details = phone_page.locator("#h-unit").bounding_box()
    tree = phone_page.locator("#h-tree").bounding_box()
    assert details["y"] < tree["y"]
    assert "13800000001" in phone_page.locator("table.org-people").inner_text()  # same unit: mobiles shown
    screenshot(phone_page, "org-browser-phone")
    screenshot(phone_page, "org-browser-phone-top", full_page=False)
    phone_page.locator(".org-search .org-picker-search").click()
    phone_page.locator(".org-search .org-picker-search").fill("wangwu")
    phone_page.locator(".org-search [role=option]", has_text="王五").wait_for()
    screenshot(phone_page, "org-browser-phone-search", full_page=False)
    phone_page.locator(".org-search [role=option]", has_text="王五").click()
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.locator("#h-unit").inner_text() == "示范市教育局"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390


def test_unit_admin_adds_a_department_and_a_person(page, live_server, login, org):
    login("office.admin")
    page.goto(f"{live_server.url}/org/?unit={org.office.pk}")
    page.click("text=新增内设机构")
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "秘书科")  # already there: the error shows next to the field
    page.click(".org-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "本单位已有内设机构“秘书科”" in page.locator("#id_name-errors").inner_text()
    screenshot(page, "org-department-error-desktop", full_page=False)
    page.fill("#id_name", "督查科")
    page.fill("#id_order", "3")
    page.click(".org-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已新增内设机构“督查科”" in page.locator(".messages").inner_text()
    assert page.locator(".org-dept a", has_text="督查科").count() == 1
    assert Department.objects.filter(unit=org.office, name="督查科").exists()

    page.click("text=新增人员")
    page.wait_for_load_state("networkidle")
    page.fill("#id_name", "钱七")
    page.fill("#id_username", "qianqi")
    page.select_option("#id_department", label="督查科")
    page.fill("#id_title", "科员")
    page.fill("#id_mobile", "1390000")  # too short: refused with the reason
    page.click(".org-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "手机号“1390000”不正确" in page.locator("#id_mobile-errors").inner_text()
    page.fill("#id_mobile", "13900000007")
    screenshot(page, "org-person-form-desktop")
    page.click(".org-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    password = page.locator("#temp-password").inner_text()
    assert re.fullmatch(r"\S{8,}", password)
    assert "只显示这一次" in page.locator(".alert-warning").inner_text()
    person = Person.objects.get(name="钱七")
    assert person.user.check_password(password) and person.user.must_change_password
    screenshot(page, "org-person-created-desktop")
    page.click("text=返回市政府办")
    page.wait_for_load_state("networkidle")
    assert page.locator(f"#person-{person.pk}").get_attribute("class") == "is-highlight"
    assert password not in page.content()


def test_unit_admin_pages_at_phone_width(phone_page, live_server, login, org):
    login("office.admin", target=phone_page)
    phone_page.goto(f"{live_server.url}/org/units/{org.office.pk}/people/new/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "org-person-form-phone")
    phone_page.goto(f"{live_server.url}/org/people/{org.zhangsan.person_id}/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone_page.locator("text=设为主身份").count() == 0  # one post only: it is the main one
    screenshot(phone_page, "org-person-edit-phone")
