"""Reads of the exchange: a unit's 交换箱 and a dispatch's receipts."""
from __future__ import annotations

from django.db.models import Count, QuerySet

from zhengtong.accounts.permissions import is_any_admin
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.flow.services.common import person_of
from zhengtong.org.models import Duty, Identity

from .models import Delivery
from .services import _not_found, sending_side

STATUSES = {s.value for s in Delivery.Status}


def _clerk_unit_ids(person) -> list[int]:
    return list(Identity.objects.filter(person=person, active=True, duty__code=Duty.DOC_CLERK)
                .values_list("unit_id", flat=True).distinct())


def clerk_units(user) -> list[int]:
    return _clerk_unit_ids(person_of(user))


def _inbox_units(user) -> list[int]:
    units = clerk_units(user)
    if not units:
        raise Forbidden("exchange.clerk_only", "只有收发员可以查看交换箱")
    return units


def inbox(user, status: str = "pending") -> QuerySet[Delivery]:
    """The 交换箱 of every unit where the user is 收发员, newest first."""
    rows = Delivery.objects.filter(unit_id__in=_inbox_units(user))
    if status:
        if status not in STATUSES:
            raise ServiceError("exchange.invalid_status", "状态应为 pending、signed、refused 或 recalled")
        rows = rows.filter(status=status)
    return (rows.select_related("document", "document__issuing_unit", "sender_unit", "unit", "signed_by__person")
            .order_by("-delivered_at", "-pk"))


def inbox_counts(user) -> dict[str, int]:
    """How many deliveries each tab of the 交换箱 holds (every status, zeros included), in one query."""
    units = _inbox_units(user)
    counts = dict.fromkeys(Delivery.Status.values, 0)
    counts.update(Delivery.objects.filter(unit_id__in=units).values_list("status").annotate(n=Count("pk"))
                  .order_by())
    return counts


def pending_count(user) -> int | None:
    """The navigation's badge: deliveries waiting for 签收 in the user's units; None when they are no 收发员.
    Quiet on every page: no person_of (it records a refusal for the 三员 and accounts without a person)."""
    person = getattr(user, "person", None)
    if person is None or is_any_admin(user):
        return None
    units = _clerk_unit_ids(person)
    if not units:
        return None
    return Delivery.objects.filter(unit_id__in=units, status=Delivery.Status.PENDING).count()


def receipts(user, document) -> list[Delivery]:
    """The deliveries of a dispatched document with their events, for the sending side: the sender sees every one
    (forwarded ones included), a unit that forwarded it those it forwarded."""
    identity, units = sending_side(user, document)
    if identity is None:
        raise _not_found(user, document.pk, "exchange.not_sender")
    rows = Delivery.objects.filter(document=document)
    if units != [document.unit_id]:
        rows = rows.filter(sender_unit_id__in=units)
    return list(rows
                .select_related("document__issuing_unit", "sender_unit", "unit", "signed_by__person",
                                "refused_by__person", "recalled_by__person")
                .prefetch_related("events__identity__person").order_by("unit__name", "pk"))
