"""The verification page in a real browser (desktop and phone width): upload a sealed PDF → 有效 with the seal, the
unit and the times; a tampered copy → 无效 with the problems in Chinese."""
from __future__ import annotations

import pytest

from tests.support import screenshot
from zhengtong.accounts.models import User

from .conftest import seal_it

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_r7_4_verification_page(page, phone_page, live_server, login, world, tmp_path):
    sealed = seal_it(world)
    good, bad = tmp_path / "示财发〔2026〕3号.pdf", tmp_path / "tampered.pdf"
    good.write_bytes(sealed)
    tampered = bytearray(sealed)
    tampered[len(sealed) // 2] ^= 0x04
    bad.write_bytes(bytes(tampered))
    User.objects.update(otp_exempt=True)
    username = world["admin"].person.user.username

    login(username)
    page.goto(f"{live_server.url}/seals/verify/")
    page.set_input_files("#seal-file", str(good))
    page.get_by_role("button", name="验证").click()
    card = page.locator(".verify-card")
    assert "✔ 有效" in card.inner_text() and "示范市财政局" in card.inner_text()
    assert "本平台签发" in card.inner_text() and "时间戳" in card.inner_text()
    screenshot(page, "seal-verify")
    page.set_input_files("#seal-file", str(bad))
    page.get_by_role("button", name="验证").click()
    assert "✘ 无效" in page.locator(".verify-card").inner_text()
    assert page.locator(".seal-problems li").count() >= 1
    screenshot(page, "seal-verify-invalid")

    login(username, target=phone_page)
    phone_page.goto(f"{live_server.url}/seals/verify/")
    phone_page.set_input_files("#seal-file", str(good))
    phone_page.get_by_role("button", name="验证").click()
    assert "✔ 有效" in phone_page.locator(".verify-card").inner_text()
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    screenshot(phone_page, "seal-verify-phone")


def test_seal_register_and_holders_pages(page, phone_page, live_server, login, world):
    seal_it(world)
    User.objects.update(otp_exempt=True)
    login(world["secadmin"].username)
    page.goto(f"{live_server.url}/console/secadmin/seals/")
    assert page.locator(".seal-thumb").count() == 1 and page.locator(".seal-thumb").evaluate("i => i.naturalWidth") > 0
    screenshot(page, "seal-register")
    page.context.clear_cookies()
    login(world["admin"].person.user.username)
    page.goto(f"{live_server.url}/seals/holders/")
    assert page.locator("input[name=holders]:checked").count() == 1
    screenshot(page, "seal-holders")
    login(world["secadmin"].username, target=phone_page)
    for path, shot in (("/seals/verify/", ""), ("/console/secadmin/seals/", "seal-register-phone")):
        phone_page.goto(f"{live_server.url}{path}")
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at phone width ({width}px)"
        if shot:
            screenshot(phone_page, shot)
