/*
 * acme-account.c - ACME accounts (RFC 8555 7.3): newAccount, the
 * account's POST-as-GET, contact update and deactivation, key change.
 *
 * An account is acme/acct/ID: {"status", "key" (its JWK, public),
 * "thumbprint", "contact" (mailto: URLs), "termsOfServiceAgreed",
 * "createdAt", "provisioner" (the name of the ACME provisioner it was
 * made at: it acts there only)}; acme/acctkey/PROV/THUMBPRINT: {"id": ID},
 * inserted with the account, so that a key has at most one account at
 * each provisioner. A deactivation cancels the account's pending and
 * ready orders in its transaction (acme_account_cancel_orders).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"
#include "acme-internal.h"
#include "acme-frame.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "store.h"

#define MAX_CONTACTS		4
#define MAX_CONTACT_LEN		256

/* A problem answer: ACME_ANSWERED, or CA_ERR_NOMEM when it failed. */
#define PROBLEM(ctx, ...)	(acme_problem((ctx), __VA_ARGS__) != 0 ? \
				    CA_ERR_NOMEM : ACME_ANSWERED)

void
acme_account_free(struct acme_account *acct)
{
	if (acct == NULL)
		return;
	ca_jwk_free(acct->key);
	free(acct->thumbprint);
	json_object_put(acct->json);
	free(acct);
}

static int
acct_key(char k[ACME_KEY_MAX], const char *id)
{
	return acme_key(k, ACME_KEY_MAX, "acme/acct/", id, NULL);
}

/* The key index is per provisioner (a thumbprint has no '/'). */
static int
thumb_key(const struct acme_ctx *ctx, char k[ACME_KEY_MAX],
    const char *thumbprint)
{
	return acme_key(k, ACME_KEY_MAX, "acme/acctkey/", ctx->prov->name,
	    thumbprint);
}

int
acme_account_load(struct acme_ctx *ctx, struct ca_store *st, const char *id,
    struct acme_account **out)
{
	struct acme_account *acct = NULL;
	struct json_object *o = NULL, *key;
	const char *s, *tp, *prov;
	char k[ACME_KEY_MAX];
	int rc;

	*out = NULL;
	if (!acme_id_ok(id) || strlen(id) > ACME_ID_LEN)
		return CA_ERR_NOTFOUND;
	if ((rc = acct_key(k, id)) != 0)
		return rc;
	rc = acme_get(st, k, &o);
	if (rc != 0)
		goto out;
	if (ca_json_string(o, "status", 1, &s) != 0 ||
	    ca_json_object(o, "key", 1, &key) != 0 ||
	    ca_json_string(o, "thumbprint", 1, &tp) != 0) {
		rc = ca_err(CA_ERR_STORE, "%s: not an account", k);
		goto out;
	}
	/* Another provisioner's account does not exist here. */
	if (ca_json_string(o, "provisioner", 1, &prov) != 0 ||
	    strcmp(prov, ctx->prov->name) != 0) {
		rc = CA_ERR_NOTFOUND;
		goto out;
	}
	if ((acct = calloc(1, sizeof(*acct))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(acct->id, sizeof(acct->id), "%s", id);
	acct->status = (char *)(uintptr_t)s;	/* borrowed from json */
	if ((rc = ca_jwk_from_json(key, &acct->key)) != 0) {
		if (rc != CA_ERR_NOMEM)
			rc = ca_err(CA_ERR_STORE, "%s: its key: %s", k,
			    ca_errmsg());
		goto out;
	}
	if ((acct->thumbprint = strdup(tp)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	acct->json = o;
	o = NULL;
	*out = acct;
	acct = NULL;
out:
	acme_account_free(acct);
	json_object_put(o);
	return rc;
}

/*
 * The account as a client sees it (RFC 8555 7.1.2): status, contact,
 * termsOfServiceAgreed, orders, and its key.
 */
static int
reply_account(struct acme_ctx *ctx, int status, const char *id,
    struct json_object *stored)
{
	static const char *const shown[] = { "status", "contact",
	    "termsOfServiceAgreed", "key", "createdAt", NULL };
	struct json_object *o, *v;
	char *u;
	size_t i;

	if ((o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; shown[i] != NULL; i++)
		if (json_object_object_get_ex(stored, shown[i], &v))
			json_object_object_add(o, shown[i], json_object_get(v));
	if (asprintf(&u, "%s/account/%s/orders", ctx->prefix, id) < 0) {
		json_object_put(o);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	json_object_object_add(o, "orders", json_object_new_string(u));
	free(u);
	if ((u = acme_url(ctx, "account", id)) == NULL) {
		json_object_put(o);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	free(ctx->resp->location);
	ctx->resp->location = u;
	return acme_reply_json(ctx, status, o);
}

/*
 * RFC 8555 7.3: contact is an array of mailto: URLs, one address each
 * (no hfields), at most MAX_CONTACTS of at most MAX_CONTACT_LEN octets.
 * 0, ACME_ANSWERED (invalidContact, unsupportedContact, malformed).
 */
static int
contact_check(struct acme_ctx *ctx, struct json_object *c)
{
	const char *s, *at, *p;
	size_t i, n, j;

	if (!json_object_is_type(c, json_type_array))
		return PROBLEM(ctx, 400, "malformed", NULL,
		    "\"contact\" is not an array");
	if ((n = json_object_array_length(c)) > MAX_CONTACTS)
		return PROBLEM(ctx, 400, "invalidContact", NULL,
		    "%zu contacts: at most %d", n, MAX_CONTACTS);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(c, i);

		if (!json_object_is_type(v, json_type_string))
			return PROBLEM(ctx, 400, "malformed", NULL,
			    "contact[%zu] is not a string", i);
		s = json_object_get_string(v);
		if (strlen(s) > MAX_CONTACT_LEN)
			return PROBLEM(ctx, 400, "invalidContact", NULL,
			    "contact[%zu]: longer than %d", i,
			    MAX_CONTACT_LEN);
		if (strncasecmp(s, "mailto:", 7) != 0)
			return PROBLEM(ctx, 400, "unsupportedContact", NULL,
			    "contact \"%.64s\": only mailto: URLs", s);
		p = s + 7;
		at = strchr(p, '@');
		if (at == NULL || at == p || at[1] == '\0' ||
		    strchr(at + 1, '@') != NULL)
			goto invalid;
		for (j = 0; p[j] != '\0'; j++) {
			unsigned char ch = (unsigned char)p[j];

			if (ch <= 0x20 || ch >= 0x7f || ch == ',' ||
			    ch == '?' || ch == '<' || ch == '>' || ch == '"')
				goto invalid;
			if (p + j > at && !((ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
				goto invalid;
		}
		continue;
invalid:
		return PROBLEM(ctx, 400, "invalidContact", NULL,
		    "contact \"%.64s\": not one e-mail address", s);
	}
	return 0;
}

/* The payload's member key as a boolean (absent: 0); else answered. */
static int
payload_bool(struct acme_ctx *ctx, const char *key, int *v)
{
	int rc;

	*v = 0;
	if ((rc = ca_json_bool(ctx->payload, key, 0, v)) == 0 ||
	    rc == CA_ERR_NOTFOUND)
		return 0;
	return PROBLEM(ctx, 400, "malformed", NULL, "\"%s\" is not a boolean",
	    key);
}

struct find_key {
	const char		*thumbprint;
	struct acme_account	*acct;	/* the key's account, if any */
};

static int
find_key(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct find_key *f = arg;
	struct json_object *o = NULL;
	const char *id;
	char k[ACME_KEY_MAX];
	int rc;

	if ((rc = thumb_key(ctx, k, f->thumbprint)) != 0)
		return rc;
	rc = acme_get(st, k, &o);
	if (rc == CA_ERR_NOTFOUND)
		return 0;
	if (rc == 0 && ca_json_string(o, "id", 1, &id) != 0)
		rc = ca_err(CA_ERR_STORE, "acme/acctkey/%s: no id",
		    f->thumbprint);
	if (rc == 0)
		rc = acme_account_load(ctx, st, id, &f->acct);
	if (rc == CA_ERR_NOTFOUND)
		rc = ca_err(CA_ERR_STORE, "acme/acctkey/%s: no account %s",
		    f->thumbprint, id);
	json_object_put(o);
	return rc;
}

struct create {
	const char		*id;
	const char		*thumbprint;
	struct json_object	*acct;
	const struct acme_eab_req *eab;		/* or NULL */
};

static int
create(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct create *c = arg;
	struct json_object *idx;
	char k1[ACME_KEY_MAX], k2[ACME_KEY_MAX];
	int rc;

	if ((rc = thumb_key(ctx, k1, c->thumbprint)) != 0 ||
	    (rc = acct_key(k2, c->id)) != 0)
		return rc;
	if ((idx = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_object_add(idx, "id", json_object_new_string(c->id));
	if ((rc = acme_put(st, k1, idx, 1)) == 0 &&
	    (rc = acme_put(st, k2, c->acct, 1)) == 0 && c->eab != NULL)
		rc = acme_eab_bind(ctx, st, c->eab, c->id);
	json_object_put(idx);
	return rc;
}

/* An existing account for newAccount's key: 200, or unauthorized. */
static int
existing(struct acme_ctx *ctx, struct acme_account *acct)
{
	if (strcmp(acct->status, "valid") != 0)
		return acme_problem(ctx, 403, "unauthorized", NULL,
		    "the account of this key is %s", acct->status);
	return reply_account(ctx, 200, acct->id, acct->json);
}

int
acme_new_account(struct acme_ctx *ctx)
{
	struct find_key f = { NULL, NULL };
	struct create c = { NULL, NULL, NULL, NULL };
	struct acme_eab_req er;
	struct json_object *contact = NULL, *key = NULL, *eab = NULL;
	char id[ACME_ID_LEN + 1], *thumb = NULL, when[32];
	int rc, only, tos;

	memset(&er, 0, sizeof(er));
	if (ctx->payload == NULL)
		return acme_problem(ctx, 400, "malformed", NULL,
		    "newAccount needs a payload");
	if ((rc = payload_bool(ctx, "onlyReturnExisting", &only)) != 0 ||
	    (rc = payload_bool(ctx, "termsOfServiceAgreed", &tos)) != 0)
		return rc == ACME_ANSWERED ? 0 : rc;
	if ((rc = ca_jwk_thumbprint(ctx->jwk, &thumb)) != 0)
		return rc;
	f.thumbprint = thumb;
	if ((rc = acme_read(ctx, find_key, &f)) != 0)
		goto out;
	if (f.acct != NULL) {
		rc = existing(ctx, f.acct);
		goto out;
	}
	if (only) {
		rc = acme_problem(ctx, 400, "accountDoesNotExist", NULL,
		    "no account has this key");
		goto out;
	}
	json_object_object_get_ex(ctx->payload, "externalAccountBinding", &eab);
	/* Without requireEAB a binding is not looked at (as step-ca). */
	if (ctx->prov->require_eab && eab == NULL) {
		rc = acme_problem(ctx, 400, "externalAccountRequired", NULL,
		    "provisioner \"%s\" requires an external account binding",
		    ctx->prov->name);
		goto out;
	}
	if (ctx->prov->require_eab) {
		if ((rc = acme_eab_parse(ctx, eab, thumb, &er)) != 0) {
			rc = rc == ACME_ANSWERED ? 0 : rc;
			goto out;
		}
		c.eab = &er;
	}
	if (json_object_object_get_ex(ctx->payload, "contact", &contact) &&
	    (rc = contact_check(ctx, contact)) != 0) {
		rc = rc == ACME_ANSWERED ? 0 : rc;
		goto out;
	}
	if ((rc = acme_new_id(id)) != 0 ||
	    (rc = ca_jwk_to_json(ctx->jwk, 0, &key)) != 0)
		goto out;
	if ((c.acct = json_object_new_object()) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	ca_time_format(ctx->now, when, sizeof(when));
	json_object_object_add(c.acct, "status", json_object_new_string("valid"));
	json_object_object_add(c.acct, "key", key);
	key = NULL;
	json_object_object_add(c.acct, "thumbprint",
	    json_object_new_string(thumb));
	if (contact != NULL)
		json_object_object_add(c.acct, "contact",
		    json_object_get(contact));
	json_object_object_add(c.acct, "termsOfServiceAgreed",
	    json_object_new_boolean(tos));
	json_object_object_add(c.acct, "createdAt",
	    json_object_new_string(when));
	json_object_object_add(c.acct, "provisioner",
	    json_object_new_string(ctx->prov->name));
	c.id = id;
	c.thumbprint = thumb;
	rc = acme_write(ctx, create, &c);
	if (rc == ACME_ANSWERED) {	/* the binding was refused */
		rc = 0;
		goto out;
	}
	if (rc == CA_ERR_EXISTS) {
		/* The same key, registered at the same moment elsewhere. */
		if ((rc = acme_read(ctx, find_key, &f)) == 0)
			rc = f.acct != NULL ? existing(ctx, f.acct) :
			    ca_err(CA_ERR_STORE, "account key index changed");
		goto out;
	}
	if (rc == 0)
		rc = reply_account(ctx, 201, id, c.acct);
out:
	acme_eab_req_free(&er);
	acme_account_free(f.acct);
	json_object_put(c.acct);
	json_object_put(key);
	free(thumb);
	return rc;
}

struct update {
	const char		*id;
	struct json_object	*contact;	/* new contact, or NULL */
	int			 deactivate;
	struct json_object	*result;	/* the account as written */
};

static int
update(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct update *u = arg;
	struct acme_account *acct = NULL;
	char k[ACME_KEY_MAX];
	int rc;

	if ((rc = acme_account_load(ctx, st, u->id, &acct)) != 0)
		return rc;
	if (strcmp(acct->status, "valid") != 0) {
		/* Deactivated meanwhile: nothing is written. */
		rc = acme_problem(ctx, 403, "unauthorized", NULL,
		    "account %s is %s", u->id, acct->status);
		goto out;
	}
	if (u->contact != NULL)
		json_object_object_add(acct->json, "contact",
		    json_object_get(u->contact));
	if (u->deactivate)
		json_object_object_add(acct->json, "status",
		    json_object_new_string("deactivated"));
	if ((rc = acct_key(k, u->id)) != 0 ||
	    (rc = acme_put(st, k, acct->json, 0)) != 0 || (u->deactivate &&
	    (rc = acme_account_cancel_orders(ctx, st, u->id)) != 0))
		goto out;
	u->result = json_object_get(acct->json);
out:
	acme_account_free(acct);
	return rc;
}

int
acme_account(struct acme_ctx *ctx, const char *id)
{
	struct update u;
	struct json_object *v;
	const char *s;
	int rc;

	if (strcmp(ctx->acct->id, id) != 0)
		return acme_problem(ctx, 403, "unauthorized", NULL,
		    "account %s is not the one that signed the request", id);
	if (ctx->payload == NULL)
		return reply_account(ctx, 200, id, ctx->acct->json);
	memset(&u, 0, sizeof(u));
	u.id = id;
	if (json_object_object_get_ex(ctx->payload, "status", &v)) {
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "";
		if (strcmp(s, "deactivated") == 0)
			u.deactivate = 1;
		else if (strcmp(s, "valid") != 0)
			return acme_problem(ctx, 400, "malformed", NULL,
			    "\"status\" may only become \"deactivated\"");
	}
	if (json_object_object_get_ex(ctx->payload, "contact", &v)) {
		if ((rc = contact_check(ctx, v)) != 0)
			return rc == ACME_ANSWERED ? 0 : rc;
		u.contact = v;
	}
	if (u.contact == NULL && !u.deactivate)
		return reply_account(ctx, 200, id, ctx->acct->json);
	rc = acme_write(ctx, update, &u);
	if (rc == 0 && u.result != NULL)
		rc = reply_account(ctx, 200, id, u.result);
	json_object_put(u.result);
	return rc;
}

struct rekey {
	const char		*id;
	const char		*old_thumb, *new_thumb;
	struct json_object	*new_key;
	char			 other[ACME_ID_LEN + 1];	/* conflict */
	struct json_object	*result;
};

static int
rekey(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct rekey *r = arg;
	struct acme_account *acct = NULL;
	struct json_object *o = NULL, *idx = NULL;
	const char *other;
	char kn[ACME_KEY_MAX], ko[ACME_KEY_MAX], ka[ACME_KEY_MAX];
	int rc;

	if ((rc = thumb_key(ctx, kn, r->new_thumb)) != 0 ||
	    (rc = thumb_key(ctx, ko, r->old_thumb)) != 0 ||
	    (rc = acct_key(ka, r->id)) != 0)
		return rc;
	if ((rc = acme_get(st, kn, &o)) == 0) {
		/* RFC 8555 7.3.5: 409, Location the account of the key. */
		if (ca_json_string(o, "id", 1, &other) == 0)
			snprintf(r->other, sizeof(r->other), "%s", other);
		goto out;
	}
	if (rc != CA_ERR_NOTFOUND ||
	    (rc = acme_account_load(ctx, st, r->id, &acct)) != 0)
		goto out;
	if (strcmp(acct->status, "valid") != 0 ||
	    strcmp(acct->thumbprint, r->old_thumb) != 0) {
		rc = acme_problem(ctx, 403, "unauthorized", NULL,
		    "account %s changed meanwhile", r->id);
		goto out;
	}
	if ((idx = json_object_new_object()) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_object_object_add(idx, "id", json_object_new_string(r->id));
	json_object_object_add(acct->json, "key", json_object_get(r->new_key));
	json_object_object_add(acct->json, "thumbprint",
	    json_object_new_string(r->new_thumb));
	if ((rc = acme_put(st, kn, idx, 1)) != 0 ||
	    (rc = ca_store_del(st, ko)) != 0 ||
	    (rc = acme_put(st, ka, acct->json, 0)) != 0)
		goto out;
	r->result = json_object_get(acct->json);
out:
	acme_account_free(acct);
	json_object_put(o);
	json_object_put(idx);
	return rc;
}

/*
 * RFC 8555 7.3.5: the outer JWS is the account's (kid); its payload is a
 * JWS signed by the new key (jwk), with the outer's url and the payload
 * {"account": the account's URL, "oldKey": its current key}.
 */
int
acme_key_change(struct acme_ctx *ctx)
{
	struct ca_jws *inner = NULL;
	struct ca_jwk *nk = NULL, *ok = NULL;
	struct json_object *hdr, *v, *jwk_o, *p = NULL, *old_o;
	struct rekey r;
	const char *alg, *acct_url;
	char *me = NULL, *ot = NULL, *nt = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	if (ctx->payload == NULL)
		return acme_problem(ctx, 400, "malformed", NULL,
		    "keyChange needs a payload (the inner JWS)");
	if ((rc = acme_jws_flat(ctx, ctx->payload, &inner)) != 0)
		return rc == ACME_ANSWERED ? 0 : rc;
	hdr = inner->header;
	alg = json_object_get_string(json_object_object_get(hdr, "alg"));
	if (!json_object_object_get_ex(hdr, "jwk", &jwk_o) ||
	    json_object_object_get_ex(hdr, "kid", &v)) {
		rc = PROBLEM(ctx, 400, "malformed", NULL, "the inner JWS must "
		    "have a \"jwk\" (the new key) and no \"kid\"");
		goto out;
	}
	if (!json_object_object_get_ex(hdr, "url", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), ctx->url) != 0) {
		rc = PROBLEM(ctx, 400, "malformed", NULL, "the inner JWS's "
		    "\"url\" is not the outer JWS's");
		goto out;
	}
	if ((rc = ca_jwk_from_json(jwk_o, &nk)) != 0) {
		if (rc != CA_ERR_NOMEM)
			rc = PROBLEM(ctx, 400, "malformed", NULL,
			    "inner jwk: %s", ca_errmsg());
		goto out;
	}
	if (ca_jwk_is_private(nk)) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "the inner jwk holds a private key");
		goto out;
	}
	if (strcmp(alg, ca_jwk_alg(nk)) != 0) {
		rc = PROBLEM(ctx, 400, "badSignatureAlgorithm", NULL,
		    "inner JWS algorithm %s does not fit the new key (%s)",
		    alg, ca_jwk_alg(nk));
		goto out;
	}
	if (ca_jws_verify(inner, nk) != 0) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "the inner JWS signature does not verify");
		goto out;
	}
	if ((rc = ca_json_parse((const char *)inner->payload,
	    inner->payload_len, "inner JWS payload", &p)) != 0) {
		if (rc != CA_ERR_NOMEM)
			rc = PROBLEM(ctx, 400, "malformed", NULL, "%s",
			    ca_errmsg());
		goto out;
	}
	if ((me = acme_url(ctx, "account", ctx->acct->id)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (ca_json_string(p, "account", 0, &acct_url) != 0 ||
	    strcmp(acct_url, me) != 0) {
		rc = PROBLEM(ctx, 403, "unauthorized", NULL, "the inner "
		    "payload's \"account\" is not the signer's account");
		goto out;
	}
	if (ca_json_object(p, "oldKey", 0, &old_o) != 0 ||
	    ca_jwk_from_json(old_o, &ok) != 0 ||
	    (rc = ca_jwk_thumbprint(ok, &ot)) != 0 ||
	    strcmp(ot, ctx->acct->thumbprint) != 0) {
		rc = rc == CA_ERR_NOMEM ? rc : PROBLEM(ctx, 403,
		    "unauthorized", NULL, "the inner payload's \"oldKey\" "
		    "is not the account's key");
		goto out;
	}
	if ((rc = ca_jwk_thumbprint(nk, &nt)) != 0)
		goto out;
	if (strcmp(nt, ot) == 0) {
		rc = PROBLEM(ctx, 400, "malformed", NULL,
		    "the new key is the account's key already");
		goto out;
	}
	r.id = ctx->acct->id;
	r.old_thumb = ot;
	r.new_thumb = nt;
	if ((rc = ca_jwk_to_json(nk, 0, &r.new_key)) != 0 ||
	    (rc = acme_write(ctx, rekey, &r)) != 0)
		goto out;
	if (r.other[0] != '\0') {
		char path[sizeof("account/") + ACME_ID_LEN];

		snprintf(path, sizeof(path), "account/%s", r.other);
		if ((rc = acme_problem(ctx, 409, "malformed", NULL,
		    "the new key is the key of account %s", r.other)) == 0)
			rc = acme_location(ctx, path);
	} else if (r.result != NULL)
		rc = reply_account(ctx, 200, ctx->acct->id, r.result);
out:
	if (rc == ACME_ANSWERED)
		rc = 0;
	ca_jws_free(inner);
	ca_jwk_free(nk);
	ca_jwk_free(ok);
	json_object_put(p);
	json_object_put(r.new_key);
	json_object_put(r.result);
	free(me);
	free(ot);
	free(nt);
	return rc;
}
