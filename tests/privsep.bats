#!/usr/bin/env bats
# ca-serve's privilege separation: the signer alone holds the CA key; the
# worker (network, TLS) runs as --user in an empty root and asks the signer,
# which checks every request as it would a client's.

load helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (to change user)"
	# LeakSanitizer (CI's build) reads /proc/PID/task when a process exits,
	# which the worker, chrooted into an empty directory, cannot see.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	use_ca
	NOBODY=$(id -u nobody)
	TOOL=$CA_TOP_SRCDIR/tests/privsep-tool.py
	csr svc.test
}

teardown() {
	stop_server
}

# The intermediate's private scalar, hex, as openssl prints it.
key_scalar() {
	local k
	k=$(openssl pkey -in "$CA/secrets/intermediate_ca_key" -noout -text |
		awk '/^priv:/ { f = 1; next } /^pub:/ { f = 0 } f' | tr -d ' :\n')
	echo "${k#00}"
}

# status/body of the last api call
status_of() { tail -n 1 <<< "$output"; }
body_of() { sed '$d' <<< "$output"; }

@test "the worker runs as --user in an empty root, without the key in memory; in-process the key is there" {
	key=$(key_scalar)
	[ ${#key} -ge 60 ] || fail "no key scalar: '$key'"
	start_server --user nobody
	token svc.test
	sign_body svc.test.tok svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /1.0/sign
	assert_equal "$(status_of)" 201
	assert_equal "$(uid_of "$SERVER_PID")" "$NOBODY"
	# its root is a directory that no longer exists: nothing to open
	run -0 readlink "/proc/$SERVER_PID/root"
	assert_output --regexp '^/tmp/ca-serve\.[A-Za-z0-9]+ \(deleted\)$'
	run -1 setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		cat "$CA/secrets/intermediate_ca_key"
	assert_output --partial "Permission denied"
	grep -q "privilege separation: signer [0-9]*, serving as uid $NOBODY$" "$SERVER_LOG"
	signer=$(signer_of "$SERVER_PID")
	[ -n "$signer" ] || fail "no signer process"
	assert_equal "$(uid_of "$signer")" 0
	# the scan: not in the worker, in the signer
	run -1 "$PYTHON" "$TOOL" scan "$SERVER_PID" "$key"
	assert_output --regexp '^not found in [0-9]+ readable regions$'
	run -0 "$PYTHON" "$TOOL" scan "$signer" "$key"
	assert_output --partial "found in"
	stop_server
	# the same scan finds the key in an in-process server
	start_server --no-privsep
	run -0 "$PYTHON" "$TOOL" scan "$SERVER_PID" "$key"
	assert_output --partial "found in"
	[ -z "$(signer_of "$SERVER_PID")" ] || fail "a signer with --no-privsep"
}

@test "the signer is not dumpable and has no core limit" {
	start_server --user nobody
	signer=$(signer_of "$SERVER_PID")
	run -0 grep -E '^Max core file size' "/proc/$signer/limits"
	assert_output --regexp 'Max core file size +0 +0 '
	# not dumpable: /proc/PID/mem and the like belong to root, not its user
	run -0 stat -c %U "/proc/$signer/environ"
	assert_output root
	run -0 grep -E '^VmLck:' "/proc/$signer/status"
	# AddressSanitizer (CI's build) intercepts mlockall and ignores it:
	# there, nothing is locked whatever the signer asks
	grep -qa __asan_init "$(command -v ca-serve)" ||
		refute_output --regexp 'VmLck:[[:space:]]+0 kB'
}

@test "a hostile worker gets from the signer what a client gets: a spent token, other names, a revoked certificate" {
	need_peer cryptography
	start_server --user nobody
	token svc.test
	sign_body svc.test.tok svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /1.0/sign
	assert_equal "$(status_of)" 201
	body_of | pj 'd["crt"]' > svc.crt
	# the spent token again: the client's 401 and the signer's refusal
	run -0 api -H 'Content-Type: application/json' --data @body.json /1.0/sign
	assert_equal "$(status_of)" 401
	client=$(body_of | pj 'd["message"]')
	run -0 "$PYTHON" "$TOOL" forge "$SERVER_PID" sign svc.test.tok svc.test.csr
	assert_equal "${lines[0]}" -6
	assert_equal "${lines[1]}" "$client"
	# a token for svc.test, a CSR for other names
	token svc.test
	csr evil.test
	sign_body svc.test.tok evil.test.csr > evil.json
	before=$(store_state)
	run -0 "$PYTHON" "$TOOL" forge "$SERVER_PID" sign svc.test.tok evil.test.csr
	assert_equal "${lines[0]}" -5
	forged=${lines[1]}
	assert_equal "$(store_state)" "$before"
	# the same token, unspent by the refusal, gets the client the same answer
	run -0 api -H 'Content-Type: application/json' --data @evil.json /1.0/sign
	assert_equal "$(status_of)" 403
	assert_equal "$(body_of | pj 'd["message"]')" "$forged"
	# renewal of a revoked certificate claimed as a TLS peer's
	serial=$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
	run -0 ca-revoke -d "$CA" "0x$serial"
	openssl x509 -in svc.crt -outform DER -out svc.der
	before=$(store_state)
	run -0 "$PYTHON" "$TOOL" forge "$SERVER_PID" renew svc.der
	assert_equal "${lines[0]}" -4
	assert_output --partial "is revoked"
	assert_equal "$(store_state)" "$before"
}

@test "the signer killed mid-request: the client gets a 500, nothing is recorded, the worker exits 1" {
	# -v: the worker logs each request it has handed to the signer
	start_server --user nobody -v
	signer=$(signer_of "$SERVER_PID")
	token svc.test
	sign_body svc.test.tok svc.test.csr > body.json
	before=$(store_state)
	kill -STOP "$signer"
	follow_log "$SERVER_LOG" 10
	api -H 'Content-Type: application/json' --data @body.json /1.0/sign > out 3>&- &
	client=$!
	# (a stopped signer would keep the worker from exiting: killed on failure)
	await_log 'signer: sign request sent, [0-9]* bytes, connection [0-9]*$' ||
		{ kill -KILL "$signer"; fail "the request never reached the signer"; }
	# it waits, unread, in the stopped signer's socket
	ss -xp | awk -v p="pid=$signer," '$0 ~ p && $3 > 0 { f = 1 } END { exit !f }' ||
		{ kill -KILL "$signer"; fail "the request is not in the signer's socket"; }
	kill -KILL "$signer"
	wait "$client"
	run -0 tail -n 1 out
	assert_output 500
	status=0
	wait "$SERVER_PID" || status=$?
	SERVER_PID=
	assert_equal "$status" 1
	grep -q "the signer exited (status 137): stopping" "$SERVER_LOG"
	assert_equal "$(store_state)" "$before"
	# the token was not spent
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr
}

@test "inetd: a signer per connection, the worker as --user" {
	SOCK=$BATS_TEST_TMPDIR/s.sock
	LOG=$BATS_TEST_TMPDIR/inetd.log
	mkfifo act.fifo
	systemd-socket-activate -l "$SOCK" -a --inetd -- "$(command -v ca-serve)" \
		--inetd -d "$CA" --user nobody --log-file "$LOG" 2>act.fifo 3>&- &
	ACT_PID=$!
	read -r line < act.fifo || true
	[[ $line == "Listening on $SOCK"* ]] || fail "systemd-socket-activate: $line"
	cat act.fifo > act.err &
	token svc.test
	sign_body svc.test.tok svc.test.csr > body.json
	run -0 curl -sS --unix-socket "$SOCK" --cacert "$CA/certs/root_ca.crt" \
		-w '\n%{http_code}' -H 'Content-Type: application/json' \
		--data @body.json https://localhost/1.0/sign
	assert_line 201
	kill "$ACT_PID"
	wait "$ACT_PID" || true
	grep -q "privilege separation: signer [0-9]*, serving as uid $NOBODY$" "$LOG"
}

@test "SIGHUP reaches the signer: a provisioner added is used at once" {
	start_server --user nobody
	run -0 api /provisioners
	refute_output --partial '"second"'
	edit_config 'p = dict(c["authority"]["provisioners"][0]); p["name"] = "second"; c["authority"]["provisioners"].append(p)'
	reload_server
	run -0 api /provisioners
	assert_output --partial '"second"'
}

@test "usage: --no-privsep excludes --user; an unknown or root --user; --user needs root" {
	run -2 ca-serve -d "$CA" --no-privsep --user nobody
	assert_output "ca-serve: --no-privsep excludes --user (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --privsep --no-privsep
	assert_output "ca-serve: --privsep and --no-privsep exclude each other (see ca-serve --help)"
	run -1 ca-serve -d "$CA" --user no-such-user-here --listen 127.0.0.1:0
	assert_output "ca-serve: --user no-such-user-here: no such user"
	run -1 ca-serve -d "$CA" --user root --listen 127.0.0.1:0
	assert_output "ca-serve: --user root: is root"
	run -1 setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		ca-serve -d "$CA" --user nobody --listen 127.0.0.1:0
	assert_output "ca-serve: --user nobody: only root can change user"
}
