"""GB/T 9704-2012 layout, measured on the rendered PDF within ±1 mm (R2.1–R2.4), not just "a PDF came out"."""
from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
from pathlib import Path

import pytest

from zhengtong.documents.pdf import Block, render
from zhengtong.documents.pdf.layout import BLOCK_H, BODY_SIZE, CELL, LEFT, MM, TOP
from zhengtong.documents.pdf.render import SEAL_DIAMETER, chinese_date, split_title

from .pdf_measure import check, measure
from .pdf_samples import PARAGRAPH, notice

BLOCK_BOTTOM = (TOP + BLOCK_H) / MM


def test_r2_three_page_notice_passes_every_measured_rule():
    """R2.1 page and 版心, R2.2 28 × 22 grid, R2.3 page numbers, R2.4 mark, separator, title, 版记 rules."""
    result = render(notice(pages=3))
    assert result.pages >= 3
    report = measure(result.pdf)
    assert check(report) == []
    assert report["full_regular_lines"] >= 10  # the 28-cell check ran on real full lines, not on none
    first = report["pages"][0]
    assert first["mark_top_mm"] == pytest.approx(72.0, abs=1)
    assert len(first["title_tops_mm"]) == 2  # the title broke into two balanced lines
    full_pages = [p for p in report["pages"][:-1]]
    assert any(len(p["body_lines"]) == 22 for p in full_pages[1:]) or len(report["pages"][1]["body_lines"]) >= 17


def test_r2_2_a_full_continuation_page_has_22_lines_starting_on_the_block_top():
    result = render(notice(pages=4))
    report = measure(result.pdf)
    assert check(report) == []
    counts = [len(p["body_lines"]) for p in report["pages"][1:-1]]
    assert 22 in counts, counts
    assert report["pages"][1]["body_lines"][0]["top_mm"] == pytest.approx(37.0, abs=1)
    assert report["pages"][1]["body_lines"][-1]["top_mm"] + BODY_SIZE / MM == pytest.approx(BLOCK_BOTTOM, abs=1)


@pytest.mark.parametrize("paragraphs", range(0, 26))
def test_r2_4_no_page_without_body_text_and_the_imprint_on_the_last_page(paragraphs):
    """"此页无正文" is not allowed: whatever the length, every page carries body text and the 版记's last rule sits on
    the 版心 bottom of the last page."""
    doc = notice(pages=1, body=[Block(PARAGRAPH)] * (paragraphs + 1))
    report = measure(render(doc).pdf)
    assert check(report) == [], paragraphs


def test_r2_3_page_numbers_odd_right_even_left():
    report = measure(render(notice(pages=3)).pdf)
    odd, even = report["pages"][0]["folio"], report["pages"][1]["folio"]
    assert odd["text"].replace(" ", "") == "—1—" and even["text"].replace(" ", "") == "—2—"
    assert odd["top_mm"] == pytest.approx(BLOCK_BOTTOM + 7, abs=1)
    assert odd["right_mm"] == pytest.approx(184 - CELL / MM, abs=1)
    assert even["left_mm"] == pytest.approx(28 + CELL / MM, abs=1)


def test_r2_4_upward_document_names_its_signers_and_moves_the_number_left():
    result = render(notice(pages=1, signers=["陈志远"], title="示范市人民政府关于申请2027年城市更新专项资金的请示"))
    report = measure(result.pdf)
    assert check(report) == []
    number_line = [ln for ln in report["pages"][0]["body_lines"] if "示政发" in ln["text"] or "签发人" in ln["text"]]
    texts = "".join(ln["text"] for ln in number_line)
    assert "签发人：陈志远" in texts
    number = next(ln for ln in report["pages"][0]["body_lines"] if ln["text"].startswith("示政发"))
    assert number["left_mm"] == pytest.approx(28 + CELL / MM, abs=1)  # 居左空一字


def test_joint_document_marks_and_one_seal_per_issuer():
    result = render(notice(pages=1, issuer_marks=["示范市人民政府", "示范市教育局"],
                           signature=["示范市人民政府", "示范市教育局"]))
    report = measure(result.pdf)
    assert check(report) == []
    assert len(result.seal_boxes) == 2
    a, b = sorted(result.seal_boxes, key=lambda s: s.box[0])
    assert b.box[0] - a.box[2] > 0  # 印章之间互不相交或相切
    for seal in result.seal_boxes:
        assert seal.box[0] >= LEFT - 1 and seal.box[2] <= LEFT + 156 * MM + 1  # 两端不得超出版心


def test_seal_box_sits_over_signature_and_date_within_a_line_below_the_text():
    """§7.3.5.1: the seal centred over 署名 and 成文日期, its top within one line below the text above it."""
    result = render(notice(pages=1, attachment_notes=[], note=""))
    [seal] = result.seal_boxes
    x0, y0, x1, y1 = seal.box
    assert (x1 - x0) == pytest.approx(SEAL_DIAMETER) == (y1 - y0)
    import pdfplumber

    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        page = pdf.pages[seal.page]
        rows: dict[float, list] = {}
        for ch in page.chars:
            if abs(ch["size"] - BODY_SIZE) < 0.1:
                rows.setdefault(round(ch["matrix"][5], 1), []).append(ch)
    text = {y: "".join(ch["text"] for ch in sorted(chs, key=lambda ch: ch["x0"])) for y, chs in rows.items()}
    date_line = next(y for y, t in text.items() if t == "2026年1月5日")
    date_xs = [ch["x0"] for ch in rows[date_line]]
    signature_line = next(y for y, t in text.items() if t == "示范市人民政府")
    text_above = min(y for y in text if y > y1 - 1)
    assert y0 < date_line < signature_line < y1  # 署名 and date under the seal
    assert x0 < min(date_xs) and max(date_xs) < x1
    text_bottom = text_above - 0.12 * BODY_SIZE  # the em box bottom of the last line above the seal
    assert 0 <= text_bottom - y1 <= 10.45 * MM  # 上距正文一行之内, not pressing on it


def test_letter_format_has_its_own_head_and_no_number_on_page_one():
    """§10.1 信函格式: mark 30 mm from the top edge, red double rules top and bottom (170 mm), number at the right."""
    result = render(notice(pages=2, format="letter", issuer_marks=["示范市人民政府办公室"],
                           doc_number="示政办函〔2026〕8号", printing_unit="", printing_date=None))
    report = measure(result.pdf)
    first = report["pages"][0]
    reds = [r for r in first["rules"] if r["red"]]
    assert len(reds) == 4
    for rule in reds:
        assert rule["x1_mm"] - rule["x0_mm"] == pytest.approx(170, abs=1)
    assert min(r["y_mm"] for r in reds) > 30 and max(r["y_mm"] for r in reds) == pytest.approx(297 - 20, abs=1.5)
    assert first["folio"]["top_mm"] is None  # no page number on a letter's first page
    number = next(ln for ln in first["body_lines"] if ln["text"].startswith("示政办函"))
    assert number["right_mm"] == pytest.approx(184, abs=1)
    assert report["pages"][1]["folio"]["text"].replace(" ", "") == "—2—"


def test_r2_4_fonts_are_embedded_and_the_substitution_is_recorded():
    from pypdf import PdfReader

    result = render(notice(pages=1))
    reader = PdfReader(io.BytesIO(result.pdf))
    assert "仿宋=" in reader.metadata.subject and "小标宋=" in reader.metadata.subject
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font.get("/DescendantFonts")
            descriptor = (descendant[0].get_object() if descendant else font).get("/FontDescriptor")
            assert descriptor is not None and any(k in descriptor.get_object() for k in ("/FontFile2", "/FontFile3"))
            fonts.add(str(font["/BaseFont"]))
    assert not any("Helvetica" in f for f in fonts)


def test_dates_and_titles():
    assert chinese_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    parts = split_title("示范市人民政府关于进一步优化政务服务提升行政效能推动高效办成一件事的通知")
    assert len(parts) == 2 and abs(len(parts[0]) - len(parts[1])) <= 4
    assert all(len(p) <= 20 for p in parts)


def test_render_example_for_docs(tmp_path):
    """The rendered examples in docs/screenshots (looked at by eye; regenerated with SHOTS_DIR set)."""
    target = Path(os.environ.get("SHOTS_DIR", tmp_path))
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(render(notice(pages=2)).pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(target / "gbt9704-page")], check=True)
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(render(notice(pages=1, format="letter", issuer_marks=["示范市人民政府办公室"],
                                     doc_number="示政办函〔2026〕8号", printing_unit="")).pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(letter), str(target / "gbt9704-letter")],
                   check=True)
    assert (target / "gbt9704-letter.png").stat().st_size > 10_000
