#!/usr/bin/env bash
# Debian packages the tests use: chromium for the dashboard's browser test (playwright-core drives
# /usr/bin/chromium; we never download a browser with `npx playwright install`) and libfaketime for
# the clock-skew fault test (a worker whose wall clock is wrong). Idempotent: a no-op when installed.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || missing+=(libfaketime)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "ensure-test-packages: installing Debian's ${missing[*]} (apt-get)…" >&2
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "ensure-test-packages: need root or sudo to apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
test -x /usr/bin/chromium
test -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
