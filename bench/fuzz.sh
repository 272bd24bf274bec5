#!/bin/bash
# fuzz.sh - run every libFuzzer harness (tests/fuzz/) for N minutes each and
# print, per harness, executions per second, coverage (libFuzzer's "cov:",
# edges of the instrumented code: lib/ and the harness) and the corpus size
# before and after.
#
# Usage: bench/fuzz.sh [MINUTES]        (default 1; may be a fraction: 0.5)
#
# Environment:
#   FUZZ_BUILD  build directory configured with CC=clang --enable-fuzzing
#               (default _builds/fuzz; configured and built when absent)
#   HARNESSES   names to run (default: every tests/fuzz/fuzz-NAME built)
#   KEEP=1      keep the scratch directory: each harness's grown corpus,
#               log and findings (its path is printed)
# The fuzzers run one after the other on a copy of the corpus (the tree's
# corpus is never changed; to keep what they found, minimise it with
# -merge=1 into tests/fuzz/corpus/NAME by hand). Exit 1 if any fuzzer
# found something: its reproducer is named on stderr.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-1}
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "usage: $0 [MINUTES]" >&2; exit 2; }
secs=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); print (s > 0 ? s : 1) }')
build=${FUZZ_BUILD:-$top/_builds/fuzz}
if [ ! -f "$build/Makefile" ]; then
	mkdir -p "$build"
	(cd "$build" && "$top/configure" -q CC=clang --enable-fuzzing)
fi
make -C "$build" -s -j"$(nproc)" fuzz >/dev/null
if [ -z "${HARNESSES:-}" ]; then
	HARNESSES=$(cd "$build/tests/fuzz" && ls fuzz-* | sed 's/^fuzz-//' | tr '\n' ' ')
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
[ "${KEEP:-0}" = 1 ] && echo "scratch: $W" || trap 'rm -rf "$W"' EXIT
echo "fuzz.sh: $secs s per harness, $(clang --version | head -n 1), $(nproc) cores"
echo "harness  exec/s        edges     corpus before -> after"
status=0
for h in $HARNESSES; do
	"$top/tests/fuzz/run.sh" "$build" "$h" "$secs" "$W/$h" || status=1
done
exit $status
