/*
 * tmpl.c - STAND-IN for step's template language (see tmpl.h): plain
 * JSON only, until branch h-tmpl's module replaces this file.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "tmpl.h"

struct ca_tmpl {
	char	*src;
	size_t	 len;
};

int
ca_tmpl_parse(const char *src, size_t len, const char *name,
    struct ca_tmpl **out)
{
	struct ca_tmpl *t;
	size_t i, line = 1, col = 1;

	*out = NULL;
	for (i = 0; i < len; i++) {
		if (src[i] == '{' && i + 1 < len && src[i + 1] == '{')
			return ca_err(CA_ERR_INVAL, "%s:%zu:%zu: template "
			    "actions are not supported by this build", name,
			    line, col);
		if (src[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->src = malloc(len + 1)) == NULL) {
		free(t);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	memcpy(t->src, src, len);
	t->src[len] = '\0';
	t->len = len;
	*out = t;
	return 0;
}

void
ca_tmpl_free(struct ca_tmpl *t)
{
	if (t == NULL)
		return;
	free(t->src);
	free(t);
}

int
ca_tmpl_render(const struct ca_tmpl *t, struct json_object *data, char **out,
    size_t *outlen)
{
	(void)data;
	*out = NULL;
	*outlen = 0;
	if ((*out = malloc(t->len + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(*out, t->src, t->len + 1);
	*outlen = t->len;
	return 0;
}

void
ca_tmpl_set_gotype(struct json_object *o, const char *gotype)
{
	(void)o;
	(void)gotype;
}
