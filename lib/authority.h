/*
 * authority.h - the narrow API through which tools and the server use
 * the CA: open it, sign. Nothing above this layer touches a key.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_AUTHORITY_H
#define CA_AUTHORITY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf.h"
#include "x509.h"

struct ca_config;
struct ca_db_crl;
struct ca_cert_info;
struct ca_client_cert;

/*
 * An open CA, opaque: a local one on a state directory (with or without
 * its key), a registration authority, a ca-serve reached over HTTPS, or
 * a separate signer process. Every operation below may be called from
 * several threads at once. An operation the implementation does not have
 * fails with CA_ERR_CONFIG and a one-line message.
 */
struct ca_authority;

/*
 * Open the CA in state directory dir: configuration, root and
 * intermediate certificates, the intermediate key (password may be NULL
 * when it is stored unencrypted) and the store.
 */
int	 ca_authority_open(const char *dir, const char *password,
	    struct ca_authority **out);
void	 ca_authority_close(struct ca_authority *a);
/*
 * Public material every implementation has; borrowed, valid until
 * ca_authority_close. kind: "local", "remote" or "signer". root_fp:
 * lowercase hex SHA-256 of the root. chain_pem: the intermediate(s).
 * dir and config: NULL unless the authority is on a state directory
 * (config is read-only, and replaced by ca_authority_reload).
 */
const char *ca_authority_kind(const struct ca_authority *a);
const gnutls_datum_t *ca_authority_root_pem(const struct ca_authority *a);
const gnutls_datum_t *ca_authority_chain_pem(const struct ca_authority *a);
const char *ca_authority_root_fp(const struct ca_authority *a);
const char *ca_authority_dir(const struct ca_authority *a);
const struct ca_config *ca_authority_config(const struct ca_authority *a);
/* Open for reading only (no key): configuration, certificates, store. */
int	 ca_authority_open_public(const char *dir, struct ca_authority **out);
/*
 * A local authority on dir's configuration and root only, for ca-token:
 * it opens nothing that writes (no store, no lock file) and has only
 * provisioner, provisioners, encrypted_key and audience.
 */
int	 ca_authority_open_config(const char *dir, struct ca_authority **out);
/*
 * For ca-serve: a CA with its key (password as for ca_authority_open), or
 * a registration authority (authority.type "stepcas") connected to its
 * upstream, whose provisioner key is decrypted with upstream_password
 * unless ca.json names a key file.
 */
int	 ca_authority_open_server(const char *dir, const char *password,
	    const char *upstream_password, struct ca_authority **out);
/*
 * The CA whose server is at url (https://HOST[:PORT]), trusting only the
 * root certificate in root_path. Nothing is sent yet. It signs, renews
 * and rekeys, and revokes; the
 * other operations fail with CA_ERR_CONFIG. Its chain_pem is empty and
 * its dir and config NULL.
 */
int	 ca_authority_open_remote(const char *url, const char *root_path,
	    struct ca_authority **out);

struct ca_sign_req {
	const char	*token;		/* compact JWS */
	size_t		 token_len;
	const char	*csr;		/* PEM or DER (the caller makes keys) */
	size_t		 csr_len;
	time_t		 not_before;	/* 0: now (backdated 1 min) */
	time_t		 not_after;	/* 0: provisioner default */
};

struct ca_sign_result {
	char		*crt_pem;	/* the new leaf */
	char		*chain_pem;	/* intermediate */
	char		*serial;	/* canonical hex */
	char		*subject;	/* token sub */
	char		*provisioner;	/* its name */
	time_t		 not_before, not_after;
};

/*
 * Verify the token, then the CSR, issue, and record the certificate and
 * the used token in one store transaction (synced before return).
 * Errors: CA_ERR_AUTH (token), CA_ERR_REPLAY (token used), CA_ERR_INVAL
 * (malformed CSR/request), CA_ERR_FORBIDDEN (names, key, lifetime),
 * CA_ERR_TEMP (store busy), others. Free *res with ca_sign_result_free.
 */
int	 ca_authority_sign(struct ca_authority *a, const struct ca_sign_req *req,
	    struct ca_sign_result *res);
void	 ca_sign_result_free(struct ca_sign_result *res);

/*
 * Re-read config/ca.json (provisioners, claims) without touching keys or
 * certificates; in-flight requests finish with the old configuration.
 */
int	 ca_authority_reload(struct ca_authority *a);
/* Ports the server listens on: token audiences may name them too. */
void	 ca_authority_set_ports(struct ca_authority *a, const int *ports,
	    size_t n);
/*
 * Public material for the API. ca_authority_provisioners returns
 * {"provisioners":[...],"nextCursor":"..."} for a page starting after
 * cursor (NULL: the first) with at most limit entries; encryptedKey is
 * included as step-ca does. ca_authority_encrypted_key finds one by kid.
 * Caller frees the strings.
 */
int	 ca_authority_provisioners(struct ca_authority *a, const char *cursor,
	    size_t limit, char **json);
/*
 * The JWK provisioner name (NULL: the CA's only JWK provisioner) as the CA
 * publishes it: name, type, kid, public key and its encryptedKey (NULL
 * when the CA has none; with want_key a remote CA is asked for it and
 * answers CA_ERR_NOTFOUND when it has none). *out is borrowed from a,
 * valid until ca_authority_close or ca_authority_reload. CA_ERR_NOTFOUND
 * for no such provisioner, CA_ERR_INVAL for one that is not JWK or, name
 * NULL, when the CA has several JWK provisioners.
 */
int	 ca_authority_provisioner(struct ca_authority *a, const char *name,
	    int want_key, const struct ca_provisioner **out);
/*
 * The audience of a token for path ("/1.0/sign") at this CA: its
 * configured address (local) or the URL it was opened on (remote).
 * Caller frees *out.
 */
int	 ca_authority_audience(struct ca_authority *a, const char *path,
	    char **out);
int	 ca_authority_encrypted_key(struct ca_authority *a, const char *kid,
	    char **jwe);
/*
 * Issue the server's own TLS certificate for the configured dnsNames,
 * recorded in the store under the internal provisioner "ca-serve".
 * *pem is the key (PKCS#8), the certificate and the intermediate, in that
 * order; free with ca_free_secret(*pem, *len).
 */
int	 ca_authority_server_cert(struct ca_authority *a, char **pem,
	    size_t *len, time_t *not_before, time_t *not_after);

struct ca_revoke_req {
	const char	*serial;	/* decimal, or hex with 0x or colons */
	int		 reason;	/* CA_REASON_* (crl.h); NONE for no code */
	const char	*reason_text;	/* may be NULL */
	/* Authorisation: one of a revoke token, the certificate itself (its
	 * DER from mutual TLS), or the operator of the state directory. */
	const char	*token;
	size_t		 token_len;
	const unsigned char *peer_der;
	size_t		 peer_len;
	int		 trusted;
	const char	*by;		/* who, for the record (trusted only) */
	/* A remote authority: the certificate and key files presented
	 * over mutual TLS when there is no token (peer_der is the local
	 * side's view of the same proof). */
	const char	*cert_path, *key_path;
};
/*
 * Revoke a certificate; *serial receives its canonical hex (caller
 * frees). Errors: CA_ERR_INVAL (bad serial or reason), CA_ERR_NOTFOUND
 * (never issued here), CA_ERR_EXISTS (already revoked), CA_ERR_AUTH (bad
 * token), CA_ERR_FORBIDDEN (token or certificate for another serial).
 * Nothing is recorded on failure.
 */
int	 ca_authority_revoke(struct ca_authority *a,
	    const struct ca_revoke_req *req, char **serial);

struct ca_renew_req {
	/* The certificate to renew: its DER when its key was proven (mutual
	 * TLS, or the key file offline), or an x5c token signed by that key. */
	const unsigned char *cert_der;
	size_t		 cert_len;
	const char	*token;
	size_t		 token_len;
	const char	*csr;		/* rekey: the new key's CSR; NULL: same key */
	size_t		 csr_len;
	/* A remote authority proves possession with the loaded certificate
	 * and key: over mutual TLS (mtls set), else with an x5c token made
	 * from them. Local ones take cert_der from it when that is NULL. */
	const struct ca_client_cert *cc;
	int		 mtls;
};
/*
 * Renew (or rekey): a new certificate with the same names and total
 * lifetime and a new serial, refused (CA_ERR_AUTH) when the certificate
 * is revoked, not yet valid, expired (unless allowRenewalAfterExpiry) or
 * its provisioner has disableRenewal. The revocation check is repeated
 * in the transaction that records the new certificate.
 */
int	 ca_authority_renew(struct ca_authority *a,
	    const struct ca_renew_req *req, struct ca_sign_result *res);

/* Options of ca_init_create(). */
/*
 * Active revocation (lib/status.c). The CRL: the current one when it
 * includes every revocation and is less than two thirds through its life
 * (kept in memory and in the store, so that processes share it), else a
 * new one, numbered with the next CRL number, signed by the intermediate
 * and stored; fresh set: always a new one. out->der: free().
 */
int	 ca_authority_crl(struct ca_authority *a, time_t now, int fresh,
	    struct ca_db_crl *out);
/*
 * The OCSP response (DER, gnutls_free) to a DER request: a signed basic
 * response, or an unsuccessful one (malformedRequest, unauthorized for
 * another issuer's certificates, tryLater when the store is busy,
 * internalError). Responses to single requests without nonce are cached
 * until a revocation or half their life. *next_update: 0 for errors.
 * Fails only when out of memory or without the key.
 */
int	 ca_authority_ocsp(struct ca_authority *a, const void *der, size_t len,
	    time_t now, gnutls_datum_t *resp, time_t *next_update);
/* OCSP answers served from the cache, and signed, so far. */
void	 ca_authority_ocsp_stats(struct ca_authority *a, unsigned long *hits,
	    unsigned long *built);
/* Issuances recorded, and the group commits that recorded them. */
void	 ca_authority_commit_stats(struct ca_authority *a,
	    unsigned long *issuances, unsigned long *commits);

/*
 * The store, read-only (ca-db; local authorities only). db_list: every
 * certificate, *v an array of *n (free each with ca_cert_info_free, then
 * the array). db_get: one by canonical hex serial (CA_ERR_NOTFOUND).
 * db_check: the consistency check of ca_db_check against the
 * intermediate, each problem passed to report.
 */
int	 ca_authority_db_list(struct ca_authority *a, struct ca_cert_info **v,
	    size_t *n);
int	 ca_authority_db_get(struct ca_authority *a, const char *serial,
	    struct ca_cert_info *ci);
int	 ca_authority_db_check(struct ca_authority *a,
	    void (*report)(void *arg, const char *problem), void *arg,
	    size_t *problems, size_t *certs);

struct ca_init_opts {
	const char	*dir;
	const char	*name;
	const char *const *dns;
	size_t		 n_dns;
	const char	*address;
	const char	*provisioner;
	const char	*password;		/* CA keys */
	const char	*prov_password;		/* provisioner key (JWE) */
	const char	*key_type;		/* NULL: ec-p256 */
	int		 unencrypted_intermediate;
	unsigned	 p2c;			/* 0: 600000 */
	const char	*prov_key_out;		/* also write the plain JWK here */
	int		 acme;			/* also an ACME provisioner "acme" */
	/* Template files of the root and the intermediate (lib/certtmpl.h,
	 * ca_certtmpl_ca_file); NULL: step's defaults. */
	const char	*root_template;
	const char	*int_template;
	/* CA keys on a PKCS#11 token: kms.uri, and the PIN file (absolute;
	 * NULL: the URI's pin-source). */
	const char	*kms;
	const char	*kms_pin_file;
	/* A registration authority (no CA keys): its upstream. */
	const char	*ra_url;		/* certificateAuthority */
	const char	*ra_fingerprint;	/* of the upstream root */
	const char	*ra_provisioner;	/* upstream provisioner name */
	const char	*ra_password;		/* its key's password (checked) */
};
/*
 * Create a CA in o->dir (which must not hold one): keys, certificates,
 * ca.json, db/. *root_fp receives the root fingerprint (caller frees).
 * With o->kms, the root and intermediate keys are generated on the token
 * and ca.json names them by pkcs11: URIs. On failure, nothing created
 * here is left behind (keys made on the token are deleted).
 */
int	 ca_init_create(const struct ca_init_opts *o, char **root_fp);

#endif /* CA_AUTHORITY_H */
