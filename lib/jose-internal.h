/*
 * jose-internal.h - what jose.c, jwk.c, jws.c and jwe.c share, and the
 * pieces exposed to tests/unit/test-jose.c so that the RFC 3394 and
 * RFC 7518 B.1 vectors can be checked directly. Only those files include
 * it; everyone else includes jose.h.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_JOSE_INTERNAL_H
#define CA_JOSE_INTERNAL_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <json-c/json.h>

/* The decoded protected header: room for an x5c chain of three RSA
 * certificates (X5C tokens), within CA_MAX_TOKEN. */
#define JOSE_MAX_HEADER	(10 * 1024)
#define EC_MAX		66		/* P-521 field size */
#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

enum { KTY_EC = 1, KTY_OKP, KTY_RSA };

struct jose_curve {
	const char		*crv;
	int			 kty;
	gnutls_ecc_curve_t	 id;
	size_t			 size;		/* bytes of x, y, d, r, s */
	const char		*alg;
	const unsigned char	*order;		/* ECDSA group order n */
};

struct jose_sigalg {
	const char		*name;
	int			 kty;
	gnutls_sign_algorithm_t	 sign;
};

struct ca_jwk {
	int			 kty;
	const struct jose_curve	*curve;		/* EC and OKP */
	const struct jose_sigalg	*alg;
	gnutls_pubkey_t		 pub;
	gnutls_privkey_t	 priv;		/* NULL for a public key */
	char			*kid;
};

/* A piece of a compact serialization, decoded. */
struct jose_part {
	const char	*s;		/* as received */
	size_t		 len;
	unsigned char	*d;		/* decoded, malloc'd */
	size_t		 dlen;
};

/* jwk.c: the algorithm and curve tables. NULL when unknown. */
const struct jose_sigalg *ca_jose_sigalg_find(const char *name);
const struct jose_curve *ca_jose_curve_by_name(const char *crv, int kty);
const struct jose_curve *ca_jose_curve_by_id(gnutls_ecc_curve_t id);

/* jose.c: base64url of a named part, compact serializations, headers. */
/* Strict base64url decoding (ca_b64url_decode); what names the input. */
int	 ca_jose_b64dec(const char *what, const char *s, size_t len,
	    unsigned char **out, size_t *outlen);
/*
 * Split a compact serialization into exactly n dot-separated parts and
 * decode them; names[i] is used in messages, names[n] for the whole.
 * Release with ca_jose_parts_free, also after a failure.
 */
int	 ca_jose_split(const char *s, size_t len, struct jose_part *parts,
	    size_t n, const char *const *names);
void	 ca_jose_parts_free(struct jose_part *parts, size_t n);
/* Strict-parse a decoded protected header: a JSON object, no "crit". */
int	 ca_jose_header(const struct jose_part *h, const char *what,
	    struct json_object **out);
/* Add member key to o; v (NULL after a failed allocation) is consumed. */
int	 ca_jose_add(struct json_object *o, const char *key,
	    struct json_object *v);
int	 ca_jose_add_str(struct json_object *o, const char *key,
	    const char *val);
/* gnutls_free d's data, wiped first when secret; d is emptied. */
void	 ca_jose_datum_free(gnutls_datum_t *d, int secret);

/*
 * jwe.c: AES Key Wrap (RFC 3394) with the default IV A6A6A6A6A6A6A6A6,
 * through Nettle's nist_keywrap16. kek is 16, 24 or 32 bytes; inlen a
 * multiple of 8, at least 16 (wrap) or 24 (unwrap). wrap writes
 * inlen + 8 bytes to out, unwrap inlen - 8; in and out must not overlap.
 * unwrap fails with CA_ERR_AUTH when the integrity check fails.
 */
int	 ca_jose_aeskw_wrap(const unsigned char *kek, size_t keklen,
	    const unsigned char *in, size_t inlen, unsigned char *out);
int	 ca_jose_aeskw_unwrap(const unsigned char *kek, size_t keklen,
	    const unsigned char *in, size_t inlen, unsigned char *out);

/*
 * AES_CBC_HMAC_SHA2 decryption (RFC 7518 5.2). keylen 32, 48 or 64 picks
 * A128CBC-HS256, A192CBC-HS384 or A256CBC-HS512. *pt is malloc'd
 * (NUL-terminated, not counted); free with ca_free_secret(*pt, *ptlen).
 * A wrong tag gives CA_ERR_AUTH.
 */
int	 ca_jose_cbc_hs_decrypt(const unsigned char *key, size_t keylen,
	    const unsigned char *iv, size_t ivlen, const unsigned char *aad,
	    size_t aadlen, const unsigned char *ct, size_t ctlen,
	    const unsigned char *tag, size_t taglen, unsigned char **pt,
	    size_t *ptlen);

#endif /* CA_JOSE_INTERNAL_H */
