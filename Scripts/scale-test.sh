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
Scripts/install-dependencies.sh
swift build -c release --product ontrack >/dev/null
ontrack=$PWD/.build/release/ontrack
work=$(mktemp -d /tmp/ontrack-scale-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  Scripts/postgres-test-cluster.sh stop
  rm -rf "$work"
}
trap cleanup EXIT
base=$(Scripts/postgres-test-cluster.sh start)
psql "$base" -q -c "DROP DATABASE IF EXISTS scale" -c "CREATE DATABASE scale"
store=${base%/*}/scale
T=$("$ontrack" token create --store "$store" --role therapist --name lee | tail -1)
ports=()
for k in $(seq "$servers"); do
  port=$((8080 + k))
  ports+=("$port")
  "$ontrack" serve --store "$store" --port $port --data "$work/$port" --no-axis --no-vmc \
    --log-level warning --max-sessions-per-patient 5000 --max-open-sessions 5000 \
    >"$work/server-$port.log" 2>&1 &
  pids+=($!)
done
for port in "${ports[@]}"; do
  for _ in $(seq 100); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.2; done
done
# The deployment's balancer configuration, with only the servers started here.
keep=$(printf 's%s|' $(seq "$servers")); keep=${keep%|}
grep -vE "^  server s[0-9]" deploy/haproxy.cfg >"$work/haproxy.cfg"
for k in $(seq "$servers"); do echo "  server s$k 127.0.0.1:$((8080 + k)) check" >>"$work/haproxy.cfg"; done
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
sleep 1.5
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
