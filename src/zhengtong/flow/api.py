"""Process definitions API, mounted at /api/v1/process-definitions (issue #3 §6).

- POST /                 multipart: file (.bpmn), business_type, unit? (id; empty = platform default), name?
                         → 201 {id, version, status} | 400 {"code": "flow.invalid_definition", "message",
                         "problems": [{"element_id", "kind", "message"}]} — nothing saved.
- GET  /?business_type=&unit=   definitions the caller administers (platform 系统管理员: all).
- POST /{id}/activate    → 200 {id, version, status}; the previous active version is retired.

Tasks (`tasks_router`, /api/v1/tasks) and instances (`instances_router`, /api/v1/process-instances):

- GET  /tasks?box=todo|done|toread|read&page=N → {count, items: [{id, title, business_type, node_name,
       instance_id, deadline, deadline_status, received_at, sender, on_behalf_of}]}
- GET  /tasks/{id} → the task with its submit options (routes, chosen nodes, candidates) for its holder
- POST /tasks/{id}/actions {action, route?, to_identities?, to_units?, target_node?, opinion?, position?, send_back?,
       circled?} → 200 {instance_id, instance_status, tasks} (flow/actions.py dispatches to the services)
- POST /process-instances {business_type, title, identity_id?} → 201; 400 `flow.start_in_business_app` for a type
       its business app starts (flow.business `start_url`; 公文 start with POST /api/v1/documents);
       GET /process-instances?scope=started → 我发起的
- GET  /process-instances/{id} → definition id/version, current nodes, trail (participants only; else 403,
       audited by the API's error handler).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from zhengtong.accounts.permissions import administered_unit_ids, require_authenticated, require_unit_admin
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.org.models import Unit

from . import actions, business, selectors, selectors_ops, services
from .models import ProcessDefinition, ProcessInstance, Task

router = Router(tags=["flow"])


class ErrorOut(Schema):
    code: str
    message: str


class Problem(Schema):
    element_id: str = Field(description="出问题的 BPMN 元素 id（整个文件的问题为空）")
    kind: str = Field(description="问题类别，如 invalid_xml、unsupported、assignment_missing、unreachable")
    message: str = Field(description="中文说明")


class InvalidDefinitionOut(ErrorOut):
    problems: list[Problem] = []


class CreatedOut(Schema):
    id: int
    version: int
    status: str


class DefinitionOut(Schema):
    id: int
    business_type: str
    business_type_label: str
    unit_id: int | None = Field(description="为空表示平台默认流程")
    key: str
    version: int
    name: str
    status: str
    sm3: str
    created_at: str
    activated_at: str | None


class DefinitionsOut(Schema):
    items: list[DefinitionOut]


class ListFilter(Schema):
    business_type: str | None = None
    unit: int | None = Field(None, description="单位 id；0 表示平台默认流程")


def _out(d: ProcessDefinition) -> dict:
    return {"id": d.pk, "business_type": d.business_type, "business_type_label": d.get_business_type_display(),
            "unit_id": d.unit_id, "key": d.key, "version": d.version, "name": d.name, "status": d.status,
            "sm3": d.sm3, "created_at": d.created_at.isoformat(),
            "activated_at": d.activated_at.isoformat() if d.activated_at else None}


@router.post("", response={201: CreatedOut, 400: InvalidDefinitionOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                           422: ErrorOut}, summary="上传流程定义（.bpmn）")
def upload(request, file: File[UploadedFile], business_type: Form[str], unit: Form[int | None] = None,
           name: Form[str] = ""):
    unit_obj = None
    if unit:
        unit_obj = Unit.objects.filter(pk=unit).first()
        if unit_obj is None:
            require_unit_admin(request.auth, unit)  # only the platform administrator learns that it does not exist
            raise ServiceError("org.unit_not_found", "单位不存在", status=404)
    if file.size is not None and file.size > 1_000_000:
        raise ServiceError("flow.invalid_definition", "流程定义有 1 个问题，未保存", details={"problems": [
            {"element_id": "", "kind": "too_large", "message": "文件过大，上限 1000000 字节"}]})
    definition = services.upload_definition(request.auth, business_type=business_type, unit=unit_obj,
                                            file_bytes=file.read(), name=name)
    return Status(201, {"id": definition.pk, "version": definition.version, "status": definition.status})


@router.get("", response={200: DefinitionsOut, 401: ErrorOut, 403: ErrorOut}, summary="流程定义列表")
def definitions(request, flt: Query[ListFilter]):
    require_authenticated(request.auth)
    allowed = administered_unit_ids(request.auth)
    qs = ProcessDefinition.objects.all()
    if allowed is not None:
        if not allowed:
            raise Forbidden("permission.denied", "需要系统管理员或单位系统管理员权限")
        qs = qs.filter(unit_id__in=allowed)
    if flt.business_type:
        qs = qs.filter(business_type=flt.business_type)
    if flt.unit is not None:
        qs = qs.filter(unit__isnull=True) if flt.unit == 0 else qs.filter(unit_id=flt.unit)
    return {"items": [_out(d) for d in qs.order_by("business_type", "unit_id", "key", "-version")[:500]]}


@router.post("/{int:definition_id}/activate", response={200: CreatedOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                                       409: ErrorOut}, summary="启用流程定义版本")
def activate(request, definition_id: int):
    definition = get_object_or_404(ProcessDefinition.objects.select_related("unit"), pk=definition_id)
    definition = services.activate_definition(request.auth, definition)
    return {"id": definition.pk, "version": definition.version, "status": definition.status}


# --- tasks and instances (issue #3 §6), mounted at /api/v1/tasks and /api/v1/process-instances ----------------

tasks_router = Router(tags=["tasks"])
instances_router = Router(tags=["tasks"])



class TaskItem(Schema):
    id: int
    title: str
    business_type: str
    node_name: str
    instance_id: int
    deadline: date | None = Field(description="办理时限（工作日推算）")
    deadline_status: str = Field(description="normal 正常 / yellow 黄牌 / red 红牌")
    received_at: datetime
    sender: str | None = Field(description="发送人姓名")
    on_behalf_of: str | None = Field(None, description="AB岗：代谁办理（姓名）")


class TaskList(Schema):
    count: int
    items: list[TaskItem]


class WorklistQuery(Schema):
    box: Literal["todo", "done", "toread", "read"] = "todo"
    page: int = Field(1, ge=1, le=100000)


class ActionIn(Schema):
    action: Literal["open", "submit", "return", "retract", "transfer", "delegate", "add_signers", "remove_signers",
                    "circulate", "urge", "suspend", "resume", "terminate"]
    route: str = Field("", max_length=40, description="流转方向（网关条件值，如 countersign；无选择时为空）")
    to_identities: list[int] = Field([], max_length=500, description="下一步办理人（身份 id；会签为每位会签人）")
    to_units: list[int] = Field([], max_length=500, description="传阅：整个单位（单位 id）")
    target_node: str = Field("", max_length=100, description="退回的目标环节（节点 id；空为上一步）")
    opinion: str = Field("", max_length=2000, description="意见；退回、挂起、终止时为理由，催办时为催办内容")
    position: Literal["", "before", "after"] = Field("", description="加签：before 前加签 / after 后加签")
    send_back: bool = Field(False, description="提交退回件时直接送回退回人")
    circled: bool = Field(False, description="圈阅：领导圈阅视为同意（R1.4），无需另写意见")


class NewTask(Schema):
    id: int
    node_id: str
    node_name: str
    assignee_id: int
    on_behalf_of_id: int | None


class ActionOut(Schema):
    instance_id: int
    instance_status: str
    tasks: list[NewTask] = Field(description="此操作产生的新待办")


class CurrentNode(Schema):
    task_id: int
    node_id: str
    node_name: str
    assignee: str | None
    on_behalf_of: str | None
    deadline: date | None
    deadline_status: str


class TrailItem(Schema):
    operation: str
    node_id: str
    node_name: str
    identity: str | None
    on_behalf_of: str | None
    route: str
    opinion: str
    created_at: datetime


class InstanceOut(Schema):
    id: int
    title: str
    business_type: str
    status: str
    definition_id: int
    definition_version: int
    started_at: datetime
    completed_at: datetime | None
    current: list[CurrentNode]
    trail: list[TrailItem]


@tasks_router.get("", response={200: TaskList, 401: ErrorOut}, summary="待办 / 已办 / 待阅 / 已阅")
def worklist(request, q: Query[WorklistQuery]):
    require_authenticated(request.auth)
    return selectors.worklist(request.auth, q.box, q.page)


class RouteOption(Schema):
    value: str = Field(description="提交时的 route")
    label: str = Field(description="流向的环节")


class Candidate(Schema):
    node_name: str
    identity_id: int
    name: str
    unit: str
    department: str
    title: str


class SubmitOptions(Schema):
    routes: list[RouteOption]
    chosen_nodes: list[str] = Field(description="下一步由您选择办理人的环节")
    multi: bool = Field(description="会签：可选多人，每人一份")
    opinion_required: bool
    candidates: list[Candidate] = Field(description="可选的下一步办理人（to_identities 用其 identity_id）")


class TaskDetail(Schema):
    id: int
    title: str
    business_type: str
    node_id: str
    node_name: str
    kind: str
    status: str
    instance_id: int
    deadline: date | None
    deadline_status: str
    received_at: datetime
    sender: str | None
    on_behalf_of: str | None
    returned_by: str | None = Field(description="退回人（可直接送回：submit 时 send_back=true）")
    submit: SubmitOptions | None = Field(description="办理人本人的待办才有：提交时可选的流转方向和办理人")


@tasks_router.get("/{int:task_id}", response={200: TaskDetail, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
                  summary="任务详情与提交选项")
def task_detail(request, task_id: int):
    require_authenticated(request.auth)
    task = get_object_or_404(Task.objects.select_related("instance__definition", "instance__drafter",
                                                         "assignee__person", "sender__person",
                                                         "on_behalf_of__person", "returned_by__person"), pk=task_id)
    if not selectors.is_participant(request.auth, task.instance):
        raise Forbidden("flow.not_participant", "只有该流程的参与人可以查看")
    person = getattr(request.auth, "person", None)
    mine = person is not None and task.assignee.person_id == person.pk
    form = None
    if mine and task.kind == Task.Kind.TODO and task.status == Task.Status.OPEN:
        form = selectors_ops.submit_form(task, with_candidates=True)
    return {"id": task.pk, "title": task.instance.title, "business_type": task.instance.business_type,
            "node_id": task.node_id, "node_name": task.node_name, "kind": task.kind, "status": task.status,
            "instance_id": task.instance_id, "deadline": task.deadline, "deadline_status": task.deadline_status,
            "received_at": task.received_at, "sender": selectors.person_name(task.sender),
            "on_behalf_of": selectors.person_name(task.on_behalf_of), "returned_by": selectors.person_name(task.returned_by),
            "submit": None if form is None else {
                "routes": [{"value": v, "label": label} for v, label in form["routes"]],
                "chosen_nodes": list(dict.fromkeys(form["chosen"])), "multi": form["multi"],
                "opinion_required": form["opinion_required"], "candidates": form["candidates"]}}


@tasks_router.post("/{int:task_id}/actions", response={200: ActionOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut,
                                                       404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
                   summary="办理任务（提交等操作）")
def act(request, task_id: int, body: ActionIn):
    require_authenticated(request.auth)
    task = get_object_or_404(Task.objects.select_related("assignee", "instance"), pk=task_id)
    new_tasks = actions.perform(request.auth, task, actions.ActionRequest(**body.dict()))
    instance = ProcessInstance.objects.only("status").get(pk=task.instance_id)
    return {"instance_id": instance.pk, "instance_status": instance.status,
            "tasks": [{"id": t.pk, "node_id": t.node_id, "node_name": t.node_name, "assignee_id": t.assignee_id,
                       "on_behalf_of_id": t.on_behalf_of_id} for t in new_tasks]}


class StartedQuery(Schema):
    scope: Literal["started"] = Field("started", description="started：我发起的")
    status: Literal["", "running", "suspended", "completed", "terminated"] = ""
    page: int = Field(1, ge=1, le=100000)


class StartedCurrent(Schema):
    task_id: int
    node_name: str
    assignee: str | None
    deadline: date | None
    deadline_status: str


class StartedItem(Schema):
    id: int
    title: str
    business_type: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    deadline: date | None = Field(description="整体办结时限")
    deadline_status: str
    current: list[StartedCurrent]


class StartedList(Schema):
    count: int
    items: list[StartedItem]


@instances_router.get("", response={200: StartedList, 401: ErrorOut}, summary="我发起的流程")
def started_instances(request, q: Query[StartedQuery]):
    require_authenticated(request.auth)
    return selectors.started(request.auth, q.page, status=q.status)


class StartIn(Schema):
    business_type: str = Field(description="业务类型。由业务应用发起的类型在此被拒绝（flow.start_in_business_app）："
                                           "公文（发文、签报、收文）用 POST /api/v1/documents 拟稿或登记")
    title: str = Field(max_length=200)
    identity_id: int | None = Field(None, description="以哪个身份发起（默认主身份）")


class StartedOut(Schema):
    id: int
    definition_id: int
    definition_version: int
    tasks: list[NewTask] = Field(description="第一步的待办（起草 / 签收等），属于发起人")


@instances_router.post("", response={201: StartedOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
                       summary="发起流程")
def start_instance(request, body: StartIn):
    require_authenticated(request.auth)
    business.refuse_bare_start(body.business_type)
    identity = services.identity_to_start(request.auth, body.identity_id)
    instance = services.start_process(request.auth, identity=identity, business_type=body.business_type,
                                      title=body.title)
    tasks = Task.objects.filter(instance=instance, status=Task.Status.OPEN).order_by("id")
    return Status(201, {"id": instance.pk, "definition_id": instance.definition_id,
                        "definition_version": instance.definition.version,
                        "tasks": [{"id": t.pk, "node_id": t.node_id, "node_name": t.node_name,
                                   "assignee_id": t.assignee_id, "on_behalf_of_id": t.on_behalf_of_id}
                                  for t in tasks]})


@instances_router.get("/{int:instance_id}", response={200: InstanceOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
                      summary="流程实例：版本、当前节点、办理轨迹")
def instance_detail(request, instance_id: int):
    require_authenticated(request.auth)
    instance = get_object_or_404(ProcessInstance.objects.select_related("definition"), pk=instance_id)
    if not selectors.is_participant(request.auth, instance):
        raise Forbidden("flow.not_participant", "只有该流程的参与人可以查看")
    return selectors.instance_detail(instance)
