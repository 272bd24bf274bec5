#!/usr/bin/env bats
# Certificate templates (options.x509.template/templateFile/templateData,
# lib/certtmpl.c) end to end: offline ca-sign and POST /1.0/sign, the
# fields read back by openssl and python cryptography, renewal copying the
# certificate, hostile templates refused with nothing recorded, a bad
# template refused when ca.json is loaded. The member-by-member table is
# tests/unit/test-certtmpl.c.

load helpers

# The CA every test copies: its provisioner's templateFile (relative to
# the state directory, as step-ca takes it) is templates/leaf.tpl, $RICH
# to begin with; a test writes another there (python, which edit_config
# runs, costs more than the rest of a test).
setup_file() {
	make_template_ca
	CA=$BATS_FILE_TMPDIR/template/ca
	mkdir "$CA/templates"
	printf '%s\n' "$RICH" > "$CA/templates/leaf.tpl"
	edit_config "
c['authority']['provisioners'][0]['options'] = {'x509': {
    'templateFile': 'templates/leaf.tpl', 'templateData': {'unused': 1}}}"
}

setup() {
	use_ca
	ROOT=$CA/certs/root_ca.crt SERVER_PID=
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	TPL=$CA/templates/leaf.tpl
}

teardown() {
	stop_server
}

RICH='{
	"subject": {"commonName": "svc.test", "country": "FR",
	    "organization": ["Acme", "Acme Ops"], "organizationalUnit": "Web"},
	"dnsNames": ["svc.test", "www.svc.test"],
	"keyUsage": ["digitalSignature"],
	"extKeyUsage": ["serverAuth"],
	"basicConstraints": {"isCA": false},
	"crlDistributionPoints": "http://crl.svc.test/ca.crl",
	"ocspServer": "http://ocsp.svc.test",
	"issuingCertificateURL": "http://ca.svc.test/int.crt",
	"policyIdentifiers": ["2.23.140.1.2.2"],
	"extensions": [{"id": "1.3.6.1.4.1.55555.1", "critical": false,
	    "value": "DAVoZWxsbw=="}]
}'

# check_rich CERT [python]: the fields of $RICH, as openssl (and python
# cryptography) read them.
check_rich() {
	run -0 openssl x509 -in "$1" -noout -text
	assert_line --regexp '^ +Subject: C ?= ?FR, O ?= ?Acme, O ?= ?Acme Ops, OU ?= ?Web, CN ?= ?svc.test$'
	assert_line --regexp '^ +Issuer: O ?= ?Test, CN ?= ?Test Intermediate CA$'
	assert_line --regexp '^ +DNS:svc.test, DNS:www.svc.test$'
	assert_line --regexp '^ +TLS Web Server Authentication$'
	refute_line --partial 'TLS Web Client Authentication'
	assert_line --regexp '^ +Policy: 2.23.140.1.2.2$'
	assert_line --regexp '^ +URI:http://crl.svc.test/ca.crl$'
	assert_line --regexp '^ +OCSP - URI:http://ocsp.svc.test$'
	assert_line --regexp '^ +CA Issuers - URI:http://ca.svc.test/int.crt$'
	assert_line --regexp '^ +1.3.6.1.4.1.37476.9000.64.1: ?$'
	run -0 openssl verify -x509_strict -CAfile "$ROOT" \
		-untrusted "$CA/certs/intermediate_ca.crt" "$1"
	[ "${2:-}" = python ] || return 0
	run -0 "$PYTHON" - "$1" "$CA/certs/intermediate_ca.crt" <<'PY'
import sys
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID, ExtendedKeyUsageOID
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
e = c.extensions
assert c.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "FR"
assert [a.value for a in c.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["Acme", "Acme Ops"]
assert e.get_extension_for_class(x509.BasicConstraints).value.ca is False
assert e.get_extension_for_class(x509.BasicConstraints).critical
ku = e.get_extension_for_class(x509.KeyUsage).value
assert ku.digital_signature and not ku.key_encipherment and not ku.key_cert_sign
assert list(e.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
raw = e.get_extension_for_oid(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"))
assert raw.value.value == b"\x0c\x05hello" and not raw.critical
ica = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
aki = e.get_extension_for_class(x509.AuthorityKeyIdentifier).value
assert aki.key_identifier == ica.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
print("ok")
PY
	assert_output ok
}

@test "offline ca-sign with a template: subject, names and extensions as it says, the rest the CA's; renewal copies the certificate" {
	token svc.test --san svc.test --san www.svc.test
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.pem
	assert_equal "$stderr" ""
	check_rich svc.pem python
	assert_equal "$(issued)" 1
	# Renewal copies what was issued (step-ca does not render again),
	# whatever the template says by now.
	old=$(openssl x509 -in svc.pem -noout -serial -ext subjectAltName,certificatePolicies,crlDistributionPoints,authorityInfoAccess,extendedKeyUsage,1.3.6.1.4.1.55555.1 -subject)
	printf '{"subject": "svc.test", "dnsNames": "svc.test"}\n' > "$TPL"
	run -0 ca-renew -d "$CA" --force svc.pem svc.key
	run -0 openssl x509 -in svc.pem -noout -serial -ext subjectAltName,certificatePolicies,crlDistributionPoints,authorityInfoAccess,extendedKeyUsage,1.3.6.1.4.1.55555.1 -subject
	assert_equal "$(sed 1d <<< "$output")" "$(sed 1d <<< "$old")"
	refute_line "${old%%$'\n'*}"	# a new serial
	assert_equal "$(issued)" 2
}

@test "ca-provisioner --x509-template, then ca-serve: POST /1.0/sign renders it; a hostile one is a 403 after a reload" {
	printf '%s\n' "$RICH" > rich.tpl
	printf '{"unused": [1]}\n' > data.json
	rm "$TPL"	# the template is in ca.json now
	run -0 ca-provisioner -d "$CA" update admin --x509-template rich.tpl --x509-template-data data.json
	run -0 grep -c -e '"unused": \[' -e '"templateFile"' "$CA/config/ca.json"
	assert_output 1
	start_server
	n=$(issued)	# ca-serve's own certificate
	ca-token --ca-url "$URL" --root "$ROOT" --password-file "$PW" \
		--san svc.test --san www.svc.test svc.test > svc.tok
	run -0 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" \
		--token-file svc.tok --key-out svc.key -o svc.pem
	check_rich svc.pem
	assert_equal "$(issued)" $((n + 1))
	# a template that makes a CA for any request is refused at once, and
	# ca.json stays as it was
	printf '{"subject": "svc.test", "basicConstraints": {"isCA": true}}\n' > ca.tpl
	before=$(cat "$CA/config/ca.json")
	run -1 --separate-stderr ca-provisioner -d "$CA" update admin --x509-template ca.tpl
	assert_regex "$stderr" 'rendered for a request of host.example.com \(RSA key\): basicConstraints isCA true: a leaf template may not make a CA'
	assert_equal "$(cat "$CA/config/ca.json")" "$before"
	# one that makes a CA only for some requests passes the trial at
	# load and is refused when it renders so
	printf '{"subject": "svc.test"{{ if eq .Token.sub "svc.test" }}, "basicConstraints": {"isCA": true}{{ end }}}\n' > ca.tpl
	run -0 ca-provisioner -d "$CA" update admin --x509-template ca.tpl
	reload_server
	ca-token --ca-url "$URL" --root "$ROOT" --password-file "$PW" svc.test > ca.tok
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" \
		--token-file ca.tok --key-out ca.key
	assert_equal "$stderr" 'ca-sign: CA refused: provisioner "admin": certificate template: basicConstraints isCA true: a leaf template may not make a CA (HTTP 403)'
	assert_equal "$(issued)" $((n + 1))
}

@test "hostile templates are refused with their reason; nothing recorded, the token not spent" {
	# a CA or a CA's extension is refused when ca.json is loaded (a trial
	# render), the rest at issuance
	local atload="ca-sign: $CA/config/ca.json: authority.provisioners[0].options.x509: rendered for a request of host.example.com (RSA key)"
	local -a tpl=(
		'{"subject": "svc.test", "basicConstraints": {"isCA": true, "maxPathLen": 0}}'
		'{"subject": "svc.test", "keyUsage": ["digitalSignature", "certSign"]}'
		'{"subject": "svc.test", "dnsNames": ["svc.test", "*.svc.test"]}'
		'{"subject": "svc.test", "notBefore": "2030-01-01T00:00:00Z", "notAfter": "2031-01-01T00:00:00Z"}'
		'{"subject": "svc.test", "extensions": [{"id": "2.5.29.14", "value": "BAEA"}]}'
		'{"subject": "svc.test", "nameConstraints": {"permittedDNSDomains": ["test"]}}'
		'{"subject": "evil.test"}'
	)
	local -a msg=(
		"$atload: basicConstraints isCA true: a leaf template may not make a CA"
		"$atload: keyUsage certSign: a leaf template may not make a CA (certSign and crlSign are refused)"
		"ca-sign: provisioner \"admin\": the template's dns name \"*.svc.test\" is not one the request was authorised for"
		'ca-sign: requested notBefore is more than 24h0m0s (provisioner "admin"'"'"'s longest lifetime) ahead'
		"$atload: extensions[0]: extension 2.5.29.14 is refused: the subject key identifier is the CA's"
		"$atload: nameConstraints: refused: name constraints are refused in a leaf"
		"ca-sign: provisioner \"admin\": the template's subject CN \"evil.test\" is not one the request was authorised for"
	)
	local t n=0 before
	token svc.test
	before=$(store_state)
	# (not "i": bats-assert's functions set it)
	for t in "${!tpl[@]}"; do
		printf '%s\n' "${tpl[$t]}" > "$TPL"
		run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key
		assert_output ""
		assert_equal "$stderr" "${msg[$t]}"
		[ ! -e svc.key ]
		n=$((n + 1))
	done
	assert_equal "$n" 7
	assert_equal "$(store_state)" "$before"
	assert_equal "$(issued)" 0
	# The policy applies with a template as without.
	printf '{"subject": "svc.test", "dnsNames": ["svc.test"]}\n' > "$TPL"
	edit_config 'c["authority"]["policy"] = {"x509": {"deny": {"dns": ["svc.test"]}}}'
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key
	assert_equal "$stderr" 'ca-sign: dns name svc.test denied by authority policy deny.dns "svc.test"'
	assert_equal "$(issued)" 0
}

@test "a bad template is refused when ca.json is loaded, with file:line:col" {
	token svc.test
	printf '{\n  "subject": {{ toJson .Subject }\n}\n' > "$TPL"
	run -1 --separate-stderr ca-db -d "$CA" check
	assert_regex "$stderr" "^ca-db: .*/config/ca.json: authority.provisioners\[0\].options.x509: $CA/templates/leaf.tpl:2:[0-9]+: "
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key
	assert_regex "$stderr" "templates/leaf.tpl:2:[0-9]+: "
	# A registration authority takes none: its CA decides.
	printf '{"subject": "x"}\n' > "$TPL"
	edit_config 'c["authority"]["type"] = "stepcas"; c["authority"]["certificateAuthority"] = "https://127.0.0.1:1"; c["authority"]["certificateAuthorityFingerprint"] = "00" * 32; c["authority"]["certificateIssuer"] = {"type": "jwk", "provisioner": "admin"}'
	run -1 --separate-stderr ca-db -d "$CA" check
	assert_regex "$stderr" "a registration authority takes no certificate template"
}

@test "step's default leaf template (x509util.DefaultLeafTemplate) renders step's default leaf" {
	cp "$CA_FIXTURES/templates/step-default-leaf.tpl" "$TPL"
	run -0 ca-db -d "$CA" check
	token svc.test --san svc.test --san 10.0.0.7
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.pem
	run -0 openssl x509 -in svc.pem -noout -text
	assert_line --regexp '^ +Subject: CN ?= ?svc.test$'
	assert_line --regexp '^ +DNS:svc.test, IP Address:10.0.0.7$'
	assert_line --regexp '^ +Digital Signature$'
	assert_line --regexp '^ +TLS Web Server Authentication, TLS Web Client Authentication$'
	run -0 openssl verify -x509_strict -CAfile "$ROOT" \
		-untrusted "$CA/certs/intermediate_ca.crt" svc.pem
}
