"""Scheduled reminders and the timing rules of the notifications (issue #6 §2, §3) with a frozen clock
(time-machine, not freezegun: Huey reads `utcnow` through a reference taken at import time).

- 签收 reminders at NOTIFY_SIGN_REMINDER_TIMES on working days (R8.1: weekends, holidays and 调休 Saturdays as the
  State Council arranges them), once per slot, a missed slot caught up once;
- 超时未签收 after EXCHANGE_SIGN_LIMIT_HOURS working hours, once, to the sending side;
- the weekly 红牌 summary to the leaders, once per ISO week, on Mondays only;
- AB岗 start and end notices;
- the nightly 黄牌 / 红牌 scan, its messages held until the office opens;
- quiet hours, the daily digest, unit defaults and the person's own choice, and the outbox grouping a digest into
  one email on a real SMTP server.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from zhengtong.core.calendar import CalendarDataMissing
from zhengtong.documents.models import Dispatch, Document
from zhengtong.exchange.models import Delivery
from zhengtong.flow.models import Task
from zhengtong.flow.runtime import refresh_deadline_statuses
from zhengtong.flow.tests.test_runtime import make_office, start
from zhengtong.notify import outbox, reminders, services, tasks
from zhengtong.notify.models import ChannelConfig, Event, Message, Notification, Preference, ReminderRun
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DelegationFactory, IdentityFactory, UnitFactory, duty

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    """A local (Asia/Shanghai) wall-clock time as an aware datetime."""
    return timezone.make_aware(datetime.fromisoformat(text), timezone.get_default_timezone())


def frozen(text: str):
    return time_machine.travel(at(text), tick=False)


def notes(event: str, **filters) -> list[Notification]:
    return list(Notification.objects.filter(event=event, **filters).order_by("person_id", "pk"))


# --- a small exchange: 办公室 sends to 教育局 and 财政局 --------------------------------------------------------------


class Exchange:
    """The 市政府办公室 (a 收发员 and a 科员 who dispatches), 教育局 (two 收发员), 财政局 (one, with a mobile),
    卫健委 (a 收发员, nothing waiting) and a 局长 of 教育局 (no reminders for leaders)."""

    def __init__(self):
        self.office = UnitFactory(name="示范市人民政府办公室")
        self.education = UnitFactory(name="示范市教育局")
        self.finance = UnitFactory(name="示范市财政局")
        self.health = UnitFactory(name="示范市卫生健康委员会")
        clerk = duty(Duty.DOC_CLERK)
        self.office_clerk = IdentityFactory(unit=self.office, duty=clerk, person__email="bgs.sfy@shifan.gov.example")
        self.dispatcher = IdentityFactory(unit=self.office, duty=duty(Duty.CLERK),
                                          person__email="bgs.keyuan@shifan.gov.example")
        self.edu_clerks = [IdentityFactory(unit=self.education, duty=clerk) for _ in range(2)]
        self.edu_head = IdentityFactory(unit=self.education, duty=duty(Duty.PRINCIPAL))
        self.fin_clerk = IdentityFactory(unit=self.finance, duty=clerk, person__mobile="13800000001")
        self.health_clerk = IdentityFactory(unit=self.health, duty=clerk)

    def deliver(self, unit, delivered: str, *, status: str = Delivery.Status.PENDING, title="关于测试的通知"):
        document = Document.objects.create(direction="outgoing", doc_kind="通知", unit=self.office,
                                           drafter=self.dispatcher, title=title, status="dispatched")
        dispatch = Dispatch.objects.create(document=document, unit=unit, kind="main", dispatched_by=self.dispatcher,
                                           dispatched_at=at(delivered))
        signed = {"signed_at": at(delivered) + timedelta(minutes=5)} if status == Delivery.Status.SIGNED else {}
        return Delivery.objects.create(dispatch=dispatch, document=document, sender_unit=self.office, unit=unit,
                                       kind="main", status=status, delivered_at=at(delivered), **signed)


@pytest.fixture
def exchange():
    x = Exchange()
    x.deliver(x.education, "2026-11-23 16:00")
    x.deliver(x.education, "2026-11-24 08:40")
    x.deliver(x.finance, "2026-11-23 10:15")
    x.deliver(x.health, "2026-11-23 10:15", status=Delivery.Status.SIGNED)  # signed: nothing waits in 卫健委
    return x


# --- 签收 reminders ----------------------------------------------------------------------------------------------


def told_key(unit, hhmm: str, day: str = "2026-11-24") -> str:
    return f"sign:{day} {hhmm}:{unit.pk}"


def test_sign_reminders_at_the_configured_times_once_per_slot(exchange):
    """Tue 24 Nov 2026 (a working day): nothing before 09:00; at 09:00 each 收发员 of a unit with documents
    waiting is told how many; 09:05 is the same slot; 11:00 is the next one."""
    x = exchange
    # a 企业微信 robot for 教育局 and a platform SMS gateway: the reminder's default channels (robots, SMS)
    robot = ChannelConfig.objects.create(kind="wecom", name="教育局收发群", unit=x.education, url_blob=b"sealed")
    sms = ChannelConfig.objects.create(kind="sms", name="短信网关", unit=None, url_blob=b"sealed")

    assert reminders.send_sign_reminders(at("2026-11-24 08:59")) == 0
    assert not Notification.objects.exists() and not ReminderRun.objects.exists()

    assert reminders.send_sign_reminders(at("2026-11-24 09:00")) == 3
    told = notes(Event.SIGN_REMINDER)
    assert {n.person_id for n in told} == {i.person_id for i in [*x.edu_clerks, x.fin_clerk]}
    assert x.edu_head.person_id not in {n.person_id for n in told}
    assert x.health_clerk.person_id not in {n.person_id for n in told}
    by_person = {n.person_id: n for n in told}
    edu = by_person[x.edu_clerks[0].person_id]
    assert edu.key == f"sign:2026-11-24 09:00:{x.education.pk}"
    assert edu.identity_id == x.edu_clerks[0].pk and edu.url == reverse("exchange:inbox")
    assert edu.title == "签收提醒：交换箱有 2 件来文待签收"
    assert "最早一件 11月23日 16:00 送达" in edu.body  # local time
    assert edu.created_at == at("2026-11-24 09:00") and not edu.urgent
    fin = by_person[x.fin_clerk.person_id]
    assert (fin.key, fin.title) == (f"sign:2026-11-24 09:00:{x.finance.pk}", "签收提醒：交换箱有 1 件来文待签收")
    # the outbox: 教育局's robot for its two clerks, the platform SMS gateway for the clerk with a mobile
    messages = sorted(Message.objects.values_list("notification__person_id", "channel", "config_id", "target", "key",
                                                  "next_attempt_at", "digest"))
    assert messages == sorted([
        (x.edu_clerks[0].person_id, "wecom", robot.pk, "", f"{told_key(x.education, '09:00')}:wecom:"
         f"{x.edu_clerks[0].person_id}", at("2026-11-24 09:00"), False),
        (x.edu_clerks[1].person_id, "wecom", robot.pk, "", f"{told_key(x.education, '09:00')}:wecom:"
         f"{x.edu_clerks[1].person_id}", at("2026-11-24 09:00"), False),
        (x.fin_clerk.person_id, "sms", sms.pk, "13800000001", f"{told_key(x.finance, '09:00')}:sms:"
         f"{x.fin_clerk.person_id}", at("2026-11-24 09:00"), False),
    ])
    run = ReminderRun.objects.get()
    assert (run.name, run.slot, run.sent) == ("sign", "2026-11-24 09:00", 3)

    assert reminders.send_sign_reminders(at("2026-11-24 09:05")) == 0  # the 09:00 slot ran
    assert reminders.send_sign_reminders(at("2026-11-24 10:59")) == 0
    assert Notification.objects.count() == 3 and Message.objects.count() == 3

    assert reminders.send_sign_reminders(at("2026-11-24 11:00")) == 3
    assert sorted(n.key for n in notes(Event.SIGN_REMINDER, created_at=at("2026-11-24 11:00"))) == sorted(
        [told_key(x.education, "11:00")] * 2 + [told_key(x.finance, "11:00")])
    assert list(ReminderRun.objects.order_by("slot").values_list("slot", flat=True)) == [
        "2026-11-24 09:00", "2026-11-24 11:00"]


def test_a_signed_or_refused_delivery_is_no_longer_reminded(exchange):
    x = exchange
    Delivery.objects.filter(unit=x.finance).update(status=Delivery.Status.REFUSED)
    assert reminders.send_sign_reminders(at("2026-11-24 09:00")) == 2
    assert {n.person_id for n in notes(Event.SIGN_REMINDER)} == {i.person_id for i in x.edu_clerks}


@pytest.mark.parametrize("day", ["2026-11-28", "2026-11-29", "2026-10-01", "2026-10-07"],
                         ids=["Saturday", "Sunday", "National Day", "last day of the 国庆 holiday"])
def test_no_sign_reminders_on_weekends_and_holidays(exchange, day):
    """R8.1: the State Council's arrangement decides the working days."""
    for hhmm in ("09:00", "11:00", "14:30", "16:30", "18:00"):
        assert reminders.send_sign_reminders(at(f"{day} {hhmm}")) == 0
    assert not Notification.objects.exists() and not ReminderRun.objects.exists()


def test_sign_reminders_on_a_makeup_working_saturday(exchange):
    """R8.1: Sat 10 Oct 2026 is a 调休 working day: the 收发员 are reminded."""
    x = exchange
    assert reminders.send_sign_reminders(at("2026-10-10 09:00")) == 3
    assert {n.key for n in notes(Event.SIGN_REMINDER)} == {told_key(x.education, "09:00", "2026-10-10"),
                                                             told_key(x.finance, "09:00", "2026-10-10")}


def test_no_silent_weekday_guess_in_a_year_without_holiday_data(exchange):
    """R8.2: a year without holiday data is an error administrators see, never a silent weekends-only guess.
    Fri 1 Jan 2027 is 元旦; the built-in data ends with 2026 and nobody entered 2027."""
    with pytest.raises(CalendarDataMissing):
        sent = reminders.send_sign_reminders(at("2027-01-01 09:00"))
        assert sent == 0, f"{sent} 收发员 reminded on 元旦 by a weekday guess"


def test_missed_slots_are_caught_up_once_with_the_latest_only(exchange):
    """The worker was down at 09:00 and 11:00 and comes back at 11:30: one reminder (the 11:00 slot), not two."""
    x = exchange
    assert reminders.send_sign_reminders(at("2026-11-24 11:30")) == 3
    assert list(ReminderRun.objects.values_list("slot", flat=True)) == ["2026-11-24 11:00"]
    assert sorted(n.key for n in notes(Event.SIGN_REMINDER)) == sorted(
        [told_key(x.education, "11:00")] * 2 + [told_key(x.finance, "11:00")])
    assert Notification.objects.filter(person=x.edu_clerks[0].person).count() == 1
    assert reminders.send_sign_reminders(at("2026-11-24 11:45")) == 0
    assert reminders.send_sign_reminders(at("2026-11-24 14:30")) == 3
    assert Notification.objects.filter(person=x.edu_clerks[0].person).count() == 2


def test_the_periodic_task_uses_the_local_clock(exchange):
    """`tasks.sign_reminders` runs every minute and reads the clock itself: 09:00 in Beijing is 01:00 UTC."""
    with frozen("2026-11-24 08:59"):
        assert tasks.sign_reminders.call_local() == 0
    with frozen("2026-11-24 09:00"):
        assert tasks.sign_reminders.call_local() == 3
    with frozen("2026-11-24 09:01"):
        assert tasks.sign_reminders.call_local() == 0
    assert list(ReminderRun.objects.values_list("slot", flat=True)) == ["2026-11-24 09:00"]
    assert set(Notification.objects.values_list("created_at", flat=True)) == {at("2026-11-24 09:00")}


# --- 超时未签收 ------------------------------------------------------------------------------------------------


def test_unsigned_after_four_working_hours_is_told_to_the_sending_side_once(exchange, settings):
    """Delivered Tue 09:00: 09:00–12:00 and 14:00–15:00 are the 4 working hours, so 15:00 (not 13:00)."""
    settings.NOTIFY_EMAIL_ENABLED = True
    x = exchange
    Delivery.objects.all().delete()
    late = x.deliver(x.education, "2026-11-24 09:00", title="关于冬季校园安全的通知")
    x.deliver(x.finance, "2026-11-24 09:00", status=Delivery.Status.SIGNED)

    assert reminders.send_unsigned_alerts(at("2026-11-24 13:00")) == 0  # 4 h on the wall clock, 3 working
    assert reminders.send_unsigned_alerts(at("2026-11-24 14:59")) == 0
    assert not Notification.objects.exists()

    assert reminders.send_unsigned_alerts(at("2026-11-24 15:00")) == 1
    told = notes(Event.UNSIGNED)
    assert {n.person_id for n in told} == {x.office_clerk.person_id, x.dispatcher.person_id}
    assert {n.key for n in told} == {f"unsigned:{late.pk}"}
    assert told[0].title == "超时未签收：关于冬季校园安全的通知"
    assert "示范市教育局收到《关于冬季校园安全的通知》已超过 4 个工作小时仍未签收" in told[0].body
    assert told[0].url == reverse("documents:detail", args=[late.document_id])
    # the receiving side is not told (it has the 签收 reminders)
    assert not Notification.objects.filter(person_id__in=[i.person_id for i in x.edu_clerks]).exists()
    # email to both (their addresses), at once
    assert sorted(Message.objects.values_list("channel", "target", "key", "next_attempt_at")) == sorted([
        ("email", "bgs.sfy@shifan.gov.example", f"unsigned:{late.pk}:email:{x.office_clerk.person_id}",
         at("2026-11-24 15:00")),
        ("email", "bgs.keyuan@shifan.gov.example", f"unsigned:{late.pk}:email:{x.dispatcher.person_id}",
         at("2026-11-24 15:00")),
    ])

    assert reminders.send_unsigned_alerts(at("2026-11-24 15:10")) == 0
    assert reminders.send_unsigned_alerts(at("2026-11-25 09:00")) == 0
    assert Notification.objects.count() == 2 and Message.objects.count() == 2


def test_unsigned_hours_skip_the_weekend(exchange):
    """R8.1: delivered Fri 27 Nov 16:00 → 1.5 h that day, 2.5 h on Monday: late at Mon 11:00, not over the weekend
    (three days on the wall clock)."""
    x = exchange
    Delivery.objects.all().delete()
    late = x.deliver(x.education, "2026-11-27 16:00")
    for when in ("2026-11-28 16:00", "2026-11-29 23:00", "2026-11-30 10:59"):
        assert reminders.send_unsigned_alerts(at(when)) == 0, when
    assert reminders.send_unsigned_alerts(at("2026-11-30 11:00")) == 1
    assert {n.key for n in notes(Event.UNSIGNED)} == {f"unsigned:{late.pk}"}


def test_a_delivery_signed_in_time_is_never_reported(exchange):
    x = exchange
    Delivery.objects.all().delete()
    d = x.deliver(x.education, "2026-11-24 09:00")
    Delivery.objects.filter(pk=d.pk).update(status=Delivery.Status.SIGNED, signed_at=at("2026-11-24 14:50"))
    assert reminders.send_unsigned_alerts(at("2026-11-24 15:00")) == 0
    assert not Notification.objects.exists()


# --- the weekly 红牌 summary --------------------------------------------------------------------------------------


@pytest.fixture
def overdue():
    """An office with one 红牌 draft, one 黄牌 draft; a second office with nothing overdue."""
    o = make_office()
    other = make_office()
    red = Task.objects.get(instance=start(o), status="open")
    Task.objects.filter(pk=red.pk).update(deadline=date(2026, 11, 20), deadline_status="red")
    yellow = Task.objects.get(instance=start(o), status="open")
    Task.objects.filter(pk=yellow.pk).update(deadline=date(2026, 12, 1), deadline_status="yellow")
    start(other)
    Notification.objects.all().delete()
    return o, other, red


def test_weekly_summary_goes_to_the_leaders_once_per_iso_week(overdue, settings):
    settings.NOTIFY_EMAIL_ENABLED = True
    o, other, red = overdue
    o.principal.person.email = "juzhang@shifan.gov.example"
    o.principal.person.save()

    assert reminders.send_weekly_overdue_summary(at("2026-11-30 08:30")) == 2  # Monday of week 49
    told = notes(Event.OVERDUE_SUMMARY)
    assert {n.person_id for n in told} == {o.principal.person_id, o.deputy.person_id}
    assert {n.key for n in told} == {f"overdue:2026-W49:{o.unit.pk}"}
    assert told[0].title == "本单位超期未办 1 件（2026 年第 49 周）"
    assert told[0].body == f"1. 《关于做好年终工作的通知》起草，{o.drafter.person.name}，时限 11月20日"
    assert not Notification.objects.filter(person_id__in=[other.principal.person_id, other.deputy.person_id,
                                                          o.drafter.person_id, o.doc_clerk.person_id]).exists()
    [mail] = Message.objects.all()  # the leader with an email address
    assert (mail.channel, mail.target, mail.next_attempt_at) == ("email", "juzhang@shifan.gov.example",
                                                                 at("2026-11-30 08:30"))
    assert ReminderRun.objects.get().slot == "2026-W49"

    assert reminders.send_weekly_overdue_summary(at("2026-11-30 08:31")) == 0
    assert reminders.send_weekly_overdue_summary(at("2026-12-06 23:59")) == 0  # Sunday: still week 49
    assert Notification.objects.count() == 2

    assert reminders.send_weekly_overdue_summary(at("2026-12-07 08:30")) == 2  # the next week, still overdue
    assert {n.key for n in notes(Event.OVERDUE_SUMMARY)} == {f"overdue:2026-W49:{o.unit.pk}",
                                                             f"overdue:2026-W50:{o.unit.pk}"}


def test_the_weekly_task_acts_on_mondays_only(overdue):
    o, _, _ = overdue
    with frozen("2026-12-01 08:30"):  # Tuesday
        assert tasks.weekly_overdue_summary.call_local() == 0
    assert not ReminderRun.objects.exists() and not Notification.objects.exists()
    with frozen("2026-11-30 08:30"):  # Monday (00:30 UTC, still Monday)
        assert tasks.weekly_overdue_summary.call_local() == 2
    assert {n.person_id for n in notes(Event.OVERDUE_SUMMARY)} == {o.principal.person_id, o.deputy.person_id}
    assert set(Notification.objects.values_list("created_at", flat=True)) == {at("2026-11-30 08:30")}
    with frozen("2026-11-30 08:30"):
        assert tasks.weekly_overdue_summary.call_local() == 0


# --- AB岗 ----------------------------------------------------------------------------------------------------


def test_delegation_start_and_end_are_told_to_both_once(settings):
    settings.NOTIFY_EMAIL_ENABLED = True
    unit = UnitFactory()
    principal = IdentityFactory(unit=unit, duty=duty(Duty.DEPUTY), person__name="王副局长",
                                person__email="wang@shifan.gov.example")
    delegate = IdentityFactory(unit=unit, duty=duty(Duty.DEPT_HEAD), person__name="李科长")
    with frozen("2026-11-24 08:50"):  # set up ten minutes before it starts
        d = DelegationFactory(principal=principal, delegate=delegate, starts_at=at("2026-11-24 09:00"),
                              ends_at=at("2026-11-26 17:30"), reason="出差")

    assert reminders.send_delegation_notices(at("2026-11-24 08:55")) == 0  # not started yet
    assert reminders.send_delegation_notices(at("2026-11-24 09:00")) == 2
    assert reminders.send_delegation_notices(at("2026-11-24 09:05")) == 0  # the windows overlap: told once
    started = notes(Event.DELEGATION)
    assert {n.person_id for n in started} == {principal.person_id, delegate.person_id}
    assert {n.key for n in started} == {f"delegation:{d.pk}:start"}
    assert started[0].title == "AB岗代理开始：李科长代王副局长办理"
    assert "至 11月26日 17:30" in started[0].body and "出差" in started[0].body
    assert list(Message.objects.values_list("target", flat=True)) == ["wang@shifan.gov.example"]

    assert reminders.send_delegation_notices(at("2026-11-26 17:29")) == 0
    assert reminders.send_delegation_notices(at("2026-11-26 17:35")) == 2
    assert reminders.send_delegation_notices(at("2026-11-26 17:40")) == 0
    ended = notes(Event.DELEGATION, key=f"delegation:{d.pk}:end")
    assert {n.person_id for n in ended} == {principal.person_id, delegate.person_id}
    assert ended[0].title == "AB岗代理结束：王副局长的待办回到本人"


def test_a_delegation_set_up_days_ahead_is_told_when_it_starts_and_a_revoked_one_ends():
    unit = UnitFactory()
    principal = IdentityFactory(unit=unit, duty=duty(Duty.PRINCIPAL))
    delegate = IdentityFactory(unit=unit, duty=duty(Duty.DEPUTY))
    with frozen("2026-11-20 10:00"):
        d = DelegationFactory(principal=principal, delegate=delegate, starts_at=at("2026-11-24 09:00"),
                              ends_at=at("2026-11-27 17:30"))
    assert reminders.send_delegation_notices(at("2026-11-24 08:55")) == 0  # not yet
    assert reminders.send_delegation_notices(at("2026-11-24 09:05")) == 2
    assert reminders.send_delegation_notices(at("2026-11-24 09:10")) == 0
    d.revoked_at = at("2026-11-25 10:00")
    d.save()
    assert reminders.send_delegation_notices(at("2026-11-25 10:05")) == 2
    assert reminders.send_delegation_notices(at("2026-11-25 10:10")) == 0
    assert sorted(Notification.objects.values_list("key", "person_id")) == sorted(
        (f"delegation:{d.pk}:{kind}", i.person_id) for kind in ("start", "end") for i in (principal, delegate))


# --- 黄牌 / 红牌 -----------------------------------------------------------------------------------------------


def test_nightly_deadline_scan_tells_the_holder_and_holds_messages_until_the_office_opens(settings):
    settings.NOTIFY_EMAIL_ENABLED = True
    o = make_office()
    o.drafter.person.email = "keyuan@shifan.gov.example"
    o.drafter.person.save()
    red = Task.objects.get(instance=start(o), status="open")
    yellow = Task.objects.get(instance=start(o), status="open")
    Task.objects.filter(pk=red.pk).update(deadline=date(2026, 11, 23))  # Monday: overdue on Tuesday
    Task.objects.filter(pk=yellow.pk).update(deadline=date(2026, 11, 24))  # due today
    Notification.objects.all().delete()

    with frozen("2026-11-24 00:05"):
        assert refresh_deadline_statuses(date(2026, 11, 24)) >= 2
    assert dict(Task.objects.filter(pk__in=[red.pk, yellow.pk]).values_list("pk", "deadline_status")) == {
        red.pk: "red", yellow.pk: "yellow"}
    by_key = {n.key: n for n in notes(Event.DEADLINE)}
    red_key, yellow_key = f"deadline:{red.pk}:red:{o.drafter.pk}", f"deadline:{yellow.pk}:yellow:{o.drafter.pk}"
    assert set(by_key) == {red_key, yellow_key}
    assert {n.person_id for n in by_key.values()} == {o.drafter.person_id}
    assert by_key[red_key].urgent and by_key[red_key].title == "红牌：关于做好年终工作的通知"
    assert not by_key[yellow_key].urgent and by_key[yellow_key].title == "黄牌：关于做好年终工作的通知"
    assert "已超过办理时限（时限 2026年11月23日）" in by_key[red_key].body
    assert "即将到期" in by_key[yellow_key].body
    assert {n.created_at for n in by_key.values()} == {at("2026-11-24 00:05")}  # the centre has them at once
    # the email waits for the office to open, the 红牌 too (urgent skips quiet hours, not the night)
    assert sorted(Message.objects.values_list("key", "target", "next_attempt_at")) == sorted([
        (f"{red_key}:email:{o.drafter.person_id}", "keyuan@shifan.gov.example", at("2026-11-24 08:30")),
        (f"{yellow_key}:email:{o.drafter.person_id}", "keyuan@shifan.gov.example", at("2026-11-24 08:30")),
    ])
    assert outbox.claim(10, now=at("2026-11-24 08:29")) == ("", [])

    with frozen("2026-11-24 00:10"):  # run again: nothing changes, nobody is told twice
        refresh_deadline_statuses(date(2026, 11, 24))
    assert Notification.objects.count() == 2

    with frozen("2026-11-25 00:05"):  # the yellow one is overdue the next night: a 红牌 notice of its own
        refresh_deadline_statuses(date(2026, 11, 25))
    assert set(n.key for n in notes(Event.DEADLINE)) == {red_key, yellow_key,
                                                          f"deadline:{yellow.pk}:red:{o.drafter.pk}"}
    assert Message.objects.get(notification__key=f"deadline:{yellow.pk}:red:{o.drafter.pk}").next_attempt_at == \
        at("2026-11-25 08:30")


def test_a_deadline_scan_in_office_hours_sends_at_once(settings):
    settings.NOTIFY_EMAIL_ENABLED = True
    o = make_office()
    o.drafter.person.email = "keyuan@shifan.gov.example"
    o.drafter.person.save()
    task = Task.objects.get(instance=start(o), status="open")
    Task.objects.filter(pk=task.pk).update(deadline=date(2026, 11, 23))
    Notification.objects.all().delete()
    with frozen("2026-11-24 10:00"):
        refresh_deadline_statuses(date(2026, 11, 24))
    assert Message.objects.get().next_attempt_at == at("2026-11-24 10:00")


# --- preferences: quiet hours, digest, unit defaults -------------------------------------------------------------


@pytest.fixture
def person(settings):
    """A 科员 with an email address; email sending on."""
    settings.NOTIFY_EMAIL_ENABLED = True
    return IdentityFactory(duty=duty(Duty.CLERK), person__email="keyuan@shifan.gov.example")


def tell(identity, when: str, *, key="task:1", urgent=False, event=Event.TODO, title="待办：关于测试的通知"):
    [row] = services.notify(event, key, [identity], title=title, body="请办理。", url="/flow/tasks/1/",
                            urgent=urgent, now=at(when))
    return row


def email_of(row: Notification) -> Message:
    return Message.objects.get(notification=row, channel="email")


def test_quiet_hours_hold_a_message_until_they_end(person):
    Preference.objects.create(person=person.person, quiet_start=time(22), quiet_end=time(7))
    late = tell(person, "2026-11-24 23:00", key="k1")
    assert late.created_at == at("2026-11-24 23:00")  # the centre has it at once
    message = email_of(late)
    assert (message.next_attempt_at, message.digest, message.target) == (at("2026-11-25 07:00"), False,
                                                                         "keyuan@shifan.gov.example")
    assert message.key == f"k1:email:{person.person_id}"
    assert email_of(tell(person, "2026-11-25 03:00", key="k2")).next_attempt_at == at("2026-11-25 07:00")
    assert email_of(tell(person, "2026-11-25 07:00", key="k3")).next_attempt_at == at("2026-11-25 07:00")
    assert email_of(tell(person, "2026-11-25 21:59", key="k4")).next_attempt_at == at("2026-11-25 21:59")
    assert email_of(tell(person, "2026-11-25 22:00", key="k5")).next_attempt_at == at("2026-11-26 07:00")


def test_an_urgent_message_ignores_quiet_hours_and_the_digest(person):
    Preference.objects.create(person=person.person, quiet_start=time(22), quiet_end=time(7), digest=True)
    message = email_of(tell(person, "2026-11-24 23:00", urgent=True, title="【特急】待办：关于防汛的紧急通知"))
    assert (message.next_attempt_at, message.digest) == (at("2026-11-24 23:00"), False)


def test_the_daily_digest_waits_for_the_digest_time(person):
    Preference.objects.create(person=person.person, digest=True)
    afternoon = email_of(tell(person, "2026-11-24 15:00", key="k1"))
    assert (afternoon.next_attempt_at, afternoon.digest) == (at("2026-11-25 08:30"), True)
    early = email_of(tell(person, "2026-11-25 08:00", key="k2"))
    assert (early.next_attempt_at, early.digest) == (at("2026-11-25 08:30"), True)
    on_time = email_of(tell(person, "2026-11-25 08:30", key="k3"))
    assert on_time.next_attempt_at == at("2026-11-26 08:30")  # 08:30 itself: the next digest


def test_the_digest_time_is_a_setting(person, settings):
    settings.NOTIFY_DIGEST_TIME = "17:00"
    Preference.objects.create(person=person.person, digest=True)
    assert email_of(tell(person, "2026-11-24 15:00")).next_attempt_at == at("2026-11-24 17:00")


def test_the_unit_default_applies_when_the_person_has_none(person):
    Preference.objects.create(unit=person.unit, quiet_start=time(22), quiet_end=time(7))
    assert email_of(tell(person, "2026-11-24 23:00", key="k1")).next_attempt_at == at("2026-11-25 07:00")
    Preference.objects.filter(unit=person.unit).update(quiet_start=None, quiet_end=None, digest=True)
    digest = email_of(tell(person, "2026-11-24 23:00", key="k2"))
    assert (digest.next_attempt_at, digest.digest) == (at("2026-11-25 08:30"), True)
    # a unit default turning an event's email off
    Preference.objects.filter(unit=person.unit).update(channels={Event.TODO: []}, digest=False)
    assert not tell(person, "2026-11-24 10:00", key="k3").messages.exists()


def test_the_persons_own_choice_overrides_the_unit_default(person):
    Preference.objects.create(unit=person.unit, channels={Event.TODO: []}, quiet_start=time(22),
                              quiet_end=time(7), digest=True)
    Preference.objects.create(person=person.person, channels={Event.TODO: ["email"]}, quiet_start=time(23),
                              quiet_end=time(6), digest=False)
    at_once = email_of(tell(person, "2026-11-24 22:30", key="k1"))  # the unit's quiet hours, not the person's
    assert (at_once.next_attempt_at, at_once.digest) == (at("2026-11-24 22:30"), False)
    assert email_of(tell(person, "2026-11-24 23:30", key="k2")).next_attempt_at == at("2026-11-25 06:00")
    # another person of the same unit, without a choice of their own, gets the unit's default: no email
    colleague = IdentityFactory(unit=person.unit, duty=duty(Duty.CLERK), person__email="ks@shifan.gov.example")
    assert not tell(colleague, "2026-11-24 10:00", key="k3").messages.exists()


def test_a_person_who_clears_quiet_hours_is_not_held_by_the_unit_default(person):
    Preference.objects.create(unit=person.unit, quiet_start=time(22), quiet_end=time(7))
    services.save_preference(person.person.user, channels_by_event={Event.TODO: ["email"]}, quiet_start=None,
                             quiet_end=None, digest=False)
    assert email_of(tell(person, "2026-11-24 23:00")).next_attempt_at == at("2026-11-24 23:00")


# --- the outbox: a digest is one email per address ------------------------------------------------------------


def received(envelope):
    return message_from_bytes(envelope.original_content, policy=policy.default)


def test_the_outbox_sends_a_digest_as_one_email_per_address(person, smtp):
    Preference.objects.create(person=person.person, digest=True)
    other = IdentityFactory(duty=duty(Duty.CLERK), person__email="ks@shifan.gov.example")
    Preference.objects.create(person=other.person, digest=True)
    mine = [tell(person, when, key=f"task:{i}", title=f"待办：第{i}件")
            for i, when in enumerate(["2026-11-24 10:00", "2026-11-24 15:00", "2026-11-24 16:00"], 1)]
    theirs = tell(other, "2026-11-24 11:00", key="task:9", title="待办：第9件")
    Notification.objects.filter(pk=mine[2].pk).update(read_at=at("2026-11-24 17:00"))  # read in the centre
    assert set(Message.objects.values_list("next_attempt_at", "digest")) == {(at("2026-11-25 08:30"), True)}

    assert outbox.deliver_due(now=at("2026-11-25 08:29")) == 0
    assert smtp.envelopes == []

    assert outbox.deliver_due(now=at("2026-11-25 08:30")) == 3
    by_rcpt = {tuple(e.rcpt_tos): received(e) for e in smtp.envelopes}
    assert set(by_rcpt) == {("keyuan@shifan.gov.example",), ("ks@shifan.gov.example",)}  # two emails, not four
    digest = by_rcpt[("keyuan@shifan.gov.example",)]
    assert digest["Subject"] == "【政通】您有 2 条新提醒"
    text = digest.get_body(("plain",)).get_content()
    assert "1. 待办：第1件" in text and "2. 待办：第2件" in text and "第3件" not in text
    assert by_rcpt[("ks@shifan.gov.example",)]["Subject"] == "【政通】待办：第9件"
    status = dict(Message.objects.values_list("notification_id", "status"))
    assert status == {mine[0].pk: "sent", mine[1].pk: "sent", mine[2].pk: "cancelled", theirs.pk: "sent"}
    assert Message.objects.get(notification=mine[2]).answer == "已在系统内阅读，不再发送"
    assert outbox.deliver_due(now=at("2026-11-25 08:31")) == 0 and len(smtp.envelopes) == 2


def test_the_outbox_sends_a_quiet_hours_message_when_they_end(person, smtp):
    Preference.objects.create(person=person.person, quiet_start=time(22), quiet_end=time(7))
    row = tell(person, "2026-11-24 23:00", title="待办：夜里送来的")
    assert outbox.deliver_due(now=at("2026-11-25 06:59")) == 0 and smtp.envelopes == []
    assert outbox.deliver_due(now=at("2026-11-25 07:00")) == 1
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["keyuan@shifan.gov.example"]
    assert received(envelope)["Subject"] == "【政通】待办：夜里送来的"
    assert email_of(row).status == Message.Status.SENT
