#!/usr/bin/env bash
# Builds the reference NSQ v1.3.0 Go binaries that the side-by-side tests and benchmarks run
# against: nsqd nsqlookupd nsqadmin nsq_tail to_nsq nsq_stat bench_writer bench_reader.
# Usage: scripts/build-reference.sh [DIR]   (default .deps/reference-bin; skips what exists)
#
# The binaries are built inside a throw-away module that requires nsq v1.3.0, because
# `go install github.com/nsqio/nsq/apps/nsqd@v1.3.0` refuses nsq's go.mod (it carries a
# replace directive for go-svc); the throw-away module repeats that replace.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$REPO/.deps/reference-bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
cd "$mod"
cat >go.mod <<'MOD'
module nsqcpp/reference

go 1.21

require github.com/nsqio/nsq v1.3.0

replace github.com/judwhite/go-svc => github.com/mreiferson/go-svc v1.2.2-0.20210815184239-7a96e00010f6
MOD
# One import keeps `go mod tidy` from dropping the requirement.
printf '//go:build tools\npackage reference\n\nimport _ "github.com/nsqio/nsq/apps/nsqd"\n' >deps.go
export GOFLAGS=-mod=mod
go mod tidy >/dev/null
build() {  # build NAME PACKAGE
  [[ -x "$out/$1" ]] || go build -o "$out/$1" "$2"
}
for app in nsqd nsqlookupd nsqadmin nsq_tail to_nsq nsq_stat; do
  build "$app" "github.com/nsqio/nsq/apps/$app"
done
for tool in bench_writer bench_reader; do
  build "$tool" "github.com/nsqio/nsq/bench/$tool"
done
"$out/nsqd" --version
