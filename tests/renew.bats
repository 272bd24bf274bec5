#!/usr/bin/env bats
# ca-renew: offline and online renewal, cron behaviour, --exec, --rekey,
# atomic replacement of CERT, refusals, the contrib cron line and systemd
# units, and faults (kills, a renewal racing a revocation).

load helpers

setup() {
	use_ca
}

teardown() {
	stop_server
}

# The chain in a renewed CERT verifies against the root alone.
verify_chain() {
	openssl verify -x509_strict -CAfile "$CA/certs/root_ca.crt" \
		-untrusted "$1" "$1"
}

@test "not due: exit 3, silent, CERT untouched; --force renews with the same names and lifetime" {
	leaf svc 1h
	local before old life
	before=$(sha256sum < svc.crt)
	old=$(serial_of svc.crt)
	# 1 h and the minute of backdating, less a second when ca-sign's
	# clock ticked between reading --not-after and signing
	life=$(lifetime_of svc.crt)
	[ "$life" -eq 3660 ] || [ "$life" -eq 3659 ]
	run ca-renew -d "$CA" svc.crt svc.key
	assert_equal "$status" 3
	assert_equal "$output" ""
	assert_equal "$(sha256sum < svc.crt)" "$before"

	run ca-renew -d "$CA" --force svc.crt svc.key
	assert_success
	assert_equal "$output" ""
	[ "$(serial_of svc.crt)" != "$old" ]
	assert_equal "$(lifetime_of svc.crt)" "$life"
	run verify_chain svc.crt
	assert_success
	assert_output --partial "svc.crt: OK"
	openssl x509 -in svc.crt -noout -ext subjectAltName | grep -q "DNS:svc"
	# The same key: the public keys are equal.
	assert_equal "$(openssl x509 -in svc.crt -noout -pubkey)" \
		"$(openssl pkey -in svc.key -pubout)"
	run ca-db -d "$CA" show --json "0x$(serial_of svc.crt)"
	assert_success
	assert_equal "$(echo "$output" | pj 'd["renewedFrom"]')" "$old"
	run ca-db -d "$CA" check
	assert_success
}

@test "due by --expires-in, or by the default third of the lifetime" {
	leaf svc 1h
	run ca-renew -d "$CA" --expires-in 30m svc.crt svc.key
	assert_equal "$status" 3
	run ca-renew -d "$CA" --expires-in 2h svc.crt svc.key
	assert_success
	# A certificate with 20 of its 30 minutes left is not due (a third:
	# 10 minutes, plus at most a tenth of jitter); at 5 left it is.
	token short
	ca-sign -d "$CA" --token-file short.tok --key-out short.key \
		--not-before -10m --not-after 20m > short.crt
	run ca-renew -d "$CA" short.crt short.key
	assert_equal "$status" 3
	token late
	ca-sign -d "$CA" --token-file late.tok --key-out late.key \
		--not-before -25m --not-after 5m > late.crt
	run ca-renew -d "$CA" late.crt late.key
	assert_success
}

@test "CERT is replaced atomically, keeping its mode; through a symlink the target; -o elsewhere" {
	leaf svc
	chmod 0640 svc.crt
	local ino
	ino=$(stat -c %i svc.crt)
	run ca-renew -d "$CA" --force svc.crt svc.key
	assert_success
	assert_equal "$(stat -c %a svc.crt)" 640
	[ "$(stat -c %i svc.crt)" != "$ino" ]
	# No temporary file is left beside it.
	assert_equal "$(ls -A | grep -c '^\.\|tmp')" 0

	mkdir live
	mv svc.crt live/svc.crt
	ln -s live/svc.crt svc.crt
	run ca-renew -d "$CA" --force svc.crt svc.key
	assert_success
	[ -L svc.crt ]
	run verify_chain live/svc.crt
	assert_success

	local cur
	cur=$(sha256sum < live/svc.crt)
	run ca-renew -d "$CA" --force -o other.crt svc.crt svc.key
	assert_success
	assert_equal "$(sha256sum < live/svc.crt)" "$cur"
	run verify_chain other.crt
	assert_success
	run --separate-stderr ca-renew -d "$CA" --force -o - svc.crt svc.key
	assert_success
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' <<< "$output")" 2
}

@test "-o: a symbolic link or a directory is refused before renewing; a FIFO is written in place" {
	leaf svc
	local cur
	cur=$(sha256sum < svc.crt)
	ln -s elsewhere.crt link.crt
	run -1 --separate-stderr ca-renew -d "$CA" --force -o link.crt svc.crt svc.key
	assert_equal "$stderr" "ca-renew: link.crt: a symbolic link, not followed: name the file it points to"
	[ -L link.crt ]
	[ ! -e elsewhere.crt ]
	mkdir dir.crt
	run -1 --separate-stderr ca-renew -d "$CA" --force -o dir.crt svc.crt svc.key
	assert_equal "$stderr" "ca-renew: dir.crt: a directory"
	assert_equal "$(issued)" 1
	assert_equal "$(sha256sum < svc.crt)" "$cur"
	mkfifo out.fifo
	# bounded: an old build renames over the FIFO and never opens it
	timeout 30 cat out.fifo > got.pem 3>&- &
	local reader=$!
	run -0 ca-renew -d "$CA" --force -o out.fifo svc.crt svc.key
	[ -p out.fifo ] || { kill "$reader"; false; }
	wait "$reader"
	run -0 verify_chain got.pem
	assert_equal "$(issued)" 2
}

@test "--rekey --key-out: a new key of the same kind, 0600, certified by the new certificate" {
	leaf svc
	cp svc.key old.key
	run ca-renew -d "$CA" --force --rekey --key-out svc.key svc.crt svc.key
	assert_success
	assert_equal "$(stat -c %a svc.key)" 600
	run cmp -s svc.key old.key
	assert_failure
	assert_equal "$(openssl x509 -in svc.crt -noout -pubkey)" \
		"$(openssl pkey -in svc.key -pubout)"
	openssl pkey -in svc.key -noout -text | grep -q "NIST CURVE: P-256"
	run verify_chain svc.crt
	assert_success

	run ca-renew -d "$CA" --rekey svc.crt svc.key
	assert_equal "$status" 2
	assert_output --partial "--rekey needs --key-out"
}

@test "--exec runs after a renewal only, without a shell; its failure is exit 1 after the renewal" {
	leaf svc
	run ca-renew -d "$CA" --exec "touch ran" svc.crt svc.key
	assert_equal "$status" 3
	[ ! -e ran ]
	run ca-renew -d "$CA" --force --exec "touch ran" svc.crt svc.key
	assert_success
	[ -e ran ]
	# No shell: the words are taken as they are.
	run --separate-stderr ca-renew -d "$CA" --force \
		--exec 'echo $HOME >shell-was-here' svc.crt svc.key
	assert_success
	[ ! -e shell-was-here ]
	assert_equal "$output" ""
	assert_equal "$stderr" '$HOME >shell-was-here'
	local old
	old=$(serial_of svc.crt)
	run ca-renew -d "$CA" --force --exec "false" svc.crt svc.key
	assert_failure 1
	assert_output --partial "renewed, but false exited with status 1"
	[ "$(serial_of svc.crt)" != "$old" ]
	run ca-renew -d "$CA" --force --exec "no-such-command-here" svc.crt svc.key
	assert_failure 1
	assert_output --partial "cannot run no-such-command-here"
}

@test "refused: revoked (offline and online), a key not the certificate's, another CA's certificate" {
	leaf svc
	leaf other
	ca-revoke -d "$CA" "0x$(serial_of svc.crt)"
	local crt state
	crt=$(sha256sum < svc.crt)
	state=$(store_state)
	run ca-renew -d "$CA" --force svc.crt svc.key
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "ca-renew: certificate [0-9a-f]+ is revoked"
	assert_equal "$(sha256sum < svc.crt)" "$crt"
	assert_equal "$(store_state)" "$state"

	start_server
	state=$(store_state)	# with the server's own TLS certificate
	run ca-renew --ca-url "$URL" --root "$CA/certs/root_ca.crt" --force \
		svc.crt svc.key
	assert_failure 1
	assert_output --partial "is revoked (HTTP 401)"
	run ca-renew --ca-url "$URL" --root "$CA/certs/root_ca.crt" --force \
		--no-mtls svc.crt svc.key
	assert_failure 1
	assert_output --partial "is revoked (HTTP 401)"
	assert_equal "$(sha256sum < svc.crt)" "$crt"
	stop_server
	assert_equal "$(store_state)" "$state"

	run ca-renew -d "$CA" --force other.crt svc.key
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_output --partial "svc.key is not the key of other.crt"

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout self.key -subj /CN=self -days 1 -out self.crt 2>/dev/null
	run ca-renew -d "$CA" --force self.crt self.key
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_equal "$(store_state)" "$state"
}

@test "online: mutual TLS, an x5c token (--no-mtls), and a rekey; the server records each" {
	leaf svc
	start_server
	local root=$CA/certs/root_ca.crt s0 s1 s2
	s0=$(serial_of svc.crt)
	run ca-renew --ca-url "$URL" --root "$root" --force svc.crt svc.key
	assert_success
	s1=$(serial_of svc.crt)
	[ "$s1" != "$s0" ]
	run ca-renew --ca-url "$URL" --root "$root" --force --no-mtls \
		svc.crt svc.key
	assert_success
	s2=$(serial_of svc.crt)
	[ "$s2" != "$s1" ]
	run ca-renew --ca-url "$URL" --root "$root" --force --rekey \
		--key-out svc.key svc.crt svc.key
	assert_success
	assert_equal "$(openssl x509 -in svc.crt -noout -pubkey)" \
		"$(openssl pkey -in svc.key -pubout)"
	run verify_chain svc.crt
	assert_success
	stop_server
	run grep -c "POST /renew 201" "$SERVER_LOG"
	assert_output 2
	run grep -c "POST /rekey 201" "$SERVER_LOG"
	assert_output 1
	assert_equal "$(ca-db -d "$CA" show --json "0x$s2" | pj 'd["renewedFrom"]')" "$s1"
	# The x5c renewal's token is recorded where ca-db check looks for it.
	run ca-db -d "$CA" check
	assert_success
}

@test "usage errors: missing operands, --ca-url without --root, -d with --ca-url, bad durations" {
	leaf svc
	run ca-renew -d "$CA" svc.crt
	assert_equal "$status" 2
	assert_output --partial "CERT and KEY are required"
	run ca-renew --ca-url https://localhost:1 svc.crt svc.key
	assert_equal "$status" 2
	assert_output --partial "--ca-url needs --root"
	run ca-renew -d "$CA" --ca-url https://localhost:1 --root x svc.crt svc.key
	assert_equal "$status" 2
	run ca-renew -d "$CA" --expires-in soon svc.crt svc.key
	assert_equal "$status" 2
	run ca-renew -d "$CA" --no-mtls svc.crt svc.key
	assert_equal "$status" 2
	run ca-renew -d "$CA" svc.crt missing.key
	assert_failure 1
	assert_output --partial "missing.key"
}

@test "contrib: the cron line and the systemd units renew when due and exit 3 (a success there) otherwise" {
	leaf web
	mkdir -p etc
	cp "$CA/certs/root_ca.crt" etc/root_ca.crt
	start_server
	# The cron line, with its paths and URL pointed at this test.
	local line cmd
	line=$(grep -v '^#' "$CA_TOP_SRCDIR/contrib/cron/ca-renew" | grep .)
	cmd=$(cut -d' ' -f7- <<< "$line")
	[[ "$cmd" == ca-renew* ]]
	cmd=${cmd//https:\/\/ca.example.com:8443/$URL}
	cmd=${cmd//\/etc\/ca-tools\/root_ca.crt/$PWD/etc/root_ca.crt}
	cmd=${cmd//\/etc\/ssl\/web/$PWD/web}
	cmd=${cmd//systemctl reload nginx/touch $PWD/reloaded}
	run sh -c "$cmd"
	assert_equal "$status" 3
	assert_equal "$output" ""
	[ ! -e reloaded ]
	run sh -c "${cmd/ca-renew /ca-renew --force }"
	assert_success
	[ -e reloaded ]

	# The service's ExecStart, expanded as systemd does for this instance.
	local unit=$CA_TOP_SRCDIR/contrib/systemd/ca-renew@.service exec
	grep -qx 'SuccessExitStatus=3' "$unit"
	grep -qx 'EnvironmentFile=/etc/ca-tools/renew/%i.conf' "$unit"
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	exec=${exec//\/usr\/local\/bin\//}
	exec=${exec//\/etc\/ca-tools\/root_ca.crt/$PWD/etc/root_ca.crt}
	CA_URL=$URL CERT=$PWD/web.crt KEY=$PWD/web.key \
		EXEC="touch $PWD/reloaded2" RENEW_OPTS="--expires-in 2h" \
		run bash -c "set -f; eval \"set -- \${0//\\\$RENEW_OPTS/\$RENEW_OPTS}\"; exec \"\$@\"" "$exec"
	assert_success
	[ -e reloaded2 ]
	if command -v systemd-analyze >/dev/null 2>&1; then
		mkdir -p units
		sed "s|/usr/local/bin/ca-renew|$(command -v ca-renew)|" "$unit" \
			> "units/ca-renew@.service"
		cp "$CA_TOP_SRCDIR/contrib/systemd/ca-renew@.timer" units/
		run systemd-analyze verify --man=no "$PWD/units/ca-renew@web.timer"
		refute_output --partial "ca-renew@"
	fi
}

@test "SIGKILL at any point: CERT is always a whole certificate, and it is recorded" {
	leaf svc
	local i s
	for i in $(seq 1 25); do
		ca-renew -d "$CA" --force svc.crt svc.key &
		sleep "0.00$((RANDOM % 9))$((RANDOM % 10))"
		kill -9 $! 2>/dev/null || true
		wait $! 2>/dev/null || true
		run verify_chain svc.crt
		assert_success
		s=$(serial_of svc.crt)
		run ca-db -d "$CA" show "0x$s"
		assert_success
	done
	# A transaction cut short is completed by the next writer.
	run ca-renew -d "$CA" --force svc.crt svc.key
	assert_success
	run ca-db -d "$CA" check
	assert_success
	# What a kill can leave is a temporary file (CERT.tmpXXXXXX) beside it.
	run bash -c "ls -A | grep crt | grep -vc '^svc\\.crt\\.tmp[A-Za-z0-9]\\{6\\}$'"
	assert_output 1
}

@test "a renewal racing a revocation: none succeeds once the revocation is acknowledged" {
	leaf svc
	start_server
	local root=$CA/certs/root_ca.crt i s pids=()
	s=$(serial_of svc.crt)
	mkdir -p runs
	for i in $(seq 1 12); do
		cp svc.crt "runs/$i.crt"
		ca-renew --ca-url "$URL" --root "$root" --force -o "runs/$i.out" \
			"runs/$i.crt" svc.key 2>/dev/null &
		pids+=($!)
	done
	ca-revoke -d "$CA" "0x$s"
	# From here on, every renewal of the serial is refused.
	for i in 1 2 3; do
		run ca-renew --ca-url "$URL" --root "$root" --force svc.crt svc.key
		assert_failure 1
		assert_output --partial "is revoked"
		run ca-renew -d "$CA" --force svc.crt svc.key
		assert_failure 1
	done
	wait "${pids[@]}" || true
	# Whatever was renewed from it was issued before the revocation.
	ca-db -d "$CA" list --json | S=$s pj '
[c for c in d if c.get("renewedFrom") == __import__("os").environ["S"]]' > renewed.json
	"$PYTHON" - renewed.json "$(ca-db -d "$CA" show --json "0x$s" | pj 'd["revokedAt"]')" <<'PY'
import json, sys, datetime
rev = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
for c in json.load(open(sys.argv[1])):
    at = datetime.datetime.fromisoformat(c["issuedAt"].replace("Z", "+00:00"))
    assert at <= rev, (c["serial"], c["issuedAt"], sys.argv[2])
PY
	run ca-db -d "$CA" check
	assert_success
}

@test "ca-serve SIGKILLed during renewals: every CERT is whole, and what it holds is recorded" {
	leaf svc
	local root=$CA/certs/root_ca.crt i j pids s
	for i in $(seq 1 6); do
		start_server
		pids=()
		for j in 1 2 3 4; do
			[ -e "c$j.crt" ] || cp svc.crt "c$j.crt"
			ca-renew --ca-url "$URL" --root "$root" --force \
				"c$j.crt" svc.key 2>/dev/null &
			pids+=($!)
		done
		sleep "0.0$((RANDOM % 10))"
		kill -9 "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
		wait "${pids[@]}" || true
		for j in 1 2 3 4; do
			run verify_chain "c$j.crt"
			assert_success
			s=$(serial_of "c$j.crt")
			run ca-db -d "$CA" show "0x$s"
			assert_success
		done
	done
	run ca-renew -d "$CA" --force svc.crt svc.key
	assert_success
	run ca-db -d "$CA" check
	assert_success
}

# sans_of CERT: the subjectAltName line of CERT as openssl prints it
sans_of() {
	openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | sed 's/^ *//'
}

@test "renewal keeps exactly the names: a ',' in a URI never becomes a DNS name (-d, mTLS, x5c, --rekey)" {
	local want='DNS:a.test, URI:https://a.test/x,victim.test' root s
	token a.test --san a.test --san 'https://a.test/x,victim.test'
	ca-sign -d "$CA" --token-file a.test.tok --key-out svc.key > svc.crt
	assert_equal "$(sans_of svc.crt)" "$want"
	run -0 ca-renew -d "$CA" --force svc.crt svc.key
	assert_equal "$(sans_of svc.crt)" "$want"
	start_server
	root=$CA/certs/root_ca.crt
	run -0 ca-renew --ca-url "$URL" --root "$root" --force svc.crt svc.key
	assert_equal "$(sans_of svc.crt)" "$want"
	run -0 ca-renew --ca-url "$URL" --root "$root" --force --no-mtls \
		svc.crt svc.key
	assert_equal "$(sans_of svc.crt)" "$want"
	run -0 ca-renew --ca-url "$URL" --root "$root" --force --rekey \
		--key-out svc.key svc.crt svc.key
	assert_equal "$(sans_of svc.crt)" "$want"
	stop_server
	assert_equal "$(grep -c 'POST /rekey 201' "$SERVER_LOG")" 1
	# The store lists the URI as one name, in JSON and in text.
	run -0 --separate-stderr ca-db -d "$CA" list --json
	assert_equal "$(pj '[c["sans"] for c in d if c["provisioner"] == "admin"]' <<< "$output")" \
		"[$(printf '["a.test", "https://a.test/x,victim.test"], %.0s' 1 2 3 4)[\"a.test\", \"https://a.test/x,victim.test\"]]"
	assert_equal "$(pj 'sorted({json.dumps(c["names"], sort_keys=True) for c in d if c["provisioner"] == "admin"})' <<< "$output")" \
		'["{\"dns\": [\"a.test\"], \"email\": [], \"ip\": [], \"uri\": [\"https://a.test/x,victim.test\"]}"]'
	s=$(serial_of svc.crt)
	run -0 --separate-stderr ca-db -d "$CA" list
	assert_equal "$(grep -c $'\ta.test,https://a.test/x\\\\x2cvictim.test\t' <<< "$output")" 5
	run -0 --separate-stderr ca-db -d "$CA" show "0x$s"
	assert_line 'sans: a.test,https://a.test/x\x2cvictim.test'
}
