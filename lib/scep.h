/*
 * scep.h - the SCEP provisioner (RFC 8894) as step-ca serves it at
 * /scep/NAME: GetCACaps, GetCACert, PKIOperation. An authority operation
 * (ca_authority_scep), so that under privilege separation the decrypter
 * key stays in the signer; lib/http.c only routes and decodes.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_SCEP_H
#define CA_SCEP_H

#include <stddef.h>
#include <time.h>

struct ca_authority;

/* One SCEP request; nothing in it is owned. */
struct ca_scep_req {
	const char	*name;		/* the provisioner, URL-unescaped */
	const char	*operation;	/* "GetCACaps", "GetCACert", "PKIOperation" */
	const unsigned char *message;	/* PKIOperation: the pkiMessage, DER */
	size_t		 len;
	time_t		 now;
};

/* The answer: an HTTP status, a static content type, a body (malloc). */
struct ca_scep_resp {
	int		 status;
	const char	*content_type;
	unsigned char	*body;
	size_t		 len;
	char		 log[200];	/* a PKIOperation's outcome, for the log */
};

/*
 * Answer req. Returns 0 with *resp filled (a CertRep FAILURE is a 200
 * answer too; a request that is not SCEP's, or names no SCEP provisioner,
 * 400 or 404 with a one-line text/plain body), or a CA_ERR_* when the CA
 * itself failed (store, signing): the caller answers 500/503.
 */
/*
 * At load, once the provisioners are in: no SCEP provisioner on a
 * registration authority, and one without a decrypter needs the
 * intermediate to be one (an RSA key). 0 or CA_ERR_CONFIG naming the
 * provisioner.
 */
struct ca_config;
int	 ca_scep_config_check(const struct ca_config *cfg);

int	 ca_authority_scep(struct ca_authority *a, const struct ca_scep_req *req,
	    struct ca_scep_resp *resp);
void	 ca_scep_resp_free(struct ca_scep_resp *resp);

#endif /* CA_SCEP_H */
