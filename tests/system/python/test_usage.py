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


# Flags of ours the reference does not have, each documented where it is described (nsqd
# -durable and -max-bytes-per-topic: docs/persistence.md). Taken out of our output before the
# comparison, and required to be there, so the rest still matches byte for byte.
OUR_FLAGS = {"nsqd": ["durable", "max-bytes-per-topic"]}


def without_our_flags(daemon, out):
    for name in OUR_FLAGS.get(daemon, []):
        # "  -name\n    \t<help>\n" (a bool) or "  -name int\n    \t<help>\n".
        start = -1
        for head in (b"  -" + name.encode() + b"\n    \t", b"  -" + name.encode() + b" "):
            start = out.find(head)
            if start >= 0:
                break
        assert start >= 0, "-%s missing from our -h" % name
        end = out.index(b"\n    \t", start)
        end = out.index(b"\n", end + 6) + 1
        out = out[:start] + out[end:]
    return out


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
    got = (got[0], got[1], without_our_flags(daemon, got[2]))
    assert want[2].startswith(b"Usage of " + daemon.encode() + b":\n")
    assert got == want
