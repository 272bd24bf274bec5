/*
 * acme-order.c - orders, authorizations, challenges, finalize,
 * certificates and revocation of the ACME server: a placeholder that
 * answers every request with a problem until they are built.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include "ca.h"
#include "acme-internal.h"

#define NOT_BUILT(ctx)	acme_problem((ctx), 500, "serverInternal", NULL, \
			    "not built yet")

int
acme_new_order(struct acme_ctx *ctx)
{
	return NOT_BUILT(ctx);
}

int
acme_order(struct acme_ctx *ctx, const char *id)
{
	(void)id;
	return NOT_BUILT(ctx);
}

int
acme_finalize(struct acme_ctx *ctx, const char *id)
{
	(void)id;
	return NOT_BUILT(ctx);
}

int
acme_account_orders(struct acme_ctx *ctx, const char *acct_id)
{
	(void)acct_id;
	return NOT_BUILT(ctx);
}

int
acme_authz(struct acme_ctx *ctx, const char *id)
{
	(void)id;
	return NOT_BUILT(ctx);
}

int
acme_challenge(struct acme_ctx *ctx, const char *authz_id,
    const char *chall_id)
{
	(void)authz_id;
	(void)chall_id;
	return NOT_BUILT(ctx);
}

int
acme_certificate(struct acme_ctx *ctx, const char *id)
{
	(void)id;
	return NOT_BUILT(ctx);
}

int
acme_revoke_cert(struct acme_ctx *ctx)
{
	return NOT_BUILT(ctx);
}

int
acme_validated(struct ca_local *a, const struct ca_acme_job *job, int ok,
    const char *problem_type, const char *detail, time_t now)
{
	(void)a;
	(void)job;
	(void)ok;
	(void)problem_type;
	(void)detail;
	(void)now;
	return ca_err(CA_ERR_CONFIG, "ACME validation: not built yet");
}
