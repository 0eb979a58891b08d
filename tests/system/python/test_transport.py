"""Connection features negotiated by IDENTIFY: snappy, deflate, TLS (and tls-required), with
pynsq and with raw frames. Every test runs the same steps against our nsqd and the reference
(NSQD_REF_BIN) and expects the same results.

Certificates are generated per session with the openssl CLI (no keys in the repository).
"""

import asyncio
import errno
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time
import urllib.request

import pytest
import tornado.iostream

import nsq
import nsqproto
from conftest import NSQD_BIN, NSQD_REF_BIN, wait_for_port
from test_pynsq import Env, publish, until

SERVERS = {"ours": NSQD_BIN, "ref": NSQD_REF_BIN}


@pytest.fixture(params=sorted(SERVERS))
def server_bin(request):
    path = SERVERS[request.param]
    if request.param == "ref" and not os.access(path, os.X_OK):
        pytest.skip("reference nsqd not found: %s (set NSQD_REF_BIN)" % path)
    return path


@pytest.fixture
def start(nsqd_factory, server_bin):
    """start(*args) -> Nsqd running server_bin, once its HTTP port is up too (the reference
    dies of a SIGTERM that arrives before it has finished starting)."""
    def run(*args):
        n = nsqd_factory(*args, binary=server_bin)
        wait_for_port(n.host, n.http_port, time.monotonic() + 10, n.proc)
        return n
    return run


@pytest.fixture(autouse=True)
def pynsq_compression_workaround(monkeypatch):
    """pynsq's snappy/deflate sockets say "partial frame" with socket.error(EWOULDBLOCK),
    which tornado >= 6.1 treats as a fatal read error: map exactly that
    error back to "would block"."""
    for cls in (tornado.iostream.IOStream, tornado.iostream.SSLIOStream):
        original = cls.read_from_fd

        def read_from_fd(self, buf, _original=original):
            try:
                return _original(self, buf)
            except OSError as e:
                if e.args == (errno.EWOULDBLOCK,):
                    return None
                raise

        monkeypatch.setattr(cls, "read_from_fd", read_from_fd)


# ---------------------------------------------------------------------------------------
# certificates

def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, both CA-signed."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    d = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=nsq-test-ca", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % name,
                 "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", name + ".pem",
                 cwd=d)
    return {k: str(d / v) for k, v in {
        "ca": "ca.pem", "cert": "server.pem", "key": "server.key",
        "client_cert": "client.pem", "client_key": "client.key"}.items()}


def tls_args(certs, *extra):
    return ("--tls-cert=" + certs["cert"], "--tls-key=" + certs["key"]) + extra


def client_tls_options(certs, with_client_cert=False):
    opts = {"ca_certs": certs["ca"], "cert_reqs": ssl.CERT_REQUIRED}
    if with_client_cert:
        opts.update(certfile=certs["client_cert"], keyfile=certs["client_key"])
    return opts


# ---------------------------------------------------------------------------------------
# helpers

def stats(nsqd):
    url = "http://%s:%d/stats?format=json" % (nsqd.host, nsqd.http_port)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def clients_of(nsqd, topic):
    for t in stats(nsqd).get("topics") or []:
        if t["topic_name"] == topic:
            return [c for ch in t["channels"] for c in ch["clients"]]
    return []


def round_trip(nsqd, topic, n=20, size=3000, **conn_kw):
    """pynsq Writer + Reader with the same connection options: publish n messages (PUB and
    MPUB, compressible and not) and check each arrives once. Returns the /stats client
    entries captured while the reader was connected."""
    env = Env(nsqd)
    got = []
    snapshot = []
    payloads = [(b"%d-" % i) + (b"x" * size if i % 2 else os.urandom(size)) for i in range(n)]

    def handler(m):
        got.append(m.body)
        return True

    async def body():
        r = env.reader(topic, "c", handler, **conn_kw)
        w = nsq.Writer([env.addr], **conn_kw)
        env.writers.append(w)
        await until(lambda: w.conns, 5, "writer to connect")
        await env.connected(r)
        half = n // 2
        for p in payloads[:half]:
            await publish(w, "pub", topic, p)
        await publish(w, "mpub", topic, payloads[half:])
        await until(lambda: len(got) >= n, 10, "%d messages" % n)
        snapshot.extend(clients_of(nsqd, topic))

    env.run(body)
    assert sorted(got) == sorted(payloads)
    assert not env.errors.protocol_errors(), env.errors.records
    return snapshot


def read_frame(sock_file):
    size, ftype = struct.unpack(">ii", sock_file.read(8))
    return ftype, sock_file.read(size - 4)


def raw_identify(nsqd, **features):
    """Plain TCP: magic + IDENTIFY with feature_negotiation; returns (socket, reply JSON)."""
    s = socket.create_connection((nsqd.host, nsqd.tcp_port), timeout=5)
    body = json.dumps(dict(feature_negotiation=True, client_id="raw", **features)).encode()
    s.sendall(b"  V2" + nsqproto.cmd("IDENTIFY", body=body))
    f = s.makefile("rb")
    ftype, data = read_frame(f)
    assert ftype == 0, data
    return s, f, json.loads(data)


# ---------------------------------------------------------------------------------------
# snappy


def test_snappy_pynsq_round_trip(start):
    nsqd = start("--snappy")
    clients = round_trip(nsqd, "t_snappy", snappy=True)
    assert clients and all(c["snappy"] and not c["deflate"] for c in clients), clients


def test_snappy_raw_stream_starts_with_identifier_then_ok(start):
    import snappy
    nsqd = start()  # --snappy defaults to true
    s, f, reply = raw_identify(nsqd, snappy=True)
    with s:
        assert reply["snappy"] is True and reply["deflate"] is False
        # The next bytes are the snappy framing format: stream identifier chunk first.
        ident = f.read(10)
        assert ident == b"\xff\x06\x00\x00sNaPpY"
        dec = snappy.StreamDecompressor()
        dec.decompress(ident)
        plain = b""
        deadline = time.monotonic() + 5
        while len(plain) < 10 and time.monotonic() < deadline:
            plain += dec.decompress(f.read1(65536))
        assert plain == struct.pack(">ii", 6, 0) + b"OK"
        # Commands are compressed too: NOP then a bad command gives a compressed error.
        s.sendall(snappy.StreamCompressor().compress(b"NOP\nBOGUS\n"))
        plain = b""
        while len(plain) < 8 or len(plain) < 4 + struct.unpack(">i", plain[:4])[0]:
            data = f.read1(65536)
            assert data, "connection closed before the error frame"
            plain += dec.decompress(data)
        assert plain[8:] == b"E_INVALID invalid command BOGUS"


def test_snappy_disabled_by_flag(start):
    nsqd = start("--snappy=false")
    s, f, reply = raw_identify(nsqd, snappy=True)
    with s:
        assert reply["snappy"] is False
        s.sendall(nsqproto.cmd("NOP") + b"BOGUS\n")  # still plain
        ftype, data = read_frame(f)
        assert (ftype, data) == (1, b"E_INVALID invalid command BOGUS")


def test_snappy_and_deflate_together_refused(start):
    nsqd = start()
    s = socket.create_connection((nsqd.host, nsqd.tcp_port), timeout=5)
    with s:
        body = json.dumps({"feature_negotiation": True, "snappy": True, "deflate": True})
        s.sendall(b"  V2" + nsqproto.cmd("IDENTIFY", body=body.encode()))
        ftype, data = read_frame(s.makefile("rb"))
        assert (ftype, data) == (
            1, b"E_IDENTIFY_FAILED cannot enable both deflate and snappy compression")


# ---------------------------------------------------------------------------------------
# deflate


@pytest.mark.parametrize("level", [1, 6, 9])
def test_deflate_pynsq_round_trip(start, level):
    nsqd = start("--deflate", "--max-deflate-level=9")
    clients = round_trip(nsqd, "t_deflate", deflate=True, deflate_level=level)
    assert clients and all(c["deflate"] and not c["snappy"] for c in clients), clients


def test_deflate_level_capped_by_server(start):
    import zlib
    nsqd = start("--max-deflate-level=3")
    s, f, reply = raw_identify(nsqd, deflate=True, deflate_level=8)
    with s:
        assert (reply["deflate"], reply["deflate_level"], reply["max_deflate_level"]) == (
            True, 3, 3)
        inflater = zlib.decompressobj(-15)
        plain = b""
        deadline = time.monotonic() + 5
        while len(plain) < 10 and time.monotonic() < deadline:
            plain += inflater.decompress(f.read1(65536))
        assert plain == struct.pack(">ii", 6, 0) + b"OK"
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        s.sendall(deflater.compress(b"BOGUS\n") + deflater.flush(zlib.Z_SYNC_FLUSH))
        plain = b""
        while len(plain) < 8 or len(plain) < 4 + struct.unpack(">i", plain[:4])[0]:
            data = f.read1(65536)
            assert data, "connection closed before the error frame"
            plain += inflater.decompress(data)
        assert plain[8:] == b"E_INVALID invalid command BOGUS"


def test_deflate_disabled_by_flag(start):
    nsqd = start("--deflate=false")
    s, f, reply = raw_identify(nsqd, deflate=True)
    with s:
        assert reply["deflate"] is False


# ---------------------------------------------------------------------------------------
# TLS


def test_tls_not_offered_without_cert(start):
    nsqd = start()
    s, f, reply = raw_identify(nsqd, tls_v1=True)
    with s:
        assert reply["tls_v1"] is False


def test_tls_pynsq_round_trip(start, certs):
    nsqd = start(*tls_args(certs))
    clients = round_trip(nsqd, "t_tls", tls_v1=True, tls_options=client_tls_options(certs))
    assert clients and all(c["tls"] for c in clients), clients
    # pynsq pins TLS 1.2; the reference names the version "TLS1.2" and picks AES-128-GCM.
    assert {(c["tls_version"], c["tls_cipher_suite"], c["tls_negotiated_protocol"],
             c["tls_negotiated_protocol_is_mutual"]) for c in clients} == {
        ("TLS1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "", True)}


@pytest.mark.parametrize("compression", ["snappy", "deflate"])
def test_tls_with_compression_round_trip(start, certs, compression):
    nsqd = start(*tls_args(certs))
    clients = round_trip(nsqd, "t_tls_" + compression, tls_v1=True,
                         tls_options=client_tls_options(certs), **{compression: True})
    assert clients and all(c["tls"] and c[compression] for c in clients), clients


def test_tls_raw_upgrade_then_ok_over_tls(start, certs):
    nsqd = start(*tls_args(certs))
    s, f, reply = raw_identify(nsqd, tls_v1=True)
    with s:
        assert reply["tls_v1"] is True
        ctx = ssl.create_default_context(cafile=certs["ca"])
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as tls:
            tf = tls.makefile("rb")
            assert read_frame(tf) == (0, b"OK")
            tls.sendall(b"BOGUS\n")
            assert read_frame(tf) == (1, b"E_INVALID invalid command BOGUS")


def test_tls_required_refuses_plain_commands(start, certs):
    nsqd = start(*tls_args(certs, "--tls-required=tcp-https"))
    with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
        c.send(nsqproto.cmd("SUB", "t", "c"))
        c.expect_error(b"E_INVALID cannot SUB in current state (TLS required)")
        c.expect_closed()
    # Over TLS the same client may subscribe.
    clients = round_trip(nsqd, "t_tls_required", tls_v1=True,
                         tls_options=client_tls_options(certs))
    assert clients and all(c["tls"] for c in clients)


def test_tls_require_verify_needs_client_certificate(start, certs):
    nsqd = start(*tls_args(certs, "--tls-root-ca-file=" + certs["ca"],
                                  "--tls-client-auth-policy=require-verify",
                                  "--tls-required=tcp-https"))
    clients = round_trip(nsqd, "t_mtls", tls_v1=True,
                         tls_options=client_tls_options(certs, with_client_cert=True))
    assert clients and all(c["tls"] for c in clients)
    # Without a client certificate the handshake (or the first read after it) fails.
    s, f, reply = raw_identify(nsqd, tls_v1=True)
    with s:
        ctx = ssl.create_default_context(cafile=certs["ca"])
        with pytest.raises((ssl.SSLError, ConnectionError, struct.error)):
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as tls:
                read_frame(tls.makefile("rb"))


@pytest.mark.parametrize("args, message", [
    (("--tls-required=true",), "cannot require TLS client connections without TLS key and cert"),
    (("--tls-cert=/nonexistent.pem", "--tls-key=/nonexistent.key"),
     "failed to build TLS config"),
])
def test_tls_startup_errors(tmp_path, server_bin, args, message):
    out = subprocess.run([server_bin, "--data-path=%s" % tmp_path, "--tcp-address=127.0.0.1:0",
                          "--http-address=127.0.0.1:0", *args],
                         capture_output=True, timeout=10)
    assert out.returncode != 0
    assert message in (out.stdout + out.stderr).decode(), out


def test_tls_handshake_deadline(start, certs):
    # A client that asks for TLS and never starts the handshake is dropped after ~5 s.
    nsqd = start(*tls_args(certs))
    s, f, reply = raw_identify(nsqd, tls_v1=True)
    with s:
        assert reply["tls_v1"] is True
        s.settimeout(15)
        t0 = time.monotonic()
        # The failure comes as a plain error frame naming the timed-out read, then EOF.
        ftype, data = read_frame(f)
        assert 4 <= time.monotonic() - t0 < 10
        assert ftype == 1
        local, remote = "%s:%d" % s.getpeername(), "%s:%d" % s.getsockname()
        assert data == ("E_IDENTIFY_FAILED IDENTIFY failed read tcp %s->%s: i/o timeout" % (
            local, remote)).encode()
        assert f.read(1) == b""


def test_deflate_highly_compressible_mpub(start):
    # ~4.5 MB of zeros in one MPUB inflates far beyond one read: decoding happens in bounded
    # steps and every message still arrives intact.
    import zlib
    nsqd = start("--max-deflate-level=9")
    s, f, reply = raw_identify(nsqd, deflate=True, deflate_level=9)
    with s:
        assert reply["deflate"] is True
        inflater = zlib.decompressobj(-15)
        plain = b""
        while len(plain) < 10:
            plain += inflater.decompress(f.read1(65536))
        assert plain == struct.pack(">ii", 6, 0) + b"OK"
        bodies = [bytes(900_000) for _ in range(5)]
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
        s.sendall(deflater.compress(nsqproto.mpub("t_bomb", bodies)) +
                  deflater.flush(zlib.Z_SYNC_FLUSH))
        plain = b""
        while len(plain) < 10:
            data = f.read1(65536)
            assert data, "closed"
            plain += inflater.decompress(data)
        assert plain == struct.pack(">ii", 6, 0) + b"OK"
    t = [t for t in stats(nsqd)["topics"] if t["topic_name"] == "t_bomb"][0]
    assert t["message_count"] == 5


def topic_names(nsqd):
    return [t["topic_name"] for t in stats(nsqd)["topics"]]


def test_tls_unknown_ca_fails_without_plain_text_fallback(start, certs):
    """A client that does not trust nsqd's certificate fails the handshake; commands sent in
    plain text after asking for TLS are never served (ours and the reference alike)."""
    nsqd = start(*tls_args(certs))
    s, f, reply = raw_identify(nsqd, tls_v1=True)
    with s:
        assert reply["tls_v1"] is True
        ctx = ssl.create_default_context()  # the system's CAs: not the test CA
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            ctx.wrap_socket(s, server_hostname="127.0.0.1")
    # pynsq with the wrong CA: its connection fails, nothing is published.
    env = Env(nsqd)
    wrong_ca = {"ca_certs": certs["client_cert"], "cert_reqs": ssl.CERT_REQUIRED}

    async def body():
        w = nsq.Writer([env.addr], tls_v1=True, tls_options=wrong_ca)
        env.writers.append(w)
        await asyncio.sleep(1.0)  # pynsq retries in the background; it must never connect
        assert not w.conns

    env.run(body)
    # Plain commands after the TLS upgrade was agreed: refused, never executed.
    s, f, reply = raw_identify(nsqd, tls_v1=True)
    with s:
        s.sendall(nsqproto.pub("t_plain_after_tls", b"x"))
        try:
            data = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert b"OK" not in data, data
    assert "t_plain_after_tls" not in topic_names(nsqd)
