#!/usr/bin/env bash
# Builds the BVH reader with libFuzzer + AddressSanitizer and runs it.
#   Fuzz/run.sh [SECONDS] [extra libFuzzer flags...]     (default 300 s)
# Seeds: every BVH in ../shared/data/bvh and the test fixtures; new inputs go to
# Fuzz/corpus-work/ (ignored by git); crashes are written to Fuzz/.out/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
out=.build-fuzz
mkdir -p "$out" Fuzz/corpus-work Fuzz/.out
flags=(-sanitize=fuzzer,address -parse-as-library -g -O -swift-version 6)
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name OnTrackKinematics \
  -emit-module-path "$out/OnTrackKinematics.swiftmodule" -o "$out/libOnTrackKinematics.a" \
  Sources/OnTrackKinematics/*.swift
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name OnTrackFormats -I "$out" \
  -emit-module-path "$out/OnTrackFormats.swiftmodule" -o "$out/libOnTrackFormats.a" \
  Sources/OnTrackFormats/*.swift
swiftc "${flags[@]}" -I "$out" -L "$out" -lOnTrackFormats -lOnTrackKinematics \
  Fuzz/BVHReaderFuzzer.swift -o "$out/bvh-fuzzer"
seeds=Fuzz/seeds
mkdir -p "$seeds"
find ../shared/data/bvh Tests/OnTrackFormatsTests/Fixtures/random -name '*.bvh' -size -200k \
  -exec cp {} "$seeds/" \; 2>/dev/null || true
export SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0
exec "$out/bvh-fuzzer" Fuzz/corpus-work "$seeds" -max_total_time="$seconds" -max_len=262144 \
  -rss_limit_mb=2048 -timeout=10 -artifact_prefix=Fuzz/.out/ -print_final_stats=1 "$@"
