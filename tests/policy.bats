#!/usr/bin/env bats
# The issuance policy (ca.json "policy", step-ca's format) end to end:
# offline ca-sign, POST /sign, renewal after the policy is tightened
# (offline, online, through a registration authority), a registration
# authority's signing, ca-db check. The table of names in every spelling
# is tests/unit/test-policy.c.

load helpers

setup() {
	use_ca
	ROOT=$CA/certs/root_ca.crt SERVER_PID= RA_PID=
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
}

teardown() {
	if [ -n "$RA_PID" ]; then
		kill -TERM "$RA_PID" 2>/dev/null || true
		wait "$RA_PID" || true
	fi
	stop_server
}

DENY_EVIL='c["authority"]["policy"] = {"x509": {"deny": {"dns": ["*.evil.test"]}}}'

@test "offline ca-sign: a denied name is refused naming it and the rule; nothing recorded, the token not spent" {
	cp "$CA/config/ca.json" ca.json.orig
	edit_config "$DENY_EVIL"
	csr svc.test "DNS:svc.test,DNS:X.Evil.TEST"
	token svc.test --san svc.test --san X.Evil.TEST
	before=$(store_state)
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr
	assert_output ""
	assert_equal "$stderr" 'ca-sign: dns name X.Evil.TEST denied by authority policy deny.dns "*.evil.test"'
	assert_equal "$(store_state)" "$before"
	assert_equal "$(issued)" 0
	# The token was not spent: once the policy allows the name, it pays.
	cp ca.json.orig "$CA/config/ca.json"
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o svc.pem
	assert_equal "$(issued)" 1
	run -0 openssl x509 -in svc.pem -noout -ext subjectAltName
	assert_line --partial "DNS:X.Evil.TEST"
}

@test "the authority's and the provisioner's policies both apply: the stricter wins" {
	edit_config '
c["authority"]["policy"] = {"x509": {"allow": {"dns": ["*.test"]}}}
c["authority"]["provisioners"][0]["policy"] = {"x509": {"deny": {"dns": ["svc.test"]}}}'
	token svc.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key
	assert_equal "$stderr" 'ca-sign: dns name svc.test denied by provisioner "admin" policy deny.dns "svc.test"'
	[ ! -e svc.key ]
	token web.other --san web.other
	run -1 --separate-stderr ca-sign -d "$CA" --token-file web.other.tok --key-out web.key
	assert_equal "$stderr" 'ca-sign: dns name web.other not allowed by authority policy (no allow.dns rule matches)'
	token web.test --san web.test --san 10.0.0.1
	run -1 --separate-stderr ca-sign -d "$CA" --token-file web.test.tok --key-out web.key
	assert_equal "$stderr" 'ca-sign: ip name 10.0.0.1 not allowed by authority policy (it allows some names, but no ip name)'
	token web.test --san web.test
	run -0 ca-sign -d "$CA" --token-file web.test.tok --key-out web.key -o web.pem
	run -0 openssl verify -CAfile "$ROOT" -untrusted web.pem web.pem
	assert_equal "$(issued)" 1
}

@test "POST /sign: 403 naming the name and the rule, the token not spent" {
	cp "$CA/config/ca.json" ca.json.orig
	edit_config "$DENY_EVIL"
	start_server
	n=$(issued)	# ca-serve's own certificate
	ca-token --ca-url "$URL" --root "$ROOT" --password-file "$PW" \
		--san a.evil.test a.evil.test > a.tok
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" \
		--token-file a.tok --key-out a.key
	assert_output ""
	assert_equal "$stderr" 'ca-sign: CA refused: dns name a.evil.test denied by authority policy deny.dns "*.evil.test" (HTTP 403)'
	assert_equal "$(issued)" "$n"
	# The server reads the policy of its ca.json on reload: allowed now,
	# the same token pays.
	cp ca.json.orig "$CA/config/ca.json"
	reload_server
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file a.tok \
		--key-out a.key -o a.pem
	assert_equal "$(issued)" $((n + 1))
}

@test "renewal: a policy tightened since issuance refuses the name it now denies" {
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key --not-after 1h > svc.crt
	before=$(sha256sum < svc.crt)
	edit_config 'c["authority"]["policy"] = {"x509": {"deny": {"dns": ["svc.test"]}}}'
	run -1 --separate-stderr ca-renew -d "$CA" --force svc.crt svc.key
	assert_equal "$stderr" 'ca-renew: dns name svc.test denied by authority policy deny.dns "svc.test"'
	assert_equal "$(sha256sum < svc.crt)" "$before"
	assert_equal "$(issued)" 1
	# online: 403
	start_server
	n=$(issued)
	run -1 --separate-stderr ca-renew --ca-url "$URL" --root "$ROOT" --force svc.crt svc.key
	[[ $stderr == *'denied by authority policy deny.dns "svc.test" (HTTP 403)'* ]] || fail "$stderr"
	assert_equal "$(issued)" "$n"
	# ca-db check: a warning for the certificate the policy now denies.
	run -0 --separate-stderr ca-db -d "$CA" check
	serial=$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	assert_line "warning: $serial: dns name svc.test denied by authority policy deny.dns \"svc.test\""
	assert_line --regexp '^[0-9]+ certificates, 0 problems$'
}

# start_ra [PYTHON]: the CA's server, and a registration authority in ra/
# in front of it (its ca.json edited by PYTHON first), serving on port
# $RA_PORT (pid RA_PID, log ra.log) with the provisioner key ra-prov.json.
start_ra() {
	start_server
	ca-init --ra --upstream "$URL" --upstream-fingerprint "$FP" \
		--upstream-provisioner admin --upstream-password-file "$PW" \
		-d ra --name RA --dns localhost --address 127.0.0.1:9443 \
		--provisioner ra-admin --password-file "$PW" \
		--provisioner-key-out ra-prov.json -q > /dev/null
	CA=$BATS_TEST_TMPDIR/ra edit_config "${1:-pass}"
	mkfifo ra.fifo
	ca-serve -d ra --upstream-password-file "$PW" --listen 127.0.0.1:0 \
		--ready-fd 3 --log-file ra.log 3>ra.fifo &
	RA_PID=$!
	read -r RA_PORT < ra.fifo || true
	[ -n "$RA_PORT" ] || { cat ra.log >&2; fail "the RA did not start"; }
}

@test "a registration authority refuses before relaying: a sign, and a renewal once the policy is tightened" {
	start_ra "$DENY_EVIL"
	local ra=https://localhost:$RA_PORT upstream before
	upstream=$(issued)
	ca-token --ca-url "$ra" --root "$ROOT" --key ra-prov.json b.evil.test > b.tok
	run -1 --separate-stderr ca-sign --ca-url "$ra" \
		--root "$ROOT" --token-file b.tok --key-out b.key
	assert_equal "$stderr" 'ca-sign: CA refused: dns name b.evil.test denied by authority policy deny.dns "*.evil.test" (HTTP 403)'
	# nothing reached the upstream CA
	assert_equal "$(issued)" "$upstream"

	# Renewal: the CA accepts what the RA relays (x5c tokens for it).
	edit_config "c['caTools']['registrationAuthorities'] = ['$ra']"
	reload_server
	ca-token --ca-url "$ra" --root "$ROOT" --key ra-prov.json svc.test > svc.tok
	ca-sign --ca-url "$ra" --root "$ROOT" --token-file svc.tok --key-out svc.key > svc.crt
	run -0 ca-renew --ca-url "$ra" --root "$ROOT" --force --no-mtls svc.crt svc.key
	# The RA's policy tightened and reloaded (SIGHUP): refused at the RA.
	CA=$BATS_TEST_TMPDIR/ra edit_config 'c["authority"]["policy"] = {"x509": {"deny": {"dns": ["svc.test"]}}}'
	follow_log ra.log 5
	kill -HUP "$RA_PID"
	await_log 'reloaded ' || fail "the RA did not reload"
	before=$(sha256sum < svc.crt)
	upstream=$(issued)
	run -1 --separate-stderr ca-renew --ca-url "$ra" --root "$ROOT" --force --no-mtls svc.crt svc.key
	assert_equal "$stderr" 'ca-renew: CA refused: dns name svc.test denied by authority policy deny.dns "svc.test" (HTTP 403)'
	assert_equal "$(sha256sum < svc.crt)" "$before"
	assert_equal "$(issued)" "$upstream"
}
