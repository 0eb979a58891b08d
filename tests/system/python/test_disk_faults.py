"""Disk faults under a running nsqd: file calls made to fail with EIO (an LD_PRELOAD library,
fault_preload.cpp, driven by a control file), then cleared.

For each: the publisher gets a clear error (E_PUB_FAILED / E_MPUB_FAILED with the reason, 503
over HTTP as the reference answers any failed put), /ping says NOK with the reason, nothing
acknowledged is lost, and service returns when the fault clears. The reference makes raw
syscalls (Go), so the library cannot reach it: these run against ours only.
"""

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import nsqproto
from conftest import Nsqd, NSQD_BIN
from test_persistence import consume
from nsqproto import FRAME_ERROR, mpub, pub

HERE = os.path.dirname(os.path.abspath(__file__))


def links_sanitizer(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out or "libtsan" in out


@pytest.fixture(scope="module")
def preload_lib(tmp_path_factory):
    if os.path.realpath(NSQD_BIN).endswith("reference-bin/nsqd"):
        pytest.skip("the reference (Go) makes raw syscalls that LD_PRELOAD cannot reach")
    if links_sanitizer(NSQD_BIN):
        pytest.skip("a sanitizer runtime must come first; LD_PRELOAD would break it")
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no C++ compiler")
    out = str(tmp_path_factory.mktemp("preload") / "fault_preload.so")
    subprocess.run([cxx, "-std=c++20", "-shared", "-fPIC", "-O1", "-o", out,
                    os.path.join(HERE, "fault_preload.cpp"), "-ldl"], check=True, timeout=120)
    return out


class Faulty:
    """An nsqd whose file calls fail as the control file says."""

    def __init__(self, tmp_path, preload, *args):
        self.control = str(tmp_path / "faults")
        open(self.control, "w").close()
        data = tmp_path / "data"
        data.mkdir()
        self.n = Nsqd(data, ["--mem-queue-size=0"] + list(args),
                      env={"LD_PRELOAD": preload, "NSQ_FAULT_CONTROL": self.control})
        self.n.start()

    def inject(self, *lines):
        with open(self.control + ".new", "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(self.control + ".new", self.control)

    def clear(self):
        self.inject()

    def http(self, method, path, body=None):
        req = urllib.request.Request("http://%s:%d%s" % (self.n.host, self.n.http_port, path),
                                     data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def ping(self):
        return self.http("GET", "/ping")

    def create_channel(self, topic, channel):
        assert self.http("POST", "/topic/create?topic=" + topic)[0] == 200
        assert self.http("POST", "/channel/create?topic=%s&channel=%s" % (topic, channel))[0] == 200

    def wait_ping(self, healthy, timeout=5.0):
        deadline = time.monotonic() + timeout
        while (self.ping()[0] == 200) != healthy and time.monotonic() < deadline:
            time.sleep(0.05)  # health changes on the disk worker's next sync or read (poll)
        return self.ping()

    def tcp(self, data):
        """Sends one command on a fresh connection; returns (frame type, data)."""
        with nsqproto.Conn(self.n.host, self.n.tcp_port) as c:
            c.send(data)
            return c.read_frame(skip_heartbeats=True)

    def depth(self, topic, channel):
        status, body = self.http("GET", "/stats?format=json&topic=" + topic)
        for t in json.loads(body)["topics"]:
            for c in t["channels"]:
                if c["channel_name"] == channel:
                    return c["depth"]
        return None

    def drain(self, topic, channel, expected, timeout=15.0):
        return consume(self.n, topic, channel, expected, timeout=timeout, rdy=100)[0]

    def stop(self):
        self.n.stop()


@pytest.fixture
def faulty(tmp_path, preload_lib):
    started = []

    def start(*args):
        f = Faulty(tmp_path, preload_lib, *args)
        started.append(f)
        return f

    yield start
    for f in started:
        if f.n.alive():
            f.stop()


@pytest.mark.parametrize("call", ["pwritev", "open"])
def test_write_fault_refuses_publishes_with_the_reason_and_loses_nothing(faulty, call):
    f = faulty("--max-bytes-per-file=4096")
    f.create_channel("t", "c")
    acked = [b"before-%d" % i for i in range(20)]
    for b in acked:
        assert f.tcp(pub("t", b)) == (0, b"OK")
    if call == "open":
        # The write file is already open: make the next put roll to file 1, which cannot open.
        f.inject("open EIO .diskqueue.000001.dat")
        ftype, data = f.tcp(pub("t", b"x" * 5000))
        assert ftype == FRAME_ERROR, data
        assert data.startswith(b"E_PUB_FAILED PUB failed open "), data
        assert data.endswith(b"000001.dat: input/output error"), data
    else:
        f.inject("pwritev EIO .diskqueue.0")
        ftype, data = f.tcp(pub("t", b"refused"))
        assert ftype == FRAME_ERROR, data
        assert data.startswith(b"E_PUB_FAILED PUB failed write "), data
        assert data.endswith(b": input/output error"), data
        ftype, data = f.tcp(mpub("t", [b"r1", b"r2"]))
        assert ftype == FRAME_ERROR and data.startswith(b"E_MPUB_FAILED MPUB failed write "), data
        # The reference answers any failed put over HTTP so (nsqd/http.go doPUB).
        assert f.http("POST", "/pub?topic=t", b"refused") == (503, b'{"message":"EXITING"}')
    status, text = f.ping()
    assert status == 500 and text.startswith(b"NOK - ") and b"input/output error" in text, text
    assert f.depth("t", "c") == len(acked)  # the failed puts added nothing

    f.clear()
    assert f.tcp(pub("t", b"after")) == (0, b"OK")
    assert f.ping() == (200, b"OK")
    acked.append(b"after")
    assert f.drain("t", "c", len(acked)) == set(acked)


@pytest.mark.parametrize("durable", [False, True], ids=["queues", "durable"])
def test_full_disk_refuses_with_the_reason_and_health_recovers_by_itself(faulty, durable):
    f = faulty(*(["--durable"] if durable else []))
    f.create_channel("t", "c")
    acked = [b"before-%d" % i for i in range(5)]
    for b in acked:
        assert f.tcp(pub("t", b)) == (0, b"OK")
    f.inject("pwritev ENOSPC " + (".seg" if durable else ".diskqueue.0"))
    ftype, data = f.tcp(pub("t", b"refused"))
    assert ftype == FRAME_ERROR, data
    assert data.startswith(b"E_PUB_FAILED PUB failed write "), data
    assert data.endswith((b"t.log" if durable else b".dat") + b": no space left on device"), data
    assert f.http("POST", "/pub?topic=t", b"refused") == (503, b'{"message":"EXITING"}')
    status, text = f.ping()
    assert status == 500 and text.startswith(b"NOK - write "), text
    assert text.endswith(b": no space left on device"), text

    f.clear()  # space is back: the next write succeeds and clears /ping without a restart
    assert f.tcp(pub("t", b"after")) == (0, b"OK")
    assert f.ping() == (200, b"OK")
    acked.append(b"after")
    assert f.drain("t", "c", len(acked)) == set(acked)


def test_read_fault_holds_delivery_until_it_clears(faulty):
    f = faulty()
    f.create_channel("t", "c")
    acked = [b"m-%d" % i for i in range(50)]
    for b in acked:
        assert f.tcp(pub("t", b)) == (0, b"OK")
    f.inject("pread EIO .diskqueue.0")
    with nsqproto.Conn(f.n.host, f.n.tcp_port) as c:
        c.sub("t", "c", rdy=100)
        c.expect_nothing(1.0)  # nothing can be read, nothing is skipped either
    status, text = f.wait_ping(healthy=False)
    assert status == 500 and b"read " in text and b"input/output error" in text, text
    assert f.depth("t", "c") == len(acked)
    assert not [p for p in os.listdir(f.n.data_path) if p.endswith(".bad")]
    f.clear()
    assert f.drain("t", "c", len(acked)) == set(acked)
    assert f.wait_ping(healthy=True) == (200, b"OK")


@pytest.mark.parametrize("fault", ["fsync EIO .diskqueue.0", "rename EIO .diskqueue.meta.dat"])
def test_sync_fault_is_reported_and_clears(faulty, fault):
    # As the reference, a failed fsync or metadata write does not fail the publish (it already
    # happened); /ping reports it and the queue retries the sync.
    f = faulty("--sync-every=1")
    f.create_channel("t", "c")
    f.inject(fault)
    acked = [b"s-%d" % i for i in range(5)]
    for b in acked:
        assert f.tcp(pub("t", b)) == (0, b"OK")
    status, text = f.wait_ping(healthy=False)
    assert status == 500 and b"input/output error" in text, text
    f.clear()
    assert f.tcp(pub("t", b"after")) == (0, b"OK")
    assert f.wait_ping(healthy=True) == (200, b"OK")
    acked.append(b"after")
    assert f.drain("t", "c", len(acked)) == set(acked)
    # and the sync that failed happened since: a graceful restart keeps everything
    f.stop()
