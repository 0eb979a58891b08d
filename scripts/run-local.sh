#!/usr/bin/env bash
# Builds the three daemons (installing build dependencies) and runs the local suite on NSQ's
# default ports in the foreground; Ctrl-C stops it. Data lives in ./.local-data (kept across runs).
#   nsqd        TCP 4150, HTTP 4151
#   nsqlookupd  TCP 4160, HTTP 4161   (nsqd registers with it: -lookupd-tcp-address)
#   nsqadmin    HTTP 4171             (-lookupd-http-address=127.0.0.1:4161)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
scripts/install-deps.sh --build-only
# Only the three daemons: the unit tests are not needed to run them.
scripts/build.sh release nsqd nsqlookupd nsqadmin

DATA="$REPO/.local-data"
mkdir -p "$DATA/nsqd"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

build/src/nsqlookupd/nsqlookupd -tcp-address=0.0.0.0:4160 -http-address=0.0.0.0:4161 &
pids+=($!)
build/src/nsqd/nsqd -tcp-address=0.0.0.0:4150 -http-address=0.0.0.0:4151 \
  -data-path="$DATA/nsqd" -lookupd-tcp-address=127.0.0.1:4160 &
pids+=($!)
build/src/nsqadmin/nsqadmin -http-address=0.0.0.0:4171 -lookupd-http-address=127.0.0.1:4161 &
pids+=($!)
echo "local NSQ suite running (Ctrl-C to stop): nsqd 4150/4151, nsqlookupd 4160/4161," \
  "nsqadmin http://localhost:4171"
wait -n "${pids[@]}"
