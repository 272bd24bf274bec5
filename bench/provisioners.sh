#!/bin/bash
# provisioners.sh - certificates per second through POST /1.0/sign for each
# provisioner type, each against the JWK figure of the same run (issue 13,
# DESIGN13 section 5).
#
# Usage: bench/provisioners.sh [N]     (or N=... bench/provisioners.sh;
#        default 2000 requests per type)
#
# Environment:
#   N            requests per type (the first argument wins)
#   CONC         requests at a time, HTTPS keep-alive (default 8)
#   CA_BIN       directory holding ca-init, ca-serve, ca-db; otherwise
#                $(dirname "$0")/../_build/bin, then /work/main/_build/bin,
#                then $PATH
#   KEEP=1       keep the scratch directory (its path is printed)
#   TMPDIR       where the scratch directory is made (ca-serve fsyncs)
#
# Set-up: one CA (ca-init, unencrypted intermediate key), one ca-serve
# --listen on port 0. Request bodies (a distinct CSR and a one-time token
# each) are all made before anything is timed; bench/serve-tool.py sends
# them, CONC at a time. Every 201 is counted in the report, and ca-db
# check must be clean after the run.
#
# Types (the TYPES table below): JWK (bodies by serve-tool.py ca-bodies,
# joserfc); X5C (x5c-bodies: a chain from an openssl CA, one level); K8sSA
# (k8s-bodies: projected tokens, an openssl EC key as the cluster's); OIDC
# (ID tokens from npm's oidc-provider, tests/npm/oidc-peer.mjs, its own
# authorization-code flow; node and tests/npm/node_modules needed;
# provisioner "oidc" added with ca-provisioner; the report gives the
# provider's count of JWKS fetches, which must be 1). SCEP is measured
# differently (DESIGN13 section 5): SCEP_N (default 50) scepclient
# enrolments in sequence over HTTPS to the same ca-serve, each with a new
# RSA-2048 key; reported as certificates per second against JWK, and as
# ca-serve's CPU time (utime+stime from /proc) per enrolment against
# scepclient's own user+sys per enrolment (GNU time).
#
# Exit status: 0 when every correctness check passes, whether or not a
# rate is good (this is a benchmark, not a test); 1 when a check fails;
# 2 on a usage error or a missing tool.
#
# Needs: bash 5, python3 with joserfc and cryptography, openssl.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=${1:-${N:-2000}}
posint N
CONC=${CONC:-8}
posint CONC
PYTHON=${PYTHON:-python3}
TYPES=(JWK X5C K8sSA OIDC SCEP)
PENDING=" "
SCEP_N=${SCEP_N:-50}
posint SCEP_N

use_tools ca-serve ca-init ca-serve ca-db ca-provisioner
need openssl
need_joserfc

scratch ca-bench-provisioners
mkdir bin bodies logs out
copy_tools
cp "$HERE/serve-tool.py" bin/
TOOL=$W/bin/serve-tool.py
NPM=$HERE/../tests/npm
machine

password_file
"$CA_INIT" -d ca --name Bench --dns localhost,127.0.0.1 \
    --address 127.0.0.1:8443 --provisioner bench --password-file pw \
    --unencrypted-intermediate-key --provisioner-key-out prov.json -q >/dev/null
ROOT=$W/ca/certs/root_ca.crt
# X5C "x5c": an openssl root and leaf; K8sSA "k8s": an openssl EC key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout x5c-root.key -subj /CN=x5c-root -days 2 -out x5c-root.crt \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout x5c.key -subj /CN=device -out x5c.csr 2>/dev/null
openssl x509 -req -in x5c.csr -CA x5c-root.crt -CAkey x5c-root.key -days 1 \
    -extfile <(echo keyUsage=critical,digitalSignature) -out x5c.crt 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key
openssl pkey -in sa.key -pubout -out sa.pub
"$CA_PROVISIONER" -d ca add x5c --type X5C --x5c-roots x5c-root.crt
"$CA_PROVISIONER" -d ca add k8s --type K8sSA --public-key sa.pub

# SCEP: an RSA decrypter issued by the (EC) intermediate, and the
# provisioner "scep" with it (AES-256 answers).
need scepclient
find_gnu_time
[[ -n $GNU_TIME ]] || die "SCEP needs GNU time (/usr/bin/time)"
openssl req -new -newkey rsa:2048 -nodes -keyout ra.key -subj "/CN=bench SCEP RA" \
    -out ra.csr 2>/dev/null
openssl x509 -req -in ra.csr -CA ca/certs/intermediate_ca.crt \
    -CAkey ca/secrets/intermediate_ca_key -days 1 -out ra.crt \
    -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\n') 2>/dev/null
"$PYTHON" - <<'PY'
import base64, json
b = lambda f: base64.b64encode(open(f, "rb").read()).decode()
c = json.load(open("ca/config/ca.json"))
c["authority"]["provisioners"].append({"type": "SCEP", "name": "scep",
    "challenge": "bench", "encryptionAlgorithmIdentifier": 2,
    "decrypterCertificate": b("ra.crt"), "decrypterKeyPEM": b("ra.key")})
json.dump(c, open("ca/config/ca.json", "w"), indent=2)
PY
RA_FP=$(openssl x509 -in ra.crt -outform DER | sha256sum | cut -d' ' -f1)

# bodies_for TYPE: bodies/TYPE, N lines, made before the timed runs.
bodies_for() {
	case $1 in
	JWK)
		# The audience ca-token -d puts in a token: the configured address.
		"$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench \
		    https://localhost:8443/1.0/sign "$N" jwk bodies/JWK ;;
	X5C)
		"$PYTHON" "$TOOL" x5c-bodies x5c.key x5c.crt "$ROOT" x5c \
		    https://localhost:8443/1.0/sign "$N" x5c bodies/X5C ;;
	K8sSA)
		"$PYTHON" "$TOOL" k8s-bodies sa.key \
		    https://localhost:8443/1.0/sign "$N" k8s bodies/K8sSA ;;
	OIDC)
		# The provider on port 0 (its port on fd 3), its tokens valid
		# an hour; one ID token per request, by alice (CN alice, her
		# e-mail and iss#sub whatever the CSR), then paired with CSRs.
		command -v node >/dev/null && [[ -d $NPM/node_modules/oidc-provider ]] ||
		    die "OIDC needs node and tests/npm/node_modules (npm ci there)"
		ID_TOKEN_TTL=3600 READY_FD=3 spawn_ready 30 node \
		    "$NPM/oidc-peer.mjs" > logs/oidc-peer.log 2>&1
		[[ -n $SRV_PORT ]] || die "the OIDC provider did not start"
		ISSUER=http://127.0.0.1:$SRV_PORT
		"$CA_PROVISIONER" -d ca add oidc --type OIDC --client-id ca-tools \
		    --configuration-endpoint "$ISSUER" -q
		mkdir bodies/oidc
		local t0=$EPOCHREALTIME
		node "$NPM/get-id-token.mjs" "$ISSUER" bodies/oidc "alice*$N:t"
		note "OIDC: $N ID tokens in $(elapsed "$t0" "$EPOCHREALTIME") s"
		"$PYTHON" -c '
import importlib, json, sys
sys.path.insert(0, "bin")
st = importlib.import_module("serve-tool")
n = int(sys.argv[1])
with open("bodies/OIDC", "w") as f:
    for i, (name, csr) in enumerate(st.csrs("oidc", n)):
        tok = open("bodies/oidc/t-%d.tok" % (i + 1)).read().strip()
        f.write(json.dumps({"csr": csr, "ott": tok}) + "\n")' "$N" ;;
	*)
		die "no body maker for $1" ;;
	esac
}

note "building $N request bodies per type"
for t in "${TYPES[@]}"; do
	[[ $PENDING == *" $t "* || $t == SCEP ]] || bodies_for "$t"
done

start_ca_serve serve ca
PORT=$SRV_PORT
SERVE_PID=$SRV_PID

declare -A RATE P50
# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# SCEP: enrolments in sequence; the server's CPU and the client's.
scep_run() {
	local i t0 t1 c0 c1 tick
	tick=$(getconf CLK_TCK)
	mkdir -p scep
	: > logs/scep.time
	c0=$(cpu_ticks "$SERVE_PID")
	t0=$(now)
	for ((i = 0; i < SCEP_N; i++)); do
		# A directory each: scepclient leaves its self-signed
		# certificate and CSR (self.pem, csr.pem) in the current one,
		# and would sign the next request with another key's.
		mkdir -p "scep/$i"
		(cd "scep/$i" && SSL_CERT_FILE=$ROOT "$GNU_TIME" -a \
		    -o "$W/logs/scep.time" -f '%U %S' \
		    scepclient -server-url "https://localhost:$PORT/scep/scep" \
		    -private-key key.pem -certificate "../$i.pem" \
		    -cn "scep$i.bench" -challenge bench -ca-fingerprint "$RA_FP" \
		    >>"$W/logs/scep.out" 2>&1) || fail "scepclient $i failed"
	done
	t1=$(now)
	c1=$(cpu_ticks "$SERVE_PID")
	RATE[SCEP]=$(rate "$SCEP_N" "$(elapsed "$t0" "$t1")")
	P50[SCEP]=-
	SCEP_SERVER_MS=$(awk -v d=$((c1 - c0)) -v t="$tick" -v n="$SCEP_N" \
	    'BEGIN { printf "%.1f", d * 1000 / t / n }')
	SCEP_CLIENT_MS=$(awk -v n="$SCEP_N" '{ s += $1 + $2 }
	    END { printf "%.1f", s * 1000 / n }' logs/scep.time)
	local got
	got=$(ls scep/[0-9]*.pem 2>/dev/null | wc -l)
	[[ $got == "$SCEP_N" ]] || fail "SCEP: $got of $SCEP_N certificates"
}

for t in "${TYPES[@]}"; do
	[[ $PENDING == *" $t "* ]] && continue
	if [[ $t == SCEP ]]; then
		scep_run
		continue
	fi
	"$PYTHON" "$TOOL" client "127.0.0.1:$PORT" "$ROOT" "bodies/$t" "$CONC" \
	    /1.0/sign > "out/$t.client"
	line=$(cat "out/$t.client")
	ok=$(sed -n 's/.*codes=\([^ ]*\).*/\1/p' <<<"$line" | tr ',' '\n' |
	    awk -F: '$1 == 201 { print $2 }')
	secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
	[[ ${ok:-0} == "$N" ]] || fail "$t: ${ok:-0} of $N signed ($line)"
	RATE[$t]=$(rate "${ok:-0}" "$secs")
	P50[$t]=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")
done
stop_server "$SERVE_PID" ca-serve
"$CA_DB" -d ca check >/dev/null 2>logs/check.err || fail "ca-db check: $(cat logs/check.err)"

echo "bench/provisioners.sh: POST /1.0/sign, $N requests per type, $CONC at a time"
print_machine
print_scratch
for t in "${TYPES[@]}"; do
	if [[ $PENDING == *" $t "* ]]; then
		printf '  %-6s PENDING (no verifier yet)\n' "$t"
	else
		printf '  %-6s %8s certs/s   %s x JWK   p50 %s ms\n' "$t" "${RATE[$t]}" \
		    "$(ratio "${RATE[$t]}" "${RATE[JWK]}")" "${P50[$t]}"
	fi
done
[[ $PENDING == *" OIDC "* ]] || {
	JWKS=$(grep -c '^GET /jwks' logs/oidc-peer.log || true)
	printf '  OIDC: the provider served its JWKS %s time(s) for %s ID tokens\n' \
	    "$JWKS" "$N"
	[[ $JWKS == 1 ]] || fail "OIDC: JWKS fetched $JWKS times, want 1"
}
printf '  SCEP: %s scepclient enrolments in sequence (HTTPS, RSA-2048 keys):\n' \
    "$SCEP_N"
printf '        ca-serve CPU %s ms per enrolment, scepclient %s ms (user+sys)\n' \
    "$SCEP_SERVER_MS" "$SCEP_CLIENT_MS"
print_checks
finish
