"""分发名单 API, mounted at /api/v1/exchange (issue #5 §1).

- GET    /exchange/distribution-lists              the built-in lists and those of the caller's units
- POST   /exchange/distribution-lists {unit, name, units}         save a list (收发员 / 单位系统管理员)
- PUT    /exchange/distribution-lists/{id} {unit, name, units}    replace it
- DELETE /exchange/distribution-lists/{id}
"""
from __future__ import annotations

from ninja import Router, Schema, Status

from zhengtong.flow.services.common import person_of

from . import lists, services
from .api import ErrorOut, UnitOut

router = Router(tags=["exchange"])


class ListOut(Schema):
    key: str
    name: str
    unit_ids: list[int]
    builtin: bool
    units: list[UnitOut] = []


class ListIn(Schema):
    unit: int
    name: str
    units: list[int]


def _out(row) -> dict:
    units = list(row.units.values("id", "name"))
    return {"key": f"saved:{row.pk}", "name": row.name, "unit_ids": sorted(u["id"] for u in units), "builtin": False,
            "units": units}


@router.get("/distribution-lists", response={200: list[ListOut], 403: ErrorOut}, summary="分发名单",
            operation_id="exchange_distribution_lists")
def distribution_lists(request):
    person = person_of(request.user)
    units = list(person.identities.filter(active=True).values_list("unit_id", flat=True))
    return [vars(x) for x in lists.lists_for(units)]


@router.post("/distribution-lists", response={201: ListOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="保存分发名单", operation_id="exchange_distribution_list_create")
def create_list(request, payload: ListIn):
    row = services.save_distribution_list(request.user, unit_id=payload.unit, name=payload.name,
                                          unit_ids=payload.units)
    return Status(201, _out(row))


@router.put("/distribution-lists/{list_id}", response={200: ListOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
            summary="修改分发名单", operation_id="exchange_distribution_list_update")
def update_list(request, list_id: int, payload: ListIn):
    return _out(services.save_distribution_list(request.user, unit_id=payload.unit, name=payload.name,
                                                unit_ids=payload.units, list_id=list_id))


@router.delete("/distribution-lists/{list_id}", response={204: None, 404: ErrorOut},
               summary="删除分发名单", operation_id="exchange_distribution_list_delete")
def delete_list(request, list_id: int):
    services.delete_distribution_list(request.user, list_id)
    return Status(204, None)
