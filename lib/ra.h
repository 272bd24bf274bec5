/*
 * ra.h - a registration authority's upstream CA (lib/ra.c).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_RA_H
#define CA_RA_H

#include <stddef.h>
#include <time.h>

struct ca_local;
struct ca_upstream;

/*
 * Connect to the upstream of the RA a (its ca.json): check that the root
 * in certs/ is the one pinned by certificateAuthorityFingerprint, get the
 * upstream provisioner's key (certificateIssuer.key, else its encryptedKey
 * from GET /provisioners decrypted with password), and the upstream's
 * intermediate into a->issuer.crt and a->crt_pem (no key).
 */
int	 ca_upstream_open(struct ca_local *a, const char *password,
	    size_t pwlen, struct ca_upstream **out);
void	 ca_upstream_free(struct ca_upstream *u);

struct ca_upstream_sign_req {
	const char		*csr_pem;
	size_t			 csr_len;
	const char		*sub;
	const char *const	*sans;
	size_t			 n_sans;
	time_t			 not_before, not_after;
};
/*
 * POST /sign upstream with a fresh token of the upstream provisioner for
 * sub and sans. Errors: the upstream's refusals as they are (CA_ERR_AUTH,
 * _FORBIDDEN, _INVAL, ...), CA_ERR_UPSTREAM (502) for its failures, TLS
 * not from the pinned root or no connection, CA_ERR_UPSTREAM_TIMEOUT
 * (504). The caller checks what comes back before relaying it.
 */
int	 ca_upstream_sign(struct ca_upstream *u, const char *root_fp,
	    const struct ca_upstream_sign_req *req, char **crt_pem,
	    char **ca_pem);
/*
 * POST /renew (or /rekey with csr) upstream with the client's own x5c
 * token, which the upstream accepts because it lists this RA in
 * caTools.registrationAuthorities.
 */
int	 ca_upstream_renew(struct ca_upstream *u, const char *token,
	    const char *csr, size_t csr_len, char **crt_pem, char **ca_pem);
/* POST /revoke upstream with the RA's own revoke token for serial_hex. */
int	 ca_upstream_revoke(struct ca_upstream *u, const char *root_fp,
	    const char *serial_hex, int reason, const char *reason_text);

#endif /* CA_RA_H */
