/*
 * unit-ca.h - the state directory the unit tests that need one share:
 * made by ca_init_create in the test's temporary directory (tap.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_UNIT_CA_H
#define CA_UNIT_CA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"

/*
 * Make tmpdir/ca, CA "Unit" for ca.test, provisioner "admin" (its key
 * written to tmpdir/prov.json, password "provisioner password"), root
 * password "root password", the intermediate key unencrypted; dir and
 * prov get the two paths. Bails out on failure.
 */
static void
unit_ca_make(char *dir, size_t dirsize, char *prov, size_t provsize)
{
	static const char *dns[] = { "ca.test" };
	struct ca_init_opts o;
	char *fp = NULL;

	snprintf(dir, dirsize, "%s/ca", tmpdir);
	snprintf(prov, provsize, "%s/prov.json", tmpdir);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "Unit";
	o.dns = dns;
	o.n_dns = 1;
	o.address = ":8443";
	o.provisioner = "admin";
	o.password = "root password";
	o.prov_password = "provisioner password";
	o.unencrypted_intermediate = 1;
	o.p2c = 1000;
	o.prov_key_out = prov;
	if (ca_init_create(&o, &fp) != 0) {
		printf("Bail out! ca_init_create: %s\n", ca_errmsg());
		exit(1);
	}
	free(fp);
}

#endif /* CA_UNIT_CA_H */
