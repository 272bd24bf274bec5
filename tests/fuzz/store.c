/*
 * store.c - fuzz the decoders of the CA's records (lib/db.c): certificate,
 * issuance data, used-token, revocation and CRL records as a corrupt or
 * hostile database holds them, read the way ca-db, the authority and
 * ca-db check read them. The records come from the input (memstore.h).
 * fuzz-dict: json
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "db.h"
#include "dbfmt.h"
#include "store.h"

#include "memstore.h"

#define NOW	1780000000	/* a fixed "now": 2026-05-28 */

static FILE *sink;

static void
report(void *arg, const char *problem)
{
	(void)problem;
	++*(size_t *)arg;
}

static int
count_revocation(void *arg, const char *serial, time_t at, int reason)
{
	(void)serial;
	(void)at;
	(void)reason;
	++*(size_t *)arg;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if ((sink = fopen("/dev/null", "w")) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_store *st = NULL;
	struct ca_cert_info *v = NULL, one;
	struct ca_db_crl crl;
	uint64_t number;
	size_t n = 0, i, count = 0, problems, certs;

	if (memstore_open(data, size, &st) != 0)
		return 0;
	if (ca_store_begin(st, 0) != 0)
		goto out;
	if (ca_db_list(st, &v, &n) == 0) {
		ca_dbfmt_list(sink, v, n, NOW, 0);
		ca_dbfmt_list(sink, v, n, NOW, 1);
		for (i = 0; i < n; i++) {
			ca_dbfmt_show(sink, &v[i], NOW, 0);
			ca_dbfmt_show(sink, &v[i], NOW, 1);
			(void)ca_cert_info_status(&v[i], NOW);
		}
		/* One record again by its serial, as ca-db show reads it. */
		if (n > 0 && ca_db_get(st, v[0].serial, &one) == 0)
			ca_cert_info_free(&one);
		for (i = 0; i < n; i++)
			ca_cert_info_free(&v[i]);
		free(v);
	}
	ca_db_foreach_revocation(st, count_revocation, &count);
	if (ca_db_get_crl(st, &crl) == 0)
		free(crl.der);
	ca_db_crl_number(st, &number);
	ca_db_token_used(st, "kid", "jti");
	ca_db_check(st, NULL, report, &count, &problems, &certs);
	ca_store_abort(st);
out:
	ca_err_clear();
	ca_store_close(st);
	return 0;
}
