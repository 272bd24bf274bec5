#!/usr/bin/env bats
# Client habits: ca-bootstrap --install writes the client defaults that the
# online tools use when given no CA (contexts keep several CAs apart), and
# ca-certificate makes token, key, CSR and certificate in one command.

load helpers

setup() {
	use_ca
	ROOT=$CA/certs/root_ca.crt
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	export STEPPATH=$BATS_TEST_TMPDIR/step
	mkdir -p "$HOME"
	CFG=$XDG_CONFIG_HOME/ca-tools
	SERVER_PID=
	OTHER_PID=
}

teardown() {
	local main=$SERVER_PID
	if [ -n "$OTHER_PID" ]; then
		SERVER_PID=$OTHER_PID
		OTHER_PID=
		stop_server
	fi
	SERVER_PID=$main
	stop_server
}

# verify CRT CAROOT: the chain in CRT verifies under the root, strictly.
verify() {
	run -0 openssl verify -x509_strict -CAfile "$2" -untrusted "$1" "$1"
	assert_output "$1: OK"
}

# The issuer's common name of the first certificate in a PEM file.
issuer_cn() {
	openssl x509 -in "$1" -noout -issuer -nameopt multiline |
	    sed -n 's/^ *commonName *= *//p'
}

@test "ca-bootstrap --install: then ca-certificate and ca-token need no --ca-url" {
	start_server
	run -0 --separate-stderr ca-bootstrap --ca-url "$URL/" --fingerprint "$FP" --install
	assert_output ""
	assert_equal "$stderr" ""
	run -0 cmp "$CFG/certs/root_ca.crt" "$ROOT"
	run -0 pj '[d["ca-url"], d["fingerprint"], d["root"]]' < "$CFG/config/defaults.json"
	assert_output "[\"$URL\", \"$FP\", \"$CFG/certs/root_ca.crt\"]"
	assert_file_not_exists "$CFG/current-context.json"

	run -0 --separate-stderr ca-certificate -v --password-file "$PW" \
	    --san svc.test --san 10.1.2.3 svc.test svc.crt svc.key
	assert_output ""
	assert_equal "${stderr%%$'\n'*}" "ca-certificate: CA $URL, root $CFG/certs/root_ca.crt ($CFG/config/defaults.json)"
	assert_regex "$stderr" "POST $URL/sign: HTTP 201"
	verify svc.crt "$ROOT"
	assert_equal "$(stat -c %a svc.key) $(stat -c %a svc.crt)" "600 644"
	run -0 openssl x509 -in svc.crt -noout -ext subjectAltName
	assert_line --partial "DNS:svc.test, IP Address:10.1.2.3"
	run -0 openssl pkey -in svc.key -pubout
	assert_equal "$output" "$(openssl x509 -in svc.crt -noout -pubkey)"

	# ca-renew (mutual TLS) and ca-revoke with the defaults too
	run -0 --separate-stderr ca-renew --force svc.crt svc.key
	assert_equal "$stderr" ""
	verify svc.crt "$ROOT"
	serial=$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
	run -0 --separate-stderr ca-revoke --cert svc.crt --key svc.key
	assert_equal "$stderr" ""
	run -0 ca-db -d "$CA" show "0x$serial"
	assert_output --partial revoked
	run -0 --separate-stderr ca-token --password-file "$PW" tok.test
	[ "$(jws_part <(echo "$output") 1 | pj 'd["aud"]')" = "$URL/1.0/sign" ]
	# ca-bootstrap with nothing checks the defaults' CA again
	run -0 --separate-stderr ca-bootstrap
	assert_equal "$output" "$(cat "$ROOT")"
	# $CA_STATE_DIR still means that state directory, offline
	CA_STATE_DIR=$CA run -0 --separate-stderr ca-token -v --password-file "$PW" off.test
	assert_equal "${stderr%%$'\n'*}" "ca-token: CA in $CA (\$CA_STATE_DIR)"
	[ "$(jws_part <(echo "$output") 1 | pj 'd["aud"]')" = "https://ca.test:8443/1.0/sign" ]
	# explicit options win, and --context goes with none of them
	run -2 --separate-stderr ca-token --context x -d "$CA" --password-file "$PW" a.test
	assert_equal "$stderr" "ca-token: --context and --state-dir exclude each other (see ca-token --help)"
}

@test "contexts: two CAs, each certificate from the one named; another CA's defaults need --force" {
	printf 'other-password\n' > opw
	ca-init -d other --name Other --dns localhost --provisioner admin \
	    --password-file opw --unencrypted-intermediate-key -q > ofp
	CA=other start_server
	OTHER_PID=$SERVER_PID OURL=$URL
	start_server

	run -0 ca-bootstrap --ca-url "$URL" --fingerprint "$FP" --install --context test
	run -0 ca-bootstrap --ca-url "$OURL" --fingerprint "$(cat ofp)" --install --context other
	run -0 pj 'd["context"]' < "$CFG/current-context.json"
	assert_output other
	run -0 ca-certificate --password-file opw o.test o.crt o.key
	run -0 ca-certificate --context test --password-file "$PW" t.test t.crt t.key
	CA_CONTEXT=test run -0 ca-certificate --password-file "$PW" e.test e.crt e.key
	assert_equal "$(issuer_cn o.crt)" "Other Intermediate CA"
	assert_equal "$(issuer_cn t.crt)" "Test Intermediate CA"
	assert_equal "$(issuer_cn e.crt)" "Test Intermediate CA"
	verify o.crt other/certs/root_ca.crt
	verify t.crt "$ROOT"
	# the other CA's server does not know this CA's provisioner password
	run -1 --separate-stderr ca-certificate --password-file "$PW" x.test x.crt x.key
	assert_equal "$(wc -l <<< "$stderr")" 1
	assert_file_not_exists x.crt
	assert_file_not_exists x.key
	# a context named but missing is an error, not another CA
	run -1 --separate-stderr ca-token --context nope --password-file "$PW" a.test
	assert_output ""
	assert_equal "$stderr" "ca-token: context 'nope': no $CFG/authorities/nope/config/defaults.json (see ca-bootstrap --install --context)"

	# the plain defaults: the first install, then the same CA again, then
	# another is refused and nothing changes, unless --force
	run -0 ca-bootstrap --ca-url "$URL" --fingerprint "$FP" --install
	assert_file_not_exists "$CFG/current-context.json"
	run -0 ca-bootstrap --ca-url "$URL" --fingerprint "${FP^^}" --install
	before=$(cat "$CFG/config/defaults.json" "$CFG/certs/root_ca.crt")
	run -1 --separate-stderr ca-bootstrap --ca-url "$OURL" --fingerprint "$(cat ofp)" --install
	assert_output ""
	assert_equal "$stderr" "ca-bootstrap: $CFG/config/defaults.json holds another CA ($URL, $FP): --force replaces it"
	assert_equal "$(cat "$CFG/config/defaults.json" "$CFG/certs/root_ca.crt")" "$before"
	run -0 ca-certificate --password-file "$PW" p.test p.crt p.key
	assert_equal "$(issuer_cn p.crt)" "Test Intermediate CA"
	run -0 ca-bootstrap --ca-url "$OURL" --fingerprint "$(cat ofp)" --install --force
	run -0 cmp "$CFG/certs/root_ca.crt" other/certs/root_ca.crt
	run -0 ca-certificate --password-file opw q.test q.crt q.key
	assert_equal "$(issuer_cn q.crt)" "Other Intermediate CA"
	run -0 find "$CFG" -name '*.tmp*'
	assert_output ""
}

@test "defaults: a corrupt file, a swapped root, unknown members; step's own" {
	start_server
	run -0 ca-bootstrap --ca-url "$URL" --fingerprint "$FP" --install
	defaults=$CFG/config/defaults.json
	good=$(cat "$defaults")
	printf '{"ca-url": "%s", "fingerprint": ' "$URL" > "$defaults"
	run -1 --separate-stderr ca-token --password-file "$PW" a.test
	assert_output ""
	assert_regex "$stderr" "^ca-token: $defaults: invalid JSON at byte [0-9]+"
	assert_equal "$(wc -l <<< "$stderr")" 1
	printf '{"ca-url": "%s", "fingerprint": "%s", "root": "certs/root_ca.crt"}' "$URL" "$FP" > "$defaults"
	run -1 --separate-stderr ca-certificate --password-file "$PW" a.test a.crt a.key
	assert_equal "$stderr" "ca-certificate: $defaults: \"root\" is not an absolute path"
	assert_file_not_exists a.key
	# a root that is not the one pinned by the fingerprint
	printf '%s' "$good" > "$defaults"
	ca-init -d other --name Other --dns localhost --provisioner admin \
	    --password-file "$PW" --unencrypted-intermediate-key -q > /dev/null
	cp other/certs/root_ca.crt "$CFG/certs/root_ca.crt"
	run -1 --separate-stderr ca-token --password-file "$PW" a.test
	assert_regex "$stderr" "^ca-token: $defaults: the root $CFG/certs/root_ca.crt has fingerprint [0-9a-f]{64}, not the file's $FP\$"
	# unknown members are named once, and -q quiets them
	rm -rf "$CFG"
	mkdir -p "$STEPPATH/config"
	printf '{"ca-url": "%s", "fingerprint": "%s", "root": "%s", "redirect-url": "", "provisioner": "admin"}' \
	    "$URL" "$FP" "$ROOT" > "$STEPPATH/config/defaults.json"
	run -0 --separate-stderr ca-token -v --password-file "$PW" step.test
	assert_equal "$(sed -n 1,2p <<< "$stderr")" "ca-token: $STEPPATH/config/defaults.json: ignored: redirect-url, provisioner
ca-token: CA $URL, root $ROOT ($STEPPATH/config/defaults.json)"
	run -0 --separate-stderr ca-token -q --password-file "$PW" step.test
	assert_equal "$stderr" ""
}

@test "ca-certificate offline: verified chain, key 0600; existing files kept without --force" {
	run -0 --separate-stderr ca-certificate -d "$CA" --key "$PK" --key-type ec-p384 \
	    --not-after 2h svc.test svc.crt svc.key
	assert_output ""
	assert_equal "$stderr" ""
	verify svc.crt "$ROOT"
	assert_equal "$(stat -c %a svc.key)" 600
	assert_equal "$(lifetime_of svc.crt)" $((2 * 3600 + 60))
	run -0 openssl x509 -in svc.crt -noout -text
	assert_output --partial "NIST CURVE: P-384"
	assert_output --partial "DNS:svc.test"
	assert_equal "$(issued)" 1
	before=$(cat svc.crt svc.key)
	run -1 --separate-stderr ca-certificate -d "$CA" --key "$PK" svc.test svc.crt new.key
	assert_regex "$stderr" "^ca-certificate: .*svc.crt.*exists"
	assert_file_not_exists new.key
	assert_equal "$(issued)" 1
	run -0 ca-certificate -d "$CA" --key "$PK" --force svc.test svc.crt svc.key
	[ "$(cat svc.crt svc.key)" != "$before" ]
	verify svc.crt "$ROOT"
	run -2 ca-certificate -d "$CA" --key "$PK" svc.test same same
	run -2 ca-certificate -d "$CA" --key "$PK" svc.test svc.crt
}

@test "ca-certificate: a wrong password leaves no file, offline and online" {
	printf 'wrong\n' > wrong
	run -1 --separate-stderr ca-certificate -d "$CA" --password-file wrong svc.test svc.crt svc.key
	assert_output ""
	assert_equal "$(wc -l <<< "$stderr")" 1
	assert_equal "$(issued)" 0
	start_server
	run -0 ca-bootstrap --ca-url "$URL" --fingerprint "$FP" --install
	run -1 --separate-stderr ca-certificate --password-file wrong svc.test svc.crt svc.key
	assert_output ""
	assert_equal "$(wc -l <<< "$stderr")" 1
	run -0 find . -maxdepth 1 -name 'svc.*'
	assert_output ""
	# and a refusal of the CA after the key was made: a name it denies
	run -1 --separate-stderr ca-certificate --password-file "$PW" --not-after 1000d svc.test svc.crt svc.key
	assert_regex "$stderr" "HTTP 4[0-9][0-9]"
	run -0 find . -maxdepth 1 -name 'svc.*'
	assert_output ""
}
