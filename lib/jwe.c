/*
 * jwe.c - password-based compact JWE (PBES2, RFC 7518 4.8) as step-ca
 * stores a provisioner's key: PBKDF2 and the content encryption on
 * GnuTLS, the RFC 3394 key wrap on Nettle (nist_keywrap16), which GnuTLS
 * itself is built on.
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

#include <nettle/aes.h>
#include <nettle/nettle-meta.h>
#include <nettle/nist-keywrap.h>

#include "ca.h"
#include "json.h"
#include "jose.h"
#include "jose-internal.h"

#define JWE_MAX		(256 * 1024)	/* compact JWE */
#ifdef CA_FUZZING
/* A fuzzing build only (configure --enable-fuzzing, never installed): a
 * fuzzer must not spend its time in PBKDF2, nor stop at the minimum. */
#define P2C_MIN		1
#define P2C_MAX		1000
#else
#define P2C_MIN		1000
#define P2C_MAX		10000000
#endif
#define P2S_MIN		8
#define P2S_LEN		16		/* salt input we generate */

struct jose_pbes2 {
	const char		*name;
	gnutls_mac_algorithm_t	 mac;
	size_t			 kek_len;
};

static const struct jose_pbes2 pbes2_algs[] = {
	{ "PBES2-HS256+A128KW", GNUTLS_MAC_SHA256, 16 },
	{ "PBES2-HS384+A192KW", GNUTLS_MAC_SHA384, 24 },
	{ "PBES2-HS512+A256KW", GNUTLS_MAC_SHA512, 32 },
};

struct jose_jwe_enc {
	const char			*name;
	int				 gcm;
	size_t				 cek_len;
	gnutls_cipher_algorithm_t	 cipher;
	gnutls_mac_algorithm_t		 mac;	/* CBC-HS only */
	size_t				 iv_len;
	size_t				 tag_len;
};

static const struct jose_jwe_enc jwe_encs[] = {
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

/*
 * AES key wrap (RFC 3394)
 */

static const uint8_t aeskw_iv[8] = {
	0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6,
};

/*
 * RFC 3394 2.2.1 and 2.2.2 through Nettle. Nettle asserts on lengths, so
 * they are checked here first. Unwrap returns CA_ERR_AUTH without
 * recording a message when the check value differs; the caller knows
 * what that means.
 */
static int
aeskw(int unwrap, const unsigned char *kek, size_t keklen,
    const unsigned char *in, size_t inlen, unsigned char *out)
{
	union {
		struct aes128_ctx	a128;
		struct aes192_ctx	a192;
		struct aes256_ctx	a256;
	} ctx;
	const struct nettle_cipher *aes;
	int rc = 0;

	switch (keklen) {
	case 16: aes = &nettle_aes128; break;
	case 24: aes = &nettle_aes192; break;
	case 32: aes = &nettle_aes256; break;
	default:
		return ca_err(CA_ERR_INVAL, "AES key of %zu bytes", keklen);
	}
	if (inlen % 8 != 0 || inlen < (unwrap ? 24U : 16U) ||
	    inlen > 64 * 1024)
		return ca_err(CA_ERR_INVAL, "AES key wrap: bad length %zu",
		    inlen);
	if (unwrap) {
		aes->set_decrypt_key(&ctx, kek);
		if (!nist_keyunwrap16(&ctx, aes->decrypt, aeskw_iv, inlen - 8,
		    out, in)) {
			gnutls_memset(out, 0, inlen - 8);
			rc = CA_ERR_AUTH;
		}
	} else {
		aes->set_encrypt_key(&ctx, kek);
		nist_keywrap16(&ctx, aes->encrypt, aeskw_iv, inlen + 8, out,
		    in);
	}
	gnutls_memset(&ctx, 0, sizeof(ctx));
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

static const struct jose_pbes2 *
pbes2_find(const char *name)
{
	size_t i;

	for (i = 0; i < NITEMS(pbes2_algs); i++)
		if (strcmp(pbes2_algs[i].name, name) == 0)
			return &pbes2_algs[i];
	return NULL;
}

static const struct jose_jwe_enc *
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
pbes2_kek(const struct jose_pbes2 *pb, const char *password, size_t pwlen,
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
jwe_kek(struct json_object *h, const struct jose_pbes2 *pb,
    const char *password, size_t pwlen, unsigned char *kek)
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
	if ((rc = ca_jose_b64dec("JWE p2s", p2s, strlen(p2s), &salt,
	    &saltlen)) != 0)
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
cbc_hs_decrypt(const struct jose_jwe_enc *e, const unsigned char *cek,
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
	const struct jose_jwe_enc *e = NULL;
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
	const struct jose_pbes2 *pb = &pbes2_algs[0];
	const struct jose_jwe_enc *e = &jwe_encs[2];		/* A256GCM */
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
	    ca_jose_add_str(h, "alg", pb->name) != 0 ||
	    (cty != NULL && ca_jose_add_str(h, "cty", cty) != 0) ||
	    ca_jose_add_str(h, "enc", e->name) != 0 ||
	    ca_jose_add(h, "p2c", json_object_new_int64(p2c)) != 0 ||
	    ca_jose_add_str(h, "p2s", p2s64) != 0 ||
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
	struct jose_part parts[NPARTS];
	struct json_object *h = NULL;
	const struct jose_pbes2 *pb;
	const struct jose_jwe_enc *e;
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
	if ((rc = ca_jose_split(compact, len, parts, NPARTS, names)) != 0 ||
	    (rc = ca_jose_header(&parts[H], names[H], &h)) != 0)
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
	ca_jose_parts_free(parts, NPARTS);
	return rc;
}
