#!/usr/bin/env bash
# The .deb as a user gets it: builds it with cpack from build/ (scripts/build.sh release first),
# checks that apt can resolve its dependencies here, installs it with dpkg into a scratch root,
# starts the installed nsqlookupd, nsqd and nsqadmin from their example configs (on free
# loopback ports), publishes, and checks that the message is visible through all three; then
# verifies the installed systemd units with systemd-analyze. Usage: tests/package/run.sh
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$REPO/build"
WORK=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "package test: FAILED: $*" >&2
  for log in "$WORK"/*.log; do
    [[ -f "$log" ]] && { echo "--- $log"; tail -20 "$log"; }
  done
  exit 1
}

# 1. Build the package.
cmake -S "$REPO" -B "$BUILD" >/dev/null
(cd "$BUILD" && cpack -B "$WORK/pkg" >/dev/null) || fail "cpack"
deb=$(ls "$WORK"/pkg/nsq-cpp_*.deb)
echo "package test: built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb -f "$deb" Depends | grep -q libssl || fail "no shared-library dependencies recorded"
apt-get install -s "$deb" >"$WORK/apt.log" 2>&1 || fail "apt cannot resolve its dependencies"

# 2. Install it into a scratch root (no root rights, no maintainer scripts needed).
root="$WORK/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --instdir="$root" --admindir="$root/var/lib/dpkg" --force-not-root --force-depends \
  --force-script-chrootless -i "$deb" >"$WORK/dpkg.log" 2>&1 || fail "dpkg -i"
for bin in nsqd nsqlookupd nsqadmin; do
  [[ -x "$root/usr/bin/$bin" ]] || fail "/usr/bin/$bin not installed"
done
examples="$root/usr/share/doc/nsq-cpp/examples"

# 3. Start the installed daemons from the example configs (one that cannot read its file never
#    answers); flags move them to free ports.
read -r lookup_tcp lookup_http nsqd_tcp nsqd_http admin_http < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
mkdir -p "$WORK/data"
"$root/usr/bin/nsqlookupd" -config="$examples/nsqlookupd.cfg.example" \
  -tcp-address="127.0.0.1:$lookup_tcp" -http-address="127.0.0.1:$lookup_http" \
  >"$WORK/nsqlookupd.log" 2>&1 &
pids+=($!)
"$root/usr/bin/nsqd" -config="$examples/nsqd.cfg.example" -data-path="$WORK/data" \
  -tcp-address="127.0.0.1:$nsqd_tcp" -http-address="127.0.0.1:$nsqd_http" \
  -broadcast-address=127.0.0.1 -lookupd-tcp-address="127.0.0.1:$lookup_tcp" \
  >"$WORK/nsqd.log" 2>&1 &
pids+=($!)
"$root/usr/bin/nsqadmin" -config="$examples/nsqadmin.cfg.example" \
  -http-address="127.0.0.1:$admin_http" -lookupd-http-address="127.0.0.1:$lookup_http" \
  >"$WORK/nsqadmin.log" 2>&1 &
pids+=($!)

python3 - "$nsqd_http" "$lookup_http" "$admin_http" <<'EOF' || fail "the installed daemons do not work together"
import json, sys, time, urllib.request
nsqd, lookupd, admin = (f"http://127.0.0.1:{p}" for p in sys.argv[1:])

def get(url, data=None):
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as r:
        return r.read()

def eventually(what, check):
    deadline = time.time() + 15
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.2)

eventually("nsqd /ping", lambda: get(nsqd + "/ping") == b"OK")
assert get(nsqd + "/pub?topic=installed", b"hello") == b"OK"
stats = json.loads(get(nsqd + "/stats?format=json"))
assert [t["message_count"] for t in stats["topics"] if t["topic_name"] == "installed"] == [1], stats
eventually("the topic in nsqlookupd /lookup",
           lambda: json.loads(get(lookupd + "/lookup?topic=installed"))["producers"])
eventually("the topic in nsqadmin /api/topics",
           lambda: "installed" in json.loads(get(admin + "/api/topics"))["topics"])
print("package test: installed nsqd, nsqlookupd and nsqadmin serve from their example configs")
EOF

# 4. The systemd units, with ExecStart pointed at the scratch root (verify checks the binary).
if command -v systemd-analyze >/dev/null 2>&1; then
  for unit in nsqd nsqlookupd nsqadmin; do
    sed "s|/usr/bin/|$root/usr/bin/|" "$root/usr/lib/systemd/system/$unit.service" \
      >"$WORK/$unit.service"
  done
  # verify exits 0 on some parse errors ("..., ignoring"): any output is a failure.
  out=$(systemd-analyze verify "$WORK"/nsqd.service "$WORK"/nsqlookupd.service \
    "$WORK"/nsqadmin.service 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify: $out"
  echo "package test: systemd units verified"
else
  fail "systemd-analyze missing (scripts/install-deps.sh installs systemd)"
fi
echo "package test: ok"
