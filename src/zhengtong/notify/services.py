"""The only writer of notifications (issue #6).

`notify` is called by the event receivers inside the event's transaction: the in-app `Notification` and one outbox
`Message` per external channel the recipient wants commit or roll back with the event, and the worker
(notify.outbox) sends them afterwards. Keys make it idempotent: an event told twice to the same person gives nothing
new. Everything a person or an administrator changes here is audited.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import (
    administered_unit_ids,
    has_admin_role,
    is_any_admin,
    require_authenticated,
)
from zhengtong.audit.services import diff, record, security_event, snapshot
from zhengtong.core.errors import Forbidden, NotFound, ServiceError
from zhengtong.org.models import Identity, Unit
from zhengtong.seals import keys

from . import channels, preferences
from .models import ChannelConfig, Event, Message, Notification, Preference

MAX_BODY = 1000
logger = logging.getLogger(__name__)


# --- writing notifications (the receivers call this inside the event's transaction) -----------------------------

def _configs_by_unit() -> dict[tuple[str, int | None], ChannelConfig]:
    """The working robot or gateway per (kind, unit); unit None = the platform's (an SMS gateway for all)."""
    found: dict[tuple[str, int | None], ChannelConfig] = {}
    for config in ChannelConfig.objects.filter(active=True, broken="").order_by("pk"):
        found.setdefault((config.kind, config.unit_id), config)
    return found


def _targets(identity: Identity, wanted: list[str], configs) -> list[tuple[str, ChannelConfig | None, str]]:
    """(channel, config, address) for each wanted channel this person can be reached on."""
    person = identity.person
    out = []
    for name in wanted:
        channel = channels.get(name)
        if channel is None:
            continue
        if name == "email":
            if person.email and settings.NOTIFY_EMAIL_ENABLED:
                out.append((name, None, person.email))
            continue
        config = configs.get((name, identity.unit_id)) or configs.get((name, None)) if channel.needs_config else None
        if channel.needs_config and config is None:
            continue
        if channel.group_by == "target":
            if not person.mobile:
                continue
            out.append((name, config, person.mobile))
        else:
            out.append((name, config, ""))
    return out


@dataclass
class Note:
    """One event to tell some people about (identities: the post each holds it in)."""

    event: str
    key: str
    recipients: list[Identity]
    title: str
    body: str = ""
    url: str = ""
    urgent: bool = False
    not_before: datetime | None = None


def notify(event: str, key: str, recipients: Iterable[Identity], *, title: str, body: str = "", url: str = "",
           urgent: bool = False, not_before: datetime | None = None, now: datetime | None = None) -> list[Notification]:
    """Tell each recipient about one event, once per person and key (see `notify_all`)."""
    return notify_all([Note(event, key, list(recipients), title, body, url, urgent, not_before)], now=now)


def notify_all(notes: list[Note], *, now: datetime | None = None) -> list[Notification]:
    """Write the in-app notifications and their outbox messages for many events in a few queries (a hand-over of
    a thousand tasks is one batch). Each person hears of a key once, whoever tells it again.

    `not_before` holds the external messages (not the in-app one) until then, e.g. office hours for the nightly
    deadline scan; urgent ones ignore quiet hours and digests."""
    now = now or timezone.now()
    wanted: dict[tuple[str, int], tuple[Note, Identity]] = {}
    for note in notes:
        for identity in note.recipients:
            if identity is not None and identity.active and identity.person.active:  # a post still held
                wanted.setdefault((note.key[:120], identity.person_id), (note, identity))
    if not wanted:
        return []
    with transaction.atomic():  # a savepoint: a receiver sent robustly fails alone
        known = set(Notification.objects.filter(key__in={k for k, _ in wanted}, person_id__in={p for _, p in wanted})
                    .values_list("key", "person_id"))
        fresh = [(key, note, identity) for key, (note, identity) in wanted.items() if key not in known]
        if not fresh:
            return []
        rows = Notification.objects.bulk_create([
            Notification(person_id=i.person_id, identity=i, event=n.event, key=k[0], title=n.title[:200],
                         body=n.body[:MAX_BODY], url=n.url[:300], urgent=n.urgent, created_at=now)
            for k, n, i in fresh])
        choices = preferences.choices_for({(i.person_id, i.unit_id) for _, _, i in fresh})
        configs = _configs_by_unit()
        messages = []
        for row, (_, note, identity) in zip(rows, fresh, strict=True):
            choice = choices[identity.person_id]
            at, digest = preferences.send_at(choice, urgent=note.urgent, now=now)
            if note.not_before is not None and note.not_before > at:
                at = note.not_before
            for name, config, target in _targets(identity, choice.wants(note.event), configs):
                messages.append(Message(notification=row, channel=name, config=config, target=target, digest=digest,
                                        key=f"{row.key}:{name}:{row.person_id}", next_attempt_at=at, created_at=now))
        Message.objects.bulk_create(messages, batch_size=1000)
        forget_badges({i.person.user_id for _, _, i in fresh})
    if any(m.next_attempt_at <= now for m in messages):
        from .outbox import kick

        transaction.on_commit(kick, robust=True)  # the periodic drain covers a queue that is down
    return rows


def forget_badges(user_ids) -> None:
    """Drop the cached bell counts of these accounts, now and again when the transaction commits (a poll in
    between must not keep the count from before the change)."""
    from django.core.cache import cache

    from .selectors import badge_key

    keys = [badge_key(u) for u in user_ids if u]
    if keys:
        try:
            cache.delete_many(keys)  # this process sees the change before the commit too (its own later reads)
        except Exception:  # noqa: BLE001 — a cache that is down must never undo the event; the count waits ≤ 25 s
            logger.warning("notify: the cache is unavailable; bell counts refresh within %s s", 25)
        transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


MAX_ID = 2 ** 63 - 1


def clean_ids(values) -> list[int]:
    """Ids from a request: whole numbers in the database's range, else notify.invalid_id (never a 500)."""
    try:
        ids = [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise ServiceError("notify.invalid_id", "消息编号无效") from exc
    if any(not 0 < i <= MAX_ID for i in ids):
        raise ServiceError("notify.invalid_id", "消息编号无效")
    return ids


def settle(keys: Iterable[str], user_ids: Iterable[int]) -> int:
    """Mark read the notifications of work already handled (a task done, cancelled or moved on): the person has
    seen it, and an unread 待办 that leads to finished work only misleads. Returns how many."""
    keys = list(keys)
    if not keys:
        return 0
    n = Notification.objects.filter(key__in=keys, read_at__isnull=True).update(read_at=timezone.now())
    if n:
        forget_badges(set(user_ids))
    return n


# --- the centre: read and open ----------------------------------------------------------------------------------

def _person(user):
    require_authenticated(user)
    person = getattr(user, "person", None)
    if person is None or is_any_admin(user):
        security_event("permission.denied", user=user, outcome="denied", object_type="notify.centre",
                       detail={"code": "notify.no_person"})
        raise Forbidden("notify.no_person", "系统管理员、安全保密管理员、安全审计员和没有对应人员的账号没有个人消息")
    return person


def mark_read(user, ids: Iterable | None = None) -> int:
    """Mark the person's notifications read: the ones given, or all when `ids` is None. Returns how many."""
    person = _person(user)
    rows = Notification.objects.filter(person=person, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=clean_ids(ids))
    n = rows.update(read_at=timezone.now())
    forget_badges([user.pk])
    return n


def open_notification(user, pk) -> Notification:
    """The person's own notification, marked read (another's is 404: its existence is not disclosed)."""
    person = _person(user)
    try:
        [number] = clean_ids([pk])
    except ServiceError:
        number = None
    row = Notification.objects.filter(pk=number, person=person).first() if number else None
    if row is None:
        security_event("permission.denied", user=user, outcome="denied", object_type="notify.notification",
                       object_id=str(pk)[:64], detail={"code": "notify.not_found"})
        raise NotFound("notify.not_found", "消息不存在")
    if row.read_at is None:
        row.read_at = timezone.now()
        Notification.objects.filter(pk=row.pk).update(read_at=row.read_at)
        forget_badges([user.pk])
    return row


# --- preferences -------------------------------------------------------------------------------------------------

PREF_FIELDS = ["channels", "quiet_start", "quiet_end", "digest"]


def _clean_channels(channels_by_event: dict) -> dict[str, list[str]]:
    known = set(channels.registry())
    events = set(Event.values)
    clean: dict[str, list[str]] = {}
    for event, names in (channels_by_event or {}).items():
        if event not in events:
            raise ServiceError("notify.invalid_event", f"未知的提醒事件：{event}")
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ServiceError("notify.invalid_channel", f"未知的提醒通道：{'、'.join(unknown)}")
        clean[event] = sorted(set(names))
    return clean


def _clean_quiet(start: time | None, end: time | None) -> tuple[time | None, time | None]:
    if (start is None) != (end is None):
        raise ServiceError("notify.quiet_hours_incomplete", "免打扰时段需同时填写开始和结束时间")
    if start is not None and start == end:
        raise ServiceError("notify.quiet_hours_empty", "免打扰开始和结束时间不能相同")
    return start, end


def _save_preference(row: Preference, actor, *, channels_by_event, quiet_start, quiet_end, digest, action, **audit):
    before = snapshot(row, PREF_FIELDS) if row.pk else None
    row.channels = _clean_channels(channels_by_event)
    row.quiet_start, row.quiet_end = _clean_quiet(quiet_start, quiet_end)
    row.digest = bool(digest)
    row.updated_at = timezone.now()
    with transaction.atomic():
        row.save()
        record(action, obj=row, user=actor, changes=diff(before, snapshot(row, PREF_FIELDS)), **audit)
    return row


def save_preference(user, *, channels_by_event: dict, quiet_start=None, quiet_end=None, digest=False) -> Preference:
    person = _person(user)
    row = Preference.objects.filter(person=person).first() or Preference(person=person)
    return _save_preference(row, user, channels_by_event=channels_by_event, quiet_start=quiet_start,
                            quiet_end=quiet_end, digest=digest, action="notify.preference_changed")


def require_unit_admin(user, unit_id: int, what: str) -> None:
    require_authenticated(user)
    allowed = administered_unit_ids(user)
    if allowed is not None and unit_id not in allowed:
        security_event("permission.denied", user=user, outcome="denied", object_type="org.unit", object_id=unit_id,
                       detail={"code": "notify.not_unit_admin", "what": what})
        raise Forbidden("notify.not_unit_admin", f"只有该单位的单位系统管理员可以{what}")


def save_unit_default(user, unit_id: int, *, channels_by_event: dict, quiet_start=None, quiet_end=None,
                      digest=False) -> Preference:
    require_unit_admin(user, unit_id, "设置单位默认提醒")
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("notify.unit_not_found", "单位不存在")
    row = Preference.objects.filter(unit=unit).first() or Preference(unit=unit)
    return _save_preference(row, user, channels_by_event=channels_by_event, quiet_start=quiet_start,
                            quiet_end=quiet_end, digest=digest, action="notify.unit_default_changed", unit=unit)


# --- robots and gateways (administrators) ---------------------------------------------------------------------

def _aad(config: ChannelConfig, what: str) -> str:
    return f"notify-channel:{config.pk}:{what}"


def seal_secret(config: ChannelConfig, what: str, value: str) -> bytes:
    return keys.encrypt_der(value.encode(), _aad(config, what)) if value else b""


def open_secret(config: ChannelConfig, what: str) -> str:
    blob = bytes(config.url_blob if what == "url" else config.secret_blob or b"")
    if not blob:
        return ""
    try:
        return keys.decrypt_private_key(blob, _aad(config, what)).decode()
    except (InvalidTag, ValueError):
        return ""


def _may_configure(user, unit_id: int | None) -> None:
    if unit_id is None:
        require_authenticated(user)
        if not has_admin_role(user, AdminRole.SYSTEM):
            security_event("permission.denied", user=user, outcome="denied", detail={"code": "notify.not_sysadmin"})
            raise Forbidden("notify.not_sysadmin", "只有系统管理员可以设置全平台的消息通道")
    else:
        require_unit_admin(user, unit_id, "设置本单位的消息通道")


CONFIG_FIELDS = ["kind", "name", "unit_id", "options", "per_minute", "active", "broken"]


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if not url.startswith(("http://", "https://")) or len(url) > 1000:
        raise ServiceError("notify.invalid_url", "地址应以 http:// 或 https:// 开头")
    return url


def save_channel_config(user, *, kind: str, name: str, unit_id: int | None, url: str = "", secret: str = "",
                        options: dict | None = None, per_minute: int | None = None, active: bool = True,
                        pk: int | None = None) -> ChannelConfig:
    """Create or change a robot or gateway. An empty `url` / `secret` on a change keeps the stored one (they are
    never shown again once saved). Saving clears `broken`: the administrator says it is fixed."""
    channel = channels.get(kind)
    if channel is None or not channel.needs_config:
        raise ServiceError("notify.invalid_channel", "通道类型应为企业微信群机器人、钉钉群机器人或短信网关")
    name = (name or "").strip()
    if not 1 <= len(name) <= 50:
        raise ServiceError("notify.name_required", "请填写名称（50 字以内）")
    if per_minute is not None and not 0 <= int(per_minute) <= 100_000:
        raise ServiceError("notify.invalid_rate", "每分钟上限应在 0 到 100000 之间（0 为不限）")
    if options is not None and not isinstance(options, dict):
        raise ServiceError("notify.invalid_options", "参数应为 JSON 对象")
    if kind == "dingtalk" and not pk and not secret:
        raise ServiceError("notify.secret_required", "钉钉机器人请填写加签密钥（安全设置选“加签”）")
    config = None
    if pk is not None:
        config = ChannelConfig.objects.filter(pk=pk).first()
        if config is None:
            raise NotFound("notify.channel_not_found", "消息通道不存在")
        _may_configure(user, config.unit_id)
    _may_configure(user, unit_id)
    if unit_id is None and channel.group_by == "config":
        raise ServiceError("notify.unit_required", "群机器人属于某个单位的工作群，请选择单位（全平台只能设短信网关）")
    if unit_id is not None and not Unit.objects.filter(pk=unit_id).exists():
        raise NotFound("notify.unit_not_found", "单位不存在")
    if config is None:
        url = _check_url(url)
    elif url:
        url = _check_url(url)
    with transaction.atomic():
        before = snapshot(config, CONFIG_FIELDS) if config else None
        if config is None:
            config = ChannelConfig(kind=kind, url_blob=b"")
        config.kind, config.name, config.unit_id, config.active, config.broken = kind, name, unit_id, active, ""
        config.options = options if options is not None else config.options
        config.per_minute = int(per_minute) if per_minute is not None else (
            config.per_minute if config.pk else getattr(channel, "default_per_minute", 20))
        config.updated_at = timezone.now()
        config.save()
        if url:
            config.url_blob = seal_secret(config, "url", url)
        if secret:
            config.secret_blob = seal_secret(config, "secret", secret)
        config.save(update_fields=["url_blob", "secret_blob"])
        record("notify.channel_saved" if before else "notify.channel_created", obj=config, user=user,
               unit=config.unit, changes=diff(before, snapshot(config, CONFIG_FIELDS)),
               detail={"url_changed": bool(url), "secret_changed": bool(secret)})
    return config


def mark_broken(config_id: int, answer: str) -> None:
    """The provider answered that this robot or gateway will never work as configured: stop using it, fail what
    waits for it (with the reason on each message) and tell the administrators through the audit log."""
    with transaction.atomic():
        config = ChannelConfig.objects.select_for_update().filter(pk=config_id).first()
        if config is None or config.broken:
            return
        config.broken = answer[:300] or "服务方答复永久错误"
        config.save(update_fields=["broken"])
        Message.objects.filter(config=config, status=Message.Status.PENDING).update(
            status=Message.Status.DEAD, answer=f"通道已停用：{config.broken}"[:300], claim="")
        record("notify.channel_broken", obj=config, unit=config.unit, username="消息推送",
               outcome="failure", detail={"answer": config.broken})


def resend(user, pks: Iterable) -> int:
    """Send dead messages again (after the administrator fixed the channel). Returns how many were queued."""
    ids = clean_ids(pks)
    allowed = administered_unit_ids(user) if user is not None and user.is_authenticated else set()
    if allowed is not None and not allowed:
        require_authenticated(user)
        security_event("permission.denied", user=user, outcome="denied", detail={"code": "notify.not_admin"})
        raise Forbidden("notify.not_admin", "只有系统管理员或单位系统管理员可以重发消息")
    rows = Message.objects.filter(pk__in=ids, status=Message.Status.DEAD)
    if allowed is not None:
        rows = rows.filter(notification__identity__unit_id__in=allowed)
    now = timezone.now()
    with transaction.atomic():
        picked = list(rows.select_for_update().values_list("pk", flat=True))
        if not picked:
            raise ServiceError("notify.nothing_to_resend", "所选消息不是发送失败的消息，或不在您的管理范围内")
        Message.objects.filter(pk__in=picked).update(status=Message.Status.PENDING, attempts=0, next_attempt_at=now,
                                                     answer="", claim="")
        record("notify.resent", user=user, object_type="notify.message", detail={"messages": picked})
    from .outbox import kick

    transaction.on_commit(kick, robust=True)
    return len(picked)
