#!/usr/bin/env bash
# Checks that every quoted #include follows the layering that docs/architecture.md describes:
# each folder lists the prefixes it may include; anything else fails the test command.
# Usage: scripts/check-layering.sh   (exit 1 and one line per bad include when broken)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

# folder -> allowed include prefixes (space separated). A folder may always include itself.
declare -A ALLOWED=(
  [include/nsq]="nsq/"
  [src/common/gocompat]=""
  [src/common/protocol]="nsq/ common/gocompat/"
  [src/common/codec]="nsq/"
  [src/common]="nsq/ common/"
  [src/nsqd/memory]=""
  [src/nsqd/storage]="nsq/ common/ nsqd/queue/message.hpp"
  [src/nsqd/queue]="nsq/ common/ nsqd/storage/ nsqd/memory/"
  [src/nsqd/stats]="nsq/ common/ nsqd/nsqd.hpp nsqd/options.hpp nsqd/queue/"
  # ClientStats is plain data that tcp/ fills and stats/ renders.
  [src/nsqd/tcp]="nsq/ common/ nsqd/nsqd.hpp nsqd/options.hpp nsqd/queue/ nsqd/stats/client_stats.hpp"
  [src/nsqd/http]="nsq/ common/ nsqd/nsqd.hpp nsqd/options.hpp nsqd/queue/ nsqd/stats/"
  [src/nsqd/lookupd]="nsq/ common/ nsqd/nsqd.hpp nsqd/options.hpp"
  [src/nsqd]="nsq/ common/ nsqd/"
  [src/nsqlookupd]="nsq/ common/ nsqlookupd/"
  [src/nsqadmin]="nsq/ common/ nsqadmin/"
  [fuzz]="nsq/ common/ nsqd/ nsqlookupd/ nsqadmin/"
)

# The most specific folder that holds a file.
rule_for() {
  local dir=$1
  while [[ -n "$dir" && "$dir" != "." ]]; do
    if [[ -v "ALLOWED[$dir]" ]]; then
      echo "$dir"
      return
    fi
    dir=$(dirname "$dir")
  done
}

# The include prefix a folder's own headers are reached by ("src/nsqd/tcp" -> "nsqd/tcp/").
self_prefix() {
  case "$1" in
    include/*) echo "${1#include/}/" ;;
    src/*) echo "${1#src/}/" ;;
    *) echo "$1/" ;;
  esac
}

bad=0
while IFS= read -r file; do
  rule=$(rule_for "$(dirname "$file")")
  [[ -z "$rule" ]] && continue
  allowed="$(self_prefix "$rule") ${ALLOWED[$rule]}"
  while IFS= read -r inc; do
    ok=0
    for prefix in $allowed; do
      [[ "$inc" == "$prefix"* ]] && ok=1 && break
    done
    if ((!ok)); then
      echo "check-layering: $file includes \"$inc\" (allowed from $rule: $allowed)"
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  # The public headers name only the C++ standard library (no Boost, no zlib.h, no
  # snappy.h: those stay in src/), so that a client or a tool can use them alone. Standard
  # headers have no '.' and no '/' in their names.
  if [[ "$rule" == include/nsq ]] && grep -Eq '^#include <[^>]*[./][^>]*>' "$file"; then
    echo "check-layering: $file includes a third-party header:" \
      "$(grep -E '^#include <[^>]*[./][^>]*>' "$file" | head -1)"
    bad=1
  fi
done < <(find include src fuzz -name '*.hpp' -o -name '*.cpp' | sort)

if ((bad)); then exit 1; fi
echo "check-layering: ok"
