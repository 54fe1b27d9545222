"""Attachments: the allowed types (by extension and by their first bytes), the size limit, and their text for search.

Allowed: pdf, ofd (GB/T 33190), docx, xlsx, wps, png, jpg, tif, gif. A file whose content does not match its extension is
refused (a renamed .exe is not a .pdf). Text extraction is bounded and never raises: a file we cannot read has no
text (it is still stored); its type was already checked.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile

from django.conf import settings

from zhengtong.core.errors import ServiceError

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
logger = logging.getLogger(__name__)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TYPES = {  # extension → (content type, a check of the content)
    "pdf": ("application/pdf", lambda d, z: d.startswith(b"%PDF-")),
    "ofd": ("application/ofd", lambda d, z: z is not None and any(n.lower() == "ofd.xml" for n in z)),
    "docx": (DOCX_TYPE, lambda d, z: z is not None and "word/document.xml" in z),
    "xlsx": (XLSX_TYPE, lambda d, z: z is not None and "xl/workbook.xml" in z),
    "wps": ("application/vnd.ms-works", lambda d, z: d.startswith(OLE)),
    "png": ("image/png", lambda d, z: d.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", lambda d, z: d.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda d, z: d.startswith(b"\xff\xd8\xff")),
    "tif": ("image/tiff", lambda d, z: d[:4] in (b"II*\x00", b"MM\x00*")),
    "tiff": ("image/tiff", lambda d, z: d[:4] in (b"II*\x00", b"MM\x00*")),
    "gif": ("image/gif", lambda d, z: d[:6] in (b"GIF87a", b"GIF89a")),
}
LABELS = "PDF、OFD、Word（.docx）、Excel（.xlsx）、WPS、图片（PNG/JPG/TIF/GIF）"
MAX_TEXT = 2_000_000  # characters kept for search per file
MAX_UNPACKED = 500 * 1024 * 1024  # a zip whose members unpack beyond this is not read (zip bombs)
MAX_RATIO = 200  # nor one with a large member compressed more than this (XML packs ~10:1, a bomb ~1000:1)


class UnsafeZip(ValueError):
    """A zip that would unpack to far more than its size: not read."""


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The zip, once its directory shows no bomb (declared sizes; zipfile stops reading a member at its declared
    size, so a lying header cannot unpack more than this allows)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()
    if sum(i.file_size for i in infos) > MAX_UNPACKED or any(
            i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos):
        archive.close()
        raise UnsafeZip("unpacks too large")
    return archive


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_MB", 100)) * 1024 * 1024


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _zip_names(data: bytes) -> list[str] | None:
    if not data.startswith(b"PK"):
        return None
    try:
        with open_zip(data) as archive:  # a zip bomb (UnsafeZip) is refused as "not a valid file" too
            return archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None


def check_upload(filename: str, data: bytes) -> tuple[str, str]:
    """(content type, SHA-256) of an acceptable file; otherwise a ServiceError saying what is allowed."""
    if not filename:
        raise ServiceError("document.attachment_type", "附件缺少文件名")
    if not data:
        raise ServiceError("document.attachment_empty", f"“{filename}”是空文件")
    limit = max_bytes()
    if len(data) > limit:
        raise ServiceError("document.attachment_too_large",
                           f"“{filename}”超过 {limit // (1024 * 1024)} MB，请压缩或拆分后上传")
    ext = extension(filename)
    if ext not in TYPES:
        raise ServiceError("document.attachment_type", f"不支持“.{ext or '无扩展名'}”文件，可上传：{LABELS}")
    content_type, matches = TYPES[ext]
    if not matches(data, _zip_names(data) if ext in ("ofd", "docx", "xlsx") else None):
        raise ServiceError("document.attachment_type", f"“{filename}”的内容不是有效的 .{ext} 文件（可能已损坏或扩展名被改动）")
    return content_type, hashlib.sha256(data).hexdigest()


def extract_text(filename: str, data: bytes) -> str:
    """The file's text for search and for the R1.8 check; "" when it has none or cannot be read."""
    ext = extension(filename)
    try:
        if ext == "pdf":
            text = _pdf_text(data)
        elif ext == "docx":
            text = _docx_text(data)
        elif ext == "xlsx":
            text = _xlsx_text(data)
        elif ext == "ofd":
            text = _ofd_text(data)
        else:
            return ""
    except Exception as exc:  # noqa: BLE001 — an unreadable file simply has no searchable text
        logger.info("no text from attachment %r: %s", filename, exc.__class__.__name__)
        return ""
    return text[:MAX_TEXT]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    parts, size = [], 0
    for page in reader.pages[:2000]:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size > MAX_TEXT:
            break
    return "\n".join(parts)


def _docx_text(data: bytes) -> str:
    import docx

    open_zip(data).close()
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(p for p in parts if p)


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    open_zip(data).close()
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts, size = [], 0
    try:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                line = " ".join(str(v) for v in row if v not in (None, ""))
                if line:
                    parts.append(line)
                    size += len(line)
                if size > MAX_TEXT:
                    return "\n".join(parts)
    finally:
        workbook.close()  # read-only workbooks keep the archive open until closed
    return "\n".join(parts)


TEXT_OBJECT = re.compile(rb"<(?:\w+:)?TextObject\b.*?</(?:\w+:)?TextObject>", re.S)
TEXT_CODE = re.compile(rb"<(?:\w+:)?TextCode\b[^>]*>(.*?)</(?:\w+:)?TextCode>", re.S)


def _ofd_text(data: bytes) -> str:
    """OFD pages are XML (Doc_0/Pages/Page_N/Content.xml); the text sits in TextCode elements, a line or a run per
    TextObject. Each TextObject becomes a line, so that a mark alone on its line reads as such (R1.8)."""
    import html

    lines, size = [], 0
    with open_zip(data) as archive:
        pages = sorted((n for n in archive.namelist() if n.lower().endswith("content.xml")), key=_natural)
        for name in pages:
            for text_object in TEXT_OBJECT.finditer(archive.read(name)):
                codes = TEXT_CODE.findall(text_object.group(0))
                line = html.unescape(b"".join(codes).decode("utf-8", "replace"))
                lines.append(line)
                size += len(line)
            if size > MAX_TEXT:
                break
    return "\n".join(lines)


def _natural(name: str) -> list:
    """Page_10 after Page_9."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
