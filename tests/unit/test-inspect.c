/*
 * test-inspect.c - unit tests of lib/inspect.c: the refusals of untrusted
 * input (PEM blocks, tokens, sizes), the escaping of the readable view,
 * and --needs-renewal's decision against ca-renew's rule.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "inspect.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "tap.h"
#include "x509.h"

#define NOW	((time_t)1800000000)
#define DAY	86400

/* A self-signed CA certificate valid from nb to na, PEM (caller frees). */
static char *
cert_pem(const char *cn, time_t nb, time_t na)
{
	gnutls_x509_privkey_t x;
	gnutls_privkey_t k;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	char *s;

	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &k) != 0 ||
	    ca_x509_make_ca(k, "O", cn, 0, nb, na, NULL, &crt) != 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d) < 0) {
		fprintf(stderr, "Bail out! certificate\n");
		exit(1);
	}
	s = strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_privkey_deinit(k);
	return s;
}

/* A token of header and claims JSON, with signature "c2ln". */
static char *
token_of(const char *h, const char *c)
{
	char *eh = ca_b64url_encode(h, strlen(h));
	char *ec = ca_b64url_encode(c, strlen(c));
	char *t;

	if (asprintf(&t, "%s.%s.c2ln\n", eh, ec) < 0)
		t = NULL;
	free(eh);
	free(ec);
	return t;
}

static int
inspect(const char *buf, int json, char **out)
{
	return ca_inspect(buf, strlen(buf), "in", NOW, json, out);
}

static void
test_refuse(void)
{
	static const struct {
		const char	*h, *c, *why;
	} toks[] = {
		{ "{\"alg\":\"ES256\",\"alg\":\"none\"}", "{}", "duplicate" },
		{ "[1]", "{}", "not a JSON object" },
		{ "{\"alg\":\"ES256\"}", "{\"exp\":1} x", "trailing" },
		{ "{\"alg\":\"ES256\"}", "{\"a\":\"\\u0000\"}", "NUL" },
	};
	char *out = (char *)1, *t, *pem, *big;
	size_t i, n;

	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		t = token_of(toks[i].h, toks[i].c);
		is_int(inspect(t, 0, &out), CA_ERR_INVAL, "token refused: %s",
		    toks[i].why);
		ok(out == NULL, "nothing shown (%s)", toks[i].why);
		free(t);
	}
	is_int(inspect("a.b!.c", 0, &out), CA_ERR_INVAL,
	    "not base64url: not a token, nor DER");
	is_int(inspect("-----BEGIN CERTIFICATE-----\nMIIB\n", 0, &out),
	    CA_ERR_INVAL, "a PEM block without END");
	is_int(inspect("-----BEGIN PRIVATE KEY-----\nMC4=\n"
	    "-----END PRIVATE KEY-----\n", 0, &out), CA_ERR_INVAL,
	    "a private key is not shown");
	ok(strstr(ca_errmsg(), "PEM block 1 is not a certificate") != NULL,
	    "the message names the block: %s", ca_errmsg());
	/* 65 certificates: refused at the 65th. */
	pem = cert_pem("c", NOW - DAY, NOW + DAY);
	n = strlen(pem);
	big = malloc(n * 65 + 1);
	for (i = 0; i < 65; i++)
		memcpy(big + i * n, pem, n);
	big[n * 65] = '\0';
	is_int(inspect(big, 0, &out), CA_ERR_TOOBIG, "65 PEM blocks");
	big[n * 64] = '\0';
	is_int(inspect(big, 1, &out), 0, "64 PEM blocks");
	free(out);
	is_int(ca_inspect(big, CA_INSPECT_MAX_FILE + 1, "in", NOW, 0, &out),
	    CA_ERR_TOOBIG, "over the size limit");
	free(big);
	free(pem);
}

static void
test_escape(void)
{
	struct json_object *j;
	char *out, *pem, *t, *p;
	int lines = 0;

	pem = cert_pem("a\nSerial: 00\x1b[31m\\", NOW - DAY, NOW + DAY);
	is_int(inspect(pem, 0, &out), 0, "hostile CN shown");
	/* RFC 4514 doubles the backslash, the view each of those. */
	ok(strstr(out, "\n  Subject: CN=a\\nSerial: 00\\x1b[31m\\\\\\\\,O=O\n")
	    != NULL, "the CN escaped on one line");
	ok(strchr(out, '\x1b') == NULL, "no escape byte");
	for (p = out; (p = strstr(p, "\n  Serial: ")) != NULL; p++)
		lines++;
	is_int(lines, 1, "one Serial line");
	free(out);
	free(pem);
	/* Not UTF-8: the JSON view stays JSON, the name escaped. */
	pem = cert_pem("\xff\xfe", NOW - DAY, NOW + DAY);
	is_int(inspect(pem, 1, &out), 0, "a CN not UTF-8 as JSON");
	is_int(ca_json_parse(out, strlen(out), "view", &j), 0,
	    "the strict reader reads it");
	ok(strstr(out, "CN=\\\\xff\\\\xfe") != NULL, "escaped");
	json_object_put(j);
	free(out);
	free(pem);
	t = token_of("{\"alg\":\"none\",\"x\\nexp\":\"1\\u001b\"}",
	    "{\"exp\":1800000000,\"sub\":\"s\"}");
	is_int(inspect(t, 0, &out), 0, "a token shown");
	ok(strstr(out, "NOT verified") != NULL, "says it is not verified");
	ok(strstr(out, "    x\\nexp: 1\\x1b\n") != NULL,
	    "member name and value escaped");
	ok(strstr(out, "    exp: 1800000000 (2027-01-15T08:00:00Z)\n") != NULL,
	    "exp as a date");
	free(out);
	is_int(inspect(t, 1, &out), 0, "a token as JSON");
	ok(strstr(out, "\"verified\": false") != NULL, "verified: false");
	free(out);
	free(t);
}

static void
test_due(void)
{
	char *fresh, *old, *t;

	fresh = cert_pem("f", NOW - 60, NOW + 3 * DAY);
	old = cert_pem("o", NOW - 3 * DAY, NOW + DAY / 2);
	is_int(ca_inspect_due(fresh, strlen(fresh), "f", -1, NOW), 0,
	    "fresh: not due");
	is_int(ca_inspect_due(old, strlen(old), "o", -1, NOW), 1,
	    "a sixth left: due");
	is_int(ca_inspect_due(fresh, strlen(fresh), "f", 4 * DAY, NOW), 1,
	    "fresh, --expires-in beyond its end: due");
	is_int(ca_inspect_due(old, strlen(old), "o", 60, NOW), 0,
	    "--expires-in 1m: not due");
	t = token_of("{\"alg\":\"none\"}", "{}");
	is_int(ca_inspect_due(t, strlen(t), "t", -1, NOW), CA_ERR_INVAL,
	    "a token has no renewal");
	free(t);
	free(fresh);
	free(old);
}

int
main(void)
{
	test_refuse();
	test_escape();
	test_due();
	return tap_done();
}
