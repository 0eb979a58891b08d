"""nsqd's HTTPS listener, -tls-required=true over HTTP, AUTH against an HTTPS auth server and
nsqadmin talking HTTPS to nsqd (-http-client-tls-*). Real sockets and clients (urllib with the
test CA, python's ssl module, the daemons themselves); where the reference binaries exist
(NSQD_REF_BIN, .deps/reference-bin/nsqadmin) the same steps run against them and the answers
are compared byte for byte.
"""

import json
import os
import re
import socket
import ssl
import struct
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import nsqproto
from conftest import REPO, free_port, wait_for_port
from test_auth import AuthServer
from test_transport import certs, raw_identify, server_bin, start, tls_args  # noqa: F401

NSQADMIN_BINS = {
    "ours": os.environ.get("NSQADMIN_BIN",
                           os.path.join(REPO, "build", "src", "nsqadmin", "nsqadmin")),
    "ref": os.environ.get("NSQADMIN_REF_BIN",
                          os.path.join(REPO, ".deps", "reference-bin", "nsqadmin")),
}


def https_context(certs, client_cert=False):
    ctx = ssl.create_default_context(cafile=certs["ca"])
    if client_cert:
        ctx.load_cert_chain(certs["client_cert"], certs["client_key"])
    return ctx


def https(nsqd, method, path, ctx, body=None):
    """-> (status, body bytes) of one request to nsqd's HTTPS port."""
    url = "https://127.0.0.1:%d%s" % (nsqd.https_port, path)
    req = urllib.request.Request(url, method=method, data=body)
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw_exchange(host, port, data, wrap=None):
    """Sends `data` on a fresh connection and returns every byte until the server closes."""
    with socket.create_connection((host, port), timeout=5) as s:
        conn = wrap(s) if wrap else s
        conn.sendall(data)
        out = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            out += chunk
        return out


def normalise(raw):
    return re.sub(rb"Date: [^\r]*\r\n", b"Date: X\r\n", raw)


# ---------------------------------------------------------------------------------------
# the HTTPS listener

def test_https_serves_the_http_api(start, certs):
    nsqd = start(*tls_args(certs))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    ctx = https_context(certs)
    assert https(nsqd, "GET", "/ping", ctx) == (200, b"OK")
    status, body = https(nsqd, "GET", "/info", ctx)
    assert status == 200
    info = json.loads(body)
    assert info["http_port"] == nsqd.http_port and info["tcp_port"] == nsqd.tcp_port
    assert "https_port" not in info  # the reference's /info does not name it
    assert https(nsqd, "POST", "/pub?topic=t_https", ctx, b"hello") == (200, b"OK")
    assert https(nsqd, "POST", "/mpub?topic=t_https", ctx, b"a\nb") == (200, b"OK")
    status, body = https(nsqd, "GET", "/stats?format=json&topic=t_https", ctx)
    assert status == 200
    topic = json.loads(body)["topics"][0]
    assert topic["topic_name"] == "t_https" and topic["message_count"] == 3
    # Plain HTTP still answers when TLS is not required.
    with urllib.request.urlopen("http://127.0.0.1:%d/ping" % nsqd.http_port, timeout=5) as r:
        assert r.read() == b"OK"


def test_https_keeps_connections_alive(start, certs):
    nsqd = start(*tls_args(certs))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    import http.client
    c = http.client.HTTPSConnection("127.0.0.1", nsqd.https_port, timeout=5,
                                    context=https_context(certs))
    for _ in range(3):
        c.request("GET", "/ping")
        r = c.getresponse()
        assert (r.status, r.read()) == (200, b"OK")
    c.close()


def test_https_not_served_without_certificate(start):
    nsqd = start()
    with urllib.request.urlopen("http://127.0.0.1:%d/ping" % nsqd.http_port, timeout=5) as r:
        assert r.read() == b"OK"  # started (and its signal handlers are in place)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((nsqd.host, nsqd.https_port), timeout=2).close()


def test_plain_http_on_https_port_gets_400(start, certs):
    nsqd = start(*tls_args(certs))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    out = raw_exchange(nsqd.host, nsqd.https_port, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out == b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"


def test_https_require_verify_needs_client_certificate(start, certs):
    nsqd = start(*tls_args(certs, "--tls-client-auth-policy=require-verify",
                           "--tls-root-ca-file=" + certs["ca"]))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    assert https(nsqd, "GET", "/ping", https_context(certs, client_cert=True)) == (200, b"OK")
    with pytest.raises((ssl.SSLError, ConnectionResetError, urllib.error.URLError)):
        https(nsqd, "GET", "/ping", https_context(certs))


def test_https_require_accepts_any_client_certificate(start, certs, tmp_path):
    # "require" asks for a certificate but does not verify it: a self-signed one passes.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=stranger", "-keyout", "k.pem", "-out", "c.pem"],
                   cwd=tmp_path, check=True, capture_output=True)
    nsqd = start(*tls_args(certs, "--tls-client-auth-policy=require"))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    ctx = https_context(certs)
    ctx.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    assert https(nsqd, "GET", "/ping", ctx) == (200, b"OK")


def test_https_min_version(start, certs):
    nsqd = start(*tls_args(certs, "--tls-min-version=tls1.3"))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    ctx = https_context(certs)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises((ssl.SSLError, ConnectionResetError, urllib.error.URLError)):
        https(nsqd, "GET", "/ping", ctx)
    assert https(nsqd, "GET", "/ping", https_context(certs)) == (200, b"OK")


# ---------------------------------------------------------------------------------------
# -tls-required=true over plain HTTP, against the reference byte for byte

@pytest.mark.parametrize("args", [("--tls-required=true",),
                                  ("--tls-client-auth-policy=require-verify",)])
def test_tls_required_answer_matches_reference(nsqd_factory, ref_nsqd_bin, certs, args):
    extra = tls_args(certs, "--tls-root-ca-file=" + certs["ca"], *args)
    answers = {}
    for name, binary in (("ours", None), ("ref", ref_nsqd_bin)):
        nsqd = nsqd_factory(*extra, binary=binary)
        wait_for_port(nsqd.host, nsqd.http_port, time.monotonic() + 10, nsqd.proc)
        wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
        got = []
        for req in (b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"POST /pub?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                    b"Connection: close\r\n\r\nm",
                    b"GET /nowhere HTTP/1.0\r\n\r\n"):
            raw = raw_exchange(nsqd.host, nsqd.http_port, req)
            port = str(nsqd.https_port).encode()
            assert b'{"message": "TLS_REQUIRED", "https_port": ' + port + b"}" in raw, raw
            got.append(normalise(raw).replace(port, b"PORT"))
        answers[name] = got
        # ... and the same API over HTTPS.
        ctx = https_context(certs, client_cert=True)
        assert https(nsqd, "GET", "/ping", ctx) == (200, b"OK")
        status, body = https(nsqd, "GET", "/config/tls_required", ctx)
        assert (status, body) == (200, b"2")
    assert answers["ours"] == answers["ref"]


# ---------------------------------------------------------------------------------------
# start-up errors: the reference's words

def fatal_line(binary, *args, cwd):
    out = subprocess.run([binary, *args], capture_output=True, timeout=10, cwd=cwd)
    assert out.returncode != 0
    lines = [l for l in (out.stdout + out.stderr).decode().splitlines() if "FATAL" in l]
    assert lines, out
    return lines[-1].split("FATAL: ", 1)[1]


def bad_tls_files(d, certs):
    (d / "garbage.pem").write_text("not a certificate\n")
    return {
        "missing_cert": ("--tls-cert=%s/none.pem" % d, "--tls-key=" + certs["key"]),
        "missing_key": ("--tls-cert=" + certs["cert"], "--tls-key=%s/none.key" % d),
        "garbage_cert": ("--tls-cert=%s/garbage.pem" % d, "--tls-key=" + certs["key"]),
        "garbage_key": ("--tls-cert=" + certs["cert"], "--tls-key=%s/garbage.pem" % d),
        "mismatched_key": ("--tls-cert=" + certs["cert"], "--tls-key=" + certs["client_key"]),
        "missing_ca": tls_args(certs, "--tls-root-ca-file=%s/none.pem" % d),
        "garbage_ca": tls_args(certs, "--tls-root-ca-file=%s/garbage.pem" % d),
        "garbage_ca_no_cert": ("--tls-root-ca-file=%s/garbage.pem" % d,),
    }


@pytest.mark.parametrize("case", [
    "missing_cert", "missing_key", "garbage_cert", "garbage_key", "mismatched_key",
    "missing_ca", "garbage_ca", "garbage_ca_no_cert"])
def test_nsqd_tls_startup_errors_match_reference(tmp_path, ref_nsqd_bin, certs, case):
    args = bad_tls_files(tmp_path, certs)[case]
    common = ("--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
              "--https-address=127.0.0.1:0")
    lines = {}
    for name, binary in (("ours", os.environ.get("NSQD_BIN", os.path.join(
            REPO, "build", "src", "nsqd", "nsqd"))), ("ref", ref_nsqd_bin)):
        d = tmp_path / name
        d.mkdir()
        lines[name] = fatal_line(binary, "--data-path=%s" % d, *common, *args, cwd=d)
    assert lines["ours"] == lines["ref"]
    assert lines["ours"].startswith("failed to instantiate nsqd - failed to build"), lines


# ---------------------------------------------------------------------------------------
# AUTH over HTTPS

@pytest.fixture
def https_auth_server(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["cert"], certs["key"])
    s = AuthServer(ssl_context=ctx)
    yield s
    s.close()


def auth_reply(nsqd, secret):
    s, f, reply = raw_identify(nsqd)
    with s:
        assert reply["auth_required"] is True
        s.sendall(nsqproto.cmd("AUTH", body=secret.encode()))
        size, ftype = struct.unpack(">ii", f.read(8))
        return ftype, f.read(size - 4)


def test_auth_over_https_with_root_ca(start, certs, https_auth_server):
    https_auth_server.grant("s3cret", ("t", [".*"], ["publish"]))
    nsqd = start("--auth-http-address=https://%s/auth" % https_auth_server.address,
                 "--tls-root-ca-file=" + certs["ca"])
    ftype, data = auth_reply(nsqd, "s3cret")
    assert ftype == 0, data
    assert json.loads(data)["identity"] == "alice"
    path, q = https_auth_server.queries[-1]
    assert path == "/auth" and q["secret"] == "s3cret" and q["tls"] == "false"


def test_auth_over_https_unknown_ca_fails(start, https_auth_server):
    # Without -tls-root-ca-file the system's CAs do not know the test CA.
    https_auth_server.grant("s3cret", ("t", [".*"], ["publish"]))
    nsqd = start("--auth-http-address=https://%s/auth" % https_auth_server.address)
    ftype, data = auth_reply(nsqd, "s3cret")
    assert (ftype, data) == (1, b"E_AUTH_FAILED AUTH failed")
    assert https_auth_server.queries == []


def test_auth_full_http_url(start):
    s = AuthServer()
    try:
        s.grant("s3cret", ("t", [".*"], ["publish"]))
        # A full URL is used as given: no /auth appended.
        nsqd = start("--auth-http-address=http://%s/check" % s.address)
        ftype, data = auth_reply(nsqd, "s3cret")
        assert ftype == 0, data
        assert s.queries[-1][0] == "/check"
    finally:
        s.close()


# ---------------------------------------------------------------------------------------
# nsqadmin against an HTTPS-only nsqd

@pytest.fixture(params=sorted(NSQADMIN_BINS))
def nsqadmin_bin(request):
    path = NSQADMIN_BINS[request.param]
    if not os.access(path, os.X_OK):
        pytest.skip("nsqadmin not found: %s" % path)
    return path


@pytest.fixture
def nsqadmin_factory(tmp_path, nsqadmin_bin):
    procs = []

    def run(*args):
        port = free_port()
        log = open(tmp_path / ("nsqadmin%d.log" % len(procs)), "wb")
        p = subprocess.Popen([nsqadmin_bin, "--http-address=127.0.0.1:%d" % port, *args],
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        procs.append(p)
        wait_for_port("127.0.0.1", port, time.monotonic() + 10, p)
        return port

    yield run
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def admin_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def tls_only_nsqd(start, certs, *extra):
    nsqd = start(*tls_args(certs, "--tls-required=true", *extra))
    wait_for_port(nsqd.host, nsqd.https_port, time.monotonic() + 10, nsqd.proc)
    ctx = https_context(certs, client_cert=True)
    assert https(nsqd, "POST", "/topic/create?topic=t_admin", ctx)[0] == 200
    return nsqd


def test_nsqadmin_follows_tls_required_to_https(start, certs, nsqadmin_factory):
    nsqd = tls_only_nsqd(start, certs)
    port = nsqadmin_factory("--nsqd-http-address=127.0.0.1:%d" % nsqd.http_port,
                            "--http-client-tls-root-ca-file=" + certs["ca"])
    status, body = admin_get(port, "/api/topics")
    assert status == 200, body
    assert body["topics"] == ["t_admin"]


def test_nsqadmin_client_certificate(start, certs, nsqadmin_factory):
    nsqd = tls_only_nsqd(start, certs, "--tls-client-auth-policy=require-verify",
                         "--tls-root-ca-file=" + certs["ca"])
    port = nsqadmin_factory("--nsqd-http-address=127.0.0.1:%d" % nsqd.http_port,
                            "--http-client-tls-root-ca-file=" + certs["ca"],
                            "--http-client-tls-cert=" + certs["client_cert"],
                            "--http-client-tls-key=" + certs["client_key"])
    status, body = admin_get(port, "/api/topics")
    assert status == 200, body
    assert body["topics"] == ["t_admin"]


def test_nsqadmin_insecure_skip_verify(start, certs, nsqadmin_factory):
    nsqd = tls_only_nsqd(start, certs)
    port = nsqadmin_factory("--nsqd-http-address=127.0.0.1:%d" % nsqd.http_port,
                            "--http-client-tls-insecure-skip-verify")
    status, body = admin_get(port, "/api/topics")
    assert status == 200, body
    assert body["topics"] == ["t_admin"]


def test_nsqadmin_unknown_ca_is_an_error(start, certs, nsqadmin_factory):
    nsqd = tls_only_nsqd(start, certs)
    port = nsqadmin_factory("--nsqd-http-address=127.0.0.1:%d" % nsqd.http_port)
    status, body = admin_get(port, "/api/topics")
    assert status in (200, 502), body
    assert "certificate signed by unknown authority" in json.dumps(body), body


def test_nsqadmin_tls_startup_errors_match_reference(tmp_path, certs):
    for name, path in NSQADMIN_BINS.items():
        if not os.access(path, os.X_OK):
            pytest.skip("nsqadmin not found: %s" % path)
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    cases = [
        ("--http-client-tls-root-ca-file=%s/none.pem" % tmp_path,),
        ("--http-client-tls-root-ca-file=%s/garbage.pem" % tmp_path,),
        ("--http-client-tls-cert=%s/none.pem" % tmp_path, "--http-client-tls-key=" + certs["key"]),
        ("--http-client-tls-cert=" + certs["cert"], "--http-client-tls-key=" + certs["client_key"]),
        ("--http-client-tls-cert=" + certs["cert"],),
    ]
    for args in cases:
        got = {name: fatal_line(path, "--nsqd-http-address=127.0.0.1:4151",
                                "--http-address=127.0.0.1:0", *args, cwd=tmp_path)
               for name, path in NSQADMIN_BINS.items()}
        assert got["ours"] == got["ref"], args
