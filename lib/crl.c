/*
 * crl.c - certificate revocation lists (RFC 5280 section 5).
 *
 * The fixed part of the TBSCertList (version, signature algorithm, issuer,
 * times, extensions) is encoded with libtasn1 from lib/pkix-ca.asn. The
 * revokedCertificates list is encoded here by hand and spliced in:
 * libtasn1 finds "?LAST" by walking the list, so appending n entries costs
 * O(n^2) (measured: 10,000 entries 1.3 s, 30,000 entries 13.6 s), while
 * the list is a regular structure whose DER is simple to write directly.
 * The result is signed with the issuer's key and wrapped by hand.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <libtasn1.h>

#include "ca.h"
#include "crl.h"
#include "asn1.h"
#include "x509.h"

#define OID_AKI		"2.5.29.35"
#define OID_CRL_NUMBER	"2.5.29.20"

/* Serial numbers: RFC 5280 allows 20 octets, plus one for the sign. */
#define SERIAL_MAX	21

static const char *const reason_names[] = {
	"unspecified",
	"keyCompromise",
	"cACompromise",
	"affiliationChanged",
	"superseded",
	"cessationOfOperation",
	"certificateHold",
	NULL,			/* 7 is not used */
	"removeFromCRL",
	"privilegeWithdrawn",
	"aACompromise",
};
#define N_REASONS	(sizeof(reason_names) / sizeof(reason_names[0]))

static int
reason_valid(int code)
{
	return code >= 0 && (size_t)code < N_REASONS &&
	    reason_names[code] != NULL;
}

int
ca_reason_parse(const char *s, int *code)
{
	size_t i;
	int v;

	*code = CA_REASON_NONE;
	for (i = 0; i < N_REASONS; i++)
		if (reason_names[i] != NULL && strcasecmp(s, reason_names[i]) == 0) {
			*code = (int)i;
			return 0;
		}
	/* A decimal code: one or two digits, no sign, no padding. */
	if (s[0] >= '0' && s[0] <= '9' && (s[1] == '\0' ||
	    (s[0] != '0' && s[1] >= '0' && s[1] <= '9' && s[2] == '\0'))) {
		v = s[1] == '\0' ? s[0] - '0' : (s[0] - '0') * 10 + s[1] - '0';
		if (reason_valid(v)) {
			*code = v;
			return 0;
		}
	}
	return ca_err(CA_ERR_INVAL, "unknown revocation reason '%s' "
	    "(use an RFC 5280 name such as keyCompromise, or a code 0-10 "
	    "other than 7)", s);
}

const char *
ca_reason_name(int code)
{
	return reason_valid(code) ? reason_names[code] : reason_names[0];
}

/* Hand-written DER. */

/* Size of the DER length field for len. */
static size_t
der_len_size(size_t len)
{
	size_t n = 1;

	if (len < 0x80)
		return 1;
	while (len > 0) {
		n++;
		len >>= 8;
	}
	return n;
}

/* Tag and length at p; returns the position after them. */
static unsigned char *
der_put_hdr(unsigned char *p, unsigned char tag, size_t len)
{
	size_t k;

	*p++ = tag;
	if (len < 0x80) {
		*p++ = (unsigned char)len;
		return p;
	}
	k = der_len_size(len) - 1;
	*p++ = (unsigned char)(0x80 | k);
	while (k-- > 0)
		*p++ = (unsigned char)(len >> (8 * k));
	return p;
}

/*
 * Read the tag and length of the element at *p (< end) of our own DER
 * (single-octet tags, definite lengths); *p is moved to its contents.
 */
static int
der_get_hdr(const unsigned char **p, const unsigned char *end,
    unsigned char *tag, size_t *len)
{
	const unsigned char *q = *p;
	size_t k, v = 0;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if (*q < 0x80)
		v = *q++;
	else {
		k = *q++ & 0x7f;
		if (k == 0 || k > sizeof(size_t) || (size_t)(end - q) < k)
			return -1;
		while (k-- > 0)
			v = (v << 8) | *q++;
	}
	if ((size_t)(end - q) < v)
		return -1;
	*p = q;
	*len = v;
	return 0;
}

/* Write Time t into the CHOICE name of n. */
static int
put_time(asn1_node n, const char *name, time_t t)
{
	char text[16], sub[64];
	int utc = ca_asn1_time_is_utc(t), rc;

	if (ca_asn1_time_text(t, utc, text) == 0)
		return ca_err(CA_ERR_INVAL, "%s: time out of range", name);
	snprintf(sub, sizeof(sub), "%s.%s", name, utc ? "utcTime" :
	    "generalTime");
	if ((rc = ca_asn1_put(n, name, utc ? "utcTime" : "generalTime", 1)) != 0 ||
	    (rc = ca_asn1_put(n, sub, text, strlen(text))) != 0)
		return rc;
	return 0;
}

/*
 * reasonCode entry extension: Extensions { Extension { id-ce-cRLReasons,
 * extnValue OCTET STRING { ENUMERATED code } } }, critical omitted (FALSE).
 */
static const unsigned char reason_ext[] = {
	0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15,
	0x04, 0x03, 0x0a, 0x01, 0x00 /* the code */
};

/* Length of the contents of entry e's RevokedCertificate SEQUENCE. */
static size_t
entry_len(const struct ca_crl_entry *e)
{
	return 2 + e->serial_len + (ca_asn1_time_is_utc(e->revoked_at) ? 15 : 17) +
	    (e->reason == CA_REASON_NONE ? 0 : sizeof(reason_ext));
}

static int
entry_check(const struct ca_crl_entry *e, size_t i)
{
	const unsigned char *s = e->serial;

	/* A positive or zero INTEGER in minimal form. */
	if (s == NULL || e->serial_len == 0 || e->serial_len > SERIAL_MAX ||
	    (s[0] & 0x80) != 0 ||
	    (e->serial_len > 1 && s[0] == 0 && (s[1] & 0x80) == 0))
		return ca_err(CA_ERR_INVAL, "CRL entry %zu: invalid serial", i);
	if (!ca_asn1_time_valid(e->revoked_at))
		return ca_err(CA_ERR_INVAL,
		    "CRL entry %zu: revocation time out of range", i);
	if (e->reason != CA_REASON_NONE && !reason_valid(e->reason))
		return ca_err(CA_ERR_INVAL,
		    "CRL entry %zu: invalid reason code %d", i, e->reason);
	return 0;
}

static unsigned char *
entry_put(unsigned char *p, const struct ca_crl_entry *e)
{
	char text[16];
	int utc = ca_asn1_time_is_utc(e->revoked_at);
	size_t tl;

	p = der_put_hdr(p, 0x30, entry_len(e));
	p = der_put_hdr(p, 0x02, e->serial_len);
	memcpy(p, e->serial, e->serial_len);
	p += e->serial_len;
	tl = ca_asn1_time_text(e->revoked_at, utc, text);	/* checked already */
	p = der_put_hdr(p, utc ? 0x17 : 0x18, tl);
	memcpy(p, text, tl);
	p += tl;
	if (e->reason != CA_REASON_NONE) {
		memcpy(p, reason_ext, sizeof(reason_ext));
		p[sizeof(reason_ext) - 1] = (unsigned char)e->reason;
		p += sizeof(reason_ext);
	}
	return p;
}

/*
 * Insert the revokedCertificates SEQUENCE of the n entries into tbs0 (a
 * TBSCertList without it) in front of crlExtensions, its last element.
 */
static int
splice_revoked(const gnutls_datum_t *tbs0, const struct ca_crl_entry *entries,
    size_t n, gnutls_datum_t *tbs)
{
	const unsigned char *p = tbs0->data, *end = p + tbs0->size, *body, *ext;
	unsigned char tag, *q;
	size_t len, list = 0, seq, total, i;
	int rc;

	tbs->data = NULL;
	tbs->size = 0;
	for (i = 0; i < n; i++) {
		if ((rc = entry_check(&entries[i], i)) != 0)
			return rc;
		list += 2 + entry_len(&entries[i]);
	}
	if (der_get_hdr(&p, end, &tag, &len) != 0 || tag != 0x30 ||
	    p + len != end)
		return ca_err(CA_ERR_CRYPTO, "TBSCertList: bad encoding");
	body = p;
	for (;;) {
		ext = p;
		if (der_get_hdr(&p, end, &tag, &len) != 0)
			return ca_err(CA_ERR_CRYPTO,
			    "TBSCertList: no crlExtensions");
		if (tag == 0xa0)
			break;
		p += len;
	}
	seq = 1 + der_len_size(list) + list;
	len = (size_t)(end - body) + seq;
	total = 1 + der_len_size(len) + len;
	if (total > UINT_MAX)
		return ca_err(CA_ERR_TOOBIG, "CRL too large");
	if ((tbs->data = gnutls_malloc(total)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	q = der_put_hdr(tbs->data, 0x30, len);
	memcpy(q, body, (size_t)(ext - body));
	q += ext - body;
	q = der_put_hdr(q, 0x30, list);
	for (i = 0; i < n; i++)
		q = entry_put(q, &entries[i]);
	memcpy(q, ext, (size_t)(end - ext));
	q += end - ext;
	tbs->size = (unsigned)(q - tbs->data);
	return 0;
}

/* The issuer's subject key identifier (its key id if it has none). */
static int
issuer_key_id(gnutls_x509_crt_t crt, unsigned char *id, size_t *len)
{
	size_t size = *len;
	unsigned crit;
	int ret;

	if (gnutls_x509_crt_get_subject_key_id(crt, id, &size, &crit) >= 0) {
		*len = size;
		return 0;
	}
	size = *len;
	if ((ret = gnutls_x509_crt_get_key_id(crt, 0, id, &size)) < 0)
		return ca_err(CA_ERR_CRYPTO, "issuer key identifier: %s",
		    gnutls_strerror(ret));
	*len = size;
	return 0;
}

/* Append the non-critical extension oid with the value to list name. */
static int
put_ext(asn1_node n, const char *list, const char *oid,
    const gnutls_datum_t *value)
{
	char name[96];
	int rc;

	if ((rc = ca_asn1_put(n, list, "NEW", 1)) != 0)
		return rc;
	snprintf(name, sizeof(name), "%s.?LAST.extnID", list);
	if ((rc = ca_asn1_put(n, name, oid, 1)) != 0)
		return rc;
	snprintf(name, sizeof(name), "%s.?LAST.critical", list);
	if ((rc = ca_asn1_put(n, name, "FALSE", 1)) != 0)
		return rc;
	snprintf(name, sizeof(name), "%s.?LAST.extnValue", list);
	return ca_asn1_put(n, name, value->data, value->size);
}

/* The DER of the crlExtensions values: AKI and CRL number. */
static int
crl_ext_values(const struct ca_issuer *iss, uint64_t number,
    gnutls_datum_t *aki, gnutls_datum_t *num)
{
	unsigned char id[64], be[9];
	size_t idlen = sizeof(id);
	asn1_node a = NULL, c = NULL;
	int i, rc;

	aki->data = num->data = NULL;
	aki->size = num->size = 0;
	if ((rc = issuer_key_id(iss->crt, id, &idlen)) != 0)
		return rc;
	/* Unsigned big-endian with a sign octet; libtasn1 trims it. */
	be[0] = 0;
	for (i = 0; i < 8; i++)
		be[1 + i] = (unsigned char)(number >> (56 - 8 * i));
	if ((rc = ca_asn1_new("PKIX-CA.AuthorityKeyIdentifier", &a)) != 0 ||
	    (rc = ca_asn1_put(a, "keyIdentifier", id, idlen)) != 0 ||
	    (rc = ca_asn1_put(a, "authorityCertIssuer", NULL, 0)) != 0 ||
	    (rc = ca_asn1_put(a, "authorityCertSerialNumber", NULL, 0)) != 0 ||
	    (rc = ca_asn1_encode(a, "", aki)) != 0)
		goto out;
	if ((rc = ca_asn1_new("PKIX-CA.CRLNumber", &c)) != 0 ||
	    (rc = ca_asn1_put(c, "", be, sizeof(be))) != 0 ||
	    (rc = ca_asn1_encode(c, "", num)) != 0)
		goto out;
out:
	if (rc != 0) {
		gnutls_free(aki->data);
		aki->data = NULL;
	}
	asn1_delete_structure(&a);
	asn1_delete_structure(&c);
	return rc;
}

/* The TBSCertList without revokedCertificates. */
static int
crl_tbs0(const struct ca_issuer *iss, const struct ca_sigalg *alg,
    uint64_t number, time_t this_update, time_t next_update,
    gnutls_datum_t *tbs0)
{
	gnutls_datum_t dn = { NULL, 0 }, aki = { NULL, 0 }, num = { NULL, 0 };
	asn1_node t = NULL;
	int ret, rc;

	if ((ret = gnutls_x509_crt_get_raw_dn(iss->crt, &dn)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "issuer name: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = crl_ext_values(iss, number, &aki, &num)) != 0 ||
	    (rc = ca_asn1_new("PKIX-CA.TBSCertList", &t)) != 0 ||
	    (rc = ca_asn1_put(t, "version", "v2", 0)) != 0 ||
	    (rc = ca_asn1_put_algorithm(t, "signature", alg)) != 0 ||
	    (rc = ca_asn1_put(t, "issuer", dn.data, dn.size)) != 0 ||
	    (rc = put_time(t, "thisUpdate", this_update)) != 0 ||
	    (rc = put_time(t, "nextUpdate", next_update)) != 0 ||
	    (rc = ca_asn1_put(t, "revokedCertificates", NULL, 0)) != 0 ||
	    (rc = put_ext(t, "crlExtensions", OID_AKI, &aki)) != 0 ||
	    (rc = put_ext(t, "crlExtensions", OID_CRL_NUMBER, &num)) != 0 ||
	    (rc = ca_asn1_encode(t, "", tbs0)) != 0)
		goto out;
out:
	gnutls_free(dn.data);
	gnutls_free(aki.data);
	gnutls_free(num.data);
	asn1_delete_structure(&t);
	return rc;
}

/* SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING sig } signed by iss. */
static int
sign_wrap(const struct ca_issuer *iss, const struct ca_sigalg *alg,
    const gnutls_datum_t *tbs, gnutls_datum_t *der)
{
	gnutls_datum_t sig = { NULL, 0 }, algid = { NULL, 0 };
	asn1_node a = NULL;
	unsigned char *p;
	size_t bits, len, total;
	int ret, rc;

	der->data = NULL;
	der->size = 0;
	if ((ret = gnutls_privkey_sign_data2(iss->key, alg->sign, 0, tbs,
	    &sig)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "signing CRL: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_asn1_new("PKIX-CA.AlgorithmIdentifier", &a)) != 0 ||
	    (rc = ca_asn1_put_algorithm(a, "", alg)) != 0 ||
	    (rc = ca_asn1_encode(a, "", &algid)) != 0)
		goto out;
	bits = 1 + (size_t)sig.size;
	len = tbs->size + algid.size + 1 + der_len_size(bits) + bits;
	total = 1 + der_len_size(len) + len;
	if (total > UINT_MAX) {
		rc = ca_err(CA_ERR_TOOBIG, "CRL too large");
		goto out;
	}
	if ((der->data = gnutls_malloc(total)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	p = der_put_hdr(der->data, 0x30, len);
	memcpy(p, tbs->data, tbs->size);
	p += tbs->size;
	memcpy(p, algid.data, algid.size);
	p += algid.size;
	p = der_put_hdr(p, 0x03, bits);
	*p++ = 0;		/* no unused bits */
	memcpy(p, sig.data, sig.size);
	p += sig.size;
	der->size = (unsigned)(p - der->data);
	rc = 0;
out:
	gnutls_free(sig.data);
	gnutls_free(algid.data);
	asn1_delete_structure(&a);
	return rc;
}

int
ca_crl_build(const struct ca_issuer *iss, const struct ca_crl_entry *entries,
    size_t n, uint64_t number, time_t this_update, time_t next_update,
    gnutls_datum_t *der)
{
	const struct ca_sigalg *alg;
	gnutls_datum_t tbs0 = { NULL, 0 }, tbs = { NULL, 0 };
	int rc;

	der->data = NULL;
	der->size = 0;
	if (next_update <= this_update)
		return ca_err(CA_ERR_INVAL,
		    "CRL nextUpdate must be later than thisUpdate");
	if (n > 0 && entries == NULL)
		return ca_err(CA_ERR_INVAL, "CRL entries missing");
	if (n > (SIZE_MAX - UINT_MAX) / 64)
		return ca_err(CA_ERR_TOOBIG, "CRL too large");
	if ((rc = ca_sigalg_of(iss, &alg)) != 0 ||
	    (rc = crl_tbs0(iss, alg, number, this_update, next_update,
	    &tbs0)) != 0)
		goto out;
	if (n == 0) {
		/* RFC 5280 5.1.2.6: absent, not an empty list. */
		tbs = tbs0;
		tbs0.data = NULL;
	} else if ((rc = splice_revoked(&tbs0, entries, n, &tbs)) != 0)
		goto out;
	rc = sign_wrap(iss, alg, &tbs, der);
out:
	gnutls_free(tbs0.data);
	gnutls_free(tbs.data);
	return rc;
}

int
ca_crl_serial_octets(const char *hex, unsigned char *buf, size_t *len)
{
	unsigned char *raw = NULL;
	size_t n = 0, i;

	*len = 0;
	if (ca_unhex(hex, &raw, &n) != 0 || n == 0) {
		free(raw);
		return ca_err(CA_ERR_STORE, "bad serial in the store: %s", hex);
	}
	/* Minimal: no needless leading zero, a zero before a high bit. */
	for (i = 0; i + 1 < n && raw[i] == 0 && (raw[i + 1] & 0x80) == 0; i++)
		;
	if (n - i + ((raw[i] & 0x80) != 0) > 21) {
		free(raw);
		return ca_err(CA_ERR_STORE, "serial too long in the store: %s",
		    hex);
	}
	if (raw[i] & 0x80)
		buf[(*len)++] = 0;
	memcpy(buf + *len, raw + i, n - i);
	*len += n - i;
	free(raw);
	return 0;
}
