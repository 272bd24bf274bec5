/*
 * asn1.c - libtasn1 helpers shared by the CRL and OCSP encoders.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <libtasn1.h>

#include "ca.h"
#include "asn1.h"
#include "x509.h"

/* Generated from lib/pkix-ca.asn by asn1Parser (make asn1). */
extern const asn1_static_node ca_pkix_asn1_tab[];

static asn1_node pkix;
static int pkix_rc;
static pthread_once_t pkix_once = PTHREAD_ONCE_INIT;

static void
pkix_load(void)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];

	pkix_rc = asn1_array2tree(ca_pkix_asn1_tab, &pkix, err);
}

int
ca_asn1_new(const char *type, asn1_node *out)
{
	int r;

	*out = NULL;
	if ((r = pthread_once(&pkix_once, pkix_load)) != 0)
		return ca_err(CA_ERR_CRYPTO, "ASN.1 definitions: %s",
		    strerror(r));
	if (pkix_rc != ASN1_SUCCESS)
		return ca_err(CA_ERR_CRYPTO, "ASN.1 definitions: %s",
		    asn1_strerror(pkix_rc));
	if ((r = asn1_create_element(pkix, type, out)) != ASN1_SUCCESS)
		return ca_err(CA_ERR_CRYPTO, "%s: %s", type, asn1_strerror(r));
	return 0;
}

int
ca_asn1_put(asn1_node n, const char *name, const void *value, size_t len)
{
	int r;

	if (len > INT_MAX)
		return ca_err(CA_ERR_INVAL, "%s: value too large", name);
	if ((r = asn1_write_value(n, name, value, (int)len)) != ASN1_SUCCESS)
		return ca_err(CA_ERR_CRYPTO, "ASN.1 %s: %s", name,
		    asn1_strerror(r));
	return 0;
}

int
ca_asn1_encode(asn1_node n, const char *name, gnutls_datum_t *out)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
	int len = 0, r;

	out->data = NULL;
	out->size = 0;
	if ((r = asn1_der_coding(n, name, NULL, &len, err)) != ASN1_MEM_ERROR ||
	    len <= 0)
		return ca_err(CA_ERR_CRYPTO, "DER encoding: %s",
		    err[0] != '\0' ? err : asn1_strerror(r));
	if ((out->data = gnutls_malloc((size_t)len)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((r = asn1_der_coding(n, name, out->data, &len, err)) !=
	    ASN1_SUCCESS) {
		gnutls_free(out->data);
		out->data = NULL;
		return ca_err(CA_ERR_CRYPTO, "DER encoding: %s",
		    err[0] != '\0' ? err : asn1_strerror(r));
	}
	out->size = (unsigned)len;
	return 0;
}

int
ca_asn1_get(asn1_node n, const char *name, void *buf, size_t size,
    size_t *len)
{
	int l = size > INT_MAX ? INT_MAX : (int)size, r;

	*len = 0;
	if ((r = asn1_read_value(n, name, buf, &l)) == ASN1_SUCCESS)
		*len = (size_t)l;
	return r;
}

static const struct ca_sigalg sigalgs[] = {
	{ GNUTLS_PK_ECDSA, GNUTLS_DIG_SHA256, GNUTLS_SIGN_ECDSA_SHA256,
	    "1.2.840.10045.4.3.2", 0 },
	{ GNUTLS_PK_ECDSA, GNUTLS_DIG_SHA384, GNUTLS_SIGN_ECDSA_SHA384,
	    "1.2.840.10045.4.3.3", 0 },
	{ GNUTLS_PK_ECDSA, GNUTLS_DIG_SHA512, GNUTLS_SIGN_ECDSA_SHA512,
	    "1.2.840.10045.4.3.4", 0 },
	{ GNUTLS_PK_EDDSA_ED25519, GNUTLS_DIG_UNKNOWN, GNUTLS_SIGN_EDDSA_ED25519,
	    "1.3.101.112", 0 },
	{ GNUTLS_PK_RSA, GNUTLS_DIG_SHA256, GNUTLS_SIGN_RSA_SHA256,
	    "1.2.840.113549.1.1.11", 1 },
	{ GNUTLS_PK_RSA, GNUTLS_DIG_SHA384, GNUTLS_SIGN_RSA_SHA384,
	    "1.2.840.113549.1.1.12", 1 },
	{ GNUTLS_PK_RSA, GNUTLS_DIG_SHA512, GNUTLS_SIGN_RSA_SHA512,
	    "1.2.840.113549.1.1.13", 1 },
};

int
ca_sigalg_of(const struct ca_issuer *iss, const struct ca_sigalg **out)
{
	gnutls_digest_algorithm_t dig = iss->dig;
	int pk = gnutls_privkey_get_pk_algorithm(iss->key, NULL);
	size_t i;

	*out = NULL;
	if (pk == GNUTLS_PK_EDDSA_ED25519)
		dig = GNUTLS_DIG_UNKNOWN;
	else if (dig == GNUTLS_DIG_UNKNOWN)
		dig = GNUTLS_DIG_SHA256;
	for (i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		if (sigalgs[i].pk == (gnutls_pk_algorithm_t)pk &&
		    sigalgs[i].dig == dig) {
			*out = &sigalgs[i];
			return 0;
		}
	return ca_err(CA_ERR_CRYPTO,
	    "no signature algorithm for a %s key with %s",
	    pk < 0 ? "unknown" : gnutls_pk_get_name((gnutls_pk_algorithm_t)pk),
	    dig == GNUTLS_DIG_UNKNOWN ? "no hash" : gnutls_digest_get_name(dig));
}

int
ca_asn1_put_algorithm(asn1_node n, const char *name,
    const struct ca_sigalg *alg)
{
	char a[64], b[64];
	int rc;

	snprintf(a, sizeof(a), "%s%salgorithm", name, *name ? "." : "");
	snprintf(b, sizeof(b), "%s%sparameters", name, *name ? "." : "");
	if ((rc = ca_asn1_put(n, a, alg->oid, 1)) != 0)
		return rc;
	/* RSA: NULL parameters (RFC 4055); ECDSA, EdDSA: absent. */
	if (alg->null_params)
		return ca_asn1_put(n, b, "\x05\x00", 2);
	return ca_asn1_put(n, b, NULL, 0);
}

/* Times */

/* 1950-01-01 and 2050-01-01: UTCTime in between (RFC 5280 4.1.2.5). */
#define UTC_MIN		((time_t)-631152000)
#define UTC_END		((time_t)2524608000)
/* 0000-01-01 and 10000-01-01: the range of GeneralizedTime. */
#define GEN_MIN		((time_t)-62167219200)
#define GEN_END		((time_t)253402300800)

int
ca_asn1_time_valid(time_t t)
{
	return t >= GEN_MIN && t < GEN_END;
}

int
ca_asn1_time_is_utc(time_t t)
{
	return t >= UTC_MIN && t < UTC_END;
}

static char *
digits2(char *p, int v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/*
 * The text of t as UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime
 * "YYYYMMDDHHMMSSZ" (buf of at least 16); returns its length, 0 when t
 * is out of range.
 */
size_t
ca_asn1_time_text(time_t t, int utc, char *buf)
{
	struct tm tm;
	char *p = buf;
	int year;

	if (!ca_asn1_time_valid(t) || gmtime_r(&t, &tm) == NULL)
		return 0;
	year = tm.tm_year + 1900;
	if (!utc) {
		p = digits2(p, year / 100);
		p = digits2(p, year % 100);
	} else
		p = digits2(p, year % 100);
	p = digits2(p, tm.tm_mon + 1);
	p = digits2(p, tm.tm_mday);
	p = digits2(p, tm.tm_hour);
	p = digits2(p, tm.tm_min);
	p = digits2(p, tm.tm_sec);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}
