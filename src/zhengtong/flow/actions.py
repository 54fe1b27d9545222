"""One dispatcher for the task actions of the API (`POST /api/v1/tasks/{id}/actions`) and the task page's forms.

`perform(actor, task, ActionRequest)` turns the request's plain fields (ids, strings) into the arguments of the
service function for the action and returns the tasks the operation created. Permission, locking, audit and
the Chinese error messages are the services' business; here only the shape of the request is checked
(422 codes), so the API and the web UI answer the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from zhengtong.core.errors import Conflict, ServiceError
from zhengtong.org.models import Identity, Unit

from . import services
from .models import Task

LABELS = {
    "open": "打开", "submit": "提交", "return": "退回", "retract": "撤回", "transfer": "转办", "delegate": "委派",
    "add_signers": "加签", "remove_signers": "减签", "circulate": "传阅", "urge": "催办", "suspend": "挂起",
    "resume": "恢复", "terminate": "终止",
}


@dataclass
class ActionRequest:
    action: str
    route: str = ""
    to_identities: list[int] = field(default_factory=list)
    to_units: list[int] = field(default_factory=list)
    target_node: str = ""
    opinion: str = ""
    position: str = ""  # 加签: "before" / "after"
    send_back: bool = False  # 提交 of a returned task straight back to the returner
    circled: bool = False  # 圈阅 (R1.4)


def _identities(ids: list[int], label: str, *, exactly_one: bool = False) -> list[Identity]:
    if exactly_one and len(ids) != 1:
        raise ServiceError("flow.one_identity_required", f"{label}需要且只能选择一位办理人", status=422)
    if not ids:
        raise ServiceError("flow.identity_required", f"{label}需要选择人员", status=422)
    found = {i.pk: i for i in Identity.objects.select_related("person").filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ServiceError("flow.identity_not_found", "所选人员不存在：" + "、".join(map(str, missing)), status=422)
    return [found[pk] for pk in dict.fromkeys(ids)]


def _units(ids: list[int]) -> list[Unit]:
    found = {u.pk: u for u in Unit.objects.filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ServiceError("org.unit_not_found", "所选单位不存在：" + "、".join(map(str, missing)), status=422)
    return [found[pk] for pk in dict.fromkeys(ids)]


def _service(name: str, action: str):
    """The service function, or 409 while the operation is not built (never an AttributeError → 500)."""
    function = getattr(services, name, None)
    if function is None:
        raise Conflict("flow.action_not_supported_yet", f"“{LABELS[action]}”操作尚未开放")
    return function


def perform(actor, task: Task, req: ActionRequest) -> list[Task]:
    action = req.action
    if action == "submit":
        if req.send_back:
            return _service("send_back_to_returner", action)(actor, task, opinion=req.opinion)
        return services.submit_task(actor, task, route=req.route, next_handlers=req.to_identities,
                                    opinion=req.opinion, circled=req.circled)
    if action == "open":
        services.open_task(actor, task)
        return []
    if action == "retract":
        return services.retract_task(actor, task)
    if action == "return":
        return services.return_task(actor, task, target_node=req.target_node, reason=req.opinion)
    if action in ("transfer", "delegate"):
        [target] = _identities(req.to_identities, LABELS[action], exactly_one=True)
        operation = services.transfer_task if action == "transfer" else services.delegate_task
        return [operation(actor, task, to_identity=target, opinion=req.opinion)]
    if action == "add_signers":
        if req.position not in ("before", "after"):
            raise ServiceError("flow.invalid_position", "加签方式应为 before（前加签）或 after（后加签）", status=422)
        return _service("add_signers", action)(actor, task, to_identities=_identities(req.to_identities, "加签"),
                                               position=req.position, opinion=req.opinion)
    if action == "remove_signers":
        return _service("remove_signers", action)(actor, task, identities=_identities(req.to_identities, "减签"),
                                                  opinion=req.opinion)
    if action == "circulate":
        if not req.to_identities and not req.to_units:
            raise ServiceError("flow.readers_required", "传阅需要选择人员或单位", status=422)
        return _service("circulate", action)(
            actor, task, to_identities=_identities(req.to_identities, "传阅") if req.to_identities else [],
            to_units=_units(req.to_units), opinion=req.opinion)
    if action == "urge":
        return _service("urge_task", action)(actor, task, message=req.opinion)
    if action == "suspend":
        return _service("suspend_instance", action)(actor, task.instance, reason=req.opinion)
    if action == "resume":
        return _service("resume_instance", action)(actor, task.instance)
    if action == "terminate":
        return _service("terminate_instance", action)(actor, task.instance, reason=req.opinion)
    raise ServiceError("flow.unknown_action", f"未知的操作“{action}”", status=422)
