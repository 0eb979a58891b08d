"""A short soak (bench/soak.py, 10 s instead of 10 minutes, to stay within the test command's
time budget): publishers, consumers that FIN, REQ (with and without delay), TOUCH, time out and
disconnect, channel pause/unpause, a scratch topic emptied and deleted, nsqlookupd restarts.
Every acknowledged message must be finished, and RSS and open files must come back to their
post-warm-up level. With NSQD_SANITIZED=1 (scripts/test.sh runs it so against the ASan+UBSan
nsqd) RSS is not compared and nsqd's exit status carries any leak or memory error."""

import json
import os
import subprocess
import sys

from conftest import NSQD_BIN, REPO


def test_soak_accounts_for_every_message_and_returns_resources():
    argv = [sys.executable, os.path.join(REPO, "bench", "soak.py"), "--duration", "10",
            "--seed", "1", "--drain", "30", "--nsqd", NSQD_BIN]
    if os.environ.get("NSQD_SANITIZED") == "1":
        argv.append("--sanitized")
    r = subprocess.run(argv, capture_output=True, timeout=180)
    assert r.stdout, r.stderr.decode()[-2000:]
    s = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert s["acked"] > 0 and s["missing"] == 0, s
    assert s["rss_ok"] and s["fds_ok"], s
    assert s["nsqd_stop"] == "ok", s
    assert r.returncode == 0, s
