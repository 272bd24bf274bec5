/*
 * json.c - strict JSON input (see json.h for what is refused and why).
 *
 * json-c parses the structure; a small lexer walks the same bytes first
 * and refuses what json-c would let through. Duplicate members are found
 * by comparing the member count the lexer saw with the one json-c kept.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "json.h"

struct lex {
	const char	*p, *end, *start;
	const char	*what;
	size_t		 members;
};

static int
lex_fail(struct lex *l, const char *why)
{
	return ca_err(CA_ERR_INVAL, "%s: invalid JSON at byte %zu: %s",
	    l->what, (size_t)(l->p - l->start), why);
}

static void
skip_ws(struct lex *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' ||
	    *l->p == '\n' || *l->p == '\r'))
		l->p++;
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static int
utf8_len(const char *sp, const char *end)
{
	const unsigned char *p = (const unsigned char *)sp;
	size_t avail = (size_t)(end - sp);
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < (size_t)n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int
ca_utf8_valid(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	int n;

	while (p < end) {
		if ((unsigned char)*p < 0x80) {
			p++;
			continue;
		}
		if ((n = utf8_len(p, end)) == 0)
			return 0;
		p += n;
	}
	return 1;
}

static int
lex_string(struct lex *l)
{
	int i;

	l->p++;			/* opening quote */
	while (l->p < l->end) {
		unsigned char c = (unsigned char)*l->p;
		if (c == '"') {
			l->p++;
			return 0;
		}
		if (c < 0x20)
			return lex_fail(l, "control character in string");
		if (c >= 0x80) {
			int n = utf8_len(l->p, l->end);
			if (n == 0)
				return lex_fail(l, "invalid UTF-8 in string");
			l->p += n;
			continue;
		}
		if (c == '\\') {
			l->p++;
			if (l->p >= l->end)
				break;
			if (*l->p == 'u') {
				if (l->end - l->p < 5)
					break;
				for (i = 1; i <= 4; i++)
					if (strchr("0123456789abcdefABCDEF",
					    l->p[i]) == NULL || l->p[i] == '\0')
						return lex_fail(l, "bad \\u escape");
				if (strncmp(l->p + 1, "0000", 4) == 0)
					return lex_fail(l, "\\u0000 in string");
				l->p += 5;
				continue;
			}
			if (strchr("\"\\/bfnrt", *l->p) == NULL || *l->p == '\0')
				return lex_fail(l, "bad escape in string");
		}
		l->p++;
	}
	return lex_fail(l, "unterminated string");
}

static int
lex_number(struct lex *l)
{
	const char *s = l->p;
	int is_int = 1;
	char buf[64], *endp;

	if (l->p < l->end && *l->p == '-')
		l->p++;
	if (l->p >= l->end || *l->p < '0' || *l->p > '9')
		return lex_fail(l, "invalid literal");
	if (*l->p == '0' && l->p + 1 < l->end && l->p[1] >= '0' && l->p[1] <= '9')
		return lex_fail(l, "leading zero in number");
	while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
		l->p++;
	if (l->p < l->end && *l->p == '.') {
		is_int = 0;
		l->p++;
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return lex_fail(l, "invalid number");
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	}
	if (l->p < l->end && (*l->p == 'e' || *l->p == 'E')) {
		is_int = 0;
		l->p++;
		if (l->p < l->end && (*l->p == '+' || *l->p == '-'))
			l->p++;
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return lex_fail(l, "invalid number");
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	}
	if ((size_t)(l->p - s) >= sizeof(buf))
		return lex_fail(l, "number too long");
	memcpy(buf, s, (size_t)(l->p - s));
	buf[l->p - s] = '\0';
	errno = 0;
	if (is_int) {
		(void)strtoll(buf, &endp, 10);
		if (errno == ERANGE)
			return lex_fail(l, "integer out of range");
	} else {
		double d = strtod(buf, &endp);
		if (errno == ERANGE || !isfinite(d))
			return lex_fail(l, "number out of range");
	}
	return 0;
}

static int
lex_value(struct lex *l, int depth)
{
	int rc, first;

	if (depth > CA_MAX_JSON_DEPTH)
		return lex_fail(l, "nested too deeply");
	skip_ws(l);
	if (l->p >= l->end)
		return lex_fail(l, "unexpected end");
	switch (*l->p) {
	case '"':
		return lex_string(l);
	case '{':
		l->p++;
		for (first = 1;; first = 0) {
			skip_ws(l);
			if (l->p < l->end && *l->p == '}' && first) {
				l->p++;
				return 0;
			}
			if (l->p >= l->end || *l->p != '"')
				return lex_fail(l, "expected a member name");
			if ((rc = lex_string(l)) != 0)
				return rc;
			l->members++;
			skip_ws(l);
			if (l->p >= l->end || *l->p != ':')
				return lex_fail(l, "expected ':'");
			l->p++;
			if ((rc = lex_value(l, depth + 1)) != 0)
				return rc;
			skip_ws(l);
			if (l->p < l->end && *l->p == ',') {
				l->p++;
				continue;
			}
			if (l->p < l->end && *l->p == '}') {
				l->p++;
				return 0;
			}
			return lex_fail(l, "expected ',' or '}'");
		}
	case '[':
		l->p++;
		for (first = 1;; first = 0) {
			skip_ws(l);
			if (l->p < l->end && *l->p == ']' && first) {
				l->p++;
				return 0;
			}
			if ((rc = lex_value(l, depth + 1)) != 0)
				return rc;
			skip_ws(l);
			if (l->p < l->end && *l->p == ',') {
				l->p++;
				continue;
			}
			if (l->p < l->end && *l->p == ']') {
				l->p++;
				return 0;
			}
			return lex_fail(l, "expected ',' or ']'");
		}
	case 't':
		if (l->end - l->p >= 4 && memcmp(l->p, "true", 4) == 0) {
			l->p += 4;
			return 0;
		}
		break;
	case 'f':
		if (l->end - l->p >= 5 && memcmp(l->p, "false", 5) == 0) {
			l->p += 5;
			return 0;
		}
		break;
	case 'n':
		if (l->end - l->p >= 4 && memcmp(l->p, "null", 4) == 0) {
			l->p += 4;
			return 0;
		}
		break;
	default:
		return lex_number(l);
	}
	return lex_fail(l, "invalid literal");
}

static size_t
count_members(struct json_object *o)
{
	size_t n = 0, i, len;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + count_members(v);
		}
		break;
	}
	case json_type_array:
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += count_members(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
	return n;
}

int
ca_json_parse(const char *buf, size_t len, const char *what,
    struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *o;
	struct lex l;
	int rc;

	*out = NULL;
	if (memchr(buf, '\0', len) != NULL)
		return ca_err(CA_ERR_INVAL, "%s: NUL byte in JSON", what);
	l.p = l.start = buf;
	l.end = buf + len;
	l.what = what;
	l.members = 0;
	if ((rc = lex_value(&l, 1)) != 0)
		return rc;
	skip_ws(&l);
	if (l.p != l.end)
		return lex_fail(&l, "trailing data after the JSON value");

	if ((tok = json_tokener_new_ex(CA_MAX_JSON_DEPTH + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	/* A bare number or literal waits for more input: end it. */
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	/* The lexer above has checked the syntax; a top-level null is NULL. */
	if (json_tokener_get_error(tok) != json_tokener_success) {
		rc = ca_err(CA_ERR_INVAL, "%s: invalid JSON: %s", what,
		    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		json_object_put(o);
		return rc;
	}
	json_tokener_free(tok);
	if (count_members(o) != l.members) {
		json_object_put(o);
		return ca_err(CA_ERR_INVAL, "%s: duplicate member name in JSON",
		    what);
	}
	*out = o;
	return 0;
}

static int
member(struct json_object *o, const char *key, int required,
    enum json_type type, const char *tname, struct json_object **v)
{
	*v = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, v) || *v == NULL) {
		*v = NULL;
		if (required)
			return ca_err(CA_ERR_INVAL, "missing \"%s\"", key);
		return CA_ERR_NOTFOUND;
	}
	if (!json_object_is_type(*v, type)) {
		*v = NULL;
		return ca_err(CA_ERR_INVAL, "\"%s\" is not %s", key, tname);
	}
	return 0;
}

int
ca_json_string(struct json_object *o, const char *key, int required,
    const char **s)
{
	struct json_object *v;
	int rc;

	*s = NULL;
	if ((rc = member(o, key, required, json_type_string, "a string", &v)) != 0)
		return rc;
	*s = json_object_get_string(v);
	return 0;
}

int
ca_json_int64(struct json_object *o, const char *key, int required,
    int64_t *out)
{
	struct json_object *v;
	int rc;

	*out = 0;
	if ((rc = member(o, key, required, json_type_int, "an integer", &v)) != 0)
		return rc;
	*out = json_object_get_int64(v);
	return 0;
}

int
ca_json_bool(struct json_object *o, const char *key, int required, int *out)
{
	struct json_object *v;
	int rc;

	*out = 0;
	if ((rc = member(o, key, required, json_type_boolean, "a boolean",
	    &v)) != 0)
		return rc;
	*out = json_object_get_boolean(v);
	return 0;
}

int
ca_json_object(struct json_object *o, const char *key, int required,
    struct json_object **out)
{
	return member(o, key, required, json_type_object, "an object", out);
}

int
ca_json_array(struct json_object *o, const char *key, int required,
    struct json_object **out)
{
	return member(o, key, required, json_type_array, "an array", out);
}

char *
ca_json_dump(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s != NULL ? strdup(s) : NULL;
}

char *
ca_json_dump_pretty(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	char *r;

	if (s == NULL || asprintf(&r, "%s\n", s) < 0)
		return NULL;
	return r;
}
