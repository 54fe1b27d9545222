"""GB/T 9704-2012 layout measured on the rendered PDF within ±1 mm (R2.1–R2.4), not just "a PDF came out".

Plain pytest functions: no database. Positions are mm from the page's top-left corner, taken from each glyph's
baseline and size (pdf_measure), so they do not depend on how a PDF reader boxes the glyphs.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
from pathlib import Path

import pytest

from zhengtong.documents.pdf import Block, PdfDocument, render
from zhengtong.documents.pdf.head import split_title
from zhengtong.documents.pdf.layout import BLOCK_H, BODY_SIZE, CELL, LEFT, LINE_PITCH, MM, SQUEEZABLE, TOP
from zhengtong.documents.pdf.model import chinese_date, clean
from zhengtong.documents.pdf.render import SEAL_DIAMETER

from .pdf_measure import check, find_line, glyph_boxes, measure, page_lines, text_lines
from .pdf_samples import PARAGRAPH, notice, office_letter, office_notice

PITCH = LINE_PITCH / MM  # 10.446 mm
CELL_MM = CELL / MM  # 5.571 mm
FOOT_MM = 14 / MM  # one 4号 character
BLOCK_TOP, BLOCK_BOTTOM, BLOCK_LEFT, BLOCK_RIGHT = TOP / MM, (TOP + BLOCK_H) / MM, LEFT / MM, LEFT / MM + 156
OVERHANG = (BODY_SIZE - CELL) / 2 / MM  # a 16 pt glyph centred in its 15.79 pt cell sticks out 0.036 mm


@pytest.fixture(scope="module")
def three_pages():
    result = render(notice(pages=3))
    return result, measure(result.pdf), glyph_boxes(result.pdf)


def test_r2_three_page_notice_passes_every_measured_rule(three_pages):
    """R2.1 page and 版心, R2.2 grid, R2.3 page numbers and 版记, R2.4 mark, separator, rules — all within ±1 mm."""
    result, report, _ = three_pages
    assert result.pages == 3
    assert check(report) == []
    assert report["full_regular_lines"] >= 6  # the 28-cell check ran on real full lines


def test_r2_1_a4_pages_and_the_text_block(three_pages):
    _, report, glyphs = three_pages
    assert all(p["size_mm"] == (210.0, 297.0) for p in report["pages"])
    body = text_lines(glyphs[1])  # a continuation page: 正文 only
    assert body[0]["top"] == pytest.approx(BLOCK_TOP, abs=1)  # 天头 37 mm
    assert min(ln["x0"] for ln in body) == pytest.approx(BLOCK_LEFT, abs=1)  # 订口 28 mm
    plain = [ln for ln in body if ln["text"][-1] not in SQUEEZABLE]  # a squeezed 。 inks only its left half
    assert max(ln["x1"] for ln in plain) == pytest.approx(BLOCK_RIGHT, abs=1)  # 版心 156 mm wide
    assert body[-1]["bottom"] <= BLOCK_BOTTOM + 1  # 版心 225 mm high (a full page: the 22-line test)
    for page in glyphs:
        for g in page:
            if g["size"] != 14:  # page numbers sit below the 版心 by design
                right = g["x1"] - (g["size"] / MM / 2 if g["text"] in SQUEEZABLE else 0)
                assert BLOCK_LEFT - 1 <= g["x0"] and right <= BLOCK_RIGHT + 1, g
                assert BLOCK_TOP - 1 <= g["top"] and g["bottom"] <= BLOCK_BOTTOM + 1, g


def test_r2_2_full_pages_have_22_lines_of_28_characters():
    report = measure(render(notice(pages=4)).pdf)
    assert check(report) == []
    counts = [len(p["body_lines"]) for p in report["pages"][1:-1]]
    assert 22 in counts, counts
    full = [ln for p in report["pages"] for ln in p["body_lines"] if ln.get("cells")]
    assert full and all(ln["cells"] == 28 and ln["n"] in (26, 28) for ln in full)  # 26: a first line (空二字)
    page = report["pages"][1]["body_lines"]
    assert len(page) == 22 and page[-1]["top_mm"] + BODY_SIZE / MM == pytest.approx(BLOCK_BOTTOM, abs=1)
    steps = {round(b["top_mm"] - a["top_mm"], 1) for a, b in zip(page, page[1:], strict=False)}
    assert all(s == pytest.approx(PITCH, abs=0.1) for s in steps)


def test_r2_2_body_type_is_3hao_fangsong_black(three_pages):
    _, _, glyphs = three_pages
    body = [g for g in glyphs[1] if g["size"] == BODY_SIZE]
    fang = [g for g in body if g["font"].startswith("FandolFang")]
    assert len(fang) > 0.9 * len(body)
    assert not any(g["red"] for g in body)


def test_r2_3_page_numbers_odd_right_even_left(three_pages):
    _, report, _ = three_pages
    odd, even = report["pages"][0]["folio"], report["pages"][1]["folio"]
    assert odd["text"].replace(" ", "") == "—1—" and even["text"].replace(" ", "") == "—2—"
    assert odd["top_mm"] == pytest.approx(BLOCK_BOTTOM + 7, abs=1)
    assert odd["right_mm"] == pytest.approx(BLOCK_RIGHT - CELL_MM, abs=1)
    assert even["left_mm"] == pytest.approx(BLOCK_LEFT + CELL_MM, abs=1)


def test_r2_3_imprint_between_rules_on_the_last_page(three_pages):
    result, _, glyphs = three_pages
    rules = sorted((ln for ln in page_lines(result.pdf) if ln["page"] == result.pages - 1 and not ln["red"]),
                   key=lambda ln: ln["y"])
    assert [round(r["width"], 2) for r in rules] == [0.35, 0.25, 0.35]
    assert rules[-1]["y"] == pytest.approx(BLOCK_BOTTOM, abs=1)  # the last rule on the 版心 bottom
    assert all(r["x0"] == pytest.approx(BLOCK_LEFT, abs=0.5) and r["x1"] == pytest.approx(BLOCK_RIGHT, abs=0.5)
               for r in rules)
    foot = text_lines(glyphs[-1], size=14)
    copy_to = [ln for ln in foot if rules[0]["y"] < ln["top"] < rules[1]["y"]]
    assert copy_to[0]["text"].startswith("抄送：") and copy_to[-1]["text"].endswith("。")
    assert copy_to[0]["x0"] == pytest.approx(BLOCK_LEFT + FOOT_MM, abs=1)  # 左空一字
    assert copy_to[1]["x0"] == pytest.approx(copy_to[0]["x0"] + 3 * FOOT_MM, abs=0.5)  # aligned after "抄送："
    printed = find_line(foot, "印发")
    assert rules[1]["y"] < printed["top"] < rules[2]["y"]
    assert printed["text"].startswith("示范市人民政府办公室") and printed["text"].endswith("2026年1月5日印发")
    assert printed["x1"] == pytest.approx(BLOCK_RIGHT - FOOT_MM, abs=1)  # 右空一字
    body = text_lines(glyphs[-1])
    assert body and body[0]["text"]  # the 版记 page also shows 正文 (no 此页无正文)


def test_r2_4_head_mark_number_separator_and_title(three_pages):
    result, report, glyphs = three_pages
    first = glyphs[0]
    mark = [g for g in first if g["red"]]
    assert "".join(g["text"] for g in sorted(mark, key=lambda g: g["x0"])) == "示范市人民政府文件"
    assert min(g["top"] for g in mark) == pytest.approx(BLOCK_TOP + 35, abs=1)  # 72 mm from the page top
    assert {g["font"] for g in mark} == {"FandolSong-Bold"}
    urgency = find_line(text_lines(first), "特急")
    assert urgency["top"] == pytest.approx(BLOCK_TOP, abs=1) and urgency["x0"] == pytest.approx(28, abs=1)
    assert {g["font"] for g in urgency["glyphs"]} == {"FandolHei-Regular"}
    number = find_line(text_lines(first), "示政发")
    assert (number["x0"] + number["x1"]) / 2 == pytest.approx(106, abs=1)  # centred on the 版心
    assert number["top"] - max(g["bottom"] for g in mark) == pytest.approx(2 * PITCH, abs=PITCH)  # 空二行
    [separator] = [ln for ln in page_lines(result.pdf) if ln["red"]]
    assert separator["y"] - number["bottom"] == pytest.approx(4, abs=1)
    assert separator["x0"] == pytest.approx(BLOCK_LEFT, abs=1) and separator["x1"] == pytest.approx(BLOCK_RIGHT, abs=1)
    title = text_lines(first, size=22)
    assert [ln["text"] for ln in title] == ["示范市人民政府关于进一步优化政务服务", "提升行政效能推动高效办成一件事的通知"]
    first_grid_below = BLOCK_TOP + math.ceil((separator["y"] - BLOCK_TOP) / PITCH) * PITCH
    centre = (title[0]["top"] + title[0]["bottom"]) / 2
    assert centre - BODY_SIZE / MM / 2 == pytest.approx(first_grid_below + 2 * PITCH, abs=1)  # 空二行
    for ln in title:
        assert (ln["x0"] + ln["x1"]) / 2 == pytest.approx(106, abs=1.5)  # centred (glyph side bearings)
    main = find_line(text_lines(first), "各县区人民政府")
    assert main["top"] == pytest.approx(title[-1]["top"] + 3 / MM + 2 * PITCH, abs=1)  # 标题下空一行
    assert main["x0"] == pytest.approx(BLOCK_LEFT, abs=1) and main["text"].endswith("：")


def test_r2_4_headings_in_their_fonts(three_pages):
    _, _, glyphs = three_pages
    lines = [ln for page in glyphs for ln in text_lines(page)]
    assert {g["font"] for g in find_line(lines, "一、总体要求")["glyphs"]} == {"FandolHei-Regular"}
    second = find_line(lines, "（一）健全工作机制")["glyphs"]
    heading = len("（一）健全工作机制。")
    assert {g["font"] for g in second[:heading]} == {"FandolKai-Regular"}
    assert {g["font"] for g in second[heading:]} == {"FandolFang-Regular"}
    assert {g["font"] for g in find_line(lines, "1.推进集成办理")["glyphs"]} == {"FandolFang-Regular"}
    paragraph = find_line(lines, "为深入贯彻落实")
    assert paragraph["x0"] == pytest.approx(BLOCK_LEFT + 2 * CELL_MM, abs=0.5)  # 空二字


def test_r2_4_attachment_notes_signature_date_and_note(three_pages):
    _, _, glyphs = three_pages
    lines = text_lines(glyphs[-1])
    first, second = find_line(lines, "附件："), find_line(lines, "2．")
    assert first["x0"] == pytest.approx(BLOCK_LEFT + 2 * CELL_MM, abs=0.5)  # 左空二字
    assert second["x0"] == pytest.approx(first["glyphs"][3]["x0"], abs=1)  # "2．" under "1．"
    assert second["glyphs"][2]["x0"] == pytest.approx(first["glyphs"][5]["x0"], abs=1)  # names aligned
    body_end = lines.index(first) - 1
    assert first["top"] - lines[body_end]["top"] == pytest.approx(2 * PITCH, abs=1)  # 正文下空一行
    date = find_line(lines, "2026年1月5日")
    assert date["text"] == "2026年1月5日" and date["x1"] == pytest.approx(BLOCK_RIGHT - 4 * CELL_MM, abs=1)  # 右空四字
    signature = find_line(lines, "示范市人民政府")
    assert (signature["x0"] + signature["x1"]) / 2 == pytest.approx((date["x0"] + date["x1"]) / 2, abs=1)
    note = find_line(lines, "此件公开发布")
    assert note["top"] - date["top"] == pytest.approx(PITCH, abs=1)  # 成文日期下一行
    assert note["x0"] == pytest.approx(BLOCK_LEFT + 2 * CELL_MM, abs=1)


def test_r2_4_long_attachment_name_wraps_under_its_first_character():
    long_name = "示范市2026年度政务服务事项办理时限压缩目标及各县区各部门责任分工和完成时限安排表"
    glyphs = glyph_boxes(render(notice(pages=1, attachment_notes=[long_name])).pdf)
    lines = [ln for page in glyphs for ln in text_lines(page)]
    first = find_line(lines, "附件：示范市")
    following = lines[lines.index(first) + 1]
    assert following["x0"] == pytest.approx(first["glyphs"][3]["x0"], abs=1)
    assert "1．" not in first["text"]  # a single attachment is not numbered


@pytest.mark.parametrize("paragraphs", range(0, 26))
def test_r2_4_no_page_without_body_text_and_the_imprint_on_the_last_page(paragraphs):
    """"此页无正文" is not allowed: whatever the length, every page shows 正文 and the 版记's last rule sits on the 版心
    bottom of the last page."""
    doc = notice(pages=1, body=[Block(PARAGRAPH)] * (paragraphs + 1))
    report = measure(render(doc).pdf)
    assert check(report) == [], paragraphs
    for page in report["pages"]:
        assert any("为深入贯彻" in ln["text"] or "现就有关事项" in ln["text"] or "提升行政效能" in ln["text"]
                   or "常态化" in ln["text"] for ln in page["body_lines"]), (paragraphs, page["page"])


def test_r2_4_first_page_shows_body_text_even_with_many_main_recipients():
    """§7.3.2: when the 主送 would push all 正文 off the first page they go to the 版记 as "主送："."""
    many = "，".join(f"示范市第{k + 1}区人民政府" for k in range(60))
    result = render(notice(pages=1, main_recipients=many))
    glyphs = glyph_boxes(result.pdf)
    assert any("为深入贯彻" in ln["text"] for ln in text_lines(glyphs[0]))
    foot = text_lines(glyphs[-1], size=14)
    assert foot[0]["text"].startswith("主送：")
    assert find_line(foot, "抄送：")["top"] > foot[0]["top"]  # 主送 above 抄送, no rule between
    assert check(measure(result.pdf)) == []


def test_r2_4_upward_document_signers_two_a_line_and_the_number_left():
    """§7.2.5/7.2.6: "签发人：" 仿宋 and names 楷体 居右空一字, two names a line, the next line aligned with the first
    name; the number 居左空一字 on the line of the last name."""
    result = render(notice(pages=1, signers=["陈志远", "王建国", "李明"], main_recipients="省人民政府",
                           title="示范市人民政府关于申请2027年城市更新专项资金的请示"))
    assert check(measure(result.pdf)) == []
    lines = text_lines(glyph_boxes(result.pdf)[0])
    signer_line = find_line(lines, "签发人：")
    assert signer_line["text"].endswith("签发人：陈志远王建国")
    assert signer_line["x1"] == pytest.approx(BLOCK_RIGHT - CELL_MM, abs=1)
    names = [g for g in signer_line["glyphs"] if g["text"] in "陈志远王建国"]
    assert {g["font"] for g in names} == {"FandolKai-Regular"}
    assert {g["font"] for g in signer_line["glyphs"] if g["text"] in "签发人："} == {"FandolFang-Regular"}
    last = next(ln for ln in lines if "李明" in ln["text"])
    assert last["top"] - signer_line["top"] == pytest.approx(PITCH, abs=0.5)
    assert last["glyphs"][-2]["x0"] == pytest.approx(names[0]["x0"], abs=0.5)  # aligned with the first name
    assert last["text"].startswith("示政发〔2026〕3号")  # the number shares the last name's line
    assert last["x0"] == pytest.approx(BLOCK_LEFT + CELL_MM, abs=1)
    title = [ln["text"] for ln in text_lines(glyph_boxes(result.pdf)[0], size=22)]
    assert title == ["示范市人民政府关于申请", "2027年城市更新专项资金的请示"]  # never "…2027" / "年…"


def test_r2_4_joint_document_marks_stacked_with_wen_jian_centred_beside_them():
    result = render(notice(pages=1, issuer_marks=["示范市人民政府", "示范市教育局", "示范市财政局"],
                           signature=["示范市人民政府", "示范市教育局", "示范市财政局"]))
    assert check(measure(result.pdf)) == []
    red = [g for g in glyph_boxes(result.pdf)[0] if g["red"]]
    first_top = min(g["top"] for g in red)
    names_right = max(g["x1"] for g in red if abs(g["top"] - first_top) < 0.1)
    wen_jian = sorted((g for g in red if g["x0"] > names_right), key=lambda g: g["x0"])
    rows: dict[float, list] = {}
    for g in red:
        if g not in wen_jian:
            rows.setdefault(round(g["top"], 1), []).append(g)
    names = sorted(rows)
    assert ["".join(g["text"] for g in sorted(rows[t], key=lambda g: g["x0"])) for t in names] == [
        "示范市人民政府", "示范市教育局", "示范市财政局"]  # stacked, the lead body first
    assert first_top == pytest.approx(BLOCK_TOP + 35, abs=1)
    assert len({round(min(g["x0"] for g in rows[t])) for t in names}) == 1  # set to one width, aligned
    assert len({round(max(g["x1"] for g in rows[t])) for t in names}) == 1
    assert "".join(g["text"] for g in wen_jian) == "文件"
    names_bottom = max(g["bottom"] for t in names for g in rows[t])
    middle = (wen_jian[0]["top"] + wen_jian[0]["bottom"]) / 2
    assert middle == pytest.approx((first_top + names_bottom) / 2, abs=1)  # vertically centred on the names
    assert all(BLOCK_LEFT - 1 <= g["x0"] and g["x1"] <= BLOCK_RIGHT + 1 for g in red)


def test_r2_4_joint_document_seals_side_by_side_inside_the_block():
    """§7.3.5.1: one seal per issuing body, in a row, not touching, inside the 版心; the last over the date."""
    result = render(notice(pages=1, signature=["示范市人民政府", "示范市教育局", "示范市财政局"]))
    boxes = sorted(result.seal_boxes, key=lambda s: s.box[0])
    assert len(boxes) == 3 and len({s.page for s in boxes}) == 1
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert b.box[0] - a.box[2] > 0 and a.box[1] == pytest.approx(b.box[1])
    assert boxes[0].box[0] >= LEFT - 0.5 and boxes[-1].box[2] <= LEFT + 156 * MM + 0.5
    date = find_line(text_lines(glyph_boxes(result.pdf)[boxes[-1].page]), "2026年1月5日")
    assert (boxes[-1].box[0] + boxes[-1].box[2]) / 2 / MM == pytest.approx((date["x0"] + date["x1"]) / 2, abs=1)


def test_r2_4_seal_box_sits_over_signature_and_date_within_a_line_below_the_text():
    """§7.3.5.1: a 42 mm seal centred over 署名 and 成文日期, both below its centre; its top within one line below the
    text above."""
    result = render(notice(pages=1, note=""))
    [seal] = result.seal_boxes
    x0, y0, x1, y1 = (v / MM for v in seal.box)
    assert x1 - x0 == pytest.approx(SEAL_DIAMETER / MM) == y1 - y0
    page_h = 297
    top, bottom, centre = page_h - y1, page_h - y0, page_h - (y0 + y1) / 2  # mm from the page top
    lines = text_lines(glyph_boxes(result.pdf)[seal.page])
    date, signature = find_line(lines, "2026年1月5日"), find_line(lines, "示范市人民政府")
    assert 0 < (signature["top"] + date["bottom"]) / 2 - centre < 5  # 署名 and date 居印章中心偏下
    assert top < signature["top"] and date["bottom"] < bottom
    assert x0 < date["x0"] and date["x1"] < x1 and x0 < signature["x0"] and signature["x1"] < x1
    above = [ln for ln in lines if ln["bottom"] < signature["top"] - 1]
    assert 0 <= top - above[-1]["bottom"] <= PITCH  # 上距正文（或附件说明）一行之内


def test_r2_4_unsealed_signature_and_date_layout():
    """§7.3.5.2: 署名 右空二字, the date below it starting two characters further right; a date longer than that
    goes 右空二字 and the 署名 moves left."""
    result = render(notice(pages=1, sealed=False, signature=["示范市人民政府办公室"], date=dt.date(2026, 11, 25)))
    assert result.seal_boxes == []
    lines = text_lines(glyph_boxes(result.pdf)[-1])
    name, date = find_line(lines, "示范市人民政府办公室"), find_line(lines, "2026年11月25日")
    assert name["x1"] == pytest.approx(BLOCK_RIGHT - 2 * CELL_MM, abs=1)
    assert date["x0"] - name["x0"] == pytest.approx(2 * CELL_MM, abs=1)
    assert date["top"] - name["top"] == pytest.approx(PITCH, abs=0.5)
    short = render(notice(pages=1, sealed=False, signature=["示范市教育局"], date=dt.date(2026, 11, 25)))
    lines = text_lines(glyph_boxes(short.pdf)[-1])
    name, date = find_line(lines, "示范市教育局"), find_line(lines, "2026年11月25日")
    assert date["x1"] == pytest.approx(BLOCK_RIGHT - 2 * CELL_MM, abs=1)
    assert date["x0"] - name["x0"] == pytest.approx(2 * CELL_MM, abs=1)


def test_r2_4_letter_format():
    """§10.1 信函格式: mark 30 mm from the top edge; red double rules 170 mm long, centred — thick over thin 4 mm below
    the mark, thin over thick 20 mm above the bottom edge; 份号/密级 顶格 left and the number 顶格 right, 7/8 of a 3号
    character below the rule; title 空二行 below; no page number on page 1; no 印发 line and no rules in the 版记."""
    doc = notice(pages=2, format="letter", issuer_marks=["示范市人民政府办公室"], doc_number="示政办函〔2026〕8号",
                 copy_number="000012", classification="内部", urgency="")
    result = render(doc)
    glyphs = glyph_boxes(result.pdf)
    mark = [g for g in glyphs[0] if g["red"]]
    assert min(g["top"] for g in mark) == pytest.approx(30, abs=1)
    reds = sorted((ln for ln in page_lines(result.pdf) if ln["red"]), key=lambda ln: ln["y"])
    assert len(reds) == 4 and all(ln["page"] == 0 for ln in reds)
    for ln in reds:
        assert ln["x0"] == pytest.approx(20, abs=1) and ln["x1"] == pytest.approx(190, abs=1)
    top_thick, top_thin, bottom_thin, bottom_thick = reds
    assert top_thick["width"] > top_thin["width"] and bottom_thick["width"] > bottom_thin["width"]
    assert top_thick["y"] - top_thick["width"] / 2 - max(g["bottom"] for g in mark) == pytest.approx(4, abs=1)
    assert 297 - (bottom_thick["y"] + bottom_thick["width"] / 2) == pytest.approx(20, abs=1)
    lines = text_lines(glyphs[0])
    below_rule = top_thin["y"] + top_thin["width"] / 2
    copy_no = find_line(lines, "000012")
    assert copy_no["top"] - below_rule == pytest.approx(7 / 8 * BODY_SIZE / MM, abs=1)
    assert copy_no["x0"] == pytest.approx(BLOCK_LEFT, abs=1)
    number = [g for g in copy_no["glyphs"] if g["x0"] > 100]
    assert "".join(g["text"] for g in number) == "示政办函〔2026〕8号"  # on the same line, 顶格 at the right
    assert number[-1]["x1"] == pytest.approx(BLOCK_RIGHT, abs=1)
    secret = find_line(lines, "内部")
    assert secret["top"] - copy_no["top"] == pytest.approx(PITCH, abs=0.5)
    assert {g["font"] for g in secret["glyphs"]} == {"FandolHei-Regular"}
    title = text_lines(glyphs[0], size=22)
    gap = (title[0]["top"] + 3 / MM) - secret["top"]
    assert 3 * PITCH - 1 <= gap < 4 * PITCH + 1  # 空二行, then onto the grid
    report = measure(result.pdf)
    assert report["pages"][0]["folio"]["top_mm"] is None
    assert report["pages"][1]["folio"]["text"].replace(" ", "") == "—2—"
    assert not [ln for ln in page_lines(result.pdf) if not ln["red"]]  # no 版记 rules
    foot = text_lines(glyphs[-1], size=14)
    assert any(ln["text"].startswith("抄送：") for ln in foot)
    assert not any("印发" in ln["text"] for ln in foot)


def test_r2_4_dates_in_arabic_numerals_without_padding():
    assert chinese_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    assert chinese_date(dt.date(2026, 11, 25)) == "2026年11月25日"
    assert chinese_date(None) == ""


def test_r2_4_title_lines_break_between_words_and_balance():
    parts = split_title("示范市人民政府关于进一步优化政务服务提升行政效能推动高效办成一件事的通知")
    assert parts == ["示范市人民政府关于进一步优化政务服务", "提升行政效能推动高效办成一件事的通知"]
    assert split_title("示范市人民政府关于春节放假的通知") == ["示范市人民政府关于春节放假的通知"]
    long = "示范市人民政府办公室关于印发示范市2026年度“高效办成一件事”重点事项工作方案和配套制度及责任清单的通知"
    parts = split_title(long)
    assert len(parts) == 3 and "".join(parts) == long
    assert all(p[0] not in "，。、）”" for p in parts[1:])


def test_body_text_is_normalised_not_refused():
    """U+2015 (what the gb2312 codec makes of a 破折号) becomes U+2014; control and zero-width characters go."""
    assert clean("\u3000\u3000要\u2015\u2015落实\t到位\u200b。\n") == "要——落实到位。"
    result = render(notice(pages=1, body=[Block("各部门\u2015\u2015要\t抓好\u200b落实。\x07")]))
    text = "".join(ln["text"] for page in glyph_boxes(result.pdf) for ln in text_lines(page))
    assert "各部门——要抓好落实。" in text and "\u2015" not in text


def test_three_page_document_of_the_documents_app_shape():
    """The shape the documents app builds (PdfDocument with every element) renders and measures clean."""
    doc = PdfDocument(**{**notice(pages=3).__dict__, "copy_number": "000001", "classification": "内部"})
    result = render(doc)
    report = measure(result.pdf)
    assert result.pages == 3 and check(report) == []
    lines = text_lines(glyph_boxes(result.pdf)[0])
    assert [ln["text"] for ln in lines[:3]] == ["000001", "内部", "特急"]  # 份号, 密级, 紧急程度 stacked


def test_render_examples_for_docs(tmp_path):
    """The examples in docs/screenshots (looked at by eye; regenerate with SHOTS_DIR=docs/screenshots)."""
    target = Path(os.environ.get("SHOTS_DIR", tmp_path))
    notice_pdf = render(office_notice())
    assert notice_pdf.pages == 2 and check(measure(notice_pdf.pdf)) == []
    letter_pdf = render(office_letter())
    assert letter_pdf.pages == 1
    for name, pdf, page in (("gbt9704-page1", notice_pdf, 1), ("gbt9704-page2", notice_pdf, 2),
                            ("gbt9704-letter", letter_pdf, 1)):
        source = tmp_path / f"{name}.pdf"
        source.write_bytes(pdf.pdf)
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                        str(source), str(target / name)], check=True)
        assert (target / f"{name}.png").stat().st_size > 10_000


def test_r2_2_line_breaking_keeps_half_width_runs_and_obeys_bi_tou_wei():
    """避头尾: no line starts with closing punctuation or ends with opening punctuation; "0000-12345678" stays whole."""
    from zhengtong.documents.pdf.layout import NO_END, NO_START, break_runs

    text = ("联系人：市数据局数据资源科张明，联系电话：0000-12345678。" * 3 + "各部门要“高效办成一件事”。" * 6)
    lines = break_runs([("fang", text)])
    assert "".join(g.ch for ln in lines for g in ln.glyphs) == text
    for ln in lines:
        assert ln.glyphs[0].ch not in NO_START and ln.glyphs[-1].ch not in NO_END
        assert sum(g.em for g in ln.glyphs) <= 28 - ln.indent + 0.5 * sum(g.ch in SQUEEZABLE for g in ln.glyphs)
    joined = ["".join(g.ch for g in ln.glyphs) for ln in lines]
    assert all("0000-12345678" in j or not any(d in j for d in ("0000-", "-1234")) for j in joined)
