/*
 * scep-envelope.c - fuzz the part of a SCEP pkiMessage a signature cannot
 * protect from its own sender: the pkcsPKIEnvelope (lib/scep-msg.c's
 * hand-walked EnvelopedData, the BER encryptedContent, the content key,
 * CBC and padding). The input is the envelope; the harness signs it as a
 * PKCSReq with GnuTLS (the fixtures' RA key signs, as a client would with
 * its own) and opens it with ca_scep_open. Seeds: the envelopes of the
 * captured scepclient (DES, BER) and certmonger (AES-256) requests.
 * fuzz-dict: asn1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

#include "fuzz.h"
#include "scep-msg.h"
#include "scep-ra.h"

static gnutls_x509_crt_t ra_crt;
static gnutls_privkey_t ra_key;
static gnutls_pkcs7_attrs_t attrs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static unsigned char mt[] = { 0x13, 0x02, '1', '9' };
	static unsigned char tx[] = { 0x13, 0x02, 't', 'x' };
	static unsigned char nonce[16] = { 1 };
	gnutls_datum_t c = { (unsigned char *)(uintptr_t)ra_crt_pem,
	    sizeof(ra_crt_pem) - 1 };
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)ra_key_pem,
	    sizeof(ra_key_pem) - 1 };
	gnutls_datum_t dmt = { mt, sizeof(mt) }, dtx = { tx, sizeof(tx) };
	gnutls_datum_t dn = { nonce, sizeof(nonce) };

	(void)argc;
	(void)argv;
	if (gnutls_x509_crt_init(&ra_crt) < 0 ||
	    gnutls_x509_crt_import(ra_crt, &c, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_privkey_init(&ra_key) < 0 ||
	    gnutls_privkey_import_x509_raw(ra_key, &k, GNUTLS_X509_FMT_PEM,
	    NULL, 0) < 0 ||
	    gnutls_pkcs7_add_attr(&attrs, "2.16.840.1.113733.1.9.2", &dmt,
	    0) < 0 ||
	    gnutls_pkcs7_add_attr(&attrs, "2.16.840.1.113733.1.9.7", &dtx,
	    0) < 0 ||
	    gnutls_pkcs7_add_attr(&attrs, "2.16.840.1.113733.1.9.5", &dn,
	    GNUTLS_PKCS7_ATTR_ENCODE_OCTET_STRING) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_pkcs7_t p7 = NULL;
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)data,
	    (unsigned)size }, out = { NULL, 0 };
	struct ca_scep_msg m;

	if (size == 0 || size > 64 * 1024 || gnutls_pkcs7_init(&p7) < 0)
		return 0;
	if (gnutls_pkcs7_sign(p7, ra_crt, ra_key, &in, attrs, NULL,
	    GNUTLS_DIG_SHA256, GNUTLS_PKCS7_EMBED_DATA |
	    GNUTLS_PKCS7_INCLUDE_CERT) >= 0 &&
	    gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &out) >= 0 &&
	    ca_scep_open(out.data, out.size, ra_key, ra_crt, &m) == 0)
		ca_scep_msg_free(&m);
	gnutls_free(out.data);
	gnutls_pkcs7_deinit(p7);
	ca_err_clear();
	return 0;
}
