#!/usr/bin/env bash
# Starts (or stops) a throw-away PostgreSQL and Redis for cluster mode, from Debian's packages
# (`postgresql`, `redis-server`; scripts/prereqs.sh installs them), on free ports, with their data
# in DIR. Used by the Cluster tests and scripts/cluster.sh; nothing is installed as a service.
#
#   scripts/cluster-servers.sh start DIR   starts both; prints and writes DIR/servers.env:
#       MEDZOO_POSTGRES="Host=127.0.0.1;Port=…;Username=medzoo;Password=…;Database=medzoo"
#       MEDZOO_REDIS="127.0.0.1:…"
#   scripts/cluster-servers.sh stop DIR    stops both (fast shutdown) and leaves DIR for inspection
#   scripts/cluster-servers.sh remove DIR  stops both and deletes their data
#   scripts/cluster-servers.sh restart-postgres DIR | restart-redis DIR   (fault trials)
#   scripts/cluster-servers.sh stop-postgres|start-postgres|stop-redis|start-redis DIR   (outages of a chosen length)
#
# PostgreSQL refuses to run as root: as root, its files belong to and it runs as the `postgres`
# user the package creates.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CMD=${1:-}; DIR=${2:-}
[ -n "$CMD" ] && [ -n "$DIR" ] || { echo "usage: $0 start|stop|remove|restart-postgres|restart-redis|stop-postgres|start-postgres|stop-redis|start-redis DIR" >&2; exit 2; }
die() { printf '[cluster-servers] ERROR: %s\n' "$*" >&2; exit 1; }

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || die "PostgreSQL is not installed (apt-get install postgresql, or scripts/prereqs.sh)"
command -v redis-server >/dev/null || die "Redis is not installed (apt-get install redis-server, or scripts/prereqs.sh)"

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (the postgresql package creates it)"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

# A port outside the kernel's ephemeral range (see free-port.py: a bind(0) port can be taken as an
# outgoing connection's source port before the server binds it).
free_port() { /usr/bin/python3 "$HERE/free-port.py"; }
# Lines of FILE from line FROM on (what a server wrote since this script started it).
since() { tail -n +"$2" "$1" 2>/dev/null || true; }
lines() { [ -f "$1" ] && echo $(($(wc -l < "$1") + 1)) || echo 1; }
# Whether FILE has a line matching PATTERN from line FROM on (grep -c reads everything: no SIGPIPE under pipefail).
logged() { [ "$(since "$1" "$2" | grep -c -e "$3")" != 0 ]; }
PORT_TAKEN=3   # what pg_start and redis_start return when another process holds their port
TRIES=5        # ports tried by `start` before it gives up

pgh() { readlink -f "$DIR/pghome"; }
# Starts PostgreSQL on PGPORT and waits until it accepts connections. Returns PORT_TAKEN when another
# process holds the port; dies with the log's last lines on any other failure.
pg_start() {
  local PGHOME from; PGHOME=$(pgh); from=$(lines "$PGHOME/pg.log")
  as_pg "$PGBIN/pg_ctl" -D "$PGHOME/data" -l "$PGHOME/pg.log" -w -t 60 \
    -o "-p $PGPORT -k $PGHOME/sock -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null && return 0
  logged "$PGHOME/pg.log" "$from" 'could not bind .*Address already in use' && return $PORT_TAKEN
  since "$PGHOME/pg.log" "$from" | tail -20 >&2
  die "PostgreSQL did not start on port $PGPORT (log: $PGHOME/pg.log)"
}
pg_stop() { [ -f "$(pgh)/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$(pgh)/data" -m fast -w -t 60 stop >/dev/null || true; }
# Starts Redis on REDISPORT and waits until this Redis answers (its process id, not just any server on
# the port). Returns PORT_TAKEN when another process holds the port; dies with the log's last lines on any
# other failure. A daemonized redis-server exits 0 before it binds: the log says whether the bind failed.
redis_start() {
  local log="$DIR/redis.log" pidfile="$DIR/redis/redis.pid" from; from=$(lines "$log")
  rm -f "$pidfile"
  redis-server --port "$REDISPORT" --bind 127.0.0.1 --dir "$DIR/redis" --save '' --appendonly no \
    --daemonize yes --pidfile "$pidfile" --logfile "$log" >/dev/null \
    || die "redis-server could not start (log: $log)"
  for _ in $(seq 300); do
    if [ -s "$pidfile" ] && [ "$(redis-cli -p "$REDISPORT" info server 2>/dev/null | tr -d '\r' | grep -c -x "process_id:$(cat "$pidfile")")" != 0 ]; then
      return 0
    fi
    logged "$log" "$from" 'Address already in use' && return $PORT_TAKEN
    logged "$log" "$from" 'aborting\|Fatal error\|FATAL' && break
    sleep 0.1
  done
  since "$log" "$from" | tail -20 >&2
  die "Redis did not answer on port $REDISPORT (log: $log)"
}
# Runs pg_start or redis_start on fresh ports (VAR names the port's variable) until one is not taken.
start_on_free_port() {
  local var=$1 fn=$2 rc
  for try in $(seq "$TRIES"); do
    printf -v "$var" '%s' "$(free_port)"
    rc=0; "$fn" || rc=$?
    [ "$rc" = 0 ] && return 0
    printf '[cluster-servers] port %s was taken before %s could bind it (try %s of %s)\n' "${!var}" "$fn" "$try" "$TRIES" >&2
  done
  die "$fn found every one of $TRIES free ports taken by the time it bound them"
}
# After a stop, the server comes back on the port its clients know; another process holding it is fatal.
same_port() {
  local rc=0; "$1" || rc=$?
  [ "$rc" = 0 ] || die "$1: port $2 is now held by another process (clients expect the server there): $(ss -ltnp "sport = :$2" 2>/dev/null | tail -n +2 || true)"
}
redis_stop() {
  [ -f "$DIR/redis/redis.pid" ] || return 0
  local pid; pid=$(cat "$DIR/redis/redis.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/redis/redis.pid"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

case "$CMD" in
  start)
    [ -e "$DIR/servers.env" ] && die "$DIR already holds servers (stop them first, or use another folder)"
    mkdir -p "$DIR/redis"
    DIR=$(cd "$DIR" && pwd)
    PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    if [ "$(id -u)" = 0 ]; then
      # The postgres user may not reach DIR (e.g. under a private mktemp folder): its files live in a
      # folder of its own, linked from DIR.
      PGHOME=$(runuser -u postgres -- mktemp -d /tmp/medzoo-pg.XXXXXX)
    else
      PGHOME="$DIR/pghome"; mkdir -p "$PGHOME"
    fi
    [ "$PGHOME" = "$DIR/pghome" ] || ln -s "$PGHOME" "$DIR/pghome"
    as_pg sh -c "umask 077; printf '%s\n' '$PASSWORD' > '$PGHOME/pgpass'; mkdir -p '$PGHOME/sock'"
    as_pg "$PGBIN/initdb" -D "$PGHOME/data" -U medzoo --pwfile="$PGHOME/pgpass" -A scram-sha-256 -E UTF8 --no-instructions >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    # Each port is chosen just before its server binds it (initdb takes seconds).
    start_on_free_port PGPORT pg_start
    PGPASSWORD=$PASSWORD "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U medzoo -d postgres -qc 'CREATE DATABASE medzoo' >/dev/null
    start_on_free_port REDISPORT redis_start
    {
      echo "PGPORT=$PGPORT"
      echo "REDISPORT=$REDISPORT"
      echo "MEDZOO_POSTGRES=\"Host=127.0.0.1;Port=$PGPORT;Username=medzoo;Password=$PASSWORD;Database=medzoo\""
      echo "MEDZOO_REDIS=\"127.0.0.1:$REDISPORT\""
    } > "$DIR/servers.env"
    grep '^MEDZOO_' "$DIR/servers.env"
    ;;
  stop)
    [ -f "$DIR/servers.env" ] || exit 0
    pg_stop; redis_stop
    mv "$DIR/servers.env" "$DIR/servers.env.stopped"
    ;;
  remove)
    "$0" stop "$DIR"
    if [ -L "$DIR/pghome" ]; then t=$(readlink "$DIR/pghome"); case "$t" in /tmp/medzoo-pg.*) rm -rf "$t";; esac; fi
    rm -rf "$DIR"
    ;;
  restart-postgres|restart-redis|stop-postgres|start-postgres|stop-redis|start-redis)
    [ -f "$DIR/servers.env" ] || die "no servers in $DIR"
    DIR=$(cd "$DIR" && pwd)
    # shellcheck disable=SC1091
    . "$DIR/servers.env"
    case "$CMD" in
      restart-postgres) pg_stop; same_port pg_start "$PGPORT" ;;
      restart-redis) redis_stop; same_port redis_start "$REDISPORT" ;;
      stop-postgres) pg_stop ;;
      start-postgres) same_port pg_start "$PGPORT" ;;
      stop-redis) redis_stop ;;
      start-redis) same_port redis_start "$REDISPORT" ;;
    esac
    ;;
  *) echo "usage: $0 start|stop|remove|restart-postgres|restart-redis|stop-postgres|start-postgres|stop-redis|start-redis DIR" >&2; exit 2 ;;
esac
