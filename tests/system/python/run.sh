#!/usr/bin/env bash
# Runs the python system tests: run.sh [pytest args...] [test files or node ids]
# NSQD_BIN selects the nsqd under test (default: $REPO/build/src/nsqd/nsqd).
# Without a test path argument, the whole directory is run.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
"$HERE/setup.sh" || { echo "setup.sh failed" >&2; exit 1; }

have_path=0
for a in "$@"; do
    [[ "$a" != -* && -e "${a%%::*}" ]] && have_path=1
done
targets=()
[[ $have_path == 0 ]] && targets=("$HERE")

"$REPO/.deps/venv/bin/python" -m pytest -p no:cacheprovider --rootdir="$HERE" "$@" "${targets[@]}"
exit $?
