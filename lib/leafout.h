/*
 * leafout.h - where a client tool puts the certificate it got (with the
 * intermediate: the chain) and its new key: the chain on standard
 * output, in a file, or over the certificate it renews; the key in its
 * own file, mode 0600. Both are checked before the request is made (so
 * that no token is spent for output that cannot be written) and
 * published atomically after, the key first.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_LEAFOUT_H
#define CA_LEAFOUT_H

#include <stddef.h>

#include "authority.h"

struct ca_leafout {
	char		*chain;		/* "-": standard output; else a file */
	const char	*key;		/* NULL: no key to write */
	int		 chain_flags;	/* CA_PUBLISH_* */
	int		 key_flags;
};

/*
 * Where the chain goes: out ("-": standard output); when out is NULL,
 * over the certificate file over (through a symbolic link, the file it
 * names; the mode, owner and group kept), or standard output when over
 * is NULL too. The key goes to key_out (NULL: none) with key_flags
 * (CA_PUBLISH_NEW: it must not exist; then it is checked first). Both
 * checked as ca_file_publish_check does. Release lo with
 * ca_leafout_free in every case.
 */
int	 ca_leafout_prepare(struct ca_leafout *lo, const char *over,
	    const char *out, const char *key_out, int key_flags);
/*
 * Publish res's certificate and intermediate and the key (key_len
 * bytes; ignored without a key file), each staged before either is
 * committed: a failure leaves the old files.
 */
int	 ca_leafout_publish(const struct ca_leafout *lo,
	    const struct ca_sign_result *res, const char *key, size_t key_len);
void	 ca_leafout_free(struct ca_leafout *lo);

#endif /* CA_LEAFOUT_H */
