"""A 公文 as a GB/T 9704-2012 PDF (R2): 版头, 主体 and 版记 on the 28 × 22 grid, 文件格式 and 信函格式.

`render(PdfDocument) -> RenderResult` is pure (no database): the documents app builds the input from a Document.
The result says where each seal goes (`seal_boxes`), so 用印 stamps the image exactly where §7.3.5.1 wants it.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from . import fonts
from .layout import (
    BLOCK_H,
    BLOCK_W,
    BODY_SIZE,
    CELL,
    CHARS,
    EM_ASCENT,
    FOOT_SIZE,
    LEFT,
    LINE_PITCH,
    LINES,
    MM,
    NO_START,
    PAGE_H,
    PAGE_W,
    TITLE_SIZE,
    TOP,
    Glyph,
    Line,
    baseline,
    break_runs,
    em_top,
    em_width,
    glyphs,
    line_at_or_below,
    place,
    width_of,
)

MARK_TOP = 35 * MM  # 发文机关标志 top below the 版心 top (R2.4)
MARK_SIZE = 15 * MM  # em of the mark; the standard leaves it to the unit (15 mm is usual)
LETTER_MARK_TOP = 30 * MM  # 信函: mark top 30 mm below the page top edge (§10.1)
LETTER_MARK_SIZE = 26.0  # 1号
SEPARATOR_GAP = 4 * MM
SEPARATOR_WIDTH = 0.5 * MM
FOLIO_GAP = 7 * MM
RULE_THICK, RULE_THIN = 0.35 * MM, 0.25 * MM
SEAL_DIAMETER = 42 * MM
RED = (0, 1, 1, 0)
HEADING_FONT = {0: "fang", 1: "hei", 2: "kai", 3: "fang", 4: "fang"}


@dataclass
class Block:
    text: str
    level: int = 0


@dataclass
class PdfDocument:
    title: str
    body: list[Block] = field(default_factory=list)
    format: str = "document"  # "document" 文件格式 | "letter" 信函格式
    copy_number: str = ""
    classification: str = ""
    secrecy_period: str = ""
    urgency: str = ""
    issuer_marks: list[str] = field(default_factory=list)
    doc_number: str = ""
    signers: list[str] = field(default_factory=list)
    main_recipients: str = ""
    attachment_notes: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    date: dt.date | None = None
    sealed: bool = True
    note: str = ""
    copy_to: list[str] = field(default_factory=list)
    printing_unit: str = ""
    printing_date: dt.date | None = None


@dataclass
class SealBox:
    page: int
    box: tuple[float, float, float, float]


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    seal_boxes: list[SealBox]
    fonts: dict[str, str]


def chinese_date(value: dt.date | None) -> str:
    """R2.4: Arabic numerals, no zero padding: 2026年1月5日."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


# --- drawing helpers ------------------------------------------------------------------------------------------------

def draw_glyph(c, x: float, y: float, g: Glyph, size: float = BODY_SIZE, cell: float = CELL) -> None:
    c.setFont(g.font, size)
    dx = (cell - size) / 2 if g.em == 1.0 else 0.0
    c.drawString(x + dx, y, g.ch)


def draw_line(c, line: Line, index: int) -> None:
    for x, g in place(line):
        draw_glyph(c, x, baseline(index), g)


def draw_run(c, items: list[Glyph], x: float, index: int) -> None:
    for g in items:
        draw_glyph(c, x, baseline(index), g)
        x += g.em * CELL


def draw_spaced(c, text: str, font: str, size: float, y: float, x_center: float, pitch: float) -> None:
    start = x_center - pitch * len(text) / 2
    c.setFont(font, size)
    for k, ch in enumerate(text):
        c.drawString(start + k * pitch + (pitch - size) / 2, y, ch)


# --- the flow of grid rows after the 版头 ---------------------------------------------------------------------------

@dataclass
class Row:
    draw: Callable | None  # draw(canvas, line_index) or None for an empty line
    body: bool = False  # a line of 主送/正文 text (a page must carry at least one: no "此页无正文")
    seal_centres: list[float] = field(default_factory=list)  # x of seals whose centre sits on this row's lower edge


def text_rows(runs, *, indent: float = 2, hanging: float = 0, body: bool = True) -> list[Row]:
    return [Row(lambda c, i, ln=ln: draw_line(c, ln, i), body=body)
            for ln in break_runs(runs, indent=indent, hanging=hanging)]


def paragraph_runs(block: Block) -> list[tuple[str, str]]:
    """A heading level's font for the heading; a heading followed by text in the same paragraph keeps its font
    only up to the first 。 (e.g. （一）健全工作机制。各区要…: 楷体 then 仿宋)."""
    font = HEADING_FONT.get(block.level, "fang")
    if block.level == 0 or font == "fang":
        return [("fang", block.text)]
    stop = block.text.find("。")
    if 0 <= stop < len(block.text) - 1:
        return [(font, block.text[:stop + 1]), ("fang", block.text[stop + 1:])]
    return [(font, block.text)]


def attachment_rows(notes: list[str]) -> list[Row]:
    """附件说明: 正文下空一行, 左空二字 "附件：", numbered when several, continuation under the name."""
    rows: list[Row] = [Row(None)]
    label = "附件："
    for k, name in enumerate(notes):
        prefix = (label if k == 0 else "　" * len(label)) + (f"{k + 1}．" if len(notes) > 1 else "")
        hanging = 2 + len(prefix) - (0.5 if len(notes) > 1 else 0)
        rows.extend(text_rows([("fang", prefix + name)], indent=2, hanging=hanging, body=False))
    return rows


def signature_rows(doc: PdfDocument) -> list[Row]:
    """署名 and 成文日期 (§7.3.5): sealed — the date 右空四字, each 署名 centred over where its seal goes, the seal
    centred over 署名 and date; not sealed — 署名 右空二字, the date below it moved right by two characters."""
    names = [n for n in doc.signature if n] or []
    date = glyphs([("fang", chinese_date(doc.date))])
    rows: list[Row] = [Row(None)]
    right = LEFT + BLOCK_W
    if not doc.sealed:
        for name in names:
            items = glyphs([("fang", name)])
            x = right - 2 * CELL - width_of(items)
            rows.append(Row(lambda c, i, items=items, x=x: draw_run(c, items, x, i)))
        if date:
            first_x = right - 2 * CELL - (width_of(glyphs([("fang", names[-1])])) if names else 0)
            x = min(first_x + 2 * CELL, right - 2 * CELL - width_of(date)) if names else right - 2 * CELL - width_of(date)
            rows.append(Row(lambda c, i, x=x: draw_run(c, date, x, i)))
        return rows
    date_right = right - 4 * CELL
    date_centre = date_right - width_of(date) / 2 if date else right - 4 * CELL - 3 * CELL
    gap = SEAL_DIAMETER + 6 * MM  # seals in a row must not touch
    per_row = max(1, min(3, int((BLOCK_W + 6 * MM) // gap)))
    groups = [names[k:k + per_row] for k in range(0, len(names), per_row)] or [[]]
    for g_index, group in enumerate(groups):
        centres = [date_centre - (len(group) - 1 - k) * gap for k in range(len(group))]
        if g_index:
            rows.extend(Row(None) for _ in range(3))  # the next row of seals clears the one above
        row = Row(None)

        def draw_names(c, i, group=group, centres=centres):
            for name, cx in zip(group, centres, strict=True):
                items = glyphs([("fang", name)])
                draw_run(c, items, cx - width_of(items) / 2, i)

        row.draw = draw_names
        row.seal_centres = centres
        rows.append(row)
    if date:
        rows.append(Row(lambda c, i: draw_run(c, date, date_right - width_of(date), i)))
    return rows


# --- 版记 -----------------------------------------------------------------------------------------------------------

def imprint_rows(doc: PdfDocument, letter: bool) -> list[list]:
    """Rows of the 版记, each a list of sub-lines: 抄送 (wrapped after a unit's "，", continuation aligned after
    "抄送："), then 印发机关 and 印发日期 (not in a letter)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    rows: list[list] = []
    if doc.copy_to:
        text = "抄送：" + "，".join(doc.copy_to).rstrip("。，") + "。"
        head = "抄送："
        avail = BLOCK_W - 2 * FOOT_SIZE
        lines: list[str] = []
        while text:
            room = avail - (stringWidth(head, "fang", FOOT_SIZE) if lines else 0)
            k = len(text)
            while k > 1 and stringWidth(text[:k], "fang", FOOT_SIZE) > room:
                k -= 1
            if k < len(text) and "，" in text[:k]:
                k = text[:k].rindex("，") + 1
            while 1 < k < len(text) and text[k] in NO_START:
                k -= 1
            lines.append(text[:k])
            text = text[k:]
        rows.append(lines)
    if not letter and (doc.printing_unit or doc.printing_date):
        rows.append([(doc.printing_unit, chinese_date(doc.printing_date) + "印发" if doc.printing_date else "")])
    return rows


SUB_PITCH = FOOT_SIZE * 1.5


def imprint_heights(rows: list[list]) -> list[float]:
    return [max(LINE_PITCH, len(r) * SUB_PITCH + (LINE_PITCH - SUB_PITCH)) for r in rows]


def draw_imprint(c, rows: list[list], letter: bool) -> None:
    """The last rule on the 版心 bottom; rows upwards; 0.35 mm first and last rule, 0.25 mm between (R2.4)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    heights = imprint_heights(rows)
    bottom = PAGE_H - TOP - BLOCK_H
    if not letter:
        c.setLineWidth(RULE_THICK)
        c.line(LEFT, bottom, LEFT + BLOCK_W, bottom)
    y = bottom
    for k, (row, height) in enumerate(zip(reversed(rows), reversed(heights), strict=True)):
        c.setFont("fang", FOOT_SIZE)
        first = y + height - (height - len(row) * SUB_PITCH) / 2 - SUB_PITCH / 2 - EM_ASCENT * FOOT_SIZE \
            + FOOT_SIZE / 2
        for m, item in enumerate(row):
            base = first - m * SUB_PITCH
            if isinstance(item, tuple):
                c.drawString(LEFT + FOOT_SIZE, base, item[0])
                c.drawRightString(LEFT + BLOCK_W - FOOT_SIZE, base, item[1])
            else:
                indent = stringWidth("抄送：", "fang", FOOT_SIZE) if m else 0
                c.drawString(LEFT + FOOT_SIZE + indent, base, item)
        y += height
        if not letter:
            c.setLineWidth(RULE_THICK if k == len(rows) - 1 else RULE_THIN)
            c.line(LEFT, y, LEFT + BLOCK_W, y)


# --- 版头 -----------------------------------------------------------------------------------------------------------

def draw_corner(c, doc: PdfDocument, first_line: int = 0) -> int:
    """份号 (line 1), 密级和保密期限 (黑体), 紧急程度 (黑体), 顶格 at the top left; returns the next free line."""
    line = first_line
    if doc.copy_number:
        draw_run(c, glyphs([("fang", doc.copy_number)]), LEFT, line)
        line += 1
    if doc.classification:
        text = doc.classification + (f"★{doc.secrecy_period}" if doc.secrecy_period else "")
        draw_run(c, glyphs([("hei", text)]), LEFT, line)
        line += 1
    if doc.urgency:
        draw_run(c, glyphs([("hei", doc.urgency)]), LEFT, line)
        line += 1
    return line


def draw_document_head(c, doc: PdfDocument) -> int:
    """文件格式: red mark 35 mm below the 版心 top, 发文字号 空二行 below it (with 签发人 for upward documents), the red
    separator 4 mm below the number; returns the grid line where the title starts (空二行 below the separator)."""
    draw_corner(c, doc)
    x_mid = LEFT + BLOCK_W / 2
    marks = [m for m in doc.issuer_marks if m] or ["（发文机关标志）"]
    c.setFillColorCMYK(*RED)
    if len(marks) == 1:
        mark = marks[0]
        pitch = min(MARK_SIZE, BLOCK_W / len(mark))
        draw_spaced(c, mark, "xbs", MARK_SIZE, PAGE_H - (TOP + MARK_TOP) - EM_ASCENT * MARK_SIZE, x_mid, pitch)
        mark_bottom = TOP + MARK_TOP + MARK_SIZE
    else:  # 联合行文: the names stacked (lead first), "文件" to their right, vertically centred
        size = min(MARK_SIZE, 12 * MM)
        longest = max(len(m) for m in marks)
        pitch = min(size, (BLOCK_W - 2.5 * size) / longest)
        names_w = longest * pitch
        left = x_mid - (names_w + 2.5 * size) / 2
        step = size * 1.15
        for k, name in enumerate(marks):
            top = TOP + MARK_TOP + k * step
            draw_spaced(c, name, "xbs", size, PAGE_H - top - EM_ASCENT * size, left + names_w / 2, pitch)
        middle = TOP + MARK_TOP + ((len(marks) - 1) * step + size) / 2
        draw_spaced(c, "文件", "xbs", size, PAGE_H - middle - (EM_ASCENT - 0.5) * size,
                    left + names_w + 1.5 * size, size)
        mark_bottom = TOP + MARK_TOP + (len(marks) - 1) * step + size
    c.setFillColorCMYK(0, 0, 0, 1)
    number_line = line_at_or_below(mark_bottom + 2 * LINE_PITCH)
    number = glyphs([("fang", doc.doc_number)]) if doc.doc_number else []
    if doc.signers:  # 上行文: number left 一字, "签发人：" + names right 一字 (names 楷体), number on the last line
        label = glyphs([("fang", "签发人：")])
        for k, name in enumerate(doc.signers):
            line = number_line + k
            items = glyphs([("kai", name)])
            if k == 0:
                draw_run(c, label, LEFT + BLOCK_W - CELL - width_of(items) - width_of(label), line)
            draw_run(c, items, LEFT + BLOCK_W - CELL - width_of(items), line)
        number_line += len(doc.signers) - 1
        draw_run(c, number, LEFT + CELL, number_line)
    else:
        draw_run(c, number, x_mid - width_of(number) / 2, number_line)
    separator = em_top(number_line) + BODY_SIZE + SEPARATOR_GAP
    c.setStrokeColorCMYK(*RED)
    c.setLineWidth(SEPARATOR_WIDTH)
    c.line(LEFT, PAGE_H - separator, LEFT + BLOCK_W, PAGE_H - separator)
    c.setStrokeColorCMYK(0, 0, 0, 1)
    return line_at_or_below(separator) + 2


def draw_letter_head(c, doc: PdfDocument) -> int:
    """信函格式 (§10.1): mark 30 mm from the page top, red double rules (thick over thin) 4 mm below it and (thin over
    thick) 20 mm above the page bottom, 170 mm long; the 发文字号 顶格 at the right edge 空一行 below the rule."""
    x_mid = PAGE_W / 2
    mark = ([m for m in doc.issuer_marks if m] or ["（发文机关标志）"])[0]
    size = LETTER_MARK_SIZE
    pitch = min(size, BLOCK_W / len(mark))
    c.setFillColorCMYK(*RED)
    draw_spaced(c, mark, "xbs", size, PAGE_H - LETTER_MARK_TOP - EM_ASCENT * size, x_mid, pitch)
    c.setFillColorCMYK(0, 0, 0, 1)
    c.setStrokeColorCMYK(*RED)
    x0, x1 = x_mid - 85 * MM, x_mid + 85 * MM
    top_rule = LETTER_MARK_TOP + size + 4 * MM
    for offset, width in ((0, 0.8 * MM), (1.2 * MM, 0.25 * MM)):  # 上粗下细
        c.setLineWidth(width)
        c.line(x0, PAGE_H - top_rule - offset, x1, PAGE_H - top_rule - offset)
    for offset, width in ((0, 0.25 * MM), (1.2 * MM, 0.8 * MM)):  # 上细下粗, 20 mm from the bottom edge
        c.setLineWidth(width)
        y = 20 * MM + 1.2 * MM - offset
        c.line(x0, y, x1, y)
    c.setStrokeColorCMYK(0, 0, 0, 1)
    line = line_at_or_below(top_rule + 1.2 * MM + 0.4 * MM)
    line = draw_corner(c, doc, line) if (doc.copy_number or doc.classification or doc.urgency) else line
    line += 1  # 空一行
    if doc.doc_number:
        number = glyphs([("fang", doc.doc_number)])
        draw_run(c, number, LEFT + BLOCK_W - width_of(number), line)
    return line + 3  # the title 空二行 below the number


def draw_title(c, title: str, line: int) -> int:
    """2号小标宋, centred, lines balanced and broken between words (回行时词意完整、排列对称); returns the line after
    the title plus one empty line."""
    for part in split_title(title):
        draw_spaced(c, part, "xbs", TITLE_SIZE, baseline(line, TITLE_SIZE), LEFT + BLOCK_W / 2, TITLE_SIZE)
        line += 1
    return line + 1


def split_title(title: str) -> list[str]:
    per_line = int(BLOCK_W // TITLE_SIZE)
    if len(title) <= per_line:
        return [title]
    import jieba

    cuts = [0]
    for word in jieba.cut(title, HMM=False):
        cuts.append(cuts[-1] + len(word))
    lines = -(-len(title) // per_line)
    best: list[str] | None = None
    best_score = None

    def choose(start: int, remaining: int) -> list[list[int]]:
        if remaining == 1:
            return [[len(title)]] if len(title) - start <= per_line else []
        options = []
        for cut in cuts:
            if start < cut < len(title) and cut - start <= per_line:
                for rest in choose(cut, remaining - 1):
                    options.append([cut, *rest])
        return options

    for ends in choose(0, lines) or [[min(len(title), (k + 1) * per_line) for k in range(lines)]]:
        parts = [title[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        if any(p and p[0] in NO_START for p in parts[1:]):
            continue
        score = max(map(len, parts)) - min(map(len, parts))
        if best_score is None or score < best_score:
            best, best_score = parts, score
    return best or [title[k:k + per_line] for k in range(0, len(title), per_line)]


def draw_folio(c, page: int) -> None:
    """— 1 —: 4号 half-width digits, 7 mm below the 版心, odd pages right 一字 in, even pages left 一字 in (R2.3)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = f"— {page} —"
    width = stringWidth(text, "fang", FOOT_SIZE)
    y = PAGE_H - (TOP + BLOCK_H + FOLIO_GAP) - EM_ASCENT * FOOT_SIZE
    x = LEFT + BLOCK_W - CELL - width if page % 2 else LEFT + CELL
    c.setFont("fang", FOOT_SIZE)
    c.drawString(x, y, text)


# --- pagination ---------------------------------------------------------------------------------------------------

def paginate(rows: list[Row], first_line: int, keep_from: int, imprint_lines: int) -> list[list[tuple[int, Row]]]:
    """Rows onto pages (line index per row). Everything from `keep_from` on (the last body lines, 附件说明, 署名,
    日期, 附注) stays together; and the last page must hold the 版记 too — if it does not, that group moves to a
    new page, which therefore still carries body text (no "此页无正文")."""

    def lay(break_before_keep: bool) -> list[list[tuple[int, Row]]]:
        pages: list[list[tuple[int, Row]]] = [[]]
        line = first_line
        for index, row in enumerate(rows):
            group_left = len(rows) - index
            if index == keep_from and pages[-1] and (break_before_keep or line + group_left > LINES) \
                    and group_left <= LINES:
                pages.append([])
                line = 0
            if line >= LINES:
                pages.append([])
                line = 0
            if row.draw is None and line == 0 and pages[-1] == []:
                continue  # no empty line at the top of a page
            pages[-1].append((line, row))
            line += 1
        return pages

    pages = lay(False)
    last_used = (pages[-1][-1][0] + 1) if pages[-1] else 0
    if imprint_lines and last_used + imprint_lines > LINES:
        pages = lay(True)
    return pages


def render(doc: PdfDocument) -> RenderResult:
    from reportlab.pdfgen import canvas

    used = fonts.register()
    letter = doc.format == "letter"
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(PAGE_W, PAGE_H), pageCompression=1, initialFontName="fang",
                      initialFontSize=BODY_SIZE)
    note = "字体：" + "；".join(f"{style}={name}" for style, name in used.items())
    c.setTitle(doc.title)
    c.setAuthor("、".join(doc.signature))
    c.setSubject(note)
    c.setKeywords(note)
    c.setCreator("政通 Zhengtong（GB/T 9704-2012 版式）")
    first_line = draw_letter_head(c, doc) if letter else draw_document_head(c, doc)
    first_line = draw_title(c, doc.title, first_line)

    rows: list[Row] = []
    if doc.main_recipients:
        text = doc.main_recipients.rstrip("：:") + "："
        rows.extend(text_rows([("fang", text)], indent=0))
    for block in doc.body:
        if block.text.strip():
            rows.extend(text_rows(paragraph_runs(block)))
    body_rows = [k for k, r in enumerate(rows) if r.body]
    keep_from = body_rows[-2] if len(body_rows) >= 2 else (body_rows[-1] if body_rows else 0)
    if doc.attachment_notes:
        rows.extend(attachment_rows(doc.attachment_notes))
    rows.extend(signature_rows(doc))
    if doc.note:
        note_text = doc.note if doc.note.startswith(("（", "(")) else f"（{doc.note}）"
        rows.extend(text_rows([("fang", note_text)], indent=2, body=False))
    imprint = imprint_rows(doc, letter)
    imprint_lines = int(-(-sum(imprint_heights(imprint)) // LINE_PITCH)) if imprint else 0
    pages = paginate(rows, first_line, keep_from, imprint_lines)

    seal_boxes: list[SealBox] = []
    for number, page in enumerate(pages, start=1):
        if number > 1:
            c.showPage()
        for line, row in page:
            if row.draw is not None:
                row.draw(c, line)
            for cx in row.seal_centres:
                # centred over 署名 and 成文日期: the centre on the boundary between the two lines, so both sit
                # "居印章中心偏下" and the seal's top stays within one line of the text above (§7.3.5.1)
                cy = PAGE_H - (em_top(line) + LINE_PITCH / 2 + BODY_SIZE / 2 - 2 * MM)
                r = SEAL_DIAMETER / 2
                seal_boxes.append(SealBox(page=number - 1, box=(cx - r, cy - r, cx + r, cy + r)))
        if number == len(pages) and imprint:
            draw_imprint(c, imprint, letter)
        if not (letter and number == 1):  # a letter's first page carries no page number
            draw_folio(c, number)
    c.showPage()
    c.save()
    return RenderResult(pdf=buffer.getvalue(), pages=len(pages), seal_boxes=seal_boxes, fonts=used)


__all__ = ["Block", "PdfDocument", "SealBox", "RenderResult", "render", "chinese_date", "CHARS", "em_width"]
