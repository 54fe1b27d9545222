"""A 公文 as a GB/T 9704-2012 PDF (R2): 版头, 主体 and 版记 on the 28 × 22 grid, 文件格式 and 信函格式.

`render(PdfDocument) -> RenderResult` is pure (no database): the documents app builds the input from a Document.
The result says where each seal goes (`seal_boxes`), so 用印 stamps the image where §7.3.5.1 wants it.

After the 版头 everything is a list of grid rows (主送, 正文, 附件说明, 署名, 成文日期, 附注) put onto pages by
`paginate`, which keeps the end of the text together with the signature and the 版记 so that no page carries only
them ("此页无正文" is not allowed, R2.4).
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from . import fonts
from .draw import draw_line, draw_run
from .head import draw_document_head, draw_letter_head, draw_title
from .imprint import draw_imprint, grid_lines_needed, imprint_rows
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
    PAGE_H,
    PAGE_W,
    TOP,
    break_runs,
    em_top,
    em_width,
    glyphs,
    width_of,
)
from .model import Block, PdfDocument, RenderResult, SealBox, chinese_date, normalised

FOLIO_GAP = 7 * MM  # page number's 一字线 below the 版心 (§7.5)
SEAL_DIAMETER = 42 * MM
SEAL_GAP = 6 * MM  # between the seals of a joint document: they must not touch (§7.3.5.1)
HEADING_FONT = {0: "fang", 1: "hei", 2: "kai", 3: "fang", 4: "fang"}


@dataclass
class Row:
    draw: Callable | None  # draw(canvas, line_index); None for an empty line
    body: bool = False  # a line of 正文 (each page, the first included, must show some)
    heading: bool = False  # a heading on a line of its own: never the last line of a page
    seal_centres: list[float] = field(default_factory=list)  # x of seals centred over this 署名 row and the next


def text_rows(runs, *, indent: float = 2, hanging: float = 0, body: bool = False) -> list[Row]:
    return [Row(lambda c, i, ln=ln: draw_line(c, ln, i), body=body)
            for ln in break_runs(runs, indent=indent, hanging=hanging)]


def paragraph_runs(block: Block) -> list[tuple[str, str]]:
    """A heading level's font for the heading; a heading followed by text in the same paragraph keeps its font only
    up to the first 。 (（一）健全工作机制。各区要…: 楷体 then 仿宋)."""
    font = HEADING_FONT.get(block.level, "fang")
    if font == "fang":
        return [("fang", block.text)]
    stop = block.text.find("。")
    if 0 <= stop < len(block.text) - 1:
        return [(font, block.text[:stop + 1]), ("fang", block.text[stop + 1:])]
    return [(font, block.text)]


def attachment_rows(notes: list[str]) -> list[Row]:
    """§7.3.4 附件说明: 正文下空一行, 左空二字 "附件：" (numbered "1．" when several), no final punctuation; a long
    name's next line aligned with its first character."""
    rows: list[Row] = [Row(None)]
    for k, name in enumerate(notes):
        prefix = ("附件：" if k == 0 else "　　　") + (f"{k + 1}．" if len(notes) > 1 else "")
        hanging = 2 + sum(em_width(ch, "fang") for ch in prefix)
        rows.extend(text_rows([("fang", prefix + name.rstrip("。，；;,."))], indent=2, hanging=hanging))
    return rows


def signature_rows(doc: PdfDocument) -> list[Row]:
    """§7.3.5 署名 and 成文日期 after one empty line."""
    rows: list[Row] = [Row(None)]
    return rows + (sealed_signature(doc) if doc.sealed else unsealed_signature(doc))


def sealed_signature(doc: PdfDocument) -> list[Row]:
    """§7.3.5.1: the date 右空四字; each 署名 centred where its seal goes, the seals side by side (never beyond the
    版心, never touching), the last one centred over the date; the seal centre a little above the line between 署名
    and date so both sit 居印章中心偏下."""
    date = glyphs([("fang", chinese_date(doc.date))])
    date_right = LEFT + BLOCK_W - 4 * CELL
    date_centre = date_right - (width_of(date) / 2 if date else 3 * CELL)
    pitch = SEAL_DIAMETER + SEAL_GAP
    fit = 1 + int((date_centre - SEAL_DIAMETER / 2 - LEFT) // pitch)
    names = doc.signature or [""]
    rows: list[Row] = []
    for start in range(0, len(names), fit):
        group = names[start:start + fit]
        if start:
            rows.extend(Row(None) for _ in range(3))  # the next row of seals clears the one above
        centres = [date_centre - (len(group) - 1 - k) * pitch for k in range(len(group))]

        def draw_names(c, i, group=group, centres=centres):
            for name, cx in zip(group, centres, strict=True):
                items = glyphs([("fang", name)])
                draw_run(c, items, cx - width_of(items) / 2, i)

        rows.append(Row(draw_names, seal_centres=centres))
    if date:
        rows.append(Row(lambda c, i: draw_run(c, date, date_right - width_of(date), i)))
    return rows


def unsealed_signature(doc: PdfDocument) -> list[Row]:
    """§7.3.5.2: each 署名 右空二字 (lead body first, the others below); the date on the next line, its first
    character two to the right of the (last) 署名's; a date longer than that goes 右空二字 and the 署名 move left."""
    right = LEFT + BLOCK_W - 2 * CELL
    names = [glyphs([("fang", n)]) for n in doc.signature]
    date = glyphs([("fang", chinese_date(doc.date))])
    xs = [right - width_of(n) for n in names]
    shift = 0.0
    if names and date:
        shift = max(0.0, xs[-1] + 2 * CELL + width_of(date) - right)
    rows = [Row(lambda c, i, n=n, x=x - shift: draw_run(c, n, x, i)) for n, x in zip(names, xs, strict=True)]
    if date:
        x = (xs[-1] - shift + 2 * CELL) if names else right - width_of(date)
        rows.append(Row(lambda c, i, x=x: draw_run(c, date, x, i)))
    return rows


def draw_folio(c, page: int) -> None:
    """— 1 —: 4号 half-width digits between 一字线, 7 mm below the 版心; odd pages 右空一字, even pages 左空一字."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = f"— {page} —"
    y = PAGE_H - (TOP + BLOCK_H + FOLIO_GAP) - EM_ASCENT * FOOT_SIZE
    x = LEFT + BLOCK_W - CELL - stringWidth(text, "fang", FOOT_SIZE) if page % 2 else LEFT + CELL
    c.setFont("fang", FOOT_SIZE)
    c.drawString(x, y, text)


def paginate(rows: list[Row], first_line: int, keep_from: int, imprint_lines: int) -> list[list[tuple[int, Row]]]:
    """Rows onto pages as (line index, row). From `keep_from` on (the last two lines of 正文, 附件说明, 署名, date,
    附注) the rows stay on one page, and that page must also hold the 版记: if it cannot, the group starts a new
    page — which therefore still shows 正文."""

    def lay(break_before_keep: bool) -> list[list[tuple[int, Row]]]:
        pages: list[list[tuple[int, Row]]] = [[]]
        line = first_line
        for index, row in enumerate(rows):
            group = len(rows) - index
            if index == keep_from and pages[-1] and group <= LINES \
                    and (break_before_keep or line + group > LINES):
                pages.append([])
                line = 0
            if line >= LINES or (row.heading and line == LINES - 1 and index + 1 < len(rows)):
                pages.append([])
                line = 0
            if row.draw is None and line == 0 and not pages[-1]:
                continue  # no empty line at the top of a page
            pages[-1].append((line, row))
            line += 1
        return pages

    pages = lay(False)
    last_used = pages[-1][-1][0] + 1 if pages[-1] else 0
    if imprint_lines and last_used + imprint_lines > LINES:
        pages = lay(True)
    return pages


def main_rows(doc: PdfDocument) -> list[Row]:
    """§7.3.2 主送: 标题下空一行, 顶格, 回行仍顶格, ending with a full-width colon."""
    if not doc.main_recipients:
        return []
    return text_rows([("fang", doc.main_recipients.rstrip("：:，,。") + "：")], indent=0)


def layout_rows(doc: PdfDocument, *, with_main: bool) -> tuple[list[Row], int]:
    rows = main_rows(doc) if with_main else []
    for block in doc.body:
        lines = text_rows(paragraph_runs(block), body=True)
        if block.level in (1, 2) and len(lines) == 1 and "。" not in block.text[:-1]:
            lines[0].heading = True
        rows.extend(lines)
    body = [k for k, r in enumerate(rows) if r.body]
    keep_from = body[-2] if len(body) >= 2 else (body[-1] if body else len(rows))
    while 0 < keep_from < len(rows) and rows[keep_from - 1].heading:
        keep_from -= 1  # a heading stays with the text it heads
    if doc.attachment_notes:
        rows.extend(attachment_rows(doc.attachment_notes))
    rows.extend(signature_rows(doc))
    if doc.note:  # §7.3.6 附注: 居左空二字, in parentheses, on the line below the date
        text = doc.note if doc.note.startswith(("（", "(")) else f"（{doc.note}）"
        rows.extend(text_rows([("fang", text)], indent=2))
    return rows, keep_from


def render(doc: PdfDocument) -> RenderResult:
    from reportlab.pdfgen import canvas

    used = fonts.register()
    doc = normalised(doc)
    letter = doc.format == "letter"
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(PAGE_W, PAGE_H), pageCompression=1, initialFontName="fang",
                      initialFontSize=BODY_SIZE)  # not Helvetica: no unembedded font in the file
    record = fonts.record()
    c.setTitle(doc.title)
    c.setAuthor("、".join(doc.signature))
    c.setSubject(record)  # R2.4: which fonts stand in for 方正小标宋/仿宋_GB2312
    c.setKeywords(record)
    c.setCreator("政通 Zhengtong（GB/T 9704-2012 版式）")
    first_line = draw_letter_head(c, doc) if letter else draw_document_head(c, doc)
    first_line = draw_title(c, doc.title, first_line)

    rows, keep_from = layout_rows(doc, with_main=True)
    imprint = imprint_rows(doc, letter)
    pages = paginate(rows, first_line, keep_from, grid_lines_needed(imprint))
    if doc.main_recipients and doc.body and not any(r.body for _, r in pages[0]):
        # §7.3.2: so many 主送 that the first page shows no 正文 — they move to the 版记 as "主送："
        rows, keep_from = layout_rows(doc, with_main=False)
        imprint = imprint_rows(doc, letter, main_moved=True)
        pages = paginate(rows, first_line, keep_from, grid_lines_needed(imprint))

    seal_boxes: list[SealBox] = []
    for number, page in enumerate(pages, start=1):
        if number > 1:
            c.showPage()
        for line, row in page:
            if row.draw is not None:
                row.draw(c, line)
            for cx in row.seal_centres:
                cy = PAGE_H - (em_top(line) + LINE_PITCH / 2 + BODY_SIZE / 2 - 2 * MM)
                r = SEAL_DIAMETER / 2
                seal_boxes.append(SealBox(page=number - 1, box=(cx - r, cy - r, cx + r, cy + r)))
        if number == len(pages) and imprint:
            draw_imprint(c, imprint, letter)
        if not (letter and number == 1):  # §10.1: a letter's first page shows no page number
            draw_folio(c, number)
    c.showPage()
    c.save()
    return RenderResult(pdf=buffer.getvalue(), pages=len(pages), seal_boxes=seal_boxes, fonts=dict(used))


__all__ = ["Block", "PdfDocument", "SealBox", "RenderResult", "render", "chinese_date", "CHARS"]
