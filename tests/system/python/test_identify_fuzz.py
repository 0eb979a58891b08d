"""Seeded IDENTIFY body mutation: our nsqd must answer every mutant exactly as the reference.

A few valid IDENTIFY bodies are mutated (bit flips, byte replacements, insertions, deletions,
with bytes chosen to hit JSON syntax and UTF-8 edges); each mutant goes on a fresh connection
to both daemons and the first response frame must match (JSON replies compared parsed, since
key order is not part of the protocol). When a mutant is accepted without compression or TLS
the client also SUBscribes, and the client_id/hostname/user_agent that /stats reports must
match too: that is where the decoder's replacement of invalid UTF-8 becomes visible.

    NSQD_BIN=build/src/nsqd/nsqd NSQD_REF_BIN=.deps/reference-bin/nsqd \
        tests/system/python/run.sh -q tests/system/python/test_identify_fuzz.py
"""

import json
import os
import random

import nsqhttp
import nsqproto

SEED = int(os.environ.get("IDENTIFY_FUZZ_SEED", "16"))
MUTANTS = int(os.environ.get("IDENTIFY_FUZZ_MUTANTS", "300"))

BASES = [
    b'{"client_id":"caf\xc3\xa9","hostname":"h\xe2\x98\x83st.example","user_agent":"ua/1.0 '
    b'\xf0\x9f\x98\x80","feature_negotiation":true,"heartbeat_interval":30000,'
    b'"output_buffer_size":16384,"output_buffer_timeout":250,"sample_rate":0,'
    b'"msg_timeout":60000}',
    b'{"client_id":"c\\u00e9\\ud83d\\ude00","hostname":"host","short_id":"x",'
    b'"long_id":[1,{"a":null,"b":1.5e3}],"user_agent":"pynsq/0.9.1"}',
    b'{"CLIENT_ID":"a","client_id":"b","Hostname":"h","user_agent":"\\"q\\" \xc3\xa9",'
    b'"tls_v1":false,"snappy":false,"deflate":false,"deflate_level":6}',
    b'{"client_id":"x","user_agent":"\xe6\x97\xa5\xe6\x9c\xac","feature_negotiation":false}',
]

# Bytes that sit on the edges of JSON syntax or of UTF-8 validity.
INTERESTING = b'"\\u{}[],:0-9eE.+ \x00\x1f\x7f\x80\xbf\xc0\xc1\xc2\xdf\xe0\xed\xef\xf0\xf4' \
              b'\xf5\xff'


def mutate(rng, body):
    b = bytearray(body)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(5)
        pos = rng.randrange(len(b) + (1 if op == 3 else 0)) if b else 0
        if op == 0 and b:
            b[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[pos] = rng.randrange(256)
        elif op == 2 and b:
            b[pos] = rng.choice(INTERESTING)
        elif op == 3:
            b.insert(pos, rng.choice(INTERESTING) if rng.random() < 0.5 else rng.randrange(256))
        elif b:
            del b[pos]
    return bytes(b)


def mutants():
    rng = random.Random(SEED)
    return [mutate(rng, rng.choice(BASES)) for _ in range(MUTANTS)]


def normalise(frame):
    ftype, data = frame
    try:
        return ftype, json.loads(data)
    except ValueError:
        return ftype, data


def plain_after(frame):
    """Whether the connection stays uncompressed and without TLS after this answer."""
    ftype, data = frame
    if ftype != nsqproto.FRAME_RESPONSE:
        return False
    if data == b"OK":
        return True
    try:
        reply = json.loads(data)
    except ValueError:
        return False
    return not (reply.get("tls_v1") or reply.get("snappy") or reply.get("deflate"))


def answer(nsqd, body, index):
    """First frame for IDENTIFY `body`, and what /stats shows of the client when it stays."""
    with nsqproto.Conn(nsqd.host, nsqd.tcp_port) as c:
        c.send(nsqproto.cmd("IDENTIFY", body=body))
        try:
            first = c.read_frame()
        except nsqproto.Closed:
            return ("closed",), None
        if not plain_after(first):
            return normalise(first), None
        topic = "fuzz%d" % index
        c.send(nsqproto.cmd("SUB", topic, "ch"))
        sub = c.read_frame(skip_heartbeats=True)
        if sub != (nsqproto.FRAME_RESPONSE, b"OK"):
            return normalise(first), ("sub", normalise(sub))
        stats = nsqhttp.request(nsqd, "GET", "/stats?format=json&topic=%s" % topic).json()
        clients = [cl for t in stats["topics"] for ch in t["channels"] for cl in ch["clients"]]
        seen = [(cl["client_id"], cl["hostname"], cl["user_agent"]) for cl in clients]
        return normalise(first), seen


def test_identify_mutants_match_reference(nsqd_factory, ref_nsqd_bin):
    ours = nsqd_factory()
    ref = nsqd_factory(binary=ref_nsqd_bin)
    nsqhttp.wait_http(ours)
    nsqhttp.wait_http(ref)
    diffs = []
    for i, body in enumerate(mutants()):
        got, want = answer(ours, body, i), answer(ref, body, i)
        if got != want:
            diffs.append("%r\n  ours: %r\n  ref:  %r" % (body, got, want))
    assert not diffs, "%d of %d mutants answered differently:\n%s" % (
        len(diffs), MUTANTS, "\n".join(diffs[:20]))
