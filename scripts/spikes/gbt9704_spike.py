#!/usr/bin/env python3
"""Spike for issue #4: a GB/T 9704-2012 (STANDARDS.md R2) 发文 rendered with ReportLab on a fixed grid.

Standalone on purpose (no Django): it renders a two-page sample 下行文 and then measures the PDF it wrote
against R2 in millimetres, the way the layout test of issue #4 should.

    python scripts/spikes/gbt9704_spike.py --fonts /tmp/gbfonts --out /tmp/spike.pdf          # render + measure
    python scripts/spikes/gbt9704_spike.py --measure-only /tmp/spike.pdf                      # measure any PDF

Needs reportlab and pdfplumber (a temp venv is enough) and four TrueType-outline fonts in --fonts:
FandolFang-Regular.ttf, FandolSong-Bold.ttf, FandolHei-Regular.ttf, FandolKai-Regular.ttf.  The Fandol fonts
ship as CFF OpenType in Debian's texlive-lang-chinese; ReportLab refuses CFF ("postscript outlines are not
supported"), so convert them once with ``--convert SRC_DIR`` (fontTools cu2qu, ~12 s per font).
See docs/gbt9704-notes.md for the decisions behind every number below.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

MM = 72 / 25.4  # points per millimetre

# --- R2 layout constants (all in PDF points unless the name says _MM) --------------------------------------
PAGE_W, PAGE_H = 210 * MM, 297 * MM
TOP = 37 * MM  # 天头: page top edge -> text block top
LEFT = 28 * MM  # 订口: page left edge -> text block left (odd and even pages alike)
BLOCK_W, BLOCK_H = 156 * MM, 225 * MM  # 版心
CHARS, LINES = 28, 22
BODY_SIZE = 16.0  # 3号
TITLE_SIZE = 22.0  # 2号
FOOT_SIZE = 14.0  # 4号 (版记, page numbers)
CELL = BLOCK_W / CHARS  # 15.79 pt = 5.571 mm: the character pitch (glyphs are 16 pt, so tracking is -0.21 pt)
# 22 lines "撑满版心": first line's em box top on the block top, last line's em box bottom on the block bottom.
LINE_PITCH = (BLOCK_H - BODY_SIZE) / (LINES - 1)  # 29.61 pt = 10.45 mm
EM_ASCENT = 0.88  # ideographic em box above the baseline (Fandol & Noto CJK: OS/2 typo 880/-120)
MARK_TOP = 35 * MM  # 发文机关标志 top below the block top
MARK_SIZE = 15 * MM  # em size of the mark (not fixed by the standard; 15 mm is the common choice)
SEPARATOR_GAP = 4 * MM  # red separator below the 发文字号
SEPARATOR_WIDTH = 0.5 * MM  # thickness not fixed by the 2012 standard
FOLIO_GAP = 7 * MM  # page number (一字线) top below the block bottom
RULE_THICK, RULE_THIN = 0.35 * MM, 0.25 * MM  # 版记 rules
RED = (0, 1, 1, 0)  # CMYK 0/100/100/0

FONT_FILES = {
    "fang": "FandolFang-Regular.ttf",  # 仿宋: body, 1. and （1） headings, 版记
    "xbs": "FandolSong-Bold.ttf",  # 小标宋 stand-in: issuing-body mark, title
    "hei": "FandolHei-Regular.ttf",  # 黑体: 一、 headings, 紧急程度
    "kai": "FandolKai-Regular.ttf",  # 楷体: （一） headings
}

# 避头尾 (GB/T 15834 / JIS X 4051-like): may not start / may not end a line.
NO_START = set("，。、；：？！）》」』”’〕】…—·％%,.;:?!)]}")
NO_END = set("（《「『“‘〔【([{")
SQUEEZABLE = set("，。、；：？！）》」』”’〕】")  # closing punctuation whose glyph fills only the left half


@dataclass
class Glyph:
    ch: str
    font: str
    em: float  # advance in body ems (full-width = 1)


@dataclass
class Line:
    glyphs: list[Glyph]
    indent: int
    justify: bool


# --- sample document -------------------------------------------------------------------------------------
SAMPLE = {
    "copy_no": "000001",
    "urgency": "特急",
    "mark": "政通市人民政府文件",
    "number": "政通发〔2026〕3号",
    "title": "政通市人民政府关于进一步优化政务服务提升行政效能推动高效办成一件事的通知",
    "main_to": "各区人民政府，市政府各部门、各直属机构：",
    "body": [
        ("p", [("fang", "为深入贯彻落实国务院关于加快推进政务服务标准化、规范化、便利化的部署要求，进一步优化政务服务，"
                        "提升行政效能，推动“高效办成一件事”常态化，经市政府同意，现就有关事项通知如下。")]),
        ("p", [("hei", "一、总体要求")]),
        ("p", [("fang", "坚持以人民为中心的发展思想，聚焦企业和群众办事的难点堵点，以数字化改革为牵引，推动政务服务从"
                        "“能办”向“好办、易办”转变。到2026年底，全市政务服务事项网上可办率达到98%以上，"
                        "平均办理时限压缩50%，群众满意度持续提升。")]),
        ("p", [("kai", "（一）健全工作机制。"),
               ("fang", "各区、各部门要建立主要负责同志牵头抓总、分管负责同志具体负责、业务处室协同推进的工作机制，"
                        "明确责任分工，细化任务清单，确保各项工作落到实处。")]),
        ("p", [("kai", "（二）强化数据共享。"),
               ("fang", "依托市一体化政务服务平台，推动人口、法人、电子证照等基础数据按需共享，做到“一次采集、多方复用”，"
                        "原则上不得要求群众重复提交已由政府部门核发的材料。")]),
        ("p", [("hei", "二、重点任务")]),
        ("p", [("fang", "1.推进集成办理。围绕企业开办、不动产登记、新生儿出生、退休等高频事项，梳理办事场景，"
                        "实行一表申请、一套材料、一窗受理、一网通办。")]),
        ("p", [("fang", "（1）梳理事项清单。各部门于2026年3月31日前完成本部门事项梳理，报市政务服务管理局汇总。")]),
    ],
    "signer": "政通市人民政府",
    "date": "2026年1月5日",
    "note": "（此件公开发布）",
    "cc": "抄送：市委各部门，市人大常委会办公厅，市政协办公厅，市法院，市检察院。",
    "printer": "政通市人民政府办公室",
    "printed": "2026年1月5日印发",
}


# --- fonts --------------------------------------------------------------------------------------------------
def convert_fonts(src_dir: Path, dst_dir: Path) -> None:
    """CFF OpenType -> TrueType outlines (ReportLab embeds only glyf fonts). Pitfall: CID-keyed CFF."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    dst_dir.mkdir(parents=True, exist_ok=True)
    for ttf in FONT_FILES.values():
        font = TTFont(src_dir / ttf.replace(".ttf", ".otf"))
        order, glyphset, glyphs = font.getGlyphOrder(), font.getGlyphSet(), {}
        for name in order:
            pen = TTGlyphPen(glyphset)
            glyphset[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyphs[name] = pen.glyph()
        font["loca"] = newTable("loca")
        glyf = font["glyf"] = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, glyphs
        for tag in ("CFF ", "VORG"):
            if tag in font:
                del font[tag]
        font["head"].glyphDataFormat = 0
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                     "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        post = font["post"]
        post.formatType, post.extraNames, post.mapping = 2.0, [], {}
        font.sfntVersion = "\0\1\0\0"
        font.save(dst_dir / ttf)
        print("converted", ttf)


def register_fonts(font_dir: Path) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for key, fname in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(key, str(font_dir / fname)))


def em_width(ch: str, font: str) -> float:
    """Advance in body ems: every CJK/full-width glyph is one grid cell; ASCII keeps its own (half-width) advance."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if ord(ch) >= 0x2E80 or ch in "—…·“”‘’":
        return 1.0
    return stringWidth(ch, font, 1.0)


# --- line breaking on the 28-cell grid --------------------------------------------------------------------
def break_paragraph(runs: list[tuple[str, str]], indent: int = 2, width: int = CHARS) -> list[Line]:
    glyphs = [Glyph(ch, font, em_width(ch, font)) for font, text in runs for ch in text]
    lines: list[Line] = []
    i, first = 0, True
    while i < len(glyphs):
        ind = indent if first else 0
        cap = width - ind
        j, used = i, 0.0
        while j < len(glyphs) and used + glyphs[j].em <= cap + 1e-6:
            used += glyphs[j].em
            j += 1
        if j < len(glyphs):
            if glyphs[j].ch in NO_START:
                # 避头: first try to squeeze the line's closing punctuation (推入), else push a glyph down (推出).
                squeeze = 0.5 * sum(1 for g in glyphs[i:j + 1] if g.ch in SQUEEZABLE)
                if used + glyphs[j].em - squeeze <= cap + 1e-6:
                    j += 1
                else:
                    while j - 1 > i and (glyphs[j].ch in NO_START):
                        j -= 1
            while j - 1 > i and glyphs[j - 1].ch in NO_END:  # 避尾
                j -= 1
            while j - 1 > i and glyphs[j - 1].ch.isascii() and glyphs[j - 1].ch.isalnum() \
                    and glyphs[j].ch.isascii() and glyphs[j].ch.isalnum():  # keep "2026", "98%" whole
                j -= 1
        lines.append(Line(glyphs[i:j], ind, justify=j < len(glyphs)))
        i, first = j, False
    return lines


def place_line(line: Line, x0: float, width: float) -> list[tuple[float, Glyph]]:
    """x positions (pt) of each glyph's cell. Full lines are justified to the block edges."""
    ems = [g.em for g in line.glyphs]
    total = sum(ems)
    cap = width / CELL - line.indent
    squeeze = 0.0
    if line.justify and total > cap + 1e-6:  # 推入: halve closing punctuation from the end until it fits
        squeeze_needed = total - cap
        for k in range(len(ems) - 1, -1, -1):
            if squeeze_needed <= 1e-6:
                break
            if line.glyphs[k].ch in SQUEEZABLE:
                ems[k] -= 0.5
                squeeze_needed -= 0.5
        squeeze = total - sum(ems)
    total -= squeeze
    gap = (cap - total) / (len(ems) - 1) if line.justify and len(ems) > 1 else 0.0
    out, x = [], x0 + line.indent * CELL
    for g, em in zip(line.glyphs, ems, strict=False):
        out.append((x, g))
        x += (em + gap) * CELL
    return out


# --- rendering ----------------------------------------------------------------------------------------------
def line_baseline(index: int) -> float:
    """Baseline (PDF y, from page bottom) of grid line `index` (0-based) for 16 pt body type."""
    em_top_from_top = TOP + index * LINE_PITCH
    return PAGE_H - em_top_from_top - EM_ASCENT * BODY_SIZE


def draw_glyph(c, x: float, baseline: float, g: Glyph, size: float = BODY_SIZE) -> None:
    c.setFont(g.font, size)
    # centre a 16 pt glyph in its 15.79 pt cell (full-width) or start it at the cell (half-width)
    dx = (CELL - size) / 2 if g.em == 1.0 and size == BODY_SIZE else 0.0
    c.drawString(x + dx, baseline, g.ch)


def draw_centered(c, text: str, font: str, size: float, baseline: float, x_center: float, pitch: float | None = None):
    pitch = pitch or size
    start = x_center - pitch * len(text) / 2
    c.setFont(font, size)
    for k, ch in enumerate(text):
        c.drawString(start + k * pitch + (pitch - size) / 2, baseline, ch)


def draw_folio(c, page_no: int) -> None:
    """— 1 —: 4号 half-width digits between em dashes, 7 mm below the block, odd right / even left, 一字 in."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = f"— {page_no} —"
    w = stringWidth(text, "fang", FOOT_SIZE)
    baseline = PAGE_H - (TOP + BLOCK_H + FOLIO_GAP) - EM_ASCENT * FOOT_SIZE
    x = LEFT + BLOCK_W - CELL - w if page_no % 2 else LEFT + CELL
    c.setFont("fang", FOOT_SIZE)
    c.drawString(x, baseline, text)


def render(doc: dict, out: Path) -> None:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(out), pagesize=(PAGE_W, PAGE_H), pageCompression=1, initialFontName="fang",
                      initialFontSize=BODY_SIZE)
    c.setTitle(doc["title"])
    c.setAuthor(doc["signer"])
    fonts_note = ("字体: 仿宋=FandolFang Regular; 小标宋=FandolSong Bold; 黑体=FandolHei Regular; "
                  "楷体=FandolKai Regular (方正小标宋/仿宋_GB2312 未安装时的替代字体, GPL+font exception)")
    c.setSubject(fonts_note)
    c.setKeywords(fonts_note)
    c.setCreator("zhengtong gbt9704 spike")
    page = 1
    x_mid = LEFT + BLOCK_W / 2

    # 版头: 份号 (line 1) and 紧急程度 (line 2) at the block's top left
    c.setFont("fang", BODY_SIZE)
    c.drawString(LEFT, line_baseline(0), doc["copy_no"])
    for k, ch in enumerate(doc["urgency"]):
        draw_glyph(c, LEFT + k * CELL, line_baseline(1), Glyph(ch, "hei", 1.0))

    # 发文机关标志: red 小标宋, top 35 mm below the block top, centred; squeezed horizontally to fit if needed
    mark = doc["mark"]
    mark_pitch = min(MARK_SIZE, BLOCK_W / len(mark))
    mark_baseline = PAGE_H - (TOP + MARK_TOP) - EM_ASCENT * MARK_SIZE
    c.setFillColorCMYK(*RED)
    draw_centered(c, mark, "xbs", MARK_SIZE, mark_baseline, x_mid, pitch=mark_pitch)
    c.setFillColorCMYK(0, 0, 0, 1)

    # 发文字号: 空二行 below the mark, centred, on the grid line after that
    mark_bottom_from_top = TOP + MARK_TOP + MARK_SIZE
    num_line = int(-(-(mark_bottom_from_top + 2 * LINE_PITCH - TOP) // LINE_PITCH))
    num_text = [Glyph(ch, "fang", em_width(ch, "fang")) for ch in doc["number"]]
    num_w = sum(g.em for g in num_text) * CELL
    x = x_mid - num_w / 2
    for g in num_text:
        draw_glyph(c, x, line_baseline(num_line), g)
        x += g.em * CELL

    # red separator 4 mm below the number's em box bottom, across the block
    sep_from_top = TOP + num_line * LINE_PITCH + BODY_SIZE + SEPARATOR_GAP
    c.setStrokeColorCMYK(*RED)
    c.setLineWidth(SEPARATOR_WIDTH)
    c.line(LEFT, PAGE_H - sep_from_top, LEFT + BLOCK_W, PAGE_H - sep_from_top)
    c.setStrokeColorCMYK(0, 0, 0, 1)

    # title: 2号小标宋, 空二行 below the separator, balanced lines
    line_no = int(-(-(sep_from_top - TOP) // LINE_PITCH)) + 2
    title = doc["title"]
    per_line = int(BLOCK_W // TITLE_SIZE)
    n_lines = -(-len(title) // per_line)
    size_each = -(-len(title) // n_lines)
    for k in range(n_lines):
        part = title[k * size_each:(k + 1) * size_each]
        base = line_baseline(line_no) - (TITLE_SIZE - BODY_SIZE) / 2  # centre 22 pt em on the 16 pt line's em
        draw_centered(c, part, "xbs", TITLE_SIZE, base, x_mid)
        line_no += 1
    line_no += 1  # 标题下空一行

    def emit(lines: list[Line]) -> None:
        nonlocal line_no, page
        for ln in lines:
            if line_no >= LINES:
                draw_folio(c, page)
                c.showPage()
                page += 1
                line_no = 0
            for x, g in place_line(ln, LEFT, BLOCK_W):
                draw_glyph(c, x, line_baseline(line_no), g)
            line_no += 1

    emit(break_paragraph([("fang", doc["main_to"])], indent=0))
    for _kind, runs in doc["body"]:
        emit(break_paragraph(runs))
    line_no += 2  # 正文下空二行 -> 署名, 成文日期 (右空四字; 署名 centred over the date)
    date = [Glyph(ch, "fang", em_width(ch, "fang")) for ch in doc["date"]]
    date_w = sum(g.em for g in date) * CELL
    date_right = LEFT + BLOCK_W - 4 * CELL
    date_center = date_right - date_w / 2
    signer = [Glyph(ch, "fang", 1.0) for ch in doc["signer"]]
    sig_lines = [Line(signer, 0, False), Line(date, 0, False)]
    starts = [date_center - len(signer) * CELL / 2, date_right - date_w]
    for ln, x0 in zip(sig_lines, starts, strict=False):
        if line_no >= LINES:
            draw_folio(c, page)
            c.showPage()
            page += 1
            line_no = 0
        x = x0
        for g in ln.glyphs:
            draw_glyph(c, x, line_baseline(line_no), g)
            x += g.em * CELL
        line_no += 1
    emit(break_paragraph([("fang", doc["note"])]))  # 附注: 成文日期下一行, 居左空二字

    # 版记 at the bottom of the last page: last rule on the block bottom; rows one grid pitch high.
    from reportlab.pdfbase.pdfmetrics import stringWidth

    avail = BLOCK_W - 2 * FOOT_SIZE
    cc, cc_lines = doc["cc"], []
    head = cc[:cc.index("：") + 1]
    while cc:
        k = len(cc)
        room = avail - (stringWidth(head, "fang", FOOT_SIZE) if cc_lines else 0)
        while stringWidth(cc[:k], "fang", FOOT_SIZE) > room:
            k -= 1
        if k < len(cc) and "，" in cc[:k]:  # break after a unit name, not inside one
            k = cc[:k].rindex("，") + 1
        while k < len(cc) and cc[k] in NO_START:  # 避头
            k -= 1
        cc_lines.append(cc[:k])
        cc = cc[k:]
    rows: list[list] = [cc_lines, [(doc["printer"], doc["printed"])]]
    sub = FOOT_SIZE * 1.5  # sub-line pitch inside a 版记 row
    heights = [max(LINE_PITCH, len(r) * sub + (LINE_PITCH - sub)) for r in rows]
    bottom = PAGE_H - TOP - BLOCK_H
    if (line_no - 1) * LINE_PITCH + BODY_SIZE > BLOCK_H - sum(heights):  # last text line's em bottom
        # Pitfall: a page holding only the 版记 is a "此页无正文" page in disguise; issue #4 must re-flow
        # (tighten the signature block or move text) instead of letting this branch run.
        draw_folio(c, page)
        c.showPage()
        page += 1
    c.setLineWidth(RULE_THICK)
    c.line(LEFT, bottom, LEFT + BLOCK_W, bottom)
    y = bottom
    for k, (row, row_h) in enumerate(zip(reversed(rows), reversed(heights), strict=False)):
        c.setFont("fang", FOOT_SIZE)
        first_base = y + row_h - (row_h - len(row) * sub) / 2 - sub / 2 - EM_ASCENT * FOOT_SIZE + FOOT_SIZE / 2
        for m, item in enumerate(row):
            base = first_base - m * sub
            if isinstance(item, tuple):
                c.drawString(LEFT + FOOT_SIZE, base, item[0])  # 左空一字
                c.drawRightString(LEFT + BLOCK_W - FOOT_SIZE, base, item[1])  # 右空一字
            else:
                indent = stringWidth(head, "fang", FOOT_SIZE) if m else 0
                c.drawString(LEFT + FOOT_SIZE + indent, base, item)
        y += row_h
        c.setLineWidth(RULE_THICK if k == len(rows) - 1 else RULE_THIN)
        c.line(LEFT, y, LEFT + BLOCK_W, y)
    draw_folio(c, page)
    c.showPage()
    c.save()


# --- measurement --------------------------------------------------------------------------------------------
def measure(pdf_path: Path) -> dict:
    """Measure the R2 geometry from the PDF itself (pdfplumber). Positions are mm from the page's top-left.

    Uses each glyph's baseline (text matrix) and font size, not pdfminer's box: the box depends on the
    descriptor's Descent, which differs per font and per PDF producer.  em top = baseline - 0.88 * size.
    """
    import pdfplumber

    report: dict = {"pages": []}
    with pdfplumber.open(str(pdf_path)) as pdf:
        for pno, page in enumerate(pdf.pages, start=1):
            h = float(page.height)

            def em_top(ch, h=h) -> float:
                return (h - ch["matrix"][5] - EM_ASCENT * ch["size"]) / MM

            body = [ch for ch in page.chars if abs(ch["size"] - BODY_SIZE) < 0.1 and ch["text"].strip()]
            rows: dict[float, list] = {}
            for ch in body:
                rows.setdefault(round(em_top(ch), 1), []).append(ch)
            lines = []
            for top in sorted(rows):
                chs = sorted(rows[top], key=lambda ch: ch["x0"])
                lines.append({"top_mm": top, "n": len(chs), "left_mm": round(chs[0]["x0"] / MM, 2),
                              "right_mm": round(chs[-1]["x1"] / MM, 2),
                              "cjk": sum(1 for ch in chs if ord(ch["text"]) >= 0x2E80),
                              "text": "".join(ch["text"] for ch in chs),
                              "x0s": [round(ch["x0"] / MM, 3) for ch in chs]})
            seps = [ln for ln in page.lines + page.rects
                    if ln.get("stroking_color") and tuple(ln["stroking_color"]) == RED]
            rules = [{"y_mm": round((h - ln["y0"]) / MM, 2) if ln in page.lines else None,
                      "top_mm": round(ln["top"] / MM, 2), "width_mm": round(ln["linewidth"] / MM, 3),
                      "x0_mm": round(ln["x0"] / MM, 2), "x1_mm": round(ln["x1"] / MM, 2),
                      "red": tuple(ln.get("stroking_color") or ()) == RED}
                     for ln in page.lines]
            folio = sorted((ch for ch in page.chars if abs(ch["size"] - FOOT_SIZE) < 0.1
                            and em_top(ch) > (TOP + BLOCK_H) / MM), key=lambda ch: ch["x0"])
            marks = [ch for ch in page.chars if ch["size"] > 30]
            outside = [ch["text"] for ch in page.chars if ch["text"].strip() and (
                ch["x0"] < LEFT - 1 * MM or ch["x1"] - (ch["size"] / 2 if ch["text"] in SQUEEZABLE else 0)
                > LEFT + BLOCK_W + 1 * MM)]
            title = sorted({round(em_top(ch), 2) for ch in page.chars if abs(ch["size"] - TITLE_SIZE) < 0.1})
            report["pages"].append({
                "page": pno,
                "size_mm": (round(float(page.width) / MM, 1), round(h / MM, 1)),
                "body_lines": lines,
                "rules": rules,
                "separator_count": len(seps),
                "title_tops_mm": title,
                "outside_block": "".join(outside),
                "mark_top_mm": round(min(em_top(ch) for ch in marks), 2) if marks else None,
                "folio": {"text": "".join(ch["text"] for ch in folio),
                          "top_mm": round(min(em_top(ch) for ch in folio), 2) if folio else None,
                          "left_mm": round(folio[0]["x0"] / MM, 2) if folio else None,
                          "right_mm": round(folio[-1]["x1"] / MM, 2) if folio else None},
                "fonts": sorted({ch["fontname"] for ch in page.chars}),
            })
    return report


def check(report: dict) -> list[str]:
    """R2 checks within ±1 mm; returns failures (empty = pass)."""
    fails: list[str] = []
    block_top, block_bottom = TOP / MM, (TOP + BLOCK_H) / MM
    block_left, block_right = LEFT / MM, (LEFT + BLOCK_W) / MM

    def near(label: str, got: float | None, want: float, tol: float = 1.0) -> None:
        if got is None or abs(got - want) > tol:
            fails.append(f"{label}: got {got} mm, want {want:.2f}±{tol}")

    for p in report["pages"]:
        n = p["page"]
        near(f"p{n} width", p["size_mm"][0], 210)
        if p["outside_block"]:
            fails.append(f"p{n} glyphs outside the text block: {p['outside_block']!r}")
        near(f"p{n} height", p["size_mm"][1], 297)
        lines = p["body_lines"]
        if not lines:
            fails.append(f"p{n} has no body text (版记-only / 此页无正文 page)")
        if n > 1 and lines:
            near(f"p{n} first body line top", lines[0]["top_mm"], block_top)
        if len(lines) >= 2:
            pitches = [b["top_mm"] - a["top_mm"] for a, b in zip(lines, lines[1:], strict=False)]
            grid = (BLOCK_H - BODY_SIZE) / (LINES - 1) / MM
            for k, d in enumerate(pitches):
                if abs(d / grid - round(d / grid)) * grid > 1.0:
                    fails.append(f"p{n} line {k + 2} off the 22-line grid ({d:.2f} mm)")
        for ln in lines:
            if ln["top_mm"] + BODY_SIZE / MM > block_bottom + 1.0:
                fails.append(f"p{n} body line below the block ({ln['top_mm']})")
        cell = CELL / MM
        for ln in lines:
            x0s = ln["x0s"]
            # ink right edge: a squeezed closing punctuation mark at the end occupies half a cell
            right = x0s[-1] + (CELL - BODY_SIZE) / 2 / MM + (cell / 2 if ln["text"][-1] in SQUEEZABLE else cell)
            if right > block_right + 1.0:
                fails.append(f"p{n} line at {ln['top_mm']} overflows the block ({right:.2f} mm)")
            regular = ln["cjk"] == ln["n"] and all(abs(b - a - cell) < 0.05 for a, b in zip(x0s, x0s[1:], strict=False))
            if regular and abs(right - block_right) <= 1.0:  # a full line on the plain 28-cell grid
                cells = round((x0s[-1] - block_left) / cell) + 1
                ln["cells"] = cells
                if cells != CHARS:
                    fails.append(f"p{n} full line at {ln['top_mm']} spans {cells} cells, want {CHARS}")
        report.setdefault("full_regular_lines", 0)
        report["full_regular_lines"] += sum(1 for ln in lines if ln.get("cells") == CHARS)
        if p["folio"]["top_mm"] is None:
            fails.append(f"p{n} no page number")
        else:
            near(f"p{n} page number top", p["folio"]["top_mm"], block_bottom + FOLIO_GAP / MM)
            if p["folio"]["text"].replace(" ", "") != f"—{n}—":
                fails.append(f"p{n} page number text {p['folio']['text']!r}")
            if n % 2:
                near(f"p{n} page number right", p["folio"]["right_mm"], block_right - CELL / MM)
            else:
                near(f"p{n} page number left", p["folio"]["left_mm"], block_left + CELL / MM)
    first = report["pages"][0]
    near("mark top", first["mark_top_mm"], block_top + MARK_TOP / MM)
    reds = [r for r in first["rules"] if r["red"]]
    if len(reds) != 1:
        fails.append(f"expected one red separator on page 1, found {len(reds)}")
    else:
        sep = reds[0]
        near("separator left", sep["x0_mm"], block_left)
        near("separator right", sep["x1_mm"], block_right)
        above = [ln for ln in first["body_lines"] if ln["top_mm"] < sep["y_mm"]]
        number_bottom = above[-1]["top_mm"] + BODY_SIZE / MM
        near("separator below 发文字号", sep["y_mm"] - number_bottom, SEPARATOR_GAP / MM)
    last = report["pages"][-1]
    black = sorted((r for r in last["rules"] if not r["red"]), key=lambda r: r["y_mm"])
    if len(black) < 2:
        fails.append("版记 needs at least two rules on the last page")
    else:
        near("版记 last rule on block bottom", black[-1]["y_mm"], block_bottom)
        near("版记 first rule width", black[0]["width_mm"], 0.35, 0.02)
        near("版记 last rule width", black[-1]["width_mm"], 0.35, 0.02)
        for r in black[1:-1]:
            near("版记 inner rule width", r["width_mm"], 0.25, 0.02)
    return fails


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fonts", type=Path, default=Path("/tmp/gbfonts"))
    ap.add_argument("--convert", type=Path, help="dir with Fandol*.otf to convert into --fonts first")
    ap.add_argument("--out", type=Path, default=Path("/tmp/spike.pdf"))
    ap.add_argument("--measure-only", type=Path)
    args = ap.parse_args(argv)
    if args.measure_only:
        pdf = args.measure_only
    else:
        if args.convert:
            convert_fonts(args.convert, args.fonts)
        register_fonts(args.fonts)
        render(SAMPLE, args.out)
        pdf = args.out
    report = measure(pdf)
    for p in report["pages"]:
        lines = p["body_lines"]
        print(f"page {p['page']}: {len(lines)} body lines; fonts {p['fonts']}")
        for ln in lines:
            print(f"  top {ln['top_mm']:7.2f}  n={ln['n']:2d} cjk={ln['cjk']:2d}  x {ln['left_mm']:6.2f}..{ln['right_mm']:6.2f}")
        print(f"  mark top {p['mark_top_mm']}  title tops {p['title_tops_mm']}  folio {p['folio']}")
        for r in p["rules"]:
            print(f"  rule y {r['y_mm']} w {r['width_mm']} x {r['x0_mm']}..{r['x1_mm']} red={r['red']}")
    fails = check(report)
    print(f"full lines on the plain 28-cell grid: {report.get('full_regular_lines')}")
    print("\n".join(fails) if fails else "R2 layout checks: all within ±1 mm")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
