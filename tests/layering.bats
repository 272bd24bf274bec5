#!/usr/bin/env bats
# The include graph keeps the layers apart (issue 10): bin/ includes only
# public lib/ headers, lib/'s headers include one another without a cycle,
# only the authority's implementation reaches the store (store.h) or the
# authority's insides (authority-impl.h), and struct ca_authority is
# opaque. tests/layering.py does the checking; this file holds the
# allow-list and shows that each rule can fail.

load helpers

# The authority's implementation files in lib/, the only ones that may
# include store.h or authority-impl.h (directly or through a header):
# the dispatchers and local authority, its status (CRL, OCSP), the RA
# relay, the privsep signer, the remote authority, ca-db's queries, the
# store itself, ca-init's first records, the ACME server (lib/acme*.c,
# the local authority's ACME operation) and SCEP's (lib/scep.c).
AUTHORITY_IMPL=(
	authority.c 'authority-*.c' 'authority-*.h'
	status.c ra.c signer.c remote.c db.c init.c
	'store*.c' 'store*.h' 'acme*.c' 'acme*.h' scep.c
)

layering() {
	"$PYTHON" "$CA_TOP_SRCDIR/tests/layering.py" "$1" "${AUTHORITY_IMPL[@]}"
}

# A small tree laid out as the target one, clean, for the tests to break.
mktree() {
	top=$BATS_TEST_TMPDIR/top
	mkdir -p "$top/lib" "$top/bin"
	cd "$top/lib"
	printf '/* ca.h */\n' > ca.h
	printf '#include "ca.h"\n' > keys.h
	printf '#include "keys.h"\n' > conf.h
	printf '#include "conf.h"\nstruct ca_authority;\n' > authority.h
	printf '#include "ca.h"\n' > store.h
	printf '#include "authority.h"\n#include "store.h"\n' > authority-impl.h
	printf '#include "ca.h"\n' > token.h
	printf '#include "ca.h"\n' > jose-internal.h
	printf '#include "authority-impl.h"\n' > authority-local.c
	printf '#include "authority.h"\n#include "store.h"\n' > status.c
	printf '#include "authority.h"\n' > http.c
	printf '#include "jose-internal.h"\n' > jose.c
	printf '#include "ca.h"\n#include "token.h"\n#include "authority.h"\n' \
		> "$top/bin/ca-token.c"
	cd - >/dev/null
	run -0 layering "$top"
	assert_output '# 13 files, 8 headers checked'
}

@test "bin/ includes only public lib/ headers, no cycles, the store behind the authority" {
	run layering "$CA_TOP_SRCDIR"
	# First the violations, so that a failure lists them all.
	refute_line --partial 'layering:'
	assert_equal "$status" 0
	assert_line --regexp '^# [0-9]+ files, [0-9]+ headers checked$'
}

@test "bin/ including a lib/ source file or a private header is named" {
	mktree
	printf '#include "jose.c"\n#include "jose-internal.h"\n#include "../lib/ca.h"\n' \
		>> "$top/bin/ca-token.c"
	run -1 layering "$top"
	assert_line 'layering: bin/ca-token.c includes "jose.c", not a header of lib/'
	assert_line 'layering: bin/ca-token.c includes "jose-internal.h", a private header of lib/'
	assert_line 'layering: bin/ca-token.c includes "../lib/ca.h", not a header of lib/'
}

@test "an include cycle among lib/ headers is named" {
	mktree
	# A directive inside a comment is not an include.
	printf '/*\n#include "conf.h"\n */\n' >> "$top/lib/keys.h"
	run -0 layering "$top"
	printf '#include "conf.h"\n' >> "$top/lib/keys.h"
	run -1 layering "$top"
	assert_line --regexp '^layering: include cycle: (conf\.h -> keys\.h -> conf\.h|keys\.h -> conf\.h -> keys\.h)$'
}

@test "reaching store.h or authority-impl.h outside the authority is named" {
	mktree
	printf '#include "store.h"\n' >> "$top/lib/http.c"
	printf '#include "authority-impl.h"\n' > "$top/lib/serve.c"
	# Through a public header: everything that includes it reaches the store.
	printf '#include "store.h"\n' >> "$top/lib/token.h"
	run -1 layering "$top"
	assert_line "layering: lib/http.c reaches store.h, outside the authority's implementation"
	assert_line "layering: lib/serve.c reaches authority-impl.h, outside the authority's implementation"
	assert_line "layering: lib/token.h reaches store.h, outside the authority's implementation"
	assert_line "layering: bin/ca-token.c reaches store.h (through a header), outside the authority's implementation"
	refute_line --partial 'lib/status.c'
	refute_line --partial 'lib/authority-local.c'
	refute_line --partial 'lib/authority-impl.h'
}

@test "a public definition of struct ca_authority is named" {
	mktree
	printf 'struct ca_authority {\n\tint x;\n};\n' >> "$top/lib/authority.h"
	run -1 layering "$top"
	assert_line 'layering: lib/authority.h defines struct ca_authority (callers must see it opaque)'
}
