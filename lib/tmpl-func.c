/*
 * tmpl-func.c - the functions of the template language: Go's builtins
 * (and, or, not, len, index, eq..., print, printf) and the sprig ones
 * step's templates use, each with Go's argument checks, and the table
 * the parser resolves names with (step's own are in tmpl-step.c).
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

/* Functions. Each gets its checked argument count, sets *out. */


/* Argument types as Go checks them against the function's signature. */
int
ca_tmpl_want(struct rstate *st, int node, const struct val *v, int kind,
    const char *what)
{
	static const char *names[] = { "", "", "bool", "int", "float64",
	    "string", GT_MAP, "[]interface {}", GT_TIME };

	if (v->k == kind && !(kind == V_MAP && ca_tmpl_is_struct(v)))
		return 0;
	if (v->k == V_NOVAL || v->k == V_NIL)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "%s: invalid value; "
		    "expected %s", what, names[kind]);
	return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "%s: wrong type for value; "
	    "expected %s; got %s", what, names[kind], ca_tmpl_tname(v));
}


/* Where n first occurs in h from offset from on, or -1 (linear: glibc's
 * memmem is the two-way algorithm). */
static int
memmem_at(const char *h, size_t hn, const char *n, size_t nn, size_t from)
{
	const char *p;

	if (from > hn)
		return -1;
	if (nn == 0)
		return (int)from;
	p = memmem(h + from, hn - from, n, nn);
	return p ? (int)(p - h) : -1;
}

FN(f_not)
{
	(void)argc;
	(void)node;
	(void)st;
	*out = ca_tmpl_mkbool(!ca_tmpl_truth(&argv[0]));
	return 0;
}

FN(f_len)
{
	(void)argc;
	switch (argv[0].k) {
	case V_STR: *out = ca_tmpl_mkint((int64_t)argv[0].n); return 0;
	case V_ARR:
		*out = ca_tmpl_mkint(
		    (int64_t)json_object_array_length(argv[0].j));
		return 0;
	case V_MAP:
		if (ca_tmpl_is_struct(&argv[0]))
			break;
		*out = ca_tmpl_mkint(json_object_object_length(argv[0].j));
		return 0;
	case V_NOVAL: case V_NIL:
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling len: len of "
		    "nil pointer");
	}
	return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "error calling len: len of "
	    "type %s", ca_tmpl_tname(&argv[0]));
}

FN(f_index)
{
	struct val v = argv[0];
	int k;

	for (k = 1; k < argc; k++) {
		const struct val *ix = &argv[k];

		if (v.k == V_ARR) {
			int64_t n = (int64_t)json_object_array_length(v.j);

			if (ix->k != V_INT)
				return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
				    "error "
				    "calling index: cannot index slice/array "
				    "with %s%s", ix->k <= V_NIL ? "" : "type ",
				    ix->k <= V_NIL ? "nil" : ca_tmpl_tname(ix));
			if (ix->i < 0 || ix->i >= n)
				return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
				    "error "
				    "calling index: index out of range: %lld",
				    (long long)ix->i);
			v = ca_tmpl_jval(json_object_array_get_idx(v.j,
			    (size_t)ix->i));
		} else if (v.k == V_MAP && !ca_tmpl_is_struct(&v)) {
			struct json_object *e;

			if (ix->k != V_STR)
				return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
				    "error "
				    "calling index: value has type %s; should "
				    "be string", ca_tmpl_tname(ix));
			if (ca_tmpl_map_get(&v, ix->s, ix->n, &e))
				v = ca_tmpl_jval(e);
			else {
				memset(&v, 0, sizeof(v));
				v.k = V_NIL;	/* zero of interface{} */
			}
		} else if (v.k == V_NOVAL || v.k == V_NIL)
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling "
			    "index: index of untyped nil");
		else
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling "
			    "index: can't index item of type %s",
			    ca_tmpl_tname(&v));
	}
	*out = v;
	return 0;
}

/* Go's eq for one pair: 1, 0, or -1 with the error set. */
static int
eq1(struct rstate *st, int node, const struct val *a, const struct val *b)
{
	int an = a->k <= V_NIL, bn = b->k <= V_NIL;

	if (an || bn)
		return an && bn;
	if (a->k != b->k)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "error calling eq: "
		    "incompatible types for comparison"), -1;
	switch (a->k) {
	case V_BOOL: case V_INT: return a->i == b->i;
	case V_FLOAT: return a->f == b->f;
	case V_STR: return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
	case V_TIME: return a->i == b->i && a->n == b->n && a->tz == b->tz;
	default:
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "error calling eq: "
		    "non-comparable type %s", ca_tmpl_tname(a)), -1;
	}
}

FN(f_eq)
{
	int k, r;

	if (argc < 2)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "error calling eq: "
		    "missing argument for comparison");
	for (k = 1; k < argc; k++) {
		if ((r = eq1(st, node, &argv[0], &argv[k])) < 0)
			return st->err;
		if (r) {
			*out = ca_tmpl_mkbool(1);
			return 0;
		}
	}
	*out = ca_tmpl_mkbool(0);
	return 0;
}

FN(f_ne)
{
	int r;

	(void)argc;
	if ((r = eq1(st, node, &argv[0], &argv[1])) < 0)
		return st->err;
	*out = ca_tmpl_mkbool(!r);
	return 0;
}

/* Go's lt: -1 with the error set, else a < b. */
static int
lt1(struct rstate *st, int node, const struct val *a, const struct val *b)
{
	size_t n;
	int c;

	if (a->k <= V_NIL || b->k <= V_NIL || a->k == V_BOOL ||
	    a->k >= V_MAP)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling lt: invalid "
		    "type for comparison"), -1;
	if (a->k != b->k)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL, "error calling lt: "
		    "incompatible types for comparison"), -1;
	switch (a->k) {
	case V_INT: return a->i < b->i;
	case V_FLOAT: return a->f < b->f;
	default:
		n = a->n < b->n ? a->n : b->n;
		c = memcmp(a->s, b->s, n);
		return c < 0 || (c == 0 && a->n < b->n);
	}
}

static int
compare(struct rstate *st, int node, struct val *argv, struct val *out,
    int op)
{
	int l, e = 0;

	if ((l = lt1(st, node, &argv[0], &argv[1])) < 0)
		return st->err;
	if (op != 0 && op != 3 && (e = eq1(st, node, &argv[0], &argv[1])) < 0)
		return st->err;
	switch (op) {
	case 0: *out = ca_tmpl_mkbool(l); break;		/* lt */
	case 1: *out = ca_tmpl_mkbool(l || e); break;		/* le */
	case 2: *out = ca_tmpl_mkbool(!l && !e); break;		/* gt */
	default: *out = ca_tmpl_mkbool(!l); break;		/* ge */
	}
	return 0;
}

FN(f_lt) { (void)argc; return compare(st, node, argv, out, 0); }
FN(f_le) { (void)argc; return compare(st, node, argv, out, 1); }
FN(f_gt) { (void)argc; return compare(st, node, argv, out, 2); }
FN(f_ge) { (void)argc; return compare(st, node, argv, out, 3); }

/* fmt.Sprint: a space between operands when neither is a string. */
FN(f_print)
{
	struct buf b;
	int k;

	ca_tmpl_buf_init(&b, st);
	for (k = 0; k < argc; k++) {
		if (k > 0 && argv[k].k != V_STR && argv[k - 1].k != V_STR)
			ca_tmpl_buf_add(&b, " ", 1);
		if (ca_tmpl_print_val(&b, &argv[k], 0) != 0)
			return ca_tmpl_buf_fail(st, node, &b);
	}
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_println)
{
	struct buf b;
	int k;

	ca_tmpl_buf_init(&b, st);
	for (k = 0; k < argc; k++) {
		if (k > 0)
			ca_tmpl_buf_add(&b, " ", 1);
		if (ca_tmpl_print_val(&b, &argv[k], 0) != 0)
			return ca_tmpl_buf_fail(st, node, &b);
	}
	ca_tmpl_buf_add(&b, "\n", 1);
	return ca_tmpl_buf_val(st, node, &b, out);
}

/* Go's strconv.Quote (ASCII printable kept, UTF-8 printable kept). */
static void
go_quote(struct buf *b, const char *s, size_t n)
{
	size_t i;

	ca_tmpl_buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': ca_tmpl_buf_str(b, "\\\""); continue;
		case '\\': ca_tmpl_buf_str(b, "\\\\"); continue;
		case '\a': ca_tmpl_buf_str(b, "\\a"); continue;
		case '\b': ca_tmpl_buf_str(b, "\\b"); continue;
		case '\f': ca_tmpl_buf_str(b, "\\f"); continue;
		case '\n': ca_tmpl_buf_str(b, "\\n"); continue;
		case '\r': ca_tmpl_buf_str(b, "\\r"); continue;
		case '\t': ca_tmpl_buf_str(b, "\\t"); continue;
		case '\v': ca_tmpl_buf_str(b, "\\v"); continue;
		}
		if (c < 0x20 || c == 0x7f)
			ca_tmpl_buf_fmt(b, "\\x%02x", c);
		else if (c < 0x80)
			ca_tmpl_buf_add(b, s + i, 1);
		else {
			/* valid UTF-8 passes (printability not checked); a
			 * bad byte, overlong form or surrogate is \x.. */
			size_t len = ca_tmpl_runelen(s + i, n - i);

			if (len == 1)
				ca_tmpl_buf_fmt(b, "\\x%02x", c);
			else {
				ca_tmpl_buf_add(b, s + i, len);
				i += len - 1;
			}
		}
	}
	ca_tmpl_buf_add(b, "\"", 1);
}

/* A value too deep to print: an error, never a print cut short. */
static int
deeper(struct rstate *st, int node)
{
	return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
	    "value nested deeper than %d", CA_TMPL_MAX_DEPTH);
}

/* One printf verb on one argument, Go's way (wrong types: %!d(T=v)). */
static int
printf_verb(struct rstate *st, int node, struct buf *b, char verb,
    const struct val *v, int minus, int zero, int width)
{
	struct buf t;
	size_t i, pad, runes, sign = 0;
	int bad = 0;

	memset(&t, 0, sizeof(t));
	t.max = b->max;
	switch (verb) {
	case 'v':
		if (ca_tmpl_print_val(&t, v, 0) != 0 && !t.over)
			return ca_tmpl_buf_fail(st, node, &t);	/* too deep */
		break;
	case 's':
		if (v->k == V_STR || v->k == V_ARR || v->k == V_MAP) {
			if (ca_tmpl_print_val(&t, v, 0) != 0 && !t.over)
				return ca_tmpl_buf_fail(st, node, &t);
		} else
			bad = 1;
		break;
	case 'd':
		if (v->k == V_INT)
			ca_tmpl_buf_fmt(&t, "%lld", (long long)v->i);
		else
			bad = 1;
		break;
	case 'q':
		if (v->k == V_STR)
			go_quote(&t, v->s, v->n);
		else if (v->k == V_INT && v->i >= 0 && v->i < 0x80 &&
		    isprint((int)v->i) && v->i != '\'' && v->i != '\\')
			ca_tmpl_buf_fmt(&t, "'%c'", (int)v->i);
		else
			bad = 1;
		break;
	case 'x': case 'X':
		if (v->k == V_STR) {
			for (i = 0; i < v->n; i++)
				ca_tmpl_buf_fmt(&t,
				    verb == 'x' ? "%02x" : "%02X",
				    (unsigned char)v->s[i]);
		} else if (v->k == V_INT) {
			if (v->i < 0)
				ca_tmpl_buf_fmt(&t,
				    verb == 'x' ? "-%llx" : "-%llX",
				    (unsigned long long)-(v->i + 1) + 1);
			else
				ca_tmpl_buf_fmt(&t,
				    verb == 'x' ? "%llx" : "%llX",
				    (unsigned long long)v->i);
		} else if (v->k == V_FLOAT) {
			free(t.p);
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling "
			    "printf: %%%c of a float64 is not supported", verb);
		} else
			bad = 1;
		break;
	}
	if (bad) {
		ca_tmpl_buf_fmt(b, "%%!%c(", verb);
		if (v->k <= V_NIL)
			ca_tmpl_buf_str(b, "<nil>");
		else {
			ca_tmpl_buf_str(b, ca_tmpl_tname(v));
			ca_tmpl_buf_add(b, "=", 1);
			if (ca_tmpl_print_val(b, v, 0) != 0 && !b->over) {
				free(t.p);
				return deeper(st, node);
			}
		}
		ca_tmpl_buf_add(b, ")", 1);
		free(t.p);
		return 0;
	}
	if (t.over) {
		b->over = t.over;
		free(t.p);
		return 0;
	}
	/* Go pads to a width in characters, and zeros after a sign */
	for (i = 0, runes = 0; i < t.n; i += ca_tmpl_runelen(t.p + i,
	    t.n - i))
		runes++;
	pad = width > 0 && (size_t)width > runes ? (size_t)width - runes : 0;
	if (!minus && zero && (v->k == V_INT || v->k == V_FLOAT) && t.n > 0 &&
	    (t.p[0] == '-' || t.p[0] == '+')) {
		ca_tmpl_buf_add(b, t.p, 1);
		sign = 1;
	}
	if (!minus)
		while (pad-- > 0)
			ca_tmpl_buf_add(b, zero ? "0" : " ", 1);
	ca_tmpl_buf_add(b, t.p ? t.p + sign : "", t.n - sign);
	if (minus)
		while (pad-- > 0)
			ca_tmpl_buf_add(b, " ", 1);
	free(t.p);
	return 0;
}

FN(f_printf)
{
	struct buf b;
	const char *f;
	size_t i, n;
	int k = 1;

	WANT(&argv[0], V_STR);
	f = argv[0].s;
	n = argv[0].n;
	ca_tmpl_buf_init(&b, st);
	for (i = 0; i < n; i++) {
		int minus = 0, zero = 0, width = 0;
		char verb;

		if (f[i] != '%') {
			ca_tmpl_buf_add(&b, f + i, 1);
			continue;
		}
		for (i++; i < n && (f[i] == '-' || f[i] == '0'); i++)
			if (f[i] == '-')
				minus = 1;
			else
				zero = 1;
		for (; i < n && isdigit((unsigned char)f[i]); i++)
			if (width < 1000)
				width = width * 10 + (f[i] - '0');
		if (i >= n) {
			ca_tmpl_buf_str(&b, "%!(NOVERB)");
			break;
		}
		verb = f[i];
		if (verb == '%') {
			ca_tmpl_buf_add(&b, "%", 1);
			continue;
		}
		if (strchr("vsdqxX", verb) == NULL) {
			free(b.p);
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling "
			    "printf: verb %%%c is not supported (only %%s %%d "
			    "%%v %%q %%x %%X)", isprint((unsigned char)verb) ?
			    verb : '?');
		}
		if (k >= argc) {
			ca_tmpl_buf_fmt(&b, "%%!%c(MISSING)", verb);
			continue;
		}
		if (printf_verb(st, node, &b, verb, &argv[k++], minus, zero,
		    width) != 0) {
			free(b.p);
			return st->err;
		}
	}
	if (k < argc) {
		ca_tmpl_buf_str(&b, "%!(EXTRA ");
		for (; k < argc; k++) {
			if (argv[k].k <= V_NIL)
				ca_tmpl_buf_str(&b, "<nil>");
			else {
				ca_tmpl_buf_str(&b, ca_tmpl_tname(&argv[k]));
				ca_tmpl_buf_add(&b, "=", 1);
				if (ca_tmpl_print_val(&b, &argv[k], 0) != 0 &&
				    !b.over) {
					free(b.p);
					return deeper(st, node);
				}
			}
			if (k + 1 < argc)
				ca_tmpl_buf_str(&b, ", ");
		}
		ca_tmpl_buf_add(&b, ")", 1);
	}
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_toJson)
{
	struct buf b;

	(void)argc;
	ca_tmpl_buf_init(&b, st);
	if (ca_tmpl_marshal(&b, &argv[0], 0) != 0)
		return ca_tmpl_buf_fail(st, node, &b);
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_typeIs)
{
	const char *t;

	(void)argc;
	WANT(&argv[0], V_STR);
	t = ca_tmpl_tname(&argv[1]);
	*out = ca_tmpl_mkbool(strlen(t) == argv[0].n &&
	    memcmp(t, argv[0].s, argv[0].n) == 0);
	return 0;
}

FN(f_typeOf)
{
	const char *t = ca_tmpl_tname(&argv[0]);

	(void)argc;
	return ca_tmpl_mkstr(st, node, t, strlen(t), out);
}

static int
has_fix(struct rstate *st, int node, struct val *argv, struct val *out,
    int suffix)
{
	const struct val *x = &argv[0], *s = &argv[1];

	WANT(x, V_STR);
	WANT(s, V_STR);
	*out = ca_tmpl_mkbool(x->n <= s->n &&
	    memcmp(suffix ? s->s + s->n - x->n :
	    s->s, x->s, x->n) == 0);
	return 0;
}

FN(f_hasPrefix) { (void)argc; return has_fix(st, node, argv, out, 0); }
FN(f_hasSuffix) { (void)argc; return has_fix(st, node, argv, out, 1); }

FN(f_contains)
{
	(void)argc;
	WANT(&argv[0], V_STR);
	WANT(&argv[1], V_STR);
	*out = ca_tmpl_mkbool(memmem_at(argv[1].s, argv[1].n, argv[0].s,
	    argv[0].n, 0) >= 0);
	return 0;
}

/*
 * Go's strings.ToLower/ToUpper: Unicode simple case mapping (glibc's, in
 * C.UTF-8, made for this render only), a bad UTF-8 byte as U+FFFD; ASCII
 * alone where that locale is missing.
 */
static int
casemap(struct rstate *st, int node, struct val *argv, struct val *out,
    int up)
{
	const char *s;
	struct buf b;
	size_t i, k, n, o;
	uint32_t r;
	char c, enc[4];

	WANT(&argv[0], V_STR);
	s = argv[0].s;
	n = argv[0].n;
	ca_tmpl_buf_init(&b, st);
	for (i = 0; i < n; i += k) {
		c = s[i];
		k = 1;
		if ((unsigned char)c < 0x80) {
			if (up && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (!up && c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			ca_tmpl_buf_add(&b, &c, 1);
			continue;
		}
		if ((k = ca_tmpl_runelen(s + i, n - i)) == 1) {
			ca_tmpl_buf_add(&b, "\xef\xbf\xbd", 3);
			continue;
		}
		r = (unsigned char)s[i] &
		    (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
		for (o = 1; o < k; o++)
			r = (r << 6) | ((unsigned char)s[i + o] & 0x3f);
		if (st->utf8 == (locale_t)0)
			st->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8",
			    (locale_t)0);
		if (st->utf8 != (locale_t)0)
			r = (uint32_t)(up ? towupper_l((wint_t)r, st->utf8) :
			    towlower_l((wint_t)r, st->utf8));
		o = 0;
		ca_tmpl_put_utf8(enc, &o, r);
		ca_tmpl_buf_add(&b, enc, o);
	}
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_lower) { (void)argc; return casemap(st, node, argv, out, 0); }
FN(f_upper) { (void)argc; return casemap(st, node, argv, out, 1); }

/* Go's unicode.IsSpace of the rune at s: its length, or 0. */
static size_t
gospace(const char *s, size_t n)
{
	static const uint32_t z[] = { 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
	    0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
	    0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000 };
	unsigned char c = (unsigned char)s[0];
	size_t k, i;
	uint32_t r;

	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (c < 0x80 || (k = ca_tmpl_runelen(s, n)) == 1)
		return 0;
	r = c & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
	for (i = 1; i < k; i++)
		r = (r << 6) | ((unsigned char)s[i] & 0x3f);
	for (i = 0; i < sizeof(z) / sizeof(z[0]); i++)
		if (r == z[i])
			return k;
	return 0;
}

FN(f_trim)
{
	const char *s;
	size_t n, k, j;

	(void)argc;
	WANT(&argv[0], V_STR);
	s = argv[0].s;
	n = argv[0].n;
	while (n > 0 && (k = gospace(s, n)) > 0) {
		s += k;
		n -= k;
	}
	/* from the end: the space may be up to three bytes long */
	for (;;) {
		for (j = 1, k = 0; j <= 3 && j <= n && k == 0; j++)
			if (ca_tmpl_runelen(s + n - j, j) == j)
				k = gospace(s + n - j, j) == j ? j : 0;
		if (k == 0)
			break;
		n -= k;
	}
	*out = argv[0];
	out->s = s;
	out->n = n;
	return 0;
}

static int
trimfix(struct rstate *st, int node, struct val *argv, struct val *out,
    int suffix)
{
	const struct val *x = &argv[0], *s = &argv[1];

	WANT(x, V_STR);
	WANT(s, V_STR);
	*out = *s;
	if (x->n <= s->n && memcmp(suffix ? s->s + s->n - x->n : s->s, x->s,
	    x->n) == 0) {
		if (!suffix)
			out->s += x->n;
		out->n -= x->n;
	}
	return 0;
}

FN(f_trimPrefix) { (void)argc; return trimfix(st, node, argv, out, 0); }
FN(f_trimSuffix) { (void)argc; return trimfix(st, node, argv, out, 1); }

FN(f_replace)
{
	const struct val *o = &argv[0], *nw = &argv[1], *s = &argv[2];
	struct buf b;
	size_t i = 0, k;
	int at;

	(void)argc;
	WANT(o, V_STR);
	WANT(nw, V_STR);
	WANT(s, V_STR);
	ca_tmpl_buf_init(&b, st);
	if (o->n == 0) {
		/* Go: the new string before each rune and at the end */
		for (i = 0; i < s->n && !b.over; i += k) {
			k = ca_tmpl_runelen(s->s + i, s->n - i);
			ca_tmpl_buf_add(&b, nw->s, nw->n);
			ca_tmpl_buf_add(&b, s->s + i, k);
		}
		ca_tmpl_buf_add(&b, nw->s, nw->n);
		return ca_tmpl_buf_val(st, node, &b, out);
	}
	while (!b.over && (at = memmem_at(s->s, s->n, o->s, o->n, i)) >= 0) {
		ca_tmpl_buf_add(&b, s->s + i, (size_t)at - i);
		ca_tmpl_buf_add(&b, nw->s, nw->n);
		i = (size_t)at + o->n;
	}
	ca_tmpl_buf_add(&b, s->s + i, s->n - i);
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_repeat)
{
	struct buf b;
	int64_t k;

	(void)argc;
	WANT(&argv[0], V_INT);
	WANT(&argv[1], V_STR);
	ca_tmpl_buf_init(&b, st);
	if (argv[0].i < 0)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling repeat: "
		    "negative count");
	if (argv[1].n == 0)
		return ca_tmpl_mkstr(st, node, "", 0, out);	/* no loop */
	if ((uint64_t)argv[0].i > b.max / argv[1].n) {
		free(b.p);
		return ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
		    "template functions make "
		    "over %d bytes", CA_TMPL_MAX_MEM);
	}
	for (k = 0; k < argv[0].i && !b.over; k++)
		ca_tmpl_buf_add(&b, argv[1].s, argv[1].n);
	return ca_tmpl_buf_val(st, node, &b, out);
}

/* A new array (kept), or NULL with the error set. */
static struct json_object *
new_arr(struct rstate *st, int node)
{
	return ca_tmpl_keep(st, node, json_object_new_array());
}

static int
arr_push(struct rstate *st, int node, struct json_object *a,
    const struct val *v)
{
	struct json_object *j;

	if (ca_tmpl_charge(st, node, 64) != 0 || ca_tmpl_to_json(st, node, v,
	    &j) != 0)
		return st->err;
	if (json_object_array_add(a, j) != 0) {
		json_object_put(j);
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* strings.Split(s, sep): as a list (asmap 0) or sprig's _0, _1 map. */
static int
split(struct rstate *st, int node, struct val *argv, struct val *out,
    int asmap)
{
	const struct val *sep = &argv[0], *s = &argv[1];
	struct json_object *c;
	struct val piece;
	size_t i = 0, k, idx = 0;
	int at;
	char key[32];

	WANT(sep, V_STR);
	WANT(s, V_STR);
	c = asmap ? ca_tmpl_keep(st, node, json_object_new_object()) :
	    new_arr(st, node);
	if (c == NULL)
		return st->err;
	if (asmap)
		ca_tmpl_set_gotype(c, "map[string]string");
	memset(&piece, 0, sizeof(piece));
	piece.k = V_STR;
	for (;;) {
		if (sep->n == 0) {
			if (i >= s->n)
				break;
			k = ca_tmpl_runelen(s->s + i, s->n - i);
			at = (int)(i + k);
		} else {
			at = memmem_at(s->s, s->n, sep->s, sep->n, i);
			k = 0;
		}
		piece.s = s->s + i;
		piece.n = (at < 0 ? s->n : (size_t)at) - i;
		if (sep->n == 0)
			piece.n = k;
		if (asmap) {
			struct json_object *j;

			snprintf(key, sizeof(key), "_%zu", idx++);
			if (ca_tmpl_charge(st, node, 96) != 0 ||
			    ca_tmpl_to_json(st, node, &piece, &j) != 0)
				return st->err;
			if (json_object_object_add(c, key, j) != 0) {
				json_object_put(j);
				return ca_tmpl_rerr(st, node, CA_ERR_NOMEM,
				    "out of memory");
			}
		} else if (arr_push(st, node, c, &piece) != 0)
			return st->err;
		if (sep->n == 0) {
			i = (size_t)at;
			continue;
		}
		if (at < 0)
			break;
		i = (size_t)at + sep->n;
	}
	*out = ca_tmpl_jval(c);
	return 0;
}

FN(f_split) { (void)argc; return split(st, node, argv, out, 1); }
FN(f_splitList) { (void)argc; return split(st, node, argv, out, 0); }

FN(f_join)
{
	struct buf b;
	struct val e, sv;
	size_t i, n;
	int first = 1;

	(void)argc;
	WANT(&argv[0], V_STR);
	ca_tmpl_buf_init(&b, st);
	if (argv[1].k == V_ARR) {
		n = json_object_array_length(argv[1].j);
		/* a step an element: nils and "" make no bytes to charge */
		if (ca_tmpl_steps(st, node, n) != 0) {
			free(b.p);
			return st->err;
		}
		for (i = 0; i < n; i++) {
			e = ca_tmpl_jval(json_object_array_get_idx(argv[1].j,
			    i));
			if (e.k == V_NIL)
				continue;	/* sprig skips nils */
			if (!first)
				ca_tmpl_buf_add(&b, argv[0].s, argv[0].n);
			first = 0;
			if (e.k == V_STR)
				ca_tmpl_buf_add(&b, e.s, e.n);
			else if (ca_tmpl_print_val(&b, &e, 0) != 0)
				return ca_tmpl_buf_fail(st, node, &b);
		}
	} else if (argv[1].k > V_NIL) {
		if (ca_tmpl_strval(st, node, &argv[1], &sv) != 0) {
			free(b.p);
			return st->err;
		}
		ca_tmpl_buf_add(&b, sv.s, sv.n);
	}
	return ca_tmpl_buf_val(st, node, &b, out);
}

static int
firstlast(struct rstate *st, int node, struct val *argv, struct val *out,
    int last)
{
	size_t n;

	if (argv[0].k != V_ARR)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling %s: Cannot "
		    "find %s on type %s", last ? "last" : "first", last ?
		    "last" : "first", ca_tmpl_tname(&argv[0]));
	n = json_object_array_length(argv[0].j);
	if (n == 0)
		out->k = V_NIL;
	else
		*out = ca_tmpl_jval(json_object_array_get_idx(argv[0].j,
		    last ? n - 1 : 0));
	return 0;
}

FN(f_first) { (void)argc; return firstlast(st, node, argv, out, 0); }
FN(f_last) { (void)argc; return firstlast(st, node, argv, out, 1); }

/* sprig's empty. */
static int
empty(const struct val *v)
{
	if (ca_tmpl_is_struct(v))
		return 0;
	return !ca_tmpl_truth(v);
}

FN(f_empty)
{
	(void)argc;
	(void)st;
	(void)node;
	*out = ca_tmpl_mkbool(empty(&argv[0]));
	return 0;
}

FN(f_default)
{
	(void)st;
	(void)node;
	if (argc < 2 || empty(&argv[1]))
		*out = argv[0];
	else
		*out = argv[1];
	return 0;
}

FN(f_coalesce)
{
	int k;

	(void)st;
	(void)node;
	out->k = V_NIL;
	for (k = 0; k < argc; k++)
		if (!empty(&argv[k])) {
			*out = argv[k];
			break;
		}
	return 0;
}

FN(f_ternary)
{
	(void)argc;
	WANT(&argv[2], V_BOOL);
	*out = argv[2].i ? argv[0] : argv[1];
	return 0;
}

FN(f_list)
{
	struct json_object *a;
	int k;

	if ((a = new_arr(st, node)) == NULL)
		return st->err;
	for (k = 0; k < argc; k++)
		if (arr_push(st, node, a, &argv[k]) != 0)
			return st->err;
	*out = ca_tmpl_jval(a);
	return 0;
}

/*
 * Before set or unset replaces or deletes member key of o (json-c frees
 * it then): the arena takes a reference, as a variable, the range being
 * walked or dot may still hold the old value (Go's values outlive it).
 */
static int
pin_member(struct rstate *st, int node, struct json_object *o,
    const char *key)
{
	struct json_object *old;

	if (!json_object_object_get_ex(o, key, &old) || old == NULL)
		return 0;
	return ca_tmpl_keep(st, node, json_object_get(old)) == NULL ?
	    st->err : 0;
}

/* Put key (n bytes) = v in object o (ours). */
static int
obj_set(struct rstate *st, int node, struct json_object *o, const char *k,
    size_t n, const struct val *v)
{
	struct json_object *j;
	char *key;

	if (ca_tmpl_charge(st, node, n + 96) != 0)
		return st->err;
	if (memchr(k, '\0', n) != NULL)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "a key contains a NUL byte");
	if ((key = strndup(k, n)) == NULL)
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	if (ca_tmpl_to_json(st, node, v, &j) != 0) {
		free(key);
		return st->err;
	}
	if (pin_member(st, node, o, key) != 0) {
		free(key);
		json_object_put(j);
		return st->err;
	}
	if (json_object_object_add(o, key, j) != 0) {
		free(key);
		json_object_put(j);
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	}
	free(key);
	return 0;
}

FN(f_dict)
{
	struct json_object *o;
	struct val k, empty_str;
	int i;

	if ((o = ca_tmpl_keep(st, node, json_object_new_object())) == NULL)
		return st->err;
	memset(&empty_str, 0, sizeof(empty_str));
	empty_str.k = V_STR;
	empty_str.s = "";
	for (i = 0; i < argc; i += 2) {
		if (ca_tmpl_strval(st, node, &argv[i], &k) != 0 ||
		    obj_set(st, node, o, k.s, k.n, i + 1 < argc ?
		    &argv[i + 1] : &empty_str) != 0)
			return st->err;
	}
	*out = ca_tmpl_jval(o);
	return 0;
}

FN(f_set)
{
	(void)argc;
	WANT(&argv[0], V_MAP);
	WANT(&argv[1], V_STR);
	if (obj_set(st, node, argv[0].j, argv[1].s, argv[1].n, &argv[2]) != 0)
		return st->err;
	*out = argv[0];
	return 0;
}

FN(f_unset)
{
	char *key;

	(void)argc;
	WANT(&argv[0], V_MAP);
	WANT(&argv[1], V_STR);
	*out = argv[0];
	if (memchr(argv[1].s, '\0', argv[1].n) != NULL)
		return 0;	/* no such key: strndup would cut it short */
	if ((key = strndup(argv[1].s, argv[1].n)) == NULL)
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	if (pin_member(st, node, argv[0].j, key) != 0) {
		free(key);
		return st->err;
	}
	json_object_object_del(argv[0].j, key);
	free(key);
	return 0;
}

FN(f_get)
{
	struct json_object *e;

	(void)argc;
	if (argv[0].k > V_NIL)
		WANT(&argv[0], V_MAP);
	WANT(&argv[1], V_STR);
	if (ca_tmpl_map_get(&argv[0], argv[1].s, argv[1].n, &e))
		*out = ca_tmpl_jval(e);
	else {
		out->k = V_STR;
		out->s = "";
	}
	return 0;
}

FN(f_hasKey)
{
	struct json_object *e;

	(void)argc;
	if (argv[0].k > V_NIL)
		WANT(&argv[0], V_MAP);
	WANT(&argv[1], V_STR);
	*out = ca_tmpl_mkbool(ca_tmpl_map_get(&argv[0], argv[1].s, argv[1].n,
	    &e));
	return 0;
}

FN(f_keys)
{
	struct json_object *a;
	const char **keys;
	struct val kv;
	size_t i, n;
	int k;

	if ((a = new_arr(st, node)) == NULL)
		return st->err;
	ca_tmpl_set_gotype(a, "[]string");
	memset(&kv, 0, sizeof(kv));
	kv.k = V_STR;
	for (k = 0; k < argc; k++) {
		if (argv[k].k <= V_NIL)
			continue;
		WANT(&argv[k], V_MAP);
		if ((keys = ca_tmpl_sorted_keys(argv[k].j, &n)) == NULL)
			return ca_tmpl_rerr(st, node, CA_ERR_NOMEM,
			    "out of memory");
		for (i = 0; i < n; i++) {
			kv.s = keys[i];
			kv.n = strlen(keys[i]);
			if (arr_push(st, node, a, &kv) != 0) {
				free(keys);
				return st->err;
			}
		}
		free(keys);
	}
	*out = ca_tmpl_jval(a);
	return 0;
}

static int
quote(struct rstate *st, int node, int argc, struct val *argv,
    struct val *out, int single)
{
	struct buf b;
	struct val s;
	int k, n = 0;

	ca_tmpl_buf_init(&b, st);
	for (k = 0; k < argc; k++) {
		if (argv[k].k <= V_NIL)
			continue;
		if (ca_tmpl_strval(st, node, &argv[k], &s) != 0) {
			free(b.p);
			return st->err;
		}
		if (n++)
			ca_tmpl_buf_add(&b, " ", 1);
		if (single) {
			ca_tmpl_buf_add(&b, "'", 1);
			ca_tmpl_buf_add(&b, s.s, s.n);
			ca_tmpl_buf_add(&b, "'", 1);
		} else
			go_quote(&b, s.s, s.n);
	}
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_quote) { return quote(st, node, argc, argv, out, 0); }
FN(f_squote) { return quote(st, node, argc, argv, out, 1); }

FN(f_b64enc)
{
	struct buf b;

	(void)argc;
	WANT(&argv[0], V_STR);
	ca_tmpl_buf_init(&b, st);
	ca_tmpl_b64_encode(&b, (const unsigned char *)argv[0].s, argv[0].n);
	return ca_tmpl_buf_val(st, node, &b, out);
}

/* sprig's b64dec: on bad input the error text is the result. */
FN(f_b64dec)
{
	struct buf b;
	size_t at;

	(void)argc;
	WANT(&argv[0], V_STR);
	ca_tmpl_buf_init(&b, st);
	if (ca_tmpl_b64_decode(&b, argv[0].s, argv[0].n, &at) == 0)
		return ca_tmpl_buf_val(st, node, &b, out);
	free(b.p);
	ca_tmpl_buf_init(&b, st);
	ca_tmpl_buf_fmt(&b, "illegal base64 data at input byte %zu", at);
	return ca_tmpl_buf_val(st, node, &b, out);
}

FN(f_toString) { (void)argc; return ca_tmpl_strval(st, node, &argv[0], out); }

/* sprig's concat (lists joined) and uniq (first of each, in order). */
FN(f_concat)
{
	struct json_object *a;
	struct val e;
	size_t i, n;
	int k;

	if ((a = new_arr(st, node)) == NULL)
		return st->err;
	for (k = 0; k < argc; k++) {
		if (argv[k].k != V_ARR)
			return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
			    "error calling "
			    "concat: Cannot concat type %s as list",
			    ca_tmpl_tname(&argv[k]));
		n = json_object_array_length(argv[k].j);
		for (i = 0; i < n; i++) {
			e = ca_tmpl_jval(json_object_array_get_idx(argv[k].j,
			    i));
			if (arr_push(st, node, a, &e) != 0)
				return st->err;
		}
	}
	*out = ca_tmpl_jval(a);
	return 0;
}

FN(f_uniq)
{
	struct json_object *a;
	struct val e, f;
	size_t i, j, n, m;
	int dup, r;

	(void)argc;
	if (argv[0].k != V_ARR)
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling uniq: "
		    "Cannot find uniq on type %s", ca_tmpl_tname(&argv[0]));
	if ((a = new_arr(st, node)) == NULL)
		return st->err;
	n = json_object_array_length(argv[0].j);
	for (i = 0; i < n; i++) {
		e = ca_tmpl_jval(json_object_array_get_idx(argv[0].j, i));
		m = json_object_array_length(a);
		/* quadratic in the list: each comparison is a step */
		for (j = 0, dup = 0; j < m && !dup; j++) {
			if (ca_tmpl_step(st, node) != 0)
				return st->err;
			f = ca_tmpl_jval(json_object_array_get_idx(a, j));
			/* different types differ; same scalars compare */
			if (e.k != f.k || e.k >= V_MAP)
				continue;
			if ((r = eq1(st, node, &e, &f)) < 0)
				return st->err;
			dup = r;
		}
		if (!dup && arr_push(st, node, a, &e) != 0)
			return st->err;
	}
	*out = ca_tmpl_jval(a);
	return 0;
}


FN(f_fail)
{
	char msg[401];

	(void)argc;
	(void)out;
	WANT(&argv[0], V_STR);
	/* step reports the message alone (its TemplateError); one line */
	ca_tmpl_clean_text(msg, sizeof(msg), argv[0].s, argv[0].n);
	st->err = ca_err(CA_ERR_FORBIDDEN, "%s", msg);
	return st->err;
}

FN(f_required)
{
	(void)argc;
	WANT(&argv[0], V_STR);
	if (argv[1].k <= V_NIL || (argv[1].k == V_STR && argv[1].n == 0))
		return ca_tmpl_rerr(st, node, CA_ERR_INVAL,
		    "error calling required: "
		    "%.*s", (int)(argv[0].n > 200 ? 200 : argv[0].n),
		    argv[0].s);
	*out = argv[1];
	return 0;
}

/* and, or: evaluated lazily by the caller; never called. */
FN_SHARED(ca_tmpl_f_lazy)
{
	(void)st; (void)node; (void)argc; (void)argv; (void)out;
	return 0;
}

static const struct func funcs[] = {
	/* text/template's builtins */
	{ "and", 1, -1, ca_tmpl_f_lazy },
	{ "or", 1, -1, ca_tmpl_f_lazy },
	{ "not", 1, 1, f_not },
	{ "len", 1, 1, f_len },
	{ "index", 1, -1, f_index },
	{ "eq", 1, -1, f_eq },
	{ "ne", 2, 2, f_ne },
	{ "lt", 2, 2, f_lt },
	{ "le", 2, 2, f_le },
	{ "gt", 2, 2, f_gt },
	{ "ge", 2, 2, f_ge },
	{ "print", 0, -1, f_print },
	{ "println", 0, -1, f_println },
	{ "printf", 1, -1, f_printf },
	/* sprig's, as step keeps them, and step's fail */
	{ "toJson", 1, 1, f_toJson },
	{ "typeIs", 2, 2, f_typeIs },
	{ "typeOf", 1, 1, f_typeOf },
	{ "hasPrefix", 2, 2, f_hasPrefix },
	{ "hasSuffix", 2, 2, f_hasSuffix },
	{ "contains", 2, 2, f_contains },
	{ "lower", 1, 1, f_lower },
	{ "upper", 1, 1, f_upper },
	{ "trim", 1, 1, f_trim },
	{ "trimPrefix", 2, 2, f_trimPrefix },
	{ "trimSuffix", 2, 2, f_trimSuffix },
	{ "replace", 3, 3, f_replace },
	{ "repeat", 2, 2, f_repeat },
	{ "split", 2, 2, f_split },
	{ "splitList", 2, 2, f_splitList },
	{ "join", 2, 2, f_join },
	{ "first", 1, 1, f_first },
	{ "last", 1, 1, f_last },
	{ "default", 1, -1, f_default },
	{ "empty", 1, 1, f_empty },
	{ "coalesce", 0, -1, f_coalesce },
	{ "ternary", 3, 3, f_ternary },
	{ "list", 0, -1, f_list },
	{ "dict", 0, -1, f_dict },
	{ "set", 3, 3, f_set },
	{ "unset", 2, 2, f_unset },
	{ "get", 2, 2, f_get },
	{ "hasKey", 2, 2, f_hasKey },
	{ "keys", 0, -1, f_keys },
	{ "quote", 0, -1, f_quote },
	{ "squote", 0, -1, f_squote },
	{ "b64enc", 1, 1, f_b64enc },
	{ "b64dec", 1, 1, f_b64dec },
	{ "toString", 1, 1, f_toString },
	{ "fail", 1, 1, f_fail },
	{ "required", 2, 2, f_required },
	{ "concat", 0, -1, f_concat },
	/* step's time functions */
	{ "now", 0, 0, ca_tmpl_f_now },
	{ "toTime", 0, 1, ca_tmpl_f_toTime },
	{ "formatTime", 0, 1, ca_tmpl_f_formatTime },
	{ "parseTime", 0, 3, ca_tmpl_f_parseTime },
	{ "mustParseTime", 0, 3, ca_tmpl_f_mustParseTime },
	{ "toTimeLayout", 1, 1, ca_tmpl_f_toTimeLayout },
	{ "uniq", 1, 1, f_uniq },
	/* step's ASN.1 helpers */
	{ "asn1Enc", 1, 1, ca_tmpl_f_asn1Enc },
	{ "asn1Marshal", 1, -1, ca_tmpl_f_asn1Marshal },
	{ "asn1Seq", 0, -1, ca_tmpl_f_asn1Seq },
	{ "asn1Set", 0, -1, ca_tmpl_f_asn1Set },
};
static const size_t nfuncs = sizeof(funcs) / sizeof(funcs[0]);

int
ca_tmpl_func_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nfuncs; i++)
		if (strlen(funcs[i].name) == len &&
		    memcmp(funcs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Entry i of the table (an index ca_tmpl_func_lookup gave). */
const struct func *
ca_tmpl_func(int i)
{
	return &funcs[i];
}

const char *
ca_tmpl_fname(int i)
{
	return funcs[i].name;
}
