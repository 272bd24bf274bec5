/*
 * json.c - fuzz the strict JSON reader (lib/json.c): ca_json_parse on
 * the raw bytes, then the typed accessors and both serialisers on what
 * it accepts, and a second parse of the compact dump, which must succeed
 * (what we write we must read back).
 * fuzz-dict: json
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void
accessors(struct json_object *o)
{
	static const char *keys[] = { "", "a", "type", "sub", "sans", "iat",
	    "exp", "nbf", "x", "claims", "provisioners" };
	struct json_object *v;
	const char *s;
	int64_t i;
	size_t k;
	int b;

	if (!json_object_is_type(o, json_type_object))
		return;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		(void)ca_json_string(o, keys[k], k & 1, &s);
		(void)ca_json_int64(o, keys[k], k & 1, &i);
		(void)ca_json_bool(o, keys[k], k & 1, &b);
		(void)ca_json_object(o, keys[k], k & 1, &v);
		(void)ca_json_array(o, keys[k], k & 1, &v);
	}
	json_object_object_foreach(o, key, val) {
		(void)ca_json_string(o, key, 1, &s);
		(void)ca_json_int64(o, key, 1, &i);
		if (ca_json_object(o, key, 1, &v) == 0)
			accessors(v);
		(void)val;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL, *again = NULL;
	char *dump = NULL, *pretty = NULL;

	if (ca_json_parse((const char *)data, size, "fuzz", &o) != 0)
		goto out;
	accessors(o);
	if ((dump = ca_json_dump(o)) == NULL ||
	    (pretty = ca_json_dump_pretty(o)) == NULL)
		goto out;
	/* Our own output must parse again, to the same compact text. */
	if (ca_json_parse(dump, strlen(dump), "dump", &again) != 0)
		abort();
	{
		char *dump2 = ca_json_dump(again);

		if (dump2 == NULL || strcmp(dump, dump2) != 0)
			abort();
		free(dump2);
	}
out:
	json_object_put(again);
	json_object_put(o);
	free(dump);
	free(pretty);
	ca_err_clear();
	return 0;
}
