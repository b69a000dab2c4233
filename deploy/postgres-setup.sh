#!/usr/bin/env bash
# Creates OnTrack's PostgreSQL role and database with least privilege: the role owns only its
# database (it creates its tables at first start), may not create roles or databases, and
# logs in with a password over TCP from the servers' addresses.
#   sudo deploy/postgres-setup.sh [PASSWORD]
set -euo pipefail
password=${1:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
sudo -u postgres psql -v ON_ERROR_STOP=1 -q <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ontrack') THEN
    CREATE ROLE ontrack LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$password';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE ontrack OWNER ontrack'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ontrack') \gexec
REVOKE ALL ON DATABASE ontrack FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ontrack TO ontrack;
SQL
echo "ONTRACK_STORE=postgres://ontrack:$password@127.0.0.1:5432/ontrack"
