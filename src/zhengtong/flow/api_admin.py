"""Instance-level operations over the API (issue #3 §4/§5), mounted at /api/v1/ (zhengtong/api.py):

- POST /process-instances/{id}/admin-actions {action: suspend|resume|terminate|move|reassign|set_deadline,
       target_node?, task_id?, to_identities?, deadline?, reason} → 200 {instance_id, instance_status, tasks}
- POST /work-handovers {from_identity, to_identity, reason} → 200 {moved}

Permission, locking, audit and the Chinese messages are in `flow.services.admin`; here only the request's shape
is turned into the service's arguments (422 codes as in flow/actions.py).
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from pydantic import Field

from zhengtong.accounts.permissions import require_authenticated
from zhengtong.core.errors import ServiceError
from zhengtong.org.models import Identity

from . import services
from .actions import _identities
from .api import ActionOut, ErrorOut
from .models import ProcessInstance, Task

router = Router(tags=["flow"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class AdminActionIn(Schema):
    action: Literal["suspend", "resume", "terminate", "move", "reassign", "set_deadline"] = Field(
        description="suspend 挂起 / resume 恢复 / terminate 终止（拟稿人或本单位系统管理员）；move 调度 / reassign "
                    "重置处理人（本单位系统管理员）；set_deadline 设置整体办结时限（拟稿人或本单位系统管理员）")
    target_node: str = Field("", max_length=100, description="调度：目标环节（节点 id）")
    task_id: int | None = Field(None, description="重置处理人：要更换处理人的待办 id")
    to_identities: list[int] = Field([], max_length=500, description="调度 / 重置处理人：新的办理人（身份 id）")
    deadline: date | None = Field(None, description="设置整体时限：办结日期；为空表示取消时限")
    reason: str = Field("", max_length=2000, description="理由（挂起、终止、调度、重置处理人必填）")


class HandoverIn(Schema):
    from_identity: int = Field(description="交接人（离岗人员的身份 id）")
    to_identity: int = Field(description="接收人（同一单位的身份 id）")
    reason: str = Field(max_length=2000, description="交接理由（必填）")


class HandoverOut(Schema):
    moved: int = Field(description="移交的待办数")


def _tasks(rows) -> list[dict]:
    return [{"id": t.pk, "node_id": t.node_id, "node_name": t.node_name, "assignee_id": t.assignee_id,
             "on_behalf_of_id": t.on_behalf_of_id} for t in rows]


def perform(actor, instance: ProcessInstance, body: AdminActionIn) -> list[Task]:
    """The service for the action (shared with the 流程监控 pages' forms)."""
    action = body.action
    if action == "suspend":
        return services.suspend_instance(actor, instance, reason=body.reason)
    if action == "resume":
        return services.resume_instance(actor, instance)
    if action == "terminate":
        return services.terminate_instance(actor, instance, reason=body.reason)
    if action == "set_deadline":
        services.set_instance_deadline(actor, instance, deadline=body.deadline, reason=body.reason)
        return []
    if action == "move":
        if not body.target_node:
            raise ServiceError("flow.target_node_required", "调度需要选择目标环节", status=422)
        targets = _identities(body.to_identities, "调度") if body.to_identities else []
        return services.move_instance(actor, instance, target_node=body.target_node, to_identities=targets,
                                      reason=body.reason)
    if action == "reassign":
        task = Task.objects.filter(pk=body.task_id or 0, instance=instance).first()
        if task is None:
            raise ServiceError("flow.task_not_found", "该流程没有这条待办", status=422)
        return services.reassign_task(actor, task, to_identities=_identities(body.to_identities, "重置处理人"),
                                      reason=body.reason)
    raise ServiceError("flow.unknown_action", f"未知的操作“{action}”", status=422)


@router.post("/process-instances/{int:instance_id}/admin-actions", response={200: ActionOut, **ERRORS},
             summary="流程实例操作：挂起、恢复、终止、调度、重置处理人、设置整体时限",
             description="错误码：403 flow.not_instance_controller / flow.not_unit_admin；409 "
                         "flow.instance_not_running、flow.instance_not_suspended、flow.instance_finished、"
                         "flow.task_not_open、flow.dispatch_same_node、flow.dispatch_through_countersign、"
                         "flow.dispatch_target_invalid；400 flow.reason_required、flow.deadline_in_past、"
                         "flow.identity_other_unit、flow.identity_inactive、calendar.year_missing；422 "
                         "flow.dispatch_target_invalid、flow.identity_not_found、flow.identity_required、"
                         "flow.one_identity_required、flow.task_not_found、flow.target_node_required")
def admin_action(request, instance_id: int, body: AdminActionIn):
    require_authenticated(request.auth)
    instance = get_object_or_404(ProcessInstance.objects.select_related("drafter", "unit"), pk=instance_id)
    new_tasks = perform(request.auth, instance, body)
    status = ProcessInstance.objects.values_list("status", flat=True).get(pk=instance.pk)
    return {"instance_id": instance.pk, "instance_status": status, "tasks": _tasks(new_tasks)}


@router.post("/work-handovers", response={200: HandoverOut, **ERRORS}, summary="工作交接：离岗人员的待办移交接收人",
             description="本单位系统管理员。错误码：403 flow.not_unit_admin；400 flow.reason_required、"
                         "flow.identity_other_unit、flow.identity_inactive、flow.identity_is_self；422 "
                         "flow.identity_not_found。重复提交不会重复移交（已移交的不再出现）。")
def work_handover(request, body: HandoverIn):
    require_authenticated(request.auth)
    found = {i.pk: i for i in Identity.objects.select_related("person", "unit")
             .filter(pk__in=[body.from_identity, body.to_identity])}
    missing = [pk for pk in (body.from_identity, body.to_identity) if pk not in found]
    if missing:
        raise ServiceError("flow.identity_not_found", "所选人员不存在：" + "、".join(map(str, missing)), status=422)
    moved = services.hand_over_work(request.auth, from_identity=found[body.from_identity],
                                    to_identity=found[body.to_identity], reason=body.reason)
    return {"moved": len(moved)}
