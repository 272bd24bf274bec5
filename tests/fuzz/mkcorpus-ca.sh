#!/bin/bash
# mkcorpus-ca.sh - regenerate the seeds of the harnesses that need a CA's
# artefacts: store, crl-ocsp, chain, http (tests/fuzz/corpus/NAME/).
#
#   tests/fuzz/mkcorpus-ca.sh BUILDDIR
#
# A scratch CA made with BUILDDIR's ca-init, certificates issued with
# ca-token and ca-sign for openssl CSRs, some revoked with ca-revoke;
# then its GDBM records (gdbm_dump) in memstore.h's framing (key, NUL,
# 2-octet length, value), its certificates as mutual-TLS and x5c inputs,
# and HTTP requests shaped as the bats tests send them, with a real
# token, CSR and openssl OCSP request. Every file is under 8 KiB.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
bin=$(cd "$1" && pwd)/bin
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$src/tests/fuzz/corpus
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t"
rm -rf "$out/store" "$out/crl-ocsp" "$out/chain" "$out/http"

printf 'pw\n' > pw
"$bin/ca-init" -d ca --name "Seed" --dns ca.test,localhost \
	--address 127.0.0.1:8443 --provisioner admin --password-file pw \
	--unencrypted-intermediate-key --provisioner-key-out prov.json -q > fp
for n in web api mail; do
	"$bin/ca-token" -d ca --key prov.json "$n.test" > "$n.tok"
	"$bin/ca-sign" -d ca --token-file "$n.tok" --key-out "$n.key" > "$n.crt"
	openssl x509 -in "$n.crt" -outform DER -out "$n.der"
done
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
"$bin/ca-revoke" -d ca --reason keyCompromise --reason-text "laptop lost" \
	"0x$(serial web.crt)"
"$bin/ca-revoke" -d ca --reason 4 "0x$(serial api.crt)"
"$bin/ca-revoke" -d ca --crl > crl.der
gdbm_dump --format=ascii ca/db/ca.gdbm dump.txt

# The records, framed; seeds: all of them, each certificate's group, the
# revocations with the CRL records, and one of each kind alone.
python3 - "$out" <<'EOF'
import base64, os, sys
out = sys.argv[1]
recs, lines, i = [], open("dump.txt").read().split("\n"), 0
def blob():
    global i
    while not lines[i].startswith("#:len="):
        i += 1
    n = int(lines[i][6:]); i += 1; b = ""
    while lines[i] and not lines[i].startswith("#"):
        b += lines[i]; i += 1
    return base64.b64decode(b)[:n]
while any(l.startswith("#:len=") for l in lines[i:]):
    k = blob(); v = blob()
    if not k.startswith(b"!"):
        recs.append((k.rstrip(b"\0"), v))
def frame(rs):
    return b"".join(k + b"\0" + len(v).to_bytes(2, "big") + v for k, v in rs)
def write(name, sub, data):
    d = os.path.join(out, sub); os.makedirs(d, exist_ok=True)
    if len(data) < 8192:
        open(os.path.join(d, name), "wb").write(data)
serials = [k.split(b"/")[1] for k, _ in recs if k.startswith(b"x509_certs/")]
for n, s in enumerate(serials):
    group = [(k, v) for k, v in recs if s in k or (k.startswith(b"used_ott/") and s in v)]
    write("cert-%d" % n, "store", frame(group))
rev = [(k, v) for k, v in recs if k.startswith((b"revoked_x509_certs/", b"crl/"))]
write("revoked", "store", frame(rev))
write("all", "store", frame(recs))
for k, v in recs:
    kind = k.split(b"/")[0].decode()
    write("one-" + kind, "store", frame([(k, v)]))
write("revoked", "crl-ocsp", frame([r for r in rev if r[0] != b"crl/der"]))
write("revoked-nonce", "crl-ocsp", frame([r for r in rev if r[0] != b"crl/der"] +
    [(b"nonce", bytes.fromhex("0410") + os.urandom(16))]))
write("one-revocation", "crl-ocsp", frame(rev[:1]))
write("empty-crl-number", "crl-ocsp", frame([(b"crl/number", b"41")]))
# Serials at the limit: 20 octets, and 20 with the high bit (21 in DER).
rec = [v for k, v in rev if k.startswith(b"revoked_x509_certs/")][0]
write("serial-20", "crl-ocsp", frame([(b"revoked_x509_certs/7f" + b"ee" * 19, rec)]))
write("serial-21", "crl-ocsp", frame([(b"revoked_x509_certs/80" + b"01" * 19, rec),
    (b"revoked_x509_certs/00ff" + b"10" * 18, rec)]))
EOF

# chain: 1 = a mutual-TLS certificate (DER); 0 = an x5c renew token (not
# this CA's: the harness's CA is made afresh); 2, 3, 6 = claims the
# harness signs with a leaf of its own CA (x5cInsecure, x5c, rekey).
mkdir -p "$out/chain"
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
for n in web api; do
	{ printf '\001'; cat "$n.der"; } > "$out/chain/mtls-$n"
	x5c=$(base64 -w0 < "$n.der")
	for h in x5cInsecure x5c; do
		hdr=$(printf '{"alg":"ES256","typ":"JWT","%s":["%s"]}' "$h" "$x5c" | b64url)
		cl=$(printf '{"aud":"https://ca.test:8443/1.0/renew","sub":"%s.test","iss":"step-ca-client/1.0","iat":1780000000,"nbf":1780000000,"exp":1780000300,"jti":"j1"}' "$n" | b64url)
		sig=$(head -c 64 /dev/urandom | b64url)
		printf '\000%s.%s.%s' "$hdr" "$cl" "$sig" > "$out/chain/token-$n-$h"
	done
done
printf '\002{"aud":"https://ca.test:8443/1.0/renew","sub":"fuzz.test","iss":"step-ca-client/1.0","iat":1780000000,"nbf":1780000000,"exp":1780000300}' > "$out/chain/claims-step"
printf '\003{"aud":["https://ca.test/1.0/renew"],"iat":1780000000,"exp":1780000100,"jti":"x"}' > "$out/chain/claims-x5c"
printf '\006{"aud":"https://localhost:8443/rekey","sub":"fuzz.test","iss":"admin","iat":1780000000,"exp":1780000300}' > "$out/chain/claims-rekey"
printf '\002{"aud":"https://ca.test:8443/1.0/renew","iat":1780000000,"exp":1779990000}' > "$out/chain/claims-expired"

# http: requests as the bats tests and step's clients send them.
h=$out/http
mkdir -p "$h"
req() {	# NAME METHOD PATH [HEADER-LINES] [BODY-FILE]
	local body=${5:-/dev/null}
	{ printf '%s %s HTTP/1.1\r\nHost: ca.test:8443\r\n%b' "$2" "$3" "${4:-}"
	  if [ "$2" = POST ]; then printf 'Content-Length: %d\r\n' "$(wc -c < "$body")"; fi
	  printf '\r\n'; cat "$body"; } > "$h/$1"
}
for p in /health /version /roots /roots.pem /intermediates /1.0/intermediates.pem \
    /provisioners "/provisioners?limit=1&cursor=0" /crl "/crl?pem" "/root/$(cat fp)"; do
	req "get-$(printf '%s' "$p" | tr -c 'a-z0-9' _)" GET "$p"
done
kid=$(python3 -c 'import json,sys; print(json.load(open("prov.json"))["kid"])')
req get-encrypted-key GET "/provisioners/$kid/encrypted-key"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout new.key -subj /CN=new.test -addext subjectAltName=DNS:new.test \
	-out new.csr 2>/dev/null
"$bin/ca-token" -d ca --key prov.json new.test > new.tok
python3 -c 'import json; print(json.dumps({"csr": open("new.csr").read(), "ott": open("new.tok").read().strip()}))' > sign.json
req post-sign POST /1.0/sign 'Content-Type: application/json\r\n' sign.json
printf '{"serial":"%s","reasonCode":1,"reason":"key lost","passive":true,"ott":"%s"}' \
	"$(serial mail.crt)" "$(cat mail.tok)" > revoke.json
req post-revoke POST /revoke 'Content-Type: application/json\r\n' revoke.json
printf '{}' > empty.json
req post-renew POST /renew "Authorization: Bearer $(cat api.tok)\r\n" empty.json
req post-rekey POST /1.0/rekey 'Content-Type: application/json\r\n' sign.json
openssl ocsp -issuer ca/certs/intermediate_ca.crt -cert web.crt -cert mail.crt \
	-reqout ocsp.der -no_nonce 2>/dev/null
openssl ocsp -issuer ca/certs/intermediate_ca.crt -cert api.crt -reqout ocsp-nonce.der 2>/dev/null
req post-ocsp POST /ocsp 'Content-Type: application/ocsp-request\r\n' ocsp.der
req post-ocsp-nonce POST /1.0/ocsp 'Content-Type: application/ocsp-request\r\n' ocsp-nonce.der
req get-ocsp GET "/ocsp/$(base64 -w0 < ocsp.der | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')"
{ printf 'POST /sign HTTP/1.1\r\nHost: ca.test\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n'
  printf '%x\r\n' "$(wc -c < sign.json)"; cat sign.json; printf '\r\n0\r\n\r\n'; } > "$h/post-sign-chunked"
printf 'GET /health HTTP/1.0\r\n\r\n' > "$h/get-health-http10"
printf 'GET /health HTTP/1.1\r\nHost: ca.test\r\n\r\nGET /version HTTP/1.1\r\nHost: ca.test\r\nConnection: close\r\n\r\n' > "$h/pipelined"
find "$out/store" "$out/crl-ocsp" "$out/chain" "$out/http" -type f -size +8k -delete
