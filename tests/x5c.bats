#!/usr/bin/env bats
# x5c.bats - the X5C provisioner: a token signed by the key of a certificate
# whose chain (the token's x5c header) verifies to the provisioner's roots.
# The chain comes from an unrelated CA made here with openssl; issued
# certificates are judged by openssl verify -x509_strict; a token minted by
# python joserfc (tests/jwt.py) is accepted as ca-token's is.

load helpers

# The unrelated CA (openssl): root, intermediate, and leaves under the
# intermediate: dev (1 day), expired, noku (keyUsage without
# digitalSignature). Made once for the file.
setup_file() {
	local d=$BATS_FILE_TMPDIR/other
	make_template_ca
	mkdir -p "$d"
	cd "$d"
	ec() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null; }
	ec root "/O=Other/CN=Other Root"
	openssl x509 -req -in root.csr -key root.key -days 30 -out root.crt \
		-extfile <(printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n') 2>/dev/null
	ec int "/O=Other/CN=Other Intermediate"
	openssl x509 -req -in int.csr -CA root.crt -CAkey root.key -days 30 -out int.crt \
		-extfile <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n') 2>/dev/null
	ec dev "/O=Fleet/CN=device-1"
	printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > leaf.ext
	openssl x509 -req -in dev.csr -CA int.crt -CAkey int.key -days 1 -out dev.crt \
		-extfile leaf.ext 2>/dev/null
	openssl x509 -req -in dev.csr -CA int.crt -CAkey int.key -days -1 -out expired.crt \
		-extfile leaf.ext 2>/dev/null
	openssl x509 -req -in dev.csr -CA int.crt -CAkey int.key -days 1 -out noku.crt \
		-extfile <(printf 'keyUsage=critical,keyAgreement\n') 2>/dev/null
	[ -s noku.crt ] && [ -s expired.crt ]
}

# A CA with provisioner "x5c" whose roots are the other CA's root.
setup() {
	use_ca
	O=$BATS_FILE_TMPDIR/other
	ca-provisioner -d "$CA" add x5c --type X5C --x5c-roots "$O/root.crt"
}

# part TOKEN-FILE N: its header (0) or claims (1), JSON as the token holds
# them (no python: this suite's time is counted).
part() {
	local p
	p=$(cut -d. -f$(($2 + 1)) < "$1" | tr '_-' '/+')
	while (( ${#p} % 4 )); do p+='='; done
	base64 -d <<< "$p"
}

# x5c_token SUBJECT [ca-token options]: SUBJECT.tok signed by device-1.
x5c_token() {
	local sub=$1
	shift
	ca-token -d "$CA" --x5c-cert "$O/dev.crt" --x5c-key "$O/dev.key" \
		--x5c-chain "$O/int.crt" "$@" "$sub" > "$sub.tok"
}

# refused TOKEN-FILE MESSAGE: ca-sign -d refuses it with that one line,
# the store untouched.
refused() {
	local before
	before=$(store_state)
	run -1 --separate-stderr ca-sign -d "$CA" --token-file "$1" --key-out k.key
	assert_output ''
	assert_equal "$stderr" "ca-sign: $2"
	assert_equal "$(store_state)" "$before"
	assert_file_not_exists k.key
}

@test "ca-token --x5c-cert: step's token shape; ca-sign -d issues within the x5c leaf's validity; openssl verifies; one-time" {
	local jti
	x5c_token svc.test --san svc.test --san 10.0.0.7
	# step's shape: header alg, kid, typ, x5c [leaf, intermediate].
	run -0 part svc.test.tok 0
	assert_output --regexp '^\{"alg":"ES256","kid":"[^"]+","typ":"JWT","x5c":\["[^"]+","[^"]+"\]\}$'
	run -0 part svc.test.tok 1
	assert_output --regexp '^\{"aud":"https://ca.test:8443/1.0/sign#x5c/x5c","exp":[0-9]+,"iat":[0-9]+,"iss":"x5c","jti":"[0-9a-f]{64}","nbf":[0-9]+,"sans":\["svc.test","10.0.0.7"\],"sha":"'"$FP"'","sub":"svc.test"\}$'
	jti=${output#*\"jti\":\"}
	jti=${jti%%\"*}

	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key
	printf '%s\n' "$output" > svc.crt
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted svc.crt svc.crt
	run -0 openssl x509 -in svc.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = svc.test'
	assert_line '    DNS:svc.test, IP Address:10.0.0.7'
	# Within the x5c leaf's validity: not backdated before it (it is
	# seconds old), and not after it.
	assert_equal "$(openssl x509 -in svc.crt -noout -startdate)" \
		"$(openssl x509 -in "$O/dev.crt" -noout -startdate)"
	run -0 openssl x509 -in "$O/dev.crt" -noout -checkend 0
	run -0 openssl x509 -in svc.crt -noout -enddate
	(( $(date -d "${output#notAfter=}" +%s) <= \
	   $(date -d "$(openssl x509 -in "$O/dev.crt" -noout -enddate | cut -d= -f2)" +%s) ))
	# step's provisioner extension: type 7 (X5C), name "x5c", credential "".
	run -0 openssl asn1parse -in svc.crt
	assert_output --partial $':1.3.6.1.4.1.37476.9000.64.1\n'
	assert_output --partial ':300A02010704037835630400'
	run -0 ca-db -d "$CA" list
	assert_line --regexp $'\tvalid\tx5c\tCN=svc.test\t'
	# Replay: refused, nothing more recorded.
	refused svc.test.tok "token already used (jti $jti)"
	assert_equal "$(issued)" 1
}

@test "X5C: a joserfc token is accepted; refused: lifetime, iss, audience, another root (the CA's own too), an expired leaf, no digitalSignature, a revoked leaf issued here" {
	# One python run mints them all: good, then each with one flaw (77:
	# no joserfc, then need_peer says what to do).
	FP=$FP "$PYTHON" - "$O/dev.key" "$O/dev.crt" "$O/int.crt" <<'PY' || need_peer joserfc
import base64, json, os, secrets, ssl, sys, time
import warnings
warnings.simplefilter("ignore")
try:
    from joserfc import jws
    from joserfc.jwk import ECKey
except ImportError:
    sys.exit(77)
key = ECKey.import_key(open(sys.argv[1]).read())
x5c = [base64.b64encode(ssl.PEM_cert_to_DER_cert(open(f).read())).decode() for f in sys.argv[2:]]
now = int(time.time())
aud = "https://ca.test:8443/1.0/sign#x5c/x5c"
for name, change in [("ok", {}), ("long", {"exp": now + 3601}), ("jwk", {"iss": "admin"}),
                     ("frag", {"aud": aud[:-3] + "admin"}),
                     ("aud", {"aud": aud.replace("ca.test", "other.test")})]:
    d = {"aud": aud, "iss": "x5c", "sub": "svc.test", "sans": ["svc.test"],
         "jti": secrets.token_hex(16), "iat": now, "nbf": now, "exp": now + 300,
         "sha": os.environ["FP"]}
    d.update(change)
    hdr = {"alg": "ES256", "typ": "JWT", "x5c": x5c}
    open(name + ".tok", "w").write(jws.serialize_compact(hdr, json.dumps(d).encode(), key))
PY
	refused long.tok 'token lifetime 3601 s exceeds 3600 s'
	refused jwk.tok 'no X5C provisioner accepts this token (iss "admin")'
	refused frag.tok 'token audience "https://ca.test:8443/1.0/sign#x5c/admin" is not this CA'"'"'s /1.0/sign endpoint for X5C provisioner "x5c"'
	refused aud.tok 'token audience "https://other.test:8443/1.0/sign#x5c/x5c" is not this CA'"'"'s /1.0/sign endpoint for X5C provisioner "x5c"'
	assert_equal "$(issued)" 0
	run -0 ca-sign -d "$CA" --token-file ok.tok --key-out svc.key
	# Minted by ca-token:
	ca-token -d "$CA" --x5c-cert "$O/expired.crt" --x5c-key "$O/dev.key" \
		--x5c-chain "$O/int.crt" svc.test > expired.tok
	ca-token -d "$CA" --x5c-cert "$O/noku.crt" --x5c-key "$O/dev.key" \
		--x5c-chain "$O/int.crt" svc.test > noku.tok
	ca-token -d "$CA" --x5c-cert "$O/dev.crt" --x5c-key "$O/dev.key" svc.test > noint.tok
	# A leaf of this CA (leaf + intermediate in own.crt).
	leaf own.test
	ca-token -d "$CA" --x5c-cert own.test.crt --x5c-key own.test.key \
		--provisioner x5c svc.test > own.tok
	refused expired.tok 'the x5c certificate has expired'
	refused noku.tok 'the x5c certificate lacks keyUsage digitalSignature'
	refused noint.tok "x5c chain refused by provisioner \"x5c\": it does not chain to the provisioner's roots"
	refused own.tok "x5c chain refused by provisioner \"x5c\": it does not chain to the provisioner's roots"
	# With the CA's root in another X5C provisioner's roots, its own leaf
	# works until it is revoked.
	ca-provisioner -d "$CA" add mine --type X5C --x5c-roots "$CA/certs/root_ca.crt"
	ca-token -d "$CA" --x5c-cert own.test.crt --x5c-key own.test.key \
		--provisioner mine svc.test > mine1.tok
	ca-token -d "$CA" --x5c-cert own.test.crt --x5c-key own.test.key \
		--provisioner mine svc.test > mine2.tok
	ca-sign -d "$CA" --token-file mine1.tok --key-out mine1.key > mine1.crt
	run -0 ca-revoke -d "$CA" "0x$(serial_of own.test.crt)"
	refused mine2.tok "certificate $(serial_of own.test.crt) is revoked"
	# Nor does it revoke (mine1's certificate) once revoked: 401.
	start_server
	ca-token --ca-url "$URL" --root "$CA/certs/root_ca.crt" --x5c-cert own.test.crt \
		--x5c-key own.test.key --provisioner mine --revoke "0x$(serial_of mine1.crt)" > mine3.tok
	run -1 --separate-stderr ca-revoke --ca-url "$URL" --root "$CA/certs/root_ca.crt" \
		--token-file mine3.tok "0x$(serial_of mine1.crt)"
	[[ $stderr == *"certificate $(serial_of own.test.crt) is revoked"* ]] || fail "$stderr"
	stop_server
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^$(serial_of mine1.crt)"$'\t.*\tvalid\t'
	# (and ca-serve's own certificate)
	assert_equal "$(issued)" 4
}

teardown() {
	stop_ra
	stop_server
}

# The RA's X5C provisioner "fleet" (ra_serve's callback).
ra_fleet() {
	ca-provisioner -d "$RA" add fleet --type X5C --x5c-roots "$O/root.crt"
}

@test "X5C online: ca-sign and ca-revoke --ca-url with X5C tokens through ca-serve, and through an RA" {
	local serial
	start_server
	ca-token --ca-url "$URL" --root "$CA/certs/root_ca.crt" --x5c-cert "$O/dev.crt" \
		--x5c-key "$O/dev.key" --x5c-chain "$O/int.crt" svc.test > svc.tok
	run -0 part svc.tok 1
	assert_output --partial "\"aud\":\"$URL/1.0/sign#x5c/x5c\""
	run -0 --separate-stderr ca-sign --ca-url "$URL" --root "$CA/certs/root_ca.crt" \
		--token-file svc.tok --key-out svc.key
	printf '%s\n' "$output" > svc.crt
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" -untrusted svc.crt svc.crt
	serial=0x$(serial_of svc.crt)
	ca-token --ca-url "$URL" --root "$CA/certs/root_ca.crt" --x5c-cert "$O/dev.crt" \
		--x5c-key "$O/dev.key" --x5c-chain "$O/int.crt" --revoke "$serial" > rev.tok
	run -0 ca-revoke --ca-url "$URL" --root "$CA/certs/root_ca.crt" --token-file rev.tok "$serial"
	# A registration authority verifies the X5C token and relays.
	ra_serve ra_fleet
	ca-token --ca-url "$RA_URL" --root "$CA/certs/root_ca.crt" --x5c-cert "$O/dev.crt" \
		--x5c-key "$O/dev.key" --x5c-chain "$O/int.crt" ra.test > ra.tok
	run -0 --separate-stderr ca-sign --ca-url "$RA_URL" --root "$CA/certs/root_ca.crt" \
		--token-file ra.tok --key-out ra.key
	printf '%s\n' "$output" > ra.crt
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" -untrusted ra.crt ra.crt
	stop_ra
	stop_server
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^$(serial_of svc.crt)"$'\t.*\trevoked\tx5c\t'
	run -0 ca-db -d "$RA" list
	assert_line --regexp "^$(serial_of ra.crt)"$'\t.*\tvalid\tfleet\tCN=ra.test\t'
}
