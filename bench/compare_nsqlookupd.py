#!/usr/bin/env python3
"""Side-by-side micro-benchmark of nsqlookupd (ours vs the reference), < 30 s in total:
  * register: one V1 connection pipelines N REGISTER commands (topic + channel);
  * lookup:   M sequential GET /lookup?topic= over one keep-alive HTTP connection.
Usage: bench/compare_nsqlookupd.py [ours] [reference]  (defaults: build/ and .deps/reference-bin/)
Reports wall time per operation; the client is Python, so these are latency figures for one
client, not server capacity.
"""
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/src/nsqlookupd/nsqlookupd")
REF = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, ".deps/reference-bin/nsqlookupd")
N_REGISTER, N_LOOKUP = 20000, 5000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_reply(sock, buf):
    while True:
        if len(buf) >= 4:
            (n,) = struct.unpack(">i", buf[:4])
            if len(buf) >= 4 + n:
                return buf[4:4 + n], buf[4 + n:]
        buf += sock.recv(65536)


def run(binary):
    tcp, http_port = free_port(), free_port()
    p = subprocess.Popen([binary, "-tcp-address=127.0.0.1:%d" % tcp,
                          "-http-address=127.0.0.1:%d" % http_port, "-log-level=error"],
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", http_port)).close()
                break
            except OSError:
                time.sleep(0.05)
        s = socket.create_connection(("127.0.0.1", tcp))
        body = json.dumps({"broadcast_address": "b", "tcp_port": 1, "http_port": 2,
                           "version": "1.3.0"}).encode()
        s.sendall(b"  V1IDENTIFY\n" + struct.pack(">i", len(body)) + body)
        _, buf = read_reply(s, b"")
        cmds = b"".join(b"REGISTER t%d c\n" % i for i in range(N_REGISTER))
        t0 = time.perf_counter()
        s.sendall(cmds)
        for _ in range(N_REGISTER):
            r, buf = read_reply(s, buf)
            assert r == b"OK", r
        reg = time.perf_counter() - t0
        c = http.client.HTTPConnection("127.0.0.1", http_port)
        t0 = time.perf_counter()
        for i in range(N_LOOKUP):
            c.request("GET", "/lookup?topic=t%d" % (i % N_REGISTER))
            r = c.getresponse()
            r.read()
            assert r.status == 200
        look = time.perf_counter() - t0
        rss = int([l for l in open("/proc/%d/status" % p.pid) if l.startswith("VmRSS")][0].split()[1])
        s.close()
        return reg, look, rss
    finally:
        p.terminate()
        p.wait()


for name, b in (("ours", OURS), ("reference", REF)):
    reg, look, rss = run(b)
    print("%-10s register: %6.2f us/cmd   lookup: %6.1f us/req   RSS after %d topics: %d KiB"
          % (name, reg / N_REGISTER * 1e6, look / N_LOOKUP * 1e6, N_REGISTER, rss))
