"""The seal image (印模): a red round seal drawn with Pillow — ring, five-pointed star, the unit's name set clockwise on
the upper arc and an optional horizontal line under the star (e.g. 公文专用章) — as a transparent PNG.

It is drawn once, when the seal is made, and stored on the seal; 用印 stamps the stored image."""
from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

SEAL_RED = (230, 0, 18, 255)
SEAL_MM = 42.0  # the usual diameter of a 机关 seal
DPI = 300
# (path, face index): index 2 of the Noto CJK collections is the Simplified Chinese face
FONTS = (("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
         ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
         ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2))


@lru_cache(maxsize=1)
def font_file() -> tuple[str, int]:
    """The first CJK font found: Noto CJK from Debian, else the Fandol fonts the project installs in FONT_DIR."""
    from django.conf import settings

    candidates = list(FONTS)
    font_dir = Path(getattr(settings, "FONT_DIR", "var/fonts"))
    candidates += [(str(font_dir / name), 0) for name in ("FandolSong-Bold.ttf", "FandolHei-Regular.ttf")]
    for path, index in candidates:
        if Path(path).exists():
            return path, index
    raise FileNotFoundError("no CJK font for the seal image: install fonts-noto-cjk or run scripts/install-fonts.sh")


def _star(centre: float, radius: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        angle = -math.pi / 2 + i * math.pi / 5
        r = radius if i % 2 == 0 else radius * 0.382
        points.append((centre + r * math.cos(angle), centre + r * math.sin(angle)))
    return points


def _arc_layout(n: int) -> tuple[float, float]:
    """(glyph size as a share of the diameter, degrees the name spans): short names large and spread, long names
    smaller and closer, never beyond 260° so the bottom stays open as on a real seal."""
    size = 0.135 if n <= 8 else 0.12 if n <= 12 else 0.10 if n <= 16 else 0.085 if n <= 20 else 0.07
    return size, min(260.0, max(150.0, n * size * 175))


def draw_seal(name: str, caption: str = "", *, diameter_mm: float = SEAL_MM, dpi: int = DPI) -> bytes:
    """The PNG bytes of a round red seal for `name` (transparent outside the ink)."""
    from PIL import Image, ImageDraw, ImageFont

    name = (name or "").strip() or "印章"
    ss = 2  # drawn at twice the size, then scaled down: smooth edges
    size = round(diameter_mm / 25.4 * dpi) * ss
    img = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    centre, ring = size / 2, size * 0.04
    draw.ellipse([ring / 2, ring / 2, size - ring / 2, size - ring / 2], outline=SEAL_RED, width=round(ring))
    draw.polygon(_star(centre, size * 0.16), fill=SEAL_RED)
    path, index = font_file()
    share, span = _arc_layout(len(name))
    font_px = round(size * share)
    font = ImageFont.truetype(path, font_px, index=index)
    r_text = centre - ring * 1.6 - font_px * 0.62
    for i, ch in enumerate(name):
        theta = -span / 2 + span * (i + 0.5) / len(name)  # 0° = top, clockwise
        glyph = Image.new("RGBA", (font_px * 2, font_px * 2), (255, 255, 255, 0))
        # glyphs slightly narrower than tall, as seal engravers cut them
        ImageDraw.Draw(glyph).text((font_px, font_px), ch, font=font, fill=SEAL_RED, anchor="mm")
        glyph = glyph.resize((round(font_px * 1.7), font_px * 2), Image.LANCZOS)
        glyph = glyph.rotate(-theta, resample=Image.BICUBIC, expand=True)
        t = math.radians(theta)
        x, y = centre + r_text * math.sin(t), centre - r_text * math.cos(t)
        img.alpha_composite(glyph, (round(x - glyph.width / 2), round(y - glyph.height / 2)))
    if caption:
        small_px = round(size * (0.085 if len(caption) <= 5 else 0.07))
        small = ImageFont.truetype(path, small_px, index=index)
        draw.text((centre, centre + size * 0.29), caption, font=small, fill=SEAL_RED, anchor="mm")
    out = io.BytesIO()
    img.resize((size // ss, size // ss), Image.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
