/*
 * scep.c - the SCEP provisioner (RFC 8894; DESIGN13 2.3, 4). A stub
 * until its owner (helper D) lands it: the loader refuses every SCEP
 * provisioner, and lib/conf-fields.c does not serve SCEP yet. SCEP has
 * no token verifier (lib/authz.c): its messages are its credential.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"

int
ca_scep_conf_load(struct json_object *o, struct ca_provisioner *p)
{
	(void)o;
	return ca_err(CA_ERR_CONFIG, "provisioner \"%s\": type SCEP is not yet "
	    "supported", p->name);
}
