/*
 * tmpl-step.c - the functions step adds to sprig's (x509util/options.go,
 * internal/templates/funcmap.go): the ASN.1 encoders asn1Enc,
 * asn1Marshal, asn1Seq and asn1Set, and the time functions now, toTime,
 * formatTime, parseTime, mustParseTime and toTimeLayout.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include "ca.h"
#include "tmpl-internal.h"

/*
 * step's ASN.1 helpers (x509util/options.go): asn1Enc "type:value",
 * asn1Marshal v params..., asn1Seq and asn1Set of base64 DER values;
 * each returns the base64 of the DER it makes. Encodings are Go's
 * encoding/asn1 ones for the types step passes it.
 */
struct asn1p {
	int	 str;		/* string tag chosen by a parameter, or 0 */
	int	 time;		/* 0x17 UTCTime or 0x18 GeneralizedTime, or 0 */
	int	 explicit, tag, cls;	/* tag -1: none */
};

static void
der_head(struct buf *b, unsigned char tag, size_t n)
{
	unsigned char h[8];
	size_t k = 0;
	int bytes, i;

	h[k++] = tag;
	if (n < 128)
		h[k++] = (unsigned char)n;
	else {
		bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
		h[k++] = (unsigned char)(0x80 | bytes);
		for (i = bytes - 1; i >= 0; i--)
			h[k++] = (unsigned char)(n >> (8 * i));
	}
	ca_tmpl_buf_add(b, (const char *)h, k);
}

/* Go's asn1 field parameters (the ones that change an encoding). */
static int
asn1_params(const char *s, size_t n, struct asn1p *p)
{
	size_t i = 0, k;

	memset(p, 0, sizeof(*p));
	p->tag = -1;
	p->cls = 0x80;
	while (i < n) {
		const char *w = s + i;

		for (k = 0; i + k < n && w[k] != ','; k++)
			;
		i += k + 1;
#define IS(lit) (k == sizeof(lit) - 1 && memcmp(w, lit, k) == 0)
		if (IS("utf8"))
			p->str = 0x0c;
		else if (IS("printable"))
			p->str = 0x13;
		else if (IS("ia5"))
			p->str = 0x16;
		else if (IS("numeric"))
			p->str = 0x12;
		else if (IS("utc"))
			p->time = 0x17;
		else if (IS("generalized"))
			p->time = 0x18;
		else if (IS("explicit"))
			p->explicit = 1;
		else if (IS("application"))
			p->cls = 0x40;
		else if (IS("private"))
			p->cls = 0xc0;
		else if (k > 4 && memcmp(w, "tag:", 4) == 0) {
			size_t j;

			p->tag = 0;
			for (j = 4; j < k; j++) {
				if (!isdigit((unsigned char)w[j]) ||
				    p->tag > 30)
					return -1;
				p->tag = p->tag * 10 + (w[j] - '0');
			}
			if (p->tag > 30)
				return -1;	/* high tag numbers: not here */
		}
#undef IS
	}
	if (p->explicit && p->tag < 0)
		return -1;
	return 0;
}

/* Wrap one TLV (in t) as params say (implicit or explicit tag) into b. */
static void
der_tagged(struct buf *b, const struct buf *t, const struct asn1p *p)
{
	if (p->tag < 0)
		ca_tmpl_buf_add(b, t->p, t->n);
	else if (p->explicit) {
		der_head(b, (unsigned char)(p->cls | 0x20 | p->tag), t->n);
		ca_tmpl_buf_add(b, t->p, t->n);
	} else {
		/* the tag byte replaced, its constructed bit kept */
		unsigned char c = (unsigned char)(p->cls | (t->p[0] & 0x20) |
		    p->tag);

		ca_tmpl_buf_add(b, (const char *)&c, 1);
		ca_tmpl_buf_add(b, t->p + 1, t->n - 1);
	}
}

static void
der_int(struct buf *b, int64_t v)
{
	unsigned char d[9];
	int n = 8, i;

	for (i = 0; i < 8; i++)
		d[i + 1] = (unsigned char)((uint64_t)v >> (8 * (7 - i)));
	/* minimal two's complement */
	i = 1;
	while (i < 8 && ((d[i] == 0 && !(d[i + 1] & 0x80)) ||
	    (d[i] == 0xff && (d[i + 1] & 0x80)))) {
		i++;
		n--;
	}
	der_head(b, 0x02, (size_t)n);
	ca_tmpl_buf_add(b, (const char *)d + i, (size_t)n);
}

/* Go's isPrintable for PrintableString. */
static int
asn1_printable(unsigned char c, int star, int amp)
{
	return isalnum(c) || c == ' ' || c == '\'' || c == '(' || c == ')' ||
	    c == '+' || c == ',' || c == '-' || c == '.' || c == '/' ||
	    c == ':' || c == '=' || c == '?' || (star && c == '*') ||
	    (amp && c == '&');
}

static int
utf8_ok(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = ca_tmpl_runelen(s + i, n - i);
		if (k == 1 && (unsigned char)s[i] >= 0x80)
			return 0;
	}
	return 1;
}

/* A Go string as encoding/asn1 marshals it; NULL or the error. */
static const char *
der_string(struct buf *b, const char *s, size_t n, const struct asn1p *p)
{
	int tag = p->str;
	size_t i;

	if (tag == 0) {
		tag = 0x13;
		for (i = 0; i < n; i++)
			if (!asn1_printable((unsigned char)s[i], 0, 0))
				tag = 0x0c;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((tag == 0x13 && !asn1_printable(c, 1, 0)) ||
		    (tag == 0x16 && c >= 0x80) ||
		    (tag == 0x12 && !isdigit(c) && c != ' '))
			return "string has characters its type does not allow";
	}
	if (tag == 0x0c && !utf8_ok(s, n))
		return "string not valid UTF-8";
	der_head(b, (unsigned char)tag, n);
	ca_tmpl_buf_add(b, s, n);
	return NULL;
}

/* A time as UTCTime (tag 0x17) or GeneralizedTime (0x18), Go's way. */
static const char *
der_time(struct buf *b, const struct val *v, int tag)
{
	struct tm tm;
	char t[32];
	int k, year, a = v->tz < 0 ? -v->tz : v->tz;

	if (ca_tmpl_time_fields(v, &tm) != 0)
		return "time out of range";
	year = tm.tm_year + 1900;
	if (tag == 0)
		tag = year >= 1950 && year < 2050 ? 0x17 : 0x18;
	if (tag == 0x17 && (year < 1950 || year > 2049))
		return "cannot represent time as UTCTime";
	if (year < 0 || year > 9999)
		return "cannot represent time as GeneralizedTime";
	k = snprintf(t, sizeof(t), "%0*d%02d%02d%02d%02d%02d", tag == 0x17 ?
	    2 : 4, tag == 0x17 ? year % 100 : year, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (v->tz == 0)
		k += snprintf(t + k, sizeof(t) - (size_t)k, "Z");
	else
		k += snprintf(t + k, sizeof(t) - (size_t)k, "%c%02d%02d",
		    v->tz < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	der_head(b, (unsigned char)tag, (size_t)k);
	ca_tmpl_buf_add(b, t, (size_t)k);
	return NULL;
}

static const char *
der_oid(struct buf *b, const char *s, size_t n)
{
	uint64_t c[64];
	unsigned char body[64 * 10], tmp[10];
	size_t nc = 0, i = 0, len = 0, k;
	int j;

	while (i <= n) {
		uint64_t v = 0;

		if (nc == 64)
			return "invalid oid value";
		for (k = 0; i < n && s[i] != '.'; i++, k++) {
			if (!isdigit((unsigned char)s[i]) || v > 0xffffffffu)
				return "invalid oid value";
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		if (k == 0)
			return "invalid oid value";
		c[nc++] = v;
		i++;
	}
	if (nc < 2 || c[0] > 2 || (c[0] < 2 && c[1] >= 40))
		return "invalid object identifier";
	c[1] += c[0] * 40;
	for (i = 1; i < nc; i++) {
		uint64_t v = c[i];

		j = 0;
		do {
			tmp[j++] = (unsigned char)(v & 0x7f);
			v >>= 7;
		} while (v);
		while (j-- > 0)
			body[len++] = (unsigned char)(tmp[j] | (j ? 0x80 : 0));
	}
	der_head(b, 0x06, len);
	ca_tmpl_buf_add(b, (const char *)body, len);
	return NULL;
}

/*
 * The DER buffer t as a base64 string value; t freed. A part built in
 * another buffer that went over the budget (over) fails the whole: never
 * a DER value cut short.
 */
static int
der_val(struct rstate *st, int node, struct buf *t, int over,
    const char *err, struct val *out)
{
	struct buf b;

	if (over && !t->over)
		t->over = over;
	if (t->over)
		return ca_tmpl_buf_fail(st, node, t);	/* frees t->p */
	if (err != NULL) {
		free(t->p);
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling %s: %s",
		    ca_tmpl_fname((int)st->t->nodes[node].i), err);
	}
	ca_tmpl_buf_init(&b, st);
	ca_tmpl_b64_encode(&b, (const unsigned char *)(t->p ? t->p : ""), t->n);
	free(t->p);
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN_SHARED(ca_tmpl_f_asn1Enc)
{
	const char *s, *colon, *err = NULL, *v;
	struct buf t, inner;
	struct asn1p p;
	size_t n, vn, at;
	char *end;

	(void)argc;
	WANT(&argv[0], V_STR);
	s = argv[0].s;
	n = argv[0].n;
	ca_tmpl_buf_init(&t, st);
	ca_tmpl_buf_init(&inner, st);
	/* "type:value", printable by default, split at the first ':' */
	if ((colon = memchr(s, ':', n)) == NULL) {
		colon = s - 1;
		v = s;
		vn = n;
	} else {
		v = colon + 1;
		vn = n - (size_t)(v - s);
	}
	if (asn1_params(s, colon >= s ? (size_t)(colon - s) : 0, &p) != 0) {
		err = "unsupported parameters";
		goto out;
	}
#define TYPE(lit) (colon >= s && (size_t)(colon - s) == sizeof(lit) - 1 && \
	memcmp(s, lit, sizeof(lit) - 1) == 0)
	if (TYPE("int")) {
		char num[32];
		long long i;

		if (vn == 0 || vn >= sizeof(num)) {
			err = "invalid int value";
			goto out;
		}
		memcpy(num, v, vn);
		num[vn] = '\0';
		errno = 0;
		i = strtoll(num, &end, 10);
		if (*end != '\0' || errno != 0 ||
		    isspace((unsigned char)num[0])) {
			err = "invalid int value";
			goto out;
		}
		der_int(&inner, i);
	} else if (TYPE("oid"))
		err = der_oid(&inner, v, vn);
	else if (TYPE("raw")) {
		if (ca_tmpl_b64_decode(&inner, v, vn, &at) != 0)
			err = "illegal base64 data";
		if (err == NULL) {
			ca_tmpl_buf_add(&t, inner.p ? inner.p : "", inner.n);
			free(inner.p);
			return der_val(st, node, &t, inner.over, NULL, out);
		}
	} else if (TYPE("bool") || TYPE("boolean")) {
		static const char *yes[] = { "1", "t", "T", "TRUE", "true",
		    "True" }, *no[] = { "0", "f", "F", "FALSE", "false",
		    "False" };
		int b = -1;
		size_t i;

		for (i = 0; i < 6; i++) {
			if (strlen(yes[i]) == vn && memcmp(yes[i], v, vn) == 0)
				b = 1;
			if (strlen(no[i]) == vn && memcmp(no[i], v, vn) == 0)
				b = 0;
		}
		if (b < 0)
			err = "invalid bool value";
		else
			ca_tmpl_buf_add(&inner,
			    b ? "\x01\x01\xff" : "\x01\x01\x00", 3);
	} else if (p.time) {
		struct val tv;

		if (ca_tmpl_time_parse(v, vn, &tv) != 0)
			err = p.time == 0x17 ? "invalid utc value" :
			    "invalid generalized value";
		else
			err = der_time(&inner, &tv, p.time);
	}
	else {
		size_t i;

		/* printable unless utf8, ia5 or numeric; step checks
		 * printable with '*' and '&' first, Go then refuses '&' */
		if (p.str == 0)
			p.str = 0x13;
		for (i = 0; p.str == 0x13 && i < vn; i++)
			if (!asn1_printable((unsigned char)v[i], 1, 1))
				err = "invalid printable value";
		if (err == NULL)
			err = der_string(&inner, v, vn, &p);
	}
#undef TYPE
	if (err == NULL && !inner.over)
		der_tagged(&t, &inner, &p);
out:
	free(inner.p);
	return der_val(st, node, &t, inner.over, err, out);
}

FN_SHARED(ca_tmpl_f_asn1Marshal)
{
	struct buf t, inner, ps;
	struct asn1p p;
	const char *err = NULL;
	int k;

	for (k = 1; k < argc; k++)
		WANT(&argv[k], V_STR);
	ca_tmpl_buf_init(&t, st);
	ca_tmpl_buf_init(&inner, st);
	ca_tmpl_buf_init(&ps, st);
	for (k = 1; k < argc; k++) {
		if (k > 1)
			ca_tmpl_buf_add(&ps, ",", 1);
		ca_tmpl_buf_add(&ps, argv[k].s, argv[k].n);
	}
	if (asn1_params(ps.p ? ps.p : "", ps.n, &p) != 0)
		err = "unsupported parameters";
	else if (argv[0].k == V_STR)
		err = der_string(&inner, argv[0].s, argv[0].n, &p);
	else if (argv[0].k == V_INT)
		der_int(&inner, argv[0].i);
	else if (argv[0].k == V_BOOL)
		ca_tmpl_buf_add(&inner,
		    argv[0].i ? "\x01\x01\xff" : "\x01\x01\x00", 3);
	else if (argv[0].k == V_TIME)
		err = der_time(&inner, &argv[0], p.time);
	else
		err = "cannot marshal this type (strings, ints, bools, times "
		    "only)";
	if (err == NULL && !inner.over && !ps.over)
		der_tagged(&t, &inner, &p);
	free(inner.p);
	free(ps.p);
	return der_val(st, node, &t, inner.over ? inner.over : ps.over, err,
	    out);
}

/* asn1Seq, asn1Set: the decoded values in a SEQUENCE or SET, in order. */
static int
der_list(struct rstate *st, int node, int argc, struct val *argv,
    struct val *out, unsigned char tag)
{
	struct buf t, body;
	size_t at;
	int k;

	ca_tmpl_buf_init(&t, st);
	ca_tmpl_buf_init(&body, st);
	for (k = 0; k < argc; k++) {
		if (ca_tmpl_want(st, node, &argv[k], V_STR, ca_tmpl_fname((int)
		    st->t->nodes[node].i)) != 0 || ca_tmpl_b64_decode(&body,
		    argv[k].s,
		    argv[k].n, &at) != 0) {
			free(body.p);
			if (st->err)
				return st->err;
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling %s: "
			    "illegal base64 data at input byte %zu",
			    ca_tmpl_fname((int)st->t->nodes[node].i), at);
		}
	}
	if (!body.over) {
		der_head(&t, tag, body.n);
		ca_tmpl_buf_add(&t, body.p ? body.p : "", body.n);
	}
	free(body.p);
	return der_val(st, node, &t, body.over, NULL, out);
}

FN_SHARED(ca_tmpl_f_asn1Seq)
{
	return der_list(st, node, argc, argv, out, 0x30);
}

FN_SHARED(ca_tmpl_f_asn1Set)
{
	return der_list(st, node, argc, argv, out, 0x31);
}

/*
 * step's time functions (internal/templates/funcmap.go), over times in
 * UTC; "now" is the clock's time, in UTC (Go's is the local zone).
 */
static struct val
time_now(void)
{
	struct timespec ts;
	struct val v;

	memset(&v, 0, sizeof(v));
	v.k = V_TIME;
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		v.i = (int64_t)ts.tv_sec;
		v.n = (size_t)ts.tv_nsec;
	}
	return v;
}

/* step's toTime: a time or Unix seconds in UTC, anything else now. */
static struct val
to_time(const struct val *a)
{
	struct val v;

	memset(&v, 0, sizeof(v));
	v.k = V_TIME;
	if (a->k == V_TIME) {
		v = *a;
		v.tz = 0;
	} else if (a->k == V_INT)
		v.i = a->i;
	else if (a->k == V_FLOAT && a->f > -1e17 && a->f < 1e17)
		v.i = (int64_t)a->f;
	else
		v = time_now();
	return v;
}

FN_SHARED(ca_tmpl_f_now)
{
	(void)st; (void)node; (void)argc; (void)argv;
	*out = time_now();
	return 0;
}

FN_SHARED(ca_tmpl_f_toTime)
{
	(void)st;
	(void)node;
	if (argc == 0)
		*out = time_now();
	else
		*out = to_time(&argv[0]);
	return 0;
}

FN_SHARED(ca_tmpl_f_formatTime)
{
	struct val v;
	char t[64];

	v = argc ? to_time(&argv[0]) : time_now();
	ca_tmpl_time_text(t, sizeof(t), &v, 2);
	return ca_tmpl_mkstr(st, node, t, strlen(t), out);
}

/* Layout names step's toTimeLayout knows; only RFC 3339 parses here. */
static const struct {
	const char *name, *layout;
} layouts[] = {
	{ "LAYOUT", "01/02 03:04:05PM '06 -0700" },
	{ "ANSIC", "Mon Jan _2 15:04:05 2006" },
	{ "UNIXDATE", "Mon Jan _2 15:04:05 MST 2006" },
	{ "RUBYDATE", "Mon Jan 02 15:04:05 -0700 2006" },
	{ "RFC822", "02 Jan 06 15:04 MST" },
	{ "RFC822Z", "02 Jan 06 15:04 -0700" },
	{ "RFC850", "Monday, 02-Jan-06 15:04:05 MST" },
	{ "RFC1123", "Mon, 02 Jan 2006 15:04:05 MST" },
	{ "RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700" },
	{ "RFC3339", "2006-01-02T15:04:05Z07:00" },
	{ "RFC3339NANO", "2006-01-02T15:04:05.999999999Z07:00" },
	{ "KITCHEN", "3:04PM" },
	{ "STAMP", "Jan _2 15:04:05" },
	{ "STAMPMILLI", "Jan _2 15:04:05.000" },
	{ "STAMPMICRO", "Jan _2 15:04:05.000000" },
	{ "STAMPNANO", "Jan _2 15:04:05.000000000" },
	{ "DATETIME", "2006-01-02 15:04:05" },
	{ "DATEONLY", "2006-01-02" },
	{ "TIMEONLY", "15:04:05" },
};

/* toTimeLayout's mapping: "time.RFC3339", "rfc3339"... or s itself. */
static void
layout_of(const struct val *v, const char **s, size_t *n)
{
	const char *p = v->s;
	size_t len = v->n, i, k;

	*s = v->s;
	*n = v->n;
	if (len >= 5 && memcmp(p, "time.", 5) == 0) {
		p += 5;
		len -= 5;
	}
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (strlen(layouts[i].name) != len)
			continue;
		for (k = 0; k < len; k++)
			if (toupper((unsigned char)p[k]) != layouts[i].name[k])
				break;
		if (k == len) {
			*s = layouts[i].layout;
			*n = strlen(*s);
			return;
		}
	}
}

FN_SHARED(ca_tmpl_f_toTimeLayout)
{
	const char *l;
	size_t n;

	(void)argc;
	WANT(&argv[0], V_STR);
	layout_of(&argv[0], &l, &n);
	if (l == argv[0].s) {
		*out = argv[0];
		return 0;
	}
	return ca_tmpl_mkstr(st, node, l, n, out);
}

/*
 * parseTime / mustParseTime: none (now), RFC 3339 text, or a layout
 * (RFC3339 or RFC3339Nano only) and text, and "UTC" as the location.
 * parseTime gives Go's zero time where mustParseTime fails.
 */
static int
parse_time(struct rstate *st, int node, int argc, struct val *argv,
    struct val *out, int must)
{
	const char *l;
	size_t n;
	int k;

	for (k = 0; k < argc; k++)
		WANT(&argv[k], V_STR);
	if (argc == 0) {
		*out = time_now();
		return 0;
	}
	if (argc >= 2) {
		layout_of(&argv[0], &l, &n);
		if (strcmp(l, layouts[9].layout) != 0 &&
		    strcmp(l, layouts[10].layout) != 0)
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling %s: "
			    "only the RFC3339 layouts are supported",
			    ca_tmpl_fname((int)st->t->nodes[node].i));
		if (argc == 3 && !(argv[2].n == 3 &&
		    memcmp(argv[2].s, "UTC", 3) == 0))
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling %s: "
			    "only the UTC location is supported",
			    ca_tmpl_fname((int)st->t->nodes[node].i));
	}
	if (ca_tmpl_time_parse(argv[argc >= 2].s, argv[argc >= 2].n, out) == 0)
		return 0;
	if (must)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "error calling "
		    "mustParseTime: cannot parse \"%.*s\" as RFC 3339",
		    (int)(argv[argc >= 2].n > 64 ? 64 : argv[argc >= 2].n),
		    argv[argc >= 2].s);
	memset(out, 0, sizeof(*out));
	out->k = V_TIME;
	out->i = -62135596800LL;	/* 0001-01-01T00:00:00Z */
	return 0;
}

FN_SHARED(ca_tmpl_f_parseTime)
{
	return parse_time(st, node, argc, argv, out, 0);
}

FN_SHARED(ca_tmpl_f_mustParseTime)
{
	return parse_time(st, node, argc, argv, out, 1);
}

