#!/usr/bin/env python3
# acme-bench-client.py - a scripted ACME client for bench/acme.sh: complete
# orders (http-01) as fast as the server allows, over keep-alive HTTPS,
# never sleeping between polls.
#
#   acme-bench-client.py --directory URL --trust CAFILE --http-port PORT
#       --clients N --seconds S [--server-pid PID] [--certs DIR]
#       [--name-suffix SUFFIX]
#
# N worker processes (one per concurrent client), each with its own ES256
# account and one HTTPS connection, start together (a barrier) and complete
# orders until S seconds have passed: newOrder, the authorization, the
# http-01 challenge (its key authorization written under a web root that a
# responder thread of this process serves on 127.0.0.1:PORT), polls of the
# challenge until valid, finalize with a CSR for a new P-256 key, polls of
# the order until valid, the certificate downloaded. An order that ends in
# another state, or any error answer, counts as an error; the worker starts
# a new order.
#
# With --server-pid, the server's CPU time (utime + stime + cutime + cstime
# of /proc/PID/stat) is read when the workers start and when the last one
# ends. With --certs, each worker writes its last certificate chain there
# (DIR/wN.pem) for the caller to verify.
#
# Prints one line (for bench/lib.sh's kv):
#   ACMEBENCH clients=N orders=C errors=E seconds=S rate=R p50_ms=..
#     p99_ms=.. server_cpu_s=.. cpu_ms_per_order=.. client_cpu_ms_per_order=..
#     responder_cpu_s=.. polls=P codes=200:n,..
# client_cpu_ms_per_order is the workers' CPU (account set-up included),
# responder_cpu_s this process's (the http-01 responder): what the load
# generator takes from the machine the server runs on.
#
# Needs python3 with cryptography. SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import multiprocessing as mp
import os
import resource
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID


def b64u(b):
	return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Problem(Exception):
	pass


class Acme:
	"""One account, one keep-alive HTTPS connection."""

	def __init__(self, directory, ctx):
		u = urllib.parse.urlsplit(directory)
		self.host, self.port = u.hostname, u.port or 443
		self.ctx = ctx
		self.conn = None
		self.nonce = None
		self.codes = {}
		self.polls = 0
		self.key = ec.generate_private_key(ec.SECP256R1())
		pub = self.key.public_key().public_numbers()
		self.jwk = {"crv": "P-256", "kty": "EC",
			    "x": b64u(pub.x.to_bytes(32, "big")),
			    "y": b64u(pub.y.to_bytes(32, "big"))}
		self.thumb = b64u(hashlib.sha256(json.dumps(
		    self.jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
		self.kid = None
		self.dir = json.loads(self.request("GET", directory)[2])

	def connect(self):
		self.conn = http.client.HTTPSConnection(self.host, self.port,
		    context=self.ctx, timeout=30)

	def request(self, method, url, body=None):
		u = urllib.parse.urlsplit(url)
		path = u.path + ("?" + u.query if u.query else "")
		headers = {"Content-Type": "application/jose+json"} if body else {}
		for attempt in (0, 1):
			if self.conn is None:
				self.connect()
			try:
				self.conn.request(method, path, body=body, headers=headers)
				r = self.conn.getresponse()
				data = r.read()
				break
			except (http.client.HTTPException, OSError):
				# The server closed the kept-alive connection:
				# once more on a new one (a POST is then resent
				# with a nonce already used: it fails as badNonce).
				self.conn.close()
				self.conn = None
				if attempt:
					raise
		self.codes[r.status] = self.codes.get(r.status, 0) + 1
		n = r.getheader("Replay-Nonce")
		if n:
			self.nonce = n
		return r.status, r, data

	def post(self, url, payload, jwk=False):
		if self.nonce is None:
			self.request("HEAD", self.dir["newNonce"])
		prot = {"alg": "ES256", "nonce": self.nonce, "url": url}
		if jwk:
			prot["jwk"] = self.jwk
		else:
			prot["kid"] = self.kid
		self.nonce = None
		p = b64u(json.dumps(prot).encode())
		pl = "" if payload is None else b64u(json.dumps(payload).encode())
		der = self.key.sign(f"{p}.{pl}".encode(), ec.ECDSA(hashes.SHA256()))
		r, s = decode_dss_signature(der)
		sig = b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
		body = json.dumps({"protected": p, "payload": pl, "signature": sig})
		st, resp, data = self.request("POST", url, body.encode())
		if st >= 400:
			raise Problem(f"{st} {url}: {data[:300].decode(errors='replace')}")
		return st, resp, data

	def account(self):
		st, r, _ = self.post(self.dir["newAccount"],
		    {"termsOfServiceAgreed": True}, jwk=True)
		self.kid = r.getheader("Location")

	def poll(self, url, done):
		"""POST-as-GET url until its status is not pending/processing."""
		while True:
			_, _, data = self.post(url, None)
			obj = json.loads(data)
			if obj["status"] not in ("pending", "processing"):
				return obj
			if done is not None and obj["status"] == done:
				return obj
			self.polls += 1

	def order(self, name, webroot):
		_, r, data = self.post(self.dir["newOrder"],
		    {"identifiers": [{"type": "dns", "value": name}]})
		order_url = r.getheader("Location")
		order = json.loads(data)
		for az in order["authorizations"]:
			_, _, data = self.post(az, None)
			authz = json.loads(data)
			if authz["status"] == "valid":
				continue
			ch = [c for c in authz["challenges"] if c["type"] == "http-01"][0]
			tok = ch["token"]
			with open(os.path.join(webroot, tok), "w") as f:
				f.write(f"{tok}.{self.thumb}")
			self.post(ch["url"], {})
			c = self.poll(ch["url"], None)
			os.unlink(os.path.join(webroot, tok))
			if c["status"] != "valid":
				raise Problem(f"challenge {c['status']}: {json.dumps(c)[:300]}")
		key = ec.generate_private_key(ec.SECP256R1())
		csr = (x509.CertificateSigningRequestBuilder()
		    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
		    .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
		    .sign(key, hashes.SHA256()))
		der = csr.public_bytes(serialization.Encoding.DER)
		_, _, data = self.post(order["finalize"], {"csr": b64u(der)})
		order = json.loads(data)
		if order["status"] != "valid":
			order = self.poll(order_url, None)
		if order["status"] != "valid":
			raise Problem(f"order {order['status']}")
		_, _, pem = self.post(order["certificate"], None)
		if b"BEGIN CERTIFICATE" not in pem:
			raise Problem("no certificate")
		return pem


def worker(i, a, barrier, deadline_box, out):
	ctx = ssl.create_default_context(cafile=a.trust)
	res = {"orders": 0, "errors": 0, "lat": [], "codes": {}, "polls": 0,
	       "first_error": ""}
	try:
		c = Acme(a.directory, ctx)
		c.account()
	except Exception as e:		# noqa: BLE001 (reported, not hidden)
		res["first_error"] = f"setup: {e}"
		barrier.abort()
		out.put(res)
		return
	try:
		barrier.wait()
	except threading.BrokenBarrierError:
		out.put(res)
		return
	deadline = deadline_box.value
	pem = None
	n = 0
	while time.monotonic() < deadline:
		t0 = time.monotonic()
		n += 1
		try:
			pem = c.order(f"w{i}-{n}{a.name_suffix}", a.webroot)
			res["orders"] += 1
			res["lat"].append(time.monotonic() - t0)
		except Exception as e:	# noqa: BLE001
			res["errors"] += 1
			if not res["first_error"]:
				res["first_error"] = str(e)[:300]
			if res["errors"] > 100 and res["orders"] == 0:
				break
	res["codes"] = c.codes
	res["polls"] = c.polls
	if a.certs and pem:
		with open(os.path.join(a.certs, f"w{i}.pem"), "wb") as f:
			f.write(pem)
	out.put(res)


class Responder(http.server.BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	webroot = ""
	prefix = "/.well-known/acme-challenge/"

	def do_GET(self):
		tok = self.path[len(self.prefix):] if self.path.startswith(self.prefix) else ""
		body = b"not found"
		code = 404
		if tok and "/" not in tok and "." not in tok:
			try:
				with open(os.path.join(self.webroot, tok), "rb") as f:
					body, code = f.read(), 200
			except OSError:
				pass
		self.send_response(code)
		self.send_header("Content-Type", "text/plain")
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, *args):
		pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
	daemon_threads = True
	allow_reuse_address = True


def cpu_ticks(pid):
	with open(f"/proc/{pid}/stat") as f:
		s = f.read()
	fields = s[s.rindex(")") + 2:].split()
	# utime stime cutime cstime are fields 14-17 (1-based), here 11-14.
	return sum(int(x) for x in fields[11:15])


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--directory", required=True)
	ap.add_argument("--trust", required=True)
	ap.add_argument("--http-port", type=int, required=True)
	ap.add_argument("--clients", type=int, default=1)
	ap.add_argument("--seconds", type=float, default=10)
	ap.add_argument("--server-pid", type=int)
	ap.add_argument("--certs")
	ap.add_argument("--name-suffix", default=".bench.test")
	ap.add_argument("--webroot")
	a = ap.parse_args()
	if a.webroot is None:
		import tempfile
		a.webroot = tempfile.mkdtemp(prefix="acme-bench-www.")
	Responder.webroot = a.webroot
	srv = Server(("127.0.0.1", a.http_port), Responder)
	threading.Thread(target=srv.serve_forever, daemon=True).start()

	mp.set_start_method("fork")
	out = mp.Queue()
	deadline = mp.Value("d", 0.0)
	# The last worker to arrive sets the common deadline and the CPU mark.
	cpu0 = mp.Value("q", 0)
	t0 = mp.Value("d", 0.0)

	def action():
		t0.value = time.monotonic()
		deadline.value = t0.value + a.seconds
		if a.server_pid:
			cpu0.value = cpu_ticks(a.server_pid)

	barrier = mp.Barrier(a.clients, action=action, timeout=120)
	procs = [mp.Process(target=worker, args=(i, a, barrier, deadline, out))
		 for i in range(a.clients)]
	for p in procs:
		p.start()
	results = [out.get() for _ in procs]
	t1 = time.monotonic()
	cpu1 = cpu_ticks(a.server_pid) if a.server_pid else 0
	for p in procs:
		p.join()
	srv.shutdown()
	ru = resource.getrusage(resource.RUSAGE_CHILDREN)
	me = resource.getrusage(resource.RUSAGE_SELF)

	orders = sum(r["orders"] for r in results)
	errors = sum(r["errors"] for r in results)
	lat = sorted(x for r in results for x in r["lat"])
	codes = {}
	for r in results:
		for k, v in r["codes"].items():
			codes[k] = codes.get(k, 0) + v
	secs = t1 - t0.value if t0.value else 0
	hz = os.sysconf("SC_CLK_TCK")
	cpu_s = (cpu1 - cpu0.value) / hz if a.server_pid and t0.value else None

	def pct(p):
		return f"{lat[min(len(lat) - 1, int(p * len(lat)))] * 1000:.1f}" if lat else "?"

	first = next((r["first_error"] for r in results if r["first_error"]), "")
	print("ACMEBENCH clients=%d orders=%d errors=%d seconds=%.3f rate=%s p50_ms=%s p99_ms=%s "
	      "server_cpu_s=%s cpu_ms_per_order=%s client_cpu_ms_per_order=%s responder_cpu_s=%.2f "
	      "polls=%d codes=%s" % (
		a.clients, orders, errors, secs,
		f"{orders / secs:.1f}" if secs > 0 else "?", pct(0.5), pct(0.99),
		f"{cpu_s:.2f}" if cpu_s is not None else "?",
		f"{cpu_s * 1000 / orders:.2f}" if cpu_s is not None and orders else "?",
		f"{(ru.ru_utime + ru.ru_stime) * 1000 / orders:.2f}" if orders else "?",
		me.ru_utime + me.ru_stime,
		sum(r["polls"] for r in results),
		",".join(f"{k}:{v}" for k, v in sorted(codes.items()))))
	if first:
		print(f"first error: {first}", file=sys.stderr)
	return 0 if orders > 0 else 1


if __name__ == "__main__":
	sys.exit(main())
