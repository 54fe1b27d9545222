"""Measure a rendered PDF against R2 in millimetres (pdfplumber), as the layout tests do.

Positions come from each glyph's baseline and size (em top = baseline − 0.88 × size), not pdfminer's box, which
depends on the font descriptor's Descent. Ported from the spike (scripts/spikes/gbt9704_spike.py)."""
from __future__ import annotations

import io

from zhengtong.documents.pdf.head import MARK_TOP, RED, SEPARATOR_GAP
from zhengtong.documents.pdf.layout import (
    BLOCK_H,
    BLOCK_W,
    BODY_SIZE,
    CELL,
    CHARS,
    EM_ASCENT,
    FOOT_SIZE,
    LEFT,
    LINES,
    MM,
    SQUEEZABLE,
    TITLE_SIZE,
    TOP,
)
from zhengtong.documents.pdf.render import FOLIO_GAP


def measure(pdf: bytes) -> dict:
    """Measure the R2 geometry from the PDF itself (pdfplumber). Positions are mm from the page's top-left.

    Uses each glyph's baseline (text matrix) and font size, not pdfminer's box: the box depends on the
    descriptor's Descent, which differs per font and per PDF producer.  em top = baseline - 0.88 * size.
    """
    import pdfplumber

    report: dict = {"pages": []}
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        for pno, page in enumerate(opened.pages, start=1):
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
            if ln["text"][-1].isascii():  # a half-width digit or letter ends where its own advance ends
                right = ln["right_mm"]
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


def glyph_boxes(pdf: bytes) -> list[list[dict]]:
    """Per page, every glyph with its em box in mm from the page's top-left (from the baseline and the size), its
    font (subset prefix removed) and whether it is red."""
    import pdfplumber

    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        for page in opened.pages:
            h = float(page.height)
            out = []
            for ch in page.chars:
                if not ch["text"].strip():
                    continue
                top = (h - ch["matrix"][5] - EM_ASCENT * ch["size"]) / MM
                out.append({"text": ch["text"], "size": round(ch["size"], 2), "top": top,
                            "bottom": top + ch["size"] / MM, "x0": ch["x0"] / MM, "x1": ch["x1"] / MM,
                            "font": ch["fontname"].split("+")[-1],
                            "red": tuple(ch.get("non_stroking_color") or ()) == RED})
            pages.append(out)
    return pages


def text_lines(glyphs: list[dict], size: float = BODY_SIZE) -> list[dict]:
    """Glyphs of one size grouped into lines by em top: {"top", "bottom", "x0", "x1", "text", "glyphs"}."""
    rows: dict[float, list[dict]] = {}
    for g in glyphs:
        if abs(g["size"] - size) < 0.1:
            rows.setdefault(round(g["top"], 1), []).append(g)
    lines = []
    for top in sorted(rows):
        gs = sorted(rows[top], key=lambda g: g["x0"])
        lines.append({"top": gs[0]["top"], "bottom": gs[0]["bottom"], "x0": gs[0]["x0"], "x1": gs[-1]["x1"],
                      "text": "".join(g["text"] for g in gs), "glyphs": gs})
    return lines


def find_line(lines: list[dict], fragment: str) -> dict:
    return next(ln for ln in lines if fragment in ln["text"])


def page_lines(pdf: bytes) -> list[dict]:
    """All straight lines drawn, per page: y (mm from the top), x0/x1 (mm), width (mm), red, page (0-based)."""
    import pdfplumber

    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        for number, page in enumerate(opened.pages):
            h = float(page.height)
            for ln in page.lines:
                out.append({"page": number, "y": (h - ln["y0"]) / MM, "x0": ln["x0"] / MM, "x1": ln["x1"] / MM,
                            "width": ln["linewidth"] / MM,
                            "red": tuple(ln.get("stroking_color") or ()) == RED})
    return out
