# Sourced by Scripts/multiserver.sh and Scripts/scale-test.sh: PostgreSQL (the throwaway test
# cluster), SERVERS × `ontrack serve` on ports 8081… sharing one database, and HAProxy on :8080
# with deploy/haproxy.cfg (its server lines replaced by the servers started here).
#
#   balanced_servers_start NAME SERVERS [extra `ontrack serve` arguments…]
#
# sets: ontrack (the release binary), work (a folder for logs), store (the database URL),
# T (a therapist token), pids (servers first, then HAProxy). balanced_servers_stop kills them
# and stops the cluster (unless KEEP is set).

pids=()
work=""

balanced_servers_start() {
  local name=$1 servers=$2
  shift 2
  Scripts/install-dependencies.sh
  swift build -c release --product ontrack >/dev/null
  ontrack=$PWD/.build/release/ontrack
  work=$(mktemp -d "/tmp/ontrack-$name-XXXX")
  pids=()
  local base
  base=$(Scripts/postgres-test-cluster.sh start)
  psql "$base" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
  store=${base%/*}/$name
  T=$("$ontrack" token create --store "$store" --role therapist --name lee | tail -1)
  local k port
  for k in $(seq "$servers"); do
    port=$((8080 + k))
    "$ontrack" serve --store "$store" --port $port --data "$work/$port" --no-axis --no-vmc \
      --max-connections-per-address 0 "$@" >"$work/server-$port.log" 2>&1 &
    pids+=($!)
    echo "server :$port pid ${pids[-1]}" >&2
  done
  for k in $(seq "$servers"); do
    port=$((8080 + k))
    for _ in $(seq 100); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.2; done
    curl -sf localhost:$port/health >/dev/null \
      || { echo "server :$port did not start:" >&2; tail -3 "$work/server-$port.log" >&2; return 1; }
  done
  # The balancer starts once the servers answer (its first checks then find them up).
  grep -vE "^  server s[0-9]" deploy/haproxy.cfg >"$work/haproxy.cfg"
  for k in $(seq "$servers"); do
    echo "  server s$k 127.0.0.1:$((8080 + k)) check" >>"$work/haproxy.cfg"
  done
  haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
  pids+=($!)
  sleep 1.5
}

balanced_servers_stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || Scripts/postgres-test-cluster.sh stop
}
