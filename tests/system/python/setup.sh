#!/usr/bin/env bash
# Idempotent: creates $REPO/.deps/venv and installs requirements.txt into it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
VENV="$REPO/.deps/venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.requirements.sha256"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    exit 0  # already up to date
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    mkdir -p "$REPO/.deps"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 needs the python3-venv package for ensurepip.
        rm -rf "$VENV"
        if command -v apt-get >/dev/null 2>&1; then
            SUDO=""; [[ "$(id -u)" != 0 ]] && SUDO="sudo"
            $SUDO apt-get update -qq
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
        fi
        python3 -m venv "$VENV"
    fi
fi

"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
