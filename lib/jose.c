/*
 * jose.c - base64url, JWK (RFC 7517/7518/8037) with RFC 7638 thumbprints,
 * compact JWS and password-based compact JWE (PBES2, RFC 7518 4.8), on
 * GnuTLS.
 *
 * The signature algorithm always comes from the key, never from a token:
 * a header "alg" that differs from the key's is refused. ECDSA signatures
 * travel as fixed-size R || S and are range-checked before GnuTLS sees
 * them. GnuTLS 3.7 has no AES-ECB, so the RFC 3394 key wrap runs one
 * block at a time through AES-CBC with the IV reset to zero.
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

#define JOSE_MAX_HEADER	4096		/* decoded protected header */
#define JWE_MAX		(256 * 1024)	/* compact JWE */
#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	8192
#define P2C_MIN		1000
#define P2C_MAX		10000000
#define P2S_MIN		8
#define P2S_LEN		16		/* salt input we generate */
#define EC_MAX		66		/* P-521 field size */

enum { KTY_EC = 1, KTY_OKP, KTY_RSA };

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

struct curve {
	const char		*crv;
	int			 kty;
	gnutls_ecc_curve_t	 id;
	size_t			 size;		/* bytes of x, y, d, r, s */
	const char		*alg;
	const unsigned char	*order;		/* ECDSA group order n */
};

static const struct curve curves[] = {
	{ "P-256", KTY_EC, GNUTLS_ECC_CURVE_SECP256R1, 32, "ES256", p256_n },
	{ "P-384", KTY_EC, GNUTLS_ECC_CURVE_SECP384R1, 48, "ES384", p384_n },
	{ "P-521", KTY_EC, GNUTLS_ECC_CURVE_SECP521R1, 66, "ES512", p521_n },
	{ "Ed25519", KTY_OKP, GNUTLS_ECC_CURVE_ED25519, 32, "EdDSA", NULL },
};

struct sigalg {
	const char		*name;
	int			 kty;
	gnutls_sign_algorithm_t	 sign;
};

static const struct sigalg sigalgs[] = {
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

struct pbes2 {
	const char		*name;
	gnutls_mac_algorithm_t	 mac;
	size_t			 kek_len;
};

static const struct pbes2 pbes2_algs[] = {
	{ "PBES2-HS256+A128KW", GNUTLS_MAC_SHA256, 16 },
	{ "PBES2-HS384+A192KW", GNUTLS_MAC_SHA384, 24 },
	{ "PBES2-HS512+A256KW", GNUTLS_MAC_SHA512, 32 },
};

struct jwe_enc {
	const char			*name;
	int				 gcm;
	size_t				 cek_len;
	gnutls_cipher_algorithm_t	 cipher;
	gnutls_mac_algorithm_t		 mac;	/* CBC-HS only */
	size_t				 iv_len;
	size_t				 tag_len;
};

static const struct jwe_enc jwe_encs[] = {
	{ "A128GCM", 1, 16, GNUTLS_CIPHER_AES_128_GCM, GNUTLS_MAC_UNKNOWN,
	  12, 16 },
	{ "A192GCM", 1, 24, GNUTLS_CIPHER_AES_192_GCM, GNUTLS_MAC_UNKNOWN,
	  12, 16 },
	{ "A256GCM", 1, 32, GNUTLS_CIPHER_AES_256_GCM, GNUTLS_MAC_UNKNOWN,
	  12, 16 },
	{ "A128CBC-HS256", 0, 32, GNUTLS_CIPHER_AES_128_CBC, GNUTLS_MAC_SHA256,
	  16, 16 },
	{ "A192CBC-HS384", 0, 48, GNUTLS_CIPHER_AES_192_CBC, GNUTLS_MAC_SHA384,
	  16, 24 },
	{ "A256CBC-HS512", 0, 64, GNUTLS_CIPHER_AES_256_CBC, GNUTLS_MAC_SHA512,
	  16, 32 },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct ca_jwk {
	int			 kty;
	const struct curve	*curve;		/* EC and OKP */
	const struct sigalg	*alg;
	gnutls_pubkey_t		 pub;
	gnutls_privkey_t	 priv;		/* NULL for a public key */
	char			*kid;
};

/* A piece of a compact serialization, decoded. */
struct part {
	const char	*s;		/* as received */
	size_t		 len;
	unsigned char	*d;		/* decoded, malloc'd */
	size_t		 dlen;
};

static const struct sigalg *
sigalg_find(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(sigalgs); i++)
		if (strcmp(sigalgs[i].name, name) == 0)
			return &sigalgs[i];
	return NULL;
}

static const struct curve *
curve_by_name(const char *crv, int kty)
{
	size_t i;

	for (i = 0; i < NITEMS(curves); i++)
		if (curves[i].kty == kty && strcmp(curves[i].crv, crv) == 0)
			return &curves[i];
	return NULL;
}

static const struct curve *
curve_by_id(gnutls_ecc_curve_t id)
{
	size_t i;

	for (i = 0; i < NITEMS(curves); i++)
		if (curves[i].id == id)
			return &curves[i];
	return NULL;
}

static void
datum_free(gnutls_datum_t *d, int secret)
{
	if (d->data != NULL) {
		if (secret)
			gnutls_memset(d->data, 0, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/*
 * base64url
 */

/*
 * Both directions use arithmetic instead of a table, so that encoding and
 * decoding private keys does not index memory by secret data.
 * (x >> 8) of an int in [-255, 255] is -1 when x is negative, else 0.
 */
static char
b64url_chr(unsigned int uv)
{
	int v = (int)(uv & 63), c = 'A' + v;

	c += ((25 - v) >> 8) & ('a' - 'A' - 26);
	c += ((51 - v) >> 8) & ('0' - 'a' - 26);
	c += ((61 - v) >> 8) & ('-' - '0' - 10);
	c += ((62 - v) >> 8) & ('_' - '-' - 1);
	return (char)c;
}

char *
ca_b64url_encode(const void *p, size_t len)
{
	const unsigned char *in = p;
	char *out, *o;
	size_t i;

	if (len > (SIZE_MAX - 5) / 4 * 3)
		return NULL;
	if ((out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i + 2 < len; i += 3) {
		*o++ = b64url_chr(in[i] >> 2);
		*o++ = b64url_chr((in[i] & 3U) << 4 | in[i + 1] >> 4);
		*o++ = b64url_chr((in[i + 1] & 15U) << 2 | in[i + 2] >> 6);
		*o++ = b64url_chr(in[i + 2]);
	}
	if (len - i == 1) {
		*o++ = b64url_chr(in[i] >> 2);
		*o++ = b64url_chr((in[i] & 3U) << 4);
	} else if (len - i == 2) {
		*o++ = b64url_chr(in[i] >> 2);
		*o++ = b64url_chr((in[i] & 3U) << 4 | in[i + 1] >> 4);
		*o++ = b64url_chr((in[i + 1] & 15U) << 2);
	}
	*o = '\0';
	return out;
}

/* The value of one base64url character, or -1. */
static int
b64url_val(unsigned char uc)
{
	int c = uc, v = -1;

	v += ((('A' - 1 - c) & (c - 'Z' - 1)) >> 8) & (c - 'A' + 1);
	v += ((('a' - 1 - c) & (c - 'z' - 1)) >> 8) & (c - 'a' + 27);
	v += ((('0' - 1 - c) & (c - '9' - 1)) >> 8) & (c - '0' + 53);
	v += ((('-' - 1 - c) & (c - '-' - 1)) >> 8) & 63;
	v += ((('_' - 1 - c) & (c - '_' - 1)) >> 8) & 64;
	return v;
}

static int
b64dec(const char *what, const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char *buf;
	unsigned int acc = 0, bits = 0;
	size_t i, j = 0;
	int v, rc;

	*out = NULL;
	*outlen = 0;
	if (len % 4 == 1)
		return ca_err(CA_ERR_INVAL, "%s: invalid base64url length",
		    what);
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		if ((v = b64url_val((unsigned char)s[i])) < 0) {
			rc = ca_err(CA_ERR_INVAL, "%s: invalid base64url "
			    "character at offset %zu", what, i);
			goto fail;
		}
		acc = (acc << 6 | (unsigned int)v) & 0xfff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[j++] = (unsigned char)(acc >> bits);
		}
	}
	/* The unused low bits of the last character must be zero. */
	if ((acc & ((1U << bits) - 1)) != 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: non-zero trailing bits in "
		    "base64url", what);
		goto fail;
	}
	buf[j] = '\0';
	*out = buf;
	*outlen = j;
	return 0;
 fail:
	ca_free_secret(buf, len / 4 * 3 + 3);
	return rc;
}

int
ca_b64url_decode(const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	return b64dec("base64url", s, len, out, outlen);
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
 * Split a compact serialization into exactly n dot-separated parts and
 * decode them; names[i] is used in error messages.
 */
static int
split_compact(const char *s, size_t len, struct part *parts, size_t n,
    const char *const *names)
{
	const char *p = s, *end = s + len, *dot;
	size_t i;
	int rc;

	memset(parts, 0, n * sizeof(*parts));
	for (i = 0; i < n; i++) {
		dot = memchr(p, '.', (size_t)(end - p));
		if ((i + 1 < n) != (dot != NULL))
			return ca_err(CA_ERR_INVAL, "%s: not %zu "
			    "dot-separated parts", names[n], n);
		parts[i].s = p;
		parts[i].len = (size_t)((dot != NULL ? dot : end) - p);
		if (dot != NULL)
			p = dot + 1;
	}
	for (i = 0; i < n; i++)
		if ((rc = b64dec(names[i], parts[i].s, parts[i].len,
		    &parts[i].d, &parts[i].dlen)) != 0)
			return rc;
	return 0;
}

static void
parts_free(struct part *parts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ca_free_secret(parts[i].d, parts[i].dlen);
		parts[i].d = NULL;
	}
}

/* Decode and strict-parse a protected header; it must be an object. */
static int
parse_header(const struct part *h, const char *what, struct json_object **out)
{
	int rc;

	*out = NULL;
	if (h->dlen > JOSE_MAX_HEADER)
		return ca_err(CA_ERR_TOOBIG, "%s: longer than %d bytes", what,
		    JOSE_MAX_HEADER);
	if ((rc = ca_json_parse((const char *)h->d, h->dlen, what, out)) != 0)
		return rc;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return ca_err(CA_ERR_INVAL, "%s: not a JSON object", what);
	}
	/* Extensions we do not implement must not be silently ignored. */
	if (json_object_object_get_ex(*out, "crit", NULL)) {
		json_object_put(*out);
		*out = NULL;
		return ca_err(CA_ERR_INVAL, "%s: critical header parameters "
		    "are not supported", what);
	}
	return 0;
}

/* Add member key to o; v (possibly NULL after a failed allocation) is
 * consumed either way. */
static int
add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int
add_str(struct json_object *o, const char *key, const char *val)
{
	return add(o, key, json_object_new_string(val));
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
	if ((rc = b64dec(what, s, strlen(s), &buf, &len)) != 0)
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
pick_alg(int kty, const struct curve *c, const char *alg,
    const struct sigalg **out)
{
	const struct sigalg *sa;

	*out = NULL;
	if (alg == NULL)
		alg = kty == KTY_RSA ? "RS256" : c->alg;
	if ((sa = sigalg_find(alg)) == NULL || sa->kty != kty ||
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
	const struct curve *c = k->curve;
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
		if ((k->curve = curve_by_name(crv, k->kty)) == NULL) {
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
	datum_free(&x, 0);
	datum_free(&y, 0);
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
		if ((k->curve = curve_by_id(curve)) == NULL)
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
		rc = add_str(o, names[i], s);
		ca_free_secret(s, strlen(s));
		if (rc != 0)
			goto out;
	}
 out:
	for (i = 0; i < NITEMS(v); i++)
		datum_free(&v[i], 1);
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
		rc = add_str(o, "kty", "RSA") || add_str(o, "n", a) ||
		    add_str(o, "e", b);
	else
		rc = add_str(o, "kty", k->kty == KTY_EC ? "EC" : "OKP") ||
		    add_str(o, "crv", k->curve->crv) || add_str(o, "x", a) ||
		    (b != NULL && add_str(o, "y", b));
	if (rc != 0) {
		rc = CA_ERR_NOMEM;
		goto out;
	}
	/* json-c will not wipe these strings; callers dump and wipe. */
	if (private && k->priv != NULL && (rc = jwk_private_json(k, o)) != 0)
		goto out;
	if (add_str(o, "use", "sig") || add_str(o, "alg", k->alg->name) ||
	    (k->kid != NULL && add_str(o, "kid", k->kid))) {
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

/*
 * JWS
 */

/* DER ECDSA-Sig-Value to R || S, each left-padded to size bytes. */
static int
ecdsa_der_to_raw(const gnutls_datum_t *der, size_t size, unsigned char *raw)
{
	gnutls_datum_t rs[2] = { { NULL, 0 }, { NULL, 0 } };
	const unsigned char *p;
	size_t i, n;
	int rc = 0, grc;

	if ((grc = gnutls_decode_rs_value(der, &rs[0], &rs[1])) < 0)
		return ca_err(CA_ERR_CRYPTO, "cannot decode ECDSA signature: "
		    "%s", gnutls_strerror(grc));
	for (i = 0; i < 2; i++) {
		p = rs[i].data;
		n = rs[i].size;
		while (n > 0 && *p == 0) {
			p++;
			n--;
		}
		if (n > size) {
			rc = ca_err(CA_ERR_CRYPTO, "ECDSA signature value "
			    "longer than the curve size");
			break;
		}
		memset(raw + i * size, 0, size - n);
		memcpy(raw + i * size + size - n, p, n);
	}
	datum_free(&rs[0], 0);
	datum_free(&rs[1], 0);
	return rc;
}

/*
 * R || S to DER, refusing a wrong length and r or s outside [1, n-1]
 * (CVE-2022-21449 accepted r = s = 0).
 */
static int
ecdsa_raw_to_der(const unsigned char *sig, size_t len, const struct curve *c,
    gnutls_datum_t *der)
{
	static const unsigned char zero[EC_MAX];
	gnutls_datum_t rs[2];
	const unsigned char *p;
	size_t i, n;
	int grc;

	der->data = NULL;
	der->size = 0;
	if (len != 2 * c->size)
		return ca_err(CA_ERR_AUTH, "ECDSA signature of %zu bytes, "
		    "%s needs %zu", len, c->alg, 2 * c->size);
	for (i = 0; i < 2; i++) {
		p = sig + i * c->size;
		if (memcmp(p, zero, c->size) == 0 ||
		    memcmp(p, c->order, c->size) >= 0)
			return ca_err(CA_ERR_AUTH, "ECDSA signature: %s out of "
			    "range", i == 0 ? "r" : "s");
		for (n = c->size; *p == 0; p++, n--)
			;
		rs[i].data = (unsigned char *)(uintptr_t)p;
		rs[i].size = (unsigned int)n;
	}
	if ((grc = gnutls_encode_rs_value(der, &rs[0], &rs[1])) < 0)
		return ca_err(CA_ERR_CRYPTO, "cannot encode ECDSA signature: "
		    "%s", gnutls_strerror(grc));
	return 0;
}

int
ca_jws_sign(const struct ca_jwk *key, struct json_object *header,
    const void *payload, size_t plen, char **out)
{
	struct json_object *own = NULL;
	gnutls_datum_t data, sig = { NULL, 0 };
	unsigned char raw[2 * EC_MAX];
	char *hjson = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL;
	char *input = NULL;
	int rc, grc, n = 0;

	*out = NULL;
	if (key->priv == NULL)
		return ca_err(CA_ERR_INVAL, "JWS: signing needs a private key");
	if (header == NULL && (header = own = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = add_str(header, "alg", key->alg->name)) != 0)
		goto out;
	if ((hjson = ca_json_dump(header)) == NULL ||
	    (h64 = ca_b64url_encode(hjson, strlen(hjson))) == NULL ||
	    (p64 = ca_b64url_encode(payload, plen)) == NULL ||
	    (n = asprintf(&input, "%s.%s", h64, p64)) < 0) {
		input = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	data.data = (unsigned char *)input;
	data.size = (unsigned int)n;
	if ((grc = gnutls_privkey_sign_data2(key->priv, key->alg->sign, 0,
	    &data, &sig)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWS: %s signing failed: %s",
		    key->alg->name, gnutls_strerror(grc));
		goto out;
	}
	if (key->kty == KTY_EC) {
		if ((rc = ecdsa_der_to_raw(&sig, key->curve->size, raw)) != 0)
			goto out;
		s64 = ca_b64url_encode(raw, 2 * key->curve->size);
	} else
		s64 = ca_b64url_encode(sig.data, sig.size);
	if (s64 == NULL || asprintf(out, "%s.%s", input, s64) < 0) {
		*out = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
 out:
	datum_free(&sig, 0);
	json_object_put(own);
	free(hjson);
	free(h64);
	free(p64);
	free(s64);
	free(input);
	return rc;
}

int
ca_jws_parse(const char *compact, size_t len, struct ca_jws **out)
{
	static const char *const names[] = { "JWS header", "JWS payload",
	    "JWS signature", "JWS" };
	struct part parts[3];
	struct ca_jws *jws = NULL;
	const char *alg;
	int rc;

	*out = NULL;
	if (len > CA_MAX_TOKEN)
		return ca_err(CA_ERR_TOOBIG, "JWS: longer than %d bytes",
		    CA_MAX_TOKEN);
	if ((rc = split_compact(compact, len, parts, 3, names)) != 0)
		goto out;
	if (parts[0].len == 0 || parts[2].len == 0) {
		rc = ca_err(CA_ERR_INVAL, "JWS: empty header or signature");
		goto out;
	}
	if ((jws = calloc(1, sizeof(*jws))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = parse_header(&parts[0], names[0], &jws->header)) != 0)
		goto out;
	if ((rc = ca_json_string(jws->header, "alg", 1, &alg)) != 0) {
		ca_err_context("%s", names[0]);
		goto out;
	}
	if (strcmp(alg, "none") == 0) {
		rc = ca_err(CA_ERR_AUTH, "JWS: unsigned token (alg \"none\") "
		    "refused");
		goto out;
	}
	if (sigalg_find(alg) == NULL) {
		rc = ca_err(CA_ERR_AUTH, "JWS: unsupported algorithm \"%s\"",
		    alg);
		goto out;
	}
	jws->signing_input_len = parts[0].len + 1 + parts[1].len;
	if ((jws->signing_input = strndup(compact,
	    jws->signing_input_len)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	jws->payload = parts[1].d;
	jws->payload_len = parts[1].dlen;
	jws->sig = parts[2].d;
	jws->sig_len = parts[2].dlen;
	parts[1].d = parts[2].d = NULL;
	*out = jws;
	jws = NULL;
 out:
	parts_free(parts, 3);
	ca_jws_free(jws);
	return rc;
}

int
ca_jws_verify(const struct ca_jws *jws, const struct ca_jwk *key)
{
	gnutls_datum_t data, sig, der = { NULL, 0 };
	const char *alg;
	unsigned bits = 0;
	int rc, grc;

	/* ca_jws_parse made sure "alg" is a string. */
	if (ca_json_string(jws->header, "alg", 0, &alg) != 0 ||
	    strcmp(alg, key->alg->name) != 0)
		return ca_err(CA_ERR_AUTH, "JWS: algorithm \"%s\" is not the "
		    "key's (%s)", alg != NULL ? alg : "", key->alg->name);
	sig.data = jws->sig;
	sig.size = (unsigned int)jws->sig_len;
	switch (key->kty) {
	case KTY_EC:
		if ((rc = ecdsa_raw_to_der(jws->sig, jws->sig_len, key->curve,
		    &der)) != 0)
			return rc;
		sig = der;
		break;
	case KTY_OKP:
		if (jws->sig_len != 64)
			return ca_err(CA_ERR_AUTH, "JWS: EdDSA signature of "
			    "%zu bytes", jws->sig_len);
		break;
	default:
		(void)gnutls_pubkey_get_pk_algorithm(key->pub, &bits);
		if (jws->sig_len != (bits + 7) / 8)
			return ca_err(CA_ERR_AUTH, "JWS: RSA signature of %zu "
			    "bytes for a %u-bit key", jws->sig_len, bits);
		break;
	}
	data.data = (unsigned char *)jws->signing_input;
	data.size = (unsigned int)jws->signing_input_len;
	rc = 0;
	if ((grc = gnutls_pubkey_verify_data2(key->pub, key->alg->sign, 0,
	    &data, &sig)) < 0)
		rc = ca_err(CA_ERR_AUTH, "JWS: %s signature verification "
		    "failed", key->alg->name);
	datum_free(&der, 0);
	return rc;
}

void
ca_jws_free(struct ca_jws *jws)
{
	if (jws == NULL)
		return;
	json_object_put(jws->header);
	free(jws->payload);
	free(jws->sig);
	free(jws->signing_input);
	free(jws);
}

/*
 * AES key wrap (RFC 3394)
 */

static const unsigned char aeskw_iv[8] = {
	0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6,
};

/* AES-ECB of one block: CBC with the IV reset to zero before it. */
static int
aes_block(gnutls_cipher_hd_t h, int decrypt, unsigned char b[16])
{
	unsigned char iv[16];

	memset(iv, 0, sizeof(iv));
	gnutls_cipher_set_iv(h, iv, sizeof(iv));
	if ((decrypt ? gnutls_cipher_decrypt2(h, b, 16, b, 16) :
	    gnutls_cipher_encrypt2(h, b, 16, b, 16)) < 0)
		return ca_err(CA_ERR_CRYPTO, "AES block operation failed");
	return 0;
}

static int
aes_ecb_init(gnutls_cipher_hd_t *h, const unsigned char *key, size_t keylen)
{
	gnutls_datum_t k, iv;
	unsigned char zero[16];
	int grc;

	*h = NULL;
	if (keylen != 16 && keylen != 24 && keylen != 32)
		return ca_err(CA_ERR_INVAL, "AES key of %zu bytes", keylen);
	memset(zero, 0, sizeof(zero));
	k.data = (unsigned char *)(uintptr_t)key;
	k.size = (unsigned int)keylen;
	iv.data = zero;
	iv.size = sizeof(zero);
	if ((grc = gnutls_cipher_init(h, keylen == 16 ?
	    GNUTLS_CIPHER_AES_128_CBC : keylen == 24 ?
	    GNUTLS_CIPHER_AES_192_CBC : GNUTLS_CIPHER_AES_256_CBC, &k,
	    &iv)) < 0) {
		*h = NULL;
		return ca_err(CA_ERR_CRYPTO, "AES: %s", gnutls_strerror(grc));
	}
	return 0;
}

/*
 * The RFC 3394 2.2.1 and 2.2.2 index-based loops. Unwrap returns
 * CA_ERR_AUTH without recording a message when the check value differs;
 * the caller knows what that means.
 */
static int
aeskw(int unwrap, const unsigned char *kek, size_t keklen,
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	gnutls_cipher_hd_t h;
	unsigned char a[8], b[16], *r;
	size_t n, i, j, step, k;
	uint64_t t;
	int rc;

	if (inlen % 8 != 0 || inlen < (unwrap ? 24U : 16U) ||
	    inlen > 64 * 1024)
		return ca_err(CA_ERR_INVAL, "AES key wrap: bad length %zu",
		    inlen);
	n = inlen / 8 - (unwrap ? 1 : 0);
	if ((rc = aes_ecb_init(&h, kek, keklen)) != 0)
		return rc;
	if (unwrap) {
		memcpy(a, in, 8);
		r = out;
		memmove(r, in + 8, n * 8);
	} else {
		memcpy(a, aeskw_iv, 8);
		r = out + 8;
		memmove(r, in, n * 8);
	}
	for (step = 0; step < 6 * n; step++) {
		j = unwrap ? 5 - step / n : step / n;
		i = unwrap ? n - step % n : step % n + 1;
		t = (uint64_t)(n * j + i);
		for (k = 0; unwrap && k < 8; k++)
			a[7 - k] ^= (unsigned char)(t >> (8 * k));
		memcpy(b, a, 8);
		memcpy(b + 8, r + (i - 1) * 8, 8);
		if ((rc = aes_block(h, unwrap, b)) != 0)
			goto out;
		memcpy(a, b, 8);
		for (k = 0; !unwrap && k < 8; k++)
			a[7 - k] ^= (unsigned char)(t >> (8 * k));
		memcpy(r + (i - 1) * 8, b + 8, 8);
	}
	if (!unwrap)
		memcpy(out, a, 8);
	else if (gnutls_memcmp(a, aeskw_iv, 8) != 0)
		rc = CA_ERR_AUTH;
 out:
	if (rc != 0)
		gnutls_memset(out, 0, unwrap ? inlen - 8 : inlen + 8);
	gnutls_memset(a, 0, sizeof(a));
	gnutls_memset(b, 0, sizeof(b));
	gnutls_cipher_deinit(h);
	return rc;
}

int
ca_jose_aeskw_wrap(const unsigned char *kek, size_t keklen,
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	return aeskw(0, kek, keklen, in, inlen, out);
}

int
ca_jose_aeskw_unwrap(const unsigned char *kek, size_t keklen,
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	int rc;

	if ((rc = aeskw(1, kek, keklen, in, inlen, out)) == CA_ERR_AUTH)
		return ca_err(rc, "AES key unwrap: integrity check failed");
	return rc;
}

/*
 * JWE
 */

static const struct pbes2 *
pbes2_find(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(pbes2_algs); i++)
		if (strcmp(pbes2_algs[i].name, name) == 0)
			return &pbes2_algs[i];
	return NULL;
}

static const struct jwe_enc *
enc_find(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(jwe_encs); i++)
		if (strcmp(jwe_encs[i].name, name) == 0)
			return &jwe_encs[i];
	return NULL;
}

/* RFC 7518 4.8.1.1: salt = UTF8(alg) || 0x00 || p2s. */
static int
pbes2_kek(const struct pbes2 *pb, const char *password, size_t pwlen,
    const unsigned char *p2s, size_t p2slen, unsigned p2c, unsigned char *kek)
{
	gnutls_datum_t pw, salt;
	size_t alen = strlen(pb->name);
	int grc;

	if (pwlen == 0 || pwlen > CA_MAX_PASSWORD)
		return ca_err(CA_ERR_INVAL, "password is empty or longer "
		    "than %d bytes", CA_MAX_PASSWORD);
	if ((salt.data = malloc(alen + 1 + p2slen)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(salt.data, pb->name, alen + 1);
	memcpy(salt.data + alen + 1, p2s, p2slen);
	salt.size = (unsigned int)(alen + 1 + p2slen);
	pw.data = (unsigned char *)(uintptr_t)password;
	pw.size = (unsigned int)pwlen;
	grc = gnutls_pbkdf2(pb->mac, &pw, &salt, p2c, kek, pb->kek_len);
	free(salt.data);
	if (grc < 0)
		return ca_err(CA_ERR_CRYPTO, "PBKDF2: %s",
		    gnutls_strerror(grc));
	return 0;
}

/* The key encryption key from the password and the header's p2c and p2s. */
static int
jwe_kek(struct json_object *h, const struct pbes2 *pb, const char *password,
    size_t pwlen, unsigned char *kek)
{
	const char *p2s;
	unsigned char *salt;
	size_t saltlen;
	int64_t p2c;
	int rc;

	if ((rc = ca_json_int64(h, "p2c", 1, &p2c)) != 0 ||
	    (rc = ca_json_string(h, "p2s", 1, &p2s)) != 0) {
		ca_err_context("JWE header");
		return rc;
	}
	/* p2c bounds the work an attacker-supplied token can cause. */
	if (p2c < P2C_MIN || p2c > P2C_MAX)
		return ca_err(CA_ERR_INVAL, "JWE: p2c %lld is outside [%d, %d]",
		    (long long)p2c, P2C_MIN, P2C_MAX);
	if ((rc = b64dec("JWE p2s", p2s, strlen(p2s), &salt, &saltlen)) != 0)
		return rc;
	if (saltlen < P2S_MIN)
		rc = ca_err(CA_ERR_INVAL, "JWE: p2s shorter than %d bytes",
		    P2S_MIN);
	else
		rc = pbes2_kek(pb, password, pwlen, salt, saltlen,
		    (unsigned)p2c, kek);
	free(salt);
	return rc;
}

/* RFC 7518 5.2.2.2, into pt (ctlen bytes available). */
static int
cbc_hs_decrypt(const struct jwe_enc *e, const unsigned char *cek,
    const unsigned char *iv, const unsigned char *aad, size_t aadlen,
    const unsigned char *ct, size_t ctlen, const unsigned char *tag,
    unsigned char *pt, size_t *ptlen)
{
	gnutls_hmac_hd_t mh;
	gnutls_cipher_hd_t ch;
	gnutls_datum_t k, ivd;
	unsigned char al[8], mac[64], bad, pad;
	size_t half = e->cek_len / 2, i;
	uint64_t bitlen = (uint64_t)aadlen * 8;
	int rc = 0, grc;

	*ptlen = 0;
	if (ctlen == 0 || ctlen % 16 != 0)
		return ca_err(CA_ERR_INVAL, "JWE: ciphertext is not a whole "
		    "number of blocks");
	for (i = 0; i < 8; i++)
		al[7 - i] = (unsigned char)(bitlen >> (8 * i));
	if ((grc = gnutls_hmac_init(&mh, e->mac, cek, half)) < 0)
		return ca_err(CA_ERR_CRYPTO, "HMAC: %s", gnutls_strerror(grc));
	if (gnutls_hmac(mh, aad, aadlen) < 0 || gnutls_hmac(mh, iv, 16) < 0 ||
	    gnutls_hmac(mh, ct, ctlen) < 0 || gnutls_hmac(mh, al, 8) < 0) {
		gnutls_hmac_deinit(mh, mac);
		rc = ca_err(CA_ERR_CRYPTO, "HMAC failed");
		goto out;
	}
	gnutls_hmac_deinit(mh, mac);
	if (gnutls_memcmp(mac, tag, e->tag_len) != 0) {
		rc = ca_err(CA_ERR_AUTH, "JWE: decryption failed "
		    "(authentication tag mismatch)");
		goto out;
	}
	k.data = (unsigned char *)(uintptr_t)(cek + half);
	k.size = (unsigned int)half;
	ivd.data = (unsigned char *)(uintptr_t)iv;
	ivd.size = 16;
	if ((grc = gnutls_cipher_init(&ch, e->cipher, &k, &ivd)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "AES-CBC: %s", gnutls_strerror(grc));
		goto out;
	}
	grc = gnutls_cipher_decrypt2(ch, ct, ctlen, pt, ctlen);
	gnutls_cipher_deinit(ch);
	if (grc < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "AES-CBC: %s", gnutls_strerror(grc));
		goto out;
	}
	/* PKCS#7 padding; the tag has already authenticated it. */
	pad = pt[ctlen - 1];
	bad = (unsigned char)(pad == 0 || pad > 16);
	for (i = 0; i < 16; i++)
		bad |= (unsigned char)((i < pad) & (pt[ctlen - 1 - i] != pad));
	if (bad) {
		gnutls_memset(pt, 0, ctlen);
		rc = ca_err(CA_ERR_INVAL, "JWE: bad padding");
		goto out;
	}
	*ptlen = ctlen - pad;
 out:
	gnutls_memset(mac, 0, sizeof(mac));
	return rc;
}

int
ca_jose_cbc_hs_decrypt(const unsigned char *key, size_t keylen,
    const unsigned char *iv, size_t ivlen, const unsigned char *aad,
    size_t aadlen, const unsigned char *ct, size_t ctlen,
    const unsigned char *tag, size_t taglen, unsigned char **pt,
    size_t *ptlen)
{
	const struct jwe_enc *e = NULL;
	unsigned char *buf;
	size_t i;
	int rc;

	*pt = NULL;
	*ptlen = 0;
	for (i = 0; i < NITEMS(jwe_encs); i++)
		if (!jwe_encs[i].gcm && jwe_encs[i].cek_len == keylen)
			e = &jwe_encs[i];
	if (e == NULL || ivlen != e->iv_len || taglen != e->tag_len)
		return ca_err(CA_ERR_INVAL, "AES-CBC-HMAC: bad key, IV or tag "
		    "length");
	if ((buf = malloc(ctlen + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = cbc_hs_decrypt(e, key, iv, aad, aadlen, ct, ctlen, tag, buf,
	    ptlen)) != 0) {
		ca_free_secret(buf, ctlen + 1);
		return rc;
	}
	buf[*ptlen] = '\0';
	*pt = buf;
	return 0;
}

int
ca_jwe_encrypt_password(const void *pt, size_t ptlen, const char *password,
    size_t pwlen, unsigned p2c, const char *cty, char **out)
{
	const struct pbes2 *pb = &pbes2_algs[0];
	const struct jwe_enc *e = &jwe_encs[2];		/* A256GCM */
	struct json_object *h = NULL;
	gnutls_aead_cipher_hd_t aead = NULL;
	gnutls_datum_t k;
	unsigned char p2s[P2S_LEN], cek[32], kek[16], ek[40], iv[12];
	unsigned char *ct = NULL;
	char *p2s64 = NULL, *hjson = NULL, *h64 = NULL, *ek64 = NULL;
	char *iv64 = NULL, *ct64 = NULL, *tag64 = NULL;
	size_t ctlen = 0;
	int rc, grc;

	*out = NULL;
	if (p2c < P2C_MIN || p2c > P2C_MAX)
		return ca_err(CA_ERR_INVAL, "JWE: p2c %u is outside [%d, %d]",
		    p2c, P2C_MIN, P2C_MAX);
	if (ptlen > JWE_MAX / 2)
		return ca_err(CA_ERR_TOOBIG, "JWE: plaintext longer than %d "
		    "bytes", JWE_MAX / 2);
	if (gnutls_rnd(GNUTLS_RND_NONCE, p2s, sizeof(p2s)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_KEY, cek, sizeof(cek)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, iv, sizeof(iv)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "random number generator failed");
		goto out;
	}
	/* Members in step-ca's order. */
	if ((p2s64 = ca_b64url_encode(p2s, sizeof(p2s))) == NULL ||
	    (h = json_object_new_object()) == NULL ||
	    add_str(h, "alg", pb->name) != 0 ||
	    (cty != NULL && add_str(h, "cty", cty) != 0) ||
	    add_str(h, "enc", e->name) != 0 ||
	    add(h, "p2c", json_object_new_int64(p2c)) != 0 ||
	    add_str(h, "p2s", p2s64) != 0 ||
	    (hjson = ca_json_dump(h)) == NULL ||
	    (h64 = ca_b64url_encode(hjson, strlen(hjson))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = pbes2_kek(pb, password, pwlen, p2s, sizeof(p2s), p2c,
	    kek)) != 0 ||
	    (rc = ca_jose_aeskw_wrap(kek, sizeof(kek), cek, sizeof(cek),
	    ek)) != 0)
		goto out;
	k.data = cek;
	k.size = sizeof(cek);
	ctlen = ptlen + e->tag_len;
	if ((ct = malloc(ctlen)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((grc = gnutls_aead_cipher_init(&aead, e->cipher, &k)) < 0 ||
	    (grc = gnutls_aead_cipher_encrypt(aead, iv, sizeof(iv), h64,
	    strlen(h64), e->tag_len, pt, ptlen, ct, &ctlen)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "JWE: %s: %s", e->name,
		    gnutls_strerror(grc));
		goto out;
	}
	if ((ek64 = ca_b64url_encode(ek, sizeof(ek))) == NULL ||
	    (iv64 = ca_b64url_encode(iv, sizeof(iv))) == NULL ||
	    (ct64 = ca_b64url_encode(ct, ctlen - e->tag_len)) == NULL ||
	    (tag64 = ca_b64url_encode(ct + ctlen - e->tag_len,
	    e->tag_len)) == NULL ||
	    asprintf(out, "%s.%s.%s.%s.%s", h64, ek64, iv64, ct64, tag64) < 0) {
		*out = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
 out:
	if (aead != NULL)
		gnutls_aead_cipher_deinit(aead);
	gnutls_memset(cek, 0, sizeof(cek));
	gnutls_memset(kek, 0, sizeof(kek));
	json_object_put(h);
	free(ct);
	free(p2s64);
	free(hjson);
	free(h64);
	free(ek64);
	free(iv64);
	free(ct64);
	free(tag64);
	return rc;
}

int
ca_jwe_decrypt_password(const char *compact, size_t len,
    const char *password, size_t pwlen, unsigned char **pt, size_t *ptlen)
{
	static const char *const names[] = { "JWE header",
	    "JWE encrypted key", "JWE IV", "JWE ciphertext", "JWE tag",
	    "JWE" };
	enum { H, EK, IV, CT, TAG, NPARTS };
	struct part parts[NPARTS];
	struct json_object *h = NULL;
	const struct pbes2 *pb;
	const struct jwe_enc *e;
	gnutls_aead_cipher_hd_t aead = NULL;
	gnutls_datum_t k;
	const char *alg, *enc;
	unsigned char kek[32], cek[64], *buf = NULL, *ctt = NULL;
	size_t cap = 0, outlen;
	int rc, grc;

	*pt = NULL;
	*ptlen = 0;
	memset(parts, 0, sizeof(parts));
	if (len > JWE_MAX)
		return ca_err(CA_ERR_TOOBIG, "JWE: longer than %d bytes",
		    JWE_MAX);
	if ((rc = split_compact(compact, len, parts, NPARTS, names)) != 0 ||
	    (rc = parse_header(&parts[H], names[H], &h)) != 0)
		goto out;
	if ((rc = ca_json_string(h, "alg", 1, &alg)) != 0 ||
	    (rc = ca_json_string(h, "enc", 1, &enc)) != 0) {
		ca_err_context("%s", names[H]);
		goto out;
	}
	if ((pb = pbes2_find(alg)) == NULL) {
		rc = ca_err(CA_ERR_INVAL, "JWE: unsupported key management "
		    "algorithm \"%s\"", alg);
		goto out;
	}
	if ((e = enc_find(enc)) == NULL) {
		rc = ca_err(CA_ERR_INVAL, "JWE: unsupported content "
		    "encryption \"%s\"", enc);
		goto out;
	}
	if (json_object_object_get_ex(h, "zip", NULL)) {
		rc = ca_err(CA_ERR_INVAL, "JWE: compression is not supported");
		goto out;
	}
	if (parts[EK].dlen != e->cek_len + 8 || parts[IV].dlen != e->iv_len ||
	    parts[TAG].dlen != e->tag_len) {
		rc = ca_err(CA_ERR_INVAL, "JWE: encrypted key, IV or tag has "
		    "the wrong length for %s", e->name);
		goto out;
	}
	if ((rc = jwe_kek(h, pb, password, pwlen, kek)) != 0)
		goto out;
	if ((rc = aeskw(1, kek, pb->kek_len, parts[EK].d, parts[EK].dlen,
	    cek)) != 0) {
		if (rc == CA_ERR_AUTH)
			rc = ca_err(rc, "wrong password (key unwrap "
			    "integrity check failed)");
		goto out;
	}
	cap = parts[CT].dlen + 1;
	if ((buf = malloc(cap)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!e->gcm) {
		if ((rc = cbc_hs_decrypt(e, cek, parts[IV].d,
		    (const unsigned char *)parts[H].s, parts[H].len,
		    parts[CT].d, parts[CT].dlen, parts[TAG].d, buf,
		    &outlen)) != 0)
			goto out;
	} else {
		/* GnuTLS wants ciphertext || tag. */
		if ((ctt = malloc(parts[CT].dlen + e->tag_len)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(ctt, parts[CT].d, parts[CT].dlen);
		memcpy(ctt + parts[CT].dlen, parts[TAG].d, e->tag_len);
		k.data = cek;
		k.size = (unsigned int)e->cek_len;
		outlen = cap;
		if ((grc = gnutls_aead_cipher_init(&aead, e->cipher, &k)) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "JWE: %s: %s", e->name,
			    gnutls_strerror(grc));
			goto out;
		}
		if (gnutls_aead_cipher_decrypt(aead, parts[IV].d, e->iv_len,
		    parts[H].s, parts[H].len, e->tag_len, ctt,
		    parts[CT].dlen + e->tag_len, buf, &outlen) < 0) {
			rc = ca_err(CA_ERR_AUTH, "JWE: decryption failed "
			    "(authentication tag mismatch)");
			goto out;
		}
	}
	buf[outlen] = '\0';
	*pt = buf;
	*ptlen = outlen;
	buf = NULL;
 out:
	if (aead != NULL)
		gnutls_aead_cipher_deinit(aead);
	gnutls_memset(kek, 0, sizeof(kek));
	gnutls_memset(cek, 0, sizeof(cek));
	ca_free_secret(buf, cap);
	free(ctt);
	json_object_put(h);
	parts_free(parts, NPARTS);
	return rc;
}
