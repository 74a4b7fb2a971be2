#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit tests, HTTP tests through the real application,
# repository and concurrency tests against real SQLite files AND a real PostgreSQL server
# (installed and started here, stopped afterwards), and browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
  echo "==> installing selenium with pip"
  python3 -m pip install -q selenium
fi
# The independent verifier of reputation credentials (Tests/tools/verify_credential.py) and the
# SMTP server the mail test delivers to.
if ! python3 -c 'import rfc8785, cryptography, aiosmtpd' >/dev/null 2>&1; then
  echo "==> installing rfc8785, cryptography and aiosmtpd with pip"
  python3 -m pip install -q rfc8785 cryptography aiosmtpd
fi

echo "==> starting a PostgreSQL server for the tests"
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop "$FIDUCIA_TEST_POSTGRES_DIR"' EXIT

echo "==> building"
swift build --build-tests

echo "==> Swift tests (SQLite and PostgreSQL)"
swift test --skip-build

echo "==> smoke test: fiducia serve with no configuration"
scripts/smoke-test.sh

echo "==> crash test: trading through SIGKILLs, on SQLite and PostgreSQL"
scripts/crash-test.sh 10 4

echo "==> API contract: schemathesis against /openapi.yaml as a buyer, a seller and an admin"
scripts/api-contract.sh

echo "==> mail test: a verification code through a real SMTP server"
scripts/mail-test.sh

echo "==> sign-in test: OpenID Connect against real providers (idpyoidc) on SQLite and PostgreSQL"
scripts/oidc-test.sh

echo "==> browser tests"
scripts/browser-tests.sh

echo "==> all tests passed in $(( $(date +%s) - started )) s"
