#!/bin/bash
# revocation.sh - ca-serve's OCSP responder against openssl ocsp, and
# ca-revoke --crl against openssl ca -gencrl, in the same run.
#
# Usage: bench/revocation.sh [SECONDS]     (or DURATION=...; default 10)
#
# Environment:
#   DURATION     seconds per timed wrk run (the first argument wins)
#   CA_BIN       directory holding ca-init, ca-token, ca-sign, ca-revoke,
#                ca-serve, ca-db; otherwise $(dirname "$0")/../_build/bin,
#                then /work/main/_build/bin, then $PATH. Its ../lib/libca.a
#                (or $LIBCA) and that build tree's config.h are used to
#                build bench/mkrevoked.c with $CC (default cc), the headers
#                coming from $(dirname "$0")/../lib.
#   CLIENTS      wrk connections (default 16); WRK_THREADS (default 2)
#   OSSL_MULTI   openssl ocsp -multi: responder processes (default: CPUs)
#   N_REVOKED    revoked serials in the CRL (default 100000)
#   REPEAT       timed CRL builds per tool; the median counts (default 3)
#   N_MANY       distinct serials asked for in A-many (default 5000)
#   PROFILE      auto (default): perf profile of ca-serve when OCSP misses
#                its target; 1 always; 0 never
#   KEEP=1       keep the scratch directory (its path is printed)
#   TMPDIR       where the scratch directory is made (the store fsyncs)
#
# OCSP scenarios (one CA, three certificates: one revoked with
# keyCompromise, two good; requests made by openssl ocsp -no_nonce -reqout,
# POSTed round robin by wrk with bench/revocation-ocsp.lua):
#   A        ca-serve --listen, HTTPS keep-alive: ca-serve caches answers
#            to single no-nonce requests until a revocation (the target)
#   peer     openssl ocsp -index index.txt -multi OSSL_MULTI -resp_no_certs
#            on the same certificates: plain HTTP, it answers HTTP/1.0 and
#            closes every connection (wrk connects again), and it signs
#            every response
#   A-close  ca-serve, a Connection: close header: a TLS handshake per
#            response, as the peer pays a TCP connection per response
#   A-nonce  ca-serve keep-alive, a request with a nonce: not cacheable,
#            a store lookup and an ECDSA signature per response, as the
#            peer does
#   A-many   ca-serve on the store with N_REVOKED revocations, keep-alive,
#            N_MANY distinct revoked serials round robin: more than its
#            cache keeps (a diagnostic)
#   A-stall  the same server, the three requests of A, while the CRL is
#            rebuilt (a diagnostic: how long OCSP waits)
# CRL scenarios (a copy of the CA, N_REVOKED serials added by
# bench/mkrevoked.c straight into its store, the same serials as R lines in
# an openssl ca index.txt):
#   crl      ca-revoke -d DIR --crl -o FILE, a new CRL each time (the
#            revocation counter is bumped before each run), REPEAT times
#   peer     openssl ca -gencrl on index.txt (PEM out), REPEAT times,
#            interleaved with the runs above
#   GET /crl ca-serve: the stored CRL, from memory, rebuilt after a real
#            revocation by ca-revoke -d, from memory again
#
# Exit status: 0 when every correctness check passes, whether or not the
# targets are met (this is a benchmark, not a test); 1 when a correctness
# check fails; 2 on a usage error or missing tool.
#
# Shared code (tools, scratch directory, servers, report lines):
# bench/lib.sh.
#
# Needs Debian packages: bash 5, wrk, openssl, curl, gcc (cc), pkg-config,
# libgnutls28-dev, libtasn1-6-dev, libjson-c-dev, libgdbm-dev; optionally
# time (/usr/bin/time), linux-perf (perf).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

# --- arguments and tools ---------------------------------------------------

set_duration "${1:-}"
CLIENTS=${CLIENTS:-16}; posint CLIENTS
WRK_THREADS=${WRK_THREADS:-2}; posint WRK_THREADS
OSSL_MULTI=${OSSL_MULTI:-$(nproc)}; posint OSSL_MULTI
N_REVOKED=${N_REVOKED:-100000}; posint N_REVOKED
REPEAT=${REPEAT:-3}; posint REPEAT
N_MANY=${N_MANY:-5000}; posint N_MANY
PROFILE=${PROFILE:-auto}
[[ $PROFILE == auto || $PROFILE == 0 || $PROFILE == 1 ]] ||
    die "PROFILE must be auto, 0 or 1, not '$PROFILE'"
KEEP=${KEEP:-0}
CC=${CC:-cc}
((WRK_THREADS <= CLIENTS)) || die "WRK_THREADS must not exceed CLIENTS"

# Targets
OCSP_TARGET=5000	# responses/s, A
CRL_TARGET=2		# seconds, ca-revoke --crl with N_REVOKED entries

use_tools ca-serve ca-init ca-token ca-sign ca-revoke ca-serve ca-db
LIBCA=${LIBCA:-$BIN/../lib/libca.a}
[[ -r $LIBCA ]] || die "$LIBCA not found (set LIBCA, or CA_BIN to a build tree's bin)"
BUILD_DIR=$(cd "$(dirname "$LIBCA")/.." && pwd)
[[ -r $BUILD_DIR/config.h ]] || die "$BUILD_DIR/config.h not found (the build tree of $LIBCA)"
[[ -r $HERE/../lib/db.h ]] || die "$HERE/../lib/db.h not found (the sources of libca)"
need wrk openssl curl "$CC" pkg-config
[[ -r $HERE/revocation-ocsp.lua && -r $HERE/mkrevoked.c ]] ||
    die "$HERE/revocation-ocsp.lua or mkrevoked.c not found"
pkg-config --exists gnutls libtasn1 json-c ||
    die "pkg-config cannot find gnutls libtasn1 json-c (libgnutls28-dev libtasn1-6-dev libjson-c-dev)"

find_gnu_time

# --- scratch directory -----------------------------------------------------

scratch ca-bench-revocation
mkdir bin logs out req
copy_tools
cp "$LIBCA" bin/libca.a
cp "$HERE/revocation-ocsp.lua" bin/
LUA=$W/bin/revocation-ocsp.lua
MKREVOKED=$W/bin/mkrevoked

# The bench program, against the build tree's libca.a; the same command
# is printed in the report.
read -r -a PKG_FLAGS <<<"$(pkg-config --cflags --libs gnutls libtasn1 json-c)"
MK_CMD=("$CC" -std=gnu11 -O2 -Wall -Wextra -I"$BUILD_DIR" -I"$HERE/../lib"
    -o "$MKREVOKED" "$HERE/mkrevoked.c" "$W/bin/libca.a"
    "${PKG_FLAGS[@]}" -lgdbm -lpthread)
"${MK_CMD[@]}" >logs/mkrevoked.build 2>&1 || {
	cat logs/mkrevoked.build >&2
	die "cannot build bench/mkrevoked.c (libgdbm-dev installed? libca.a and lib/*.h from the same sources?)"
}

# --- small helpers ---------------------------------------------------------

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu_ticks PID: user+system clock ticks of a process (all its threads)
# and of its children (openssl ocsp -multi forks its responders)
cpu_ticks() {
	local p s t=0
	for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null || true); do
		s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		s=${s##*) }
		t=$((t + $(awk '{ print $12 + $13 }' <<<"$s")))
	done
	echo "$t"
}

# running PID: the process exists and has not exited (zombies do not count)
running() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

# wrk_run NAME URL PATH MODE PID: one timed wrk run over the request
# files req/good*.der req/revoked.der (or $REQS); the WRK line goes to
# out/NAME.wrk, the server's CPU ticks to out/NAME.cpu
wrk_run() {
	local name=$1 url=$2 path=$3 mode=$4 pid=$5 c0 c1 st=0
	c0=$(cpu_ticks "$pid")
	wrk -t"$WRK_THREADS" -c"$CLIENTS" -d"${D}s" --timeout 10s --latency \
	    -s "$LUA" "$url" -- "$path" "$mode" "${REQS[@]}" \
	    >"out/$name.wrk" 2>&1 || st=$?
	c1=$(cpu_ticks "$pid")
	wrk_check "$name" "$st"
	echo $((c1 - c0)) >"out/$name.cpu"
	local n2 e
	n2=$(kv "out/$name.wrk" WRK non2xx)
	[[ $n2 == 0 ]] || fail "$name: wrk counted $n2 answers with a status >= 400"
	for e in connect read write timeout; do
		[[ $(kv "out/$name.wrk" WRK $e) == 0 ]] ||
		    anomaly "$name: wrk socket errors: $e=$(kv "out/$name.wrk" WRK $e)"
	done
}

# ocsp_check LABEL URL SERIAL EXPECTED [REASON]: openssl ocsp as a client,
# trusting the root, the responder being the intermediate itself
ocsp_check() {
	local label=$1 url=$2 serial=$3 want=$4 reason=${5:-} out
	out=$(openssl ocsp -issuer inter.pem -serial "0x$serial" -url "$url" \
	    -CAfile root.pem -VAfile inter.pem -no_nonce 2>&1) || {
		fail "$label: openssl ocsp -url $url 0x$serial: $(tail -n 2 <<<"$out")"
		return
	}
	grep -q '^Response verify OK' <<<"$out" ||
	    fail "$label: 0x$serial: response not verified: $(head -n 2 <<<"$out")"
	grep -q "^0x$serial: $want\$" <<<"$out" ||
	    fail "$label: 0x$serial: expected $want, got: $(grep "^0x" <<<"$out" || head -n 1 <<<"$out")"
	if [[ -n $reason ]]; then
		grep -q "Reason: $reason\$" <<<"$out" ||
		    fail "$label: 0x$serial: expected reason $reason: $(grep Reason <<<"$out" || echo none)"
	fi
	OCSP_LAST=$out
}

# post_check LABEL URL FILE SERIAL EXPECTED: POST the exact bytes wrk
# sends, verify what comes back; sets POST_BYTES
post_check() {
	local label=$1 url=$2 f=$3 serial=$4 want=$5 code out
	shift 5
	code=$(curl -sS "$@" -H 'Content-Type: application/ocsp-request' \
	    --data-binary "@$f" -o "$f.resp" -w '%{http_code}' "$url" 2>&1) ||
	    { fail "$label: curl POST $url: $code"; return; }
	[[ $code == 200 ]] || fail "$label: POST $url answered $code"
	POST_BYTES=$(stat -c %s "$f.resp")
	# Signature and nonce (if the request had one) against the request
	# sent, then the status of the serial.
	out=$(openssl ocsp -reqin "$f" -respin "$f.resp" -CAfile root.pem \
	    -VAfile inter.pem 2>&1) ||
	    { fail "$label: openssl ocsp -reqin -respin (POST $url): $(tail -n 2 <<<"$out")"; return; }
	grep -q '^Response verify OK' <<<"$out" ||
	    fail "$label: POST $url: response not verified: $(head -n 2 <<<"$out" | tr '\n' ' ')"
	out=$(openssl ocsp -respin "$f.resp" -issuer inter.pem -serial "0x$serial" \
	    -no_nonce -CAfile root.pem -VAfile inter.pem 2>&1) ||
	    { fail "$label: openssl ocsp -respin (POST $url): $(tail -n 2 <<<"$out")"; return; }
	grep -q "^0x$serial: $want\$" <<<"$out" ||
	    fail "$label: POST $url 0x$serial: expected '$want': $(head -n 3 <<<"$out" | tr '\n' ' ')"
}

# crl_entries FILE FORM: "serial revoked-at reason" per entry, sorted
# (serial lower-case hex, time as ca-db prints it, reason as RFC 5280
# names it or "-")
crl_entries() {
	openssl crl -inform "$2" -in "$1" -noout -text | awk '
	BEGIN {
		split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " ")
		for (i = 1; i <= 12; i++) mon[m[i]] = sprintf("%02d", i)
	}
	function flush() { if (s != "") print s, d, r; s = "" }
	/^    Serial Number: / { flush(); s = tolower($3); d = "?"; r = "-"; next }
	/^        Revocation Date: / {
		d = sprintf("%s-%s-%02dT%sZ", $6, mon[$3], $4, $5); next
	}
	/^            X509v3 CRL Reason Code:/ { want = 1; next }
	want { x = $0; gsub(/ /, "", x); r = tolower(substr(x, 1, 1)) substr(x, 2); want = 0; next }
	END { flush() }' | sort
}

# crl_check LABEL FILE FORM EXPECTED: verifies under the intermediate and
# holds exactly the expected entries; sets CRL_N
crl_check() {
	local label=$1 f=$2 form=$3 exp=$4 out
	out=$(openssl crl -inform "$form" -in "$f" -CAfile inter.pem -noout 2>&1) || true
	[[ $out == "verify OK" ]] || fail "$label: openssl crl -CAfile: $out"
	crl_entries "$f" "$form" >"$f.entries"
	CRL_N=$(wc -l <"$f.entries")
	if ! cmp -s "$f.entries" "$exp"; then
		fail "$label: $CRL_N entries, not the $(wc -l <"$exp") expected: $(diff "$exp" "$f.entries" | grep '^[<>]' | head -n 3 | tr '\n' ' ')"
	fi
}

# index_rows: openssl ca index.txt rows from `ca-db list` (stdin)
index_rows() {
	awk -F'\t' 'NR > 1 {
		na = $2; gsub(/[-T:]/, "", na); na = substr(na, 3)
		st = "V"; rv = ""
		if ($3 == "revoked") {
			st = "R"; rv = $7; gsub(/[-T:]/, "", rv); rv = substr(rv, 3)
			if ($8 != "-") rv = rv "," $8
		}
		n = split($5, rdn, ","); subj = ""
		for (i = n; i >= 1; i--) subj = subj "/" rdn[i]
		printf "%s\t%s\t%s\t%s\tunknown\t%s\n", st, na, rv, toupper($1), subj
	}'
}

# --- machine, versions -----------------------------------------------------

machine
v_ca=$("$CA_SERVE" --version | head -n 1)
v_openssl=$(openssl version)
v_wrk=$(wrk_version)
v_mhd=$(deb_version libmicrohttpd12)

# --- the CA and its certificates (untimed) ---------------------------------

note "setting up the CA"
password_file
"$CA_INIT" -d caO --name Bench --dns localhost,127.0.0.1 \
    --address 127.0.0.1:8443 --provisioner bench --password-file pw \
    --unencrypted-intermediate-key --provisioner-key-out prov.json -q >/dev/null
cp caO/certs/root_ca.crt root.pem
cp caO/certs/intermediate_ca.crt inter.pem
cp caO/secrets/intermediate_ca_key inter.key
chmod 600 inter.key

# h1 revoked (keyCompromise), h2 and h3 good, h4 revoked later (the cache
# check, and the CRL rebuilt by ca-serve)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key 2>/dev/null
for h in h1 h2 h3 h4; do
	openssl req -new -key leaf.key -subj "/CN=$h.bench" \
	    -addext "subjectAltName=DNS:$h.bench" -out "$h.csr"
	"$CA_TOKEN" -d caO --key prov.json --not-after 1h "$h.bench" >"$h.tok"
	"$CA_SIGN" -d caO --token-file "$h.tok" --csr "$h.csr" >"$h.crt" ||
	    die "ca-sign $h failed"
done
declare -A SER
for h in h1 h2 h3 h4; do
	SER[$h]=$(openssl x509 -in "$h.crt" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
	[[ -n ${SER[$h]} ]] || die "no serial in $h.crt"
done
"$CA_REVOKE" -d caO --reason keyCompromise "0x${SER[h1]}" ||
    die "ca-revoke -d caO 0x${SER[h1]} failed"
"$CA_DB" -d caO list >caO.list || die "ca-db -d caO list failed"
row_h1=$(awk -F'\t' -v s="${SER[h1]}" '$1 == s' caO.list)
[[ $(cut -f3 <<<"$row_h1") == revoked && $(cut -f8 <<<"$row_h1") == keyCompromise ]] ||
    fail "ca-db list after ca-revoke: '$row_h1'"
# The CRL copy, before any ca-serve adds its own TLS certificate.
cp -a caO caC

# Requests, made by openssl (untimed). UNKNOWN was never issued.
UNKNOWN=7f00000000000000000000000000000001
for h in h1 h2 h3; do
	openssl ocsp -issuer inter.pem -serial "0x${SER[$h]}" -no_nonce \
	    -reqout "req/$h.der" >/dev/null 2>&1 || die "openssl ocsp -reqout failed"
done
openssl ocsp -issuer inter.pem -serial "0x${SER[h2]}" -reqout req/nonce.der \
    >/dev/null 2>&1 || die "openssl ocsp -reqout (nonce) failed"
REQS_CACHED=("$W/req/h1.der" "$W/req/h2.der" "$W/req/h3.der")
REQS_NONCE=("$W/req/nonce.der")

# The peer's index.txt: the same certificates, the same revocation.
mkdir ossl
index_rows <caO.list >ossl/index.txt
printf 'unique_subject = no\n' >ossl/index.txt.attr

for ((i = 0; i < 5; i++)); do
	"$CA_SERVE" --version >/dev/null
	openssl version >/dev/null
done

# --- A: ca-serve, HTTPS keep-alive, cached answers -------------------------

note "A: ca-serve /ocsp, keep-alive, ${D}s"
start_ca_serve A caO
A_PID=$SRV_PID
A_PORT=$SRV_PORT
A_URL=https://localhost:$A_PORT/ocsp
ocsp_check "A" "$A_URL" "${SER[h1]}" revoked keyCompromise
ocsp_check "A" "$A_URL" "${SER[h2]}" good
ocsp_check "A" "$A_URL" "${SER[h3]}" good
ocsp_check "A" "$A_URL" "$UNKNOWN" unknown
# ca-serve's validity, given to the peer too (-nmin)
tu=$(sed -n 's/^[[:space:]]*This Update: //p' <<<"$OCSP_LAST" | head -n 1)
nu=$(sed -n 's/^[[:space:]]*Next Update: //p' <<<"$OCSP_LAST" | head -n 1)
NMIN=60
if [[ -n $tu && -n $nu ]]; then
	NMIN=$((($(date -u -d "$nu" +%s) - $(date -u -d "$tu" +%s)) / 60))
	((NMIN > 0)) || NMIN=60
fi
post_check "A" "$A_URL" req/h1.der "${SER[h1]}" revoked --cacert root.pem
A_BYTES_REV=$POST_BYTES
post_check "A" "$A_URL" req/h2.der "${SER[h2]}" good --cacert root.pem
A_BYTES=$POST_BYTES
ALPN_A=$(curl -sS --cacert root.pem -o /dev/null -w '%{http_version}' \
    -H 'Content-Type: application/ocsp-request' --data-binary @req/h2.der "$A_URL" 2>/dev/null || echo '?')

REQS=("${REQS_CACHED[@]}")
wrk_run A "https://127.0.0.1:$A_PORT/ocsp" /ocsp keep "$A_PID"
A_RATE=$(awk -v n="$(kv out/A.wrk WRK requests)" -v s="$(kv out/A.wrk WRK seconds)" \
    'BEGIN { printf "%.0f", n / s }')
A_THREADS=$(awk '/^Threads/ { print $2 }' "/proc/$A_PID/status" 2>/dev/null || echo '?')

# The profile, when asked for or when A misses its target.
PROF=none
if [[ $PROFILE == 1 || ($PROFILE == auto && $A_RATE -lt $OCSP_TARGET) ]]; then
	if command -v perf >/dev/null; then
		note "profile: perf record on ca-serve during a ${D}s A run"
		wrk -t"$WRK_THREADS" -c"$CLIENTS" -d"${D}s" --timeout 10s \
		    -s "$LUA" "https://127.0.0.1:$A_PORT/ocsp" -- /ocsp keep \
		    "${REQS[@]}" >out/prof.wrk 2>&1 &
		pw_pid=$!
		track "$pw_pid"
		if perf record -F 999 -g -o out/perf.data -p "$A_PID" -- \
		    sleep "$((D > 2 ? D - 1 : D))" >logs/perf.log 2>&1; then
			PROF=perf
		else
			PROF="perf record failed: $(tail -n 1 logs/perf.log)"
		fi
		wait "$pw_pid" || true
	else
		PROF="perf not installed"
	fi
fi

# --- peer: openssl ocsp ----------------------------------------------------

note "peer: openssl ocsp -multi $OSSL_MULTI, plain HTTP, ${D}s"
# Made here: the background job opens it when it gets to run.
: >logs/ossl-ocsp.log
openssl ocsp -index ossl/index.txt -port 0 -rsigner inter.pem -rkey inter.key \
    -CA inter.pem -resp_no_certs -nmin "$NMIN" -multi "$OSSL_MULTI" \
    >logs/ossl-ocsp.log 2>&1 3>&- &
P_PID=$!
track "$P_PID"
P_PORT=
for ((i = 0; i < 200; i++)); do
	P_PORT=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\) PID=.*/\1/p' logs/ossl-ocsp.log | head -n 1 || true)
	[[ -n $P_PORT ]] && break
	kill -0 "$P_PID" 2>/dev/null || break
	sleep 0.1
done
[[ -n $P_PORT ]] || { cat logs/ossl-ocsp.log >&2; die "openssl ocsp did not start"; }
for c in $(cat "/proc/$P_PID/task/$P_PID/children" 2>/dev/null || true); do
	track "$c"
done
P_URL=http://127.0.0.1:$P_PORT/
ocsp_check "peer" "$P_URL" "${SER[h1]}" revoked keyCompromise
ocsp_check "peer" "$P_URL" "${SER[h2]}" good
ocsp_check "peer" "$P_URL" "${SER[h3]}" good
ocsp_check "peer" "$P_URL" "$UNKNOWN" unknown
post_check "peer" "$P_URL" req/h1.der "${SER[h1]}" revoked
P_BYTES_REV=$POST_BYTES
post_check "peer" "$P_URL" req/h2.der "${SER[h2]}" good
P_BYTES=$POST_BYTES
# How it answers an HTTP/1.1 request: version, and whether it keeps the
# connection.
out=$(curl -sv -H 'Content-Type: application/ocsp-request' \
    --data-binary @req/h2.der -o /dev/null "$P_URL" 2>&1 || true)
P_HTTP="$(sed -n 's/^< \(HTTP\/[0-9.]*\) .*/\1/p' <<<"$out" | head -n 1) to HTTP/1.1, $(
    grep -qiE '^\* .*(close|closing)' <<<"$out" && echo 'closes after each answer' ||
    echo 'keeps the connection')"
wrk_run peer "$P_URL" / keep "$P_PID"
# openssl ocsp 3.0 spins at 100% CPU in a responder process whose client
# closed the connection before sending a request (wrk does so when it
# stops): openssl/openssl#23934, #31129. Seen here, it is only noted.
c0=$(cpu_ticks "$P_PID")
sleep 1
c1=$(cpu_ticks "$P_PID")
if ((c1 - c0 > TCK / 2)); then
	anomaly "peer: openssl ocsp used $(ms_per 1 $((c1 - c0))) ms of CPU in the idle second after wrk stopped (a responder spinning on a closed connection: openssl/openssl#23934, #31129)"
fi
# Its parent notices SIGTERM only when a responder exits (waitpid is
# restarted): flag it, then stop the responders.
kids=$(cat "/proc/$P_PID/task/$P_PID/children" 2>/dev/null || true)
kill -TERM "$P_PID" 2>/dev/null || true
for c in $kids; do
	kill -TERM "$c" 2>/dev/null || true
done
for ((i = 0; i < 50; i++)); do
	running "$P_PID" || break
	sleep 0.1
done
kill -KILL "$P_PID" $kids 2>/dev/null || true
wait "$P_PID" 2>/dev/null || true

# --- A-close and A-nonce ---------------------------------------------------

note "A-close: ca-serve /ocsp, a TLS connection per request, ${D}s"
wrk_run A-close "https://127.0.0.1:$A_PORT/ocsp" /ocsp close "$A_PID"
note "A-nonce: ca-serve /ocsp, nonce (signed per request), keep-alive, ${D}s"
post_check "A-nonce" "$A_URL" req/nonce.der "${SER[h2]}" good --cacert root.pem
REQS=("${REQS_NONCE[@]}")
wrk_run A-nonce "https://127.0.0.1:$A_PORT/ocsp" /ocsp keep "$A_PID"

# A revocation must reach the cache at once: h4 answered (and cached)
# good, revoked by another process, then answered revoked.
ocsp_check "cache" "$A_URL" "${SER[h4]}" good
ocsp_check "cache" "$A_URL" "${SER[h4]}" good
"$CA_REVOKE" -d caO --reason superseded "0x${SER[h4]}" ||
    fail "ca-revoke -d caO 0x${SER[h4]} failed"
ocsp_check "cache" "$A_URL" "${SER[h4]}" revoked superseded
ocsp_check "cache" "$A_URL" "${SER[h2]}" good
stop_server "$A_PID" "ca-serve (A)"

# Every request answered 200 by the responder, none an OCSP error.
A_LOG_OK=$(grep -c ' POST /ocsp 200 ' logs/A.log || true)
A_LOG_OTHER=$(grep ' POST /ocsp ' logs/A.log | grep -vc ' POST /ocsp 200 ' || true)
A_LOG_ERR=$(grep -c 'ocsp=error' logs/A.log || true)
((A_LOG_OTHER == 0)) || fail "A: $A_LOG_OTHER POST /ocsp answers other than 200 in logs/A.log"
((A_LOG_ERR == 0)) || fail "A: $A_LOG_ERR unsuccessful OCSP answers (ocsp=error) in logs/A.log"
nm=$(grep -c ': mhd: ' logs/A.log || true)
if ((nm > 0)); then
	anomaly "A: $nm libmicrohttpd error lines in the log: $(sed -n 's/.*: mhd: //p' logs/A.log |
	    sort | uniq -c | sort -rn | head -n 2 | awk '{ n = $1; $1 = ""; printf "%dx%s; ", n, $0 }' | cut -c1-200)"
fi

# --- CRL: N_REVOKED serials ------------------------------------------------

note "CRL: adding $N_REVOKED revoked serials to a copy of the store"
"$CA_DB" -d caC list >caC.list || die "ca-db -d caC list failed"
t0=$(now)
"$MKREVOKED" caC "$N_REVOKED" >revoked.tsv 2>logs/mkrevoked.err ||
    { cat logs/mkrevoked.err >&2; die "mkrevoked caC $N_REVOKED failed"; }
t1=$(now)
mk_s=$(elapsed "$t0" "$t1")
[[ $(wc -l <revoked.tsv) == "$N_REVOKED" ]] || fail "mkrevoked wrote $(wc -l <revoked.tsv) lines, not $N_REVOKED"
db_mb=$(awk -v b="$(stat -c %s caC/db/ca.gdbm)" 'BEGIN { printf "%.1f", b / 1048576 }')

# Expected entries: the real revocations and the added ones.
{
	# ca-db shows "unspecified" for no reason code too; a CRL has none
	# for either (RFC 5280 5.3.1)
	awk -F'\t' 'NR > 1 && $3 == "revoked" {
		print $1, $7, ($8 == "unspecified" ? "-" : $8) }' caC.list
	awk -F'\t' '{ print $1, $2, $3 }' revoked.tsv
} | sort >expected.crl

# The peer's database: the real certificates and the added revocations.
mkdir -p oca
index_rows <caC.list >oca/index.txt
na=$(awk -F'\t' 'NR == 1 { print $2 }' oca/index.txt)
awk -F'\t' -v na="$na" '{
	rv = $2; gsub(/[-T:]/, "", rv); rv = substr(rv, 3)
	if ($3 != "-") rv = rv "," $3
	printf "R\t%s\t%s\t%s\tunknown\t/CN=r%s.bench\n", na, rv, toupper($1), $1
}' revoked.tsv >>oca/index.txt
printf 'unique_subject = no\n' >oca/index.txt.attr
echo 01 >oca/crlnumber
cat >oca/openssl.cnf <<EOF
[ ca ]
default_ca = bench_ca

[ bench_ca ]
dir = $W/oca
database = \$dir/index.txt
crlnumber = \$dir/crlnumber
certificate = $W/inter.pem
private_key = $W/inter.key
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
unique_subject = no

[ crl_ext ]
authorityKeyIdentifier = keyid
EOF

# timed CMD...: wall seconds in T_S, peak RSS (KiB) in T_RSS
timed() {
	local t0 t1 st=0
	t0=$(now)
	if [[ -n $GNU_TIME ]]; then
		"$GNU_TIME" -o out/time.rss -f %M "$@" || st=$?
		T_RSS=$(tail -n 1 out/time.rss)
	else
		"$@" || st=$?
		T_RSS=-
	fi
	t1=$(now)
	T_S=$(elapsed "$t0" "$t1")
	return "$st"
}

note "CRL: ca-revoke --crl and openssl ca -gencrl, $REPEAT times each"
CRL_S=() OCA_S=()
for ((k = 1; k <= REPEAT; k++)); do
	# A new CRL each time: the counter says revocations changed (the
	# first time mkrevoked has just bumped it).
	if ((k > 1)); then
		"$MKREVOKED" caC 0 || die "mkrevoked caC 0 failed"
	fi
	timed "$CA_REVOKE" -d caC --crl -o "out/crl$k.der" 2>>logs/ca-revoke.err ||
	    fail "ca-revoke -d caC --crl failed: $(tail -n 1 logs/ca-revoke.err)"
	CRL_S+=("$T_S")
	CRL_RSS=$T_RSS
	timed openssl ca -config oca/openssl.cnf -gencrl -out "out/ocrl$k.pem" \
	    2>>logs/openssl-ca.err ||
	    fail "openssl ca -gencrl failed: $(tail -n 1 logs/openssl-ca.err)"
	OCA_S+=("$T_S")
	OCA_RSS=$T_RSS
done
# Nothing changed: the stored CRL, as is.
timed "$CA_REVOKE" -d caC --crl -o out/crl-cached.der 2>>logs/ca-revoke.err ||
    fail "ca-revoke -d caC --crl (cached) failed"
CRL_CACHED_S=$T_S
cmp -s out/crl-cached.der "out/crl$REPEAT.der" ||
    fail "ca-revoke --crl with no change made a new CRL (expected the stored one)"
CRL_MED=$(median "${CRL_S[@]}")
OCA_MED=$(median "${OCA_S[@]}")

crl_check "ca-revoke --crl" out/crl1.der DER expected.crl
CRL_ENTRIES=$CRL_N
crl_check "openssl ca -gencrl" out/ocrl1.pem PEM expected.crl
OCA_ENTRIES=$CRL_N
crl_no() {
	openssl crl -inform "$2" -in "$1" -noout -crlnumber 2>/dev/null | sed 's/^crlNumber=//'
}
crl_nums="$(crl_no out/crl1.der DER) $(crl_no "out/crl$REPEAT.der" DER)"
[[ $(crl_no out/crl1.der DER) != "$(crl_no "out/crl$REPEAT.der" DER)" || $REPEAT == 1 ]] ||
    fail "ca-revoke --crl: CRL numbers did not advance ($crl_nums)"
CRL_BYTES=$(stat -c %s out/crl1.der)
OCA_BYTES=$(stat -c %s out/ocrl1.pem)
openssl crl -in out/ocrl1.pem -outform DER -out out/ocrl1.der
OCA_DER_BYTES=$(stat -c %s out/ocrl1.der)

# --- GET /crl from ca-serve ------------------------------------------------

note "GET /crl from ca-serve on the same store"
start_ca_serve C caC
C_PID=$SRV_PID
C_PORT=$SRV_PORT
C_BASE=https://localhost:$C_PORT
# get_crl NAME: GET /crl into out/NAME.der; sets G_S (seconds), G_CODE
get_crl() {
	local r
	r=$(curl -sS --cacert root.pem -o "out/$1.der" -w '%{http_code} %{time_total}' \
	    "$C_BASE/crl" 2>&1) || { fail "GET /crl ($1): $r"; G_S='?'; return; }
	G_CODE=${r%% *}
	G_S=${r##* }
	[[ $G_CODE == 200 ]] || fail "GET /crl ($1) answered $G_CODE"
}
get_crl g-stored
G_STORED=$G_S
get_crl g-mem
G_MEM=$G_S
cmp -s out/g-stored.der "out/crl$REPEAT.der" ||
    fail "GET /crl: not the CRL ca-revoke --crl stored last"
"$CA_REVOKE" -d caC --reason cessationOfOperation "0x${SER[h4]}" ||
    fail "ca-revoke -d caC 0x${SER[h4]} failed"
h4_at=$("$CA_DB" -d caC show "0x${SER[h4]}" | sed -n 's/^revoked-at: //p')
{
	cat expected.crl
	echo "${SER[h4]} $h4_at cessationOfOperation"
} | sort >expected-g.crl
get_crl g-rebuilt
G_REBUILT=$G_S
get_crl g-mem2
G_MEM2=$G_S
crl_check "GET /crl (rebuilt)" out/g-rebuilt.der DER expected-g.crl
G_ENTRIES=$CRL_N
cmp -s out/g-rebuilt.der out/g-mem2.der ||
    fail "GET /crl: the second answer after the rebuild differs"

# --- A-many: more serials than the cache keeps -----------------------------

SLOTS=$(awk '$1 == "#define" && $2 == "OCSP_SLOTS" { print $3 }' "$HERE/../lib/status.c" 2>/dev/null || true)
CACHE_KEEPS=${SLOTS:+$((SLOTS * 3 / 4))}
((N_MANY <= N_REVOKED)) || N_MANY=$N_REVOKED
note "A-many: ca-serve /ocsp, $N_MANY distinct serials, keep-alive, ${D}s"
head -n "$N_MANY" revoked.tsv | cut -f1 >many.txt
# The template's serial is its last 17 octets; wrk puts others there.
[[ $(tail -c 17 req/h2.der | od -An -tx1 | tr -d ' \n') == "${SER[h2]}" ]] ||
    die "req/h2.der does not end with the serial: cannot be a template"
s1=$(head -n 1 many.txt)
openssl ocsp -issuer inter.pem -serial "0x$s1" -no_nonce -reqout req/many1.der \
    >/dev/null 2>&1 || die "openssl ocsp -reqout failed"
post_check "A-many" "https://localhost:$C_PORT/ocsp" req/many1.der "$s1" revoked --cacert root.pem
REQS=(@serials "$W/req/h2.der" "$W/many.txt")
wrk_run A-many "https://127.0.0.1:$C_PORT/ocsp" /ocsp keep "$C_PID"

# --- A-stall: OCSP while ca-serve rebuilds the CRL -------------------------

note "A-stall: ca-serve /ocsp on the big store, the CRL rebuilt after $((D / 3 > 0 ? D / 3 : 1))s, ${D}s"
REQS=("${REQS_CACHED[@]}")
for h in h1 h2 h3; do
	post_check "A-stall" "https://localhost:$C_PORT/ocsp" "req/$h.der" "${SER[$h]}" \
	    "$([[ $h == h1 ]] && echo revoked || echo good)" --cacert root.pem
done
(
	sleep "$((D / 3 > 0 ? D / 3 : 1))"
	"$MKREVOKED" caC 0
	curl -sS --cacert root.pem -o out/g-stall.der -w '%{http_code} %{time_total}\n' \
	    "$C_BASE/crl" >out/g-stall.txt 2>&1
) &
stall_pid=$!
track "$stall_pid"
wrk_run A-stall "https://127.0.0.1:$C_PORT/ocsp" /ocsp keep "$C_PID"
wait "$stall_pid" || fail "A-stall: the CRL rebuild during the run failed"
read -r code G_STALL <out/g-stall.txt || true
[[ ${code:-} == 200 ]] || fail "A-stall: GET /crl answered '${code:-?}'"
crl_check "GET /crl (A-stall)" out/g-stall.der DER expected-g.crl
stop_server "$C_PID" "ca-serve (C)"
grep -q ' GET /crl 200 ' logs/C.log || fail "C: no GET /crl 200 in the log"
C_LOG_ERR=$(grep -c 'ocsp=error' logs/C.log || true)
((C_LOG_ERR == 0)) || fail "A-stall: $C_LOG_ERR unsuccessful OCSP answers in logs/C.log"

# --- report ----------------------------------------------------------------

wrk_rate() {
	awk -v n="$(kv "out/$1.wrk" WRK requests)" -v s="$(kv "out/$1.wrk" WRK seconds)" \
	    'BEGIN { if (s > 0) printf "%.0f", n / s; else print 0 }'
}
row() {
	local name=$1 label=$2 r
	r=$(wrk_rate "$name")
	printf '%-44s %8s %8s %7s %7s %8s %8s\n' "$label" "$r" "$(ratio "$r" "$P_RATE")x" \
	    "$(kv "out/$name.wrk" WRK p50_ms)" "$(kv "out/$name.wrk" WRK p99_ms)" \
	    "$(kv "out/$name.wrk" WRK max_ms)" \
	    "$(ms_per "$(kv "out/$name.wrk" WRK requests)" "$(cat "out/$name.cpu")")"
}
P_RATE=$(wrk_rate peer)
A_RATE=$(wrk_rate A)
RATIO_OCSP=$(ratio "$A_RATE" "$P_RATE")
RATIO_CRL=$(ratio "$OCA_MED" "$CRL_MED")

echo "== ca-tools revocation: OCSP (ca-serve vs openssl ocsp), CRL (ca-revoke --crl vs openssl ca -gencrl)"
printf 'machine:  %s CPUs (load generator and servers share them), %s, Linux %s\n' \
    "$cpus" "$model" "$(uname -r)"
printf 'tools:    %s, copied from %s/ (ca-serve built %s, sha256 %s)\n' \
    "$v_ca" "$BIN" "$build_time" "$build_id"
printf '          %s; %s; libmicrohttpd %s\n' "$v_openssl" "$v_wrk" "$v_mhd"
print_scratch
echo
echo "-- OCSP: wrk -t$WRK_THREADS -c$CLIENTS -d${D}s --latency -s bench/revocation-ocsp.lua URL -- PATH MODE REQ.der..."
printf 'requests: openssl ocsp -issuer inter.pem -serial 0x<serial> -no_nonce -reqout REQ.der,\n'
printf '          3 certificates round robin (1 revoked keyCompromise, 2 good); A-nonce: one request with a nonce\n'
printf 'A:        %s -d DIR --listen 127.0.0.1:0 --ready-fd 3 --log-file FILE (%s threads), POST /ocsp, HTTP %s over TLS\n' \
    "ca-serve" "$A_THREADS" "$ALPN_A"
printf 'peer:     openssl ocsp -index index.txt -port 0 -rsigner inter.pem -rkey inter.key -CA inter.pem\n'
printf '            -resp_no_certs -nmin %s -multi %s   (plain HTTP; answers %s)\n' \
    "$NMIN" "$OSSL_MULTI" "$P_HTTP"
printf 'answers:  ca-serve %s bytes (revoked %s), openssl %s bytes (revoked %s); both signed by the intermediate (ECDSA P-256)\n' \
    "$A_BYTES" "$A_BYTES_REV" "$P_BYTES" "$P_BYTES_REV"
echo
printf '%-44s %8s %8s %7s %7s %8s %8s\n' scenario resp/s "vs peer" p50_ms p99_ms max_ms cpu_ms/r
row A "A  ca-serve HTTPS keep-alive (cached)"
row peer "peer openssl ocsp HTTP, conn/response"
row A-close "A-close ca-serve HTTPS, TLS conn/response"
row A-nonce "A-nonce ca-serve keep-alive, signs each"
row A-many "A-many $N_MANY serials, keep-alive"
row A-stall "A-stall A during a CRL rebuild"
echo
printf 'ratio ca-serve (A) / openssl ocsp: %sx   (ca-serve pays TLS; the peer pays a TCP connection and a signature per answer)\n' \
    "$RATIO_OCSP"
printf 'ratio ca-serve signing each (A-nonce) / openssl ocsp: %sx; with a TLS handshake each (A-close): %sx\n' \
    "$(ratio "$(wrk_rate A-nonce)" "$P_RATE")" "$(ratio "$(wrk_rate A-close)" "$P_RATE")"
printf 'A-many: %s distinct serials of the %s-revocation store; the cache keeps %s answers, then is emptied\n' \
    "$N_MANY" "$N_REVOKED" "${CACHE_KEEPS:-?}"
printf 'A-stall: GET /crl rebuilt %s entries in %s s during the run; OCSP max latency %s ms (A alone: %s ms)\n' \
    "$((G_ENTRIES))" "${G_STALL:-?}" "$(kv out/A-stall.wrk WRK max_ms)" "$(kv out/A.wrk WRK max_ms)"
echo
echo "-- CRL: $N_REVOKED revoked serials (17 octets, reasons: none / keyCompromise / superseded in turn)"
printf 'setup:    bench/mkrevoked caC %s: %s s (built with: %s)\n' "$N_REVOKED" "$mk_s" \
    "$(printf '%s ' "${MK_CMD[@]}" | sed "s|$W/bin/|\$W/bin/|g; s|$HERE/|bench/|g")"
printf '          store %s MiB; peer index.txt %s lines\n' "$db_mb" "$(wc -l <oca/index.txt)"
printf 'ca-revoke: %s -d DIR --crl -o FILE                 (after bumping db/revision: a new CRL)\n' ca-revoke
printf 'peer:      openssl ca -config openssl.cnf -gencrl -out FILE.pem\n'
echo
printf '%-40s %9s %9s %11s %9s %8s\n' command median_s runs_s entries bytes rss_KiB
printf '%-40s %9s %9s %11s %9s %8s\n' "ca-revoke -d DIR --crl" "$CRL_MED" \
    "$(IFS=/; echo "${CRL_S[*]}")" "$CRL_ENTRIES" "$CRL_BYTES" "$CRL_RSS"
printf '%-40s %9s %9s %11s %9s %8s\n' "openssl ca -gencrl (PEM)" "$OCA_MED" \
    "$(IFS=/; echo "${OCA_S[*]}")" "$OCA_ENTRIES" "$OCA_BYTES" "$OCA_RSS"
printf '%-40s %9s\n' "ca-revoke --crl, nothing changed" "$CRL_CACHED_S"
printf '(openssl ca CRL as DER: %s bytes; ca-revoke does not sort entries, openssl ca does)\n' "$OCA_DER_BYTES"
echo
printf 'ratio openssl ca -gencrl / ca-revoke --crl (time): %sx\n' "$RATIO_CRL"
echo
echo "-- GET /crl from ca-serve (curl time_total, the same host)"
printf '  stored CRL, first request  %s s\n' "$G_STORED"
printf '  from memory                %s s\n' "$G_MEM"
printf '  rebuilt after ca-revoke -d %s s (%s entries)\n' "$G_REBUILT" "$G_ENTRIES"
printf '  from memory                %s s\n' "$G_MEM2"
echo
echo "targets:"
printf '  OCSP (A) >= %d responses/s:                  %-4s (%s/s)\n' "$OCSP_TARGET" \
    "$(atleast "$A_RATE" "$OCSP_TARGET")" "$A_RATE"
printf '  ca-revoke --crl, %d entries < %d s:       %-4s (%s s median)\n' "$N_REVOKED" \
    "$CRL_TARGET" "$(below "$CRL_MED" "$CRL_TARGET")" "$CRL_MED"
echo
echo "correctness:"
printf '  openssl ocsp -url ... -CAfile root -VAfile inter: good/revoked(keyCompromise)/unknown, both responders\n'
printf '  POSTed requests verified (openssl ocsp -respin); revocation seen by the cache at once\n'
printf '  ca-serve log (A): %s POST /ocsp 200, %s other, %s ocsp=error\n' \
    "$A_LOG_OK" "$A_LOG_OTHER" "$A_LOG_ERR"
printf '  CRLs: openssl crl -CAfile inter.pem: verify OK; entries (serial, date, reason) as expected\n'
printf '  checks failed: %d\n' "$failures"
if ((${#ANOMALIES[@]} > 0)); then
	echo
	echo "anomalies:"
	printf '  %s\n' "${ANOMALIES[@]}"
fi

if [[ $PROF == perf ]]; then
	echo
	echo "== profile: perf record -g on ca-serve during A (top shared objects, then symbols, self time)"
	perf report -i out/perf.data --no-children --sort dso --stdio 2>/dev/null |
	    grep -E '^ +[0-9]' | head -n 10 || true
	echo
	perf report -i out/perf.data --no-children --sort dso,sym --stdio -g none 2>/dev/null |
	    grep -E '^ +[0-9]' | head -n 25 || true
elif [[ $PROF != none ]]; then
	echo
	echo "profile: $PROF"
fi

finish
