#!/usr/bin/env bats
# k8ssa.bats - the K8sSA provisioner: Kubernetes service-account tokens,
# legacy and projected, signed by an independent JOSE implementation (node
# jose: tests/npm/k8s-token.mjs) with the "cluster's" key; the certificate
# takes the CSR's names, judged by openssl verify -x509_strict.

load helpers

K8S_TOKEN=$BATS_TEST_DIRNAME/npm/k8s-token.mjs

# sa_key DIR ALG OPENSSL-GENPKEY-OPTIONS...: a "cluster's" signing key as
# k8s-token.mjs reads it (sa.key PKCS#8, sa.pub SPKI, sa.alg).
sa_key() {
	mkdir -p "$1"
	openssl genpkey "${@:3}" -out "$1/sa.key" 2>/dev/null &&
		openssl pkey -in "$1/sa.key" -pubout -out "$1/sa.pub" &&
		echo "$2" > "$1/sa.alg"
}

# The cluster's signing key (RS256, as kube-controller-manager's), and
# another, once.
setup_file() {
	make_template_ca
	sa_key "$BATS_FILE_TMPDIR" RS256 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
	sa_key "$BATS_FILE_TMPDIR/other" ES256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
}

# A CA with the K8sSA provisioner "k8s"; robot.csr names no CN. Without
# node jose the tests are skipped, or fail under CA_REQUIRE_PEERS=1 (CI).
setup() {
	if [ ! -d "$BATS_TEST_DIRNAME/npm/node_modules/jose" ]; then
		[ "${CA_REQUIRE_PEERS:-0}" != 1 ] ||
			fail "needs node jose (cd tests/npm && npm ci)"
		skip "needs node jose (cd tests/npm && npm ci)"
	fi
	use_ca
	K=$BATS_FILE_TMPDIR
	ca-provisioner -d "$CA" add k8s --type K8sSA --public-key "$K/sa.pub" \
		--x509-allow-dns '*.default.svc.cluster.local' --x509-allow-cn build-robot
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout robot.key -subj / -out robot.csr \
		-addext subjectAltName=DNS:build-robot.default.svc.cluster.local 2>/dev/null
}

# refused TOKEN-FILE CSR MESSAGE: ca-sign -d refuses with that one line (a
# glob: * for a number of seconds), the store untouched.
refused() {
	local before
	before=$(store_state)
	run -1 --separate-stderr ca-sign -d "$CA" --token-file "$1" --csr "$2"
	assert_output ''
	# shellcheck disable=SC2053
	[[ $stderr == "ca-sign: "$3 ]] || fail "got: $stderr"
	assert_equal "$(store_state)" "$before"
}

@test "K8sSA legacy token: the CSR's names, CN the service account's; one-time; the policy applies" {
	node "$K8S_TOKEN" batch "$K" <<-EOF
	[{"out": "legacy.tok", "cmd": "legacy"},
	 {"out": "legacy2.tok", "cmd": "legacy", "args": ["default", "robot2"]}]
	EOF
	run -0 --separate-stderr ca-sign -d "$CA" --token-file legacy.tok --csr robot.csr
	printf '%s\n' "$output" > robot.crt
	run -0 openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted robot.crt robot.crt
	run -0 openssl x509 -in robot.crt -noout -subject -ext subjectAltName
	assert_line 'subject=CN = build-robot'
	assert_line '    DNS:build-robot.default.svc.cluster.local'
	# step's provisioner extension: type 8 (K8sSA), name "k8s", credential "".
	run -0 openssl asn1parse -in robot.crt
	assert_output --partial ':300A02010804036B38730400'
	run -0 ca-db -d "$CA" list
	assert_line --regexp $'\tvalid\tk8s\tCN=build-robot\t'
	# No exp, no jti: the token's SHA-256 is spent.
	refused legacy.tok robot.csr "token already used (jti $(tr -d '\n' < legacy.tok | cut -d. -f1,2 | tr -d '\n' | sha256sum | cut -d' ' -f1))"
	# The CSR's names pass through the provisioner's policy.
	csr other.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file legacy2.tok --csr other.test.csr
	assert_output ''
	[[ $stderr == *'other.test'* ]] || fail "$stderr"
	assert_equal "$(issued)" 1
}

teardown() {
	stop_ra
	stop_server
}

# The RA's K8sSA provisioner (ra_serve's callback).
ra_k8s() {
	ca-provisioner -d "$RA" add k8s --type K8sSA --public-key "$K/sa.pub"
}

@test "K8sSA projected token: accepted for this CA's audience, also through an RA; refused: other audience, expired, over a day, other key, sub, revoke" {
	local serial sign=https://ca.test:8443/1.0/sign
	# One node run mints them all.
	node "$K8S_TOKEN" batch "$K" <<-EOF
	[{"out": "ok.tok", "cmd": "projected", "args": ["$sign"]},
	 {"out": "frag.tok", "cmd": "projected", "args": ["$sign#k8ssa/k8s"]},
	 {"out": "kube.tok", "cmd": "projected", "args": ["https://kubernetes.default.svc"]},
	 {"out": "old.tok", "cmd": "projected", "args": ["$sign"], "now": $(($(date +%s) - 7200))},
	 {"out": "long.tok", "cmd": "projected", "args": ["$sign", "default", "build-robot", "86401"]},
	 {"out": "sub.tok", "cmd": "projected", "args": ["$sign"],
	  "claims": {"sub": "system:serviceaccount:kube-system:admin"}},
	 {"out": "evil.tok", "cmd": "projected", "args": ["$sign"], "dir": "$K/other"},
	 {"out": "rev.tok", "cmd": "projected", "args": ["https://ca.test:8443/1.0/revoke"]},
	 {"out": "ra.tok", "cmd": "projected", "args": ["https://localhost:9443/1.0/sign"]}]
	EOF
	refused kube.tok robot.csr 'K8sSA token audience "https://kubernetes.default.svc" is not this CA'"'"'s /1.0/sign endpoint'
	refused old.tok robot.csr 'K8sSA token expired 359* s ago'
	refused long.tok robot.csr 'K8sSA token lifetime 86401 s exceeds 86400 s'
	refused sub.tok robot.csr 'K8sSA token: "sub" system:serviceaccount:kube-system:admin is not system:serviceaccount:NAMESPACE:NAME of its claims'
	refused evil.tok robot.csr 'token signature does not verify with the publicKeys of K8sSA provisioner "k8s"'
	run -0 ca-sign -d "$CA" --token-file frag.tok --csr robot.csr
	# Online: signed through ca-serve; a K8sSA token cannot revoke (403).
	start_server
	run -0 ca-sign --ca-url "$URL" --root "$CA/certs/root_ca.crt" --token-file ok.tok --csr robot.csr
	printf '%s\n' "$output" > robot.crt
	serial=0x$(serial_of robot.crt)
	run -0 api -H 'Content-Type: application/json' \
		--data "{\"serial\":\"$serial\",\"ott\":\"$(cat rev.tok)\"}" /1.0/revoke
	assert_equal "${lines[-1]}" 403
	assert_line --partial 'K8sSA tokens cannot revoke'
	# Through a registration authority (its own K8sSA provisioner).
	ra_serve ra_k8s
	run -0 ca-sign --ca-url "$RA_URL" --root "$CA/certs/root_ca.crt" --token-file ra.tok \
		--csr robot.csr
	stop_ra
	stop_server
	# Two from k8s here, one relayed (and the servers' own certificates).
	assert_equal "$(ca-db -d "$CA" list | grep -c $'\tk8s\t')" 2
	assert_equal "$(ca-db -d "$RA" list | grep -c $'\tk8s\t')" 1
}
