#!/bin/sh
# mkcorpus.sh - regenerate the seed corpora tests/fuzz/corpus/{json,jws,
# jwe,csr,ocsp,redo,inspect}/ from real artefacts:
#
#   tests/fuzz/mkcorpus.sh [BINDIR]
#
# BINDIR holds a build's ca-init and ca-token (default _build/bin). Uses
# openssl (CSRs with varied names, `openssl ocsp -reqout` requests) and
# python3 with cryptography (tokens signed with the jws harness's fixed
# keys, PBES2 JWEs with p2c 1000 under jwe.c's password). The files are
# replaced, each under 8 KiB. Then tests/fuzz/mkcorpus-ca.sh, with the
# build directory above BINDIR, regenerates the seeds of the harnesses
# that need a CA's artefacts (store, crl-ocsp, chain, http), after
# tests/fuzz/mkcorpus-dns.py those of dns (DNS answers built byte by byte)
# and tests/fuzz/mkcorpus-policy.sh those of policy.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/_build/bin}
[ -x "$bin/ca-init" ] || { echo "usage: $0 [BINDIR] (no $bin/ca-init)" >&2; exit 2; }
bin=$(cd "$bin" && pwd)
out=$top/tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in json jws jwe csr ocsp redo inspect; do
	rm -rf "${out:?}/$h"
	mkdir -p "$out/$h"
done
cd "$tmp"

# A CA of our own tools, and tokens from ca-token.
printf 'corpus-password\n' > pw
"$bin/ca-init" -d ca --name Corpus --dns ca.test,127.0.0.1 \
	--provisioner prov --password-file pw >/dev/null
tok() { "$bin/ca-token" -d ca --password-file pw "$@"; }
tok a.test > tok-plain
tok --san a.test --san www.a.test --san 127.0.0.1 --san ::1 \
	--san mail@a.test --san spiffe://a.test/w a.test > tok-sans
tok --not-after 30m --not-before 10m b.test > tok-later
tok --revoke 0123456789abcdef > tok-revoke
for t in tok-*; do
	printf '\000%s' "$(cat "$t")" > "$out/jws/ca-token-${t#tok-}"
done

# What ca-inspect reads: the CA's certificates as PEM, DER and a bundle, a
# token, an openssl CSR in PEM.
inspect_seeds() {
	cp ca/certs/root_ca.crt "$out/inspect/root.pem"
	openssl x509 -in ca/certs/root_ca.crt -outform DER -out "$out/inspect/root.der"
	cat ca/certs/intermediate_ca.crt ca/certs/root_ca.crt > "$out/inspect/bundle.pem"
	cp tok-sans "$out/inspect/token"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout /dev/null -subj /CN=a.test -addext \
		"subjectAltName=DNS:a.test,IP:127.0.0.1,email:m@a.test,URI:spiffe://a.test/w" \
		-out "$out/inspect/csr.pem" 2>/dev/null
	chmod 644 "$out"/inspect/*
}
inspect_seeds

# JSON: ca.json, step-ca's, the JOSE fixtures, API bodies, claims.
cp ca/config/ca.json "$out/json/ca.json" && chmod 644 "$out/json/ca.json"
cp "$top/tests/fixtures/step-ca.json" "$out/json/step-ca.json"
cp "$top/tests/fixtures/jose-fixtures.json" "$out/json/jose-fixtures.json"

# CSRs: openssl req, several key types and sets of names.
csr() {	# NAME KEYOPTS SUBJ [SAN]
	n=$1 k=$2 s=$3
	shift 3
	# shellcheck disable=SC2086
	openssl req -utf8 -new -newkey $k -nodes -keyout /dev/null -subj "$s" \
		${1:+-addext "subjectAltName=$1"} -outform DER -out "$out/csr/$n.der" 2>/dev/null
}
openssl ecparam -name prime256v1 -out p256.param
openssl ecparam -name secp384r1 -out p384.param
csr p256-cn ec:p256.param /CN=a.test
csr p256-dns ec:p256.param /CN=a.test DNS:a.test,DNS:www.a.test
csr p256-all ec:p256.param /CN=a.test \
	DNS:a.test,DNS:www.a.test,IP:127.0.0.1,IP:::1,email:mail@a.test,URI:spiffe://a.test/w
csr p256-nocn ec:p256.param / DNS:a.test
csr p256-other ec:p256.param /CN=evil.test DNS:evil.test,IP:10.0.0.1
csr p256-utf8 ec:p256.param "$(printf "/CN=\303\251.test/O=Corpus/C=FR")" DNS:xn--9ca.test
csr p384-ip ec:p384.param /CN=127.0.0.1 IP:127.0.0.1
csr ed25519 ed25519 /CN=a.test DNS:a.test
csr rsa2048 rsa:2048 /CN=a.test DNS:a.test,DNS:www.a.test
openssl req -new -newkey ec:p256.param -nodes -keyout /dev/null \
	-subj /CN=a.test -addext "subjectAltName=DNS:a.test" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=keyCertSign" -out "$out/csr/p256-ca-ext.pem" 2>/dev/null
openssl req -new -newkey ec:p256.param -nodes -keyout /dev/null \
	-subj /CN=a.test -addext "subjectAltName=DNS:a.test" \
	-out "$out/csr/p256-dns.pem" 2>/dev/null
cp "$top/tests/fixtures/goodkey-rsa-e3.csr" "$top/tests/fixtures/goodkey-trailing.der" \
	"$top/tests/fixtures/goodkey-two.csr" "$out/csr/"

# OCSP requests: openssl ocsp -reqout, for our CA's intermediate.
iss=ca/certs/intermediate_ca.crt
ocsp() { n=$1; shift; openssl ocsp -issuer "$iss" "$@" -reqout "$out/ocsp/$n.der" >/dev/null 2>&1; }
ocsp one -serial 0x01
ocsp one-nonce -serial 0x0123456789abcdef -nonce
ocsp sha256 -sha256 -serial 0x7fffffffffffffffffffffffffffffffffffffff
ocsp sha512 -sha512 -serial 0x00
ocsp three -serial 1 -serial 2 -serial 3 -no_nonce
ocsp eight -serial 1 -serial 2 -serial 3 -serial 4 -serial 5 -serial 6 -serial 7 -serial 8
ocsp nine -serial 1 -serial 2 -serial 3 -serial 4 -serial 5 -serial 6 -serial 7 -serial 8 -serial 9
openssl ecparam -genkey -name prime256v1 -noout -out signer.key 2>/dev/null
openssl req -x509 -new -key signer.key -subj /CN=signer -days 1 -out signer.crt 2>/dev/null
ocsp signed -serial 0x42 -signer signer.crt -signkey signer.key -nonce

# Python: JSON bodies, tokens under the jws harness's fixed key and JWEs
# under the jwe harness's password.
SIGN_CSR=$(openssl base64 -A < "$out/csr/p256-all.der" | tr '+/' '-_' | tr -d '=') \
OUT=$out TOKEN=$(cat tok-sans) python3 - <<'PY'
import base64, json, os, hashlib
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

out = os.environ["OUT"]
def b64(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def put(h, name, data):
    if isinstance(data, str): data = data.encode()
    assert len(data) < 8192, name
    with open(f"{out}/{h}/{name}", "wb") as f: f.write(data)
def js(o): return json.dumps(o, separators=(",", ":"))

# jws.c: NOW 2026-01-01T00:00:00Z, https://ca.test, provisioner "prov".
NOW = 1767225600
key = ed25519.Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(
    "NGkHdS7aJUT_dhT591u6NB-eBHGesfGUPz_xpEWAy7M="))
x = "bQUTfXPGJJfUu6S2lo_HiYHG4hN0K3tg_jZCgTXmJ3Q"
kid = b64(hashlib.sha256(js({"crv": "Ed25519", "kty": "OKP", "x": x}).encode()).digest())
def claims(**kw):
    c = {"aud": "https://ca.test/1.0/sign", "exp": NOW + 300, "iat": NOW,
         "iss": "prov", "jti": "a" * 64, "nbf": NOW, "sans": ["a.test"],
         "sha": "0123456789abcdef" * 4, "sub": "a.test"}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}
variants = {
    "good": claims(),
    "sans": claims(sans=["a.test", "www.a.test", "127.0.0.1", "::1",
                         "mail@a.test", "spiffe://a.test/w"]),
    "port": claims(aud="https://127.0.0.1:9000/sign"),
    "revoke": claims(aud="https://ca.test/1.0/revoke", sub="0123456789abcdef", sans=None),
    "expired": claims(exp=NOW - 120),
    "future": claims(nbf=NOW + 120),
    "long": claims(exp=NOW + 7200),
    "nojti": claims(jti=None),
    "nosha": claims(sha=None),
    "badsha": claims(sha="00" * 32),
    "aud-list": claims(aud=["https://x.test/1.0/sign", "https://ca.test/sign"]),
    "cnf": claims(cnf={"x5rt#S256": b64(b"\x01" * 32)}),
    "step": claims(step={"ssh": None}),
    "bad-cn": claims(sub="a\u0001.test"),
}
for n, c in variants.items():
    put("jws", f"claims-{n}", b"\x01" + js(c).encode())
    h = {"alg": "EdDSA", "kid": kid, "typ": "JWT"}
    si = b64(js(h).encode()) + "." + b64(js(c).encode())
    put("jws", f"signed-{n}", b"\x00" + (si + "." + b64(key.sign(si.encode()))).encode())
# The same under the ES256 and RS256 keys (first byte: bits 1-2 the key).
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding as apad
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
def jwk_int(v): return int.from_bytes(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)), "big")
ec_jwk = {"crv": "P-256", "kty": "EC",
          "x": "Gz-Cpk4u6hzlfbeRdenuWvqAvyaKCpTjJfBdLohnjsY",
          "y": "Yhcfukv9vt3gQpdcOasJgkx4d4bgMGmWHLJIQ_yWO4A"}
ec_key = ec.derive_private_key(jwk_int("0zl90a02RR12qPsYBIOSy135hiqBEtE-Uw5yRmoGDek"), ec.SECP256R1())
rsa_n = ("yUkyUywvkutbg1oNbngG6fgqbr7l-gbu2jMK2cl7TlECKgGOI_h0Xtjy1nW3cqxH7PbdyGxHMB9UupfCfXmTzb"
         "feQIKf7a-xWnAKi3ECNA8_umtwNeIiUXIF3rtZhc5NgpKExi5jblurphRdLtNkoSSg5Qkz0W4q8yG5AtG_wZDL"
         "9UYO_RHosbemmKntrH7844sqOIQc5ijaVGrOEm-iyaWmJib9tVROm7uFZeVodqA_CqFLnj-oEwl_IUhfBYepog"
         "s6dZtR5w0afnB2tVKK3bufocC9Lo5BLe9YUmCVGmQoMKTrCq9KBWWC2jpkfeNy1m_KNjDafrARKng0mcrWyQ")
rsa_d = ("SZZ8ZxsN0DmFe2Gw0X-rB2wiFzkl4Zbj6vYITvvkNuKjf3tOtS9trMYI9C-ioaTNBS_qtg3SchLnT3i5g7NrnJ"
         "C6XBfsFgOUmgXBM3YMaQKw6BTR0uE7Kq0qBbMTs1QaqqU97BtTljeV1tsoht5qRqfde3KvTI2EYt7S_gJZREv6"
         "aWyIKJ-oRCGnqD9mR9j3vSFsJNt-DobgV_mKkC8jCHLN2rHOfbCCYXPIbxHdVwJ_edzqvb6fij0M58TM6Yb8cX"
         "r35oQiU4VG4EK3G5JDlhG7nOrwAoGJD28LH-Oigp1xw5T_vIRuKTGsteLSxnss2IUZcAVTSVsP34WOZrod")
rsa_p = "_c6wTpp23I5R31KJxqOf7LvXK_Rxmk6pT0HT-sTIdjNC53PHvaF0e06svx3SrXmz1lcHgWZ0afK6WdA4TdWntEvUJOuOXyeiB6Oi43zO0tmmdRyGb6d8Zj2UUHAH7jdx1oP4hk7qm8ma_v-B-nFDfF9GlkAInVLnuwKj4uj4H6U"
rsa_q = "ywZacwgYnhfPhLGbjWwIdN9F_1CD8Fh2VTBvxENtVITOFQBnKPfZM9C-bZ_lkuPJL5-lhxAWHSLiBwPj2Q0A4ToEuSdoO8WCZr5EojqlUyvywBDtN5d96z2_Vx6ZOqaE42glt8GXF7Ox6l1FjFa5XQsyInp9P7_bGx39r3DG8VU"
p_, q_, d_ = jwk_int(rsa_p), jwk_int(rsa_q), jwk_int(rsa_d)
rsa_key = rsa.RSAPrivateNumbers(p_, q_, d_, d_ % (p_ - 1), d_ % (q_ - 1), pow(q_, -1, p_),
                                rsa.RSAPublicNumbers(65537, jwk_int(rsa_n))).private_key()
rsa_jwk = {"e": "AQAB", "kty": "RSA", "n": rsa_n}
def es256(si):
    r, s = decode_dss_signature(ec_key.sign(si, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
def rs256(si): return rsa_key.sign(si, apad.PKCS1v15(), hashes.SHA256())
for tag, first, alg, jwk, sign, iss in (("es256", 2, "ES256", ec_jwk, es256, "prov-ec"),
                                        ("rs256", 4, "RS256", rsa_jwk, rs256, "prov-rsa")):
    k_kid = b64(hashlib.sha256(js(jwk).encode()).digest())
    for n in ("good", "sans", "expired"):
        c = dict(variants[n], iss=iss)
        put("jws", f"claims-{tag}-{n}", bytes([first | 1]) + js(c).encode())
        si = b64(js({"alg": alg, "kid": k_kid, "typ": "JWT"}).encode()) + "." + b64(js(c).encode())
        put("jws", f"signed-{tag}-{n}", bytes([first]) + (si + "." + b64(sign(si.encode()))).encode())
h = {"alg": "none", "kid": kid}
put("jws", "alg-none", b"\x00" + (b64(js(h).encode()) + "." + b64(js(claims()).encode()) + ".").encode())

# redo.c: the store's redo slots (lib/store-gdbm.c's format).
import struct
def rec(kind, key, val=b""):
    return bytes([kind]) + struct.pack(">I", len(key)) + key + struct.pack(">I", len(val)) + val
PUT, DEL = 1, 2
def slot(seq, *recs): return struct.pack(">Q", seq) + b"".join(recs)
def redo(flags, s0=b"", s1=b""): return bytes([flags]) + struct.pack(">H", len(s0)) + s0 + s1
a = slot(7, rec(PUT, b"x509_certs/02", b"\x30\x03\x02\x01\x02"), rec(DEL, b"used_ott/abc"))
b = slot(8, rec(PUT, b"crl/number", b"2"), rec(PUT, b"revoked_x509_certs/01", b'{"reasonCode":1}'))
put("redo", "slot0", redo(1, a))
put("redo", "both", redo(3, a, b))
put("redo", "both-older-second", redo(3, b, a))
put("redo", "legacy", redo(6, b"", b[8:]))
put("redo", "empty-slot", redo(3, slot(9), b""))
put("redo", "short-slot", redo(1, b"\x00\x00\x01"))
put("redo", "torn", redo(1, a[:-3]))
put("redo", "bad-kind", redo(1, slot(3, rec(9, b"k", b"v"))))

# json.c: API bodies and headers, as clients send them.
put("json", "sign-body", js({"csr": os.environ["SIGN_CSR"], "ott": os.environ["TOKEN"],
                              "notBefore": "2026-01-01T00:00:00Z", "notAfter": "24h"}))
put("json", "revoke-body", js({"serial": "0123456789abcdef", "reasonCode": 1,
                                "reason": "key compromise", "passive": True, "ott": "x.y.z"}))
put("json", "renew-body", "{}")
put("json", "claims", js(variants["sans"]))
put("json", "jws-header", js({"alg": "EdDSA", "kid": kid, "typ": "JWT"}))
put("json", "jwk", js({"kty": "OKP", "crv": "Ed25519", "x": x, "use": "sig", "kid": kid}))
put("json", "numbers", "[0,-0,1.5e10,-9223372036854775808,9223372036854775807,1E-5,0.0]")
put("json", "strings", js(["\u00e9\u4e2d\U0001f600", "\\\"/\b\f\n\r\t", "\u007f"]))
put("json", "nested", "[[[[[[[[[[[[[[[{}]]]]]]]]]]]]]]]")

# jwe.c: password "fuzz-password", p2c 1000, a JWK inside (as encryptedKey).
pw = b"fuzz-password"
pt = js({"kty": "OKP", "crv": "Ed25519", "x": x,
         "d": "NGkHdS7aJUT_dhT591u6NB-eBHGesfGUPz_xpEWAy7M"}).encode()
def jwe(alg, enc, cty="jwk+json", p2c=1000):
    bits = {"PBES2-HS256+A128KW": (hashes.SHA256, 16), "PBES2-HS384+A192KW": (hashes.SHA384, 24),
            "PBES2-HS512+A256KW": (hashes.SHA512, 32)}[alg]
    p2s = bytes(range(16))
    h = {"alg": alg, "enc": enc, "p2c": p2c, "p2s": b64(p2s)}
    if cty: h["cty"] = cty
    kek = PBKDF2HMAC(bits[0](), bits[1], alg.encode() + b"\0" + p2s, p2c).derive(pw)
    cek_len = {"A128GCM": 16, "A192GCM": 24, "A256GCM": 32,
               "A128CBC-HS256": 32, "A192CBC-HS384": 48, "A256CBC-HS512": 64}[enc]
    cek = bytes((7 * i + 1) & 0xff for i in range(cek_len))
    ek = aes_key_wrap(kek, cek)
    ph = b64(js(h).encode())
    iv = bytes(12) if "GCM" in enc else bytes(16)
    if "GCM" in enc:
        ctt = AESGCM(cek).encrypt(iv, pt, ph.encode())
        ct, tag = ctt[:-16], ctt[-16:]
    else:
        half = cek_len // 2
        p = padding.PKCS7(128).padder(); data = p.update(pt) + p.finalize()
        e = Cipher(algorithms.AES(cek[half:]), modes.CBC(iv)).encryptor()
        ct = e.update(data) + e.finalize()
        aad = ph.encode()
        hm = hmac.HMAC(cek[:half], {16: hashes.SHA256, 24: hashes.SHA384, 32: hashes.SHA512}[half]())
        hm.update(aad + iv + ct + (len(aad) * 8).to_bytes(8, "big"))
        tag = hm.finalize()[:half]
    return ".".join([ph, b64(ek), b64(iv), b64(ct), b64(tag)])
for alg, enc in [("PBES2-HS256+A128KW", "A256GCM"), ("PBES2-HS256+A128KW", "A128GCM"),
                 ("PBES2-HS384+A192KW", "A192GCM"), ("PBES2-HS512+A256KW", "A256GCM"),
                 ("PBES2-HS256+A128KW", "A128CBC-HS256"), ("PBES2-HS384+A192KW", "A192CBC-HS384"),
                 ("PBES2-HS512+A256KW", "A256CBC-HS512")]:
    put("jwe", f"{alg[6:11]}-{enc}".lower(), jwe(alg, enc))
put("jwe", "no-cty", jwe("PBES2-HS256+A128KW", "A256GCM", cty=None))
put("jwe", "p2c-low", jwe("PBES2-HS256+A128KW", "A256GCM", p2c=999))
PY
# The header of ca-init's encryptedKey (p2c 600000: the JWE itself would
# be refused by the fuzzing build and slow elsewhere).
python3 -c 'import base64,json,sys; h=json.load(open(sys.argv[1]))["authority"]["provisioners"][0]["encryptedKey"].split(".")[0]; sys.stdout.buffer.write(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))' \
	ca/config/ca.json > "$out/json/ca-init-jwe-header"
find "$out" -type f -size +8k -exec sh -c 'echo "$0: over 8 KiB: $1" >&2; exit 1' "$0" {} \;
for h in json jws jwe csr ocsp redo inspect; do
	echo "$h: $(ls "$out/$h" | wc -l) files"
done
"$top/tests/fuzz/mkcorpus-dns.py"
"$top/tests/fuzz/mkcorpus-policy.sh"
"$top/tests/fuzz/mkcorpus-ca.sh" "$bin/.."
