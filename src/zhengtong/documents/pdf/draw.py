"""Putting glyphs on the canvas: every glyph drawn on its own, so its position is the computed one."""
from __future__ import annotations

from .layout import BODY_SIZE, CELL, EM_ASCENT, PAGE_H, Glyph, Line, baseline, place


def baseline_for(em_top_from_page_top: float, size: float = BODY_SIZE) -> float:
    """PDF y of the baseline of type whose em box top is `em_top_from_page_top` below the page's top edge."""
    return PAGE_H - em_top_from_page_top - EM_ASCENT * size


def draw_glyph(c, x: float, y: float, g: Glyph, size: float = BODY_SIZE, cell: float = CELL) -> None:
    """A full-width glyph is centred in its cell (16 pt glyph in a 15.79 pt cell); half-width ones start at it."""
    c.setFont(g.font, size)
    dx = (cell - size) / 2 if g.em == 1.0 else 0.0
    c.drawString(x + dx, y, g.ch)


def draw_positioned(c, placed: list[tuple[float, Glyph]], y: float) -> None:
    """Glyphs at computed cell positions. Consecutive full-width glyphs of one font at an even step go out as one
    string with character spacing (Tc) — the same positions, a twentieth of the PDF operators and the time."""
    k = 0
    while k < len(placed):
        x, g = placed[k]
        end = k + 1
        if g.em == 1.0 and k + 1 < len(placed):
            step = placed[k + 1][0] - x
            while end < len(placed) and placed[end][1].em == 1.0 and placed[end][1].font == g.font \
                    and abs(placed[end][0] - placed[end - 1][0] - step) < 1e-6:
                end += 1
        if end - k > 1:
            c.setFont(g.font, BODY_SIZE)
            c.drawString(x + (CELL - BODY_SIZE) / 2, y, "".join(p[1].ch for p in placed[k:end]),
                         charSpace=step - BODY_SIZE)
        else:
            draw_glyph(c, x, y, g)
        k = end


def draw_line(c, line: Line, index: int) -> None:
    draw_positioned(c, place(line), baseline(index))


def draw_run_at(c, items: list[Glyph], x: float, y: float) -> None:
    placed = []
    for g in items:
        placed.append((x, g))
        x += g.em * CELL
    draw_positioned(c, placed, y)


def draw_run(c, items: list[Glyph], x: float, index: int) -> None:
    draw_run_at(c, items, x, baseline(index))


def draw_spaced(c, text: str, font: str, size: float, y: float, x_center: float, pitch: float) -> None:
    """`text` centred on `x_center`, one glyph per `pitch`. A pitch below the size (a long 发文机关标志) narrows the
    glyphs horizontally (长体) instead of letting them overlap or run out of the 版心."""
    start = x_center - pitch * len(text) / 2
    if pitch >= size:
        c.setFont(font, size)
        for k, ch in enumerate(text):
            c.drawString(start + k * pitch + (pitch - size) / 2, y, ch)
        return
    text_object = c.beginText()
    text_object.setFont(font, size)
    text_object.setHorizScale(100 * pitch / size)
    for k, ch in enumerate(text):
        text_object.setTextOrigin(start + k * pitch, y)
        text_object.textOut(ch)
    text_object.setHorizScale(100)  # Tz outlives the text object in the PDF's graphics state
    c.drawText(text_object)
