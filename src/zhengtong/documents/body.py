"""The body of a 公文: a sequence of paragraphs — body text and the four heading levels of GB/T 9704 (R2.4: 一、黑体,
（一）楷体, 1. and （1） 仿宋) — and nothing else that could carry script or styling.

Stored as sanitized HTML (`<p>`, `<h1>`–`<h4>`, inline `<strong>`/`<em>`/`<u>`, simple tables) and as plain text
(one paragraph per line) for search, rules and the PDF. Also: plain text and .docx to that HTML, a readable diff
between versions (痕迹保留), whether a change is substantive (R1.5), and the classification marks of R1.8.
"""
from __future__ import annotations

import difflib
import html as html_lib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from zhengtong.core.errors import ServiceError

BLOCK_TAGS = {"p": 0, "h1": 1, "h2": 2, "h3": 3, "h4": 4}
ALLOWED_TAGS = {"p", "h1", "h2", "h3", "h4", "strong", "em", "u", "br", "table", "thead", "tbody", "tr", "td", "th"}
ALLOWED_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
HEADING_PREFIX = [
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^[（(][一二三四五六七八九十百]+[）)]")),
    (3, re.compile(r"^\d{1,3}[.．](?!\d)")),
    (4, re.compile(r"^[（(]\d{1,3}[）)]")),
]
MAX_DOCX = 100 * 1024 * 1024


@dataclass(frozen=True)
class Paragraph:
    text: str
    level: int = 0  # 0 body; 1..4 the heading levels


def _normalise(text: str) -> str:
    """Control characters out, U+2015 (what the GB2312 codec gives for A1AA) to the dash the fonts have."""
    text = text.replace("\u2015", "\u2014").replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def heading_level(text: str) -> int:
    for level, pattern in HEADING_PREFIX:
        if pattern.match(text):
            return level
    return 0


def sanitize_html(html: str) -> str:
    """Only the body's structure survives; text outside any block becomes a paragraph. Idempotent."""
    cleaned = nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, strip_comments=True,
                        link_rel=None, clean_content_tags={"script", "style"})
    paragraphs = _parse(cleaned)
    return paragraphs_to_html(paragraphs, inline_html=_inline_blocks(cleaned))


class _BlockParser(HTMLParser):
    """Splits sanitized HTML into blocks: (level, inner HTML, text). Text outside blocks is a paragraph per line."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[int, str, str]] = []
        self._level: int | None = None
        self._inner: list[str] = []
        self._text: list[str] = []
        self._table_depth = 0
        self._row: list[str] = []

    def _flush(self):
        text = "".join(self._text).strip()
        if text:
            self.blocks.append((self._level or 0, "".join(self._inner).strip(), text))
        self._level, self._inner, self._text = None, [], []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._flush()
            self._table_depth += 1
        elif self._table_depth and tag == "tr":
            self._row = []
        elif self._table_depth and tag in ("td", "th"):
            self._row.append("")
        elif tag in BLOCK_TAGS and not self._table_depth:
            self._flush()
            self._level = BLOCK_TAGS[tag]
        elif tag == "br" and not self._table_depth:
            self._flush()
        elif tag in ("strong", "em", "u") and not self._table_depth:
            self._inner.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table_depth = max(0, self._table_depth - 1)
        elif self._table_depth and tag == "tr":
            cells = [c.strip() for c in self._row]
            if any(cells):  # a table row becomes one paragraph, cells separated by spaces (the PDF has no tables)
                text = "　".join(cells)
                self.blocks.append((0, html_lib.escape(text, quote=False), text))
        elif tag in BLOCK_TAGS and not self._table_depth:
            self._flush()
        elif tag in ("strong", "em", "u") and not self._table_depth:
            self._inner.append(f"</{tag}>")

    def handle_data(self, data):
        if self._table_depth:
            if self._row:
                self._row[-1] += data
            return
        data = _normalise(data)
        if self._level is None and "\n" in data:
            for i, line in enumerate(data.split("\n")):
                if i:
                    self._flush()
                self._text.append(line)
                self._inner.append(html_lib.escape(line, quote=False))
            return
        self._text.append(data)
        self._inner.append(html_lib.escape(data, quote=False))

    def close(self):
        super().close()
        self._flush()


def _parse(html: str) -> list[Paragraph]:
    return [Paragraph(text, level) for level, _inner, text in _blocks(html)]


def _blocks(html: str) -> list[tuple[int, str, str]]:
    parser = _BlockParser()
    parser.feed(html)
    parser.close()
    return parser.blocks


def _inline_blocks(html: str) -> list[str]:
    return [inner for _level, inner, _text in _blocks(html)]


def paragraphs_to_html(paragraphs: list[Paragraph], inline_html: list[str] | None = None) -> str:
    parts = []
    for i, paragraph in enumerate(paragraphs):
        tag = "p" if paragraph.level == 0 else f"h{paragraph.level}"
        inner = inline_html[i] if inline_html and i < len(inline_html) else html_lib.escape(paragraph.text,
                                                                                             quote=False)
        inner = nh3.clean(inner, tags={"strong", "em", "u"}, attributes={})
        parts.append(f"<{tag}>{inner}</{tag}>")
    return "".join(parts)


def html_to_text(html: str) -> str:
    return "\n".join(p.text for p in _parse(html or ""))


def html_to_blocks(html: str):
    """The renderer's blocks (documents.pdf.Block: text, level)."""
    from .pdf import Block

    return [Block(text=p.text, level=p.level) for p in _parse(html or "")]


def text_to_html(text: str) -> str:
    """Plain text (API clients): a paragraph per line; headings recognised by their numbering."""
    paragraphs = []
    for line in _normalise(text or "").split("\n"):
        line = line.strip()
        if line:
            paragraphs.append(Paragraph(line, heading_level(line)))
    return paragraphs_to_html(paragraphs)


# --- .docx ---------------------------------------------------------------------------------------------------------

def docx_to_html(data: bytes) -> str:
    """An uploaded .docx to the body's structure: Heading 1–4 styles, or the numbering prefixes, give the levels."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ServiceError("document.docx_invalid", "这是旧版 Word（.doc）文件，请在 Word 或 WPS 中另存为 .docx 后再上传")
    if len(data) > MAX_DOCX:
        raise ServiceError("document.docx_invalid", "正文文件过大（超过 100 MB）")
    try:
        import docx

        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise ValueError("not a docx")
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_DOCX:
                raise ValueError("too large when unpacked")
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 — any failure to read is the same answer to the user
        raise ServiceError("document.docx_invalid", "无法读取该正文文件，请确认是 Word 2007 及以上版本保存的 .docx 文件"
                                                    "（未加密、未损坏）") from exc
    paragraphs: list[Paragraph] = []
    for block in _docx_blocks(document):
        paragraphs.extend(block)
    return paragraphs_to_html(paragraphs)


def _docx_blocks(document):
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = DocxParagraph(child, document)
            text = _normalise(paragraph.text).strip()
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            match = re.match(r"(?i)^(heading|标题)\s*(\d)", style)
            level = int(match.group(2)) if match and 1 <= int(match.group(2)) <= 4 else heading_level(text)
            yield [Paragraph(text, level)]
        elif tag == "tbl":
            rows = []
            for row in Table(child, document).rows:
                cells = [_normalise(c.text).strip() for c in row.cells]
                if any(cells):
                    rows.append(Paragraph("　".join(dict.fromkeys(cells)), 0))
            yield rows


# --- versions ------------------------------------------------------------------------------------------------------

def diff_versions(old_html: str, new_html: str) -> str:
    """A readable diff: paragraphs matched as a whole, changed ones character by character (Chinese has no spaces)."""
    old, new = [p.text for p in _parse(old_html or "")], [p.text for p in _parse(new_html or "")]
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            out.extend(f'<p class="same">{html_lib.escape(t, quote=False)}</p>' for t in old[a0:a1])
        elif op == "delete":
            out.extend(f'<p class="removed"><del>{html_lib.escape(t, quote=False)}</del></p>' for t in old[a0:a1])
        elif op == "insert":
            out.extend(f'<p class="added"><ins>{html_lib.escape(t, quote=False)}</ins></p>' for t in new[b0:b1])
        else:
            pairs = max(a1 - a0, b1 - b0)
            for i in range(pairs):
                a = old[a0 + i] if a0 + i < a1 else ""
                b = new[b0 + i] if b0 + i < b1 else ""
                out.append(f'<p class="changed">{_char_diff(a, b)}</p>')
    return "".join(out)


def _char_diff(a: str, b: str) -> str:
    parts = []
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(html_lib.escape(a[a0:a1], quote=False))
        if op in ("delete", "replace"):
            parts.append(f"<del>{html_lib.escape(a[a0:a1], quote=False)}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{html_lib.escape(b[b0:b1], quote=False)}</ins>")
    return "".join(parts)


def _essence(text: str) -> str:
    """Text without whitespace, with full-/half-width forms folded: what a reader would call the same words."""
    folded = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", "", folded)


def is_substantive_change(old_text: str, new_text: str) -> bool:
    """R1.5: whitespace and full/half-width differences are not substantive; any other changed character is."""
    return _essence(old_text) != _essence(new_text)


# --- R1.8 ----------------------------------------------------------------------------------------------------------

_LEVEL = r"(绝密|机密|秘密)"
_MARKS = [
    re.compile(_LEVEL + r"\s*[★☆✩✪⭐\*]"),  # 秘密★1年, 机密 ★ 长期, 绝密*
    re.compile(r"密\s*级\s*[：:]\s*" + _LEVEL),  # 密级：秘密
    re.compile(r"(?m)^\s*" + _LEVEL + r"\s*$"),  # the level alone on a line (the top-left corner of a 公文)
    re.compile(r"(?m)^\s*" + _LEVEL + r"\s*[（(]?\s*\d+\s*年\s*[）)]?\s*$"),  # 秘密 10年 on its own line
]


def find_classification_mark(text: str) -> str | None:
    """The first classification mark of R1.8 in the text (e.g. "秘密★"), or None. Running text that merely mentions
    secrets (保守国家秘密, 秘密选举, 涉密) is not a mark."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u2606", "★")
    for pattern in _MARKS:
        match = pattern.search(text)
        if match:
            return match.group(0).strip()
    return None
