/*
 * renew-args.h - ca-renew's renewal, whatever the authority: the
 * certificate and key on disk loaded and found due, the request made
 * from them (a new key for a rekey; the proof by mutual TLS when it can
 * be, else an x5c token), and the new certificate checked against the
 * key it must certify.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_RENEW_ARGS_H
#define CA_RENEW_ARGS_H

#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "authority.h"

struct ca_renew_args {
	/* What the tool was given. */
	const char	*cert, *key_file;	/* CERT, KEY */
	long long	 expires_in;	/* --expires-in; -1: the default */
	int		 force;		/* --force */
	int		 rekey;		/* --rekey */
	int		 no_mtls;	/* --no-mtls */
	time_t		 now;
	/* Where (for ca_renew_args_run): -d, or --ca-url and --root. */
	const char	*dir, *url, *root, *pass_file;
	const char	*out;		/* -o; NULL: over CERT */
	const char	*key_out;	/* --key-out */
	/* Set by load and request, released by ca_renew_args_free. */
	struct ca_client_cert *cc;
	struct ca_renew_req req;
	gnutls_datum_t	 csr;		/* rekey: the new key's CSR */
	char		*key;		/* rekey: the new key, PEM */
	size_t		 key_len;
};

/*
 * Load CERT with KEY (which must be its key). Returns 0 when it is due
 * (or forced), 1 when it is not due yet, else an error.
 */
int	 ca_renew_args_load(struct ca_renew_args *args);
/*
 * args->req for the loaded certificate: with rekey, a new key of its
 * key's kind and that key's CSR; the key proven over mutual TLS unless
 * no_mtls or the certificate is not valid now (then with an x5c token).
 */
int	 ca_renew_args_request(struct ca_renew_args *args);
/*
 * Whether res, the renewal of the loaded certificate, certifies the new
 * key (rekey) or the certificate's own; -v says what was renewed.
 */
int	 ca_renew_args_check(const struct ca_renew_args *args,
	    const struct ca_sign_result *res);
/*
 * The whole renewal: load, due (1 when not: nothing done), check that
 * the outputs can be written, the request, the renewal by the authority
 * args names (opened here, closed before returning), the check, and
 * the certificate (and new key) published. *res is the new certificate
 * (cleared first; the caller frees it in every case). Ends with
 * ca_renew_args_free(args), so that it can be called again.
 */
int	 ca_renew_args_run(struct ca_renew_args *args,
	    struct ca_sign_result *res);
/* Wipe the new key and free what load and request set. */
void	 ca_renew_args_free(struct ca_renew_args *args);

#endif /* CA_RENEW_ARGS_H */
