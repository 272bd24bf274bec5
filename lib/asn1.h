/*
 * asn1.h - what lib/crl.c and lib/ocsp.c share to encode with libtasn1:
 * the definitions of lib/pkix-ca.asn (parsed once per process), value
 * access that records errors, and the issuer's signature algorithm.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ASN1_H
#define CA_ASN1_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <libtasn1.h>

struct ca_issuer;

/* A new structure of type ("PKIX-CA.TBSCertList", ...). */
int	 ca_asn1_new(const char *type, asn1_node *out);
/* asn1_write_value() with the error recorded. */
int	 ca_asn1_put(asn1_node n, const char *name, const void *value,
	    size_t len);
/* DER of element name of n (the whole of n for "") into gnutls memory. */
int	 ca_asn1_encode(asn1_node n, const char *name, gnutls_datum_t *out);
/*
 * Read the value name of n into buf (size bytes); *len gets its length.
 * libtasn1's codes (ASN1_ELEMENT_NOT_FOUND, ...) are returned as they are.
 */
int	 ca_asn1_get(asn1_node n, const char *name, void *buf, size_t size,
	    size_t *len);

/* A signature algorithm (RFC 5758, 8410, 4055). */
struct ca_sigalg {
	gnutls_pk_algorithm_t		 pk;
	gnutls_digest_algorithm_t	 dig;
	gnutls_sign_algorithm_t		 sign;
	const char			*oid;
	int				 null_params;	/* RSA */
};
/* The algorithm iss signs with: its key type and hash. */
int	 ca_sigalg_of(const struct ca_issuer *iss, const struct ca_sigalg **out);
/* The AlgorithmIdentifier name of n ("": n itself) for alg. */
int	 ca_asn1_put_algorithm(asn1_node n, const char *name,
	    const struct ca_sigalg *alg);

/* Whether t fits GeneralizedTime (years 0000-9999). */
int	 ca_asn1_time_valid(time_t t);
/* Whether t is written as UTCTime (1950-2049, RFC 5280 4.1.2.5). */
int	 ca_asn1_time_is_utc(time_t t);
/*
 * t as UTCTime "YYMMDDHHMMSSZ" (utc set) or GeneralizedTime
 * "YYYYMMDDHHMMSSZ" into buf (16 bytes); its length, 0 when out of range.
 */
size_t	 ca_asn1_time_text(time_t t, int utc, char *buf);

#endif /* CA_ASN1_H */
