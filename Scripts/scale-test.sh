#!/usr/bin/env bash
# Streams × Hz through HAProxy with 1, 2 or 3 `ontrack serve` sharing one PostgreSQL, all on
# this machine: prints one Markdown row (servers, streams, frames, client latency, unanswered,
# CPU of the servers and of PostgreSQL, database frame writes a second).
#   Scripts/scale-test.sh [SERVERS=3] [PATIENTS=100] [RATE=60]
set -euo pipefail
cd "$(dirname "$0")/.."
servers=${1:-3}
patients=${2:-100}
rate=${3:-60}
. Scripts/lib/balanced-servers.sh
trap 'balanced_servers_stop; rm -rf "$work"' EXIT
balanced_servers_start scale "$servers" --log-level warning --max-sessions-per-patient 5000 \
  --max-open-sessions 5000
cpu() { local sum=0; for p in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $sum; }
postgres_pids() { pgrep -f "postgres" | tr '\n' ' '; }
server_pids=("${pids[@]:0:$servers}")
s0=$(cpu "${server_pids[@]}"); p0=$(cpu $(postgres_pids)); t0=$(date +%s.%N)
"$ontrack" simulate --url http://127.0.0.1:8080 --token "$T" --patients "$patients" --rate "$rate" \
  --repetitions 2 --exercise uiprmd-m07-shoulder-abduction --json >"$work/simulate.json" 2>"$work/simulate.err" || true
s1=$(cpu "${server_pids[@]}"); p1=$(cpu $(postgres_pids)); t1=$(date +%s.%N)
python3 - "$work/simulate.json" "$servers" "$s0" "$s1" "$p0" "$p1" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
servers = sys.argv[2]
s0, s1, p0, p1 = (float(x) for x in sys.argv[3:7])
t0, t1, tck = float(sys.argv[7]), float(sys.argv[8]), float(sys.argv[9])
wall = t1 - t0
lat = r.get("latencyMs") or {}
print(f"| {servers} | {r['patients']} × {r['rateHz']:.0f} Hz | {r['framesSent']} | {r['framesScored']} | {r['framesUnanswered']} "
      f"| {lat.get('p50', float('nan')):.1f} | {lat.get('p99', float('nan')):.1f} "
      f"| {(s1 - s0) / tck / wall:.2f} | {(p1 - p0) / tck / wall:.2f} | {r['seconds']:.0f} | {r.get('reconnections', 0)} |")
print("errors:", r.get("errors", [])[:2], file=sys.stderr)
PY
