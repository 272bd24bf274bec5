#!/bin/bash
# serve.sh - ca-serve against cfssl serve and gnutls-serv, in the same run.
#
# Usage: bench/serve.sh [SECONDS]     (or DURATION=... bench/serve.sh; default 10)
#
# Environment:
#   DURATION     seconds per timed wrk and s_time run (the first argument wins)
#   CA_BIN       directory holding ca-init, ca-serve, ca-db; otherwise
#                $(dirname "$0")/../_build/bin, then /work/main/_build/bin,
#                then $PATH
#   CLIENTS      wrk connections for A (default 16); WRK_THREADS (default 2)
#   CAP_A, CAP_CFDB, CAP_CFPLAIN
#                request bodies built per second of DURATION for ca-serve,
#                cfssl with its store, plain cfssl (default 5000, 3000,
#                12000). Tokens are single-use, so a wrk thread that runs
#                out stops; the report then says EXHAUSTED and the rate is
#                a lower bound: raise the cap.
#   N_C, C_CONC  inetd-mode signs and parallel clients (default 1000, 8)
#   N_E          inetd-mode signs with the encrypted intermediate (default 100)
#   SAMPLE       certificates checked with openssl verify per server (10)
#   PROFILE=0    skip the profile (strace, callgrind: about a minute)
#   KEEP=1       keep the scratch directory (its path is printed)
#   TMPDIR       where the scratch directory is made (ca-serve fsyncs: the
#                file system matters)
#
# Scenarios (one run, peers next to each other):
#   A     ca-serve standalone, HTTPS keep-alive, CLIENTS wrk connections,
#         POST /sign, each body a distinct CSR with its own one-time token
#   peer  cfssl serve, the same CSRs: (1) /api/v1/cfssl/authsign (HMAC auth),
#         TLS, SQLite certificate store; (2) /api/v1/cfssl/sign, plain HTTP,
#         no store, no authentication
#   AP    A again with privilege separation (--user nobody as root, else
#         --privsep): the signer in its own process, right after A
#   A16   ca-serve --threads 16 (a diagnostic, not a target)
#   B     a new TLS connection per request: openssl s_time -new -www /health
#         against ca-serve (three times: its rate varies a lot; the target
#         takes the median), gnutls-serv --http (the raw handshake rate, same
#         EC P-256 certificate) and gnutls-serv set up like ca-serve
#   C     ca-serve --inetd under systemd-socket-activate -a --inetd on a Unix
#         socket: a process per connection; unencrypted, then encrypted
#         intermediate key (--password-file)
# The order is A, AP, peers, A16, B, C, then the profile.
#
# Exit status: 0 when every correctness check passes, whether or not the
# performance targets are met (this is a benchmark, not a test); 1 when a
# correctness check fails; 2 on a usage error or missing tool.
#
# Shared code (tools, scratch directory, servers, report lines):
# bench/lib.sh.
#
# Needs Debian packages: bash 5, wrk, golang-cfssl, gnutls-bin, openssl,
# curl, systemd (systemd-socket-activate), iproute2 (ss), python3 with
# python3-joserfc and python3-cryptography; optionally time (/usr/bin/time),
# binutils (strings), strace, valgrind.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

# --- arguments and tools ---------------------------------------------------

set_duration "${1:-}"
CLIENTS=${CLIENTS:-16}; posint CLIENTS
WRK_THREADS=${WRK_THREADS:-2}; posint WRK_THREADS
CAP_A=${CAP_A:-5000}; posint CAP_A
CAP_CFDB=${CAP_CFDB:-3000}; posint CAP_CFDB
CAP_CFPLAIN=${CAP_CFPLAIN:-12000}; posint CAP_CFPLAIN
N_C=${N_C:-1000}; posint N_C
C_CONC=${C_CONC:-8}; posint C_CONC
N_E=${N_E:-100}; posint N_E
SAMPLE=${SAMPLE:-10}; posint SAMPLE
PROFILE=${PROFILE:-1}
KEEP=${KEEP:-0}
PYTHON=${PYTHON:-python3}
((WRK_THREADS <= CLIENTS)) || die "WRK_THREADS must not exceed CLIENTS"

use_tools ca-serve ca-init ca-serve ca-db
need wrk cfssl gnutls-serv openssl curl systemd-socket-activate ss "$PYTHON"
for f in serve-sign.lua serve-tool.py; do
	[[ -r $HERE/$f ]] || die "$HERE/$f not found"
done
need_joserfc
find_gnu_time
HAVE_STRACE=0
command -v strace >/dev/null && HAVE_STRACE=1
HAVE_VALGRIND=0
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null &&
    command -v callgrind_control >/dev/null && HAVE_VALGRIND=1

# --- scratch directory -----------------------------------------------------

scratch ca-bench-serve
mkdir bin bodies logs out
copy_tools
cp "$HERE/serve-sign.lua" "$HERE/serve-tool.py" bin/
LUA=$W/bin/serve-sign.lua
TOOL=$W/bin/serve-tool.py

# --- small helpers ---------------------------------------------------------

# cpu_ticks PID: user and system clock ticks of a process (all threads)
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return; }
	s=${s##*) }
	awk '{ print $12, $13 }' <<<"$s"
}

# free_listen PID: the TCP port a process listens on (IPv4), polled for
# up to 20 s: for servers that cannot report the port they bound (port 0).
listen_port() {
	local pid=$1 i p
	for ((i = 0; i < 200; i++)); do
		p=$(ss -Hltnp 2>/dev/null | awk -v pid="pid=$pid," '
		    index($0, pid) && $4 ~ /^(127\.0\.0\.1|0\.0\.0\.0):/ {
			sub(/.*:/, "", $4); print $4; exit }')
		if [[ -n $p ]]; then
			echo "$p"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# child_of PID PROGRAM: the child of PID that runs PROGRAM (polled for up
# to 5 s; strace, for one, starts short-lived probe children first)
child_of() {
	local i c exe
	for ((i = 0; i < 100; i++)); do
		for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null || true); do
			exe=$(readlink "/proc/$c/exe" 2>/dev/null || true)
			if [[ ${exe##*/} == "$2" ]]; then
				echo "$c"
				return 0
			fi
		done
		sleep 0.05
	done
	return 1
}

# non2xx LOG...: requests answered with a status of 300 or more
count_non2xx() {
	awk '{
		for (i = 1; i <= NF - 2; i++)
			if ($i ~ /^(GET|POST|PUT|DELETE|HEAD)$/ && $(i + 2) ~ /^[0-9][0-9][0-9]$/) {
				if ($(i + 2) >= 300) n++
				break
			}
	} END { print n + 0 }' "$@" 2>/dev/null
}

# rows_bench DIR: certificates the provisioner "bench" has in ca-db's list
rows_bench() {
	"$CA_DB" -d "$1" list --json | "$PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r.get("provisioner") == "bench"))'
}

# check_store NAME DIR LOG...: one row per 201 in the logs, ca-db check ok
check_store() {
	local name=$1 dir=$2 rows signed st out
	shift 2
	signed=$(count_signed "$@")
	rows=$(rows_bench "$dir") || { fail "$name: ca-db -d $dir list failed"; rows="?"; }
	if [[ $rows != "$signed" ]]; then
		fail "$name: ca-db list has $rows rows, the server logs $signed answers 201"
	fi
	st=0
	out=$("$CA_DB" -d "$dir" check 2>&1) || st=$?
	if ((st != 0)); then
		fail "$name: ca-db -d $dir check exited $st: $(tail -n 3 <<<"$out")"
		out=FAILED
	else
		out=ok
	fi
	STORE_CHECK+=("$(printf '%-26s rows %7s  logged 201s %7s  ca-db check %s' "$name:" "$rows" "$signed" "$out")")
}
STORE_CHECK=()

# verify_saved LABEL DIR ROOT: openssl verify every I.crt (chain I.ca)
# and its SAN against the name the request asked for (TAG-NNNNNN.bench)
verify_saved() {
	local label=$1 dir=$2 root=$3 tag=$4 f i n out san
	n=0
	for f in "$dir"/*.crt; do
		[[ -e $f ]] || continue
		i=${f##*/}
		i=${i%.crt}
		out=$(openssl verify -CAfile "$root" -untrusted "$dir/$i.ca" "$f" 2>&1) ||
		    { fail "$label: openssl verify $f: $out"; continue; }
		san=$(openssl x509 -in "$f" -noout -ext subjectAltName 2>&1 | tail -n +2 | tr -d ' ')
		printf -v want 'DNS:%s-%06d.bench' "$tag" "$i"
		[[ $san == "$want" ]] || fail "$label: $f: SAN '$san', expected $want"
		n=$((n + 1))
	done
	((n > 0)) || fail "$label: no certificate to verify"
	VERIFIED+=("$label: $n")
}
VERIFIED=()

# wrk_run NAME URL PREFIX PATH SERVER-PID: one timed wrk run; the results
# go to out/NAME.wrk (the WRK line), server CPU to out/NAME.cpu
wrk_run() {
	local name=$1 url=$2 prefix=$3 path=$4 pid=$5 c0 c1 st=0
	c0=$(cpu_ticks "$pid")
	if [[ -n $GNU_TIME ]]; then
		"$GNU_TIME" -o "out/$name.wrktime" -f '%U %S' \
		    wrk -t"$WRK_THREADS" -c"$CLIENTS" -d"${D}s" --timeout 10s --latency \
		    -s "$LUA" "$url" -- "$prefix" "$path" >"out/$name.wrk" 2>&1 || st=$?
	else
		wrk -t"$WRK_THREADS" -c"$CLIENTS" -d"${D}s" --timeout 10s --latency \
		    -s "$LUA" "$url" -- "$prefix" "$path" >"out/$name.wrk" 2>&1 || st=$?
	fi
	c1=$(cpu_ticks "$pid")
	wrk_check "$name" "$st"
	awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ");
	    print y[1] - x[1], y[2] - x[2] }' >"out/$name.cpu"
}

# --- machine, versions -----------------------------------------------------

machine
v_ca=$("$CA_SERVE" --version | head -n 1)
v_cfssl=$( (cfssl version 2>/dev/null || true) | head -n 1 | sed 's/^Version: *//')
v_cfssl_deb=$(deb_version golang-cfssl)
v_gnutls=$( (gnutls-serv --version 2>/dev/null || true) | head -n 1)
v_openssl=$(openssl version | awk '{ print $1, $2 }')
v_wrk=$(wrk_version)
v_mhd=$(deb_version libmicrohttpd12)

# --- CAs and keys ----------------------------------------------------------

password_file
note "setting up CAs and building request bodies"

# One unencrypted CA copied for every ca-serve scenario that needs one
# (its own store each), one with an encrypted intermediate key for C'.
"$CA_INIT" -d caA --name Bench --dns localhost,127.0.0.1 \
    --address 127.0.0.1:8443 --provisioner bench --password-file pw \
    --unencrypted-intermediate-key --provisioner-key-out prov.json -q >/dev/null
cp -a caA caA16
cp -a caA caAP
cp -a caA caP
cp -a caA caC
"$CA_INIT" -d caE --name BenchE --dns localhost,127.0.0.1 \
    --address 127.0.0.1:8443 --provisioner bench --password-file pw \
    --provisioner-key-out provE.json -q >/dev/null
ROOT=$W/caA/certs/root_ca.crt
ROOT_E=$W/caE/certs/root_ca.crt
# The audience ca-token -d puts in a token: the configured address.
AUD=https://localhost:8443/1.0/sign

# cfssl: a self-signed EC P-256 CA (it signs leaves directly), a TLS
# certificate from it, HMAC auth key, SQLite store with cfssl's schema
# (certdb/sqlite/migrations/001_CreateCertificates.sql).
mkdir cf
(
	cd cf
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout ca.key -out ca.crt -days 30 -sha256 \
	    -subj "/O=Bench/CN=Bench cfssl CA" \
	    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout tls.key -subj /CN=localhost \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -out tls.csr 2>/dev/null
	openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -days 2 \
	    -copy_extensions copy -out tls.crt 2>/dev/null
	openssl rand -hex 16 >authkey
	cat >config-db.json <<EOF
{"signing": {"default": {"auth_key": "bench", "expiry": "24h",
  "usages": ["digital signature", "server auth", "client auth"]}},
 "auth_keys": {"bench": {"type": "standard", "key": "$(cat authkey)"}}}
EOF
	cat >config-plain.json <<'EOF'
{"signing": {"default": {"expiry": "24h",
  "usages": ["digital signature", "server auth", "client auth"]}}}
EOF
	"$PYTHON" - <<'EOF'
import sqlite3
c = sqlite3.connect("certs.db")
c.executescript("""
CREATE TABLE certificates (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  ca_label                 blob,
  status                   blob NOT NULL,
  reason                   int,
  created_at               timestamp,
  expiry                   timestamp,
  revoked_at               timestamp,
  pem                      blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE INDEX certificates_created_at ON certificates (created_at);
CREATE INDEX certificates_revoked_at ON certificates (revoked_at);
CREATE TABLE ocsp_responses (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  body                     blob NOT NULL,
  expiry                   timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier),
  FOREIGN KEY(serial_number, authority_key_identifier)
    REFERENCES certificates(serial_number, authority_key_identifier)
);
""")
c.commit()
EOF
	printf '{"driver":"sqlite3","data_source":"%s/certs.db"}\n' "$PWD" >db.json
)

# --- request bodies (untimed) ----------------------------------------------

# Per wrk thread k a file PREFIX.k; every body names TAG-NNNNNN.bench.
per_thread() {
	echo $(((D * $1 + WRK_THREADS - 1) / WRK_THREADS))
}
t0=$(now)
nA=$(per_thread "$CAP_A")
nCFDB=$(per_thread "$CAP_CFDB")
nCFP=$(per_thread "$CAP_CFPLAIN")
for ((k = 0; k < WRK_THREADS; k++)); do
	job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$nA" "a$k" "bodies/A.$k"
	job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$nA" "s$k" "bodies/A16.$k"
	job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$nA" "q$k" "bodies/AP.$k"
	job "$PYTHON" "$TOOL" cfssl-bodies auth cf/authkey "$nCFDB" "d$k" "bodies/CFDB.$k"
	job "$PYTHON" "$TOOL" cfssl-bodies plain cf/authkey "$nCFP" "p$k" "bodies/CFP.$k"
done
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$SAMPLE" chk bodies/A.check
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" 2 cfchk bodies/cfchk.tmp
job "$PYTHON" "$TOOL" cfssl-bodies auth cf/authkey 1 cfa bodies/CFDB.check
job "$PYTHON" "$TOOL" cfssl-bodies plain cf/authkey 1 cfp bodies/CFP.check
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$N_C" c bodies/C
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" 60 cr bodies/C.rss
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" 50 cs bodies/C.seq
job "$PYTHON" "$TOOL" ca-bodies provE.json "$ROOT_E" bench "$AUD" "$N_E" e bodies/E
job "$PYTHON" "$TOOL" ca-bodies provE.json "$ROOT_E" bench "$AUD" 30 er bodies/E.rss
if [[ $PROFILE == 1 ]]; then
	nS=$(per_thread 2000)
	for ((k = 0; k < WRK_THREADS; k++)); do
		job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$nS" "f$k" "bodies/S2.$k"
		job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$nS" "g$k" "bodies/S16.$k"
	done
	job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" 105 cg bodies/CG
fi
jobs_wait
t1=$(now)
bodies_s=$(elapsed "$t0" "$t1")

# Warm the page cache with every binary the timed runs start.
for ((i = 0; i < 5; i++)); do
	"$CA_SERVE" --version >/dev/null
	wrk -v >/dev/null 2>&1 || true
	cfssl version >/dev/null 2>&1 || true
	openssl version >/dev/null
done

# --- A: standalone ca-serve, keep-alive ------------------------------------

note "A: ca-serve, ${D}s"
start_ca_serve A caA
A_PID=$SRV_PID
A_PORT=$SRV_PORT

# Correctness first, with tools nobody here wrote: curl trusting only the
# root, and openssl verify on what a verifying client received.
out=$(curl -sS --cacert "$ROOT" -w '\n%{http_code}' "https://localhost:$A_PORT/health" 2>&1) ||
    fail "A: curl --cacert /health: $out"
[[ ${out##*$'\n'} == 200 ]] || fail "A: /health answered ${out##*$'\n'}"
head -n 1 bodies/cfchk.tmp >bodies/curl-sign.json
mkdir -p out/A.curl
out=$(curl -sS --cacert "$ROOT" -H 'Content-Type: application/json' \
    --data @bodies/curl-sign.json -o out/A.curl/resp.json -w '%{http_code}' \
    "https://localhost:$A_PORT/sign" 2>&1) || fail "A: curl --cacert /sign: $out"
if [[ $out == 201 ]]; then
	"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/0.crt", "w").write(d["crt"])
open(sys.argv[2] + "/0.ca", "w").write(d["ca"])' out/A.curl/resp.json out/A.curl
	verify_saved "A (curl)" out/A.curl "$ROOT" cfchk
else
	fail "A: curl /sign answered $out"
fi
mkdir -p out/A.saved
SAVE=$W/out/A.saved "$PYTHON" "$TOOL" client "127.0.0.1:$A_PORT" "$ROOT" \
    bodies/A.check 2 /sign >out/A.check.client
verify_saved "A (python https)" out/A.saved "$ROOT" chk

wrk_run A "https://127.0.0.1:$A_PORT/sign" bodies/A /sign "$A_PID"
A_HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$A_PID/status" 2>/dev/null || echo '?')
A_THREADS=$(awk '/^Threads/ { print $2 }' "/proc/$A_PID/status" 2>/dev/null || echo '?')
# The server keeps running: B measures it too.

# --- AP: the same with privilege separation, right after A -----------------

if [[ $(id -u) == 0 ]]; then AP_OPT=(--user nobody); else AP_OPT=(--privsep); fi
note "AP: ca-serve ${AP_OPT[*]}, ${D}s"
start_ca_serve AP caAP "${AP_OPT[@]}"
AP_PID=$SRV_PID
wrk_run AP "https://127.0.0.1:$SRV_PORT/sign" bodies/AP /sign "$AP_PID"
stop_server "$AP_PID" "ca-serve ${AP_OPT[*]}"

# --- peers: cfssl serve ----------------------------------------------------

note "peer: cfssl serve with SQLite store, TLS, auth, ${D}s"
(
	cd cf
	exec cfssl serve -address 127.0.0.1 -port 0 -ca ca.crt -ca-key ca.key \
	    -config config-db.json -db-config db.json \
	    -tls-cert tls.crt -tls-key tls.key
) >logs/cfdb.log 2>&1 &
CFDB_PID=$!
track "$CFDB_PID"
CFDB_PORT=$(listen_port "$CFDB_PID") || { cat logs/cfdb.log >&2; die "cfssl serve (store) did not start"; }
out=$(curl -sS --cacert cf/ca.crt --data @bodies/CFDB.check -o out/cfdb.check.json \
    -w '%{http_code}' "https://localhost:$CFDB_PORT/api/v1/cfssl/authsign" 2>&1) ||
    fail "peer (store): curl --cacert: $out"
wrk_run CFDB "https://127.0.0.1:$CFDB_PORT/api/v1/cfssl/authsign" bodies/CFDB \
    /api/v1/cfssl/authsign "$CFDB_PID"
stop_server "$CFDB_PID" "cfssl serve (store)" any

note "peer: cfssl serve, plain HTTP, no store, no auth, ${D}s"
(
	cd cf
	exec cfssl serve -address 127.0.0.1 -port 0 -ca ca.crt -ca-key ca.key \
	    -config config-plain.json
) >logs/cfplain.log 2>&1 &
CFP_PID=$!
track "$CFP_PID"
CFP_PORT=$(listen_port "$CFP_PID") || { cat logs/cfplain.log >&2; die "cfssl serve (plain) did not start"; }
out=$(curl -sS --data @bodies/CFP.check -o out/cfp.check.json -w '%{http_code}' \
    "http://127.0.0.1:$CFP_PORT/api/v1/cfssl/sign" 2>&1) || fail "peer (plain): curl: $out"
wrk_run CFP "http://127.0.0.1:$CFP_PORT/api/v1/cfssl/sign" bodies/CFP \
    /api/v1/cfssl/sign "$CFP_PID"
stop_server "$CFP_PID" "cfssl serve (plain)" any

# --- A16: ca-serve --threads 16 (diagnostic) -------------------------------

note "A16: ca-serve --threads 16, ${D}s"
start_ca_serve A16 caA16 --threads 16
A16_PID=$SRV_PID
wrk_run A16 "https://127.0.0.1:$SRV_PORT/sign" bodies/A16 /sign "$A16_PID"
stop_server "$A16_PID" "ca-serve --threads 16"

# --- B: a TLS handshake per request ----------------------------------------

# tls_params HOST PORT: what an OpenSSL client negotiates (one line)
tls_params() {
	local m b hrr creq
	m=$(openssl s_client -connect "127.0.0.1:$1" -msg </dev/null 2>&1 || true)
	b=$(openssl s_client -connect "127.0.0.1:$1" </dev/null 2>&1 || true)
	hrr=$(grep -c '>>> .*ClientHello' <<<"$m" || true)
	creq=$(grep -c 'CertificateRequest' <<<"$m" || true)
	printf '%s, %s, key exchange %s%s, client certificate %s\n' \
	    "$(sed -n 's/^New, \([^,]*\), Cipher is \(.*\)/\1 \2/p' <<<"$b" | head -n 1)" \
	    "$(sed -n 's/^Peer signature type: //p' <<<"$b" | head -n 1)" \
	    "$(sed -n 's/^Server Temp Key: \([^,]*\), \([^,]*\).*/\1 \2/p' <<<"$b" | head -n 1)" \
	    "$( ((hrr > 1)) && echo ' after a HelloRetryRequest' || true)" \
	    "$( ((creq > 0)) && echo requested || echo 'not requested')"
}

# stime NAME PORT PID: openssl s_time for $D seconds; out/NAME.stime has
# "conns wall_s client_user_s", out/NAME.cpu the server's ticks
stime() {
	local name=$1 port=$2 pid=$3 t0 t1 c0 c1 n cu st=0
	c0=$(cpu_ticks "$pid")
	t0=$(now)
	openssl s_time -connect "127.0.0.1:$port" -new -www /health -time "$D" \
	    >"out/$name.stime.raw" 2>&1 || st=$?
	t1=$(now)
	c1=$(cpu_ticks "$pid")
	((st == 0)) || fail "$name: openssl s_time exited $st: $(tail -n 2 "out/$name.stime.raw")"
	n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' "out/$name.stime.raw" | head -n 1)
	cu=$(sed -n 's/^[0-9]* connections in \([0-9.]*\)s;.*/\1/p' "out/$name.stime.raw" | head -n 1)
	[[ -n $n ]] || { fail "$name: no result from s_time"; n=0; cu=0; }
	echo "$n $(elapsed "$t0" "$t1") $cu" >"out/$name.stime"
	awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " ");
	    print y[1] - x[1], y[2] - x[2] }' >"out/$name.cpu"
}

# ca-serve's rate varies a lot from run to run (see the profile), so it
# is measured three times, between the peers: B1, raw, B2, like, B3.
note "B: s_time against ca-serve (3 times), gnutls-serv (2 set-ups), ${D}s each"
h0=$(grep -c 'GET /health 200' logs/A.log || true)
stime B1 "$A_PORT" "$A_PID"
B_PARAMS=$(tls_params "$A_PORT")

# gnutls-serv with ca-serve's own cached certificate (key, leaf, chain).
cp caA/secrets/ca-serve.pem gs.pem
chmod 600 gs.pem
cat caA/certs/root_ca.crt caA/certs/intermediate_ca.crt >gs-trust.pem
gnutls-serv --http -p 0 --x509certfile gs.pem --x509keyfile gs.pem \
    >logs/gs.log 2>&1 3>&- &
GS_PID=$!
track "$GS_PID"
GS_PORT=$(listen_port "$GS_PID") || { cat logs/gs.log >&2; die "gnutls-serv did not start"; }
stime Braw "$GS_PORT" "$GS_PID"
Braw_PARAMS=$(tls_params "$GS_PORT")
stop_server "$GS_PID" gnutls-serv any

stime B2 "$A_PORT" "$A_PID"

# The same, with ca-serve's TLS settings: its priority string (read from
# the binary) and a client-certificate request naming its CAs.
PRIO=
if command -v strings >/dev/null; then
	PRIO=$(strings "$CA_SERVE" | grep -m1 -E '^(NORMAL|SECURE|PERFORMANCE)[:%+-]' || true)
fi
if [[ -n $PRIO ]]; then
	gnutls-serv --http -p 0 --priority="$PRIO" --x509cafile gs-trust.pem \
	    --x509certfile gs.pem --x509keyfile gs.pem >logs/gs2.log 2>&1 3>&- &
	GS2_PID=$!
	track "$GS2_PID"
	GS2_PORT=$(listen_port "$GS2_PID") || { cat logs/gs2.log >&2; die "gnutls-serv (2) did not start"; }
	stime Blike "$GS2_PORT" "$GS2_PID"
	Blike_PARAMS=$(tls_params "$GS2_PORT")
	stop_server "$GS2_PID" "gnutls-serv (2)" any
fi

stime B3 "$A_PORT" "$A_PID"
h1=$(grep -c 'GET /health 200' logs/A.log || true)
B_HEALTH=$((h1 - h0))
stop_server "$A_PID" "ca-serve (A, B)"

# --- C: inetd mode, a process per connection --------------------------------

# activate NAME [--rss] -- ca-serve arguments: systemd-socket-activate -a
# --inetd on sock.NAME, its rusage (with all the ca-serve processes it
# reaped) in out/NAME.acttime; with --rss, each ca-serve runs under
# /usr/bin/time -f '%M %e' appending to out/NAME.rss
activate() {
	local name=$1 rss=0 fifo=$W/act.fifo line fd
	shift
	if [[ $1 == --rss ]]; then rss=1; shift; fi
	[[ $1 == -- ]] && shift
	SOCK=$W/sock.$name
	rm -f "$fifo" "$SOCK"
	mkfifo "$fifo"
	# Held open read-write so that the activator never writes to a fifo
	# without a reader.
	exec {fd}<>"$fifo"
	local -a cmd=(systemd-socket-activate -a --inetd -l "$SOCK")
	if ((rss)); then
		: >"out/$name.rss"
		cmd+=("$GNU_TIME" -a -o "$W/out/$name.rss" -f '%M %e')
	fi
	cmd+=("$CA_SERVE" --inetd "$@" --log-file "$W/logs/$name.log")
	if [[ -n $GNU_TIME ]]; then
		"$GNU_TIME" -o "out/$name.acttime" -f '%e %U %S' "${cmd[@]}" 2>"$fifo" 3>&- &
	else
		"${cmd[@]}" 2>"$fifo" 3>&- &
	fi
	ACT_WRAP=$!
	track "$ACT_WRAP"
	line=
	read -t 30 -r line <&"$fd" || true
	[[ $line == "Listening on $SOCK"* ]] || die "systemd-socket-activate: '$line'"
	# keep draining its stderr; cat ends when the activator does
	cat <"$fifo" >"logs/$name.act.err" &
	track "$!"
	exec {fd}<&-
	ACT_PID=$ACT_WRAP
	if [[ -n $GNU_TIME ]]; then
		ACT_PID=$(child_of "$ACT_WRAP" systemd-socket-activate) || die "systemd-socket-activate: no process under time"
		track "$ACT_PID"
	fi
}

# deactivate: once the activator's ca-serve children have all exited (up
# to 10 s), stop it
deactivate() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -z $(cat "/proc/$ACT_PID/task/$ACT_PID/children" 2>/dev/null) ]] && break
		sleep 0.1
	done
	((i < 100)) || anomaly "inetd: ca-serve processes still running 10 s after their client finished"
	kill -TERM "$ACT_PID" 2>/dev/null || true
	wait "$ACT_WRAP" 2>/dev/null || true
}

# uclient NAME ROOT BODIES CONC: the Python client over $SOCK; the
# certificates go to out/NAME.saved/
uclient() {
	local name=$1 root=$2 bodies=$3 conc=$4
	mkdir -p "out/$name.saved"
	SAVE=$W/out/$name.saved "$PYTHON" "$TOOL" client "unix:$SOCK" "$root" "$bodies" "$conc" /1.0/sign \
	    >"out/$name.client" 2>&1 || fail "$name: client failed: $(tail -n 2 "out/$name.client")"
	grep -q '^CLIENT ' "out/$name.client" || fail "$name: no result from the client"
}

# acttime_cpu NAME COUNT: CPU ms per connection of the activator and every
# process it reaped (ca-serve), from /usr/bin/time
acttime_cpu() {
	[[ -s out/$1.acttime ]] || { echo '?'; return; }
	tail -n 1 "out/$1.acttime" | awk -v n="$2" '{ if (n > 0) printf "%.2f", ($2 + $3) * 1000 / n; else print "?" }'
}

note "C: inetd mode, $N_C signs, $C_CONC clients; encrypted key, $N_E signs"
# One connection first: the server certificate is issued and cached then,
# not inside the timed run.
activate C -- -d "$W/caC"
COUNT=1 "$PYTHON" "$TOOL" client "unix:$SOCK" "$ROOT" - 1 /health >out/C.warm 2>&1 || true
deactivate
activate C -- -d "$W/caC"
uclient C "$ROOT" bodies/C "$C_CONC"
deactivate
C_CPU=$(acttime_cpu C "$(kv out/C.client CLIENT requests)")

# Sequential: the cost of one connection as a client sees it.
activate Cseq -- -d "$W/caC"
uclient Cseq "$ROOT" bodies/C.seq 1
COUNT=50 "$PYTHON" "$TOOL" client "unix:$SOCK" "$ROOT" - 1 /health >out/Cseqh.client 2>&1 ||
    fail "Cseqh: client failed"
deactivate
Cseq_CPU=$(acttime_cpu Cseq 100)
verify_saved "C (one client)" out/Cseq.saved "$ROOT" cs

if [[ -n $GNU_TIME ]]; then
	activate Crss --rss -- -d "$W/caC"
	uclient Crss "$ROOT" bodies/C.rss 4
	COUNT=20 "$PYTHON" "$TOOL" client "unix:$SOCK" "$ROOT" - 4 /health >out/Crssh.client 2>&1 ||
	    fail "Crss: /health client failed"
	deactivate
fi

activate E -- -d "$W/caE" --password-file "$W/pw"
COUNT=1 "$PYTHON" "$TOOL" client "unix:$SOCK" "$ROOT_E" - 1 /health >out/E.warm 2>&1 || true
deactivate
activate E -- -d "$W/caE" --password-file "$W/pw"
uclient E "$ROOT_E" bodies/E "$C_CONC"
deactivate
E_CPU=$(acttime_cpu E "$(kv out/E.client CLIENT requests)")
verify_saved "C' (encrypted key)" out/E.saved "$ROOT_E" e
if [[ -n $GNU_TIME ]]; then
	activate Erss --rss -- -d "$W/caE" --password-file "$W/pw"
	uclient Erss "$ROOT_E" bodies/E.rss 4
	deactivate
fi

# rss_stats NAME: "max_kib median_lifetime_ms processes abnormal"
rss_stats() {
	local f=out/$1.rss max n bad med
	[[ -s $f ]] || { echo "? ? 0 0"; return; }
	max=$(awk '/^[0-9]+ [0-9.]+$/ { print $1 }' "$f" | sort -n | tail -n 1)
	n=$(grep -cE '^[0-9]+ [0-9.]+$' "$f" || true)
	bad=$(grep -vcE '^[0-9]+ [0-9.]+$' "$f" || true)
	med=$(awk '/^[0-9]+ [0-9.]+$/ { print $2 }' "$f" | sort -n |
	    awk '{ a[NR] = $1 } END { if (NR) printf "%.0f", a[int((NR + 1) / 2)] * 1000; else print "?" }')
	echo "${max:-?} $med $n $bad"
}

# --- profile ---------------------------------------------------------------

PROF_OUT=$W/out/profile.txt
profile() {
	local pid port n st c0 c1
	: >"$PROF_OUT"
	{
		echo
		echo "== profile: where the time goes in A"
	} >>"$PROF_OUT"

	# Native cost per certificate from the timed runs.
	{
		echo
		echo "-- CPU per certificate in the timed runs (/proc/PID/stat; wrk: /usr/bin/time)"
		for s in A A16 CFDB CFP; do
			n=$(kv "out/$s.wrk" WRK requests)
			printf '  %-34s server %s ms user + %s ms system' "$(label "$s")" \
			    "$(ms_per "$n" "$(cut -d' ' -f1 "out/$s.cpu")")" \
			    "$(ms_per "$n" "$(cut -d' ' -f2 "out/$s.cpu")")"
			if [[ -s out/$s.wrktime ]]; then
				awk -v n="$n" '{ if (n > 0) printf ", wrk %.3f ms", ($1 + $2) * 1000 / n }' "out/$s.wrktime"
			fi
			echo
		done
		for s in A A16; do
			n=$(kv "out/$s.wrk" WRK requests)
			awk -v n="$n" -v c="$(cat "out/$s.cpu")" -v w="$(cat "out/$s.wrktime" 2>/dev/null || echo '0 0')" \
			    -v hz="$TCK" -v cpus="$cpus" -v sec="$(kv "out/$s.wrk" WRK seconds)" -v s="$s" 'BEGIN {
				split(c, x, " "); split(w, y, " ")
				if (n <= 0) exit
				per = (x[1] + x[2]) / hz / n + (y[1] + y[2]) / n
				printf "  %-4s CPU-bound ceiling: %d CPUs / %.3f ms (ca-serve + wrk) = %.0f certs/s; the run used %.0f%% of the CPUs\n",
				    s, cpus, per * 1000, cpus / per, ((x[1] + x[2]) / hz + y[1] + y[2]) / (sec * cpus) * 100
			}'
		done
		"$PYTHON" "$TOOL" ecdsa-speed 2>/dev/null | awk '$1 == "ECDSA" {
			for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
			if (v["sign_us"] == "") { print "  (native ECDSA timing not available)"; exit }
			printf "  native ECDSA P-256, GnuTLS %s, one thread: sign %s us, verify %s us\n", v["gnutls"], v["sign_us"], v["verify_us"]
			printf "    a certificate needs 2 verifications (token, CSR) + 1 signature = %.3f ms\n", (2 * v["verify_us"] + v["sign_us"]) / 1000
		}'
	} >>"$PROF_OUT"

	# fsyncs per certificate: strace on fsync/fdatasync/flock only
	# (seccomp-bpf: the other syscalls run untraced, at full speed).
	if ((HAVE_STRACE)); then
		echo >>"$PROF_OUT"
		echo "-- group commit: strace -f -c -w (seccomp-bpf) on fsync, fdatasync, flock; wrk -c$CLIENTS, 3 s" >>"$PROF_OUT"
		for th in 2 16; do
			local stp
			spawn_ready 60 strace -f --seccomp-bpf -c -w -e trace=fsync,fdatasync,flock \
			    -o "out/strace.S$th" "$CA_SERVE" -d caP --listen 127.0.0.1:0 \
			    --ready-fd 3 --threads "$th" --log-file "logs/S$th.log" \
			    2>>logs/S.err
			stp=$SRV_PID port=$SRV_PORT
			if [[ -z $port ]]; then
				echo "  (ca-serve under strace did not start)" >>"$PROF_OUT"
				kill "$stp" 2>/dev/null || true
				continue
			fi
			pid=$(child_of "$stp" ca-serve) || { echo "  (no ca-serve under strace)" >>"$PROF_OUT"; continue; }
			track "$pid"
			n=$(count_signed "logs/S$th.log")
			wrk -t"$WRK_THREADS" -c"$CLIENTS" -d3s --timeout 10s -s "$LUA" \
			    "https://127.0.0.1:$port/sign" -- "bodies/S$th" /sign >"out/S$th.wrk" 2>&1 || true
			kill -TERM "$pid" 2>/dev/null || true
			st=0
			wait "$stp" || st=$?
			((st == 0)) || fail "ca-serve under strace (--threads $th) exited $st"
			n=$(($(count_signed "logs/S$th.log") - n))
			# A write transaction takes the store's flock and drops it:
			# two flock calls per commit.
			awk -v n="$n" -v th="$th" '
			    $NF == "fsync" || $NF == "fdatasync" { fs += $4; us = $3 }
			    $NF == "flock" { fl += $4 }
			    END {
				c = fl / 2
				printf "  --threads %-2d %6d certs, %6d commits (flock pairs): %.2f certs/commit, %.2f fsync/commit, %.2f fsync/cert, %s us wall per fsync\n",
				    th, n, c, (c ? n / c : 0), (c ? fs / c : 0), (n ? fs / n : 0), us
			    }' "out/strace.S$th" >>"$PROF_OUT"
			printf '               rate under strace: %s certs/s\n' \
			    "$(rate "$(kv "out/S$th.wrk" WRK requests)" "$(kv "out/S$th.wrk" WRK seconds)")" >>"$PROF_OUT"
		done
		PROF_LOGS+=(logs/S2.log logs/S16.log)
	else
		echo "(strace not installed: fsync count skipped)" >>"$PROF_OUT"
	fi

	# Instructions per certificate: callgrind on a server that signs a
	# fixed number of requests, counters zeroed after warming up.
	echo >>"$PROF_OUT"
	if ((HAVE_VALGRIND)); then
		echo "-- callgrind: ca-serve signing 100 certificates over 4 keep-alive connections (after 5 to warm up)" >>"$PROF_OUT"
		head -n 5 bodies/CG >bodies/CG.warm
		tail -n 100 bodies/CG >bodies/CG.run
		spawn_ready 120 valgrind --tool=callgrind --callgrind-out-file="$W/out/callgrind.out" \
		    "$CA_SERVE" -d caP --listen 127.0.0.1:0 --ready-fd 3 \
		    --log-file logs/CG.log 2>out/valgrind.err
		pid=$SRV_PID port=$SRV_PORT
		if [[ -n $port ]]; then
			"$PYTHON" "$TOOL" client "127.0.0.1:$port" "$ROOT" bodies/CG.warm 4 /sign >out/CG.warm 2>&1 || true
			callgrind_control -z "$pid" >/dev/null 2>&1 || true
			"$PYTHON" "$TOOL" client "127.0.0.1:$port" "$ROOT" bodies/CG.run 4 /sign >out/CG.run 2>&1 || true
			kill -TERM "$pid" 2>/dev/null || true
			st=0
			wait "$pid" || st=$?
			((st == 0)) || fail "ca-serve under valgrind exited $st"
			n=$(kv out/CG.run CLIENT requests)
			"$PYTHON" "$TOOL" callgrind out/callgrind.out "$n" >>"$PROF_OUT" 2>&1 ||
			    echo "  (callgrind_annotate failed)" >>"$PROF_OUT"
			echo "  (valgrind's CPU model takes other code paths in nettle/GMP than this CPU: instruction shares are not time shares)" >>"$PROF_OUT"
		else
			echo "  (ca-serve under valgrind did not start)" >>"$PROF_OUT"
			kill "$pid" 2>/dev/null || true
		fi
		PROF_LOGS+=(logs/CG.log)
	else
		echo "(valgrind not installed: instruction profile skipped)" >>"$PROF_OUT"
	fi

	# B: syscalls per new TLS connection, ca-serve against gnutls-serv.
	if ((HAVE_STRACE)); then
		echo >>"$PROF_OUT"
		echo "-- B: syscalls per new connection (strace -f -c, s_time 2 s)" >>"$PROF_OUT"
		local stp c
		spawn_ready 60 strace -f -c -o out/strace.Bca "$CA_SERVE" -d caP --listen 127.0.0.1:0 \
		    --ready-fd 3 --log-file logs/SB.log 2>>logs/S.err
		stp=$SRV_PID port=$SRV_PORT
		if [[ -n $port ]]; then
			pid=$(child_of "$stp" ca-serve) || return 0
			track "$pid"
			openssl s_time -connect "127.0.0.1:$port" -new -www /health -time 2 >out/SB.stime 2>&1 || true
			kill -TERM "$pid" 2>/dev/null || true
			wait "$stp" || true
			c=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' out/SB.stime | head -n 1)
			sys_line out/strace.Bca "${c:-0}" ca-serve >>"$PROF_OUT"
		fi
		strace -f -c -o out/strace.Bgs gnutls-serv --http -p 0 \
		    --x509certfile gs.pem --x509keyfile gs.pem >logs/gs3.log 2>&1 3>&- &
		stp=$!
		track "$stp"
		local gp=
		pid=$(child_of "$stp" gnutls-serv || true)
		[[ -n $pid ]] && track "$pid"
		if [[ -n $pid ]] && gp=$(listen_port "$pid"); then
			openssl s_time -connect "127.0.0.1:$gp" -new -www /health -time 2 >out/SBg.stime 2>&1 || true
			kill -TERM "$pid" 2>/dev/null || true
			wait "$stp" || true
			c=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' out/SBg.stime | head -n 1)
			sys_line out/strace.Bgs "${c:-0}" gnutls-serv >>"$PROF_OUT"
		fi
	fi
}
PROF_LOGS=()

# sys_line STRACE-C-OUTPUT CONNECTIONS NAME
sys_line() {
	awk -v n="$2" -v name="$3" '
	    $1 ~ /^[0-9.]+$/ && $NF != "total" {
		calls[$NF] = $4; errs[$NF] = (NF == 6 ? $5 : 0); tot += $4 }
	    END {
		if (n <= 0) { printf "  %-12s no connections\n", name; exit }
		printf "  %-12s %5d conns: %6.1f syscalls/conn; epoll_wait %.1f, poll/select %.1f, recvfrom %.1f (%.1f EAGAIN), read %.1f (%.1f failed), accept4 %.1f (%.1f failed)\n",
		    name, n, tot / n, calls["epoll_wait"] / n,
		    (calls["poll"] + calls["select"] + calls["pselect6"] + calls["ppoll"]) / n,
		    calls["recvfrom"] / n, errs["recvfrom"] / n,
		    calls["read"] / n, errs["read"] / n, calls["accept4"] / n, errs["accept4"] / n
	    }' "$1"
}

label() {
	case $1 in
	A) echo "A    ca-serve (token, GDBM, TLS)" ;;
	CFDB) echo "peer cfssl authsign+SQLite+TLS" ;;
	CFP) echo "peer cfssl sign, plain, no store" ;;
	A16) echo "A16  ca-serve --threads 16" ;;
	AP) echo "AP   ca-serve, privilege separation" ;;
	*) echo "$1" ;;
	esac
}

if [[ $PROFILE == 1 ]]; then
	note "profile: strace, callgrind"
	profile
fi

# --- correctness -----------------------------------------------------------

note "checking"
for s in A AP CFDB CFP A16; do
	if [[ $(kv "out/$s.wrk" WRK exhausted) != 0 ]]; then
		anomaly "$s: a wrk thread ran out of request bodies (raise CAP_*): the rate is a lower bound"
	fi
	e=$(kv "out/$s.wrk" WRK timeout)
	[[ $e == 0 || $e == '?' ]] || anomaly "$s: wrk counted $e timeouts (10 s)"
done

scan_log "A (ca-serve)" logs/A.log
scan_log "A16 (ca-serve --threads 16)" logs/A16.log
scan_log "AP (ca-serve, privilege separation)" logs/AP.log
for l in C Cseq Crss E Erss; do
	[[ -e logs/$l.log ]] && scan_log "$l (ca-serve --inetd)" "logs/$l.log"
done
for l in "${PROF_LOGS[@]}"; do
	[[ -e $l ]] && scan_log "profile ${l#logs/}" "$l"
done
for l in logs/*.act.err; do
	if grep -qiE 'fail|error|abort|dump' "$l"; then
		anomaly "systemd-socket-activate (${l#logs/}): $(grep -m1 -iE 'fail|error|abort|dump' "$l" | cut -c1-200)"
	fi
done
for l in logs/*.err; do
	[[ $l == *.act.err ]] && continue
	if [[ -s $l ]]; then
		anomaly "stderr of ${l#logs/}: $(head -n 1 "$l" | cut -c1-200)"
	fi
done

check_store "A (caA)" caA logs/A.log
check_store "A16 (caA16)" caA16 logs/A16.log
check_store "AP (caAP)" caAP logs/AP.log
if [[ $PROFILE == 1 ]]; then
	check_store "profile (caP)" caP "${PROF_LOGS[@]}"
fi
cl=(logs/C.log logs/Cseq.log)
[[ -e logs/Crss.log ]] && cl+=(logs/Crss.log)
check_store "C (caC)" caC "${cl[@]}"
cl=(logs/E.log)
[[ -e logs/Erss.log ]] && cl+=(logs/Erss.log)
check_store "C' (caE)" caE "${cl[@]}"

# cfssl: its store has one row per 200 on authsign; the check certificates
# verify against its CA.
cf_rows=$("$PYTHON" -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select count(*) from certificates").fetchone()[0])' cf/certs.db)
cf_ok=$(grep -c '"POST /api/v1/cfssl/authsign" 200' logs/cfdb.log || true)
[[ $cf_rows == "$cf_ok" ]] || fail "peer (store): $cf_rows rows in certs.db, $cf_ok answers 200 in its log"
STORE_CHECK+=("$(printf '%-26s rows %7s  logged 200s %7s' "peer cfssl (SQLite):" "$cf_rows" "$cf_ok")")
for f in out/cfdb.check.json out/cfp.check.json; do
	if "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["success"], d
open(sys.argv[2], "w").write(d["result"]["certificate"])' "$f" "${f%.json}.crt" 2>/dev/null; then
		out=$(openssl verify -CAfile cf/ca.crt "${f%.json}.crt" 2>&1) ||
		    fail "peer: openssl verify ${f%.json}.crt: $out"
		VERIFIED+=("peer ${f#out/}: 1")
	else
		fail "peer: $f is not a successful cfssl answer: $(head -c 200 "$f")"
	fi
done
for s in CFDB CFP; do
	e=$(kv "out/$s.wrk" WRK non2xx)
	[[ $e == 0 ]] || anomaly "$s: wrk counted $e non-2xx answers"
done

# --- report ----------------------------------------------------------------

wrkrow() {
	local s=$1 ref=$2 n sec r p50 p99 mx nx er rr
	n=$(kv "out/$s.wrk" WRK requests)
	sec=$(kv "out/$s.wrk" WRK seconds)
	r=$(rate "$n" "$sec")
	p50=$(kv "out/$s.wrk" WRK p50_ms)
	p99=$(kv "out/$s.wrk" WRK p99_ms)
	mx=$(kv "out/$s.wrk" WRK max_ms)
	nx=$(kv "out/$s.wrk" WRK non2xx)
	er=$(wrk_errors "$s")
	rr=$(ratio "$r" "$ref")
	printf '%-34s %7s %8s %9s %8s %8s %8s %7s %6s %7s\n' "$(label "$s")" "$n" "$sec" "$r" \
	    "$p50" "$p99" "$mx" "$nx" "$er" "${rr}x"
}

rA=$(rateof A)
rCFDB=$(rateof CFDB)
rCFP=$(rateof CFP)
p99A=$(kv out/A.wrk WRK p99_ms)
rAP=$(rateof AP)
p99AP=$(kv out/AP.wrk WRK p99_ms)

echo "== ca-tools server benchmark: ca-serve vs cfssl serve and gnutls-serv"
print_machine
printf 'tools:    %s, copied from %s/ (built %s, sha256 %s), libmicrohttpd %s\n' \
    "$v_ca" "$BIN" "$build_time" "$build_id" "$v_mhd"
printf '          cfssl %s (Debian golang-cfssl %s), %s, %s, %s\n' \
    "$v_cfssl" "$v_cfssl_deb" "$v_gnutls" "$v_openssl" "$v_wrk"
print_scratch
printf 'bodies:   %s s to build (python: joserfc tokens, cryptography CSRs, untimed)\n' "$bodies_s"
printf 'method:   load generator on the same CPUs; order A, peer (store), peer (plain), A16, B, C\n'
echo
echo "A. POST /sign, HTTPS keep-alive: wrk -t$WRK_THREADS -c$CLIENTS -d${D}s, a distinct CSR and one-time token per request"
printf '%-34s %7s %8s %9s %8s %8s %8s %7s %6s %7s\n' scenario count seconds certs/s \
    "p50 ms" "p99 ms" "max ms" non2xx errors "vs A"
wrkrow A "$rA"
wrkrow AP "$rA"
wrkrow CFDB "$rA"
wrkrow CFP "$rA"
wrkrow A16 "$rA"
printf '  ratios: ca-serve/cfssl-with-store %sx, ca-serve/cfssl-plain %sx\n' \
    "$(ratio "$rA" "$rCFDB")" "$(ratio "$rA" "$rCFP")"
printf '  server logs: A (with its checks and B'"'"'s /health) %s; A16 %s\n' "$(statuses logs/A.log)" "$(statuses logs/A16.log)"
printf '  A server after the run: %s threads, peak RSS (VmHWM) %s KiB\n' "$A_THREADS" "$A_HWM"
printf '  cfssl: %s answers 200 on authsign (store), %s on sign (plain)\n' \
    "$cf_ok" "$(grep -c '"POST /api/v1/cfssl/sign" 200' logs/cfplain.log || true)"
echo

brow() {
	local s=$1 ref=$2 n sec cu r u sy
	read -r n sec cu <"out/$s.stime"
	r=$(rate "$n" "$sec")
	read -r u sy <"out/$s.cpu"
	printf '%-40s %6s %8s %9s %8s %8s %7s\n' "$3" "$n" "$sec" "$r" \
	    "$(ms_per "$n" "$u")" "$(ms_per "$n" "$sy")" "$(ratio "$r" "$ref")x"
}
B_r=0 Braw_r=0 B_n=0
for s in B1 B2 B3; do
	read -r n sec _ <"out/$s.stime"
	rate "$n" "$sec"
	echo
	B_n=$((B_n + n))
done >out/B.rates
B_r=$(sort -n out/B.rates | sed -n 2p)
read -r n sec _ <out/Braw.stime
Braw_r=$(rate "$n" "$sec")
echo "B. a new TLS connection per request: openssl s_time -new -www /health -time $D (sequential); order run 1, raw, run 2, like, run 3"
printf '%-40s %6s %8s %9s %8s %8s %7s\n' scenario conns seconds conns/s \
    "usr ms" "sys ms" "vs raw"
brow B1 "$Braw_r" "B    ca-serve, run 1"
brow Braw "$Braw_r" "raw  gnutls-serv --http (defaults)"
brow B2 "$Braw_r" "B    ca-serve, run 2"
[[ -s out/Blike.stime ]] && brow Blike "$Braw_r" "     gnutls-serv, ca-serve's TLS settings"
brow B3 "$Braw_r" "B    ca-serve, run 3"
printf '%-40s %6s %8s %9s %8s %8s %7s\n' "B    ca-serve, median of 3" "" "" "$B_r" "" "" "$(ratio "$B_r" "$Braw_r")x"
printf '  (usr/sys ms: server CPU per connection; seconds: wall clock around s_time, whose -time counts whole seconds)\n'
printf '  ca-serve:          %s\n' "$B_PARAMS"
printf '  gnutls-serv:       %s\n' "$Braw_PARAMS"
[[ -n ${Blike_PARAMS:-} ]] && printf '  gnutls-serv like:  %s\n' "$Blike_PARAMS"
printf '  ca-serve answered %s x GET /health 200 in runs 1-3 (s_time counted %s)\n' "$B_HEALTH" "$B_n"
echo

crow() {
	local s=$1 lbl=$2 cpu=$3 n sec
	n=$(kv "out/$s.client" CLIENT requests)
	sec=$(kv "out/$s.client" CLIENT seconds)
	printf '%-40s %6s %8s %9s %8s %8s %9s  %s\n' "$lbl" "$n" "$sec" "$(rate "$n" "$sec")" \
	    "$(kv "out/$s.client" CLIENT p50_ms)" "$(kv "out/$s.client" CLIENT p99_ms)" "$cpu" \
	    "$(kv "out/$s.client" CLIENT codes)"
}
echo "C. inetd mode: systemd-socket-activate -a --inetd on a Unix socket, a ca-serve process per connection"
echo "   (client: python, a TLS connection per request, verifying against the root)"
printf '%-40s %6s %8s %9s %8s %8s %9s  %s\n' scenario count seconds signs/s "p50 ms" "p99 ms" "cpu ms/c" codes
crow C "C    unencrypted key, $C_CONC clients" "$C_CPU"
crow E "C'   encrypted key (PBKDF2), $C_CONC clients" "$E_CPU"
crow Cseq "     unencrypted, one client, /sign" "$Cseq_CPU"
crow Cseqh "     unencrypted, one client, /health" "-"
printf '  (cpu ms/c: CPU of every process systemd-socket-activate reaped, per connection)\n'
rC=$(rate "$(kv out/C.client CLIENT requests)" "$(kv out/C.client CLIENT seconds)")
rssC="?" rssE="?"
if [[ -n $GNU_TIME ]]; then
	read -r rssC lifeC nC badC < <(rss_stats Crss)
	read -r rssE lifeE nE badE < <(rss_stats Erss)
	printf '  peak RSS per ca-serve process (/usr/bin/time -f %%M around each): unencrypted max %s KiB of %s processes, encrypted max %s KiB of %s\n' \
	    "$rssC" "$nC" "$rssE" "$nE"
	printf '  ca-serve process lifetime (median, /usr/bin/time %%e): unencrypted %s ms, encrypted %s ms\n' "$lifeC" "$lifeE"
	((badC + badE == 0)) || fail "inetd: $((badC + badE)) ca-serve processes ended abnormally: $(grep -hv -E '^[0-9]+ [0-9.]+$' out/Crss.rss out/Erss.rss | sort | uniq -c | head -n 3 | paste -sd';')"
else
	echo "  peak RSS: /usr/bin/time (GNU time, package 'time') not found: skipped"
fi
echo

echo "targets:"
printf '  A ca-serve >= 2500 certs/s:              %-4s (%s certs/s, %s%% of target)\n' \
    "$(atleast "$rA" 2500)" "$rA" "$(awk -v r="$rA" 'BEGIN { printf "%.0f", r / 2500 * 100 }')"
printf '  A ca-serve p99 < 10 ms:                  %-4s (%s ms)\n' "$(below "$p99A" 10)" "$p99A"
APratio=$(ratio "$rAP" "$rA")
printf '  AP privilege separation >= 90%% of A:    %-4s (%s vs %s certs/s = %s%%; p99 %s vs %s ms)\n' \
    "$(atleast "$APratio" 0.90)" "$rAP" "$rA" "$(awk -v r="$APratio" 'BEGIN { printf "%.0f", r * 100 }')" \
    "$p99AP" "$p99A"
Bratio=$(ratio "$B_r" "$Braw_r")
printf '  B ca-serve >= 70%% of raw TLS rate:       %-4s (median %s/s vs %s/s = %s%%)\n' \
    "$(atleast "$Bratio" 0.70)" "$B_r" "$Braw_r" "$(awk -v r="$Bratio" 'BEGIN { printf "%.0f", r * 100 }')"
printf '  C inetd >= 100 signs/s:                  %-4s (%s signs/s)\n' "$(atleast "$rC" 100)" "$rC"
if [[ $rssC != '?' ]]; then
	printf '  C peak RSS < 10240 KiB per process:      %-4s (%s KiB unencrypted, %s KiB encrypted)\n' \
	    "$(below "$(awk -v a="$rssC" -v b="$rssE" 'BEGIN { print (b + 0 > a + 0 ? b : a) }')" 10240)" "$rssC" "$rssE"
else
	printf '  C peak RSS < 10240 KiB per process:      SKIP (no GNU time)\n'
fi
echo

echo "correctness:"
printf '  %s\n' "${STORE_CHECK[@]}"
printf '  openssl verify + SAN: %s\n' "$(printf '%s; ' "${VERIFIED[@]}")"
printf '  C/C'"'"' clients verified every TLS connection against the root (python ssl)\n'
print_checks

if [[ $PROFILE == 1 ]]; then
	cat "$PROF_OUT"
fi

finish
