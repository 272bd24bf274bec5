#!/usr/bin/env python3
# scep-tool.py - SCEP pkiMessages (RFC 8894 section 3) of any message type,
# for the refusals tests/scep.bats checks: what scepclient and certmonger
# never send (UpdateReq, GetCert, a replayed senderNonce, a wrong
# challenge...). DER written here from the RFC's ASN.1, keys and crypto
# from python cryptography; ca-tools' own parser is not involved.
#
#   scep-tool.py --ra RA.pem [--cn NAME] [--tx ID] [--key KEY.pem
#       --cert CERT.pem] [--key-out K.pem] [--cert-out C.pem]
#       OUT:TYPE[:CHALLENGE[:NONCE-HEX]]...
#
# Writes one pkiMessage of messageType TYPE to each OUT, all signed by one
# key: a new RSA key through a self-signed certificate (PKCSReq style), or
# --key/--cert (RenewalReq); a CSR's key is that key. A request's CSR
# carries CHALLENGE as its challengePassword (none when omitted). The
# envelope is AES-128-CBC to RA.pem.
#
# Copyright (C) 2026 The ca-tools authors.
# SPDX-License-Identifier: GPL-3.0-or-later
import argparse
import datetime
import hashlib
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as apad, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import AttributeOID, NameOID


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def seq(*xs):
    return tlv(0x30, b"".join(xs))


def set_of(*xs):
    return tlv(0x31, b"".join(sorted(xs)))


def oid(s):
    a = [int(x) for x in s.split(".")]
    out = bytes([a[0] * 40 + a[1]])
    for v in a[2:]:
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.insert(0, 0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(enc)
    return tlv(0x06, out)


def integer(i):
    return tlv(0x02, i.to_bytes(i.bit_length() // 8 + 1, "big", signed=True))


NULL = b"\x05\x00"
DATA, SIGNED, ENVELOPED = (
    "1.2.840.113549.1.7.1", "1.2.840.113549.1.7.2", "1.2.840.113549.1.7.3")
RSA, SHA256, AES128 = (
    "1.2.840.113549.1.1.1", "2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.1.2")
SCEP = "2.16.840.1.113733.1.9."


def ias(cert):
    return seq(cert.issuer.public_bytes(), integer(cert.serial_number))


def envelope(content, ra):
    cek, iv = os.urandom(16), os.urandom(16)
    p = padding.PKCS7(128).padder()
    pt = p.update(content) + p.finalize()
    e = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    ct = e.update(pt) + e.finalize()
    ek = ra.public_key().encrypt(cek, apad.PKCS1v15())
    ri = seq(integer(0), ias(ra), seq(oid(RSA), NULL), tlv(0x04, ek))
    eci = seq(oid(DATA), seq(oid(AES128), tlv(0x04, iv)), tlv(0x80, ct))
    return seq(oid(ENVELOPED), tlv(0xA0, seq(integer(0), set_of(ri), eci)))


def attr(o, value):
    return seq(oid(o), set_of(value))


def message(key, cert, ra, out, mtype, challenge, nonce, cn, tx):
    if mtype in (17, 18, 19):
        b = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        if challenge is not None:
            b = b.add_attribute(AttributeOID.CHALLENGE_PASSWORD,
                                challenge.encode())
        content = b.sign(key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER)
    elif mtype == 20:       # CertPoll: IssuerAndSubject
        content = seq(ra.subject.public_bytes(), cert.subject.public_bytes())
    else:                   # GetCert, GetCRL: IssuerAndSerialNumber
        content = ias(cert)
    env = envelope(content, ra)
    nonce = bytes.fromhex(nonce) if nonce else os.urandom(16)
    signed = set_of(
        attr("1.2.840.113549.1.9.3", oid(DATA)),
        attr("1.2.840.113549.1.9.4", tlv(0x04, hashlib.sha256(env).digest())),
        attr(SCEP + "2", tlv(0x13, str(mtype).encode())),
        attr(SCEP + "7", tlv(0x13, tx.encode())),
        attr(SCEP + "5", tlv(0x04, nonce)))
    sig = key.sign(signed, apad.PKCS1v15(), hashes.SHA256())
    # The signature covers the SET OF; the SignerInfo holds it as [0].
    si = seq(integer(1), ias(cert), seq(oid(SHA256)), b"\xA0" + signed[1:],
             seq(oid(RSA), NULL), tlv(0x04, sig))
    sd = seq(integer(1), set_of(seq(oid(SHA256))),
             seq(oid(DATA), tlv(0xA0, tlv(0x04, env))),
             tlv(0xA0, cert.public_bytes(serialization.Encoding.DER)),
             set_of(si))
    with open(out, "wb") as f:
        f.write(seq(oid(SIGNED), tlv(0xA0, sd)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ra", required=True)
    ap.add_argument("--cn", default="scep-tool.test")
    ap.add_argument("--tx", default="scep-tool-tx")
    ap.add_argument("--key")
    ap.add_argument("--cert")
    ap.add_argument("--key-out")
    ap.add_argument("--cert-out")
    ap.add_argument("msgs", nargs="+", metavar="OUT:TYPE[:CHALLENGE[:NONCE]]")
    a = ap.parse_args()

    ra = x509.load_pem_x509_certificate(open(a.ra, "rb").read())
    if a.key:
        key = serialization.load_pem_private_key(open(a.key, "rb").read(), None)
        cert = x509.load_pem_x509_certificate(open(a.cert, "rb").read())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SCEP SIGNER")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(hours=1))
                .sign(key, hashes.SHA256()))
    if a.key_out:
        with open(a.key_out, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    if a.cert_out:
        with open(a.cert_out, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
    for m in a.msgs:
        p = m.split(":")
        p += [None] * (4 - len(p))
        message(key, cert, ra, p[0], int(p[1]), p[2], p[3], a.cn, a.tx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
