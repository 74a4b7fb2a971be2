#!/usr/bin/env bash
# Benchmark (not a test): completed trades per second through the HTTP API, on SQLite and on
# PostgreSQL, with release builds and durable commits on both (SQLite synchronous=FULL, PostgreSQL
# with its default fsync). Each trade is four requests, each with an Idempotency-Key: create, pay by
# card, ship, confirm; 200 buyers and 200 sellers. The ledger is verified after every run.
#
# Absolute rates on a shared machine are noise, so each figure is printed beside the bare rate of
# what it stands on, measured in the same run: durable SQLite commits/s (one row per transaction)
# and pgbench's TPC-B-like tps (16 clients) on the same PostgreSQL server.
#
#   scripts/bench-trades.sh [trades] [concurrency ...]       (default: 3000 trades at 16 and 64)
set -euo pipefail
cd "$(dirname "$0")/.."
TRADES=${1:-3000}
shift || true
LEVELS=("${@:-16 64}")
read -r -a LEVELS <<<"${LEVELS[*]}"

swift build -c release >&2
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d /tmp/fiducia-bench.XXXXXX)
PGDIR=""
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$PGDIR" ] && scripts/postgres.sh stop "$PGDIR" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts N servers on one database; sets BASES (comma-separated URLs).
start_servers() {
  local url=$1 count=$2 name=$3 port
  BASES=""
  for i in $(seq 1 "$count"); do
    port=$(free_port)
    FIDUCIA_DATABASE_URL="$url" FIDUCIA_PORT=$port FIDUCIA_KEY_FILE="$WORK/$name.keys" FIDUCIA_BCRYPT_COST=4 \
      FIDUCIA_LOG_LEVEL=warning "$BIN/fiducia" serve >>"$WORK/$name-$i.log" 2>&1 &
    SERVERS+=($!)
    until curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.1; done
    BASES="${BASES:+$BASES,}http://127.0.0.1:$port"
  done
}

stop_servers() {
  for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  SERVERS=()
}

# Runs the trading clients; prints their report and a ratio line against BARE (per second).
bench() {
  local label=$1 concurrency=$2 bare=$3 bare_name=$4 output
  output=$("$BIN/fiducia-bench" --base-url "$BASES" --trades "$TRADES" --concurrency "$concurrency" | grep -v "signed up")
  echo "$output" | sed 's/^/   /'
  python3 - "$output" "$bare" "$bare_name" "$label" <<'PY'
import re, sys
output, bare, bare_name, label = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
m = re.search(r"= ([\d.]+) trades/s \(([\d.]+) requests/s\)", output)
trades, requests = float(m.group(1)), float(m.group(2))
print(f"   {label}: {trades:.0f} trades/s = {trades / bare:.2f} x bare {bare_name}; requests/s = {requests / bare:.2f} x bare ({bare:.0f}/s)")
PY
}

verify() { FIDUCIA_DATABASE_URL="$1" FIDUCIA_KEY_FILE="$WORK/$2.keys" "$BIN/fiducia" ledger verify | tail -1 | sed 's/^/   /'; }

# --- SQLite -------------------------------------------------------------------------------------
bare_sqlite=$(python3 - "$WORK/bare.sqlite" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
n, start = 0, time.time()
while time.time() - start < 3:
    db.execute("BEGIN IMMEDIATE"); db.execute("INSERT INTO t (v) VALUES ('x')"); db.execute("COMMIT"); n += 1
print(round(n / (time.time() - start)))
PY
)
echo "== SQLite (bare: $bare_sqlite durable commits/s, one row per transaction)"
for level in "${LEVELS[@]}"; do
  db="$WORK/fiducia-$level.sqlite"
  start_servers "$db" 1 "sqlite-$level"
  echo " - $TRADES trades, $level at a time"
  bench "sqlite c$level" "$level" "$bare_sqlite" "SQLite commits/s"
  stop_servers
  verify "$db" "sqlite-$level"
done

# --- PostgreSQL ---------------------------------------------------------------------------------
eval "$(scripts/postgres.sh start-durable)"
PGDIR=$FIDUCIA_TEST_POSTGRES_DIR
ADMIN=$FIDUCIA_TEST_POSTGRES_URL
psql "$ADMIN" -qc "CREATE DATABASE pgbench" >/dev/null
pgbench -q -i -s 16 "${ADMIN%/postgres*}/pgbench" >/dev/null 2>&1
bare_pg=$(pgbench -n -c 16 -j 2 -T 10 "${ADMIN%/postgres*}/pgbench" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
echo "== PostgreSQL (bare: pgbench TPC-B-like, 16 clients: $bare_pg tps)"
for level in "${LEVELS[@]}"; do
  for servers in 1 2; do
    database="fiducia_bench_${level}_$servers"
    psql "$ADMIN" -qc "CREATE DATABASE $database" >/dev/null
    url="${ADMIN%/postgres*}/$database?sslmode=disable"
    start_servers "$url" "$servers" "pg-$level-$servers"
    echo " - $TRADES trades, $level at a time, $servers server(s)"
    bench "postgres c$level x$servers" "$level" "$bare_pg" "pgbench tps"
    stop_servers
    verify "$url" "pg-$level-$servers"
  done
done
