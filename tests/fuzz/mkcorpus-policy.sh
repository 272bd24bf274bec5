#!/bin/sh
# mkcorpus-policy.sh - regenerate the seeds tests/fuzz/corpus/policy/ of
# the policy harness (tests/fuzz/policy.c): the policies of
# tests/unit/test-policy.c (step-ca's documented examples), each followed
# by a NUL byte and names to check, one "TYPE NAME" a line, in the
# spellings normalization must see through. Run by tests/fuzz/mkcorpus.sh.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
out=$(cd "$(dirname "$0")" && pwd)/corpus/policy
rm -rf "$out"
mkdir -p "$out"
seed() {	# NAME POLICY NAMES
	printf '%s\000%s\n' "$2" "$3" > "$out/$1"
}
seed wildcard-one-label '{"x509": {"allow": {"dns": ["*.local"]}}}' \
'dns example.local
dns EXAMPLE.Local
dns example.local.
dns sub.example.local
dns *.local
ip 10.0.0.1
email a@example.local'
seed deny-wildcards '{"x509": {"deny": {"dns": ["*.evil.com", "bad.example.com"]}, "allowWildcardNames": true}}' \
'dns x.evil.com
dns X.EVIL.COM
dns *.evil.com
dns a.b.evil.com
dns *.EXAMPLE.com
dns good.example.com'
seed deny-suffix '{"x509": {"deny": {"dns": [".evil.com"]}}}' \
'dns a.b.evil.com
dns A.evil.COM.
dns notevil.com
dns *.x.evil.com'
seed ip-ranges '{"x509": {"allow": {"ip": ["10.0.0.0/8", "2001:db8::/32"]}, "deny": {"ip": ["10.1.0.0/16"]}}}' \
'ip 10.2.3.4
ip 10.1.2.3
ip ::ffff:10.1.2.3
ip ::FFFF:a01:203
ip 010.001.002.003
ip 2001:DB8::1
dns ten.example'
seed ip-deny-mapped '{"x509": {"deny": {"ip": ["::ffff:192.168.0.0/112", "fe80::/10", "203.0.113.7"]}}}' \
'ip 192.168.1.1
ip fe80::1%eth0
ip 203.0.113.7
ip ::ffff:203.0.113.7'
seed email '{"x509": {"allow": {"email": ["@example.com", "admin@corp.com"]}, "deny": {"email": ["bad@example.com"]}}}' \
'email a@example.com
email a@EXAMPLE.com
email bad@example.com
email "bad"@example.com
email admin@corp.com
email Admin@corp.com'
seed uri-hosts '{"x509": {"allow": {"uri": ["*.example.com"]}, "deny": {"uri": ["evil.example.com"]}}}' \
'uri https://a.example.com/x
uri spiffe://evil.example.com/w
uri https://EVIL.example.com.:443/
uri urn:x:y'
seed common-names '{"x509": {"allow": {"cn": ["My Service"], "dns": ["*.example.com"]}, "deny": {"cn": ["forbidden.example.com"]}}}' \
'cn My Service
cn forbidden.example.com
dns a.example.com
cn a.example.com'
seed a-label '{"x509": {"deny": {"dns": ["xn--bcher-kva.example"]}}}' \
'dns xn--bcher-kva.example
dns XN--BCHER-KVA.example
dns bücher.example'
seed exact '{"x509": {"allow": {"dns": ["example.com", "*.example.com"]}}}' \
'dns example.com
dns www.example.com
dns *.example.com
dns example.com..'
seed null 'null' 'dns anything.test'
chmod 644 "$out"/*
echo "policy: $(ls "$out" | wc -l) files"
