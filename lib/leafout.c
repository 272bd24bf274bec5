/*
 * leafout.c - a client tool's new certificate chain and key: where they
 * go, checked before the request, published together after it.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "leafout.h"

int
ca_leafout_prepare(struct ca_leafout *lo, const char *over, const char *out,
    const char *key_out, int key_flags)
{
	int rc;

	memset(lo, 0, sizeof(*lo));
	lo->key = key_out;
	lo->key_flags = key_flags;
	if (out != NULL)
		lo->chain = strdup(out);
	else if (over != NULL) {
		/* In place: through a symbolic link, the file it names. */
		if ((lo->chain = realpath(over, NULL)) == NULL)
			return ca_err(CA_ERR_IO, "%s: %s", over,
			    strerror(errno));
	} else
		lo->chain = strdup("-");
	if (lo->chain == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	/* A renewed chain keeps what its file was: mode, owner, group. */
	if (over != NULL)
		lo->chain_flags = CA_PUBLISH_KEEP_MODE;
	if (key_out != NULL && (key_flags & CA_PUBLISH_NEW) &&
	    (rc = ca_file_publish_check(key_out, key_flags)) != 0)
		return rc;
	if (strcmp(lo->chain, "-") != 0 &&
	    (rc = ca_file_publish_check(lo->chain, 0)) != 0)
		return rc;
	if (key_out != NULL && !(key_flags & CA_PUBLISH_NEW) &&
	    (rc = ca_file_publish_check(key_out, key_flags)) != 0)
		return rc;
	return 0;
}

int
ca_leafout_publish(const struct ca_leafout *lo,
    const struct ca_sign_result *res, const char *key, size_t key_len)
{
	struct ca_staged cs, ks;
	char *chain = NULL;
	int rc;

	memset(&cs, 0, sizeof(cs));
	memset(&ks, 0, sizeof(ks));
	if (asprintf(&chain, "%s%s", res->crt_pem, res->chain_pem) < 0) {
		chain = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_file_stage(lo->chain, chain, strlen(chain), 0644,
	    lo->chain_flags, &cs)) != 0)
		goto out;
	if (lo->key != NULL &&
	    ((rc = ca_file_stage(lo->key, key, key_len, 0600, lo->key_flags,
	    &ks)) != 0 || (rc = ca_file_commit(&ks)) != 0))
		goto out;
	rc = ca_file_commit(&cs);
out:
	ca_file_abort(&ks);
	ca_file_abort(&cs);
	free(chain);
	return rc;
}

void
ca_leafout_free(struct ca_leafout *lo)
{
	free(lo->chain);
	memset(lo, 0, sizeof(*lo));
}
