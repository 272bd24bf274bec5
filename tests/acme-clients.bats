#!/usr/bin/env bats
# acme-clients.bats - the real ACME clients (issue 11) through
# tests/acme-helpers.bash, against the server ACME_TARGET names:
#   ca-serve (default)  ca-serve standalone for the matrix, then a row of
#                       it socket-activated (systemd-socket-activate -l: one
#                       ca-serve for the socket) and inetd
#                       (systemd-socket-activate -a --inetd: a ca-serve
#                       --inetd per connection, so every nonce, order and
#                       validation crosses processes); revocation read from
#                       its OCSP responder
#   pebble              the reference server, which proves the harness
#                       (make check-acme-peers); revocation read from its
#                       management API (it has no OCSP responder); the
#                       socket and inetd rows are ca-serve's and skip
# Names resolve through pebble-challtestsrv (pebble's -dnsserver,
# ca-serve's caTools.acme.dnsResolver); every chain is checked with openssl
# verify -x509_strict.
#
# This file is the part of the matrix that `make check` (and so CI) runs,
# about a minute: each client once and each challenge type once, and
# ca-serve socket-activated and inetd. tests/acme-matrix.bats has the
# other cells; `make check-acme-clients` runs both, `make
# check-acme-peers` both against pebble.
#
# The matrix (x: a test here; -: the client cannot; all pass on pebble):
#                  http-01  tls-alpn-01  dns-01   renewal  revocation
#   lego             x         x           x         x         x
#   certbot          x         -           x         x         x
#   dehydrated       x         (1)         x         x        (2)
#   uacme + ualpn    x         x           x         x         x
#   acme-client      x         x           x         x         x
# (1) dehydrated does tls-alpn-01 only through a hook that serves the
#     certificates it writes; not driven here.
# (2) dehydrated --revoke works (acme_revoke dehydrated); left out for
#     time: dehydrated is a shell script, about 5 s per step here.
# And lego against requireEAB (the file's ca-serve has a provisioner "eab"
# next to "acme", tests/acme-ca-json.py), with a key of ca-db eab add.

load helpers
load acme-helpers

setup_file() { acme_clients_setup_file; }
teardown_file() { acme_clients_teardown_file; }
setup() { acme_clients_setup; }
teardown() { acme_clients_teardown; }

@test "lego: http-01 (built-in server), renewal, revocation" {
	acme_need lego
	acme_cell lego http-01 lego-http.acme.test renew revoke
}

@test "lego: tls-alpn-01 (built-in server)" {
	acme_need lego
	acme_cell lego tls-alpn-01 lego-alpn.acme.test
}

@test "lego: dns-01 (--dns exec, TXT through challtestsrv)" {
	acme_need lego
	acme_cell lego dns-01 lego-dns.acme.test
}

@test "certbot: http-01 (standalone), renewal, revocation" {
	acme_need certbot
	acme_cell certbot http-01 certbot-http.acme.test renew revoke
}

@test "dehydrated: dns-01 (hook)" {
	acme_need dehydrated
	acme_cell dehydrated dns-01 dehydrated-dns.acme.test
}

@test "uacme: tls-alpn-01 (ualpn)" {
	acme_need uacme ualpn unshare
	acme_cell uacme tls-alpn-01 uacme-alpn.acme.test
}

@test "acme-client (npm): http-01, renewal, revocation" {
	acme_need acme-client
	acme_cell node http-01 node-http.acme.test renew revoke
}

@test "socket-activated ca-serve: lego dns-01" {
	acme_need lego
	in_mode socket
	acme_cell lego dns-01 sock-lego-dns.acme.test
	kill -0 "$ACME_SERVE_PID"
}

@test "inetd ca-serve: lego http-01 and renewal, dehydrated (no badNonce retry)" {
	acme_need lego dehydrated
	in_mode inetd
	acme_cell lego http-01 inetd-lego-http.acme.test renew
	acme_cell dehydrated http-01 inetd-dehydrated.acme.test
	kill -0 "$ACME_SERVE_PID"
}

@test "requireEAB: lego without a binding stops; --eab with a key of ca-db eab add gets a certificate; the key binds one account" {
	acme_need lego
	[ "$ACME_TARGET" = ca-serve ] || skip "ca-db eab is ca-serve's (ACME_TARGET=$ACME_TARGET)"
	local ACME_DIRECTORY=${ACME_DIRECTORY%/acme/directory}/eab/directory
	run -0 --separate-stderr ca-db -d "$ACME_CA" eab add eab lego
	assert_equal "$stderr" ""
	read -r kid hmac <<< "$output"
	[[ $kid =~ ^[A-Za-z0-9_-]{22}$ && $hmac =~ ^[A-Za-z0-9_-]{43}$ ]] ||
		fail "ca-db eab add printed: $output"
	# lego reads the directory's meta.externalAccountRequired and sends
	# no unbound newAccount (the server's answer to one, problem type
	# externalAccountRequired: tests/acme-a.bats, unit/test-acme-a.c)
	run -0 curl -sS -f --cacert "$ACME_TRUST" "$ACME_DIRECTORY"
	run -0 "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["meta"])' "$output"
	assert_output "{'externalAccountRequired': True}"
	run -1 acme_lego http-01 eab.acme.test run
	assert_line --partial "Server requires External Account Binding. Use --eab with --kid and --hmac."
	run -0 acme_lego http-01 eab.acme.test --eab --kid "$kid" --hmac "$hmac" run
	acme_check_chain "$(acme_chain_lego eab.acme.test)" eab.acme.test
	run -0 ca-db -d "$ACME_CA" eab list
	assert_line --regexp "^$kid	eab	valid	[A-Za-z0-9_-]{22}	[0-9T:Z-]+	lego\$"
	# the key again, for another account (lego: another address, another key)
	ACME_LEGO_EMAIL=second@example.org run -1 acme_lego http-01 eab.acme.test \
		--eab --kid "$kid" --hmac "$hmac" run
	assert_line --partial "urn:ietf:params:acme:error:unauthorized :: external account binding: not accepted"
	refute_line --partial "Server responded with a certificate"
}
