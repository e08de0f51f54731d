#!/usr/bin/env bash
# Backup and point-in-time restore of the project's PostgreSQL, with pgBackRest (Debian's package).
#
#   scripts/respaldo.sh configurar                 WAL archiving to the repository + the stanza (idempotent)
#   scripts/respaldo.sh respaldar [full|diff|incr] a base backup (the first one is always full)
#   scripts/respaldo.sh info                       what the repository holds
#   scripts/respaldo.sh restaurar MOMENTO DESTINO [PUERTO]
#       a new cluster in DESTINO (an empty or missing directory) as the database was at MOMENTO
#       ("2026-12-02 13:40:00-03"), started on PUERTO (55433) and promoted; prints how long it took.
#
# WAL is archived continuously (archive_command) and at least every GAD_ARCHIVE_TIMEOUT seconds
# (30) while anything is written, which bounds what a restore can lose (the RPO).
# Environment: GAD_PG_DATA (.run/pgdata), GAD_PG_PORT (55432), GAD_PG_SOCKET (the data directory),
# GAD_RESPALDO_DIR (.run/respaldos), GAD_STANZA (gad), GAD_RETENCION_FULL (2 full backups kept).
set -euo pipefail
cd "$(dirname "$0")/.."
PG_PORT=${GAD_PG_PORT:-55432}
DATA=$(readlink -f "${GAD_PG_DATA:-.run/pgdata}")
SOCKET=${GAD_PG_SOCKET:-$DATA}
DIR=$(readlink -m "${GAD_RESPALDO_DIR:-.run/respaldos}")
STANZA=${GAD_STANZA:-gad}
ARCHIVE_TIMEOUT=${GAD_ARCHIVE_TIMEOUT:-30}
CONF="$DIR/pgbackrest.conf"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_() { as_postgres psql -h "$SOCKET" -p "$PG_PORT" -U gad -d postgres -qtAX "$@"; }
pgbr() { as_postgres pgbackrest --config="$CONF" --stanza="$STANZA" "$@"; }

escribir_conf() {
  mkdir -p "$DIR"
  [ "$(id -u)" != 0 ] || chown postgres: "$DIR"
  as_postgres mkdir -p "$DIR/repo" "$DIR/log" "$DIR/lock" "$DIR/spool"
  as_postgres tee "$CONF" >/dev/null <<CONF
[global]
repo1-path=$DIR/repo
repo1-retention-full=${GAD_RETENCION_FULL:-2}
log-path=$DIR/log
lock-path=$DIR/lock
spool-path=$DIR/spool
log-level-console=warn
compress-type=lz4
start-fast=y
process-max=2

[$STANZA]
pg1-path=$DATA
pg1-port=$PG_PORT
pg1-socket-path=$SOCKET
pg1-user=gad
CONF
}

configurar() {
  escribir_conf
  local comando="pgbackrest --config=$CONF --stanza=$STANZA archive-push %p"
  local modo; modo=$(psql_ -c "SHOW archive_mode")
  psql_ -c "ALTER SYSTEM SET archive_command = '$comando'" \
        -c "ALTER SYSTEM SET archive_timeout = '${ARCHIVE_TIMEOUT}s'" \
        -c "ALTER SYSTEM SET archive_mode = 'on'" \
        -c "SELECT pg_reload_conf()" >/dev/null
  if [ "$modo" != "on" ]; then  # archive_mode takes a restart
    echo "==> Restarting PostgreSQL to turn WAL archiving on"
    as_postgres "$pg_bin/pg_ctl" -D "$DATA" -m fast -w restart -l "$DATA/server.log" >/dev/null
  fi
  pgbr stanza-create >/dev/null
  pgbr check >/dev/null
}

respaldar() {
  local tipo=${1:-incr}
  pgbr info --output=json | grep -q '"backup":\[\]' && tipo=full  # nothing yet: a full one
  local inicio=$SECONDS
  pgbr --type="$tipo" backup
  echo "==> $tipo backup of stanza $STANZA in $((SECONDS - inicio)) s ($DIR/repo)"
}

restaurar() {
  local momento=$1 destino; destino=$(readlink -m "$2"); local puerto=${3:-55433}
  if [ -e "$destino" ] && [ -n "$(ls -A "$destino" 2>/dev/null)" ]; then
    echo "$destino is not empty" >&2; exit 2
  fi
  local inicio; inicio=$(date +%s%N)
  mkdir -p "$destino"; chmod 700 "$destino"
  [ "$(id -u)" != 0 ] || chown postgres: "$destino"
  # The restored cluster must not archive into the repository it came from.
  pgbr --pg1-path="$destino" --type=time --target="$momento" --target-action=promote --archive-mode=off restore
  as_postgres tee -a "$destino/postgresql.auto.conf" >/dev/null <<CONF
port = $puerto
unix_socket_directories = '$destino'
listen_addresses = '127.0.0.1'
CONF
  as_postgres "$pg_bin/pg_ctl" -D "$destino" -l "$destino/server.log" -w -t 600 start >/dev/null
  for _ in $(seq 6000); do
    [ "$(as_postgres psql -h "$destino" -p "$puerto" -U gad -d postgres -qtAX -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break
    sleep 0.1
  done
  echo "==> Restored to $momento in $destino (port $puerto) in $(( ($(date +%s%N) - inicio) / 1000000 )) ms"
}

case "${1:-}" in
  configurar) configurar ;;
  respaldar) respaldar "${2:-incr}" ;;
  info) escribir_conf; pgbr info ;;
  restaurar) [ $# -ge 3 ] || { echo "usage: $0 restaurar MOMENTO DESTINO [PUERTO]" >&2; exit 2; }; restaurar "$2" "$3" "${4:-}" ;;
  *) echo "usage: $0 configurar|respaldar [full|diff|incr]|info|restaurar MOMENTO DESTINO [PUERTO]" >&2; exit 2 ;;
esac
