/*
 * x5c.h - the X5C provisioner's client side: a token signed by a
 * certificate's key, the chain in its "x5c" header, as `step ca token
 * --x5c-cert --x5c-key` makes it. The verifier is ca_authz_x5c (authz.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_X5C_H
#define CA_X5C_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>

struct ca_jwk;

#define CA_X5C_MAX_CHAIN	8		/* certificates in an x5c header */
#define CA_X5C_MAX_ROOTS	64		/* certificates in "roots" */

struct ca_x5c_token_opts {
	const char		*prov;	/* the X5C provisioner's name (iss) */
	const char		*aud;	/* "<CA>/1.0/sign" ("#x5c/PROV" is added) */
	const char		*sub;	/* CN, or the serial to revoke */
	const char *const	*sans;	/* NULL: [sub] */
	size_t			 n_sans;
	int			 no_sans;	/* revocation: no "sans" */
	const char		*sha;	/* root fingerprint, or NULL */
	const gnutls_datum_t	*chain;	/* DER: leaf first, then issuers */
	size_t			 n_chain;
	time_t			 now;
	time_t			 not_before;	/* 0: now */
	int64_t			 lifetime;	/* s; 0: 5 minutes */
};

/*
 * Mint an X5C token: header {alg (from key), kid (its RFC 7638
 * thumbprint), typ JWT, x5c [standard base64 DER...]}, claims aud
 * (o->aud + "#x5c/" + o->prov), exp, iat, iss, jti, nbf, sans, sha, sub.
 * key must be the leaf's private key (checked). Free *out with
 * ca_free_secret(*out, strlen(*out)).
 */
int	 ca_x5c_token_mint(const struct ca_jwk *key,
	    const struct ca_x5c_token_opts *o, char **out);

/*
 * The certificates of a PEM file (one or more, at most CA_X5C_MAX_CHAIN
 * in all with those already in *chain) appended to *chain as DER
 * (gnutls_free each .data, then free(*chain)).
 */
int	 ca_x5c_chain_read(const char *path, gnutls_datum_t **chain,
	    size_t *n);

#endif /* CA_X5C_H */
