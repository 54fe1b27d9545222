"""Projection of the engine's ready user tasks onto `Task` rows (docs/flow-design.md, "task store").

Called by the instance services inside their transaction, with the instance row locked: the ready user
tasks of the restored workflow are diffed against the open `Task` rows by `spiff_task_id`; rows whose
engine task is no longer ready are cancelled, and each newly ready task gets one row per handler —
resolved with the node's `zt:assignment` rule (flow.assignment), narrowed to the submitter's choice for
`rule="chosen"`, then AB岗 applied (the delegate gets the row, `on_behalf_of` = the principal). A
multi-instance node (会签) gets one row per instance, the i-th instance to the i-th chosen signer.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhengtong.core import calendar
from zhengtong.core.errors import ServiceError

from . import engine
from .assignment import AssignmentContext, effective_handlers, narrow_to_chosen, resolve_candidates
from .models import Task
from .signals import deadline_statuses_changed, send_tasks_assigned


def yellow_days() -> int:
    """黄牌 threshold: this many working days before the deadline (setting FLOW_YELLOW_WORKING_DAYS, default 1)."""
    return int(getattr(settings, "FLOW_YELLOW_WORKING_DAYS", 1))


def deadline_for(start: date, days: int | None) -> date | None:
    """The node deadline in working days (R8); None when the node has none or the calendar lacks the year
    (never a weekends-only guess, R8.2)."""
    if not days:
        return None
    try:
        return calendar.add_working_days(start, days)
    except ServiceError:
        return None


def deadline_status(deadline: date | None, today: date) -> str:
    if deadline is None:
        return Task.DeadlineStatus.NORMAL
    if deadline < today:
        return Task.DeadlineStatus.RED
    try:
        left = calendar.working_days_between(today, deadline)
    except ServiceError:
        left = (deadline - today).days
    return Task.DeadlineStatus.YELLOW if left <= yellow_days() else Task.DeadlineStatus.NORMAL


def _no_handler(node_name: str) -> ServiceError:
    return ServiceError("flow.no_handler", f"“{node_name}”找不到办理人，请联系单位系统管理员检查流程的办理人设置"
                        "或组织架构")


def _resolve(instance, ext, node_name, ctx, chosen_ids, apply_delegation, now) -> list[tuple]:
    if ext.assignment is None:
        raise _no_handler(node_name)
    chosen = ext.assignment.rule == "chosen"
    only_ids = None
    if chosen and chosen_ids:
        try:
            only_ids = [int(pk) for pk in chosen_ids]
        except (TypeError, ValueError):
            only_ids = None  # narrow_to_chosen says what is wrong
    identities = resolve_candidates(ext.assignment, ctx, only_ids=only_ids)
    if not identities and only_ids is None:
        raise _no_handler(node_name)
    if chosen:
        identities = narrow_to_chosen(identities, list(chosen_ids or []))
    if apply_delegation:
        return [(h.identity, h.on_behalf_of) for h in
                effective_handlers(identities, business_type=instance.business_type, at=now)]
    return [(identity, None) for identity in identities]


def project(instance, workflow, ctx: AssignmentContext, *, sender=None, chosen_ids=None,
            apply_delegation: bool = True, now=None, fixed_handlers: dict | None = None) -> list[Task]:
    """Bring the open Task rows of `instance` in line with the workflow's ready user tasks; returns the new rows.

    `fixed_handlers` ({node id: [(identity, on_behalf_of)]}) gives nodes whose handlers are already known
    (撤回 / 退回: the one who handled the step before); no rule, no AB岗 for them."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    open_rows = set(Task.objects.filter(instance=instance, status__in=Task.STANDING, kind=Task.Kind.TODO)
                    .values_list("spiff_task_id", flat=True))
    ready = engine.ready_user_tasks(workflow)
    ready_ids = {t.id for t in ready}
    stale = open_rows - ready_ids
    if stale:
        Task.objects.filter(instance=instance, status__in=Task.STANDING,
                            kind=Task.Kind.TODO, spiff_task_id__in=stale).update(
            status=Task.Status.CANCELLED, completed_at=now)
    by_node: dict[str, list] = defaultdict(list)
    for spiff_task in ready:
        if spiff_task.id not in open_rows:
            by_node[spiff_task.task_spec.bpmn_id].append(spiff_task)
    rows: list[Task] = []
    for spiff_tasks in by_node.values():
        spec = spiff_tasks[0].task_spec
        node_name = spec.bpmn_name or spec.bpmn_id
        ext = engine.node_extensions(spec)
        multi = engine.is_countersign(spiff_tasks[0])
        node_chosen = chosen_ids
        if multi and spiff_tasks[0].data.get("chosen_handlers"):
            # 会签 signers were chosen by the submit that readied the node (kept in the data: a sequential 会签
            # readies its instances one at a time, long after that submit)
            node_chosen = spiff_tasks[0].data["chosen_handlers"]
        if fixed_handlers and spec.bpmn_id in fixed_handlers:
            handlers = list(fixed_handlers[spec.bpmn_id])
        else:
            handlers = _resolve(instance, ext, node_name, ctx, node_chosen, apply_delegation, now)
        deadline = deadline_for(today, ext.deadline_days)
        status = deadline_status(deadline, today)
        if multi:
            spiff_tasks.sort(key=engine.countersign_index)
            indexes = [engine.countersign_index(t) for t in spiff_tasks]
            total = spiff_tasks[0].parent.internal_data.get("cardinality") or len(spiff_tasks)
            if len(handlers) != total or max(indexes) >= len(handlers):
                raise ServiceError("flow.signer_count_mismatch",
                                   f"“{node_name}”需要 {total} 位办理人，实际选择了 {len(handlers)} 位")
            pairs = [(t, handlers[i]) for t, i in zip(spiff_tasks, indexes, strict=True)]
        else:
            pairs = [(spiff_tasks[0], handler) for handler in handlers]
        for spiff_task, (identity, on_behalf_of) in pairs:
            rows.append(Task(instance=instance, spiff_task_id=spiff_task.id, node_id=spec.bpmn_id,
                             node_name=node_name[:100], assignee=identity, on_behalf_of=on_behalf_of, sender=sender,
                             received_at=now, deadline=deadline, deadline_status=status))
    created = Task.objects.bulk_create(rows)
    send_tasks_assigned(created)
    return created


def refresh_deadline_statuses(today: date | None = None) -> int:
    """黄牌 / 红牌 of open tasks and of running instances' 整体办结时限 as of `today` (stored, so lists never
    recompute them), in one transaction with `deadline_statuses_changed` for the tasks that changed (their holders
    are told).

    Suspended instances and their tasks are left alone (their clock is stopped). Returns the rows changed.
    """
    from .models import ProcessInstance

    today = today or timezone.localdate()
    try:
        horizon = calendar.add_working_days(today, yellow_days())
    except ServiceError:
        horizon = None
    running = Task.objects.filter(status=Task.Status.OPEN, deadline__isnull=False, instance__status="running")
    with transaction.atomic():
        turned: list[Task] = []
        for status, rows in ((Task.DeadlineStatus.RED, running.filter(deadline__lt=today)),
                             (Task.DeadlineStatus.YELLOW, running.filter(deadline__gte=today, deadline__lte=horizon)
                              if horizon is not None else None)):
            if rows is None:
                continue
            # the rows that change, read first so their holders can be told (the UPDATE then touches just them)
            changing = list(rows.exclude(deadline_status=status).select_for_update(of=("self",))
                            .select_related("instance"))
            Task.objects.filter(pk__in=[t.pk for t in changing]).update(deadline_status=status)
            for task in changing:
                task.deadline_status = status
            turned += changing
        changed = len(turned)
        # the instances' 整体办结时限 likewise (the 流程监控 list filters and sorts on them)
        instances = ProcessInstance.objects.filter(status=ProcessInstance.Status.RUNNING, deadline__isnull=False)
        changed += instances.filter(deadline__lt=today).exclude(deadline_status="red").update(deadline_status="red")
        if horizon is not None:
            changed += instances.filter(deadline__gte=today, deadline__lte=horizon).exclude(
                deadline_status="yellow").update(deadline_status="yellow")
        if turned:
            deadline_statuses_changed.send(sender=Task, tasks=turned)
    return changed
