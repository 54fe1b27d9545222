"""The GB/T 9704 grid (R2.1–R2.3) and line breaking on it: 28 cells of 3号 type per line, 22 lines per page.

Every position here is computed, so the layout test can measure it. Decisions (docs/gbt9704-notes.md):
- character pitch = 156 mm / 28 (15.79 pt for 16 pt glyphs, each centred in its cell);
- line pitch "撑满版心": the first line's em box top on the 版心 top, the 22nd line's em box bottom on its bottom;
- 避头尾: closing punctuation never starts a line, opening never ends one — first squeeze the line's closing
  punctuation by half a cell (推入), else push a glyph to the next line (推出); the line is then justified;
- half-width runs (digits, Latin) keep their own advance and are never split.
"""
from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
TOP = 37 * MM  # 天头
LEFT = 28 * MM  # 订口
BLOCK_W, BLOCK_H = 156 * MM, 225 * MM  # 版心
CHARS, LINES = 28, 22
BODY_SIZE = 16.0  # 3号
TITLE_SIZE = 22.0  # 2号
FOOT_SIZE = 14.0  # 4号
CELL = BLOCK_W / CHARS
LINE_PITCH = (BLOCK_H - BODY_SIZE) / (LINES - 1)
EM_ASCENT = 0.88  # ideographic em box above the baseline (OS/2 typo ascender 880 of 1000)
NO_START = set("，。、；：？！）》」』”’〕】…—·％%,.;:?!)]}")
NO_END = set("（《「『“‘〔【([{")
SQUEEZABLE = set("，。、；：？！）》」』”’〕】")


@dataclass
class Glyph:
    ch: str
    font: str
    em: float  # advance in body ems: 1 for full-width


@dataclass
class Line:
    glyphs: list[Glyph]
    indent: float  # cells
    justify: bool


def em_width(ch: str, font: str) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if ord(ch) >= 0x2E80 or ch in "—…·“”‘’":
        return 1.0
    return stringWidth(ch, font, 1.0)


def glyphs(runs: list[tuple[str, str]]) -> list[Glyph]:
    return [Glyph(ch, font, em_width(ch, font)) for font, text in runs for ch in text]


def _keeps_together(a: Glyph, b: Glyph) -> bool:
    """Half-width runs are never split: 2026, 98%, 3.5, 0000-12345678, GB/T."""
    return all(g.ch.isascii() and (g.ch.isalnum() or g.ch in ".%-/:_") for g in (a, b))


def break_runs(runs: list[tuple[str, str]], *, indent: float = 2, hanging: float = 0,
               width: int = CHARS) -> list[Line]:
    """Lines of a paragraph: the first indented by `indent` cells, the others by `hanging`."""
    items = glyphs(runs)
    lines: list[Line] = []
    i, first = 0, True
    while i < len(items):
        ind = indent if first else hanging
        cap = width - ind
        j, used = i, 0.0
        while j < len(items) and used + items[j].em <= cap + 1e-6:
            used += items[j].em
            j += 1
        if j == i:  # a glyph wider than the line (cannot happen with real text): take it anyway
            j = i + 1
        if j < len(items):
            if items[j].ch in NO_START:
                squeeze = 0.5 * sum(1 for g in items[i:j + 1] if g.ch in SQUEEZABLE)
                if used + items[j].em - squeeze <= cap + 1e-6:
                    j += 1  # 推入
                else:
                    while j - 1 > i and items[j].ch in NO_START:
                        j -= 1  # 推出
            while j - 1 > i and items[j - 1].ch in NO_END:
                j -= 1
            k = j
            while k - 1 > i and k < len(items) and _keeps_together(items[k - 1], items[k]):
                k -= 1
            if k > i + 1:
                j = k
        lines.append(Line(items[i:j], ind, justify=j < len(items)))
        i, first = j, False
    return lines


def place(line: Line, x0: float = LEFT, width: float = BLOCK_W) -> list[tuple[float, Glyph]]:
    """x of each glyph's cell; lines that continue are justified to both edges of the 版心."""
    ems = [g.em for g in line.glyphs]
    cap = width / CELL - line.indent
    total = sum(ems)
    if line.justify and total > cap + 1e-6:
        need = total - cap
        for k in range(len(ems) - 1, -1, -1):
            if need <= 1e-6:
                break
            if line.glyphs[k].ch in SQUEEZABLE:
                ems[k] -= 0.5
                need -= 0.5
        total = sum(ems)
    gap = (cap - total) / (len(ems) - 1) if line.justify and len(ems) > 1 else 0.0
    out, x = [], x0 + line.indent * CELL
    for g, em in zip(line.glyphs, ems, strict=True):
        out.append((x, g))
        x += (em + gap) * CELL
    return out


def em_top(index: int) -> float:
    """Distance from the page top to the em box top of grid line `index` (0-based)."""
    return TOP + index * LINE_PITCH


def baseline(index: int, size: float = BODY_SIZE) -> float:
    """PDF y of the baseline of grid line `index` for type of `size` centred on the 3号 line's em box."""
    return PAGE_H - em_top(index) + (size - BODY_SIZE) / 2 - EM_ASCENT * size  # larger type reaches above


def line_at_or_below(distance_from_top: float) -> int:
    """The first grid line whose em box top is at or below `distance_from_top`."""
    return max(0, int(-(-(distance_from_top - TOP - 1e-6) // LINE_PITCH)))


def width_of(items: list[Glyph]) -> float:
    return sum(g.em for g in items) * CELL
