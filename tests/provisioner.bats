#!/usr/bin/env bats
# ca-provisioner: list, add, update, remove; edits checked before they are
# published, a backup kept, a running ca-serve told by SIGHUP.

load helpers

setup_file() {
	make_template_ca
	"$PYTHON" -c 'import json, sys; k = json.load(open(sys.argv[1])); k.pop("d"); print(json.dumps(k))' \
		"$BATS_FILE_TMPDIR/template/prov.json" > "$BATS_FILE_TMPDIR/template/pub.json"
}

setup() {
	use_ca
	printf 'ops-password\n' > ops.pw
}

teardown() {
	stop_server
}

@test "add --type JWK --create: listed, its tokens work offline, the old ca.json kept as ca.json.bak" {
	cp "$CA/config/ca.json" before.json
	chmod 0640 "$CA/config/ca.json"
	run -0 --separate-stderr ca-provisioner -d "$CA" add ops --type JWK --create --password-file ops.pw
	assert_output ''
	assert_equal "$stderr" ''
	cmp before.json "$CA/config/ca.json.bak"
	assert_equal "$(stat -c %a "$CA/config/ca.json") $(stat -c %a "$CA/config/ca.json.bak")" "640 640"
	run -0 --separate-stderr ca-provisioner -d "$CA" list
	assert_line -n 0 "$(printf 'NAME\tTYPE\tKID')"
	assert_line -n 2 --regexp $'^ops\tJWK\t[A-Za-z0-9_-]{43}$'
	assert_equal "${#lines[@]}" 3
	kid=${lines[2]##*$'\t'}
	run -0 ca-provisioner -d "$CA" list --json
	run -0 pj '[[p["name"], p["type"], "encryptedKey" in p, p["key"]["kid"]] for p in d][1:]' <<< "$output"
	assert_output '[["ops", "JWK", true, "'"$kid"'"]]'
	ca-token -d "$CA" --provisioner ops --password-file ops.pw svc.test > svc.tok
	ca-sign -d "$CA" --token-file svc.tok --key-out svc.key -o svc.pem
	run -0 openssl verify -CAfile "$CA/certs/root_ca.crt" -untrusted "$CA/certs/intermediate_ca.crt" svc.pem
	run -0 ca-db -d "$CA" list
	assert_line --regexp $'\tvalid\tops\tCN=svc.test\t'
}

@test "add --public-key and --type ACME; update claims change the lifetime openssl reads" {
	run -1 ca-provisioner -d "$CA" add bad --public-key "$PK"
	assert_output --partial 'a private key'
	run -0 ca-provisioner -d "$CA" add keyholder --public-key pub.json
	run -0 ca-provisioner -d "$CA" add acme2 --type ACME --challenge dns-01 --require-eab
	token k.test --provisioner keyholder
	ca-sign -d "$CA" --token-file k.test.tok --key-out k.key -o k.pem
	run -0 openssl x509 -in k.pem -noout -checkend 86000
	run -0 ca-provisioner -d "$CA" update keyholder --x509-max-dur 2h --x509-default-dur 2h --disable-renewal
	run -0 pj '[{k: v for k, v in p.items() if k != "key"} for p in d["authority"]["provisioners"][1:]]' < "$CA/config/ca.json"
	assert_output '[{"type": "JWK", "name": "keyholder", "claims": {"maxTLSCertDuration": "2h0m0s", "defaultTLSCertDuration": "2h0m0s", "disableRenewal": true}}, {"type": "ACME", "name": "acme2", "challenges": ["dns-01"], "requireEAB": true}]'
	token k2.test --provisioner keyholder
	ca-sign -d "$CA" --token-file k2.test.tok --key-out k2.key -o k2.pem
	run -0 openssl x509 -in k2.pem -noout -checkend 7000
	run -1 openssl x509 -in k2.pem -noout -checkend 7300
}

@test "remove: its tokens are refused; the last provisioner that can issue stays" {
	ca-provisioner -d "$CA" add ops --public-key pub.json
	token svc.test --provisioner ops
	run -0 ca-provisioner -d "$CA" remove ops
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.pem
	assert_regex "$stderr" '^ca-sign: token from unknown provisioner "ops" \(key id [A-Za-z0-9_-]{43}\)$'
	assert_file_not_exists svc.pem
	cp "$CA/config/ca.json" before.json
	run -1 --separate-stderr ca-provisioner -d "$CA" remove admin
	assert_equal "$stderr" 'ca-provisioner: provisioner "admin" is the last one that can issue (JWK or ACME): add another first'
	cmp before.json "$CA/config/ca.json"
}

@test "a refused edit leaves ca.json and ca.json.bak byte-identical, with one line saying why" {
	ca-provisioner -d "$CA" add ops --public-key pub.json
	cp "$CA/config/ca.json" before.json
	cp "$CA/config/ca.json.bak" before.bak
	long=$(printf 'n%.0s' $(seq 129))
	printf '{"a": 1}\n' > data.json
	printf '[1]\n' > list.json
	while IFS='|' read -r head args; do
		status=${head%% *} want=${head#* }
		eval "set -- $args"
		run -"$status" --separate-stderr ca-provisioner -d "$CA" "$@"
		assert_equal "$stderr" "ca-provisioner: $want"
		assert_equal "${#stderr_lines[@]}" 1
		cmp before.json "$CA/config/ca.json"
		cmp before.bak "$CA/config/ca.json.bak"
	done <<EOF
1 provisioner "ops" already exists|add ops --type ACME
1 the edit is refused, ca.json unchanged: $CA/config/ca.json: ops: claims must satisfy 0 < minTLSCertDuration <= defaultTLSCertDuration <= maxTLSCertDuration|update ops --x509-max-dur 1h
1 no provisioner "nobody"|update nobody --disable-renewal
1 provisioner name with a control character (0x09)|add \$'a\\tb' --type ACME
1 provisioner name of 129 bytes: at most 128|add $long --type ACME
2 --x509-min-dur: invalid duration 'soon' (use e.g. 90d, 24h, 5m, 30s) (see ca-provisioner --help)|update ops --x509-min-dur soon
2 update: nothing to change (the claims, template and policy options) (see ca-provisioner --help)|update ops
1 the edit is refused, ca.json unchanged: $CA/config/ca.json: authority.provisioners[1].options.x509.templateData: no template to give it to|update ops --x509-template-data data.json
1 list.json: not a JSON object|update ops --x509-template-data list.json
2 remove takes no claims, templates or policy (see ca-provisioner --help)|remove ops --x509-template t.json
EOF
}

@test "policy flags: step's policy.x509 in ca.json, offline sign allowed and denied by it, update appends and removes, a bad pattern refused" {
	run -0 ca-provisioner -d "$CA" add ops --public-key pub.json --x509-allow-dns '*.ok.test' \
		--x509-allow-dns ok.test --x509-deny-dns bad.ok.test --x509-allow-ip 10.0.0.0/8
	pol='d["authority"]["provisioners"][1].get("policy")'
	run -0 pj "$pol" < "$CA/config/ca.json"
	assert_output '{"x509": {"allow": {"dns": ["*.ok.test", "ok.test"], "ip": ["10.0.0.0/8"]}, "deny": {"dns": ["bad.ok.test"]}}}'
	token a.ok.test --provisioner ops --san a.ok.test --san 10.1.2.3
	ca-sign -d "$CA" --token-file a.ok.test.tok --key-out a.key -o a.pem
	run -0 openssl x509 -in a.pem -noout -ext subjectAltName
	assert_line --partial 'DNS:a.ok.test, IP Address:10.1.2.3'
	token bad.ok.test --provisioner ops
	run -1 --separate-stderr ca-sign -d "$CA" --token-file bad.ok.test.tok --key-out b.key -o b.pem
	assert_regex "$stderr" '^ca-sign: .*bad\.ok\.test.*deny\.dns "bad\.ok\.test"'
	assert_file_not_exists b.pem
	# update appends (the wildcard flag too), then removes entries, and drops what is left empty
	run -0 ca-provisioner -d "$CA" update ops --x509-deny-cn 'Root CA' --x509-allow-wildcard-names
	run -0 pj "$pol" < "$CA/config/ca.json"
	assert_output '{"x509": {"allow": {"dns": ["*.ok.test", "ok.test"], "ip": ["10.0.0.0/8"]}, "deny": {"dns": ["bad.ok.test"], "cn": ["Root CA"]}, "allowWildcardNames": true}}'
	run -0 ca-provisioner -d "$CA" update ops --remove --x509-deny-dns bad.ok.test --x509-deny-cn 'Root CA' \
		--x509-allow-ip 10.0.0.0/8 --x509-disallow-wildcard-names
	run -0 pj "$pol" < "$CA/config/ca.json"
	assert_output '{"x509": {"allow": {"dns": ["*.ok.test", "ok.test"]}}}'
	token bad.ok.test --provisioner ops
	ca-sign -d "$CA" --token-file bad.ok.test.tok --key-out b.key -o b.pem
	# a pattern the loader refuses, or an SSH flag: ca.json byte-identical
	cp "$CA/config/ca.json" before.json
	run -1 --separate-stderr ca-provisioner -d "$CA" update ops --x509-allow-dns '*.*.ok.test'
	assert_regex "$stderr" '^ca-provisioner: the edit is refused, ca.json unchanged: .*policy\.x509\.allow\.dns\[2\]: "\*\.\*\.ok\.test": '
	run -1 --separate-stderr ca-provisioner -d "$CA" update ops --x509-allow-dns $'*.b\xc3\xbccher.test'
	assert_regex "$stderr" '^ca-provisioner: the edit is refused, ca.json unchanged: .*policy\.x509\.allow\.dns\[2\]: '
	run -2 --separate-stderr ca-provisioner -d "$CA" update ops --ssh-host-allow-dns '*.ok.test'
	assert_equal "$stderr" 'ca-provisioner: --ssh-host-allow-dns: ca-tools issues no SSH certificates, so it keeps no SSH policy or claims (see ca-provisioner --help)'
	cmp before.json "$CA/config/ca.json"
}

@test "a running ca-serve reloads on --pid-file and serves the new provisioner without a restart" {
	start_server
	run -0 api /provisioners
	refute_output --partial '"ops"'
	echo "$SERVER_PID" > serve.pid
	follow_log "$SERVER_LOG" 5
	run -0 ca-provisioner -d "$CA" add ops --public-key pub.json --pid-file serve.pid
	await_log 'reloaded ' || fail "ca-serve did not log its reload"
	run -0 api /provisioners
	run -0 pj '[p["name"] for p in d["provisioners"]]' <<< "$(sed '$d' <<< "$output")"
	assert_output '["admin", "ops"]'
	# Its token is accepted online.
	run -0 ca-sign --ca-url "$URL" --root "$CA/certs/root_ca.crt" \
		--token-file <(ca-token -d "$CA" --provisioner ops --key "$PK" on.test) \
		--key-out on.key -o on.pem
	run -0 openssl x509 -in on.pem -noout -subject
	assert_output 'subject=CN = on.test'
}
