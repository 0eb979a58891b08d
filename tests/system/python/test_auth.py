"""AUTH against --auth-http-address, with a tiny in-process HTTP auth server. The same steps run
against our nsqd and the reference (NSQD_REF_BIN), with the same expectations."""

import json
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nsqproto
from test_pynsq import Env, publish, until
from test_transport import clients_of, raw_identify, server_bin, start  # noqa: F401 (fixtures)


class AuthServer:
    """Answers GET /auth?secret=... from `replies` (secret -> (status, JSON body)) and
    records every query. With `ssl_context` it speaks HTTPS."""

    def __init__(self, ssl_context=None):
        self.replies = {}
        self.queries = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query,
                                                                keep_blank_values=True).items()}
                server.queries.append((url.path, q))
                status, body = server.replies.get(q.get("secret"), (403, {"message": "NO"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.address = "127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def grant(self, secret, *grants, ttl=3600, identity="alice", status=200):
        self.replies[secret] = (status, {
            "ttl": ttl, "identity": identity, "identity_url": "https://id.example/" + identity,
            "authorizations": [
                {"topic": t, "channels": list(chs), "permissions": list(perms)}
                for t, chs, perms in grants]})

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def auth_server():
    s = AuthServer()
    yield s
    s.close()


@pytest.fixture
def authd(start, auth_server):
    return start("--auth-http-address=" + auth_server.address)


def auth(conn, secret):
    conn.send(nsqproto.cmd("AUTH", body=secret.encode()))


def test_identify_says_auth_required(authd):
    s, f, reply = raw_identify(authd)
    s.close()
    assert reply["auth_required"] is True


def test_auth_disabled_without_flag(start):
    nsqd = start()
    with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
        auth(c, "secret")
        c.expect_error(b"E_AUTH_DISABLED AUTH disabled")
        c.expect_closed()


@pytest.mark.parametrize("command", [
    nsqproto.cmd("SUB", "t", "c"), nsqproto.pub("t", b"x"), nsqproto.mpub("t", [b"x"])])
def test_commands_need_auth_first(authd, command):
    name = command.split(b" ")[0].decode()
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        c.send(command)
        c.expect_error("E_AUTH_FIRST AUTH required before " + name)
        c.expect_closed()


def test_auth_grants_publish_and_subscribe(authd, auth_server):
    # A publish check matches the empty channel name against the grant's channel regexes
    # (the reference's IsAllowed), so a grant with no channels allows no PUB at all.
    auth_server.grant("s3cret", ("^allowed$", [".*"], ["publish", "subscribe"]),
                      ("^pubonly$", [".*"], ["publish"]), ("^nochannels$", [], ["publish"]))
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "s3cret")
        ftype, data = c.read_frame()
        assert ftype == nsqproto.FRAME_RESPONSE
        assert json.loads(data) == {"identity": "alice",
                                    "identity_url": "https://id.example/alice",
                                    "permission_count": 3}
        c.send(nsqproto.pub("allowed", b"m1"))
        c.expect_response()
        c.send(nsqproto.pub("pubonly", b"m2"))
        c.expect_response()
        c.send(nsqproto.pub("other", b"m3"))
        c.expect_error(b'E_UNAUTHORIZED AUTH failed for PUB on "other" ""')
        c.expect_closed()
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "s3cret")
        c.read_frame()
        c.send(nsqproto.pub("nochannels", b"m4"))
        c.expect_error(b'E_UNAUTHORIZED AUTH failed for PUB on "nochannels" ""')
    path, q = auth_server.queries[0]
    assert path == "/auth"
    assert q == {"secret": "s3cret", "remote_ip": "127.0.0.1", "tls": "false",
                 "common_name": ""}
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "s3cret")
        c.read_frame()
        c.send(nsqproto.cmd("SUB", "pubonly", "ch"))
        c.expect_error(b'E_UNAUTHORIZED AUTH failed for SUB on "pubonly" "ch"')
        c.expect_closed()


def test_auth_rejected_by_server(authd):
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "wrong")  # the auth server answers 403
        c.expect_error(b"E_AUTH_FAILED AUTH failed")
        c.expect_closed()


def test_auth_no_authorizations(authd, auth_server):
    auth_server.grant("empty")
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "empty")
        c.expect_error(b"E_UNAUTHORIZED AUTH no authorizations found")
        c.expect_closed()


def test_auth_invalid_ttl_fails(authd, auth_server):
    auth_server.grant("ttl0", ("t", [".*"], ["publish"]), ttl=0)
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "ttl0")
        c.expect_error(b"E_AUTH_FAILED AUTH failed")
        c.expect_closed()


def test_auth_server_down_fails(start):
    nsqd = start("--auth-http-address=127.0.0.1:1")
    with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
        auth(c, "x")
        c.expect_error(b"E_AUTH_FAILED AUTH failed", timeout=10)


def test_auth_expiry_requeries(authd, auth_server):
    auth_server.grant("short", ("^t$", [".*"], ["publish"]), ttl=1)
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        auth(c, "short")
        c.read_frame()
        c.send(nsqproto.pub("t", b"a"))
        c.expect_response()
        assert len(auth_server.queries) == 1
        time.sleep(1.2)  # let the 1 s TTL run out
        c.send(nsqproto.pub("t", b"b"))
        c.expect_response()
        assert len(auth_server.queries) == 2
        # Revoked on the next expiry: the refresh fails and the client is told AUTH failed.
        del auth_server.replies["short"]
        time.sleep(1.2)
        c.send(nsqproto.pub("t", b"c"))
        c.expect_error(b"E_AUTH_FAILED AUTH failed")
        c.expect_closed()


def test_pynsq_auth_secret_round_trip(authd, auth_server):
    auth_server.grant("py", ("^t_auth$", ["^c$", "^$"], ["publish", "subscribe"]), identity="bob")
    env = Env(authd)
    got = []
    snapshot = []

    def handler(m):
        got.append(m.body)
        return True

    async def body():
        r = env.reader("t_auth", "c", handler, auth_secret="py")
        import nsq
        w = nsq.Writer([env.addr], auth_secret="py")
        env.writers.append(w)
        await until(lambda: w.conns, 5, "writer to connect")
        await env.connected(r)
        for i in range(5):
            await publish(w, "pub", "t_auth", b"m%d" % i)
        await until(lambda: len(got) >= 5, 5, "5 messages")
        snapshot.extend(clients_of(authd, "t_auth"))

    env.run(body)
    assert sorted(got) == [b"m%d" % i for i in range(5)]
    assert len(snapshot) == 1
    c = snapshot[0]
    assert (c["authed"], c["auth_identity"], c["auth_identity_url"]) == (
        True, "bob", "https://id.example/bob")


def test_mpub_auth_checked_before_body(authd):
    # num_messages 0 is an invalid body, but the grant check comes first.
    with nsqproto.Conn(authd.host, authd.tcp_port) as c:
        c.send(b"MPUB t\n" + struct.pack(">ii", 4, 0))
        c.expect_error(b"E_AUTH_FIRST AUTH required before MPUB")
        c.expect_closed()
