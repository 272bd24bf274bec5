/*
 * authority-record.c - recording issuances: the group commit that puts
 * concurrent issuances in one store transaction (the local authority).
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
	is.ott_kid = ex != NULL ? ex->ott_kid : NULL;
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
