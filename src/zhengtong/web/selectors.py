from django.db.models import Q

from .models import Notice


def notices_for(user):
    """Platform-wide notices, and those of the units the user holds a post in or above them."""
    person = getattr(user, "person", None)
    unit_ids: set[int] = set()
    if person is not None:
        for identity in person.identities.filter(active=True).select_related("unit"):
            unit = identity.unit
            while unit is not None and unit.pk not in unit_ids:
                unit_ids.add(unit.pk)
                unit = unit.parent
    return Notice.objects.filter(Q(platform_wide=True) | Q(unit_id__in=unit_ids)).select_related("unit")
