#!/usr/bin/env bash
# The main job (for now): build ontrack and run it on the bundled example clip.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
swift build -c release --product ontrack
ontrack=.build/release/ontrack
clip=Assets/examples/squat_demo.bvh
echo "== ontrack inspect $clip"
"$ontrack" inspect "$clip"
echo
echo "== ontrack fk $clip --frames 60:61   (deepest point of the first squat, centimetres)"
"$ontrack" fk "$clip" --frames 60:61
mkdir -p out
"$ontrack" fk "$clip" --csv --out out/squat_demo_positions.csv
"$ontrack" convert "$clip" out/squat_demo_angles.csv
echo
echo "wrote out/squat_demo_positions.csv (world positions) and out/squat_demo_angles.csv (joint angles)"
