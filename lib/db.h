/*
 * db.h - what the CA records in its store, and how it reads it back:
 * issued certificates, their issuance data, used tokens.
 *
 * Keys (step-ca's bucket names, "/"-separated):
 *   x509_certs/<serial hex>       DER of the certificate
 *   x509_certs_data/<serial hex>  JSON: provisioner {id,name,type}, jti,
 *                                 issuedAt, identity, acme {account,order}
 *   used_ott/<scope>.<jti>        JSON: serial, provisioner, exp, usedAt
 *                                 (scope: a JWK's kid, see ott_scope)
 *   revoked_x509_certs/<serial>   JSON: reasonCode, reason, revokedAt, by
 *   crl/number                    the last CRL number (decimal text)
 *   crl/der, crl/info             the last CRL, and "number thisUpdate
 *                                 nextUpdate revision" (decimal text)
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_DB_H
#define CA_DB_H

#include <stdint.h>
#include <time.h>
#include <gnutls/x509.h>

#include "x509.h"

struct ca_store;
struct ca_provisioner;

/* One issuance, as recorded. */
struct ca_issuance {
	const char	*serial;	/* canonical hex */
	const unsigned char *der;
	size_t		 der_len;
	const struct ca_provisioner *prov;
	const char	*jti;		/* NULL for internal issuances and mTLS renewals */
	int64_t		 token_exp;
	time_t		 issued_at;
	const char	*renewed_from;	/* a renewal: that serial must not be revoked */
	/*
	 * The used token's scope: used_ott/<ott_scope>.<jti>; NULL: prov->kid
	 * (JWK). "x5c" for an x5cInsecure renewal; issue 13's types
	 * "x5c/NAME", "oidc/CLIENTID", "k8ssa/NAME", "scep/NAME" (DESIGN13 0.3).
	 */
	const char	*ott_scope;
	const char	*identity;	/* who it was issued to (ca-db list), or NULL */
	/* A serial that must not be revoked when this is recorded (an X5C
	 * token's leaf issued here), checked in the same transaction. */
	const char	*check_unrevoked;
	/* An ACME issuance: the account and the order it came from. */
	const char	*acme_account;
	const char	*acme_order;
	/*
	 * Another participant's writes in the same transaction (the ACME
	 * order's new state): called once the records are queued; its
	 * failure drops them too. NULL: none.
	 */
	int		(*also)(struct ca_store *st, const struct ca_issuance *is,
			    void *arg);
	void		*also_arg;
};

/* The provisioner recorded for certificates the CA makes for itself. */
#define CA_INTERNAL_PROVISIONER	"ca-serve"
#define CA_INTERNAL_TYPE	"internal"

/*
 * Queue the records of one issuance in the open write transaction, then
 * run is->also. CA_ERR_REPLAY if the token was used; CA_ERR_EXISTS if the
 * serial is taken; also's error. Nothing is queued on failure.
 */
int	 ca_db_add_issuance(struct ca_store *st, const struct ca_issuance *is);

/* A certificate as ca-db shows it. */
struct ca_cert_info {
	char		*serial;	/* canonical hex */
	char		*subject;	/* RFC 4514 DN */
	struct ca_names	 names;		/* by type, as in the certificate */
	time_t		 not_before, not_after;
	char		*provisioner;	/* name, or NULL when the data record is missing */
	char		*jti;
	time_t		 issued_at;
	unsigned char	*der;
	size_t		 der_len;
	int		 revoked;
	time_t		 revoked_at;
	int		 reason;	/* CA_REASON_* */
	char		*reason_text;
	char		*renewed_from;
	char		*identity;	/* who it was issued to, or NULL */
	char		*acme_account;	/* ACME issuances: account and order ids */
	char		*acme_order;
};
void	 ca_cert_info_free(struct ca_cert_info *ci);
/* Status word at time now: "valid", "expired", "revoked". */
const char *ca_cert_info_status(const struct ca_cert_info *ci, time_t now);

/*
 * All issued certificates in a read transaction, sorted by notBefore then
 * serial. Caller frees each with ca_cert_info_free and the array with free.
 */
int	 ca_db_list(struct ca_store *st, struct ca_cert_info **out, size_t *n);
/* One certificate by canonical serial; CA_ERR_NOTFOUND if unknown. */
int	 ca_db_get(struct ca_store *st, const char *serial,
	    struct ca_cert_info *out);
/* A revocation, as recorded. */
struct ca_revocation {
	const char	*serial;	/* canonical hex */
	int		 reason;	/* CA_REASON_* (NONE: unspecified, no code) */
	const char	*reason_text;	/* may be NULL */
	time_t		 revoked_at;
	const char	*by;		/* "ca-revoke -d", a provisioner, "mtls" */
};
/*
 * Queue a revocation in the open write transaction: CA_ERR_NOTFOUND for
 * a serial this CA never issued, CA_ERR_EXISTS if already revoked.
 */
int	 ca_db_add_revocation(struct ca_store *st, const struct ca_revocation *r);
/*
 * Whether serial is revoked: 0 and *rev filled (strings malloc'd: free
 * reason_text and by), or CA_ERR_NOTFOUND.
 */
int	 ca_db_get_revocation(struct ca_store *st, const char *serial,
	    int *reason, time_t *revoked_at, char **reason_text);
/* Call fn for every revocation (serial hex, time, reason). */
int	 ca_db_foreach_revocation(struct ca_store *st,
	    int (*fn)(void *arg, const char *serial, time_t revoked_at,
	    int reason), void *arg);
/*
 * Queue the record of a one-time token spent on something other than an
 * issuance (a revocation): CA_ERR_REPLAY if it was used before.
 */
int	 ca_db_use_token(struct ca_store *st, const char *kid, const char *jti,
	    const char *provisioner, const char *serial, int64_t exp, time_t now);
/* 0 when the token kid.jti was never used, else CA_ERR_REPLAY (or an error). */
int	 ca_db_token_used(struct ca_store *st, const char *kid, const char *jti);

/* The DER of serial's certificate record (free it); CA_ERR_NOTFOUND. */
int	 ca_db_get_cert(struct ca_store *st, const char *serial,
	    unsigned char **der, size_t *len);
/* Whether this CA issued serial: 1 yes, 0 no, or an error. */
int	 ca_db_exists(struct ca_store *st, const char *serial);

/* The CRL last made, as stored (see crl/ above). */
struct ca_db_crl {
	unsigned char	*der;		/* malloc'd by ca_db_get_crl */
	size_t		 len;
	uint64_t	 number;
	time_t		 this_update, next_update;
	uint64_t	 revision;	/* the revocation counter it includes */
};
/* CA_ERR_NOTFOUND when no CRL was made yet; free out->der. */
int	 ca_db_get_crl(struct ca_store *st, struct ca_db_crl *out);
/* Queue it in the open write transaction. */
int	 ca_db_put_crl(struct ca_store *st, const struct ca_db_crl *c);

/* The last CRL number taken (0: none yet). */
int	 ca_db_crl_number(struct ca_store *st, uint64_t *number);
/* Take the next CRL number (queued in the open write transaction). */
int	 ca_db_next_crl_number(struct ca_store *st, uint64_t *number);

/*
 * Whether a stored certificate record checks out: DER that parses, with
 * the serial it is stored under, signed by issuer (validity dates not
 * checked; issuer NULL: the signature is not checked). 0, or CA_ERR_STORE
 * with what is wrong ("SERIAL: ...").
 */
int	 ca_db_cert_check(const char *serial, const unsigned char *der,
	    size_t len, gnutls_x509_crt_t issuer);

/*
 * Audit the whole store: every certificate parses, its serial matches its
 * key, it was signed by issuer (time checks off), it has its data record
 * naming a provisioner, and its token record points back at it; every
 * token record points at a certificate; no interrupted transaction.
 * report is called once per problem; *problems receives the count.
 */
int	 ca_db_check(struct ca_store *st, gnutls_x509_crt_t issuer,
	    void (*report)(void *arg, const char *problem), void *arg,
	    size_t *problems, size_t *certs);

#endif /* CA_DB_H */
