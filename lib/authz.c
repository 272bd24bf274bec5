/*
 * authz.c - the token dispatcher: a credential's shape picks exactly one
 * verifier, which looks only at provisioners of its own type (DESIGN13
 * 2.1; the structural fix for step-ca's GHSA-h8cp).
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
#include "jose.h"
#include "json.h"
#include "token.h"
#include "x509.h"

unsigned long ca_authz_calls[CA_CRED_N];

/* The table: one verifier per shape; ACME and SCEP have none. */
static const struct {
	const char	*name;
	ca_authz_fn	 fn;
} verifiers[CA_CRED_N] = {
	[CA_CRED_JWK] = { "JWK", ca_authz_jwk },
	[CA_CRED_X5C] = { "X5C", ca_authz_x5c },
	[CA_CRED_OIDC] = { "OIDC", ca_authz_oidc },
	[CA_CRED_K8SSA] = { "K8sSA", ca_authz_k8ssa },
};

const char *
ca_authz_cred_name(enum ca_cred c)
{
	return (unsigned)c < CA_CRED_N ? verifiers[c].name : "?";
}

/* Whether some OIDC provisioner's clientID is in aud (a string or array). */
static int
oidc_audience(const struct ca_config *cfg, struct json_object *aud)
{
	size_t i, j, n;

	for (i = 0; i < cfg->n_provisioners; i++) {
		const char *id = cfg->provisioners[i].client_id;

		if (cfg->provisioners[i].kind != CA_PROV_OIDC || id == NULL)
			continue;
		if (json_object_is_type(aud, json_type_string) &&
		    strcmp(json_object_get_string(aud), id) == 0)
			return 1;
		if (!json_object_is_type(aud, json_type_array))
			continue;
		n = json_object_array_length(aud);
		for (j = 0; j < n && j < 16; j++) {
			struct json_object *a = json_object_array_get_idx(aud, j);
			if (json_object_is_type(a, json_type_string) &&
			    strcmp(json_object_get_string(a), id) == 0)
				return 1;
		}
	}
	return 0;
}

int
ca_authz_route(const struct ca_config *cfg, struct json_object *header,
    struct json_object *claims, enum ca_cred *cred)
{
	struct json_object *v;
	const char *iss = NULL;

	*cred = CA_CRED_JWK;
	if (json_object_object_get_ex(header, "x5cInsecure", NULL))
		return ca_err(CA_ERR_AUTH, "a renewal token (x5cInsecure) is "
		    "only accepted at /1.0/renew and /1.0/rekey");
	if (json_object_object_get_ex(header, "x5c", NULL)) {
		*cred = CA_CRED_X5C;
		return 0;
	}
	if (json_object_object_get_ex(claims, "iss", &v) &&
	    json_object_is_type(v, json_type_string))
		iss = json_object_get_string(v);
	if ((iss != NULL && strcmp(iss, "kubernetes/serviceaccount") == 0) ||
	    (json_object_object_get_ex(claims, "kubernetes.io", &v) &&
	    json_object_is_type(v, json_type_object))) {
		*cred = CA_CRED_K8SSA;
		return 0;
	}
	if (iss != NULL && (strncmp(iss, "https://", 8) == 0 ||
	    strncmp(iss, "http://", 7) == 0) &&
	    json_object_object_get_ex(claims, "aud", &v) &&
	    oidc_audience(cfg, v)) {
		*cred = CA_CRED_OIDC;
		return 0;
	}
	return 0;
}

int
ca_authz_dup(const char *s, char **out)
{
	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_authz_token_names(struct ca_authz *z, const struct ca_token *t)
{
	size_t i;
	int rc;

	if ((rc = ca_x509_cn_check(t->sub)) != 0) {
		ca_err_context("token");
		return rc;
	}
	if (ca_names_classify((const char *const *)t->sans, t->n_sans,
	    &z->names) != 0) {
		ca_err_context("token sans");
		return CA_ERR_FORBIDDEN;
	}
	z->csr_must_match = 1;
	if ((rc = ca_authz_dup(t->sub, &z->cn)) != 0 ||
	    (rc = ca_authz_dup(t->cnf_x5rt, &z->cnf_x5rt)) != 0 ||
	    (rc = ca_authz_dup(t->cnf_kid, &z->cnf_kid)) != 0)
		return rc;
	if ((z->sans = calloc(t->n_sans + 1, sizeof(char *))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < t->n_sans; i++) {
		if ((rc = ca_authz_dup(t->sans[i], &z->sans[i])) != 0)
			return rc;
		z->n_sans++;
	}
	return 0;
}

void
ca_authz_free(struct ca_authz *z)
{
	size_t i;

	if (z == NULL)
		return;
	free(z->cn);
	ca_names_free(&z->names);
	for (i = 0; i < z->n_sans; i++)
		free(z->sans[i]);
	free(z->sans);
	free(z->ott_scope);
	free(z->ott_id);
	free(z->identity);
	free(z->check_unrevoked);
	free(z->revoke_serial);
	free(z->cnf_x5rt);
	free(z->cnf_kid);
	json_object_put(z->tmpl);
	free(z->payload);
	memset(z, 0, sizeof(*z));
}

int
ca_authz_token(const struct ca_authz_ctx *x, enum ca_authz_op op,
    const char *tok, size_t len, time_t now, struct ca_authz *out)
{
	struct ca_jws *jws = NULL;
	struct json_object *claims = NULL;
	enum ca_cred cred;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Token files often end with a newline. */
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
	    tok[len - 1] == ' '))
		len--;
	if (len == 0)
		rc = ca_err(CA_ERR_INVAL, "token is empty");
	else if (len > CA_MAX_TOKEN)
		rc = ca_err(CA_ERR_TOOBIG, "token larger than %d bytes",
		    CA_MAX_TOKEN);
	else if ((rc = ca_jws_parse(tok, len, &jws)) == 0 &&
	    (rc = ca_json_parse((const char *)jws->payload, jws->payload_len,
	    "token claims", &claims)) == 0 &&
	    !json_object_is_type(claims, json_type_object))
		rc = ca_err(CA_ERR_INVAL, "token claims are not a JSON object");
	if (rc != 0) {
		ca_err_context("invalid token");
		rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
		goto out;
	}
	if ((rc = ca_authz_route(x->cfg, jws->header, claims, &cred)) != 0)
		goto out;
	__atomic_fetch_add(&ca_authz_calls[cred], 1, __ATOMIC_RELAXED);
	rc = verifiers[cred].fn(x, jws, claims, tok, len, op, now, out);
	if (rc == 0) {
		out->cred = cred;
		if (out->prov == NULL)
			rc = ca_err(CA_ERR_AUTH, "%s verifier named no "
			    "provisioner", verifiers[cred].name);
		else if ((out->payload = malloc(jws->payload_len + 1)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		else {
			memcpy(out->payload, jws->payload, jws->payload_len);
			out->payload[jws->payload_len] = '\0';
			out->payload_len = jws->payload_len;
		}
	}
out:
	json_object_put(claims);
	ca_jws_free(jws);
	if (rc != 0)
		ca_authz_free(out);
	return rc;
}
