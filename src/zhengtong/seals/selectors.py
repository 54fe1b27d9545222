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
