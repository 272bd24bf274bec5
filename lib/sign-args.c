/*
 * sign-args.c - a signing request from ca-sign's options.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "client.h"
#include "conf.h"
#include "sign-args.h"

int
ca_sign_args_check(const struct ca_sign_args *a)
{
	if (a->token_file == NULL)
		return ca_err(CA_ERR_INVAL, "--token-file is required");
	if ((a->csr_file == NULL) == (a->key_out == NULL))
		return ca_err(CA_ERR_INVAL,
		    "give exactly one of --csr and --key-out");
	if (a->csr_file != NULL && strcmp(a->token_file, "-") == 0 &&
	    strcmp(a->csr_file, "-") == 0)
		return ca_err(CA_ERR_INVAL,
		    "the token and the CSR cannot both be standard input");
	if (a->key_out != NULL && strcmp(a->key_out, "-") == 0)
		return ca_err(CA_ERR_INVAL, "--key-out needs a file name");
	return 0;
}

int
ca_sign_args_read(struct ca_sign_args *a)
{
	int rc;

	memset(&a->req, 0, sizeof(a->req));
	a->req.not_before = a->not_before;
	a->req.not_after = a->not_after;
	if ((rc = ca_file_read(a->token_file, CA_MAX_TOKEN, &a->token,
	    &a->token_len)) != 0 || (a->csr_file != NULL &&
	    (rc = ca_file_read(a->csr_file, CA_MAX_CSR, &a->csr,
	    &a->csr_len)) != 0))
		return rc;
	a->req.token = a->token;
	a->req.token_len = a->token_len;
	a->req.csr = a->csr;
	a->req.csr_len = a->csr_len;
	return 0;
}

int
ca_sign_args_keygen(struct ca_sign_args *a, const struct ca_authority *ca)
{
	const struct ca_config *cfg = ca_authority_config(ca);
	enum ca_key_type t = CA_KEY_EC_P256;
	int rc;

	if (a->key_out == NULL)
		return 0;
	if (a->key_type_given)
		t = a->key_type;
	else if (cfg != NULL)
		t = cfg->key_type;
	if ((rc = ca_client_keygen(t, a->token, a->token_len, &a->csr_made,
	    &a->key, &a->key_len)) != 0)
		return rc;
	a->req.csr = (const char *)a->csr_made.data;
	a->req.csr_len = a->csr_made.size;
	return 0;
}

void
ca_sign_args_free(struct ca_sign_args *a)
{
	memset(&a->req, 0, sizeof(a->req));
	ca_free_secret(a->token, a->token_len);
	ca_free_secret(a->key, a->key_len);
	free(a->csr);
	gnutls_free(a->csr_made.data);
	a->token = a->key = a->csr = NULL;
	a->token_len = a->key_len = a->csr_len = 0;
	a->csr_made.data = NULL;
	a->csr_made.size = 0;
}
