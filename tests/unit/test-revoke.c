/*
 * test-revoke.c - unit tests of lib/crl.c and lib/ocsp.c. CRLs and OCSP
 * responses are checked with GnuTLS's parsers and with openssl (and
 * ocsptool), the independent oracles; requests come from openssl and
 * GnuTLS, malformed ones are built here with libtasn1.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/wait.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>
#include <gnutls/x509.h>
#include <libtasn1.h>

#include "ca.h"
#include "crl.h"
#include "keys.h"
#include "ocsp.h"
#include "x509.h"
#include "tap.h"

extern const asn1_static_node ca_pkix_asn1_tab[];

#define OID_BASIC	"1.3.6.1.5.5.7.48.1.1"

static asn1_node tree;
static time_t now;

static _Noreturn void
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, ca_errmsg());
	exit(1);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Files and commands */

static char *
path_of(const char *name)
{
	static char buf[8][4200];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static void
write_file(const char *name, const void *data, size_t len)
{
	FILE *f;

	if ((f = fopen(path_of(name), "wb")) == NULL ||
	    fwrite(data, 1, len, f) != len || fclose(f) != 0)
		bail(name);
}

static void
write_pem(const char *name, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = { NULL, 0 };

	if (ca_x509_export(crt, GNUTLS_X509_FMT_PEM, &pem) != 0)
		bail("export");
	write_file(name, pem.data, pem.size);
	gnutls_free(pem.data);
}

static void
append_file(const char *dst, const char *src)
{
	char cmd[9000];

	snprintf(cmd, sizeof(cmd), "cat '%s' >> '%s'", path_of(src),
	    path_of(dst));
	if (system(cmd) != 0)
		bail("cat");
}

static unsigned char *
read_file(const char *name, size_t *len)
{
	char *buf;

	if (ca_file_read(path_of(name), 1 << 24, &buf, len) != 0)
		bail(name);
	return (unsigned char *)buf;
}

/* Run a shell command, stdout and stderr into *out; its exit status. */
static int
run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
run(char **out, const char *fmt, ...)
{
	char cmd[16384], *buf = NULL, *nb;
	size_t len = 0, cap = 0, k;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (strlen(cmd) + 8 >= sizeof(cmd))
		bail("command too long");
	strcat(cmd, " 2>&1");
	if ((f = popen(cmd, "r")) == NULL)
		bail("popen");
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL)
				bail("realloc");
			buf = nb;
		}
		if ((k = fread(buf + len, 1, cap - len - 1, f)) == 0)
			break;
		len += k;
	}
	buf[len] = '\0';
	st = pclose(f);
	*out = buf;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
has(const char *out, const char *s)
{
	return out != NULL && strstr(out, s) != NULL;
}

static int
count_of(const char *out, const char *s)
{
	int n = 0;

	while ((out = strstr(out, s)) != NULL) {
		n++;
		out += strlen(s);
	}
	return n;
}

static size_t
count_bytes(const gnutls_datum_t *d, const void *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i + len <= d->size; i++)
		if (memcmp(d->data + i, s, len) == 0)
			n++;
	return n;
}

/* Uppercase hex as openssl prints serials. */
static char *
upper_hex(const unsigned char *p, size_t len)
{
	char *h = ca_hex(p, len), *q;

	for (q = h; q != NULL && *q != '\0'; q++)
		*q = (char)toupper((unsigned char)*q);
	return h;
}

/* A CA, keys and leaves */

struct ca {
	struct ca_issuer	 iss;
	gnutls_x509_privkey_t	 x;
};

static void
ca_make(struct ca *c, enum ca_key_type t, const char *cn,
    const struct ca *parent)
{
	time_t nb = now - 3600, na = now + 10 * 365 * 86400L;

	memset(c, 0, sizeof(*c));
	if (ca_key_generate(t, &c->x) != 0 ||
	    ca_key_wrap(c->x, 0, &c->iss.key) != 0 ||
	    ca_x509_make_ca(c->iss.key, "Revoke Test", cn, parent ? 0 : 1, nb,
	    na, parent ? &parent->iss : NULL, &c->iss.crt) != 0)
		bail("CA");
	c->iss.dig = ca_key_digest(c->iss.key);
	c->iss.not_after = na;
}

static void
ca_free(struct ca *c)
{
	gnutls_x509_crt_deinit(c->iss.crt);
	gnutls_privkey_deinit(c->iss.key);
	gnutls_x509_privkey_deinit(c->x);
}

struct leaf {
	gnutls_x509_crt_t	 crt;
	gnutls_x509_privkey_t	 x;
	unsigned char		 serial[CA_SERIAL_MAX];
	size_t			 serial_len;
};

static void
leaf_make(struct leaf *l, const struct ca *c, const char *dns)
{
	const char *v[1] = { dns };
	struct ca_names nm;
	struct ca_leaf lf;
	gnutls_privkey_t k = NULL;
	gnutls_pubkey_t pub = NULL;

	memset(l, 0, sizeof(*l));
	memset(&lf, 0, sizeof(lf));
	if (ca_names_classify(v, 1, &nm) != 0 ||
	    ca_key_generate(CA_KEY_EC_P256, &l->x) != 0 ||
	    ca_key_wrap(l->x, 0, &k) != 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, k, 0, 0) < 0)
		bail("leaf key");
	lf.cn = dns;
	lf.names = &nm;
	lf.pub = pub;
	lf.not_before = now - 60;
	lf.not_after = now + 86400;
	if (ca_x509_issue(&c->iss, &lf, &l->crt, l->serial, &l->serial_len) != 0)
		bail("leaf");
	ca_names_free(&nm);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(k);
}

static void
leaf_free(struct leaf *l)
{
	gnutls_x509_crt_deinit(l->crt);
	gnutls_x509_privkey_deinit(l->x);
}

/* DER walking, independent of lib/crl.c */

static int
tlv(const unsigned char **p, const unsigned char *end, unsigned *tag,
    size_t *len)
{
	const unsigned char *q = *p;
	size_t n, v = 0;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if (*q < 0x80)
		v = *q++;
	else {
		n = *q++ & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		while (n-- > 0)
			v = v << 8 | *q++;
	}
	if ((size_t)(end - q) < v)
		return -1;
	*p = q;
	*len = v;
	return 0;
}

/* The tags of the TBSCertList's elements, as a hex string "02303017...". */
static char *
tbs_tags(const gnutls_datum_t *der)
{
	static char buf[64];
	const unsigned char *p = der->data, *end = p + der->size, *tend;
	unsigned tag;
	size_t len, n = 0;

	buf[0] = '\0';
	if (tlv(&p, end, &tag, &len) != 0 || tag != 0x30 ||
	    tlv(&p, end, &tag, &len) != 0 || tag != 0x30)
		return buf;
	tend = p + len;
	while (p < tend && n + 3 < sizeof(buf)) {
		if (tlv(&p, tend, &tag, &len) != 0)
			break;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%02x", tag);
		p += len;
	}
	return buf;
}

/* Whether the DER decodes strictly as type and encodes back identically. */
static int
der_roundtrip(const char *type, const gnutls_datum_t *der)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
	asn1_node n = NULL;
	unsigned char *buf;
	int len = (int)der->size, len2 = 0, r, same;

	if (asn1_create_element(tree, type, &n) != ASN1_SUCCESS)
		bail("asn1_create_element");
	if ((r = asn1_der_decoding2(&n, der->data, &len,
	    ASN1_DECODE_FLAG_STRICT_DER, err)) != ASN1_SUCCESS) {
		printf("# decoding %s: %s %s\n", type, asn1_strerror(r), err);
		return 0;
	}
	asn1_der_coding(n, "", NULL, &len2, err);
	if ((buf = malloc((size_t)len2)) == NULL ||
	    asn1_der_coding(n, "", buf, &len2, err) != ASN1_SUCCESS)
		bail("asn1_der_coding");
	same = (size_t)len2 == der->size && memcmp(buf, der->data, der->size) == 0;
	free(buf);
	asn1_delete_structure(&n);
	return same;
}

static gnutls_x509_crl_t
crl_import(const gnutls_datum_t *der)
{
	gnutls_x509_crl_t crl;

	if (gnutls_x509_crl_init(&crl) < 0)
		bail("crl init");
	if (gnutls_x509_crl_import(crl, der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crl_deinit(crl);
		return NULL;
	}
	return crl;
}

static int
crl_verifies(gnutls_x509_crl_t crl, gnutls_x509_crt_t ca)
{
	unsigned status = ~0u;

	if (gnutls_x509_crl_verify(crl, &ca, 1, 0, &status) < 0)
		return 0;
	return status == 0;
}

static void
crl_write_pem(const char *name, const gnutls_datum_t *der)
{
	gnutls_datum_t pem = { NULL, 0 };

	if (gnutls_pem_base64_encode2("X509 CRL", der, &pem) < 0)
		bail("CRL PEM");
	write_file(name, pem.data, pem.size);
	gnutls_free(pem.data);
}

/* Tests: reasons */

static void
test_reasons(void)
{
	static const struct {
		const char	*in;
		int		 code;
	} good[] = {
		{ "unspecified", 0 }, { "keyCompromise", 1 },
		{ "cACompromise", 2 }, { "affiliationChanged", 3 },
		{ "superseded", 4 }, { "cessationOfOperation", 5 },
		{ "certificateHold", 6 }, { "removeFromCRL", 8 },
		{ "privilegeWithdrawn", 9 }, { "aACompromise", 10 },
		{ "KeyCompromise", 1 }, { "keycompromise", 1 },
		{ "0", 0 }, { "1", 1 }, { "6", 6 }, { "8", 8 }, { "10", 10 },
	};
	static const char *bad[] = {
		"", "7", "11", "-1", "01", "+1", " 1", "1 ", "100", "key",
		"keyCompromise ", "1x", "99",
	};
	size_t i;
	int code, rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		code = -5;
		rc = ca_reason_parse(good[i].in, &code);
		ok(rc == 0 && code == good[i].code, "reason '%s' is %d",
		    good[i].in, good[i].code);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		code = -5;
		rc = ca_reason_parse(bad[i], &code);
		ok(rc == CA_ERR_INVAL && code == CA_REASON_NONE,
		    "reason '%s' refused", bad[i]);
	}
	is_str(ca_reason_name(1), "keyCompromise", "name of 1");
	is_str(ca_reason_name(10), "aACompromise", "name of 10");
	is_str(ca_reason_name(8), "removeFromCRL", "name of 8");
	is_str(ca_reason_name(7), "unspecified", "name of 7");
	is_str(ca_reason_name(-1), "unspecified", "name of NONE");
	is_str(ca_reason_name(42), "unspecified", "name of 42");
	for (i = 0; i <= 10; i++) {
		if (i == 7)
			continue;
		ok(ca_reason_parse(ca_reason_name((int)i), &code) == 0 &&
		    code == (int)i, "name of %zu parses back", i);
	}
}

/* Tests: CRLs */

static struct ca root, inter;
static struct leaf leaves[4];

static void
test_crl_empty(void)
{
	unsigned char id[64], aki[64];
	size_t idlen = sizeof(id), akilen = sizeof(aki);
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crl_t crl;
	unsigned crit;
	char *out = NULL;
	time_t tu = now - 60, nu = now + 7 * 86400;
	int rc, st;

	rc = ca_crl_build(&inter.iss, NULL, 0, 1, tu, nu, &der);
	is_int(rc, 0, "empty CRL built");
	if (rc != 0)
		printf("# %s\n", ca_errmsg());
	if (rc != 0)
		return;
	is_str(tbs_tags(&der), "0230301717a0",
	    "empty CRL: no revokedCertificates field");
	ok(der_roundtrip("PKIX-CA.CertificateList", &der),
	    "empty CRL is canonical DER");
	if ((crl = crl_import(&der)) == NULL) {
		ok(0, "GnuTLS imports the empty CRL");
		gnutls_free(der.data);
		return;
	}
	ok(1, "GnuTLS imports the empty CRL");
	is_int(gnutls_x509_crl_get_version(crl), 2, "version 2");
	is_int(gnutls_x509_crl_get_crt_count(crl), 0, "no entries");
	ok(crl_verifies(crl, inter.iss.crt), "signed by the intermediate");
	ok(!crl_verifies(crl, root.iss.crt), "not by the root");
	is_int(gnutls_x509_crl_check_issuer(crl, inter.iss.crt), 1,
	    "issuer is the intermediate's subject");
	is_int(gnutls_x509_crl_get_this_update(crl), tu, "thisUpdate");
	is_int(gnutls_x509_crl_get_next_update(crl), nu, "nextUpdate");
	is_int(gnutls_x509_crl_get_signature_algorithm(crl),
	    GNUTLS_SIGN_ECDSA_SHA256, "ecdsa-with-SHA256");
	{
		unsigned char num[16];
		size_t nlen = sizeof(num);

		rc = gnutls_x509_crl_get_number(crl, num, &nlen, &crit);
		ok(rc >= 0 && nlen == 1 && num[0] == 1 && crit == 0,
		    "CRL number 1, not critical");
	}
	rc = gnutls_x509_crl_get_authority_key_id(crl, aki, &akilen, &crit);
	ok(rc >= 0 && gnutls_x509_crt_get_subject_key_id(inter.iss.crt, id,
	    &idlen, NULL) >= 0 && akilen == idlen &&
	    memcmp(aki, id, idlen) == 0 && crit == 0,
	    "AKI is the intermediate's SKI, not critical");
	gnutls_x509_crl_deinit(crl);

	write_file("empty.crl", der.data, der.size);
	st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout "
	    "-text", path_of("empty.crl"), path_of("inter.pem"));
	ok(st == 0 && has(out, "verify OK"), "openssl: verify OK");
	ok(has(out, "No Revoked Certificates."), "openssl: no entries");
	ok(has(out, "X509v3 CRL Number") && has(out,
	    "X509v3 Authority Key Identifier"), "openssl: extensions");
	ok(has(out, "Version 2 (0x1)"), "openssl: version 2");
	ok(has(out, "Signature Algorithm: ecdsa-with-SHA256"),
	    "openssl: ecdsa-with-SHA256");
	if (st != 0 || !has(out, "verify OK"))
		printf("# %s\n", out);
	free(out);
	st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout",
	    path_of("empty.crl"), path_of("root.pem"));
	ok(!has(out, "verify OK"), "openssl: not verified by the root");
	free(out);
	gnutls_free(der.data);
}

static void
test_crl_entries(void)
{
	struct ca_crl_entry e[3];
	gnutls_datum_t der1 = { NULL, 0 }, der3 = { NULL, 0 };
	gnutls_x509_crl_t crl;
	unsigned char buf[64];
	size_t size;
	time_t t, tu = now - 60, nu = (time_t)2695000000;	/* 2055 */
	time_t t2051 = (time_t)2556143999;	/* 2050-12-31 23:59:59 */
	char *out = NULL, *hex;
	int i, rc, st;

	/* One entry. */
	memset(e, 0, sizeof(e));
	e[0].serial = leaves[0].serial;
	e[0].serial_len = leaves[0].serial_len;
	e[0].revoked_at = now - 120;
	e[0].reason = CA_REASON_KEY_COMPROMISE;
	rc = ca_crl_build(&inter.iss, e, 1, 2, tu, now + 86400, &der1);
	is_int(rc, 0, "one-entry CRL built");
	if (rc != 0)
		return;
	is_str(tbs_tags(&der1), "0230301717" "30" "a0",
	    "one entry: revokedCertificates before crlExtensions");
	ok(der_roundtrip("PKIX-CA.CertificateList", &der1),
	    "one-entry CRL is canonical DER");
	crl = crl_import(&der1);
	ok(crl != NULL, "GnuTLS imports it");
	if (crl != NULL) {
		is_int(gnutls_x509_crl_get_crt_count(crl), 1, "one entry");
		size = sizeof(buf);
		rc = gnutls_x509_crl_get_crt_serial(crl, 0, buf, &size, &t);
		ok(rc >= 0 && size == leaves[0].serial_len &&
		    memcmp(buf, leaves[0].serial, size) == 0,
		    "the entry's serial");
		is_int(t, now - 120, "the entry's revocation date");
		ok(crl_verifies(crl, inter.iss.crt), "signature verifies");
		gnutls_x509_crl_deinit(crl);
	}
	write_file("one.crl", der1.data, der1.size);
	st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout "
	    "-text", path_of("one.crl"), path_of("inter.pem"));
	hex = upper_hex(leaves[0].serial, leaves[0].serial_len);
	ok(st == 0 && has(out, "verify OK"), "openssl: one entry verify OK");
	ok(has(out, hex), "openssl: serial %s listed", hex);
	ok(has(out, "X509v3 CRL Reason Code") && has(out, "Key Compromise"),
	    "openssl: reason Key Compromise");
	free(hex);
	free(out);

	/* openssl verify -crl_check with the leaves. */
	crl_write_pem("one.pem", &der1);
	st = run(&out, "openssl verify -crl_check -CAfile '%s' -CRLfile '%s' "
	    "'%s'", path_of("chain.pem"), path_of("one.pem"),
	    path_of("leaf0.pem"));
	ok(st != 0 && has(out, "certificate revoked"),
	    "openssl verify: leaf0 revoked");
	free(out);
	st = run(&out, "openssl verify -crl_check -CAfile '%s' -CRLfile '%s' "
	    "'%s'", path_of("chain.pem"), path_of("one.pem"),
	    path_of("leaf1.pem"));
	ok(st == 0 && has(out, ": OK"), "openssl verify: leaf1 fine");
	if (st != 0)
		printf("# %s\n", out);
	free(out);

	/* Three entries, one without reason, one revoked in 2050. */
	for (i = 0; i < 3; i++) {
		e[i].serial = leaves[i].serial;
		e[i].serial_len = leaves[i].serial_len;
		e[i].revoked_at = now - 1000 * (i + 1);
	}
	e[0].reason = CA_REASON_SUPERSEDED;
	e[1].reason = CA_REASON_NONE;
	e[2].reason = CA_REASON_CESSATION_OF_OPERATION;
	e[2].revoked_at = t2051;
	rc = ca_crl_build(&inter.iss, e, 3, 3, tu, nu, &der3);
	is_int(rc, 0, "three-entry CRL built");
	if (rc != 0)
		goto out;
	ok(der_roundtrip("PKIX-CA.CertificateList", &der3),
	    "three-entry CRL is canonical DER");
	is_str(tbs_tags(&der3), "0230301718" "30" "a0",
	    "nextUpdate 2055 is a GeneralizedTime");
	crl = crl_import(&der3);
	ok(crl != NULL, "GnuTLS imports it");
	if (crl != NULL) {
		is_int(gnutls_x509_crl_get_crt_count(crl), 3, "three entries");
		for (i = 0; i < 3; i++) {
			size = sizeof(buf);
			rc = gnutls_x509_crl_get_crt_serial(crl, (unsigned)i,
			    buf, &size, &t);
			ok(rc >= 0 && size == leaves[i].serial_len &&
			    memcmp(buf, leaves[i].serial, size) == 0 &&
			    t == e[i].revoked_at, "entry %d: serial and date",
			    i);
		}
		is_int(gnutls_x509_crl_get_next_update(crl), nu,
		    "nextUpdate in 2055");
		{
			unsigned char num[16];
			size_t nlen = sizeof(num);

			ok(gnutls_x509_crl_get_number(crl, num, &nlen, NULL) >=
			    0 && nlen == 1 && num[0] == 3, "CRL number 3");
		}
		ok(crl_verifies(crl, inter.iss.crt), "signature verifies");
		gnutls_x509_crl_deinit(crl);
	}
	write_file("three.crl", der3.data, der3.size);
	st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout "
	    "-text", path_of("three.crl"), path_of("inter.pem"));
	ok(st == 0 && has(out, "verify OK"), "openssl: three entries verify OK");
	is_int(count_of(out, "Serial Number:"), 3, "openssl: three serials");
	is_int(count_of(out, "X509v3 CRL Reason Code"), 2,
	    "openssl: two reason codes");
	ok(has(out, "Superseded") && has(out, "Cessation Of Operation"),
	    "openssl: Superseded, Cessation Of Operation");
	ok(has(out, "Dec 31 23:59:59 2050 GMT"),
	    "openssl: revocation date in 2050");
	ok(has(out, "Next Update: ") && has(out, "2055 GMT"),
	    "openssl: next update in 2055");
	free(out);
out:
	gnutls_free(der1.data);
	gnutls_free(der3.data);
}

static void
test_crl_all_reasons(void)
{
	static const char *names[] = {
		"Unspecified", "Key Compromise", "CA Compromise",
		"Affiliation Changed", "Superseded", "Cessation Of Operation",
		"Certificate Hold", NULL, "Remove From CRL",
		"Privilege Withdrawn", "AA Compromise",
	};
	struct ca_crl_entry e[10];
	unsigned char serials[10][2];
	gnutls_datum_t der = { NULL, 0 };
	char *out = NULL;
	int i, n = 0, st;

	for (i = 0; i <= 10; i++) {
		if (i == 7)
			continue;
		serials[n][0] = 0x10;
		serials[n][1] = (unsigned char)i;
		e[n].serial = serials[n];
		e[n].serial_len = 2;
		e[n].revoked_at = now - 10;
		e[n].reason = i;
		n++;
	}
	if (ca_crl_build(&inter.iss, e, (size_t)n, 4, now, now + 3600,
	    &der) != 0)
		bail("all reasons");
	write_file("reasons.crl", der.data, der.size);
	st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout "
	    "-text", path_of("reasons.crl"), path_of("inter.pem"));
	ok(st == 0 && has(out, "verify OK"), "all reasons: verify OK");
	for (i = 0; i <= 10; i++)
		if (names[i] != NULL)
			ok(has(out, names[i]), "openssl: reason %d is %s", i,
			    names[i]);
	free(out);
	gnutls_free(der.data);
}

static void
test_crl_invalid(void)
{
	static const unsigned char s_ok[] = { 0x01 },
	    s_pad[] = { 0x00, 0x01 }, s_neg[] = { 0x80 },
	    s_long[22] = { 0x01 };
	struct ca_crl_entry e;
	static unsigned char junk[] = "junk";
	gnutls_datum_t der = { junk, 4 };
	int rc;

	memset(&e, 0, sizeof(e));
	e.serial = s_ok;
	e.serial_len = 1;
	e.revoked_at = now;
	e.reason = CA_REASON_NONE;
#define BAD(what) do {							\
	rc = ca_crl_build(&inter.iss, &e, 1, 5, now, now + 60, &der);	\
	ok(rc == CA_ERR_INVAL && der.data == NULL && der.size == 0,	\
	    "refused: %s", what);					\
} while (0)
	e.serial_len = 0;
	BAD("empty serial");
	e.serial = s_pad;
	e.serial_len = 2;
	BAD("serial with a needless leading zero");
	e.serial = s_neg;
	e.serial_len = 1;
	BAD("negative serial");
	e.serial = s_long;
	e.serial_len = sizeof(s_long);
	BAD("22-octet serial");
	e.serial = s_ok;
	e.serial_len = 1;
	e.reason = 7;
	BAD("reason 7");
	e.reason = 11;
	BAD("reason 11");
	e.reason = -2;
	BAD("reason -2");
	e.reason = CA_REASON_NONE;
	e.revoked_at = (time_t)253402300800;	/* year 10000 */
	BAD("revocation in year 10000");
	e.revoked_at = now;
#undef BAD
	rc = ca_crl_build(&inter.iss, &e, 1, 5, now, now, &der);
	ok(rc == CA_ERR_INVAL, "refused: nextUpdate == thisUpdate");
	rc = ca_crl_build(&inter.iss, NULL, 1, 5, now, now + 60, &der);
	ok(rc == CA_ERR_INVAL, "refused: entries NULL with n 1");
	rc = ca_crl_build(&inter.iss, &e, 1, UINT64_MAX, now, now + 60, &der);
	ok(rc == 0, "CRL number 2^64-1 accepted");
	if (rc == 0) {
		gnutls_x509_crl_t crl = crl_import(&der);
		unsigned char num[16];
		size_t nlen = sizeof(num);

		ok(crl != NULL && gnutls_x509_crl_get_number(crl, num, &nlen,
		    NULL) >= 0 && nlen == 9 && num[0] == 0 && num[1] == 0xff &&
		    num[8] == 0xff, "CRL number 2^64-1 is a positive INTEGER");
		if (crl != NULL)
			gnutls_x509_crl_deinit(crl);
		gnutls_free(der.data);
	}
}

/* Serials of every length 1..21 with and without the high bit. */
static void
make_serial(unsigned char *s, size_t *len, size_t i)
{
	size_t k, l = 1 + i % 20;

	for (k = 0; k < l; k++)
		s[k] = (unsigned char)(i * 31 + k * 7 + 1);
	s[0] = (unsigned char)((i & 1) ? (s[0] | 0x80) : (s[0] & 0x7f));
	if (s[0] == 0 && l > 1)
		s[0] = 1;
	if (s[0] & 0x80) {
		memmove(s + 1, s, l);
		s[0] = 0;
		l++;
	}
	*len = l;
}

static void
test_crl_many(size_t n, int timed)
{
	struct ca_crl_entry *e;
	unsigned char (*s)[24], buf[32];
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crl_t crl;
	double t0, dt;
	size_t i, size, bad = 0;
	time_t t;
	char name[64], *out = NULL;
	int rc, st, count;

	if ((e = calloc(n, sizeof(*e))) == NULL ||
	    (s = calloc(n, sizeof(*s))) == NULL)
		bail("calloc");
	for (i = 0; i < n; i++) {
		make_serial(s[i], &size, i);
		e[i].serial = s[i];
		e[i].serial_len = size;
		e[i].revoked_at = (i % 97 == 0) ? (time_t)2600000000 + (time_t)i :
		    now - (time_t)i;
		e[i].reason = (i % 11 == 7) ? CA_REASON_NONE : (int)(i % 11);
	}
	t0 = mono();
	rc = ca_crl_build(&inter.iss, e, n, n, now, now + 86400, &der);
	dt = mono() - t0;
	is_int(rc, 0, "%zu-entry CRL built", n);
	if (rc != 0)
		goto out;
	printf("# %zu-entry CRL: %u bytes in %.3f s\n", n, der.size, dt);
	if (timed)
		ok(dt < 2.0, "%zu entries in under 2 s (%.3f s)", n, dt);
	if (!timed)
		ok(der_roundtrip("PKIX-CA.CertificateList", &der),
		    "%zu-entry CRL is canonical DER", n);
	/*
	 * GnuTLS's import of a large CRL is quadratic in libtasn1 (100,000
	 * entries: 6 minutes here); the big one is left to openssl.
	 */
	t0 = mono();
	crl = timed ? NULL : crl_import(&der);
	if (!timed)
		ok(crl != NULL, "GnuTLS imports the %zu-entry CRL", n);
	if (crl != NULL) {
		count = gnutls_x509_crl_get_crt_count(crl);
		is_int(count, n, "GnuTLS counts %zu entries", n);
		for (i = 0; i < n && i < (timed ? 1000 : n); i++) {
			size = sizeof(buf);
			if (gnutls_x509_crl_get_crt_serial(crl, (unsigned)i,
			    buf, &size, &t) < 0 || size != e[i].serial_len ||
			    memcmp(buf, e[i].serial, size) != 0 ||
			    t != e[i].revoked_at)
				bad++;
		}
		is_int(bad, 0, "serials and dates read back");
		ok(crl_verifies(crl, inter.iss.crt), "signature verifies");
		gnutls_x509_crl_deinit(crl);
	}
	snprintf(name, sizeof(name), "many%zu.crl", n);
	write_file(name, der.data, der.size);
	t0 = mono();
	st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' -noout",
	    path_of(name), path_of("inter.pem"));
	ok(st == 0 && has(out, "verify OK"), "openssl: %zu entries verify OK",
	    n);
	free(out);
	st = run(&out, "openssl crl -inform DER -in '%s' -noout -text | head -n 24",
	    path_of(name));
	ok(has(out, "Certificate Revocation List (CRL):") &&
	    has(out, "Revoked Certificates:") && has(out, "Serial Number:"),
	    "openssl prints the %zu-entry CRL", n);
	free(out);
	st = run(&out, "openssl crl -inform DER -in '%s' -noout -text | "
	    "grep -c 'Serial Number:'", path_of(name));
	is_int(atol(out), n, "openssl lists %zu serials", n);
	free(out);
	if (timed)
		printf("# openssl checks: %.3f s\n", mono() - t0);
out:
	gnutls_free(der.data);
	free(e);
	free(s);
}

static void
test_crl_key_types(void)
{
	static const struct {
		enum ca_key_type	 t;
		const char		*name;
		gnutls_sign_algorithm_t	 sign;
		const char		*text;
		const unsigned char	*algid;
		size_t			 algid_len;
	} kt[] = {
		{ CA_KEY_EC_P384, "ec-p384", GNUTLS_SIGN_ECDSA_SHA384,
		    "ecdsa-with-SHA384", (const unsigned char *)
		    "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03", 12 },
		{ CA_KEY_ED25519, "ed25519", GNUTLS_SIGN_EDDSA_ED25519,
		    "ED25519", (const unsigned char *)
		    "\x30\x05\x06\x03\x2b\x65\x70", 7 },
		{ CA_KEY_RSA_3072, "rsa-3072", GNUTLS_SIGN_RSA_SHA256,
		    "sha256WithRSAEncryption", (const unsigned char *)
		    "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
		    "\x05\x00", 15 },
	};
	struct ca c;
	struct leaf l;
	struct ca_crl_entry e;
	struct ca_ocsp_request req;
	struct ca_ocsp_single s;
	gnutls_datum_t der = { NULL, 0 }, resp = { NULL, 0 };
	gnutls_x509_crl_t crl;
	unsigned char *rq;
	size_t i, rqlen;
	char *out = NULL;
	int rc, st;

	for (i = 0; i < sizeof(kt) / sizeof(kt[0]); i++) {
		ca_make(&c, kt[i].t, kt[i].name, NULL);
		leaf_make(&l, &c, "kt.example");
		write_pem("kt-ca.pem", c.iss.crt);
		write_pem("kt-leaf.pem", l.crt);
		memset(&e, 0, sizeof(e));
		e.serial = l.serial;
		e.serial_len = l.serial_len;
		e.revoked_at = now - 5;
		e.reason = CA_REASON_AFFILIATION_CHANGED;
		rc = ca_crl_build(&c.iss, &e, 1, 9, now, now + 3600, &der);
		is_int(rc, 0, "%s: CRL built", kt[i].name);
		if (rc != 0)
			goto next;
		is_int(count_bytes(&der, kt[i].algid, kt[i].algid_len), 2,
		    "%s: AlgorithmIdentifier DER twice", kt[i].name);
		crl = crl_import(&der);
		ok(crl != NULL && crl_verifies(crl, c.iss.crt) &&
		    gnutls_x509_crl_get_signature_algorithm(crl) ==
		    (int)kt[i].sign, "%s: GnuTLS verifies the CRL", kt[i].name);
		if (crl != NULL)
			gnutls_x509_crl_deinit(crl);
		write_file("kt.crl", der.data, der.size);
		st = run(&out, "openssl crl -inform DER -in '%s' -CAfile '%s' "
		    "-noout -text", path_of("kt.crl"), path_of("kt-ca.pem"));
		ok(st == 0 && has(out, "verify OK") && has(out, kt[i].text) &&
		    has(out, "Affiliation Changed"),
		    "%s: openssl verifies the CRL (%s)", kt[i].name, kt[i].text);
		free(out);

		/* The same key signs OCSP responses. */
		st = run(&out, "openssl ocsp -issuer '%s' -cert '%s' -reqout "
		    "'%s'", path_of("kt-ca.pem"), path_of("kt-leaf.pem"),
		    path_of("kt.req"));
		free(out);
		rq = read_file("kt.req", &rqlen);
		rc = ca_ocsp_request_parse(rq, rqlen, &req);
		free(rq);
		ok(rc == 0 && req.n == 1 && ca_ocsp_certid_matches(&req.ids[0],
		    &c.iss) == 1, "%s: request parsed and matched", kt[i].name);
		memset(&s, 0, sizeof(s));
		s.id = &req.ids[0];
		s.status = CA_OCSP_REVOKED;
		s.revoked_at = now - 5;
		s.reason = CA_REASON_AFFILIATION_CHANGED;
		s.this_update = now - 5;
		s.next_update = now + 3600;
		rc = ca_ocsp_response_build(&c.iss, &s, 1, req.nonce,
		    req.nonce_len, now, &resp);
		is_int(rc, 0, "%s: OCSP response built", kt[i].name);
		if (rc == 0) {
			is_int(count_bytes(&resp, kt[i].algid,
			    kt[i].algid_len), 1,
			    "%s: response AlgorithmIdentifier DER", kt[i].name);
			write_file("kt.resp", resp.data, resp.size);
			st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' "
			    "-VAfile '%s' -CAfile '%s' -resp_text",
			    path_of("kt.resp"), path_of("kt.req"),
			    path_of("kt-ca.pem"), path_of("kt-ca.pem"));
			ok(st == 0 && has(out, "Response verify OK") &&
			    has(out, "Cert Status: revoked") &&
			    has(out, "affiliationChanged") &&
			    !has(out, "WARNING") && !has(out, "Nonce Verify"),
			    "%s: openssl verifies the OCSP response",
			    kt[i].name);
			if (st != 0)
				printf("# %s\n", out);
			free(out);
		}
		gnutls_free(resp.data);
		resp.data = NULL;
next:
		gnutls_free(der.data);
		der.data = NULL;
		leaf_free(&l);
		ca_free(&c);
	}
}

/* Tests: OCSP */

static unsigned char *
openssl_req(const char *name, const char *opts, const char *certs,
    size_t *len)
{
	char *out = NULL;
	int st;

	st = run(&out, "openssl ocsp -issuer '%s' %s %s -reqout '%s'",
	    path_of("inter.pem"), opts, certs, path_of(name));
	if (st != 0) {
		printf("# %s\n", out);
		bail("openssl ocsp request");
	}
	free(out);
	return read_file(name, len);
}

static char *
cert_args(int n)
{
	static char buf[8192];
	size_t k = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		char f[32];

		snprintf(f, sizeof(f), "leaf%d.pem", i % 4);
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "-cert '%s' ",
		    path_of(f));
	}
	return buf;
}

static void
test_ocsp_openssl(void)
{
	struct ca_ocsp_request req;
	struct ca_ocsp_single s[3];
	gnutls_datum_t resp = { NULL, 0 };
	unsigned char *rq;
	size_t len, i;
	char *out = NULL;
	int rc, st, all;

	rq = openssl_req("req3.der", "", cert_args(3), &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	free(rq);
	is_int(rc, 0, "openssl request for three certificates parsed");
	if (rc != 0)
		return;
	is_int(req.n, 3, "three CertIDs");
	all = 1;
	for (i = 0; i < 3; i++)
		all &= req.ids[i].hash == GNUTLS_DIG_SHA1 &&
		    req.ids[i].hash_len == 20 &&
		    req.ids[i].serial_len == leaves[i].serial_len &&
		    memcmp(req.ids[i].serial, leaves[i].serial,
		    leaves[i].serial_len) == 0;
	ok(all, "SHA-1 CertIDs with the leaves' serials");
	ok(req.has_nonce && req.nonce_len == 18 && req.nonce[0] == 0x04 &&
	    req.nonce[1] == 16, "openssl's nonce: OCTET STRING of 16 octets");
	is_int(ca_ocsp_certid_matches(&req.ids[0], &inter.iss), 1,
	    "CertID matches the intermediate");
	is_int(ca_ocsp_certid_matches(&req.ids[0], &root.iss), 0,
	    "CertID does not match the root");

	memset(s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		s[i].id = &req.ids[i];
		s[i].this_update = now - 60;
		s[i].next_update = now + 3600;
		s[i].reason = CA_REASON_NONE;
	}
	s[0].status = CA_OCSP_GOOD;
	s[1].status = CA_OCSP_REVOKED;
	s[1].revoked_at = now - 600;
	s[1].reason = CA_REASON_KEY_COMPROMISE;
	s[2].status = CA_OCSP_UNKNOWN;
	s[2].next_update = 0;
	rc = ca_ocsp_response_build(&inter.iss, s, 3, req.nonce, req.nonce_len,
	    now, &resp);
	is_int(rc, 0, "response built: good, revoked, unknown");
	if (rc != 0)
		return;
	ok(der_roundtrip("PKIX-CA.OCSPResponse", &resp),
	    "response is canonical DER");
	write_file("resp3.der", resp.data, resp.size);
	st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' -VAfile '%s' "
	    "-CAfile '%s' -resp_text", path_of("resp3.der"),
	    path_of("req3.der"), path_of("inter.pem"), path_of("chain.pem"));
	ok(st == 0 && has(out, "Response verify OK"),
	    "openssl: Response verify OK");
	ok(!has(out, "WARNING") && !has(out, "Nonce Verify error"),
	    "openssl: the nonce checks");
	ok(has(out, "OCSP Nonce"), "openssl: nonce in the response");
	ok(has(out, "Responder Id: ") && has(out, "Version: 1 (0x0)"),
	    "openssl: responder by key, version 1");
	ok(has(out, "Cert Status: good") && has(out, "Cert Status: revoked") &&
	    has(out, "Cert Status: unknown"), "openssl: the three statuses");
	ok(has(out, "Revocation Reason: keyCompromise (0x1)"),
	    "openssl: revocation reason");
	ok(!has(out, "Certificate:"), "openssl: no certificates included");
	if (st != 0 || !has(out, "Response verify OK"))
		printf("# %s\n", out);
	free(out);
	st = run(&out, "openssl ocsp -respin '%s' -issuer '%s' %s -VAfile '%s' "
	    "-CAfile '%s' -no_nonce", path_of("resp3.der"),
	    path_of("inter.pem"), cert_args(3), path_of("inter.pem"),
	    path_of("chain.pem"));
	ok(st == 0 && has(out, "leaf0.pem: good") &&
	    has(out, "leaf1.pem: revoked") && has(out, "leaf2.pem: unknown") &&
	    has(out, "Reason: keyCompromise"), "openssl: summary per certificate");
	if (st != 0)
		printf("# %s\n", out);
	free(out);
	/* Signed by the root instead: openssl must refuse it. */
	st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' -VAfile '%s' "
	    "-CAfile '%s'", path_of("resp3.der"), path_of("req3.der"),
	    path_of("root.pem"), path_of("chain.pem"));
	ok(!has(out, "Response verify OK"),
	    "openssl: refuses it with the root as responder");
	free(out);
	st = run(&out, "ocsptool --verify-response --load-signer '%s' "
	    "--infile '%s'", path_of("inter.pem"), path_of("resp3.der"));
	ok(st == 0 && has(out, "Success"), "ocsptool --verify-response");
	if (st != 0)
		printf("# %s\n", out);
	free(out);
	gnutls_free(resp.data);

	/* Without a nonce. */
	rq = openssl_req("req-nn.der", "-no_nonce", cert_args(1), &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	free(rq);
	ok(rc == 0 && req.n == 1 && !req.has_nonce && req.nonce_len == 0,
	    "request without nonce");
	s[0].id = &req.ids[0];
	rc = ca_ocsp_response_build(&inter.iss, s, 1, NULL, 0, now, &resp);
	is_int(rc, 0, "response without nonce built");
	write_file("resp-nn.der", resp.data, resp.size);
	st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' -VAfile '%s' "
	    "-CAfile '%s' -resp_text", path_of("resp-nn.der"),
	    path_of("req-nn.der"), path_of("inter.pem"), path_of("chain.pem"));
	ok(st == 0 && has(out, "Response verify OK") && !has(out, "WARNING") &&
	    !has(out, "OCSP Nonce") && has(out, "Cert Status: good"),
	    "openssl: response without nonce verifies");
	free(out);
	gnutls_free(resp.data);

	/* Nonce missing from the response: openssl must notice. */
	rq = openssl_req("req-n.der", "", cert_args(1), &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	free(rq);
	s[0].id = &req.ids[0];
	rc = ca_ocsp_response_build(&inter.iss, s, 1, NULL, 0, now, &resp);
	write_file("resp-n.der", resp.data, resp.size);
	st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' -VAfile '%s' "
	    "-CAfile '%s'", path_of("resp-n.der"), path_of("req-n.der"),
	    path_of("inter.pem"), path_of("chain.pem"));
	ok(has(out, "WARNING: no nonce in response"),
	    "openssl: notices a missing nonce (the oracle works)");
	free(out);
	gnutls_free(resp.data);

	/* Other hash algorithms. */
	{
		static const struct {
			const char			*opt;
			gnutls_digest_algorithm_t	 dig;
			size_t				 len;
			const char			*text;
		} h[] = {
			{ "-sha256", GNUTLS_DIG_SHA256, 32, "sha256" },
			{ "-sha384", GNUTLS_DIG_SHA384, 48, "sha384" },
			{ "-sha512", GNUTLS_DIG_SHA512, 64, "sha512" },
		};

		for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
			rq = openssl_req("req-h.der", h[i].opt, cert_args(2),
			    &len);
			rc = ca_ocsp_request_parse(rq, len, &req);
			free(rq);
			ok(rc == 0 && req.n == 2 && req.ids[0].hash == h[i].dig &&
			    req.ids[0].hash_len == h[i].len &&
			    ca_ocsp_certid_matches(&req.ids[1], &inter.iss) == 1,
			    "%s request parsed and matched", h[i].text);
			s[0].id = &req.ids[0];
			s[1].id = &req.ids[1];
			rc = ca_ocsp_response_build(&inter.iss, s, 2, req.nonce,
			    req.nonce_len, now, &resp);
			write_file("resp-h.der", resp.data, resp.size);
			st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' "
			    "-VAfile '%s' -CAfile '%s' -resp_text",
			    path_of("resp-h.der"), path_of("req-h.der"),
			    path_of("inter.pem"), path_of("chain.pem"));
			ok(rc == 0 && st == 0 && has(out, "Response verify OK") &&
			    !has(out, "WARNING") &&
			    count_of(out, h[i].text) >= 2,
			    "%s response verifies", h[i].text);
			free(out);
			gnutls_free(resp.data);
		}
	}

	/* A signed request: accepted, the signature ignored. */
	{
		gnutls_datum_t pem = { NULL, 0 };

		if (ca_key_export(leaves[0].x, NULL, &pem) != 0)
			bail("key export");
		write_file("leaf0.key", pem.data, pem.size);
		ca_free_secret(pem.data, pem.size);
		st = run(&out, "openssl ocsp -issuer '%s' %s -signer '%s' "
		    "-signkey '%s' -reqout '%s'", path_of("inter.pem"),
		    cert_args(1), path_of("leaf0.pem"), path_of("leaf0.key"),
		    path_of("req-s.der"));
		free(out);
		rq = read_file("req-s.der", &len);
		rc = ca_ocsp_request_parse(rq, len, &req);
		ok(st == 0 && rc == 0 && req.n == 1 && req.has_nonce,
		    "signed request parsed (%zu bytes)", len);
		free(rq);
	}

	/*
	 * Serials of 20 octets (the most RFC 5280 allows) and of 21: the
	 * longer one is a malformed request, not an internal error.
	 */
	rq = openssl_req("req-s20.der", "-serial "
	    "0x7f0102030405060708090a0b0c0d0e0f10111213", "", &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	ok(rc == 0 && req.n == 1 && req.ids[0].serial_len == 20,
	    "a 20-octet serial accepted");
	free(rq);
	rq = openssl_req("req-s21.der", "-serial "
	    "0x800102030405060708090a0b0c0d0e0f10111213", "", &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	ok(rc == CA_ERR_INVAL && strstr(ca_errmsg(), "malformed OCSP request: "
	    "serial number of 21 octets") != NULL,
	    "a 21-octet serial refused as malformed (%s)", ca_errmsg());
	free(rq);

	/* Nine certificates: over the limit. */
	rq = openssl_req("req9.der", "", cert_args(9), &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	ok(rc == CA_ERR_INVAL && req.n == 0, "nine CertIDs refused");
	free(rq);
	rq = openssl_req("req8.der", "", cert_args(8), &len);
	rc = ca_ocsp_request_parse(rq, len, &req);
	ok(rc == 0 && req.n == 8, "eight CertIDs accepted");
	free(rq);
}

static void
test_ocsp_gnutls(void)
{
	struct ca_ocsp_request req;
	struct ca_ocsp_single s[2];
	gnutls_ocsp_req_t greq = NULL;
	gnutls_ocsp_resp_t gresp = NULL;
	gnutls_datum_t rq = { NULL, 0 }, resp = { NULL, 0 }, gn = { NULL, 0 };
	gnutls_datum_t rn = { NULL, 0 }, rid = { NULL, 0 }, oid = { NULL, 0 };
	gnutls_datum_t in = { NULL, 0 }, ik = { NULL, 0 }, sn = { NULL, 0 };
	gnutls_digest_algorithm_t dig;
	unsigned cstatus, reason, verify = ~0u, crit;
	time_t tu, nu, rt;
	int rc, i;

	if (gnutls_ocsp_req_init(&greq) < 0 ||
	    gnutls_ocsp_req_add_cert(greq, GNUTLS_DIG_SHA1, inter.iss.crt,
	    leaves[0].crt) < 0 ||
	    gnutls_ocsp_req_add_cert(greq, GNUTLS_DIG_SHA256, inter.iss.crt,
	    leaves[1].crt) < 0 ||
	    gnutls_ocsp_req_randomize_nonce(greq) < 0 ||
	    gnutls_ocsp_req_export(greq, &rq) < 0 ||
	    gnutls_ocsp_req_get_nonce(greq, NULL, &gn) < 0)
		bail("GnuTLS OCSP request");
	write_file("greq.der", rq.data, rq.size);
	rc = ca_ocsp_request_parse(rq.data, rq.size, &req);
	is_int(rc, 0, "GnuTLS request parsed");
	if (rc != 0)
		goto out;
	ok(req.n == 2 && req.ids[0].hash == GNUTLS_DIG_SHA1 &&
	    req.ids[1].hash == GNUTLS_DIG_SHA256, "SHA-1 and SHA-256 CertIDs");
	ok(ca_ocsp_certid_matches(&req.ids[0], &inter.iss) == 1 &&
	    ca_ocsp_certid_matches(&req.ids[1], &inter.iss) == 1,
	    "both match the intermediate");
	ok(req.has_nonce && req.nonce_len == gn.size + 2 &&
	    req.nonce[0] == 0x04 && req.nonce[1] == gn.size &&
	    memcmp(req.nonce + 2, gn.data, gn.size) == 0,
	    "the nonce extnValue is GnuTLS's nonce in an OCTET STRING");

	memset(s, 0, sizeof(s));
	for (i = 0; i < 2; i++) {
		s[i].id = &req.ids[i];
		s[i].this_update = now - 60;
		s[i].next_update = now + 3600;
		s[i].reason = CA_REASON_NONE;
	}
	s[0].status = CA_OCSP_GOOD;
	s[1].status = CA_OCSP_REVOKED;
	s[1].revoked_at = now - 300;
	s[1].reason = CA_REASON_SUPERSEDED;
	rc = ca_ocsp_response_build(&inter.iss, s, 2, req.nonce, req.nonce_len,
	    now, &resp);
	is_int(rc, 0, "response to GnuTLS's request built");
	if (rc != 0)
		goto out;
	write_file("gresp.der", resp.data, resp.size);
	if (gnutls_ocsp_resp_init(&gresp) < 0)
		bail("ocsp resp init");
	is_int(gnutls_ocsp_resp_import(gresp, &resp), 0, "GnuTLS imports it");
	is_int(gnutls_ocsp_resp_get_status(gresp), GNUTLS_OCSP_RESP_SUCCESSFUL,
	    "status successful");
	ok(gnutls_ocsp_resp_get_response(gresp, &oid, NULL) >= 0 &&
	    oid.size == strlen(OID_BASIC) &&
	    memcmp(oid.data, OID_BASIC, oid.size) == 0,
	    "response type id-pkix-ocsp-basic");
	is_int(gnutls_ocsp_resp_get_version(gresp), 1, "version 1");
	is_int(gnutls_ocsp_resp_get_produced(gresp), now, "producedAt");
	rc = gnutls_ocsp_resp_verify_direct(gresp, inter.iss.crt, &verify, 0);
	ok(rc == 0 && verify == 0, "verify_direct against the intermediate");
	verify = ~0u;
	rc = gnutls_ocsp_resp_verify_direct(gresp, root.iss.crt, &verify, 0);
	ok(rc != 0 || verify != 0, "not against the root");
	rc = gnutls_ocsp_resp_get_single(gresp, 0, &dig, &in, &ik, &sn,
	    &cstatus, &tu, &nu, &rt, &reason);
	ok(rc == 0 && dig == GNUTLS_DIG_SHA1 && cstatus == GNUTLS_OCSP_CERT_GOOD &&
	    tu == now - 60 && nu == now + 3600 &&
	    sn.size == leaves[0].serial_len &&
	    memcmp(sn.data, leaves[0].serial, sn.size) == 0,
	    "single 0: SHA-1, good, times, serial");
	gnutls_free(in.data);
	gnutls_free(ik.data);
	gnutls_free(sn.data);
	in.data = ik.data = sn.data = NULL;
	rc = gnutls_ocsp_resp_get_single(gresp, 1, &dig, &in, &ik, &sn,
	    &cstatus, &tu, &nu, &rt, &reason);
	ok(rc == 0 && dig == GNUTLS_DIG_SHA256 &&
	    cstatus == GNUTLS_OCSP_CERT_REVOKED && rt == now - 300 &&
	    reason == GNUTLS_X509_CRLREASON_SUPERSEDED,
	    "single 1: SHA-256, revoked, superseded");
	gnutls_free(in.data);
	gnutls_free(ik.data);
	gnutls_free(sn.data);
	is_int(gnutls_ocsp_resp_check_crt(gresp, 0, leaves[0].crt), 0,
	    "check_crt: single 0 is leaf0");
	is_int(gnutls_ocsp_resp_check_crt(gresp, 1, leaves[1].crt), 0,
	    "check_crt: single 1 is leaf1");
	ok(gnutls_ocsp_resp_check_crt(gresp, 0, leaves[1].crt) != 0,
	    "check_crt: single 0 is not leaf1");
	rc = gnutls_ocsp_resp_get_nonce(gresp, &crit, &rn);
	ok(rc == 0 && crit == 0 && rn.size == gn.size &&
	    memcmp(rn.data, gn.data, gn.size) == 0,
	    "GnuTLS reads back the request's nonce");
	rc = gnutls_ocsp_resp_get_responder_raw_id(gresp,
	    GNUTLS_OCSP_RESP_ID_KEY, &rid);
	ok(rc == 0 && rid.size == 20 &&
	    memcmp(rid.data, req.ids[0].key_hash, 20) == 0,
	    "responder ID: SHA-1 of the issuer key");
	{
		char *out = NULL;
		int st;

		st = run(&out, "ocsptool --verify-response --load-signer '%s' "
		    "--infile '%s'", path_of("inter.pem"), path_of("gresp.der"));
		ok(st == 0 && has(out, "Success"),
		    "ocsptool verifies the response");
		free(out);
		st = run(&out, "openssl ocsp -respin '%s' -reqin '%s' -VAfile "
		    "'%s' -CAfile '%s' -resp_text", path_of("gresp.der"),
		    path_of("greq.der"), path_of("inter.pem"),
		    path_of("chain.pem"));
		ok(st == 0 && has(out, "Response verify OK") &&
		    !has(out, "WARNING") && !has(out, "Nonce Verify") &&
		    has(out, "Revocation Reason: superseded (0x4)"),
		    "openssl verifies the response to GnuTLS's request");
		free(out);
	}
out:
	gnutls_free(rid.data);
	gnutls_free(rn.data);
	gnutls_free(gn.data);
	gnutls_free(oid.data);
	gnutls_free(rq.data);
	gnutls_free(resp.data);
	if (gresp != NULL)
		gnutls_ocsp_resp_deinit(gresp);
	gnutls_ocsp_req_deinit(greq);
}

/* Requests built with libtasn1, to break one thing at a time. */
struct mkreq {
	int		 n;		/* requests */
	const char	*hash_oid;
	const void	*params;	/* NULL: absent */
	size_t		 params_len;
	size_t		 hash_len;
	const void	*serial;
	size_t		 serial_len;
	const void	*nonce;		/* extnValue; NULL: none */
	size_t		 nonce_len;
	int		 nonces;	/* how many nonce extensions */
	const char	*ext_oid;	/* another extension */
	int		 ext_critical;
	int		 single_ext_critical;
	const char	*version;
};

static void
mkreq_default(struct mkreq *m)
{
	memset(m, 0, sizeof(*m));
	m->n = 1;
	m->hash_oid = "1.3.14.3.2.26";
	m->params = "\x05\x00";
	m->params_len = 2;
	m->hash_len = 20;
	m->serial = "\x01\x02\x03";
	m->serial_len = 3;
	m->nonce = "\x04\x04\x01\x02\x03\x04";
	m->nonce_len = 6;
	m->nonces = 1;
}

static gnutls_datum_t
mkreq_build(const struct mkreq *m)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	unsigned char h[64];
	gnutls_datum_t d = { NULL, 0 };
	asn1_node r = NULL;
	const char *p = "tbsRequest.requestList.?LAST.reqCert";
	char name[128];
	int i, len = 0, e = 0;

	memset(h, 0xab, sizeof(h));
#define W(nm, v, l) do {						\
	if ((e = asn1_write_value(r, nm, v, (int)(l))) != ASN1_SUCCESS) { \
		printf("# %s: %s\n", nm, asn1_strerror(e));		\
		bail("mkreq");						\
	}								\
} while (0)
	if (asn1_create_element(tree, "PKIX-CA.OCSPRequest", &r) != 0)
		bail("mkreq");
	W("tbsRequest.version", m->version != NULL ? m->version : "v1", 0);
	W("tbsRequest.requestorName", NULL, 0);
	W("optionalSignature", NULL, 0);
	for (i = 0; i < m->n; i++) {
		W("tbsRequest.requestList", "NEW", 1);
		snprintf(name, sizeof(name), "%s.hashAlgorithm.algorithm", p);
		W(name, m->hash_oid, 1);
		snprintf(name, sizeof(name), "%s.hashAlgorithm.parameters", p);
		W(name, m->params, m->params_len);
		snprintf(name, sizeof(name), "%s.issuerNameHash", p);
		W(name, h, m->hash_len);
		snprintf(name, sizeof(name), "%s.issuerKeyHash", p);
		W(name, h, m->hash_len);
		snprintf(name, sizeof(name), "%s.serialNumber", p);
		W(name, m->serial, m->serial_len);
		if (m->single_ext_critical) {
			W("tbsRequest.requestList.?LAST.singleRequestExtensions",
			    "NEW", 1);
			W("tbsRequest.requestList.?LAST.singleRequestExtensions"
			    ".?LAST.extnID", "1.2.3.4", 1);
			W("tbsRequest.requestList.?LAST.singleRequestExtensions"
			    ".?LAST.critical", "TRUE", 1);
			W("tbsRequest.requestList.?LAST.singleRequestExtensions"
			    ".?LAST.extnValue", "\x05\x00", 2);
		} else
			W("tbsRequest.requestList.?LAST.singleRequestExtensions",
			    NULL, 0);
	}
	if (m->nonce == NULL && m->ext_oid == NULL)
		W("tbsRequest.requestExtensions", NULL, 0);
	for (i = 0; m->nonce != NULL && i < m->nonces; i++) {
		W("tbsRequest.requestExtensions", "NEW", 1);
		W("tbsRequest.requestExtensions.?LAST.extnID",
		    "1.3.6.1.5.5.7.48.1.2", 1);
		W("tbsRequest.requestExtensions.?LAST.critical", "FALSE", 1);
		W("tbsRequest.requestExtensions.?LAST.extnValue", m->nonce,
		    m->nonce_len);
	}
	if (m->ext_oid != NULL) {
		W("tbsRequest.requestExtensions", "NEW", 1);
		W("tbsRequest.requestExtensions.?LAST.extnID", m->ext_oid, 1);
		W("tbsRequest.requestExtensions.?LAST.critical",
		    m->ext_critical ? "TRUE" : "FALSE", 1);
		W("tbsRequest.requestExtensions.?LAST.extnValue", "\x05\x00", 2);
	}
#undef W
	if (asn1_der_coding(r, "", NULL, &len, err) != ASN1_MEM_ERROR ||
	    (d.data = gnutls_malloc((size_t)len)) == NULL ||
	    asn1_der_coding(r, "", d.data, &len, err) != ASN1_SUCCESS) {
		printf("# %s\n", err);
		bail("mkreq coding");
	}
	d.size = (unsigned)len;
	asn1_delete_structure(&r);
	return d;
}

static int
mkreq_parse(const struct mkreq *m, struct ca_ocsp_request *req)
{
	gnutls_datum_t d = mkreq_build(m);
	int rc;

	rc = ca_ocsp_request_parse(d.data, d.size, req);
	gnutls_free(d.data);
	return rc;
}

static void
test_ocsp_malformed(void)
{
	static unsigned char big[16 * 1024 + 1];
	unsigned char long_nonce[131], serial21[21], serial22[22], *rq, *b;
	struct ca_ocsp_request req;
	struct mkreq m;
	size_t len;
	int rc;

	mkreq_default(&m);
	rc = mkreq_parse(&m, &req);
	ok(rc == 0 && req.n == 1 && req.ids[0].hash == GNUTLS_DIG_SHA1 &&
	    req.ids[0].serial_len == 3 && req.has_nonce && req.nonce_len == 6 &&
	    memcmp(req.nonce, "\x04\x04\x01\x02\x03\x04", 6) == 0,
	    "well-formed built request parsed");
	m.params = NULL;
	m.params_len = 0;
	ok(mkreq_parse(&m, &req) == 0, "hash parameters absent: accepted");
	m.nonce = "\x11\x22\x33\x44\x55\x66\x77\x88";
	m.nonce_len = 8;
	rc = mkreq_parse(&m, &req);
	ok(rc == 0 && req.nonce_len == 8 && req.nonce[0] == 0x11,
	    "bare (RFC 2560) nonce kept as received");
	mkreq_default(&m);
	m.ext_oid = "1.2.3.4";
	ok(mkreq_parse(&m, &req) == 0, "unknown non-critical extension ignored");
	memset(serial21, 0x7f, sizeof(serial21));
	serial21[0] = 0x00;
	serial21[1] = 0x80;
	mkreq_default(&m);
	m.serial = serial21;
	m.serial_len = sizeof(serial21);
	rc = mkreq_parse(&m, &req);
	ok(rc == CA_ERR_INVAL, "21-octet serial refused: malformed, no "
	    "certificate has one");
	mkreq_default(&m);
	m.version = "0";
	ok(mkreq_parse(&m, &req) == 0, "version v1 accepted");

#define BAD(what) do {							\
	req.n = 99;							\
	rc = mkreq_parse(&m, &req);					\
	ok(rc == CA_ERR_INVAL && req.n == 0 && !req.has_nonce,		\
	    "refused: %s", what);					\
	if (rc != CA_ERR_INVAL)						\
		printf("#   rc %d\n", rc);				\
	mkreq_default(&m);						\
} while (0)
	mkreq_default(&m);
	m.n = 0;
	BAD("no CertID");
	m.n = 9;
	BAD("nine CertIDs");
	m.hash_oid = "1.2.840.113549.2.5";
	BAD("MD5 CertID");
	m.hash_oid = "2.16.840.1.101.3.4.2.4";
	m.hash_len = 28;
	BAD("SHA-224 CertID");
	m.params = "\x02\x01\x00";
	m.params_len = 3;
	BAD("hash parameters not NULL");
	m.hash_len = 19;
	BAD("19-octet SHA-1 hash");
	m.hash_len = 32;
	BAD("32-octet SHA-1 hash");
	memset(serial22, 0x11, sizeof(serial22));
	m.serial = serial22;
	m.serial_len = sizeof(serial22);
	BAD("22-octet serial");
	m.nonce = "";
	m.nonce_len = 0;
	BAD("empty nonce extnValue");
	m.nonce = "\x04\x00";
	m.nonce_len = 2;
	BAD("empty nonce OCTET STRING");
	memset(long_nonce, 0x5a, sizeof(long_nonce));
	long_nonce[0] = 0x04;
	long_nonce[1] = 0x81;
	long_nonce[2] = 128;
	m.nonce = long_nonce;
	m.nonce_len = sizeof(long_nonce);
	BAD("nonce of 131 octets");
	m.nonces = 2;
	BAD("two nonces");
	m.ext_oid = "1.2.3.4";
	m.ext_critical = 1;
	BAD("unknown critical request extension");
	m.single_ext_critical = 1;
	BAD("unknown critical single request extension");
	m.version = "1";
	BAD("version 2");
#undef BAD
	m.nonce = long_nonce;
	m.nonce_len = 128;
	long_nonce[1] = 0x7e;
	rc = mkreq_parse(&m, &req);
	ok(rc == 0 && req.nonce_len == 128, "nonce extnValue of 128 octets");

	/* Broken DER around a good request. */
	rq = openssl_req("req-m.der", "-no_nonce", cert_args(1), &len);
	ok(ca_ocsp_request_parse(rq, len, &req) == 0 && len < 128 &&
	    rq[1] == len - 2, "base request (%zu bytes)", len);
	is_int(ca_ocsp_request_parse(rq, 0, &req), CA_ERR_INVAL,
	    "refused: empty");
	is_int(ca_ocsp_request_parse("hello", 5, &req), CA_ERR_INVAL,
	    "refused: garbage");
	is_int(ca_ocsp_request_parse(rq, len - 1, &req), CA_ERR_INVAL,
	    "refused: truncated");
	if ((b = malloc(len + 4)) == NULL)
		bail("malloc");
	memcpy(b, rq, len);
	b[len] = 0;
	is_int(ca_ocsp_request_parse(b, len + 1, &req), CA_ERR_INVAL,
	    "refused: a byte after the request");
	/* Long form for a short length: BER, not DER. */
	b[0] = 0x30;
	b[1] = 0x81;
	b[2] = (unsigned char)(len - 2);
	memcpy(b + 3, rq + 2, len - 2);
	is_int(ca_ocsp_request_parse(b, len + 1, &req), CA_ERR_INVAL,
	    "refused: non-minimal length (BER)");
	/* Indefinite length. */
	b[0] = 0x30;
	b[1] = 0x80;
	memcpy(b + 2, rq + 2, len - 2);
	b[len] = 0;
	b[len + 1] = 0;
	is_int(ca_ocsp_request_parse(b, len + 2, &req), CA_ERR_INVAL,
	    "refused: indefinite length (BER)");
	/* Wrong outer tag. */
	memcpy(b, rq, len);
	b[0] = 0x31;
	is_int(ca_ocsp_request_parse(b, len, &req), CA_ERR_INVAL,
	    "refused: SET instead of SEQUENCE");
	/*
	 * A serial number with a needless leading zero octet (libtasn1
	 * trims what it writes, so the request is patched): without a
	 * nonce, the request ends with the serial, INTEGER of 17 octets.
	 */
	memcpy(b, rq, len);
	ok(b[len - 19] == 0x02 && b[len - 18] == 17,
	    "base request ends with the serial");
	b[len - 17] = 0;
	b[len - 16] = 0;
	is_int(ca_ocsp_request_parse(b, len, &req), CA_ERR_INVAL,
	    "refused: serial with a needless leading zero");
	free(b);
	free(rq);
	memset(big, 0, sizeof(big));
	big[0] = 0x30;
	big[1] = 0x83;
	is_int(ca_ocsp_request_parse(big, sizeof(big), &req), CA_ERR_TOOBIG,
	    "refused: more than 16 KiB (CA_ERR_TOOBIG)");
}

static void
test_ocsp_errors(void)
{
	static const int good[] = { 1, 2, 3, 5, 6 };
	static const char *text[] = {
		"malformedrequest (1)", "internalerror (2)", "trylater (3)",
		"sigrequired (5)", "unauthorized (6)",
	};
	static const int bad[] = { 0, 4, 7, -1, 100 };
	static unsigned char junk[] = "x";
	gnutls_datum_t der = { NULL, 0 };
	gnutls_ocsp_resp_t r;
	char *out = NULL;
	size_t i;
	int rc, st;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = ca_ocsp_response_error(good[i], &der);
		ok(rc == 0 && der.size == 5 && memcmp(der.data,
		    "\x30\x03\x0a\x01", 4) == 0 && der.data[4] == good[i],
		    "error response %d: 30 03 0a 01 %02x", good[i], good[i]);
		if (rc != 0)
			continue;
		if (gnutls_ocsp_resp_init(&r) < 0)
			bail("resp init");
		ok(gnutls_ocsp_resp_import(r, &der) == 0 &&
		    gnutls_ocsp_resp_get_status(r) == good[i],
		    "GnuTLS reads status %d", good[i]);
		gnutls_ocsp_resp_deinit(r);
		write_file("err.der", der.data, der.size);
		st = run(&out, "openssl ocsp -respin '%s' -resp_text",
		    path_of("err.der"));
		ok(has(out, text[i]), "openssl: Responder Error: %s", text[i]);
		(void)st;
		free(out);
		gnutls_free(der.data);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		der.data = junk;
		rc = ca_ocsp_response_error(bad[i], &der);
		ok(rc == CA_ERR_INVAL && der.data == NULL,
		    "error status %d refused", bad[i]);
	}
}

static void
test_ocsp_build_invalid(void)
{
	struct ca_ocsp_certid id;
	struct ca_ocsp_single s;
	gnutls_datum_t der = { NULL, 0 };
	unsigned char nonce[CA_OCSP_MAX_NONCE + 1];
	int rc;

	memset(&id, 0, sizeof(id));
	id.hash = GNUTLS_DIG_SHA1;
	id.hash_len = 20;
	id.serial[0] = 1;
	id.serial_len = 1;
	memset(&s, 0, sizeof(s));
	s.id = &id;
	s.status = CA_OCSP_GOOD;
	s.reason = CA_REASON_NONE;
	s.this_update = now;
	memset(nonce, 1, sizeof(nonce));
	rc = ca_ocsp_response_build(&inter.iss, &s, 1, NULL, 0, now, &der);
	ok(rc == 0, "minimal response built");
	if (rc == 0) {
		write_file("min.der", der.data, der.size);
		gnutls_free(der.data);
	}
	is_int(ca_ocsp_response_build(&inter.iss, &s, 0, NULL, 0, now, &der),
	    CA_ERR_INVAL, "refused: no single response");
	is_int(ca_ocsp_response_build(&inter.iss, &s, 1, nonce, sizeof(nonce),
	    now, &der), CA_ERR_INVAL, "refused: nonce too long");
	s.status = CA_OCSP_REVOKED;
	s.reason = 7;
	is_int(ca_ocsp_response_build(&inter.iss, &s, 1, NULL, 0, now, &der),
	    CA_ERR_INVAL, "refused: reason 7");
	s.reason = CA_REASON_NONE;
	s.next_update = now - 10;
	is_int(ca_ocsp_response_build(&inter.iss, &s, 1, NULL, 0, now, &der),
	    CA_ERR_INVAL, "refused: nextUpdate before thisUpdate");
	s.next_update = 0;
	id.hash = GNUTLS_DIG_MD5;
	id.hash_len = 16;
	is_int(ca_ocsp_response_build(&inter.iss, &s, 1, NULL, 0, now, &der),
	    CA_ERR_INVAL, "refused: MD5 CertID");
	id.hash = GNUTLS_DIG_SHA1;
	id.hash_len = 20;
	s.id = NULL;
	is_int(ca_ocsp_response_build(&inter.iss, &s, 1, NULL, 0, now, &der),
	    CA_ERR_INVAL, "refused: no CertID");
	ok(der.data == NULL && der.size == 0, "result cleared");
}

int
main(void)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	char name[32];
	int i;

	tmpdir_make("revoke");
	now = time(NULL);
	if (asn1_array2tree(ca_pkix_asn1_tab, &tree, err) != ASN1_SUCCESS)
		bail(err);
	test_reasons();

	ca_make(&root, CA_KEY_EC_P256, "Revoke Root", NULL);
	ca_make(&inter, CA_KEY_EC_P256, "Revoke Intermediate", &root);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "leaf%d.example", i);
		leaf_make(&leaves[i], &inter, name);
		snprintf(name, sizeof(name), "leaf%d.pem", i);
		write_pem(name, leaves[i].crt);
	}
	write_pem("root.pem", root.iss.crt);
	write_pem("inter.pem", inter.iss.crt);
	write_pem("chain.pem", root.iss.crt);
	append_file("chain.pem", "inter.pem");

	test_crl_empty();
	test_crl_entries();
	test_crl_all_reasons();
	test_crl_invalid();
	test_crl_many(1000, 0);
	test_crl_many(100000, 1);
	test_crl_key_types();

	test_ocsp_openssl();
	test_ocsp_gnutls();
	test_ocsp_malformed();
	test_ocsp_errors();
	test_ocsp_build_invalid();

	for (i = 0; i < 4; i++)
		leaf_free(&leaves[i]);
	ca_free(&inter);
	ca_free(&root);
	asn1_delete_structure(&tree);
	tmpdir_remove();
	return tap_done();
}
