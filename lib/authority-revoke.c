/*
 * authority-revoke.c - revocation by the local authority.
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

/* Revocation */

/* Whether crt was issued by this CA's intermediate (ca_local_validity not checked). */
int
ca_local_issued_here(const struct ca_local *a, gnutls_x509_crt_t crt)
{
	unsigned status = 1;

	return gnutls_x509_crt_verify(crt, &a->issuer.crt, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status) >= 0 &&
	    status == 0;
}

int
ca_local_serial_of(gnutls_x509_crt_t crt, char **hex)
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
	struct ca_authz_ctx ctx = { a->cfg, a->root_fp,
	    a->upstream == NULL ? a->issuer.crt : NULL, a->oidc };
	struct ca_authz z;
	int has_tok = 0;
	gnutls_x509_crt_t peer = NULL;
	struct ca_revocation rev;
	char *sub = NULL, *peer_serial = NULL;
	const char *by = req->by != NULL ? req->by : "ca-revoke";
	int rc;

	/* Who may revoke: the operator, a revoke token for this serial, or
	 * the certificate itself over mutual TLS. */
	memset(&z, 0, sizeof(z));
	if (req->token != NULL) {
		if ((rc = ca_authz_token(&ctx, CA_AUTHZ_REVOKE, req->token,
		    req->token_len, now, &z)) != 0)
			goto out;
		has_tok = 1;
		prov = z.prov;
		if (z.revoke_serial == NULL ||
		    ca_serial_canon(z.revoke_serial, &sub) != 0 ||
		    strcmp(sub, serial) != 0) {
			char esc[96];	/* the token's sub: any text */

			rc = ca_err(CA_ERR_FORBIDDEN,
			    "the token authorises revoking %s, not %s",
			    z.revoke_serial != NULL ? ca_escape(esc, sizeof(esc),
			    z.revoke_serial, 1) : "nothing", serial);
			goto out;
		}
		by = prov->name;
	} else if (req->peer_der != NULL) {
		if ((rc = ca_x509_import(req->peer_der, req->peer_len, &peer)) != 0)
			goto out;
		if (!ca_local_issued_here(a, peer)) {
			rc = ca_err(CA_ERR_AUTH,
			    "the client certificate was not issued by this CA");
			goto out;
		}
		if ((rc = ca_local_serial_of(peer, &peer_serial)) != 0)
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
				rc = !has_tok ? 0 : ca_db_token_used(a->store,
				    z.ott_scope, z.ott_id);
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
		/* An X5C token's leaf issued here: unrevoked, in the same
		 * transaction (as at issuance, lib/db.c). */
		if (has_tok && z.check_unrevoked != NULL) {
			int why;
			time_t when;

			rc = ca_db_get_revocation(a->store, z.check_unrevoked,
			    &why, &when, NULL);
			rc = rc == 0 ? ca_err(CA_ERR_AUTH, "certificate %s is "
			    "revoked", z.check_unrevoked) :
			    rc == CA_ERR_NOTFOUND ? 0 : rc;
		}
		if (rc == 0)
			rc = ca_db_add_revocation(a->store, &rev);
		if (rc == 0 && has_tok)
			rc = ca_db_use_token(a->store, z.ott_scope, z.ott_id,
			    prov->name, serial, z.ott_exp, now);
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
	ca_authz_free(&z);
	return rc;
}

int
ca_local_revoke(struct ca_authority *ah, const struct ca_revoke_req *req,
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
	if (req->token != NULL)
		ca_local_oidc_prepare(a, req->token, req->token_len);
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = revoke_locked(a, req, *serial, time(NULL));
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0) {
		free(*serial);
		*serial = NULL;
	}
	return rc;
}
