"""Reads of the exchange: a unit's 交换箱 and a dispatch's receipts."""
from __future__ import annotations

from django.db.models import QuerySet

from zhengtong.core.errors import Forbidden
from zhengtong.flow.services.common import person_of
from zhengtong.org.models import Duty, Identity

from .models import Delivery
from .services import _not_found, sender_identity

STATUSES = {s.value for s in Delivery.Status}


def clerk_units(user) -> list[int]:
    person = person_of(user)
    return list(Identity.objects.filter(person=person, active=True, duty__code=Duty.DOC_CLERK)
                .values_list("unit_id", flat=True).distinct())


def inbox(user, status: str = "pending") -> QuerySet[Delivery]:
    """The 交换箱 of every unit where the user is 收发员, newest first."""
    units = clerk_units(user)
    if not units:
        raise Forbidden("exchange.clerk_only", "只有收发员可以查看交换箱")
    rows = Delivery.objects.filter(unit_id__in=units)
    if status:
        if status not in STATUSES:
            from zhengtong.core.errors import ServiceError

            raise ServiceError("exchange.invalid_status", "状态应为 pending、signed、refused 或 recalled")
        rows = rows.filter(status=status)
    return (rows.select_related("document", "document__issuing_unit", "sender_unit", "unit", "signed_by__person")
            .order_by("-delivered_at", "-pk"))


def receipts(user, document) -> list[Delivery]:
    """Every delivery of a dispatched document with its events, for the sending side."""
    if sender_identity(user, document) is None:
        raise _not_found(user, document.pk, "exchange.not_sender")
    return list(Delivery.objects.filter(document=document)
                .select_related("document__issuing_unit", "sender_unit", "unit", "signed_by__person")
                .prefetch_related("events__identity__person").order_by("unit__name", "pk"))
