/*
 * jose.c - what JWK, JWS and JWE share: base64url, compact serializations
 * and protected headers, on GnuTLS. jwk.c, jws.c and jwe.c hold the rest.
 *
 * base64url runs without tables, so that encoding and decoding private
 * keys does not index memory by secret data.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "ca.h"
#include "json.h"
#include "jose.h"
#include "jose-internal.h"

void
ca_jose_datum_free(gnutls_datum_t *d, int secret)
{
	if (d->data != NULL) {
		if (secret)
			gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/*
 * base64url
 */

/*
 * Both directions use arithmetic instead of a table, so that encoding and
 * decoding private keys does not index memory by secret data.
 * (x >> 8) of an int in [-255, 255] is -1 when x is negative, else 0.
 */
static char
b64url_chr(unsigned int uv)
{
	int v = (int)(uv & 63), c = 'A' + v;

	c += ((25 - v) >> 8) & ('a' - 'A' - 26);
	c += ((51 - v) >> 8) & ('0' - 'a' - 26);
	c += ((61 - v) >> 8) & ('-' - '0' - 10);
	c += ((62 - v) >> 8) & ('_' - '-' - 1);
	return (char)c;
}

char *
ca_b64url_encode(const void *p, size_t len)
{
	const unsigned char *in = p;
	char *out, *o;
	size_t i;

	if (len > (SIZE_MAX - 5) / 4 * 3)
		return NULL;
	if ((out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i + 2 < len; i += 3) {
		*o++ = b64url_chr(in[i] >> 2);
		*o++ = b64url_chr((in[i] & 3U) << 4 | in[i + 1] >> 4);
		*o++ = b64url_chr((in[i + 1] & 15U) << 2 | in[i + 2] >> 6);
		*o++ = b64url_chr(in[i + 2]);
	}
	if (len - i == 1) {
		*o++ = b64url_chr(in[i] >> 2);
		*o++ = b64url_chr((in[i] & 3U) << 4);
	} else if (len - i == 2) {
		*o++ = b64url_chr(in[i] >> 2);
		*o++ = b64url_chr((in[i] & 3U) << 4 | in[i + 1] >> 4);
		*o++ = b64url_chr((in[i + 1] & 15U) << 2);
	}
	*o = '\0';
	return out;
}

/* The value of one base64url character, or -1. */
static int
b64url_val(unsigned char uc)
{
	int c = uc, v = -1;

	v += ((('A' - 1 - c) & (c - 'Z' - 1)) >> 8) & (c - 'A' + 1);
	v += ((('a' - 1 - c) & (c - 'z' - 1)) >> 8) & (c - 'a' + 27);
	v += ((('0' - 1 - c) & (c - '9' - 1)) >> 8) & (c - '0' + 53);
	v += ((('-' - 1 - c) & (c - '-' - 1)) >> 8) & 63;
	v += ((('_' - 1 - c) & (c - '_' - 1)) >> 8) & 64;
	return v;
}

int
ca_jose_b64dec(const char *what, const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char *buf;
	unsigned int acc = 0, bits = 0;
	size_t i, j = 0;
	int v, rc;

	*out = NULL;
	*outlen = 0;
	if (len % 4 == 1)
		return ca_err(CA_ERR_INVAL, "%s: invalid base64url length",
		    what);
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		if ((v = b64url_val((unsigned char)s[i])) < 0) {
			rc = ca_err(CA_ERR_INVAL, "%s: invalid base64url "
			    "character at offset %zu", what, i);
			goto fail;
		}
		acc = (acc << 6 | (unsigned int)v) & 0xfff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[j++] = (unsigned char)(acc >> bits);
		}
	}
	/* The unused low bits of the last character must be zero. */
	if ((acc & ((1U << bits) - 1)) != 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: non-zero trailing bits in "
		    "base64url", what);
		goto fail;
	}
	buf[j] = '\0';
	*out = buf;
	*outlen = j;
	return 0;
 fail:
	ca_free_secret(buf, len / 4 * 3 + 3);
	return rc;
}

int
ca_b64url_decode(const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	return ca_jose_b64dec("base64url", s, len, out, outlen);
}

/*
 * Split a compact serialization into exactly n dot-separated parts and
 * decode them; names[i] is used in error messages.
 */
int
ca_jose_split(const char *s, size_t len, struct jose_part *parts, size_t n,
    const char *const *names)
{
	const char *p = s, *end = s + len, *dot;
	size_t i;
	int rc;

	memset(parts, 0, n * sizeof(*parts));
	for (i = 0; i < n; i++) {
		dot = memchr(p, '.', (size_t)(end - p));
		if ((i + 1 < n) != (dot != NULL))
			return ca_err(CA_ERR_INVAL, "%s: not %zu "
			    "dot-separated parts", names[n], n);
		parts[i].s = p;
		parts[i].len = (size_t)((dot != NULL ? dot : end) - p);
		if (dot != NULL)
			p = dot + 1;
	}
	for (i = 0; i < n; i++)
		if ((rc = ca_jose_b64dec(names[i], parts[i].s, parts[i].len,
		    &parts[i].d, &parts[i].dlen)) != 0)
			return rc;
	return 0;
}

void
ca_jose_parts_free(struct jose_part *parts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ca_free_secret(parts[i].d, parts[i].dlen);
		parts[i].d = NULL;
	}
}

/* Decode and strict-parse a protected header; it must be an object. */
int
ca_jose_header(const struct jose_part *h, const char *what,
    struct json_object **out)
{
	int rc;

	*out = NULL;
	if (h->dlen > JOSE_MAX_HEADER)
		return ca_err(CA_ERR_TOOBIG, "%s: longer than %d bytes", what,
		    JOSE_MAX_HEADER);
	if ((rc = ca_json_parse((const char *)h->d, h->dlen, what, out)) != 0)
		return rc;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return ca_err(CA_ERR_INVAL, "%s: not a JSON object", what);
	}
	/* Extensions we do not implement must not be silently ignored. */
	if (json_object_object_get_ex(*out, "crit", NULL)) {
		json_object_put(*out);
		*out = NULL;
		return ca_err(CA_ERR_INVAL, "%s: critical header parameters "
		    "are not supported", what);
	}
	return 0;
}

/* Add member key to o; v (possibly NULL after a failed allocation) is
 * consumed either way. */
int
ca_jose_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int
ca_jose_add_str(struct json_object *o, const char *key, const char *val)
{
	return ca_jose_add(o, key, json_object_new_string(val));
}
