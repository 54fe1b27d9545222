"""Reads of the seals app."""
from __future__ import annotations

from django.utils import timezone

from .models import UnitSeal


def seals_for(identity) -> list[UnitSeal]:
    """Active, unexpired seals the identity is named to use."""
    return list(UnitSeal.objects.filter(holders=identity, status=UnitSeal.Status.ACTIVE,
                                        valid_to__gt=timezone.now()).select_related("unit", "ca"))


def unit_seal(unit) -> UnitSeal | None:
    return UnitSeal.objects.filter(unit=unit, status=UnitSeal.Status.ACTIVE).order_by("-pk").first()


def manageable_seals(user):
    """Seals `user` may list: all for the 安全保密管理员, the own unit's for a 单位系统管理员, else None (not allowed)."""
    from zhengtong.accounts.models import AdminRole
    from zhengtong.accounts.permissions import has_admin_role
    from zhengtong.org.models import Duty

    seals = UnitSeal.objects.select_related("unit").prefetch_related("holders__person", "holders__duty")
    if has_admin_role(user, AdminRole.SECURITY):
        return seals.order_by("unit__name", "pk")
    person = getattr(user, "person", None)
    if person is None or not getattr(user, "is_authenticated", False):
        return None
    units = list(person.identities.filter(active=True, duty__code=Duty.UNIT_ADMIN).values_list("unit_id", flat=True))
    if not units:
        return None
    return seals.filter(unit_id__in=units).order_by("unit__name", "pk")
