#!/bin/bash
# pkcs11.sh - issuance with the CA key on a PKCS#11 token (SoftHSM2)
# against the same CA with its key in a file, in the same run.
#
# Usage: bench/pkcs11.sh [ROUNDS]     (default 3)
#
# Environment:
#   CA_BIN     directory holding ca-init, ca-sign, ca-serve, ca-db; otherwise
#              $(dirname "$0")/../_build/bin, then /work/main/_build/bin,
#              then $PATH
#   N_OFF      offline ca-sign runs per CA and round (default 100)
#   N_ON       POST /sign requests per CA and round (default 1000)
#   CONC       keep-alive HTTPS connections of the client (default 8)
#   SAMPLE     certificates checked with openssl verify per CA (default 5)
#   KEEP=1     keep the scratch directory
#
# Scenarios, file key and token key interleaved round by round (the
# machine's speed drifts within a run):
#   offline  one ca-sign process per certificate (tokens and CSRs made
#            beforehand, untimed): the token's cost per process is loading
#            the module, logging in and finding the key
#   online   ca-serve --listen, bench/serve-tool.py's client with CONC
#            keep-alive connections: the token's cost per certificate is
#            the signature through PKCS#11
# Printed: certificates per second of each, per round and the median, and
# the ratio token/file.
#
# Exit status: 0 when every correctness check passes; 1 when one fails; 2
# on a usage error or a missing tool.
#
# Needs Debian packages: bash 5, softhsm2, openssl, python3 with
# python3-joserfc and python3-cryptography.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROUNDS=${1:-3}; posint ROUNDS
N_OFF=${N_OFF:-100}; posint N_OFF
N_ON=${N_ON:-1000}; posint N_ON
CONC=${CONC:-8}; posint CONC
SAMPLE=${SAMPLE:-5}; posint SAMPLE
PYTHON=${PYTHON:-python3}
MODULE=${MODULE:-/usr/lib/softhsm/libsofthsm2.so}

use_tools ca-sign ca-init ca-sign ca-serve ca-db
need softhsm2-util openssl "$PYTHON"
[[ -r $MODULE ]] || die "$MODULE not found (package softhsm2)"
[[ -r $HERE/serve-tool.py ]] || die "$HERE/serve-tool.py not found"
need_joserfc

scratch pkcs11-bench
copy_tools
cp "$HERE/serve-tool.py" bin/
TOOL=$W/bin/serve-tool.py
mkdir logs bodies out
umask 077

# --- the two CAs (untimed) -------------------------------------------------

mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$W" >softhsm2.conf
export SOFTHSM2_CONF=$W/softhsm2.conf
printf '1234\n' >pin
softhsm2-util --init-token --free --label bench --pin "$(cat pin)" \
    --so-pin 87654321 >/dev/null
password_file
for ca in file token; do
	kms=()
	if [[ $ca == token ]]; then
		kms=(--kms "pkcs11:module-path=$MODULE;token=bench" --kms-pin-file pin)
	else
		kms=(--unencrypted-intermediate-key)
	fi
	"$CA_INIT" -d "ca-$ca" --name "Bench $ca" --dns localhost,127.0.0.1 \
	    --address 127.0.0.1:8443 --provisioner bench --password-file pw \
	    --provisioner-key-out "prov-$ca.json" -q "${kms[@]}" >/dev/null
done
AUD=https://localhost:8443/1.0/sign

# Bodies (CSR + one-time token), one a line; offline takes them apart.
for ca in file token; do
	for ((r = 1; r <= ROUNDS; r++)); do
		job "$PYTHON" "$TOOL" ca-bodies "prov-$ca.json" "ca-$ca/certs/root_ca.crt" \
		    bench "$AUD" "$N_OFF" "o$ca$r" "bodies/off-$ca.$r"
		job "$PYTHON" "$TOOL" ca-bodies "prov-$ca.json" "ca-$ca/certs/root_ca.crt" \
		    bench "$AUD" "$N_ON" "n$ca$r" "bodies/on-$ca.$r"
	done
done
jobs_wait
for ca in file token; do
	for ((r = 1; r <= ROUNDS; r++)); do
		mkdir -p "off/$ca.$r"
		"$PYTHON" -c '
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    d = json.loads(line)
    open("%s/%d.tok" % (sys.argv[2], i), "w").write(d["ott"])
    open("%s/%d.csr" % (sys.argv[2], i), "w").write(d["csr"])' \
		    "bodies/off-$ca.$r" "off/$ca.$r"
	done
done

# --- offline: one ca-sign per certificate ----------------------------------

# offline CA ROUND: sets secs; every ca-sign must succeed
offline() {
	local ca=$1 r=$2 i err=0 t0 t1
	t0=$(now)
	for ((i = 0; i < N_OFF; i++)); do
		"$CA_SIGN" -d "ca-$ca" --token-file "off/$ca.$r/$i.tok" \
		    --csr "off/$ca.$r/$i.csr" >"off/$ca.$r/$i.crt" 2>>"logs/off-$ca.err" ||
		    err=$((err + 1))
	done
	t1=$(now)
	((err == 0)) || fail "offline $ca round $r: $err of $N_OFF ca-sign runs failed"
	secs=$(elapsed "$t0" "$t1")
}

# --- online: ca-serve and the repo's HTTPS client --------------------------

start_ca_serve file "$W/ca-file"
FILE_PORT=$SRV_PORT FILE_PID=$SRV_PID
start_ca_serve token "$W/ca-token"
TOKEN_PORT=$SRV_PORT TOKEN_PID=$SRV_PID

# online CA ROUND: sets rps (201s per second); all must be 201
online() {
	local ca=$1 r=$2 port n
	port=$FILE_PORT
	[[ $ca == token ]] && port=$TOKEN_PORT
	mkdir -p "out/on-$ca.$r"
	SAVE=$W/out/on-$ca.$r "$PYTHON" "$TOOL" client "127.0.0.1:$port" \
	    "ca-$ca/certs/root_ca.crt" "bodies/on-$ca.$r" "$CONC" /sign >"out/on-$ca.$r.client"
	n=$(sed -n 's/.* codes=201:\([0-9]*\).*/\1/p' "out/on-$ca.$r.client")
	[[ $n == "$N_ON" ]] || fail "online $ca round $r: $(cat "out/on-$ca.$r.client")"
	rps=$(rate "${n:-0}" "$(kv "out/on-$ca.$r.client" CLIENT seconds)")
}

declare -A OFF ON
for ((r = 1; r <= ROUNDS; r++)); do
	for ca in file token; do
		offline "$ca" "$r"
		OFF[$ca.$r]=$(rate "$N_OFF" "$secs")
		online "$ca" "$r"
		ON[$ca.$r]=$rps
		note "round $r $ca: offline ${OFF[$ca.$r]}/s, online ${ON[$ca.$r]}/s"
	done
done
stop_server "$FILE_PID" "ca-serve (file)"
stop_server "$TOKEN_PID" "ca-serve (token)"

# --- correctness: openssl verify, the token key never in a file ------------

for ca in file token; do
	root=ca-$ca/certs/root_ca.crt inter=ca-$ca/certs/intermediate_ca.crt
	for ((i = 0; i < SAMPLE; i++)); do
		for f in "off/$ca.1/$i.crt" "out/on-$ca.1/$i.crt"; do
			[[ -s $f ]] || { fail "$f: no certificate"; continue; }
			openssl verify -x509_strict -CAfile "$root" -untrusted "$inter" "$f" \
			    >/dev/null 2>&1 || fail "$f: openssl verify failed"
		done
	done
done
[[ -z $(find ca-token/secrets -name "*_ca_key") ]] || fail "ca-token/secrets holds a CA key file"
grep -q '"kms"' ca-token/config/ca.json || fail "ca-token has no kms block"

# --- report ----------------------------------------------------------------

# median of the values of ARRAY for CA
median() {
	local -n a=$1
	local ca=$2 r
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "${a[$ca.$r]}"
	done | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

machine
print_machine
print_scratch
printf 'softhsm:  %s, GnuTLS %s\n' "$(deb_version softhsm2)" "$(deb_version libgnutls30)"
printf 'runs:     %d rounds, file and token interleaved; offline %d ca-sign, online %d POST /sign (%d connections)\n' \
    "$ROUNDS" "$N_OFF" "$N_ON" "$CONC"
for kind in OFF ON; do
	label=offline
	[[ $kind == ON ]] && label=online
	per=""
	for ((r = 1; r <= ROUNDS; r++)); do
		declare -n arr=$kind
		per="$per ${arr[file.$r]}/${arr[token.$r]}"
		unset -n arr
	done
	mf=$(median "$kind" file)
	mt=$(median "$kind" token)
	printf '%-8s  file key %8.1f certs/s   token key %8.1f certs/s   token/file %s   (rounds file/token:%s)\n' \
	    "$label" "$mf" "$mt" "$(ratio "$mt" "$mf")" "$per"
done
for a in "${ANOMALIES[@]}"; do
	printf 'anomaly:  %s\n' "$a"
done
finish
