"""pynsq Reader/Writer against nsqd: publish variants, requeue, touch, fan-out, flow control.

Each test runs pynsq in-process on a fresh asyncio/tornado loop and polls with deadlines.
"""

import asyncio
import logging
import os
import time

import pytest

import nsq
import nsqproto

TEST_DEADLINE = 15.0  # hard cap per test body; each is designed to finish well under 10 s


class PynsqErrors(logging.Handler):
    """Collects pynsq's warnings/errors (it reports server error frames only by logging)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())

    def protocol_errors(self):
        return [r for r in self.records if " E_" in r or "error" in r.lower()]


class Env:
    """pynsq clients for one test; run(coro) drives a fresh loop and closes everything."""

    def __init__(self, nsqd):
        self.nsqd = nsqd
        self.addr = nsqd.tcp_address
        self.readers, self.writers = [], []
        self.errors = PynsqErrors()

    def reader(self, topic, channel, handler, **kw):
        kw.setdefault("lookupd_poll_interval", 15)
        r = nsq.Reader(message_handler=handler, nsqd_tcp_addresses=[self.addr],
                       topic=topic, channel=channel, **kw)
        self.readers.append(r)
        return r

    async def writer(self):
        w = nsq.Writer([self.addr])
        self.writers.append(w)
        await until(lambda: w.conns, 5, "writer to connect")
        return w

    async def connected(self, reader):
        """Wait until the reader's connection is up and has sent its first RDY."""
        await until(lambda: reader.conns and all(c.rdy > 0 for c in reader.conns.values()),
                    5, "reader to connect")

    def run(self, coro_fn, timeout=TEST_DEADLINE):
        logger = logging.getLogger("nsq")
        logger.addHandler(self.errors)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(asyncio.wait_for(coro_fn(), timeout))
        finally:
            # stop collecting first: our own closes make pynsq log read errors
            logger.removeHandler(self.errors)
            for r in self.readers:
                if r.redist_periodic is not None:
                    r.close()
                else:
                    for c in r.conns.values():
                        c.close()
            for w in self.writers:
                for c in list(w.conns.values()):
                    c.close()
            # let the closes run, then drop the loop (pynsq's timers die with it)
            loop.run_until_complete(asyncio.sleep(0.05))
            for t in asyncio.all_tasks(loop):
                t.cancel()
            loop.close()
            asyncio.set_event_loop(None)


@pytest.fixture
def env(nsqd):
    return Env(nsqd)


async def until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.01)  # poll interval


async def publish(writer, method, *args):
    """Call writer.pub/mpub/dpub and wait for nsqd's reply; assert it is OK."""
    fut = asyncio.get_running_loop().create_future()

    def done(conn, data):
        if not fut.done():
            fut.set_result(data)

    getattr(writer, method)(*args, callback=done)
    data = await asyncio.wait_for(fut, 5)
    assert data == b"OK", "%s failed: %r" % (method, data)


def precreate_channels(nsqd, topic, *channels):
    """SUB once per channel over raw TCP so the channels exist before anything is published
    (a topic copies messages only to the channels it has at that time)."""
    for ch in channels:
        with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
            c.sub(topic, ch)


def bodies(prefix, n):
    return [("%s-%d" % (prefix, i)).encode() for i in range(n)]


# ---------------------------------------------------------------------------------------

def test_pub_each_message_delivered_once(env):
    got = []

    def handler(m):
        got.append((m.body, m.attempts))
        return True

    async def body():
        r = env.reader("t_pub", "c", handler)
        w = await env.writer()
        await env.connected(r)
        for b in bodies("m", 10):
            await publish(w, "pub", "t_pub", b)
        await until(lambda: len(got) >= 10, 5, "10 messages")
        await asyncio.sleep(0.2)  # quiet window: duplicates would show up here

    env.run(body)
    assert sorted(got) == sorted((b, 1) for b in bodies("m", 10))
    assert not env.errors.protocol_errors(), env.errors.records


def test_mpub(env):
    got = []

    def handler(m):
        got.append(m.body)
        return True

    async def body():
        r = env.reader("t_mpub", "c", handler, max_in_flight=100)
        w = await env.writer()
        await env.connected(r)
        await publish(w, "mpub", "t_mpub", bodies("batch", 50))
        await until(lambda: len(got) >= 50, 5, "50 messages")
        await asyncio.sleep(0.2)

    env.run(body)
    assert sorted(got) == sorted(bodies("batch", 50))


def test_dpub_arrives_after_delay_not_before(env):
    delay_ms = 1500
    got = {}

    def handler(m):
        got[m.body] = time.monotonic()
        return True

    async def body():
        r = env.reader("t_dpub", "c", handler, max_in_flight=5)
        w = await env.writer()
        await env.connected(r)
        t0 = time.monotonic()
        await publish(w, "dpub", "t_dpub", delay_ms, b"deferred")
        await publish(w, "pub", "t_dpub", b"now")
        await until(lambda: b"now" in got, 3, "the immediate message")
        assert b"deferred" not in got, "deferred message arrived before the plain one"
        # deferred messages are released by nsqd's queue scanner; for a brand-new channel the
        # reference may take up to ~5 s longer (scanner's channel list refresh)
        await until(lambda: b"deferred" in got, delay_ms / 1000 + 7, "the deferred message")
        elapsed = got[b"deferred"] - t0
        assert elapsed >= delay_ms / 1000 - 0.05, "arrived after %.3fs < %dms" % (elapsed,
                                                                                   delay_ms)

    env.run(body)


def test_handler_false_requeues_and_redelivers_with_attempts_incremented(env):
    deliveries = []

    def handler(m):
        deliveries.append((m.id, m.body, m.attempts))
        return m.attempts >= 2  # fail the first delivery -> REQ

    async def body():
        # requeue_delay=0: REQ <id> 0; short backoff so the Reader resumes RDY quickly
        r = env.reader("t_req", "c", handler, requeue_delay=0, max_backoff_duration=1)
        w = await env.writer()
        await env.connected(r)
        await publish(w, "pub", "t_req", b"retry-me")
        await until(lambda: len(deliveries) >= 2, 8, "redelivery")
        await asyncio.sleep(0.2)

    env.run(body)
    assert len(deliveries) == 2, deliveries
    (id1, b1, a1), (id2, b2, a2) = deliveries
    assert (id1, b1) == (id2, b2) == (id1, b"retry-me")
    assert (a1, a2) == (1, 2)


def test_requeue_with_delay(env):
    deliveries = []

    def handler(m):
        deliveries.append((m.attempts, time.monotonic()))
        if m.attempts == 1:
            m.requeue(delay=1, backoff=False)  # REQ <id> 1000
            return None
        return True

    async def body():
        r = env.reader("t_reqdelay", "c", handler)
        w = await env.writer()
        await env.connected(r)
        await publish(w, "pub", "t_reqdelay", b"later")
        # +~5 s: the queue scanner may not know a brand-new channel yet
        await until(lambda: len(deliveries) >= 2, 8, "delayed redelivery")

    env.run(body)
    (a1, t1), (a2, t2) = deliveries[:2]
    assert (a1, a2) == (1, 2)
    assert t2 - t1 >= 0.95, "requeued with 1 s delay but came back after %.3fs" % (t2 - t1)


def test_touch_keeps_message_in_flight(env):
    """msg_timeout=1 s; the handler holds the message for 6.5 s, touching it every 0.3 s.
    Without TOUCH it would time out and come back (at the latest ~1 s + the scanner's 5 s
    channel refresh), so 6.5 s makes the check meaningful."""
    deliveries = []
    fin_at = []

    def handler(m):
        deliveries.append(m.attempts)
        m.enable_async()
        asyncio.ensure_future(hold(m))

    async def hold(m):
        end = time.monotonic() + 6.5
        while time.monotonic() < end:
            await asyncio.sleep(0.3)
            m.touch()
        m.finish()
        fin_at.append(time.monotonic())

    async def body():
        r = env.reader("t_touch", "c", handler, msg_timeout=1)
        w = await env.writer()
        await env.connected(r)
        await publish(w, "pub", "t_touch", b"slow")
        await until(lambda: fin_at, 9, "the handler to finish")
        await asyncio.sleep(0.3)  # a FIN failure or a redelivery would show up here

    env.run(body)
    assert deliveries == [1], "touched message was redelivered: attempts %r" % deliveries
    assert not env.errors.protocol_errors(), env.errors.records  # e.g. E_FIN_FAILED


def test_two_channels_each_get_every_message(env):
    got = {"a": [], "b": []}

    def handler_for(ch):
        def handler(m):
            got[ch].append(m.body)
            return True
        return handler

    async def body():
        precreate_channels(env.nsqd, "t_fan", "a", "b")
        ra = env.reader("t_fan", "a", handler_for("a"), max_in_flight=10)
        rb = env.reader("t_fan", "b", handler_for("b"), max_in_flight=10)
        w = await env.writer()
        await env.connected(ra)
        await env.connected(rb)
        await publish(w, "mpub", "t_fan", bodies("x", 20))
        for b in bodies("y", 5):
            await publish(w, "pub", "t_fan", b)
        await until(lambda: len(got["a"]) >= 25 and len(got["b"]) >= 25, 5, "25+25 messages")
        await asyncio.sleep(0.2)

    env.run(body)
    want = sorted(bodies("x", 20) + bodies("y", 5))
    assert sorted(got["a"]) == want
    assert sorted(got["b"]) == want


def test_ephemeral_channel(env):
    """A `#ephemeral` channel works like any other for a connected consumer, next to a
    durable channel of the same topic."""
    got = {"keep": [], "ch#ephemeral": []}

    def handler_for(ch):
        def handler(m):
            got[ch].append(m.body)
            return True
        return handler

    async def body():
        precreate_channels(env.nsqd, "t_eph", "keep")
        re = env.reader("t_eph", "ch#ephemeral", handler_for("ch#ephemeral"), max_in_flight=5)
        rk = env.reader("t_eph", "keep", handler_for("keep"), max_in_flight=5)
        w = await env.writer()
        await env.connected(re)
        await env.connected(rk)
        # pynsq does not expose SUB's OK: publish probes until the ephemeral channel has
        # surely been created (it got one), then the real messages
        for i in range(50):
            await publish(w, "pub", "t_eph", b"probe-%d" % i)
            try:
                await until(lambda: got["ch#ephemeral"], 0.2, "a probe")
                break
            except AssertionError:
                pass
        n_probes = i + 1
        for b in bodies("e", 5):
            await publish(w, "pub", "t_eph", b)
        await until(lambda: set(bodies("e", 5)) <= set(got["ch#ephemeral"]) and
                    len(got["keep"]) >= n_probes + 5, 5, "messages on both channels")
        await asyncio.sleep(0.2)
        got["n_probes"] = n_probes

    env.run(body)
    probes = [b"probe-%d" % i for i in range(got.pop("n_probes"))]
    assert sorted(got["keep"]) == sorted(probes + bodies("e", 5))
    eph = got["ch#ephemeral"]
    assert sorted(b for b in eph if not b.startswith(b"probe-")) == sorted(bodies("e", 5))
    assert len(eph) == len(set(eph)), "duplicate deliveries: %r" % eph


def test_100kb_messages(env):
    big = [os.urandom(100 * 1024) for _ in range(3)]
    got = []

    def handler(m):
        got.append(m.body)
        return True

    async def body():
        r = env.reader("t_big", "c", handler, max_in_flight=4)
        w = await env.writer()
        await env.connected(r)
        await publish(w, "pub", "t_big", big[0])
        await publish(w, "mpub", "t_big", big[1:])
        await until(lambda: len(got) >= 3, 5, "3 big messages")

    env.run(body)
    assert sorted(got) == sorted(big)


def test_max_in_flight_window_is_respected(env):
    """max_in_flight=10 with a handler that holds messages: nsqd must never have more than
    10 unfinished messages out to the reader, must fill the window, and must deliver the
    rest as messages are finished."""
    held = []
    seen = []
    max_unfinished = [0]

    def handler(m):
        m.enable_async()
        held.append(m)
        seen.append(m.body)
        max_unfinished[0] = max(max_unfinished[0], len(held))

    async def body():
        r = env.reader("t_mif", "c", handler, max_in_flight=10)
        w = await env.writer()
        await env.connected(r)
        await publish(w, "mpub", "t_mif", bodies("w", 30))
        await until(lambda: len(held) >= 10, 5, "a full window of 10")
        await asyncio.sleep(0.5)  # a window violation would deliver more here
        assert len(held) == 10, "more than max_in_flight delivered: %d" % len(held)
        while len(seen) < 30:
            for m in held:
                m.finish()
            held.clear()
            n = len(seen)
            await until(lambda: len(seen) > n or len(seen) >= 30, 5, "more messages")
        for m in held:
            m.finish()
        held.clear()
        await asyncio.sleep(0.2)

    env.run(body)
    assert sorted(seen) == sorted(bodies("w", 30))
    assert max_unfinished[0] == 10


def test_writer_gets_error_for_invalid_topic(env):
    result = []

    async def body():
        w = await env.writer()
        w.pub("bad!topic", b"x", callback=lambda conn, data: result.append(data))
        await until(lambda: result, 5, "the PUB reply")

    env.run(body)
    assert isinstance(result[0], nsq.Error), result
    assert 'E_BAD_TOPIC PUB topic name "bad!topic" is not valid' in str(result[0]), result
