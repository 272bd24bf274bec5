/*
 * authority.c - the local authority (ops "local"): a state directory
 * opened in this process; the one path from a token and a CSR to a
 * recorded certificate. The interface is lib/authority-api.c.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "authority-local.h"
#include "conf.h"
#include "crl.h"
#include "ra.h"
#include "db.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "store.h"
#include "token.h"
#include "x509.h"

#define SIGN_PATH	"/1.0/sign"
#define BACKDATE	CA_BACKDATE

static int
pem_of(gnutls_x509_crt_t crt, gnutls_datum_t *out)
{
	return ca_x509_export(crt, GNUTLS_X509_FMT_PEM, out);
}

static void local_free(struct ca_local *a);
static int load_key(struct ca_local *a, const char *password);
static const struct ca_authority_ops local_ops;

static int
open_common(const char *dir, struct ca_local **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	pthread_rwlock_init(&a->cfg_lock, NULL);
	pthread_mutex_init(&a->sign_lock, NULL);
	pthread_mutex_init(&a->commit_lock, NULL);
	pthread_mutex_init(&a->store_lock, NULL);
	pthread_cond_init(&a->commit_cv, NULL);
	if ((rc = ca_status_new(&a->status)) != 0)
		goto fail;
	if ((a->dir = strdup(dir)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_config_load(dir, &a->cfg)) != 0)
		goto fail;
	if ((rc = ca_x509_load(a->cfg->root, &a->root)) != 0 ||
	    (rc = ca_x509_fingerprint(a->root, &a->root_fp)) != 0 ||
	    (rc = pem_of(a->root, &a->root_pem)) != 0)
		goto fail;
	if (!a->cfg->is_ra) {
		if ((rc = ca_x509_load(a->cfg->crt, &a->issuer.crt)) != 0 ||
		    (rc = pem_of(a->issuer.crt, &a->crt_pem)) != 0)
			goto fail;
		a->issuer.not_after =
		    gnutls_x509_crt_get_expiration_time(a->issuer.crt);
	}
	if ((rc = ca_store_open(a->cfg->db_dir, a->cfg->lock_timeout_ms,
	    &a->store)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	local_free(a);
	return rc;
}

/* The handle for a, which it then owns (a is freed on failure too). */
static int
wrap(struct ca_local *a, struct ca_authority **out)
{
	struct ca_authority *h;
	int rc;

	if ((rc = ca_authority_wrap(&local_ops, a, &h)) != 0) {
		local_free(a);
		return rc;
	}
	a->pub = h;
	h->root_pem = a->root_pem;
	h->chain_pem = a->crt_pem;
	h->root_fp = a->root_fp;
	h->dir = a->dir;
	h->cfg = a->cfg;
	*out = h;
	return 0;
}

int
ca_authority_open_public(const char *dir, struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, &a)) != 0)
		return rc;
	return wrap(a, out);
}

int
ca_authority_open(const char *dir, const char *password,
    struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, &a)) != 0)
		return rc;
	if (a->cfg->is_ra) {
		rc = ca_err(CA_ERR_CONFIG,
		    "%s is a registration authority: it holds no CA key (use --ca-url)",
		    dir);
		goto fail;
	}
	if ((rc = load_key(a, password)) != 0)
		goto fail;
	return wrap(a, out);
fail:
	local_free(a);
	return rc;
}

int
ca_authority_open_server(const char *dir, const char *password,
    const char *upstream_password, struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, &a)) != 0)
		return rc;
	if (a->cfg->is_ra)
		rc = ca_upstream_open(a, upstream_password,
		    upstream_password != NULL ? strlen(upstream_password) : 0,
		    &a->upstream);
	else
		rc = load_key(a, password);
	if (rc != 0) {
		local_free(a);
		return rc;
	}
	return wrap(a, out);
}

/* The intermediate's key, checked against its certificate. */
static int
load_key(struct ca_local *a, const char *password)
{
	gnutls_pubkey_t pub = NULL;
	int rc, ret;

	if ((rc = ca_key_load(a->cfg->key, password, &a->issuer.key)) != 0) {
		if (rc == CA_ERR_AUTH && password == NULL)
			ca_err(CA_ERR_AUTH,
			    "%s: the intermediate key is encrypted: give --password-file",
			    a->cfg->key);
		goto fail;
	}
	/* The key must be the one the intermediate certificate certifies. */
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, a->issuer.key, 0, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto fail;
	}
	{
		unsigned char k1[64], k2[64];
		size_t s1 = sizeof(k1), s2 = sizeof(k2);
		gnutls_pubkey_t cpub = NULL;
		int same = gnutls_pubkey_get_key_id(pub, 0, k1, &s1) >= 0 &&
		    gnutls_pubkey_init(&cpub) >= 0 &&
		    gnutls_pubkey_import_x509(cpub, a->issuer.crt, 0) >= 0 &&
		    gnutls_pubkey_get_key_id(cpub, 0, k2, &s2) >= 0 &&
		    s1 == s2 && memcmp(k1, k2, s1) == 0;
		gnutls_pubkey_deinit(cpub);
		if (!same) {
			rc = ca_err(CA_ERR_CONFIG,
			    "%s does not match the certificate %s", a->cfg->key,
			    a->cfg->crt);
			goto fail;
		}
	}
	a->issuer.dig = ca_key_digest(a->issuer.key);
	gnutls_pubkey_deinit(pub);
	return 0;
fail:
	gnutls_pubkey_deinit(pub);
	return rc;
}

static void
local_free(struct ca_local *a)
{
	if (a == NULL)
		return;
	ca_status_free(a->status);
	ca_upstream_free(a->upstream);
	ca_store_close(a->store);
	if (a->issuer.key != NULL)
		gnutls_privkey_deinit(a->issuer.key);
	if (a->issuer.crt != NULL)
		gnutls_x509_crt_deinit(a->issuer.crt);
	if (a->root != NULL)
		gnutls_x509_crt_deinit(a->root);
	gnutls_free(a->root_pem.data);
	gnutls_free(a->crt_pem.data);
	free(a->root_fp);
	ca_config_free(a->cfg);
	free(a->dir);
	pthread_rwlock_destroy(&a->cfg_lock);
	pthread_mutex_destroy(&a->sign_lock);
	pthread_mutex_destroy(&a->commit_lock);
	pthread_mutex_destroy(&a->store_lock);
	pthread_cond_destroy(&a->commit_cv);
	free(a);
}

/* Lifetime within the provisioner's claims and the intermediate's. */
static int
validity(const struct ca_local *a, const struct ca_provisioner *p,
    const struct ca_sign_req *req, time_t now, time_t *nb, time_t *na)
{
	time_t start = req->not_before ? req->not_before : now;
	int64_t d;
	char ahead[32];

	/* A start far ahead would be a credential to keep for later. */
	if (req->not_before > now + p->claims.max_dur) {
		ca_duration_format(p->claims.max_dur, ahead, sizeof(ahead));
		return ca_err(CA_ERR_FORBIDDEN, "requested notBefore is more "
		    "than %s (provisioner \"%s\"'s longest lifetime) ahead",
		    ahead, p->name);
	}
	*na = req->not_after ? req->not_after : start + p->claims.default_dur;
	*nb = req->not_before ? req->not_before : now - BACKDATE;
	if (*na <= start)
		return ca_err(CA_ERR_INVAL, "notAfter is not after notBefore");
	d = *na - start;
	if (d < p->claims.min_dur || d > p->claims.max_dur) {
		char lo[32], hi[32], got[32];
		ca_duration_format(p->claims.min_dur, lo, sizeof(lo));
		ca_duration_format(p->claims.max_dur, hi, sizeof(hi));
		ca_duration_format(d, got, sizeof(got));
		return ca_err(CA_ERR_FORBIDDEN,
		    "requested lifetime %s is outside provisioner \"%s\"'s %s to %s",
		    got, p->name, lo, hi);
	}
	/*
	 * X.509 validity includes notAfter's own second (RFC 5280 4.1.2.5):
	 * the default lifetime of d seconds from start ends at start + d - 1,
	 * so the default 24 h leaf spans 24 h and the backdate, not one second
	 * more. A notAfter the client asked for is kept as it asked.
	 */
	if (req->not_after == 0)
		(*na)--;
	if (*na > a->issuer.not_after)
		*na = a->issuer.not_after;
	if (*nb >= *na)
		return ca_err(CA_ERR_FORBIDDEN,
		    "the intermediate certificate expires before notBefore");
	return 0;
}

static char *
dup_datum(const gnutls_datum_t *d)
{
	char *s = malloc(d->size + 1);

	if (s != NULL) {
		memcpy(s, d->data, d->size);
		s[d->size] = '\0';
	}
	return s;
}

/*
 * The rest of a result: the subject, the provisioner and the validity;
 * for a certificate issued here (pem), it and the intermediate as well
 * (a registration authority's come from its upstream).
 */
static int
fill_result(const struct ca_local *a, struct ca_sign_result *res,
    const gnutls_datum_t *pem, const char *subject, const char *prov,
    time_t nb, time_t na)
{
	if ((pem != NULL && ((res->crt_pem = dup_datum(pem)) == NULL ||
	    (res->chain_pem = dup_datum(&a->crt_pem)) == NULL)) ||
	    (res->subject = strdup(subject)) == NULL ||
	    (res->provisioner = strdup(prov)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	res->not_before = nb;
	res->not_after = na;
	return 0;
}

/*
 * Group commit. Each issuance waiting to be recorded is a ca_pending on
 * a->queue. The first caller to find nobody committing takes the whole
 * queue and records it in one store transaction (one set of syncs); the
 * others wait on commit_cv and find their result in their ca_pending.
 */
struct ca_pending {
	struct ca_issuance	 is;
	int			 rc;
	int			 done;
	char			 msg[256];
	struct ca_pending	*next;
};

static void
commit_batch(struct ca_local *a, struct ca_pending *batch)
{
	struct ca_pending *p;
	size_t n = 0, ok = 0;
	int rc;

	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 1)) == 0) {
		for (p = batch; p != NULL; p = p->next) {
			n++;
			p->rc = ca_db_add_issuance(a->store, &p->is);
			if (p->rc == 0)
				ok++;
			else if (p->rc != CA_ERR_EXISTS)
				snprintf(p->msg, sizeof(p->msg), "%s", ca_errmsg());
		}
		rc = ok > 0 ? ca_store_commit(a->store) : 0;
		if (ok == 0)
			ca_store_abort(a->store);
	}
	if (rc != 0)
		for (p = batch; p != NULL; p = p->next)
			if (p->rc == 0) {
				p->rc = rc;
				snprintf(p->msg, sizeof(p->msg), "%s", ca_errmsg());
			}
	pthread_mutex_unlock(&a->store_lock);
	a->batches++;
	a->batched += n;
}

static int
commit_issuance(struct ca_local *a, const struct ca_issuance *is)
{
	struct ca_pending me, **tail, *batch;

	memset(&me, 0, sizeof(me));
	me.is = *is;
	pthread_mutex_lock(&a->commit_lock);
	for (tail = &a->queue; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = &me;
	while (!me.done) {
		if (a->committing) {
			pthread_cond_wait(&a->commit_cv, &a->commit_lock);
			continue;
		}
		a->committing = 1;
		batch = a->queue;
		a->queue = NULL;
		pthread_mutex_unlock(&a->commit_lock);
		commit_batch(a, batch);
		pthread_mutex_lock(&a->commit_lock);
		for (; batch != NULL; batch = batch->next)
			batch->done = 1;
		a->committing = 0;
		pthread_cond_broadcast(&a->commit_cv);
	}
	pthread_mutex_unlock(&a->commit_lock);
	if (me.rc != 0 && me.rc != CA_ERR_EXISTS)
		ca_err(me.rc, "%s", me.msg);
	return me.rc;
}

/*
 * Issue and record: a serial collision (2^-134) takes a new serial.
 * *pem is the new certificate (gnutls_free).
 */
struct ca_issuance_extra {
	const char	*renewed_from;
	const char	*ott_kid;
};

/* Record an issuance (certificate, data, spent token) in one commit. */
static int
record_issuance(struct ca_local *a, const struct ca_provisioner *prov,
    const char *serial_hex, const gnutls_datum_t *der, const char *jti,
    int64_t token_exp, time_t now, const struct ca_issuance_extra *ex)
{
	struct ca_issuance is;

	memset(&is, 0, sizeof(is));
	is.serial = serial_hex;
	is.der = der->data;
	is.der_len = der->size;
	is.prov = prov;
	is.jti = jti;
	is.token_exp = token_exp;
	is.issued_at = now;
	is.renewed_from = ex != NULL ? ex->renewed_from : NULL;
	is.ott_kid = ex != NULL ? ex->ott_kid : NULL;
	return commit_issuance(a, &is);
}

static int
issue_and_record_ex(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_leaf *leaf, const char *jti, int64_t token_exp,
    time_t now, const struct ca_issuance_extra *ex, gnutls_datum_t *pem,
    char **serial_hex)
{
	gnutls_datum_t der = { NULL, 0 };
	unsigned char serial[CA_SERIAL_MAX];
	size_t slen;
	int rc = 0, ret, attempt;

	pem->data = NULL;
	pem->size = 0;
	*serial_hex = NULL;
	for (attempt = 0; attempt < 3; attempt++) {
		gnutls_free(der.data);
		der.data = NULL;
		free(*serial_hex);
		*serial_hex = NULL;
		pthread_mutex_lock(&a->sign_lock);
		rc = ca_x509_issue_der(&a->issuer, leaf, &der, serial, &slen);
		pthread_mutex_unlock(&a->sign_lock);
		if (rc != 0)
			break;
		if ((*serial_hex = ca_hex(serial, slen)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			break;
		}
		if ((rc = record_issuance(a, prov, *serial_hex, &der, jti,
		    token_exp, now, ex)) != CA_ERR_EXISTS)
			break;
	}
	if (rc == CA_ERR_EXISTS)
		rc = ca_err(CA_ERR_STORE, "could not find a free serial");
	if (rc == 0 && (ret = gnutls_pem_base64_encode2("CERTIFICATE", &der,
	    pem)) < 0)
		rc = ca_err(CA_ERR_CRYPTO, "PEM: %s", gnutls_strerror(ret));
	gnutls_free(der.data);
	if (rc != 0) {
		free(*serial_hex);
		*serial_hex = NULL;
	}
	return rc;
}

static int
issue_and_record(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_leaf *leaf, const char *jti, int64_t token_exp,
    time_t now, gnutls_datum_t *pem, char **serial_hex)
{
	return issue_and_record_ex(a, prov, leaf, jti, token_exp, now, NULL, pem,
	    serial_hex);
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

static int serial_of(gnutls_x509_crt_t crt, char **hex);

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
static int
relay_token_unused(struct ca_local *a, const char *kid, const char *jti)
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

/*
 * What the upstream answered (*crt_pem, *chain_pem): checked, then
 * recorded here with the token; freed on failure.
 */
static int
relay_finish(struct ca_local *a, const struct ca_provisioner *prov,
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
	    (rc = serial_of(crt, serial_hex)) != 0 ||
	    (rc = ca_x509_export(crt, GNUTLS_X509_FMT_DER, &der)) != 0)
		goto out;
	rc = record_issuance(a, prov, *serial_hex, &der, jti, token_exp, now,
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
static int
relay_and_record(struct ca_local *a, const struct ca_provisioner *prov,
    gnutls_x509_crq_t crq, gnutls_pubkey_t pub, const char *sub,
    const char *const *sans, size_t n_sans, const struct ca_names *names,
    time_t nb, time_t na, const char *jti, int64_t token_exp, time_t now,
    char **crt_pem, char **chain_pem, char **serial_hex)
{
	struct ca_upstream_sign_req ur;
	gnutls_datum_t csr = { NULL, 0 };
	int rc, ret;

	*crt_pem = *chain_pem = *serial_hex = NULL;
	if ((rc = relay_token_unused(a, prov->kid, jti)) != 0)
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
	ur.not_before = nb == now - BACKDATE ? 0 : nb;
	ur.not_after = na;	/* as decided here, the last second counted */
	if ((rc = ca_upstream_sign(a->upstream, a->root_fp, &ur, crt_pem,
	    chain_pem)) == 0)
		rc = relay_finish(a, prov, pub, names, NULL, jti, token_exp, now,
		    crt_pem, chain_pem, serial_hex);
	gnutls_free(csr.data);
	return rc;
}

/*
 * A token with a cnf claim authorises one CSR only: step-ca's
 * csrFingerprintValidator compares x5rt#S256 with the SHA-256 of the
 * CSR's DER (base64url); kid is the RFC 7638 thumbprint of its key.
 */
static int
cnf_check(const struct ca_token *tok, int client_csr, gnutls_x509_crq_t crq)
{
	gnutls_datum_t der = { NULL, 0 };
	unsigned char sum[32];
	struct ca_jwk *jwk = NULL;
	char *s = NULL;
	int rc = 0, ret;

	if (!client_csr)
		return ca_err(CA_ERR_FORBIDDEN, "the token's cnf binds it to "
		    "a CSR: send that CSR");
	if (tok->cnf_x5rt != NULL) {
		if ((ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER,
		    &der)) < 0 ||
		    (ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data,
		    der.size, sum)) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
			goto out;
		}
		if ((s = ca_b64url_encode(sum, sizeof(sum))) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (strcmp(s, tok->cnf_x5rt) != 0) {
			rc = ca_err(CA_ERR_FORBIDDEN, "the CSR's fingerprint is "
			    "not the token's cnf x5rt#S256");
			goto out;
		}
		free(s);
		s = NULL;
	}
	if (tok->cnf_kid != NULL) {
		gnutls_pubkey_t own = NULL;	/* the JWK takes it */

		if ((ret = gnutls_pubkey_init(&own)) < 0 ||
		    (ret = gnutls_pubkey_import_x509_crq(own, crq, 0)) < 0) {
			gnutls_pubkey_deinit(own);
			rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
			goto out;
		}
		if ((rc = ca_jwk_from_pubkey(own, NULL, &jwk)) != 0) {
			gnutls_pubkey_deinit(own);
			goto out;
		}
		if ((rc = ca_jwk_thumbprint(jwk, &s)) != 0)
			goto out;
		if (strcmp(s, tok->cnf_kid) != 0)
			rc = ca_err(CA_ERR_FORBIDDEN, "the CSR's key is not the "
			    "token's cnf kid");
	}
out:
	free(s);
	ca_jwk_free(jwk);
	gnutls_free(der.data);
	return rc;
}

static int
sign_locked(struct ca_local *a, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	const struct ca_provisioner *prov;
	struct ca_token *tok = NULL;
	struct ca_names names;
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 }, mycsr = { NULL, 0 };
	time_t now = time(NULL), nb = 0, na = 0;
	int rc, ret;

	memset(&names, 0, sizeof(names));
	/* 1. The token: shape, signature, claims. */
	if ((rc = ca_token_parse(req->token, req->token_len, &tok)) != 0) {
		ca_err_context("invalid token");
		rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
		goto out;
	}
	if ((rc = ca_token_verify(tok, a->cfg, SIGN_PATH, a->root_fp, now,
	    &prov)) != 0)
		goto out;
	if ((rc = ca_x509_cn_check(tok->sub)) != 0) {
		ca_err_context("token");
		goto out;
	}
	if ((rc = ca_names_classify((const char *const *)tok->sans,
	    tok->n_sans, &names)) != 0) {
		ca_err_context("token sans");
		rc = CA_ERR_FORBIDDEN;
		goto out;
	}

	/* 2. The CSR: signature, key, names. */
	if (req->csr == NULL) {
		if ((rc = ca_csr_make_new_key(a->cfg->key_type, tok->sub, &names, &mycsr,
		    &res->key_pem, &res->key_pem_len)) != 0)
			goto out;
		rc = ca_csr_import(mycsr.data, mycsr.size, &crq);
	} else
		/* An RA leaves the CSR's signature to the CA it relays to:
		 * one ECDSA verification less on its path (bench/ra.sh). */
		rc = ca_csr_import2(req->csr, req->csr_len,
		    a->upstream == NULL, &crq);
	if (rc != 0)
		goto out;
	if ((rc = ca_csr_check_names(crq, tok->sub, &names,
	    a->cfg->max_sans)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "CSR public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if (tok->has_cnf && (rc = cnf_check(tok, req->csr != NULL, crq)) != 0)
		goto out;

	/* 3. Issue, and record with the used token. */
	if ((rc = validity(a, prov, req, now, &nb, &na)) != 0)
		goto out;
	if (a->upstream != NULL)
		rc = relay_and_record(a, prov, crq, pub, tok->sub,
		    (const char *const *)tok->sans, tok->n_sans, &names, nb, na,
		    tok->jti, tok->exp, now, &res->crt_pem, &res->chain_pem,
		    &res->serial);
	else {
		struct ca_leaf leaf = { tok->sub, &names, pub, nb, na,
		    a->cfg->crl_url, a->cfg->ocsp_url };
		rc = issue_and_record(a, prov, &leaf, tok->jti, tok->exp, now,
		    &pem, &res->serial);
	}
	if (rc == 0)
		rc = fill_result(a, res, a->upstream != NULL ? NULL : &pem,
		    tok->sub, prov->name, nb, na);
out:
	gnutls_free(pem.data);
	gnutls_free(mycsr.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	ca_names_free(&names);
	ca_token_free(tok);
	return rc;
}

static int
local_sign(struct ca_authority *ah, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	struct ca_local *a = ah->impl;
	int rc;

	memset(res, 0, sizeof(*res));
	if (a->issuer.key == NULL && a->upstream == NULL)
		return ca_err(CA_ERR_CONFIG, "this CA cannot sign (no key)");
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = sign_locked(a, req, res);
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		ca_sign_result_free(res);
	return rc;
}

static void
apply_ports(struct ca_local *a)
{
	size_t i;

	a->cfg->n_extra_ports = 0;
	for (i = 0; i < a->n_ports && i < CA_MAX_PORTS; i++)
		a->cfg->extra_ports[a->cfg->n_extra_ports++] = a->ports[i];
}

static void
local_set_ports(struct ca_authority *ah, const int *ports, size_t n)
{
	struct ca_local *a = ah->impl;
	size_t i;

	pthread_rwlock_wrlock(&a->cfg_lock);
	a->n_ports = 0;
	for (i = 0; i < n && i < CA_MAX_PORTS; i++)
		a->ports[a->n_ports++] = ports[i];
	apply_ports(a);
	pthread_rwlock_unlock(&a->cfg_lock);
}

static int
local_reload(struct ca_authority *ah)
{
	struct ca_local *a = ah->impl;
	struct ca_config *cfg, *old;
	int rc;

	if ((rc = ca_config_load(a->dir, &cfg)) != 0)
		return rc;
	pthread_rwlock_wrlock(&a->cfg_lock);
	old = a->cfg;
	a->cfg = cfg;
	ah->cfg = cfg;
	apply_ports(a);
	pthread_rwlock_unlock(&a->cfg_lock);
	ca_config_free(old);
	return 0;
}

#define REDACTED	"*** REDACTED ***"
#define REDACTED_B64	"KioqIFJFREFDVEVEICoqKg=="	/* a Go []byte of it */

/*
 * A provisioner as the API shows it: its ca.json entry, as step-ca does,
 * secrets redacted as its api.ProvisionersResponse does: a SCEP
 * provisioner's challenge and decrypter members always read REDACTED.
 * Webhook credentials, which step-ca never shows (json:"-"), are left out.
 * Returns a new reference, or NULL when out of memory.
 */
static struct json_object *
provisioner_public(struct json_object *p)
{
	static const char *const scep_str[] = {
		"challenge", "decrypterKey", "decrypterKeyPassword", NULL
	};
	static const char *const scep_bytes[] = {
		"decrypterCertificate", "decrypterKeyPEM", NULL
	};
	static const char *const hook_secrets[] = {
		"secret", "bearerToken", "basicAuth", NULL
	};
	struct json_object *c, *v, *hooks;
	const char *type = NULL;
	size_t i, j, n;
	int scep;

	if (ca_json_string(p, "type", 0, &type) != 0)
		type = NULL;
	scep = type != NULL && strcasecmp(type, "SCEP") == 0;
	hooks = NULL;
	if (ca_json_object(p, "options", 0, &v) == 0 &&
	    ca_json_array(v, "webhooks", 0, &hooks) != 0)
		hooks = NULL;
	ca_err_clear();
	if (!scep && hooks == NULL)
		return json_object_get(p);
	c = NULL;
	if (json_object_deep_copy(p, &c, NULL) != 0)
		return NULL;
	if (scep) {
		for (i = 0; scep_str[i] != NULL; i++)
			if (json_object_object_add(c, scep_str[i],
			    json_object_new_string(REDACTED)) != 0)
				goto fail;
		for (i = 0; scep_bytes[i] != NULL; i++)
			if (json_object_object_add(c, scep_bytes[i],
			    json_object_new_string(REDACTED_B64)) != 0)
				goto fail;
	}
	if (hooks != NULL &&
	    ca_json_object(c, "options", 0, &v) == 0 &&
	    ca_json_array(v, "webhooks", 0, &hooks) == 0) {
		n = json_object_array_length(hooks);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(hooks, i);
			if (!json_object_is_type(v, json_type_object))
				continue;
			for (j = 0; hook_secrets[j] != NULL; j++)
				json_object_object_del(v, hook_secrets[j]);
		}
	}
	ca_err_clear();
	return c;
fail:
	json_object_put(c);
	return NULL;
}

static int
local_provisioners(struct ca_authority *ah, const char *cursor,
    size_t limit, char **json)
{
	struct ca_local *a = ah->impl;
	struct json_object *o = NULL, *list = NULL, *all;
	size_t i, n, start = 0;
	char next[32] = "";
	int rc = 0;

	*json = NULL;
	if (cursor != NULL && cursor[0] != '\0') {
		char *end;
		unsigned long v = strtoul(cursor, &end, 10);
		if (*end != '\0' || !(cursor[0] >= '0' && cursor[0] <= '9'))
			return ca_err(CA_ERR_INVAL, "invalid cursor");
		start = v;
	}
	if (limit == 0 || limit > 100)
		limit = limit == 0 ? 20 : 100;
	pthread_rwlock_rdlock(&a->cfg_lock);
	if ((o = json_object_new_object()) == NULL ||
	    (list = json_object_new_array()) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	n = 0;
	if (ca_json_object(a->cfg->json, "authority", 0, &all) == 0 &&
	    ca_json_array(all, "provisioners", 0, &all) == 0) {
		n = json_object_array_length(all);
		for (i = start; i < n && i < start + limit; i++) {
			struct json_object *p = provisioner_public(
			    json_object_array_get_idx(all, i));
			if (p == NULL || json_object_array_add(list, p) != 0) {
				json_object_put(p);
				rc = ca_err(CA_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (start + limit < n)
		snprintf(next, sizeof(next), "%zu", start + limit);
	json_object_object_add(o, "provisioners", list);
	list = NULL;
	json_object_object_add(o, "nextCursor", json_object_new_string(next));
	if ((*json = ca_json_dump(o)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	pthread_rwlock_unlock(&a->cfg_lock);
	json_object_put(list);
	json_object_put(o);
	return rc;
}

static int
local_encrypted_key(struct ca_authority *ah, const char *kid,
    char **jwe)
{
	struct ca_local *a = ah->impl;
	size_t i;
	int rc = CA_ERR_NOTFOUND;

	*jwe = NULL;
	pthread_rwlock_rdlock(&a->cfg_lock);
	for (i = 0; i < a->cfg->n_provisioners; i++) {
		const struct ca_provisioner *p = &a->cfg->provisioners[i];
		if (p->kid == NULL || strcmp(p->kid, kid) != 0)
			continue;
		if (p->encrypted_key == NULL)
			break;
		rc = (*jwe = strdup(p->encrypted_key)) != NULL ? 0 :
		    ca_err(CA_ERR_NOMEM, "out of memory");
		break;
	}
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc == CA_ERR_NOTFOUND)
		ca_err(rc, "no provisioner with an encrypted key has kid %s", kid);
	return rc;
}

/* A registration authority's TLS certificate, issued by its upstream. */
static int
ra_server_cert(struct ca_local *a, const struct ca_provisioner *internal,
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
	rc = relay_and_record(a, internal, crq, pub, cn != NULL ? cn : "",
	    a->cfg->dns_names, a->cfg->n_dns_names, names, nb, na, NULL, 0,
	    now, &crt, &chain, &serial);
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

static int
local_server_cert(struct ca_authority *ah, char **pem, size_t *len,
    time_t *not_before, time_t *not_after)
{
	struct ca_local *a = ah->impl;
	struct ca_provisioner internal;
	struct ca_names names;
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_x509_privkey_t x = NULL;
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	char *serial = NULL;
	time_t now = time(NULL);
	int rc, ret;

	*pem = NULL;
	*len = 0;
	memset(&names, 0, sizeof(names));
	memset(&internal, 0, sizeof(internal));
	internal.name = (char *)(uintptr_t)CA_INTERNAL_PROVISIONER;
	internal.type = (char *)(uintptr_t)CA_INTERNAL_TYPE;
	internal.kid = (char *)(uintptr_t)"-";
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = ca_names_classify(a->cfg->dns_names, a->cfg->n_dns_names, &names);
	*not_before = now - BACKDATE;
	*not_after = now + a->cfg->claims.default_dur - 1;	/* inclusive */
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		goto out;
	if (*not_after > a->issuer.not_after)
		*not_after = a->issuer.not_after;
	if (a->upstream != NULL) {
		rc = ra_server_cert(a, &internal, &names, *not_before,
		    *not_after, now, pem, len);
		goto out;
	}
	/* The TLS key is always EC P-256: fast handshakes, any client. */
	if ((rc = ca_key_generate(CA_KEY_EC_P256, &x)) != 0 ||
	    (rc = ca_key_export(x, NULL, &kpem)) != 0 ||
	    (rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, k, 0, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	{
		struct ca_leaf leaf = { names.n_dns ? names.dns[0] : NULL, &names,
		    pub, *not_before, *not_after, NULL, NULL };
		if ((rc = issue_and_record(a, &internal, &leaf, NULL, 0, now,
		    &cpem, &serial)) != 0)
			goto out;
	}
	*len = kpem.size + cpem.size + a->crt_pem.size;
	if ((*pem = malloc(*len + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*pem, kpem.data, kpem.size);
	memcpy(*pem + kpem.size, cpem.data, cpem.size);
	memcpy(*pem + kpem.size + cpem.size, a->crt_pem.data, a->crt_pem.size);
	(*pem)[*len] = '\0';
	rc = 0;
out:
	if (kpem.data != NULL) {
		ca_wipe(kpem.data, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	gnutls_privkey_deinit(k);
	gnutls_pubkey_deinit(pub);
	ca_names_free(&names);
	free(serial);
	return rc;
}

/* Revocation */

/* Whether crt was issued by this CA's intermediate (validity not checked). */
static int
issued_here(const struct ca_local *a, gnutls_x509_crt_t crt)
{
	unsigned status = 1;

	return gnutls_x509_crt_verify(crt, &a->issuer.crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status) >= 0 &&
	    status == 0;
}

static int
serial_of(gnutls_x509_crt_t crt, char **hex)
{
	unsigned char buf[CA_SERIAL_MAX + 2];
	size_t len = sizeof(buf);

	*hex = NULL;
	if (gnutls_x509_crt_get_serial(crt, buf, &len) < 0)
		return ca_err(CA_ERR_INVAL, "cannot read the certificate's serial");
	if ((*hex = ca_hex(buf, len)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static int
revoke_locked(struct ca_local *a, const struct ca_revoke_req *req,
    const char *serial, time_t now)
{
	const struct ca_provisioner *prov = NULL;
	struct ca_token *tok = NULL;
	gnutls_x509_crt_t peer = NULL;
	struct ca_revocation rev;
	char *sub = NULL, *peer_serial = NULL;
	const char *by = req->by != NULL ? req->by : "ca-revoke";
	int rc;

	/* Who may revoke: the operator, a revoke token for this serial, or
	 * the certificate itself over mutual TLS. */
	if (req->token != NULL) {
		if ((rc = ca_token_parse(req->token, req->token_len, &tok)) != 0) {
			ca_err_context("invalid token");
			rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
			goto out;
		}
		if ((rc = ca_token_verify(tok, a->cfg, "/1.0/revoke", a->root_fp,
		    now, &prov)) != 0)
			goto out;
		if (ca_serial_canon(tok->sub, &sub) != 0 || strcmp(sub, serial) != 0) {
			rc = ca_err(CA_ERR_FORBIDDEN,
			    "the token authorises revoking %s, not %s", tok->sub,
			    serial);
			goto out;
		}
		by = prov->name;
	} else if (req->peer_der != NULL) {
		if ((rc = ca_x509_import(req->peer_der, req->peer_len, &peer)) != 0)
			goto out;
		if (!issued_here(a, peer)) {
			rc = ca_err(CA_ERR_AUTH,
			    "the client certificate was not issued by this CA");
			goto out;
		}
		if ((rc = serial_of(peer, &peer_serial)) != 0)
			goto out;
		if (strcmp(peer_serial, serial) != 0) {
			rc = ca_err(CA_ERR_FORBIDDEN,
			    "certificate %s may revoke only itself, not %s",
			    peer_serial, serial);
			goto out;
		}
		by = "mtls";
	} else if (!req->trusted) {
		rc = ca_err(CA_ERR_AUTH,
		    "revocation needs a token or the certificate (mutual TLS)");
		goto out;
	}
	/* A registration authority: the upstream revokes, then the record
	 * here (if the certificate went through this RA). */
	if (a->upstream != NULL) {
		/* Only what went through this RA, and a token unspent here. */
		pthread_mutex_lock(&a->store_lock);
		if ((rc = ca_store_begin(a->store, 0)) == 0) {
			if ((rc = ca_db_exists(a->store, serial)) == 0)
				rc = ca_err(CA_ERR_NOTFOUND, "certificate %s "
				    "was not issued through this registration "
				    "authority", serial);
			else if (rc == 1)
				rc = tok == NULL ? 0 : ca_db_token_used(a->store,
				    prov->kid, tok->jti);
			ca_store_abort(a->store);
		}
		pthread_mutex_unlock(&a->store_lock);
		if (rc != 0)
			goto out;
		if ((rc = ca_upstream_revoke(a->upstream, a->root_fp, serial,
		    req->reason, req->reason_text)) != 0)
			goto out;
	}
	memset(&rev, 0, sizeof(rev));
	rev.serial = serial;
	rev.reason = req->reason;
	rev.reason_text = req->reason_text;
	rev.revoked_at = now;
	rev.by = by;
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 1)) == 0) {
		rc = ca_db_add_revocation(a->store, &rev);
		if (rc == 0 && tok != NULL)
			rc = ca_db_use_token(a->store, prov->kid, tok->jti,
			    prov->name, serial, tok->exp, now);
		if (rc == 0)
			rc = ca_store_commit(a->store);
		else
			ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	if (rc == 0)
		ca_status_bump(a);
out:
	if (peer != NULL)
		gnutls_x509_crt_deinit(peer);
	free(peer_serial);
	free(sub);
	ca_token_free(tok);
	return rc;
}

static int
local_revoke(struct ca_authority *ah, const struct ca_revoke_req *req,
    char **serial)
{
	struct ca_local *a = ah->impl;
	int rc;

	*serial = NULL;
	if (a->cfg->is_ra && a->upstream == NULL)
		return ca_err(CA_ERR_CONFIG, "%s is a registration authority: "
		    "revoke through its server or the CA's (use --ca-url)",
		    a->dir);
	if (req->reason < CA_REASON_NONE || req->reason > 10 || req->reason == 7)
		return ca_err(CA_ERR_INVAL, "invalid reason code %d", req->reason);
	if (req->reason_text != NULL && strlen(req->reason_text) > 256)
		return ca_err(CA_ERR_INVAL, "reason text longer than 256 bytes");
	if ((rc = ca_serial_canon(req->serial, serial)) != 0)
		return rc;
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = revoke_locked(a, req, *serial, time(NULL));
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0) {
		free(*serial);
		*serial = NULL;
	}
	return rc;
}

/* Renewal */

#define STEP_CLIENT_ISSUER	"step-ca-client/1.0"	/* step ca renew's iss */

/* Whether the certificate's (first) common name is cn ("" for none). */
static int
cn_is(gnutls_x509_crt_t crt, const char *cn)
{
	char buf[1024];
	size_t n = sizeof(buf);
	int ret;

	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &n);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return cn[0] == '\0';
	return ret >= 0 && strlen(buf) == n && strcmp(buf, cn) == 0;
}

/*
 * The x5c renew token: signed by the certificate's own key, in step's
 * shape (step ca renew without mutual TLS: header x5cInsecure, iss
 * step-ca-client/1.0, sub the certificate's CN, no jti) or the older
 * one (header x5c, a jti). Either way it is single use per certificate
 * and iat: *jti becomes "SERIAL.IAT", the key the token is recorded under.
 */
static int
x5c_token(struct ca_local *a, const struct ca_renew_req *req, time_t now,
    const char *path, gnutls_x509_crt_t *crt, char **jti, int64_t *exp)
{
	struct ca_jws *jws = NULL;
	struct ca_jwk *jwk = NULL;
	struct json_object *x5c, *cl = NULL, *v;
	gnutls_pubkey_t pub = NULL;
	unsigned char *der = NULL;
	const char *s;
	size_t len, i;
	int64_t nbf, iat;
	unsigned ku = 0, crit;
	char oid[128];
	int rc, ret, client_auth = 0, aud_ok = 0;

	*crt = NULL;
	*jti = NULL;
	if (req->token_len > CA_MAX_TOKEN)
		return ca_err(CA_ERR_TOOBIG, "token larger than %d bytes",
		    CA_MAX_TOKEN);
	if ((rc = ca_jws_parse(req->token, req->token_len, &jws)) != 0)
		goto auth;
	{
		int insecure = json_object_object_get_ex(jws->header,
		    "x5cInsecure", NULL);
		if (insecure && json_object_object_get_ex(jws->header, "x5c",
		    NULL)) {
			rc = ca_err(CA_ERR_AUTH,
			    "renew token has both x5c and x5cInsecure");
			goto out;
		}
		rc = ca_json_array(jws->header, insecure ? "x5cInsecure" :
		    "x5c", 0, &x5c);
	}
	if (rc != 0 || json_object_array_length(x5c) < 1 ||
	    !json_object_is_type(json_object_array_get_idx(x5c, 0),
	    json_type_string)) {
		rc = ca_err(CA_ERR_AUTH, "renew token has no x5c certificate");
		goto out;
	}
	s = json_object_get_string(json_object_array_get_idx(x5c, 0));
	/* x5c holds standard base64 (RFC 7515 4.1.6). */
	{
		gnutls_datum_t in = { (unsigned char *)(uintptr_t)s,
		    (unsigned)strlen(s) }, outd = { NULL, 0 };
		if ((ret = gnutls_base64_decode2(&in, &outd)) < 0) {
			rc = ca_err(CA_ERR_AUTH, "renew token: bad x5c encoding");
			goto out;
		}
		der = outd.data;
		len = outd.size;
	}
	if ((rc = ca_x509_import(der, len, crt)) != 0)
		goto auth;
	/* The chain: ours, whatever its validity (checked by the caller). */
	if (!issued_here(a, *crt)) {
		rc = ca_err(CA_ERR_AUTH,
		    "renew token certificate was not issued by this CA");
		goto out;
	}
	if (gnutls_x509_crt_get_key_usage(*crt, &ku, &crit) < 0 ||
	    !(ku & GNUTLS_KEY_DIGITAL_SIGNATURE)) {
		rc = ca_err(CA_ERR_AUTH,
		    "renew token certificate lacks keyUsage digitalSignature");
		goto out;
	}
	for (i = 0;; i++) {
		size_t olen = sizeof(oid);
		if (gnutls_x509_crt_get_key_purpose_oid(*crt, (unsigned)i, oid,
		    &olen, NULL) < 0)
			break;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			client_auth = 1;
	}
	if (!client_auth) {
		rc = ca_err(CA_ERR_AUTH,
		    "renew token certificate lacks extendedKeyUsage clientAuth");
		goto out;
	}
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, *crt, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_jwk_from_pubkey(pub, NULL, &jwk)) != 0)
		goto auth;
	pub = NULL;
	if (ca_jws_verify(jws, jwk) != 0) {
		rc = ca_err(CA_ERR_AUTH,
		    "renew token signature does not verify with its certificate");
		goto out;
	}
	if ((rc = ca_json_parse((const char *)jws->payload, jws->payload_len,
	    "renew token claims", &cl)) != 0)
		goto auth;
	if ((rc = ca_json_int64(cl, "exp", 1, exp)) != 0 ||
	    (rc = ca_json_int64(cl, "iat", 1, &iat)) != 0)
		goto auth;
	if ((rc = ca_json_string(cl, "iss", 0, &s)) == 0) {
		const struct ca_provisioner *p;

		/* step-ca: its client's name, or the provisioner's. */
		if (strcmp(s, STEP_CLIENT_ISSUER) != 0 &&
		    ca_config_provisioner(a->cfg, s, NULL, &p) != 0) {
			rc = ca_err(CA_ERR_AUTH, "renew token: iss is neither "
			    STEP_CLIENT_ISSUER " nor a provisioner");
			goto out;
		}
	} else if (rc != CA_ERR_NOTFOUND)
		goto auth;
	if ((rc = ca_json_string(cl, "sub", 0, &s)) == 0) {
		if (!cn_is(*crt, s)) {
			rc = ca_err(CA_ERR_AUTH, "renew token: sub is not the "
			    "certificate's common name");
			goto out;
		}
	} else if (rc != CA_ERR_NOTFOUND)
		goto auth;
	{
		char *serial = NULL;

		if ((rc = serial_of(*crt, &serial)) != 0)
			goto out;
		rc = asprintf(jti, "%s.%lld", serial, (long long)iat) < 0 ?
		    ca_err(CA_ERR_NOMEM, "out of memory") : 0;
		free(serial);
		if (rc != 0) {
			*jti = NULL;
			goto out;
		}
	}
	if (*exp + CA_TOKEN_LEEWAY < now) {
		rc = ca_err(CA_ERR_AUTH, "renew token expired");
		goto out;
	}
	if (ca_json_int64(cl, "nbf", 0, &nbf) == 0 && nbf - CA_TOKEN_LEEWAY > now) {
		rc = ca_err(CA_ERR_AUTH, "renew token not yet valid");
		goto out;
	}
	if (*exp - iat > CA_TOKEN_MAX_LIFETIME) {
		rc = ca_err(CA_ERR_AUTH, "renew token lifetime exceeds %d s",
		    CA_TOKEN_MAX_LIFETIME);
		goto out;
	}
	if (json_object_object_get_ex(cl, "aud", &v)) {
		if (json_object_is_type(v, json_type_string))
			aud_ok = ca_config_audience_ok(a->cfg, path,
			    json_object_get_string(v));
		else if (json_object_is_type(v, json_type_array))
			for (i = 0; i < json_object_array_length(v) && !aud_ok; i++)
				if (json_object_is_type(json_object_array_get_idx(v,
				    i), json_type_string))
					aud_ok = ca_config_audience_ok(a->cfg, path,
					    json_object_get_string(
					    json_object_array_get_idx(v, i)));
	}
	if (!aud_ok) {
		rc = ca_err(CA_ERR_AUTH, "renew token audience is not this CA's %s",
		    path);
		goto out;
	}
	rc = 0;
	goto out;
auth:
	ca_err_context("renew token");
	if (rc != CA_ERR_NOMEM)
		rc = CA_ERR_AUTH;
out:
	if (rc != 0) {
		if (*crt != NULL)
			gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		free(*jti);
		*jti = NULL;
	}
	json_object_put(cl);
	gnutls_free(der);
	gnutls_pubkey_deinit(pub);
	ca_jwk_free(jwk);
	ca_jws_free(jws);
	return rc;
}

/* The provisioner that issued serial, from the store. */
static int
issuing_provisioner(struct ca_local *a, const char *serial,
    const struct ca_provisioner **prov)
{
	struct ca_cert_info ci;
	int rc, revoked;

	*prov = NULL;
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = ca_db_get(a->store, serial, &ci);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	if (rc != 0) {
		if (rc == CA_ERR_NOTFOUND)
			rc = ca_err(CA_ERR_AUTH,
			    "certificate %s is not in this CA's database", serial);
		return rc;
	}
	revoked = ci.revoked;
	if (ci.provisioner == NULL)
		rc = ca_err(CA_ERR_AUTH, "certificate %s has no provisioner record",
		    serial);
	else if (revoked)
		rc = ca_err(CA_ERR_AUTH, "certificate %s is revoked", serial);
	else if (ca_config_provisioner(a->cfg, ci.provisioner, NULL, prov) != 0)
		rc = ca_err(CA_ERR_AUTH,
		    "certificate %s: its provisioner \"%s\" no longer exists",
		    serial, ci.provisioner);
	ca_cert_info_free(&ci);
	return rc;
}

static int
renew_locked(struct ca_local *a, const struct ca_renew_req *req,
    struct ca_sign_result *res)
{
	const struct ca_provisioner *prov;
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 }, cn = { NULL, 0 };
	struct ca_names names;
	char *serial = NULL, *jti = NULL;
	int64_t token_exp = 0;
	time_t now = time(NULL), nb, na, onb, ona;
	const char *path = req->csr != NULL ? "/1.0/rekey" : "/1.0/renew";
	int rc, ret;

	memset(&names, 0, sizeof(names));
	if (a->upstream != NULL && req->token == NULL) {
		rc = ca_err(CA_ERR_AUTH, "a registration authority renews with "
		    "an x5c token (Authorization: Bearer; ca-renew --no-mtls): "
		    "mutual TLS cannot reach its upstream CA");
		goto out;
	}
	if (req->token != NULL)
		rc = x5c_token(a, req, now, path, &crt, &jti, &token_exp);
	else if (req->cert_der != NULL) {
		if ((rc = ca_x509_import(req->cert_der, req->cert_len, &crt)) == 0 &&
		    !issued_here(a, crt))
			rc = ca_err(CA_ERR_AUTH,
			    "the certificate was not issued by this CA");
	} else
		rc = ca_err(CA_ERR_AUTH,
		    "renewal needs the certificate (mutual TLS) or a renew token");
	if (rc != 0)
		goto out;
	if ((rc = serial_of(crt, &serial)) != 0 ||
	    (rc = issuing_provisioner(a, serial, &prov)) != 0)
		goto out;
	onb = gnutls_x509_crt_get_activation_time(crt);
	ona = gnutls_x509_crt_get_expiration_time(crt);
	if (prov->claims.disable_renewal) {
		rc = ca_err(CA_ERR_AUTH, "provisioner \"%s\" does not allow renewal",
		    prov->name);
		goto out;
	}
	if (now < onb) {
		rc = ca_err(CA_ERR_AUTH, "certificate %s is not valid yet", serial);
		goto out;
	}
	if (now > ona && !prov->claims.allow_renewal_after_expiry) {
		rc = ca_err(CA_ERR_AUTH,
		    "certificate %s has expired (provisioner \"%s\" does not allow renewal after expiry)",
		    serial, prov->name);
		goto out;
	}
	/* The same names and total lifetime; a new serial. */
	if ((rc = ca_x509_names(crt, &names)) != 0)
		goto out;
	{
		size_t need = 0;
		ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
		    0, 0, NULL, &need);
		cn.size = (unsigned)need;
	}
	if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
		size_t sz = cn.size + 1;
		if ((cn.data = gnutls_malloc(sz)) == NULL ||
		    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
		    0, 0, cn.data, &sz) < 0) {
			rc = ca_err(CA_ERR_INVAL, "cannot read the common name");
			goto out;
		}
	}
	if (req->csr != NULL) {
		if ((rc = ca_csr_import(req->csr, req->csr_len, &crq)) != 0)
			goto out;
		if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
		    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
			rc = ca_err(CA_ERR_INVAL, "CSR public key: %s",
			    gnutls_strerror(ret));
			goto out;
		}
	} else if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	nb = now - BACKDATE;
	na = nb + (ona - onb);
	if (na > a->issuer.not_after)
		na = a->issuer.not_after;
	if (a->upstream != NULL) {
		/* The client's token goes upstream as it is: the upstream
		 * lists this RA in caTools.registrationAuthorities. */
		struct ca_issuance_extra ex = { serial, "x5c" };

		if ((rc = relay_token_unused(a, "x5c", jti)) == 0 &&
		    (rc = ca_upstream_renew(a->upstream, req->token, req->csr,
		    req->csr_len, &res->crt_pem, &res->chain_pem)) == 0)
			rc = relay_finish(a, prov, pub, &names, &ex, jti,
			    token_exp, now, &res->crt_pem, &res->chain_pem,
			    &res->serial);
	} else {
		struct ca_leaf leaf = { (char *)cn.data, &names, pub, nb, na,
		    a->cfg->crl_url, a->cfg->ocsp_url };
		struct ca_issuance_extra ex = { serial, jti != NULL ? "x5c" : NULL };

		rc = issue_and_record_ex(a, prov, &leaf, jti, token_exp, now,
		    &ex, &pem, &res->serial);
	}
	if (rc == 0)
		rc = fill_result(a, res, a->upstream != NULL ? NULL : &pem,
		    cn.data != NULL ? (char *)cn.data : "", prov->name, nb, na);
out:
	gnutls_free(pem.data);
	gnutls_free(cn.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	ca_names_free(&names);
	free(serial);
	free(jti);
	return rc;
}

static int
local_renew(struct ca_authority *ah, const struct ca_renew_req *req,
    struct ca_sign_result *res)
{
	struct ca_local *a = ah->impl;
	int rc;

	memset(res, 0, sizeof(*res));
	if (a->issuer.key == NULL && a->upstream == NULL)
		return ca_err(CA_ERR_CONFIG, "this CA cannot sign (no key)");
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = renew_locked(a, req, res);
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		ca_sign_result_free(res);
	return rc;
}

static int
local_crl(struct ca_authority *ah, time_t now, int fresh,
    struct ca_db_crl *out)
{
	return ca_local_crl(ah->impl, now, fresh, out);
}

static int
local_ocsp(struct ca_authority *ah, const void *der, size_t len, time_t now,
    gnutls_datum_t *resp, time_t *next_update)
{
	return ca_local_ocsp(ah->impl, der, len, now, resp, next_update);
}

static void
local_ocsp_stats(struct ca_authority *ah, unsigned long *hits,
    unsigned long *built)
{
	ca_local_ocsp_stats(ah->impl, hits, built);
}

static void
local_commit_stats(struct ca_authority *ah, unsigned long *issuances,
    unsigned long *commits)
{
	struct ca_local *a = ah->impl;

	pthread_mutex_lock(&a->commit_lock);
	*issuances = a->batched;
	*commits = a->batches;
	pthread_mutex_unlock(&a->commit_lock);
}

static int
local_db_list(struct ca_authority *ah, struct ca_cert_info **v, size_t *n)
{
	struct ca_local *a = ah->impl;
	int rc;

	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = ca_db_list(a->store, v, n);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

static int
local_db_get(struct ca_authority *ah, const char *serial,
    struct ca_cert_info *ci)
{
	struct ca_local *a = ah->impl;
	int rc;

	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = ca_db_get(a->store, serial, ci);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

static int
local_db_check(struct ca_authority *ah, void (*report)(void *, const char *),
    void *arg, size_t *problems, size_t *certs)
{
	struct ca_local *a = ah->impl;
	int rc;

	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = ca_db_check(a->store, a->issuer.crt, report, arg,
		    problems, certs);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

static void
local_close(struct ca_authority *ah)
{
	local_free(ah->impl);
}

static const struct ca_authority_ops local_ops = {
	.kind = "local",
	.sign = local_sign,
	.renew = local_renew,
	.revoke = local_revoke,
	.provisioners = local_provisioners,
	.encrypted_key = local_encrypted_key,
	.server_cert = local_server_cert,
	.crl = local_crl,
	.ocsp = local_ocsp,
	.ocsp_stats = local_ocsp_stats,
	.commit_stats = local_commit_stats,
	.reload = local_reload,
	.set_ports = local_set_ports,
	.db_list = local_db_list,
	.db_get = local_db_get,
	.db_check = local_db_check,
	.close = local_close,
};
