#!/usr/bin/env python3
"""How long switching a data dir between the disk queues and -durable takes (issue 15,
docs/persistence.md "Switching modes").

1. The reference nsqd (--ref, --mem-queue-size=0: everything on disk) gets --messages messages
   of --size bytes on a topic with --channels channels (MPUB of 500, one connection), then a
   clean shutdown.
2. Ours starts with -durable on that dir: takeover. 3. Ours stops and starts without it: the
   way back. For 2 and 3: seconds from the spawn until /ping answers (the switch runs before
   the HTTP listener accepts), the messages the log lines report, and nsqd's peak RSS by then.

  python3 bench/durable_takeover.py --messages 200000 --size 200 --channels 2
"""

import argparse
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, data, args):
    tcp, http = free_port(), free_port()
    log = open(os.path.join(data, "output.txt"), "ab")
    proc = subprocess.Popen([binary, "--tcp-address=127.0.0.1:%d" % tcp,
                             "--http-address=127.0.0.1:%d" % http, "--data-path=" + data] + args,
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    t0 = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ping" % http, timeout=60):
                return proc, tcp, time.monotonic() - t0
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("%s exited" % binary)
            time.sleep(0.005)  # poll: nothing else says the start is done


def peak_rss_mib(proc):
    with open("/proc/%d/status" % proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)


def command(*parts):
    return b" ".join(parts) + b"\n"


def fill(tcp, topic, channels, count, size):
    for i in range(channels):
        with socket.create_connection(("127.0.0.1", tcp)) as c:
            c.sendall(b"  V2" + command(b"SUB", topic, b"c%d" % i))
            c.recv(64)
    body = b"x" * size
    with socket.create_connection(("127.0.0.1", tcp)) as c:
        c.sendall(b"  V2")
        for sent in range(0, count, 500):
            n = min(500, count - sent)
            payload = struct.pack(">I", n) + (struct.pack(">I", size) + body) * n
            c.sendall(command(b"MPUB", topic) + struct.pack(">I", len(payload)) + payload)
            c.recv(64)  # "OK" frame


def reported(data, what):
    with open(os.path.join(data, "output.txt"), errors="replace") as f:
        return sum(int(m) for m in re.findall(what + r" (\d+) messages", f.read()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=200000)
    p.add_argument("--size", type=int, default=200)
    p.add_argument("--channels", type=int, default=2)
    p.add_argument("--ref", default=os.path.join(REPO, ".deps", "reference-bin", "nsqd"))
    p.add_argument("--ours", default=os.path.join(REPO, "build", "src", "nsqd", "nsqd"))
    a = p.parse_args()
    data = tempfile.mkdtemp(prefix="takeover-bench-")
    try:
        proc, tcp, _ = start(a.ref, data, ["--mem-queue-size=0"])
        fill(tcp, b"bench", a.channels, a.messages, a.size)
        stop(proc)
        proc, _, took = start(a.ours, data, ["--durable", "--log-level=info"])
        # A message of the topic's queue is one record for every channel.
        print("takeover: %.2f s to /ping, %d log records appended, peak RSS %.0f MiB" %
              (took, reported(data, "took over"), peak_rss_mib(proc)))
        stop(proc)
        proc, _, took = start(a.ours, data, ["--log-level=info"])
        print("way back: %.2f s to /ping, %d messages moved, peak RSS %.0f MiB" %
              (took, reported(data, "moved"), peak_rss_mib(proc)))
        stop(proc)
    finally:
        if os.environ.get("KEEP"):
            print(data)
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
