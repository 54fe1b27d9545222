"""Our BPMN extensions per user task, in the namespace https://zhengtong.example/bpmn (prefix `zt`).

Inside a user task's `<bpmn:extensionElements>` (docs/flow-design.md has the full reference):

    <zt:assignment rule="duty" duty="dept_head" relative="drafter_department"/>
    <zt:assignment rule="chosen">                       <!-- the previous handler picks, from: -->
      <zt:candidates rule="duty" duty="deputy" relative="drafter_unit"/>
      <zt:candidates rule="role" role="reviewer"/>
    </zt:assignment>
    <zt:deadline workingDays="2"/>
    <zt:operations allowed="return,retract,add_signers,transfer,delegate,circulate"/>
    <zt:opinion required="true"/>
    <zt:form editable="title,body"/>

Rules: identity (identity="<id>"), duty (duty="<code>" relative="drafter_department|drafter_unit|
previous_unit"), role (role="<code>"), group (group="<name>"), drafter, chosen (one or more
<zt:candidates> with any rule but chosen).

`parse_user_task` reads one element into a `NodeExtensions` and lists what is wrong with it (in
Chinese); `ZtBpmnParser` is SpiffWorkflow's BpmnParser with a user-task parser that stores the same
data as a plain dict in `task_spec.extensions["zt"]`, so it travels with the serialized workflow.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.defaults import UserTask

ZT_NS = "https://zhengtong.example/bpmn"
ZT = f"{{{ZT_NS}}}"

RULES = {
    "identity": "指定身份",
    "duty": "相对职责",
    "role": "角色",
    "group": "群组",
    "drafter": "拟稿人",
    "chosen": "上一步办理人选择",
}
RELATIVES = {
    "drafter_department": "拟稿人所在处室",
    "drafter_unit": "拟稿人所在单位",
    "previous_unit": "上一步办理人所在单位",
    "issuing_unit": "发文机关（默认拟稿人所在单位）",
    "joint_units": "联合发文的其他机关",
}
OPERATIONS = {
    "return": "退回",
    "retract": "撤回",
    "add_signers": "加签",
    "transfer": "转办",
    "delegate": "委派",
    "circulate": "传阅",
}
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Assignment:
    rule: str
    identity: int | None = None
    duty: str = ""
    relative: str = ""
    role: str = ""
    group: str = ""
    candidates: tuple[Assignment, ...] = ()


@dataclass(frozen=True)
class NodeExtensions:
    """What our platform knows about one user task beyond BPMN."""

    assignment: Assignment | None = None
    deadline_days: int | None = None
    operations: frozenset[str] = field(default_factory=frozenset)
    opinion_required: bool = False
    editable_fields: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        data = asdict(self)
        data["operations"] = sorted(self.operations)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> NodeExtensions:
        def assignment(d):
            if not d:
                return None
            return Assignment(**{**d, "candidates": tuple(assignment(c) for c in d.get("candidates", ()))})

        return cls(assignment=assignment(data.get("assignment")), deadline_days=data.get("deadline_days"),
                   operations=frozenset(data.get("operations", ())),
                   opinion_required=bool(data.get("opinion_required")),
                   editable_fields=tuple(data.get("editable_fields", ())))


def _label(element) -> str:
    name = element.get("name")
    return f"“{name}”" if name else ""


def _parse_assignment(el, node_label: str, problems: list[str], *, candidate: bool = False) -> Assignment | None:
    rule = el.get("rule", "")
    if rule not in RULES or (candidate and rule == "chosen"):
        allowed = "、".join(k for k in RULES if not (candidate and k == "chosen"))
        problems.append(f"用户任务{node_label}的办理人规则“{rule}”无效，可用：{allowed}")
        return None
    if rule == "identity":
        raw = el.get("identity", "")
        if not raw.isdigit():
            problems.append(f"用户任务{node_label}的指定身份规则缺少有效的 identity（身份编号）")
            return None
        return Assignment(rule=rule, identity=int(raw))
    if rule == "duty":
        duty, relative = el.get("duty", ""), el.get("relative", "")
        if not duty:
            problems.append(f"用户任务{node_label}的相对职责规则缺少 duty（职责代码）")
        if relative not in RELATIVES:
            problems.append(f"用户任务{node_label}的相对职责规则 relative=“{relative}”无效，可用："
                            + "、".join(f"{k}（{v}）" for k, v in RELATIVES.items()))
        if not duty or relative not in RELATIVES:
            return None
        return Assignment(rule=rule, duty=duty, relative=relative)
    if rule in ("role", "group"):
        value = el.get(rule, "")
        if not value:
            problems.append(f"用户任务{node_label}的{RULES[rule]}规则缺少 {rule}")
            return None
        return Assignment(rule=rule, **{rule: value})
    if rule == "chosen":
        candidates = []
        for child in el.findall(f"{ZT}candidates"):
            parsed = _parse_assignment(child, node_label, problems, candidate=True)
            if parsed is not None:
                candidates.append(parsed)
        if not el.findall(f"{ZT}candidates"):
            problems.append(f"用户任务{node_label}的“上一步办理人选择”规则至少需要一个 zt:candidates（候选范围）")
            return None
        return Assignment(rule=rule, candidates=tuple(candidates))
    return Assignment(rule=rule)


def parse_user_task(element) -> tuple[NodeExtensions, list[str]]:
    """Our extensions of one bpmn:userTask element, and the problems found (without the element id)."""
    problems: list[str] = []
    label = _label(element)
    ext = element.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}extensionElements")
    children = list(ext) if ext is not None else []

    def one(tag):
        found = [c for c in children if c.tag == f"{ZT}{tag}"]
        if len(found) > 1:
            problems.append(f"用户任务{label}有多个 zt:{tag}，只能有一个")
        return found[0] if found else None

    assignment = None
    el = one("assignment")
    if el is None:
        problems.append(f"用户任务{label}缺少办理人规则（zt:assignment）")
    else:
        assignment = _parse_assignment(el, label, problems)

    deadline = None
    el = one("deadline")
    if el is not None:
        raw = el.get("workingDays", "")
        if raw.isdigit() and 0 < int(raw) <= 365:
            deadline = int(raw)
        else:
            problems.append(f"用户任务{label}的办理时限 workingDays=“{raw}”无效，应为 1–365 的工作日数")

    operations: set[str] = set()
    el = one("operations")
    if el is not None:
        for op in filter(None, (s.strip() for s in el.get("allowed", "").split(","))):
            if op in OPERATIONS:
                operations.add(op)
            else:
                problems.append(f"用户任务{label}的操作“{op}”未知，可用：" + "、".join(
                    f"{k}（{v}）" for k, v in OPERATIONS.items()))

    opinion_required = False
    el = one("opinion")
    if el is not None:
        raw = el.get("required", "false")
        if raw not in ("true", "false"):
            problems.append(f"用户任务{label}的 zt:opinion required 只能是 true 或 false")
        opinion_required = raw == "true"

    editable: list[str] = []
    el = one("form")
    if el is not None:
        for name in filter(None, (s.strip() for s in el.get("editable", "").split(","))):
            if FIELD_NAME.match(name):
                editable.append(name)
            else:
                problems.append(f"用户任务{label}的可编辑字段名“{name}”无效（小写字母开头，字母、数字、下划线）")

    known = {f"{ZT}{t}" for t in ("assignment", "deadline", "operations", "opinion", "form")}
    for child in children:
        if isinstance(child.tag, str) and child.tag.startswith(ZT) and child.tag not in known:
            problems.append(f"用户任务{label}有未知的扩展元素 zt:{child.tag[len(ZT):]}")

    return NodeExtensions(assignment=assignment, deadline_days=deadline, operations=frozenset(operations),
                          opinion_required=opinion_required, editable_fields=tuple(editable)), problems


class ZtUserTaskParser(TaskParser):
    """Stores our extensions on the task spec: `spec.extensions == {"zt": NodeExtensions.as_dict()}`."""

    def parse_extensions(self, node=None):
        extensions, _ = parse_user_task(node if node is not None else self.node)
        return {"zt": extensions.as_dict()}


class ZtBpmnParser(BpmnParser):
    OVERRIDE_PARSER_CLASSES = {full_tag("userTask"): (ZtUserTaskParser, UserTask)}


def node_extensions(task_spec) -> NodeExtensions:
    """Our extensions of a parsed (or deserialized) user task spec."""
    return NodeExtensions.from_dict(getattr(task_spec, "extensions", {}).get("zt", {}))
