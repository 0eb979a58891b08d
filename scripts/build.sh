#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [release|asan|tsan] [targets...]
#   release -> build/        (RelWithDebInfo: the binaries users run)
#   asan    -> build-asan/   (Debug + AddressSanitizer + UndefinedBehaviorSanitizer)
#   tsan    -> build-tsan/   (Debug + ThreadSanitizer)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
flavor=${1:-release}
shift || true
case "$flavor" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DNSQ_SANITIZE=address,undefined) ;;
  tsan) dir=build-tsan; args=(-DCMAKE_BUILD_TYPE=Debug -DNSQ_SANITIZE=thread) ;;
  *) echo "usage: $0 [release|asan|tsan] [targets...]" >&2; exit 2 ;;
esac
jobs=${NSQ_BUILD_JOBS:-$(nproc)}
# ccache, when installed, makes rebuilds of unchanged sources (other trees, other checkouts) free.
if command -v ccache >/dev/null 2>&1; then args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$REPO" -B "$REPO/$dir" -G Ninja "${args[@]}" >/dev/null
ninja -C "$REPO/$dir" -j "$jobs" "$@"
