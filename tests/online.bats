#!/usr/bin/env bats
# The online clients against a real ca-serve: ca-bootstrap, ca-token and
# ca-sign with --ca-url and --root.

load helpers

# start_server and stop_server (helpers.bash) run ca-serve for $CA on
# 127.0.0.1, port 0, and set $PORT, $URL (https://localhost:$PORT) and
# $SERVER_PID; the CA's dnsNames are ca.test and localhost.
setup() {
	use_ca
	ROOT=$CA/certs/root_ca.crt
	# The clients honour proxies as libcurl does; these tests talk to
	# 127.0.0.1 directly.
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	SERVER_PID=
	RELAY_PID=
}

teardown() {
	[ -z "$RELAY_PID" ] || kill "$RELAY_PID" 2>/dev/null || true
	stop_server
}

# A token from the server: online_token SUBJECT [ca-token options...] > SUBJECT.tok
online_token() {
	local sub=$1
	shift
	ca-token --ca-url "$URL" --root "$ROOT" --password-file "$PW" "$@" "$sub" > "$sub.tok"
}

# The DER of the first certificate of a PEM file, in hex (to compare).
der_of() {
	openssl x509 -in "$1" -outform DER | od -An -tx1 | tr -d ' \n'
}

@test "ca-bootstrap: the right fingerprint fetches the CA's root" {
	start_server
	run -0 --separate-stderr ca-bootstrap --ca-url "$URL" --fingerprint "$FP" -o root.pem
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(stat -c %a root.pem)" 644
	run -0 cmp root.pem "$CA/certs/root_ca.crt"
	# upper case with colons, the URL with a trailing slash, to stdout
	fpc=$(sed 's/../&:/g; s/:$//' <<< "${FP^^}")
	run -0 --separate-stderr ca-bootstrap --ca-url "$URL/" --fingerprint "$fpc"
	assert_equal "$output" "$(cat "$CA/certs/root_ca.crt")"
	# what openssl computes from the file is the fingerprint asked for
	run -0 openssl x509 -in root.pem -noout -fingerprint -sha256
	assert_equal "${output#*=}" "$fpc"
}

@test "ca-bootstrap: a wrong fingerprint writes nothing and fails" {
	start_server
	other=$(printf '%s' "$FP" | tr '0-9a-f' '1-9a-f0')
	run -1 --separate-stderr ca-bootstrap --ca-url "$URL" --fingerprint "$other" -o root.pem
	assert_output ""
	assert_regex "$stderr" '^ca-bootstrap: root fingerprint mismatch'
	assert_equal "$(wc -l <<< "$stderr")" 1
	assert_file_not_exists root.pem
	run -0 find . -maxdepth 1 -name 'root.pem*'
	assert_output ""
	# usage errors
	run -2 --separate-stderr ca-bootstrap --ca-url "$URL" --fingerprint abc
	assert_regex "$stderr" '^ca-bootstrap: .*fingerprint.*\(see ca-bootstrap --help\)$'
	run -2 --separate-stderr ca-bootstrap --ca-url "http://localhost:$PORT" --fingerprint "$FP"
	assert_regex "$stderr" 'not an https:// URL'
	run -2 ca-bootstrap --fingerprint "$FP"
}

@test "ca-bootstrap: a server that relays the right root but is not of that CA is refused" {
	# A machine in the middle: it answers /root/FP with the CA's root,
	# but its TLS certificate is from another CA.
	printf 'other-password\n' > opw
	ca-init -d other --name Other --dns localhost --provisioner admin \
	    --password-file opw --unencrypted-intermediate-key \
	    --provisioner-key-out other.json -q > /dev/null
	ca-token -d other --key other.json localhost > mitm.tok
	ca-sign -d other --token-file mitm.tok --key-out mitm.key > mitm.crt
	mkfifo ready
	"$PYTHON" - "$CA/certs/root_ca.crt" mitm.crt mitm.key 3>ready >/dev/null 2>mitm.log <<'PY' &
import json, os, ssl, sys
from http.server import HTTPServer, BaseHTTPRequestHandler
root = open(sys.argv[1]).read()
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ca": root} if self.path.startswith("/root/")
                          else {"crts": [root]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
os.write(3, b"%d\n" % srv.server_address[1])
os.close(3)
srv.serve_forever()
PY
	RELAY_PID=$!
	read -r -t 20 port < ready || true
	[[ $port =~ ^[0-9]+$ ]] || fail "the relay did not start: $(cat mitm.log)"
	run -1 --separate-stderr ca-bootstrap --ca-url "https://localhost:$port" --fingerprint "$FP" -o root.pem
	assert_output ""
	assert_equal "$stderr" "ca-bootstrap: https://localhost:$port: server certificate not trusted by the root $FP (server certificate verification failed)"
	assert_file_not_exists root.pem
}

@test "ca-token --ca-url: the provisioner from the server, aud the URL, sha the root" {
	need_peer joserfc
	start_server
	run -0 --separate-stderr online_token svc.test --san svc.test --san 192.0.2.7
	assert_equal "$stderr" ""
	# verified by joserfc with the provisioner's public key from ca.json
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" verify "$CA/config/ca.json" svc.test.tok
	echo "$output" > v
	run -0 pj 'd["claims"]["aud"]' < v
	assert_output "$URL/1.0/sign"
	run -0 pj 'd["claims"]["sha"]' < v
	assert_output "$FP"
	run -0 pj '[d["claims"]["iss"], d["claims"]["sub"], d["claims"]["sans"], d["header"]["kid"]]' < v
	assert_output "[\"admin\", \"svc.test\", [\"svc.test\", \"192.0.2.7\"], \"$(pj 'd["authority"]["provisioners"][0]["key"]["kid"]' < "$CA/config/ca.json")\"]"
	# a trailing slash does not reach the audience; --revoke changes the path
	ca-token --ca-url "$URL/" --root "$ROOT" --key "$PK" --revoke 1234 > r.tok
	run -0 jws_part r.tok 1
	run -0 pj 'd["aud"]' <<< "$output"
	assert_output "$URL/1.0/revoke"
}

@test "ca-token --ca-url: --key must be the provisioner's; names and passwords checked" {
	start_server
	run -0 ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" k.test
	printf 'not the password\n' > bad
	run -1 --separate-stderr ca-token --ca-url "$URL" --root "$ROOT" --password-file bad k.test
	assert_equal "$stderr" 'ca-token: wrong password for provisioner "admin"'
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null
	chmod 600 other.key
	run -1 --separate-stderr ca-token --ca-url "$URL" --root "$ROOT" --key other.key k.test
	assert_equal "$stderr" "ca-token: that key is not provisioner \"admin\"'s key"
	run -1 --separate-stderr ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" --provisioner nobody k.test
	assert_equal "$stderr" 'ca-token: the CA has no provisioner "nobody"'
}

@test "ca-token --ca-url: several JWK provisioners must be named, as offline" {
	edit_config 'p = dict(c["authority"]["provisioners"][0]); p["name"] = "second"; c["authority"]["provisioners"].append(p)'
	start_server
	run -1 --separate-stderr ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" k.test
	assert_output ""
	assert_equal "$stderr" 'ca-token: the CA has 2 JWK provisioners: name one with --provisioner'
	run -0 online_token k.test --provisioner second
}

@test "ca-sign --ca-url --csr: issued, verified by openssl, recorded in the CA" {
	start_server
	csr svc.test "DNS:svc.test"
	online_token svc.test
	run -0 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" \
	    --token-file svc.test.tok --csr svc.test.csr
	assert_equal "$stderr" ""
	echo "$output" > chain.pem
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' chain.pem)" 2
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" -untrusted chain.pem chain.pem
	awk '/BEGIN/{n++} n==2' chain.pem > second.pem
	assert_equal "$(der_of second.pem)" "$(der_of "$CA/certs/intermediate_ca.crt")"
	run -0 cmp <(openssl x509 -in chain.pem -noout -pubkey) <(openssl pkey -in svc.test.key -pubout)
	serial=$(openssl x509 -in chain.pem -noout -serial | cut -d= -f2 | tr A-F a-f | sed 's/^0*//')
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^0*$serial[[:space:]].*CN=svc.test"
	# a DER CSR is sent as PEM
	openssl req -in svc.test.csr -outform DER -out svc.der
	online_token svc.test
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --csr svc.der -o der.pem
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" -untrusted der.pem der.pem
}

@test "ca-sign --ca-url --key-out: the key made here, written 0600 after the answer" {
	need_peer cryptography
	start_server
	online_token web.test --san web.test --san 192.0.2.1 --not-after 10m
	run -0 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" \
	    --token-file - --key-out web.key --not-after 2h < web.test.tok
	assert_equal "$stderr" ""
	echo "$output" > chain.pem
	assert_equal "$(stat -c %a web.key)" 600
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" -untrusted chain.pem chain.pem
	run -0 cmp <(openssl x509 -in chain.pem -noout -pubkey) <(openssl pkey -in web.key -pubout)
	run -0 openssl pkey -in web.key -noout -text
	assert_output --partial "prime256v1"
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/certcheck.py" "$ROOT" chain.pem 192.0.2.1
	run -0 pj '[d["dns"], d["ip"], d["cn"], 7240 <= d["lifetime_s"] <= 7280]' <<< "$output"
	assert_output '[["web.test"], ["192.0.2.1"], ["web.test"], true]'
	run -0 ca-db -d "$CA" list
	assert_line --partial web.test
	# --key-type
	online_token ed.test
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file ed.test.tok \
	    --key-out ed.key --key-type ed25519 -o ed.pem
	run -0 openssl pkey -in ed.key -noout -text
	assert_output --partial "ED25519"
	run -0 openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" -untrusted ed.pem ed.pem
}

@test "ca-sign --ca-url: an existing --key-out is refused before the token is spent" {
	start_server
	online_token k.test
	touch k.key
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" --token-file k.test.tok --key-out k.key
	assert_equal "$stderr" "ca-sign: k.key: already exists"
	rm k.key
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file k.test.tok --key-out k.key -o k.pem
	assert_file_exists k.key
}

@test "a replayed token is refused by the server with its message" {
	start_server
	online_token svc.test
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --key-out a.key -o a.pem
	before=$(issued)
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --key-out b.key
	assert_output ""
	assert_regex "$stderr" '^ca-sign: CA refused: .*used.* \(HTTP 401\)$'
	assert_equal "$(wc -l <<< "$stderr")" 1
	assert_file_not_exists b.key
	assert_equal "$(issued)" "$before"
}

@test "a token spent offline by ca-sign -d is refused online" {
	token svc.test
	run -0 ca-sign -d "$CA" --token-file svc.test.tok --key-out off.key -o off.pem
	start_server
	before=$(issued)
	csr svc.test
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --csr svc.test.csr
	assert_output ""
	assert_regex "$stderr" '^ca-sign: CA refused: .*used.* \(HTTP 401\)$'
	assert_equal "$(issued)" "$before"
}

@test "--root of another CA: TLS fails, exit 1, nothing reaches the server" {
	printf 'other-password\n' > opw
	ca-init -d other --name Other --dns other.test --provisioner admin \
	    --password-file opw -q > /dev/null
	start_server
	before=$(issued)
	online_token svc.test
	csr svc.test
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root other/certs/root_ca.crt \
	    --token-file svc.test.tok --csr svc.test.csr
	assert_output ""
	assert_regex "$stderr" "^ca-sign: $URL: server certificate not trusted by other/certs/root_ca.crt"
	assert_equal "$(wc -l <<< "$stderr")" 1
	run -1 --separate-stderr ca-token --ca-url "$URL" --root other/certs/root_ca.crt --key "$PK" x.test
	assert_regex "$stderr" "not trusted by other/certs/root_ca.crt"
	# the token was not spent: it still works with the right root
	assert_equal "$(issued)" "$before"
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --csr svc.test.csr -o ok.pem
	assert_equal "$(issued)" "$((before + 1))"
	# an address the server's certificate does not name (its dnsNames
	# are ca.test and localhost)
	run -1 --separate-stderr ca-token --ca-url "https://127.0.0.1:$PORT" --root "$ROOT" --key "$PK" x.test
	assert_regex "$stderr" "^ca-token: https://127.0.0.1:$PORT: server certificate not trusted by "
}

@test "no server: exit 4, worth retrying; the token is not spent" {
	# a token for the configured address, which every ca-serve of this
	# CA accepts whatever port it listens on
	token svc.test
	start_server
	stop_server
	run -4 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --key-out k.key
	assert_output ""
	assert_regex "$stderr" "^ca-sign: cannot reach the CA at $URL: "
	assert_equal "$(wc -l <<< "$stderr")" 1
	assert_file_not_exists k.key
	run -4 ca-token --ca-url "$URL" --root "$ROOT" --key "$PK" x.test
	run -4 ca-bootstrap --ca-url "$URL" --fingerprint "$FP"
	start_server
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file svc.test.tok --key-out k.key -o k.pem
}

@test "usage: -d and --ca-url exclude each other, --ca-url needs --root" {
	run -2 --separate-stderr ca-sign -d "$CA" --ca-url https://localhost:1 --root "$CA/certs/root_ca.crt" --token-file t --csr c
	assert_equal "$stderr" "ca-sign: --state-dir and --ca-url exclude each other (see ca-sign --help)"
	run -2 --separate-stderr ca-token -d "$CA" --ca-url https://localhost:1 --root "$CA/certs/root_ca.crt" --key "$PK" x.test
	assert_equal "$stderr" "ca-token: --state-dir and --ca-url exclude each other (see ca-token --help)"
	run -2 --separate-stderr ca-sign --ca-url https://localhost:1 --token-file t --csr c
	assert_equal "$stderr" "ca-sign: --ca-url needs --root (see ca-sign --help)"
	run -2 ca-token --root "$CA/certs/root_ca.crt" --key "$PK" x.test
	run -2 ca-sign --ca-url http://localhost:1 --root "$CA/certs/root_ca.crt" --token-file t --csr c
	run -2 ca-sign --ca-url https://localhost:1 --root "$CA/certs/root_ca.crt" --token-file t --csr c --password-file "$PW"
	run -2 --separate-stderr ca-sign -d "$CA" --token-file t --key-out k --key-type ec-p384
	assert_regex "$stderr" '^ca-sign: --key-type needs --ca-url and --key-out'
	run -2 ca-sign --ca-url https://localhost:1 --root "$CA/certs/root_ca.crt" --token-file t --key-out k --key-type dsa
}

# many_sans N NAME: NAME.csr with N DNS names h1.t ... hN.t (CN h1.t)
many_sans() {
	{
		printf '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=@alt\n[alt]\n'
		seq 1 "$1" | awk '{ printf "DNS.%d=h%d.t\n", $1, $1 }'
	} > "$2.cnf"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$2.key" -subj /CN=h1.t -config "$2.cnf" -reqexts ext \
		-out "$2.csr" 2>/dev/null
}

@test "a CSR with more SANs than caTools.maxSANs: 400 naming count and limit, fast, token unspent" {
	many_sans 4000 big
	many_sans 3 three
	start_server
	online_token h1.t --san h1.t --san h2.t --san h3.t
	local t0=$EPOCHREALTIME
	run -1 --separate-stderr ca-sign --ca-url "$URL" --root "$ROOT" \
		--token-file h1.t.tok --csr big.csr
	# Refused before the names are parsed: well under a second (the
	# quadratic parse took about a minute of CPU).
	[ "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print (b - a < 5) }')" = 1 ]
	assert_output ""
	assert_equal "$stderr" "ca-sign: CA refused: CSR has 4000 subject alternative names: at most 100 allowed (HTTP 400)"
	# The token was not spent: it pays for the CSR with its three names.
	run -0 ca-sign --ca-url "$URL" --root "$ROOT" --token-file h1.t.tok \
		--csr three.csr -o three.pem
	assert_equal "$(openssl x509 -in three.pem -noout -ext subjectAltName | tail -n 1 | sed 's/^ *//')" \
		"DNS:h1.t, DNS:h2.t, DNS:h3.t"
	stop_server
	# caTools.maxSANs lowers the limit.
	edit_config 'c.setdefault("caTools", {})["maxSANs"] = 2'
	token h1.t --san h1.t --san h2.t --san h3.t
	run -1 --separate-stderr ca-sign -d "$CA" --token-file h1.t.tok --csr three.csr
	assert_equal "$stderr" "ca-sign: CSR has 3 subject alternative names: at most 2 allowed"
	edit_config 'c["caTools"]["maxSANs"] = 0'
	run -1 --separate-stderr ca-sign -d "$CA" --token-file h1.t.tok --csr three.csr
	assert_output ""
	[[ $stderr == *"caTools.maxSANs must be 1 to 1000"* ]]
}
