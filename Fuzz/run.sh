#!/usr/bin/env bash
# Builds a fuzz target with libFuzzer + AddressSanitizer and runs it.
#   Fuzz/run.sh [SECONDS] [extra libFuzzer flags...]     (default 300 s)
#   FUZZ_TARGET=device Fuzz/run.sh 300                   (Axis Neuron lines and VMC/OSC packets)
#   FUZZ_TARGET=frames Fuzz/run.sh 600                   (WebSocket JSON stream frames)
#   FUZZ_TARGET=api Fuzz/run.sh 600                      (HTTP API request bodies)
#   FUZZ_TARGET=keypoints Fuzz/run.sh 600                (keypoint CSV, JSON lines, TRC, Vicon)
# Seeds for the BVH reader: every BVH in ../shared/data/bvh and the test fixtures; for the
# others, the committed corpus in Fuzz/corpus/<target>/. New inputs go to
# Fuzz/corpus-work[-target]/ (ignored by git); crashes are written to Fuzz/.out/. After a long
# run, `FUZZ_MERGE=1` merges what was found into the committed corpus (minimised).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
out=.build-fuzz
mkdir -p "$out" Fuzz/corpus-work Fuzz/.out
flags=(-sanitize=fuzzer,address -parse-as-library -g -O -swift-version 6)
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name OnTrackKinematics \
  -emit-module-path "$out/OnTrackKinematics.swiftmodule" -o "$out/libOnTrackKinematics.a" \
  $(find Sources/OnTrackKinematics -name '*.swift')
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name OnTrackFormats -I "$out" \
  -I Sources/CZlib \
  -emit-module-path "$out/OnTrackFormats.swiftmodule" -o "$out/libOnTrackFormats.a" \
  $(find Sources/OnTrackFormats -name '*.swift')
target=${FUZZ_TARGET:-bvh}
export SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0
if [ "$target" = frames ] || [ "$target" = api ]; then
  swiftc "${flags[@]}" -emit-library -static -emit-module -module-name OnTrackScoring -I "$out" \
    -I Sources/CZlib -emit-module-path "$out/OnTrackScoring.swiftmodule" \
    -o "$out/libOnTrackScoring.a" $(find Sources/OnTrackScoring -name '*.swift')
  swiftc "${flags[@]}" -emit-library -static -emit-module -module-name OnTrackProtocol -I "$out" \
    -I Sources/CZlib -emit-module-path "$out/OnTrackProtocol.swiftmodule" \
    -o "$out/libOnTrackProtocol.a" Sources/OnTrackProtocol/*.swift
  source=Fuzz/StreamFrameFuzzer.swift
  [ "$target" = api ] && source=Fuzz/APIBodiesFuzzer.swift
  swiftc "${flags[@]}" -I "$out" -L "$out" -lOnTrackProtocol -lOnTrackScoring -lOnTrackFormats \
    -lOnTrackKinematics -lz -I Sources/CZlib "$source" -o "$out/$target-fuzzer"
  corpus=Fuzz/corpus/$target
  work=Fuzz/corpus-work-$target
  mkdir -p "$corpus" "$work"
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    exec "$out/$target-fuzzer" -merge=1 "$corpus" "$work" -max_len=65536
  fi
  exec "$out/$target-fuzzer" "$work" "$corpus" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix=Fuzz/.out/ -print_final_stats=1 "$@"
fi
if [ "$target" = keypoints ]; then
  swiftc "${flags[@]}" -I "$out" -L "$out" -lOnTrackFormats -lOnTrackKinematics -lz \
    -I Sources/CZlib Fuzz/KeypointFilesFuzzer.swift -o "$out/keypoints-fuzzer"
  corpus=Fuzz/corpus/keypoints
  work=Fuzz/corpus-work-keypoints
  mkdir -p "$corpus" "$work"
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    exec "$out/keypoints-fuzzer" -merge=1 "$corpus" "$work" -max_len=65536
  fi
  exec "$out/keypoints-fuzzer" "$work" "$corpus" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix=Fuzz/.out/ -print_final_stats=1 "$@"
fi
if [ "$target" = device ]; then
  swiftc "${flags[@]}" -I "$out" -L "$out" -lOnTrackFormats -lOnTrackKinematics -lz \
    -I Sources/CZlib Fuzz/DeviceFramesFuzzer.swift -o "$out/device-fuzzer"
  seeds=Fuzz/seeds-device
  mkdir -p "$seeds" Fuzz/corpus-work-device
  printf '\x000 Avatar00 %s||\n' "$(yes '1.5 ' | head -180 | tr -d '\n')" > "$seeds/axis.txt"
  # An OSC bundle holding /VMC/Ext/T 1.0, after the selector byte.
  printf '\x01#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x14/VMC/Ext/T\x00\x00,f\x00\x00\x3f\x80\x00\x00' > "$seeds/vmc.bin"
  exec "$out/device-fuzzer" Fuzz/corpus-work-device "$seeds" -max_total_time="$seconds" \
    -max_len=65536 -rss_limit_mb=2048 -timeout=10 -artifact_prefix=Fuzz/.out/ \
    -print_final_stats=1 "$@"
fi
swiftc "${flags[@]}" -I "$out" -L "$out" -lOnTrackFormats -lOnTrackKinematics -lz \
  -I Sources/CZlib Fuzz/BVHReaderFuzzer.swift -o "$out/bvh-fuzzer"
seeds=Fuzz/seeds
mkdir -p "$seeds"
find ../shared/data/bvh Tests/OnTrackFormatsTests/Fixtures/random -name '*.bvh' -size -200k \
  -exec cp {} "$seeds/" \; 2>/dev/null || true
exec "$out/bvh-fuzzer" Fuzz/corpus-work "$seeds" -max_total_time="$seconds" -max_len=262144 \
  -rss_limit_mb=2048 -timeout=10 -artifact_prefix=Fuzz/.out/ -print_final_stats=1 "$@"
