/*
 * client-leaf.c - a client's certificate and key: keys and CSRs
 * made for a token or a rekey, loading a certificate with its key, when
 * it is due, the x5c token that proves possession.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "client.h"
#include "client-internal.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "oidc.h"
#include "token.h"
#include "x509.h"

int
ca_client_keygen(enum ca_key_type t, const char *token, size_t toklen,
    gnutls_datum_t *csr, char **key_pem, size_t *key_len)
{
	struct ca_token *tok = NULL;
	struct ca_names names;
	char *cn = NULL;
	int rc;

	csr->data = NULL;
	csr->size = 0;
	*key_pem = NULL;
	*key_len = 0;
	memset(&names, 0, sizeof(names));
	/* An OIDC ID token (lib/oidc.h): its sub and e-mail. */
	if ((rc = ca_oidc_peek(token, toklen, &cn, &names)) != CA_ERR_NOTFOUND) {
		if (rc == 0)
			rc = ca_csr_make_new_key(t, cn, &names, csr, key_pem,
			    key_len);
		free(cn);
		ca_names_free(&names);
		return rc;
	}
	if ((rc = ca_token_parse(token, toklen, &tok)) != 0) {
		ca_err_context("invalid token");
		return rc;
	}
	/* A key made here cannot be the one a cnf claim names. */
	if (tok->has_cnf) {
		rc = ca_err(CA_ERR_FORBIDDEN, "the token's cnf binds it to a "
		    "CSR: send that CSR");
		goto out;
	}
	if ((rc = ca_names_classify((const char *const *)tok->sans,
	    tok->n_sans, &names)) != 0) {
		ca_err_context("token sans");
		goto out;
	}
	rc = ca_csr_make_new_key(t, tok->sub, &names, csr, key_pem, key_len);
out:
	ca_names_free(&names);
	ca_token_free(tok);
	return rc;
}

/* Renewal */

void
ca_client_cert_free(struct ca_client_cert *cc)
{
	unsigned i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->n; i++) {
		if (cc->chain != NULL && cc->chain[i] != NULL)
			gnutls_x509_crt_deinit(cc->chain[i]);
		if (cc->der != NULL)
			gnutls_free(cc->der[i].data);
	}
	gnutls_free(cc->chain);
	free(cc->der);
	ca_jwk_free(cc->key);
	free(cc->cn);
	free(cc->serial);
	free(cc->cert_path);
	free(cc->key_path);
	free(cc);
}

/* The SHA-256 key id of a public key into id (32 bytes). */
static int
key_id(gnutls_pubkey_t pub, unsigned char *id)
{
	size_t len = 32;
	int ret;

	if ((ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id,
	    &len)) < 0 || len != 32)
		return ca_err(CA_ERR_CRYPTO, "key id: %s",
		    gnutls_strerror(ret < 0 ? ret : GNUTLS_E_INTERNAL_ERROR));
	return 0;
}

/* Whether crt certifies pub: 0, or CA_ERR_INVAL recording msg. */
static int
crt_has_key(gnutls_x509_crt_t crt, gnutls_pubkey_t pub, const char *msg)
{
	gnutls_pubkey_t cpub = NULL;
	unsigned char a[32], b[32];
	int rc, ret;

	if ((ret = gnutls_pubkey_init(&cpub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(cpub, crt, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "certificate public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = key_id(cpub, a)) != 0 || (rc = key_id(pub, b)) != 0)
		goto out;
	if (memcmp(a, b, sizeof(a)) != 0)
		rc = ca_err(CA_ERR_INVAL, "%s", msg);
out:
	gnutls_pubkey_deinit(cpub);
	return rc;
}

/* The first CN of crt, or "". Caller frees. */
static int
crt_cn(gnutls_x509_crt_t crt, char **out)
{
	char buf[1025];
	size_t len = sizeof(buf) - 1;
	int ret;

	*out = NULL;
	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &len);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		len = 0;
	else if (ret < 0)
		return ca_err(CA_ERR_INVAL, "certificate common name: %s",
		    gnutls_strerror(ret));
	buf[len] = '\0';
	if (strlen(buf) != len)
		return ca_err(CA_ERR_INVAL, "certificate common name holds a NUL");
	if ((*out = strdup(buf)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/* The certificates of buf: a PEM list, or one DER certificate. */
static int
cert_list(struct ca_client_cert *cc, const char *buf, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)buf, (unsigned)len };
	unsigned i;
	int ret;

	if (memmem(buf, len, "-----BEGIN", 10) != NULL)
		ret = gnutls_x509_crt_list_import2(&cc->chain, &cc->n, &d,
		    GNUTLS_X509_FMT_PEM, 0);
	else if ((cc->chain = gnutls_calloc(1, sizeof(*cc->chain))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	else if ((ret = gnutls_x509_crt_init(&cc->chain[0])) >= 0) {
		cc->n = 1;
		ret = gnutls_x509_crt_import(cc->chain[0], &d,
		    GNUTLS_X509_FMT_DER);
	}
	if (ret < 0 || cc->n == 0)
		return ca_err(CA_ERR_INVAL, "%s: no certificate: %s",
		    cc->cert_path, ret < 0 ? gnutls_strerror(ret) : "empty");
	if ((cc->der = calloc(cc->n, sizeof(*cc->der))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < cc->n; i++)
		if ((ret = gnutls_x509_crt_export2(cc->chain[i],
		    GNUTLS_X509_FMT_DER, &cc->der[i])) < 0)
			return ca_err(CA_ERR_CRYPTO, "%s: %s", cc->cert_path,
			    gnutls_strerror(ret));
	return 0;
}

int
ca_client_cert_load(const char *cert_path, const char *key_path,
    struct ca_client_cert **out)
{
	struct ca_client_cert *cc;
	gnutls_privkey_t key = NULL;
	unsigned char sn[CA_SERIAL_MAX + 2];
	size_t snlen = sizeof(sn);
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((cc->cert_path = strdup(cert_path)) == NULL ||
	    (cc->key_path = strdup(key_path)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_file_read(cert_path, CA_MAX_CERT, &buf, &len)) != 0 ||
	    (rc = cert_list(cc, buf, len)) != 0)
		goto out;
	if ((rc = ca_key_load(key_path, NULL, &key)) != 0) {
		if (rc == CA_ERR_AUTH)
			rc = ca_err(CA_ERR_INVAL,
			    "%s: the key is encrypted: an unencrypted key (mode 0600) is needed",
			    key_path);
		goto out;
	}
	if ((rc = ca_jwk_from_privkey(key, NULL, &cc->key)) != 0) {
		ca_err_context("%s", key_path);
		goto out;
	}
	key = NULL;
	if ((rc = crt_has_key(cc->chain[0], ca_jwk_pubkey(cc->key), "")) != 0) {
		if (rc == CA_ERR_INVAL)
			ca_err(rc, "%s is not the key of %s", key_path,
			    cert_path);
		goto out;
	}
	if ((rc = crt_cn(cc->chain[0], &cc->cn)) != 0)
		goto out;
	if (gnutls_x509_crt_get_serial(cc->chain[0], sn, &snlen) < 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: cannot read the serial",
		    cert_path);
		goto out;
	}
	if ((cc->serial = ca_hex(sn, snlen)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	cc->not_before = gnutls_x509_crt_get_activation_time(cc->chain[0]);
	cc->not_after = gnutls_x509_crt_get_expiration_time(cc->chain[0]);
	if (cc->not_before == (time_t)-1 || cc->not_after == (time_t)-1 ||
	    cc->not_after <= cc->not_before) {
		rc = ca_err(CA_ERR_INVAL, "%s: bad validity period", cert_path);
		goto out;
	}
	*out = cc;
	cc = NULL;
	rc = 0;
out:
	if (key != NULL)
		gnutls_privkey_deinit(key);
	ca_client_cert_free(cc);
	free(buf);
	return rc;
}

int
ca_client_due_time(time_t not_before, time_t not_after, int64_t expires_in,
    int64_t *at)
{
	uint64_t r = 0;
	int64_t jitter = 0;
	int ret;

	*at = 0;
	if (expires_in < 0)
		expires_in = ((int64_t)not_after - not_before) / 3;
	if (expires_in >= 10) {
		if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r))) < 0)
			return ca_err(CA_ERR_CRYPTO, "random: %s",
			    gnutls_strerror(ret));
		jitter = (int64_t)(r % (uint64_t)(expires_in / 10 + 1));
	}
	*at = (int64_t)not_after - expires_in - jitter;
	return 0;
}

int
ca_client_due(time_t not_before, time_t not_after, int64_t expires_in,
    time_t now, int64_t *left)
{
	int64_t at;
	int rc;

	/* left < expires_in + jitter, that is now > at. */
	*left = (int64_t)not_after - (int64_t)now;
	if ((rc = ca_client_due_time(not_before, not_after, expires_in,
	    &at)) != 0)
		return rc;
	return (int64_t)now > at;
}

int
ca_client_cert_due(const struct ca_client_cert *cc, int64_t expires_in,
    time_t now, int64_t *left)
{
	return ca_client_due(cc->not_before, cc->not_after, expires_in, now,
	    left);
}

int
ca_client_cert_x5c(const struct ca_client_cert *cc, const char *aud,
    time_t now, char **token)
{
	struct ca_x5c_opts o;

	memset(&o, 0, sizeof(o));
	o.aud = aud;
	o.sub = cc->cn;
	o.chain = cc->der;
	o.n_chain = cc->n;
	o.now = now;
	return ca_token_x5c_mint(cc->key, &o, token);
}

int
ca_client_cert_rekey_csr(const struct ca_client_cert *cc,
    gnutls_datum_t *csr, char **key_pem, size_t *key_len)
{
	gnutls_pubkey_t pub = ca_jwk_pubkey(cc->key);
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	gnutls_pk_algorithm_t pk;
	struct ca_names names;
	unsigned bits = 0;
	int rc, ret;

	csr->data = NULL;
	csr->size = 0;
	*key_pem = NULL;
	*key_len = 0;
	memset(&names, 0, sizeof(names));
	/* The same kind of key: curve, or RSA modulus size. */
	switch ((pk = gnutls_pubkey_get_pk_algorithm(pub, &bits))) {
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
		if ((ret = gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL,
		    0)) < 0)
			return ca_err(CA_ERR_CRYPTO, "key curve: %s",
			    gnutls_strerror(ret));
		bits = GNUTLS_CURVE_TO_BITS(curve);
		break;
	case GNUTLS_PK_RSA:
		break;
	default:
		return ca_err(CA_ERR_INVAL, "cannot make a new %s key",
		    gnutls_pk_get_name(pk));
	}
	if ((ret = gnutls_x509_privkey_init(&x)) < 0 ||
	    (ret = gnutls_x509_privkey_generate2(x, pk, bits, 0, NULL, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "key generation: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_key_export(x, NULL, &pem)) != 0 ||
	    (rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((rc = ca_x509_names(cc->chain[0], &names)) != 0 ||
	    (rc = ca_csr_make(k, cc->cn, &names, csr)) != 0)
		goto out;
	if ((*key_pem = malloc(pem.size + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*key_pem, pem.data, pem.size);
	(*key_pem)[pem.size] = '\0';
	*key_len = pem.size;
out:
	if (rc != 0) {
		gnutls_free(csr->data);
		csr->data = NULL;
		csr->size = 0;
	}
	if (pem.data != NULL) {
		ca_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	gnutls_privkey_deinit(k);
	ca_names_free(&names);
	return rc;
}

int
ca_client_cert_check_key(const struct ca_client_cert *cc, const char *crt_pem,
    const char *key_pem, size_t key_len)
{
	gnutls_x509_crt_t crt = NULL;
	struct ca_jwk *k = NULL;
	int rc;

	if ((rc = ca_x509_import(crt_pem, strlen(crt_pem), &crt)) != 0)
		return rc;
	if (key_pem != NULL && (rc = ca_jwk_from_pem(key_pem, key_len, &k)) != 0)
		goto out;
	rc = crt_has_key(crt, ca_jwk_pubkey(k != NULL ? k : cc->key),
	    "the new certificate is not for the expected key");
out:
	ca_jwk_free(k);
	gnutls_x509_crt_deinit(crt);
	return rc;
}
