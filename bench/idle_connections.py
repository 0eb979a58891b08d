#!/usr/bin/env python3
"""Idle connections: RSS per connection, RSS after they close, and a round trip meanwhile.

For each count and each server (ours, then the reference, fresh server each), the script opens
COUNT connections that send the magic, IDENTIFY, SUB idle/c and RDY 1 and then sit idle, as a
fleet of consumers on a quiet topic does. It prints the server's RSS growth per connection,
the RSS a few seconds after all of them closed, and the PUB -> delivery round trip on two
other connections while the idle ones are open. Standard library only.

    python3 bench/idle_connections.py                        # 10000 and 19900 connections
    python3 bench/idle_connections.py --counts 1000 --servers ours

The idle sockets are spread over worker processes (at most 5000 each) because one process
may hold fewer descriptors than the servers under test; the soft RLIMIT_NOFILE is raised to
the hard limit, inherited by the servers (the hard limit on the shared VM is 20000, hence
19900 as the largest count: the server needs a few descriptors of its own).
"""

import argparse
import json
import multiprocessing
import os
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OURS = os.path.join(REPO, "build", "src", "nsqd", "nsqd")
REF = os.path.join(REPO, ".deps", "reference-bin", "nsqd")
PER_WORKER = 5000

IDENTIFY_BODY = json.dumps({"client_id": "idle", "hostname": "bench", "user_agent": "idle/1",
                            "feature_negotiation": True}).encode()


def command(line, body=None):
    out = line.encode() + b"\n"
    if body is not None:
        out += struct.pack(">I", len(body)) + body
    return out


HANDSHAKE = (b"  V2" + command("IDENTIFY", IDENTIFY_BODY) + command("SUB idle c") +
             command("RDY 1"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_frames(sock, buf, count):
    """Reads until `count` frames are complete; returns (frames, rest)."""
    frames = []
    while True:
        while len(buf) >= 8 and len(frames) < count:
            size = struct.unpack(">I", buf[:4])[0]
            if len(buf) < 4 + size:
                break
            frames.append((struct.unpack(">I", buf[4:8])[0], bytes(buf[8:4 + size])))
            buf = buf[4 + size:]
        if len(frames) >= count:
            return frames, buf
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk


def hold_idle(port, count, pipe):
    """Worker: opens `count` idle subscribers, reports, holds them until told, closes them."""
    socks = []
    try:
        for start in range(0, count, 250):
            batch = []
            for _ in range(min(250, count - start)):
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.sendall(HANDSHAKE)
                batch.append(s)
            for s in batch:  # IDENTIFY's JSON and SUB's OK: the server has taken all three
                read_frames(s, b"", 2)
            socks.extend(batch)
        pipe.send(("open", len(socks)))
    except Exception as e:  # reported to the parent, which stops the run
        pipe.send(("error", "%s after %d connections" % (e, len(socks))))
    pipe.recv()  # "close"
    for s in socks:
        s.close()
    pipe.send(("closed", len(socks)))


class RoundTrip:
    """A publisher and a consumer (RDY 1) on topic rt: PUB -> message received -> FIN."""

    def __init__(self, port):
        self.pub = socket.create_connection(("127.0.0.1", port))
        self.sub = socket.create_connection(("127.0.0.1", port))
        self.rest = {}  # bytes read past the last frame, per socket
        for s in (self.pub, self.sub):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"  V2")
        self.sub.sendall(command("SUB rt c") + command("RDY 1"))
        read_frames(self.sub, b"", 1)
        self.sample(5)  # creates the topic and warms both paths

    def next_frame(self, sock, wanted_type):
        """The next frame of `wanted_type`; heartbeats are answered (a bench may take long)."""
        while True:
            frames, self.rest[sock] = read_frames(sock, self.rest.get(sock, b""), 1)
            ftype, data = frames[0]
            if ftype == 0 and data == b"_heartbeat_":
                sock.sendall(b"NOP\n")
                continue
            if ftype != wanted_type:
                raise RuntimeError("unexpected frame %r" % ((ftype, data),))
            return data

    def sample(self, n):
        times = []
        body = b"x" * 100
        for _ in range(n):
            t0 = time.perf_counter()
            self.pub.sendall(command("PUB rt", body))
            msg = self.next_frame(self.sub, 2)
            times.append((time.perf_counter() - t0) * 1e6)
            self.sub.sendall(b"FIN " + msg[10:26] + b"\n")
            self.next_frame(self.pub, 0)  # OK of the PUB
        return times

    def close(self):
        self.pub.close()
        self.sub.close()


def run_one(name, binary, count, settle):
    data = tempfile.mkdtemp(prefix="idle-%s-" % name)
    port, http = free_port(), free_port()
    log = open(os.path.join(data, "nsqd.log"), "wb")
    proc = subprocess.Popen([binary, "--tcp-address=127.0.0.1:%d" % port,
                             "--http-address=127.0.0.1:%d" % http, "--data-path=" + data],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    workers = []
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("%s did not start" % binary)
                time.sleep(0.05)
        rt = RoundTrip(port)
        time.sleep(settle)
        base = rss_kib(proc.pid)
        t0 = time.monotonic()
        for i in range(0, count, PER_WORKER):
            parent, child = multiprocessing.Pipe()
            p = multiprocessing.Process(target=hold_idle,
                                        args=(port, min(PER_WORKER, count - i), child))
            p.start()
            workers.append((p, parent))
        opened = 0
        for p, pipe in workers:
            kind, value = pipe.recv()
            if kind == "error":
                raise RuntimeError(value)
            opened += value
        open_s = time.monotonic() - t0
        time.sleep(settle)
        peak = rss_kib(proc.pid)
        times = sorted(rt.sample(400))
        for p, pipe in workers:
            pipe.send("close")
        for p, pipe in workers:
            pipe.recv()
            p.join()
        workers = []
        time.sleep(settle)
        after = rss_kib(proc.pid)
        rt.close()
        return {"server": name, "connections": opened, "open_s": open_s, "rss_base_kib": base,
                "rss_open_kib": peak, "kib_per_conn": (peak - base) / opened,
                "rss_after_close_kib": after,
                "rt_p50_us": statistics.median(times),
                "rt_p99_us": times[int(len(times) * 0.99) - 1]}
    finally:
        for p, pipe in workers:
            p.kill()
        proc.kill()
        proc.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", default="10000,19900", help="comma-separated connection counts")
    ap.add_argument("--servers", default="ours,ref", help="ours, ref or both")
    ap.add_argument("--ours", default=OURS)
    ap.add_argument("--ref", default=REF)
    ap.add_argument("--runs", type=int, default=1, help="runs per count and server (alternating)")
    ap.add_argument("--settle", type=float, default=3.0,
                    help="seconds to wait before each RSS reading (the reference returns memory "
                    "to the OS in the background)")
    ap.add_argument("--json", help="write every run here")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    binaries = {"ours": args.ours, "ref": args.ref}
    servers = [s for s in args.servers.split(",") if s]
    rows = []
    print("%-5s %6s %8s %9s %10s %11s %12s %9s %9s" %
          ("srv", "conns", "open s", "base MiB", "open MiB", "KiB/conn", "closed MiB",
           "rt p50µs", "rt p99µs"))
    for count in [int(c) for c in args.counts.split(",")]:
        if count + 64 > hard:
            print("note: %d connections need more than the hard RLIMIT_NOFILE %d" % (count, hard))
        for _ in range(args.runs):
            for name in servers:
                r = run_one(name, binaries[name], count, args.settle)
                rows.append(r)
                print("%-5s %6d %8.1f %9.1f %10.1f %11.2f %12.1f %9.0f %9.0f" %
                      (name, r["connections"], r["open_s"], r["rss_base_kib"] / 1024,
                       r["rss_open_kib"] / 1024, r["kib_per_conn"],
                       r["rss_after_close_kib"] / 1024, r["rt_p50_us"], r["rt_p99_us"]),
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
