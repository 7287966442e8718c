#!/usr/bin/env bash
# Starts a whole MedZoo cluster on this machine, to try cluster mode or to run fault trials:
# PostgreSQL and Redis (scripts/cluster-servers.sh), WEB web nodes (no training), WORKERS workers
# (`medzoo worker`, Hangfire servers that train), and HAProxy (Debian's `haproxy`) in front of the
# web nodes with sticky sessions (Blazor circuits live on one node) and health checks (a dead node's
# users move to another). Everything runs as this user's processes with its files in DIR.
#
#   scripts/cluster.sh start DIR [--web N] [--workers N] [--port P]   (defaults: 2, 2, 5000)
#   scripts/cluster.sh stop DIR          stops every process and the servers; keeps DIR
#   scripts/cluster.sh remove DIR        stops and deletes DIR
#   scripts/cluster.sh kill-web DIR N | kill-worker DIR N    SIGKILL one process (fault trials)
#   scripts/cluster.sh start-worker DIR N | start-web DIR N    starts worker or web node N again after a kill
#   scripts/cluster.sh status DIR        what runs, with pids and ports
#
# The admin account is MEDZOO_ADMIN_USER / MEDZOO_ADMIN_PASSWORD when set, else "admin" with a
# generated password written to DIR/admin-password (mode 0600). Logs: DIR/web-N.log, DIR/worker-N.log.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CMD=${1:-}; DIR=${2:-}
usage() { echo "usage: $0 start|stop|remove|status DIR [--web N] [--workers N] [--port P] | kill-web|kill-worker|start-web|start-worker DIR N" >&2; exit 2; }
[ -n "$CMD" ] && [ -n "$DIR" ] || usage
shift 2
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
log() { printf '[cluster] %s\n' "$*"; }
free_port() { /usr/bin/python3 "$ROOT/scripts/free-port.py"; }   # outside the ephemeral range: see free-port.py
# MEDZOO_DLL: another build of medzoo.dll (the tests use their own copy).
MEDZOO=${MEDZOO_DLL:-$ROOT/MedZoo.Web/bin/Release/net10.0/medzoo.dll}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pid() { # pidfile: SIGTERM, then SIGKILL after 20 s
  alive "$1" || { rm -f "$1"; return 0; }
  local pid; pid=$(cat "$1"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$1"
}
wait_http() { # url log: until it answers (any status) or 120 s
  for _ in $(seq 600); do
    /usr/bin/python3 - "$1" <<'PY' && return 0
import sys, urllib.request, urllib.error
try: urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError: pass
except Exception: sys.exit(1)
PY
    sleep 0.2
  done
  tail -30 "$2" >&2; die "$1 did not answer in 120 s (log: $2)"
}

# Worker N on the cluster's servers (its log is appended to, so a restarted worker keeps its history).
start_worker() {
  # shellcheck disable=SC1091
  . "$DIR/servers/servers.env"
  mkdir -p "$DIR/worker-$1"
  MedZoo__Cluster__Postgres="$MEDZOO_POSTGRES" MedZoo__Cluster__Redis="$MEDZOO_REDIS" MedZoo__DataDirectory="$DIR/worker-$1" DOTNET_NOLOGO=1 \
    setsid dotnet "$MEDZOO" worker --name "worker-$1" --queues cpu --devices cpu >>"$DIR/worker-$1.log" 2>&1 &
  echo $! > "$DIR/worker-$1.pid"
}

# Web node N on PORT (its log is appended to, so a restarted node keeps its history).
start_web() {
  # shellcheck disable=SC1091
  . "$DIR/servers/servers.env"
  mkdir -p "$DIR/web-$1"
  MedZoo__Cluster__Enabled=true MedZoo__Cluster__Postgres="$MEDZOO_POSTGRES" MedZoo__Cluster__Redis="$MEDZOO_REDIS" \
    MedZoo__DataDirectory="$DIR/web-$1" DOTNET_NOLOGO=1 \
    setsid dotnet "$MEDZOO" serve --urls "http://127.0.0.1:$2" >>"$DIR/web-$1.log" 2>&1 &
  echo $! > "$DIR/web-$1.pid"; echo "$2" > "$DIR/web-$1.port"
}

start() {
  local web=2 workers=2 port=5000
  while [ $# -gt 0 ]; do
    case "$1" in
      --web) web=$2; shift 2 ;; --workers) workers=$2; shift 2 ;; --port) port=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [[ "$web" =~ ^[1-9][0-9]?$ && "$workers" =~ ^[0-9][0-9]?$ && "$port" =~ ^[0-9]+$ ]] || die "--web 1-99, --workers 0-99 and --port a number"
  command -v haproxy >/dev/null || die "HAProxy is not installed (apt-get install haproxy, or scripts/prereqs.sh)"
  [ -e "$DIR/cluster.env" ] && die "$DIR already holds a cluster (stop it first, or use another folder)"
  mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
  if [ ! -f "$MEDZOO" ]; then
    [ -z "${MEDZOO_DLL:-}" ] || die "MEDZOO_DLL=$MEDZOO_DLL does not exist"
    log "building MedZoo"; (cd "$ROOT" && dotnet build MedZoo.Web -c Release --nologo -v quiet)
  fi
  "$ROOT/scripts/cluster-servers.sh" start "$DIR/servers" >/dev/null
  # shellcheck disable=SC1091
  . "$DIR/servers/servers.env"
  local user=${MEDZOO_ADMIN_USER:-admin} password=${MEDZOO_ADMIN_PASSWORD:-}
  if [ -z "$password" ]; then
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    (umask 077; printf '%s\n' "$password" > "$DIR/admin-password")
  fi
  export MedZoo__Admin__UserName="$user" MedZoo__Admin__Password="$password"
  local backends=""
  for i in $(seq "$web"); do
    local p; p=$(free_port)
    start_web "$i" "$p"
    backends+="    server web-$i 127.0.0.1:$p check inter 1s fall 2 rise 1 cookie web-$i"$'\n'
  done
  for i in $(seq "$web"); do wait_http "http://127.0.0.1:$(cat "$DIR/web-$i.port")/" "$DIR/web-$i.log"; done
  for i in $(seq "$workers"); do start_worker "$i"; done
  # Sticky by cookie (a Blazor circuit lives on the node that opened it); a node that fails two checks
  # a second apart is taken out and its users are sent to another (redispatch), where the page reconnects.
  cat > "$DIR/haproxy.cfg" <<CFG
global
    pidfile $DIR/haproxy.pid
defaults
    mode http
    option redispatch
    retries 2
    # A request on a kept-alive connection to a node that just died is retried on another node (GET and HEAD only:
    # a POST the dead node may have carried out is never sent twice).
    retry-on conn-failure empty-response response-timeout
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
frontend medzoo
    bind 127.0.0.1:$port
    default_backend web
backend web
    balance roundrobin
    cookie MEDZOO_NODE insert indirect nocache httponly
    http-request disable-l7-retry unless METH_GET
$backends
CFG
  haproxy -c -q -f "$DIR/haproxy.cfg" || die "haproxy refused $DIR/haproxy.cfg"
  haproxy -D -f "$DIR/haproxy.cfg" || die "haproxy did not start (port $port taken?)"
  wait_http "http://127.0.0.1:$port/" "$DIR/web-1.log"
  { echo "WEB=$web"; echo "WORKERS=$workers"; echo "PORT=$port"; } > "$DIR/cluster.env"
  log "MedZoo cluster: $web web nodes, $workers workers, PostgreSQL and Redis in $DIR"
  if [ -f "$DIR/admin-password" ]; then log "open http://127.0.0.1:$port and sign in as $user (password in $DIR/admin-password)"
  else log "open http://127.0.0.1:$port and sign in as $user"; fi
}

stop() {
  [ -d "$DIR" ] || return 0
  alive "$DIR/haproxy.pid" && stop_pid "$DIR/haproxy.pid"
  for f in "$DIR"/web-*.pid "$DIR"/worker-*.pid; do [ -e "$f" ] && stop_pid "$f"; done
  [ -d "$DIR/servers" ] && "$ROOT/scripts/cluster-servers.sh" stop "$DIR/servers"
  rm -f "$DIR/cluster.env"
}

kill_one() { # kind n
  local f="$DIR/$1-$2.pid"
  alive "$f" || die "$1-$2 is not running"
  kill -9 "$(cat "$f")"; rm -f "$f"; log "killed $1-$2 (SIGKILL)"
}

case "$CMD" in
  start) start "$@" ;;
  stop) stop ;;
  remove) stop; [ -d "$DIR/servers" ] && "$ROOT/scripts/cluster-servers.sh" remove "$DIR/servers"; rm -rf "$DIR" ;;
  kill-web) [ $# = 1 ] || usage; kill_one web "$1" ;;
  kill-worker) [ $# = 1 ] || usage; kill_one worker "$1" ;;
  start-web)
    [ $# = 1 ] && [[ "$1" =~ ^[1-9][0-9]?$ ]] || usage
    [ -f "$DIR/cluster.env" ] && [ -f "$DIR/web-$1.port" ] || die "no web node $1 in $DIR"
    alive "$DIR/web-$1.pid" && die "web-$1 is already running"
    DIR=$(cd "$DIR" && pwd); start_web "$1" "$(cat "$DIR/web-$1.port")"
    wait_http "http://127.0.0.1:$(cat "$DIR/web-$1.port")/" "$DIR/web-$1.log"; log "started web-$1" ;;
  start-worker)
    [ $# = 1 ] && [[ "$1" =~ ^[1-9][0-9]?$ ]] || usage
    [ -f "$DIR/cluster.env" ] || die "no cluster in $DIR"
    alive "$DIR/worker-$1.pid" && die "worker-$1 is already running"
    DIR=$(cd "$DIR" && pwd); start_worker "$1"; log "started worker-$1" ;;
  status)
    for f in "$DIR"/haproxy.pid "$DIR"/web-*.pid "$DIR"/worker-*.pid; do
      [ -e "$f" ] || continue; n=$(basename "$f" .pid)
      if alive "$f"; then
        echo "$n running (pid $(cat "$f"))$([ -f "$DIR/$n.port" ] && echo ", port $(cat "$DIR/$n.port")")"
      else echo "$n stopped"; fi
    done ;;
  *) usage ;;
esac
