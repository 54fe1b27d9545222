"""Calendar API (R8), mounted at /api/v1/calendar.

Dates are `YYYY-MM-DD`. A date in a year without holiday data answers 400
`{"code": "calendar.year_missing", "message", "details": {"year"}}`; malformed input answers 422
`{"code": "request.invalid", "message"}`.
"""
from __future__ import annotations

from datetime import date

from ninja import Query, Router, Schema
from pydantic import Field

from . import calendar

router = Router(tags=["calendar"])

MAX_DAYS = 3660  # about ten years of working days either way


class ErrorOut(Schema):
    code: str
    message: str
    details: dict | None = None


class DateOut(Schema):
    date: date


class DaysOut(Schema):
    days: int


class WorkingDayOut(Schema):
    date: date
    working: bool
    kind: str = Field(description="workday 工作日 | weekend 休息日 | holiday 节假日 | makeup 调休上班")
    name: str | None = Field(None, description="节日名称，如 春节；普通日期为 null")


class AddIn(Schema):
    start: date = Field(description="起算日期（不计入，R8.1）")
    days: int = Field(ge=-MAX_DAYS, le=MAX_DAYS, description="工作日数；0 返回起算日期，负数向前推算")


class BetweenIn(Schema):
    start: date = Field(description="起算日期（不计入）")
    end: date = Field(description="截止日期（计入）")


class DayIn(Schema):
    date: date


ERRORS = {400: ErrorOut, 401: ErrorOut, 422: ErrorOut}


@router.get("/add-working-days", response={200: DateOut, **ERRORS}, summary="按工作日推算日期",
            description="起算日之后第 N 个工作日（起算日不计入）。节假日及调休按国务院办公厅安排。")
def add_working_days(request, params: Query[AddIn]):
    return {"date": calendar.add_working_days(params.start, params.days)}


@router.get("/working-days-between", response={200: DaysOut, **ERRORS}, summary="两日期间的工作日数",
            description="start 之后（不含）至 end（含）之间的工作日数；end 早于 start 时为负数。")
def working_days_between(request, params: Query[BetweenIn]):
    return {"days": calendar.working_days_between(params.start, params.end)}


@router.get("/is-working-day", response={200: WorkingDayOut, **ERRORS}, summary="是否工作日")
def is_working_day(request, params: Query[DayIn]):
    info = calendar.day_info(params.date)
    return {"date": info.date, "working": info.working, "kind": info.kind, "name": info.name or None}
