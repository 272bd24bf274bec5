#!/usr/bin/env python3
# jwt.py - an independent JOSE peer for the tests, built on python joserfc.
#
#   jwt.py sign KEY CLAIMS_JSON [HEADER_JSON]   print a compact JWS (KEY: a
#        JWK file or an EC PEM key)
#   jwt.py verify CA.json TOKEN_FILE                 verify with the first
#        provisioner's public key in CA.json; print the claims
#   jwt.py decrypt CA.json PASSWORD_FILE             decrypt the first
#        provisioner's encryptedKey; print the private JWK
#
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import sys

from joserfc import jwe, jws
from joserfc.jwk import ECKey, OctKey
from joserfc.registry import HeaderParameter


def sign(keyfile, claims, header=None):
    # A JWK, or a PEM key (a certificate's, for x5c tokens).
    data = open(keyfile).read()
    key = ECKey.import_key(data if data.startswith("-----") else json.loads(data))
    hdr = {"alg": "ES256", "kid": key.thumbprint(), "typ": "JWT"}
    if header:
        hdr.update(json.loads(header))
    payload = claims.encode() if claims.startswith("{") else claims
    # step's renew token carries the chain in a header of its own.
    reg = jws.JWSRegistry(header_registry={
        "x5cInsecure": HeaderParameter("x5c, unchecked", "list[str]")},
        algorithms=[hdr["alg"]])
    print(jws.serialize_compact(hdr, payload, key, registry=reg))


def verify(cafile, tokfile):
    ca = json.load(open(cafile))
    pub = ECKey.import_key(ca["authority"]["provisioners"][0]["key"])
    tok = open(tokfile).read().strip()
    obj = jws.deserialize_compact(tok, pub, algorithms=["ES256"])
    print(json.dumps({"header": obj.protected,
                      "claims": json.loads(obj.payload)}, sort_keys=True))


def decrypt(cafile, pwfile):
    # joserfc refuses p2c above 300000 by default; step-ca writes 600000.
    pbes2 = jwe.JWERegistry.algorithms["alg"]["PBES2-HS256+A128KW"]
    reg = dict(pbes2.more_header_registry)
    reg["p2c"] = HeaderParameter("PBES2 Count", "int", True)
    pbes2.more_header_registry = reg
    ca = json.load(open(cafile))
    enc = ca["authority"]["provisioners"][0]["encryptedKey"]
    pw = open(pwfile, "rb").read().rstrip(b"\n")
    obj = jwe.decrypt_compact(enc, OctKey.import_key(pw),
                              algorithms=["PBES2-HS256+A128KW", "A256GCM"])
    print(json.dumps({"header": obj.protected,
                      "jwk": json.loads(obj.plaintext)}, sort_keys=True))


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")
    cmd, args = sys.argv[1], sys.argv[2:]
    {"sign": sign, "verify": verify, "decrypt": decrypt}[cmd](*args)
