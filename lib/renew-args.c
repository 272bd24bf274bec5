/*
 * renew-args.c - a renewal request from a certificate and key on disk.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "leafout.h"
#include "renew-args.h"

int
ca_renew_args_load(struct ca_renew_args *a)
{
	int64_t left;
	int rc;

	if ((rc = ca_client_cert_load(a->cert, a->key_file, &a->cc)) != 0)
		return rc;
	if ((rc = ca_client_cert_due(a->cc, a->expires_in, a->now,
	    &left)) < 0)
		return rc;
	if (rc == 0 && !a->force) {
		ca_debug("%s: not due, %lld s left", a->cert, (long long)left);
		return 1;
	}
	return 0;
}

int
ca_renew_args_request(struct ca_renew_args *a)
{
	struct ca_renew_req *req = &a->req;
	int rc;

	memset(req, 0, sizeof(*req));
	if (a->rekey && (rc = ca_client_cert_rekey_csr(a->cc, &a->csr,
	    &a->key, &a->key_len)) != 0)
		return rc;
	/*
	 * Offline, KEY was checked to be the certificate's: the key is
	 * proven; online, by mutual TLS, or an x5c token signed with it
	 * (the only way once the certificate is not valid).
	 */
	req->cc = a->cc;
	req->mtls = !a->no_mtls && a->now >= a->cc->not_before &&
	    a->now <= a->cc->not_after;
	req->csr = (const char *)a->csr.data;
	req->csr_len = a->csr.size;
	return 0;
}

int
ca_renew_args_check(const struct ca_renew_args *a,
    const struct ca_sign_result *res)
{
	ca_debug("renewed %s as %s", a->cc->serial, res->serial);
	return ca_client_cert_check_key(a->cc, res->crt_pem, a->key,
	    a->key_len);
}

int
ca_renew_args_run(struct ca_renew_args *a, struct ca_sign_result *res)
{
	struct ca_authority *au = NULL;
	struct ca_leafout lo;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&lo, 0, sizeof(lo));
	/* 1: not due yet. */
	if ((rc = ca_renew_args_load(a)) == 0 &&
	    (rc = ca_leafout_prepare(&lo, a->cert, a->out, a->key_out,
	    0)) == 0 && (rc = ca_renew_args_request(a)) == 0 &&
	    (rc = ca_cli_open_target(a->dir, a->url, a->root, a->pass_file,
	    CA_CLI_KEY, &au)) == 0 &&
	    (rc = ca_authority_renew(au, &a->req, res)) == 0 &&
	    (rc = ca_renew_args_check(a, res)) == 0)
		rc = ca_leafout_publish(&lo, res, a->key, a->key_len);
	ca_authority_close(au);
	ca_leafout_free(&lo);
	ca_renew_args_free(a);	/* the new key wiped */
	return rc;
}

void
ca_renew_args_free(struct ca_renew_args *a)
{
	memset(&a->req, 0, sizeof(a->req));
	ca_client_cert_free(a->cc);
	a->cc = NULL;
	ca_free_secret(a->key, a->key_len);
	a->key = NULL;
	a->key_len = 0;
	gnutls_free(a->csr.data);
	a->csr.data = NULL;
	a->csr.size = 0;
}
