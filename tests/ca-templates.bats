#!/usr/bin/env bats
# ca-init --root-template / --intermediate-template (step's certificate
# template JSON, lib/certtmpl.c's CA mode): name constraints and subject as
# the template says, judged by openssl (x509 -text, verify -x509_strict
# enforcing the constraints on leaves the CA issued); bad templates and
# templates that do not make a CA refused with nothing written.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'init-password\n' > pw
}

init() {
	ca-init -d ca --name "Acme" --dns ca.example.com --provisioner ops \
		--password-file pw -q "$@"
}

# A template and a leaf for NAME, issued by ca-sign with the CA's key.
leaf_for() {
	ca-token -d ca --key pk.json "$1" > "$1.tok"
	ca-sign -d ca --token-file "$1.tok" --key-out "$1.key" -o "$1.pem"
}

verify() {
	openssl verify -x509_strict -CAfile ca/certs/root_ca.crt \
		-untrusted ca/certs/intermediate_ca.crt "$1"
}

@test "an intermediate template's name constraints and subject: openssl shows them and enforces them on issued leaves" {
	cat > int.tpl <<'TPL'
{
	"subject": {
		"commonName": {{ toJson .Subject.CommonName }},
		"organization": {{ toJson .Subject.Organization }},
		"organizationalUnit": "Web Ops"
	},
	"keyUsage": ["certSign", "crlSign"],
	"basicConstraints": {"isCA": true, "maxPathLen": 0},
	"nameConstraints": {"critical": true,
		"permittedDNSDomains": [".example.com", "example.com"],
		"excludedIPRanges": ["10.0.0.0/8"]}
}
TPL
	run -0 init --intermediate-template int.tpl --unencrypted-intermediate-key \
		--provisioner-key-out pk.json
	run -0 openssl x509 -in ca/certs/intermediate_ca.crt -noout -text
	assert_output --partial "Subject: O = Acme, OU = Web Ops, CN = Acme Intermediate CA"
	assert_output --regexp "Name Constraints: critical"$'\n'" *Permitted:"$'\n'" *DNS:.example.com"$'\n'" *DNS:example.com"$'\n'" *Excluded:"$'\n'" *IP:10.0.0.0/255.0.0.0"
	assert_output --regexp "Basic Constraints: critical"$'\n'" *CA:TRUE, pathlen:0"
	assert_output --regexp "Key Usage: critical"$'\n'" *Certificate Sign, CRL Sign"
	# the root is step's default, as without the option
	run -0 openssl x509 -in ca/certs/root_ca.crt -noout -subject -ext basicConstraints
	assert_output --partial "CN = Acme Root CA"
	assert_output --partial "CA:TRUE, pathlen:1"
	run -0 leaf_for a.example.com
	run -0 verify a.example.com.pem
	# a leaf the intermediate's constraints forbid (openssl verify would
	# say "permitted subtree violation") is never issued, nor recorded
	n=$(ca-db -d ca list | wc -l)
	run -1 --separate-stderr leaf_for evil.test
	assert_equal "$stderr" "ca-sign: dns name evil.test is outside the issuing CA's name constraints"
	[ ! -e evil.test.pem ] && [ ! -e evil.test.key ]
	ca-token -d ca --key pk.json --san a.example.com --san 10.1.2.3 a.example.com > ip.tok
	run -1 --separate-stderr ca-sign -d ca --token-file ip.tok --key-out ip.key -o ip.pem
	assert_equal "$stderr" "ca-sign: ip address 10.1.2.3 is outside the issuing CA's name constraints"
	assert_equal "$(ca-db -d ca list | wc -l)" "$n"
}

@test "a root template: subject, issuer and path length as it says; the chain verifies" {
	cat > root.tpl <<'TPL'
{
	"subject": {"commonName": "Acme Trust Anchor", "organization": {{ toJson .Subject.Organization }}, "country": "FR"},
	"issuer": {{ toJson .Subject }},
	"keyUsage": ["certSign", "crlSign"],
	"basicConstraints": {"isCA": true, "maxPathLen": 2},
	"policyIdentifiers": ["2.23.140.1.2.1"]
}
TPL
	run -0 init --root-template root.tpl
	run -0 openssl x509 -in ca/certs/root_ca.crt -noout -subject -issuer -ext basicConstraints,certificatePolicies
	assert_output --partial "subject=C = FR, O = Acme, CN = Acme Trust Anchor"
	assert_output --partial "issuer=C = FR, O = Acme, CN = Acme Trust Anchor"
	assert_output --partial "CA:TRUE, pathlen:2"
	assert_output --partial "Policy: 2.23.140.1.2.1"
	run -0 openssl verify -x509_strict -CAfile ca/certs/root_ca.crt ca/certs/intermediate_ca.crt
}

# refused NAME OPTION TEMPLATE MESSAGE: ca-init with OPTION NAME.tpl
# (holding TEMPLATE) fails with the one line MESSAGE.
refused() {
	printf '%s\n' "$3" > "$1.tpl"
	run -1 --separate-stderr init "$2" "$1.tpl"
	assert_output ""
	assert_equal "$stderr" "ca-init: $4"
}

@test "bad CA templates are refused with one line and nothing written" {
	local s='"subject": {{ toJson .Subject }}'
	refused bad --intermediate-template "{$s,"$'\n'' "keyUsage": {{ nope }}}' \
		"bad.tpl:2:17: function nope is not supported"
	refused leaf --root-template "{$s, \"keyUsage\": [\"certSign\"], \"basicConstraints\": {\"isCA\": false}}" \
		"leaf.tpl: basicConstraints: a CA's template must make a CA (isCA true)"
	refused nosign --intermediate-template "{$s, \"keyUsage\": [\"crlSign\"], \"basicConstraints\": {\"isCA\": true}}" \
		"nosign.tpl: keyUsage: a CA's template must include certSign"
	refused deep --intermediate-template "{$s, \"keyUsage\": [\"certSign\"], \"basicConstraints\": {\"isCA\": true, \"maxPathLen\": 1}}" \
		"the intermediate's maxPathLen 1 exceeds the root's constraint (maxPathLen 1)"
	refused zero --root-template "{$s, \"keyUsage\": [\"certSign\"], \"basicConstraints\": {\"isCA\": true, \"maxPathLen\": 0}}" \
		"zero.tpl: maxPathLen 0 leaves no room for the intermediate"
	refused names --root-template "{$s, \"dnsNames\": \"x.test\", \"keyUsage\": [\"certSign\"], \"basicConstraints\": {\"isCA\": true}}" \
		"names.tpl: dnsNames: refused in a CA's template (ca-init decides a CA's names and validity)"
	# nothing written, not even a temporary directory
	run -0 find . -maxdepth 1 -name 'ca*'
	assert_output ""
	# a registration authority makes no CA certificate
	run -2 --separate-stderr ca-init --ra --upstream https://127.0.0.1:1 \
		--upstream-fingerprint "$(printf '%064d' 0)" \
		--upstream-provisioner p --upstream-password-file pw \
		-d ca --name A --dns a.test --provisioner ops \
		--password-file pw --root-template zero.tpl
	assert_equal "$stderr" "ca-init: --root-template: a registration authority makes no CA certificate (see ca-init --help)"
}
