/*
 * goodkey.c - the key and CSR policy of the CA (see goodkey.h), after
 * Boulder's goodkey: https://github.com/letsencrypt/boulder (goodkey/).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gmp.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "goodkey.h"

#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	8192
#define RSA_EXPONENT	65537

/* Product of the primes up to CA_SMALL_PRIME_MAX, made once. */
static mpz_t primorial;
static pthread_once_t primorial_once = PTHREAD_ONCE_INIT;

static void
primorial_init(void)
{
	mpz_init(primorial);
	mpz_primorial_ui(primorial, CA_SMALL_PRIME_MAX);
}

/*
 * Fermat: n = a^2 - b^2 = (a + b)(a - b). Starting from a = ceil(sqrt(n)),
 * primes within about 2^(bits/4) of each other are found in a few rounds.
 */
static int
fermat_factorable(const mpz_t n, unsigned rounds)
{
	mpz_t a, b2;
	unsigned i;
	int found = 0;

	mpz_inits(a, b2, NULL);
	mpz_sqrtrem(a, b2, n);
	if (mpz_sgn(b2) == 0)
		found = 1;	/* n = p^2 */
	else
		mpz_add_ui(a, a, 1);
	for (i = 0; !found && i < rounds; i++) {
		mpz_mul(b2, a, a);
		mpz_sub(b2, b2, n);
		found = mpz_perfect_square_p(b2) != 0;
		mpz_add_ui(a, a, 1);
	}
	mpz_clears(a, b2, NULL);
	return found;
}

static int
rsa_check(gnutls_pubkey_t pub, unsigned bits, const char *what)
{
	gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 };
	mpz_t n, g;
	int ret, rc = 0;

	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return ca_err(CA_ERR_INVAL, "%s is RSA %u bits: at least %d "
		    "needed, at most %d", what, bits, RSA_MIN_BITS,
		    RSA_MAX_BITS);
	if ((ret = gnutls_pubkey_export_rsa_raw2(pub, &m, &e, 0)) < 0)
		return ca_err(CA_ERR_INVAL, "%s: %s", what,
		    gnutls_strerror(ret));
	mpz_inits(n, g, NULL);
	mpz_import(g, e.size, 1, 1, 0, 0, e.data);
	if (mpz_cmp_ui(g, RSA_EXPONENT) != 0) {
		if (mpz_sizeinbase(g, 2) <= 64)
			rc = ca_err(CA_ERR_INVAL, "%s: RSA public exponent "
			    "%lu, only %d accepted", what, mpz_get_ui(g),
			    RSA_EXPONENT);
		else
			rc = ca_err(CA_ERR_INVAL, "%s: RSA public exponent of "
			    "%zu bits, only %d accepted", what,
			    mpz_sizeinbase(g, 2), RSA_EXPONENT);
		goto out;
	}
	mpz_import(n, m.size, 1, 1, 0, 0, m.data);
	pthread_once(&primorial_once, primorial_init);
	mpz_gcd(g, n, primorial);
	if (mpz_cmp_ui(g, 1) != 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: RSA modulus has a prime factor "
		    "below %d", what, CA_SMALL_PRIME_MAX + 1);
		goto out;
	}
	if (fermat_factorable(n, CA_FERMAT_ROUNDS)) {
		rc = ca_err(CA_ERR_INVAL, "%s: RSA modulus factors by Fermat's "
		    "method (its primes are too close)", what);
		goto out;
	}
out:
	mpz_clears(n, g, NULL);
	gnutls_free(m.data);
	gnutls_free(e.data);
	return rc;
}

int
ca_key_check(gnutls_pubkey_t pub, const char *what)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	unsigned bits = 0;
	int pk, ret;

	pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
	switch (pk) {
	case GNUTLS_PK_RSA:
		return rsa_check(pub, bits, what);
	case GNUTLS_PK_ECDSA:
		if ((ret = gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL,
		    NULL, 0)) < 0)
			return ca_err(CA_ERR_INVAL, "%s: %s", what,
			    gnutls_strerror(ret));
		if (curve != GNUTLS_ECC_CURVE_SECP256R1 &&
		    curve != GNUTLS_ECC_CURVE_SECP384R1 &&
		    curve != GNUTLS_ECC_CURVE_SECP521R1)
			return ca_err(CA_ERR_INVAL, "%s is ECDSA on %s: only "
			    "P-256, P-384 and P-521 accepted", what,
			    gnutls_ecc_curve_get_name(curve) != NULL ?
			    gnutls_ecc_curve_get_name(curve) : "an unknown curve");
		return 0;
	case GNUTLS_PK_EDDSA_ED25519:
		return 0;
	default:
		return ca_err(CA_ERR_INVAL, "%s algorithm %s not accepted: "
		    "RSA, ECDSA and Ed25519 are", what,
		    gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) != NULL ?
		    gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : "unknown");
	}
}

int
ca_csr_check_signature(gnutls_x509_crq_t crq)
{
	int sig = gnutls_x509_crq_get_signature_algorithm(crq);
	gnutls_digest_algorithm_t dig;
	const char *name;

	if (sig == GNUTLS_SIGN_EDDSA_ED25519)
		return 0;
	dig = sig > 0 ? gnutls_sign_get_hash_algorithm(
	    (gnutls_sign_algorithm_t)sig) : GNUTLS_DIG_UNKNOWN;
	if (dig == GNUTLS_DIG_SHA256 || dig == GNUTLS_DIG_SHA384 ||
	    dig == GNUTLS_DIG_SHA512)
		return 0;
	name = sig > 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) :
	    NULL;
	return ca_err(CA_ERR_INVAL, "CSR signed with %s: only SHA-256, "
	    "SHA-384, SHA-512 and Ed25519 signatures accepted",
	    name != NULL ? name : "an unknown algorithm");
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The length of the DER TLV at p (at most n bytes), or 0 if malformed. */
static size_t
der_length(const unsigned char *p, size_t n)
{
	size_t len = 0, k, i;

	if (n < 2 || p[0] != 0x30)
		return 0;
	if (p[1] < 0x80) {
		len = p[1];
		k = 0;
	} else {
		k = p[1] & 0x7f;
		if (k == 0 || k > 4 || n < 2 + k)
			return 0;
		for (i = 0; i < k; i++)
			len = len << 8 | p[2 + i];
	}
	if (len > n - 2 - k)
		return 0;
	return 2 + k + len;
}

int
ca_csr_decode(const void *buf, size_t len, gnutls_datum_t *der,
    void **to_free)
{
	static const char *const labels[] = { "CERTIFICATE REQUEST",
	    "NEW CERTIFICATE REQUEST" };
	const unsigned char *p = buf, *end = p + len, *b, *e;
	char begin[64], endl[64];
	gnutls_datum_t pem, out = { NULL, 0 };
	size_t i, n;
	int ret;

	der->data = NULL;
	der->size = 0;
	*to_free = NULL;
	while (p < end && is_space(*p))
		p++;
	if ((size_t)(end - p) < 11 || memcmp(p, "-----BEGIN ", 11) != 0) {
		/* DER: one SEQUENCE, nothing before or after it. */
		n = der_length(buf, len);
		if (n == 0)
			return ca_err(CA_ERR_INVAL, "cannot parse CSR: neither "
			    "PEM nor DER");
		if (n != len)
			return ca_err(CA_ERR_INVAL, "CSR: %zu bytes after the "
			    "DER structure", len - n);
		der->data = (unsigned char *)(uintptr_t)buf;
		der->size = (unsigned)len;
		return 0;
	}
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		snprintf(begin, sizeof(begin), "-----BEGIN %s-----", labels[i]);
		n = strlen(begin);
		if ((size_t)(end - p) >= n && memcmp(p, begin, n) == 0 &&
		    (p + n == end || is_space(p[n])))
			break;
	}
	if (i == sizeof(labels) / sizeof(labels[0]))
		return ca_err(CA_ERR_INVAL, "cannot parse CSR: the PEM block "
		    "is not a CERTIFICATE REQUEST");
	snprintf(endl, sizeof(endl), "-----END %s-----", labels[i]);
	b = p;
	if ((e = memmem(b, (size_t)(end - b), endl, strlen(endl))) == NULL)
		return ca_err(CA_ERR_INVAL, "cannot parse CSR: no %s line",
		    endl);
	e += strlen(endl);
	for (p = e; p < end && is_space(*p); p++)
		;
	if (p < end)
		return ca_err(CA_ERR_INVAL, "CSR: %s after the PEM block (one "
		    "CSR, nothing else, is accepted)", (size_t)(end - p) >= 10 &&
		    memcmp(p, "-----BEGIN", 10) == 0 ? "another PEM block" :
		    "data");
	/* Nothing but base64 between the lines: no block inside. */
	if (memmem(b + strlen(begin), (size_t)(e - b) - strlen(begin) -
	    strlen(endl), "-----", 5) != NULL)
		return ca_err(CA_ERR_INVAL, "CSR: another PEM block inside the "
		    "PEM block (one CSR, nothing else, is accepted)");
	pem.data = (unsigned char *)(uintptr_t)b;
	pem.size = (unsigned)(e - b);
	if ((ret = gnutls_pem_base64_decode2(labels[i], &pem, &out)) < 0)
		return ca_err(CA_ERR_INVAL, "cannot parse CSR: %s",
		    gnutls_strerror(ret));
	if ((n = der_length(out.data, out.size)) != out.size) {
		gnutls_free(out.data);
		return ca_err(CA_ERR_INVAL, "cannot parse CSR: the PEM block "
		    "holds no single DER structure");
	}
	*der = out;
	*to_free = out.data;
	return 0;
}
