#!/usr/bin/env bats
# ./quickstart installs everything the build and the tests need: every
# pkg-config module, header and library configure.ac requires and every
# external command the tests, quickstart and .ci/run call belongs to a
# Debian package in quickstart's list (or one it brings, or one every Debian
# system has). tests/deps.py finds them in those files and asks dpkg.

load helpers

setup() {
	[ -d /var/lib/dpkg/info ] || skip "not a Debian system: no dpkg database"
}

@test "quickstart's package list covers configure.ac and every command the tests call" {
	run -0 "$PYTHON" "$CA_TOP_SRCDIR/tests/deps.py" "$CA_TOP_SRCDIR"
	assert_line --regexp '^# [0-9]+ needs checked against [0-9]+ listed packages$'
	refute_line --partial 'quickstart does not install'
}

# without PACKAGE: a copy of the sources whose quickstart lacks PACKAGE.
without() {
	local top=$BATS_TEST_TMPDIR/top
	mkdir -p "$top/tests" "$top/.ci"
	cp "$CA_TOP_SRCDIR/configure.ac" "$top/"
	cp "$CA_TOP_SRCDIR"/tests/*.bats "$CA_TOP_SRCDIR/tests/helpers.bash" "$top/tests/"
	cp "$CA_TOP_SRCDIR/.ci/run" "$top/.ci/"
	sed -E "s/(^|[[:space:]])$1([[:space:]]|\$)/\1\2/" \
		"$CA_TOP_SRCDIR/quickstart" > "$top/quickstart"
	! cmp -s "$CA_TOP_SRCDIR/quickstart" "$top/quickstart" ||
		fail "$1 is not in quickstart's list"
}

@test "a package missing from quickstart's list is named, with what needs it" {
	without libmicrohttpd-dev
	run -1 "$PYTHON" "$CA_TOP_SRCDIR/tests/deps.py" "$BATS_TEST_TMPDIR/top"
	assert_line 'pkg-config module libmicrohttpd (configure.ac) is in libmicrohttpd-dev, which quickstart does not install'
	without libcurl4-gnutls-dev
	run -1 "$PYTHON" "$CA_TOP_SRCDIR/tests/deps.py" "$BATS_TEST_TMPDIR/top"
	assert_line 'header curl/curl.h (configure.ac) is in libcurl4-gnutls-dev, which quickstart does not install'
	without systemd
	run -1 "$PYTHON" "$CA_TOP_SRCDIR/tests/deps.py" "$BATS_TEST_TMPDIR/top"
	assert_line --regexp '^command systemd-socket-activate \(tests/[a-z0-9-]+\.bats:[0-9]+\) is in systemd, which quickstart does not install$'
	without iproute2
	run -1 "$PYTHON" "$CA_TOP_SRCDIR/tests/deps.py" "$BATS_TEST_TMPDIR/top"
	assert_line --regexp '^command ip \(tests/serve.bats:[0-9]+\) is in iproute2, which quickstart does not install$'
}
