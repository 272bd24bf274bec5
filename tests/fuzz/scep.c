/*
 * scep.c - fuzz a SCEP pkiMessage as /scep/NAME PKIOperation opens it
 * (lib/scep-msg.c: the SignedData through GnuTLS, the signed attributes,
 * the hand-walked EnvelopedData, CBC and its padding), with the decrypter
 * of tests/fixtures/scep (a test key, embedded here), then the CertRep
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

static const char ra_crt_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICUjCCAfigAwIBAgIUedvyIl9E1C4yVHkrA1/8UU6g8BYwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRVGVzdCBJbnRlcm1lZGlhdGUwHhcNMjYxMjA3MDcyMDI0WhcN\n"
    "MjcwMTA2MDcyMDI0WjAXMRUwEwYDVQQDDAxzY2VwIFNDRVAgUkEwggEiMA0GCSqG\n"
    "SIb3DQEBAQUAA4IBDwAwggEKAoIBAQCukblBHnXSYVP5VJ15gjmEb6w6Ub1tg/Nb\n"
    "bAXRI+0rf3lLeZCSbddk2mQtWHV0iMBsVQUFq7tq280xkrdRP05mIKa86KCPdo4S\n"
    "ztJ8ZoBZKoTJTdU8RX267BOi50wL74jYTh49G7E4lKZjLDoTIuajrnJXyzktEhDx\n"
    "ek4HF+KvNjAs6uog5fEllpY05ot0YH5HSXUySIup8ttfpR4CRKfzs7eHVSjGTHeY\n"
    "GWdxKHGU/2HqXr/if3ByTSmX1+FOfjNrNPg9MzEXTWdcX9ZNsi252ronDWY2YyHx\n"
    "CAsnQriR0M0s/ynSxzcGlmQKHij7BavHY6nvLF3VSuZzZ8sSW1nXAgMBAAGjUjBQ\n"
    "MA4GA1UdDwEB/wQEAwIFoDAdBgNVHQ4EFgQUOp6wUI50tTVJDGJ7lSNSDoxPRLIw\n"
    "HwYDVR0jBBgwFoAUCt6wbzfIFi8Xp6uYUTQ3AeDOo9MwCgYIKoZIzj0EAwIDSAAw\n"
    "RQIhAKqI/pcZQVUAkWmvIBH2yqeoxg4K1cKuYERtCq4QD8D5AiBvQf6n0+sIvl3j\n"
    "uutwrGm5fhxXnnu/JXLE4DF3eYyqrQ==\n"
    "-----END CERTIFICATE-----\n";
static const char ra_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCukblBHnXSYVP5\n"
    "VJ15gjmEb6w6Ub1tg/NbbAXRI+0rf3lLeZCSbddk2mQtWHV0iMBsVQUFq7tq280x\n"
    "krdRP05mIKa86KCPdo4SztJ8ZoBZKoTJTdU8RX267BOi50wL74jYTh49G7E4lKZj\n"
    "LDoTIuajrnJXyzktEhDxek4HF+KvNjAs6uog5fEllpY05ot0YH5HSXUySIup8ttf\n"
    "pR4CRKfzs7eHVSjGTHeYGWdxKHGU/2HqXr/if3ByTSmX1+FOfjNrNPg9MzEXTWdc\n"
    "X9ZNsi252ronDWY2YyHxCAsnQriR0M0s/ynSxzcGlmQKHij7BavHY6nvLF3VSuZz\n"
    "Z8sSW1nXAgMBAAECggEAED9AyiY/Gf7z9VMiOuJbXw+TrHPaGPy8ZAhYPEBHPRKm\n"
    "o9cjFPXDI8BNrYi7mcZ2fj6lcoMqtMXTQadhh17IeanVSuStuNx0WZzFK03Q6TuT\n"
    "Uzb6vxrKmmCJbVJwmfXHuzX+C3rt0hHHsJg3qXtIkvhT7QbdgevaBtd2tqNK9jqB\n"
    "5hvHOj4vU1/s/7i7TGE9FOPFmCy83LUnEm6rNNoq/l6mRq8KafLozOzpWq/ENYfm\n"
    "rdLjyI7Nbl54penhhiduBll7lcc91BPx0/f3qCmFeVzzLuj33R9poayHddIb0X/x\n"
    "sI0oIhHaeui3IZd1lp8svcYiieiYMEYoGmnAnIukhQKBgQDkg7boYJk/mFKDvwD1\n"
    "LZq5RC/wt0ZB9bwzu+e4rQlytkf4x3oQSlKJiP7CsMc0Oq0RLZyM+3r4a+6y4VLJ\n"
    "hWDQhWwoy29ayNnMAd1ILUkRrqYvuGSX7ryX9ESFrkylSPpq27yJrZLXdmGv584t\n"
    "6mdXuxEl4n8gCXFmIavVAxg9XQKBgQDDkPUppLUieKszBgkNJ1XAY9PDUBR7CvH6\n"
    "p2xS3W5rK66pRHhFikuzA2KnSV3zCAMxH75VQfF6Q1tAk15FzhG7YYjZjGG0jHOn\n"
    "G+X6d+lzOL8gOz0ueQnUtmSpfVgiSNOQZsF0APFH9vvaSyAFjd5sWe5nFoNkf63r\n"
    "fQhzn5FMwwKBgFLlLQ7zK+ST/yrnuRM37e7TO4jZE1WOLS2fNpoZu1mvokAvLKqI\n"
    "K5TU64X41uqtdmbK4wWJnLxNexPNBVkxV0ONgwTxd325arjE3F74fo85ifO5slQj\n"
    "OKru44STDB7RcHYfLC/NlX0v5pQHRRYG+GIs7DWQCom2ozpncIwfSUXJAoGALdBy\n"
    "rpvIV1f/e0eJrUwuuZBpVpMXCTAqOfco2EzJhk/Ibhz9NAVO8JP1c40rdjjFTqfK\n"
    "Ff0JzgOjiAA+EIpS+xvBTH2nkf1pRpexi7i1tulvVOSr04xFclB8Snxzvixja6u2\n"
    "3C8wVxSUMbJxwPtYRPfYcswCYfPLUaSL61JRXrMCgYBruxNx0DvSCVaVkQL6o393\n"
    "XAEu9CFnxlaVp0CvZG94f7DY415BoAzm4Z2p6Wy/73xXOOZ4uB9Ej5DEnGCC6Phn\n"
    "0xgBeR493SBeA7DpG93wn0LKFnTqbHrif65zEUlExQm/x2hGSQo88fvM1UyGKN1P\n"
    "gUHqZVWzQ3xYLioYcGna9g==\n"
    "-----END PRIVATE KEY-----\n";

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

	if (ca_scep_open(data, size, ra_key, ra_crt, &m) == 0) {
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
