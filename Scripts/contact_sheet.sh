#!/usr/bin/env bash
# Regenerates docs/backpain-contact-sheet.png: every authored low-back-pain reference, front
# and side, 4 instants each. Uses the camera helper's Python (matplotlib comes with MediaPipe).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product ontrack
bash Scripts/camera/install.sh >/dev/null
tmp=$(mktemp -d)
variant=${1:-reference}
.build/debug/ontrack exercises author-backpain --out "$tmp" --variant "$variant" >/dev/null
out=docs/backpain-contact-sheet.png
[ "$variant" = reference ] || out=docs/backpain-contact-sheet-$variant.png
.build/camera-venv/bin/python Scripts/contact_sheet.py .build/debug/ontrack "$tmp" "$out"
rm -rf "$tmp"
