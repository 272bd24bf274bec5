#!/bin/bash
# ra.sh - POST /sign through a registration authority against the same
# request straight to its CA, in the same run.
#
# Usage: bench/ra.sh [SECONDS]     (or DURATION=... bench/ra.sh; default 10)
#
# Environment:
#   DURATION     seconds per timed wrk run (the first argument wins); four
#                timed runs: the default run takes about 70 s with the
#                profile, 50 s without (2 CPUs)
#   CA_BIN       directory holding ca-init, ca-serve, ca-db, ca-token,
#                ca-sign; otherwise $(dirname "$0")/../_build/bin, then
#                /work/main/_build/bin, then $PATH
#   CLIENTS      wrk connections for T (default 8); WRK_THREADS (default 2)
#   CAP_SEQ      request bodies built per second of DURATION for each L run
#                (default 1500)
#   CAP_CONC     the same for each T run (default 4000). Tokens are
#                single-use: a wrk thread that runs out stops, the report
#                then says EXHAUSTED and the rate is a lower bound: raise
#                the cap.
#   SAMPLE       certificates fetched through the RA and checked with
#                openssl verify (default 10)
#   PROFILE      auto (default): profile the RA when the p50 target is
#                missed; 1 always; 0 never. perf record --call-graph dwarf
#                on the RA during a PROF_SECONDS sequential run (where its
#                CPU goes), then strace on its fsync/fdatasync/connect
#                calls during another (what the store's syncs cost in wall
#                time, and that no upstream connection is opened)
#   PROF_SECONDS seconds of each profile run (default 3)
#   KEEP=1       keep the scratch directory (its path is printed)
#   TMPDIR       where the scratch directory is made (both stores fsync:
#                the file system matters)
#
# Set-up: one CA (ca-init, unencrypted intermediate key; ca-serve --listen
# on port 0) and one RA (ca-init --ra with that CA as its upstream;
# ca-serve --upstream-password-file on port 0). The RA keeps its upstream
# connections alive in a pool: each RA worker takes one, so T reaches the
# CA over at most CLIENTS connections and L over one; the report counts
# them from the CA's log. Request bodies are made before anything is timed
# by bench/serve-tool.py: a distinct CSR (TAG-NNNNNN.bench) and a one-time
# token each, minted with the CA's provisioner key (audience
# https://localhost:CAPORT/1.0/sign) for the CA, with the RA's
# (https://localhost:RAPORT/1.0/sign) for the RA; bench/serve-sign.lua has
# wrk send each once.
#
# Scenarios (one run, the two paths next to each other):
#   L-direct  wrk -t1 -c1: one client, one request at a time, to the CA
#   L-ra      the same to the RA (the RA verifies the token and CSR,
#             mints its own token, relays to the CA over a kept-alive
#             connection, checks the certificate against the pinned root,
#             records it, answers): the latency figures, target
#             p50(L-ra) <= 2 x p50(L-direct)
#   T-direct  wrk -tWRK_THREADS -cCLIENTS to the CA: throughput
#   T-ra      the same to the RA
# Order: warm-up and checks, then L-direct, L-ra, T-direct, T-ra, then
# the profile. Load generator, RA and CA share the machine's CPUs.
#
# Correctness, once per run: /health on both with curl trusting only the
# root; one certificate through the RA with ca-token and ca-sign, checked
# with openssl verify -CAfile root -untrusted crt crt and its SAN; SAMPLE
# more through the RA with a python client that verifies TLS, each checked
# with openssl verify; ca-db list of both stores: every certificate the
# RA recorded is at the CA with the same serial and subject, the CA holds
# no RA-named certificate the RA lacks, each store has one row per 201 in
# its server's log; ca-db check on both.
#
# Exit status: 0 when every correctness check passes, whether or not the
# target is met (this is a benchmark, not a test); 1 when a correctness
# check fails; 2 on a usage error or missing tool.
#
# Shared code (tools, scratch directory, servers, report lines):
# bench/lib.sh.
#
# Needs Debian packages: bash 5, wrk, openssl, curl, libcurl3-gnutls (the
# RA's upstream client), python3 with python3-joserfc and
# python3-cryptography; for the profile linux-perf (perf) and strace.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

# --- arguments and tools ---------------------------------------------------

set_duration "${1:-}"
CLIENTS=${CLIENTS:-8}; posint CLIENTS
WRK_THREADS=${WRK_THREADS:-2}; posint WRK_THREADS
CAP_SEQ=${CAP_SEQ:-1500}; posint CAP_SEQ
CAP_CONC=${CAP_CONC:-4000}; posint CAP_CONC
SAMPLE=${SAMPLE:-10}; posint SAMPLE
PROF_SECONDS=${PROF_SECONDS:-3}; posint PROF_SECONDS
PROFILE=${PROFILE:-auto}
[[ $PROFILE == auto || $PROFILE == 0 || $PROFILE == 1 ]] ||
    die "PROFILE must be auto, 0 or 1, not '$PROFILE'"
KEEP=${KEEP:-0}
PYTHON=${PYTHON:-python3}
((WRK_THREADS <= CLIENTS)) || die "WRK_THREADS must not exceed CLIENTS"

# Target: the p50 of one client's sequential signs through the RA, as a
# multiple of the same straight to the CA.
P50_TARGET=2

use_tools ca-serve ca-init ca-serve ca-db ca-token ca-sign
need wrk openssl curl "$PYTHON"
for f in serve-sign.lua serve-tool.py ra-tool.py; do
	[[ -r $HERE/$f ]] || die "$HERE/$f not found"
done
need_joserfc
HAVE_PERF=0
command -v perf >/dev/null && perf --version >/dev/null 2>&1 && HAVE_PERF=1
HAVE_STRACE=0
command -v strace >/dev/null && HAVE_STRACE=1

# --- scratch directory -----------------------------------------------------

scratch ca-bench-ra
mkdir bin bodies logs out
copy_tools
cp "$HERE/serve-sign.lua" "$HERE/serve-tool.py" "$HERE/ra-tool.py" bin/
LUA=$W/bin/serve-sign.lua
TOOL=$W/bin/serve-tool.py
RATOOL=$W/bin/ra-tool.py

# --- small helpers ---------------------------------------------------------

# cpu_ticks PID: user+system clock ticks of a process (all its threads)
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	awk '{ print $12 + $13 }' <<<"$s"
}

# upstream_conns CA-LOG TAG-REGEX: the client addresses (so connections)
# over which the CA signed for subjects named TAG-NNNNNN.bench, and how
# many signs that was: "CONNS SIGNS"
upstream_conns() {
	awk -v re="^subject=\"($2)-[0-9]+[.]bench\"$" '
	    / POST \/(1\.0\/)?sign 201 / {
		for (i = 1; i <= NF; i++)
			if ($i ~ re) { c[$3]++; n++; break }
	    } END { printf "%d %d\n", length(c), n }' "$1"
}

# verify_pair LABEL CRT CA TAG-NAME: openssl verify with only the root
# trusted, and the SAN the request asked for
VERIFIED=()
verify_pair() {
	local label=$1 crt=$2 ca=$3 want=$4 out san
	cat "$crt" "$ca" >"$crt.chain"
	out=$(openssl verify -CAfile "$ROOT" -untrusted "$crt.chain" "$crt" 2>&1) ||
	    { fail "$label: openssl verify $crt: $out"; return 1; }
	san=$(openssl x509 -in "$crt" -noout -ext subjectAltName 2>&1 | tail -n +2 | tr -d ' ')
	[[ $san == "DNS:$want" ]] || { fail "$label: $crt: SAN '$san', expected DNS:$want"; return 1; }
	return 0
}

# wrk_run NAME THREADS CONNS URL PREFIX: one timed wrk run; the WRK line
# goes to out/NAME.wrk, the CPU ticks of RA and CA to out/NAME.cpu, the
# command to out/NAME.cmd
wrk_run() {
	local name=$1 th=$2 co=$3 url=$4 prefix=$5 r0 r1 c0 c1 st=0
	local cmd=(wrk -t"$th" -c"$co" -d"${D}s" --timeout 10s --latency
	    -s "$LUA" "$url" -- "$prefix" /sign)
	printf '%s\n' "${cmd[*]}" >"out/$name.cmd"
	r0=$(cpu_ticks "$RA_PID")
	c0=$(cpu_ticks "$CA_PID")
	"${cmd[@]}" >"out/$name.wrk" 2>&1 || st=$?
	r1=$(cpu_ticks "$RA_PID")
	c1=$(cpu_ticks "$CA_PID")
	wrk_check "$name" "$st"
	echo "$((r1 - r0)) $((c1 - c0))" >"out/$name.cpu"
}

# --- machine, versions -----------------------------------------------------

machine
v_ca=$("$CA_SERVE" --version | head -n 1)
v_openssl=$(openssl version | awk '{ print $1, $2 }')
v_wrk=$(wrk_version)
v_mhd=$(deb_version libmicrohttpd12)
v_curl=$(deb_version libcurl3-gnutls)

# --- CA and RA -------------------------------------------------------------

note "setting up the CA and the RA"
password_file
"$CA_INIT" -d CA --name Bench --dns localhost --address 127.0.0.1:8443 \
    --provisioner admin --password-file pw --unencrypted-intermediate-key \
    --provisioner-key-out prov.json -q >fp
ROOT=$W/CA/certs/root_ca.crt

start_ca_serve ca CA
CA_PID=$SRV_PID
CA_PORT=$SRV_PORT
CA_URL=https://localhost:$CA_PORT

"$CA_INIT" --ra --upstream "$CA_URL" --upstream-fingerprint "$(cat fp)" \
    --upstream-provisioner admin --upstream-password-file pw \
    -d RA --name RA --dns localhost --address 127.0.0.1:9443 \
    --provisioner ra-admin --password-file pw \
    --provisioner-key-out ra-prov.json -q >out/ra-init.out 2>logs/ra-init.err ||
    { cat logs/ra-init.err >&2; die "ca-init --ra failed"; }
cmp -s RA/certs/root_ca.crt "$ROOT" || fail "the RA's certs/root_ca.crt is not the CA's root"

start_ca_serve ra RA --upstream-password-file pw
RA_PID=$SRV_PID
RA_PORT=$SRV_PORT
RA_URL=https://localhost:$RA_PORT

# --- request bodies (untimed) ----------------------------------------------

# Tags: d* straight to the CA, r* through the RA (the store check finds
# the RA's certificates at the CA by these names).
per_thread() {
	echo $(((D * $1 + $2 - 1) / $2))
}
CA_AUD=$CA_URL/1.0/sign
RA_AUD=$RA_URL/1.0/sign
t0=$(now)
nS=$(per_thread "$CAP_SEQ" 1)
nC=$(per_thread "$CAP_CONC" "$WRK_THREADS")
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" admin "$CA_AUD" "$nS" ds bodies/Ld.0
job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" "$nS" rs bodies/Lr.0
for ((k = 0; k < WRK_THREADS; k++)); do
	job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" admin "$CA_AUD" "$nC" "dc$k" "bodies/Td.$k"
	job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" "$nC" "rc$k" "bodies/Tr.$k"
done
# warm-up (and the checked sample): CLIENTS connections each, so that the
# RA's upstream pool holds as many connections as T will use
nW=$((CLIENTS * 20 > SAMPLE ? CLIENTS * 20 : SAMPLE))
job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" admin "$CA_AUD" "$nW" dw bodies/Wd
job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" "$SAMPLE" rchk bodies/Wr.check
job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" "$nW" rw bodies/Wr
job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" 1 rcurl bodies/curl
if [[ $PROFILE != 0 ]]; then
	nP=$((PROF_SECONDS * CAP_SEQ))
	job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" "$nP" rpf bodies/Pf.0
	job "$PYTHON" "$TOOL" ca-bodies ra-prov.json "$ROOT" ra-admin "$RA_AUD" "$nP" rps bodies/Ps.0
fi
jobs_wait
t1=$(now)
bodies_s=$(elapsed "$t0" "$t1")

# --- correctness and warm-up -----------------------------------------------

note "checks and warm-up"
for u in "$CA_URL" "$RA_URL"; do
	out=$(curl -sS --cacert "$ROOT" -o /dev/null -w '%{http_code}' "$u/health" 2>&1) ||
	    fail "curl --cacert $u/health: $out"
	[[ $out == 200 ]] || fail "$u/health answered $out"
done

# The project's own client through the RA, as tests/ra.bats does.
mkdir -p out/cli
if "$CA_TOKEN" --ca-url "$RA_URL" --root "$ROOT" --key ra-prov.json \
    rcli-000000.bench >out/cli/t.tok 2>out/cli/token.err &&
    "$CA_SIGN" --ca-url "$RA_URL" --root "$ROOT" --token-file out/cli/t.tok \
    --key-out out/cli/t.key >out/cli/t.crt 2>out/cli/sign.err; then
	out=$(openssl verify -CAfile "$ROOT" -untrusted out/cli/t.crt out/cli/t.crt 2>&1) ||
	    fail "ca-sign through the RA: openssl verify: $out"
	san=$(openssl x509 -in out/cli/t.crt -noout -ext subjectAltName 2>&1 | tail -n +2 | tr -d ' ')
	[[ $san == DNS:rcli-000000.bench ]] || fail "ca-sign through the RA: SAN '$san'"
	VERIFIED+=("ca-token+ca-sign through the RA: 1 (openssl verify -CAfile root -untrusted crt crt)")
else
	fail "ca-token/ca-sign through the RA: $(cat out/cli/token.err out/cli/sign.err | head -n 3)"
fi

# curl, trusting only the root, POST /sign through the RA
mkdir -p out/curl
out=$(curl -sS --cacert "$ROOT" -H 'Content-Type: application/json' \
    --data @bodies/curl -o out/curl/resp.json -w '%{http_code}' "$RA_URL/sign" 2>&1) ||
    fail "curl --cacert POST $RA_URL/sign: $out"
if [[ $out == 201 ]]; then
	"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/0.crt", "w").write(d["crt"])
open(sys.argv[2] + "/0.ca", "w").write(d["ca"])' out/curl/resp.json out/curl
	verify_pair "curl through the RA" out/curl/0.crt out/curl/0.ca rcurl-000000.bench &&
	    VERIFIED+=("curl through the RA: 1")
else
	fail "curl POST /sign through the RA answered $out"
fi

# SAMPLE through the RA over CLIENTS verifying connections, each checked
mkdir -p out/sample
SAVE=$W/out/sample "$PYTHON" "$TOOL" client "localhost:$RA_PORT" "$ROOT" \
    bodies/Wr.check "$CLIENTS" /sign >out/sample.client 2>&1 || true
n=0
for f in out/sample/*.crt; do
	[[ -e $f ]] || continue
	i=${f##*/}
	i=${i%.crt}
	printf -v want 'rchk-%06d.bench' "$i"
	verify_pair "sample through the RA" "$f" "out/sample/$i.ca" "$want" && n=$((n + 1))
done
((n == SAMPLE)) || fail "sample through the RA: $n of $SAMPLE certificates verified ($(tail -n 1 out/sample.client))"
VERIFIED+=("python client through the RA: $n")

# Warm-up: both paths at the concurrency of T (the RA's pool fills)
"$PYTHON" "$TOOL" client "localhost:$CA_PORT" "$ROOT" bodies/Wd "$CLIENTS" /sign >out/Wd.client 2>&1 || true
"$PYTHON" "$TOOL" client "localhost:$RA_PORT" "$ROOT" bodies/Wr "$CLIENTS" /sign >out/Wr.client 2>&1 || true
for w in Wd Wr; do
	c=$(kv "out/$w.client" CLIENT codes)
	[[ $c == "201:$nW" ]] || fail "warm-up $w: answers $c, expected 201:$nW ($(grep -m1 CLIENT-ERROR "out/$w.client" || true))"
done
read -r WARM_CONNS _ < <(upstream_conns logs/ca.log 'rw|rchk')

# --- timed runs ------------------------------------------------------------

note "L-direct: one client to the CA, ${D}s"
wrk_run Ld 1 1 "https://127.0.0.1:$CA_PORT/sign" bodies/Ld
note "L-ra: one client to the RA, ${D}s"
wrk_run Lr 1 1 "https://127.0.0.1:$RA_PORT/sign" bodies/Lr
note "T-direct: $CLIENTS connections to the CA, ${D}s"
wrk_run Td "$WRK_THREADS" "$CLIENTS" "https://127.0.0.1:$CA_PORT/sign" bodies/Td
note "T-ra: $CLIENTS connections to the RA, ${D}s"
wrk_run Tr "$WRK_THREADS" "$CLIENTS" "https://127.0.0.1:$RA_PORT/sign" bodies/Tr

read -r Lr_CONNS Lr_UP < <(upstream_conns logs/ca.log rs)
read -r Tr_CONNS Tr_UP < <(upstream_conns logs/ca.log 'rc[0-9]+')

p50d=$(kv out/Ld.wrk WRK p50_ms)
p50r=$(kv out/Lr.wrk WRK p50_ms)
P50_RATIO=$(ratio "$p50r" "$p50d")
P50_PASS=$(atmost "$P50_RATIO" "$P50_TARGET")

# --- profile ---------------------------------------------------------------

PROF_OUT=$W/out/profile.txt
: >"$PROF_OUT"
profile() {
	local st n t0 t1 r0 r1 ms i tp
	echo "== profile of the RA: one client, sequential, ${PROF_SECONDS}s runs" >>"$PROF_OUT"

	# Where the RA's CPU goes: perf samples with DWARF call chains (the
	# static nettle/GMP/libtasn1 have no frame pointers).
	if ((HAVE_PERF)); then
		r0=$(cpu_ticks "$RA_PID")
		st=0
		perf record -F 999 --call-graph dwarf,16384 -o out/perf.data -p "$RA_PID" -- \
		    wrk -t1 -c1 -d"${PROF_SECONDS}s" --timeout 10s --latency -s "$LUA" \
		    "https://127.0.0.1:$RA_PORT/sign" -- bodies/Pf /sign \
		    >out/Pf.wrk 2>logs/perf.log || st=$?
		r1=$(cpu_ticks "$RA_PID")
		n=$(kv out/Pf.wrk WRK requests)
		if ((st == 0)) && [[ $n != '?' ]] && ((n > 0)); then
			ms=$(ms_per "$n" "$((r1 - r0))")
			perf report -i out/perf.data --children --sort sym -g none --stdio \
			    --percent-limit 0 >out/perf.children 2>/dev/null || true
			{
				printf -- '-- perf record -F 999 --call-graph dwarf -p RA: %s signs, p50 %s ms under perf, RA CPU %s ms/cert\n' \
				    "$n" "$(kv out/Pf.wrk WRK p50_ms)" "$ms"
				"$PYTHON" "$RATOOL" perf-groups out/perf.children "$ms" >out/perf.groups ||
				    echo "  (perf report could not be read)"
				grep -v '^PERF ' out/perf.groups
				echo "  (shares of the RA's samples: a sample whose stack perf could not unwind counts in the first row only, so the groups are lower bounds)"
			} >>"$PROF_OUT"
		else
			echo "-- perf record failed ($st): $(tail -n 1 logs/perf.log)" >>"$PROF_OUT"
		fi
	else
		echo "-- perf not installed (linux-perf): CPU profile skipped" >>"$PROF_OUT"
	fi

	# ECDSA at its native speed: perf loses the stacks of samples in
	# GMP's and nettle's assembly, so the groups above undercount it.
	"$PYTHON" "$TOOL" ecdsa-speed >out/ecdsa 2>&1 || true
	if grep -q '^ECDSA gnutls=' out/ecdsa; then
		awk '/^ECDSA gnutls=/ {
			for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
			printf "-- ECDSA P-256 (serve-tool.py ecdsa-speed, GnuTLS %s): sign %.1f us, verify %.1f us\n", v["gnutls"], v["sign_us"], v["verify_us"]
			printf "  the RA per cert: 4 verifies (client token, CSR, leaf by intermediate, intermediate by root) + 1 sign (upstream token) = %.3f ms;\n", (4 * v["verify_us"] + v["sign_us"]) / 1000
			printf "  the CA per cert: 2 verifies (token, CSR) + 1 sign (certificate) = %.3f ms; the chain check alone: %.3f ms\n", (2 * v["verify_us"] + v["sign_us"]) / 1000, 2 * v["verify_us"] / 1000
		}' out/ecdsa >>"$PROF_OUT"
	fi

	# What the store's syncs cost in wall time, and that the upstream
	# connection stays up (no connect()): strace on the RA's threads.
	if ((HAVE_STRACE)); then
		strace -f -T -e trace=fsync,fdatasync,connect -o out/strace.ra \
		    -p "$RA_PID" 2>logs/strace.log &
		tp=$!
		track "$tp"
		# Attached when every thread of the RA has a tracer.
		for ((i = 0; i < 100; i++)); do
			if ! grep -h '^TracerPid:' /proc/"$RA_PID"/task/*/status 2>/dev/null |
			    grep -q 'TracerPid:[[:space:]]*0$'; then
				break
			fi
			sleep 0.05
		done
		wrk -t1 -c1 -d"${PROF_SECONDS}s" --timeout 10s --latency -s "$LUA" \
		    "https://127.0.0.1:$RA_PORT/sign" -- bodies/Ps /sign >out/Ps.wrk 2>&1 || true
		kill -INT "$tp" 2>/dev/null || true
		wait "$tp" 2>/dev/null || true
		n=$(kv out/Ps.wrk WRK requests)
		awk -v n="$n" '
		    / (fsync|fdatasync)\(/ && match($0, /<[0-9.]+>$/) {
			f++; fs += substr($0, RSTART + 1, RLENGTH - 2) }
		    / connect\(/ { c++ }
		    END {
			if (n + 0 <= 0) { print "  no signs under strace"; exit }
			printf "-- strace -f -T -e fsync,fdatasync,connect -p RA: %d signs\n", n
			printf "  %.2f fsync/cert, %.3f ms wall per fsync, %.3f ms of fsync wall per cert; %d connect() calls (new upstream connections)\n",
			    f / n, (f ? fs / f * 1000 : 0), fs / n * 1000, c
			printf "STRACE fsync_wall_ms=%.3f\n", fs / n * 1000 >"out/strace.vars"
		    }' out/strace.ra >>"$PROF_OUT"
		printf '  p50 under strace %s ms (ptrace stops slow every traced call: read the ratios, not the time)\n' \
		    "$(kv out/Ps.wrk WRK p50_ms)" >>"$PROF_OUT"
	else
		echo "-- strace not installed: fsync count skipped" >>"$PROF_OUT"
	fi
}

if [[ $PROFILE == 1 || ($PROFILE == auto && $P50_PASS != PASS) ]]; then
	note "profile: perf and strace on the RA"
	profile
fi

# --- correctness -----------------------------------------------------------

note "checking"
stop_server "$RA_PID" "ca-serve (RA)"
stop_server "$CA_PID" "ca-serve (CA)"

for s in Ld Lr Td Tr; do
	if [[ $(kv "out/$s.wrk" WRK exhausted) != 0 ]]; then
		anomaly "$s: a wrk thread ran out of request bodies (raise CAP_SEQ/CAP_CONC): EXHAUSTED, the rate is a lower bound"
	fi
	e=$(kv "out/$s.wrk" WRK non2xx)
	[[ $e == 0 ]] || fail "$s: wrk counted $e answers of 400 or more"
	e=$(kv "out/$s.wrk" WRK timeout)
	[[ $e == 0 || $e == '?' ]] || anomaly "$s: wrk counted $e timeouts (10 s)"
done
MHD_WHAT="lines in its log (wrk drops its connections when its time is up)"
scan_log "CA" logs/ca.log "$MHD_WHAT"
scan_log "RA" logs/ra.log "$MHD_WHAT"
for l in logs/*.err; do
	[[ -s $l ]] && anomaly "stderr of ${l#logs/}: $(head -n 1 "$l" | cut -c1-200)"
done

STORE_CHECK=()
"$CA_DB" -d CA list --json >out/ca.list.json 2>logs/cadb.err || fail "ca-db -d CA list failed"
"$CA_DB" -d RA list --json >out/ra.list.json 2>logs/radb.err || fail "ca-db -d RA list failed"
st=0
"$PYTHON" "$RATOOL" stores out/ca.list.json out/ra.list.json admin ra-admin \
    rs 'rc[0-9]+' rw rchk rcurl rcli rpf rps >out/stores 2>&1 || st=$?
((st == 0)) || fail "stores: $(grep -v '^STORES ' out/stores | head -n 3 | paste -sd';')"
ca_rows=$(kv out/stores STORES ca_rows)
ra_rows=$(kv out/stores STORES ra_rows)
ca_201=$(count_signed logs/ca.log)
ra_201=$(count_signed logs/ra.log)
[[ $ca_rows == "$ca_201" ]] || fail "CA store: $ca_rows rows of provisioner admin, its log has $ca_201 answers 201"
[[ $ra_rows == "$ra_201" ]] || fail "RA store: $ra_rows rows of provisioner ra-admin, its log has $ra_201 answers 201"
declare -A CHK
for d in CA RA; do
	st=0
	out=$("$CA_DB" -d "$d" check 2>&1) || st=$?
	if ((st != 0)); then
		fail "ca-db -d $d check exited $st: $(tail -n 3 <<<"$out")"
		CHK[$d]=FAILED
	else
		CHK[$d]=ok
	fi
done
STORE_CHECK+=("$(printf 'CA: %s rows (admin), %s answers 201 in its log, ca-db check %s' "$ca_rows" "$ca_201" "${CHK[CA]}")")
STORE_CHECK+=("$(printf 'RA: %s rows (ra-admin), %s answers 201 in its log, ca-db check %s' "$ra_rows" "$ra_201" "${CHK[RA]}")")
STORE_CHECK+=("$(printf "RA's certificates at the CA, same serial and subject: %s of %s; RA-named certificates at the CA: %s" \
    "$(kv out/stores STORES ra_at_ca)" "$ra_rows" "$(kv out/stores STORES ca_ra_named)")")

# --- report ----------------------------------------------------------------

# row NAME LABEL: count seconds signs/s p50 p99 max non2xx errors cpu
row() {
	local s=$1 n sec r er ra ca
	n=$(kv "out/$s.wrk" WRK requests)
	sec=$(kv "out/$s.wrk" WRK seconds)
	r=$(rate "$n" "$sec")
	er=$(wrk_errors "$s")
	read -r ra ca <"out/$s.cpu"
	[[ $(kv "out/$s.wrk" WRK exhausted) != 0 ]] && r="$r!"
	printf '%-26s %7s %8s %9s %8s %8s %8s %6s %6s %9s %9s\n' "$2" "$n" "$sec" "$r" \
	    "$(kv "out/$s.wrk" WRK p50_ms)" "$(kv "out/$s.wrk" WRK p99_ms)" \
	    "$(kv "out/$s.wrk" WRK max_ms)" "$(kv "out/$s.wrk" WRK non2xx)" "$er" \
	    "$( [[ $s == *r ]] && ms_per "$n" "$ra" || echo -)" "$(ms_per "$n" "$ca")"
}
hdr() {
	printf '%-26s %7s %8s %9s %8s %8s %8s %6s %6s %9s %9s\n' scenario count seconds signs/s \
	    "p50 ms" "p99 ms" "max ms" non2xx errors "RA cpu/c" "CA cpu/c"
}

rLd=$(rateof Ld) rLr=$(rateof Lr) rTd=$(rateof Td) rTr=$(rateof Tr)

echo "== ca-tools registration authority benchmark: POST /sign through an RA vs straight to its CA"
print_machine
printf 'tools:    %s, copied from %s/ (built %s, sha256 %s)\n' "$v_ca" "$BIN" "$build_time" "$build_id"
printf '          libmicrohttpd %s, libcurl3-gnutls %s (the RA'"'"'s upstream client), %s, %s\n' \
    "$v_mhd" "$v_curl" "$v_openssl" "$v_wrk"
print_scratch
printf 'bodies:   %s s to build (python: joserfc tokens, cryptography CSRs, untimed)\n' "$bodies_s"
printf 'servers:  CA %s (pid %s), RA %s (pid %s), upstream %s, both ca-serve --listen with default threads\n' \
    "$CA_URL" "$CA_PID" "$RA_URL" "$RA_PID" "$CA_URL"
printf 'method:   one CA, one RA in front of it; a distinct CSR and one-time token per request;\n'
printf '          load generator, RA and CA on the same CPUs; order warm-up, L-direct, L-ra, T-direct, T-ra\n'
echo
echo "L. latency: one client, one request at a time, HTTPS keep-alive"
hdr
row Ld "L-direct  client -> CA"
row Lr "L-ra      client -> RA -> CA"
printf '  RA/direct: p50 %sx, p99 %sx, signs/s %sx\n' "$P50_RATIO" \
    "$(ratio "$(kv out/Lr.wrk WRK p99_ms)" "$(kv out/Ld.wrk WRK p99_ms)")" "$(ratio "$rLr" "$rLd")"
printf '  RA -> CA: %s signs over %s upstream connection(s)\n' "$Lr_UP" "$Lr_CONNS"
echo
echo "T. throughput: $CLIENTS connections, $WRK_THREADS wrk threads, HTTPS keep-alive"
hdr
row Td "T-direct  client -> CA"
row Tr "T-ra      client -> RA -> CA"
printf '  RA/direct: signs/s %sx, p50 %sx, p99 %sx\n' "$(ratio "$rTr" "$rTd")" \
    "$(ratio "$(kv out/Tr.wrk WRK p50_ms)" "$(kv out/Td.wrk WRK p50_ms)")" \
    "$(ratio "$(kv out/Tr.wrk WRK p99_ms)" "$(kv out/Td.wrk WRK p99_ms)")"
printf '  RA -> CA: %s signs over %s upstream connection(s) (warm-up: %s)\n' "$Tr_UP" "$Tr_CONNS" "$WARM_CONNS"
echo "  (cpu/c: ms of CPU per certificate, all threads, from /proc; a ! after signs/s: EXHAUSTED)"
echo
echo "commands:"
for s in Ld Lr Td Tr; do
	printf '  %-3s %s\n' "$s" "$(cat "out/$s.cmd")"
done
printf '  (paths relative to the scratch directory; bodies by %s ca-bodies)\n' "bench/serve-tool.py"
echo
echo "target:"
printf '  p50 through the RA <= %sx direct (L):  %-4s (%s ms vs %s ms = %sx)\n' \
    "$P50_TARGET" "$P50_PASS" "$p50r" "$p50d" "$P50_RATIO"
echo
echo "correctness:"
printf '  %s\n' "${STORE_CHECK[@]}"
printf '  openssl verify -CAfile root + SAN: %s\n' "$(printf '%s; ' "${VERIFIED[@]}")"
printf '  server logs: CA %s; RA %s\n' "$(statuses logs/ca.log)" "$(statuses logs/ra.log)"
print_checks

if [[ -s $PROF_OUT ]]; then
	echo
	cat "$PROF_OUT"
	# The wall-clock budget of one sequential sign through the RA.
	read -r ra_t ca_t <out/Lr.cpu
	nLr=$(kv out/Lr.wrk WRK requests)
	echo "-- one sequential sign through the RA, from L:"
	printf '  p50 L-ra %s ms = p50 L-direct %s ms (the upstream round trip) + %s ms more;\n' \
	    "$p50r" "$p50d" "$(awk -v a="$p50r" -v b="$p50d" 'BEGIN { printf "%.3f", a - b }')"
	ra_ms=$(ms_per "$nLr" "$ra_t")
	printf '  the RA'"'"'s CPU per cert in L-ra: %s ms (the CA'"'"'s: %s ms, %s ms when signing directly)\n' \
	    "$ra_ms" "$(ms_per "$nLr" "$ca_t")" \
	    "$(ms_per "$(kv out/Ld.wrk WRK requests)" "$(cut -d' ' -f2 out/Ld.cpu)")"
	if [[ -s out/strace.vars && -s out/perf.groups ]]; then
		fw=$(kv out/strace.vars STRACE fsync_wall_ms)
		fc=$(kv out/perf.groups PERF fsync_ms)
		printf '  RA CPU %s ms + waiting in fsync off the CPU %s ms (wall %s ms under strace - CPU %s ms under perf) = %s ms\n' \
		    "$ra_ms" "$(awk -v a="$fw" -v b="$fc" 'BEGIN { printf "%.3f", a - b }')" "$fw" "$fc" \
		    "$(awk -v r="$ra_ms" -v a="$fw" -v b="$fc" 'BEGIN { printf "%.3f", r + a - b }')"
		printf '  p50 %sx needs the RA to add at most %s ms: %s ms less than now\n' "$P50_TARGET" \
		    "$(awk -v d="$p50d" -v t="$P50_TARGET" 'BEGIN { printf "%.3f", d * (t - 1) }')" \
		    "$(awk -v r="$p50r" -v d="$p50d" -v t="$P50_TARGET" 'BEGIN { x = r - d * t; printf "%.3f", (x > 0 ? x : 0) }')"
	fi
fi

finish
