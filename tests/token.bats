#!/usr/bin/env bats
# ca-token: the token step ca token makes.

load helpers

setup() {
	use_ca
}

@test "a token is a compact ES256 JWS with step's header and claims" {
	run -0 --separate-stderr ca-token -d "$CA" --provisioner admin --password-file "$PW" svc.test
	[ -z "$stderr" ]
	echo "$output" > t
	[[ $output =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]
	kid=$(pj 'd["authority"]["provisioners"][0]["key"]["kid"]' < "$CA/config/ca.json")
	run -0 jws_part t 0
	assert_output "{\"alg\": \"ES256\", \"kid\": \"$kid\", \"typ\": \"JWT\"}"
	jws_part t 1 > claims
	run -0 pj 'sorted(d)' < claims
	assert_output '["aud", "exp", "iat", "iss", "jti", "nbf", "sans", "sha", "sub"]'
	run -0 pj '[d["aud"], d["iss"], d["sub"], d["sans"], d["sha"], d["exp"] - d["iat"], d["nbf"] == d["iat"]]' < claims
	assert_output "[\"https://ca.test:8443/1.0/sign\", \"admin\", \"svc.test\", [\"svc.test\"], \"$FP\", 300, true]"
	run -0 pj 'd["jti"]' < claims
	[[ $output =~ ^[0-9a-f]{64}$ ]]
	now=$(date +%s)
	iat=$(pj 'd["iat"]' < claims)
	[ $((now - iat)) -le 5 ] && [ $((iat - now)) -le 5 ]
	# the signature is raw R||S: 64 bytes
	sig=$(cut -d. -f3 t)
	assert_equal "${#sig}" 86
}

@test "every token has a fresh jti" {
	token a.test
	token b.test
	[ "$(jws_part a.test.tok 1 | pj 'd["jti"]')" != "$(jws_part b.test.tok 1 | pj 'd["jti"]')" ]
}

@test "--san names go to the sans claim; the port is left out of aud when it is 443" {
	edit_config 'c["address"] = ":443"'
	run -0 token svc.test --san svc.test --san 10.0.0.7 --san ops@acme.test --san spiffe://acme/svc
	run -0 pj '[d["sans"], d["aud"]]' < <(jws_part svc.test.tok 1)
	assert_output '[["svc.test", "10.0.0.7", "ops@acme.test", "spiffe://acme/svc"], "https://ca.test/1.0/sign"]'
}

@test "--not-after sets the token lifetime, at most one hour; --not-before shifts it" {
	run -0 token svc.test --not-after 10m
	run -0 pj 'd["exp"] - d["nbf"]' < <(jws_part svc.test.tok 1)
	assert_output 600
	run -2 ca-token -d "$CA" --key "$PK" --not-after 2h svc.test
	assert_output --partial "at most 1h"
	run -0 token late.test --not-before 10m
	run -0 pj 'd["nbf"] - d["iat"]' < <(jws_part late.test.tok 1)
	assert_output 600
}

@test "--revoke makes a revocation token: revoke audience, no sans" {
	run -0 token 1234567 --revoke
	run -0 pj '[d["aud"], d["sub"], "sans" in d]' < <(jws_part 1234567.tok 1)
	assert_output '["https://ca.test:8443/1.0/revoke", "1234567", false]'
	run -2 ca-token -d "$CA" --key "$PK" --revoke --san x.test 1
}

@test "-o writes the token to a 0600 file" {
	run -0 ca-token -d "$CA" --key "$PK" -o out.tok svc.test
	assert_output ""
	assert_equal "$(stat -c %a out.tok)" 600
	run -0 ca-sign -d "$CA" --token-file out.tok --key-out k.pem
}

@test "a wrong provisioner password is refused with one line and no token" {
	printf 'nope\n' > bad
	run -1 --separate-stderr ca-token -d "$CA" --password-file bad svc.test
	assert_output ""
	assert_equal "$stderr" 'ca-token: wrong password for provisioner "admin"'
}

@test "a key that is not the provisioner's is refused" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.pem 2>/dev/null
	chmod 600 other.pem
	run -1 --separate-stderr ca-token -d "$CA" --key other.pem svc.test
	assert_output ""
	assert_equal "$stderr" "ca-token: that key is not provisioner \"admin\"'s key"
}

@test "a PEM provisioner key works like the JWK" {
	need_peer joserfc
	"$PYTHON" -c '
import json
from joserfc.jwk import ECKey
from cryptography.hazmat.primitives import serialization as s
k = ECKey.import_key(json.load(open("prov.json")))
open("prov.pem", "wb").write(k.private_key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))'
	chmod 600 prov.pem
	run -0 ca-token -d "$CA" --key prov.pem svc.test
}

@test "usage errors: no subject, both key sources, unknown provisioner" {
	run -2 ca-token -d "$CA" --key "$PK"
	assert_output --partial "SUBJECT is required"
	run -2 ca-token -d "$CA" --key "$PK" --password-file "$PW" x
	assert_output --partial "exclude each other"
	run -2 ca-token -d "$CA" x
	run -2 ca-token -d "$CA" --key "$PK" --not-after 5x x
	assert_output --partial "invalid duration"
	run -1 ca-token -d "$CA" --provisioner nobody --key "$PK" x
	assert_output 'ca-token: no provisioner "nobody"'
}

@test "names ca-sign would refuse are refused when the token is made" {
	run -2 --separate-stderr ca-token -d "$CA" --key "$PK" --san 'bad name!' x.test
	assert_output ""
	assert_equal "$stderr" "ca-token: invalid DNS name 'bad name!' (see ca-token --help)"
	run -2 ca-token -d "$CA" --key "$PK" 'no spaces.test'
}

@test "a token that would outlive the 1 h limit is not made" {
	run -1 --separate-stderr ca-token -d "$CA" --key "$PK" --not-before 30m --not-after 1h x.test
	assert_output ""
	[[ $stderr == "ca-token: a token expiring more than 3600 s after it is made would be refused" ]]
}

@test "a provisioner key that others can read is refused" {
	chmod 644 "$PK"
	run -1 ca-token -d "$CA" --key "$PK" x.test
	assert_output --partial "readable by group or others"
}

@test "offline ca-token reads the configuration only: no db/, no lock file made" {
	rm -rf "$CA/db"
	run -0 ca-token -d "$CA" --key "$PK" svc.test
	assert_dir_not_exists "$CA/db"
}

@test "without --provisioner: the CA's only JWK provisioner; several must be named (as online)" {
	edit_config 'c["authority"]["provisioners"].append({"type": "ACME", "name": "acme"})'
	run -0 ca-token -d "$CA" --key "$PK" svc.test
	run -1 --separate-stderr ca-token -d "$CA" --key "$PK" --provisioner acme svc.test
	# (after a warning that ca.json's ACME provisioner is not served)
	assert_equal "${stderr##*$'\n'}" 'ca-token: provisioner "acme" is of type ACME, not JWK'
	edit_config 'p = dict(c["authority"]["provisioners"][0]); p["name"] = "second"; c["authority"]["provisioners"].append(p)'
	run -1 --separate-stderr ca-token -d "$CA" --key "$PK" svc.test
	assert_output ""
	assert_equal "${stderr##*$'\n'}" 'ca-token: the CA has 2 JWK provisioners: name one with --provisioner'
	run -0 ca-token -d "$CA" --key "$PK" --provisioner second svc.test
}
