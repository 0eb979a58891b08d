#!/usr/bin/env bash
# Runs the nsqjs system tests against $NSQD_BIN (default <repo>/build/src/nsqd/nsqd).
# Exit code = node's.
set -u
# A relative NSQD_BIN is taken relative to the caller's directory.
if [ -n "${NSQD_BIN:-}" ]; then
  case "$NSQD_BIN" in /*) ;; *) NSQD_BIN="$PWD/$NSQD_BIN" ;; esac
  export NSQD_BIN
fi
cd "$(dirname "$0")"
echo "nsqd under test: ${NSQD_BIN:-$(cd ../../.. && pwd)/build/src/nsqd/nsqd (default)}"
[ -d node_modules/nsqjs ] || ./setup.sh || exit 1
# One test file at a time (2-core machines); --test-force-exit guards against
# a client timer keeping a file's process alive after its tests finished.
exec node --test --test-concurrency=1 --test-timeout=60000 --test-force-exit test/*.test.js
