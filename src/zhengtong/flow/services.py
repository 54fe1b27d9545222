"""Changes to process definitions: upload (validated, saved as a draft version), activate, install the defaults.

Permission: the platform 系统管理员 for platform defaults (unit None); a unit's 单位系统管理员 (or the
platform 系统管理员) for a unit's own definitions. Every change is audited in its transaction.
"""
from __future__ import annotations

import re
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import require_admin_role, require_authenticated, require_unit_admin
from zhengtong.audit.services import diff, record, security_event, snapshot
from zhengtong.core.crypto import sm3_hex
from zhengtong.core.errors import Conflict, Forbidden, ServiceError

from . import engine, runtime
from .assignment import AssignmentContext
from .models import BusinessType, ProcessDefinition, ProcessInstance, Task, TrailEntry
from .validation import validate

DEFINITIONS_DIR = Path(__file__).with_name("definitions")
DEFAULT_FILES = {
    BusinessType.DISPATCH: ("dispatch.bpmn", "发文（平台默认）"),
    BusinessType.RECEIPT: ("receipt.bpmn", "收文（平台默认）"),
    BusinessType.SIGN_REPORT: ("sign_report.bpmn", "签报（平台默认）"),
}
AUDIT_FIELDS = ["business_type", "unit", "key", "version", "name", "sm3", "status", "activated_at"]


def require_definition_admin(actor, unit) -> None:
    require_authenticated(actor)
    if unit is None:
        require_admin_role(actor, AdminRole.SYSTEM)
    else:
        require_unit_admin(actor, unit.pk)


def _clean_business_type(value: str) -> str:
    if value not in BusinessType.values:
        raise ServiceError("flow.invalid_business_type", "业务类型无效，可用："
                           + "、".join(f"{v}（{label}）" for v, label in BusinessType.choices))
    return value


def _create(actor, *, business_type: str, unit, file_bytes: bytes, name: str, username: str = "") -> ProcessDefinition:
    result = validate(file_bytes, unit=unit)
    if not result.ok:
        raise ServiceError("flow.invalid_definition", f"流程定义有 {len(result.problems)} 个问题，未保存",
                           details={"problems": result.problems})
    name = (name or "").strip() or result.name or result.key
    if len(name) > 100:
        raise ServiceError("flow.invalid_name", "名称不能超过 100 个字")
    scope = {"unit": unit, "business_type": business_type, "key": result.key}
    try:
        with transaction.atomic():
            latest = ProcessDefinition.objects.filter(**scope).aggregate(v=Max("version"))["v"] or 0
            definition = ProcessDefinition.objects.create(
                **scope, version=latest + 1, name=name, bpmn_xml=file_bytes.decode("utf-8"),
                sm3=sm3_hex(file_bytes), status=ProcessDefinition.Status.DRAFT,
                created_by=actor if actor is not None and actor.pk else None)
            record("flow.definition_uploaded", user=actor, username=username, obj=definition, unit=unit,
                   changes=diff(None, snapshot(definition, AUDIT_FIELDS)))
    except IntegrityError as exc:
        raise Conflict("flow.version_conflict", "另一人同时上传了同一流程，请重试") from exc
    return definition


def upload_definition(actor, *, business_type: str, unit=None, file_bytes: bytes, name: str = "") -> ProcessDefinition:
    """上传流程定义: validated; saved as a draft with the next version number of (unit, business type, key)."""
    require_definition_admin(actor, unit)
    business_type = _clean_business_type(business_type)
    return _create(actor, business_type=business_type, unit=unit, file_bytes=file_bytes, name=name)


def _activate(actor, definition: ProcessDefinition, username: str = "") -> ProcessDefinition:
    try:
        with transaction.atomic():
            definition = ProcessDefinition.objects.select_for_update().get(pk=definition.pk)
            if definition.status == ProcessDefinition.Status.ACTIVE:
                raise Conflict("flow.already_active", "该版本已经启用")
            previous = list(ProcessDefinition.objects.select_for_update().filter(
                unit=definition.unit, business_type=definition.business_type,
                status=ProcessDefinition.Status.ACTIVE))
            for old in previous:
                before = snapshot(old, AUDIT_FIELDS)
                old.status = ProcessDefinition.Status.RETIRED
                old.save(update_fields=["status"])
                record("flow.definition_retired", user=actor, username=username, obj=old, unit=old.unit,
                       changes=diff(before, snapshot(old, AUDIT_FIELDS)), detail={"replaced_by": definition.pk})
            before = snapshot(definition, AUDIT_FIELDS)
            definition.status = ProcessDefinition.Status.ACTIVE
            definition.activated_at = timezone.now()
            definition.save(update_fields=["status", "activated_at"])
            record("flow.definition_activated", user=actor, username=username, obj=definition, unit=definition.unit,
                   changes=diff(before, snapshot(definition, AUDIT_FIELDS)),
                   detail={"retired": [old.pk for old in previous]})
    except IntegrityError as exc:
        raise Conflict("flow.activation_conflict", "另一人同时启用了该业务的流程，请刷新后重试") from exc
    return definition


def activate_definition(actor, definition: ProcessDefinition) -> ProcessDefinition:
    """启用: this version becomes the one new instances of (unit, business type) start with; the previous
    active one is retired. Running instances keep the version they started with."""
    require_definition_admin(actor, definition.unit)
    return _activate(actor, definition)


def install_default_definitions(*, update: bool = False) -> list[ProcessDefinition]:
    """平台默认流程: install the shipped files as active platform defaults (the `load_default_flows` command).

    Idempotent: a business type that already has an active platform default is left alone, unless
    `update` is set and the shipped file differs from it. Runs as the system (no acting user).
    """
    installed = []
    for business_type, (filename, name) in DEFAULT_FILES.items():
        data = (DEFINITIONS_DIR / filename).read_bytes()
        active = ProcessDefinition.objects.filter(unit=None, business_type=business_type,
                                                  status=ProcessDefinition.Status.ACTIVE).first()
        if active is not None and (not update or active.sm3 == sm3_hex(data)):
            continue
        with transaction.atomic():
            definition = _create(None, business_type=business_type, unit=None, file_bytes=data, name=name,
                                 username="")
            installed.append(_activate(None, definition, username=""))
    return installed


# --- instances and tasks (issue #3 §3, §4): start, submit ---------------------------------------------------

ROUTE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
INSTANCE_FIELDS = ["status", "version", "completed_at"]


def _person_of(actor):
    require_authenticated(actor)
    person = getattr(actor, "person", None)
    if person is None:
        security_event("permission.denied", user=actor, outcome="denied", detail={"needs": "person"})
        raise Forbidden("flow.no_person", "该账号没有对应的人员，不能办理公文")
    return person


def _deny(actor, code: str, message: str, *, obj=None, object_type: str = "", object_id="") -> Forbidden:
    security_event("permission.denied", user=actor, outcome="denied", obj=obj, object_type=object_type,
                   object_id=object_id, detail={"code": code})
    return Forbidden(code, message)


def active_definition(unit, business_type: str) -> ProcessDefinition | None:
    """The definition new instances start with: the unit's active one for the business type, else the platform's."""
    rows = ProcessDefinition.objects.filter(business_type=business_type, status=ProcessDefinition.Status.ACTIVE)
    return (rows.filter(unit=unit).first() if unit is not None else None) or rows.filter(unit__isnull=True).first()


def _clean_data(data: dict | None) -> dict:
    """Only routing variables go into workflow data (docs/flow-design.md): simple names, scalar values."""
    data = data or {}
    for key, value in data.items():
        if not (isinstance(key, str) and ROUTE_RE.match(key)) or not isinstance(value, (str, int, float, bool)):
            raise ServiceError("flow.invalid_data", f"流程变量“{key}”无效：只能是小写字母开头的名称和简单的值")
    return dict(data)


def start_process(actor, *, identity, business_type: str, title: str, unit=None,
                  data: dict | None = None) -> ProcessInstance:
    """发起: a new instance of the active definition for the identity's unit (else the platform default), run
    to its first user task(s); the first task (起草) goes to the drafter `identity`, which must be the actor's."""
    person = _person_of(actor)
    if identity.person_id != person.pk or not identity.active:
        raise _deny(actor, "flow.not_your_identity", "只能以本人的有效身份发起", obj=identity)
    business_type = _clean_business_type(business_type)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ServiceError("flow.invalid_title", "标题不能为空，且不超过 200 个字")
    unit = unit or identity.unit
    if unit.pk != identity.unit_id:
        raise ServiceError("flow.invalid_unit", "只能在发起身份所在单位发起")
    definition = active_definition(unit, business_type)
    if definition is None:
        raise ServiceError("flow.no_definition", f"“{BusinessType(business_type).label}”没有启用的流程，"
                           "请联系系统管理员安装或启用流程", status=404)
    data = _clean_data(data)
    now = timezone.now()
    with transaction.atomic():
        workflow = engine.new_workflow(definition, data)
        instance = ProcessInstance.objects.create(
            definition=definition, business_type=business_type, title=title, unit=unit, drafter=identity,
            started_at=now)
        ctx = AssignmentContext(drafter=identity, previous=None, business_type=business_type)
        tasks = runtime.project(instance, workflow, ctx, sender=identity, apply_delegation=False, now=now)
        _save_state(instance, workflow, now)
        TrailEntry.objects.create(instance=instance, actor=actor, identity=identity, operation="start",
                                  created_at=now)
        record("flow.instance_started", obj=instance, user=actor, identity=identity, unit=unit,
               changes=diff(None, snapshot(instance, ["definition", "business_type", "title", "status"])),
               detail={"tasks": [t.pk for t in tasks], "definition_version": definition.version})
    return instance


def _save_state(instance: ProcessInstance, workflow, now) -> None:
    instance.state = engine.dump_state(workflow)
    instance.version += 1
    fields = ["state", "version"]
    if workflow.is_completed() and instance.status == ProcessInstance.Status.RUNNING:
        instance.status = ProcessInstance.Status.COMPLETED
        instance.completed_at = now
        fields += ["status", "completed_at"]
    instance.save(update_fields=fields)


def _require_task_holder(actor, task: Task) -> None:
    person = _person_of(actor)
    if task.assignee.person_id != person.pk:
        raise _deny(actor, "flow.not_your_task", "这不是您的待办任务，不能办理", obj=task)


def submit_task(actor, task: Task, *, route: str = "", next_handlers: list[int] | None = None,
                opinion: str = "") -> list[Task]:
    """提交: complete the task with `route` (empty when the handler has no choice) and, for a next node whose rule
    is `chosen`, the chosen handlers (identity ids; 会签: one per signer, in order); returns the new tasks.

    One transaction with the instance row locked: two submits of the same task at once → exactly one succeeds,
    the other gets Conflict("flow.task_already_done"); the instance advances once.
    """
    _require_task_holder(actor, task)
    route = (route or "").strip()
    if route and not ROUTE_RE.match(route):
        raise ServiceError("flow.invalid_route", "流转方向无效")
    opinion = (opinion or "").strip()
    if len(opinion) > 2000:
        raise ServiceError("flow.opinion_too_long", "意见不能超过 2000 个字")
    try:
        next_handlers = [int(pk) for pk in (next_handlers or [])]
    except (TypeError, ValueError) as exc:
        raise ServiceError("flow.handler_not_allowed", "下一步办理人应为身份编号") from exc
    now = timezone.now()
    with transaction.atomic():
        instance = (ProcessInstance.objects.select_for_update().select_related("definition", "drafter")
                    .get(pk=task.instance_id))
        task = Task.objects.select_related("assignee", "on_behalf_of").get(pk=task.pk)
        if task.status == Task.Status.DELEGATED:
            raise Conflict("flow.task_delegated", f"“{task.node_name}”已委派他人办理，受托人办完后会回到您的待办")
        if task.status != Task.Status.OPEN:
            raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经办理过了（可能由他人或在别处"
                           "同时提交），请刷新待办列表")
        _require_task_holder(actor, task)
        if instance.status != ProcessInstance.Status.RUNNING:
            raise Conflict("flow.instance_not_running", f"该流程{instance.get_status_display()}，不能办理")
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = engine.find_task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != engine.TaskState.READY:
            raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经不在办理中，请刷新待办列表")
        if task.delegated_from_id:
            return _finish_delegation(actor, instance, task, workflow, opinion, now)
        ext = engine.node_extensions(spiff_task.task_spec)
        choices = engine.route_choices(spiff_task.task_spec)
        if route and route not in choices:
            raise ServiceError("flow.invalid_route", f"“{task.node_name}”没有“{route}”这个流转方向"
                               + ("，可选：" + "、".join(choices) if choices else "，此步骤无需选择"))
        if ext.opinion_required and not opinion:
            raise ServiceError("flow.opinion_required", f"“{task.node_name}”需要填写意见")
        before = snapshot(instance, INSTANCE_FIELDS)
        data = {"route": route}
        if next_handlers:
            data["countersign_count"] = len(next_handlers)
        engine.complete(workflow, spiff_task, data)
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        # the other holders of the same engine task (several candidates, AB岗) no longer need to act
        Task.objects.filter(instance=instance, spiff_task_id=task.spiff_task_id, status=Task.Status.OPEN).update(
            status=Task.Status.CANCELLED, completed_at=now)
        ctx = AssignmentContext(drafter=instance.drafter, previous=task.assignee,
                                business_type=instance.business_type)
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.assignee, chosen_ids=next_handlers, now=now)
        _save_state(instance, workflow, now)
        TrailEntry.objects.create(instance=instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                  actor=actor, identity=task.assignee, on_behalf_of=task.on_behalf_of,
                                  operation="submit", route=route, opinion=opinion, created_at=now)
        record("flow.task_submitted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "route": route,
                       "on_behalf_of": task.on_behalf_of_id, "next_tasks": [t.pk for t in new_tasks]})
    return new_tasks


# --- operations on a task (issue #3 §4): open, 撤回, 退回, 转办, 委派 ------------------------------------------------

OPERATION_LABELS = {"return": "退回", "retract": "撤回", "transfer": "转办", "delegate": "委派"}


def _lock(actor, task: Task) -> tuple[ProcessInstance, Task]:
    """The instance row locked and the task re-read under the lock (holder re-checked); the instance must run."""
    instance = (ProcessInstance.objects.select_for_update().select_related("definition", "drafter", "unit")
                .get(pk=task.instance_id))
    task = Task.objects.select_related("assignee", "on_behalf_of").get(pk=task.pk)
    _require_task_holder(actor, task)
    if instance.status != ProcessInstance.Status.RUNNING:
        raise Conflict("flow.instance_not_running", f"该流程{instance.get_status_display()}，不能办理")
    return instance, task


def _require_operation(task: Task, spiff_task, operation: str) -> None:
    label = OPERATION_LABELS[operation]
    if operation not in engine.node_extensions(spiff_task.task_spec).operations:
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”这一步不允许{label}")
    if "key_or_index" in spiff_task.internal_data:
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”是会签步骤，暂不支持{label}")


def _ready_spiff_task(workflow, task: Task):
    if task.status != Task.Status.OPEN:
        raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经办理过了，请刷新待办列表")
    spiff_task = engine.find_task(workflow, task.spiff_task_id)
    if spiff_task is None or spiff_task.state != engine.TaskState.READY:
        raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经不在办理中，请刷新待办列表")
    return spiff_task


def _clean_text(value: str, code: str, label: str) -> str:
    value = (value or "").strip()
    if len(value) > 2000:
        raise ServiceError(code, f"{label}不能超过 2000 个字")
    return value


def _trail(instance, task, actor, operation: str, *, identity=None, on_behalf_of=None, opinion: str = "",
           route: str = "", now=None) -> TrailEntry:
    return TrailEntry.objects.create(instance=instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                     actor=actor, identity=identity or task.assignee,
                                     on_behalf_of=on_behalf_of if identity else task.on_behalf_of,
                                     operation=operation, route=route, opinion=opinion, created_at=now)


def open_task(actor, task: Task) -> Task:
    """打开: the holder opens the task; the first time sets `opened_at` (after that 撤回 by the sender is too late)."""
    _require_task_holder(actor, task)
    now = timezone.now()
    with transaction.atomic():
        instance = ProcessInstance.objects.select_for_update().select_related("unit").get(pk=task.instance_id)
        task = Task.objects.select_related("assignee").get(pk=task.pk)
        _require_task_holder(actor, task)
        if task.opened_at is None:
            task.opened_at = now
            task.save(update_fields=["opened_at"])
            record("flow.task_opened", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
                   changes={"opened_at": [None, now.isoformat()]}, detail={"task": task.pk, "node": task.node_id})
    return task


def retract_task(actor, task: Task) -> list[Task]:
    """撤回: take back one's own submission while none of the tasks it created has been opened (or handled); those
    are cancelled and the step comes back to the one who submitted it (the engine is reset to it)."""
    _require_task_holder(actor, task)
    now = timezone.now()
    too_late = Conflict("flow.retract_too_late", f"“{task.node_name}”提交后下一步已经打开或办理，不能撤回")
    with transaction.atomic():
        instance, task = _lock(actor, task)
        if task.status != Task.Status.DONE or task.completed_at is None:
            raise Conflict("flow.retract_too_late", f"“{task.node_name}”这一步没有提交过，无需撤回")
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = engine.find_task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != engine.TaskState.COMPLETED:
            raise too_late
        _require_operation(task, spiff_task, "retract")
        created = list(Task.objects.filter(instance=instance, sender=task.assignee, received_at=task.completed_at,
                                           delegated_from__isnull=True).exclude(pk=task.pk))
        if not created or any(t.status != Task.Status.OPEN or t.opened_at is not None for t in created):
            raise too_late
        for t in created:  # the rows it created must still hang below it in the engine (nothing moved since)
            following = engine.find_task(workflow, t.spiff_task_id)
            if following is None or not following.is_descendant_of(spiff_task):
                raise too_late
        before = snapshot(instance, INSTANCE_FIELDS)
        engine.reset_to(workflow, spiff_task)
        ctx = AssignmentContext(drafter=instance.drafter, previous=task.sender, business_type=instance.business_type)
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.sender, now=now,
                                    fixed_handlers={task.node_id: [(task.assignee, task.on_behalf_of)]})
        _save_state(instance, workflow, now)
        _trail(instance, task, actor, "retract", now=now)
        record("flow.task_retracted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "cancelled": [t.pk for t in created],
                       "new_tasks": [t.pk for t in new_tasks]})
    return new_tasks


def return_task(actor, task: Task, *, target_node: str | None = None, reason: str) -> list[Task]:
    """退回: send the instance back to the previous user step (default) or to an earlier one on the path it actually
    took (`target_node`), with a reason; the step goes to whoever handled it then, `returned_by` = the returner."""
    _require_task_holder(actor, task)
    reason = _clean_text(reason, "flow.reason_too_long", "退回理由")
    if not reason:
        raise ServiceError("flow.reason_required", "退回必须填写理由")
    target_node = (target_node or "").strip()
    now = timezone.now()
    with transaction.atomic():
        instance, task = _lock(actor, task)
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = _ready_spiff_task(workflow, task)
        if task.delegated_from_id:
            raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”是受委派办理的任务，不能退回")
        _require_operation(task, spiff_task, "return")
        target = row = None
        for ancestor in engine.user_task_ancestors(spiff_task):
            if target_node and ancestor.task_spec.bpmn_id != target_node:
                continue
            row = (Task.objects.filter(instance=instance, spiff_task_id=ancestor.id, status=Task.Status.DONE)
                   .select_related("assignee", "on_behalf_of").order_by("-completed_at", "-id").first())
            if row is not None:
                target = ancestor
                break
        if target is None:
            raise ServiceError("flow.return_target_invalid",
                               f"“{target_node}”不是本流程已经办理过的步骤，不能退回到那里" if target_node
                               else f"“{task.node_name}”之前没有可以退回的步骤", status=422)
        before = snapshot(instance, INSTANCE_FIELDS)
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        engine.reset_to(workflow, target)
        ctx = AssignmentContext(drafter=instance.drafter, previous=task.assignee, business_type=instance.business_type)
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.assignee, now=now,
                                    fixed_handlers={row.node_id: [(row.assignee, row.on_behalf_of)]})
        Task.objects.filter(pk__in=[t.pk for t in new_tasks]).update(returned_by=task.assignee)
        for new in new_tasks:
            new.returned_by = task.assignee
        _save_state(instance, workflow, now)
        _trail(instance, task, actor, "return", route=row.node_id, opinion=reason, now=now)
        record("flow.task_returned", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "target_node": row.node_id, "reason": reason,
                       "new_tasks": [t.pk for t in new_tasks]})
    return new_tasks


def _target_identity(instance, task: Task, to_identity, label: str):
    from .assignment import effective_handlers

    if to_identity is None or not to_identity.active or not to_identity.person.active:
        raise ServiceError("flow.identity_inactive", f"{label}对象不是有效身份")
    if to_identity.unit_id != instance.unit_id:
        raise ServiceError("flow.identity_other_unit", f"只能{label}给本单位的人员")
    if to_identity.pk == task.assignee_id or to_identity.person_id == task.assignee.person_id:
        raise ServiceError("flow.identity_is_self", f"不能{label}给自己")
    return effective_handlers([to_identity], business_type=instance.business_type, at=timezone.now())[0]


def _copy(task: Task, handler, now, **extra) -> Task:
    return Task.objects.create(instance_id=task.instance_id, spiff_task_id=task.spiff_task_id, node_id=task.node_id,
                               node_name=task.node_name, assignee=handler.identity, on_behalf_of=handler.on_behalf_of,
                               sender=task.assignee, received_at=now, deadline=task.deadline,
                               deadline_status=task.deadline_status, **extra)


def _hand_over(actor, task: Task, to_identity, operation: str, label: str):
    """The shared start of 转办 and 委派 (inside the caller's transaction): lock, load the engine, check the node
    allows `operation` and that the task is not itself delegated, resolve the target (AB岗 applied)."""
    instance, task = _lock(actor, task)
    workflow = engine.load_state(instance.definition, instance.state)
    spiff_task = _ready_spiff_task(workflow, task)
    if task.delegated_from_id:
        again = "再" if operation == "delegate" else ""
        raise Conflict("flow.operation_not_allowed", f"“{task.node_name}”是受委派办理的任务，不能{again}{label}")
    _require_operation(task, spiff_task, operation)
    return instance, task, workflow, _target_identity(instance, task, to_identity, label)


def transfer_task(actor, task: Task, *, to_identity, opinion: str = "") -> Task:
    """转办: the open task moves to another identity of the unit (AB岗 applied); the engine does not move."""
    _require_task_holder(actor, task)
    opinion = _clean_text(opinion, "flow.opinion_too_long", "意见")
    now = timezone.now()
    with transaction.atomic():
        instance, task, workflow, handler = _hand_over(actor, task, to_identity, "transfer", "转办")
        before = snapshot(instance, INSTANCE_FIELDS)
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        new = _copy(task, handler, now)
        _save_state(instance, workflow, now)
        _trail(instance, task, actor, "transfer", opinion=opinion, now=now)
        _trail(instance, new, actor, "transferred_to", identity=handler.identity, on_behalf_of=handler.on_behalf_of,
               now=now)
        record("flow.task_transferred", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "new_task": new.pk, "to": handler.identity.pk,
                       "on_behalf_of": handler.on_behalf_of.pk if handler.on_behalf_of else None})
    return new


def delegate_task(actor, task: Task, *, to_identity, opinion: str = "") -> Task:
    """委派: a task for the delegate; when the delegate submits, the task comes back to the delegator (the engine
    moves only when the delegator submits). The delegator's row waits as `delegated`."""
    _require_task_holder(actor, task)
    opinion = _clean_text(opinion, "flow.opinion_too_long", "意见")
    now = timezone.now()
    with transaction.atomic():
        instance, task, workflow, handler = _hand_over(actor, task, to_identity, "delegate", "委派")
        before = snapshot(instance, INSTANCE_FIELDS)
        task.status = Task.Status.DELEGATED
        task.save(update_fields=["status"])
        new = _copy(task, handler, now, delegated_from=task)
        _save_state(instance, workflow, now)
        _trail(instance, task, actor, "delegate", opinion=opinion, now=now)
        record("flow.task_delegated", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "new_task": new.pk, "to": handler.identity.pk})
    return new


def _finish_delegation(actor, instance, task: Task, workflow, opinion: str, now) -> list[Task]:
    """The delegate submits: the delegator's task is open again (the engine has not moved)."""
    before = snapshot(instance, INSTANCE_FIELDS)
    task.status, task.completed_at = Task.Status.DONE, now
    task.save(update_fields=["status", "completed_at"])
    original = Task.objects.select_for_update().get(pk=task.delegated_from_id)
    original.status, original.received_at, original.sender = Task.Status.OPEN, now, task.assignee
    original.save(update_fields=["status", "received_at", "sender"])
    _save_state(instance, workflow, now)
    _trail(instance, task, actor, "delegate_done", opinion=opinion, now=now)
    record("flow.delegated_task_submitted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
           changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
           detail={"task": task.pk, "node": task.node_id, "back_to": original.pk})
    return [original]


# --- AB岗 when a delegation starts or ends (issue #3 §2) ------------------------------------------------------

def reapply_delegations(principal, *, at=None, actor=None) -> list[int]:
    """Move the open 待办 of `principal` to where AB岗 says they belong at `at`: to the delegate (on behalf of the
    principal) while a delegation is in force, back to the principal when it ended or was revoked.

    Idempotent; run by the system (`flow.tasks.reapply_delegations_due`) and callable when a delegation is
    created or revoked. Instances are locked (in id order) like every other operation. Returns the task ids moved.
    """
    from .assignment import effective_handlers

    at = at or timezone.now()
    mine = Q(assignee=principal, on_behalf_of__isnull=True) | Q(on_behalf_of=principal)
    base = Task.objects.filter(mine, status=Task.Status.OPEN, kind=Task.Kind.TODO)
    moved: list[int] = []
    with transaction.atomic():
        instance_ids = sorted(set(base.values_list("instance_id", flat=True)))
        if not instance_ids:
            return moved
        list(ProcessInstance.objects.select_for_update().filter(pk__in=instance_ids).order_by("pk")
             .values_list("pk", flat=True))
        tasks = list(base.filter(instance_id__in=instance_ids).select_related("instance"))
        targets = {}
        for business_type in {t.instance.business_type for t in tasks}:
            [handler] = effective_handlers([principal], business_type=business_type, at=at)
            targets[business_type] = handler
        for task in tasks:
            handler = targets[task.instance.business_type]
            if (task.assignee_id, task.on_behalf_of_id) == (handler.identity.pk, getattr(handler.on_behalf_of, "pk",
                                                                                          None)):
                continue
            before = (task.assignee_id, task.on_behalf_of_id)
            task.assignee, task.on_behalf_of = handler.identity, handler.on_behalf_of
            task.save(update_fields=["assignee", "on_behalf_of"])
            TrailEntry.objects.create(instance=task.instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                      actor=actor, identity=handler.identity, on_behalf_of=handler.on_behalf_of,
                                      operation="delegation", created_at=at)
            record("flow.task_reassigned_by_delegation", obj=task.instance, user=actor, username="AB岗",
                   unit=task.instance.unit,
                   changes={"assignee": [before[0], task.assignee_id], "on_behalf_of": [before[1], task.on_behalf_of_id]},
                   detail={"task": task.pk, "principal": principal.pk})
            moved.append(task.pk)
    return moved


def reapply_delegations_between(since, until) -> list[int]:
    """AB岗 for every principal whose delegation started, ended, was revoked or was created (perhaps back-dated)
    in (since, until]."""
    from zhengtong.org.models import Delegation, Identity

    changed = (Q(starts_at__gt=since, starts_at__lte=until) | Q(ends_at__gt=since, ends_at__lte=until)
               | Q(revoked_at__gt=since, revoked_at__lte=until) | Q(created_at__gt=since, created_at__lte=until))
    principal_ids = set(Delegation.objects.filter(changed).values_list("principal_id", flat=True))
    moved: list[int] = []
    for principal in Identity.objects.filter(pk__in=principal_ids).order_by("pk"):
        moved += reapply_delegations(principal, at=until)
    return moved
