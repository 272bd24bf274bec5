/*
 * scep-msg.c - SCEP's PKCS#7 messages (see scep-msg.h; DESIGN13 4).
 *
 * Incoming SignedData is GnuTLS's (gnutls_pkcs7_*: parse, verify, signed
 * attributes). GnuTLS has no EnvelopedData and cannot sign empty content
 * nor write a certs-only bundle as id-data, so the envelope is read with
 * a bounded TLV walker here (definite lengths only; scepclient writes its
 * encryptedContent as BER, a constructed [0] of OCTET STRINGs), and the
 * answers are written as DER by hand from a handful of fixed shapes.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs7.h>

#include "ca.h"
#include "asn1.h"
#include "keys.h"
#include "scep-msg.h"

#define MAX_RECIPIENTS	8
#define MAX_CHUNKS	64
#define MAX_CONTENT	(1u << 20)

/* DER of the object identifiers used (contents only). */
static const unsigned char oid_data[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const unsigned char oid_signed[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const unsigned char oid_enveloped[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03 };
static const unsigned char oid_rsa[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const unsigned char oid_sha256[] =
    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const unsigned char oid_ctype[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03 };
static const unsigned char oid_mdigest[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04 };
static const unsigned char oid_stime[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05 };
#define SCEP_OID(x) \
    { 0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x45, 0x01, 0x09, (x) }
static const unsigned char oid_mtype[] = SCEP_OID(2);
static const unsigned char oid_status[] = SCEP_OID(3);
static const unsigned char oid_finfo[] = SCEP_OID(4);
static const unsigned char oid_snonce[] = SCEP_OID(5);
static const unsigned char oid_rnonce[] = SCEP_OID(6);
static const unsigned char oid_txid[] = SCEP_OID(7);
static const unsigned char oid_ftext[] =
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x18, 0x01 };

/* Content ciphers: OID contents, GnuTLS's, key and block lengths. */
static const struct cipher {
	unsigned char		 oid[9];
	size_t			 oid_len;
	gnutls_cipher_algorithm_t alg;
	size_t			 key_len, block;
} ciphers[] = {
	{ { 0x2b, 0x0e, 0x03, 0x02, 0x07 }, 5, GNUTLS_CIPHER_DES_CBC, 8, 8 },
	{ { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02 }, 9,
	    GNUTLS_CIPHER_AES_128_CBC, 16, 16 },
	{ { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a }, 9,
	    GNUTLS_CIPHER_AES_256_CBC, 32, 16 },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x07 }, 8,
	    GNUTLS_CIPHER_3DES_CBC, 24, 8 },
	{ { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16 }, 9,
	    GNUTLS_CIPHER_AES_192_CBC, 24, 16 },
};

/* ---- reading: one TLV at a time, definite lengths, within bounds ---- */

struct tlv {
	unsigned		 tag;
	const unsigned char	*v;
	size_t			 len;
	const unsigned char	*raw;	/* the whole TLV */
	size_t			 raw_len;
};

/* The next TLV in [*p, end); 0, or -1 on anything malformed. */
static int
tlv_next(const unsigned char **p, const unsigned char *end, struct tlv *t)
{
	const unsigned char *q = *p;
	size_t len, n, i;

	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	t->raw = q;
	t->tag = q[0];
	len = q[1];
	q += 2;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		for (len = 0, i = 0; i < n; i++)
			len = len << 8 | q[i];
		q += n;
	}
	if (len > (size_t)(end - q))
		return -1;
	t->v = q;
	t->len = len;
	*p = q + len;
	t->raw_len = (size_t)(*p - t->raw);
	return 0;
}

/* The TLV at *p must have tag; 0 or -1. */
static int
tlv_want(const unsigned char **p, const unsigned char *end, unsigned tag,
    struct tlv *t)
{
	return tlv_next(p, end, t) == 0 && t->tag == tag ? 0 : -1;
}

static int
oid_is(const struct tlv *t, const unsigned char *oid, size_t len)
{
	return t->tag == 0x06 && t->len == len && memcmp(t->v, oid, len) == 0;
}

/* An INTEGER's content without its leading zero bytes. */
static void
int_strip(const unsigned char **v, size_t *len)
{
	while (*len > 1 && (*v)[0] == 0) {
		(*v)++;
		(*len)--;
	}
}

/* Whether rid (an IssuerAndSerialNumber's contents) names crt. */
static int
rid_is(const struct tlv *rid, gnutls_x509_crt_t crt)
{
	const unsigned char *p = rid->v, *end = rid->v + rid->len, *s;
	unsigned char serial[64];
	size_t slen = sizeof(serial), n;
	gnutls_datum_t dn = { NULL, 0 };
	struct tlv name, num;
	int ok;

	if (tlv_want(&p, end, 0x30, &name) != 0 ||
	    tlv_want(&p, end, 0x02, &num) != 0 || p != end)
		return 0;
	if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) < 0)
		return 0;
	ok = dn.size == name.raw_len &&
	    memcmp(dn.data, name.raw, dn.size) == 0;
	gnutls_free(dn.data);
	if (!ok || gnutls_x509_crt_get_serial(crt, serial, &slen) < 0)
		return 0;
	s = serial;
	int_strip(&s, &slen);
	p = num.v;
	n = num.len;
	int_strip(&p, &n);
	return n == slen && memcmp(p, s, n) == 0;
}

/* The encryptedContent: [0] primitive, or constructed of OCTET STRINGs. */
static int
gather(const struct tlv *t, unsigned char **out, size_t *len)
{
	const unsigned char *p, *end;
	struct tlv c;
	size_t n = 0, total = 0;

	*out = NULL;
	*len = 0;
	if (t->tag == 0x80) {
		if (t->len > MAX_CONTENT || (*out = malloc(t->len + 1)) == NULL)
			return -1;
		memcpy(*out, t->v, t->len);
		*len = t->len;
		return 0;
	}
	if (t->tag != 0xa0 || t->len > MAX_CONTENT + 8 * MAX_CHUNKS ||
	    (*out = malloc(t->len + 1)) == NULL)
		return -1;
	for (p = t->v, end = t->v + t->len; p < end; n++) {
		if (n == MAX_CHUNKS || tlv_want(&p, end, 0x04, &c) != 0) {
			free(*out);
			*out = NULL;
			return -1;
		}
		memcpy(*out + total, c.v, c.len);
		total += c.len;
	}
	*len = total;
	return 0;
}

/*
 * Decrypt the pkcsPKIEnvelope ed with key (certificate crt) into
 * m->content; on failure the failInfo for the answer.
 */
static int
open_envelope(const gnutls_datum_t *ed, gnutls_privkey_t key,
    gnutls_x509_crt_t crt, struct ca_scep_msg *m)
{
	const unsigned char *p = ed->data, *end = ed->data + ed->size;
	const unsigned char *q, *qe, *r, *re;
	const struct cipher *ci = NULL;
	struct tlv t, ci_seq, ver, set, ktri, rid, alg, ek, eci, ctype, calg,
	    coid, iv, ec, found;
	unsigned char k[32], *ct = NULL, pad, bad;
	gnutls_cipher_hd_t h = NULL;
	gnutls_datum_t kd, ivd, ekd;
	size_t ct_len = 0, i, n;
	int rc = CA_SCEP_BADMSGCHECK, have = 0, nrec = 0;

	/* ContentInfo { envelopedData, [0] EnvelopedData } */
	if (tlv_want(&p, end, 0x30, &ci_seq) != 0 || p != end)
		return rc;
	p = ci_seq.v;
	end = ci_seq.v + ci_seq.len;
	if (tlv_next(&p, end, &t) != 0 ||
	    !oid_is(&t, oid_enveloped, sizeof(oid_enveloped)) ||
	    tlv_want(&p, end, 0xa0, &t) != 0 || p != end)
		return rc;
	p = t.v;
	end = t.v + t.len;
	if (tlv_want(&p, end, 0x30, &t) != 0 || p != end)
		return rc;
	p = t.v;
	end = t.v + t.len;
	/* version 0 or 2; recipientInfos; encryptedContentInfo */
	if (tlv_want(&p, end, 0x02, &ver) != 0 || ver.len != 1 ||
	    (ver.v[0] != 0 && ver.v[0] != 2) ||
	    tlv_want(&p, end, 0x31, &set) != 0 ||
	    tlv_want(&p, end, 0x30, &eci) != 0 || p != end)
		return rc;
	memset(&found, 0, sizeof(found));
	for (q = set.v, qe = set.v + set.len; q < qe; nrec++) {
		if (nrec == MAX_RECIPIENTS || tlv_want(&q, qe, 0x30, &ktri) != 0)
			return rc;
		r = ktri.v;
		re = ktri.v + ktri.len;
		if (tlv_want(&r, re, 0x02, &ver) != 0 ||
		    tlv_want(&r, re, 0x30, &rid) != 0 ||
		    tlv_want(&r, re, 0x30, &alg) != 0 ||
		    tlv_want(&r, re, 0x04, &ek) != 0 || r != re)
			return rc;
		if (!have && rid_is(&rid, crt)) {
			/* rsaEncryption only (no OAEP). */
			r = alg.v;
			re = alg.v + alg.len;
			if (tlv_next(&r, re, &t) != 0 ||
			    !oid_is(&t, oid_rsa, sizeof(oid_rsa)))
				return rc;
			found = ek;
			have = 1;
		}
	}
	if (!have)
		return rc;
	/* EncryptedContentInfo { data, AlgorithmIdentifier, [0] content } */
	p = eci.v;
	end = eci.v + eci.len;
	if (tlv_next(&p, end, &ctype) != 0 ||
	    !oid_is(&ctype, oid_data, sizeof(oid_data)) ||
	    tlv_want(&p, end, 0x30, &calg) != 0 ||
	    tlv_next(&p, end, &ec) != 0 || p != end)
		return rc;
	q = calg.v;
	qe = calg.v + calg.len;
	if (tlv_next(&q, qe, &coid) != 0 || coid.tag != 0x06)
		return rc;
	for (i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (oid_is(&coid, ciphers[i].oid, ciphers[i].oid_len))
			ci = &ciphers[i];
	if (ci == NULL)
		return CA_SCEP_BADALG;
	if (tlv_want(&q, qe, 0x04, &iv) != 0 || q != qe ||
	    iv.len != ci->block)
		return rc;
	if (gather(&ec, &ct, &ct_len) != 0 || ct_len == 0 ||
	    ct_len % ci->block != 0)
		goto out;

	/*
	 * The content key. A failure to decrypt it is not told apart from
	 * a wrong key: a random one decrypts the content to noise, and
	 * the answer is the same badMessageCheck (Bleichenbacher).
	 */
	ekd.data = (unsigned char *)(uintptr_t)found.v;
	ekd.size = (unsigned)found.len;
	if (gnutls_privkey_decrypt_data2(key, 0, &ekd, k, ci->key_len) < 0)
		(void)gnutls_rnd(GNUTLS_RND_NONCE, k, ci->key_len);
	kd.data = k;
	kd.size = (unsigned)ci->key_len;
	ivd.data = (unsigned char *)(uintptr_t)iv.v;
	ivd.size = (unsigned)iv.len;
	if (gnutls_cipher_init(&h, ci->alg, &kd, &ivd) < 0 ||
	    gnutls_cipher_decrypt(h, ct, ct_len) < 0)
		goto out;
	/* PKCS#7 padding, every byte checked. */
	pad = ct[ct_len - 1];
	bad = (unsigned char)(pad == 0 || pad > ci->block);
	n = pad == 0 || pad > ci->block ? 1 : pad;
	for (i = 0; i < n; i++)
		bad |= (unsigned char)(ct[ct_len - 1 - i] ^ pad);
	if (bad)
		goto out;
	ct_len -= n;
	if ((m->content.data = gnutls_malloc(ct_len + 1)) == NULL)
		goto out;
	memcpy(m->content.data, ct, ct_len);
	m->content.size = (unsigned)ct_len;
	rc = -1;
out:
	if (h != NULL)
		gnutls_cipher_deinit(h);
	gnutls_memset(k, 0, sizeof(k));
	if (ct != NULL) {
		gnutls_memset(ct, 0, ct_len);
		free(ct);
	}
	return rc;
}

/* A signed attribute's value: one TLV of tag, at most max bytes. */
static int
attr_value(const gnutls_datum_t *d, unsigned tag, size_t max, struct tlv *t)
{
	const unsigned char *p = d->data;

	if (tlv_want(&p, d->data + d->size, tag, t) != 0 ||
	    p != d->data + d->size || t->len > max)
		return -1;
	return 0;
}

/* A PrintableString's characters (X.680 41.4): answers repeat it. */
static int
printable(const struct tlv *t)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?";
	size_t i;

	for (i = 0; i < t->len; i++)
		if (t->v[i] == '\0' || strchr(ok, t->v[i]) == NULL)
			return 0;
	return 1;
}

/*
 * messageType, transactionID, senderNonce from the signer's attributes,
 * each exactly once (a second one would be read over the first).
 */
static int
read_attrs(gnutls_pkcs7_attrs_t attrs, struct ca_scep_msg *m)
{
	gnutls_datum_t val;
	struct tlv t;
	char *oid;
	unsigned i;
	int ret, have = 0;
	size_t j;

	m->type = -1;
	for (i = 0; i < 64; i++) {
		ret = gnutls_pkcs7_get_attr(attrs, i, &oid, &val, 0);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (ret < 0)
			return -1;
		if (strcmp(oid, "2.16.840.1.113733.1.9.2") == 0) {
			if (attr_value(&val, 0x13, 4, &t) != 0 || t.len == 0)
				ret = -1;
			for (m->type = 0, j = 0; ret >= 0 && j < t.len; j++) {
				if (t.v[j] < '0' || t.v[j] > '9')
					ret = -1;
				m->type = m->type * 10 + (t.v[j] - '0');
			}
			if (have & 1)
				ret = -1;
			have |= 1;
		} else if (strcmp(oid, "2.16.840.1.113733.1.9.7") == 0) {
			if (attr_value(&val, 0x13, CA_SCEP_MAX_TXID, &t) != 0 ||
			    t.len == 0 || !printable(&t))
				ret = -1;
			else {
				memcpy(m->tx, t.v, t.len);
				m->tx[t.len] = '\0';
			}
			if (have & 2)
				ret = -1;
			have |= 2;
		} else if (strcmp(oid, "2.16.840.1.113733.1.9.5") == 0) {
			if (attr_value(&val, 0x04, CA_SCEP_NONCE_LEN, &t) != 0 ||
			    t.len != CA_SCEP_NONCE_LEN)
				ret = -1;
			else
				memcpy(m->nonce, t.v, t.len);
			if (have & 4)
				ret = -1;
			have |= 4;
		}
		gnutls_free(val.data);
		if (ret < 0)
			return -1;
	}
	return have == 7 && i < 64 ? 0 : -1;
}

int
ca_scep_open(const void *der, size_t len, gnutls_privkey_t key,
    gnutls_x509_crt_t crt, struct ca_scep_msg *m)
{
	gnutls_pkcs7_t p7 = NULL;
	gnutls_pkcs7_signature_info_st info;
	gnutls_datum_t in, raw = { NULL, 0 }, ed = { NULL, 0 };
	gnutls_x509_crt_t c = NULL;
	gnutls_pubkey_t pub = NULL;
	const char *why = "not a PKCS#7 SignedData";
	unsigned char serial[64];
	size_t slen;
	int rc = CA_ERR_INVAL, have_info = 0, n, i;
	gnutls_datum_t dn;

	memset(m, 0, sizeof(*m));
	m->fail = CA_SCEP_BADMSGCHECK;
	if (len == 0 || len > CA_SCEP_MAX_MSG)
		return ca_err(CA_ERR_INVAL, "SCEP message: %zu bytes", len);
	in.data = (unsigned char *)(uintptr_t)der;
	in.size = (unsigned)len;
	if (gnutls_pkcs7_init(&p7) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (gnutls_pkcs7_import(p7, &in, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	why = "a pkiMessage has one signer and 1 to 4 certificates";
	n = gnutls_pkcs7_get_crt_count(p7);
	if (gnutls_pkcs7_get_signature_count(p7) != 1 || n < 1 || n > 4 ||
	    gnutls_pkcs7_get_signature_info(p7, 0, &info) < 0)
		goto out;
	have_info = 1;
	/* The signer: the certificate its issuer and serial name. */
	for (i = 0; i < n && m->signer == NULL; i++) {
		if (gnutls_pkcs7_get_crt_raw2(p7, (unsigned)i, &raw) < 0 ||
		    gnutls_x509_crt_init(&c) < 0)
			goto out;
		slen = sizeof(serial);
		if (gnutls_x509_crt_import(c, &raw, GNUTLS_X509_FMT_DER) >= 0 &&
		    gnutls_x509_crt_get_raw_issuer_dn(c, &dn) >= 0) {
			if (dn.size == info.issuer_dn.size &&
			    memcmp(dn.data, info.issuer_dn.data, dn.size) == 0 &&
			    gnutls_x509_crt_get_serial(c, serial, &slen) >= 0 &&
			    slen == info.signer_serial.size &&
			    memcmp(serial, info.signer_serial.data, slen) == 0) {
				m->signer = c;
				c = NULL;
			}
			gnutls_free(dn.data);
		}
		if (c != NULL)
			gnutls_x509_crt_deinit(c);
		c = NULL;
		gnutls_free(raw.data);
		raw.data = NULL;
	}
	why = "the signer's certificate is not in the message";
	if (m->signer == NULL)
		goto out;
	/*
	 * Its key read here first: GnuTLS 3.7.9's verify leaks the key
	 * when it cannot read it (512 bytes a message; found by fuzzing).
	 */
	why = "the signer's public key cannot be read";
	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, m->signer, 0) < 0)
		goto out;
	/*
	 * scepclient signs with SHA-1, as RFC 8894 allows (GetCACaps). The
	 * signer is a throwaway self-signed certificate whose dates say
	 * nothing; a RenewalReq's is checked by lib/scep.c.
	 */
	why = "bad signature";
	if (gnutls_pkcs7_verify_direct(p7, m->signer, 0, NULL,
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 |
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS) < 0)
		goto out;
	why = "messageType, transactionID or senderNonce missing or malformed";
	if (read_attrs(info.signed_attrs, m) != 0)
		goto out;
	rc = 0;
	/* Only requests carry an envelope; the type decides later. */
	if (gnutls_pkcs7_get_embedded_data(p7, 0, &ed) < 0 || ed.size == 0)
		goto out;
	m->fail = open_envelope(&ed, key, crt, m);
out:
	if (rc != 0) {
		ca_scep_msg_free(m);
		rc = ca_err(CA_ERR_INVAL, "SCEP message: %s", why);
	}
	if (have_info)
		gnutls_pkcs7_signature_info_deinit(&info);
	gnutls_free(ed.data);
	gnutls_pubkey_deinit(pub);
	gnutls_pkcs7_deinit(p7);
	return rc;
}

void
ca_scep_msg_free(struct ca_scep_msg *m)
{
	if (m->signer != NULL)
		gnutls_x509_crt_deinit(m->signer);
	if (m->content.data != NULL) {
		gnutls_memset(m->content.data, 0, m->content.size);
		gnutls_free(m->content.data);
	}
	memset(m, 0, sizeof(*m));
	m->fail = CA_SCEP_BADMSGCHECK;
}

int
ca_scep_signed_by(const struct ca_scep_msg *m, gnutls_pubkey_t pub)
{
	gnutls_pubkey_t s = NULL;
	int rc;

	if (m->signer == NULL)
		return 0;
	if (gnutls_pubkey_init(&s) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (gnutls_pubkey_import_x509(s, m->signer, 0) < 0)
		rc = 0;
	else
		rc = ca_pubkey_same(s, pub);
	gnutls_pubkey_deinit(s);
	return rc;
}

/* ---- writing: DER by hand, into a growing buffer ---- */

struct buf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 err;
};

static void
put(struct buf *b, const void *d, size_t n)
{
	unsigned char *np;
	size_t ncap;

	if (b->err)
		return;
	if (b->len + n > b->cap) {
		ncap = (b->len + n) * 2 + 64;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
put_hdr(struct buf *b, unsigned tag, size_t len)
{
	unsigned char h[6];
	size_t n = 0;

	h[n++] = (unsigned char)tag;
	if (len < 0x80)
		h[n++] = (unsigned char)len;
	else if (len < 0x100) {
		h[n++] = 0x81;
		h[n++] = (unsigned char)len;
	} else if (len < 0x10000) {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = 0x83;
		h[n++] = (unsigned char)(len >> 16);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	put(b, h, n);
}

static void
put_tlv(struct buf *b, unsigned tag, const void *v, size_t n)
{
	put_hdr(b, tag, n);
	put(b, v, n);
}

/* Wrap in's contents into b as one TLV of tag; in is emptied. */
static void
put_wrap(struct buf *b, unsigned tag, struct buf *in)
{
	if (in->err)
		b->err = 1;
	put_tlv(b, tag, in->p, in->len);
	free(in->p);
	memset(in, 0, sizeof(*in));
}

/* AlgorithmIdentifier { oid [, NULL] }. */
static void
put_alg(struct buf *b, const unsigned char *oid, size_t len, int null)
{
	struct buf s = { 0 };

	put_tlv(&s, 0x06, oid, len);
	if (null)
		put(&s, "\x05\x00", 2);
	put_wrap(b, 0x30, &s);
}

/* IssuerAndSerialNumber of crt. */
static int
put_ias(struct buf *b, gnutls_x509_crt_t crt)
{
	struct buf s = { 0 };
	gnutls_datum_t dn;
	unsigned char serial[64];
	size_t slen = sizeof(serial);

	if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) < 0 ||
	    (gnutls_x509_crt_get_serial(crt, serial, &slen) < 0 &&
	    (gnutls_free(dn.data), 1)))
		return -1;
	put(&s, dn.data, dn.size);
	gnutls_free(dn.data);
	if (slen > 0 && serial[0] & 0x80) {
		put_hdr(&s, 0x02, slen + 1);
		put(&s, "", 1);
		put(&s, serial, slen);
	} else
		put_tlv(&s, 0x02, serial, slen);
	put_wrap(b, 0x30, &s);
	return 0;
}

static int
crt_der(gnutls_x509_crt_t crt, gnutls_datum_t *d)
{
	return gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, d) < 0 ? -1 : 0;
}

/* ContentInfo { signedData, [0] { certs-only SignedData } }. */
static void
put_degenerate(struct buf *b, const gnutls_datum_t *certs, size_t n)
{
	struct buf sd = { 0 }, cs = { 0 }, ci = { 0 }, x = { 0 };
	size_t i;

	put(&sd, "\x02\x01\x01\x31\x00", 5);	/* version 1, no digests */
	put_tlv(&x, 0x06, oid_data, sizeof(oid_data));
	put_wrap(&sd, 0x30, &x);
	for (i = 0; i < n; i++)
		put(&cs, certs[i].data, certs[i].size);
	put_wrap(&sd, 0xa0, &cs);
	put(&sd, "\x31\x00", 2);		/* no signers */
	put_wrap(&x, 0x30, &sd);
	put_tlv(&ci, 0x06, oid_signed, sizeof(oid_signed));
	put_wrap(&ci, 0xa0, &x);
	put_wrap(b, 0x30, &ci);
}

static int
to_datum(struct buf *b, gnutls_datum_t *out)
{
	if (b->err || (out->data = gnutls_malloc(b->len + 1)) == NULL) {
		free(b->p);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	memcpy(out->data, b->p, b->len);
	out->size = (unsigned)b->len;
	free(b->p);
	return 0;
}

int
ca_scep_degenerate(const gnutls_datum_t *certs, size_t n,
    gnutls_datum_t *out)
{
	struct buf b = { 0 };

	out->data = NULL;
	out->size = 0;
	put_degenerate(&b, certs, n);
	return to_datum(&b, out);
}

/*
 * EnvelopedData (as a ContentInfo) of plain to to's RSA key, content
 * cipher ci: CBC with PKCS#7 padding.
 */
static int
put_envelope(struct buf *b, const unsigned char *plain, size_t len,
    gnutls_x509_crt_t to, const struct cipher *ci)
{
	struct buf ed = { 0 }, set = { 0 }, kt = { 0 }, eci = { 0 }, s = { 0 },
	    x = { 0 };
	gnutls_pubkey_t pub = NULL;
	gnutls_cipher_hd_t h = NULL;
	unsigned char k[32], iv[16], *ct = NULL;
	gnutls_datum_t kd, ivd, ek = { NULL, 0 };
	size_t pad, n, i;
	int rc = -1;

	if (gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_x509(pub, to, 0) < 0 ||
	    gnutls_pubkey_get_pk_algorithm(pub, NULL) != GNUTLS_PK_RSA) {
		rc = -2;
		goto out;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, k, ci->key_len) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, iv, ci->block) < 0)
		goto out;
	kd.data = k;
	kd.size = (unsigned)ci->key_len;
	ivd.data = iv;
	ivd.size = (unsigned)ci->block;
	if (gnutls_pubkey_encrypt_data(pub, 0, &kd, &ek) < 0)
		goto out;
	pad = ci->block - len % ci->block;
	n = len + pad;
	if ((ct = malloc(n)) == NULL)
		goto out;
	memcpy(ct, plain, len);
	for (i = len; i < n; i++)
		ct[i] = (unsigned char)pad;
	if (gnutls_cipher_init(&h, ci->alg, &kd, &ivd) < 0 ||
	    gnutls_cipher_encrypt(h, ct, n) < 0)
		goto out;
	/* KeyTransRecipientInfo */
	put(&kt, "\x02\x01\x00", 3);
	if (put_ias(&kt, to) != 0)
		goto out;
	put_alg(&kt, oid_rsa, sizeof(oid_rsa), 1);
	put_tlv(&kt, 0x04, ek.data, ek.size);
	put_wrap(&set, 0x30, &kt);
	/* EncryptedContentInfo */
	put_tlv(&eci, 0x06, oid_data, sizeof(oid_data));
	put_tlv(&s, 0x06, ci->oid, ci->oid_len);
	put_tlv(&s, 0x04, iv, ci->block);
	put_wrap(&eci, 0x30, &s);
	put_tlv(&eci, 0x80, ct, n);
	put(&ed, "\x02\x01\x00", 3);
	put_wrap(&ed, 0x31, &set);
	put_wrap(&ed, 0x30, &eci);
	put_wrap(&x, 0x30, &ed);
	put_tlv(&s, 0x06, oid_enveloped, sizeof(oid_enveloped));
	put_wrap(&s, 0xa0, &x);
	put_wrap(b, 0x30, &s);
	rc = 0;
out:
	free(kt.p);
	free(set.p);
	free(eci.p);
	free(ed.p);
	free(s.p);
	free(x.p);
	free(ct);
	gnutls_memset(k, 0, sizeof(k));
	gnutls_free(ek.data);
	if (h != NULL)
		gnutls_cipher_deinit(h);
	gnutls_pubkey_deinit(pub);
	return rc;
}

/* Attribute { type, SET { value TLV } } as one DER blob. */
struct attr {
	unsigned char	*p;
	size_t		 len;
};

static int
attr_make(struct attr *a, const unsigned char *oid, size_t oid_len,
    unsigned tag, const void *v, size_t len)
{
	struct buf b = { 0 }, s = { 0 }, set = { 0 };

	put_tlv(&s, 0x06, oid, oid_len);
	put_tlv(&set, tag, v, len);
	put_wrap(&s, 0x31, &set);
	put_wrap(&b, 0x30, &s);
	a->p = b.p;
	a->len = b.len;
	return b.err ? -1 : 0;
}

/* DER's SET OF order: as octet strings, the shorter padded with zeros. */
static int
attr_cmp(const void *x, const void *y)
{
	const struct attr *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->p, b->p, n);

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

int
ca_scep_certrep(const struct ca_scep_msg *m, const struct ca_scep_rep *rep,
    gnutls_x509_crt_t crt, gnutls_privkey_t key, gnutls_datum_t *out)
{
	struct buf inner = { 0 }, env = { 0 }, sd = { 0 }, x = { 0 },
	    si = { 0 }, attrs = { 0 }, set = { 0 }, ci = { 0 };
	struct attr at[10];
	unsigned char digest[32], nonce[CA_SCEP_NONCE_LEN];
	char tbuf[16], st[2], fi[2];
	gnutls_datum_t own = { NULL, 0 }, tbs, sig = { NULL, 0 };
	size_t na = 0, i, tlen;
	int rc = CA_ERR_CRYPTO, r;

	out->data = NULL;
	out->size = 0;
	memset(at, 0, sizeof(at));
	/* 1. The content: the issued certificate, enveloped to the client. */
	if (rep->status == 0) {
		put_degenerate(&inner, rep->issued, 1);
		if (inner.err) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		r = put_envelope(&env, inner.p, inner.len, m->signer,
		    &ciphers[rep->enc_alg >= 0 && rep->enc_alg <= 2 ?
		    rep->enc_alg : 0]);
		if (r == -2) {
			rc = ca_err(CA_ERR_INVAL, "the SCEP client's "
			    "certificate has no RSA key to encrypt to");
			goto out;
		}
		if (r != 0 || env.err) {
			rc = ca_err(CA_ERR_CRYPTO, "SCEP: cannot envelope "
			    "the certificate");
			goto out;
		}
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, env.p, env.len, digest) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof(nonce)) < 0)
		goto fail;
	/* 2. The signed attributes, in DER order. */
	tlen = ca_asn1_time_text(rep->now, 1, tbuf);
	st[0] = (char)('0' + rep->status);
	fi[0] = (char)('0' + rep->fail_info);
	if (attr_make(&at[na++], oid_ctype, sizeof(oid_ctype), 0x06, oid_data,
	    sizeof(oid_data)) != 0 ||
	    attr_make(&at[na++], oid_stime, sizeof(oid_stime), 0x17, tbuf,
	    tlen) != 0 ||
	    attr_make(&at[na++], oid_mdigest, sizeof(oid_mdigest), 0x04,
	    digest, sizeof(digest)) != 0 ||
	    attr_make(&at[na++], oid_mtype, sizeof(oid_mtype), 0x13, "3",
	    1) != 0 ||
	    attr_make(&at[na++], oid_status, sizeof(oid_status), 0x13, st,
	    1) != 0 ||
	    attr_make(&at[na++], oid_snonce, sizeof(oid_snonce), 0x04, nonce,
	    sizeof(nonce)) != 0 ||
	    attr_make(&at[na++], oid_rnonce, sizeof(oid_rnonce), 0x04,
	    m->nonce, sizeof(m->nonce)) != 0 ||
	    attr_make(&at[na++], oid_txid, sizeof(oid_txid), 0x13, m->tx,
	    strlen(m->tx)) != 0)
		goto nomem;
	if (rep->status != 0) {
		if (attr_make(&at[na++], oid_finfo, sizeof(oid_finfo), 0x13, fi,
		    1) != 0)
			goto nomem;
		if (rep->fail_text != NULL && attr_make(&at[na++], oid_ftext,
		    sizeof(oid_ftext), 0x0c, rep->fail_text,
		    strlen(rep->fail_text)) != 0)
			goto nomem;
	}
	qsort(at, na, sizeof(at[0]), attr_cmp);
	for (i = 0; i < na; i++)
		put(&attrs, at[i].p, at[i].len);
	/* 3. The signature over the attributes as a SET OF (tag 0x31). */
	put_hdr(&set, 0x31, attrs.len);
	put(&set, attrs.p, attrs.len);
	if (set.err || attrs.err)
		goto nomem;
	tbs.data = set.p;
	tbs.size = (unsigned)set.len;
	if ((r = gnutls_privkey_sign_data2(key, GNUTLS_SIGN_RSA_SHA256, 0, &tbs,
	    &sig)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "SCEP: signing the answer: %s",
		    gnutls_strerror(r));
		goto out;
	}
	/* 4. SignerInfo */
	put(&si, "\x02\x01\x01", 3);
	if (put_ias(&si, crt) != 0)
		goto fail;
	put_alg(&si, oid_sha256, sizeof(oid_sha256), 0);
	put_tlv(&si, 0xa0, attrs.p, attrs.len);
	put_alg(&si, oid_rsa, sizeof(oid_rsa), 1);
	put_tlv(&si, 0x04, sig.data, sig.size);
	/* 5. SignedData, in its ContentInfo */
	put(&sd, "\x02\x01\x01", 3);
	put_alg(&x, oid_sha256, sizeof(oid_sha256), 0);
	put_wrap(&sd, 0x31, &x);
	put_tlv(&x, 0x06, oid_data, sizeof(oid_data));
	{
		struct buf o = { 0 };

		put_tlv(&o, 0x04, env.p, env.len);
		put_wrap(&x, 0xa0, &o);
	}
	put_wrap(&sd, 0x30, &x);
	if (crt_der(crt, &own) != 0)
		goto fail;
	if (rep->status == 0)
		put(&x, rep->issued->data, rep->issued->size);
	put(&x, own.data, own.size);
	put_wrap(&sd, 0xa0, &x);
	put_wrap(&x, 0x30, &si);
	put_wrap(&sd, 0x31, &x);
	put_tlv(&ci, 0x06, oid_signed, sizeof(oid_signed));
	put_wrap(&x, 0x30, &sd);
	put_wrap(&ci, 0xa0, &x);
	put_wrap(&x, 0x30, &ci);
	rc = to_datum(&x, out);
	memset(&x, 0, sizeof(x));
	goto out;
nomem:
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	goto out;
fail:
	rc = ca_err(CA_ERR_CRYPTO, "SCEP: cannot build the answer");
out:
	for (i = 0; i < na; i++)
		free(at[i].p);
	free(inner.p);
	free(env.p);
	free(sd.p);
	free(x.p);
	free(si.p);
	free(attrs.p);
	free(set.p);
	free(ci.p);
	gnutls_free(own.data);
	gnutls_free(sig.data);
	return rc;
}
