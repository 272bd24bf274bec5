#!/bin/bash
# callgrind.sh - instructions per certificate (valgrind --tool=callgrind),
# offline and in-process, for before/after comparisons of issuance code.
#
# Usage: bench/callgrind.sh [K]      (K certificates per measure; default 10)
#
# Environment:
#   CA_BIN   directory holding ca-init, ca-token, ca-sign; otherwise
#            $(dirname "$0")/../_build/bin, then /work/main/_build/bin, then
#            $PATH. Its ../lib/libca.a (or $LIBCA) and that build tree's
#            config.h build bench/issue.c with $CC (default cc).
#   KEEP=1   keep the scratch directory (its path is printed)
#   TEMPLATE=FILE  give the provisioner FILE as its certificate template
#            (ca-provisioner update --x509-template): what rendering a
#            template costs, against a run without
#
# Measures (instruction counts, Ir, as callgrind reports them):
#   offline    one ca-sign process per certificate (startup, config, key,
#              token, CSR, signing, store): the median of K processes
#   in-process ca_authority_sign in one process (bench/issue.c): the
#              total for 1+K certificates minus the total for 1, over K,
#              so that opening the authority is not counted
#   store      the same difference for the store's share: callgrind's
#              inclusive count of ca_store_commit and ca_store_begin, per
#              certificate
# Instruction counts do not drift with the machine's load as wall-clock
# rates do: they are what to compare between two builds.
#
# Needs Debian packages: bash 5, valgrind, openssl, gcc (cc), pkg-config,
# libgnutls28-dev, libtasn1-6-dev, libjson-c-dev, libgdbm-dev.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

K=${1:-10}
posint K
KEEP=${KEEP:-0}
CC=${CC:-cc}
need valgrind callgrind_annotate openssl "$CC" pkg-config

use_tools ca-sign ca-init ca-token ca-sign ca-provisioner
TEMPLATE=${TEMPLATE:-}
[[ -z $TEMPLATE || -r $TEMPLATE ]] || die "TEMPLATE=$TEMPLATE: not readable"
[[ -z $TEMPLATE ]] || TEMPLATE=$(realpath "$TEMPLATE")
LIBCA=${LIBCA:-$BIN/../lib/libca.a}
[[ -r $LIBCA ]] || die "$LIBCA not found (set LIBCA, or CA_BIN to a build tree's bin)"
BUILD_DIR=$(cd "$(dirname "$LIBCA")/.." && pwd)

scratch ca-bench-callgrind
mkdir csr tok out
copy_tools
cp "$LIBCA" bin/libca.a
read -r -a LINK <<<"$(sed -n 's/^DEPS_LIBS = //p' "$BUILD_DIR/Makefile")"
# The static-deps build loads p11-kit through lib/libp11lazy.a (after the
# static GnuTLS); older build trees link -lp11-kit in DEPS_LIBS instead.
[[ -r $BUILD_DIR/lib/libp11lazy.a ]] && LINK+=("$BUILD_DIR/lib/libp11lazy.a")
"$CC" -std=gnu11 -O2 -I"$BUILD_DIR" -I"$HERE/../lib" \
    $(pkg-config --cflags gnutls json-c) -o bin/issue "$HERE/issue.c" \
    bin/libca.a "${LINK[@]}" -lpthread >out/issue.build 2>&1 || {
	cat out/issue.build >&2
	die "cannot build bench/issue.c"
}

password_file
"$CA_INIT" -d ca --name Bench --dns ca.bench --provisioner bench \
    --password-file pw --unencrypted-intermediate-key \
    --provisioner-key-out prov.key -q >/dev/null
if [[ -n $TEMPLATE ]]; then
	"$CA_PROVISIONER" -d ca update bench --x509-template "$TEMPLATE" ||
	    die "ca-provisioner update --x509-template $TEMPLATE failed"
fi
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out leaf.key 2>/dev/null
total=$((2 * K + 2))
for ((i = 1; i <= total; i++)); do
	printf -v n 'host%04d.bench' "$i"
	openssl req -new -key leaf.key -subj "/CN=$n" \
	    -addext "subjectAltName=DNS:$n" -out "csr/$i.pem"
	"$CA_TOKEN" -d ca --key prov.key --not-after 1h "$n" >"tok/$i"
done
# A store that is not empty, as in use.
cp -a ca ca1
cp -a ca caK

# ir FILE: the total instruction count of a callgrind output file
ir() {
	awk '/^summary:/ { s = $2 } /^totals:/ { t = $2 } END { print (t ? t : s) }' "$1"
}
# incl FILE FUNCTION: inclusive Ir of FUNCTION (0 when it is not there)
incl() {
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
	    awk -v f=":$2 [" '!done && index($0, f) {
		gsub(/,/, "", $1); print $1; done = 1 } END { if (!done) print 0 }'
}
cg() {
	local out=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
	    2>>out/valgrind.log
}

# offline: K processes, certificates K+2 .. 2K+1 (1 .. K+1 go in-process)
off=()
for ((j = 0; j < K; j++)); do
	i=$((K + 2 + j))
	cg "out/off.$j" "$CA_SIGN" -d ca --token-file "tok/$i" \
	    --csr "csr/$i.pem" >/dev/null
	off+=("$(ir "out/off.$j")")
done
off_med=$(printf '%s\n' "${off[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')

# in-process: 1 certificate, then 1+K (separate stores, same requests)
cg out/in.1 bin/issue ca1 tok csr 1
cg out/in.K bin/issue caK tok csr $((K + 1))
in1=$(ir out/in.1)
inK=$(ir out/in.K)
per=$(((inK - in1) / K))
st1=0 stK=0
for f in ca_store_commit ca_store_begin; do
	a=$(incl out/in.1 "$f"); b=$(incl out/in.K "$f")
	st1=$((st1 + ${a:-0})); stK=$((stK + ${b:-0}))
done
store=$(((stK - st1) / K))

printf '== instructions per certificate (callgrind Ir), K=%d\n' "$K"
printf 'tools: %s, from %s/ (sha256 %s)\n' \
    "$("$CA_SIGN" --version | head -n 1)" "$BIN" "$build_id"
printf 'certificate template: %s\n' "${TEMPLATE:-none}"
printf '%-44s %12s\n' measure Ir
printf '%-44s %12s\n' "offline: one ca-sign process (median of $K)" "$off_med"
printf '%-44s %12s\n' "offline: min / max" "$(printf '%s\n' "${off[@]}" | sort -n | head -n 1) / $(printf '%s\n' "${off[@]}" | sort -n | tail -n 1)"
printf '%-44s %12s\n' "in-process: ca_authority_sign, per cert" "$per"
printf '%-44s %12s\n' "  of which store begin+commit, per cert" "$store"
if [[ $KEEP == 1 ]]; then
	printf 'callgrind files: %s/out (callgrind_annotate out/in.K)\n' "$W"
fi
finish
