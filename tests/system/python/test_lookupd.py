"""nsqlookupd and nsqd discovery: a cluster of nsqd registered with one nsqlookupd, pynsq
Readers discovering them through /lookup, topology changes, interop with the reference in both
directions, bad input on the V1 port, and our HTTP answers compared with the reference's.

NSQLOOKUPD_BIN / NSQLOOKUPD_REF_BIN / NSQD_BIN / NSQD_REF_BIN select the binaries.
"""

import asyncio
import json
import socket
import struct
import time
import urllib.parse

import pytest

import nsq
import nsqproto
from conftest import NSQD_BIN, NSQD_REF_BIN, NSQLOOKUPD_BIN, NSQLOOKUPD_REF_BIN

DEADLINE = 20.0


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)  # poll interval, not synchronisation


def lookup(lk, topic):
    status, _, body = lk.get("/lookup?topic=" + urllib.parse.quote(topic))
    return status, json.loads(body)


def producers(lk, topic):
    status, doc = lookup(lk, topic)
    return doc["producers"] if status == 200 else []


def producer_ports(lk, topic):
    return sorted(p["tcp_port"] for p in producers(lk, topic))


def make_topic(nsqd, topic, *channels):
    """Creates the topic (and channels, by SUB) over TCP: no nsqd HTTP needed."""
    with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
        c.publish(topic, b"seed") if not channels else None
    for ch in channels:
        with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
            c.sub(topic, ch)


def publish_n(nsqd, topic, prefix, n):
    with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
        for i in range(n):
            c.publish(topic, ("%s-%d" % (prefix, i)).encode())


# ---- the user's cluster: one lookupd, three nsqd, pynsq readers via lookupd ---------------

def test_cluster_readers_discover_all_nsqd_split_and_fanout(nsqlookupd_factory, nsqd_factory):
    lk = nsqlookupd_factory()
    nodes = [nsqd_factory("--lookupd-tcp-address=" + lk.tcp_address) for _ in range(3)]
    topic, n_each = "orders", 30
    for i, nd in enumerate(nodes):
        make_topic(nd, topic, "split", "fan")
        publish_n(nd, topic, "n%d" % i, n_each)
    want_ports = sorted(nd.tcp_port for nd in nodes)
    wait_until(lambda: producer_ports(lk, topic) == want_ports, 10, "3 producers in /lookup")
    want = sorted(("n%d-%d" % (i, j)).encode() for i in range(3) for j in range(n_each))

    got = {"split0": [], "split1": [], "fan": []}
    readers = []

    def handler(name):
        def h(m):
            got[name].append(m.body)
            return True
        return h

    async def body():
        for name, ch in (("split0", "split"), ("split1", "split"), ("fan", "fan")):
            readers.append(nsq.Reader(message_handler=handler(name), topic=topic, channel=ch,
                                      lookupd_http_addresses=["http://" + lk.http_address],
                                      lookupd_poll_interval=1, max_in_flight=9))
        deadline = time.monotonic() + DEADLINE
        while (len(got["split0"]) + len(got["split1"]) < len(want) or len(got["fan"]) < len(want)):
            assert time.monotonic() < deadline, "timed out: %s" % {k: len(v) for k, v in got.items()}
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything extra (a duplicate) would arrive now
        # every reader found all three nsqd through lookupd
        for r in readers:
            assert len(r.conns) == 3, list(r.conns)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(body(), DEADLINE + 5))
    finally:
        for r in readers:
            r.close()
        loop.run_until_complete(asyncio.sleep(0.05))
        for t in asyncio.all_tasks(loop):
            t.cancel()
        loop.close()
        asyncio.set_event_loop(None)
    assert sorted(got["fan"]) == want, "fan-out channel must see every message exactly once"
    assert sorted(got["split0"] + got["split1"]) == want, "split channel: each message once"
    assert got["split0"] and got["split1"], "both readers of the split channel got work"


# ---- registration content and topology changes, in every nsqd x lookupd combination ------

COMBOS = [
    pytest.param(NSQD_BIN, NSQLOOKUPD_BIN, id="ours-ours"),
    pytest.param(NSQD_BIN, NSQLOOKUPD_REF_BIN, id="our_nsqd-ref_lookupd"),
    pytest.param(NSQD_REF_BIN, NSQLOOKUPD_BIN, id="ref_nsqd-our_lookupd"),
]


@pytest.mark.parametrize("nsqd_bin,lookupd_bin", COMBOS)
def test_registration_and_topology(nsqlookupd_factory, nsqd_factory, nsqd_bin, lookupd_bin):
    lk = nsqlookupd_factory(binary=lookupd_bin)
    nd = nsqd_factory("--lookupd-tcp-address=" + lk.tcp_address, "--broadcast-address=127.0.0.1",
                      binary=nsqd_bin)
    make_topic(nd, "t1", "c1", "c2")
    make_topic(nd, "t2")
    wait_until(lambda: producer_ports(lk, "t1") == [nd.tcp_port], 10, "t1 registered")
    wait_until(lambda: producer_ports(lk, "t2") == [nd.tcp_port], 10, "t2 registered")

    status, doc = lookup(lk, "t1")
    assert status == 200
    assert sorted(doc["channels"]) == ["c1", "c2"]
    (p,) = doc["producers"]
    assert list(p) == ["remote_address", "hostname", "broadcast_address", "tcp_port",
                       "http_port", "version"]
    assert p["broadcast_address"] == "127.0.0.1"
    assert p["tcp_port"] == nd.tcp_port and p["http_port"] == nd.http_port
    assert p["version"] == "1.3.0" and p["hostname"] == socket.gethostname()
    assert p["remote_address"].startswith("127.0.0.1:")

    status, _, body = lk.get("/topics")
    assert sorted(json.loads(body)["topics"]) == ["t1", "t2"]
    status, _, body = lk.get("/nodes")
    (node,) = json.loads(body)["producers"]
    assert sorted(node["topics"]) == ["t1", "t2"] and node["tombstones"] == [False, False]

    # an ephemeral topic disappears from lookupd with its last (ephemeral) channel
    with nsqproto.Conn(nd.host, nd.tcp_port) as c:
        c.sub("t3#ephemeral", "c#ephemeral")
        wait_until(lambda: producer_ports(lk, "t3#ephemeral") == [nd.tcp_port], 10,
                   "ephemeral topic registered")
    wait_until(lambda: lookup(lk, "t3#ephemeral")[0] == 404, 10, "ephemeral topic gone")

    # tombstone: hidden from /lookup, still in /nodes with its flag
    st, _, _ = lk.post("/topic/tombstone?topic=t1&node=127.0.0.1:%d" % nd.http_port)
    assert st == 200
    assert producers(lk, "t1") == []
    assert producer_ports(lk, "t2") == [nd.tcp_port]
    node = json.loads(lk.get("/nodes")[2])["producers"][0]
    assert dict(zip(node["topics"], node["tombstones"])) == {"t1": True, "t2": False}

    # deleting the topic in lookupd removes it and its channels
    assert lk.post("/topic/delete?topic=t2")[0] == 200
    assert lookup(lk, "t2")[0] == 404

    # nsqd stopped -> its connection closes -> gone everywhere
    assert nd.stop() is None
    nd.proc = None
    wait_until(lambda: json.loads(lk.get("/nodes")[2])["producers"] == [], 10, "node gone")
    status, doc = lookup(lk, "t1")
    assert status == 200 and doc["producers"] == [] and sorted(doc["channels"]) == ["c1", "c2"]


# ---- failure handling --------------------------------------------------------------------

def test_nsqd_starts_while_lookupd_down_then_registers(nsqlookupd_factory, nsqd_factory):
    lk = nsqlookupd_factory()
    lk.stop()  # keep its ports, but nobody listens
    nd = nsqd_factory("--lookupd-tcp-address=" + lk.tcp_address)
    make_topic(nd, "early", "ch")
    with nsqproto.Conn(nd.host, nd.tcp_port) as c:  # nsqd keeps serving meanwhile
        c.publish("early", b"x")
    time.sleep(1.5)
    lk.start(keep_ports=True)
    wait_until(lambda: producer_ports(lk, "early") == [nd.tcp_port], 20,
               "registration after lookupd came up")
    assert lookup(lk, "early")[1]["channels"] == ["ch"]


def test_lookupd_restart_nsqd_reregisters_everything(nsqlookupd_factory, nsqd_factory):
    lk = nsqlookupd_factory()
    nd = nsqd_factory("--lookupd-tcp-address=" + lk.tcp_address)
    make_topic(nd, "keep", "a", "b")
    make_topic(nd, "alone")
    wait_until(lambda: producer_ports(lk, "keep") == [nd.tcp_port], 10, "registered")
    lk.kill()
    lk.start(keep_ports=True)
    wait_until(lambda: producer_ports(lk, "keep") == [nd.tcp_port] and
               producer_ports(lk, "alone") == [nd.tcp_port], 20, "re-registration")
    assert sorted(lookup(lk, "keep")[1]["channels"]) == ["a", "b"]


@pytest.mark.parametrize("lookupd_bin", [NSQLOOKUPD_BIN, NSQLOOKUPD_REF_BIN], ids=["ours", "ref"])
def test_silent_node_expires_after_inactive_producer_timeout(nsqlookupd_factory, lookupd_bin):
    lk = nsqlookupd_factory("--inactive-producer-timeout=1s", binary=lookupd_bin)
    c = V1(lk)
    c.identify()
    assert c.cmd(b"REGISTER ghost ch\n") == b"OK"
    assert len(producers(lk, "ghost")) == 1
    time.sleep(1.3)  # no PING: the node is inactive although its connection is open
    assert producers(lk, "ghost") == []
    assert json.loads(lk.get("/nodes")[2])["producers"] == []
    assert lookup(lk, "ghost")[1]["channels"] == ["ch"]
    assert c.cmd(b"PING\n") == b"OK"  # a ping revives it
    assert len(producers(lk, "ghost")) == 1
    c.close()


# ---- bad input on the V1 port, compared with the reference ---------------------------------

class V1:
    def __init__(self, lk, magic=b"  V1"):
        self.s = socket.create_connection((lk.host, lk.tcp_port), timeout=3)
        if magic:
            self.s.sendall(magic)

    def read(self):
        head = self._exact(4)
        if head is None:
            return None
        (n,) = struct.unpack(">i", head)
        return self._exact(n)

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def cmd(self, data):
        self.s.sendall(data)
        return self.read()

    def identify(self, **fields):
        body = {"broadcast_address": "h", "tcp_port": 1, "http_port": 2, "version": "1.3.0"}
        body.update(fields)
        raw = json.dumps(body).encode()
        return self.cmd(b"IDENTIFY\n" + struct.pack(">i", len(raw)) + raw)

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except OSError:
            return True

    def close(self):
        self.s.close()


BAD_INPUT = [
    ("bad_magic", None, []),
    ("register_before_identify", b"  V1", [b"REGISTER t\n"]),
    ("unregister_before_identify", b"  V1", [b"UNREGISTER t c\n"]),
    ("invalid_command", b"  V1", [b"HELLO there\n"]),
    ("ping_before_identify_ok", b"  V1", [b"PING\n", b"  PING \r\n"]),
    ("identify_missing_fields", b"  V1", [b"IDENTIFY\n" + struct.pack(">i", 2) + b"{}"]),
    ("identify_bad_json", b"  V1", [b"IDENTIFY\n" + struct.pack(">i", 3) + b"{x}"]),
    ("identify_twice", b"  V1", ["ID", "ID"]),
    ("bad_topic", b"  V1", ["ID", b"REGISTER bad*topic\n"]),
    ("bad_channel", b"  V1", ["ID", b"REGISTER t bad*chan\n"]),
    ("too_long_topic", b"  V1", ["ID", b"REGISTER " + b"x" * 65 + b"\n"]),
    ("no_params", b"  V1", ["ID", b"REGISTER\n"]),
    ("empty_topic", b"  V1", ["ID", b"REGISTER  c\n"]),
    ("identify_truncated_body", b"  V1",
     [("SEND", b"IDENTIFY\n" + struct.pack(">i", 10) + b"{}"), "SHUT"]),
    ("identify_truncated_size", b"  V1", [("SEND", b"IDENTIFY\n\0\0"), "SHUT"]),
    ("partial_line_at_eof", b"  V1", [("SEND", b"PIN"), "SHUT"]),
    ("pipelined", b"  V1", [b"PING\nPING\n", "READ"]),
]


def run_bad_input(lk, magic, steps):
    s = socket.create_connection((lk.host, lk.tcp_port), timeout=3)
    c = V1.__new__(V1)
    c.s = s
    s.sendall(magic if magic else b"  V2")
    out = []
    for step in steps if magic else []:
        if step == "ID":
            r = c.identify()
            out.append(b"<json>" if r and r.startswith(b"{") else r)
        elif step == "SHUT":
            c.s.shutdown(socket.SHUT_WR)
            out.append(c.read())
        elif step == "READ":
            out.append(c.read())
        elif isinstance(step, tuple):  # ("SEND", bytes): incomplete, the answer comes later
            c.s.sendall(step[1])
            continue
        else:
            out.append(c.cmd(step))
        if out[-1] is None:
            break
    if magic is None:
        out = [c.read()]
    out.append("closed" if c.closed() else "open")
    c.close()
    return out


@pytest.mark.parametrize("name,magic,steps", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_v1_bad_input_same_as_reference(nsqlookupd_factory, name, magic, steps):
    ours = nsqlookupd_factory()
    ref = nsqlookupd_factory(binary=NSQLOOKUPD_REF_BIN)
    got, want = run_bad_input(ours, magic, steps), run_bad_input(ref, magic, steps)
    assert got == want
    # and a healthy connection still works afterwards
    c = V1(ours)
    assert c.identify().startswith(b"{")
    c.close()


# ---- HTTP answers compared with the reference --------------------------------------------

def normalise(body, lk):
    """JSON with the run-specific values (ports, remote addresses, times) replaced."""
    try:
        doc = json.loads(body)
    except ValueError:
        return body

    def fix(v, key=None):
        if isinstance(v, dict):
            return {k: fix(x, k) for k, x in v.items()}
        if isinstance(v, list):
            items = [fix(x) for x in v]
            return sorted(items, key=json.dumps) if key in ("topics", "channels", None) \
                and all(isinstance(i, str) for i in items) else items
        if key in ("remote_address", "id"):
            return "<addr>"
        if key in ("last_update", "tombstoned_at") and v != -6795364578871345152:
            return "<time>"
        if key in ("tcp_port", "http_port") and v in (lk.tcp_port, lk.http_port):
            return "<lookupd port>"
        return v
    return fix(doc)


HTTP_STEPS = [
    ("GET", "/ping"), ("GET", "/info"), ("GET", "/topics"), ("GET", "/nodes"), ("GET", "/debug"),
    ("GET", "/lookup"), ("GET", "/lookup?topic=t"), ("GET", "/channels"),
    ("GET", "/channels?topic=t"), ("POST", "/topic/create"), ("POST", "/topic/create?topic=b*d"),
    ("POST", "/topic/create?topic=t"), ("GET", "/lookup?topic=t"), ("GET", "/topics"),
    ("POST", "/channel/create?topic=t"), ("POST", "/channel/create?topic=t&channel=b*d"),
    ("POST", "/channel/create?topic=t&channel=c"), ("GET", "/channels?topic=t"),
    ("REGISTER", None), ("GET", "/lookup?topic=reg"), ("GET", "/nodes"), ("GET", "/debug"),
    ("POST", "/topic/tombstone?topic=reg"), ("POST", "/topic/tombstone?topic=reg&node=h:2"),
    ("GET", "/lookup?topic=reg"), ("GET", "/nodes"), ("POST", "/channel/delete?topic=t&channel=x"),
    ("POST", "/channel/delete?topic=t&channel=c"), ("GET", "/lookup?topic=t"),
    ("POST", "/topic/delete?topic=t"), ("POST", "/topic/delete?topic=never"),
    ("GET", "/lookup?topic=t"), ("GET", "/lookup?topic=%zz"), ("PUT", "/topics"),
    ("GET", "/nope"), ("POST", "/ping"), ("GET", "/topics/"),
]


def run_http_steps(lk):
    from conftest import http_request
    out, conn = [], None
    for method, path in HTTP_STEPS:
        if method == "REGISTER":
            conn = V1(lk)
            conn.identify()
            assert conn.cmd(b"REGISTER reg rc\n") == b"OK"
            continue
        status, headers, body = http_request(method, "http://%s%s" % (lk.http_address, path))
        out.append((method, path, status, headers.get("Content-Type"),
                    headers.get("X-Nsq-Content-Type"), normalise(body, lk)))
    if conn:
        conn.close()
    return out


def test_http_api_same_as_reference(nsqlookupd_factory):
    got = run_http_steps(nsqlookupd_factory())
    want = run_http_steps(nsqlookupd_factory(binary=NSQLOOKUPD_REF_BIN))
    for g, w in zip(got, want):
        assert g == w
    assert len(got) == len(want)


# ---- what nsqd sends to lookupd, compared with the reference nsqd --------------------------

class FakeLookupd:
    """Accepts one nsqd connection and records its V1 commands, answering like nsqlookupd."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.srv.settimeout(10)
        self.address = "127.0.0.1:%d" % self.srv.getsockname()[1]
        self.conn = None
        self.buf = b""

    def accept(self):
        self.conn, _ = self.srv.accept()
        self.conn.settimeout(10)
        assert self._exact(4) == b"  V1"

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.conn.recv(4096)
            assert chunk, "nsqd closed the lookupd connection"
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _reply(self, data):
        self.conn.sendall(struct.pack(">i", len(data)) + data)

    def next_command(self):
        while b"\n" not in self.buf:
            chunk = self.conn.recv(4096)
            assert chunk, "nsqd closed the lookupd connection"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if line == b"IDENTIFY":
            (n,) = struct.unpack(">i", self._exact(4))
            body = self._exact(n)
            self._reply(b'{"broadcast_address":"127.0.0.1","hostname":"x","http_port":1,'
                        b'"tcp_port":2,"version":"1.3.0"}')
            return line, body
        self._reply(b"OK")
        return line, None

    def close(self):
        if self.conn:
            self.conn.close()
        self.srv.close()


def nsqd_conversation(nsqd_factory, binary):
    fake = FakeLookupd()
    try:
        nd = nsqd_factory("--lookupd-tcp-address=" + fake.address, binary=binary)
        fake.accept()
        line, body = fake.next_command()
        assert line == b"IDENTIFY"
        raw_identify = body
        with nsqproto.Conn(nd.host, nd.tcp_port) as c:
            c.sub("t", "c")
        with nsqproto.Conn(nd.host, nd.tcp_port) as c:
            c.sub("e", "c#ephemeral")
        # closing the ephemeral channel's last consumer deletes it; collect until quiet
        # (the reference sends its notifications from goroutines: order and duplicates vary)
        lines = []
        fake.conn.settimeout(1.5)
        try:
            while True:
                lines.append(fake.next_command()[0])
        except socket.timeout:
            pass
        return nd, raw_identify, lines
    finally:
        fake.close()


def test_nsqd_identify_and_registrations_same_as_reference(nsqd_factory):
    results = {}
    for name, binary in (("ours", NSQD_BIN), ("ref", NSQD_REF_BIN)):
        nd, raw, lines = nsqd_conversation(nsqd_factory, binary)
        doc = json.loads(raw)
        assert doc.pop("tcp_port") == nd.tcp_port
        assert doc.pop("http_port") == nd.http_port
        # The reference builds each command when its goroutine-sent notification is handled,
        # so a channel already gone by then is only UNREGISTERed; compare what stays registered.
        registered = {l.split(b" ", 1)[1] for l in lines if l.startswith(b"REGISTER ")}
        registered -= {l.split(b" ", 1)[1] for l in lines if l.startswith(b"UNREGISTER ")}
        results[name] = (list(json.loads(raw)), doc, sorted(registered))
        if name == "ours":
            our_lines = lines
    assert results["ours"] == results["ref"]
    keys, doc, registered = results["ours"]
    assert registered == [b"e", b"t", b"t c"]
    # a topic created while the connect-time snapshot is taken may be REGISTERed twice
    # (harmless: REGISTER is idempotent in lookupd)
    lines = sorted(set(our_lines))
    assert keys == ["broadcast_address", "hostname", "http_port", "tcp_port", "version"]
    assert doc == {"broadcast_address": socket.gethostname(), "hostname": socket.gethostname(),
                   "version": "1.3.0"}
    assert lines == sorted([b"REGISTER t", b"REGISTER t c", b"REGISTER e",
                            b"REGISTER e c#ephemeral", b"UNREGISTER e c#ephemeral"])


@pytest.mark.parametrize("nsqd_bin", [NSQD_BIN, NSQD_REF_BIN], ids=["ours", "ref"])
def test_new_topic_precreates_channels_known_to_lookupd(nsqlookupd_factory, nsqd_factory,
                                                         nsqd_bin):
    lk = nsqlookupd_factory()
    for ch in ("pre", "other", "tmp#ephemeral"):
        assert lk.post("/channel/create?topic=fresh&channel=" + urllib.parse.quote(ch))[0] == 200
    nd = nsqd_factory("--lookupd-tcp-address=" + lk.tcp_address, binary=nsqd_bin)
    wait_until(lambda: json.loads(lk.get("/nodes")[2])["producers"], 10, "nsqd identified")
    time.sleep(0.2)  # the IDENTIFY reply (lookupd's HTTP address) is processed after /nodes shows it
    publish_n(nd, "fresh", "m", 3)  # creates the topic: both channels must exist already
    # (a topic without channels would hand its held messages to the first channel only)
    for ch in ("other", "pre"):
        with nsqproto.Conn(nd.host, nd.tcp_port) as c:
            c.sub("fresh", ch, rdy=10)
            got = sorted(c.expect_message(timeout=3).body for _ in range(3))
        assert got == [b"m-0", b"m-1", b"m-2"], ch
    # the ephemeral channel was not pre-created: nsqd registered only "pre"
    wait_until(lambda: producer_ports(lk, "fresh") == [nd.tcp_port], 10, "topic registered")
    dbg = json.loads(lk.get("/debug")[2])
    assert "channel:fresh:pre" in dbg and "channel:fresh:tmp#ephemeral" not in dbg


def test_nsqd_pings_lookupd_every_15s(nsqlookupd_factory, nsqd_factory):
    """Slow (~16 s): last_update in /debug is refreshed by nsqd's PING, as the reference's."""
    lk = nsqlookupd_factory()
    nd = nsqd_factory("--lookupd-tcp-address=" + lk.tcp_address)

    def last_update():
        entries = json.loads(lk.get("/debug")[2]).get("client::", [])
        return entries[0]["last_update"] if entries else None

    first = wait_until(last_update, 10, "nsqd identified")
    t0 = time.monotonic()
    second = wait_until(lambda: (last_update() or first) != first and last_update(), 18,
                        "a PING refreshing last_update")
    waited = time.monotonic() - t0
    assert 13.5 < (second - first) / 1e9 < 16.5, (second - first) / 1e9
    assert waited < 16.5
    assert nd.alive()
