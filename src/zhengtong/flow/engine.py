"""The adapter to SpiffWorkflow 3: parse a definition, run it, serialize it (docs/flow-design.md).

Nothing else in the platform imports SpiffWorkflow directly.
"""
from __future__ import annotations

import json
import re

from lxml import etree
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .extensions import ZtBpmnParser, node_extensions

# Uploads come from administrators, still: no entities, no DTD, no network, bounded trees.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                              remove_comments=True)

SERIALIZER = BpmnWorkflowSerializer()

# What the engine raises when a definition cannot run as asked (a missing variable, a bad expression…).
EngineError = SpiffWorkflowException


def parse_xml(data: bytes):
    """The lxml tree of an uploaded file (raises etree.XMLSyntaxError)."""
    return etree.fromstring(data, parser=SAFE_PARSER)


def load_spec(root):
    """(process spec, subprocess specs) of the single process in a parsed definition."""
    parser = ZtBpmnParser()
    parser.add_bpmn_xml(root, filename="definition.bpmn")
    [process_id] = parser.get_process_ids()
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def start(spec, subprocess_specs=None, data: dict | None = None) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs or {})
    if data:
        workflow.data.update(data)
    workflow.do_engine_steps()
    return workflow


def ready_user_tasks(workflow: BpmnWorkflow):
    """The user tasks a person can act on now (multi-instance: one per instance)."""
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def complete(workflow: BpmnWorkflow, task, data: dict | None = None) -> None:
    """Complete one ready user task with `data` (e.g. {"route": "countersign"}) and run on to the next waits."""
    task.data.setdefault("route", "")
    if data:
        task.data.update(data)
    task.run()
    workflow.do_engine_steps()


def reset_to(workflow: BpmnWorkflow, task) -> None:
    """Take the workflow back to `task` (a completed user task): its descendants are dropped, it is ready again
    (SpiffWorkflow's `reset_from_task_id`, data as it was before the task ran), then run to the next waits."""
    workflow.reset_from_task_id(task.id)
    workflow.do_engine_steps()


def user_task_ancestors(task) -> list:
    """The completed user tasks on the path that led to `task`, nearest first (the path actually taken)."""
    found = []
    parent = task.parent
    while parent is not None:
        if parent.task_spec.manual and parent.state == TaskState.COMPLETED:
            found.append(parent)
        parent = parent.parent
    return found


def return_points(task) -> list:
    """Where 退回 may send the instance from `task`: the completed user tasks and completed 会签 (multi-instance
    wrappers: the whole 会签 again) on the path actually taken, nearest first. A 会签 instance's own wrapper is
    not one (returning from inside a 会签 goes to the step before it)."""
    found = []
    parent = task.parent
    while parent is not None:
        if parent.state == TaskState.COMPLETED and (parent.task_spec.manual or is_countersign_node(parent)):
            found.append(parent)
        parent = parent.parent
    return found


def is_countersign_node(task) -> bool:
    """The multi-instance wrapper of a 会签 (its children are the signers' instances)."""
    return isinstance(task.task_spec, MultiInstanceTask)


def countersign_instances(wrapper) -> list:
    """The signers' instances of a 会签 wrapper, in order."""
    inner = wrapper.task_spec.task_spec
    return sorted((c for c in wrapper.children if c.task_spec.name == inner), key=countersign_index)


def is_countersign(task) -> bool:
    """A 会签 instance: a child of a multi-instance task."""
    parent = task.parent
    return (parent is not None and isinstance(parent.task_spec, MultiInstanceTask)
            and parent.task_spec.task_spec == task.task_spec.name)


def countersign_index(task) -> int:
    """The instance's position (0-based): parallel instances keep it as `key_or_index`, sequential ones (created
    one at a time from a cardinality) as `item`."""
    data = task.internal_data
    return int(data["key_or_index"] if data.get("key_or_index") is not None else data.get("item", 0))


def countersign_counts(task, *, signing: bool) -> dict:
    """The routing variables a 会签 completion rule reads (`completionCondition` is evaluated on the data of the
    instance that just finished): `signed` = instances signed so far, this one included when `signing`;
    `signers` = the cardinality minus instances removed by 减签 (`removed` in their data). "any" is
    `signed >= 1`, a ratio e.g. `signed >= signers * 2 / 3`; without a condition all must finish."""
    parent = task.parent
    siblings = [c for c in parent.children if c is not task and c.task_spec is task.task_spec]
    finished = [c for c in siblings if c.state == TaskState.COMPLETED]
    removed = sum(1 for c in finished if c.data.get("removed")) + (0 if signing else 1)
    signed = sum(1 for c in finished if not c.data.get("removed")) + (1 if signing else 0)
    total = parent.internal_data.get("cardinality") or (len(siblings) + 1)
    return {"signed": signed, "signers": max(total - removed, 0), "removed": not signing}


# --- the stored form: the workflow without its spec (the spec is the same for every instance of a version) ---

_SPEC_CACHE: dict[tuple[int, str], str] = {}
_SPEC_KEYS = ("spec", "subprocess_specs")


def _spec_json(definition) -> str:
    """The serialized spec of a definition version, cached per process (versions never change)."""
    key = (definition.pk, definition.sm3)
    cached = _SPEC_CACHE.get(key)
    if cached is None:
        spec, subprocess_specs = load_spec(parse_xml(definition.bpmn_xml.encode("utf-8")))
        registry = SERIALIZER.registry
        registry._encoder_mode = True
        try:
            whole = SERIALIZER.to_dict(BpmnWorkflow(spec, subprocess_specs))
            cached = json.dumps({k: whole[k] for k in _SPEC_KEYS}, cls=SERIALIZER._encoder_cls)
        finally:
            registry._encoder_mode = False
        if len(_SPEC_CACHE) > 500:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = cached
    return cached


def new_workflow(definition, data: dict | None = None) -> BpmnWorkflow:
    """A workflow of `definition` (a ProcessDefinition row), run to its first waits."""
    spec, subprocess_specs = load_spec(parse_xml(definition.bpmn_xml.encode("utf-8")))
    return start(spec, subprocess_specs, data)


def dump_state(workflow: BpmnWorkflow) -> str:
    """The stored state: the serializer's JSON minus the spec (as `serialize_json`, with the version key)."""
    registry = SERIALIZER.registry
    registry._encoder_mode = True
    try:
        data = SERIALIZER.to_dict(workflow)
        for key in _SPEC_KEYS:
            data.pop(key, None)
        data[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return json.dumps(data, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(definition, state: str) -> BpmnWorkflow:
    """Restore a stored state with the definition version's cached spec (as `deserialize_json`)."""
    data = json.loads(state, cls=SERIALIZER.json_decoder_cls)
    data.update(json.loads(_spec_json(definition)))
    SERIALIZER.migrate(data)
    return SERIALIZER.from_dict(data)


ROUTE_CONDITION = re.compile(r"""\broute\s*==\s*["']([a-z][a-z0-9_]*)["']""")


def route_choices(task_spec) -> list[str]:
    """The `route` values a handler may choose at this node: the `route == "…"` conditions of the exclusive
    gateways right after it (empty when there is no choice; "" always means the default flow)."""
    choices: list[str] = []
    for output in getattr(task_spec, "outputs", ()):
        for condition, _target in getattr(output, "cond_task_specs", None) or ():
            expression = condition.args[0] if condition is not None and getattr(condition, "args", None) else ""
            for value in ROUTE_CONDITION.findall(str(expression)):
                if value not in choices:
                    choices.append(value)
    return choices


def find_task(workflow: BpmnWorkflow, task_id):
    """The engine task with this id, or None (Spiff raises TaskNotFoundException)."""
    try:
        return workflow.get_task_from_id(task_id)
    except TaskNotFoundException:
        return None


def dumps(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def loads(state: str) -> BpmnWorkflow:
    return SERIALIZER.deserialize_json(state)


__all__ = ["SAFE_PARSER", "parse_xml", "load_spec", "start", "ready_user_tasks", "complete", "dumps", "loads",
           "new_workflow", "dump_state", "load_state", "route_choices", "find_task", "reset_to", "user_task_ancestors",
           "node_extensions", "TaskState", "EngineError", "inner_spec", "node_spec", "is_countersign", "is_countersign_node", "countersign_instances", "return_points", "countersign_index", "countersign_counts"]


# --- 调度 (dispatch): move an instance to any user task of its definition (flow/services/admin.py) -------------
#
# SpiffWorkflow 3.2 has no "go to node": `reset_from_task_id` only goes back to a task that exists in the tree
# (a completed one), and tasks ahead are created lazily as the workflow runs. So a forward move runs the
# workflow there: each ready user task on the way is completed with the `route` that steers the next gateways
# towards the target (the engine's own gateway, join and multi-instance logic stays in charge, nothing in the
# tree is edited by hand). A node anywhere else is reached by resetting to the nearest completed user task on
# the path taken from which the target lies ahead, then moving forward from there.

class MoveRefused(Exception):
    """The target cannot be reached: `reason` is "unreachable", "through_countersign" or "same_node"."""

    def __init__(self, reason: str, node: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.node = node


def inner_spec(spec):
    """The user task inside a multi-instance (会签) wrapper spec, or None."""
    name = getattr(spec, "task_spec", None)
    return spec._wf_spec.task_specs.get(name) if isinstance(name, str) else None


def node_spec(workflow: BpmnWorkflow, node_id: str):
    """The spec that carries a node's extensions: the user task with this BPMN id, or a 会签's inner user task
    (its wrapper has the id); None when the definition has no such node."""
    spec = workflow.spec.task_specs.get(node_id)
    return None if spec is None else (inner_spec(spec) or spec)


def _is_user_node(spec) -> bool:
    inner = inner_spec(spec)
    return bool(spec.manual or (inner is not None and inner.manual))


def user_task_nodes(workflow: BpmnWorkflow) -> list[tuple[str, str, bool]]:
    """(bpmn id, name, is 会签) of every user task of the workflow's process, in definition order."""
    nodes, seen = [], set()
    for spec in workflow.spec.task_specs.values():
        if not _is_user_node(spec) or spec.bpmn_id in seen or (spec.manual and _inner_of_wrapper(spec)):
            continue
        seen.add(spec.bpmn_id)
        inner = inner_spec(spec)
        nodes.append((spec.bpmn_id, (inner or spec).bpmn_name or spec.bpmn_name or spec.bpmn_id, inner is not None))
    return nodes


def _inner_of_wrapper(spec) -> bool:
    """The child spec of a multi-instance wrapper (listed through its wrapper instead)."""
    return any(getattr(other, "task_spec", None) == spec.name for other in spec._wf_spec.task_specs.values())


def _node_spec(task):
    """The node spec whose outputs lead on: a 会签 instance's wrapper, else the task's own spec."""
    return task.parent.task_spec if is_countersign(task) else task.task_spec


def _route_values(spec) -> list[str]:
    values = []
    for condition, _target in getattr(spec, "cond_task_specs", None) or ():
        expression = condition.args[0] if condition is not None and getattr(condition, "args", None) else ""
        values += ROUTE_CONDITION.findall(str(expression))
    return values


def _next_user_nodes(spec, depth: int = 0) -> list[tuple[str | None, object]]:
    """(route, node spec) for each user node reachable from `spec` through gateways and events only; `route` is
    the value completing `spec` must set to take that way ("" = the default flows), None when no value can."""
    found: list[tuple[str | None, object]] = []

    def walk(current, wanted: set, refused: set, level: int):
        if level > 20:
            return
        conditional = getattr(current, "cond_task_specs", None)
        if conditional:
            values = set(_route_values(current))
            for condition, target in conditional:
                nxt = current._wf_spec.task_specs[target] if isinstance(target, str) else target
                if condition is None:
                    step(nxt, wanted, refused | values, level)
                else:
                    expression = condition.args[0] if getattr(condition, "args", None) else ""
                    match = ROUTE_CONDITION.fullmatch(str(expression).strip())
                    if match:
                        step(nxt, wanted | {match.group(1)}, refused, level)
            return
        for nxt in current.outputs:
            step(nxt, wanted, refused, level)

    def step(nxt, wanted, refused, level):
        if _is_user_node(nxt):
            if len(wanted) > 1:
                return
            route = next(iter(wanted), "")
            found.append((None if route in refused else route, nxt))
        else:
            walk(nxt, wanted, refused, level + 1)

    walk(spec, set(), set(), depth)
    return found


def _distances(target_id: str, start_spec) -> dict[str, int]:
    """Steps (user nodes) from each user node reachable from `start_spec` to the target node."""
    graph: dict[str, list[str]] = {}
    queue, seen = [start_spec], {start_spec.name}
    while queue:
        spec = queue.pop()
        graph[spec.name] = []
        for route, nxt in _next_user_nodes(spec):
            if route is None:
                continue
            graph[spec.name].append(nxt.name)
            if nxt.name not in seen and nxt.bpmn_id != target_id:
                seen.add(nxt.name)
                queue.append(nxt)
    targets = {name for names in graph.values() for name in names
               if start_spec._wf_spec.task_specs[name].bpmn_id == target_id}
    dist = {name: 0 for name in targets}
    changed = True
    while changed:
        changed = False
        for name, outs in graph.items():
            best = min((dist[o] + 1 for o in outs if o in dist), default=None)
            if best is not None and best < dist.get(name, 1 << 30):
                dist[name] = best
                changed = True
    return dist


def can_reach(task, target_id: str) -> bool:
    """Whether the node `target_id` lies ahead of `task` (a ready or completed user task) along routed flows."""
    spec = _node_spec(task)
    return spec.name in _distances(target_id, spec)


def move_forward(workflow: BpmnWorkflow, target_id: str, *, countersign_count: int | None = None,
                 chosen_handlers: list | None = None, max_steps: int = 200) -> list:
    """Run the workflow to the user task `target_id`: each ready user task from which the target lies ahead is
    completed with the route that leads there (the skipped tasks are returned, in order). A 会签 target gets
    `countersign_count` / `chosen_handlers` in the data of the task completed just before it (as 提交 does).
    Passing through a 会签 that is not the target is refused ("through_countersign": its signers are unknown)."""
    skipped = []
    for _ in range(max_steps):
        ready = ready_user_tasks(workflow)
        if any(t.task_spec.bpmn_id == target_id for t in ready):
            return skipped
        progressed = False
        for task in ready:
            spec = _node_spec(task)
            dist = _distances(target_id, spec)
            if spec.name not in dist:
                continue
            options = [(route, nxt) for route, nxt in _next_user_nodes(spec) if route is not None
                       and (nxt.bpmn_id == target_id or nxt.name in dist)]
            route, nxt = min(options, key=lambda o: 0 if o[1].bpmn_id == target_id else dist[o[1].name] + 1)
            if inner_spec(nxt) is not None and nxt.bpmn_id != target_id:
                raise MoveRefused("through_countersign", nxt.bpmn_id)
            data = {"route": route}
            if is_countersign(task):
                data.update(countersign_counts(task, signing=True))
            if nxt.bpmn_id == target_id and inner_spec(nxt) is not None:
                data["countersign_count"] = countersign_count or 1
                data["chosen_handlers"] = list(chosen_handlers or [])
            complete(workflow, task, data)
            skipped.append(task)
            progressed = True
            break
        if not progressed:
            raise MoveRefused("unreachable", target_id)
    raise MoveRefused("unreachable", target_id)


def move_to(workflow: BpmnWorkflow, target_id: str, *, countersign_count: int | None = None,
            chosen_handlers: list | None = None) -> tuple[str, list]:
    """调度 in the engine: ("back", []) after a reset to a completed `target_id` on the path taken; ("forward",
    skipped) after running forward (from where the instance is, or from the nearest completed user task on the
    path from which the target lies ahead: that one is reset and then skipped too). Raises MoveRefused."""
    ready = ready_user_tasks(workflow)
    if not ready:
        raise MoveRefused("unreachable", target_id)
    if any(t.task_spec.bpmn_id == target_id for t in ready):
        raise MoveRefused("same_node", target_id)
    ancestors = []
    for task in ready:
        for ancestor in user_task_ancestors(task):
            if ancestor not in ancestors:
                ancestors.append(ancestor)
    for ancestor in ancestors:
        if ancestor.task_spec.bpmn_id == target_id and not is_countersign(ancestor):
            reset_to(workflow, ancestor)
            return "back", []
    if any(can_reach(task, target_id) for task in ready):
        return "forward", move_forward(workflow, target_id, countersign_count=countersign_count,
                                       chosen_handlers=chosen_handlers)
    for ancestor in ancestors:
        if not is_countersign(ancestor) and can_reach(ancestor, target_id):
            reset_to(workflow, ancestor)
            return "forward", move_forward(workflow, target_id, countersign_count=countersign_count,
                                           chosen_handlers=chosen_handlers)
    raise MoveRefused("unreachable", target_id)
