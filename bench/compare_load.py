#!/usr/bin/env python3
"""Our nsqd against the reference under bench/nsq_load, our own lean load generator.

Each phase runs on a fresh server of each kind, servers alternating run by run (ours, ref,
ours, ...), and prints the median msg/s, the ratio ours/ref, the server's CPU per message
(utime+stime from /proc/PID/stat around the load) and RSS, and the client's own CPU per
message, so that the load generator's share is visible. Latency phases print publish ->
delivery percentiles (the consumer FINs every message at once).

    scripts/build.sh release nsqd nsq_load
    python3 bench/compare_load.py --runs 3
    python3 bench/compare_load.py --phases pub1,pub8,pub64 --runs 5
    (cd bench/null_nsqd && go build -o /tmp/null_nsqd .)
    python3 bench/compare_load.py --phases pub1,pub8,pub64,mpub --null /tmp/null_nsqd

With --null, the publish phases also run against null_nsqd (answers OK, stores nothing): the
ceiling any server can reach with this client on this machine, printed as a rate and as a
ratio to the reference.

Standard library only; reuses compare_nsqd.py's server handling.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_nsqd as cn  # noqa: E402

DEFAULT_LOAD = cn.REPO / "build" / "bench" / "nsq_load"

SUB_PREFILL = 3_000_000
# The phases null_nsqd can serve (it answers PUB/MPUB with OK and knows nothing else).
NULL_PHASES = ("pub1", "pub8", "pub64", "mpub")

# phase -> (nsq_load arguments, what a message counts as: "pub" or "sub")
PHASES = {
    "pub1": (["--phase", "pub", "--conns", "1"], "pub"),
    "pub8": (["--phase", "pub", "--conns", "8"], "pub"),
    "pub64": (["--phase", "pub", "--conns", "64"], "pub"),
    "mpub": (["--phase", "mpub", "--conns", "2", "--batch", "100"], "pub"),
    # Stops when the backlog is drained: the rate is the drain's, whichever server finishes.
    "sub": (["--phase", "sub", "--conns", "2", "--rdy", "1000", "--count", str(SUB_PREFILL)],
            "sub"),
    "pubsub": (["--phase", "pubsub", "--conns", "8", "--consumers", "2", "--rdy", "200"], "pub"),
    # The same with unbuffered consumers: both servers write each delivery at once (the row
    # above lets the reference hold deliveries up to 250 ms and write 16 KiB at a time).
    "pubsub-unbuf": (["--phase", "pubsub", "--conns", "8", "--consumers", "2", "--rdy", "200",
                      "--output-buffer-size", "-1"], "pub"),
    # Batched publishers with consumers: what counts is what the consumers get meanwhile (the
    # publishers can outrun them, and a backlog is not throughput).
    "pubsub-mpub": (["--phase", "pubsub", "--conns", "2", "--batch", "100", "--consumers", "2",
                     "--rdy", "1000"], "sub"),
    "lat1k": (["--phase", "latency", "--rate", "1000", "--rdy", "200"], "pub"),
    "lat10k": (["--phase", "latency", "--rate", "10000", "--rdy", "200"], "pub"),
    "lat100k": (["--phase", "latency", "--rate", "100000", "--rdy", "1000"], "pub"),
    # The same with an unbuffered consumer (IDENTIFY output_buffer_size -1): every delivery
    # written at once by both servers; the rows above keep the client's default buffering.
    "lat1k-unbuf": (["--phase", "latency", "--rate", "1000", "--rdy", "200",
                     "--output-buffer-size", "-1"], "pub"),
    "lat10k-unbuf": (["--phase", "latency", "--rate", "10000", "--rdy", "200",
                      "--output-buffer-size", "-1"], "pub"),
    "lat100k-unbuf": (["--phase", "latency", "--rate", "100000", "--rdy", "1000",
                       "--output-buffer-size", "-1"], "pub"),
}


def run_load(load: Path, addr: str, extra: list[str], seconds: float) -> dict:
    argv = [str(load), "--addr", addr, "--seconds", str(seconds)] + extra
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise cn.BenchError("nsq_load failed: " + out.stderr.strip())
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_null_phase(phase: str, null: Path, args) -> dict:
    """A publish phase against null_nsqd: the client's ceiling (no HTTP, no CPU figures)."""
    port = cn.free_port()
    proc = cn.spawn_listening([str(null), f"127.0.0.1:{port}"], port)
    try:
        r = run_load(args.load, f"127.0.0.1:{port}", PHASES[phase][0], args.seconds)
        r["rate"] = r["pub_per_s"]
        return r
    finally:
        cn.kill_proc(proc)


def run_phase(phase: str, label: str, binary: Path, args) -> dict:
    extra, unit = PHASES[phase]
    server = cn.Server(label, binary, argparse.Namespace(rdy=0, server_arg=[]), 20_000_000)
    server.start()
    try:
        if phase == "sub":
            # Channel first, then the backlog; the drain is what is measured.
            run_load(args.load, server.addr, ["--phase", "sub", "--conns", "1", "--rdy", "1"], 0.2)
            run_load(args.load, server.addr, ["--phase", "mpub", "--conns", "2", "--batch", "200",
                                         "--count", str(SUB_PREFILL)], 60)
        server.wait_idle()
        cpu0 = cn.cpu_ticks(server.pid)
        r = run_load(args.load, server.addr, extra, args.seconds)
        cpu = (cn.cpu_ticks(server.pid) - cpu0) / cn.CLK_TCK
        msgs = r["published"] if unit == "pub" else r["consumed"]
        r["server_cpu_us_per_msg"] = cpu * 1e6 / msgs if msgs else None
        r["rate"] = r["pub_per_s"] if unit == "pub" else r["sub_per_s"]
        r["rss_mb"] = cn.mem_kb(server.pid).get("VmHWM", 0) / 1024
        if phase == "sub" and r["consumed"] >= SUB_PREFILL:
            cn.log("    (%s drained the whole backlog in %.2f s)" % (label, r["seconds"]))
        return r
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phases", default=",".join(PHASES), help="comma-separated: " +
                    ", ".join(PHASES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--ours", type=Path, default=cn.DEFAULT_OURS)
    ap.add_argument("--ref", type=Path, default=cn.DEFAULT_REF_DIR / "nsqd")
    ap.add_argument("--load", type=Path, default=DEFAULT_LOAD)
    ap.add_argument("--null", type=Path, help="null_nsqd binary: also run the publish phases "
                    "against it (the client's ceiling)")
    ap.add_argument("--json", help="write every run here")
    args = ap.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    for p in phases:
        if p not in PHASES:
            ap.error("unknown phase " + p)
    runs = []
    try:
        for phase in phases:
            for i in range(args.runs):
                if args.null and phase in NULL_PHASES:
                    r = run_null_phase(phase, args.null, args)
                    r.update(phase_name=phase, server="null", run=i)
                    runs.append(r)
                    cn.log("  %-8s null run %d: %10.0f msg/s  client %.2f µs/msg" %
                           (phase, i + 1, r["rate"], r["client_cpu_us_per_msg"]))
                for label, binary in (("ours", args.ours), ("ref", args.ref)):
                    r = run_phase(phase, label, binary, args)
                    r.update(phase_name=phase, server=label, run=i)
                    runs.append(r)
                    cn.log("  %-8s %-4s run %d: %10.0f msg/s%s  server %.2f µs/msg  client %.2f "
                           "µs/msg%s" % (phase, label, i + 1, r["rate"],
                                         "  (published %.0f msg/s)" % r["pub_per_s"]
                                         if phase == "pubsub-mpub" else "",
                                         r["server_cpu_us_per_msg"] or 0,
                                         r["client_cpu_us_per_msg"],
                                         "  p50 %.0f p99 %.0f p99.9 %.0f µs" %
                                         (r["p50_us"], r["p99_us"], r["p999_us"])
                                         if "p50_us" in r else ""))
    finally:
        cn.kill_all_children()
    med = cn.median
    print("| phase | ours msg/s | ref msg/s | ratio | ours srv µs/msg | ref srv µs/msg | "
          "client µs/msg (ours/ref) | ours RSS MB | ref RSS MB | latency p50/p99/p99.9 µs "
          "(ours; ref) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for phase in phases:
        o = [r for r in runs if r["phase_name"] == phase and r["server"] == "ours"]
        f = [r for r in runs if r["phase_name"] == phase and r["server"] == "ref"]

        def m(rs, k):
            return med([r.get(k) for r in rs])

        lat = ""
        if "p50_us" in o[0]:
            lat = "%.0f/%.0f/%.0f; %.0f/%.0f/%.0f" % (
                m(o, "p50_us"), m(o, "p99_us"), m(o, "p999_us"),
                m(f, "p50_us"), m(f, "p99_us"), m(f, "p999_us"))
        print("| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f / %.2f | %.0f | %.0f | %s |" % (
            phase, m(o, "rate"), m(f, "rate"), m(o, "rate") / m(f, "rate"),
            m(o, "server_cpu_us_per_msg"), m(f, "server_cpu_us_per_msg"),
            m(o, "client_cpu_us_per_msg"), m(f, "client_cpu_us_per_msg"),
            m(o, "rss_mb"), m(f, "rss_mb"), lat))
    nulls = [p for p in phases if any(r["server"] == "null" and r["phase_name"] == p
                                      for r in runs)]
    if nulls:
        print()
        print("| phase | null_nsqd msg/s (ceiling) | ceiling / ref | ours / ceiling |")
        print("|---|---:|---:|---:|")
        for phase in nulls:
            def rate(server):
                return med([r["rate"] for r in runs
                            if r["phase_name"] == phase and r["server"] == server])
            print("| %s | %.0f | %.2f | %.2f |" % (phase, rate("null"),
                                                 rate("null") / rate("ref"),
                                                 rate("ours") / rate("null")))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(runs, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
