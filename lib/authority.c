/*
 * authority.c - opening the CA and signing: the one path from a token
 * and a CSR to a recorded certificate.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "conf.h"
#include "db.h"
#include "jose.h"
#include "keys.h"
#include "store.h"
#include "token.h"
#include "x509.h"

#define SIGN_PATH	"/1.0/sign"
#define BACKDATE	60

static int
pem_of(gnutls_x509_crt_t crt, gnutls_datum_t *out)
{
	return ca_x509_export(crt, GNUTLS_X509_FMT_PEM, out);
}

static int
open_common(const char *dir, struct ca_authority **out)
{
	struct ca_authority *a;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
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
	ca_authority_close(a);
	return rc;
}

int
ca_authority_open_public(const char *dir, struct ca_authority **out)
{
	return open_common(dir, out);
}

int
ca_authority_open(const char *dir, const char *password,
    struct ca_authority **out)
{
	struct ca_authority *a;
	gnutls_pubkey_t pub = NULL;
	int rc, ret;

	*out = NULL;
	if ((rc = open_common(dir, &a)) != 0)
		return rc;
	if (a->cfg->is_ra) {
		rc = ca_err(CA_ERR_CONFIG,
		    "%s is a registration authority: it holds no CA key (use --ca-url)",
		    dir);
		goto fail;
	}
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
	*out = a;
	return 0;
fail:
	gnutls_pubkey_deinit(pub);
	ca_authority_close(a);
	return rc;
}

void
ca_authority_close(struct ca_authority *a)
{
	if (a == NULL)
		return;
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
	free(a);
}

void
ca_sign_result_free(struct ca_sign_result *r)
{
	if (r == NULL)
		return;
	free(r->crt_pem);
	free(r->chain_pem);
	ca_free_secret(r->key_pem, r->key_pem_len);
	free(r->serial);
	free(r->subject);
	memset(r, 0, sizeof(*r));
}

/* Lifetime within the provisioner's claims and the intermediate's. */
static int
validity(const struct ca_authority *a, const struct ca_provisioner *p,
    const struct ca_sign_req *req, time_t now, time_t *nb, time_t *na)
{
	time_t start = req->not_before ? req->not_before : now;
	int64_t d;

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
	if (*na > a->issuer.not_after)
		*na = a->issuer.not_after;
	if (*nb >= *na)
		return ca_err(CA_ERR_FORBIDDEN,
		    "the intermediate certificate expires before notBefore");
	return 0;
}

/* Key and CSR made by the authority for the token's subject and names. */
static int
make_key_and_csr(const struct ca_authority *a, const char *sub,
    const struct ca_names *names, gnutls_datum_t *csr, char **key_pem,
    size_t *key_len)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int rc;

	*key_pem = NULL;
	*key_len = 0;
	if ((rc = ca_key_generate(a->cfg->key_type, &x)) != 0 ||
	    (rc = ca_key_export(x, NULL, &pem)) != 0)
		goto out;
	if ((rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((rc = ca_csr_make(k, sub, names, csr)) != 0)
		goto out;
	if ((*key_pem = malloc(pem.size + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*key_pem, pem.data, pem.size);
	(*key_pem)[pem.size] = '\0';
	*key_len = pem.size;
out:
	if (pem.data != NULL) {
		ca_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	gnutls_privkey_deinit(k);
	return rc;
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

int
ca_authority_sign(struct ca_authority *a, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	const struct ca_provisioner *prov;
	struct ca_token *tok = NULL;
	struct ca_names names;
	gnutls_x509_crq_t crq = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 }, pem = { NULL, 0 }, mycsr = { NULL, 0 };
	unsigned char serial[CA_SERIAL_MAX];
	size_t slen;
	struct ca_issuance is;
	time_t now = time(NULL), nb, na;
	int rc, ret, attempt;

	memset(res, 0, sizeof(*res));
	memset(&names, 0, sizeof(names));
	if (a->issuer.key == NULL)
		return ca_err(CA_ERR_CONFIG, "this CA cannot sign (no key)");

	/* 1. The token: shape, signature, claims. */
	if ((rc = ca_token_parse(req->token, req->token_len, &tok)) != 0) {
		ca_err_context("invalid token");
		rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
		goto out;
	}
	if ((rc = ca_token_verify(tok, a->cfg, SIGN_PATH, a->root_fp, now,
	    &prov)) != 0)
		goto out;
	if ((rc = ca_names_classify((const char *const *)tok->sans,
	    tok->n_sans, &names)) != 0) {
		ca_err_context("token sans");
		rc = CA_ERR_FORBIDDEN;
		goto out;
	}

	/* 2. The CSR: signature, key, names. */
	if (req->csr == NULL) {
		if ((rc = make_key_and_csr(a, tok->sub, &names, &mycsr,
		    &res->key_pem, &res->key_pem_len)) != 0)
			goto out;
		rc = ca_csr_import(mycsr.data, mycsr.size, &crq);
	} else
		rc = ca_csr_import(req->csr, req->csr_len, &crq);
	if (rc != 0)
		goto out;
	if ((rc = ca_csr_check_names(crq, tok->sub, &names)) != 0)
		goto out;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "CSR public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}

	/* 3. Issue and record; a serial collision (2^-134) takes a new one. */
	if ((rc = validity(a, prov, req, now, &nb, &na)) != 0)
		goto out;
	for (attempt = 0; attempt < 3; attempt++) {
		struct ca_leaf leaf = { tok->sub, &names, pub, nb, na };

		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		gnutls_free(der.data);
		der.data = NULL;
		free(res->serial);
		if ((rc = ca_x509_issue(&a->issuer, &leaf, &crt, serial,
		    &slen)) != 0 ||
		    (rc = ca_x509_export(crt, GNUTLS_X509_FMT_DER, &der)) != 0)
			goto out;
		if ((res->serial = ca_hex(serial, slen)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		is.serial = res->serial;
		is.der = der.data;
		is.der_len = der.size;
		is.prov = prov;
		is.jti = tok->jti;
		is.token_exp = tok->exp;
		is.issued_at = now;
		if ((rc = ca_store_begin(a->store, 1)) != 0)
			goto out;
		rc = ca_db_add_issuance(a->store, &is);
		if (rc == 0) {
			rc = ca_store_commit(a->store);
			break;
		}
		ca_store_abort(a->store);
		if (rc != CA_ERR_EXISTS)
			goto out;
	}
	if (rc != 0) {
		if (rc == CA_ERR_EXISTS)
			rc = ca_err(CA_ERR_STORE, "could not find a free serial");
		goto out;
	}
	if ((rc = pem_of(crt, &pem)) != 0)
		goto out;
	if ((res->crt_pem = dup_datum(&pem)) == NULL ||
	    (res->chain_pem = dup_datum(&a->crt_pem)) == NULL ||
	    (res->subject = strdup(tok->sub)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	res->provisioner = prov->name;
	res->not_before = nb;
	res->not_after = na;
	rc = 0;
out:
	if (rc != 0)
		ca_sign_result_free(res);
	gnutls_free(der.data);
	gnutls_free(pem.data);
	gnutls_free(mycsr.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	ca_names_free(&names);
	ca_token_free(tok);
	return rc;
}
