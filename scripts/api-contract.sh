#!/usr/bin/env bash
# The API's contract, checked from outside: schemathesis (from PyPI, in .venv-tests) reads
# /openapi.yaml from a running `fiducia serve` over the demo data and fires generated requests at
# every operation with every check, signed in as a buyer, a seller and an admin. Any request the
# document allows that the server refuses, any it forbids that the server accepts, any answer
# that does not match the document, and any 5xx fails the run.
#   scripts/api-contract.sh [max-examples per operation, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=${1:-10}
SCHEMATHESIS_VERSION=4.32.5
VENV=$PWD/.venv-tests
BIN=$(swift build --show-bin-path)/fiducia
if ! "$VENV/bin/python" -c "import schemathesis, sys; sys.exit(schemathesis.__version__ != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK=$(mktemp -d /tmp/fiducia-contract.XXXXXX)
LOGS=$PWD/.build-contract
rm -rf "$LOGS" && mkdir -p "$LOGS"
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
(cd "$WORK" && env -u FIDUCIA_DATABASE_URL "$BIN" demo >demo.log 2>&1)
(cd "$WORK" && env -u FIDUCIA_DATABASE_URL FIDUCIA_PORT=$PORT "$BIN" serve >server.log 2>&1) &
SERVER=$!
until curl -fs "$BASE/health" >/dev/null 2>&1; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done

# The rating log before the fuzzing: the auditor pins the key and remembers the tree head.
LOTUS=$(curl -fs "$BASE/v1/users?limit=100" -H "Authorization: Bearer $(curl -fs -X POST "$BASE/v1/sessions" \
  -H 'Content-Type: application/json' -d '{"email":"admin@demo.fiducia.test","password":"fiducia-demo"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')" |
  python3 -c 'import json, sys; print(next(u["id"] for u in json.load(sys.stdin)["items"] if u["displayName"] == "Lotus Tea House"))')
"$BIN" log verify --server "$BASE" --state "$WORK/auditor.json" --user "$LOTUS"

failed=()
for who in alice lotus admin; do
  token=$(curl -fs -X POST "$BASE/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$who@demo.fiducia.test\",\"password\":\"fiducia-demo\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  echo "==> schemathesis as $who@demo.fiducia.test ($EXAMPLES examples per operation)"
  # Signing out would end the session the rest of the run uses; incident mode, switched on by the
  # admin's run, would pause orders with a 503 by design (DataRights/Incident tests cover it). Text may not carry NUL (U+0000),
  # as the document's introduction says. One worker: hypothesis describes
  # its filters by parsing source, which is not thread-safe on this Python (a spurious error).
  if ! SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=Tests/tools "$VENV/bin/schemathesis" --config-file Tests/tools/schemathesis.toml run "$BASE/openapi.yaml" \
      --url "$BASE/v1" -H "Authorization: Bearer $token" --checks all \
      --exclude-operation-id deleteCurrentSession --exclude-operation-id startIncident --max-examples "$EXAMPLES" --workers 1 --generation-allow-x00 false \
      --no-color --output-truncate false >"$LOGS/$who.log" 2>&1; then
    failed+=("$who")
    python3 Tests/tools/schemathesis_summary.py "$LOGS/$who.log"
  fi
  tail -n 1 "$LOGS/$who.log"
done
# Whatever the fuzzer did through the API, the log only grew and still tells the truth. A tree
# head now, so that what the fuzzer did is under one (servers sign one each minute).
(cd "$WORK" && env -u FIDUCIA_DATABASE_URL "$BIN" log sign)
"$BIN" log verify --server "$BASE" --state "$WORK/auditor.json" --user "$LOTUS"

if [ ${#failed[@]} -gt 0 ]; then
  echo "API contract broken for: ${failed[*]} (whole reports in $LOGS)" >&2
  exit 1
fi
echo "API contract kept for a buyer, a seller and an admin"
