/*
 * jwk.c - JSON Web Keys (RFC 7517/7518/8037) with RFC 7638 thumbprints:
 * import from JSON, PEM and GnuTLS keys, export, and the tables of
 * curves and signature algorithms that JWS uses too.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "json.h"
#include "jose.h"
#include "jose-internal.h"

#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	8192

static const unsigned char p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const unsigned char p384_n[48] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
	0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a,
	0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};
static const unsigned char p521_n[66] = {
	0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f,
	0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
	0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c,
	0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38,
	0x64, 0x09,
};

static const struct jose_curve curves[] = {
	{ "P-256", KTY_EC, GNUTLS_ECC_CURVE_SECP256R1, 32, "ES256", p256_n },
	{ "P-384", KTY_EC, GNUTLS_ECC_CURVE_SECP384R1, 48, "ES384", p384_n },
	{ "P-521", KTY_EC, GNUTLS_ECC_CURVE_SECP521R1, 66, "ES512", p521_n },
	{ "Ed25519", KTY_OKP, GNUTLS_ECC_CURVE_ED25519, 32, "EdDSA", NULL },
};

static const struct jose_sigalg sigalgs[] = {
	{ "ES256", KTY_EC, GNUTLS_SIGN_ECDSA_SHA256 },
	{ "ES384", KTY_EC, GNUTLS_SIGN_ECDSA_SHA384 },
	{ "ES512", KTY_EC, GNUTLS_SIGN_ECDSA_SHA512 },
	{ "EdDSA", KTY_OKP, GNUTLS_SIGN_EDDSA_ED25519 },
	{ "RS256", KTY_RSA, GNUTLS_SIGN_RSA_SHA256 },
	{ "RS384", KTY_RSA, GNUTLS_SIGN_RSA_SHA384 },
	{ "RS512", KTY_RSA, GNUTLS_SIGN_RSA_SHA512 },
	/* GnuTLS uses a salt as long as the hash, as RFC 7518 3.5 asks. */
	{ "PS256", KTY_RSA, GNUTLS_SIGN_RSA_PSS_SHA256 },
	{ "PS384", KTY_RSA, GNUTLS_SIGN_RSA_PSS_SHA384 },
	{ "PS512", KTY_RSA, GNUTLS_SIGN_RSA_PSS_SHA512 },
};

const struct jose_sigalg *
ca_jose_sigalg_find(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(sigalgs); i++)
		if (strcmp(sigalgs[i].name, name) == 0)
			return &sigalgs[i];
	return NULL;
}

const struct jose_curve *
ca_jose_curve_by_name(const char *crv, int kty)
{
	size_t i;

	for (i = 0; i < NITEMS(curves); i++)
		if (curves[i].kty == kty && strcmp(curves[i].crv, crv) == 0)
			return &curves[i];
	return NULL;
}

const struct jose_curve *
ca_jose_curve_by_id(gnutls_ecc_curve_t id)
{
	size_t i;

	for (i = 0; i < NITEMS(curves); i++)
		if (curves[i].id == id)
			return &curves[i];
	return NULL;
}

/* base64url of d left-padded with zeros to size bytes (0: as is). */
static int
b64_padded(const gnutls_datum_t *d, size_t size, char **out)
{
	unsigned char buf[EC_MAX];

	*out = NULL;
	if (size == 0)
		*out = ca_b64url_encode(d->data, d->size);
	else {
		if (d->size > size || size > sizeof(buf))
			return ca_err(CA_ERR_CRYPTO, "key value longer than "
			    "the field size");
		memset(buf, 0, size - d->size);
		memcpy(buf + size - d->size, d->data, d->size);
		*out = ca_b64url_encode(buf, size);
		gnutls_memset(buf, 0, sizeof(buf));
	}
	if (*out == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/*
 * JWK
 */

/* Decode member key of a JWK; want != 0 demands exactly that length. */
static int
jwk_bytes(struct json_object *o, const char *key, int required, size_t want,
    gnutls_datum_t *d)
{
	const char *s;
	unsigned char *buf;
	size_t len;
	char what[32];
	int rc;

	d->data = NULL;
	d->size = 0;
	if ((rc = ca_json_string(o, key, required, &s)) != 0) {
		if (rc != CA_ERR_NOTFOUND)
			ca_err_context("JWK");
		return rc;
	}
	snprintf(what, sizeof(what), "JWK \"%s\"", key);
	if ((rc = ca_jose_b64dec(what, s, strlen(s), &buf, &len)) != 0)
		return rc;
	if (len == 0 || len > UINT_MAX || (want != 0 && len != want)) {
		ca_free_secret(buf, len);
		if (want != 0)
			return ca_err(CA_ERR_INVAL, "%s: %zu bytes, the curve "
			    "needs %zu", what, len, want);
		return ca_err(CA_ERR_INVAL, "%s: bad length", what);
	}
	d->data = buf;
	d->size = (unsigned int)len;
	return 0;
}

static void
jwk_bytes_free(gnutls_datum_t *d)
{
	ca_free_secret(d->data, d->size);
	d->data = NULL;
	d->size = 0;
}

/* Pick the signature algorithm: alg if given and fitting, else default. */
static int
pick_alg(int kty, const struct jose_curve *c, const char *alg,
    const struct jose_sigalg **out)
{
	const struct jose_sigalg *sa;

	*out = NULL;
	if (alg == NULL)
		alg = kty == KTY_RSA ? "RS256" : c->alg;
	if ((sa = ca_jose_sigalg_find(alg)) == NULL || sa->kty != kty ||
	    (c != NULL && strcmp(c->alg, alg) != 0))
		return ca_err(CA_ERR_INVAL, "JWK: algorithm \"%s\" does not "
		    "fit a %s key", alg, kty == KTY_RSA ? "RSA" : c->crv);
	*out = sa;
	return 0;
}

static int
rsa_bits_ok(unsigned bits)
{
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return ca_err(CA_ERR_INVAL, "RSA key of %u bits; %d to %d "
		    "are accepted", bits, RSA_MIN_BITS, RSA_MAX_BITS);
	return 0;
}

static int
jwk_import_ec(struct ca_jwk *k, struct json_object *o)
{
	const struct jose_curve *c = k->curve;
	gnutls_datum_t x, y, d;
	int rc, grc;

	y.data = d.data = NULL;
	y.size = d.size = 0;
	if ((rc = jwk_bytes(o, "x", 1, c->size, &x)) != 0 ||
	    (k->kty == KTY_EC && (rc = jwk_bytes(o, "y", 1, c->size, &y)) != 0))
		goto out;
	if ((rc = jwk_bytes(o, "d", 0, c->size, &d)) != 0 &&
	    rc != CA_ERR_NOTFOUND)
		goto out;
	if ((grc = gnutls_pubkey_init(&k->pub)) < 0 ||
	    (grc = gnutls_pubkey_import_ecc_raw(k->pub, c->id, &x,
	    k->kty == KTY_EC ? &y : NULL)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWK: cannot import %s public key: "
		    "%s", c->crv, gnutls_strerror(grc));
		goto out;
	}
	if ((grc = gnutls_pubkey_verify_params(k->pub)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "JWK: invalid %s public key: %s",
		    c->crv, gnutls_strerror(grc));
		goto out;
	}
	rc = 0;
	if (d.data == NULL)
		goto out;
	if ((grc = gnutls_privkey_init(&k->priv)) < 0 ||
	    (grc = gnutls_privkey_import_ecc_raw(k->priv, c->id, &x,
	    k->kty == KTY_EC ? &y : NULL, &d)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWK: cannot import %s private "
		    "key: %s", c->crv, gnutls_strerror(grc));
		goto out;
	}
	if ((grc = gnutls_privkey_verify_params(k->priv)) < 0)
		rc = ca_err(CA_ERR_INVAL, "JWK: \"d\" does not match the "
		    "public key: %s", gnutls_strerror(grc));
 out:
	jwk_bytes_free(&x);
	jwk_bytes_free(&y);
	jwk_bytes_free(&d);
	return rc;
}

static int
jwk_import_rsa(struct ca_jwk *k, struct json_object *o)
{
	static const char *const names[] = { "n", "e", "d", "p", "q", "dp",
	    "dq", "qi" };
	enum { N, E, D, P, Q, DP, DQ, QI, NVALS };
	gnutls_datum_t v[NVALS];
	unsigned bits;
	size_t i;
	int rc, grc;

	memset(v, 0, sizeof(v));
	if ((rc = jwk_bytes(o, "n", 1, 0, &v[N])) != 0 ||
	    (rc = jwk_bytes(o, "e", 1, 0, &v[E])) != 0)
		goto out;
	if (v[N].data[0] == 0 || v[E].data[0] == 0 || v[E].size > 8) {
		rc = ca_err(CA_ERR_INVAL, "JWK: RSA \"n\" or \"e\" is not a "
		    "minimal positive integer");
		goto out;
	}
	for (bits = 8; bits > 0 && (v[N].data[0] >> (bits - 1)) == 0; bits--)
		;
	if ((rc = rsa_bits_ok((v[N].size - 1) * 8 + bits)) != 0)
		goto out;
	if ((grc = gnutls_pubkey_init(&k->pub)) < 0 ||
	    (grc = gnutls_pubkey_import_rsa_raw(k->pub, &v[N], &v[E])) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWK: cannot import RSA public key: "
		    "%s", gnutls_strerror(grc));
		goto out;
	}
	if ((rc = jwk_bytes(o, "d", 0, 0, &v[D])) == CA_ERR_NOTFOUND) {
		rc = 0;
		goto out;
	} else if (rc != 0)
		goto out;
	if (json_object_object_get_ex(o, "oth", NULL)) {
		rc = ca_err(CA_ERR_INVAL, "JWK: multi-prime RSA keys are not "
		    "supported");
		goto out;
	}
	/* GnuTLS needs the primes; RFC 7518 6.3.2 makes them a set. */
	for (i = P; i < NVALS; i++)
		if ((rc = jwk_bytes(o, names[i], 1, 0, &v[i])) != 0)
			goto out;
	if ((grc = gnutls_privkey_init(&k->priv)) < 0 ||
	    (grc = gnutls_privkey_import_rsa_raw(k->priv, &v[N], &v[E],
	    &v[D], &v[P], &v[Q], &v[QI], &v[DP], &v[DQ])) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWK: cannot import RSA private "
		    "key: %s", gnutls_strerror(grc));
		goto out;
	}
	if ((grc = gnutls_privkey_verify_params(k->priv)) < 0)
		rc = ca_err(CA_ERR_INVAL, "JWK: inconsistent RSA private key: "
		    "%s", gnutls_strerror(grc));
 out:
	for (i = 0; i < NVALS; i++)
		jwk_bytes_free(&v[i]);
	return rc;
}

int
ca_jwk_from_json(struct json_object *o, struct ca_jwk **out)
{
	struct ca_jwk *k;
	const char *kty, *crv, *alg, *kid;
	int rc;

	*out = NULL;
	if (!json_object_is_type(o, json_type_object))
		return ca_err(CA_ERR_INVAL, "JWK: not a JSON object");
	if ((rc = ca_json_string(o, "kty", 1, &kty)) != 0 ||
	    ((rc = ca_json_string(o, "alg", 0, &alg)) != 0 &&
	    rc != CA_ERR_NOTFOUND) ||
	    ((rc = ca_json_string(o, "kid", 0, &kid)) != 0 &&
	    rc != CA_ERR_NOTFOUND)) {
		ca_err_context("JWK");
		return rc;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (strcmp(kty, "EC") == 0)
		k->kty = KTY_EC;
	else if (strcmp(kty, "OKP") == 0)
		k->kty = KTY_OKP;
	else if (strcmp(kty, "RSA") == 0)
		k->kty = KTY_RSA;
	else {
		rc = ca_err(CA_ERR_INVAL, "JWK: unsupported key type \"%s\"",
		    kty);
		goto out;
	}
	if (k->kty != KTY_RSA) {
		if ((rc = ca_json_string(o, "crv", 1, &crv)) != 0) {
			ca_err_context("JWK");
			goto out;
		}
		if ((k->curve = ca_jose_curve_by_name(crv, k->kty)) == NULL) {
			rc = ca_err(CA_ERR_INVAL, "JWK: unsupported %s curve "
			    "\"%s\"", kty, crv);
			goto out;
		}
	}
	if ((rc = pick_alg(k->kty, k->curve, alg, &k->alg)) != 0)
		goto out;
	if (k->kty == KTY_RSA)
		rc = jwk_import_rsa(k, o);
	else
		rc = jwk_import_ec(k, o);
	if (rc != 0)
		goto out;
	if (kid != NULL && (k->kid = strdup(kid)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = k;
	k = NULL;
 out:
	ca_jwk_free(k);
	return rc;
}

int
ca_jwk_parse(const char *buf, size_t len, struct ca_jwk **out)
{
	struct json_object *o;
	int rc;

	*out = NULL;
	if (len > CA_MAX_KEY)
		return ca_err(CA_ERR_TOOBIG, "JWK: longer than %d bytes",
		    CA_MAX_KEY);
	if ((rc = ca_json_parse(buf, len, "JWK", &o)) != 0)
		return rc;
	rc = ca_jwk_from_json(o, out);
	json_object_put(o);
	return rc;
}

/*
 * The public members as base64url: x and y (EC), x (OKP), n and e (RSA).
 * *b is NULL for OKP.
 */
static int
jwk_public_b64(const struct ca_jwk *k, char **a, char **b)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	size_t size = k->kty == KTY_RSA ? 0 : k->curve->size;
	int rc, grc;

	*a = *b = NULL;
	if (k->kty == KTY_RSA)
		grc = gnutls_pubkey_export_rsa_raw2(k->pub, &x, &y,
		    GNUTLS_EXPORT_FLAG_NO_LZ);
	else
		grc = gnutls_pubkey_export_ecc_raw2(k->pub, &curve, &x,
		    k->kty == KTY_EC ? &y : NULL, GNUTLS_EXPORT_FLAG_NO_LZ);
	if (grc < 0)
		return ca_err(CA_ERR_CRYPTO, "cannot export public key: %s",
		    gnutls_strerror(grc));
	if ((rc = b64_padded(&x, size, a)) != 0 ||
	    (k->kty != KTY_OKP && (rc = b64_padded(&y, size, b)) != 0)) {
		free(*a);
		*a = NULL;
	}
	ca_jose_datum_free(&x, 0);
	ca_jose_datum_free(&y, 0);
	return rc;
}

int
ca_jwk_thumbprint(const struct ca_jwk *k, char **out)
{
	unsigned char digest[32];
	char *a, *b, *json = NULL;
	int rc, n, grc;

	*out = NULL;
	if ((rc = jwk_public_b64(k, &a, &b)) != 0)
		return rc;
	/* RFC 7638 3.2: required members only, sorted, no whitespace. */
	if (k->kty == KTY_EC)
		n = asprintf(&json, "{\"crv\":\"%s\",\"kty\":\"EC\","
		    "\"x\":\"%s\",\"y\":\"%s\"}", k->curve->crv, a, b);
	else if (k->kty == KTY_OKP)
		n = asprintf(&json, "{\"crv\":\"%s\",\"kty\":\"OKP\","
		    "\"x\":\"%s\"}", k->curve->crv, a);
	else
		n = asprintf(&json, "{\"e\":\"%s\",\"kty\":\"RSA\","
		    "\"n\":\"%s\"}", b, a);
	if (n < 0) {
		json = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((grc = gnutls_hash_fast(GNUTLS_DIG_SHA256, json, (size_t)n,
	    digest)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "SHA-256: %s", gnutls_strerror(grc));
		goto out;
	}
	if ((*out = ca_b64url_encode(digest, sizeof(digest))) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
 out:
	free(json);
	free(a);
	free(b);
	return rc;
}

/* Fill in the kind, curve, algorithm and kid of k from k->pub. */
static int
jwk_describe(struct ca_jwk *k, const char *alg)
{
	gnutls_ecc_curve_t curve;
	unsigned bits = 0;
	int grc;

	switch (gnutls_pubkey_get_pk_algorithm(k->pub, &bits)) {
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
		if ((grc = gnutls_pubkey_export_ecc_raw2(k->pub, &curve, NULL,
		    NULL, 0)) < 0)
			return ca_err(CA_ERR_CRYPTO, "cannot get the curve: %s",
			    gnutls_strerror(grc));
		if ((k->curve = ca_jose_curve_by_id(curve)) == NULL)
			return ca_err(CA_ERR_INVAL, "unsupported curve %s",
			    gnutls_ecc_curve_get_name(curve));
		k->kty = k->curve->kty;
		break;
	case GNUTLS_PK_RSA:
		if (rsa_bits_ok(bits) != 0)
			return CA_ERR_INVAL;
		k->kty = KTY_RSA;
		break;
	default:
		return ca_err(CA_ERR_INVAL, "unsupported key type %s",
		    gnutls_pk_get_name(gnutls_pubkey_get_pk_algorithm(k->pub,
		    NULL)));
	}
	if (pick_alg(k->kty, k->curve, alg, &k->alg) != 0)
		return CA_ERR_INVAL;
	return ca_jwk_thumbprint(k, &k->kid);
}

/* On success the JWK owns key; on failure the caller still does. */
int
ca_jwk_from_privkey(gnutls_privkey_t key, const char *alg,
    struct ca_jwk **out)
{
	struct ca_jwk *k;
	int rc, grc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((grc = gnutls_pubkey_init(&k->pub)) < 0 ||
	    (grc = gnutls_pubkey_import_privkey(k->pub, key, 0, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "cannot get the public key: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	if ((rc = jwk_describe(k, alg)) != 0)
		goto out;
	k->priv = key;
	*out = k;
	k = NULL;
 out:
	ca_jwk_free(k);
	return rc;
}

/* On success the JWK owns pub; on failure the caller still does. */
int
ca_jwk_from_pubkey(gnutls_pubkey_t pub, const char *alg, struct ca_jwk **out)
{
	struct ca_jwk *k;
	int rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	k->pub = pub;
	if ((rc = jwk_describe(k, alg)) != 0) {
		k->pub = NULL;
		ca_jwk_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int
ca_jwk_from_pem(const char *buf, size_t len, struct ca_jwk **out)
{
	gnutls_x509_privkey_t xkey = NULL;
	gnutls_privkey_t key = NULL;
	gnutls_datum_t d;
	gnutls_x509_crt_fmt_t fmt;
	int rc, grc;

	*out = NULL;
	if (len > CA_MAX_KEY || len > UINT_MAX)
		return ca_err(CA_ERR_TOOBIG, "private key: longer than %d "
		    "bytes", CA_MAX_KEY);
	d.data = (unsigned char *)(uintptr_t)buf;
	d.size = (unsigned int)len;
	fmt = memmem(buf, len, "-----BEGIN ", 11) != NULL ?
	    GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	if ((grc = gnutls_x509_privkey_init(&xkey)) < 0) {
		rc = ca_err(CA_ERR_NOMEM, "%s", gnutls_strerror(grc));
		goto out;
	}
	if ((grc = gnutls_x509_privkey_import2(xkey, &d, fmt, NULL, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "cannot read private key: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	if ((grc = gnutls_privkey_init(&key)) < 0 ||
	    (grc = gnutls_privkey_import_x509(key, xkey,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "cannot import private key: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	xkey = NULL;		/* owned by key now */
	if ((rc = ca_jwk_from_privkey(key, NULL, out)) == 0)
		key = NULL;
 out:
	if (key != NULL)
		gnutls_privkey_deinit(key);
	if (xkey != NULL)
		gnutls_x509_privkey_deinit(xkey);
	return rc;
}

/* Export private members into o. */
static int
jwk_private_json(const struct ca_jwk *k, struct json_object *o)
{
	static const char *const names[] = { "d", "p", "q", "dp", "dq",
	    "qi" };
	gnutls_datum_t v[8];
	gnutls_ecc_curve_t curve;
	char *s;
	size_t i;
	int rc = 0, grc;

	memset(v, 0, sizeof(v));
	if (k->kty == KTY_RSA)
		/* n, e, d, p, q, u (= qi), e1 (= dp), e2 (= dq) */
		grc = gnutls_privkey_export_rsa_raw2(k->priv, &v[6], &v[7],
		    &v[0], &v[1], &v[2], &v[5], &v[3], &v[4],
		    GNUTLS_EXPORT_FLAG_NO_LZ);
	else
		grc = gnutls_privkey_export_ecc_raw2(k->priv, &curve, NULL,
		    NULL, &v[0], GNUTLS_EXPORT_FLAG_NO_LZ);
	if (grc < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "cannot export private key: %s",
		    gnutls_strerror(grc));
		goto out;
	}
	for (i = 0; i < (k->kty == KTY_RSA ? 6U : 1U); i++) {
		if ((rc = b64_padded(&v[i], k->kty == KTY_RSA ? 0 :
		    k->curve->size, &s)) != 0)
			goto out;
		rc = ca_jose_add_str(o, names[i], s);
		ca_free_secret(s, strlen(s));
		if (rc != 0)
			goto out;
	}
 out:
	for (i = 0; i < NITEMS(v); i++)
		ca_jose_datum_free(&v[i], 1);
	return rc;
}

int
ca_jwk_to_json(const struct ca_jwk *k, int private, struct json_object **out)
{
	struct json_object *o;
	char *a = NULL, *b = NULL;
	int rc;

	*out = NULL;
	if ((o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = jwk_public_b64(k, &a, &b)) != 0)
		goto out;
	if (k->kty == KTY_RSA)
		rc = ca_jose_add_str(o, "kty", "RSA") ||
		    ca_jose_add_str(o, "n", a) ||
		    ca_jose_add_str(o, "e", b);
	else
		rc = ca_jose_add_str(o, "kty",
		    k->kty == KTY_EC ? "EC" : "OKP") ||
		    ca_jose_add_str(o, "crv", k->curve->crv) ||
		    ca_jose_add_str(o, "x", a) ||
		    (b != NULL && ca_jose_add_str(o, "y", b));
	if (rc != 0) {
		rc = CA_ERR_NOMEM;
		goto out;
	}
	/* json-c will not wipe these strings; callers dump and wipe. */
	if (private && k->priv != NULL && (rc = jwk_private_json(k, o)) != 0)
		goto out;
	if (ca_jose_add_str(o, "use", "sig") ||
	    ca_jose_add_str(o, "alg", k->alg->name) ||
	    (k->kid != NULL && ca_jose_add_str(o, "kid", k->kid))) {
		rc = CA_ERR_NOMEM;
		goto out;
	}
	*out = o;
	o = NULL;
 out:
	json_object_put(o);
	free(a);
	free(b);
	return rc;
}

int
ca_jwk_is_private(const struct ca_jwk *k)
{
	return k->priv != NULL;
}

const char *
ca_jwk_alg(const struct ca_jwk *k)
{
	return k->alg->name;
}

const char *
ca_jwk_kid(const struct ca_jwk *k)
{
	return k->kid;
}

gnutls_pubkey_t
ca_jwk_pubkey(const struct ca_jwk *k)
{
	return k->pub;
}

gnutls_privkey_t
ca_jwk_privkey(const struct ca_jwk *k)
{
	return k->priv;
}

void
ca_jwk_free(struct ca_jwk *k)
{
	if (k == NULL)
		return;
	if (k->pub != NULL)
		gnutls_pubkey_deinit(k->pub);
	if (k->priv != NULL)
		gnutls_privkey_deinit(k->priv);
	free(k->kid);
	free(k);
}
