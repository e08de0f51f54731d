#!/usr/bin/env bash
# Project-local PostgreSQL (PostGIS) and Redis, with their data under .run/ on non-standard ports.
# Usage: scripts/services.sh start|stop|status
# Skipped for a service whose URL (DATABASE_URL / REDIS_URL) points elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
run="$root/.run"
PG_PORT=${GAD_PG_PORT:-55432}
REDIS_PORT=${GAD_REDIS_PORT:-56379}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
mkdir -p "$run"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_data() {
  # initdb refuses to run as root, so as root the cluster belongs to the postgres user. If that
  # user cannot reach this checkout (a private home directory, say), the data lives in its own
  # home, keyed by the checkout's path, and .run/pgdata links to it.
  if [ "$(id -u)" != 0 ] || as_postgres test -x "$run" 2>/dev/null; then
    echo "$run/pgdata"
  else
    echo "/var/lib/postgresql/gad-$(echo -n "$root" | sha1sum | cut -c1-12)"
  fi
}

pg_start() {
  local data; data=$(pg_data)
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "==> Initialising PostgreSQL cluster in $data"
    if [ "$(id -u)" = 0 ]; then
      mkdir -p "$data"; chown postgres: "$data"; chmod 700 "$data"
      [ "$data" = "$run/pgdata" ] || ln -sfn "$data" "$run/pgdata"
    fi
    local pw; pw=$(mktemp); echo gad > "$pw"; chmod 644 "$pw"
    as_postgres "$pg_bin/initdb" -D "$data" -U gad --pwfile="$pw" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$data'
CONF
    as_postgres tee -a "$data/postgresql.conf" < deploy/postgresql/gad.conf >/dev/null
  fi
  # Clusters made before synchronous commit was turned back on: an acknowledgement is a promise.
  if as_postgres grep -q '^synchronous_commit = off' "$data/postgresql.conf" 2>/dev/null; then
    as_postgres sed -i 's/^synchronous_commit = off/synchronous_commit = on/' "$data/postgresql.conf"
    as_postgres "$pg_bin/pg_ctl" -D "$data" reload >/dev/null 2>&1 || true
  fi
  if ! as_postgres "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "==> Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_postgres "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null
  fi
  as_postgres psql -h "$data" -p "$PG_PORT" -U gad -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='gad'" | grep -q 1 \
    || as_postgres psql -h "$data" -p "$PG_PORT" -U gad -d postgres -qc "CREATE DATABASE gad"
  # The web servers' and the ingest's roles: no ownership, no bypass of row-level security
  # (gad_project/rls.py). Made here, before several test databases migrate at once.
  # Its grants and the policies come with the migrations.
  as_postgres psql -h "$data" -p "$PG_PORT" -U gad -d postgres -qtAX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gad_app') THEN
        CREATE ROLE gad_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD 'gad_app';
    ELSE
        ALTER ROLE gad_app LOGIN NOBYPASSRLS PASSWORD 'gad_app';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gad_ingesta') THEN
        CREATE ROLE gad_ingesta LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD 'gad_ingesta';
    END IF;
END $$;
GRANT pg_monitor TO gad_app, gad_ingesta;
SQL
}

pg_stop() {
  local data; data=$(pg_data)
  if [ -f "$data/PG_VERSION" ] && as_postgres "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "==> Stopping PostgreSQL"
    as_postgres "$pg_bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_start() {
  mkdir -p "$run/redis"
  if ! redis_cli ping >/dev/null 2>&1; then
    echo "==> Starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$run/redis" --daemonize yes \
      --pidfile "$run/redis/redis.pid" --logfile "$run/redis/redis.log" \
      --appendonly yes --save "" --protected-mode yes
    for _ in $(seq 50); do redis_cli ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis_cli ping >/dev/null
  fi
}

redis_stop() {
  if redis_cli ping >/dev/null 2>&1; then
    echo "==> Stopping Redis"
    redis_cli shutdown nosave >/dev/null 2>&1 || true
  fi
}

case "${1:-start}" in
  start)
    [ -n "${DATABASE_URL:-}" ] || pg_start
    [ -n "${REDIS_URL:-}" ] || redis_start ;;
  stop)
    [ -n "${DATABASE_URL:-}" ] || pg_stop
    [ -n "${REDIS_URL:-}" ] || redis_stop ;;
  status)
    redis_cli ping || true
    as_postgres "$pg_bin/pg_ctl" -D "$(pg_data)" status || true ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
