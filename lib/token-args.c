/*
 * token-args.c - a token from ca-token's options, whatever the authority
 * (a state directory's configuration, or a CA's server).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"
#include "authority.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "token.h"
#include "token-args.h"
#include "x509.h"
#include "x5c.h"

int
ca_token_args_san(struct ca_token_args *a, const char *arg)
{
	if (a->n_sans == CA_TOKEN_MAX_SANS)
		return ca_err(CA_ERR_INVAL, "at most %d --san",
		    CA_TOKEN_MAX_SANS);
	a->sans[a->n_sans++] = arg;
	return 0;
}

int
ca_token_args_check(const struct ca_token_args *a)
{
	if (a->lifetime_given &&
	    (a->lifetime <= 0 || a->lifetime > CA_TOKEN_MAX_LIFETIME))
		return ca_err(CA_ERR_INVAL,
		    "--not-after must be more than 0 and at most 1h");
	if (a->x5c_cert != NULL || a->x5c_key != NULL || a->x5c_chain != NULL) {
		if (a->x5c_cert == NULL || a->x5c_key == NULL)
			return ca_err(CA_ERR_INVAL, "--x5c-cert and --x5c-key "
			    "go together (--x5c-chain with them)");
		if (a->pass_file != NULL || a->key_file != NULL)
			return ca_err(CA_ERR_INVAL, "--x5c-key signs the "
			    "token: no --key or --password-file");
	} else if (a->pass_file != NULL && a->key_file != NULL)
		return ca_err(CA_ERR_INVAL,
		    "--password-file and --key exclude each other");
	else if (a->pass_file == NULL && a->key_file == NULL)
		return ca_err(CA_ERR_INVAL,
		    "--password-file or --key is required");
	if (a->revoke && a->n_sans > 0)
		return ca_err(CA_ERR_INVAL, "--revoke takes no --san");
	return 0;
}

int
ca_token_args_names(const struct ca_token_args *a)
{
	struct ca_names names;

	if (a->revoke)
		return 0;
	if (ca_x509_cn_check(a->subject) != 0) {
		ca_err_context("SUBJECT");
		return CA_ERR_INVAL;
	}
	if (ca_names_classify(a->n_sans ? a->sans : &a->subject,
	    a->n_sans ? a->n_sans : 1, &names) != 0)
		return CA_ERR_INVAL;
	ca_names_free(&names);
	return 0;
}

/*
 * The provisioner's private key: --key, or encryptedKey and the password
 * in pass_file.
 */
static int
provisioner_key(const struct ca_provisioner *p, const char *pass_file,
    const char *key_file, struct ca_jwk **key)
{
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	if (pass_file != NULL &&
	    (rc = ca_secret_read(pass_file, &pw, &pwlen)) != 0)
		return rc;
	rc = ca_token_provisioner_key(p, pw, pwlen, key_file, key);
	ca_free_secret(pw, pwlen);
	return rc;
}

/* X5C: --provisioner, else the CA's only X5C provisioner (its list). */
static int
x5c_provisioner(const struct ca_token_args *a, struct ca_authority *ca,
    char **name)
{
	struct json_object *doc = NULL, *list, *e, *v;
	char *json = NULL;
	size_t i, n, found = 0;
	int rc;

	*name = NULL;
	if (a->provisioner != NULL)
		return (*name = strdup(a->provisioner)) == NULL ?
		    ca_err(CA_ERR_NOMEM, "out of memory") : 0;
	if ((rc = ca_authority_provisioners(ca, NULL, 100, &json)) != 0 ||
	    (rc = ca_json_parse(json, strlen(json), "provisioners",
	    &doc)) != 0 ||
	    (rc = ca_json_array(doc, "provisioners", 1, &list)) != 0)
		goto out;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(e, "type", &v) ||
		    strcasecmp(json_object_get_string(v), "X5C") != 0 ||
		    !json_object_object_get_ex(e, "name", &v))
			continue;
		if (found++ == 0 &&
		    (*name = strdup(json_object_get_string(v))) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (found != 1)
		rc = ca_err(CA_ERR_INVAL, "the CA has %zu X5C provisioners: "
		    "name one with --provisioner", found);
out:
	if (rc != 0) {
		free(*name);
		*name = NULL;
	}
	json_object_put(doc);
	free(json);
	return rc;
}

/* An X5C token: the chain of --x5c-cert (and --x5c-chain), --x5c-key's. */
static int
x5c_mint(const struct ca_token_args *a, struct ca_authority *ca, char **tok)
{
	struct ca_x5c_token_opts t;
	struct ca_jwk *key = NULL;
	gnutls_datum_t *chain = NULL;
	size_t n = 0, i, len = 0;
	char *aud = NULL, *name = NULL, *buf = NULL;
	int rc;

	if ((rc = ca_x5c_chain_read(a->x5c_cert, &chain, &n)) != 0 ||
	    (a->x5c_chain != NULL &&
	    (rc = ca_x5c_chain_read(a->x5c_chain, &chain, &n)) != 0))
		goto out;
	if ((rc = ca_key_file_read(a->x5c_key, &buf, &len)) != 0)
		goto out;
	if ((rc = ca_jwk_from_pem(buf, len, &key)) != 0) {
		ca_err_context("%s", a->x5c_key);
		goto out;
	}
	if ((rc = x5c_provisioner(a, ca, &name)) != 0 ||
	    (rc = ca_authority_audience(ca, a->revoke ? "/1.0/revoke" :
	    "/1.0/sign", &aud)) != 0)
		goto out;
	memset(&t, 0, sizeof(t));
	t.prov = name;
	t.aud = aud;
	t.sub = a->subject;
	t.sans = a->n_sans ? a->sans : NULL;
	t.n_sans = a->n_sans;
	t.no_sans = a->revoke;
	t.sha = ca_authority_root_fp(ca);
	t.chain = chain;
	t.n_chain = n;
	t.now = a->now;
	t.not_before = a->not_before;
	t.lifetime = a->lifetime_given ? a->lifetime : 0;
	rc = ca_x5c_token_mint(key, &t, tok);
out:
	for (i = 0; i < n; i++)
		gnutls_free(chain[i].data);
	free(chain);
	ca_jwk_free(key);
	ca_free_secret(buf, len);
	free(name);
	free(aud);
	return rc;
}

int
ca_token_args_mint(const struct ca_token_args *a, struct ca_authority *ca,
    char **tok)
{
	const struct ca_provisioner *prov = NULL;
	struct ca_token_opts t;
	struct ca_jwk *key = NULL;
	char *aud = NULL;
	int rc;

	*tok = NULL;
	if (a->x5c_cert != NULL)
		return x5c_mint(a, ca, tok);
	if ((rc = ca_authority_provisioner(ca, a->provisioner,
	    a->key_file == NULL, &prov)) != 0 ||
	    (rc = provisioner_key(prov, a->pass_file, a->key_file,
	    &key)) != 0 ||
	    (rc = ca_authority_audience(ca, a->revoke ? "/1.0/revoke" :
	    "/1.0/sign", &aud)) != 0)
		goto out;
	memset(&t, 0, sizeof(t));
	t.now = a->now;
	t.not_before = a->not_before;
	t.iss = prov->name;
	t.kid = prov->kid;
	t.sub = a->subject;
	t.aud = aud;
	t.sans = a->n_sans ? a->sans : NULL;
	t.n_sans = a->n_sans;
	t.sha = ca_authority_root_fp(ca);
	t.lifetime = a->lifetime_given ? a->lifetime : 0;
	t.no_sans = a->revoke;
	rc = ca_token_mint(key, &t, tok);
out:
	ca_jwk_free(key);
	free(aud);
	return rc;
}
