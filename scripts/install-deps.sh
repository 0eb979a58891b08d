#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Idempotent: apt runs only when
# something is missing. Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libboost1.81-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libssl-dev libsnappy-dev zlib1g-dev
)
# clang-14 + its runtime: the asan tree and libFuzzer (scripts/build.sh asan, scripts/fuzz.sh);
# clang-tidy-14: scripts/tidy.sh;
# systemd: systemd-analyze verifies the packaged units (tests/package/run.sh). None is needed
# to build and run the daemons.
TEST_PACKAGES=(python3 python3-venv python3-pip golang-go nodejs npm systemd clang-14
  libclang-rt-14-dev clang-tidy-14)

packages=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" != "--build-only" ]]; then packages+=("${TEST_PACKAGES[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  # A toolchain installed outside apt (go, node, python in /usr/local) counts as present.
  case "$p" in
    golang-go) command -v go >/dev/null 2>&1 && continue ;;
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
    python3-venv) python3 -c 'import venv, ensurepip' >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
