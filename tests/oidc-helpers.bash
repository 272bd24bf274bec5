# oidc-helpers.bash - the OpenID provider peer (npm oidc-provider,
# tests/npm/oidc-peer.mjs) for the suites that use it: tests/oidc.bats
# and the OIDC rows of tests/authz-matrix.bats. Load after helpers.

: "${OIDC_NODE_PATH:=$CA_TOP_SRCDIR/tests/npm/node_modules}"

# Whether node and oidc-provider are there (0/1), without skipping.
have_oidc_peer() {
	command -v node >/dev/null && [ -d "$OIDC_NODE_PATH/oidc-provider" ]
}

need_oidc_peer() {
	have_oidc_peer && return 0
	[ "${CA_REQUIRE_PEERS:-0}" = 1 ] &&
		fail "needs node and npm's oidc-provider in $OIDC_NODE_PATH (./quickstart installs it)"
	skip "needs node and npm's oidc-provider (./quickstart installs it)"
}

# start_oidc_peer: the provider on 127.0.0.1, port 0, ready once it logs
# "listening PORT"; sets PEER_PID, PEER_LOG (one line per request it
# serves) and ISSUER.
start_oidc_peer() {
	PEER_LOG=$BATS_FILE_TMPDIR/peer.log
	: > "$PEER_LOG"
	follow_log "$PEER_LOG" 20
	node "$CA_TOP_SRCDIR/tests/npm/oidc-peer.mjs" > "$PEER_LOG" 2>/dev/null &
	PEER_PID=$!
	await_log '^listening ' || { kill "$PEER_PID"; return 1; }
	ISSUER=http://127.0.0.1:$(sed -n 's/^listening //p' "$PEER_LOG")
	export PEER_PID PEER_LOG ISSUER
}

stop_oidc_peer() {
	[ -z "${PEER_PID:-}" ] || kill "$PEER_PID" 2>/dev/null || true
	PEER_PID=
}

# oidc_provisioner NAME [PYTHON-DICT-MEMBERS]: the JSON of an OIDC
# provisioner for the peer's client "ca-tools".
oidc_provisioner() {
	printf '{"type": "OIDC", "name": "%s", "clientID": "ca-tools", "clientSecret": "", "configurationEndpoint": "%s/.well-known/openid-configuration"%s}' \
		"$1" "$ISSUER" "${2:+, $2}"
}

# idtokens DIR LOGIN[:NAME]...: ID tokens DIR/NAME.tok from the provider's
# own flow (LOGIN*N:NAME: NAME-1.tok ... NAME-N.tok), several per node run.
idtokens() {
	node "$CA_TOP_SRCDIR/tests/npm/get-id-token.mjs" "$ISSUER" "$@"
}

# How many times the provider served its JWKS.
jwks_fetches() { grep -c '^GET /jwks' "$PEER_LOG" || true; }
