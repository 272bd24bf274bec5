/*
 * token.h - one-time tokens (JWTs) from JWK provisioners, as
 * `step ca token` makes them and step-ca checks them.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_TOKEN_H
#define CA_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>

struct ca_jwk;
struct ca_jws;
struct ca_config;
struct ca_provisioner;

#define CA_TOKEN_LEEWAY		60	/* seconds, for nbf/exp/iat */
#define CA_TOKEN_MAX_LIFETIME	3600	/* exp - iat */
#define CA_TOKEN_DEFAULT_LIFETIME 300

struct ca_token_opts {
	const char		*iss;	/* provisioner name */
	const char		*sub;
	const char		*aud;
	const char *const	*sans;	/* NULL: [sub] */
	size_t			 n_sans;
	const char		*sha;	/* root fingerprint, or NULL */
	time_t			 now;
	int64_t			 lifetime;	/* seconds; 0: 5 minutes */
	time_t			 not_before;	/* nbf; 0: now */
	const char		*kid;	/* header kid; NULL: the key's */
	int			 no_sans;	/* no "sans" claim (revocation) */
	const gnutls_datum_t	*x5c;	/* X5C: header "x5c", DER leaf first */
	size_t			 n_x5c;
};

/*
 * Mint a token: header {alg, kid, typ: JWT} (and x5c when o->x5c is
 * set), claims aud, exp, iat, iss, jti (64 hex characters), nbf, sans,
 * sha, sub. Caller frees *out.
 */
int	 ca_token_mint(const struct ca_jwk *key, const struct ca_token_opts *o,
	    char **out);

/* What an x5c token (renew, rekey) says; see ca_token_x5c_mint. */
struct ca_x5c_opts {
	const char		*aud;	/* "<CA URL>/1.0/renew" or ".../1.0/rekey" */
	const char		*sub;	/* the certificate's CN (may be "") */
	const gnutls_datum_t	*chain;	/* DER: the certificate, then issuers */
	size_t			 n_chain;
	time_t			 now;
	int64_t			 lifetime;	/* seconds; 0: 5 minutes */
};

/*
 * Mint a token that proves possession of a certificate's key, as `step ca
 * renew` does without mutual TLS (smallstep/cli RenewWithToken): header
 * {alg (from key), kid (the key's RFC 7638 thumbprint), typ JWT,
 * x5cInsecure: [standard base64 of each DER of o->chain]}, claims aud,
 * exp, iat, iss "step-ca-client/1.0", nbf, sub, and no jti (the CA
 * takes the certificate's serial and iat as the token's identity);
 * signed by key, the certificate's own
 * private key (the caller checks that they match). Free *out with
 * ca_free_secret(*out, strlen(*out)): it is a bearer credential.
 */
int	 ca_token_x5c_mint(const struct ca_jwk *key, const struct ca_x5c_opts *o,
	    char **out);

/*
 * The private key of JWK provisioner p: from key_path (PEM or JWK file)
 * when given, else by decrypting its encryptedKey with password. The key
 * must be the provisioner's (same thumbprint). Free with ca_jwk_free.
 */
int	 ca_token_provisioner_key(const struct ca_provisioner *p,
	    const char *password, size_t pwlen, const char *key_path,
	    struct ca_jwk **out);

/* A parsed token: claims decoded strictly, signature not yet checked. */
struct ca_token {
	struct ca_jws	*jws;
	char		*kid;	/* header kid */
	char		*iss;
	char		*sub;
	char		*jti;
	char		**aud;
	size_t		 n_aud;
	char		**sans;	/* [sub] when the claim is absent */
	size_t		 n_sans;
	char		*sha;
	/* cnf (RFC 7800), as step-ca reads it: the CSR this token is for. */
	char		*cnf_x5rt;	/* x5rt#S256: SHA-256 of the CSR's DER */
	char		*cnf_kid;	/* kid: RFC 7638 thumbprint of its key */
	int		 has_cnf;
	int64_t		 nbf, iat, exp;
	int		 has_nbf, has_iat;
};

/* Parse without verifying (size limit, JWS shape, claim types). */
int	 ca_token_parse(const char *buf, size_t len, struct ca_token **out);
void	 ca_token_free(struct ca_token *t);
/*
 * Verify t for path ("/1.0/sign") at time now: the provisioner is found
 * by iss and kid, its key checks the signature (algorithm from the key),
 * aud must be one of this CA's audiences, nbf/exp/iat with leeway,
 * exp - iat <= 1 h, jti present, sha (if any) equal to root_fp.
 * On success *prov is the provisioner. Errors: CA_ERR_AUTH (401-like).
 */
int	 ca_token_verify(const struct ca_token *t, const struct ca_config *cfg,
	    const char *path, const char *root_fp, time_t now,
	    const struct ca_provisioner **prov);

#endif /* CA_TOKEN_H */
