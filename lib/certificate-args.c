/*
 * certificate-args.c - token, key, CSR and certificate in one request.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <string.h>

#include "ca.h"
#include "authority.h"
#include "certificate-args.h"
#include "leafout.h"

int
ca_certificate_args_check(const struct ca_certificate_args *a)
{
	if (a->tok.revoke)
		return ca_err(CA_ERR_INVAL, "no revocation here");
	if (strcmp(a->crt, "-") == 0 || strcmp(a->sign.key_out, "-") == 0)
		return ca_err(CA_ERR_INVAL, "CRT and KEY must be file names");
	if (strcmp(a->crt, a->sign.key_out) == 0)
		return ca_err(CA_ERR_INVAL, "CRT and KEY must be two files");
	if (ca_token_args_check(&a->tok) != 0)
		return CA_ERR_INVAL;
	return ca_token_args_names(&a->tok);
}

int
ca_certificate_args_run(struct ca_certificate_args *a,
    struct ca_authority *ca, struct ca_sign_result *res)
{
	struct ca_sign_args *s = &a->sign;
	struct ca_leafout lo;
	int rc, flags = a->force ? 0 : CA_PUBLISH_NEW;

	memset(res, 0, sizeof(*res));
	/* 1. Where the files go, before a token is spent. */
	if ((rc = ca_leafout_prepare(&lo, NULL, a->crt, s->key_out,
	    flags)) != 0 || (rc = ca_file_publish_check(a->crt, flags)) != 0)
		goto out;
	/* 2. The token, as ca-token makes it. */
	if ((rc = ca_token_args_mint(&a->tok, ca, &s->token)) != 0)
		goto out;
	s->token_len = strlen(s->token);
	/* 3. The key and its CSR, as ca-sign --key-out makes them. */
	memset(&s->req, 0, sizeof(s->req));
	s->req.token = s->token;
	s->req.token_len = s->token_len;
	s->req.not_before = s->not_before;
	s->req.not_after = s->not_after;
	if ((rc = ca_sign_args_keygen(s, ca)) != 0)
		goto out;
	/* 4. The certificate, then the key and the chain together. */
	if ((rc = ca_authority_sign(ca, &s->req, res)) != 0)
		goto out;
	ca_debug("issued serial %s for \"%s\"", res->serial, res->subject);
	rc = ca_leafout_publish(&lo, res, s->key, s->key_len);
out:
	ca_leafout_free(&lo);
	ca_sign_args_free(s);
	return rc;
}
