"""The done-when of issue #6: the demo flow — bgs.keyuan drafts → 核稿 → 审核 → 签发 (fushizhang) → 复核, 编号, 用印,
核发 (bgs.sfy) → jyj.sfy signs, xian1.sfy is urged and refuses — tells the right people on every channel: the
in-app centre, email (aiosmtpd), the office's 企业微信 robot, the education bureau's 钉钉 robot (signed) and the
platform's SMS gateway, all real local endpoints."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from zhengtong.accounts.models import User
from zhengtong.documents.tests.test_api_demo_path import login
from zhengtong.exchange.models import Delivery
from zhengtong.exchange.tests.support import clerk_unit, dispatched
from zhengtong.notify import outbox
from zhengtong.notify.models import Message, Notification
from zhengtong.org.models import Person

from .endpoints import Receiver
from .test_outbox import config

# committed for real: each step's commit queues the worker (Huey runs it at once in tests), as in production
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoints(smtp, monkeypatch):
    monkeypatch.setattr(outbox, "TIMEOUT", 5.0)
    receiver = Receiver()
    yield smtp, receiver
    receiver.close()


def person(username: str) -> Person:
    return User.objects.get(username=username).person


def told(event: str) -> list[str]:
    return sorted(Notification.objects.filter(event=event).values_list("person__user__username", flat=True))


def post(client, path, body=None):
    return client.post(f"/api/v1/exchange/{path}", body or {}, content_type="application/json")


def test_the_demo_flow_tells_the_right_people_on_every_channel(client, endpoints):
    box, receiver = endpoints
    call_command("seed_demo", scale=0.05)
    Notification.objects.all().delete()  # the seeded flows told people already; watch this document only
    people = list(Person.objects.select_related("user").filter(user__isnull=False))
    for p in people:
        p.email, p.mobile = f"{p.user.username}@demo.gov.cn", f"139{p.pk:08d}"
    Person.objects.bulk_update(people, ["email", "mobile"])
    office, education, county = clerk_unit("bgs.keyuan"), clerk_unit("jyj.sfy"), clerk_unit("xian1.sfy")
    config("wecom", f"{receiver.url}/wecom?key=office", unit=office)
    config("dingtalk", f"{receiver.url}/dingtalk?access_token=edu", unit=education, secret="SECedu")
    config("sms", f"{receiver.url}/sms")

    document = dispatched(client, main=[education], copy=[county])
    reviewer = document.instance.trail.get(node_id="dept_review", operation="submit").identity.person.user.username
    # 待办: each step's holder once; bgs.sfy once for 复核 (编号, 用印, 核发 follow on their own desk)
    assert told("todo") == sorted([reviewer, "bgs.zhuren", "fushizhang", "bgs.sfy"])
    assert told("arrived") == ["jyj.sfy", "xian1.sfy"]
    # each 待办 was handled as the flow moved on: none is left unread to mislead its holder
    assert not Notification.objects.filter(event="todo", read_at__isnull=True).exists()

    [entry] = [d for d in Delivery.objects.filter(document=document, unit=education)]
    login(client, "jyj.sfy")
    assert post(client, f"deliveries/{entry.pk}/sign").status_code == 200
    login(client, "bgs.sfy")
    assert post(client, f"dispatches/{document.pk}/urge", {"message": "请今天签收"}).json() == {"urged": 1}
    assert told("urged") == ["xian1.sfy"]
    login(client, "xian1.sfy")
    county_entry = Delivery.objects.get(document=document, unit=county)
    assert post(client, f"deliveries/{county_entry.pk}/refuse", {"reason": "请改送县教育局"}).status_code == 200
    assert told("refused") == ["bgs.sfy"]  # the office's 收发员, who also dispatched it
    refused = Notification.objects.get(event="refused", person=person("bgs.sfy"))
    assert "请改送县教育局" in refused.body and refused.url == f"/documents/{document.pk}/"

    assert outbox.deliver_due() == 0  # nothing left: the worker queued by each commit sent it all
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    # email: every person told, to their own address, with the subject of their notification
    mails = sorted((tuple(to), m["Subject"].strip()) for to, m in box.messages())
    expected = sorted(((f"{n.person.user.username}@demo.gov.cn",), f"【政通】{n.title}")
                      for n in Notification.objects.select_related("person__user") if n.event != "toread")
    assert mails == expected
    # the office's 企业微信 robot: one post @-mentioning exactly the office's people who were told
    office_told = set(Notification.objects.filter(identity__unit=office).values_list("person__mobile", flat=True))
    wecom = [g["body"] for g in receiver.got if g["path"].startswith("/wecom")]
    assert {m for body in wecom for m in body["text"]["mentioned_mobile_list"]} == office_told
    assert any("被退文" in body["text"]["content"] for body in wecom)
    # the education bureau's 钉钉 robot: signed, @-ing jyj.sfy for the arrival
    [ding] = [g for g in receiver.got if g["path"].startswith("/dingtalk")]
    assert ding["query"]["sign"] and ding["body"]["at"]["atMobiles"] == [person("jyj.sfy").mobile]
    assert "来文待签收" in ding["body"]["markdown"]["text"]
    # SMS: the 催办 of xian1.sfy (platform default: 催办 also by SMS)
    [sms] = [g for g in receiver.got if g["path"] == "/sms"]
    assert sms["body"] == {"mobile": person("xian1.sfy").mobile, "content": sms["body"]["content"]}
    assert sms["body"]["content"].startswith("【政通】催签收：") and "请今天签收" in sms["body"]["content"]
