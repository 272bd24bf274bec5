/*
 * sign-args.h - ca-sign's command line as a signing request: the token
 * and the CSR read from their files, or with --key-out a new key and its
 * CSR made here for the token's subject and names, whatever the
 * authority.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_SIGN_ARGS_H
#define CA_SIGN_ARGS_H

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "authority.h"
#include "keys.h"

struct ca_sign_args {
	/* What the tool was given; NULL or 0: not given. */
	const char	*token_file;	/* --token-file ("-": stdin) */
	const char	*csr_file;	/* --csr ("-": stdin) */
	const char	*key_out;	/* --key-out */
	enum ca_key_type key_type;	/* --key-type, if key_type_given */
	int		 key_type_given;
	time_t		 not_before, not_after;
	/* Set by read and keygen, released by ca_sign_args_free. */
	struct ca_sign_req req;
	char		*token, *csr;
	size_t		 token_len, csr_len;
	gnutls_datum_t	 csr_made;	/* --key-out: the new key's CSR */
	char		*key;		/* --key-out: the new key, PEM */
	size_t		 key_len;
};

/*
 * Whether the options in args go together (a token; one of a CSR and
 * --key-out; stdin for one of them at most; --key-out a file): 0, or
 * CA_ERR_INVAL with the usage error recorded.
 */
int	 ca_sign_args_check(const struct ca_sign_args *args);
/* args->req from the token and CSR files of checked args. */
int	 ca_sign_args_read(struct ca_sign_args *args);
/*
 * With --key-out, the new key and its CSR into args->req: the type given,
 * else the one a (on a state directory) makes for clients, else ec-p256.
 * Without, nothing.
 */
int	 ca_sign_args_keygen(struct ca_sign_args *args,
	    const struct ca_authority *a);
/* Wipe the token and the new key, free what read and keygen set. */
void	 ca_sign_args_free(struct ca_sign_args *args);

#endif /* CA_SIGN_ARGS_H */
