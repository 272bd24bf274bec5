#!/usr/bin/env bats
# acme-matrix.bats - the cells of the real-client matrix that
# tests/acme-clients.bats (in `make check`) leaves out, for time: the
# other challenge types and renewals of each client, and ca-serve
# socket-activated and inetd with every client. Run with
# `make check-acme-clients` (ca-serve) or `make check-acme-peers`
# (pebble); the matrix and the peers are described in acme-clients.bats.

load helpers
load acme-helpers

setup_file() { acme_clients_setup_file; }
teardown_file() { acme_clients_teardown_file; }
setup() { acme_clients_setup; }
teardown() { acme_clients_teardown; }

@test "certbot: dns-01 (manual hooks)" {
	acme_need certbot
	acme_cell certbot dns-01 certbot-dns.acme.test
}

@test "dehydrated: http-01 (WELLKNOWN served), renewal" {
	acme_need dehydrated
	acme_cell dehydrated http-01 dehydrated-http.acme.test renew
}

@test "uacme: http-01 (hook), renewal, revocation" {
	acme_need uacme unshare
	acme_cell uacme http-01 uacme-http.acme.test renew revoke
}

@test "uacme: dns-01 (hook)" {
	acme_need uacme unshare
	acme_cell uacme dns-01 uacme-dns.acme.test
}

@test "acme-client (npm): tls-alpn-01" {
	acme_need acme-client
	acme_cell node tls-alpn-01 node-alpn.acme.test
}

@test "acme-client (npm): dns-01" {
	acme_need acme-client
	acme_cell node dns-01 node-dns.acme.test
}

@test "socket-activated ca-serve: lego http-01 and dns-01, certbot revocation, uacme tls-alpn-01, acme-client" {
	acme_need lego certbot uacme ualpn unshare acme-client
	in_mode socket
	acme_cell lego http-01 sock-lego-http.acme.test renew
	acme_cell lego dns-01 sock-lego-dns.acme.test
	acme_cell certbot http-01 sock-certbot.acme.test revoke
	acme_cell uacme tls-alpn-01 sock-uacme.acme.test
	acme_cell node dns-01 sock-node.acme.test
	kill -0 "$ACME_SERVE_PID"
}

@test "inetd ca-serve: lego http-01 and dns-01, certbot revocation, dehydrated (no badNonce retry), uacme tls-alpn-01, acme-client" {
	acme_need lego certbot dehydrated uacme ualpn unshare acme-client
	in_mode inetd
	acme_cell lego http-01 inetd-lego-http.acme.test renew
	acme_cell lego dns-01 inetd-lego-dns.acme.test
	acme_cell certbot http-01 inetd-certbot.acme.test revoke
	acme_cell dehydrated http-01 inetd-dehydrated.acme.test
	acme_cell uacme tls-alpn-01 inetd-uacme.acme.test
	acme_cell node dns-01 inetd-node.acme.test
	kill -0 "$ACME_SERVE_PID"
}
