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

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

pgh() { readlink -f "$DIR/pghome"; }
pg_start() {
  local PGHOME; PGHOME=$(pgh)
  as_pg "$PGBIN/pg_ctl" -D "$PGHOME/data" -l "$PGHOME/pg.log" -w -t 60 \
    -o "-p $PGPORT -k $PGHOME/sock -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
    || { tail -20 "$PGHOME/pg.log" >&2; die "PostgreSQL did not start (log: $PGHOME/pg.log)"; }
}
pg_stop() { [ -f "$(pgh)/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$(pgh)/data" -m fast -w -t 60 stop >/dev/null || true; }
redis_start() {
  redis-server --port "$REDISPORT" --bind 127.0.0.1 --dir "$DIR/redis" --save '' --appendonly no \
    --daemonize yes --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis.log" >/dev/null
  for _ in $(seq 100); do redis-cli -p "$REDISPORT" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  die "Redis did not answer on port $REDISPORT (log: $DIR/redis.log)"
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
    PGPORT=$(free_port); REDISPORT=$(free_port)
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
    pg_start
    PGPASSWORD=$PASSWORD "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U medzoo -d postgres -qc 'CREATE DATABASE medzoo' >/dev/null
    redis_start
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
      restart-postgres) pg_stop; pg_start ;;
      restart-redis) redis_stop; redis_start ;;
      stop-postgres) pg_stop ;;
      start-postgres) pg_start ;;
      stop-redis) redis_stop ;;
      start-redis) redis_start ;;
    esac
    ;;
  *) echo "usage: $0 start|stop|remove|restart-postgres|restart-redis|stop-postgres|start-postgres|stop-redis|start-redis DIR" >&2; exit 2 ;;
esac
