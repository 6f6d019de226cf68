#!/usr/bin/env bash
# Debian's chromium for the dashboard's browser test (playwright-core drives /usr/bin/chromium; we
# never download a browser with `npx playwright install`). Idempotent: a no-op when installed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "ensure-chromium: installing Debian's chromium (apt-get)…" >&2
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "ensure-chromium: need root or sudo to apt-get install chromium" >&2
    exit 1
  fi
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium
