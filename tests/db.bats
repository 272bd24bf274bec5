#!/usr/bin/env bats
# ca-db: list, show, check.

load helpers

setup() {
	use_ca
	for n in a b c; do
		token $n.test --san $n.test --san 10.0.0.$((RANDOM % 200 + 1))
		ca-sign -d "$CA" --token-file $n.test.tok --key-out $n.key -o $n.pem
	done
}

@test "list: a header and one tab-separated row per certificate" {
	run -0 --separate-stderr ca-db -d "$CA" list
	[ -z "$stderr" ]
	assert_line -n 0 "$(printf 'SERIAL\tNOT-AFTER\tSTATUS\tPROVISIONER\tSUBJECT\tSANS\tREVOKED-AT\tREASON\tACME-ACCOUNT\tACME-ORDER\tIDENTITY')"
	assert_equal "${#lines[@]}" 4
	for n in a b c; do
		serial=$(openssl x509 -in $n.pem -noout -serial | cut -d= -f2 | tr A-F a-f)
		end=$(date -u -d "$(openssl x509 -in $n.pem -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
		assert_line --regexp "^$serial	$end	valid	admin	CN=$n.test	$n.test,10\.0\.0\.[0-9]+	-	-	-	-	$n.test$"
	done
}

@test "list --json: every certificate with its fields" {
	run -0 ca-db -d "$CA" list --json
	echo "$output" > l.json
	run -0 pj '[len(d), sorted(d[0])]' < l.json
	assert_output '[3, ["identity", "issuedAt", "names", "notAfter", "notBefore", "provisioner", "sans", "serial", "serialDecimal", "status", "subject"]]'
	run -0 pj 'sorted(x["subject"] for x in d)' < l.json
	assert_output '["CN=a.test", "CN=b.test", "CN=c.test"]'
	serial=$(openssl x509 -in b.pem -noout -serial | cut -d= -f2)
	run -0 pj "[x['serialDecimal'] for x in d if x['serial'] == '${serial,,}'][0] == str(int('$serial', 16))" < l.json
	assert_output true
}

@test "show: by hex, 0x-hex, colon hex and decimal; the PEM is the certificate" {
	hex=$(openssl x509 -in b.pem -noout -serial | cut -d= -f2)
	dec=$("$PYTHON" -c "print(int('$hex', 16))")
	colon=$(echo "$hex" | sed 's/../&:/g; s/:$//')
	run -0 ca-db -d "$CA" show "$hex"
	ref=$output
	assert_line "subject: CN=b.test"
	assert_line "provisioner: admin"
	assert_line "status: valid"
	for s in "0x$hex" "$dec" "$colon" "${hex,,}"; do
		run -0 ca-db -d "$CA" show "$s"
		assert_equal "$output" "$ref"
	done
	run -0 ca-db -d "$CA" show --json "$dec"
	run -0 cmp <(pj 'd["pem"]' <<< "$output" | openssl x509 -outform DER) <(openssl x509 -in b.pem -outform DER)
}

@test "show: unknown and malformed serials" {
	run -1 --separate-stderr ca-db -d "$CA" show 12345
	assert_equal "$stderr" "ca-db: no certificate with serial 3039"
	run -2 --separate-stderr ca-db -d "$CA" show 12x45
	[[ $stderr == "ca-db: invalid serial number '12x45'"* ]]
	run -2 ca-db -d "$CA" show
	run -2 ca-db -d "$CA" list extra
	run -2 ca-db -d "$CA" frobnicate
	run -2 ca-db -d "$CA" check --json
}

@test "check: a clean store" {
	run -0 ca-db -d "$CA" check
	assert_output "3 certificates, 0 problems"
	run -0 ca-db -d "$CA" check -q
	assert_output ""
}

@test "check: finds a certificate without its token record, and a token without its certificate" {
	serial=$(openssl x509 -in a.pem -noout -serial | cut -d= -f2 | tr A-F a-f)
	jti=$(jws_part a.test.tok 1 | pj 'd["jti"]')
	kid=$(jws_part a.test.tok 0 | pj 'd["kid"]')
	gdbmtool "$CA/db/ca.gdbm" delete "used_ott/$kid.$jti"
	run -1 ca-db -d "$CA" check
	assert_line "$serial: token $jti has no used-token record"
	assert_line "3 certificates, 1 problems"
	serial_b=$(openssl x509 -in b.pem -noout -serial | cut -d= -f2 | tr A-F a-f)
	gdbmtool "$CA/db/ca.gdbm" delete "x509_certs/$serial_b"
	run -1 ca-db -d "$CA" check
	assert_output --partial "used token points at unknown certificate $serial_b"
	assert_line "$serial_b: issuance data without its certificate"
}

@test "check: finds a stored certificate that does not parse" {
	serial=$(openssl x509 -in a.pem -noout -serial | cut -d= -f2 | tr A-F a-f)
	gdbmtool "$CA/db/ca.gdbm" store "x509_certs/$serial" "not DER"
	run -1 ca-db -d "$CA" check
	assert_line "$serial: stored certificate does not parse"
	assert_line "3 certificates, 1 problems"
	# list refuses rather than hiding it
	run -1 ca-db -d "$CA" list
	assert_output --partial "certificate $serial"
}

@test "list on a fresh CA is just the header; list works while the store is read by others" {
	rm -rf fresh
	ca-init -d fresh --name F --dns f.test --provisioner p --password-file "$PW" -q > /dev/null
	run -0 ca-db -d fresh list
	assert_output "$(printf 'SERIAL\tNOT-AFTER\tSTATUS\tPROVISIONER\tSUBJECT\tSANS\tREVOKED-AT\tREASON\tACME-ACCOUNT\tACME-ORDER\tIDENTITY')"
	run -0 ca-db -d fresh list --json
	run -0 pj 'd' <<< "$output"
	assert_output "[]"
	# listing while a shared lock is held: the holder says when it holds
	# it, and keeps it until its standard input is closed
	mkfifo held release
	flock -s -o "$CA/db/lock" sh -c 'echo held; cat > /dev/null' < release > held 3>&- &
	holder=$!
	exec {rel}> release
	read -r _ < held
	run -1 flock -n "$CA/db/lock" true
	run -0 ca-db -d "$CA" list
	exec {rel}>&-
	wait "$holder"
}
