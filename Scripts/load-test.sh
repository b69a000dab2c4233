#!/usr/bin/env bash
# Load test on loopback: a release `ontrack serve` on a fresh data folder, and `ontrack simulate`
# streaming PATIENTS concurrent patients at RATE Hz over PROTOCOL. Prints one Markdown table row:
# streams, frames sent / scored / rejected / unanswered / stored, client-side frame-in → score-out
# latency (p50, p99, max), the server's own latency histogram (share of frames answered within
# 1, 2 and 5 ms of arriving), and the server's CPU time.
#
#   Scripts/load-test.sh [PATIENTS=200] [RATE=60] [PROTOCOL=ws] [REPETITIONS=2]
#
# PIN=1 runs the server on CPU 0 and the load generator on CPU 1 (taskset), so the table says
# which side a latency tail is on; the last column is then also the server's CPU time per
# frame (µs). BATCH=N sends N frames per WebSocket message (`--frames-per-message`). PG=1
# stores in PostgreSQL (Scripts/postgres-test-cluster.sh) instead of SQLite.
#
# Needs a release build (`swift build -c release --product ontrack`).
set -euo pipefail
cd "$(dirname "$0")/.."
patients=${1:-200}
rate=${2:-60}
protocol=${3:-ws}
repetitions=${4:-2}
ontrack=.build/release/ontrack
data=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
store=sqlite
if [ "${PG:-0}" = 1 ]; then
  # PostgreSQL (the throwaway test cluster, a fresh database): the server's CPU column is then
  # the server's alone; the database's is reported on stderr.
  base=$(Scripts/postgres-test-cluster.sh start)
  psql "$base" -q -c "DROP DATABASE IF EXISTS load" -c "CREATE DATABASE load"
  store=${base%/*}/load
fi
token=$("$ontrack" token create --role patient --name load --therapist load --data "$data" --store "$store")
server_cpu=(); client_cpu=()
if [ "${PIN:-0}" = 1 ]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); fi
postgres_cpu() { local sum=0; for p in $(pgrep -f postgres); do sum=$((sum + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $sum; }
"${server_cpu[@]}" "$ontrack" serve --data "$data" --store "$store" --port 0 --axis-port 0 --vmc-port 0 --log-level info \
  --max-sessions-per-patient 5000 --max-open-sessions 5000 --max-connections-per-address 0 \
  > "$data/serve.out" 2> "$data/serve.err" &
server=$!
for _ in $(seq 100); do grep -q "serving on" "$data/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$data/serve.out")
# The device listeners log the ports they bound.
for _ in $(seq 50); do grep -q "VMC listener ready" "$data/serve.err" && grep -q "Axis Neuron listener ready" "$data/serve.err" && break; sleep 0.1; done
axis_port=$(grep 'Axis Neuron listener ready' "$data/serve.err" | grep -o 'port=[0-9]*' | grep -o '[0-9]*')
vmc_port=$(grep 'VMC listener ready' "$data/serve.err" | grep -o 'port=[0-9]*' | grep -o '[0-9]*')
cpu_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
pg_before=$(postgres_cpu)
"${client_cpu[@]}" "$ontrack" simulate --url "$url" --token "$token" --patients "$patients" --rate "$rate" \
  --protocol "$protocol" --repetitions "$repetitions" --axis-port "$axis_port" \
  --vmc-port "$vmc_port" --frames-per-message "${BATCH:-1}" --json > "$data/simulate.json" || true
cpu_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
pg_after=$(postgres_cpu)
[ "${PG:-0}" = 1 ] && echo "PostgreSQL CPU over the run: $(( (pg_after - pg_before) / $(getconf CLK_TCK) )) s" >&2
curl -s "$url/metrics" > "$data/metrics.txt"
python3 - "$data/simulate.json" "$data/metrics.txt" "$cpu_before" "$cpu_after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
buckets = {}
count = 0
for line in open(sys.argv[2]):
    if line.startswith("ontrack_scoring_latency_seconds_bucket"):
        le = line.split('le="')[1].split('"')[0]
        buckets[le] = float(line.rsplit(" ", 1)[1])
    if line.startswith("ontrack_scoring_latency_seconds_count"):
        count = float(line.rsplit(" ", 1)[1])
def share(le):
    return 100 * buckets.get(le, 0) / count if count else 0
cpu = (float(sys.argv[4]) - float(sys.argv[3])) / float(sys.argv[5])
latency = report.get("latencyMs") or {}
stored = report.get("framesStored")
print(f"| {report['protocolName']} | {report['patients']} × {report['rateHz']:.0f} Hz | {report['seconds']:.0f} "
      f"| {report['framesSent']} | {report['framesScored']} | {report['framesRejected']} | {report['framesUnanswered']} "
      f"| {stored if stored is not None else '–'} "
      f"| {latency.get('p50', float('nan')):.2f} | {latency.get('p99', float('nan')):.2f} | {latency.get('max', float('nan')):.1f} "
      f"| {share('0.001'):.1f} / {share('0.002'):.1f} / {share('0.005'):.2f} | {cpu / max(report['seconds'], 1):.2f} "
      f"| {1e6 * cpu / max(report['framesScored'], 1):.0f} |")
for error in report["errors"][:1]:
    print(f"load test: {len(report['errors'])} patient(s) reported: {error}", file=sys.stderr)
PY
