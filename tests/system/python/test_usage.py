"""`-h` of each daemon, byte for byte the reference's: same flags, types, help texts and
defaults, on stderr, exit 0. The flags every daemon shares (-config, -version, -log-level,
-log-prefix, -verbose) are registered once (src/common/daemon/daemon_options.cpp); this pins
that the three outputs did not move."""
import os
import subprocess

import pytest

from conftest import NSQD_BIN, NSQD_REF_BIN, NSQLOOKUPD_BIN, REPO

REF_DIR = os.path.dirname(NSQD_REF_BIN)
DAEMONS = {
    "nsqd": (NSQD_BIN, NSQD_REF_BIN),
    "nsqlookupd": (NSQLOOKUPD_BIN, os.path.join(REF_DIR, "nsqlookupd")),
    "nsqadmin": (os.environ.get("NSQADMIN_BIN",
                                os.path.join(REPO, "build", "src", "nsqadmin", "nsqadmin")),
                 os.path.join(REF_DIR, "nsqadmin")),
}


def usage(binary):
    p = subprocess.run([binary, "-h"], capture_output=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("daemon", sorted(DAEMONS))
def test_usage_is_the_reference_usage(daemon):
    ours, ref = DAEMONS[daemon]
    for b in (ours, ref):
        if not os.access(b, os.X_OK):
            pytest.skip("binary not found: %s" % b)
    got, want = usage(ours), usage(ref)
    assert want[2].startswith(b"Usage of " + daemon.encode() + b":\n")
    assert got == want
