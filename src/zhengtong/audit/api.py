"""Audit API for the 安全审计员 (R7.2), mounted at /api/v1/audit. Read only; anyone else gets 403 (audited).

    GET /api/v1/audit/records?actor=&unit=&action=auth.&category=&outcome=&since=&until=&before=&limit=
        → {"items": [record, …] newest first, "next_before": seq | null}
    GET /api/v1/audit/records/{seq} → one record

Pages are cut by seq: pass `next_before` back as `before` for the next page.
"""
from __future__ import annotations

from datetime import date, datetime

from ninja import Query, Router, Schema
from pydantic import Field

from . import labels, selectors

router = Router(tags=["audit"])


class ErrorOut(Schema):
    code: str
    message: str
    details: dict | None = None


class RecordOut(Schema):
    id: int
    seq: int
    time: datetime
    actor_id: int | None
    actor_username: str
    actor_name: str
    identity_id: int | None
    unit_id: int | None
    unit_name: str
    ip: str
    channel: str
    action: str
    action_label: str
    category: str
    object_type: str
    object_id: str
    object_repr: str
    outcome: str
    changes: dict
    detail: dict
    prev_hash: str
    hash: str = Field(description="SM3(prev_hash + 记录内容)")

    @staticmethod
    def resolve_action_label(obj) -> str:
        return labels.action_label(obj.action)


class PageOut(Schema):
    items: list[RecordOut]
    next_before: int | None = Field(None, description="下一页（更早的记录）时作为 before 传回；没有更多时为 null")


class FilterIn(Schema):
    actor: str = Field("", max_length=150, description="账号或姓名（精确匹配）")
    unit: str = Field("", max_length=100, description="单位名称中的字，或单位ID")
    action: str = Field("", max_length=80, description="操作代码或其前缀，如 auth.")
    category: str = Field("", pattern="^(|security|business)$")
    outcome: str = Field("", pattern="^(|success|failure|denied)$")
    since: date | None = Field(None, description="起始日期（含）")
    until: date | None = Field(None, description="截止日期（含）")
    before: int | None = Field(None, ge=1, description="只返回序号小于此值的记录")
    limit: int = Field(selectors.PAGE_SIZE, ge=1, le=200)


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get("/records", response={200: PageOut, **ERRORS}, summary="查询审计记录（安全审计员）")
def list_records(request, params: Query[FilterIn]):
    flt = selectors.RecordFilter(actor=params.actor.strip(), unit=params.unit.strip(), action=params.action.strip(),
                                 category=params.category, outcome=params.outcome, since=params.since,
                                 until=params.until)
    page = selectors.page(request.auth, flt, before=params.before, size=params.limit)
    return {"items": page.rows, "next_before": page.older}


@router.get("/records/{seq}", response={200: RecordOut, **ERRORS}, summary="一条审计记录（安全审计员）")
def get_record(request, seq: int):
    return selectors.record_detail(request.auth, seq)["record"]
