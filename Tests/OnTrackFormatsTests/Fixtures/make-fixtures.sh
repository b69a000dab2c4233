#!/usr/bin/env bash
# Regenerates the committed reference fixtures from the independent peers in ../shared/peers.
# Run from the repository root with the peers' Python (see README, "Reference peers").
set -euo pipefail
python=${ONTRACK_PEERS_PYTHON:-/tmp/peers-venv/bin/python}
peers=../shared/peers
here=Tests/OnTrackFormatsTests/Fixtures

# Six frames from the middle of every shared BVH file, world positions by scipy (float64).
for f in ../shared/data/bvh/*/*.bvh; do
  name=$(basename "$f" .bvh)
  frames=$(grep -m1 -E '^\s*Frames' "$f" | tr -dc '0-9')
  mid=$((frames / 2))
  "$python" "$peers/bvh_fk_reference.py" "$f" --frames "$mid:$((mid + 6))" \
    --out "$here/fk-reference/$name.csv" 2>/dev/null
done

# Random skeletons in every rotation order, 6-channel joints, hostile whitespace; the "free"
# layout wraps frames over lines and glues braces to names.
for seed in 1 2 3 4 5 6; do
  layout=lines
  [ $((seed % 2)) -eq 0 ] && layout=free
  "$python" "$peers/gen_random_bvh.py" --seed "$seed" --frames 12 --layout "$layout" \
    --out "$here/random/random_$seed.bvh"
  "$python" "$peers/bvh_fk_reference.py" "$here/random/random_$seed.bvh" --parser builtin \
    --out "$here/random/random_$seed.fk.csv" 2>/dev/null
done
