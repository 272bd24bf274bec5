#!/bin/sh
# run.sh - run one libFuzzer harness for a bounded time on a copy of its
# corpus, as CI and bench/fuzz.sh do:
#
#   tests/fuzz/run.sh BUILDDIR NAME SECONDS WORKDIR
#
# BUILDDIR was configured with CC=clang --enable-fuzzing and has run
# `make fuzz`. The corpus tests/fuzz/corpus/NAME is copied to
# WORKDIR/corpus (the fuzzer adds to the copy, never to the tree), the
# dictionary named by the harness's "fuzz-dict:" line is used, and a
# finding is written to WORKDIR/ as crash-*, leak-*, timeout-* or oom-*.
# Prints one line: NAME, executions per second, edges covered (cov:),
# corpus files before and after. Exit 0: no finding; 1: a finding (its
# reproducer named on stderr); 2: usage or setup error.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
[ $# -eq 4 ] || { echo "usage: $0 BUILDDIR NAME SECONDS WORKDIR" >&2; exit 2; }
build=$1 name=$2 secs=$3 work=$4
src=$(cd "$(dirname "$0")/../.." && pwd)
fuzzer=$build/tests/fuzz/fuzz-$name
[ -x "$fuzzer" ] || { echo "$0: no $fuzzer (make fuzz)" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work/corpus" || exit 2
if [ -d "$src/tests/fuzz/corpus/$name" ]; then
	cp "$src/tests/fuzz/corpus/$name"/* "$work/corpus/" 2>/dev/null
fi
before=$(ls "$work/corpus" | wc -l)
set -- -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/"
dict=$(sed -n 's/^.*fuzz-dict: *\([A-Za-z0-9_-]*\).*$/\1/p' "$src/tests/fuzz/$name.c" | head -n 1)
[ -z "$dict" ] || set -- "$@" -dict="$src/tests/fuzz/$dict.dict"
# ASan's leak check is on; abort_on_error gives a core-free, prompt exit.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$fuzzer" "$@" "$work/corpus" > "$work/log" 2>&1
status=$?
after=$(ls "$work/corpus" | wc -l)
execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | cut -d' ' -f2)
printf '%-8s %8s exec/s %6s edges %5s -> %s corpus files\n' "$name" \
	"${execs:-?}" "${cov:-?}" "$before" "$after"
found=$(ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
if [ "$status" -ne 0 ] || [ -n "$found" ]; then
	echo "$name: the fuzzer failed (status $status); log: $work/log" >&2
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$work/log" | head -n 5 >&2
	for f in $found; do
		echo "$name: reproducer $work/$f (copy it to tests/fuzz/crashes/$name/)" >&2
	done
	exit 1
fi
exit 0
