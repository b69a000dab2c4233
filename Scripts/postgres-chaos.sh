#!/usr/bin/env bash
# PostgreSQL killing its connections under a live server: every backend of the server's
# database is terminated every 25 ms for SECONDS seconds while `ontrack simulate` streams
# PATIENTS simulated patients at 30 Hz into `ontrack serve --store postgres://…` (on the
# throwaway cluster of Scripts/postgres-test-cluster.sh). Passes if every frame sent was stored
# and acknowledged, no client saw an error, and the database holds each (session, seq) once.
#   Scripts/postgres-chaos.sh [SECONDS] [PATIENTS]     (default 40 s, 5 patients)
# Measured 2026-12-03 (SECURITY.md): PostgresNIO 1.33.2 leaves 2–4 calls waiting for ever per
# run; the store gives each up after its 10 s answer timeout (without it the stream stalled
# for good: still unacknowledged after 15 min).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-40}
patients=${2:-5}
ontrack=${ONTRACK:-.build/debug/ontrack}
[ -x "$ontrack" ] || swift build --product ontrack
base=$(Scripts/postgres-test-cluster.sh start)
admin=${base%/*}
database=chaos_$$
work=$(mktemp -d)
server=
killer=
cleanup() {
  [ -n "$killer" ] && kill "$killer" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  psql -q "$base" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -q "$base" -c "CREATE DATABASE $database" >/dev/null
store="$admin/$database"
"$ontrack" token create --store "$store" --role therapist --name lee >/dev/null
token=$("$ontrack" token create --store "$store" --role patient --name ann --therapist lee | tail -1)
"$ontrack" serve --store "$store" --data "$work/data" --port 0 --no-axis --no-vmc \
  --max-frame-rate 1000 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 300); do grep -q "serving on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/serve.out")
(
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    psql -qAt "$base" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
      WHERE datname = '$database' AND pid <> pg_backend_pid()" >/dev/null 2>&1 || true
    sleep 0.025
  done
) &
killer=$!
repetitions=$(((seconds + 10) / 7))
status=0
# Bounded: without the store's answer timeout a hung call stalls the stream for good.
timeout $((seconds + 120)) "$ontrack" simulate --url "$url" --token "$token" \
  --patients "$patients" --rate 30 --repetitions "$repetitions" --json \
  >"$work/simulate.json" 2>"$work/simulate.err" || status=$?
wait "$killer" 2>/dev/null || true
killer=
python3 - "$work/simulate.json" "$status" <<'EOF'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except ValueError:
    print(f"simulate gave no report (exit {sys.argv[2]}: 124 is the time limit)")
    sys.exit(1)
print(f"frames sent {report['framesSent']}, stored {report['framesStored']}, unanswered "
      f"{report['framesUnanswered']}, repetitions {report['repetitions']}, errors {report['errors']}, "
      f"simulate exit {sys.argv[2]}")
ok = (report["framesStored"] == report["framesSent"] and report["framesUnanswered"] == 0
      and not report["errors"] and sys.argv[2] == "0")
sys.exit(0 if ok else 1)
EOF
given_up=$(grep -c "did not answer" "$work/serve.err" || true)
duplicates=$(psql -qAt "$store" -c "SELECT count(*) - count(DISTINCT (session, seq)) FROM frame")
echo "calls given up after the answer timeout: $given_up; duplicate frames: $duplicates"
[ "$duplicates" = 0 ]
