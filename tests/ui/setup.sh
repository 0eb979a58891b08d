#!/usr/bin/env bash
# Idempotent: Chromium (Debian package) for the headless browser tests and the pinned npm
# dependencies (playwright-core drives /usr/bin/chromium; no browser download).
set -eu
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi
if [ -d node_modules/playwright-core ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
