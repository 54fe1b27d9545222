"""The four type styles of a 公文 (R2.4): 仿宋 (body), 小标宋 (mark, title), 黑体 (一、 headings, 密级), 楷体 （一） headings.

Default: the free Fandol fonts (GPL with font exception — documents embedding them are not covered by the GPL),
converted once from Debian's CFF OpenType to TrueType outlines because ReportLab embeds only glyf fonts
(`python -m zhengtong.documents.pdf.fonts convert SRC DST`, run by scripts/install-fonts.sh). A site holding
licences for 方正小标宋 / 仿宋_GB2312 etc. puts the TrueType files into FONT_DIR under one of the names in `STYLES`;
they win over Fandol, and every PDF records which fonts it used (document info Subject and Keywords).
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

from zhengtong.core.errors import ServiceError

# ReportLab name → (style, the font a 公文 is specified in, file names to try: licensed first, Fandol last)
STYLES = {
    "fang": ("仿宋", "仿宋_GB2312", ["仿宋_GB2312.ttf", "FangSong_GB2312.ttf", "FS_GB2312.ttf", "simfang.ttf",
                                   "FandolFang-Regular.ttf"]),
    "xbs": ("小标宋", "方正小标宋", ["方正小标宋简体.ttf", "FZXBSJW.ttf", "FZXiaoBiaoSong-B05S.ttf",
                                  "FandolSong-Bold.ttf"]),
    "hei": ("黑体", "黑体", ["黑体.ttf", "simhei.ttf", "FandolHei-Regular.ttf"]),
    "kai": ("楷体", "楷体_GB2312", ["楷体_GB2312.ttf", "KaiTi_GB2312.ttf", "simkai.ttf", "FandolKai-Regular.ttf"]),
}
FANDOL = [files[-1] for _style, _spec, files in STYLES.values()]
_lock = threading.Lock()
_registered: tuple[Path, dict[str, str], str] | None = None  # (directory, style → font, record for the PDF)


class FontsMissing(ServiceError):
    def __init__(self, missing: list[str], directory: Path, problem: str = "缺失"):
        super().__init__("documents.fonts_missing",
                         f"版式文件所需字体{problem}（{'、'.join(missing)}，字体目录 {directory}）：请系统管理员在服务器上运行 "
                         "`make install`（或 scripts/install-fonts.sh）安装字体后重试", status=503)


def font_dir() -> Path:
    from django.conf import settings

    return Path(settings.FONT_DIR)


def find(directory: Path, names: list[str]) -> Path | None:
    """The first of `names` present in `directory`, the case of the file name ignored (simhei.ttf / SimHei.TTF)."""
    present = {p.name.lower(): p for p in directory.iterdir()} if directory.is_dir() else {}
    return next((present[n.lower()] for n in names if n.lower() in present), None)


def register() -> dict[str, str]:
    """Register the four fonts once per process (again if FONT_DIR changes); returns style → font actually used."""
    return _register()[1]


def record() -> str:
    """What the PDF's properties say about its fonts (R2.4), e.g. "字体：仿宋=FandolFang Regular（代仿宋_GB2312）；…"."""
    return _register()[2]


def _register() -> tuple[Path, dict[str, str], str]:
    global _registered
    directory = font_dir()
    with _lock:
        if _registered is not None and _registered[0] == directory:
            return _registered
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFError, TTFont

        found = {key: find(directory, names) for key, (_style, _spec, names) in STYLES.items()}
        missing = [STYLES[key][0] for key, path in found.items() if path is None]
        if missing:
            raise FontsMissing(missing, directory)
        for key in STYLES:  # ReportLab never replaces a registered name; FONT_DIR changed (tests, a font swap)
            old = pdfmetrics._fonts.pop(key, None)
            if getattr(old, "face", None) is not None:
                pdfmetrics._dynFaceNames.pop(old.face.name, None)
        used, notes = {}, []
        for key, path in found.items():
            style, spec, names = STYLES[key]
            try:
                font = TTFont(key, str(path))
            except TTFError as exc:  # e.g. a CFF (.otf-style) font dropped in: ReportLab embeds TrueType only
                raise FontsMissing([f"{style}: {path.name}（{exc}）"], directory, problem="无法使用") from exc
            pdfmetrics.registerFont(font)  # a face used for two styles is shared (one subset in the PDF)
            name = font.face.name.decode("latin-1") if isinstance(font.face.name, bytes) else str(font.face.name)
            used[style] = name.replace("-", " ")
            stand_in = path.name == names[-1]
            notes.append(f"{style}={used[style]}" + (f"（免费字体，代{spec}）" if stand_in else ""))
        _registered = (directory, used, "字体：" + "；".join(notes))
        return _registered


def convert_file(source: Path, target: Path) -> None:
    """One CFF OpenType font → TrueType outlines, the glyphs redrawn as quadratic curves (1 unit max error)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(source)
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
    partial = target.with_suffix(".part")
    font.save(partial)
    partial.rename(target)  # a killed conversion never leaves a half-written font behind


def convert(src_dir: Path, dst_dir: Path) -> None:
    """Debian's Fandol .otf files in `src_dir` → .ttf in `dst_dir` (those already there are kept)."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    for ttf in FANDOL:
        target = dst_dir / ttf
        if not target.exists():
            convert_file(src_dir / ttf.replace(".ttf", ".otf"), target)
            print("converted", ttf, flush=True)


if __name__ == "__main__":  # python -m zhengtong.documents.pdf.fonts convert SRC DST
    if len(sys.argv) != 4 or sys.argv[1] != "convert":
        sys.exit("usage: python -m zhengtong.documents.pdf.fonts convert SRC_DIR DST_DIR")
    convert(Path(sys.argv[2]), Path(sys.argv[3]))
