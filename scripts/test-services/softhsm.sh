#!/usr/bin/env bash
# A throw-away SoftHSM2 token for the PKCS#11 key provider's tests.
#
#   eval "$(scripts/test-services/softhsm.sh /tmp/hsm-test)"
#   cargo test -p mamori-keys --test provider_pkcs11
#
# Writes DIR/softhsm2.conf with its token directory in DIR/tokens, creates
# the token "mamori-test" there, and prints `export` lines for
# SOFTHSM2_CONF and MAMORI_TEST_PKCS11_{MODULE,TOKEN,PIN} on standard
# output (everything else goes to standard error). Running it again on the
# same DIR starts from an empty token. Needs Debian's softhsm2 package.
# The PINs are for this test token only; MAMORI_TEST_PKCS11_PIN and
# MAMORI_TEST_PKCS11_SO_PIN in the environment replace the defaults.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR   (a directory for the throw-away token)" >&2
  exit 2
fi

LABEL=mamori-test
PIN=${MAMORI_TEST_PKCS11_PIN:-mamori-user-1234}
SO_PIN=${MAMORI_TEST_PKCS11_SO_PIN:-mamori-so-5678}
MARKER="# mamori test token (scripts/test-services/softhsm.sh)"

if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "softhsm2-util not found: install Debian's softhsm2 package (apt-get install softhsm2)" >&2
  exit 1
fi

module=""
for candidate in /usr/lib/softhsm/libsofthsm2.so; do
  if [ -f "$candidate" ]; then
    module=$candidate
    break
  fi
done
if [ -z "$module" ] && command -v dpkg >/dev/null 2>&1; then
  module=$(dpkg -L softhsm2 libsofthsm2 2>/dev/null | grep '/libsofthsm2\.so$' | head -n 1 || true)
fi
if [ -z "$module" ] || [ ! -f "$module" ]; then
  echo "libsofthsm2.so not found (looked in /usr/lib/softhsm and in dpkg -L softhsm2)" >&2
  exit 1
fi

mkdir -p "$1"
dir=$(cd "$1" && pwd)
conf="$dir/softhsm2.conf"
tokens="$dir/tokens"

if [ -e "$conf" ] && ! grep -qxF "$MARKER" "$conf"; then
  echo "$conf exists and was not written by this script; choose another directory" >&2
  exit 1
fi
# A token left by an earlier run of this script in the same directory goes:
# two tokens with one label would make the tests ambiguous.
if [ -d "$tokens" ]; then
  find "$tokens" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
mkdir -p "$tokens"

cat > "$conf" <<CONF
$MARKER
directories.tokendir = $tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF

SOFTHSM2_CONF="$conf" softhsm2-util --init-token --free --label "$LABEL" \
  --pin "$PIN" --so-pin "$SO_PIN" >&2

printf 'export SOFTHSM2_CONF=%q\n' "$conf"
printf 'export MAMORI_TEST_PKCS11_MODULE=%q\n' "$module"
printf 'export MAMORI_TEST_PKCS11_TOKEN=%q\n' "$LABEL"
printf 'export MAMORI_TEST_PKCS11_PIN=%q\n' "$PIN"
