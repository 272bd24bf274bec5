/*
 * acme-eab.c - external account binding (RFC 8555 7.3.4): the keys the
 * operator makes (ca-db eab) and their check when an account is made.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "acme-eab.h"
#include "acme-frame.h"
#include "acme-internal.h"
#include "authority-local.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "store.h"

#define EAB_KEY_LEN	32
#define MAX_REFERENCE	256
#define PROBLEM(ctx, ...)	(acme_problem((ctx), __VA_ARGS__) != 0 ? \
				    CA_ERR_NOMEM : ACME_ANSWERED)

static char *
eab_key(const char *kid)
{
	char *k;

	return asprintf(&k, "acme/eab/%s", kid) < 0 ? NULL : k;
}

/* The request side */

void
acme_eab_req_free(struct acme_eab_req *r)
{
	free(r->kid);
	free(r->signing_input);
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

int
acme_eab_parse(struct acme_ctx *ctx, struct json_object *o, const char *thumb,
    struct acme_eab_req *out)
{
	static const struct {
		const char	*name;
		int		 mac;
	} algs[] = {
		{ "HS256", GNUTLS_MAC_SHA256 }, { "HS384", GNUTLS_MAC_SHA384 },
		{ "HS512", GNUTLS_MAC_SHA512 },
	};
	struct json_object *p = NULL, *h = NULL, *v;
	struct ca_jwk *k = NULL;
	unsigned char *raw = NULL;
	const char *s[3], *alg, *kid, *url;
	char *tp = NULL;
	size_t i, len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) != 3)
		return PROBLEM(ctx, 400, "malformed", NULL, "externalAccount"
		    "Binding: not a flattened JWS");
	for (i = 0; i < 3; i++) {
		static const char *const m[] = { "protected", "payload",
		    "signature" };

		if (!json_object_object_get_ex(o, m[i], &v) ||
		    !json_object_is_type(v, json_type_string))
			return PROBLEM(ctx, 400, "malformed", NULL,
			    "externalAccountBinding: no \"%s\" string", m[i]);
		s[i] = json_object_get_string(v);
	}
	if ((rc = ca_b64url_decode(s[0], strlen(s[0]), &raw, &len)) != 0 ||
	    (rc = ca_json_parse((const char *)raw, len, "EAB header", &h)) != 0) {
		rc = rc == CA_ERR_NOMEM ? rc : PROBLEM(ctx, 400, "malformed",
		    NULL, "externalAccountBinding: %s", ca_errmsg());
		goto out;
	}
	free(raw);
	raw = NULL;
	if (ca_json_string(h, "alg", 0, &alg) != 0) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "externalAccountBinding: no alg");
		goto out;
	}
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(alg, algs[i].name) == 0)
			break;
	if (i == sizeof(algs) / sizeof(algs[0])) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "externalAccountBinding: alg \"%.16s\" (HS256, HS384, "
		    "HS512)", alg);
		goto out;
	}
	out->mac = algs[i].mac;
	if (ca_json_string(h, "kid", 0, &kid) != 0 || !acme_id_ok(kid) ||
	    ca_json_string(h, "url", 0, &url) != 0 ||
	    json_object_object_get_ex(h, "nonce", &v)) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "externalAccountBinding: its header needs a kid and the "
		    "url, and no nonce");
		goto out;
	}
	if (strcmp(url, ctx->url) != 0) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "externalAccountBinding: its url is not the request's");
		goto out;
	}
	/* The payload is the account's key. */
	if ((rc = ca_b64url_decode(s[1], strlen(s[1]), &raw, &len)) != 0 ||
	    (rc = ca_json_parse((const char *)raw, len, "EAB payload",
	    &p)) != 0 || (rc = ca_jwk_from_json(p, &k)) != 0 ||
	    (rc = ca_jwk_thumbprint(k, &tp)) != 0) {
		rc = rc == CA_ERR_NOMEM ? rc : PROBLEM(ctx, 400, "malformed",
		    NULL, "externalAccountBinding: its payload: %s",
		    ca_errmsg());
		goto out;
	}
	if (strcmp(tp, thumb) != 0) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "externalAccountBinding: its payload is not the account's "
		    "key");
		goto out;
	}
	if ((out->kid = strdup(kid)) == NULL ||
	    asprintf(&out->signing_input, "%s.%s", s[0], s[1]) < 0) {
		out->signing_input = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_b64url_decode(s[2], strlen(s[2]), &out->sig,
	    &out->sig_len)) != 0) {
		rc = rc == CA_ERR_NOMEM ? rc : PROBLEM(ctx, 400, "malformed",
		    NULL, "externalAccountBinding: its signature: %s",
		    ca_errmsg());
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		acme_eab_req_free(out);
	free(raw);
	free(tp);
	ca_jwk_free(k);
	json_object_put(p);
	json_object_put(h);
	return rc;
}

int
acme_eab_bind(struct acme_ctx *ctx, struct ca_store *st,
    const struct acme_eab_req *r, const char *account)
{
	struct json_object *o = NULL;
	const char *prov = "", *status = "", *key64;
	unsigned char *key = NULL, mac[64], diff = 0;
	size_t key_len = 0, i, n;
	char *k;
	int rc, ret, found = 1;

	if ((k = eab_key(r->kid)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = acme_get(st, k, &o)) == CA_ERR_NOTFOUND) {
		/* No such key: a MAC all the same, under a random one. */
		found = 0;
		key_len = EAB_KEY_LEN;
		if ((key = malloc(key_len)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((ret = gnutls_rnd(GNUTLS_RND_RANDOM, key, key_len)) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
			goto out;
		}
	} else if (rc != 0)
		goto out;
	else if (ca_json_string(o, "provisioner", 1, &prov) != 0 ||
	    ca_json_string(o, "status", 1, &status) != 0 ||
	    ca_json_string(o, "key", 1, &key64) != 0 ||
	    ca_b64url_decode(key64, strlen(key64), &key, &key_len) != 0) {
		rc = ca_err(CA_ERR_STORE, "%s: not an EAB key", k);
		goto out;
	}
	/*
	 * The MAC first, then whether the key may bind: one answer for
	 * every refusal, so that no key can be told from another without
	 * its secret.
	 */
	n = gnutls_hmac_get_len(r->mac);
	if ((ret = gnutls_hmac_fast(r->mac, key, key_len, r->signing_input,
	    strlen(r->signing_input), mac)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	diff = r->sig_len != n;
	for (i = 0; i < n && i < r->sig_len; i++)
		diff |= mac[i] ^ r->sig[i];
	if (diff != 0 || !found || strcmp(prov, ctx->prov->name) != 0 ||
	    strcmp(status, "valid") != 0 ||
	    json_object_object_get_ex(o, "account", NULL)) {
		rc = PROBLEM(ctx, 403, "unauthorized", NULL, "external account "
		    "binding: not accepted (unknown key, MAC that does not "
		    "verify, or a key not valid for binding here)");
		goto out;
	}
	json_object_object_add(o, "account", json_object_new_string(account));
	rc = acme_put(st, k, o, 0);
out:
	if (key != NULL)
		ca_free_secret(key, key_len);
	json_object_put(o);
	free(k);
	return rc;
}

/* The operator's side */

static struct ca_local *
local_of(struct ca_authority *ah)
{
	struct ca_local *a;

	if (strcmp(ca_authority_kind(ah), "local") != 0)
		return NULL;
	a = ah->impl;
	return a->store != NULL && a->upstream == NULL && !a->cfg->is_ra ?
	    a : NULL;
}

int
ca_acme_eab_add(struct ca_authority *ah, const char *provisioner,
    const char *reference, time_t now, char **kid, char **hmac)
{
	struct ca_local *a = local_of(ah);
	struct json_object *o = NULL;
	unsigned char raw[EAB_KEY_LEN];
	char id[ACME_ID_LEN + 1], when[32], *k = NULL;
	const char *p;
	size_t i;
	int rc, ret, found = 0;

	*kid = *hmac = NULL;
	if (a == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	for (i = 0; i < a->cfg->n_provisioners; i++)
		if (strcasecmp(a->cfg->provisioners[i].type, "ACME") == 0 &&
		    strcmp(a->cfg->provisioners[i].name, provisioner) == 0)
			found = 1;
	if (!found)
		return ca_err(CA_ERR_NOTFOUND, "no ACME provisioner \"%s\"",
		    provisioner);
	if (reference != NULL) {
		for (p = reference; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				break;
		if (*p != '\0' || p - reference > MAX_REFERENCE)
			return ca_err(CA_ERR_INVAL, "a reference is at most %d "
			    "printable characters", MAX_REFERENCE);
	}
	if ((rc = acme_new_id(id)) != 0)
		return rc;
	if ((ret = gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw))) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	if ((*hmac = ca_b64url_encode(raw, sizeof(raw))) == NULL ||
	    (*kid = strdup(id)) == NULL || (k = eab_key(id)) == NULL ||
	    (o = json_object_new_object()) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	ca_time_format(now, when, sizeof(when));
	json_object_object_add(o, "provisioner",
	    json_object_new_string(provisioner));
	json_object_object_add(o, "key", json_object_new_string(*hmac));
	if (reference != NULL)
		json_object_object_add(o, "reference",
		    json_object_new_string(reference));
	json_object_object_add(o, "createdAt", json_object_new_string(when));
	json_object_object_add(o, "status", json_object_new_string("valid"));
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 1)) == 0) {
		if ((rc = acme_put(a->store, k, o, 1)) == 0)
			rc = ca_store_commit(a->store);
		else
			ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
out:
	ca_wipe(raw, sizeof(raw));
	if (o != NULL) {
		/* The key is in o's string too. */
		json_object_put(o);
	}
	free(k);
	if (rc != 0) {
		if (*hmac != NULL)
			ca_free_secret(*hmac, strlen(*hmac));
		free(*kid);
		*kid = *hmac = NULL;
	}
	return rc;
}

struct eab_list {
	struct ca_acme_eab	*v;
	size_t			 n, cap;
};

static char *
dup_member(struct json_object *o, const char *key)
{
	const char *s;

	return ca_json_string(o, key, 0, &s) == 0 ? strdup(s) : NULL;
}

static int
list_one(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct eab_list *l = arg;
	struct ca_acme_eab *e, *nv;
	struct json_object *o = NULL;
	const char *s;

	if (ca_json_parse((const char *)val, len, key, &o) != 0 ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return ca_err(CA_ERR_STORE, "%s: not a JSON object", key);
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL) {
			json_object_put(o);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		l->v = nv;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->kid = strdup(key + strlen("acme/eab/"));
	e->provisioner = dup_member(o, "provisioner");
	e->reference = dup_member(o, "reference");
	e->status = dup_member(o, "status");
	e->account = dup_member(o, "account");
	if (ca_json_string(o, "createdAt", 0, &s) == 0)
		(void)ca_time_parse(s, 0, &e->created);
	json_object_put(o);
	ca_err_clear();
	if (e->kid == NULL || e->provisioner == NULL || e->status == NULL)
		return ca_err(CA_ERR_STORE, "%s: not an EAB key", key);
	return 0;
}

static int
cmp_kid(const void *x, const void *y)
{
	return strcmp(((const struct ca_acme_eab *)x)->kid,
	    ((const struct ca_acme_eab *)y)->kid);
}

int
ca_acme_eab_list(struct ca_authority *ah, struct ca_acme_eab **v, size_t *n)
{
	struct ca_local *a = local_of(ah);
	struct eab_list l = { NULL, 0, 0 };
	int rc;

	*v = NULL;
	*n = 0;
	if (a == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 0)) == 0) {
		rc = ca_store_foreach(a->store, "acme/eab/", list_one, &l);
		ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	if (rc != 0) {
		ca_acme_eab_free(l.v, l.n);
		return rc;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_kid);
	*v = l.v;
	*n = l.n;
	return 0;
}

int
ca_acme_eab_revoke(struct ca_authority *ah, const char *kid)
{
	struct ca_local *a = local_of(ah);
	struct json_object *o = NULL;
	char *k;
	int rc;

	if (a == NULL)
		return ca_err(CA_ERR_CONFIG, "ACME needs a local CA");
	if (!acme_id_ok(kid))
		return ca_err(CA_ERR_NOTFOUND, "no EAB key %.64s", kid);
	if ((k = eab_key(kid)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	pthread_mutex_lock(&a->store_lock);
	if ((rc = ca_store_begin(a->store, 1)) == 0) {
		rc = acme_get(a->store, k, &o);
		if (rc == CA_ERR_NOTFOUND)
			rc = ca_err(rc, "no EAB key %s", kid);
		if (rc == 0) {
			json_object_object_add(o, "status",
			    json_object_new_string("revoked"));
			rc = acme_put(a->store, k, o, 0);
		}
		if (rc == 0)
			rc = ca_store_commit(a->store);
		else
			ca_store_abort(a->store);
	}
	pthread_mutex_unlock(&a->store_lock);
	json_object_put(o);
	free(k);
	return rc;
}

void
ca_acme_eab_free(struct ca_acme_eab *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].kid);
		free(v[i].provisioner);
		free(v[i].reference);
		free(v[i].status);
		free(v[i].account);
	}
	free(v);
}
