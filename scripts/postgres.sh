#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the tests, in a temporary directory, on a free loopback
# port, and prints the admin URL. Installs PostgreSQL with apt-get when it is missing.
#
#   eval "$(scripts/postgres.sh start)"   # sets FIDUCIA_TEST_POSTGRES_URL and FIDUCIA_TEST_POSTGRES_DIR
#   scripts/postgres.sh stop "$FIDUCIA_TEST_POSTGRES_DIR"
set -euo pipefail

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the unprivileged user that owns the cluster (PostgreSQL refuses to run as root).
as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start|start-durable)
    if ! BIN=$(find_bin); then
      echo "PostgreSQL is not installed; installing it with apt-get" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      BIN=$(find_bin)
    fi
    DIR=$(mktemp -d /tmp/fiducia-pg.XXXXXX)
    PORT=$(free_port)
    if [ "$(id -u)" = "0" ]; then chown postgres "$DIR"; fi
    as_owner "$BIN/initdb" -D "$DIR/data" -U fiducia --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    # Durability is irrelevant for a test server that is deleted afterwards, so `start` turns fsync
    # off to keep tests fast; `start-durable` keeps PostgreSQL's defaults, for benchmarks.
    OPTIONS="-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300"
    if [ "$1" = "start" ]; then OPTIONS="$OPTIONS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -o "$OPTIONS" start >&2
    echo "export FIDUCIA_TEST_POSTGRES_URL=postgres://fiducia@127.0.0.1:$PORT/postgres?sslmode=disable"
    echo "export FIDUCIA_TEST_POSTGRES_DIR=$DIR"
    ;;
  stop)
    DIR="${2:?usage: postgres.sh stop DIR}"
    BIN=$(find_bin)
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start | start-durable | stop DIR" >&2
    exit 2
    ;;
esac
