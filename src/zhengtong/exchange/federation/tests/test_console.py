"""交换运维 (issue #5 §2): the 系统管理员 sees each neighbour's queue and health, dead-lettered and stuck envelopes,
and envelopes refused on arrival, and can put a dead receipt back in the queue; a document of ours is resent by
its sender instead; nobody else may see the page."""
from __future__ import annotations

import pytest
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord

from .. import outbox
from ..models import Envelope
from .support import build_world, document_envelope, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def admin_client(client):
    admin = AdminRoleGrantFactory(role=AdminRole.SYSTEM, user=UserFactory(username="sys1", otp_exempt=True)).user
    client.force_login(admin)
    return client


def test_the_console_shows_queues_health_failures_and_refusals(client, admin_client, world):
    _, body = document_envelope(world.neighbour_key)
    post(client, body, world.neighbour_key)  # accepted: an arrival receipt waits in the outbox
    tampered = bytearray(body)
    tampered[-50] ^= 1
    post(client, bytes(tampered), world.neighbour_key)
    outbox.pack_receipts()  # the worker's first step: the arrival receipt sealed into an envelope
    receipt = Envelope.objects.get(direction="out", kind="receipt")
    Envelope.objects.filter(pk=receipt.pk).update(status="dead", attempts=12, last_error="HTTP 502",
                                                  next_attempt_at=None)
    page = admin_client.get("/console/sysadmin/exchange/")
    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("交换运维", "测试市平台", "测试省平台", "邻县平台", "经由 测试省平台", "HTTP 502", "重新发送",
                  "exchange.envelope_tampered", "发送失败（1）", "签名算法 ECDSA P-256"):
        assert shown in text, shown

    resent = admin_client.post(f"/console/sysadmin/exchange/{receipt.pk}/resend/", follow=True)
    assert "已重新排队发送" in resent.content.decode()
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == ("pending", 0) and receipt.next_attempt_at <= timezone.now()
    assert AuditRecord.objects.filter(action="exchange.envelope_resent").count() == 1
    again = admin_client.post(f"/console/sysadmin/exchange/{receipt.pk}/resend/", follow=True)
    assert "只有发送失败的交换包可以重新发送" in again.content.decode()


def test_only_the_system_administrator_sees_it(client, world):
    client.force_login(world.clerk)
    assert client.get("/console/sysadmin/exchange/").status_code == 403
    assert client.post("/console/sysadmin/exchange/1/resend/").status_code == 403
