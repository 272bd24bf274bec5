/*
 * authority-record.c - recording issuances: the group commit that puts
 * concurrent issuances in one store transaction (the local authority).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "authority-local.h"
#include "client.h"
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

/* One participant of the group commit (store-group.c). */
static int
add_issuance(struct ca_store *st, void *arg)
{
	return ca_db_add_issuance(st, arg);
}

static int
commit_issuance(struct ca_local *a, const struct ca_issuance *is)
{
	return ca_store_group_commit(a->group, add_issuance,
	    (void *)(uintptr_t)is);
}

/* Record an issuance (certificate, data, spent token) in one commit. */
int
ca_local_record_issuance(struct ca_local *a, const struct ca_provisioner *prov,
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
	is.ott_scope = ex != NULL ? ex->ott_scope : NULL;
	is.identity = ex != NULL ? ex->identity : NULL;
	is.check_unrevoked = ex != NULL ? ex->check_unrevoked : NULL;
	if (ex != NULL) {
		is.acme_account = ex->acme_account;
		is.acme_order = ex->acme_order;
		is.also = ex->also;
		is.also_arg = ex->also_arg;
	}
	return commit_issuance(a, &is);
}

int
ca_local_issue_and_record_ex(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_leaf *leaf, const char *jti, int64_t token_exp,
    time_t now, const struct ca_issuance_extra *ex, gnutls_datum_t *pem,
    char **serial_hex)
{
	gnutls_datum_t der = { NULL, 0 };
	unsigned char serial[CA_SERIAL_MAX];
	struct ca_leaf l = *leaf;
	size_t slen;
	int rc = 0, ret, attempt;

	/* The provisioner in the leaf as step-ca writes it: JWK with its
	 * key id, ACME with none; ca-serve's own certificate without, and
	 * none where the claims say disableSmallstepExtensions. */
	if (prov != NULL && prov->claims.disable_step_ext)
		l.prov_name = NULL;
	else if (l.prov_name == NULL && prov != NULL && ex != NULL &&
	    ex->step_type != 0) {
		l.prov_name = prov->name;
		l.prov_type = ex->step_type;
		l.prov_cred = ex->cred_id != NULL ? ex->cred_id : "";
	} else if (l.prov_name == NULL && prov != NULL &&
	    (l.prov_type = ca_step_prov_type(prov->type)) != 0) {
		l.prov_name = prov->name;
		l.prov_cred = l.prov_type == CA_STEP_TYPE_JWK &&
		    prov->kid != NULL ? prov->kid : "";
	}
	pem->data = NULL;
	pem->size = 0;
	*serial_hex = NULL;
	/* Never a leaf the intermediate's own name constraints forbid
	 * (ca-init --intermediate-template): relying parties would refuse
	 * it, and no token is spent for it. */
	if ((rc = ca_x509_issuer_permits(&a->issuer, l.names)) != 0)
		return rc;
	for (attempt = 0; attempt < 3; attempt++) {
		gnutls_free(der.data);
		der.data = NULL;
		free(*serial_hex);
		*serial_hex = NULL;
		pthread_mutex_lock(&a->sign_lock);
		rc = ca_x509_issue_der(&a->issuer, &l, &der, serial, &slen);
		pthread_mutex_unlock(&a->sign_lock);
		if (rc != 0)
			break;
		if ((*serial_hex = ca_hex(serial, slen)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			break;
		}
		if ((rc = ca_local_record_issuance(a, prov, *serial_hex, &der, jti,
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

int
ca_local_issue_and_record(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_leaf *leaf, const char *jti, int64_t token_exp,
    time_t now, gnutls_datum_t *pem, char **serial_hex)
{
	return ca_local_issue_and_record_ex(a, prov, leaf, jti, token_exp, now, NULL, pem,
	    serial_hex);
}
