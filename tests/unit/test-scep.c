/*
 * test-scep.c - SCEP's messages (lib/scep-msg.c) on requests captured from
 * the real clients (tests/fixtures/scep/README: micromdm scepclient, DES
 * and a BER envelope; certmonger, AES-256), broken copies of them, our
 * answers read back, and the provisioner's ca.json members
 * (ca_scep_conf_load): what it refuses and why.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "json.h"
#include "scep-msg.h"
#include "tap.h"
#include "unit-ca.h"
#include "crl.h"
#include "db.h"
#include "scep.h"

static const char *dir;
static gnutls_x509_crt_t ra_crt;
static gnutls_privkey_t ra_key;
static gnutls_datum_t ra_pem, ra_key_pem, ra_enc_pem;

static void
need(int good, const char *what)
{
	if (!good) {
		printf("Bail out! cannot %s\n", what);
		exit(1);
	}
}

static gnutls_datum_t
load_path(const char *path)
{
	gnutls_datum_t d = { NULL, 0 };

	if (gnutls_load_file(path, &d) < 0) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	return d;
}

static gnutls_datum_t
load(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/scep/%s", dir, name);
	return load_path(path);
}

/* The CSR's challenge password, or "". */
static void
challenge_of(const gnutls_datum_t *csr, char *buf, size_t size)
{
	gnutls_x509_crq_t crq;

	buf[0] = '\0';
	if (gnutls_x509_crq_init(&crq) < 0)
		return;
	if (gnutls_x509_crq_import(crq, csr, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crq_get_challenge_password(crq, buf, &size) < 0)
		buf[0] = '\0';
	gnutls_x509_crq_deinit(crq);
}

static void
test_captured(const char *name, const char *what)
{
	gnutls_datum_t d = load(name);
	struct ca_scep_msg m;
	char chal[64];

	is_int(ca_scep_open(d.data, d.size, ra_key, ra_crt, &m), 0,
	    "%s: opened", what);
	is_int(m.type, CA_SCEP_PKCSREQ, "%s: PKCSReq", what);
	is_int(m.fail, -1, "%s: envelope decrypted", what);
	ok(m.tx[0] != '\0' && m.signer != NULL, "%s: transactionID, signer",
	    what);
	challenge_of(&m.content, chal, sizeof(chal));
	is_str(chal, "x", "%s: the CSR inside, challenge \"x\"", what);
	ca_scep_msg_free(&m);
	gnutls_free(d.data);
}

/* Every failure to open the envelope is the same badMessageCheck. */
static void
test_wrong_key(void)
{
	gnutls_datum_t d = load("scepclient-pkcsreq-des-to-ra.der");
	gnutls_privkey_t other;
	struct ca_scep_msg m;

	gnutls_privkey_init(&other);
	gnutls_privkey_generate2(other, GNUTLS_PK_RSA, 2048, 0, NULL, 0);
	is_int(ca_scep_open(d.data, d.size, other, ra_crt, &m), 0,
	    "another RSA key: the SignedData still opens");
	/*
	 * A wrong key decrypts to noise, which unpads once in about 256
	 * (DES): then the "content" is noise, no CSR (lib/scep.c answers the
	 * same badMessageCheck for it).
	 */
	if (m.fail == -1) {
		gnutls_x509_crq_t crq;

		gnutls_x509_crq_init(&crq);
		ok(gnutls_x509_crq_import(crq, &m.content,
		    GNUTLS_X509_FMT_DER) < 0, "another RSA key: noise that "
		    "unpads, no CSR");
		gnutls_x509_crq_deinit(crq);
	} else {
		is_int(m.fail, CA_SCEP_BADMSGCHECK,
		    "another RSA key: badMessageCheck");
		ok(m.content.data == NULL, "another RSA key: no content");
	}
	ca_scep_msg_free(&m);
	gnutls_privkey_deinit(other);
	gnutls_free(d.data);
}

/* Broken messages: refused (400) or badMessageCheck, never a crash. */
static void
test_broken(void)
{
	gnutls_datum_t d = load("certmonger-pkcsreq-aes256-to-ra.der");
	struct ca_scep_msg m;
	gnutls_datum_t csr;
	unsigned char *b = malloc(d.size);
	size_t cut, bad = 0, i, flipped = 0;

	for (cut = 0; cut < d.size; cut += 97) {
		if (ca_scep_open(d.data, cut, ra_key, ra_crt, &m) == 0)
			bad++;
		ca_scep_msg_free(&m);
	}
	is_int(bad, 0, "truncated messages: all refused");
	ca_scep_open(d.data, d.size, ra_key, ra_crt, &m);
	csr = m.content;
	m.content.data = NULL;
	ca_scep_msg_free(&m);
	/* One bit flipped anywhere: refused, or (in parts the signature
	 * does not cover) the same CSR; never another content. */
	for (i = 0; i < d.size; i += 7) {
		memcpy(b, d.data, d.size);
		b[i] ^= 0x01;
		if (ca_scep_open(b, d.size, ra_key, ra_crt, &m) == 0 &&
		    m.fail == -1 && (m.content.size != csr.size ||
		    memcmp(m.content.data, csr.data, csr.size) != 0))
			flipped++;
		ca_scep_msg_free(&m);
	}
	is_int(flipped, 0, "flipped bits: refused, or the same CSR");
	gnutls_free(csr.data);
	ok(ca_scep_open(d.data, CA_SCEP_MAX_MSG + 1, ra_key, ra_crt, &m) ==
	    CA_ERR_INVAL, "over 2 MiB: refused before parsing");
	ca_err_clear();
	free(b);
	gnutls_free(d.data);
}

/*
 * A pkiMessage around env (an EnvelopedData) signed by the RA's key and
 * certificate, with the attributes given as (OID, DER value) pairs: what
 * anyone can make of an envelope seen on the wire.
 */
static gnutls_datum_t
resign_by(gnutls_x509_crt_t crt, gnutls_privkey_t key,
    const gnutls_datum_t *env, const char *const *attrs, size_t n)
{
	gnutls_pkcs7_t p7;
	gnutls_pkcs7_attrs_t list = NULL;
	gnutls_datum_t v, out = { NULL, 0 };
	size_t i;

	gnutls_pkcs7_init(&p7);
	for (i = 0; i < n; i++) {
		v.data = (unsigned char *)(uintptr_t)attrs[2 * i + 1];
		v.size = (unsigned)(2 + (unsigned char)attrs[2 * i + 1][1]);
		gnutls_pkcs7_add_attr(&list, attrs[2 * i], &v, 0);
	}
	need(gnutls_pkcs7_sign(p7, crt, key, env, list, NULL,
	    GNUTLS_DIG_SHA256, GNUTLS_PKCS7_EMBED_DATA |
	    GNUTLS_PKCS7_INCLUDE_CERT) >= 0 &&
	    gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &out) >= 0,
	    "sign a test message");
	gnutls_pkcs7_attrs_deinit(list);
	gnutls_pkcs7_deinit(p7);
	return out;
}

static gnutls_datum_t
resign(const gnutls_datum_t *env, const char *const *attrs, size_t n)
{
	return resign_by(ra_crt, ra_key, env, attrs, n);
}

/* The envelope of a captured message. */
static gnutls_datum_t
envelope_of(const gnutls_datum_t *d)
{
	gnutls_pkcs7_t p7;
	gnutls_datum_t env = { NULL, 0 };

	gnutls_pkcs7_init(&p7);
	if (gnutls_pkcs7_import(p7, d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pkcs7_get_embedded_data(p7, 0, &env) < 0)
		printf("Bail out! no envelope\n");
	gnutls_pkcs7_deinit(p7);
	return env;
}

#define A_TYPE		"2.16.840.1.113733.1.9.2"
#define A_TX		"2.16.840.1.113733.1.9.7"
#define A_NONCE		"2.16.840.1.113733.1.9.5"
#define V_NONCE		"\x04\x10" "0123456789abcdef"
#define V_NONCE2	"\x04\x10" "fedcba9876543210"

/* Whether m's signer holds the key of the CSR inside. */
static int
signed_by_csr_key(const struct ca_scep_msg *m)
{
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	int r = -1;

	gnutls_x509_crq_init(&crq);
	gnutls_pubkey_init(&pub);
	if (gnutls_x509_crq_import(crq, &m->content, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_pubkey_import_x509_crq(pub, crq, 0) >= 0)
		r = ca_scep_signed_by(m, pub);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
	return r;
}

/*
 * A PKCSReq's envelope seen on the wire, signed again by someone else
 * with a fresh senderNonce: it still opens (the envelope is the CA's to
 * read), so lib/scep.c must see that the signer is not the CSR's key
 * (RFC 8894 2.3), or the senderNonce check would stop nothing.
 */
static void
test_rewrapped(void)
{
	static const char *const attrs[] = { A_TYPE, "\x13\x02" "19",
	    A_TX, "\x13\x03" "tx1", A_NONCE, V_NONCE };
	const char *names[] = { "scepclient-pkcsreq-des-to-ra.der",
	    "certmonger-pkcsreq-aes256-to-ra.der" };
	gnutls_datum_t d, env, re;
	struct ca_scep_msg m;
	size_t i;

	for (i = 0; i < 2; i++) {
		d = load(names[i]);
		is_int(ca_scep_open(d.data, d.size, ra_key, ra_crt, &m), 0,
		    "%s: opened", names[i]);
		is_int(signed_by_csr_key(&m), 1,
		    "%s: signed by the CSR's key", names[i]);
		ca_scep_msg_free(&m);
		env = envelope_of(&d);
		re = resign(&env, attrs, 3);
		is_int(ca_scep_open(re.data, re.size, ra_key, ra_crt, &m), 0,
		    "%s re-signed by another key: opens", names[i]);
		is_int(m.fail, -1, "%s re-signed: the envelope opens", names[i]);
		is_int(signed_by_csr_key(&m), 0,
		    "%s re-signed: not signed by the CSR's key", names[i]);
		ca_scep_msg_free(&m);
		gnutls_free(re.data);
		gnutls_free(env.data);
		gnutls_free(d.data);
	}
}

/* Signed attributes: each once, of its type; else refused (400). */
static void
test_attrs(void)
{
	static const struct {
		const char	*what;
		const char	*a[8];
		size_t		 n;
		int		 rc;
	} t[] = {
		{ "all three", { A_TYPE, "\x13\x02" "19", A_TX, "\x13\x01" "t",
		    A_NONCE, V_NONCE }, 3, 0 },
		{ "messageType twice", { A_TYPE, "\x13\x02" "19", A_TX,
		    "\x13\x01" "t", A_NONCE, V_NONCE, A_TYPE, "\x13\x02" "18" },
		    4, CA_ERR_INVAL },
		{ "senderNonce twice", { A_TYPE, "\x13\x02" "19", A_TX,
		    "\x13\x01" "t", A_NONCE, V_NONCE, A_NONCE, V_NONCE2 }, 4,
		    CA_ERR_INVAL },
		{ "transactionID twice", { A_TYPE, "\x13\x02" "19", A_TX,
		    "\x13\x01" "t", A_NONCE, V_NONCE, A_TX, "\x13\x01" "u" }, 4,
		    CA_ERR_INVAL },
		{ "no senderNonce", { A_TYPE, "\x13\x02" "19", A_TX,
		    "\x13\x01" "t" }, 2, CA_ERR_INVAL },
		{ "messageType a UTF8String", { A_TYPE, "\x0c\x02" "19", A_TX,
		    "\x13\x01" "t", A_NONCE, V_NONCE }, 3, CA_ERR_INVAL },
		{ "messageType not a number", { A_TYPE, "\x13\x02" "1x", A_TX,
		    "\x13\x01" "t", A_NONCE, V_NONCE }, 3, CA_ERR_INVAL },
		{ "a 15-byte senderNonce", { A_TYPE, "\x13\x02" "19", A_TX,
		    "\x13\x01" "t", A_NONCE, "\x04\x0f" "0123456789abcde" },
		    3, CA_ERR_INVAL },
		{ "transactionID with a quote", { A_TYPE, "\x13\x02" "19", A_TX,
		    "\x13\x01" "\"", A_NONCE, V_NONCE }, 3, CA_ERR_INVAL },
	};
	gnutls_datum_t d = load("certmonger-pkcsreq-aes256-to-ra.der");
	gnutls_datum_t env = envelope_of(&d), re;
	struct ca_scep_msg m;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		re = resign(&env, t[i].a, t[i].n);
		is_int(ca_scep_open(re.data, re.size, ra_key, ra_crt, &m),
		    t[i].rc, "attributes, %s: %s", t[i].what,
		    t[i].rc == 0 ? "opened" : "refused");
		ca_err_clear();
		ca_scep_msg_free(&m);
		gnutls_free(re.data);
	}
	gnutls_free(env.data);
	gnutls_free(d.data);
}

/* ---- requests of our own: a CSR, an envelope to the RA, a signer ---- */

/* d = tag, length, d (DER). */
static void
wrap(gnutls_datum_t *d, unsigned tag)
{
	unsigned char h[6], *p;
	size_t n = 0, len = d->size;

	h[n++] = (unsigned char)tag;
	if (len < 0x80)
		h[n++] = (unsigned char)len;
	else {
		h[n++] = 0x82;
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	}
	p = malloc(n + len + 1);
	memcpy(p, h, n);
	if (len > 0)
		memcpy(p + n, d->data, len);
	free(d->data);
	d->data = p;
	d->size = (unsigned)(n + len);
}

/* d += the bytes v. */
static void
cat(gnutls_datum_t *d, const void *v, size_t n)
{
	d->data = realloc(d->data, d->size + n + 1);
	memcpy(d->data + d->size, v, n);
	d->size += (unsigned)n;
}

/* d += tag, length, v. */
static void
cat_tlv(gnutls_datum_t *d, unsigned tag, const void *v, size_t n)
{
	gnutls_datum_t t = { NULL, 0 };

	cat(&t, v, n);
	wrap(&t, tag);
	cat(d, t.data, t.size);
	free(t.data);
}

/*
 * content in an EnvelopedData to the RA: AES-128-CBC, rsaEncryption;
 * env_mode 1: without padding (content ends in a zero byte), 2: the
 * content key encrypted is not 16 bytes.
 */
static int env_mode;

static gnutls_datum_t
envelope_to_ra(const gnutls_datum_t *content)
{
	static const unsigned char o_env[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	    0x0d, 0x01, 0x07, 0x03 }, o_data[] = { 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x07, 0x01 }, o_rsa[] = { 0x2a, 0x86, 0x48,
	    0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 }, o_aes[] = { 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02 };
	unsigned char k[16], iv[16], serial[64], *ct;
	size_t slen = sizeof(serial), n = content->size + 16 -
	    content->size % 16, i;
	gnutls_datum_t kd = { k, 16 }, ivd = { iv, 16 }, ek = { NULL, 0 }, dn;
	gnutls_datum_t ias = { NULL, 0 }, ri = { NULL, 0 }, eci = { NULL, 0 },
	    alg = { NULL, 0 }, ed = { NULL, 0 }, ci = { NULL, 0 };
	gnutls_pubkey_t pub;
	gnutls_cipher_hd_t h;

	gnutls_rnd(GNUTLS_RND_NONCE, k, 16);
	gnutls_rnd(GNUTLS_RND_NONCE, iv, 16);
	gnutls_pubkey_init(&pub);
	gnutls_pubkey_import_x509(pub, ra_crt, 0);
	kd.size = env_mode == 2 ? 15 : 16;
	gnutls_pubkey_encrypt_data(pub, 0, &kd, &ek);
	kd.size = 16;
	gnutls_pubkey_deinit(pub);
	if (env_mode == 1)
		n = content->size;
	ct = malloc(n);
	memcpy(ct, content->data, content->size);
	for (i = content->size; i < n; i++)
		ct[i] = (unsigned char)(n - content->size);
	gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_128_CBC, &kd, &ivd);
	gnutls_cipher_encrypt(h, ct, n);
	gnutls_cipher_deinit(h);
	/* KeyTransRecipientInfo */
	gnutls_x509_crt_get_raw_issuer_dn(ra_crt, &dn);
	gnutls_x509_crt_get_serial(ra_crt, serial, &slen);
	cat(&ias, dn.data, dn.size);
	gnutls_free(dn.data);
	if (serial[0] & 0x80) {
		memmove(serial + 1, serial, slen++);
		serial[0] = 0;
	}
	cat_tlv(&ias, 0x02, serial, slen);
	wrap(&ias, 0x30);
	cat(&ri, "\x02\x01\x00", 3);
	cat(&ri, ias.data, ias.size);
	cat_tlv(&alg, 0x06, o_rsa, sizeof(o_rsa));
	cat(&alg, "\x05\x00", 2);
	wrap(&alg, 0x30);
	cat(&ri, alg.data, alg.size);
	cat_tlv(&ri, 0x04, ek.data, ek.size);
	wrap(&ri, 0x30);
	wrap(&ri, 0x31);
	/* EncryptedContentInfo */
	free(alg.data);
	alg.data = NULL;
	alg.size = 0;
	cat_tlv(&alg, 0x06, o_aes, sizeof(o_aes));
	cat_tlv(&alg, 0x04, iv, 16);
	wrap(&alg, 0x30);
	cat_tlv(&eci, 0x06, o_data, sizeof(o_data));
	cat(&eci, alg.data, alg.size);
	cat_tlv(&eci, 0x80, ct, n);
	wrap(&eci, 0x30);
	cat(&ed, "\x02\x01\x00", 3);
	cat(&ed, ri.data, ri.size);
	cat(&ed, eci.data, eci.size);
	wrap(&ed, 0x30);
	wrap(&ed, 0xa0);
	cat_tlv(&ci, 0x06, o_env, sizeof(o_env));
	cat(&ci, ed.data, ed.size);
	wrap(&ci, 0x30);
	free(ias.data);
	free(ri.data);
	free(eci.data);
	free(alg.data);
	free(ed.data);
	free(ct);
	gnutls_free(ek.data);
	return ci;
}

/* A CSR of key for CN=cn, challengePassword the DER value chal (or none). */
static gnutls_datum_t
csr_of(gnutls_privkey_t key, const char *cn, const char *chal, size_t clen)
{
	gnutls_x509_crq_t crq;
	gnutls_pubkey_t pub;
	gnutls_datum_t out = { NULL, 0 };

	gnutls_x509_crq_init(&crq);
	gnutls_pubkey_init(&pub);
	gnutls_pubkey_import_privkey(pub, key, 0, 0);
	need(gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned)strlen(cn)) >= 0 &&
	    gnutls_x509_crq_set_pubkey(crq, pub) >= 0 &&
	    (chal == NULL || gnutls_x509_crq_set_attribute_by_oid(crq,
	    "1.2.840.113549.1.9.7", (void *)(uintptr_t)chal, clen) >= 0) &&
	    gnutls_x509_crq_privkey_sign(crq, key, GNUTLS_DIG_SHA256, 0) >= 0 &&
	    gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, &out) >= 0,
	    "make a CSR");
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crq_deinit(crq);
	return out;
}

/*
 * A certificate for key, CN=cn, valid from nb to na, signed by issuer's
 * key ik (NULL: self-signed).
 */
static gnutls_x509_crt_t
crt_of(gnutls_privkey_t key, const char *cn, time_t nb, time_t na,
    gnutls_x509_crt_t issuer, gnutls_privkey_t ik)
{
	gnutls_x509_crt_t c;
	gnutls_pubkey_t pub;
	unsigned char serial[8];

	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	gnutls_x509_crt_init(&c);
	gnutls_pubkey_init(&pub);
	gnutls_pubkey_import_privkey(pub, key, 0, 0);
	need(gnutls_x509_crt_set_version(c, 3) >= 0 &&
	    gnutls_x509_crt_set_serial(c, serial, sizeof(serial)) >= 0 &&
	    gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0,
	    cn, (unsigned)strlen(cn)) >= 0 &&
	    gnutls_x509_crt_set_pubkey(c, pub) >= 0 &&
	    gnutls_x509_crt_set_activation_time(c, nb) >= 0 &&
	    gnutls_x509_crt_set_expiration_time(c, na) >= 0 &&
	    gnutls_x509_crt_privkey_sign(c, issuer != NULL ? issuer : c,
	    ik != NULL ? ik : key, GNUTLS_DIG_SHA256, 0) >= 0,
	    "make a certificate");
	gnutls_pubkey_deinit(pub);
	return c;
}

/* A pkiMessage of messageType type, content in an envelope to the RA. */
static gnutls_datum_t
request(gnutls_x509_crt_t crt, gnutls_privkey_t key, const char *type,
    const gnutls_datum_t *content)
{
	static unsigned seq;
	char ty[8], tx[12], nonce[18];
	const char *at[6] = { A_TYPE, ty, A_TX, tx, A_NONCE, nonce };
	gnutls_datum_t env = envelope_to_ra(content), out;

	ty[0] = 0x13;
	ty[1] = (char)strlen(type);
	memcpy(ty + 2, type, strlen(type) + 1);
	tx[0] = 0x13;
	tx[1] = (char)snprintf(tx + 2, sizeof(tx) - 2, "own%u", ++seq);
	nonce[0] = 0x04;
	nonce[1] = 0x10;
	gnutls_rnd(GNUTLS_RND_NONCE, nonce + 2, 16);
	out = resign_by(crt, key, &env, at, 3);
	free(env.data);
	return out;
}

/* A CertRep's pkiStatus * 10 + failInfo (SUCCESS: 0), or -1. */
static int
rep_status(const gnutls_datum_t *d)
{
	gnutls_datum_t a;
	gnutls_pkcs7_t p7;
	gnutls_pkcs7_signature_info_st info;
	char *oid;
	int status = -1, finfo = 0;
	unsigned i;

	if (gnutls_pkcs7_init(&p7) < 0)
		return -1;
	if (gnutls_pkcs7_import(p7, d, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_pkcs7_get_signature_info(p7, 0, &info) >= 0) {
		for (i = 0; gnutls_pkcs7_get_attr(info.signed_attrs, i, &oid, &a,
		    0) >= 0; i++) {
			if (strcmp(oid, "2.16.840.1.113733.1.9.3") == 0 &&
			    a.size == 3)
				status = a.data[2] - '0';
			if (strcmp(oid, "2.16.840.1.113733.1.9.4") == 0 &&
			    a.size == 3)
				finfo = a.data[2] - '0';
			gnutls_free(a.data);
		}
		gnutls_pkcs7_signature_info_deinit(&info);
	}
	gnutls_pkcs7_deinit(p7);
	return status < 0 ? -1 : status * 10 + finfo;
}

/* The last PKIOperation's outcome, as the server logs it. */
static char last_log[200];

/* PKIOperation of msg at /scep/scep: the CertRep's rep_status, or -1. */
static int
operate(struct ca_authority *a, const gnutls_datum_t *msg)
{
	struct ca_scep_req q;
	struct ca_scep_resp r;
	int st;

	memset(&q, 0, sizeof(q));
	q.name = "scep";
	q.operation = "PKIOperation";
	q.message = msg->data;
	q.len = msg->size;
	q.now = time(NULL);
	if (ca_authority_scep(a, &q, &r) != 0) {
		printf("# ca_authority_scep: %s\n", ca_errmsg());
		ca_err_clear();
		return -1;
	}
	{
		gnutls_datum_t d = { r.body, (unsigned)r.len };

		st = r.status == 200 ? rep_status(&d) : -1;
	}
	snprintf(last_log, sizeof(last_log), "%s", r.log);
	printf("# %s\n", last_log);
	ca_scep_resp_free(&r);
	return st;
}

/* How many certificates the store has. */
static size_t
issued(struct ca_authority *a)
{
	struct ca_cert_info *v = NULL;
	size_t n = 0, i;

	if (ca_authority_db_list(a, &v, &n) != 0)
		return (size_t)-1;
	for (i = 0; i < n; i++)
		ca_cert_info_free(&v[i]);
	free(v);
	return n;
}

/* A request of ours through a: its CertRep must say want. */
static void
expect(struct ca_authority *a, gnutls_x509_crt_t crt, gnutls_privkey_t key,
    const char *type, const gnutls_datum_t *csr, int want, const char *what)
{
	gnutls_datum_t m = request(crt, key, type, csr);

	is_int(operate(a, &m), want, "%s: %s", what, want == 0 ? "SUCCESS" :
	    want == 21 ? "FAILURE badMessageCheck" : "FAILURE badRequest");
	gnutls_free(m.data);
}

/* The certificate the last PKIOperation issued, from the store. */
static gnutls_x509_crt_t
recorded(struct ca_authority *a)
{
	struct ca_cert_info ci;
	gnutls_x509_crt_t c = NULL;
	gnutls_datum_t d;
	char serial[100];

	memset(&ci, 0, sizeof(ci));
	need(sscanf(last_log, "issued %99s ", serial) == 1 &&
	    ca_authority_db_get(a, serial, &ci) == 0 &&
	    gnutls_x509_crt_init(&c) >= 0, "find the certificate issued");
	d.data = ci.der;
	d.size = (unsigned)ci.der_len;
	need(gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_DER) >= 0,
	    "read the certificate issued");
	ca_cert_info_free(&ci);
	return c;
}

/* "0x" and c's serial in hex, in buf. */
static const char *
last_serial(char *buf, size_t size, gnutls_x509_crt_t c)
{
	unsigned char s[64];
	size_t len = sizeof(s), i, n;

	gnutls_x509_crt_get_serial(c, s, &len);
	n = (size_t)snprintf(buf, size, "0x");
	for (i = 0; i < len && n + 3 < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", s[i]);
	return buf;
}

/* Our own requests through the authority (test_authority's). */
static void
test_own(struct ca_authority *a, const char *cadir)
{
	gnutls_privkey_t k1, k2, ik;
	gnutls_x509_crt_t ic, self1, self2, ours, expired, forged, ours_k2, got1;
	size_t n;
	gnutls_datum_t d, csr;
	char path[4400];
	time_t now = time(NULL);

	snprintf(path, sizeof(path), "%s/certs/intermediate_ca.crt", cadir);
	d = load_path(path);
	gnutls_x509_crt_init(&ic);
	gnutls_x509_crt_import(ic, &d, GNUTLS_X509_FMT_PEM);
	gnutls_free(d.data);
	snprintf(path, sizeof(path), "%s/secrets/intermediate_ca_key", cadir);
	d = load_path(path);
	gnutls_privkey_init(&ik);
	if (gnutls_privkey_import_x509_raw(ik, &d, GNUTLS_X509_FMT_PEM, NULL,
	    0) < 0)
		printf("Bail out! the intermediate's key\n");
	gnutls_free(d.data);
	gnutls_privkey_init(&k1);
	gnutls_privkey_init(&k2);
	gnutls_privkey_generate2(k1, GNUTLS_PK_RSA, 2048, 0, NULL, 0);
	gnutls_privkey_generate2(k2, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
	self1 = crt_of(k1, "dev1.test", now - 60, now + 3600, NULL, NULL);
	ours = crt_of(k1, "dev1.test", now - 60, now + 3600, ic, ik);
	ours_k2 = crt_of(k2, "dev1.test", now - 60, now + 3600, ic, ik);
	expired = crt_of(k1, "dev1.test", now - 7200, now - 3600, ic, ik);
	forged = crt_of(k1, "dev1.test", now - 60, now + 3600, NULL, NULL);

	csr = csr_of(k1, "dev1.test", "\x13\x01x", 3);
	expect(a, self1, k1, "19", &csr, 0, "own PKCSReq, challenge \"x\"");
	got1 = recorded(a);
	expect(a, ours_k2, k2, "19", &csr, 22, "a PKCSReq signed by another "
	    "key, even a certificate of this CA's");
	gnutls_free(csr.data);
	csr = csr_of(k1, "dev1.test", "\x0c\x03x\0y", 5);
	expect(a, self1, k1, "19", &csr, 22, "challenge \"x\\0y\"");
	ok(strstr(last_log, "(wrong or missing challenge password)") != NULL,
	    "  for its challenge");
	gnutls_free(csr.data);
	csr = csr_of(k1, "dev1.test", "\x13\x01X", 3);
	expect(a, self1, k1, "19", &csr, 22, "challenge \"X\"");
	gnutls_free(csr.data);
	csr = csr_of(k1, "dev1.test", NULL, 0);
	expect(a, self1, k1, "19", &csr, 22, "no challenge");
	gnutls_free(csr.data);
	/* RenewalReq: by a valid certificate of this CA, same subject. */
	csr = csr_of(k2, "dev1.test", "\x13\x01x", 3);
	expect(a, expired, k1, "17", &csr, 22, "RenewalReq by an expired "
	    "certificate");
	expect(a, forged, k1, "17", &csr, 22, "RenewalReq by a self-signed "
	    "certificate");
	expect(a, self1, k1, "17", &csr, 22, "RenewalReq by the throwaway "
	    "signer");
	expect(a, ours, k1, "17", &csr, 0, "RenewalReq by a certificate of "
	    "this CA, same subject, new key");
	expect(a, ours, k1, "18", &csr, 22, "the same as an UpdateReq");
	gnutls_free(csr.data);
	csr = csr_of(k2, "dev2.test", "\x13\x01x", 3);
	expect(a, ours, k1, "17", &csr, 22, "RenewalReq for another subject");
	gnutls_free(csr.data);
	/* The certificate issued above, then revoked: renews no more. */
	csr = csr_of(k2, "dev1.test", "\x13\x01x", 3);
	expect(a, got1, k1, "17", &csr, 0, "RenewalReq by the certificate "
	    "SCEP issued");
	{
		struct ca_revoke_req rr;
		char hex[200], *rs = NULL;

		memset(&rr, 0, sizeof(rr));
		rr.serial = last_serial(hex, sizeof(hex), got1);
		rr.reason = CA_REASON_KEY_COMPROMISE;
		rr.trusted = 1;
		rr.by = "test";
		is_int(ca_authority_revoke(a, &rr, &rs), 0, "  revoked");
		free(rs);
	}
	n = issued(a);
	expect(a, got1, k1, "17", &csr, 22, "RenewalReq by it revoked");
	ok(strstr(last_log, "revoked") != NULL, "  for that");
	is_int(issued(a), n, "  nothing issued for it");
	gnutls_free(csr.data);
	gnutls_x509_crt_deinit(got1);
	/*
	 * No padding oracle: bad padding, a content key of the wrong size,
	 * and noise that unpads, all answer the same badMessageCheck.
	 */
	{
		static const char *const what[] = { "noise that unpads",
		    "bad padding", "a 15-byte content key" };
		char noise[32] = { 1, 2, 3 }, first[200], *t;
		gnutls_datum_t nd = { (unsigned char *)noise, 32 };

		for (env_mode = 0; env_mode < 3; env_mode++) {
			expect(a, self1, k1, "19", &nd, 21, what[env_mode]);
			if ((t = strstr(last_log, " tx=")) != NULL)
				*t = '\0';
			if (env_mode == 0)
				memcpy(first, last_log, sizeof(first));
			else
				is_str(last_log, first, "  the same reason");
		}
		env_mode = 0;
	}
	/*
	 * An EC key signs its own PKCSReq: the CertRep cannot be enveloped
	 * to it (rsaEncryption), so nothing may be issued for it either.
	 */
	n = issued(a);
	self2 = crt_of(k2, "dev3.test", now - 60, now + 3600, NULL, NULL);
	csr = csr_of(k2, "dev3.test", "\x13\x01x", 3);
	expect(a, self2, k2, "19", &csr, 22, "a PKCSReq of an EC key");
	is_int(issued(a), n, "  nothing issued for it");
	gnutls_free(csr.data);
	gnutls_x509_crt_deinit(self2);

	gnutls_x509_crt_deinit(ic);
	gnutls_x509_crt_deinit(self1);
	gnutls_x509_crt_deinit(ours);
	gnutls_x509_crt_deinit(ours_k2);
	gnutls_x509_crt_deinit(expired);
	gnutls_x509_crt_deinit(forged);
	gnutls_privkey_deinit(k1);
	gnutls_privkey_deinit(k2);
	gnutls_privkey_deinit(ik);
}


/*
 * The provisioner on a real state directory: SCEP "scep", challenge "x",
 * the fixtures' RA as decrypter. The captured scepclient request issues
 * once; its envelope signed again by another key with fresh nonces, or
 * under every other messageType, issues nothing.
 */
static void
test_authority(void)
{
	static const char *const types[] = { "19", "17", "18", "20", "21",
	    "22", "3" };
	char cadir[4200], prov[4300], path[4400], tx[8], nonce[19];
	const char *at[6];
	struct ca_authority *a = NULL;
	struct json_object *o = NULL, *provs, *p;
	gnutls_datum_t d = load("scepclient-pkcsreq-des-to-ra.der"), env, re;
	gnutls_datum_t c64, k64;
	char *js = NULL;
	size_t len, i;

	tmpdir_make("scep");
	unit_ca_make(cadir, sizeof(cadir), prov, sizeof(prov));
	snprintf(path, sizeof(path), "%s/config/ca.json", cadir);
	gnutls_base64_encode2(&ra_pem, &c64);
	gnutls_base64_encode2(&ra_key_pem, &k64);
	if (ca_file_read(path, 1 << 20, &js, &len) != 0 ||
	    ca_json_parse(js, len, "ca.json", &o) != 0 ||
	    !json_object_object_get_ex(o, "authority", &p) ||
	    !json_object_object_get_ex(p, "provisioners", &provs)) {
		printf("Bail out! ca.json: %s\n", ca_errmsg());
		exit(1);
	}
	p = json_object_new_object();
	json_object_object_add(p, "type", json_object_new_string("SCEP"));
	json_object_object_add(p, "name", json_object_new_string("scep"));
	json_object_object_add(p, "challenge", json_object_new_string("x"));
	json_object_object_add(p, "decrypterCertificate",
	    json_object_new_string((char *)c64.data));
	json_object_object_add(p, "decrypterKeyPEM",
	    json_object_new_string((char *)k64.data));
	json_object_array_add(provs, p);
	if (json_object_to_file(path, o) != 0 ||
	    ca_authority_open(cadir, NULL, &a) != 0) {
		printf("Bail out! the unit CA: %s\n", ca_errmsg());
		exit(1);
	}
	is_int(operate(a, &d), 0, "authority: scepclient's PKCSReq: SUCCESS");
	is_int(operate(a, &d), 22, "authority: the same again: FAILURE "
	    "badRequest (senderNonce)");
	env = envelope_of(&d);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(tx, sizeof(tx), "t%zu", i);
		memcpy(nonce, "\x04\x10" "0123456789abcdef", 18);
		nonce[2] = (char)('A' + i);
		at[0] = A_TYPE;
		at[1] = NULL;
		at[2] = A_TX;
		at[4] = A_NONCE;
		at[5] = nonce;
		{
			char ty[8], txv[12];

			ty[0] = 0x13;
			ty[1] = (char)strlen(types[i]);
			memcpy(ty + 2, types[i], strlen(types[i]) + 1);
			txv[0] = 0x13;
			txv[1] = (char)strlen(tx);
			memcpy(txv + 2, tx, strlen(tx) + 1);
			at[1] = ty;
			at[3] = txv;
			re = resign(&env, at, 3);
		}
		is_int(operate(a, &re), 22, "authority: its envelope signed "
		    "again by another key, fresh senderNonce, messageType %s: "
		    "FAILURE badRequest", types[i]);
		gnutls_free(re.data);
	}
	is_int(issued(a), 1, "authority: one certificate issued in all");
	test_own(a, cadir);
	gnutls_free(env.data);
	gnutls_free(d.data);
	gnutls_free(c64.data);
	gnutls_free(k64.data);
	free(js);
	json_object_put(o);
	ca_authority_close(a);
	tmpdir_remove();
}

/* A CertRep read back: signature, attributes, and the envelope. */
static void
test_certrep(void)
{
	struct ca_scep_msg req, got;
	struct ca_scep_rep rep;
	gnutls_datum_t out = { NULL, 0 }, issued = { NULL, 0 };
	int alg, found;

	/* The "client" is the RA certificate: we hold its key. */
	memset(&req, 0, sizeof(req));
	req.signer = ra_crt;
	snprintf(req.tx, sizeof(req.tx), "tx-42");
	memset(req.nonce, 0x5a, sizeof(req.nonce));
	gnutls_x509_crt_export2(ra_crt, GNUTLS_X509_FMT_DER, &issued);
	for (alg = 0; alg <= 2; alg++) {
		memset(&rep, 0, sizeof(rep));
		rep.issued = &issued;
		rep.enc_alg = alg;
		rep.now = 1767225600;
		is_int(ca_scep_certrep(&req, &rep, ra_crt, ra_key, &out), 0,
		    "SUCCESS CertRep, algorithm %d", alg);
		is_int(ca_scep_open(out.data, out.size, ra_key, ra_crt, &got), 0,
		    "algorithm %d: read back (signature verified)", alg);
		is_int(got.type, CA_SCEP_CERTREP, "algorithm %d: CertRep", alg);
		is_str(got.tx, "tx-42", "algorithm %d: transactionID", alg);
		ok(memcmp(got.nonce, req.nonce, sizeof(req.nonce)) != 0,
		    "algorithm %d: our own senderNonce", alg);
		found = got.fail == -1 && got.content.size > issued.size &&
		    memmem(got.content.data, got.content.size, issued.data,
		    issued.size) != NULL;
		ok(found, "algorithm %d: the certificate in the envelope", alg);
		ca_scep_msg_free(&got);
		gnutls_free(out.data);
	}
	memset(&rep, 0, sizeof(rep));
	rep.status = 2;
	rep.fail_info = CA_SCEP_BADREQUEST;
	rep.fail_text = "no";
	rep.now = 1767225600;
	is_int(ca_scep_certrep(&req, &rep, ra_crt, ra_key, &out), 0,
	    "FAILURE CertRep");
	/* Its signature: openssl cms -verify in tests/scep.bats. */
	is_int(rep_status(&out), 2 * 10 + CA_SCEP_BADREQUEST,
	    "FAILURE: pkiStatus 2, failInfo badRequest");
	gnutls_free(out.data);
	gnutls_free(issued.data);
}

static void
test_degenerate(void)
{
	gnutls_datum_t certs[2], out = { NULL, 0 };
	gnutls_pkcs7_t p7;

	gnutls_x509_crt_export2(ra_crt, GNUTLS_X509_FMT_DER, &certs[0]);
	certs[1] = certs[0];
	is_int(ca_scep_degenerate(certs, 2, &out), 0, "degenerate SignedData");
	gnutls_pkcs7_init(&p7);
	ok(gnutls_pkcs7_import(p7, &out, GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_pkcs7_get_crt_count(p7) == 2 &&
	    gnutls_pkcs7_get_signature_count(p7) == 0,
	    "degenerate: 2 certificates, no signer");
	gnutls_pkcs7_deinit(p7);
	gnutls_free(out.data);
	gnutls_free(certs[0].data);
}

/*
 * ca.json members: "{...}" with @CRT@, @KEY@, @ENC@ for the base64 PEM of
 * the RA's certificate, key, key encrypted (password "ra-password").
 */
static int
conf(const char *tmpl, const char *want)
{
	struct ca_provisioner p;
	char name[] = "scep";
	struct json_object *o = NULL;
	gnutls_datum_t c64, k64, e64;
	char *s, *t;
	size_t n;
	int rc;

	gnutls_base64_encode2(&ra_pem, &c64);
	gnutls_base64_encode2(&ra_key_pem, &k64);
	gnutls_base64_encode2(&ra_enc_pem, &e64);
	n = strlen(tmpl) + c64.size + k64.size + e64.size + 1;
	s = calloc(1, n);
	for (t = s; *tmpl != '\0';) {
		if (strncmp(tmpl, "@CRT@", 5) == 0) {
			memcpy(t, c64.data, c64.size);
			t += c64.size;
			tmpl += 5;
		} else if (strncmp(tmpl, "@ENC@", 5) == 0) {
			memcpy(t, e64.data, e64.size);
			t += e64.size;
			tmpl += 5;
		} else if (strncmp(tmpl, "@KEY@", 5) == 0) {
			memcpy(t, k64.data, k64.size);
			t += k64.size;
			tmpl += 5;
		} else
			*t++ = *tmpl++;
	}
	memset(&p, 0, sizeof(p));
	p.name = name;
	rc = ca_json_parse(s, strlen(s), "test", &o);
	if (rc == 0)
		rc = ca_scep_conf_load(o, &p);
	if (rc == 0)
		ok(want == NULL && p.impl != NULL, "loads: %.60s", s);
	else
		ok(want != NULL && strstr(ca_errmsg(), want) != NULL,
		    "refused (%s): %.50s", ca_errmsg(), s);
	ca_err_clear();
	if (p.impl_free != NULL)
		p.impl_free(p.impl);
	json_object_put(o);
	free(s);
	gnutls_free(c64.data);
	gnutls_free(k64.data);
	gnutls_free(e64.data);
	return rc;
}

static void
test_conf(void)
{
	conf("{\"challenge\":\"x\"}", NULL);
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"@CRT@\","
	    "\"decrypterKeyPEM\":\"@KEY@\",\"encryptionAlgorithmIdentifier\":2,"
	    "\"capabilities\":[\"AES\",\"SHA-256\"]}", NULL);
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"@CRT@\","
	    "\"decrypterKeyPEM\":\"@ENC@\",\"decrypterKeyPassword\":"
	    "\"ra-password\"}", NULL);
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"@CRT@\","
	    "\"decrypterKeyPEM\":\"@ENC@\",\"decrypterKeyPassword\":"
	    "\"wrong\"}", "decrypterKeyPEM");
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"@CRT@\","
	    "\"decrypterKeyPEM\":\"@ENC@\"}", "decrypterKeyPEM");
	conf("{}", "\"challenge\" is required");
	conf("{\"challenge\":\"\"}", "\"challenge\" is required");
	conf("{\"challenge\":\"a\\u0000long-secret\"}", "\\u0000");
	{
		char t[400];

		snprintf(t, sizeof(t), "{\"challenge\":\"%0255d\"}", 0);
		conf(t, NULL);
		snprintf(t, sizeof(t), "{\"challenge\":\"%0256d\"}", 0);
		conf(t, "at most 255 bytes");
	}
	conf("{\"challenge\":\"x\",\"encryptionAlgorithmIdentifier\":3}",
	    "AES-GCM");
	conf("{\"challenge\":\"x\",\"encryptionAlgorithmIdentifier\":5}",
	    "0 (DES-CBC)");
	conf("{\"challenge\":\"x\",\"minimumPublicKeyLength\":1001}",
	    "multiple of 8");
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"@CRT@\"}",
	    "go together");
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"@CRT@\","
	    "\"decrypterKeyPEM\":\"bm90IGEga2V5\"}", "decrypterKeyPEM");
	conf("{\"challenge\":\"x\",\"decrypterCertificate\":\"!!\","
	    "\"decrypterKeyPEM\":\"@KEY@\"}", "not base64");
	conf("{\"challenge\":\"x\",\"decrypterKey\":\"pkcs11:id=1\"}",
	    "not supported");
	conf("{\"challenge\":\"x\",\"capabilities\":[\"A\\r\\nB\"]}",
	    "not a capability");
}

int
main(void)
{
	if ((dir = getenv("CA_FIXTURES")) == NULL)
		dir = "tests/fixtures";
	ra_pem = load("ra-rsa.pem");
	ra_key_pem = load("ra-rsa.key");
	ra_enc_pem = load("ra-rsa-enc.key");
	gnutls_x509_crt_init(&ra_crt);
	gnutls_privkey_init(&ra_key);
	if (gnutls_x509_crt_import(ra_crt, &ra_pem, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_privkey_import_x509_raw(ra_key, &ra_key_pem,
	    GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		printf("Bail out! the RA fixture\n");
		return 1;
	}
	test_captured("scepclient-pkcsreq-des-to-ra.der", "scepclient");
	test_captured("certmonger-pkcsreq-aes256-to-ra.der", "certmonger");
	test_wrong_key();
	test_broken();
	test_rewrapped();
	test_attrs();
	test_authority();
	test_certrep();
	test_degenerate();
	test_conf();
	gnutls_x509_crt_deinit(ra_crt);
	gnutls_privkey_deinit(ra_key);
	gnutls_free(ra_pem.data);
	gnutls_free(ra_key_pem.data);
	gnutls_free(ra_enc_pem.data);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
