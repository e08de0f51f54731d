#!/usr/bin/env bash
# Serves the whole system as production does: HAProxy in front; uvicorn (HTTP: API, map, admin,
# tiles) and daphne (WebSockets) with one process per core each, sharing the Redis channel layer;
# a Celery worker, Celery beat, the patrol simulator (demo mode) and the Telegram bot when
# TELEGRAM_BOT_TOKEN is set. DEBUG is off, with a secret generated once under .run/.
# Each runs under supervisord, which restarts it if it dies. Ctrl-C stops them all.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${GAD_HOST:-127.0.0.1}
PORT=${GAD_PORT:-8000}
PROCESOS=${GAD_PROCESOS:-$(nproc)}
LOGS=${GAD_LOGS:-.run/logs}
mkdir -p "$LOGS"

# Production settings on plain HTTP over loopback (cookies cannot be Secure without TLS).
export DEBUG=${DEBUG:-false}
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  [ -s .run/secret_key ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' > .run/secret_key)
  export SECRET_KEY_FILE=.run/secret_key
fi
export SESSION_COOKIE_SECURE=${SESSION_COOKIE_SECURE:-false} CSRF_COOKIE_SECURE=${CSRF_COOKIE_SECURE:-false}

# Every process runs under supervisord (PyPI's supervisor): one that crashes is started again,
# the rest keep serving. Its configuration is written here, with this run's ports.
. scripts/supervisor.sh
supervisor_iniciar ".run/supervisord-$PORT.conf" "$PWD/.run/supervisord-$PORT.sock"

# Back ends on the ports after PORT; HAProxy on PORT routes /ws/ to daphne and the rest to uvicorn.
http_port=$((PORT + 1))
program uvicorn "$PWD/.venv/bin/uvicorn gad_project.asgi:application --host 127.0.0.1 --port $http_port \
  --workers $PROCESOS --proxy-headers --forwarded-allow-ips 127.0.0.1 --no-access-log --log-level warning"
ws_servers=""
for i in $(seq 1 "$PROCESOS"); do
  ws_port=$((PORT + 1 + i))
  program "daphne-$i" "$PWD/.venv/bin/daphne -b 127.0.0.1 -p $ws_port --proxy-headers -v 0 gad_project.asgi:application"
  ws_servers+="    server daphne$i 127.0.0.1:$ws_port check"$'\n'
done
sed -e "s|@BIND@|$HOST:$PORT|" -e "s|@HTTP@|127.0.0.1:$http_port|" deploy/haproxy/gad.cfg \
  | awk -v s="$ws_servers" '{ if ($0 == "@WS_SERVERS@") printf "%s", s; else print }' > ".run/haproxy-$PORT.cfg"
program haproxy "$(command -v haproxy) -db -f $PWD/.run/haproxy-$PORT.cfg"
if [ "${GAD_CELERY:-1}" = 1 ]; then  # 0: only the servers (benchmarks of the request paths)
  program celery-worker "$PWD/.venv/bin/celery -A gad_project worker -l info --concurrency 2 -n worker-$PORT@%%h"
  program celery-beat "$PWD/.venv/bin/celery -A gad_project beat -l info -s $PWD/.run/celerybeat-schedule-$PORT"
fi
if [ "${GAD_SIMULADOR:-1}" = 1 ]; then
  program simulador "$PWD/$PY manage.py simular_patrullas --url http://127.0.0.1:$PORT"
fi
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  program telegram-bot "$PWD/$PY manage.py run_telegram_bot"
  bot="Telegram bot:  running (log .run/logs/telegram-bot.log)"
else
  bot="Telegram bot:  not started (set TELEGRAM_BOT_TOKEN to run it; see README)"
fi

# Every process's metrics go to one directory, emptied now (see PROMETHEUS_MULTIPROC_DIR in the README).
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/.run/metricas-${REDIS_PREFIX:-gad}}
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

.venv/bin/supervisord -c "$conf" &
supervisor=$!
stop_all() {
  trap - INT TERM
  echo
  echo "==> Stopping app processes (PostgreSQL and Redis keep running; 'make stop' stops them)"
  kill -TERM "$supervisor" 2>/dev/null
  wait "$supervisor"
  exit 0
}
trap stop_all INT TERM

for _ in $(seq 300); do
  curl -fsS "http://$HOST:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done
base="http://$HOST:$PORT"
cat <<MSG

  GRUPO_GAD is running                                   (Ctrl-C stops it)

  Commanders' live map:   $base/mapa/     (sign in as comandante / comandante1234)
  Admin:                  $base/admin/
  API docs (Swagger):     $base/api/docs/
  Health / readiness:     $base/health   $base/health/ready
  Metrics (Prometheus):   $base/metrics
  WebSocket:              ws://$HOST:$PORT/ws/eventos/
  $bot

  Demo logins
    admin               / admin1234        administrador (admin)
    comandante          / comandante1234   comandante, Comisaría Comunal 1
    comandante.palermo  / comandante1234   comandante, Comisaría Comunal 14
    comandante.boca     / comandante1234   comandante, Comisaría Comunal 4
    efectivo            / efectivo1234     efectivo (API / app)

  Live event stream:      .venv/bin/python -m realtime.cliente --usuario comandante --clave comandante1234
  Logs: .run/logs/   Ready: $(curl -s -o /dev/null -w '%{http_code}' "$base/health/ready")
MSG
echo "  Processes:  .venv/bin/supervisorctl -c $conf status   (a crashed one is restarted)"
wait "$supervisor"
