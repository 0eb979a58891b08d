#!/usr/bin/env bash
# Builds everything and runs every test: unit tests (plain, ASan+UBSan, TSan) and the system
# tests with the real clients (pynsq, go-nsq, nsqjs) against our daemons and, where a test
# compares, against the reference Go NSQ v1.3.0. Installs what it needs; safe to re-run.
# Usage: scripts/test.sh            (everything, as CI runs it)
#        NSQ_SKIP_SANITIZERS=1 scripts/test.sh   (faster local loop)
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

failures=()
# Each step's output is kept too, so that the end of the run (all that a CI page may show) can
# repeat the lines that name what failed in every failed step.
STEP_LOGS=$(mktemp -d)
trap 'rm -rf "$STEP_LOGS"' EXIT
failure_logs=()
step() {  # step NAME COMMAND...: runs one suite, records failure, keeps going
  local name=$1
  shift
  echo
  echo "=== $name"
  local start=$SECONDS
  local log="$STEP_LOGS/step-$start-$RANDOM.log"
  if "$@" 2>&1 | tee "$log"; then  # pipefail: the step's status, not tee's
    echo "=== $name: ok ($((SECONDS - start))s)"
  else
    echo "=== $name: FAILED ($((SECONDS - start))s)"
    failures+=("$name")
    failure_logs+=("$log")
  fi
}
# What failed inside a step: pytest's short summary, go test, GoogleTest, node --test, ctest.
failure_digest() {
  local i
  for i in "${!failures[@]}"; do
    echo "--- ${failures[$i]}:"
    grep -E '^(FAILED|ERROR) |^--- FAIL|^\[  FAILED  \]|^not ok |^FAIL|\*\*\*Failed|Error:|error:' \
      "${failure_logs[$i]}" | tail -n 40
  done
}
must() {  # setup steps that the rest depends on
  echo "=== $*"
  "$@" || { echo "=== setup failed: $*"; exit 1; }
}

must scripts/install-deps.sh
if [[ ! -x .deps/reference-bin/nsqd ]]; then
  must scripts/build-reference.sh "$REPO/.deps/reference-bin"
fi
must scripts/build.sh release
must tests/system/python/setup.sh
must tests/system/go/setup.sh
must tests/system/js/setup.sh
must tests/ui/setup.sh

export NSQD_BIN="$REPO/build/src/nsqd/nsqd"
export NSQD_REF_BIN="$REPO/.deps/reference-bin/nsqd"
export NSQLOOKUPD_BIN="$REPO/build/src/nsqlookupd/nsqlookupd"
export NSQLOOKUPD_REF_BIN="$REPO/.deps/reference-bin/nsqlookupd"

# Style: every C++ file as .clang-format says (fix with: git ls-files '*.cpp' '*.hpp' | xargs clang-format -i).
step "clang-format check" bash -c "git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror"
# Layering: each folder includes only what docs/architecture.md allows it (the table is in the script).
step "include layering" scripts/check-layering.sh
# clang-tidy (.clang-tidy) on the decoders of outside bytes and the Go-text layers; the whole
# tree (scripts/tidy.sh all) costs ~20 min of CPU, far over the budget. ~24 s.
step "clang-tidy (protocol, codecs, gocompat, util, config)" scripts/tidy.sh
# The web UI without a browser: eslint over web/ and tests/ui/, node --test on its DOM-free
# modules (formatting, series, aggregation, sorting). ~15 s.
step "web UI lint and unit tests" tests/ui/unit.sh
step "unit tests (release)" ctest --test-dir build --output-on-failure -j2
# The .deb built by cpack, installed in a scratch root, its daemons started from the example
# configs, its systemd units verified.
step "package (.deb, install, systemd units)" tests/package/run.sh
# libFuzzer (clang-14, ASan+UBSan) on every decoder of outside bytes, 10 s per target on a copy
# of fuzz/corpus/; longer runs by hand: scripts/fuzz.sh 300 <target>. The fuzzers are built in
# build-asan/, so the sanitizer steps below reuse the daemon libraries compiled here.
step "fuzz targets (10 s each)" scripts/fuzz.sh 10
step "system tests: python (pynsq, raw protocol, HTTP)" tests/system/python/run.sh -q
step "system tests: go (go-nsq)" tests/system/go/run.sh
step "system tests: js (nsqjs)" tests/system/js/run.sh
# nsqadmin (ours, and the reference's for the /api comparison) over a cluster of our nsqd and
# nsqlookupd; UI_NSQD_BIN / UI_NSQLOOKUPD_BIN switch the cluster to other binaries.
step "nsqadmin: /api vs reference, UI in headless Chromium" \
  env NSQADMIN_BIN="$REPO/build/src/nsqadmin/nsqadmin" NSQADMIN_REF_BIN="$REPO/.deps/reference-bin/nsqadmin" \
  NSQD_BIN="${UI_NSQD_BIN:-$REPO/build/src/nsqd/nsqd}" \
  NSQLOOKUPD_BIN="${UI_NSQLOOKUPD_BIN:-$REPO/build/src/nsqlookupd/nsqlookupd}" \
  NSQ_TAIL_BIN="$REPO/.deps/reference-bin/nsq_tail" UI_SCREENSHOTS=0 tests/ui/run.sh

if [[ -z "${NSQ_SKIP_SANITIZERS:-}" ]]; then
  step "build asan+ubsan" scripts/build.sh asan nsq_unit_tests nsqd nsqlookupd
  step "unit tests (asan+ubsan)" build-asan/tests/unit/nsq_unit_tests --gtest_brief=1
  # The bad-input and HTTP suites against the instrumented server: malformed frames and
  # requests must not touch memory they do not own.
  # ... and the 10 s soak (REQ, TOUCH, timeouts, disconnects, pause, empty, delete, lookupd
  # restarts): every message accounted for, no leak or error at nsqd's exit.
  step "system tests: bad input and soak vs asan+ubsan nsqd" \
    env NSQD_BIN="$REPO/build-asan/src/nsqd/nsqd" NSQD_SANITIZED=1 tests/system/python/run.sh -q \
    tests/system/python/test_bad_input.py tests/system/python/test_http_api.py \
    tests/system/python/test_soak.py
  step "system tests: lookupd vs asan+ubsan nsqd and nsqlookupd" \
    env NSQD_BIN="$REPO/build-asan/src/nsqd/nsqd" \
    NSQLOOKUPD_BIN="$REPO/build-asan/src/nsqlookupd/nsqlookupd" tests/system/python/run.sh -q \
    tests/system/python/test_lookupd.py
  step "build tsan" scripts/build.sh tsan nsq_unit_tests nsqd nsqlookupd
  step "unit tests (tsan)" build-tsan/tests/unit/nsq_unit_tests --gtest_brief=1
  # Real concurrent traffic through the threaded core under ThreadSanitizer.
  step "system tests: go-nsq vs tsan nsqd" \
    env NSQD_BIN="$REPO/build-tsan/src/nsqd/nsqd" TSAN_OPTIONS="halt_on_error=1" \
    NSQLOOKUPD_BIN="$REPO/build-tsan/src/nsqlookupd/nsqlookupd" tests/system/go/run.sh
fi

echo
if ((${#failures[@]})); then
  failure_digest
  echo "FAILED: ${failures[*]}"
  exit 1
fi
echo "all test suites passed"
