/*
 * csr.c - fuzz CSR import and the name checks (lib/x509.c), as ca-sign
 * and ca-serve's /1.0/sign run them (lib/authority-issue.c): the CSR as
 * PEM or DER, with and without its signature verified (a registration
 * authority leaves that to the CA), then its names against a fixed
 * authorisation (sub a.test, the names of tests/fuzz/mkcorpus.sh's
 * CSRs), and its public key.
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
#include "conf.h"
#include "x509.h"

static const char *const sans[] = { "a.test", "www.a.test", "127.0.0.1",
    "::1", "mail@a.test", "spiffe://a.test/w" };
static struct ca_names allowed;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (ca_names_classify(sans, sizeof(sans) / sizeof(sans[0]),
	    &allowed) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	int verify;

	for (verify = 0; verify <= 1; verify++) {
		if (ca_csr_import2(data, size, verify, &crq) != 0)
			continue;
		if (!verify) {
			(void)ca_csr_check_names(crq, "a.test", &allowed,
			    CA_MAX_SANS_DEFAULT);
			(void)ca_csr_check_names(crq, "other.test", &allowed, 2);
			if (gnutls_pubkey_init(&pub) == 0) {
				(void)gnutls_pubkey_import_x509_crq(pub, crq, 0);
				gnutls_pubkey_deinit(pub);
				pub = NULL;
			}
		}
		gnutls_x509_crq_deinit(crq);
		crq = NULL;
	}
	ca_err_clear();
	return 0;
}
