/*
 * redo.c - fuzz the GDBM store's redo records (lib/store-gdbm.c): the two
 * slots "!redo.0" and "!redo.1" as a crash or a hostile hand left them in
 * db/ca.gdbm, read back by the next transaction (a reader completes
 * them, a writer replays them) and then by ca-db check's verify. Each
 * input makes a fresh database beside a few ordinary records, writes the
 * slots from the input with GDBM itself, and opens it as the CA does.
 * Input: octet 0, bit 0 and bit 1: slot 0 and slot 1 present, bit 2:
 * slot 1 is written as "!redo" (the one record of earlier versions)
 * instead; octets 1-2 (big-endian) the length of slot 0's value; slot 0;
 * the rest is slot 1.
 * A slot's value is an 8-octet transaction number and then records
 * kind(1) keylen(4) key vallen(4) val. db/lock is absent, so nothing
 * says the slots were applied: they are replayed.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ftw.h>
#include <gdbm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "store.h"

static char dir[4096], dbpath[4200], lockpath[4200];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
done(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	/* Memory-backed where there is one: the store syncs on replay. */
	if (t == NULL || *t == '\0')
		t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/ca-fuzz-redo.XXXXXX", t);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
	atexit(done);
	snprintf(dbpath, sizeof(dbpath), "%s/ca.gdbm", dir);
	snprintf(lockpath, sizeof(lockpath), "%s/lock", dir);
	return 0;
}

static void
put(GDBM_FILE db, const char *key, const void *val, size_t len)
{
	datum k, v;

	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)strlen(key);
	v.dptr = (char *)(uintptr_t)val;
	v.dsize = (int)len;
	if (gdbm_store(db, k, v, GDBM_REPLACE) != 0)
		abort();
}

static int
visit(void *arg, const char *key, const unsigned char *val, size_t len)
{
	(void)key;
	(void)val;
	*(size_t *)arg += len;
	return 0;
}

/* What the CA does with a store it opens: read, write, check. */
static void
open_as_ca(void)
{
	struct ca_store *st = NULL;
	unsigned char *v = NULL;
	size_t n = 0, len;

	if (ca_store_open(dir, 1000, &st) != 0)
		return;
	if (ca_store_begin(st, 0) == 0) {
		(void)ca_store_foreach(st, "", visit, &n);
		ca_store_abort(st);
	}
	if (ca_store_begin(st, 1) == 0) {
		if (ca_store_get(st, "crl/number", &v, &len) == 0)
			free(v);
		if (ca_store_put(st, "fuzz/after", "x", 1, 0) == 0)
			(void)ca_store_commit(st);
		else
			ca_store_abort(st);
	}
	if (ca_store_begin(st, 0) == 0) {
		(void)ca_store_verify(st);
		(void)ca_store_foreach(st, "!", visit, &n);
		ca_store_abort(st);
	}
	ca_store_close(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GDBM_FILE db;
	size_t len0;

	if (size < 3 || size > 65536)
		return 0;
	len0 = (size_t)data[1] << 8 | data[2];
	if (len0 > size - 3)
		len0 = size - 3;
	(void)unlink(lockpath);
	(void)unlink(dbpath);
	if ((db = gdbm_open(dbpath, 0, GDBM_NEWDB | GDBM_NOLOCK, 0600,
	    NULL)) == NULL)
		abort();
	put(db, "crl/number", "1", 1);
	put(db, "x509_certs/01", "\x30\x03\x02\x01\x01", 5);
	put(db, "used_ott/abc", "{}", 2);
	if (data[0] & 1)
		put(db, "!redo.0", data + 3, len0);
	if (data[0] & 2)
		put(db, data[0] & 4 ? "!redo" : "!redo.1", data + 3 + len0,
		    size - 3 - len0);
	gdbm_close(db);
	open_as_ca();
	ca_err_clear();
	return 0;
}
