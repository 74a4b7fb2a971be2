#!/usr/bin/env bash
# Crash test: trading clients retry every request with its Idempotency-Key until it is answered,
# while `fiducia serve` is killed with SIGKILL again and again (and restarted at once), on SQLite
# and on PostgreSQL. Afterwards every acknowledged step must be there, no trade created or charged
# twice, and `fiducia ledger verify` clean.
#
#   scripts/crash-test.sh [seconds] [clients]      (default 40 seconds of trading, 6 clients)
#
# The test script runs it with a short setting. Uses the debug build unless FIDUCIA_BIN is set.
# PostgreSQL: the server in FIDUCIA_TEST_POSTGRES_URL, else one started here and stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_OF_TRADING=${1:-40}
CLIENTS=${2:-6}
BIN=${FIDUCIA_BIN:-$(swift build --show-bin-path)/fiducia}
WORK=$(mktemp -d /tmp/fiducia-crash.XXXXXX)
SERVER=""
KILLER=""
OWN_PG=""
cleanup() {
  [ -n "$KILLER" ] && kill "$KILLER" 2>/dev/null || true
  [ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null || true
  [ -n "$OWN_PG" ] && scripts/postgres.sh stop "$OWN_PG" >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts the server in the background (its pid in $WORK/server.pid) and waits until it answers.
start_server() {
  local url=$1 port=$2 name=$3
  FIDUCIA_DATABASE_URL="$url" FIDUCIA_PORT=$port FIDUCIA_KEY_FILE="$WORK/$name.keys" FIDUCIA_BCRYPT_COST=4 \
    FIDUCIA_LOG_LEVEL=warning FIDUCIA_CHARGE_RECONCILE_SECONDS=2 FIDUCIA_IDEMPOTENCY_LOCK_SECONDS=3 \
    "$BIN" serve >>"$WORK/$name.log" 2>&1 &
  echo $! >"$WORK/server.pid"
  until curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.05; done
}

run() {
  local name=$1 url=$2 port
  port=$(free_port)
  echo "== $name: $CLIENTS clients trading for $SECONDS_OF_TRADING s while the server is killed"
  start_server "$url" "$port" "$name"
  rm -f "$WORK/ready"
  python3 Tests/tools/crash_clients.py trade --base "http://127.0.0.1:$port" --clients "$CLIENTS" \
    --seconds "$SECONDS_OF_TRADING" --state "$WORK/$name.json" --ready "$WORK/ready" &
  local clients=$!
  # The killer: SIGKILL at random moments, restart at once.
  (
    until [ -f "$WORK/ready" ]; do sleep 0.1; done
    kills=0
    while kill -0 "$clients" 2>/dev/null; do
      sleep "$(python3 -c 'import random; print(round(random.uniform(0.4, 1.6), 2))')"
      kill -0 "$clients" 2>/dev/null || break
      kill -9 "$(cat "$WORK/server.pid")" 2>/dev/null || true
      { wait "$(cat "$WORK/server.pid")"; } 2>/dev/null || true
      kills=$((kills + 1))
      start_server "$url" "$port" "$name"
    done
    echo "$kills" >"$WORK/$name.kills"
  ) &
  KILLER=$!
  local status=0
  wait "$clients" || status=$?
  wait "$KILLER" || true
  KILLER=""
  echo "   the server was killed $(cat "$WORK/$name.kills") times"
  # Let reconciliation settle what the last kill interrupted, then check everything.
  sleep 3
  python3 Tests/tools/crash_clients.py verify --base "http://127.0.0.1:$port" --state "$WORK/$name.json" --database "$url" || status=1
  kill "$(cat "$WORK/server.pid")"; wait "$(cat "$WORK/server.pid")" 2>/dev/null || true
  FIDUCIA_DATABASE_URL="$url" FIDUCIA_KEY_FILE="$WORK/$name.keys" "$BIN" ledger verify | tail -1
  [ "$status" -eq 0 ] || { echo "crash test FAILED on $name (server log: last lines below)"; tail -20 "$WORK/$name.log"; exit 1; }
}

run sqlite "$WORK/fiducia.sqlite"

if [ -z "${FIDUCIA_TEST_POSTGRES_URL:-}" ]; then
  eval "$(scripts/postgres.sh start)"
  OWN_PG=$FIDUCIA_TEST_POSTGRES_DIR
fi
database="fiducia_crash_$$"
psql "$FIDUCIA_TEST_POSTGRES_URL" -qc "CREATE DATABASE $database" >/dev/null
run postgres "${FIDUCIA_TEST_POSTGRES_URL%/postgres*}/$database?sslmode=disable"
psql "$FIDUCIA_TEST_POSTGRES_URL" -qc "DROP DATABASE $database" >/dev/null
echo "crash test passed on SQLite and PostgreSQL"
