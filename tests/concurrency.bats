#!/usr/bin/env bats
# Several processes issuing on one state directory at once.

load helpers

setup() {
	use_ca
}

@test "4 processes x 100 issuances: 400 certificates, 400 serials, check clean" {
	csr svc.test
	for p in 1 2 3 4; do
		mkdir p$p
		for i in $(seq 100); do
			ca-token -d "$CA" --key "$PK" svc.test > p$p/$i.tok
		done
	done
	for p in 1 2 3 4; do
		(
			for i in $(seq 100); do
				ca-sign -d "$CA" --token-file p$p/$i.tok --csr svc.test.csr > p$p/$i.pem ||
					echo "$p/$i failed: $?" >> failures
			done
		) 3>&- &
	done
	wait
	assert_file_not_exists failures
	assert_equal "$(issued)" 400
	run -0 ca-db -d "$CA" list --json
	run -0 pj 'len(set(x["serial"] for x in d))' <<< "$output"
	assert_output 400
	# what each process printed is what was recorded
	cat p*/*.pem | awk '/BEGIN/{n++} n%2==1' | openssl crl2pkcs7 -nocrl -certfile /dev/stdin |
		openssl pkcs7 -print_certs -noout | grep -c '^subject=CN = svc.test' > printed
	assert_equal "$(cat printed)" 400
	run -0 ca-db -d "$CA" check
	assert_output "400 certificates, 0 problems"
}

@test "a writer killed mid-transaction leaves a store that the next writer completes" {
	csr svc.test
	# Many short-lived signers, some killed at random points.
	for i in $(seq 60); do
		ca-token -d "$CA" --key "$PK" svc.test > $i.tok
	done
	for i in $(seq 60); do
		ca-sign -d "$CA" --token-file $i.tok --csr svc.test.csr > $i.pem 2>/dev/null &
		pid=$!
		sleep 0.00$((RANDOM % 9))
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
	done
	# every certificate that was printed in full is recorded
	for i in $(seq 60); do
		if [ "$(grep -c 'END CERTIFICATE' $i.pem)" = 2 ]; then
			serial=$(openssl x509 -in $i.pem -noout -serial | cut -d= -f2)
			run -0 ca-db -d "$CA" show "0x$serial"
		fi
	done
	# one more issuance completes any interrupted transaction; then all is consistent
	token last.test
	run -0 ca-sign -d "$CA" --token-file last.test.tok --key-out last.key
	run -0 ca-db -d "$CA" check
	assert_output --regexp "^[0-9]+ certificates, 0 problems$"
}
