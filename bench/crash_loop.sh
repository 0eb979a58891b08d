#!/usr/bin/env bash
# Crash loops side by side: go-nsq publishers and consumers against nsqd SIGKILLed at random
# points and restarted on the same data directory, for ours and the reference, with the
# default flags and with --mem-queue-size=0 --sync-every=1 (or the flag sets you give).
#
#   bench/crash_loop.sh                       # 50 cycles per run
#   bench/crash_loop.sh --cycles 200 --seed 7
#   bench/crash_loop.sh --modes "--mem-queue-size=0 --sync-every=1|--sync-every=100"
#   bench/crash_loop.sh --pub-pause 0     # publishers as fast as acknowledged (long drains)
#   bench/crash_loop.sh --cycles 20 --modes "--durable"   # ours only: the reference has no -durable
#
# Prints one JSON line per run and a table: acknowledged, lost (acknowledged, never
# delivered), duplicates, corrupt bodies, failed restarts. The harness is
# tests/system/go/crashloop (go-nsq v1.1.0).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cycles=50
seed=$(date +%s)
ours="$REPO/build/src/nsqd/nsqd"
ref="$REPO/.deps/reference-bin/nsqd"
modes="|--mem-queue-size=0 --sync-every=1"
pub_pause=1ms
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cycles) cycles=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --ours) ours=$2; shift 2 ;;
    --ref) ref=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --pub-pause) pub_pause=$2; shift 2 ;;
    *) echo "usage: $0 [--cycles N] [--seed S] [--ours BIN] [--ref BIN] [--modes 'flags|flags'] [--pub-pause 1ms]" >&2
       exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$REPO/tests/system/go" && go build -o "$work/crashloop" ./crashloop)
IFS='|' read -r -a mode_list <<<"$modes"
results=()
for mode in "${mode_list[@]}"; do
  for impl in ours ref; do
    # The reference refuses flags it does not have (-durable is ours alone).
    [[ $impl == ref && " $mode " == *" --durable "* ]] && continue
    bin=$ours
    [[ $impl == ref ]] && bin=$ref
    mkdir -p "$work/$impl"
    line=$("$work/crashloop" -nsqd "$bin" -flags "$mode" -cycles "$cycles" -seed "$seed" \
      -pub-pause "$pub_pause" -work-dir "$work/$impl")
    rm -rf "$work/$impl"
    echo "$line"
    results+=("$impl	$line")
  done
done
printf '\n%-5s %-36s %8s %6s %6s %7s %8s %6s %8s\n' impl flags acked lost dups corrupt restartF queued seconds
for r in "${results[@]}"; do
  impl=${r%%	*}
  python3 - "$impl" "${r#*	}" <<'PY'
import json, sys
s = json.loads(sys.argv[2])
print("%-5s %-36s %8d %6d %6d %7d %8d %6d %8.0f" % (sys.argv[1], s["flags"] or "(defaults)",
      s["acked"], s["lost"], s["duplicates"], s["corrupt"], s["restart_failures"],
      s["left_in_queue"], s["seconds"]))
PY
done
