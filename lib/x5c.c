/*
 * x5c.c - the X5C provisioner (DESIGN13 2.3). A stub until its owner
 * (helper B) lands it: the verifier refuses every token and the
 * loader every provisioner, and lib/conf-fields.c does not serve X5C yet.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"

int
ca_authz_x5c(const struct ca_authz_ctx *x, const struct ca_jws *jws,
    struct json_object *claims, const char *tok, size_t len,
    enum ca_authz_op op, time_t now, struct ca_authz *out)
{
	(void)x; (void)jws; (void)claims; (void)tok; (void)len; (void)op;
	(void)now; (void)out;
	return ca_err(CA_ERR_AUTH, "no X5C provisioner accepts this token: "
	    "X5C tokens are not implemented");
}

int
ca_x5c_conf_load(struct json_object *o, struct ca_provisioner *p)
{
	(void)o;
	return ca_err(CA_ERR_CONFIG, "provisioner \"%s\": type X5C is not yet "
	    "supported", p->name);
}
