/*
 * oidc.h - the OIDC provisioner (DESIGN13 2.3): its ca.json members, the
 * provider's discovery document and signing keys (fetched with libcurl,
 * cached by their HTTP cache headers, never under a lock the issuance
 * path holds), and the ID token checks (ca_authz_oidc in authz.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_OIDC_H
#define CA_OIDC_H

#include <stddef.h>
#include <time.h>
#include <json-c/json.h>

struct ca_config;

/* Bounds: what a provider may send, and how long keys are kept. */
#define CA_OIDC_MAX_DOC		(256 * 1024)	/* discovery, JWKS: bytes */
#define CA_OIDC_MAX_KEYS	64		/* keys kept from one JWKS */
#define CA_OIDC_TIMEOUT		10		/* s, one HTTP request */
#define CA_OIDC_AGE_DEFAULT	(12 * 3600)	/* s, no max-age (step-ca) */
#define CA_OIDC_AGE_MAX		(24 * 3600)	/* s, cap on max-age */
#define CA_OIDC_REFETCH		60	/* s between fetches forced by a kid */
#define CA_OIDC_LEEWAY		60	/* s, exp/iat/nbf */
#define CA_OIDC_MAX_LIFETIME	(24 * 3600)	/* s, exp - iat */

/* A provisioner's members (its impl); strings borrowed from ca.json. */
struct ca_oidc_conf {
	const char	*client_id;
	const char	*client_secret;	/* "" when none */
	char		*discovery;	/* configurationEndpoint + well-known */
	const char	*tenant_id;	/* or NULL */
	const char	**admins, **domains, **groups, **scopes;
	size_t		 n_admins, n_domains, n_groups, n_scopes;
	const char	*listen_address;	/* client side; or NULL */
	struct json_object *auth_params;	/* client side; or NULL */
};

/*
 * Discovery documents and key sets of the OpenID providers, keyed by
 * discovery URL, shared by the threads of one authority and kept across
 * a reload (a provisioner whose endpoint did not change keeps its keys).
 */
struct ca_oidc_cache;
int	 ca_oidc_cache_new(struct ca_oidc_cache **out);
void	 ca_oidc_cache_free(struct ca_oidc_cache *c);
/* How many JWKS documents the cache fetched (tests, logs). */
unsigned long ca_oidc_cache_fetches(struct ca_oidc_cache *c);

/*
 * Step one, under the configuration lock, no network: whether tok (an
 * unverified token) is an ID token for one of cfg's OIDC provisioners;
 * then *url (its discovery URL) and *kid (the header's, or NULL) are set,
 * malloc'd. 0 (also when it is not: *url NULL) or CA_ERR_NOMEM.
 */
int	 ca_oidc_want(const struct ca_config *cfg, const char *tok,
	    size_t len, char **url, char **kid);
/*
 * Step two, without any lock held: make sure the cache has fresh keys
 * for url, fetching the discovery document and the JWKS when it has none,
 * when they expired, or when kid is not among them (at most once per
 * CA_OIDC_REFETCH seconds). One fetch per URL at a time; the others wait
 * for it. 0, or the fetch's error (the old keys, if any, are kept).
 */
int	 ca_oidc_refresh(struct ca_oidc_cache *c, const char *url,
	    const char *kid, time_t now);
/*
 * How long one response header line (n bytes) lets the keys be kept:
 * Cache-Control max-age=N gives N (stopping past CA_OIDC_AGE_MAX),
 * no-store or no-cache 0, anything else -1 (not said).
 */
long	 ca_oidc_header_age(const char *line, size_t n);
/*
 * Put a discovery result into the cache as a fetch would (exported for
 * the unit test): issuer, the JWKS document (len bytes) and its max age.
 */
int	 ca_oidc_cache_put(struct ca_oidc_cache *c, const char *url,
	    const char *issuer, const char *jwks, size_t len, time_t now,
	    long max_age);

/*
 * The names a CSR for an unverified OIDC ID token tok may carry (ca-sign
 * --key-out): *cn its sub (NULL when no valid CN), *names its e-mail, or
 * its ISS#SUB URI. 0; CA_ERR_NOTFOUND when tok is not an ID token (no
 * http(s) iss or no sub); CA_ERR_NOMEM. Free with free / ca_names_free.
 */
struct ca_names;
int	 ca_oidc_peek(const char *tok, size_t len, char **cn,
	    struct ca_names *names);

/*
 * One HTTP request to a provider (lib/oidc-login.c's too): GET url, or
 * POST the form post when not NULL; https, or http to a loopback host;
 * 200 and at most CA_OIDC_MAX_DOC bytes, in *body (malloc'd,
 * NUL-terminated, *len bytes). 0, CA_ERR_AUTH, CA_ERR_TEMP (unreachable).
 */
int	 ca_oidc_http(const char *url, const char *post, char **body,
	    size_t *len);
/* Whether url may be fetched: https, or http to 127.0.0.1/localhost/[::1]. */
int	 ca_oidc_url_ok(const char *url);

/*
 * ca-token --oidc (lib/oidc-login.c): a person's ID token by the
 * authorization-code flow with PKCE on a loopback redirect.
 * ca_oidc_login_start finds the OIDC provisioner name (NULL: the only
 * one) among a's (local or remote), reads its provider's discovery
 * document, listens on its listenAddress (default 127.0.0.1, any port)
 * and gives the URL to open in a browser (*url, malloc'd).
 * ca_oidc_login_wait waits at most timeout seconds for the browser's
 * redirect, trades the code for the ID token (*id_token, malloc'd), and
 * frees the login. Both return 0 or a CA_ERR_*; on failure of start,
 * *login is NULL.
 */
struct ca_authority;
struct ca_oidc_login;
int	 ca_oidc_login_start(struct ca_authority *a, const char *name,
	    struct ca_oidc_login **login, char **url);
int	 ca_oidc_login_wait(struct ca_oidc_login *login, int timeout,
	    char **id_token);
void	 ca_oidc_login_free(struct ca_oidc_login *login);

#endif /* CA_OIDC_H */
