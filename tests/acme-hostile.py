#!/usr/bin/env python3
# acme-hostile.py - responders that misbehave, for the ACME validator's
# tests (tests/unit/test-acme-validate.c). Binds 127.0.0.1 port 0, prints
# the port on stdout (readiness), serves until its stdin is closed.
#
#   acme-hostile.py redirect PORT   http: 302 to the same host on PORT
#   acme-hostile.py big             http: 200 and a 10 MiB body, no length
#   acme-hostile.py silent          tcp: accepts, reads, never answers
#   acme-hostile.py dns-silent      udp: receives, never answers
#   acme-hostile.py tls HOW NAME KEYAUTH
#                                   tls-alpn-01 done wrong, HOW: noalpn
#                                   (acme-tls/1 not selected), noncritical
#                                   (acmeIdentifier not critical), twosans
#                                   (another name besides NAME)
#
# SPDX-License-Identifier: GPL-3.0-or-later
import http.server
import os
import socket
import sys
import threading


def watch_stdin():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def ready(port):
    print(port, flush=True)
    threading.Thread(target=watch_stdin, daemon=True).start()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        mode = self.server.mode
        if mode == "redirect":
            host = (self.headers.get("Host") or "localhost").rsplit(":", 1)[0]
            self.send_response(302)
            self.send_header("Location", "http://%s:%s%s" %
                             (host, self.server.arg, self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "big":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(160):
                    self.wfile.write(chunk)
            except OSError:
                pass


def tls_server(how, name, keyauth):
    import datetime
    import hashlib
    import ssl
    import tempfile
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    sans = [x509.DNSName(name)]
    if how == "twosans":
        sans.append(x509.DNSName("other." + name))
    digest = hashlib.sha256(keyauth.encode()).digest()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.UnrecognizedExtension(
                ObjectIdentifier("1.3.6.1.5.5.7.1.31"), b"\x04\x20" + digest),
                critical=how != "noncritical")
            .sign(key, hashes.SHA256()))
    d = tempfile.mkdtemp()
    with open(d + "/c.pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(d + "/k.pem", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d + "/c.pem", d + "/k.pem")
    if how != "noalpn":
        ctx.set_alpn_protocols(["acme-tls/1"])
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    ready(s.getsockname()[1])
    while True:
        c, _ = s.accept()
        try:
            t = ctx.wrap_socket(c, server_side=True)
            t.recv(1)
            t.close()
        except (OSError, ssl.SSLError):
            c.close()


def main():
    mode = sys.argv[1]
    if mode in ("redirect", "big"):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        srv.mode = mode
        srv.arg = sys.argv[2] if len(sys.argv) > 2 else None
        ready(srv.server_address[1])
        srv.serve_forever()
    elif mode == "silent":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        ready(s.getsockname()[1])
        held = []
        while True:
            c, _ = s.accept()
            held.append(c)
    elif mode == "dns-silent":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        ready(s.getsockname()[1])
        while True:
            s.recvfrom(4096)
    elif mode == "tls":
        tls_server(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown mode " + mode)


main()
