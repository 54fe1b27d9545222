"""The renderer's input and output (the contract with the documents app), and the text clean-up applied first."""
from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from dataclasses import dataclass, field


@dataclass
class Block:
    """One body paragraph. level 0: text (空二字); 1: "一、" 黑体; 2: "（一）" 楷体; 3: "1." and 4: "（1）" 仿宋."""

    text: str
    level: int = 0


@dataclass
class PdfDocument:
    title: str
    body: list[Block] = field(default_factory=list)
    format: str = "document"  # "document" 文件格式 | "letter" 信函格式 (GB/T 9704 §10.1)
    copy_number: str = ""  # 份号
    classification: str = ""  # 密级 (only 内部 exists on this platform)
    secrecy_period: str = ""
    urgency: str = ""  # 特急 | 加急
    issuer_marks: list[str] = field(default_factory=list)  # 发文机关标志; several = 联合行文
    doc_number: str = ""
    signers: list[str] = field(default_factory=list)  # 签发人 (上行文)
    main_recipients: str = ""
    attachment_notes: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)  # 发文机关署名, one per issuing body
    date: dt.date | None = None  # 成文日期
    sealed: bool = True
    note: str = ""  # 附注
    copy_to: list[str] = field(default_factory=list)
    printing_unit: str = ""
    printing_date: dt.date | None = None


@dataclass
class SealBox:
    page: int  # 0-based
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF points, origin bottom-left


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    seal_boxes: list[SealBox]
    fonts: dict[str, str]  # style → font actually used


def chinese_date(value: dt.date | None) -> str:
    """R2.4: Arabic numerals, no zero padding: 2026年1月5日."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def clean(text: str) -> str:
    """U+2015 (what Python's gb2312 codec makes of 破折号) → U+2014, which every font has; control and format
    characters (tabs, line breaks, zero-width spaces, BOM) dropped; surrounding spaces (incl. 全角 indents typed
    by hand — the renderer indents itself) stripped. Nothing is refused: the documents app validates."""
    text = text.replace("\u2015", "\u2014")
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def normalised(doc: PdfDocument) -> PdfDocument:
    return dataclasses.replace(
        doc,
        title=clean(doc.title),
        body=[Block(clean(b.text), b.level) for b in doc.body if clean(b.text)],
        copy_number=clean(doc.copy_number), classification=clean(doc.classification),
        secrecy_period=clean(doc.secrecy_period), urgency=clean(doc.urgency),
        issuer_marks=[m for m in map(clean, doc.issuer_marks) if m], doc_number=clean(doc.doc_number),
        signers=[s for s in map(clean, doc.signers) if s], main_recipients=clean(doc.main_recipients),
        attachment_notes=[a for a in map(clean, doc.attachment_notes) if a],
        signature=[s for s in map(clean, doc.signature) if s], note=clean(doc.note),
        copy_to=[u for u in map(clean, doc.copy_to) if u], printing_unit=clean(doc.printing_unit),
    )
