"""Log lines operators alert on, compared with the reference nsqd for one scenario.

Both daemons run the same steps (start, create a topic and a channel, delete them, SIGTERM);
their logs are normalised (timestamps, addresses, the data path, request durations, the
compiler in the banner) and compared step by step. Within a step the reference logs from
several goroutines in no fixed order, so each step is compared as a multiset of lines.
"""
import collections
import re
import time
import urllib.request

import pytest

# Lines only the reference prints, from goroutines ours does not have (a disk queue's ioLoop,
# a topic's messagePump) or from its Delete emptying a queue it then deletes anyway.
REFERENCE_ONLY = [
    re.compile(r"^INFO: DISKQUEUE\(.*\): closing \.\.\. ioLoop$"),
    re.compile(r"^INFO: TOPIC\(.*\): closing \.\.\. messagePump$"),
    re.compile(r"^INFO: DISKQUEUE\(.*\): emptying$"),
]

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
        while persist_lines(n) < i + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
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
