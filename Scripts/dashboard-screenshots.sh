#!/usr/bin/env bash
# Regenerates the dashboard screenshots in docs/ from a real server: a therapist prescribes
# docs/examples/back-care-programme.json to a patient, the patient does two days of it
# (simulated, headless), a third patient streams live, and headless Chromium photographs each
# page. Look at them before committing.
#   Scripts/dashboard-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-dependencies.sh
swift build --product ontrack >/dev/null
bin=.build/debug/ontrack
work=$(mktemp -d)
trap 'kill $server $stream 2>/dev/null || true; rm -rf "$work"' EXIT
port=8791
token() { $bin token create --data "$work/data" "$@" | grep -o 'otk_[A-Za-z0-9_-]*' | head -1; }
lee=$(token --role therapist --name lee)
ann=$(token --role patient --name ann --therapist lee)
token --role patient --name raj --therapist lee >/dev/null
$bin serve --data "$work/data" --port $port --no-axis --no-vmc >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
url="http://127.0.0.1:$port"
start=$(date -u -d '-8 days' +%F)
sed "s/\"daysPerWeek\": 3,/\"daysPerWeek\": 3, \"start\": \"$start\",/" docs/examples/back-care-programme.json >"$work/programme.json"
id=$($bin programme create --server "$url" --token "$lee" "$work/programme.json" | cut -d' ' -f1)
day=0
for offset in 8 6 3 1; do
  day=$((day + 1))
  $bin session --server "$url" --token "$ann" --headless --outbox "$work/outbox" \
    --date "$(date -u -d "-$offset days" +%F)" --pain-before $((7 - day)) --pain-after $((5 - day)) \
    --variation "$([ $day -le 2 ] && echo demo || echo perfect)" >/dev/null
done
# A live session to watch.
$bin simulate --url "$url" --token "$ann" --exercise lbp-cat-camel --rate 30 --repetitions 40 \
  --keep-open >/dev/null 2>&1 &
stream=$!
sleep 3
live=$(curl -sf -H "Authorization: Bearer $lee" "$url/v1/sessions" |
  python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if s["open"]][-1])')
finished=$(curl -sf -H "Authorization: Bearer $lee" "$url/v1/sessions" |
  python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin) if not s["open"]][-1])')
shot() {
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,$2 \
    --virtual-time-budget=${4:-4000} --screenshot="docs/$1" \
    "$url/dashboard/#token=$lee&route=$3" >/dev/null 2>&1
  echo "docs/$1"
}
shot dashboard-patients.png 800 /patients
shot dashboard-patient.png 2200 "/patient/ann"
shot dashboard-report.png 1600 "/session/$finished"
shot dashboard-programme-form.png 1300 "/programme/$id/edit"
shot dashboard-live.png 900 "/live/$live" 2500
# The patient's side: today's session as the window shows it (drawn headless), four stages.
stills="$work/stills"
SDL_VIDEODRIVER=offscreen $bin session --programme-file docs/examples/back-care-programme.json \
  --headless --stills "$stills" --pain-before 6 --pain-after 4 --outbox "$work/offline" >/dev/null
pick() { ls "$stills"/*"$1".png | head -1; }
ffmpeg -loglevel error -y -i "$(pick pain-before-typed)" -i "$(pick item1-set1-moving)" \
  -i "$(pick item1-rest-before-set2)" -i "$(ls "$stills"/*-summary.png | tail -1)" \
  -filter_complex '[0][1]hstack[a];[2][3]hstack[b];[a][b]vstack,scale=1600:-1' docs/programme-day.png
echo docs/programme-day.png
