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

#include <gnutls/crypto.h>

#include "ca.h"
#include "acme-internal.h"
#include "authority-local.h"
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

/* One participant of the group commit (lib/store-group.c). */
static int
txn_run(struct ca_store *st, void *arg)
{
	struct acme_txn *t = arg;

	return t->fn(t->ctx, st, t->arg);
}

int
acme_write(struct acme_ctx *ctx,
    int (*fn)(struct acme_ctx *, struct ca_store *, void *), void *arg)
{
	struct acme_txn t = { ctx, fn, arg };

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
