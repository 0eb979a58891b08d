#!/usr/bin/env python3
"""Connection storms (issue 19): do abusive clients hurt the well-behaved ones?

For each server (ours, the reference; fresh server per run, alternating) the script measures
a well-behaved load with bench/nsq_load -- 8 unbatched publishers (msg/s) and a paced
publish -> delivery latency run at 1000 msg/s -- once alone and once while one storm runs:

  churn   a process that connects, sends the magic and IDENTIFY, reads the reply and
          disconnects, as fast as it can (--cycles in total, default 20000)
  half    --half clients (default 1000) that send the magic and half of a PUB frame, then
          stop (their server-side buffers must stay bounded, the deadline closes them)
  stuck   --stuck consumers (default 50) that SUB with RDY 2500 to a busy topic and never
          read their socket (what their output buffers may cost)

It prints msg/s and latency with the storm as a ratio to the calm run (aim: within 2x) and
the server's RSS peak. Standard library only; needs build/bench/nsq_load.

    python3 bench/connection_storms.py --runs 1
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import struct
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_nsqd as cn  # noqa: E402
import compare_load as cl  # noqa: E402

IDENTIFY = b"IDENTIFY\n" + struct.pack(">I", 2) + b"{}"


def churn(port: int, cycles: int, stop) -> None:
    done = 0
    while done < cycles and not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"  V2" + IDENTIFY)
                s.recv(4096)
        except OSError:
            time.sleep(0.01)  # out of ports or refused: back off a little, keep going
        done += 1


def half_frames(port: int, count: int, stop) -> None:
    socks = []
    body = b"x" * 1000
    frame = b"PUB storm\n" + struct.pack(">I", len(body)) + body
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"  V2" + frame[:len(frame) // 2])
        socks.append(s)
    stop.wait()
    for s in socks:
        s.close()


def stuck_consumers(port: int, count: int, stop) -> None:
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"  V2SUB bench stuck\nRDY 2500\n")
        socks.append(s)
    stop.wait()
    for s in socks:
        s.close()


STORMS = {"churn": churn, "half": half_frames, "stuck": stuck_consumers}


def measure(args, label: str, binary: Path, storm: str | None) -> dict:
    server = cn.Server(label, binary, argparse.Namespace(rdy=0, server_arg=[]), 20_000_000)
    server.start()
    stop = multiprocessing.Event()
    proc = None
    try:
        if storm:
            n = {"churn": args.cycles, "half": args.half, "stuck": args.stuck}[storm]
            proc = multiprocessing.Process(target=STORMS[storm], args=(server.tcp_port, n, stop))
            proc.start()
            time.sleep(1.0)  # the storm is under way before the measurement starts
        pub = cl.run_load(args.load, server, ["--phase", "pub", "--conns", "8"], args.seconds)
        lat = cl.run_load(args.load, server, ["--phase", "latency", "--rate", "1000",
                                              "--topic", "lat"], args.seconds)
        rss = cn.mem_kb(server.pid)
        return {"server": label, "storm": storm or "calm", "pub_per_s": pub["pub_per_s"],
                "p50_us": lat["p50_us"], "p99_us": lat["p99_us"],
                "rss_peak_mb": rss.get("VmHWM", 0) / 1024, "rss_mb": rss.get("VmRSS", 0) / 1024}
    finally:
        stop.set()
        if proc is not None:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--storms", default="churn,half,stuck")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--cycles", type=int, default=20000)
    ap.add_argument("--half", type=int, default=1000)
    ap.add_argument("--stuck", type=int, default=50)
    ap.add_argument("--ours", type=Path, default=cn.DEFAULT_OURS)
    ap.add_argument("--ref", type=Path, default=cn.DEFAULT_REF_DIR / "nsqd")
    ap.add_argument("--load", type=Path, default=cl.DEFAULT_LOAD)
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    storms = [None] + [s for s in args.storms.split(",") if s]
    try:
        for _ in range(args.runs):
            for storm in storms:
                for label, binary in (("ours", args.ours), ("ref", args.ref)):
                    r = measure(args, label, binary, storm)
                    rows.append(r)
                    cn.log("  %-5s %-4s %8.0f msg/s  p50 %.0f p99 %.0f µs  RSS peak %.0f MB" % (
                        r["storm"], label, r["pub_per_s"], r["p50_us"], r["p99_us"],
                        r["rss_peak_mb"]))
    finally:
        cn.kill_all_children()
    med = cn.median
    print("| storm | server | pub8 msg/s (x calm) | lat p50 µs | lat p99 µs (x calm) | "
          "RSS peak MB |")
    print("|---|---|---:|---:|---:|---:|")
    for storm in ["calm"] + storms[1:]:
        for label in ("ours", "ref"):
            rs = [r for r in rows if r["storm"] == storm and r["server"] == label]
            calm = [r for r in rows if r["storm"] == "calm" and r["server"] == label]
            rate, p99 = med([r["pub_per_s"] for r in rs]), med([r["p99_us"] for r in rs])
            print("| %s | %s | %.0f (%.2f) | %.0f | %.0f (%.2f) | %.0f |" % (
                storm, label, rate, rate / med([r["pub_per_s"] for r in calm]),
                med([r["p50_us"] for r in rs]), p99, p99 / med([r["p99_us"] for r in calm]),
                med([r["rss_peak_mb"] for r in rs])))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
