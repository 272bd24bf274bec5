#!/usr/bin/env bats
# scep.bats - the SCEP provisioner (RFC 8894) end to end through ca-serve:
# Debian's scepclient (micromdm) enrols and renews over the plain HTTP
# listener (also through a registration authority), every message type's
# own authorization (step-ca's CVE-2026-30836 was an UpdateReq signed
# without a challenge) with the messages of tests/scep-tool.py, and what
# the plain listener serves.
# Answers are read with openssl cms; certificates checked with openssl
# verify -x509_strict. The PKCS#7 details are tests/unit/test-scep.c's.

load helpers

# One CA and one ca-serve for the file: provisioners "admin" (JWK), "acme"
# (ACME), "scep" (SCEP, challenge in $BATS_FILE_TMPDIR/challenge, an RSA
# decrypter issued by the intermediate, AES-256 answers) and "strict" (the
# same, RSA keys of 4096 bits at least), with privilege separation.
setup_file() {
	command -v scepclient >/dev/null || return 0
	make_template_ca
	CA=$BATS_FILE_TMPDIR/ca
	cp -a "$BATS_FILE_TMPDIR/template/ca" "$CA"
	local t=$BATS_FILE_TMPDIR
	openssl req -new -newkey rsa:2048 -nodes -keyout "$t/ra.key" \
		-subj "/CN=scep SCEP RA" -out "$t/ra.csr" 2>/dev/null
	openssl x509 -req -in "$t/ra.csr" -CA "$CA/certs/intermediate_ca.crt" \
		-CAkey "$CA/secrets/intermediate_ca_key" -days 1 -out "$t/ra.crt" \
		-extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\n') 2>/dev/null
	printf 'secret-challenge' > "$t/challenge"
	T=$t edit_config '
import base64, os
t = os.environ["T"]
b = lambda f: base64.b64encode(open(os.path.join(t, f), "rb").read()).decode()
c["authority"]["provisioners"].append({"type": "ACME", "name": "acme"})
for name, bits in (("scep", 0), ("strict", 4096)):
    c["authority"]["provisioners"].append({"type": "SCEP", "name": name,
        "challenge": open(os.path.join(t, "challenge")).read(),
        "encryptionAlgorithmIdentifier": 2, "minimumPublicKeyLength": bits,
        "decrypterCertificate": b("ra.crt"), "decrypterKeyPEM": b("ra.key")})'
	local fifo=$t/ready.fifo
	SERVER_LOG=$t/serve.log
	mkfifo "$fifo"
	# Privilege separation: SCEP runs in the signer, with the decrypter
	# key (OP_SCEP); the matrix's scep row covers the single process.
	ca-serve -d "$CA" --privsep --listen 127.0.0.1:0 \
		--insecure-listen 127.0.0.1:0 --ready-fd 3 --log-file "$SERVER_LOG" \
		3>"$fifo" &
	SERVER_PID=$!
	{ read -r PORT; read -r HPORT; } < "$fifo" || true
	[ -n "$HPORT" ] || { cat "$SERVER_LOG" >&2; return 1; }
	URL=https://localhost:$PORT
	SCEP=http://127.0.0.1:$HPORT/scep/scep
	RA=$t/ra.crt
	RA_FP=$(openssl x509 -in "$RA" -outform DER | sha256sum | cut -d' ' -f1)
	export CA SERVER_LOG SERVER_PID PORT HPORT URL SCEP RA RA_FP
}

teardown_file() {
	stop_server
}

setup() {
	if ! command -v scepclient >/dev/null; then
		[ "${CA_REQUIRE_PEERS:-0}" != 1 ] || fail "needs scepclient (Debian scep)"
		skip "needs scepclient (Debian package scep)"
	fi
	need_peer cryptography
	cd "$BATS_TEST_TMPDIR"
}

# msgs OUT:TYPE[:CHALLENGE[:NONCE]]...: pkiMessages (scep-tool.py), all
# signed by the key k.pem through the self-signed certificate s.pem.
msgs() {
	"$PYTHON" "$CA_TOP_SRCDIR/tests/scep-tool.py" --ra "$RA" \
		--key-out k.pem --cert-out s.pem "$@"
}

# post FILE: POST it as PKIOperation; rep.der, the status code printed.
post() {
	curl -sS --data-binary @"$1" -o rep.der -w '%{http_code}' \
		-H 'Content-Type: application/x-pki-message' \
		"$SCEP?operation=PKIOperation"
}

# rep_status [unchecked]: the CertRep's pkiStatus and failInfo ("-" if
# none), as openssl reads them once it has checked the signature (unless
# told: every answer is signed the same way, and openssl is slow here).
rep_status() {
	[ "${1:-}" = unchecked ] ||
		openssl cms -verify -noverify -inform DER -in rep.der \
		-out /dev/null 2>/dev/null || { echo "bad signature"; return 1; }
	openssl cms -cmsout -print -inform DER -in rep.der | awk '
	/\(2\.16\.840\.1\.113733\.1\.9\.[34]\)/ { a = substr($0, length($0) - 1, 1); next }
	a != "" && /PRINTABLESTRING:/ { sub(/.*PRINTABLESTRING:/, ""); v[a] = $0; a = "" }
	END { print v[3], (4 in v ? v[4] : "-") }'
}

# refused FILE...: each gets a FAILURE badRequest, and the store is byte
# for byte as it was.
refused() {
	local before f check=
	before=$(store_state)
	for f; do
		run -0 post "$f"
		assert_output 200
		[ "$(rep_status $check)" = "2 2" ] ||
			fail "$f: pkiStatus, failInfo $(rep_status)"
		check=unchecked
	done
	assert_equal "$(store_state)" "$before"
}

@test "scepclient enrols (PKCSReq) and renews (RenewalReq) over plain HTTP; openssl verifies; ca-db records the provisioner" {
	local before
	before=$(issued)
	run -0 --separate-stderr scepclient -server-url "$SCEP" \
		-private-key c.key -cn scep.test -ca-fingerprint "$RA_FP" \
		-challenge "$(cat "$BATS_FILE_TMPDIR/challenge")"
	[[ $stderr == *'pkiStatus=SUCCESS'* ]] || fail "$stderr"
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$CA/certs/intermediate_ca.crt" client.pem
	run -0 openssl x509 -in client.pem -noout -subject -ext subjectAltName
	assert_line 'subject=CN = scep.test'
	assert_line '    DNS:scep.test'
	assert_equal "$(issued)" $((before + 1))
	run -0 ca-db -d "$CA" show --json "0x$(serial_of client.pem)"
	assert_equal "$(pj 'd["provisioner"]' <<< "$output")" scep
	# The same key and CSR again, signed by its certificate: a RenewalReq.
	cp client.pem old.pem
	run -0 --separate-stderr scepclient -server-url "$SCEP" \
		-private-key c.key -certificate client.pem -cn scep.test \
		-ca-fingerprint "$RA_FP" -challenge "$(cat "$BATS_FILE_TMPDIR/challenge")"
	grep -q "scep=\"issued $(serial_of client.pem) to a RenewalReq" "$SERVER_LOG"
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$CA/certs/intermediate_ca.crt" client.pem
	[ "$(serial_of client.pem)" != "$(serial_of old.pem)" ]
	# Revoked, its certificate renews no more, nothing recorded.
	run -0 ca-revoke -d "$CA" "0x$(serial_of client.pem)"
	cp client.pem revoked.pem
	local before
	before=$(store_state)
	run -1 --separate-stderr scepclient -server-url "$SCEP" \
		-private-key c.key -certificate client.pem -cn scep.test \
		-ca-fingerprint "$RA_FP" -challenge "$(cat "$BATS_FILE_TMPDIR/challenge")"
	[[ $stderr == *'op=PKIOperation'* ]] || fail "$stderr"
	assert_equal "$(store_state)" "$before"
	cmp client.pem revoked.pem
	grep -q 'to type 17 (the RenewalReq.s signer certificate is revoked)' "$SERVER_LOG"
}

# The RA's SCEP provisioner "scep" (ra_serve's callback): it has no
# intermediate key, so the decrypter must be given (ra.crt, issued by the
# upstream's intermediate).
ra_scep() {
	local t=$BATS_FILE_TMPDIR
	run -1 --separate-stderr ca-provisioner -d "$RA" add bare --type SCEP \
		--challenge-file "$t/challenge"
	[[ $stderr == *'SCEP on a registration authority needs "decrypterCertificate" and "decrypterKeyPEM"'* ]] ||
		fail "$stderr"
	ca-provisioner -d "$RA" add scep --type SCEP --challenge-file "$t/challenge" \
		--decrypter-cert "$t/ra.crt" --decrypter-key "$t/ra.key"
}

@test "through a registration authority: scepclient enrols and renews, the upstream CA issues, openssl verifies, both record it; a renewal of what the RA never recorded refused" {
	local PW=$BATS_FILE_TMPDIR/template/pw FP ch url
	FP=$(cat "$BATS_FILE_TMPDIR/template/fp")
	ch=$(cat "$BATS_FILE_TMPDIR/challenge")
	# A certificate of the same intermediate, enrolled at the CA itself.
	mkdir f
	run -0 --separate-stderr sh -c 'cd f && exec scepclient -server-url "$1" \
		-private-key f.key -cn ra.scep.test -ca-fingerprint "$2" -challenge "$3"' \
		sh "$SCEP" "$RA_FP" "$ch"
	msgs wrong.der:19:wrong ok.der:19:"$ch":0102030405060708090a0b0c0d0e0f11
	RA_HTTP=1 ra_serve ra_scep
	url=http://127.0.0.1:$RA_HPORT/scep/scep
	# Refused at the RA, nothing relayed (the upstream's store unchanged):
	# a wrong challenge, a senderNonce again.
	SCEP=$url refused wrong.der
	SCEP=$url run -0 post ok.der
	assert_equal "$(rep_status)" "0 -"
	SCEP=$url refused ok.der
	grep -q "scep=\"FAILURE failInfo=2 to type 19 (senderNonce already used)" \
		"$BATS_TEST_TMPDIR/ra.log"
	# GetCACert: the decrypter, then the upstream's intermediate.
	curl -sSf -o ca.p7 "$url?operation=GetCACert"
	run -0 openssl pkcs7 -inform DER -in ca.p7 -print_certs -noout
	assert_equal "$(grep -c '^subject=' <<< "$output")" 2
	assert_line --index 0 'subject=CN = scep SCEP RA'
	run -0 --separate-stderr scepclient -server-url "$url" -private-key c.key \
		-cn ra.scep.test -ca-fingerprint "$RA_FP" -challenge "$ch"
	[[ $stderr == *'pkiStatus=SUCCESS'* ]] || fail "$stderr"
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$CA/certs/intermediate_ca.crt" client.pem
	cp client.pem old.pem
	run -0 --separate-stderr scepclient -server-url "$url" -private-key c.key \
		-certificate client.pem -cn ra.scep.test -ca-fingerprint "$RA_FP" -challenge "$ch"
	[ "$(serial_of client.pem)" != "$(serial_of old.pem)" ]
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$CA/certs/intermediate_ca.crt" client.pem
	# The CA's own certificate, not recorded by the RA: nothing relayed.
	local before
	before=$(issued)
	run -1 --separate-stderr scepclient -server-url "$url" -private-key f/f.key \
		-certificate f/client.pem -cn ra.scep.test -ca-fingerprint "$RA_FP" \
		-challenge "$ch"
	grep -q 'to type 17 (a RenewalReq must be signed by a certificate this registration authority recorded)' \
		"$BATS_TEST_TMPDIR/ra.log"
	assert_equal "$(issued)" "$before"
	stop_ra
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^$(serial_of old.pem)"$'\t.*\tvalid\tadmin\t'
	assert_line --regexp "^$(serial_of client.pem)"$'\t.*\tvalid\tadmin\t'
	run -0 ca-db -d "$RA" list
	assert_line --regexp "^$(serial_of old.pem)"$'\t.*\tvalid\tscep\tCN=ra.scep.test\tra.scep.test\t.*\tCN=ra.scep.test; tx='
	assert_line --regexp "^$(serial_of client.pem)"$'\t.*\tvalid\tscep\tCN=ra.scep.test\tra.scep.test\t.*\tCN=ra.scep.test; tx='
	assert_equal "$(ca-db -d "$RA" list | tail -n +2 | wc -l)" 4
}

# certmonger without D-Bus (DESIGN13 3.2): private state directories, a
# peer-to-peer socket, one shot (-c: it exits with the command). OpenSSL 3
# inside it cannot read DES: the provisioner answers with AES-256.
@test "certmonger enrols and re-enrols (getcert request, resubmit); openssl verifies" {
	command -v certmonger >/dev/null || {
		[ "${CA_REQUIRE_PEERS:-0}" != 1 ] || fail "needs certmonger"
		skip "needs certmonger"
	}
	local t=$BATS_TEST_TMPDIR/cm
	mkdir -p "$t/req" "$t/cas" "$t/conf" "$t/local"
	cp "$BATS_FILE_TMPDIR/challenge" "$t/challenge"
	cat > "$t/run.sh" <<EOF
set -e
getcert add-scep-ca -c ca-tools -u $SCEP -N $CA/certs/root_ca.crt
getcert request -c ca-tools -k $t/key.pem -f $t/cert.pem -N CN=cm.test \\
	-D cm.test -l $t/challenge -w --wait-timeout 30
cp $t/cert.pem $t/first.pem
getcert resubmit -f $t/cert.pem -w --wait-timeout 30
getcert list
EOF
	CERTMONGER_REQUESTS_DIR=$t/req CERTMONGER_CAS_DIR=$t/cas \
	CERTMONGER_CONFIG_DIR=$t/conf CERTMONGER_LOCAL_CA_DIR=$t/local \
	CERTMONGER_SYSTEM_LOCK_FILE=$t/lock CERTMONGER_PVT_ADDRESS=unix:path=$t/sock \
		run -0 --separate-stderr timeout 60 certmonger -n -L -P "$t/sock" \
		-p "$t/pid" -c "sh $t/run.sh"
	assert_line --partial 'status: MONITORING'
	for c in first cert; do
		run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
			-untrusted "$CA/certs/intermediate_ca.crt" "$t/$c.pem"
	done
	run -0 openssl x509 -in "$t/cert.pem" -noout -subject -ext subjectAltName
	assert_line 'subject=CN = cm.test'
	assert_line '    DNS:cm.test'
	[ "$(serial_of "$t/cert.pem")" != "$(serial_of "$t/first.pem")" ]
	grep -q "scep=\"issued $(serial_of "$t/cert.pem") to a PKCSReq" "$SERVER_LOG"
}

@test "GetCACaps, GetCACert; the plain listener serves SCEP, CRL and health only, the TLS one SCEP too" {
	run -0 curl -sS "$SCEP?operation=GetCACaps"
	assert_output "$(printf 'Renewal\r\nSHA-1\r\nSHA-256\r\nAES\r\nDES3\r\nSCEPStandard\r\nPOSTPKIOperation')"
	run -0 curl -sS -o ca.p7 -w '%{content_type}' "$SCEP/pkiclient.exe?operation=GetCACert"
	assert_output application/x-x509-ca-ra-cert
	run -0 openssl pkcs7 -inform DER -in ca.p7 -print_certs -noout
	assert_output --partial 'subject=CN = scep SCEP RA'
	assert_output --partial 'subject=O = Test, CN = Test Intermediate CA'
	run -0 curl -sS -w ' %{http_code}' "http://127.0.0.1:$HPORT/health"
	assert_output '{"status":"ok"} 200'
	run -0 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/crl"
	assert_output 200
	for p in /roots /1.0/sign; do
		run -0 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT$p"
		assert_output 404
	done
	run -0 api "/scep/scep?operation=GetCACaps"
	assert_line --index 0 $'Renewal\r'
	assert_line 200
	# ca.json's insecureAddress, when ca-serve is given no --insecure-listen.
	cp -a "$CA" own
	CA=$PWD/own edit_config 'c["insecureAddress"] = "127.0.0.1:0"'
	mkfifo ready
	ca-serve -d own --listen 127.0.0.1:0 --ready-fd 3 --log-file own.log 3>ready &
	local pid=$! p1 p2
	{ read -r p1; read -r p2; } < ready || true
	run -0 curl -sS -w ' %{http_code}' "http://127.0.0.1:$p2/health"
	kill -TERM "$pid"
	wait "$pid"
	assert_output '{"status":"ok"} 200'
	grep -q "listening on port $p2 (plain HTTP" own.log
}

@test "/provisioners: the challenge and the decrypter redacted exactly as step-ca's" {
	run -0 api /provisioners
	assert_line 200
	[[ $output != *"$(cat "$BATS_FILE_TMPDIR/challenge")"* ]] || fail "$output"
	[[ $output != *LS0tLS1CRUdJT* ]] || fail "a PEM in base64: $output"
	run -0 pj '[[p.get(k) for k in ("challenge", "decrypterKey",
	    "decrypterKeyPassword", "decrypterCertificate", "decrypterKeyPEM",
	    "encryptionAlgorithmIdentifier")] for p in d["provisioners"]
	    if p["name"] == "scep"]' <<< "$(head -n -1 <<< "$output")"
	assert_output '[["*** REDACTED ***", "*** REDACTED ***", "*** REDACTED ***", "KioqIFJFREFDVEVEICoqKg==", "KioqIFJFREFDVEVEICoqKg==", 2]]'
}

@test "every message type's own rule: wrong challenge, UpdateReq, foreign RenewalReq, CertPoll, GetCert, GetCRL, a short key, a replayed senderNonce: FAILURE, nothing recorded" {
	local c
	c=$(cat "$BATS_FILE_TMPDIR/challenge")
	# CVE-2026-30836: an UpdateReq is never signed, right challenge or not;
	# a RenewalReq signed by a certificate this CA did not issue neither.
	msgs wrong.der:19:wrong none.der:19 update.der:18:"$c" \
		renewal.der:17:"$c" poll.der:20 getcert.der:21 getcrl.der:22 \
		other.der:99 \
		ok.der:19:"$c":0102030405060708090a0b0c0d0e0f10
	refused wrong.der none.der update.der renewal.der poll.der getcert.der \
		getcrl.der other.der
	# A 2048-bit key where the provisioner wants 4096.
	SCEP=${SCEP%/scep}/strict refused ok.der
	# The right one issues once; its senderNonce again is refused.
	run -0 post ok.der
	assert_equal "$(rep_status)" "0 -"
	openssl cms -verify -noverify -inform DER -in rep.der -out env.der 2>/dev/null
	openssl cms -decrypt -inform DER -in env.der -recip s.pem -inkey k.pem -out deg.der
	run -0 openssl pkcs7 -inform DER -in deg.der -print_certs -noout
	assert_output --partial 'subject=CN = scep-tool.test'
	refused ok.der
	grep -q 'to type 19 (wrong or missing challenge password)' "$SERVER_LOG"
	grep -q 'to type 18 (UpdateReq is not accepted)' "$SERVER_LOG"
	grep -q 'to type 17 (a RenewalReq must be signed by a certificate of this CA)' "$SERVER_LOG"
	grep -q "to type 19 (the CSR's RSA key is shorter than minimumPublicKeyLength)" "$SERVER_LOG"
	grep -q "scep=\"FAILURE failInfo=2 to type 19 (senderNonce already used)" "$SERVER_LOG"
}

@test "not a SCEP provisioner, not a SCEP message: 400 and nothing decrypted; unknown provisioner 404" {
	# Any pkiMessage: certmonger's, captured (tests/fixtures/scep).
	cp "$CA_FIXTURES/scep/certmonger-pkcsreq-aes256-to-ra.der" msg.der
	local before
	before=$(store_state)
	for p in admin acme; do
		run -0 curl -sS -w ' %{http_code}' --data-binary @msg.der \
			"http://127.0.0.1:$HPORT/scep/$p?operation=PKIOperation"
		assert_output 'provisioner must be of type SCEP
 400'
	done
	run -0 curl -sS -o /dev/null -w '%{http_code}' --data-binary @msg.der \
		"http://127.0.0.1:$HPORT/scep/nobody?operation=PKIOperation"
	assert_output 404
	# A JWK token where a pkiMessage belongs.
	ca-token -d "$CA" --key "$BATS_FILE_TMPDIR/template/prov.json" svc.test > t.tok
	run -0 curl -sS -w ' %{http_code}' --data-binary @t.tok "$SCEP?operation=PKIOperation"
	assert_output 'SCEP message: not a PKCS#7 SignedData
 400'
	assert_equal "$(store_state)" "$before"
}

@test "ca-provisioner add --type SCEP: a challenge and a decrypter; without one, refused on an EC intermediate" {
	cp -a "$CA" own
	printf 'pw\n' > ch
	run -0 ca-provisioner -d own add s2 --type SCEP --challenge-file ch \
		--decrypter-cert "$RA" --decrypter-key "$BATS_FILE_TMPDIR/ra.key"
	run -0 pj '[(p["challenge"], p["encryptionAlgorithmIdentifier"],
	    __import__("base64").b64decode(p["decrypterCertificate"]).decode() ==
	    open("'"$RA"'").read()) for p in d["authority"]["provisioners"]
	    if p["name"] == "s2"]' < own/config/ca.json
	assert_output '[["pw", 2, true]]'
	run -1 --separate-stderr ca-provisioner -d own add s3 --type SCEP --challenge-file ch
	assert_equal "$stderr" "ca-provisioner: the edit is refused, ca.json unchanged: own/config/ca.json: provisioner \"s3\": SCEP needs an RSA decrypter: the intermediate's key is not RSA; give \"decrypterCertificate\" and \"decrypterKeyPEM\""
	run -2 ca-provisioner -d own add s3 --type SCEP
	assert_output "ca-provisioner: add --type SCEP: --challenge-file (see ca-provisioner --help)"
	run -2 ca-provisioner -d own add s3 --type SCEP --challenge-file ch --decrypter-cert "$RA"
	assert_output "ca-provisioner: --decrypter-cert and --decrypter-key go together (see ca-provisioner --help)"
}
