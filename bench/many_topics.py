#!/usr/bin/env python3
"""Many idle topics: nsqd's idle CPU, RSS per topic/channel and /stats time, ours and the ref.

Creates --topics topics with --channels channels each over HTTP (/topic/create,
/channel/create, one keep-alive connection), lets the server settle, then measures its CPU
over --idle seconds with nothing happening (utime+stime from /proc/PID/stat), its RSS growth
per topic, and the time of GET /stats?format=json (all topics) and of
/stats?format=json&topic=<one> (median of --samples requests each). Standard library only.

With --cluster, nsqd registers with an nsqlookupd of the same side (ours with ours, the
reference's with the reference's) and an nsqadmin of that side reads from it: the script then
also times nsqlookupd's /lookup?topic=, /topics and /nodes and nsqadmin's /api/topics (its
topics page's data) and /api/nodes, once every topic reached nsqlookupd.

    python3 bench/many_topics.py                    # 10000 topics x 2 channels
    python3 bench/many_topics.py --topics 3000 --cluster
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_nsqd as cn  # noqa: E402


def request(conn: http.client.HTTPConnection, method: str, path: str) -> bytes:
    conn.request(method, path)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise cn.BenchError("%s %s: %d %r" % (method, path, resp.status, body[:200]))
    return body


def timed(conn, path: str, samples: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(samples):
        t0 = time.perf_counter()
        size = len(request(conn, "GET", path))
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), size


def start_http_daemon(argv: list[str], port: int) -> None:
    cn.spawn_listening(argv, port)


def start_lookupd(binary: Path) -> tuple[int, int]:
    tcp, http_port = cn.free_port(), cn.free_port()
    start_http_daemon([str(binary), "--tcp-address=127.0.0.1:%d" % tcp,
                       "--http-address=127.0.0.1:%d" % http_port], http_port)
    return tcp, http_port


def cluster_times(args, lookupd_http: int, admin_bin: Path) -> dict:
    lk = http.client.HTTPConnection("127.0.0.1", lookupd_http, timeout=120)
    t0 = time.monotonic()
    while len(json.loads(request(lk, "GET", "/topics"))["topics"]) < args.topics:
        if time.monotonic() - t0 > 120:
            raise cn.BenchError("nsqlookupd did not get every topic within 120 s")
        time.sleep(0.2)
    registered_s = time.monotonic() - t0
    one = "/lookup?topic=t%05d" % (args.topics // 2)
    out = {"registered_s": registered_s,
           "lookup_ms": timed(lk, one, args.samples)[0],
           "lookupd_topics_ms": timed(lk, "/topics", args.samples)[0],
           "lookupd_nodes_ms": timed(lk, "/nodes", args.samples)[0]}
    admin_port = cn.free_port()
    start_http_daemon([str(admin_bin), "--http-address=127.0.0.1:%d" % admin_port,
                       "--lookupd-http-address=127.0.0.1:%d" % lookupd_http], admin_port)
    admin = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=120)
    out["admin_topics_ms"] = timed(admin, "/api/topics", args.samples)[0]
    out["admin_nodes_ms"] = timed(admin, "/api/nodes", args.samples)[0]
    return out


def run(label: str, binary: Path, args) -> dict:
    server_args = []
    lookupd_http = 0
    if args.cluster:
        lookupd_tcp, lookupd_http = start_lookupd(binary.parent.parent / "nsqlookupd" /
                                                  "nsqlookupd" if label == "ours" else
                                                  binary.parent / "nsqlookupd")
        server_args.append("--lookupd-tcp-address=127.0.0.1:%d" % lookupd_tcp)
    server = cn.Server(label, binary, argparse.Namespace(rdy=0, server_arg=server_args), 10_000)
    server.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=60)
        deadline = time.monotonic() + 15
        while True:
            try:
                request(conn, "GET", "/ping")
                break
            except (OSError, cn.BenchError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                conn.close()
                time.sleep(0.05)
        base = cn.mem_kb(server.pid)["VmRSS"]
        t0 = time.monotonic()
        for i in range(args.topics):
            request(conn, "POST", "/topic/create?topic=t%05d" % i)
            for c in range(args.channels):
                request(conn, "POST", "/channel/create?topic=t%05d&channel=c%d" % (i, c))
        create_s = time.monotonic() - t0
        time.sleep(args.settle)
        rss = cn.mem_kb(server.pid)["VmRSS"]
        cpu0 = cn.cpu_ticks(server.pid)
        time.sleep(args.idle)
        idle_pct = (cn.cpu_ticks(server.pid) - cpu0) / cn.CLK_TCK / args.idle * 100
        all_ms, all_size = timed(conn, "/stats?format=json", args.samples)
        one_ms, _ = timed(conn, "/stats?format=json&topic=t%05d" % (args.topics // 2),
                          args.samples)
        result = {"server": label, "create_s": create_s, "idle_cpu_pct": idle_pct,
                  "kib_per_topic": (rss - base) / args.topics, "rss_mb": rss / 1024,
                  "stats_all_ms": all_ms, "stats_all_kb": all_size / 1024,
                  "stats_one_ms": one_ms}
        if args.cluster:
            admin_bin = (binary.parent.parent / "nsqadmin" / "nsqadmin" if label == "ours"
                         else binary.parent / "nsqadmin")
            result.update(cluster_times(args, lookupd_http, admin_bin))
        return result
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=10000)
    ap.add_argument("--channels", type=int, default=2)
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--ours", type=Path, default=cn.DEFAULT_OURS)
    ap.add_argument("--ref", type=Path, default=cn.DEFAULT_REF_DIR / "nsqd")
    ap.add_argument("--cluster", action="store_true",
                    help="also time nsqlookupd and nsqadmin of the same side (see above)")
    ap.add_argument("--only", choices=("ours", "ref"), help="run one side only")
    args = ap.parse_args()
    print("| server | create s | idle CPU %% | RSS MB | KiB/topic (with %d channels) | "
          "/stats all ms (KB) | /stats topic= ms |" % args.channels)
    print("|---|---:|---:|---:|---:|---:|---:|")
    try:
        results = []
        for label, binary in (("ours", args.ours), ("ref", args.ref)):
            if args.only and label != args.only:
                continue
            r = run(label, binary, args)
            results.append(r)
            print("| %s | %.1f | %.2f | %.0f | %.2f | %.1f (%.0f) | %.2f |" % (
                label, r["create_s"], r["idle_cpu_pct"], r["rss_mb"], r["kib_per_topic"],
                r["stats_all_ms"], r["stats_all_kb"], r["stats_one_ms"]), flush=True)
        if args.cluster:
            print()
            print("| server | all topics in nsqlookupd s | /lookup?topic= ms | lookupd /topics ms |"
                  " lookupd /nodes ms | nsqadmin /api/topics ms | nsqadmin /api/nodes ms |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for r in results:
                print("| %s | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f |" % (
                    r["server"], r["registered_s"], r["lookup_ms"], r["lookupd_topics_ms"],
                    r["lookupd_nodes_ms"], r["admin_topics_ms"], r["admin_nodes_ms"]))
    finally:
        cn.kill_all_children()
    return 0


if __name__ == "__main__":
    sys.exit(main())
