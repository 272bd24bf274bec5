#!/usr/bin/env bats
# ca-serve as contrib/ runs it: systemd Accept=no and Accept=yes, inetd,
# xinetd. systemd-socket-activate stands in for systemd and the inetds
# (-a --inetd: a process per connection, the connection on fds 0 and 1).
# The command lines are read from the contrib files, with the install
# paths replaced, so that the files cannot rot unnoticed.

load helpers

setup() {
	use_ca
	command -v systemd-socket-activate >/dev/null ||
		fail "systemd-socket-activate (package systemd) is needed"
	SOCK=$BATS_TEST_TMPDIR/ca.sock
	LOG=$BATS_TEST_TMPDIR/serve.log
	C=$CA_TOP_SRCDIR/contrib
}

stop_activator() {
	if [ -n "${ACT_PID:-}" ]; then
		kill "$ACT_PID" 2>/dev/null || true
		wait "$ACT_PID" 2>/dev/null || true
	fi
	ACT_PID=
}

teardown() {
	stop_activator
}

# The contrib command line, runnable here: our ca-serve, our CA, our log.
localize() {
	sed -e "s|/usr/local/bin/ca-serve|$(command -v ca-serve)|" \
	    -e "s|/var/lib/ca-tools|$CA|" -e 's|--syslog||' <<< "$1"
}

# GET or POST through the Unix socket, trusting only the CA's root.
call() {
	curl -sS --unix-socket "$SOCK" --cacert "$CA/certs/root_ca.crt" -w '\n%{http_code}' "$@"
}

sign_request() {
	token svc.test
	csr svc.test
	sign_body svc.test.tok svc.test.csr > body.json
	call -H 'Content-Type: application/json' --data @body.json https://localhost/1.0/sign
}

@test "contrib/systemd Accept=no: socket activation, one long-lived server" {
	grep -qx 'Accept=no' "$C/systemd/ca-serve.socket"
	cmd=$(sed -n 's/^ExecStart=//p' "$C/systemd/ca-serve.service")
	cmd=$(localize "$cmd")
	activate -- $cmd --log-file "$LOG"
	run -0 call https://localhost/health
	assert_line '{"status":"ok"}'
	run -0 sign_request
	assert_line 201
	run -0 call https://localhost/roots
	# one process served all of it: one "listening" line in its log
	assert_equal "$(grep -c 'listening on' "$LOG")" 1
}

@test "contrib/systemd Accept=yes: a process per connection, the TLS certificate cached" {
	grep -qx 'Accept=yes' "$C/systemd/ca-serve-inetd.socket"
	grep -qx 'StandardInput=socket' "$C/systemd/ca-serve-inetd@.service"
	cmd=$(sed -n 's/^ExecStart=//p' "$C/systemd/ca-serve-inetd@.service")
	cmd=$(localize "$cmd")
	activate -a --inetd -- $cmd --log-file "$LOG"
	run -0 call https://localhost/health
	assert_line '{"status":"ok"}'
	run -0 sign_request
	assert_line 201
	for _ in 1 2 3; do
		run -0 call https://localhost/version
	done
	# five processes, one server certificate
	assert_equal "$(ca-db -d "$CA" list | grep -c '	ca-serve	')" 1
	assert_equal "$(grep -c 'issued the server' "$LOG")" 1
	# keep-alive within one process
	run -0 curl -sS --unix-socket "$SOCK" --cacert "$CA/certs/root_ca.crt" -o /dev/null -o /dev/null \
		-w '%{num_connects}\n' https://localhost/health https://localhost/roots
	assert_equal "$(echo "$output" | paste -sd' ')" "1 0"
}

@test "contrib/inetd.conf and the xinetd file: the same one-connection server" {
	line=$(grep -v '^#' "$C/inetd/inetd.conf" | grep ca-serve)
	read -r _ _ _ wait _ server argv0 args <<< "$line"
	assert_equal "$wait" nowait
	cmd=$(localize "$server $args")
	activate -a --inetd -- $cmd --log-file "$LOG"
	run -0 call https://localhost/health
	assert_line 200
	stop_activator
	server=$(sed -n 's/^[[:space:]]*server[[:space:]]*=[[:space:]]*//p' "$C/inetd/ca-serve.xinetd")
	args=$(sed -n 's/^[[:space:]]*server_args[[:space:]]*=[[:space:]]*//p' "$C/inetd/ca-serve.xinetd")
	cmd=$(localize "$server $args")
	activate -a --inetd -- $cmd --log-file "$LOG"
	run -0 sign_request
	assert_line 201
}

@test "--inetd with the socket on fds 0, 1 and 2 (as inetd does): nothing leaks into TLS" {
	run -0 "$PYTHON" - "$(command -v ca-serve)" "$CA" "$CA/certs/root_ca.crt" <<'PY'
import socket, ssl, subprocess, sys
exe, ca, root = sys.argv[1:]
a, b = socket.socketpair()
p = subprocess.Popen([exe, "--inetd", "-d", ca, "--log-file", "/dev/null"],
                     stdin=b, stdout=b, stderr=b, close_fds=True)
b.close()
ctx = ssl.create_default_context(cafile=root)
c = ctx.wrap_socket(a, server_hostname="localhost")
c.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = c.recv(4096)
    if not d:
        break
    data += d
print(data.split(b"\r\n")[0].decode(), data.split(b"\r\n\r\n", 1)[1].decode())
print("exit", p.wait(timeout=10))
PY
	assert_line 'HTTP/1.1 200 OK {"status":"ok"}'
	assert_line 'exit 0'
}

@test "--inetd learns the port it was reached on: a token naming it is accepted, another port refused" {
	need_peer joserfc
	csr svc.test
	run -0 "$PYTHON" - "$(command -v ca-serve)" "$CA" "$CA_TOP_SRCDIR/tests/jwt.py" "$PK" "$FP" <<'PY'
import json, secrets, socket, ssl, subprocess, sys, time
exe, ca, jwt, pk, fp = sys.argv[1:]
lsn = socket.socket()
lsn.bind(("127.0.0.1", 0))
lsn.listen(1)
port = lsn.getsockname()[1]

def sign(aud_port):
    now = int(time.time())
    claims = {"aud": "https://localhost:%d/1.0/sign" % aud_port, "iss": "admin",
              "sub": "svc.test", "sans": ["svc.test"], "jti": secrets.token_hex(32),
              "iat": now, "nbf": now, "exp": now + 300, "sha": fp}
    tok = subprocess.run([sys.executable, jwt, "sign", pk, json.dumps(claims)],
                         check=True, capture_output=True, text=True).stdout.strip()
    body = json.dumps({"csr": open("svc.test.csr").read(), "ott": tok}).encode()
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = lsn.accept()
    p = subprocess.Popen([exe, "--inetd", "-d", ca, "--log-file", "serve.log"],
                         stdin=s, stdout=s, stderr=subprocess.DEVNULL, close_fds=True)
    s.close()
    ctx = ssl.create_default_context(cafile=ca + "/certs/root_ca.crt")
    t = ctx.wrap_socket(c, server_hostname="localhost")
    t.sendall(b"POST /1.0/sign HTTP/1.1\r\nHost: localhost:%d\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % (port, len(body)) + body)
    data = b""
    while True:
        d = t.recv(65536)
        if not d:
            break
        data += d
    print("port" if aud_port == port else aud_port,
          data.split(b"\r\n")[0].decode(), "exit", p.wait(timeout=30))

sign(port)
sign(1)
PY
	assert_line "port HTTP/1.1 201 Created exit 0"
	assert_line "1 HTTP/1.1 401 Unauthorized exit 0"
	assert_equal "${#lines[@]}" 2
}

@test "--inetd refuses a standard input that is not a socket" {
	run -1 ca-serve --inetd -d "$CA" --log-file log < /dev/null
	run -0 grep -c "standard input is not a socket" log
}

@test "16 concurrent clients against inetd mode: every success recorded once, no 5xx" {
	cmd=$(localize "$(sed -n 's/^ExecStart=//p' "$C/systemd/ca-serve-inetd@.service")")
	activate -a --inetd -- $cmd --log-file "$LOG"
	csr svc.test
	for i in $(seq 48); do
		ca-token -d "$CA" --key "$PK" svc.test > t$i
	done
	"$PYTHON" -c '
import json
csr = open("svc.test.csr").read()
for i in range(1, 49):
    json.dump({"csr": csr, "ott": open("t%d" % i).read().strip()}, open("b%d.json" % i, "w"))'
	seq 48 | xargs -P 16 -I{} curl -sS --unix-socket "$SOCK" --cacert "$CA/certs/root_ca.crt" \
		-H 'Content-Type: application/json' --data @b{}.json -o /dev/null -w '%{http_code}\n' \
		https://localhost/sign > codes
	assert_equal "$(grep -c '^201$' codes)" 48
	assert_equal "$(ca-db -d "$CA" list --json | pj 'len([x for x in d if x["provisioner"] == "admin"])')" 48
	run -0 ca-db -d "$CA" check
	run -1 grep ' 5[0-9][0-9] [0-9]' "$LOG"
}

@test "inetd mode renews a cached server certificate past two thirds of its life" {
	cmd=$(localize "$(sed -n 's/^ExecStart=//p' "$C/systemd/ca-serve-inetd@.service")")
	activate -a --inetd -- $cmd --log-file "$LOG"
	run -0 call https://localhost/health
	assert_equal "$(grep -c 'issued the server' "$LOG")" 1
	# Replace the cache with a certificate 20 h into its 24 h: both ends
	# from one clock reading, so that the lifetime is 24 h exactly.
	token localhost --san localhost
	now=$(date -u +%s)
	ca-sign -d "$CA" --token-file localhost.tok --key-out old.key -o old.crt \
		--not-before "$(date -u -d "@$((now - 20 * 3600))" +%Y-%m-%dT%H:%M:%SZ)" \
		--not-after "$(date -u -d "@$((now + 4 * 3600))" +%Y-%m-%dT%H:%M:%SZ)"
	assert_equal "$(lifetime_of old.crt)" 86400
	cat old.key old.crt > "$CA/secrets/ca-serve.pem"
	run -0 call https://localhost/health
	assert_equal "$(grep -c 'issued the server' "$LOG")" 2
	# and the renewed one is what the next connection gets
	run -0 openssl s_client -unix "$SOCK" -servername localhost < /dev/null
	served=$(openssl x509 -noout -serial <<< "$output")
	[ "$served" != "$(openssl x509 -in old.crt -noout -serial)" ]
	assert_equal "$(grep -c 'issued the server' "$LOG")" 2
}

@test "--inetd: a failure at start is logged, not lost" {
	rm "$CA/config/ca.json"
	run -1 ca-serve --inetd -d "$CA" --log-file early.log < /dev/null
	run -0 grep -c "no CA here" early.log
}
