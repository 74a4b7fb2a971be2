#!/usr/bin/env bash
# Runs the built `fiducia serve` exactly as a newcomer would (no configuration at all, in an empty
# folder), checks the home page, /health and /ready, then stops it with SIGTERM and checks that it
# shut down cleanly and left its SQLite database in ./fiducia-data/. Prints the start-up time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/fiducia
WORK=$(mktemp -d /tmp/fiducia-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

if curl -fs http://127.0.0.1:8080/health >/dev/null 2>&1; then
  echo "port 8080 is busy; the smoke test needs it free" >&2
  exit 1
fi
start=$(date +%s%N)
env -u FIDUCIA_DATABASE_URL -u FIDUCIA_PORT -u FIDUCIA_HOST "$BIN" serve >server.log 2>&1 &
SERVER=$!
until curl -fs http://127.0.0.1:8080/health >/dev/null 2>&1; do
  kill -0 "$SERVER" 2>/dev/null || { cat server.log >&2; exit 1; }
  sleep 0.02
done
ready=$(date +%s%N)
echo "first answered request $(( (ready - start) / 1000000 )) ms after start"

curl -fs http://127.0.0.1:8080/ | grep -q "Trade with strangers"
curl -fs http://127.0.0.1:8080/ready | grep -q '"ready"'
grep -q "listening on 127.0.0.1:8080" server.log

kill -TERM "$SERVER"
wait "$SERVER"
grep -q "Fiducia stopped" server.log
test -f fiducia-data/fiducia.sqlite
echo "smoke test passed: served with no configuration, stopped cleanly on SIGTERM"
