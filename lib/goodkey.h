/*
 * goodkey.h - which keys and CSRs the CA accepts, after Boulder's goodkey
 * rules: RSA of 2048 to 8192 bits with e = 65537, no small prime factor
 * and primes not close enough for Fermat to find; ECDSA on P-256, P-384
 * or P-521; Ed25519. CSRs signed with SHA-256, -384 or -512 (or Ed25519),
 * given as exactly one PEM block or one DER structure.
 *
 * Every refusal is CA_ERR_INVAL with one line naming the rule broken.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_GOODKEY_H
#define CA_GOODKEY_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

/* RSA moduli tried against Fermat's factorisation, as Boulder does. */
#define CA_FERMAT_ROUNDS	100
/* Every prime up to this one is tried as a factor of an RSA modulus. */
#define CA_SMALL_PRIME_MAX	751

/*
 * The public key against the rules above; what names it in messages
 * ("CSR key"). 0 if it is good.
 */
int	 ca_key_check(gnutls_pubkey_t pub, const char *what);

/* The CSR's signature algorithm: SHA-256/384/512 or Ed25519. */
int	 ca_csr_check_signature(gnutls_x509_crq_t crq);

/*
 * A CSR as a client sent it, to its DER: one PEM block ("CERTIFICATE
 * REQUEST" or "NEW CERTIFICATE REQUEST") with only white space around it,
 * or one DER SEQUENCE with nothing after it. *der is set to point into
 * buf (DER) or to a new buffer (*to_free, gnutls_free).
 */
int	 ca_csr_decode(const void *buf, size_t len, gnutls_datum_t *der,
	    void **to_free);

#endif /* CA_GOODKEY_H */
