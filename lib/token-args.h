/*
 * token-args.h - ca-token's command line as a token: the options and
 * names checked (the names ca-sign would refuse, refused now), then the
 * provisioner found at the authority, its key decrypted or read, and the
 * token minted for the authority's audience and root.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_TOKEN_ARGS_H
#define CA_TOKEN_ARGS_H

#include <stddef.h>
#include <time.h>

#include "authority.h"

#define CA_TOKEN_MAX_SANS	100	/* --san given */

/* The --help lines of the provisioner's key options, in tools that mint. */
#define CA_TOKEN_ARGS_HELP_KEY \
"      --provisioner NAME       the JWK provisioner (default: the only one)\n" \
"      --password-file FILE     password that decrypts the provisioner key\n" \
"      --key FILE               the provisioner's private key, PEM or JWK,\n" \
"                               instead of decrypting encryptedKey\n"

struct ca_token_args {
	/* What the tool was given; NULL or 0: not given. */
	const char	*subject;	/* SUBJECT: a name, or a serial */
	const char	*provisioner;	/* --provisioner; NULL: the only one */
	const char	*key_file;	/* --key */
	const char	*pass_file;	/* --password-file */
	const char	*sans[CA_TOKEN_MAX_SANS];	/* --san */
	size_t		 n_sans;
	long long	 lifetime;	/* --not-after, if lifetime_given */
	int		 lifetime_given;
	time_t		 not_before;	/* --not-before; 0: now */
	int		 revoke;	/* --revoke */
	time_t		 now;
	/* X5C: the token is signed by a certificate's key. */
	const char	*x5c_cert;	/* --x5c-cert: PEM, the leaf first */
	const char	*x5c_key;	/* --x5c-key: its private key */
	const char	*x5c_chain;	/* --x5c-chain: more issuers */
};

/* One --san; CA_ERR_INVAL with the usage error past the maximum. */
int	 ca_token_args_san(struct ca_token_args *args, const char *arg);
/*
 * Whether the options in args go together (a lifetime within the
 * maximum; --password-file or --key, one, or --x5c-cert with --x5c-key;
 * no --san with --revoke): 0, or
 * CA_ERR_INVAL with the usage error recorded.
 */
int	 ca_token_args_check(const struct ca_token_args *args);
/*
 * For a certificate (not --revoke): SUBJECT a valid common name, the
 * names valid (the SANs, or SUBJECT alone). CA_ERR_INVAL as above.
 */
int	 ca_token_args_names(const struct ca_token_args *args);
/*
 * Mint the token args ask for from a's provisioner, with its key from
 * --key or decrypted with the password file's; with --x5c-cert, an X5C
 * token signed by --x5c-key for the X5C provisioner --provisioner (or
 * the CA's only one). *tok: free with
 * ca_free_secret(*tok, strlen(*tok)).
 */
int	 ca_token_args_mint(const struct ca_token_args *args,
	    struct ca_authority *a, char **tok);

#endif /* CA_TOKEN_ARGS_H */
