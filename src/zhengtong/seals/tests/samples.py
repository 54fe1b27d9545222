"""Sample PDFs for the seal tests and the benchmark, made with reportlab (independent of the 公文 renderer): pages of
text with the issuing body's name and the date at the bottom right of the last page, where the seal goes."""
from __future__ import annotations

import io
from pathlib import Path

MM = 72 / 25.4
SEAL_MM = 42


def _font(canvas) -> str:
    """An embedded CJK TrueType font when the project's fonts are installed (Fandol), else a standard CID font."""
    from django.conf import settings
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(settings.FONT_DIR) / "FandolSong-Bold.ttf"
    if path.exists():
        if "sample-song" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("sample-song", str(path)))
        return "sample-song"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def notice_pdf(unit: str = "示范市人民政府", pages: int = 3) -> tuple[bytes, int, tuple[float, float, float, float]]:
    """(pdf, page index of the seal, seal box in PDF points): the seal centred over the 署名 and the date."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    font = _font(c)
    width, height = A4
    for number in range(1, pages + 1):
        c.setFont(font, 22)
        if number == 1:
            c.drawCentredString(width / 2, height - 60 * MM, f"{unit}关于做好冬季安全生产工作的通知")
        c.setFont(font, 16)
        y = height - 80 * MM
        for line in range(12):
            c.drawString(28 * MM, y, f"（{line + 1}）各单位要切实提高思想认识，加强组织领导。")
            y -= 9 * MM
        c.drawCentredString(width / 2, 15 * MM, f"— {number} —")
        if number < pages:
            c.showPage()
    signature_x, signature_y = width - 60 * MM, 70 * MM
    c.setFont(font, 16)
    c.drawCentredString(signature_x, signature_y, unit)
    c.drawCentredString(signature_x, signature_y - 9 * MM, "2026年11月27日")
    c.save()
    r = SEAL_MM / 2 * MM
    cy = signature_y - 3 * MM
    return out.getvalue(), pages - 1, (signature_x - r, cy - r, signature_x + r, cy + r)
