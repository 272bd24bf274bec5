/*
 * crl-ocsp.c - fuzz the CRL and OCSP response encoders (lib/crl.c,
 * lib/ocsp.c) with the revocations of a hostile store: the records come
 * from the input (memstore.h) and are read as lib/status.c reads them;
 * the issuer is the scratch CA's intermediate (fuzz-ca.h), the time fixed.
 * A key "nonce" in the input gives the OCSP nonce.
 * fuzz-dict: json
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "crl.h"
#include "db.h"
#include "ocsp.h"
#include "store.h"

#include "fuzz-ca.h"
#include "memstore.h"

#define NOW		1780000000	/* a fixed "now": 2026-05-28 */
#define MAX_ENTRIES	64

/* Each serial in a heap block of its own: ASan sees one octet too many. */
struct collect {
	struct ca_crl_entry	 e[MAX_ENTRIES];
	unsigned char		*serials[MAX_ENTRIES];	/* 21 octets each */
	size_t			 n;
};

/* As lib/status.c collects them for a CRL. */
static int
collect_one(void *arg, const char *serial, time_t at, int reason)
{
	struct collect *c = arg;
	struct ca_crl_entry *e;
	int rc;

	if (c->n == MAX_ENTRIES)
		return 0;
	e = &c->e[c->n];
	if ((c->serials[c->n] = malloc(21)) == NULL)
		return CA_ERR_NOMEM;
	if ((rc = ca_crl_serial_octets(serial, c->serials[c->n],
	    &e->serial_len)) != 0) {
		free(c->serials[c->n]);
		return rc;
	}
	e->serial = c->serials[c->n];
	e->revoked_at = at;
	e->reason = reason == CA_REASON_UNSPECIFIED ? CA_REASON_NONE : reason;
	c->n++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ca_ocsp_issuer oi;
	static int oi_ready;
	struct ca_local *a = fuzz_ca_local();
	struct ca_store *st = NULL;
	struct collect c;
	struct ca_ocsp_certid ids[CA_OCSP_MAX_REQUESTS];
	struct ca_ocsp_single s[CA_OCSP_MAX_REQUESTS];
	gnutls_datum_t der = { NULL, 0 };
	unsigned char *nonce = NULL;
	size_t i, n, nonce_len = 0;
	uint64_t number;

	if (!oi_ready) {
		if (ca_ocsp_issuer_init(&a->issuer, &oi) != 0)
			abort();
		oi_ready = 1;
	}
	if (memstore_open(data, size, &st) != 0)
		return 0;
	memset(&c, 0, sizeof(c));
	if (ca_store_begin(st, 0) != 0 ||
	    ca_db_crl_number(st, &number) != 0 ||
	    ca_db_foreach_revocation(st, collect_one, &c) != 0)
		goto out;
	if (ca_store_get(st, "nonce", &nonce, &nonce_len) != 0)
		nonce = NULL;
	else if (nonce_len > CA_OCSP_MAX_NONCE)
		nonce_len = CA_OCSP_MAX_NONCE;

	if (ca_crl_build(&a->issuer, c.e, c.n, number + 1, NOW,
	    NOW + 86400, &der) == 0)
		gnutls_free(der.data);

	/* The first revocations as OCSP answers, then one good, one unknown. */
	n = c.n < CA_OCSP_MAX_REQUESTS - 2 ? c.n : CA_OCSP_MAX_REQUESTS - 2;
	memset(ids, 0, sizeof(ids));
	memset(s, 0, sizeof(s));
	for (i = 0; i < n + 2; i++) {
		ids[i].hash = GNUTLS_DIG_SHA256;
		ids[i].hash_len = 32;
		memcpy(ids[i].name_hash, oi.name_hash[1], 32);
		memcpy(ids[i].key_hash, oi.key_hash[1], 32);
		if (i < n) {
			memcpy(ids[i].serial, c.e[i].serial, c.e[i].serial_len);
			ids[i].serial_len = c.e[i].serial_len;
			s[i].status = CA_OCSP_REVOKED;
			s[i].revoked_at = c.e[i].revoked_at;
			s[i].reason = c.e[i].reason;
		} else {
			ids[i].serial[0] = (unsigned char)(i + 1);
			ids[i].serial_len = 1;
			s[i].status = i == n ? CA_OCSP_GOOD : CA_OCSP_UNKNOWN;
			s[i].reason = CA_REASON_NONE;
		}
		s[i].id = &ids[i];
		s[i].this_update = NOW;
		s[i].next_update = i == n ? 0 : NOW + 3600;
	}
	der.data = NULL;
	if (ca_ocsp_response_build(&a->issuer, s, n + 2, nonce, nonce_len,
	    NOW, &der) == 0)
		gnutls_free(der.data);
	der.data = NULL;
	if (ca_ocsp_response_error(c.n > 0 ? c.e[0].reason & 7 : 1, &der) == 0)
		gnutls_free(der.data);
out:
	ca_store_abort(st);
	ca_err_clear();
	free(nonce);
	for (i = 0; i < c.n; i++)
		free(c.serials[i]);
	ca_store_close(st);
	return 0;
}
