#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 (ASan + UBSan + libFuzzer, in the tree
# build-asan/ that the sanitizer tests use too) and runs each for a bounded time on a scratch
# copy of its kept corpus fuzz/corpus/<target>/ (the repository's corpus never grows by itself;
# see fuzz/README.md).
# Fails if any target crashes, leaks, times out, runs out of memory or breaks a FUZZ_CHECK.
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]     (default 20 s, every target)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true

# clang-14 and its libFuzzer runtime (libclang-rt-14-dev) are among the test packages.
"$REPO/scripts/install-deps.sh"

dir="$REPO/build-asan"
"$REPO/scripts/build.sh" asan nsq_fuzzers

# The longest input worth trying per target (bigger inputs only slow the search down).
declare -A MAX_LEN=([v2_parser]=4096 [lookup_v1]=2048 [stream_codec]=8192 [message_codec]=512
                    [identify]=2048 [metadata]=2048 [http_mpub_body]=1024 [go_json]=1024
                    [go_values]=128 [query]=512 [flag_set]=1024 [nsqadmin_stats]=4096 [v2_differential]=4096
                    [disk_queue_files]=2048 [nsqd_http]=2048 [nsqlookupd_http]=1024
                    [nsqadmin_http]=1024)

targets=("$@")
if ((${#targets[@]} == 0)); then
  for bin in "$dir"/fuzz/fuzz_*; do targets+=("$(basename "$bin" | sed 's/^fuzz_//')"); done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nsq-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  rm -rf "$REPO/build-asan/fuzz-artifacts/$t"  # only this run's reproducers are kept
  cp "$REPO/fuzz/corpus/$t/"* "$work/$t/corpus/" 2>/dev/null || true
  log="$work/$t/log"
  # -error_exitcode / -timeout_exitcode make every kind of failure a non-zero exit.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$dir/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len="${MAX_LEN[$t]:-4096}" -timeout=5 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
    "$work/$t/corpus" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf '%-16s %-6s %12s execs in %ss  %s\n' "$t" "$status" "${execs:-?}" "$seconds" "$cov"
  if [[ $status == FAILED ]]; then
    tail -n 60 "$log"
    mkdir -p "$REPO/build-asan/fuzz-artifacts/$t"
    cp "$work/$t/artifacts/"* "$REPO/build-asan/fuzz-artifacts/$t/" 2>/dev/null || true
    echo "(reproducer kept in build-asan/fuzz-artifacts/$t/)"
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: ok (${#targets[@]} targets, ${seconds}s each)"
