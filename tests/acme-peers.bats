#!/usr/bin/env bats
# acme-peers.bats - the ACME test harness (tests/acme-helpers.bash) proven
# against the reference server, pebble: each real client completes each
# challenge type it supports, every chain verified by openssl verify
# -x509_strict; renewal (a second order for the same name) and revocation
# where the client has them. tests/acme-clients.bats runs the same matrix
# against ca-serve.
#
# The matrix (x: a test here; -: the client cannot):
#                  http-01  tls-alpn-01  dns-01   renewal  revocation
#   lego             x         x           x         x         x
#   certbot          x         -           x         x         x
#   dehydrated       x         (1)         x         x         x
#   uacme + ualpn    x         x           x         x         x
#   acme-client      x         x           x         x         x
# (1) dehydrated does tls-alpn-01 only through a hook that serves the
#     certificates it writes; not driven here.
# Pebble has no OCSP responder: revocation is read from its management
# API (/cert-status-by-serial); against ca-serve it is read from OCSP.

load helpers
load acme-helpers

setup_file() {
	acme_need pebble pebble-challtestsrv
	acme_challtestsrv_start
	acme_pebble_start
}

teardown_file() {
	local alive=0
	kill -0 "$PEBBLE_PID" 2>/dev/null && alive=1
	acme_stop_file
	[ "$alive" = 1 ] || fail "pebble died during the tests: $(tail -n 5 "$BATS_FILE_TMPDIR/pebble.log")"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	acme_stop_test
}

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

@test "certbot: dns-01 (manual hooks)" {
	acme_need certbot
	acme_cell certbot dns-01 certbot-dns.acme.test
}

@test "dehydrated: http-01 (WELLKNOWN served), renewal, revocation" {
	acme_need dehydrated
	acme_cell dehydrated http-01 dehydrated-http.acme.test renew revoke
}

@test "dehydrated: dns-01 (hook)" {
	acme_need dehydrated
	acme_cell dehydrated dns-01 dehydrated-dns.acme.test
}

@test "uacme: http-01 (hook), renewal, revocation" {
	acme_need uacme unshare
	acme_cell uacme http-01 uacme-http.acme.test renew revoke
}

@test "uacme: tls-alpn-01 (ualpn)" {
	acme_need uacme ualpn unshare
	acme_cell uacme tls-alpn-01 uacme-alpn.acme.test
}

@test "uacme: dns-01 (hook)" {
	acme_need uacme unshare
	acme_cell uacme dns-01 uacme-dns.acme.test
}

@test "acme-client (npm): http-01, renewal, revocation" {
	acme_need acme-client
	acme_cell node http-01 node-http.acme.test renew revoke
}

@test "acme-client (npm): tls-alpn-01" {
	acme_need acme-client
	acme_cell node tls-alpn-01 node-alpn.acme.test
}

@test "acme-client (npm): dns-01" {
	acme_need acme-client
	acme_cell node dns-01 node-dns.acme.test
}
