"""Tiny raw client for the nsqd TCP protocol V2, for byte-exact tests.

Only what the tests need: encode commands, read frames with a deadline, parse message frames.
No retries, no hidden heartbeat handling unless asked (tests want to see every byte).
"""

import json
import select
import socket
import struct
import time
from dataclasses import dataclass

MAGIC_V2 = b"  V2"

FRAME_RESPONSE = 0
FRAME_ERROR = 1
FRAME_MESSAGE = 2

HEARTBEAT = b"_heartbeat_"


class Closed(Exception):
    """The server closed the connection (EOF or reset) while we expected data."""


class Timeout(Exception):
    """Nothing (or not enough) arrived before the deadline."""


@dataclass
class Message:
    timestamp: int  # ns since the epoch
    attempts: int
    id: bytes  # 16 ASCII hex bytes
    body: bytes


def parse_message(data):
    """Parse the data of a message frame (type 2)."""
    if len(data) < 26:
        raise ValueError("message frame too short: %d bytes" % len(data))
    ts, attempts = struct.unpack(">qH", data[:10])
    return Message(ts, attempts, data[10:26], data[26:])


# ---- command encoders (bytes on the wire) -------------------------------------------------

def _s(x):
    return x if isinstance(x, bytes) else str(x).encode()


def cmd(name, *params, body=None):
    """`NAME p1 p2\\n` plus an optional size-prefixed body."""
    line = b" ".join([_s(name)] + [_s(p) for p in params]) + b"\n"
    if body is not None:
        line += struct.pack(">i", len(body)) + body
    return line


def pub(topic, body):
    return cmd("PUB", topic, body=body)


def dpub(topic, defer_ms, body):
    return cmd("DPUB", topic, defer_ms, body=body)


def mpub(topic, bodies):
    payload = struct.pack(">i", len(bodies)) + b"".join(
        struct.pack(">i", len(b)) + b for b in bodies)
    return cmd("MPUB", topic, body=payload)


def identify(data):
    return cmd("IDENTIFY", body=json.dumps(data).encode())


def frame(frame_type, data):
    """Encode a frame as the server sends it (for building expected bytes)."""
    return struct.pack(">ii", len(data) + 4, frame_type) + data


# ---- connection ---------------------------------------------------------------------------

class Conn:
    def __init__(self, host, port, magic=True, timeout=5.0, rcvbuf=None):
        """port None: `host` is the path of a unix socket (-tcp-address=/path/nsqd.sock)."""
        family = socket.AF_UNIX if port is None else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # must be set before connect() to bound the advertised window
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(host if port is None else (host, port))
        if port is not None:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.default_timeout = timeout
        if magic:
            self.send(MAGIC_V2)

    # -- raw I/O
    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self, deadline):
        """Read whatever is available into self.buf; raise Closed on EOF, Timeout on deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout("timed out with %d buffered bytes" % len(self.buf))
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise Timeout("timed out with %d buffered bytes" % len(self.buf))
        except ConnectionResetError:
            raise Closed("connection reset")
        if not chunk:
            raise Closed("EOF with %d buffered bytes" % len(self.buf))
        self.buf += chunk

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_frame(self, timeout=None, skip_heartbeats=False):
        """Return (frame_type, data). Heartbeats are returned unless skip_heartbeats."""
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        while True:
            while len(self.buf) < 8:
                self._fill(deadline)
            size, ftype = struct.unpack(">ii", self.buf[:8])
            assert size >= 4, "bad frame size %d" % size
            while len(self.buf) < 4 + size:
                self._fill(deadline)
            data = bytes(self.buf[8:4 + size])
            del self.buf[:4 + size]
            if skip_heartbeats and ftype == FRAME_RESPONSE and data == HEARTBEAT:
                continue
            return ftype, data

    def read_frames_available(self, max_wait=0.0):
        """Return every complete frame that arrives within max_wait seconds (maybe none)."""
        frames = []
        deadline = time.monotonic() + max_wait
        while True:
            try:
                frames.append(self.read_frame(timeout=max(deadline - time.monotonic(), 0.001)))
            except Timeout:
                return frames

    # -- expectations
    def expect_response(self, data=b"OK", timeout=None):
        ftype, got = self.read_frame(timeout, skip_heartbeats=True)
        assert (ftype, got) == (FRAME_RESPONSE, data), "expected response %r, got %r" % (
            data, (ftype, got))

    def expect_error(self, text, timeout=None):
        ftype, got = self.read_frame(timeout, skip_heartbeats=True)
        if isinstance(text, str):
            text = text.encode()
        assert (ftype, got) == (FRAME_ERROR, text), "expected error %r, got %r" % (
            text, (ftype, got))

    def expect_message(self, timeout=None):
        ftype, data = self.read_frame(timeout, skip_heartbeats=True)
        assert ftype == FRAME_MESSAGE, "expected a message, got %r" % ((ftype, data),)
        return parse_message(data)

    def expect_nothing(self, wait):
        """Assert no frame (other than heartbeats) arrives for `wait` seconds; connection open."""
        deadline = time.monotonic() + wait
        while True:
            try:
                ftype, data = self.read_frame(
                    timeout=max(deadline - time.monotonic(), 0.001), skip_heartbeats=True)
            except Timeout:
                return
            raise AssertionError("expected nothing, got %r" % ((ftype, data),))

    def expect_closed(self, timeout=None):
        """Assert the server closes the connection within timeout (no further frames)."""
        deadline = time.monotonic() + (self.default_timeout if timeout is None else timeout)
        try:
            while True:
                self._fill(deadline)
        except Closed:
            pass
        assert not self.buf, "unexpected bytes before close: %r" % bytes(self.buf)

    def wait_closed(self, timeout):
        """Wait for EOF, discarding anything received (heartbeats). Returns seconds waited."""
        start = time.monotonic()
        deadline = start + timeout
        try:
            while True:
                self._fill(deadline)
                self.buf.clear()
        except Closed:
            return time.monotonic() - start

    def is_open(self):
        """True if the socket has no pending EOF/reset (non-blocking peek)."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return True
        try:
            data = self.sock.recv(1 << 16, socket.MSG_PEEK)
        except OSError:
            return False
        return bool(data)

    # -- conveniences
    def identify(self, **data):
        """IDENTIFY with feature_negotiation; returns the parsed JSON reply."""
        data.setdefault("feature_negotiation", True)
        self.send(identify(data))
        ftype, got = self.read_frame(skip_heartbeats=True)
        assert ftype == FRAME_RESPONSE, "IDENTIFY failed: %r" % ((ftype, got),)
        if not data["feature_negotiation"]:
            assert got == b"OK"
            return None
        return json.loads(got)

    def sub(self, topic, channel, rdy=None):
        self.send(cmd("SUB", topic, channel))
        self.expect_response(b"OK")
        if rdy is not None:
            self.send(cmd("RDY", rdy))

    def publish(self, topic, body):
        self.send(pub(topic, body))
        self.expect_response(b"OK")

    def ping(self):
        """Round trip proving the connection is alive and in order: an empty-topic-safe PUB."""
        self.send(cmd("NOP"))
        self.publish("ping_topic", b"ping")
