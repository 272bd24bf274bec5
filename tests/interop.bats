#!/usr/bin/env bats
# Interoperability with peers nobody here wrote: joserfc, openssl, curl.

load helpers

setup() {
	use_ca
}

@test "joserfc verifies a ca-token token with the provisioner's public key" {
	need_peer joserfc
	token svc.test --san svc.test --san 10.1.1.1
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" verify "$CA/config/ca.json" svc.test.tok
	run -0 pj '[d["header"]["alg"], d["header"]["typ"], d["claims"]["sub"], d["claims"]["sans"], d["claims"]["sha"]]' <<< "$output"
	assert_output "[\"ES256\", \"JWT\", \"svc.test\", [\"svc.test\", \"10.1.1.1\"], \"$FP\"]"
	# and refuses one with a flipped signature bit, so the check is real
	tr 'A-Za-z' 'B-ZAb-za' < svc.test.tok | cut -d. -f3 > sig
	IFS=. read -r h p s < svc.test.tok
	echo "$h.$p.$(cat sig)" > bad.tok
	run ! "$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" verify "$CA/config/ca.json" bad.tok
}

@test "a token made by joserfc from the decrypted encryptedKey is accepted by ca-sign" {
	need_peer joserfc
	# joserfc decrypts the JWE and signs with the key it found: nothing of ours in between
	"$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" decrypt "$CA/config/ca.json" "$PW" | pj 'd["jwk"]' > jose-key.json
	now=$(date +%s)
	"$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" sign jose-key.json \
		"{\"aud\":\"https://ca.test:8443/1.0/sign\",\"iss\":\"admin\",\"sub\":\"jose.test\",\"sans\":[\"jose.test\",\"192.0.2.9\"],\"jti\":\"$(openssl rand -hex 32)\",\"iat\":$now,\"nbf\":$now,\"exp\":$((now + 300)),\"sha\":\"$FP\"}" > jose.tok
	run -0 ca-sign -d "$CA" --token-file jose.tok --key-out jose.key -o jose.pem
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$CA/certs/root_ca.crt" -untrusted jose.pem jose.pem
	run -0 openssl x509 -in jose.pem -noout -ext subjectAltName
	assert_output --partial "DNS:jose.test, IP Address:192.0.2.9"
}

@test "an issued certificate serves TLS to curl, which trusts only the root" {
	token localhost --san localhost --san 127.0.0.1
	ca-sign -d "$CA" --token-file localhost.tok --key-out tls.key -o tls.pem
	openssl s_server -cert tls.pem -key tls.key -cert_chain tls.pem -www \
		-accept 127.0.0.1:0 > server.out 2>&1 3>&- &
	server=$!
	for _ in $(seq 100); do grep -q '^ACCEPT' server.out && break; sleep 0.05; done
	port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' server.out)
	[ -n "$port" ]
	run -0 curl -sS -o page --cacert "$CA/certs/root_ca.crt" "https://localhost:$port/"
	run -0 curl -sS -o page --cacert "$CA/certs/root_ca.crt" "https://127.0.0.1:$port/"
	# another root is not trusted
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout o.key \
		-subj /CN=other -days 1 -out other.crt 2>/dev/null
	run -60 curl -sS -o page --cacert other.crt "https://localhost:$port/"
	kill "$server"
}

@test "openssl accepts the leaf for client authentication too and checks its names" {
	token svc.test --san svc.test --san ops@acme.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out k.pem -o c.pem
	run -0 openssl verify -x509_strict -purpose sslclient -CAfile "$CA/certs/root_ca.crt" -untrusted c.pem c.pem
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" -untrusted c.pem -verify_hostname svc.test c.pem
	run ! openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" -untrusted c.pem -verify_hostname other.test c.pem
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" -untrusted c.pem -verify_email ops@acme.test c.pem
}
