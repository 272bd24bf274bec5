/*
 * client.h - the online side: an HTTPS client of ca-serve (step-ca's
 * API) over libcurl, which is loaded with dlopen() on first use so that
 * the offline tools do not pay for it.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CLIENT_H
#define CA_CLIENT_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include "conf.h"
#include "keys.h"

#define CA_CLIENT_MAX_RESPONSE	(1024 * 1024)
#define CA_CLIENT_CONNECT_TIMEOUT 10	/* seconds */
#define CA_CLIENT_TIMEOUT	30	/* seconds, whole request */

struct ca_client;

/*
 * Whether url can name a CA: "https://HOST[:PORT][/PATH]", without user
 * information, query, fragment, spaces or control characters.
 * CA_ERR_INVAL (message recorded) otherwise.
 */
int	 ca_client_url_check(const char *url);
/*
 * A root fingerprint as people write it: 64 hex digits in any case,
 * optionally as 32 colon-separated pairs. *out is the lowercase hex
 * (caller frees). CA_ERR_INVAL when malformed.
 */
int	 ca_client_fingerprint_parse(const char *s, char **out);

/*
 * A client of the CA at url that trusts only the root certificate in
 * root_path (no system store): TLS 1.2 or later, HTTPS only, no
 * redirects, 10 s to connect, 30 s per request, responses of at most
 * 1 MiB, one connection kept alive across requests. Loads libcurl on
 * first use (CA_ERR_CONFIG naming the Debian package if it cannot be).
 * Nothing is sent yet. Free with ca_client_close().
 */
int	 ca_client_open(const char *url, const char *root_path,
	    struct ca_client **out);
void	 ca_client_close(struct ca_client *c);
/* Lowercase hex SHA-256 of the trusted root's DER (borrowed). */
const char *ca_client_root_fp(const struct ca_client *c);
/* The CA URL without trailing slashes followed by path. Caller frees. */
char	*ca_client_url(const struct ca_client *c, const char *path);

/* A response: the HTTP status and the body (NUL-terminated). */
struct ca_client_response {
	long	 status;
	char	*body;
	size_t	 len;
};

/*
 * One request. Only transport failures are errors here: CA_ERR_TEMP
 * (unreachable, timeout), CA_ERR_AUTH (server certificate not trusted),
 * CA_ERR_TOOBIG (response over 1 MiB), CA_ERR_IO; any HTTP status is a
 * response. body of a POST is sent as application/json and may hold a
 * secret: the caller wipes it. Free r with ca_client_response_free().
 */
int	 ca_client_get(struct ca_client *c, const char *path,
	    struct ca_client_response *r);
int	 ca_client_post(struct ca_client *c, const char *path, const char *body,
	    size_t len, struct ca_client_response *r);
void	 ca_client_response_free(struct ca_client_response *r);
/*
 * The error a response with an unexpected status stands for, recorded
 * with the server's {"message"} and the status, e.g. "CA refused: token
 * already used (HTTP 401)". 401 CA_ERR_AUTH, 403 CA_ERR_FORBIDDEN,
 * 404 CA_ERR_NOTFOUND, 413 CA_ERR_TOOBIG, 400/405/415 CA_ERR_INVAL,
 * 429/502/503/504 CA_ERR_TEMP, others CA_ERR_IO.
 */
int	 ca_client_http_error(const struct ca_client_response *r);
/*
 * GET path expecting 200 and a JSON object (parsed strictly).
 * *out: caller puts it.
 */
int	 ca_client_get_json(struct ca_client *c, const char *path,
	    struct json_object **out);

/*
 * Fetch the root of the CA at url by its fingerprint (as `step ca
 * bootstrap` does): GET /root/FP without verifying the server, check the
 * SHA-256 of the DER of "ca" against fingerprint (CA_ERR_AUTH "root
 * fingerprint mismatch"), then GET /roots trusting only that root, which
 * proves that the server holds a certificate from that CA. *pem is the
 * root as PEM (caller frees).
 */
int	 ca_client_bootstrap(const char *url, const char *fingerprint,
	    char **pem, size_t *len);

/* A provisioner as the CA publishes it. */
struct ca_remote_provisioner {
	struct ca_provisioner	 prov;	/* name, type, kid, key, encrypted_key */
	char			*encrypted_key;	/* owns prov.encrypted_key */
};
/*
 * Find the JWK provisioner name (NULL: the only JWK provisioner) in
 * GET /provisioners, following nextCursor. With want_key, its
 * encryptedKey is required (from the list, else from
 * GET /provisioners/KID/encrypted-key). The result can be given to
 * ca_token_provisioner_key(). Free with ca_client_provisioner_free().
 */
int	 ca_client_provisioner(struct ca_client *c, const char *name,
	    int want_key, struct ca_remote_provisioner **out);
void	 ca_client_provisioner_free(struct ca_remote_provisioner *p);

struct ca_client_sign_req {
	const char	*csr;		/* PEM or DER */
	size_t		 csr_len;
	const char	*token;		/* a secret: not logged */
	size_t		 token_len;
	time_t		 not_before;	/* 0: the CA's default */
	time_t		 not_after;	/* 0: the CA's default */
};
/*
 * POST /sign. On 201, *crt_pem is the new certificate and *ca_pem the
 * intermediate(s), each PEM ending in a newline (caller frees both).
 * Errors as ca_client_http_error() says, or of the transport.
 */
int	 ca_client_sign(struct ca_client *c, const struct ca_client_sign_req *req,
	    char **crt_pem, char **ca_pem);

/*
 * Make a key of type t and a PEM CSR for the subject and names of a token
 * (parsed, not verified: the CA does that). *key_pem is PKCS#8 PEM, free
 * it with ca_free_secret(*key_pem, *key_len); csr->data with gnutls_free.
 */
int	 ca_client_keygen(enum ca_key_type t, const char *token, size_t toklen,
	    gnutls_datum_t *csr, char **key_pem, size_t *key_len);

#endif /* CA_CLIENT_H */
