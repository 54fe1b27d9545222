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
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from zhengtong.core.errors import ServiceError

BLOCK_TAGS = {"p": 0, "h1": 1, "h2": 2, "h3": 3, "h4": 4}
# Other block elements (pasted from web pages or Word's HTML) only end a paragraph: their text becomes body text.
BREAK_TAGS = {"div", "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "section", "article", "header", "footer",
              "aside", "main", "nav", "pre", "address", "figure", "figcaption", "caption", "h5", "h6", "hr"}
INLINE_TAGS = ("strong", "em", "u")
# Tables pass the sanitizer only so that the parser sees their rows: each row becomes one body paragraph (cells
# separated by a full-width space), because a GB/T 9704 body is paragraphs and the PDF renderer has no tables.
ALLOWED_TAGS = {"p", "h1", "h2", "h3", "h4", *INLINE_TAGS, "br", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
                *BREAK_TAGS}
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
    text = text.replace("\u2015", "\u2014").replace("\r\n", "\n").replace("\r", "\n")
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


_INNER_BREAK = re.compile(r"[ \t]*\n[ \t\n]*")
_EMPTY_INLINE = re.compile(r"<(strong|em|u)>\s*</\1>")


def _trim_inner(inner: str) -> str:
    """The block's inline HTML trimmed like its text (also inside leading/trailing tags), empty inline tags dropped:
    what makes sanitize_html idempotent."""
    while True:
        shorter = _EMPTY_INLINE.sub("", inner)
        if shorter == inner:
            break
        inner = shorter
    inner = re.sub(r"^((?:<[^>]+>)*)\s+", r"\1", inner)
    return re.sub(r"\s+((?:<[^>]+>)*)$", r"\1", inner)


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
            self.blocks.append((self._level or 0, _trim_inner("".join(self._inner)), text))
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
        elif tag in BREAK_TAGS or tag == "br":
            if not self._table_depth:
                self._flush()
        elif tag in INLINE_TAGS and not self._table_depth:
            self._inner.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table_depth = max(0, self._table_depth - 1)
        elif self._table_depth and tag == "tr":
            cells = [c.strip() for c in self._row]
            if any(cells):  # a table row becomes one paragraph, cells separated by spaces (the PDF has no tables)
                text = "　".join(cells)
                self.blocks.append((0, html_lib.escape(text, quote=False), text))
        elif (tag in BLOCK_TAGS or tag in BREAK_TAGS) and not self._table_depth:
            self._flush()
        elif tag in INLINE_TAGS and not self._table_depth:
            self._inner.append(f"</{tag}>")

    def handle_data(self, data):
        data = _normalise(data)
        if self._table_depth:
            if self._row:
                self._row[-1] += _INNER_BREAK.sub(" ", data)
            return
        if self._level is not None:  # inside a block a line break is layout of the HTML source, not a new paragraph
            data = _INNER_BREAK.sub(" ", data)
        elif "\n" in data:
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
        inner = _trim_inner(nh3.clean(inner, tags=set(INLINE_TAGS), attributes={}))  # balances split inline tags
        parts.append(f"<{tag}>{inner}</{tag}>")
    return "".join(parts)


def display_html(html: str) -> str:
    """The body inside a web page: each block a <p> with its level as a class (doc-l1…doc-l4), text re-escaped."""
    parts = []
    for level, inner, _text in _blocks(html or ""):
        inner = nh3.clean(inner, tags={"strong", "em", "u"}, attributes={})
        parts.append(f'<p class="doc-l{level}">{inner}</p>' if level else f"<p>{inner}</p>")
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
    """An uploaded .docx to the body's structure: Heading 1–4 styles (标题 1–4), or the numbering prefixes, give the
    levels; each table row becomes a paragraph. Anything that is not a readable .docx is refused with what to do."""
    from .files import OLE, open_zip

    if data[:8] == OLE:  # an OLE container: old binary Word, or a .docx that Word encrypted with a password
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise ServiceError("document.docx_invalid", "该 .docx 文件设置了打开密码，请取消密码保护后重新上传")
        raise ServiceError("document.docx_invalid", "这是旧版 Word（.doc）文件，请在 Word 或 WPS 中另存为 .docx 后再上传")
    if len(data) > MAX_DOCX:
        raise ServiceError("document.docx_invalid", "正文文件过大（超过 100 MB），请删去其中的图片后再上传")
    try:
        import docx

        with open_zip(data) as archive:
            if "word/document.xml" not in archive.namelist():
                raise ValueError("not a docx")
        document = docx.Document(io.BytesIO(data))
        paragraphs = [paragraph for block in _docx_blocks(document) for paragraph in block]
    except Exception as exc:  # noqa: BLE001 — any failure to read is the same answer to the user
        raise ServiceError("document.docx_invalid", "无法读取该正文文件，请确认是 Word 2007 及以上版本保存的 .docx 文件"
                                                    "（未加密、未损坏）") from exc
    return paragraphs_to_html(paragraphs)


def _docx_blocks(document):
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = DocxParagraph(child, document)
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            match = re.match(r"(?i)^(heading|标题)\s*(\d)", style)
            styled = int(match.group(2)) if match and 1 <= int(match.group(2)) <= 4 else 0
            lines = [line.strip() for line in _normalise(paragraph.text).split("\n")]  # soft breaks (Shift+Enter)
            yield [Paragraph(line, styled or heading_level(line)) for line in lines if line]
        elif tag == "tbl":
            rows = []
            for row in Table(child, document).rows:
                unique = {id(c._tc): c for c in row.cells}.values()  # a merged cell repeats in every column it spans
                cells = [_INNER_BREAK.sub(" ", _normalise(c.text)).strip() for c in unique]
                if any(cells):
                    rows.append(Paragraph("　".join(cells), 0))
            yield rows


# --- versions ------------------------------------------------------------------------------------------------------

LEVEL_NAMES = {0: "正文", 1: "一级标题", 2: "二级标题", 3: "三级标题", 4: "四级标题"}


def _esc(text: str) -> str:
    return html_lib.escape(text, quote=False)


def diff_versions(old_html: str, new_html: str) -> str:
    """A readable diff (痕迹): paragraphs matched as a whole, changed ones character by character (Chinese has no
    spaces, so words cannot be the unit). Every text is escaped; the markup is <p class=…> with <ins>/<del>."""
    old, new = _parse(old_html or ""), _parse(new_html or "")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=[p.text for p in old], b=[p.text for p in new], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for a, b in zip(old[a0:a1], new[b0:b1], strict=True):
                out.append(_paragraph_diff(a, b) if a.level != b.level else f'<p class="same">{_esc(a.text)}</p>')
        elif op == "delete":
            out.extend(f'<p class="removed"><del>{_esc(p.text)}</del></p>' for p in old[a0:a1])
        elif op == "insert":
            out.extend(f'<p class="added"><ins>{_esc(p.text)}</ins></p>' for p in new[b0:b1])
        else:
            for i in range(max(a1 - a0, b1 - b0)):
                a = old[a0 + i] if a0 + i < a1 else None
                b = new[b0 + i] if b0 + i < b1 else None
                if a is None:
                    out.append(f'<p class="added"><ins>{_esc(b.text)}</ins></p>')
                elif b is None:
                    out.append(f'<p class="removed"><del>{_esc(a.text)}</del></p>')
                else:
                    out.append(_paragraph_diff(a, b))
    return "".join(out)


def _paragraph_diff(a: Paragraph, b: Paragraph) -> str:
    restyled = ""
    if a.level != b.level:  # a paragraph made a heading (or back) is a change too, though no character moved
        restyled = f'<span class="restyled">［{LEVEL_NAMES[a.level]}→{LEVEL_NAMES[b.level]}］</span>'
    return f'<p class="changed">{restyled}{_char_diff(a.text, b.text)}</p>'


def _char_diff(a: str, b: str) -> str:
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if a != b and matcher.ratio() < 0.3:  # rewritten rather than edited: old then new reads better than confetti
        return f"<del>{_esc(a)}</del><ins>{_esc(b)}</ins>"
    parts = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            parts.append(_esc(a[a0:a1]))
        if op in ("delete", "replace"):
            parts.append(f"<del>{_esc(a[a0:a1])}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{_esc(b[b0:b1])}</ins>")
    return "".join(parts)


# Punctuation that differs between full- and half-width typing but not in meaning (NFKC folds ，．：；（）！？ already).
_SAME_PUNCTUATION = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "。": ".", "～": "~"})


def _essence(text: str) -> str:
    """Text without whitespace, with full-/half-width forms folded: what a reader would call the same words."""
    folded = unicodedata.normalize("NFKC", text or "").translate(_SAME_PUNCTUATION)
    return re.sub(r"\s+", "", folded)


def is_substantive_change(old_text: str, new_text: str) -> bool:
    """R1.5: whitespace, line breaks and full-/half-width forms of the same punctuation or digits are not
    substantive; any other changed character is (a word, a number, a punctuation mark added or removed)."""
    return _essence(old_text) != _essence(new_text)


# --- R1.8 ----------------------------------------------------------------------------------------------------------
# The marks of GB/T 9704 7.2.2: the level in the top-left corner, with "★" and the period when there is one
# (秘密★1年, 机密★长期); forms seen in practice: spaces (秘 密 ★ 1 年), hollow or ASCII stars, "密级：秘密" in a
# form or table. Running text that merely talks about secrets (保守国家秘密, 秘密选举, 涉密人员) carries no mark.

_S = r"[ \t]*"  # spaces within one line (NFKC has made U+3000 a space)
_LEVEL = rf"(?:绝{_S}密|机{_S}密|秘{_S}密)"
_PERIOD = rf"(?:\d+{_S}(?:个{_S}月|年|月|日|天)|长{_S}期)"
_MARKS = [
    re.compile(rf"{_LEVEL}{_S}[★☆✩✪✫✬✭✮✯✰⭐*](?:{_S}{_PERIOD})?"),  # 秘密★1年, 机密 ★ 长期, 绝密*
    re.compile(rf"密{_S}级{_S}[：:]?{_S}{_LEVEL}"),  # 密级：秘密, 密级 机密 (a table row flattened)
    re.compile(rf"(?m)^{_S}(?:\d{{6}}{_S})?{_LEVEL}{_S}(?:{_PERIOD}{_S})?$"),  # the level alone on its line, 000001 机密
]


def find_classification_mark(text: str) -> str | None:
    """The first classification mark of R1.8 in the text (e.g. "秘密★1年"), or None. Running text that merely
    mentions secrets (保守国家秘密, 秘密选举, 涉密, 商业秘密) is not a mark."""
    text = unicodedata.normalize("NFKC", text or "")
    found = [(m.start(), m) for pattern in _MARKS if (m := pattern.search(text))]
    if not found:
        return None
    _start, match = min(found, key=lambda f: f[0])
    return match.group(0).strip()
