#!/usr/bin/env bash
# Release-build benchmarks beside the reference peers; rewrites BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
ONTRACK_PEERS_PYTHON=$(Scripts/install-peers.sh)
export ONTRACK_PEERS_PYTHON
swift build -c release --product ontrack
ontrack=.build/release/ontrack
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`Scripts/bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m), $(swift --version 2>&1 | head -1))."
  echo "Release build, one thread, medians; the peers run in the same script on the same files."
  echo
  echo "## Forward kinematics"
  echo
  echo "Command: \`.build/release/ontrack bench fk\` (peers: \`bench_peers.py --bvh FILE --skip-dtw\`)."
  echo
  "$ontrack" bench fk
} > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
echo "wrote BENCHMARKS.md"
