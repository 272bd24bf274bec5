/*
 * mkrevoked - add N revoked serials to a CA's store, for bench/revocation.sh.
 *
 * Usage: mkrevoked DIR N [BATCH]
 *
 * DIR is a state directory made by ca-init. For each of N random serials
 * (17 octets, the first in 0x40..0x7f, as ca-sign makes them) a dummy
 * record is put under x509_certs/<serial hex> (ca_db_add_revocation only
 * checks that the key exists; the record is not a certificate, so ca-db
 * list and check refuse such a store afterwards) and the serial is
 * revoked with ca_db_add_revocation. Reasons and times vary: entry i has
 * no reason code when i % 3 == 0, keyCompromise when i % 3 == 1,
 * superseded when i % 3 == 2, and was revoked i seconds before now.
 * BATCH serials go in one write transaction (default 1000: the store
 * looks queued changes up linearly, so one transaction of 100,000 would
 * be quadratic). Finally the revocation counter (db/revision) is bumped
 * once, as ca-revoke does after a revocation, so that every process
 * knows its cached CRL is stale. With N = 0 the counter is only bumped:
 * the next CRL is made afresh with the same entries.
 *
 * Standard output: one line per serial, "SERIAL<TAB>REVOKED-AT<TAB>REASON"
 * (canonical lower-case hex, UTC as ca-db list prints it, RFC 5280 name
 * or "-"), for the peer's index.txt and to check the CRLs.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authority.h"
#include "crl.h"
#include "db.h"
#include "store.h"

#define SERIAL_OCTETS	17

static const char dummy[] = "mkrevoked: not a certificate";

static int
usage(void)
{
	fprintf(stderr, "usage: mkrevoked DIR N [BATCH]\n");
	return 2;
}

/* A decimal count, 0 (if zero_ok) to 100,000,000, no sign or padding. */
static int
count_arg(const char *s, int zero_ok, unsigned long *out)
{
	char *end;

	if (zero_ok && strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	errno = 0;
	*out = strtoul(s, &end, 10);
	return s[0] >= '1' && s[0] <= '9' && *end == '\0' && errno == 0 &&
	    *out <= 100000000UL ? 0 : -1;
}

static int
reason_of(unsigned long i)
{
	switch (i % 3) {
	case 0:
		return CA_REASON_NONE;
	case 1:
		return CA_REASON_KEY_COMPROMISE;
	default:
		return CA_REASON_SUPERSEDED;
	}
}

/* Queue serial number i: its dummy certificate and its revocation. */
static int
add_one(struct ca_store *st, unsigned long i, time_t now, FILE *out)
{
	unsigned char raw[SERIAL_OCTETS];
	char hex[2 * SERIAL_OCTETS + 1], key[64], when[32];
	struct ca_revocation r;
	struct tm tm;
	size_t k;
	int ret, rc;

	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw))) < 0)
		return ca_err(CA_ERR_CRYPTO, "gnutls_rnd: %s",
		    gnutls_strerror(ret));
	raw[0] = (unsigned char)((raw[0] & 0x3f) | 0x40);
	for (k = 0; k < sizeof(raw); k++)
		snprintf(hex + 2 * k, 3, "%02x", raw[k]);
	snprintf(key, sizeof(key), "x509_certs/%s", hex);
	if ((rc = ca_store_put(st, key, dummy, sizeof(dummy) - 1, 1)) != 0)
		return rc == CA_ERR_EXISTS ? ca_err(rc, "serial %s drawn twice",
		    hex) : rc;
	memset(&r, 0, sizeof(r));
	r.serial = hex;
	r.reason = reason_of(i);
	r.revoked_at = now - (time_t)i;
	r.by = "mkrevoked";
	if ((rc = ca_db_add_revocation(st, &r)) != 0)
		return rc;
	if (gmtime_r(&r.revoked_at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return ca_err(CA_ERR_INVAL, "time out of range");
	fprintf(out, "%s\t%s\t%s\n", hex, when, r.reason == CA_REASON_NONE ?
	    "-" : ca_reason_name(r.reason));
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_authority *a = NULL;
	struct ca_store *st = NULL;
	unsigned long n, batch = 1000, i;
	char *dbdir = NULL;
	time_t now = time(NULL);
	int rc, in_txn = 0;

	if (argc < 3 || argc > 4 || count_arg(argv[2], 1, &n) != 0 ||
	    (argc == 4 && count_arg(argv[3], 0, &batch) != 0))
		return usage();
	if (asprintf(&dbdir, "%s/db", argv[1]) < 0)
		return 1;
	if ((rc = ca_store_open(dbdir, 30000, &st)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!in_txn) {
			if ((rc = ca_store_begin(st, 1)) != 0)
				goto out;
			in_txn = 1;
		}
		if ((rc = add_one(st, i, now, stdout)) != 0)
			goto out;
		if ((i + 1) % batch == 0 || i + 1 == n) {
			in_txn = 0;
			if ((rc = ca_store_commit(st)) != 0)
				goto out;
		}
	}
	/* As ca-revoke -d does after its commit. */
	if ((rc = ca_authority_open_public(argv[1], &a)) != 0)
		goto out;
	ca_status_bump(a);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = ca_err(CA_ERR_IO, "standard output: %s", strerror(errno));
out:
	if (in_txn)
		ca_store_abort(st);
	if (rc != 0)
		fprintf(stderr, "mkrevoked: %s\n", ca_errmsg());
	ca_authority_close(a);
	ca_store_close(st);
	free(dbdir);
	return rc != 0 ? 1 : 0;
}
