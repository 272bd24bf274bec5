#!/usr/bin/env bats
# Bad input of every kind: one line naming the problem, exit 1 (4 when
# worth retrying), nothing on stdout, no certificate, no used token, the
# store unchanged.

load helpers

setup() {
	use_ca
	csr svc.test
}

# refused STATUS TEXT CMD...: CMD fails with STATUS, prints nothing on
# stdout and one line containing TEXT on stderr, and the store is unchanged.
refused() {
	local status=$1 text=$2 before
	shift 2
	before=$(store_state)
	run "-$status" --separate-stderr "$@"
	assert_output ""
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ $stderr == ca-sign:\ * ]] || fail "stderr not prefixed with the program name: $stderr"
	[[ $stderr == *"$text"* ]] || fail "stderr lacks '$text': $stderr"
	assert_equal "$(store_state)" "$before"
}

sign() {
	ca-sign -d "$CA" --token-file "$1" --csr "${2:-svc.test.csr}"
}

@test "a joserfc token with good claims is accepted (the baseline for the cases below)" {
	need_peer joserfc
	pytok t "$(claims)"
	run -0 sign t
}

@test "replayed token" {
	token svc.test
	run -0 sign svc.test.tok
	refused 1 "token already used" sign svc.test.tok
	assert_equal "$(issued)" 1
}

@test "expired token, and one not yet valid" {
	need_peer joserfc
	token svc.test --not-before -20m --not-after 5m
	refused 1 "token expired" sign svc.test.tok
	token svc.test --not-before 10m
	refused 1 "token not valid before" sign svc.test.tok
	# within the 60 s leeway both pass
	pytok t "$(claims 'd["exp"] = now - 30; d["iat"] = d["nbf"] = now - 200')"
	run -0 sign t
}

@test "wrong audience, and a revocation token used to sign" {
	need_peer joserfc
	pytok t "$(claims 'd["aud"] = "https://other.test:8443/1.0/sign"')"
	refused 1 "token audience" sign t
	token 1234 --revoke
	refused 1 "token audience" sign 1234.tok
}

@test "a token of another CA's provisioner" {
	ca-init -d other --name O --dns ca.test --address 127.0.0.1:8443 --provisioner admin \
		--password-file "$PW" --provisioner-key-out opk.json -q > /dev/null
	ca-token -d other --key opk.json svc.test > t
	refused 1 'unknown provisioner "admin"' sign t
}

@test "forged tokens: changed claims, alg none, another alg in the header" {
	token svc.test
	IFS=. read -r h p s < svc.test.tok
	evil=$(claims 'd["sub"] = "evil.test"; d["sans"] = ["evil.test"]' | base64 -w0 | tr '+/' '-_' | tr -d =)
	echo "$h.$evil.$s" > forged
	refused 1 "signature does not verify" sign forged
	none=$(printf '{"alg":"none","kid":"%s"}' "$(jws_part svc.test.tok 0 | pj 'd["kid"]')" | base64 -w0 | tr '+/' '-_' | tr -d =)
	echo "$none.$p." > none
	refused 1 "invalid token" sign none
	es384=$(printf '{"alg":"ES384","kid":"%s","typ":"JWT"}' "$(jws_part svc.test.tok 0 | pj 'd["kid"]')" | base64 -w0 | tr '+/' '-_' | tr -d =)
	echo "$es384.$p.$s" > alg
	refused 1 "signature does not verify" sign alg
	# the genuine token still works afterwards
	run -0 sign svc.test.tok
}

@test "claims that break the rules: lifetime over 1 h, no jti, no exp, another root" {
	need_peer joserfc
	pytok t "$(claims 'd["exp"] = now + 7200')"
	refused 1 "lifetime 7200 s exceeds 3600 s" sign t
	pytok t "$(claims 'del d["jti"]')"
	refused 1 'missing "jti"' sign t
	pytok t "$(claims 'del d["exp"]')"
	refused 1 'missing "exp"' sign t
	pytok t "$(claims 'd["sha"] = "00" * 32')"
	refused 1 "token is for another CA" sign t
	pytok t "$(claims 'd["exp"] = "9999999999"')"
	refused 1 '"exp" is not an integer' sign t
}

@test "strict JSON in tokens: duplicate members, out-of-range numbers, trailing data" {
	need_peer joserfc
	c=$(claims)
	pytok t "${c%\}}, \"sub\": \"evil.test\"}"
	refused 1 "duplicate member" sign t
	pytok t "${c%\}}, \"n\": 99999999999999999999}"
	refused 1 "integer out of range" sign t
	pytok t "$c  x"
	refused 1 "trailing data" sign t
	pytok t "${c%\}}, \"x\": \"a\\u0000b\"}"
	refused 1 "\\u0000" sign t
}

@test "a token over the size limit" {
	head -c 20000 /dev/zero | tr '\0' a > big
	refused 1 "larger than" sign big
}

@test "names not covered by the token" {
	need_peer joserfc
	csr more.test "DNS:svc.test,DNS:more.test"
	token svc.test
	refused 1 "CSR DNS names do not match the token: 'more.test'" sign svc.test.tok more.test.csr
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k -subj /CN=other.test -out cn.csr 2>/dev/null
	refused 1 "CSR common name 'other.test'" sign svc.test.tok cn.csr
	csr ip.test "DNS:svc.test,IP:10.9.9.9"
	refused 1 "CSR IP names do not match the token: '10.9.9.9'" sign svc.test.tok ip.test.csr
	pytok t "$(claims 'd["sans"] = ["bad name!"]')"
	refused 1 "invalid DNS name 'bad name!'" sign t
	# and the token is still good for what it does cover
	run -0 sign svc.test.tok
}

@test "bad CSRs: broken signature, garbage, RSA 1024" {
	token svc.test
	openssl req -in svc.test.csr -outform DER | sed 's/svc\.test/svd.test/' > bad.der
	refused 1 "CSR signature does not verify" sign svc.test.tok bad.der
	echo "not a csr" > garbage
	refused 1 "cannot parse CSR" sign svc.test.tok garbage
	openssl req -new -newkey rsa:1024 -nodes -keyout k -subj /CN=svc.test -out weak.csr 2>/dev/null
	refused 1 "RSA 1024 bits: at least 2048 needed" sign svc.test.tok weak.csr
	run -0 sign svc.test.tok
}

@test "CSR policy (Boulder's goodkey): weak keys, SHA-1, extra input refused, each naming its rule; the token not spent" {
	# tests/fixtures/make-goodkey-fixtures.sh makes these CSRs for svc.test
	token svc.test
	local f=$CA_FIXTURES/goodkey
	refused 1 "CSR signed with ECDSA-SHA1: only SHA-256, SHA-384, SHA-512 and Ed25519 signatures accepted" \
		sign svc.test.tok "$f-sha1.csr"
	refused 1 "CSR key: RSA public exponent 3, only 65537 accepted" sign svc.test.tok "$f-rsa-e3.csr"
	refused 1 "CSR key: RSA modulus has a prime factor below 752" sign svc.test.tok "$f-rsa-small.csr"
	refused 1 "CSR key: RSA modulus factors by Fermat's method (its primes are too close)" \
		sign svc.test.tok "$f-rsa-close.csr"
	refused 1 "CSR key is ECDSA on SECP192R1: only P-256, P-384 and P-521 accepted" \
		sign svc.test.tok "$f-p192.csr"
	refused 1 "CSR key algorithm EdDSA (Ed448) not accepted: RSA, ECDSA and Ed25519 are" \
		sign svc.test.tok "$f-ed448.csr"
	refused 1 "CSR: another PEM block after the PEM block" sign svc.test.tok "$f-two.csr"
	refused 1 "CSR: data after the PEM block" sign svc.test.tok "$f-trailing.csr"
	refused 1 "CSR: 1 bytes after the DER structure" sign svc.test.tok "$f-trailing.der"
	assert_equal "$(issued)" 0
	# what the rules allow: P-384, Ed25519, RSA 3072 with e = 65537
	run -0 sign svc.test.tok
	for k in "ec -pkeyopt ec_paramgen_curve:P-384" ed25519 "rsa:3072"; do
		token svc.test
		# shellcheck disable=SC2086
		openssl req -new -newkey $k -nodes -keyout k.pem -subj /CN=svc.test \
			-addext subjectAltName=DNS:svc.test -out ok.csr 2>/dev/null
		run -0 sign svc.test.tok ok.csr
	done
	assert_equal "$(issued)" 4
}

@test "corrupt state: ca.json with duplicate keys, comments, trailing data, or missing" {
	token svc.test
	cp "$CA/config/ca.json" good.json
	sed -i '0,/"root"/s//"root": "x", "root"/' "$CA/config/ca.json"
	refused 1 "ca.json: duplicate member name" sign svc.test.tok
	{ echo "/* comment */"; cat good.json; } > "$CA/config/ca.json"
	refused 1 "ca.json: invalid JSON at byte 0" sign svc.test.tok
	{ cat good.json; echo "}"; } > "$CA/config/ca.json"
	refused 1 "trailing data" sign svc.test.tok
	head -c 300 good.json > "$CA/config/ca.json"
	refused 1 "ca.json" sign svc.test.tok
	rm "$CA/config/ca.json"
	refused 1 "no CA here" sign svc.test.tok
	cp good.json "$CA/config/ca.json"
	run -0 sign svc.test.tok
}

@test "corrupt state: bad claims, a readable key, a key that is not the intermediate's" {
	token svc.test
	cp "$CA/config/ca.json" good.json
	edit_config 'c["authority"]["claims"]["minTLSCertDuration"] = "48h"'
	refused 1 "claims must satisfy" sign svc.test.tok
	edit_config 'c["authority"]["claims"]["minTLSCertDuration"] = "5 minutes"'
	refused 1 "invalid duration" sign svc.test.tok
	cp good.json "$CA/config/ca.json"
	chmod 644 "$CA/secrets/intermediate_ca_key"
	refused 1 "readable by group or others" sign svc.test.tok
	chmod 600 "$CA/secrets/intermediate_ca_key"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CA/secrets/other_key" 2>/dev/null
	chmod 600 "$CA/secrets/other_key"
	edit_config 'c["key"] = "secrets/other_key"'
	refused 1 "does not match the certificate" sign svc.test.tok
	cp good.json "$CA/config/ca.json"
	echo garbage > "$CA/certs/root_ca.crt"
	refused 1 "root_ca.crt: cannot parse certificate" sign svc.test.tok
}

@test "database busy: exit 4 after the lock timeout, token not spent" {
	token svc.test
	edit_config 'c["caTools"]["lockTimeout"] = "1s"'
	flock -o "$CA/db/lock" sleep 5 3>&- &
	holder=$!
	# wait until the holder has the lock
	for _ in $(seq 50); do flock -n "$CA/db/lock" true || break; sleep 0.1; done
	start=$(date +%s%N)
	refused 4 "database busy" sign svc.test.tok
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -ge 900 ] || fail "gave up after $elapsed ms"
	kill "$holder"
	wait "$holder" || true
	run -0 sign svc.test.tok
}

@test "the used-token check spans processes: one token, two concurrent signers, one certificate" {
	token svc.test
	for i in 1 2 3 4; do
		ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr > out.$i 2> err.$i &
	done
	wait
	assert_equal "$(cat out.* | grep -c 'BEGIN CERTIFICATE')" 2
	assert_equal "$(cat err.* | grep -c 'token already used')" 3
	assert_equal "$(issued)" 1
}

@test "token subjects: over 64 characters or with control characters refused by the CA and by ca-token; sans [] is the subject" {
	local long
	long=$(printf 'a%.0s' $(seq 1 65))
	pytok t "$(claims "d['sub'] = '$long'")"
	refused 1 "subject is 65 characters long: at most 64 (RFC 5280 ub-common-name)" sign t
	pytok t "$(claims 'd["sub"] = "svc.test\n9999\tvalid\tadmin"')"
	refused 1 "subject holds the control character 0x0a" sign t
	pytok t "$(claims 'd["sub"] = "svc.test\u0085"')"
	refused 1 "subject holds the control character U+0085" sign t
	assert_equal "$(issued)" 0
	run -2 --separate-stderr ca-token -d "$CA" --key "$PK" --san svc.test "$long"
	assert_output ""
	assert_equal "$stderr" "ca-token: SUBJECT: subject is 65 characters long: at most 64 (RFC 5280 ub-common-name) (see ca-token --help)"
	run -2 --separate-stderr ca-token -d "$CA" --key "$PK" --san svc.test $'svc\ntest'
	assert_equal "$stderr" "ca-token: SUBJECT: subject holds the control character 0x0a (see ca-token --help)"
	# "sans": [] means the subject, as step-ca does: never a leaf without
	# a name; a subject that is no name is then refused.
	pytok t "$(claims 'd["sans"] = []')"
	run -0 --separate-stderr sign t
	openssl x509 -noout -ext subjectAltName <<< "$output" | grep -qx '    DNS:svc.test'
	pytok t "$(claims 'd["sans"] = []; d["sub"] = "John Doe"')"
	refused 1 "invalid DNS name 'John Doe'" sign t
}
