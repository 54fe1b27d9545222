"""The adapter to SpiffWorkflow 3: parse a definition, run it, serialize it (docs/flow-design.md).

Nothing else in the platform imports SpiffWorkflow directly.
"""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
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


def dumps(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def loads(state: str) -> BpmnWorkflow:
    return SERIALIZER.deserialize_json(state)


__all__ = ["SAFE_PARSER", "parse_xml", "load_spec", "start", "ready_user_tasks", "complete", "dumps", "loads",
           "node_extensions", "TaskState"]
