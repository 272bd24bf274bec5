/*
 * authority-renew.c - renewal and rekey by the local authority: the proof
 * of possession (mutual TLS, or an x5c token) and the new certificate.
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
	/* The chain: ours, whatever its ca_local_validity (checked by the caller). */
	if (!ca_local_issued_here(a, *crt)) {
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

		if ((rc = ca_local_serial_of(*crt, &serial)) != 0)
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

int
ca_local_renew_proof(struct ca_local *a, const struct ca_renew_req *req,
    time_t now, gnutls_x509_crt_t *crt, char **jti, int64_t *token_exp)
{
	const char *path = req->csr != NULL ? "/1.0/rekey" : "/1.0/renew";
	int rc;

	*crt = NULL;
	*jti = NULL;
	if (req->token != NULL)
		return x5c_token(a, req, now, path, crt, jti, token_exp);
	if (req->cert_der == NULL)
		return ca_err(CA_ERR_AUTH,
		    "renewal needs the certificate (mutual TLS) or a renew token");
	if ((rc = ca_x509_import(req->cert_der, req->cert_len, crt)) != 0)
		return rc;
	if (!ca_local_issued_here(a, *crt)) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
		return ca_err(CA_ERR_AUTH,
		    "the certificate was not issued by this CA");
	}
	return 0;
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
	struct ca_certtmpl_cert *tc = NULL;
	char *serial = NULL, *jti = NULL;
	int64_t token_exp = 0;
	time_t now = time(NULL), nb, na, onb, ona;
	int rc, ret;

	memset(&names, 0, sizeof(names));
	if (a->upstream != NULL && req->token == NULL) {
		rc = ca_err(CA_ERR_AUTH, "a registration authority renews with "
		    "an x5c token (Authorization: Bearer; ca-renew --no-mtls): "
		    "mutual TLS cannot reach its upstream CA");
		goto out;
	}
	if ((rc = ca_local_renew_proof(a, req, now, &crt, &jti,
	    &token_exp)) != 0)
		goto out;
	if ((rc = ca_local_serial_of(crt, &serial)) != 0 ||
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
	/* The policy of today: one tightened since issuance refuses. */
	if ((rc = ca_policy_check_leaf(a->cfg, prov, (const char *)cn.data,
	    &names)) != 0)
		goto out;
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
	nb = now - a->cfg->backdate;
	na = nb + (ona - onb);
	if (na > a->issuer.not_after)
		na = a->issuer.not_after;
	if (a->upstream != NULL) {
		/* The client's token goes upstream as it is: the upstream
		 * lists this RA in caTools.registrationAuthorities. */
		struct ca_issuance_extra ex = { .renewed_from = serial,
		    .ott_scope = "x5c" };

		if ((rc = ca_local_relay_token_unused(a, "x5c", jti)) == 0 &&
		    (rc = ca_upstream_renew(a->upstream, req->token, req->csr,
		    req->csr_len, &res->crt_pem, &res->chain_pem)) == 0)
			rc = ca_local_relay_finish(a, prov, pub, &names, &ex, jti,
			    token_exp, now, &res->crt_pem, &res->chain_pem,
			    &res->serial);
	} else {
		struct ca_leaf leaf = { (char *)cn.data, &names, pub, nb, na,
		    a->cfg->crl_url, a->cfg->ocsp_url, 0, NULL, NULL, NULL };
		struct ca_issuance_extra ex = { .renewed_from = serial,
		    .ott_scope = jti != NULL ? "x5c" : NULL };

		/* A templated provisioner's certificate is copied, as
		 * step-ca renews: not rendered again. */
		if (prov->x509_tmpl != NULL &&
		    (rc = ca_certtmpl_cert_from_crt(crt, &tc)) == 0)
			leaf.profile = &tc->profile;
		if (rc == 0)
			rc = ca_local_issue_and_record_ex(a, prov, &leaf, jti,
			    token_exp, now, &ex, &pem, &res->serial);
	}
	if (rc == 0)
		rc = ca_local_fill_result(a, res, a->upstream != NULL ? NULL : &pem,
		    cn.data != NULL ? (char *)cn.data : "", prov->name, nb, na);
out:
	ca_certtmpl_cert_free(tc);
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

int
ca_local_renew(struct ca_authority *ah, const struct ca_renew_req *req,
    struct ca_sign_result *res)
{
	struct ca_local *a = ah->impl;
	struct ca_renew_req r = *req;
	int rc;

	memset(res, 0, sizeof(*res));
	if (a->issuer.key == NULL && a->upstream == NULL)
		return ca_err(CA_ERR_CONFIG, "this CA cannot sign (no key)");
	/* A loaded certificate: its key was checked to be the certificate's
	 * when it was loaded here, so possession is proven. */
	if (r.token == NULL && r.cert_der == NULL && r.cc != NULL) {
		r.cert_der = r.cc->der[0].data;
		r.cert_len = r.cc->der[0].size;
	}
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = renew_locked(a, &r, res);
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		ca_sign_result_free(res);
	return rc;
}
