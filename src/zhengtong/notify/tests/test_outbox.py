"""The notification outbox against real local endpoints (issue #6 §3): one event gives one message per channel,
a gateway that fails, drops the connection or times out loses nothing, retries back off and end in a dead letter
that an administrator can send again, a robot gets one digest for a burst and is held to its per-minute limit, a
broken robot stops at once, a worker that died mid-send is recovered by its lease, and a province's own channel
plugs in by a setting."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengtong.accounts.models import AdminRole, AdminRoleGrant
from zhengtong.accounts.tests.factories import UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.notify import channels, outbox, services
from zhengtong.notify.models import ChannelConfig, Event, Message, Notification, Preference
from zhengtong.notify.robots import Result
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty

from .endpoints import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setattr(outbox, "TIMEOUT", 2.0)  # generous: a loaded machine must not turn an answer into a timeout
    r = Receiver(hang=4.0)
    yield r
    r.close()


def people(n: int, unit=None, *, code: str = Duty.CLERK) -> list:
    unit = unit or UnitFactory()
    rows = []
    for i in range(n):
        identity = IdentityFactory(unit=unit, duty=duty(code))
        identity.person.mobile, identity.person.email = f"1380000{i:04d}", f"p{i}@example.gov.cn"
        identity.person.save(update_fields=["mobile", "email"])
        rows.append(identity)
    return rows


def config(kind: str, url: str, *, unit=None, secret: str = "", per_minute: int = 0, options=None) -> ChannelConfig:
    row = ChannelConfig.objects.create(kind=kind, name=f"{kind} 测试", unit=unit, url_blob=b"", per_minute=per_minute,
                                       options=options or {})
    row.url_blob = services.seal_secret(row, "url", url)
    row.secret_blob = services.seal_secret(row, "secret", secret)
    row.save()
    return row


def tell(identities, key: str = "e1", event: str = Event.URGED, **kwargs):
    return services.notify(event, key, identities, title=kwargs.pop("title", "催办：关于做好年终工作的通知"),
                           body=kwargs.pop("body", "请尽快办理。"), url="/tasks/1/", **kwargs)


def statuses() -> dict[str, int]:
    found: dict[str, int] = {}
    for status in Message.objects.values_list("status", flat=True):
        found[status] = found.get(status, 0) + 1
    return found


def test_one_event_never_gives_two_messages_on_a_channel(receiver):
    [someone] = people(1)
    config("sms", f"{receiver.url}/sms")
    assert len(tell([someone])) == 1
    assert tell([someone]) == []  # the same event told again
    assert Notification.objects.count() == 1
    [message] = Message.objects.all()
    assert (message.channel, message.target) == ("sms", someone.person.mobile)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(notification=message.notification, channel="sms", key=message.key)
    assert outbox.deliver_due() == 1 and outbox.deliver_due() == 0
    assert len(receiver.got) == 1


def test_a_failing_gateway_loses_nothing(receiver):
    group = people(20)
    config("sms", f"{receiver.url}/sms", options={"template": {"to": "{mobile}", "text": "{content}"},
                                                 "success_field": "code", "success_value": "0"})
    receiver.script = [500, 503, 429, "drop", "timeout", 502, "drop", 500]
    tell(group)
    start = timezone.now()
    sent = outbox.deliver_due(now=start)
    assert sent == 12  # 8 failures of 20
    waiting = Message.objects.filter(status="pending")
    assert waiting.count() == 8 and set(waiting.values_list("attempts", flat=True)) == {1}
    answers = set(waiting.values_list("answer", flat=True))
    assert any("HTTP 500" in a for a in answers) and any("无法连接" in a for a in answers)
    assert all(m.next_attempt_at >= start + timedelta(seconds=29) for m in waiting)  # backoff, not a hot loop
    assert outbox.deliver_due(now=start + timedelta(seconds=5)) == 0  # not yet due
    assert outbox.deliver_due(now=start + timedelta(minutes=2)) == 8
    assert statuses() == {"sent": 20}
    delivered = {g["body"]["to"] for g in receiver.got if g["answer"] not in ("timeout", "drop") and
                 not isinstance(g["answer"], int)}
    assert delivered == {i.person.mobile for i in group}
    assert all(g["body"]["text"].startswith("【政通】催办：") for g in receiver.got)


def test_dead_letter_after_the_last_attempt_then_resend(receiver, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    [someone] = people(1)
    config("sms", f"{receiver.url}/sms")
    receiver.script = [503] * 3
    tell([someone])
    now = timezone.now()
    for minutes in (0, 10, 30):
        outbox.deliver_due(now=now + timedelta(minutes=minutes))
    [message] = Message.objects.all()
    assert (message.status, message.attempts) == ("dead", 3) and "HTTP 503" in message.answer
    assert Notification.objects.get().read_at is None  # the centre still has it
    admin = UserFactory()
    AdminRoleGrant.objects.create(user=admin, role=AdminRole.SYSTEM)
    assert services.resend(admin, [message.pk]) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.answer) == ("pending", 0, "")
    assert AuditRecord.objects.filter(action="notify.resent", detail__messages=[message.pk]).exists()
    assert outbox.deliver_due() == 1
    assert Message.objects.get().status == "sent"


def test_a_burst_is_one_robot_digest_and_the_robot_keeps_to_its_limit(receiver):
    unit = UnitFactory()
    group = people(30, unit)
    config("wecom", f"{receiver.url}/cgi-bin/webhook/send?key=abc", unit=unit, per_minute=2)
    now = (timezone.now() + timedelta(minutes=1)).replace(second=5, microsecond=0)  # all due, one minute
    for batch in range(3):
        for i, identity in enumerate(group):
            tell([identity], key=f"arrived:{batch}:{i}", event=Event.ARRIVED, title=f"来文待签收：第 {i} 号文件")
        outbox.deliver_due(now=now)
    assert len(receiver.got) == 2  # 90 notifications in three bursts: two posts this minute, the third waits
    first = receiver.got[0]["body"]
    assert first["msgtype"] == "text" and len(first["text"]["mentioned_mobile_list"]) == 30
    assert first["text"]["content"].startswith("您有 30 条新提醒") and "……另有 20 条" in first["text"]["content"]
    held = Message.objects.filter(status="pending")
    assert held.count() == 30 and set(held.values_list("attempts", flat=True)) == {0}  # waiting is no attempt
    outbox.deliver_due(now=now + timedelta(minutes=1))
    assert len(receiver.got) == 3 and statuses() == {"sent": 90}


def test_a_robot_whose_key_is_refused_stops_at_once(receiver):
    unit = UnitFactory()
    a, b = people(2, unit)
    robot = config("dingtalk", f"{receiver.url}/robot/send?access_token=t", unit=unit, secret="SEC1")
    receiver.script = [{"errcode": 310000, "errmsg": "sign not match"}]
    tell([a], key="k1", event=Event.ARRIVED)
    outbox.deliver_due()
    robot.refresh_from_db()
    assert "310000" in robot.broken
    assert Message.objects.get().status == "dead"
    assert AuditRecord.objects.filter(action="notify.channel_broken", object_id=str(robot.pk)).exists()
    tell([b], key="k2", event=Event.ARRIVED)  # nothing more goes to a broken robot
    assert Message.objects.count() == 1 and Notification.objects.count() == 2
    # the administrator fixes it: saving clears the stop
    admin = UserFactory()
    AdminRoleGrant.objects.create(user=admin, role=AdminRole.SYSTEM)
    services.save_channel_config(admin, kind="dingtalk", name="办公室群", unit_id=unit.pk, secret="SEC2", pk=robot.pk)
    robot.refresh_from_db()
    assert robot.broken == "" and services.open_secret(robot, "secret") == "SEC2"
    tell([b], key="k3", event=Event.ARRIVED)
    assert outbox.deliver_due() == 1
    assert receiver.got[-1]["query"]["sign"]  # signed with the new secret


def test_a_worker_that_died_mid_send_is_recovered_by_its_lease(receiver):
    [someone] = people(1)
    config("sms", f"{receiver.url}/sms")
    tell([someone])
    now = timezone.now()
    dead_token, claimed = outbox.claim(10, now)  # the worker claims, then dies before sending
    assert len(claimed) == 1
    assert outbox.deliver_due(now=now + timedelta(seconds=30)) == 0  # leased: not sent twice meanwhile
    assert outbox.deliver_due(now=now + outbox.LEASE + timedelta(seconds=1)) == 1
    # the first worker waking up cannot overwrite the outcome: its token is gone
    outbox._record(dead_token, claimed, Result(False, answer="late"), now)
    assert Message.objects.get().status == "sent" and len(receiver.got) == 1


def test_a_message_read_in_the_centre_before_its_digest_is_not_sent(smtp):
    [someone] = people(1)
    Preference.objects.create(person=someone.person, digest=True)
    [row] = tell([someone], event=Event.TODO)
    message = Message.objects.get(channel="email")
    assert message.digest and message.next_attempt_at > timezone.now()
    services.mark_read(someone.person.user, [row.pk])
    assert outbox.deliver_due(now=message.next_attempt_at) == 0
    message.refresh_from_db()
    assert message.status == "cancelled" and smtp.envelopes == []


def test_email_reaches_the_person_and_a_refused_address_is_dead_at_once(smtp):
    good, bad = people(2)
    bad.person.email = "nobody@example.gov.cn"
    bad.person.save(update_fields=["email"])
    tell([good, bad], event=Event.TODO, title="待办：关于做好年终工作的通知")
    outbox.deliver_due()
    [(to, mail)] = smtp.messages()
    # Django folds a long encoded subject right after "Subject:"; mail clients drop the space unfolding leaves
    assert to == [good.person.email] and mail["Subject"].strip() == "【政通】待办：关于做好年终工作的通知"
    assert "/tasks/1/" in mail.get_body(("plain",)).get_content()
    dead = Message.objects.get(target=bad.person.email)
    assert dead.status == "dead" and dead.attempts == 1


class Fax:
    """A province's own channel, plugged in by NOTIFY_CHANNEL_PLUGINS."""

    label = "政务传真"
    group_by = "target"
    needs_config = False
    sent: list = []

    def send(self, out):
        Fax.sent.append((out.target, out.title))
        return Result(True, answer="fax queued")


def test_a_plugin_channel_from_the_settings(settings):
    settings.NOTIFY_CHANNEL_PLUGINS = [f"fax={__name__}.Fax"]
    channels.registry.cache_clear()
    try:
        assert channels.labels()["fax"] == "政务传真"
        [someone] = people(1)
        Preference.objects.create(person=someone.person, channels={Event.URGED: ["fax"]})
        Fax.sent = []
        tell([someone])
        assert outbox.deliver_due() == 1
        assert Fax.sent == [(someone.person.mobile, "催办：关于做好年终工作的通知")]
        assert Message.objects.get().answer == "fax queued"
    finally:
        settings.NOTIFY_CHANNEL_PLUGINS = []
        channels.registry.cache_clear()


# --- found in review ------------------------------------------------------------------------------------------

def test_a_round_sends_no_more_than_it_can_finish_within_its_lease(receiver, monkeypatch):
    """No send starts after the round's send window (so every send ends within the lease, and no other worker
    re-claims and sends again a row being sent); rows claimed but not sent are released at once."""
    monkeypatch.setattr(outbox, "THREADS", 2)
    monkeypatch.setattr(outbox, "send_window", lambda: 0)  # the window closes at once: only the first sends start
    config("sms", f"{receiver.url}/sms")
    tell(people(5))
    sent, more = outbox._deliver_round(200)
    assert (sent, more) == (2, True)
    waiting = Message.objects.filter(status="pending")
    assert waiting.count() == 3 and set(waiting.values_list("claim", flat=True)) == {""}
    assert all(m.next_attempt_at <= timezone.now() for m in waiting)
    assert outbox.deliver_due() == 3
    mobiles = [g["body"]["mobile"] for g in receiver.got]
    assert len(mobiles) == 5 and len(set(mobiles)) == 5  # each once


def test_each_message_counts_its_own_attempts_in_a_digest(receiver, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 8
    unit = UnitFactory()
    a, b = people(2, unit)
    config("wecom", f"{receiver.url}/wecom?key=k", unit=unit)
    tell([a], key="old", event=Event.ARRIVED)
    Message.objects.update(attempts=7)
    tell([b], key="new", event=Event.ARRIVED)
    receiver.script = [503]
    outbox.deliver_due()
    assert len(receiver.got) == 1  # one digest of both
    old, new = Message.objects.get(notification__key="old"), Message.objects.get(notification__key="new")
    assert (old.status, old.attempts) == ("dead", 8)
    assert (new.status, new.attempts) == ("pending", 1)


def test_a_robot_switched_off_gets_nothing_more(receiver):
    unit = UnitFactory()
    [someone] = people(1, unit)
    robot = config("wecom", f"{receiver.url}/wecom?key=k", unit=unit)
    tell([someone], event=Event.ARRIVED)
    ChannelConfig.objects.filter(pk=robot.pk).update(active=False)
    assert outbox.deliver_due() == 0
    message = Message.objects.get()
    assert (message.status, message.answer) == ("dead", "通道已停用，未发送") and receiver.got == []


def test_a_post_no_longer_held_is_not_told():
    old_post, current = people(2)
    old_post.active = False
    old_post.save(update_fields=["active"])
    assert [n.person_id for n in tell([old_post, current])] == [current.person_id]


def test_a_shared_mailbox_gets_each_persons_message_separately(smtp):
    a, b = people(2)
    for p in (a.person, b.person):
        p.email = "office@example.gov.cn"
        p.save(update_fields=["email"])
    tell([a], key="a1", event=Event.TODO, title="待办：甲")
    tell([b], key="b1", event=Event.TODO, title="待办：乙")
    assert outbox.deliver_due() == 2
    assert sorted(m["Subject"].strip() for _, m in smtp.messages()) == ["【政通】待办：乙", "【政通】待办：甲"]


def test_a_cache_that_is_down_never_undoes_the_event(monkeypatch):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "delete_many", down)
    [someone] = people(1)
    assert len(tell([someone])) == 1
    assert Notification.objects.filter(person=someone.person).exists()


def test_ids_out_of_range_are_refused_not_a_500():
    [someone] = people(1)
    with pytest.raises(services.ServiceError) as exc:
        services.mark_read(someone.person.user, ["99999999999999999999"])
    assert exc.value.code == "notify.invalid_id"
    with pytest.raises(services.NotFound):
        services.open_notification(someone.person.user, "99999999999999999999")
