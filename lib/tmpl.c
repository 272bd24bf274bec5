/*
 * tmpl.c - step's certificate template language (see tmpl.h): a parser
 * of Go text/template syntax into a node array, and an evaluator over
 * json-c values with Go's printing, truthiness and comparison rules and
 * the sprig/step functions step's templates use.
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
#include <locale.h>
#include <wctype.h>

#include "ca.h"
#include "tmpl.h"

/* Node types. */
enum {
	N_LIST, N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_BREAK, N_CONTINUE,
	N_PIPE, N_CMD,
	/* operands */
	N_DOT, N_NIL, N_BOOL, N_INT, N_FLOAT, N_STR, N_FIELD, N_VAR, N_FUNC,
	N_PAREN, N_NAME,
};

/*
 * One node. Children are node indices (-1: none); lists are chained
 * through next. Meaning of a, b, c by type:
 *   LIST: a first item. TEXT: s, len (in src). ACTION: a pipe.
 *   IF, WITH, RANGE: a pipe, b list, c else list (or -1).
 *   PIPE: a first command; nvars declared or assigned (assign set for =)
 *     into slots v[0], v[1]. CMD: a first operand.
 *   FIELD: a first NAME. VAR: i slot, a first NAME. PAREN: b pipe,
 *   a first NAME. NAME: s, len (in src). FUNC: i function index.
 *   STR: s, len (in the string pool). BOOL, INT: i. FLOAT: f.
 */
struct node {
	int	 type;
	size_t	 off;		/* where it starts in src */
	int	 a, b, c, next;
	size_t	 s, len;
	int64_t	 i;
	double	 f;
	int	 nvars, assign, v[2];
};

struct ca_tmpl {
	char		*name;
	char		*src;
	size_t		 srclen;
	struct node	*nodes;
	int		 nnodes, cap;
	char		*pool;		/* decoded string literals */
	size_t		 poollen, poolcap;
	int		 nslots;	/* variables; slot 0 is $ */
	int		 root;
};

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

/* The function table (render side below). */
struct val;
struct rstate;
typedef int (*tfn)(struct rstate *, int, int, struct val *, struct val *);
struct func {
	const char	*name;
	int		 min, max;	/* argument count; max -1: any */
	tfn		 fn;
};
static int func_lookup(const char *, size_t);

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

static void
linecol(const struct ca_tmpl *t, size_t off, int *line, int *col)
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
	linecol(ps->t, (size_t)(at - ps->t->src), &line, &col);
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

static void
put_utf8(char *b, size_t *n, uint32_t r)
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
			put_utf8(b, n, r);
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
			if ((fi = func_lookup(p, (size_t)k)) < 0)
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
			if (NODE(ps, op)->type == N_NIL && NODE(ps, op)->next < 0)
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
		    type == N_IF ? "if" : type == N_WITH ? "with" : "range"), -1;
	if (end == END_ELSE) {
		if (elseif) {
			/* else if / else with: a nested control ending at
			 * the same {{end}}, as Go rewrites it */
			int inner, lst;

			/* Go: "else if" in an if, "else with" in a with */
			if (elseif != type)
				return perr(ps, eat, "unexpected \"%s\" after "
				    "else in %s", elseif == N_IF ? "if" : "with",
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
		if (ps->p + 1 < ps->end && ps->p[0] == '-' && is_space(ps->p[1]))
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
			    ps->p[1] == '-' && ps->p[2] == '}' && ps->p[3] == '}')
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
				return perr(ps, kw, "{{%.*s}} outside {{range}}",
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
/* Values and the render state. */

/*
 * A value: Go's invalid ("no value"), nil, bool, int, float64, string
 * (s, n: borrowed from the template, the data or the arena), or an
 * object or array (j, in the arena or the copied data).
 */
enum { V_NOVAL, V_NIL, V_BOOL, V_INT, V_FLOAT, V_STR, V_MAP, V_ARR, V_TIME };
struct val {
	int		 k;
	int64_t		 i;	/* bool, int; a time's Unix seconds */
	double		 f;
	const char	*s;
	size_t		 n;	/* string length; a time's nanoseconds */
	int		 tz;	/* a time's offset from UTC, seconds */
	struct json_object *j;
};

/* Go type names of what renders create; also markers of our own ints. */
static const char GT_INT[] = "int";
static const char GT_MAP[] = "map[string]interface {}";
static const char GT_TIME[] = "time.Time";	/* a time in a container */

/*
 * The Go structs of step's template data: a struct object's members are
 * keyed by Go field name (what templates write: .Subject.CommonName);
 * toJson writes them in declaration order under their JSON names,
 * leaving out "-" fields (json NULL) and empty omitempty ones. zero is
 * the kind of a field the data leaves out: 's' string, 'i' int, else nil.
 */
struct gofield {
	const char	*go, *json;
	int		 omitempty;
	char		 zero;
};
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

static const struct gofield *
gofields(const char *type)
{
	size_t i;

	for (i = 0; type && i < sizeof(gostructs) / sizeof(gostructs[0]); i++)
		if (strcmp(gostructs[i].type, type) == 0)
			return gostructs[i].fields;
	return NULL;
}

struct rstate {
	const struct ca_tmpl	*t;
	struct val		*slots;
	struct json_object	**arena;
	size_t			 narena, arenacap;
	char			*out;
	size_t			 outlen, outcap;
	long			 steps;
	size_t			 mem;
	int			 err;
	locale_t		 utf8;	/* for Unicode case mapping, on use */
};

static int
rerr(struct rstate *st, int node, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
rerr(struct rstate *st, int node, int code, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	const struct node *n = &st->t->nodes[node < 0 ? 0 : node];
	int line, col;

	if (st->err)
		return st->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	linecol(st->t, n->off, &line, &col);
	st->err = ca_err(code, "%s:%d:%d: %s", st->t->name, line, col, msg);
	return st->err;
}

static int
step(struct rstate *st, int node)
{
	if (++st->steps > CA_TMPL_MAX_STEPS)
		return rerr(st, node, CA_ERR_TOOBIG, "template takes over %d "
		    "evaluation steps", CA_TMPL_MAX_STEPS);
	return 0;
}

/* Charge n bytes made by a function against the render's budget. */
static int
charge(struct rstate *st, int node, size_t n)
{
	if (n > CA_TMPL_MAX_MEM || st->mem + n > CA_TMPL_MAX_MEM)
		return rerr(st, node, CA_ERR_TOOBIG, "template functions make "
		    "over %d bytes", CA_TMPL_MAX_MEM);
	st->mem += n;
	return 0;
}

/* Keep a new json object until the end of the render; NULL: no memory. */
static struct json_object *
keep(struct rstate *st, int node, struct json_object *j)
{
	if (j == NULL) {
		rerr(st, node, CA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (st->narena == st->arenacap) {
		size_t cap = st->arenacap ? st->arenacap * 2 : 64;
		struct json_object **na = reallocarray(st->arena, cap,
		    sizeof(*na));

		if (na == NULL) {
			json_object_put(j);
			rerr(st, node, CA_ERR_NOMEM, "out of memory");
			return NULL;
		}
		st->arena = na;
		st->arenacap = cap;
	}
	st->arena[st->narena++] = j;
	return j;
}

static const char *
gotype_of(struct json_object *j)
{
	return j ? json_object_get_userdata(j) : NULL;
}

/* An object marked as a Go struct (not a map)? */
static int
is_struct(const struct val *v)
{
	const char *g;

	return v->k == V_MAP && (g = gotype_of(v->j)) != NULL &&
	    strncmp(g, "map[", 4) != 0;
}

static int time_parse(const char *, size_t, struct val *);

/* A json value (from the data or a container) as a value. */
static struct val
jval(struct json_object *j)
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
		if (gotype_of(j) == GT_INT) {
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
		if (gotype_of(j) == GT_TIME)
			time_parse(v.s, v.n, &v);
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
static const char *
tname(const struct val *v)
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
		if ((g = gotype_of(v->j)) != NULL)
			return g;
		return v->k == V_MAP ? GT_MAP : "[]interface {}";
	default: return "<nil>";
	}
}

/*
 * Deep copy of j (userdata kept) charged to the budget; depth bounded.
 * Returns NULL with the error set.
 */
static struct json_object *
copy_json(struct rstate *st, int node, struct json_object *j, int depth)
{
	struct json_object *c = NULL, *e;
	size_t i, n;

	if (depth > CA_TMPL_MAX_DEPTH) {
		rerr(st, node, CA_ERR_INVAL, "value nested deeper than %d",
		    CA_TMPL_MAX_DEPTH);
		return NULL;
	}
	if (charge(st, node, 32) != 0)
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
		if (charge(st, node, n) != 0)
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
			if (e != NULL && (e = copy_json(st, node, e,
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
			if (e != NULL && (e = copy_json(st, node, e,
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
		rerr(st, node, CA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (gotype_of(j) != NULL)
		json_object_set_userdata(c, json_object_get_userdata(j), NULL);
	return c;
}

static void time_text(char *, size_t, const struct val *, int);

/*
 * A value as a json object to put in a container (a new reference, or
 * NULL for nil with *ok set). Containers are copied: no cycles.
 */
static int
to_json(struct rstate *st, int node, const struct val *v,
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
		if (charge(st, node, v->n + 32) != 0)
			return st->err;
		j = json_object_new_string_len(v->s, (int)v->n);
		break;
	case V_MAP:
	case V_ARR:
		if ((j = copy_json(st, node, v->j, 0)) == NULL)
			return st->err;
		break;
	case V_TIME: {
		/* kept as its RFC 3339 text, marked, read back as a time */
		char t[64];

		time_text(t, sizeof(t), v, 1);
		if ((j = json_object_new_string(t)) != NULL)
			ca_tmpl_set_gotype(j, GT_TIME);
		break;
	}
	}
	if (j == NULL)
		return rerr(st, node, CA_ERR_NOMEM, "out of memory");
	*out = j;
	return 0;
}

/* A new string value (copied into the arena). */
static int
mkstr(struct rstate *st, int node, const char *s, size_t n, struct val *out)
{
	struct json_object *j;

	memset(out, 0, sizeof(*out));
	if (charge(st, node, n + 32) != 0)
		return st->err;
	if ((j = keep(st, node, json_object_new_string_len(s, (int)n))) == NULL)
		return st->err;
	*out = jval(j);
	return 0;
}

static struct val
mkbool(int b)
{
	struct val v;

	memset(&v, 0, sizeof(v));
	v.k = V_BOOL;
	v.i = b != 0;
	return v;
}

static struct val
mkint(int64_t i)
{
	struct val v;

	memset(&v, 0, sizeof(v));
	v.k = V_INT;
	v.i = i;
	return v;
}

/* ---------------------------------------------------------------- */
/* A growing buffer (bounded), for output and for strings being built. */

struct buf {
	char	*p;
	size_t	 n, cap, max;
	int	 over;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
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

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_fmt(struct buf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

/* The buffer's text as a string value (charged); frees the buffer. */
static int
buf_val(struct rstate *st, int node, struct buf *b, struct val *out)
{
	int r;

	if (b->over) {
		free(b->p);
		return b->over == 2 ? rerr(st, node, CA_ERR_NOMEM,
		    "out of memory") : rerr(st, node, CA_ERR_TOOBIG,
		    "template functions make over %d bytes", CA_TMPL_MAX_MEM);
	}
	r = mkstr(st, node, b->p ? b->p : "", b->n, out);
	free(b->p);
	return r;
}

static void
buf_init(struct buf *b, struct rstate *st)
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
		buf_str(b, json ? "null" : "NaN");
		return;
	}
	if (isinf(f)) {
		buf_str(b, json ? "null" : f > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (f == 0) {
		buf_str(b, signbit(f) ? "-0" : "0");
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
	buf_str(b, out);
}

/* Go's encoding/json string: HTML-safe, \u2028/9 escaped, bad UTF-8 as
 * U+FFFD. */
static void
json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, start = 0;

	buf_add(b, "\"", 1);
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
			buf_add(b, s + start, i - start);
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
			buf_str(b, esc);
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
				buf_add(b, s + start, i - start);
				buf_str(b, "\\ufffd");
				start = ++i;
				continue;
			}
			if (r == 0x2028 || r == 0x2029) {
				buf_add(b, s + start, i - start);
				buf_str(b, r == 0x2028 ? "\\u2028" : "\\u2029");
				start = i + len;
			}
			i += len;
		}
	}
	buf_add(b, s + start, i - start);
	buf_add(b, "\"", 1);
}

static int
keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of object j, sorted (Go's map order); caller frees. */
static const char **
sorted_keys(struct json_object *j, size_t *n)
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
static int truth(const struct val *);

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
	const struct gofield *f = gofields(gotype_of(v->j)), *g;
	struct json_object *m;
	struct val e;
	int n = 0;

	for (g = f; g && g->go; g++) {
		int has = json_object_object_get_ex(v->j, g->go, &m);

		if (json && (!has || g->json == NULL))
			continue;
		if (has)
			e = jval(m);
		if (json && g->omitempty && !truth(&e) && e.k != V_MAP)
			continue;
		if (n++)
			buf_str(b, json ? "," : " ");
		if (json) {
			json_str(b, g->json, strlen(g->json));
			buf_add(b, ":", 1);
		} else if (!has) {
			buf_str(b, zero[g->zero == 's' ? 0 : g->zero == 'i' ?
			    1 : g->zero == 'a' ? 2 : 3]);
			continue;
		}
		if (format_val(b, &e, depth + 1, json) != 0)
			return -1;
	}
	json_object_object_foreach(v->j, key, val) {
		for (g = f; g && g->go; g++)
			if (strcmp(g->go, key) == 0)
				break;
		if (g && g->go)
			continue;
		if (n++)
			buf_str(b, json ? "," : " ");
		if (json) {
			json_str(b, key, strlen(key));
			buf_add(b, ":", 1);
		}
		e = jval(val);
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
		buf_str(b, json ? "null" : "<nil>");
		break;
	case V_BOOL:
		buf_str(b, v->i ? "true" : "false");
		break;
	case V_INT:
		buf_fmt(b, "%lld", (long long)v->i);
		break;
	case V_FLOAT:
		fmt_float(b, v->f, json);
		break;
	case V_STR:
		if (json)
			json_str(b, v->s, v->n);
		else
			buf_add(b, v->s, v->n);
		break;
	case V_TIME: {
		char t[80];

		time_text(t, sizeof(t), v, json ? 1 : 0);
		if (json)
			json_str(b, t, strlen(t));
		else
			buf_str(b, t);
		break;
	}
	case V_ARR:
		buf_add(b, "[", 1);
		n = json_object_array_length(v->j);
		for (i = 0; i < n; i++) {
			if (i)
				buf_str(b, sep);
			e = jval(json_object_array_get_idx(v->j, i));
			if (format_val(b, &e, depth + 1, json) != 0)
				return -1;
		}
		buf_add(b, "]", 1);
		break;
	case V_MAP:
		if (is_struct(v)) {
			/* Go prints a pointer to a struct as &{...} on top */
			const char *gt = gotype_of(v->j);

			if (!json && depth == 0 && gt != NULL && gt[0] == '*')
				buf_add(b, "&", 1);
			buf_add(b, "{", 1);
			if (format_struct(b, v, depth, json) != 0)
				return -1;
			buf_add(b, "}", 1);
			break;
		}
		buf_str(b, json ? "{" : "map[");
		if ((keys = sorted_keys(v->j, &n)) == NULL)
			return -1;
		for (i = 0; i < n; i++) {
			if (i)
				buf_str(b, sep);
			if (json)
				json_str(b, keys[i], strlen(keys[i]));
			else
				buf_str(b, keys[i]);
			buf_add(b, ":", 1);
			e = jval(json_object_object_get(v->j, keys[i]));
			if (format_val(b, &e, depth + 1, json) != 0) {
				free(keys);
				return -1;
			}
		}
		free(keys);
		buf_str(b, json ? "}" : "]");
		break;
	}
	return b->over ? -1 : 0;
}

static int
marshal(struct buf *b, const struct val *v, int depth)
{
	return format_val(b, v, depth, 1);
}

static int
print_val(struct buf *b, const struct val *v, int depth)
{
	return format_val(b, v, depth, 0);
}

/* A buffer-building failure as an error. */
static int
buf_fail(struct rstate *st, int node, struct buf *b)
{
	free(b->p);
	b->p = NULL;
	if (b->over == 2)
		return rerr(st, node, CA_ERR_NOMEM, "out of memory");
	if (b->over)
		return rerr(st, node, CA_ERR_TOOBIG, "template functions make "
		    "over %d bytes", CA_TMPL_MAX_MEM);
	return rerr(st, node, CA_ERR_INVAL, "value nested deeper than %d",
	    CA_TMPL_MAX_DEPTH);
}

/* sprig's strval: strings as they are, the rest as %v. */
static int
strval(struct rstate *st, int node, const struct val *v, struct val *out)
{
	struct buf b;

	if (v->k == V_STR) {
		*out = *v;
		return 0;
	}
	buf_init(&b, st);
	if (print_val(&b, v, 0) != 0)
		return buf_fail(st, node, &b);
	return buf_val(st, node, &b, out);
}

/* Go's truth of a value (if, with, and, or, not). */
static int
truth(const struct val *v)
{
	switch (v->k) {
	case V_BOOL: case V_INT: return v->i != 0;
	case V_FLOAT: return v->f != 0;
	case V_STR: return v->n > 0;
	case V_ARR: return json_object_array_length(v->j) > 0;
	case V_MAP:
		return is_struct(v) || json_object_object_length(v->j) > 0;
	case V_TIME: return 1;	/* a struct */
	default: return 0;
	}
}

/* ---------------------------------------------------------------- */
/* Functions. Each gets its checked argument count, sets *out. */

static size_t runelen(const char *, size_t);

#define FN(name) static int name(struct rstate *st, int node, int argc, \
	struct val *argv, struct val *out)

/* Argument types as Go checks them against the function's signature. */
static int
want(struct rstate *st, int node, const struct val *v, int kind,
    const char *what)
{
	static const char *names[] = { "", "", "bool", "int", "float64",
	    "string", GT_MAP, "[]interface {}", GT_TIME };

	if (v->k == kind && !(kind == V_MAP && is_struct(v)))
		return 0;
	if (v->k == V_NOVAL || v->k == V_NIL)
		return rerr(st, node, CA_ERR_INVAL, "%s: invalid value; "
		    "expected %s", what, names[kind]);
	return rerr(st, node, CA_ERR_INVAL, "%s: wrong type for value; "
	    "expected %s; got %s", what, names[kind], tname(v));
}

static const char *fname(int);

/* The current function's name, for messages: set by the caller. */
#define WANT(v, kind) do {						\
	if (want(st, node, (v), (kind), st->t->nodes[node].type ==	\
	    N_FUNC ? fname((int)st->t->nodes[node].i) : "argument") != 0) \
		return st->err;						\
} while (0)

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
	*out = mkbool(!truth(&argv[0]));
	return 0;
}

FN(f_len)
{
	(void)argc;
	switch (argv[0].k) {
	case V_STR: *out = mkint((int64_t)argv[0].n); return 0;
	case V_ARR:
		*out = mkint((int64_t)json_object_array_length(argv[0].j));
		return 0;
	case V_MAP:
		if (is_struct(&argv[0]))
			break;
		*out = mkint(json_object_object_length(argv[0].j));
		return 0;
	case V_NOVAL: case V_NIL:
		return rerr(st, node, CA_ERR_INVAL, "error calling len: len of "
		    "nil pointer");
	}
	return rerr(st, node, CA_ERR_INVAL, "error calling len: len of type %s",
	    tname(&argv[0]));
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
				return rerr(st, node, CA_ERR_INVAL, "error "
				    "calling index: cannot index slice/array "
				    "with %s%s", ix->k <= V_NIL ? "" : "type ",
				    ix->k <= V_NIL ? "nil" : tname(ix));
			if (ix->i < 0 || ix->i >= n)
				return rerr(st, node, CA_ERR_INVAL, "error "
				    "calling index: index out of range: %lld",
				    (long long)ix->i);
			v = jval(json_object_array_get_idx(v.j,
			    (size_t)ix->i));
		} else if (v.k == V_MAP && !is_struct(&v)) {
			struct json_object *e;
			char key[1024];

			if (ix->k != V_STR)
				return rerr(st, node, CA_ERR_INVAL, "error "
				    "calling index: value has type %s; should "
				    "be string", tname(ix));
			if (ix->n >= sizeof(key) || memchr(ix->s, 0, ix->n)) {
				memset(&v, 0, sizeof(v));
				v.k = V_NIL;
				continue;
			}
			memcpy(key, ix->s, ix->n);
			key[ix->n] = '\0';
			if (json_object_object_get_ex(v.j, key, &e))
				v = jval(e);
			else {
				memset(&v, 0, sizeof(v));
				v.k = V_NIL;	/* zero of interface{} */
			}
		} else if (v.k == V_NOVAL || v.k == V_NIL)
			return rerr(st, node, CA_ERR_INVAL, "error calling "
			    "index: index of untyped nil");
		else
			return rerr(st, node, CA_ERR_INVAL, "error calling "
			    "index: can't index item of type %s", tname(&v));
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
		return rerr(st, node, CA_ERR_INVAL, "error calling eq: "
		    "incompatible types for comparison"), -1;
	switch (a->k) {
	case V_BOOL: case V_INT: return a->i == b->i;
	case V_FLOAT: return a->f == b->f;
	case V_STR: return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
	case V_TIME: return a->i == b->i && a->n == b->n && a->tz == b->tz;
	default:
		return rerr(st, node, CA_ERR_INVAL, "error calling eq: "
		    "non-comparable type %s", tname(a)), -1;
	}
}

FN(f_eq)
{
	int k, r;

	for (k = 1; k < argc; k++) {
		if ((r = eq1(st, node, &argv[0], &argv[k])) < 0)
			return st->err;
		if (r) {
			*out = mkbool(1);
			return 0;
		}
	}
	*out = mkbool(0);
	return 0;
}

FN(f_ne)
{
	int r;

	(void)argc;
	if ((r = eq1(st, node, &argv[0], &argv[1])) < 0)
		return st->err;
	*out = mkbool(!r);
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
		return rerr(st, node, CA_ERR_INVAL, "error calling lt: invalid "
		    "type for comparison"), -1;
	if (a->k != b->k)
		return rerr(st, node, CA_ERR_INVAL, "error calling lt: "
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
	case 0: *out = mkbool(l); break;		/* lt */
	case 1: *out = mkbool(l || e); break;		/* le */
	case 2: *out = mkbool(!l && !e); break;		/* gt */
	default: *out = mkbool(!l); break;		/* ge */
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

	buf_init(&b, st);
	for (k = 0; k < argc; k++) {
		if (k > 0 && argv[k].k != V_STR && argv[k - 1].k != V_STR)
			buf_add(&b, " ", 1);
		if (print_val(&b, &argv[k], 0) != 0)
			return buf_fail(st, node, &b);
	}
	return buf_val(st, node, &b, out);
}

FN(f_println)
{
	struct buf b;
	int k;

	buf_init(&b, st);
	for (k = 0; k < argc; k++) {
		if (k > 0)
			buf_add(&b, " ", 1);
		if (print_val(&b, &argv[k], 0) != 0)
			return buf_fail(st, node, &b);
	}
	buf_add(&b, "\n", 1);
	return buf_val(st, node, &b, out);
}

/* Go's strconv.Quote (ASCII printable kept, UTF-8 printable kept). */
static void
go_quote(struct buf *b, const char *s, size_t n)
{
	size_t i;

	buf_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': buf_str(b, "\\\""); continue;
		case '\\': buf_str(b, "\\\\"); continue;
		case '\a': buf_str(b, "\\a"); continue;
		case '\b': buf_str(b, "\\b"); continue;
		case '\f': buf_str(b, "\\f"); continue;
		case '\n': buf_str(b, "\\n"); continue;
		case '\r': buf_str(b, "\\r"); continue;
		case '\t': buf_str(b, "\\t"); continue;
		case '\v': buf_str(b, "\\v"); continue;
		}
		if (c < 0x20 || c == 0x7f)
			buf_fmt(b, "\\x%02x", c);
		else if (c < 0x80)
			buf_add(b, s + i, 1);
		else {
			/* valid UTF-8 passes (printability not checked) */
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
			    c >= 0xc0 ? 2 : 0, k;
			int bad = len == 0 || c > 0xf4 || i + len > n;

			for (k = 1; !bad && k < len; k++)
				if (((unsigned char)s[i + k] & 0xc0) != 0x80)
					bad = 1;
			if (bad)
				buf_fmt(b, "\\x%02x", c);
			else {
				buf_add(b, s + i, len);
				i += len - 1;
			}
		}
	}
	buf_add(b, "\"", 1);
}

/* One printf verb on one argument, Go's way (wrong types: %!d(T=v)). */
static int
printf_verb(struct rstate *st, int node, struct buf *b, char verb,
    const struct val *v, int minus, int zero, int width)
{
	struct buf t;
	size_t pad;
	int bad = 0;

	memset(&t, 0, sizeof(t));
	t.max = b->max;
	switch (verb) {
	case 'v':
		print_val(&t, v, 0);
		break;
	case 's':
		if (v->k == V_STR || v->k == V_ARR || v->k == V_MAP)
			print_val(&t, v, 0);
		else
			bad = 1;
		break;
	case 'd':
		if (v->k == V_INT)
			buf_fmt(&t, "%lld", (long long)v->i);
		else
			bad = 1;
		break;
	case 'q':
		if (v->k == V_STR)
			go_quote(&t, v->s, v->n);
		else if (v->k == V_INT && v->i >= 0 && v->i < 0x80 &&
		    isprint((int)v->i) && v->i != '\'' && v->i != '\\')
			buf_fmt(&t, "'%c'", (int)v->i);
		else
			bad = 1;
		break;
	case 'x': case 'X':
		if (v->k == V_STR) {
			size_t i;

			for (i = 0; i < v->n; i++)
				buf_fmt(&t, verb == 'x' ? "%02x" : "%02X",
				    (unsigned char)v->s[i]);
		} else if (v->k == V_INT) {
			if (v->i < 0)
				buf_fmt(&t, verb == 'x' ? "-%llx" : "-%llX",
				    (unsigned long long)-(v->i + 1) + 1);
			else
				buf_fmt(&t, verb == 'x' ? "%llx" : "%llX",
				    (unsigned long long)v->i);
		} else if (v->k == V_FLOAT) {
			free(t.p);
			return rerr(st, node, CA_ERR_INVAL, "error calling "
			    "printf: %%%c of a float64 is not supported", verb);
		} else
			bad = 1;
		break;
	}
	if (bad) {
		buf_fmt(b, "%%!%c(", verb);
		if (v->k <= V_NIL)
			buf_str(b, "<nil>");
		else {
			buf_str(b, tname(v));
			buf_add(b, "=", 1);
			print_val(b, v, 0);
		}
		buf_add(b, ")", 1);
		free(t.p);
		return 0;
	}
	if (t.over) {
		b->over = t.over;
		free(t.p);
		return 0;
	}
	pad = width > 0 && (size_t)width > t.n ? (size_t)width - t.n : 0;
	if (!minus)
		while (pad-- > 0)
			buf_add(b, zero ? "0" : " ", 1);
	buf_add(b, t.p ? t.p : "", t.n);
	if (minus)
		while (pad-- > 0)
			buf_add(b, " ", 1);
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
	buf_init(&b, st);
	for (i = 0; i < n; i++) {
		int minus = 0, zero = 0, width = 0;
		char verb;

		if (f[i] != '%') {
			buf_add(&b, f + i, 1);
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
			buf_str(&b, "%!(NOVERB)");
			break;
		}
		verb = f[i];
		if (verb == '%') {
			buf_add(&b, "%", 1);
			continue;
		}
		if (strchr("vsdqxX", verb) == NULL) {
			free(b.p);
			return rerr(st, node, CA_ERR_INVAL, "error calling "
			    "printf: verb %%%c is not supported (only %%s %%d "
			    "%%v %%q %%x %%X)", isprint((unsigned char)verb) ?
			    verb : '?');
		}
		if (k >= argc) {
			buf_fmt(&b, "%%!%c(MISSING)", verb);
			continue;
		}
		if (printf_verb(st, node, &b, verb, &argv[k++], minus, zero,
		    width) != 0) {
			free(b.p);
			return st->err;
		}
	}
	if (k < argc) {
		buf_str(&b, "%!(EXTRA ");
		for (; k < argc; k++) {
			if (argv[k].k <= V_NIL)
				buf_str(&b, "<nil>");
			else {
				buf_str(&b, tname(&argv[k]));
				buf_add(&b, "=", 1);
				print_val(&b, &argv[k], 0);
			}
			if (k + 1 < argc)
				buf_str(&b, ", ");
		}
		buf_add(&b, ")", 1);
	}
	return buf_val(st, node, &b, out);
}

FN(f_toJson)
{
	struct buf b;

	(void)argc;
	buf_init(&b, st);
	if (marshal(&b, &argv[0], 0) != 0)
		return buf_fail(st, node, &b);
	return buf_val(st, node, &b, out);
}

FN(f_typeIs)
{
	const char *t;

	(void)argc;
	WANT(&argv[0], V_STR);
	t = tname(&argv[1]);
	*out = mkbool(strlen(t) == argv[0].n &&
	    memcmp(t, argv[0].s, argv[0].n) == 0);
	return 0;
}

FN(f_typeOf)
{
	const char *t = tname(&argv[0]);

	(void)argc;
	return mkstr(st, node, t, strlen(t), out);
}

static int
has_fix(struct rstate *st, int node, struct val *argv, struct val *out,
    int suffix)
{
	const struct val *x = &argv[0], *s = &argv[1];

	WANT(x, V_STR);
	WANT(s, V_STR);
	*out = mkbool(x->n <= s->n && memcmp(suffix ? s->s + s->n - x->n :
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
	*out = mkbool(memmem_at(argv[1].s, argv[1].n, argv[0].s, argv[0].n,
	    0) >= 0);
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
	buf_init(&b, st);
	for (i = 0; i < n; i += k) {
		c = s[i];
		k = 1;
		if ((unsigned char)c < 0x80) {
			if (up && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (!up && c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			buf_add(&b, &c, 1);
			continue;
		}
		if ((k = runelen(s + i, n - i)) == 1) {
			buf_add(&b, "\xef\xbf\xbd", 3);
			continue;
		}
		r = (unsigned char)s[i] & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
		for (o = 1; o < k; o++)
			r = (r << 6) | ((unsigned char)s[i + o] & 0x3f);
		if (st->utf8 == (locale_t)0)
			st->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8",
			    (locale_t)0);
		if (st->utf8 != (locale_t)0)
			r = (uint32_t)(up ? towupper_l((wint_t)r, st->utf8) :
			    towlower_l((wint_t)r, st->utf8));
		o = 0;
		put_utf8(enc, &o, r);
		buf_add(&b, enc, o);
	}
	return buf_val(st, node, &b, out);
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
	if (c < 0x80 || (k = runelen(s, n)) == 1)
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
			if (runelen(s + n - j, j) == j)
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

/* Length of the UTF-8 sequence at s (1 for a bad byte), as Go steps. */
static size_t
runelen(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 :
	    c >= 0xc2 && c < 0xe0 ? 2 : 1, k;

	if (len > n)
		return 1;
	for (k = 1; k < len; k++)
		if (((unsigned char)s[k] & 0xc0) != 0x80)
			return 1;
	return len;
}

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
	buf_init(&b, st);
	if (o->n == 0) {
		/* Go: the new string before each rune and at the end */
		for (i = 0; i < s->n && !b.over; i += k) {
			k = runelen(s->s + i, s->n - i);
			buf_add(&b, nw->s, nw->n);
			buf_add(&b, s->s + i, k);
		}
		buf_add(&b, nw->s, nw->n);
		return buf_val(st, node, &b, out);
	}
	while (!b.over && (at = memmem_at(s->s, s->n, o->s, o->n, i)) >= 0) {
		buf_add(&b, s->s + i, (size_t)at - i);
		buf_add(&b, nw->s, nw->n);
		i = (size_t)at + o->n;
	}
	buf_add(&b, s->s + i, s->n - i);
	return buf_val(st, node, &b, out);
}

FN(f_repeat)
{
	struct buf b;
	int64_t k;

	(void)argc;
	WANT(&argv[0], V_INT);
	WANT(&argv[1], V_STR);
	buf_init(&b, st);
	if (argv[0].i < 0)
		return rerr(st, node, CA_ERR_INVAL, "error calling repeat: "
		    "negative count");
	if (argv[1].n > 0 && (uint64_t)argv[0].i > b.max / argv[1].n) {
		free(b.p);
		return rerr(st, node, CA_ERR_TOOBIG, "template functions make "
		    "over %d bytes", CA_TMPL_MAX_MEM);
	}
	for (k = 0; k < argv[0].i && !b.over; k++)
		buf_add(&b, argv[1].s, argv[1].n);
	return buf_val(st, node, &b, out);
}

/* A new array (kept), or NULL with the error set. */
static struct json_object *
new_arr(struct rstate *st, int node)
{
	return keep(st, node, json_object_new_array());
}

static int
arr_push(struct rstate *st, int node, struct json_object *a,
    const struct val *v)
{
	struct json_object *j;

	if (charge(st, node, 16) != 0 || to_json(st, node, v, &j) != 0)
		return st->err;
	if (json_object_array_add(a, j) != 0) {
		json_object_put(j);
		return rerr(st, node, CA_ERR_NOMEM, "out of memory");
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
	c = asmap ? keep(st, node, json_object_new_object()) :
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
			k = runelen(s->s + i, s->n - i);
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
			if (charge(st, node, 48) != 0 ||
			    to_json(st, node, &piece, &j) != 0)
				return st->err;
			if (json_object_object_add(c, key, j) != 0) {
				json_object_put(j);
				return rerr(st, node, CA_ERR_NOMEM,
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
	*out = jval(c);
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
	buf_init(&b, st);
	if (argv[1].k == V_ARR) {
		n = json_object_array_length(argv[1].j);
		for (i = 0; i < n; i++) {
			e = jval(json_object_array_get_idx(argv[1].j, i));
			if (e.k == V_NIL)
				continue;	/* sprig skips nils */
			if (!first)
				buf_add(&b, argv[0].s, argv[0].n);
			first = 0;
			if (e.k == V_STR)
				buf_add(&b, e.s, e.n);
			else if (print_val(&b, &e, 0) != 0)
				return buf_fail(st, node, &b);
		}
	} else if (argv[1].k > V_NIL) {
		if (strval(st, node, &argv[1], &sv) != 0) {
			free(b.p);
			return st->err;
		}
		buf_add(&b, sv.s, sv.n);
	}
	return buf_val(st, node, &b, out);
}

static int
firstlast(struct rstate *st, int node, struct val *argv, struct val *out,
    int last)
{
	size_t n;

	if (argv[0].k != V_ARR)
		return rerr(st, node, CA_ERR_INVAL, "error calling %s: Cannot "
		    "find %s on type %s", last ? "last" : "first", last ?
		    "last" : "first", tname(&argv[0]));
	n = json_object_array_length(argv[0].j);
	if (n == 0)
		out->k = V_NIL;
	else
		*out = jval(json_object_array_get_idx(argv[0].j,
		    last ? n - 1 : 0));
	return 0;
}

FN(f_first) { (void)argc; return firstlast(st, node, argv, out, 0); }
FN(f_last) { (void)argc; return firstlast(st, node, argv, out, 1); }

/* sprig's empty. */
static int
empty(const struct val *v)
{
	if (is_struct(v))
		return 0;
	return !truth(v);
}

FN(f_empty)
{
	(void)argc;
	(void)st;
	(void)node;
	*out = mkbool(empty(&argv[0]));
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
	*out = jval(a);
	return 0;
}

/* Put key (n bytes) = v in object o (ours). */
static int
obj_set(struct rstate *st, int node, struct json_object *o, const char *k,
    size_t n, const struct val *v)
{
	struct json_object *j;
	char *key;

	if (charge(st, node, n + 48) != 0)
		return st->err;
	if (memchr(k, '\0', n) != NULL)
		return rerr(st, node, CA_ERR_INVAL, "a key contains a NUL byte");
	if ((key = strndup(k, n)) == NULL)
		return rerr(st, node, CA_ERR_NOMEM, "out of memory");
	if (to_json(st, node, v, &j) != 0) {
		free(key);
		return st->err;
	}
	if (json_object_object_add(o, key, j) != 0) {
		free(key);
		json_object_put(j);
		return rerr(st, node, CA_ERR_NOMEM, "out of memory");
	}
	free(key);
	return 0;
}

FN(f_dict)
{
	struct json_object *o;
	struct val k, empty_str;
	int i;

	if ((o = keep(st, node, json_object_new_object())) == NULL)
		return st->err;
	memset(&empty_str, 0, sizeof(empty_str));
	empty_str.k = V_STR;
	empty_str.s = "";
	for (i = 0; i < argc; i += 2) {
		if (strval(st, node, &argv[i], &k) != 0 ||
		    obj_set(st, node, o, k.s, k.n, i + 1 < argc ?
		    &argv[i + 1] : &empty_str) != 0)
			return st->err;
	}
	*out = jval(o);
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
	if ((key = strndup(argv[1].s, argv[1].n)) == NULL)
		return rerr(st, node, CA_ERR_NOMEM, "out of memory");
	json_object_object_del(argv[0].j, key);
	free(key);
	*out = argv[0];
	return 0;
}

/* Member n bytes of k in a map value: 1 found (*e), 0 not. */
static int
map_get(const struct val *m, const char *k, size_t n, struct json_object **e)
{
	char key[1024];

	*e = NULL;
	if (m->k != V_MAP || n >= sizeof(key) || memchr(k, '\0', n) != NULL)
		return 0;
	memcpy(key, k, n);
	key[n] = '\0';
	return json_object_object_get_ex(m->j, key, e) ? 1 : 0;
}

FN(f_get)
{
	struct json_object *e;

	(void)argc;
	if (argv[0].k > V_NIL)
		WANT(&argv[0], V_MAP);
	WANT(&argv[1], V_STR);
	if (map_get(&argv[0], argv[1].s, argv[1].n, &e))
		*out = jval(e);
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
	*out = mkbool(map_get(&argv[0], argv[1].s, argv[1].n, &e));
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
		if ((keys = sorted_keys(argv[k].j, &n)) == NULL)
			return rerr(st, node, CA_ERR_NOMEM, "out of memory");
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
	*out = jval(a);
	return 0;
}

static int
quote(struct rstate *st, int node, int argc, struct val *argv,
    struct val *out, int single)
{
	struct buf b;
	struct val s;
	int k, n = 0;

	buf_init(&b, st);
	for (k = 0; k < argc; k++) {
		if (argv[k].k <= V_NIL)
			continue;
		if (strval(st, node, &argv[k], &s) != 0) {
			free(b.p);
			return st->err;
		}
		if (n++)
			buf_add(&b, " ", 1);
		if (single) {
			buf_add(&b, "'", 1);
			buf_add(&b, s.s, s.n);
			buf_add(&b, "'", 1);
		} else
			go_quote(&b, s.s, s.n);
	}
	return buf_val(st, node, &b, out);
}

FN(f_quote) { return quote(st, node, argc, argv, out, 0); }
FN(f_squote) { return quote(st, node, argc, argv, out, 1); }

/* base64.StdEncoding of n bytes of s, into b. */
static void
b64_encode(struct buf *b, const unsigned char *s, size_t n)
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
		buf_add(b, q, 4);
	}
	if (n - i == 1) {
		q[0] = tab[s[i] >> 2];
		q[1] = tab[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		buf_add(b, q, 4);
	} else if (n - i == 2) {
		q[0] = tab[s[i] >> 2];
		q[1] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = tab[(s[i + 1] & 15) << 2];
		q[3] = '=';
		buf_add(b, q, 4);
	}
}

FN(f_b64enc)
{
	struct buf b;

	(void)argc;
	WANT(&argv[0], V_STR);
	buf_init(&b, st);
	b64_encode(&b, (const unsigned char *)argv[0].s, argv[0].n);
	return buf_val(st, node, &b, out);
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

/*
 * base64.StdEncoding's decoding (padding required, CR and LF ignored)
 * into b: 0, or -1 with *at the offset of the bad byte.
 */
static int
b64_decode(struct buf *b, const char *s, size_t n, size_t *at)
{
	size_t i, q = 0, pad;
	uint32_t acc = 0;
	int v;
	char o[3];

	*at = 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=' && q >= 2) {
			/* the rest: '=' to fill the quantum, newlines */
			*at = i;
			pad = 4 - q;
			for (; i < n && pad > 0; i++)
				if (s[i] == '=')
					pad--;
				else if (s[i] != '\r' && s[i] != '\n')
					break;
			while (i < n && (s[i] == '\r' || s[i] == '\n'))
				i++;
			if (pad > 0 || i < n)
				return -1;
			acc <<= 6 * (4 - q);
			o[0] = (char)(acc >> 16);
			o[1] = (char)(acc >> 8);
			buf_add(b, o, q - 1);
			return 0;
		}
		if ((v = b64v((unsigned char)s[i])) < 0) {
			*at = i;
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++q == 4) {
			o[0] = (char)(acc >> 16);
			o[1] = (char)(acc >> 8);
			o[2] = (char)acc;
			buf_add(b, o, 3);
			q = 0;
			acc = 0;
		}
	}
	if (q != 0) {
		*at = n;
		return -1;
	}
	return 0;
}

/* sprig's b64dec: on bad input the error text is the result. */
FN(f_b64dec)
{
	struct buf b;
	size_t at;

	(void)argc;
	WANT(&argv[0], V_STR);
	buf_init(&b, st);
	if (b64_decode(&b, argv[0].s, argv[0].n, &at) == 0)
		return buf_val(st, node, &b, out);
	free(b.p);
	buf_init(&b, st);
	buf_fmt(&b, "illegal base64 data at input byte %zu", at);
	return buf_val(st, node, &b, out);
}

FN(f_toString) { (void)argc; return strval(st, node, &argv[0], out); }

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
	buf_add(b, (const char *)h, k);
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
				if (!isdigit((unsigned char)w[j]) || p->tag > 30)
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
		buf_add(b, t->p, t->n);
	else if (p->explicit) {
		der_head(b, (unsigned char)(p->cls | 0x20 | p->tag), t->n);
		buf_add(b, t->p, t->n);
	} else {
		/* the tag byte replaced, its constructed bit kept */
		unsigned char c = (unsigned char)(p->cls | (t->p[0] & 0x20) |
		    p->tag);

		buf_add(b, (const char *)&c, 1);
		buf_add(b, t->p + 1, t->n - 1);
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
	buf_add(b, (const char *)d + i, (size_t)n);
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
		k = runelen(s + i, n - i);
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
	buf_add(b, s, n);
	return NULL;
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
static int
time_parse(const char *s, size_t n, struct val *v)
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
static int
time_fields(const struct val *v, struct tm *tm)
{
	time_t t = (time_t)(v->i + v->tz);

	return gmtime_r(&t, tm) != NULL ? 0 : -1;
}

/*
 * A time as text: mode 1 Go's RFC3339Nano (its JSON), 2 RFC3339 (step's
 * formatTime), 0 Go's Time.String ("2023-11-14 22:13:20 +0000 UTC").
 */
static void
time_text(char *buf, size_t len, const struct val *v, int mode)
{
	struct tm tm;
	char frac[32] = "", zone[24];
	int k, a = v->tz < 0 ? -v->tz : v->tz;

	if (time_fields(v, &tm) != 0) {
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

/* A time as UTCTime (tag 0x17) or GeneralizedTime (0x18), Go's way. */
static const char *
der_time(struct buf *b, const struct val *v, int tag)
{
	struct tm tm;
	char t[32];
	int k, year, a = v->tz < 0 ? -v->tz : v->tz;

	if (time_fields(v, &tm) != 0)
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
	buf_add(b, t, (size_t)k);
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
	buf_add(b, (const char *)body, len);
	return NULL;
}

/* The DER buffer t as a base64 string value. */
static int
der_val(struct rstate *st, int node, struct buf *t, const char *err,
    struct val *out)
{
	struct buf b;

	if (err != NULL || t->over) {
		free(t->p);
		if (t->over && err == NULL)
			return buf_fail(st, node, t);
		return rerr(st, node, CA_ERR_INVAL, "error calling %s: %s",
		    fname((int)st->t->nodes[node].i), err);
	}
	buf_init(&b, st);
	b64_encode(&b, (const unsigned char *)(t->p ? t->p : ""), t->n);
	free(t->p);
	return buf_val(st, node, &b, out);
}

FN(f_asn1Enc)
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
	buf_init(&t, st);
	buf_init(&inner, st);
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
		if (*end != '\0' || errno != 0 || isspace((unsigned char)num[0])) {
			err = "invalid int value";
			goto out;
		}
		der_int(&inner, i);
	} else if (TYPE("oid"))
		err = der_oid(&inner, v, vn);
	else if (TYPE("raw")) {
		if (b64_decode(&inner, v, vn, &at) != 0)
			err = "illegal base64 data";
		if (err == NULL) {
			buf_add(&t, inner.p ? inner.p : "", inner.n);
			free(inner.p);
			return der_val(st, node, &t, NULL, out);
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
			buf_add(&inner, b ? "\x01\x01\xff" : "\x01\x01\x00", 3);
	} else if (p.time) {
		struct val tv;

		if (time_parse(v, vn, &tv) != 0)
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
	if (err == NULL)
		der_tagged(&t, &inner, &p);
out:
	free(inner.p);
	return der_val(st, node, &t, err, out);
}

FN(f_asn1Marshal)
{
	struct buf t, inner, ps;
	struct asn1p p;
	const char *err = NULL;
	int k;

	for (k = 1; k < argc; k++)
		WANT(&argv[k], V_STR);
	buf_init(&t, st);
	buf_init(&inner, st);
	buf_init(&ps, st);
	for (k = 1; k < argc; k++) {
		if (k > 1)
			buf_add(&ps, ",", 1);
		buf_add(&ps, argv[k].s, argv[k].n);
	}
	if (asn1_params(ps.p ? ps.p : "", ps.n, &p) != 0)
		err = "unsupported parameters";
	else if (argv[0].k == V_STR)
		err = der_string(&inner, argv[0].s, argv[0].n, &p);
	else if (argv[0].k == V_INT)
		der_int(&inner, argv[0].i);
	else if (argv[0].k == V_BOOL)
		buf_add(&inner, argv[0].i ? "\x01\x01\xff" : "\x01\x01\x00", 3);
	else if (argv[0].k == V_TIME)
		err = der_time(&inner, &argv[0], p.time);
	else
		err = "cannot marshal this type (strings, ints, bools, times "
		    "only)";
	if (err == NULL)
		der_tagged(&t, &inner, &p);
	free(inner.p);
	free(ps.p);
	return der_val(st, node, &t, err, out);
}

/* asn1Seq, asn1Set: the decoded values in a SEQUENCE or SET, in order. */
static int
der_list(struct rstate *st, int node, int argc, struct val *argv,
    struct val *out, unsigned char tag)
{
	struct buf t, body;
	size_t at;
	int k;

	buf_init(&t, st);
	buf_init(&body, st);
	for (k = 0; k < argc; k++) {
		if (want(st, node, &argv[k], V_STR, fname((int)
		    st->t->nodes[node].i)) != 0 || b64_decode(&body, argv[k].s,
		    argv[k].n, &at) != 0) {
			free(body.p);
			if (st->err)
				return st->err;
			return rerr(st, node, CA_ERR_INVAL, "error calling %s: "
			    "illegal base64 data at input byte %zu",
			    fname((int)st->t->nodes[node].i), at);
		}
	}
	der_head(&t, tag, body.n);
	buf_add(&t, body.p ? body.p : "", body.n);
	free(body.p);
	return der_val(st, node, &t, NULL, out);
}

FN(f_asn1Seq) { return der_list(st, node, argc, argv, out, 0x30); }
FN(f_asn1Set) { return der_list(st, node, argc, argv, out, 0x31); }

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

FN(f_now)
{
	(void)st; (void)node; (void)argc; (void)argv;
	*out = time_now();
	return 0;
}

FN(f_toTime)
{
	(void)st;
	(void)node;
	if (argc == 0)
		*out = time_now();
	else
		*out = to_time(&argv[0]);
	return 0;
}

FN(f_formatTime)
{
	struct val v;
	char t[64];

	v = argc ? to_time(&argv[0]) : time_now();
	time_text(t, sizeof(t), &v, 2);
	return mkstr(st, node, t, strlen(t), out);
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

FN(f_toTimeLayout)
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
	return mkstr(st, node, l, n, out);
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
			return rerr(st, node, CA_ERR_INVAL, "error calling %s: "
			    "only the RFC3339 layouts are supported",
			    fname((int)st->t->nodes[node].i));
		if (argc == 3 && !(argv[2].n == 3 &&
		    memcmp(argv[2].s, "UTC", 3) == 0))
			return rerr(st, node, CA_ERR_INVAL, "error calling %s: "
			    "only the UTC location is supported",
			    fname((int)st->t->nodes[node].i));
	}
	if (time_parse(argv[argc >= 2].s, argv[argc >= 2].n, out) == 0)
		return 0;
	if (must)
		return rerr(st, node, CA_ERR_INVAL, "error calling "
		    "mustParseTime: cannot parse \"%.*s\" as RFC 3339",
		    (int)(argv[argc >= 2].n > 64 ? 64 : argv[argc >= 2].n),
		    argv[argc >= 2].s);
	memset(out, 0, sizeof(*out));
	out->k = V_TIME;
	out->i = -62135596800LL;	/* 0001-01-01T00:00:00Z */
	return 0;
}

FN(f_parseTime) { return parse_time(st, node, argc, argv, out, 0); }
FN(f_mustParseTime) { return parse_time(st, node, argc, argv, out, 1); }

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
			return rerr(st, node, CA_ERR_INVAL, "error calling "
			    "concat: Cannot concat type %s as list",
			    tname(&argv[k]));
		n = json_object_array_length(argv[k].j);
		for (i = 0; i < n; i++) {
			e = jval(json_object_array_get_idx(argv[k].j, i));
			if (arr_push(st, node, a, &e) != 0)
				return st->err;
		}
	}
	*out = jval(a);
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
		return rerr(st, node, CA_ERR_INVAL, "error calling uniq: "
		    "Cannot find uniq on type %s", tname(&argv[0]));
	if ((a = new_arr(st, node)) == NULL)
		return st->err;
	n = json_object_array_length(argv[0].j);
	for (i = 0; i < n; i++) {
		e = jval(json_object_array_get_idx(argv[0].j, i));
		m = json_object_array_length(a);
		/* quadratic in the list: each comparison is a step */
		for (j = 0, dup = 0; j < m && !dup; j++) {
			if (step(st, node) != 0)
				return st->err;
			f = jval(json_object_array_get_idx(a, j));
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
	*out = jval(a);
	return 0;
}


FN(f_fail)
{
	(void)argc;
	(void)out;
	WANT(&argv[0], V_STR);
	/* step reports the message alone (its TemplateError) */
	st->err = ca_err(CA_ERR_FORBIDDEN, "%.*s", (int)(argv[0].n > 400 ?
	    400 : argv[0].n), argv[0].s);
	return st->err;
}

FN(f_required)
{
	(void)argc;
	WANT(&argv[0], V_STR);
	if (argv[1].k <= V_NIL || (argv[1].k == V_STR && argv[1].n == 0))
		return rerr(st, node, CA_ERR_INVAL, "error calling required: "
		    "%.*s", (int)(argv[0].n > 200 ? 200 : argv[0].n),
		    argv[0].s);
	*out = argv[1];
	return 0;
}

/* and, or: evaluated lazily by the caller; never called. */
FN(f_lazy)
{
	(void)st; (void)node; (void)argc; (void)argv; (void)out;
	return 0;
}

static const struct func funcs[] = {
	/* text/template's builtins */
	{ "and", 1, -1, f_lazy },
	{ "or", 1, -1, f_lazy },
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
	{ "now", 0, 0, f_now },
	{ "toTime", 0, 1, f_toTime },
	{ "formatTime", 0, 1, f_formatTime },
	{ "parseTime", 0, 3, f_parseTime },
	{ "mustParseTime", 0, 3, f_mustParseTime },
	{ "toTimeLayout", 1, 1, f_toTimeLayout },
	{ "uniq", 1, 1, f_uniq },
	/* step's ASN.1 helpers */
	{ "asn1Enc", 1, 1, f_asn1Enc },
	{ "asn1Marshal", 1, -1, f_asn1Marshal },
	{ "asn1Seq", 0, -1, f_asn1Seq },
	{ "asn1Set", 0, -1, f_asn1Set },
};
static const size_t nfuncs = sizeof(funcs) / sizeof(funcs[0]);

static int
func_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nfuncs; i++)
		if (strlen(funcs[i].name) == len &&
		    memcmp(funcs[i].name, name, len) == 0)
			return (int)i;
	return -1;
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
	if (step(st, name) != 0)
		return st->err;
	if (v->k == V_NOVAL)
		return 0;	/* missing key further up: still no value */
	if (v->k == V_NIL)
		return rerr(st, name, CA_ERR_INVAL, "nil pointer evaluating "
		    "interface {}.%.*s", (int)n->len, key);
	if (v->k != V_MAP)
		return rerr(st, name, CA_ERR_INVAL, "can't evaluate field %.*s "
		    "in type %s", (int)n->len, key, tname(v));
	if (map_get(v, key, n->len, &e)) {
		*out = jval(e);
		/* a struct's integer field is a Go int (PublicKey.Size), a
		 * map's number a float64 */
		if (is_struct(v) && json_object_get_type(e) == json_type_int)
			*out = mkint(json_object_get_int64(e));
		return 0;
	}
	if (is_struct(v)) {
		const struct gofield *g = gofields(gotype_of(v->j));

		for (; g && g->go; g++)
			if (strlen(g->go) == n->len &&
			    memcmp(g->go, key, n->len) == 0) {
				/* a field the data leaves out: Go's zero */
				if (g->zero == 's') {
					out->k = V_STR;
					out->s = "";
				} else if (g->zero == 'i')
					*out = mkint(0);
				else
					out->k = V_NIL;
				return 0;
			}
		return rerr(st, name, CA_ERR_INVAL, "can't evaluate field %.*s "
		    "in type %s", (int)n->len, key, tname(v));
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
	if (step(st, id) != 0)
		return st->err;
	switch (n->type) {
	case N_DOT:
		*out = *dot;
		return 0;
	case N_NIL:
		out->k = V_NIL;
		return 0;
	case N_BOOL:
		*out = mkbool((int)n->i);
		return 0;
	case N_INT:
		*out = mkint(n->i);
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
	return rerr(st, id, CA_ERR_INVAL, "unexpected operand");
}

/*
 * Call function node fn with the operands from args on (a chain), and
 * final (the previous command's value) if hasfinal.
 */
static int
call(struct rstate *st, int fn, int args, const struct val *dot,
    int hasfinal, const struct val *final, struct val *out)
{
	const struct func *f = &funcs[RN(st, fn)->i];
	struct val argv[64];
	int argc = 0, a;

	memset(out, 0, sizeof(*out));
	if (f->fn == f_lazy) {
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
			if (truth(out) != isand)
				return 0;
			if (a < 0)
				break;
		}
		if (argc == 0)
			return rerr(st, fn, CA_ERR_INVAL, "wrong number of "
			    "args for %s: want at least 1 got 0", f->name);
		return 0;
	}
	for (a = args; a >= 0; a = RN(st, a)->next) {
		if (argc >= 63)
			return rerr(st, fn, CA_ERR_INVAL, "too many arguments "
			    "for %s", f->name);
		if (operand_val(st, a, dot, &argv[argc++]) != 0)
			return st->err;
	}
	if (hasfinal)
		argv[argc++] = *final;
	if (argc < f->min || (f->max >= 0 && argc > f->max)) {
		if (f->max < 0)
			return rerr(st, fn, CA_ERR_INVAL, "wrong number of args "
			    "for %s: want at least %d got %d", f->name, f->min,
			    argc);
		return rerr(st, fn, CA_ERR_INVAL, "wrong number of args for "
		    "%s: want %d got %d", f->name, argc < f->min ? f->min :
		    f->max, argc);
	}
	if (step(st, fn) != 0)
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
		return rerr(st, first, CA_ERR_INVAL, "can't give argument to "
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
		return rerr(st, node, CA_ERR_TOOBIG, "output over %d bytes",
		    CA_TMPL_MAX_OUT);
	if (st->outlen + n + 1 > st->outcap) {
		size_t cap = st->outcap ? st->outcap : 1024;
		char *np;

		while (cap < st->outlen + n + 1)
			cap *= 2;
		if ((np = realloc(st->out, cap)) == NULL)
			return rerr(st, node, CA_ERR_NOMEM, "out of memory");
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
	if (print_val(&b, v, 0) != 0) {
		if (b.over == 1) {
			free(b.p);
			return rerr(st, node, CA_ERR_TOOBIG, "output over %d "
			    "bytes", CA_TMPL_MAX_OUT);
		}
		return buf_fail(st, node, &b);
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
		if (is_struct(&v))
			goto bad;
		if ((keys = sorted_keys(v.j, &len)) == NULL)
			return rerr(st, id, CA_ERR_NOMEM, "out of memory");
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
		if (step(st, id) != 0) {
			r = st->err;
			break;
		}
		memset(&k, 0, sizeof(k));
		if (v.k == V_ARR) {
			k = mkint((int64_t)i);
			e = jval(json_object_array_get_idx(v.j, i));
		} else if (v.k == V_MAP) {
			k.k = V_STR;
			k.s = keys[i];
			k.n = strlen(keys[i]);
			e = jval(json_object_object_get(v.j, keys[i]));
		} else
			e = k = mkint((int64_t)i);
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
	/* keys point into v.j, which the arena keeps: only the array goes */
	free(keys);
	if (r == W_OK && len == 0 && n->c >= 0)
		return walk_list(st, n->c, dot);
	return r;
bad:
	{
		struct buf b;

		memset(&b, 0, sizeof(b));
		b.max = 200;
		print_val(&b, &v, 0);
		r = rerr(st, id, CA_ERR_INVAL, "range can't iterate over %s",
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

	if (step(st, id) != 0)
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
		if (truth(&v))
			return walk_list(st, n->b, n->type == N_WITH ? &v : dot);
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
	return rerr(st, id, CA_ERR_INVAL, "unexpected node");
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
		if ((copy = copy_json(&st, t->root, data, 0)) == NULL ||
		    keep(&st, t->root, copy) == NULL) {
			r = st.err;
			goto out;
		}
		dot = jval(copy);
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

void
ca_tmpl_set_gotype(struct json_object *o, const char *gotype)
{
	json_object_set_userdata(o, (void *)(uintptr_t)gotype, NULL);
}

static const char *
fname(int i)
{
	return funcs[i].name;
}
