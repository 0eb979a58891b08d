"""Crash loop with real go-nsq clients: nsqd is SIGKILLed at random points while four
publishers and two consumers run, then restarted on the same data directory, several times.

With --mem-queue-size=0 --sync-every=1, and with --durable, every acknowledged message must be
delivered after the restarts, no body may come back corrupt, and nsqd must always restart. The
harness is tests/system/go/crashloop (parametrised by the nsqd flags); bench/crash_loop.sh runs
the long version side by side with the reference.
"""

import json
import os
import shutil
import subprocess

import pytest

from conftest import NSQD_BIN, REPO

GO_DIR = os.path.join(REPO, "tests", "system", "go")


@pytest.fixture(scope="module")
def crashloop_bin(tmp_path_factory):
    if shutil.which("go") is None:
        pytest.skip("go is not installed")
    out = str(tmp_path_factory.mktemp("crashloop") / "crashloop")
    subprocess.run(["go", "build", "-o", out, "./crashloop"], cwd=GO_DIR, check=True,
                   timeout=300)
    return out


def run_crash_loop(binary, flags, cycles, tmp_path, seed=1):
    r = subprocess.run([binary, "-nsqd", NSQD_BIN, "-flags", flags, "-cycles", str(cycles),
                        "-min-up", "300ms", "-max-up", "900ms", "-drain", "20s",
                        "-pub-pause", "2ms",
                        "-seed", str(seed), "-work-dir", str(tmp_path)],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def assert_nothing_acknowledged_lost(s):
    assert s["acked"] > 0, s
    assert s["restart_failures"] == 0, s
    assert s["corrupt"] == 0, s
    assert s["lost"] == 0, s


def test_crash_loop_loses_no_acknowledged_message_with_sync_every_1(crashloop_bin, tmp_path):
    if os.path.realpath(NSQD_BIN).endswith("reference-bin/nsqd"):
        pytest.skip("the reference may lose acknowledged messages here (bench/crash_loop.sh)")
    s = run_crash_loop(crashloop_bin, "--mem-queue-size=0 --sync-every=1", 12, tmp_path)
    assert_nothing_acknowledged_lost(s)


def test_crash_loop_loses_no_acknowledged_message_with_durable(crashloop_bin, tmp_path):
    """-durable with the default --mem-queue-size: OK only after the group commit, every
    un-FINed message back from the topic log after each kill (docs/persistence.md)."""
    if os.path.realpath(NSQD_BIN).endswith("reference-bin/nsqd"):
        pytest.skip("the reference has no -durable")
    s = run_crash_loop(crashloop_bin, "--durable", 12, tmp_path)
    assert_nothing_acknowledged_lost(s)
