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

#include "ca.h"
#include "authority.h"
#include "conf.h"
#include "jose.h"
#include "token.h"
#include "token-args.h"
#include "x509.h"

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
	if (a->pass_file != NULL && a->key_file != NULL)
		return ca_err(CA_ERR_INVAL,
		    "--password-file and --key exclude each other");
	if (a->pass_file == NULL && a->key_file == NULL)
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
