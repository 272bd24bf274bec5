#!/usr/bin/env bats
# authz-matrix.bats - the GHSA-h8cp matrix (DESIGN13 section 5): endpoint
# x credential x provisioner type, end to end through ca-serve. Exactly the
# cells marked ok succeed; every refused cell also leaves the store as it
# was (no certificate recorded, no token spent: its bytes unchanged).
# tests/unit/test-authz.c is the structural half (which verifier runs).
#
# The table. Cells: ok = 200/201 and one new certificate (revoke: the
# serial listed as revoked); a code = that status, store unchanged;
# "-" = not applicable; 400* = a token is no pkiMessage: 400 before
# anything is decrypted (the scep row sends a JWK token there; every token
# takes the same path). Every provisioner type has its rows.
#
#   row            credential                   sign  revoke renew rekey ACME          SCEP
#   jwk-sign       JWK token, aud /1.0/sign     ok    401    401   401   400 (no JWS)  400*
#   jwk-revoke     JWK token, aud /1.0/revoke   401   ok     401   401   400           400*
#   acme-jws       ACME account JWS (kid)       401   401    401   401   ok (newOrder) 400*
#   ghsa           JWK-shaped, iss/aud#fragment 401   -      -     -     -             -
#                  naming ACME/SCEP/X5C/OIDC/K8sSA
#   mtls           client certificate, no token 400   ok own 200   200   -             -
#   x5c-sign       X5C token, aud sign#x5c/x5c  ok    401    401   401   400           400*
#   x5c-revoke     X5C token, aud revoke, sub   401   ok     401   401   400           400*
#   oidc-user      OIDC ID token (alice)        ok/1  403    401   401   400           400*
#   oidc-admin     OIDC ID token (admin)        ok    403    401   401   400           400*
#   k8s-legacy     K8sSA legacy token           ok/1  403    401   401   400           400*
#   k8s-projected  K8sSA projected, aud sign    ok    403    401   401   400           400*
#   k8s-wrong-aud  K8sSA projected, aud k8s     401   401    401   401   400           400*
#   scep           SCEP PKCSReq (certmonger's)  400   400    400   400   400           ok/1
#   x5c-insecure   x5cInsecure renew token      401   401    ok    ok    -             -

load helpers
load oidc-helpers

# One CA and one ca-serve for the file (each row counts and compares what
# it changed): provisioners "admin" (JWK), "acme" (ACME), "scep" (SCEP).
setup_file() {
	make_template_ca
	CA=$BATS_FILE_TMPDIR/ca
	cp -a "$BATS_FILE_TMPDIR/template/ca" "$CA"
	PK=$BATS_FILE_TMPDIR/template/prov.json
	FP=$(cat "$BATS_FILE_TMPDIR/template/fp")
	edit_config '
c["authority"]["provisioners"].append({"type": "ACME", "name": "acme"})
import base64, os
f = os.environ["CA_FIXTURES"] + "/scep/"
b = lambda n: base64.b64encode(open(f + n, "rb").read()).decode()
c["authority"]["provisioners"].append({"type": "SCEP", "name": "scep",
    "challenge": "x", "decrypterCertificate": b("ra-rsa.pem"),
    "decrypterKeyPEM": b("ra-rsa.key")})'
	# X5C "x5c": the roots of an unrelated CA made here with openssl, and
	# its leaf x5c.crt (key x5c.key) that signs X5C tokens.
	(
		cd "$BATS_FILE_TMPDIR"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout x5c-root.key -subj /CN=X5C-Root -days 2 -out x5c-root.crt \
			-addext keyUsage=critical,keyCertSign 2>/dev/null
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout x5c.key -subj /CN=device -out x5c.csr 2>/dev/null
		openssl x509 -req -in x5c.csr -CA x5c-root.crt -CAkey x5c-root.key -days 1 \
			-extfile <(echo keyUsage=critical,digitalSignature) -out x5c.crt 2>/dev/null
	) && ca-provisioner -d "$CA" add x5c --type X5C --x5c-roots "$BATS_FILE_TMPDIR/x5c-root.crt" || return 1
	# K8sSA "k8s": the cluster's key, as tests/npm/k8s-token.mjs reads it.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$BATS_FILE_TMPDIR/sa.key" &&
		openssl pkey -in "$BATS_FILE_TMPDIR/sa.key" -pubout -out "$BATS_FILE_TMPDIR/sa.pub" &&
		echo ES256 > "$BATS_FILE_TMPDIR/sa.alg" &&
		ca-provisioner -d "$CA" add k8s --type K8sSA --public-key "$BATS_FILE_TMPDIR/sa.pub" ||
		return 1
	# OIDC rows: the npm provider, provisioner "oidc" (admin root@example.com).
	if have_oidc_peer; then
		start_oidc_peer
		edit_config "c['authority']['provisioners'].append($(oidc_provisioner oidc \
			'"admins": ["root@example.com"]'))"
		mkdir "$BATS_FILE_TMPDIR/oidc"
		idtokens "$BATS_FILE_TMPDIR/oidc" alice root
	fi
	local fifo=$BATS_FILE_TMPDIR/ready.fifo
	SERVER_LOG=$BATS_FILE_TMPDIR/serve.log
	mkfifo "$fifo"
	ca-serve -d "$CA" --listen 127.0.0.1:0 --ready-fd 3 --log-file "$SERVER_LOG" 3>"$fifo" &
	SERVER_PID=$!
	read -r PORT < "$fifo" || true
	[ -n "$PORT" ] || { cat "$SERVER_LOG" >&2; return 1; }
	URL=https://localhost:$PORT
	export CA PK FP SERVER_LOG SERVER_PID PORT URL
	(cd "$BATS_FILE_TMPDIR" && csr svc.test)
}

teardown_file() {
	stop_server
	stop_oidc_peer
}

setup() {
	need_peer joserfc cryptography
	cd "$BATS_TEST_TMPDIR"
	AUD=$URL/1.0/sign
	cp "$BATS_FILE_TMPDIR"/svc.test.* .
	BASE=$(issued)
}

# Certificates issued since setup.
new_certs() { echo $(($(issued) - BASE)); }

status_of() { tail -n 1 <<< "$output"; }

# cell WANT [api arguments...]: the request's status is WANT (a regexp);
# unless it is 2xx, the store is byte for byte as it was.
cell() {
	local want=$1 before
	shift
	before=$(store_state)
	run -0 api "$@"
	[[ $(status_of) =~ ^($want)$ ]] ||
		fail "${*: -1}: status $(status_of), want $want: $output"
	if [[ ! $want =~ ^2 ]]; then
		assert_equal "$(store_state)" "$before"
	fi
}

# bodies TOKEN-FILE...: for each, TOKEN-FILE.sign (a /sign body with
# svc.test.csr) and TOKEN-FILE.revoke (a /revoke body for serial 0x4242,
# or $SERIAL); and rekey.json (svc.test.csr alone). One python run.
bodies() {
	"$PYTHON" - "${SERIAL:-0x4242}" "$@" <<'PY'
import json, sys
csr = open("svc.test.csr").read()
open("rekey.json", "w").write(json.dumps({"csr": csr}))
for t in sys.argv[2:]:
    ott = open(t).read().strip()
    open(t + ".sign", "w").write(json.dumps({"csr": csr, "ott": ott}))
    open(t + ".revoke", "w").write(json.dumps({"serial": sys.argv[1], "ott": ott}))
PY
}

JSON=(-H 'Content-Type: application/json')

# The token endpoints for credential file $1 but the one it is for ($2).
refused_elsewhere() {
	local t=$1 skip=${2:-}
	[ "$skip" = sign ] || cell 401 "${JSON[@]}" --data @"$t.sign" /1.0/sign
	[ "$skip" = revoke ] || cell 401 "${JSON[@]}" --data @"$t.revoke" /1.0/revoke
	cell 401 -H "Authorization: Bearer $(cat "$t")" -X POST /1.0/renew
	cell 401 -H "Authorization: Bearer $(cat "$t")" "${JSON[@]}" \
		--data @rekey.json /1.0/rekey
	# At the ACME provisioner's newOrder: not even a JWS there.
	cell '400|401' -H 'Content-Type: application/jose+json' --data @"$t" \
		/acme/acme/new-order
}

@test "matrix row jwk-sign: ok at sign only; refused at revoke, renew, rekey, ACME" {
	token svc.test
	bodies svc.test.tok
	refused_elsewhere svc.test.tok sign
	cell 201 "${JSON[@]}" --data @svc.test.tok.sign /1.0/sign
	assert_equal "$(new_certs)" 1
	# One-time: the same token again is refused, nothing more recorded.
	cell 401 "${JSON[@]}" --data @svc.test.tok.sign /1.0/sign
	assert_equal "$(new_certs)" 1
	run -0 ca-db -d "$CA" check
}

# A certificate from "admin" (svc.crt), its serial in SERIAL.
issue_one() {
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --csr svc.test.csr -o svc.crt
	SERIAL=0x$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
}

# revoke_row TOKEN-FILE: a revoke token for $SERIAL (its bodies made) is
# refused at the other endpoints and revokes it at /1.0/revoke.
revoke_row() {
	local hex=${SERIAL#0x}
	refused_elsewhere "$1" revoke
	cell 200 "${JSON[@]}" --data @"$1.revoke" /1.0/revoke
	run -0 ca-db -d "$CA" list
	assert_line --regexp "^${hex,,}	.*	revoked	admin	"
	assert_equal "$(new_certs)" 1
	run -0 ca-db -d "$CA" check
}

@test "matrix row jwk-revoke: ok at revoke only" {
	issue_one
	ca-token -d "$CA" --key "$PK" --revoke "$SERIAL" > rt
	bodies rt
	revoke_row rt
}

@test "matrix row acme-jws: an ACME account's JWS is refused at every token endpoint, ok at its newOrder" {
	local dir=$URL/acme/acme/directory
	mkdir a1
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/acme-b.py" "$dir" "$CA/certs/root_ca.crt" a1 account
	[[ $output == "{\"status\": 201, "* ]] || fail "$output"
	# The same account key and kid, as a compact JWS in token position.
	"$PYTHON" - a1 "$URL" > acme.tok <<'PY'
import json, sys
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter
reg = jws.JWSRegistry(header_registry={"nonce": HeaderParameter("nonce", "str"),
                                       "url": HeaderParameter("url", "str")})
st, url = sys.argv[1:3]
key = ECKey.import_key(open(st + "/key.pem", "rb").read())
hdr = {"alg": "ES256", "kid": open(st + "/kid").read().strip(), "nonce": "x",
       "url": url + "/acme/acme/new-order"}
print(jws.serialize_compact(hdr, json.dumps({"identifiers": [
    {"type": "dns", "value": "svc.test"}]}).encode(), key, registry=reg))
PY
	bodies acme.tok
	refused_elsewhere acme.tok
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/acme-b.py" "$dir" "$CA/certs/root_ca.crt" a1 \
		post newOrder '{"identifiers": [{"type": "dns", "value": "svc.test"}]}'
	[[ $output == "{\"status\": 201, "* ]] || fail "$output"
	assert_equal "$(new_certs)" 0
}

@test "matrix row ghsa: tokens naming ACME, SCEP or another type by iss or audience fragment: 401, nothing recorded" {
	local f before
	# All minted in one run: an attacker's key with iss naming each
	# provisioner type, then audience fragments, by the attacker (iss
	# acme) and by the JWK provisioner's own key (iss admin).
	"$PYTHON" - "$PK" "$AUD" "$FP" <<'PY'
import json, secrets, sys, time
from joserfc import jws
from joserfc.jwk import ECKey
prov = ECKey.import_key(json.load(open(sys.argv[1])))
evil = ECKey.generate_key("P-256")
aud, fp, now = sys.argv[2], sys.argv[3], int(time.time())
csr = open("svc.test.csr").read()
def mint(name, key, iss, a):
    c = {"aud": a, "iss": iss, "sub": "svc.test", "sans": ["svc.test"],
         "jti": secrets.token_hex(32), "iat": now, "nbf": now, "exp": now + 300,
         "sha": fp}
    t = jws.serialize_compact({"alg": "ES256", "kid": key.thumbprint(), "typ": "JWT"},
                              json.dumps(c).encode(), key, algorithms=["ES256"])
    open(name + ".sign", "w").write(json.dumps({"csr": csr, "ott": t}))
for iss in ("acme", "scep", "x5c", "oidc", "k8s"):
    mint("iss-" + iss, evil, iss, aud)
for frag in ("acme/acme", "scep/scep", "x5c/admin", "k8ssa/k8sSA-default", "admin"):
    n = frag.replace("/", "-")
    mint("evil-" + n, evil, "acme", aud + "#" + frag)
    mint("jwk-" + n, prov, "admin", aud + "#" + frag)
PY
	before=$(store_state)
	for f in *.sign; do
		run -0 api "${JSON[@]}" --data @"$f" /1.0/sign
		[ "$(status_of)" = 401 ] || fail "$f: $output"
	done
	assert_equal "$(store_state)" "$before"
	assert_equal "$(new_certs)" 0
}

@test "matrix row oidc-user: an ID token (alice) at sign only, once; 403 at revoke" {
	need_oidc_peer
	cp "$BATS_FILE_TMPDIR/oidc/alice.tok" .
	bodies alice.tok
	cell 403 "${JSON[@]}" --data @alice.tok.revoke /1.0/revoke
	cell 201 "${JSON[@]}" --data @alice.tok.sign /1.0/sign
	# Spent: sign again, renew, rekey, ACME all 401.
	refused_elsewhere alice.tok revoke
	assert_equal "$(new_certs)" 1
	run -0 ca-db -d "$CA" check
}

@test "matrix row oidc-admin: an admin's ID token at sign only (the CSR's names); 403 at revoke" {
	need_oidc_peer
	cp "$BATS_FILE_TMPDIR/oidc/root.tok" .
	bodies root.tok
	cell 403 "${JSON[@]}" --data @root.tok.revoke /1.0/revoke
	cell 201 "${JSON[@]}" --data @root.tok.sign /1.0/sign
	refused_elsewhere root.tok revoke
	assert_equal "$(new_certs)" 1
	run -0 ca-db -d "$CA" list
	assert_line --regexp '	oidc	CN=svc.test	svc.test	'
}

@test "matrix row mtls: a client certificate without a token: no sign; renew, rekey, revoke itself" {
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.crt
	SERIAL=0x$(openssl x509 -in svc.crt -noout -serial | cut -d= -f2)
	bodies svc.test.tok
	local m=(--cert svc.crt --key svc.key)
	cell '400|401' "${m[@]}" "${JSON[@]}" --data @rekey.json /1.0/sign
	cell 201 "${m[@]}" -X POST /1.0/renew
	cell 201 "${m[@]}" "${JSON[@]}" --data @rekey.json /1.0/rekey
	assert_equal "$(new_certs)" 3
	cell 403 "${m[@]}" "${JSON[@]}" --data '{"serial":"0x4242"}' /1.0/revoke
	cell 200 "${m[@]}" "${JSON[@]}" --data "{\"serial\":\"$SERIAL\"}" /1.0/revoke
	run -0 ca-db -d "$CA" check
}

# x5c_tok FILE [ca-token options]: an X5C token for svc.test from "x5c".
x5c_tok() {
	local f=$1
	shift
	ca-token -d "$CA" --x5c-cert "$BATS_FILE_TMPDIR/x5c.crt" \
		--x5c-key "$BATS_FILE_TMPDIR/x5c.key" "$@" > "$f"
}

@test "matrix rows x5c-sign, x5c-revoke: an X5C token is ok at sign only (once), an X5C revoke token at revoke only" {
	issue_one
	x5c_tok xs svc.test
	x5c_tok xr --revoke "$SERIAL"
	bodies xs xr
	refused_elsewhere xs sign
	cell 201 "${JSON[@]}" --data @xs.sign /1.0/sign
	cell 401 "${JSON[@]}" --data @xs.sign /1.0/sign
	assert_equal "$(new_certs)" 2
	BASE=$(($(issued) - 1))
	revoke_row xr
}

# k8s_toks: node jose's K8sSA tokens (tests/npm/k8s-token.mjs batch) for
# the rows below: legacy, projected for this CA, projected for the cluster.
k8s_toks() {
	node "$BATS_TEST_DIRNAME/npm/k8s-token.mjs" batch "$BATS_FILE_TMPDIR" <<-EOF
	[{"out": "kl", "cmd": "legacy"},
	 {"out": "kp", "cmd": "projected", "args": ["$URL/1.0/sign"]},
	 {"out": "kw", "cmd": "projected", "args": ["https://kubernetes.default.svc"]}]
	EOF
	bodies kl kp kw
}

# k8s_elsewhere TOKEN-FILE REVOKE-STATUS: /1.0/revoke answers that; renew,
# rekey and ACME refuse.
k8s_elsewhere() {
	cell "$2" "${JSON[@]}" --data @"$1.revoke" /1.0/revoke
	cell 401 -H "Authorization: Bearer $(cat "$1")" -X POST /1.0/renew
	cell 401 -H "Authorization: Bearer $(cat "$1")" "${JSON[@]}" \
		--data @rekey.json /1.0/rekey
	cell '400|401' -H 'Content-Type: application/jose+json' --data @"$1" \
		/acme/acme/new-order
}

@test "matrix rows k8s-legacy, k8s-projected, k8s-wrong-aud: K8sSA tokens sign (once) for this CA's audience; never revoke (403)" {
	k8s_toks
	k8s_elsewhere kl 403
	cell 201 "${JSON[@]}" --data @kl.sign /1.0/sign
	cell 401 "${JSON[@]}" --data @kl.sign /1.0/sign
	k8s_elsewhere kp 403
	cell 201 "${JSON[@]}" --data @kp.sign /1.0/sign
	k8s_elsewhere kw 401
	cell 401 "${JSON[@]}" --data @kw.sign /1.0/sign
	assert_equal "$(new_certs)" 2
	run -0 ca-db -d "$CA" check
}

@test "matrix row x5c-insecure: a renew token (step's x5cInsecure) at renew and rekey only" {
	local der
	token svc.test
	ca-sign -d "$CA" --token-file svc.test.tok --key-out svc.key -o svc.crt
	der=$(openssl x509 -in svc.crt -outform DER | base64 -w0)
	# step's shape; without a jti, the certificate's serial and iat name
	# the token, so the second is a second older.
	"$PYTHON" - "$URL" "$der" <<'PY'
import json, sys, time
from joserfc import jws
from joserfc.jwk import ECKey
from joserfc.registry import HeaderParameter
reg = jws.JWSRegistry(header_registry={
    "x5cInsecure": HeaderParameter("x5c, unchecked", "list[str]")}, algorithms=["ES256"])
key = ECKey.import_key(open("svc.key").read())
now = int(time.time())
for i, ep in enumerate(("renew", "rekey")):
    c = {"aud": sys.argv[1] + "/1.0/" + ep, "iss": "step-ca-client/1.0",
         "sub": "svc.test", "iat": now - i, "nbf": now - i, "exp": now + 300}
    hdr = {"alg": "ES256", "kid": key.thumbprint(), "typ": "JWT",
           "x5cInsecure": [sys.argv[2]]}
    open(ep + ".tok", "w").write(jws.serialize_compact(hdr, json.dumps(c).encode(),
                                                      key, registry=reg))
PY
	bodies renew.tok
	cell 401 "${JSON[@]}" --data @renew.tok.sign /1.0/sign
	cell 401 "${JSON[@]}" --data @renew.tok.revoke /1.0/revoke
	cell 201 -H "Authorization: Bearer $(cat renew.tok)" -X POST /1.0/renew
	cell 201 -H "Authorization: Bearer $(cat rekey.tok)" "${JSON[@]}" \
		--data @rekey.json /1.0/rekey
	assert_equal "$(new_certs)" 3
	run -0 ca-db -d "$CA" check
}

# A PKCSReq certmonger sent (tests/fixtures/scep), challenge "x", to the
# decrypter the provisioner "scep" has.
@test "matrix row scep: a SCEP PKCSReq is refused at every token endpoint and ACME, ok once at its PKIOperation" {
	local m=$CA_FIXTURES/scep/certmonger-pkcsreq-aes256-to-ra.der
	cell 400 "${JSON[@]}" --data-binary @"$m" /1.0/sign
	cell 400 "${JSON[@]}" --data-binary @"$m" /1.0/revoke
	cell 400 "${JSON[@]}" --data-binary @"$m" /1.0/renew
	cell 400 "${JSON[@]}" --data-binary @"$m" /1.0/rekey
	cell '400|401' -H 'Content-Type: application/jose+json' \
		--data-binary @"$m" /acme/acme/new-order
	# A JWK token at PKIOperation: not a pkiMessage.
	token svc.test
	cell 400 --data-binary @svc.test.tok "/scep/scep?operation=PKIOperation"
	cell 200 --data-binary @"$m" "/scep/scep?operation=PKIOperation"
	assert_equal "$(new_certs)" 1
	# Its senderNonce is spent: the same message again gets a FAILURE.
	cell 200 --data-binary @"$m" "/scep/scep?operation=PKIOperation"
	assert_equal "$(new_certs)" 1
	run -0 ca-db -d "$CA" check
}
