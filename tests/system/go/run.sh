#!/usr/bin/env bash
# Runs the go-nsq system tests against $NSQD_BIN (default <repo>/build/src/nsqd/nsqd).
# Exit code = go test's.
set -u
# A relative NSQD_BIN is taken relative to the caller's directory.
if [ -n "${NSQD_BIN:-}" ]; then
  case "$NSQD_BIN" in /*) ;; *) NSQD_BIN="$PWD/$NSQD_BIN" ;; esac
  export NSQD_BIN
fi
cd "$(dirname "$0")"
echo "nsqd under test: ${NSQD_BIN:-$(cd ../../.. && pwd)/build/src/nsqd/nsqd (default)}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
go test -count=1 -p 1 -timeout 300s -v ./... 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^--- PASS' "$out")
fail=$(grep -c '^--- FAIL' "$out")
skip=$(grep -c '^--- SKIP' "$out")
echo "go-system: $pass passed, $fail failed, $skip skipped"
exit "$rc"
