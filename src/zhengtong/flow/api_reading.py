"""传阅 / 已阅 / 常用语 API (issue #3 §3/§4); 传阅 and 催办 themselves go through `POST /tasks/{id}/actions`
(actions "circulate" with to_identities / to_units, "urge" with opinion = the message).

- POST   /tasks/read {"ids": [...]} → {"marked": n}: the caller's own 待阅 become 已阅; anyone else's row → 403
         flow.not_your_task and nothing changes; unknown ids → 404.
- GET    /process-instances/{id}/readers → {"read", "unread", "rows": [...]}: who it was circulated to and who has
         read it (participants only).
- GET    /phrases → {"defaults": bool, "items": [{id, text}]} (id null for the platform defaults)
- POST   /phrases {"text"} → 201 {id, text}; DELETE /phrases/{id} → 204. Someone else's phrase → 404.
"""
from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from pydantic import Field

from zhengtong.accounts.permissions import require_authenticated
from zhengtong.core.errors import Forbidden, NotFound

from . import selectors, selectors_reading, services
from .api import ErrorOut
from .models import Phrase, ProcessInstance, Task

reading_tasks_router = Router(tags=["tasks"])
reading_instances_router = Router(tags=["tasks"])
phrases_router = Router(tags=["phrases"])


class ReadIn(Schema):
    ids: list[int] = Field(..., min_length=1, max_length=500, description="待阅任务 id")
    opinion: str = Field("", max_length=2000, description="阅知意见（可不填）")


class ReadOut(Schema):
    marked: int = Field(description="本次标为已阅的件数（已阅过的不计）")


class ReaderRow(Schema):
    id: int
    reader: str
    where: str = Field(description="部门（或单位简称）")
    sender: str
    node_name: str
    received_at: datetime
    opened_at: datetime | None
    read_at: datetime | None
    read: bool


class ReadersOut(Schema):
    read: int
    unread: int
    rows: list[ReaderRow]


class PhraseIn(Schema):
    text: str = Field(..., max_length=200)


class PhraseOut(Schema):
    id: int | None
    text: str


class PhrasesOut(Schema):
    defaults: bool = Field(description="true：尚未保存常用语，列出的是系统默认常用语（id 为空）")
    items: list[PhraseOut]


@reading_tasks_router.post("/read", response={200: ReadOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                              422: ErrorOut}, summary="批量标为已阅")
def mark_read(request, body: ReadIn):
    require_authenticated(request.auth)
    ids = list(dict.fromkeys(body.ids))
    tasks = list(Task.objects.select_related("assignee").filter(pk__in=ids))
    if len(tasks) != len(ids):
        raise NotFound("flow.task_not_found", "所选待阅件不存在，请刷新列表")
    return {"marked": services.mark_read(request.auth, tasks, opinion=body.opinion)}


@reading_instances_router.get("/{int:instance_id}/readers", response={200: ReadersOut, 401: ErrorOut, 403: ErrorOut,
                                                                     404: ErrorOut}, summary="传阅情况")
def readers(request, instance_id: int):
    require_authenticated(request.auth)
    instance = get_object_or_404(ProcessInstance, pk=instance_id)
    if not selectors.is_participant(request.auth, instance):
        raise Forbidden("flow.not_participant", "只有该流程的参与人可以查看")
    return selectors_reading.reading_status(instance)


@phrases_router.get("", response={200: PhrasesOut, 401: ErrorOut}, summary="我的常用语")
def phrases(request):
    require_authenticated(request.auth)
    items = selectors_reading.phrases_for(request.auth)
    return {"defaults": bool(items) and items[0]["id"] is None, "items": items}


@phrases_router.post("", response={201: PhraseOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
                     summary="添加常用语")
def add_phrase(request, body: PhraseIn):
    require_authenticated(request.auth)
    phrase = services.add_phrase(request.auth, body.text)
    return Status(201, {"id": phrase.pk, "text": phrase.text})


@phrases_router.delete("/{int:phrase_id}", response={204: None, 401: ErrorOut, 404: ErrorOut}, summary="删除常用语")
def delete_phrase(request, phrase_id: int):
    require_authenticated(request.auth)
    phrase = Phrase.objects.filter(pk=phrase_id).first()
    if phrase is None:
        raise NotFound("flow.phrase_not_found", "常用语不存在")
    services.delete_phrase(request.auth, phrase)
    return Status(204, None)
