"""分发名单 on the drafting form (issue #5 §1): bgs.keyuan picks 市直各部门 and adds its units to 主送 in one step; the
draft saves them as its 主送机关."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.support import screenshot
from zhengtong.accounts.models import User
from zhengtong.documents.models import Document
from zhengtong.exchange import lists

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)
    User.objects.update(otp_exempt=True)


def test_a_distribution_list_fills_the_main_recipients(page, live_server, login, city):
    departments = next(x for x in lists.builtin_lists() if x.name == "市直各部门")
    counties = next(x for x in lists.builtin_lists() if x.name == "各县区人民政府")
    login("bgs.keyuan")
    page.goto(f"{live_server.url}/documents/new/?direction=outgoing")
    box = page.locator("[data-distribution-lists]")
    box.wait_for(state="visible")
    page.select_option("#id_distribution_list", label=f"市直各部门（{len(departments.unit_ids)} 个单位）")
    box.get_by_role("button", name="加入主送").click()
    assert f"{len(departments.unit_ids)} 个单位加入主送" in box.locator(".doc-lists-status").inner_text()
    chosen = page.locator("#picker-main_recipients").input_value().split(",")
    assert sorted(int(i) for i in chosen) == sorted(departments.unit_ids)
    page.select_option("#id_distribution_list", label=f"各县区人民政府（{len(counties.unit_ids)} 个单位）")
    box.get_by_role("button", name="加入抄送").click()
    assert page.locator("#picker-copy_recipients").input_value() != ""
    screenshot(page, "documents-distribution-list-desktop")

    page.fill("#id_title", "示范市人民政府办公室关于做好2027年元旦期间值班工作的通知")
    page.locator(".doc-form [contenteditable]").first.fill("请各单位做好值班工作。")
    page.get_by_role("button", name="保存并继续").click()
    page.wait_for_load_state("networkidle")
    document = Document.objects.get(title="示范市人民政府办公室关于做好2027年元旦期间值班工作的通知")
    main = sorted(document.recipients.filter(kind="main").values_list("unit_id", flat=True))
    assert main == sorted(departments.unit_ids)
    assert sorted(document.recipients.filter(kind="copy").values_list("unit_id", flat=True)) == sorted(counties.unit_ids)
