/*
 * jose.h - the parts of JOSE that a JWK provisioner needs: base64url,
 * JSON Web Keys (RFC 7517) with RFC 7638 thumbprints, compact JWS
 * (RFC 7515/7518: ES256, ES384, ES512, EdDSA, RS256, PS256) and compact
 * JWE with password-based key wrapping (PBES2, RFC 7518 4.8), the way
 * step-ca stores a provisioner's private key ("encryptedKey").
 * One header for callers; the code is in jose.c (base64url, compact
 * serializations), jwk.c, jws.c and jwe.c.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_JOSE_H
#define CA_JOSE_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <json-c/json.h>

/* base64url without padding; returns a new NUL-terminated string or NULL. */
char	*ca_b64url_encode(const void *p, size_t len);
/*
 * Strict base64url decoding: no padding, no whitespace, no characters
 * outside the alphabet, unused trailing bits must be zero.
 * *out is malloc'd (NUL-terminated for convenience, not counted in *outlen).
 */
int	 ca_b64url_decode(const char *s, size_t len, unsigned char **out,
	    size_t *outlen);

/* A public or private key with its JOSE parameters. */
struct ca_jwk;

/* Import a JWK from parsed JSON (kty EC/OKP/RSA; private if "d" present). */
int	 ca_jwk_from_json(struct json_object *o, struct ca_jwk **out);
/* Parse a JWK from text (strict JSON). */
int	 ca_jwk_parse(const char *buf, size_t len, struct ca_jwk **out);
/*
 * Wrap a GnuTLS private key; the JWK takes ownership of key.
 * alg may be NULL (chosen from the key: ES256 for P-256, ES384, ES512,
 * EdDSA, RS256 for RSA). kid is set to the thumbprint.
 */
int	 ca_jwk_from_privkey(gnutls_privkey_t key, const char *alg,
	    struct ca_jwk **out);
/* The same for a public key (a certificate's, e.g.); takes ownership of pub. */
int	 ca_jwk_from_pubkey(gnutls_pubkey_t pub, const char *alg,
	    struct ca_jwk **out);
/* Import a PEM/DER private key file's contents (PKCS#8, SEC1 or PKCS#1). */
int	 ca_jwk_from_pem(const char *buf, size_t len, struct ca_jwk **out);
/*
 * Export as JSON: kty, crv/x/y (EC), crv/x (OKP), n/e (RSA), plus "d"
 * (and RSA CRT values) when private is set and the key is private;
 * use "sig", alg, kid. Caller puts *out.
 */
int	 ca_jwk_to_json(const struct ca_jwk *k, int private,
	    struct json_object **out);
/* RFC 7638 SHA-256 thumbprint, base64url. Caller frees *out. */
int	 ca_jwk_thumbprint(const struct ca_jwk *k, char **out);
int	 ca_jwk_is_private(const struct ca_jwk *k);
/* The JWS algorithm this key signs with ("ES256", ...). Never NULL. */
const char *ca_jwk_alg(const struct ca_jwk *k);
/* The kid member, or NULL. */
const char *ca_jwk_kid(const struct ca_jwk *k);
/* Borrowed GnuTLS handles; privkey is NULL for a public key. */
gnutls_pubkey_t ca_jwk_pubkey(const struct ca_jwk *k);
gnutls_privkey_t ca_jwk_privkey(const struct ca_jwk *k);
void	 ca_jwk_free(struct ca_jwk *k);

/*
 * Compact JWS. ca_jws_sign() sets "alg" in header (a JSON object the
 * caller still owns; other members are kept as given), signs payload
 * and returns "h.p.s" in *out (caller frees).
 */
int	 ca_jws_sign(const struct ca_jwk *key, struct json_object *header,
	    const void *payload, size_t plen, char **out);

/* A parsed, not yet verified, compact JWS. */
struct ca_jws {
	struct json_object	*header;	/* strict-parsed protected header */
	unsigned char		*payload;	/* decoded payload (NUL-terminated) */
	size_t			 payload_len;
	unsigned char		*sig;		/* decoded signature */
	size_t			 sig_len;
	char			*signing_input;	/* "h.p", as received */
	size_t			 signing_input_len;
};
/* Split and decode; the header must be a JSON object with a string "alg". */
int	 ca_jws_parse(const char *compact, size_t len, struct ca_jws **out);
/*
 * Verify with key: the algorithm comes from the key; a header "alg"
 * other than the key's fails. ECDSA r and s are checked to be in
 * [1, n-1]. Returns 0 or CA_ERR_AUTH.
 */
int	 ca_jws_verify(const struct ca_jws *jws, const struct ca_jwk *key);
void	 ca_jws_free(struct ca_jws *jws);

/*
 * Compact JWE with a password: PBES2-HS256+A128KW key wrapping and A256GCM
 * content encryption, p2s 16 random bytes, p2c iterations, header
 * {"alg","enc","cty"?,"p2c","p2s"} as step-ca writes it. cty may be NULL.
 */
int	 ca_jwe_encrypt_password(const void *pt, size_t ptlen,
	    const char *password, size_t pwlen, unsigned p2c, const char *cty,
	    char **out);
/*
 * Decrypt a compact JWE made with a password. Accepts PBES2-HS256+A128KW,
 * PBES2-HS384+A192KW, PBES2-HS512+A256KW with A128GCM, A192GCM, A256GCM,
 * A128CBC-HS256, A192CBC-HS384, A256CBC-HS512. p2c must be in
 * [1000, 10000000]. A wrong password gives CA_ERR_AUTH.
 * *pt is malloc'd (NUL-terminated, not counted); free with
 * ca_free_secret(*pt, *ptlen).
 */
int	 ca_jwe_decrypt_password(const char *compact, size_t len,
	    const char *password, size_t pwlen, unsigned char **pt,
	    size_t *ptlen);

#endif /* CA_JOSE_H */
