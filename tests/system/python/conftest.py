"""Fixtures: start an nsqd (ours or the reference, via NSQD_BIN) on free ports per test.

    NSQD_BIN=.deps/reference-bin/nsqd tests/system/python/run.sh -q

Extra nsqd flags for one test: @pytest.mark.nsqd_args("--max-rdy-count=50", ...).
Only the TCP port is waited on: the server under test may not have HTTP yet.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)

NSQD_BIN = os.environ.get("NSQD_BIN", os.path.join(REPO, "build", "src", "nsqd", "nsqd"))
# The reference nsqd v1.3.0, for tests that run the same steps against both.
NSQD_REF_BIN = os.environ.get("NSQD_REF_BIN",
                              os.path.join(REPO, ".deps", "reference-bin", "nsqd"))
STARTUP_DEADLINE = 15.0
SHUTDOWN_DEADLINE = 10.0


def pytest_configure(config):
    config.addinivalue_line("markers", "nsqd_args(*args): extra command-line flags for nsqd")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host, port, deadline, proc=None):
    """Poll until host:port accepts TCP connections; raise if proc dies or deadline passes."""
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening" % proc.returncode)
        try:
            with socket.create_connection((host, port), timeout=0.5) as s:
                # A free port is in the ephemeral range, so a connect to it while nothing
                # listens yet can pick that very port as its own and "succeed" (TCP
                # self-connect): that is not a server.
                if s.getsockname() != s.getpeername():
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError("%s:%d not accepting connections" % (host, port))
            time.sleep(0.02)  # poll interval, not synchronisation


def wait_for_daemon_ports(host, ports, proc):
    """Waits until every port of a starting daemon accepts, STARTUP_DEADLINE in all.

    All of them: nsqd and nsqlookupd listen on TCP before they bind HTTP, and a port taken
    meanwhile (any process's outgoing connection can get it as its local port) makes the daemon
    exit after TCP answered; test_disk_faults then met "connection refused" (2 runs in 8 under
    load). The callers retry with new ports.
    """
    deadline = time.monotonic() + STARTUP_DEADLINE
    for port in ports:
        wait_for_port(host, port, deadline, proc)


class Nsqd:
    """One nsqd process owned by a test."""

    def __init__(self, data_path, extra_args=(), binary=None, env=None):
        self.binary = binary or NSQD_BIN
        self.host = "127.0.0.1"
        self.data_path = str(data_path)
        self.env = env  # extra environment variables (e.g. LD_PRELOAD for fault injection)
        self.log_path = os.path.join(self.data_path, "nsqd.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.tcp_port = self.http_port = self.https_port = None

    @property
    def tcp_address(self):
        return "%s:%d" % (self.host, self.tcp_port)

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        if not os.access(self.binary, os.X_OK):
            pytest.fail("nsqd binary not found or not executable: %s (set NSQD_BIN)" % self.binary)
        # A port taken between free_port() and bind() would make startup fail: retry a few times.
        for attempt in range(3):
            self.tcp_port, self.http_port = free_port(), free_port()
            # Served only with a TLS certificate; never the default 0.0.0.0:4152.
            self.https_port = free_port()
            args = [self.binary,
                    "--tcp-address=%s:%d" % (self.host, self.tcp_port),
                    "--http-address=%s:%d" % (self.host, self.http_port),
                    "--https-address=%s:%d" % (self.host, self.https_port),
                    "--data-path=%s" % self.data_path] + self.extra_args
            log = open(self.log_path, "ab")
            env = dict(os.environ, **self.env) if self.env else None
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.data_path, env=env)
            log.close()
            try:
                wait_for_daemon_ports(self.host, (self.tcp_port, self.http_port), self.proc)
                return self
            except (RuntimeError, TimeoutError) as e:
                err = e
                self._kill()
        pytest.fail("nsqd did not start: %s\n%s" % (err, self.log_tail()))

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return "---- nsqd log (tail) ----\n" + "\n".join(lines[-n:])

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def kill9(self):
        """SIGKILL (a crash): nothing is flushed."""
        self._kill()
        self.proc = None

    def stop(self):
        """SIGTERM, SIGKILL after a deadline. Returns a problem description or None."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is not None:
            return "nsqd died unexpectedly during the test (exit status %s)" % rc
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=SHUTDOWN_DEADLINE)
        except subprocess.TimeoutExpired:
            self._kill()
            return "nsqd did not exit within %.0fs of SIGTERM (killed)" % SHUTDOWN_DEADLINE
        if rc == -signal.SIGTERM and self.binary == NSQD_REF_BIN:
            # The reference's go-svc Run() calls signal.Notify only after Start() has opened the
            # listeners, so a SIGTERM in that window kills it with the default action. Its race,
            # not a crash: ours catches the signal before it listens (daemon::ShutdownSignals).
            return None
        if rc != 0:
            # the reference exits 0 on SIGTERM (graceful shutdown); a crash on exit is a bug
            return "nsqd exited with status %s after SIGTERM" % rc
        return None


@pytest.fixture
def nsqd_factory(tmp_path):
    """start(*extra_args) -> Nsqd; every process started is stopped (and checked) at teardown."""
    started = []

    def start(*extra_args, binary=None):
        d = tmp_path / ("nsqd%d" % len(started))
        d.mkdir()
        n = Nsqd(d, extra_args, binary)
        started.append(n)
        return n.start()

    yield start
    problems = []
    for n in started:
        p = n.stop()
        if p:
            problems.append(p + "\n" + n.log_tail())
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture
def ref_nsqd_bin():
    """Path of the reference nsqd; skips the test when it is not available."""
    if not os.access(NSQD_REF_BIN, os.X_OK):
        pytest.skip("reference nsqd not found (set NSQD_REF_BIN): %s" % NSQD_REF_BIN)
    return NSQD_REF_BIN


@pytest.fixture
def nsqd(request, nsqd_factory):
    marker = request.node.get_closest_marker("nsqd_args")
    return nsqd_factory(*(marker.args if marker else ()))


@pytest.fixture
def connect(nsqd):
    """connect(**kw) -> nsqproto.Conn to the test's nsqd; all closed at teardown."""
    import nsqproto
    conns = []

    def make(**kw):
        c = nsqproto.Conn(nsqd.host, nsqd.tcp_port, **kw)
        conns.append(c)
        return c

    yield make
    for c in conns:
        c.close()


# ---- nsqlookupd ---------------------------------------------------------------------------
# NSQLOOKUPD_BIN selects the nsqlookupd under test, NSQLOOKUPD_REF_BIN the reference used by
# comparison and interop tests (NSQD_REF_BIN, above, is the reference nsqd).
NSQLOOKUPD_BIN = os.environ.get("NSQLOOKUPD_BIN",
                                os.path.join(REPO, "build", "src", "nsqlookupd", "nsqlookupd"))
NSQLOOKUPD_REF_BIN = os.environ.get("NSQLOOKUPD_REF_BIN",
                                    os.path.join(REPO, ".deps", "reference-bin", "nsqlookupd"))


class Nsqlookupd:
    """One nsqlookupd process owned by a test; restart() keeps its ports."""

    def __init__(self, log_dir, extra_args=(), binary=None):
        self.binary = binary or NSQLOOKUPD_BIN
        self.host = "127.0.0.1"
        self.log_path = os.path.join(str(log_dir), "nsqlookupd.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.tcp_port = self.http_port = self.https_port = None

    @property
    def tcp_address(self):
        return "%s:%d" % (self.host, self.tcp_port)

    @property
    def http_address(self):
        return "%s:%d" % (self.host, self.http_port)

    def start(self, keep_ports=False):
        if not os.access(self.binary, os.X_OK):
            pytest.fail("nsqlookupd binary not found: %s (set NSQLOOKUPD_BIN)" % self.binary)
        for attempt in range(3):
            if not keep_ports:
                self.tcp_port, self.http_port = free_port(), free_port()
            args = [self.binary, "--tcp-address=%s" % self.tcp_address,
                    "--http-address=%s" % self.http_address,
                    "--broadcast-address=127.0.0.1"] + self.extra_args
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            log.close()
            try:
                wait_for_daemon_ports(self.host, (self.tcp_port, self.http_port), self.proc)
                return self
            except (RuntimeError, TimeoutError) as e:
                err = e
                self.kill()
                if keep_ports:
                    time.sleep(0.2)  # the old socket may linger briefly
        pytest.fail("nsqlookupd did not start: %s\n%s" % (err, self.log_tail()))

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        return "---- nsqlookupd log (tail) ----\n" + "\n".join(lines[-n:])

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is not None:
            return "nsqlookupd died unexpectedly during the test (exit status %s)" % rc
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=SHUTDOWN_DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
            return "nsqlookupd did not exit within %.0fs of SIGTERM" % SHUTDOWN_DEADLINE
        return None if rc == 0 else "nsqlookupd exited with status %s after SIGTERM" % rc

    def get(self, path):
        """GET http://<http_address><path> -> (status, headers, body bytes)."""
        return http_request("GET", "http://%s%s" % (self.http_address, path))

    def post(self, path):
        return http_request("POST", "http://%s%s" % (self.http_address, path))


def http_request(method, url, timeout=5.0):
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def nsqlookupd_factory(tmp_path):
    """start(*extra_args, binary=None) -> Nsqlookupd; all stopped and checked at teardown."""
    started = []

    def start(*extra_args, binary=None):
        d = tmp_path / ("nsqlookupd%d" % len(started))
        d.mkdir()
        n = Nsqlookupd(d, extra_args, binary)
        started.append(n)
        return n.start()

    yield start
    problems = []
    for n in started:
        p = n.stop()
        if p:
            problems.append(p + "\n" + n.log_tail())
    if problems:
        pytest.fail("\n\n".join(problems))
