"""GB/T 9704-2012 PDF output (R2): `render(PdfDocument) -> RenderResult`. See docs/gbt9704-notes.md."""
from .fonts import FontsMissing
from .model import Block, PdfDocument, RenderResult, SealBox, chinese_date
from .render import render

__all__ = ["Block", "PdfDocument", "RenderResult", "SealBox", "FontsMissing", "chinese_date", "render"]
