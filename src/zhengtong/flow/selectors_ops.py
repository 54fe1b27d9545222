"""What the task page offers the viewer on their own row (退回 / 撤回 / 转办 / 委派 / 加签 / 减签): the same rules the
services check (flow.services.operations, handover, signers), read without writing, so a button is shown only
where pressing it can work. The services check everything again."""
from __future__ import annotations

from . import engine
from .models import Task


def page_workflow(instance):
    """The instance's workflow restored once per page (the submit form, the holder's operations and the 传阅 check
    all read it): kept on the instance object for the page's lifetime. Read only — services restore their own
    under the instance lock."""
    workflow = getattr(instance, "_page_workflow", None)
    if workflow is None:
        workflow = engine.load_state(instance.definition, instance.state)
        instance._page_workflow = workflow
    return workflow


def _unsigned_countersigners(task: Task, workflow) -> list[Task]:
    rows = (Task.objects.filter(instance_id=task.instance_id, sender=task.assignee, received_at=task.completed_at,
                                status=Task.Status.OPEN, kind=Task.Kind.TODO, added_from__isnull=True,
                                delegated_from__isnull=True).select_related("assignee__person"))
    found = []
    for row in rows:
        spiff = engine.find_task(workflow, row.spiff_task_id)
        if spiff is not None and engine.is_countersign(spiff):
            found.append(row)
    return found


def handler_operations(user, task: Task) -> dict | None:
    """{"return_targets": [(node id, name)], "transfer", "delegate", "add_signers", "retract": bool,
    "removable": [(identity id, label)], "waiting": bool} for the holder of `task`; None for anyone else."""
    person = getattr(user, "person", None)
    if person is None or task.kind != Task.Kind.TODO or task.assignee.person_id != person.pk:
        return None
    if task.instance.status != "running":
        return None
    try:
        workflow = page_workflow(task.instance)
    except Exception:  # noqa: BLE001 — a broken state must not make the page a 500; the services will say why
        return None
    spec = engine.node_spec(workflow, task.node_id)
    allowed = engine.node_extensions(spec).operations if spec is not None else frozenset()
    result = {"return_targets": [], "transfer": False, "delegate": False, "add_signers": False, "retract": False,
              "removable": [], "waiting": task.status == Task.Status.WAITING}
    own = not task.delegated_from_id and not task.added_from_id
    if task.status == Task.Status.OPEN:
        spiff = engine.find_task(workflow, task.spiff_task_id)
        if spiff is None or spiff.state != engine.TaskState.READY:
            return result
        if "return" in allowed and not task.delegated_from_id:
            seen = set()
            for ancestor in engine.return_points(spiff):
                node = ancestor.task_spec.bpmn_id
                if node in seen or node == task.node_id:
                    continue
                seen.add(node)
                result["return_targets"].append((node, ancestor.task_spec.bpmn_name or node))
        result["transfer"] = own and "transfer" in allowed
        result["delegate"] = own and "delegate" in allowed
        result["add_signers"] = own and "add_signers" in allowed
    added = list(Task.objects.filter(added_from=task, status=Task.Status.OPEN).select_related("assignee__person"))
    if added:
        result["removable"] = [(r.assignee_id, r.assignee.person.name) for r in added]
    elif task.status == Task.Status.DONE and task.completed_at and "add_signers" in allowed:
        result["removable"] = [(r.assignee_id, r.assignee.person.name)
                               for r in _unsigned_countersigners(task, workflow)]
    if task.status == Task.Status.DONE and task.completed_at and "retract" in allowed:
        created = Task.objects.filter(instance_id=task.instance_id, sender=task.assignee,
                                      received_at=task.completed_at, delegated_from__isnull=True,
                                      kind=Task.Kind.TODO).exclude(pk=task.pk)
        result["retract"] = created.exists() and not created.exclude(status=Task.Status.OPEN, opened_at=None).exists()
    return result


# --- the 提交 form: routes and next handlers (the task page and GET /api/v1/tasks/{id}) -----------------------

def _spec_name(spec) -> str:
    inner = engine.inner_spec(spec)
    return getattr(inner or spec, "bpmn_name", None) or getattr(spec, "bpmn_name", None) or spec.bpmn_id or ""


def _next_nodes(spec, depth: int = 0) -> list[tuple[str, bool, bool, object]]:
    """(name, rule is "chosen", multi-instance, assignment rule) of the user tasks that may follow `spec`
    (through gateways)."""
    found = []
    for output in getattr(spec, "outputs", ()):
        inner = engine.inner_spec(output)
        ext = engine.node_extensions(inner if inner is not None else output)
        if ext.assignment is not None:
            found.append((_spec_name(output), ext.assignment.rule == "chosen", inner is not None, ext.assignment))
        elif depth < 3:
            found += _next_nodes(output, depth + 1)
    return found


def _route_options(spec) -> list[tuple[str, str]]:
    """The routes the handler may choose (engine.route_choices, as services.submit_task validates them), each
    labelled with the node it leads to."""
    labels = {}
    for output in getattr(spec, "outputs", ()):
        for condition, target in getattr(output, "cond_task_specs", None) or ():
            expression = condition.args[0] if condition is not None and getattr(condition, "args", None) else ""
            target_spec = output._wf_spec.task_specs.get(target) if isinstance(target, str) else target
            for value in engine.ROUTE_CONDITION.findall(str(expression)):
                labels.setdefault(value, _spec_name(target_spec) if target_spec is not None else value)
    return [(value, labels.get(value, value)) for value in engine.route_choices(spec)]


def submit_form(task: Task, *, with_candidates: bool = False) -> dict | None:
    """What the submit form offers at this node: routes, whether the next handler is chosen (and, for API
    clients, the candidates to choose from), the opinion rule. None when the task is not ready."""
    instance = task.instance
    try:
        workflow = engine.load_state(instance.definition, instance.state)
    except Exception:  # noqa: BLE001 — a broken state must not make the page a 500; submitting will say why
        return {"routes": [], "chosen": [], "chosen_label": "", "multi": False, "opinion_required": False,
                "candidates": []}
    spiff_task = engine.find_task(workflow, task.spiff_task_id)
    if spiff_task is None or spiff_task.state != engine.TaskState.READY:
        return None
    spec = spiff_task.task_spec
    # a 会签 instance leads on through its wrapper (the last signer chooses who comes next)
    node = spiff_task.parent.task_spec if engine.is_countersign(spiff_task) else spec
    nodes = _next_nodes(node)
    chosen = [name for name, is_chosen, _, _ in nodes if is_chosen]
    candidates = []
    if with_candidates:
        from .assignment import AssignmentContext, resolve_candidates

        ctx = AssignmentContext.of(instance, task.assignee)
        seen = set()
        for name, is_chosen, _, rule in nodes:
            if not is_chosen:
                continue
            for identity in resolve_candidates(rule, ctx):
                if (name, identity.pk) not in seen:
                    seen.add((name, identity.pk))
                    candidates.append({"node_name": name, "identity_id": identity.pk, "name": identity.person.name,
                                       "unit": identity.unit.name, "unit_id": identity.unit_id,
                                       "department": identity.department.name if identity.department_id else "",
                                       "title": identity.title})
    units = {c["unit_id"] for c in candidates}
    return {"routes": _route_options(node), "chosen": chosen, "chosen_label": "、".join(dict.fromkeys(chosen)),
            "multi": any(multi for _, is_chosen, multi, _ in nodes if is_chosen),
            "opinion_required": engine.node_extensions(spec).opinion_required, "candidates": candidates,
            # the organisation picker searches the one unit all candidates are in (a 市政府 document's 签发 is
            # chosen among the 市政府's leaders, not the drafting office's); several units: no limit
            "scope_unit": units.pop() if len(units) == 1 else ""}
