#!/usr/bin/env bash
# Benchmark (not a test) of the trust engine, with a release build:
#   1. fiducia eval on Bitcoin Alpha: prequential AUC against the baselines, throughput, attacks;
#   2. fiducia replay on Bitcoin Alpha, timed end to end (reading, replaying, writing);
#   3. fiducia score on a synthetic network of 1,000,000 users and 10,000,000 ratings: time and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${FIDUCIA_ALPHA:-../shared/data/bitcoin-alpha.csv}
USERS=${1:-1000000}
RATINGS=${2:-10000000}

swift build -c release --product fiducia >&2
BIN=$(swift build -c release --show-bin-path)/fiducia
WORK=$(mktemp -d /tmp/fiducia-trust-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== eval on $DATA"
"$BIN" eval --ratings "$DATA" --attack sybil --attack badmouth --attack camouflage --attack milking --attack patient-sybil --attackers 50
for ties in 1 3 5 10 20; do
  "$BIN" eval --ratings "$DATA" --attack patient-sybil --bought-ties "$ties" | grep -E "target trust|proven"
done
echo "== the same without seeds (age alone proves)"
"$BIN" eval --ratings "$DATA" --founders 0 | grep -E "^engine"

echo "== replay on $DATA (end to end, output to a file)"
/usr/bin/time -f "replay: %e s wall, %M KiB peak" "$BIN" replay --ratings "$DATA" --output "$WORK/predictions.csv"
wc -l < "$WORK/predictions.csv"

echo "== synthetic network: $USERS users, $RATINGS ratings"
"$BIN" synth-network --users "$USERS" --ratings "$RATINGS" --output "$WORK/synthetic.csv" 2>/dev/null
ls -la "$WORK/synthetic.csv"
/usr/bin/time -f "score: %e s wall, %M KiB peak" "$BIN" score --ratings "$WORK/synthetic.csv" --output "$WORK/scores.csv"
/usr/bin/time -f "score without seeds: %e s wall, %M KiB peak" "$BIN" score --founders 0 --ratings "$WORK/synthetic.csv" --output "$WORK/scores.csv"
wc -l < "$WORK/scores.csv"
echo "== eval (engine throughput) on the synthetic network"
"$BIN" eval --ratings "$WORK/synthetic.csv" | grep -E "throughput|engine\b"
