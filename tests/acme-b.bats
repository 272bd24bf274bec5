#!/usr/bin/env bats
# ACME orders through ca-serve (lib/acme-order.c), with tests/acme-b.py
# (python joserfc and cryptography) as the client: newOrder shapes
# accepted and refused, finalize before the order is ready, and the
# objects of another account, starting a challenge, and revocation of a
# certificate by its own key (seen by OCSP and the CRL). What needs a
# validation (a challenge reported valid) is in tests/unit/test-acme-b.c,
# which drives the outcome itself.

load helpers

setup() {
	need_peer joserfc cryptography
	use_ca
	edit_config 'c["authority"]["provisioners"].append({"type": "ACME", "name": "acme"})'
	start_server
	DIR=$URL/acme/acme/directory
	mkdir -p a1 a2
}

teardown() {
	# The silent listener first: its connections close, the validation
	# waiting on one fails at once, and the server stops without waiting
	# out validationTimeout.
	[ -z "${SILENT_PID:-}" ] || kill "$SILENT_PID" 2>/dev/null || true
	stop_server
}

# acme STATE_DIR COMMAND...: one request of tests/acme-b.py.
acme() {
	local st=$1
	shift
	"$PYTHON" "$CA_TOP_SRCDIR/tests/acme-b.py" "$DIR" "$CA/certs/root_ca.crt" \
		"$st" "$@"
}

# Two accounts, a1 and a2.
accounts() {
	run -0 acme a1 account
	assert_equal "$(pj 'd["status"]' <<<"$output")" 201
	run -0 acme a2 account
	assert_equal "$(pj 'd["status"]' <<<"$output")" 201
}

@test "newOrder: names normalized, one authorization each, 201 with Location" {
	accounts
	run -0 acme a1 post newOrder '{"identifiers": [
		{"type": "dns", "value": "WWW.Example.TEST."},
		{"type": "ip", "value": "2001:DB8::0:1"},
		{"type": "dns", "value": "*.example.test"}]}'
	o=$output
	assert_equal "$(pj 'd["status"]' <<<"$o")" 201
	assert_equal "$(pj 'd["location"].startswith(d["body"]["finalize"].rsplit("/", 1)[0])' <<<"$o")" true
	assert_equal "$(pj 'd["body"]["status"]' <<<"$o")" pending
	assert_equal "$(pj '[i["value"] for i in d["body"]["identifiers"]]' <<<"$o")" \
		'["www.example.test", "2001:db8::1", "*.example.test"]'
	assert_equal "$(pj 'len(d["body"]["authorizations"])' <<<"$o")" 3
	[ -n "$(pj 'd["retry_after"]' <<<"$o")" ]
	# The wildcard's authorization: its base name, dns-01 only.
	run -0 acme a1 post "$(pj 'd["body"]["authorizations"][2]' <<<"$o")"
	assert_equal "$(pj 'd["body"]["identifier"]["value"]' <<<"$output")" example.test
	assert_equal "$(pj 'd["body"]["wildcard"]' <<<"$output")" true
	assert_equal "$(pj '[c["type"] for c in d["body"]["challenges"]]' <<<"$output")" '["dns-01"]'
	# The account's orders list it.
	kid=$(cat a1/kid)
	run -0 acme a1 post "$kid/orders"
	assert_equal "$(pj 'd["body"]["orders"]' <<<"$output")" "[\"$(pj 'd["location"]' <<<"$o")\"]"
}

@test "newOrder: refused shapes, a subproblem per identifier at fault" {
	accounts
	run -0 acme a1 post newOrder '{"identifiers": [
		{"type": "dns", "value": "a..example.test"},
		{"type": "dns", "value": "ok.example.test"},
		{"type": "dns", "value": "a.*.example.test"},
		{"type": "ip", "value": "192.0.2.300"}]}'
	assert_equal "$(pj 'd["status"]' <<<"$output")" 400
	assert_equal "$(pj 'd["content_type"]' <<<"$output")" application/problem+json
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:rejectedIdentifier
	assert_equal "$(pj '[s["identifier"]["value"] for s in d["body"]["subproblems"]]' <<<"$output")" \
		'["a..example.test", "a.*.example.test", "192.0.2.300"]'
	run -0 acme a1 post newOrder '{"identifiers": [{"type": "email", "value": "a@example.test"}]}'
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:unsupportedIdentifier
	run -0 acme a1 post newOrder '{"identifiers": []}'
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:malformed
	run -0 acme a1 post newOrder '{"identifiers": [{"type": "dns", "value": "x.example.test"}], "notAfter": "2099-01-01T00:00:00Z"}'
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:malformed
	assert_output --partial lifetime
}

@test "finalize before the order is ready: orderNotReady, nothing issued" {
	accounts
	run -0 acme a1 post newOrder '{"identifiers": [{"type": "dns", "value": "f.example.test"}]}'
	fin=$(pj 'd["body"]["finalize"]' <<<"$output")
	before=$(issued)
	run -0 acme a1 csr f.csr f.key --cn f.example.test f.example.test
	run -0 acme a1 post "$fin" "{\"csr\": \"$(cat f.csr)\"}"
	assert_equal "$(pj 'd["status"]' <<<"$output")" 403
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:orderNotReady
	assert_equal "$(issued)" "$before"
}

@test "another account's order, authorization, challenge and orders: unauthorized" {
	accounts
	run -0 acme a1 post newOrder '{"identifiers": [{"type": "dns", "value": "o.example.test"}]}'
	order=$(pj 'd["location"]' <<<"$output")
	fin=$(pj 'd["body"]["finalize"]' <<<"$output")
	authz=$(pj 'd["body"]["authorizations"][0]' <<<"$output")
	run -0 acme a1 post "$authz"
	chall=$(pj 'd["body"]["challenges"][0]["url"]' <<<"$output")
	for u in "$order" "$authz" "$chall" "$(cat a1/kid)/orders"; do
		run -0 acme a2 post "$u"
		assert_equal "$(pj 'd["status"]' <<<"$output")" 403
		assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:unauthorized
	done
	run -0 acme a2 post "$chall" '{}'
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:unauthorized
	run -0 acme a1 csr o.csr o.key o.example.test
	run -0 acme a2 post "$fin" "{\"csr\": \"$(cat o.csr)\"}"
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:unauthorized
	# Untouched: still pending for its account.
	run -0 acme a1 post "$authz"
	assert_equal "$(pj 'd["body"]["status"]' <<<"$output")" pending
	assert_equal "$(pj 'd["body"]["challenges"][0]["status"]' <<<"$output")" pending
}

@test "a challenge is linked up to its authorization, read without starting it" {
	accounts
	run -0 acme a1 post newOrder '{"identifiers": [{"type": "dns", "value": "c.example.test"}]}'
	authz=$(pj 'd["body"]["authorizations"][0]' <<<"$output")
	run -0 acme a1 post "$authz"
	chall=$(pj 'd["body"]["challenges"][0]["url"]' <<<"$output")
	run -0 acme a1 post "$chall"
	assert_equal "$(pj 'd["status"]' <<<"$output")" 200
	assert_equal "$(pj 'd["body"]["status"]' <<<"$output")" pending
	assert_equal "$(A=$authz pj '"<%s>;rel=\"up\"" % __import__("os").environ["A"] in d["links"]' <<<"$output")" true
}

@test "a challenge posted {} is processing, posted again starts nothing new; validations in flight per account bounded" {
	# http-01 goes to a listener that accepts and never answers, so that
	# the validation stays processing (for its 20 s timeout).
	mkfifo silent.fifo
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True: held.append(s.accept())' > silent.fifo &
	SILENT_PID=$!
	read -t 10 -r port < silent.fifo
	[ -n "$port" ]
	stop_server
	edit_config "c.setdefault('caTools', {})['acme'] = {'httpPort': $port, 'validationTimeout': '20s', 'maxValidationsPerAccount': 1}"
	start_server
	DIR=$URL/acme/acme/directory
	accounts
	# An IP identifier: the validator connects to it without a lookup.
	run -0 acme a1 post newOrder '{"identifiers": [{"type": "ip", "value": "127.0.0.1"}]}'
	order=$(pj 'd["location"]' <<<"$output")
	authz=$(pj 'd["body"]["authorizations"][0]' <<<"$output")
	run -0 acme a1 post "$authz"
	chall=$(pj '[c["url"] for c in d["body"]["challenges"] if c["type"] == "http-01"][0]' <<<"$output")
	run -0 acme a1 post "$chall" '{}'
	assert_equal "$(pj 'd["status"]' <<<"$output")" 200
	assert_equal "$(pj 'd["body"]["status"]' <<<"$output")" processing
	[ -n "$(pj 'd["retry_after"]' <<<"$output")" ]
	run -0 acme a1 post "$chall" '{}'
	assert_equal "$(pj 'd["body"]["status"]' <<<"$output")" processing
	run -0 acme a1 post "$authz"
	assert_equal "$(pj 'd["body"]["status"]' <<<"$output")" pending
	run -0 acme a1 post "$order"
	assert_equal "$(pj 'd["body"]["status"]' <<<"$output")" pending
	# a second validation of a1 is over its bound (1): 429 rateLimited
	# with Retry-After, the challenge left pending
	run -0 acme a1 start 127.0.0.1 1
	assert_output --regexp '^429 rateLimited ([1-9]|1[0-9]|20) pending$'
}

@test "revokeCert: not by another account, by the certificate's key; OCSP and the CRL show it" {
	accounts
	token r.test
	ca-sign -d "$CA" --token-file r.test.tok --key-out r.key > r.crt
	der=$(acme a1 der r.crt)
	# An account that did not order it.
	run -0 acme a1 post revokeCert "{\"certificate\": \"$der\", \"reason\": 1}"
	assert_equal "$(pj 'd["status"]' <<<"$output")" 403
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:unauthorized
	# Another key than the certificate's.
	run -0 acme a1 post-jwk a2/key.pem revokeCert "{\"certificate\": \"$der\"}"
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:unauthorized
	run -0 acme a1 post-jwk r.key revokeCert "{\"certificate\": \"$der\", \"reason\": 7}"
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:badRevocationReason
	run -0 acme a1 post-jwk r.key revokeCert "{\"certificate\": \"$der\", \"reason\": 1}"
	assert_equal "$(pj 'd["status"]' <<<"$output")" 200
	run -0 acme a1 post-jwk r.key revokeCert "{\"certificate\": \"$der\"}"
	assert_equal "$(pj 'd["body"]["type"]' <<<"$output")" urn:ietf:params:acme:error:alreadyRevoked
	run -0 openssl ocsp -issuer "$CA/certs/intermediate_ca.crt" -cert r.crt \
		-url "$URL/ocsp" -CAfile "$CA/certs/root_ca.crt" \
		-VAfile "$CA/certs/intermediate_ca.crt"
	assert_line "r.crt: revoked"
	assert_output --partial "Reason: keyCompromise"
	curl -sS --cacert "$CA/certs/root_ca.crt" -o crl.der "$URL/crl"
	run -0 openssl crl -inform DER -in crl.der -noout -text
	assert_output --partial "$(openssl x509 -in r.crt -noout -serial | cut -d= -f2)"
}
