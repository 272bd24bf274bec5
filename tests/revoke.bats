#!/usr/bin/env bats
# ca-revoke (offline, online by token and by mutual TLS), the CRL
# (ca-revoke --crl, GET /crl) and the OCSP responder (POST /ocsp,
# GET /ocsp/...), checked with openssl, ocsptool, certtool and python's
# cryptography.

load helpers

setup() {
	use_ca
	INTER=$CA/certs/intermediate_ca.crt
	ROOT=$CA/certs/root_ca.crt
}

teardown() {
	stop_server
}

# leaf NAME: NAME.crt (leaf + intermediate) and NAME.key, issued offline.
leaf() {
	token "$1"
	ca-sign -d "$CA" --token-file "$1.tok" --key-out "$1.key" > "$1.crt"
}

serial_of() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}

decimal_of() {
	"$PYTHON" -c "print(int('$1', 16))"
}

# The tags of the TBSCertList's elements (depth 2 of openssl asn1parse).
tbs_tags() {
	openssl asn1parse -inform DER -in "$1" | awk -F: '
		/d=1/ { if (++seq > 1) exit }
		/d=2/ { sub(/ +$/, "", $3); gsub(/ /, "", $3); printf "%s;", $3 }'
}

# crl_facts FILE: number, entries and reasons, checked by cryptography.
crl_facts() {
	"$PYTHON" - "$1" "$INTER" <<'PY'
import sys
from cryptography import x509
crl = x509.load_der_x509_crl(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
assert crl.is_signature_valid(ca.public_key()), "signature"
assert crl.issuer == ca.subject, "issuer"
aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
assert aki.key_identifier == ski.digest, "AKI"
num = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
out = []
for r in sorted(crl, key=lambda r: r.serial_number):
    try:
        reason = r.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        reason = "-"
    out.append("%x:%s" % (r.serial_number, reason))
print(num, len(out), " ".join(out))
PY
}

@test "offline: decimal, 0x and colon serials name one certificate; listed with time and reason; twice and unknown refused" {
	leaf a
	leaf b
	leaf c
	local sa sb sc state
	sa=$(serial_of a.crt)
	sb=$(serial_of b.crt)
	sc=$(serial_of c.crt)
	run ca-revoke -d "$CA" --reason keyCompromise --reason-text "laptop lost" \
		"$(decimal_of "$sa")"
	assert_success
	assert_equal "$output" ""
	run ca-revoke -d "$CA" --reason 4 "0x${sb^^}"
	assert_success
	run ca-revoke -d "$CA" "$(sed 's/../&:/g; s/:$//' <<< "$sc")"
	assert_success
	run ca-db -d "$CA" list
	assert_line --regexp "^$sa	.*	revoked	.*	20[0-9-]+T[0-9:]+Z	keyCompromise	-	-	[^	]*$"
	assert_line --regexp "^$sb	.*	revoked	.*	superseded	-	-	[^	]*$"
	assert_line --regexp "^$sc	.*	revoked	.*	unspecified	-	-	[^	]*$"
	assert_equal "$(ca-db -d "$CA" show --json "0x$sa" | pj 'd["reasonText"]')" \
		"laptop lost"

	state=$(store_state)
	run ca-revoke -d "$CA" "0x$sa"
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_output "ca-revoke: certificate $sa is already revoked"
	run ca-revoke -d "$CA" 0x1234abcd
	assert_failure 1
	assert_output "ca-revoke: no certificate with serial 1234abcd"
	assert_equal "$(store_state)" "$state"
}

@test "usage errors: no serial, bad reason, reason 7, long text, bad serial, --crl with a serial" {
	run ca-revoke -d "$CA"
	assert_equal "$status" 2
	assert_output --partial "SERIAL is required"
	run ca-revoke -d "$CA" --reason lost 0x01
	assert_equal "$status" 2
	assert_output --partial "unknown revocation reason 'lost'"
	run ca-revoke -d "$CA" --reason 7 0x01
	assert_equal "$status" 2
	run ca-revoke -d "$CA" --reason-text "$(printf 'x%.0s' $(seq 300))" 0x01
	assert_equal "$status" 2
	assert_output --partial "longer than 256 bytes"
	run ca-revoke -d "$CA" 0xzz
	assert_equal "$status" 2
	run ca-revoke -d "$CA" --crl 0x01
	assert_equal "$status" 2
	run ca-revoke --ca-url https://localhost:1 --root "$ROOT" 0x01
	assert_equal "$status" 2
	assert_output --partial "give either --token-file or --cert and --key"
}

@test "online by token: revoked once; a token for A on B is 403; unknown 404; store unchanged by refusals" {
	leaf a
	leaf b
	start_server
	local sa sb state
	sa=$(serial_of a.crt)
	sb=$(serial_of b.crt)
	ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" --revoke "0x$sa" > a.rtok
	state=$(store_state)
	run ca-revoke --ca-url "$URL" --root "$ROOT" --token-file a.rtok "0x$sb"
	assert_failure 1
	assert_output --partial "the token authorises revoking"
	assert_output --partial "(HTTP 403)"
	assert_equal "$(store_state)" "$state"
	# The refused token was not spent.
	run ca-revoke --ca-url "$URL" --root "$ROOT" --token-file a.rtok \
		--reason cessationOfOperation "0x$sa"
	assert_success
	ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" --revoke "0x$sa" > a2.rtok
	state=$(store_state)
	run ca-revoke --ca-url "$URL" --root "$ROOT" --token-file a2.rtok "0x$sa"
	assert_failure 1
	assert_output --partial "already revoked (HTTP 400)"
	ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" --revoke 0x5555 > u.rtok
	run ca-revoke --ca-url "$URL" --root "$ROOT" --token-file u.rtok 0x5555
	assert_failure 1
	assert_output --partial "(HTTP 404)"
	assert_equal "$(store_state)" "$state"
	run ca-db -d "$CA" list
	assert_line --regexp "^$sa	.*	revoked	.*	cessationOfOperation	-	-	[^	]*$"
	assert_line --regexp "^$sb	.*	valid	"
}

@test "online by mutual TLS: a certificate revokes itself, not another (403)" {
	leaf a
	leaf b
	start_server
	local sa sb state
	sa=$(serial_of a.crt)
	sb=$(serial_of b.crt)
	state=$(store_state)
	run ca-revoke --ca-url "$URL" --root "$ROOT" --cert a.crt --key a.key "0x$sb"
	assert_failure 1
	assert_output --partial "may revoke only itself"
	assert_equal "$(store_state)" "$state"
	run ca-revoke --ca-url "$URL" --root "$ROOT" --cert a.crt --key a.key \
		--reason superseded
	assert_success
	run ca-db -d "$CA" list
	assert_line --regexp "^$sa	.*	revoked	.*	superseded	-	-	[^	]*$"
	assert_line --regexp "^$sb	.*	valid	"
}

@test "ca-revoke --crl: v2, signed, AKI and number; no revokedCertificates when empty; numbers only grow" {
	leaf a
	leaf b
	run ca-revoke -d "$CA" --crl -o empty.crl
	assert_success
	run openssl crl -inform DER -in empty.crl -CAfile "$INTER" -noout -text
	assert_success
	assert_output --partial "verify OK"
	assert_output --partial "No Revoked Certificates."
	assert_output --partial "Version 2 (0x1)"
	assert_equal "$(tbs_tags empty.crl)" "INTEGER;SEQUENCE;SEQUENCE;UTCTIME;UTCTIME;cont[0];"
	run crl_facts empty.crl
	assert_success
	assert_output "1 0 "
	# Nothing changed: the same CRL.
	ca-revoke -d "$CA" --crl > again.crl
	cmp empty.crl again.crl

	local sa sb
	sa=$(serial_of a.crt)
	sb=$(serial_of b.crt)
	ca-revoke -d "$CA" --reason keyCompromise "0x$sa"
	ca-revoke -d "$CA" --reason unspecified "0x$sb"
	ca-revoke -d "$CA" --crl -o two.crl
	assert_equal "$(tbs_tags two.crl)" "INTEGER;SEQUENCE;SEQUENCE;UTCTIME;UTCTIME;SEQUENCE;cont[0];"
	run crl_facts two.crl
	assert_success
	# Unspecified is written as no reason code (RFC 5280 5.3.1).
	assert_output "2 2 $(printf '%s\n' "$sa:key_compromise" "$sb:-" |
		sort -t: -k1,1 | "$PYTHON" -c '
import sys
rows = [l.strip().split(":") for l in sys.stdin]
rows.sort(key=lambda r: int(r[0], 16))
print(" ".join("%x:%s" % (int(s, 16), r) for s, r in rows))')"
	run openssl crl -inform DER -in two.crl -CAfile "$INTER" -noout
	assert_output --partial "verify OK"
	run certtool --crl-info --inder --infile two.crl
	assert_success
	assert_output --partial "Revoked certificates (2)"
	# A certificate on the CRL fails openssl's CRL check; the other leaf
	# of the same CA is not listed.
	openssl crl -inform DER -in two.crl -out two.pem
	run openssl verify -crl_check -CRLfile two.pem -CAfile "$ROOT" \
		-untrusted "$INTER" a.crt
	assert_failure
	assert_output --partial "certificate revoked"
}

@test "ca-revoke --crl needs the intermediate's password when it is encrypted" {
	local d=$BATS_TEST_TMPDIR/enc
	ca-init -d "$d" --name Enc --dns enc.test --address 127.0.0.1:8443 \
		--provisioner admin --password-file "$PW" -q >/dev/null
	run ca-revoke -d "$d" --crl -o x.crl
	assert_failure 1
	assert_output --partial "give --password-file"
	[ ! -e x.crl ]
	run ca-revoke -d "$d" --crl --password-file "$PW" -o x.crl
	assert_success
	run openssl crl -inform DER -in x.crl -CAfile "$d/certs/intermediate_ca.crt" -noout
	assert_output --partial "verify OK"
}

@test "GET /crl: DER and ?pem; a revocation makes a new one at once; so does two thirds of cacheDuration" {
	need_peer cryptography
	edit_config 'c["crl"] = {"cacheDuration": "3s"}'
	leaf a
	start_server
	run curl -sS --cacert "$ROOT" -o one.crl -w '%{http_code} %{content_type}' "$URL/crl"
	assert_output "200 application/pkix-crl"
	curl -sS --cacert "$ROOT" "$URL/1.0/crl?pem" > one.pem
	run openssl crl -in one.pem -CAfile "$INTER" -noout -crlnumber
	assert_output --partial "verify OK"
	local n1 n2 n3
	n1=$(crl_facts one.crl | cut -d' ' -f1)
	assert_equal "$(openssl crl -in one.pem -outform DER | sha256sum)" \
		"$(sha256sum < one.crl)"
	ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" --revoke "0x$(serial_of a.crt)" > a.rtok
	ca-revoke --ca-url "$URL" --root "$ROOT" --token-file a.rtok "0x$(serial_of a.crt)"
	curl -sS --cacert "$ROOT" -o two.crl "$URL/crl"
	n2=$(crl_facts two.crl | cut -d' ' -f1)
	assert_equal "$n2" "$((n1 + 1))"
	assert_equal "$(crl_facts two.crl | cut -d' ' -f2)" 1
	# validity: nextUpdate - thisUpdate is cacheDuration.
	run "$PYTHON" -c '
import sys
from cryptography import x509
c = x509.load_der_x509_crl(open("two.crl", "rb").read())
print(int((c.next_update_utc - c.last_update_utc).total_seconds()))'
	assert_output 3
	sleep 2.2
	curl -sS --cacert "$ROOT" -o three.crl "$URL/crl"
	n3=$(crl_facts three.crl | cut -d' ' -f1)
	assert_equal "$n3" "$((n2 + 1))"
	run curl -sS --cacert "$ROOT" -o /dev/null -w '%{http_code}' -X POST "$URL/crl"
	assert_output 405
}

# ocsp_ask SERIAL...: openssl ocsp against the server, with a nonce.
ocsp_ask() {
	local args=() s
	for s in "$@"; do
		args+=(-serial "0x$s")
	done
	openssl ocsp -issuer "$INTER" "${args[@]}" -url "$URL/ocsp" \
		-CAfile "$ROOT" -VAfile "$INTER" 2>&1
}

@test "OCSP: good, revoked with time and reason, unknown; nonce echoed; verified by openssl" {
	leaf a
	leaf b
	local sa sb
	sa=$(serial_of a.crt)
	sb=$(serial_of b.crt)
	ca-revoke -d "$CA" --reason affiliationChanged "0x$sb"
	start_server
	run ocsp_ask "$sa" "$sb" 0badc0de
	assert_success
	assert_line "Response verify OK"
	refute_output --partial "WARNING"
	assert_line "0x$sa: good"
	assert_line "0x$sb: revoked"
	assert_line --partial "Reason: affiliationChanged"
	assert_line --partial "Revocation Time:"
	assert_line "0x0badc0de: unknown"
	assert_output --partial "This Update:"
	assert_output --partial "Next Update:"
	# An unknown serial may be issued next: its GET answer is not cacheable.
	openssl ocsp -issuer "$INTER" -serial 0x0badc0de -no_nonce -reqout u.der
	curl -sS --cacert "$ROOT" -D uh -o u.resp \
		"$URL/ocsp/$(base64 -w0 u.der | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')"
	grep -qi '^cache-control: no-store' uh
	openssl ocsp -issuer "$INTER" -serial "0x$sa" -no_nonce -reqout g.der
	curl -sS --cacert "$ROOT" -D gh -o g.resp \
		"$URL/ocsp/$(base64 -w0 g.der | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')"
	grep -qi '^cache-control: max-age=' gh
}

@test "OCSP: python cryptography and ocsptool agree; GET with base64 in the path; cached answers follow revocations" {
	need_peer cryptography
	leaf a
	local sa
	sa=$(serial_of a.crt)
	start_server
	# ocsptool's request, POSTed by curl.
	ocsptool --generate-request --load-issuer "$INTER" --load-cert a.crt \
		--outfile oreq.der
	curl -sS --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' \
		--data-binary @oreq.der -o oresp.der "$URL/ocsp"
	run ocsptool --response-info --load-response oresp.der --inder
	assert_success
	assert_output --partial "Certificate Status: good"
	assert_output --partial "Serial Number: $sa"
	run ocsptool --verify-response --load-signer "$INTER" \
		--load-response oresp.der --inder
	assert_success
	assert_output --partial "Verifying OCSP Response: Success"
	# openssl's request, with a nonce, read back by cryptography.
	openssl ocsp -issuer "$INTER" -cert a.crt -reqout req.der
	curl -sS --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' \
		--data-binary @req.der -o resp.der "$URL/ocsp"
	run "$PYTHON" - req.der resp.der "$INTER" <<'PY'
import sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives.asymmetric import ec
req = ocsp.load_der_ocsp_request(open(sys.argv[1], "rb").read())
r = ocsp.load_der_ocsp_response(open(sys.argv[2], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[3], "rb").read())
assert r.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
ca.public_key().verify(r.signature, r.tbs_response_bytes,
                       ec.ECDSA(r.signature_hash_algorithm))
assert r.serial_number == req.serial_number
assert r.responder_key_hash is not None
n1 = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
n2 = r.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
assert n1 == n2, "nonce"
assert r.this_update_utc <= r.produced_at_utc
print(r.certificate_status.name)
PY
	assert_success
	assert_output "GOOD"

	# GET, no nonce: cacheable, with its max-age; then revoked offline.
	openssl ocsp -issuer "$INTER" -serial "0x$sa" -no_nonce -reqout get.der
	local b64
	b64=$(base64 -w0 get.der | sed 's|+|%2B|g; s|/|%2F|g; s|=|%3D|g')
	run curl -sS --cacert "$ROOT" -D headers -o g1.der -w '%{http_code}' "$URL/ocsp/$b64"
	assert_output 200
	grep -qi '^cache-control: max-age=3[0-9][0-9][0-9], public' headers
	run openssl ocsp -respin g1.der -issuer "$INTER" -serial "0x$sa" \
		-VAfile "$INTER" -no_nonce
	assert_line "0x$sa: good"
	curl -sS --cacert "$ROOT" -o g2.der "$URL/ocsp/$b64"
	cmp g1.der g2.der
	ca-revoke -d "$CA" --reason keyCompromise "0x$sa"
	curl -sS --cacert "$ROOT" -o g3.der "$URL/ocsp/$b64"
	run openssl ocsp -respin g3.der -issuer "$INTER" -serial "0x$sa" \
		-VAfile "$INTER" -no_nonce
	assert_line "0x$sa: revoked"
	assert_line --partial "Reason: keyCompromise"
}

@test "OCSP: malformed requests get malformedRequest, another issuer's unauthorized, a wrong type 415" {
	start_server
	printf 'hello' > junk.der
	curl -sS --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' \
		--data-binary @junk.der -o r1.der "$URL/ocsp"
	run openssl ocsp -respin r1.der -resp_text -noverify
	assert_output --partial "malformedrequest (1)"
	run curl -sS --cacert "$ROOT" -o r2.der -w '%{http_code}' "$URL/ocsp/%%%not-base64"
	assert_output 200
	run openssl ocsp -respin r2.der -resp_text -noverify
	assert_output --partial "malformedrequest (1)"
	# A serial of 21 octets: no certificate has one (RFC 5280 allows 20).
	openssl ocsp -issuer "$INTER" -serial 0x800102030405060708090a0b0c0d0e0f10111213 \
		-no_nonce -reqout long.der
	curl -sS --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' \
		--data-binary @long.der -o r4.der "$URL/ocsp"
	run openssl ocsp -respin r4.der -resp_text -noverify
	assert_output --partial "malformedrequest (1)"
	# The intermediate itself is the root's: not for this responder.
	openssl ocsp -issuer "$ROOT" -cert "$INTER" -reqout inter-req.der
	curl -sS --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' \
		--data-binary @inter-req.der -o r3.der "$URL/ocsp"
	run openssl ocsp -respin r3.der -resp_text -noverify
	assert_output --partial "unauthorized (6)"
	run curl -sS --cacert "$ROOT" -H 'Content-Type: text/plain' \
		--data-binary @inter-req.der -o /dev/null -w '%{http_code}' "$URL/ocsp"
	assert_output 415
	run curl -sS --cacert "$ROOT" -o /dev/null -w '%{http_code}' -X PUT "$URL/ocsp"
	assert_output 405
}

@test "caTools.crlURL and ocspURL: issued certificates point at the server; openssl follows them" {
	start_server
	edit_config "c['caTools']['crlURL'] = '$URL/crl'; c['caTools']['ocspURL'] = '$URL/ocsp'"
	reload_server
	ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" web.test > web.tok
	ca-sign --ca-url "$URL" --root "$ROOT" --token-file web.tok --key-out web.key > web.crt
	assert_equal "$(openssl x509 -in web.crt -noout -ocsp_uri)" "$URL/ocsp"
	run openssl x509 -in web.crt -noout -ext crlDistributionPoints
	assert_output --partial "URI:$URL/crl"
	run openssl verify -x509_strict -CAfile "$ROOT" -untrusted web.crt web.crt
	assert_success
	run openssl ocsp -issuer "$INTER" -cert web.crt \
		-url "$(openssl x509 -in web.crt -noout -ocsp_uri)" -CAfile "$ROOT" -VAfile "$INTER"
	assert_line "web.crt: good"
	curl -sS --cacert "$ROOT" "$URL/crl?pem" > cdp.pem
	run openssl verify -crl_check -CRLfile cdp.pem -CAfile "$ROOT" \
		-untrusted "$INTER" web.crt
	assert_success
	run edit_config "c['caTools']['ocspURL'] = 'ldap://x'"
	run ca-revoke -d "$CA" --crl -o /dev/null
	assert_failure
	assert_output --partial "caTools.ocspURL: not an http:// or https:// URL"
}
