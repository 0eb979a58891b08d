"""Idle connections cost little memory, and closed ones' memory is reused (issue 17).

1000 connections that IDENTIFY, SUB and RDY 1 and then sit idle, as a fleet of consumers on a
quiet topic does. The bound is on nsqd's RSS growth per connection (bench/idle_connections.py
measures 10,000 and 19,900 against the reference); a message still goes round meanwhile.
"""

import random
import time

import nsqproto

COUNT = 1000
# Per idle connection; measured ~3 KiB (docs/benchmarks.md), the reference ~27 KiB.
MAX_KIB_PER_CONN = 6.0


def open_idle(nsqd, count):
    conns = []
    for _ in range(count):
        c = nsqproto.Conn(nsqd.host, nsqd.tcp_port, timeout=10.0)
        c.send(nsqproto.identify({"client_id": "idle", "feature_negotiation": True}) +
               nsqproto.cmd("SUB", "idle", "c") + nsqproto.cmd("RDY", 1))
        conns.append(c)
    for c in conns:  # the server has taken IDENTIFY and SUB on every connection
        assert c.read_frame()[0] == nsqproto.FRAME_RESPONSE
        assert c.read_frame() == (nsqproto.FRAME_RESPONSE, b"OK")
    return conns


def test_idle_connections_cost_little_and_memory_is_reused(nsqd, connect):
    # Warm up: both event loops have run a connection and the topic path exists.
    for c in open_idle(nsqd, 20):
        c.close()
    consumer = connect()
    consumer.sub("rt", "c", rdy=1)
    publisher = connect()
    publisher.publish("rt", b"warm")
    consumer.send(nsqproto.cmd("FIN", consumer.expect_message().id))
    time.sleep(0.3)
    base = nsqd.rss_kb()

    conns = open_idle(nsqd, COUNT)
    time.sleep(0.3)
    grown = nsqd.rss_kb() - base
    per_conn = grown / COUNT
    assert per_conn <= MAX_KIB_PER_CONN, \
        "idle connection costs %.1f KiB of RSS (bound %.1f)" % (per_conn, MAX_KIB_PER_CONN)

    # Delivery still works with the idle crowd around.
    publisher.publish("rt", b"hello")
    msg = consumer.expect_message()
    assert msg.body == b"hello"
    consumer.send(nsqproto.cmd("FIN", msg.id))

    # What closed connections held is reused by the next ones, never lost: a second wave
    # of the same size costs (almost) nothing more. (Most of it also goes back to the kernel,
    # but not all: Asio keeps the small per-socket state of the peak in a pool, which pins
    # pages of the heap; docs/benchmarks.md.)
    for c in conns:
        c.close()
    conns = open_idle(nsqd, COUNT)
    time.sleep(0.3)
    regrown = nsqd.rss_kb() - base
    assert regrown <= grown * 1.25, \
        "a second wave grew RSS to %d KiB above the baseline (first wave: %d KiB)" % (
            regrown, grown)
    for c in conns:
        c.close()
    publisher.ping()


def test_clients_stopped_halfway_through_a_pub_cost_their_frame_only(nsqd, connect):
    """Issue 19: a client that sends half a PUB and stops holds its frame, not a 64 KiB chunk;
    the others are served meanwhile."""
    body = b"x" * 1000
    frame = nsqproto.pub("half", body)
    for c in open_idle(nsqd, 20):  # warm-up, as above
        c.close()
    publisher = connect()
    publisher.publish("half", b"warm")
    time.sleep(0.3)
    base = nsqd.rss_kb()
    stalled = []
    for _ in range(COUNT):
        c = nsqproto.Conn(nsqd.host, nsqd.tcp_port, timeout=10.0)
        c.send(frame[:len(frame) // 2])
        stalled.append(c)
    publisher.publish("half", b"still served")  # in order behind every accept
    time.sleep(0.3)
    per_conn = (nsqd.rss_kb() - base) / COUNT
    # The idle bound plus the 1 KiB frame (measured 3.9 KiB; 64+ KiB before issue 17).
    assert per_conn <= MAX_KIB_PER_CONN + 1.5, \
        "a half-sent PUB costs %.1f KiB of RSS" % per_conn
    for c in stalled:
        c.close()
    publisher.ping()


def test_a_connection_streaming_big_mpubs_then_small_commands_loses_nothing(nsqd, connect):
    """A publisher of big MPUBs reads into a chunk of its own (the streaming read path), and
    goes back to the small idle read when its commands get small: frames cut anywhere by the
    network, in both modes and at the switches, all arrive in order."""
    rng = random.Random(17)
    consumer = connect()
    consumer.sub("stream", "c", rdy=2500)
    publisher = nsqproto.Conn(nsqd.host, nsqd.tcp_port, timeout=10.0)
    expected = []
    stream = b""
    for round_ in range(6):
        for i in range(4):  # ~70 KiB MPUBs: streaming
            bodies = [b"%d-%d-%d-" % (round_, i, j) + b"m" * rng.randrange(300, 1100)
                      for j in range(100)]
            stream += nsqproto.mpub("stream", bodies)
            expected += bodies
        for i in range(20):  # small PUBs: reads shorter than the idle buffer end streaming
            body = b"%d-small-%d" % (round_, i)
            stream += nsqproto.pub("stream", body)
            expected.append(body)
    commands = 6 * (4 + 20)
    pos = 0
    while pos < len(stream):  # cut at random points, some pauses so reads end mid-frame
        step = rng.choice([1, 7, 300, 511, 512, 513, 4096, 9000, 65536, 200000])
        publisher.send(stream[pos:pos + step])
        pos += step
        if rng.random() < 0.2:
            time.sleep(0.002)
    for _ in range(commands):
        assert publisher.read_frame() == (nsqproto.FRAME_RESPONSE, b"OK")
    got = []
    while len(got) < len(expected):
        msg = consumer.expect_message()
        got.append(msg.body)
        consumer.send(nsqproto.cmd("FIN", msg.id))
    assert got == expected
    publisher.close()
