#!/usr/bin/env python3
# mkcorpus-dns.py - regenerate the seeds of the dns harness
# (tests/fuzz/corpus/dns/): DNS answers as a server sends them, built
# here byte by byte (TXT, A, AAAA, CNAME chains, compression pointers,
# NXDOMAIN, SERVFAIL, an answer for another name).
#
#   tests/fuzz/mkcorpus-dns.py [OUTDIR]
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import shutil
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "corpus", "dns")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)


def name(n):
    b = b""
    for label in n.rstrip(".").split("."):
        b += bytes([len(label)]) + label.encode()
    return b + b"\0"


def rr(owner, rtype, rdata, cls=1):
    o = owner if isinstance(owner, bytes) else name(owner)
    return o + struct.pack(">HHIH", rtype, cls, 60, len(rdata)) + rdata


def msg(qname, qtype, answers, rcode=0, flags=0x8180):
    hdr = struct.pack(">HHHHHH", 0x1234, flags | rcode, 1, len(answers), 0, 0)
    return hdr + name(qname) + struct.pack(">HH", qtype, 1) + b"".join(answers)


def txt(*strings):
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


A, CNAME, TXT, AAAA = 1, 5, 16, 28
chal = "_acme-challenge.d.test"
digest = "Z-awq7sVVWUwWyfH3FR8pbtVLP4qQK5yqi2jX26FPgI"
seeds = {
    "txt": msg(chal, TXT, [rr(chal, TXT, txt(digest))]),
    "txt-split": msg(chal, TXT, [rr(chal, TXT, txt(digest[:20], digest[20:]))]),
    "txt-two": msg(chal, TXT, [rr(chal, TXT, txt("other")), rr(chal, TXT, txt(digest))]),
    # the owner as a pointer to the question (offset 12)
    "txt-pointer": msg(chal, TXT, [rr(b"\xc0\x0c", TXT, txt(digest))]),
    "cname-txt": msg(chal, TXT, [rr(chal, CNAME, name("x.e.test")),
                                 rr("x.e.test", TXT, txt(digest))]),
    "cname-only": msg(chal, TXT, [rr(chal, CNAME, name("x.e.test"))]),
    "cname-loop": msg(chal, TXT, [rr(chal, CNAME, name(chal))]),
    "cname-chain-reversed": msg(chal, TXT, [rr("b.test", TXT, txt(digest)),
                                            rr("a.test", CNAME, name("b.test")),
                                            rr(chal, CNAME, name("a.test"))]),
    "a": msg("d.test", A, [rr("d.test", A, bytes([127, 0, 0, 1]))]),
    "a-two": msg("d.test", A, [rr("d.test", A, bytes([127, 0, 0, 1])),
                               rr("d.test", A, bytes([192, 0, 2, 1]))]),
    "a-bad-length": msg("d.test", A, [rr("d.test", A, bytes([127, 0, 0]))]),
    "aaaa": msg("d.test", AAAA, [rr("d.test", AAAA, bytes(15) + b"\1")]),
    "nodata": msg(chal, TXT, []),
    "nxdomain": msg(chal, TXT, [], rcode=3),
    "servfail": msg(chal, TXT, [], rcode=2),
    "other-name": msg(chal, TXT, [rr("e.test", TXT, txt(digest))]),
    "other-class": msg(chal, TXT, [rr(chal, TXT, txt(digest), cls=3)]),
    "truncated": msg(chal, TXT, [rr(chal, TXT, txt(digest))])[:-10],
}
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
print("dns: %d files" % len(seeds))
