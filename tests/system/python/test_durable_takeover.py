"""Switching a data dir between the disk queues and -durable (docs/persistence.md, "Switching
modes"): -durable takes over the disk queues of the reference nsqd or of ours without it, and
a start without -durable moves the durable logs back into disk queues. Real sockets; the
reference nsqd v1.3.0 fills and reads the data dir at both ends.
"""

import glob
import os
import time

import pytest

import nsqhttp
import nsqproto
from conftest import NSQD_REF_BIN, Nsqd
from nsqproto import cmd, dpub, mpub


def bodies(prefix, n):
    return [("%s-%05d" % (prefix, i)).encode() for i in range(n)]


def publish_all(n, topic, msgs, batch=200):
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        for i in range(0, len(msgs), batch):
            c.send(mpub(topic, msgs[i:i + batch]))
            c.expect_response(b"OK")


def stats(n):
    """{(topic, channel or None): the /stats entry}."""
    nsqhttp.wait_http(n)
    out = {}
    for t in nsqhttp.request(n, "GET", "/stats?format=json").json()["topics"]:
        out[(t["topic_name"], None)] = t
        for c in t["channels"] or []:
            out[(t["topic_name"], c["channel_name"])] = c
    return out


def take(n, topic, channel, count):
    """Receives exactly `count` messages (RDY count, then RDY 0) and FINs them; returns their
    bodies once nsqd has processed every FIN (in_flight_count 0), so none comes back later."""
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.sub(topic, channel, rdy=count)
        msgs = [c.expect_message(timeout=10) for _ in range(count)]
        c.send(cmd("RDY", 0) + b"".join(cmd("FIN", m.id) for m in msgs))
        deadline = time.monotonic() + 10
        while stats(n)[(topic, channel)]["in_flight_count"] != 0:
            assert time.monotonic() < deadline, "FINs not processed"
            time.sleep(0.01)  # poll: nothing answers a FIN
    return [m.body for m in msgs]


def take_all(n, topic, channel, quiet=0.5):
    """Receives (and FINs) everything the channel delivers until it stays quiet."""
    got = []
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.sub(topic, channel, rdy=2500)
        while True:
            frames = c.read_frames_available(max_wait=quiet)
            msgs = [nsqproto.parse_message(d) for f, d in frames if f == nsqproto.FRAME_MESSAGE]
            if not msgs:
                return got
            got += [m.body for m in msgs]
            c.send(b"".join(cmd("FIN", m.id) for m in msgs))


def disk_queue_files(data):
    return [f for f in os.listdir(data) if ".diskqueue." in f and not f.endswith(".bad")]


def log_text(n):
    with open(n.log_path, "rb") as f:
        return f.read().decode(errors="replace")


def test_reference_data_dir_goes_durable_and_back(tmp_path):
    """Reference -> ours -durable -> ours without -durable -> reference: every message is
    delivered exactly once per channel across the four runs; a channel's own backlog stays
    its own, the topic's backlog (kept while paused) reaches every channel."""
    if not os.access(NSQD_REF_BIN, os.X_OK):
        pytest.skip("reference nsqd not available (NSQD_REF_BIN)")
    data = tmp_path / "data"
    data.mkdir()
    # Small files and memory queues: most of it on disk, over several files, and the rest
    # flushed from memory at the clean shutdown.
    args = ["--mem-queue-size=50", "--max-bytes-per-file=20000"]
    ref = Nsqd(data, args, binary=NSQD_REF_BIN).start()
    for ch in ("a", "b"):
        with nsqproto.Conn(ref.host, ref.tcp_port) as c:
            c.sub("t", ch)
    both = bodies("both", 600)
    publish_all(ref, "t", both)
    seen = {"a": take(ref, "t", "a", 100), "b": []}  # a's backlog is 500, b's 600
    deadline = time.monotonic() + 10
    while stats(ref)[("t", None)]["depth"] != 0:  # the topic's pump handed every one on
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert nsqhttp.request(ref, "POST", "/topic/pause?topic=t").status == 200
    paused = bodies("paused", 200)  # kept in the topic's own queue
    publish_all(ref, "t", paused)
    lonely = bodies("lonely", 300)  # a topic without channels
    publish_all(ref, "lonely", lonely)
    assert ref.stop() is None
    assert disk_queue_files(data)

    ours = Nsqd(data, ["--durable"] + args).start()
    try:
        s = stats(ours)
        assert s[("t", None)]["paused"] is True
        assert s[("lonely", None)]["depth"] == 300
        assert disk_queue_files(data) == []
        text = log_text(ours)
        for line in ("took over 500 messages (0 deferred) from the disk queue t:a",
                     "took over 600 messages (0 deferred) from the disk queue t:b",
                     "took over 200 messages (0 deferred) from the disk queue t\n",
                     "took over 300 messages (0 deferred) from the disk queue lonely"):
            assert line in text, text
        assert nsqhttp.request(ours, "POST", "/topic/unpause?topic=t").status == 200
        s = stats(ours)
        assert (s[("t", "a")]["depth"], s[("t", "b")]["depth"]) == (700, 800)
        seen["a"] += take(ours, "t", "a", 300)
        seen["b"] += take(ours, "t", "b", 400)
        seen["lonely"] = take(ours, "lonely", "c", 100)
    finally:
        assert ours.stop() is None

    ours = Nsqd(data, args).start()  # without -durable: the logs become disk queues again
    try:
        s = stats(ours)
        assert (s[("t", "a")]["depth"], s[("t", "b")]["depth"]) == (400, 400)
        assert s[("lonely", "c")]["depth"] == 200
        assert [d for d in glob.glob(str(data / "*.log")) if os.path.isdir(d)] == []
        assert "moved 400 messages (0 deferred) from the durable log to the disk queue t:a" \
            in log_text(ours)
        seen["a"] += take(ours, "t", "a", 150)
        seen["b"] += take(ours, "t", "b", 200)
        seen["lonely"] += take(ours, "lonely", "c", 100)
    finally:
        assert ours.stop() is None

    ref = Nsqd(data, args, binary=NSQD_REF_BIN).start()
    try:
        seen["a"] += take_all(ref, "t", "a")
        seen["b"] += take_all(ref, "t", "b")
        seen["lonely"] += take_all(ref, "lonely", "c")
    finally:
        assert ref.stop() is None
    for ch in ("a", "b"):
        assert sorted(seen[ch]) == sorted(both + paused), ch  # each exactly once
    assert sorted(seen["lonely"]) == sorted(lonely)


def test_kill9_during_the_takeover_loses_nothing_and_due_times_carry_over(tmp_path):
    """Ours without -durable leaves a large backlog on two channels (and a message deferred
    for an hour) and on a topic without channels; -durable is killed with -9 right after it
    starts (mid-takeover), several times: in the end every message is delivered exactly once
    on each channel (the restart hides an interrupted attempt's copies), the deferred one
    stays deferred; likewise for the way back, killed the same way."""
    data = tmp_path / "data"
    data.mkdir()
    args = ["--mem-queue-size=100"]
    n = Nsqd(data, args).start()
    for ch in ("x", "y"):
        with nsqproto.Conn(n.host, n.tcp_port) as c:
            c.sub("k", ch)
    msgs = [b + b"." * 3000 for b in bodies("k", 4000)]
    publish_all(n, "k", msgs, batch=100)
    solo = bodies("solo", 5000)
    publish_all(n, "solo", solo, batch=500)
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.send(dpub("k", 3600 * 1000, b"later"))
        c.expect_response(b"OK")
    assert n.stop() is None

    kills = 0
    for delay in (0, 0.03, 0.06, 0.1, 0.15):
        n = Nsqd(data, ["--durable"] + args).start()
        time.sleep(delay)
        n.kill9()
        kills += 1
        if "took over" in log_text(n):
            break
    resumed = log_text(n).count("resuming the takeover")
    n = Nsqd(data, ["--durable"] + args).start()
    try:
        s = stats(n)
        assert disk_queue_files(data) == [], log_text(n)
        for ch in ("x", "y"):
            assert s[("k", ch)]["deferred_count"] == 1, (kills, resumed)
            assert s[("k", ch)]["depth"] == len(msgs), (kills, resumed)
        assert s[("solo", None)]["depth"] == len(solo), (kills, resumed)
        got_x = take_all(n, "k", "x")
        assert sorted(got_x) == msgs, (kills, resumed, len(got_x))
        assert sorted(take_all(n, "solo", "c")) == solo
    finally:
        assert n.stop() is None

    for delay in (0, 0.02, 0.05):  # the way back, killed as well
        n = Nsqd(data, args).start()
        time.sleep(delay)
        n.kill9()
        if "moved" in log_text(n):
            break
    n = Nsqd(data, args).start()  # the way back keeps the due time
    try:
        s = stats(n)
        # x holds only the deferred one, on disk until a consumer is ready: read back, it is
        # deferred again for the time left, not delivered.
        assert s[("k", "x")]["depth"] + s[("k", "x")]["deferred_count"] == 1
        assert take_all(n, "k", "x") == []
        assert stats(n)[("k", "x")]["deferred_count"] == 1
        assert sorted(take_all(n, "k", "y")) == msgs
        assert stats(n)[("k", "y")]["deferred_count"] == 1
    finally:
        assert n.stop() is None
