# Sourced by scripts/run.sh and scripts/cluster.sh: writes a supervisord configuration (PyPI's
# supervisor) in which every program is restarted whenever it exits, its output in $LOGS/<name>.log.
#   supervisor_iniciar CONF SOCKET   # the [supervisord] part
#   program NAME COMMAND [USER]      # one program, optionally run as USER (when started as root)
supervisor_iniciar() {
  conf=$1
  local sock=$2
  LOGS=$(readlink -m "$LOGS")  # relative to the checkout, or absolute
  cat > "$conf" <<CONF
[supervisord]
nodaemon=true
silent=true
logfile=$LOGS/supervisord.log
pidfile=${sock%.sock}.pid
childlogdir=$LOGS
[unix_http_server]
file=$sock
[supervisorctl]
serverurl=unix://$sock
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
CONF
}

program() {
  local name=$1 command=$2 user=${3:-}
  cat >> "$conf" <<CONF
[program:$name]
command=$command
directory=$PWD
autorestart=true
startsecs=2
startretries=20
stopasgroup=true
killasgroup=true
stopwaitsecs=15
redirect_stderr=true
stdout_logfile=$LOGS/$name.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=2
CONF
  if [ -n "$user" ] && [ "$(id -u)" = 0 ]; then echo "user=$user" >> "$conf"; fi
}
