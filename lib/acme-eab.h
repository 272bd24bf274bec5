/*
 * acme-eab.h - external account binding keys (RFC 8555 7.3.4) of the
 * ACME provisioners that set requireEAB: made, listed and revoked by the
 * operator (ca-db eab), each binding one new account once.
 *
 * A key is acme/eab/KID in the store: {"provisioner", "key" (32 random
 * octets, base64url), "reference", "createdAt", "status" ("valid",
 * "revoked"), "account" (the account it bound, once it has)}.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ACME_EAB_H
#define CA_ACME_EAB_H

#include <stddef.h>
#include <time.h>

struct ca_authority;

struct ca_acme_eab {
	char	*kid;
	char	*provisioner;
	char	*reference;	/* the operator's note, or NULL */
	char	*status;	/* "valid", "revoked" */
	char	*account;	/* the account it bound, or NULL */
	time_t	 created;
};

/*
 * A new key for the ACME provisioner named provisioner (reference may be
 * NULL; at most 256 printable characters): *kid and *hmac (base64url, as
 * clients take it: lego --eab --kid --hmac) are the caller's to free.
 * Needs a local CA's store (ca_authority_open_public and the like).
 */
int	 ca_acme_eab_add(struct ca_authority *a, const char *provisioner,
	    const char *reference, time_t now, char **kid, char **hmac);
/* Every key, by kid; *v freed with ca_acme_eab_free. */
int	 ca_acme_eab_list(struct ca_authority *a, struct ca_acme_eab **v,
	    size_t *n);
/* Revoke kid: it binds nothing from now on (an account it bound stays). */
int	 ca_acme_eab_revoke(struct ca_authority *a, const char *kid);
void	 ca_acme_eab_free(struct ca_acme_eab *v, size_t n);

#endif /* CA_ACME_EAB_H */
