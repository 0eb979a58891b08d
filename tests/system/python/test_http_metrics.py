"""statsd push and Prometheus /metrics.

statsd: a UDP listener receives what ours and the reference send for the same traffic; the
metric names and types must be the same set and the counters must agree.
/metrics (ours only, not in the reference): parsed with prometheus_client's text parser."""

import socket
import time

from prometheus_client.parser import text_string_to_metric_families

import nsqhttp
import nsqproto
from nsqhttp import request


class UdpSink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.datagrams = []

    def collect_until(self, done, deadline):
        end = time.monotonic() + deadline
        while time.monotonic() < end and not done(self):
            try:
                self.datagrams.append(self.sock.recv(65536))
            except socket.timeout:
                pass
        return self

    def lines(self):
        return [l for d in self.datagrams for l in d.decode().split("\n") if l]

    def close(self):
        self.sock.close()


def parse_statsd(lines):
    """{name: (value, type)} of the first push only (names repeat in later pushes)."""
    out = {}
    for line in lines:
        name, _, rest = line.partition(":")
        value, _, kind = rest.partition("|")
        out.setdefault(name, (int(value), kind))
    return out


def traffic(n):
    c = nsqproto.Conn(n.host, n.tcp_port)
    c.sub("st", "ch", rdy=1)
    assert request(n, "POST", "/mpub?topic=st", b"a\nbb\nccc\n").status == 200
    m = c.expect_message()
    c.send(nsqproto.cmd("REQ", m.id, 0))
    return c


def test_statsd_sends_the_reference_metrics(nsqd_factory, ref_nsqd_bin):
    sinks = [UdpSink(), UdpSink()]
    conns = []
    try:
        common = ("--statsd-interval=2s", "--statsd-prefix=nsq.test.")
        ours = nsqd_factory("--statsd-address=" + sinks[0].address, *common)
        ref = nsqd_factory("--statsd-address=" + sinks[1].address, *common,
                           binary=ref_nsqd_bin)
        for n in (ours, ref):
            nsqhttp.wait_http(n)
            conns.append(traffic(n))

        def pushed_mem(s):
            return any("mem.gc_runs" in l for l in s.lines())
        for s in sinks:
            s.collect_until(pushed_mem, 6.0)
        got, want = parse_statsd(sinks[0].lines()), parse_statsd(sinks[1].lines())
        assert got, "no statsd datagram from ours"
        assert {k: v[1] for k, v in got.items()} == {k: v[1] for k, v in want.items()}
        for name in ("nsq.test.topic.st.message_count", "nsq.test.topic.st.message_bytes",
                     "nsq.test.topic.st.channel.ch.message_count",
                     "nsq.test.topic.st.channel.ch.requeue_count",
                     "nsq.test.topic.st.channel.ch.clients",
                     "nsq.test.topic.st.channel.ch.in_flight_count",
                     "nsq.test.topic.st.depth"):
            assert got[name] == want[name], name
        assert got["nsq.test.topic.st.message_count"] == (3, "c")
        assert got["nsq.test.topic.st.message_bytes"] == (6, "c")
        for d in sinks[0].datagrams:
            assert len(d) <= 508
    finally:
        for c in conns:
            c.close()
        for s in sinks:
            s.close()


def test_statsd_counters_are_deltas_and_packets_respect_the_size(nsqd_factory):
    sink = UdpSink()
    try:
        n = nsqd_factory("--statsd-address=" + sink.address, "--statsd-interval=1s",
                         "--statsd-prefix=p.", "--statsd-udp-packet-size=100",
                         "--statsd-mem-stats=false")
        nsqhttp.wait_http(n)
        assert request(n, "POST", "/mpub?topic=d", b"1\n2\n").status == 200

        def pushes(k):
            return lambda s: sum(l.startswith("p.topic.d.message_count") for l in s.lines()) >= k
        sink.collect_until(pushes(1), 4.0)
        assert request(n, "POST", "/pub?topic=d", b"3").status == 200
        sink.collect_until(pushes(3), 5.0)
        counts = [int(l.split(":")[1].split("|")[0]) for l in sink.lines()
                  if l.startswith("p.topic.d.message_count")]
        assert counts[0] == 2 and sum(counts) == 3, counts
        assert not any(l.startswith("p.mem.") for l in sink.lines())
        assert all(len(d) <= 100 for d in sink.datagrams)
    finally:
        sink.close()


def metrics(n):
    r = request(n, "GET", "/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(r.body.decode()):
        assert family.type == "gauge", family.name
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_use_nsq_exporter_names(nsqd_factory):
    n = nsqd_factory("--e2e-processing-latency-percentile=0.99",
                     "--e2e-processing-latency-percentile=0.95")
    nsqhttp.wait_http(n)
    c = nsqproto.Conn(n.host, n.tcp_port)
    try:
        c.identify(client_id="w1", hostname="w.example")
        c.sub("mt", "ch", rdy=5)
        assert request(n, "POST", "/channel/create?topic=mt&channel=idle").status == 200
        assert request(n, "POST", "/mpub?topic=mt", b"a\nb\nc\n").status == 200
        m = c.expect_message()
        c.send(nsqproto.cmd("FIN", m.id))
        c.expect_message()
        c.expect_message()
        assert request(n, "POST", "/topic/create?topic=other").status == 200
        assert request(n, "POST", "/topic/pause?topic=other").status == 200
        deadline = time.monotonic() + 5
        while True:
            s = metrics(n)
            ch = (("channel", "ch"), ("paused", "false"), ("topic", "mt"))
            if s[("nsq_channel_in_flight_count", ch)] == 2:
                break
            assert time.monotonic() < deadline
            time.sleep(0.01)  # poll interval
        t = (("paused", "false"), ("topic", "mt"))
        assert s[("nsq_topic_message_count", t)] == 3
        assert s[("nsq_topic_channel_count", t)] == 2
        assert s[("nsq_topic_depth", t)] == 0
        assert s[("nsq_channel_message_count", ch)] == 3
        assert s[("nsq_channel_client_count", ch)] == 1
        assert s[("nsq_channel_depth", ch)] == 0
        assert s[("nsq_channel_e2e_latency_99p", ch)] > 0
        idle = (("channel", "idle"), ("paused", "false"), ("topic", "mt"))
        assert s[("nsq_channel_depth", idle)] == 3
        assert s[("nsq_topic_depth", (("paused", "true"), ("topic", "other")))] == 0
        client = [k for k in s if k[0] == "nsq_client_in_flight_count"]
        assert len(client) == 1
        labels = dict(client[0][1])
        assert (labels["client_id"], labels["hostname"], labels["version"]) == \
            ("w1", "w.example", "V2")
        assert labels["tls"] == "false" and labels["channel"] == "ch"
        assert s[client[0]] == 2
        assert s[("nsq_client_finish_count", client[0][1])] == 1
        assert s[("process_resident_memory_bytes", ())] > 0
    finally:
        c.close()
