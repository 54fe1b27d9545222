"""Organisation API, mounted at /api/v1/org (every signed-in user; the organisation is an internal directory).

Public contract (issue #2 §7; docs/org.md):
- GET /people?q=&unit=&limit=   people by name, full pinyin or initials, best first, with their posts;
- GET /units?q=&limit=          units by full name, short name, pinyin or initials;
- GET /units/{id}/children      one level of the tree (id 0 = the top);
- GET /units/{id}               a unit with its departments.
`q` is required: missing, blank or longer than 50 characters → 422 `{"code": "request.invalid"}`.
"""
from __future__ import annotations

from ninja import Query, Router, Schema
from pydantic import Field

from . import selectors

router = Router(tags=["org"])


class ErrorOut(Schema):
    code: str
    message: str


class Ref(Schema):
    id: int
    name: str


class PersonIdentityOut(Schema):
    id: int
    unit: Ref
    department: Ref | None
    duty: str = Field(description="职责名称，如“处室负责人”")
    duty_code: str = Field(description="职责代码，如 dept_head")
    title: str = Field(description="职务，如“副主任”")
    main: bool


class PersonOut(Schema):
    id: int
    name: str
    identities: list[PersonIdentityOut]


class PeopleOut(Schema):
    items: list[PersonOut]


class UnitOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    kind_label: str
    region: str
    parent_id: int | None


class UnitsOut(Schema):
    items: list[UnitOut]


class UnitNodeOut(UnitOut):
    has_children: bool


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None


class IdentityNodeOut(Schema):
    id: int
    person_id: int
    name: str
    department: Ref | None
    duty: str
    title: str
    main: bool


class ChildrenOut(Schema):
    unit: UnitNodeOut | None
    units: list[UnitNodeOut]
    departments: list[DepartmentOut]
    identities: list[IdentityNodeOut]


class UnitDetailOut(UnitOut):
    credit_code: str
    doc_code: str
    parent: Ref | None
    active: bool
    departments: list[DepartmentOut]


QueryText = Query(..., min_length=1, max_length=selectors.MAX_QUERY_LENGTH,
                  description="姓名/单位名称、全拼或首字母，如“张三”“zhangsan”“zs”")
Limit = Query(20, ge=1, le=selectors.MAX_LIMIT)
UnitFilter = Query(None, description="只查这些单位的人员（可重复：unit=1&unit=2）")


def _kind_label(kind: str) -> str:
    from .models import Unit

    try:
        return Unit.Kind(kind).label
    except ValueError:
        return kind


def _unit(hit) -> dict:
    return {"id": hit.id, "name": hit.name, "short_name": hit.short_name, "kind": hit.kind,
            "kind_label": _kind_label(hit.kind), "region": hit.region_name, "parent_id": hit.parent_id}


@router.get("/people", response={200: PeopleOut, 401: ErrorOut, 422: ErrorOut}, summary="查找人员（姓名/拼音/首字母）")
def people(request, q: str = QueryText, unit: list[int] = UnitFilter,
           limit: int = Limit):
    """`zs` and `zhangsan` both find 张三. Ranked: exact name, name prefix, full pinyin, initials, prefixes,
    substrings; then leaders first. With `unit`, only posts in those units are listed."""
    hits = selectors.search_people(q, limit=limit, unit_ids=unit or None)
    return {"items": [{
        "id": hit.person_id,
        "name": hit.name,
        "identities": [{
            "id": i.id, "unit": {"id": i.unit_id, "name": i.unit_name},
            "department": {"id": i.department_id, "name": i.department_name} if i.department_id else None,
            "duty": i.duty, "duty_code": i.duty_code, "title": i.title, "main": i.is_main,
        } for i in hit.identities],
    } for hit in hits]}


@router.get("/units", response={200: UnitsOut, 401: ErrorOut, 422: ErrorOut}, summary="查找单位（名称/简称/拼音）")
def units(request, q: str = QueryText, limit: int = Limit):
    return {"items": [_unit(hit) for hit in selectors.search_units(q, limit=limit)]}


@router.get("/units/{int:unit_id}/children", response={200: ChildrenOut, 401: ErrorOut, 404: ErrorOut},
            summary="组织机构树的一层（0 为顶层）")
def children(request, unit_id: int):
    tree = selectors.unit_children(unit_id or None)

    def node(n) -> dict:
        return {**_unit(n), "has_children": n.has_children}

    return {
        "unit": node(tree.unit) if tree.unit else None,
        "units": [node(n) for n in tree.units],
        "departments": [{"id": d.id, "name": d.name, "parent_id": d.parent_id} for d in tree.departments],
        "identities": [{
            "id": i.id, "person_id": i.person_id, "name": i.name,
            "department": {"id": i.department_id, "name": i.department} if i.department_id else None,
            "duty": i.duty, "title": i.title, "main": i.is_main,
        } for i in tree.identities],
    }


@router.get("/units/{int:unit_id}", response={200: UnitDetailOut, 401: ErrorOut, 404: ErrorOut}, summary="单位详情")
def unit_detail(request, unit_id: int):
    unit = selectors.get_unit(unit_id)
    return {
        "id": unit.pk, "name": unit.name, "short_name": unit.short_name, "kind": unit.kind,
        "kind_label": unit.get_kind_display(), "region": unit.region.name, "parent_id": unit.parent_id,
        "parent": {"id": unit.parent.pk, "name": unit.parent.name} if unit.parent else None,
        "credit_code": unit.credit_code, "doc_code": unit.doc_code, "active": unit.active,
        "departments": [{"id": d.id, "name": d.name, "parent_id": d.parent_id}
                        for d in selectors.unit_departments(unit.pk)],
    }
