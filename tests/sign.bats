#!/usr/bin/env bats
# ca-sign: from token and CSR to a recorded certificate.

load helpers

setup() {
	use_ca
}

@test "init -> token -> sign: the chain verifies with openssl -x509_strict -purpose sslserver" {
	csr svc.test
	token svc.test
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr
	[ -z "$stderr" ]
	echo "$output" > chain.pem
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' chain.pem)" 2
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$CA/certs/root_ca.crt" -untrusted chain.pem chain.pem
	# the second certificate is the intermediate
	awk '/BEGIN/{n++} n==2' chain.pem > second.pem
	run -0 cmp <(openssl x509 -in second.pem -outform DER) <(openssl x509 -in "$CA/certs/intermediate_ca.crt" -outform DER)
	# the certificate's key is the CSR's
	run -0 cmp <(openssl x509 -in chain.pem -noout -pubkey) <(openssl pkey -in svc.test.key -pubout)
}

@test "the leaf profile, checked by python cryptography's server verifier" {
	need_peer cryptography
	csr svc.test "DNS:svc.test,IP:10.0.0.1"
	token svc.test --san svc.test --san 10.0.0.1
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr > chain.pem
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$CA/certs/root_ca.crt" chain.pem 10.0.0.1
	echo "$output" > p
	run -0 pj '[d["chain_length"], d["cn"], d["dns"], d["ip"], d["ca"], d["bc_critical"], d["digital_signature"], d["key_encipherment"], d["ku_critical"], d["server_auth"], d["client_auth"], d["aki_matches_issuer_ski"], d["has_ski"], d["san_critical"]]' < p
	assert_output '[3, ["svc.test"], ["svc.test"], ["10.0.0.1"], false, true, true, false, true, true, true, true, true, false]'
	# serial: positive, 17 octets (>= 128 random bits), at most 20
	run -0 pj '[d["serial_positive"], d["serial_octets"], d["serial_bits"] > 128]' < p
	assert_output '[true, 17, true]'
	# only the extensions of the profile: step-ca's provisioner, SKI, KU,
	# SAN, BC, AKI, EKU
	run -0 pj 'd["extensions"]' < p
	assert_output '["1.3.6.1.4.1.37476.9000.64.1", "2.5.29.14", "2.5.29.15", "2.5.29.17", "2.5.29.19", "2.5.29.35", "2.5.29.37"]'
	# 24 h from now, backdated one minute: notAfter - notBefore + 1 (the
	# last second counts) is 24 h and the backdate, not a second more
	run -0 pj '[d["lifetime_s"], -75 <= d["starts_in_s"] <= -55]' < p
	assert_output '[86459, true]'
}

# provext CERT: the provisioner extension's criticality and whether its
# value is, byte for byte, the DER step-ca's encoding/asn1 writes for
# SEQUENCE { INTEGER 1 (JWK), OCTET STRING name, OCTET STRING kid }, built
# here in python from ca.json's first provisioner.
provext() {
	"$PYTHON" - "$1" "$CA/config/ca.json" <<'PY'
import json, sys
from cryptography import x509
def tlv(tag, b):
    n = len(b)
    h = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + h + b
p = json.load(open(sys.argv[2]))["authority"]["provisioners"][0]
want = tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, p["name"].encode()) + tlv(0x04, p["key"]["kid"].encode()))
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
e = c.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.37476.9000.64.1"))
print(e.critical, e.value.value == want, e.value.value.hex() if e.value.value != want else "")
PY
}

@test "step-ca's provisioner extension (JWK: name and key id) in signed and renewed leaves" {
	need_peer cryptography
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key > svc.crt
	run -0 provext svc.crt
	assert_output "False True "
	run -0 ca-renew -d "$CA" --force svc.crt svc.key
	run -0 provext svc.crt
	assert_output "False True "
	run -0 ca-renew -d "$CA" --force --rekey --key-out svc.key svc.crt svc.key
	run -0 provext svc.crt
	assert_output "False True "
}

@test "claims.disableSmallstepExtensions: no provisioner extension, at issuance and on renewal" {
	edit_config 'c["authority"]["provisioners"][0]["claims"] = {"disableSmallstepExtensions": True}'
	token svc.test
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.crt
	[ -z "$stderr" ] || fail "warned: $stderr"
	run -0 openssl x509 -in svc.crt -noout -text
	refute_output --partial '1.3.6.1.4.1.37476.9000.64.1'
	assert_output --partial 'X509v3 Subject Key Identifier'
	run -0 ca-renew -d "$CA" --force svc.crt svc.key
	run -0 openssl x509 -in svc.crt -noout -text
	refute_output --partial '1.3.6.1.4.1.37476.9000.64.1'
	# false (step-ca's default) keeps it
	edit_config 'c["authority"]["provisioners"][0]["claims"] = {"disableSmallstepExtensions": False}'
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --key-out svc2.key -o svc2.crt
	run -0 openssl x509 -in svc2.crt -noout -text
	assert_output --partial '1.3.6.1.4.1.37476.9000.64.1'
}

@test "authority.backdate sets notBefore = now - backdate; the lifetime still counts from now" {
	local t0 nb na
	edit_config 'c["authority"]["backdate"] = "5m"'
	token svc.test
	t0=$(date +%s)
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key > svc.crt
	nb=$(date -d "$(openssl x509 -in svc.crt -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in svc.crt -noout -enddate | cut -d= -f2)" +%s)
	[ $((t0 - nb)) -ge 295 ] && [ $((t0 - nb)) -le 300 ] || fail "notBefore $((t0 - nb)) s back"
	[ $((na - t0)) -ge 86395 ] && [ $((na - t0)) -le 86400 ] || fail "notAfter $((na - t0)) s ahead"
	edit_config 'c["authority"]["backdate"] = "0s"'
	token svc2.test
	t0=$(date +%s)
	ca-sign -d "$CA" --token-file svc2.test.tok --key-out svc2.key > svc2.crt
	nb=$(date -d "$(openssl x509 -in svc2.crt -noout -startdate | cut -d= -f2)" +%s)
	[ $((nb - t0)) -ge 0 ] && [ $((nb - t0)) -le 5 ] || fail "notBefore $((nb - t0)) s from now"
}

@test "nothing of the CSR but its key reaches the certificate" {
	# a CSR asking for CA:TRUE, keyCertSign and an odd subject
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem \
		-subj "/CN=svc.test/O=Evil Corp/OU=admins" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
		-addext "subjectAltName=DNS:svc.test" -addext "nameConstraints=permitted;DNS:.evil" \
		-out r.csr 2>/dev/null
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr r.csr
	echo "$output" > chain.pem
	run -0 openssl x509 -in chain.pem -noout -subject -ext basicConstraints,keyUsage,nameConstraints
	assert_output --partial "subject=CN = svc.test"
	assert_output --partial "CA:FALSE"
	refute_output --partial "Evil"
	refute_output --partial "Certificate Sign"
	refute_output --partial "Permitted"
}

@test "an RSA 2048 CSR gets keyEncipherment too" {
	need_peer cryptography
	openssl req -new -newkey rsa:2048 -nodes -keyout k.pem -subj /CN=rsa.test -out r.csr 2>/dev/null
	token rsa.test
	ca-sign -d "$CA" --token-file rsa.test.tok --csr r.csr > chain.pem
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$CA/certs/root_ca.crt" chain.pem rsa.test
	run -0 pj '[d["rsa"], d["digital_signature"], d["key_encipherment"]]' <<< "$output"
	assert_output '[true, true, true]'
}

@test "--key-out makes a 0600 key and the CSR from the token's names" {
	need_peer cryptography
	token svc.test --san svc.test --san api.test --san 192.0.2.1 --san ops@acme.test --san spiffe://acme/svc
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o chain.pem
	assert_output ""
	assert_equal "$(stat -c %a svc.key)" 600
	run -0 cmp <(openssl x509 -in chain.pem -noout -pubkey) <(openssl pkey -in svc.key -pubout)
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$CA/certs/root_ca.crt" chain.pem api.test
	run -0 pj '[d["dns"], d["ip"], d["email"], d["uri"]]' <<< "$output"
	assert_output '[["svc.test", "api.test"], ["192.0.2.1"], ["ops@acme.test"], ["spiffe://acme/svc"]]'
	run -0 openssl pkey -in svc.key -noout -text
	assert_output --partial "P-256"
	# RFC 5915 encoding (GnuTLS 3.7 alone pads d to 33 octets half the
	# time, which python's cryptography refuses): check with it, 20 keys
	for i in $(seq 20); do
		token k$i.test
		ca-sign -d "$CA" --token-file k$i.test.tok --key-out k$i.key -o k$i.crt
	done
	run -0 "$PYTHON" -c '
from cryptography.hazmat.primitives.serialization import load_pem_private_key
for i in range(1, 21):
    load_pem_private_key(open("k%d.key" % i, "rb").read(), None)
print("ok")'
	assert_output ok
}

@test "-o into a FIFO and a character device writes in place: neither is replaced" {
	csr svc.test
	token svc.test
	mkfifo out.fifo
	# bounded: an old build renames over the FIFO and never opens it
	timeout 30 cat out.fifo > got.pem 3>&- &
	local reader=$!
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o out.fifo
	assert_output ""
	[ -z "$stderr" ]
	[ -p out.fifo ] || { kill "$reader"; false; }
	wait "$reader"
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' got.pem)" 2
	# nothing staged beside it
	assert_equal "$(ls -A | grep -c tmp)" 0
	# /dev/null itself, as root would have replaced it (unless someone's
	# older build already did)
	if [ -c /dev/null ]; then
		local ino
		ino=$(stat -c %i /dev/null)
		token null.test
		run -0 ca-sign -d "$CA" --token-file null.test.tok --key-out null.key -o /dev/null
		[ -c /dev/null ]
		assert_equal "$(stat -c %i /dev/null)" "$ino"
	fi
}

@test "-o into a character device of our own (root: mknod): written, not replaced" {
	[ "$(id -u)" = 0 ] || skip "mknod needs root"
	mknod -m 0666 null c 1 3 2>/dev/null || skip "mknod refused here"
	token svc.test
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o null
	assert_output ""
	[ -z "$stderr" ]
	[ -c null ]
	assert_equal "$(stat -c %t:%T null)" "1:3"
	assert_equal "$(ls -A | grep -c tmp)" 0
}

@test "-o refuses a symbolic link and a directory before the token is spent; -o - is stdout" {
	csr svc.test
	token svc.test
	ln -s target.pem link.pem
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o link.pem
	assert_output ""
	assert_equal "$stderr" "ca-sign: link.pem: a symbolic link, not followed: name the file it points to"
	[ -L link.pem ]
	[ ! -e target.pem ]
	mkdir dir.pem
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o dir.pem
	assert_equal "$stderr" "ca-sign: dir.pem: a directory"
	assert_equal "$(issued)" 0
	# the token was not spent
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o -
	[ -z "$stderr" ]
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' <<< "$output")" 2
	assert_equal "$(ls -A | grep -c tmp)" 0
}

@test "past RLIMIT_FSIZE: ca-sign and ca-token fail in one line naming the file, nothing half-written" {
	token svc.test
	echo old > out.pem
	local before
	before=$(store_state)
	# 1 KiB: the store cannot take the new records (it dies of SIGXFSZ, 153, unless ignored)
	run -1 bash -c 'ulimit -f 1; exec "$@"' _ ca-sign -d "$CA" --token-file svc.test.tok \
		--key-out svc.key -o out.pem
	assert_output --regexp '^ca-sign: .*/ca\.gdbm: .*File too large$'
	assert_equal "${#lines[@]}" 1
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cat out.pem)" old
	[ ! -e svc.key ]
	# the token was not spent
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o out.pem
	run -0 ca-db -d "$CA" check
	assert_output "1 certificates, 0 problems"
	# an output file past the limit: the old one stays, no temporary file
	echo old > t.tok
	run -1 bash -c 'ulimit -f 0; exec "$@"' _ ca-token -d "$CA" --key "$PK" -o t.tok x.test
	assert_output "ca-token: t.tok: file too large (file size limit)"
	assert_equal "$(cat t.tok)" old
	assert_equal "$(ls -A | grep -c tmp)" 0
}

@test "--key-out refuses an existing file before the token is spent" {
	token svc.test
	echo keep > svc.key
	run -1 ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key
	assert_output "ca-sign: svc.key: already exists"
	assert_equal "$(cat svc.key)" keep
	assert_equal "$(issued)" 0
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --key-out new.key
}

@test "--not-after and --not-before set the validity within the claims" {
	need_peer cryptography
	csr svc.test
	token svc.test
	t0=$(date -u +%s)
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --not-after 1h > c.pem
	t1=$(date -u +%s)
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$CA/certs/root_ca.crt" c.pem svc.test
	# 1 h from when ca-sign ran, the start backdated a minute: 3660 s, or
	# less by the seconds ca-sign's clock ticked between reading --not-after
	# and signing (a notAfter asked for is kept as asked)
	run -0 pj 'd["lifetime_s"]' <<< "$output"
	[ "$output" -le 3660 ] && [ "$output" -ge $((3660 - (t1 - t0))) ]
	na=$(date -u -d "$(openssl x509 -in c.pem -noout -enddate | cut -d= -f2)" +%s)
	[ "$na" -ge $((t0 + 3600)) ] && [ "$na" -le $((t1 + 3600)) ]
	token svc.test
	nb=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
	na=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --not-before "$nb" --not-after "$na" > c2.pem
	run -0 openssl x509 -in c2.pem -noout -startdate -enddate
	assert_output "notBefore=$(date -u -d "$nb" '+%b %e %H:%M:%S %Y GMT')
notAfter=$(date -u -d "$na" '+%b %e %H:%M:%S %Y GMT')"
}

@test "a lifetime outside the claims is refused and the token stays unused" {
	csr svc.test
	token svc.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --not-after 48h
	assert_output ""
	[[ $stderr == *"outside provisioner \"admin\"'s 5m0s to 24h0m0s"* ]]
	run -1 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --not-after 1m
	assert_equal "$(issued)" 0
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr
	assert_equal "$(issued)" 1
}

@test "provisioner claims in ca.json change the default and the limits" {
	need_peer cryptography
	edit_config 'c["authority"]["provisioners"][0]["claims"] = {"defaultTLSCertDuration": "2h", "maxTLSCertDuration": "72h"}'
	csr svc.test
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr > c.pem
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$CA/certs/root_ca.crt" c.pem svc.test
	run -0 pj 'd["lifetime_s"]' <<< "$output"
	assert_output 7259
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --not-after 48h
}

@test "never past the intermediate's notAfter" {
	edit_config 'c["authority"]["claims"]["maxTLSCertDuration"] = "200000h"'
	csr svc.test
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --not-after 175000h > c.pem
	run -0 openssl x509 -in c.pem -noout -enddate
	leaf=$output
	run -0 openssl x509 -in "$CA/certs/intermediate_ca.crt" -noout -enddate
	assert_equal "$leaf" "$output"
}

@test "the token and CSR can come from standard input" {
	csr svc.test
	token svc.test
	run -0 ca-sign -d "$CA" --token-file - --csr svc.test.csr < svc.test.tok
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr - < svc.test.csr
	run -2 ca-sign -d "$CA" --token-file - --csr -
}

@test "an encrypted intermediate key needs --password-file" {
	rm -rf ca2
	ca-init -d ca2 --name Enc --dns ca.test --provisioner admin --password-file "$PW" \
		--provisioner-key-out pk2.json -q > /dev/null
	csr svc.test
	ca-token -d ca2 --key pk2.json svc.test > t
	run -1 --separate-stderr ca-sign -d ca2 --token-file t --csr svc.test.csr
	[[ $stderr == *"the intermediate key is encrypted: give --password-file" ]]
	printf 'wrong\n' > bad
	run -1 --separate-stderr ca-sign -d ca2 --token-file t --csr svc.test.csr --password-file bad
	[[ $stderr == *"intermediate_ca_key: wrong password" ]]
	run -0 ca-sign -d ca2 --token-file t --csr svc.test.csr --password-file "$PW"
}

@test "DER CSRs are accepted" {
	csr svc.test
	openssl req -in svc.test.csr -outform DER -out svc.der
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.der
}

@test "ed25519 and ec-p384 CAs issue certificates that openssl verifies" {
	for kt in ed25519 ec-p384; do
		rm -rf ca-$kt
		ca-init -d ca-$kt --name K --dns ca.test --provisioner admin --password-file "$PW" \
			--unencrypted-intermediate-key --provisioner-key-out pk-$kt.json --key-type $kt -q > /dev/null
		ca-token -d ca-$kt --key pk-$kt.json svc.test > t
		run -0 ca-sign -d ca-$kt --token-file t --key-out key-$kt.pem -o c.pem
		run -0 openssl verify -x509_strict -purpose sslserver -CAfile ca-$kt/certs/root_ca.crt -untrusted c.pem c.pem
	done
	# --key-out follows the CA's key type
	run -0 openssl pkey -in key-ed25519.pem -noout -text
	assert_output --partial "ED25519"
	run -0 "$PYTHON" -c '
from cryptography.hazmat.primitives.serialization import load_pem_private_key
for k in ("key-ed25519.pem", "key-ec-p384.pem"):
    load_pem_private_key(open(k, "rb").read(), None)
print("ok")'
	assert_output ok
}

@test "notBefore at most the longest lifetime ahead; notAfter's second counts in the lifetime" {
	need_peer cryptography
	csr svc.test
	token svc.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok \
		--csr svc.test.csr --not-before 8761h --not-after 8762h
	assert_output ""
	assert_equal "$stderr" "ca-sign: requested notBefore is more than 24h0m0s (provisioner \"admin\"'s longest lifetime) ahead"
	assert_equal "$(issued)" 0
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr \
		--not-before 23h --not-after 24h -o c.pem
	# The default leaf: 24 h from now and the minute of backdate, the
	# notAfter second included.
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o d.pem
	run -0 "$PYTHON" - d.pem <<'PY'
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
print(int((c.not_valid_after_utc - c.not_valid_before_utc).total_seconds()) + 1)
PY
	assert_output 86460
}
