"""Reads of the notifications: the live count, the centre's list, the administrators' delivery view."""
from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from zhengtong.accounts.permissions import administered_unit_ids

from . import channels
from .models import ChannelConfig, Message, Notification


def unread_count(person_id: int) -> int:
    """One index-only count (the partial index `notify_unread`): the badge polls it every 30 s from every page."""
    return Notification.objects.filter(person_id=person_id, read_at__isnull=True).count()


BADGE_SECONDS = 25  # under the 30 s poll: a count cached by another process (locmem in development) is never older


def badge_key(user_id: int) -> str:
    return f"notify:badge:{user_id}"


def badge(user_id: int) -> int | None:
    """The bell's count for an account: None when it has no person or holds a 三员 role (no bell). Cached per
    account (services.forget_badges drops it whenever the person's notifications change), so the poll of every
    open page costs one cache read instead of two queries."""
    from django.core.cache import cache
    from django.db.models import Exists

    from zhengtong.accounts.models import AdminRoleGrant
    from zhengtong.org.models import Person

    cached = cache.get(badge_key(user_id))
    if cached is not None:
        return cached if cached >= 0 else None
    row = (Person.objects.filter(user_id=user_id)
           .values_list("pk", Exists(AdminRoleGrant.objects.filter(user_id=user_id))).first())
    found = None if row is None or row[1] else unread_count(row[0])
    cache.set(badge_key(user_id), -1 if found is None else found, BADGE_SECONDS)
    return found


def centre(person, *, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(person=person)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("identity__unit").order_by("-created_at", "-pk")


def admin_scope(user) -> set[int] | None:
    """The units whose deliveries an administrator sees: None = all (系统管理员); an empty set = none."""
    return administered_unit_ids(user)


def _messages(scope: set[int] | None) -> QuerySet[Message]:
    rows = Message.objects.all()
    return rows if scope is None else rows.filter(notification__identity__unit_id__in=scope)


def status_by_channel(scope: set[int] | None) -> list[dict]:
    """Per channel: how many are waiting, sent, failed (dead) and cancelled."""
    counts = (_messages(scope).values("channel").annotate(
        pending=Count("pk", filter=Q(status=Message.Status.PENDING, attempts=0)),
        sent=Count("pk", filter=Q(status=Message.Status.SENT)),
        dead=Count("pk", filter=Q(status=Message.Status.DEAD)),
        cancelled=Count("pk", filter=Q(status=Message.Status.CANCELLED)),
        retrying=Count("pk", filter=Q(status=Message.Status.PENDING, attempts__gt=0))).order_by("channel"))
    labels = channels.labels()
    return [{**row, "label": labels.get(row["channel"], row["channel"])} for row in counts]


def problems(scope: set[int] | None, *, limit: int = 100) -> list[Message]:
    """Failed messages and ones being retried, newest first, with the provider's answer."""
    return list(_messages(scope).filter(Q(status=Message.Status.DEAD) | Q(status=Message.Status.PENDING,
                                                                        attempts__gt=0))
                .select_related("notification__person", "notification__identity__unit", "config")
                .order_by("-created_at", "-pk")[:limit])


def channel_configs(scope: set[int] | None) -> QuerySet[ChannelConfig]:
    rows = ChannelConfig.objects.select_related("unit")
    return rows if scope is None else rows.filter(unit_id__in=scope)
