#!/usr/bin/env bash
# Benchmark (not a test): completed trades per second through the HTTP API, on SQLite and on
# PostgreSQL, with release builds and durable commits on both (SQLite synchronous=FULL, PostgreSQL
# with its default fsync). Each trade is four requests: create, pay by card, ship, confirm.
#
#   scripts/bench-trades.sh [trades] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
TRADES=${1:-3000}
CONCURRENCY=${2:-16}

swift build -c release >&2
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d /tmp/fiducia-bench.XXXXXX)
PGDIR=""
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [ -n "$PGDIR" ] && scripts/postgres.sh stop "$PGDIR" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

run() {
  local name=$1 url=$2 port
  port=$(free_port)
  FIDUCIA_DATABASE_URL="$url" FIDUCIA_PORT=$port FIDUCIA_BCRYPT_COST=4 FIDUCIA_LOG_LEVEL=warning "$BIN/fiducia" serve >"$WORK/$name.log" 2>&1 &
  SERVER=$!
  until curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.1; done
  echo "== $name: $TRADES trades, $CONCURRENCY at a time"
  "$BIN/fiducia-bench" --base-url "http://127.0.0.1:$port" --trades "$TRADES" --concurrency "$CONCURRENCY"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  SERVER=""
  FIDUCIA_DATABASE_URL="$url" "$BIN/fiducia" ledger verify | tail -1
}

run sqlite "$WORK/fiducia.sqlite"

eval "$(scripts/postgres.sh start-durable)"
PGDIR=$FIDUCIA_TEST_POSTGRES_DIR
psql "$FIDUCIA_TEST_POSTGRES_URL" -qc "CREATE DATABASE fiducia_bench" >/dev/null
run postgres "${FIDUCIA_TEST_POSTGRES_URL%/postgres*}/fiducia_bench?sslmode=disable"
