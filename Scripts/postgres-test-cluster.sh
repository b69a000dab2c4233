#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's postgresql, run as a dedicated
# unprivileged user (PostgreSQL refuses to run as root), in a temporary data directory, on
# loopback only, trust authentication for the one test role.
#   Scripts/postgres-test-cluster.sh start   → prints the URL to export as ONTRACK_TEST_POSTGRES
#   Scripts/postgres-test-cluster.sh stop    → stops it and removes its data directory
set -euo pipefail
port=${ONTRACK_PG_PORT:-55432}
state=${ONTRACK_PG_STATE:-/tmp/ontrack-pg-test}
user=ontrackpg
# As root the cluster runs as a dedicated system user; as anyone else, as oneself.
as_user() {
  if [ "$(id -u)" -eq 0 ]; then su -s /bin/sh "$user" -c "$1"; else sh -c "$1"; fi
}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
case "${1:-start}" in
start)
  if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed (Scripts/install-dependencies.sh installs it)" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  if [ -f "$state/data/postmaster.pid" ] && as_user "$bin/pg_ctl -D $state/data status" >/dev/null 2>&1; then
    echo "postgres://ontrack@127.0.0.1:$port/ontrack"
    exit 0
  fi
  rm -rf "$state"
  mkdir -p "$state"
  [ "$(id -u)" -eq 0 ] && chown "$user" "$state"
  chmod 700 "$state"
  as_user "$bin/initdb -D $state/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$state.initdb.log" 2>&1
  as_user "$bin/pg_ctl -D $state/data -l $state/server.log -w -o \"-p $port -k $state -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200\" start" >/dev/null
  as_user "$bin/psql -h $state -p $port -U postgres -q -c \"CREATE ROLE ontrack LOGIN CREATEDB\" -c \"CREATE DATABASE ontrack OWNER ontrack\"" >/dev/null
  echo "postgres://ontrack@127.0.0.1:$port/ontrack"
  ;;
stop)
  if [ -n "$bin" ] && [ -d "$state/data" ]; then
    as_user "$bin/pg_ctl -D $state/data -m fast -w stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$state" "$state.initdb.log"
  ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
