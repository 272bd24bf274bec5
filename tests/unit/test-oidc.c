/*
 * test-oidc.c - the OIDC provisioner (lib/oidc.c) without a provider: its
 * ca.json members, the ID token checks one by one on hand-made tokens
 * against a key set put into the cache, and the cache's refetch rules
 * (max-age, unknown kid at most once a minute) against a port where
 * nothing listens. tests/oidc.bats runs it against a real provider.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "oidc.h"
#include "x509.h"
#include "tap.h"
#include "unit-ca.h"

#define NOW	1767225600LL	/* 2026-01-01T00:00:00Z */
#define ISS	"https://id.example"
#define WELL_KNOWN	"/.well-known/openid-configuration"
#define DISC	ISS WELL_KNOWN

static struct ca_jwk *key, *other;
static struct ca_config cfg;
static struct ca_provisioner provs[2];
static struct ca_oidc_cache *cache;
static struct ca_authz_ctx ctx = { &cfg, NULL, NULL, NULL };
static struct json_object *conf_json;
static char s_corp[] = "corp", s_oidc[] = "OIDC", s_jwk[] = "jwk", s_JWK[] = "JWK";

static struct ca_jwk *
new_key(void)
{
	gnutls_privkey_t k;
	struct ca_jwk *j = NULL;

	if (gnutls_privkey_init(&k) < 0 ||
	    gnutls_privkey_generate2(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0) < 0 ||
	    ca_jwk_from_privkey(k, NULL, &j) != 0) {
		printf("Bail out! key generation: %s\n", ca_errmsg());
		exit(1);
	}
	return j;
}

static int
load(const char *json, struct ca_provisioner *p)
{
	json_object_put(conf_json);
	if (ca_json_parse(json, strlen(json), "conf", &conf_json) != 0) {
		printf("Bail out! %s\n", ca_errmsg());
		exit(1);
	}
	if (p->impl_free != NULL)
		p->impl_free(p->impl);
	p->impl = NULL;
	p->impl_free = NULL;
	p->name = s_corp;
	p->type = s_oidc;
	p->kind = CA_PROV_OIDC;
	ca_err_clear();
	return ca_oidc_conf_load(conf_json, p);
}

static void
setup(void)
{
	struct json_object *o = NULL;
	char *pub, *jwks;

	key = new_key();
	other = new_key();
	provs[0].name = s_jwk;
	provs[0].type = s_JWK;
	provs[0].kind = CA_PROV_JWK;
	if (load("{\"type\":\"OIDC\",\"name\":\"corp\",\"clientID\":\"cid\","
	    "\"configurationEndpoint\":\"" ISS "\",\"admins\":"
	    "[\"root@example.com\",\"ops\"],\"domains\":[\"example.com\"],"
	    "\"groups\":[\"staff\",\"ops\"]}", &provs[1]) != 0) {
		printf("Bail out! load: %s\n", ca_errmsg());
		exit(1);
	}
	provs[1].client_id = "cid";
	cfg.provisioners = provs;
	cfg.n_provisioners = 2;
	if (ca_jwk_to_json(key, 0, &o) != 0 || (pub = ca_json_dump(o)) == NULL ||
	    asprintf(&jwks, "{\"keys\":[%s]}", pub) < 0 ||
	    ca_oidc_cache_new(&cache) != 0 ||
	    ca_oidc_cache_put(cache, DISC, ISS, jwks, strlen(jwks), NOW,
	    -1) != 0) {
		printf("Bail out! cache: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(o);
	free(pub);
	free(jwks);
	ctx.oidc = cache;
}

/*
 * An ID token signed by k with kid (NULL: k's), claims: alice's good
 * ones, then the members in extra (",\"x\":1" or ""), a later one
 * overriding an earlier... so extra only adds: the good ones are built
 * from the format's arguments instead.
 */
static char *
idtok(const struct ca_jwk *k, const char *kid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *
idtok(const struct ca_jwk *k, const char *kid, const char *fmt, ...)
{
	struct json_object *h = NULL;
	char *claims = NULL, *hs = NULL, *out = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&claims, fmt, ap) < 0)
		claims = NULL;
	va_end(ap);
	if (claims == NULL || asprintf(&hs, "{\"kid\":\"%s\",\"typ\":\"JWT\"}",
	    kid != NULL ? kid : ca_jwk_kid(k)) < 0 ||
	    ca_json_parse(hs, strlen(hs), "header", &h) != 0 ||
	    ca_jws_sign(k, h, claims, strlen(claims), &out) != 0) {
		printf("Bail out! signing: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(h);
	free(hs);
	free(claims);
	return out;
}

/* Alice's claims with the given iss, aud, email, verified, iat, exp, extra. */
#define ALICE(iss, aud, email, ver, iat, exp, extra)			\
	"{\"iss\":\"" iss "\",\"aud\":" aud ",\"sub\":\"alice\","	\
	"\"email\":\"" email "\",\"email_verified\":" ver ","		\
	"\"groups\":[\"staff\"],\"nonce\":\"n-1\",\"iat\":%lld,"	\
	"\"exp\":%lld" extra "}", (long long)(iat), (long long)(exp)

static struct ca_authz z;

/* Verify s (freed) for op: status want, message containing msg. */
static void
check(char *s, enum ca_authz_op op, int want, const char *msg,
    const char *what)
{
	ca_authz_free(&z);
	ca_err_clear();
	is_int(ca_authz_token(&ctx, op, s, strlen(s), (time_t)NOW, &z), want,
	    "%s", what);
	if (msg != NULL) {
		ok(strstr(ca_errmsg(), msg) != NULL, "  message has \"%s\"", msg);
		if (strstr(ca_errmsg(), msg) == NULL)
			printf("#   got \"%s\"\n", ca_errmsg());
	}
	free(s);
}

static void
test_user(void)
{
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, 0, NULL,
	    "alice's ID token");
	ok(z.prov == &provs[1] && z.cred == CA_CRED_OIDC &&
	    z.step_type == CA_STEP_TYPE_OIDC && !z.names_from_csr &&
	    !z.csr_must_match, "  provisioner corp, type 2, names its own");
	is_str(z.cn, "alice", "  CN: sub");
	is_int(z.n_sans, 2, "  two SANs");
	is_str(z.sans[0], "alice@example.com", "  the e-mail");
	is_str(z.sans[1], ISS "#alice", "  iss#sub");
	ok(z.names.n_email == 1 && z.names.n_uri == 1 && z.names.n_dns == 0,
	    "  typed: one e-mail, one URI");
	is_str(z.ott_scope, "oidc/cid", "  used_ott scope oidc/clientID");
	is_str(z.ott_id, "n-1", "  used_ott id: the nonce");
	is_int(z.ott_exp, NOW + 300, "  used_ott exp: the token's");
	is_str(z.identity, "alice@example.com", "  identity: the e-mail");
	is_str(z.cred_id, "cid", "  extension credential: the clientID");

	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":[\"cid\"],"
	    "\"sub\":\"alice\",\"groups\":[\"staff\"],\"iat\":%lld,"
	    "\"exp\":%lld}", NOW, NOW + 60), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "allowed domain", "no e-mail where domains are set");
	check(idtok(key, NULL, ALICE(ISS, "[\"x\",\"cid\"]", "alice@EXAMPLE.com",
	    "true", NOW, NOW + 300, ",\"azp\":\"cid\"")), CA_AUTHZ_SIGN, 0,
	    NULL, "aud an array, azp the client, domain in another case");
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"alice\",\"email\":\"a@example.com\","
	    "\"email_verified\":true,\"groups\":[\"staff\"],\"iat\":%lld,"
	    "\"exp\":%lld}", NOW, NOW + 60), CA_AUTHZ_SIGN, 0, NULL,
	    "no nonce");
	ok(z.ott_id != NULL && strlen(z.ott_id) == 64,
	    "  used_ott id: SHA-256 of the token");
}

static void
test_refused(void)
{
	check(idtok(key, NULL, ALICE(ISS, "\"other\"", "alice@example.com",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH, NULL,
	    "another client's audience: not an OIDC token here");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW, NOW + 300, ",\"azp\":\"other\"")), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "azp", "azp another client");
	/* OpenID Connect Core 3.1.3.7: the party the token was issued to. */
	check(idtok(key, NULL, ALICE(ISS, "[\"other\",\"cid\"]",
	    "alice@example.com", "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "azp", "aud with another client too, no azp");
	check(idtok(key, NULL, ALICE(ISS, "[\"cid\",\"other\"]",
	    "alice@example.com", "true", NOW, NOW + 300, ",\"azp\":\"other\"")),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, "azp", "  azp the other client");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "\"true\"", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    NULL, "email_verified the string \"true\"");
	check(idtok(key, NULL, ALICE(ISS "/", "\"cid\"", "alice@example.com",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "issuer", "the issuer with a trailing slash");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW - 400, NOW - 61, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "expired", "expired 61 s ago");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW - 400, NOW - 59, "")), CA_AUTHZ_SIGN, 0, NULL,
	    "expired 59 s ago: within the leeway");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW + 61, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "future", "issued 61 s from now");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW, NOW + 300, ",\"nbf\":1767225700")), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "nbf", "nbf 100 s from now");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW - 60, NOW + 86400, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "lifetime", "exp - iat over 24 h");
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"alice\",\"iat\":%lld}", NOW), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "exp", "no exp");
	/* exp - iat past INT64_MAX: a lifetime of "less than a day". */
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", -9000000000000000000LL, 9000000000000000000LL, "")),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, NULL, "iat and exp far apart");
	check(idtok(key, NULL, ALICE("https://evil.example", "\"cid\"",
	    "alice@example.com", "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "issuer", "another issuer");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "false", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "not verified", "email_verified false");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "null", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    NULL, "email_verified not a boolean");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@other.example",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "allowed domain", "a domain not allowed");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@badexample.com",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "allowed domain", "a domain that only ends like an allowed one");
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"alice\",\"email\":\"alice@example.com\","
	    "\"email_verified\":true,\"groups\":[\"guests\"],\"iat\":%lld,"
	    "\"exp\":%lld}", NOW, NOW + 60), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "groups", "no allowed group");
	check(idtok(other, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "unknown key id", "a key the provider does not publish");
	check(idtok(other, ca_jwk_kid(key), ALICE(ISS, "\"cid\"",
	    "alice@example.com", "true", NOW, NOW + 300, "")), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "signature", "another key under the provider's kid");
	check(idtok(key, NULL, ALICE(ISS, "\"cid\"", "alice@example.com",
	    "true", NOW, NOW + 300, "")), CA_AUTHZ_REVOKE, CA_ERR_FORBIDDEN,
	    "admin", "a user's token at revoke");
}

static void
test_admin(void)
{
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"r00t\",\"email\":\"root@EXAMPLE.com\","
	    "\"email_verified\":true,\"groups\":[\"staff\"],\"iat\":%lld,"
	    "\"exp\":%lld}", NOW, NOW + 60), CA_AUTHZ_SIGN, 0, NULL,
	    "an admin by e-mail (domain in another case)");
	ok(z.names_from_csr && z.cn == NULL && z.n_sans == 0,
	    "  names from the CSR");
	is_str(z.identity, "root@EXAMPLE.com", "  identity: the e-mail");
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"r00t\",\"email\":\"root@example.com\","
	    "\"email_verified\":false,\"groups\":[\"staff\"],\"iat\":%lld,"
	    "\"exp\":%lld}", NOW, NOW + 60), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "not verified", "an admin's address, not verified: no admin");
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"svc\",\"email\":\"svc@elsewhere.test\","
	    "\"groups\":[\"ops\"],\"iat\":%lld,\"exp\":%lld}", NOW, NOW + 60),
	    CA_AUTHZ_SIGN, 0, NULL, "an admin by group, any domain");
	ok(z.names_from_csr, "  names from the CSR");
	is_str(z.identity, ISS "#svc", "  identity (unverified e-mail): iss#sub");
	check(idtok(key, NULL, "{\"iss\":\"" ISS "\",\"aud\":\"cid\","
	    "\"sub\":\"1234\",\"groups\":[\"ops\"],\"iat\":%lld,\"exp\":%lld}",
	    NOW, NOW + 60), CA_AUTHZ_REVOKE, 0, NULL, "an admin at revoke");
	is_str(z.revoke_serial, "1234", "  the serial: sub");
}

static void
test_conf(void)
{
	struct ca_provisioner p;
	const struct ca_oidc_conf *oc;

	memset(&p, 0, sizeof(p));
	is_int(load("{\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"https://id.test/base/\"}", &p), 0, "https endpoint");
	oc = p.impl;
	is_str(oc->discovery, "https://id.test/base/.well-known/"
	    "openid-configuration", "  the well-known path appended");
	is_str(oc->client_secret, "", "  no clientSecret: \"\"");
	is_int(load("{\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"http://127.0.0.1:9/.well-known/openid-configuration\"}", &p), 0,
	    "http to 127.0.0.1");
	is_str(((const struct ca_oidc_conf *)p.impl)->discovery,
	    "http://127.0.0.1:9/.well-known/openid-configuration",
	    "  the well-known path kept");
	is_int(load("{\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"http://id.test/\"}", &p), CA_ERR_CONFIG,
	    "http to another host refused");
	is_int(load("{\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"http://127.0.0.1.evil.test/\"}", &p), CA_ERR_CONFIG,
	    "http to a host that starts like a loopback address refused");
	/* curl reads "localhost:80@" as a user name and password. */
	is_int(load("{\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"http://localhost:80@evil.test/\"}", &p), CA_ERR_CONFIG,
	    "http with a loopback user name before another host refused");
	ok(!ca_oidc_url_ok("http://127.0.0.1:@evil.test/jwks"),
	    "  a jwks_uri of that shape refused");
	ok(!ca_oidc_url_ok("http://[::1]:1@evil.test/"), "  [::1] too");
	ok(ca_oidc_url_ok("http://127.0.0.1:8080/jwks") &&
	    ca_oidc_url_ok("http://[::1]/a@b"), "  a port or an @ in the path "
	    "kept");
	is_int(load("{\"configurationEndpoint\":\"https://id.test\"}", &p),
	    CA_ERR_CONFIG, "no clientID refused");
	ok(strstr(ca_errmsg(), "clientID") != NULL, "  named");
	is_int(load("{\"clientID\":\"c\"}", &p), CA_ERR_CONFIG,
	    "no configurationEndpoint refused");
	is_int(load("{\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"https://id.test\",\"admins\":[1]}", &p), CA_ERR_CONFIG,
	    "admins not strings refused");
	if (p.impl_free != NULL)
		p.impl_free(p.impl);
}

/* The refetch rules, against a port where nothing listens. */
static void
test_cache(void)
{
	struct ca_oidc_cache *c;
	const char *url = "http://127.0.0.1:1/.well-known/openid-configuration";
	char *jwks, *pub;
	struct json_object *o = NULL;

	if (ca_oidc_cache_new(&c) != 0 || ca_jwk_to_json(key, 0, &o) != 0 ||
	    (pub = ca_json_dump(o)) == NULL ||
	    asprintf(&jwks, "{\"keys\":[%s,{\"kty\":\"oct\",\"k\":\"AA\"}]}",
	    pub) < 0) {
		printf("Bail out! cache\n");
		exit(1);
	}
	is_int(ca_oidc_cache_put(c, url, ISS, jwks, strlen(jwks), NOW, 100), 0,
	    "a JWKS with max-age 100 (and a key type skipped)");
	is_int(ca_oidc_refresh(c, url, ca_jwk_kid(key), NOW + 99), 0,
	    "a known kid before max-age: no fetch");
	is_int(ca_oidc_cache_fetches(c), 0, "  none");
	ok(ca_oidc_refresh(c, url, "new-kid", NOW + 30) != 0,
	    "an unknown kid: one fetch (nothing listens)");
	is_int(ca_oidc_cache_fetches(c), 1, "  one");
	is_int(ca_oidc_refresh(c, url, "new-kid", NOW + 60), 0,
	    "the same 30 s later: no fetch, the old keys stay");
	is_int(ca_oidc_cache_fetches(c), 1, "  still one");
	ok(ca_oidc_refresh(c, url, "new-kid", NOW + 91) != 0,
	    "61 s after the first: fetched again");
	is_int(ca_oidc_cache_fetches(c), 2, "  two");
	is_int(ca_oidc_refresh(c, url, ca_jwk_kid(key), NOW + 120), 0,
	    "a known kid, the provider down: the old keys kept a minute");
	ok(ca_oidc_refresh(c, url, NULL, NOW + 152) != 0,
	    "after that: fetched again");
	is_int(ca_oidc_cache_fetches(c), 3, "  three");
	is_int(ca_oidc_cache_put(c, url, ISS, jwks, strlen(jwks), NOW,
	    10L * 86400), 0, "max-age of ten days");
	is_int(ca_oidc_refresh(c, url, NULL, NOW + 86399), 0,
	    "  kept 24 h");
	ok(ca_oidc_refresh(c, url, NULL, NOW + 86401) != 0,
	    "  no longer (capped)");
	is_int(ca_oidc_cache_put(c, url, ISS, jwks, strlen(jwks), NOW, 0), 0,
	    "max-age 0 (no-store)");
	is_int(ca_oidc_refresh(c, url, NULL, NOW + 59), 0,
	    "  kept a minute all the same: no fetch per token");
	is_int(ca_oidc_cache_fetches(c), 4, "  none");
	ok(ca_oidc_refresh(c, "http://127.0.0.1:1/x", NULL, NOW) != 0 &&
	    ca_oidc_refresh(c, "http://127.0.0.1:1/x", NULL, NOW + 1) != 0,
	    "a provider never reached: refused");
	is_int(ca_oidc_cache_fetches(c), 5, "  one fetch for the two");
	ok(ca_oidc_refresh(c, "http://127.0.0.1:1/x", NULL, NOW + 11) != 0,
	    "  ten seconds later: tried again");
	is_int(ca_oidc_cache_fetches(c), 6, "  another fetch");
	is_int(ca_oidc_cache_put(c, url, ISS, "{\"keys\":[]}", 11, NOW, 1),
	    CA_ERR_AUTH, "a JWKS without a usable key refused");
	json_object_put(o);
	free(pub);
	free(jwks);
	ca_oidc_cache_free(c);
}

static void
test_header(void)
{
	static const struct {
		const char	*line;
		long		 age;
	} t[] = {
		{ "Cache-Control: public, max-age=60\r\n", 60 },
		{ "cache-control: MAX-AGE=3600, must-revalidate\r\n", 3600 },
		{ "Cache-Control: no-store\r\n", 0 },
		{ "Cache-Control: private, no-cache\r\n", 0 },
		{ "Cache-Control: s-maxage=5\r\n", -1 },
		{ "Cache-Control: max-age=\r\n", -1 },
		{ "Content-Type: application/json\r\n", -1 },
		{ "X-Cache-Control: max-age=5\r\n", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(ca_oidc_header_age(t[i].line, strlen(t[i].line)),
		    t[i].age, "header %.*s", (int)strcspn(t[i].line, "\r"),
		    t[i].line);
	ok(ca_oidc_header_age("Cache-Control: max-age=99999999999999999999",
	    43) > CA_OIDC_AGE_MAX, "a huge max-age: past the cap, no overflow");
}

/* A socket on 127.0.0.1: listening (port 0: any; *port gets it), else
 * connected to port. -1 on failure. */
static int
loopback(int listening, int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(listening ? 0 : (unsigned short)*port);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (listening ? bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) < 0 :
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return -1;
	}
	if (listening)
		*port = ntohs(sa.sin_port);
	return s;
}

/* The value of "name=" in url, percent-decoding only %3A and %2F. */
static void
url_param(const char *url, const char *name, char *out, size_t size)
{
	const char *p = strstr(url, name);
	size_t i = 0;

	for (p = p != NULL ? p + strlen(name) : ""; *p != '\0' && *p != '&' &&
	    i + 1 < size; p++) {
		if (strncmp(p, "%3A", 3) == 0 || strncmp(p, "%2F", 3) == 0) {
			out[i++] = p[2] == 'A' ? ':' : '/';
			p += 2;
		} else
			out[i++] = *p;
	}
	out[i] = '\0';
}

/* A provider on the listening socket ls (closed here): a child that
 * answers one request with doc1, then one with doc2 (when not NULL). */
static pid_t
provider(int ls, const char *doc1, const char *doc2)
{
	const char *docs[2] = { doc1, doc2 };
	char req[2048];
	pid_t pid;
	int i, s;

	if ((pid = fork()) == 0) {
		for (i = 0; i < 2 && docs[i] != NULL; i++) {
			if ((s = accept(ls, NULL, NULL)) < 0 ||
			    read(s, req, sizeof(req)) <= 0)
				break;
			dprintf(s, "HTTP/1.1 200 OK\r\nContent-Type: "
			    "application/json\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n%s", strlen(docs[i]),
			    docs[i]);
			close(s);
		}
		_exit(0);
	}
	close(ls);
	return pid;
}

/*
 * A discovery document whose issuer is another origin's (a provider
 * claiming to be accounts.google.com) would put that issuer in the URI
 * SANs of the certificates it authorizes: refused; a path is fine.
 */
static void
test_discovery(void)
{
	struct ca_oidc_cache *c;
	struct json_object *o = NULL;
	char url[128], doc[512], *pub, *jwks;
	int ls, port;
	pid_t pid;

	if (ca_oidc_cache_new(&c) != 0 || ca_jwk_to_json(key, 0, &o) != 0 ||
	    (pub = ca_json_dump(o)) == NULL ||
	    asprintf(&jwks, "{\"keys\":[%s]}", pub) < 0) {
		printf("Bail out! discovery\n");
		exit(1);
	}
	if ((ls = loopback(1, &port)) < 0) {
		printf("Bail out! listen: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d" WELL_KNOWN, port);
	snprintf(doc, sizeof(doc), "{\"issuer\":\"https://accounts.google."
	    "com\",\"jwks_uri\":\"http://127.0.0.1:%d/jwks\"}", port);
	pid = provider(ls, doc, jwks);
	is_int(ca_oidc_refresh(c, url, NULL, NOW), CA_ERR_AUTH,
	    "discovery: an issuer of another origin refused");
	ok(strstr(ca_errmsg(), "issuer") != NULL, "  named (%s)", ca_errmsg());
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if ((ls = loopback(1, &port)) < 0) {
		printf("Bail out! listen: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d" WELL_KNOWN, port);
	snprintf(doc, sizeof(doc), "{\"issuer\":\"http://127.0.0.1:%d/"
	    "realms/x\",\"jwks_uri\":\"http://127.0.0.1:%d/jwks\"}", port,
	    port);
	pid = provider(ls, doc, jwks);
	is_int(ca_oidc_refresh(c, url, NULL, NOW), 0,
	    "  the same origin with a path: taken");
	waitpid(pid, NULL, 0);
	ca_oidc_cache_free(c);
	json_object_put(o);
	free(pub);
	free(jwks);
}

/*
 * ca-token --oidc's listener against what else reaches its port: a
 * connection that says nothing (a browser's preconnect, a local
 * process), one that sends more than a request line, and a redirect
 * with another state (a web page guessing the port) are answered or
 * dropped, and the login still takes the redirect that carries our
 * state (here one that says "access_denied"); then it stops listening.
 */
static void
test_login(void)
{
	struct ca_authority *a = NULL;
	struct ca_oidc_login *l = NULL;
	struct json_object *j, *au, *list, *p;
	char dir[4200], prov[4300], path[4400], doc[512];
	char *url = NULL, *tok = NULL, redirect[128], state[64];
	char big[9000], badprov[512];
	int ls, s, idle, huge, bad, port, rport;
	pid_t pid;

	unit_ca_make(dir, sizeof(dir), prov, sizeof(prov));
	if ((ls = loopback(1, &port)) < 0) {
		printf("Bail out! listen: %s\n", strerror(errno));
		exit(1);
	}
	/* The provider: one discovery document. */
	snprintf(doc, sizeof(doc), "{\"issuer\":\"http://127.0.0.1:%d\","
	    "\"authorization_endpoint\":\"http://127.0.0.1:%d/auth\","
	    "\"token_endpoint\":\"http://127.0.0.1:%d/token\",\"jwks_uri\":"
	    "\"http://127.0.0.1:%d/jwks\"}", port, port, port, port);
	pid = provider(ls, doc, doc);
	snprintf(path, sizeof(path), "%s/config/ca.json", dir);
	snprintf(doc, sizeof(doc), "{\"type\":\"OIDC\",\"name\":\"corp\","
	    "\"clientID\":\"c\",\"configurationEndpoint\":"
	    "\"http://127.0.0.1:%d\",\"authParams\":{\"prompt\":\"login\","
	    "\"a b&c\":\"d=e\"}}", port);
	snprintf(badprov, sizeof(badprov), "{\"type\":\"OIDC\",\"name\":\"bad\","
	    "\"clientID\":\"b\",\"configurationEndpoint\":"
	    "\"http://127.0.0.1:%d\",\"authParams\":{\"state\":\"x\"}}",
	    port);
	if ((j = json_object_from_file(path)) == NULL ||
	    !json_object_object_get_ex(j, "authority", &au) ||
	    !json_object_object_get_ex(au, "provisioners", &list) ||
	    (p = json_tokener_parse(doc)) == NULL ||
	    json_object_array_add(list, p) != 0 ||
	    (p = json_tokener_parse(badprov)) == NULL ||
	    json_object_array_add(list, p) != 0 ||
	    json_object_to_file_ext(path, j, JSON_C_TO_STRING_PLAIN) != 0 ||
	    ca_authority_open_config(dir, &a) != 0 ||
	    ca_oidc_login_start(a, "corp", &l, &url) != 0) {
		printf("Bail out! login start: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(j);
	/* authParams: encoded, and never one of the flow's own. */
	ok(strstr(url, "&prompt=login") != NULL &&
	    strstr(url, "&a%20b%26c=d%3De") != NULL,
	    "login: authParams encoded in the URL");
	{
		struct ca_oidc_login *l2 = NULL;
		char *u2 = NULL;

		is_int(ca_oidc_login_start(a, "bad", &l2, &u2), CA_ERR_CONFIG,
		    "login: authParams may not set the flow's state (%s)",
		    ca_errmsg());
		free(u2);
	}
	waitpid(pid, NULL, 0);
	url_param(url, "redirect_uri=", redirect, sizeof(redirect));
	url_param(url, "&state=", state, sizeof(state));
	rport = atoi(redirect + strlen("http://127.0.0.1:"));
	/* Queued before the wait: nothing, 9000 bytes without a line,
	 * another state, then ours. */
	idle = loopback(0, &rport);
	huge = loopback(0, &rport);
	bad = loopback(0, &rport);
	s = loopback(0, &rport);
	ok(idle >= 0 && huge >= 0 && bad >= 0 && s >= 0,
	    "login: four connections");
	memset(big, 'A', sizeof(big));
	ok(write(huge, big, sizeof(big)) > 0, "  9000 bytes sent");
	dprintf(bad, "GET /callback?state=guess&code=evil HTTP/1.1\r\n\r\n");
	dprintf(s, "GET /callback?state=%s&error=access_denied HTTP/1.1\r\n"
	    "\r\n", state);
	is_int(ca_oidc_login_wait(l, 30, &tok), CA_ERR_AUTH,
	    "login: the redirect with our state is read");
	ok(strstr(ca_errmsg(), "access_denied") != NULL,
	    "  past an idle connection, a huge one and another state (%s)",
	    ca_errmsg());
	ok(loopback(0, &rport) < 0, "  then the port is closed: no second "
	    "redirect");
	close(idle);
	close(huge);
	close(bad);
	close(s);
	free(url);
	ca_authority_close(a);
}

int
main(void)
{
	setup();
	test_user();
	test_refused();
	test_admin();
	test_conf();
	test_cache();
	test_header();
	test_discovery();
	tmpdir_make("oidc");
	test_login();
	tmpdir_remove();
	ca_authz_free(&z);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
