#!/usr/bin/env python3
# serve-tool.py - the Python half of bench/serve.sh (needs python3 with
# joserfc and cryptography, as tests/jwt.py does).
#
#   serve-tool.py ca-bodies PROVKEY.json ROOT.crt ISS AUD COUNT TAG OUT
#       COUNT /sign bodies, one JSON object a line: a CSR for
#       TAG-NNNNNN.bench and a token for it (ES256 with the provisioner's
#       key, joserfc; claims as tests/helpers.bash `claims`, 1 h life).
#   serve-tool.py x5c-bodies LEAF.key CHAIN.pem ROOT.crt ISS AUD COUNT TAG OUT
#       the same for an X5C provisioner ISS: signed by the x5c leaf's key,
#       CHAIN (PEM, leaf first) in the x5c header, audience AUD#x5c/ISS.
#   serve-tool.py k8s-bodies SA.key AUD COUNT TAG OUT
#       the same for a K8sSA provisioner: projected service-account tokens
#       (kubernetes.io claims, jti) signed by the cluster key SA.key.
#   serve-tool.py cfssl-bodies auth|plain AUTHKEY-HEX-FILE COUNT TAG OUT
#       the same CSRs as cfssl requests: plain for /api/v1/cfssl/sign, or
#       wrapped for /api/v1/cfssl/authsign (HMAC-SHA256, the "standard"
#       auth provider).
#   serve-tool.py client TARGET ROOT.crt BODIES CONC PATH
#       POST every line of BODIES to PATH, CONC requests at a time,
#       trusting only ROOT.crt (host name localhost). TARGET unix:SOCK: a
#       new TLS connection per request over the Unix socket SOCK;
#       TARGET HOST:PORT: CONC HTTPS keep-alive connections. BODIES "-":
#       GET PATH $COUNT times. $SAVE: a directory where each 201's crt
#       and ca go (I.crt, I.ca). Prints
#       CLIENT requests=N seconds=S p50_ms=X p99_ms=Y max_ms=Z codes=201:N,...
#       errors=N
#   serve-tool.py callgrind CALLGRIND.OUT CERTS
#       instructions per certificate, grouped by what they pay for
#   serve-tool.py ecdsa-speed
#       native cost of one ECDSA P-256 signature and one verification with
#       the system's GnuTLS (through ctypes): callgrind's instruction counts
#       come from valgrind's CPU model, which takes other code paths in
#       nettle and GMP than the real CPU does
#
# SPDX-License-Identifier: GPL-3.0-or-later
import collections
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time


def csrs(tag, count):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    # One key for all (key generation is not what is measured); each CSR
    # has its own name and signature.
    key = ec.generate_private_key(ec.SECP256R1())
    for i in range(count):
        name = "%s-%06d.bench" % (tag, i)
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                              critical=False)
               .sign(key, hashes.SHA256()))
        yield name, csr.public_bytes(serialization.Encoding.PEM).decode()


def root_sha256(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    import hashlib

    crt = x509.load_pem_x509_certificate(open(path, "rb").read())
    return hashlib.sha256(crt.public_bytes(serialization.Encoding.DER)).hexdigest()


def token_bodies(key, hdr, claims_of, count, tag, out):
    # COUNT bodies: a CSR and a token with claims_of(name, now), ES256.
    from joserfc import jws

    now = int(time.time())
    with open(out, "w") as f:
        for name, csr in csrs(tag, int(count)):
            tok = jws.serialize_compact(hdr, json.dumps(claims_of(name, now)).encode(),
                                        key, algorithms=["ES256"])
            f.write(json.dumps({"csr": csr, "ott": tok}) + "\n")


def ca_bodies(provkey, root, iss, aud, count, tag, out):
    from joserfc.jwk import ECKey

    key = ECKey.import_key(json.load(open(provkey)))
    sha = root_sha256(root)
    token_bodies(key, {"alg": "ES256", "kid": key.thumbprint(), "typ": "JWT"},
                 lambda name, now: {
                     "aud": aud, "iss": iss, "sub": name, "sans": [name],
                     "jti": secrets.token_hex(32), "iat": now, "nbf": now,
                     "exp": now + 3600, "sha": sha}, count, tag, out)


def x5c_bodies(leafkey, chain, root, iss, aud, count, tag, out):
    # X5C: as ca-bodies, signed by the x5c leaf's key (PEM), the chain
    # (PEM, leaf first) in the header, aud AUD#x5c/ISS.
    import base64
    from joserfc.jwk import ECKey

    key = ECKey.import_key(open(leafkey).read())
    x5c = [base64.b64encode(ssl.PEM_cert_to_DER_cert(c + "-----END CERTIFICATE-----\n")).decode()
           for c in open(chain).read().split("-----END CERTIFICATE-----")[:-1]]
    sha = root_sha256(root)
    token_bodies(key, {"alg": "ES256", "typ": "JWT", "x5c": x5c},
                 lambda name, now: {
                     "aud": aud + "#x5c/" + iss, "iss": iss, "sub": name,
                     "sans": [name], "jti": secrets.token_hex(32), "iat": now,
                     "nbf": now, "exp": now + 3600, "sha": sha},
                 count, tag, out)


def k8s_bodies(sakey, aud, count, tag, out):
    # K8sSA: projected service-account tokens (the kubelet's claims) signed
    # by the cluster key SAKEY (EC P-256 PEM) for audience AUD.
    from joserfc.jwk import ECKey

    key = ECKey.import_key(open(sakey).read())
    sa = {"name": "bench", "uid": "8b1c3f4e-2a5d-4e6f-9a0b-1c2d3e4f5a6b"}
    token_bodies(key, {"alg": "ES256", "kid": key.thumbprint(), "typ": "JWT"},
                 lambda name, now: {
                     "aud": [aud], "exp": now + 3600, "iat": now, "nbf": now,
                     "iss": "https://kubernetes.default.svc.cluster.local",
                     "jti": secrets.token_hex(16),
                     "kubernetes.io": {"namespace": "default", "serviceaccount": sa},
                     "sub": "system:serviceaccount:default:bench"},
                 count, tag, out)


def cfssl_bodies(mode, keyfile, count, tag, out):
    import base64
    import hashlib
    import hmac

    key = bytes.fromhex(open(keyfile).read().strip())
    with open(out, "w") as f:
        for name, csr in csrs(tag, int(count)):
            req = json.dumps({"certificate_request": csr, "hosts": [name]})
            if mode == "auth":
                raw = req.encode()
                tok = hmac.new(key, raw, hashlib.sha256).digest()
                req = json.dumps({"token": base64.b64encode(tok).decode(),
                                  "request": base64.b64encode(raw).decode()})
            f.write(req + "\n")


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def client(target, root, bodies, conc, path):
    """target: unix:SOCK (a TLS connection per request, Connection: close)
    or HOST:PORT (HTTPS keep-alive, one connection per thread)."""
    import http.client

    if bodies == "-":
        work = [None] * int(os.environ.get("COUNT", "100"))
    else:
        work = open(bodies).read().splitlines()
    save = os.environ.get("SAVE")
    ctx = ssl.create_default_context(cafile=root)
    lock = threading.Lock()
    nxt = [0]
    lat, codes, errs = [], collections.Counter(), []

    def one_unix(body):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(target[5:])
        c = ctx.wrap_socket(s, server_hostname="localhost")
        if body is None:
            req = ("GET %s HTTP/1.1\r\nHost: localhost\r\n"
                   "Connection: close\r\n\r\n" % path).encode()
        else:
            b = body.encode()
            req = ("POST %s HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Type: application/json\r\nConnection: close\r\n"
                   "Content-Length: %d\r\n\r\n" % (path, len(b))).encode() + b
        c.sendall(req)
        data = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
        c.close()
        head, _, payload = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), payload

    conns = threading.local()

    def one_tcp(body):
        c = getattr(conns, "c", None)
        if c is None:
            host, port = target.rsplit(":", 1)
            c = conns.c = http.client.HTTPSConnection(
                host, int(port), context=ctx, timeout=60)
        if body is None:
            c.request("GET", path)
        else:
            c.request("POST", path, body=body.encode(),
                      headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()

    one = one_unix if target.startswith("unix:") else one_tcp

    def worker():
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(work):
                return
            t0 = time.perf_counter()
            try:
                code, payload = one(work[i])
            except Exception as e:  # reported, not fatal: a benchmark
                conns.c = None
                with lock:
                    errs.append(repr(e))
                continue
            t1 = time.perf_counter()
            with lock:
                lat.append(t1 - t0)
                codes[code] += 1
            if save and code == 201:
                d = json.loads(payload)
                with open(os.path.join(save, "%d.crt" % i), "w") as f:
                    f.write(d["crt"])
                with open(os.path.join(save, "%d.ca" % i), "w") as f:
                    f.write(d["ca"])

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(int(conc))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.perf_counter() - t0
    lat.sort()
    print("CLIENT requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
          "codes=%s errors=%d" % (
              len(lat), el, pct(lat, 50) * 1000, pct(lat, 99) * 1000,
              (lat[-1] if lat else 0) * 1000,
              ",".join("%d:%d" % kv for kv in sorted(codes.items())) or "none",
              len(errs)))
    for e in errs[:3]:
        print("CLIENT-ERROR %s" % e)


# What each group of inclusive costs pays for, by function name. The
# groups overlap (signing includes its hashing, a TLS record its AES), so
# they are read one by one, not summed.
GROUPS = [
    ("whole server, all threads", r"^(PROGRAM TOTALS)$"),
    ("HTTP handler (ca_http_handle)", r"^ca_http_handle$"),
    ("  sign (ca_authority_sign)", r"^ca_authority_sign$"),
    ("    token check (ca_token_verify)", r"^ca_token_verify$"),
    ("      of which JWS ES256 check (ca_jws_verify)", r"^ca_jws_verify$"),
    ("    CSR parse + self-signature (ca_csr_import)", r"^ca_csr_import$"),
    ("    CSR names vs token (ca_csr_check_names)", r"^ca_csr_check_names$"),
    ("    issue: build + sign (ca_x509_issue)", r"^ca_x509_issue$"),
    ("    record (ca_store_begin/commit, ca_db_add_issuance)",
     r"^(ca_store_begin|ca_store_commit|ca_db_add_issuance)$"),
    ("      of which GDBM (gdbm_*)", r"^gdbm_(open|close|store|fetch|delete|sync|exists)$"),
    ("  JSON (ca_json_parse, ca_json_dump)", r"^(ca_json_parse|ca_json_dump)$"),
    ("ECDSA P-256 verify (nettle_ecdsa_verify, all callers)", r"^nettle_ecdsa_verify$"),
    ("ECDSA P-256 sign (nettle_ecdsa_sign, all callers)", r"^nettle_ecdsa_sign$"),
    ("TLS handshakes (gnutls_handshake)", r"^gnutls_handshake$"),
    ("TLS records (gnutls_record_send2, gnutls_record_recv)",
     r"^(gnutls_record_send2|gnutls_record_recv)$"),
    ("  of which AES-GCM", r"^(aes_gcm_encrypt|aes_gcm_decrypt|nettle_gcm_encrypt|nettle_gcm_decrypt)$"),
    ("malloc/calloc/realloc/free", r"^(malloc|free|calloc|realloc)$"),
]


def callgrind(path, certs):
    certs = max(1, int(certs))
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
        capture_output=True, text=True, check=True).stdout
    incl = {}
    total = 0
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*?)\s*$", line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        what = m.group(2)
        if what.startswith("PROGRAM TOTALS"):
            total = ir
            incl["PROGRAM TOTALS"] = ir
            continue
        # "file:function [object]" or "???:function [object]"
        fn = what.split(" [", 1)[0]
        fn = fn.rsplit(":", 1)[-1] if ":" in fn else fn
        fn = fn.strip("'")
        incl[fn] = max(incl.get(fn, 0), ir)
    print("  %-58s %12s %6s" % ("inclusive instructions", "Ir/cert", "share"))
    for label, rx in GROUPS:
        r = re.compile(rx)
        hits = [v for k, v in incl.items() if r.match(k)]
        if not hits:
            print("  %-58s %12s %6s" % (label, "-", ""))
            continue
        v = max(hits) if label.startswith("whole") else sum(hits)
        print("  %-58s %12s %5.1f%%" % (label, "{:,}".format(v // certs),
                                       100.0 * v / total if total else 0))
    # The top functions by self cost, for what the groups miss.
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100", path],
        capture_output=True, text=True, check=True).stdout
    print("  top functions by self instructions:")
    n = 0
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\(\s*([\d.]+)%\)\s+)?(.*?)\s*$", line)
        if not m or m.group(3).startswith("PROGRAM TOTALS") or "file:function" in line:
            continue
        if ":" not in m.group(3):
            continue
        ir = int(m.group(1).replace(",", ""))
        # Frames that were live when the counters were zeroed (thread
        # entry points) show bogus self costs: skip them.
        if total and ir > total / 2:
            continue
        print("    %12s Ir/cert %5.1f%%  %s" % ("{:,}".format(ir // certs),
                                              100.0 * ir / total if total else 0,
                                              m.group(3)[:90]))
        n += 1
        if n == 12:
            break


def ecdsa_speed():
    import ctypes

    class Datum(ctypes.Structure):
        _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_uint)]

    # ABI constants from gnutls/gnutls.h (stable across 3.x)
    pk_ecdsa, curve_p256, dig_sha256, sign_ecdsa_sha256 = 4, 2, 6, 14
    g = ctypes.CDLL("libgnutls.so.30")
    g.gnutls_check_version.restype = ctypes.c_char_p
    g.gnutls_global_init()
    k, p = ctypes.c_void_p(), ctypes.c_void_p()
    if (g.gnutls_privkey_init(ctypes.byref(k)) or
            g.gnutls_privkey_generate(k, pk_ecdsa,
                                      ctypes.c_uint(0x80000000 | curve_p256), 0) or
            g.gnutls_pubkey_init(ctypes.byref(p)) or
            g.gnutls_pubkey_import_privkey(p, k, 0, 0)):
        print("ECDSA n/a")
        return
    msg = ctypes.create_string_buffer(b"x" * 400)
    d = Datum(ctypes.cast(msg, ctypes.c_void_p), 400)
    sig = Datum()
    n = 1000
    t0 = time.perf_counter()
    for _ in range(n):
        rs = g.gnutls_privkey_sign_data(k, dig_sha256, 0, ctypes.byref(d),
                                        ctypes.byref(sig))
    t1 = time.perf_counter()
    for _ in range(n):
        rv = g.gnutls_pubkey_verify_data2(p, sign_ecdsa_sha256, 0,
                                          ctypes.byref(d), ctypes.byref(sig))
    t2 = time.perf_counter()
    if rs < 0 or rv < 0:
        print("ECDSA n/a")
        return
    print("ECDSA gnutls=%s sign_us=%.1f verify_us=%.1f" % (
        g.gnutls_check_version(None).decode(), (t1 - t0) / n * 1e6,
        (t2 - t1) / n * 1e6))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"ca-bodies": ca_bodies, "x5c-bodies": x5c_bodies,
     "k8s-bodies": k8s_bodies, "cfssl-bodies": cfssl_bodies,
     "client": client, "callgrind": callgrind,
     "ecdsa-speed": ecdsa_speed}[cmd](*args)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")
    main()
