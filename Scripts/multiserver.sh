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
. Scripts/lib/balanced-servers.sh
trap balanced_servers_stop EXIT
balanced_servers_start multi 3 --max-sessions-per-patient 500 --max-open-sessions 2000
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
