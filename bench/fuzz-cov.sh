#!/bin/bash
# fuzz-cov.sh - the lines of each parser's file that a fuzz corpus reaches:
# every harness's corpus replayed (tests/fuzz/NAME.replay) through a build
# with gcc --coverage, then gcov per file, one harness at a time (the
# counters are reset between harnesses, so that each line is what that
# harness alone hits).
#
# Usage: bench/fuzz-cov.sh [CORPORA]
#
# CORPORA holds NAME/ (or NAME/corpus/, as bench/fuzz.sh KEEP=1 leaves
# it) for each harness; default tests/fuzz/corpus, the seeds. Past crash
# reproducers (tests/fuzz/crashes/NAME) are replayed too.
# Environment: COV_BUILD, the build directory (default _builds/gcov;
# configured and built when absent). Prints, per harness and file, the
# lines executed as gcov counts them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
corpora=$(cd "${1:-$top/tests/fuzz/corpus}" && pwd)
build=${COV_BUILD:-$top/_builds/gcov}
# The files whose parsers each harness is there for.
declare -A files=(
	[json]="lib/json.c"
	[jws]="lib/jws.c lib/jwk.c lib/jose.c lib/token.c"
	[jwe]="lib/jwe.c"
	[csr]="lib/x509.c lib/goodkey.c"
	[ocsp]="lib/ocsp.c"
	[store]="lib/db.c lib/dbfmt.c"
	[crl-ocsp]="lib/crl.c lib/ocsp.c"
	[chain]="lib/authority-renew.c lib/x509.c"
	[http]="lib/http.c"
	[redo]="lib/store-gdbm.c"
	[dns]="lib/acme-dns.c"
)
if [ ! -f "$build/Makefile" ]; then
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q --disable-static-deps \
		CFLAGS="-O0 -g --coverage" LDFLAGS=--coverage)
fi
harnesses=$(sed -n '/^FUZZ_HARNESSES *=/,/^[^\t]/p' "$top/Makefile.am" |
	grep -o 'tests/fuzz/[a-z0-9-]*' | sed 's|tests/fuzz/||')
make -C "$build" -s -j"$(nproc)" lib/libca.a >/dev/null
for h in $harnesses; do
	make -C "$build" -s "tests/fuzz/$h.replay" >/dev/null
done
printf '%-9s %-24s %6s %s\n' harness file lines "corpus files"
for h in $harnesses; do
	dir=$corpora/$h
	[ -d "$dir/corpus" ] && dir=$dir/corpus
	[ -d "$dir" ] || { echo "$h: no corpus in $corpora" >&2; continue; }
	find "$build" -name '*.gcda' -delete
	args=("$dir")
	[ -d "$top/tests/fuzz/crashes/$h" ] && args+=("$top/tests/fuzz/crashes/$h")
	CA_TOP_SRCDIR=$top "$build/tests/fuzz/$h.replay" "${args[@]}" >/dev/null
	n=$(ls "$dir" | wc -l)
	for f in ${files[$h]:-}; do
		b=$(basename "$f" .c)
		pct=$(cd "$build" && gcov -n -o "lib/$b.o" "$top/$f" 2>/dev/null |
			awk -v f="/$b.c'" 'substr($0, 1, 5) == "File " &&
				substr($0, length($0) - length(f) + 1) == f {
				getline; sub(/^Lines executed:/, ""); print; exit }')
		printf '%-9s %-24s %s %s\n' "$h" "$f" "${pct:-?}" "$n"
	done
done
