#!/bin/bash
# sans.sh - what a CSR with many subject alternative names costs the CA.
#
# Usage: bench/sans.sh [N...]          (default: 100 600 4000)
#
# For each N, a CSR with N DNS names (h1.t ... hN.t, to fit the 64 KiB CSR
# limit) is given to ca-sign with a token that allows one of them: the CA
# must refuse it (too many names, or names the token does not allow),
# leave the token unspent, and do so in about the time of a CSR with one
# name. Printed per N: wall seconds and CPU seconds (user+sys) of the
# ca-sign process, and its exit status and message.
#
# Environment:
#   CA_BIN     directory holding ca-init, ca-token, ca-sign (see lib.sh)
#   MAXSANS    caTools.maxSANs to set in ca.json (default: none, i.e. 100)
#   KEEP=1     keep the scratch directory
#
# Exit status: 0 when every refusal was a refusal and the token stayed
# unspent (this is a benchmark, not a test), 1 otherwise, 2 usage.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(100 600 4000)
for n in "${SIZES[@]}"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$n'"
done
use_tools ca-sign ca-init ca-token ca-sign
need openssl
find_gnu_time
[[ -n $GNU_TIME ]] || die "GNU time (/usr/bin/time) is needed"

scratch ca-bench-sans
copy_tools
password_file
"$CA_INIT" -d ca --name Bench --dns ca.test --address 127.0.0.1:8443 \
    --provisioner admin --password-file pw --unencrypted-intermediate-key \
    --provisioner-key-out prov.json -q >/dev/null
if [[ -n ${MAXSANS:-} ]]; then
	python3 - ca/config/ca.json "$MAXSANS" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("caTools", {})["maxSANs"] = int(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(c, indent=2))
PY
fi

# csr N: sN.csr with N DNS names, CN h1.t
csr() {
	{
		printf '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=@alt\n[alt]\n'
		seq 1 "$1" | awk '{ printf "DNS.%d=h%d.t\n", $1, $1 }'
	} >"s$1.cnf"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "s$1.key" -subj /CN=h1.t -config "s$1.cnf" -reqexts ext \
	    -out "s$1.csr" 2>/dev/null
}

machine
print_machine
printf 'build:    %s (%s)\n' "$build_id" "$build_time"
printf '%-6s %-8s %-9s %-9s %s\n' SANS BYTES WALL_S CPU_S RESULT
for n in "${SIZES[@]}"; do
	csr "$n"
	"$CA_TOKEN" -d ca --key prov.json h1.t >"t$n"
	st=0
	"$GNU_TIME" -f '%e %U %S' -o "time$n" "$CA_SIGN" -d ca --token-file "t$n" \
	    --csr "s$n.csr" >/dev/null 2>"err$n" || st=$?
	read -r wall user sys < <(tail -n 1 "time$n")
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
	printf '%-6s %-8s %-9s %-9s exit %s: %s\n' "$n" "$(stat -c %s "s$n.csr")" \
	    "$wall" "$cpu" "$st" "$(head -n 1 "err$n")"
	((st == 1)) || fail "N=$n: ca-sign exited $st, not 1 (refused)"
	# The token was not spent: it still pays for a CSR with its one name.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout one.key -subj /CN=h1.t -addext subjectAltName=DNS:h1.t \
	    -out one.csr 2>/dev/null
	"$CA_SIGN" -d ca --token-file "t$n" --csr one.csr >/dev/null 2>&1 ||
	    fail "N=$n: the token was spent by the refused request"
done
finish
