/*
 * db.c - the CA's records in the store (see db.h for the keys).
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

#include "ca.h"
#include "conf.h"
#include "db.h"
#include "json.h"
#include "store.h"
#include "x509.h"

#define K_CERT	"x509_certs/"
#define K_DATA	"x509_certs_data/"
#define K_OTT	"used_ott/"
#define K_REV	"revoked_x509_certs/"
#define K_CRLNUM "crl/number"
#define K_CRLDER "crl/der"
#define K_CRLINFO "crl/info"

static int
key_of(char *buf, size_t len, const char *prefix, const char *a,
    const char *b)
{
	int n = b != NULL ? snprintf(buf, len, "%s%s.%s", prefix, a, b) :
	    snprintf(buf, len, "%s%s", prefix, a);

	if (n < 0 || (size_t)n >= len)
		return ca_err(CA_ERR_INVAL, "record key too long");
	return 0;
}

/* 0 when serial (NULL: none) is not revoked, else CA_ERR_AUTH. */
static int
check_unrevoked(struct ca_store *st, const char *serial)
{
	char kr[128];
	int rc;

	if (serial == NULL)
		return 0;
	if ((rc = key_of(kr, sizeof(kr), K_REV, serial, NULL)) != 0)
		return rc;
	rc = ca_store_get(st, kr, NULL, NULL);
	if (rc == 0)
		return ca_err(CA_ERR_AUTH, "certificate %s is revoked", serial);
	return rc == CA_ERR_NOTFOUND ? 0 : rc;
}

int
ca_db_add_issuance(struct ca_store *st, const struct ca_issuance *is)
{
	char kc[128], kd[128], ko[512], *data = NULL, *ott = NULL;
	struct json_object *d = NULL, *p = NULL, *o = NULL, *ac = NULL;
	size_t mark;
	int rc;

	if ((rc = key_of(kc, sizeof(kc), K_CERT, is->serial, NULL)) != 0 ||
	    (rc = key_of(kd, sizeof(kd), K_DATA, is->serial, NULL)) != 0 ||
	    (is->jti != NULL &&
	    (rc = key_of(ko, sizeof(ko), K_OTT, is->ott_scope != NULL ?
	    is->ott_scope : is->prov->kid, is->jti)) != 0))
		return rc;
	if (is->jti != NULL) {
		rc = ca_store_get(st, ko, NULL, NULL);
		if (rc == 0)
			return ca_err(CA_ERR_REPLAY, "token already used (jti %s)",
			    is->jti);
		if (rc != CA_ERR_NOTFOUND)
			return rc;
	}
	rc = ca_store_get(st, kc, NULL, NULL);
	if (rc == 0)
		return CA_ERR_EXISTS;	/* a serial collision: the caller retries */
	if (rc != CA_ERR_NOTFOUND)
		return rc;
	/* Checked in the transaction that records the renewal (or the X5C
	 * issuance): a revocation acknowledged before it always wins. */
	if ((rc = check_unrevoked(st, is->renewed_from)) != 0 ||
	    (rc = check_unrevoked(st, is->check_unrevoked)) != 0)
		return rc;

	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((d = json_object_new_object()) == NULL ||
	    (p = json_object_new_object()) == NULL ||
	    (o = json_object_new_object()) == NULL)
		goto out;
	/* A JWK provisioner's key id; issue 13's types their token scope
	 * (where ca_db_check finds the used token); ACME none. */
	if (is->prov->kid != NULL)
		json_object_object_add(p, "id",
		    json_object_new_string(is->prov->kid));
	else if (is->ott_scope != NULL && is->jti != NULL &&
	    is->prov->kind != CA_PROV_ACME && is->prov->kind != CA_PROV_OTHER)
		json_object_object_add(p, "id",
		    json_object_new_string(is->ott_scope));
	json_object_object_add(p, "name", json_object_new_string(is->prov->name));
	json_object_object_add(p, "type", json_object_new_string(is->prov->type));
	json_object_object_add(d, "provisioner", p);
	p = NULL;
	if (is->acme_account != NULL) {
		if ((ac = json_object_new_object()) == NULL)
			goto out;
		json_object_object_add(ac, "account",
		    json_object_new_string(is->acme_account));
		if (is->acme_order != NULL)
			json_object_object_add(ac, "order",
			    json_object_new_string(is->acme_order));
		json_object_object_add(d, "acme", ac);
		ac = NULL;
	}
	if (is->jti != NULL)
		json_object_object_add(d, "jti", json_object_new_string(is->jti));
	json_object_object_add(d, "issuedAt", json_object_new_int64(is->issued_at));
	if (is->renewed_from != NULL)
		json_object_object_add(d, "renewedFrom",
		    json_object_new_string(is->renewed_from));
	if (is->identity != NULL)
		json_object_object_add(d, "identity",
		    json_object_new_string(is->identity));
	json_object_object_add(o, "serial", json_object_new_string(is->serial));
	json_object_object_add(o, "provisioner",
	    json_object_new_string(is->prov->name));
	json_object_object_add(o, "exp", json_object_new_int64(is->token_exp));
	json_object_object_add(o, "usedAt", json_object_new_int64(is->issued_at));
	if ((data = ca_json_dump(d)) == NULL || (ott = ca_json_dump(o)) == NULL)
		goto out;
	mark = ca_store_savepoint(st);
	if ((rc = ca_store_put(st, kc, is->der, is->der_len, 1)) != 0 ||
	    (rc = ca_store_put(st, kd, data, strlen(data), 0)) != 0 ||
	    (is->jti != NULL &&
	    (rc = ca_store_put(st, ko, ott, strlen(ott), 1)) != 0) ||
	    (is->also != NULL && (rc = is->also(st, is, is->also_arg)) != 0)) {
		ca_store_rollback(st, mark);
		goto out;
	}
	rc = 0;
out:
	json_object_put(d);
	json_object_put(p);
	json_object_put(o);
	json_object_put(ac);
	free(data);
	free(ott);
	return rc;
}

void
ca_cert_info_free(struct ca_cert_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->serial);
	free(ci->subject);
	ca_names_free(&ci->names);
	free(ci->provisioner);
	free(ci->jti);
	free(ci->der);
	free(ci->reason_text);
	free(ci->renewed_from);
	free(ci->identity);
	free(ci->acme_account);
	free(ci->acme_order);
	memset(ci, 0, sizeof(*ci));
}

const char *
ca_cert_info_status(const struct ca_cert_info *ci, time_t now)
{
	if (ci->revoked)
		return "revoked";
	return ci->not_after < now ? "expired" : "valid";
}

/* Fill ci from a certificate record and its data record. */
static int
fill_info(struct ca_store *st, const char *serial, const unsigned char *der,
    size_t len, struct ca_cert_info *ci)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = { NULL, 0 };
	struct json_object *d = NULL, *p;
	unsigned char *data = NULL;
	char kd[128];
	const char *s;
	size_t dlen;
	int64_t v;
	int rc;

	memset(ci, 0, sizeof(*ci));
	if ((ci->serial = strdup(serial)) == NULL ||
	    (ci->der = malloc(len ? len : 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(ci->der, der, len);
	ci->der_len = len;
	if ((rc = ca_x509_import(der, len, &crt)) != 0) {
		ca_err_context("certificate %s", serial);
		goto out;
	}
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0)
		ci->subject = strdup("");
	else
		ci->subject = strdup((char *)dn.data);
	gnutls_free(dn.data);
	ci->not_before = gnutls_x509_crt_get_activation_time(crt);
	ci->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if ((rc = ca_x509_names(crt, &ci->names)) != 0)
		goto out;
	rc = ca_db_get_revocation(st, serial, &ci->reason, &ci->revoked_at,
	    &ci->reason_text);
	if (rc == 0)
		ci->revoked = 1;
	else if (rc != CA_ERR_NOTFOUND)
		goto out;
	if ((rc = key_of(kd, sizeof(kd), K_DATA, serial, NULL)) != 0)
		goto out;
	rc = ca_store_get(st, kd, &data, &dlen);
	if (rc == CA_ERR_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = ca_json_parse((char *)data, dlen, kd, &d)) != 0)
		goto out;
	if (ca_json_object(d, "provisioner", 0, &p) == 0 &&
	    ca_json_string(p, "name", 0, &s) == 0 &&
	    (ci->provisioner = strdup(s)) == NULL)
		goto nomem;
	if (ca_json_string(d, "jti", 0, &s) == 0 &&
	    (ci->jti = strdup(s)) == NULL)
		goto nomem;
	if (ca_json_int64(d, "issuedAt", 0, &v) == 0)
		ci->issued_at = (time_t)v;
	if (ca_json_string(d, "renewedFrom", 0, &s) == 0 &&
	    (ci->renewed_from = strdup(s)) == NULL)
		goto nomem;
	if (ca_json_string(d, "identity", 0, &s) == 0 &&
	    (ci->identity = strdup(s)) == NULL)
		goto nomem;
	if (ca_json_object(d, "acme", 0, &p) == 0) {
		if (ca_json_string(p, "account", 0, &s) == 0 &&
		    (ci->acme_account = strdup(s)) == NULL)
			goto nomem;
		if (ca_json_string(p, "order", 0, &s) == 0 &&
		    (ci->acme_order = strdup(s)) == NULL)
			goto nomem;
	}
	if (ci->subject == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	json_object_put(d);
	free(data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (rc != 0)
		ca_cert_info_free(ci);
	return rc;
}

struct list_ctx {
	struct ca_store		*st;
	struct ca_cert_info	*v;
	size_t			 n, cap;
};

static int
list_one(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct list_ctx *c = arg;
	struct ca_cert_info *nv;
	int rc;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		if ((nv = reallocarray(c->v, ncap, sizeof(*nv))) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		c->v = nv;
		c->cap = ncap;
	}
	if ((rc = fill_info(c->st, key + strlen(K_CERT), val, len,
	    &c->v[c->n])) != 0)
		return rc;
	c->n++;
	return 0;
}

static int
by_time(const void *a, const void *b)
{
	const struct ca_cert_info *x = a, *y = b;

	if (x->not_before != y->not_before)
		return x->not_before < y->not_before ? -1 : 1;
	return strcmp(x->serial, y->serial);
}

int
ca_db_list(struct ca_store *st, struct ca_cert_info **out, size_t *n)
{
	struct list_ctx c = { st, NULL, 0, 0 };
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = ca_store_foreach(st, K_CERT, list_one, &c)) != 0) {
		for (i = 0; i < c.n; i++)
			ca_cert_info_free(&c.v[i]);
		free(c.v);
		return rc;
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), by_time);
	*out = c.v;
	*n = c.n;
	return 0;
}

int
ca_db_get(struct ca_store *st, const char *serial, struct ca_cert_info *out)
{
	unsigned char *der;
	char kc[128];
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = key_of(kc, sizeof(kc), K_CERT, serial, NULL)) != 0)
		return rc;
	rc = ca_store_get(st, kc, &der, &len);
	if (rc == CA_ERR_NOTFOUND)
		return ca_err(CA_ERR_NOTFOUND, "no certificate with serial %s",
		    serial);
	if (rc != 0)
		return rc;
	rc = fill_info(st, serial, der, len, out);
	free(der);
	return rc;
}

int
ca_db_add_revocation(struct ca_store *st, const struct ca_revocation *r)
{
	struct json_object *o;
	char kc[128], kr[128], *v;
	int rc;

	if ((rc = key_of(kc, sizeof(kc), K_CERT, r->serial, NULL)) != 0 ||
	    (rc = key_of(kr, sizeof(kr), K_REV, r->serial, NULL)) != 0)
		return rc;
	rc = ca_store_get(st, kc, NULL, NULL);
	if (rc == CA_ERR_NOTFOUND)
		return ca_err(CA_ERR_NOTFOUND, "no certificate with serial %s",
		    r->serial);
	if (rc != 0)
		return rc;
	rc = ca_store_get(st, kr, NULL, NULL);
	if (rc == 0)
		return ca_err(CA_ERR_EXISTS, "certificate %s is already revoked",
		    r->serial);
	if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_object_add(o, "reasonCode", json_object_new_int(r->reason));
	if (r->reason_text != NULL)
		json_object_object_add(o, "reason",
		    json_object_new_string(r->reason_text));
	json_object_object_add(o, "revokedAt", json_object_new_int64(r->revoked_at));
	json_object_object_add(o, "by", json_object_new_string(r->by ? r->by : ""));
	v = ca_json_dump(o);
	json_object_put(o);
	if (v == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = ca_store_put(st, kr, v, strlen(v), 1);
	free(v);
	return rc;
}

static int
parse_revocation(const char *key, const unsigned char *val, size_t len,
    int *reason, time_t *at, char **text)
{
	struct json_object *o;
	const char *s;
	int64_t v;
	int rc;

	if ((rc = ca_json_parse((const char *)val, len, key, &o)) != 0)
		return rc;
	*reason = -1;
	*at = 0;
	if (ca_json_int64(o, "reasonCode", 0, &v) == 0)
		*reason = (int)v;
	if (ca_json_int64(o, "revokedAt", 0, &v) == 0)
		*at = (time_t)v;
	if (text != NULL) {
		*text = NULL;
		if (ca_json_string(o, "reason", 0, &s) == 0 &&
		    (*text = strdup(s)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
	json_object_put(o);
	return rc;
}

int
ca_db_get_revocation(struct ca_store *st, const char *serial, int *reason,
    time_t *revoked_at, char **reason_text)
{
	unsigned char *val;
	char kr[128];
	size_t len;
	int rc;

	if (reason_text != NULL)
		*reason_text = NULL;
	if ((rc = key_of(kr, sizeof(kr), K_REV, serial, NULL)) != 0)
		return rc;
	if ((rc = ca_store_get(st, kr, &val, &len)) != 0)
		return rc;
	rc = parse_revocation(kr, val, len, reason, revoked_at, reason_text);
	free(val);
	return rc;
}

struct rev_ctx {
	int	(*fn)(void *, const char *, time_t, int);
	void	*arg;
};

static int
each_revocation(void *arg, const char *key, const unsigned char *val,
    size_t len)
{
	struct rev_ctx *c = arg;
	time_t at;
	int reason, rc;

	if ((rc = parse_revocation(key, val, len, &reason, &at, NULL)) != 0)
		return rc;
	return c->fn(c->arg, key + strlen(K_REV), at, reason);
}

int
ca_db_foreach_revocation(struct ca_store *st,
    int (*fn)(void *, const char *, time_t, int), void *arg)
{
	struct rev_ctx c = { fn, arg };

	return ca_store_foreach(st, K_REV, each_revocation, &c);
}

int
ca_db_use_token(struct ca_store *st, const char *kid, const char *jti,
    const char *provisioner, const char *serial, int64_t exp, time_t now)
{
	struct json_object *o;
	char ko[512], *v;
	int rc;

	if ((rc = key_of(ko, sizeof(ko), K_OTT, kid, jti)) != 0)
		return rc;
	rc = ca_store_get(st, ko, NULL, NULL);
	if (rc == 0)
		return ca_err(CA_ERR_REPLAY, "token already used (jti %s)", jti);
	if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((o = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_object_add(o, "serial", json_object_new_string(serial));
	json_object_object_add(o, "provisioner", json_object_new_string(provisioner));
	json_object_object_add(o, "exp", json_object_new_int64(exp));
	json_object_object_add(o, "usedAt", json_object_new_int64(now));
	json_object_object_add(o, "use", json_object_new_string("revoke"));
	v = ca_json_dump(o);
	json_object_put(o);
	if (v == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = ca_store_put(st, ko, v, strlen(v), 1);
	free(v);
	return rc;
}

int
ca_db_crl_number(struct ca_store *st, uint64_t *number)
{
	unsigned char *val = NULL;
	unsigned long long v;
	char *end;
	size_t len;
	int rc;

	*number = 0;
	if ((rc = ca_store_get(st, K_CRLNUM, &val, &len)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	v = strtoull((char *)val, &end, 10);
	rc = *end != '\0' || len == 0 ?
	    ca_err(CA_ERR_STORE, "corrupt CRL number") : 0;
	free(val);
	*number = (uint64_t)v;
	return rc;
}

int
ca_db_next_crl_number(struct ca_store *st, uint64_t *number)
{
	char buf[32];
	int rc;

	if ((rc = ca_db_crl_number(st, number)) != 0)
		return rc;
	++*number;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)*number);
	return ca_store_put(st, K_CRLNUM, buf, strlen(buf), 0);
}

struct check_ctx {
	struct ca_store		*st;
	gnutls_x509_crt_t	 issuer;
	void			(*report)(void *, const char *);
	void			*arg;
	size_t			 problems, certs;
};

static void
problem(struct check_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct check_ctx *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->problems++;
	c->report(c->arg, buf);
}

int
ca_db_cert_check(const char *serial, const unsigned char *der, size_t len,
    gnutls_x509_crt_t issuer)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char sbuf[CA_SERIAL_MAX + 2];
	size_t slen = sizeof(sbuf);
	char *hex = NULL;
	unsigned status;
	int rc;

	if (ca_x509_import(der, len, &crt) != 0)
		return ca_err(CA_ERR_STORE, "%s: stored certificate does not "
		    "parse", serial);
	if (gnutls_x509_crt_get_serial(crt, sbuf, &slen) < 0 ||
	    (hex = ca_hex(sbuf, slen)) == NULL || strcmp(hex, serial) != 0)
		rc = ca_err(CA_ERR_STORE, "%s: certificate's serial is %s",
		    serial, hex ? hex : "unreadable");
	else if (issuer != NULL && (gnutls_x509_crt_verify(crt, &issuer, 1,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status) < 0 ||
	    status != 0))
		rc = ca_err(CA_ERR_STORE, "%s: not signed by this CA's "
		    "intermediate", serial);
	else
		rc = 0;
	free(hex);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

static int
check_cert(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct check_ctx *c = arg;
	const char *serial = key + strlen(K_CERT);
	struct json_object *d = NULL, *o = NULL, *p;
	unsigned char *data = NULL, *ott = NULL;
	char kd[128], ko[512];
	const char *jti, *kid, *s;
	size_t dlen, olen;

	c->certs++;
	/* No issuer (a registration authority's store): not verified. */
	if (ca_db_cert_check(serial, val, len, c->issuer) != 0)
		problem(c, "%s", ca_errmsg());
	if (key_of(kd, sizeof(kd), K_DATA, serial, NULL) != 0 ||
	    ca_store_get(c->st, kd, &data, &dlen) != 0) {
		problem(c, "%s: no issuance data record", serial);
		goto out;
	}
	if (ca_json_parse((char *)data, dlen, kd, &d) != 0 ||
	    ca_json_object(d, "provisioner", 0, &p) != 0 ||
	    ca_json_string(p, "name", 0, &s) != 0) {
		problem(c, "%s: issuance data names no provisioner", serial);
		goto out;
	}
	/* An ACME provisioner has no key id (an issuance by order). */
	if (ca_json_string(p, "id", 0, &kid) != 0) {
		const char *type;

		kid = NULL;
		if (!json_object_object_get_ex(d, "acme", NULL) &&
		    (ca_json_string(p, "type", 0, &type) != 0 ||
		    strcasecmp(type, "ACME") != 0)) {
			problem(c, "%s: issuance data names no provisioner",
			    serial);
			goto out;
		}
	}
	if (ca_json_string(d, "jti", 0, &jti) != 0) {
		const char *type;
		struct json_object *ac;
		char ka[160];
		/* The CA's own certificates are issued without a token, and
		 * an ACME order pays for its certificate. */
		if (ca_json_object(d, "acme", 0, &ac) == 0) {
			if (ca_json_string(ac, "order", 0, &s) != 0 ||
			    (size_t)snprintf(ka, sizeof(ka), "acme/order/%s",
			    s) >= sizeof(ka) ||
			    ca_store_get(c->st, ka, NULL, NULL) != 0)
				problem(c, "%s: issuance data names no ACME "
				    "order in the store", serial);
		} else if ((ca_json_string(p, "type", 0, &type) != 0 ||
		    strcmp(type, CA_INTERNAL_TYPE) != 0) &&
		    ca_json_string(d, "renewedFrom", 0, &type) != 0)
			problem(c, "%s: issuance data has no token id", serial);
		goto out;
	}
	if (kid == NULL) {
		problem(c, "%s: issuance data has a token id but no "
		    "provisioner key id", serial);
		goto out;
	}
	/* A renewal by x5c token records it under "x5c", not the kid. */
	if ((key_of(ko, sizeof(ko), K_OTT, kid, jti) != 0 ||
	    ca_store_get(c->st, ko, &ott, &olen) != 0) &&
	    (ca_json_string(d, "renewedFrom", 0, &s) != 0 ||
	    key_of(ko, sizeof(ko), K_OTT, "x5c", jti) != 0 ||
	    ca_store_get(c->st, ko, &ott, &olen) != 0)) {
		problem(c, "%s: token %s has no used-token record", serial, jti);
		goto out;
	}
	if (ca_json_parse((char *)ott, olen, ko, &o) != 0 ||
	    ca_json_string(o, "serial", 0, &s) != 0 || strcmp(s, serial) != 0)
		problem(c, "%s: used-token record %s points elsewhere", serial,
		    jti);
out:
	ca_err_clear();
	json_object_put(d);
	json_object_put(o);
	free(data);
	free(ott);
	return 0;
}

/* A record under prefix whose certificate is missing is a problem. */
static int
check_has_cert(struct check_ctx *c, const char *key, const char *prefix,
    const char *what)
{
	const char *serial = key + strlen(prefix);

	if (ca_db_exists(c->st, serial) != 1)
		problem(c, "%s: %s", serial, what);
	ca_err_clear();
	return 0;
}

static int
check_data(void *arg, const char *key, const unsigned char *val, size_t len)
{
	(void)val;
	(void)len;
	return check_has_cert(arg, key, K_DATA,
	    "issuance data without its certificate");
}

static int
check_rev(void *arg, const char *key, const unsigned char *val, size_t len)
{
	(void)val;
	(void)len;
	return check_has_cert(arg, key, K_REV,
	    "revocation of an unknown certificate");
}

static int
check_ott(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct check_ctx *c = arg;
	struct json_object *o = NULL;
	const char *serial;
	char kc[128];
	int64_t exp;

	if (ca_json_parse((const char *)val, len, key, &o) != 0 ||
	    ca_json_string(o, "serial", 0, &serial) != 0) {
		problem(c, "%s: unreadable used-token record", key);
	} else if (ca_json_int64(o, "exp", 0, &exp) != 0) {
		/* Without it the record cannot be expired, nor the token
		 * told apart from one still valid. */
		problem(c, "%s: used-token record has no expiry (exp)", key);
	} else if (key_of(kc, sizeof(kc), K_CERT, serial, NULL) != 0 ||
	    ca_store_get(c->st, kc, NULL, NULL) != 0)
		problem(c, "%s: used token points at unknown certificate %s",
		    key, serial);
	ca_err_clear();
	json_object_put(o);
	return 0;
}

int
ca_db_check(struct ca_store *st, gnutls_x509_crt_t issuer,
    void (*report)(void *, const char *), void *arg, size_t *problems,
    size_t *certs)
{
	struct check_ctx c = { st, issuer, report, arg, 0, 0 };
	int rc;

	*problems = 0;
	*certs = 0;
	if (ca_store_verify(st) != 0)
		problem(&c, "%s", ca_errmsg());
	ca_err_clear();
	if (ca_store_interrupted(st))
		problem(&c, "an interrupted transaction awaits completion (the next write completes it)");
	if ((rc = ca_store_foreach(st, K_CERT, check_cert, &c)) != 0 ||
	    (rc = ca_store_foreach(st, K_DATA, check_data, &c)) != 0 ||
	    (rc = ca_store_foreach(st, K_OTT, check_ott, &c)) != 0 ||
	    (rc = ca_store_foreach(st, K_REV, check_rev, &c)) != 0)
		return rc;
	*problems = c.problems;
	*certs = c.certs;
	return 0;
}

int
ca_db_get_cert(struct ca_store *st, const char *serial, unsigned char **der,
    size_t *len)
{
	char k[128];
	int rc;

	*der = NULL;
	*len = 0;
	if ((rc = key_of(k, sizeof(k), K_CERT, serial, NULL)) != 0)
		return rc;
	return ca_store_get(st, k, der, len);
}

int
ca_db_exists(struct ca_store *st, const char *serial)
{
	unsigned char *val = NULL;
	size_t len;
	int rc;

	rc = ca_db_get_cert(st, serial, &val, &len);
	free(val);
	if (rc == CA_ERR_NOTFOUND)
		return 0;
	return rc == 0 ? 1 : rc;
}

int
ca_db_get_crl(struct ca_store *st, struct ca_db_crl *out)
{
	unsigned char *info = NULL;
	unsigned long long num, rev;
	long long tu, nu;
	char text[128];
	size_t len;
	int rc, used = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = ca_store_get(st, K_CRLINFO, &info, &len)) != 0)
		return rc;
	if (len >= sizeof(text)) {
		free(info);
		return ca_err(CA_ERR_STORE, "corrupt record %s", K_CRLINFO);
	}
	memcpy(text, info, len);
	text[len] = '\0';
	free(info);
	if (sscanf(text, "%llu %lld %lld %llu%n", &num, &tu, &nu, &rev,
	    &used) != 4 || (size_t)used != len)
		return ca_err(CA_ERR_STORE, "corrupt record %s", K_CRLINFO);
	if ((rc = ca_store_get(st, K_CRLDER, &out->der, &out->len)) != 0) {
		if (rc == CA_ERR_NOTFOUND)
			rc = ca_err(CA_ERR_STORE, "record %s missing", K_CRLDER);
		return rc;
	}
	out->number = num;
	out->this_update = (time_t)tu;
	out->next_update = (time_t)nu;
	out->revision = rev;
	return 0;
}

int
ca_db_put_crl(struct ca_store *st, const struct ca_db_crl *c)
{
	char text[128];
	int rc, n;

	n = snprintf(text, sizeof(text), "%llu %lld %lld %llu",
	    (unsigned long long)c->number, (long long)c->this_update,
	    (long long)c->next_update, (unsigned long long)c->revision);
	if ((rc = ca_store_put(st, K_CRLDER, c->der, c->len, 0)) != 0)
		return rc;
	return ca_store_put(st, K_CRLINFO, text, (size_t)n, 0);
}

int
ca_db_token_used(struct ca_store *st, const char *kid, const char *jti)
{
	char ko[512];
	int rc;

	if ((rc = key_of(ko, sizeof(ko), K_OTT, kid, jti)) != 0)
		return rc;
	rc = ca_store_get(st, ko, NULL, NULL);
	if (rc == 0)
		return ca_err(CA_ERR_REPLAY, "token already used (jti %s)", jti);
	return rc == CA_ERR_NOTFOUND ? 0 : rc;
}
