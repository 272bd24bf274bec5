# acme-helpers.bash - the real ACME clients (lego, certbot, dehydrated,
# uacme + ualpn, npm's acme-client) against an ACME server, for bats:
# `load helpers` then `load acme-helpers`.
#
# The server under test is named by these variables (set by
# acme_pebble_start, or by the file that starts ca-serve):
#   ACME_SERVER      pebble | ca-serve (some cells differ)
#   ACME_DIRECTORY   the directory URL
#   ACME_TRUST       the CA file the clients trust for the server's HTTPS
#   ACME_ROOT        the root every issued chain must verify to
#   ACME_HTTP_PORT   the port the server's validator connects to for
#                    http-01: the clients' responders listen on
#                    127.0.0.1:ACME_HTTP_PORT
#   ACME_TLS_PORT    the same for tls-alpn-01
#   ACME_DNS_PORT    pebble-challtestsrv's DNS (the validator's resolver:
#                    TXT records as set over its API, every A query
#                    answered 127.0.0.1)
#   ACME_DNS_API     pebble-challtestsrv's management URL
#   ACME_MGMT        pebble's management URL (revocation status)
#   ACME_OCSP        ca-serve: its OCSP URL; ACME_ISSUER its intermediate
#
# Every process is started on 127.0.0.1 with its id recorded: the file's
# servers (setup_file) in $ACME_DIR/acme.pids (ACME_DIR defaults to
# $BATS_FILE_TMPDIR), a test's responders in $BATS_TEST_TMPDIR/acme.pids;
# acme_stop_file and acme_stop_test stop them by id. Readiness is a log
# line or a port, never a sleep. bench/acme.sh sources this file outside
# bats, with ACME_DIR set, for the servers' part.

: "${CA_REQUIRE_PEERS:=0}"
# Every client run is bounded: a server that leaves a challenge processing
# fails the cell instead of hanging the suite (uacme backs off to minutes).
: "${ACME_CLIENT_TIMEOUT:=180}"

# acme_timeout CMD...: CMD, killed after ACME_CLIENT_TIMEOUT seconds
acme_timeout() {
	timeout -k 5 "$ACME_CLIENT_TIMEOUT" "$@"
}

# acme_need CMD...: each command is on $PATH, else the test is skipped
# (fails where CA_REQUIRE_PEERS=1, as CI sets).
acme_need() {
	local c missing=
	for c; do
		case $c in
		acme-client)
			[ -f "$CA_TOP_SRCDIR/tests/npm/node_modules/acme-client/package.json" ] &&
				command -v node >/dev/null && continue
			c="npm's acme-client (npm ci --prefix tests/npm)"
			;;
		*) command -v "$c" >/dev/null && continue ;;
		esac
		missing="$missing${missing:+, }$c"
	done
	[ -n "$missing" ] || return 0
	[ "$CA_REQUIRE_PEERS" != 1 ] || fail "needs $missing (CA_REQUIRE_PEERS=1: no skipping)"
	skip "needs $missing"
}

# acme_free_ports N: N distinct TCP ports of 127.0.0.1 free right now (for
# servers that cannot be given port 0 and report the one they got).
acme_free_ports() {
	"$PYTHON" -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# acme_spawn PIDFILE LOG CMD...: CMD in the background (fd 3 closed, as
# bats wants), stdout and stderr to LOG; sets ACME_PID and records it.
acme_spawn() {
	local pids=$1 log=$2
	shift 2
	"$@" > "$log" 2>&1 3>&- &
	ACME_PID=$!
	echo "$ACME_PID" >> "$pids"
}

# acme_wait_log LOG PATTERN PID [SECONDS]: wait until LOG has a line
# matching the grep PATTERN (status 0), PID has exited or SECONDS (20)
# have passed (status 1, LOG printed to stderr).
acme_wait_log() {
	local log=$1 pat=$2 pid=$3 t=${4:-20} fd tp ok=0
	exec {fd}< <(exec timeout "$t" tail -n +1 -F --pid="$pid" "$log" 2>/dev/null 3>&-)
	tp=$!
	grep -q -m 1 -- "$pat" <&"$fd" && ok=1
	kill "$tp" 2>/dev/null || true
	exec {fd}<&-
	[ "$ok" = 1 ] && return 0
	echo "no line matching '$pat' in $log (process $pid):" >&2
	cat "$log" >&2
	return 1
}

# acme_stop PIDFILE: stop every process recorded there (SIGTERM, then
# reaped; one that outlives 5 s gets SIGKILL).
acme_stop() {
	local pid i
	[ -f "$1" ] || return 0
	while read -r pid; do
		kill -TERM "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			timeout 0.1 tail --pid="$pid" -f /dev/null 2>/dev/null || true
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done < "$1"
	rm -f "$1"
}

acme_stop_file() { acme_stop "${ACME_DIR:-$BATS_FILE_TMPDIR}/acme.pids"; }
acme_stop_test() { acme_stop "$BATS_TEST_TMPDIR/acme.pids"; }

# acme_challtestsrv_start: pebble-challtestsrv on free ports of 127.0.0.1,
# DNS only (every A query answered 127.0.0.1, no AAAA); sets ACME_DNS_PORT
# and ACME_DNS_API. In setup_file.
acme_challtestsrv_start() {
	local d=${ACME_DIR:-$BATS_FILE_TMPDIR} p
	read -r ACME_DNS_PORT p < <(acme_free_ports 2)
	acme_spawn "$d/acme.pids" "$d/challtestsrv.log" pebble-challtestsrv \
		-dns01 "127.0.0.1:$ACME_DNS_PORT" -management "127.0.0.1:$p" \
		-http01 "" -https01 "" -tlsalpn01 "" \
		-defaultIPv4 127.0.0.1 -defaultIPv6 ""
	acme_wait_log "$d/challtestsrv.log" "Starting management server" "$ACME_PID" ||
		return 1
	ACME_DNS_API=http://127.0.0.1:$p
	export ACME_DNS_PORT ACME_DNS_API
}

# acme_api_cert DIR: a test CA (DIR/api-ca.crt) and a certificate for
# localhost and 127.0.0.1 it signed (DIR/api.crt, DIR/api.key): pebble's
# HTTPS certificate (pebble ships none).
acme_api_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/api-ca.key" -out "$1/api-ca.crt" -subj /CN=pebble-api-test-ca \
		-days 2 -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign 2>/dev/null &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/api.key" -subj /CN=localhost 2>/dev/null |
		openssl x509 -req -CA "$1/api-ca.crt" -CAkey "$1/api-ca.key" \
			-days 2 -out "$1/api.crt" -extfile <(printf '%s\n' \
			'subjectAltName=DNS:localhost,IP:127.0.0.1' \
			'basicConstraints=critical,CA:FALSE' 'extendedKeyUsage=serverAuth') 2>/dev/null
}

# acme_pebble_start: pebble on free ports of 127.0.0.1, its validator
# resolving through pebble-challtestsrv (acme_challtestsrv_start first)
# and connecting to ACME_HTTP_PORT / ACME_TLS_PORT; sets every ACME_*
# variable. No nonce is rejected at random (dehydrated never retries
# badNonce), no sleep before validating, no authorization reused (so that
# a renewal validates again, as ca-serve does). In setup_file.
acme_pebble_start() {
	local d=${ACME_DIR:-$BATS_FILE_TMPDIR} a m
	read -r a m ACME_HTTP_PORT ACME_TLS_PORT < <(acme_free_ports 4)
	acme_api_cert "$d" || return 1
	cat > "$d/pebble.json" <<-EOF
	{"pebble": {"listenAddress": "127.0.0.1:$a", "managementListenAddress": "127.0.0.1:$m",
	 "certificate": "$d/api.crt", "privateKey": "$d/api.key",
	 "httpPort": $ACME_HTTP_PORT, "tlsPort": $ACME_TLS_PORT,
	 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
	EOF
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
		acme_spawn "$d/acme.pids" "$d/pebble.log" \
		pebble -config "$d/pebble.json" -dnsserver "127.0.0.1:$ACME_DNS_PORT"
	PEBBLE_PID=$ACME_PID
	acme_wait_log "$d/pebble.log" "ACME directory available" "$ACME_PID" 60 || return 1
	ACME_SERVER=pebble
	ACME_DIRECTORY=https://localhost:$a/dir
	ACME_MGMT=https://localhost:$m
	ACME_TRUST=$d/api-ca.crt
	ACME_ROOT=$d/pebble-root.crt
	curl -sS -f --cacert "$ACME_TRUST" -o "$ACME_ROOT" "$ACME_MGMT/roots/0" || return 1
	export ACME_SERVER ACME_DIRECTORY ACME_MGMT ACME_TRUST ACME_ROOT \
		ACME_HTTP_PORT ACME_TLS_PORT PEBBLE_PID
}

# acme_ca_serve_start MODE [ca-serve options...]: a CA in $ACME_DIR/ca
# (ca-init, unencrypted intermediate key) with an ACME provisioner "acme"
# (and "eab", the same with requireEAB: /acme/eab/directory) and its
# validator set to connect to ACME_HTTP_PORT / ACME_TLS_PORT and to ask
# pebble-challtestsrv (acme_challtestsrv_start first) for dns-01, served by
# ca-serve ($ACME_CA_SERVE, else ca-serve from $PATH) on 127.0.0.1 in MODE:
# standalone (--listen, port 0, --ready-fd), socket
# (systemd-socket-activate -l: one ca-serve for the socket) or inetd
# (systemd-socket-activate -a --inetd: a ca-serve --inetd per connection).
# Sets every ACME_* variable, ACME_CA (the state directory), ACME_SERVE_PID
# (ca-serve, or the activator) and ACME_SERVE_LOG. Status 1, saying why,
# when it does not serve the ACME directory.
acme_ca_serve_start() {
	local mode=$1 d=${ACME_DIR:-$BATS_FILE_TMPDIR} fifo port code
	local serve=${ACME_CA_SERVE:-ca-serve} init=${ACME_CA_INIT:-ca-init}
	shift
	read -r port ACME_HTTP_PORT ACME_TLS_PORT < <(acme_free_ports 3)
	printf 'acme-test-password\n' > "$d/pw"
	"$init" -d "$d/ca" --name "ACME Test" --dns localhost,127.0.0.1 \
		--address 127.0.0.1:8443 --provisioner admin --password-file "$d/pw" \
		--unencrypted-intermediate-key -q > /dev/null || return 1
	"$PYTHON" "$CA_TOP_SRCDIR/tests/acme-ca-json.py" "$d/ca/config/ca.json" \
		"$ACME_HTTP_PORT" "$ACME_TLS_PORT" "127.0.0.1:$ACME_DNS_PORT" || return 1
	ACME_SERVE_LOG=$d/serve.log
	case $mode in
	standalone)
		fifo=$d/ready.fifo
		rm -f "$fifo"
		mkfifo "$fifo"
		"$serve" -d "$d/ca" --listen 127.0.0.1:0 --ready-fd 3 \
			--log-file "$ACME_SERVE_LOG" "$@" 3>"$fifo" 2>> "$d/serve.err" &
		ACME_SERVE_PID=$!
		echo "$ACME_SERVE_PID" >> "$d/acme.pids"
		port=
		read -t 60 -r port < "$fifo" || true
		rm -f "$fifo"
		[ -n "$port" ] || { cat "$d/serve.err" "$ACME_SERVE_LOG" >&2; return 1; }
		;;
	socket | inetd)
		local a=()
		[ "$mode" = socket ] || a=(-a --inetd)
		[ "$mode" = socket ] || set -- --inetd "$@"
		acme_spawn "$d/acme.pids" "$d/activate.log" systemd-socket-activate \
			"${a[@]}" -l "127.0.0.1:$port" \
			"$(command -v "$serve")" -d "$d/ca" --log-file "$ACME_SERVE_LOG" "$@"
		ACME_SERVE_PID=$ACME_PID
		acme_wait_log "$d/activate.log" "^Listening on" "$ACME_PID" || return 1
		;;
	*)
		echo "acme_ca_serve_start: unknown mode $mode" >&2
		return 2
		;;
	esac
	ACME_SERVER=ca-serve
	ACME_CA=$d/ca
	ACME_TRUST=$d/ca/certs/root_ca.crt
	ACME_ROOT=$ACME_TRUST
	ACME_ISSUER=$d/ca/certs/intermediate_ca.crt
	ACME_OCSP=https://localhost:$port/ocsp
	ACME_DIRECTORY=https://localhost:$port/acme/acme/directory
	export ACME_SERVER ACME_CA ACME_TRUST ACME_ROOT ACME_ISSUER ACME_OCSP ACME_DIRECTORY \
		ACME_HTTP_PORT ACME_TLS_PORT ACME_SERVE_PID ACME_SERVE_LOG
	code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ACME_TRUST" "$ACME_DIRECTORY") ||
		return 1
	case $code in
	200) return 0 ;;
	*)
		echo "$ACME_DIRECTORY: HTTP $code" >&2
		return 1
		;;
	esac
}

# acme_responder WEBROOT: a plain HTTP server of WEBROOT on
# 127.0.0.1:ACME_HTTP_PORT for the clients that only write the http-01
# file (dehydrated, uacme); stopped by acme_stop_test.
acme_responder() {
	mkdir -p "$1/.well-known/acme-challenge"
	acme_spawn "$BATS_TEST_TMPDIR/acme.pids" "$BATS_TEST_TMPDIR/responder.log" \
		"$PYTHON" -u -m http.server --bind 127.0.0.1 --directory "$1" "$ACME_HTTP_PORT"
	acme_wait_log "$BATS_TEST_TMPDIR/responder.log" "^Serving HTTP" "$ACME_PID"
}

# acme_ualpn: ualpn (uacme's tls-alpn-01 responder) on
# 127.0.0.1:ACME_TLS_PORT, its control socket $UALPN_SOCK.
acme_ualpn() {
	local d=$BATS_TEST_TMPDIR
	UALPN_SOCK=$d/ualpn.sock
	export UALPN_SOCK
	# It proxies whatever is not a tls-alpn-01 handshake to a backend it
	# must be given: the http-01 port, where nothing listens.
	acme_spawn "$d/acme.pids" "$d/ualpn.log" ualpn -vv -n 1 \
		-b "127.0.0.1@$ACME_TLS_PORT" -c "127.0.0.1@$ACME_HTTP_PORT" \
		-s "$UALPN_SOCK" -p "$d/ualpn.pid"
	acme_wait_log "$d/ualpn.log" "new worker starting" "$ACME_PID"
}

# acme_hook CLIENT: a hook program for CLIENT (tests/acme-hook.sh CLIENT)
acme_hook() {
	local h=$BATS_TEST_TMPDIR/hook-$1
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$CA_TOP_SRCDIR/tests/acme-hook.sh" "$1" > "$h"
	chmod +x "$h"
	echo "$h"
}

# acme_get CLIENT CHALLENGE NAME [renew]: CLIENT obtains a certificate for
# NAME with CHALLENGE (a second time with renew: a new order for the same
# name, same account); sets ACME_CHAIN to the path of the full chain (leaf
# first) as the client keeps it. The client's output goes to
# $BATS_TEST_TMPDIR/CLIENT.log (its end printed on failure).
acme_get() {
	local client=$1 ch=$2 name=$3 again=${4:-} log=$BATS_TEST_TMPDIR/$1.log st=0
	"acme_get_$client" "$ch" "$name" "$again" >> "$log" 2>&1 || st=$?
	if [ "$st" != 0 ]; then
		[ "$st" != 124 ] || st="$st (killed after ACME_CLIENT_TIMEOUT=${ACME_CLIENT_TIMEOUT}s)"
		echo "$client ($ch, $name) exited $st:" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
	ACME_CHAIN=$("acme_chain_$client" "$name")
}

# acme_revoke CLIENT NAME: CLIENT revokes the certificate it obtained for
# NAME (reason superseded where it takes one).
acme_revoke() {
	local client=$1 log=$BATS_TEST_TMPDIR/$1.log st=0
	"acme_revoke_$client" "$2" >> "$log" 2>&1 || st=$?
	if [ "$st" != 0 ]; then
		[ "$st" != 124 ] || st="$st (killed after ACME_CLIENT_TIMEOUT=${ACME_CLIENT_TIMEOUT}s)"
		echo "$client revoke $2 exited $st:" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
}

# --- lego: built-in http-01 and tls-alpn-01 servers, dns-01 via exec ---

# acme_lego CHALLENGE NAME ARGS...: lego with ARGS (global options, then
# the command) for NAME; its account is ACME_LEGO_EMAIL's (lego keeps an
# account key per address), test@example.org by default.
acme_lego() {
	local ch=$1 name=$2
	shift 2
	local args=(--server "$ACME_DIRECTORY" --path "$BATS_TEST_TMPDIR/lego"
		--email "${ACME_LEGO_EMAIL:-test@example.org}" --accept-tos -d "$name")
	case $ch in
	http-01) args+=(--http --http.port "127.0.0.1:$ACME_HTTP_PORT") ;;
	tls-alpn-01) args+=(--tls --tls.port "127.0.0.1:$ACME_TLS_PORT") ;;
	dns-01) args+=(--dns exec --dns.resolvers "127.0.0.1:$ACME_DNS_PORT" --dns.disable-cp) ;;
	esac
	LEGO_CA_CERTIFICATES=$ACME_TRUST EXEC_PATH=$(acme_hook lego) \
		EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30 \
		acme_timeout lego "${args[@]}" "$@"
}

acme_get_lego() {
	if [ "$3" = renew ]; then
		acme_lego "$1" "$2" renew --days 100000 --no-random-sleep
	else
		acme_lego "$1" "$2" run
	fi
}

acme_chain_lego() { echo "$BATS_TEST_TMPDIR/lego/certificates/$1.crt"; }

acme_revoke_lego() { acme_lego http-01 "$1" revoke --keep --reason 4; }

# --- certbot: standalone http-01, dns-01 through manual hooks ----------

acme_certbot() {
	local d=$BATS_TEST_TMPDIR/certbot
	REQUESTS_CA_BUNDLE=$ACME_TRUST acme_timeout certbot --non-interactive --server "$ACME_DIRECTORY" \
		--config-dir "$d/etc" --work-dir "$d/work" --logs-dir "$d/logs" "$@"
}

acme_get_certbot() {
	local args=(certonly --agree-tos --register-unsafely-without-email
		--cert-name "$2" -d "$2")
	case $1 in
	http-01) args+=(--standalone --preferred-challenges http-01
		--http-01-address 127.0.0.1 --http-01-port "$ACME_HTTP_PORT") ;;
	dns-01) args+=(--manual --preferred-challenges dns-01
		--manual-auth-hook "$(acme_hook certbot) auth"
		--manual-cleanup-hook "$(acme_hook certbot) cleanup") ;;
	esac
	[ "$3" != renew ] || args+=(--force-renewal)
	acme_certbot "${args[@]}"
}

acme_chain_certbot() { echo "$BATS_TEST_TMPDIR/certbot/etc/live/$1/fullchain.pem"; }

acme_revoke_certbot() {
	acme_certbot revoke --cert-path "$BATS_TEST_TMPDIR/certbot/etc/live/$1/cert.pem" \
		--reason superseded --no-delete-after-revoke
}

# --- dehydrated: http-01 files served by acme_responder, dns-01 hook ---

acme_dehydrated() {
	local d=$BATS_TEST_TMPDIR/dehydrated ch=$1
	shift
	mkdir -p "$d/www/.well-known/acme-challenge"
	cat > "$d/config" <<-EOF
	CA="$ACME_DIRECTORY"
	BASEDIR="$d"
	ACCOUNTDIR="$(acme_dehydrated_accounts)"
	WELLKNOWN="$d/www/.well-known/acme-challenge"
	CURL_OPTS="--cacert $ACME_TRUST"
	CHALLENGETYPE="$ch"
	HOOK="$(acme_hook dehydrated)"
	KEY_ALGO=prime256v1
	KEYSIZE=2048
	EOF
	acme_timeout dehydrated --config "$d/config" "$@"
}

# The account (an RSA key: dehydrated makes no other) is made once per
# directory URL and shared by the file's tests: dehydrated is slow, a
# process per step.
acme_dehydrated_accounts() {
	echo "$BATS_FILE_TMPDIR/dehydrated-accounts/$(printf '%s' "$ACME_DIRECTORY" |
		sha256sum | cut -c1-16)"
}

acme_get_dehydrated() {
	local d=$BATS_TEST_TMPDIR/dehydrated
	if [ "$1" = http-01 ] && [ ! -f "$BATS_TEST_TMPDIR/responder.log" ]; then
		mkdir -p "$d/www"
		acme_responder "$d/www" || return 1
	fi
	if [ -z "$(find "$(acme_dehydrated_accounts)" -name registration_info.json 2>/dev/null)" ]; then
		acme_dehydrated "$1" --register --accept-terms || return 1
	fi
	acme_dehydrated "$1" --cron --domain "$2" ${3:+--force}
}

acme_chain_dehydrated() { echo "$BATS_TEST_TMPDIR/dehydrated/certs/$1/fullchain.pem"; }

acme_revoke_dehydrated() {
	acme_dehydrated http-01 --revoke "$BATS_TEST_TMPDIR/dehydrated/certs/$1/cert.pem"
}

# --- uacme: hooks for http-01 (acme_responder) and dns-01, ualpn for
# tls-alpn-01. It has no option for a CA file and reads the system's
# bundle: it runs in a private mount namespace where ACME_TRUST is bind
# mounted over that bundle.

acme_uacme() {
	local d=$BATS_TEST_TMPDIR/uacme
	mkdir -p "$d"
	acme_timeout unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"' \
		"$ACME_TRUST" uacme -v -c "$d" -a "$ACME_DIRECTORY" -t EC "$@"
}

acme_get_uacme() {
	local d=$BATS_TEST_TMPDIR/uacme
	case $1 in
	http-01)
		[ -f "$BATS_TEST_TMPDIR/responder.log" ] || acme_responder "$d-www" || return 1
		export ACME_WEBROOT=$d-www
		;;
	tls-alpn-01)
		[ -f "$BATS_TEST_TMPDIR/ualpn.log" ] || acme_ualpn || return 1
		;;
	esac
	if [ ! -f "$d/private/key.pem" ]; then
		acme_uacme -y new || return 1
	fi
	ACME_WANT=$1 acme_uacme -h "$(acme_hook uacme)" ${3:+--force} issue "$2"
}

acme_chain_uacme() { echo "$BATS_TEST_TMPDIR/uacme/$1/cert.pem"; }

acme_revoke_uacme() { acme_uacme revoke "$BATS_TEST_TMPDIR/uacme/$1/cert.pem"; }

# --- npm's acme-client (tests/acme-node-client.js) ---------------------

acme_node() {
	NODE_PATH=$CA_TOP_SRCDIR/tests/npm/node_modules NODE_EXTRA_CA_CERTS=$ACME_TRUST \
		acme_timeout node "$CA_TOP_SRCDIR/tests/acme-node-client.js" "$@"
}

acme_get_node() {
	mkdir -p "$BATS_TEST_TMPDIR/node"
	acme_node get "$1" "$2" "$BATS_TEST_TMPDIR/node"
}

acme_chain_node() { echo "$BATS_TEST_TMPDIR/node/$1.pem"; }

acme_revoke_node() { acme_node revoke "$BATS_TEST_TMPDIR/node" "$BATS_TEST_TMPDIR/node/$1.pem"; }

# --- checks ------------------------------------------------------------

# acme_cell CLIENT CHALLENGE NAME [renew] [revoke]: one cell of the matrix:
# CLIENT obtains a certificate for NAME with CHALLENGE and its chain is
# checked (acme_check_chain); renew: a second order for NAME gives another
# certificate (another serial), checked too; revoke: CLIENT revokes the
# last one and the server says so (acme_revoked), having not before.
acme_cell() {
	local client=$1 ch=$2 name=$3 step first
	shift 3
	acme_get "$client" "$ch" "$name" || return 1
	acme_check_chain "$ACME_CHAIN" "$name" || return 1
	for step; do
		case $step in
		renew)
			first=$BATS_TEST_TMPDIR/first.pem
			cp "$ACME_CHAIN.leaf" "$first"
			acme_get "$client" "$ch" "$name" renew || return 1
			acme_check_chain "$ACME_CHAIN" "$name" || return 1
			if [ "$(acme_serial "$first")" = "$(acme_serial "$ACME_CHAIN.leaf")" ]; then
				echo "$client: the renewal gave the same certificate" >&2
				return 1
			fi
			;;
		revoke)
			if acme_revoked "$ACME_CHAIN"; then
				echo "$client: revoked before revocation" >&2
				return 1
			fi
			acme_revoke "$client" "$name" || return 1
			acme_revoked "$ACME_CHAIN" ||
				{ echo "$client: the server does not say revoked" >&2; return 1; }
			;;
		esac
	done
}

# acme_split CHAIN: CHAIN's first certificate in CHAIN.leaf, the others in
# CHAIN.rest (none: CHAIN.rest is empty)
acme_split() {
	awk -v leaf="$1.leaf" -v rest="$1.rest" '
		/-----BEGIN CERTIFICATE-----/ { n++ }
		n == 1 { print > leaf } n > 1 { print > rest }' "$1"
	: >> "$1.rest"
}

# acme_check_chain CHAIN NAME: the chain verifies with openssl verify
# -x509_strict against ACME_ROOT (for TLS servers), and its leaf names NAME
# (and nothing else) in its subjectAltName.
acme_check_chain() {
	local out
	[ -s "$1" ] || { echo "no chain in $1" >&2; return 1; }
	acme_split "$1"
	out=$(openssl verify -x509_strict -purpose sslserver -CAfile "$ACME_ROOT" \
		-untrusted "$1.rest" "$1.leaf" 2>&1) || { echo "$out" >&2; return 1; }
	[ "$out" = "$1.leaf: OK" ] || { echo "$out" >&2; return 1; }
	out=$(openssl x509 -in "$1.leaf" -noout -ext subjectAltName 2>&1)
	[ "$(echo "$out" | sed -n 2p | tr -d ' ')" = "DNS:$2" ] ||
		{ echo "subjectAltName of $1: $out" >&2; return 1; }
}

# acme_serial CERT: its serial number, lowercase hex without leading zeros
acme_serial() {
	openssl x509 -in "$1" -noout -serial | sed 's/^serial=0*//' | tr 'A-F' 'a-f'
}

# acme_revoked CHAIN: status 0 when the server says the leaf of CHAIN
# (acme_split first) is revoked: pebble's management API, ca-serve's OCSP.
acme_revoked() {
	case $ACME_SERVER in
	pebble)
		curl -sS -f --cacert "$ACME_TRUST" \
			"$ACME_MGMT/cert-status-by-serial/$(acme_serial "$1.leaf")" |
			grep -q '"Status": *"Revoked"'
		;;
	ca-serve)
		openssl ocsp -issuer "$ACME_ISSUER" -cert "$1.leaf" -url "$ACME_OCSP" \
			-CAfile "$ACME_ROOT" -no_nonce 2>/dev/null | grep -q ': revoked$'
		;;
	esac
}

# --- the client files (acme-clients.bats, acme-matrix.bats) ---
# Their setup_file/teardown_file/setup/teardown: challtestsrv, and the
# server ACME_TARGET names (ca-serve standalone by default, or pebble).
acme_clients_setup_file() {
	export ACME_TARGET=${ACME_TARGET:-ca-serve}
	acme_need pebble-challtestsrv
	acme_challtestsrv_start
	case $ACME_TARGET in
	pebble)
		acme_need pebble
		acme_pebble_start
		ACME_MAIN_PID=$PEBBLE_PID
		ACME_MAIN_LOG=$BATS_FILE_TMPDIR/pebble.log
		;;
	ca-serve)
		acme_need systemd-socket-activate
		acme_ca_serve_start standalone || return 1
		ACME_MAIN_PID=$ACME_SERVE_PID
		ACME_MAIN_LOG=$ACME_SERVE_LOG
		;;
	*) fail "ACME_TARGET must be ca-serve or pebble, not $ACME_TARGET" ;;
	esac
	export ACME_MAIN_PID ACME_MAIN_LOG
}

acme_clients_teardown_file() {
	local alive=0
	kill -0 "$ACME_MAIN_PID" 2>/dev/null && alive=1
	acme_stop_file
	[ "$alive" = 1 ] || fail "$ACME_TARGET died during the tests: $(tail -n 5 "$ACME_MAIN_LOG")"
}

acme_clients_setup() {
	cd "$BATS_TEST_TMPDIR"
}

acme_clients_teardown() {
	acme_stop_test
}

# in_mode MODE: a ca-serve of this test's own in MODE (socket, inetd),
# with the file's DNS server; its processes are the test's.
in_mode() {
	[ "$ACME_TARGET" = ca-serve ] || skip "a mode of ca-serve's (ACME_TARGET=$ACME_TARGET)"
	ACME_DIR=$BATS_TEST_TMPDIR acme_ca_serve_start "$1" ||
		fail "ca-serve ($1) with ACME did not start: $(cat "$BATS_TEST_TMPDIR/activate.log" 2>/dev/null)"
}

