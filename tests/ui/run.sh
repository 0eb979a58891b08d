#!/usr/bin/env bash
# nsqadmin tests: the /api compared with the reference nsqadmin on the same live cluster, bad
# input and dead/slow/garbage upstreams, and the web UI in headless Chromium.
# Binaries (env): NSQADMIN_BIN (ours, default build/src/nsqadmin/nsqadmin),
#   NSQADMIN_REF_BIN (default /work/refbin/nsqadmin or .deps/reference-bin/nsqadmin),
#   NSQD_BIN / NSQLOOKUPD_BIN (default: the reference's until ours land).
# Usage: tests/ui/run.sh [test files...]
set -eu
cd "$(dirname "$0")"
REPO=$(cd ../.. && pwd)
REF_DIR=/work/refbin
[ -x "$REF_DIR/nsqd" ] || REF_DIR="$REPO/.deps/reference-bin"
export NSQ_BIN_DIR="${NSQ_BIN_DIR:-$REF_DIR}"
export NSQADMIN_BIN="${NSQADMIN_BIN:-$REPO/build/src/nsqadmin/nsqadmin}"
export NSQADMIN_REF_BIN="${NSQADMIN_REF_BIN:-$REF_DIR/nsqadmin}"
export UI_SERVER="${UI_SERVER:-nsqadmin}"
if [ $# -eq 0 ]; then set -- *.test.mjs; fi
exec node --test --test-concurrency=1 --test-timeout=240000 "$@"
