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
#include "crl.h"
#include "db.h"
#include "jose.h"
#include "ra.h"
#include "store.h"
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
	struct ca_sign_req sr;
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
	struct ca_revoke_req rr;
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

/* Whether two sets of names (as ca_names_classify makes them) are equal. */
static int
same_list(char *const *x, size_t nx, char *const *y, size_t ny)
{
	size_t i, j;

	if (nx != ny)
		return 0;
	for (i = 0; i < nx; i++) {
		for (j = 0; j < ny && strcasecmp(x[i], y[j]) != 0; j++)
			;
		if (j == ny)
			return 0;
	}
	return 1;
}

/*
 * What the upstream issued, checked before it is relayed: the CSR's key,
 * the names asked for, a chain to the pinned root. 502 otherwise.
 */
static int
relay_check(struct ca_local *a, gnutls_x509_crt_t crt, const char *ca_pem,
    gnutls_pubkey_t pub, const struct ca_names *want)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_x509_crt_t *inter = NULL, chain[2];
	gnutls_pubkey_t got = NULL;
	gnutls_datum_t d1 = { NULL, 0 }, d2 = { NULL, 0 }, cd;
	struct ca_names names;
	unsigned n = 0, i, status = 1;
	int rc, ret;

	memset(&names, 0, sizeof(names));
	if ((ret = gnutls_pubkey_init(&got)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(got, crt, 0)) < 0 ||
	    (ret = gnutls_pubkey_export2(got, GNUTLS_X509_FMT_DER, &d1)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &d2)) < 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA: its certificate's "
		    "key: %s", gnutls_strerror(ret));
		goto out;
	}
	if (d1.size != d2.size || memcmp(d1.data, d2.data, d1.size) != 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA returned a "
		    "certificate for another key");
		goto out;
	}
	if ((rc = ca_x509_names(crt, &names)) != 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA: its certificate's "
		    "names: %s", ca_errmsg());
		goto out;
	}
	if (!same_list(names.dns, names.n_dns, want->dns, want->n_dns) ||
	    !same_list(names.ip, names.n_ip, want->ip, want->n_ip) ||
	    !same_list(names.email, names.n_email, want->email,
	    want->n_email) ||
	    !same_list(names.uri, names.n_uri, want->uri, want->n_uri)) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA returned a "
		    "certificate for other names");
		goto out;
	}
	/*
	 * The usual case: the intermediate this RA fetched at start (and
	 * checked against the pinned root then), sent as the same PEM: one
	 * signature to verify, nothing to parse.
	 */
	if (a->issuer.crt != NULL && a->crt_pem.data != NULL &&
	    strlen(ca_pem) == a->crt_pem.size &&
	    memcmp(ca_pem, a->crt_pem.data, a->crt_pem.size) == 0)
		goto by_intermediate;
	cd.data = (unsigned char *)(uintptr_t)ca_pem;
	cd.size = (unsigned)strlen(ca_pem);
	if ((ret = gnutls_x509_crt_list_import2(&inter, &n, &cd,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA: its intermediate: %s",
		    ret < 0 ? gnutls_strerror(ret) : "none");
		goto out;
	}
	chain[0] = crt;
	chain[1] = inter[0];
	if (a->issuer.crt != NULL && gnutls_x509_crt_equals(inter[0],
	    a->issuer.crt)) {
by_intermediate:
		if (gnutls_x509_crt_verify(crt, &a->issuer.crt, 1, 0,
		    &status) < 0 || status != 0) {
			rc = ca_err(CA_ERR_UPSTREAM, "upstream CA returned a "
			    "certificate its intermediate did not sign");
			goto out;
		}
		rc = 0;
		goto out;
	}
	if ((ret = gnutls_x509_trust_list_init(&tl, 0)) < 0 ||
	    (ret = gnutls_x509_trust_list_add_cas(tl, &a->root, 1,
	    GNUTLS_TL_NO_DUPLICATES)) < 0 ||
	    (ret = gnutls_x509_trust_list_verify_crt2(tl, chain, 2, NULL, 0,
	    0, &status, NULL)) < 0 || status != 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA returned a "
		    "certificate that does not chain to the pinned root");
		goto out;
	}
	rc = 0;
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 0);	/* the root is a->root */
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(inter[i]);
	gnutls_free(inter);
	gnutls_free(d1.data);
	gnutls_free(d2.data);
	gnutls_pubkey_deinit(got);
	ca_names_free(&names);
	return rc;
}

/* A registration authority: whether the token kid.jti is still unspent
 * here, checked before the upstream is asked (a replay stops here). */
int
ca_local_relay_token_unused(struct ca_local *a, const char *kid, const char *jti)
{
	int rc;

	if (jti == NULL)
		return 0;
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = ca_db_token_used(a->store, kid, jti);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

/* A registration authority: whether serial is a certificate it recorded
 * and not revoked (a SCEP RenewalReq's signer), before the upstream is
 * asked; the revocation is checked again in the recording commit. */
int
ca_local_relay_recorded(struct ca_local *a, const char *serial)
{
	time_t at;
	int rc, reason;

	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		if ((rc = ca_db_exists(a->store, serial)) == 0)
			rc = ca_err(CA_ERR_NOTFOUND, "certificate %s was not "
			    "recorded here", serial);
		else if (rc == 1 && (rc = ca_db_get_revocation(a->store,
		    serial, &reason, &at, NULL)) == 0)
			rc = ca_err(CA_ERR_AUTH, "certificate %s is revoked",
			    serial);
		else if (rc == CA_ERR_NOTFOUND) {
			ca_err_clear();
			rc = 0;
		}
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

/*
 * What the upstream answered (*crt_pem, *chain_pem): checked, then
 * recorded here with the token; freed on failure.
 */
int
ca_local_relay_finish(struct ca_local *a, const struct ca_provisioner *prov,
    gnutls_pubkey_t pub, const struct ca_names *names,
    const struct ca_issuance_extra *ex, const char *jti, int64_t token_exp,
    time_t now, char **crt_pem, char **chain_pem, char **serial_hex)
{
	gnutls_datum_t der = { NULL, 0 };
	gnutls_x509_crt_t crt = NULL;
	int rc;

	*serial_hex = NULL;
	if ((rc = ca_x509_import(*crt_pem, strlen(*crt_pem), &crt)) != 0) {
		rc = ca_err(CA_ERR_UPSTREAM, "upstream CA: its certificate: %s",
		    ca_errmsg());
		goto out;
	}
	if ((rc = relay_check(a, crt, *chain_pem, pub, names)) != 0 ||
	    (rc = ca_local_serial_of(crt, serial_hex)) != 0 ||
	    (rc = ca_x509_export(crt, GNUTLS_X509_FMT_DER, &der)) != 0)
		goto out;
	rc = ca_local_record_issuance(a, prov, *serial_hex, &der, jti, token_exp, now,
	    ex);
out:
	if (rc != 0) {
		free(*crt_pem);
		free(*chain_pem);
		free(*serial_hex);
		*crt_pem = *chain_pem = *serial_hex = NULL;
	}
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_free(der.data);
	return rc;
}

/*
 * A registration authority issues through its upstream: the token was
 * spent nowhere yet, the upstream signs, the certificate is checked,
 * recorded here with the token, and only then handed out.
 */
int
ca_local_relay_and_record(struct ca_local *a, const struct ca_provisioner *prov,
    gnutls_x509_crq_t crq, gnutls_pubkey_t pub, const char *sub,
    const char *const *sans, size_t n_sans, const struct ca_names *names,
    time_t nb, time_t na, const char *jti, int64_t token_exp, time_t now,
    const struct ca_issuance_extra *ex, char **crt_pem, char **chain_pem,
    char **serial_hex)
{
	struct ca_upstream_sign_req ur;
	gnutls_datum_t csr = { NULL, 0 };
	int rc, ret;

	*crt_pem = *chain_pem = *serial_hex = NULL;
	if ((rc = ca_local_relay_token_unused(a, ex != NULL &&
	    ex->ott_scope != NULL ? ex->ott_scope : prov->kid, jti)) != 0)
		return rc;
	if ((ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &csr)) < 0)
		return ca_err(CA_ERR_CRYPTO, "CSR: %s", gnutls_strerror(ret));
	memset(&ur, 0, sizeof(ur));
	ur.csr_pem = (const char *)csr.data;
	ur.csr_len = csr.size;
	ur.sub = sub;
	ur.sans = sans;
	ur.n_sans = n_sans;
	/* The default start (backdated) is left to the upstream, which
	 * counts the lifetime from now as this RA did. */
	ur.not_before = nb == now - a->cfg->backdate ? 0 : nb;
	ur.not_after = na;	/* as decided here, the last second counted */
	if ((rc = ca_upstream_sign(a->upstream, a->root_fp, &ur, crt_pem,
	    chain_pem)) == 0)
		rc = ca_local_relay_finish(a, prov, pub, names, ex, jti, token_exp, now,
		    crt_pem, chain_pem, serial_hex);
	gnutls_free(csr.data);
	return rc;
}

/* A registration authority's TLS certificate, issued by its upstream. */
int
ca_local_ra_server_cert(struct ca_local *a, const struct ca_provisioner *internal,
    const struct ca_names *names, time_t nb, time_t na, time_t now,
    char **pem, size_t *len)
{
	gnutls_datum_t csr = { NULL, 0 };
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	char *key = NULL, *crt = NULL, *chain = NULL, *serial = NULL;
	const char *cn = names->n_dns ? names->dns[0] : NULL;
	size_t klen = 0;
	int rc, ret;

	if ((rc = ca_csr_make_new_key(CA_KEY_EC_P256, cn, names, &csr, &key,
	    &klen)) != 0 ||
	    (rc = ca_csr_import(csr.data, csr.size, &crq)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = ca_local_relay_and_record(a, internal, crq, pub, cn != NULL ? cn : "",
	    a->cfg->dns_names, a->cfg->n_dns_names, names, nb, na, NULL, 0,
	    now, NULL, &crt, &chain, &serial);
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		goto out;
	if (asprintf(pem, "%s%s%s", key, crt, chain) < 0) {
		*pem = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	*len = strlen(*pem);
out:
	ca_free_secret(key, klen);
	free(crt);
	free(chain);
	free(serial);
	gnutls_free(csr.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	return rc;
}
