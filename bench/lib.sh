# lib.sh - shell code shared by the benchmark scripts in bench/; sourced,
# not run:  . "$(dirname "$0")/lib.sh"   (right after `set -euo pipefail`)
#
# Defines, for the script that sources it:
#   prog HERE TCK         the script's name, its directory, clock ticks/s
#   die note fail anomaly messages; fail counts in $failures, anomaly
#                         collects in ANOMALIES; finish exits 1 or 0 on them
#   posint set_duration need need_joserfc find_gnu_time
#                         argument and tool checks
#   use_tools copy_tools  find the ca-tools ($CA_BIN, ...) and run copies
#   scratch track         the scratch directory $W, background processes
#                         stopped by id when the script exits (KEEP=1 keeps
#                         $W)
#   spawn_ready start_ca_serve stop_server
#                         servers on port 0, the port read from --ready-fd
#   now elapsed rate ratio atleast atmost below kv ms_per
#                         small arithmetic, KEY=VALUE lines
#   rateof wrk_check wrk_errors
#                         the WRK result line of bench/*.lua (out/NAME.wrk)
#   statuses count_signed scan_log
#                         ca-serve logs
#   job jobs_wait         two background jobs at a time
#   machine deb_version wrk_version print_machine print_scratch print_checks
#                         the machine, tool and closing lines of a report
#   password_file         ./pw for ca-init --password-file

prog=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)

die() {
	printf '%s: %s\n' "$prog" "$*" >&2
	exit 2
}

note() {
	printf '%s: %s\n' "$prog" "$*" >&2
}

failures=0
fail() {
	printf '%s: CHECK FAILED: %s\n' "$prog" "$*" >&2
	failures=$((failures + 1))
}

ANOMALIES=()
anomaly() {
	ANOMALIES+=("$*")
}

# finish: exit 1 when a correctness check failed, else 0
finish() {
	if ((failures > 0)); then
		note "$failures correctness check(s) failed"
		exit 1
	fi
	exit 0
}

[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is needed (\$EPOCHREALTIME)"
TCK=$(getconf CLK_TCK)

# --- arguments and tools ---------------------------------------------------

# posint VAR: the variable named VAR holds a positive integer
posint() {
	[[ ${!1} =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, not '${!1}'"
}

# set_duration [ARG]: D, seconds per timed run, from ARG, else $DURATION,
# else 10
set_duration() {
	D=${1:-${DURATION:-10}}
	[[ $D =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive integer (seconds), not '$D'"
}

# need COMMAND...: each is on $PATH
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t not found"
	done
}

# need_joserfc: $PYTHON can build tokens and CSRs (bench/serve-tool.py)
need_joserfc() {
	"$PYTHON" -c 'import joserfc, cryptography' 2>/dev/null ||
	    die "$PYTHON cannot import joserfc and cryptography (python3-joserfc, python3-cryptography)"
}

# find_gnu_time: GNU_TIME=/usr/bin/time if it is GNU time (-f %M), else empty
find_gnu_time() {
	GNU_TIME=
	if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then
		GNU_TIME=/usr/bin/time
	fi
}

# find_bin PROBE: the directory of the ca-tools, the first that holds an
# executable PROBE of $CA_BIN, ../_build/bin next to the script,
# /work/main/_build/bin; then $PATH, unless CA_BIN is set
find_bin() {
	local d
	for d in ${CA_BIN:+"$CA_BIN"} "$HERE/../_build/bin" /work/main/_build/bin; do
		if [[ -x $d/$1 ]]; then
			(cd "$d" && pwd)
			return 0
		fi
	done
	if [[ -n ${CA_BIN:-} ]]; then
		return 1
	fi
	d=$(command -v "$1") || return 1
	dirname "$d"
}

# use_tools PROBE TOOL...: sets BIN (see find_bin) and checks that it
# holds every TOOL; copy_tools copies them later
use_tools() {
	local t
	CA_PROBE=$1
	shift
	CA_TOOLS=("$@")
	BIN=$(find_bin "$CA_PROBE") || die "$CA_PROBE not found (set CA_BIN)"
	for t in "${CA_TOOLS[@]}"; do
		[[ -x $BIN/$t ]] || die "$BIN/$t: not found or not executable"
	done
}

# copy_tools: runs in $W. Run a copy of the tools: a rebuild of $BIN during
# the run (make relinks in place) would otherwise mix two builds or fail
# half-way. Sets CA_INIT, CA_SERVE, ... (the tool's name in capitals, - as
# _) to $W/bin/TOOL, and build_id and build_time of PROBE.
copy_tools() {
	local t v
	mkdir -p bin
	for t in "${CA_TOOLS[@]}"; do
		cp "$BIN/$t" bin/ || die "cannot copy $BIN/$t (is a build running?)"
		"bin/$t" --version >/dev/null 2>&1 ||
		    die "$BIN/$t --version fails (is a build running?)"
		v=${t^^}
		printf -v "${v//-/_}" '%s' "$W/bin/$t"
	done
	build_id=$(cd bin && sha256sum "$CA_PROBE" | cut -c1-12)
	build_time=$(date -u -r "$BIN/$CA_PROBE" +%Y-%m-%dT%H:%M:%SZ)
}

# --- scratch directory, processes, cleanup ---------------------------------

PIDS=()

# track PID: stop PID when the script exits
track() {
	PIDS+=("$1")
}

# Every background process a script starts is tracked by its id and
# stopped here; nothing is looked up by name.
cleanup() {
	local pid i alive
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for ((i = 0; i < 50; i++)); do
		alive=0
		for pid in "${PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [[ ${KEEP:-0} == 1 ]]; then
		note "scratch directory kept: $W"
	else
		rm -rf "$W"
	fi
}

# scratch NAME: W, a new directory ${TMPDIR:-/tmp}/NAME.XXXXXX, removed
# (with the tracked processes stopped) on exit; cd there
scratch() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	cd "$W"
}

# --- servers ---------------------------------------------------------------

# spawn_ready SECONDS CMD...: CMD in the background with its fd 3 on a
# fifo (for --ready-fd 3), the first line it writes there read within
# SECONDS; sets SRV_PID (tracked) and SRV_PORT (empty when none came).
# Redirect the call to send CMD's stderr elsewhere.
spawn_ready() {
	local t=$1 fifo=$W/ready.fifo
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	"$@" 3>"$fifo" &
	SRV_PID=$!
	track "$SRV_PID"
	SRV_PORT=
	read -t "$t" -r SRV_PORT <"$fifo" || true
	rm -f "$fifo"
}

# start_ca_serve NAME DIR [options]: ca-serve on 127.0.0.1 port 0, its
# port read from --ready-fd; sets SRV_PID and SRV_PORT; its log is
# logs/NAME.log, its stderr logs/NAME.err.
start_ca_serve() {
	local name=$1 dir=$2
	shift 2
	spawn_ready 60 "$CA_SERVE" -d "$dir" --listen 127.0.0.1:0 --ready-fd 3 \
	    --log-file "$W/logs/$name.log" "$@" 2>>"$W/logs/$name.err"
	[[ -n $SRV_PORT ]] || {
		cat "$W/logs/$name.log" "$W/logs/$name.err" >&2 2>/dev/null || true
		die "ca-serve ($name) did not start"
	}
}

# stop_server PID NAME [EXPECTED-STATUS]: SIGTERM and reap; a ca-serve
# must exit 0 (a crash is a failed check); "any" accepts every status.
stop_server() {
	local pid=$1 name=$2 want=${3:-0} st=0
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || st=$?
	if [[ $want != any && $st != "$want" ]]; then
		fail "$name exited with status $st on SIGTERM (expected $want)"
	fi
}

# --- small helpers ---------------------------------------------------------

now() {
	printf '%s\n' "$EPOCHREALTIME"
}

# elapsed START END -> seconds with 3 decimals
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# rate COUNT SECONDS -> per second
rate() {
	awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "inf" }'
}

# ratio R1 R2 -> R1/R2
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

# atleast X Y, atmost X Y, below X Y -> PASS or FAIL
atleast() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "PASS" : "FAIL" }'
}

atmost() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "FAIL" }'
}

below() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "PASS" : "FAIL" }'
}

# kv FILE PREFIX KEY: the value of KEY=... on the line starting PREFIX
kv() {
	awk -v p="$2" -v k="$3" '$1 == p {
		for (i = 2; i <= NF; i++) {
			split($i, a, "=")
			if (a[1] == k) { v = substr($i, length(k) + 2) }
		}
	} END { print (v == "" ? "?" : v) }' "$1"
}

# ms_per COUNT TICKS: milliseconds of CPU per item
ms_per() {
	awk -v n="$1" -v t="$2" -v hz="$TCK" 'BEGIN { if (n > 0) printf "%.3f", t / hz * 1000 / n; else print "?" }'
}

# --- wrk results -----------------------------------------------------------

# wrk_check NAME STATUS: wrk, writing to out/NAME.wrk, exited STATUS; it
# must have exited 0 and printed its WRK line
wrk_check() {
	(($2 == 0)) || fail "$1: wrk exited $2: $(tail -n 2 "out/$1.wrk")"
	grep -q '^WRK ' "out/$1.wrk" || fail "$1: no result line from wrk"
}

# rateof NAME: requests per second of out/NAME.wrk
rateof() {
	rate "$(kv "out/$1.wrk" WRK requests)" "$(kv "out/$1.wrk" WRK seconds)"
}

# wrk_errors NAME: socket errors of out/NAME.wrk (connect, read, write,
# timeout)
wrk_errors() {
	awk -v a="$(kv "out/$1.wrk" WRK connect)" -v b="$(kv "out/$1.wrk" WRK read)" \
	    -v c="$(kv "out/$1.wrk" WRK write)" -v d="$(kv "out/$1.wrk" WRK timeout)" 'BEGIN { print a + b + c + d }'
}

# --- ca-serve logs ---------------------------------------------------------

# statuses LOG...: "201:N 400:M ..." from ca-serve logs (one line a request)
statuses() {
	awk '{
		for (i = 1; i <= NF - 2; i++)
			if ($i ~ /^(GET|POST|PUT|DELETE|HEAD)$/ && $(i + 2) ~ /^[0-9][0-9][0-9]$/) {
				n[$(i + 2)]++
				break
			}
	} END { for (s in n) printf "%s:%d\n", s, n[s] }' "$@" 2>/dev/null |
	    sort | paste -sd' ' | sed 's/^$/none/'
}

# count_signed LOG...: requests answered 201 on /sign or /1.0/sign
count_signed() {
	cat "$@" 2>/dev/null | grep -cE ' POST /(1\.0/)?sign 201 ' || true
}

# scan_log NAME LOG [WHAT]: note 5xx answers and library errors in a
# ca-serve log; WHAT names its libmicrohttpd lines in the note
scan_log() {
	local name=$1 log=$2 what=${3:-error lines in the log} n5 nm
	n5=$(awk '{
		for (i = 1; i <= NF - 2; i++)
			if ($i ~ /^(GET|POST)$/ && $(i + 2) ~ /^5[0-9][0-9]$/) { n++; break }
	} END { print n + 0 }' "$log" 2>/dev/null)
	if ((n5 > 0)); then
		anomaly "$name: $n5 answers 5xx in ${log#$W/}, e.g. $(grep -m1 -E ' (GET|POST) [^ ]+ 5[0-9][0-9] ' "$log" | cut -c1-200)"
	fi
	nm=$(grep -c ': mhd: ' "$log" 2>/dev/null || true)
	if ((nm > 0)); then
		anomaly "$name: $nm libmicrohttpd $what, most frequent: $(sed -n 's/.*: mhd: //p' "$log" |
		    cut -c1-90 | sort | uniq -c | sort -rn | head -n 3 |
		    awk '{ n = $1; $1 = ""; printf "%dx%s; ", n, $0 }' | cut -c1-400)"
	fi
	if grep -qiE 'panic|assert|abort|segfault' "$log" 2>/dev/null; then
		anomaly "$name: $(grep -m1 -iE 'panic|assert|abort|segfault' "$log" | cut -c1-200)"
	fi
}

# --- background jobs -------------------------------------------------------

# job CMD...: CMD in the background, at most two at a time (request
# bodies are built by python); jobs_wait waits for the rest
JOBS=()
job() {
	"$@" &
	JOBS+=($!)
	track "$!"
	if ((${#JOBS[@]} >= 2)); then
		wait "${JOBS[0]}" || die "building request bodies failed: $*"
		JOBS=("${JOBS[@]:1}")
	fi
}

jobs_wait() {
	local p
	for p in "${JOBS[@]}"; do
		wait "$p" || die "building request bodies failed"
	done
	JOBS=()
}

# --- report ----------------------------------------------------------------

# machine: sets cpus, model (of the CPU) and fstype (of $W)
machine() {
	cpus=$(nproc)
	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?')
	fstype=$(stat -f -c %T "$W" 2>/dev/null || echo unknown)
}

# deb_version PACKAGE: its installed Debian version, or ?
deb_version() {
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'
}

# wrk_version: "wrk 4.x.y"
wrk_version() {
	(wrk -v 2>&1 || true) | head -n 1 | awk '{ print $1, $2 }'
}

# print_machine, print_scratch: the report's machine: and scratch: lines
print_machine() {
	printf 'machine:  %s CPUs, Linux %s, %s\n' "$cpus" "$(uname -r)" "$model"
}

print_scratch() {
	printf 'scratch:  %s (%s)\n' "$W" "$fstype"
}

# print_checks: the report's last lines: the failed checks' count, then
# the anomalies (or "anomalies: none")
print_checks() {
	printf '  checks failed: %d\n' "$failures"
	echo
	if ((${#ANOMALIES[@]} > 0)); then
		echo "anomalies:"
		printf '  - %s\n' "${ANOMALIES[@]}"
	else
		echo "anomalies: none"
	fi
}

# password_file: ./pw, the password given to ca-init --password-file
password_file() {
	printf 'bench-password\n' >pw
	chmod 600 pw
}
