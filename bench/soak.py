#!/usr/bin/env python3
"""Soak: nsqd (with nsqlookupd) under mixed, bounded load for --duration seconds (default 600),
then every acknowledged message must have been finished, and nsqd's RSS and open files must be
back near their post-warm-up level.

    .deps/venv/bin/python bench/soak.py                  # 10 minutes, build/src/nsqd/nsqd
    .deps/venv/bin/python bench/soak.py --duration 30 --nsqd .deps/reference-bin/nsqd

Load: publishers (PUB, MPUB of 10, DPUB 50 ms) on topic "soak"; consumers on soak/c with
RDY 20 that FIN most messages, REQ some (no delay, 50 ms), TOUCH then FIN some, let some time
out (--msg-timeout=1s) and drop their connection now and then; a chaos thread pauses and
unpauses the channel, empties and deletes a scratch topic/channel, and restarts nsqlookupd.
Exit status 1 when a message is missing or RSS / open files did not come back.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system", "python"))

import nsqproto  # noqa: E402
from conftest import Nsqd, Nsqlookupd  # noqa: E402
from nsqproto import FRAME_MESSAGE, cmd, dpub, mpub, pub  # noqa: E402


def http_post(n, path):
    req = urllib.request.Request("http://%s:%d%s" % (n.host, n.http_port, path), data=b"",
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except Exception:  # noqa: BLE001 - a 404 for a deleted scratch topic is expected
        return None


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_files(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Soak:
    def __init__(self, nsqd, lookupd, seed):
        self.n, self.lookupd = nsqd, lookupd
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.acked, self.finished = set(), set()
        self.stop_publishing = threading.Event()
        self.stop_chaos = threading.Event()
        self.stop_consuming = threading.Event()
        self.draining = threading.Event()
        self.counts = {"req": 0, "req_delay": 0, "touch": 0, "timeout": 0, "disconnect": 0,
                       "pause": 0, "empty": 0, "delete": 0, "lookupd_restart": 0}

    def count(self, what):
        with self.lock:
            self.counts[what] += 1

    def publisher(self, pid):
        seq = 0
        conn = None
        while not self.stop_publishing.is_set():
            try:
                if conn is None:
                    conn = nsqproto.Conn(self.n.host, self.n.tcp_port)
                kind = seq % 10
                if kind == 9:
                    bodies = [b"p%d-%d" % (pid, seq + i) for i in range(10)]
                    conn.send(mpub("soak", bodies))
                elif kind == 8:
                    bodies = [b"p%d-%d" % (pid, seq)]
                    conn.send(dpub("soak", 50, bodies[0]))
                else:
                    bodies = [b"p%d-%d" % (pid, seq)]
                    conn.send(pub("soak", bodies[0]))
                conn.expect_response(b"OK")
                with self.lock:
                    self.acked.update(bodies)
                seq += len(bodies)
                time.sleep(0.002)  # a bounded rate: the point is variety, not throughput
            except (nsqproto.Closed, nsqproto.Timeout, OSError):
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def consumer(self, cid):
        conn = None
        while not self.stop_consuming.is_set():
            try:
                if conn is None:
                    conn = nsqproto.Conn(self.n.host, self.n.tcp_port)
                    conn.sub("soak", "c", rdy=20)
                ftype, data = conn.read_frame(timeout=0.5, skip_heartbeats=True)
                if ftype != FRAME_MESSAGE:
                    continue
                m = nsqproto.parse_message(data)
                roll = 1.0 if self.draining.is_set() else self.rng.random()
                if roll < 0.05:
                    self.count("timeout")  # never answered: back after --msg-timeout
                elif roll < 0.08:
                    self.count("disconnect")  # in flight on a closed connection: requeued
                    conn.close()
                    conn = None
                elif roll < 0.15:
                    self.count("req")
                    conn.send(cmd("REQ", m.id, 0))
                elif roll < 0.20:
                    self.count("req_delay")
                    conn.send(cmd("REQ", m.id, 50))
                else:
                    if roll < 0.25:
                        self.count("touch")
                        conn.send(cmd("TOUCH", m.id))
                    conn.send(cmd("FIN", m.id))
                    with self.lock:
                        self.finished.add(m.body)
            except nsqproto.Timeout:
                continue
            except (nsqproto.Closed, OSError):
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def chaos(self):
        while not self.stop_chaos.wait(self.rng.uniform(0.5, 1.5)):
            action = self.rng.choice(["pause", "scratch", "lookupd"])
            if action == "pause":
                http_post(self.n, "/channel/pause?topic=soak&channel=c")
                time.sleep(0.2)
                http_post(self.n, "/channel/unpause?topic=soak&channel=c")
                self.count("pause")
            elif action == "scratch":
                with nsqproto.Conn(self.n.host, self.n.tcp_port) as c:
                    c.sub("scratch", "s")
                    c.publish("scratch", b"x" * 100)
                http_post(self.n, "/channel/empty?topic=scratch&channel=s")
                self.count("empty")
                http_post(self.n, "/topic/delete?topic=scratch")
                self.count("delete")
            else:
                self.lookupd.stop()
                self.lookupd.start(keep_ports=True)
                self.count("lookupd_restart")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    ap.add_argument("--nsqd", default=os.path.join(HERE, "..", "build", "src", "nsqd", "nsqd"))
    ours_lookupd = os.path.join(HERE, "..", "build", "src", "nsqlookupd", "nsqlookupd")
    ap.add_argument("--nsqlookupd", default=ours_lookupd if os.access(ours_lookupd, os.X_OK)
                    else os.path.join(HERE, "..", ".deps", "reference-bin", "nsqlookupd"))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--drain", type=float, default=60.0, help="longest wait at the end")
    ap.add_argument("--sanitized", action="store_true",
                    help="nsqd is an ASan build: RSS is not compared (ASan's quarantine keeps "
                         "freed memory), its exit status still is (a leak or error fails)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="soak-")
    lookupd = Nsqlookupd(work, binary=os.path.abspath(args.nsqlookupd)).start()
    data = os.path.join(work, "data")
    os.mkdir(data)
    n = Nsqd(data, ["--mem-queue-size=100", "--msg-timeout=1s",
                    "--lookupd-tcp-address=" + lookupd.tcp_address],
             binary=os.path.abspath(args.nsqd)).start()
    s = Soak(n, lookupd, args.seed)
    threads = [threading.Thread(target=s.publisher, args=(i,)) for i in range(3)]
    threads += [threading.Thread(target=s.consumer, args=(i,)) for i in range(3)]
    chaos = threading.Thread(target=s.chaos)
    result = {"seed": args.seed, "duration": args.duration}
    stop_problem = None
    try:
        for t in threads + [chaos]:
            t.start()
        time.sleep(args.duration * 0.2)  # warm-up: queues, buffers and caches reach their size
        result["rss_kb_warm"], result["fds_warm"] = rss_kb(n.pid), open_files(n.pid)
        time.sleep(args.duration * 0.8)
        s.stop_publishing.set()
        s.stop_chaos.set()
        chaos.join()
        http_post(n, "/channel/unpause?topic=soak&channel=c")
        s.draining.set()
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline:
            with s.lock:
                if s.acked <= s.finished:
                    break
            time.sleep(0.1)  # polling the consumers' progress
        s.stop_consuming.set()
        for t in threads:
            t.join()
        time.sleep(1.0)  # let closed connections and timers settle before measuring
        result["rss_kb_end"], result["fds_end"] = rss_kb(n.pid), open_files(n.pid)
        with s.lock:
            result["acked"] = len(s.acked)
            result["finished"] = len(s.finished & s.acked)
            result["missing"] = len(s.acked - s.finished)
            result.update(s.counts)
    finally:
        s.stop_publishing.set()
        s.stop_chaos.set()
        s.stop_consuming.set()
        # A crash, a hang on SIGTERM or (under ASan) a leak or memory error shows here.
        stop_problem = n.stop()
        lookupd.stop()
    result["nsqd_stop"] = stop_problem or "ok"
    # "back to post-warm-up": RSS within 20 % + 8 MiB, at most 4 more descriptors.
    result["rss_ok"] = (args.sanitized or
                        result["rss_kb_end"] <= result["rss_kb_warm"] * 1.2 + 8192)
    result["fds_ok"] = result["fds_end"] <= result["fds_warm"] + 4
    print(json.dumps(result))
    ok = (result["missing"] == 0 and result["rss_ok"] and result["fds_ok"] and
          stop_problem is None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
