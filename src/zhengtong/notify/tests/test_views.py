"""The notification pages (issue #6): the centre, the live count behind the bell, a person's settings, a unit's
defaults and the administrators' delivery page, through the test client; then the bell and the centre in Chromium
at desktop and phone width.

With SHOTS_DIR set (`make screenshots`), saves notify-centre-desktop, notify-centre-phone, notify-settings-desktop
and notify-admin-desktop.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.support import screenshot
from zhengtong.accounts.models import AdminRole, User
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.notify import selectors, services
from zhengtong.notify.models import ChannelConfig, Event, Message, Notification, Preference
from zhengtong.org.models import Identity
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, make_sysadmin, make_unit_admin

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_ERRORS = ("Not Found", "Forbidden", "Server Error", "Bad Request", "Traceback", "This field", "Page not found")
STOP_POLLING = 286
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
# browser tests commit, so the outbox really sends (Huey is immediate in tests): a refused loopback port, never the
# real provider
LOCAL_ROBOT_URL = "http://127.0.0.1:9/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
PHONE_WIDTH = 390  # phone_page's viewport; innerWidth grows with an overflowing page on a mobile viewport


def chinese(response) -> str:
    """The page as text, after checking it speaks Chinese and shows no English error."""
    body = response.content.decode()
    assert HAN.search(body), body[:300]
    for phrase in ENGLISH_ERRORS:
        assert phrase not in body, phrase
    return body


def note(identity: Identity, key: str, *, title: str | None = None, url: str = "", minutes_ago: int = 0,
         event: str = Event.TODO, body: str = "", urgent: bool = False) -> Notification:
    rows = services.notify(event, key, [identity], title=title or f"消息 {key}", url=url, body=body, urgent=urgent,
                           now=timezone.now() - timedelta(minutes=minutes_ago))
    return rows[0]


def message(notification: Notification, *, status=Message.Status.DEAD, channel="wecom", attempts=8,
            answer="errcode 93000 invalid webhook url", config=None, **fields) -> Message:
    return Message.objects.create(notification=notification, channel=channel, config=config, status=status,
                                  attempts=attempts, answer=answer,
                                  key=f"{notification.key}:{channel}:{notification.person_id}:{status}", **fields)


def shoot(target, name: str) -> None:
    """A screenshot of the page at rest: no focus ring or hover, scrolled to the top (a full-page shot of a scrolled page
    paints the sticky top bar in the middle)."""
    target.mouse.move(0, 0)  # no hover highlight
    target.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    screenshot(target, name)


def denied(action="permission.denied", **filters):
    return AuditRecord.objects.filter(action=action, outcome="denied", **filters)


@pytest.fixture
def clerk():
    return IdentityFactory(person__name="李晓雯", title="科员")


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk.person.user)
    return client


@pytest.fixture
def sysadmin():
    return make_sysadmin("sys1")


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    return client


# --- the centre ----------------------------------------------------------------------------------------------

def test_centre_lists_the_persons_notifications_newest_first(clerk_client, clerk):
    note(clerk, "a", title="最早的待办", minutes_ago=30)
    note(clerk, "b", title="中间的待阅", minutes_ago=20, event=Event.TOREAD, body="第一行\n第二行")
    note(clerk, "c", title="最新的催办", minutes_ago=10, event=Event.URGED)
    note(IdentityFactory(), "a", title="别人的消息")

    body = chinese(clerk_client.get(reverse("notify:centre")))
    positions = [body.index(t) for t in ("最新的催办", "中间的待阅", "最早的待办")]
    assert positions == sorted(positions)
    assert "别人的消息" not in body
    assert "催办" in body and "新待阅" in body  # the event's label, not its code
    assert "第一行<br>第二行" in body
    assert body.count('class="nt-dot">未读') == 3
    assert "全部标为已读" in body


def test_centre_unread_filter_shows_only_unread(clerk_client, clerk):
    read = note(clerk, "r", title="已经读过的")
    note(clerk, "u", title="还没读的")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

    body = chinese(clerk_client.get(reverse("notify:centre"), {"show": "unread"}))
    assert "还没读的" in body and "已经读过的" not in body
    assert 'aria-current="page">未读' in body
    everything = chinese(clerk_client.get(reverse("notify:centre")))
    assert "还没读的" in everything and "已经读过的" in everything


def test_centre_empty_and_odd_parameters_are_chinese_not_500(clerk_client):
    assert "暂无消息" in chinese(clerk_client.get(reverse("notify:centre")))
    assert "没有未读消息" in chinese(clerk_client.get(reverse("notify:centre"), {"show": "unread"}))
    for params in ({"page": "abc"}, {"page": "99999"}, {"show": "<script>"}, {"page": "-1"}):
        response = clerk_client.get(reverse("notify:centre"), params)
        assert response.status_code == 200
        chinese(response)


def test_centre_pages_by_thirty(clerk_client, clerk):
    services.notify_all([services.Note(Event.TODO, f"k{i}", [clerk], f"待办 {i:02d}") for i in range(35)])
    body = chinese(clerk_client.get(reverse("notify:centre")))
    assert body.count('class="nt-link"') == 30 and "第 1 / 2 页" in body and "下一页" in body
    second = chinese(clerk_client.get(reverse("notify:centre"), {"page": 2}))
    assert second.count('class="nt-link"') == 5 and "上一页" in second


def test_mark_all_read(clerk_client, clerk):
    for key in "abc":
        note(clerk, key)
    other = note(IdentityFactory(), "a")

    response = clerk_client.post(reverse("notify:read"), {"all": "1"}, follow=True)
    body = chinese(response)
    assert response.redirect_chain[-1][0] == reverse("notify:centre")
    assert "已将 3 条消息标为已读" in body
    assert not Notification.objects.filter(person=clerk.person, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=other.pk).read_at is None
    assert "全部标为已读" not in body  # nothing left to mark

    again = chinese(clerk_client.post(reverse("notify:read"), {"all": "1"}, follow=True))
    assert "没有未读消息" in again


def test_mark_some_read_ignores_another_persons_and_bad_ids(clerk_client, clerk):
    mine, kept = note(clerk, "a"), note(clerk, "b")
    other = note(IdentityFactory(), "a")
    clerk_client.post(reverse("notify:read"), {"id": [mine.pk, other.pk]})
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(pk=kept.pk).read_at is None
    assert Notification.objects.get(pk=other.pk).read_at is None

    response = clerk_client.post(reverse("notify:read"), {"id": "abc"}, follow=True)
    assert response.status_code == 200 and "消息编号无效" in chinese(response)
    assert Notification.objects.get(pk=kept.pk).read_at is None


def test_mark_read_by_htmx_answers_204_and_triggers_the_bell(clerk_client, clerk):
    row = note(clerk, "a")
    response = clerk_client.post(reverse("notify:read"), {"id": row.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response.headers["HX-Trigger"] == "notifications-read"
    assert Notification.objects.get(pk=row.pk).read_at is not None


def test_mark_read_next_is_followed_only_on_this_site(clerk_client, clerk):
    note(clerk, "a")
    response = clerk_client.post(reverse("notify:read"), {"all": "1", "next": "/flow/"})
    assert response.status_code == 302 and response.url == "/flow/"
    response = clerk_client.post(reverse("notify:read"), {"all": "1", "next": "https://evil.example/"})
    assert response.url == reverse("notify:centre")


def test_opening_a_notification_marks_it_read_and_goes_to_its_url(clerk_client, clerk):
    row = note(clerk, "a", url="/flow/toread/")
    response = clerk_client.get(reverse("notify:open", args=[row.pk]))
    assert response.status_code == 302 and response.url == "/flow/toread/"
    assert Notification.objects.get(pk=row.pk).read_at is not None
    assert selectors.unread_count(clerk.person_id) == 0


def test_opening_one_without_a_link_or_with_a_foreign_link_stays_in_the_centre(clerk_client, clerk):
    plain = note(clerk, "a")
    response = clerk_client.get(reverse("notify:open", args=[plain.pk]))
    assert response.url == reverse("notify:centre") + f"#n{plain.pk}"
    for i, url in enumerate(["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"]):
        row = note(clerk, f"x{i}", url=url)
        response = clerk_client.get(reverse("notify:open", args=[row.pk]))
        assert response.status_code == 302 and response.url == reverse("notify:centre") + f"#n{row.pk}", url


def test_another_persons_notification_is_404_and_audited(clerk_client, clerk):
    other = note(IdentityFactory(), "a", title="别人的秘密标题", url="/secret/")
    response = clerk_client.get(reverse("notify:open", args=[other.pk]))
    assert response.status_code == 404
    assert "别人的秘密标题" not in response.content.decode()
    assert Notification.objects.get(pk=other.pk).read_at is None
    record = denied(actor_id=clerk.person.user.pk).get()
    assert (record.object_type, record.object_id, record.detail["code"]) == (
        "notify.notification", str(other.pk), "notify.not_found")

    assert clerk_client.get(reverse("notify:open", args=[99999999])).status_code == 404
    assert denied(actor_id=clerk.person.user.pk).count() == 2


def test_the_404_for_another_persons_notification_is_chinese(clerk_client):
    other = note(IdentityFactory(), "a")
    response = clerk_client.get(reverse("notify:open", args=[other.pk]))
    assert response.status_code == 404
    chinese(response)


def test_centre_needs_login(client):
    response = client.get(reverse("notify:centre"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_an_account_without_a_person_gets_a_chinese_refusal_in_the_centre(admin_client):
    response = admin_client.get(reverse("notify:centre"))
    assert response.status_code == 403
    assert "没有对应人员的账号没有个人消息" in chinese(response)
    assert admin_client.post(reverse("notify:read"), {"all": "1"}).status_code == 403
    assert admin_client.get(reverse("notify:settings")).status_code == 403


def test_the_refusal_without_a_person_is_audited_as_the_page_says(admin_client, sysadmin):
    response = admin_client.get(reverse("notify:centre"))
    assert "本次访问已记入审计日志" in response.content.decode()
    assert denied(actor_id=sysadmin.pk).exists()


# --- the live count ------------------------------------------------------------------------------------------

def test_count_is_a_fragment_with_the_number(clerk_client, clerk):
    note(clerk, "a")
    note(clerk, "b")
    read = note(clerk, "c")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    note(IdentityFactory(), "a")

    response = clerk_client.get(reverse("notify:count"), HTTP_X_BACKGROUND="1")
    assert response.status_code == 200
    assert response.content.decode() == '<span class="bell-count" title="未读消息 2 条">2</span>'
    assert "no-cache" in response.headers.get("Cache-Control", "")
    assert "sessionid" not in response.cookies  # polling is not activity: no session write


def test_count_is_empty_when_nothing_is_unread(clerk_client):
    response = clerk_client.get(reverse("notify:count"), HTTP_X_BACKGROUND="1")
    assert response.status_code == 200 and response.content == b""


def test_count_over_99_reads_99_plus(clerk_client, clerk):
    services.notify_all([services.Note(Event.TODO, f"k{i}", [clerk], f"待办 {i}") for i in range(100)])
    body = clerk_client.get(reverse("notify:count")).content.decode()
    assert ">99+</span>" in body and "未读消息 100 条" in body


def test_count_stops_polling_for_anonymous(client):
    response = client.get(reverse("notify:count"), HTTP_X_BACKGROUND="1", HTTP_HX_REQUEST="true")
    assert response.status_code == STOP_POLLING and response.content == b""


def test_count_stops_polling_for_an_admin_account(admin_client):
    response = admin_client.get(reverse("notify:count"), HTTP_X_BACKGROUND="1", HTTP_HX_REQUEST="true")
    assert response.status_code == STOP_POLLING and response.content == b""


def test_count_stops_polling_for_an_admin_account_that_has_a_person(client):
    identity = IdentityFactory()
    note(identity, "a")
    AdminRoleGrantFactory(user=identity.person.user, role=AdminRole.SECURITY)
    client.force_login(identity.person.user)
    assert client.get(reverse("notify:count"), HTTP_X_BACKGROUND="1").status_code == STOP_POLLING


def test_count_answers_get_only(clerk_client):
    assert clerk_client.post(reverse("notify:count")).status_code == 405


def test_every_page_has_the_bell_for_a_person_and_none_for_an_admin(clerk_client):
    page = clerk_client.get(reverse("notify:centre")).content.decode()
    assert 'id="bell-count"' in page and 'hx-get="/notifications/count/"' in page
    assert '"X-Background": "1"' in page and "every 30s" in page and "notifications-read from:body" in page
    client = clerk_client
    client.force_login(make_sysadmin("sys2"))
    assert 'id="bell-count"' not in client.get(reverse("web:home"), follow=True).content.decode()


# --- a person's settings ---------------------------------------------------------------------------------------

def _choice(**extra) -> dict:
    return {"todo:wecom": "1", "todo:email": "1", "urged:sms": "1", **extra}


def test_settings_show_the_matrix_with_the_platform_defaults(clerk_client):
    body = chinese(clerk_client.get(reverse("notify:settings")))
    for label in dict(Event.choices).values():
        assert f'<th scope="row">{label}</th>' in body
    for label in ("电子邮件", "短信网关", "企业微信群机器人", "钉钉群机器人"):
        assert f'<th scope="col">{label}</th>' in body
    assert re.search(r'name="todo:email" value="1" checked', body)  # PLATFORM_DEFAULT
    assert not re.search(r'name="toread:email" value="1" checked', body)
    assert "免打扰时段" in body and "每日汇总" in body


def test_settings_post_saves_the_preference(clerk_client, clerk):
    response = clerk_client.post(reverse("notify:settings"),
                                 _choice(quiet_start="22:00", quiet_end="07:00", digest="1"), follow=True)
    body = chinese(response)
    assert "提醒设置已保存" in body
    row = Preference.objects.get(person=clerk.person)
    assert row.channels["todo"] == ["email", "wecom"] and row.channels["urged"] == ["sms"]
    assert row.channels["toread"] == []
    assert (f"{row.quiet_start:%H:%M}", f"{row.quiet_end:%H:%M}", row.digest) == ("22:00", "07:00", True)
    assert AuditRecord.objects.filter(action="notify.preference_changed", actor_id=clerk.person.user.pk).exists()
    assert re.search(r'name="urged:sms" value="1" checked', body)
    assert not re.search(r'name="urged:email" value="1" checked', body)
    assert 'value="22:00"' in body


@pytest.mark.parametrize(("start", "end", "message"), [
    ("25:99", "07:00", "免打扰开始时间应为 时:分，如 22:00"),
    ("22:00", "abc", "免打扰结束时间应为 时:分，如 22:00"),
    ("22", "07:00", "免打扰开始时间应为 时:分，如 22:00"),
    ("22:00", "", "免打扰时段需同时填写开始和结束时间"),
    ("", "07:00", "免打扰时段需同时填写开始和结束时间"),
    ("08:00", "08:00", "免打扰开始和结束时间不能相同"),
])
def test_settings_bad_quiet_hours_show_a_chinese_message_and_save_nothing(clerk_client, start, end, message):
    response = clerk_client.post(reverse("notify:settings"), _choice(quiet_start=start, quiet_end=end))
    assert response.status_code == 200
    body = chinese(response)
    assert message in body and "提醒设置已保存" not in body
    assert not Preference.objects.exists()
    assert not AuditRecord.objects.filter(action="notify.preference_changed").exists()


def test_settings_ignore_unknown_fields(clerk_client, clerk):
    response = clerk_client.post(reverse("notify:settings"), _choice(**{"nonsense:email": "1", "todo:fax": "1"}))
    assert response.status_code == 302
    assert set(Preference.objects.get(person=clerk.person).channels) == set(Event.values)


def test_settings_fall_back_to_the_units_default(clerk_client, clerk):
    Preference.objects.create(unit=clerk.unit, channels={"todo": [], "toread": ["dingtalk"]})
    body = chinese(clerk_client.get(reverse("notify:settings")))
    assert not re.search(r'name="todo:email" value="1" checked', body)
    assert re.search(r'name="toread:dingtalk" value="1" checked', body)


# --- a unit's defaults -------------------------------------------------------------------------------------------

def test_unit_defaults_are_403_with_the_reason_for_a_non_admin(clerk_client, clerk):
    response = clerk_client.get(reverse("notify:unit", args=[clerk.unit_id]))
    assert response.status_code == 403
    assert "只有该单位的单位系统管理员可以设置单位默认提醒" in chinese(response)
    response = clerk_client.post(reverse("notify:unit", args=[clerk.unit_id]), _choice())
    assert response.status_code == 403
    assert not Preference.objects.exists()
    assert denied(actor_id=clerk.person.user.pk, object_type="org.unit").count() == 2


def test_unit_defaults_for_the_units_admin(client):
    unit = UnitFactory(name="示范市教育局")
    admin = make_unit_admin(unit)
    client.force_login(admin)
    body = chinese(client.get(reverse("notify:unit", args=[unit.pk])))
    assert "示范市教育局 · 默认提醒设置" in body and "本单位人员未自行设置时按此提醒" in body

    response = client.post(reverse("notify:unit", args=[unit.pk]), _choice(quiet_start="21:30", quiet_end="07:30"),
                           follow=True)
    assert "提醒设置已保存" in chinese(response)
    row = Preference.objects.get(unit=unit)
    assert row.person is None and row.channels["todo"] == ["email", "wecom"]
    assert AuditRecord.objects.filter(action="notify.unit_default_changed", actor_id=admin.pk).exists()

    other = UnitFactory()
    assert client.get(reverse("notify:unit", args=[other.pk])).status_code == 403
    assert client.get(reverse("notify:unit", args=[99999999])).status_code == 404


def test_unit_defaults_bad_time_for_an_admin(client):
    unit = UnitFactory()
    client.force_login(make_unit_admin(unit))
    response = client.post(reverse("notify:unit", args=[unit.pk]), _choice(quiet_start="25:99", quiet_end="07:00"))
    assert response.status_code == 200 and "免打扰开始时间应为 时:分" in chinese(response)
    assert not Preference.objects.exists()


# --- the administrators' page ------------------------------------------------------------------------------------

def test_admin_page_is_403_for_an_ordinary_person(clerk_client, clerk):
    response = clerk_client.get(reverse("notify:admin"))
    assert response.status_code == 403
    assert "只有系统管理员或单位系统管理员可以查看消息推送情况" in chinese(response)
    response = clerk_client.post(reverse("notify:admin"), {"action": "save_channel", "kind": "wecom", "name": "x",
                                                           "unit": clerk.unit_id, "url": WECOM_URL})
    assert response.status_code == 403
    assert not ChannelConfig.objects.exists()
    assert denied(actor_id=clerk.person.user.pk, object_type="notify.admin").count() == 2


def test_admin_page_shows_status_per_channel(admin_client, clerk):
    rows = [note(clerk, k) for k in "abcdef"]
    message(rows[0], status=Message.Status.PENDING, attempts=0)
    message(rows[1], status=Message.Status.PENDING, attempts=2, answer="errcode 45009 rate limited")
    message(rows[2], status=Message.Status.SENT, attempts=1, answer="")
    message(rows[3], status=Message.Status.DEAD)
    message(rows[4], status=Message.Status.SENT, channel="email", attempts=1, answer="")
    message(rows[5], status=Message.Status.CANCELLED, channel="email", attempts=0, answer="")

    body = chinese(admin_client.get(reverse("notify:admin")))
    status = body[body.index("各通道发送情况"):body.index("失败与重试")]
    cells = re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", status)
    table = {label: re.sub(r"<[^>]+>", " ", rest).split() for label, rest in cells}
    # 待发送 重试中 已发送 发送失败 已取消
    assert table["企业微信群机器人"] == ["1", "1", "1", "1", "0"]  # 待发送（首次） leaves out the one 重试中
    assert table["电子邮件"] == ["0", "0", "1", "0", "1"]
    problems = body[body.index("失败与重试"):body.index("机器人与短信网关")]
    assert "errcode 93000" in problems and "errcode 45009" in problems and "重试中" in problems
    assert problems.count('name="message"') == 1  # only the dead one can be resent
    assert "还没有配置机器人或网关" in body


def test_admin_problems_name_the_channel_in_chinese(admin_client, clerk):
    message(note(clerk, "a"), channel="email", answer="550 5.1.1 用户不存在")
    body = chinese(admin_client.get(reverse("notify:admin")))
    problems = body[body.index("失败与重试"):body.index("机器人与短信网关")]
    assert '<td data-label="通道">电子邮件</td>' in problems


def test_admin_saves_a_wecom_robot_without_keeping_or_showing_the_url(admin_client, sysadmin):
    unit = UnitFactory(name="示范市人民政府办公室")
    response = admin_client.post(reverse("notify:admin"), {
        "action": "save_channel", "kind": "wecom", "name": "办公室工作群", "unit": unit.pk, "url": WECOM_URL,
        "active": "1", "per_minute": "", "options": ""}, follow=True)
    body = chinese(response)
    assert "已保存消息通道“办公室工作群”" in body

    config = ChannelConfig.objects.get()
    assert (config.kind, config.name, config.unit_id, config.active, config.per_minute) == (
        "wecom", "办公室工作群", unit.pk, True, 20)
    key = WECOM_URL.split("key=")[1]
    blob = bytes(config.url_blob)
    assert WECOM_URL.encode() not in blob and key.encode() not in blob
    assert key not in body and "qyapi.weixin.qq.com" not in body
    assert "已保存（不再显示），留空保持不变" in body
    assert services.open_secret(config, "url") == WECOM_URL
    audit = AuditRecord.objects.get(action="notify.channel_created", actor_id=sysadmin.pk)
    assert key not in str(audit.detail) + str(audit.changes)
    assert audit.detail["url_changed"] is True

    # a change without a URL keeps the stored one
    admin_client.post(reverse("notify:admin"), {"action": "save_channel", "pk": config.pk, "kind": "wecom",
                                                "name": "办公室值班群", "unit": unit.pk, "url": "", "active": "1"})
    config.refresh_from_db()
    assert config.name == "办公室值班群" and services.open_secret(config, "url") == WECOM_URL


def test_admin_dingtalk_robot_needs_its_secret(admin_client):
    unit = UnitFactory()
    post = {"action": "save_channel", "kind": "dingtalk", "name": "钉钉群", "unit": unit.pk, "active": "1",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=abcdef"}
    response = admin_client.post(reverse("notify:admin"), post, follow=True)
    assert "钉钉机器人请填写加签密钥（安全设置选“加签”）" in chinese(response)
    assert not ChannelConfig.objects.exists()

    admin_client.post(reverse("notify:admin"), {**post, "secret": "SECdeadbeef"})
    config = ChannelConfig.objects.get()
    assert b"SECdeadbeef" not in bytes(config.secret_blob)
    assert services.open_secret(config, "secret") == "SECdeadbeef"


@pytest.mark.parametrize(("change", "message"), [
    ({"options": "not json"}, "参数应为 JSON 对象，每分钟上限和单位应为数字"),
    ({"per_minute": "abc"}, "参数应为 JSON 对象，每分钟上限和单位应为数字"),
    ({"unit": "abc"}, "参数应为 JSON 对象，每分钟上限和单位应为数字"),
    ({"pk": "abc"}, "参数应为 JSON 对象，每分钟上限和单位应为数字"),
    ({"per_minute": "1.5"}, "参数应为 JSON 对象，每分钟上限和单位应为数字"),
    ({"options": "[1, 2]"}, "参数应为 JSON 对象"),
    ({"options": "\"text\""}, "参数应为 JSON 对象"),
    ({"per_minute": "-1"}, "每分钟上限应在 0 到 100000 之间"),
    ({"per_minute": "99999999999999999999999"}, "每分钟上限应在 0 到 100000 之间"),
    ({"name": ""}, "请填写名称（50 字以内）"),
    ({"name": "长" * 51}, "请填写名称（50 字以内）"),
    ({"kind": "email"}, "通道类型应为企业微信群机器人、钉钉群机器人或短信网关"),
    ({"kind": "fax"}, "通道类型应为企业微信群机器人、钉钉群机器人或短信网关"),
    ({"url": "ftp://example.com/hook"}, "地址应以 http:// 或 https:// 开头"),
    ({"url": ""}, "地址应以 http:// 或 https:// 开头"),
    ({"unit": "99999999"}, "单位不存在"),
    ({"pk": "99999999"}, "消息通道不存在"),
    ({"action": "bogus"}, "未知操作"),
    ({"action": "resend", "message": "abc"}, "消息编号无效"),
])
def test_admin_bad_input_is_a_chinese_message_not_a_500(admin_client, change, message):
    unit = UnitFactory()
    post = {"action": "save_channel", "kind": "wecom", "name": "工作群", "unit": str(unit.pk), "url": WECOM_URL,
            "active": "1", **change}
    response = admin_client.post(reverse("notify:admin"), post, follow=True)
    assert response.status_code == 200
    assert message in chinese(response)
    assert not ChannelConfig.objects.exists()


def test_admin_resends_a_dead_message(admin_client, sysadmin, clerk):
    dead = message(note(clerk, "a"))
    sent = message(note(clerk, "b"), status=Message.Status.SENT, attempts=1, answer="")

    response = admin_client.post(reverse("notify:admin"), {"action": "resend", "message": [dead.pk]}, follow=True)
    assert "已重新排队发送 1 条消息" in chinese(response)
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.answer, dead.claim) == (Message.Status.PENDING, 0, "", "")
    assert dead.next_attempt_at <= timezone.now()
    record = AuditRecord.objects.get(action="notify.resent")
    assert record.actor_id == sysadmin.pk and record.detail["messages"] == [dead.pk]

    response = admin_client.post(reverse("notify:admin"), {"action": "resend", "message": [sent.pk]}, follow=True)
    assert "所选消息不是发送失败的消息，或不在您的管理范围内" in chinese(response)
    sent.refresh_from_db()
    assert sent.status == Message.Status.SENT
    response = admin_client.post(reverse("notify:admin"), {"action": "resend"}, follow=True)
    assert "所选消息不是发送失败的消息" in chinese(response)


def test_a_unit_admin_sees_and_configures_only_their_unit(client):
    unit, other = UnitFactory(name="示范市教育局"), UnitFactory(name="示范市财政局")
    admin = make_unit_admin(unit)
    mine = message(note(IdentityFactory(unit=unit), "a"))
    theirs = message(note(IdentityFactory(unit=other), "b"), answer="errcode 310000 sign not match")
    client.force_login(admin)

    body = chinese(client.get(reverse("notify:admin")))
    assert "errcode 93000" in body and "errcode 310000" not in body
    assert "全平台（仅短信网关）" not in body
    assert f'<option value="{other.pk}"' not in body

    response = client.post(reverse("notify:admin"), {"action": "save_channel", "kind": "wecom", "name": "本局群",
                                                     "unit": "", "url": WECOM_URL})
    assert response.status_code == 403 and "只有系统管理员可以设置全平台的消息通道" in chinese(response)
    response = client.post(reverse("notify:admin"), {"action": "save_channel", "kind": "wecom", "name": "财政群",
                                                     "unit": other.pk, "url": WECOM_URL})
    assert response.status_code == 403 and "只有该单位的单位系统管理员可以设置本单位的消息通道" in chinese(response)
    assert not ChannelConfig.objects.exists()
    client.post(reverse("notify:admin"), {"action": "save_channel", "kind": "wecom", "name": "本局群",
                                          "unit": unit.pk, "url": WECOM_URL, "active": "1"})
    assert ChannelConfig.objects.get().unit_id == unit.pk

    response = client.post(reverse("notify:admin"), {"action": "resend", "message": [theirs.pk]}, follow=True)
    assert "不在您的管理范围内" in chinese(response)
    assert Message.objects.get(pk=theirs.pk).status == Message.Status.DEAD
    client.post(reverse("notify:admin"), {"action": "resend", "message": [mine.pk]})
    assert Message.objects.get(pk=mine.pk).status == Message.Status.PENDING


# --- in the browser ----------------------------------------------------------------------------------------------

@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)
    User.objects.update(otp_exempt=True)


def _main_identity(username: str) -> Identity:
    return Identity.objects.select_related("person", "unit").get(person__user__username=username, is_main=True)


def _bell_text(target) -> str:
    return target.locator("#bell-count").inner_text().strip()


def _wait_for_bell(target, text: str) -> None:
    target.wait_for_function("t => document.querySelector('#bell-count').innerText.trim() === t", arg=text,
                             timeout=10000)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bell_counts_live_and_the_centre_opens_an_item(page, live_server, login, city):
    keyuan = _main_identity("bgs.keyuan")
    note(keyuan, "browser-1", title="关于报送2027年度工作要点的通知", event=Event.TOREAD,
         body="请于12月10日前报送。", url=reverse("flow:toread"), minutes_ago=5)
    before = selectors.unread_count(keyuan.person_id)

    login("bgs.keyuan")
    _wait_for_bell(page, str(before))
    assert page.locator(".bell .bell-count").get_attribute("title") == f"未读消息 {before} 条"

    fresh = note(keyuan, "browser-2", title="请审核：示范市人民政府办公室关于做好元旦期间值班工作的通知",
                 event=Event.URGED, body="王建华催办：请今天下班前处理。", url=reverse("flow:todo"), urgent=False)
    assert _bell_text(page) == str(before)  # nothing changes until the bell asks
    page.evaluate("htmx.trigger(document.body, 'notifications-read')")
    _wait_for_bell(page, str(before + 1))

    page.locator("a.bell").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "消息中心"
    items = page.locator(".nt-item")
    assert "值班工作" in items.first.inner_text() and "未读" in items.first.inner_text()
    shoot(page, "notify-centre-desktop")

    page.locator(f"#n{fresh.pk} a.nt-link").click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}{reverse('flow:todo')}"
    assert Notification.objects.get(pk=fresh.pk).read_at is not None
    _wait_for_bell(page, str(before))

    page.goto(f"{live_server.url}{reverse('notify:centre')}?show=unread")
    assert page.locator(f"#n{fresh.pk}").count() == 0
    page.get_by_role("button", name="全部标为已读").click()
    page.wait_for_load_state("networkidle")
    assert "标为已读" in page.locator(".messages").inner_text()
    assert selectors.unread_count(keyuan.person_id) == 0
    assert _bell_text(page) == ""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_settings_page_saves_in_the_browser(page, live_server, login, city):
    login("jyj.sfy")
    page.goto(f"{live_server.url}{reverse('notify:settings')}")
    assert page.locator("h1").inner_text() == "提醒设置"
    page.get_by_label("交换箱来文 · 短信网关").check()
    page.fill("input[name=quiet_start]", "22:00")
    page.fill("input[name=quiet_end]", "07:00")
    shoot(page, "notify-settings-desktop")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state("networkidle")
    assert "提醒设置已保存" in page.locator(".messages").inner_text()
    row = Preference.objects.get(person__user__username="jyj.sfy")
    assert "sms" in row.channels["arrived"] and f"{row.quiet_start:%H:%M}" == "22:00"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_page_in_the_browser(page, live_server, login, city):
    keyuan, sfy = _main_identity("bgs.keyuan"), _main_identity("jyj.sfy")
    # the notifications first: with the robot saved, notify() would queue (and send) a message on it as well
    todo = note(keyuan, "adm-1", title="请审核：关于做好元旦期间值班工作的通知")
    arrived = note(sfy, "adm-2", title="交换箱来文：关于开展2027年春季学期安全检查的通知", event=Event.ARRIVED)
    signed = note(sfy, "adm-3", title="发文已签收", event=Event.ARRIVED)
    robot = services.save_channel_config(User.objects.get(username="sysadmin"), kind="wecom", name="办公室工作群",
                                         unit_id=keyuan.unit_id, url=LOCAL_ROBOT_URL)
    message(todo, config=robot, answer="errcode 93000: invalid webhook url")
    message(arrived, channel="email", status=Message.Status.PENDING, attempts=3, answer="421 4.7.0 Try again later",
            next_attempt_at=timezone.now() + timedelta(minutes=10))
    message(signed, channel="email", status=Message.Status.SENT, attempts=1, answer="")

    login("sysadmin")
    page.goto(f"{live_server.url}{reverse('notify:admin')}")
    assert page.locator("h1").inner_text() == "消息推送"
    assert "企业微信群机器人" in page.locator("table.nt-status").inner_text()
    assert LOCAL_ROBOT_URL not in page.content() and "693a91f6" not in page.content()
    shoot(page, "notify-admin-desktop")
    page.locator("table.nt-problems input[name=message]").first.check()
    page.get_by_role("button", name="重发所选").click()
    page.wait_for_load_state("networkidle")
    assert "已重新排队发送 1 条消息" in page.locator(".messages").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bell_and_centre_at_phone_width(phone_page, live_server, login, city):
    keyuan = _main_identity("bgs.keyuan")
    note(keyuan, "phone-1", title="请审核：示范市人民政府办公室关于进一步规范公文处理工作的通知（征求意见稿）",
         event=Event.TODO, body="来自秘书科王建华，限办日期 2026-12-05。", url=reverse("flow:todo"))
    note(keyuan, "phone-2", title="红牌：关于报送年度工作总结的通知已超期", event=Event.DEADLINE, urgent=True,
         url=reverse("flow:todo"))
    unread = selectors.unread_count(keyuan.person_id)

    login("bgs.keyuan", target=phone_page)
    bell = phone_page.locator("a.bell")
    assert bell.is_visible()
    box = bell.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 390 and box["y"] < 80
    _wait_for_bell(phone_page, str(unread))

    bell.click()
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.locator("h1").inner_text() == "消息中心"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    shoot(phone_page, "notify-centre-phone")
    phone_page.goto(f"{live_server.url}{reverse('notify:settings')}")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_page_fits_a_phone(phone_page, live_server, login):
    unit = UnitFactory(name="示范市人民政府办公室", short_name="市政府办")
    clerk = IdentityFactory(unit=unit, person__name="李晓雯")
    message(note(clerk, "a", title="请审核：关于做好元旦期间值班工作的通知"), answer="errcode 93000: invalid webhook url")
    make_sysadmin("sysadmin")
    login("sysadmin", target=phone_page)
    phone_page.goto(f"{live_server.url}{reverse('notify:admin')}")
    assert phone_page.locator("h1").inner_text() == "消息推送"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH



def test_the_three_administrators_never_see_a_documents_title_on_the_delivery_page(admin_client, clerk):
    """R7.2: the 系统管理员 sees each failure's event, unit, channel and answer, not the document's title."""
    message(note(clerk, "secret-title", title="待办：关于干部任免的请示"), answer="errcode 93000 invalid webhook url")
    body = chinese(admin_client.get(reverse("notify:admin")))
    assert "errcode 93000" in body and "干部任免" not in body and "三员不查看公文内容" in body
