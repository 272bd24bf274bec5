/*
 * x5c.c - the X5C provisioner (DESIGN13 2.3, step-ca's
 * authority/provisioner/x5c.go): a token signed by the key of a
 * certificate whose chain, in the token's "x5c" header, verifies to the
 * provisioner's "roots". Stricter than step-ca: a leaf issued by this CA
 * must not be revoked here (checked in the issuance transaction).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "token.h"
#include "x509.h"
#include "x5c.h"

#define MAX_ROOTS_B64	(512 * 1024)	/* "roots": base64 of a PEM bundle */
#define MAX_CERT_B64	(22 * 1024)	/* one x5c entry: 16 KiB of DER */

/* The provisioner's parsed members (its impl). */
struct ca_x5c_conf {
	gnutls_x509_trust_list_t tl;	/* roots */
};

static void
conf_free(void *v)
{
	struct ca_x5c_conf *c = v;

	if (c == NULL)
		return;
	if (c->tl != NULL)
		gnutls_x509_trust_list_deinit(c->tl, 1);
	free(c);
}

/*
 * roots: base64 (Go's encoding of []byte) of one or more PEM
 * certificates, each a CA.
 */
int
ca_x5c_conf_load(struct json_object *o, struct ca_provisioner *p)
{
	struct ca_x5c_conf *c = NULL;
	gnutls_datum_t in, pem = { NULL, 0 };
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0, i;
	const char *s;
	int rc, ret;

	if ((rc = ca_json_string(o, "roots", 1, &s)) != 0)
		return rc == CA_ERR_NOMEM ? rc : CA_ERR_CONFIG;
	if (strlen(s) > MAX_ROOTS_B64)
		return ca_err(CA_ERR_CONFIG, "\"roots\" larger than %d bytes",
		    MAX_ROOTS_B64);
	in.data = (unsigned char *)(uintptr_t)s;
	in.size = (unsigned)strlen(s);
	if (in.size == 0 || gnutls_base64_decode2(&in, &pem) < 0)
		return ca_err(CA_ERR_CONFIG, "\"roots\" is not base64 (of "
		    "PEM certificates)");
	ret = gnutls_x509_crt_list_import2(&crts, &n, &pem, GNUTLS_X509_FMT_PEM,
	    0);
	if (ret < 0 || n == 0) {
		rc = ca_err(CA_ERR_CONFIG, "\"roots\" holds no PEM certificate%s%s",
		    ret < 0 ? ": " : "", ret < 0 ? gnutls_strerror(ret) : "");
		goto out;
	}
	if (n > CA_X5C_MAX_ROOTS) {
		rc = ca_err(CA_ERR_CONFIG, "\"roots\" holds more than %d "
		    "certificates", CA_X5C_MAX_ROOTS);
		goto out;
	}
	for (i = 0; i < n; i++) {
		unsigned crit, ca = 0;

		if (gnutls_x509_crt_get_basic_constraints(crts[i], &crit, &ca,
		    NULL) <= 0 || !ca) {
			rc = ca_err(CA_ERR_CONFIG, "\"roots\": certificate %u is "
			    "not a CA (basicConstraints cA)", i + 1);
			goto out;
		}
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = gnutls_x509_trust_list_init(&c->tl, 0)) < 0 ||
	    (ret = gnutls_x509_trust_list_add_cas(c->tl, crts, n, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "\"roots\": %s", gnutls_strerror(ret));
		goto out;
	}
	/* The trust list owns them now. */
	n = 0;
	p->impl = c;
	p->impl_free = conf_free;
	c = NULL;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	gnutls_free(pem.data);
	conf_free(c);
	return rc;
}

/* The x5c header: 1 to CA_X5C_MAX_CHAIN standard base64 DER certificates. */
static int
header_chain(struct json_object *hdr, gnutls_x509_crt_t *chain, unsigned *n)
{
	struct json_object *a, *e;
	size_t len, i;
	int ret;

	*n = 0;
	if (ca_json_array(hdr, "x5c", 1, &a) != 0 ||
	    (len = json_object_array_length(a)) == 0)
		return ca_err(CA_ERR_AUTH, "token header \"x5c\" is not a "
		    "non-empty array");
	if (len > CA_X5C_MAX_CHAIN)
		return ca_err(CA_ERR_AUTH, "token header \"x5c\" holds more "
		    "than %d certificates", CA_X5C_MAX_CHAIN);
	for (i = 0; i < len; i++) {
		gnutls_datum_t in, der = { NULL, 0 };
		const char *s;

		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    (s = json_object_get_string(e), strlen(s) > MAX_CERT_B64))
			return ca_err(CA_ERR_AUTH, "token header \"x5c\"[%zu] "
			    "is not a string of at most %d bytes", i,
			    MAX_CERT_B64);
		in.data = (unsigned char *)(uintptr_t)s;
		in.size = (unsigned)strlen(s);
		if (in.size == 0 || gnutls_base64_decode2(&in, &der) < 0)
			return ca_err(CA_ERR_AUTH, "token header \"x5c\"[%zu] "
			    "is not base64", i);
		if ((ret = gnutls_x509_crt_init(&chain[i])) < 0) {
			gnutls_free(der.data);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		*n = (unsigned)i + 1;
		ret = gnutls_x509_crt_import(chain[i], &der, GNUTLS_X509_FMT_DER);
		gnutls_free(der.data);
		if (ret < 0)
			return ca_err(CA_ERR_AUTH, "token header \"x5c\"[%zu]: "
			    "%s", i, gnutls_strerror(ret));
	}
	return 0;
}

/* Why the chain did not verify, in one phrase. */
static const char *
chain_reason(unsigned status)
{
	if (status & GNUTLS_CERT_EXPIRED)
		return "a certificate of the chain has expired";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "a certificate of the chain is not valid yet";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "the chain does not allow clientAuth";
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND |
	    GNUTLS_CERT_SIGNER_NOT_CA))
		return "it does not chain to the provisioner's roots";
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return "the chain uses an insecure algorithm";
	return "the chain does not verify";
}

/*
 * The chain to p's roots at now: the leaf within its validity, with
 * keyUsage digitalSignature, every certificate allowing clientAuth (Go's
 * ExtKeyUsageClientAuth: no extendedKeyUsage means any).
 */
static int
chain_check(const struct ca_provisioner *p, gnutls_x509_crt_t *chain,
    unsigned n, time_t now)
{
	const struct ca_x5c_conf *c = p->impl;
	gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID,
	    (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT, 0 };
	unsigned status = 0, ku = 0, crit;
	int ret;

	if (gnutls_x509_crt_get_expiration_time(chain[0]) < now)
		return ca_err(CA_ERR_AUTH, "the x5c certificate has expired");
	if (gnutls_x509_crt_get_activation_time(chain[0]) > now)
		return ca_err(CA_ERR_AUTH, "the x5c certificate is not valid "
		    "yet");
	if (gnutls_x509_crt_get_key_usage(chain[0], &ku, &crit) < 0 ||
	    !(ku & GNUTLS_KEY_DIGITAL_SIGNATURE))
		return ca_err(CA_ERR_AUTH, "the x5c certificate lacks keyUsage "
		    "digitalSignature");
	ret = gnutls_x509_trust_list_verify_crt2(c->tl, chain, n, &purpose, 1,
	    GNUTLS_VERIFY_DISABLE_CRL_CHECKS, &status, NULL);
	if (ret < 0)
		return ca_err(CA_ERR_AUTH, "x5c chain: %s", gnutls_strerror(ret));
	if (status != 0)
		return ca_err(CA_ERR_AUTH, "x5c chain refused by provisioner "
		    "\"%s\": %s", p->name, chain_reason(status));
	return 0;
}

/* The token's signature, by the leaf's key (algorithm from the key). */
static int
signature_check(const struct ca_jws *jws, gnutls_x509_crt_t leaf)
{
	gnutls_pubkey_t pub = NULL;
	struct ca_jwk *k = NULL;
	int rc, ret;

	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, leaf, 0)) < 0) {
		gnutls_pubkey_deinit(pub);
		return ca_err(CA_ERR_AUTH, "x5c certificate key: %s",
		    gnutls_strerror(ret));
	}
	/* It takes pub, but only on success. */
	if ((rc = ca_jwk_from_pubkey(pub, NULL, &k)) != 0) {
		gnutls_pubkey_deinit(pub);
		return rc == CA_ERR_NOMEM ? rc : ca_err(CA_ERR_AUTH,
		    "x5c certificate key: %s", ca_errmsg());
	}
	rc = ca_jws_verify(jws, k) != 0 ? ca_err(CA_ERR_AUTH, "token "
	    "signature does not verify with the x5c certificate's key") : 0;
	ca_jwk_free(k);
	return rc;
}

/* iss, aud (with "#x5c/NAME" or none), nbf/iat/exp, sha, as JWK tokens. */
static int
claims_check(const struct ca_authz_ctx *x, const struct ca_token *t,
    const struct ca_provisioner *p, enum ca_authz_op op, time_t now)
{
	const char *path = op == CA_AUTHZ_REVOKE ? "/1.0/revoke" : "/1.0/sign";
	const char *frag;
	size_t i;
	int ok = 0;

	for (i = 0; i < t->n_aud && !ok; i++)
		ok = ca_config_audience_ok2(x->cfg, path, t->aud[i], &frag) &&
		    (frag == NULL || (strncmp(frag, "x5c/", 4) == 0 &&
		    strcmp(frag + 4, p->name) == 0));
	if (!ok)
		return ca_err(CA_ERR_AUTH, "token audience \"%.200s\" is not this "
		    "CA's %s endpoint for X5C provisioner \"%s\"",
		    t->n_aud ? t->aud[0] : "", path, p->name);
	if (t->exp + CA_TOKEN_LEEWAY < now)
		return ca_err(CA_ERR_AUTH, "token expired %lld s ago",
		    (long long)(now - t->exp));
	if (t->has_nbf && t->nbf - CA_TOKEN_LEEWAY > now)
		return ca_err(CA_ERR_AUTH, "token not valid before %lld s from "
		    "now", (long long)(t->nbf - now));
	if (!t->has_iat)
		return ca_err(CA_ERR_AUTH, "token has no \"iat\"");
	if (t->iat - CA_TOKEN_LEEWAY > now)
		return ca_err(CA_ERR_AUTH, "token issued in the future");
	if (t->exp - t->iat > CA_TOKEN_MAX_LIFETIME)
		return ca_err(CA_ERR_AUTH, "token lifetime %lld s exceeds %d s",
		    (long long)(t->exp - t->iat), CA_TOKEN_MAX_LIFETIME);
	if (t->sha != NULL && x->root_fp != NULL &&
	    strcasecmp(t->sha, x->root_fp) != 0)
		return ca_err(CA_ERR_AUTH, "token is for another CA (root "
		    "fingerprint %.64s)", t->sha);
	return 0;
}

/* Who: the leaf's subject (RFC 4514), or "serial:HEX" when it has none. */
static int
leaf_identity(gnutls_x509_crt_t leaf, char **out)
{
	gnutls_datum_t dn = { NULL, 0 };
	unsigned char sn[CA_SERIAL_MAX + 2];
	size_t snlen = sizeof(sn);
	char *hex;
	int rc;

	*out = NULL;
	if (gnutls_x509_crt_get_dn3(leaf, &dn, 0) >= 0 && dn.size > 0) {
		rc = ca_authz_dup((const char *)dn.data, out);
		gnutls_free(dn.data);
		return rc;
	}
	gnutls_free(dn.data);
	if (gnutls_x509_crt_get_serial(leaf, sn, &snlen) < 0 ||
	    (hex = ca_hex(sn, snlen)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (asprintf(out, "serial:%s", hex) < 0) {
		*out = NULL;
		free(hex);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	free(hex);
	return 0;
}

/*
 * A leaf this CA issued (signed by x->issuer): its serial as the store
 * keys it, to be found unrevoked in the issuance transaction.
 */
static int
issued_here(const struct ca_authz_ctx *x, gnutls_x509_crt_t leaf,
    char **serial)
{
	unsigned char sn[CA_SERIAL_MAX + 2];
	size_t snlen = sizeof(sn);
	unsigned status = 0;

	*serial = NULL;
	if (x->issuer == NULL || !gnutls_x509_crt_check_issuer(leaf, x->issuer))
		return 0;
	if (gnutls_x509_crt_verify(leaf, &x->issuer, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status) < 0 || status != 0)
		return 0;
	if (gnutls_x509_crt_get_serial(leaf, sn, &snlen) < 0)
		return ca_err(CA_ERR_AUTH, "x5c certificate: no serial");
	if ((*serial = ca_hex(sn, snlen)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_authz_x5c(const struct ca_authz_ctx *x, const struct ca_jws *jws,
    struct json_object *claims, const char *tok, size_t len,
    enum ca_authz_op op, time_t now, struct ca_authz *out)
{
	const struct ca_provisioner *p;
	gnutls_x509_crt_t chain[CA_X5C_MAX_CHAIN];
	struct ca_token *t = NULL;
	unsigned n = 0, i;
	int rc;

	(void)claims;
	/* The claims as lib/token.c reads a JWK token's (types, cnf, sans). */
	if ((rc = ca_token_parse(tok, len, &t)) != 0) {
		ca_err_context("invalid X5C token");
		return rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
	}
	/* Only an X5C provisioner, by the token's iss. */
	if (ca_config_provisioner_of(x->cfg, CA_PROV_X5C, t->iss, &p) != 0 ||
	    p->impl == NULL) {
		rc = ca_err(CA_ERR_AUTH, "no X5C provisioner accepts this "
		    "token (iss \"%.128s\")", t->iss);
		goto out;
	}
	if ((rc = header_chain(jws->header, chain, &n)) != 0 ||
	    (rc = chain_check(p, chain, n, now)) != 0 ||
	    (rc = signature_check(jws, chain[0])) != 0 ||
	    (rc = claims_check(x, t, p, op, now)) != 0)
		goto out;
	out->prov = p;
	out->step_type = CA_STEP_TYPE_X5C;
	out->cred_id = "";
	out->ott_exp = t->exp;
	if (asprintf(&out->ott_scope, "x5c/%s", p->name) < 0) {
		out->ott_scope = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_authz_dup(t->jti, &out->ott_id)) != 0 ||
	    (rc = leaf_identity(chain[0], &out->identity)) != 0)
		goto out;
	/* A leaf issued here must be unrevoked, to sign and to revoke. */
	if ((rc = issued_here(x, chain[0], &out->check_unrevoked)) != 0)
		goto out;
	if (op == CA_AUTHZ_REVOKE) {
		rc = ca_authz_dup(t->sub, &out->revoke_serial);
		goto out;
	}
	if ((rc = ca_authz_token_names(out, t)) != 0)
		goto out;
	/* The certificate lives within the x5c leaf's validity. */
	out->nb_min = gnutls_x509_crt_get_activation_time(chain[0]);
	out->na_max = gnutls_x509_crt_get_expiration_time(chain[0]);
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	ca_token_free(t);
	return rc;
}

/* Whether key is the private key of the certificate in der. */
static int
key_matches(const struct ca_jwk *key, const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	struct ca_jwk *k = NULL;
	char *t1 = NULL, *t2 = NULL;
	int rc;

	if ((rc = ca_x509_import(der->data, der->size, &crt)) != 0)
		return rc;
	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0) {
		gnutls_pubkey_deinit(pub);
		rc = ca_err(CA_ERR_INVAL, "the x5c certificate's key cannot "
		    "be read");
	} else if ((rc = ca_jwk_from_pubkey(pub, NULL, &k)) != 0)
		gnutls_pubkey_deinit(pub);	/* taken only on success */
	else if ((rc = ca_jwk_thumbprint(k, &t1)) == 0 &&
	    (rc = ca_jwk_thumbprint(key, &t2)) == 0 && strcmp(t1, t2) != 0)
		rc = ca_err(CA_ERR_INVAL, "--x5c-key is not the key of "
		    "--x5c-cert's certificate");
	gnutls_x509_crt_deinit(crt);
	ca_jwk_free(k);
	free(t1);
	free(t2);
	return rc;
}

int
ca_x5c_token_mint(const struct ca_jwk *key, const struct ca_x5c_token_opts *o,
    char **out)
{
	struct ca_token_opts t;
	char *aud = NULL;
	int rc;

	*out = NULL;
	if (o->n_chain == 0 || o->n_chain > CA_X5C_MAX_CHAIN)
		return ca_err(CA_ERR_INVAL, "an x5c token carries 1 to %d "
		    "certificates", CA_X5C_MAX_CHAIN);
	if ((rc = key_matches(key, &o->chain[0])) != 0)
		return rc;
	if (asprintf(&aud, "%s#x5c/%s", o->aud, o->prov) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memset(&t, 0, sizeof(t));
	t.iss = o->prov;
	t.sub = o->sub;
	t.aud = aud;
	t.sans = o->sans;
	t.n_sans = o->n_sans;
	t.no_sans = o->no_sans;
	t.sha = o->sha;
	t.now = o->now;
	t.not_before = o->not_before;
	t.lifetime = o->lifetime;
	t.x5c = o->chain;
	t.n_x5c = o->n_chain;
	rc = ca_token_mint(key, &t, out);
	free(aud);
	return rc;
}

int
ca_x5c_chain_read(const char *path, gnutls_datum_t **chain, size_t *n)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_datum_t in, *grown;
	unsigned m = 0, i;
	char *buf = NULL;
	size_t len = 0;
	int rc, ret;

	if ((rc = ca_file_read(path, CA_X5C_MAX_CHAIN * CA_MAX_CERT, &buf,
	    &len)) != 0)
		return rc;
	in.data = (unsigned char *)buf;
	in.size = (unsigned)len;
	ret = gnutls_x509_crt_list_import2(&crts, &m, &in, GNUTLS_X509_FMT_PEM,
	    0);
	if (ret < 0 || m == 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: no PEM certificate%s%s", path,
		    ret < 0 ? ": " : "", ret < 0 ? gnutls_strerror(ret) : "");
		goto out;
	}
	if (*n + m > CA_X5C_MAX_CHAIN) {
		rc = ca_err(CA_ERR_INVAL, "%s: an x5c chain holds at most %d "
		    "certificates", path, CA_X5C_MAX_CHAIN);
		goto out;
	}
	if ((grown = realloc(*chain, (*n + m) * sizeof(**chain))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	*chain = grown;
	for (i = 0; i < m; i++) {
		if ((ret = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER,
		    &(*chain)[*n])) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "%s: %s", path,
			    gnutls_strerror(ret));
			goto out;
		}
		(*n)++;
	}
	rc = 0;
out:
	for (i = 0; i < m; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	free(buf);
	return rc;
}
