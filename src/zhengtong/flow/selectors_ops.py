"""What the task page offers the viewer on their own row (退回 / 撤回 / 转办 / 委派 / 加签 / 减签): the same rules the
services check (flow.services.operations, handover, signers), read without writing, so a button is shown only
where pressing it can work. The services check everything again."""
from __future__ import annotations

from . import engine
from .models import Task


def _spec(workflow, node_id: str):
    spec = workflow.spec.task_specs.get(node_id)
    inner = getattr(spec, "task_spec", None)  # a 会签 wrapper: its user task carries the extensions
    return workflow.spec.task_specs.get(inner) if isinstance(inner, str) else spec


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
        workflow = engine.load_state(task.instance.definition, task.instance.state)
    except Exception:  # noqa: BLE001 — a broken state must not make the page a 500; the services will say why
        return None
    spec = _spec(workflow, task.node_id)
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
            for ancestor in engine.user_task_ancestors(spiff):
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
