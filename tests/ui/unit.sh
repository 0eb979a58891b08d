#!/usr/bin/env bash
# The web UI's quick checks, no browser and no cluster: eslint over web/ and these tests, then
# node --test on the DOM-free modules (web/format.js, series.js, aggregate.js) in unit/.
# Needs `tests/ui/setup.sh` first (eslint is one of its pinned dev dependencies).
# Usage: tests/ui/unit.sh
set -eu
cd "$(dirname "$0")/../.."
tests/ui/node_modules/.bin/eslint -c tests/ui/eslint.config.mjs web tests/ui
echo "eslint: web/ and tests/ui/ clean"
exec node --test tests/ui/unit/
