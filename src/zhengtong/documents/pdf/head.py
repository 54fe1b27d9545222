"""版头 (R2.3/R2.4, GB/T 9704 §7.2) of the 文件格式 and of the 信函格式 (§10.1), and the title (§7.3.1).

Each function draws onto the first page and returns the grid line where what follows it starts.
"""
from __future__ import annotations

from .draw import baseline_for, draw_run, draw_run_at, draw_spaced
from .layout import (
    BLOCK_W,
    BODY_SIZE,
    CELL,
    LEFT,
    LINE_PITCH,
    MM,
    NO_START,
    PAGE_H,
    PAGE_W,
    TITLE_SIZE,
    TOP,
    baseline,
    em_top,
    glyphs,
    line_at_or_below,
    width_of,
)
from .model import PdfDocument

RED = (0, 1, 1, 0)  # CMYK 0/100/100/0: the mark and the rules of the 版头
MARK_TOP = 35 * MM  # 发文机关标志 top below the 版心 top (§7.2.4)
MARK_SIZE = 15 * MM  # em of the mark; the standard leaves it to the unit (15 mm is the usual choice)
JOINT_MARK_SIZE = 12 * MM
SEPARATOR_GAP = 4 * MM  # red separator below the 发文字号 (§7.2.7)
SEPARATOR_WIDTH = 0.5 * MM  # thickness not fixed by the 2012 text
LETTER_MARK_TOP = 30 * MM  # 信函: mark top 30 mm below the page's top edge (§10.1)
LETTER_MARK_SIZE = 26.0  # 1号; not fixed by the standard
LETTER_RULE_GAP = 4 * MM  # double rule 4 mm below the mark
LETTER_RULE_BOTTOM = 20 * MM  # lower double rule 20 mm above the page's bottom edge
LETTER_RULE_LENGTH = 170 * MM
LETTER_THICK, LETTER_THIN, LETTER_RULE_PITCH = 0.8 * MM, 0.25 * MM, 1.2 * MM  # widths not fixed by the standard
SEVEN_EIGHTHS = 7 / 8 * BODY_SIZE  # "与该线的距离为3号汉字高度的7/8"


def corner_lines(doc: PdfDocument) -> list[list]:
    """份号 (six digits), 密级★保密期限 (黑体), 紧急程度 (黑体): stacked in this order, 顶格 at the top left."""
    items = []
    if doc.copy_number:
        items.append(glyphs([("fang", doc.copy_number)]))
    if doc.classification:
        items.append(glyphs([("hei", doc.classification + (f"★{doc.secrecy_period}" if doc.secrecy_period else ""))]))
    if doc.urgency:
        items.append(glyphs([("hei", doc.urgency)]))
    return items


def draw_document_head(c, doc: PdfDocument) -> int:
    """文件格式: corner elements from line 1; red mark 35 mm below the 版心 top; 发文字号 空二行 below it (上行文:
    number left 一字, 签发人 right 一字 on the same line as the last name); red separator 4 mm below the number;
    returns the title's line (空二行 below the separator)."""
    for k, items in enumerate(corner_lines(doc)):
        draw_run(c, items, LEFT, k)
    mark_bottom = draw_marks(c, doc.issuer_marks or ["（发文机关标志）"])
    number_line = line_at_or_below(mark_bottom + 2 * LINE_PITCH)
    number = glyphs([("fang", doc.doc_number)])
    if doc.signers:
        number_line = draw_signers(c, doc.signers, number_line)
        draw_run(c, number, LEFT + CELL, number_line)
    else:
        draw_run(c, number, LEFT + BLOCK_W / 2 - width_of(number) / 2, number_line)
    separator = em_top(number_line) + BODY_SIZE + SEPARATOR_GAP
    c.setStrokeColorCMYK(*RED)
    c.setLineWidth(SEPARATOR_WIDTH)
    c.line(LEFT, PAGE_H - separator, LEFT + BLOCK_W, PAGE_H - separator)
    c.setStrokeColorCMYK(0, 0, 0, 1)
    return line_at_or_below(separator) + 2


def draw_marks(c, marks: list[str]) -> float:
    """The red 小标宋 mark, top 35 mm below the 版心 top, centred, set closer if long; returns its bottom (from the
    page top). 联合行文: the names stacked (lead body first), "文件" to their right, centred on them vertically."""
    x_mid = LEFT + BLOCK_W / 2
    top = TOP + MARK_TOP
    c.setFillColorCMYK(*RED)
    if len(marks) == 1:
        pitch = min(MARK_SIZE, BLOCK_W / len(marks[0]))
        draw_spaced(c, marks[0], "xbs", MARK_SIZE, baseline_for(top, MARK_SIZE), x_mid, pitch)
        bottom = top + MARK_SIZE
    else:
        names = [m.removesuffix("文件") for m in marks]
        # many bodies: smaller type so that the first page still shows body text (§7.2.4)
        size = JOINT_MARK_SIZE if len(names) <= 4 else JOINT_MARK_SIZE * 4 / len(names)
        longest = max(len(n) for n in names)
        pitch = min(size, (BLOCK_W - 3 * size) / longest)
        names_w = longest * pitch
        left = x_mid - (names_w + 3 * size) / 2  # names, one character's gap, 文件
        step = size * 1.15
        c.setFont("xbs", size)
        for k, name in enumerate(names):  # each name spread over the same width, so both edges align
            spacing = (names_w - size) / max(1, len(name) - 1)
            for m, ch in enumerate(name):
                c.drawString(left + m * spacing, baseline_for(top + k * step, size), ch)
        bottom = top + (len(names) - 1) * step + size
        middle = (top + bottom) / 2
        draw_spaced(c, "文件", "xbs", size, baseline_for(middle - size / 2, size), left + names_w + 2 * size, size)
    c.setFillColorCMYK(0, 0, 0, 1)
    return bottom


def draw_signers(c, signers: list[str], first_line: int) -> int:
    """§7.2.6: "签发人：" (仿宋) and the names (楷体) 居右空一字, two names a line, left to right and top down, a new
    line aligned with the first name above; returns the line of the last name (where the number goes)."""
    label = glyphs([("fang", "签发人：")])
    names = [glyphs([("kai", n)]) for n in signers]
    per_row = 2 if len(names) > 1 else 1
    slot = max(width_of(n) for n in names)
    x_names = LEFT + BLOCK_W - CELL - (per_row * slot + (per_row - 1) * CELL)
    draw_run(c, label, x_names - width_of(label), first_line)
    for k, name in enumerate(names):
        row, col = divmod(k, per_row)
        draw_run(c, name, x_names + col * (slot + CELL), first_line + row)
    return first_line + (len(names) - 1) // per_row


def draw_letter_head(c, doc: PdfDocument) -> int:
    """信函格式 (§10.1): the (lead body's) mark 30 mm below the page top; red double rules 170 mm long, centred —
    thick over thin 4 mm below the mark, thin over thick 20 mm above the page bottom; 份号/密级/紧急程度 顶格 at the
    left and the 发文字号 顶格 at the right under the first rule, the first of them 7/8 of a 3号 character below it;
    returns the title's line (空二行 below the last of them)."""
    mark = (doc.issuer_marks or ["（发文机关标志）"])[0].removesuffix("文件")
    size = LETTER_MARK_SIZE
    c.setFillColorCMYK(*RED)
    draw_spaced(c, mark, "xbs", size, baseline_for(LETTER_MARK_TOP, size), PAGE_W / 2,
                min(size, BLOCK_W / len(mark)))
    c.setFillColorCMYK(0, 0, 0, 1)
    rule_top = LETTER_MARK_TOP + size + LETTER_RULE_GAP  # top edge of the thick line
    thick_y = PAGE_H - rule_top - LETTER_THICK / 2
    bottom_thick_y = LETTER_RULE_BOTTOM + LETTER_THICK / 2
    draw_double_rule(c, thick_y, thick_y - LETTER_RULE_PITCH)
    draw_double_rule(c, bottom_thick_y, bottom_thick_y + LETTER_RULE_PITCH)
    rule_bottom = rule_top + LETTER_THICK / 2 + LETTER_RULE_PITCH + LETTER_THIN / 2
    first_top = rule_bottom + SEVEN_EIGHTHS
    lines = corner_lines(doc)
    for k, items in enumerate(lines):
        draw_run_at(c, items, LEFT, baseline_for(first_top + k * LINE_PITCH))
    if doc.doc_number:
        number = glyphs([("fang", doc.doc_number)])
        draw_run_at(c, number, LEFT + BLOCK_W - width_of(number), baseline_for(first_top))
    last_top = first_top + max(0, len(lines) - 1) * LINE_PITCH
    return line_at_or_below(last_top + 3 * LINE_PITCH - 0.5 * MM)


def draw_double_rule(c, thick_y: float, thin_y: float) -> None:
    x0 = PAGE_W / 2 - LETTER_RULE_LENGTH / 2
    c.setStrokeColorCMYK(*RED)
    for y, width in ((thick_y, LETTER_THICK), (thin_y, LETTER_THIN)):
        c.setLineWidth(width)
        c.line(x0, y, x0 + LETTER_RULE_LENGTH, y)
    c.setStrokeColorCMYK(0, 0, 0, 1)


def draw_title(c, title: str, line: int) -> int:
    """2号小标宋 centred, one or more lines broken between words; returns the line after the title and the empty
    line below it (主送 goes 标题下空一行). Half-width digits keep their own advance ("2027年", not "2 0 2 7")."""
    for part in split_title(title):
        items = glyphs([("xbs", part)])
        x = LEFT + BLOCK_W / 2 - sum(g.em for g in items) * TITLE_SIZE / 2
        y = baseline(line, TITLE_SIZE)
        c.setFont("xbs", TITLE_SIZE)
        for g in items:
            c.drawString(x, y, g.ch)
            x += g.em * TITLE_SIZE
        line += 1
    return line + 1


def split_title(title: str) -> list[str]:
    """§7.3.1 回行时词意完整、排列对称 (梯形或菱形): as few lines as fit the 版心, broken only between jieba words
    (never inside a number and the 年/号 after it, never before closing punctuation, inside quotation marks only
    if there is no other way), the line widths as even as possible; on a tie the upper line is the shorter (梯形)."""
    ems = [g.em for g in glyphs([("xbs", title)])]
    capacity = BLOCK_W / TITLE_SIZE + 1e-6

    def width(a: int, b: int) -> float:
        return sum(ems[a:b])

    if width(0, len(title)) <= capacity:
        return [title]
    import jieba

    cuts, position = [], 0
    for word in jieba.cut(title, HMM=False):
        position += len(word)
        if position < len(title) and not title[position - 1].isdigit() and title[position] not in NO_START:
            cuts.append(position)

    def quoted(cut: int) -> bool:  # a break inside “…” or 《…》 tears a name apart: only if nothing else fits
        head = title[:cut]
        return any(head.count(o) > head.count(c) for o, c in ("“”", "《》", "（）"))

    def endings(start: int, remaining: int) -> list[list[int]]:
        if remaining == 1:
            return [[len(title)]] if width(start, len(title)) <= capacity else []
        return [[cut, *rest] for cut in cuts if start < cut and width(start, cut) <= capacity
                for rest in endings(cut, remaining - 1)]

    count = int(-(-width(0, len(title)) // capacity))
    options = endings(0, count) or endings(0, count + 1)
    best, best_score = None, None
    for ends in options:
        widths = [width(a, b) for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        inside = sum(1 for e in ends[:-1] if quoted(e))
        score = (inside, round(max(widths) - min(widths), 3), widths[0] > widths[-1])
        if best_score is None or score < best_score:
            best, best_score = [title[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)], score
    per_line = int(capacity)
    return best or [title[k:k + per_line] for k in range(0, len(title), per_line)]


__all__ = ["RED", "MARK_TOP", "SEPARATOR_GAP", "draw_document_head", "draw_letter_head", "draw_title",
           "split_title"]
