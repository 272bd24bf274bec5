/*
 * tmpl.c - fuzz step's template language (lib/tmpl.c): the input is a
 * template; whatever parses is rendered twice, with step-like data (the
 * x509util structs marked) and with none. Every result must respect the
 * bounds: an output is NUL-terminated, its length as reported and at
 * most CA_TMPL_MAX_OUT; a failure leaves no output and an error message
 * in the "NAME:LINE:COL: what" form (fail's own message excepted).
 * Seeds: smallstep/crypto's x509util templates (templates.go and
 * the .tpl files of testdata/, commit 4f954b32) and one using every
 * function.
 * fuzz-dict: tmpl
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tmpl.h"

static struct json_object *
data(void)
{
	struct json_object *d = json_tokener_parse(
	    "{\"Subject\":{\"CommonName\":\"a.test\"},"
	    "\"SANs\":[{\"Type\":\"dns\",\"Value\":\"a.test\"}],"
	    "\"Token\":{\"iss\":\"p\",\"sub\":\"a.test\",\"nbf\":1700000000,"
	    "\"email\":\"j@a.test\",\"groups\":[\"x\",\"y\"]},"
	    "\"Insecure\":{\"CR\":{\"Subject\":{\"CommonName\":\"c\"},"
	    "\"DNSNames\":[\"c.test\"],\"PublicKey\":{\"Size\":256}},"
	    "\"User\":{\"k\":\"v\"}},\"Webhooks\":{},"
	    "\"s\":\"a,b,c\",\"n\":3,\"f\":0.5,\"z\":null,\"e\":\"\","
	    "\"l\":[1,\"x\",null],\"m\":{\"b\":2,\"a\":1},"
	    /* bad UTF-8 as a CSR may carry: overlong, surrogate, cut */
	    "\"u\":\"\xc0\xaf\xe0\x80\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\"}");

	if (d == NULL)
		abort();
	ca_tmpl_mark_step_data(d);
	ca_tmpl_set_gotype(json_object_object_get(json_object_object_get(
	    json_object_object_get(d, "Insecure"), "CR"), "PublicKey"),
	    "*rsa.PublicKey");
	return d;
}

static void
one(const struct ca_tmpl *t, struct json_object *d)
{
	char *out = NULL;
	size_t n = 0;
	int r;

	r = ca_tmpl_render(t, d, &out, &n);
	if (r == 0) {
		if (out == NULL || strlen(out) > n || n > CA_TMPL_MAX_OUT)
			abort();
	} else {
		if (out != NULL || n != 0)
			abort();
		/* fail's message is the template's own; others are placed */
		if (r != CA_ERR_FORBIDDEN && strncmp(ca_errmsg(), "fuzz:", 5))
			abort();
		/* one line, whatever the data */
		if (strchr(ca_errmsg(), '\n') != NULL)
			abort();
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct ca_tmpl *t = NULL;
	struct json_object *d;
	int r;

	r = ca_tmpl_parse((const char *)buf, size, "fuzz", &t);
	if (r != 0) {
		if (t != NULL || (r != CA_ERR_INVAL && r != CA_ERR_NOMEM) ||
		    (r == CA_ERR_INVAL &&
		    strncmp(ca_errmsg(), "fuzz", 4) != 0))
			abort();
		goto out;
	}
	d = data();
	one(t, d);
	one(t, NULL);
	json_object_put(d);
out:
	ca_tmpl_free(t);
	ca_err_clear();
	return 0;
}
