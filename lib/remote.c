/*
 * remote.c - the authority of a ca-serve reached over HTTPS (ops
 * "remote"), for the tools' --ca-url: sign, renew and rekey (mutual TLS
 * or an x5c token), revoke (a token or mutual TLS), the provisioners and
 * a token's audience (ca-token). Everything is checked by the server; nothing of
 * the CA is held here but its root.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authority-impl.h"
#include "client.h"
#include "x509.h"

struct ca_remote {
	struct ca_client	*c;
	gnutls_datum_t		 root_pem;
	char			*root_fp;
	struct ca_remote_provisioner *prov;	/* the last one asked for */
};

/*
 * After a request that returned rc: fill res's serial (canonical hex),
 * subject (the CN) and validity from res->crt_pem, as the local authority
 * does from what it issued; on failure res is emptied.
 */
static int
result_from_cert(int rc, struct ca_sign_result *res)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char sn[CA_SERIAL_MAX + 2];
	char cn[256];
	size_t snlen = sizeof(sn), cnlen = sizeof(cn);
	int ret;

	if (rc != 0)
		goto out;
	if ((rc = ca_x509_import(res->crt_pem, strlen(res->crt_pem),
	    &crt)) != 0) {
		ca_err_context("the CA's answer");
		goto out;
	}
	if (gnutls_x509_crt_get_serial(crt, sn, &snlen) < 0) {
		rc = ca_err(CA_ERR_INVAL, "the CA's answer: no serial");
		goto out;
	}
	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, cn, &cnlen);
	if (ret < 0)
		cn[0] = '\0';
	if ((res->serial = ca_hex(sn, snlen)) == NULL ||
	    (res->subject = strdup(cn)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	res->not_before = gnutls_x509_crt_get_activation_time(crt);
	res->not_after = gnutls_x509_crt_get_expiration_time(crt);
	rc = 0;
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (rc != 0)
		ca_sign_result_free(res);
	return rc;
}

static int
remote_sign(struct ca_authority *ah, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	struct ca_remote *r = ah->impl;
	int rc;

	rc = ca_client_sign(r->c, req, &res->crt_pem, &res->chain_pem);
	return result_from_cert(rc, res);
}

static int
remote_renew(struct ca_authority *ah, const struct ca_renew_req *req,
    struct ca_sign_result *res)
{
	struct ca_remote *r = ah->impl;
	int rc;

	if (req->token != NULL)
		rc = ca_client_renew_token(r->c, req->token, req->csr,
		    req->csr_len, &res->crt_pem, &res->chain_pem);
	else if (req->cc != NULL)
		rc = ca_client_renew(r->c, req->cc, req->mtls, req->csr,
		    req->csr_len, &res->crt_pem, &res->chain_pem);
	else
		return ca_err(CA_ERR_CONFIG, "renewal through a CA's server "
		    "needs the certificate and its key");
	return result_from_cert(rc, res);
}

static int
remote_revoke(struct ca_authority *ah, const struct ca_revoke_req *req,
    char **serial)
{
	struct ca_remote *r = ah->impl;
	int rc;

	if (req->token == NULL && req->cert_path == NULL)
		return ca_err(CA_ERR_CONFIG, "revocation through a CA's server "
		    "needs a revoke token or the certificate and its key");
	if ((rc = ca_serial_canon(req->serial, serial)) != 0)
		return rc;
	if ((req->token == NULL && (rc = ca_client_set_identity(r->c,
	    req->cert_path, req->key_path)) != 0) ||
	    (rc = ca_client_revoke(r->c, req)) != 0) {
		free(*serial);
		*serial = NULL;
	}
	return rc;
}

static int
remote_provisioner(struct ca_authority *ah, const char *name, int want_key,
    const struct ca_provisioner **out)
{
	struct ca_remote *r = ah->impl;
	struct ca_remote_provisioner *p;
	int rc;

	if ((rc = ca_client_provisioner(r->c, name, want_key, &p)) != 0)
		return rc;
	ca_client_provisioner_free(r->prov);
	r->prov = p;
	*out = &p->prov;
	return 0;
}

static int
remote_provisioners(struct ca_authority *ah, const char *cursor,
    size_t limit, char **json)
{
	struct ca_remote *r = ah->impl;

	return ca_client_provisioners(r->c, cursor, limit, json);
}

static int
remote_encrypted_key(struct ca_authority *ah, const char *kid, char **jwe)
{
	struct ca_remote *r = ah->impl;

	return ca_client_encrypted_key(r->c, kid, jwe);
}

/* A token for this CA names the URL it was opened on. */
static int
remote_audience(struct ca_authority *ah, const char *path, char **out)
{
	struct ca_remote *r = ah->impl;

	if ((*out = ca_client_url(r->c, path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static void
remote_close(struct ca_authority *ah)
{
	struct ca_remote *r = ah->impl;

	if (r == NULL)
		return;
	ca_client_provisioner_free(r->prov);
	ca_client_close(r->c);
	gnutls_free(r->root_pem.data);
	free(r->root_fp);
	free(r);
}

static const struct ca_authority_ops remote_ops = {
	.kind = "remote",
	.sign = remote_sign,
	.renew = remote_renew,
	.revoke = remote_revoke,
	.provisioners = remote_provisioners,
	.encrypted_key = remote_encrypted_key,
	.close = remote_close,
	.provisioner = remote_provisioner,
	.audience = remote_audience,
};

int
ca_authority_open_remote(const char *url, const char *root_path,
    struct ca_authority **out)
{
	struct ca_authority *h;
	struct ca_remote *r;
	gnutls_x509_crt_t root = NULL;
	int rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_client_open(url, root_path, &r->c)) != 0 ||
	    (rc = ca_x509_load(root_path, &root)) != 0 ||
	    (rc = ca_x509_export(root, GNUTLS_X509_FMT_PEM,
	    &r->root_pem)) != 0)
		goto fail;
	if ((r->root_fp = strdup(ca_client_root_fp(r->c))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_authority_wrap(&remote_ops, r, &h)) != 0)
		goto fail;
	gnutls_x509_crt_deinit(root);
	h->root_pem = r->root_pem;
	h->root_fp = r->root_fp;
	*out = h;
	return 0;
fail:
	if (root != NULL)
		gnutls_x509_crt_deinit(root);
	ca_client_close(r->c);
	gnutls_free(r->root_pem.data);
	free(r->root_fp);
	free(r);
	return rc;
}
