#!/usr/bin/env bash
# Load test of the vendor list page and list API with N vendors, using wrk
# from a second process. Prints wrk's latency distribution (p50…p99).
#   scripts/load-test.sh [VENDORS] [SECONDS]
# Needs: a release build (cargo build --release), wrk, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDORS=${1:-10000}
SECONDS_PER_RUN=${2:-20}
BIN=target/release/mamori
PORT=${PORT:-18080}
DIR=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT

MAMORI_DATA_DIR="$DIR" "$BIN" bench seed --vendors "$VENDORS" 2> "$DIR/seed.err"
PASSWORD=$(grep -o 'administrator admin@mamori.local / .*' "$DIR/seed.err" | awk '{print $4}')
MAMORI_LOG=warn "$BIN" --data-dir "$DIR" serve --listen "127.0.0.1:$PORT" 2> "$DIR/serve.err" &
SERVER=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

# Sign in like a browser and keep the session cookie.
JAR="$DIR/cookies"
CSRF=$(curl -s -c "$JAR" "http://127.0.0.1:$PORT/login" | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "email=admin@mamori.local" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "csrf=$CSRF" "http://127.0.0.1:$PORT/login"
SESSION=$(awk '$6 == "mamori_session" {print $7}' "$JAR")
PAGE_CSRF=$(curl -s -H "Cookie: mamori_session=$SESSION" "http://127.0.0.1:$PORT/account" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
TOKEN=$(curl -s -H "Cookie: mamori_session=$SESSION" -H "X-CSRF-Token: $PAGE_CSRF" -H 'Content-Type: application/json' \
  -d '{"name":"load test"}' "http://127.0.0.1:$PORT/api/v1/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')

echo "== vendor list page, $VENDORS vendors (50 per page, sorted by tier)"
wrk -t1 -c8 -d"${SECONDS_PER_RUN}s" --latency -H "Cookie: mamori_session=$SESSION" \
  "http://127.0.0.1:$PORT/vendors?sort=tier&dir=desc"
echo "== vendor list API, $VENDORS vendors (50 per page)"
wrk -t1 -c8 -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/vendors"
echo "== vendor list API with a search and a filter"
wrk -t1 -c8 -d"${SECONDS_PER_RUN}s" --latency -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/vendors?q=lab&data_class=phi&sort=score&dir=desc"
