#!/bin/bash
# offline.sh - offline issuance rate of ca-sign against `openssl ca`, in the same run.
#
# Usage: bench/offline.sh [N]        (or N=... bench/offline.sh; default 1000)
#
# Environment:
#   N          number of certificates per scenario (the first argument wins)
#   CA_BIN     directory holding ca-init, ca-token, ca-sign, ca-db; otherwise
#              $(dirname "$0")/../_build/bin, then /work/main/_build/bin,
#              then $PATH
#   ROUNDS     interleaved rounds (default 10): A, peer, B, A, peer, B, ...
#   RSS_RUNS   processes measured for peak RSS (default 20)
#   SAMPLE     ca-sign outputs checked with `openssl verify` (default 10)
#   PROFILE=1  also break down where a ca-sign process spends its time
#   KEEP=1     keep the scratch directory (its path is printed)
#   TMPDIR     where the scratch directory is made (its file system matters:
#              ca-sign fsyncs, openssl ca does not)
#
# Scenarios, each one process (or one pipeline) per certificate, run in a
# plain bash loop so that every contender pays the same fork+exec:
#   A     ca-sign alone, tokens minted beforehand (untimed)
#   peer  openssl ca -batch, same CSRs, unencrypted EC P-256 key
#   B     ca-token | ca-sign, a fresh CA so that nothing is reused
# They run in ROUNDS interleaved rounds, A, peer, B, A, peer, B, ..., each
# of N/ROUNDS certificates, so that the machine's drift within a run
# (other load, CPU frequency) falls on every contender alike.
#
# Exit status: 0 when every correctness check passes, whether or not the
# performance targets are met (this is a benchmark, not a test); 1 when a
# correctness check fails; 2 on a usage error or missing tool.
#
# Shared code (tools, scratch directory, report lines): bench/lib.sh.
#
# Needs only Debian packages: bash (5, for $EPOCHREALTIME), openssl, gawk or
# mawk, coreutils; optionally time (/usr/bin/time), hyperfine, strace, perf.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

# --- arguments and tools ---------------------------------------------------

N=${1:-${N:-1000}}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
ROUNDS=${ROUNDS:-10}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
RSS_RUNS=${RSS_RUNS:-20}
[[ $RSS_RUNS =~ ^[1-9][0-9]*$ ]] || die "RSS_RUNS must be a positive integer"
SAMPLE=${SAMPLE:-10}
[[ $SAMPLE =~ ^[1-9][0-9]*$ ]] || die "SAMPLE must be a positive integer"
PROFILE=${PROFILE:-0}
KEEP=${KEEP:-0}

use_tools ca-sign ca-init ca-token ca-sign ca-db
command -v openssl >/dev/null || die "openssl not found"
OPENSSL=$(command -v openssl)
find_gnu_time

# --- scratch directory -----------------------------------------------------

scratch ca-bench
mkdir bin csr crtA crtB ocrt tokA
copy_tools

# Sets n to the I-th host name; printf -v, because a $(...) per certificate
# would fork a subshell inside the timed loops.
name() {
	printf -v n 'host%04d.bench' "$1"
}

# --- the two CAs -----------------------------------------------------------

password_file

make_ca() {
	"$CA_INIT" -d "$1" --name Bench --dns ca.bench --provisioner bench \
	    --password-file pw --unencrypted-intermediate-key \
	    --provisioner-key-out "$2" -q >/dev/null
}

make_ca caA provA.key
make_ca caB provB.key

# openssl ca: a self-signed EC P-256 CA with an unencrypted key; the leaf
# profile mirrors ca-sign's (critical CA:FALSE, critical digitalSignature,
# serverAuth+clientAuth, SKI, AKI, SAN from the CA side, 1 day, SHA-256,
# random serials).
mkdir -p ossl/newcerts
: >ossl/index.txt
cat >ossl/openssl.cnf <<'EOF'
SAN = DNS:unset.invalid

[ ca ]
default_ca = bench_ca

[ bench_ca ]
dir = @DIR@
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
rand_serial = yes
default_md = sha256
default_days = 1
policy = policy_anything
copy_extensions = none
x509_extensions = leaf_ext
unique_subject = no
preserve = no
email_in_dn = no

[ policy_anything ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional

[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
EOF
sed -i "s|@DIR@|$W/ossl|" ossl/openssl.cnf
(
	cd ossl
	"$OPENSSL" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout ca.key -out ca.crt -days 30 -sha256 \
	    -subj "/O=Bench/CN=Bench openssl CA" \
	    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
)

# --- CSRs and tokens (untimed) ---------------------------------------------

# One key for every CSR (generation is not what is measured); each CSR has
# its own CN and SAN.
"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out leaf.key 2>/dev/null
for ((i = 1; i <= N; i++)); do
	name "$i"
	"$OPENSSL" req -new -key leaf.key -subj "/CN=$n" \
	    -addext "subjectAltName=DNS:$n" -out "csr/$i.pem"
done

# Tokens for A, minted just before A. ca-token's default lifetime is 5m;
# ask for 1h so that a slow machine cannot run out of time (it does not
# change what ca-sign does).
t0=$(now)
for ((i = 1; i <= N; i++)); do
	name "$i"
	"$CA_TOKEN" -d caA --key provA.key --not-after 1h "$n" \
	    >"tokA/$i"
done
t1=$(now)
mint_s=$(elapsed "$t0" "$t1")

# Interleaved rounds (A, peer, B, A, peer, B, ...): the machine's speed
# drifts within a run, and each contender should see the same drift.
# Round r signs certificates r*C+1 .. (r+1)*C of each scenario; the cost
# per certificate in the first and in the last round shows whether it
# grows with the size of the database (GDBM for ca-sign, index.txt for
# openssl ca).
((ROUNDS <= N)) || ROUNDS=$N
C=$((N / ROUNDS))

# Warm the page cache with every binary and library the timed loops run,
# so that the first scenario does not pay for it alone.
for ((i = 0; i < 10; i++)); do
	"$CA_SIGN" --version >/dev/null
	"$CA_TOKEN" --version >/dev/null
	"$OPENSSL" version >/dev/null
done

# one_A I, one_O I, one_B I: certificate I of a scenario (status: failed?)
one_A() {
	"$CA_SIGN" -d caA --token-file "tokA/$1" --csr "csr/$1.pem" >"crtA/$1.pem"
}
one_O() {
	name "$1"
	SAN="DNS:$n" "$OPENSSL" ca -config ossl/openssl.cnf -batch -notext \
	    -days 1 -in "csr/$1.pem" -out "ocrt/$1.pem" 2>>ossl.log
}
one_B() {
	name "$1"
	"$CA_TOKEN" -d caB --key provB.key "$n" |
	    "$CA_SIGN" -d caB --token-file - --csr "csr/$1.pem" >"crtB/$1.pem"
}
# round S FIRST LAST: certificates FIRST..LAST of scenario S; sets last
# (seconds), adds them to secS and the failures to errS.
round() {
	local s=$1 i t0 err=0 sec=sec$1 errv=err$1
	t0=$EPOCHREALTIME
	for ((i = $2; i <= $3; i++)); do
		"one_$s" "$i" || err=$((err + 1))
	done
	last=$(elapsed "$t0" "$EPOCHREALTIME")
	printf -v "$sec" '%s' "$(awk -v a="${!sec}" -v b="$last" 'BEGIN { printf "%.3f", a + b }')"
	printf -v "$errv" '%s' $((${!errv} + err))
}
# per_cert SECONDS COUNT -> milliseconds per certificate
per_cert() {
	awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s / n * 1000 }'
}

errA=0 errO=0 errB=0 secA=0 secO=0 secB=0
for ((r = 0; r < ROUNDS; r++)); do
	lo=$((r * C + 1))
	hi=$(((r + 1) * C))
	((r < ROUNDS - 1)) || hi=$N
	for s in A O B; do
		round "$s" "$lo" "$hi"
		if ((r == 0)); then printf -v "first$s" '%s' "$(per_cert "$last" $((hi - lo + 1)))"; fi
		if ((r == ROUNDS - 1)); then printf -v "last$s" '%s' "$(per_cert "$last" $((hi - lo + 1)))"; fi
	done
done
spreadA="$firstA ms first round, $lastA ms last round"
spreadO="$firstO ms first round, $lastO ms last round"
spreadB="$firstB ms first round, $lastB ms last round"

# --- correctness -----------------------------------------------------------

[[ $errA -eq 0 ]] || fail "scenario A: $errA of $N ca-sign runs failed"
[[ $errO -eq 0 ]] || fail "peer: $errO of $N openssl ca runs failed"
[[ $errB -eq 0 ]] || fail "scenario B: $errB of $N ca-token|ca-sign runs failed"

# Every output holds a certificate; a sample verifies and names the host.
check_outputs() {
	local label=$1 dir=$2 root=$3 untrusted=$4 i n idx out san
	local -a pick=()

	for ((i = 1; i <= N; i++)); do
		if ! grep -q -- '-----BEGIN CERTIFICATE-----' "$dir/$i.pem" 2>/dev/null; then
			fail "$label: $dir/$i.pem holds no certificate"
			return
		fi
	done
	pick=(1 "$N" $(((N + 1) / 2)))
	for ((i = 3; i < SAMPLE && i < N; i++)); do
		pick+=($((RANDOM % N + 1)))
	done
	for idx in "${pick[@]}"; do
		name "$idx"
		if [[ -n $untrusted ]]; then
			out=$("$OPENSSL" verify -CAfile "$root" -untrusted "$untrusted" \
			    "$dir/$idx.pem" 2>&1) || { fail "$label: openssl verify $dir/$idx.pem: $out"; continue; }
		else
			out=$("$OPENSSL" verify -CAfile "$root" "$dir/$idx.pem" 2>&1) ||
			    { fail "$label: openssl verify $dir/$idx.pem: $out"; continue; }
		fi
		san=$("$OPENSSL" x509 -in "$dir/$idx.pem" -noout -ext subjectAltName 2>&1 |
		    tail -n +2 | tr -d ' ')
		[[ $san == "DNS:$n" ]] || fail "$label: $dir/$idx.pem: SAN '$san', expected DNS:$n"
	done
}

check_outputs "A" crtA caA/certs/root_ca.crt caA/certs/intermediate_ca.crt
check_outputs "B" crtB caB/certs/root_ca.crt caB/certs/intermediate_ca.crt
check_outputs "peer" ocrt ossl/ca.crt ""

# Sets db_lines to the line count of `ca-db list` (header included).
check_db() {
	local label=$1 dir=$2 out st

	db_lines=$("$CA_DB" -d "$dir" list | wc -l) ||
	    { fail "$label: ca-db -d $dir list failed"; db_lines="?"; }
	[[ $db_lines == $((N + 1)) ]] ||
	    fail "$label: ca-db -d $dir list: $db_lines lines, expected $((N + 1))"
	st=0
	out=$("$CA_DB" -d "$dir" check 2>&1) || st=$?
	if ((st != 0)); then
		fail "$label: ca-db -d $dir check exited $st: $(tail -n 3 <<<"$out")"
		db_check=FAILED
	fi
}

db_check=ok
check_db "A" caA
linesA=$db_lines
check_db "B" caB
linesB=$db_lines

# --- peak RSS --------------------------------------------------------------

# max of /usr/bin/time -f %M over RSS_RUNS processes; prints "-" without GNU time
rss_sign=- rss_token=- rss_ossl=- rss_version=-
if [[ -n $GNU_TIME ]]; then
	mkdir rss
	for ((i = 1; i <= RSS_RUNS; i++)); do
		n=$(printf 'rss%04d.bench' "$i")
		"$OPENSSL" req -new -key leaf.key -subj "/CN=$n" \
		    -addext "subjectAltName=DNS:$n" -out "rss/$i.csr"
		"$GNU_TIME" -o "rss/$i.tok.m" -f %M "$CA_TOKEN" -d caA \
		    --key provA.key "$n" >"rss/$i.tok"
		"$GNU_TIME" -o "rss/$i.sign.m" -f %M "$CA_SIGN" -d caA \
		    --token-file "rss/$i.tok" --csr "rss/$i.csr" >"rss/$i.crt" ||
		    fail "RSS run $i: ca-sign failed"
		"$GNU_TIME" -o "rss/$i.ver.m" -f %M "$CA_SIGN" --version >/dev/null
		SAN="DNS:$n" "$GNU_TIME" -o "rss/$i.ossl.m" -f %M \
		    "$OPENSSL" ca -config ossl/openssl.cnf -batch -notext -days 1 \
		    -in "rss/$i.csr" -out "rss/$i.ocrt" 2>>ossl.log ||
		    fail "RSS run $i: openssl ca failed"
	done
	maxof() { sort -n "$@" | tail -n 1; }
	rss_sign=$(maxof rss/*.sign.m)
	rss_token=$(maxof rss/*.tok.m)
	rss_version=$(maxof rss/*.ver.m)
	rss_ossl=$(maxof rss/*.ossl.m)
fi

# --- optional profile ------------------------------------------------------

# syncs STRACE_C_OUTPUT -> number of fsync and fdatasync calls
syncs() {
	# columns: % time, seconds, usecs/call, calls, [errors,] syscall
	awk '$NF == "fsync" || $NF == "fdatasync" { n += $4 } END { print n + 0 }' "$1"
}

profile() {
	local runs=200 i t0 t1 s_ver s_ossl_ver n pdir=prof
	mkdir -p "$pdir"
	echo
	echo "== profile: where a ca-sign process spends its time"
	printf 'shared libraries (ldd ca-sign): %s\n' \
	    "$(ldd "$CA_SIGN" 2>/dev/null | grep -c '=>' || true)"

	t0=$(now)
	for ((i = 0; i < runs; i++)); do "$CA_SIGN" --version >/dev/null; done
	t1=$(now)
	s_ver=$(elapsed "$t0" "$t1")
	t0=$(now)
	for ((i = 0; i < runs; i++)); do "$OPENSSL" version >/dev/null; done
	t1=$(now)
	s_ossl_ver=$(elapsed "$t0" "$t1")
	awk -v v="$s_ver" -v o="$s_ossl_ver" -v r="$runs" -v a="$secA" \
	    -v ao="$secO" -v n="$N" 'BEGIN {
		sv = v / r * 1000; sa = a / n * 1000;
		printf "ca-sign --version:     %.3f ms/process (%d runs)\n", sv, r
		printf "full ca-sign (A):      %.3f ms/process\n", sa
		printf "  startup share:       %.0f%% (exec, dynamic linking, constructors)\n", (sa > 0 ? sv / sa * 100 : 0)
		printf "  work after startup:  %.3f ms (config, keys, token, CSR, sign, DB)\n", sa - sv
		printf "openssl version:       %.3f ms/process (%d runs)\n", o / r * 1000, r
		printf "full openssl ca:       %.3f ms/process\n", ao / n * 1000
	}'

	if command -v hyperfine >/dev/null; then
		echo
		echo "-- hyperfine -N: ca-sign --version vs openssl version"
		hyperfine -N --warmup 20 --runs 300 --style basic \
		    "$CA_SIGN --version" "$OPENSSL version" 2>&1 |
		    grep -E 'Time|Range|±|faster|Benchmark' || true
	else
		echo "(hyperfine not installed: skipped)"
	fi

	echo
	echo "-- LD_DEBUG=statistics ca-sign --version"
	LD_DEBUG=statistics "$CA_SIGN" --version 2>&1 >/dev/null |
	    sed -e 's/^ *[0-9]*: *//' | grep -v '^$' || true

	# One fresh certificate for each of the traced runs below.
	n=prof0001.bench
	"$OPENSSL" req -new -key leaf.key -subj "/CN=$n" \
	    -addext "subjectAltName=DNS:$n" -out "$pdir/1.csr"
	"$CA_TOKEN" -d caA --key provA.key "$n" >"$pdir/1.tok"
	n=prof0002.bench
	"$OPENSSL" req -new -key leaf.key -subj "/CN=$n" \
	    -addext "subjectAltName=DNS:$n" -out "$pdir/2.csr"
	"$CA_TOKEN" -d caA --key provA.key "$n" >"$pdir/2.tok"

	echo
	if command -v strace >/dev/null; then
		echo "-- strace -c -f ca-sign (one certificate)"
		if strace -c -f -o "$pdir/strace.sign" "$CA_SIGN" -d caA \
		    --token-file "$pdir/1.tok" --csr "$pdir/1.csr" \
		    >"$pdir/1.crt" 2>"$pdir/strace.err"; then
			cat "$pdir/strace.sign"
		else
			echo "(strace failed: $(head -n 1 "$pdir/strace.err"))"
		fi
		echo
		echo "-- strace -c -f openssl ca (one certificate)"
		if SAN=DNS:prof0001.bench strace -c -f -o "$pdir/strace.ossl" \
		    "$OPENSSL" ca -config ossl/openssl.cnf -batch -notext -days 1 \
		    -in "$pdir/1.csr" -out "$pdir/1.ocrt" >/dev/null \
		    2>"$pdir/strace.oerr"; then
			cat "$pdir/strace.ossl"
		else
			echo "(strace failed: $(head -n 1 "$pdir/strace.oerr"))"
		fi
	else
		echo "(strace not installed: skipped)"
	fi

	if [[ -s $pdir/strace.sign && -s $pdir/strace.ossl ]]; then
		echo
		printf 'fsync+fdatasync per certificate: ca-sign %s, openssl ca %s\n' \
		    "$(syncs "$pdir/strace.sign")" "$(syncs "$pdir/strace.ossl")"
	fi

	echo
	if command -v perf >/dev/null; then
		echo "-- perf stat ca-sign (one certificate)"
		if perf stat -o "$pdir/perf.txt" "$CA_SIGN" -d caA \
		    --token-file "$pdir/2.tok" --csr "$pdir/2.csr" \
		    >"$pdir/2.crt" 2>"$pdir/perf.err"; then
			grep -E 'task-clock|context-switches|page-faults|cycles|instructions|elapsed|user|sys' \
			    "$pdir/perf.txt" || cat "$pdir/perf.txt"
		else
			echo "(perf stat failed: $(head -n 1 "$pdir/perf.err"))"
		fi
	else
		echo "(perf not installed: skipped)"
	fi
}

# --- report ----------------------------------------------------------------

rateA=$(rate "$N" "$secA")
rateB=$(rate "$N" "$secB")
rateO=$(rate "$N" "$secO")
ratioA=$(ratio "$rateA" "$rateO")
ratioB=$(ratio "$rateB" "$rateO")
machine

echo "== ca-tools offline issuance vs openssl ca"
print_machine
printf 'tools:    %s, copied from %s/ (ca-sign built %s, sha256 %s)\n' \
    "$("$CA_SIGN" --version | head -n 1)" "$BIN" "$build_time" "$build_id"
printf '          %s\n' "$("$OPENSSL" version)"
print_scratch
printf 'method:   one process per certificate from a bash loop, wall clock; %d interleaved rounds of A, peer, B\n' "$ROUNDS"
echo
printf '%-32s %6s %9s %10s %8s\n' scenario count seconds certs/s ratio
printf '%-32s %6d %9s %10s %8s\n' "A  ca-sign alone" "$N" "$secA" "$rateA" "${ratioA}x"
printf '%-32s %6d %9s %10s %8s\n' "peer openssl ca" "$N" "$secO" "$rateO" "1.00x"
printf '%-32s %6d %9s %10s %8s\n' "B  ca-token | ca-sign" "$N" "$secB" "$rateB" "${ratioB}x"
printf '%-32s %6d %9s %10s %8s\n' "(ca-token alone, minting for A)" "$N" "$mint_s" \
    "$(rate "$N" "$mint_s")" "$(ratio "$(rate "$N" "$mint_s")" "$rateO")x"
echo
echo "cost per certificate, start vs end of each run:"
printf '  A     %s\n' "$spreadA"
printf '  peer  %s\n' "$spreadO"
printf '  B     %s\n' "$spreadB"
echo
printf 'ratio ca-sign/openssl-ca: %sx\n' "$ratioA"
printf 'ratio ca-token|ca-sign/openssl-ca: %sx\n' "$ratioB"
echo
if [[ -n $GNU_TIME ]]; then
	printf 'peak RSS (max of %d runs, /usr/bin/time -f %%M):\n' "$RSS_RUNS"
	printf '  ca-sign            %6s KiB\n' "$rss_sign"
	printf '  ca-sign --version  %6s KiB\n' "$rss_version"
	printf '  ca-token           %6s KiB\n' "$rss_token"
	printf '  openssl ca         %6s KiB\n' "$rss_ossl"
else
	echo "peak RSS: /usr/bin/time (GNU time, package 'time') not found: skipped"
fi
echo
echo "targets:"
printf '  ca-sign alone >= 2.5x openssl ca:        %-4s (%sx)\n' \
    "$(atleast "$ratioA" 2.5)" "$ratioA"
printf '  ca-token|ca-sign >= 1x openssl ca:       %-4s (%sx)\n' \
    "$(atleast "$ratioB" 1)" "$ratioB"
if [[ $rss_sign != - ]]; then
	printf '  ca-sign peak RSS < 10240 KiB:            %-4s (%s KiB)\n' \
	    "$(awk -v r="$rss_sign" 'BEGIN { print (r < 10240) ? "PASS" : "FAIL" }')" \
	    "$rss_sign"
else
	printf '  ca-sign peak RSS < 10240 KiB:            SKIP (no GNU time)\n'
fi
echo
echo "correctness:"
printf '  ca-db list lines: A %s, B %s (expected %d); ca-db check: %s\n' \
    "$linesA" "$linesB" "$((N + 1))" "$db_check"
printf '  openssl verify + SAN on %d samples per scenario (A, B, peer)\n' "$SAMPLE"
printf '  checks failed: %d\n' "$failures"

if [[ $PROFILE == 1 ]]; then
	profile
fi

finish
