/*
 * authority-issue.c - signing: the one path from a token and a CSR to a
 * recorded certificate (the local authority).
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
#include "authz.h"
#include "certtmpl.h"
#include "client.h"
#include "conf.h"
#include "crl.h"
#include "ra.h"
#include "db.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "policy.h"
#include "store.h"
#include "token.h"
#include "x509.h"

#define SIGN_PATH	"/1.0/sign"

/* Lifetime within the provisioner's claims and the intermediate's. */
int
ca_local_validity(const struct ca_local *a, const struct ca_provisioner *p,
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
	*nb = req->not_before ? req->not_before : now - a->cfg->backdate;
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
	 * X.509 ca_local_validity includes notAfter's own second (RFC 5280 4.1.2.5):
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

int
ca_local_template_leaf(const struct ca_local *a,
    const struct ca_provisioner *prov, struct ca_certtmpl_in *in,
    struct ca_sign_req *req, struct ca_certtmpl_cert **out)
{
	struct ca_certtmpl_cert *c = NULL;
	int rc;

	*out = NULL;
	in->crl_url = a->cfg->crl_url;
	in->ocsp_url = a->cfg->ocsp_url;
	/* What it renders may not escape what was authorised nor the
	 * policy: a template adding a name or turning the leaf into a CA
	 * is refused here, before anything is signed or spent. */
	if ((rc = ca_certtmpl_render(prov->x509_tmpl, in, a->cfg->max_sans,
	    &c)) != 0 ||
	    (rc = ca_certtmpl_check_names(c, in->cn, in->names)) != 0 ||
	    (rc = ca_policy_check_leaf(a->cfg, prov, c->cn, &c->names)) != 0) {
		ca_err_context("provisioner \"%s\"", prov->name);
		ca_certtmpl_cert_free(c);
		return rc;
	}
	/* Its validity as if the client had asked for it: within the
	 * claims (ca_local_validity). */
	if (c->not_before != 0)
		req->not_before = c->not_before;
	if (c->not_after != 0)
		req->not_after = c->not_after;
	*out = c;
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
 * The rest of a result: the subject, the provisioner and the ca_local_validity;
 * for a certificate issued here (pem), it and the intermediate as well
 * (a registration authority's come from its upstream).
 */
int
ca_local_fill_result(const struct ca_local *a, struct ca_sign_result *res,
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
 * A token with a cnf claim authorises one CSR only: step-ca's
 * csrFingerprintValidator compares x5rt#S256 with the SHA-256 of the
 * CSR's DER (base64url); kid is the RFC 7638 thumbprint of its key.
 */
static int
cnf_check(const struct ca_authz *tok, int client_csr, gnutls_x509_crq_t crq)
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

/*
 * A credential that names no certificate itself (an OIDC admin, a K8sSA
 * service account): the CSR's common name and subject alternative names
 * become the leaf's, as step-ca's DefaultAdminLeafTemplate; the policy is
 * checked on them afterwards like any other. A CSR without a CN keeps the
 * verifier's default (z->cn, may be NULL). z->sans is rebuilt for an RA
 * relay.
 */
int
ca_local_csr_take_names(gnutls_x509_crq_t crq, size_t max_sans, struct ca_authz *z)
{
	const struct { char **const *v; const size_t *n; } t[] = {
		{ &z->names.dns, &z->names.n_dns },
		{ &z->names.ip, &z->names.n_ip },
		{ &z->names.email, &z->names.n_email },
		{ &z->names.uri, &z->names.n_uri },
	};
	char buf[CA_CN_MAX * 4 + 2];
	size_t size = sizeof(buf) - 1, s2 = 0, i, j, n;
	int ret, rc;

	ca_names_free(&z->names);
	for (i = 0; i < z->n_sans; i++)
		free(z->sans[i]);
	free(z->sans);
	z->sans = NULL;
	z->n_sans = 0;
	if ((rc = ca_csr_names(crq, max_sans, &z->names)) != 0)
		return rc;
	ret = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, buf, &size);
	if (ret >= 0) {
		buf[size] = '\0';
		if (strlen(buf) != size || gnutls_x509_crq_get_dn_by_oid(crq,
		    GNUTLS_OID_X520_COMMON_NAME, 1, 0, NULL, &s2) !=
		    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return ca_err(CA_ERR_INVAL, "the CSR has more than one "
			    "common name, or one with a NUL");
		if ((rc = ca_x509_cn_check(buf)) != 0) {
			ca_err_context("the CSR's common name");
			return rc;
		}
		free(z->cn);
		if ((z->cn = strdup(buf)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
	} else if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
		return ca_err(CA_ERR_INVAL, "the CSR's common name is longer "
		    "than %d characters", CA_CN_MAX);
	else if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return ca_err(CA_ERR_INVAL, "the CSR's subject: %s",
		    gnutls_strerror(ret));
	n = z->names.n_dns + z->names.n_ip + z->names.n_email +
	    z->names.n_uri;
	if (n == 0 && z->cn == NULL)
		return ca_err(CA_ERR_FORBIDDEN, "the CSR names nothing: give it "
		    "a common name or a subject alternative name");
	if (n > 0 && (z->sans = calloc(n, sizeof(*z->sans))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (j = 0; j < *t[i].n; j++)
			if ((z->sans[z->n_sans++] = strdup((*t[i].v)[j])) ==
			    NULL)
				return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static int
sign_locked(struct ca_local *a, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	const struct ca_provisioner *prov;
	struct ca_certtmpl_cert *tc = NULL;
	struct ca_sign_req r = *req;
	struct ca_authz_ctx ctx = { a->cfg, a->root_fp,
	    a->upstream == NULL ? a->issuer.crt : NULL, NULL };
	struct ca_authz z;
	struct ca_issuance_extra ex;
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	time_t now = time(NULL), nb = 0, na = 0;
	int rc, ret;

	/* 1. The credential: one verifier, chosen by its shape (lib/authz.c). */
	if ((rc = ca_authz_token(&ctx, CA_AUTHZ_SIGN, req->token,
	    req->token_len, now, &z)) != 0)
		goto out;
	prov = z.prov;

	/* 2. The CSR: signature, key, names. */
	/* An RA leaves the CSR's signature to the CA it relays to: one
	 * ECDSA verification less on its path (bench/ra.sh). */
	rc = ca_csr_import2(req->csr, req->csr_len, a->upstream == NULL, &crq);
	if (rc != 0)
		goto out;
	if (z.names_from_csr &&
	    (rc = ca_local_csr_take_names(crq, a->cfg->max_sans, &z)) != 0)
		goto out;
	if (z.csr_must_match && (rc = ca_csr_check_names(crq, z.cn, &z.names,
	    a->cfg->max_sans)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "CSR public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((z.cnf_x5rt != NULL || z.cnf_kid != NULL) &&
	    (rc = cnf_check(&z, req->csr != NULL, crq)) != 0)
		goto out;
	/* The issuance policy, before anything is signed, relayed or spent. */
	if ((rc = ca_policy_check_leaf(a->cfg, prov, z.cn, &z.names)) != 0)
		goto out;

	/* 3. The provisioner's template, if any (a registration authority
	 * has none: its CA decides). */
	if (prov->x509_tmpl != NULL && a->upstream == NULL) {
		struct ca_certtmpl_in in = { z.cn, &z.names, pub, z.payload,
		    z.payload_len, NULL, NULL, 0 };

		if ((rc = ca_local_template_leaf(a, prov, &in, &r, &tc)) != 0)
			goto out;
	}

	/* 4. Issue, and record with the used token. */
	if ((rc = ca_local_validity(a, prov, &r, now, &nb, &na)) != 0)
		goto out;
	if (z.nb_min != 0 && nb < z.nb_min)
		nb = z.nb_min;
	if (z.na_max != 0 && na > z.na_max)
		na = z.na_max;
	if (nb >= na) {
		rc = ca_err(CA_ERR_FORBIDDEN, "the credential's validity leaves "
		    "no lifetime for the certificate");
		goto out;
	}
	memset(&ex, 0, sizeof(ex));
	ex.ott_scope = z.ott_scope;
	ex.identity = z.identity;
	ex.check_unrevoked = z.check_unrevoked;
	ex.step_type = z.step_type;
	ex.cred_id = z.cred_id;
	if (a->upstream != NULL)
		rc = ca_local_relay_and_record(a, prov, crq, pub, z.cn,
		    (const char *const *)z.sans, z.n_sans, &z.names, nb, na,
		    z.ott_id, z.ott_exp, now, &ex, &res->crt_pem,
		    &res->chain_pem, &res->serial);
	else {
		struct ca_leaf leaf = { z.cn, &z.names, pub, nb, na,
		    a->cfg->crl_url, a->cfg->ocsp_url, 0, NULL, NULL, NULL };

		if (tc != NULL) {
			leaf.cn = tc->cn;
			leaf.names = &tc->names;
			leaf.profile = &tc->profile;
		}
		rc = ca_local_issue_and_record_ex(a, prov, &leaf, z.ott_id,
		    z.ott_exp, now, &ex, &pem, &res->serial);
	}
	if (rc == 0)
		rc = ca_local_fill_result(a, res, a->upstream != NULL ? NULL : &pem,
		    z.cn, prov->name, nb, na);
out:
	ca_certtmpl_cert_free(tc);
	gnutls_free(pem.data);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	ca_authz_free(&z);
	return rc;
}

int
ca_local_sign(struct ca_authority *ah, const struct ca_sign_req *req,
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
