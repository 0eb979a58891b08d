#!/usr/bin/env bash
# Idempotent: install the pinned npm dependencies (package-lock.json).
set -eu
cd "$(dirname "$0")"
if [ -d node_modules/nsqjs ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund
