"""分发名单 for 核发: a unit's saved lists and the built-in ones computed from the organisation, so a list like
"各县区人民政府" follows the organisation as it changes instead of going stale.

- 各县区人民政府: active units of kind 政府 in the county-level regions under the sender's city.
- 市直各部门: active 政府工作部门 of the city level.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from zhengtong.org.models import Region, Unit

from .models import DistributionList


@dataclass
class ListOut:
    key: str  # "builtin:counties" | "saved:<id>"
    name: str
    unit_ids: list[int] = field(default_factory=list)
    builtin: bool = False
    units: list[dict] = field(default_factory=list)  # [{"id", "name"}] in the organisation's order


def builtin_lists() -> list[ListOut]:
    counties = Unit.objects.filter(active=True, kind=Unit.Kind.GOVERNMENT, region__level=Region.Level.COUNTY)
    departments = Unit.objects.filter(active=True, kind=Unit.Kind.GOV_DEPT, region__level=Region.Level.CITY)
    return [ListOut("builtin:counties", "各县区人民政府", list(counties.values_list("pk", flat=True)), True),
            ListOut("builtin:city_departments", "市直各部门", list(departments.values_list("pk", flat=True)), True)]


def lists_for(unit_ids: list[int]) -> list[ListOut]:
    """The built-in lists and those saved by the given units."""
    saved = DistributionList.objects.filter(unit_id__in=unit_ids).prefetch_related("units")
    out = builtin_lists() + [ListOut(f"saved:{d.pk}", d.name, sorted(u.pk for u in d.units.all() if u.active))
                             for d in saved]
    names = dict(Unit.objects.filter(pk__in={pk for x in out for pk in x.unit_ids}).values_list("pk", "name"))
    order = {pk: i for i, pk in enumerate(Unit.objects.filter(pk__in=names).values_list("pk", flat=True))}
    for x in out:
        x.units = [{"id": pk, "name": names[pk]} for pk in sorted(x.unit_ids, key=lambda pk: order.get(pk, 0))]
    return out
