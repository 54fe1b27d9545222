"""发起 and 提交: start an instance of the active definition; complete a task and project the next ones."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zhengtong.audit.services import diff, record, snapshot
from zhengtong.core.errors import Conflict, ServiceError

from .. import business, engine, runtime
from ..assignment import AssignmentContext
from ..models import BusinessType, ProcessDefinition, ProcessInstance, Task, TrailEntry
from .common import (
    INSTANCE_FIELDS,
    ROUTE_RE,
    STANDING,
    clean_data,
    deny,
    locked_instance,
    person_of,
    require_running,
    require_task_holder,
    save_state,
)
from .definitions import _clean_business_type
from .handover import finish_delegation
from .signers import finish_added_signer

CIRCLED_OPINION = "圈阅"


def active_definition(unit, business_type: str) -> ProcessDefinition | None:
    """The definition new instances start with: the unit's active one for the business type, else the platform's."""
    rows = ProcessDefinition.objects.filter(business_type=business_type, status=ProcessDefinition.Status.ACTIVE)
    return (rows.filter(unit=unit).first() if unit is not None else None) or rows.filter(unit__isnull=True).first()


def identity_to_start(actor, identity_id: int | None = None):
    """The post the actor starts with: the one named (it must be theirs and active), else their main post."""
    person = person_of(actor)
    posts = person.identities.filter(active=True).select_related("unit", "person")
    identity = posts.filter(pk=identity_id).first() if identity_id else (posts.filter(is_main=True).first()
                                                                            or posts.order_by("pk").first())
    if identity is None:
        raise deny(actor, "flow.not_your_identity", "只能以本人的有效身份发起", object_type="org.identity",
                   object_id=identity_id or "")
    return identity


def start_process(actor, *, identity, business_type: str, title: str, unit=None,
                  data: dict | None = None, issuing_unit=None, joint_units=()) -> ProcessInstance:
    """发起: a new instance of the active definition for the identity's unit (else the platform default), run
    to its first user task(s); the first task (起草) goes to the drafter `identity`, which must be the actor's.

    `issuing_unit`: the unit in whose name the work is done (发文机关), the drafter's unit or one above it; nodes
    with relative="issuing_unit" are assigned there. `joint_units`: the other issuing units of a 联合行文
    (relative="joint_units", e.g. their leaders as 会签 candidates)."""
    person = person_of(actor)
    if identity.person_id != person.pk or not identity.active:
        raise deny(actor, "flow.not_your_identity", "只能以本人的有效身份发起", obj=identity)
    business_type = _clean_business_type(business_type)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ServiceError("flow.invalid_title", "标题不能为空，且不超过 200 个字")
    unit = unit or identity.unit
    if unit.pk != identity.unit_id:
        raise ServiceError("flow.invalid_unit", "只能在发起身份所在单位发起")
    if issuing_unit is not None and issuing_unit.pk != unit.pk and not _is_above(issuing_unit, unit):
        raise ServiceError("flow.invalid_issuing_unit", f"只能以本单位或上级机关的名义办理，“{issuing_unit}”不是")
    definition = active_definition(unit, business_type)
    if definition is None:
        raise ServiceError("flow.no_definition", f"“{BusinessType(business_type).label}”没有启用的流程，"
                           "请联系系统管理员安装或启用流程", status=404)
    data = clean_data(data)
    now = timezone.now()
    with transaction.atomic():
        workflow = engine.new_workflow(definition, data)
        instance = ProcessInstance.objects.create(
            definition=definition, business_type=business_type, title=title, unit=unit, drafter=identity,
            issuing_unit=issuing_unit if issuing_unit is not None and issuing_unit.pk != unit.pk else None,
            joint_unit_ids=[u.pk for u in joint_units], started_at=now)
        ctx = AssignmentContext.of(instance)
        tasks = runtime.project(instance, workflow, ctx, sender=identity, apply_delegation=False, now=now)
        save_state(instance, workflow, now)
        TrailEntry.objects.create(instance=instance, actor=actor, identity=identity, operation="start",
                                  created_at=now)
        record("flow.instance_started", obj=instance, user=actor, identity=identity, unit=unit,
               changes=diff(None, snapshot(instance, ["definition", "business_type", "title", "status"])),
               detail={"tasks": [t.pk for t in tasks], "definition_version": definition.version})
    return instance


def _is_above(upper, unit, limit: int = 10) -> bool:
    """Whether `upper` is one of `unit`'s parents (a short walk: unit trees are a few levels deep)."""
    current = unit
    for _ in range(limit):
        if current.parent_id is None:
            return False
        if current.parent_id == upper.pk:
            return True
        current = current.parent
    return False


def submit_task(actor, task: Task, *, route: str = "", next_handlers: list[int] | None = None,
                opinion: str = "", circled: bool = False) -> list[Task]:
    """提交: complete the task with `route` (empty when the handler has no choice) and, for a next node whose rule
    is `chosen`, the chosen handlers (identity ids; 会签: one per signer, in order); returns the new tasks.

    `circled`: the leader's 圈阅 — consent without a written opinion (R1.4): the trail records 圈阅 and it
    satisfies a node's "opinion required". A 加签 row: see `signers.finish_added_signer`.

    One transaction with the instance row locked: two submits of the same task at once → exactly one succeeds,
    the other gets Conflict("flow.task_already_done"); the instance advances once.
    """
    require_task_holder(actor, task)
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
        instance = locked_instance(task.instance_id)
        task = Task.objects.select_related("assignee", "on_behalf_of").get(pk=task.pk)
        if task.kind != Task.Kind.TODO:  # a 待阅 row shares the engine id of the step it was circulated from
            raise Conflict("flow.not_a_todo", "待阅件只需阅知，不能办理")
        if task.status == Task.Status.DELEGATED:
            raise Conflict("flow.task_delegated", f"“{task.node_name}”已委派他人办理，受托人办完后会回到您的待办")
        if task.status == Task.Status.WAITING:
            raise Conflict("flow.task_waiting", f"“{task.node_name}”已前加签，加签人办理完毕后会回到您的待办")
        if task.status != Task.Status.OPEN:
            raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经办理过了（可能由他人或在别处"
                           "同时提交），请刷新待办列表")
        require_task_holder(actor, task)
        require_running(instance)
        workflow = engine.load_state(instance.definition, instance.state)
        spiff_task = engine.find_task(workflow, task.spiff_task_id)
        if spiff_task is None or spiff_task.state != engine.TaskState.READY:
            raise Conflict("flow.task_already_done", f"“{task.node_name}”这一步已经不在办理中，请刷新待办列表")
        if task.delegated_from_id:
            return finish_delegation(actor, instance, task, workflow, opinion, now)
        if circled:
            opinion = opinion or CIRCLED_OPINION
        if task.added_from_id:
            reopened = finish_added_signer(actor, instance, task, workflow, opinion, now)
            if reopened is not None:
                return reopened
            # the last 后加签 signer completes the step (route and next handlers are theirs, as in 会签)
        ext = engine.node_extensions(spiff_task.task_spec)
        node_spec = spiff_task.parent.task_spec if engine.is_countersign(spiff_task) else spiff_task.task_spec
        choices = engine.route_choices(node_spec)  # a 会签 instance leads on through its wrapper
        if route and route not in choices:
            raise ServiceError("flow.invalid_route", f"“{task.node_name}”没有“{route}”这个流转方向"
                               + ("，可选：" + "、".join(choices) if choices else "，此步骤无需选择"))
        if ext.opinion_required and not opinion:
            raise ServiceError("flow.opinion_required", f"“{task.node_name}”需要填写意见")
        hooks = business.hooks_for(instance.business_type)
        if hooks.before_submit:
            hooks.before_submit(actor, instance, task, route, opinion, frozenset(ext.editable_fields))
        before = snapshot(instance, INSTANCE_FIELDS)
        data = {"route": route}
        if engine.is_countersign(spiff_task):
            data.update(engine.countersign_counts(spiff_task, signing=True))
        elif next_handlers:
            # cardinality of a following 会签, and its signers in order (a sequential 会签 readies them one by one)
            data["countersign_count"] = len(next_handlers)
            data["chosen_handlers"] = list(next_handlers)
        try:
            engine.complete(workflow, spiff_task, data)
        except engine.EngineError as exc:  # the definition cannot go on as asked: say so, never a 500
            raise ServiceError("flow.cannot_proceed", f"“{task.node_name}”无法按所选方向流转（{exc}），"
                               "请检查流转方向和下一步办理人，或联系单位系统管理员检查流程定义", status=422) from exc
        task.status, task.completed_at = Task.Status.DONE, now
        task.save(update_fields=["status", "completed_at"])
        # the other holders of the same engine task (several candidates, AB岗) no longer need to act
        Task.objects.filter(instance=instance, spiff_task_id=task.spiff_task_id, status__in=STANDING,
                            kind=Task.Kind.TODO).update(
            status=Task.Status.CANCELLED, completed_at=now)
        ctx = AssignmentContext.of(instance, task.assignee)
        new_tasks = runtime.project(instance, workflow, ctx, sender=task.assignee, chosen_ids=next_handlers, now=now)
        save_state(instance, workflow, now)
        TrailEntry.objects.create(instance=instance, task=task, node_id=task.node_id, node_name=task.node_name,
                                  actor=actor, identity=task.assignee, on_behalf_of=task.on_behalf_of,
                                  operation="circle_read" if circled else "submit", route=route, opinion=opinion,
                                  created_at=now)
        record("flow.task_submitted", obj=instance, user=actor, identity=task.assignee, unit=instance.unit,
               changes=diff(before, snapshot(instance, INSTANCE_FIELDS)),
               detail={"task": task.pk, "node": task.node_id, "route": route,
                       "on_behalf_of": task.on_behalf_of_id, "next_tasks": [t.pk for t in new_tasks]})
        if hooks.after_submit:
            hooks.after_submit(actor, instance, task, route, opinion, new_tasks, frozenset(ext.editable_fields))
    return new_tasks
