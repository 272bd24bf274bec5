/*
 * authority-impl.h - what an implementation of the authority interface
 * provides (lib/authority-local.c, lib/remote.c, lib/signer.c). Included
 * only by implementations and by lib/authority.c, which dispatches.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_AUTHORITY_IMPL_H
#define CA_AUTHORITY_IMPL_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>

#include "acme.h"
#include "authority.h"
#include "scep.h"

/*
 * The operations of one implementation. A NULL entry is an operation it
 * does not have: the dispatcher answers CA_ERR_CONFIG. Each takes the
 * authority whose impl is the implementation's own state. New operations
 * are added at the end.
 */
struct ca_authority_ops {
	const char	*kind;		/* "local", "remote", "signer" */
	int	(*sign)(struct ca_authority *, const struct ca_sign_req *,
		    struct ca_sign_result *);
	int	(*renew)(struct ca_authority *, const struct ca_renew_req *,
		    struct ca_sign_result *);
	int	(*revoke)(struct ca_authority *, const struct ca_revoke_req *,
		    char **);
	int	(*provisioners)(struct ca_authority *, const char *, size_t,
		    char **);
	int	(*encrypted_key)(struct ca_authority *, const char *, char **);
	int	(*server_cert)(struct ca_authority *, char **, size_t *,
		    time_t *, time_t *);
	int	(*crl)(struct ca_authority *, time_t, int, struct ca_db_crl *);
	int	(*ocsp)(struct ca_authority *, const void *, size_t, time_t,
		    gnutls_datum_t *, time_t *);
	void	(*ocsp_stats)(struct ca_authority *, unsigned long *,
		    unsigned long *);
	void	(*commit_stats)(struct ca_authority *, unsigned long *,
		    unsigned long *);
	int	(*reload)(struct ca_authority *);
	void	(*set_ports)(struct ca_authority *, const int *, size_t);
	int	(*db_list)(struct ca_authority *, struct ca_cert_info **,
		    size_t *);
	int	(*db_get)(struct ca_authority *, const char *,
		    struct ca_cert_info *);
	int	(*db_check)(struct ca_authority *,
		    void (*)(void *, const char *), void *, size_t *, size_t *);
	/* Release impl and what it owns (not the struct ca_authority). */
	void	(*close)(struct ca_authority *);
	int	(*provisioner)(struct ca_authority *, const char *, int,
		    const struct ca_provisioner **);
	int	(*audience)(struct ca_authority *, const char *, char **);
	/* lib/acme.h: answer an ACME request; record a validation. */
	int	(*acme)(struct ca_authority *, const struct ca_acme_req *,
		    struct ca_acme_resp *);
	int	(*acme_validated)(struct ca_authority *,
		    const struct ca_acme_job *, int, const char *,
		    const char *, time_t);
	/* lib/scep.h: answer a SCEP request. */
	int	(*scep)(struct ca_authority *, const struct ca_scep_req *,
		    struct ca_scep_resp *);
};

/*
 * The handle callers hold. The public material is borrowed from the
 * implementation, which sets it after ca_authority_wrap and keeps it
 * valid until its close (cfg until the next reload).
 */
struct ca_authority {
	const struct ca_authority_ops *ops;
	void		*impl;		/* the implementation's own state */
	gnutls_datum_t	 root_pem;
	gnutls_datum_t	 chain_pem;
	const char	*root_fp;	/* lowercase hex SHA-256 */
	const char	*dir;		/* NULL unless on a state directory */
	const struct ca_config *cfg;	/* NULL for remote */
};

/*
 * A new handle for impl with ops, public material empty. On failure
 * nothing is allocated and impl is the caller's to release.
 */
int	 ca_authority_wrap(const struct ca_authority_ops *ops, void *impl,
	    struct ca_authority **out);

#endif /* CA_AUTHORITY_IMPL_H */
