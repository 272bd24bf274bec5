/*
 * init-args.h - ca-init's command line as the options of ca_init_create:
 * every usage error found before any key is made, the PIN file named by
 * its absolute path, the passwords read.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_INIT_ARGS_H
#define CA_INIT_ARGS_H

#include <stddef.h>

#include "authority.h"

#define CA_INIT_MAX_DNS	64	/* names in all --dns together */

struct ca_init_args {
	/*
	 * What the tool was given: opts' strings and flags as options
	 * name them (dir from -d), and these. NULL or 0: not given.
	 */
	struct ca_init_opts opts;
	const char	*pass_file;		/* --password-file */
	const char	*prov_pass_file;	/* --provisioner-password-file */
	const char	*upstream_pass_file;	/* --upstream-password-file */
	const char	*kms_pin_file;		/* --kms-pin-file */
	int		 ra;			/* --ra */
	char		*dns[CA_INIT_MAX_DNS];	/* --dns, split at commas */
	size_t		 n_dns;
	/* Set by ca_init_args_check and _secrets; ca_init_args_free. */
	char		*pin_abs;
	char		*pw, *ppw, *upw;
	size_t		 pwlen, ppwlen, upwlen;
};

/*
 * One --dns argument: arg (modified) split at commas into args->dns.
 * CA_ERR_INVAL with the usage error when there are too many names.
 */
int	 ca_init_args_dns(struct ca_init_args *args, char *arg);
/*
 * Check args as ca-init does before any key is made and complete
 * args->opts (names, PIN file). CA_ERR_INVAL with the usage error
 * recorded, or CA_ERR_IO when the PIN file has no absolute path.
 */
int	 ca_init_args_check(struct ca_init_args *args);
/* Read the passwords of checked args into args->opts. */
int	 ca_init_args_secrets(struct ca_init_args *args);
/* Wipe and free what check and secrets set. */
void	 ca_init_args_free(struct ca_init_args *args);

#endif /* CA_INIT_ARGS_H */
