"""Fonts of the GB/T 9704 PDFs (R2.4): embedded, the substitution recorded, a missing font a clear error, licensed
fonts used when a site drops them in, the Fandol set covering GB2312, and the install step idempotent."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from zhengtong.documents.pdf import FontsMissing, render
from zhengtong.documents.pdf import fonts as pdf_fonts

from .pdf_measure import glyph_boxes, text_lines
from .pdf_samples import notice

REPO = Path(__file__).resolve().parents[4]
FANDOL_DIR = Path(django_settings.FONT_DIR)


@pytest.fixture
def font_dir(settings, tmp_path):
    """A FONT_DIR of our own for the test; the process's registration follows FONT_DIR back afterwards."""
    directory = tmp_path / "fonts"
    directory.mkdir()
    settings.FONT_DIR = directory
    yield directory
    settings.FONT_DIR = FANDOL_DIR
    pdf_fonts.register()


def test_r2_4_fonts_are_embedded_and_the_substitution_is_recorded():
    from pypdf import PdfReader

    result = render(notice(pages=1))
    assert result.fonts == {"仿宋": "FandolFang Regular", "小标宋": "FandolSong Bold", "黑体": "FandolHei Regular",
                            "楷体": "FandolKai Regular"}
    reader = PdfReader(io.BytesIO(result.pdf))
    subject = reader.metadata.subject
    assert subject == reader.metadata["/Keywords"]
    assert "仿宋=FandolFang Regular（免费字体，代仿宋_GB2312）" in subject
    assert "小标宋=FandolSong Bold（免费字体，代方正小标宋）" in subject
    assert "黑体=FandolHei Regular" in subject and "楷体=FandolKai Regular" in subject
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font.get("/DescendantFonts")
            descriptor = (descendant[0].get_object() if descendant else font)["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # TrueType program embedded (subset)
            embedded.add(str(font["/BaseFont"]).split("+")[-1])
    assert embedded == {"FandolFang-Regular", "FandolSong-Bold", "FandolHei-Regular", "FandolKai-Regular"}


def test_r2_4_missing_fonts_are_a_clear_service_error(font_dir):
    (font_dir / "FandolFang-Regular.ttf").symlink_to(FANDOL_DIR / "FandolFang-Regular.ttf")
    with pytest.raises(FontsMissing) as caught:
        render(notice(pages=1))
    error = caught.value
    assert error.code == "documents.fonts_missing" and error.status == 503
    assert "小标宋" in error.message and "黑体" in error.message and "楷体" in error.message
    assert "仿宋、" not in error.message  # the one present is not reported
    assert "make install" in error.message and "scripts/install-fonts.sh" in error.message


def test_r2_4_a_font_reportlab_cannot_embed_is_reported_not_a_crash(font_dir):
    for name in pdf_fonts.FANDOL:
        (font_dir / name).symlink_to(FANDOL_DIR / name)
    (font_dir / "simhei.ttf").write_bytes(b"OTTO" + b"\0" * 64)  # not a usable TrueType font
    with pytest.raises(FontsMissing) as caught:
        render(notice(pages=1))
    assert "黑体" in caught.value.message and "simhei.ttf" in caught.value.message


def test_r2_4_a_licensed_font_dropped_in_wins_and_the_pdf_says_so(font_dir):
    """A site's 仿宋_GB2312 file (here FandolKai standing in for it) is used for the body, and recorded."""
    for name in pdf_fonts.FANDOL:
        (font_dir / name).symlink_to(FANDOL_DIR / name)
    (font_dir / "SimFang.TTF").symlink_to(FANDOL_DIR / "FandolKai-Regular.ttf")  # case of the name ignored
    result = render(notice(pages=1))
    assert result.fonts["仿宋"] == "FandolKai Regular"
    from pypdf import PdfReader

    subject = PdfReader(io.BytesIO(result.pdf)).metadata.subject
    assert "仿宋=FandolKai Regular；" in subject  # no "免费字体" note: this one is the site's own
    body = find_body_line(result.pdf)
    assert {g["font"] for g in body["glyphs"]} == {"FandolKai-Regular"}


def find_body_line(pdf: bytes) -> dict:
    lines = text_lines(glyph_boxes(pdf)[0])
    return next(ln for ln in lines if "为深入贯彻" in ln["text"])


def gb2312_characters() -> list[str]:
    chars = []
    for row in range(0xA1, 0xF8):
        for col in range(0xA1, 0xFF):
            try:
                ch = bytes([row, col]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            chars.append("\u2014" if ch == "\u2015" else ch)  # the codec's 破折号; text is normalised to U+2014
    return chars


@pytest.mark.parametrize("file_name", ["FandolFang-Regular.ttf", "FandolSong-Bold.ttf", "FandolHei-Regular.ttf",
                                       "FandolKai-Regular.ttf"])
def test_r2_4_each_fandol_font_covers_gb2312(file_name):
    from fontTools.ttLib import TTFont

    chars = gb2312_characters()
    assert len(chars) == 7445
    cmap = TTFont(FANDOL_DIR / file_name, lazy=True).getBestCmap()
    missing = [ch for ch in chars if ord(ch) not in cmap]
    assert missing == []
    assert "glyf" in TTFont(FANDOL_DIR / file_name, lazy=True)  # TrueType outlines: ReportLab can embed it


def test_convert_turns_cff_outlines_into_truetype(tmp_path):
    """The install step's conversion, on a small CFF font built here (the real ones take ~12 s each)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen
    from fontTools.ttLib import TTFont
    from reportlab.pdfbase.ttfonts import TTFont as ReportLabFont

    def square():
        pen = T2CharStringPen(1000, None)
        pen.moveTo((100, -100))
        pen.lineTo((900, -100))
        pen.curveTo((950, 300), (950, 500), (900, 800))
        pen.lineTo((100, 800))
        pen.closePath()
        return pen.getCharString()

    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder([".notdef", "uni4E00"])
    builder.setupCharacterMap({0x4E00: "uni4E00"})
    builder.setupCFF("TestFang-Regular", {"FullName": "TestFang Regular"},
                     {".notdef": square(), "uni4E00": square()}, {})
    builder.setupHorizontalMetrics({".notdef": (1000, 100), "uni4E00": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "TestFang", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120)
    builder.setupPost()
    source, target = tmp_path / "TestFang-Regular.otf", tmp_path / "TestFang-Regular.ttf"
    builder.save(source)
    pdf_fonts.convert_file(source, target)
    converted = TTFont(target)
    assert "glyf" in converted and "CFF " not in converted
    assert converted["glyf"]["uni4E00"].numberOfContours == 1
    assert converted.getBestCmap()[0x4E00] == "uni4E00"
    ReportLabFont("testfang", str(target))  # ReportLab accepts it (it refuses the .otf)
    assert not list(tmp_path.glob("*.part"))


def test_install_fonts_is_idempotent_and_uses_the_cache(tmp_path):
    """scripts/install-fonts.sh: fonts present → nothing to do; a fresh checkout with the fonts in the user's cache →
    copied from there, no download and no conversion."""
    env = {**os.environ, "PY": str(REPO / ".venv/bin/python"), "FONT_DIR": str(FANDOL_DIR)}
    before = {p.name: p.stat().st_mtime for p in FANDOL_DIR.glob("*.ttf")}
    done = subprocess.run([str(REPO / "scripts/install-fonts.sh")], env=env, capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout == "" and {p.name: p.stat().st_mtime for p in FANDOL_DIR.glob("*.ttf")} == before

    cache = tmp_path / "cache" / "zhengtong" / "fonts"
    cache.mkdir(parents=True)
    for name in pdf_fonts.FANDOL:
        (cache / name).symlink_to(FANDOL_DIR / name)
    fresh = tmp_path / "checkout-fonts"
    env.update(FONT_DIR=str(fresh), XDG_CACHE_HOME=str(tmp_path / "cache"), PATH="/usr/bin:/bin")
    done = subprocess.run([str(REPO / "scripts/install-fonts.sh")], env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    assert "Converting" not in done.stdout
    for name in pdf_fonts.FANDOL:
        assert (fresh / name).stat().st_size == (FANDOL_DIR / name).stat().st_size
    assert (fresh / "README").exists()
    shutil.rmtree(fresh)
