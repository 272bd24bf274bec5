/*
 * test-json.c - unit tests of lib/json.c: what the strict parser accepts
 * and refuses, the typed getters, serialisation.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "json.h"
#include "tap.h"

/* Something not NULL, to see that results are cleared. */
static char junk[1];

/* s with control and non-ASCII bytes as \xNN, for test names. */
static const char *
vis(const char *s)
{
	static char buf[4][512];
	static int k;
	char *p;

	k = (k + 1) % 4;
	for (p = buf[k]; *s != '\0' && p < buf[k] + sizeof(buf[k]) - 5; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	*p = '\0';
	return buf[k];
}

/* Parse a NUL-terminated text; returns the status, frees the result. */
static int
parse_s(const char *s)
{
	struct json_object *o = (struct json_object *)(void *)junk;
	int rc;

	rc = ca_json_parse(s, strlen(s), "test", &o);
	if (rc != 0 && o != NULL) {
		printf("# result not cleared on failure\n");
		rc = 1;
	}
	json_object_put(o);
	return rc;
}

/*
 * depth nested containers, the innermost holding inner (nothing if ""):
 * "[[1]]", or {"a":{"a":1}} for objects. Caller frees.
 */
static char *
nested(int depth, int objects, const char *inner)
{
	size_t cap = (size_t)depth * 6 + strlen(inner) + 8;
	char *s = malloc(cap), *p = s;
	int i;

	if (s == NULL)
		exit(1);
	for (i = 0; i < depth - 1; i++)
		p += objects ? sprintf(p, "{\"a\":") : sprintf(p, "[");
	if (objects)
		p += inner[0] != '\0' ? sprintf(p, "{\"a\":%s}", inner) :
		    sprintf(p, "{}");
	else
		p += sprintf(p, "[%s]", inner);
	for (i = 0; i < depth - 1; i++)
		*p++ = objects ? '}' : ']';
	*p = '\0';
	return s;
}

static void
test_accept(void)
{
	static const char *good[] = {
		"{}",
		"[]",
		" \t\r\n{ \"a\" : 1 , \"b\" : [ true , false , null ] } \n",
		"{\"a\":{\"b\":1},\"c\":{\"b\":2}}",
		"[{\"a\":1},{\"a\":1}]",
		"{\"a\":[{\"x\":1,\"y\":2},{\"x\":3}]}",
		"\"just a string\"",
		"[0,-0,1.5e3,-2.25E-2,0.0,1E+2]",
		"[9223372036854775807]",
		"[-9223372036854775808]",
		"\"\\u00e9\\ud83d\\ude00 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"",
		"\"caf\xc3\xa9\"",
		"{\"\":1}",
		"[true,false,null]",
		/* RFC 8259: any value at the top level. */
		"1 ",
		"0",
		"-12",
		"1.5e3",
		"true",
		"null",
	};
	struct json_object *o;
	int64_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(parse_s(good[i]), 0, "accepted: %s", vis(good[i]));

	rc = ca_json_parse("{\"a\":1}xyz", 7, "test", &o);
	ok(rc == 0 && ca_json_int64(o, "a", 1, &v) == 0 && v == 1,
	    "only len bytes are parsed");
	json_object_put(o);
}

static void
test_refuse(void)
{
	static const char *bad[] = {
		/* duplicate members */
		"{\"a\":1,\"a\":2}",
		"{\"a\":1,\"b\":2,\"a\":1}",
		"{\"x\":{\"a\":1,\"a\":2}}",
		"[{\"a\":1},{\"b\":1,\"b\":1}]",
		"{\"a\\u0000b\":1,\"a\\u0000c\":2}",
		"{\"a\":1,\"\\u0061\":2}",
		"{\"a\\u0062\":1,\"ab\":2}",
		/* comments */
		"{\"a\":1 /* c */}",
		"/* c */{\"a\":1}",
		"{\"a\":1}/* c */",
		"// c\n{\"a\":1}",
		"{\"a\":1}// c",
		"{\"a\":1,// c\n\"b\":2}",
		"# c\n{}",
		/* trailing garbage and commas */
		"{\"a\":1} x",
		"{\"a\":1}{}",
		"{}}",
		"[] []",
		"[1,]",
		"{\"a\":1,}",
		"[,1]",
		"[1,,2]",
		/* quotes, literals, numbers */
		"{'a':1}",
		"['a']",
		"{a:1}",
		"NaN",
		"[NaN]",
		"{\"a\":NaN}",
		"Infinity",
		"-Infinity",
		"[Infinity]",
		"99999999999999999999",
		"-99999999999999999999",
		"9223372036854775808",
		"-9223372036854775809",
		"{\"n\":99999999999999999999}",
		"1e999",
		"-1e999",
		"[1E400]",
		"01",
		"-01",
		"[00]",
		"{\"a\":01}",
		"+1",
		".5",
		"1.",
		"1e",
		"1e+",
		"0x10",
		"-",
		"foo",
		"True",
		"nul",
		"nulls",
		"truefalse",
		"undefined",
		/* strings */
		"\"a\\u0000b\"",
		"{\"k\":\"\\u0000\"}",
		"\"\\x41\"",
		"\"\\u12g4\"",
		"\"\\u12\"",
		"\"a\tb\"",
		"\"a\nb\"",
		"\"unterminated",
		"\"\xc3\x28\"",
		"{\"\xc3\x28\":1}",
		"\"\xff\"",
		/* overlong '/', a UTF-16 surrogate, a code point > U+10FFFF */
		"\"\xc0\xaf\"",
		"\"\xe0\x80\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"\"\xc3\"",
		/* structure */
		"",
		"   ",
		"{",
		"[1",
		"{\"a\"}",
		"{\"a\" 1}",
		"{\"a\":}",
		"[1 2]",
		"{1:2}",
	};
	char nul[] = "{\"a\":\"b\0c\"}";
	struct json_object *o = (struct json_object *)(void *)junk;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(parse_s(bad[i]), CA_ERR_INVAL, "refused: %s",
		    vis(bad[i]));

	is_int(ca_json_parse(nul, sizeof(nul) - 1, "test", &o), CA_ERR_INVAL,
	    "refused: raw NUL byte in a string");
	ok(o == NULL, "result cleared");
	is_int(ca_json_parse("{}\0", 3, "test", &o), CA_ERR_INVAL,
	    "refused: raw NUL byte after the value");

	ca_err_clear();
	parse_s("{\"a\":1,}");
	is_str(ca_errmsg(),
	    "test: invalid JSON at byte 7: expected a member name",
	    "message names the input and the byte offset");
	parse_s("{\"a\":1,\"a\":2}");
	is_str(ca_errmsg(), "test: duplicate member name in JSON",
	    "duplicate member message");

	/* Nesting: CA_MAX_JSON_DEPTH levels accepted, one more refused. */
	s = nested(CA_MAX_JSON_DEPTH, 0, "");
	is_int(parse_s(s), 0, "%d nested arrays accepted", CA_MAX_JSON_DEPTH);
	free(s);
	s = nested(CA_MAX_JSON_DEPTH + 1, 0, "");
	is_int(parse_s(s), CA_ERR_INVAL, "%d nested arrays refused",
	    CA_MAX_JSON_DEPTH + 1);
	free(s);
	s = nested(CA_MAX_JSON_DEPTH, 1, "");
	is_int(parse_s(s), 0, "%d nested objects accepted", CA_MAX_JSON_DEPTH);
	free(s);
	s = nested(CA_MAX_JSON_DEPTH + 1, 1, "");
	is_int(parse_s(s), CA_ERR_INVAL, "%d nested objects refused",
	    CA_MAX_JSON_DEPTH + 1);
	free(s);
	s = nested(CA_MAX_JSON_DEPTH - 1, 0, "1");
	is_int(parse_s(s), 0, "a number inside %d arrays accepted",
	    CA_MAX_JSON_DEPTH - 1);
	free(s);
	s = nested(200, 0, "");
	is_int(parse_s(s), CA_ERR_INVAL, "200 nested arrays refused");
	free(s);
	/* Every value is a level: a number in the deepest array is one more. */
	s = nested(CA_MAX_JSON_DEPTH, 0, "1");
	is_int(parse_s(s), CA_ERR_INVAL, "a number inside %d arrays refused",
	    CA_MAX_JSON_DEPTH);
	free(s);
	s = nested(CA_MAX_JSON_DEPTH - 1, 1, "\"x\"");
	is_int(parse_s(s), 0, "a string inside %d objects accepted",
	    CA_MAX_JSON_DEPTH - 1);
	free(s);
}

static void
test_getters(void)
{
	static const char doc[] = "{\"s\":\"str\",\"i\":9007199254740993,"
	    "\"max\":9223372036854775807,\"min\":-9223372036854775808,"
	    "\"b\":true,\"f\":false,\"o\":{\"k\":1},\"a\":[1,2],\"d\":1.5,"
	    "\"e\":1e2,\"n\":null,\"is\":\"1\"}";
	struct json_object *o, *arr, *v;
	const char *s;
	int64_t i;
	int b, rc;

	rc = ca_json_parse(doc, strlen(doc), "doc", &o);
	is_int(rc, 0, "getter document parses");
	if (rc != 0)
		return;

	rc = ca_json_string(o, "s", 1, &s);
	ok(rc == 0 && s != NULL && strcmp(s, "str") == 0, "string");
	rc = ca_json_int64(o, "i", 1, &i);
	ok(rc == 0 && i == INT64_C(9007199254740993),
	    "int 9007199254740993 kept exactly");
	rc = ca_json_int64(o, "max", 1, &i);
	ok(rc == 0 && i == INT64_MAX, "INT64_MAX kept");
	rc = ca_json_int64(o, "min", 1, &i);
	ok(rc == 0 && i == INT64_MIN, "INT64_MIN kept");
	rc = ca_json_bool(o, "b", 1, &b);
	ok(rc == 0 && b == 1, "bool true");
	rc = ca_json_bool(o, "f", 1, &b);
	ok(rc == 0 && b == 0, "bool false");
	rc = ca_json_object(o, "o", 1, &v);
	ok(rc == 0 && v != NULL && json_object_is_type(v, json_type_object),
	    "object");
	rc = ca_json_array(o, "a", 1, &arr);
	ok(rc == 0 && arr != NULL && json_object_array_length(arr) == 2,
	    "array");

#define WRONG(call, key, tname, what) do {				\
	ca_err_clear();							\
	rc = (call);							\
	is_int(rc, CA_ERR_INVAL, "%s: wrong type refused", what);	\
	is_str(ca_errmsg(), "\"" key "\" is not " tname,		\
	    "%s: message names the key", what);				\
} while (0)
	s = "x";
	WRONG(ca_json_string(o, "i", 0, &s), "i", "a string", "string of int");
	ok(s == NULL, "string result cleared");
	WRONG(ca_json_string(o, "o", 1, &s), "o", "a string",
	    "string of object");
	i = 7;
	WRONG(ca_json_int64(o, "d", 0, &i), "d", "an integer", "int of 1.5");
	ok(i == 0, "int result cleared");
	WRONG(ca_json_int64(o, "e", 0, &i), "e", "an integer", "int of 1e2");
	WRONG(ca_json_int64(o, "is", 1, &i), "is", "an integer",
	    "int of \"1\"");
	WRONG(ca_json_int64(o, "b", 1, &i), "b", "an integer", "int of true");
	b = 7;
	WRONG(ca_json_bool(o, "i", 0, &b), "i", "a boolean", "bool of int");
	ok(b == 0, "bool result cleared");
	v = (struct json_object *)(void *)junk;
	WRONG(ca_json_object(o, "a", 0, &v), "a", "an object",
	    "object of array");
	ok(v == NULL, "object result cleared");
	WRONG(ca_json_array(o, "o", 0, &v), "o", "an array", "array of object");
#undef WRONG

	ca_err_clear();
	rc = ca_json_string(o, "zz", 1, &s);
	is_int(rc, CA_ERR_INVAL, "absent and required: CA_ERR_INVAL");
	is_str(ca_errmsg(), "missing \"zz\"", "message names the missing key");
	rc = ca_json_int64(o, "zz", 1, &i);
	is_int(rc, CA_ERR_INVAL, "absent required int: CA_ERR_INVAL");
	rc = ca_json_array(o, "n", 1, &v);
	is_int(rc, CA_ERR_INVAL, "null and required: CA_ERR_INVAL");

	ca_err(CA_ERR_IO, "sentinel");
	s = "x";
	rc = ca_json_string(o, "zz", 0, &s);
	ok(rc == CA_ERR_NOTFOUND && s == NULL,
	    "absent and optional: CA_ERR_NOTFOUND");
	rc = ca_json_bool(o, "zz", 0, &b);
	is_int(rc, CA_ERR_NOTFOUND, "absent optional bool");
	rc = ca_json_object(o, "zz", 0, &v);
	is_int(rc, CA_ERR_NOTFOUND, "absent optional object");
	rc = ca_json_int64(o, "n", 0, &i);
	is_int(rc, CA_ERR_NOTFOUND, "null and optional: CA_ERR_NOTFOUND");
	is_str(ca_errmsg(), "sentinel", "CA_ERR_NOTFOUND records no message");

	rc = ca_json_string(arr, "s", 0, &s);
	is_int(rc, CA_ERR_NOTFOUND, "member of an array: absent");
	rc = ca_json_string(NULL, "s", 1, &s);
	is_int(rc, CA_ERR_INVAL, "member of NULL, required: CA_ERR_INVAL");
	json_object_put(o);
}

static void
test_dump(void)
{
	static const char doc[] = "{ \"url\" : "
	    "\"https://ca.example/1.0/sign\", \"n\": -12, "
	    "\"arr\": [1, \"x\", true, null, {}], \"o\": {\"k\": null},"
	    " \"esc\": \"q\\\"b\\\\n\\n\\u0001\", \"u\": \"caf\\u00e9\" }";
	static const char want[] = "{\"url\":\"https://ca.example/1.0/sign\","
	    "\"n\":-12,\"arr\":[1,\"x\",true,null,{}],\"o\":{\"k\":null},"
	    "\"esc\":\"q\\\"b\\\\n\\n\\u0001\",\"u\":\"caf\xc3\xa9\"}";
	struct json_object *o, *o2;
	char *s, *s2;
	int rc;

	rc = ca_json_parse(doc, strlen(doc), "doc", &o);
	is_int(rc, 0, "dump document parses");
	if (rc != 0)
		return;
	s = ca_json_dump(o);
	is_str(s, want, "compact dump, slashes not escaped");
	ok(s != NULL && strstr(s, "\\/") == NULL, "no escaped slash");
	rc = ca_json_parse(s, strlen(s), "dump", &o2);
	s2 = rc == 0 ? ca_json_dump(o2) : NULL;
	ok(rc == 0 && s2 != NULL && strcmp(s, s2) == 0,
	    "the dump parses back to the same dump");
	free(s2);
	json_object_put(o2);
	free(s);
	json_object_put(o);

	rc = ca_json_parse("{\"a\":1,\"b\":[1,2],\"c\":\"/\"}", 25, "doc", &o);
	s = rc == 0 ? ca_json_dump_pretty(o) : NULL;
	is_str(s, "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2\n  ],\n"
	    "  \"c\": \"/\"\n}\n", "pretty dump: two spaces, trailing newline");
	free(s);
	json_object_put(o);

	o = json_object_new_int64(INT64_C(9007199254740993));
	s = ca_json_dump(o);
	is_str(s, "9007199254740993", "int64 dumped exactly");
	free(s);
	json_object_put(o);
}

int
main(void)
{
	test_accept();
	test_refuse();
	test_getters();
	test_dump();
	return tap_done();
}
