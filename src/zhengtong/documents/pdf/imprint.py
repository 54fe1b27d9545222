"""版记 (R2.3/R2.4, GB/T 9704 §7.4): 4号仿宋 rows between rules at the bottom of the last page's 版心.

Rows, top down: [主送 (when moved out of the first page), 抄送] without a rule between them, then 印发机关 (左空一字)
and 印发日期 (右空一字, "…印发"). Rules: the first and the last 0.35 mm, the ones between 0.25 mm; the last on the
版心 bottom. A 信函 has neither 印发机关/印发日期 nor rules (§10.1).
"""
from __future__ import annotations

from dataclasses import dataclass

from .layout import BLOCK_H, BLOCK_W, EM_ASCENT, FOOT_SIZE, LEFT, LINE_PITCH, MM, NO_START, PAGE_H, TOP
from .model import PdfDocument, chinese_date

RULE_THICK, RULE_THIN = 0.35 * MM, 0.25 * MM
SUB_PITCH = FOOT_SIZE * 1.5  # line pitch inside one row


@dataclass
class ImprintLine:
    text: str
    indent: float = 0.0  # pt after the 左空一字
    right: str = ""  # 右空一字 (印发日期)


def wrap_units(label: str, units: str) -> list[ImprintLine]:
    """"抄送：A，B，C。" in 4号, wrapped after a unit's "，" where possible, continuation aligned after the colon."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    head_w = stringWidth(label, "fang", FOOT_SIZE)
    text = label + units.rstrip("。，、：:") + "。"
    avail = BLOCK_W - 2 * FOOT_SIZE
    lines: list[ImprintLine] = []
    while text:
        room = avail - (head_w if lines else 0)
        k = len(text)
        while k > 1 and stringWidth(text[:k], "fang", FOOT_SIZE) > room:
            k -= 1
        if k < len(text):
            breaks = [text[:k].rfind(p) for p in "，、"]
            if max(breaks) > len(label):
                k = max(breaks) + 1
            while 1 < k < len(text) and text[k] in NO_START:
                k -= 1
        lines.append(ImprintLine(text[:k], head_w if lines else 0.0))
        text = text[k:]
    return lines


def imprint_rows(doc: PdfDocument, letter: bool, main_moved: bool = False) -> list[list[ImprintLine]]:
    rows: list[list[ImprintLine]] = []
    recipients: list[ImprintLine] = []
    if main_moved and doc.main_recipients:  # §7.3.2: too many 主送 for the first page to show body text
        recipients += wrap_units("主送：", doc.main_recipients)
    if doc.copy_to:
        recipients += wrap_units("抄送：", "，".join(doc.copy_to))
    if recipients:
        rows.append(recipients)
    if not letter and (doc.printing_unit or doc.printing_date):
        printed = chinese_date(doc.printing_date) + "印发" if doc.printing_date else ""
        rows.append([ImprintLine(doc.printing_unit, right=printed)])
    return rows


def row_heights(rows: list[list[ImprintLine]]) -> list[float]:
    return [max(LINE_PITCH, len(r) * SUB_PITCH + (LINE_PITCH - SUB_PITCH)) for r in rows]


def grid_lines_needed(rows: list[list[ImprintLine]]) -> int:
    return int(-(-sum(row_heights(rows)) // LINE_PITCH)) if rows else 0


def draw_imprint(c, rows: list[list[ImprintLine]], letter: bool) -> None:
    heights = row_heights(rows)
    y = PAGE_H - TOP - BLOCK_H  # 版心 bottom
    if not letter:
        c.setLineWidth(RULE_THICK)
        c.line(LEFT, y, LEFT + BLOCK_W, y)
    c.setFont("fang", FOOT_SIZE)
    for k, (row, height) in enumerate(zip(reversed(rows), reversed(heights), strict=True)):
        # the row's sub-lines centred vertically between its rules
        first = y + height - (height - len(row) * SUB_PITCH) / 2 - SUB_PITCH / 2 + FOOT_SIZE / 2 - EM_ASCENT * FOOT_SIZE
        for m, line in enumerate(row):
            base = first - m * SUB_PITCH
            c.drawString(LEFT + FOOT_SIZE + line.indent, base, line.text)
            if line.right:
                c.drawRightString(LEFT + BLOCK_W - FOOT_SIZE, base, line.right)
        y += height
        if not letter:
            c.setLineWidth(RULE_THICK if k == len(rows) - 1 else RULE_THIN)
            c.line(LEFT, y, LEFT + BLOCK_W, y)
