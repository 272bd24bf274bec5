#!/usr/bin/env bats
# The ACME server's frame and accounts (part A of issue 11) against real
# peers nobody here wrote: npm's acme-client (an account's life) and
# python's joserfc (hostile requests), in each serving mode: standalone,
# privilege separated, inetd (systemd-socket-activate -a --inetd: a
# process per connection, so that nonces cross processes).

load helpers

# The npm peer, as ./quickstart installs it.
: "${ACME_CLIENT_NODE_PATH:=$CA_TOP_SRCDIR/tests/npm/node_modules}"

need_acme_client() {
	if command -v node >/dev/null &&
		[ -d "$ACME_CLIENT_NODE_PATH/acme-client" ]; then
		return 0
	fi
	[ "${CA_REQUIRE_PEERS:-0}" = 1 ] &&
		fail "needs node and npm's acme-client in $ACME_CLIENT_NODE_PATH (./quickstart installs it)"
	skip "needs node and npm's acme-client (./quickstart installs it)"
}

setup() {
	use_ca
	edit_config 'c["authority"]["provisioners"].append({"type": "ACME", "name": "acme"})'
}

teardown() {
	stop_server
	if [ -n "${RELAY_PID:-}" ]; then
		kill "$RELAY_PID" 2>/dev/null || true
		wait "$RELAY_PID" 2>/dev/null || true
	fi
	if [ -n "${ACT_PID:-}" ]; then
		kill "$ACT_PID" 2>/dev/null || true
		wait "$ACT_PID" 2>/dev/null || true
	fi
}

# acme_client DIRECTORY-URL: the account's life with acme-client.
acme_client() {
	NODE_PATH=$ACME_CLIENT_NODE_PATH NODE_EXTRA_CA_CERTS=$CA/certs/root_ca.crt \
		node "$CA_TOP_SRCDIR/tests/acme-a-client.js" "$@"
}

# What acme-a-client.js prints when every step did what RFC 8555 says.
ACCOUNT_LIFE='created valid mailto:a@example.test
found again: true
updated mailto:b@example.test
key changed: the new key finds it: true
the old key: no account has this key
deactivated: deactivated
after deactivation: account ID is deactivated'

# What acme-a-hostile.py prints: each refusal with its status and type,
# a nonce and no-store on every answer, and the server still serving.
HOSTILE='new-account 201 - nonce no-store
replayed-nonce 400 badNonce nonce no-store
bad-signature 400 malformed nonce no-store
wrong-url 403 unauthorized nonce no-store
unknown-nonce 400 badNonce nonce no-store
jwk-and-kid 400 malformed nonce no-store
kid-of-another-ca 400 accountDoesNotExist nonce no-store
kid-unknown-account 400 accountDoesNotExist nonce no-store
alg-hs256 400 badSignatureAlgorithm nonce no-store
body-over-limit 413 malformed nonce no-store
content-type-json 415 malformed nonce no-store
not-json 400 malformed nonce no-store
other-account 201 - nonce no-store
reads-another-account 403 unauthorized nonce no-store
directory 200 - nonce no-store
post-as-get-own-account 200 - nonce no-store'

@test "acme-client: account created, found, contact updated, key changed, deactivated" {
	need_acme_client
	start_server
	run -0 acme_client "$URL/acme/acme/directory"
	assert_output "$ACCOUNT_LIFE"
	# every request logged, the refusals with their problem type
	run -0 grep -c 'POST /acme/acme/' "$SERVER_LOG"
	[ "$output" -ge 8 ] || fail "only $output ACME POSTs logged"
	run -0 grep 'error="unauthorized: account .* is deactivated"' "$SERVER_LOG"
	stop_server
}

@test "acme-client under privilege separation: the signer answers ACME" {
	need_acme_client
	start_server --privsep -v
	[ -n "$(signer_of "$SERVER_PID")" ] || fail "no signer process"
	run -0 acme_client "$URL/2.0/acme/acme/directory"
	assert_output "$ACCOUNT_LIFE"
	# each request went to the signer
	run -0 grep -c 'signer: acme request sent' "$SERVER_LOG"
	[ "$output" -ge 15 ] || fail "only $output ACME requests relayed"
	stop_server
}

@test "hostile requests (joserfc): each its status and problem type; the server keeps serving" {
	need_peer joserfc
	start_server
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/acme-a-hostile.py" "$CA/certs/root_ca.crt" --port "$PORT"
	assert_output "$HOSTILE"
	run -0 api /health
	assert_line -n 1 200
	stop_server
}

# over_limit_check HOW: a POST to new-account over --max-body 1024, with
# Content-Length (HOW=length) or chunked: 413 in ACME's terms (RFC 8555
# 6.5, 6.7), a problem with a nonce and no-store as every other error.
over_limit_check() {
	local te='Expect: 100-continue'
	[ "$1" = chunked ] && te='Transfer-Encoding: chunked'
	rm -f h b
	run -0 curl -sS --cacert "$CA/certs/root_ca.crt" -D h -o b \
		-H 'Content-Type: application/jose+json' -H "$te" \
		--data-binary @big "$URL/acme/acme/new-account"
	assert_output ""
	run -0 tr -d '\r' < h
	assert_line -n 0 --regexp '^HTTP/1.1 413 '
	assert_line --regexp '^[Cc]ontent-[Tt]ype: application/problem\+json$'
	assert_line --regexp '^[Cc]ache-[Cc]ontrol: no-store$'
	assert_line --regexp '^[Rr]eplay-[Nn]once: [A-Za-z0-9_-]{16,}$'
	run -0 cat b
	assert_output --regexp '^\{"type":"urn:ietf:params:acme:error:malformed",.*"status":413\}$'
}

@test "a body over --max-body: 413 malformed with a nonce and no-store, sized or chunked, standalone and privsep" {
	head -c 2000 /dev/zero | tr '\0' a > big
	for mode in "" --privsep; do
		# shellcheck disable=SC2086
		start_server --max-body 1024 $mode
		over_limit_check length
		over_limit_check chunked
		# the server goes on
		run -0 api /acme/acme/directory
		assert_line -n 1 200
		stop_server
	done
}

# activate_inetd: ca-serve --inetd behind systemd-socket-activate on $SOCK.
activate_inetd() {
	SOCK=$BATS_TEST_TMPDIR/ca.sock
	SERVER_LOG=$BATS_TEST_TMPDIR/serve.log
	activate -a --inetd -- "$(command -v ca-serve)" -d "$CA" --inetd \
		--log-file "$SERVER_LOG"
}

@test "inetd: a process per connection, nonces good across them; hostile requests and acme-client" {
	need_peer joserfc
	activate_inetd
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/acme-a-hostile.py" "$CA/certs/root_ca.crt" --unix "$SOCK"
	assert_output "$HOSTILE"
	# a process per request (each nonce came from another process than
	# the one that took it); the last ones may still be logging
	n=$(grep -o 'ca-serve\[[0-9]*\]: unix ' "$SERVER_LOG" | sort -u | wc -l)
	[ "$n" -ge 20 ] || fail "only $n processes served the requests"
	need_acme_client
	relay
	run -0 acme_client "https://localhost:$RELAY_PORT/acme/acme/directory"
	assert_output "$ACCOUNT_LIFE"
}

# relay: a TCP port of 127.0.0.1 (RELAY_PORT) whose connections go to
# $SOCK byte for byte, for clients that speak TCP only (acme-client).
relay() {
	local fifo=$BATS_TEST_TMPDIR/relay.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	"$PYTHON" - "$SOCK" 3>"$fifo" <<'PY' &
import os, socket, sys, threading
def pump(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(16)
os.write(3, b"%d\n" % l.getsockname()[1])
os.close(3)
while True:
    c, _ = l.accept()
    u = socket.socket(socket.AF_UNIX)
    u.connect(sys.argv[1])
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
	RELAY_PID=$!
	read -r RELAY_PORT < "$fifo" || fail "the relay did not start"
	rm -f "$fifo"
}

@test "ca-init --acme: the provisioner step ca init --acme adds, served" {
	rm -rf ca2
	ca-init -d ca2 --name Two --dns localhost --provisioner admin --acme \
		--password-file "$PW" --unencrypted-intermediate-key -q > /dev/null
	run -0 pj 'd["authority"]["provisioners"][1]' < ca2/config/ca.json
	assert_output '{"type": "ACME", "name": "acme"}'
	CA=$PWD/ca2
	start_server
	run -0 api /acme/acme/directory
	assert_line -n 1 200
	printf '%s\n' "${lines[0]}" > dir.json
	run -0 pj 'd["newAccount"]' < dir.json
	assert_output "$URL/acme/acme/new-account"
	run -0 pj 'd["meta"]' < dir.json
	assert_output '{"externalAccountRequired": false}'
	run -2 ca-init -d ca3 --name Three --dns localhost --provisioner acme --acme \
		--password-file "$PW"
	assert_output "ca-init: --acme adds a provisioner named acme: name the JWK one otherwise (see ca-init --help)"
}

@test "requireEAB: a client without binding is refused with externalAccountRequired" {
	need_acme_client
	edit_config 'c["authority"]["provisioners"][1]["requireEAB"] = True'
	start_server
	run -0 api /acme/acme/directory
	printf '%s\n' "${lines[0]}" > dir.json
	run -0 pj 'd["meta"]["externalAccountRequired"]' < dir.json
	assert_output true
	run -1 acme_client "$URL/acme/acme/directory"
	assert_output 'failed: provisioner "acme" requires an external account binding'
}

@test "EAB: ca-db eab add, acme-client binds an account with it, once; revoked keys bind nothing" {
	need_acme_client
	edit_config 'c["authority"]["provisioners"][1]["requireEAB"] = True'
	run -0 --separate-stderr ca-db -d "$CA" eab add acme "team a"
	read -r kid hmac <<< "$output"
	[[ $kid =~ ^[A-Za-z0-9_-]{22}$ ]] || fail "kid: $kid"
	[[ $hmac =~ ^[A-Za-z0-9_-]{43}$ ]] || fail "hmac: $hmac"
	run -0 ca-db -d "$CA" eab add acme
	read -r kid2 hmac2 <<< "$output"
	run -1 --separate-stderr ca-db -d "$CA" eab add admin
	assert_equal "$stderr" 'ca-db: no ACME provisioner "admin"'
	start_server
	run -0 acme_client "$URL/acme/acme/directory" eab "$kid" "$hmac"
	assert_output "bound: valid
the same binding again: external account binding: not accepted (unknown key, MAC that does not verify, or a key not valid for binding here)"
	# a wrong key: the MAC does not verify (one answer for every refusal)
	run -1 acme_client "$URL/acme/acme/directory" eab "$kid2" "$hmac"
	assert_output "failed: external account binding: not accepted (unknown key, MAC that does not verify, or a key not valid for binding here)"
	run -0 ca-db -d "$CA" eab revoke "$kid2"
	run -1 acme_client "$URL/acme/acme/directory" eab "$kid2" "$hmac2"
	assert_output "failed: external account binding: not accepted (unknown key, MAC that does not verify, or a key not valid for binding here)"
	run -0 ca-db -d "$CA" eab list
	assert_line -n 0 "$(printf 'KID\tPROVISIONER\tSTATUS\tACCOUNT\tCREATED\tREFERENCE')"
	assert_line --regexp "^$kid	acme	valid	[A-Za-z0-9_-]{22}	[0-9T:Z-]+	team a\$"
	assert_line --regexp "^$kid2	acme	revoked	-	[0-9T:Z-]+	-\$"
	run -1 --separate-stderr ca-db -d "$CA" eab revoke nosuchkey
	assert_equal "$stderr" "ca-db: no EAB key nosuchkey"
	run -2 ca-db -d "$CA" eab remove x
	stop_server
}

@test "ACME provisioner members that would change issuance are refused" {
	edit_config 'c["authority"]["provisioners"][1]["attestationFormats"] = ["apple"]'
	run -1 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" "ca-db: $CA/config/ca.json: authority.provisioners[1].attestationFormats: not supported by ca-tools (it changes what is issued or who may ask); remove it to start"
	edit_config 'del c["authority"]["provisioners"][1]["attestationFormats"]
c["authority"]["provisioners"][1]["challenges"] = ["http-01", "device-attest-01"]'
	run -1 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" "ca-db: $CA/config/ca.json: provisioner \"acme\": challenges[1]: not supported by ca-tools (http-01, dns-01, tls-alpn-01)"
	edit_config 'c["authority"]["provisioners"][1]["challenges"] = ["dns-01"]
c["caTools"] = {"acme": {"dnsResolver": "localhost:53"}}'
	run -1 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" "ca-db: $CA/config/ca.json: caTools.acme.dnsResolver: \"localhost:53\" is not IP:PORT ([IPv6]:PORT)"
	edit_config 'c["caTools"] = {"acme": {"maxValidationsPerAccount": 0}}'
	run -1 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" "ca-db: $CA/config/ca.json: caTools.acme.maxValidationsPerAccount: not from 1 to 1000"
	edit_config 'c["caTools"] = {"acme": {"dnsResolver": "127.0.0.1:8053", "httpPort": 5002, "validationTimeout": "3s", "maxValidationsPerAccount": 5}}'
	run -0 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" ""
}
