#!/usr/bin/env bats
# ./quickstart's build directories: one per set of configure arguments, so
# that a build with other flags (CI's sanitizers) never reuses objects made
# without them. Run on a copy of quickstart with a stub configure whose
# Makefile records the arguments it was made with.

load helpers

setup() {
	S=$BATS_TEST_TMPDIR/src
	mkdir -p "$S"
	cp "$CA_TOP_SRCDIR/quickstart" "$S/"
	touch "$S/configure.ac" "$S/Makefile.am"
	touch -d '1 minute ago' "$S/configure.ac" "$S/Makefile.am"
	cat > "$S/configure" <<'SH'
#!/bin/sh
echo "$*" >> "$(dirname "$0")/configure.runs"
printf 'all:\n\t@echo "%s" > made-with\ncheck:\n\t@echo "checked: $$(cat made-with)"\n' "$*" > Makefile
SH
	chmod +x "$S/configure"
	touch "$S/Makefile.in"
}

@test "quickstart: each set of configure arguments builds in a directory of its own" {
	mkdir -p "$S/_build"
	touch "$S/_build/stale.o"	# an older quickstart's single build directory
	run -0 "$S/quickstart" check --enable-sanitizers
	assert_line 'checked: -q --enable-static-deps --enable-sanitizers'
	[ -L "$S/_build" ]
	san=$(readlink "$S/_build")
	run -0 "$S/quickstart" check
	assert_line 'checked: -q --enable-static-deps'
	plain=$(readlink "$S/_build")
	[ "$san" != "$plain" ]
	# back to the sanitizer build: its directory, not reconfigured
	run -0 "$S/quickstart" check --enable-sanitizers
	assert_line 'checked: -q --enable-static-deps --enable-sanitizers'
	assert_equal "$(readlink "$S/_build")" "$san"
	run -0 cat "$S/configure.runs"
	assert_output "$(printf '%s\n' '-q --enable-static-deps --enable-sanitizers' '-q --enable-static-deps')"
	# another compiler is another configuration too
	CC=cc run -0 "$S/quickstart" check
	[ "$(readlink "$S/_build")" != "$plain" ]
	assert_file_not_exists "$S/_build/stale.o"
}
