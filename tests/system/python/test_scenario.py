"""The user's scenario (producers and consumers through nsqlookupd, as a production user runs them), run with real pynsq processes.

producer -> topic -+-> channel "channel" -> consumer
                   +-> channel "ch"      -> consumer1, consumer2

The scripts below are verbatim copies of the user's; only the address is substituted.
"""

import collections
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO

PRODUCER = '''\
import nsq
import tornado.ioloop
import time


def pub_message():
    writer.pub('topic', time.strftime('%H:%M:%S').encode(), finish_pub)


def finish_pub(conn, data):
    print(conn, data)


writer = nsq.Writer(['127.0.0.1:4150'])
tornado.ioloop.PeriodicCallback(pub_message, 1000).start()
nsq.run()
'''

CONSUMER = '''\
import nsq


def handler(message):
    print(message.body)
    return True


r = nsq.Reader(message_handler=handler, nsqd_tcp_addresses=['127.0.0.1:4150'],
               topic='topic', channel='channel', lookupd_poll_interval=15)
nsq.run()
'''

# consumer1.py and consumer2.py "are the same with channel='ch'"
CONSUMER_CH = CONSUMER.replace("channel='channel'", "channel='ch'")

N_MESSAGES = 6
TIMESTAMP_LINE = re.compile(r"^b'(\d\d:\d\d:\d\d)'$")


def venv_python():
    """The interpreter running pytest is the venv's; the scripts need pynsq from it too."""
    return sys.executable


class Script:
    """A user script run as `python -u script.py`, stdout+stderr captured to a file."""

    def __init__(self, tmp_path, name, source, address):
        self.name = name
        self.path = tmp_path / (name + ".py")
        self.path.write_text(source.replace("127.0.0.1:4150", address))
        self.out_path = tmp_path / (name + ".out")
        out = open(self.out_path, "wb")
        self.proc = subprocess.Popen([venv_python(), "-u", str(self.path)], stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=str(tmp_path))
        out.close()

    def lines(self):
        return self.out_path.read_text(errors="replace").splitlines()

    def stop(self, timeout=5):
        """SIGTERM (nsq.run() stops its loop on it), SIGKILL after a deadline.

        pynsq's handler only flags the tornado loop to stop; the loop notices when its poll
        returns, which for an idle Reader can take until its next timer (up to 15 s), so the
        SIGKILL fallback is normal here and the exit status is not checked."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    return inodes


def has_established_conn(pid, port):
    """True if process `pid` has an ESTABLISHED TCP connection to 127.0.0.1:port."""
    inodes = socket_inodes(pid)
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if state == "01" and inode in inodes and int(remote.split(":")[1], 16) == port:
                return True
    return False


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)  # poll interval


def timestamps(script):
    """Parse a consumer's output: every line must be b'HH:MM:SS'."""
    out = []
    for line in script.lines():
        m = TIMESTAMP_LINE.match(line)
        assert m, "%s printed an unexpected line: %r\n%s" % (
            script.name, line, "\n".join(script.lines()))
        out.append(m.group(1))
    return out


def test_single_nsqd_three_consumers(nsqd, tmp_path):
    addr = nsqd.tcp_address
    scripts = []
    try:
        consumer = Script(tmp_path, "consumer", CONSUMER, addr)
        consumer1 = Script(tmp_path, "consumer1", CONSUMER_CH, addr)
        consumer2 = Script(tmp_path, "consumer2", CONSUMER_CH, addr)
        scripts += [consumer, consumer1, consumer2]
        # The user starts the consumers first; wait until each is connected so that the
        # "ch" consumers both take part from the first message (pynsq sends IDENTIFY, SUB, RDY
        # right after connecting, well within the producer's first 1 s period).
        for s in scripts:
            wait_until(lambda: s.proc.poll() is None and has_established_conn(s.proc.pid,
                                                                               nsqd.tcp_port),
                       15, "%s to connect\n%s" % (s.name, "\n".join(s.lines())))

        producer = Script(tmp_path, "producer", PRODUCER, addr)
        scripts.append(producer)
        ok_line = "%s b'OK'" % addr

        def n_published():
            return sum(1 for line in producer.lines() if line == ok_line)

        wait_until(lambda: n_published() >= N_MESSAGES or producer.proc.poll() is not None,
                   N_MESSAGES + 15, "%d publishes" % N_MESSAGES)
        producer.stop()
        published = producer.lines()
        assert published and all(line == ok_line for line in published), \
            "producer output should be only %r lines:\n%s" % (ok_line, "\n".join(published))
        n = len(published)
        assert n >= N_MESSAGES

        # every message reaches "channel" once, and "ch" once (split between its consumers)
        wait_until(lambda: len(consumer.lines()) >= n, 10,
                   "consumer to print %d timestamps" % n)
        wait_until(lambda: len(consumer1.lines()) + len(consumer2.lines()) >= n, 10,
                   "consumer1+consumer2 to print %d timestamps" % n)
        # a quiet moment so that duplicate deliveries, if any, would show up in the counts
        time.sleep(0.5)
        for s in (consumer, consumer1, consumer2):
            assert s.proc.poll() is None, "%s died (status %s):\n%s" % (
                s.name, s.proc.returncode, "\n".join(s.lines()))
        for s in scripts:
            s.proc.send_signal(signal.SIGTERM)
        for s in scripts:
            s.stop(timeout=2)

        got = timestamps(consumer)
        got1, got2 = timestamps(consumer1), timestamps(consumer2)
        assert len(got) == n, "consumer got %d messages, %d published" % (len(got), n)
        # Timestamps have 1 s resolution, so two publishes may share one: compare multisets.
        all_ts = collections.Counter(got)
        assert collections.Counter(got1) + collections.Counter(got2) == all_ts, \
            "consumer1 %r + consumer2 %r != consumer %r" % (got1, got2, got)
        if len(all_ts) == n:  # the usual case: all distinct, so check disjoint sets directly
            assert not set(got1) & set(got2)
            assert set(got1) | set(got2) == set(got)
        # with max_in_flight=1 both ready consumers of "ch" take turns
        assert got1 and got2, "both ch consumers should get messages: %r / %r" % (got1, got2)
        assert abs(len(got1) - len(got2)) <= 2, \
            "ch consumers should take turns: %r / %r" % (got1, got2)
    finally:
        for s in scripts:
            s.stop()
