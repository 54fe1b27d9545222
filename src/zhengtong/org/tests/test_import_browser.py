"""Browser test of the organisation import page: a bad file's errors, a good file's preview, confirm; phone width."""
from __future__ import annotations

import pytest

from tests.support import screenshot
from zhengtong.org import transfer
from zhengtong.org.models import Person
from zhengtong.org.tests.factories import builtin_duties, make_sysadmin
from zhengtong.org.tests.test_transfer import new_city_file, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def files(tmp_path, city):
    builtin_duties()  # an earlier transactional test may have flushed the migration's rows
    good = tmp_path / "示范市审计局.xlsx"
    good.write_bytes(new_city_file())
    bad = tmp_path / "有错误.xlsx"
    bad.write_bytes(xlsx({
        transfer.UNITS: [{"统一社会信用代码": "11990100MB000000X1", "单位全称": "示范市统计局", "单位类别": "政府工作部门",
                          "行政区划代码": "990100"}],
        transfer.PEOPLE: [
            {"账号": "lisi", "姓名": "李四", "手机": "1380013800", "单位信用代码": "11990100MB000000X1", "职责": "科员"},
            {"账号": "wangwu", "姓名": "王五", "电子邮箱": "wangwu@", "单位信用代码": "11990100MB000000X1", "职责": "巫师"},
        ],
    }))
    return good, bad


def test_import_page_errors_then_preview_and_confirm(page, phone_page, login, live_server, files):
    good, bad = files
    admin = make_sysadmin("org.importer")
    login(admin.username)
    page.goto(f"{live_server.url}/org/import/")
    assert page.locator("h1").inner_text() == "组织机构导入导出"
    screenshot(page, "org-import-desktop")

    page.set_input_files("#import-file", str(bad))
    page.click("text=检查文件")
    page.wait_for_load_state("networkidle")
    assert "未作任何修改" in page.locator(".import-result .alert-error").inner_text()
    rows = page.locator(".import-errors tbody tr")
    assert rows.count() >= 4
    text = page.locator(".import-errors").inner_text()
    assert "校验不通过" in text and "手机号“1380013800”不正确" in text and "职责“巫师”不存在" in text
    assert page.locator("text=确认导入").count() == 0
    screenshot(page, "org-import-desktop-errors")

    page.set_input_files("#import-file", str(good))
    page.click("text=检查文件")
    page.wait_for_load_state("networkidle")
    assert "将新增 10 项 / 更新 0 项" in page.locator(".import-summary").inner_text()
    screenshot(page, "org-import-desktop-preview")
    assert not Person.objects.filter(name="王五").exists()
    page.click("text=确认导入")
    page.wait_for_load_state("networkidle")
    assert "导入完成：新增 10 项" in page.locator(".messages").inner_text()
    assert Person.objects.filter(name="王五").exists()

    login(admin.username, target=phone_page)
    phone_page.goto(f"{live_server.url}/org/import/")
    phone_page.set_input_files("#import-file", str(bad))
    phone_page.click("text=检查文件")
    phone_page.wait_for_load_state("networkidle")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide at phone width"
    screenshot(phone_page, "org-import-phone-errors")
