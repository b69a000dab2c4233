#!/usr/bin/env bash
# The main job: a patient session on a bundled exercise with a simulated patient.
# With a display it opens the avatar window (ontrack play --simulate); without one it renders the
# session headless to PNG frames (and an animated GIF with ffmpeg) and prints where they are.
#   Scripts/demo.sh [EXERCISE-ID]      (default: uiprmd-m07-shoulder-abduction)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
exercise=${1:-uiprmd-m07-shoulder-abduction}
swift build -c release --product ontrack
ontrack=.build/release/ontrack
echo "== the exercise library"
"$ontrack" exercises list
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "== opening the avatar window (press ? for keys, Esc to quit)"
  exec "$ontrack" play --simulate --exercise "$exercise"
fi
echo "== no display: rendering the session headless"
rm -rf out/demo && mkdir -p out/demo
"$ontrack" render --simulate --exercise "$exercise" --frames out/demo/frames --fps 8 --duration 30
"$ontrack" render --simulate --exercise "$exercise" --at 9 --out out/demo/feedback.png
"$ontrack" render --simulate --exercise "$exercise" --at 120 --out out/demo/summary.png
if command -v ffmpeg >/dev/null 2>&1; then
  ffmpeg -loglevel error -y -framerate 8 -i out/demo/frames/frame_%05d.png \
    -vf "scale=480:-1:flags=lanczos,split[a][b];[a]palettegen=max_colors=64[p];[b][p]paletteuse" \
    out/demo/session.gif
  echo "wrote out/demo/session.gif (the first 30 s, 8 frames a second)"
fi
echo "wrote out/demo/frames/ (PNG sequence), out/demo/feedback.png, out/demo/summary.png"
echo "the same scores as text: $ontrack score --exercise $exercise <take.bvh>"
