/*
 * text.c - escaping for log lines and text output, and hex.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"

static const char hexdigits[] = "0123456789abcdef";

/*
 * The one escaping loop behind ca_escape and ca_text_escape. Each byte of
 * s is written as the first of these that applies:
 * - in named (pairs of byte and letter, "\tt\nn"): backslash, letter;
 * - in quoted: backslash, the byte;
 * - a control byte, DEL, a byte beyond ASCII, or in hexed: \xHH;
 * - else the byte itself.
 * Into buf (len > 0), stopping before a byte whose escape does not fit.
 */
struct escape_rules {
	const char	*named;
	const char	*quoted;
	const char	*hexed;
};

static void
escape(char *buf, size_t len, const char *s, const struct escape_rules *r)
{
	const unsigned char *p;
	const char *q;
	char rep[4];
	size_t n = 0, k;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		for (q = r->named; q != NULL && *q != '\0'; q += 2)
			if ((unsigned char)*q == *p)
				break;
		k = 0;
		if (q != NULL && *q != '\0') {
			rep[k++] = '\\';
			rep[k++] = q[1];
		} else if (r->quoted != NULL && strchr(r->quoted, *p) != NULL) {
			rep[k++] = '\\';
			rep[k++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f ||
		    (r->hexed != NULL && strchr(r->hexed, *p) != NULL)) {
			rep[k++] = '\\';
			rep[k++] = 'x';
			rep[k++] = hexdigits[*p >> 4];
			rep[k++] = hexdigits[*p & 15];
		} else
			rep[k++] = (char)*p;
		if (n + k >= len)
			break;
		memcpy(buf + n, rep, k);
		n += k;
	}
	buf[n] = '\0';
}

char *
ca_escape(char *buf, size_t len, const char *s, int bare)
{
	struct escape_rules r = { NULL, "\"\\", bare ? " " : NULL };

	escape(buf, len, s, &r);
	return buf;
}

char *
ca_hex(const unsigned char *p, size_t len)
{
	char *s;
	size_t i;

	if ((s = malloc(len * 2 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = hexdigits[p[i] >> 4];
		s[2 * i + 1] = hexdigits[p[i] & 15];
	}
	s[len * 2] = '\0';
	return s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ca_unhex(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), i;
	unsigned char *b;

	*out = NULL;
	*outlen = 0;
	if (n % 2 != 0)
		return ca_err(CA_ERR_INVAL, "odd number of hex digits");
	if ((b = malloc(n / 2 + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return ca_err(CA_ERR_INVAL, "invalid hex digit");
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = b;
	*outlen = n / 2;
	return 0;
}

char *
ca_text_escape(const char *s, const char *seps)
{
	struct escape_rules r = { "\tt\nn", "\\", seps };
	size_t len;
	char *out;

	/* At most four bytes for each. */
	len = strlen(s) * 4 + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	escape(out, len, s, &r);
	return out;
}
