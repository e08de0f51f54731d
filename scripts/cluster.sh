#!/usr/bin/env bash
# `make cluster`: the multi-node topology on one machine, every part an existing engine.
#
#   PostgreSQL primary (scripts/services.sh, :55432) ── streaming replica (:55433, .run/pgreplica)
#   PgBouncer (:56432, transaction pooling) in front of the primary
#   Redis :56379 (cache, broker, tickets; channel layer shard 1) and :56380 (channel layer shard 2)
#   app node 1: uvicorn :8101 + daphne :8102, Celery worker, Celery beat (the only one)
#   app node 2: uvicorn :8201 + daphne :8202, Celery worker
#   HAProxy :8100 load-balancing HTTP and WebSockets over the nodes (deploy/haproxy/cluster.cfg)
#
# Each node is what a separate machine would run: its own processes and metrics directory; they
# share nothing but PostgreSQL (through PgBouncer; reads that tolerate lag from the replica) and
# Redis. Every process runs under supervisord (restarted if it dies). Ctrl-C stops the app
# processes; `scripts/cluster.sh stop` (and `make stop`) the replica and the second Redis too.
#
#   scripts/cluster.sh start|stop|status
# Environment: GAD_CLUSTER_PORT (8100), GAD_NODOS (2), GAD_SIMULADOR (1), GAD_BEAT (1); the primary's
# GAD_PG_PORT/GAD_PG_DATA/GAD_PG_SOCKET, GAD_REPLICA_PORT/GAD_REPLICA_DIR, GAD_BOUNCER_PORT,
# GAD_REDIS2_PORT, GAD_CLUSTER_DIR, GAD_CLUSTER_DB (gad) — the tests run a second one.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_PORT=${GAD_PG_PORT:-55432}
REPLICA_PORT=${GAD_REPLICA_PORT:-55433}
BOUNCER_PORT=${GAD_BOUNCER_PORT:-56432}
REDIS_PORT=${GAD_REDIS_PORT:-56379}
REDIS2_PORT=${GAD_REDIS2_PORT:-56380}
FRONT=${GAD_CLUSTER_PORT:-8100}
NODOS=${GAD_NODOS:-2}
RUN=$(readlink -m "${GAD_CLUSTER_DIR:-.run/cluster}")
LOGS=${GAD_LOGS:-.run/logs/cluster}
REPLICA=$(readlink -m "${GAD_REPLICA_DIR:-.run/pgreplica}")
DB=${GAD_CLUSTER_DB:-gad}
SLOT=${GAD_REPLICA_SLOT:-replica1}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
mkdir -p "$RUN" "$LOGS"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
PG_SOCKET=${GAD_PG_SOCKET:-$(readlink -f "${GAD_PG_DATA:-.run/pgdata}")}
primario() { as_postgres psql -h "$PG_SOCKET" -p "$PG_PORT" -U gad -d "${2:-postgres}" -qtAX -c "$1"; }

replica_iniciar() {
  if [ ! -f "$REPLICA/PG_VERSION" ]; then
    echo "==> Creating the streaming replica in $REPLICA (pg_basebackup)"
    mkdir -p "$REPLICA"; chmod 700 "$REPLICA"
    [ "$(id -u)" != 0 ] || chown postgres: "$REPLICA"
    primario "SELECT pg_create_physical_replication_slot('$SLOT') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '$SLOT')" postgres >/dev/null
    as_postgres env PGPASSWORD=gad "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U gad -D "$REPLICA" \
      -X stream -S "$SLOT" -R -c fast
    as_postgres tee -a "$REPLICA/postgresql.auto.conf" >/dev/null <<CONF
port = $REPLICA_PORT
unix_socket_directories = '$REPLICA'
primary_conninfo = 'host=127.0.0.1 port=$PG_PORT user=gad password=gad application_name=$SLOT'
primary_slot_name = '$SLOT'
hot_standby_feedback = on
archive_mode = off
CONF
  fi
  if ! as_postgres "$pg_bin/pg_ctl" -D "$REPLICA" status >/dev/null 2>&1; then
    echo "==> Starting the replica on 127.0.0.1:$REPLICA_PORT"
    as_postgres "$pg_bin/pg_ctl" -D "$REPLICA" -l "$REPLICA/server.log" -w -t 120 start >/dev/null
  fi
}

redis2_iniciar() {
  mkdir -p "$RUN/redis2"
  if ! redis-cli -p "$REDIS2_PORT" ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$REDIS2_PORT" --dir "$RUN/redis2" --daemonize yes \
      --pidfile "$RUN/redis2/redis.pid" --logfile "$RUN/redis2/redis.log" --save "" --appendonly no
    for _ in $(seq 50); do redis-cli -p "$REDIS2_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

pgbouncer_configurar() {
  mkdir -p "$RUN/pgbouncer"
  sed -e "s|@PG_PORT@|$PG_PORT|" -e "s|@PORT@|$BOUNCER_PORT|" -e "s|@DIR@|$RUN/pgbouncer|g" \
    deploy/pgbouncer/pgbouncer.ini > "$RUN/pgbouncer/pgbouncer.ini"
  # The owner (Celery, the bot, migrations), the web servers' and the ingest writers' roles
  # (row-level security: gad_project/rls.py).
  printf '"gad" "gad"\n"gad_app" "gad_app"\n"gad_ingesta" "gad_ingesta"\n' > "$RUN/pgbouncer/userlist.txt"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$RUN/pgbouncer"; fi
  chmod 600 "$RUN/pgbouncer/userlist.txt"
  # Behind PgBouncer the session options are not passed: the roles carry them.
  for rol in gad gad_app gad_ingesta; do
    primario "ALTER ROLE $rol SET statement_timeout = '30s'" >/dev/null
    primario "ALTER ROLE $rol SET lock_timeout = '5s'" >/dev/null
    primario "ALTER ROLE $rol SET idle_in_transaction_session_timeout = '60s'" >/dev/null
  done
}

case "${1:-start}" in
  stop)
    if [ -f "$REPLICA/PG_VERSION" ]; then as_postgres "$pg_bin/pg_ctl" -D "$REPLICA" -m fast -w stop >/dev/null 2>&1 || true; fi
    redis-cli -p "$REDIS2_PORT" shutdown nosave >/dev/null 2>&1 || true
    exit 0 ;;
  status)
    .venv/bin/supervisorctl -c "$RUN/supervisord.conf" status || true
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

replica_iniciar
redis2_iniciar
pgbouncer_configurar

# The app nodes' environment: what each machine's /etc/gad/gad.env would say.
export DEBUG=${DEBUG:-false}
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  [ -s .run/secret_key ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' > .run/secret_key)
  export SECRET_KEY_FILE=$PWD/.run/secret_key
fi
export SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
export DATABASE_URL="postgis://gad:gad@127.0.0.1:$BOUNCER_PORT/$DB"
export DATABASE_REPLICA_URL="postgis://gad:gad@127.0.0.1:$REPLICA_PORT/$DB"
export DB_PREPARE_THRESHOLD="" DB_OPCIONES_DE_SESION=false
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CHANNEL_REDIS_URLS="redis://127.0.0.1:$REDIS_PORT/0,redis://127.0.0.1:$REDIS2_PORT/0"
export REDIS_PREFIX=${REDIS_PREFIX:-gad}

. scripts/supervisor.sh
supervisor_iniciar "$RUN/supervisord.conf" "$RUN/supervisord.sock"
program pgbouncer "$(command -v pgbouncer) $RUN/pgbouncer/pgbouncer.ini" postgres
http_servers="" ws_servers=""
for n in $(seq 1 "$NODOS"); do
  base=$((FRONT + 100 * (n - 1) + 1))  # node 1: 8101/8102, node 2: 8201/8202 (FRONT 8100)
  metricas="$RUN/metricas-nodo$n"
  rm -rf "$metricas" && mkdir -p "$metricas"
  entorno="PROMETHEUS_MULTIPROC_DIR=\"$metricas\",GAD_NODO=\"nodo$n\""
  program "nodo$n-uvicorn" "$PWD/.venv/bin/uvicorn gad_project.asgi:application --host 127.0.0.1 --port $base --workers 1 --proxy-headers --forwarded-allow-ips 127.0.0.1 --no-access-log --log-level warning"
  echo "environment=$entorno" >> "$conf"
  program "nodo$n-daphne" "$PWD/.venv/bin/daphne -b 127.0.0.1 -p $((base + 1)) --proxy-headers -v 0 gad_project.asgi:application"
  echo "environment=$entorno" >> "$conf"
  program "nodo$n-celery" "$PWD/.venv/bin/celery -A gad_project worker -l info --concurrency 1 -n nodo$n@%%h"
  echo "environment=$entorno" >> "$conf"
  http_servers+="    server nodo$n 127.0.0.1:$base check"$'\n'
  ws_servers+="    server nodo$n 127.0.0.1:$((base + 1)) check"$'\n'
done
if [ "${GAD_BEAT:-1}" = 1 ]; then  # 0: no scheduled work (benchmarks of the request paths)
  program celery-beat "$PWD/.venv/bin/celery -A gad_project beat -l info -s $RUN/celerybeat-schedule"
  echo "environment=PROMETHEUS_MULTIPROC_DIR=\"$RUN/metricas-nodo1\"" >> "$conf"
fi
if [ "${GAD_SIMULADOR:-1}" = 1 ]; then
  program simulador "$PWD/$PY manage.py simular_patrullas"
  echo "environment=PROMETHEUS_MULTIPROC_DIR=\"$RUN/metricas-nodo1\"" >> "$conf"
fi
sed -e "s|@BIND@|127.0.0.1:$FRONT|" deploy/haproxy/cluster.cfg \
  | awk -v h="$http_servers" -v w="$ws_servers" \
      '{ if ($0 == "@HTTP_SERVERS@") printf "%s", h; else if ($0 == "@WS_SERVERS@") printf "%s", w; else print }' \
  > "$RUN/haproxy.cfg"
program haproxy "$(command -v haproxy) -db -f $RUN/haproxy.cfg"

.venv/bin/supervisord -c "$conf" &
supervisor=$!
trap 'kill -TERM $supervisor 2>/dev/null; wait $supervisor; exit 0' INT TERM
for _ in $(seq 600); do
  curl -fsS "http://127.0.0.1:$FRONT/health" >/dev/null 2>&1 && break
  sleep 0.1
done
cat <<MSG

  GRUPO_GAD cluster is running                              (Ctrl-C stops the app processes)

  Front (HAProxy):   http://127.0.0.1:$FRONT/mapa/   (HTTP round-robin, WebSockets least-connections)
  App nodes:         $NODOS × (uvicorn + daphne + Celery worker); one Celery beat
  PostgreSQL:        primary :$PG_PORT via PgBouncer :$BOUNCER_PORT (transaction pooling); replica :$REPLICA_PORT
  Redis:             :$REDIS_PORT (cache, broker) + :$REDIS2_PORT (channel layer shard)
  Replica lag:       gad_postgresql_replica_retraso_seconds on http://127.0.0.1:$FRONT/metrics
  Processes:         .venv/bin/supervisorctl -c $conf status
MSG
wait "$supervisor"
