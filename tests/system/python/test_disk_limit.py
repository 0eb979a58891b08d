"""-max-bytes-per-topic (docs/persistence.md, "Disk limits"): a topic whose files reach the
limit refuses the publishes that need disk, with the reason over TCP (E_PUB_FAILED ...) and
HTTP (507 {"message":"TOPIC_DISK_LIMIT_REACHED"}); /stats, /metrics and nsqadmin's /api show
the usage; consumers that FIN free the space and publishing resumes by itself; every
acknowledged message is delivered. Both modes (disk queues, -durable log). Real sockets, our
nsqd only (the reference has no such limit).
"""

import glob
import json
import os
import subprocess
import time
import urllib.request

import pytest

import nsqhttp
import nsqproto
from conftest import REPO, free_port, wait_for_port
from nsqproto import FRAME_ERROR, dpub, mpub, pub
from test_persistence import consume, is_reference

pytestmark = pytest.mark.skipif(is_reference(), reason="the reference has no per-topic limit")

LIMIT = 65536
BODY = 1000
NSQADMIN_BIN = os.environ.get("NSQADMIN_BIN",
                              os.path.join(REPO, "build", "src", "nsqadmin", "nsqadmin"))


def limited(nsqd_factory, *args):
    return nsqd_factory("--max-bytes-per-topic=%d" % LIMIT, "--sync-timeout=100ms", *args)


def create(n, topic, *channels):
    assert nsqhttp.request(n, "POST", "/topic/create?topic=" + topic).status == 200
    for ch in channels:
        path = "/channel/create?topic=%s&channel=%s" % (topic, ch)
        assert nsqhttp.request(n, "POST", path).status == 200


def body(i):
    return (b"m-%06d-" % i).ljust(BODY, b"x")


def fill(n, topic):
    """PUBs on one connection until the topic is full; returns (acked bodies, error frame)."""
    acked = []
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        for i in range(10000):
            c.send(pub(topic, body(i)))
            ftype, data = c.read_frame(skip_heartbeats=True)
            if ftype == FRAME_ERROR:
                return acked, data
            assert data == b"OK", data
            acked.append(body(i))
    raise AssertionError("the topic never filled up")


def refused(n, data):
    """Sends one command on a fresh connection; returns its (fatal) error frame."""
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.send(data)
        ftype, reply = c.read_frame(skip_heartbeats=True)
    assert ftype == FRAME_ERROR, reply
    return reply


def topic_stats(n, topic):
    r = nsqhttp.request(n, "GET", "/stats?format=json&topic=" + topic)
    return json.loads(r.body)["topics"][0]


def metric(n, name, topic):
    r = nsqhttp.request(n, "GET", "/metrics")
    prefix = '%s{topic="%s",paused="false"} ' % (name, topic)
    for line in r.body.decode().splitlines():
        if line.startswith(prefix):
            return int(float(line[len(prefix):]))
    return None


def wait_not_full(n, topic, timeout=10.0):
    deadline = time.monotonic() + timeout
    while topic_stats(n, topic)["disk_full"] and time.monotonic() < deadline:
        time.sleep(0.05)  # space comes back at the next sync (--sync-timeout) or commit cycle
    return topic_stats(n, topic)


def expect_http_refusals(n, topic):
    r = nsqhttp.request(n, "POST", "/pub?topic=" + topic, body=body(0))
    assert (r.status, r.body) == (507, b'{"message":"TOPIC_DISK_LIMIT_REACHED"}')
    r = nsqhttp.request(n, "POST", "/mpub?topic=" + topic, body=body(0) + b"\n" + body(1))
    assert (r.status, r.body) == (507, b'{"message":"TOPIC_DISK_LIMIT_REACHED"}')


def test_queues_fill_refuse_what_needs_disk_and_resume_when_consumed(nsqd_factory):
    n = limited(nsqd_factory, "--mem-queue-size=10")
    create(n, "t", "c1", "c2")
    acked, error = fill(n, "t")
    assert error == b"E_PUB_FAILED PUB failed topic disk limit reached"
    # 10 in memory; on disk every message costs its record in each of the 2 channels' queues.
    per_message = 2 * (4 + 26 + BODY)
    assert len(acked) == 10 + -(-LIMIT // per_message), len(acked)
    assert refused(n, mpub("t", [b"a", b"b"])) == \
        b"E_MPUB_FAILED MPUB failed topic disk limit reached"
    expect_http_refusals(n, "t")
    # A deferred message waits in memory: it needs no disk and is taken.
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.send(dpub("t", 500, b"deferred"))
        c.expect_response(b"OK")
    acked.append(b"deferred")

    s = topic_stats(n, "t")
    files = sum(os.path.getsize(f) for f in glob.glob(os.path.join(n.data_path, "t:c*.dat"))
                if ".meta." not in f)
    assert s["disk_bytes"] == files >= LIMIT
    assert (s["max_disk_bytes"], s["disk_full"], s["disk_limit_refused_count"]) == (LIMIT, True, 4)
    assert metric(n, "nsq_topic_disk_bytes", "t") == s["disk_bytes"]
    assert metric(n, "nsq_topic_max_disk_bytes", "t") == LIMIT
    assert metric(n, "nsq_topic_disk_limit_refused_total", "t") == 4
    assert nsqhttp.request(n, "GET", "/ping").body == b"OK"  # full is not unhealthy

    for ch in ("c1", "c2"):
        assert consume(n, "t", ch, len(acked), timeout=10, rdy=100)[0] == set(acked)
    s = wait_not_full(n, "t")
    assert not s["disk_full"] and s["disk_bytes"] < LIMIT, s
    more, _ = fill(n, "t")  # publishing resumed by itself
    assert len(more) > 10
    for ch in ("c1", "c2"):
        assert consume(n, "t", ch, len(more), timeout=10, rdy=100)[0] == set(more)


def test_durable_log_fills_refuses_every_publish_and_resumes_when_acknowledged(nsqd_factory):
    n = limited(nsqd_factory, "--durable")
    create(n, "t", "c")
    acked, error = fill(n, "t")
    assert error == b"E_PUB_FAILED PUB failed topic disk limit reached"
    # One copy for all channels: 48-byte record headers, a 16-byte header per 8 KiB segment.
    record = 48 + BODY
    assert (LIMIT - 16 * 10) // record <= len(acked) <= -(-LIMIT // record), len(acked)
    assert refused(n, dpub("t", 500, b"later")) == \
        b"E_DPUB_FAILED DPUB failed topic disk limit reached"
    assert refused(n, mpub("t", [b"a"])) == b"E_MPUB_FAILED MPUB failed topic disk limit reached"
    expect_http_refusals(n, "t")
    s = topic_stats(n, "t")
    segments = sum(os.path.getsize(f) for f in glob.glob(os.path.join(n.data_path, "t.log",
                                                                     "*.seg")))
    assert s["disk_bytes"] == segments >= LIMIT
    assert (s["disk_full"], s["disk_limit_refused_count"]) == (True, 5)

    assert consume(n, "t", "c", len(acked), timeout=10, rdy=100)[0] == set(acked)
    s = wait_not_full(n, "t")  # the FINs' commit cycle trims the segments behind them
    assert not s["disk_full"] and s["disk_bytes"] < LIMIT, s
    more, _ = fill(n, "t")
    assert len(more) > 10
    assert consume(n, "t", "c", len(more), timeout=10, rdy=100)[0] == set(more)


def test_nsqadmin_shows_the_usage_only_when_a_limit_is_set(nsqd_factory, tmp_path):
    if not os.access(NSQADMIN_BIN, os.X_OK):
        pytest.skip("nsqadmin not found: %s" % NSQADMIN_BIN)
    config = tmp_path / "nsqd.toml"
    config.write_text("max_bytes_per_topic = %d\nmem_queue_size = 0\n" % LIMIT)  # the TOML key
    full = nsqd_factory("--config=%s" % config)
    plain = nsqd_factory()
    for n in (full, plain):
        create(n, "t", "c")
    fill(full, "t")
    assert "disk_bytes" not in topic_stats(plain, "t")  # default /stats: the reference's fields

    def api(n):
        port = free_port()
        with open(tmp_path / ("nsqadmin-%d.log" % port), "wb") as log:
            p = subprocess.Popen([NSQADMIN_BIN, "--http-address=127.0.0.1:%d" % port,
                                  "--nsqd-http-address=127.0.0.1:%d" % n.http_port],
                                 stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for_port("127.0.0.1", port, time.monotonic() + 10, p)
            url = "http://127.0.0.1:%d/api/topics/t" % port
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        finally:
            p.terminate()
            p.wait(timeout=10)

    t = api(full)
    s = topic_stats(full, "t")
    assert (t["disk_bytes"], t["max_disk_bytes"], t["disk_full"]) == (s["disk_bytes"], LIMIT, True)
    assert t["disk_limit_refused_count"] == 1
    assert t["nodes"][0]["max_disk_bytes"] == LIMIT
    assert not {"disk_bytes", "max_disk_bytes", "disk_full"} & set(api(plain))
