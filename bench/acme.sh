#!/bin/bash
# acme.sh - ACME orders (http-01) against ca-serve and pebble, in the same
# run: completed orders per second at 1 and 8 concurrent clients, and the
# server's CPU time per completed order.
#
# Usage: bench/acme.sh [SECONDS]     (or DURATION=... bench/acme.sh; default 10)
#
# Environment:
#   DURATION     seconds per timed run (the first argument wins)
#   CLIENTS      the concurrent clients of each run (default "1 8")
#   CA_BIN       directory holding ca-init, ca-serve, ca-db; otherwise
#                $(dirname "$0")/../_build/bin, then /work/main/_build/bin,
#                then $PATH
#   SERVERS      which servers to measure (default "pebble ca-serve")
#   BENCH_CLIENT c (default: bench/acme-client.c, built here with $CC) or
#                python (tests/acme-bench-client.py, 2.6x the client CPU
#                per order: it cannot load a fast server on two cores)
#   CC           the compiler for the C client (default cc)
#   KEEP=1       keep the scratch directory (its path is printed)
#   TMPDIR       where the scratch directory is made (ca-serve fsyncs: the
#                file system matters)
#
# The client (bench/acme-client.c, or tests/acme-bench-client.py) runs one
# process per concurrent client, each with its own ES256 account and one keep-alive HTTPS
# connection, never sleeping between polls: newOrder, authorization,
# http-01 challenge, polls until valid, finalize (a new P-256 key and CSR),
# polls until valid, certificate download. The http-01 responder is a
# thread of its launcher on 127.0.0.1 at the port the server's validator
# connects to; every name resolves to 127.0.0.1 through
# pebble-challtestsrv (the servers' DNS). Server CPU is utime + stime (and
# reaped children's) of the server process from /proc/PID/stat, read when
# the clients start and when the last one ends.
#
# pebble: Debian's package, PEBBLE_VA_NOSLEEP=1 (no sleep before validating),
# PEBBLE_WFE_NONCEREJECT=0 (no nonce refused at random),
# PEBBLE_AUTHZREUSE=0 (every order validated, as ca-serve does); it keeps
# everything in memory. ca-serve: standalone, a CA made by ca-init with an
# ACME provisioner (tests/acme-ca-json.py), every certificate recorded and
# synced; the report checks that the store holds at least as many
# certificates as orders completed.
#
# Exit status: 0 when every correctness check passes, whether or not the
# performance targets are met (this is a benchmark, not a test); 1 when a
# correctness check fails; 2 on a usage error or missing tool.
#
# Shared code: bench/lib.sh (report lines, scratch directory, processes),
# tests/acme-helpers.bash (pebble, pebble-challtestsrv, ca-serve with ACME).
#
# Needs Debian packages: bash 5, pebble, openssl, curl, python3 with
# python3-cryptography, systemd (systemd-socket-activate, sourced helpers).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
. "$(dirname "$0")/lib.sh"

set_duration "${1:-}"
CLIENTS=${CLIENTS:-1 8}
SERVERS=${SERVERS:-pebble ca-serve}
KEEP=${KEEP:-0}
PYTHON=${PYTHON:-python3}
for c in $CLIENTS; do
	[[ $c =~ ^[1-9][0-9]*$ ]] || die "CLIENTS must be positive integers, not '$c'"
done
for s in $SERVERS; do
	[[ $s == pebble || $s == ca-serve ]] || die "SERVERS: unknown server '$s'"
done

CA_TOP_SRCDIR=$(cd "$HERE/.." && pwd)
export CA_TOP_SRCDIR PYTHON
BENCH_CLIENT=${BENCH_CLIENT:-c}
CC=${CC:-cc}
case $BENCH_CLIENT in
c)
	[[ -r $HERE/acme-client.c ]] || die "$HERE/acme-client.c not found"
	need "$CC" pkg-config
	pkg-config --exists gnutls json-c libcurl ||
	    die "the C client needs gnutls, json-c and libcurl (libgnutls28-dev, libjson-c-dev, libcurl4-gnutls-dev)"
	;;
python)
	[[ -r $CA_TOP_SRCDIR/tests/acme-bench-client.py ]] || die "tests/acme-bench-client.py not found"
	;;
*) die "BENCH_CLIENT must be c or python, not '$BENCH_CLIENT'" ;;
esac
[[ -r $CA_TOP_SRCDIR/tests/acme-helpers.bash ]] || die "tests/acme-helpers.bash not found"
need pebble pebble-challtestsrv openssl curl "$PYTHON"
"$PYTHON" -c 'import cryptography' 2>/dev/null || die "$PYTHON cannot import cryptography"
if [[ " $SERVERS " == *" ca-serve "* ]]; then
	use_tools ca-serve ca-init ca-serve ca-db
fi

scratch ca-bench-acme
mkdir -p logs out bin
if [[ $BENCH_CLIENT == c ]]; then
	# shellcheck disable=SC2046
	"$CC" -O2 -o bin/acme-client "$HERE/acme-client.c" \
	    $(pkg-config --cflags --libs gnutls json-c libcurl) -lpthread >logs/acme-client.build 2>&1 ||
	    die "building the C client failed: $(head -n 5 logs/acme-client.build)"
	CLIENT=("$W/bin/acme-client")
	CLIENT_NAME="bench/acme-client.c (GnuTLS, libcurl-gnutls, json-c)"
else
	CLIENT=("$PYTHON" "$CA_TOP_SRCDIR/tests/acme-bench-client.py")
	CLIENT_NAME="tests/acme-bench-client.py (python, cryptography)"
fi
if [[ " $SERVERS " == *" ca-serve "* ]]; then
	copy_tools
	ACME_CA_SERVE=$CA_SERVE
	ACME_CA_INIT=$CA_INIT
fi
ACME_DIR=$W
. "$CA_TOP_SRCDIR/tests/acme-helpers.bash"
# The helpers' servers are recorded in $W/acme.pids: stopped with ours.
acme_cleanup() {
	acme_stop_file
	cleanup
}
trap acme_cleanup EXIT

machine
v_pebble=$(deb_version pebble)

# run SERVER CLIENTS: one timed run; out/SERVER-CLIENTS.res, certificates
# in out/SERVER-CLIENTS/
run() {
	local s=$1 n=$2 pid=$3 st=0
	mkdir -p "out/$s-$n"
	note "$s, $n client(s), ${D}s"
	"${CLIENT[@]}" --directory "$ACME_DIRECTORY" --trust "$ACME_TRUST" \
	    --http-port "$ACME_HTTP_PORT" --clients "$n" --seconds "$D" \
	    --server-pid "$pid" --certs "out/$s-$n" --webroot "$(mkdir -p "www-$s-$n" && cd "www-$s-$n" && pwd)" \
	    >"out/$s-$n.res" 2>"logs/$s-$n.client.err" || st=$?
	((st == 0)) || fail "$s, $n clients: the client exited $st: $(tail -n 2 "logs/$s-$n.client.err")"
	if [[ -s logs/$s-$n.client.err ]]; then
		anomaly "$s, $n clients: $(head -n 1 "logs/$s-$n.client.err" | cut -c1-300)"
	fi
	verify "$s" "$n"
}

# verify SERVER CLIENTS: every worker's last chain verifies with openssl
# verify -x509_strict against the server's root
VERIFIED=()
verify() {
	local s=$1 n=$2 f k=0 out
	for f in "out/$s-$n"/w*.pem; do
		[[ -e $f ]] || continue
		awk -v leaf="$f.leaf" -v rest="$f.rest" '
			/-----BEGIN CERTIFICATE-----/ { c++ }
			c == 1 { print > leaf } c > 1 { print > rest }' "$f"
		: >>"$f.rest"
		if out=$(openssl verify -x509_strict -purpose sslserver -CAfile "$ACME_ROOT" \
		    -untrusted "$f.rest" "$f.leaf" 2>&1); then
			k=$((k + 1))
		else
			fail "$s, $n clients: $f: $out"
		fi
	done
	((k > 0)) || fail "$s, $n clients: no certificate to verify"
	VERIFIED+=("$s/$n: $k")
}

# res SERVER CLIENTS KEY: KEY of out/SERVER-CLIENTS.res, ? when no result
res() {
	if [[ -s out/$1-$2.res ]]; then
		kv "out/$1-$2.res" ACMEBENCH "$3"
	else
		echo '?'
	fi
}

acme_challtestsrv_start || die "pebble-challtestsrv did not start"
for s in $SERVERS; do
	case $s in
	pebble)
		acme_pebble_start || die "pebble did not start"
		pid=$PEBBLE_PID
		;;
	ca-serve)
		acme_ca_serve_start standalone 2>>logs/ca-serve.start ||
			die "ca-serve with ACME did not start: $(tail -n 3 logs/ca-serve.start)"
		pid=$ACME_SERVE_PID
		;;
	esac
	for n in $CLIENTS; do
		run "$s" "$n" "$pid"
	done
	if [[ $s == ca-serve ]]; then
		recorded=$("$CA_DB" -d "$W/ca" list | tail -n +2 | wc -l)
		done_orders=0
		for n in $CLIENTS; do
			o=$(res ca-serve "$n" orders)
			[[ $o == '?' ]] || done_orders=$((done_orders + o))
		done
		# ca-serve's own TLS certificate is recorded too.
		((recorded >= done_orders)) ||
		    fail "ca-serve: $recorded certificates recorded, $done_orders orders completed"
		STORE_NOTE="ca-serve store: $recorded certificates recorded, $done_orders orders completed"
		scan_log ca-serve "$ACME_SERVE_LOG"
	fi
	kill -0 "$pid" 2>/dev/null || fail "$s died during the run"
	acme_stop_file
	acme_challtestsrv_start || die "pebble-challtestsrv did not restart"
done

# --- report ----------------------------------------------------------------


row() {
	local s=$1 n=$2 f=out/$1-$2.res rp
	if [[ ! -s $f ]]; then
		printf '%-10s %7s  %s\n' "$s" "$n" "no result"
		return
	fi
	rp=$(res pebble "$n" rate)
	printf '%-10s %7s %7s %8s %9s %7s %7s %10s %10s %8s %6s %8s\n' "$s" "$n" \
	    "$(kv "$f" ACMEBENCH orders)" "$(kv "$f" ACMEBENCH seconds)" "$(kv "$f" ACMEBENCH rate)" \
	    "$(kv "$f" ACMEBENCH p50_ms)" "$(kv "$f" ACMEBENCH p99_ms)" \
	    "$(kv "$f" ACMEBENCH cpu_ms_per_order)" "$(kv "$f" ACMEBENCH client_cpu_ms_per_order)" \
	    "$(awk -v p="$(kv "$f" ACMEBENCH polls)" -v o="$(kv "$f" ACMEBENCH orders)" \
		'BEGIN { if (o > 0) printf "%.1f", p / o; else print "?" }')" \
	    "$(kv "$f" ACMEBENCH errors)" "$(ratio "$(kv "$f" ACMEBENCH rate)" "$rp")x"
}

# target CMP A B: CMP (atleast, atmost) A B: PASS/FAIL, or SKIP when a
# figure is missing
target() {
	if [[ $2 == '?' || $3 == '?' || -z $2 || -z $3 ]]; then
		echo SKIP
	else
		"$1" "$2" "$3"
	fi
}

echo "== ca-tools ACME benchmark: ca-serve vs pebble, http-01 orders"
print_machine
if [[ -n ${CA_SERVE:-} ]]; then
	printf 'tools:    %s (copied from %s/, built %s, sha256 %s)\n' \
	    "$("$CA_SERVE" --version | head -n 1)" "$BIN" "$build_time" "$build_id"
fi
printf '          pebble %s (Debian), %s, %s\n' "$v_pebble" "$("$PYTHON" --version 2>&1)" \
    "cryptography $("$PYTHON" -c 'import cryptography; print(cryptography.__version__)')"
print_scratch
printf 'method:   %s, a process per client (own ES256 account,\n' "$CLIENT_NAME"
printf '          one keep-alive HTTP/1.1 HTTPS connection, no sleep between polls), %ss per run,\n' "$D"
printf '          load generator on the same CPUs\n'
echo
printf '%-10s %7s %7s %8s %9s %7s %7s %10s %10s %8s %6s %8s\n' server clients orders seconds \
    orders/s "p50 ms" "p99 ms" "srv ms/o" "cli ms/o" polls/o errors "vs peb"
for s in $SERVERS; do
	for n in $CLIENTS; do
		row "$s" "$n"
	done
done
printf '  (srv ms/o: server CPU per completed order; cli ms/o: the client processes'"'"' CPU per order;\n'
printf '   polls/o: POST-as-GET polls per order that found the object still pending or processing)\n'
TARGETS=()
for n in $CLIENTS; do
	rp=$(res pebble "$n" rate)
	rc=$(res ca-serve "$n" rate)
	cp=$(res pebble "$n" cpu_ms_per_order)
	cc=$(res ca-serve "$n" cpu_ms_per_order)
	r=$([[ $rc == '?' || $rp == '?' ]] && echo '?' || ratio "$rc" "$rp")
	c=$([[ $cc == '?' || $cp == '?' ]] && echo '?' || ratio "$cc" "$cp")
	if [[ $r == '?' ]]; then
		printf '  ratios, %s client(s): ca-serve/pebble orders/s ?, CPU per order ? (%s)\n' "$n" \
		    "a figure is missing"
	else
		printf '  ratios, %s client(s): ca-serve/pebble orders/s %sx, CPU per order ca-serve/pebble %sx\n' \
		    "$n" "$r" "$c"
	fi
	TARGETS+=("$(printf 'ca-serve >= 5x pebble orders/s, %s client(s):   %-4s (%sx)' \
	    "$n" "$(target atleast "$r" 5)" "$r")")
	TARGETS+=("$(printf 'ca-serve CPU/order <= 1/5 pebble'"'"'s, %s client(s): %-4s (%sx)' \
	    "$n" "$(target atmost "$c" 0.2)" "$c")")
done
echo
echo "targets:"
printf '  %s\n' "${TARGETS[@]}"
echo
echo "correctness:"
printf '  openssl verify -x509_strict, each client'"'"'s last chain: %s\n' "$(printf '%s; ' "${VERIFIED[@]}")"
[[ -n ${STORE_NOTE:-} ]] && printf '  %s\n' "$STORE_NOTE"
print_checks
finish
