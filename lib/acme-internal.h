/*
 * acme-internal.h - shared by the ACME server's files in the local
 * authority: acme.c (routing, directory, nonces, JWS, problems, the
 * store helpers), acme-account.c (accounts, key change), acme-order.c
 * (orders, authorizations, challenges, finalize, certificates,
 * revocation). Nothing outside lib/acme*.c includes it.
 *
 * Store keys (values are JSON objects, written whole):
 *   acme/acct/ID             an account
 *   acme/acctkey/PROV/THUMBPRINT  ID of the account with that key at
 *                            provisioner PROV (insert: one account per key
 *                            and provisioner)
 *   acme/order/ID            an order; acme/acctorder/ACCT/ID -> "" (list)
 *   acme/authz/ID            an authorization with its challenges
 *   acme/cert/ID             -> {"serial": ..., "order": ...}: a download
 *   acme/inflight/ACCT       the account's validations in flight
 *   acme/eab/KID             an external account binding key
 * IDs are 16 random octets in base64url (22 characters).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ACME_INTERNAL_H
#define CA_ACME_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include "acme.h"

struct ca_local;
struct ca_provisioner;
struct ca_store;
struct ca_jwk;
struct json_object;

#define ACME_ID_LEN	22
#define ACME_ERR	"urn:ietf:params:acme:error:"

/* The account a request is signed by (kid), as stored. */
struct acme_account {
	char		 id[ACME_ID_LEN + 1];
	char		*status;	/* "valid", "deactivated", "revoked" */
	struct ca_jwk	*key;
	char		*thumbprint;	/* RFC 7638, base64url */
	struct json_object *json;	/* the stored object (owned) */
};

/* One request being answered. */
struct acme_ctx {
	struct ca_local		*a;
	const struct ca_provisioner *prov;	/* the ACME provisioner */
	const struct ca_acme_req *req;
	struct ca_acme_resp	*resp;
	char			*prefix;	/* base + "/acme/NAME" (or /2.0/acme) */
	time_t			 now;
	/* Set by acme.c once the JWS verified (POST only): */
	char			*url;		/* protected "url" (== request URL) */
	struct json_object	*protected_hdr;
	struct json_object	*payload;	/* NULL: POST-as-GET (empty payload) */
	const char		*payload_raw;	/* as signed, for EAB/keyChange */
	size_t			 payload_len;
	struct ca_jwk		*jwk;		/* "jwk" requests (newAccount, revokeCert) */
	struct acme_account	*acct;		/* "kid" requests: its account, valid */
};

/*
 * Answers (acme.c). Each sets ctx->resp completely except the nonce
 * (acme.c adds it last) and returns 0, or CA_ERR_NOMEM.
 * acme_problem: an RFC 7807 problem+json; type is the part after
 * ACME_ERR ("malformed") or a full URN; detail is printf-formatted and
 * escaped into JSON. sub, when not NULL, is an array of subproblems
 * (taken).
 */
int	 acme_problem(struct acme_ctx *ctx, int status, const char *type,
	    struct json_object *sub, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* status and the JSON body (taken); application/json. */
int	 acme_reply_json(struct acme_ctx *ctx, int status,
	    struct json_object *body);
/* Link: <url>;rel="REL" (url made from prefix + path). */
int	 acme_link(struct acme_ctx *ctx, const char *path, const char *rel);
/* Location: prefix + path. */
int	 acme_location(struct acme_ctx *ctx, const char *path);
/* malloc'd prefix + "/" + kind + "/" + id (id may be NULL). */
char	*acme_url(const struct acme_ctx *ctx, const char *kind, const char *id);

/* A new random ID (ACME_ID_LEN characters and a NUL). */
int	 acme_new_id(char out[ACME_ID_LEN + 1]);
/* An ID from a URL path segment: 1..64 of [A-Za-z0-9_-]; else 0. */
int	 acme_id_ok(const char *s);

/*
 * A store key (see above), the one way they are made: kind (the prefix,
 * "acme/order/") and id, then "/" and id2 when id2 is not NULL ("": the
 * prefix of id's list), in buf of len (ACME_KEY_MAX will do for IDs,
 * thumbprints and provisioner names as routed); CA_ERR_INVAL when it
 * does not fit.
 */
#define ACME_KEY_MAX	256
int	 acme_key(char *buf, size_t len, const char *kind, const char *id,
	    const char *id2);

/*
 * Store helpers (acme.c), inside a transaction the caller holds
 * (ca_store_begin / group commit): read a JSON object (*out owned;
 * CA_ERR_NOTFOUND if absent, CA_ERR_STORE if it does not parse) and write
 * one (insert: compare-and-swap as ca_store_put).
 */
int	 acme_get(struct ca_store *st, const char *key, struct json_object **out);
int	 acme_put(struct ca_store *st, const char *key, struct json_object *o,
	    int insert);
/*
 * Run fn in one read transaction on the local store (under its lock), or
 * in one write transaction committed with the issuances' group commit
 * (synced before return). fn's return is returned; on failure nothing
 * it queued is written. In acme_write, for a request signed by an
 * account (ctx->acct), the account is read again first: gone, not valid
 * or with another key, fn is not run, the problem is answered and
 * ACME_ANSWERED returned.
 */
int	 acme_read(struct acme_ctx *ctx,
	    int (*fn)(struct acme_ctx *, struct ca_store *, void *), void *arg);
int	 acme_write(struct acme_ctx *ctx,
	    int (*fn)(struct acme_ctx *, struct ca_store *, void *), void *arg);
/*
 * acme_write's check of ctx->acct in st (none: 0), for a transaction
 * not made by acme_write (finalize's, through the issuance's "also").
 */
int	 acme_account_recheck(struct acme_ctx *ctx, struct ca_store *st);

/* Accounts (acme-account.c). */
int	 acme_new_account(struct acme_ctx *ctx);
int	 acme_account(struct acme_ctx *ctx, const char *id);
int	 acme_key_change(struct acme_ctx *ctx);
/*
 * For tests: called (when set) by acme_write before its transaction, as
 * if another request committed just then.
 */
extern void (*acme_write_test_hook)(void);
/* The account with kid URL (prefix/account/ID), loaded; CA_ERR_NOTFOUND. */
int	 acme_account_load(struct acme_ctx *ctx, struct ca_store *st,
	    const char *id, struct acme_account **out);
void	 acme_account_free(struct acme_account *acct);

/* Orders and what hangs off them (acme-order.c). */
int	 acme_new_order(struct acme_ctx *ctx);
int	 acme_order(struct acme_ctx *ctx, const char *id);
int	 acme_finalize(struct acme_ctx *ctx, const char *id);
int	 acme_account_orders(struct acme_ctx *ctx, const char *acct_id);
/*
 * In the transaction that deactivates account acct_id (RFC 8555 7.3.6):
 * its pending and ready orders become invalid and their pending
 * authorizations deactivated; valid orders and certificates stay. At
 * most ORDERS_LIST_MAX (1000) of its orders are looked at: the others
 * can no longer move either (nothing signed by a deactivated account is
 * accepted) and expire.
 */
int	 acme_account_cancel_orders(struct acme_ctx *ctx, struct ca_store *st,
	    const char *acct_id);
int	 acme_authz(struct acme_ctx *ctx, const char *id);
/* Sets ctx->resp->job when the challenge moves to processing. */
int	 acme_challenge(struct acme_ctx *ctx, const char *authz_id,
	    const char *chall_id);
int	 acme_certificate(struct acme_ctx *ctx, const char *id);
int	 acme_revoke_cert(struct acme_ctx *ctx);
/* ca_authority_acme_validated for the local authority. */
int	 acme_validated(struct ca_local *a, const struct ca_acme_job *job,
	    int ok, const char *problem_type, const char *detail, time_t now);

#endif /* CA_ACME_INTERNAL_H */
