"""Raw TCP protocol V2: malformed input, wrong states, limits, heartbeats, flow control.

Every expected byte/string here is what the reference nsqd v1.3.0 sends. After each test an
independent client, connected before the test started, must still be served (the `witness`).

Bodies are never sent after a command the server rejects before reading them: closing a socket
with unread input makes the kernel send RST, which can destroy the error frame in flight.
"""

import json
import socket
import struct
import threading
import time

import pytest

import nsqproto
from nsqproto import FRAME_ERROR, FRAME_MESSAGE, FRAME_RESPONSE, HEARTBEAT, cmd

ID0 = b"0000000000000000"  # a well-formed message id that is never in flight


@pytest.fixture(autouse=True)
def witness(nsqd, connect):
    """A client connected for the whole test; it must still get answers at the end."""
    w = connect()
    w.ping()
    yield w
    assert nsqd.alive(), "nsqd died\n" + nsqd.log_tail()
    w.ping()


def int32(n):
    return struct.pack(">i", n)


def assert_fatal(conn, data, error):
    """Send `data`, expect exactly the error frame `error`, then the server's close."""
    conn.send(data)
    conn.expect_error(error)
    conn.expect_closed(timeout=3)


def subscribed(connect, topic="t", channel="c", rdy=None, **identify):
    c = connect()
    if identify:
        c.identify(**identify)
    c.sub(topic, channel, rdy=rdy)
    return c


# ---- magic --------------------------------------------------------------------------------

@pytest.mark.parametrize("magic", [b"  V1", b"V2  ", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[:4]])
def test_wrong_magic_gets_bad_protocol_then_close(connect, magic):
    c = connect(magic=False)
    c.send(magic)
    assert c.read_exact(22) == b"\x00\x00\x00\x12\x00\x00\x00\x01E_BAD_PROTOCOL"
    c.expect_closed()


def test_short_magic_then_eof_closes_without_reply(connect):
    c = connect(magic=False)
    c.send(b" V")
    c.sock.shutdown(socket.SHUT_WR)
    c.expect_closed()


# ---- command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("line,error", [
    (b"FOO\n", "E_INVALID invalid command FOO"),
    (b"FOO bar baz\n", "E_INVALID invalid command FOO"),
    (b"pub t\n", "E_INVALID invalid command pub"),  # command names are case-sensitive
    (b"\n", "E_INVALID invalid command "),  # empty line = empty command name
    (b" NOP\n", "E_INVALID invalid command "),  # split on single spaces: first word is ""
])
def test_unknown_command_is_fatal(connect, line, error):
    assert_fatal(connect(), line, error)


def test_crlf_and_pipelined_commands(connect):
    """`\\r\\n` is accepted; pipelined commands are answered in order."""
    c = connect()
    c.send(b"NOP\r\n" + nsqproto.pub("t", b"a") + b"NOP\n" + nsqproto.pub("t", b"b")
           + nsqproto.mpub("t", [b"c", b"d"]) + b"PUB t\r\n" + int32(1) + b"e")
    for _ in range(4):
        c.expect_response(b"OK")
    c.expect_nothing(0.2)


def test_command_split_into_single_bytes(connect):
    c = connect()
    data = cmd("NOP") + nsqproto.pub("split", b"hello") + nsqproto.mpub("split", [b"x", b"y"])
    for i in range(len(data)):
        c.send(data[i:i + 1])
    c.expect_response(b"OK")
    c.expect_response(b"OK")


def test_line_longer_than_16k_closes_without_frame(connect):
    c = connect()
    c.send(b"X" * 20000)  # no newline: the reference's 16 KiB line buffer overflows
    c.expect_closed()


# ---- PUB / DPUB / MPUB bodies ---------------------------------------------------------------

def test_pub_message_frame_format(connect):
    c = subscribed(connect, "fmt", "c", rdy=1)
    t0 = time.time_ns()
    connect().publish("fmt", b"body bytes")
    m = c.expect_message()
    t1 = time.time_ns()
    assert t0 - 10**9 <= m.timestamp <= t1 + 10**9  # ns since the epoch, set at publish
    assert m.attempts == 1
    assert len(m.id) == 16 and all(ch in b"0123456789abcdef" for ch in m.id), m.id
    assert m.body == b"body bytes"
    c.send(cmd("FIN", m.id))
    c.ping()


@pytest.mark.nsqd_args("--max-msg-size=1024")
@pytest.mark.parametrize("data,error", [
    (b"PUB t\n" + int32(1025), "E_BAD_MESSAGE PUB message too big 1025 > 1024"),
    (b"PUB t\n" + int32(0), "E_BAD_MESSAGE PUB invalid message body size 0"),
    (b"PUB t\n" + int32(-1), "E_BAD_MESSAGE PUB invalid message body size -1"),
    (b"DPUB t 0\n" + int32(1025), "E_BAD_MESSAGE DPUB message too big 1025 > 1024"),
    (b"DPUB t 10\n" + int32(0), "E_BAD_MESSAGE DPUB invalid message body size 0"),
])
def test_pub_bad_body_size(connect, data, error):
    assert_fatal(connect(), data, error)


@pytest.mark.nsqd_args("--max-msg-size=1024")
def test_pub_of_max_size_is_accepted(connect):
    c = connect()
    c.publish("t", b"x" * 1024)


@pytest.mark.parametrize("data,error", [
    (b"PUB t\n" + b"\x00\x00", "E_BAD_MESSAGE PUB failed to read message body size"),
    (b"PUB t\n" + int32(10) + b"abc", "E_BAD_MESSAGE PUB failed to read message body"),
    (b"DPUB t 5\n" + int32(10) + b"abc", "E_BAD_MESSAGE DPUB failed to read message body"),
    (b"MPUB t\n" + b"\x00", "E_BAD_BODY MPUB failed to read body size"),
    (b"MPUB t\n" + int32(20) + b"\x00", "E_BAD_BODY MPUB failed to read message count"),
    (b"MPUB t\n" + int32(20) + int32(2) + int32(1) + b"a" + b"\x00",
     "E_BAD_MESSAGE MPUB failed to read message(1) body size"),
    (b"MPUB t\n" + int32(20) + int32(1) + int32(5) + b"ab",
     "E_BAD_MESSAGE MPUB failed to read message body"),
    (b"IDENTIFY\n" + int32(10) + b"{}", "E_BAD_BODY IDENTIFY failed to read body"),
])
def test_eof_inside_a_body(connect, data, error):
    """The client half-closes mid-body: the reference still answers with the error frame."""
    c = connect()
    c.send(data)
    c.sock.shutdown(socket.SHUT_WR)
    c.expect_error(error)
    c.expect_closed()


def mpub_body(bodies, count=None):
    payload = int32(len(bodies) if count is None else count) + b"".join(
        int32(len(b)) + b for b in bodies)
    return int32(len(payload)) + payload


@pytest.mark.nsqd_args("--max-msg-size=1024", "--max-body-size=2048")
@pytest.mark.parametrize("data,error", [
    (b"MPUB t\n" + int32(2049), "E_BAD_BODY MPUB body too big 2049 > 2048"),
    (b"MPUB t\n" + int32(0), "E_BAD_BODY MPUB invalid body size 0"),
    (b"MPUB t\n" + int32(-5), "E_BAD_BODY MPUB invalid body size -5"),
    (b"MPUB t\n" + int32(100) + int32(0), "E_BAD_BODY MPUB invalid message count 0"),
    (b"MPUB t\n" + int32(100) + int32(-1), "E_BAD_BODY MPUB invalid message count -1"),
    # at most (max_body_size - 4) / 5 = 408 messages
    (b"MPUB t\n" + int32(100) + int32(409), "E_BAD_BODY MPUB invalid message count 409"),
    (b"MPUB t\n" + mpub_body([b"ok", b""]),
     "E_BAD_MESSAGE MPUB invalid message(1) body size 0"),
    (b"MPUB t\n" + int32(1100) + int32(2) + int32(1) + b"a" + int32(1025),
     "E_BAD_MESSAGE MPUB message too big 1025 > 1024"),
    (b"MPUB t\n" + int32(100) + int32(1) + int32(-3),
     "E_BAD_MESSAGE MPUB invalid message(0) body size -3"),
])
def test_mpub_bad_body(connect, data, error):
    assert_fatal(connect(), data, error)


def test_mpub_is_all_or_nothing(connect):
    """A bad message in an MPUB means none of its messages is queued."""
    c = subscribed(connect, "atomic", "c", rdy=10)
    assert_fatal(connect(), b"MPUB atomic\n" + mpub_body([b"first", b"second", b""]),
                 "E_BAD_MESSAGE MPUB invalid message(2) body size 0")
    connect().publish("atomic", b"after")
    assert c.expect_message().body == b"after"
    c.expect_nothing(0.3)


# ---- names and parameters -------------------------------------------------------------------

@pytest.mark.parametrize("data,error", [
    (b"PUB bad!topic\n", 'E_BAD_TOPIC PUB topic name "bad!topic" is not valid'),
    (b"PUB \n", 'E_BAD_TOPIC PUB topic name "" is not valid'),
    (b"PUB " + b"a" * 65 + b"\n", 'E_BAD_TOPIC PUB topic name "%s" is not valid' % ("a" * 65)),
    (b"PUB t#eph\n", 'E_BAD_TOPIC PUB topic name "t#eph" is not valid'),
    (b"PUB t:ephemeral\n", 'E_BAD_TOPIC PUB topic name "t:ephemeral" is not valid'),
    (b"DPUB bad!topic 0\n", 'E_BAD_TOPIC DPUB topic name "bad!topic" is not valid'),
    (b"MPUB bad!topic\n", 'E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad!topic" is not valid'),
    (b"SUB bad!topic c\n", 'E_BAD_TOPIC SUB topic name "bad!topic" is not valid'),
    (b"SUB t bad!ch\n", 'E_BAD_CHANNEL SUB channel name "bad!ch" is not valid'),
    (b"SUB t " + b"c" * 65 + b"\n", 'E_BAD_CHANNEL SUB channel name "%s" is not valid' % (
        "c" * 65)),
    # names are quoted with Go's %q
    (b'PUB a"b\n', 'E_BAD_TOPIC PUB topic name "a\\"b" is not valid'),
    (b"PUB a\tb\n", 'E_BAD_TOPIC PUB topic name "a\\tb" is not valid'),
    (b"PUB a\\b\n", 'E_BAD_TOPIC PUB topic name "a\\\\b" is not valid'),
    (b"PUB caf\xc3\xa9\n", 'E_BAD_TOPIC PUB topic name "caf\xc3\xa9" is not valid'.encode(
        "latin-1")),
    (b"PUB a\xffb\n", b'E_BAD_TOPIC PUB topic name "a\\xffb" is not valid'),
])
def test_invalid_names(connect, data, error):
    assert_fatal(connect(), data, error)


def test_longest_valid_names(connect):
    c = connect()
    c.publish("t" * 64, b"x")
    c.publish("e" * 54 + "#ephemeral", b"x")
    s = connect()
    s.sub("t" * 64, "c" * 54 + "#ephemeral")


@pytest.mark.parametrize("data,error", [
    (b"PUB\n", "E_INVALID PUB insufficient number of parameters"),
    (b"MPUB\n", "E_INVALID MPUB insufficient number of parameters"),
    (b"DPUB t\n", "E_INVALID DPUB insufficient number of parameters"),
    (b"SUB t\n", "E_INVALID SUB insufficient number of parameters"),
    (b"DPUB t abc\n", "E_INVALID DPUB could not parse timeout abc"),
    (b"DPUB t -1\n", "E_INVALID DPUB could not parse timeout -1"),
    (b"DPUB t 3600001\n", "E_INVALID DPUB timeout 3600001 out of range 0-3600000"),
    (b"AUTH x\n", "E_INVALID AUTH invalid number of parameters"),
    (b"AUTH\n" + int32(0), "E_BAD_BODY AUTH invalid body size 0"),
    (b"AUTH\n" + int32(6) + b"secret", "E_AUTH_DISABLED AUTH disabled"),
])
def test_bad_parameters(connect, data, error):
    assert_fatal(connect(), data, error)


@pytest.mark.nsqd_args("--max-req-timeout=10s")
def test_dpub_timeout_limit_follows_max_req_timeout(connect):
    c = connect()
    c.send(nsqproto.dpub("t", 10000, b"x"))
    c.expect_response(b"OK")
    assert_fatal(c, b"DPUB t 10001\n", "E_INVALID DPUB timeout 10001 out of range 0-10000")


# ---- state machine --------------------------------------------------------------------------

@pytest.mark.parametrize("line,error", [
    (b"RDY 1\n", "E_INVALID cannot RDY in current state"),
    (b"FIN " + ID0 + b"\n", "E_INVALID cannot FIN in current state"),
    (b"REQ " + ID0 + b" 0\n", "E_INVALID cannot REQ in current state"),
    (b"TOUCH " + ID0 + b"\n", "E_INVALID cannot TOUCH in current state"),
    (b"CLS\n", "E_INVALID cannot CLS in current state"),
])
def test_commands_before_sub(connect, line, error):
    assert_fatal(connect(), line, error)


@pytest.mark.parametrize("line,error", [
    (b"IDENTIFY\n", "E_INVALID cannot IDENTIFY in current state"),
    (b"SUB t c\n", "E_INVALID cannot SUB in current state"),
    (b"SUB other c2\n", "E_INVALID cannot SUB in current state"),
    (b"AUTH\n", "E_INVALID cannot AUTH in current state"),
])
def test_commands_after_sub(connect, line, error):
    assert_fatal(subscribed(connect), line, error)


@pytest.mark.parametrize("line,error", [
    (b"IDENTIFY\n", "E_INVALID cannot IDENTIFY in current state"),
    (b"SUB t c\n", "E_INVALID cannot SUB in current state"),
    (b"CLS\n", "E_INVALID cannot CLS in current state"),
])
def test_commands_after_cls(connect, line, error):
    c = subscribed(connect)
    c.send(cmd("CLS"))
    c.expect_response(b"CLOSE_WAIT")
    assert_fatal(c, line, error)


def test_cls_then_rdy_is_ignored_and_fin_still_works(connect):
    c = subscribed(connect, "cls", "c", rdy=1)
    connect().publish("cls", b"m1")
    m = c.expect_message()
    c.send(cmd("CLS"))
    c.expect_response(b"CLOSE_WAIT")
    connect().publish("cls", b"m2")
    c.send(cmd("RDY", 5))  # silently ignored while closing
    c.send(cmd("FIN", m.id))  # in-flight messages can still be finished
    c.send(cmd("FIN", ID0))
    c.expect_error(b"E_FIN_FAILED FIN " + ID0 + b" failed ID not in flight")
    c.ping()  # no message m2, no error for the first FIN: the next frame is PUB's OK
    c.expect_nothing(0.3)


def test_pub_works_in_every_state(connect):
    c = connect()
    c.publish("anystate", b"init")
    c.sub("anystate", "c")
    c.publish("anystate", b"subscribed")
    c.send(cmd("CLS"))
    c.expect_response(b"CLOSE_WAIT")
    c.publish("anystate", b"closing")


# ---- FIN / REQ / TOUCH ----------------------------------------------------------------------

@pytest.mark.parametrize("line,error", [
    (b"FIN " + ID0 + b"\n", b"E_FIN_FAILED FIN " + ID0 + b" failed ID not in flight"),
    (b"REQ " + ID0 + b" 0\n", b"E_REQ_FAILED REQ " + ID0 + b" failed ID not in flight"),
    (b"REQ " + ID0 + b" 100\n", b"E_REQ_FAILED REQ " + ID0 + b" failed ID not in flight"),
    (b"TOUCH " + ID0 + b"\n", b"E_TOUCH_FAILED TOUCH " + ID0 + b" failed ID not in flight"),
])
def test_unknown_id_is_not_fatal(connect, line, error):
    c = subscribed(connect)
    c.send(line)
    c.expect_error(error)
    c.ping()  # still open: NOP, then PUB -> OK
    c.send(line)
    c.expect_error(error)
    c.ping()


def test_fin_of_another_clients_message(connect):
    owner = subscribed(connect, "own", "c", rdy=1)
    other = subscribed(connect, "own", "c", rdy=0)
    connect().publish("own", b"mine")
    m = owner.expect_message()
    for line, err in [(cmd("FIN", m.id), b"E_FIN_FAILED FIN %s failed client does not own message"),
                      (cmd("REQ", m.id, 0), b"E_REQ_FAILED REQ %s failed client does not own message"),
                      (cmd("TOUCH", m.id), b"E_TOUCH_FAILED TOUCH %s failed client does not own message")]:
        other.send(line)
        other.expect_error(err % m.id)
    owner.send(cmd("FIN", m.id))
    owner.ping()
    other.ping()


def test_pipelined_fins_report_each_failure_in_order(connect):
    """FINs that arrive together are finished together (one channel lock); the errors of
    the bad ones still come back one by one, in order, and the good ones free their slots."""
    c = subscribed(connect, "pipe", "c", rdy=5)
    pub = connect()
    for i in range(5):
        pub.publish("pipe", b"m%d" % i)
    ms = [c.expect_message() for _ in range(5)]
    c.send(cmd("FIN", ms[0].id) + cmd("FIN", ID0) + cmd("FIN", ms[1].id) + cmd("FIN", ms[1].id)
           + cmd("FIN", ms[2].id) + cmd("NOP"))
    c.expect_error(b"E_FIN_FAILED FIN " + ID0 + b" failed ID not in flight")
    c.expect_error(b"E_FIN_FAILED FIN " + ms[1].id + b" failed ID not in flight")
    for i in range(5, 8):
        pub.publish("pipe", b"m%d" % i)
    assert sorted(c.expect_message().body for _ in range(3)) == [b"m5", b"m6", b"m7"]
    c.expect_nothing(0.2)  # three slots were freed, no more


def test_fins_before_a_fatal_command_are_finished_first(connect):
    # In-flight messages of a closed connection time out back into the channel, as the
    # reference's: a short msg_timeout lets the unfinished one come back quickly.
    c = subscribed(connect, "fatal", "c", rdy=2, msg_timeout=1000)
    other = subscribed(connect, "fatal", "c", rdy=0)
    pub = connect()
    pub.publish("fatal", b"done")
    pub.publish("fatal", b"open")
    ms = {m.body: m for m in (c.expect_message(), c.expect_message())}
    c.send(cmd("FIN", ms[b"done"].id) + b"BOGUS\n")
    c.expect_error(b"E_INVALID invalid command BOGUS")
    c.wait_closed(5)
    other.send(cmd("RDY", 5))
    # (the reference takes several seconds to notice the timeout; ours about one)
    assert other.expect_message(timeout=15).body == b"open"  # only the unfinished one is back
    other.expect_nothing(0.3)


@pytest.mark.parametrize("line,error", [
    (b"FIN 123\n", "E_INVALID invalid message ID"),
    (b"FIN " + ID0 + b"0\n", "E_INVALID invalid message ID"),
    (b"REQ 123 0\n", "E_INVALID invalid message ID"),
    (b"TOUCH 123\n", "E_INVALID invalid message ID"),
    (b"FIN\n", "E_INVALID FIN insufficient number of params"),
    (b"REQ " + ID0 + b"\n", "E_INVALID REQ insufficient number of params"),
    (b"TOUCH\n", "E_INVALID TOUCH insufficient number of params"),
    (b"REQ " + ID0 + b" abc\n", "E_INVALID REQ could not parse timeout abc"),
])
def test_bad_message_id_or_params_are_fatal(connect, line, error):
    assert_fatal(subscribed(connect), line, error)


def test_touch_and_req_with_valid_ids(connect):
    c = subscribed(connect, "req", "c", rdy=1)
    p = connect()
    p.publish("req", b"r")
    m1 = c.expect_message()
    c.send(cmd("TOUCH", m1.id))
    c.ping()  # TOUCH has no reply: the next frame is the PUB's OK
    c.send(cmd("REQ", m1.id, 0))
    m2 = c.expect_message()
    assert (m2.id, m2.body, m2.attempts) == (m1.id, b"r", 2)
    c.send(cmd("FIN", m2.id))
    c.ping()
    c.expect_nothing(0.2)


def test_req_with_delay_redelivers_after_delay(connect):
    c = subscribed(connect, "reqd", "c", rdy=1)
    connect().publish("reqd", b"later")
    m1 = c.expect_message()
    t0 = time.monotonic()
    c.send(cmd("REQ", m1.id, 1000))
    # deferred messages are released by the queue scanner; for a channel younger than ~5 s the
    # reference may need up to ~5 s more, hence the generous upper bound
    m2 = c.expect_message(timeout=9)
    elapsed = time.monotonic() - t0
    assert elapsed >= 0.95, "REQ 1000 redelivered after only %.3fs" % elapsed
    assert (m2.id, m2.body, m2.attempts) == (m1.id, b"later", 2)
    c.send(cmd("FIN", m2.id))
    c.ping()


def test_req_timeout_above_max_is_clamped_not_fatal(connect):
    c = subscribed(connect, "reqmax", "c", rdy=1)
    connect().publish("reqmax", b"x")
    m = c.expect_message()
    c.send(cmd("REQ", m.id, 99999999999))  # > --max-req-timeout: clamped, no error
    c.ping()
    c.expect_nothing(0.3)


def test_msg_timeout_requeues_with_attempts_incremented(connect):
    c = connect()
    assert c.identify(msg_timeout=1000)["msg_timeout"] == 1000
    c.sub("mto", "c", rdy=1)
    connect().publish("mto", b"slow")
    m1 = c.expect_message()
    t0 = time.monotonic()
    # not FINished: back after ~1 s (+ up to ~5 s scanner lag for a new channel)
    m2 = c.expect_message(timeout=9)
    assert time.monotonic() - t0 >= 0.9
    assert (m2.id, m2.body, m2.attempts) == (m1.id, b"slow", 2)
    c.send(cmd("FIN", m2.id))
    c.ping()


# ---- RDY ------------------------------------------------------------------------------------

@pytest.mark.nsqd_args("--max-rdy-count=50")
@pytest.mark.parametrize("line,error", [
    (b"RDY 51\n", "E_INVALID RDY count 51 out of range 0-50"),
    (b"RDY 100000\n", "E_INVALID RDY count 100000 out of range 0-50"),
    (b"RDY abc\n", "E_INVALID RDY could not parse count abc"),
    (b"RDY -1\n", "E_INVALID RDY could not parse count -1"),
])
def test_rdy_out_of_range(connect, line, error):
    c = subscribed(connect)
    c.send(b"RDY 50\n")  # the maximum itself is fine (no reply)
    c.ping()
    assert_fatal(c, line, error)


@pytest.mark.nsqd_args("--max-rdy-count=50")
def test_identify_reports_max_rdy_count(connect):
    assert connect().identify()["max_rdy_count"] == 50


def test_rdy_is_a_window_and_rdy_0_pauses(connect):
    c = subscribed(connect, "win", "c", rdy=2)
    p = connect()
    for i in range(5):
        p.publish("win", b"%d" % i)
    m = [c.expect_message(), c.expect_message()]
    c.expect_nothing(0.3)  # window full
    c.send(cmd("FIN", m[0].id))
    m.append(c.expect_message())
    c.send(b"RDY 0\n")
    c.send(cmd("FIN", m[1].id))
    c.send(cmd("FIN", m[2].id))
    c.expect_nothing(0.3)  # paused
    c.send(b"RDY\n")  # no count = 1
    m.append(c.expect_message())
    c.expect_nothing(0.3)
    c.send(cmd("FIN", m[3].id))
    m.append(c.expect_message())
    c.send(cmd("FIN", m[4].id))
    assert sorted(x.body for x in m) == [b"0", b"1", b"2", b"3", b"4"]
    c.ping()


# ---- IDENTIFY -------------------------------------------------------------------------------

DEFAULT_IDENTIFY_REPLY = {
    # v1.3.0 sends exactly these keys (no topology_* keys; those came after the tag)
    "max_rdy_count": 2500, "version": "1.3.0", "max_msg_timeout": 900000,
    "msg_timeout": 60000, "tls_v1": False, "deflate": False, "deflate_level": 6,
    "max_deflate_level": 6, "snappy": False, "sample_rate": 0, "auth_required": False,
    "output_buffer_size": 16384, "output_buffer_timeout": 250,
}


def test_identify_feature_negotiation_reply(connect):
    c = connect()
    c.send(nsqproto.identify({"client_id": "x", "hostname": "h", "user_agent": "test/1.0",
                              "feature_negotiation": True}))
    ftype, data = c.read_frame()
    assert ftype == FRAME_RESPONSE
    # clients read it as a JSON object: the key set and the values matter (the reference
    # writes Go struct order, compact, but no client depends on that)
    reply = json.loads(data)
    assert sorted(reply) == sorted(DEFAULT_IDENTIFY_REPLY), "key set differs: %r" % data
    assert reply == DEFAULT_IDENTIFY_REPLY
    c.ping()


def test_identify_reply_reflects_client_settings(connect):
    c = connect()
    reply = c.identify(msg_timeout=5000, output_buffer_size=-1, output_buffer_timeout=100,
                       sample_rate=50, heartbeat_interval=5000, tls_v1=True,
                       deflate_level=3, unknown_key_is_ignored=[1, 2])
    want = dict(DEFAULT_IDENTIFY_REPLY, msg_timeout=5000, sample_rate=50,
                # -1 = unbuffered: size 1 and timeout 0, whatever timeout was asked
                output_buffer_size=1, output_buffer_timeout=0)
    assert reply == want  # tls_v1 false: the server has no certificate; no upgrade follows
    c.ping()


def test_identify_buffer_settings(connect):
    reply = connect().identify(output_buffer_size=64, output_buffer_timeout=25)
    assert (reply["output_buffer_size"], reply["output_buffer_timeout"]) == (64, 25)


def test_identify_without_feature_negotiation_replies_ok(connect):
    c = connect()
    c.send(nsqproto.identify({"client_id": "x"}))
    c.expect_response(b"OK")
    c.ping()


def test_identify_snappy_and_deflate_together_is_fatal(connect):
    assert_fatal(connect(), nsqproto.identify({"feature_negotiation": True, "snappy": True,
                                               "deflate": True}),
                 "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression")


@pytest.mark.parametrize("body,error", [
    ({"heartbeat_interval": 100}, "E_BAD_BODY IDENTIFY heartbeat interval (100) is invalid"),
    ({"heartbeat_interval": 999}, "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid"),
    ({"heartbeat_interval": 60001},
     "E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid"),
    ({"heartbeat_interval": -2}, "E_BAD_BODY IDENTIFY heartbeat interval (-2) is invalid"),
    # Go's encoding/json matches keys case-insensitively
    ({"HEARTBEAT_INTERVAL": 100}, "E_BAD_BODY IDENTIFY heartbeat interval (100) is invalid"),
    ({"output_buffer_timeout": 1}, "E_BAD_BODY IDENTIFY output buffer timeout (1) is invalid"),
    ({"output_buffer_size": 10}, "E_BAD_BODY IDENTIFY output buffer size (10) is invalid"),
    ({"sample_rate": 100}, "E_BAD_BODY IDENTIFY sample rate (100) is invalid"),
    ({"msg_timeout": 500}, "E_BAD_BODY IDENTIFY msg timeout (500) is invalid"),
    ({"msg_timeout": 900001}, "E_BAD_BODY IDENTIFY msg timeout (900001) is invalid"),
    # validation order: heartbeat first
    ({"msg_timeout": 1, "heartbeat_interval": 1},
     "E_BAD_BODY IDENTIFY heartbeat interval (1) is invalid"),
    # wrong JSON types fail the whole decode
    ({"heartbeat_interval": "1000"}, "E_BAD_BODY IDENTIFY failed to decode JSON body"),
    ({"heartbeat_interval": 1000.5}, "E_BAD_BODY IDENTIFY failed to decode JSON body"),
    ({"feature_negotiation": "yes"}, "E_BAD_BODY IDENTIFY failed to decode JSON body"),
])
def test_identify_invalid_values(connect, body, error):
    assert_fatal(connect(), nsqproto.identify(body), error)


@pytest.mark.parametrize("data,error", [
    (b"IDENTIFY\n" + int32(9) + b"{not json", "E_BAD_BODY IDENTIFY failed to decode JSON body"),
    (b"IDENTIFY\n" + int32(2) + b"[]", "E_BAD_BODY IDENTIFY failed to decode JSON body"),
    (b"IDENTIFY\n" + int32(0), "E_BAD_BODY IDENTIFY invalid body size 0"),
    (b"IDENTIFY\n" + int32(-1), "E_BAD_BODY IDENTIFY invalid body size -1"),
    (b"IDENTIFY\n" + int32(5242881), "E_BAD_BODY IDENTIFY body too big 5242881 > 5242880"),
])
def test_identify_bad_body(connect, data, error):
    assert_fatal(connect(), data, error)


def test_identify_null_keeps_defaults(connect):
    reply = connect().identify(heartbeat_interval=None, msg_timeout=None)
    assert reply == DEFAULT_IDENTIFY_REPLY


def test_sub_with_heartbeats_disabled_is_fatal(connect):
    c = connect()
    c.identify(heartbeat_interval=-1)
    assert_fatal(c, b"SUB t c\n", "E_INVALID cannot SUB with heartbeats disabled")


# ---- heartbeats and deadlines ---------------------------------------------------------------

def test_heartbeat_interval_and_drop_of_silent_client(connect):
    c = connect()
    c.identify(heartbeat_interval=1000)
    t0 = time.monotonic()
    ftype, data = c.read_frame(timeout=3)
    first = time.monotonic() - t0
    assert (ftype, data) == (FRAME_RESPONSE, HEARTBEAT)
    assert 0.6 <= first <= 2.0, "first heartbeat after %.2fs, want ~1s" % first
    # never answered: dropped after 2 intervals (read deadline), with at most one more
    # heartbeat before that, and nothing else
    frames = []
    try:
        while True:
            frames.append(c.read_frame(timeout=4))
    except nsqproto.Closed:
        pass
    closed = time.monotonic() - t0
    assert all(f == (FRAME_RESPONSE, HEARTBEAT) for f in frames), frames
    assert len(frames) <= 1, frames
    assert 1.6 <= closed <= 4.0, "silent client dropped after %.2fs, want ~2s" % closed


def test_client_answering_heartbeats_stays_connected(connect):
    c = connect()
    c.identify(heartbeat_interval=1000)
    c.sub("hb", "c", rdy=1)
    t0 = time.monotonic()
    beats = []
    while len(beats) < 4:
        ftype, data = c.read_frame(timeout=3)
        assert (ftype, data) == (FRAME_RESPONSE, HEARTBEAT)
        beats.append(time.monotonic() - t0)
        c.send(cmd("NOP"))
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert all(0.5 <= g <= 1.6 for g in gaps), "heartbeat gaps %r, want ~1s" % gaps
    connect().publish("hb", b"still here")
    assert c.expect_message().body == b"still here"


def test_half_sent_frame_then_silence_is_dropped(connect):
    c = connect()
    c.identify(heartbeat_interval=1000)
    t0 = time.monotonic()
    c.send(b"PUB t\n\x00\x00")  # 2 of the 4 size bytes, then nothing
    frames = []
    try:
        while True:
            frames.append(c.read_frame(timeout=5))
    except nsqproto.Closed:
        pass
    closed = time.monotonic() - t0
    assert 1.6 <= closed <= 4.0, "dropped after %.2fs, want ~2s (2 heartbeat intervals)" % closed
    # The reference reports the timed-out body read before closing.
    non_hb = [f for f in frames if f != (FRAME_RESPONSE, HEARTBEAT)]
    assert non_hb == [(FRAME_ERROR, b"E_BAD_MESSAGE PUB failed to read message body size")]


# ---- slow consumers -------------------------------------------------------------------------

def test_stalled_consumer_does_not_hold_back_others(nsqd, connect):
    """A subscriber with RDY 2500 that never reads its socket, while 20k x 1 KB messages are
    published: a consumer on another channel still gets all of them promptly, and nsqd's
    memory stays bounded (the stalled client's data may not pile up in the server)."""
    n, size, batch = 20000, 1024, 200
    stalled = connect(rcvbuf=4096)  # small receive window: its stream backs up quickly
    stalled.sub("flood", "stalled", rdy=2500)
    fast = subscribed(connect, "flood", "fast", rdy=2500)

    got = set()
    done = threading.Event()
    error = []

    def consume():
        try:
            while len(got) < n:
                frames = [fast.read_frame(timeout=10, skip_heartbeats=True)]
                frames += fast.read_frames_available(0)
                fins = []
                for ftype, data in frames:
                    assert ftype == FRAME_MESSAGE, (ftype, data[:100])
                    m = nsqproto.parse_message(data)
                    got.add(m.body[:12])
                    fins.append(cmd("FIN", m.id))
                fast.send(b"".join(fins))
        except Exception as e:  # reported by the main thread
            error.append(e)
        finally:
            done.set()

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    p = connect()
    max_rss = 0
    t0 = time.monotonic()
    for i in range(0, n, batch):
        p.send(nsqproto.mpub("flood", [b"%012d" % j + b"x" * (size - 12)
                                       for j in range(i, i + batch)]))
        p.expect_response(b"OK", timeout=10)
        max_rss = max(max_rss, nsqd.rss_kb())
    published = time.monotonic() - t0
    while not done.wait(0.1):
        max_rss = max(max_rss, nsqd.rss_kb())
        assert time.monotonic() - t0 < 30, "fast consumer stalled at %d/%d" % (len(got), n)
    total = time.monotonic() - t0
    t.join()
    assert not error, error
    assert len(got) == n
    # "promptly": the fast channel's last message arrives soon after the last publish
    assert total - published < 10, "fast consumer finished %.1fs after publishing" % (
        total - published)
    assert max_rss < 300 * 1024, "nsqd RSS reached %d MB" % (max_rss // 1024)
    # the stalled client was not dropped (its heartbeat interval is 30 s): once it reads, it
    # gets its full window of 2500 intact messages and can FIN them
    msgs = [stalled.expect_message(timeout=10) for _ in range(2500)]
    assert all(m.attempts == 1 and len(m.body) == size for m in msgs)
    assert len({m.id for m in msgs}) == 2500
    stalled.send(b"RDY 0\n" + b"".join(cmd("FIN", m.id) for m in msgs))
    stalled.ping()
