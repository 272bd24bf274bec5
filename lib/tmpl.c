/*
 * tmpl.c - step's certificate template language (see tmpl.h): a parser
 * of Go text/template syntax into a node array, and an evaluator that
 * walks it. The values, their printing and JSON are tmpl-value.c's, the
 * functions tmpl-func.c's and tmpl-step.c's (tmpl-internal.h).
 *
 * Parsing resolves everything it can: function names to table entries,
 * variables to slots (so an undefined variable or function is refused at
 * load, as Go does), and checks nesting. Rendering walks the nodes with
 * a step counter; every json-c object it creates is kept in the render's
 * arena and released at the end (values in variables and arguments are
 * borrowed from there). The data is deep-copied into the arena first, so
 * that the caller's tree is never touched, not even its reference counts.
 * A container put into another container is copied (value semantics),
 * so that no render can build a cycle.
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

/* ---------------------------------------------------------------- */
/* Parser. */

struct var {
	size_t	 s, len;
	int	 slot;
};

struct parser {
	struct ca_tmpl	*t;
	const char	*p, *end;	/* scan position */
	int		 depth, ranges;
	struct var	*vars;
	int		 nvars, varcap;
	int		 err;
};


/* Names refused on purpose, with the reason. */
static const struct {
	const char *name, *why;
} refused[] = {
	{ "env", "it would put the environment in certificates" },
	{ "expandenv", "it would put the environment in certificates" },
	{ "getHostByName", "it does I/O" },
	{ "until", "it makes unbounded loops" },
	{ "untilStep", "it makes unbounded loops" },
	{ "seq", "it makes unbounded loops" },
};

void
ca_tmpl_linecol(const struct ca_tmpl *t, size_t off, int *line, int *col)
{
	size_t i;
	int l = 1, c = 1;

	for (i = 0; i < off && i < t->srclen; i++) {
		if (t->src[i] == '\n') {
			l++;
			c = 1;
		} else
			c++;
	}
	*line = l;
	*col = c;
}

static int
perr(struct parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int line, col;

	if (ps->err)
		return ps->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ca_tmpl_linecol(ps->t, (size_t)(at - ps->t->src), &line, &col);
	ps->err = ca_err(CA_ERR_INVAL, "%s:%d:%d: %s", ps->t->name, line, col,
	    msg);
	return ps->err;
}

static int
newnode(struct parser *ps, int type, const char *at)
{
	struct ca_tmpl *t = ps->t;
	struct node *n;

	if (t->nnodes >= CA_TMPL_MAX_NODES) {
		perr(ps, at, "template too large (over %d nodes)",
		    CA_TMPL_MAX_NODES);
		return -1;
	}
	if (t->nnodes == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		struct node *nn = reallocarray(t->nodes, cap, sizeof(*nn));

		if (nn == NULL) {
			ps->err = ca_err(CA_ERR_NOMEM, "out of memory");
			return -1;
		}
		t->nodes = nn;
		t->cap = cap;
	}
	n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->a = n->b = n->c = n->next = -1;
	n->v[0] = n->v[1] = -1;
	n->off = (size_t)(at - t->src);
	return t->nnodes++;
}

#define NODE(ps, i) (&(ps)->t->nodes[(i)])

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_alnum_(int c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static void
skip_space(struct parser *ps)
{
	while (ps->p < ps->end && is_space(*ps->p))
		ps->p++;
}

/* At the closing delimiter (with its optional trim marker)? */
static int
at_close(struct parser *ps, int *trim)
{
	const char *p = ps->p;

	*trim = 0;
	if (p + 3 <= ps->end && p[0] == '-' && p[1] == '}' && p[2] == '}' &&
	    p > ps->t->src && is_space(p[-1])) {
		*trim = 1;
		return 3;
	}
	if (p + 2 <= ps->end && p[0] == '}' && p[1] == '}')
		return 2;
	return 0;
}

static int
pool_add(struct parser *ps, const char *s, size_t len, size_t *off)
{
	struct ca_tmpl *t = ps->t;

	if (t->poollen + len + 1 > t->poolcap) {
		size_t cap = (t->poollen + len + 1) * 2;
		char *np = realloc(t->pool, cap);

		if (np == NULL)
			return ps->err = ca_err(CA_ERR_NOMEM, "out of memory");
		t->pool = np;
		t->poolcap = cap;
	}
	*off = t->poollen;
	memcpy(t->pool + t->poollen, s, len);
	t->poollen += len;
	t->pool[t->poollen++] = '\0';
	return 0;
}

void
ca_tmpl_put_utf8(char *b, size_t *n, uint32_t r)
{
	if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		r = 0xfffd;
	if (r < 0x80)
		b[(*n)++] = (char)r;
	else if (r < 0x800) {
		b[(*n)++] = (char)(0xc0 | (r >> 6));
		b[(*n)++] = (char)(0x80 | (r & 0x3f));
	} else if (r < 0x10000) {
		b[(*n)++] = (char)(0xe0 | (r >> 12));
		b[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3f));
		b[(*n)++] = (char)(0x80 | (r & 0x3f));
	} else {
		b[(*n)++] = (char)(0xf0 | (r >> 18));
		b[(*n)++] = (char)(0x80 | ((r >> 12) & 0x3f));
		b[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3f));
		b[(*n)++] = (char)(0x80 | (r & 0x3f));
	}
}

/*
 * One escape of a Go interpreted string or rune literal at *pp (after
 * the backslash); appends to b. Returns 0 or -1 (bad escape).
 */
static int
unescape(const char **pp, const char *end, char quote, char *b, size_t *n)
{
	const char *p = *pp;
	uint32_t r = 0;
	int k, digits, h;

	if (p >= end)
		return -1;
	switch (*p++) {
	case 'a': b[(*n)++] = '\a'; break;
	case 'b': b[(*n)++] = '\b'; break;
	case 'f': b[(*n)++] = '\f'; break;
	case 'n': b[(*n)++] = '\n'; break;
	case 'r': b[(*n)++] = '\r'; break;
	case 't': b[(*n)++] = '\t'; break;
	case 'v': b[(*n)++] = '\v'; break;
	case '\\': b[(*n)++] = '\\'; break;
	case '"': case '\'':
		if (p[-1] != quote)
			return -1;
		b[(*n)++] = quote;
		break;
	case 'x': case 'u': case 'U':
		digits = p[-1] == 'x' ? 2 : p[-1] == 'u' ? 4 : 8;
		for (k = 0; k < digits; k++) {
			if (p >= end || !isxdigit((unsigned char)*p))
				return -1;
			h = isdigit((unsigned char)*p) ? *p - '0' :
			    tolower((unsigned char)*p) - 'a' + 10;
			r = r * 16 + (uint32_t)h;
			p++;
		}
		if (digits == 2)
			b[(*n)++] = (char)r;
		else {
			if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
				return -1;
			ca_tmpl_put_utf8(b, n, r);
		}
		break;
	case '0': case '1': case '2': case '3':
	case '4': case '5': case '6': case '7':
		r = (uint32_t)(p[-1] - '0');
		for (k = 0; k < 2; k++) {
			if (p >= end || *p < '0' || *p > '7')
				return -1;
			r = r * 8 + (uint32_t)(*p++ - '0');
		}
		if (r > 255)
			return -1;
		b[(*n)++] = (char)r;
		break;
	default:
		return -1;
	}
	*pp = p;
	return 0;
}

/* A string literal ("..." or `...`) at ps->p: a STR node. */
static int
lex_string(struct parser *ps)
{
	const char *start = ps->p, *p = ps->p + 1;
	char q = *start, *b;
	size_t n = 0;
	int id;

	/* Decoded text is never longer than the literal. */
	if ((b = malloc((size_t)(ps->end - start) + 4)) == NULL) {
		ps->err = ca_err(CA_ERR_NOMEM, "out of memory");
		return -1;
	}
	for (;;) {
		if (p >= ps->end || (q == '"' && *p == '\n')) {
			free(b);
			perr(ps, start, "unterminated %s string",
			    q == '"' ? "quoted" : "raw");
			return -1;
		}
		if (*p == q)
			break;
		if (q == '"' && *p == '\\') {
			p++;
			if (unescape(&p, ps->end, '"', b, &n) != 0) {
				free(b);
				perr(ps, start, "bad escape in quoted string");
				return -1;
			}
			continue;
		}
		if (q == '`' && *p == '\r') {	/* Go drops CR in raw strings */
			p++;
			continue;
		}
		b[n++] = *p++;
	}
	ps->p = p + 1;
	if ((id = newnode(ps, N_STR, start)) < 0 ||
	    pool_add(ps, b, n, &NODE(ps, id)->s) != 0) {
		free(b);
		return -1;
	}
	NODE(ps, id)->len = n;
	free(b);
	return id;
}

/* A number (Go syntax: ints, hex/octal/binary, floats, 'c'). */
static int
lex_number(struct parser *ps)
{
	const char *start = ps->p, *p = ps->p;
	char buf[80], *e;
	size_t n;
	int id, isfloat = 0, neg = 0;

	if (*p == '\'') {	/* a rune constant: an int */
		char b[8];
		size_t k = 0;

		p++;
		if (p < ps->end && *p == '\\') {
			p++;
			if (unescape(&p, ps->end, '\'', b, &k) != 0)
				goto bad;
		} else if (p < ps->end && *p != '\'' && *p != '\n')
			b[k++] = *p++;
		if (k == 0 || p >= ps->end || *p != '\'')
			goto bad;
		ps->p = p + 1;
		if ((id = newnode(ps, N_INT, start)) < 0)
			return -1;
		/* decode the UTF-8 we hold back into a code point */
		{
			unsigned char c = (unsigned char)b[0];
			int64_t r = c;
			size_t j;

			if (k > 1) {
				r = c & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
				for (j = 1; j < k; j++)
					r = (r << 6) | (b[j] & 0x3f);
			}
			NODE(ps, id)->i = r;
		}
		return id;
	}
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	while (p < ps->end && (is_alnum_(*p) || *p == '.' ||
	    ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E' ||
	    p[-1] == 'p' || p[-1] == 'P'))))
		p++;
	n = (size_t)(p - start);
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, start, n);
	buf[n] = '\0';
	/* Go's underscores between digits */
	{
		size_t i, j;

		for (i = j = 0; i < n; i++)
			if (buf[i] != '_')
				buf[j++] = buf[i];
		buf[j] = '\0';
	}
	if (strchr(buf, 'i'))
		goto bad;	/* complex numbers: not in the subset */
	{
		const char *d = buf + (buf[0] == '-' || buf[0] == '+');
		int hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');

		isfloat = hex ? strpbrk(d, "pP.") != NULL :
		    strpbrk(d, ".eE") != NULL;
	}
	ps->p = p;
	errno = 0;
	if (isfloat) {
		double f = strtod(buf, &e);

		if (*e != '\0' || errno != 0 || !isfinite(f))
			goto bad;
		if ((id = newnode(ps, N_FLOAT, start)) < 0)
			return -1;
		NODE(ps, id)->f = f;
	} else {
		const char *d = buf + (buf[0] == '-' || buf[0] == '+');
		int base = 10;
		long long v;

		if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
			base = 16, d += 2;
		else if (d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
			base = 2, d += 2;
		else if (d[0] == '0' && (d[1] == 'o' || d[1] == 'O'))
			base = 8, d += 2;
		else if (d[0] == '0' && d[1] != '\0')
			base = 8, d += 1;
		if (*d == '\0' || *d == '-' || *d == '+')
			goto bad;
		v = strtoll(d, &e, base);
		if (*e != '\0' || errno != 0)
			goto bad;
		if ((id = newnode(ps, N_INT, start)) < 0)
			return -1;
		NODE(ps, id)->i = neg ? -v : v;
	}
	return id;
bad:
	perr(ps, start, "bad number syntax: %.*s", (int)(p - start < 40 ?
	    p - start + 1 : 40), start);
	return -1;
}

static int
ident_len(const char *p, const char *end)
{
	const char *s = p;

	while (p < end && is_alnum_(*p))
		p++;
	return (int)(p - s);
}

/* A chain of .Name suffixes at ps->p: the first NAME node, or -1. */
static int
field_names(struct parser *ps, int *first)
{
	int prev = -1, id, k;

	*first = -1;
	while (ps->p < ps->end && *ps->p == '.' && ps->p + 1 < ps->end &&
	    is_alnum_(ps->p[1]) && !isdigit((unsigned char)ps->p[1])) {
		k = ident_len(ps->p + 1, ps->end);
		if ((id = newnode(ps, N_NAME, ps->p)) < 0)
			return -1;
		NODE(ps, id)->s = (size_t)(ps->p + 1 - ps->t->src);
		NODE(ps, id)->len = (size_t)k;
		if (prev < 0)
			*first = id;
		else
			NODE(ps, prev)->next = id;
		prev = id;
		ps->p += 1 + k;
	}
	return 0;
}

static int var_lookup(struct parser *, const char *, size_t);
static int pipeline(struct parser *, int decl_ok, int in_paren);

static int
is_keyword(const char *p, int k)
{
	static const char *kw[] = { "if", "else", "end", "range", "with",
	    "define", "template", "block", "break", "continue", NULL };
	int i;

	for (i = 0; kw[i]; i++)
		if ((int)strlen(kw[i]) == k && memcmp(p, kw[i], (size_t)k) == 0)
			return 1;
	return 0;
}

/* One operand at ps->p (after spaces): its node, or -1. */
static int
operand(struct parser *ps)
{
	const char *p = ps->p;
	int id = -1, k, names, fi;
	size_t i;

	if (p >= ps->end)
		return perr(ps, p, "unclosed action"), -1;
	if (*p == '"' || *p == '`')
		id = lex_string(ps);
	else if (*p == '\'' || isdigit((unsigned char)*p) ||
	    ((*p == '-' || *p == '+') && p + 1 < ps->end &&
	    (isdigit((unsigned char)p[1]) || p[1] == '.')) ||
	    (*p == '.' && p + 1 < ps->end && isdigit((unsigned char)p[1])))
		id = lex_number(ps);
	else if (*p == '(') {
		if (++ps->depth > CA_TMPL_MAX_DEPTH)
			return perr(ps, p, "nesting deeper than %d",
			    CA_TMPL_MAX_DEPTH), -1;
		ps->p++;
		if ((id = newnode(ps, N_PAREN, p)) < 0)
			return -1;
		k = pipeline(ps, 0, 1);
		if (k < 0)
			return -1;
		NODE(ps, id)->b = k;
		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != ')')
			return perr(ps, ps->p, "unclosed left paren"), -1;
		ps->p++;
		ps->depth--;
		if (field_names(ps, &names) != 0)
			return -1;
		NODE(ps, id)->a = names;
	} else if (*p == '.') {
		if (p + 1 < ps->end && is_alnum_(p[1])) {
			if ((id = newnode(ps, N_FIELD, p)) < 0 ||
			    field_names(ps, &names) != 0)
				return -1;
			NODE(ps, id)->a = names;
		} else {
			ps->p++;
			id = newnode(ps, N_DOT, p);
		}
	} else if (*p == '$') {
		k = ident_len(p + 1, ps->end);
		if ((id = newnode(ps, N_VAR, p)) < 0)
			return -1;
		if ((NODE(ps, id)->i = var_lookup(ps, p, (size_t)k + 1)) < 0)
			return perr(ps, p, "undefined variable \"%.*s\"",
			    k + 1, p), -1;
		ps->p += 1 + k;
		if (field_names(ps, &names) != 0)
			return -1;
		NODE(ps, id)->a = names;
	} else if (is_alnum_(*p)) {
		k = ident_len(p, ps->end);
		ps->p += k;
		if (k == 4 && memcmp(p, "true", 4) == 0) {
			if ((id = newnode(ps, N_BOOL, p)) >= 0)
				NODE(ps, id)->i = 1;
		} else if (k == 5 && memcmp(p, "false", 5) == 0)
			id = newnode(ps, N_BOOL, p);
		else if (k == 3 && memcmp(p, "nil", 3) == 0)
			id = newnode(ps, N_NIL, p);
		else if (is_keyword(p, k))
			return perr(ps, p, "unexpected \"%.*s\" in operand",
			    k, p), -1;
		else {
			for (i = 0; i < sizeof(refused) / sizeof(refused[0]);
			    i++)
				if ((int)strlen(refused[i].name) == k &&
				    memcmp(p, refused[i].name, (size_t)k) == 0)
					return perr(ps, p, "function %s is not "
					    "supported (%s)", refused[i].name,
					    refused[i].why), -1;
			if ((fi = ca_tmpl_func_lookup(p, (size_t)k)) < 0)
				return perr(ps, p, "function %.*s is not "
				    "supported", k, p), -1;
			if ((id = newnode(ps, N_FUNC, p)) >= 0)
				NODE(ps, id)->i = fi;
		}
	} else
		return perr(ps, p, "unexpected '%c' in command",
		    isprint((unsigned char)*p) ? *p : '?'), -1;
	if (id >= 0 && ps->p < ps->end && !is_space(*ps->p) &&
	    *ps->p != ')' && *ps->p != '|' && *ps->p != '}' &&
	    !(*ps->p == '-' && ps->p + 2 < ps->end && ps->p[1] == '}') &&
	    !(*ps->p == ',' && NODE(ps, id)->type == N_VAR))
		return perr(ps, ps->p, "unexpected '%c' in operand",
		    isprint((unsigned char)*ps->p) ? *ps->p : '?'), -1;
	return id;
}

static int
var_lookup(struct parser *ps, const char *name, size_t len)
{
	int i;

	if (len == 1)
		return 0;
	for (i = ps->nvars - 1; i >= 0; i--)
		if (ps->vars[i].len == len &&
		    memcmp(ps->t->src + ps->vars[i].s, name, len) == 0)
			return ps->vars[i].slot;
	return -1;
}

static int
var_declare(struct parser *ps, const char *name, size_t len)
{
	if (ps->nvars == ps->varcap) {
		int cap = ps->varcap ? ps->varcap * 2 : 16;
		struct var *nv = reallocarray(ps->vars, cap, sizeof(*nv));

		if (nv == NULL) {
			ps->err = ca_err(CA_ERR_NOMEM, "out of memory");
			return -1;
		}
		ps->vars = nv;
		ps->varcap = cap;
	}
	ps->vars[ps->nvars].s = (size_t)(name - ps->t->src);
	ps->vars[ps->nvars].len = len;
	ps->vars[ps->nvars].slot = ps->t->nslots++;
	return ps->vars[ps->nvars++].slot;
}

/*
 * A pipeline: [$x := | $x = | $i, $e :=] cmd | cmd ... up to "}}" (or
 * ")" in parentheses). decl_ok: 2 allows two variables (range).
 */
static int
pipeline(struct parser *ps, int decl_ok, int in_paren)
{
	const char *start, *q, *names[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	int id, cmd, prev = -1, nv = 0, assign = 0, trim, i, k;

	skip_space(ps);
	start = ps->p;
	if ((id = newnode(ps, N_PIPE, start)) < 0)
		return -1;
	/* Declarations: look ahead for $x [, $y] := or $x =. */
	q = ps->p;
	while (q < ps->end && *q == '$' && nv < 2) {
		k = ident_len(q + 1, ps->end);
		names[nv] = q;
		lens[nv++] = (size_t)k + 1;
		q += 1 + k;
		while (q < ps->end && is_space(*q))
			q++;
		if (q < ps->end && *q == ',' && nv == 1) {
			q++;
			while (q < ps->end && is_space(*q))
				q++;
			continue;
		}
		break;
	}
	if (nv > 0 && q + 1 < ps->end && q[0] == ':' && q[1] == '=')
		q += 2;
	else if (nv > 0 && q < ps->end && q[0] == '=' &&
	    (q + 1 >= ps->end || q[1] != '='))
		q++, assign = 1;
	else
		nv = 0;
	if (nv > 0) {
		if (!decl_ok || (nv == 2 && decl_ok < 2) || (nv == 2 && assign))
			return perr(ps, start, "too many declarations in "
			    "command"), -1;
		ps->p = q;
		NODE(ps, id)->nvars = nv;
		NODE(ps, id)->assign = assign;
	}
	for (;;) {
		skip_space(ps);
		if ((cmd = newnode(ps, N_CMD, ps->p)) < 0)
			return -1;
		{
			int pa = -1, op;

			for (;;) {
				skip_space(ps);
				if (ps->p >= ps->end)
					return perr(ps, start, "unclosed "
					    "action"), -1;
				if (*ps->p == '|' || (in_paren && *ps->p == ')')
				    || (!in_paren && at_close(ps, &trim)))
					break;
				if (in_paren && at_close(ps, &trim))
					return perr(ps, ps->p, "unclosed left "
					    "paren"), -1;
				if (*ps->p == ')')
					return perr(ps, ps->p, "unexpected "
					    "right paren"), -1;
				if ((op = operand(ps)) < 0)
					return -1;
				if (pa < 0)
					NODE(ps, cmd)->a = op;
				else
					NODE(ps, pa)->next = op;
				pa = op;
			}
			if (pa < 0)
				return perr(ps, ps->p, "missing value for "
				    "command"), -1;
			op = NODE(ps, cmd)->a;
			if (NODE(ps, op)->type == N_NIL && NODE(ps,
			    op)->next < 0)
				return perr(ps, ps->p, "nil is not a command"),
				    -1;
			if (prev >= 0 && NODE(ps, op)->type != N_FUNC)
				return perr(ps, NODE(ps, op)->type == N_NIL ?
				    ps->p : ps->p, "non-function in pipeline "
				    "position after |"), -1;
		}
		if (prev < 0)
			NODE(ps, id)->a = cmd;
		else
			NODE(ps, prev)->next = cmd;
		prev = cmd;
		if (*ps->p != '|')
			break;
		ps->p++;
	}
	/* Declared variables come into scope after the pipeline. */
	for (i = 0; i < NODE(ps, id)->nvars; i++) {
		int slot;

		if (assign) {
			if ((slot = var_lookup(ps, names[i], lens[i])) < 0)
				return perr(ps, names[i], "undefined variable "
				    "\"%.*s\"", (int)lens[i], names[i]), -1;
		} else if (lens[i] == 1)
			return perr(ps, names[i], "cannot declare $"), -1;
		else if ((slot = var_declare(ps, names[i], lens[i])) < 0)
			return -1;
		NODE(ps, id)->v[i] = slot;
	}
	return id;
}

/* The end of an action "}}" (with trim) at ps->p after spaces. */
static int
close_action(struct parser *ps, int *trim)
{
	int k;

	skip_space(ps);
	if ((k = at_close(ps, trim)) == 0)
		return perr(ps, ps->p, "unexpected %s in action",
		    ps->p >= ps->end ? "end of input" : "text");
	ps->p += k;
	return 0;
}

enum { END_EOF, END_END, END_ELSE };
static int list(struct parser *, int *end, int *elseif, const char **at);

/* After an action's "}}" with the -}} marker: skip spaces of the text. */
static void
trim_after(struct parser *ps, int trim)
{
	if (trim)
		skip_space(ps);
}

/*
 * if/with/range: parse the pipe, the list, and an else part. type is
 * N_IF, N_WITH or N_RANGE; the opening keyword has been consumed.
 */
static int
control(struct parser *ps, int type, const char *at)
{
	int id, pipe, body, end, elseif, trim, mark = ps->nvars;
	const char *eat;

	if (++ps->depth > CA_TMPL_MAX_DEPTH)
		return perr(ps, at, "nesting deeper than %d",
		    CA_TMPL_MAX_DEPTH), -1;
	if ((id = newnode(ps, type, at)) < 0)
		return -1;
	if ((pipe = pipeline(ps, type == N_RANGE ? 2 : 1, 0)) < 0)
		return -1;
	NODE(ps, id)->a = pipe;
	if (close_action(ps, &trim) != 0)
		return -1;
	trim_after(ps, trim);
	if (type == N_RANGE)
		ps->ranges++;
	if ((body = list(ps, &end, &elseif, &eat)) < 0)
		return -1;
	if (type == N_RANGE)
		ps->ranges--;
	NODE(ps, id)->b = body;
	if (end == END_EOF)
		return perr(ps, at, "unexpected EOF: unclosed %s",
		    type == N_IF ? "if" : type == N_WITH ? "with" : "range"),
		    -1;
	if (end == END_ELSE) {
		if (elseif) {
			/* else if / else with: a nested control ending at
			 * the same {{end}}, as Go rewrites it */
			int inner, lst;

			/* Go: "else if" in an if, "else with" in a with */
			if (elseif != type)
				return perr(ps, eat, "unexpected \"%s\" after "
				    "else in %s",
				    elseif == N_IF ? "if" : "with",
				    type == N_IF ? "if" : type == N_WITH ?
				    "with" : "range"), -1;
			if ((lst = newnode(ps, N_LIST, eat)) < 0 ||
			    (inner = control(ps, elseif, eat)) < 0)
				return -1;
			NODE(ps, lst)->a = inner;
			NODE(ps, id)->c = lst;
			ps->depth--;
			ps->nvars = mark;
			return id;
		}
		if ((body = list(ps, &end, &elseif, &eat)) < 0)
			return -1;
		if (end != END_END)
			return perr(ps, end == END_EOF ? at : eat, end ==
			    END_EOF ? "unexpected EOF: unclosed %s" :
			    "expected end; found else (after %s's else)",
			    type == N_IF ? "if" : type == N_WITH ? "with" :
			    "range"), -1;
		NODE(ps, id)->c = body;
	}
	ps->depth--;
	ps->nvars = mark;
	return id;
}

/*
 * A list of items up to {{end}}, {{else ...}} or the end of input (*end
 * says which; for "else if"/"else with", *elseif is N_IF/N_WITH and the
 * parser is after the keyword). *at: where the ending action starts.
 */
static int
list(struct parser *ps, int *end, int *elseif, const char **at)
{
	int id, prev = -1, item, trim, k;
	const char *p, *open, *kw;

	*elseif = 0;
	if ((id = newnode(ps, N_LIST, ps->p)) < 0)
		return -1;
	for (;;) {
		item = -1;
		/* Text up to the next {{ */
		for (p = ps->p; p + 1 < ps->end; p++)
			if (p[0] == '{' && p[1] == '{')
				break;
		if (p + 1 >= ps->end)
			p = ps->end;
		open = p;
		if (p < ps->end && p + 3 < ps->end && p[2] == '-' &&
		    is_space(p[3])) {
			/* {{- trims the spaces before */
			while (p > ps->p && is_space(p[-1]))
				p--;
		}
		if (p > ps->p) {
			if ((item = newnode(ps, N_TEXT, ps->p)) < 0)
				return -1;
			NODE(ps, item)->s = (size_t)(ps->p - ps->t->src);
			NODE(ps, item)->len = (size_t)(p - ps->p);
			if (prev < 0)
				NODE(ps, id)->a = item;
			else
				NODE(ps, prev)->next = item;
			prev = item;
		}
		if (open >= ps->end) {
			ps->p = ps->end;
			*end = END_EOF;
			return id;
		}
		ps->p = open + 2;
		if (ps->p + 1 < ps->end && ps->p[0] == '-' &&
		    is_space(ps->p[1]))
			ps->p += 2;
		/* A comment: right after the delimiter (and trim), its end
		 * right before the closing one, as Go wants. */
		if (ps->p + 1 < ps->end && ps->p[0] == '/' && ps->p[1] == '*') {
			const char *c = ps->p;

			for (p = c + 2; p + 1 < ps->end; p++)
				if (p[0] == '*' && p[1] == '/')
					break;
			if (p + 1 >= ps->end)
				return perr(ps, c, "unclosed comment"), -1;
			ps->p = p + 2;
			trim = 0;
			if (ps->p + 3 < ps->end && is_space(ps->p[0]) &&
			    ps->p[1] == '-' && ps->p[2] == '}' &&
			    ps->p[3] == '}')
				ps->p += 4, trim = 1;
			else if (ps->p + 1 < ps->end && ps->p[0] == '}' &&
			    ps->p[1] == '}')
				ps->p += 2;
			else
				return perr(ps, c, "comment ends before "
				    "closing delimiter"), -1;
			trim_after(ps, trim);
			continue;
		}
		skip_space(ps);
		kw = ps->p;
		k = ident_len(kw, ps->end);
		item = -1;
		if (k == 3 && memcmp(kw, "end", 3) == 0) {
			ps->p += 3;
			if (close_action(ps, &trim) != 0)
				return -1;
			trim_after(ps, trim);
			*end = END_END;
			*at = open;
			return id;
		} else if (k == 4 && memcmp(kw, "else", 4) == 0) {
			ps->p += 4;
			skip_space(ps);
			k = ident_len(ps->p, ps->end);
			*at = open;
			*end = END_ELSE;
			if ((k == 2 && memcmp(ps->p, "if", 2) == 0) ||
			    (k == 4 && memcmp(ps->p, "with", 4) == 0)) {
				*elseif = k == 2 ? N_IF : N_WITH;
				ps->p += k;
				return id;
			}
			if (close_action(ps, &trim) != 0)
				return -1;
			trim_after(ps, trim);
			return id;
		} else if (k == 2 && memcmp(kw, "if", 2) == 0) {
			ps->p += 2;
			item = control(ps, N_IF, open);
		} else if (k == 4 && memcmp(kw, "with", 4) == 0) {
			ps->p += 4;
			item = control(ps, N_WITH, open);
		} else if (k == 5 && memcmp(kw, "range", 5) == 0) {
			ps->p += 5;
			item = control(ps, N_RANGE, open);
		} else if ((k == 5 && memcmp(kw, "break", 5) == 0) ||
		    (k == 8 && memcmp(kw, "continue", 8) == 0)) {
			if (ps->ranges == 0)
				return perr(ps, kw,
				    "{{%.*s}} outside {{range}}",
				    k, kw), -1;
			if ((item = newnode(ps, k == 5 ? N_BREAK : N_CONTINUE,
			    kw)) < 0)
				return -1;
			ps->p += k;
			if (close_action(ps, &trim) != 0)
				return -1;
			trim_after(ps, trim);
		} else if ((k == 6 && memcmp(kw, "define", 6) == 0) ||
		    (k == 8 && memcmp(kw, "template", 8) == 0) ||
		    (k == 5 && memcmp(kw, "block", 5) == 0)) {
			return perr(ps, kw, "{{%.*s}} is not supported",
			    k, kw), -1;
		} else {
			int pipe;

			if ((item = newnode(ps, N_ACTION, open)) < 0 ||
			    (pipe = pipeline(ps, 1, 0)) < 0)
				return -1;
			NODE(ps, item)->a = pipe;
			if (close_action(ps, &trim) != 0)
				return -1;
			trim_after(ps, trim);
		}
		if (item < 0)
			return -1;
		if (prev < 0)
			NODE(ps, id)->a = item;
		else
			NODE(ps, prev)->next = item;
		prev = item;
	}
}

void
ca_tmpl_free(struct ca_tmpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->src);
	free(t->nodes);
	free(t->pool);
	free(t);
}

int
ca_tmpl_parse(const char *src, size_t len, const char *name,
    struct ca_tmpl **out)
{
	struct parser ps;
	struct ca_tmpl *t = NULL;
	int r, end, elseif;
	const char *at;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	if (name == NULL)
		name = "template";
	if (len > CA_TMPL_MAX_SRC)
		return ca_err(CA_ERR_INVAL, "%s:1:1: template over %d bytes",
		    name, CA_TMPL_MAX_SRC);
	if (memchr(src, '\0', len) != NULL) {
		return ca_err(CA_ERR_INVAL, "%s: template contains a NUL byte",
		    name);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(name)) == NULL ||
	    (t->src = malloc(len + 1)) == NULL) {
		r = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(t->src, src, len);
	t->src[len] = '\0';
	t->srclen = len;
	t->nslots = 1;
	ps.t = t;
	ps.p = t->src;
	ps.end = t->src + len;
	if ((t->root = list(&ps, &end, &elseif, &at)) < 0) {
		r = ps.err;
		goto out;
	}
	if (end != END_EOF) {
		r = perr(&ps, at, "unexpected {{%s}}", end == END_END ? "end" :
		    "else");
		goto out;
	}
	*out = t;
	t = NULL;
	r = 0;
out:
	free(ps.vars);
	ca_tmpl_free(t);
	return r;
}

/* ---------------------------------------------------------------- */
/* Evaluation. */

#define RN(st, i) (&(st)->t->nodes[(i)])

static int eval_pipe(struct rstate *, int, const struct val *, int,
    struct val *);

/* .Name on v (Go's evalField for maps and structs). */
static int
field(struct rstate *st, int name, const struct val *v, struct val *out)
{
	const struct node *n = RN(st, name);
	const char *key = st->t->src + n->s;
	struct json_object *e;

	memset(out, 0, sizeof(*out));
	if (ca_tmpl_step(st, name) != 0)
		return st->err;
	if (v->k == V_NOVAL)
		return 0;	/* missing key further up: still no value */
	if (v->k == V_NIL)
		return ca_tmpl_rerr(st, name, CA_ERR_INVAL,
		    "nil pointer evaluating "
		    "interface {}.%.*s", (int)n->len, key);
	if (v->k != V_MAP)
		return ca_tmpl_rerr(st, name, CA_ERR_INVAL,
		    "can't evaluate field %.*s "
		    "in type %s", (int)n->len, key, ca_tmpl_tname(v));
	if (ca_tmpl_map_get(v, key, n->len, &e)) {
		*out = ca_tmpl_jval(e);
		/* a struct's integer field is a Go int (PublicKey.Size), a
		 * map's number a float64 */
		if (ca_tmpl_is_struct(v) &&
		    json_object_get_type(e) == json_type_int)
			*out = ca_tmpl_mkint(json_object_get_int64(e));
		return 0;
	}
	if (ca_tmpl_is_struct(v)) {
		const struct gofield *g =
		    ca_tmpl_gofields(ca_tmpl_gotype_of(v->j));

		for (; g && g->go; g++)
			if (strlen(g->go) == n->len &&
			    memcmp(g->go, key, n->len) == 0) {
				if (ca_tmpl_struct_member(v, g, &e)) {
					*out = ca_tmpl_jval(e);
					if (json_object_get_type(e) ==
					    json_type_int)
						*out = ca_tmpl_mkint(
						    json_object_get_int64(e));
					return 0;
				}
				/* a field the data leaves out: Go's zero */
				if (g->zero == 's') {
					out->k = V_STR;
					out->s = "";
				} else if (g->zero == 'i')
					*out = ca_tmpl_mkint(0);
				else
					out->k = V_NIL;
				return 0;
			}
		return ca_tmpl_rerr(st, name, CA_ERR_INVAL,
		    "can't evaluate field %.*s "
		    "in type %s", (int)n->len, key, ca_tmpl_tname(v));
	}
	return 0;	/* missingkey=default: "<no value>" */
}

static int
chain(struct rstate *st, int name, struct val *v)
{
	struct val next;

	for (; name >= 0; name = RN(st, name)->next) {
		if (field(st, name, v, &next) != 0)
			return st->err;
		*v = next;
	}
	return 0;
}

static int call(struct rstate *, int, int, const struct val *, int,
    const struct val *, struct val *);

/* One operand as an argument. */
static int
operand_val(struct rstate *st, int id, const struct val *dot,
    struct val *out)
{
	const struct node *n = RN(st, id);

	memset(out, 0, sizeof(*out));
	if (ca_tmpl_step(st, id) != 0)
		return st->err;
	switch (n->type) {
	case N_DOT:
		*out = *dot;
		return 0;
	case N_NIL:
		out->k = V_NIL;
		return 0;
	case N_BOOL:
		*out = ca_tmpl_mkbool((int)n->i);
		return 0;
	case N_INT:
		*out = ca_tmpl_mkint(n->i);
		return 0;
	case N_FLOAT:
		out->k = V_FLOAT;
		out->f = n->f;
		return 0;
	case N_STR:
		out->k = V_STR;
		out->s = st->t->pool + n->s;
		out->n = n->len;
		return 0;
	case N_FIELD:
		*out = *dot;
		return chain(st, n->a, out);
	case N_VAR:
		*out = st->slots[n->i];
		return chain(st, n->a, out);
	case N_PAREN:
		if (eval_pipe(st, n->b, dot, 0, out) != 0)
			return st->err;
		return chain(st, n->a, out);
	case N_FUNC:	/* a function as an argument: called without any */
		return call(st, id, -1, dot, 0, NULL, out);
	}
	return ca_tmpl_rerr(st, id, CA_ERR_INVAL, "unexpected operand");
}

/*
 * Call function node fn with the operands from args on (a chain), and
 * final (the previous command's value) if hasfinal.
 */
static int
call(struct rstate *st, int fn, int args, const struct val *dot,
    int hasfinal, const struct val *final, struct val *out)
{
	const struct func *f = ca_tmpl_func((int)RN(st, fn)->i);
	struct val argv[64];
	size_t bytes;
	int argc = 0, a;

	memset(out, 0, sizeof(*out));
	if (f->fn == ca_tmpl_f_lazy) {
		/* and/or: Go stops at the first falsy/truthy operand */
		int isand = f->name[0] == 'a';

		for (a = args; a >= 0 || hasfinal; a = a >= 0 ?
		    RN(st, a)->next : -1) {
			if (a >= 0) {
				if (operand_val(st, a, dot, out) != 0)
					return st->err;
			} else {
				*out = *final;
				hasfinal = 0;
			}
			argc++;
			if (ca_tmpl_truth(out) != isand)
				return 0;
			if (a < 0)
				break;
		}
		if (argc == 0)
			return ca_tmpl_rerr(st, fn, CA_ERR_INVAL,
			    "wrong number of "
			    "args for %s: want at least 1 got 0", f->name);
		return 0;
	}
	for (a = args; a >= 0; a = RN(st, a)->next) {
		if (argc >= 63)
			return ca_tmpl_rerr(st, fn, CA_ERR_INVAL,
			    "too many arguments "
			    "for %s", f->name);
		if (operand_val(st, a, dot, &argv[argc++]) != 0)
			return st->err;
	}
	if (hasfinal)
		argv[argc++] = *final;
	if (argc < f->min || (f->max >= 0 && argc > f->max)) {
		if (f->max < 0)
			return ca_tmpl_rerr(st, fn, CA_ERR_INVAL,
			    "wrong number of args "
			    "for %s: want at least %d got %d", f->name, f->min,
			    argc);
		return ca_tmpl_rerr(st, fn, CA_ERR_INVAL,
		    "wrong number of args for "
		    "%s: want %d got %d", f->name, argc < f->min ? f->min :
		    f->max, argc);
	}
	/*
	 * A step, and one per 64 bytes of string arguments: a function's
	 * work is at most linear in them (contains, eq on long strings),
	 * and what it makes is charged as memory.
	 */
	for (a = 0, bytes = 0; a < argc; a++)
		if (argv[a].k == V_STR)
			bytes += argv[a].n;
	if (ca_tmpl_steps(st, fn, 1 + bytes / 64) != 0)
		return st->err;
	return f->fn(st, fn, argc, argv, out);
}

static int
eval_cmd(struct rstate *st, int cmd, const struct val *dot, int hasfinal,
    const struct val *final, struct val *out)
{
	int first = RN(st, cmd)->a;

	if (RN(st, first)->type == N_FUNC)
		return call(st, first, RN(st, first)->next, dot, hasfinal,
		    final, out);
	if (RN(st, first)->next >= 0 || hasfinal)
		return ca_tmpl_rerr(st, first, CA_ERR_INVAL,
		    "can't give argument to "
		    "non-function");
	return operand_val(st, first, dot, out);
}

/*
 * A pipeline's value; with setvars, its declared or assigned variables
 * get it (range sets its own).
 */
static int
eval_pipe(struct rstate *st, int pipe, const struct val *dot, int setvars,
    struct val *out)
{
	const struct node *p = RN(st, pipe);
	struct val v, prev;
	int cmd, k = 0;

	memset(&v, 0, sizeof(v));
	for (cmd = p->a; cmd >= 0; cmd = RN(st, cmd)->next) {
		prev = v;
		if (eval_cmd(st, cmd, dot, k++ > 0, &prev, &v) != 0)
			return st->err;
		/* Go unwraps interfaces: a nil one is no value */
		if (v.k == V_NIL)
			v.k = V_NOVAL;
	}
	if (setvars && p->nvars == 1)
		st->slots[p->v[0]] = v;
	*out = v;
	return 0;
}

static int
emit(struct rstate *st, int node, const char *s, size_t n)
{
	if (n > CA_TMPL_MAX_OUT - st->outlen)
		return ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
		    "output over %d bytes",
		    CA_TMPL_MAX_OUT);
	if (st->outlen + n + 1 > st->outcap) {
		size_t cap = st->outcap ? st->outcap : 1024;
		char *np;

		while (cap < st->outlen + n + 1)
			cap *= 2;
		if ((np = realloc(st->out, cap)) == NULL)
			return ca_tmpl_rerr(st, node, CA_ERR_NOMEM,
			    "out of memory");
		st->out = np;
		st->outcap = cap;
	}
	memcpy(st->out + st->outlen, s, n);
	st->outlen += n;
	st->out[st->outlen] = '\0';
	return 0;
}

/* Print a pipeline's value as {{ }} does. */
static int
emit_val(struct rstate *st, int node, const struct val *v)
{
	struct buf b;
	int r;

	if (v->k <= V_NIL)
		return emit(st, node, "<no value>", 10);
	if (v->k == V_STR)
		return emit(st, node, v->s, v->n);
	memset(&b, 0, sizeof(b));
	b.max = CA_TMPL_MAX_OUT;
	if (ca_tmpl_print_val(&b, v, 0) != 0) {
		if (b.over == 1) {
			free(b.p);
			return ca_tmpl_rerr(st, node, CA_ERR_TOOBIG,
			    "output over %d "
			    "bytes", CA_TMPL_MAX_OUT);
		}
		return ca_tmpl_buf_fail(st, node, &b);
	}
	r = emit(st, node, b.p ? b.p : "", b.n);
	free(b.p);
	return r;
}

enum { W_OK = 0, W_BREAK = 1, W_CONTINUE = 2 };

static int walk(struct rstate *, int, const struct val *);

/* A list; returns W_* or an error (negative). */
static int
walk_list(struct rstate *st, int list, const struct val *dot)
{
	int item, r;

	for (item = RN(st, list)->a; item >= 0; item = RN(st, item)->next)
		if ((r = walk(st, item, dot)) != W_OK)
			return r;
	return W_OK;
}

/*
 * Copy a range's sorted keys into one string the arena keeps, keys[i]
 * repointed into it: `unset` in the body may delete a key, which json-c
 * frees, while the loop or a variable ($k) still holds it.
 */
static int
pin_keys(struct rstate *st, int node, const char **keys, size_t n)
{
	struct json_object *j;
	const char *base;
	char *p;
	size_t i, at, total = 0;

	for (i = 0; i < n; i++)
		total += strlen(keys[i]) + 1;
	if (ca_tmpl_charge(st, node, total + 32) != 0)
		return st->err;
	if ((p = malloc(total + 1)) == NULL)
		return ca_tmpl_rerr(st, node, CA_ERR_NOMEM, "out of memory");
	for (i = 0, at = 0; i < n; i++) {
		size_t len = strlen(keys[i]) + 1;

		memcpy(p + at, keys[i], len);
		at += len;
	}
	j = ca_tmpl_keep(st, node, json_object_new_string_len(p, (int)total));
	free(p);
	if (j == NULL)
		return st->err;
	base = json_object_get_string(j);
	for (i = 0, at = 0; i < n; i++) {
		keys[i] = base + at;
		at += strlen(keys[i]) + 1;
	}
	return 0;
}

static int
walk_range(struct rstate *st, int id, const struct val *dot)
{
	const struct node *n = RN(st, id), *p = RN(st, n->a);
	struct val v, e, k;
	const char **keys = NULL;
	size_t i, len = 0;
	int r = W_OK;

	if (eval_pipe(st, n->a, dot, 0, &v) != 0)
		return st->err;
	switch (v.k) {
	case V_ARR:
		len = json_object_array_length(v.j);
		break;
	case V_MAP:
		if (ca_tmpl_is_struct(&v))
			goto bad;
		if ((keys = ca_tmpl_sorted_keys(v.j, &len)) == NULL)
			return ca_tmpl_rerr(st, id, CA_ERR_NOMEM,
			    "out of memory");
		if (pin_keys(st, id, keys, len) != 0) {
			free(keys);
			return st->err;
		}
		break;
	case V_INT:
		len = v.i > 0 ? (size_t)v.i : 0;
		break;
	case V_NOVAL:
	case V_NIL:
		break;
	default:
		goto bad;
	}
	for (i = 0; i < len; i++) {
		if (ca_tmpl_step(st, id) != 0) {
			r = st->err;
			break;
		}
		memset(&k, 0, sizeof(k));
		if (v.k == V_ARR) {
			k = ca_tmpl_mkint((int64_t)i);
			e = ca_tmpl_jval(json_object_array_get_idx(v.j, i));
		} else if (v.k == V_MAP) {
			k.k = V_STR;
			k.s = keys[i];
			k.n = strlen(keys[i]);
			e = ca_tmpl_jval(json_object_object_get(v.j, keys[i]));
		} else
			e = k = ca_tmpl_mkint((int64_t)i);
		if (p->nvars == 1)
			st->slots[p->v[0]] = e;
		else if (p->nvars == 2) {
			st->slots[p->v[0]] = k;
			st->slots[p->v[1]] = e;
		}
		r = walk_list(st, n->b, &e);
		if (r == W_BREAK) {
			r = W_OK;
			break;
		}
		if (r == W_CONTINUE)
			r = W_OK;
		if (r != W_OK)
			break;
	}
	/* keys point into the arena's copy: only the array goes */
	free(keys);
	if (r == W_OK && len == 0 && n->c >= 0)
		return walk_list(st, n->c, dot);
	return r;
bad:
	{
		struct buf b;

		memset(&b, 0, sizeof(b));
		b.max = 200;
		ca_tmpl_print_val(&b, &v, 0);
		r = ca_tmpl_rerr(st, id, CA_ERR_INVAL,
		    "range can't iterate over %s",
		    b.p ? b.p : "");
		free(b.p);
		return r;
	}
}

static int
walk(struct rstate *st, int id, const struct val *dot)
{
	const struct node *n = RN(st, id);
	struct val v;

	if (ca_tmpl_step(st, id) != 0)
		return st->err;
	switch (n->type) {
	case N_TEXT:
		return emit(st, id, st->t->src + n->s, n->len);
	case N_ACTION:
		if (eval_pipe(st, n->a, dot, 1, &v) != 0)
			return st->err;
		if (RN(st, n->a)->nvars > 0)
			return W_OK;	/* a declaration prints nothing */
		return emit_val(st, id, &v);
	case N_IF:
	case N_WITH:
		if (eval_pipe(st, n->a, dot, 1, &v) != 0)
			return st->err;
		if (ca_tmpl_truth(&v))
			return walk_list(st, n->b,
			    n->type == N_WITH ? &v : dot);
		if (n->c >= 0)
			return walk_list(st, n->c, dot);
		return W_OK;
	case N_RANGE:
		return walk_range(st, id, dot);
	case N_BREAK:
		return W_BREAK;
	case N_CONTINUE:
		return W_CONTINUE;
	case N_LIST:
		return walk_list(st, id, dot);
	}
	return ca_tmpl_rerr(st, id, CA_ERR_INVAL, "unexpected node");
}

int
ca_tmpl_render(const struct ca_tmpl *t, struct json_object *data,
    char **out, size_t *outlen)
{
	struct rstate st;
	struct val dot;
	struct json_object *copy = NULL;
	size_t i;
	int r;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	memset(&st, 0, sizeof(st));
	memset(&dot, 0, sizeof(dot));
	st.t = t;
	if ((st.slots = calloc((size_t)t->nslots, sizeof(*st.slots))) == NULL) {
		r = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (data != NULL) {
		/* our own copy: the caller's tree is never touched */
		if ((copy = ca_tmpl_copy_json(&st, t->root, data, 0)) == NULL ||
		    ca_tmpl_keep(&st, t->root, copy) == NULL) {
			r = st.err;
			goto out;
		}
		dot = ca_tmpl_jval(copy);
		st.mem = 0;	/* the data is not the template's doing */
	}
	st.slots[0] = dot;
	if (emit(&st, t->root, "", 0) != 0 ||
	    (r = walk_list(&st, t->root, &dot)) < 0) {
		r = st.err;
		goto out;
	}
	*out = st.out;
	if (outlen != NULL)
		*outlen = st.outlen;
	st.out = NULL;
	r = 0;
out:
	if (st.utf8 != (locale_t)0)
		freelocale(st.utf8);
	for (i = 0; i < st.narena; i++)
		json_object_put(st.arena[i]);
	free(st.arena);
	free(st.slots);
	free(st.out);
	return r;
}

/* Mark o (if an object) with gotype. */
static void
mark(struct json_object *o, const char *gotype)
{
	if (json_object_is_type(o, json_type_object))
		ca_tmpl_set_gotype(o, gotype);
}

/* Mark every object of array a (if an array) with gotype. */
static void
mark_all(struct json_object *a, const char *gotype)
{
	size_t i, n;

	if (!json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++)
		mark(json_object_array_get_idx(a, i), gotype);
}

/* A struct's member by Go name, else by JSON name. */
static struct json_object *
member(struct json_object *o, const char *go, const char *json)
{
	struct json_object *m;

	if (json_object_object_get_ex(o, go, &m))
		return m;
	return json_object_object_get(o, json);
}

void
ca_tmpl_mark_step_data(struct json_object *data)
{
	struct json_object *cr = json_object_object_get(
	    json_object_object_get(data, "Insecure"), "CR"), *sub;

	mark(json_object_object_get(data, "Subject"), "x509util.Subject");
	mark_all(json_object_object_get(data, "SANs"),
	    "x509util.SubjectAlternativeName");
	mark(cr, "*x509util.CertificateRequest");
	sub = member(cr, "Subject", "subject");
	mark(sub, "x509util.Subject");
	mark_all(member(cr, "SANs", "sans"), "x509util.SubjectAlternativeName");
	mark_all(member(sub, "ExtraNames", "extraNames"),
	    "x509util.DistinguishedName");
}

void
ca_tmpl_set_gotype(struct json_object *o, const char *gotype)
{
	json_object_set_userdata(o, (void *)(uintptr_t)gotype, NULL);
}
