#!/usr/bin/env bash
# Builds the daemons and runs a small cluster in the foreground; Ctrl-C stops it:
#   nsqlookupd  TCP 4160, HTTP 4161
#   nsqd #1     TCP 4150, HTTP 4151   \
#   nsqd #2     TCP 4250, HTTP 4251    } each registered with the lookupd
#   nsqd #3     TCP 4350, HTTP 4351   /
#   nsqadmin    HTTP 4171             (-lookupd-http-address=127.0.0.1:4161: shows all three)
# Consumers find all three through the lookupd: e.g. pynsq
#   nsq.Reader(..., lookupd_http_addresses=["http://127.0.0.1:4161"])
# Data lives in ./.local-data/cluster-nsqd{1,2,3} (kept across runs).
# SKIP_BUILD=1 uses the existing build/ binaries as they are.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
if [[ -z "${SKIP_BUILD:-}" ]]; then
  scripts/install-deps.sh --build-only
  scripts/build.sh release nsqd nsqlookupd nsqadmin  # the daemons only, not the tests
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

build/src/nsqlookupd/nsqlookupd -tcp-address=0.0.0.0:4160 -http-address=0.0.0.0:4161 &
pids+=($!)
for i in 1 2 3; do
  base=$((4050 + 100 * i))
  data="$REPO/.local-data/cluster-nsqd$i"
  mkdir -p "$data"
  build/src/nsqd/nsqd -tcp-address=0.0.0.0:$base -http-address=0.0.0.0:$((base + 1)) \
    -data-path="$data" -lookupd-tcp-address=127.0.0.1:4160 &
  pids+=($!)
done
build/src/nsqadmin/nsqadmin -http-address=0.0.0.0:4171 -lookupd-http-address=127.0.0.1:4161 &
pids+=($!)
echo "cluster running (Ctrl-C to stop): nsqlookupd 4160/4161, nsqd 4150/4151 4250/4251 4350/4351," \
  "nsqadmin http://localhost:4171"
wait -n "${pids[@]}"
