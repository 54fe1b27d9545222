"""The notification worker: sends due outbox messages (issue #6 §3), like the exchange's outbox
(exchange/federation/outbox.py): rows are claimed in one conditional UPDATE with a lease and a token, sent outside
any transaction, and their outcome is written only to rows still carrying the token.

- Grouping: a robot's due messages go as one post (a digest when there are several); email and SMS one per address.
- Rate limits: each robot or gateway has its own per-minute limit (`ChannelConfig.per_minute`), counted in the
  database (`RateWindow`) so several worker processes share it; a group over the limit waits for the next minute
  without an attempt counted.
- Failures: retried with exponential backoff up to NOTIFY_MAX_ATTEMPTS, then dead (shown with the provider's answer
  on the administrators' page, where they can be sent again). An answer that will never change (a wrong key) stops
  the robot at once (services.mark_broken).
- Messages a person already read in the centre before a held (quiet hours, digest) message went are cancelled.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from . import channels, services
from .channels import Outgoing
from .models import Message, RateWindow
from .robots import Result

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
THREADS = 8  # sends in flight at once: slow providers overlap instead of queueing
MAX_LISTED = 10  # notifications listed in one digest message
TIMEOUT = 10.0  # seconds a provider may take to answer


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    base = float(getattr(settings, "NOTIFY_RETRY_BASE_SECONDS", 30))
    return timedelta(seconds=min(3600.0, base * 2 ** max(0, attempts - 1)))


def kick() -> None:
    """Ask the worker to send now (the periodic drain catches anything this misses)."""
    from .tasks import send_notifications

    send_notifications()


def claim(limit: int, now=None) -> tuple[str, list[Message]]:
    now = now or timezone.now()
    due = list(Message.objects.filter(status=Message.Status.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not due:
        return "", []
    token = uuid.uuid4().hex
    Message.objects.filter(pk__in=due, status=Message.Status.PENDING, next_attempt_at__lte=now).update(
        next_attempt_at=now + LEASE, claim=token)
    rows = list(Message.objects.filter(pk__in=due, status=Message.Status.PENDING, claim=token)
                .select_related("notification", "notification__person", "config").order_by("pk"))
    return token, rows


def take_tokens(name: str, per_minute: int, wanted: int, now) -> int:
    """Up to `wanted` sends allowed this minute for `name` (a robot, a gateway or the email channel)."""
    if not per_minute:
        return wanted
    minute = now.replace(second=0, microsecond=0)
    RateWindow.objects.get_or_create(name=name, defaults={"minute": minute, "used": 0})
    RateWindow.objects.filter(name=name, minute__lt=minute).update(minute=minute, used=0)
    granted = 0
    while granted < wanted:
        # one conditional UPDATE per send taken: several workers never exceed the limit together
        if not RateWindow.objects.filter(name=name, minute=minute, used__lt=per_minute).update(used=F("used") + 1):
            break
        granted += 1
    return granted


def _group_key(row: Message) -> tuple:
    channel = channels.get(row.channel)
    if channel is not None and channel.group_by == "config":
        return row.channel, row.config_id, "", 0
    # by address and person: one email never carries another person's notification (a shared mailbox included)
    return row.channel, row.config_id, row.target, row.notification.person_id


def _compose(rows: list[Message]) -> tuple[str, str, str, tuple[str, ...]]:
    """(title, text, link, mobiles) of one send for `rows` (one notification, or a digest of several)."""
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    notes = [r.notification for r in rows]
    mobiles = tuple(sorted({n.person.mobile for n in notes if n.person.mobile}))
    if len(notes) == 1:
        n = notes[0]
        link = f"{site}{n.url}" if n.url else ""
        return n.title, n.body or n.title, link, mobiles
    lines = [f"{i}. {n.title}（{n.person.name}）" for i, n in enumerate(notes[:MAX_LISTED], 1)]
    if len(notes) > MAX_LISTED:
        lines.append(f"……另有 {len(notes) - MAX_LISTED} 条")
    link = f"{site}/notifications/"
    return f"您有 {len(notes)} 条新提醒", "\n".join(lines) + f"\n\n查看全部：{link}", link, mobiles


def _outgoing(rows: list[Message]) -> Outgoing:
    title, text, link, mobiles = _compose(rows)
    config = rows[0].config
    url = services.open_secret(config, "url") if config else ""
    secret = services.open_secret(config, "secret") if config else ""
    return Outgoing(title=title, text=text, link=link, target=rows[0].target, mobiles=mobiles, url=url,
                    secret=secret, options=(config.options if config else {}) or {}, timeout=TIMEOUT)


def _send(channel_name: str, out: Outgoing) -> Result:
    channel = channels.get(channel_name)
    if channel is None:
        return Result(False, permanent=True, answer=f"未知通道 {channel_name}")
    if channel.needs_config and not out.url:
        return Result(False, permanent=True, answer="通道地址无法解密（主密钥已更换？），请重新保存该通道")
    try:
        return channel.send(out)
    except Exception as exc:  # noqa: BLE001 — a plugin's bug must not lose the batch: retried, then dead
        return Result(False, answer=f"通道出错：{type(exc).__name__}")


def _record(token: str, rows: list[Message], result: Result, now) -> None:
    """A failed send: each row's own attempt count goes up (a digest may join an old message and a new one), then
    it waits its own backoff, or is dead after the last attempt — at once when the answer will never change."""
    ids = [r.pk for r in rows]
    mine = Message.objects.filter(pk__in=ids, claim=token, status=Message.Status.PENDING)
    answer = result.answer[:300]
    if result.permanent:
        mine.update(status=Message.Status.DEAD, answer=answer, claim="", attempts=F("attempts") + 1)
        channel = channels.get(rows[0].channel)
        if rows[0].config_id and channel is not None and channel.group_by == "config":
            services.mark_broken(rows[0].config_id, answer)  # a robot's key is wrong for every message
        return
    for attempts in sorted({r.attempts + 1 for r in rows}):
        same = mine.filter(attempts=attempts - 1)
        if attempts >= max_attempts():
            same.update(status=Message.Status.DEAD, answer=answer, claim="", attempts=attempts)
        else:
            same.update(answer=answer, claim="", attempts=attempts, next_attempt_at=now + backoff(attempts))


def _send_group(args):
    name, out = args
    try:
        return _send(name, out)
    finally:
        close_old_connections()


def send_window() -> float:
    """Seconds after a round starts during which a send may still begin: every send then ends (within TIMEOUT)
    before the round's lease runs out, so no other worker re-claims — and sends again — a row being sent."""
    return LEASE.total_seconds() - 2 * TIMEOUT


def deliver_due(limit: int = 500, now=None) -> int:
    """Send what is due, in rounds until nothing is left; returns the messages sent."""
    sent = 0
    while True:
        n, more = _deliver_round(limit, now)
        sent += n
        if not more:
            return sent


def _release(token: str, rows: list[Message]) -> None:
    """Claimed but not sent this round: due again at once, for the next round."""
    if rows:
        Message.objects.filter(pk__in=[r.pk for r in rows], claim=token).update(
            next_attempt_at=F("created_at"), claim="")


def _deliver_round(limit: int, now=None) -> tuple[int, bool]:
    now = now or timezone.now()
    token, rows = claim(limit, now)
    if not rows:
        return 0, False
    # read in the centre meanwhile (a held message: quiet hours, digest, office hours): no need to send it
    read = {r.pk for r in rows if r.notification.read_at is not None}
    if read:
        Message.objects.filter(pk__in=read, claim=token).update(
            status=Message.Status.CANCELLED, answer="已在系统内阅读，不再发送", claim="")
    # a robot or gateway switched off or stopped since the message was written: it must not get it
    closed = {r.pk for r in rows if r.config_id and (not r.config.active or r.config.broken)}
    if closed:
        Message.objects.filter(pk__in=closed, claim=token).update(
            status=Message.Status.DEAD, answer="通道已停用，未发送", claim="")
    groups: dict[tuple, list[Message]] = defaultdict(list)
    for row in rows:
        if row.pk not in read and row.pk not in closed:
            groups[_group_key(row)].append(row)
    ready, waiting = [], []
    for key, members in groups.items():
        channel_name, config_id, _, _ = key
        per_minute = members[0].config.per_minute if members[0].config else 0
        ready.append((key, members)) if take_tokens(f"config:{config_id}" if config_id else channel_name,
                                                    per_minute, 1, now) else waiting.append(members)
    for members in waiting:  # over the limit this minute: the next minute, no attempt counted
        Message.objects.filter(pk__in=[m.pk for m in members], claim=token).update(
            next_attempt_at=now.replace(second=0, microsecond=0) + timedelta(minutes=1), claim="")
    delivered, unsent = _send_all(token, ready)
    _release(token, unsent)
    done = timezone.now()
    for answer, ids in delivered.items():
        Message.objects.filter(pk__in=ids, claim=token, status=Message.Status.PENDING).update(
            status=Message.Status.SENT, sent_at=done, answer=answer, claim="", attempts=F("attempts") + 1)
    return sum(len(ids) for ids in delivered.values()), len(rows) == limit or bool(unsent)


def _send_all(token: str, ready: list) -> tuple[dict[str, list[int]], list[Message]]:
    """Send the groups from THREADS threads, each outcome recorded as it returns (a failure at once; successes
    together, by answer, after). A group not started within the send window goes back unsent, for the next round.
    Returns ({answer: ids delivered}, the rows not sent)."""
    delivered: dict[str, list[int]] = defaultdict(list)
    queue = iter(ready)
    cutoff = time.monotonic() + send_window()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        running: dict = {}

        def start_next(first: bool = False) -> None:
            if not first and time.monotonic() >= cutoff:
                return
            item = next(queue, None)
            if item is not None:
                key, members = item
                running[pool.submit(_send_group, (key[0], _outgoing(members)))] = members

        for _ in range(THREADS):  # the first sends always start: a round makes progress whatever the window
            start_next(first=True)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                members, result = running.pop(future), future.result()
                if result.ok:
                    delivered[result.answer[:300]] += [m.pk for m in members]
                else:
                    try:
                        _record(token, members, result, timezone.now())
                    except Exception:  # noqa: BLE001 — one failure to record must not lose the others' outcomes
                        logger.exception("notify: recording a failed send")
                start_next()
    return delivered, [m for _, members in queue for m in members]
