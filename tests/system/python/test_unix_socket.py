"""-tcp-address and -http-address as unix socket paths, ours and the reference side by side.

The reference's nsqd listens on a unix socket whenever an address does not split as host:port
(internal/util/unix_socket.go TypeOfAddr); its nsqlookupd and nsqadmin do not and fail with
"missing port in address". Both nsqd serve the protocol and the HTTP API over the sockets,
report port -1 in /info and "@" as a unix client's address, remove the socket files on a clean
stop, and refuse to start over a socket file left behind (without touching nsqd.dat).
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest

import nsqproto
from conftest import NSQD_BIN, NSQD_REF_BIN, NSQLOOKUPD_BIN, NSQLOOKUPD_REF_BIN, REPO

NSQADMIN_BIN = os.path.join(REPO, "build", "src", "nsqadmin", "nsqadmin")
NSQADMIN_REF_BIN = os.path.join(REPO, ".deps", "reference-bin", "nsqadmin")
BINARIES = {"ours": NSQD_BIN, "reference": NSQD_REF_BIN}


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5.0):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def http_unix(path, method, url, body=None):
    c = UnixHTTPConnection(path)
    try:
        c.request(method, url, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_for_socket(path, proc, deadline=15.0):
    end = time.monotonic() + deadline
    while True:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s before listening" % proc.returncode)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(path)
                return
        except OSError:
            if time.monotonic() > end:
                raise TimeoutError("%s not accepting connections" % path)
            time.sleep(0.02)  # poll interval, not synchronisation


def run(binary, args, cwd, timeout=10):
    return subprocess.run([binary] + args, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)


def scenario(binary, tmp_path):
    """Publishes and consumes over the unix sockets; returns what the two daemons must share."""
    if not os.access(binary, os.X_OK):
        pytest.skip("binary not available: %s" % binary)
    tcp_sock, http_sock = str(tmp_path / "nsqd.sock"), str(tmp_path / "http.sock")
    log_path = tmp_path / "nsqd.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([binary, "-tcp-address=" + tcp_sock, "-http-address=" + http_sock,
                                 "-data-path=" + str(tmp_path)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for_socket(tcp_sock, proc)
        wait_for_socket(http_sock, proc)
        status, body = http_unix(http_sock, "GET", "/info")
        assert status == 200
        info = json.loads(body)
        status, body = http_unix(http_sock, "POST", "/pub?topic=ux", b"over http")
        assert (status, body) == (200, b"OK")

        c = nsqproto.Conn(tcp_sock, None)
        try:
            c.identify(client_id="ux-client", hostname="ux-host")
            c.sub("ux", "ch", rdy=10)
            got = [c.expect_message().body]
            with nsqproto.Conn(tcp_sock, None) as producer:
                producer.publish("ux", b"over tcp")
            got.append(c.expect_message().body)
            status, body = http_unix(http_sock, "GET", "/stats?format=json&topic=ux")
            stats = json.loads(body)
            client = stats["topics"][0]["channels"][0]["clients"][0]
        finally:
            c.close()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = log_path.read_text(errors="replace")
    return {
        "ports": (info["tcp_port"], info["http_port"]),
        "messages": got,
        "client": (client["client_id"], client["hostname"], client["remote_address"]),
        "exit": rc,
        "sockets_left": [p for p in (tcp_sock, http_sock) if os.path.exists(p)],
        "listening": ["TCP: listening on " + tcp_sock in log,
                      "HTTP: listening on " + http_sock in log],
        "closing": ["TCP: closing " + tcp_sock in log, "HTTP: closing " + http_sock in log],
        "new client": "TCP: new client(@)" in log,
    }


def side_by_side(run_one, tmp_path):
    """{"ours": run_one(binary, dir), "reference": ...}, each in its own directory."""
    results = {}
    for name, binary in BINARIES.items():
        d = tmp_path / name
        d.mkdir()
        results[name] = run_one(binary, d)
    return results


def test_nsqd_serves_tcp_and_http_over_unix_sockets_as_the_reference(tmp_path):
    results = side_by_side(scenario, tmp_path)
    ours = results["ours"]
    assert ours["ports"] == (-1, -1)
    assert ours["messages"] == [b"over http", b"over tcp"]
    assert ours["client"] == ("ux-client", "ux-host", "@")
    assert ours["exit"] == 0
    assert ours["sockets_left"] == []
    assert ours["listening"] == [True, True]
    assert ours["closing"] == [True, True]
    assert ours["new client"]
    assert ours == results["reference"]


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_a_leftover_socket_file_fails_start_up_and_keeps_nsqd_dat(tmp_path, name):
    binary = BINARIES[name]
    if not os.access(binary, os.X_OK):
        pytest.skip("binary not available: %s" % binary)
    metadata = ('{"topics":[{"channels":[{"name":"c","paused":false}],"name":"kept",'
                '"paused":false}],"version":"1.3.0"}')
    (tmp_path / "nsqd.dat").write_text(metadata)
    stale = str(tmp_path / "stale.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(stale)  # bound, never listening, left behind as after a crash
    r = run(binary, ["-tcp-address=" + stale, "-http-address=127.0.0.1:0",
                     "-data-path=" + str(tmp_path)], tmp_path)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 1, out
    assert ("FATAL: failed to instantiate nsqd - listen (%s) failed - listen unix %s: bind: "
            "address already in use" % (stale, stale)) in out
    assert "closing topics" not in out
    assert (tmp_path / "nsqd.dat").read_text() == metadata

    missing = str(tmp_path / "no-such-dir" / "x.sock")
    r = run(binary, ["-tcp-address=127.0.0.1:0", "-http-address=" + missing,
                     "-data-path=" + str(tmp_path)], tmp_path)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 1, out
    assert ("listen (%s) failed - listen unix %s: bind: no such file or directory"
            % (missing, missing)) in out
    assert (tmp_path / "nsqd.dat").read_text() == metadata


def fatal_line(binary, args, tmp_path):
    if not os.access(binary, os.X_OK):
        pytest.skip("binary not available: %s" % binary)
    out = run(binary, args, tmp_path).stdout.decode(errors="replace")
    fatal = [l.split(" ", 3)[3] for l in out.splitlines() if " FATAL: " in l]
    assert len(fatal) == 1, out
    return fatal[0]


def test_nsqlookupd_and_nsqadmin_refuse_unix_paths_as_the_reference(tmp_path):
    sock = str(tmp_path / "x.sock")
    lookupd = {b: fatal_line(b, ["-tcp-address=" + sock, "-http-address=127.0.0.1:0"], tmp_path)
               for b in (NSQLOOKUPD_BIN, NSQLOOKUPD_REF_BIN)}
    assert len(set(lookupd.values())) == 1, lookupd
    assert "listen tcp: address %s: missing port in address" % sock in lookupd[NSQLOOKUPD_BIN]
    admin = {b: fatal_line(b, ["-http-address=" + sock, "-nsqd-http-address=127.0.0.1:4151"],
                           tmp_path)
             for b in (NSQADMIN_BIN, NSQADMIN_REF_BIN)}
    assert len(set(admin.values())) == 1, admin
    assert not os.path.exists(sock)


def identify_sent_to_lookupd(binary, tmp_path):
    """The IDENTIFY body an nsqd on unix sockets sends to a (fake) nsqlookupd."""
    if not os.access(binary, os.X_OK):
        pytest.skip("binary not available: %s" % binary)
    lookupd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lookupd.bind(("127.0.0.1", 0))
    lookupd.listen(1)
    lookupd.settimeout(10)
    tcp_sock = str(tmp_path / "nsqd.sock")
    proc = subprocess.Popen([binary, "-tcp-address=" + tcp_sock,
                             "-http-address=" + str(tmp_path / "http.sock"),
                             "-data-path=" + str(tmp_path),
                             "-broadcast-address=unix-host",
                             "-lookupd-tcp-address=127.0.0.1:%d" % lookupd.getsockname()[1]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    try:
        conn, _ = lookupd.accept()
        with conn:
            conn.settimeout(10)
            f = conn.makefile("rb")
            assert f.read(4) == b"  V1"
            assert f.readline() == b"IDENTIFY\n"
            size = int.from_bytes(f.read(4), "big")
            return json.loads(f.read(size))
    finally:
        lookupd.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_lookupd_identify_from_unix_sockets_carries_port_0_as_the_reference(tmp_path):
    got = side_by_side(identify_sent_to_lookupd, tmp_path)
    assert (got["ours"]["tcp_port"], got["ours"]["http_port"]) == (0, 0)
    assert got["ours"]["broadcast_address"] == "unix-host"
    assert got["ours"] == got["reference"]
