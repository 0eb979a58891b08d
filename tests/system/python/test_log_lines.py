"""Log lines operators alert on, compared with the reference nsqd for one scenario.

Both daemons run the same steps (start, create a topic and a channel, delete them, SIGTERM);
their logs are normalised (timestamps, addresses, the data path, request durations, the
compiler in the banner) and compared step by step. Within a step the reference logs from
several goroutines in no fixed order, so each step is compared as a multiset of lines.
"""
import collections
import os
import re
import socket
import subprocess
import time
import urllib.request

import pytest

import nsqproto
from conftest import NSQD_BIN, free_port

# Lines only the reference prints: none left (its disk queues' ioLoop, its topics'
# messagePump and the emptying of a deleted queue are logged by ours at the same points).
REFERENCE_ONLY = []

# Lines whose place depends on other threads (the metadata write runs asynchronously in both;
# ours merges writes asked for while one runs, so a burst of changes logs fewer of them;
# the start-up probe connects while the first request runs; the reference's lookup and queue
# scan goroutines end in either order): compared as counts over the whole log.
UNORDERED = [
    re.compile(r"^INFO: NSQ: persisting topic/channel metadata to "),
    re.compile(r"^INFO: TCP: new client\(ADDR\)$"),
    re.compile(r"^ERROR: failed to read protocol version - "),
    re.compile(r"^INFO: (LOOKUP|QUEUESCAN): closing$"),
]

STEPS = [
    "/topic/create?topic=logs",
    "/channel/create?topic=logs&channel=c",
    "/channel/delete?topic=logs&channel=c",
    "/topic/delete?topic=logs",
    # Left for the shutdown: a topic and a channel closed (not deleted) with their queues.
    "/topic/create?topic=kept",
    "/channel/create?topic=kept&channel=k",
    # After this one a client connects, IDENTIFYs, subscribes and leaves (client_session).
    "/ping",
]


def normalised_log(n):
    with open(n.log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    text = re.sub(r"^\[nsqd\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+ ", "", text, flags=re.M)
    text = text.replace(n.data_path, "DATA")
    text = re.sub(r"127\.0\.0\.1:\d+", "ADDR", text)
    text = re.sub(r"\(ADDR\) [0-9.]+[µmn]?s$", "(ADDR)", text, flags=re.M)
    text = re.sub(r"built w/[^)]*", "built w/COMPILER", text)
    return [line for line in text.splitlines()
            if not any(p.match(line) for p in REFERENCE_ONLY)]


def unordered(lines):
    return collections.Counter(l for l in lines if any(p.match(l) for p in UNORDERED))


def steps_of(lines):
    """Splits the log at each HTTP access line (the end of one step)."""
    steps, current = [], []
    for line in lines:
        if any(p.match(line) for p in UNORDERED):
            continue
        current.append(line)
        if line.endswith("(ADDR)"):
            steps.append(collections.Counter(current))
            current = []
    steps.append(collections.Counter(current))  # shutdown
    return steps


def persist_lines(n):
    with open(n.log_path, encoding="utf-8", errors="replace") as f:
        return f.read().count("NSQ: persisting topic/channel metadata")


def log_text(n):
    with open(n.log_path, encoding="utf-8", errors="replace") as f:
        return f.read()


def client_session(n):
    """A consumer's whole life: magic, IDENTIFY (every field the log line shows), SUB, EOF.
    Waits for the last exit line, which the reference logs from another goroutine."""
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.identify(client_id="logs-client", hostname="logs-host", user_agent="logs/1.0",
                   heartbeat_interval=20000, output_buffer_size=8192,
                   output_buffer_timeout=100, deflate=False, snappy=False, sample_rate=0,
                   msg_timeout=30000)
        c.sub("kept", "k")
    deadline = time.monotonic() + 5
    while "exiting messagePump" not in log_text(n) and time.monotonic() < deadline:
        time.sleep(0.01)


def run_scenario(nsqd_factory, binary):
    n = nsqd_factory(binary=binary)
    for i, path in enumerate(["/ping"] + STEPS):
        req = urllib.request.Request("http://%s:%d%s" % (n.host, n.http_port, path),
                                     method="GET" if path == "/ping" else "POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200, path
        # Each change rewrites nsqd.dat in the background (ours merges changes that come
        # faster than a write): wait for this step's write, as an operator's pace would.
        deadline = time.monotonic() + 5
        while persist_lines(n) < min(i, 6) + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        if i == len(STEPS):
            client_session(n)
    problem = n.stop()
    n.proc = None  # stopped here: the factory's teardown has nothing left to stop
    assert problem is None, problem
    return normalised_log(n)


def test_startup_lifecycle_and_shutdown_lines_match_the_reference(nsqd_factory, ref_nsqd_bin):
    ours = run_scenario(nsqd_factory, None)
    ref = run_scenario(nsqd_factory, ref_nsqd_bin)
    # The banner, the node id and the first metadata write open both logs, in this order.
    assert ours[:3] == ref[:3], (ours[:3], ref[:3])
    assert ours[0] == "INFO: nsqd v1.3.0 (built w/COMPILER)"
    assert unordered(ours) == unordered(ref), (unordered(ours), unordered(ref))
    ours_steps, ref_steps = steps_of(ours), steps_of(ref)
    assert len(ours_steps) == len(ref_steps) == len(STEPS) + 2, (ours, ref)
    for i, (o, r) in enumerate(zip(ours_steps, ref_steps)):
        assert o == r, "step %d differs:\nonly ours: %s\nonly the reference: %s" % (
            i, sorted((o - r).elements()), sorted((r - o).elements()))
    # Shutdown ends as the reference's does.
    assert ours[-1] == ref[-1] == "INFO: NSQ: bye", (ours[-4:], ref[-4:])


def test_client_lines_match_the_reference(nsqd_factory, ref_nsqd_bin):
    """The lines of one consumer's life, word for word (the scenario above compares them in
    place; this names what a difference would be)."""
    for binary in (None, ref_nsqd_bin):
        n = nsqd_factory(binary=binary)
        client_session(n)
        lines = [l for l in normalised_log(n) if "[ADDR]" in l or "CLIENT(ADDR)" in l]
        assert lines[-4:] == [
            "INFO: CLIENT(ADDR): desired protocol magic '  V2'",
            "INFO: [ADDR] IDENTIFY: {ClientID:logs-client Hostname:logs-host "
            "HeartbeatInterval:20000 OutputBufferSize:8192 OutputBufferTimeout:100 "
            "FeatureNegotiation:true TLSv1:false Deflate:false DeflateLevel:0 Snappy:false "
            "SampleRate:0 UserAgent:logs/1.0 MsgTimeout:30000}",
            "INFO: PROTOCOL(V2): [ADDR] exiting ioloop",
            "INFO: PROTOCOL(V2): [ADDR] exiting messagePump",
        ], (binary, lines)


def test_error_and_shutdown_exit_lines_match_the_reference(nsqd_factory, ref_nsqd_bin):
    """A client closed for a bad command and one still connected at SIGTERM: the same exit
    lines (tcp.go's "client(ADDR) - <error>" included) as the reference."""
    logs = {}
    for binary in (None, ref_nsqd_bin):
        n = nsqd_factory(binary=binary)
        consumer = nsqproto.Conn(n.host, n.tcp_port)
        consumer.identify(client_id="stays")
        consumer.sub("exits", "c")
        with nsqproto.Conn(n.host, n.tcp_port) as bad:
            bad.send(b"BOGUS\n")
            bad.expect_error(b"E_INVALID invalid command BOGUS")
            bad.expect_closed()
        problem = n.stop()
        n.proc = None
        consumer.close()
        assert problem is None, problem
        logs[binary] = collections.Counter(
            l for l in normalised_log(n) if "[ADDR]" in l or "client(ADDR)" in l)
    ours, ref = logs[None], logs[ref_nsqd_bin]
    assert ours == ref, (sorted((ours - ref).elements()), sorted((ref - ours).elements()))
    assert ours["ERROR: client(ADDR) - failed to read command - read tcp ADDR->ADDR: use of "
                "closed network connection"] == 1, ours


def lookup_lines(n):
    return [l for l in normalised_log(n) if "LOOKUP" in l and l != "INFO: LOOKUP: closing"]


def test_unreachable_lookupd_lines_match_the_reference(nsqd_factory, ref_nsqd_bin):
    """nsqlookupd down: the reference dials once when it adds the peer (error ignored), then on
    each registration and each 15 s ping, and says "connection refused" (Go's errno text).
    Ours retries sooner in the background but logs only at those same points."""
    dead = free_port()  # nothing listens there
    logs = {}
    for binary in (None, ref_nsqd_bin):
        n = nsqd_factory("--lookupd-tcp-address=127.0.0.1:%d" % dead, binary=binary)
        time.sleep(1.5)  # ours retries after 1 s: that retry must stay silent
        req = urllib.request.Request("http://%s:%d/topic/create?topic=lk" % (n.host,
                                                                               n.http_port),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200
        deadline = time.monotonic() + 5
        while "REGISTER lk - " not in log_text(n) and time.monotonic() < deadline:
            time.sleep(0.01)
        logs[binary] = lookup_lines(n)
    ours, ref = logs[None], logs[ref_nsqd_bin]
    assert ours == ref, (ours, ref)
    assert ours == [
        "INFO: LOOKUP(ADDR): adding peer",
        "INFO: LOOKUP connecting to ADDR",
        "INFO: LOOKUPD(ADDR): topic REGISTER lk",
        "INFO: LOOKUP connecting to ADDR",
        "ERROR: LOOKUPD(ADDR): REGISTER lk - dial tcp ADDR: connect: connection refused",
    ], ours


@pytest.mark.parametrize("name", ["ours", "reference"])
def test_config_file_errors_are_fatal_lines(tmp_path, ref_nsqd_bin, name):
    binary = NSQD_BIN if name == "ours" else ref_nsqd_bin
    missing = str(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [\n")
    fatal = re.compile(r"^\[nsqd\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} FATAL: (.*)$")
    for config, expected in ((missing, "failed to load config file %s - open %s: no such file "
                                       "or directory" % (missing, missing)),
                             (str(bad), "failed to load config file %s - toml: line 1" % bad)):
        r = subprocess.run([binary, "-config=" + config], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=10,
                           cwd=str(tmp_path))
        out = r.stdout.decode(errors="replace").strip()
        assert r.returncode == 1, out
        m = fatal.match(out)
        assert m, out
        assert m.group(1).startswith(expected), out
