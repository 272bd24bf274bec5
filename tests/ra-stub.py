#!/usr/bin/env python3
"""ra-stub.py - a stand-in between a registration authority and its CA.

Usage: ra-stub.py UPSTREAM_PORT MODE_FILE PORT_FILE [CERT KEY [BOGUS_JSON]]

Listens on 127.0.0.1 (port written to PORT_FILE, or to descriptor N when
PORT_FILE is fd:N, then closed) and, by the word in
MODE_FILE (read again for each connection and every 0.1 s):
  pass       forwards bytes to 127.0.0.1:UPSTREAM_PORT (TLS end to end)
  hang       accepts, then never answers (open connections go silent too)
  refuse     closes every connection at once (as nothing listening would)
  tls-other  speaks TLS with CERT/KEY (a certificate of another CA)
  bogus      speaks TLS with CERT/KEY and answers any request with
             HTTP 201 and the body in BOGUS_JSON
  record     as bogus, but HTTP 200, and appends each request as a JSON
             line {"path", "authorization", "body"} to MODE_FILE.requests
"""
import json
import os
import select
import socket
import ssl
import sys
import threading
import time

up_port = int(sys.argv[1])
mode_file = sys.argv[2]
cert = sys.argv[4] if len(sys.argv) > 4 else None
key = sys.argv[5] if len(sys.argv) > 5 else None
bogus = sys.argv[6] if len(sys.argv) > 6 else None


def mode():
    try:
        with open(mode_file) as f:
            return f.read().strip()
    except OSError:
        return "pass"


def forward(c):
    u = socket.create_connection(("127.0.0.1", up_port))
    socks = [c, u]
    try:
        while True:
            m = mode()
            if m == "hang":
                time.sleep(0.1)
                continue
            if m != "pass":
                return
            r, _, _ = select.select(socks, [], [], 0.1)
            for s in r:
                data = s.recv(65536)
                if not data:
                    return
                (u if s is c else c).sendall(data)
    finally:
        u.close()


def serve_tls(c, answer, record=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    try:
        t = ctx.wrap_socket(c, server_side=True)
    except (ssl.SSLError, OSError):
        return
    try:
        buf = b""
        while answer:
            data = t.recv(65536)
            if not data:
                return
            buf += data
            if b"\r\n\r\n" not in buf:
                continue
            head, _, body = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if len(body) < length:
                continue
            buf = body[length:]
            payload = open(bogus, "rb").read()
            status = b"201 Created"
            if record:
                status = b"200 OK"
                auth = None
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"authorization:"):
                        auth = line.split(b":", 1)[1].strip().decode()
                rec = {"path": head.split(b" ")[1].decode(), "authorization": auth,
                       "body": body[:length].decode()}
                with open(mode_file + ".requests", "a") as f:
                    f.write(json.dumps(rec) + "\n")
            t.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
    except (ssl.SSLError, OSError):
        pass
    finally:
        t.close()


def handle(c):
    m = mode()
    try:
        if m == "pass":
            forward(c)
        elif m == "hang":
            while mode() == "hang":
                time.sleep(0.1)
        elif m == "tls-other":
            serve_tls(c, False)
        elif m == "bogus":
            serve_tls(c, True)
        elif m == "record":
            serve_tls(c, True, True)
    except OSError:
        pass
    finally:
        c.close()


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    port = "%d\n" % ls.getsockname()[1]
    if sys.argv[3].startswith("fd:"):
        # readiness as ca-serve --ready-fd gives it: the port, then EOF
        with os.fdopen(int(sys.argv[3][3:]), "w") as f:
            f.write(port)
    else:
        with open(sys.argv[3] + ".tmp", "w") as f:
            f.write(port)
        os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


main()
