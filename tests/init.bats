#!/usr/bin/env bats
# ca-init: the state directory, the CA certificates, the provisioner.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'init-password\n' > pw
}

init() {
	ca-init -d ca --name "Acme" --dns ca.acme.test,10.1.2.3 \
		--address :9443 --provisioner ops --password-file pw "$@"
}

@test "ca-init creates step-ca's layout with private modes and prints the root fingerprint" {
	run -0 --separate-stderr init
	[ -z "$stderr" ]
	fp=$(openssl x509 -in ca/certs/root_ca.crt -outform DER | sha256sum | cut -d' ' -f1)
	assert_equal "$output" "$fp"
	for d in ca ca/config ca/certs ca/secrets ca/db; do
		assert_equal "$(stat -c %a "$d")" 700
	done
	assert_equal "$(stat -c %a ca/secrets/root_ca_key)" 600
	assert_equal "$(stat -c %a ca/secrets/intermediate_ca_key)" 600
	assert_equal "$(stat -c %a ca/config/ca.json)" 600
	assert_file_exists ca/db/ca.gdbm
	# no temporary directory left next to it
	run -0 find . -maxdepth 1 -name 'ca.init-*'
	assert_output ""
}

@test "ca.json has step-ca's members and a JWK provisioner with an encryptedKey" {
	run -0 init
	run -0 pj '[d["root"], d["crt"], d["key"], d["address"], d["dnsNames"], d["db"]["type"], d["authority"]["claims"]["maxTLSCertDuration"]]' < ca/config/ca.json
	assert_output '["certs/root_ca.crt", "certs/intermediate_ca.crt", "secrets/intermediate_ca_key", ":9443", ["ca.acme.test", "10.1.2.3"], "gdbm", "24h0m0s"]'
	run -0 pj '(lambda p: [p["type"], p["name"], p["key"]["kty"], p["key"]["crv"], p["key"]["alg"], "d" in p["key"]])(d["authority"]["provisioners"][0])' < ca/config/ca.json
	assert_output '["JWK", "ops", "EC", "P-256", "ES256", false]'
}

@test "the encryptedKey is a step-ca style JWE that joserfc decrypts to the provisioner key" {
	need_peer joserfc
	run -0 init
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" decrypt ca/config/ca.json pw
	dec=$output
	echo "$dec" | pj 'd["header"]' > hdr
	run -0 pj '[d["alg"], d["enc"], d["p2c"], d["cty"], len(d["p2s"]) >= 16]' < hdr
	assert_output '["PBES2-HS256+A128KW", "A256GCM", 600000, "jwk+json", true]'
	# the private key's public half is the provisioner's key
	echo "$dec" | pj '[d["jwk"]["x"], d["jwk"]["y"], d["jwk"]["kid"]]' > got
	run -0 pj '[d["authority"]["provisioners"][0]["key"][k] for k in ("x", "y", "kid")]' < ca/config/ca.json
	assert_equal "$output" "$(cat got)"
}

@test "the kid is the RFC 7638 thumbprint of the provisioner key (as joserfc computes it)" {
	need_peer joserfc
	run -0 init
	run -0 "$PYTHON" -c '
import json, sys
from joserfc.jwk import ECKey
k = json.load(open("ca/config/ca.json"))["authority"]["provisioners"][0]["key"]
print(ECKey.import_key(k).thumbprint() == k["kid"])'
	assert_output True
}

@test "root (pathlen 1) and intermediate (pathlen 0) verify with openssl -x509_strict" {
	run -0 init
	run -0 openssl verify -x509_strict -CAfile ca/certs/root_ca.crt ca/certs/intermediate_ca.crt
	run -0 openssl x509 -in ca/certs/root_ca.crt -noout -ext basicConstraints,keyUsage -subject
	assert_output --partial "CA:TRUE, pathlen:1"
	assert_output --partial "Certificate Sign, CRL Sign"
	assert_output --partial "CN = Acme Root CA"
	run -0 openssl x509 -in ca/certs/intermediate_ca.crt -noout -ext basicConstraints
	assert_output --partial "CA:TRUE, pathlen:0"
	# ten years
	end=$(date -d "$(openssl x509 -in ca/certs/root_ca.crt -noout -enddate | cut -d= -f2)" +%s)
	[ $(( (end - $(date +%s)) / 86400 )) -ge 3650 ]
}

@test "both CA keys are encrypted PKCS#8 (PBES2 AES-256) by default" {
	run -0 init
	for k in root_ca_key intermediate_ca_key; do
		run -0 grep -c "BEGIN ENCRYPTED PRIVATE KEY" "ca/secrets/$k"
		run -0 openssl pkcs8 -in "ca/secrets/$k" -passin file:pw -topk8 -nocrypt
		run ! openssl pkey -in "ca/secrets/$k" -passin pass:wrong
	done
	run -0 openssl asn1parse -in ca/secrets/root_ca_key
	assert_output --partial "aes-256-cbc"
	assert_output --partial "PBES2"
}

@test "--unencrypted-intermediate-key warns and keeps the root key encrypted" {
	run -0 --separate-stderr init --unencrypted-intermediate-key
	assert_equal "$(echo "$stderr" | wc -l)" 1
	[[ $stderr == ca-init:*unencrypted* ]]
	run -0 grep -c "BEGIN PRIVATE KEY" ca/secrets/intermediate_ca_key
	run -0 grep -c "BEGIN ENCRYPTED PRIVATE KEY" ca/secrets/root_ca_key
	assert_equal "$(stat -c %a ca/secrets/intermediate_ca_key)" 600
}

@test "--provisioner-key-out writes the plain JWK 0600 and a separate provisioner password works" {
	need_peer joserfc
	printf 'other-password\n' > ppw
	run -0 init --provisioner-password-file ppw --provisioner-key-out pk.json
	assert_equal "$(stat -c %a pk.json)" 600
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" decrypt ca/config/ca.json ppw
	run ! "$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" decrypt ca/config/ca.json pw
}

@test "key types: ec-p384, ed25519 and rsa-3072 CAs verify with openssl" {
	for kt in ec-p384 ed25519 rsa-3072; do
		rm -rf ca
		run -0 init --key-type "$kt"
		run -0 openssl verify -x509_strict -CAfile ca/certs/root_ca.crt ca/certs/intermediate_ca.crt
		run -0 pj 'd["caTools"]["keyType"]' < ca/config/ca.json
		assert_output "$kt"
	done
	run -0 openssl x509 -in ca/certs/root_ca.crt -noout -text
	assert_output --partial "3072 bit"
}

@test "ca-init refuses to touch an existing CA and leaves it unchanged" {
	run -0 init
	before=$(find ca -type f -exec sha256sum {} + | sort)
	run -1 --separate-stderr init
	assert_output ""
	[[ $stderr == "ca-init: "*"already exists"* ]]
	assert_equal "$(find ca -type f -exec sha256sum {} + | sort)" "$before"
}

@test "ca-init accepts an empty directory" {
	mkdir ca
	run -0 init
	assert_file_exists ca/config/ca.json
}

@test "missing or repeated options are usage errors (exit 2)" {
	run -2 ca-init -d ca --dns x.test --provisioner p --password-file pw
	assert_output --partial -- "--name is required"
	run -2 ca-init -d ca --name X --provisioner p --password-file pw
	run -2 ca-init -d ca --name X --dns x.test --password-file pw
	run -2 ca-init -d ca --name X --dns x.test --provisioner p
	run -2 ca-init -d ca -d ca2 --name X --dns x.test --provisioner p --password-file pw
	run -2 ca-init --name X --dns x.test --provisioner p --password-file pw
	assert_output --partial "state directory"
	run -2 ca-init --bogus
	assert_dir_not_exists ca
}

@test "bad input leaves nothing behind: bad DNS name, bad key type, empty password" {
	run -2 --separate-stderr init --dns 'bad name!'
	assert_equal "$stderr" "ca-init: --dns: invalid DNS name 'bad name!' (see ca-init --help)"
	run -2 init --dns ops@acme.test
	assert_output --partial "--dns takes DNS names and IP addresses"
	run -2 init --key-type dsa
	assert_output --partial "unknown key type 'dsa'"
	for a in foo foo: :x :70000 '[::1:443'; do
		run -2 init --address "$a"
		assert_output --partial -- "--address"
	done
	: > empty
	run -1 ca-init -d ca --name X --dns x.test --provisioner p --password-file empty
	assert_output --partial "empty password"
	run -1 ca-init -d ca --name X --dns x.test --provisioner p --password-file missing
	assert_output --partial "missing: No such file"
	assert_dir_not_exists ca
	run -0 find . -maxdepth 1 -name 'ca*'
	assert_output ""
}

@test "CA_STATE_DIR stands in for -d" {
	CA_STATE_DIR=$BATS_TEST_TMPDIR/envca run -0 ca-init --name X --dns x.test --provisioner p --password-file pw
	assert_file_exists envca/config/ca.json
}
