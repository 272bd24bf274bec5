#!/usr/bin/env python3
# acme-b.py - a scripted ACME (RFC 8555) client for the tests of orders,
# built on python joserfc and cryptography: one request per run, so that
# a test sends exactly what it means to, malformed orders included.
#
#   acme-b.py DIRECTORY_URL CA_FILE STATE_DIR COMMAND ...
#
#   account                   make STATE_DIR/key.pem (P-256) and its
#                             account (newAccount); kid in STATE_DIR/kid
#   post URL|NAME [PAYLOAD]   POST PAYLOAD (JSON text; none: POST-as-GET)
#                             to URL, or to the directory's NAME
#                             ("newOrder"), signed with the account (kid)
#   post-jwk KEY URL|NAME PAYLOAD
#                             the same signed by the PEM key KEY with its
#                             "jwk" (revokeCert by the certificate's key)
#   start IP N                N new orders for IP, the http-01 challenge
#                             of each posted {}: a line each, "STATUS
#                             TYPE-OR-STATE RETRY-AFTER STATE-AFTER" (the
#                             challenge's state read again after)
#   der CERT                  the first certificate of PEM file CERT in
#                             base64url DER
#   csr OUT KEY_OUT [--cn CN] NAME...
#                             a new P-256 key (KEY_OUT, PEM) and a CSR
#                             for the names (IPs as IP SANs) in OUT,
#                             base64url DER; KEY_OUT "account": the
#                             account's key
#
# post prints one JSON object: {"status", "location", "links",
# "retry_after", "content_type", "body"} (body parsed when it is JSON).
#
# SPDX-License-Identifier: GPL-3.0-or-later
import base64
import ipaddress
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter

REG = jws.JWSRegistry(header_registry={
    "nonce": HeaderParameter("nonce", "str"),
    "url": HeaderParameter("url", "str")})


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Client:
    def __init__(self, dir_url, cafile, state):
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.state = state
        self.dir = json.loads(self.request("GET", dir_url)[3])

    def request(self, method, url, data=None):
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/jose+json")
        try:
            with urllib.request.urlopen(req, context=self.ctx) as r:
                return r.status, r.headers, r.headers.get("Content-Type"), \
                    r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.headers.get("Content-Type"), e.read()

    def nonce(self):
        st, hdrs, _, _ = self.request("HEAD", self.dir["newNonce"])
        return hdrs["Replay-Nonce"]

    def key(self, path=None):
        with open(path or os.path.join(self.state, "key.pem"), "rb") as f:
            return ECKey.import_key(f.read())

    def post(self, url, payload, use_jwk=False, keyfile=None):
        key = self.key(keyfile)
        hdr = {"alg": "ES256", "nonce": self.nonce(), "url": url}
        if use_jwk:
            hdr["jwk"] = key.as_dict(private=False)
        else:
            with open(os.path.join(self.state, "kid")) as f:
                hdr["kid"] = f.read().strip()
        body = b"" if payload is None else payload.encode()
        jose = jws.serialize_json({"protected": hdr}, body, key,
                                  registry=REG)
        return self.request("POST", url, json.dumps(jose).encode())


def show(resp):
    st, hdrs, ctype, body = resp
    try:
        b = json.loads(body) if ctype and "json" in ctype else body.decode()
    except ValueError:
        b = body.decode(errors="replace")
    print(json.dumps({
        "status": st, "location": hdrs.get("Location"),
        "links": hdrs.get_all("Link") or [],
        "retry_after": hdrs.get("Retry-After"), "content_type": ctype,
        "body": b}))


def make_csr(out, key_out, names, state):
    cn = None
    if names[:1] == ["--cn"]:
        cn, names = names[1], names[2:]
    if key_out == "account":
        with open(os.path.join(state, "key.pem"), "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        with open(key_out, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    sans = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), False)
    csr = b.sign(key, hashes.SHA256())
    with open(out, "w") as f:
        f.write(b64u(csr.public_bytes(serialization.Encoding.DER)))


def main():
    dir_url, cafile, state, cmd = sys.argv[1:5]
    args = sys.argv[5:]
    if cmd == "csr":
        make_csr(args[0], args[1], args[2:], state)
        return 0
    if cmd == "der":
        with open(args[0], "rb") as f:
            crt = x509.load_pem_x509_certificate(f.read())
        print(b64u(crt.public_bytes(serialization.Encoding.DER)))
        return 0
    c = Client(dir_url, cafile, state)
    if cmd == "account":
        key = ec.generate_private_key(ec.SECP256R1())
        with open(os.path.join(state, "key.pem"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        r = c.post(c.dir["newAccount"], '{"termsOfServiceAgreed": true}',
                   use_jwk=True)
        with open(os.path.join(state, "kid"), "w") as f:
            f.write(r[1].get("Location") or "")
        show(r)
        return 0
    if cmd == "post":
        url = args[0] if args[0].startswith("http") else c.dir[args[0]]
        show(c.post(url, args[1] if len(args) > 1 else None))
        return 0
    if cmd == "start":
        for _ in range(int(args[1])):
            o = c.post(c.dir["newOrder"], json.dumps(
                {"identifiers": [{"type": "ip", "value": args[0]}]}))
            authz = json.loads(o[3])["authorizations"][0]
            a = json.loads(c.post(authz, None)[3])
            ch = [x["url"] for x in a["challenges"]
                  if x["type"] == "http-01"][0]
            st, hdrs, _, body = c.post(ch, "{}")
            b = json.loads(body)
            after = json.loads(c.post(ch, None)[3])["status"]
            print(st, b.get("status") if st == 200 else
                  b["type"].rsplit(":", 1)[-1],
                  hdrs.get("Retry-After") or "-", after)
        return 0
    if cmd == "post-jwk":
        url = args[1] if args[1].startswith("http") else c.dir[args[1]]
        show(c.post(url, args[2], use_jwk=True, keyfile=args[0]))
        return 0
    print("acme-b.py: unknown command " + cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
