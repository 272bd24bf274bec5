#!/usr/bin/env bats
# CA keys on a PKCS#11 token (SoftHSM2): ca-init --kms makes them there,
# every tool and serving mode signs with them, and the keys never leave
# the token. Each test has its own token, in its own directory.

load helpers

MODULE=/usr/lib/softhsm/libsofthsm2.so

setup() {
	[ -r "$MODULE" ] || fail "SoftHSM2 (package softhsm2) is needed"
	cd "$BATS_TEST_TMPDIR"
	mkdir tokens
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$BATS_TEST_TMPDIR" > softhsm2.conf
	export SOFTHSM2_CONF=$BATS_TEST_TMPDIR/softhsm2.conf
	umask 077
	printf '1234\n' > pin
	printf 'test-password\n' > pw
	# softhsm2-util reads PINs only from argv or a terminal
	softhsm2-util --init-token --free --label ca --pin "$(cat pin)" \
		--so-pin 87654321 >/dev/null
	KMS="pkcs11:module-path=$MODULE;token=ca"
	CA=$BATS_TEST_TMPDIR/ca
	PW=$BATS_TEST_TMPDIR/pw
	ROOT=$CA/certs/root_ca.crt
	INTER=$CA/certs/intermediate_ca.crt
}

teardown() {
	stop_server
	if [ -n "${ACT_PID:-}" ]; then
		kill "$ACT_PID" 2>/dev/null || true
		wait "$ACT_PID" 2>/dev/null || true
	fi
}

# The CA, its keys on the token; PK the provisioner's plain key.
init_ca() {
	PK=$BATS_TEST_TMPDIR/prov.json
	ca-init -d "$CA" --name Token --dns ca.test,localhost --address 127.0.0.1:8443 \
		--provisioner admin --password-file pw --provisioner-key-out prov.json \
		--kms "$KMS" --kms-pin-file pin "$@" > fp
}

p11() {
	pkcs11-tool --module "$MODULE" --token-label ca "$@" 2>&1
}

# verify CERT: openssl's strict path validation to the root.
verify() {
	run -0 openssl verify -x509_strict -CAfile "$ROOT" -untrusted "$INTER" "$1"
	assert_output "$1: OK"
}

@test "ca-init --kms: keys made on the token, sensitive and never extractable; ca.json names them" {
	run -0 --separate-stderr init_ca
	assert_equal "$stderr" ""
	run -0 openssl verify -x509_strict -CAfile "$ROOT" "$INTER"
	assert_output "$INTER: OK"
	# no key file anywhere in the state directory
	run -0 find "$CA/secrets" -type f
	assert_output ""
	run -0 pj 'd["kms"]["type"] + " " + d["kms"]["uri"]' < "$CA/config/ca.json"
	assert_output "pkcs11 $KMS?pin-source=$BATS_TEST_TMPDIR/pin"
	run -0 pj 'd["key"] + " " + d["caTools"]["rootKey"]' < "$CA/config/ca.json"
	[[ $output =~ ^pkcs11:id=(%[0-9a-f]{2}){16}\;object=intermediate_ca_key\ pkcs11:id=(%[0-9a-f]{2}){16}\;object=root_ca_key$ ]] ||
		fail "key URIs: $output"
	# pkcs11-tool, an independent reader of the token
	run -0 p11 --login --pin "$(cat pin)" --list-objects --type privkey
	assert_equal "$(grep -c 'Private Key Object; EC' <<< "$output")" 2
	assert_equal "$(grep -c 'Access: *sensitive, always sensitive, never extractable, local' <<< "$output")" 2
	assert_line --partial 'label:      root_ca_key'
	assert_line --partial 'label:      intermediate_ca_key'
	# without the PIN the private keys are not even visible
	run -0 p11 --list-objects --type privkey
	refute_output --partial 'Private Key Object'
	# the public keys on the token are the certificates' keys
	for which in root intermediate; do
		p11 --read-object --type pubkey --label ${which}_ca_key -o $which.pub.der >/dev/null
		openssl pkey -pubin -inform DER -in $which.pub.der -outform PEM > $which.pub.pem
		openssl x509 -in "$CA/certs/${which}_ca.crt" -noout -pubkey > $which.crt.pub.pem
		cmp $which.pub.pem $which.crt.pub.pem
	done
}

@test "offline: ca-sign, ca-revoke and the CRL signed by the token key, checked by openssl" {
	init_ca
	ca-token -d "$CA" --key "$PK" svc.test > svc.tok
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.tok --key-out svc.key -o svc.crt
	assert_equal "$stderr" ""
	verify svc.crt
	serial=$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
	run -0 ca-revoke -d "$CA" --reason keyCompromise "0x$serial"
	run -0 ca-revoke -d "$CA" --crl -o ca.crl
	run -0 openssl crl -inform DER -in ca.crl -CAfile "$INTER" -noout -text
	assert_line 'verify OK'
	assert_line --partial "Serial Number: $serial"
	run -2 openssl verify -x509_strict -crl_check -CRLfile <(openssl crl -inform DER -in ca.crl) \
		-CAfile "$ROOT" -untrusted "$INTER" svc.crt
	assert_output --partial 'certificate revoked'
}

@test "ca-serve --listen: sign, OCSP and the CRL over HTTPS, all signed on the token" {
	init_ca
	start_server
	# the server's own TLS certificate came from the token key too
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -CAfile "$ROOT" \
		</dev/null 2>/dev/null | openssl x509 > server.crt
	verify server.crt
	ca-token -d "$CA" --key "$PK" svc.test > svc.tok
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.tok --key-out svc.key -o svc.crt
	verify svc.crt
	serial=$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
	run -0 openssl ocsp -issuer "$INTER" -serial "0x$serial" -url "$URL/ocsp" \
		-CAfile "$ROOT" -VAfile "$INTER"
	assert_line 'Response verify OK'
	assert_line "0x$serial: good"
	run -0 ca-revoke --ca-url "$URL" --root "$ROOT" --cert svc.crt --key svc.key
	run -0 openssl ocsp -issuer "$INTER" -serial "0x$serial" -url "$URL/ocsp" \
		-CAfile "$ROOT" -VAfile "$INTER"
	assert_line 'Response verify OK'
	assert_line "0x$serial: revoked"
	curl -sS --cacert "$ROOT" "$URL/crl" -o ca.crl
	run -0 openssl crl -inform DER -in ca.crl -CAfile "$INTER" -noout -text
	assert_line 'verify OK'
	assert_line --partial "Serial Number: $serial"
	stop_server
}

# pkcs_activate OPTIONS -- COMMAND: activate (helpers.bash) on a socket
# of this test's; it passes on only the environment it is told to.
pkcs_activate() {
	SOCK=$BATS_TEST_TMPDIR/ca.sock
	activate -E SOFTHSM2_CONF "$@"
}

sign_over() {
	ca-token -d "$CA" --key "$PK" "$1" > "$1.tok"
	csr "$1"
	sign_body "$1.tok" "$1.csr" > body.json
	curl -sS --unix-socket "$SOCK" --cacert "$ROOT" -H 'Content-Type: application/json' \
		--data @body.json -w '\n%{http_code}' https://localhost/1.0/sign
}

@test "socket activation (Accept=no) and inetd (a process per connection) sign on the token" {
	command -v systemd-socket-activate >/dev/null ||
		fail "systemd-socket-activate (package systemd) is needed"
	init_ca
	pkcs_activate -- "$(command -v ca-serve)" -d "$CA" --log-file serve.log
	run -0 sign_over a.test
	assert_line 201
	pj 'd["crt"]' <<< "$(sed '$d' <<< "$output")" > a.crt
	verify a.crt
	kill "$ACT_PID"
	wait "$ACT_PID" || true
	ACT_PID=
	# inetd: each connection a new process, which opens the token itself
	pkcs_activate -a --inetd -- "$(command -v ca-serve)" --inetd -d "$CA" --log-file inetd.log
	for name in b.test c.test; do
		run -0 sign_over $name
		assert_line 201
		pj 'd["crt"]' <<< "$(sed '$d' <<< "$output")" > $name.crt
		verify $name.crt
	done
	assert_equal "$(ca-db -d "$CA" list | tail -n +2 | grep -c -E 'CN=[abc]\.test	')" 3
}

@test "a wrong PIN: one line, exit 1, nothing issued and the token not spent" {
	init_ca
	ca-token -d "$CA" --key "$PK" svc.test > svc.tok
	printf '9999\n' > pin
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.tok --key-out svc.key -o svc.crt
	assert_output ""
	assert_equal "$stderr" "ca-sign: pkcs11:token=ca: the token refused the PIN in $BATS_TEST_TMPDIR/pin"
	assert_file_not_exists svc.crt
	run -1 --separate-stderr ca-serve -d "$CA" --listen 127.0.0.1:0
	assert_equal "$stderr" "ca-serve: pkcs11:token=ca: the token refused the PIN in $BATS_TEST_TMPDIR/pin"
	# the right PIN again: the same token still buys its certificate
	printf '1234\n' > pin
	run -0 ca-sign -d "$CA" --token-file svc.tok --key-out svc.key -o svc.crt
	verify svc.crt
}

@test "a missing token, a missing object, a key that is not the certificate's: each refused by name" {
	init_ca
	ca-token -d "$CA" --key "$PK" svc.test > svc.tok
	cp "$CA/config/ca.json" ca.json.orig
	edit_config 'c["kms"]["uri"] = c["kms"]["uri"].replace("token=ca", "token=gone")'
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.tok --key-out svc.key
	assert_equal "$stderr" "ca-sign: kms.uri: no token matches pkcs11:token=gone in the module $MODULE"
	cp ca.json.orig "$CA/config/ca.json"
	edit_config 'c["key"] = "pkcs11:object=nothing-here"'
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.tok --key-out svc.key
	assert_equal "$stderr" "ca-sign: pkcs11:object=nothing-here: no such private key on the token pkcs11:token=ca"
	cp ca.json.orig "$CA/config/ca.json"
	edit_config 'c["key"] = c["caTools"]["rootKey"]'
	root_key=$(pj 'd["key"]' < "$CA/config/ca.json")
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.tok --key-out svc.key
	assert_equal "$stderr" "ca-sign: $root_key does not match the certificate $INTER"
	cp ca.json.orig "$CA/config/ca.json"
	edit_config 'c["kms"]["uri"] = c["kms"]["uri"].replace("libsofthsm2.so", "libnone.so")'
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.tok --key-out svc.key
	assert_equal "$stderr" "ca-sign: kms.uri: module-path ${MODULE%/*}/libnone.so: No such file or directory"
	# none of it spent the token
	cp ca.json.orig "$CA/config/ca.json"
	run -0 ca-sign -d "$CA" --token-file svc.tok --key-out svc.key -o svc.crt
	verify svc.crt
}

@test "kms in ca.json: other KMSs, pin-value and malformed URIs refused with one line naming them" {
	init_ca
	local cases=(
		'c["kms"] = {"type": "awskms", "uri": "awskms:region=us-east-1"}|kms.type: "awskms": not supported by ca-tools (pkcs11)'
		'c["kms"]["credentialsFile"] = "/x.json"|kms: member "credentialsFile": not supported by ca-tools (type and uri)'
		'del c["kms"]["uri"]|kms: type pkcs11 needs a "uri" (pkcs11:module-path=MODULE;token=LABEL?pin-source=FILE)'
		'c["kms"]["uri"] = "pkcs11:module-path=/m.so;token=ca?pin-value=1234"|kms.uri: pin-value writes the PIN into ca.json: put it in a file (mode 0600) and name it with pin-source=FILE'
		'c["kms"]["uri"] = "pkcs11:token=ca"|kms.uri: no module-path=MODULE (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so)'
		'c["kms"]["uri"] = "pkcs11:module-path=/m.so;tokn=ca"|kms.uri: unknown path attribute "tokn"'
		'c["kms"]["uri"] = "pkcs11:module-path=/m.so;token=c a"|kms.uri: "token": a character RFC 7512 does not allow, or a bad %-escape'
		'c["kms"]["uri"] = "pkcs11:module-path=/m.so;token=%zz"|kms.uri: "token": a character RFC 7512 does not allow, or a bad %-escape'
		'c["kms"]["uri"] = "pkcs11:module-path=/m.so;token=a;token=b"|kms.uri: "token" given twice'
		'c["kms"]["uri"] = "pkcs11:module-path=/m.so?pin-source=pin"|kms.uri: pin-source must be an absolute file name'
		'c["kms"]["uri"] = "file:/m.so"|kms.uri: not a pkcs11: URI'
		'c["key"] = "pkcs11:module-path=/m.so;object=k"|key: module-path: the module and the PIN belong in kms.uri'
		'c["key"] = "pkcs11:token=ca"|key: names no key (id= or object=)'
		'del c["kms"]|"key": a pkcs11: key needs a "kms" block naming the module'
	)
	local case edit msg
	cp "$CA/config/ca.json" ca.json.orig
	for case in "${cases[@]}"; do
		edit=${case%%|*} msg=${case#*|}
		edit_config "$edit"
		run -1 --separate-stderr ca-db -d "$CA" list
		assert_output ""
		assert_equal "$stderr" "ca-db: $CA/config/ca.json: $msg"
		cp ca.json.orig "$CA/config/ca.json"
	done
}

@test "ca-init --kms: usage errors, and a failure leaves nothing on the token" {
	run -2 --separate-stderr init_ca --unencrypted-intermediate-key
	assert_equal "$stderr" "ca-init: --kms makes the CA keys on a token: no --ra or --unencrypted-intermediate-key (see ca-init --help)"
	run -2 --separate-stderr init_ca --key-type ed25519
	assert_equal "$stderr" "ca-init: --kms: --key-type ec-p256, ec-p384 or rsa-3072 (see ca-init --help)"
	run -2 --separate-stderr ca-init -d "$CA" --name T --dns ca.test --provisioner a \
		--password-file pw --kms "$KMS"
	assert_equal "$stderr" "ca-init: --kms needs --kms-pin-file FILE (or pin-source=FILE in the URI) (see ca-init --help)"
	run -2 --separate-stderr ca-init -d "$CA" --name T --dns ca.test --provisioner a \
		--password-file pw --kms "$KMS?pin-source=$BATS_TEST_TMPDIR/pin" --kms-pin-file pin
	assert_equal "$stderr" "ca-init: the PIN file twice: --kms-pin-file and pin-source in --kms (see ca-init --help)"
	run -2 --separate-stderr ca-init -d "$CA" --name T --dns ca.test --provisioner a \
		--password-file pw --kms-pin-file pin
	assert_equal "$stderr" "ca-init: --kms-pin-file needs --kms (see ca-init --help)"
	run -2 --separate-stderr ca-init -d "$CA" --name T --dns ca.test --provisioner a \
		--password-file pw --kms "pkcs11:token=ca" --kms-pin-file pin
	assert_equal "$stderr" "ca-init: --kms: no module-path=MODULE (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so) (see ca-init --help)"
	# a wrong PIN: nothing made, here or on the token
	printf '0000\n' > bad.pin
	run -1 --separate-stderr ca-init -d "$CA" --name T --dns ca.test --provisioner a \
		--password-file pw --kms "$KMS" --kms-pin-file bad.pin
	assert_equal "$stderr" "ca-init: pkcs11:token=ca: the token refused the PIN in $BATS_TEST_TMPDIR/bad.pin"
	assert_not_exists "$CA"
	# a failure after the keys were made on the token (the provisioner key
	# cannot be written): they are deleted again
	touch prov-exists.json
	run -1 --separate-stderr ca-init -d "$CA" --name T --dns ca.test --provisioner a \
		--password-file pw --kms "$KMS" --kms-pin-file pin --provisioner-key-out prov-exists.json
	[[ $stderr == "ca-init: "*prov-exists.json* ]] || fail "$stderr"
	assert_not_exists "$CA"
	run -0 p11 --login --pin "$(cat pin)" --list-objects
	refute_output --partial 'Key Object'
	assert_equal "$(ls "$BATS_TEST_TMPDIR" | grep -c 'ca.init-')" 0
}

@test "static-deps build: no tool links p11-kit, which is loaded only when a token key is used" {
	local t bin
	for t in ca-init ca-token ca-sign ca-renew ca-revoke ca-db ca-bootstrap ca-serve ca-provisioner; do
		bin=$(command -v "$t")
		run -0 readelf -d "$bin"
		# The plain build links GnuTLS, and through it p11-kit; the
		# static-deps one (quickstart's and CI's) links neither: lib/p11-lazy.c
		# loads p11-kit when a token is used.
		if [[ $output != *'libgnutls.so.30'* ]]; then
			refute_output --partial 'libp11-kit'
			assert_output --partial 'libunistring.so.2'
		fi
	done
}
