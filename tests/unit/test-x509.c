/*
 * test-x509.c - unit tests of lib/x509.c: serials, names, the CA and leaf
 * profiles, CSRs. Certificates are inspected with GnuTLS's own accessors.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "certtmpl.h"
#include "keys.h"
#include "x509.h"
#include "tap.h"

#define OID_SAN		"2.5.29.17"
#define OID_SERVER	"1.3.6.1.5.5.7.3.1"
#define OID_CLIENT	"1.3.6.1.5.5.7.3.2"

/* Something not NULL, to see that results are cleared. */
static char junk[1];

static _Noreturn void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, ca_errmsg());
	exit(1);
}

/* A new abstract key of type t (owning its x509 key). */
static gnutls_privkey_t
new_key(enum ca_key_type t)
{
	gnutls_x509_privkey_t x;
	gnutls_privkey_t k;

	if (ca_key_generate(t, &x) != 0 || ca_key_wrap(x, 1, &k) != 0)
		bail("key generation");
	return k;
}

static gnutls_pubkey_t
pub_of(gnutls_privkey_t k)
{
	gnutls_pubkey_t p;

	if (gnutls_pubkey_init(&p) < 0 ||
	    gnutls_pubkey_import_privkey(p, k, 0, 0) < 0)
		bail("public key");
	return p;
}

/* Names from a list of strings; bails if they do not classify. */
static void
names_of(struct ca_names *nm, const char *const *v, size_t n)
{
	if (ca_names_classify(v, n, nm) != 0)
		bail("ca_names_classify");
}

/* Hex of a subject or authority key id, or of the key's own id. */
static char *
ski_hex(gnutls_x509_crt_t crt)
{
	unsigned char id[64];
	size_t size = sizeof(id);
	unsigned crit;

	if (gnutls_x509_crt_get_subject_key_id(crt, id, &size, &crit) < 0)
		return NULL;
	return ca_hex(id, size);
}

static char *
aki_hex(gnutls_x509_crt_t crt)
{
	unsigned char id[64];
	size_t size = sizeof(id);
	unsigned crit;

	if (gnutls_x509_crt_get_authority_key_id(crt, id, &size, &crit) < 0)
		return NULL;
	return ca_hex(id, size);
}

static char *
keyid_hex(gnutls_x509_crt_t crt)
{
	unsigned char id[64];
	size_t size = sizeof(id);

	if (gnutls_x509_crt_get_key_id(crt, 0, id, &size) < 0)
		return NULL;
	return ca_hex(id, size);
}

static char *
dn_of(gnutls_x509_crt_t crt, int issuer)
{
	gnutls_datum_t d = { NULL, 0 };
	char *s;

	if ((issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) :
	    gnutls_x509_crt_get_dn3(crt, &d, 0)) < 0)
		return NULL;
	s = strdup((char *)d.data);
	gnutls_free(d.data);
	return s;
}

/*
 * A fresh copy of crt through its DER: GnuTLS reads some extensions
 * (the SAN) only when a certificate is imported.
 */
static gnutls_x509_crt_t
reimport(gnutls_x509_crt_t crt)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t c = NULL;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0 ||
	    gnutls_x509_crt_init(&c) < 0 ||
	    gnutls_x509_crt_import(c, &der, GNUTLS_X509_FMT_DER) < 0)
		bail("re-import");
	gnutls_free(der.data);
	return c;
}

/* Criticality of extension oid: 0 or 1, -1 when absent. */
static int
ext_critical(gnutls_x509_crt_t crt, const char *oid)
{
	unsigned char buf[2048];
	size_t size = sizeof(buf);
	unsigned crit = 2;

	if (gnutls_x509_crt_get_extension_by_oid(crt, oid, 0, buf, &size,
	    &crit) < 0)
		return -1;
	return (int)crit;
}

/* Whether crt verifies against the single CA certificate ca. */
static int
verifies(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned status = ~0u;

	if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) < 0)
		return 0;
	return status == 0;
}

static void
test_serials(void)
{
	static const struct {
		const char	*in;
		const char	*want;
	} canon[] = {
		{ "0x7f", "7f" },
		{ "0X7F", "7f" },
		{ "255", "00ff" },
		{ "0xff", "00ff" },
		{ "ff", "00ff" },
		{ "ab:cd", "00abcd" },
		{ "AB:CD", "00abcd" },
		{ "00:12", "12" },
		{ "0x0012", "12" },
		{ "12345", "3039" },
		{ "0x3039", "3039" },
		{ "0x123", "0123" },
		{ "1", "01" },
		{ "0", "00" },
		{ "0x0", "00" },
		{ "127", "7f" },
		{ "128", "0080" },
		{ "00012345", "3039" },
		{ "43556142965880123323311949751266331066367",
		    "7fffffffffffffffffffffffffffffffff" },
	};
	static const char *bad[] = {
		"", "12x", "0x", "0xg1", "1 2", "-1", "+1", "0x-1", "1.5",
		"12:x3",
		/* more than 20 octets */
		"10000000000000000000000000000000000000000000000000",
		"99999999999999999999999999999999999999999999999999",
		"1000000000000000000000000000000000000000000000000000000000000",
		"0x1000000000000000000000000000000000000000000",
		"0x100000000000000000000000000000000000000000",
	};
	static const unsigned char d1[] = { 0x30, 0x39 };
	static const unsigned char d2[] = { 0x00, 0xff };
	static const unsigned char d3[] = { 0x00 };
	static const unsigned char d4[] = { 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0 };
	unsigned char s[100][CA_SERIAL_MAX];
	size_t len[100], i, j;
	int good_len = 1, good_top = 1, distinct = 1, rc;
	char *hex, *dec, *want;

	for (i = 0; i < 100; i++) {
		len[i] = 0;
		if (ca_serial_generate(s[i], &len[i]) != 0)
			bail("ca_serial_generate");
		if (len[i] != 17)
			good_len = 0;
		if (s[i][0] < 0x40 || s[i][0] > 0x7f)
			good_top = 0;
		for (j = 0; j < i; j++)
			if (memcmp(s[i], s[j], 17) == 0)
				distinct = 0;
	}
	ok(good_len, "100 serials of 17 octets");
	ok(good_top, "first octet in 0x40..0x7f");
	ok(distinct, "100 serials all distinct");

	for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		hex = NULL;
		rc = ca_serial_canon(canon[i].in, &hex);
		ok(rc == 0 && hex != NULL && strcmp(hex, canon[i].want) == 0,
		    "canon '%s' = %s (got %s)", canon[i].in, canon[i].want,
		    hex ? hex : "error");
		free(hex);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hex = junk;
		rc = ca_serial_canon(bad[i], &hex);
		ok(rc == CA_ERR_INVAL && hex == NULL,
		    "canon '%s' refused (got %s)",
		    bad[i], rc == 0 ? hex : "error");
		if (rc == 0)
			free(hex);
	}

	/* Decimal of generated serials reads back as the same key. */
	for (i = 0, j = 0; i < 100; i++) {
		dec = ca_serial_decimal(s[i], len[i]);
		want = ca_hex(s[i], len[i]);
		hex = NULL;
		if (dec != NULL && want != NULL &&
		    ca_serial_canon(dec, &hex) == 0 && strcmp(hex, want) == 0)
			j++;
		free(dec);
		free(want);
		free(hex);
	}
	is_int(j, 100, "decimal of 100 serials round-trips through canon");

	dec = ca_serial_decimal(d1, sizeof(d1));
	is_str(dec, "12345", "decimal of 3039");
	free(dec);
	dec = ca_serial_decimal(d2, sizeof(d2));
	is_str(dec, "255", "decimal of 00ff");
	free(dec);
	dec = ca_serial_decimal(d3, sizeof(d3));
	is_str(dec, "0", "decimal of 00");
	free(dec);
	dec = ca_serial_decimal(d4, sizeof(d4));
	is_str(dec, "21778071482940061661655974875633165533184",
	    "decimal of 40 00..00 (17 octets)");
	free(dec);
}

static void
test_names(void)
{
	static const char *const mixed[] = {
		"192.168.0.1", "2001:DB8::1", "user@example.com",
		"https://example.com/path", "*.example.com", "www.example.com",
		"WWW.Example.COM", "2001:db8:0:0::1", "spiffe://trust/x",
		"192.168.0.1", "user@example.com", "host-1.internal",
		"xn--bcher-kva.example",
	};
	static const char *const bad[] = {
		"bad name", "-a.com", "a-.com", "a..com", ".a.com", "a.com.",
		"a@b@c", "ex\xc3\xa4mple.com", "\xc3\xa4@example.com", "",
		"@example.com", "user@", "user@bad!host", "*", "a.*.com",
		"**.a.com", "*.", "https://a b/", "a/b", "exa mple@x.com",
		"tab\tname",
	};
	static const char *const ipv4_mapped[] = { "::FFFF:1.2.3.4" };
	static const char *const two[] = { "ok.example.com", "bad name" };
	char label64[80], label63[80], long254[300], long253[300];
	const char *one[1];
	struct ca_names nm;
	size_t i;
	int rc;

	rc = ca_names_classify(mixed, sizeof(mixed) / sizeof(mixed[0]), &nm);
	is_int(rc, 0, "mixed names classify");
	if (rc == 0) {
		ok(nm.n_dns == 4 && strcmp(nm.dns[0], "*.example.com") == 0 &&
		    strcmp(nm.dns[1], "www.example.com") == 0 &&
		    strcmp(nm.dns[2], "host-1.internal") == 0 &&
		    strcmp(nm.dns[3], "xn--bcher-kva.example") == 0,
		    "DNS: wildcard kept, duplicate dropped ignoring case");
		ok(nm.n_ip == 2 && strcmp(nm.ip[0], "192.168.0.1") == 0 &&
		    strcmp(nm.ip[1], "2001:db8::1") == 0,
		    "IPs canonical, duplicates dropped");
		ok(nm.n_email == 1 &&
		    strcmp(nm.email[0], "user@example.com") == 0,
		    "e-mail, duplicate dropped");
		ok(nm.n_uri == 2 &&
		    strcmp(nm.uri[0], "https://example.com/path") == 0 &&
		    strcmp(nm.uri[1], "spiffe://trust/x") == 0, "URIs");
		is_int(ca_names_count(&nm), 9, "ca_names_count");
	}
	ca_names_free(&nm);
	ok(nm.dns == NULL && nm.n_dns == 0 && nm.n_ip == 0,
	    "ca_names_free clears");
	ca_names_free(NULL);

	rc = ca_names_classify(ipv4_mapped, 1, &nm);
	ok(rc == 0 && nm.n_ip == 1 && strcmp(nm.ip[0], "::ffff:1.2.3.4") == 0,
	    "IPv4-mapped IPv6 canonical");
	ca_names_free(&nm);
	rc = ca_names_classify(mixed, 0, &nm);
	ok(rc == 0 && ca_names_count(&nm) == 0, "no names");
	ca_names_free(&nm);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		one[0] = bad[i];
		memset(&nm, 0xff, sizeof(nm));
		rc = ca_names_classify(one, 1, &nm);
		ok(rc == CA_ERR_INVAL && nm.dns == NULL && nm.n_dns == 0 &&
		    nm.ip == NULL && nm.email == NULL && nm.uri == NULL,
		    "name %zu refused", i);
	}

	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".com");
	one[0] = label64;
	is_int(ca_names_classify(one, 1, &nm), CA_ERR_INVAL,
	    "label of 64 characters refused");
	one[0] = label63;
	rc = ca_names_classify(one, 1, &nm);
	ok(rc == 0 && nm.n_dns == 1, "label of 63 characters accepted");
	ca_names_free(&nm);
	/* 253 = 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	memset(long253, 'a', 253);
	long253[63] = long253[127] = long253[191] = '.';
	long253[253] = '\0';
	memcpy(long254, long253, 253);
	memcpy(long254 + 253, "b", 2);
	one[0] = long253;
	rc = ca_names_classify(one, 1, &nm);
	ok(rc == 0 && nm.n_dns == 1 && strlen(long253) == 253,
	    "DNS name of 253 characters accepted");
	ca_names_free(&nm);
	one[0] = long254;
	is_int(ca_names_classify(one, 1, &nm), CA_ERR_INVAL,
	    "DNS name of 254 characters refused");

	rc = ca_names_classify(two, 2, &nm);
	ok(rc == CA_ERR_INVAL && nm.dns == NULL && nm.n_dns == 0,
	    "one bad name refuses all, nothing left allocated");
	ok(strstr(ca_errmsg(), "'bad name'") != NULL,
	    "message quotes the bad name (%s)", ca_errmsg());
}

/* Everything made once and shared by the certificate tests. */
static gnutls_privkey_t root_key, int_key, rsa_key, ec_key;
static gnutls_x509_crt_t root_crt, int_crt;
static struct ca_issuer iss;
static time_t now;

static void
test_make_ca(void)
{
	struct ca_issuer parent;
	unsigned crit = 9, ca = 9, ku = 0, status;
	int pathlen = -9, rc;
	gnutls_x509_crt_t other = NULL;
	gnutls_privkey_t other_key;
	char *a, *b;
	unsigned char ser[CA_SERIAL_MAX + 2];
	size_t slen = sizeof(ser);

	now = time(NULL);
	root_key = new_key(CA_KEY_EC_P384);
	int_key = new_key(CA_KEY_EC_P256);

	rc = ca_x509_make_ca(root_key, "Test Org", "Test Root CA", 1, now - 60,
	    now + 10 * 365 * 86400, NULL, &root_crt);
	is_int(rc, 0, "self-signed root made");
	if (rc != 0)
		bail("root");
	is_int(gnutls_x509_crt_get_version(root_crt), 3, "root: version 3");
	a = dn_of(root_crt, 0);
	is_str(a, "CN=Test Root CA,O=Test Org", "root: subject");
	free(a);
	a = dn_of(root_crt, 1);
	is_str(a, "CN=Test Root CA,O=Test Org", "root: issuer = subject");
	free(a);
	is_int(gnutls_x509_crt_get_activation_time(root_crt), now - 60,
	    "root: notBefore");
	is_int(gnutls_x509_crt_get_expiration_time(root_crt),
	    now + 10 * 365 * 86400, "root: notAfter");
	rc = gnutls_x509_crt_get_basic_constraints(root_crt, &crit, &ca,
	    &pathlen);
	ok(rc >= 0 && ca == 1 && pathlen == 1 && crit == 1,
	    "root: CA:TRUE, pathlen 1, critical (ca %u pathlen %d crit %u)", ca,
	    pathlen, crit);
	rc = gnutls_x509_crt_get_key_usage(root_crt, &ku, &crit);
	ok(rc >= 0 && ku == (GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) &&
	    crit == 1, "root: keyUsage keyCertSign+cRLSign, critical (%#x)",
	    ku);
	a = ski_hex(root_crt);
	b = keyid_hex(root_crt);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0,
	    "root: SKI present, the key's id");
	free(a);
	free(b);
	a = aki_hex(root_crt);
	ok(a == NULL, "root: no AKI");
	free(a);
	ok(gnutls_x509_crt_get_serial(root_crt, ser, &slen) >= 0 &&
	    slen == 17 && ser[0] >= 0x40 && ser[0] <= 0x7f,
	    "root: 17-octet positive serial");
	is_int(gnutls_x509_crt_get_signature_algorithm(root_crt),
	    GNUTLS_SIGN_ECDSA_SHA384, "root: P-384 signs with SHA-384");
	ok(verifies(root_crt, root_crt), "root: self-signature verifies");

	parent.crt = root_crt;
	parent.key = root_key;
	parent.dig = ca_key_digest(root_key);
	parent.not_after = now + 10 * 365 * 86400;
	rc = ca_x509_make_ca(int_key, "Test Org", "Test Intermediate CA", 0,
	    now - 60, now + 5 * 365 * 86400, &parent, &int_crt);
	is_int(rc, 0, "intermediate made under the root");
	if (rc != 0)
		bail("intermediate");
	a = dn_of(int_crt, 0);
	is_str(a, "CN=Test Intermediate CA,O=Test Org",
	    "intermediate: subject");
	free(a);
	a = dn_of(int_crt, 1);
	is_str(a, "CN=Test Root CA,O=Test Org",
	    "intermediate: issuer is the root");
	free(a);
	rc = gnutls_x509_crt_get_basic_constraints(int_crt, &crit, &ca,
	    &pathlen);
	ok(rc >= 0 && ca == 1 && pathlen == 0 && crit == 1,
	    "intermediate: CA:TRUE, pathlen 0, critical");
	rc = gnutls_x509_crt_get_key_usage(int_crt, &ku, &crit);
	ok(rc >= 0 && ku == (GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) &&
	    crit == 1, "intermediate: keyUsage");
	a = ski_hex(int_crt);
	b = keyid_hex(int_crt);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0, "intermediate: SKI");
	free(a);
	free(b);
	a = aki_hex(int_crt);
	b = ski_hex(root_crt);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0,
	    "intermediate: AKI = root's SKI");
	free(a);
	free(b);
	is_int(gnutls_x509_crt_get_signature_algorithm(int_crt),
	    GNUTLS_SIGN_ECDSA_SHA384,
	    "intermediate: signed with the root's hash");
	ok(verifies(int_crt, root_crt),
	    "intermediate verifies against the root");
	ok(gnutls_x509_crt_check_issuer(int_crt, int_crt) == 0,
	    "intermediate is not self-issued");

	/* Another root of the same name: the intermediate must not verify. */
	other_key = new_key(CA_KEY_EC_P384);
	rc = ca_x509_make_ca(other_key, "Test Org", "Test Root CA", 1, now - 60,
	    now + 86400, NULL, &other);
	ok(rc == 0 &&
	    gnutls_x509_crt_verify(int_crt, &other, 1, 0, &status) >= 0 &&
	    (status & GNUTLS_CERT_INVALID) != 0,
	    "intermediate does not verify against another root of that name");
	gnutls_x509_crt_deinit(other);
	gnutls_privkey_deinit(other_key);

	iss.crt = int_crt;
	iss.key = int_key;
	iss.dig = ca_key_digest(int_key);
	iss.not_after = now + 5 * 365 * 86400;
}

/* The SAN entries of crt as "type:value" joined with spaces. */
/* ca_x509_names of crt as ca_names_text gives them; NULL on failure. */
static char *
names_line(gnutls_x509_crt_t crt)
{
	struct ca_names nm;
	char *s;

	if (ca_x509_names(crt, &nm) != 0)
		return NULL;
	s = ca_names_text(&nm);
	ca_names_free(&nm);
	return s;
}

static char *
san_dump(gnutls_x509_crt_t crt)
{
	char buf[1024], item[1100], *out = calloc(1, 4096);
	size_t size, k;
	unsigned i;
	int ret;

	if (out == NULL)
		return NULL;
	for (i = 0;; i++) {
		size = sizeof(buf) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size,
		    NULL);
		if (ret < 0)
			break;
		if (ret == GNUTLS_SAN_IPADDRESS) {
			char *h = ca_hex((unsigned char *)buf, size);
			snprintf(item, sizeof(item), "ip:%s", h ? h : "");
			free(h);
		} else {
			buf[size] = '\0';
			snprintf(item, sizeof(item), "%s:%s",
			    ret == GNUTLS_SAN_DNSNAME ? "dns" :
			    ret == GNUTLS_SAN_RFC822NAME ? "email" :
			    ret == GNUTLS_SAN_URI ? "uri" : "other", buf);
		}
		k = strlen(out);
		snprintf(out + k, 4096 - k, "%s%s", k ? " " : "", item);
	}
	return out;
}

static void
test_issue(void)
{
	static const char *const all[] = {
		"www.example.com", "192.0.2.1", "2001:db8::1",
		"ops@example.com", "https://example.com/svc",
	};
	static const char *const dns_only[] = { "a.example.com" };
	struct ca_names nm, dnm, none;
	struct ca_leaf leaf;
	gnutls_pubkey_t rsa_pub, ec_pub;
	gnutls_x509_crt_t crt = NULL, crt2 = NULL, rd, chain[2];
	unsigned char serial[CA_SERIAL_MAX], serial2[CA_SERIAL_MAX],
	    got[CA_SERIAL_MAX + 2], fp[32], buf[256];
	size_t slen = 0, slen2 = 0, glen = sizeof(got), size;
	unsigned ku = 0, crit = 9, ca = 9, status = ~0u;
	int pathlen, rc;
	char *a, *b;

	rsa_key = new_key(CA_KEY_RSA_3072);
	ec_key = new_key(CA_KEY_EC_P256);
	rsa_pub = pub_of(rsa_key);
	ec_pub = pub_of(ec_key);
	names_of(&nm, all, 5);
	names_of(&dnm, dns_only, 1);
	memset(&none, 0, sizeof(none));

	memset(&leaf, 0, sizeof(leaf));
	leaf.cn = "www.example.com";
	leaf.names = &nm;
	leaf.pub = rsa_pub;
	leaf.not_before = now - 60;
	leaf.not_after = now + 86400;
	rc = ca_x509_issue(&iss, &leaf, &crt, serial, &slen);
	is_int(rc, 0, "RSA leaf issued");
	if (rc != 0)
		bail("issue");
	ok(slen == 17 && gnutls_x509_crt_get_serial(crt, got, &glen) >= 0 &&
	    glen == slen && memcmp(got, serial, slen) == 0,
	    "returned serial is the certificate's, 17 octets");
	a = dn_of(crt, 0);
	is_str(a, "CN=www.example.com", "leaf subject");
	free(a);
	a = dn_of(crt, 1);
	is_str(a, "CN=Test Intermediate CA,O=Test Org", "leaf issuer");
	free(a);
	is_int(gnutls_x509_crt_get_activation_time(crt), now - 60,
	    "leaf notBefore");
	is_int(gnutls_x509_crt_get_expiration_time(crt), now + 86400,
	    "leaf notAfter");
	rc = gnutls_x509_crt_get_key_usage(crt, &ku, &crit);
	ok(rc >= 0 && ku == (GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_ENCIPHERMENT) && crit == 1,
	    "RSA leaf: digitalSignature + keyEncipherment, critical (%#x)", ku);
	size = sizeof(buf);
	rc = gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf, &size, &crit);
	ok(rc >= 0 && strcmp((char *)buf, OID_SERVER) == 0, "EKU serverAuth");
	size = sizeof(buf);
	rc = gnutls_x509_crt_get_key_purpose_oid(crt, 1, buf, &size, &crit);
	ok(rc >= 0 && strcmp((char *)buf, OID_CLIENT) == 0, "EKU clientAuth");
	size = sizeof(buf);
	rc = gnutls_x509_crt_get_key_purpose_oid(crt, 2, buf, &size, &crit);
	is_int(rc, GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE, "no third EKU");
	ca = 9;
	rc = gnutls_x509_crt_get_basic_constraints(crt, &crit, &ca, &pathlen);
	ok(rc >= 0 && ca == 0, "leaf: CA:FALSE");
	a = ski_hex(crt);
	b = keyid_hex(crt);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0, "leaf: SKI");
	free(a);
	free(b);
	a = aki_hex(crt);
	b = ski_hex(int_crt);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0,
	    "leaf: AKI = intermediate's SKI");
	free(a);
	free(b);
	rd = reimport(crt);
	a = san_dump(rd);
	is_str(a, "dns:www.example.com ip:c0000201 "
	    "ip:20010db8000000000000000000000001 email:ops@example.com "
	    "uri:https://example.com/svc", "leaf: SAN of all four types");
	free(a);
	is_int(ext_critical(crt, OID_SAN), 0, "SAN not critical with a CN");
	ok(verifies(crt, int_crt), "leaf verifies against the intermediate");
	ok(verifies(rd, int_crt),
	    "the leaf parsed from its DER verifies against "
	    "the object ca_x509_make_ca returned");
	ok(!verifies(crt, root_crt), "leaf does not verify against the root");
	chain[0] = crt;
	chain[1] = int_crt;
	rc = gnutls_x509_crt_list_verify(chain, 2, &root_crt, 1, NULL, 0, 0,
	    &status);
	ok(rc >= 0 && status == 0, "chain leaf, intermediate verifies to root");
	is_int(gnutls_x509_crt_get_signature_algorithm(crt),
	    GNUTLS_SIGN_ECDSA_SHA256,
	    "leaf signed with the intermediate's hash");

	/* ca_x509_fingerprint against GnuTLS. */
	size = sizeof(fp);
	a = NULL;
	rc = ca_x509_fingerprint(crt, &a);
	b = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp,
	    &size) >= 0 ? ca_hex(fp, size) : NULL;
	ok(rc == 0 && a != NULL && b != NULL && strlen(a) == 64 &&
	    strcmp(a, b) == 0,
	    "fingerprint = SHA-256 of the DER, lowercase hex");
	free(a);
	free(b);
	a = names_line(rd);
	is_str(a, "www.example.com,192.0.2.1,2001:db8::1,ops@example.com,"
	    "https://example.com/svc", "ca_x509_names: each type, in order");
	free(a);
	gnutls_x509_crt_deinit(rd);
	/*
	 * The object ca_x509_issue returns must answer like the certificate
	 * it is: GnuTLS fills its SAN cache only on import.
	 */
	a = names_line(crt);
	is_str(a, "www.example.com,192.0.2.1,2001:db8::1,ops@example.com,"
	    "https://example.com/svc",
	    "ca_x509_names of the object ca_x509_issue returned");
	free(a);

	/* EC key: no keyEncipherment; serials differ. */
	leaf.pub = ec_pub;
	rc = ca_x509_issue(&iss, &leaf, &crt2, serial2, &slen2);
	is_int(rc, 0, "EC leaf issued");
	rc = gnutls_x509_crt_get_key_usage(crt2, &ku, &crit);
	ok(rc >= 0 && ku == GNUTLS_KEY_DIGITAL_SIGNATURE,
	    "EC leaf: digitalSignature only (%#x)", ku);
	ok(slen2 == 17 && memcmp(serial, serial2, 17) != 0,
	    "two leaves, two serials");
	gnutls_x509_crt_deinit(crt2);
	crt2 = NULL;

	/* Empty subject: the SAN is critical. */
	leaf.cn = "";
	rc = ca_x509_issue(&iss, &leaf, &crt2, serial2, &slen2);
	is_int(rc, 0, "leaf with an empty CN issued");
	size = sizeof(buf);
	ok(rc == 0 && gnutls_x509_crt_get_dn_by_oid(crt2,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size) ==
	    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE,
	    "empty CN: no CN in subject");
	is_int(ext_critical(crt2, OID_SAN), 1, "empty CN: SAN critical");
	ok(verifies(crt2, int_crt), "empty-subject leaf verifies");
	gnutls_x509_crt_deinit(crt2);
	crt2 = NULL;
	leaf.cn = NULL;
	leaf.names = &dnm;
	rc = ca_x509_issue(&iss, &leaf, &crt2, serial2, &slen2);
	is_int(rc, 0, "leaf with a NULL CN issued");
	is_int(ext_critical(crt2, OID_SAN), 1, "NULL CN: SAN critical");
	rd = reimport(crt2);
	a = names_line(rd);
	is_str(a, "a.example.com", "ca_x509_names of one name");
	free(a);
	gnutls_x509_crt_deinit(rd);
	gnutls_x509_crt_deinit(crt2);
	crt2 = NULL;

	/* CN only: no SAN extension at all. */
	leaf.cn = "only-cn";
	leaf.names = &none;
	rc = ca_x509_issue(&iss, &leaf, &crt2, serial2, &slen2);
	is_int(rc, 0, "leaf with a CN and no names issued");
	is_int(ext_critical(crt2, OID_SAN), -1, "no names: no SAN extension");
	a = names_line(crt2);
	is_str(a, "", "ca_x509_names of no SAN extension: none");
	free(a);
	gnutls_x509_crt_deinit(crt2);
	crt2 = (gnutls_x509_crt_t)(void *)junk;

	leaf.cn = "";
	rc = ca_x509_issue(&iss, &leaf, &crt2, serial2, &slen2);
	ok(rc == CA_ERR_INVAL && crt2 == NULL,
	    "neither CN nor names: CA_ERR_INVAL");
	leaf.cn = NULL;
	rc = ca_x509_issue(&iss, &leaf, &crt2, serial2, &slen2);
	ok(rc == CA_ERR_INVAL && crt2 == NULL,
	    "NULL CN, no names: CA_ERR_INVAL");

	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(rsa_pub);
	gnutls_pubkey_deinit(ec_pub);
	ca_names_free(&nm);
	ca_names_free(&dnm);
}

static void
test_import_export(void)
{
	gnutls_x509_crt_t crt = (gnutls_x509_crt_t)(void *)junk;
	gnutls_datum_t der = { NULL, 0 }, pem = { NULL, 0 };
	char *a = NULL, *b = NULL;
	int rc;

	rc = ca_x509_export(int_crt, GNUTLS_X509_FMT_DER, &der);
	rc = rc ? rc : ca_x509_export(int_crt, GNUTLS_X509_FMT_PEM, &pem);
	is_int(rc, 0, "export DER and PEM");
	ok(pem.data != NULL && strncmp((char *)pem.data,
	    "-----BEGIN CERTIFICATE-----\n", 28) == 0, "PEM header");
	rc = ca_x509_import(der.data, der.size, &crt);
	ca_x509_fingerprint(int_crt, &a);
	if (rc == 0)
		ca_x509_fingerprint(crt, &b);
	ok(rc == 0 && a != NULL && b != NULL && strcmp(a, b) == 0,
	    "DER import: same certificate");
	free(b);
	b = NULL;
	if (rc == 0)
		gnutls_x509_crt_deinit(crt);
	rc = ca_x509_import(pem.data, pem.size, &crt);
	if (rc == 0)
		ca_x509_fingerprint(crt, &b);
	ok(rc == 0 && b != NULL && strcmp(a, b) == 0,
	    "PEM import: same certificate");
	free(b);
	if (rc == 0)
		gnutls_x509_crt_deinit(crt);
	crt = (gnutls_x509_crt_t)(void *)junk;
	rc = ca_x509_import("garbage", 7, &crt);
	ok(rc == CA_ERR_INVAL && crt == NULL,
	    "garbage: CA_ERR_INVAL, no result");
	crt = (gnutls_x509_crt_t)(void *)junk;
	rc = ca_x509_import(der.data, der.size - 1, &crt);
	ok(rc == CA_ERR_INVAL && crt == NULL, "truncated DER refused");
	free(a);
	gnutls_free(der.data);
	gnutls_free(pem.data);
}

/* A CSR from key with cn and the names in v, imported. */
static gnutls_x509_crq_t
csr(gnutls_privkey_t key, const char *cn, const char *const *v, size_t n)
{
	struct ca_names nm;
	gnutls_datum_t pem;
	gnutls_x509_crq_t crq;

	names_of(&nm, v, n);
	if (ca_csr_make(key, cn, &nm, &pem) != 0)
		bail("ca_csr_make");
	ca_names_free(&nm);
	if (ca_csr_import(pem.data, pem.size, &crq) != 0)
		bail("ca_csr_import");
	gnutls_free(pem.data);
	return crq;
}

static void
test_csr(void)
{
	static const char *const all[] = {
		"www.example.com", "api.example.com", "192.0.2.1",
		"2001:db8::1", "ops@example.com", "https://example.com/svc",
	};
	static const char *const extra[] = {
		"www.example.com", "api.example.com", "evil.example.com",
		"192.0.2.1", "2001:db8::1", "ops@example.com",
		"https://example.com/svc",
	};
	static const char *const fewer[] = { "www.example.com" };
	static const char *const upper[] = {
		"WWW.Example.COM", "API.example.com",
	};
	static const char *const ips[] = { "2001:DB8:0::1", "192.0.2.1" };
	static const char *const bad_ip[] = { "192.0.2.2" };
	static const char *const bad_uri[] = { "https://example.com/other" };
	static const char *const bad_mail[] = { "root@example.com" };
	struct ca_names allowed;
	gnutls_datum_t pem = { NULL, 0 }, der = { NULL, 0 };
	gnutls_x509_crq_t crq = NULL;
	gnutls_x509_privkey_t small;
	gnutls_privkey_t small_key;
	unsigned char buf[512], id1[64], id2[64];
	size_t size, s1 = sizeof(id1), s2 = sizeof(id2);
	gnutls_pubkey_t pub;
	char *big;
	int rc;

	names_of(&allowed, all, 6);
	rc = ca_csr_make(ec_key, "www.example.com", &allowed, &pem);
	is_int(rc, 0, "CSR made");
	ok(pem.data != NULL && strstr((char *)pem.data,
	    "-----BEGIN NEW CERTIFICATE REQUEST-----") == (char *)pem.data,
	    "CSR is PEM");
	crq = (gnutls_x509_crq_t)(void *)junk;
	rc = ca_csr_import(pem.data, pem.size, &crq);
	is_int(rc, 0, "PEM CSR imported");
	if (rc != 0)
		bail("csr import");
	size = sizeof(buf);
	ok(gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &size) >= 0 && strcmp((char *)buf, "www.example.com") == 0,
	    "CSR CN round trip");
	pub = pub_of(ec_key);
	ok(gnutls_x509_crq_get_key_id(crq, 0, id1, &s1) >= 0 &&
	    gnutls_pubkey_get_key_id(pub, 0, id2, &s2) >= 0 && s1 == s2 &&
	    memcmp(id1, id2, s1) == 0, "CSR public key round trip");
	gnutls_pubkey_deinit(pub);
	is_int(ca_csr_check_names(crq, "subject", &allowed, 100), 0,
	    "CSR names equal to the allowed ones");
	rc = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &der);
	gnutls_x509_crq_deinit(crq);
	crq = NULL;
	rc = rc < 0 ? rc : ca_csr_import(der.data, der.size, &crq);
	is_int(rc, 0, "DER CSR imported");
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);

	/* One PEM block with white space around it, nothing else. */
	{
		char *b = malloc(pem.size * 2 + 16);
		size_t n;

		if (b == NULL)
			bail("malloc");
		n = (size_t)sprintf(b, " \r\n\t%.*s\r\n\n ", (int)pem.size,
		    (char *)pem.data);
		rc = ca_csr_import(b, n, &crq);
		is_int(rc, 0, "PEM CSR with white space around it imported");
		if (rc == 0)
			gnutls_x509_crq_deinit(crq);
		n = (size_t)sprintf(b, "x%.*s", (int)pem.size, (char *)pem.data);
		rc = ca_csr_import(b, n, &crq);
		ok(rc == CA_ERR_INVAL, "text before the PEM block refused");
		n = (size_t)sprintf(b, "%.*s%.*s", (int)pem.size,
		    (char *)pem.data, (int)pem.size, (char *)pem.data);
		rc = ca_csr_import(b, n, &crq);
		ok(rc == CA_ERR_INVAL && strstr(ca_errmsg(),
		    "another PEM block after the PEM block") != NULL,
		    "two PEM blocks refused (%s)", ca_errmsg());
		memcpy(b, der.data, der.size);
		b[der.size] = '\n';
		rc = ca_csr_import(b, der.size + 1, &crq);
		ok(rc == CA_ERR_INVAL && strstr(ca_errmsg(),
		    "1 bytes after the DER structure") != NULL,
		    "DER with a byte after it refused (%s)", ca_errmsg());
		rc = ca_csr_import(b, der.size - 1, &crq);
		ok(rc == CA_ERR_INVAL, "truncated DER refused");
		free(b);
	}

	/* A flipped bit in the signature. */
	crq = (gnutls_x509_crq_t)(void *)junk;
	der.data[der.size - 3] ^= 0x01;
	rc = ca_csr_import(der.data, der.size, &crq);
	ok(rc == CA_ERR_INVAL && crq == NULL,
	    "CSR with a bad signature refused");
	rc = ca_csr_import("garbage", 7, &crq);
	ok(rc == CA_ERR_INVAL && crq == NULL, "garbage CSR refused");
	if ((big = calloc(1, CA_MAX_CSR + 1)) != NULL) {
		rc = ca_csr_import(big, CA_MAX_CSR + 1, &crq);
		ok(rc == CA_ERR_TOOBIG && crq == NULL,
		    "CSR over CA_MAX_CSR refused");
		free(big);
	}
	gnutls_free(der.data);
	gnutls_free(pem.data);

	/* RSA below 2048 bits. */
	if (gnutls_x509_privkey_init(&small) < 0 ||
	    gnutls_x509_privkey_generate(small, GNUTLS_PK_RSA, 1024, 0) < 0 ||
	    ca_key_wrap(small, 1, &small_key) != 0)
		bail("RSA-1024 key");
	rc = ca_csr_make(small_key, "small", &allowed, &pem);
	rc = rc ? rc : ca_csr_import(pem.data, pem.size, &crq);
	ok(rc == CA_ERR_INVAL && crq == NULL && strstr(ca_errmsg(),
	    "CSR key is RSA 1024 bits: at least 2048 needed") != NULL,
	    "CSR with RSA-1024 refused (%s)", ca_errmsg());
	gnutls_free(pem.data);
	gnutls_privkey_deinit(small_key);
	rc = ca_csr_make(rsa_key, "big", &allowed, &pem);
	rc = rc ? rc : ca_csr_import(pem.data, pem.size, &crq);
	is_int(rc, 0, "CSR with RSA-3072 accepted");
	if (rc == 0)
		gnutls_x509_crq_deinit(crq);
	gnutls_free(pem.data);

#define CHECK(cn, list, n, sub, want, what) do {			\
	crq = csr(ec_key, (cn), (list), (n));				\
	ca_err_clear();							\
	rc = ca_csr_check_names(crq, (sub), &allowed, 100);			\
	is_int(rc, (want), "%s", (what));				\
	gnutls_x509_crq_deinit(crq);					\
} while (0)
	CHECK("www.example.com", extra, 7, "sub", CA_ERR_FORBIDDEN,
	    "CSR with an extra DNS name refused");
	ok(strstr(ca_errmsg(), "'evil.example.com'") != NULL,
	    "message names the extra name (%s)", ca_errmsg());
	CHECK("www.example.com", fewer, 1, "sub", CA_ERR_FORBIDDEN,
	    "CSR with fewer DNS names than the token refused");
	ok(strstr(ca_errmsg(), "'api.example.com'") != NULL,
	    "message names the missing name (%s)", ca_errmsg());
	CHECK("sub", all, 0, "sub", 0,
	    "CSR without names, CN = subject: accepted");
	CHECK(NULL, all, 0, "sub", 0, "CSR without names or CN: accepted");
	CHECK("api.example.com", all, 0, "sub", 0,
	    "CSR without names, CN one of the token's names: accepted");
	CHECK("192.0.2.1", all, 6, "sub", 0, "CN equal to an IP SAN: accepted");
	CHECK("https://example.com/svc", all, 6, "sub", 0,
	    "CN equal to a URI SAN: accepted");
	CHECK("intruder.example.com", all, 6, "sub", CA_ERR_FORBIDDEN,
	    "CN neither subject nor a SAN: refused");
	ok(strstr(ca_errmsg(), "'intruder.example.com'") != NULL,
	    "message names the CN (%s)", ca_errmsg());
	CHECK("WWW.EXAMPLE.COM", upper, 2, "sub", 0,
	    "DNS names and CN compared ignoring case");
	CHECK("sub", ips, 2, "sub", 0,
	    "only IP names (IPv6 in another spelling): accepted");
	CHECK("sub", bad_ip, 1, "sub", CA_ERR_FORBIDDEN,
	    "an IP not in the token: refused");
	CHECK("sub", bad_uri, 1, "sub", CA_ERR_FORBIDDEN,
	    "a URI not in the token: refused");
	CHECK("sub", bad_mail, 1, "sub", CA_ERR_FORBIDDEN,
	    "an e-mail not in the token: refused");
	CHECK("Sub", all, 6, "sub", CA_ERR_FORBIDDEN,
	    "CN compared to the subject exactly");
#undef CHECK
	ca_names_free(&allowed);
}

/*
 * A name holding the separator of a joined list stays one name of its
 * type from the certificate back to a renewal (issue 9: a URI with
 * ",victim.test" came back as a DNS name too).
 */
static void
test_names_typed(void)
{
	static const char *const v[] = {
		"a.test", "https://a.test/x,victim.test", "u@a.test",
	};
	char comma[] = "x,victim.test", *dns_comma[] = { comma };
	struct ca_names nm, got, odd;
	struct ca_leaf leaf;
	gnutls_x509_crt_t crt = NULL, rd;
	gnutls_pubkey_t pub = pub_of(ec_key);
	unsigned char serial[CA_SERIAL_MAX];
	size_t slen;
	const char *type = NULL;
	char *a;
	int rc;

	names_of(&nm, v, 3);
	ok(nm.n_uri == 1 && nm.n_dns == 1 && nm.n_email == 1,
	    "token names: one URI holding a ','");
	memset(&leaf, 0, sizeof(leaf));
	leaf.cn = "a.test";
	leaf.names = &nm;
	leaf.pub = pub;
	leaf.not_before = now - 60;
	leaf.not_after = now + 3600;
	rc = ca_x509_issue(&iss, &leaf, &crt, serial, &slen);
	is_int(rc, 0, "leaf with a ',' in its URI issued");
	if (rc != 0)
		bail("issue");
	rd = reimport(crt);
	rc = ca_x509_names(rd, &got);
	is_int(rc, 0, "ca_x509_names");
	ok(rc == 0 && got.n_dns == 1 && strcmp(got.dns[0], "a.test") == 0 &&
	    got.n_uri == 1 &&
	    strcmp(got.uri[0], "https://a.test/x,victim.test") == 0 &&
	    got.n_email == 1 && got.n_ip == 0,
	    "the URI comes back as one URI; no DNS victim.test");
	is_str(ca_names_at(&got, 1, &type), "u@a.test",
	    "ca_names_at: DNS, then IP, e-mail, URI");
	is_str(type, "email", "ca_names_at: its type");
	ok(ca_names_at(&got, 3, NULL) == NULL, "ca_names_at past the last");
	a = ca_names_text(&got);
	is_str(a, "a.test,u@a.test,https://a.test/x\\x2cvictim.test",
	    "ca_names_text escapes the ',' inside a name");
	free(a);
	ca_names_free(&got);
	gnutls_x509_crt_deinit(rd);
	gnutls_x509_crt_deinit(crt);
	crt = NULL;

	/* Whatever the type, the bytes decide nothing: a DNS name that
	 * held a ',' (not issued from a token: refused there) stays one. */
	memset(&odd, 0, sizeof(odd));
	odd.dns = dns_comma;
	odd.n_dns = 1;
	leaf.names = &odd;
	rc = ca_x509_issue(&iss, &leaf, &crt, serial, &slen);
	is_int(rc, 0, "leaf with a ',' in a DNS name issued");
	if (rc == 0 && ca_x509_names(crt, &got) == 0) {
		ok(got.n_dns == 1 && strcmp(got.dns[0], "x,victim.test") == 0 &&
		    ca_names_count(&got) == 1, "one DNS name, not split");
		ca_names_free(&got);
	} else
		ok(0, "one DNS name, not split");
	gnutls_x509_crt_deinit(crt);
	ca_names_free(&nm);
	gnutls_pubkey_deinit(pub);
}

/* The TBSCertificate inside a certificate's DER (lengths of <= 2 octets). */
static int
tbs_of(const gnutls_datum_t *c, const unsigned char **p, size_t *len)
{
	const unsigned char *q = c->data;
	size_t n;

	if (c->size < 8 || q[0] != 0x30)
		return -1;
	q += 2 + (q[1] & 0x80 ? q[1] & 0x7f : 0);
	if (q[0] != 0x30)
		return -1;
	if (q[1] < 0x80)
		n = 2 + q[1];
	else if (q[1] == 0x81)
		n = 3 + q[2];
	else if (q[1] == 0x82)
		n = 4 + ((size_t)q[2] << 8 | q[3]);
	else
		return -1;
	if (q + n > c->data + c->size)
		return -1;
	*p = q;
	*len = n;
	return 0;
}

/*
 * The TBSCertificate written directly against GnuTLS's tree: the same
 * bytes for every issuer and leaf key type, with and without CN, CRL
 * and OCSP URLs, with every SAN type, and a notAfter past 2049; the
 * whole certificate too where the signature is deterministic, and the
 * signature verifies under the issuer.
 */
static void
test_direct_tbs(void)
{
	static const enum ca_key_type kt[] = {
		CA_KEY_EC_P256, CA_KEY_EC_P384, CA_KEY_ED25519, CA_KEY_RSA_3072,
	};
	static const char *const kn[] = { "P-256", "P-384", "Ed25519", "RSA" };
	static const char *const all[] = {
		"www.example.com", "*.example.com", "192.0.2.1", "2001:db8::1",
		"ops@example.com", "https://example.com/svc",
	};
	static const char *const cns[] = {
		"www.example.com", NULL, "*.example.com", "caf\xc3\xa9 (test)",
	};
	static const unsigned char serial[17] = {
		0x4a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	};
	gnutls_privkey_t keys[4];
	gnutls_pubkey_t pubs[4];
	gnutls_x509_crt_t cas[4], got;
	struct ca_issuer is;
	struct ca_names nm, none;
	struct ca_leaf leaf;
	gnutls_datum_t a, b;
	const unsigned char *ta, *tb;
	size_t la, lb, i, j, v, bad, n = 0;
	unsigned status;
	int rc;

	names_of(&nm, all, 6);
	memset(&none, 0, sizeof(none));
	for (i = 0; i < 4; i++) {
		keys[i] = kt[i] == CA_KEY_RSA_3072 && rsa_key != NULL ? rsa_key :
		    new_key(kt[i]);
		pubs[i] = pub_of(keys[i]);
		if (ca_x509_make_ca(keys[i], "Test Org", "Direct CA", 0, now - 60,
		    now + 86400 * 400, NULL, &cas[i]) != 0)
			bail("direct CA");
	}
	for (i = 0; i < 4; i++) {
		is.crt = cas[i];
		is.key = keys[i];
		is.dig = ca_key_digest(keys[i]);
		is.not_after = now + 86400 * 400;
		bad = 0;
		for (j = 0; j < 4; j++)
			for (v = 0; v < 8; v++) {
				memset(&leaf, 0, sizeof(leaf));
				leaf.cn = cns[v % 4];
				leaf.names = v % 4 == 2 ? &none : &nm;
				leaf.pub = pubs[j];
				leaf.not_before = now - 60;
				leaf.not_after = v == 5 ? 2600000000 : now + 86400;
				if (v >= 4) {
					leaf.crl_url = "http://ca.example/crl";
					leaf.ocsp_url = "http://ca.example/ocsp";
				}
				if (v % 2 == 1) {	/* step-ca's provisioner */
					leaf.prov_type = v == 3 ? CA_STEP_TYPE_ACME :
					    CA_STEP_TYPE_JWK;
					leaf.prov_name = "admin@example.com";
					leaf.prov_cred = v == 3 ? "" :
					    "nFIGHsHWZOVHJCIBnOzPvnZrVfBfSL6rXOqGg0kE5lc";
				}
				rc = ca_x509_issue_serial_der(&is, &leaf, serial,
				    sizeof(serial), &a);
				if (rc == 0)
					rc = ca_x509_issue_tree_der(&is, &leaf,
					    serial, sizeof(serial), &b);
				n++;
				if (rc != 0 || tbs_of(&a, &ta, &la) != 0 ||
				    tbs_of(&b, &tb, &lb) != 0 || la != lb ||
				    memcmp(ta, tb, la) != 0 ||
				    (kt[i] != CA_KEY_EC_P256 &&
				    kt[i] != CA_KEY_EC_P384 && (a.size != b.size ||
				    memcmp(a.data, b.data, a.size) != 0))) {
					printf("# issuer %s leaf %s case %zu differs\n",
					    kn[i], kn[j], v);
					bad++;
				} else if (ca_x509_import(a.data, a.size,
				    &got) != 0 || gnutls_x509_crt_verify(got,
				    &cas[i], 1, 0, &status) < 0 || status != 0) {
					printf("# issuer %s leaf %s case %zu: no "
					    "verify\n", kn[i], kn[j], v);
					bad++;
				} else
					gnutls_x509_crt_deinit(got);
				gnutls_free(a.data);
				gnutls_free(b.data);
			}
		is_int((int)bad, 0, "direct TBSCertificate = GnuTLS tree, "
		    "issuer %s, every leaf key and case", kn[i]);
	}
	ok(n == 128, "every case ran (%zu)", n);
	for (i = 0; i < 4; i++) {
		gnutls_x509_crt_deinit(cas[i]);
		gnutls_pubkey_deinit(pubs[i]);
		if (keys[i] != rsa_key)
			gnutls_privkey_deinit(keys[i]);
	}
	ca_names_free(&nm);
}

/*
 * The same for a templated leaf (lib/certtmpl.h): its subject and
 * extensions through both writers, with and without a subject, for every
 * issuer key type.
 */
static void
test_direct_tbs_profile(void)
{
	static const char *const tpl[] = {
	    "{\"subject\": {\"commonName\": \"caf\u00e9\", \"country\": \"FR\","
	    " \"organization\": [\"A\", \"B\"], \"extraNames\": [{\"type\":"
	    " \"1.2.840.113549.1.9.1\", \"value\": \"a@example.com\"}]},"
	    " \"dnsNames\": [\"www.example.com\"], \"keyUsage\":"
	    " [\"digitalSignature\", \"keyAgreement\", \"decipherOnly\"],"
	    " \"extKeyUsage\": [\"serverAuth\", \"codeSigning\"],"
	    " \"basicConstraints\": {\"isCA\": false},"
	    " \"crlDistributionPoints\": [\"http://c/1\", \"http://c/2\"],"
	    " \"ocspServer\": \"http://o\", \"issuingCertificateURL\": \"http://i\","
	    " \"policyIdentifiers\": [\"2.23.140.1.2.1\"],"
	    " \"extensions\": [{\"id\": \"1.3.6.1.4.1.99999.1\", \"critical\":"
	    " false, \"value\": \"BQA=\"}]}",
	    "{\"sans\": [{\"value\": \"192.0.2.1\"}, {\"value\": \"x.example\"}],"
	    " \"extKeyUsage\": \"clientAuth\"}",
	};
	static const enum ca_key_type kt[] = {
		CA_KEY_EC_P256, CA_KEY_EC_P384, CA_KEY_ED25519, CA_KEY_RSA_3072,
	};
	static const unsigned char serial[17] = { 0x4b, 1, 2, 3 };
	struct ca_certtmpl_cert *c[2];
	gnutls_privkey_t key;
	gnutls_pubkey_t pub = pub_of(ec_key);
	gnutls_x509_crt_t ca, got;
	struct ca_issuer is;
	struct ca_leaf leaf;
	gnutls_datum_t a, b;
	const unsigned char *ta, *tb;
	size_t la, lb, i, j, bad = 0, n = 0;
	unsigned status;

	for (j = 0; j < 2; j++)
		if (ca_certtmpl_cert_parse(tpl[j], strlen(tpl[j]), 100,
		    &c[j]) != 0)
			bail("template");
	for (i = 0; i < 4; i++) {
		key = kt[i] == CA_KEY_RSA_3072 ? rsa_key : new_key(kt[i]);
		if (ca_x509_make_ca(key, "T", "Profile CA", 0, now - 60,
		    now + 86400, NULL, &ca) != 0)
			bail("CA");
		is.crt = ca;
		is.key = key;
		is.dig = ca_key_digest(key);
		is.not_after = now + 86400;
		for (j = 0; j < 2; j++) {
			memset(&leaf, 0, sizeof(leaf));
			leaf.cn = c[j]->cn;
			leaf.names = &c[j]->names;
			leaf.pub = pub;
			leaf.not_before = now - 60;
			leaf.not_after = now + 3600;
			leaf.prov_type = CA_STEP_TYPE_JWK;
			leaf.prov_name = "p";
			leaf.prov_cred = "k";
			leaf.profile = &c[j]->profile;
			n++;
			if (ca_x509_issue_serial_der(&is, &leaf, serial,
			    sizeof(serial), &a) != 0 ||
			    ca_x509_issue_tree_der(&is, &leaf, serial,
			    sizeof(serial), &b) != 0 ||
			    tbs_of(&a, &ta, &la) != 0 ||
			    tbs_of(&b, &tb, &lb) != 0 || la != lb ||
			    memcmp(ta, tb, la) != 0) {
				printf("# templated leaf %zu, issuer %zu differs\n",
				    j, i);
				bad++;
			} else if (ca_x509_import(a.data, a.size, &got) != 0 ||
			    gnutls_x509_crt_verify(got, &ca, 1, 0,
			    &status) < 0 || status != 0) {
				printf("# templated leaf %zu: no verify\n", j);
				bad++;
			} else
				gnutls_x509_crt_deinit(got);
			gnutls_free(a.data);
			gnutls_free(b.data);
		}
		gnutls_x509_crt_deinit(ca);
		if (key != rsa_key)
			gnutls_privkey_deinit(key);
	}
	is_int((int)bad, 0, "templated leaf: direct TBSCertificate = GnuTLS "
	    "tree (%zu cases)", n);
	for (j = 0; j < 2; j++)
		ca_certtmpl_cert_free(c[j]);
	gnutls_pubkey_deinit(pub);
}

static void
test_cn_check(void)
{
	static const char *const good[] = {
		"svc.test", "John Doe", ("B\xc3\xbc" "cher"), "\xe2\x82\xac",
		"\xf0\x9f\x94\x92 lock",
	};
	static const char *const bad[] = {
		"", "a\nb", "a\tb", "x\r", "\x1b[2J", "del\x7f",
		"c1\xc2\x85", "\xff", "\xc3", "\xc0\xaf", "\xe2\x82",
	};
	char s[80];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(ca_x509_cn_check(good[i]), 0, "CN %zu accepted", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(ca_x509_cn_check(bad[i]), CA_ERR_INVAL,
		    "CN %zu refused (%s)", i, ca_errmsg());
	memset(s, 'a', 64);
	s[64] = '\0';
	is_int(ca_x509_cn_check(s), 0, "CN of 64 characters accepted");
	s[64] = 'a';
	s[65] = '\0';
	is_int(ca_x509_cn_check(s), CA_ERR_INVAL, "CN of 65 refused");
	is_str(ca_errmsg(), "subject is 65 characters long: at most 64 "
	    "(RFC 5280 ub-common-name)", "its message");
	/* 64 characters of two bytes each: characters are counted. */
	for (i = 0; i < 32; i++)
		memcpy(s + 2 * i, "\xc3\xbc", 2);
	s[64] = '\0';
	is_int(ca_x509_cn_check(s), 0, "32 two-byte characters accepted");
}

/* ca_pubkey_same against the key each certificate certifies; the
 * fingerprint against GnuTLS's own. */
static void
test_pubkey_same(void)
{
	gnutls_privkey_t ed1 = new_key(CA_KEY_ED25519), ed2 = new_key(CA_KEY_ED25519);
	gnutls_privkey_t ec2 = new_key(CA_KEY_EC_P256);
	gnutls_pubkey_t ic, p[6];
	unsigned char fp[32];
	size_t fpsize = sizeof(fp);
	char *hex, *want;
	int i;

	p[0] = pub_of(int_key);
	p[1] = pub_of(root_key);
	p[2] = pub_of(rsa_key);
	p[3] = pub_of(ec2);
	p[4] = pub_of(ed1);
	p[5] = pub_of(ed2);
	if (gnutls_pubkey_init(&ic) < 0 ||
	    gnutls_pubkey_import_x509(ic, int_crt, 0) < 0)
		bail("certificate key");
	is_int(ca_pubkey_same(p[0], ic), 1,
	    "pubkey_same: the intermediate key is its certificate's");
	is_int(ca_pubkey_same(p[1], ic), 0,
	    "pubkey_same: the root key is not the intermediate's");
	is_int(ca_pubkey_same(p[3], p[0]), 0,
	    "pubkey_same: two P-256 keys differ");
	is_int(ca_pubkey_same(p[2], p[0]), 0,
	    "pubkey_same: RSA and EC differ");
	is_int(ca_pubkey_same(p[2], p[2]), 1, "pubkey_same: RSA, itself");
	is_int(ca_pubkey_same(p[4], p[4]), 1, "pubkey_same: Ed25519, itself");
	is_int(ca_pubkey_same(p[4], p[5]), 0,
	    "pubkey_same: two Ed25519 keys differ");
	for (i = 0; i < 6; i++)
		gnutls_pubkey_deinit(p[i]);
	gnutls_pubkey_deinit(ic);
	gnutls_privkey_deinit(ed1);
	gnutls_privkey_deinit(ed2);
	gnutls_privkey_deinit(ec2);

	if (ca_x509_fingerprint(int_crt, &hex) != 0 ||
	    gnutls_x509_crt_get_fingerprint(int_crt, GNUTLS_DIG_SHA256, fp,
	    &fpsize) < 0 || (want = ca_hex(fp, fpsize)) == NULL)
		bail("fingerprint");
	is_str(hex, want, "fingerprint: GnuTLS's SHA-256 fingerprint");
	free(hex);
	free(want);
}

int
main(void)
{
	test_serials();
	test_names();
	test_make_ca();
	test_issue();
	test_names_typed();
	test_direct_tbs();
	test_direct_tbs_profile();
	test_cn_check();
	test_pubkey_same();
	test_import_export();
	test_csr();
	gnutls_x509_crt_deinit(root_crt);
	gnutls_x509_crt_deinit(int_crt);
	gnutls_privkey_deinit(root_key);
	gnutls_privkey_deinit(int_key);
	gnutls_privkey_deinit(rsa_key);
	gnutls_privkey_deinit(ec_key);
	return tap_done();
}
