#!/usr/bin/env bash
# Runs the browser tests: starts `fiducia serve` on a free port with a fresh SQLite database,
# drives it with headless Chromium through Selenium, and stops it afterwards.
# Expects the debug build to exist (scripts/test.sh builds it first).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=$(swift build --show-bin-path)/fiducia
[ -x "$BIN" ] || { echo "build fiducia first" >&2; exit 1; }
WORK=$(mktemp -d /tmp/fiducia-browser.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

export FIDUCIA_DATABASE_URL="$WORK/fiducia.sqlite" FIDUCIA_PORT="$PORT" FIDUCIA_BCRYPT_COST=4 FIDUCIA_LOG_LEVEL=warning
"$BIN" demo >"$WORK/demo.log" 2>&1
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done

FIDUCIA_BIN="$BIN" FIDUCIA_BASE_URL="http://127.0.0.1:$PORT" python3 -m unittest discover -s Tests/browser -p "${BROWSER_TESTS:-test_*.py}" -v \
  || { echo "--- server log ---" >&2; tail -50 "$WORK/server.log" >&2; exit 1; }

# Every trade the demo and the browsers made must leave the ledger consistent.
"$BIN" ledger verify
