"""Check an uploaded .bpmn before anything is saved: every problem, in Chinese, with the element id.

`validate(data, unit=None)` (UTF-8 bytes) returns a `Validation` with `problems` (a list of
`{"element_id", "kind", "message"}`); an empty list means the file can be stored and run. Checks, in order:
invalid XML → not BPMN → (per element) unsupported elements, unsafe conditions, our extensions
(assignment rule present and well-formed, duty / role / group codes known) → graph (exactly one
start, at least one end, flows point at nodes, every node reachable from the start and able to reach
an end) → SpiffWorkflow's own parser, only when everything above passed.

Conditions and multi-instance expressions are evaluated by SpiffWorkflow's Python script engine, so
an administrator could otherwise run arbitrary code on the server: they are restricted to names,
constants, comparisons, arithmetic and and/or/not.
"""
from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass, field

from lxml import etree

from .engine import load_spec, parse_xml
from .extensions import NodeExtensions, parse_user_task

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
B = f"{{{BPMN_NS}}}"
DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
MAX_BYTES = 1_000_000

NODES = {
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "userTask": "用户任务",
    "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关",
}
SUPPORTED = "开始事件、结束事件、用户任务（可为多实例）、排他网关、并行网关、顺序流（可带条件）"
# children allowed inside each kind of element (besides documentation / extensionElements)
NODE_CHILDREN = {"incoming", "outgoing"}
TASK_CHILDREN = NODE_CHILDREN | {"multiInstanceLoopCharacteristics"}
MI_CHILDREN = {"loopCardinality", "completionCondition"}
FLOW_CHILDREN = {"conditionExpression"}
COMMON = {"documentation", "extensionElements"}
PROCESS_OTHER = {"sequenceFlow", "textAnnotation", "association", "laneSet"}
SAFE_NODES = (ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Compare, ast.BoolOp, ast.And, ast.Or,
              ast.UnaryOp, ast.Not, ast.USub, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod,
              ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Tuple, ast.List)


@dataclass
class Validation:
    problems: list[dict] = field(default_factory=list)
    key: str = ""
    name: str = ""
    nodes: dict[str, NodeExtensions] = field(default_factory=dict)

    def add(self, element_id: str, kind: str, message: str) -> None:
        self.problems.append({"element_id": element_id or "", "kind": kind, "message": message})

    @property
    def ok(self) -> bool:
        return not self.problems


def _local(tag) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def _display(el) -> str:
    name = el.get("name")
    return f"{NODES.get(_local(el.tag), _local(el.tag))}“{name}”" if name else NODES.get(_local(el.tag), _local(el.tag))


def safe_expression(text: str) -> str | None:
    """None if `text` is a harmless expression, else why not."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return "语法错误"
    for node in ast.walk(tree):
        if not isinstance(node, SAFE_NODES):
            return f"不允许使用 {type(node).__name__}"
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return "变量名不能以下划线开头"
    return None


def _check_expression(v: Validation, el_id: str, text: str | None, what: str) -> None:
    if text is None or not text.strip():
        return
    why = safe_expression(text)
    if why:
        v.add(el_id, "unsafe_expression",
              f"{what}“{text.strip()}”不可用（{why}）：只能使用变量、常量、比较、算术和 and/or/not")


def _check_children(v: Validation, el, allowed: set[str]) -> None:
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if not child.tag.startswith(B):
            continue  # other namespaces (ours, modeler extensions) are not BPMN semantics
        local = _local(child.tag)
        if local in allowed or local in COMMON:
            continue
        v.add(el.get("id", ""), "unsupported",
              f"{_display(el)}（{el.get('id', '')}）含不支持的元素 bpmn:{local}；支持的元素：{SUPPORTED}")


def _known_codes(unit):
    from django.db.models import Q

    from zhengtong.org.models import Duty, Group, Role

    scope = Q(unit__isnull=True) | Q(unit=unit) if unit is not None else Q(unit__isnull=True)
    return (set(Duty.objects.values_list("code", flat=True)),
            set(Role.objects.filter(scope).values_list("code", flat=True)),
            set(Group.objects.filter(scope).values_list("name", flat=True)))


def _check_codes(v: Validation, el_id: str, label: str, assignment, codes) -> None:
    duties, roles, groups = codes
    rules = [assignment, *assignment.candidates]
    for rule in rules:
        if rule.rule == "duty" and rule.duty not in duties:
            v.add(el_id, "unknown_duty", f"用户任务{label}（{el_id}）的职责代码“{rule.duty}”不存在")
        elif rule.rule == "role" and rule.role not in roles:
            v.add(el_id, "unknown_role", f"用户任务{label}（{el_id}）的角色代码“{rule.role}”不存在")
        elif rule.rule == "group" and rule.group not in groups:
            v.add(el_id, "unknown_group", f"用户任务{label}（{el_id}）的群组“{rule.group}”不存在")
        elif rule.rule == "identity":
            from zhengtong.org.models import Identity

            if not Identity.objects.filter(pk=rule.identity, active=True).exists():
                v.add(el_id, "unknown_identity", f"用户任务{label}（{el_id}）指定的身份 {rule.identity} 不存在或已失效")


def validate(data: bytes, *, unit=None) -> Validation:
    v = Validation()
    if len(data) > MAX_BYTES:
        v.add("", "too_large", f"文件过大（{len(data)} 字节），上限 {MAX_BYTES} 字节")
        return v
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        v.add("", "encoding", f"文件须为 UTF-8 编码（第 {exc.start} 字节无法解码）")
        return v
    try:
        root = parse_xml(data)
    except etree.XMLSyntaxError as exc:
        v.add("", "invalid_xml", f"不是有效的 XML：第 {exc.lineno} 行：{exc.msg}")
        return v
    if root.tag != f"{B}definitions":
        v.add(root.get("id", ""), "not_bpmn", f"不是 BPMN 2.0 文件：根元素应为 bpmn:definitions（{BPMN_NS}），"
              f"实际为 {root.tag}")
        return v

    for child in root:
        if not isinstance(child.tag, str) or child.tag.startswith(f"{{{DI_NS}}}"):
            continue
        if child.tag.startswith(B) and _local(child.tag) not in {"process", *COMMON}:
            v.add(child.get("id", ""), "unsupported",
                  f"不支持的元素 bpmn:{_local(child.tag)}（{child.get('id', '')}）；支持的元素：{SUPPORTED}")
    processes = root.findall(f"{B}process")
    if not processes:
        v.add(root.get("id", ""), "no_process", "文件中没有流程（bpmn:process）")
        return v
    if len(processes) > 1:
        for extra in processes[1:]:
            v.add(extra.get("id", ""), "unsupported", "一个文件只能包含一个流程（bpmn:process）")
    process = processes[0]
    v.key, v.name = process.get("id", ""), process.get("name", "")
    if process.get("isExecutable") != "true":
        v.add(v.key, "not_executable", f"流程（{v.key}）须设置 isExecutable=\"true\"")

    nodes: dict[str, etree._Element] = {}
    flows: list[etree._Element] = []
    codes = _known_codes(unit)
    for el in process:
        if not isinstance(el.tag, str) or not el.tag.startswith(B):
            continue
        local, el_id = _local(el.tag), el.get("id", "")
        if local in NODES:
            nodes[el_id] = el
            if local == "userTask":
                _check_children(v, el, TASK_CHILDREN)
                label = f"“{el.get('name')}”" if el.get("name") else ""
                ext, problems = parse_user_task(el)
                for message in problems:
                    kind = "assignment_missing" if "缺少办理人规则" in message else "invalid_extension"
                    v.add(el_id, kind, f"{message}（{el_id}）")
                if ext.assignment is not None:
                    _check_codes(v, el_id, label, ext.assignment, codes)
                v.nodes[el_id] = ext
                mi = el.find(f"{B}multiInstanceLoopCharacteristics")
                if mi is not None:
                    for child in mi:
                        if isinstance(child.tag, str) and child.tag.startswith(B) and _local(child.tag) not in MI_CHILDREN:
                            v.add(el_id, "unsupported", f"{_display(el)}（{el_id}）的多实例设置含不支持的元素 "
                                  f"bpmn:{_local(child.tag)}；只支持 loopCardinality（人数）和 completionCondition")
                        elif isinstance(child.tag, str):
                            _check_expression(v, el_id, child.text, "多实例表达式")
                    if mi.find(f"{B}loopCardinality") is None:
                        v.add(el_id, "invalid_multi_instance", f"{_display(el)}（{el_id}）的多实例设置缺少 loopCardinality")
            else:
                _check_children(v, el, NODE_CHILDREN)
        elif local == "sequenceFlow":
            flows.append(el)
            _check_children(v, el, FLOW_CHILDREN)
            cond = el.find(f"{B}conditionExpression")
            if cond is not None:
                _check_expression(v, el.get("id", ""), cond.text, "条件表达式")
        elif local in PROCESS_OTHER or local in COMMON:
            continue
        else:
            v.add(el_id, "unsupported", f"不支持的元素 bpmn:{local}（{el_id}）；支持的元素：{SUPPORTED}")

    _check_graph(v, nodes, flows)
    if v.ok:
        try:
            load_spec(root)
        except Exception as exc:  # noqa: BLE001 — whatever the engine refuses is a problem to list, not a crash
            el_id = getattr(exc, "id", "") or ""
            v.add(el_id, "engine_refused", f"流程引擎无法解析{f'（{el_id}）' if el_id else ''}：{exc}")
    return v


def _check_graph(v: Validation, nodes: dict, flows: list) -> None:
    out: dict[str, list[str]] = {n: [] for n in nodes}
    inc: dict[str, list[str]] = {n: [] for n in nodes}
    for flow in flows:
        src, dst, fid = flow.get("sourceRef", ""), flow.get("targetRef", ""), flow.get("id", "")
        bad = [ref for ref in (src, dst) if ref not in nodes]
        if bad:
            v.add(fid, "dangling_flow", f"顺序流（{fid}）指向不存在的节点：{'、'.join(r or '（空）' for r in bad)}")
            continue
        out[src].append(dst)
        inc[dst].append(src)
    starts = [n for n, el in nodes.items() if _local(el.tag) == "startEvent"]
    ends = [n for n, el in nodes.items() if _local(el.tag) == "endEvent"]
    if len(starts) != 1:
        v.add(",".join(starts), "start_count", f"流程须有且只有一个开始事件，实际有 {len(starts)} 个")
    if not ends:
        v.add("", "no_end", "流程缺少结束事件")
    if len(starts) != 1 or not ends:
        return

    def reach(sources, edges):
        seen, queue = set(sources), deque(sources)
        while queue:
            for nxt in edges[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    from_start = reach(starts, out)
    to_end = reach(ends, inc)
    for node_id, el in nodes.items():
        if node_id not in from_start:
            v.add(node_id, "unreachable", f"{_display(el)}（{node_id}）从开始事件无法到达")
        elif node_id not in to_end:
            v.add(node_id, "dead_end", f"{_display(el)}（{node_id}）无法到达结束事件")
