/*
 * ocsp.h - an OCSP responder's encoding (RFC 6960): requests parsed and
 * basic responses built with libtasn1 (GnuTLS 3.7 parses OCSP responses
 * but cannot build them), signed by the issuing CA itself.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_OCSP_H
#define CA_OCSP_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>

struct ca_issuer;

#define CA_OCSP_MAX_REQUESTS	8	/* single requests in one OCSPRequest */
#define CA_OCSP_MAX_NONCE	128

/* One CertID of a request, as sent (its hash algorithm is kept). */
struct ca_ocsp_certid {
	gnutls_digest_algorithm_t hash;		/* SHA-1, SHA-256, SHA-384, SHA-512 */
	unsigned char	 name_hash[64];
	unsigned char	 key_hash[64];
	size_t		 hash_len;
	unsigned char	 serial[21];		/* INTEGER content octets */
	size_t		 serial_len;
};

struct ca_ocsp_request {
	struct ca_ocsp_certid ids[CA_OCSP_MAX_REQUESTS];
	size_t		 n;
	unsigned char	 nonce[CA_OCSP_MAX_NONCE];	/* the nonce extension's value */
	size_t		 nonce_len;			/* 0: no nonce */
	int		 has_nonce;
};

/*
 * Parse a DER OCSPRequest (strict DER, size-limited). Signed requests
 * are accepted, their signature ignored. CA_ERR_INVAL when malformed
 * (the caller answers malformedRequest).
 */
int	 ca_ocsp_request_parse(const void *der, size_t len,
	    struct ca_ocsp_request *out);

/* Whether id names a certificate issued by iss (name and key hashes). */
int	 ca_ocsp_certid_matches(const struct ca_ocsp_certid *id,
	    const struct ca_issuer *iss);

/*
 * The same with the issuer's hashes computed once (a responder answers
 * many requests for one issuer): its name and key under each CertID hash
 * algorithm accepted (SHA-1, SHA-256, SHA-384, SHA-512, in that order).
 */
struct ca_ocsp_issuer {
	unsigned char	 name_hash[4][64];
	unsigned char	 key_hash[4][64];
};
int	 ca_ocsp_issuer_init(const struct ca_issuer *iss,
	    struct ca_ocsp_issuer *out);
/* 1 when id names a certificate of the issuer behind oi, else 0. */
int	 ca_ocsp_certid_match(const struct ca_ocsp_certid *id,
	    const struct ca_ocsp_issuer *oi);

enum ca_ocsp_status { CA_OCSP_GOOD, CA_OCSP_REVOKED, CA_OCSP_UNKNOWN };

struct ca_ocsp_single {
	const struct ca_ocsp_certid *id;	/* echoed as received */
	enum ca_ocsp_status status;
	time_t		 revoked_at;		/* CA_OCSP_REVOKED */
	int		 reason;		/* CA_REASON_*; NONE: no reason */
	time_t		 this_update;
	time_t		 next_update;		/* 0: none */
};

/*
 * A successful OCSPResponse with a BasicOCSPResponse signed by iss:
 * responderID byKey, producedAt, the single responses, the nonce
 * extension when nonce is not NULL, and iss's certificate is not
 * included (the issuer signs its own responses). *der: gnutls_free.
 */
int	 ca_ocsp_response_build(const struct ca_issuer *iss,
	    const struct ca_ocsp_single *s, size_t n, const unsigned char *nonce,
	    size_t nonce_len, time_t produced_at, gnutls_datum_t *der);

/* An unsuccessful OCSPResponse: malformedRequest (1), internalError (2),
 * tryLater (3), sigRequired (5), unauthorized (6). *der: gnutls_free. */
int	 ca_ocsp_response_error(int status, gnutls_datum_t *der);

#endif /* CA_OCSP_H */
