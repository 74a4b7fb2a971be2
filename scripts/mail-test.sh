#!/usr/bin/env bash
# A verification code travels by real mail: starts a real SMTP server on loopback (Python's
# aiosmtpd, writing what it receives to a file), runs the built `fiducia serve` with that server as
# its relay, signs a user up through the API, starts an e-mail verification, reads the code from
# the received mail, types it back, and checks that the level is verified. Also checks that the key
# file was created with mode 0600 and that the mail's address is not in the database in the clear.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)/fiducia
WORK=$(mktemp -d /tmp/fiducia-mail.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
SMTP_PORT=$(free_port)
HTTP_PORT=$(free_port)
python3 -u -m aiosmtpd -n -c aiosmtpd.handlers.Debugging -l "127.0.0.1:$SMTP_PORT" >"$WORK/received.txt" 2>&1 &
SMTP=$!
FIDUCIA_SMTP_RELAY="127.0.0.1:$SMTP_PORT" FIDUCIA_PORT=$HTTP_PORT FIDUCIA_BCRYPT_COST=4 \
  "$BIN" serve --database "$WORK/fiducia.sqlite" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER $SMTP 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
URL="http://127.0.0.1:$HTTP_PORT"
until curl -fs "$URL/health" >/dev/null 2>&1; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.05
done

json() { curl -fs -H 'Content-Type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
json -X POST "$URL/v1/users" -d '{"email":"mail.test@example.org","password":"correct horse battery","displayName":"Mail Test"}' >/dev/null
TOKEN=$(json -X POST "$URL/v1/sessions" -d '{"email":"mail.test@example.org","password":"correct horse battery"}' | field '["token"]')
ID=$(json -X POST "$URL/v1/verifications" -H "Authorization: Bearer $TOKEN" -d '{"level":"email"}' | field '["verification"]["id"]')

CODE=""
for _ in $(seq 1 100); do
  CODE=$(sed -n 's/.*verify this e-mail address on Fiducia is \([0-9]\{6\}\).*/\1/p' "$WORK/received.txt" | head -1)
  [ -n "$CODE" ] && break
  sleep 0.1
done
[ -n "$CODE" ] || { echo "no mail arrived" >&2; cat "$WORK/server.log" >&2; exit 1; }
grep -q "^To: <mail.test@example.org>" "$WORK/received.txt"
STATE=$(json -X POST "$URL/v1/verifications/$ID/code" -H "Authorization: Bearer $TOKEN" -d "{\"code\":\"$CODE\"}" | field '["state"]')
[ "$STATE" = approved ] || { echo "the mailed code did not verify: $STATE" >&2; exit 1; }

[ "$(stat -c %a "$WORK/fiducia.keys")" = 600 ] || { echo "the key file is not mode 0600" >&2; exit 1; }
if cat "$WORK"/fiducia.sqlite* | grep -aq "mail.test@example.org"; then
  echo "the e-mail address is in the database in the clear" >&2
  exit 1
fi
echo "mail test passed: the code arrived through a real SMTP server and verified the address"
