#!/usr/bin/env bats
# Registration authority mode: ca-init --ra, ca-serve relaying /sign and
# /revoke to an upstream ca-serve that holds the keys, the checks on what
# is relayed, and the upstream's faults (a stub in between: tests/ra-stub.py).

load helpers

setup() {
	use_ca
	ROOT=$CA/certs/root_ca.crt
	RA=$BATS_TEST_TMPDIR/ra
	RA_PID=
	STUB_PID=
}

teardown() {
	[ -z "$RA_PID" ] || { kill -TERM "$RA_PID" 2>/dev/null; wait "$RA_PID" 2>/dev/null || true; }
	[ -z "$STUB_PID" ] || { kill "$STUB_PID" 2>/dev/null; wait "$STUB_PID" 2>/dev/null || true; }
	stop_server
}

# make_ra UPSTREAM-URL [ca-init options]: an RA in $RA, its provisioner key
# in ra-prov.json.
make_ra() {
	local up=$1
	shift
	ca-init --ra --upstream "$up" --upstream-fingerprint "$FP" \
		--upstream-provisioner admin --upstream-password-file "$PW" \
		-d "$RA" --name RA --dns localhost --address 127.0.0.1:9443 \
		--provisioner ra-admin --password-file "$PW" \
		--provisioner-key-out ra-prov.json -q "$@"
}

# start_ra [ca-serve options]: the RA's ca-serve; sets RA_URL, RA_PID, RA_LOG.
start_ra() {
	local fifo=$BATS_TEST_TMPDIR/ra.fifo port
	RA_LOG=$BATS_TEST_TMPDIR/ra.log
	rm -f "$fifo"
	mkfifo "$fifo"
	ca-serve -d "$RA" --upstream-password-file "$PW" --listen 127.0.0.1:0 \
		--ready-fd 3 --log-file "$RA_LOG" "$@" 3>"$fifo" &
	RA_PID=$!
	read -r port < "$fifo" || true
	rm -f "$fifo"
	[ -n "$port" ] || { cat "$RA_LOG" >&2; fail "the RA did not start"; }
	RA_URL=https://localhost:$port
}

# ra_sign NAME: NAME.crt and NAME.key through the RA.
ra_sign() {
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json "$1" > "$1.tok"
	ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file "$1.tok" \
		--key-out "$1.key" > "$1.crt"
}

serial_of() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}

# start_stub [CERT KEY [BOGUS]]: tests/ra-stub.py in front of the CA.
start_stub() {
	echo pass > mode
	local port
	rm -f stub.port stub.fifo
	mkfifo stub.fifo
	"$PYTHON" "$CA_TOP_SRCDIR/tests/ra-stub.py" "$PORT" "$PWD/mode" \
		fd:3 "$@" 3>stub.fifo &
	STUB_PID=$!
	# the stub writes its port once it listens (EOF if it dies first)
	read -r port < stub.fifo || true
	rm -f stub.fifo
	[ -n "$port" ] || fail "ra-stub.py did not start"
	echo "$port" > stub.port
	STUB_URL=https://localhost:$(cat stub.port)
	# The CA is reached through the stub, as behind a TCP balancer: its
	# public address (and so its token audience) is the stub's.
	edit_config "c['address'] = '127.0.0.1:$(cat stub.port)'"
	reload_server
}

@test "ca-init --ra: a stepcas ca.json, the upstream root pinned, no CA key; bad fingerprint or password refused" {
	start_server
	run make_ra "$URL"
	assert_success
	assert_equal "$output" "$FP"
	cmp "$RA/certs/root_ca.crt" "$ROOT"
	[ -z "$(ls -A "$RA/secrets")" ]
	run pj '[d["authority"]["type"], d["authority"]["certificateAuthority"], d["authority"]["certificateIssuer"]]' < "$RA/config/ca.json"
	assert_output "[\"stepcas\", \"$URL\", {\"type\": \"jwk\", \"provisioner\": \"admin\"}]"
	run pj '"key" in d or "rootKey" in d["caTools"]' < "$RA/config/ca.json"
	assert_output false

	rm -rf "$RA"
	run ca-init --ra --upstream "$URL" --upstream-fingerprint "$(printf '%064d' 0)" \
		--upstream-provisioner admin --upstream-password-file "$PW" \
		-d "$RA" --name RA --dns localhost --provisioner ra --password-file "$PW"
	assert_failure 1
	assert_output --partial "fingerprint"
	[ ! -e "$RA" ]
	printf 'wrong\n' > wrong
	run ca-init --ra --upstream "$URL" --upstream-fingerprint "$FP" \
		--upstream-provisioner admin --upstream-password-file wrong \
		-d "$RA" --name RA --dns localhost --provisioner ra --password-file "$PW"
	assert_failure 1
	assert_output --partial "upstream provisioner admin"
	[ ! -e "$RA" ]
	run ca-init --ra --upstream "$URL" -d "$RA" --name RA --dns localhost \
		--provisioner ra --password-file "$PW"
	assert_equal "$status" 2
	run ca-init --upstream "$URL" -d "$RA" --name RA --dns localhost \
		--provisioner ra --password-file "$PW"
	assert_equal "$status" 2
}

@test "sign through the RA: verified by openssl, recorded at both, RA TLS from the upstream; a replay stops at the RA" {
	start_server
	make_ra "$URL" > /dev/null
	start_ra
	ra_sign web.test
	run openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" \
		-untrusted web.test.crt web.test.crt
	assert_success
	local s
	s=$(serial_of web.test.crt)
	run ca-db -d "$CA" list
	assert_line --regexp "^$s	.*	valid	admin	CN=web.test	web.test	"
	run ca-db -d "$RA" list
	assert_line --regexp "^$s	.*	valid	ra-admin	CN=web.test	web.test	"
	run ca-db -d "$RA" check
	assert_success
	# The RA's own TLS certificate: issued by the upstream, recorded there.
	run bash -c "openssl s_client -connect 127.0.0.1:${RA_URL##*:} -servername localhost \
		-CAfile '$ROOT' -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial"
	assert_success
	local rs
	rs=$(cut -d= -f2 <<< "$output" | tr 'A-F' 'a-f')
	ca-db -d "$CA" list | grep -q "^$rs	"
	run curl -sS --cacert "$ROOT" "$RA_URL/intermediates.pem"
	assert_equal "$output" "$(cat "$CA/certs/intermediate_ca.crt")"
	# A CSR whose signature is broken: the RA leaves that check to the
	# CA, whose 400 comes back; nothing is issued.
	csr bad.test
	"$PYTHON" - bad.test.csr <<'PY'
import base64, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
p = sys.argv[1]
der = bytearray(x509.load_pem_x509_csr(open(p, "rb").read()).public_bytes(serialization.Encoding.DER))
der[-3] ^= 0x01
b = base64.b64encode(bytes(der)).decode()
open(p, "w").write("-----BEGIN CERTIFICATE REQUEST-----\n" +
    "\n".join(b[i:i + 64] for i in range(0, len(b), 64)) + "\n-----END CERTIFICATE REQUEST-----\n")
PY
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json bad.test > bad.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file bad.tok --csr bad.test.csr
	assert_failure 1
	assert_output --partial "CSR signature does not verify (HTTP 400)"
	run bash -c "ca-db -d '$CA' list | grep -c 'CN=bad.test'"
	assert_output 0
	# A key against the CA's policy is refused by the RA already.
	local n
	n=$(grep -c "POST /sign" "$SERVER_LOG")
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json svc.test > e3.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file e3.tok \
		--csr "$CA_FIXTURES/goodkey-rsa-e3.csr"
	assert_failure 1
	assert_output --partial "RSA public exponent 3, only 65537 accepted (HTTP 400)"
	assert_equal "$(grep -c "POST /sign" "$SERVER_LOG")" "$n"
	# The same token again: refused at the RA, the upstream never asked.
	n=$(grep -c "POST /sign" "$SERVER_LOG")
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file web.test.tok \
		--key-out again.key
	assert_failure 1
	assert_output --partial "token already used"
	assert_equal "$(grep -c "POST /sign" "$SERVER_LOG")" "$n"
	[ ! -e again.key ]
}

@test "revoke through the RA, by RA token and by the certificate; the CA's OCSP says revoked" {
	start_server
	make_ra "$URL" > /dev/null
	start_ra
	ra_sign a.test
	ra_sign b.test
	local sa sb
	sa=$(serial_of a.test.crt)
	sb=$(serial_of b.test.crt)
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json --revoke "0x$sa" > a.rtok
	run ca-revoke --ca-url "$RA_URL" --root "$ROOT" --token-file a.rtok \
		--reason keyCompromise "0x$sa"
	assert_success
	run ca-revoke --ca-url "$RA_URL" --root "$ROOT" --cert b.test.crt \
		--key b.test.key --reason superseded
	assert_success
	run ca-db -d "$CA" list
	assert_line --regexp "^$sa	.*	revoked	.*	keyCompromise	-	-	[^	]*$"
	assert_line --regexp "^$sb	.*	revoked	.*	superseded	-	-	[^	]*$"
	run ca-db -d "$RA" list
	assert_line --regexp "^$sa	.*	revoked	.*	keyCompromise	-	-	[^	]*$"
	run openssl ocsp -issuer "$CA/certs/intermediate_ca.crt" -cert a.test.crt \
		-url "$URL/ocsp" -CAfile "$ROOT" -VAfile "$CA/certs/intermediate_ca.crt"
	assert_line "a.test.crt: revoked"
	# An upstream refusal passes through (already revoked: 400).
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json --revoke "0x$sa" > a2.rtok
	run ca-revoke --ca-url "$RA_URL" --root "$ROOT" --token-file a2.rtok "0x$sa"
	assert_failure 1
	assert_output --partial "already revoked (HTTP 400)"
	# A certificate the CA issued itself is not the RA's to revoke.
	token direct.test
	ca-sign -d "$CA" --token-file direct.test.tok --key-out direct.key > direct.crt
	local sd
	sd=$(serial_of direct.crt)
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json --revoke "0x$sd" > d.rtok
	run ca-revoke --ca-url "$RA_URL" --root "$ROOT" --token-file d.rtok "0x$sd"
	assert_failure 1
	assert_output --partial "not issued through this registration authority (HTTP 404)"
	run ca-db -d "$CA" list
	assert_line --regexp "^$sd	.*	valid	"
	# An RA serves no CRL or OCSP of its own.
	run curl -sS --cacert "$ROOT" -o /dev/null -w '%{http_code}' "$RA_URL/crl"
	assert_output 404
}

@test "renew and rekey through the RA with an x5c token, once the CA lists the RA; mutual TLS refused" {
	start_server
	make_ra "$URL" > /dev/null
	start_ra
	ra_sign web.test
	local s0 s1
	s0=$(serial_of web.test.crt)
	# Not listed yet: the CA refuses the RA's audience, and says so.
	run ca-renew --ca-url "$RA_URL" --root "$ROOT" --force --no-mtls \
		web.test.crt web.test.key
	assert_failure 1
	assert_output --partial "(HTTP 401)"
	edit_config "c['caTools']['registrationAuthorities'] = ['$RA_URL']"
	reload_server
	run ca-renew --ca-url "$RA_URL" --root "$ROOT" --force web.test.crt web.test.key
	assert_failure 1
	assert_output --partial "mutual TLS cannot reach its upstream CA"
	run ca-renew --ca-url "$RA_URL" --root "$ROOT" --force --no-mtls \
		web.test.crt web.test.key
	assert_success
	s1=$(serial_of web.test.crt)
	[ "$s1" != "$s0" ]
	run openssl verify -x509_strict -CAfile "$ROOT" -untrusted web.test.crt web.test.crt
	assert_success
	assert_equal "$(ca-db -d "$RA" show --json "0x$s1" | pj 'd["renewedFrom"]')" "$s0"
	assert_equal "$(ca-db -d "$CA" show --json "0x$s1" | pj 'd["renewedFrom"]')" "$s0"
	run ca-renew --ca-url "$RA_URL" --root "$ROOT" --force --no-mtls --rekey \
		--key-out web.test.key web.test.crt web.test.key
	assert_success
	assert_equal "$(openssl x509 -in web.test.crt -noout -pubkey)" \
		"$(openssl pkey -in web.test.key -pubout)"
	run ca-db -d "$RA" check
	assert_success
}

@test "offline tools refuse to act on an RA directory" {
	start_server
	make_ra "$URL" > /dev/null
	ca-token -d "$RA" --key ra-prov.json web.test > web.tok
	run ca-sign -d "$RA" --token-file web.tok --key-out web.key
	assert_failure 1
	assert_output --partial "is a registration authority"
	[ ! -e web.key ]
	run ca-revoke -d "$RA" 0x01
	assert_failure 1
	assert_output --partial "is a registration authority"
	run ca-revoke -d "$RA" --crl
	assert_failure 1
	assert_output --partial "is a registration authority"
}

@test "faults: upstream refusing 502, silent 504 within the deadline, another CA's TLS 502, its 401 passed through; /health and /roots still served" {
	start_server
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout other.key -subj /CN=localhost -addext subjectAltName=DNS:localhost \
		-days 1 -out other.crt 2>/dev/null
	start_stub other.crt other.key
	make_ra "$STUB_URL" > /dev/null
	edit_config_ra 'c["caTools"]["upstreamTimeout"] = "2s"'
	start_ra
	ra_sign ok.test

	echo hang > mode
	local t0 t1
	t0=$(date +%s)
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json h.test > h.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file h.tok --key-out h.key
	t1=$(date +%s)
	assert_failure 4
	assert_output --partial "(HTTP 504)"
	[ $((t1 - t0)) -lt 10 ]
	[ ! -e h.key ]
	run curl -sS --cacert "$ROOT" -w ' %{http_code}' "$RA_URL/health"
	assert_output '{"status":"ok"} 200'
	run curl -sS --cacert "$ROOT" -o /dev/null -w '%{http_code}' "$RA_URL/roots"
	assert_output 200

	echo refuse > mode
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json r.test > r.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file r.tok --key-out r.key
	assert_failure 4
	assert_output --partial "(HTTP 502)"

	echo tls-other > mode
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json t.test > t.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file t.tok --key-out t.key
	assert_failure 4
	assert_output --partial "(HTTP 502)"
	grep -q "not trusted" "$RA_LOG"

	# The upstream's own refusal: its provisioner renamed, 401 back.
	echo pass > mode
	edit_config 'c["authority"]["provisioners"][0]["name"] = "renamed"'
	reload_server
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json u.test > u.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file u.tok --key-out u.key
	assert_failure 1
	assert_output --partial "(HTTP 401)"
	run ca-db -d "$RA" list
	assert_equal "${#lines[@]}" 3	# header, the RA's TLS, ok.test

	# The upstream gone altogether (nothing listening): 502.
	kill "$STUB_PID"
	wait "$STUB_PID" 2>/dev/null || true
	STUB_PID=
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json g.test > g.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file g.tok --key-out g.key
	assert_failure 4
	assert_output --partial "(HTTP 502)"
}

@test "what the RA relays is checked: another key or another CA's certificate is 502, and nothing is recorded" {
	start_server
	# The stub's TLS certificate is the CA's own, so the RA trusts it.
	token localhost
	ca-sign -d "$CA" --token-file localhost.tok --key-out stub.key > stub.crt
	token other.test
	ca-sign -d "$CA" --token-file other.test.tok --key-out other.key > other.crt
	"$PYTHON" -c '
import json, sys
crt = open(sys.argv[1]).read()
i = crt.index("-----BEGIN CERTIFICATE-----", 1)
print(json.dumps({"crt": crt[:i], "ca": crt[i:]}))' other.crt > bogus.json
	start_stub stub.crt stub.key bogus.json
	make_ra "$STUB_URL" > /dev/null
	start_ra
	local before
	before=$(ca-db -d "$RA" list | wc -l)
	echo bogus > mode
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json web.test > web.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file web.tok --key-out web.key
	assert_failure 4
	assert_output --partial "(HTTP 502)"
	grep -q "certificate for another key" "$RA_LOG"
	[ ! -e web.key ]
	assert_equal "$(ca-db -d "$RA" list | wc -l)" "$before"

	# A certificate of another CA: 502 as well.
	local d=$BATS_TEST_TMPDIR/other-ca
	ca-init -d "$d" --name Other --dns other.test --provisioner admin \
		--password-file "$PW" --unencrypted-intermediate-key \
		--provisioner-key-out other-prov.json -q > /dev/null
	ca-token -d "$d" --key other-prov.json other.test > o.tok
	ca-sign -d "$d" --token-file o.tok --key-out o.key > o.crt
	"$PYTHON" -c '
import json, sys
crt = open(sys.argv[1]).read()
i = crt.index("-----BEGIN CERTIFICATE-----", 1)
print(json.dumps({"crt": crt[:i], "ca": crt[i:]}))' o.crt > bogus.json
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json web2.test > web2.tok
	run ca-sign --ca-url "$RA_URL" --root "$ROOT" --token-file web2.tok --key-out web2.key
	assert_failure 4
	assert_output --partial "(HTTP 502)"
	assert_equal "$(ca-db -d "$RA" list | wc -l)" "$before"
}

# edit_config_ra PYTHON: edit the RA's ca.json.
edit_config_ra() {
	CA=$RA edit_config "$1"
}

# step-ca compares a revoke token's sub with the serial of the body as it
# stores serials, in decimal: "0x..." would be refused there.
@test "the RA revokes upstream with the serial in decimal, in the token's sub and in the body" {
	start_server
	token localhost
	ca-sign -d "$CA" --token-file localhost.tok --key-out stub.key > stub.crt
	echo '{"status":"ok"}' > ok.json
	start_stub stub.crt stub.key ok.json
	make_ra "$STUB_URL" > /dev/null
	start_ra
	ra_sign a.test
	local sa dec
	sa=$(serial_of a.test.crt)
	dec=$("$PYTHON" -c "print(int('$sa', 16))")
	echo record > mode
	ca-token --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json --revoke "0x$sa" > a.rtok
	run -0 ca-revoke --ca-url "$RA_URL" --root "$ROOT" --token-file a.rtok "0x$sa"
	run -0 pj 'json.loads(d["body"])["serial"]' < mode.requests
	assert_output "$dec"
	pj 'json.loads(d["body"])["ott"]' < mode.requests > up.tok
	run -0 jws_part up.tok 1
	run -0 pj 'd["sub"]' <<< "$output"
	assert_output "$dec"
}
