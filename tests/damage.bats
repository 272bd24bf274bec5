#!/usr/bin/env bats
# A damaged store: the CA notices, refuses to write, never answers OCSP
# "good" because it could not read, and ca-db check reports it.

load helpers

setup() {
	use_ca
	INTER=$CA/certs/intermediate_ca.crt
	ROOT=$CA/certs/root_ca.crt
	for n in a b c; do
		token $n.test
		ca-sign -d "$CA" --token-file $n.test.tok --key-out $n.key -o $n.pem
	done
	SA=$(serial_of a.pem)
	SB=$(serial_of b.pem)
}

teardown() {
	stop_server
}

serial_of() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f'
}

db_size() {
	stat -c %s "$CA/db/ca.gdbm"
}

# flip_next_block BIT: flip one bit of next_block in GDBM 1.23's header
# (struct gdbm_file_header: int magic, int block_size, off_t dir,
# int dir_size, int dir_bits, int bucket_size, int bucket_elems,
# off_t next_block: offset 32 on LP64, little-endian here).
flip_next_block() {
	"$PYTHON" - "$CA/db/ca.gdbm" "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(32)
    nb, = struct.unpack("<q", f.read(8))
    f.seek(32)
    f.write(struct.pack("<q", nb ^ (1 << int(sys.argv[2]))))
PY
}

# ocsp_status SERIAL: "good", "revoked", "unknown" or the responder's error,
# as openssl ocsp reads the server's answer.
ocsp_status() {
	local out
	out=$(openssl ocsp -issuer "$INTER" -serial "0x$1" -no_nonce \
		-url "$URL/ocsp" -CAfile "$ROOT" -VAfile "$INTER" 2>&1)
	case $out in
	*"0x$1: good"*) echo good ;;
	*"0x$1: revoked"*) echo revoked ;;
	*"0x$1: unknown"*) echo unknown ;;
	*"Responder Error: "*) echo "${out##*Responder Error: }" | head -n 1 ;;
	*) echo "no answer: $out" ;;
	esac
}

@test "a flipped high bit in GDBM's next_block: check reports it, writers refuse, the file does not grow, OCSP does not answer good" {
	start_server
	flip_next_block 34
	size=$(db_size)
	run -1 --separate-stderr ca-db -d "$CA" check
	assert_equal "$stderr" "ca-db: $CA/db/ca.gdbm: database damaged: its header gives the next block at $((size ^ (1 << 34))), the file is $size bytes (see ca-db check)"
	token d.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file d.test.tok --key-out d.key -o d.pem
	assert_equal "$stderr" "ca-sign: $CA/db/ca.gdbm: database damaged: its header gives the next block at $((size ^ (1 << 34))), the file is $size bytes (see ca-db check)"
	assert_file_not_exists d.pem
	assert_equal "$(db_size)" "$size"
	run -1 --separate-stderr ca-revoke -d "$CA" "0x$SA"
	assert_equal "$(db_size)" "$size"
	assert_equal "$(ocsp_status "$SA")" "internalerror (2)"
	grep -q 'OCSP: no answer from the store: .*database damaged' "$SERVER_LOG"
}

@test "a low bit of next_block: reported and refused too (a writer would zero-fill the gap)" {
	flip_next_block 3
	size=$(db_size)
	msg="$CA/db/ca.gdbm: database damaged: its header gives the next block at $((size + 8)), the file is $size bytes (see ca-db check)"
	run -1 --separate-stderr ca-db -d "$CA" check
	assert_equal "$stderr" "ca-db: $msg"
	token d.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file d.test.tok --key-out d.key -o d.pem
	assert_equal "$stderr" "ca-sign: $msg"
	assert_equal "$(db_size)" "$size"
}

@test "truncated copies: OCSP never answers good, show and the CRL fail, writers change nothing" {
	ca-revoke -d "$CA" --reason keyCompromise "0x$SB"
	cp "$CA/db/ca.gdbm" full.gdbm
	size=$(db_size)
	lens=()
	for ((n = 4096; n < size; n += 4096)); do
		lens+=("$n")
	done
	lens+=(100 5003 $((size / 2 + 7)) $((size - 1)))
	# ca-serve writes its own TLS certificate when it starts: cut after.
	start_server
	for n in "${lens[@]}"; do
		head -c "$n" full.gdbm > "$CA/db/ca.gdbm"
		for s in "$SA" "$SB"; do
			run -0 ocsp_status "$s"
			[ "$output" = "internalerror (2)" ] ||
				fail "cut at $n: OCSP for $s answered: $output"
		done
		run -1 --separate-stderr ca-db -d "$CA" show "0x$SB"
		[[ $stderr == "ca-db: $CA/db/ca.gdbm: database damaged: "* ]] ||
			fail "cut at $n: show said: $stderr"
		run -1 --separate-stderr ca-revoke -d "$CA" --crl -o crl.der
		[[ $stderr == "ca-revoke: $CA/db/ca.gdbm: database damaged: "* ]] ||
			fail "cut at $n: the CRL: $stderr"
		assert_file_not_exists crl.der
		token d$n.test
		run -1 ca-sign -d "$CA" --token-file d$n.test.tok --key-out d$n.key -o d$n.pem
		assert_equal "$(db_size)" "$n"
	done
	assert_equal "$(grep -c 'OCSP: no answer from the store: .*database damaged' "$SERVER_LOG")" "$((2 * ${#lens[@]}))"
	cp full.gdbm "$CA/db/ca.gdbm"
	assert_equal "$(ocsp_status "$SB")" revoked
}

@test "next_block before the end of the file (GDBM: needs recovery): refused by readers and writers" {
	size=$(db_size)
	# Clearing the lowest set bit puts next_block before the end.
	flip_next_block "$("$PYTHON" -c "print(($size & -$size).bit_length() - 1)")"
	run -1 --separate-stderr ca-db -d "$CA" check
	assert_equal "$stderr" "ca-db: $CA/db/ca.gdbm: database damaged: GDBM says it needs recovery (see ca-db check)"
	run -1 --separate-stderr ca-db -d "$CA" show "0x$SA"
	assert_equal "$stderr" "ca-db: $CA/db/ca.gdbm: database damaged: GDBM says it needs recovery (see ca-db check)"
	token d.test
	run -1 --separate-stderr ca-sign -d "$CA" --token-file d.test.tok --key-out d.key -o d.pem
	assert_equal "$stderr" "ca-sign: $CA/db/ca.gdbm: database damaged: GDBM says it needs recovery (see ca-db check)"
	assert_equal "$(db_size)" "$size"
}

# store_record KEY FILE: store FILE's bytes under KEY, with gdbmtool (its
# dump format carries any bytes), as a tampering hand would.
store_record() {
	"$PYTHON" - "$1" "$2" > rec.dump <<'PY'
import base64, sys
k = sys.argv[1].encode()
v = open(sys.argv[2], "rb").read()
print("#:version=1.1\n#:format=standard\n# End of header")
for x in (k, v):
    print("#:len=%d\n%s" % (len(x), base64.b64encode(x).decode()))
print("#:count=1\n# End of data")
PY
	# Opened by a first command, or import would make a new database.
	printf 'count\nimport rec.dump replace nometa\n' |
		gdbmtool "$CA/db/ca.gdbm" > /dev/null
}

@test "a tampered certificate record: OCSP does not answer good, check reports the signature" {
	# a's certificate with one byte of its subject changed: its
	# signature no longer verifies.
	openssl x509 -in a.pem -outform DER |
		"$PYTHON" -c 'import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d.replace(b"a.test", b"z.test", 1))' > a.bad
	store_record "x509_certs/$SA" a.bad
	# c's certificate stored under b's serial: sound, but not b's.
	openssl x509 -in c.pem -outform DER > c.der
	store_record "x509_certs/$SB" c.der
	run -1 ca-db -d "$CA" check
	assert_line "$SA: not signed by this CA's intermediate"
	assert_line "$SB: certificate's serial is $(serial_of c.pem)"
	assert_line "3 certificates, 2 problems"
	start_server
	assert_equal "$(ocsp_status "$SA")" "internalerror (2)"
	assert_equal "$(ocsp_status "$SB")" "internalerror (2)"
	assert_equal "$(ocsp_status "$(serial_of c.pem)")" good
	grep -q "OCSP: no answer from the store: $SA: not signed by this CA's intermediate" "$SERVER_LOG"
	grep -q "OCSP: no answer from the store: $SB: certificate's serial is" "$SERVER_LOG"
}

@test "check: a used-token record without its exp" {
	jti=$(jws_part a.test.tok 1 | pj 'd["jti"]')
	kid=$(jws_part a.test.tok 0 | pj 'd["kid"]')
	printf '{"serial":"%s","provisioner":"admin","usedAt":1767323045}' "$SA" > ott.json
	store_record "used_ott/$kid.$jti" ott.json
	run -1 ca-db -d "$CA" check
	assert_line "used_ott/$kid.$jti: used-token record has no expiry (exp)"
	assert_line "3 certificates, 1 problems"
}
