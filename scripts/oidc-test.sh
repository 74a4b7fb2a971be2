#!/usr/bin/env bash
# Sign-in with an external account against real OpenID providers: starts two providers on
# loopback (Tests/tools/oidc_provider.py, built on idpyoidc; one signs ID tokens with RS256, the
# other with ES256), runs the built `fiducia serve` with both configured, and drives the whole
# flow through the pages (Tests/tools/oidc_flow.py). On SQLite, and on PostgreSQL when
# FIDUCIA_TEST_POSTGRES_URL names a server (scripts/test.sh starts one).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/fiducia
VENV=.venv-tests
if ! "$VENV/bin/python" -c 'import idpyoidc' >/dev/null 2>&1; then
  echo "==> installing idpyoidc into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q idpyoidc
fi
WORK=$(mktemp -d /tmp/fiducia-oidc.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() {
  for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "$1 did not come up" >&2; cat "$WORK"/*.log >&2; exit 1
}

run() {  # run DATABASE_URL LABEL
  local http_port op_port op2_port url
  http_port=$(free_port); op_port=$(free_port); op2_port=$(free_port)
  url="http://127.0.0.1:$http_port"
  "$VENV/bin/python" Tests/tools/oidc_provider.py --port "$op_port" --client-id fiducia-test --client-secret "op-secret-1" \
    --redirect-uri "$url/auth/op/callback" --person alice --email alice@op.test --name "Alice Provider" --alg RS256 >"$WORK/op.log" 2>&1 &
  PIDS+=($!)
  "$VENV/bin/python" Tests/tools/oidc_provider.py --port "$op2_port" --client-id fiducia-test-2 --client-secret "op-secret-2" \
    --redirect-uri "$url/auth/op2/callback" --person bob --email bob@op.test --name "Bob Provider" --alg ES256 >"$WORK/op2.log" 2>&1 &
  PIDS+=($!)
  wait_for "http://127.0.0.1:$op_port/.well-known/openid-configuration"
  wait_for "http://127.0.0.1:$op2_port/.well-known/openid-configuration"
  FIDUCIA_SIGN_IN_PROVIDERS="[{\"id\":\"op\",\"name\":\"Test OP\",\"issuer\":\"http://127.0.0.1:$op_port\",\"clientId\":\"fiducia-test\",\"clientSecret\":\"op-secret-1\"},
    {\"id\":\"op2\",\"name\":\"Second OP\",\"issuer\":\"http://127.0.0.1:$op2_port\",\"clientId\":\"fiducia-test-2\",\"clientSecret\":\"op-secret-2\"}]" \
    FIDUCIA_DATABASE_URL="$1" FIDUCIA_KEY_FILE="$WORK/fiducia-$2.keys" FIDUCIA_PORT=$http_port FIDUCIA_BCRYPT_COST=4 FIDUCIA_LOG_LEVEL=warning \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
  PIDS+=($!)
  wait_for "$url/health"
  echo "--- $2"
  FIDUCIA_URL="$url" python3 Tests/tools/oidc_flow.py || { echo "--- server log" >&2; tail -30 "$WORK/server.log" >&2; exit 1; }
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

run "$WORK/fiducia.sqlite" sqlite
if [ -n "${FIDUCIA_TEST_POSTGRES_URL:-}" ]; then
  DB="fiducia_oidc_$$"
  psql -q "$FIDUCIA_TEST_POSTGRES_URL" -c "CREATE DATABASE $DB"
  run "${FIDUCIA_TEST_POSTGRES_URL/\/postgres\?/\/$DB?}" postgresql
  psql -q "$FIDUCIA_TEST_POSTGRES_URL" -c "DROP DATABASE $DB"
fi
echo "sign-in with external accounts: all checks passed"
