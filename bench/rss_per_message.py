#!/usr/bin/env python3
"""Memory cost of a queued message: our nsqd against the reference, side by side.

For each server: start it with a memory queue big enough for the whole backlog, create one
channel, publish N messages of --size bytes (MPUB, pipelined), wait for RSS to settle, and
report (RSS after - RSS before) / N in bytes per queued message, plus the ratio ours/ref.
A second table does the same with --channels channels, where a message stored once and shared
(ours) differs most from one copy per channel (the reference).

    bench/rss_per_message.py [--ref .deps/reference-bin/nsqd] [--count 200000] [--size 100]

Python standard library only; reuses the helpers of bench/compare_nsqd.py. Runs < 1 minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_nsqd as cn  # noqa: E402


def settle_rss(pid: int, timeout: float = 5.0) -> int:
    """VmRSS in kB once two samples 200 ms apart agree within 1% (or at the deadline)."""
    last = cn.mem_kb(pid)["VmRSS"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.2)  # sampling interval
        now = cn.mem_kb(pid)["VmRSS"]
        if abs(now - last) <= max(64, last // 100):
            return now
        last = now
    return last


def measure(binary: str, count: int, size: int, channels: int) -> float:
    tcp, http = cn.free_port(), cn.free_port()
    with tempfile.TemporaryDirectory(prefix="rss_bench_") as data:
        p = cn.spawn([binary, f"--tcp-address=127.0.0.1:{tcp}", f"--http-address=127.0.0.1:{http}",
                      f"--data-path={data}", f"--mem-queue-size={count * 2}", "--log-level=warn"],
                     stdout=cn.subprocess.DEVNULL, stderr=cn.subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    cn.socket.create_connection(("127.0.0.1", tcp), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise cn.BenchError(f"{binary} did not start")
                    time.sleep(0.05)  # polling for the listener
            addr = f"127.0.0.1:{tcp}"
            for i in range(channels):
                cn.create_channel(addr, "rss", f"c{i}")
            # warm up allocator and buffers with a small batch, then take the baseline
            cn.prefill(addr, "warm", 2000, size, 200)
            before = settle_rss(p.pid)
            cn.prefill(addr, "rss", count, size, 200)
            after = settle_rss(p.pid)
            return (after - before) * 1024 / count
        finally:
            cn.kill_proc(p)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ours", default=str(cn.DEFAULT_OURS))
    ap.add_argument("--ref", default=str(cn.DEFAULT_REF_DIR / "nsqd"))
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--channels", type=int, default=3)
    args = ap.parse_args()
    print(f"RSS per queued message, {args.count} messages of {args.size} bytes")
    print("channels | ours B/msg | ref B/msg | ratio ours/ref")
    try:
        for ch in (1, args.channels):
            ours = measure(args.ours, args.count, args.size, ch)
            ref = measure(args.ref, args.count, args.size, ch)
            print(f"{ch:8d} | {ours:10.0f} | {ref:9.0f} | {ours / ref:.2f}")
    finally:
        cn.kill_all_children()
    return 0


if __name__ == "__main__":
    sys.exit(main())
