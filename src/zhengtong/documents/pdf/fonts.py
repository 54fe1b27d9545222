"""The four type styles of a 公文 (R2.4): 仿宋 (body), 小标宋 (mark, title), 黑体 (一、 headings, 密级), 楷体 （一） headings.

Default: the free Fandol fonts (GPL with font exception — documents embedding them are not covered by the GPL),
converted once from Debian's CFF OpenType to TrueType outlines because ReportLab embeds only glyf fonts
(`python -m zhengtong.documents.pdf.fonts convert SRC DST`, run by scripts/install-fonts.sh). A site that holds
licences for 方正小标宋 / 仿宋_GB2312 etc. puts TrueType files with the names below into FONT_DIR; each PDF records
which fonts it used (R2.4).
"""
from __future__ import annotations

import sys
from pathlib import Path

from zhengtong.core.errors import ServiceError

STYLES = {  # ReportLab name → (style, file names to try in order: licensed first, then Fandol)
    "fang": ("仿宋", ["FangSong_GB2312.ttf", "FandolFang-Regular.ttf"]),
    "xbs": ("小标宋", ["FZXiaoBiaoSong-B05S.ttf", "FandolSong-Bold.ttf"]),
    "hei": ("黑体", ["SimHei.ttf", "FandolHei-Regular.ttf"]),
    "kai": ("楷体", ["KaiTi_GB2312.ttf", "FandolKai-Regular.ttf"]),
}
FANDOL = [files[-1] for _style, files in STYLES.values()]
_registered: dict[str, str] | None = None


class FontsMissing(ServiceError):
    def __init__(self, missing: list[str], directory: Path):
        super().__init__("documents.fonts_missing",
                         f"版式文件所需字体缺失（{'、'.join(missing)}，目录 {directory}）：请系统管理员运行 "
                         "`make install`（scripts/install-fonts.sh）安装字体", status=503)


def font_dir() -> Path:
    from django.conf import settings

    return Path(settings.FONT_DIR)


def register() -> dict[str, str]:
    """Register the four fonts once per process; returns style → font name actually used (for the PDF's record)."""
    global _registered
    if _registered is not None:
        return _registered
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    directory = font_dir()
    used, missing = {}, []
    for key, (style, names) in STYLES.items():
        path = next((directory / n for n in names if (directory / n).exists()), None)
        if path is None:
            missing.append(style)
            continue
        font = TTFont(key, str(path))
        pdfmetrics.registerFont(font)
        used[style] = font.face.familyName.decode("utf-8", "replace") if isinstance(font.face.familyName, bytes) \
            else str(font.face.familyName)
        used[style] = f"{used[style]} ({path.name})"
    if missing:
        raise FontsMissing(missing, directory)
    _registered = used
    return used


def convert(src_dir: Path, dst_dir: Path) -> None:
    """CFF OpenType (Debian's Fandol .otf) → TrueType outlines, the glyphs redrawn as quadratic curves."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    dst_dir.mkdir(parents=True, exist_ok=True)
    for ttf in FANDOL:
        target = dst_dir / ttf
        if target.exists():
            continue
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
        partial = target.with_suffix(".part")
        font.save(partial)
        partial.rename(target)  # a killed conversion never leaves a half-written font behind
        print("converted", ttf, flush=True)


if __name__ == "__main__":  # python -m zhengtong.documents.pdf.fonts convert SRC DST
    if len(sys.argv) != 4 or sys.argv[1] != "convert":
        sys.exit("usage: python -m zhengtong.documents.pdf.fonts convert SRC_DIR DST_DIR")
    convert(Path(sys.argv[2]), Path(sys.argv[3]))
