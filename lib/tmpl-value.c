/*
 * tmpl-value.c - the values of the template language: json-c data read
 * as Go's (map[string]interface{}, float64, step's structs), the
 * render's arena and its bounds (steps, bytes), Go's fmt %v printing,
 * encoding/json's output, and the helpers the functions share (base64,
 * UTF-8, times in RFC 3339).
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

/* Go type names of what renders create; also markers of our own ints. */
const char ca_tmpl_gt_int[] = "int";
const char ca_tmpl_gt_map[] = "map[string]interface {}";
const char ca_tmpl_gt_time[] = "time.Time";	/* a time in a container */

/* Values and the render state. */



/*
 * The Go structs of step's template data: a struct object's members are
 * keyed by Go field name (what templates write: .Subject.CommonName);
 * toJson writes them in declaration order under their JSON names,
 * leaving out "-" fields (json NULL) and empty omitempty ones. zero is
 * the kind of a field the data leaves out: 's' string, 'i' int, else nil.
 */
static const struct gofield subject_fields[] = {
	{ "Country", "country", 1, 'a' },
	{ "Organization", "organization", 1, 'a' },
	{ "OrganizationalUnit", "organizationalUnit", 1, 'a' },
	{ "Locality", "locality", 1, 'a' },
	{ "Province", "province", 1, 'a' },
	{ "StreetAddress", "streetAddress", 1, 'a' },
	{ "PostalCode", "postalCode", 1, 'a' },
	{ "SerialNumber", "serialNumber", 1, 's' },
	{ "CommonName", "commonName", 1, 's' },
	{ "ExtraNames", "extraNames", 1, 'a' },
	{ NULL, NULL, 0, 0 },
};
static const struct gofield san_fields[] = {
	{ "Type", "type", 0, 's' },
	{ "Value", "value", 0, 's' },
	{ "ASN1Value", "asn1Value", 1, 'a' },
	{ NULL, NULL, 0, 0 },
};
static const struct gofield dn_fields[] = {
	{ "Type", "type", 0, 'a' },
	{ "Value", "value", 0, 'o' },
	{ NULL, NULL, 0, 0 },
};
static const struct gofield cr_fields[] = {
	{ "Version", "version", 0, 'i' },
	{ "Subject", "subject", 0, 'o' },
	{ "RawSubject", "rawSubject", 0, 'a' },
	{ "DNSNames", "dnsNames", 0, 'a' },
	{ "EmailAddresses", "emailAddresses", 0, 'a' },
	{ "IPAddresses", "ipAddresses", 0, 'a' },
	{ "URIs", "uris", 0, 'a' },
	{ "SANs", "sans", 0, 'a' },
	{ "Extensions", "extensions", 0, 'a' },
	{ "KeyUsage", "keyUsage", 0, 'i' },
	{ "ExtKeyUsage", "extKeyUsage", 0, 'a' },
	{ "UnknownExtKeyUsage", "unknownExtKeyUsage", 0, 'a' },
	{ "BasicConstraints", "basicConstraints", 0, 'o' },
	{ "SignatureAlgorithm", "signatureAlgorithm", 0, 'i' },
	{ "ChallengePassword", NULL, 0, 's' },
	{ "PublicKey", NULL, 0, 'o' },
	{ "PublicKeyAlgorithm", NULL, 0, 'i' },
	{ "Signature", NULL, 0, 'a' },
	{ "Signer", NULL, 0, 'o' },
	{ NULL, NULL, 0, 0 },
};
static const struct {
	const char		*type;
	const struct gofield	*fields;
} gostructs[] = {
	{ "x509util.Subject", subject_fields },
	{ "x509util.SubjectAlternativeName", san_fields },
	{ "x509util.DistinguishedName", dn_fields },
	{ "*x509util.CertificateRequest", cr_fields },
	{ "x509util.CertificateRequest", cr_fields },
};

const struct gofield *
ca_tmpl_gofields(const char *type)
{
	size_t i;

	for (i = 0; type && i < sizeof(gostructs) / sizeof(gostructs[0]); i++)
		if (strcmp(gostructs[i].type, type) == 0)
			return gostructs[i].fields;
	return NULL;
}


int
ca_tmpl_rerr(struct rstate *st, int node, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * n bytes of s as one line of valid UTF-8 into out (len bytes, NUL
 * included): a control character as a space, a bad byte as U+FFFD (what
 * Go's encoding/json makes of it), cut at a character's end to fit.
 * Messages carry CSR and token text (fail, mustParseTime) into logs and
 * HTTP replies.
 */
void
ca_tmpl_clean_text(char *out, size_t len, const char *s, size_t n)
{
	const char *piece;
	size_t i = 0, o = 0, k, pl;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		k = c < 0x80 ? 1 : ca_tmpl_runelen(s + i, n - i);
		piece = s + i;
		pl = k;
		if (c < 0x20 || c == 0x7f)
			piece = " ";
		else if (c >= 0x80 && k == 1) {
			piece = "\xef\xbf\xbd";
			pl = 3;
		}
		if (o + pl >= len)
			break;
		memcpy(out + o, piece, pl);
		o += pl;
		i += k;
	}
	if (len > 0)
		out[o] = '\0';
}

int
ca_tmpl_rerr(struct rstate *st, int node, int code, const char *fmt, ...)
{
	char msg[320], clean[400];
	va_list ap;
	const struct node *n = &st->t->nodes[node < 0 ? 0 : node];
	int line, col;

	if (st->err)
		return st->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ca_tmpl_clean_text(clean, sizeof(clean), msg, strlen(msg));
	ca_tmpl_linecol(st->t, n->off, &line, &col);
	st->err = ca_err(code, "%s:%d:%d: %s", st->t->name, line, col, clean);
	return st->err;
}

/* One evaluation step; past CA_TMPL_MAX_STEPS, an error. */
int
ca_tmpl_step(struct rstate *st, int node)
{
	return ca_tmpl_steps(st, node, 1);
}

/* n steps at once (work in proportion to what a function reads). */
int
ca_tmpl_steps(struct rstate *st, int node, size_t n)
{
	if (n > CA_TMPL_MAX_STEPS ||
	    (st->steps += (long)n) > CA_TMPL_MAX_STEPS)
		return ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
		    "template takes over %d evaluation steps",
		    CA_TMPL_MAX_STEPS);
	return 0;
}

/* Charge n bytes made by a function against the render's budget. */
int
ca_tmpl_charge(struct rstate *st, int node, size_t n)
{
	if (n > CA_TMPL_MAX_MEM || st->mem + n > CA_TMPL_MAX_MEM)
		return ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
		    "template functions make "
		    "over %d bytes", CA_TMPL_MAX_MEM);
	st->mem += n;
	return 0;
}

/* Keep a new json object until the end of the render; NULL: no memory. */
struct json_object *
ca_tmpl_keep(struct rstate *st, int node, struct json_object *j)
{
	if (j == NULL) {
		ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (st->narena == st->arenacap) {
		size_t cap = st->arenacap ? st->arenacap * 2 : 64;
		struct json_object **na = reallocarray(st->arena, cap,
		    sizeof(*na));

		if (na == NULL) {
			json_object_put(j);
			ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
			return NULL;
		}
		st->arena = na;
		st->arenacap = cap;
	}
	st->arena[st->narena++] = j;
	return j;
}

const char *
ca_tmpl_gotype_of(struct json_object *j)
{
	return j ? json_object_get_userdata(j) : NULL;
}

/* An object marked as a Go struct (not a map)? */
int
ca_tmpl_is_struct(const struct val *v)
{
	const char *g;

	return v->k == V_MAP && (g = ca_tmpl_gotype_of(v->j)) != NULL &&
	    strncmp(g, "map[", 4) != 0;
}

/* A json value (from the data or a container) as a value. */
struct val
ca_tmpl_jval(struct json_object *j)
{
	struct val v;

	memset(&v, 0, sizeof(v));
	switch (json_object_get_type(j)) {
	case json_type_null:
		v.k = V_NIL;
		break;
	case json_type_boolean:
		v.k = V_BOOL;
		v.i = json_object_get_boolean(j);
		break;
	case json_type_int:
		/* Data read from JSON holds float64s in Go; ints we stored */
		if (ca_tmpl_gotype_of(j) == GT_INT) {
			v.k = V_INT;
			v.i = json_object_get_int64(j);
		} else {
			v.k = V_FLOAT;
			v.f = (double)json_object_get_int64(j);
		}
		break;
	case json_type_double:
		v.k = V_FLOAT;
		v.f = json_object_get_double(j);
		break;
	case json_type_string:
		v.k = V_STR;
		v.s = json_object_get_string(j);
		v.n = (size_t)json_object_get_string_len(j);
		if (ca_tmpl_gotype_of(j) == GT_TIME)
			ca_tmpl_time_parse(v.s, v.n, &v);
		break;
	case json_type_object:
		v.k = V_MAP;
		v.j = j;
		break;
	case json_type_array:
		v.k = V_ARR;
		v.j = j;
		break;
	}
	return v;
}

/* Go's name of a value's type, as %T and error messages print it. */
const char *
ca_tmpl_tname(const struct val *v)
{
	const char *g;

	switch (v->k) {
	case V_BOOL: return "bool";
	case V_INT: return "int";
	case V_FLOAT: return "float64";
	case V_STR: return "string";
	case V_TIME: return GT_TIME;
	case V_MAP:
	case V_ARR:
		if ((g = ca_tmpl_gotype_of(v->j)) != NULL)
			return g;
		return v->k == V_MAP ? GT_MAP : "[]interface {}";
	default: return "<nil>";
	}
}

/*
 * Deep copy of j (userdata kept) charged to the budget; depth bounded.
 * Returns NULL with the error set.
 */
struct json_object *
ca_tmpl_copy_json(struct rstate *st, int node, struct json_object *j, int depth)
{
	struct json_object *c = NULL, *e;
	size_t i, n;

	if (depth > CA_TMPL_MAX_DEPTH) {
		ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "value nested deeper than %d",
		    CA_TMPL_MAX_DEPTH);
		return NULL;
	}
	/* about what json-c spends on an object and its slot */
	if (ca_tmpl_charge(st, node, 96) != 0)
		return NULL;
	switch (json_object_get_type(j)) {
	case json_type_null:
		return NULL;
	case json_type_boolean:
		c = json_object_new_boolean(json_object_get_boolean(j));
		break;
	case json_type_int:
		c = json_object_new_int64(json_object_get_int64(j));
		break;
	case json_type_double:
		c = json_object_new_double(json_object_get_double(j));
		break;
	case json_type_string:
		n = (size_t)json_object_get_string_len(j);
		if (ca_tmpl_charge(st, node, n) != 0)
			return NULL;
		c = json_object_new_string_len(json_object_get_string(j),
		    (int)n);
		break;
	case json_type_array:
		if ((c = json_object_new_array()) == NULL)
			break;
		n = json_object_array_length(j);
		for (i = 0; i < n; i++) {
			e = json_object_array_get_idx(j, i);
			if (e != NULL && (e = ca_tmpl_copy_json(st, node, e,
			    depth + 1)) == NULL) {
				json_object_put(c);
				return NULL;
			}
			if (json_object_array_add(c, e) != 0) {
				json_object_put(e);
				json_object_put(c);
				c = NULL;
				break;
			}
		}
		break;
	case json_type_object:
		if ((c = json_object_new_object()) == NULL)
			break;
		json_object_object_foreach(j, key, val) {
			e = val;
			if (e != NULL && (e = ca_tmpl_copy_json(st, node, e,
			    depth + 1)) == NULL) {
				json_object_put(c);
				return NULL;
			}
			if (json_object_object_add(c, key, e) != 0) {
				json_object_put(e);
				json_object_put(c);
				c = NULL;
				break;
			}
		}
		break;
	}
	if (c == NULL) {
		ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (ca_tmpl_gotype_of(j) != NULL)
		json_object_set_userdata(c, json_object_get_userdata(j), NULL);
	return c;
}

/*
 * A value as a json object to put in a container (a new reference, or
 * NULL for nil with *ok set). Containers are copied: no cycles.
 */
int
ca_tmpl_to_json(struct rstate *st, int node, const struct val *v,
    struct json_object **out)
{
	struct json_object *j = NULL;

	*out = NULL;
	switch (v->k) {
	case V_NOVAL:
	case V_NIL:
		return 0;
	case V_BOOL:
		j = json_object_new_boolean((json_bool)v->i);
		break;
	case V_INT:
		if ((j = json_object_new_int64(v->i)) != NULL)
			ca_tmpl_set_gotype(j, GT_INT);
		break;
	case V_FLOAT:
		j = json_object_new_double(v->f);
		break;
	case V_STR:
		if (ca_tmpl_charge(st, node, v->n + 32) != 0)
			return st->err;
		j = json_object_new_string_len(v->s, (int)v->n);
		break;
	case V_MAP:
	case V_ARR:
		if ((j = ca_tmpl_copy_json(st, node, v->j, 0)) == NULL)
			return st->err;
		break;
	case V_TIME: {
		/* kept as its RFC 3339 text, marked, read back as a time */
		char t[64];

		ca_tmpl_time_text(t, sizeof(t), v, 1);
		if ((j = json_object_new_string(t)) != NULL)
			ca_tmpl_set_gotype(j, GT_TIME);
		break;
	}
	}
	if (j == NULL)
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	*out = j;
	return 0;
}

/* A new string value (copied into the arena). */
int
ca_tmpl_mkstr(struct rstate *st, int node, const char *s, size_t n,
    struct val *out)
{
	struct json_object *j;

	memset(out, 0, sizeof(*out));
	if (ca_tmpl_charge(st, node, n + 32) != 0)
		return st->err;
	if ((j = ca_tmpl_keep(st, node, json_object_new_string_len(s,
	    (int)n))) == NULL)
		return st->err;
	*out = ca_tmpl_jval(j);
	return 0;
}

struct val
ca_tmpl_mkbool(int b)
{
	struct val v;

	memset(&v, 0, sizeof(v));
	v.k = V_BOOL;
	v.i = b != 0;
	return v;
}

struct val
ca_tmpl_mkint(int64_t i)
{
	struct val v;

	memset(&v, 0, sizeof(v));
	v.k = V_INT;
	v.i = i;
	return v;
}

/* ---------------------------------------------------------------- */
/* A growing buffer (bounded), for output and for strings being built. */


void
ca_tmpl_buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->over)
		return;
	if (n > b->max - b->n) {
		b->over = 1;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *np;

		while (cap < b->n + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->over = 2;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void
ca_tmpl_buf_str(struct buf *b, const char *s)
{
	ca_tmpl_buf_add(b, s, strlen(s));
}

void
ca_tmpl_buf_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void
ca_tmpl_buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ca_tmpl_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/* The buffer's text as a string value (charged); frees the buffer. */
int
ca_tmpl_buf_val(struct rstate *st, int node, struct buf *b, struct val *out)
{
	int r;

	if (b->over) {
		free(b->p);
		return b->over == 2 ? ca_tmpl_rerr(st, node, CA_ERR_NOMEM,
		    "out of memory") : ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
		    "template functions make over %d bytes", CA_TMPL_MAX_MEM);
	}
	r = ca_tmpl_mkstr(st, node, b->p ? b->p : "", b->n, out);
	free(b->p);
	return r;
}

void
ca_tmpl_buf_init(struct buf *b, struct rstate *st)
{
	memset(b, 0, sizeof(*b));
	b->max = CA_TMPL_MAX_MEM - st->mem;
}

/*
 * Go's shortest formatting of a float64: fmt's %v (json 0: %e form when
 * the decimal exponent is < -4 or >= 6, "1.7e+09"), or encoding/json's
 * (json 1: plain unless < 1e-6 or >= 1e21, then "1e-07" written "1e-7").
 */
static void
fmt_float(struct buf *b, double f, int json)
{
	char e[40], out[400], *x;
	int p, nd, exp10, dp;

	if (isnan(f)) {
		ca_tmpl_buf_str(b, json ? "null" : "NaN");
		return;
	}
	if (isinf(f)) {
		ca_tmpl_buf_str(b, json ? "null" : f > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (f == 0) {
		ca_tmpl_buf_str(b, signbit(f) ? "-0" : "0");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, f);
		if (strtod(e, NULL) == f)
			break;
	}
	x = strchr(e, 'e');
	exp10 = atoi(x + 1);
	nd = p;
	dp = exp10 + 1;
	if (json ? (fabs(f) < 1e-6 || fabs(f) >= 1e21) :
	    (exp10 < -4 || exp10 >= 6)) {
		/* e: mantissa as C prints it, exponent Go's way */
		char mant[40];
		int ex = exp10;

		snprintf(mant, sizeof(mant), "%.*e", nd - 1, f);
		*strchr(mant, 'e') = '\0';
		if (json)
			snprintf(out, sizeof(out), "%se%c%d", mant,
			    ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
		else
			snprintf(out, sizeof(out), "%se%c%02d", mant,
			    ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
	} else
		snprintf(out, sizeof(out), "%.*f", nd - dp > 0 ? nd - dp : 0,
		    f);
	ca_tmpl_buf_str(b, out);
}

/* Go's encoding/json string: HTML-safe, \u2028/9 escaped, bad UTF-8 as
 * U+FFFD. */
static void
json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, start = 0;

	ca_tmpl_buf_add(b, "\"", 1);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[8];

		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' &&
			    c != '>' && c != '&') {
				i++;
				continue;
			}
			ca_tmpl_buf_add(b, s + start, i - start);
			switch (c) {
			case '"': esc = "\\\""; break;
			case '\\': esc = "\\\\"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			default:
				memcpy(u, "\\u00", 4);
				u[4] = hex[c >> 4];
				u[5] = hex[c & 15];
				u[6] = '\0';
				esc = u;
			}
			ca_tmpl_buf_str(b, esc);
			start = ++i;
			continue;
		}
		{
			/* one UTF-8 sequence, validated */
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
			    c >= 0xc0 ? 2 : 0, k;
			uint32_t r = c & (len == 2 ? 0x1f : len == 3 ? 0x0f :
			    0x07);
			int bad = len == 0 || c > 0xf4 || i + len > n;

			for (k = 1; !bad && k < len; k++) {
				unsigned char cc = (unsigned char)s[i + k];

				if ((cc & 0xc0) != 0x80)
					bad = 1;
				r = (r << 6) | (cc & 0x3f);
			}
			if (!bad && ((len == 2 && r < 0x80) ||
			    (len == 3 && r < 0x800) || (len == 4 &&
			    (r < 0x10000 || r > 0x10ffff)) ||
			    (r >= 0xd800 && r <= 0xdfff)))
				bad = 1;
			if (bad) {
				ca_tmpl_buf_add(b, s + start, i - start);
				ca_tmpl_buf_str(b, "\\ufffd");
				start = ++i;
				continue;
			}
			if (r == 0x2028 || r == 0x2029) {
				ca_tmpl_buf_add(b, s + start, i - start);
				ca_tmpl_buf_str(b,
				    r == 0x2028 ? "\\u2028" : "\\u2029");
				start = i + len;
			}
			i += len;
		}
	}
	ca_tmpl_buf_add(b, s + start, i - start);
	ca_tmpl_buf_add(b, "\"", 1);
}

static int
keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object j, sorted (Go's map order); caller frees. */
const char **
ca_tmpl_sorted_keys(struct json_object *j, size_t *n)
{
	const char **k;
	size_t i = 0;

	*n = (size_t)json_object_object_length(j);
	if ((k = calloc(*n + 1, sizeof(*k))) == NULL)
		return NULL;
	json_object_object_foreach(j, key, val) {
		(void)val;
		k[i++] = key;
	}
	qsort(k, *n, sizeof(*k), keycmp);
	return k;
}


static int format_val(struct buf *, const struct val *, int, int);

/*
 * Field g of struct v: the member named as the Go field, or as its JSON
 * name (data written as step marshals it). 1 found (*m), 0 not.
 */
int
ca_tmpl_struct_member(const struct val *v, const struct gofield *g,
    struct json_object **m)
{
	*m = NULL;
	if (json_object_object_get_ex(v->j, g->go, m))
		return 1;
	return g->json != NULL && json_object_object_get_ex(v->j, g->json, m);
}

/*
 * A struct's members: for JSON those the table knows (see gofield) that
 * Go writes, then any other; for %v every field of the table in order
 * (the zero value of one the data lacks: "", 0, [] or <nil>), then any
 * other member.
 */
static int
format_struct(struct buf *b, const struct val *v, int depth, int json)
{
	static const char *zero[] = { "", "0", "[]", "<nil>" };
	const struct gofield *f = ca_tmpl_gofields(ca_tmpl_gotype_of(v->j)), *g;
	struct json_object *m;
	struct val e;
	int n = 0;

	for (g = f; g && g->go; g++) {
		int has = ca_tmpl_struct_member(v, g, &m);

		if (json && (!has || g->json == NULL))
			continue;
		if (has)
			e = ca_tmpl_jval(m);
		if (json && g->omitempty && !ca_tmpl_truth(&e) && e.k != V_MAP)
			continue;
		if (n++)
			ca_tmpl_buf_str(b, json ? "," : " ");
		if (json) {
			json_str(b, g->json, strlen(g->json));
			ca_tmpl_buf_add(b, ":", 1);
		} else if (!has) {
			ca_tmpl_buf_str(b,
			    zero[g->zero == 's' ? 0 : g->zero == 'i' ?
			    1 : g->zero == 'a' ? 2 : 3]);
			continue;
		}
		if (format_val(b, &e, depth + 1, json) != 0)
			return -1;
	}
	json_object_object_foreach(v->j, key, val) {
		for (g = f; g && g->go; g++)
			if (strcmp(g->go, key) == 0 ||
			    (g->json != NULL && strcmp(g->json, key) == 0))
				break;
		if (g && g->go)
			continue;
		if (n++)
			ca_tmpl_buf_str(b, json ? "," : " ");
		if (json) {
			json_str(b, key, strlen(key));
			ca_tmpl_buf_add(b, ":", 1);
		}
		e = ca_tmpl_jval(val);
		if (format_val(b, &e, depth + 1, json) != 0)
			return -1;
	}
	return 0;
}

/*
 * Write v as Go's json.Marshal (json 1) or fmt's %v (json 0: nil as
 * "<nil>", map[k:v ...], [a b], structs {a b}) does; 0, or -1 (too deep,
 * over the buffer's bound, no memory). Map keys sorted, as both do.
 */
static int
format_val(struct buf *b, const struct val *v, int depth, int json)
{
	const char **keys;
	const char *sep = json ? "," : " ";
	size_t i, n;
	struct val e;

	if (depth > CA_TMPL_MAX_DEPTH)
		return -1;
	switch (v->k) {
	case V_NOVAL:
	case V_NIL:
		ca_tmpl_buf_str(b, json ? "null" : "<nil>");
		break;
	case V_BOOL:
		ca_tmpl_buf_str(b, v->i ? "true" : "false");
		break;
	case V_INT:
		ca_tmpl_buf_fmt(b, "%lld", (long long)v->i);
		break;
	case V_FLOAT:
		fmt_float(b, v->f, json);
		break;
	case V_STR:
		if (json)
			json_str(b, v->s, v->n);
		else
			ca_tmpl_buf_add(b, v->s, v->n);
		break;
	case V_TIME: {
		char t[80];

		ca_tmpl_time_text(t, sizeof(t), v, json ? 1 : 0);
		if (json)
			json_str(b, t, strlen(t));
		else
			ca_tmpl_buf_str(b, t);
		break;
	}
	case V_ARR:
		ca_tmpl_buf_add(b, "[", 1);
		n = json_object_array_length(v->j);
		for (i = 0; i < n; i++) {
			if (i)
				ca_tmpl_buf_str(b, sep);
			e = ca_tmpl_jval(json_object_array_get_idx(v->j, i));
			if (format_val(b, &e, depth + 1, json) != 0)
				return -1;
		}
		ca_tmpl_buf_add(b, "]", 1);
		break;
	case V_MAP:
		if (ca_tmpl_is_struct(v)) {
			/* Go prints a pointer to a struct as &{...} on top */
			const char *gt = ca_tmpl_gotype_of(v->j);

			if (!json && depth == 0 && gt != NULL && gt[0] == '*')
				ca_tmpl_buf_add(b, "&", 1);
			ca_tmpl_buf_add(b, "{", 1);
			if (format_struct(b, v, depth, json) != 0)
				return -1;
			ca_tmpl_buf_add(b, "}", 1);
			break;
		}
		ca_tmpl_buf_str(b, json ? "{" : "map[");
		if ((keys = ca_tmpl_sorted_keys(v->j, &n)) == NULL)
			return -1;
		for (i = 0; i < n; i++) {
			if (i)
				ca_tmpl_buf_str(b, sep);
			if (json)
				json_str(b, keys[i], strlen(keys[i]));
			else
				ca_tmpl_buf_str(b, keys[i]);
			ca_tmpl_buf_add(b, ":", 1);
			e = ca_tmpl_jval(json_object_object_get(v->j, keys[i]));
			if (format_val(b, &e, depth + 1, json) != 0) {
				free(keys);
				return -1;
			}
		}
		free(keys);
		ca_tmpl_buf_str(b, json ? "}" : "]");
		break;
	}
	return b->over ? -1 : 0;
}

int
ca_tmpl_marshal(struct buf *b, const struct val *v, int depth)
{
	return format_val(b, v, depth, 1);
}

int
ca_tmpl_print_val(struct buf *b, const struct val *v, int depth)
{
	return format_val(b, v, depth, 0);
}

/* A buffer-building failure as an error. */
int
ca_tmpl_buf_fail(struct rstate *st, int node, struct buf *b)
{
	free(b->p);
	b->p = NULL;
	if (b->over == 2)
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	if (b->over)
		return ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
		    "template functions make "
		    "over %d bytes", CA_TMPL_MAX_MEM);
	return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
	    "value nested deeper than %d",
	    CA_TMPL_MAX_DEPTH);
}

/* sprig's strval: strings as they are, the rest as %v. */
int
ca_tmpl_strval(struct rstate *st, int node, const struct val *v,
    struct val *out)
{
	struct buf b;

	if (v->k == V_STR) {
		*out = *v;
		return 0;
	}
	ca_tmpl_buf_init(&b, st);
	if (ca_tmpl_print_val(&b, v, 0) != 0)
		return ca_tmpl_buf_fail(st, node, &b);
	return ca_tmpl_buf_val(st, node, &b, out);
}

/* Go's truth of a value (if, with, and, or, not). */
int
ca_tmpl_truth(const struct val *v)
{
	switch (v->k) {
	case V_BOOL: case V_INT: return v->i != 0;
	case V_FLOAT: return v->f != 0;
	case V_STR: return v->n > 0;
	case V_ARR: return json_object_array_length(v->j) > 0;
	case V_MAP:
		return ca_tmpl_is_struct(v) ||
		    json_object_object_length(v->j) > 0;
	case V_TIME: return 1;	/* a struct */
	default: return 0;
	}
}

/* ---------------------------------------------------------------- */
/* Shared helpers: base64, UTF-8, map members, times. */

/* base64.StdEncoding of n bytes of s, into b. */
void
ca_tmpl_b64_encode(struct buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	char q[4];

	for (i = 0; i + 2 < n && !b->over; i += 3) {
		q[0] = tab[s[i] >> 2];
		q[1] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		q[3] = tab[s[i + 2] & 63];
		ca_tmpl_buf_add(b, q, 4);
	}
	if (n - i == 1) {
		q[0] = tab[s[i] >> 2];
		q[1] = tab[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		ca_tmpl_buf_add(b, q, 4);
	} else if (n - i == 2) {
		q[0] = tab[s[i] >> 2];
		q[1] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = tab[(s[i + 1] & 15) << 2];
		q[3] = '=';
		ca_tmpl_buf_add(b, q, 4);
	}
}

static int
b64v(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Skip CR and LF from s[i] on; the index after them. */
static size_t
b64_skip_nl(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/*
 * base64.StdEncoding's decoding (padding required, CR and LF ignored)
 * into b: 0, or -1 with *at the offset Go's CorruptInputError names
 * (sprig's b64dec returns that text): a quantum cut short by the end
 * names its start, missing padding the end, trailing bytes the first.
 * Go's decodeQuantum, step for step.
 */
int
ca_tmpl_b64_decode(struct buf *b, const char *s, size_t n, size_t *at)
{
	size_t si = 0;
	uint32_t acc;
	int j, dlen, v;
	unsigned char in;
	char o[3];

	*at = 0;
	while (si < n) {
		acc = 0;
		dlen = 4;
		for (j = 0; j < 4; j++) {
			if (si == n) {
				if (j == 0)
					return 0;
				*at = si - (size_t)j;
				return -1;
			}
			in = (unsigned char)s[si++];
			if ((v = b64v(in)) >= 0) {
				acc |= (uint32_t)v << (6 * (3 - j));
				continue;
			}
			if (in == '\n' || in == '\r') {
				j--;
				continue;
			}
			if (in != '=' || j < 2) {
				*at = si - 1;
				return -1;
			}
			if (j == 2) {
				/* "==": the second one after any newlines */
				si = b64_skip_nl(s, n, si);
				if (si == n) {
					*at = n;
					return -1;
				}
				if (s[si] != '=') {
					*at = si - 1;
					return -1;
				}
				si++;
			}
			si = b64_skip_nl(s, n, si);
			if (si < n) {
				*at = si;	/* trailing garbage */
				return -1;
			}
			dlen = j;
			break;
		}
		o[0] = (char)(acc >> 16);
		o[1] = (char)(acc >> 8);
		o[2] = (char)acc;
		ca_tmpl_buf_add(b, o, (size_t)dlen - 1);
	}
	return 0;
}

/*
 * Length of the UTF-8 sequence at s (1 for a bad byte), as Go's
 * utf8.DecodeRune steps: overlong forms, surrogates (U+D800-DFFF) and
 * code points over U+10FFFF are bad bytes, one at a time.
 */
size_t
ca_tmpl_runelen(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0], lo = 0x80, hi = 0xbf;
	size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 :
	    c >= 0xc2 && c < 0xe0 ? 2 : 1, k;

	if (len > n)
		return 1;
	/* the second byte's range (Go's acceptRanges) */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (len > 1 && ((unsigned char)s[1] < lo || (unsigned char)s[1] > hi))
		return 1;
	for (k = 2; k < len; k++)
		if (((unsigned char)s[k] & 0xc0) != 0x80)
			return 1;
	return len;
}

/*
 * Member n bytes of k in a map value: 1 found (*e), 0 not (a key with a
 * NUL byte is in no json-c object). Keys of any length: they may come
 * from the data (index .Token .Token.which).
 */
int
ca_tmpl_map_get(const struct val *m, const char *k, size_t n,
    struct json_object **e)
{
	char small[256], *key = small;
	int r;

	*e = NULL;
	if (m->k != V_MAP || memchr(k, '\0', n) != NULL)
		return 0;
	if (n >= sizeof(small) && (key = malloc(n + 1)) == NULL)
		return 0;
	memcpy(key, k, n);
	key[n] = '\0';
	r = json_object_object_get_ex(m->j, key, e) ? 1 : 0;
	if (key != small)
		free(key);
	return r;
}

static int
two(const char *s)
{
	return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) ?
	    (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Go's time.Parse(time.RFC3339, s) (fractions allowed, as Go does):
 * "2023-03-29T02:03:57Z", "...57.5+02:00". 0, or -1 (v untouched).
 */
int
ca_tmpl_time_parse(const char *s, size_t n, struct val *v)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int year, mo, d, h, mi, sec, oh = 0, om = 0, k, leap;
	size_t i = 19, ns = 0, scale = 100000000;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || two(s) < 0 || two(s + 2) < 0)
		return -1;
	year = two(s) * 100 + two(s + 2);
	mo = two(s + 5);
	d = two(s + 8);
	h = two(s + 11);
	mi = two(s + 14);
	sec = two(s + 17);
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 59)
		return -1;
	if (s[i] == '.') {
		for (i++, k = 0; i < n && isdigit((unsigned char)s[i]); i++) {
			if (k++ < 9) {
				ns += (size_t)(s[i] - '0') * scale;
				scale /= 10;
			}
		}
		if (k == 0)
			return -1;
	}
	if (i + 1 == n && s[i] == 'Z')
		;
	else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && (oh = two(s + i + 1)) >= 0 && oh < 24 &&
	    (om = two(s + i + 4)) >= 0 && om < 60) {
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
	} else
		return -1;
	memset(v, 0, sizeof(*v));
	v->k = V_TIME;
	v->tz = oh * 3600 + om * 60;
	v->i = days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - v->tz;
	v->n = ns;
	return 0;
}

/* A time's civil fields in its own offset. */
int
ca_tmpl_time_fields(const struct val *v, struct tm *tm)
{
	time_t t = (time_t)(v->i + v->tz);

	return gmtime_r(&t, tm) != NULL ? 0 : -1;
}

/*
 * A time as text: mode 1 Go's RFC3339Nano (its JSON), 2 RFC3339 (step's
 * formatTime), 0 Go's Time.String ("2023-11-14 22:13:20 +0000 UTC").
 */
void
ca_tmpl_time_text(char *buf, size_t len, const struct val *v, int mode)
{
	struct tm tm;
	char frac[32] = "", zone[24];
	int k, a = v->tz < 0 ? -v->tz : v->tz;

	if (ca_tmpl_time_fields(v, &tm) != 0) {
		snprintf(buf, len, "(time out of range)");
		return;
	}
	if (v->n != 0 && mode != 2) {
		snprintf(frac, sizeof(frac), ".%09zu", v->n % 1000000000);
		for (k = (int)strlen(frac) - 1; frac[k] == '0'; k--)
			frac[k] = '\0';
	}
	if (mode == 0)
		snprintf(zone, sizeof(zone), "%c%02d%02d %s", v->tz < 0 ? '-' :
		    '+', a / 3600, a / 60 % 60, v->tz == 0 ? "UTC" : "");
	else if (v->tz == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02d:%02d", v->tz < 0 ? '-' :
		    '+', a / 3600, a / 60 % 60);
	if (mode == 0 && v->tz != 0) {
		/* a zone without a name prints its offset twice */
		k = (int)strlen(zone);
		snprintf(zone + k, sizeof(zone) - (size_t)k, "%c%02d%02d",
		    v->tz < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	}
	snprintf(buf, len, "%04d-%02d-%02d%c%02d:%02d:%02d%s%s%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, mode ? 'T' : ' ',
	    tm.tm_hour, tm.tm_min, tm.tm_sec, frac, mode ? "" : " ", zone);
}

