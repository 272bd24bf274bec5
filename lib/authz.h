/*
 * authz.h - who may ask for a certificate: one entry point for every
 * token a provisioner verifies (JWK, X5C, OIDC, K8sSA), one result.
 *
 * The shape of a credential picks exactly one verifier (ca_authz_route),
 * and a verifier looks only at provisioners of its own type: a token
 * never reaches a provisioner that does not verify it (step-ca's
 * GHSA-h8cp, where an audience "#acme/NAME" loaded the ACME provisioner
 * on the token path). ACME and SCEP have no token verifier at all.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_AUTHZ_H
#define CA_AUTHZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <gnutls/x509.h>
#include <json-c/json.h>

#include "x509.h"

struct ca_config;
struct ca_provisioner;
struct ca_jws;
struct ca_oidc_cache;

/* The token endpoints. Renewal is ca_local_renew_proof's (mTLS, x5cInsecure). */
enum ca_authz_op {
	CA_AUTHZ_SIGN,		/* /1.0/sign */
	CA_AUTHZ_REVOKE		/* /1.0/revoke */
};

/* Which verifier a credential's shape goes to (the routing table). */
enum ca_cred {
	CA_CRED_JWK,
	CA_CRED_X5C,
	CA_CRED_OIDC,
	CA_CRED_K8SSA,
	CA_CRED_N
};

/* What a verifier needs besides the token; nothing in it is owned. */
struct ca_authz_ctx {
	const struct ca_config	*cfg;
	const char		*root_fp;	/* hex SHA-256 of the root, or NULL */
	gnutls_x509_crt_t	 issuer;	/* the intermediate; NULL on an RA */
	struct ca_oidc_cache	*oidc;		/* OIDC discovery/JWKS cache, or NULL */
};

/*
 * A verified credential: what may be issued, and what is recorded.
 * Strings are owned (free with ca_authz_free) unless marked borrowed.
 */
struct ca_authz {
	const struct ca_provisioner *prov;	/* borrowed from cfg */
	enum ca_cred	 cred;
	char		*cn;		/* leaf subject CN; NULL: none */
	struct ca_names	 names;		/* leaf SANs, typed (unused if names_from_csr) */
	char		**sans;		/* the same as the token gave them (an RA relays these) */
	size_t		 n_sans;
	int		 names_from_csr;	/* OIDC admin, K8sSA: the CSR's CN and SANs */
	int		 csr_must_match;	/* JWK, X5C: ca_csr_check_names(crq, cn, &names) */
	char		*ott_scope;	/* used_ott/<ott_scope>.<ott_id>: JWK the kid */
	char		*ott_id;	/* jti; OIDC nonce; else hex SHA-256 of the token */
	int64_t		 ott_exp;	/* the used_ott record's exp */
	char		*identity;	/* who: JWK sub, OIDC email, K8sSA system:serviceaccount:... */
	const char	*cred_id;	/* provisioner extension credential id (borrowed): kid, clientID, "" */
	int		 step_type;	/* CA_STEP_TYPE_* */
	time_t		 nb_min, na_max;	/* X5C: the x5c leaf's validity; else 0 */
	char		*check_unrevoked;	/* X5C leaf issued here: its serial, checked in the commit */
	char		*revoke_serial;	/* CA_AUTHZ_REVOKE: the serial the token is for (its sub) */
	char		*cnf_x5rt, *cnf_kid;	/* the token's cnf (JWK, X5C); NULL: none */
	char		*payload;	/* the token's payload (JSON): a template's .Token */
	size_t		 payload_len;
};

/*
 * Verify the compact token tok (len bytes, at most CA_MAX_TOKEN) for op at
 * time now. The routing table picks one verifier; *out (cleared on entry)
 * is filled on success and must be released with ca_authz_free (also on
 * failure: it is then empty). Returns 0, CA_ERR_AUTH (refused; no
 * verifier accepts it), CA_ERR_FORBIDDEN, CA_ERR_NOMEM.
 */
int	 ca_authz_token(const struct ca_authz_ctx *x, enum ca_authz_op op,
	    const char *tok, size_t len, time_t now, struct ca_authz *out);
void	 ca_authz_free(struct ca_authz *z);

/*
 * A credential that names no certificate itself (z->names_from_csr: an
 * OIDC admin, a K8sSA service account): the CSR's common name (one, as
 * any CN) and subject alternative names (at most max_sans) become z's,
 * as step-ca's DefaultAdminLeafTemplate; the policy checks them later
 * like any other. A CSR without a CN keeps the verifier's default
 * (z->cn, may be NULL); z->sans is rebuilt for an RA relay. 0, or
 * CA_ERR_INVAL / CA_ERR_FORBIDDEN (the CSR names nothing) / CA_ERR_NOMEM.
 */
int	 ca_authz_csr_names(gnutls_x509_crq_t crq, size_t max_sans,
	    struct ca_authz *z);

/*
 * The one-time id of a token that has no jti (nor nonce): lowercase hex
 * SHA-256 of its signed part, "header.payload" as received, into *hex
 * (caller frees). Not of the whole compact token: an ECDSA signature
 * (r, s) verifies as (r, n - s) too, and that second form of the same
 * token would hash to a new id and buy a second certificate. 0, or
 * CA_ERR_CRYPTO / CA_ERR_NOMEM.
 */
int	 ca_authz_token_hash(const struct ca_jws *jws, char **hex);

/*
 * The routing table alone, on an unverified token: header and claims as
 * parsed (strictly) from it. 0 and *cred, or CA_ERR_AUTH (x5cInsecure:
 * a renewal token). Exported for the unit test.
 */
int	 ca_authz_route(const struct ca_config *cfg, struct json_object *header,
	    struct json_object *claims, enum ca_cred *cred);
/*
 * A JWK-shaped token's names into z (JWK, X5C): the CN is t's sub (a
 * valid common name), the SANs its sans (typed; CA_ERR_FORBIDDEN for a
 * name of no type), and its cnf; the CSR must match them.
 */
struct ca_token;
int	 ca_authz_token_names(struct ca_authz *z, const struct ca_token *t);
/* *out = a copy of s (NULL stays NULL), for the verifiers: 0 or CA_ERR_NOMEM. */
int	 ca_authz_dup(const char *s, char **out);
/* "JWK", "X5C", "OIDC", "K8sSA". */
const char *ca_authz_cred_name(enum ca_cred c);

/*
 * The verifiers, one file each; the same signature. Each looks only at
 * provisioners of its own kind and fills *out. jws and claims are the
 * parsed token (borrowed); tok/len the compact text.
 */
typedef int (*ca_authz_fn)(const struct ca_authz_ctx *x,
	    const struct ca_jws *jws, struct json_object *claims,
	    const char *tok, size_t len, enum ca_authz_op op, time_t now,
	    struct ca_authz *out);
int	 ca_authz_jwk(const struct ca_authz_ctx *, const struct ca_jws *,
	    struct json_object *, const char *, size_t, enum ca_authz_op,
	    time_t, struct ca_authz *);
int	 ca_authz_x5c(const struct ca_authz_ctx *, const struct ca_jws *,
	    struct json_object *, const char *, size_t, enum ca_authz_op,
	    time_t, struct ca_authz *);
int	 ca_authz_k8ssa(const struct ca_authz_ctx *, const struct ca_jws *,
	    struct json_object *, const char *, size_t, enum ca_authz_op,
	    time_t, struct ca_authz *);
int	 ca_authz_oidc(const struct ca_authz_ctx *, const struct ca_jws *,
	    struct json_object *, const char *, size_t, enum ca_authz_op,
	    time_t, struct ca_authz *);

/*
 * Each type's ca.json members (its "impl" in struct ca_provisioner), loaded
 * by conf.c once the type is served (ca_config_kind_served): 0, or
 * CA_ERR_CONFIG naming the member.
 */
int	 ca_x5c_conf_load(struct json_object *o, struct ca_provisioner *p);
int	 ca_k8ssa_conf_load(struct json_object *o, struct ca_provisioner *p);
int	 ca_oidc_conf_load(struct json_object *o, struct ca_provisioner *p);
int	 ca_scep_conf_load(struct json_object *o, struct ca_provisioner *p);

/*
 * How many times each verifier ran (index enum ca_cred), counted with
 * relaxed atomics: what tests/unit/test-authz.c asserts the routing by.
 */
extern unsigned long ca_authz_calls[CA_CRED_N];

#endif /* CA_AUTHZ_H */
