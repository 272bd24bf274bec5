/*
 * ra.c - a registration authority's upstream: the CA that holds the keys,
 * reached over HTTPS trusting only its root (pinned by fingerprint), with
 * a token of the RA's upstream provisioner for each request. Connections
 * are kept alive in a small pool, one request per connection at a time.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authority-local.h"
#include "client.h"
#include "conf.h"
#include "jose.h"
#include "ra.h"
#include "token.h"
#include "x509.h"

#define POOL_MAX	32

struct ca_upstream {
	char		*url;
	char		*root_path;
	char		*prov_name;
	char		*kid;
	struct ca_jwk	*key;		/* the upstream provisioner's private key */
	long		 timeout_ms;
	pthread_mutex_t	 lock;
	struct ca_client *idle[POOL_MAX];
	size_t		 n_idle;
};

void
ca_upstream_free(struct ca_upstream *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n_idle; i++)
		ca_client_close(u->idle[i]);
	ca_jwk_free(u->key);
	free(u->url);
	free(u->root_path);
	free(u->prov_name);
	free(u->kid);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static int
up_get(struct ca_upstream *u, struct ca_client **out)
{
	int rc;

	*out = NULL;
	pthread_mutex_lock(&u->lock);
	if (u->n_idle > 0)
		*out = u->idle[--u->n_idle];
	pthread_mutex_unlock(&u->lock);
	if (*out != NULL)
		return 0;
	if ((rc = ca_client_open(u->url, u->root_path, out)) != 0)
		return rc;
	if ((rc = ca_client_set_timeout(*out, u->timeout_ms)) != 0) {
		ca_client_close(*out);
		*out = NULL;
	}
	return rc;
}

/* Back to the pool, unless its transport failed (a new one next time). */
static void
up_put(struct ca_upstream *u, struct ca_client *c)
{
	if (c == NULL)
		return;
	if (ca_client_last_transport(c) == CA_CLIENT_T_OK) {
		pthread_mutex_lock(&u->lock);
		if (u->n_idle < POOL_MAX) {
			u->idle[u->n_idle++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&u->lock);
	}
	ca_client_close(c);
}

/*
 * What a failed upstream request means for the RA's client: the upstream's
 * refusals (400, 401, 403, 404) pass through; its own failures (5xx, 429,
 * TLS not from the pinned root, no connection) are 502, no answer in time
 * 504.
 */
static int
up_fail(struct ca_client *c, int rc)
{
	switch (ca_client_last_transport(c)) {
	case CA_CLIENT_T_TIMEOUT:
		ca_err_context("upstream CA");
		return CA_ERR_UPSTREAM_TIMEOUT;
	case CA_CLIENT_T_TLS:
	case CA_CLIENT_T_FAILED:
		ca_err_context("upstream CA");
		return CA_ERR_UPSTREAM;
	default:
		break;
	}
	/* An answer of 2xx that could not be used is the upstream's fault. */
	if (ca_client_last_status(c) / 100 == 2) {
		ca_err_context("upstream CA answered badly");
		return CA_ERR_UPSTREAM;
	}
	switch (rc) {
	case CA_ERR_AUTH:
	case CA_ERR_FORBIDDEN:
	case CA_ERR_INVAL:
	case CA_ERR_NOTFOUND:
	case CA_ERR_EXISTS:
	case CA_ERR_NOMEM:
		ca_err_context("upstream CA");
		return rc;
	default:
		ca_err_context("upstream CA");
		return CA_ERR_UPSTREAM;
	}
}

int
ca_upstream_open(struct ca_local *a, const char *password, size_t pwlen,
    struct ca_upstream **out)
{
	const struct ca_config *cfg = a->cfg;
	struct ca_remote_provisioner *rp = NULL;
	struct ca_client_response r;
	struct ca_upstream *u;
	struct ca_client *c = NULL;
	char *fp = NULL;
	unsigned status = 1;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&u->lock, NULL);
	u->timeout_ms = (long)cfg->upstream_timeout * 1000;
	if ((u->url = strdup(cfg->upstream_url)) == NULL ||
	    (u->root_path = strdup(cfg->root)) == NULL ||
	    (u->prov_name = strdup(cfg->upstream_prov)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The root in certs/ is the one pinned by fingerprint. */
	if ((rc = ca_client_fingerprint_parse(cfg->upstream_fp, &fp)) != 0) {
		ca_err_context("authority.certificateAuthorityFingerprint");
		goto out;
	}
	if (strcmp(fp, a->root_fp) != 0) {
		rc = ca_err(CA_ERR_CONFIG, "%s is not the upstream root: its "
		    "fingerprint is %s, not %s", cfg->root, a->root_fp, fp);
		goto out;
	}
	if ((rc = up_get(u, &c)) != 0)
		goto out;
	if ((rc = ca_client_provisioner(c, u->prov_name,
	    cfg->upstream_key == NULL, &rp)) != 0) {
		rc = up_fail(c, rc);
		goto out;
	}
	if (password == NULL && cfg->upstream_key == NULL) {
		rc = ca_err(CA_ERR_AUTH, "upstream provisioner %s: its key is "
		    "encrypted: give --upstream-password-file (or "
		    "certificateIssuer.key in ca.json)", u->prov_name);
		goto out;
	}
	if ((rc = ca_token_provisioner_key(&rp->prov, password, pwlen,
	    cfg->upstream_key, &u->key)) != 0) {
		ca_err_context("upstream provisioner %s", u->prov_name);
		goto out;
	}
	if ((u->kid = strdup(rp->prov.kid)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The upstream's intermediate: served at /intermediates, and what
	 * the certificates relayed are checked against. */
	if ((rc = ca_client_get(c, "/intermediates.pem", &r)) != 0) {
		rc = up_fail(c, rc);
		goto out;
	}
	if (r.status != 200) {
		rc = up_fail(c, ca_client_http_error(&r));
		goto out;
	}
	if ((rc = ca_x509_import(r.body, r.len, &a->issuer.crt)) != 0) {
		ca_err_context("upstream /intermediates.pem");
		goto out;
	}
	/* Relayed certificates are checked against it: it must be the
	 * pinned root's. */
	if (gnutls_x509_crt_verify(a->issuer.crt, &a->root, 1, 0,
	    &status) < 0 || status != 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "the upstream's intermediate is "
		    "not signed by the pinned root");
		goto out;
	}
	if ((rc = ca_x509_export(a->issuer.crt, GNUTLS_X509_FMT_PEM,
	    &a->crt_pem)) != 0)
		goto out;
	a->issuer.not_after = gnutls_x509_crt_get_expiration_time(a->issuer.crt);
	*out = u;
	u = NULL;
	rc = 0;
out:
	ca_client_response_free(&r);
	if (u != NULL)
		up_put(u, c);
	else
		up_put(*out, c);
	ca_client_provisioner_free(rp);
	free(fp);
	ca_upstream_free(u);
	return rc;
}

int
ca_upstream_sign(struct ca_upstream *u, const char *root_fp,
    const struct ca_upstream_sign_req *req, char **crt_pem, char **ca_pem)
{
	struct ca_token_opts o;
	struct ca_client_sign_req sr;
	struct ca_client *c = NULL;
	char *aud = NULL, *tok = NULL;
	int rc;

	*crt_pem = *ca_pem = NULL;
	if (asprintf(&aud, "%s/1.0/sign", u->url) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memset(&o, 0, sizeof(o));
	o.iss = u->prov_name;
	o.sub = req->sub;
	o.aud = aud;
	o.sans = req->sans;
	o.n_sans = req->n_sans;
	o.sha = root_fp;
	o.now = time(NULL);
	o.lifetime = 300;
	o.kid = u->kid;
	if ((rc = ca_token_mint(u->key, &o, &tok)) != 0)
		goto out;
	memset(&sr, 0, sizeof(sr));
	sr.csr = req->csr_pem;
	sr.csr_len = req->csr_len;
	sr.token = tok;
	sr.token_len = strlen(tok);
	sr.not_before = req->not_before;
	sr.not_after = req->not_after;
	if ((rc = up_get(u, &c)) != 0) {
		rc = CA_ERR_UPSTREAM;
		goto out;
	}
	if ((rc = ca_client_sign(c, &sr, crt_pem, ca_pem)) != 0)
		rc = up_fail(c, rc);
out:
	up_put(u, c);
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	free(aud);
	return rc;
}

/* The decimal text of a serial in (minimal, maybe odd-length) hex. */
static int
serial_hex_decimal(const char *hex, char **dec)
{
	unsigned char *b = NULL;
	char *even = NULL;
	size_t n;
	int rc;

	*dec = NULL;
	if (asprintf(&even, "%s%s", strlen(hex) % 2 ? "0" : "", hex) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_unhex(even, &b, &n)) == 0 &&
	    (*dec = ca_serial_decimal(b, n)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	free(even);
	free(b);
	return rc;
}

int
ca_upstream_revoke(struct ca_upstream *u, const char *root_fp,
    const char *serial_hex, int reason, const char *reason_text)
{
	struct ca_token_opts o;
	struct ca_client_revoke_req rr;
	struct ca_client *c = NULL;
	char *aud = NULL, *tok = NULL, *sub = NULL;
	int rc;

	if (asprintf(&aud, "%s/1.0/revoke", u->url) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	/* step-ca compares the token's sub with the serial as it stores it,
	 * in decimal (big.Int String), and so does the body carry it. */
	if ((rc = serial_hex_decimal(serial_hex, &sub)) != 0) {
		free(aud);
		return rc;
	}
	memset(&o, 0, sizeof(o));
	o.iss = u->prov_name;
	o.sub = sub;
	o.aud = aud;
	o.sha = root_fp;
	o.now = time(NULL);
	o.lifetime = 300;
	o.kid = u->kid;
	o.no_sans = 1;
	if ((rc = ca_token_mint(u->key, &o, &tok)) != 0)
		goto out;
	memset(&rr, 0, sizeof(rr));
	rr.serial = sub;
	rr.token = tok;
	rr.token_len = strlen(tok);
	rr.reason = reason;
	rr.reason_text = reason_text;
	if ((rc = up_get(u, &c)) != 0) {
		rc = CA_ERR_UPSTREAM;
		goto out;
	}
	if ((rc = ca_client_revoke(c, &rr)) != 0)
		rc = up_fail(c, rc);
out:
	up_put(u, c);
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	free(aud);
	free(sub);
	return rc;
}

int
ca_upstream_renew(struct ca_upstream *u, const char *token, const char *csr,
    size_t csr_len, char **crt_pem, char **ca_pem)
{
	struct ca_client *c = NULL;
	int rc;

	*crt_pem = *ca_pem = NULL;
	if ((rc = up_get(u, &c)) != 0)
		return CA_ERR_UPSTREAM;
	if ((rc = ca_client_renew_token(c, token, csr, csr_len, crt_pem,
	    ca_pem)) != 0)
		rc = up_fail(c, rc);
	up_put(u, c);
	return rc;
}
