"""交换运维 in Chromium (issue #5 §2): the 系统管理员 reads the neighbours' health, a dead letter and a refusal, puts
the dead receipt back in the queue, and the page fits a phone."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.support import screenshot
from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory

from .. import outbox
from ..models import Envelope, RemoteInstance
from .support import build_world, document_envelope, post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_state():
    world = build_world()
    client = Client()
    post(client, document_envelope(world.neighbour_key)[1], world.neighbour_key)
    tampered = bytearray(document_envelope(world.neighbour_key)[1])
    tampered[-20] ^= 1
    post(client, bytes(tampered), world.neighbour_key)
    now = timezone.now()
    RemoteInstance.objects.filter(pk=world.neighbour.pk).update(
        last_success_at=now - timedelta(minutes=3), last_failure_at=now - timedelta(minutes=1), failures=2,
        last_error="无法连接：ConnectionRefusedError")
    outbox.pack_receipts()  # the worker's first step: the arrival receipt sealed into an envelope
    receipt = Envelope.objects.get(direction="out", kind="receipt")
    Envelope.objects.filter(pk=receipt.pk).update(status="dead", attempts=12, next_attempt_at=None,
                                                  last_error="HTTP 502 Bad Gateway")
    user = UserFactory(username="sysadmin.test", otp_exempt=True)
    AdminRoleGrantFactory(user=user, role=AdminRole.SYSTEM)
    return user


def login(target, live_server, username):
    target.goto(f"{live_server.url}/accounts/login/")
    target.fill("input[name=username]", username)
    target.fill("input[name=password]", "Demo@2026")
    target.click("button[type=submit]")
    target.wait_for_load_state("networkidle")


def test_the_sysadmin_reads_the_console_and_resends_a_dead_receipt(page, live_server, console_state):
    login(page, live_server, console_state.username)
    page.goto(f"{live_server.url}/console/sysadmin/exchange/")
    peers = page.locator("section[aria-labelledby=h-peers]").inner_text()
    assert "测试省平台" in peers and "异常" in peers and "连续失败 2 次" in peers and "经由 测试省平台" in peers
    assert "HTTP 502 Bad Gateway" in page.locator("section[aria-labelledby=h-dead]").inner_text()
    assert "exchange.envelope_tampered" in page.locator("section[aria-labelledby=h-refused]").inner_text()
    screenshot(page, "exchange-console-desktop")
    page.click("section[aria-labelledby=h-dead] button:has-text('重新发送')")
    page.wait_for_load_state("networkidle")
    assert "已重新排队发送" in page.locator(".messages").inner_text()
    assert "没有发送失败的交换包" in page.locator("section[aria-labelledby=h-dead]").inner_text()


def test_the_console_fits_a_phone(phone_page, live_server, console_state):
    login(phone_page, live_server, console_state.username)
    phone_page.goto(f"{live_server.url}/console/sysadmin/exchange/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone_page, "exchange-console-phone")
