/*
 * inspect.c - fuzz ca-inspect's reader (lib/inspect.c), which takes
 * whatever file it is given: PEM bundles, DER certificates and CSRs,
 * tokens. Both views of every input, and the renewal rule. What it
 * prints must keep its promises: the JSON view is JSON the strict reader
 * accepts, and the readable view has no control character but the line
 * ends (every value escaped).
 * fuzz-dict: asn1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "inspect.h"
#include "json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL;
	char *buf, *out = NULL;
	const time_t now = 1800000000;	/* 2027-01-15: the seeds are valid */
	size_t i;

	if (size > CA_INSPECT_MAX_FILE)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (ca_inspect(buf, size, "fuzz", now, 0, &out) == 0) {
		for (i = 0; out[i] != '\0'; i++)
			if (((unsigned char)out[i] < 0x20 && out[i] != '\n') ||
			    out[i] == 0x7f)
				abort();	/* an unescaped control character */
	}
	free(out);
	out = NULL;
	ca_err_clear();
	if (ca_inspect(buf, size, "fuzz", now, 1, &out) == 0) {
		if (ca_json_parse(out, strlen(out), "view", &o) != 0)
			abort();	/* the JSON view is not JSON */
		json_object_put(o);
	}
	free(out);
	ca_err_clear();
	(void)ca_inspect_due(buf, size, "fuzz", -1, now);
	ca_err_clear();
	free(buf);
	return 0;
}
