/*
 * revoke-args.h - ca-revoke's command line as a revocation request: the
 * options checked together, then the proof chosen (the operator of the
 * state directory, a revoke token, or the certificate itself over mutual
 * TLS) and the request built from it.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_REVOKE_ARGS_H
#define CA_REVOKE_ARGS_H

#include <stddef.h>

#include "authority.h"

#define CA_REVOKE_MAX_REASON_TEXT 256	/* bytes of --reason-text */

struct ca_revoke_args {
	/* What the tool was given; NULL or 0: not given. */
	const char	*serial;	/* SERIAL */
	const char	*token_file;	/* --token-file */
	const char	*cert, *key;	/* --cert, --key */
	const char	*reason_text;	/* --reason-text */
	int		 reason;	/* --reason; CA_REASON_NONE: none */
	int		 crl;		/* --crl */
	int		 online;	/* --ca-url */
	int		 output;	/* -o */
	int		 password;	/* --password-file */
	/* Set by ca_revoke_args_request, released by ca_revoke_args_free. */
	struct ca_revoke_req req;
	char		*token;
	size_t		 token_len;
	struct ca_client_cert *cc;
	char		*own_serial;	/* "0x" and --cert's serial */
};

/*
 * Whether the options in args go together, checked before anything is
 * read or sent: 0, or CA_ERR_INVAL with the usage error recorded.
 */
int	 ca_revoke_args_check(const struct ca_revoke_args *args);
/*
 * Build args->req from checked args: with a token file, the token read
 * from it; with --cert and --key, the certificate loaded (its key must be
 * the certificate's: refused here, not in the TLS handshake) and, without
 * SERIAL, its own serial; else the operator's trusted request. Release
 * with ca_revoke_args_free in every case.
 */
int	 ca_revoke_args_request(struct ca_revoke_args *args);
void	 ca_revoke_args_free(struct ca_revoke_args *args);

#endif /* CA_REVOKE_ARGS_H */
