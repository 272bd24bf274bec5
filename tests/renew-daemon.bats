#!/usr/bin/env bats
# ca-renew --daemon: renewals when due (certificates of seconds), --exec
# and --signal after each, SIGHUP and SIGTERM, back-off while the CA is
# unreachable and recovery, giving up once the certificate has expired.

load helpers

setup() {
	use_ca
	# Certificates of a few seconds, not backdated, so that they fall
	# due within the test.
	edit_config 'c["authority"]["backdate"] = "0s"
c["authority"].setdefault("claims", {})["minTLSCertDuration"] = "1s"'
	DAEMON_PID=
	LOG=$BATS_TEST_TMPDIR/daemon.log
	: > "$LOG"
}

teardown() {
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" || true
	fi
	stop_server
}

# daemon OPTIONS...: ca-renew --daemon in the background, its standard
# error in $LOG.
daemon() {
	: > "$LOG"
	ca-renew --daemon "$@" 2>> "$LOG" 3>&- &
	DAEMON_PID=$!
}

# await_lines N PATTERN: wait (10 s at most) until $LOG has N lines that
# match the grep PATTERN (tail -f wakes on each write).
await_lines() {
	local fd pid n
	exec {fd}< <(exec timeout 10 tail -n +1 -f "$LOG" 3>&-)
	pid=$!
	n=$(grep -m "$1" -- "$2" <&"$fd" | wc -l)
	kill "$pid" 2>/dev/null || true
	exec {fd}<&-
	[ "$n" -eq "$1" ] || { cat "$LOG" >&2; fail "$n of $1 lines '$2'"; }
}

# stop_daemon: SIGTERM; it must exit 0 and say so.
stop_daemon() {
	local status=0
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || status=$?
	DAEMON_PID=
	assert_equal "$status" 0
	assert_equal "$(tail -n 1 "$LOG")" "ca-renew: stopping signal=TERM"
}

@test "renews each time it is due, runs --exec after each, exits 0 on SIGTERM while sleeping" {
	leaf svc 4s
	local first
	first=$(serial_of svc.crt)
	# --exec records the certificate it finds after each renewal.
	printf '#!/bin/sh\nopenssl x509 -in svc.crt -noout -serial >> hooks\n' > hook
	chmod +x hook
	# A third of 4 s is 1 s: --expires-in 3s makes it due after 1 s; and
	# --force renews it first thing.
	daemon -d "$CA" --force --expires-in 3s --exec "$BATS_TEST_TMPDIR/hook" \
		svc.crt svc.key
	await_lines 1 '^ca-renew: scheduled cert="svc.crt" serial='"$first"' '
	await_lines 2 '^ca-renew: renewed cert="svc.crt" serial=[0-9a-f]* not_after=[-0-9T:]*Z renew_at=[-0-9T:]*Z in=[01]s$'
	stop_daemon
	# Two renewals, each a new serial, each followed by --exec.
	run -0 grep -c '^serial=' hooks
	assert_output 2
	assert_equal "$(sort -u hooks | wc -l)" 2
	grep -qv "$first" hooks
	assert_equal "$(tail -n 1 hooks | cut -d= -f2 | tr 'A-F' 'a-f')" \
		"$(serial_of svc.crt)"
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted svc.crt svc.crt
	assert_equal "$(lifetime_of svc.crt)" 4
	ca-db -d "$CA" check
}

@test "SIGHUP renews at once; --signal reaches the process in --pid-file" {
	leaf svc 1h
	local old rfd got
	old=$(serial_of svc.crt)
	# The recorder: its pid file, then "ready", then the signal it gets.
	mkfifo rec.fifo
	"$PYTHON" -c '
import os, signal, sys
def got(s, f):
    print(signal.Signals(s).name, flush=True)
    sys.exit(0)
signal.signal(signal.SIGUSR1, got)
signal.signal(signal.SIGHUP, got)
open("rec.pid", "w").write("%d\n" % os.getpid())
print("ready", flush=True)
while True:
    signal.pause()
' > rec.fifo 3>&- &
	exec {rfd}< rec.fifo
	read -r -t 10 got <&"$rfd"
	assert_equal "$got" ready
	daemon -d "$CA" --pid-file rec.pid --signal USR1 svc.crt svc.key
	# Not due: about 40 of its 60 minutes ahead.
	await_lines 1 '^ca-renew: scheduled cert="svc.crt" .* in=2[2-4][0-9][0-9]s$'
	kill -HUP "$DAEMON_PID"
	got=
	read -r -t 10 got <&"$rfd" || true
	exec {rfd}<&-
	assert_equal "$got" SIGUSR1
	await_lines 1 '^ca-renew: renewed cert="svc.crt" '
	grep -q '^ca-renew: renewing now cert="svc.crt" reason=SIGHUP$' "$LOG"
	[ "$(serial_of svc.crt)" != "$old" ]
	stop_daemon
}

# restart_server PORT: ca-serve again on the port it had.
restart_server() {
	local fifo=$BATS_TEST_TMPDIR/ready2.fifo
	mkfifo "$fifo"
	ca-serve -d "$CA" --listen "127.0.0.1:$1" --ready-fd 3 \
		--log-file "$SERVER_LOG" 3>"$fifo" &
	SERVER_PID=$!
	read -r PORT < "$fifo" || true
	[ "$PORT" = "$1" ] || fail "ca-serve did not start again on port $1"
}

@test "an unreachable CA: retries with growing delays, renews once it is back" {
	start_server
	leaf svc 20s
	local port=$PORT old delays
	old=$(serial_of svc.crt)
	stop_server
	# As contrib's systemd unit runs it (ExecStart expanded as systemd
	# does), renewing first thing.
	local unit=$CA_TOP_SRCDIR/contrib/systemd/ca-renew-daemon@.service exec
	grep -qx 'Type=simple' "$unit"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	exec=${exec//\/usr\/local\/bin\//}
	exec=${exec//\/etc\/ca-tools\/root_ca.crt/$CA/certs/root_ca.crt}
	CA_URL=$URL CERT=svc.crt KEY=svc.key EXEC= RENEW_OPTS=--force \
		bash -c "set -f; eval \"set -- \${0//\\\$RENEW_OPTS/\$RENEW_OPTS}\"; exec \"\$@\"" \
		"$exec" 2>> "$LOG" 3>&- &
	DAEMON_PID=$!
	await_lines 3 '^ca-renew: renewal failed cert="svc.crt" attempt=[0-9]* retry_in=[0-9.]*s error=".*"$'
	# Base 0.2 s (a hundredth of 20 s), doubled each time, half jittered.
	mapfile -t delays < <(sed -n 's/.* retry_in=\([0-9]*\)\.\([0-9]*\)s .*/\1\2/p' "$LOG" | sed 's/^0*//')
	[ "${#delays[@]}" -ge 3 ]
	[ "${delays[0]}" -ge 100 ] && [ "${delays[0]}" -le 200 ]
	[ "${delays[1]}" -ge "${delays[0]}" ] && [ "${delays[2]}" -ge "${delays[1]}" ]
	[ "${delays[2]}" -ge 400 ]
	grep -q 'attempt=1 .*error=".*127.0.0.1\|attempt=1 .*error=".*unreachable\|attempt=1 .*error=".*connect' "$LOG"
	restart_server "$port"
	await_lines 1 '^ca-renew: renewed cert="svc.crt" '
	[ "$(serial_of svc.crt)" != "$old" ]
	stop_daemon
}

@test "exits 1 once the certificate has expired unrenewed; usage errors" {
	token old
	ca-sign -d "$CA" --token-file old.tok --key-out old.key \
		--not-before -20s --not-after -2s > old.crt
	run -1 --separate-stderr ca-renew -d "$CA" --daemon old.crt old.key
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 2
	[[ ${stderr_lines[0]} == 'ca-renew: scheduled cert="old.crt" '* ]]
	[[ ${stderr_lines[1]} =~ ^ca-renew:\ old.crt\ expired\ at\ .*Z\ and\ was\ not\ renewed:\ .*has\ expired ]]
	leaf svc 1h
	run -1 ca-renew -d "$CA" --daemon --expires-in 1h svc.crt svc.key
	assert_output "ca-renew: svc.crt: --expires-in 1h0m0s is not shorter than the certificate's lifetime, 1h0m0s"
	run -2 ca-renew -d "$CA" --renew-period 1h svc.crt svc.key
	assert_output --partial "--renew-period needs --daemon"
	run -2 ca-renew -d "$CA" --daemon --renew-period 1h --expires-in 1m svc.crt svc.key
	assert_output --partial "--renew-period excludes --expires-in"
	run -2 ca-renew -d "$CA" --daemon -o x.crt svc.crt svc.key
	assert_output --partial "no -o"
	run -2 ca-renew -d "$CA" --signal USR1 svc.crt svc.key
	assert_output --partial "--signal needs --pid-file"
	run -2 ca-renew -d "$CA" --pid-file p --signal FOO svc.crt svc.key
	assert_output --partial 'unknown signal "FOO"'
	run -2 ca-renew -d "$CA" --daemon --rekey --key-out new.key svc.crt svc.key
	assert_output --partial "--daemon with --rekey needs --key-out KEY"
}
