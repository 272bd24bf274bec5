/*
 * authz-jwk.c - the JWK verifier: a one-time token from a JWK
 * provisioner, as `step ca token` mints it (lib/token.c parses and
 * checks it; this file turns it into a struct ca_authz).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "token.h"
#include "x509.h"

int
ca_authz_jwk(const struct ca_authz_ctx *x, const struct ca_jws *jws,
    struct json_object *claims, const char *tok, size_t len,
    enum ca_authz_op op, time_t now, struct ca_authz *out)
{
	const struct ca_provisioner *prov;
	struct ca_token *t = NULL;
	int rc;

	(void)jws;
	(void)claims;
	/* lib/token.c's strict reading (claim types, cnf, sans), unchanged. */
	if ((rc = ca_token_parse(tok, len, &t)) != 0) {
		ca_err_context("invalid token");
		return rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
	}
	if ((rc = ca_token_verify(t, x->cfg, op == CA_AUTHZ_REVOKE ?
	    "/1.0/revoke" : "/1.0/sign", x->root_fp, now, &prov)) != 0)
		goto out;
	/* Found by iss and kid; that it is a JWK provisioner is the
	 * dispatcher's check (result_ok in lib/authz.c), for every type. */
	out->prov = prov;
	out->step_type = CA_STEP_TYPE_JWK;
	out->cred_id = prov->kid;
	out->ott_exp = t->exp;
	if (op == CA_AUTHZ_REVOKE) {
		if ((rc = ca_authz_dup(t->sub, &out->revoke_serial)) != 0 ||
		    (rc = ca_authz_dup(prov->kid, &out->ott_scope)) != 0 ||
		    (rc = ca_authz_dup(t->jti, &out->ott_id)) != 0)
			goto out;
		goto out;
	}
	if ((rc = ca_authz_token_names(out, t)) != 0 ||
	    (rc = ca_authz_dup(t->sub, &out->identity)) != 0 ||
	    (rc = ca_authz_dup(prov->kid, &out->ott_scope)) != 0 ||
	    (rc = ca_authz_dup(t->jti, &out->ott_id)) != 0)
		goto out;
out:
	ca_token_free(t);
	return rc;
}
