#!/usr/bin/env bats
# ca-serve standalone: the API, its errors and limits, TLS, signals.

load helpers

setup() {
	use_ca
	start_server
	AUD=$URL/1.0/sign
	csr svc.test
}

teardown() {
	stop_server
}

# status/body of the last api call
status_of() { tail -n 1 <<< "$output"; }
body_of() { sed '$d' <<< "$output"; }

@test "health, version, roots, intermediates: at / and at /1.0/" {
	run -0 api /health
	assert_equal "$(body_of)" '{"status":"ok"}'
	assert_equal "$(status_of)" 200
	run -0 api /1.0/health
	assert_equal "$(status_of)" 200
	run -0 api /version
	run -0 pj 'd["version"]' <<< "$(body_of)"
	assert_output 0.1.0
	run -0 api /roots
	body_of | pj 'd["crts"][0]' > roots.pem
	run -0 cmp <(openssl x509 -in roots.pem -outform DER) <(openssl x509 -in "$CA/certs/root_ca.crt" -outform DER)
	run -0 api /1.0/intermediates.pem
	body_of > inter.pem
	run -0 cmp <(openssl x509 -in inter.pem -outform DER) <(openssl x509 -in "$CA/certs/intermediate_ca.crt" -outform DER)
	run -0 curl -sS -I --cacert "$CA/certs/root_ca.crt" "$URL/roots.pem"
	assert_output --partial "Content-Type: application/x-pem-file"
}

@test "GET /root/{sha256}: the root by its fingerprint, 404 for another" {
	run -0 api "/root/$FP"
	body_of | pj 'd["ca"]' > r.pem
	run -0 cmp <(openssl x509 -in r.pem -outform DER) <(openssl x509 -in "$CA/certs/root_ca.crt" -outform DER)
	run -0 api "/1.0/root/${FP^^}"
	assert_equal "$(status_of)" 200
	run -0 api "/root/$(printf '0%.0s' {1..64})"
	assert_equal "$(status_of)" 404
	run -0 pj 'd["status"]' <<< "$(body_of)"
	assert_output 404
}

@test "GET /provisioners pages, and /provisioners/{kid}/encrypted-key" {
	# a second provisioner, picked up by SIGHUP
	edit_config 'p = dict(c["authority"]["provisioners"][0]); p["name"] = "second"; c["authority"]["provisioners"].append(p)'
	kill -HUP "$SERVER_PID"
	for _ in $(seq 50); do grep -q "reloaded" "$SERVER_LOG" && break; sleep 0.1; done
	run -0 api /provisioners
	run -0 pj '[[p["name"] for p in d["provisioners"]], d["nextCursor"]]' <<< "$(body_of)"
	assert_output '[["admin", "second"], ""]'
	run -0 api '/provisioners?limit=1'
	run -0 pj '[[p["name"] for p in d["provisioners"]], d["nextCursor"]]' <<< "$(body_of)"
	assert_output '[["admin"], "1"]'
	run -0 api '/1.0/provisioners?limit=1&cursor=1'
	run -0 pj '[[p["name"] for p in d["provisioners"]], d["nextCursor"]]' <<< "$(body_of)"
	assert_output '[["second"], ""]'
	kid=$(pj 'd["authority"]["provisioners"][0]["key"]["kid"]' < "$CA/config/ca.json")
	run -0 api "/provisioners/$kid/encrypted-key"
	run -0 pj 'd["key"]' <<< "$(body_of)"
	assert_equal "$output" "$(pj 'd["authority"]["provisioners"][0]["encryptedKey"]' < "$CA/config/ca.json")"
	run -0 api /provisioners/nosuchkid/encrypted-key
	assert_equal "$(status_of)" 404
	run -0 api '/provisioners?limit=x'
	assert_equal "$(status_of)" 400
}

@test "POST /sign: 201 with crt, ca and certChain; openssl verifies it; recorded" {
	need_peer cryptography joserfc
	pytok t "$(claims)"
	sign_body t svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /1.0/sign
	assert_equal "$(status_of)" 201
	body_of > resp.json
	pj 'd["crt"] + d["ca"]' < resp.json > chain.pem
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$CA/certs/root_ca.crt" -untrusted chain.pem chain.pem
	run -0 pj 'd["certChain"] == [d["crt"], d["ca"]]' < resp.json
	assert_output true
	serial=$(openssl x509 -in chain.pem -noout -serial | cut -d= -f2)
	run -0 ca-db -d "$CA" show "0x$serial"
	assert_line "provisioner: admin"
	# one log line, with what was issued
	run -0 grep -c "POST /1.0/sign 201 .* serial=${serial,,} subject=\"svc.test\" provisioner=\"admin\"" "$SERVER_LOG"
	assert_output 1
	# notBefore/notAfter in the request
	pytok t "$(claims)"
	sign_body t svc.test.csr 'd["notAfter"] = "1h"' > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 201
	body_of | pj 'd["crt"]' > c.pem
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$CA/certs/root_ca.crt" <(cat c.pem "$CA/certs/intermediate_ca.crt") svc.test
	# 1 h and the minute of backdating, less a second when the server's
	# clock ticked between reading "1h" and signing
	run -0 pj 'd["lifetime_s"]' <<< "$output"
	[ "$output" -eq 3660 ] || [ "$output" -eq 3659 ]
}

@test "POST /sign refusals: 401 replay and bad token, 403 names, 400 bad CSR; the store unchanged" {
	need_peer joserfc
	pytok t "$(claims)"
	sign_body t svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 201
	before=$(store_state)
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 401
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "token already used"
	# audience of the offline CA (another port) is not this server's
	pytok t2 "$(AUD=https://ca.test:1/1.0/sign claims)"
	sign_body t2 svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 401
	csr other.test "DNS:svc.test,DNS:other.test"
	pytok t3 "$(claims)"
	sign_body t3 other.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 403
	echo garbage > bad.csr
	sign_body t3 bad.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 400
	assert_equal "$(store_state)" "$before"
	# the log says why, the client gets the status
	run -0 grep -c 'POST /sign 40[0-9] .* error="' "$SERVER_LOG"
	assert_output 4
}

@test "a token used offline by ca-sign -d is refused by the server: one store, many processes" {
	need_peer joserfc
	# the server also accepts the configured audience, so one token serves both ways
	pytok t "$(AUD=https://ca.test:8443/1.0/sign claims)"
	run -0 ca-sign -d "$CA" --token-file t --csr svc.test.csr
	sign_body t svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 401
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "token already used"
}

@test "malformed requests: bad JSON, wrong types, duplicate keys, missing members -> 400" {
	need_peer joserfc
	pytok t "$(claims)"
	for body in '{"csr": "x", "ott": ' '[]' '{"csr": 1, "ott": "x"}' \
	    '{"csr": "a", "csr": "b", "ott": "x"}' '{"ott": "x"}' '{"csr":"x","ott":"y"} trailing' \
	    '{"csr":"x","ott":"y","notAfter":"tomorrow"}'; do
		run -0 api -H 'Content-Type: application/json' --data "$body" /sign
		assert_equal "$(status_of)" 400
		run -0 pj 'd["status"]' <<< "$(body_of)"
		assert_output 400
	done
}

@test "404 unknown path, 405 wrong method with Allow, 415 wrong content type" {
	run -0 api /nope
	assert_equal "$(status_of)" 404
	run -0 api /1.0/sign
	assert_equal "$(status_of)" 405
	run -0 curl -sS -o /dev/null -D - --cacert "$CA/certs/root_ca.crt" "$URL/sign"
	assert_output --partial "Allow: POST"
	run -0 api -X POST --data x /health
	assert_equal "$(status_of)" 405
	run -0 api -X DELETE /roots
	assert_equal "$(status_of)" 405
	run -0 api -H 'Content-Type: text/plain' --data '{}' /sign
	assert_equal "$(status_of)" 415
}

@test "413 for a body over the limit: with Content-Length, and chunked" {
	head -c 70000 /dev/zero | tr '\0' a > big
	run -0 api -H 'Content-Type: application/json' -H 'Expect: 100-continue' --data-binary @big /sign
	assert_equal "$(status_of)" 413
	run -0 api -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @big /sign
	assert_equal "$(status_of)" 413
	# the server goes on
	run -0 api /health
	assert_equal "$(status_of)" 200
}

@test "431 for a header block over the limit" {
	run -0 api -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" /health
	assert_equal "$(status_of)" 431
}

@test "TLS: 1.3 and 1.2 with ECDHE and AEAD; older versions and CBC refused; the chain is sent" {
	run -0 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -tls1_3 \
		-CAfile "$CA/certs/root_ca.crt" -verify_return_error -showcerts < /dev/null
	assert_output --partial "TLSv1.3"
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' <<< "$output")" 2
	# client certificates are requested (for renewal), not required
	assert_output --partial "Acceptable client certificate CA names"
	assert_output --partial "CN = Test Root CA"
	run -0 openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -CAfile "$CA/certs/root_ca.crt" -verify_return_error < /dev/null
	assert_output --regexp "Cipher is ECDHE-ECDSA-(AES..*-GCM|CHACHA20-POLY1305)"
	run ! openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 < /dev/null
	run ! openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA < /dev/null
	# gnutls-cli exits 1 when the server closes after answering (HTTP/1.0)
	run gnutls-cli --x509cafile "$CA/certs/root_ca.crt" -p "$PORT" localhost \
		<<< $'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n'
	assert_output --partial "(TLS1.3"
	assert_output --partial '{"status":"ok"}'
	refute_output --partial "Error in the certificate"
	# the server's certificate is the CA's, for its names, recorded as internal
	run -0 ca-db -d "$CA" list
	assert_line --regexp "	ca-serve	CN=ca.test	ca.test,localhost	-	-	-	-	[^	]*$"
	run -0 api /health
}

@test "the server's own certificate lives 24 h, as step-ca's, whatever defaultTLSCertDuration says" {
	stop_server
	edit_config 'c["authority"].setdefault("claims", {})["defaultTLSCertDuration"] = "1h"'
	rm -f "$CA/secrets/ca-serve.pem"
	start_server
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
		-CAfile "$CA/certs/root_ca.crt" -verify_return_error < /dev/null 2>/dev/null |
		openssl x509 > served.crt
	# 24 h (notAfter inclusive) and the minute of backdating
	assert_equal "$(lifetime_of served.crt)" 86459
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$CA/certs/intermediate_ca.crt" served.crt
	# while a leaf gets the default duration, 1 h
	token leaf.test
	ca-sign -d "$CA" --token-file leaf.test.tok --key-out leaf.key > leaf.crt
	local life
	life=$(lifetime_of leaf.crt)
	[ "$life" -eq 3659 ] || [ "$life" -eq 3658 ]
}

@test "handshake failures and clients that vanish do not hurt the server" {
	need_peer joserfc
	local pids=()
	for _ in 1 2 3; do
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -quiet >/dev/null 2>&1 3>&- &
		pids+=($!)
		head -c 300 /dev/urandom > noise
		timeout 2 bash -c "cat noise > /dev/tcp/127.0.0.1/$PORT" || true
		printf 'GET /health HTTP/1.1\r\n\r\n' > plain
		timeout 2 bash -c "cat plain > /dev/tcp/127.0.0.1/$PORT" || true
	done
	wait "${pids[@]}" || true
	pytok t "$(claims)"
	sign_body t svc.test.csr > body.json
	# a client that sends the request and leaves before the answer
	curl -sS --cacert "$CA/certs/root_ca.crt" -H 'Content-Type: application/json' --data @body.json \
		--max-time 0.001 "$URL/sign" > /dev/null 2>&1 || true
	run -0 api /health
	assert_equal "$(status_of)" 200
	run -0 ca-db -d "$CA" check
}

@test "a silent client is dropped after the idle timeout, a slow one at the deadline" {
	stop_server
	start_server --idle-timeout 1s --deadline 2s
	run -0 "$PYTHON" - "$PORT" "$CA/certs/root_ca.crt" <<'PY'
import socket, ssl, sys, time
port, root = int(sys.argv[1]), sys.argv[2]
# silent: TCP connect, no TLS
s = socket.create_connection(("127.0.0.1", port))
t = time.monotonic()
s.settimeout(10)
assert s.recv(100) in (b"",) or True
silent = time.monotonic() - t
# slow: TLS, then one header byte every 0.3 s
ctx = ssl.create_default_context(cafile=root)
c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
t = time.monotonic()
req = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 100
try:
    for b in req:
        c.send(bytes([b]))
        time.sleep(0.3)
    slow = None
except OSError:
    slow = time.monotonic() - t
print("%.1f %s" % (silent, "%.1f" % slow if slow is not None else "never"))
PY
	read -r silent slow <<< "$output"
	[[ $slow != never ]] || fail "the slow client was never dropped"
	awk -v s="$silent" 'BEGIN { exit !(s >= 0.8 && s < 4) }' || fail "silent client dropped after $silent s"
	awk -v s="$slow" 'BEGIN { exit !(s >= 1.5 && s < 5) }' || fail "slow client dropped after $slow s"
	run -0 api /health
}

@test "keep-alive: many requests on one connection" {
	run -0 curl -sS --cacert "$CA/certs/root_ca.crt" -o /dev/null -o /dev/null -o /dev/null \
		-w '%{num_connects}\n' "$URL/health" "$URL/roots" "$URL/version"
	assert_equal "$(echo "$output" | paste -sd' ')" "1 0 0"
}

@test "SIGTERM finishes the request in progress and exits 0" {
	run -0 api /health
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID"
	SERVER_PID=
	run -0 grep -c "signal 15" "$SERVER_LOG"
	run ! curl -sS --cacert "$CA/certs/root_ca.crt" "$URL/health"
}

@test "64 concurrent clients: every success recorded once, no 5xx" {
	# offline tokens carry the configured audience, which the server accepts too
	for i in $(seq 256); do
		ca-token -d "$CA" --key "$PK" svc.test > t$i
	done
	"$PYTHON" -c '
import json
csr = open("svc.test.csr").read()
for i in range(1, 257):
    json.dump({"csr": csr, "ott": open("t%d" % i).read().strip()}, open("b%d.json" % i, "w"))' 
	seq 256 | xargs -P 64 -I{} curl -sS --cacert "$CA/certs/root_ca.crt" \
		-H 'Content-Type: application/json' --data @b{}.json -o r{}.json \
		-w '%{http_code}\n' "$URL/sign" > codes
	assert_equal "$(grep -c '^201$' codes)" 256
	assert_equal "$(ca-db -d "$CA" list --json | pj 'len([x for x in d if x["provisioner"] == "admin"])')" 256
	run -0 ca-db -d "$CA" check
	run -0 grep -c 'POST /sign 201 ' "$SERVER_LOG"
	assert_output 256
	run -1 grep ' 5[0-9][0-9] [0-9]' "$SERVER_LOG"
}

@test "SIGHUP reloads ca.json without dropping a keep-alive connection" {
	run -0 "$PYTHON" - "$PORT" "$CA/certs/root_ca.crt" "$SERVER_PID" "$CA/config/ca.json" "$SERVER_LOG" <<'PY'
import http.client, json, os, signal, ssl, sys, time
port, root, pid, conf, log = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=root)
h = http.client.HTTPSConnection("localhost", port, context=ctx)
def names():
    h.request("GET", "/provisioners")
    r = h.getresponse()
    return [p["name"] for p in json.loads(r.read())["provisioners"]]
before = names()
sock = h.sock
c = json.load(open(conf))
p = dict(c["authority"]["provisioners"][0]); p["name"] = "added"
c["authority"]["provisioners"].append(p)
open(conf, "w").write(json.dumps(c))
os.kill(pid, signal.SIGHUP)
for _ in range(50):
    if "reloaded" in open(log).read():
        break
    time.sleep(0.1)
after = names()
print(before, after, "same connection" if h.sock is sock else "reconnected")
PY
	assert_output "['admin'] ['admin', 'added'] same connection"
}

@test "a broken ca.json on SIGHUP keeps the old configuration" {
	echo '{"broken": ' > "$CA/config/ca.json"
	kill -HUP "$SERVER_PID"
	for _ in $(seq 50); do grep -q "reload failed" "$SERVER_LOG" && break; sleep 0.1; done
	run -0 grep -c "reload failed, keeping the old configuration" "$SERVER_LOG"
	run -0 api /provisioners
	assert_equal "$(status_of)" 200
}

@test "several --listen, IPv4 and IPv6, each port on --ready-fd" {
	stop_server
	[ -n "$(ip -6 addr show lo 2>/dev/null)" ] || skip "no IPv6 on loopback"
	mkfifo ready2
	ca-serve -d "$CA" --listen 127.0.0.1:0 --listen '[::1]:0' --ready-fd 3 --log-file s2.log 3>ready2 &
	SERVER_PID=$!
	mapfile -t ports < ready2
	assert_equal "${#ports[@]}" 2
	run -0 curl -sS --cacert "$CA/certs/root_ca.crt" "https://localhost:${ports[0]}/health"
	run -0 curl -sS --cacert "$CA/certs/root_ca.crt" --resolve "localhost:${ports[1]}:::1" "https://localhost:${ports[1]}/health"
	assert_output '{"status":"ok"}'
}

@test "usage errors: --inetd with --listen, bad numbers and durations" {
	run -2 ca-serve -d "$CA" --inetd --listen 127.0.0.1:0
	assert_output "ca-serve: --inetd excludes --listen, --insecure-listen and --ready-fd (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --threads 0
	assert_output "ca-serve: --threads: '0' is not a number from 1 to 64 (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --deadline 0s
	assert_output "ca-serve: --deadline: from 1s to 1h (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --idle-timeout 2h
	assert_output "ca-serve: --idle-timeout: from 1s to 1h (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --max-body 10
	assert_output "ca-serve: --max-body: '10' is not a number from 1024 to 16777216 (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --ready-fd 2
	assert_output "ca-serve: --ready-fd: '2' is not a number from 3 to 65535 (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --log-file a --log-file b
	assert_output "ca-serve: option --log-file given more than once (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --privsep --privsep
	assert_output "ca-serve: option --privsep given more than once (see ca-serve --help)"
	args=()
	for _ in $(seq 17); do args+=(--listen 127.0.0.1:0); done
	run -2 ca-serve -d "$CA" "${args[@]}"
	assert_output "ca-serve: at most 16 --listen (see ca-serve --help)"
	run -2 ca-serve -d "$CA" --inetd extra
	assert_output "ca-serve: unexpected argument 'extra' (see ca-serve --help)"
	run -1 --separate-stderr ca-serve -d "$CA" --listen 256.0.0.1:0
	[[ $stderr == "ca-serve: --listen 256.0.0.1:0: "* ]]
}

@test "--ready-fd: a descriptor that is not open is refused before anything starts" {
	stop_server
	run -1 ca-serve -d "$CA" --listen 127.0.0.1:0 --ready-fd 200 --log-file s.log
	assert_output "ca-serve: --ready-fd 200: Bad file descriptor"
	# refused before the log was opened
	[ ! -e s.log ] || fail "s.log: $(cat s.log)"
}

@test "an explicit :443 and all of up to 16 listening ports count in token audiences" {
	need_peer joserfc
	stop_server
	mkfifo r16
	args=()
	for _ in $(seq 16); do args+=(--listen 127.0.0.1:0); done
	ca-serve -d "$CA" "${args[@]}" --ready-fd 3 --log-file s16.log 3>r16 &
	SERVER_PID=$!
	mapfile -t ports < r16
	assert_equal "${#ports[@]}" 16
	URL=https://localhost:${ports[15]}
	pytok t "$(AUD=$URL/1.0/sign claims)"
	sign_body t svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 201
	# the configured port written out as :8443, and 443 implied or explicit
	edit_config 'c["address"] = ":443"'
	kill -HUP "$SERVER_PID"
	for _ in $(seq 50); do grep -q "reloaded" s16.log && break; sleep 0.1; done
	for aud in https://localhost:443/1.0/sign https://localhost/1.0/sign; do
		pytok t "$(AUD=$aud claims)"
		sign_body t svc.test.csr > body.json
		run -0 api -H 'Content-Type: application/json' --data @body.json /sign
		assert_equal "$(status_of)" 201
	done
}

@test "log fields are quoted with their quotes escaped" {
	run -0 api -H 'Content-Type: application/json' --data '{}' /sign
	assert_equal "$(status_of)" 400
	run -0 grep -F 'error="request: missing \"csr\""' "$SERVER_LOG"
}

@test "the log escapes what the client sent: one line per request, none forged" {
	# a URL that would write a line of its own, as sent and as decoded
	printf 'GET /x%%0a2026-01-01T00:00:00Z%%20ca-serve[1]:%%20127.0.0.1:1%%20POST%%20/sign%%20201%%0d%%1b[2J\r\x1b[31m\xff\xc3\xa9"\\ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		raw_request > out
	run -0 head -n 1 out
	assert_output "HTTP/1.1 400 Bad Request"
	# client text in an error message: the kid of /provisioners/{kid}/encrypted-key
	run -0 api -g '/provisioners/a%0a2026-01-01T00:00:00Z%20ca-serve[1]:%1b[2J/encrypted-key'
	assert_equal "$(status_of)" 404
	stop_server
	run -0 grep -c ' GET /x%0a2026-01-01T00:00:00Z%20ca-serve\[1\]:%20127.0.0.1:1%20POST%20/sign%20201%0d%1b\[2J\\x0d\\x1b\[31m\\xff\\xc3\\xa9\\"\\\\ 400 ' "$SERVER_LOG"
	assert_output 1
	run -0 grep -c -F 'error="no provisioner with an encrypted key has kid a\x0a2026-01-01T00:00:00Z ca-serve[1]:\x1b[2J"' "$SERVER_LOG"
	assert_output 1
	run -1 grep -c 'POST /sign 201' "$SERVER_LOG"
	# every line is printable ASCII and starts with a time stamp
	run -1 grep -c -P '[^\x20-\x7e]' "$SERVER_LOG"
	run -1 grep -c -v '^20[0-9-]*T[0-9:]*Z ca-serve\[[0-9]*\]: ' "$SERVER_LOG"
}

# framing_refused MESSAGE: the raw request on stdin gets one answer, 400 with
# MESSAGE, and the connection is closed: nothing sent after it is answered.
framing_refused() {
	raw_request > out
	run -0 grep -c '^HTTP/1' out
	assert_output 1
	run -0 head -n 1 out
	assert_output "HTTP/1.1 400 Bad Request"
	run -0 grep -c -F "\"message\":\"$1\"" out
	run -0 tail -n 1 out
	assert_output "[closed]"
}

@test "HTTP framing: ambiguous body lengths are 400, the connection closed, a smuggled request not answered" {
	smuggled=$'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
	printf 'POST /sign HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s' "$smuggled" |
		framing_refused "Content-Length and Transfer-Encoding together"
	printf 'POST /sign HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 43\r\n\r\n{}%s' "$smuggled" |
		framing_refused "more than one Content-Length"
	# answered at once, not after the idle timeout (raw_request waits 3 s for more)
	printf 'POST /sign HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n{}' |
		framing_refused "Transfer-Encoding other than chunked"
	printf 'POST /sign HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n%s' "$smuggled" |
		framing_refused "Transfer-Encoding other than chunked"
	printf 'POST /sign HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n%s' "$smuggled" |
		framing_refused "Transfer-Encoding in an HTTP/1.0 request"
	# a chunked body alone is fine (answered, here 400 for the empty request)
	printf 'POST /sign HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n' |
		raw_request > out
	run -0 grep -c -F '"message":"request: missing \"csr\""' out
	run -0 grep -c 'POST /sign 400 .* error="Content-Length and Transfer-Encoding together"' "$SERVER_LOG"
	run -0 api /health
	assert_equal "$(status_of)" 200
}

@test "HTTP requests: one valid Host, no NUL or space in the URL, no bad header names or folding" {
	printf 'GET /health HTTP/1.1\r\n\r\n' | framing_refused "HTTP/1.1 request without Host"
	printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.test\r\n\r\n' | framing_refused "more than one Host"
	printf 'GET /health HTTP/1.1\r\nHost: local host\r\n\r\n' | framing_refused "invalid Host"
	printf 'GET /health%%00 HTTP/1.1\r\nHost: localhost\r\n\r\n' | framing_refused "NUL in the URL"
	printf 'GET /1.0/health%%00.json HTTP/1.1\r\nHost: localhost\r\n\r\n' | framing_refused "NUL in the URL"
	printf 'GET /health\0x HTTP/1.1\r\nHost: localhost\r\n\r\n' | framing_refused "NUL in the URL"
	printf 'GET /health x HTTP/1.1\r\nHost: localhost\r\n\r\n' | framing_refused "space or control character in the URL"
	printf 'GET /health\x1b HTTP/1.1\r\nHost: localhost\r\n\r\n' | framing_refused "space or control character in the URL"
	printf 'GET /health HTTP/1.1\r\nHost : localhost\r\n\r\n' | framing_refused "invalid header name"
	printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-A\x01: 1\r\n\r\n' | framing_refused "invalid header name"
	printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n' | framing_refused "obsolete line folding"
	# libmicrohttpd appends a folded line to the header's name
	printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n\tContent-Length: 5\r\n\r\n' | framing_refused "invalid header name"
	printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-A: a\x01b\r\n\r\n' | framing_refused "control character in a header value"
	# what is sound still works: HTTP/1.0 without Host, an IPv6 Host with a port
	printf 'GET /health HTTP/1.0\r\n\r\n' | raw_request > out
	run -0 head -n 1 out
	assert_output "HTTP/1.1 200 OK"
	printf 'GET /health?x=%%41 HTTP/1.1\r\nHost: [::1]:%s\r\nConnection: close\r\n\r\n' "$PORT" | raw_request > out
	run -0 head -n 1 out
	assert_output "HTTP/1.1 200 OK"
}

@test "past RLIMIT_FSIZE a /sign that grows the store is a 500 naming the file; the server keeps serving" {
	local size i code= writer
	size=$(stat -c %s "$CA/db/ca.gdbm")
	# the process that writes the store: the signer with privilege separation
	writer=$(signer_of "$SERVER_PID") || writer=$SERVER_PID
	# the soft limit only: root may lack CAP_SYS_RESOURCE to raise a hard one
	run -0 prlimit --pid "$writer" --fsize="$size:"
	# a few records fit in the file's free blocks; then one must grow it
	for i in $(seq 40); do
		pytok t "$(claims)"
		sign_body t svc.test.csr > body.json
		run -0 api -H 'Content-Type: application/json' --data @body.json /sign
		code=$(status_of)
		[ "$code" = 201 ] || break
	done
	assert_equal "$code" 500
	kill -0 "$SERVER_PID"
	run -0 grep -c 'POST /sign 500 .* error=".*/ca\.gdbm: .*File too large"$' "$SERVER_LOG"
	assert_output 1
	run -0 api /health
	assert_equal "$(status_of)" 200
	run -0 prlimit --pid "$writer" --fsize=unlimited:
	pytok t "$(claims)"
	sign_body t svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 201
	run -0 ca-db -d "$CA" check
	assert_output --partial ", 0 problems"
	# a client past its own limit: one line naming its output file
	pytok t "$(claims)"
	echo old > out.pem
	run -1 bash -c 'ulimit -f 0; exec "$@"' _ ca-sign --ca-url "$URL" \
		--root "$CA/certs/root_ca.crt" --token-file t --csr svc.test.csr -o out.pem
	assert_output "ca-sign: out.pem: file too large (file size limit)"
	assert_equal "$(cat out.pem)" old
	assert_equal "$(ls -A | grep -c tmp)" 0
}

@test "a request waiting for the store is answered, not cut at the deadline" {
	need_peer joserfc
	stop_server
	start_server --deadline 1s
	AUD=$URL/1.0/sign
	pytok t "$(claims)"
	sign_body t svc.test.csr > body.json
	flock -o "$CA/db/lock" sleep 3 3>&- &
	holder=$!
	for _ in $(seq 50); do flock -n "$CA/db/lock" true || break; sleep 0.1; done
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 201
	wait "$holder"
}

# a certificate (svc.crt, svc.key) issued offline, for the lifecycle tests
issue_svc() {
	rm -f svc.key svc.crt
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.crt
	SVC_SERIAL=$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
}

# x5c_token KEY CERT AUD [PYTHON]: a renew token signed by the certificate's key
x5c_token() {
	"$PYTHON" - "$@" <<'PY'
import base64, json, secrets, sys, time, warnings
warnings.simplefilter("ignore")
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jws
from joserfc.jwk import ECKey
key, crt, aud = sys.argv[1:4]
certs = x509.load_pem_x509_certificates(open(crt, "rb").read())
now = int(time.time())
claims = {"aud": aud, "sub": "svc.test", "iat": now, "nbf": now, "exp": now + 300,
          "jti": secrets.token_hex(32)}
if len(sys.argv) > 4:
    exec(sys.argv[4])
hdr = {"alg": "ES256", "typ": "JWT",
       "x5c": [base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in certs]}
print(jws.serialize_compact(hdr, json.dumps(claims).encode(), ECKey.import_key(open(key).read()),
                            algorithms=["ES256"]))
PY
}

@test "POST /revoke with a revoke token: 200, listed as revoked; twice 400, unknown 404, another serial 403" {
	issue_svc
	ca-token -d "$CA" --key "$PK" --revoke "0x$SVC_SERIAL" > rt
	before=$(store_state)
	run -0 api -H 'Content-Type: application/json' \
		--data "{\"serial\":\"12345\",\"ott\":\"$(cat rt)\",\"reasonCode\":1}" /1.0/revoke
	assert_equal "$(status_of)" 403
	assert_equal "$(store_state)" "$before"
	dec=$("$PYTHON" -c "print(int('$SVC_SERIAL', 16))")
	run -0 api -H 'Content-Type: application/json' \
		--data "{\"serial\":\"$dec\",\"ott\":\"$(cat rt)\",\"reasonCode\":1,\"reason\":\"laptop lost\",\"passive\":true}" /1.0/revoke
	assert_equal "$(status_of)" 200
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^${SVC_SERIAL,,}	.*	revoked	admin	CN=svc.test	svc.test	[0-9T:Z-]+	keyCompromise	-	-	[^	]*$"
	run -0 ca-db -d "$CA" show "0x$SVC_SERIAL"
	assert_line "reason-text: laptop lost"
	before=$(store_state)
	ca-token -d "$CA" --key "$PK" --revoke "0x$SVC_SERIAL" > rt2
	run -0 api -H 'Content-Type: application/json' \
		--data "{\"serial\":\"0x$SVC_SERIAL\",\"ott\":\"$(cat rt2)\"}" /revoke
	assert_equal "$(status_of)" 400
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "already revoked"
	ca-token -d "$CA" --key "$PK" --revoke 0x4242 > rt3
	run -0 api -H 'Content-Type: application/json' \
		--data '{"serial":"0x4242","ott":"'"$(cat rt3)"'"}' /revoke
	assert_equal "$(status_of)" 404
	# a sign token cannot revoke
	run -0 api -H 'Content-Type: application/json' \
		--data "{\"serial\":\"0x4242\",\"ott\":\"$(cat svc.test.tok)\"}" /revoke
	assert_equal "$(status_of)" 401
	assert_equal "$(store_state)" "$before"
}

@test "POST /revoke over mutual TLS: a certificate revokes itself, not another" {
	issue_svc
	cp svc.crt a.crt; cp svc.key a.key
	issue_svc
	before=$(store_state)
	run -0 api --cert a.crt --key a.key -H 'Content-Type: application/json' \
		--data "{\"serial\":\"0x$SVC_SERIAL\"}" /revoke
	assert_equal "$(status_of)" 403
	run -0 api -H 'Content-Type: application/json' --data "{\"serial\":\"0x$SVC_SERIAL\"}" /revoke
	assert_equal "$(status_of)" 401
	assert_equal "$(store_state)" "$before"
	run -0 api --cert svc.crt --key svc.key -H 'Content-Type: application/json' \
		--data "{\"serial\":\"0x$SVC_SERIAL\",\"reasonCode\":4}" /revoke
	assert_equal "$(status_of)" 200
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^${SVC_SERIAL,,}	.*	revoked	.*	superseded	-	-	[^	]*$"
}

@test "POST /renew over mutual TLS: same names, key and lifetime, new serial; refused once revoked" {
	issue_svc
	run -0 api --cert svc.crt --key svc.key -X POST /1.0/renew
	assert_equal "$(status_of)" 201
	body_of | pj 'd["crt"] + d["ca"]' > new.pem
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$CA/certs/root_ca.crt" -untrusted new.pem new.pem
	new_serial=$(openssl x509 -in new.pem -noout -serial | cut -d= -f2)
	[ "$new_serial" != "$SVC_SERIAL" ]
	run -0 cmp <(openssl x509 -in new.pem -noout -pubkey) <(openssl x509 -in svc.crt -noout -pubkey)
	assert_equal "$(openssl x509 -in new.pem -noout -ext subjectAltName | tail -1)" \
		"$(openssl x509 -in svc.crt -noout -ext subjectAltName | tail -1)"
	life() { echo $(( $(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s) - $(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s) )); }
	assert_equal "$(life new.pem)" "$(life svc.crt)"
	run -0 ca-db -d "$CA" show "0x$new_serial"
	assert_line "renewed-from: ${SVC_SERIAL,,}"
	# no client certificate: 401
	run -0 api -X POST /renew
	assert_equal "$(status_of)" 401
	# revoked: never renewed again
	run -0 api --cert svc.crt --key svc.key -H 'Content-Type: application/json' \
		--data "{\"serial\":\"0x$SVC_SERIAL\"}" /revoke
	assert_equal "$(status_of)" 200
	before=$(store_state)
	run -0 api --cert svc.crt --key svc.key -X POST /renew
	assert_equal "$(status_of)" 401
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "is revoked"
	assert_equal "$(store_state)" "$before"
	run -0 ca-db -d "$CA" check
}

@test "POST /rekey with a CSR: a new key; POST /renew with an x5c Bearer token" {
	need_peer cryptography joserfc
	issue_svc
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k2 -subj /CN=x -out k2.csr 2>/dev/null
	run -0 api --cert svc.crt --key svc.key -H 'Content-Type: application/json' \
		--data "$("$PYTHON" -c 'import json; print(json.dumps({"csr": open("k2.csr").read()}))')" /rekey
	assert_equal "$(status_of)" 201
	body_of | pj 'd["crt"]' > rekeyed.pem
	run -0 cmp <(openssl x509 -in rekeyed.pem -noout -pubkey) <(openssl pkey -in k2 -pubout)
	run -0 openssl x509 -in rekeyed.pem -noout -subject
	assert_output "subject=CN = svc.test"
	# Bearer: the token signed by the certificate's key, its chain in x5c
	cat svc.crt > chain.pem
	x5c_token svc.key chain.pem "$URL/1.0/renew" > x5c.tok
	run -0 api -H "Authorization: Bearer $(cat x5c.tok)" -X POST /renew
	assert_equal "$(status_of)" 201
	# single use
	run -0 api -H "Authorization: Bearer $(cat x5c.tok)" -X POST /renew
	assert_equal "$(status_of)" 401
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "token already used"
	# signed by another key, or for another audience: refused
	x5c_token k2 chain.pem "$URL/1.0/renew" > bad.tok || true
	run -0 api -H "Authorization: Bearer $(cat bad.tok)" -X POST /renew
	assert_equal "$(status_of)" 401
	x5c_token svc.key chain.pem "https://elsewhere.test/1.0/renew" > aud.tok
	run -0 api -H "Authorization: Bearer $(cat aud.tok)" -X POST /renew
	assert_equal "$(status_of)" 401
}

@test "POST /sign and /rekey: a CSR against the key policy is 400 naming the rule, the token not spent" {
	pytok t "$(claims)"
	before=$(store_state)
	sign_body t "$CA_FIXTURES/goodkey-rsa-e3.csr" > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 400
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output "CSR key: RSA public exponent 3, only 65537 accepted"
	sign_body t "$CA_FIXTURES/goodkey-sha1.csr" > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 400
	assert_equal "$(store_state)" "$before"
	# the token is still good
	sign_body t svc.test.csr > body.json
	run -0 api -H 'Content-Type: application/json' --data @body.json /sign
	assert_equal "$(status_of)" 201
	# a renewal with a new key follows the same rules
	issue_svc
	before=$(store_state)
	run -0 api --cert svc.crt --key svc.key -H 'Content-Type: application/json' \
		--data "$("$PYTHON" -c 'import json, sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$CA_FIXTURES/goodkey-rsa-close.csr")" /rekey
	assert_equal "$(status_of)" 400
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output "CSR key: RSA modulus factors by Fermat's method (its primes are too close)"
	assert_equal "$(store_state)" "$before"
}

@test "renewal rules: disableRenewal, and expiry with and without allowRenewalAfterExpiry" {
	need_peer cryptography joserfc
	edit_config 'c["authority"]["claims"]["minTLSCertDuration"] = "1m"'
	kill -HUP "$SERVER_PID"
	for _ in $(seq 50); do grep -q "reloaded" "$SERVER_LOG" && break; sleep 0.1; done
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out old.key -o old.crt \
		--not-before "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)" \
		--not-after "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
	cat old.crt > oldchain.pem
	x5c_token old.key oldchain.pem "$URL/1.0/renew" > t1
	run -0 api -H "Authorization: Bearer $(cat t1)" -X POST /renew
	assert_equal "$(status_of)" 401
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "has expired"
	edit_config 'c["authority"]["claims"]["allowRenewalAfterExpiry"] = True'
	kill -HUP "$SERVER_PID"
	for _ in $(seq 50); do [ "$(grep -c reloaded "$SERVER_LOG")" -ge 2 ] && break; sleep 0.1; done
	x5c_token old.key oldchain.pem "$URL/1.0/renew" > t2
	run -0 api -H "Authorization: Bearer $(cat t2)" -X POST /renew
	assert_equal "$(status_of)" 201
	edit_config 'c["authority"]["claims"]["disableRenewal"] = True'
	kill -HUP "$SERVER_PID"
	for _ in $(seq 50); do [ "$(grep -c reloaded "$SERVER_LOG")" -ge 3 ] && break; sleep 0.1; done
	issue_svc
	run -0 api --cert svc.crt --key svc.key -X POST /renew
	assert_equal "$(status_of)" 401
	run -0 pj 'd["message"]' <<< "$(body_of)"
	assert_output --partial "does not allow renewal"
}
