#!/usr/bin/env python3
"""Side-by-side benchmark: our C++ nsqd against the reference Go nsqd v1.3.0.

Runs the SAME load (the reference's own bench_writer / bench_reader, as a neutral load
generator) against both servers in one run, alternating servers run by run, and prints the
median msg/s, the ratio ours/ref, server CPU per message and server RSS.

Python 3.11 standard library only. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field, asdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OURS = REPO / "build" / "src" / "nsqd" / "nsqd"
DEFAULT_REF_DIR = REPO / ".deps" / "reference-bin"
DEFAULT_BUILD_SCRIPT = REPO / "scripts" / "build-reference.sh"

ALL_PHASES = ["mpub200", "mpub1", "sub", "pubsub", "mpub200disk", "subdisk"]
DEFAULT_PHASES = ALL_PHASES
PHASE_HELP = {
    "mpub200": "publish only, bench_writer -batch-size=200 (MPUB of 200)",
    "mpub1": "publish only, bench_writer -batch-size=1 (one message per round trip)",
    "sub": "consume only: pre-fill a backlog, then bench_reader drains it",
    "pubsub": "bench_writer (batch 200) and bench_reader concurrently on one topic/channel",
    "mpub200disk": "mpub200 with nsqd's default --mem-queue-size (10000): the backlog goes to "
                   "the disk queue, as it does in production",
    "subdisk": "sub with nsqd's default --mem-queue-size (10000): bench_reader drains a backlog "
               "from the disk queue",
}
# Phases that run the servers with nsqd's own default memory queue instead of --mem-queue-size.
NSQD_DEFAULT_MEM_QUEUE_SIZE = 10_000
DISK_PHASES = {"mpub200disk": "mpub200", "subdisk": "sub"}

CLK_TCK = os.sysconf("SC_CLK_TCK")

# Every process we start, so that we can always kill exactly those (by pid).
_CHILDREN: list[subprocess.Popen] = []


class BenchError(Exception):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# process helpers


def spawn(argv: list[str], **kw) -> subprocess.Popen:
    # New session: a Ctrl-C on the terminal reaches only us, not nsqd (which would otherwise
    # start a graceful shutdown and write its whole in-memory backlog to disk). We kill our
    # children ourselves, by pid, in a finally block.
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    _CHILDREN.append(p)
    return p


def kill_proc(p: subprocess.Popen) -> None:
    if p.poll() is None:
        try:
            p.kill()  # SIGKILL by pid: we do not want nsqd to flush its backlog to disk
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if p in _CHILDREN:
        _CHILDREN.remove(p)


def kill_all_children() -> None:
    for p in list(_CHILDREN):
        kill_proc(p)


def cpu_ticks(pid: int) -> int:
    """utime + stime of pid, in clock ticks, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # comm (field 2) may contain spaces/parens: split after the last ')'
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime is field 14, stime field 15
    return int(rest[11]) + int(rest[12])


def mem_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


def spawn_listening(argv: list[str], port: int, timeout: float = 15.0) -> subprocess.Popen:
    """Starts a daemon (output discarded) and waits until 127.0.0.1:port accepts."""
    p = spawn(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return p
        except OSError:
            if p.poll() is not None or time.monotonic() > deadline:
                raise BenchError("%s did not start listening on port %d" % (argv[0], port))
            time.sleep(0.02)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# nsqd server under test


class Server:
    def __init__(self, label: str, binary: Path, args: argparse.Namespace, mem_queue_size: int):
        self.label = label
        self.binary = binary
        self.args = args
        self.mem_queue_size = mem_queue_size
        self.proc: subprocess.Popen | None = None
        self.tmp: str | None = None
        self.tcp_port = 0
        self.http_port = 0
        self.logf = None

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.tcp_port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix=f"nsqd-bench-{self.label}-")
        data = os.path.join(self.tmp, "data")
        os.mkdir(data)
        self.tcp_port = free_port()
        self.http_port = free_port()
        while self.http_port == self.tcp_port:
            self.http_port = free_port()
        argv = [
            str(self.binary),
            f"--tcp-address=127.0.0.1:{self.tcp_port}",
            f"--http-address=127.0.0.1:{self.http_port}",
            f"--data-path={data}",
            f"--mem-queue-size={self.mem_queue_size}",
        ]
        if self.args.rdy > 2500:
            argv.append(f"--max-rdy-count={self.args.rdy}")
        argv += self.args.server_arg
        self.logf = open(os.path.join(self.tmp, "nsqd.log"), "wb")
        self.proc = spawn(argv, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.wait_tcp()

    def wait_tcp(self, timeout: float = 15.0) -> None:
        """Wait until the TCP port accepts connections (no HTTP needed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        raise BenchError(f"{self.label}: TCP port {self.tcp_port} not accepting after {timeout}s"
                         + self.log_tail())

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            rc = None if self.proc is None else self.proc.returncode
            raise BenchError(f"{self.label}: nsqd is not running (exit code {rc})" + self.log_tail())

    def log_tail(self, n: int = 15) -> str:
        if not self.tmp:
            return ""
        try:
            if self.logf:
                self.logf.flush()
            with open(os.path.join(self.tmp, "nsqd.log"), "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()[-n:]
            return "\n  nsqd log tail:\n    " + "\n    ".join(lines) if lines else ""
        except OSError:
            return ""

    def wait_idle(self, timeout: float = 15.0, window: float = 0.25) -> None:
        """Wait until the server burns (almost) no CPU, e.g. after a pre-fill: internal
        topic->channel pumping or GC must not leak into the next measurement."""
        deadline = time.monotonic() + timeout
        threshold = max(1, int(window * CLK_TCK * 0.05))  # < ~5% of one core
        prev = cpu_ticks(self.pid)
        while time.monotonic() < deadline:
            time.sleep(window)
            self.check_alive()
            cur = cpu_ticks(self.pid)
            if cur - prev <= threshold:
                return
            prev = cur
        log(f"    ({self.label}: server still busy after {timeout}s, measuring anyway)")

    def stop(self) -> None:
        if self.proc is not None:
            kill_proc(self.proc)
            self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def _read_frame(sock: socket.socket, buf: bytearray) -> tuple[int, bytes]:
    """Read one V2 frame (size, type, data) from sock; buf holds leftover bytes."""
    while True:
        if len(buf) >= 4:
            size = int.from_bytes(buf[:4], "big")
            if len(buf) >= 4 + size:
                ftype = int.from_bytes(buf[4:8], "big")
                data = bytes(buf[8:4 + size])
                del buf[:4 + size]
                return ftype, data
        chunk = sock.recv(65536)
        if not chunk:
            raise BenchError("nsqd closed the connection")
        buf += chunk


def create_channel(addr: str, topic: str, channel: str) -> None:
    """Create topic+channel over plain TCP (SUB, then disconnect; the channel is not
    ephemeral so it stays), so that a pre-fill lands in the channel."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"  V2" + f"SUB {topic} {channel}\n".encode())
        ftype, data = _read_frame(s, bytearray())
        if ftype != 0 or data != b"OK":
            raise BenchError(f"SUB {topic} {channel}: unexpected response type={ftype} {data!r}")


def _mpub_cmd(topic: str, n: int, size: int) -> bytes:
    msg = struct.pack(">I", size) + b"\0" * size
    return f"MPUB {topic}\n".encode() + struct.pack(">II", 4 + n * len(msg), n) + msg * n


def prefill(addr: str, topic: str, total: int, size: int, batch: int, conns: int = 2) -> float:
    """Publish exactly `total` messages of `size` zero bytes to topic with pipelined MPUBs
    over `conns` connections, so that both servers get the same backlog. Returns seconds."""
    host, port = addr.rsplit(":", 1)
    per = [total // conns + (1 if i < total % conns else 0) for i in range(conns)]
    errors: list[str] = []

    def one(count: int) -> None:
        try:
            with socket.create_connection((host, int(port)), timeout=60) as s:
                s.sendall(b"  V2")
                full, rest = divmod(count, batch)
                cmds = [_mpub_cmd(topic, batch, size)] * full + ([_mpub_cmd(topic, rest, size)] if rest else [])

                def sender():
                    try:
                        for c in cmds:
                            s.sendall(c)
                    except OSError as e:
                        errors.append(f"prefill send: {e}")

                th = threading.Thread(target=sender, daemon=True)
                th.start()
                buf = bytearray()
                for _ in cmds:
                    ftype, data = _read_frame(s, buf)
                    if ftype != 0 or data != b"OK":
                        raise BenchError(f"prefill MPUB: response type={ftype} {data[:200]!r}")
                th.join()
        except (OSError, BenchError) as e:
            errors.append(f"prefill: {e}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(c,), daemon=True) for c in per if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise BenchError("; ".join(errors))
    return time.monotonic() - t0


# --------------------------------------------------------------------------------------------
# bench_writer / bench_reader

_OUT_RE = re.compile(
    r"\[(bench_writer|bench_reader)\].*duration: (\S+) - ([-+\w.]+)mb/s - ([-+\w.]+)ops/s - ([-+\w.]+)us/op")
_DUR_RE = re.compile(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)")
_DUR_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(s: str) -> float:
    pos, total = 0, 0.0
    for m in _DUR_RE.finditer(s):
        if m.start() != pos:
            raise ValueError(f"bad duration {s!r}")
        total += float(m.group(1)) * _DUR_UNIT[m.group(2)]
        pos = m.end()
    if pos != len(s) or pos == 0:
        raise ValueError(f"bad duration {s!r}")
    return total


@dataclass
class ToolResult:
    tool: str
    duration_s: float
    msgs_per_s: float
    msgs: int
    line: str


def parse_tool_output(name: str, text: str) -> ToolResult:
    for line in text.splitlines():
        m = _OUT_RE.search(line)
        if m and m.group(1) == name:
            dur = parse_go_duration(m.group(2))
            ops = float(m.group(4))
            return ToolResult(name, dur, ops, int(round(ops * dur)), line.strip())
    raise BenchError(f"{name}: no result line in output:\n    " + "\n    ".join(text.splitlines()[-15:]))


class Tools:
    def __init__(self, bindir: Path, args: argparse.Namespace):
        self.writer = bindir / "bench_writer"
        self.reader = bindir / "bench_reader"
        self.args = args
        self.env = dict(os.environ)
        if args.clients:
            # bench tools open one connection per GOMAXPROCS
            self.env["GOMAXPROCS"] = str(args.clients)

    def _start(self, argv: list[str]) -> subprocess.Popen:
        return spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     stdin=subprocess.DEVNULL, env=self.env, text=True)

    def start_writer(self, addr: str, topic: str, runfor: float, batch: int,
                     deadline: str | None = None) -> subprocess.Popen:
        argv = [str(self.writer), f"-runfor={runfor:.3f}s", f"-nsqd-tcp-address={addr}",
                f"-topic={topic}", f"-size={self.args.size}", f"-batch-size={batch}"]
        if deadline:
            argv.append(f"-deadline={deadline}")
        return self._start(argv)

    def start_reader(self, addr: str, topic: str, channel: str, runfor: float,
                     deadline: str | None = None) -> subprocess.Popen:
        argv = [str(self.reader), f"-runfor={runfor:.3f}s", f"-nsqd-tcp-address={addr}",
                f"-topic={topic}", f"-channel={channel}", f"-size={self.args.size}",
                f"-rdy={self.args.rdy}"]
        if deadline:
            argv.append(f"-deadline={deadline}")
        return self._start(argv)

    @staticmethod
    def finish(p: subprocess.Popen, name: str, timeout: float) -> ToolResult:
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_proc(p)
            raise BenchError(f"{name} did not finish within {timeout:.0f}s")
        if p in _CHILDREN:
            _CHILDREN.remove(p)
        if p.returncode != 0:
            lines = [x for x in out.splitlines() if x.strip()]
            # a Go panic: the panic line is what matters, not the goroutine dump
            panic = [x for x in lines if x.startswith("panic:")]
            raise BenchError(f"{name} exited with {p.returncode}: "
                             + " | ".join(panic[:1] or lines[-5:]))
        return parse_tool_output(name, out)


# --------------------------------------------------------------------------------------------
# phases


@dataclass
class RunResult:
    phase: str
    server: str
    run: int
    ok: bool = True
    error: str = ""
    # one or two rows per phase: name -> {msgs, msgs_per_s, duration_s}
    rows: dict = field(default_factory=dict)
    cpu_s: float = 0.0
    peak_rss_kb: int = 0
    rss_kb: int = 0
    notes: list = field(default_factory=list)
    tool_lines: list = field(default_factory=list)
    prefill_msgs: int = 0
    prefill_s: float = 0.0


class Bench:
    def __init__(self, args: argparse.Namespace, servers: dict[str, Path], tools: Tools):
        self.args = args
        self.servers = servers
        self.tools = tools
        # sub phase backlog, the same for both servers; doubled if a run drained it
        # (per phase: a backlog on disk drains at its own rate)
        self.prefill_n = {p: args.prefill or int(args.runtime * 600_000) for p in ALL_PHASES}

    def tool_timeout(self, runfor: float) -> float:
        return runfor + 60.0

    def run_phase(self, phase: str, label: str, run: int) -> RunResult:
        res = RunResult(phase, label, run)
        base = DISK_PHASES.get(phase, phase)
        mem_queue = NSQD_DEFAULT_MEM_QUEUE_SIZE if phase in DISK_PHASES else self.args.mem_queue_size
        srv = Server(label, self.servers[label], self.args, mem_queue)
        try:
            srv.start()
            getattr(self, "_phase_" + base)(srv, res)
            srv.check_alive()
            m = mem_kb(srv.pid)
            res.peak_rss_kb, res.rss_kb = m.get("VmHWM", 0), m.get("VmRSS", 0)
        except (BenchError, OSError) as e:
            res.ok = False
            res.error = str(e)
            if srv.proc is not None and srv.proc.poll() is not None and "not running" not in res.error:
                res.error = (f"nsqd died (exit code {srv.proc.returncode}); {res.error}"
                             + srv.log_tail())
        finally:
            srv.stop()
        return res

    def _measure(self, srv: Server, res: RunResult, fn):
        srv.wait_idle()
        t0 = cpu_ticks(srv.pid)
        out = fn()
        srv.check_alive()
        res.cpu_s = (cpu_ticks(srv.pid) - t0) / CLK_TCK
        return out

    def _spill_note(self, res: RunResult, n: int) -> None:
        if res.phase not in DISK_PHASES and n > self.args.mem_queue_size:
            res.notes.append(f"{n} msgs > --mem-queue-size {self.args.mem_queue_size}: "
                             "part of the backlog went to disk")

    def _publish(self, srv: Server, res: RunResult, batch: int) -> None:
        rt = self.args.runtime

        def go():
            p = self.tools.start_writer(srv.addr, "bench_pub", rt, batch)
            return Tools.finish(p, "bench_writer", self.tool_timeout(rt))

        w = self._measure(srv, res, go)
        res.rows["pub"] = asdict(w)
        res.tool_lines.append(w.line)
        self._spill_note(res, w.msgs)

    def _phase_mpub200(self, srv: Server, res: RunResult) -> None:
        self._publish(srv, res, self.args.batch_size)

    def _phase_mpub1(self, srv: Server, res: RunResult) -> None:
        self._publish(srv, res, 1)

    def _phase_sub(self, srv: Server, res: RunResult) -> None:
        rt = self.args.runtime
        topic, chan = "bench_sub", "ch"
        for attempt in range(3):
            if attempt:
                srv.stop()
                srv.start()
            create_channel(srv.addr, topic, chan)
            n = self.prefill_n[res.phase]
            fill_s = prefill(srv.addr, topic, n, self.args.size, self.args.batch_size)
            res.prefill_msgs, res.prefill_s = n, fill_s
            res.notes = [x for x in res.notes if "mem-queue-size" not in x]
            self._spill_note(res, n)

            def go():
                p = self.tools.start_reader(srv.addr, topic, chan, rt)
                return Tools.finish(p, "bench_reader", self.tool_timeout(rt))

            r = self._measure(srv, res, go)
            res.rows["sub"] = asdict(r)
            res.tool_lines = [f"prefill: {n} msgs in {fill_s:.2f}s", r.line]
            if r.msgs < 0.98 * n:
                return
            # The reader consumed (almost) the whole backlog before -runfor ended: it sat idle
            # part of the time, so its msg/s is only a lower bound. Pre-fill more and redo
            # (the larger pre-fill is kept for all later runs of both servers).
            self.prefill_n[res.phase] *= 2
            log(f"    ({srv.label}: reader drained the {n}-msg backlog; "
                f"retrying with a {self.prefill_n[res.phase]}-msg pre-fill)")
        res.notes.append("backlog drained before -runfor ended: sub msg/s is a lower bound")

    def _phase_pubsub(self, srv: Server, res: RunResult) -> None:
        rt = self.args.runtime
        topic, chan = "bench_pubsub", "ch"
        create_channel(srv.addr, topic, chan)

        def go():
            # bench tools' -deadline: "YYYY-MM-DD HH:MM:SS", parsed as UTC; both start together
            start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.2)
            start = start.replace(microsecond=0) + dt.timedelta(seconds=1)
            dl = start.strftime("%Y-%m-%d %H:%M:%S")
            pr = self.tools.start_reader(srv.addr, topic, chan, rt, dl)
            pw = None
            try:
                pw = self.tools.start_writer(srv.addr, topic, rt, self.args.batch_size, dl)
                w = Tools.finish(pw, "bench_writer", self.tool_timeout(rt + 3))
                r = Tools.finish(pr, "bench_reader", self.tool_timeout(rt + 3))
                return w, r
            finally:
                for p in (pr, pw):
                    if p is not None:
                        kill_proc(p)

        w, r = self._measure(srv, res, go)
        res.rows["pub"] = asdict(w)
        res.rows["sub"] = asdict(r)
        res.tool_lines = [w.line, r.line]


# --------------------------------------------------------------------------------------------
# reporting


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def row_names(phase: str) -> list[str]:
    rows = {"mpub200": ["pub"], "mpub1": ["pub"], "sub": ["sub"], "pubsub": ["pub", "sub"]}
    return rows[DISK_PHASES.get(phase, phase)]


def summarize(results: list[RunResult], phases: list[str]) -> list[dict]:
    table = []
    for phase in phases:
        for row in row_names(phase):
            name = phase if len(row_names(phase)) == 1 else f"{phase}:{row}"
            entry = {"phase": name}
            for label in ("ours", "ref"):
                rs = [r for r in results if r.phase == phase and r.server == label and r.ok]
                nfail = sum(1 for r in results if r.phase == phase and r.server == label and not r.ok)
                rates = [r.rows[row]["msgs_per_s"] for r in rs]
                cpu = [r.cpu_s / r.rows[row]["msgs"] * 1e6 for r in rs if r.rows[row]["msgs"] > 0]
                entry[label] = {
                    "runs_ok": len(rs),
                    "runs_failed": nfail,
                    "msgs_per_s": rates,
                    "median_msgs_per_s": median(rates),
                    "median_cpu_us_per_msg": median(cpu),
                    "median_peak_rss_mb": median([r.peak_rss_kb / 1024 for r in rs]),
                    "median_rss_mb": median([r.rss_kb / 1024 for r in rs]),
                }
            o, f = entry["ours"]["median_msgs_per_s"], entry["ref"]["median_msgs_per_s"]
            entry["ratio"] = (o / f) if (o is not None and f) else None
            table.append(entry)
    return table


def fmt_num(x, nd=0):
    if x is None:
        return "FAIL"
    return f"{x:,.{nd}f}"


def print_table(table: list[dict]) -> None:
    hdr = ["phase", "ours msg/s", "ref msg/s", "ratio", "ours CPU us/msg", "ref CPU us/msg",
           "ours RSS MB", "ref RSS MB"]
    rows = []
    for e in table:
        o, f = e["ours"], e["ref"]

        def rss(s):
            if s["median_peak_rss_mb"] is None:
                return "FAIL"
            return f"{s['median_peak_rss_mb']:.0f} ({s['median_rss_mb']:.0f})"

        rows.append([
            e["phase"], fmt_num(o["median_msgs_per_s"]), fmt_num(f["median_msgs_per_s"]),
            "-" if e["ratio"] is None else f"{e['ratio']:.2f}",
            fmt_num(o["median_cpu_us_per_msg"], 2), fmt_num(f["median_cpu_us_per_msg"], 2),
            rss(o), rss(f),
        ])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]

    def line(cells):
        return " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(hdr))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


# --------------------------------------------------------------------------------------------
# setup


def ensure_reference(args: argparse.Namespace) -> tuple[Path, Path]:
    """Returns (ref nsqd, dir holding bench_writer/bench_reader); builds the reference if needed."""
    need = ("nsqd", "bench_writer", "bench_reader")

    def complete(d: Path) -> bool:
        return all(os.access(d / n, os.X_OK) for n in need)

    def build(d: Path) -> None:
        script = Path(args.build_script)
        if not script.exists():
            raise BenchError(f"reference binaries missing in {d} and build script {script} not found")
        log(f"building the reference nsqd + bench tools into {d} (needs go) ...")
        try:
            # build output to stderr: stdout is reserved for the result table
            subprocess.run(["bash", str(script), str(d)], check=True, stdout=sys.stderr)
        except subprocess.CalledProcessError as e:
            raise BenchError(f"{script} {d} failed with exit code {e.returncode}")

    ref = Path(args.ref) if args.ref else DEFAULT_REF_DIR / "nsqd"
    if not args.ref and not complete(DEFAULT_REF_DIR):
        build(DEFAULT_REF_DIR)
    if not os.access(ref, os.X_OK):
        raise BenchError(f"reference nsqd {ref} not found / not executable")

    if args.bench_bin:
        bench = Path(args.bench_bin)
    elif (ref.parent / "bench_writer").exists() and (ref.parent / "bench_reader").exists():
        bench = ref.parent
    else:
        if not complete(DEFAULT_REF_DIR):
            build(DEFAULT_REF_DIR)
        bench = DEFAULT_REF_DIR
    for n in ("bench_writer", "bench_reader"):
        if not os.access(bench / n, os.X_OK):
            raise BenchError(f"{bench / n} not found / not executable")
    return ref, bench


def version_of(binary: Path) -> str:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=5,
                             start_new_session=True)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"
    except Exception as e:  # our nsqd may not implement --version yet
        return f"? ({e.__class__.__name__})"


class _HelpFmt(argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Benchmark our nsqd against the reference nsqd v1.3.0 side by side.",
        formatter_class=_HelpFmt,
        epilog="phases: " + "; ".join(f"{k}: {v}" for k, v in PHASE_HELP.items()))
    ap.add_argument("--ours", default=str(DEFAULT_OURS), help="our nsqd binary")
    ap.add_argument("--ref", default=None,
                    help=f"reference nsqd binary (default: {DEFAULT_REF_DIR}/nsqd, built if missing)")
    ap.add_argument("--bench-bin", default=None,
                    help="dir with bench_writer/bench_reader (default: next to --ref, else the .deps build)")
    ap.add_argument("--build-script", default=str(DEFAULT_BUILD_SCRIPT), help="reference build script")
    ap.add_argument("--runtime", type=float, default=4.0, help="seconds per measured phase")
    ap.add_argument("--runs", type=int, default=3, help="runs per phase and server (median reported)")
    ap.add_argument("--size", type=int, default=200, help="message size in bytes")
    ap.add_argument("--batch-size", type=int, default=200, help="MPUB batch of the mpub200/sub/pubsub writer")
    ap.add_argument("--phases", default=",".join(DEFAULT_PHASES),
                    help=f"comma-separated subset of {','.join(ALL_PHASES)}")
    ap.add_argument("--prefill", type=int, default=0,
                    help="sub phase: backlog in messages, published before bench_reader starts "
                         "(0: runtime x 600000; doubled automatically if a reader drains it)")
    ap.add_argument("--rdy", type=int, default=2500, help="bench_reader -rdy (>2500 adds --max-rdy-count)")
    ap.add_argument("--clients", type=int, default=0,
                    help="GOMAXPROCS for the bench tools = connections per tool (0: #CPUs)")
    ap.add_argument("--mem-queue-size", type=int, default=20_000_000,
                    help="nsqd --mem-queue-size (keep the backlog in memory)")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra nsqd flag for BOTH servers (repeatable), e.g. --server-arg=--log-level=warn")
    ap.add_argument("--json", default=None, help="also write results to this JSON file")
    args = ap.parse_args(argv)
    args.phase_list = [p.strip() for p in args.phases.split(",") if p.strip()]
    bad = [p for p in args.phase_list if p not in ALL_PHASES]
    if bad or not args.phase_list:
        ap.error(f"unknown phase(s) {bad}; choose from {ALL_PHASES}")
    if args.runs < 1 or args.runtime <= 0:
        ap.error("--runs must be >= 1 and --runtime > 0")
    return args


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started in background
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, _on_sigterm)
    try:
        ref, bench_dir = ensure_reference(args)
        ours = Path(args.ours)
        if not os.access(ours, os.X_OK):
            raise BenchError(f"our nsqd {ours} not found / not executable "
                             "(build it, or pass --ours PATH)")
        servers = {"ours": ours, "ref": ref}
        tools = Tools(bench_dir, args)
        bench = Bench(args, servers, tools)

        log(f"ours: {ours}  [{version_of(ours)}]")
        log(f"ref:  {ref}  [{version_of(ref)}]")
        log(f"load: {bench_dir}/bench_writer, bench_reader; {os.cpu_count()} CPUs shared by "
            f"server and load generator")
        log(f"phases={','.join(args.phase_list)} runs={args.runs} runtime={args.runtime}s "
            f"size={args.size}B mem-queue-size={args.mem_queue_size}")

        results: list[RunResult] = []
        t_start = time.monotonic()
        for phase in args.phase_list:
            log(f"== {phase}: {PHASE_HELP[phase]}")
            for run in range(1, args.runs + 1):
                for label in ("ours", "ref"):
                    r = bench.run_phase(phase, label, run)
                    results.append(r)
                    if r.ok:
                        rates = ", ".join(f"{k} {v['msgs_per_s']:,.0f} msg/s ({v['msgs']} msgs)"
                                          for k, v in r.rows.items())
                        log(f"  run {run} {label:4s}: {rates}; cpu {r.cpu_s:.2f}s; "
                            f"peak rss {r.peak_rss_kb / 1024:.0f} MB"
                            + (f"; prefill {r.prefill_msgs} msgs in {r.prefill_s:.1f}s" if r.prefill_msgs else ""))
                        for n in r.notes:
                            log(f"    note: {n}")
                    else:
                        log(f"  run {run} {label:4s}: FAILED: {r.error}")
        elapsed = time.monotonic() - t_start

        table = summarize(results, args.phase_list)
        print()
        print(f"nsqd comparison: medians of {args.runs} run(s), {args.runtime:g}s each, "
              f"{args.size}-byte messages ({elapsed:.0f}s total)")
        print_table(table)
        print("ratio = ours/ref msg/s (>1: ours faster). CPU = server utime+stime per message. "
              "RSS MB = peak VmHWM (VmRSS at end of phase).")
        if "pubsub" in args.phase_list:
            print("pubsub rows: CPU of the whole phase divided by that row's message count.")
        notes = sorted({f"{r.phase}/{r.server}: {n}" for r in results for n in r.notes})
        fails = [f"{r.phase}/{r.server} run {r.run}: {r.error.splitlines()[0]}" for r in results if not r.ok]
        for n in notes:
            print("note: " + n)
        for f in fails:
            print("FAILED: " + f)
        sys.stdout.flush()

        if args.json:
            doc = {
                "config": {k: v for k, v in vars(args).items()},
                "servers": {"ours": str(ours), "ref": str(ref)},
                "bench_bin": str(bench_dir),
                "cpus": os.cpu_count(),
                "clk_tck": CLK_TCK,
                "elapsed_s": elapsed,
                "summary": table,
                "runs": [asdict(r) for r in results],
            }
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=2)
            log(f"wrote {args.json}")
        return 1 if fails else 0
    except BenchError as e:
        log(f"error: {e}")
        return 2
    except KeyboardInterrupt:
        log("interrupted; killing servers and load generators")
        return 130
    finally:
        kill_all_children()


if __name__ == "__main__":
    sys.exit(main())
