#!/bin/bash
# acme-syscalls.sh - system calls per completed ACME order in ca-serve:
# bench/acme.sh runs ca-serve alone with one client, and strace -c -f is
# attached to ca-serve for a few seconds in the middle of the run. Counts
# do not drift with the machine's load as rates do: they are what to
# compare between two builds (with CA_BIN).
#
# Usage: bench/acme-syscalls.sh [SECONDS]    (strace's share; default 5)
#
# Environment: CA_BIN as for bench/acme.sh.
#
# Orders completed while strace was attached are counted by the
# validator's socketpair calls (one per http-01 validation, one
# validation per order in this benchmark). strace slows ca-serve down, so
# only the counts per order mean anything, not the rate.
#
# Needs Debian packages: strace, and what bench/acme.sh needs.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
secs=${1:-5}
case $secs in "" | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
command -v strace >/dev/null || { echo "$0: strace not found" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/ca-bench-syscalls.XXXXXX")
trap 'rm -rf "$out"' EXIT
SERVERS=ca-serve CLIENTS=1 "$here/acme.sh" $((secs + 10)) > "$out/bench" 2>&1 &
bench=$!
# ca-serve's pid: the newest process serving a bench/acme.sh scratch CA.
pid=
for _ in $(seq 600); do
	pid=$(pgrep -n -f 'ca-serve -d .*/ca-bench-acme\.' || true)
	[ -z "$pid" ] || break
	kill -0 "$bench" 2>/dev/null || break
	sleep 0.1
done
[ -n "$pid" ] || { cat "$out/bench" >&2; echo "$0: ca-serve did not start" >&2; exit 1; }
# A warm-up, not a readiness wait: the clients have started by then
# (bench/acme.sh starts them as soon as ca-serve is ready).
sleep 4
timeout -s INT "$secs" strace -c -f -p "$pid" -o "$out/strace" 2>/dev/null || true
wait "$bench" || { cat "$out/bench" >&2; echo "$0: bench/acme.sh failed" >&2; exit 1; }
awk '
	$NF == "socketpair" { orders = $4 }
	/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" { n[$NF] = $4 }
	$NF == "total" { total = $4 }
	END {
		if (orders == 0) { print "no order completed while attached" > "/dev/stderr"; exit 1 }
		printf "orders while attached: %d\nsystem calls per order: %.0f\n", orders, total / orders
		for (s in n) printf "  %-16s %7.1f\n", s, n[s] / orders | "sort -k2 -rn"
	}' "$out/strace"
