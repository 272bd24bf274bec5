#!/bin/bash
# privsep.sh - ca-serve with the signer in its own process against
# in-process, scenario A of bench/serve.sh (HTTPS keep-alive POST /sign),
# interleaved in one run: A, AP, A, AP (the machine's speed drifts).
#
# Usage: bench/privsep.sh [SECONDS]   (per timed run; default 10)
#
# Environment: CA_BIN, CLIENTS (16), WRK_THREADS (2), CAP_A (5000), KEEP,
# TMPDIR as for bench/serve.sh, which runs AP once too, next to its peers.
#   A    ca-serve --no-privsep
#   AP   ca-serve --user nobody (as root), else --privsep
# The target: AP >= 90 % of A over all rounds, p99 reported for each run.
#
# Needs: wrk, python3 with joserfc and cryptography, iproute2 (ss).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

set_duration "${1:-}"
CLIENTS=${CLIENTS:-16}; posint CLIENTS
WRK_THREADS=${WRK_THREADS:-2}; posint WRK_THREADS
CAP_A=${CAP_A:-5000}; posint CAP_A
KEEP=${KEEP:-0}
PYTHON=${PYTHON:-python3}
ROUNDS=2

use_tools ca-serve ca-init ca-serve ca-db
need wrk "$PYTHON"
need_joserfc
scratch ca-bench-privsep
mkdir bin bodies logs out
copy_tools
cp "$HERE/serve-sign.lua" "$HERE/serve-tool.py" bin/
LUA=$W/bin/serve-sign.lua
TOOL=$W/bin/serve-tool.py
if [[ $(id -u) == 0 ]]; then AP_OPT=(--user nobody); else AP_OPT=(--privsep); fi

machine
password_file
note "setting up CAs and building request bodies"
"$CA_INIT" -d ca --name Bench --dns localhost,127.0.0.1 \
    --address 127.0.0.1:8443 --provisioner bench --password-file pw \
    --unencrypted-intermediate-key --provisioner-key-out prov.json -q >/dev/null
ROOT=$W/ca/certs/root_ca.crt
AUD=https://localhost:8443/1.0/sign
n=$(((D * CAP_A + WRK_THREADS - 1) / WRK_THREADS))
for ((r = 1; r <= ROUNDS; r++)); do
	for s in A AP; do
		cp -a ca "ca$s$r"
		for ((k = 0; k < WRK_THREADS; k++)); do
			job "$PYTHON" "$TOOL" ca-bodies prov.json "$ROOT" bench "$AUD" "$n" \
			    "$s$r.$k" "bodies/$s$r.$k"
		done
	done
done
jobs_wait

run() {
	local name=$1 st=0
	shift
	note "$name: ca-serve $*, ${D}s"
	start_ca_serve "$name" "ca$name" "$@"
	wrk -t"$WRK_THREADS" -c"$CLIENTS" -d"${D}s" --timeout 10s --latency \
	    -s "$LUA" "https://127.0.0.1:$SRV_PORT/sign" -- "bodies/$name" /sign \
	    >"out/$name.wrk" 2>&1 || st=$?
	wrk_check "$name" "$st"
	stop_server "$SRV_PID" "ca-serve $name"
	[[ $(kv "out/$name.wrk" WRK exhausted) == 0 ]] ||
	    anomaly "$name: a wrk thread ran out of request bodies (raise CAP_A)"
	[[ $(kv "out/$name.wrk" WRK non2xx) == 0 ]] ||
	    fail "$name: $(kv "out/$name.wrk" WRK non2xx) non-2xx answers"
}
for ((r = 1; r <= ROUNDS; r++)); do
	run "A$r" --no-privsep
	run "AP$r" "${AP_OPT[@]}"
done

echo "== ca-serve: privilege separation against in-process (scenario A)"
print_machine
printf 'method:   wrk -t%s -c%s -d%ss, a distinct CSR and one-time token per request; order %s\n' \
    "$WRK_THREADS" "$CLIENTS" "$D" "A1 AP1 A2 AP2"
printf '%-6s %-26s %7s %9s %8s %8s %8s\n' run server count certs/s "p50 ms" "p99 ms" "max ms"
tot() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
nA=0 sA=0 nP=0 sP=0
for ((r = 1; r <= ROUNDS; r++)); do
	for s in A AP; do
		f=out/$s$r.wrk
		[[ $s == A ]] && what="--no-privsep" || what="${AP_OPT[*]}"
		printf '%-6s %-26s %7s %9s %8s %8s %8s\n' "$s$r" "$what" \
		    "$(kv "$f" WRK requests)" "$(rateof "$s$r")" "$(kv "$f" WRK p50_ms)" \
		    "$(kv "$f" WRK p99_ms)" "$(kv "$f" WRK max_ms)"
		if [[ $s == A ]]; then
			nA=$(tot "$nA" "$(kv "$f" WRK requests)"); sA=$(tot "$sA" "$(kv "$f" WRK seconds)")
		else
			nP=$(tot "$nP" "$(kv "$f" WRK requests)"); sP=$(tot "$sP" "$(kv "$f" WRK seconds)")
		fi
	done
done
rA=$(rate "$nA" "$sA")
rP=$(rate "$nP" "$sP")
q=$(ratio "$rP" "$rA")
echo
printf 'target: AP >= 90%% of A: %s (%s vs %s certs/s over %s rounds = %s%%)\n' \
    "$(atleast "$q" 0.90)" "$rP" "$rA" "$ROUNDS" "$(awk -v r="$q" 'BEGIN { printf "%.0f", r * 100 }')"
for ((r = 1; r <= ROUNDS; r++)); do
	scan_log "A$r" "logs/A$r.log"
	scan_log "AP$r" "logs/AP$r.log"
done
finish
