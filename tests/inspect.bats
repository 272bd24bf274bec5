#!/usr/bin/env bats
# ca-inspect: the readable and the JSON view of a certificate, a bundle, a
# CSR and a token, judged by openssl and python; hostile and oversized
# input; --needs-renewal by ca-renew's rule.

load helpers

setup() {
	use_ca
}

# leaf NAME LIFETIME [ca-sign options...]: NAME.crt (leaf + intermediate)
# and NAME.key, issued offline, with the names NAME and 127.0.0.1.
leaf() {
	local name=$1 life=$2
	shift 2
	token "$name" --san "$name" --san 127.0.0.1
	ca-sign -d "$CA" --token-file "$name.tok" --key-out "$name.key" \
		--not-after "$life" "$@" > "$name.crt"
}

# field VIEW LABEL: the value of the first "  LABEL: value" line.
field() {
	sed -n "s/^  $2: //p" <<< "$1" | head -n 1
}

@test "a certificate: the readable fields are openssl's" {
	leaf svc.test 2h
	openssl x509 -in svc.test.crt -out svc.test.der -outform DER
	local want_serial want_end want_fp want_subject want_issuer
	want_subject=$(openssl x509 -in svc.test.crt -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
	want_issuer=$(openssl x509 -in svc.test.crt -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
	# openssl's own list of names, in its spelling.
	assert_equal "$(openssl x509 -in svc.test.crt -noout -ext subjectAltName | tail -n 1 | tr -d ' ')" \
		"DNS:svc.test,IPAddress:127.0.0.1"
	want_serial=$(openssl x509 -in svc.test.crt -noout -serial | cut -d= -f2 | tr A-F a-f)
	want_end=$(date -u -d "$(openssl x509 -in svc.test.crt -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
	want_fp=$(openssl x509 -in svc.test.der -inform DER -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
	for f in svc.test.der svc.test.crt; do
		run -0 --separate-stderr ca-inspect "$f"
		assert_equal "$stderr" ""
		assert_equal "${lines[0]}" "Certificate"
		assert_equal "$(field "$output" Subject)" "$want_subject"
		assert_equal "$(field "$output" Issuer)" "$want_issuer"
		assert_equal "$(field "$output" Serial)" "$want_serial"
		assert_regex "$(field "$output" 'Not after')" "^$want_end \((1h5[0-9]m[0-9]+s|2h0m0s) left\)$"
		assert_equal "$(field "$output" 'SAN DNS')" svc.test
		assert_equal "$(field "$output" 'SAN IP')" 127.0.0.1
		assert_equal "$(field "$output" Key)" "ECDSA 256 bits, P-256"
		assert_equal "$(field "$output" 'Key usage (critical)')" digitalSignature
		assert_equal "$(field "$output" 'Extended key usage')" "serverAuth, clientAuth"
		assert_equal "$(field "$output" 'Basic constraints')" CA:FALSE
		assert_equal "$(field "$output" 'SHA-256 fingerprint')" "$want_fp"
	done
}

@test "--json: python reads the values openssl reads" {
	leaf svc.test 2h
	run -0 --separate-stderr ca-inspect --json svc.test.crt
	assert_equal "$stderr" ""
	printf '%s\n' "$output" > view.json
	openssl x509 -in svc.test.crt -out leaf.pem
	"$PYTHON" - view.json leaf.pem <<-'PY'
	import json, subprocess, sys
	def ossl(*a):
	    return subprocess.run(["openssl", "x509", "-in", sys.argv[2], "-noout", *a],
	                          check=True, capture_output=True, text=True).stdout.strip()
	v = json.load(open(sys.argv[1]))
	assert isinstance(v, list) and len(v) == 2, v  # leaf and intermediate
	c = v[0]
	assert c["type"] == "certificate"
	assert c["subject_dn"] == ossl("-subject", "-nameopt", "RFC2253")[len("subject="):]
	assert c["issuer_dn"] == ossl("-issuer", "-nameopt", "RFC2253")[len("issuer="):]
	serial = ossl("-serial").split("=")[1]
	assert int(c["serial_number"]) == int(serial, 16)
	assert int(c["serial_number_hex"], 16) == int(serial, 16)
	san = c["extensions"]["subject_alt_name"]
	assert san == {"dns_names": ["svc.test"], "ip_addresses": ["127.0.0.1"]}, san
	assert c["extensions"]["basic_constraints"] == {"is_ca": False}
	assert c["extensions"]["extended_key_usage"] == {"server_auth": True, "client_auth": True}
	assert c["subject_key_info"]["key_algorithm"]["name"] == "ECDSA"
	assert c["subject_key_info"]["key_size"] == 256
	fp = ossl("-fingerprint", "-sha256").split("=")[1].replace(":", "").lower()
	assert c["fingerprint_sha256"] == fp
	import datetime
	end = datetime.datetime.strptime(ossl("-enddate").split("=")[1], "%b %d %H:%M:%S %Y GMT")
	assert c["validity"]["end"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
	assert v[1]["extensions"]["basic_constraints"]["is_ca"] is True
	PY
}

@test "a bundle: each certificate, in order" {
	leaf svc.test 2h
	cat svc.test.crt "$CA/certs/root_ca.crt" > bundle.pem
	run -0 --separate-stderr ca-inspect bundle.pem
	assert_equal "$(grep -c '^Certificate$' <<< "$output")" 3
	mapfile -t subjects < <(sed -n 's/^  Subject: //p' <<< "$output")
	assert_equal "${#subjects[@]}" 3
	assert_equal "${subjects[1]}" \
		"$(openssl x509 -in "$CA/certs/intermediate_ca.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
	assert_equal "${subjects[2]}" \
		"$(openssl x509 -in "$CA/certs/root_ca.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
}

@test "a CSR made by openssl: subject, names by type, key" {
	openssl req -new -newkey rsa:2048 -nodes -keyout r.key -subj "/CN=r.test" \
		-addext "subjectAltName=DNS:r.test,IP:10.0.0.1,email:a@r.test,URI:https://r.test/x" \
		-out r.csr 2>/dev/null
	run -0 --separate-stderr ca-inspect - < r.csr
	assert_equal "${lines[0]}" "Certificate request"
	assert_equal "$(field "$output" Subject)" CN=r.test
	assert_equal "$(field "$output" 'SAN DNS')" r.test
	assert_equal "$(field "$output" 'SAN IP')" 10.0.0.1
	assert_equal "$(field "$output" 'SAN Email')" a@r.test
	assert_equal "$(field "$output" 'SAN URI')" https://r.test/x
	assert_equal "$(field "$output" Key)" "RSA 2048 bits"
	assert_equal "$(field "$output" Signature)" valid
}

@test "a token made by ca-token: its claims, times as dates, signature not verified" {
	token t.test --san t.test
	run -0 --separate-stderr ca-inspect t.test.tok
	assert_equal "${lines[0]}" "Token (JWT; signature NOT verified)"
	assert_line "    sub: t.test"
	assert_line "    alg: ES256"
	local exp
	exp=$(cut -d. -f2 t.test.tok | "$PYTHON" -c 'import base64, json, sys; s = sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))["exp"])')
	assert_line "    exp: $exp ($(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ))"
	run -0 --separate-stderr ca-inspect --json t.test.tok
	printf '%s\n' "$output" > view.json
	"$PYTHON" - view.json t.test.tok <<-'PY'
	import base64, json, sys
	v = json.load(open(sys.argv[1]))
	h, p, s = open(sys.argv[2]).read().strip().split(".")
	dec = lambda x: json.loads(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
	assert v["type"] == "token" and v["verified"] is False
	assert v["header"] == dec(h), v["header"]
	assert v["payload"] == dec(p), v["payload"]
	assert v["signature"] == s
	PY
}

@test "a hostile subject: escaped, one line per field" {
	local cn
	cn=$(printf 'evil\nSubject: CN=forged\e[31m')
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout h.key -subj "/CN=$cn" -days 1 -out h.crt 2>/dev/null
	run -0 --separate-stderr ca-inspect h.crt
	assert_equal "$(grep -c '^  Subject: ' <<< "$output")" 1
	assert_equal "$(field "$output" Subject)" 'CN=evil\nSubject: CN=forged\x1b[31m'
	refute_output --partial $'\e'
	# Every line is a title or one field.
	run -1 grep -Ev '^(Certificate|  [A-Za-z0-9 ()-]+: .*)$' <<< "$output"
	run -0 --separate-stderr ca-inspect --json h.crt
	"$PYTHON" -c 'import json, sys; v = json.loads(sys.argv[1]); assert v["subject_dn"] == "CN=" + sys.argv[2], v' \
		"$output" "$cn"
}

@test "refused: a 2 MiB file, a private key, garbage; one line each" {
	head -c 2097152 /dev/zero > big
	run -1 --separate-stderr ca-inspect big
	assert_equal "$output" ""
	assert_equal "$stderr" "ca-inspect: big: larger than 1048576 bytes"
	openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null
	run -1 --separate-stderr ca-inspect k.pem
	assert_equal "$output" ""
	assert_equal "$stderr" "ca-inspect: k.pem: PEM block 1 is not a certificate or CSR"
	echo garbage > g
	run -1 --separate-stderr ca-inspect g
	assert_equal "$output" ""
	assert_equal "$stderr" "ca-inspect: g: not a certificate, CSR or token (PEM, DER or JWT)"
	run -2 --separate-stderr ca-inspect --json --needs-renewal g
	assert_equal "$output" ""
}

@test "--needs-renewal: ca-renew's rule, exit 0 due, 1 not, 2 error, nothing printed" {
	leaf fresh.test 2h
	# 23 h of 24 gone: due by the default rule (a third left).
	leaf old.test 1h --not-before -23h
	run -1 --separate-stderr ca-inspect --needs-renewal fresh.test.crt
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr ca-inspect --needs-renewal old.test.crt
	assert_equal "$output" ""
	assert_equal "$stderr" ""
	# ca-renew's --expires-in.
	run -0 --separate-stderr ca-inspect --needs-renewal --expires-in 3h fresh.test.crt
	assert_equal "$output" ""
	# ca-renew agrees: 3 (not due) for the fresh one.
	run -3 ca-renew -d "$CA" fresh.test.crt fresh.test.key
	csr c.test
	run -2 --separate-stderr ca-inspect --needs-renewal c.test.csr
	assert_equal "$output" ""
	assert_equal "$stderr" "ca-inspect: c.test.csr: a CSR, not a certificate"
}
