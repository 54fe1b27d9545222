"""Attachments (documents.files): allowed types by extension and content, the size limit (ATTACHMENT_MAX_MB), and
bounded text extraction from real PDF, .docx, .xlsx and OFD files built here. Pure functions: no database."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest

from zhengtong.core.errors import ServiceError
from zhengtong.documents import files

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
TIFF = b"II*\x00" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def make_pdf(*pages: str) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    sheet = canvas.Canvas(out)
    for text in pages:
        sheet.setFont("STSong-Light", 14)
        for i, line in enumerate(text.split("\n")):
            sheet.drawString(72, 700 - 20 * i, line)
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def make_docx(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(rows: list[list], sheets: int = 1) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for n in range(sheets):
        sheet = workbook.active if n == 0 else workbook.create_sheet(f"表{n + 1}")
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_ofd(pages: list[list[str]]) -> bytes:
    """A minimal OFD (GB/T 33190): OFD.xml, a document and one Content.xml per page, one TextObject per line."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", f'<ofd:OFD {ns} Version="1.0"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml'
                                    "</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        archive.writestr("Doc_0/Document.xml", f"<ofd:Document {ns}/>")
        for n, lines in enumerate(pages):
            objects = "".join(
                f'<ofd:TextObject ID="{i + 1}" Boundary="0 {10 * i} 100 10" Font="1" Size="5">'
                f'<ofd:TextCode X="0" Y="5">{line[: len(line) // 2]}</ofd:TextCode>'
                f'<ofd:TextCode X="50" Y="5">{line[len(line) // 2:]}</ofd:TextCode></ofd:TextObject>'
                for i, line in enumerate(lines))
            archive.writestr(f"Doc_0/Pages/Page_{n}/Content.xml",
                             f"<ofd:Page {ns}><ofd:Content><ofd:Layer>{objects}</ofd:Layer></ofd:Content></ofd:Page>")
    return out.getvalue()


# --- check_upload --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("通知.pdf", make_pdf("通知"), "application/pdf"),
    ("通知.PDF", b"%PDF-1.4\n%...", "application/pdf"),
    ("方案.docx", make_docx("方案"), files.DOCX_TYPE),
    ("名单.xlsx", make_xlsx([["姓名"]]), files.XLSX_TYPE),
    ("公文.ofd", make_ofd([["一行"]]), "application/ofd"),
    ("旧文.wps", OLE, "application/vnd.ms-works"),
    ("图.png", PNG, "image/png"),
    ("照片.jpg", JPEG, "image/jpeg"),
    ("照片.jpeg", JPEG, "image/jpeg"),
    ("扫描件.tif", TIFF, "image/tiff"),
    ("扫描件.tiff", b"MM\x00*" + b"\x00" * 8, "image/tiff"),
    ("动图.gif", GIF, "image/gif"),
])
def test_allowed_types_pass_with_their_content_type_and_sha256(name, data, content_type):
    assert files.check_upload(name, data) == (content_type, hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize(("name", "data"), [
    ("病毒.pdf", b"MZ\x90\x00 this is an exe"),  # a renamed program
    ("表格.docx", make_xlsx([["a"]])),  # a workbook renamed to .docx
    ("文档.xlsx", make_docx("a")),  # and the other way round
    ("公文.ofd", make_docx("a")),  # a zip, but no OFD.xml
    ("图.png", JPEG),
    ("照片.jpg", PNG),
    ("文档.wps", make_docx("a")),
    ("文档.docx", OLE),  # an old .doc renamed
    ("坏.docx", b"PK\x03\x04 not really a zip"),
])
def test_content_that_does_not_match_the_extension_is_refused(name, data):
    with pytest.raises(ServiceError) as error:
        files.check_upload(name, data)
    assert error.value.code == "document.attachment_type" and name in error.value.message


@pytest.mark.parametrize("name", ["程序.exe", "网页.html", "脚本.js", "旧文.doc", "压缩包.zip", "无扩展名", "图.svg"])
def test_types_outside_the_list_are_refused_with_the_list(name):
    with pytest.raises(ServiceError) as error:
        files.check_upload(name, b"%PDF-1.4 whatever")
    assert error.value.code == "document.attachment_type" and "PDF、OFD" in error.value.message


def test_empty_file_and_missing_name_are_refused():
    with pytest.raises(ServiceError) as error:
        files.check_upload("空.pdf", b"")
    assert error.value.code == "document.attachment_empty"
    with pytest.raises(ServiceError) as error:
        files.check_upload("", b"%PDF-1.4")
    assert error.value.code == "document.attachment_type"


def test_size_limit_comes_from_attachment_max_mb(settings):
    settings.ATTACHMENT_MAX_MB = 1
    just_under = b"%PDF-1.4\n" + b"0" * (1024 * 1024 - 9)
    assert files.check_upload("大.pdf", just_under)[0] == "application/pdf"
    with pytest.raises(ServiceError) as error:
        files.check_upload("大.pdf", just_under + b"0")
    assert error.value.code == "document.attachment_too_large" and "1 MB" in error.value.message


def test_default_limit_is_100_mb():
    from django.conf import settings

    assert settings.ATTACHMENT_MAX_MB == 100 and files.max_bytes() == 100 * 1024 * 1024


def test_a_zip_bomb_renamed_to_docx_is_refused_as_invalid():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document/>" + b"\x00" * (60 * 1024 * 1024))
    with pytest.raises(ServiceError) as error:
        files.check_upload("炸弹.docx", out.getvalue())
    assert error.value.code == "document.attachment_type"
    assert files.extract_text("炸弹.docx", out.getvalue()) == ""


# --- extract_text --------------------------------------------------------------------------------------------------

def test_pdf_text_from_every_page():
    text = files.extract_text("通知.pdf", make_pdf("关于开展国防教育的通知\n各区人民政府", "第二页 page two"))
    assert "关于开展国防教育的通知" in text and "各区人民政府" in text and "第二页 page two" in text


def test_docx_text_from_paragraphs_and_tables():
    text = files.extract_text("方案.docx", make_docx("实施方案", "一、总体要求", table=[["单位", "人数"], ["教育局", "12"]]))
    assert text.split("\n") == ["实施方案", "一、总体要求", "单位", "人数", "教育局", "12"]


def test_xlsx_text_is_the_cell_values_of_every_sheet():
    text = files.extract_text("名单.xlsx", make_xlsx([["姓名", "单位", None, 3], ["张三", "教育局"]], sheets=2))
    assert text.split("\n") == ["姓名 单位 3", "张三 教育局"] * 2


def test_ofd_text_is_its_text_codes_a_line_per_text_object_in_page_order():
    pages = [[f"第{n}页第一行", f"第{n}页第二行 &amp; 续"] for n in range(12)]
    text = files.extract_text("公文.ofd", make_ofd(pages))
    lines = text.split("\n")
    assert lines[:2] == ["第0页第一行", "第0页第二行 & 续"] and lines[-1] == "第11页第二行 & 续" and len(lines) == 24


def test_ofd_mark_alone_on_its_line_is_seen_by_the_r1_8_check():
    from zhengtong.documents.body import find_classification_mark

    text = files.extract_text("公文.ofd", make_ofd([["000001", "机密", "关于某事项的通知"]]))
    assert find_classification_mark(text) == "机密"


@pytest.mark.parametrize(("name", "data"), [
    ("旧文.wps", OLE), ("图.png", PNG), ("照片.jpg", JPEG), ("扫描件.tif", TIFF), ("动图.gif", GIF),
])
def test_types_without_readable_text_give_empty_text(name, data):
    assert files.extract_text(name, data) == ""


@pytest.mark.parametrize(("name", "data"), [
    ("坏.pdf", b"%PDF-1.7\n1 0 obj <<< broken"),
    ("坏.pdf", b"%PDF-1.4\n" + b"\xff" * 4096),
    ("坏.docx", b"PK\x03\x04garbage"),
    ("坏.xlsx", make_docx("not a workbook")),
    ("坏.ofd", b"PK\x05\x06" + b"\x00" * 18),
    ("截断.docx", make_docx("截断的文件")[:2000]),
])
def test_malformed_files_give_empty_text_instead_of_an_error(name, data):
    assert files.extract_text(name, data) == ""


def test_extracted_text_is_capped(monkeypatch):
    monkeypatch.setattr(files, "MAX_TEXT", 1000)
    text = files.extract_text("名单.xlsx", make_xlsx([["甲" * 100] for _ in range(50)]))
    assert 0 < len(text) <= 1000
