/*
 * tmpl.h - step's certificate template language (Go text/template).
 *
 * STAND-IN of branch h-certtmpl: the real module comes from branch
 * h-tmpl with this same interface and replaces this file and tmpl.c
 * when both are merged. This one takes only templates without actions
 * ("{{"), i.e. plain JSON, and renders them as they are.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_TMPL_H
#define CA_TMPL_H

#include <stddef.h>
#include <json-c/json.h>

struct ca_tmpl;

/*
 * Parse len bytes of src, named name in messages. CA_ERR_INVAL
 * "NAME:LINE:COL: what". *out: free with ca_tmpl_free().
 */
int	 ca_tmpl_parse(const char *src, size_t len, const char *name,
	    struct ca_tmpl **out);
void	 ca_tmpl_free(struct ca_tmpl *t);
/*
 * Render t with data (borrowed); *out (NUL-terminated, *outlen bytes) is
 * the caller's (free). A template's fail "msg": CA_ERR_FORBIDDEN msg.
 */
int	 ca_tmpl_render(const struct ca_tmpl *t, struct json_object *data,
	    char **out, size_t *outlen);
/* Mark o with the Go type typeIs sees ("*rsa.PublicKey", ...). */
void	 ca_tmpl_set_gotype(struct json_object *o, const char *gotype);

#endif /* CA_TMPL_H */
