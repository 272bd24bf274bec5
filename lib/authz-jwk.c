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

static int
dup_str(const char *s, char **out)
{
	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_authz_jwk(const struct ca_authz_ctx *x, const struct ca_jws *jws,
    struct json_object *claims, const char *tok, size_t len,
    enum ca_authz_op op, time_t now, struct ca_authz *out)
{
	const struct ca_provisioner *prov;
	struct ca_token *t = NULL;
	size_t i;
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
	out->csr_must_match = 1;
	out->ott_exp = t->exp;
	if (op == CA_AUTHZ_REVOKE) {
		if ((rc = dup_str(t->sub, &out->revoke_serial)) != 0 ||
		    (rc = dup_str(prov->kid, &out->ott_scope)) != 0 ||
		    (rc = dup_str(t->jti, &out->ott_id)) != 0)
			goto out;
		goto out;
	}
	if ((rc = ca_x509_cn_check(t->sub)) != 0) {
		ca_err_context("token");
		goto out;
	}
	if ((rc = ca_names_classify((const char *const *)t->sans, t->n_sans,
	    &out->names)) != 0) {
		ca_err_context("token sans");
		rc = CA_ERR_FORBIDDEN;
		goto out;
	}
	if ((rc = dup_str(t->sub, &out->cn)) != 0 ||
	    (rc = dup_str(t->sub, &out->identity)) != 0 ||
	    (rc = dup_str(prov->kid, &out->ott_scope)) != 0 ||
	    (rc = dup_str(t->jti, &out->ott_id)) != 0 ||
	    (rc = dup_str(t->cnf_x5rt, &out->cnf_x5rt)) != 0 ||
	    (rc = dup_str(t->cnf_kid, &out->cnf_kid)) != 0)
		goto out;
	if ((out->sans = calloc(t->n_sans + 1, sizeof(char *))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < t->n_sans; i++) {
		if ((rc = dup_str(t->sans[i], &out->sans[i])) != 0)
			goto out;
		out->n_sans++;
	}
out:
	ca_token_free(t);
	return rc;
}
