/*
 * test-acme-b.c - unit tests of lib/acme-order.c: orders,
 * authorizations, challenges, finalize, certificates and revocation,
 * through the handlers of lib/acme-internal.h on a local authority, with
 * the request context (account, payload, time) made here as lib/acme.c
 * makes it once the JWS verified. Times are fixed, so expiry is tested
 * by asking at a later now.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <json-c/json.h>

#include "ca.h"
#include "acme-internal.h"
#include "authority.h"
#include "authority-local.h"
#include "certtmpl.h"
#include "db.h"
#include "goodkey.h"
#include "jose.h"
#include "keys.h"
#include "policy.h"
#include "store.h"
#include "x509.h"
#include "tap.h"
#include "unit-ca.h"

#define E	"urn:ietf:params:acme:error:"

static struct ca_authority *ah;
static struct ca_local *la;
static struct ca_provisioner prov;
static struct acme_account acct1, acct2, acct3, acct4;
static struct ca_acme_req req;
static struct ca_acme_resp resp;
static struct acme_ctx ctx;
static struct json_object *body;
static char prefix[] = "https://ca.test/acme/acme";
static char pname[] = "acme", ptype[] = "ACME";
static time_t T0;

/* A request by acct (NULL: none) with payload (NULL: POST-as-GET). */
static void
begin(struct acme_account *acct, const char *payload, time_t now)
{
	ca_acme_resp_free(&resp);
	json_object_put(body);
	body = NULL;
	json_object_put(ctx.payload);
	memset(&ctx, 0, sizeof(ctx));
	memset(&req, 0, sizeof(req));
	req.now = now;
	ctx.a = la;
	ctx.prov = &prov;
	ctx.req = &req;
	ctx.resp = &resp;
	ctx.prefix = prefix;
	ctx.now = now;
	ctx.acct = acct;
	if (payload != NULL && (ctx.payload = json_tokener_parse(payload)) ==
	    NULL) {
		printf("Bail out! bad test payload %s\n", payload);
		exit(1);
	}
}

/* After a handler: its return, and the JSON body parsed into body. */
static int
end(int rc)
{
	if (rc != 0)
		printf("#   handler returned %d: %s\n", rc, ca_errmsg());
	if (resp.body != NULL && resp.content_type != NULL &&
	    strstr(resp.content_type, "json") != NULL)
		body = json_tokener_parse(resp.body);
	return rc;
}

static const char *
bstr(const char *key)
{
	struct json_object *v;

	if (body == NULL || !json_object_object_get_ex(body, key, &v))
		return "";
	return json_object_get_string(v);
}

static size_t
blen(const char *key)
{
	struct json_object *v;

	if (body == NULL || !json_object_object_get_ex(body, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return 0;
	return json_object_array_length(v);
}

/* Element i of array key, member m (NULL: the element as a string). */
static const char *
bat(const char *key, size_t i, const char *m)
{
	struct json_object *v, *e;

	if (body == NULL || !json_object_object_get_ex(body, key, &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    (e = json_object_array_get_idx(v, i)) == NULL)
		return "";
	if (m == NULL)
		return json_object_get_string(e);
	if (!json_object_object_get_ex(e, m, &v))
		return "";
	return json_object_get_string(v);
}

/* The last segment of a URL (an id), copied into buf. */
static const char *
last(const char *url, char *buf, size_t len)
{
	const char *s = strrchr(url, '/');

	snprintf(buf, len, "%s", s != NULL ? s + 1 : "");
	return buf;
}

static void
make_account(struct acme_account *a, const char *id)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;

	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->status = strdup("valid");
	if (ca_key_generate(CA_KEY_EC_P256, &x) != 0 ||
	    ca_key_wrap(x, 1, &k) != 0 ||
	    ca_jwk_from_privkey(k, NULL, &a->key) != 0 ||
	    ca_jwk_thumbprint(a->key, &a->thumbprint) != 0) {
		printf("Bail out! account key: %s\n", ca_errmsg());
		exit(1);
	}
}

/* Store a's record: acme_write re-reads the signing account. */
static int
put_account(struct acme_ctx *c, struct ca_store *st, void *arg)
{
	struct acme_account *a = arg;
	struct json_object *o = json_object_new_object(), *key = NULL;
	char k[64];
	int rc;

	(void)c;
	if (o == NULL || ca_jwk_to_json(a->key, 0, &key) != 0)
		return CA_ERR_NOMEM;
	json_object_object_add(o, "status", json_object_new_string("valid"));
	json_object_object_add(o, "key", key);
	json_object_object_add(o, "thumbprint",
	    json_object_new_string(a->thumbprint));
	json_object_object_add(o, "provisioner", json_object_new_string(pname));
	snprintf(k, sizeof(k), "acme/acct/%s", a->id);
	rc = acme_put(st, k, o, 1);
	json_object_put(o);
	return rc;
}

static void
store_account(struct acme_account *a)
{
	begin(NULL, NULL, T0);
	if (acme_write(&ctx, put_account, a) != 0) {
		printf("Bail out! store account: %s\n", ca_errmsg());
		exit(1);
	}
}

/* newOrder for identifiers (a JSON array), by acct; the order's id. */
static int
new_order(struct acme_account *acct, const char *idents, time_t now,
    char *id, size_t idlen)
{
	char p[8300];
	int rc;

	snprintf(p, sizeof(p), "{\"identifiers\": %s}", idents);
	begin(acct, p, now);
	rc = end(acme_new_order(&ctx));
	if (id != NULL)
		last(resp.location != NULL ? resp.location : "", id, idlen);
	return rc;
}

/*
 * Validate every authorization of order id with challenge type t (ok or
 * not), through acme_challenge and acme_validated as lib/http.c would.
 */
static int
validate_all(struct acme_account *acct, const char *id, const char *t,
    int ok_, time_t now)
{
	char authz[16][64], chall[64];
	size_t n, i, j, k;
	int rc = 0;

	begin(acct, NULL, now);
	end(acme_order(&ctx, id));
	n = blen("authorizations");
	for (i = 0; i < n && i < 16; i++)
		last(bat("authorizations", i, NULL), authz[i], sizeof(authz[i]));
	for (i = 0; i < n && i < 16 && rc == 0; i++) {
		begin(acct, NULL, now);
		end(acme_authz(&ctx, authz[i]));
		k = blen("challenges");
		for (j = 0; j < k; j++)
			if (strcmp(bat("challenges", j, "type"), t) == 0)
				break;
		if (j == k)
			return -1;
		last(bat("challenges", j, "url"), chall, sizeof(chall));
		begin(acct, "{}", now);
		end(acme_challenge(&ctx, authz[i], chall));
		if (resp.job == NULL)
			return -1;
		rc = acme_validated(la, resp.job, ok_, ok_ ? NULL :
		    E "incorrectResponse", ok_ ? NULL : "wrong content", now);
	}
	return rc;
}

/* A CSR (base64url DER) for key with cn and names; free it. */
static char *
csr_b64(gnutls_privkey_t key, const char *cn, const char *const *dns,
    size_t n_dns, const char *const *ip, size_t n_ip)
{
	struct ca_names nm;
	gnutls_datum_t pem = { NULL, 0 }, der;
	void *to_free = NULL;
	char *s = NULL;

	memset(&nm, 0, sizeof(nm));
	nm.dns = (char **)(uintptr_t)dns;
	nm.n_dns = n_dns;
	nm.ip = (char **)(uintptr_t)ip;
	nm.n_ip = n_ip;
	if (ca_csr_make(key, cn, &nm, &pem) == 0 &&
	    ca_csr_decode(pem.data, pem.size, &der, &to_free) == 0)
		s = ca_b64url_encode(der.data, der.size);
	gnutls_free(pem.data);
	gnutls_free(to_free);
	if (s == NULL) {
		printf("Bail out! CSR: %s\n", ca_errmsg());
		exit(1);
	}
	return s;
}

static int
finalize(struct acme_account *acct, const char *id, const char *csr,
    time_t now)
{
	char *p;
	int rc;

	if (asprintf(&p, "{\"csr\": \"%s\"}", csr) < 0)
		exit(1);
	begin(acct, p, now);
	free(p);
	rc = end(acme_finalize(&ctx, id));
	return rc;
}

static gnutls_privkey_t
new_key(enum ca_key_type t)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;

	if (ca_key_generate(t, &x) != 0 || ca_key_wrap(x, 1, &k) != 0) {
		printf("Bail out! key: %s\n", ca_errmsg());
		exit(1);
	}
	return k;
}

static void
report(void *arg, const char *problem)
{
	(void)arg;
	printf("#   ca-db check: %s\n", problem);
}

/* Orders: shapes accepted and refused. */
static void
test_new_order(void)
{
	char id[64], az[64];
	size_t i, n;
	int http = 0, dns = 0, alpn = 0;

	is_int(new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"WWW.Example.COM.\"},"
	    "{\"type\":\"ip\",\"value\":\"2001:DB8:0:0::1\"},"
	    "{\"type\":\"dns\",\"value\":\"*.example.com\"},"
	    "{\"type\":\"dns\",\"value\":\"www.example.com\"}]", T0, id,
	    sizeof(id)), 0, "newOrder: accepted");
	is_int(resp.status, 201, "newOrder: 201");
	ok(resp.location != NULL && strncmp(resp.location,
	    "https://ca.test/acme/acme/order/", 32) == 0 &&
	    strlen(id) == ACME_ID_LEN, "newOrder: Location is the order's URL");
	is_str(bstr("status"), "pending", "newOrder: pending");
	ok(resp.retry_after > 0, "newOrder: Retry-After");
	is_int(blen("identifiers"), 3, "newOrder: duplicates dropped");
	is_str(bat("identifiers", 0, "value"), "www.example.com",
	    "newOrder: a DNS name lowercased, its trailing dot dropped");
	is_str(bat("identifiers", 1, "value"), "2001:db8::1",
	    "newOrder: an IPv6 address in canonical form (RFC 5952)");
	is_str(bat("identifiers", 1, "type"), "ip", "newOrder: ip type kept");
	is_int(blen("authorizations"), 3, "newOrder: one authorization each");
	ok(strstr(bstr("finalize"), "/order/") != NULL &&
	    strstr(bstr("finalize"), "/finalize") != NULL,
	    "newOrder: a finalize URL");

	/* The wildcard's authorization: the base name, dns-01 only. */
	last(bat("authorizations", 2, NULL), az, sizeof(az));
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az));
	ok(json_object_get_boolean(json_object_object_get(body, "wildcard")),
	    "authz: wildcard set");
	is_str(json_object_get_string(json_object_object_get(
	    json_object_object_get(body, "identifier"), "value")),
	    "example.com", "authz: the wildcard's base name");
	is_int(blen("challenges"), 1, "authz: a wildcard gets one challenge");
	is_str(bat("challenges", 0, "type"), "dns-01",
	    "authz: ... dns-01");
	is_int(strlen(bat("challenges", 0, "token")), 43,
	    "authz: a token of 32 octets in base64url");

	/* The IP's: http-01 and tls-alpn-01, no dns-01 (RFC 8738). */
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, id));
	last(bat("authorizations", 1, NULL), az, sizeof(az));
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az));
	n = blen("challenges");
	for (i = 0; i < n; i++) {
		http += strcmp(bat("challenges", i, "type"), "http-01") == 0;
		dns += strcmp(bat("challenges", i, "type"), "dns-01") == 0;
		alpn += strcmp(bat("challenges", i, "type"), "tls-alpn-01") == 0;
	}
	ok(n == 2 && http == 1 && alpn == 1 && dns == 0,
	    "authz: an IP gets http-01 and tls-alpn-01 only");
	ok(resp.retry_after > 0, "authz: pending, Retry-After");

	/* Refusals. */
	new_order(&acct1, "[]", T0, NULL, 0);
	is_int(resp.status, 400, "newOrder: no identifiers: 400");
	is_str(bstr("type"), E "malformed", "newOrder: no identifiers: malformed");
	new_order(&acct1, "[{\"type\":\"email\",\"value\":\"a@b.example\"}]",
	    T0, NULL, 0);
	is_str(bstr("type"), E "unsupportedIdentifier",
	    "newOrder: e-mail: unsupportedIdentifier");
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"a..example\"},"
	    "{\"type\":\"dns\",\"value\":\"good.example\"},"
	    "{\"type\":\"dns\",\"value\":\"a.*.example\"},"
	    "{\"type\":\"dns\",\"value\":\"-a.example\"},"
	    "{\"type\":\"dns\",\"value\":\"\\u00fcber.example\"},"
	    "{\"type\":\"dns\",\"value\":\"192.0.2.1\"},"
	    "{\"type\":\"dns\",\"value\":\"ab--c.example\"},"
	    "{\"type\":\"ip\",\"value\":\"192.0.2.256\"},"
	    "{\"type\":\"dns\",\"value\":\"xn--zzzzzzzzz.example\"},"
	    "{\"type\":\"dns\",\"value\":\"sp ace.example\"}]", T0, NULL, 0);
	is_str(bstr("type"), E "rejectedIdentifier",
	    "newOrder: bad names: rejectedIdentifier");
	is_int(blen("subproblems"), 9, "newOrder: one subproblem per bad name");
	is_str(bat("subproblems", 0, "type"), E "rejectedIdentifier",
	    "newOrder: subproblem type");
	ok(strstr(resp.body, "\"value\":\"a..example\"") != NULL &&
	    strstr(resp.body, "good.example") == NULL,
	    "newOrder: subproblems name the bad identifiers, only them");
	is_int(new_order(&acct1, "[{\"type\":\"dns\",\"value\":"
	    "\"xn--ber-goa.example\"}]", T0, NULL, 0), 0, "newOrder: an A-label");
	is_int(resp.status, 201, "newOrder: an A-label: accepted");
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"\\u00fcber.example\"}]",
	    T0, NULL, 0);
	ok(strstr(bstr("detail"), "xn--") != NULL,
	    "newOrder: a U-label: told to send the A-label (%s)",
	    bstr("detail"));
	{
		char big[8192];
		size_t off = 0;

		off += (size_t)snprintf(big + off, sizeof(big) - off, "[");
		for (i = 0; i <= la->cfg->max_sans; i++)
			off += (size_t)snprintf(big + off, sizeof(big) - off,
			    "%s{\"type\":\"dns\",\"value\":\"h%zu.example\"}",
			    i ? "," : "", i);
		snprintf(big + off, sizeof(big) - off, "]");
		new_order(&acct1, big, T0, NULL, 0);
		is_str(bstr("type"), E "rejectedIdentifier",
		    "newOrder: more identifiers than maxSANs: refused");
	}
	begin(&acct1, "{\"identifiers\":[{\"type\":\"dns\",\"value\":"
	    "\"a.example\"}], \"notAfter\": \"2099-01-01T00:00:00Z\"}", T0);
	end(acme_new_order(&ctx));
	is_str(bstr("type"), E "malformed",
	    "newOrder: notAfter beyond the claims: malformed");
	ok(strstr(bstr("detail"), "lifetime") != NULL,
	    "newOrder: ... saying so (%s)", bstr("detail"));
	begin(&acct1, "{\"identifiers\":[{\"type\":\"dns\"}]}", T0);
	end(acme_new_order(&ctx));
	is_str(bstr("type"), E "malformed",
	    "newOrder: an identifier without value: malformed");
}

/* The state machine: challenge, authorization, order; expiry. */
static void
test_states(void)
{
	char id[64], az[64], ch[64], id2[64], az2[64];
	struct ca_acme_job *job;
	int rc;

	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"s.example\"}]", T0,
	    id, sizeof(id));
	last(bat("authorizations", 0, NULL), az, sizeof(az));
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az));
	last(bat("challenges", 0, "url"), ch, sizeof(ch));

	/* POST-as-GET to the challenge: no job. */
	begin(&acct1, NULL, T0);
	end(acme_challenge(&ctx, az, ch));
	is_str(bstr("status"), "pending", "challenge: pending");
	ok(resp.job == NULL, "challenge: a read starts nothing");
	ok(resp.n_links == 1 && strstr(resp.links[0], "rel=\"up\"") &&
	    strstr(resp.links[0], az) != NULL, "challenge: Link rel=up to "
	    "its authorization");

	/* POST {}: processing and a job. */
	begin(&acct1, "{}", T0);
	end(acme_challenge(&ctx, az, ch));
	is_str(bstr("status"), "processing", "challenge: {} -> processing");
	ok(resp.job != NULL, "challenge: ... with a job");
	if (resp.job == NULL)
		return;
	job = ca_acme_job_dup(resp.job);
	{
		char ka[256];
		snprintf(ka, sizeof(ka), "%s.%s", bstr("token"),
		    acct1.thumbprint);
		is_str(job->key_auth, ka, "job: key authorization = token."
		    "thumbprint");
		is_str(job->id_value, "s.example", "job: identifier");
		is_str(job->provisioner, "acme", "job: provisioner");
	}
	ok(resp.retry_after > 0, "challenge: processing, Retry-After");
	begin(&acct1, "{}", T0 + 1);
	end(acme_challenge(&ctx, az, ch));
	ok(resp.job == NULL && strcmp(bstr("status"), "processing") == 0,
	    "challenge: {} again while processing: no new job");

	/* A processing challenge read after 2 x validationTimeout: its job
	 * is given out again, once. */
	begin(&acct1, NULL, T0 + 21);
	end(acme_order(&ctx, id));
	ok(resp.job != NULL, "order read: a stale processing challenge is "
	    "given out again");
	begin(&acct1, NULL, T0 + 21);
	end(acme_authz(&ctx, az));
	ok(resp.job == NULL, "authz read: ... once");
	begin(&acct1, NULL, T0 + 42);
	end(acme_authz(&ctx, az));
	ok(resp.job != NULL, "authz read: stale again later: given out");

	/* The outcome. */
	is_int(acme_validated(la, job, 1, NULL, NULL, T0 + 43), 0,
	    "validated: ok");
	begin(&acct1, NULL, T0 + 43);
	end(acme_challenge(&ctx, az, ch));
	is_str(bstr("status"), "valid", "challenge: valid");
	ok(bstr("validated")[0] != '\0', "challenge: validated time");
	begin(&acct1, NULL, T0 + 43);
	end(acme_authz(&ctx, az));
	is_str(bstr("status"), "valid", "authz: valid");
	begin(&acct1, NULL, T0 + 43);
	end(acme_order(&ctx, id));
	is_str(bstr("status"), "ready", "order: ready");
	ok(resp.retry_after == 0, "order: ready, no Retry-After");
	/* A late or repeated outcome is dropped. */
	is_int(acme_validated(la, job, 0, E "connection", "late", T0 + 44), 0,
	    "validated: an outcome for a challenge no longer processing");
	begin(&acct1, NULL, T0 + 44);
	end(acme_challenge(&ctx, az, ch));
	is_str(bstr("status"), "valid", "... is dropped");
	ca_acme_job_free(job);

	/* Expiry at a fixed now: the order after 1 day, the authz after 7. */
	begin(&acct1, NULL, T0 + 24 * 3600);
	end(acme_order(&ctx, id));
	is_str(bstr("status"), "invalid", "order: expired after a day: invalid");
	begin(&acct1, "{\"csr\":\"AAAA\"}", T0 + 24 * 3600);
	end(acme_finalize(&ctx, id));
	is_str(bstr("type"), E "orderNotReady", "finalize: expired order: "
	    "orderNotReady");
	begin(&acct1, NULL, T0 + 7 * 24 * 3600);
	end(acme_authz(&ctx, az));
	is_str(bstr("status"), "expired", "authz: expired after 7 days");

	/* Failure: two identifiers, one fails: authz and order invalid. */
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"f1.example\"},"
	    "{\"type\":\"ip\",\"value\":\"192.0.2.7\"}]", T0, id2, sizeof(id2));
	rc = validate_all(&acct1, id2, "http-01", 0, T0);
	is_int(rc, 0, "validated: failure recorded");
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, id2));
	is_str(bstr("status"), "invalid", "order: invalid once an authz failed");
	last(bat("authorizations", 0, NULL), az2, sizeof(az2));
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az2));
	is_str(bstr("status"), "invalid", "authz: invalid");
	is_str(bat("challenges", 0, "status"), "invalid", "challenge: invalid");
	{
		struct json_object *c = json_object_array_get_idx(
		    json_object_object_get(body, "challenges"), 0), *e;
		char cid[64];
		const char *u;

		e = json_object_object_get(c, "error");
		is_str(json_object_get_string(json_object_object_get(e, "type")),
		    E "incorrectResponse", "challenge: its error");
		u = json_object_get_string(json_object_object_get(c, "url"));
		last(u != NULL ? u : "", cid, sizeof(cid));
		begin(&acct1, "{}", T0 + 1);
		end(acme_challenge(&ctx, az2, cid));
		is_int(resp.status, 400, "challenge: retry of an invalid one: "
		    "refused");
		ok(resp.job == NULL, "... no job");
	}

	/* Deactivation. */
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"d.example\"}]", T0,
	    id2, sizeof(id2));
	last(bat("authorizations", 0, NULL), az2, sizeof(az2));
	begin(&acct1, "{\"status\":\"deactivated\"}", T0);
	end(acme_authz(&ctx, az2));
	is_str(bstr("status"), "deactivated", "authz: deactivated");
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, id2));
	is_str(bstr("status"), "invalid", "order: invalid after deactivation");
	begin(&acct1, "{\"status\":\"valid\"}", T0);
	end(acme_authz(&ctx, az2));
	is_str(bstr("type"), E "malformed", "authz: other status changes "
	    "refused");
}

/* Issuance with the records: ca_db shows the ACME account and order. */
static void
test_finalize(void)
{
	static const char *const dns[] = { "fin.example" };
	static const char *const dns2[] = { "fin.example", "extra.example" };
	static const char *const ip[] = { "192.0.2.9" };
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	struct ca_cert_info ci;
	char id[64], cert[64], *csr, path[4200], cmd[13000];
	FILE *f;

	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"fin.example\"},"
	    "{\"type\":\"ip\",\"value\":\"192.0.2.9\"}]", T0, id, sizeof(id));
	csr = csr_b64(key, "fin.example", dns, 1, ip, 1);
	finalize(&acct1, id, csr, T0);
	is_int(resp.status, 403, "finalize before ready: 403");
	is_str(bstr("type"), E "orderNotReady", "finalize before ready: "
	    "orderNotReady");
	is_int(validate_all(&acct1, id, "http-01", 1, T0), 0,
	    "order validated");

	free(csr);
	csr = csr_b64(key, "fin.example", dns2, 2, ip, 1);
	finalize(&acct1, id, csr, T0);
	is_str(bstr("type"), E "badCSR", "finalize: extra name: badCSR");
	ok(strstr(bstr("detail"), "extra.example") != NULL,
	    "... naming it (%s)", bstr("detail"));
	free(csr);
	csr = csr_b64(key, "fin.example", dns, 1, NULL, 0);
	finalize(&acct1, id, csr, T0);
	is_str(bstr("type"), E "badCSR", "finalize: missing name: badCSR");
	ok(strstr(bstr("detail"), "192.0.2.9") != NULL,
	    "... naming it (%s)", bstr("detail"));
	free(csr);
	csr = csr_b64(ca_jwk_privkey(acct1.key), "fin.example", dns, 1, ip, 1);
	finalize(&acct1, id, csr, T0);
	is_str(bstr("type"), E "badCSR", "finalize: CSR key = account key: "
	    "badCSR");
	ok(strstr(bstr("detail"), "account key") != NULL, "... saying so");
	free(csr);
	csr = csr_b64(key, "other.example", dns, 1, ip, 1);
	finalize(&acct1, id, csr, T0);
	is_str(bstr("type"), E "badCSR", "finalize: CN not an identifier: "
	    "badCSR");
	free(csr);
	begin(&acct1, "{\"csr\":\"MIIB!!\"}", T0);
	end(acme_finalize(&ctx, id));
	is_str(bstr("type"), E "badCSR", "finalize: not base64url: badCSR");
	/* Another account's order. */
	csr = csr_b64(key, NULL, dns, 1, ip, 1);
	finalize(&acct2, id, csr, T0);
	is_int(resp.status, 403, "finalize: another account's order: 403");
	is_str(bstr("type"), E "unauthorized", "... unauthorized");
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, id));
	is_str(bstr("status"), "ready", "refusals left the order ready");

	/* The good one: no CN in the CSR. */
	finalize(&acct1, id, csr, T0);
	is_int(resp.status, 200, "finalize: 200");
	is_str(bstr("status"), "valid", "finalize: order valid");
	ok(strstr(bstr("certificate"), "/certificate/") != NULL,
	    "finalize: certificate URL");
	last(bstr("certificate"), cert, sizeof(cert));
	finalize(&acct1, id, csr, T0);
	is_str(bstr("type"), E "orderNotReady", "finalize again: orderNotReady");
	free(csr);

	/* Download: the chain, by the ordering account only. */
	begin(&acct2, NULL, T0);
	end(acme_certificate(&ctx, cert));
	is_str(bstr("type"), E "unauthorized", "certificate: another account: "
	    "unauthorized");
	begin(&acct1, NULL, T0);
	end(acme_certificate(&ctx, cert));
	is_int(resp.status, 200, "certificate: 200");
	is_str(resp.content_type, "application/pem-certificate-chain",
	    "certificate: PEM chain");
	ok(resp.body != NULL && strstr(resp.body, "-----END CERTIFICATE-----"
	    "\n-----BEGIN CERTIFICATE-----") != NULL,
	    "certificate: leaf and intermediate");
	if (resp.body != NULL) {
		gnutls_x509_crt_t crt = NULL;
		struct ca_names nm;
		char *serial = NULL;
		gnutls_datum_t d = { (unsigned char *)resp.body,
		    (unsigned)resp.body_len };
		char cn[256];
		size_t cnlen = sizeof(cn);
		int cnret;

		memset(&nm, 0, sizeof(nm));
		if (gnutls_x509_crt_init(&crt) == 0 &&
		    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) == 0 &&
		    ca_x509_names(crt, &nm) == 0 &&
		    ca_local_serial_of(crt, &serial) == 0) {
			ok(nm.n_dns == 1 && nm.n_ip == 1 &&
			    strcmp(nm.dns[0], "fin.example") == 0 &&
			    strcmp(nm.ip[0], "192.0.2.9") == 0,
			    "leaf: the order's identifiers, typed");
			cnret = gnutls_x509_crt_get_dn_by_oid(crt,
			    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen);
			ok(cnret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE,
			    "leaf: no CN when the CSR has none (forceCN off)");
			ok(gnutls_x509_crt_get_expiration_time(crt) -
			    gnutls_x509_crt_get_activation_time(crt) <=
			    prov.claims.default_dur + CA_BACKDATE,
			    "leaf: the provisioner's default lifetime");
			{
				/* step-ca's bytes for TypeACME (6), name
				 * "acme", no credential id, written here. */
				static const unsigned char want[] = { 0x30,
				    0x0b, 0x02, 0x01, 0x06, 0x04, 0x04, 'a',
				    'c', 'm', 'e', 0x04, 0x00 };
				unsigned char got[64];
				size_t glen = sizeof(got);
				unsigned int crit = 1;

				ok(gnutls_x509_crt_get_extension_by_oid(crt,
				    "1.3.6.1.4.1.37476.9000.64.1", 0, got,
				    &glen, &crit) == 0 &&
				    glen == sizeof(want) && crit == 0 &&
				    memcmp(got, want, glen) == 0,
				    "leaf: step-ca's provisioner extension, "
				    "ACME, non-critical");
			}
			is_int(ca_authority_db_get(ah, serial, &ci), 0,
			    "recorded");
			is_str(ci.acme_account, acct1.id, "record: ACME account");
			is_str(ci.acme_order, id, "record: ACME order");
			ca_cert_info_free(&ci);
		} else
			ok(0, "leaf parses");
		free(serial);
		ca_names_free(&nm);
		gnutls_x509_crt_deinit(crt);
		/* openssl, the independent oracle, where it is. */
		snprintf(path, sizeof(path), "%s/chain.pem", tmpdir);
		if ((f = fopen(path, "w")) != NULL) {
			fwrite(resp.body, 1, resp.body_len, f);
			fclose(f);
		}
		snprintf(cmd, sizeof(cmd), "command -v openssl >/dev/null || "
		    "exit 0; openssl verify -x509_strict -CAfile %s/ca/certs/"
		    "root_ca.crt -untrusted %s %s >/dev/null", tmpdir, path,
		    path);
		is_int(system(cmd), 0, "openssl verify -x509_strict the chain");
	}

	{
		size_t problems = 1, certs = 0;

		is_int(ca_authority_db_check(ah, report, NULL, &problems, &certs),
		    0, "ca-db check runs");
		ok(problems == 0 && certs >= 1, "ca-db check: an ACME issuance "
		    "is a sound record (%zu problems)", problems);
	}
	/* The account's orders. */
	begin(&acct1, NULL, T0);
	end(acme_account_orders(&ctx, acct1.id));
	ok(blen("orders") >= 4 && strstr(resp.body, id) != NULL,
	    "account orders: listed (%zu)", blen("orders"));
	begin(&acct2, NULL, T0);
	end(acme_account_orders(&ctx, acct1.id));
	is_str(bstr("type"), E "unauthorized", "account orders: another "
	    "account's: unauthorized");
	gnutls_privkey_deinit(key);
}

/* The provisioner's certificate template on an order (lib/certtmpl.h). */
static void
finalize_with(const char *tpl, gnutls_privkey_t key, const char *name,
    gnutls_x509_crt_t *crt)
{
	static const char *const none[1];
	struct json_object *o;
	char idents[128], id[64], cert[64], *csr;
	const char *dns[1];

	*crt = NULL;
	dns[0] = name;
	o = json_object_new_object();
	json_object_object_add(o, "template", json_object_new_string(tpl));
	if (ca_certtmpl_load(o, tmpdir, "t", &prov.x509_tmpl) != 0) {
		printf("Bail out! template: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(o);
	snprintf(idents, sizeof(idents), "[{\"type\":\"dns\",\"value\":"
	    "\"%s\"}]", name);
	new_order(&acct1, idents, T0, id, sizeof(id));
	if (validate_all(&acct1, id, "http-01", 1, T0) != 0)
		printf("# not validated\n");
	csr = csr_b64(key, NULL, dns, 1, none, 0);
	finalize(&acct1, id, csr, T0);
	free(csr);
	ca_certtmpl_free(prov.x509_tmpl);
	prov.x509_tmpl = NULL;
	if (resp.status != 200)
		return;
	last(bstr("certificate"), cert, sizeof(cert));
	begin(&acct1, NULL, T0);
	end(acme_certificate(&ctx, cert));
	if (resp.body != NULL) {
		gnutls_datum_t d = { (unsigned char *)resp.body,
		    (unsigned)resp.body_len };

		if (gnutls_x509_crt_init(crt) != 0 ||
		    gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM) != 0) {
			gnutls_x509_crt_deinit(*crt);
			*crt = NULL;
		}
	}
}

static void
test_finalize_template(void)
{
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	gnutls_x509_crt_t crt;
	char buf[128], dn[256];
	size_t size = sizeof(buf), dnlen = sizeof(dn);
	unsigned crit;

	finalize_with("{\"subject\": {\"commonName\": \"tpl.example\", "
	    "\"organization\": \"Acme\"}, \"dnsNames\": \"tpl.example\", "
	    "\"extKeyUsage\": \"clientAuth\"}", key, "tpl.example", &crt);
	is_int(resp.status, 200, "template: finalize 200");
	ok(crt != NULL && gnutls_x509_crt_get_key_purpose_oid(crt, 0, buf,
	    &size, &crit) >= 0 && strcmp(buf, "1.3.6.1.5.5.7.3.2") == 0 &&
	    gnutls_x509_crt_get_key_purpose_oid(crt, 1, buf, &size,
	    &crit) < 0, "template: the leaf's extKeyUsage is the template's");
	ok(crt != NULL && gnutls_x509_crt_get_dn(crt, dn, &dnlen) >= 0 &&
	    strcmp(dn, "O=Acme,CN=tpl.example") == 0,
	    "template: its subject (%s)", crt != NULL ? dn : "");
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	/* A CA only for this order's name: past the trial render at load
	 * (certtmpl.c), refused when it renders so. */
	finalize_with("{\"subject\": \"tpl2.example\"{{ if eq (index "
	    ".Insecure.CR.DNSNames 0) \"tpl2.example\" }}, "
	    "\"basicConstraints\": {\"isCA\": true}{{ end }}}", key,
	    "tpl2.example", &crt);
	is_int(resp.status, 403, "template making a CA: 403");
	is_str(bstr("type"), E "rejectedIdentifier", "... rejectedIdentifier");
	ok(strstr(bstr("detail"), "may not make a CA") != NULL, "... saying so "
	    "(%s)", bstr("detail"));
	finalize_with("{\"dnsNames\": [\"tpl3.example\", \"other.example\"]}",
	    key, "tpl3.example", &crt);
	is_int(resp.status, 403, "template adding a name: 403");
	ok(strstr(bstr("detail"), "\"other.example\" is not one the request "
	    "was authorised for") != NULL, "... naming it (%s)", bstr("detail"));
	gnutls_privkey_deinit(key);
}

/* The provisioner's challenges and forceCN, caTools.acme's lifetimes. */
static void
test_config(void)
{
	static const char *const dns[] = { "cfg.example", "b.cfg.example" };
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	char id[64], az[64], cert[64], *csr;
	int64_t saved = la->cfg->acme.order_lifetime;

	prov.acme_challenges = CA_ACME_HTTP01;
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"*.cfg.example\"}]",
	    T0, NULL, 0);
	is_str(bstr("type"), E "rejectedIdentifier", "http-01 only: a wildcard "
	    "is refused");
	ok(strstr(bstr("detail"), "dns-01") != NULL, "... it needs dns-01 (%s)",
	    bstr("detail"));
	new_order(&acct1, "[{\"type\":\"ip\",\"value\":\"192.0.2.3\"}]",
	    T0, id, sizeof(id));
	last(bat("authorizations", 0, NULL), az, sizeof(az));
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az));
	ok(blen("challenges") == 1 && strcmp(bat("challenges", 0, "type"),
	    "http-01") == 0, "http-01 only: an IP gets http-01");
	prov.acme_challenges = CA_ACME_DNS01;
	new_order(&acct1, "[{\"type\":\"ip\",\"value\":\"192.0.2.3\"}]",
	    T0, NULL, 0);
	is_str(bstr("type"), E "rejectedIdentifier", "dns-01 only: an IP is "
	    "refused (no challenge can validate it)");
	prov.acme_challenges = CA_ACME_ALL;

	la->cfg->acme.order_lifetime = 3600;
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"cfg.example\"},"
	    "{\"type\":\"dns\",\"value\":\"b.cfg.example\"}]", T0, id,
	    sizeof(id));
	la->cfg->acme.order_lifetime = saved;
	begin(&acct1, NULL, T0 + 3599);
	end(acme_order(&ctx, id));
	is_str(bstr("status"), "pending", "orderLifetime 1h: pending before");
	begin(&acct1, NULL, T0 + 3600);
	end(acme_order(&ctx, id));
	is_str(bstr("status"), "invalid", "orderLifetime 1h: invalid at 1h");

	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"cfg.example\"},"
	    "{\"type\":\"dns\",\"value\":\"b.cfg.example\"}]", T0, id,
	    sizeof(id));
	validate_all(&acct1, id, "tls-alpn-01", 1, T0);
	prov.force_cn = 1;
	csr = csr_b64(key, NULL, dns, 2, NULL, 0);
	finalize(&acct1, id, csr, T0);
	prov.force_cn = 0;
	free(csr);
	is_str(bstr("status"), "valid", "forceCN: issued");
	last(bstr("certificate"), cert, sizeof(cert));
	begin(&acct1, NULL, T0);
	end(acme_certificate(&ctx, cert));
	{
		gnutls_x509_crt_t crt = NULL;
		gnutls_datum_t d = { (unsigned char *)resp.body,
		    (unsigned)resp.body_len };
		char cn[256];
		size_t cnlen = sizeof(cn);

		ok(resp.body != NULL && gnutls_x509_crt_init(&crt) == 0 &&
		    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) == 0 &&
		    gnutls_x509_crt_get_dn_by_oid(crt,
		    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) == 0 &&
		    strcmp(cn, "cfg.example") == 0,
		    "forceCN: the first DNS identifier is the CN");
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_privkey_deinit(key);
}

/* Another account's objects. */
static void
test_others(void)
{
	char id[64], az[64], ch[64];

	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"o.example\"}]", T0,
	    id, sizeof(id));
	last(bat("authorizations", 0, NULL), az, sizeof(az));
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az));
	last(bat("challenges", 0, "url"), ch, sizeof(ch));
	begin(&acct2, NULL, T0);
	end(acme_order(&ctx, id));
	is_str(bstr("type"), E "unauthorized", "order: another account's");
	begin(&acct2, NULL, T0);
	end(acme_authz(&ctx, az));
	is_str(bstr("type"), E "unauthorized", "authz: another account's");
	begin(&acct2, "{}", T0);
	end(acme_challenge(&ctx, az, ch));
	is_str(bstr("type"), E "unauthorized", "challenge: another account's");
	ok(resp.job == NULL, "... no job");
	begin(&acct2, "{\"status\":\"deactivated\"}", T0);
	end(acme_authz(&ctx, az));
	is_int(resp.status, 403, "deactivate: another account's: 403");
	begin(&acct1, NULL, T0);
	end(acme_authz(&ctx, az));
	is_str(bstr("status"), "pending", "... left pending");
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, "nosuchorder"));
	is_int(resp.status, 404, "order: unknown: 404");
}

/* An order made ready and finalized; *b64 its certificate (base64url). */
static void
issue(struct acme_account *acct, const char *name, gnutls_privkey_t key,
    char **b64)
{
	const char *const dns[] = { name };
	char id[64], idents[256], cert[64], *csr;

	*b64 = NULL;
	snprintf(idents, sizeof(idents),
	    "[{\"type\":\"dns\",\"value\":\"%s\"}]", name);
	new_order(acct, idents, T0, id, sizeof(id));
	validate_all(acct, id, "dns-01", 1, T0);
	csr = csr_b64(key, name, dns, 1, NULL, 0);
	finalize(acct, id, csr, T0);
	free(csr);
	if (strcmp(bstr("status"), "valid") != 0)
		printf("#   finalize %s: %s\n", name, resp.body);
	last(bstr("certificate"), cert, sizeof(cert));
	begin(acct, NULL, T0);
	end(acme_certificate(&ctx, cert));
	if (resp.body != NULL) {
		gnutls_datum_t d = { (unsigned char *)resp.body,
		    (unsigned)resp.body_len }, der = { NULL, 0 };
		int r = gnutls_pem_base64_decode2("CERTIFICATE", &d, &der);
		if (r == 0)
			*b64 = ca_b64url_encode(der.data, der.size);
		else
			printf("#   PEM: %s\n", gnutls_strerror(r));
		gnutls_free(der.data);
	}
}

static void
test_revoke(void)
{
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	gnutls_privkey_t key2 = new_key(CA_KEY_EC_P256);
	struct ca_jwk *jwk = NULL, *other = NULL;
	char *c1, *c2, p[8192];
	struct ca_cert_info *v = NULL;
	size_t n = 0, i;
	int revoked = 0;

	issue(&acct1, "r1.example", key, &c1);
	issue(&acct1, "r2.example", key2, &c2);
	ok(c1 != NULL && c2 != NULL, "two certificates issued");
	if (c1 == NULL || c2 == NULL)
		return;
	snprintf(p, sizeof(p), "{\"certificate\":\"%s\",\"reason\":7}", c1);
	begin(&acct1, p, T0);
	end(acme_revoke_cert(&ctx));
	is_str(bstr("type"), E "badRevocationReason", "revoke: reason 7 refused");
	snprintf(p, sizeof(p), "{\"certificate\":\"%s\",\"reason\":1}", c1);
	begin(&acct2, p, T0);
	end(acme_revoke_cert(&ctx));
	is_str(bstr("type"), E "unauthorized", "revoke: by another account: "
	    "unauthorized");
	begin(&acct1, p, T0);
	end(acme_revoke_cert(&ctx));
	is_int(resp.status, 200, "revoke: by the ordering account");
	begin(&acct1, p, T0);
	end(acme_revoke_cert(&ctx));
	is_str(bstr("type"), E "alreadyRevoked", "revoke: again: "
	    "alreadyRevoked");

	/* By the certificate's key (jwk), not by another key. */
	if (ca_jwk_from_privkey(key2, NULL, &jwk) != 0 ||
	    ca_jwk_from_privkey(new_key(CA_KEY_EC_P256), NULL, &other) != 0) {
		ok(0, "jwk");
		return;
	}
	snprintf(p, sizeof(p), "{\"certificate\":\"%s\"}", c2);
	begin(NULL, p, T0);
	ctx.jwk = other;
	end(acme_revoke_cert(&ctx));
	is_str(bstr("type"), E "unauthorized", "revoke: jwk of another key: "
	    "unauthorized");
	begin(NULL, p, T0);
	ctx.jwk = jwk;
	end(acme_revoke_cert(&ctx));
	is_int(resp.status, 200, "revoke: by the certificate's key");
	if (ca_authority_db_list(ah, &v, &n) == 0) {
		for (i = 0; i < n; i++) {
			revoked += v[i].revoked;
			ca_cert_info_free(&v[i]);
		}
		free(v);
	}
	is_int(revoked, 2, "both revoked in the store (CRL and OCSP read it)");
	ca_jwk_free(jwk);	/* owns key2 */
	ca_jwk_free(other);
	gnutls_privkey_deinit(key);
	free(c1);
	free(c2);
}

/* A store whose commits fail on demand. */
static int fail_commits;

static int
failing_commit(void *impl)
{
	if (fail_commits) {
		ca_store_gdbm.abort(impl);
		return ca_err(CA_ERR_STORE, "injected commit failure");
	}
	return ca_store_gdbm.commit(impl);
}

/*
 * A new order of acct for name; its authorization and http-01 challenge
 * ids in az and ch, posted {} at now: the answer's status.
 */
static int
post_new_chall(struct acme_account *acct, const char *name, time_t now,
    char az[64], char ch[64])
{
	char p[200];
	size_t j, k;

	snprintf(p, sizeof(p), "[{\"type\":\"dns\",\"value\":\"%s\"}]", name);
	new_order(acct, p, now, NULL, 0);
	last(bat("authorizations", 0, NULL), az, 64);
	begin(acct, NULL, now);
	end(acme_authz(&ctx, az));
	k = blen("challenges");
	for (j = 0; j < k; j++)
		if (strcmp(bat("challenges", j, "type"), "http-01") == 0)
			break;
	last(bat("challenges", j, "url"), ch, 64);
	begin(acct, "{}", now);
	end(acme_challenge(&ctx, az, ch));
	return resp.status;
}

/* An account's validations in flight are bounded, in the store. */
static void
test_inflight(void)
{
	int64_t saved = la->cfg->acme.max_validations;
	int64_t to = la->cfg->acme.validation_timeout;
	struct ca_acme_job *j1 = NULL, *j2 = NULL, *j3 = NULL, *j4 = NULL;
	char az[4][64], ch[4][64], oaz[64], och[64];

	store_account(&acct4);
	la->cfg->acme.max_validations = 2;
	is_int(post_new_chall(&acct4, "f1.example", T0, az[0], ch[0]), 200,
	    "in flight: the first validation starts");
	j1 = resp.job;
	resp.job = NULL;
	is_int(post_new_chall(&acct4, "f2.example", T0, az[1], ch[1]), 200,
	    "in flight: the second starts (maxValidationsPerAccount 2)");
	j2 = resp.job;
	resp.job = NULL;
	is_int(post_new_chall(&acct4, "f3.example", T0 + 1, az[2], ch[2]), 429,
	    "in flight: the third is refused: 429");
	is_str(bstr("type"), E "rateLimited", "... rateLimited");
	ok(resp.retry_after >= 1 && resp.retry_after <= to,
	    "... with Retry-After until the oldest times out (%u)",
	    resp.retry_after);
	ok(resp.job == NULL, "... and no job");
	begin(&acct4, NULL, T0 + 1);
	end(acme_authz(&ctx, az[2]));
	is_str(bat("challenges", 0, "status"), "pending",
	    "... the challenge stays pending");
	is_int(post_new_chall(&acct1, "fo.example", T0 + 1, oaz, och), 200,
	    "in flight: another account's starts");
	if (resp.job != NULL)
		acme_validated(la, resp.job, 1, NULL, NULL, T0 + 1);
	/* An outcome frees its place. */
	if (j1 != NULL)
		acme_validated(la, j1, 0, E "connection", "timeout", T0 + 2);
	begin(&acct4, "{}", T0 + 2);
	end(acme_challenge(&ctx, az[2], ch[2]));
	is_int(resp.status, 200, "in flight: once one ended, the third starts");
	is_str(bstr("status"), "processing", "... processing");
	j3 = resp.job;
	resp.job = NULL;
	ok(j3 != NULL, "... with its job");
	is_int(post_new_chall(&acct4, "f4.example", T0 + 2, az[3], ch[3]), 429,
	    "in flight: at the bound again: 429");
	/* Lost jobs (a process gone) count until they are stale. */
	begin(&acct4, "{}", T0 + 2 * to + 2);
	end(acme_challenge(&ctx, az[3], ch[3]));
	is_int(resp.status, 200, "in flight: stale ones no longer count");
	j4 = resp.job;
	resp.job = NULL;
	la->cfg->acme.max_validations = saved;
	ca_acme_job_free(j1);
	ca_acme_job_free(j2);
	ca_acme_job_free(j3);
	ca_acme_job_free(j4);
}

/*
 * An account's deactivation (RFC 8555 7.3.6) cancels its pending and
 * ready orders and their pending authorizations, in its transaction;
 * valid orders, other accounts' orders and late outcomes are untouched.
 */
static void
test_account_deactivation(void)
{
	static const char *const dns[] = { "dr.example" };
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	char pend[64], ready[64], valid[64], other[64], az[64], vaz[64];
	char chall[64], *csr;
	struct ca_acme_job *job = NULL;

	store_account(&acct3);
	/* Pending, with its challenge processing (a job given out). */
	new_order(&acct3, "[{\"type\":\"dns\",\"value\":\"dp.example\"}]", T0,
	    pend, sizeof(pend));
	last(bat("authorizations", 0, NULL), az, sizeof(az));
	begin(&acct3, NULL, T0);
	end(acme_authz(&ctx, az));
	last(bat("challenges", 0, "url"), chall, sizeof(chall));
	begin(&acct3, "{}", T0);
	end(acme_challenge(&ctx, az, chall));
	job = resp.job;
	resp.job = NULL;
	ok(job != NULL, "deactivation: a challenge processing first");
	new_order(&acct3, "[{\"type\":\"dns\",\"value\":\"dr.example\"}]", T0,
	    ready, sizeof(ready));
	validate_all(&acct3, ready, "http-01", 1, T0);
	new_order(&acct3, "[{\"type\":\"dns\",\"value\":\"dr.example\"}]", T0,
	    valid, sizeof(valid));
	last(bat("authorizations", 0, NULL), vaz, sizeof(vaz));
	validate_all(&acct3, valid, "http-01", 1, T0);
	csr = csr_b64(key, NULL, dns, 1, NULL, 0);
	finalize(&acct3, valid, csr, T0);
	is_str(bstr("status"), "valid", "deactivation: a valid order first");
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"do.example\"}]", T0,
	    other, sizeof(other));

	begin(&acct3, "{\"status\":\"deactivated\"}", T0);
	end(acme_account(&ctx, acct3.id));
	is_int(resp.status, 200, "account deactivated: 200");
	is_str(bstr("status"), "deactivated", "... deactivated");

	begin(&acct3, NULL, T0);
	end(acme_order(&ctx, pend));
	is_str(bstr("status"), "invalid", "its pending order: invalid");
	ok(body != NULL && strstr(resp.body, E "unauthorized") != NULL &&
	    strstr(resp.body, "deactivated") != NULL, "... its error says why");
	begin(&acct3, NULL, T0);
	end(acme_authz(&ctx, az));
	is_str(bstr("status"), "deactivated", "... its pending authorization: "
	    "deactivated");
	begin(&acct3, NULL, T0);
	end(acme_order(&ctx, ready));
	is_str(bstr("status"), "invalid", "its ready order: invalid");
	begin(&acct3, NULL, T0);
	end(acme_order(&ctx, valid));
	is_str(bstr("status"), "valid", "its valid order: still valid");
	ok(bstr("certificate")[0] != '\0', "... with its certificate");
	begin(&acct3, NULL, T0);
	end(acme_authz(&ctx, vaz));
	is_str(bstr("status"), "valid", "... and its valid authorization");
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, other));
	is_str(bstr("status"), "pending", "another account's order: pending");

	finalize(&acct3, ready, csr, T0);
	is_int(resp.status, 403, "finalize of the cancelled order: 403");
	ok(bstr("certificate")[0] == '\0', "... no certificate");
	/* The validation that was in flight ends: nothing moves. */
	if (job != NULL)
		is_int(acme_validated(la, job, 1, NULL, NULL, T0), 0,
		    "the late outcome is taken");
	begin(&acct3, NULL, T0);
	end(acme_order(&ctx, pend));
	is_str(bstr("status"), "invalid", "... and the order stays invalid");
	begin(&acct3, NULL, T0);
	end(acme_authz(&ctx, az));
	is_str(bstr("status"), "deactivated", "... its authorization "
	    "deactivated");
	ca_acme_job_free(job);
	free(csr);
	gnutls_privkey_deinit(key);
}

/* No certificate without its record, no order valid without one. */
static void
test_store_failure(void)
{
	static const char *const dns[] = { "sf.example" };
	static struct ca_store_backend failing;
	struct ca_store *st = NULL, *old_st;
	struct ca_store_group *g = NULL, *old_g;
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	struct ca_cert_info *v = NULL;
	size_t n0 = 0, n1 = 0, i;
	char id[64], *csr;

	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"sf.example\"}]", T0,
	    id, sizeof(id));
	validate_all(&acct1, id, "http-01", 1, T0);
	if (ca_authority_db_list(ah, &v, &n0) == 0) {
		for (i = 0; i < n0; i++)
			ca_cert_info_free(&v[i]);
		free(v);
	}
	failing = ca_store_gdbm;
	failing.commit = failing_commit;
	if (ca_store_open_backend(&failing, la->cfg->db_dir,
	    la->cfg->lock_timeout_ms, &st) != 0 ||
	    ca_store_group_new(st, &la->store_lock, &g) != 0) {
		ok(0, "failing store: %s", ca_errmsg());
		return;
	}
	old_st = la->store;
	old_g = la->group;
	la->store = st;
	la->group = g;
	fail_commits = 1;
	csr = csr_b64(key, NULL, dns, 1, NULL, 0);
	finalize(&acct1, id, csr, T0);
	fail_commits = 0;
	la->store = old_st;
	la->group = old_g;
	ca_store_group_free(g);
	ca_store_close(st);
	is_int(resp.status, 500, "finalize: commit fails: 500");
	is_str(bstr("type"), E "serverInternal", "... serverInternal");
	ok(strstr(resp.body, "BEGIN CERTIFICATE") == NULL &&
	    bstr("certificate")[0] == '\0', "... no certificate handed out");
	begin(&acct1, NULL, T0);
	end(acme_order(&ctx, id));
	is_str(bstr("status"), "ready", "... the order is still ready");
	ok(bstr("certificate")[0] == '\0', "... without a certificate");
	if (ca_authority_db_list(ah, &v, &n1) == 0) {
		for (i = 0; i < n1; i++)
			ca_cert_info_free(&v[i]);
		free(v);
	}
	is_int(n1, n0, "... and no certificate recorded");
	/* The store back: the same order finalizes. */
	finalize(&acct1, id, csr, T0);
	is_str(bstr("status"), "valid", "finalize: once the store works: valid");
	free(csr);
	gnutls_privkey_deinit(key);
}

/* The issuance policy (lib/policy.h): newOrder, and finalize of an order
 * made before the policy was tightened; 403 rejectedIdentifier. */
static void
test_policy(void)
{
	static const char *const dns[] = { "pol.example" };
	gnutls_privkey_t key = new_key(CA_KEY_EC_P256);
	struct json_object *o;
	char id[64], *csr;

	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"pol.example\"}]",
	    T0, id, sizeof(id));
	is_int(validate_all(&acct1, id, "http-01", 1, T0), 0, "policy: an "
	    "order validated before the policy");
	o = json_tokener_parse("{\"x509\": {\"deny\": {\"dns\": "
	    "[\"*.evil.example\", \"pol.example\"]}}}");
	if (ca_policy_parse(o, "policy", &prov.policy) != 0)
		printf("Bail out! policy: %s\n", ca_errmsg());
	json_object_put(o);
	new_order(&acct1, "[{\"type\":\"dns\",\"value\":\"X.Evil.Example.\"}]",
	    T0, NULL, 0);
	is_int(resp.status, 403, "policy: newOrder of a denied name: 403");
	is_str(bstr("type"), E "rejectedIdentifier", "... rejectedIdentifier");
	is_str(bstr("detail"), "dns name x.evil.example denied by provisioner "
	    "\"acme\" policy deny.dns \"*.evil.example\"", "... naming the "
	    "name and the rule");
	csr = csr_b64(key, NULL, dns, 1, NULL, 0);
	finalize(&acct1, id, csr, T0);
	is_int(resp.status, 403, "policy: finalize of a name denied since: 403");
	is_str(bstr("type"), E "rejectedIdentifier", "... rejectedIdentifier");
	ca_policy_free(prov.policy);
	prov.policy = NULL;
	finalize(&acct1, id, csr, T0);
	is_int(resp.status, 200, "policy: the order stayed ready");
	free(csr);
	gnutls_privkey_deinit(key);
}

int
main(void)
{
	char dir[4200], provpath[4200];

	tmpdir_make("acme-b");
	unit_ca_make(dir, sizeof(dir), provpath, sizeof(provpath));
	if (ca_authority_open(dir, NULL, &ah) != 0) {
		printf("Bail out! open: %s\n", ca_errmsg());
		return 1;
	}
	la = ah->impl;
	T0 = time(NULL);
	memset(&prov, 0, sizeof(prov));
	prov.name = pname;
	prov.type = ptype;
	prov.kid = pname;
	prov.claims = la->cfg->claims;
	prov.acme_challenges = CA_ACME_ALL;
	make_account(&acct1, "acct1AAAAAAAAAAAAAAAAA");
	make_account(&acct2, "acct2BBBBBBBBBBBBBBBBB");
	make_account(&acct3, "acct3CCCCCCCCCCCCCCCCC");
	make_account(&acct4, "acct4DDDDDDDDDDDDDDDDD");
	store_account(&acct1);
	store_account(&acct2);

	test_new_order();
	test_states();
	test_finalize();
	test_finalize_template();
	test_policy();
	test_config();
	test_others();
	test_revoke();
	test_inflight();
	test_account_deactivation();
	test_store_failure();

	ca_acme_resp_free(&resp);
	json_object_put(body);
	json_object_put(ctx.payload);
	free(acct1.status);
	free(acct1.thumbprint);
	ca_jwk_free(acct1.key);
	free(acct2.status);
	free(acct2.thumbprint);
	ca_jwk_free(acct2.key);
	free(acct3.status);
	free(acct3.thumbprint);
	ca_jwk_free(acct3.key);
	free(acct4.status);
	free(acct4.thumbprint);
	ca_jwk_free(acct4.key);
	ca_authority_close(ah);
	tmpdir_remove();
	return tap_done();
}
