/*
 * fuzz-ca.h - the scratch CA the harnesses that sign or check against an
 * issuer share: made once per process by ca_init_create in a temporary
 * directory (removed at exit), opened with its key, as ca-serve opens it.
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

static struct ca_authority *fuzz_ca;
static char fuzz_ca_tmp[4096];

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
	nftw(fuzz_ca_tmp, fuzz_ca_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The scratch CA "Fuzz" (ca.test, provisioner "admin"): its local
 * authority, made on the first call. Aborts when it cannot be made.
 */
static struct ca_local *
fuzz_ca_local(void)
{
	static const char *dns[] = { "ca.test" };
	struct ca_init_opts o;
	const char *t = getenv("TMPDIR");
	char dir[4200], *fp = NULL;

	if (fuzz_ca != NULL)
		return fuzz_ca->impl;
	fuzz_quiet();
	snprintf(fuzz_ca_tmp, sizeof(fuzz_ca_tmp), "%s/ca-fuzz.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(fuzz_ca_tmp) == NULL) {
		perror(fuzz_ca_tmp);
		abort();
	}
	snprintf(dir, sizeof(dir), "%s/ca", fuzz_ca_tmp);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "Fuzz";
	o.dns = dns;
	o.n_dns = 1;
	o.address = ":8443";
	o.provisioner = "admin";
	o.password = "root password";
	o.prov_password = "provisioner password";
	o.unencrypted_intermediate = 1;
	o.p2c = 1000;
	if (ca_init_create(&o, &fp) != 0 ||
	    ca_authority_open(dir, NULL, &fuzz_ca) != 0) {
		fprintf(stderr, "scratch CA: %s\n", ca_errmsg());
		nftw(fuzz_ca_tmp, fuzz_ca_rm, 16, FTW_DEPTH | FTW_PHYS);
		abort();
	}
	free(fp);
	atexit(fuzz_ca_done);
	return fuzz_ca->impl;
}

#endif /* CA_FUZZ_CA_H */
