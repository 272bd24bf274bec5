/*
 * acme-order.c - orders, authorizations, challenges, finalize,
 * certificates and revocation of the ACME server (RFC 8555 7.4 to 7.6,
 * RFC 8738 for IP identifiers).
 *
 * Every object is a JSON record in the store (lib/acme-internal.h),
 * written whole in one transaction with everything that changes with it:
 *   acme/order/ID  {"account", "status", "expires", "identifiers":
 *                  [{"type","value"}], "notBefore", "notAfter",
 *                  "authorizations": [ID], "certificate": ID, "error"}
 *   acme/authz/ID  {"account", "order", "status", "expires",
 *                  "identifier": {"type","value"}, "wildcard",
 *                  "challenges": [{"id", "type", "status", "token",
 *                  "started", "validated", "error"}]}
 *   acme/cert/ID   {"serial", "order", "account"}
 *   acme/inflight/ACCT  {"validations": [{"challenge", "started"}]}: the
 *                  account's challenges given out to a validator whose
 *                  outcome is not in yet (see inflight_admit)
 * Times are Unix seconds. Expiry is not written: an order or
 * authorization read after its "expires" is shown (and treated) as
 * invalid or expired. A new order gets new authorizations, never older
 * ones (no reuse). Finalize issues at once: the certificate's record and
 * the order's "valid" commit together (struct ca_issuance's also), so the
 * order is never seen "processing".
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "acme-internal.h"
#include "acme-frame.h"
#include "authority-local.h"
#include "certtmpl.h"
#include "conf.h"
#include "crl.h"
#include "db.h"
#include "goodkey.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "policy.h"
#include "store.h"
#include "x509.h"

#define ORDER_LIFETIME_DEFAULT	(24 * 3600)
#define AUTHZ_LIFETIME_DEFAULT	(7 * 24 * 3600)
#define VALIDATION_TIMEOUT_DEFAULT 10
#define VALIDATIONS_DEFAULT	10	/* in flight per account */
#define RETRY_AFTER		1	/* s: clients poll at most this often */
#define TOKEN_OCTETS		32
#define IDENT_MAX		255	/* an identifier's value as sent */
#define ORDERS_LIST_MAX		1000
#define CSR_B64_MAX		((CA_MAX_CSR + 2) / 3 * 4)
#define CERT_B64_MAX		((CA_MAX_CERT + 2) / 3 * 4)
#define DETAIL_MAX		512

#define K_ORDER			"acme/order/"
#define K_ACCTORDER		"acme/acctorder/"
#define K_AUTHZ			"acme/authz/"
#define K_CERT			"acme/cert/"
#define K_INFLIGHT		"acme/inflight/"
#define K_X509_DATA		"x509_certs_data/"

static const char *const chall_types[] = { "http-01", "dns-01", "tls-alpn-01" };

/*
 * A refusal found inside a transaction (possibly on another thread of
 * the group commit), answered once the transaction is over.
 */
struct prob {
	int		 status;
	const char	*type;		/* NULL: none (a store error) */
	struct json_object *sub;
	char		 detail[DETAIL_MAX];
};

#define PROBLEM		CA_ERR_FORBIDDEN	/* fn's return with p->type set */

static int
prob_set(struct prob *p, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
prob_set(struct prob *p, int status, const char *type, const char *fmt, ...)
{
	va_list ap;

	p->status = status;
	p->type = type;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	return PROBLEM;
}

/* s escaped for a problem's detail (a name the client sent). */
static const char *
esc(char *buf, size_t len, const char *s)
{
	return ca_escape(buf, len, s, 0);
}

/*
 * The answer to a handler's failure: its problem, or for an error of the
 * store or the CA, serverInternal (503 with Retry-After when the store is
 * busy). Out of memory is returned as it is.
 */
static int
answer_error(struct acme_ctx *ctx, struct prob *p, int rc)
{
	struct json_object *sub = p->sub;
	char buf[DETAIL_MAX];

	p->sub = NULL;
	if (rc == ACME_ANSWERED) {	/* acme_account_recheck answered */
		json_object_put(sub);
		return 0;
	}
	if (p->type != NULL)
		return acme_problem(ctx, p->status, p->type, sub, "%s",
		    p->detail);
	json_object_put(sub);
	if (rc == CA_ERR_NOMEM)
		return rc;
	if (rc == CA_ERR_TEMP) {
		ctx->resp->retry_after = RETRY_AFTER;
		return acme_problem(ctx, 503, "serverInternal",
		    NULL, "the store is busy: retry");
	}
	/* The detail is for the operator's log, not for the client. */
	ca_warn("acme: %s", esc(buf, sizeof(buf), ca_errmsg()));
	return acme_problem(ctx, 500, "serverInternal", NULL, "the request "
	    "could not be completed; nothing was changed");
}

/* Configuration */

/* caTools.acme's settings (lib/conf.c sets their defaults). */
static int64_t
order_lifetime(const struct acme_ctx *ctx)
{
	return ctx->a->cfg->acme.order_lifetime > 0 ?
	    ctx->a->cfg->acme.order_lifetime : ORDER_LIFETIME_DEFAULT;
}

static int64_t
authz_lifetime(const struct acme_ctx *ctx)
{
	return ctx->a->cfg->acme.authz_lifetime > 0 ?
	    ctx->a->cfg->acme.authz_lifetime : AUTHZ_LIFETIME_DEFAULT;
}

static int64_t
validation_timeout(const struct ca_local *a)
{
	return a->cfg->acme.validation_timeout > 0 ?
	    a->cfg->acme.validation_timeout : VALIDATION_TIMEOUT_DEFAULT;
}

static int64_t
validations_max(const struct ca_local *a)
{
	return a->cfg->acme.max_validations > 0 ?
	    a->cfg->acme.max_validations : VALIDATIONS_DEFAULT;
}

/* Whether the provisioner allows challenge type t (its "challenges"). */
static int
chall_allowed(const struct acme_ctx *ctx, const char *t)
{
	unsigned bit = strcmp(t, "http-01") == 0 ? CA_ACME_HTTP01 :
	    strcmp(t, "dns-01") == 0 ? CA_ACME_DNS01 :
	    strcmp(t, "tls-alpn-01") == 0 ? CA_ACME_TLSALPN01 : 0;

	return (ctx->prov->acme_challenges & bit) != 0;
}

static int
force_cn(const struct acme_ctx *ctx)
{
	return ctx->prov->force_cn;
}

/* Store records */

static int
get_rec(struct ca_store *st, const char *kind, const char *id,
    struct json_object **out)
{
	char k[ACME_KEY_MAX];
	int rc;

	*out = NULL;
	if ((rc = acme_key(k, sizeof(k), kind, id, NULL)) != 0)
		return rc;
	return acme_get(st, k, out);
}

static int
put_rec(struct ca_store *st, const char *kind, const char *id,
    struct json_object *o, int insert)
{
	char k[ACME_KEY_MAX];
	int rc;

	if ((rc = acme_key(k, sizeof(k), kind, id, NULL)) != 0)
		return rc;
	if ((rc = acme_put(st, k, o, insert)) == CA_ERR_EXISTS)
		rc = ca_err(CA_ERR_STORE, "%s%s exists already", kind, id);
	return rc;
}

static const char *
str_of(struct json_object *o, const char *key)
{
	const char *s;

	return ca_json_string(o, key, 0, &s) == 0 ? s : "";
}

static int64_t
int_of(struct json_object *o, const char *key)
{
	int64_t v;

	return ca_json_int64(o, key, 0, &v) == 0 ? v : 0;
}

static int
set_str(struct json_object *o, const char *key, const char *v)
{
	struct json_object *s;

	if ((s = json_object_new_string(v)) == NULL ||
	    json_object_object_add(o, key, s) != 0) {
		json_object_put(s);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int
set_int(struct json_object *o, const char *key, int64_t v)
{
	struct json_object *s;

	if ((s = json_object_new_int64(v)) == NULL ||
	    json_object_object_add(o, key, s) != 0) {
		json_object_put(s);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* An RFC 7807 problem as a record's "error": {type, detail, status}. */
static int
set_error(struct json_object *o, const char *type, const char *detail,
    int status)
{
	struct json_object *e;
	char t[160];

	if (strncmp(type, "urn:", 4) == 0)
		snprintf(t, sizeof(t), "%s", type);
	else
		snprintf(t, sizeof(t), "%s%s", ACME_ERR, type);
	if ((e = json_object_new_object()) == NULL ||
	    set_str(e, "type", t) != 0 || set_str(e, "detail", detail) != 0 ||
	    set_int(e, "status", status) != 0 ||
	    json_object_object_add(o, "error", e) != 0) {
		json_object_put(e);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Status at now: pending and ready orders past their expiry are invalid. */
static const char *
order_status(struct json_object *o, time_t now)
{
	const char *s = str_of(o, "status");

	if ((strcmp(s, "pending") == 0 || strcmp(s, "ready") == 0) &&
	    now >= int_of(o, "expires"))
		return "invalid";
	return s;
}

/* Pending and valid authorizations past their expiry are expired. */
static const char *
authz_status(struct json_object *o, time_t now)
{
	const char *s = str_of(o, "status");

	if ((strcmp(s, "pending") == 0 || strcmp(s, "valid") == 0) &&
	    now >= int_of(o, "expires"))
		return "expired";
	return s;
}

/* The object belongs to the account the request is signed by. */
static int
owned(const struct acme_ctx *ctx, struct json_object *o)
{
	return ctx->acct != NULL && strcmp(str_of(o, "account"),
	    ctx->acct->id) == 0;
}

/* The challenge chall_id of an authorization record, or NULL. */
static struct json_object *
find_chall(struct json_object *authz, const char *chall_id)
{
	struct json_object *arr, *ch;
	size_t i, n;

	if (ca_json_array(authz, "challenges", 0, &arr) != 0)
		return NULL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		ch = json_object_array_get_idx(arr, i);
		if (strcmp(str_of(ch, "id"), chall_id) == 0)
			return ch;
	}
	return NULL;
}

/* Answers */

static struct json_object *
time_json(time_t t)
{
	char buf[32];

	ca_time_format(t, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static char *
finalize_url(const struct acme_ctx *ctx, const char *id)
{
	char *u, *s;

	if ((u = acme_url(ctx, "order", id)) == NULL)
		return NULL;
	if (asprintf(&s, "%s/finalize", u) < 0)
		s = NULL;
	free(u);
	return s;
}

static char *
chall_url(const struct acme_ctx *ctx, const char *authz_id,
    const char *chall_id)
{
	char *id, *u;

	if (asprintf(&id, "%s/%s", authz_id, chall_id) < 0)
		return NULL;
	u = acme_url(ctx, "challenge", id);
	free(id);
	return u;
}

/* Add a URL member (taken); -1 when out of memory. */
static int
add_url(struct json_object *o, const char *key, char *url)
{
	int rc;

	if (url == NULL)
		return -1;
	rc = set_str(o, key, url);
	free(url);
	return rc != 0 ? -1 : 0;
}

static struct json_object *
order_json(const struct acme_ctx *ctx, const char *id, struct json_object *o)
{
	struct json_object *r, *arr, *ids, *v;
	const char *status = order_status(o, ctx->now);
	size_t i, n;

	if ((r = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(r, "status", json_object_new_string(status));
	json_object_object_add(r, "expires", time_json(int_of(o, "expires")));
	if (ca_json_array(o, "identifiers", 0, &v) == 0)
		json_object_object_add(r, "identifiers", json_object_get(v));
	if (int_of(o, "notBefore") != 0)
		json_object_object_add(r, "notBefore",
		    time_json(int_of(o, "notBefore")));
	if (int_of(o, "notAfter") != 0)
		json_object_object_add(r, "notAfter",
		    time_json(int_of(o, "notAfter")));
	if ((arr = json_object_new_array()) == NULL)
		goto fail;
	json_object_object_add(r, "authorizations", arr);
	if (ca_json_array(o, "authorizations", 0, &ids) == 0) {
		n = json_object_array_length(ids);
		for (i = 0; i < n; i++) {
			char *u = acme_url(ctx, "authz", json_object_get_string(
			    json_object_array_get_idx(ids, i)));
			if (u == NULL)
				goto fail;
			json_object_array_add(arr, json_object_new_string(u));
			free(u);
		}
	}
	if (add_url(r, "finalize", finalize_url(ctx, id)) != 0)
		goto fail;
	if (str_of(o, "certificate")[0] != '\0' && add_url(r, "certificate",
	    acme_url(ctx, "certificate", str_of(o, "certificate"))) != 0)
		goto fail;
	if (ca_json_object(o, "error", 0, &v) == 0)
		json_object_object_add(r, "error", json_object_get(v));
	return r;
fail:
	json_object_put(r);
	return NULL;
}

static struct json_object *
chall_json(const struct acme_ctx *ctx, const char *authz_id,
    struct json_object *ch)
{
	struct json_object *r, *e;

	if ((r = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(r, "type",
	    json_object_new_string(str_of(ch, "type")));
	if (add_url(r, "url", chall_url(ctx, authz_id,
	    str_of(ch, "id"))) != 0) {
		json_object_put(r);
		return NULL;
	}
	json_object_object_add(r, "status",
	    json_object_new_string(str_of(ch, "status")));
	json_object_object_add(r, "token",
	    json_object_new_string(str_of(ch, "token")));
	if (int_of(ch, "validated") != 0)
		json_object_object_add(r, "validated",
		    time_json(int_of(ch, "validated")));
	if (ca_json_object(ch, "error", 0, &e) == 0)
		json_object_object_add(r, "error", json_object_get(e));
	return r;
}

static struct json_object *
authz_json(const struct acme_ctx *ctx, const char *id, struct json_object *az)
{
	struct json_object *r, *arr, *chs, *v, *c;
	const char *status = authz_status(az, ctx->now);
	size_t i, n;
	int wild = 0;

	if ((r = json_object_new_object()) == NULL)
		return NULL;
	if (ca_json_object(az, "identifier", 0, &v) == 0)
		json_object_object_add(r, "identifier", json_object_get(v));
	json_object_object_add(r, "status", json_object_new_string(status));
	json_object_object_add(r, "expires", time_json(int_of(az, "expires")));
	if ((arr = json_object_new_array()) == NULL)
		goto fail;
	json_object_object_add(r, "challenges", arr);
	if (ca_json_array(az, "challenges", 0, &chs) == 0) {
		n = json_object_array_length(chs);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(chs, i);
			/* A valid authorization shows the challenge that
			 * made it so (RFC 8555 7.1.4). */
			if (strcmp(str_of(az, "status"), "valid") == 0 &&
			    strcmp(str_of(v, "status"), "valid") != 0)
				continue;
			if ((c = chall_json(ctx, id, v)) == NULL)
				goto fail;
			json_object_array_add(arr, c);
		}
	}
	if (ca_json_bool(az, "wildcard", 0, &wild) == 0 && wild)
		json_object_object_add(r, "wildcard",
		    json_object_new_boolean(1));
	return r;
fail:
	json_object_put(r);
	return NULL;
}

static int
order_location(struct acme_ctx *ctx, const char *id)
{
	char path[160];

	snprintf(path, sizeof(path), "order/%s", id);
	return acme_location(ctx, path);
}

/* Reply with o (taken; NULL: out of memory). */
static int
reply(struct acme_ctx *ctx, int status, struct json_object *o)
{
	if (o == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return acme_reply_json(ctx, status, o);
}

/* Requests */

/* POST-as-GET: the payload must be empty (RFC 8555 6.3). */
static int
want_empty(struct acme_ctx *ctx, const char *what)
{
	if (ctx->payload == NULL)
		return 0;
	acme_problem(ctx, 400, "malformed", NULL, "%s is read with "
	    "POST-as-GET (an empty payload)", what);
	return 1;
}

/* A kid request with a JSON object payload. */
static int
want_object(struct acme_ctx *ctx, const char *what)
{
	if (ctx->payload != NULL &&
	    json_object_is_type(ctx->payload, json_type_object))
		return 0;
	acme_problem(ctx, 400, "malformed", NULL, "%s needs a JSON object "
	    "as payload", what);
	return 1;
}

/* Identifiers */

/* One identifier, normalized: "dns" or "ip", value in canonical form. */
struct ident {
	char	 type[4];
	char	 value[IDENT_MAX + 1];
	int	 wildcard;
};

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/*
 * The A-labels (xn--) of name v must be IDNA2008's: decoded to Unicode
 * and encoded again, the name comes back the same. A GnuTLS without
 * IDNA support leaves them unchecked.
 */
static int
idna_check(const char *v, char *why, size_t wlen)
{
	gnutls_datum_t u = { NULL, 0 }, back = { NULL, 0 };
	int ret, same;

	if (strncmp(v, "xn--", 4) != 0 && strstr(v, ".xn--") == NULL)
		return 0;
	ret = gnutls_idna_reverse_map(v, (unsigned)strlen(v), &u, 0);
	if (ret == GNUTLS_E_UNIMPLEMENTED_FEATURE)
		return 0;
	if (ret == 0)
		ret = gnutls_idna_map((const char *)u.data, u.size, &back, 0);
	same = ret == 0 && back.size == strlen(v) &&
	    memcmp(back.data, v, back.size) == 0;
	gnutls_free(u.data);
	gnutls_free(back.data);
	if (!same) {
		snprintf(why, wlen, "an xn-- label that is not an IDNA2008 "
		    "A-label");
		return -1;
	}
	return 0;
}

/*
 * A DNS name as RFC 8555 7.1.4 and the CA/B rules take it: ASCII only
 * (international names as IDNA A-labels), lowercased, the root's
 * trailing dot dropped, letters, digits and hyphens in labels of 1 to
 * 63, no label with "--" in positions 3-4 but "xn--", a wildcard only
 * as the whole first label, and a last label that is not all digits
 * (an IPv4 address is an "ip" identifier). why says what is wrong.
 */
static int
dns_normalize(const char *in, struct ident *id, char *why, size_t wlen)
{
	char *v = id->value, *label;
	size_t len = strlen(in), i, n;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253) {
		snprintf(why, wlen, "a DNS name has 1 to 253 characters");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x80) {
			snprintf(why, wlen, "not ASCII: international names "
			    "are sent as IDNA A-labels (xn--)");
			return -1;
		}
		v[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	v[len] = '\0';
	id->wildcard = strncmp(v, "*.", 2) == 0;
	label = v + (id->wildcard ? 2 : 0);
	while (*label != '\0') {
		n = strcspn(label, ".");
		if (n == 0 || n > 63) {
			snprintf(why, wlen, "a label has 1 to 63 characters");
			return -1;
		}
		for (i = 0; i < n; i++) {
			char c = label[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-')) {
				snprintf(why, wlen, c == '*' ? "a wildcard is "
				    "only the whole first label" :
				    "a label has only letters, digits and "
				    "hyphens");
				return -1;
			}
		}
		if (label[0] == '-' || label[n - 1] == '-') {
			snprintf(why, wlen, "a label neither starts nor ends "
			    "with a hyphen");
			return -1;
		}
		if (n >= 4 && label[2] == '-' && label[3] == '-' &&
		    strncmp(label, "xn", 2) != 0) {
			snprintf(why, wlen, "a label with \"--\" in positions "
			    "3-4 is reserved (only xn-- is allowed)");
			return -1;
		}
		if (label[n] == '\0' && all_digits(label, n)) {
			snprintf(why, wlen, "the last label is all digits: an "
			    "IP address is an \"ip\" identifier");
			return -1;
		}
		label += n + (label[n] == '.');
	}
	if (v[len - 1] == '.' || strstr(v, "..") != NULL) {
		snprintf(why, wlen, "empty label");
		return -1;
	}
	return idna_check(v, why, wlen);
}

static int
ip_normalize(const char *in, struct ident *id, char *why, size_t wlen)
{
	unsigned char b[16];
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, in, b) == 1)
		inet_ntop(AF_INET, b, buf, sizeof(buf));
	else if (inet_pton(AF_INET6, in, b) == 1)
		inet_ntop(AF_INET6, b, buf, sizeof(buf));
	else {
		snprintf(why, wlen, "not an IPv4 or IPv6 address in text "
		    "form (RFC 8738)");
		return -1;
	}
	snprintf(id->value, sizeof(id->value), "%s", buf);
	return 0;
}

/* The challenge types an identifier gets: the provisioner's that fit it. */
static size_t
chall_types_for(const struct acme_ctx *ctx, const struct ident *id,
    const char *out[3])
{
	size_t i, n = 0;

	for (i = 0; i < 3; i++) {
		const char *t = chall_types[i];
		if (!chall_allowed(ctx, t))
			continue;
		/* RFC 8738 7: no dns-01 for IPs; RFC 8555 7.1.3: only
		 * dns-01 proves a wildcard. */
		if (strcmp(id->type, "ip") == 0 && strcmp(t, "dns-01") == 0)
			continue;
		if (id->wildcard && strcmp(t, "dns-01") != 0)
			continue;
		out[n++] = t;
	}
	return n;
}

static int
add_subproblem(struct json_object **sub, const char *type, const char *itype,
    const char *ivalue, const char *detail)
{
	struct json_object *p = NULL, *i = NULL;
	char t[96];

	if (*sub == NULL && (*sub = json_object_new_array()) == NULL)
		goto nomem;
	snprintf(t, sizeof(t), "%s%s", ACME_ERR, type);
	if ((p = json_object_new_object()) == NULL ||
	    (i = json_object_new_object()) == NULL ||
	    set_str(p, "type", t) != 0 || set_str(p, "detail", detail) != 0 ||
	    set_str(i, "type", itype) != 0 || set_str(i, "value", ivalue) != 0)
		goto nomem;
	json_object_object_add(p, "identifier", i);
	i = NULL;
	if (json_object_array_add(*sub, p) != 0)
		goto nomem;
	return 0;
nomem:
	json_object_put(p);
	json_object_put(i);
	return ca_err(CA_ERR_NOMEM, "out of memory");
}

/*
 * The payload's identifiers, normalized, duplicates dropped; *n of them
 * in *out (free). A refusal is set in p (rejectedIdentifier with a
 * subproblem per identifier at fault, unsupportedIdentifier, malformed).
 */
static int
parse_identifiers(struct acme_ctx *ctx, struct prob *p, struct ident **out,
    size_t *n)
{
	struct json_object *arr, *e;
	struct ident *v = NULL, id;
	const char *type, *value, *bad_type = NULL;
	char why[160], ev[2 * IDENT_MAX], msg[DETAIL_MAX];
	size_t i, j, len, max = ctx->a->cfg->max_sans, nbad = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (ca_json_array(ctx->payload, "identifiers", 0, &arr) != 0)
		return prob_set(p, 400, "malformed", "newOrder needs an "
		    "\"identifiers\" array");
	len = json_object_array_length(arr);
	if (len == 0)
		return prob_set(p, 400, "malformed", "the order has no "
		    "identifiers");
	if (len > max)
		return prob_set(p, 400, "rejectedIdentifier", "the order has "
		    "%zu identifiers: at most %zu are allowed", len, max);
	if ((v = calloc(len, sizeof(*v))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		e = json_object_array_get_idx(arr, i);
		memset(&id, 0, sizeof(id));
		if (!json_object_is_type(e, json_type_object) ||
		    ca_json_string(e, "type", 0, &type) != 0 ||
		    ca_json_string(e, "value", 0, &value) != 0) {
			rc = prob_set(p, 400, "malformed", "identifier %zu is "
			    "not {\"type\": ..., \"value\": ...}", i + 1);
			goto out;
		}
		why[0] = '\0';
		if (strcmp(type, "dns") != 0 && strcmp(type, "ip") != 0) {
			bad_type = type;
			snprintf(why, sizeof(why), "identifier type \"%s\" is "
			    "not supported (dns and ip are)",
			    esc(ev, sizeof(ev), type));
			if ((rc = add_subproblem(&p->sub,
			    "unsupportedIdentifier", type, value, why)) != 0)
				goto out;
			nbad++;
			continue;
		}
		snprintf(id.type, sizeof(id.type), "%s", type);
		if (strlen(value) > IDENT_MAX)
			snprintf(why, sizeof(why), "longer than %d characters",
			    IDENT_MAX);
		else if (strcmp(type, "dns") == 0)
			dns_normalize(value, &id, why, sizeof(why));
		else
			ip_normalize(value, &id, why, sizeof(why));
		if (why[0] == '\0' && id.wildcard &&
		    !chall_allowed(ctx, "dns-01"))
			snprintf(why, sizeof(why), "a wildcard needs dns-01, "
			    "which provisioner \"%s\" does not allow",
			    ctx->prov->name);
		if (why[0] == '\0') {
			const char *t[3];
			if (chall_types_for(ctx, &id, t) == 0)
				snprintf(why, sizeof(why), "none of provisioner "
				    "\"%s\"'s challenge types can validate it",
				    ctx->prov->name);
		}
		if (why[0] != '\0') {
			if ((rc = add_subproblem(&p->sub, "rejectedIdentifier",
			    type, value, why)) != 0)
				goto out;
			if (nbad++ == 0)
				snprintf(msg, sizeof(msg), "%s \"%s\": %s", type,
				    esc(ev, sizeof(ev), value), why);
			continue;
		}
		for (j = 0; j < *n; j++)
			if (strcmp(v[j].type, id.type) == 0 &&
			    strcmp(v[j].value, id.value) == 0)
				break;
		if (j == *n)
			v[(*n)++] = id;
	}
	if (nbad > 0) {
		if (bad_type != NULL && nbad == 1)
			rc = prob_set(p, 400, "unsupportedIdentifier",
			    "identifier type \"%s\" is not supported (dns and "
			    "ip are)", esc(ev, sizeof(ev), bad_type));
		else if (nbad == 1)
			rc = prob_set(p, 400, "rejectedIdentifier", "%s", msg);
		else
			rc = prob_set(p, 400, "rejectedIdentifier", "%zu of the "
			    "order's identifiers are refused: see subproblems",
			    nbad);
	}
out:
	if (rc != 0) {
		free(v);
		*n = 0;
		return rc;
	}
	*out = v;
	return 0;
}

/* newOrder */

struct new_order {
	char		 id[ACME_ID_LEN + 1];
	struct json_object *order;
	struct json_object **authz;	/* one per identifier */
	char		(*authz_id)[ACME_ID_LEN + 1];
	size_t		 n;
};

static int
random_token(char **out)
{
	unsigned char r[TOKEN_OCTETS];
	int ret;

	*out = NULL;
	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r))) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	if ((*out = ca_b64url_encode(r, sizeof(r))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static struct json_object *
ident_json(const char *type, const char *value)
{
	struct json_object *o;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (set_str(o, "type", type) != 0 || set_str(o, "value", value) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The authorization record of identifier id. */
static int
make_authz(struct acme_ctx *ctx, const struct new_order *no,
    const struct ident *id, int64_t expires, struct json_object **out)
{
	struct json_object *az = NULL, *chs, *ch, *ident;
	const char *types[3];
	char cid[ACME_ID_LEN + 1], *tok = NULL;
	size_t i, n;
	int rc;

	*out = NULL;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((az = json_object_new_object()) == NULL ||
	    set_str(az, "account", ctx->acct->id) != 0 ||
	    set_str(az, "order", no->id) != 0 ||
	    set_str(az, "status", "pending") != 0 ||
	    set_int(az, "expires", expires) != 0 ||
	    (ident = ident_json(id->type, id->value +
	    (id->wildcard ? 2 : 0))) == NULL)
		goto out;
	json_object_object_add(az, "identifier", ident);
	if (id->wildcard)
		json_object_object_add(az, "wildcard",
		    json_object_new_boolean(1));
	if ((chs = json_object_new_array()) == NULL)
		goto out;
	json_object_object_add(az, "challenges", chs);
	n = chall_types_for(ctx, id, types);
	for (i = 0; i < n; i++) {
		if ((rc = acme_new_id(cid)) != 0 || (rc = random_token(&tok)) != 0)
			goto out;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		if ((ch = json_object_new_object()) == NULL)
			goto out;
		json_object_array_add(chs, ch);
		if (set_str(ch, "id", cid) != 0 ||
		    set_str(ch, "type", types[i]) != 0 ||
		    set_str(ch, "status", "pending") != 0 ||
		    set_str(ch, "token", tok) != 0)
			goto out;
		free(tok);
		tok = NULL;
	}
	*out = az;
	az = NULL;
	rc = 0;
out:
	free(tok);
	json_object_put(az);
	return rc;
}

static int
new_order_txn(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct new_order *no = arg;
	char k[ACME_KEY_MAX];
	size_t i;
	int rc;

	for (i = 0; i < no->n; i++)
		if ((rc = put_rec(st, K_AUTHZ, no->authz_id[i], no->authz[i],
		    1)) != 0)
			return rc;
	if ((rc = put_rec(st, K_ORDER, no->id, no->order, 1)) != 0)
		return rc;
	if ((rc = acme_key(k, sizeof(k), K_ACCTORDER, ctx->acct->id,
	    no->id)) != 0)
		return rc;
	return ca_store_put(st, k, "", 0, 1);
}

/* notBefore/notAfter of the payload, checked against the claims. */
static int
order_validity(struct acme_ctx *ctx, struct prob *p, time_t *nb, time_t *na)
{
	struct ca_sign_req sr;
	const char *s;
	time_t b, e;
	int rc;

	*nb = *na = 0;
	rc = ca_json_string(ctx->payload, "notBefore", 0, &s);
	if (rc == 0 && ca_time_parse(s, ctx->now, nb) != 0)
		return prob_set(p, 400, "malformed", "notBefore: %s",
		    ca_errmsg());
	if (rc == CA_ERR_INVAL)
		return prob_set(p, 400, "malformed", "notBefore is not a "
		    "string");
	rc = ca_json_string(ctx->payload, "notAfter", 0, &s);
	if (rc == 0 && ca_time_parse(s, ctx->now, na) != 0)
		return prob_set(p, 400, "malformed", "notAfter: %s",
		    ca_errmsg());
	if (rc == CA_ERR_INVAL)
		return prob_set(p, 400, "malformed", "notAfter is not a "
		    "string");
	if (*nb == 0 && *na == 0)
		return 0;
	memset(&sr, 0, sizeof(sr));
	sr.not_before = *nb;
	sr.not_after = *na;
	if (ca_local_validity(ctx->a, ctx->prov, &sr, ctx->now, &b, &e) != 0)
		return prob_set(p, 400, "malformed", "%s", ca_errmsg());
	return 0;
}

static void
new_order_free(struct new_order *no)
{
	size_t i;

	json_object_put(no->order);
	for (i = 0; no->authz != NULL && i < no->n; i++)
		json_object_put(no->authz[i]);
	free(no->authz);
	free(no->authz_id);
}

int
acme_new_order(struct acme_ctx *ctx)
{
	struct new_order no;
	struct prob p;
	struct ident *ids = NULL;
	struct json_object *arr, *idarr;
	time_t nb, na;
	int64_t exp_a, exp_o;
	size_t n = 0, i;
	int rc;

	memset(&no, 0, sizeof(no));
	memset(&p, 0, sizeof(p));
	if (want_object(ctx, "newOrder"))
		return 0;
	/* 1. What is asked: identifiers, notBefore/notAfter. */
	if ((rc = parse_identifiers(ctx, &p, &ids, &n)) != 0 ||
	    (rc = order_validity(ctx, &p, &nb, &na)) != 0)
		goto out;
	for (i = 0; i < n; i++)	/* the issuance policy (lib/policy.h) */
		if (ca_policy_check_name(ctx->a->cfg, ctx->prov, ids[i].type,
		    ids[i].value) != 0) {
			rc = prob_set(&p, 403, "rejectedIdentifier", "%s",
			    ca_errmsg());
			goto out;
		}

	/* 2. The order and one new authorization per identifier; the
	 * order expires no later than they do. */
	exp_a = ctx->now + authz_lifetime(ctx);
	exp_o = ctx->now + order_lifetime(ctx);
	if (exp_o > exp_a)
		exp_o = exp_a;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((no.authz = calloc(n, sizeof(*no.authz))) == NULL ||
	    (no.authz_id = calloc(n, sizeof(*no.authz_id))) == NULL)
		goto out;
	if ((rc = acme_new_id(no.id)) != 0)
		goto out;
	no.n = n;
	for (i = 0; i < n; i++)
		if ((rc = acme_new_id(no.authz_id[i])) != 0 ||
		    (rc = make_authz(ctx, &no, &ids[i], exp_a,
		    &no.authz[i])) != 0)
			goto out;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((no.order = json_object_new_object()) == NULL ||
	    set_str(no.order, "account", ctx->acct->id) != 0 ||
	    set_str(no.order, "status", "pending") != 0 ||
	    set_int(no.order, "expires", exp_o) != 0 ||
	    set_int(no.order, "created", ctx->now) != 0 ||
	    (nb != 0 && set_int(no.order, "notBefore", nb) != 0) ||
	    (na != 0 && set_int(no.order, "notAfter", na) != 0) ||
	    (arr = json_object_new_array()) == NULL)
		goto out;
	json_object_object_add(no.order, "identifiers", arr);
	if ((idarr = json_object_new_array()) == NULL)
		goto out;
	json_object_object_add(no.order, "authorizations", idarr);
	for (i = 0; i < n; i++) {
		struct json_object *e = ident_json(ids[i].type, ids[i].value);
		if (e == NULL || json_object_array_add(arr, e) != 0 ||
		    json_object_array_add(idarr,
		    json_object_new_string(no.authz_id[i])) != 0) {
			json_object_put(e);
			goto out;
		}
	}

	/* 3. Stored in one transaction, then answered. */
	if ((rc = acme_write(ctx, new_order_txn, &no)) != 0)
		goto out;
	if ((rc = order_location(ctx, no.id)) != 0)
		goto out;
	ctx->resp->retry_after = RETRY_AFTER;
	rc = reply(ctx, 201, order_json(ctx, no.id, no.order));
out:
	if (rc != 0)
		rc = answer_error(ctx, &p, rc);
	json_object_put(p.sub);
	new_order_free(&no);
	free(ids);
	return rc;
}

/* Jobs: a challenge to validate */

static int
make_job(const struct acme_ctx *ctx, const char *authz_id,
    struct json_object *az, struct json_object *ch, struct ca_acme_job **out)
{
	struct ca_acme_job *j;
	struct json_object *ident;

	*out = NULL;
	if (ca_json_object(az, "identifier", 0, &ident) != 0)
		return ca_err(CA_ERR_STORE, "authorization %s has no identifier",
		    authz_id);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((j->provisioner = strdup(ctx->prov->name)) == NULL ||
	    (j->authz = strdup(authz_id)) == NULL ||
	    (j->challenge = strdup(str_of(ch, "id"))) == NULL ||
	    (j->type = strdup(str_of(ch, "type"))) == NULL ||
	    (j->id_type = strdup(str_of(ident, "type"))) == NULL ||
	    (j->id_value = strdup(str_of(ident, "value"))) == NULL ||
	    (j->token = strdup(str_of(ch, "token"))) == NULL ||
	    asprintf(&j->key_auth, "%s.%s", str_of(ch, "token"),
	    ctx->acct->thumbprint) < 0) {
		j->key_auth = NULL;
		ca_acme_job_free(j);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	*out = j;
	return 0;
}

/*
 * A challenge processing for longer than twice the validation timeout:
 * the process that had its job is gone (an inetd one, a crash).
 */
static int
stale(const struct acme_ctx *ctx, struct json_object *az,
    struct json_object *ch)
{
	return strcmp(str_of(ch, "status"), "processing") == 0 &&
	    strcmp(authz_status(az, ctx->now), "pending") == 0 &&
	    int_of(ch, "started") + 2 * validation_timeout(ctx->a) <= ctx->now;
}

struct chall_op {
	struct prob	 p;
	const char	*authz_id;
	const char	*chall_id;
	int		 respond;	/* the client asks for validation */
	int		 redo;		/* give a stale one out again */
	int64_t		 started;	/* ... if it still started then */
	int		 writing;	/* in a write transaction */
	int		 need_write;	/* (read) a change is to be written */
	unsigned	 retry_after;	/* (429) when a validation ends */
	struct json_object *az;		/* the authorization as written */
	struct ca_acme_job *job;
};

/*
 * The account's validations in flight (acme/inflight/ACCT), in the store
 * so that every process (inetd: one a connection) sees the same: an
 * entry from when a challenge is given out to a validator until its
 * outcome is recorded, or until it is stale (the job was lost: stale()'s
 * horizon). Each validation may hold an outgoing connection for the
 * validation timeout: an account gets at most validations_max() at once.
 *
 * inflight_admit: chall_id's entry (again) as of now and 0, or 1 when the
 * account is at its bound (nothing written; *retry: seconds until its
 * oldest one times out).
 */
static int
inflight_admit(struct acme_ctx *ctx, struct ca_store *st,
    const char *chall_id, unsigned *retry)
{
	struct json_object *rec = NULL, *old, *now_arr = NULL, *e;
	int64_t horizon = 2 * validation_timeout(ctx->a), oldest = 0, s;
	size_t i, n;
	int rc;

	if ((rc = get_rec(st, K_INFLIGHT, ctx->acct->id, &rec)) ==
	    CA_ERR_NOTFOUND)
		rc = (rec = json_object_new_object()) == NULL ?
		    ca_err(CA_ERR_NOMEM, "out of memory") : 0;
	if (rc != 0)
		return rc;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((now_arr = json_object_new_array()) == NULL)
		goto out;
	n = ca_json_array(rec, "validations", 0, &old) == 0 ?
	    json_object_array_length(old) : 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(old, i);
		s = int_of(e, "started");
		if (s + horizon <= ctx->now ||
		    strcmp(str_of(e, "challenge"), chall_id) == 0)
			continue;
		if (oldest == 0 || s < oldest)
			oldest = s;
		if (json_object_array_add(now_arr, json_object_get(e)) != 0)
			goto out;
	}
	if ((int64_t)json_object_array_length(now_arr) >=
	    validations_max(ctx->a)) {
		s = oldest + validation_timeout(ctx->a) - ctx->now;
		*retry = s < 1 ? 1 : (unsigned)s;
		rc = 1;
		goto out;
	}
	if ((e = json_object_new_object()) == NULL ||
	    json_object_array_add(now_arr, e) != 0) {
		json_object_put(e);
		goto out;
	}
	if (set_str(e, "challenge", chall_id) != 0 ||
	    set_int(e, "started", ctx->now) != 0 ||
	    json_object_object_add(rec, "validations", now_arr) != 0)
		goto out;
	now_arr = NULL;
	rc = put_rec(st, K_INFLIGHT, ctx->acct->id, rec, 0);
out:
	json_object_put(now_arr);
	json_object_put(rec);
	return rc;
}

/* The outcome of chall_id is in: its entry goes (if it is there). */
static int
inflight_release(struct ca_store *st, const char *acct_id,
    const char *chall_id)
{
	struct json_object *rec = NULL, *arr, *left = NULL;
	char k[ACME_KEY_MAX];
	size_t i, n;
	int rc, found = 0;

	if ((rc = get_rec(st, K_INFLIGHT, acct_id, &rec)) != 0)
		return rc == CA_ERR_NOTFOUND || rc == CA_ERR_INVAL ? 0 : rc;
	if (ca_json_array(rec, "validations", 0, &arr) != 0)
		goto out;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((left = json_object_new_array()) == NULL)
		goto out;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (strcmp(str_of(e, "challenge"), chall_id) == 0)
			found = 1;
		else if (json_object_array_add(left, json_object_get(e)) != 0)
			goto out;
	}
	rc = 0;
	if (!found)
		goto out;
	if (json_object_array_length(left) == 0) {
		if ((rc = acme_key(k, sizeof(k), K_INFLIGHT, acct_id,
		    NULL)) == 0)
			rc = ca_store_del(st, k);
		goto out;
	}
	if (json_object_object_add(rec, "validations", left) != 0) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	left = NULL;
	rc = put_rec(st, K_INFLIGHT, acct_id, rec, 0);
out:
	json_object_put(left);
	json_object_put(rec);
	return rc;
}

/*
 * Move a pending challenge to processing (respond), or a stale
 * processing one's start to now (redo), and make its job.
 */
static int
chall_txn(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct chall_op *op = arg;
	struct json_object *az = NULL, *ch;
	const char *s, *as;
	char eid[2 * ACME_ID_LEN];
	int rc, start = 0, asked;

	json_object_put(op->az);
	op->az = NULL;
	if ((rc = get_rec(st, K_AUTHZ, op->authz_id, &az)) == CA_ERR_NOTFOUND)
		return prob_set(&op->p, 404, "malformed", "no authorization %s",
		    esc(eid, sizeof(eid), op->authz_id));
	if (rc != 0)
		return rc;
	if (!owned(ctx, az)) {
		rc = prob_set(&op->p, 403, "unauthorized", "authorization %s "
		    "belongs to another account", op->authz_id);
		goto out;
	}
	if ((ch = find_chall(az, op->chall_id)) == NULL) {
		rc = prob_set(&op->p, 404, "malformed", "authorization %s has "
		    "no challenge %s", op->authz_id,
		    esc(eid, sizeof(eid), op->chall_id));
		goto out;
	}
	s = str_of(ch, "status");
	as = authz_status(az, ctx->now);
	if (op->respond && strcmp(s, "invalid") == 0) {
		rc = prob_set(&op->p, 400, "malformed", "challenge %s is "
		    "invalid: a failed challenge is not retried (RFC 8555 "
		    "7.5.1), make a new order", op->chall_id);
		goto out;
	}
	if (op->respond && strcmp(s, "pending") == 0) {
		if (strcmp(as, "pending") != 0) {
			if (strcmp(as, "valid") != 0) {
				rc = prob_set(&op->p, 400, "malformed",
				    "authorization %s is %s: its challenges "
				    "can no longer be answered", op->authz_id,
				    as);
				goto out;
			}
		} else
			start = 1;
	}
	asked = start;
	if (stale(ctx, az, ch) && (!op->writing ||
	    (op->redo && int_of(ch, "started") == op->started))) {
		op->redo = 1;
		op->started = int_of(ch, "started");
		start = 1;
	}
	if (start && !op->writing)
		op->need_write = 1;
	else if (start && (rc = inflight_admit(ctx, st, op->chall_id,
	    &op->retry_after)) != 0) {
		if (rc < 0)
			goto out;
		/* Over the account's bound: the challenge stays as it is
		 * (pending: the client may post again; a stale one is
		 * given out again at a later read). */
		op->need_write = 0;
		if (asked) {
			rc = prob_set(&op->p, 429, "rateLimited", "%lld "
			    "validations of this account are in flight "
			    "already: retry when one has ended",
			    (long long)validations_max(ctx->a));
			goto out;
		}
	} else if (start) {
		if ((rc = set_str(ch, "status", "processing")) != 0 ||
		    (rc = set_int(ch, "started", ctx->now)) != 0 ||
		    (rc = put_rec(st, K_AUTHZ, op->authz_id, az, 0)) != 0 ||
		    (rc = make_job(ctx, op->authz_id, az, ch, &op->job)) != 0)
			goto out;
	}
	op->az = az;
	az = NULL;
	rc = 0;
out:
	json_object_put(az);
	return rc;
}

int
acme_challenge(struct acme_ctx *ctx, const char *authz_id,
    const char *chall_id)
{
	struct chall_op op;
	struct json_object *ch;
	char *up;
	int rc;

	memset(&op, 0, sizeof(op));
	op.authz_id = authz_id;
	op.chall_id = chall_id;
	if (ctx->payload != NULL) {
		/* RFC 8555 7.5.1: the client's response is "{}". */
		if (!json_object_is_type(ctx->payload, json_type_object))
			return acme_problem(ctx, 400, "malformed", NULL,
			    "a challenge response is a JSON object ({})");
		op.respond = 1;
	}
	/* Read first: most posts (polls, repeats) change nothing. The
	 * write re-checks what the read saw. */
	if ((rc = acme_read(ctx, chall_txn, &op)) == 0 && op.need_write) {
		op.writing = 1;
		rc = acme_write(ctx, chall_txn, &op);
	}
	if (rc != 0) {
		if (op.p.status == 429)
			ctx->resp->retry_after = op.retry_after;
		rc = answer_error(ctx, &op.p, rc);
		goto out;
	}
	ch = find_chall(op.az, chall_id);
	if ((up = acme_url(ctx, "authz", authz_id)) == NULL ||
	    (rc = acme_link(ctx, up, "up")) != 0) {
		free(up);
		rc = rc != 0 ? rc : ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	free(up);
	if (strcmp(str_of(ch, "status"), "processing") == 0 ||
	    strcmp(str_of(ch, "status"), "pending") == 0)
		ctx->resp->retry_after = RETRY_AFTER;
	if ((rc = reply(ctx, 200, chall_json(ctx, authz_id, ch))) == 0) {
		ctx->resp->job = op.job;
		op.job = NULL;
	}
out:
	json_object_put(op.p.sub);
	json_object_put(op.az);
	ca_acme_job_free(op.job);
	return rc;
}

/* Reading orders and authorizations */

struct read_op {
	struct prob	 p;
	const char	*id;
	const char	*kind;		/* "order", "authorization" */
	struct json_object *obj;
	/* A stale challenge found on the way (see stale()). */
	char		 stale_authz[ACME_ID_LEN + 1];
	char		 stale_chall[ACME_ID_LEN + 1];
	int64_t		 stale_started;
};

static void
note_stale(struct acme_ctx *ctx, struct read_op *op, const char *authz_id,
    struct json_object *az)
{
	struct json_object *arr, *ch;
	size_t i, n;

	if (op->stale_authz[0] != '\0' ||
	    ca_json_array(az, "challenges", 0, &arr) != 0)
		return;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		ch = json_object_array_get_idx(arr, i);
		if (stale(ctx, az, ch) && strlen(authz_id) <= ACME_ID_LEN &&
		    strlen(str_of(ch, "id")) <= ACME_ID_LEN) {
			snprintf(op->stale_authz, sizeof(op->stale_authz), "%s",
			    authz_id);
			snprintf(op->stale_chall, sizeof(op->stale_chall), "%s",
			    str_of(ch, "id"));
			op->stale_started = int_of(ch, "started");
			return;
		}
	}
}

static int
read_owned(struct acme_ctx *ctx, struct ca_store *st, struct read_op *op,
    const char *kind)
{
	char eid[2 * ACME_ID_LEN];
	int rc;

	rc = get_rec(st, kind, op->id, &op->obj);
	if (rc == CA_ERR_NOTFOUND)
		return prob_set(&op->p, 404, "malformed", "no %s %s", op->kind,
		    esc(eid, sizeof(eid), op->id));
	if (rc != 0)
		return rc;
	if (!owned(ctx, op->obj))
		return prob_set(&op->p, 403, "unauthorized", "%s %s belongs "
		    "to another account", op->kind, op->id);
	return 0;
}

static int
order_read(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct read_op *op = arg;
	struct json_object *ids, *az;
	const char *aid;
	size_t i, n;
	int rc;

	if ((rc = read_owned(ctx, st, op, K_ORDER)) != 0)
		return rc;
	if (strcmp(order_status(op->obj, ctx->now), "pending") != 0 ||
	    ca_json_array(op->obj, "authorizations", 0, &ids) != 0)
		return 0;
	n = json_object_array_length(ids);
	for (i = 0; i < n && op->stale_authz[0] == '\0'; i++) {
		aid = json_object_get_string(json_object_array_get_idx(ids, i));
		if (aid == NULL || get_rec(st, K_AUTHZ, aid, &az) != 0)
			continue;
		note_stale(ctx, op, aid, az);
		json_object_put(az);
	}
	return 0;
}

/* Give out again the stale challenge op found, if it still is. */
static int
redispatch(struct acme_ctx *ctx, struct read_op *op)
{
	struct chall_op co;
	int rc;

	if (op->stale_authz[0] == '\0')
		return 0;
	memset(&co, 0, sizeof(co));
	co.authz_id = op->stale_authz;
	co.chall_id = op->stale_chall;
	co.redo = 1;
	co.writing = 1;
	co.started = op->stale_started;
	rc = acme_write(ctx, chall_txn, &co);
	json_object_put(co.p.sub);
	json_object_put(co.az);
	if (rc == 0) {
		ctx->resp->job = co.job;
		co.job = NULL;
	}
	ca_acme_job_free(co.job);
	/* The answer stands without the job: the next read tries again. */
	return rc == CA_ERR_NOMEM ? rc : 0;
}

int
acme_order(struct acme_ctx *ctx, const char *id)
{
	struct read_op op;
	const char *s;
	int rc;

	if (want_empty(ctx, "an order"))
		return 0;
	memset(&op, 0, sizeof(op));
	op.id = id;
	op.kind = "order";
	if ((rc = acme_read(ctx, order_read, &op)) != 0) {
		rc = answer_error(ctx, &op.p, rc);
		goto out;
	}
	s = order_status(op.obj, ctx->now);
	if (strcmp(s, "pending") == 0 || strcmp(s, "processing") == 0)
		ctx->resp->retry_after = RETRY_AFTER;
	if ((rc = reply(ctx, 200, order_json(ctx, id, op.obj))) == 0)
		rc = redispatch(ctx, &op);
out:
	json_object_put(op.p.sub);
	json_object_put(op.obj);
	return rc;
}

static int
authz_read(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct read_op *op = arg;
	int rc;

	if ((rc = read_owned(ctx, st, op, K_AUTHZ)) != 0)
		return rc;
	note_stale(ctx, op, op->id, op->obj);
	return 0;
}

/*
 * Deactivation (RFC 8555 7.5.2): a pending or valid authorization
 * becomes deactivated, and its order, pending or ready, invalid.
 */
static int
deactivate_txn(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct read_op *op = arg;
	struct json_object *ord = NULL;
	const char *s, *oid;
	int rc;

	json_object_put(op->obj);
	op->obj = NULL;
	if ((rc = read_owned(ctx, st, op, K_AUTHZ)) != 0)
		return rc;
	s = authz_status(op->obj, ctx->now);
	if (strcmp(s, "pending") != 0 && strcmp(s, "valid") != 0)
		return prob_set(&op->p, 400, "malformed", "authorization %s is "
		    "%s: only a pending or valid one is deactivated", op->id, s);
	if ((rc = set_str(op->obj, "status", "deactivated")) != 0 ||
	    (rc = put_rec(st, K_AUTHZ, op->id, op->obj, 0)) != 0)
		return rc;
	oid = str_of(op->obj, "order");
	if ((rc = get_rec(st, K_ORDER, oid, &ord)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	s = order_status(ord, ctx->now);
	if (strcmp(s, "pending") == 0 || strcmp(s, "ready") == 0) {
		if ((rc = set_str(ord, "status", "invalid")) != 0 ||
		    (rc = set_error(ord, "unauthorized", "an authorization "
		    "was deactivated", 403)) != 0 ||
		    (rc = put_rec(st, K_ORDER, oid, ord, 0)) != 0)
			goto out;
	}
	rc = 0;
out:
	json_object_put(ord);
	return rc;
}

int
acme_authz(struct acme_ctx *ctx, const char *id)
{
	struct read_op op;
	const char *s;
	int rc;

	memset(&op, 0, sizeof(op));
	op.id = id;
	op.kind = "authorization";
	if (ctx->payload != NULL) {
		if (!json_object_is_type(ctx->payload, json_type_object) ||
		    ca_json_string(ctx->payload, "status", 0, &s) != 0 ||
		    strcmp(s, "deactivated") != 0)
			return acme_problem(ctx, 400, "malformed", NULL, "an "
			    "authorization is read with POST-as-GET or "
			    "deactivated with {\"status\": \"deactivated\"}");
		rc = acme_write(ctx, deactivate_txn, &op);
	} else
		rc = acme_read(ctx, authz_read, &op);
	if (rc != 0) {
		rc = answer_error(ctx, &op.p, rc);
		goto out;
	}
	if (strcmp(authz_status(op.obj, ctx->now), "pending") == 0)
		ctx->resp->retry_after = RETRY_AFTER;
	if ((rc = reply(ctx, 200, authz_json(ctx, id, op.obj))) == 0)
		rc = redispatch(ctx, &op);
out:
	json_object_put(op.p.sub);
	json_object_put(op.obj);
	return rc;
}

/* The account's orders */

struct list_op {
	struct json_object *arr;
	const struct acme_ctx *ctx;
	size_t		 plen;
	int		 full;
};

static int
list_one(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct list_op *l = arg;
	char *u;

	(void)val;
	(void)len;
	if (json_object_array_length(l->arr) >= ORDERS_LIST_MAX) {
		l->full = 1;
		return 0;
	}
	if ((u = acme_url(l->ctx, "order", key + l->plen)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_array_add(l->arr, json_object_new_string(u));
	free(u);
	return 0;
}

static int
orders_read(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct list_op *l = arg;
	char prefix[ACME_KEY_MAX];
	int rc;

	if ((rc = acme_key(prefix, sizeof(prefix), K_ACCTORDER, ctx->acct->id,
	    "")) != 0)
		return rc;
	l->plen = strlen(prefix);
	return ca_store_foreach(st, prefix, list_one, l);
}

int
acme_account_orders(struct acme_ctx *ctx, const char *acct_id)
{
	struct list_op l;
	struct json_object *o;
	struct prob p;
	int rc;

	if (want_empty(ctx, "an account's orders"))
		return 0;
	if (ctx->acct == NULL || strcmp(acct_id, ctx->acct->id) != 0)
		return acme_problem(ctx, 403, "unauthorized", NULL, "the "
		    "orders of another account");
	memset(&l, 0, sizeof(l));
	memset(&p, 0, sizeof(p));
	l.ctx = ctx;
	if ((l.arr = json_object_new_array()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = acme_read(ctx, orders_read, &l)) != 0) {
		json_object_put(l.arr);
		return answer_error(ctx, &p, rc);
	}
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(l.arr);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	json_object_object_add(o, "orders", l.arr);
	return reply(ctx, 200, o);
}

/* An account's deactivation */

struct cancel_op {
	char		(*ids)[ACME_ID_LEN + 1];
	size_t		 n, max;
	size_t		 plen;
};

static int
cancel_one(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct cancel_op *c = arg;

	(void)val;
	(void)len;
	if (c->n >= c->max || strlen(key + c->plen) > ACME_ID_LEN)
		return 0;
	snprintf(c->ids[c->n++], ACME_ID_LEN + 1, "%s", key + c->plen);
	return 0;
}

/* Order oid, if pending or ready: invalid, its pending authz deactivated. */
static int
cancel_order(struct acme_ctx *ctx, struct ca_store *st, const char *oid)
{
	struct json_object *ord = NULL, *ids, *az;
	const char *s, *aid;
	size_t i, n;
	int rc;

	if ((rc = get_rec(st, K_ORDER, oid, &ord)) != 0)
		return rc == CA_ERR_NOTFOUND ? 0 : rc;
	s = order_status(ord, ctx->now);
	if (strcmp(s, "pending") != 0 && strcmp(s, "ready") != 0) {
		json_object_put(ord);
		return 0;
	}
	if (ca_json_array(ord, "authorizations", 0, &ids) == 0) {
		n = json_object_array_length(ids);
		for (i = 0; i < n; i++) {
			aid = json_object_get_string(
			    json_object_array_get_idx(ids, i));
			if (aid == NULL ||
			    (rc = get_rec(st, K_AUTHZ, aid, &az)) ==
			    CA_ERR_NOTFOUND)
				continue;
			if (rc != 0)
				goto out;
			if (strcmp(authz_status(az, ctx->now), "pending") == 0)
				rc = set_str(az, "status", "deactivated") != 0 ?
				    CA_ERR_NOMEM :
				    put_rec(st, K_AUTHZ, aid, az, 0);
			json_object_put(az);
			if (rc != 0)
				goto out;
		}
	}
	if ((rc = set_str(ord, "status", "invalid")) != 0 ||
	    (rc = set_error(ord, "unauthorized", "the account was "
	    "deactivated", 403)) != 0)
		goto out;
	rc = put_rec(st, K_ORDER, oid, ord, 0);
out:
	json_object_put(ord);
	return rc;
}

int
acme_account_cancel_orders(struct acme_ctx *ctx, struct ca_store *st,
    const char *acct_id)
{
	struct cancel_op c;
	char prefix[ACME_KEY_MAX];
	size_t i;
	int rc;

	if ((rc = acme_key(prefix, sizeof(prefix), K_ACCTORDER, acct_id,
	    "")) != 0)
		return rc;
	memset(&c, 0, sizeof(c));
	c.max = ORDERS_LIST_MAX;
	if ((c.ids = calloc(c.max, sizeof(*c.ids))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	c.plen = strlen(prefix);
	rc = ca_store_foreach(st, prefix, cancel_one, &c);
	for (i = 0; rc == 0 && i < c.n; i++)
		rc = cancel_order(ctx, st, c.ids[i]);
	free(c.ids);
	return rc;
}

/* Validation outcomes */

struct validated_op {
	const struct ca_acme_job *job;
	int		 ok;
	const char	*type;
	const char	*detail;
};

/* The order follows its authorization: ready when all are valid. */
static int
order_follows(struct acme_ctx *ctx, struct ca_store *st,
    struct json_object *az, const char *az_id, int ok)
{
	struct json_object *ord = NULL, *ids, *other;
	const char *oid = str_of(az, "order"), *aid;
	char what[2 * IDENT_MAX + 64];
	size_t i, n;
	int rc, ready = 1;

	if ((rc = get_rec(st, K_ORDER, oid, &ord)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (strcmp(order_status(ord, ctx->now), "pending") != 0)
		goto out;
	if (!ok) {
		struct json_object *ident = NULL;
		ca_json_object(az, "identifier", 0, &ident);
		snprintf(what, sizeof(what), "the authorization of %s %s "
		    "failed", ident ? str_of(ident, "type") : "",
		    ident ? str_of(ident, "value") : "");
		if ((rc = set_str(ord, "status", "invalid")) != 0 ||
		    (rc = set_error(ord, "unauthorized", what, 403)) != 0)
			goto out;
	} else {
		if (ca_json_array(ord, "authorizations", 0, &ids) != 0)
			goto out;
		n = json_object_array_length(ids);
		for (i = 0; i < n && ready; i++) {
			aid = json_object_get_string(
			    json_object_array_get_idx(ids, i));
			if (aid == NULL)
				continue;
			if (strcmp(aid, az_id) == 0)
				continue;
			if ((rc = get_rec(st, K_AUTHZ, aid, &other)) != 0)
				goto out;
			ready = strcmp(authz_status(other, ctx->now),
			    "valid") == 0;
			json_object_put(other);
		}
		if (!ready)
			goto out;
		if ((rc = set_str(ord, "status", "ready")) != 0)
			goto out;
	}
	rc = put_rec(st, K_ORDER, oid, ord, 0);
out:
	json_object_put(ord);
	return rc;
}

static int
validated_txn(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct validated_op *v = arg;
	struct json_object *az = NULL, *ch;
	int rc;

	rc = get_rec(st, K_AUTHZ, v->job->authz, &az);
	if (rc == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = inflight_release(st, str_of(az, "account"),
	    v->job->challenge)) != 0)
		goto out;
	/* Only the outcome of the job given out for this challenge, while
	 * it and its authorization still wait for it. */
	ch = find_chall(az, v->job->challenge);
	if (ch == NULL || strcmp(str_of(ch, "status"), "processing") != 0 ||
	    strcmp(str_of(ch, "token"), v->job->token) != 0 ||
	    strcmp(authz_status(az, ctx->now), "pending") != 0) {
		rc = 0;
		goto out;
	}
	if ((rc = set_str(ch, "status", v->ok ? "valid" : "invalid")) != 0 ||
	    (rc = set_int(ch, "validated", ctx->now)) != 0 ||
	    (!v->ok && (rc = set_error(ch, v->type, v->detail, 403)) != 0) ||
	    (rc = set_str(az, "status", v->ok ? "valid" : "invalid")) != 0 ||
	    (rc = put_rec(st, K_AUTHZ, v->job->authz, az, 0)) != 0)
		goto out;
	rc = order_follows(ctx, st, az, v->job->authz, v->ok);
out:
	json_object_put(az);
	return rc;
}

int
acme_validated(struct ca_local *a, const struct ca_acme_job *job, int ok,
    const char *problem_type, const char *detail, time_t now)
{
	struct acme_ctx ctx;
	struct validated_op v;

	if (job == NULL || job->authz == NULL || job->challenge == NULL ||
	    job->token == NULL)
		return ca_err(CA_ERR_INVAL, "validation outcome without its job");
	memset(&ctx, 0, sizeof(ctx));
	ctx.a = a;
	ctx.now = now;
	v.job = job;
	v.ok = ok;
	v.type = problem_type != NULL ? problem_type : "incorrectResponse";
	v.detail = detail != NULL ? detail : "validation failed";
	if (!acme_id_ok(job->authz) || !acme_id_ok(job->challenge))
		return 0;
	return acme_write(&ctx, validated_txn, &v);
}

/* Finalize */

/* "type:value", for comparing names as sets. */
static char *
tagged(const char *type, const char *value)
{
	char *s;

	if (asprintf(&s, "%s:%s", type, value) < 0)
		return NULL;
	return s;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

struct finalize_op {
	struct prob	 p;
	struct acme_ctx	*ctx;
	const char	*id;
	struct json_object *order;
	char		 cert_id[ACME_ID_LEN + 1];
};

/*
 * The CSR's names as a set against the order's identifiers: its DNS and
 * IP subject alternative names and its CN (RFC 8555 7.4). *cn gets the
 * identifier the CN is (NULL: no CN). A refusal is set in p.
 */
static int
csr_names_check(struct acme_ctx *ctx, struct finalize_op *op,
    gnutls_x509_crq_t crq, struct json_object *idents, char **cn)
{
	struct ca_names got;
	struct ident id;
	char **have = NULL, **want = NULL, buf[IDENT_MAX + 2], why[160];
	char ev[2 * IDENT_MAX + 8];
	size_t nh = 0, nw = 0, i, j, size;
	int ret, rc, c;

	*cn = NULL;
	memset(&got, 0, sizeof(got));
	if ((rc = ca_csr_names(crq, ctx->a->cfg->max_sans, &got)) != 0) {
		rc = rc == CA_ERR_NOMEM ? rc : prob_set(&op->p, 400, "badCSR",
		    "%s", ca_errmsg());
		goto out;
	}
	if (got.n_email > 0 || got.n_uri > 0) {
		rc = prob_set(&op->p, 400, "badCSR", "the CSR has e-mail or URI "
		    "names: an ACME certificate has dns and ip names only");
		goto out;
	}
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((have = calloc(got.n_dns + got.n_ip + 1, sizeof(*have))) == NULL)
		goto out;
	for (i = 0; i < got.n_dns; i++) {
		for (j = 0; got.dns[i][j] != '\0'; j++)
			if (got.dns[i][j] >= 'A' && got.dns[i][j] <= 'Z')
				got.dns[i][j] += 32;
		if ((have[nh++] = tagged("dns", got.dns[i])) == NULL)
			goto out;
	}
	for (i = 0; i < got.n_ip; i++)
		if ((have[nh++] = tagged("ip", got.ip[i])) == NULL)
			goto out;
	/* The CN: at most one, and one of the identifiers. */
	size = sizeof(buf) - 1;
	ret = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 0, buf, &size);
	if (ret >= 0) {
		size_t s2 = 0;
		buf[size] = '\0';
		if (strlen(buf) != size || gnutls_x509_crq_get_dn_by_oid(crq,
		    GNUTLS_OID_X520_COMMON_NAME, 1, 0, NULL, &s2) !=
		    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
			rc = prob_set(&op->p, 400, "badCSR", "the CSR has more "
			    "than one common name, or one with a NUL");
			goto out;
		}
		if (strlen(buf) > CA_CN_MAX) {
			rc = prob_set(&op->p, 400, "badCSR", "the CSR's common "
			    "name is longer than %d characters (RFC 5280): "
			    "leave it out", CA_CN_MAX);
			goto out;
		}
		memset(&id, 0, sizeof(id));
		if (ip_normalize(buf, &id, why, sizeof(why)) == 0)
			snprintf(id.type, sizeof(id.type), "ip");
		else if (dns_normalize(buf, &id, why, sizeof(why)) == 0)
			snprintf(id.type, sizeof(id.type), "dns");
		else {
			rc = prob_set(&op->p, 400, "badCSR", "the CSR's common "
			    "name \"%s\" is not one of the order's identifiers",
			    esc(ev, sizeof(ev), buf));
			goto out;
		}
		if ((*cn = strdup(id.value)) == NULL ||
		    (have[nh++] = tagged(id.type, id.value)) == NULL)
			goto out;
	} else if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE &&
	    ret != GNUTLS_E_SHORT_MEMORY_BUFFER) {
		rc = prob_set(&op->p, 400, "badCSR", "CSR common name: %s",
		    gnutls_strerror(ret));
		goto out;
	} else if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER) {
		rc = prob_set(&op->p, 400, "badCSR", "the CSR's common name is "
		    "longer than %d characters", IDENT_MAX);
		goto out;
	}
	nw = json_object_array_length(idents);
	if ((want = calloc(nw + 1, sizeof(*want))) == NULL)
		goto out;
	for (i = 0; i < nw; i++) {
		struct json_object *e = json_object_array_get_idx(idents, i);
		if ((want[i] = tagged(str_of(e, "type"),
		    str_of(e, "value"))) == NULL)
			goto out;
	}
	if (*cn != NULL) {
		char *t = have[nh - 1];
		for (i = 0; i < nw && strcmp(want[i], t) != 0; i++)
			;
		if (i == nw) {
			rc = prob_set(&op->p, 400, "badCSR", "the CSR's common "
			    "name \"%s\" is not one of the order's identifiers",
			    esc(ev, sizeof(ev), buf));
			goto out;
		}
	}
	/* As sets: sorted, duplicates skipped, walked together. */
	qsort(have, nh, sizeof(*have), by_str);
	qsort(want, nw, sizeof(*want), by_str);
	for (i = j = 0; i < nh || j < nw;) {
		c = i == nh ? 1 : j == nw ? -1 : strcmp(have[i], want[j]);
		if (c < 0) {
			rc = prob_set(&op->p, 400, "badCSR", "the CSR names %s, "
			    "which is not one of the order's identifiers",
			    esc(ev, sizeof(ev), have[i]));
			goto out;
		}
		if (c > 0) {
			rc = prob_set(&op->p, 400, "badCSR", "the CSR lacks %s, "
			    "which the order names", want[j]);
			goto out;
		}
		for (i++; i < nh && strcmp(have[i - 1], have[i]) == 0; i++)
			;
		j++;
	}
	rc = 0;
out:
	if (rc != 0) {
		free(*cn);
		*cn = NULL;
	}
	free_strs(have, nh);
	free_strs(want, nw);
	ca_names_free(&got);
	return rc;
}

/*
 * The CSR of the payload: base64url DER within CA_MAX_CSR, a key that
 * passes the CA's checks (badPublicKey) and is not the account's, a
 * signature that verifies. *crq and *pub are the caller's.
 */
static int
csr_parse(struct acme_ctx *ctx, struct prob *p, gnutls_x509_crq_t *crq,
    gnutls_pubkey_t *pub)
{
	unsigned char *der = NULL;
	gnutls_datum_t d;
	const char *s;
	size_t len;
	int ret, rc, same;

	*crq = NULL;
	*pub = NULL;
	if (ca_json_string(ctx->payload, "csr", 0, &s) != 0)
		return prob_set(p, 400, "malformed", "finalize needs \"csr\": "
		    "the CSR in base64url DER");
	if (strlen(s) > CSR_B64_MAX)
		return prob_set(p, 400, "badCSR", "the CSR is larger than %d "
		    "bytes", CA_MAX_CSR);
	if ((rc = ca_b64url_decode(s, strlen(s), &der, &len)) != 0) {
		if (rc == CA_ERR_NOMEM)
			return rc;
		return prob_set(p, 400, "badCSR", "\"csr\" is not base64url");
	}
	d.data = der;
	d.size = (unsigned)len;
	if ((ret = gnutls_x509_crq_init(crq)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "CSR: %s", gnutls_strerror(ret));
		goto out;
	}
	if ((ret = gnutls_x509_crq_import(*crq, &d, GNUTLS_X509_FMT_DER)) < 0) {
		rc = prob_set(p, 400, "badCSR", "cannot parse the CSR: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((ret = gnutls_pubkey_init(pub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509_crq(*pub, *crq, 0)) < 0) {
		rc = prob_set(p, 400, "badPublicKey", "the CSR's public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if (ca_key_check(*pub, "the CSR's key") != 0) {
		rc = prob_set(p, 400, "badPublicKey", "%s", ca_errmsg());
		goto out;
	}
	if (ca_csr_check_signature(*crq) != 0) {
		rc = prob_set(p, 400, "badCSR", "%s", ca_errmsg());
		goto out;
	}
	if (gnutls_x509_crq_verify(*crq, 0) < 0) {
		rc = prob_set(p, 400, "badCSR", "the CSR's signature does not "
		    "verify");
		goto out;
	}
	if ((same = ca_pubkey_same(*pub, ca_jwk_pubkey(ctx->acct->key))) < 0) {
		rc = same;
		goto out;
	}
	if (same) {
		rc = prob_set(p, 400, "badCSR", "the CSR's key is the account "
		    "key: certify another key");
		goto out;
	}
	rc = 0;
out:
	free(der);
	if (rc != 0) {
		if (*crq != NULL)
			gnutls_x509_crq_deinit(*crq);
		gnutls_pubkey_deinit(*pub);
		*crq = NULL;
		*pub = NULL;
	}
	return rc;
}

static int
finalize_read(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct finalize_op *op = arg;
	struct read_op r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.id = op->id;
	r.kind = "order";
	rc = read_owned(ctx, st, &r, K_ORDER);
	op->order = r.obj;
	op->p = r.p;
	return rc;
}

/* Whether order o may be finalized now; else the refusal in p. */
static int
finalizable(struct acme_ctx *ctx, struct prob *p, const char *id,
    struct json_object *o)
{
	const char *s = order_status(o, ctx->now);

	if (strcmp(s, "ready") == 0)
		return 0;
	return prob_set(p, 403, "orderNotReady", "order %s is %s%s", id, s,
	    strcmp(s, "pending") == 0 ? ": not all its authorizations are "
	    "valid yet" : strcmp(str_of(o, "status"), s) != 0 ?
	    " (expired)" : ": it is not finalized again");
}

/*
 * Run in the transaction that records the certificate (struct
 * ca_issuance's also): the order, still ready, becomes valid with it,
 * and its download record is made.
 */
static int
finalize_also(struct ca_store *st, const struct ca_issuance *is, void *arg)
{
	struct finalize_op *op = arg;
	struct acme_ctx *ctx = op->ctx;
	struct json_object *o = NULL, *c = NULL;
	int rc;

	/* A key change or deactivation committed meanwhile stops it. */
	if ((rc = acme_account_recheck(ctx, st)) != 0)
		return rc;
	if ((rc = get_rec(st, K_ORDER, op->id, &o)) != 0)
		return rc == CA_ERR_NOTFOUND ? ca_err(CA_ERR_STORE,
		    "order %s vanished", op->id) : rc;
	if ((rc = finalizable(ctx, &op->p, op->id, o)) != 0)
		goto out;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if (set_str(o, "status", "valid") != 0 ||
	    set_str(o, "certificate", op->cert_id) != 0 ||
	    (c = json_object_new_object()) == NULL ||
	    set_str(c, "serial", is->serial) != 0 ||
	    set_str(c, "order", op->id) != 0 ||
	    set_str(c, "account", ctx->acct->id) != 0)
		goto out;
	if ((rc = put_rec(st, K_ORDER, op->id, o, 0)) != 0 ||
	    (rc = put_rec(st, K_CERT, op->cert_id, c, 1)) != 0)
		goto out;
	json_object_put(op->order);
	op->order = o;
	o = NULL;
	rc = 0;
out:
	json_object_put(o);
	json_object_put(c);
	return rc;
}

/*
 * The leaf's subject CN: the CSR's (as the identifier it is), else with
 * forceCN the first dns identifier that fits in a CN, else none.
 */
static const char *
leaf_cn(const struct acme_ctx *ctx, const char *csr_cn,
    const struct ca_names *names)
{
	size_t i;

	if (csr_cn != NULL)
		return csr_cn;
	/* A CN holds 64 characters at most (RFC 5280 ub-common-name). */
	for (i = 0; force_cn(ctx) && i < names->n_dns; i++)
		if (strlen(names->dns[i]) <= CA_CN_MAX)
			return names->dns[i];
	return NULL;
}

/* The order's identifiers as typed names (borrowed strings). */
static int
order_names(struct json_object *idents, struct ca_names *nm)
{
	size_t i, n = json_object_array_length(idents);

	memset(nm, 0, sizeof(*nm));
	if ((nm->dns = calloc(n + 1, sizeof(char *))) == NULL ||
	    (nm->ip = calloc(n + 1, sizeof(char *))) == NULL) {
		free(nm->dns);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(idents, i);
		const char *v = str_of(e, "value");
		if (strcmp(str_of(e, "type"), "ip") == 0)
			nm->ip[nm->n_ip++] = (char *)(uintptr_t)v;
		else
			nm->dns[nm->n_dns++] = (char *)(uintptr_t)v;
	}
	return 0;
}

int
acme_finalize(struct acme_ctx *ctx, const char *id)
{
	struct finalize_op op;
	struct ca_issuance_extra ex;
	struct ca_sign_req sr;
	struct ca_names names;
	struct ca_certtmpl_cert *tc = NULL;
	struct json_object *idents;
	gnutls_x509_crq_t crq = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	char *serial = NULL, *cn = NULL;
	time_t nb, na;
	int rc;

	memset(&op, 0, sizeof(op));
	memset(&names, 0, sizeof(names));
	op.ctx = ctx;
	op.id = id;
	if (want_object(ctx, "finalize"))
		return 0;
	/* 1. The order: this account's, and ready. */
	if ((rc = acme_read(ctx, finalize_read, &op)) != 0 ||
	    (rc = finalizable(ctx, &op.p, id, op.order)) != 0)
		goto out;
	if (ca_json_array(op.order, "identifiers", 0, &idents) != 0) {
		rc = ca_err(CA_ERR_STORE, "order %s has no identifiers", id);
		goto out;
	}
	/* 2. The CSR: its key, its signature, its names. */
	if ((rc = csr_parse(ctx, &op.p, &crq, &pub)) != 0 ||
	    (rc = csr_names_check(ctx, &op, crq, idents, &cn)) != 0)
		goto out;
	/* 3. The leaf, made of the order's identifiers, within the claims
	 * from now, recorded with the order's new state in one commit. */
	memset(&sr, 0, sizeof(sr));
	sr.not_before = int_of(op.order, "notBefore");
	sr.not_after = int_of(op.order, "notAfter");
	if ((rc = order_names(idents, &names)) != 0 ||
	    (rc = acme_new_id(op.cert_id)) != 0)
		goto out;
	if (ca_policy_check_leaf(ctx->a->cfg, ctx->prov, leaf_cn(ctx, cn,
	    &names), &names) != 0) {	/* tightened since newOrder? */
		rc = prob_set(&op.p, 403, "rejectedIdentifier", "%s",
		    ca_errmsg());
		goto out;
	}
	/* The provisioner's template, on the order's names (lib/certtmpl.h). */
	if (ctx->prov->x509_tmpl != NULL) {
		struct ca_certtmpl_in in = { leaf_cn(ctx, cn, &names), &names,
		    pub, NULL, 0, NULL, NULL, 0 };

		if ((rc = ca_local_template_leaf(ctx->a, ctx->prov, &in, &sr,
		    &tc)) != 0) {
			if (rc == CA_ERR_FORBIDDEN)
				rc = prob_set(&op.p, 403, "rejectedIdentifier",
				    "%s", ca_errmsg());
			goto out;
		}
	}
	if (ca_local_validity(ctx->a, ctx->prov, &sr, ctx->now, &nb, &na) != 0) {
		rc = prob_set(&op.p, 403, "orderNotReady", "order %s: %s", id,
		    ca_errmsg());
		goto out;
	}
	{
		struct ca_leaf leaf = { leaf_cn(ctx, cn, &names), &names, pub,
		    nb, na, ctx->a->cfg->crl_url, ctx->a->cfg->ocsp_url, 0, NULL,
		    NULL, NULL };

		if (tc != NULL) {
			leaf.cn = tc->cn;
			leaf.names = &tc->names;
			leaf.profile = &tc->profile;
		}

		memset(&ex, 0, sizeof(ex));
		ex.acme_account = ctx->acct->id;
		ex.acme_order = id;
		ex.also = finalize_also;
		ex.also_arg = &op;
		rc = ca_local_issue_and_record_ex(ctx->a, ctx->prov, &leaf,
		    NULL, 0, ctx->now, &ex, &pem, &serial);
	}
	if (rc != 0)
		goto out;
	ca_debug("acme: order %s: certificate %s issued", id, serial);
	if ((rc = order_location(ctx, id)) != 0)
		goto out;
	rc = reply(ctx, 200, order_json(ctx, id, op.order));
out:
	if (rc != 0)
		rc = answer_error(ctx, &op.p, rc);
	json_object_put(op.p.sub);
	json_object_put(op.order);
	ca_certtmpl_cert_free(tc);
	free(names.dns);
	free(names.ip);
	if (crq != NULL)
		gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pub);
	gnutls_free(pem.data);
	free(serial);
	free(cn);
	return rc;
}

/* Certificates */

struct cert_op {
	struct prob	 p;
	const char	*id;
	unsigned char	*der;
	size_t		 len;
};

static int
cert_read(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct cert_op *op = arg;
	struct read_op r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.id = op->id;
	r.kind = "certificate";
	if ((rc = read_owned(ctx, st, &r, K_CERT)) == 0)
		rc = ca_db_get_cert(st, str_of(r.obj, "serial"), &op->der,
		    &op->len);
	op->p = r.p;
	json_object_put(r.obj);
	return rc;
}

int
acme_certificate(struct acme_ctx *ctx, const char *id)
{
	struct cert_op op;
	struct ca_acme_resp *r = ctx->resp;
	gnutls_datum_t d, pem = { NULL, 0 };
	char *body;
	int ret, rc;

	if (want_empty(ctx, "a certificate"))
		return 0;
	memset(&op, 0, sizeof(op));
	op.id = id;
	if ((rc = acme_read(ctx, cert_read, &op)) != 0) {
		rc = answer_error(ctx, &op.p, rc);
		goto out;
	}
	d.data = op.der;
	d.size = (unsigned)op.len;
	if ((ret = gnutls_pem_base64_encode2("CERTIFICATE", &d, &pem)) < 0) {
		rc = ca_err(ret == GNUTLS_E_MEMORY_ERROR ? CA_ERR_NOMEM :
		    CA_ERR_CRYPTO, "PEM: %s", gnutls_strerror(ret));
		goto out;
	}
	/* The leaf, then the intermediate (RFC 8555 7.4.2). */
	if ((body = malloc(pem.size + ctx->a->crt_pem.size + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(body, pem.data, pem.size);
	memcpy(body + pem.size, ctx->a->crt_pem.data, ctx->a->crt_pem.size);
	body[pem.size + ctx->a->crt_pem.size] = '\0';
	free(r->body);
	r->status = 200;
	r->content_type = "application/pem-certificate-chain";
	r->body = body;
	r->body_len = pem.size + ctx->a->crt_pem.size;
out:
	json_object_put(op.p.sub);
	free(op.der);
	gnutls_free(pem.data);
	return rc;
}

/* Revocation */

/*
 * Who may revoke (RFC 8555 7.6): the account that ordered the
 * certificate (kid), or the holder of its key (jwk).
 */
struct revoker_op {
	struct prob	*p;
	const char	*serial;
};

static int
revoker_read(struct acme_ctx *ctx, struct ca_store *st, void *arg)
{
	struct revoker_op *op = arg;
	struct prob *p = op->p;
	const char *serial = op->serial;
	struct ca_cert_info ci;
	int rc;

	rc = ca_db_get(st, serial, &ci);
	if (rc == CA_ERR_NOTFOUND)
		return prob_set(p, 403, "unauthorized", "certificate %s is not "
		    "recorded by this CA", serial);
	if (rc != 0)
		return rc;
	if (ci.revoked)
		rc = prob_set(p, 400, "alreadyRevoked", "certificate %s is "
		    "already revoked", serial);
	else if (ci.acme_account == NULL ||
	    strcmp(ci.acme_account, ctx->acct->id) != 0)
		rc = prob_set(p, 403, "unauthorized", "certificate %s was not "
		    "ordered by this account: revoke it with its key", serial);
	ca_cert_info_free(&ci);
	return rc;
}

int
acme_revoke_cert(struct acme_ctx *ctx)
{
	struct ca_revoke_req req;
	struct prob p;
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	unsigned char *der = NULL;
	const char *s;
	char *serial = NULL, *done = NULL, by[64];
	size_t len;
	int64_t reason = CA_REASON_NONE;
	int rc, ret, same;

	memset(&p, 0, sizeof(p));
	if (want_object(ctx, "revokeCert"))
		return 0;
	/* 1. The certificate, one of ours, and the reason. */
	if (ca_json_string(ctx->payload, "certificate", 0, &s) != 0) {
		rc = prob_set(&p, 400, "malformed", "revokeCert needs "
		    "\"certificate\": base64url DER");
		goto out;
	}
	if (strlen(s) > CERT_B64_MAX) {
		rc = prob_set(&p, 400, "malformed", "the certificate is larger "
		    "than %d bytes", CA_MAX_CERT);
		goto out;
	}
	if ((rc = ca_b64url_decode(s, strlen(s), &der, &len)) != 0 ||
	    (rc = ca_x509_import(der, len, &crt)) != 0) {
		if (rc != CA_ERR_NOMEM)
			rc = prob_set(&p, 400, "malformed", "\"certificate\" "
			    "is not a base64url DER certificate");
		goto out;
	}
	rc = ca_json_int64(ctx->payload, "reason", 0, &reason);
	if (rc == CA_ERR_INVAL || (rc == 0 && (reason < 0 || reason > 10 ||
	    reason == 7))) {
		rc = prob_set(&p, 400, "badRevocationReason", "reason must be "
		    "an RFC 5280 reason code, 0 to 10 but 7");
		goto out;
	}
	if (!ca_local_issued_here(ctx->a, crt)) {
		rc = prob_set(&p, 403, "unauthorized", "the certificate was not "
		    "issued by this CA");
		goto out;
	}
	if ((rc = ca_local_serial_of(crt, &serial)) != 0)
		goto out;
	/* 2. Who asks. */
	if (ctx->jwk != NULL) {
		if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
		    (ret = gnutls_pubkey_import_x509(pub, crt, 0)) < 0) {
			rc = ca_err(CA_ERR_CRYPTO, "certificate key: %s",
			    gnutls_strerror(ret));
			goto out;
		}
		if ((same = ca_pubkey_same(pub, ca_jwk_pubkey(ctx->jwk))) < 0) {
			rc = same;
			goto out;
		}
		if (!same) {
			rc = prob_set(&p, 403, "unauthorized", "the request is "
			    "signed neither by the certificate's key nor by "
			    "an account");
			goto out;
		}
		snprintf(by, sizeof(by), "acme certificate key");
	} else if (ctx->acct != NULL) {
		struct revoker_op ro = { &p, serial };
		if ((rc = acme_read(ctx, revoker_read, &ro)) != 0)
			goto out;
		snprintf(by, sizeof(by), "acme account %s", ctx->acct->id);
	} else {
		rc = prob_set(&p, 403, "unauthorized", "revokeCert is signed "
		    "by an account (kid) or the certificate's key (jwk)");
		goto out;
	}
	/* 3. The CA's revocation: recorded, then in CRL and OCSP. */
	memset(&req, 0, sizeof(req));
	req.serial = serial;
	req.reason = (int)reason;
	req.trusted = 1;
	req.by = by;
	rc = ca_local_revoke(ctx->a->pub, &req, &done);
	if (rc == CA_ERR_EXISTS)
		rc = prob_set(&p, 400, "alreadyRevoked", "certificate %s is "
		    "already revoked", serial);
	else if (rc == CA_ERR_NOTFOUND)
		rc = prob_set(&p, 403, "unauthorized", "certificate %s is not "
		    "recorded by this CA", serial);
	if (rc != 0)
		goto out;
	ca_debug("acme: certificate %s revoked by %s", serial, by);
	free(ctx->resp->body);
	ctx->resp->body = NULL;
	ctx->resp->body_len = 0;
	ctx->resp->content_type = NULL;
	ctx->resp->status = 200;
out:
	if (rc != 0)
		rc = answer_error(ctx, &p, rc);
	json_object_put(p.sub);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	free(der);
	free(serial);
	free(done);
	return rc;
}
