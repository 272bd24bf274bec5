#!/usr/bin/env bats
# The documentation agrees with the programs: every option that a tool's
# --help lists is documented in its man page and completed by the bash and
# zsh completions, nothing there names an option the tool does not have,
# and the man pages render without warnings.

load helpers

TOOLS=(ca-init ca-token ca-sign ca-db ca-bootstrap ca-serve ca-renew ca-revoke ca-provisioner ca-inspect ca-certificate)
# The tools that work on a state directory (-d, --state-dir).
STATE_TOOLS=(ca-init ca-token ca-sign ca-db ca-serve ca-renew ca-revoke ca-provisioner ca-certificate)

# The man page of TOOL: section 8 for the daemon, 1 for the commands.
man_page() {
	case $1 in
	ca-serve) printf '%s\n' "$CA_TOP_SRCDIR/man/$1.8" ;;
	*) printf '%s\n' "$CA_TOP_SRCDIR/man/$1.1" ;;
	esac
}

# The options in the option table of TOOL --help, one per line: the short
# and the long spelling of "  -d, --state-dir DIR   ..." and the long one of
# "      --json   ...". Continuation lines do not start with a dash.
help_options() {
	"$1" --help | sed -nE \
	    's/^ +(-[A-Za-z0-9](, --[A-Za-z0-9][A-Za-z0-9-]*)?|--[A-Za-z0-9][A-Za-z0-9-]*)([ =].*)?$/\1/p' |
	    sed 's/, /\n/'
}

# contains_opt TEXT OPT: OPT occurs in TEXT as a whole option, not as part
# of a longer one (--key is not in --key-type, -d is not in --dns). OPT may
# be in roff spelling (\-\-key), where a following \- continues the name.
contains_opt() {
	local text=$1 opt=$2 pre=' ' head
	while [[ $text == *"$opt"* ]]; do
		head=$pre${text%%"$opt"*}
		text=${text#*"$opt"}
		pre=${opt: -1}
		if [[ ! $head =~ [A-Za-z0-9-]$ && ! ${text:0:1} =~ [A-Za-z0-9-] &&
		    ${text:0:2} != '\-' ]]; then
			return 0
		fi
	done
	return 1
}

# The tag lines (the line after .TP) of the OPTIONS section of a man page.
man_option_tags() {
	awk '/^\.SH/ { opts = ($2 == "OPTIONS") } opts && tag { print } { tag = opts && /^\.TP/ }' "$1"
}

# The roff spelling of an option: every - escaped as \-.
roff() {
	printf '%s' "${1//-/\\-}"
}

# The bash completion file, without comments.
bash_completion_text() {
	grep -v '^[[:space:]]*#' "$CA_TOP_SRCDIR/completions/bash/$1"
}

# The option list of a bash completion file: the words of opts='...'.
bash_completion_opts() {
	awk "/opts='/ { on = 1 } on { print } on && /'\$/ { exit }" \
	    "$CA_TOP_SRCDIR/completions/bash/$1" |
	    sed "s/.*opts='//; s/'.*//" | tr -s ' \t' '\n\n' | grep -v '^$'
}

# The option specifications of TOOL in the zsh file: its case branch, with
# the [descriptions] and the (exclusion lists) taken out, so that only the
# options it completes remain.
zsh_section() {
	awk -v t="$1)" '$1 == t { on = 1; next } on && /^ *;;/ { exit } on { print }' \
	    "$CA_TOP_SRCDIR/completions/zsh/_ca-tools" |
	    sed -E 's/\[[^]]*\]//g; s/'\''\([^)]*\)/'\''/g'
}

# The options the zsh specifications name: those that start an optspec.
zsh_section_opts() {
	zsh_section "$1" | grep -oE "['{,*](--?[A-Za-z0-9][A-Za-z0-9-]*)" |
	    sed -E 's/^.//'
}

# The completion function bash calls for TOOL, from `complete -p`.
bash_completion_function() {
	bash -c '. "$1" && complete -p "$2"' _ \
	    "$CA_TOP_SRCDIR/completions/bash/$1" "$1" |
	    sed -nE 's/.* -F ([^ ]+) .*/\1/p'
}

# bash_complete TOOL WORD...: run TOOL's bash completion as if the user
# had typed WORDs (the last one being completed); print the candidates.
bash_complete() {
	local tool=$1 fn
	fn=$(bash_completion_function "$tool")
	[ -n "$fn" ] || return 1
	shift
	bash -c '
		. "$1"; fn=$2; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		"$fn"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$CA_TOP_SRCDIR/completions/bash/$tool" "$fn" "$tool" "$@"
}

@test "each tool: --help and --version exit 0 and print on stdout only" {
	for t in "${TOOLS[@]}"; do
		run -0 --separate-stderr "$t" --help
		assert_output --partial "Usage: $t "
		assert_equal "$stderr" ""
		run -0 --separate-stderr "$t" -h
		assert_output --partial "Usage: $t "
		run -0 --separate-stderr "$t" --version
		assert_output --regexp "^$t \(ca-tools\) [0-9]"
		assert_equal "$stderr" ""
		run -0 --separate-stderr "$t" -V
		assert_output --regexp "^$t \(ca-tools\) [0-9]"
	done
}

@test "the options are found in each tool's --help" {
	for t in "${TOOLS[@]}"; do
		run -0 help_options "$t"
		if [[ " ${STATE_TOOLS[*]} " == *" $t "* ]]; then
			assert_line -- --state-dir
			assert_line -- -d
		fi
		assert_line -- --help
		assert_line -- -h
		assert_line -- --version
		assert_line -- -V
	done
}

@test "every option of --help is in the OPTIONS of the tool's man page" {
	local t o page missing=
	for t in "${TOOLS[@]}"; do
		page=$(man_page "$t")
		[ -f "$page" ] || { missing+="$t: man/${page##*/} does not exist"$'\n'; continue; }
		tags=$(man_option_tags "$page")
		for o in $(help_options "$t"); do
			contains_opt "$tags" "$(roff "$o")" ||
			    missing+="$t: $o ($(roff "$o")) is not a .TP tag in OPTIONS of man/${page##*/}"$'\n'
		done
	done
	[ -z "$missing" ] || fail "$missing"
}

@test "every option of --help is in the tool's bash completion" {
	local t o text missing=
	for t in "${TOOLS[@]}"; do
		text=$(bash_completion_text "$t")
		for o in $(help_options "$t"); do
			contains_opt "$text" "$o" ||
			    missing+="$t: $o is missing from completions/bash/$t"$'\n'
		done
	done
	[ -z "$missing" ] || fail "$missing"
}

@test "every option of --help is in the tool's section of the zsh completion" {
	local t o text missing=
	for t in "${TOOLS[@]}"; do
		text=$(zsh_section "$t")
		[ -n "$text" ] || { missing+="$t: no '$t)' branch in completions/zsh/_ca-tools"$'\n'; continue; }
		for o in $(help_options "$t"); do
			contains_opt "$text" "$o" ||
			    missing+="$t: $o is missing from completions/zsh/_ca-tools"$'\n'
		done
	done
	head -n 1 "$CA_TOP_SRCDIR/completions/zsh/_ca-tools" |
	    grep -qxF "#compdef ${TOOLS[*]}" ||
	    missing+="completions/zsh/_ca-tools: the first line is not '#compdef ${TOOLS[*]}'"$'\n'
	[ -z "$missing" ] || fail "$missing"
}

@test "the man pages and completions name no option that --help does not list" {
	local t o h page extra=
	for t in "${TOOLS[@]}"; do
		h=$(help_options "$t")
		page=$(man_page "$t")
		[ -f "$page" ] || extra+="$t: man/${page##*/} does not exist"$'\n'
		for o in $(man_option_tags "$page" 2>/dev/null |
		    grep -oE '(\\-){1,2}[A-Za-z0-9]([A-Za-z0-9]|\\-)*' |
		    sed 's/\\-/-/g'); do
			grep -qxF -- "$o" <<< "$h" ||
			    extra+="$t: man/${page##*/} documents $o, which $t --help does not list"$'\n'
		done
		for o in $(bash_completion_opts "$t"); do
			grep -qxF -- "$o" <<< "$h" ||
			    extra+="$t: completions/bash/$t offers $o, which $t --help does not list"$'\n'
		done
		for o in $(zsh_section_opts "$t"); do
			grep -qxF -- "$o" <<< "$h" ||
			    extra+="$t: completions/zsh/_ca-tools offers $o, which $t --help does not list"$'\n'
		done
	done
	[ -z "$extra" ] || fail "$extra"
}

@test "bash completion: '-' offers every option of --help" {
	local t o offered missing=
	for t in "${TOOLS[@]}"; do
		run -0 bash_completion_function "$t"
		[ -n "$output" ] ||
		    { missing+="$t: completions/bash/$t registers no 'complete -F' for $t"$'\n'; continue; }
		offered=$(bash_complete "$t" -)
		for o in $(help_options "$t"); do
			grep -qxF -- "$o" <<< "$offered" ||
			    missing+="$t: completing '$t -' does not offer $o (completions/bash/$t)"$'\n'
		done
	done
	[ -z "$missing" ] || fail "$missing"
}

@test "bash completion: key types, ca-db commands, directories and files" {
	# --key-type: the types that ca-init --help lists.
	types=$(ca-init --help | sed -nE 's/^ +--key-type TYPE +//p' |
	    grep -oE '[a-z]+(-[a-z0-9]+)*[0-9]+' | sort)
	[ -n "$types" ]
	run -0 bash_complete ca-init --key-type ''
	assert_equal "$(sort <<< "$output")" "$types"
	for k in $types; do
		grep -q -- "$k" "$CA_TOP_SRCDIR/completions/zsh/_ca-tools" ||
		    fail "key type $k is missing from completions/zsh/_ca-tools"
	done

	# ca-db: the commands of its usage lines.
	cmds=$(ca-db --help | sed -nE 's/^(Usage:)? +ca-db -d DIR ([a-z]+).*/\2/p' | sort -u)
	assert_equal "$(echo $cmds)" "check eab list show"
	run -0 bash_complete ca-db -d x ''
	assert_equal "$(sort <<< "$output")" "$cmds"
	for c in $cmds; do
		grep -q -- "$c\\\\:" "$CA_TOP_SRCDIR/completions/zsh/_ca-tools" ||
		    fail "ca-db command $c is missing from completions/zsh/_ca-tools"
	done

	# -d completes directories, FILE arguments file names.
	cd "$BATS_TEST_TMPDIR"
	mkdir statedir
	touch statefile
	for t in "${STATE_TOOLS[@]}"; do
		run -0 bash_complete "$t" -d state
		assert_output statedir
		run -0 bash_complete "$t" --state-dir = state
		assert_output statedir
	done
	run -0 bash_complete ca-sign --token-file statef
	assert_output statefile
	run -0 bash_complete ca-token --key statef
	assert_output statefile
	run -0 bash_complete ca-init --password-file statef
	assert_output statefile
	run -0 bash_complete ca-init --upstream-password-file statef
	assert_output statefile
	run -0 bash_complete ca-init --upstream ''
	assert_output ''
	run -0 bash_complete ca-init --upstream-fingerprint ''
	assert_output ''
	run -0 bash_complete ca-init --upstream-provisioner ''
	assert_output ''
	run -0 bash_complete ca-sign --root statef
	assert_output statefile
	run -0 bash_complete ca-token --root statef
	assert_output statefile
	run -0 bash_complete ca-bootstrap -o statef
	assert_output statefile
	run -0 bash_complete ca-serve --password-file statef
	assert_output statefile
	run -0 bash_complete ca-serve --upstream-password-file statef
	assert_output statefile
	run -0 bash_complete ca-serve --log-file statef
	assert_output statefile
	run -0 bash_complete ca-serve --listen ''
	assert_output ''
	run -0 bash_complete ca-sign --key-type ''
	assert_equal "$(sort <<< "$output")" "$types"
	run -0 bash_complete ca-renew --root statef
	assert_output statefile
	run -0 bash_complete ca-renew --key-out statef
	assert_output statefile
	# ca-renew's operands, CERT and KEY, are files.
	run -0 bash_complete ca-renew statef
	assert_output statefile
	run -0 bash_complete ca-renew statefile statef
	assert_output statefile
	run -0 bash_complete ca-renew --exec ''
	assert_output ''
	run -0 bash_complete ca-revoke --token-file statef
	assert_output statefile
	run -0 bash_complete ca-revoke --cert statef
	assert_output statefile
	run -0 bash_complete ca-revoke --key statef
	assert_output statefile
	# ca-revoke's operand is a serial number: nothing to complete.
	run -0 bash_complete ca-revoke statef
	assert_output ''
}

@test "completion: ca-revoke --reason offers the RFC 5280 reason names" {
	# The names of CRLReason (RFC 5280 5.3.1), code 7 unused; the man page
	# lists them under --reason.
	reasons='aACompromise
affiliationChanged
cACompromise
certificateHold
cessationOfOperation
keyCompromise
privilegeWithdrawn
removeFromCRL
superseded
unspecified'
	run -0 bash_complete ca-revoke --reason ''
	assert_equal "$(LC_ALL=C sort <<< "$output")" "$reasons"
	run -0 bash_complete ca-revoke --reason = key
	assert_output keyCompromise
	for r in $reasons; do
		zsh_section ca-revoke | grep -qw -- "$r" ||
		    fail "reason $r is missing from ca-revoke in completions/zsh/_ca-tools"
		awk '/^\.SH/ { on = ($2 == "OPTIONS") } on' \
		    "$CA_TOP_SRCDIR/man/ca-revoke.1" | grep -qx "\.B $r" ||
		    fail "reason $r is not listed in OPTIONS of man/ca-revoke.1"
		run -0 ca-revoke --reason "$r" --help
	done
}

@test "the zsh completion parses" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run -0 zsh -n "$CA_TOP_SRCDIR/completions/zsh/_ca-tools"
}

@test "the man pages render without warnings" {
	command -v groff >/dev/null || skip "groff is not installed"
	for p in "$CA_TOP_SRCDIR"/man/*.[1-8]; do
		run -0 --separate-stderr groff -man -Tutf8 -ww -z "$p"
		[ -z "$stderr" ] || fail "$(basename "$p"): $stderr"
		name=$(basename "$p")
		sec=${name##*.}
		name=${name%.*}
		grep -q "^\.TH ${name^^} $sec " "$p" ||
		    fail "$(basename "$p"): no '.TH ${name^^} $sec' line"
	done
}

@test "every man page has the sections the house style asks for" {
	local t s page name missing=
	for t in "${TOOLS[@]}"; do
		page=$(man_page "$t")
		name=man/${page##*/}
		[ -f "$page" ] || { missing+="$t: $name does not exist"$'\n'; continue; }
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES \
		    'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
			grep -qEx "\.SH \"?$s\"?" "$page" ||
			    missing+="$name: no .SH $s"$'\n'
		done
		grep -q CA_STATE_DIR "$page" ||
		    missing+="$name: CA_STATE_DIR is not described"$'\n'
		for s in 0 1 2 3 4; do
			awk '/^\.SH/ { on = ($2 == "EXIT") } on' "$page" |
			    grep -qx "\.B $s" ||
			    missing+="$name: exit status $s is not in EXIT STATUS"$'\n'
		done
	done
	[ -z "$missing" ] || fail "$missing"
}
