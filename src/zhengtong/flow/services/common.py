"""What every instance and task operation shares: the actor's person, the holder check, the instance lock, the
node's allowed operations, the trail entry, saving the engine state (docs/flow-design.md, "operations")."""
from __future__ import annotations

import re

from django.utils import timezone

from zhengtong.accounts.permissions import is_any_admin, require_authenticated
from zhengtong.audit.services import security_event
from zhengtong.core.errors import Conflict, Forbidden, ServiceError

from .. import engine
from ..models import ProcessInstance, Task, TrailEntry
from ..signals import send_tasks_assigned

ROUTE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
INSTANCE_FIELDS = ["status", "version", "completed_at"]
STANDING = Task.STANDING


def person_of(actor):
    require_authenticated(actor)
    if is_any_admin(actor):  # 三员 manage the platform; they never handle documents (R7.2)
        security_event("permission.denied", user=actor, outcome="denied", detail={"code": "flow.admin_account"})
        raise Forbidden("flow.admin_account", "系统管理员、安全保密管理员和安全审计员账号不能办理公文")
    person = getattr(actor, "person", None)
    if person is None:
        security_event("permission.denied", user=actor, outcome="denied", detail={"needs": "person"})
        raise Forbidden("flow.no_person", "该账号没有对应的人员，不能办理公文")
    return person


def deny(actor, code: str, message: str, *, obj=None, object_type: str = "", object_id="") -> Forbidden:
    security_event("permission.denied", user=actor, outcome="denied", obj=obj, object_type=object_type,
                   object_id=object_id, detail={"code": code})
    return Forbidden(code, message)


def clean_data(data: dict | None) -> dict:
    """Only routing variables go into workflow data (docs/flow-design.md): simple names, scalar values."""
    data = data or {}
    for key, value in data.items():
        if not (isinstance(key, str) and ROUTE_RE.match(key)) or not isinstance(value, (str, int, float, bool)):
            raise ServiceError("flow.invalid_data", f"流程变量“{key}”无效：只能是小写字母开头的名称和简单的值")
    return dict(data)


def save_state(instance: ProcessInstance, workflow, now) -> None:
    instance.state = engine.dump_state(workflow)
    instance.version += 1
    fields = ["state", "version"]
    if workflow.is_completed() and instance.status == ProcessInstance.Status.RUNNING:
        instance.status = ProcessInstance.Status.COMPLETED
        instance.completed_at = now
        fields += ["status", "completed_at"]
    instance.save(update_fields=fields)


def require_task_holder(actor, task: Task) -> None:
    person = person_of(actor)
    if task.assignee.person_id != person.pk:
        raise deny(actor, "flow.not_your_task", "这不是您的待办任务，不能办理", obj=task)


OPERATION_LABELS = {"return": "退回", "retract": "撤回", "transfer": "转办", "delegate": "委派", "add_signers": "加签",
                    "circulate": "传阅"}


def locked_instance(instance_id: int) -> ProcessInstance:
    """The instance row locked for the rest of the transaction — what serializes every operation on an instance —
    with its definition, drafter and unit. `of=self`: only the instance row (a plain FOR UPDATE would also lock the
    joined rows on PostgreSQL, so every instance of one definition version would wait on the same row)."""
    return (ProcessInstance.objects.select_for_update(of=("self",))
            .select_related("definition", "drafter", "unit").get(pk=instance_id))


def require_running(instance: ProcessInstance) -> None:
    if instance.status != ProcessInstance.Status.RUNNING:
        raise Conflict("flow.instance_not_running", f"该流程{instance.get_status_display()}，不能办理")


def lock_instance(actor, task: Task) -> tuple[ProcessInstance, Task]:
    """The instance row locked and the task re-read under the lock (holder re-checked); the instance must run."""
    instance = locked_instance(task.instance_id)
    task = Task.objects.select_related("assignee", "on_behalf_of").get(pk=task.pk)
    require_task_holder(actor, task)
    require_running(instance)
    return instance, task


def require_operation(task: Task, spiff_task, operation: str) -> None:
    label = OPERATION_LABELS[operation]
    if operation not in engine.node_extensions(spiff_task.task_spec).operations:
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”这一步不允许{label}")
    if operation == "retract" and engine.is_countersign(spiff_task):
        # a signer's submit creates nothing to take back until the last one, whose retract would reopen one
        # instance of a finished 会签; 退回 / 转办 / 委派 / 加签 work inside a 会签
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”是会签步骤，会签意见提交后不能撤回")


def ready_spiff_task(workflow, task: Task):
    if task.kind != Task.Kind.TODO:  # a 待阅 row shares the engine id of the step it was circulated from
        raise Conflict("flow.not_a_todo", "待阅件只需阅知，不能办理")
    if task.status != Task.Status.OPEN:
        raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经办理过了，请刷新待办列表")
    spiff_task = engine.find_task(workflow, task.spiff_task_id)
    if spiff_task is None or spiff_task.state != engine.TaskState.READY:
        raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经不在办理中，请刷新待办列表")
    return spiff_task


def clean_text(value: str, code: str, label: str) -> str:
    value = (value or "").strip()
    if len(value) > 2000:
        raise ServiceError(code, f"{label}不能超过 2000 个字")
    return value


def add_trail(instance, task, actor, operation: str, *, identity=None, on_behalf_of=None, opinion: str = "",
           route: str = "", now=None) -> TrailEntry:
    return TrailEntry.objects.create(instance=instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                     actor=actor, identity=identity or task.assignee,
                                     on_behalf_of=on_behalf_of if identity else task.on_behalf_of,
                                     operation=operation, route=route, opinion=opinion, created_at=now)


def target_identity(instance, task: Task, to_identity, label: str):
    from ..assignment import effective_handlers

    if to_identity is None or not to_identity.active or not to_identity.person.active:
        raise ServiceError("flow.identity_inactive", f"{label}对象不是有效身份")
    if to_identity.unit_id != instance.unit_id:
        raise ServiceError("flow.identity_other_unit", f"只能{label}给本单位的人员")
    if to_identity.pk == task.assignee_id or to_identity.person_id == task.assignee.person_id:
        raise ServiceError("flow.identity_is_self", f"不能{label}给自己")
    return effective_handlers([to_identity], business_type=instance.business_type, at=timezone.now())[0]


def copy_task(task: Task, handler, now, **extra) -> Task:
    row = Task.objects.create(instance_id=task.instance_id, spiff_task_id=task.spiff_task_id, node_id=task.node_id,
                              node_name=task.node_name, assignee=handler.identity, on_behalf_of=handler.on_behalf_of,
                              sender=task.assignee, received_at=now, deadline=task.deadline,
                              deadline_status=task.deadline_status, **extra)
    send_tasks_assigned([row])
    return row
