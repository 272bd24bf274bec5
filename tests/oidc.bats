#!/usr/bin/env bats
# oidc.bats - the OIDC provisioner against a real OpenID provider: npm's
# oidc-provider (tests/npm/oidc-peer.mjs) on 127.0.0.1, ID tokens from its
# own authorization-code flow with PKCE (tests/npm/get-id-token.mjs), checked
# by ca-serve and offline by ca-sign -d; tokens are made ahead, several per
# node run (tests/oidc-helpers.bash). The claim checks one by one
# (audience, expiry, issuer, ...) are tests/unit/test-oidc.c's.

load helpers
load oidc-helpers

# One provider and one CA for the file: provisioner "corp" (OIDC, admins
# root@example.com, domain example.com, added by ca-provisioner) next to
# the JWK "admin".
setup_file() {
	need_oidc_peer
	start_oidc_peer
	make_template_ca
	CA=$BATS_FILE_TMPDIR/ca
	cp -a "$BATS_FILE_TMPDIR/template/ca" "$CA"
	ca-provisioner -d "$CA" add corp --type OIDC --client-id ca-tools \
		--configuration-endpoint "$ISSUER" --admin root@example.com \
		--domain example.com
	local fifo=$BATS_FILE_TMPDIR/ready.fifo
	SERVER_LOG=$BATS_FILE_TMPDIR/serve.log
	mkfifo "$fifo"
	ca-serve -d "$CA" --listen 127.0.0.1:0 --ready-fd 3 --log-file "$SERVER_LOG" 3>"$fifo" &
	SERVER_PID=$!
	read -r PORT < "$fifo" || true
	[ -n "$PORT" ] || { cat "$SERVER_LOG" >&2; return 1; }
	URL=https://localhost:$PORT
	TOK=$BATS_FILE_TMPDIR/tok
	mkdir "$TOK"
	idtokens "$TOK" alice root bob eve alice:alice2 'alice*2:a'
	(cd "$BATS_FILE_TMPDIR" && csr any.test DNS:any.test)
	export CA TOK SERVER_LOG SERVER_PID PORT URL
}

teardown_file() {
	stop_server
	stop_oidc_peer
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp "$BATS_FILE_TMPDIR"/any.test.* .
	BASE=$(issued)
}

# sign TOKEN-FILE CSR-FILE: POST /1.0/sign; body, then the status.
sign() {
	printf '{"csr": "%s", "ott": "%s"}' "$(awk '{ printf "%s\\n", $0 }' "$2")" \
		"$(tr -d '\n' < "$1")" |
		api -H "Content-Type: application/json" --data @- /1.0/sign
}

new_certs() { echo $(($(issued) - BASE)); }
cert_of() { sed -n '1s/^{"crt":"\([^"]*\)".*/\1/p' <<< "$output" | sed 's/\\n/\n/g'; }

@test "a user's ID token: CN = sub, SANs its e-mail and iss#sub, whatever the CSR says; one-time" {
	run -0 sign "$TOK/alice.tok" any.test.csr
	assert_line --index -1 201
	cert_of > alice.crt
	run -0 openssl x509 -in alice.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = alice'
	assert_line --regexp "^ +email:alice@example.com, URI:$ISSUER#alice\$"
	refute_output --partial any.test
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$CA/certs/intermediate_ca.crt" alice.crt
	[ "$(new_certs)" = 1 ]
	before=$(store_state)
	run -0 sign "$TOK/alice.tok" any.test.csr
	assert_line --index -1 401
	assert_output --partial 'already used'
	[ "$(store_state)" = "$before" ]
}

@test "an admin's ID token: the names of the CSR" {
	run -0 sign "$TOK/root.tok" any.test.csr
	assert_line --index -1 201
	cert_of > root.crt
	run -0 openssl x509 -in root.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = any.test'
	assert_line --regexp '^ +DNS:any.test$'
}

@test "refused with nothing recorded: e-mail not verified, domain not allowed, revoke by a user" {
	before=$(store_state)
	run -0 sign "$TOK/bob.tok" any.test.csr
	assert_line --index -1 401
	assert_output --partial 'not verified'
	run -0 sign "$TOK/eve.tok" any.test.csr
	assert_line --index -1 401
	assert_output --partial 'not in an allowed domain'
	run -0 api -H "Content-Type: application/json" -d "{\"serial\": \"1\", \"ott\": \"$(cat "$TOK/alice2.tok")\"}" /1.0/revoke
	assert_line --index -1 403
	[ "$(store_state)" = "$before" ]
}

@test "the JWKS is fetched once for many tokens, again for a new key id, kept across a reload; ca-sign -d fetches its own" {
	[ "$(jwks_fetches)" = 1 ]
	run -0 sign "$TOK/a-1.tok" any.test.csr
	assert_line --index -1 201
	run -0 sign "$TOK/a-2.tok" any.test.csr
	assert_line --index -1 201
	[ "$(jwks_fetches)" = 1 ]
	# A new signing key with a new kid: one refetch, then issuance.
	run -0 curl -sS -X POST "$ISSUER/_test/rotate"
	idtokens . 'alice*4:a'
	run -0 sign a-1.tok any.test.csr
	assert_line --index -1 201
	run -0 sign a-2.tok any.test.csr
	assert_line --index -1 201
	[ "$(jwks_fetches)" = 2 ]
	# Offline: the tool has no cache, it fetches the keys itself.
	run -0 ca-sign -d "$CA" --token-file a-3.tok --csr any.test.csr
	[ "$(jwks_fetches)" = 3 ]
	# A reload that keeps the endpoint keeps the keys.
	reload_server
	run -0 sign a-4.tok any.test.csr
	assert_line --index -1 201
	[ "$(jwks_fetches)" = 3 ]
	[ "$(new_certs)" = 6 ]
}

@test "ca-token --oidc: the URL on stderr, a (scripted) browser logs in, the ID token on stdout; ca-sign --key-out, ca-renew" {
	local pid fd line url
	mkfifo err.fifo
	ca-token -d "$CA" --oidc --provisioner corp > id.tok 2> err.fifo &
	pid=$!
	exec {fd}< err.fifo
	read -r line <&"$fd"
	read -r url <&"$fd"
	[[ $url == "$ISSUER/auth?client_id=ca-tools&"*"&code_challenge_method=S256&"*"&nonce="* ]] ||
		fail "$line $url"
	run -0 node "$CA_TOP_SRCDIR/tests/npm/get-id-token.mjs" --browse "$url"
	assert_output --partial 'Logged in'
	wait "$pid"
	exec {fd}<&-
	# As the README shows it: the key and CSR made from the ID token.
	ca-sign --ca-url "$URL" --root "$CA/certs/root_ca.crt" --token-file id.tok \
		--key-out me.key > me.crt
	run -0 openssl x509 -in me.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = alice'
	assert_line --regexp "^ +email:alice@example.com, URI:$ISSUER#alice\$"
	# Renewed over mutual TLS as any other: same names, the same provisioner.
	ca-renew --ca-url "$URL" --root "$CA/certs/root_ca.crt" --force -o me2.crt \
		me.crt me.key
	[ "$(openssl x509 -in me2.crt -noout -ext subjectAltName)" = \
		"$(openssl x509 -in me.crt -noout -ext subjectAltName)" ]
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^$(serial_of me2.crt)	.*	valid	corp	CN=alice	"
	run -2 ca-token -d "$CA" --oidc alice
	run -2 ca-token -d "$CA" --oidc --password-file /dev/null
}

# The RA's OIDC provisioner "corp" (ra_serve's callback), as the CA's.
ra_corp() {
	ca-provisioner -d "$RA" add corp --type OIDC --client-id ca-tools \
		--configuration-endpoint "$ISSUER" --admin root@example.com \
		--domain example.com
}

@test "through a registration authority: a user's ID token at the RA, the certificate from the upstream; recorded on both sides" {
	local PW=$BATS_FILE_TMPDIR/template/pw FP
	FP=$(cat "$BATS_FILE_TMPDIR/template/fp")
	# Made now: an earlier test may have rotated the provider's key.
	idtokens . alice:ra root:root
	ra_serve ra_corp
	BASE=$(issued)	# the RA's own TLS certificate is the upstream's too
	run -0 --separate-stderr ca-sign --ca-url "$RA_URL" --root "$CA/certs/root_ca.crt" \
		--token-file ra.tok --key-out ra.key
	printf '%s\n' "$output" > ra.crt
	run -0 openssl x509 -in ra.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = alice'
	assert_line --regexp "^ +email:alice@example.com, URI:$ISSUER#alice\$"
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" -untrusted ra.crt ra.crt
	# One-time at the RA: the second use relays nothing.
	run -1 --separate-stderr ca-sign --ca-url "$RA_URL" --root "$CA/certs/root_ca.crt" \
		--token-file ra.tok --key-out ra2.key
	[[ $stderr == *'already used'* ]] || fail "$stderr"
	# An admin's: the CSR's names, relayed as such.
	run -0 --separate-stderr ca-sign --ca-url "$RA_URL" --root "$CA/certs/root_ca.crt" \
		--token-file root.tok --csr any.test.csr
	printf '%s\n' "$output" > admin.crt
	run -0 openssl x509 -in admin.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = any.test'
	assert_line --regexp '^ +DNS:any.test$'
	stop_ra
	[ "$(new_certs)" = 2 ]
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^$(serial_of ra.crt)"$'\t.*\tvalid\tadmin\tCN=alice\t'
	run -0 ca-db -d "$RA" list
	assert_line --regexp "^$(serial_of ra.crt)"$'\t.*\tvalid\tcorp\tCN=alice\t'
	assert_line --regexp "^$(serial_of admin.crt)"$'\t.*\tvalid\tcorp\tCN=any.test\t'
}

@test "ca-provisioner add --type OIDC: what it writes, what it refuses" {
	cp -a "$CA" own
	printf 's3cret\n' > secret
	run -0 ca-provisioner -d own add c2 --type oidc --client-id c2 \
		--configuration-endpoint https://id.test/ --client-secret-file secret \
		--admin ops --admin a@b.test --group ops --listen-address 127.0.0.1:10000
	run -0 ca-provisioner -d own list --json
	run -0 pj '[p for p in d if p["name"] == "c2"][0]' <<< "$output"
	assert_output '{"type": "OIDC", "name": "c2", "clientID": "c2", "clientSecret": "s3cret", "configurationEndpoint": "https://id.test/", "admins": ["ops", "a@b.test"], "groups": ["ops"], "listenAddress": "127.0.0.1:10000"}'
	run -1 ca-provisioner -d own add c3 --type OIDC --client-id c3 \
		--configuration-endpoint http://id.test
	assert_output --partial 'configurationEndpoint "http://id.test": not an https URL'
	run -2 ca-provisioner -d own add c3 --type OIDC --client-id c3
	run -2 ca-provisioner -d own add c3 --client-id c3 --create --password-file secret
	run -2 ca-provisioner -d own update c2 --admin x
}
