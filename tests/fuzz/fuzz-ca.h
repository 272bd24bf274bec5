/*
 * fuzz-ca.h - the scratch CA the harnesses that sign or check against an
 * issuer share: made once per process by ca_init_create in a temporary
 * directory (removed at exit) as the unit tests make theirs, opened with
 * its key, as ca-serve opens it.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_FUZZ_CA_H
#define CA_FUZZ_CA_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "authority.h"
#include "authority-impl.h"
#include "authority-local.h"

/* unit-ca.h makes the CA in tmpdir, as tap.h names it for a unit test. */
static char tmpdir[4096];
#include "../unit/unit-ca.h"

static struct ca_authority *fuzz_ca;

static int
fuzz_ca_rm(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fuzz_ca_done(void)
{
	ca_authority_close(fuzz_ca);
	fuzz_ca = NULL;
	nftw(tmpdir, fuzz_ca_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The scratch CA (unit-ca.h: "Unit", ca.test, :8443, provisioner
 * "admin"): its local authority, made on the first call. Aborts when it
 * cannot be made.
 */
static struct ca_local *
fuzz_ca_local(void)
{
	const char *t = getenv("TMPDIR");
	char dir[4200], prov[4200];

	if (fuzz_ca != NULL)
		return fuzz_ca->impl;
	fuzz_quiet();
	snprintf(tmpdir, sizeof(tmpdir), "%s/ca-fuzz.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		abort();
	}
	atexit(fuzz_ca_done);
	unit_ca_make(dir, sizeof(dir), prov, sizeof(prov));
	if (ca_authority_open(dir, NULL, &fuzz_ca) != 0) {
		fprintf(stderr, "scratch CA: %s\n", ca_errmsg());
		abort();
	}
	return fuzz_ca->impl;
}

#endif /* CA_FUZZ_CA_H */
