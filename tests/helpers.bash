# helpers.bash - shared set-up for the bats suites (load helpers).
#
# The tools come from the build tree: `make check` puts its bin/ first on
# PATH; run by hand, the _build/ tree next to the sources is used.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '/usr/lib/bats/bats-file/load'

: "${CA_TOP_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${CA_FIXTURES:=$CA_TOP_SRCDIR/tests/fixtures}"
export CA_TOP_SRCDIR CA_FIXTURES
if ! command -v ca-init >/dev/null 2>&1; then
	PATH="${CA_TOP_BUILDDIR:-$CA_TOP_SRCDIR/_build}/bin:$PATH"
fi
unset CA_STATE_DIR CA_CONTEXT
# Not the client defaults of whoever runs the tests (ca-bootstrap --install,
# step's): the suites that use them set their own.
export XDG_CONFIG_HOME=$BATS_RUN_TMPDIR/no-config STEPPATH=$BATS_RUN_TMPDIR/no-step
export LC_ALL=C

PYTHON=${PYTHON:-python3}

# need_peer cryptography|joserfc...: the python peers a test checks against,
# found in $PYTHON: cryptography >= 42 (its X.509 path validation,
# cryptography.x509.verification) and joserfc. Without them the test is
# skipped with the reason (Debian 12 ships cryptography 38 and no joserfc),
# unless CA_REQUIRE_PEERS=1 (CI), where a missing peer fails the test.
need_peer() {
	local p missing= cache=$BATS_FILE_TMPDIR/peers
	if [ ! -f "$cache" ]; then
		{
			"$PYTHON" -c 'import cryptography.x509.verification' 2>/dev/null ||
				echo cryptography
			"$PYTHON" -c 'import joserfc' 2>/dev/null || echo joserfc
		} > "$cache.tmp"
		mv "$cache.tmp" "$cache"
	fi
	for p; do
		grep -qx "$p" "$cache" || continue
		case $p in
		cryptography) missing="$missing${missing:+ and }python cryptography >= 42" ;;
		*) missing="$missing${missing:+ and }python $p" ;;
		esac
	done
	[ -n "$missing" ] || return 0
	if [ "${CA_REQUIRE_PEERS:-0}" = 1 ]; then
		fail "needs $missing, not found in $PYTHON (CA_REQUIRE_PEERS=1: no skipping)"
	fi
	skip "needs $missing, not found in $PYTHON"
}

# A CA made once per file (setup_file) and copied for each test, so that
# every test starts from the same clean state without paying for key
# generation and PBKDF2 each time.
#   $CA   the test's state directory      $PW  its password file
#   $PK   the provisioner's plain key     $FP  the root fingerprint
make_template_ca() {
	local t=$BATS_FILE_TMPDIR/template
	[ -d "$t/ca" ] && return 0
	mkdir -p "$t"
	printf 'test-password\n' > "$t/pw"
	ca-init -d "$t/ca" --name "Test" --dns ca.test,localhost \
		--address 127.0.0.1:8443 --provisioner admin \
		--password-file "$t/pw" --unencrypted-intermediate-key \
		--provisioner-key-out "$t/prov.json" -q > "$t/fp"
}

use_ca() {
	make_template_ca
	cp -a "$BATS_FILE_TMPDIR/template/." "$BATS_TEST_TMPDIR/"
	CA=$BATS_TEST_TMPDIR/ca
	PW=$BATS_TEST_TMPDIR/pw
	PK=$BATS_TEST_TMPDIR/prov.json
	FP=$(cat "$BATS_TEST_TMPDIR/fp")
	cd "$BATS_TEST_TMPDIR"
}

# csr NAME [SAN-SPEC] [KEYOPTS...]: a CSR in NAME.csr with key NAME.key.
csr() {
	local name=$1 san=${2:-DNS:$1}
	shift 2 || shift $#
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$name.key" -subj "/CN=$name" \
		-addext "subjectAltName=$san" -out "$name.csr" 2>/dev/null
}

# token SUBJECT [ca-token options...]: a token in SUBJECT.tok
token() {
	local sub=$1
	shift
	ca-token -d "$CA" --key "$PK" "$@" "$sub" > "$sub.tok"
}

# lifetime_of CERT: notAfter - notBefore of the PEM certificate, in seconds,
# as openssl reads them.
lifetime_of() {
	local nb na
	nb=$(openssl x509 -in "$1" -noout -startdate) || return 1
	na=$(openssl x509 -in "$1" -noout -enddate) || return 1
	echo $(($(date -u -d "${na#notAfter=}" +%s) - $(date -u -d "${nb#notBefore=}" +%s)))
}

# leaf NAME [LIFETIME]: NAME.crt (leaf + intermediate) and NAME.key, issued
# offline with the given lifetime (default 1h).
leaf() {
	token "$1"
	ca-sign -d "$CA" --token-file "$1.tok" --key-out "$1.key" \
		--not-after "${2:-1h}" > "$1.crt"
}

# serial_of CERT: its serial number, lowercase hex as openssl prints it.
serial_of() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}

# The number of issued certificates.
issued() {
	ca-db -d "$CA" list | tail -n +2 | wc -l
}

# A fingerprint of the store's bytes, to show that a refusal changed nothing
# (read without ca-db, which a test may have broken on purpose).
store_state() {
	sha256sum < "$CA/db/ca.gdbm"
}

# Decode the JWS part $2 (0 header, 1 payload) of a token file $1 as JSON.
jws_part() {
	"$PYTHON" - "$1" "$2" <<'PY'
import base64, json, sys
tok = open(sys.argv[1]).read().strip()
part = tok.split(".")[int(sys.argv[2])]
print(json.dumps(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))), sort_keys=True))
PY
}

# Edit ca.json with a python expression on `c`.
edit_config() {
	"$PYTHON" - "$CA/config/ca.json" "$1" <<'PY'
import json, sys
_path = sys.argv[1]
c = json.load(open(_path))
exec(sys.argv[2])
open(_path, "w").write(json.dumps(c, indent=2))
PY
}

# jq-like: evaluate a python expression on the JSON document on stdin
# (bound to d); print the result (JSON for lists and dicts).
pj() {
	"$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (list, dict, bool)) or r is None else r)
' "$1"
}

# claims [PYTHON]: good claims for svc.test as JSON, changed by PYTHON on d.
# The audience is $AUD (default: the test CA's offline sign audience).
claims() {
	FP=$FP AUD=${AUD:-https://ca.test:8443/1.0/sign} "$PYTHON" -c '
import json, os, secrets, sys, time
now = int(time.time())
d = {"aud": os.environ["AUD"], "iss": "admin", "sub": "svc.test",
     "sans": ["svc.test"], "jti": secrets.token_hex(32), "iat": now, "nbf": now,
     "exp": now + 300, "sha": os.environ["FP"]}
exec(sys.argv[1])
print(json.dumps(d))' "${1:-pass}"
}

# pytok FILE CLAIMS [HEADER]: a token signed by joserfc with the provisioner key.
pytok() {
	need_peer joserfc
	"$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" sign "$PK" "$2" ${3:+"$3"} > "$1"
}

# start_server [ca-serve options...]: ca-serve on 127.0.0.1, port 0, its
# readiness read from --ready-fd; sets PORT, SERVER_PID, URL, SERVER_LOG.
# $CA_SERVE_OPTS (split on blanks) comes first: e.g. CA_SERVE_OPTS='--user
# nobody' runs a suite with privilege separation.
start_server() {
	local fifo=$BATS_TEST_TMPDIR/ready.fifo
	SERVER_LOG=$BATS_TEST_TMPDIR/serve.log
	rm -f "$fifo"
	mkfifo "$fifo"
	# shellcheck disable=SC2086
	ca-serve -d "$CA" --listen 127.0.0.1:0 --ready-fd 3 --log-file "$SERVER_LOG" \
		${CA_SERVE_OPTS:-} "$@" 3>"$fifo" &
	SERVER_PID=$!
	read -r PORT < "$fifo" || true
	rm -f "$fifo"
	[ -n "$PORT" ] || { cat "$SERVER_LOG" >&2; fail "ca-serve did not start"; }
	URL=https://localhost:$PORT
	export PORT URL SERVER_PID SERVER_LOG
}

# ra_serve: a registration authority in front of the running ca-serve
# (its upstream provisioner "admin"), on port 0; sets RA, RA_URL, RA_PID
# (stop_ra stops it). Its provisioners are added with ca-provisioner -d "$RA".
# RA_HTTP=1: a plain listener too, its port in RA_HPORT.
ra_serve() {
	local fifo=$BATS_TEST_TMPDIR/ra.fifo plain=()
	[ -z "${RA_HTTP:-}" ] || plain=(--insecure-listen 127.0.0.1:0)
	RA=$BATS_TEST_TMPDIR/ra
	ca-init --ra --upstream "$URL" --upstream-fingerprint "$FP" \
		--upstream-provisioner admin --upstream-password-file "$PW" -d "$RA" \
		--name RA --dns localhost --address 127.0.0.1:9443 --provisioner ra-admin \
		--password-file "$PW" -q >/dev/null || return 1
	"$@" || return 1
	rm -f "$fifo"
	mkfifo "$fifo"
	ca-serve -d "$RA" --upstream-password-file "$PW" --listen 127.0.0.1:0 \
		"${plain[@]}" --ready-fd 3 --log-file "$BATS_TEST_TMPDIR/ra.log" 3>"$fifo" &
	RA_PID=$!
	{ read -r RA_URL; [ -z "${RA_HTTP:-}" ] || read -r RA_HPORT; } < "$fifo" || true
	[ -n "$RA_URL" ] || fail "the RA did not start: $(cat "$BATS_TEST_TMPDIR/ra.log")"
	RA_URL=https://localhost:$RA_URL
}

# stop_ra: SIGTERM to the RA of ra_serve, which must exit 0.
stop_ra() {
	local status=0
	[ -n "${RA_PID:-}" ] || return 0
	kill -TERM "$RA_PID" 2>/dev/null || true
	wait "$RA_PID" || status=$?
	RA_PID=
	[ "$status" = 0 ] || fail "the RA's ca-serve exited with status $status"
}

# signer_of PID: the privilege-separated signer of ca-serve PID (its child)
signer_of() {
	local c
	c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
	c=${c%% *}
	[ -n "$c" ] && echo "$c"
}

# uid_of PID: its real user ID
uid_of() {
	awk '$1 == "Uid:" { print $2 }' "/proc/$1/status"
}

# stop_server: SIGTERM, and the server must exit 0 (not have crashed).
stop_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	local status=0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" || status=$?
	SERVER_PID=
	[ "$status" = 0 ] || fail "ca-serve exited with status $status"
}

# follow_log LOG SECONDS: follow LOG from where it ends now (tail -f wakes
# on each write) for at most SECONDS, for await_log.
follow_log() {
	local size
	size=$(stat -c %s "$1")
	exec {FOLLOW_FD}< <(exec timeout "$2" tail -c +$((size + 1)) -f "$1" 3>&-)
	FOLLOWER=$!
}

# await_log PATTERN: wait for the next line of the followed log that
# matches the grep PATTERN, then stop following; status 1 if none came.
await_log() {
	local ok=0
	grep -q -m 1 -- "$1" <&"$FOLLOW_FD" && ok=1
	kill "$FOLLOWER" 2>/dev/null || true
	exec {FOLLOW_FD}<&-
	[ "$ok" = 1 ]
}

# reload_server [LOG]: SIGHUP to ca-serve, then wait (5 s at most) for the
# next "reloaded" line it logs once the new configuration is in use.
reload_server() {
	local log=${1:-$SERVER_LOG}
	follow_log "$log" 5
	kill -HUP "$SERVER_PID"
	await_log 'reloaded ' || fail "ca-serve did not log its reload in $log"
}

# api [curl options...] PATH: an HTTPS request trusting only the CA's root;
# prints the body, then the status code on the last line.
api() {
	local path=${!#}
	curl -sS --cacert "$CA/certs/root_ca.crt" -w '\n%{http_code}' \
		"${@:1:$#-1}" "$URL$path"
}

# sign_body TOKEN-FILE CSR-FILE [PYTHON]: the JSON of a /sign request.
sign_body() {
	"$PYTHON" -c '
import json, sys
d = {"csr": open(sys.argv[2]).read(), "ott": open(sys.argv[1]).read().strip()}
exec(sys.argv[3])
print(json.dumps(d))' "$1" "$2" "${3:-pass}"
}

# raw_request [SECONDS]: the bytes on stdin sent as they are over TLS to the
# server (trusting the CA's root); prints what came back, then "[closed]"
# when the server closed the connection, or "[open]" when it was still
# open SECONDS (default 3) after its last byte.
raw_request() {
	"$PYTHON" -c '
import socket, ssl, sys
port, root, wait = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
data = sys.stdin.buffer.read()
ctx = ssl.create_default_context(cafile=root)
c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
c.sendall(data)
c.settimeout(wait)
out, end = b"", b"[open]"
try:
    while True:
        b = c.recv(65536)
        if not b:
            end = b"[closed]"
            break
        out += b
except socket.timeout:
    pass
except (ConnectionResetError, ssl.SSLError):
    end = b"[closed]"
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n") + b"\n" + end + b"\n")
' "$PORT" "$CA/certs/root_ca.crt" "${1:-3}"
}

# activate [systemd-socket-activate options] -- COMMAND...: start it on
# $SOCK (set by the caller) and wait for its "Listening on" line; its
# pid in ACT_PID, its stderr drained into $BATS_TEST_TMPDIR/act.err.
activate() {
	local fifo=$BATS_TEST_TMPDIR/act.fifo line act_fd
	command -v systemd-socket-activate >/dev/null ||
		fail "systemd-socket-activate (package systemd) is needed"
	rm -f "$fifo" "$SOCK"
	mkfifo "$fifo"
	systemd-socket-activate -l "$SOCK" "$@" 2>"$fifo" 3>&- &
	ACT_PID=$!
	# One reader throughout: were it closed and opened again, the
	# activator's first write in between (it logs each connection) would
	# meet no reader and SIGPIPE would kill it; and a second open blocks
	# for good once the activator is gone.
	exec {act_fd}< "$fifo"
	read -r line <&"$act_fd" || true
	[[ $line == "Listening on $SOCK"* ]] || fail "systemd-socket-activate: $line"
	cat <&"$act_fd" > "$BATS_TEST_TMPDIR/act.err" 3>&- &
	exec {act_fd}<&-
}
