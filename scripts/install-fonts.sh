#!/usr/bin/env bash
# Fonts for GB/T 9704 PDFs (R2.4): the free Fandol 仿宋/宋(粗, for 小标宋)/黑/楷 from Debian's texlive-lang-chinese,
# converted to TrueType for ReportLab into var/fonts (or $FONT_DIR). Idempotent; converted fonts are cached in
# ~/.cache/zhengtong/fonts so a fresh clone does not convert again (~12 s per font).
# Licence: GPL with font exception (documents that embed the fonts are not covered by the GPL); see var/fonts/README.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEST=${FONT_DIR:-var/fonts}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/zhengtong/fonts
FILES=(FandolFang-Regular FandolSong-Bold FandolHei-Regular FandolKai-Regular)
mkdir -p "$DEST" "$CACHE"

have_all() { for f in "${FILES[@]}"; do [ -s "$1/$f.ttf" ] || return 1; done; }

if have_all "$DEST"; then exit 0; fi
if ! have_all "$CACHE"; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  src=/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol
  if [ ! -f "$src/FandolFang-Regular.otf" ]; then
    # only the four .otf files are needed: download the package and unpack it, never install texlive
    (cd "$work" && apt-get download texlive-lang-chinese >/dev/null 2>&1) || {
      apt-get update -qq >/dev/null && (cd "$work" && apt-get download texlive-lang-chinese >/dev/null); }
    dpkg-deb -x "$work"/texlive-lang-chinese_*.deb "$work/root"
    src="$work/root/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"
    cp "$work"/root/usr/share/doc/texlive-lang-chinese/copyright "$CACHE/COPYRIGHT" 2>/dev/null || true
  fi
  echo "Converting the Fandol fonts to TrueType (about a minute, once)…"
  PYTHONPATH=src "$PY" -c "import sys; from pathlib import Path; sys.argv=['x']; \
from zhengtong.documents.pdf.fonts import convert; convert(Path('$src'), Path('$CACHE'))"
fi
for f in "${FILES[@]}"; do cp "$CACHE/$f.ttf" "$DEST/"; done
[ -f "$CACHE/COPYRIGHT" ] && cp "$CACHE/COPYRIGHT" "$DEST/COPYRIGHT"
cat > "$DEST/README" <<'TXT'
Fandol fonts (FandolFang, FandolSong Bold, FandolHei, FandolKai) from Debian's texlive-lang-chinese,
converted from CFF OpenType to TrueType outlines by scripts/install-fonts.sh.
Licence: GNU GPL with font exception — documents that embed these fonts are not themselves covered by the GPL.
Put licensed TrueType files here to use them instead (see src/zhengtong/documents/pdf/fonts.py for the names).
TXT
echo "Fonts ready in $DEST"
