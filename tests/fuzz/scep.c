/*
 * scep.c - fuzz a SCEP pkiMessage as /scep/NAME PKIOperation opens it
 * (lib/scep-msg.c: the SignedData through GnuTLS, the signed attributes,
 * the hand-walked EnvelopedData, CBC and its padding), with the decrypter
 * of tests/fixtures/scep (a test key, in scep-ra.h), then the CertRep
 * FAILURE and SUCCESS answers built for what opened. Seeds: the captured
 * scepclient and certmonger requests and tests/scep-tool.py's other types.
 * fuzz-dict: asn1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "fuzz.h"
#include "scep-msg.h"
#include "scep-ra.h"

static gnutls_x509_crt_t ra_crt;
static gnutls_privkey_t ra_key;
static gnutls_datum_t ra_der;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gnutls_datum_t c = { (unsigned char *)(uintptr_t)ra_crt_pem,
	    sizeof(ra_crt_pem) - 1 };
	gnutls_datum_t k = { (unsigned char *)(uintptr_t)ra_key_pem,
	    sizeof(ra_key_pem) - 1 };

	(void)argc;
	(void)argv;
	if (gnutls_x509_crt_init(&ra_crt) < 0 ||
	    gnutls_x509_crt_import(ra_crt, &c, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_export2(ra_crt, GNUTLS_X509_FMT_DER, &ra_der) < 0 ||
	    gnutls_privkey_init(&ra_key) < 0 ||
	    gnutls_privkey_import_x509_raw(ra_key, &k, GNUTLS_X509_FMT_PEM,
	    NULL, 0) < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_scep_msg m;
	struct ca_scep_rep rep;
	gnutls_datum_t out = { NULL, 0 };
	gnutls_pubkey_t pub;

	if (ca_scep_open(data, size, ra_key, ra_crt, &m) == 0) {
		/* lib/scep.c's PKCSReq rule: the signer holds this key? */
		if (gnutls_pubkey_init(&pub) >= 0) {
			if (gnutls_pubkey_import_x509(pub, ra_crt, 0) >= 0)
				(void)ca_scep_signed_by(&m, pub);
			gnutls_pubkey_deinit(pub);
		}
		memset(&rep, 0, sizeof(rep));
		rep.status = 2;
		rep.fail_info = m.fail >= 0 ? m.fail : CA_SCEP_BADREQUEST;
		rep.fail_text = "fuzz";
		if (ca_scep_certrep(&m, &rep, ra_crt, ra_key, &out) == 0)
			gnutls_free(out.data);
		out.data = NULL;
		if (m.fail < 0) {
			rep.status = 0;
			rep.issued = &ra_der;
			rep.enc_alg = m.type % 3;
			if (ca_scep_certrep(&m, &rep, ra_crt, ra_key,
			    &out) == 0)
				gnutls_free(out.data);
		}
		ca_scep_msg_free(&m);
	}
	ca_err_clear();
	return 0;
}
