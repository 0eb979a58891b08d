#!/usr/bin/env python3
"""HTTP publishing throughput: our nsqd against the reference nsqd v1.3.0, side by side.

The same load generator (bench/http_load, Go standard library only, keep-alive connections)
runs against each server in turn, alternating servers run by run:
  pub   POST /pub, one message per request
  mpub  POST /mpub, --batch newline-separated messages per request
and the script prints the median msg/s, the ratio ours/ref, server CPU µs per message and
peak RSS. Publishes go to a topic without channels (memory queue sized to hold the run).

    python3 bench/compare_http.py                    # ~40 s with the defaults
    python3 bench/compare_http.py --runs 3 --runtime 5 --conns 16

Python 3.11 standard library; needs Go once to build the load generator.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OURS = REPO / "build" / "src" / "nsqd" / "nsqd"
DEFAULT_REF = REPO / ".deps" / "reference-bin" / "nsqd"
LOAD_SRC = REPO / "bench" / "http_load" / "main.go"
LOAD_BIN = REPO / "build" / "bench" / "http_load"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_children: list[subprocess.Popen] = []


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def build_load_generator() -> Path:
    if LOAD_BIN.exists() and LOAD_BIN.stat().st_mtime >= LOAD_SRC.stat().st_mtime:
        return LOAD_BIN
    if not shutil.which("go"):
        raise SystemExit("go is needed once to build bench/http_load")
    LOAD_BIN.parent.mkdir(parents=True, exist_ok=True)
    log(f"building {LOAD_BIN}")
    subprocess.run(["go", "build", "-o", str(LOAD_BIN), str(LOAD_SRC)], check=True,
                   cwd=LOAD_SRC.parent)
    return LOAD_BIN


def start_server(binary: Path, data: str) -> tuple[subprocess.Popen, int]:
    tcp, http = free_port(), free_port()
    p = subprocess.Popen(
        [str(binary), f"--tcp-address=127.0.0.1:{tcp}", f"--http-address=127.0.0.1:{http}",
         f"--data-path={data}", "--mem-queue-size=100000000", "--log-level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _children.append(p)
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", http), timeout=0.5):
                return p, http
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{binary} did not start")
            time.sleep(0.02)  # poll interval


def kill(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.kill()  # SIGKILL: no flushing of the in-memory backlog to disk
    p.wait(timeout=10)


def run_once(binary: Path, mode: str, args: argparse.Namespace, load: Path) -> dict:
    data = tempfile.mkdtemp(prefix="nsq-http-bench-")
    try:
        p, port = start_server(binary, data)
        try:
            t0 = cpu_ticks(p.pid)
            out = subprocess.run(
                [str(load), f"-addr=127.0.0.1:{port}", f"-mode={mode}", f"-conns={args.conns}",
                 f"-size={args.size}", f"-batch={args.batch}", f"-duration={args.runtime}s"],
                capture_output=True, text=True, timeout=args.runtime + 60)
            cpu_s = (cpu_ticks(p.pid) - t0) / CLK_TCK
            rss = peak_rss_mb(p.pid)
        finally:
            kill(p)
        m = re.search(r"messages=(\d+) errors=(\d+) seconds=([\d.]+) msg_per_sec=(\d+)", out.stdout)
        if not m or out.returncode != 0:
            return {"ok": False, "note": (out.stdout + out.stderr).strip()[-300:]}
        msgs = int(m.group(1))
        return {"ok": True, "rate": float(m.group(4)), "cpu_us": cpu_s * 1e6 / max(1, msgs),
                "rss": rss}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ours", type=Path, default=DEFAULT_OURS)
    ap.add_argument("--ref", type=Path, default=Path(os.environ.get("NSQD_REF_BIN", DEFAULT_REF)))
    ap.add_argument("--modes", default="pub,mpub")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--runtime", type=float, default=4.0, help="seconds per run")
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--batch", type=int, default=100, help="messages per /mpub request")
    args = ap.parse_args()
    for b in (args.ours, args.ref):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"not executable: {b}")
    load = build_load_generator()

    results: dict[tuple[str, str], list[dict]] = {}
    try:
        for mode in args.modes.split(","):
            for run in range(args.runs):
                for label, binary in (("ours", args.ours), ("ref", args.ref)):
                    r = run_once(binary, mode, args, load)
                    results.setdefault((mode, label), []).append(r)
                    log(f"{mode} run {run + 1} {label}: " +
                        (f"{r['rate']:.0f} msg/s" if r["ok"] else "FAIL " + r["note"]))
    finally:
        for p in _children:
            if p.poll() is None:
                kill(p)

    print(f"HTTP publish, {args.size}-byte messages, {args.conns} keep-alive connections, "
          f"{args.runtime:g} s x {args.runs} runs, /mpub batch {args.batch}")
    print(f"{'mode':6} {'ours msg/s':>12} {'ref msg/s':>12} {'ratio':>6} "
          f"{'ours µs/msg':>12} {'ref µs/msg':>11} {'ours MB':>8} {'ref MB':>7}")
    failed = False
    for mode in args.modes.split(","):
        row = {}
        for label in ("ours", "ref"):
            ok = [r for r in results[(mode, label)] if r["ok"]]
            failed |= len(ok) != len(results[(mode, label)])
            row[label] = ({k: statistics.median(r[k] for r in ok) for k in ("rate", "cpu_us", "rss")}
                          if ok else None)
        if row["ours"] and row["ref"]:
            o, f = row["ours"], row["ref"]
            print(f"{mode:6} {o['rate']:12.0f} {f['rate']:12.0f} {o['rate'] / f['rate']:6.2f} "
                  f"{o['cpu_us']:12.2f} {f['cpu_us']:11.2f} {o['rss']:8.0f} {f['rss']:7.0f}")
        else:
            print(f"{mode:6} FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
