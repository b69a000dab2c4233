#!/usr/bin/env bash
# One machine, several servers: PostgreSQL + three `ontrack serve` + HAProxy on loopback,
# simulated patients streaming through the balancer, one server killed with SIGKILL
# mid-stream, then another. Checks that every session's frames are all stored once and
# prints what the patients saw (reconnections, errors).
#   Scripts/multiserver.sh [PATIENTS=30] [RATE=30]
set -euo pipefail
cd "$(dirname "$0")/.."
patients=${1:-30}
rate=${2:-30}
Scripts/install-dependencies.sh
swift build -c release --product ontrack >/dev/null
ontrack=$PWD/.build/release/ontrack
work=$(mktemp -d /tmp/ontrack-multi-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || Scripts/postgres-test-cluster.sh stop
}
trap cleanup EXIT
base=$(Scripts/postgres-test-cluster.sh start)
psql "$base" -q -c "DROP DATABASE IF EXISTS multi" -c "CREATE DATABASE multi"
store=${base%/*}/multi
T=$("$ontrack" token create --store "$store" --role therapist --name lee | tail -1)
for port in 8081 8082 8083; do
  "$ontrack" serve --store "$store" --port $port --data "$work/$port" --no-axis --no-vmc \
    --max-sessions-per-patient 500 --max-open-sessions 2000 >"$work/server-$port.log" 2>&1 &
  pids+=($!)
  echo "server :$port pid ${pids[-1]}"
done
for port in 8081 8082 8083; do
  for _ in $(seq 100); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.2; done
  curl -sf localhost:$port/health >/dev/null || { echo "server :$port did not start:"; tail -3 "$work/server-$port.log"; exit 1; }
done
# The balancer starts once the servers answer (its first checks then find them up).
haproxy -f deploy/haproxy.cfg -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
sleep 1
echo "== $patients patients at $rate Hz through HAProxy (:8080)"
"$ontrack" simulate --url http://127.0.0.1:8080 --token "$T" --patients "$patients" \
  --rate "$rate" --repetitions 6 --exercise uiprmd-m07-shoulder-abduction --json \
  >"$work/simulate.json" 2>"$work/simulate.err" &
sim=$!
sleep 8
echo "== SIGKILL server :8081 (pid ${pids[0]})"; kill -9 "${pids[0]}" || echo "(it had already stopped: see $work/server-8081.log)"
sleep 12
echo "== SIGKILL server :8082 (pid ${pids[1]})"; kill -9 "${pids[1]}" || echo "(it had already stopped: see $work/server-8082.log)"
wait $sim || true
for port in 8081 8082 8083; do echo "streams opened on :$port: $(grep -c stream.open "$work/server-$port.log" || true)"; done
python3 - "$work/simulate.json" "$store" <<'PY'
import json, subprocess, sys
report = json.load(open(sys.argv[1]))
store = sys.argv[2]
rows = subprocess.run(["psql", store, "-At", "-c",
  "SELECT s.id, COUNT(f.seq), COUNT(DISTINCT f.seq), MIN(f.seq), MAX(f.seq) FROM session s LEFT JOIN frame f ON f.session = s.id GROUP BY s.id"],
  capture_output=True, text=True, check=True).stdout.split()
bad = 0
for row in rows:
    sid, n, distinct, lo, hi = row.split("|")
    if int(n) != int(distinct) or (hi and int(hi) - int(lo) + 1 != int(n)):
        bad += 1
print(json.dumps({k: report.get(k) for k in ("patients", "errors", "reconnections", "framesSent", "framesStored", "repetitions") if k in report}, indent=1))
print(f"sessions: {len(rows)}; with a gap or a duplicate frame: {bad}")
PY
echo "logs in $work"
