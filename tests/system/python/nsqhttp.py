"""A small stdlib HTTP client for nsqd's HTTP API, plus helpers that compare two answers
(ours vs the reference) by JSON shape: keys in order, value types, nesting."""

import http.client
import json
import socket
import time


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # {lower-case name: value}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:200])


def wait_http(nsqd, deadline=10.0):
    """Poll until nsqd's HTTP port answers /ping (the fixtures only wait for TCP)."""
    end = time.monotonic() + deadline
    while True:
        try:
            request(nsqd, "GET", "/ping")
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)  # poll interval


def request(nsqd, method, path, body=None, headers=None, timeout=10.0):
    conn = http.client.HTTPConnection(nsqd.host, nsqd.http_port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def raw_exchange(nsqd, data, timeout=5.0, until_close=False):
    """Sends raw bytes; returns what was read until the first complete response (or, with
    until_close, until the server closes), or until it goes quiet for `timeout`."""
    s = socket.create_connection((nsqd.host, nsqd.http_port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and not until_close:
                head, _, rest = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(rest) >= int(line.split(b":")[1]):
                            return out
        return out
    finally:
        s.close()


def shape(value):
    """The JSON structure without values: dict -> [(key, shape)...] in order, list -> shape of
    the elements (all must agree), scalars -> type name."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        shapes = [shape(v) for v in value]
        return ["list"] + ([shapes[0]] if shapes else [])
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__
