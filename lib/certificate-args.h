/*
 * certificate-args.h - ca-certificate's command line as one request, as
 * `step ca certificate` makes it: a token from the JWK provisioner for
 * NAME and its names, a new key and its CSR, the certificate, the key
 * and the chain written together or not at all.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_CERTIFICATE_ARGS_H
#define CA_CERTIFICATE_ARGS_H

#include "authority.h"
#include "sign-args.h"
#include "token-args.h"

struct ca_certificate_args {
	struct ca_token_args	 tok;	/* subject NAME, --san, --provisioner,
					   --password-file or --key */
	struct ca_sign_args	 sign;	/* key_out KEY, --key-type,
					   --not-before, --not-after */
	const char		*crt;	/* CRT: the chain */
	int			 force;	/* --force: replace CRT and KEY */
};

/*
 * Whether the options in args go together and the names are valid (as
 * ca-token checks them); CRT and KEY files, distinct, not "-" for KEY.
 * 0, or CA_ERR_INVAL with the usage error recorded.
 */
int	 ca_certificate_args_check(const struct ca_certificate_args *args);
/*
 * Get the certificate from a (a state directory opened with its key, or a
 * CA's server): CRT and KEY checked first (absent, unless force), then
 * the token minted, the key and CSR made, the certificate signed, and
 * the key and chain published, each atomically (key 0600): on failure
 * neither file is written. res: release with ca_sign_result_free.
 */
int	 ca_certificate_args_run(struct ca_certificate_args *args,
	    struct ca_authority *a, struct ca_sign_result *res);

#endif /* CA_CERTIFICATE_ARGS_H */
