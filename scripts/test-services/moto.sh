#!/usr/bin/env bash
# A throw-away moto server (in memory) speaking the AWS KMS API, for the
# AWS KMS key provider's tests.
#
#   eval "$(bash scripts/test-services/moto.sh /tmp/moto-test)"
#   cargo test -p mamori-keys --test provider_aws_kms
#   kill "$(cat /tmp/moto-test/moto.pid)"
#
# Starts `moto_server` on 127.0.0.1 (port MAMORI_TEST_MOTO_PORT, default
# 5000) in the background, logs to DIR/moto.log, writes its PID to
# DIR/moto.pid and waits until it answers (30 s at most). The server checks
# request signatures: its first three requests (unauthenticated) create an
# IAM user allowed everything and an access key for it, and every request
# after them must be signed with that key. Prints `export` lines for
# MAMORI_TEST_AWS_KMS_ENDPOINT, MAMORI_TEST_AWS_ACCESS_KEY_ID and
# MAMORI_TEST_AWS_SECRET_ACCESS_KEY on standard output (everything else goes
# to standard error). A server an earlier run left in the same DIR is
# stopped first. Installs PyPI's moto[server] when `moto_server` is missing.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR   (a directory for the server's log and PID file)" >&2
  exit 2
fi

PORT=${MAMORI_TEST_MOTO_PORT:-5000}
ENDPOINT="http://127.0.0.1:$PORT"
# Requests moto serves without a signature: the three that set up the user.
SETUP_REQUESTS=3

mkdir -p "$1"
dir=$(cd "$1" && pwd)
chmod 700 "$dir"
pidfile="$dir/moto.pid"
log="$dir/moto.log"

if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server not found: installing moto[server] from PyPI" >&2
  python3 -m pip install --quiet 'moto[server]' >&2
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  hash -r
  command -v moto_server >/dev/null 2>&1 || { echo "moto_server is still not on PATH after installing moto[server]" >&2; exit 1; }
fi

# A server this script started earlier in the same directory goes first.
if [ -f "$pidfile" ]; then
  old=$(cat "$pidfile")
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null && grep -qa 'moto' "/proc/$old/cmdline" 2>/dev/null; then
    echo "stopping the moto server of an earlier run (PID $old)" >&2
    kill "$old"
    for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
fi

port_open() {
  python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(('127.0.0.1', $PORT)) == 0 else 1)"
}

if port_open; then
  echo "127.0.0.1:$PORT is in use already; set MAMORI_TEST_MOTO_PORT to another port" >&2
  exit 1
fi

INITIAL_NO_AUTH_ACTION_COUNT=$SETUP_REQUESTS nohup moto_server -H 127.0.0.1 -p "$PORT" \
  >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"

# Readiness is a TCP connection, not a request: requests before the set-up
# would use up the unauthenticated ones.
ready=""
for _ in $(seq 1 60); do
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "moto exited; its log ($log) ends with:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  if port_open; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "moto did not answer at $ENDPOINT within 30 s (log: $log)" >&2
  exit 1
fi

# The IAM user and its key (boto3 comes with moto).
credentials=$(python3 - "$ENDPOINT" <<'PY'
import json, sys
import boto3
from botocore.config import Config

endpoint = sys.argv[1]
iam = boto3.client(
    "iam", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id="setup", aws_secret_access_key="setup",
    config=Config(retries={"max_attempts": 1}),
)
iam.create_user(UserName="mamori-test")
iam.put_user_policy(
    UserName="mamori-test", PolicyName="everything",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
)
key = iam.create_access_key(UserName="mamori-test")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
)
read -r key_id secret <<<"$credentials"
if [ -z "${key_id:-}" ] || [ -z "${secret:-}" ]; then
  echo "creating the test user's access key failed" >&2
  exit 1
fi

echo "moto server at $ENDPOINT, PID $(cat "$pidfile"); stop it with: kill \$(cat $pidfile)" >&2
printf 'export MAMORI_TEST_AWS_KMS_ENDPOINT=%q\n' "$ENDPOINT"
printf 'export MAMORI_TEST_AWS_ACCESS_KEY_ID=%q\n' "$key_id"
printf 'export MAMORI_TEST_AWS_SECRET_ACCESS_KEY=%q\n' "$secret"
