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
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from .extensions import ZtBpmnParser, node_extensions

# Uploads come from administrators, still: no entities, no DTD, no network, bounded trees.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                              remove_comments=True)

SERIALIZER = BpmnWorkflowSerializer()


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
           "node_extensions", "TaskState", "is_countersign", "countersign_index", "countersign_counts"]
