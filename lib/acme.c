/*
 * acme.c - the ACME server's frame (RFC 8555): answers (problems, JSON,
 * Link, Location), IDs, the store helpers every ACME file uses, and the
 * structures of lib/acme.h; the request's way in: routing, directory,
 * the flattened JWS and its account, and the authority operation of the
 * local authority. Nonces are in acme-nonce.c.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "acme-internal.h"
#include "acme-frame.h"
#include "acme-nonce.h"
#include "authority-local.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "store.h"

#define DETAIL_MAX	512

/* Replace the body of the answer with s (taken). */
static void
set_body(struct acme_ctx *ctx, int status, const char *ctype, char *s)
{
	struct ca_acme_resp *r = ctx->resp;

	free(r->body);
	r->status = status;
	r->content_type = ctype;
	r->body = s;
	r->body_len = s != NULL ? strlen(s) : 0;
}

static const char *const acme_algs[] = { "RS256", "ES256", "ES384", "EdDSA",
    NULL };

static int
add_algorithms(struct json_object *o)
{
	struct json_object *a;
	size_t i;

	if ((a = json_object_new_array()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; acme_algs[i] != NULL; i++)
		json_object_array_add(a, json_object_new_string(acme_algs[i]));
	if (json_object_object_add(o, "algorithms", a) != 0) {
		json_object_put(a);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int
acme_problem(struct acme_ctx *ctx, int status, const char *type,
    struct json_object *sub, const char *fmt, ...)
{
	struct json_object *o = NULL;
	char detail[DETAIL_MAX], *t = NULL, *s, *p;
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* One line: what a client sent may end up in the detail. */
	for (p = detail; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (strncmp(type, "urn:", 4) != 0) {
		if (asprintf(&t, "%s%s", ACME_ERR, type) < 0) {
			t = NULL;
			goto nomem;
		}
	} else if ((t = strdup(type)) == NULL)
		goto nomem;
	if ((o = json_object_new_object()) == NULL ||
	    json_object_object_add(o, "type",
	    json_object_new_string(t)) != 0 ||
	    json_object_object_add(o, "detail",
	    json_object_new_string(detail)) != 0 ||
	    json_object_object_add(o, "status",
	    json_object_new_int(status)) != 0)
		goto nomem;
	if (sub != NULL) {
		if (json_object_object_add(o, "subproblems", sub) != 0)
			goto nomem;
		sub = NULL;
	}
	/* RFC 8555 6.2: what would have done, with badSignatureAlgorithm. */
	if (strcmp(t, ACME_ERR "badSignatureAlgorithm") == 0 &&
	    (rc = add_algorithms(o)) != 0)
		goto out;
	if ((s = ca_json_dump(o)) == NULL)
		goto nomem;
	set_body(ctx, status, "application/problem+json", s);
	goto out;
nomem:
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	json_object_put(sub);
	json_object_put(o);
	free(t);
	return rc;
}

int
acme_reply_json(struct acme_ctx *ctx, int status, struct json_object *body)
{
	char *s;

	s = body != NULL ? ca_json_dump(body) : NULL;
	json_object_put(body);
	if (s == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	set_body(ctx, status, "application/json", s);
	return 0;
}

/* prefix + path; path may lack its '/', or be a whole URL already. */
static char *
full_url(const struct acme_ctx *ctx, const char *path)
{
	char *s;

	if (strncmp(path, "https://", 8) == 0 ||
	    strncmp(path, "http://", 7) == 0)
		return strdup(path);
	if (asprintf(&s, "%s%s%s", ctx->prefix, path[0] == '/' ? "" : "/",
	    path) < 0)
		return NULL;
	return s;
}

int
acme_link(struct acme_ctx *ctx, const char *path, const char *rel)
{
	struct ca_acme_resp *r = ctx->resp;
	char *u, *l;

	if (r->n_links >= CA_ACME_MAX_LINKS)
		return 0;	/* more would not help a client */
	if ((u = full_url(ctx, path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (asprintf(&l, "<%s>;rel=\"%s\"", u, rel) < 0) {
		free(u);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	free(u);
	r->links[r->n_links++] = l;
	return 0;
}

int
acme_location(struct acme_ctx *ctx, const char *path)
{
	char *u;

	if ((u = full_url(ctx, path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	free(ctx->resp->location);
	ctx->resp->location = u;
	return 0;
}

char *
acme_url(const struct acme_ctx *ctx, const char *kind, const char *id)
{
	char *s;

	if (asprintf(&s, "%s/%s%s%s", ctx->prefix, kind, id != NULL ? "/" : "",
	    id != NULL ? id : "") < 0)
		return NULL;
	return s;
}

int
acme_new_id(char out[ACME_ID_LEN + 1])
{
	unsigned char r[16];
	char *s;
	int ret;

	out[0] = '\0';
	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r))) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	if ((s = ca_b64url_encode(r, sizeof(r))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(out, s, ACME_ID_LEN);
	out[ACME_ID_LEN] = '\0';
	free(s);
	return 0;
}

int
acme_id_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= 64 || !((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

/* Store helpers */

int
acme_key(char *buf, size_t len, const char *kind, const char *id,
    const char *id2)
{
	if ((size_t)snprintf(buf, len, "%s%s%s%s", kind, id,
	    id2 != NULL ? "/" : "", id2 != NULL ? id2 : "") >= len)
		return ca_err(CA_ERR_INVAL, "store key %s%s...: too long", kind,
		    id);
	return 0;
}

int
acme_get(struct ca_store *st, const char *key, struct json_object **out)
{
	unsigned char *val = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = ca_store_get(st, key, &val, &len)) != 0)
		return rc;
	rc = ca_json_parse((const char *)val, len, key, out);
	free(val);
	if (rc == 0 && !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		rc = CA_ERR_INVAL;
	}
	if (rc == CA_ERR_NOMEM)
		return rc;
	if (rc != 0)
		return ca_err(CA_ERR_STORE, "%s: not a JSON object in the store",
		    key);
	return 0;
}

int
acme_put(struct ca_store *st, const char *key, struct json_object *o,
    int insert)
{
	char *s;
	int rc;

	if ((s = ca_json_dump(o)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = ca_store_put(st, key, s, strlen(s), insert);
	free(s);
	return rc;
}

struct acme_txn {
	struct acme_ctx	*ctx;
	int		(*fn)(struct acme_ctx *, struct ca_store *, void *);
	void		*arg;
};

int
acme_read(struct acme_ctx *ctx,
    int (*fn)(struct acme_ctx *, struct ca_store *, void *), void *arg)
{
	struct ca_local *a = ctx->a;
	int rc;

	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = fn(ctx, a->store, arg);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

void	(*acme_write_test_hook)(void);

/*
 * The account a request is signed by, as it is in this write
 * transaction: still there, valid, and with the key that signed (a
 * deactivation or key change may have committed since it was read).
 * 0, or ACME_ANSWERED (nothing is written), or an error.
 */
int
acme_account_recheck(struct acme_ctx *ctx, struct ca_store *st)
{
	struct acme_account *cur = NULL;
	int rc;

	if (ctx->acct == NULL)
		return 0;
	rc = acme_account_load(ctx, st, ctx->acct->id, &cur);
	if (rc == CA_ERR_NOTFOUND)
		return acme_problem(ctx, 400, "accountDoesNotExist", NULL,
		    "no account %s", ctx->acct->id) ? CA_ERR_NOMEM :
		    ACME_ANSWERED;
	if (rc != 0)
		return rc;
	if (strcmp(cur->status, "valid") != 0 ||
	    strcmp(cur->thumbprint, ctx->acct->thumbprint) != 0)
		rc = acme_problem(ctx, 403, "unauthorized", NULL,
		    "account %s changed meanwhile (%s)", ctx->acct->id,
		    strcmp(cur->status, "valid") != 0 ? cur->status :
		    "its key was changed") ? CA_ERR_NOMEM : ACME_ANSWERED;
	acme_account_free(cur);
	return rc;
}

/* One participant of the group commit (lib/store-group.c). */
static int
txn_run(struct ca_store *st, void *arg)
{
	struct acme_txn *t = arg;
	int rc;

	if ((rc = acme_account_recheck(t->ctx, st)) != 0)
		return rc;
	return t->fn(t->ctx, st, t->arg);
}

int
acme_write(struct acme_ctx *ctx,
    int (*fn)(struct acme_ctx *, struct ca_store *, void *), void *arg)
{
	struct acme_txn t = { ctx, fn, arg };

	if (acme_write_test_hook != NULL)
		acme_write_test_hook();
	return ca_store_group_commit(ctx->a->group, txn_run, &t);
}

/* lib/acme.h's structures */

void
ca_acme_resp_free(struct ca_acme_resp *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->nonce);
	free(resp->location);
	for (i = 0; i < resp->n_links && i < CA_ACME_MAX_LINKS; i++)
		free(resp->links[i]);
	ca_acme_job_free(resp->job);
	memset(resp, 0, sizeof(*resp));
}

void
ca_acme_job_free(struct ca_acme_job *job)
{
	if (job == NULL)
		return;
	free(job->provisioner);
	free(job->authz);
	free(job->challenge);
	free(job->type);
	free(job->id_type);
	free(job->id_value);
	free(job->token);
	free(job->key_auth);
	free(job);
}

/* A copy of s in *d; 0, or -1 when out of memory (NULL is copied as NULL). */
static int
dup_str(char **d, const char *s)
{
	*d = NULL;
	return s == NULL || (*d = strdup(s)) != NULL ? 0 : -1;
}

struct ca_acme_job *
ca_acme_job_dup(const struct ca_acme_job *job)
{
	struct ca_acme_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	if (dup_str(&j->provisioner, job->provisioner) != 0 ||
	    dup_str(&j->authz, job->authz) != 0 ||
	    dup_str(&j->challenge, job->challenge) != 0 ||
	    dup_str(&j->type, job->type) != 0 ||
	    dup_str(&j->id_type, job->id_type) != 0 ||
	    dup_str(&j->id_value, job->id_value) != 0 ||
	    dup_str(&j->token, job->token) != 0 ||
	    dup_str(&j->key_auth, job->key_auth) != 0) {
		ca_acme_job_free(j);
		return NULL;
	}
	return j;
}

/* The flattened JWS */

/* The "alg" of a protected header (base64url), in *alg (malloc'd). */
static int
header_alg(const char *b64, char **alg)
{
	struct json_object *h = NULL;
	unsigned char *raw = NULL;
	const char *a;
	size_t len;
	int rc;

	*alg = NULL;
	if ((rc = ca_b64url_decode(b64, strlen(b64), &raw, &len)) != 0)
		return rc;
	rc = ca_json_parse((const char *)raw, len, "JWS protected header", &h);
	free(raw);
	if (rc != 0)
		return rc;
	if ((rc = ca_json_string(h, "alg", 1, &a)) == 0 &&
	    (*alg = strdup(a)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_put(h);
	return rc;
}

int
acme_jws_flat(struct acme_ctx *ctx, struct json_object *o,
    struct ca_jws **out)
{
	static const char *const members[] = { "protected", "payload",
	    "signature" };
	struct json_object_iterator it, end;
	struct json_object *v;
	const char *s[3];
	char *compact = NULL, *alg = NULL;
	size_t i, len;
	int rc;

	*out = NULL;
	if (!json_object_is_type(o, json_type_object))
		return acme_problem(ctx, 400, "malformed", NULL,
		    "the JWS is not a JSON object") ? CA_ERR_NOMEM :
		    ACME_ANSWERED;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);

		for (i = 0; i < 3; i++)
			if (strcmp(name, members[i]) == 0)
				break;
		if (i == 3)
			return acme_problem(ctx, 400, "malformed", NULL,
			    "the JWS has a member \"%.32s\": only protected, "
			    "payload and signature (flattened, RFC 8555 6.2)",
			    name) ? CA_ERR_NOMEM : ACME_ANSWERED;
	}
	for (i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(o, members[i], &v) ||
		    !json_object_is_type(v, json_type_string))
			return acme_problem(ctx, 400, "malformed", NULL,
			    "the JWS has no \"%s\" string", members[i]) ?
			    CA_ERR_NOMEM : ACME_ANSWERED;
		s[i] = json_object_get_string(v);
	}
	/* The algorithm first: "none", HS256 and the like get their type. */
	if ((rc = header_alg(s[0], &alg)) != 0)
		return rc == CA_ERR_NOMEM ? rc : acme_problem(ctx, 400,
		    "malformed", NULL, "%s", ca_errmsg()) ? CA_ERR_NOMEM :
		    ACME_ANSWERED;
	for (i = 0; acme_algs[i] != NULL; i++)
		if (strcmp(alg, acme_algs[i]) == 0)
			break;
	if (acme_algs[i] == NULL) {
		rc = acme_problem(ctx, 400, "badSignatureAlgorithm", NULL,
		    "JWS algorithm \"%.16s\" is not accepted here (RS256, "
		    "ES256, ES384, EdDSA)", alg);
		free(alg);
		return rc != 0 ? CA_ERR_NOMEM : ACME_ANSWERED;
	}
	free(alg);
	if (asprintf(&compact, "%s.%s.%s", s[0], s[1], s[2]) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	len = strlen(compact);
	rc = ca_jws_parse(compact, len, out);
	free(compact);
	if (rc == CA_ERR_NOMEM)
		return rc;
	if (rc != 0)
		return acme_problem(ctx, 400, "malformed", NULL, "%s",
		    ca_errmsg()) ? CA_ERR_NOMEM : ACME_ANSWERED;
	return 0;
}

/* How a request must be signed. */
enum { SIG_KID, SIG_JWK, SIG_EITHER };

struct load_acct {
	const char		*id;
	struct acme_account	*acct;
};

static int
load_acct(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct load_acct *l = arg;

	return acme_account_load(ctx, st, l->id, &l->acct);
}

/*
 * The account that kid names, valid: ctx->acct. 0, ACME_ANSWERED with
 * accountDoesNotExist or unauthorized, or an error.
 */
static int
kid_account(struct acme_ctx *ctx, const char *kid)
{
	struct load_acct l = { NULL, NULL };
	char *base;
	size_t n;
	int rc;

	if ((base = acme_url(ctx, "account", "")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	n = strlen(base);
	if (strncmp(kid, base, n) != 0 || !acme_id_ok(kid + n)) {
		free(base);
		return acme_problem(ctx, 400, "accountDoesNotExist", NULL,
		    "kid \"%.200s\" is not an account URL of this server", kid) ?
		    CA_ERR_NOMEM : ACME_ANSWERED;
	}
	free(base);
	l.id = kid + n;
	rc = acme_read(ctx, load_acct, &l);
	if (rc == CA_ERR_NOTFOUND)
		return acme_problem(ctx, 400, "accountDoesNotExist", NULL,
		    "no account %s", l.id) ? CA_ERR_NOMEM : ACME_ANSWERED;
	if (rc != 0)
		return rc;
	if (strcmp(l.acct->status, "valid") != 0) {
		rc = acme_problem(ctx, 403, "unauthorized", NULL,
		    "account %s is %s", l.id, l.acct->status) ? CA_ERR_NOMEM :
		    ACME_ANSWERED;
		acme_account_free(l.acct);
		return rc;
	}
	ctx->acct = l.acct;
	return 0;
}

/*
 * Check a POST: Content-Type, size, the flattened JWS, its protected
 * header (alg, nonce, url, jwk or kid as how asks), its signature, then
 * spend its nonce. Sets ctx's JWS members (*jws is kept for
 * ctx->payload_raw). 0, ACME_ANSWERED, or an error.
 */
static int
verify_post(struct acme_ctx *ctx, int how, struct ca_jws **jws)
{
	const struct ca_acme_req *req = ctx->req;
	struct json_object *body = NULL, *hdr, *jwk_o = NULL, *kid_o = NULL, *v;
	const struct ca_jwk *key;
	const char *alg, *nonce, *url, *ct = req->content_type;
	char *want = NULL;
	size_t n = strlen("application/jose+json");
	int rc;

	*jws = NULL;
	if (ct == NULL || strncasecmp(ct, "application/jose+json", n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' '))
		return acme_problem(ctx, 415, "malformed", NULL,
		    "Content-Type must be application/jose+json") ?
		    CA_ERR_NOMEM : ACME_ANSWERED;
	if (req->body_len > ACME_MAX_BODY)
		return acme_problem(ctx, 413, "malformed", NULL,
		    "request body over %d bytes", ACME_MAX_BODY) ?
		    CA_ERR_NOMEM : ACME_ANSWERED;
	if (req->body == NULL || req->body_len == 0)
		return acme_problem(ctx, 400, "malformed", NULL,
		    "no JWS in the request body") ? CA_ERR_NOMEM : ACME_ANSWERED;
	if ((rc = ca_json_parse((const char *)req->body, req->body_len,
	    "JWS", &body)) != 0) {
		if (rc == CA_ERR_NOMEM)
			return rc;
		return acme_problem(ctx, 400, "malformed", NULL, "%s",
		    ca_errmsg()) ? CA_ERR_NOMEM : ACME_ANSWERED;
	}
	rc = acme_jws_flat(ctx, body, jws);
	json_object_put(body);
	if (rc != 0)
		return rc;
	hdr = (*jws)->header;
	alg = json_object_get_string(json_object_object_get(hdr, "alg"));
	if (!json_object_object_get_ex(hdr, "nonce", &v) ||
	    !json_object_is_type(v, json_type_string))
		return acme_problem(ctx, 400, "badNonce", NULL,
		    "the JWS has no \"nonce\"") ? CA_ERR_NOMEM : ACME_ANSWERED;
	nonce = json_object_get_string(v);
	if (!json_object_object_get_ex(hdr, "url", &v) ||
	    !json_object_is_type(v, json_type_string))
		return acme_problem(ctx, 400, "malformed", NULL,
		    "the JWS has no \"url\"") ? CA_ERR_NOMEM : ACME_ANSWERED;
	url = json_object_get_string(v);
	if (asprintf(&want, "%s%s", req->base, req->path) < 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = strcmp(url, want);
	free(want);
	if (rc != 0)
		return acme_problem(ctx, 403, "unauthorized", NULL,
		    "the JWS \"url\" %.200s is not the request's URL", url) ?
		    CA_ERR_NOMEM : ACME_ANSWERED;
	json_object_object_get_ex(hdr, "jwk", &jwk_o);
	json_object_object_get_ex(hdr, "kid", &kid_o);
	if ((jwk_o != NULL) == (kid_o != NULL))
		return acme_problem(ctx, 400, "malformed", NULL,
		    "the JWS must have exactly one of \"jwk\" and \"kid\"") ?
		    CA_ERR_NOMEM : ACME_ANSWERED;
	if (how == SIG_JWK && jwk_o == NULL)
		return acme_problem(ctx, 400, "malformed", NULL,
		    "this request is signed with the key (\"jwk\"), not an "
		    "account's \"kid\"") ? CA_ERR_NOMEM : ACME_ANSWERED;
	if (how == SIG_KID && kid_o == NULL)
		return acme_problem(ctx, 400, "malformed", NULL,
		    "this request is signed by an account (\"kid\"), not "
		    "with a \"jwk\"") ? CA_ERR_NOMEM : ACME_ANSWERED;
	if (jwk_o != NULL) {
		if ((rc = ca_jwk_from_json(jwk_o, &ctx->jwk)) != 0) {
			if (rc == CA_ERR_NOMEM)
				return rc;
			return acme_problem(ctx, 400, "malformed", NULL,
			    "jwk: %s", ca_errmsg()) ? CA_ERR_NOMEM :
			    ACME_ANSWERED;
		}
		if (ca_jwk_is_private(ctx->jwk))
			return acme_problem(ctx, 400, "malformed", NULL,
			    "the jwk holds a private key") ? CA_ERR_NOMEM :
			    ACME_ANSWERED;
		key = ctx->jwk;
	} else {
		if (!json_object_is_type(kid_o, json_type_string))
			return acme_problem(ctx, 400, "malformed", NULL,
			    "\"kid\" is not a string") ? CA_ERR_NOMEM :
			    ACME_ANSWERED;
		if ((rc = kid_account(ctx, json_object_get_string(kid_o))) != 0)
			return rc;
		key = ctx->acct->key;
	}
	if (strcmp(alg, ca_jwk_alg(key)) != 0)
		return acme_problem(ctx, 400, "badSignatureAlgorithm", NULL,
		    "JWS algorithm %s does not fit the key (%s)", alg,
		    ca_jwk_alg(key)) ? CA_ERR_NOMEM : ACME_ANSWERED;
	if (ca_jws_verify(*jws, key) != 0)
		return acme_problem(ctx, 400, "malformed", NULL,
		    "the JWS signature does not verify") ? CA_ERR_NOMEM :
		    ACME_ANSWERED;
	/* Signed: now the nonce is spent, whatever follows. */
	if (acme_nonce_use(ctx->a->acme_nonces, nonce) != 0)
		return acme_problem(ctx, 400, "badNonce", NULL, "%s",
		    ca_errmsg()) ? CA_ERR_NOMEM : ACME_ANSWERED;
	if ((ctx->url = strdup(url)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	ctx->protected_hdr = json_object_get(hdr);
	ctx->payload_raw = (const char *)(*jws)->payload;
	ctx->payload_len = (*jws)->payload_len;
	if ((*jws)->payload_len == 0)
		return 0;	/* POST-as-GET */
	if ((rc = ca_json_parse((const char *)(*jws)->payload,
	    (*jws)->payload_len, "JWS payload", &ctx->payload)) != 0) {
		if (rc == CA_ERR_NOMEM)
			return rc;
		return acme_problem(ctx, 400, "malformed", NULL, "%s",
		    ca_errmsg()) ? CA_ERR_NOMEM : ACME_ANSWERED;
	}
	if (!json_object_is_type(ctx->payload, json_type_object))
		return acme_problem(ctx, 400, "malformed", NULL,
		    "the JWS payload is not a JSON object") ? CA_ERR_NOMEM :
		    ACME_ANSWERED;
	return 0;
}

/* Routing */

enum route {
	R_NONE, R_DIRECTORY, R_NEW_NONCE, R_NEW_ACCOUNT, R_NEW_ORDER,
	R_REVOKE, R_KEY_CHANGE, R_ACCOUNT, R_ACCOUNT_ORDERS, R_ORDER,
	R_FINALIZE, R_AUTHZ, R_CHALLENGE, R_CERT
};

#define MAX_SEGS	4

static const struct {
	const char	*path[MAX_SEGS];	/* NULL: an ID */
	size_t		 n;
	enum route	 r;
	int		 how;			/* SIG_* */
} routes[] = {
	{ { "directory" }, 1, R_DIRECTORY, 0 },
	{ { "new-nonce" }, 1, R_NEW_NONCE, 0 },
	{ { "new-account" }, 1, R_NEW_ACCOUNT, SIG_JWK },
	{ { "new-order" }, 1, R_NEW_ORDER, SIG_KID },
	{ { "revoke-cert" }, 1, R_REVOKE, SIG_EITHER },
	{ { "key-change" }, 1, R_KEY_CHANGE, SIG_KID },
	{ { "account", NULL }, 2, R_ACCOUNT, SIG_KID },
	{ { "account", NULL, "orders" }, 3, R_ACCOUNT_ORDERS, SIG_KID },
	{ { "order", NULL }, 2, R_ORDER, SIG_KID },
	{ { "order", NULL, "finalize" }, 3, R_FINALIZE, SIG_KID },
	{ { "authz", NULL }, 2, R_AUTHZ, SIG_KID },
	{ { "challenge", NULL, NULL }, 3, R_CHALLENGE, SIG_KID },
	{ { "certificate", NULL }, 2, R_CERT, SIG_KID },
};

struct route_match {
	enum route	 r;
	int		 how;
	char		 id[2][65];
};

/* rest: after "/acme/NAME/". R_NONE when nothing is there. */
static void
route_find(const char *rest, struct route_match *m)
{
	char seg[MAX_SEGS][65];
	const char *p = rest, *slash;
	size_t n = 0, len, i, j, k;

	memset(m, 0, sizeof(*m));
	while (*p != '\0') {
		if (n == MAX_SEGS)
			return;
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizeof(seg[0]))
			return;
		memcpy(seg[n], p, len);
		seg[n++][len] = '\0';
		p += len;
		if (*p == '/' && *++p == '\0')
			return;		/* a trailing '/' */
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].n != n)
			continue;
		for (j = k = 0; j < n; j++) {
			if (routes[i].path[j] == NULL) {
				if (!acme_id_ok(seg[j]))
					break;
				/* acme_id_ok: at most 64 characters */
				memcpy(m->id[k++], seg[j], strlen(seg[j]) + 1);
			} else if (strcmp(routes[i].path[j], seg[j]) != 0)
				break;
		}
		if (j == n) {
			m->r = routes[i].r;
			m->how = routes[i].how;
			return;
		}
	}
}

static int
directory(struct acme_ctx *ctx)
{
	static const struct {
		const char *key, *path;
	} urls[] = {
		{ "newNonce", "new-nonce" }, { "newAccount", "new-account" },
		{ "newOrder", "new-order" }, { "revokeCert", "revoke-cert" },
		{ "keyChange", "key-change" },
	};
	const struct ca_provisioner *p = ctx->prov;
	struct json_object *o, *meta;
	size_t i;
	char *u;

	if ((o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if ((u = acme_url(ctx, urls[i].path, NULL)) == NULL)
			goto nomem;
		json_object_object_add(o, urls[i].key,
		    json_object_new_string(u));
		free(u);
	}
	if ((meta = json_object_new_object()) == NULL)
		goto nomem;
	json_object_object_add(o, "meta", meta);
	if (p->terms_of_service != NULL)
		json_object_object_add(meta, "termsOfService",
		    json_object_new_string(p->terms_of_service));
	if (p->website != NULL)
		json_object_object_add(meta, "website",
		    json_object_new_string(p->website));
	if (p->caa_identities != NULL)
		json_object_object_add(meta, "caaIdentities",
		    json_object_get(p->caa_identities));
	json_object_object_add(meta, "externalAccountRequired",
	    json_object_new_boolean(p->require_eab));
	return acme_reply_json(ctx, 200, o);
nomem:
	json_object_put(o);
	return ca_err(CA_ERR_NOMEM, "out of memory");
}

static int
dispatch(struct acme_ctx *ctx, const struct route_match *m)
{
	switch (m->r) {
	case R_NEW_ACCOUNT:
		return acme_new_account(ctx);
	case R_NEW_ORDER:
		return acme_new_order(ctx);
	case R_REVOKE:
		return acme_revoke_cert(ctx);
	case R_KEY_CHANGE:
		return acme_key_change(ctx);
	case R_ACCOUNT:
		return acme_account(ctx, m->id[0]);
	case R_ACCOUNT_ORDERS:
		return acme_account_orders(ctx, m->id[0]);
	case R_ORDER:
		return acme_order(ctx, m->id[0]);
	case R_FINALIZE:
		return acme_finalize(ctx, m->id[0]);
	case R_AUTHZ:
		return acme_authz(ctx, m->id[0]);
	case R_CHALLENGE:
		return acme_challenge(ctx, m->id[0], m->id[1]);
	case R_CERT:
		return acme_certificate(ctx, m->id[0]);
	default:
		break;
	}
	return acme_problem(ctx, 404, "malformed", NULL, "no such resource");
}

/* The shared nonces of the state directory, mapped on first use. */
static int
nonces(struct ca_local *a)
{
	char *path;
	int rc = 0;

	pthread_mutex_lock(&a->acme_lock);
	if (a->acme_nonces == NULL) {
		if ((path = ca_path_join(a->cfg->db_dir, "acme-nonces")) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		else
			rc = acme_nonces_open(path, &a->acme_nonces);
		free(path);
	}
	pthread_mutex_unlock(&a->acme_lock);
	return rc;
}

/*
 * The provisioner and the rest of the path: "/acme/NAME/REST" or
 * "/2.0/acme/NAME/REST". ctx->prefix is set; *rest points into path.
 * CA_ERR_NOTFOUND when the path is not of that form.
 */
static int
split_path(struct acme_ctx *ctx, const char *path, char *name, size_t len,
    const char **rest)
{
	const char *p = path, *slash;
	size_t n;

	if (strncmp(p, "/2.0/", 5) == 0)
		p += 4;
	if (strncmp(p, "/acme/", 6) != 0)
		return CA_ERR_NOTFOUND;
	p += 6;
	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	n = (size_t)(slash - p);
	if (n == 0 || n >= len)
		return CA_ERR_NOTFOUND;
	memcpy(name, p, n);
	name[n] = '\0';
	*rest = *slash == '/' ? slash + 1 : slash;
	if (asprintf(&ctx->prefix, "%s%.*s", ctx->req->base,
	    (int)(slash - path), path) < 0) {
		ctx->prefix = NULL;
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* The request's answer, without the nonce and Link index; *r its route. */
static int
answer(struct acme_ctx *ctx, enum route *r)
{
	const struct ca_acme_req *req = ctx->req;
	const struct ca_provisioner *p = NULL;
	struct route_match m;
	struct ca_jws *jws = NULL;
	const char *rest;
	char name[129];
	size_t i;
	int rc, get, head, post;

	if ((rc = split_path(ctx, req->path, name, sizeof(name), &rest)) != 0)
		return rc == CA_ERR_NOTFOUND ? acme_problem(ctx, 404,
		    "malformed", NULL, "not an ACME URL") : rc;
	for (i = 0; i < ctx->a->cfg->n_provisioners; i++)
		if (strcasecmp(ctx->a->cfg->provisioners[i].type, "ACME") == 0 &&
		    strcmp(ctx->a->cfg->provisioners[i].name, name) == 0)
			p = &ctx->a->cfg->provisioners[i];
	if (p == NULL)
		return acme_problem(ctx, 404, "malformed", NULL,
		    "no ACME provisioner \"%.128s\"", name);
	ctx->prov = p;
	route_find(rest, &m);
	*r = m.r;
	if (m.r == R_NONE)
		return acme_problem(ctx, 404, "malformed", NULL,
		    "no such resource");
	get = strcmp(req->method, "GET") == 0;
	head = strcmp(req->method, "HEAD") == 0;
	post = strcmp(req->method, "POST") == 0;
	if (m.r == R_DIRECTORY) {
		if (!get && !head)
			goto not_allowed;
		return directory(ctx);
	}
	if (m.r == R_NEW_NONCE) {
		if (!get && !head)
			goto not_allowed;
		ctx->resp->status = get ? 204 : 200;
		return 0;
	}
	if (!post)
		goto not_allowed;
	if ((rc = verify_post(ctx, m.how, &jws)) == 0)
		rc = dispatch(ctx, &m);
	/* A handler's write refused by acme_account_recheck: answered. */
	if (rc == ACME_ANSWERED)
		rc = 0;
	ctx->payload_raw = NULL;
	ca_jws_free(jws);
	return rc;
not_allowed:
	return acme_problem(ctx, 405, "malformed", NULL,
	    "method %s not allowed here (RFC 8555 6.3: POST-as-GET)",
	    get || head || post ? req->method : "?");
}

int
ca_local_acme(struct ca_authority *ah, const struct ca_acme_req *req,
    struct ca_acme_resp *resp)
{
	struct ca_local *a = ah->impl;
	struct acme_ctx ctx;
	char nonce[ACME_NONCE_LEN + 1], esc[512], *idx;
	enum route r = R_NONE;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (a->upstream != NULL || a->cfg->is_ra || a->store == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	memset(&ctx, 0, sizeof(ctx));
	ctx.a = a;
	ctx.req = req;
	ctx.resp = resp;
	ctx.now = req->now;
	pthread_rwlock_rdlock(&a->cfg_lock);
	if ((rc = nonces(a)) != 0) {
		ca_warn("ACME: %s", ca_escape(esc, sizeof(esc), ca_errmsg(),
		    0));
		rc = acme_problem(&ctx, 500, "serverInternal", NULL,
		    "internal error");
	} else if (req->over_limit > 0)
		/* RFC 8555 6.5, 6.7: a problem with a nonce, as every error. */
		rc = acme_problem(&ctx, 413, "malformed", NULL, "request body "
		    "over %zu bytes", req->over_limit);
	else
		rc = answer(&ctx, &r);
	if (rc == CA_ERR_TEMP) {
		rc = acme_problem(&ctx, 503, "serverInternal", NULL,
		    "the CA is busy, retry later");
		resp->retry_after = 1;
	} else if (rc != 0 && rc != CA_ERR_NOMEM) {
		ca_warn("ACME: %s", ca_escape(esc, sizeof(esc), ca_errmsg(),
		    0));
		rc = acme_problem(&ctx, 500, "serverInternal", NULL,
		    "internal error");
	} else if (rc == 0 && resp->status == 0) {
		ca_warn("ACME: %s: no answer was made",
		    ca_escape(esc, sizeof(esc), req->path, 0));
		rc = acme_problem(&ctx, 500, "serverInternal", NULL,
		    "internal error");
	}
	pthread_rwlock_unlock(&a->cfg_lock);
	/* RFC 8555 7.1: the directory, from every resource. */
	if (rc == 0 && r != R_NONE && r != R_DIRECTORY) {
		if ((idx = acme_url(&ctx, "directory", NULL)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		else
			rc = acme_link(&ctx, idx, "index");
		free(idx);
	}
	if (rc == 0 && a->acme_nonces != NULL) {
		if ((rc = acme_nonce_new(a->acme_nonces, nonce)) == 0 &&
		    (resp->nonce = strdup(nonce)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
	free(ctx.prefix);
	free(ctx.url);
	json_object_put(ctx.protected_hdr);
	json_object_put(ctx.payload);
	ca_jwk_free(ctx.jwk);
	acme_account_free(ctx.acct);
	if (rc != 0)
		ca_acme_resp_free(resp);
	return rc;
}

int
ca_local_acme_validated(struct ca_authority *ah, const struct ca_acme_job *job,
    int ok, const char *problem_type, const char *detail, time_t now)
{
	struct ca_local *a = ah->impl;
	int rc;

	if (a->upstream != NULL || a->cfg->is_ra || a->store == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = acme_validated(a, job, ok, problem_type, detail, now);
	pthread_rwlock_unlock(&a->cfg_lock);
	return rc;
}
