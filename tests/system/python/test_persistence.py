"""Persistence: disk overflow, graceful restart, kill -9, nsqd.dat, and data directories moving
between the reference nsqd and ours in both directions (the reference's LoadMetadata/PersistMetadata and go-diskqueue).

Each test runs against NSQD_BIN (ours by default; the reference with
NSQD_BIN=.deps/reference-bin/nsqd) and the cross-implementation tests also start NSQD_REF_BIN
(default .deps/reference-bin/nsqd).
"""

import json
import os
import time

import pytest

import nsqproto
from conftest import Nsqd, NSQD_BIN, NSQD_REF_BIN
from nsqproto import FRAME_MESSAGE, cmd, mpub


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def daemons():
    """start(data_dir, *args, binary=None) -> Nsqd on a shared data dir; stopped at teardown."""
    started = []

    def start(data_dir, *args, binary=None):
        n = Nsqd(data_dir, args, binary=binary)
        started.append(n)
        return n.start()

    yield start
    for n in started:
        if n.proc is not None and n.proc.poll() is None:
            n.stop()


def publish_all(n, topic, bodies, batch=200):
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        for i in range(0, len(bodies), batch):
            c.send(mpub(topic, bodies[i:i + batch]))
            c.expect_response(b"OK")


def create_channel(n, topic, channel):
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.sub(topic, channel)


def wait_listed_in_nsqd_dat(data_dir, topic, channel, timeout=10.0):
    """nsqd.dat is rewritten off the request's thread (in both implementations), with an
    fsync that a busy disk can hold up for seconds: a test that crashes nsqd and expects the
    channel back waits for the file to name it first."""
    path = os.path.join(str(data_dir), "nsqd.dat")
    deadline = time.monotonic() + timeout
    while True:
        try:
            md = json.load(open(path))
            if any(t["name"] == topic and channel in [c["name"] for c in t["channels"] or []]
                   for t in md["topics"] or []):
                return
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, "nsqd.dat never listed %s/%s" % (topic, channel)
        time.sleep(0.05)


def consume(n, topic, channel, expected, timeout=30.0, rdy=500, fin=True):
    """Reads until `expected` distinct bodies arrived (and FINs them); returns (bodies, total)."""
    seen = set()
    total = 0
    deadline = time.monotonic() + timeout
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.sub(topic, channel, rdy=rdy)
        while len(seen) < expected and time.monotonic() < deadline:
            try:
                ftype, data = c.read_frame(timeout=max(0.1, deadline - time.monotonic()),
                                           skip_heartbeats=True)
            except nsqproto.Timeout:
                break
            if ftype != FRAME_MESSAGE:
                continue
            m = nsqproto.parse_message(data)
            total += 1
            seen.add(m.body)
            if fin:
                c.send(cmd("FIN", m.id))
        # nothing more should come (no extra, unknown messages)
        extra = c.read_frames_available(max_wait=0.3)
        for ftype, data in extra:
            if ftype == FRAME_MESSAGE:
                m = nsqproto.parse_message(data)
                total += 1
                seen.add(m.body)
    return seen, total


def is_reference():
    return os.path.realpath(NSQD_BIN) == os.path.realpath(NSQD_REF_BIN)


def bodies(prefix, n):
    return [("%s-%06d" % (prefix, i)).encode() for i in range(n)]


@pytest.mark.parametrize("mem", ["10000", "100", "0"])
def test_graceful_restart_keeps_memory_in_flight_and_disk_messages(daemons, data_dir, mem):
    n = daemons(data_dir, "--mem-queue-size=" + mem)
    create_channel(n, "orders", "archive")
    msgs = bodies("o", 3000)
    publish_all(n, "orders", msgs)
    publish_all(n, "nochan", bodies("n", 500))  # a topic without channels: its own queue
    # leave 20 in flight (never FINed) when the server stops
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.sub("orders", "archive", rdy=20)
        for _ in range(20):
            c.expect_message()
        assert n.stop() is None
    n2 = daemons(data_dir, "--mem-queue-size=" + mem)
    seen, total = consume(n2, "orders", "archive", len(msgs))
    assert seen == set(msgs)
    assert total == len(msgs)  # the 20 in flight come back once, nothing twice
    seen, total = consume(n2, "nochan", "c", 500)
    assert seen == set(bodies("n", 500)) and total == 500


def test_mem_queue_size_zero_round_trip_goes_through_disk(daemons, data_dir):
    n = daemons(data_dir, "--mem-queue-size=0")
    create_channel(n, "t", "c")
    msgs = bodies("z", 2000)
    publish_all(n, "t", msgs)
    files = os.listdir(str(data_dir))
    assert any(f.startswith("t:c.diskqueue.") and f.endswith(".dat") for f in files), files
    seen, total = consume(n, "t", "c", len(msgs))
    assert seen == set(msgs) and total == len(msgs)


def test_stalled_consumer_on_one_channel_does_not_stop_publishing(daemons, data_dir):
    n = daemons(data_dir, "--mem-queue-size=100")
    create_channel(n, "t", "stalled")
    create_channel(n, "t", "live")
    msgs = bodies("s", 2000)
    publish_all(n, "t", msgs)  # 20x the memory bound: the stalled channel spills to disk
    seen, total = consume(n, "t", "live", len(msgs))
    assert seen == set(msgs)
    seen, _ = consume(n, "t", "stalled", len(msgs))
    assert seen == set(msgs)


def test_kill9_loses_nothing_written_to_the_disk_queue(daemons, data_dir):
    # With --mem-queue-size=0 every acknowledged message is in the queue file before OK; a
    # crash loses none of them (at most it replays what was read since the last sync).
    if is_reference():
        pytest.skip("beyond the reference: without a synced meta file it restarts at 0,0 and "
                    "overwrites the unsynced records")
    n = daemons(data_dir, "--mem-queue-size=0", "--sync-every=100000", "--sync-timeout=1h")
    create_channel(n, "t", "c")
    msgs = bodies("k", 3000)
    publish_all(n, "t", msgs)
    n.kill9()
    n2 = daemons(data_dir, "--mem-queue-size=0")
    seen, total = consume(n2, "t", "c", len(msgs))
    assert seen == set(msgs)


def test_restart_removes_temp_files_a_crash_left(daemons, data_dir):
    # A crash between writing a metadata temp file and renaming it leaves "<file>.<n>.tmp"
    # behind (the reference never removes them); a restart deletes the old ones of its files.
    if is_reference():
        pytest.skip("beyond the reference: it leaves them")
    n = daemons(data_dir, "--mem-queue-size=0")
    publish_all(n, "t", [b"x"])
    create_channel(n, "t", "c")
    n.stop()
    hour_ago = time.time() - 3600
    leftovers = ["nsqd.dat.8674665223082153551.tmp", "t.diskqueue.meta.dat.5577006791947779410.tmp",
                 "t:c.diskqueue.meta.dat.6129484611666145821.tmp"]
    for name in leftovers + ["unrelated.tmp"]:
        (data_dir / name).write_bytes(b"{}")
        os.utime(data_dir / name, (hour_ago, hour_ago))
    n2 = daemons(data_dir, "--mem-queue-size=0")
    assert consume(n2, "t", "c", 1)[0] == {b"x"}
    assert sorted(p.name for p in data_dir.iterdir() if p.name.endswith(".tmp")) == \
        ["unrelated.tmp"]


def channel_depths(n, topic, channel):
    """(topic depth, channel depth) from /stats JSON and the channel's from /metrics."""
    import urllib.request
    base = "http://%s:%d" % (n.host, n.http_port)
    with urllib.request.urlopen(base + "/stats?format=json", timeout=5) as r:
        stats = json.loads(r.read())
    tdepth = cdepth = None
    for t in stats["topics"]:
        if t["topic_name"] == topic:
            tdepth = t["depth"]
            for c in t["channels"]:
                if c["channel_name"] == channel:
                    cdepth = c["depth"]
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        metrics = r.read().decode()
    mdepth = None
    for line in metrics.splitlines():
        if line.startswith("nsq_channel_depth{") and 'channel="%s"' % channel in line \
                and 'topic="%s"' % topic in line:
            mdepth = int(float(line.rsplit(" ", 1)[1]))
    return tdepth, cdepth, mdepth


def test_kill9_recovered_channel_shows_its_depth(daemons, data_dir):
    # The meta file was last synced when the channel was empty: after kill -9 the depth must
    # come from the salvaged records, not the stale meta file (it showed 0 while delivering).
    if is_reference():
        pytest.skip("beyond the reference: it overwrites the unsynced records")
    n = daemons(data_dir, "--mem-queue-size=0", "--sync-every=100000", "--sync-timeout=1h")
    create_channel(n, "t", "c")
    wait_listed_in_nsqd_dat(data_dir, "t", "c")
    msgs = bodies("d", 2000)
    publish_all(n, "t", msgs)
    deadline = time.monotonic() + 10
    while channel_depths(n, "t", "c")[1] != len(msgs) and time.monotonic() < deadline:
        time.sleep(0.05)  # the topic hands messages to the channel's queue (poll)
    assert channel_depths(n, "t", "c") == (0, len(msgs), len(msgs))
    n.kill9()
    n2 = daemons(data_dir, "--mem-queue-size=0")
    assert channel_depths(n2, "t", "c") == (0, len(msgs), len(msgs))
    seen, total = consume(n2, "t", "c", len(msgs))
    assert seen == set(msgs) and total == len(msgs)
    deadline = time.monotonic() + 5
    while channel_depths(n2, "t", "c")[1] != 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # FINs are processed after the last delivery (poll)
    assert channel_depths(n2, "t", "c") == (0, 0, 0)


def test_metadata_restores_topics_channels_and_pause(daemons, data_dir):
    n = daemons(data_dir)
    create_channel(n, "t1", "c1")
    create_channel(n, "t1", "c2#ephemeral")
    publish_all(n, "t2", [b"x"])
    publish_all(n, "t3#ephemeral", [b"x"])
    assert n.stop() is None
    md = json.load(open(os.path.join(str(data_dir), "nsqd.dat")))
    topics = {t["name"]: t for t in md["topics"]}
    assert set(topics) == {"t1", "t2"}
    assert [c["name"] for c in topics["t1"]["channels"]] == ["c1"]
    assert topics["t2"]["channels"] is None
    assert md["version"] == "1.3.0"
    oct_mode = os.stat(os.path.join(str(data_dir), "nsqd.dat")).st_mode & 0o777
    assert oct_mode == 0o600


def test_channel_created_before_restart_gets_messages_published_after(daemons, data_dir):
    n = daemons(data_dir)
    create_channel(n, "t", "c")
    assert n.stop() is None
    n2 = daemons(data_dir)
    publish_all(n2, "t", [b"after"])
    # The channel exists again (from nsqd.dat), so the message went to it: a consumer on
    # another channel, created only now, gets nothing of it.
    seen, _ = consume(n2, "t", "c", 1, timeout=5)
    assert seen == {b"after"}


def test_deferred_message_keeps_its_delay_across_restart(daemons, data_dir):
    if is_reference():
        pytest.skip("beyond the reference: it delivers deferred messages at once after restart")
    n = daemons(data_dir)
    create_channel(n, "t", "c")
    with nsqproto.Conn(n.host, n.tcp_port) as c:
        c.send(nsqproto.dpub("t", 4000, b"later"))
        c.expect_response(b"OK")
    t0 = time.monotonic()
    assert n.stop() is None
    n2 = daemons(data_dir)
    with nsqproto.Conn(n2.host, n2.tcp_port) as c:
        c.sub("t", "c", rdy=1)
        c.expect_nothing(1.0)
        m = c.expect_message(timeout=10)
        waited = time.monotonic() - t0
    assert m.body == b"later"
    assert waited >= 3.5, waited


@pytest.mark.parametrize("direction", ["ref_to_ours", "ours_to_ref"])
def test_data_directory_moves_between_implementations(daemons, data_dir, direction):
    if not os.access(NSQD_REF_BIN, os.X_OK):
        pytest.skip("reference nsqd not available (NSQD_REF_BIN)")
    first, second = (NSQD_REF_BIN, NSQD_BIN) if direction == "ref_to_ours" else (NSQD_BIN,
                                                                                 NSQD_REF_BIN)
    # A small max-bytes-per-file makes both sides roll files; mem 50 puts most on disk.
    args = ("--mem-queue-size=50", "--max-bytes-per-file=20000")
    n = daemons(data_dir, *args, binary=first)
    create_channel(n, "t", "c")
    chan_msgs = bodies("c", 1500)
    topic_msgs = bodies("q", 700)
    publish_all(n, "t", chan_msgs)
    publish_all(n, "lonely", topic_msgs)  # no channel: stays in the topic queue
    # consume part of it so the reader position is mid-file
    seen_before, _ = consume(n, "t", "c", 300, rdy=1)
    assert len(seen_before) >= 300
    assert n.stop() is None
    n2 = daemons(data_dir, *args, binary=second)
    seen, _ = consume(n2, "t", "c", len(chan_msgs) - len(seen_before))
    assert seen | seen_before == set(chan_msgs)
    assert not (seen & seen_before) or direction  # at-least-once: overlap allowed, none lost
    seen, total = consume(n2, "lonely", "c", len(topic_msgs))
    assert seen == set(topic_msgs) and total == len(topic_msgs)


def ping(n):
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen("http://%s:%d/ping" % (n.host, n.http_port), timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs (needs root); yields (path, resize(size))."""
    import subprocess
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs: %s" % r.stderr.decode().strip())

    def resize(size):
        subprocess.run(["mount", "-o", "remount,size=" + size, str(mnt)], check=True)

    try:
        yield mnt, resize
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_disk_full_refuses_publish_and_recovers(daemons, small_tmpfs):
    mnt, resize = small_tmpfs
    n = daemons(mnt, "--mem-queue-size=0")
    create_channel(n, "t", "c")
    body = b"x" * 1000
    acked = []
    failed = None
    c = nsqproto.Conn(n.host, n.tcp_port)
    for i in range(3000):  # 3 MB into 1 MiB
        msg = b"%06d" % i + body
        c.send(nsqproto.pub("t", msg))
        ftype, data = c.read_frame(skip_heartbeats=True)
        if ftype == nsqproto.FRAME_ERROR:
            failed = data
            break
        acked.append(msg)
    c.close()
    assert failed is not None and failed.startswith(b"E_PUB_FAILED"), failed
    assert b"no space left on device" in failed, failed
    # /ping says unhealthy while the disk is full, healthy again after the next good write
    # Unhealthy with the disk-full reason. The file named is the last write that failed: the
    # publisher's data file, or the meta file of a sync the disk worker ran meanwhile.
    status, text = ping(n)
    assert status == 500 and text.startswith(b"NOK - write ") and \
        text.endswith(b": no space left on device"), (status, text)
    resize("16m")
    publish_all(n, "t", [b"after-full"])  # space is back: publishing works again
    assert ping(n) == (200, b"OK")
    seen, total = consume(n, "t", "c", len(acked) + 1)
    assert seen == set(acked) | {b"after-full"}  # nothing acknowledged was lost
    assert total == len(acked) + 1


def http_post(n, path):
    import urllib.request
    req = urllib.request.Request("http://%s:%d%s" % (n.host, n.http_port, path), data=b"",
                                 method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def test_pause_is_persisted_and_restored(daemons, data_dir):
    n = daemons(data_dir)
    create_channel(n, "t", "c")
    create_channel(n, "u", "d")
    assert http_post(n, "/channel/pause?topic=t&channel=c") == 200
    assert http_post(n, "/topic/pause?topic=u") == 200
    want = {"t": (False, {"c": True}), "u": (True, {"d": False})}

    def on_disk():
        md = json.load(open(os.path.join(str(data_dir), "nsqd.dat")))
        return {t["name"]: (t["paused"], {c["name"]: c["paused"] for c in t["channels"] or []})
                for t in md["topics"] or []}

    deadline = time.monotonic() + 5
    while on_disk() != want and time.monotonic() < deadline:
        time.sleep(0.05)  # nsqd.dat is rewritten right after the pause (poll)
    assert on_disk() == want  # before any shutdown: a crash now keeps the pause
    n.kill9()
    n2 = daemons(data_dir)
    import urllib.request
    with urllib.request.urlopen("http://%s:%d/stats?format=json" % (n2.host, n2.http_port)) as r:
        stats = json.loads(r.read())
    got = {t["topic_name"]: (t["paused"], {c["channel_name"]: c["paused"] for c in t["channels"]})
           for t in stats["topics"]}
    assert got == want
    # a paused channel keeps its messages
    publish_all(n2, "t", [b"p"])
    seen, _ = consume(n2, "t", "c", 1, timeout=1)
    assert seen == set()
