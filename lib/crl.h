/*
 * crl.h - certificate revocation lists (RFC 5280 section 5), built with
 * libtasn1 because GnuTLS has no setter for entry extensions (reason
 * codes), and signed with the issuing CA's key.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CRL_H
#define CA_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/gnutls.h>

struct ca_issuer;

/* RFC 5280 CRLReason; CA_REASON_NONE: no reasonCode extension. */
enum {
	CA_REASON_NONE = -1,
	CA_REASON_UNSPECIFIED = 0,
	CA_REASON_KEY_COMPROMISE = 1,
	CA_REASON_CA_COMPROMISE = 2,
	CA_REASON_AFFILIATION_CHANGED = 3,
	CA_REASON_SUPERSEDED = 4,
	CA_REASON_CESSATION_OF_OPERATION = 5,
	CA_REASON_CERTIFICATE_HOLD = 6,
	/* 7 is not used */
	CA_REASON_REMOVE_FROM_CRL = 8,
	CA_REASON_PRIVILEGE_WITHDRAWN = 9,
	CA_REASON_AA_COMPROMISE = 10,
};

/* "keyCompromise", "superseded", ... or a number; CA_ERR_INVAL otherwise. */
int	 ca_reason_parse(const char *s, int *code);
/* The RFC 5280 name of a reason code ("unspecified" for unknown ones). */
const char *ca_reason_name(int code);

struct ca_crl_entry {
	const unsigned char	*serial;	/* DER INTEGER content octets */
	size_t			 serial_len;
	time_t			 revoked_at;
	int			 reason;	/* CA_REASON_* */
};

/*
 * The INTEGER content octets of a store's canonical hex serial, minimal
 * (buf: 21 octets), as a CRL entry holds them; CA_ERR_STORE for a serial
 * that is not hex or too long.
 */
int	 ca_crl_serial_octets(const char *hex, unsigned char *buf, size_t *len);

/*
 * A CRL v2 signed by iss: issuer = iss's subject, thisUpdate, nextUpdate,
 * the entries (each with a reasonCode entry extension unless
 * CA_REASON_NONE), CRL number and authority key identifier extensions.
 * With no entries the revokedCertificates field is absent. *der is
 * gnutls-allocated (gnutls_free).
 */
int	 ca_crl_build(const struct ca_issuer *iss,
	    const struct ca_crl_entry *entries, size_t n, uint64_t number,
	    time_t this_update, time_t next_update, gnutls_datum_t *der);

#endif /* CA_CRL_H */
