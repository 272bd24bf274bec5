#!/usr/bin/env bats
# A step-ca user's state: every member step-ca reads in ca.json is
# supported, refused (exit 1, one line naming it) or ignored with one
# warning line (the table in ca-state(5)); step's key files; step's tokens.
#
# fixtures/step-ca.json is ca.json as `step ca init` writes it (written by
# hand from smallstep/certificates pki/pki.go GenerateConfig): absolute
# paths under $STEPPATH, a badger database, step's default TLS settings.

load helpers

setup() {
	use_ca
	csr svc.test
}

teardown() {
	stop_server
}

# The fixture with this test's paths and provisioner.
step_config() {
	"$PYTHON" - "$CA_FIXTURES/step-ca.json" "$CA" <<'PY' > "$CA/config/ca.json.new"
import json, sys
t = open(sys.argv[1]).read()
c = json.load(open(sys.argv[2] + "/config/ca.json"))
p = c["authority"]["provisioners"][0]
t = t.replace("@STEPPATH@", sys.argv[2]).replace("@JWK@", json.dumps(p["key"]))
print(t.replace("@ENCRYPTED_KEY@", p["encryptedKey"]), end="")
PY
	mv "$CA/config/ca.json.new" "$CA/config/ca.json"
}

@test "ca.json as step ca init writes it loads, with one warning for tls" {
	step_config
	run -1 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" "ca-db: $CA/config/ca.json: db.type \"badgerv2\" is not supported (gdbm)"
	# The database cannot be read here: the user moves to gdbm.
	edit_config 'c["db"] = {"type": "gdbm", "dataSource": "db", "badgerFileLoadingMode": ""}'
	token svc.test
	run -0 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr
	assert_equal "$stderr" "ca-sign: warning: $CA/config/ca.json: ignored here (see ca-state(5)): tls"
	[[ $output == "-----BEGIN CERTIFICATE-----"* ]] || fail "no certificate: $output"
}

# Each member that changes what is issued or who may ask stops every tool.
@test "members that change issuance are refused, each by its name" {
	local cases=(
		'c["authority"]["policy"] = {"x509": {"allow": {"ips": ["10.0.0.0/8"]}}}|authority.policy.x509.allow.ips'
		'c["authority"]["policy"] = {"x509s": {}}|authority.policy.x509s'
		'c["authority"]["provisioners"][0]["policy"] = {"x509": {"deny": {"dns": ["a.*.test"]}}}|authority.provisioners[0].policy.x509.deny.dns[0]'
		'c["authority"]["template"] = {"organization": "X"}|authority.template'
		'c["authority"]["provisioners"][0]["options"] = {"x509": {"template": "{{"}}|authority.provisioners[0].options.x509'
		'c["authority"]["provisioners"][0]["options"] = {"x509": {"templateFile": "t.tpl"}}|authority.provisioners[0].options.x509.templateFile'
		'c["authority"]["provisioners"][0]["options"] = {"x509": {"templateData": {"a": 1}}}|authority.provisioners[0].options.x509.templateData'
		'c["authority"]["provisioners"][0]["options"] = {"webhooks": [{"name": "w"}]}|authority.provisioners[0].options.webhooks'
		'c["kms"] = {"type": "pkcs11"}|kms'
		'c["ssh"] = {"hostKey": "h", "userKey": "u"}|ssh'
		'c["federatedRoots"] = ["other.crt"]|federatedRoots'
		'c["authority"]["backdate"] = "1h0m1s"|authority.backdate'
		'c["authority"]["backdate"] = "-1m"|authority.backdate'
		'c["authority"]["enableAdmin"] = True|authority.enableAdmin'
		'c["authority"]["type"] = "cloudcas"|authority.type'
		'c["crl"] = {"enabled": True, "idpURL": "http://x.test/crl"}|crl.idpURL'
		'c["authority"]["provisioners"].append({"type": "Magic", "name": "m"})|authority.provisioners[1].type'
		'c["authority"]["claims"]["maxTLSCertDurations"] = "1h"|authority.claims.maxTLSCertDurations'
		'c["authority"]["provisioners"][0]["claim"] = {}|authority.provisioners[0].claim'
		'c["authorities"] = {}|authorities'
	)
	local case edit name
	for case in "${cases[@]}"; do
		edit=${case%|*} name=${case##*|}
		cp "$CA/config/ca.json" ca.json.orig
		edit_config "$edit"
		run -1 --separate-stderr ca-db -d "$CA" list
		assert_output ""
		[[ $stderr == "ca-db: $CA/config/ca.json: $name: "* ]] || fail "$name: $stderr"
		assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
		cp ca.json.orig "$CA/config/ca.json"
	done
	# ca-serve too, before it listens.
	edit_config 'c["authority"]["policy"] = {"x509": {"deny": {"dns": ["a.*.test"]}}}'
	run -1 --separate-stderr ca-serve -d "$CA" --listen 127.0.0.1:0
	[[ $stderr == "ca-serve: $CA/config/ca.json: authority.policy.x509.deny.dns[0]: "* ]] || fail "$stderr"
}

@test "unset members are accepted silently: null, false, empty" {
	edit_config '
c["kms"] = None; c["federatedRoots"] = []; c["authority"]["policy"] = {}
c["authority"]["enableAdmin"] = False; c["authority"]["backdate"] = "1m0s"
c["authority"]["provisioners"][0]["options"] = {"x509": {"template": ""}}
c["crl"] = {"enabled": True, "cacheDuration": "1h"}
c["authority"]["disableIssuedAtCheck"] = True'
	run -0 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" ""
}

@test "members that change nothing issued: one warning line, in the log too" {
	edit_config '
c["logger"] = {"format": "json"}; c["monitoring"] = {"newrelic": {}}
c["commonName"] = "Step Online CA"; c["password"] = "x"
c["authority"]["claims"]["enableSSHCA"] = True
c["authority"]["provisioners"].append({"type": "AWS", "name": "aws"})
c["crl"] = {"enabled": False}'
	run -0 --separate-stderr ca-db -d "$CA" list
	assert_equal "$stderr" "ca-db: warning: $CA/config/ca.json: ignored here (see ca-state(5)): logger, authority.claims.enableSSHCA, authority.provisioners[1] (type AWS, not served), monitoring, commonName, password, crl.enabled"
	start_server
	run -0 grep -c 'warning: .*ignored here (see ca-state(5)): logger, ' "$SERVER_LOG"
	assert_output 1
}

# step writes its keys as SEC 1 PEM with OpenSSL's legacy encryption
# (pemutil: Proc-Type: 4,ENCRYPTED, DEK-Info: AES-256-CBC); openssl ec
# -aes256 writes the same format.
@test "step's legacy encrypted EC keys: the CA signs with them" {
	local k
	for k in intermediate_ca_key root_ca_key; do
		openssl pkey -in "$CA/secrets/$k" -passin file:"$PW" |
			openssl ec -aes256 -passout file:"$PW" -out "$k.step" 2>/dev/null
		run -0 head -3 "$k.step"
		assert_line -n 0 "-----BEGIN EC PRIVATE KEY-----"
		assert_line -n 1 "Proc-Type: 4,ENCRYPTED"
		assert_line -n 2 --regexp '^DEK-Info: AES-256-CBC,[0-9A-F]{32}$'
		install -m 600 "$k.step" "$CA/secrets/$k"
	done
	step_config
	edit_config 'c["db"] = {"type": "gdbm", "dataSource": "db"}; del c["tls"]'
	token svc.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr
	assert_equal "$stderr" "ca-sign: $CA/secrets/intermediate_ca_key: the intermediate key is encrypted: give --password-file"
	printf 'wrong\n' > wrong.pw
	run -1 --separate-stderr ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --password-file wrong.pw
	assert_equal "$stderr" "ca-sign: $CA/secrets/intermediate_ca_key: wrong password"
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr --password-file "$PW" > chain.pem
	openssl verify -CAfile "$CA/certs/root_ca.crt" -untrusted "$CA/certs/intermediate_ca.crt" chain.pem
	# The root key step wrote is the root certificate's.
	assert_equal "$(openssl pkey -in "$CA/secrets/root_ca_key" -passin file:"$PW" -pubout)" \
		"$(openssl x509 -in "$CA/certs/root_ca.crt" -noout -pubkey)"
}

@test "GET /provisioners redacts a SCEP provisioner's secrets as step-ca does" {
	# A SCEP provisioner that loads: its decrypter in tests/fixtures/scep.
	edit_config '
import base64, os
b = lambda n: base64.b64encode(open(os.environ["CA_FIXTURES"] + "/scep/" + n, "rb").read()).decode()
c["authority"]["provisioners"].append({"type": "SCEP", "name": "scep",
    "challenge": "s3cret-challenge", "decrypterKeyPassword": "s3cret-pw",
    "decrypterKeyPEM": b("ra-rsa.key"), "decrypterCertificate": b("ra-rsa.pem"),
    "capabilities": ["GetCACert"]})
c["authority"]["provisioners"].append({"type": "AWS", "name": "aws",
    "options": {"webhooks": [{"name": "w", "url": "https://w.test",
    "secret": "s3cret-hook"}]}})'
	start_server
	run -0 api /provisioners
	assert_line -n 1 200
	refute_output --partial s3cret
	printf '%s\n' "${lines[0]}" > list.json
	run -0 pj 'd["provisioners"][1]' < list.json
	assert_output '{"type": "SCEP", "name": "scep", "challenge": "*** REDACTED ***", "decrypterKeyPassword": "*** REDACTED ***", "decrypterKeyPEM": "KioqIFJFREFDVEVEICoqKg==", "decrypterCertificate": "KioqIFJFREFDVEVEICoqKg==", "capabilities": ["GetCACert"], "decrypterKey": "*** REDACTED ***"}'
	run -0 pj 'd["provisioners"][2]["options"]' < list.json
	assert_output '{"webhooks": [{"name": "w", "url": "https://w.test"}]}'
	# The JWK provisioner is as ca.json has it, encryptedKey included.
	run -0 pj "d['provisioners'][0] == json.load(open('$CA/config/ca.json'))['authority']['provisioners'][0]" < list.json
	assert_output true
}

# step ca token --offline writes aud https://HOST/1.0/sign or /sign without
# the port; step-ca strips ports before comparing (authority.matchesAudience).
@test "step's offline audiences without a port are accepted on a CA not on 443" {
	need_peer joserfc
	local aud
	for aud in https://ca.test/sign https://ca.test/1.0/sign https://localhost/sign; do
		pytok t "$(AUD=$aud claims)"
		run -0 ca-sign -d "$CA" --token-file t --csr svc.test.csr
	done
	# A port, when there is one, must still be the CA's.
	pytok t "$(AUD=https://ca.test:9999/sign claims)"
	run -1 --separate-stderr ca-sign -d "$CA" --token-file t --csr svc.test.csr
	[[ $stderr == *audience* ]] || fail "$stderr"
	pytok t "$(AUD=https://other.test/sign claims)"
	run -1 --separate-stderr ca-sign -d "$CA" --token-file t --csr svc.test.csr
	[[ $stderr == *audience* ]] || fail "$stderr"
}

# step_renew_token CERT KEY AUD [PYTHON on d]: the token `step ca renew`
# sends without mutual TLS (smallstep/cli command/ca/renew.go
# RenewWithToken): header x5cInsecure, kid, typ JWT; claims aud, exp, iat,
# iss step-ca-client/1.0, nbf, sub (the CN), no jti.
step_renew_token() {
	local claims header
	claims=$("$PYTHON" -c '
import json, sys, time
now = int(time.time())
d = {"aud": sys.argv[1], "exp": now + 300, "iat": now,
     "iss": "step-ca-client/1.0", "nbf": now, "sub": "svc.test"}
exec(sys.argv[2])
print(json.dumps(d))' "$3" "${4:-pass}")
	header=$("$PYTHON" -c '
import base64, json, re, sys
pems = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END", open(sys.argv[1]).read(), re.S)
print(json.dumps({"x5cInsecure": ["".join(p.split()) for p in pems]}))' "$1")
	"$PYTHON" "$CA_TOP_SRCDIR/tests/jwt.py" sign "$2" "$claims" "$header"
}

renew_with() {
	api -X POST -H "Authorization: Bearer $(cat "$1")" /renew
}

@test "step's renew token renews, once per certificate and iat; sub must be the CN" {
	need_peer joserfc
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key > svc.crt
	start_server
	step_renew_token svc.crt svc.key "$URL/renew" > r.tok
	run -0 jws_part r.tok 0
	run -0 pj 'sorted(d)' <<< "$output"
	assert_output '["alg", "kid", "typ", "x5cInsecure"]'
	run -0 renew_with r.tok
	assert_line -n -1 201
	# The same token again, and another one with the same iat: used.
	run -0 renew_with r.tok
	assert_line -n -1 401
	local iat
	iat=$(jws_part r.tok 1 | pj 'd["iat"]')
	step_renew_token svc.crt svc.key "$URL/renew" "d['iat'] = $iat; d['exp'] -= 1" > r2.tok
	run -0 renew_with r2.tok
	assert_line -n -1 401
	run -0 grep -c 'token already used' "$SERVER_LOG"
	assert_output 2
	# Another iat is another token; a sub that is not the CN is refused.
	step_renew_token svc.crt svc.key "$URL/1.0/renew" "d['iat'] = $iat - 1" > r3.tok
	run -0 renew_with r3.tok
	assert_line -n -1 201
	# Neither is a token without iat, or with an issuer step-ca refuses.
	local edit
	for edit in 'd["sub"] = "other.test"' 'd["iss"] = "someone"' 'del d["iat"]'; do
		step_renew_token svc.crt svc.key "$URL/renew" "$edit" > r4.tok
		run -0 renew_with r4.tok
		assert_line -n -1 401
	done
	run -0 ca-db -d "$CA" check
}

@test "ca-renew --no-mtls sends step's renew token shape" {
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key > svc.crt
	token localhost
	ca-sign -d "$CA" --token-file localhost.tok --key-out stub.key > stub.crt
	echo '{}' > any.json
	echo record > mode
	mkfifo stub.fifo
	"$PYTHON" "$CA_TOP_SRCDIR/tests/ra-stub.py" 1 "$PWD/mode" fd:3 \
		stub.crt stub.key any.json 3>stub.fifo &
	STUB_PID=$!
	# the stub writes its port once it listens (EOF if it dies first)
	read -r port < stub.fifo || true
	[ -n "$port" ] || fail "ra-stub.py did not start"
	echo "$port" > stub.port
	run ca-renew --ca-url "https://localhost:$(cat stub.port)" \
		--root "$CA/certs/root_ca.crt" --force --no-mtls svc.crt svc.key
	kill "$STUB_PID"; wait "$STUB_PID" || true
	run -0 pj 'd["authorization"]' < mode.requests
	[[ $output == "Bearer "* ]] || fail "$output"
	printf '%s\n' "${output#Bearer }" > sent.tok
	run -0 jws_part sent.tok 0
	run -0 pj '[sorted(d), len(d["x5cInsecure"])]' <<< "$output"
	assert_output '[["alg", "kid", "typ", "x5cInsecure"], 2]'
	run -0 jws_part sent.tok 1
	run -0 pj '[sorted(d), d["iss"], d["sub"], d["aud"]]' <<< "$output"
	assert_output "[[\"aud\", \"exp\", \"iat\", \"iss\", \"nbf\", \"sub\"], \"step-ca-client/1.0\", \"svc.test\", \"https://localhost:$(cat stub.port)/1.0/renew\"]"
}

# cnf_of CSR: the x5rt#S256 step puts in a token's cnf claim for a CSR
# (smallstep/certificates csrFingerprintValidator: SHA-256 of its DER),
# then the RFC 7638 thumbprint of its key, as joserfc computes it.
cnf_of() {
	openssl req -in "$1" -outform DER -out csr.der
	openssl req -in "$1" -noout -pubkey > csr.pub
	"$PYTHON" -c '
import base64, hashlib, sys
from joserfc.jwk import ECKey
d = hashlib.sha256(open("csr.der", "rb").read()).digest()
print(base64.urlsafe_b64encode(d).rstrip(b"=").decode())
print(ECKey.import_key(open("csr.pub").read()).thumbprint())'
}

@test "a token's cnf (x5rt#S256 or kid) signs only the CSR it names" {
	need_peer joserfc
	local x5rt kid before
	cp svc.test.csr a.csr
	csr svc.test
	{ read -r x5rt; read -r kid; } < <(cnf_of a.csr)
	before=$(store_state)
	# Another CSR for the same names: refused, the token not spent.
	pytok t "$(claims "d['cnf'] = {'x5rt#S256': '$x5rt'}")"
	run -1 --separate-stderr ca-sign -d "$CA" --token-file t --csr svc.test.csr
	assert_equal "$stderr" "ca-sign: the CSR's fingerprint is not the token's cnf x5rt#S256"
	assert_equal "$(store_state)" "$before"
	run -0 ca-sign -d "$CA" --token-file t --csr a.csr
	pytok t "$(claims "d['cnf'] = {'kid': '$kid'}")"
	run -1 --separate-stderr ca-sign -d "$CA" --token-file t --csr svc.test.csr
	assert_equal "$stderr" "ca-sign: the CSR's key is not the token's cnf kid"
	run -0 ca-sign -d "$CA" --token-file t --csr a.csr
	# No CSR (the CA makes the key), or a method this CA cannot check.
	pytok t "$(claims "d['cnf'] = {'x5rt#S256': '$x5rt'}")"
	run -1 --separate-stderr ca-sign -d "$CA" --token-file t --key-out k.pem
	assert_equal "$stderr" "ca-sign: the token's cnf binds it to a CSR: send that CSR"
	pytok t "$(claims "d['cnf'] = {'jkt': '$kid'}")"
	run -1 --separate-stderr ca-sign -d "$CA" --token-file t --csr a.csr
	[[ $stderr == *'confirmation method "jkt" is not supported'* ]] || fail "$stderr"
	assert_equal "$(issued)" 2
}
