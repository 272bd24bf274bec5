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
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <json-c/json.h>

#include "authority.h"
#include "conf.h"
#include "keys.h"

#define CA_CLIENT_MAX_RESPONSE	(1024 * 1024)
#define CA_CLIENT_CONNECT_TIMEOUT 10	/* seconds */
#define CA_CLIENT_TIMEOUT	30	/* seconds, whole request */

struct ca_client;
struct ca_jwk;

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

/*
 * Present a client certificate (mutual TLS) on the requests that follow:
 * cert_path holds the certificate, optionally followed by its chain, and
 * key_path its private key, each PEM or DER, read by libcurl when it
 * connects. Connections made without it are not reused.
 */
int	 ca_client_set_identity(struct ca_client *c, const char *cert_path,
	    const char *key_path);

/* How the last request's transport went (a registration authority maps
 * these to 502 and 504). */
enum { CA_CLIENT_T_OK, CA_CLIENT_T_TIMEOUT, CA_CLIENT_T_TLS,
	CA_CLIENT_T_FAILED };
int	 ca_client_last_transport(const struct ca_client *c);
/* The HTTP status of the last request (0 when there was no answer). */
long	 ca_client_last_status(const struct ca_client *c);
/* The whole-request (and connect) timeout, instead of CA_CLIENT_TIMEOUT. */
int	 ca_client_set_timeout(struct ca_client *c, long ms);

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
/*
 * The same with "Authorization: Bearer <bearer>" (a secret: the copies
 * made here are wiped).
 */
int	 ca_client_post_bearer(struct ca_client *c, const char *path,
	    const char *body, size_t len, const char *bearer,
	    struct ca_client_response *r);
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
/*
 * GET /provisioners (one page: cursor NULL for the first, limit 0 for the
 * CA's default) as compact JSON, and GET /provisioners/KID/encrypted-key's
 * "key" (CA_ERR_NOTFOUND on 404). Caller frees *json, *jwe.
 */
int	 ca_client_provisioners(struct ca_client *c, const char *cursor,
	    size_t limit, char **json);
int	 ca_client_encrypted_key(struct ca_client *c, const char *kid,
	    char **jwe);

/*
 * POST /sign with req (the token is a secret: not logged; a csr is
 * required; times 0: the CA's defaults). On 201, *crt_pem is the new certificate and *ca_pem the
 * intermediate(s), each PEM ending in a newline (caller frees both).
 * Errors as ca_client_http_error() says, or of the transport.
 */
int	 ca_client_sign(struct ca_client *c, const struct ca_sign_req *req,
	    char **crt_pem, char **ca_pem);

/*
 * Make a key of type t and a PEM CSR for the subject and names of a token
 * (parsed, not verified: the CA does that); CA_ERR_FORBIDDEN when the
 * token's cnf claim binds it to a CSR. *key_pem is PKCS#8 PEM, free
 * it with ca_free_secret(*key_pem, *key_len); csr->data with gnutls_free.
 */
int	 ca_client_keygen(enum ca_key_type t, const char *token, size_t toklen,
	    gnutls_datum_t *csr, char **key_pem, size_t *key_len);

/*
 * Renewal, online (ca_client_renew) or through the authority: the
 * certificate to renew with its chain, and its private key.
 */
struct ca_client_cert {
	gnutls_x509_crt_t	*chain;		/* [0]: the certificate */
	gnutls_datum_t		*der;		/* DER of each */
	unsigned		 n;
	struct ca_jwk		*key;		/* private; matches chain[0] */
	char			*cn;		/* "" when there is none */
	time_t			 not_before, not_after;
	char			*serial;	/* canonical hex */
	char			*cert_path, *key_path;
};
/*
 * Load a certificate file (PEM: the certificate, then any chain; or one
 * DER certificate) and its key file (unencrypted; refused if group or
 * others can read it). CA_ERR_INVAL when the key is not the
 * certificate's. Free with ca_client_cert_free().
 */
int	 ca_client_cert_load(const char *cert_path, const char *key_path,
	    struct ca_client_cert **out);
void	 ca_client_cert_free(struct ca_client_cert *cc);
/*
 * Whether a certificate valid from not_before to not_after is due for
 * renewal at now: less than expires_in seconds of validity left
 * (negative: a third of its lifetime), counting up to a tenth of
 * expires_in more, at random, so that clients that cron starts at the
 * same minute do not all come at once. 1 due, 0 not yet, or an error.
 * *left receives the seconds left (negative once expired). The one rule
 * of ca-renew and ca-inspect --needs-renewal.
 */
int	 ca_client_due(time_t not_before, time_t not_after, int64_t expires_in,
	    time_t now, int64_t *left);
/*
 * When that rule makes the certificate due, the jitter drawn once: *at,
 * in Unix seconds, is not_after - expires_in - jitter, and it is due at
 * any now > *at (ca-renew --daemon sleeps until then).
 */
int	 ca_client_due_time(time_t not_before, time_t not_after,
	    int64_t expires_in, int64_t *at);
/* ca_client_due for cc's validity. */
int	 ca_client_cert_due(const struct ca_client_cert *cc, int64_t expires_in,
	    time_t now, int64_t *left);
/*
 * An x5c token for cc (see ca_token_x5c_mint) with audience aud, signed
 * by its key. Free *token with ca_free_secret(*token, strlen(*token)).
 */
int	 ca_client_cert_x5c(const struct ca_client_cert *cc, const char *aud,
	    time_t now, char **token);
/*
 * For a rekey: a new key of cc's key's kind (the same curve, or RSA of
 * the same size) and a PEM CSR for it with cc's CN and subject
 * alternative names. Free *key_pem with ca_free_secret(*key_pem,
 * *key_len), csr->data with gnutls_free.
 */
int	 ca_client_cert_rekey_csr(const struct ca_client_cert *cc,
	    gnutls_datum_t *csr, char **key_pem, size_t *key_len);
/*
 * Whether crt_pem (a new certificate) certifies key_pem's key, or cc's
 * key when key_pem is NULL: CA_ERR_INVAL otherwise.
 */
int	 ca_client_cert_check_key(const struct ca_client_cert *cc,
	    const char *crt_pem, const char *key_pem, size_t key_len);

/*
 * POST /renew (csr NULL; empty body) or POST /rekey {"csr"}, proving
 * possession of cc's key over mutual TLS (mtls set), else with an x5c
 * token made here ("Authorization: Bearer"), whose audience is the CA
 * URL followed by /1.0/renew or /1.0/rekey. On 201, *crt_pem and
 * *ca_pem as ca_client_sign() gives them.
 */
int	 ca_client_renew(struct ca_client *c, const struct ca_client_cert *cc,
	    int mtls, const char *csr, size_t csr_len, char **crt_pem,
	    char **ca_pem);

/*
 * The same with a token made elsewhere (a registration authority relays
 * its client's): POST /renew, or /rekey when csr is given, "Authorization:
 * Bearer token" (NULL: none, mutual TLS).
 */
int	 ca_client_renew_token(struct ca_client *c, const char *token,
	    const char *csr, size_t csr_len, char **crt_pem, char **ca_pem);

/*
 * POST /revoke for req (serial, reason, reason_text, and token: NULL for
 * mutual TLS; the other members are not used here) {"serial" (decimal), "ott"?, "reasonCode"?, "reason"?,
 * "passive": true}, step-ca's body; 0 on 200. Without a token, the
 * client certificate set by ca_client_set_identity() authorises it.
 */
int	 ca_client_revoke(struct ca_client *c,
	    const struct ca_revoke_req *req);

#endif /* CA_CLIENT_H */
