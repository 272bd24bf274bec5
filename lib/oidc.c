/*
 * oidc.c - the OIDC provisioner (DESIGN13 2.3): an ID token from an
 * OpenID provider, verified with the keys its discovery document points
 * to. The keys are fetched by ca_oidc_refresh, which the authority calls
 * before it takes its configuration lock (never inside a store
 * transaction); the verifier only reads the cache.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "curl.h"
#include "jose.h"
#include "json.h"
#include "oidc.h"
#include "x509.h"

#define WELL_KNOWN	"/.well-known/openid-configuration"
#define MAX_LIST	64	/* admins, domains, groups, scopes */
#define RETRY_FAILED	10	/* s before a failed first fetch is tried again */
#define MAX_DATE	253402300799LL	/* 9999-12-31T23:59:59Z */

/* ---- ca.json ---- */

static void
conf_free(void *v)
{
	struct ca_oidc_conf *c = v;

	if (c == NULL)
		return;
	free(c->discovery);
	free(c->admins);
	free(c->domains);
	free(c->groups);
	free(c->scopes);
	free(c);
}

/* An array of at most MAX_LIST non-empty strings (borrowed), or absent. */
static int
str_list(struct json_object *o, const char *key, const char ***v, size_t *n)
{
	struct json_object *a, *e;
	size_t i, len;
	int rc;

	*v = NULL;
	*n = 0;
	if ((rc = ca_json_array(o, key, 0, &a)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((len = json_object_array_length(a)) > MAX_LIST)
		return ca_err(CA_ERR_CONFIG, "%s: more than %d entries", key,
		    MAX_LIST);
	if ((*v = calloc(len + 1, sizeof(**v))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    json_object_get_string_len(e) == 0)
			return ca_err(CA_ERR_CONFIG, "%s[%zu]: not a non-empty "
			    "string", key, i);
		(*v)[(*n)++] = json_object_get_string(e);
	}
	return 0;
}

/*
 * Whether u is a URL we fetch: https, or http to a loopback host (a
 * provider on this machine, as the tests run one). No spaces or controls.
 */
static int
url_ok(const char *u)
{
	const char *h, *end, *e;
	size_t n;

	for (h = u; *h != '\0'; h++)
		if ((unsigned char)*h <= ' ' || (unsigned char)*h >= 0x7f)
			return 0;
	if (strncasecmp(u, "https://", 8) == 0)
		return u[8] != '\0' && u[8] != '/';
	if (strncasecmp(u, "http://", 7) != 0)
		return 0;
	h = u + 7;
	if (*h == '[')
		end = strchr(h, ']') != NULL ? strchr(h, ']') + 1 : h;
	else
		end = h + strcspn(h, ":/?#");
	n = (size_t)(end - h);
	if (*end != '\0' && *end != ':' && *end != '/')
		return 0;
	/* A port is digits: "localhost:80@evil/" names evil (userinfo). */
	if (*end == ':') {
		for (e = end + 1; isdigit((unsigned char)*e); e++)
			;
		if (*e != '\0' && *e != '/')
			return 0;
	}
	return (n == 9 && strncmp(h, "127.0.0.1", n) == 0) ||
	    (n == 9 && strncasecmp(h, "localhost", n) == 0) ||
	    (n == 5 && strncmp(h, "[::1]", n) == 0);
}

int
ca_oidc_conf_load(struct json_object *o, struct ca_provisioner *p)
{
	struct ca_oidc_conf *c;
	struct json_object *v;
	const char *ep;
	size_t n;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	p->impl = c;
	p->impl_free = conf_free;
	if ((rc = ca_json_string(o, "clientID", 1, &c->client_id)) != 0 ||
	    (rc = ca_json_string(o, "configurationEndpoint", 1, &ep)) != 0)
		return rc == CA_ERR_INVAL ? CA_ERR_CONFIG : rc;
	if (*c->client_id == '\0')
		return ca_err(CA_ERR_CONFIG, "clientID is empty");
	if ((rc = ca_json_string(o, "clientSecret", 0, &c->client_secret)) ==
	    CA_ERR_NOTFOUND)
		c->client_secret = "";
	else if (rc != 0)
		return CA_ERR_CONFIG;
	if (((rc = ca_json_string(o, "tenantID", 0, &c->tenant_id)) != 0 &&
	    rc != CA_ERR_NOTFOUND) ||
	    ((rc = ca_json_string(o, "listenAddress", 0,
	    &c->listen_address)) != 0 && rc != CA_ERR_NOTFOUND) ||
	    ((rc = ca_json_object(o, "authParams", 0, &v)) != 0 &&
	    rc != CA_ERR_NOTFOUND))
		return CA_ERR_CONFIG;
	c->auth_params = rc == 0 ? v : NULL;
	if ((rc = str_list(o, "admins", &c->admins, &c->n_admins)) != 0 ||
	    (rc = str_list(o, "domains", &c->domains, &c->n_domains)) != 0 ||
	    (rc = str_list(o, "groups", &c->groups, &c->n_groups)) != 0 ||
	    (rc = str_list(o, "scopes", &c->scopes, &c->n_scopes)) != 0)
		return rc == CA_ERR_INVAL ? CA_ERR_CONFIG : rc;
	if (!url_ok(ep))
		return ca_err(CA_ERR_CONFIG, "configurationEndpoint \"%s\": "
		    "not an https URL (http only to 127.0.0.1, localhost, "
		    "[::1])", ep);
	/* step-ca appends the well-known path when it is not there. */
	n = strlen(ep);
	if (n >= strlen(WELL_KNOWN) &&
	    strcmp(ep + n - strlen(WELL_KNOWN), WELL_KNOWN) == 0)
		c->discovery = strdup(ep);
	else if (asprintf(&c->discovery, "%.*s%s", (int)(n > 0 &&
	    ep[n - 1] == '/' ? n - 1 : n), ep, WELL_KNOWN) < 0)
		c->discovery = NULL;
	if (c->discovery == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- the cache ---- */

/* One fetched key set: immutable once made, shared by reference. */
struct oidc_keys {
	unsigned long	 refs;
	char		*issuer;
	size_t		 n;
	struct ca_jwk	*keys[CA_OIDC_MAX_KEYS];
	/* The JWK of a key that names no "alg": verified with the header's
	 * when it fits the key; NULL when the JWK fixes its algorithm. */
	struct json_object *bare[CA_OIDC_MAX_KEYS];
};

struct oidc_entry {
	struct oidc_entry *next;
	char		*url;		/* the discovery URL */
	char		*jwks_uri;	/* from the discovery document */
	struct oidc_keys *keys;		/* NULL until a fetch succeeded */
	time_t		 expires;	/* keys' age limit */
	time_t		 fetched;	/* last attempt */
	time_t		 failed;	/* last failure with no keys, or 0 */
	time_t		 kid_fetch;	/* last fetch for an unknown kid, or 0 */
	char		 err[256];	/* its message */
	int		 fetching;
};

struct ca_oidc_cache {
	pthread_mutex_t	 lock;
	pthread_cond_t	 done;
	struct oidc_entry *head;
	unsigned long	 fetches;
};

static void
keys_put(struct oidc_keys *k)
{
	size_t i;

	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < k->n; i++) {
		ca_jwk_free(k->keys[i]);
		json_object_put(k->bare[i]);
	}
	free(k->issuer);
	free(k);
}

int
ca_oidc_cache_new(struct ca_oidc_cache **out)
{
	struct ca_oidc_cache *c;

	if ((*out = c = calloc(1, sizeof(*c))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done, NULL);
	return 0;
}

void
ca_oidc_cache_free(struct ca_oidc_cache *c)
{
	struct oidc_entry *e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		keys_put(e->keys);
		free(e->url);
		free(e->jwks_uri);
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->done);
	free(c);
}

unsigned long
ca_oidc_cache_fetches(struct ca_oidc_cache *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->lock);
	n = c->fetches;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Called with c->lock held. NULL: out of memory (recorded). */
static struct oidc_entry *
entry_of(struct ca_oidc_cache *c, const char *url, int add)
{
	struct oidc_entry *e;

	for (e = c->head; e != NULL; e = e->next)
		if (strcmp(e->url, url) == 0)
			return e;
	if (!add)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->url = strdup(url)) == NULL) {
		free(e);
		ca_err(CA_ERR_NOMEM, "out of memory");
		return NULL;
	}
	e->next = c->head;
	c->head = e;
	return e;
}

/* The keys of a JWKS document: those for signatures that we can use. */
static int
keys_parse(const char *issuer, const char *doc, size_t len,
    struct oidc_keys **out)
{
	struct json_object *j = NULL, *arr, *o;
	struct oidc_keys *k;
	const char *use, *alg;
	size_t i, n;
	int rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->issuer = strdup(issuer)) == NULL) {
		free(k);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	k->refs = 1;
	if ((rc = ca_json_parse(doc, len, "JWKS", &j)) != 0)
		goto out;
	if ((rc = ca_json_array(j, "keys", 1, &arr)) != 0) {
		ca_err_context("JWKS");
		goto out;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n && k->n < CA_OIDC_MAX_KEYS; i++) {
		o = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(o, json_type_object) ||
		    (ca_json_string(o, "use", 0, &use) == 0 &&
		    strcmp(use, "sig") != 0))
			continue;
		if (ca_jwk_from_json(o, &k->keys[k->n]) != 0) {
			/* Key types and curves we do not verify with. */
			ca_debug("JWKS of %s: key %zu skipped: %s", issuer, i,
			    ca_errmsg());
			ca_err_clear();
			continue;
		}
		if (ca_json_string(o, "alg", 0, &alg) != 0)
			k->bare[k->n] = json_object_get(o);
		k->n++;
	}
	ca_err_clear();
	if (k->n == 0) {
		rc = ca_err(CA_ERR_AUTH, "the JWKS of %s has no usable "
		    "signing key", issuer);
		goto out;
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	json_object_put(j);
	keys_put(k);
	return rc;
}

/* Called with c->lock held: e gets keys (a new reference is taken). */
static void
install(struct ca_oidc_cache *c, struct oidc_entry *e, struct oidc_keys *k,
    time_t now, long max_age)
{
	if (max_age < 0)
		max_age = CA_OIDC_AGE_DEFAULT;
	if (max_age > CA_OIDC_AGE_MAX)
		max_age = CA_OIDC_AGE_MAX;
	/* no-store, no-cache, max-age=0: still not a fetch per token. */
	if (max_age < CA_OIDC_REFETCH)
		max_age = CA_OIDC_REFETCH;
	keys_put(e->keys);
	__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
	e->keys = k;
	e->expires = now + max_age;
	e->fetched = now;
	e->failed = 0;
	e->err[0] = '\0';
	(void)c;
}

int
ca_oidc_cache_put(struct ca_oidc_cache *c, const char *url,
    const char *issuer, const char *jwks, size_t len, time_t now,
    long max_age)
{
	struct oidc_keys *k;
	struct oidc_entry *e;
	int rc;

	if ((rc = keys_parse(issuer, jwks, len, &k)) != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	if ((e = entry_of(c, url, 1)) == NULL)
		rc = CA_ERR_NOMEM;
	else
		install(c, e, k, now, max_age);
	pthread_mutex_unlock(&c->lock);
	keys_put(k);
	return rc;
}

/* ---- HTTP ---- */

struct fetched {
	char	*p;
	size_t	 len;
	int	 toobig;
	long	 max_age;	/* -1: none given */
};

static size_t
on_body(char *d, size_t sz, size_t nm, void *arg)
{
	struct fetched *b = arg;
	size_t n = sz * nm;
	char *q;

	if (b->len + n > CA_OIDC_MAX_DOC) {
		b->toobig = 1;
		return 0;
	}
	if ((q = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

long
ca_oidc_header_age(const char *d, size_t n)
{
	char line[512];
	const char *m;
	size_t i;
	long v;

	if (n < 14 || strncasecmp(d, "cache-control:", 14) != 0)
		return -1;
	memcpy(line, d, n < sizeof(line) ? n : sizeof(line) - 1);
	line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
	for (i = 0; line[i] != '\0'; i++)
		line[i] = (char)tolower((unsigned char)line[i]);
	if (strstr(line, "no-store") != NULL || strstr(line, "no-cache") != NULL)
		return 0;
	if ((m = strstr(line, "max-age=")) == NULL ||
	    !isdigit((unsigned char)m[8]))
		return -1;
	for (v = 0, m += 8; isdigit((unsigned char)*m) && v <= CA_OIDC_AGE_MAX;
	    m++)
		v = v * 10 + (*m - '0');
	return v;
}

static size_t
on_header(char *d, size_t sz, size_t nm, void *arg)
{
	struct fetched *b = arg;
	long v;

	if ((v = ca_oidc_header_age(d, sz * nm)) >= 0)
		b->max_age = v;
	return sz * nm;
}

#define SETOPT(opt, val) do {						\
	if ((cc = ca_curl.easy_setopt(h, (opt), (val))) != CURLE_OK)	\
		goto setopt;						\
} while (0)

/* GET url (POST post, when not NULL): 200 and a body of at most
 * CA_OIDC_MAX_DOC bytes in *b. */
static int
http_req(const char *url, const char *post, struct fetched *b)
{
	char errbuf[CURL_ERROR_SIZE], eu[200];
	CURL *h;
	CURLcode cc;
	long status = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	b->max_age = -1;
	errbuf[0] = '\0';
	ca_escape(eu, sizeof(eu), url, 0);
	if (!url_ok(url))
		return ca_err(CA_ERR_AUTH, "%s: not an https URL (http only "
		    "to a loopback host)", eu);
	if ((rc = ca_curl_load()) != 0)
		return rc;
	if ((h = ca_curl.easy_init()) == NULL) {
		ca_curl_unload();
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
	SETOPT(CURLOPT_CONNECTTIMEOUT, (long)CA_OIDC_TIMEOUT);
	SETOPT(CURLOPT_TIMEOUT, (long)CA_OIDC_TIMEOUT);
	SETOPT(CURLOPT_MAXFILESIZE, (long)CA_OIDC_MAX_DOC);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, b);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, b);
	SETOPT(CURLOPT_USERAGENT, "ca-tools/" PACKAGE_VERSION " (OIDC)");
	if (post != NULL)
		SETOPT(CURLOPT_POSTFIELDS, post);
	if ((cc = ca_curl.easy_perform(h)) != CURLE_OK) {
		rc = ca_err(cc == CURLE_OPERATION_TIMEDOUT ||
		    cc == CURLE_COULDNT_CONNECT ? CA_ERR_TEMP : CA_ERR_AUTH,
		    "%s: %s", eu, b->toobig ||
		    cc == CURLE_FILESIZE_EXCEEDED ? "response too long" :
		    errbuf[0] != '\0' ? errbuf : ca_curl.easy_strerror(cc));
		goto out;
	}
	ca_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	rc = status == 200 ? 0 : ca_err(CA_ERR_AUTH, "%s: HTTP status %ld%s%.200s",
	    eu, status, b->p != NULL ? ": " : "", b->p != NULL ? b->p : "");
	goto out;
setopt:
	rc = ca_err(CA_ERR_CONFIG, "libcurl: %s", ca_curl.easy_strerror(cc));
out:
	ca_curl.easy_cleanup(h);
	ca_curl_unload();
	if (rc != 0) {
		free(b->p);
		b->p = NULL;
	}
	return rc;
}

int
ca_oidc_http(const char *url, const char *post, char **body, size_t *len)
{
	struct fetched b;
	int rc;

	*body = NULL;
	*len = 0;
	if ((rc = http_req(url, post, &b)) != 0)
		return rc;
	if (b.p == NULL && (b.p = strdup("")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	*body = b.p;
	*len = b.len;
	return 0;
}

int
ca_oidc_url_ok(const char *url)
{
	return url_ok(url);
}

/* The length of u's "scheme://authority" (to the path, query or end). */
static size_t
origin_len(const char *u)
{
	const char *h = strstr(u, "://");

	h = h != NULL ? h + 3 : u;
	return (size_t)(h - u) + strcspn(h, "/?#");
}

/*
 * The issuer must be of the discovery URL's origin (OpenID Connect
 * Discovery 4.3 wants more: the URL is the issuer's; a tenant's issuer,
 * "https://HOST/{tenantid}/v2.0" discovered at ".../common/v2.0", only
 * shares its origin): the issuer names the provider in the certificates'
 * URI SANs ("ISS#SUB"), and a provider must not speak for another.
 */
static int
issuer_ok(const char *url, const char *iss)
{
	size_t n = origin_len(url);

	return url_ok(iss) && origin_len(iss) == n &&
	    strncasecmp(iss, url, n) == 0;
}

/* The discovery document's issuer and jwks_uri (malloc'd). */
static int
discover(const char *url, char **issuer, char **jwks_uri)
{
	struct fetched b;
	struct json_object *j = NULL;
	const char *iss, *ju;
	int rc;

	*issuer = *jwks_uri = NULL;
	if ((rc = http_req(url, NULL, &b)) != 0)
		return rc;
	if ((rc = ca_json_parse(b.p, b.len, "discovery document", &j)) != 0 ||
	    (rc = ca_json_string(j, "issuer", 1, &iss)) != 0 ||
	    (rc = ca_json_string(j, "jwks_uri", 1, &ju)) != 0) {
		ca_err_context("%s", url);
		rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
		goto out;
	}
	if (!url_ok(ju)) {
		rc = ca_err(CA_ERR_AUTH, "%s: jwks_uri is not an https URL",
		    url);
		goto out;
	}
	if (!issuer_ok(url, iss)) {
		rc = ca_err(CA_ERR_AUTH, "%s: issuer \"%.200s\" is not of the "
		    "discovery URL's origin", url, iss);
		goto out;
	}
	if ((*issuer = strdup(iss)) == NULL || (*jwks_uri = strdup(ju)) == NULL) {
		free(*issuer);
		*issuer = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
out:
	json_object_put(j);
	free(b.p);
	return rc;
}

static int
has_kid(const struct oidc_keys *k, const char *kid)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (ca_jwk_kid(k->keys[i]) != NULL &&
		    strcmp(ca_jwk_kid(k->keys[i]), kid) == 0)
			return 1;
	return 0;
}

int
ca_oidc_refresh(struct ca_oidc_cache *c, const char *url, const char *kid,
    time_t now)
{
	struct oidc_entry *e;
	struct oidc_keys *k = NULL;
	struct fetched b = { NULL, 0, 0, -1 };
	char *issuer = NULL, *jwks_uri = NULL;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if ((e = entry_of(c, url, 1)) == NULL) {
		pthread_mutex_unlock(&c->lock);
		return CA_ERR_NOMEM;
	}
	while (e->fetching)
		pthread_cond_wait(&c->done, &c->lock);
	if (e->keys == NULL && e->failed != 0 && now - e->failed < RETRY_FAILED) {
		rc = ca_err(CA_ERR_TEMP, "%s", e->err);
		goto unlock;
	}
	if (e->keys != NULL && now < e->expires) {
		/* Fresh: only a new kid (a rotated key) fetches, once a
		 * minute at most, whatever the tokens claim. */
		if (kid == NULL || has_kid(e->keys, kid) ||
		    (e->kid_fetch != 0 && now - e->kid_fetch < CA_OIDC_REFETCH))
			goto unlock;
		e->kid_fetch = now;
	}
	/* Ours to fetch; the others wait for it. */
	e->fetching = 1;
	if (e->jwks_uri != NULL && (jwks_uri = strdup(e->jwks_uri)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (e->keys != NULL && (issuer = strdup(e->keys->issuer)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto done;
	}
	pthread_mutex_unlock(&c->lock);
	if (jwks_uri == NULL || issuer == NULL) {
		free(issuer);
		free(jwks_uri);
		rc = discover(url, &issuer, &jwks_uri);
	}
	if (rc == 0 && (rc = http_req(jwks_uri, NULL, &b)) == 0)
		rc = keys_parse(issuer, b.p, b.len, &k);
	pthread_mutex_lock(&c->lock);
	c->fetches++;
done:
	e->fetching = 0;
	if (rc == 0) {
		free(e->jwks_uri);
		e->jwks_uri = jwks_uri;
		jwks_uri = NULL;
		install(c, e, k, now, b.max_age);
		ca_debug("OIDC %s: JWKS fetched, %zu keys, kept %lds", url,
		    k->n, (long)(e->expires - now));
	} else {
		e->fetched = now;
		if (e->keys == NULL) {
			e->failed = now;
			snprintf(e->err, sizeof(e->err), "%s", ca_errmsg());
		} else {
			/* Keep the old keys a while: the provider is down. */
			if (e->expires < now + CA_OIDC_REFETCH)
				e->expires = now + CA_OIDC_REFETCH;
			ca_warn("OIDC %s: keys not refreshed: %s", url,
			    ca_errmsg());
		}
	}
	pthread_cond_broadcast(&c->done);
unlock:
	pthread_mutex_unlock(&c->lock);
	keys_put(k);
	free(b.p);
	free(issuer);
	free(jwks_uri);
	return rc;
}

/* A reference on url's keys, or NULL (and why in *why). */
static struct oidc_keys *
keys_get(struct ca_oidc_cache *c, const char *url, char *why, size_t n)
{
	struct oidc_entry *e;
	struct oidc_keys *k = NULL;

	snprintf(why, n, "not fetched");
	pthread_mutex_lock(&c->lock);
	if ((e = entry_of(c, url, 0)) != NULL) {
		if ((k = e->keys) != NULL)
			__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
		else if (e->err[0] != '\0')
			snprintf(why, n, "%s", e->err);
	}
	pthread_mutex_unlock(&c->lock);
	return k;
}

/* ---- the token ---- */

/* Whether aud (a string or an array of them) contains id. */
static int
aud_has(struct json_object *aud, const char *id)
{
	size_t i, n;
	struct json_object *a;

	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), id) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	n = json_object_array_length(aud);
	for (i = 0; i < n && i < 16; i++) {
		a = json_object_array_get_idx(aud, i);
		if (json_object_is_type(a, json_type_string) &&
		    strcmp(json_object_get_string(a), id) == 0)
			return 1;
	}
	return 0;
}

/* The first served OIDC provisioner whose clientID is in the audience. */
static const struct ca_provisioner *
find_prov(const struct ca_config *cfg, struct json_object *claims)
{
	struct json_object *aud;
	const struct ca_oidc_conf *oc;
	size_t i;

	if (!json_object_object_get_ex(claims, "aud", &aud))
		return NULL;
	for (i = 0; i < cfg->n_provisioners; i++) {
		if (cfg->provisioners[i].kind != CA_PROV_OIDC ||
		    (oc = cfg->provisioners[i].impl) == NULL)
			continue;
		if (aud_has(aud, oc->client_id))
			return &cfg->provisioners[i];
	}
	return NULL;
}

int
ca_oidc_want(const struct ca_config *cfg, const char *tok, size_t len,
    char **url, char **kid)
{
	const struct ca_provisioner *p;
	struct ca_jws *jws = NULL;
	struct json_object *claims = NULL;
	enum ca_cred cred;
	const char *k;
	size_t i;
	int rc = 0;

	*url = *kid = NULL;
	for (i = 0; i < cfg->n_provisioners; i++)
		if (cfg->provisioners[i].kind == CA_PROV_OIDC &&
		    cfg->provisioners[i].impl != NULL)
			break;
	if (i == cfg->n_provisioners || tok == NULL)
		return 0;
	while (len > 0 && isspace((unsigned char)tok[len - 1]))
		len--;
	/* A token that does not parse is the verifier's to refuse. */
	if (len == 0 || len > CA_MAX_TOKEN ||
	    ca_jws_parse(tok, len, &jws) != 0 ||
	    ca_json_parse((const char *)jws->payload, jws->payload_len,
	    "token claims", &claims) != 0 ||
	    !json_object_is_type(claims, json_type_object) ||
	    ca_authz_route(cfg, jws->header, claims, &cred) != 0 ||
	    cred != CA_CRED_OIDC ||
	    (p = find_prov(cfg, claims)) == NULL)
		goto out;
	if ((*url = strdup(((const struct ca_oidc_conf *)p->impl)->discovery))
	    == NULL ||
	    (ca_json_string(jws->header, "kid", 0, &k) == 0 &&
	    (*kid = strdup(k)) == NULL)) {
		free(*url);
		*url = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
out:
	if (rc == 0)
		ca_err_clear();
	json_object_put(claims);
	ca_jws_free(jws);
	return rc;
}

/* The signature, with the key the header's kid names (any, without one). */
static int
verify_sig(const struct oidc_keys *k, const struct ca_jws *jws)
{
	struct json_object *o;
	struct ca_jwk *t;
	const char *kid = NULL, *alg = NULL;
	size_t i;
	int tried = 0, rc;

	(void)ca_json_string(jws->header, "alg", 0, &alg);
	if (ca_json_string(jws->header, "kid", 0, &kid) != 0)
		kid = NULL;
	for (i = 0; i < k->n; i++) {
		if (kid != NULL && (ca_jwk_kid(k->keys[i]) == NULL ||
		    strcmp(kid, ca_jwk_kid(k->keys[i])) != 0))
			continue;
		tried++;
		if (alg != NULL && k->bare[i] != NULL &&
		    strcmp(alg, ca_jwk_alg(k->keys[i])) != 0) {
			/* A JWK without "alg": the header's, if it fits. */
			if ((o = json_object_new_object()) == NULL)
				return ca_err(CA_ERR_NOMEM, "out of memory");
			json_object_object_foreach(k->bare[i], name, val)
				json_object_object_add(o, name,
				    json_object_get(val));
			json_object_object_add(o, "alg",
			    json_object_new_string(alg));
			rc = ca_jwk_from_json(o, &t);
			json_object_put(o);
			if (rc != 0)
				continue;
			rc = ca_jws_verify(jws, t);
			ca_jwk_free(t);
		} else
			rc = ca_jws_verify(jws, k->keys[i]);
		if (rc == 0) {
			ca_err_clear();
			return 0;
		}
	}
	if (tried == 0)
		return ca_err(CA_ERR_AUTH, "unknown key id \"%s\" (not in the "
		    "provider's JWKS)", kid != NULL ? kid : "");
	return ca_err(CA_ERR_AUTH, "ID token signature verification failed");
}

static int
list_has(const char *const *l, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* Whether two e-mail addresses are the same, the domain in any case. */
static int
email_eq(const char *a, const char *b)
{
	const char *x = strrchr(a, '@'), *y = strrchr(b, '@');

	if (x == NULL || y == NULL)
		return strcmp(a, b) == 0;
	return x - a == y - b && strncmp(a, b, (size_t)(x - a)) == 0 &&
	    strcasecmp(x, y) == 0;
}

/* "ISS#SUB", the fragment percent-encoded as Go's url.URL writes it. */
static char *
iss_sub_uri(const char *iss, const char *sub)
{
	static const char hex[] = "0123456789ABCDEF";
	char *s, *q;
	size_t n = strlen(iss);

	if ((s = malloc(n + 1 + 3 * strlen(sub) + 1)) == NULL)
		return NULL;
	memcpy(s, iss, n);
	q = s + n;
	*q++ = '#';
	for (; *sub != '\0'; sub++) {
		unsigned char ch = (unsigned char)*sub;

		if (isalnum(ch) || strchr("-._~!$&'()*+,;=:@/?", ch) != NULL)
			*q++ = (char)ch;
		else {
			*q++ = '%';
			*q++ = hex[ch >> 4];
			*q++ = hex[ch & 15];
		}
	}
	*q = '\0';
	return s;
}

static int
dup_to(const char *s, char **out)
{
	if ((*out = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/* The one-time id: the nonce when it is a plain short string, else a hash. */
static int
ott_of(struct json_object *claims, const struct ca_jws *jws, char **out)
{
	const char *nonce;
	size_t i, n;

	if (ca_json_string(claims, "nonce", 0, &nonce) == 0 &&
	    (n = strlen(nonce)) > 0 && n <= 128) {
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)nonce[i]) &&
			    strchr("-_.~", nonce[i]) == NULL)
				break;
		if (i == n)
			return dup_to(nonce, out);
	}
	ca_err_clear();
	/* Of the signed part: an ECDSA signature has a second valid form. */
	return ca_authz_token_hash(jws, out);
}

/* exp, iat required, nbf optional; CA_OIDC_LEEWAY; lifetime bounded. */
static int
check_times(struct json_object *claims, time_t now, int64_t *exp)
{
	int64_t iat, nbf;
	int rc;

	if ((rc = ca_json_int64(claims, "exp", 1, exp)) != 0 ||
	    (rc = ca_json_int64(claims, "iat", 1, &iat)) != 0 ||
	    ((rc = ca_json_int64(claims, "nbf", 0, &nbf)) != 0 &&
	    rc != CA_ERR_NOTFOUND))
		return CA_ERR_AUTH;
	/* NumericDates up to year 9999, as lib/token.c: exp - iat must not
	 * overflow into a short lifetime. */
	if (*exp < 0 || *exp > MAX_DATE || iat < 0 || iat > MAX_DATE ||
	    (rc == 0 && (nbf < 0 || nbf > MAX_DATE)))
		return ca_err(CA_ERR_AUTH, "ID token exp, iat or nbf out of "
		    "range");
	if (*exp + CA_OIDC_LEEWAY < (int64_t)now)
		return ca_err(CA_ERR_AUTH, "ID token expired");
	if (iat - CA_OIDC_LEEWAY > (int64_t)now)
		return ca_err(CA_ERR_AUTH, "ID token issued in the future "
		    "(iat)");
	if (rc == 0 && nbf - CA_OIDC_LEEWAY > (int64_t)now)
		return ca_err(CA_ERR_AUTH, "ID token not yet valid (nbf)");
	if (*exp <= iat || *exp - iat > CA_OIDC_MAX_LIFETIME)
		return ca_err(CA_ERR_AUTH, "ID token lifetime (exp - iat) "
		    "outside (0, %d] seconds", CA_OIDC_MAX_LIFETIME);
	return 0;
}

/* iss: the discovered issuer, "{tenantid}" replaced by tenantID. */
static int
check_iss(const struct ca_oidc_conf *oc, const char *want, const char *iss)
{
	const char *t;
	size_t n;

	if (oc->tenant_id != NULL && (t = strstr(want, "{tenantid}")) != NULL) {
		n = (size_t)(t - want);
		if (strncmp(iss, want, n) == 0 &&
		    strncmp(iss + n, oc->tenant_id, strlen(oc->tenant_id)) == 0 &&
		    strcmp(iss + n + strlen(oc->tenant_id), t + 10) == 0)
			return 0;
	} else if (strcmp(iss, want) == 0)
		return 0;
	return ca_err(CA_ERR_AUTH, "ID token issuer is not the provider's "
	    "(%s)", want);
}

int
ca_authz_oidc(const struct ca_authz_ctx *x, const struct ca_jws *jws,
    struct json_object *claims, const char *tok, size_t len,
    enum ca_authz_op op, time_t now, struct ca_authz *out)
{
	const struct ca_provisioner *prov;
	const struct ca_oidc_conf *oc;
	struct oidc_keys *k = NULL;
	struct json_object *v, *g;
	const char *iss, *sub, *email = NULL, *azp;
	const char *sans[2];
	char why[256];
	size_t i, n, n_sans = 0;
	int64_t exp;
	int rc, verified = 0, admin = 0, in_group = 0;

	(void)tok;
	(void)len;
	if ((prov = find_prov(x->cfg, claims)) == NULL)
		return ca_err(CA_ERR_AUTH, "no OIDC provisioner accepts this "
		    "token");
	oc = prov->impl;
	if (x->oidc == NULL ||
	    (k = keys_get(x->oidc, oc->discovery, why, sizeof(why))) == NULL)
		return ca_err(CA_ERR_AUTH, "OIDC provisioner \"%s\": the "
		    "provider's keys are not available: %s", prov->name,
		    x->oidc == NULL ? "no key cache here" : why);
	if ((rc = verify_sig(k, jws)) != 0)
		goto out;
	if ((rc = ca_json_string(claims, "iss", 1, &iss)) != 0 ||
	    (rc = check_iss(oc, k->issuer, iss)) != 0)
		goto auth;
	if (!json_object_object_get_ex(claims, "aud", &v) ||
	    !aud_has(v, oc->client_id)) {
		rc = ca_err(CA_ERR_AUTH, "ID token audience lacks \"%s\"",
		    oc->client_id);
		goto out;
	}
	if ((rc = ca_json_string(claims, "azp", 0, &azp)) == 0 &&
	    strcmp(azp, oc->client_id) != 0) {
		rc = ca_err(CA_ERR_AUTH, "ID token azp is not \"%s\"",
		    oc->client_id);
		goto out;
	}
	if (rc != 0 && rc != CA_ERR_NOTFOUND)
		goto auth;
	/* Several audiences: azp says which party it was issued to (OpenID
	 * Connect Core 3.1.3.7), else it may be another client's token. */
	if (rc == CA_ERR_NOTFOUND && json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 1) {
		rc = ca_err(CA_ERR_AUTH, "ID token for several audiences "
		    "without azp");
		goto out;
	}
	if ((rc = check_times(claims, now, &exp)) != 0)
		goto out;
	if ((rc = ca_json_string(claims, "sub", 1, &sub)) != 0)
		goto auth;
	if (*sub == '\0' || strlen(sub) > 255) {
		rc = ca_err(CA_ERR_AUTH, "ID token sub is empty or too long");
		goto out;
	}
	if ((rc = ca_json_string(claims, "email", 0, &email)) != 0 &&
	    rc != CA_ERR_NOTFOUND)
		goto auth;
	if (rc != 0 || *email == '\0' || strlen(email) > 254)
		email = NULL;
	if (((rc = ca_json_bool(claims, "email_verified", 0, &verified)) != 0 &&
	    rc != CA_ERR_NOTFOUND))
		goto auth;
	if (rc != 0)
		verified = 0;
	g = NULL;
	if (json_object_object_get_ex(claims, "groups", &g) &&
	    !json_object_is_type(g, json_type_array)) {
		rc = ca_err(CA_ERR_AUTH, "ID token groups is not an array");
		goto out;
	}
	/* Admins: a verified address or a group listed in admins. */
	for (i = 0; i < oc->n_admins && !admin; i++)
		admin = email != NULL && verified &&
		    email_eq(email, oc->admins[i]);
	n = g != NULL ? json_object_array_length(g) : 0;
	for (i = 0; i < n && i < 256; i++) {
		v = json_object_array_get_idx(g, i);
		if (!json_object_is_type(v, json_type_string))
			continue;
		if (list_has(oc->admins, oc->n_admins, json_object_get_string(v)))
			admin = 1;
		if (list_has(oc->groups, oc->n_groups, json_object_get_string(v)))
			in_group = 1;
	}
	if (oc->n_groups > 0 && !in_group) {
		rc = ca_err(CA_ERR_AUTH, "ID token: none of its groups is "
		    "allowed");
		goto out;
	}
	/* Stricter than step-ca: an e-mail that names or admits someone
	 * must be verified by the provider. */
	if (!admin && email != NULL && !verified) {
		rc = ca_err(CA_ERR_AUTH, "ID token e-mail \"%s\" is not "
		    "verified (email_verified)", email);
		goto out;
	}
	if (!admin && oc->n_domains > 0) {
		const char *at = email != NULL ? strrchr(email, '@') : NULL;

		for (i = 0; at != NULL && i < oc->n_domains; i++)
			if (strcasecmp(at + 1, oc->domains[i]) == 0)
				break;
		if (at == NULL || i == oc->n_domains) {
			rc = ca_err(CA_ERR_AUTH, "ID token e-mail \"%s\" is not "
			    "in an allowed domain", email != NULL ? email : "");
			goto out;
		}
	}

	out->prov = prov;
	out->step_type = CA_STEP_TYPE_OIDC;
	out->cred_id = oc->client_id;
	out->ott_exp = exp;
	if (asprintf(&out->ott_scope, "oidc/%s", oc->client_id) < 0) {
		out->ott_scope = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ott_of(claims, jws, &out->ott_id)) != 0)
		goto out;
	if (op == CA_AUTHZ_REVOKE) {
		/* step-ca: admins only, and then sub must be the serial. */
		if (!admin) {
			rc = ca_err(CA_ERR_FORBIDDEN, "only an OIDC admin's ID "
			    "token may revoke");
			goto out;
		}
		rc = dup_to(sub, &out->revoke_serial);
		goto out;
	}
	if (email != NULL && verified)
		rc = dup_to(email, &out->identity);
	else
		rc = (out->identity = iss_sub_uri(iss, sub)) == NULL ?
		    ca_err(CA_ERR_NOMEM, "out of memory") : 0;
	if (rc != 0)
		goto out;
	if (admin) {
		/* Any names, from the CSR (step's admin leaf template). */
		out->names_from_csr = 1;
		goto out;
	}
	if (ca_x509_cn_check(sub) == 0 && (rc = dup_to(sub, &out->cn)) != 0)
		goto out;
	ca_err_clear();
	if ((out->sans = calloc(3, sizeof(char *))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (email != NULL && (rc = dup_to(email, &out->sans[out->n_sans++])) != 0)
		goto out;
	if ((out->sans[out->n_sans++] = iss_sub_uri(iss, sub)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < out->n_sans; i++)
		sans[n_sans++] = out->sans[i];
	if ((rc = ca_names_classify(sans, n_sans, &out->names)) != 0) {
		ca_err_context("ID token names");
		rc = CA_ERR_FORBIDDEN;
	}
	goto out;
auth:
	ca_err_context("ID token");
	rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
out:
	keys_put(k);
	return rc;
}

int
ca_oidc_peek(const char *tok, size_t len, char **cn, struct ca_names *names)
{
	struct ca_jws *jws = NULL;
	struct json_object *claims = NULL;
	const char *iss, *sub, *email, *one[1];
	char *uri = NULL;
	int rc;

	*cn = NULL;
	memset(names, 0, sizeof(*names));
	while (len > 0 && isspace((unsigned char)tok[len - 1]))
		len--;
	if (len > CA_MAX_TOKEN || ca_jws_parse(tok, len, &jws) != 0 ||
	    ca_json_parse((const char *)jws->payload, jws->payload_len,
	    "token claims", &claims) != 0 ||
	    ca_json_string(claims, "iss", 1, &iss) != 0 ||
	    (strncmp(iss, "https://", 8) != 0 &&
	    strncmp(iss, "http://", 7) != 0) ||
	    ca_json_string(claims, "sub", 1, &sub) != 0 || *sub == '\0') {
		rc = CA_ERR_NOTFOUND;
		goto out;
	}
	if (ca_json_string(claims, "email", 0, &email) == 0 && *email != '\0')
		one[0] = email;
	else if ((one[0] = uri = iss_sub_uri(iss, sub)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_names_classify(one, 1, names)) != 0)
		goto out;
	if (ca_x509_cn_check(sub) == 0 && (rc = dup_to(sub, cn)) != 0)
		ca_names_free(names);
out:
	if (rc != CA_ERR_NOMEM)
		ca_err_clear();
	free(uri);
	json_object_put(claims);
	ca_jws_free(jws);
	return rc;
}
