#!/usr/bin/env python3
# acme-a-hostile.py - hostile ACME requests signed with joserfc, a JOSE
# library nobody here wrote (tests/acme-a.bats). Each request goes over a
# connection of its own (under --inetd: a process of its own), so that
# nonces are spent in processes other than the ones that gave them out.
#
#   acme-a-hostile.py ROOT-PEM (--port PORT | --unix SOCKET) [PROVISIONER]
#
# Prints one line per request: NAME STATUS TYPE (the problem type after
# the RFC 8555 URN, "-" for none), and "nonce" / "no-store" when the
# answer has a Replay-Nonce / Cache-Control: no-store.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import http.client
import json
import socket
import ssl
import sys
import warnings

from joserfc import jws
from joserfc.jwk import ECKey, OctKey, OKPKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

# EdDSA (RFC 8037) is what ACME clients send, deprecated or not.
warnings.filterwarnings("ignore", message=".*EdDSA")

root = sys.argv[1]
mode, where = sys.argv[2], sys.argv[3]
prov = sys.argv[4] if len(sys.argv) > 4 else "acme"
ctx = ssl.create_default_context(cafile=root)

if mode == "--port":
    BASE = f"https://localhost:{where}"
else:
    BASE = "https://localhost"
PFX = f"/acme/{prov}"

REG = JWSRegistry(
    header_registry={"nonce": HeaderParameter("nonce", "str"),
                     "url": HeaderParameter("url", "str")},
    algorithms=["ES256", "EdDSA", "HS256"])


class UnixHTTPS(http.client.HTTPSConnection):
    def __init__(self, path):
        super().__init__("localhost", context=ctx)
        self.unix = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.unix)
        self.sock = self._context.wrap_socket(s, server_hostname="localhost")


def request(method, path, body=None, ctype="application/jose+json"):
    if mode == "--port":
        c = http.client.HTTPSConnection("localhost", int(where), context=ctx)
    else:
        c = UnixHTTPS(where)
    headers = {"Content-Type": ctype} if body is not None else {}
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.headers, data


def nonce():
    _, h, _ = request("HEAD", PFX + "/new-nonce")
    return h["Replay-Nonce"]


def signed(path, payload, key, alg, jwk=True, kid=None, nonce_=None,
           url=None):
    hdr = {"alg": alg, "nonce": nonce_ or nonce(), "url": url or BASE + path}
    if jwk:
        hdr["jwk"] = key.as_dict(private=False)
    if kid is not None:
        hdr["kid"] = kid
    data = b"" if payload is None else json.dumps(payload).encode()
    return jws.serialize_json({"protected": hdr}, data, key, registry=REG)


def show(name, status, headers, data):
    t = "-"
    if headers.get("Content-Type") == "application/problem+json":
        t = json.loads(data)["type"].replace("urn:ietf:params:acme:error:",
                                             "")
    marks = []
    if headers.get("Replay-Nonce"):
        marks.append("nonce")
    if headers.get("Cache-Control") == "no-store":
        marks.append("no-store")
    print(name, status, t, " ".join(marks))
    return status, headers, data


def post(name, path, body, ctype="application/jose+json"):
    return show(name, *request("POST", path, body, ctype))


k = ECKey.generate_key("P-256")
other = OKPKey.generate_key("Ed25519")

# A good account first; its body is replayed below.
good = signed(PFX + "/new-account", {"termsOfServiceAgreed": True}, k,
              "ES256")
_, h, _ = post("new-account", PFX + "/new-account", good)
kid = h["Location"]
post("replayed-nonce", PFX + "/new-account", good)

bad = signed(PFX + "/new-account", {}, k, "ES256")
sig = bad["signature"]
bad["signature"] = ("B" if sig[0] == "A" else "A") + sig[1:]
post("bad-signature", PFX + "/new-account", bad)

post("wrong-url", PFX + "/new-account",
     signed(PFX + "/new-account", {}, k, "ES256",
            url=BASE + PFX + "/new-order"))
post("unknown-nonce", PFX + "/new-account",
     signed(PFX + "/new-account", {}, k, "ES256",
            nonce_="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
post("jwk-and-kid", PFX + "/new-order",
     signed(PFX + "/new-order", {}, k, "ES256", kid=kid))
post("kid-of-another-ca", PFX + "/new-order",
     signed(PFX + "/new-order", {}, k, "ES256", jwk=False,
            kid="https://ca.other.test/acme/acme/account/" + kid[-22:]))
post("kid-unknown-account", PFX + "/new-order",
     signed(PFX + "/new-order", {}, k, "ES256", jwk=False,
            kid=BASE + PFX + "/account/AAAAAAAAAAAAAAAAAAAAAA"))
post("alg-hs256", PFX + "/new-account",
     signed(PFX + "/new-account", {}, OctKey.generate_key(256), "HS256"))
post("body-over-limit", PFX + "/new-account",
     signed(PFX + "/new-account", {"contact": ["mailto:" + "a" * 40000]}, k,
            "ES256"))
post("content-type-json", PFX + "/new-account",
     signed(PFX + "/new-account", {}, k, "ES256"), ctype="application/json")
post("not-json", PFX + "/new-account", "{\"protected\":")

# Another account may not read the first one.
_, h, _ = post("other-account", PFX + "/new-account",
               signed(PFX + "/new-account", {}, other, "EdDSA"))
post("reads-another-account", kid[len(BASE):],
     signed(kid[len(BASE):], None, other, "EdDSA", jwk=False,
            kid=h["Location"]))
# Still serving, the first account still usable.
show("directory", *request("GET", PFX + "/directory"))
post("post-as-get-own-account", kid[len(BASE):],
     signed(kid[len(BASE):], None, k, "ES256", jwk=False, kid=kid))
