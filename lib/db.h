/*
 * db.h - what the CA records in its store, and how it reads it back:
 * issued certificates, their issuance data, used tokens.
 *
 * Keys (step-ca's bucket names, "/"-separated):
 *   x509_certs/<serial hex>       DER of the certificate
 *   x509_certs_data/<serial hex>  JSON: provisioner {id,name,type}, jti,
 *                                 issuedAt
 *   used_ott/<kid>.<jti>          JSON: serial, provisioner, exp, usedAt
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_DB_H
#define CA_DB_H

#include <stdint.h>
#include <time.h>
#include <gnutls/x509.h>

struct ca_store;
struct ca_provisioner;

/* One issuance, as recorded. */
struct ca_issuance {
	const char	*serial;	/* canonical hex */
	const unsigned char *der;
	size_t		 der_len;
	const struct ca_provisioner *prov;
	const char	*jti;		/* NULL for internal issuances */
	int64_t		 token_exp;
	time_t		 issued_at;
};

/* The provisioner recorded for certificates the CA makes for itself. */
#define CA_INTERNAL_PROVISIONER	"ca-serve"
#define CA_INTERNAL_TYPE	"internal"

/*
 * Queue the records of one issuance in the open write transaction.
 * CA_ERR_REPLAY if the token was used; CA_ERR_EXISTS if the serial is
 * taken. Nothing is queued on failure.
 */
int	 ca_db_add_issuance(struct ca_store *st, const struct ca_issuance *is);

/* A certificate as ca-db shows it. */
struct ca_cert_info {
	char		*serial;	/* canonical hex */
	char		*subject;	/* RFC 4514 DN */
	char		*sans;		/* "a,b,c" */
	time_t		 not_before, not_after;
	char		*provisioner;	/* name, or NULL when the data record is missing */
	char		*jti;
	time_t		 issued_at;
	unsigned char	*der;
	size_t		 der_len;
};
void	 ca_cert_info_free(struct ca_cert_info *ci);
/* Status word at time now: "valid", "expired". */
const char *ca_cert_info_status(const struct ca_cert_info *ci, time_t now);

/*
 * All issued certificates in a read transaction, sorted by notBefore then
 * serial. Caller frees each with ca_cert_info_free and the array with free.
 */
int	 ca_db_list(struct ca_store *st, struct ca_cert_info **out, size_t *n);
/* One certificate by canonical serial; CA_ERR_NOTFOUND if unknown. */
int	 ca_db_get(struct ca_store *st, const char *serial,
	    struct ca_cert_info *out);
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
