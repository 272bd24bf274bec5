/*
 * authority-local.h - the local authority's state (a state directory, in
 * this process), shared by its files: authority-local.c, status.c, ra.c.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_AUTHORITY_LOCAL_H
#define CA_AUTHORITY_LOCAL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "authority-impl.h"
#include "conf.h"
#include "x509.h"

struct ca_store;
struct ca_store_group;
struct ca_status;
struct ca_upstream;
struct ca_db_crl;
struct acme_nonces;

/*
 * Every function may be called from several threads at once: the
 * configuration is read under cfg_lock (reload takes it for writing), the
 * key is used under sign_lock, and the records of concurrent issuances
 * are committed together (group commit) by whichever caller finds the
 * store idle, with one set of syncs.
 */
struct ca_local {
	struct ca_authority	*pub;		/* the handle that wraps this */
	char			*dir;
	struct ca_config	*cfg;
	pthread_rwlock_t	 cfg_lock;
	struct ca_issuer	 issuer;	/* the intermediate */
	pthread_mutex_t		 sign_lock;
	gnutls_x509_crt_t	 root;
	char			*root_fp;	/* lowercase hex SHA-256 */
	gnutls_datum_t		 root_pem;
	gnutls_datum_t		 crt_pem;	/* the intermediate's PEM */
	struct ca_store		*store;
	pthread_mutex_t		 store_lock;	/* one user of a->store at a time */
	struct ca_store_group	*group;		/* issuances' group commit */
	int			 ports[CA_MAX_PORTS];	/* also accepted in audiences */
	size_t			 n_ports;
	volatile unsigned long	 revision;	/* bumped by each revocation here */
	struct ca_status	*status;	/* lib/status.c: CRL, OCSP, db/revision */
	struct ca_upstream	*upstream;	/* a registration authority's CA */
	pthread_mutex_t		 acme_lock;	/* opening acme_nonces */
	struct acme_nonces	*acme_nonces;	/* lib/acme-nonce.h, on first use */
	struct ca_oidc_cache	*oidc;		/* lib/oidc.h, kept across reloads */
};

/* lib/status.c: its state, counting a committed revocation, CRL, OCSP. */
int	 ca_status_new(struct ca_status **out);
void	 ca_status_free(struct ca_status *s);
/*
 * Before cfg_lock is taken for a token: an OIDC ID token's provider keys
 * fetched into a->oidc if needed (lib/oidc.h; network I/O, so never under
 * cfg_lock or a store transaction). Failures are left to the verifier.
 */
void	 ca_local_oidc_prepare(struct ca_local *a, const char *tok, size_t len);
void	 ca_status_bump(struct ca_local *a);
int	 ca_local_crl(struct ca_local *a, time_t now, int fresh,
	    struct ca_db_crl *out);
int	 ca_local_ocsp(struct ca_local *a, const void *der, size_t len,
	    time_t now, gnutls_datum_t *resp, time_t *next_update);
void	 ca_local_ocsp_stats(struct ca_local *a, unsigned long *hits,
	    unsigned long *built);

/* What a renewal adds to an issuance's record. */
struct ca_issuance;
struct ca_issuance_extra {
	const char	*renewed_from;
	const char	*ott_scope;	/* see struct ca_issuance */
	const char	*identity;
	const char	*check_unrevoked;
	/* The provisioner extension, when not derived from the provisioner
	 * (JWK: its kid; ACME: ""): a CA_STEP_TYPE_* and credential id. */
	int		 step_type;
	const char	*cred_id;
	/* An ACME order's (lib/acme-order.c): see struct ca_issuance. */
	const char	*acme_account;
	const char	*acme_order;
	int		(*also)(struct ca_store *, const struct ca_issuance *,
			    void *);
	void		*also_arg;
};
struct ca_provisioner;
struct ca_leaf;
struct ca_names;

/*
 * Shared by the local authority's files. Issue and record: a serial
 * collision (2^-134) takes a new serial; *pem is the new certificate
 * (gnutls_free).
 */
int	 ca_local_validity(const struct ca_local *a, const struct ca_provisioner *p,
    const struct ca_sign_req *req, time_t now, time_t *nb, time_t *na);
/*
 * The leaf prov's certificate template makes from in (the credential's
 * subject, names and key; in's CRL and OCSP URLs are set here): rendered,
 * its names among in's and within the policy, its validity put into req.
 * *out: ca_certtmpl_cert_free(). CA_ERR_FORBIDDEN saying what it broke.
 */
struct ca_certtmpl_in;
struct ca_certtmpl_cert;
int	 ca_local_template_leaf(const struct ca_local *a,
    const struct ca_provisioner *prov, struct ca_certtmpl_in *in,
    struct ca_sign_req *req, struct ca_certtmpl_cert **out);
int	 ca_local_fill_result(const struct ca_local *a, struct ca_sign_result *res,
    const gnutls_datum_t *pem, const char *subject, const char *prov,
    time_t nb, time_t na);
int	 ca_local_record_issuance(struct ca_local *a, const struct ca_provisioner *prov,
    const char *serial_hex, const gnutls_datum_t *der, const char *jti,
    int64_t token_exp, time_t now, const struct ca_issuance_extra *ex);
int	 ca_local_issue_and_record_ex(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_leaf *leaf, const char *jti, int64_t token_exp,
    time_t now, const struct ca_issuance_extra *ex, gnutls_datum_t *pem,
    char **serial_hex);
int	 ca_local_issue_and_record(struct ca_local *a, const struct ca_provisioner *prov,
    const struct ca_leaf *leaf, const char *jti, int64_t token_exp,
    time_t now, gnutls_datum_t *pem, char **serial_hex);
int	 ca_local_relay_token_unused(struct ca_local *a, const char *kid, const char *jti);
int	 ca_local_relay_recorded(struct ca_local *a, const char *serial);
int	 ca_local_relay_finish(struct ca_local *a, const struct ca_provisioner *prov,
    gnutls_pubkey_t pub, const struct ca_names *names,
    const struct ca_issuance_extra *ex, const char *jti, int64_t token_exp,
    time_t now, char **crt_pem, char **chain_pem, char **serial_hex);
int	 ca_local_relay_and_record(struct ca_local *a, const struct ca_provisioner *prov,
    gnutls_x509_crq_t crq, gnutls_pubkey_t pub, const char *sub,
    const char *const *sans, size_t n_sans, const struct ca_names *names,
    time_t nb, time_t na, const char *jti, int64_t token_exp, time_t now,
    const struct ca_issuance_extra *ex, char **crt_pem, char **chain_pem,
    char **serial_hex);
int	 ca_local_sign(struct ca_authority *ah, const struct ca_sign_req *req,
    struct ca_sign_result *res);
int	 ca_local_ra_server_cert(struct ca_local *a, const struct ca_provisioner *internal,
    const struct ca_names *names, time_t nb, time_t na, time_t now,
    char **pem, size_t *len);
int	 ca_local_issued_here(const struct ca_local *a, gnutls_x509_crt_t crt);
int	 ca_local_serial_of(gnutls_x509_crt_t crt, char **hex);
int	 ca_local_revoke(struct ca_authority *ah, const struct ca_revoke_req *req,
    char **serial);
/*
 * The certificate a renewal is for, as req proves it at now: the mutual
 * TLS certificate, or an x5c renew token's (then *jti is the key it is
 * recorded under and *token_exp its exp), either issued by this CA.
 * *crt (gnutls_x509_crt_deinit) and *jti (free) are the caller's;
 * CA_ERR_AUTH saying what does not hold.
 */
int	 ca_local_renew_proof(struct ca_local *a, const struct ca_renew_req *req,
    time_t now, gnutls_x509_crt_t *crt, char **jti, int64_t *token_exp);
int	 ca_local_renew(struct ca_authority *ah, const struct ca_renew_req *req,
    struct ca_sign_result *res);
/* lib/scep.c: SCEP (lib/scep.h) on the local authority. */
int	 ca_local_scep(struct ca_authority *ah, const struct ca_scep_req *req,
    struct ca_scep_resp *resp);
/* lib/acme.c: the ACME operations of the local authority. */
int	 ca_local_acme(struct ca_authority *ah, const struct ca_acme_req *req,
    struct ca_acme_resp *resp);
int	 ca_local_acme_validated(struct ca_authority *ah,
    const struct ca_acme_job *job, int ok, const char *problem_type,
    const char *detail, time_t now);

#endif /* CA_AUTHORITY_LOCAL_H */
