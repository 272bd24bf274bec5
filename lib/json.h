/*
 * json.h - strict JSON input on top of json-c.
 *
 * json-c alone accepts comments, trailing garbage, duplicate members
 * (last wins), "\u0000" inside strings, NaN and integers that silently
 * saturate. Everything read from a file or a peer goes through
 * ca_json_parse(), which refuses all of these.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_JSON_H
#define CA_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/*
 * Parse exactly len bytes as one JSON value. Refused: syntax errors,
 * trailing bytes, comments, duplicate member names, NUL bytes or \u0000,
 * invalid UTF-8, literals other than true/false/null, integers outside
 * int64, non-finite numbers, nesting deeper than CA_MAX_JSON_DEPTH.
 * what names the input in the error message. *out: caller puts it.
 */
int	 ca_json_parse(const char *buf, size_t len, const char *what,
	    struct json_object **out);

/*
 * Typed member access. Each returns CA_ERR_NOTFOUND when the member is
 * absent and required is 0 (no error recorded), CA_ERR_INVAL when it
 * is absent and required, or has the wrong type (error recorded).
 * Strings are borrowed from o.
 */
int	 ca_json_string(struct json_object *o, const char *key, int required,
	    const char **s);
int	 ca_json_int64(struct json_object *o, const char *key, int required,
	    int64_t *v);
int	 ca_json_bool(struct json_object *o, const char *key, int required,
	    int *v);
int	 ca_json_object(struct json_object *o, const char *key, int required,
	    struct json_object **v);
int	 ca_json_array(struct json_object *o, const char *key, int required,
	    struct json_object **v);
/* Whether len bytes of s are well-formed UTF-8 (as ca_json_parse wants). */
int	 ca_utf8_valid(const char *s, size_t len);
/* Serialise compactly (no spaces, "/" not escaped). Caller frees. */
char	*ca_json_dump(struct json_object *o);
/* Serialise for people (two-space indent, trailing newline). Caller frees. */
char	*ca_json_dump_pretty(struct json_object *o);

#endif /* CA_JSON_H */
