/*
 * acme.h - the ACME server (RFC 8555) of ca-serve: one authority
 * operation that answers every ACME request, and the validations of
 * challenges that the serving process runs outside the authority.
 *
 * Who does what:
 * - lib/http.c sees a request under /acme/{provisioner}/ or
 *   /2.0/acme/{provisioner}/, hands method, URL, body to
 *   ca_authority_acme() and writes the answer it gets (status, headers,
 *   body) as it is. It knows nothing of JWS, nonces or orders.
 * - The local authority (lib/acme*.c) does the protocol: nonces, the
 *   flattened JWS and its account, accounts, orders, authorizations,
 *   challenges, finalize (issuance recorded in the same store
 *   transaction as the order's new state), certificates, revocation.
 *   Its state is in the store, never in a process's memory, so that
 *   every process (inetd, several ca-serve) answers the same. Under
 *   privilege separation the signer runs it, as it runs every other
 *   operation (lib/signer.c relays the request and the answer).
 * - A challenge the client asks to validate comes back as a job
 *   (struct ca_acme_job) with the answer. The serving process (the
 *   unprivileged worker under privsep: it is the one that talks to the
 *   network) validates it with lib/acme-validate.c on threads of its own,
 *   never on the request's, and reports the outcome with
 *   ca_authority_acme_validated(). The outcome is the one thing the
 *   authority takes from the worker on trust.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ACME_H
#define CA_ACME_H

#include <stddef.h>
#include <time.h>

struct ca_authority;

/* An ACME request as the HTTP layer received it. */
struct ca_acme_req {
	const char	*method;	/* "GET", "HEAD" or "POST" */
	const char	*base;		/* "https://" + the Host header, no '/' */
	const char	*path;		/* "/acme/NAME/..." or "/2.0/acme/NAME/..." */
	const char	*content_type;	/* NULL if none */
	const unsigned char *body;	/* POST body, or NULL */
	size_t		 body_len;
	/*
	 * Not 0: the body went over this limit (ca-serve's --max-body) and
	 * was not kept (body is NULL); the answer is 413.
	 */
	size_t		 over_limit;
	time_t		 now;
};

/*
 * A challenge to validate: what the validator needs, nothing else. The
 * authority makes it; the serving process owns it once it has it.
 */
struct ca_acme_job {
	char		*provisioner;	/* the ACME provisioner's name */
	char		*authz;		/* authorization id */
	char		*challenge;	/* challenge id */
	char		*type;		/* "http-01", "dns-01", "tls-alpn-01" */
	char		*id_type;	/* "dns" or "ip" */
	char		*id_value;	/* "a.example" (no "*." ), "192.0.2.1" */
	char		*token;
	char		*key_auth;	/* token "." base64url(thumbprint) */
};

#define CA_ACME_MAX_LINKS	8

/*
 * The answer, complete: lib/http.c writes status, Content-Type, the
 * headers below and body, and adds Cache-Control: no-store itself.
 * nonce is set on every answer, errors included (RFC 8555 6.5).
 */
struct ca_acme_resp {
	int		 status;		/* 200, 201, 204, 400, ... */
	const char	*content_type;		/* static string, or NULL */
	char		*body;			/* or NULL */
	size_t		 body_len;
	char		*nonce;			/* Replay-Nonce */
	char		*location;		/* Location, or NULL */
	char		*links[CA_ACME_MAX_LINKS];	/* Link values: <url>;rel="up" */
	size_t		 n_links;
	unsigned	 retry_after;		/* Retry-After seconds, 0: none */
	struct ca_acme_job *job;		/* a validation to start, or NULL */
};

/*
 * Answer one ACME request. Returns 0 with *resp filled for every answer
 * the protocol defines, errors included (problem+json with its status);
 * a negative CA_ERR_* only when not even an error answer could be made
 * (out of memory): lib/http.c then answers 500. *resp is cleared on entry
 * and freed with ca_acme_resp_free. An authority that has no ACME (remote,
 * a registration authority) returns CA_ERR_CONFIG.
 */
int	 ca_authority_acme(struct ca_authority *a, const struct ca_acme_req *req,
	    struct ca_acme_resp *resp);

/*
 * Record a validation's outcome: ok, or the RFC 8555 problem type
 * ("urn:ietf:params:acme:error:connection", ...) and a one-line detail.
 * The challenge, its authorization and its order move on in one store
 * transaction; an outcome for a challenge that is no longer processing
 * is dropped (0). now is the time of the outcome.
 */
int	 ca_authority_acme_validated(struct ca_authority *a,
	    const struct ca_acme_job *job, int ok, const char *problem_type,
	    const char *detail, time_t now);

void	 ca_acme_resp_free(struct ca_acme_resp *resp);
void	 ca_acme_job_free(struct ca_acme_job *job);
/* A deep copy, or NULL (out of memory). */
struct ca_acme_job *ca_acme_job_dup(const struct ca_acme_job *job);

#endif /* CA_ACME_H */
