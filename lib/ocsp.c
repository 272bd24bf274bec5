/*
 * ocsp.c - an OCSP responder's encoding (RFC 6960): requests decoded and
 * basic responses encoded with libtasn1 from lib/pkix-ca.asn, signed by
 * the issuing CA's own key (no delegated responder, no certs field).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <libtasn1.h>

#include "ca.h"
#include "crl.h"
#include "ocsp.h"
#include "asn1.h"
#include "x509.h"

#define OCSP_MAX_REQUEST	(16 * 1024)	/* a DER OCSPRequest */

#define OID_OCSP_BASIC	"1.3.6.1.5.5.7.48.1.1"
#define OID_OCSP_NONCE	"1.3.6.1.5.5.7.48.1.2"

/* CertID hash algorithms (RFC 6960 4.1.1, RFC 5754). */
static const struct {
	gnutls_digest_algorithm_t	 dig;
	const char			*oid;
} hashes[] = {
	{ GNUTLS_DIG_SHA1, "1.3.14.3.2.26" },
	{ GNUTLS_DIG_SHA256, "2.16.840.1.101.3.4.2.1" },
	{ GNUTLS_DIG_SHA384, "2.16.840.1.101.3.4.2.2" },
	{ GNUTLS_DIG_SHA512, "2.16.840.1.101.3.4.2.3" },
};
#define N_HASHES	(sizeof(hashes) / sizeof(hashes[0]))

static const char *
hash_oid(gnutls_digest_algorithm_t dig)
{
	size_t i;

	for (i = 0; i < N_HASHES; i++)
		if (hashes[i].dig == dig)
			return hashes[i].oid;
	return NULL;
}

/* ca_asn1_put() to the name made of prefix and suffix. */
static int
put2(asn1_node n, const char *prefix, const char *suffix, const void *value,
    size_t len)
{
	char name[160];

	snprintf(name, sizeof(name), "%s.%s", prefix, suffix);
	return ca_asn1_put(n, name, value, len);
}

/* The same with the name made of a format. */
static int
getf(asn1_node n, void *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
getf(asn1_node n, void *buf, size_t size, size_t *len, const char *fmt, ...)
{
	char name[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return ca_asn1_get(n, name, buf, size, len);
}

/* Requests */

/* Whether an INTEGER's content octets are in minimal (DER) form. */
static int
int_minimal(const unsigned char *p, size_t len)
{
	if (len == 0)
		return 0;
	if (len == 1)
		return 1;
	return !((p[0] == 0x00 && (p[1] & 0x80) == 0) ||
	    (p[0] == 0xff && (p[1] & 0x80) != 0));
}

/*
 * The nonce's extnValue, kept as received. RFC 8954 (and RFC 9654, which
 * replaces it) make it an OCTET STRING holding the nonce, which must not
 * be empty; RFC 2560 clients sent the bare nonce, which is echoed too.
 */
static int
take_nonce(asn1_node r, const char *ext, struct ca_ocsp_request *out)
{
	const unsigned char *v = out->nonce;
	size_t len;
	int e;

	if (out->has_nonce)
		return ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: two nonce extensions");
	e = getf(r, out->nonce, sizeof(out->nonce), &len, "%s.extnValue", ext);
	if (e == ASN1_MEM_ERROR)
		return ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: nonce longer than %d octets",
		    CA_OCSP_MAX_NONCE);
	if (e != ASN1_SUCCESS || len == 0 ||
	    (len == 2 && v[0] == 0x04 && v[1] == 0x00))
		return ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: empty nonce");
	out->nonce_len = len;
	out->has_nonce = 1;
	return 0;
}

/*
 * The extensions in list (absent is fine): the nonce goes to out when
 * not NULL; an unknown critical extension makes the request unusable
 * (RFC 6960 4.4, RFC 5280 4.2).
 */
static int
check_exts(asn1_node r, const char *list, struct ca_ocsp_request *out)
{
	char ext[128], oid[128], crit[8];
	size_t len;
	int count = 0, e, i, rc;

	if ((e = asn1_number_of_elements(r, list, &count)) ==
	    ASN1_ELEMENT_NOT_FOUND)
		return 0;
	if (e != ASN1_SUCCESS)
		return ca_err(CA_ERR_INVAL, "malformed OCSP request: %s",
		    asn1_strerror(e));
	for (i = 1; i <= count; i++) {
		snprintf(ext, sizeof(ext), "%s.?%d", list, i);
		if (getf(r, oid, sizeof(oid), &len, "%s.extnID", ext) !=
		    ASN1_SUCCESS)
			return ca_err(CA_ERR_INVAL,
			    "malformed OCSP request: extension");
		if (getf(r, crit, sizeof(crit), &len, "%s.critical", ext) !=
		    ASN1_SUCCESS)
			strcpy(crit, "FALSE");
		if (out != NULL && strcmp(oid, OID_OCSP_NONCE) == 0) {
			if ((rc = take_nonce(r, ext, out)) != 0)
				return rc;
		} else if (strcmp(crit, "TRUE") == 0)
			return ca_err(CA_ERR_INVAL,
			    "OCSP request: unsupported critical extension %s",
			    oid);
	}
	return 0;
}

static int
parse_certid(asn1_node r, int i, struct ca_ocsp_certid *id)
{
	char oid[128], prefix[96];
	unsigned char params[8];
	size_t len, hlen, k;
	int e;

	snprintf(prefix, sizeof(prefix), "tbsRequest.requestList.?%d.reqCert",
	    i);
	if (getf(r, oid, sizeof(oid), &len, "%s.hashAlgorithm.algorithm",
	    prefix) != ASN1_SUCCESS)
		return ca_err(CA_ERR_INVAL, "malformed OCSP request: CertID");
	for (k = 0; k < N_HASHES; k++)
		if (strcmp(oid, hashes[k].oid) == 0)
			break;
	if (k == N_HASHES)
		return ca_err(CA_ERR_INVAL,
		    "OCSP request: unsupported hash algorithm %s", oid);
	id->hash = hashes[k].dig;
	hlen = gnutls_hash_get_len(id->hash);
	/* Parameters absent or NULL (RFC 5754 2). */
	e = getf(r, params, sizeof(params), &len,
	    "%s.hashAlgorithm.parameters", prefix);
	if (e != ASN1_ELEMENT_NOT_FOUND && (e != ASN1_SUCCESS || len != 2 ||
	    params[0] != 0x05 || params[1] != 0x00))
		return ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: hash algorithm parameters");
	if (getf(r, id->name_hash, sizeof(id->name_hash), &len,
	    "%s.issuerNameHash", prefix) != ASN1_SUCCESS || len != hlen ||
	    getf(r, id->key_hash, sizeof(id->key_hash), &len,
	    "%s.issuerKeyHash", prefix) != ASN1_SUCCESS || len != hlen)
		return ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: issuer hash length");
	id->hash_len = hlen;
	if (getf(r, id->serial, sizeof(id->serial), &id->serial_len,
	    "%s.serialNumber", prefix) != ASN1_SUCCESS ||
	    !int_minimal(id->serial, id->serial_len))
		return ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: serial number");
	/* No certificate has more (RFC 5280 4.1.2.2); the store has none. */
	if (id->serial_len > CA_SERIAL_MAX)
		return ca_err(CA_ERR_INVAL, "malformed OCSP request: serial "
		    "number of %zu octets, over %d", id->serial_len,
		    CA_SERIAL_MAX);
	return 0;
}

int
ca_ocsp_request_parse(const void *der, size_t len, struct ca_ocsp_request *out)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "", list[96];
	unsigned char ver[8];
	gnutls_datum_t re = { NULL, 0 };
	asn1_node r = NULL;
	size_t vlen;
	int count = 0, dlen, e, i, rc;

	memset(out, 0, sizeof(*out));
	if (len > OCSP_MAX_REQUEST)
		return ca_err(CA_ERR_TOOBIG,
		    "OCSP request of %zu bytes (limit %d)", len,
		    OCSP_MAX_REQUEST);
	if (der == NULL || len == 0)
		return ca_err(CA_ERR_INVAL, "malformed OCSP request: empty");
	if ((rc = ca_asn1_new("PKIX-CA.OCSPRequest", &r)) != 0)
		return rc;
	dlen = (int)len;
	if ((e = asn1_der_decoding2(&r, der, &dlen,
	    ASN1_DECODE_FLAG_STRICT_DER, err)) != ASN1_SUCCESS) {
		rc = ca_err(CA_ERR_INVAL, "malformed OCSP request: %s",
		    err[0] != '\0' ? err : asn1_strerror(e));
		goto out;
	}
	if ((size_t)dlen != len) {
		rc = ca_err(CA_ERR_INVAL,
		    "malformed OCSP request: data after the request");
		goto out;
	}
	/*
	 * libtasn1's strict mode still takes long-form lengths for short
	 * values; DER is what encodes back to the same octets.
	 */
	if ((rc = ca_asn1_encode(r, "", &re)) != 0)
		goto out;
	if (re.size != len || memcmp(re.data, der, len) != 0) {
		rc = ca_err(CA_ERR_INVAL, "malformed OCSP request: not DER");
		goto out;
	}
	/* v1 (0), or absent (the default). */
	e = ca_asn1_get(r, "tbsRequest.version", ver, sizeof(ver), &vlen);
	if (e == ASN1_SUCCESS && !(vlen == 1 && ver[0] == 0)) {
		rc = ca_err(CA_ERR_INVAL, "OCSP request: unsupported version");
		goto out;
	}
	snprintf(list, sizeof(list), "tbsRequest.requestList");
	if (asn1_number_of_elements(r, list, &count) != ASN1_SUCCESS ||
	    count < 1) {
		rc = ca_err(CA_ERR_INVAL, "malformed OCSP request: no request");
		goto out;
	}
	if (count > CA_OCSP_MAX_REQUESTS) {
		rc = ca_err(CA_ERR_INVAL,
		    "OCSP request for %d certificates (limit %d)", count,
		    CA_OCSP_MAX_REQUESTS);
		goto out;
	}
	for (i = 1; i <= count; i++) {
		if ((rc = parse_certid(r, i, &out->ids[i - 1])) != 0)
			goto out;
		snprintf(list, sizeof(list),
		    "tbsRequest.requestList.?%d.singleRequestExtensions", i);
		if ((rc = check_exts(r, list, NULL)) != 0)
			goto out;
	}
	out->n = (size_t)count;
	rc = check_exts(r, "tbsRequest.requestExtensions", out);
out:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	gnutls_free(re.data);
	asn1_delete_structure(&r);
	return rc;
}

/* Issuer hashes */

/* The contents of the issuer's subjectPublicKey BIT STRING. */
static int
issuer_key_bits(gnutls_x509_crt_t crt, unsigned char *buf, size_t size,
    size_t *len)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE] = "";
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = { NULL, 0 };
	asn1_node n = NULL;
	int bits, dlen, e, ret, rc;

	*len = 0;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "issuer public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_asn1_new("PKIX-CA.SubjectPublicKeyInfo", &n)) != 0)
		goto out;
	dlen = (int)spki.size;
	bits = (int)size;
	if ((e = asn1_der_decoding2(&n, spki.data, &dlen,
	    ASN1_DECODE_FLAG_STRICT_DER, err)) != ASN1_SUCCESS ||
	    (e = asn1_read_value(n, "subjectPublicKey", buf, &bits)) !=
	    ASN1_SUCCESS || bits % 8 != 0) {
		rc = ca_err(CA_ERR_CRYPTO, "issuer public key: %s",
		    err[0] != '\0' ? err : asn1_strerror(e));
		goto out;
	}
	*len = (size_t)bits / 8;
	rc = 0;
out:
	asn1_delete_structure(&n);
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	return rc;
}

int
ca_ocsp_issuer_init(const struct ca_issuer *iss, struct ca_ocsp_issuer *out)
{
	unsigned char key[2048];
	gnutls_datum_t dn = { NULL, 0 };
	size_t k, klen;
	int ret, rc;

	memset(out, 0, sizeof(*out));
	if ((ret = gnutls_x509_crt_get_raw_dn(iss->crt, &dn)) < 0)
		return ca_err(CA_ERR_CRYPTO, "issuer name: %s",
		    gnutls_strerror(ret));
	if ((rc = issuer_key_bits(iss->crt, key, sizeof(key), &klen)) != 0)
		goto out;
	for (k = 0; k < N_HASHES; k++)
		if ((ret = gnutls_hash_fast(hashes[k].dig, dn.data, dn.size,
		    out->name_hash[k])) < 0 ||
		    (ret = gnutls_hash_fast(hashes[k].dig, key, klen,
		    out->key_hash[k])) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "issuer hashes: %s",
			    gnutls_strerror(ret));
			goto out;
		}
	rc = 0;
out:
	gnutls_free(dn.data);
	return rc;
}

int
ca_ocsp_certid_match(const struct ca_ocsp_certid *id,
    const struct ca_ocsp_issuer *oi)
{
	size_t k;

	for (k = 0; k < N_HASHES; k++)
		if (hashes[k].dig == id->hash)
			return id->hash_len == gnutls_hash_get_len(id->hash) &&
			    memcmp(oi->name_hash[k], id->name_hash,
			    id->hash_len) == 0 &&
			    memcmp(oi->key_hash[k], id->key_hash,
			    id->hash_len) == 0;
	return 0;
}

int
ca_ocsp_certid_matches(const struct ca_ocsp_certid *id,
    const struct ca_issuer *iss)
{
	struct ca_ocsp_issuer oi;
	int rc;

	if ((rc = ca_ocsp_issuer_init(iss, &oi)) != 0)
		return rc;
	return ca_ocsp_certid_match(id, &oi);
}

/* Responses */

static int
put_gtime(asn1_node n, const char *prefix, const char *suffix, time_t t)
{
	char text[16];

	if (ca_asn1_time_text(t, 0, text) == 0)
		return ca_err(CA_ERR_INVAL, "time out of range");
	return put2(n, prefix, suffix, text, strlen(text));
}

static int
single_check(const struct ca_ocsp_single *s, size_t i)
{
	const struct ca_ocsp_certid *id = s->id;

	if (id == NULL || hash_oid(id->hash) == NULL ||
	    id->hash_len != gnutls_hash_get_len(id->hash) ||
	    id->serial_len == 0 || id->serial_len > sizeof(id->serial))
		return ca_err(CA_ERR_INVAL, "OCSP response %zu: bad CertID", i);
	if (s->status != CA_OCSP_GOOD && s->status != CA_OCSP_REVOKED &&
	    s->status != CA_OCSP_UNKNOWN)
		return ca_err(CA_ERR_INVAL, "OCSP response %zu: bad status", i);
	if (s->status == CA_OCSP_REVOKED && s->reason != CA_REASON_NONE &&
	    (s->reason < CA_REASON_UNSPECIFIED ||
	    s->reason > CA_REASON_AA_COMPROMISE || s->reason == 7))
		return ca_err(CA_ERR_INVAL, "OCSP response %zu: bad reason %d",
		    i, s->reason);
	if (s->next_update != 0 && s->next_update < s->this_update)
		return ca_err(CA_ERR_INVAL,
		    "OCSP response %zu: nextUpdate before thisUpdate", i);
	return 0;
}

/* SingleResponse s as the last element of responses in b. */
static int
put_single(asn1_node b, const struct ca_ocsp_single *s)
{
	const char *p = "tbsResponseData.responses.?LAST";
	const struct ca_ocsp_certid *id = s->id;
	char reason[8];
	int rc;

	if ((rc = ca_asn1_put(b, "tbsResponseData.responses", "NEW", 1)) != 0 ||
	    (rc = put2(b, p, "certID.hashAlgorithm.algorithm",
	    hash_oid(id->hash), 1)) != 0 ||
	    (rc = put2(b, p, "certID.hashAlgorithm.parameters", "\x05\x00",
	    2)) != 0 ||
	    (rc = put2(b, p, "certID.issuerNameHash", id->name_hash,
	    id->hash_len)) != 0 ||
	    (rc = put2(b, p, "certID.issuerKeyHash", id->key_hash,
	    id->hash_len)) != 0 ||
	    (rc = put2(b, p, "certID.serialNumber", id->serial,
	    id->serial_len)) != 0)
		return rc;
	switch (s->status) {
	case CA_OCSP_GOOD:
		rc = put2(b, p, "certStatus", "good", 1);
		break;
	case CA_OCSP_REVOKED:
		if ((rc = put2(b, p, "certStatus", "revoked", 1)) != 0 ||
		    (rc = put_gtime(b, p, "certStatus.revoked.revocationTime",
		    s->revoked_at)) != 0)
			return rc;
		if (s->reason == CA_REASON_NONE)
			rc = put2(b, p, "certStatus.revoked.revocationReason",
			    NULL, 0);
		else {
			snprintf(reason, sizeof(reason), "%d", s->reason);
			rc = put2(b, p, "certStatus.revoked.revocationReason",
			    reason, 0);
		}
		break;
	default:
		rc = put2(b, p, "certStatus", "unknown", 1);
		break;
	}
	if (rc != 0 ||
	    (rc = put_gtime(b, p, "thisUpdate", s->this_update)) != 0)
		return rc;
	if (s->next_update != 0)
		rc = put_gtime(b, p, "nextUpdate", s->next_update);
	else
		rc = put2(b, p, "nextUpdate", NULL, 0);
	if (rc != 0 || (rc = put2(b, p, "singleExtensions", NULL, 0)) != 0)
		return rc;
	return 0;
}

/* OCSPResponse { successful, { id-pkix-ocsp-basic, basic } }. */
static int
wrap_basic(const gnutls_datum_t *basic, gnutls_datum_t *der)
{
	asn1_node r = NULL;
	int rc;

	if ((rc = ca_asn1_new("PKIX-CA.OCSPResponse", &r)) == 0 &&
	    (rc = ca_asn1_put(r, "responseStatus", "successful", 0)) == 0 &&
	    (rc = ca_asn1_put(r, "responseBytes.responseType", OID_OCSP_BASIC, 1)) == 0 &&
	    (rc = ca_asn1_put(r, "responseBytes.response", basic->data,
	    basic->size)) == 0)
		rc = ca_asn1_encode(r, "", der);
	asn1_delete_structure(&r);
	return rc;
}

int
ca_ocsp_response_build(const struct ca_issuer *iss,
    const struct ca_ocsp_single *s, size_t n, const unsigned char *nonce,
    size_t nonce_len, time_t produced_at, gnutls_datum_t *der)
{
	const struct ca_sigalg *alg;
	unsigned char key[2048], kid[20];
	gnutls_datum_t tbs = { NULL, 0 }, sig = { NULL, 0 };
	gnutls_datum_t basic = { NULL, 0 };
	asn1_node b = NULL;
	size_t klen, i;
	int ret, rc;

	der->data = NULL;
	der->size = 0;
	if (s == NULL || n == 0 || n > CA_OCSP_MAX_REQUESTS)
		return ca_err(CA_ERR_INVAL,
		    "an OCSP response holds 1 to %d single responses",
		    CA_OCSP_MAX_REQUESTS);
	if (nonce != NULL && nonce_len > CA_OCSP_MAX_NONCE)
		return ca_err(CA_ERR_INVAL, "OCSP nonce too long");
	for (i = 0; i < n; i++)
		if ((rc = single_check(&s[i], i)) != 0)
			return rc;
	if ((rc = ca_sigalg_of(iss, &alg)) != 0 ||
	    (rc = issuer_key_bits(iss->crt, key, sizeof(key), &klen)) != 0)
		goto out;
	/* ResponderID byKey: SHA-1 of the key, whatever the CertIDs use. */
	if ((ret = gnutls_hash_fast(GNUTLS_DIG_SHA1, key, klen, kid)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "responder key hash: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_asn1_new("PKIX-CA.BasicOCSPResponse", &b)) != 0 ||
	    (rc = ca_asn1_put(b, "tbsResponseData.version", "v1", 0)) != 0 ||
	    (rc = ca_asn1_put(b, "tbsResponseData.responderID", "byKey", 1)) != 0 ||
	    (rc = ca_asn1_put(b, "tbsResponseData.responderID.byKey", kid,
	    sizeof(kid))) != 0 ||
	    (rc = put_gtime(b, "tbsResponseData", "producedAt",
	    produced_at)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = put_single(b, &s[i])) != 0)
			goto out;
	if (nonce != NULL && nonce_len > 0) {
		/* The request's extnValue, echoed as it came (RFC 9654). */
		if ((rc = ca_asn1_put(b, "tbsResponseData.responseExtensions", "NEW",
		    1)) != 0 ||
		    (rc = ca_asn1_put(b, "tbsResponseData.responseExtensions.?LAST.extnID",
		    OID_OCSP_NONCE, 1)) != 0 ||
		    (rc = ca_asn1_put(b, "tbsResponseData.responseExtensions.?LAST.critical",
		    "FALSE", 1)) != 0 ||
		    (rc = ca_asn1_put(b, "tbsResponseData.responseExtensions.?LAST.extnValue",
		    nonce, nonce_len)) != 0)
			goto out;
	} else if ((rc = ca_asn1_put(b, "tbsResponseData.responseExtensions", NULL,
	    0)) != 0)
		goto out;
	if ((rc = ca_asn1_encode(b, "tbsResponseData", &tbs)) != 0)
		goto out;
	if ((ret = gnutls_privkey_sign_data2(iss->key, alg->sign, 0, &tbs,
	    &sig)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "signing OCSP response: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_asn1_put_algorithm(b, "signatureAlgorithm", alg)) != 0 ||
	    (rc = ca_asn1_put(b, "signature", sig.data, (size_t)sig.size * 8)) != 0 ||
	    (rc = ca_asn1_put(b, "certs", NULL, 0)) != 0 ||
	    (rc = ca_asn1_encode(b, "", &basic)) != 0)
		goto out;
	rc = wrap_basic(&basic, der);
out:
	gnutls_free(tbs.data);
	gnutls_free(sig.data);
	gnutls_free(basic.data);
	asn1_delete_structure(&b);
	return rc;
}

int
ca_ocsp_response_error(int status, gnutls_datum_t *der)
{
	asn1_node r = NULL;
	char v[8];
	int rc;

	der->data = NULL;
	der->size = 0;
	if (status != 1 && status != 2 && status != 3 && status != 5 &&
	    status != 6)
		return ca_err(CA_ERR_INVAL, "invalid OCSP error status %d",
		    status);
	snprintf(v, sizeof(v), "%d", status);
	if ((rc = ca_asn1_new("PKIX-CA.OCSPResponse", &r)) == 0 &&
	    (rc = ca_asn1_put(r, "responseStatus", v, 0)) == 0 &&
	    (rc = ca_asn1_put(r, "responseBytes", NULL, 0)) == 0)
		rc = ca_asn1_encode(r, "", der);
	asn1_delete_structure(&r);
	return rc;
}
