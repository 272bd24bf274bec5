/*
 * authority-api.c - the authority interface: each operation handed to the
 * implementation behind the handle, or refused when it has none.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority-impl.h"
#include "db.h"

int
ca_authority_wrap(const struct ca_authority_ops *ops, void *impl,
    struct ca_authority **out)
{
	struct ca_authority *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	a->ops = ops;
	a->impl = impl;
	*out = a;
	return 0;
}

void
ca_authority_close(struct ca_authority *a)
{
	if (a == NULL)
		return;
	if (a->ops->close != NULL)
		a->ops->close(a);
	free(a);
}

static int
lacks(const struct ca_authority *a, const char *what)
{
	if (strcmp(a->ops->kind, "remote") == 0)
		return ca_err(CA_ERR_CONFIG,
		    "%s needs a state directory (-d), not --ca-url", what);
	return ca_err(CA_ERR_CONFIG, "%s: not available from a %s authority",
	    what, a->ops->kind);
}

const char *
ca_authority_kind(const struct ca_authority *a)
{
	return a->ops->kind;
}

const gnutls_datum_t *
ca_authority_root_pem(const struct ca_authority *a)
{
	return &a->root_pem;
}

const gnutls_datum_t *
ca_authority_chain_pem(const struct ca_authority *a)
{
	return &a->chain_pem;
}

const char *
ca_authority_root_fp(const struct ca_authority *a)
{
	return a->root_fp;
}

const char *
ca_authority_dir(const struct ca_authority *a)
{
	return a->dir;
}

const struct ca_config *
ca_authority_config(const struct ca_authority *a)
{
	return a->cfg;
}

int
ca_authority_sign(struct ca_authority *a, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	memset(res, 0, sizeof(*res));
	if (a->ops->sign == NULL)
		return lacks(a, "signing");
	/* Keys are made by the caller (ca_sign_args_keygen), whatever the CA. */
	if (req->csr == NULL)
		return ca_err(CA_ERR_INVAL, "a CSR is required");
	return a->ops->sign(a, req, res);
}

int
ca_authority_renew(struct ca_authority *a, const struct ca_renew_req *req,
    struct ca_sign_result *res)
{
	memset(res, 0, sizeof(*res));
	if (a->ops->renew == NULL)
		return lacks(a, "renewal");
	return a->ops->renew(a, req, res);
}

int
ca_authority_revoke(struct ca_authority *a, const struct ca_revoke_req *req,
    char **serial)
{
	*serial = NULL;
	if (a->ops->revoke == NULL)
		return lacks(a, "revocation");
	return a->ops->revoke(a, req, serial);
}

int
ca_authority_provisioners(struct ca_authority *a, const char *cursor,
    size_t limit, char **json)
{
	*json = NULL;
	if (a->ops->provisioners == NULL)
		return lacks(a, "the provisioner list");
	return a->ops->provisioners(a, cursor, limit, json);
}

int
ca_authority_encrypted_key(struct ca_authority *a, const char *kid,
    char **jwe)
{
	*jwe = NULL;
	if (a->ops->encrypted_key == NULL)
		return lacks(a, "a provisioner's encrypted key");
	return a->ops->encrypted_key(a, kid, jwe);
}

int
ca_authority_provisioner(struct ca_authority *a, const char *name,
    int want_key, const struct ca_provisioner **out)
{
	*out = NULL;
	if (a->ops->provisioner == NULL)
		return lacks(a, "a provisioner");
	return a->ops->provisioner(a, name, want_key, out);
}

int
ca_authority_audience(struct ca_authority *a, const char *path, char **out)
{
	*out = NULL;
	if (a->ops->audience == NULL)
		return lacks(a, "a token audience");
	return a->ops->audience(a, path, out);
}

int
ca_authority_server_cert(struct ca_authority *a, char **pem, size_t *len,
    time_t *not_before, time_t *not_after)
{
	*pem = NULL;
	*len = 0;
	if (a->ops->server_cert == NULL)
		return lacks(a, "the server's certificate");
	return a->ops->server_cert(a, pem, len, not_before, not_after);
}

int
ca_authority_crl(struct ca_authority *a, time_t now, int fresh,
    struct ca_db_crl *out)
{
	if (a->ops->crl == NULL)
		return lacks(a, "the CRL");
	return a->ops->crl(a, now, fresh, out);
}

int
ca_authority_ocsp(struct ca_authority *a, const void *der, size_t len,
    time_t now, gnutls_datum_t *resp, time_t *next_update)
{
	resp->data = NULL;
	resp->size = 0;
	*next_update = 0;
	if (a->ops->ocsp == NULL)
		return lacks(a, "OCSP");
	return a->ops->ocsp(a, der, len, now, resp, next_update);
}

void
ca_authority_ocsp_stats(struct ca_authority *a, unsigned long *hits,
    unsigned long *built)
{
	*hits = *built = 0;
	if (a->ops->ocsp_stats != NULL)
		a->ops->ocsp_stats(a, hits, built);
}

void
ca_authority_commit_stats(struct ca_authority *a, unsigned long *issuances,
    unsigned long *commits)
{
	*issuances = *commits = 0;
	if (a->ops->commit_stats != NULL)
		a->ops->commit_stats(a, issuances, commits);
}

int
ca_authority_reload(struct ca_authority *a)
{
	if (a->ops->reload == NULL)
		return 0;
	return a->ops->reload(a);
}

void
ca_authority_set_ports(struct ca_authority *a, const int *ports, size_t n)
{
	if (a->ops->set_ports != NULL)
		a->ops->set_ports(a, ports, n);
}

int
ca_authority_db_list(struct ca_authority *a, struct ca_cert_info **v,
    size_t *n)
{
	*v = NULL;
	*n = 0;
	if (a->ops->db_list == NULL)
		return lacks(a, "listing certificates");
	return a->ops->db_list(a, v, n);
}

int
ca_authority_db_get(struct ca_authority *a, const char *serial,
    struct ca_cert_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	if (a->ops->db_get == NULL)
		return lacks(a, "showing a certificate");
	return a->ops->db_get(a, serial, ci);
}

int
ca_authority_db_check(struct ca_authority *a,
    void (*report)(void *, const char *), void *arg, size_t *problems,
    size_t *certs)
{
	*problems = *certs = 0;
	if (a->ops->db_check == NULL)
		return lacks(a, "checking the database");
	return a->ops->db_check(a, report, arg, problems, certs);
}
void
ca_sign_result_free(struct ca_sign_result *r)
{
	if (r == NULL)
		return;
	free(r->crt_pem);
	free(r->chain_pem);
	free(r->serial);
	free(r->subject);
	free(r->provisioner);
	memset(r, 0, sizeof(*r));
}


/* ACME (lib/acme.h): the protocol needs the CA's own store. */
int
ca_authority_acme(struct ca_authority *a, const struct ca_acme_req *req,
    struct ca_acme_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (a->ops->acme == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	return a->ops->acme(a, req, resp);
}

int
ca_authority_acme_validated(struct ca_authority *a,
    const struct ca_acme_job *job, int ok, const char *problem_type,
    const char *detail, time_t now)
{
	if (a->ops->acme_validated == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	return a->ops->acme_validated(a, job, ok, problem_type, detail, now);
}
