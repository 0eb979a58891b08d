#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [release|asan|tsan] [targets...]
#   release -> build/        (RelWithDebInfo: the binaries users run)
#   asan    -> build-asan/   (clang-14, -O1, asserts on, AddressSanitizer + UndefinedBehaviorSanitizer,
#                             and the libFuzzer targets of fuzz/: scripts/fuzz.sh builds them here)
#   tsan    -> build-tsan/   (Debug + ThreadSanitizer)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
flavor=${1:-release}
shift || true
case "$flavor" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  # clang, because libFuzzer is clang's: one tree compiles the daemons once for the sanitizer
  # tests and the fuzzers. -O1 as the ASan docs advise (fuzzers and the soak run faster than at -O0).
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1"
                              -DNSQ_SANITIZE=address,undefined -DNSQ_FUZZ=ON) ;;
  tsan) dir=build-tsan; args=(-DCMAKE_BUILD_TYPE=Debug -DNSQ_SANITIZE=thread) ;;
  *) echo "usage: $0 [release|asan|tsan] [targets...]" >&2; exit 2 ;;
esac
jobs=${NSQ_BUILD_JOBS:-$(nproc)}
# ccache, when installed, makes rebuilds of unchanged sources (other trees, other checkouts) free.
if command -v ccache >/dev/null 2>&1; then args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# build-asan was a gcc tree before it became clang's: such a tree is configured afresh.
if [[ $flavor == asan && -f $REPO/$dir/CMakeCache.txt ]] &&
  ! grep -q '^CMAKE_CXX_COMPILER:.*clang++-14' "$REPO/$dir/CMakeCache.txt"; then
  rm -rf "${REPO:?}/$dir"
fi
cmake -S "$REPO" -B "$REPO/$dir" -G Ninja "${args[@]}" >/dev/null
ninja -C "$REPO/$dir" -j "$jobs" "$@"
