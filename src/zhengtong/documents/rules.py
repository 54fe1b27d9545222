"""The rules a document is checked against on save and before 签发 (R1.2, R1.3, R1.7, R1.8), each with its rule id.

Pure functions over plain values (`Draft`), so the same checks serve the services, the API and the form:
`check(draft, stage)` returns every problem at once, errors first; the drafter fixes them all in one go.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

NUMBER_RE = re.compile(r"^(?P<code>[\u4e00-\u9fff]{1,12})〔(?P<year>\d{4})〕(?P<seq>[1-9]\d{0,5})号$")
REFUSED_CLASSIFICATIONS = ("秘密", "机密", "绝密")
KINDS = ("决议", "决定", "命令", "令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复",
         "议案", "函", "纪要")


@dataclass(frozen=True)
class Violation:
    rule: str  # STANDARDS.md id, e.g. "R1.7"
    message: str  # Chinese, says what to fix
    error: bool = True  # False: a warning (the title rule), shown but not blocking


@dataclass
class Draft:
    direction: str
    doc_kind: str
    orientation: str
    title: str
    issuing_unit_names: list[str] = field(default_factory=list)  # the lead first
    main_recipient_ids: list[int] = field(default_factory=list)
    copy_recipient_ids: list[int] = field(default_factory=list)
    subordinate_ids: set[int] = field(default_factory=set)  # units below the issuing unit (R1.7: no 抄送 to them)
    doc_number: str = ""
    signer_names: list[str] = field(default_factory=list)
    joint_unsigned: list[str] = field(default_factory=list)  # joint issuers that have not countersigned
    body_text: str = ""


def number_problem(number: str) -> Violation | None:
    """R1.3: 机关代字〔YYYY〕N号 — hexagonal brackets, four-digit year, no 第, no leading zeros."""
    if not number:
        return None
    if NUMBER_RE.match(number):
        return None
    hint = ""
    if re.search(r"[\[\]()（）［］【】]", number):
        hint = "年份须用六角括号〔〕，不能用 [] 或 ()"
    elif "第" in number:
        hint = "序号前不加“第”"
    elif re.search(r"〔\d{4}〕0", number):
        hint = "序号不编虚位（不加前导 0）"
    elif re.search(r"〔\d{2}〕", number):
        hint = "年份须写全四位"
    raise_msg = f"发文字号“{number}”不符合“机关代字〔年份〕序号号”的格式" + (f"：{hint}" if hint else "，如“示政办发〔2026〕12号”")
    return Violation("R1.3", raise_msg)


def check(draft: Draft, stage: str = "save") -> list[Violation]:
    """Problems of the draft at `stage` ("save" while drafting, "sign" before 签发 and at 签发 itself)."""
    problems: list[Violation] = []
    if draft.direction == "incoming":
        return problems
    if problem := number_problem(draft.doc_number):
        problems.append(problem)
    if draft.direction == "outgoing":
        if not draft.main_recipient_ids:
            problems.append(Violation("R1.2", "请选择主送机关"))
        overlap = set(draft.main_recipient_ids) & set(draft.copy_recipient_ids)
        if overlap:
            problems.append(Violation("R1.2", "同一单位不能既是主送又是抄送，请从抄送中去掉"))
    if draft.doc_kind == "请示":
        # a 签报 (memo) goes up to the unit's own leaders through its flow: it has no 主送 or 抄送 to route
        if draft.direction == "outgoing" and len(draft.main_recipient_ids) != 1:
            problems.append(Violation("R1.7", f"请示只能主送一个上级机关（现有 {len(draft.main_recipient_ids)} 个），"
                                              "其他机关请列入抄送"))
        subordinate = [pk for pk in draft.copy_recipient_ids if pk in draft.subordinate_ids]
        if subordinate:
            problems.append(Violation("R1.7", "请示不得抄送下级机关，请从抄送中去掉下级单位"))
        if _several_matters(draft.body_text):
            problems.append(Violation("R1.7", "请示应当一文一事：正文中出现了多个请示事项，请分开行文", error=False))
    upward = draft.orientation == "upward" or draft.doc_kind == "请示"
    if stage == "sign" and upward and not draft.signer_names:
        problems.append(Violation("R1.7" if draft.doc_kind == "请示" else "R1.2",
                                  "上行文须标注签发人：请由签发人签发后再编号"))
    if stage == "sign" and draft.joint_unsigned:
        problems.append(Violation("R1.4", "联合行文须由各发文机关会签，尚未会签：" + "、".join(draft.joint_unsigned)))
    problems.extend(_title_warnings(draft))
    return sorted(problems, key=lambda v: not v.error)


def _several_matters(body: str) -> bool:
    """A 请示 asking for several things: more than one paragraph ending with the asking formula."""
    asks = re.findall(r"(妥否|当否|可否|是否同意)[，,]?\s*请(批示|批复|审批|指示)", body)
    return len(asks) > 1


def _title_warnings(draft: Draft) -> list[Violation]:
    """R1.2: 标题 = issuing body + subject + kind (a warning: short titles without the body's name are common)."""
    title = draft.title.strip()
    warnings = []
    kind = "令" if draft.doc_kind == "命令" else draft.doc_kind
    if kind and not title.endswith(kind) and not (kind == "令" and title.endswith("命令")):
        warnings.append(Violation("R1.2", f"标题应以文种“{draft.doc_kind}”结尾", error=False))
    names = [n for n in draft.issuing_unit_names if n]
    if names and draft.direction == "outgoing" and not any(title.startswith(n) for n in names):
        warnings.append(Violation("R1.2", f"标题一般由发文机关名称、事由和文种组成，如“{names[0]}关于……的{draft.doc_kind}”",
                                  error=False))
    if "关于" not in title and draft.doc_kind not in ("公报", "公告", "通告", "纪要", "命令"):
        warnings.append(Violation("R1.2", "标题一般写作“……关于……的" + draft.doc_kind + "”", error=False))
    return warnings
