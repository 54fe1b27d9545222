#!/usr/bin/env bash
# Vendor the bpmn-js browser bundles (modeler for the process designer, navigated viewer for the task
# page's flow diagram) into src/zhengtong/flow/static/flow/vendor/bpmn-js/. No CDN: government intranets
# have no internet, and the CSP only allows 'self'.
#
# Usage: scripts/vendor-bpmn-js.sh            (needs node/npm and a reachable npm registry)
# To update: change VERSION and INTEGRITY (from `npm view bpmn-js@<v> dist.integrity`), run, review the
# diff, run `pytest -q tests/test_vendor_bpmn_js.py`, commit the files and VERSION.txt together.
set -euo pipefail

VERSION="18.31.1"
INTEGRITY="sha512-Hc7LzrgwfcBRUAdI/380Q2v1MJ115atGEVGadawLfDbHdo+r+IkmNj8fuYPFmWglUYt1KYIaC46OeX16HGTKQw=="

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$REPO/src/zhengtong/flow/static/flow/vendor/bpmn-js"
FILES=(
  LICENSE
  dist/bpmn-modeler.production.min.js
  dist/bpmn-navigated-viewer.production.min.js
  dist/assets/diagram-js.css
  dist/assets/bpmn-js.css
  dist/assets/bpmn-font/css/bpmn.css
  dist/assets/bpmn-font/font/bpmn.eot
  dist/assets/bpmn-font/font/bpmn.svg
  dist/assets/bpmn-font/font/bpmn.ttf
  dist/assets/bpmn-font/font/bpmn.woff
  dist/assets/bpmn-font/font/bpmn.woff2
)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# npm pack fetches the published tarball only (no dependencies: the dist bundles are self-contained).
(cd "$WORK" && npm pack --silent "bpmn-js@$VERSION" >/dev/null)
TARBALL="$WORK/bpmn-js-$VERSION.tgz"
ACTUAL="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | base64 -w0)"
if [ "$ACTUAL" != "$INTEGRITY" ]; then
  echo "integrity mismatch for bpmn-js@$VERSION: got $ACTUAL, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$TARBALL" -C "$WORK"

rm -rf "$DEST"
mkdir -p "$DEST"
for file in "${FILES[@]}"; do
  target="$DEST/${file#dist/}"
  mkdir -p "$(dirname "$target")"
  cp "$WORK/package/$file" "$target"
done

{
  echo "bpmn-js $VERSION"
  echo "source: npm pack bpmn-js@$VERSION ($INTEGRITY)"
  echo "written by scripts/vendor-bpmn-js.sh; do not edit the vendored files by hand"
  echo
  echo "sha256 of each vendored file:"
  (cd "$DEST" && find . -type f ! -name VERSION.txt | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum)
} > "$DEST/VERSION.txt"

cat "$DEST/VERSION.txt"
