#!/usr/bin/env python3
"""Durable publish rates (issue 15): ours with -durable vs ours in memory vs the reference at
--mem-queue-size=0 --sync-every=1 (its only "fsync before OK" setting).

Phases, each on a fresh nsqd with its own temp --data-path:
  pubN   N publishers (asyncio, one TCP connection each), unbatched: PUB, wait for OK, repeat
         for --runtime s; msg/s and per-PUB latency p50/p99 (client side, send to OK).
  mpub   the reference's bench_writer -batch-size=200 (MPUB of 200 x --size bytes, GOMAXPROCS
         connections) for --runtime s.
For ours with -durable the commit thread's fsyncs/s come from /metrics
(nsqd_durable_fsyncs_total). Python 3.11 standard library only; --procs splits the
publishers over processes so the load generator is not one GIL.

  python3 bench/durable_publish.py --runtime 5 --publishers 1,16,64
"""

import argparse
import asyncio
import multiprocessing
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, args):
        self.binary, self.args = binary, args
        self.dir = tempfile.mkdtemp(prefix="durable-bench-")
        self.tcp, self.http = free_port(), free_port()
        self.proc = None

    def __enter__(self):
        cmd = [self.binary, "--tcp-address=127.0.0.1:%d" % self.tcp,
               "--http-address=127.0.0.1:%d" % self.http, "--data-path=%s" % self.dir,
               "--log-level=warn"] + self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.tcp), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not start" % self.binary)

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def fsyncs(self):
        try:
            body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.http,
                                          timeout=5).read().decode()
        except OSError:
            return None
        m = re.search(r"^nsqd_durable_fsyncs_total (\S+)$", body, re.M)
        return int(float(m.group(1))) if m else None


async def publisher(port, topic, body, stop_at, latencies):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"  V2")
    frame = b"PUB " + topic.encode() + b"\n" + struct.pack(">i", len(body)) + body
    count = 0
    while time.monotonic() < stop_at:
        t0 = time.perf_counter()
        writer.write(frame)
        head = await reader.readexactly(8)
        size, ftype = struct.unpack(">ii", head)
        data = await reader.readexactly(size - 4)
        if ftype != 0 or data != b"OK":
            raise RuntimeError("unexpected answer %r %r" % (ftype, data))
        latencies.append(time.perf_counter() - t0)
        count += 1
    writer.close()
    return count


def run_publishers(port, n, runtime, size, start_at, out):
    async def main():
        await asyncio.sleep(max(0.0, start_at - time.time()))
        stop_at = time.monotonic() + runtime
        lat = []
        counts = await asyncio.gather(*[publisher(port, "bench", b"x" * size, stop_at, lat)
                                        for _ in range(n)])
        return sum(counts), lat
    out.put(asyncio.run(main()))


def pub_phase(server, n, runtime, size, procs):
    procs = max(1, min(procs, n))
    q = multiprocessing.Queue()
    start_at = time.time() + 0.5
    split = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    ps = [multiprocessing.Process(target=run_publishers,
                                  args=(server.tcp, k, runtime, size, start_at, q))
          for k in split]
    f0 = server.fsyncs()
    for p in ps:
        p.start()
    results = [q.get() for _ in ps]
    for p in ps:
        p.join()
    f1 = server.fsyncs()
    total = sum(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    pct = (lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3) if lat else (lambda p: 0)
    fs = (f1 - f0) / runtime if f0 is not None and f1 is not None else None
    return total / runtime, pct(0.5), pct(0.99), fs


def mpub_phase(server, bench_writer, runtime, size, conns):
    # bench_writer opens GOMAXPROCS connections, each with one MPUB in flight: a durable MPUB
    # waits for a commit, so the batches in flight bound the rate (conns x 200 / commit time).
    env = dict(os.environ, GOMAXPROCS=str(conns)) if conns else None
    f0 = server.fsyncs()
    out = subprocess.run([bench_writer, "-nsqd-tcp-address=127.0.0.1:%d" % server.tcp,
                          "-runfor=%ds" % runtime, "-size=%d" % size, "-batch-size=200",
                          "-topic=bench"], capture_output=True, text=True, timeout=runtime + 60,
                         env=env)
    f1 = server.fsyncs()
    m = re.search(r"([\d.]+)ops/s", out.stdout + out.stderr)
    fs = (f1 - f0) / runtime if f0 is not None and f1 is not None else None
    return (float(m.group(1)) if m else 0.0), fs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ours", default=os.path.join(REPO, "build/src/nsqd/nsqd"))
    ap.add_argument("--ref", default=os.path.join(REPO, ".deps/reference-bin/nsqd"))
    ap.add_argument("--bench-writer", default=os.path.join(REPO, ".deps/reference-bin/bench_writer"))
    ap.add_argument("--runtime", type=int, default=5)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--publishers", default="1,16,64")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--servers", default="durable,memory,ref")
    ap.add_argument("--mpub-conns", default="0",
                    help="bench_writer connections (MPUBs in flight) per MPUB phase, e.g. 2,8;"
                         " 0 = its default (GOMAXPROCS = the CPUs)")
    a = ap.parse_args()
    setups = {
        "durable": (a.ours, ["--durable"]),
        "memory": (a.ours, ["--mem-queue-size=20000000"]),
        "ref": (a.ref, ["--mem-queue-size=0", "--sync-every=1"]),
    }
    print("| server | phase | msg/s | p50 ms | p99 ms | fsyncs/s |")
    print("|---|---|---|---|---|---|")
    for name in a.servers.split(","):
        binary, args = setups[name]
        for n in [int(x) for x in a.publishers.split(",")]:
            with Server(binary, args) as s:
                rate, p50, p99, fs = pub_phase(s, n, a.runtime, a.size, a.procs)
            print("| %s | PUB x%d | %.0f | %.2f | %.2f | %s |" % (
                name, n, rate, p50, p99, "%.0f" % fs if fs is not None else "-"))
            sys.stdout.flush()
        for conns in [int(x) for x in a.mpub_conns.split(",")]:
            with Server(binary, args) as s:
                rate, fs = mpub_phase(s, a.bench_writer, a.runtime, a.size, conns)
            print("| %s | MPUB 200 x%s (bench_writer) | %.0f | | | %s |" % (
                name, conns or os.cpu_count(), rate, "%.0f" % fs if fs is not None else "-"))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
