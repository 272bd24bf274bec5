/*
 * test-token.c - unit tests of token verification (lib/token.c) through
 * its public functions, ca_token_parse and ca_token_verify: a good token,
 * then one token for each check they claim to make, each with the exact
 * status and message, and the boundaries of the time rules (leeway,
 * lifetime) on both sides.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "token.h"
#include "tap.h"

#define NOW	1767225600LL	/* 2026-01-01T00:00:00Z */
#define PATH	"/1.0/sign"
#define AUD	"https://ca.test/1.0/sign"

static const char root_fp[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static struct ca_jwk *prov_key;		/* the provisioner's private key */
static struct ca_jwk *other_key;	/* somebody else's */
static struct ca_config cfg;
static struct ca_provisioner prov;
static const char *dns_names[] = { "ca.test" };
static char prov_name[] = "prov", prov_type[] = "JWK";

static struct ca_jwk *
new_key(gnutls_pk_algorithm_t pk, unsigned bits)
{
	gnutls_privkey_t k;
	struct ca_jwk *j = NULL;

	if (gnutls_privkey_init(&k) < 0 ||
	    gnutls_privkey_generate2(k, pk, bits, 0, NULL, 0) < 0 ||
	    ca_jwk_from_privkey(k, NULL, &j) != 0) {
		printf("Bail out! key generation: %s\n", ca_errmsg());
		exit(1);
	}
	return j;
}

/* A CA at https://ca.test with one JWK provisioner "prov". */
static void
setup(void)
{
	struct json_object *o = NULL;

	prov_key = new_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	other_key = new_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	prov.name = prov_name;
	prov.type = prov_type;
	prov.kid = strdup(ca_jwk_kid(prov_key));
	if (ca_jwk_to_json(prov_key, 0, &o) != 0 ||
	    ca_jwk_from_json(o, &prov.key) != 0) {
		printf("Bail out! public JWK: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(o);
	cfg.dns_names = dns_names;
	cfg.n_dns_names = 1;
	cfg.port = 443;
	cfg.provisioners = &prov;
	cfg.n_provisioners = 1;
}

/* base64url of a string, for hand-made parts. */
static char *
b64(const char *s)
{
	return ca_b64url_encode(s, strlen(s));
}

/*
 * A token with these claims (JSON text as given, so that it may be
 * anything, duplicate members included), header {alg, kid, typ}, signed
 * by key. kid NULL: the provisioner's. Caller frees.
 */
static char *
tok(const struct ca_jwk *key, const char *kid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *
tok(const struct ca_jwk *key, const char *kid, const char *fmt, ...)
{
	struct json_object *h;
	char *claims = NULL, *out = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&claims, fmt, ap) < 0)
		claims = NULL;
	va_end(ap);
	h = json_object_new_object();
	json_object_object_add(h, "kid", json_object_new_string(kid != NULL ?
	    kid : prov.kid));
	json_object_object_add(h, "typ", json_object_new_string("JWT"));
	if (claims == NULL ||
	    ca_jws_sign(key, h, claims, strlen(claims), &out) != 0) {
		printf("Bail out! signing: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(h);
	free(claims);
	return out;
}

/* Claims with these times (-1: absent) and the usual other members. */
static char *
tok_times(long long nbf, long long iat, long long exp)
{
	char n[40] = "", i[40] = "";

	if (nbf >= 0)
		snprintf(n, sizeof(n), "\"nbf\":%lld,", nbf);
	if (iat >= 0)
		snprintf(i, sizeof(i), "\"iat\":%lld,", iat);
	return tok(prov_key, NULL, "{\"aud\":\"" AUD "\",%s%s\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j1\",\"sub\":\"a.test\"}", n, i, exp);
}

/* Parse and verify s at now: the status; the message in ca_errmsg(). */
static int
check_at(const char *s, const char *path, long long now)
{
	const struct ca_provisioner *p = NULL;
	struct ca_token *t = NULL;
	int rc;

	ca_err_clear();
	if ((rc = ca_token_parse(s, strlen(s), &t)) == 0)
		rc = ca_token_verify(t, &cfg, path, root_fp, (time_t)now, &p);
	if (rc == 0 && p != &prov)
		rc = 1;		/* not one of ours: fails is_int */
	ca_token_free(t);
	return rc;
}

static int
check(const char *s)
{
	return check_at(s, PATH, NOW);
}

/* check(s) gives want and the message msg; s is freed. */
static void
refused(char *s, int want, const char *msg, const char *what)
{
	is_int(check(s), want, "%s", what);
	is_str(ca_errmsg(), msg, "  %s: the message", what);
	free(s);
}

static void
test_good(void)
{
	const struct ca_provisioner *p = NULL;
	struct ca_token_opts o;
	struct ca_token *t = NULL;
	const char *sans[] = { "a.test", "192.0.2.1" };
	char *s = NULL, *aud;

	aud = ca_config_audience(&cfg, PATH);
	is_str(aud, AUD, "the audience of a sign token");
	memset(&o, 0, sizeof(o));
	o.iss = "prov";
	o.sub = "a.test";
	o.aud = aud;
	o.sans = sans;
	o.n_sans = 2;
	o.sha = root_fp;
	o.now = (time_t)NOW;
	is_int(ca_token_mint(prov_key, &o, &s), 0, "mint a token");
	is_int(s != NULL ? ca_token_parse(s, strlen(s), &t) : -1, 0,
	    "a minted token parses");
	if (t != NULL) {
		is_str(t->iss, "prov", "  iss");
		is_str(t->sub, "a.test", "  sub");
		is_int(strlen(t->jti), 64, "  jti of 64 hex characters");
		is_int(t->n_sans, 2, "  two names");
		is_str(t->n_sans == 2 ? t->sans[1] : NULL, "192.0.2.1",
		    "  the second name");
		is_int(t->exp - t->iat, CA_TOKEN_DEFAULT_LIFETIME,
		    "  five minutes");
		is_int(ca_token_verify(t, &cfg, PATH, root_fp, (time_t)NOW,
		    &p), 0, "a good token verifies");
		ok(p == &prov, "  and names its provisioner");
	}
	ca_token_free(t);
	is_int(check(s), 0, "the same through check()");
	/* A token file's trailing newline is not part of the token. */
	s = realloc(s, strlen(s) + 3);
	strcat(s, "\r\n");
	is_int(check(s), 0, "a trailing CR LF is ignored");
	free(s);

	/* step's offline tokens: no port, /sign without /1.0. */
	s = tok(prov_key, NULL, "{\"aud\":[\"https://x.test/sign\","
	    "\"https://ca.test/sign\"],\"exp\":%lld,\"iat\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a.test\"}", NOW + 300,
	    NOW);
	is_int(check(s), 0, "an audience list with one of ours verifies");
	free(s);
	/* sha is compared without regard to case. */
	s = tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sha\":\"%s\",\"sub\":\"a\"}",
	    NOW + 300, "0123456789ABCDEF0123456789ABCDEF"
	    "0123456789ABCDEF0123456789ABCDEF");
	is_int(check(s), 0, "sha in upper case verifies");
	free(s);
	free(aud);
}

static void
test_signature(void)
{
	char *s, *h, *p, *bad, msg[256];
	size_t n;

	refused(tok(other_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300),
	    CA_ERR_AUTH, "token signature does not verify with provisioner "
	    "\"prov\"", "signed by another key with the provisioner's kid");
	snprintf(msg, sizeof(msg), "token from unknown provisioner \"prov\" "
	    "(key id %s)", ca_jwk_kid(other_key));
	refused(tok(other_key, ca_jwk_kid(other_key), "{\"aud\":\"" AUD
	    "\",\"exp\":%lld,\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}",
	    NOW + 300), CA_ERR_AUTH, msg,
	    "signed by another key with its own kid");
	snprintf(msg, sizeof(msg), "token from unknown provisioner "
	    "\"nobody\" (key id %s)", prov.kid);
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"nobody\",\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300),
	    CA_ERR_AUTH, msg, "an unknown issuer");

	/* The claims changed after signing: sub a -> b. */
	s = tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300);
	h = strchr(s, '.');
	p = b64("{\"aud\":\"" AUD "\",\"exp\":1767225900,\"iss\":\"prov\","
	    "\"jti\":\"j\",\"sub\":\"b\"}");
	if (asprintf(&bad, "%.*s.%s%s", (int)(h - s), s, p,
	    strrchr(s, '.')) < 0)
		bad = NULL;
	refused(bad, CA_ERR_AUTH, "token signature does not verify with "
	    "provisioner \"prov\"", "claims changed after signing");
	free(p);

	/* CVE-2022-21449: r = s = 0. */
	n = (size_t)(strrchr(s, '.') - s);
	if (asprintf(&bad, "%.*s.%s", (int)n, s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	    < 0)
		bad = NULL;
	refused(bad, CA_ERR_AUTH, "token signature does not verify with "
	    "provisioner \"prov\"", "an ECDSA signature r = s = 0");
	free(s);
}

/* A token with header h (JSON text) and claims c, signature sig. */
static char *
raw(const char *h, const char *c, const char *sig)
{
	char *hh = b64(h), *cc = b64(c), *out;

	if (asprintf(&out, "%s.%s.%s", hh, cc, sig) < 0)
		out = NULL;
	free(hh);
	free(cc);
	return out;
}

static void
test_alg(void)
{
	static const char claims[] = "{\"aud\":\"" AUD "\",\"exp\":1767225900,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}";
	gnutls_datum_t der = { NULL, 0 };
	unsigned char mac[32];
	char h[256], *s, *in, *sig;

	snprintf(h, sizeof(h), "{\"alg\":\"none\",\"kid\":\"%s\"}", prov.kid);
	refused(raw(h, claims, ""), CA_ERR_INVAL,
	    "JWS: empty header or signature", "alg none, no signature");
	refused(raw(h, claims, "c2ln"), CA_ERR_AUTH,
	    "JWS: unsigned token (alg \"none\") refused",
	    "alg none with a signature");

	/*
	 * Algorithm confusion: HS256 keyed with the provisioner's public key
	 * (its DER, as a confused verifier would take it).
	 */
	snprintf(h, sizeof(h), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", prov.kid);
	s = raw(h, claims, "");
	in = strndup(s, strlen(s) - 1);
	if (gnutls_pubkey_export2(ca_jwk_pubkey(prov.key), GNUTLS_X509_FMT_DER,
	    &der) < 0 || gnutls_hmac_fast(GNUTLS_MAC_SHA256, der.data,
	    der.size, in, strlen(in), mac) < 0) {
		printf("Bail out! HMAC\n");
		exit(1);
	}
	sig = ca_b64url_encode(mac, sizeof(mac));
	free(s);
	s = raw(h, claims, sig);
	refused(s, CA_ERR_AUTH, "JWS: unsupported algorithm \"HS256\"",
	    "HS256 keyed with the public key");
	gnutls_free(der.data);
	free(in);
	free(sig);

	/* An algorithm we know but not the key's. */
	snprintf(h, sizeof(h), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", prov.kid);
	refused(raw(h, claims, "c2ln"), CA_ERR_AUTH,
	    "token signature does not verify with provisioner \"prov\"",
	    "RS256 for an ES256 key");
	snprintf(h, sizeof(h), "{\"alg\":\"ES384\",\"kid\":\"%s\"}", prov.kid);
	refused(raw(h, claims, "c2ln"), CA_ERR_AUTH,
	    "token signature does not verify with provisioner \"prov\"",
	    "ES384 for a P-256 key");
	snprintf(h, sizeof(h), "{\"kid\":\"%s\"}", prov.kid);
	refused(raw(h, claims, "c2ln"), CA_ERR_INVAL,
	    "JWS header: missing \"alg\"", "no alg");
	snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"%s\","
	    "\"crit\":[\"exp\"],\"exp\":1}", prov.kid);
	refused(raw(h, claims, "c2ln"), CA_ERR_INVAL,
	    "JWS header: critical header parameters are not supported",
	    "crit in the header");
	refused(raw("{\"alg\":\"ES256\"}", claims, "c2ln"), CA_ERR_INVAL,
	    "token header: missing \"kid\"", "no kid");
}

static void
test_times(void)
{
	const long long L = CA_TOKEN_LEEWAY, M = CA_TOKEN_MAX_LIFETIME;
	char *s;

	/* exp, with the leeway. */
	s = tok_times(NOW - 300, NOW - 300, NOW - L);
	is_int(check(s), 0, "exp passed by the leeway: still accepted");
	free(s);
	refused(tok_times(NOW - 300, NOW - 300, NOW - L - 1), CA_ERR_AUTH,
	    "token expired 61 s ago", "exp passed by more than the leeway");
	/* nbf, with the leeway. */
	s = tok_times(NOW + L, -1, NOW + 300);
	is_int(check(s), 0, "nbf in the leeway ahead: accepted");
	free(s);
	refused(tok_times(NOW + L + 1, -1, NOW + 300), CA_ERR_AUTH,
	    "token not valid before 61 s from now", "nbf beyond the leeway");
	/* iat ahead of the clock. */
	s = tok_times(-1, NOW + L, NOW + 300);
	is_int(check(s), 0, "iat in the leeway ahead: accepted");
	free(s);
	refused(tok_times(-1, NOW + L + 1, NOW + 300), CA_ERR_AUTH,
	    "token issued in the future", "iat beyond the leeway");
	/* exp - iat, at most an hour. */
	s = tok_times(-1, NOW - 10, NOW - 10 + M);
	is_int(check(s), 0, "a lifetime of exactly an hour: accepted");
	free(s);
	refused(tok_times(-1, NOW - 10, NOW - 10 + M + 1), CA_ERR_AUTH,
	    "token lifetime 3601 s exceeds 3600 s", "a lifetime over an hour");
	refused(tok_times(-1, NOW - M, NOW + 1), CA_ERR_AUTH,
	    "token lifetime 3601 s exceeds 3600 s",
	    "iat too old for its exp");
	/* No iat: exp at most an hour (and the leeway) from now. */
	s = tok_times(-1, -1, NOW + M + L);
	is_int(check(s), 0, "no iat, exp an hour and the leeway ahead: "
	    "accepted");
	free(s);
	refused(tok_times(-1, -1, NOW + M + L + 1), CA_ERR_AUTH,
	    "token expires more than 3600 s from now",
	    "no iat, exp further ahead");
	/* Types and ranges. */
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"iat\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}", NOW),
	    CA_ERR_INVAL, "token claims: missing \"exp\"", "no exp");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":\"%lld\","
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300),
	    CA_ERR_INVAL, "token claims: \"exp\" is not an integer",
	    "exp as a string");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"nbf\":-1,\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}",
	    NOW + 300), CA_ERR_INVAL, "token claims: \"nbf\" out of range",
	    "a negative nbf");
}

static void
test_claims(void)
{
	char *s, jti[300];

	refused(tok(prov_key, NULL, "{\"aud\":\"https://ca.test/1.0/revoke\","
	    "\"exp\":%lld,\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}",
	    NOW + 300), CA_ERR_AUTH, "token audience "
	    "\"https://ca.test/1.0/revoke\" is not this CA's /1.0/sign "
	    "endpoint",
	    "a revoke token used to sign");
	refused(tok(prov_key, NULL, "{\"aud\":\"https://evil.test/1.0/sign\","
	    "\"exp\":%lld,\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}",
	    NOW + 300), CA_ERR_AUTH, "token audience "
	    "\"https://evil.test/1.0/sign\" is not this CA's /1.0/sign "
	    "endpoint",
	    "another CA's audience");
	refused(tok(prov_key, NULL, "{\"aud\":"
	    "\"https://ca.test:8443/1.0/sign\","
	    "\"exp\":%lld,\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}",
	    NOW + 300), CA_ERR_AUTH, "token audience "
	    "\"https://ca.test:8443/1.0/sign\" is not this CA's /1.0/sign "
	    "endpoint", "a port the CA is not on");
	refused(tok(prov_key, NULL, "{\"aud\":[],\"exp\":%lld,\"iss\":\"prov\","
	    "\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300), CA_ERR_AUTH,
	    "token audience \"\" is not this CA's /1.0/sign endpoint",
	    "an empty audience list");
	refused(tok(prov_key, NULL, "{\"exp\":%lld,\"iss\":\"prov\","
	    "\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300), CA_ERR_INVAL,
	    "token claims: missing \"aud\"", "no aud");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sha\":\"%.63s0\",\"sub\":\"a\"}",
	    NOW + 300, root_fp), CA_ERR_AUTH, "token is for another CA (root "
	    "fingerprint 0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcde0)", "sha of another root");

	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"sub\":\"a\"}", NOW + 300), CA_ERR_INVAL,
	    "token claims: missing \"jti\"", "no jti");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"\",\"sub\":\"a\"}", NOW + 300),
	    CA_ERR_INVAL, "token claims: empty \"sub\", or empty or overlong "
	    "\"jti\"", "an empty jti");
	memset(jti, 'j', 257);
	jti[257] = '\0';
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"%s\",\"sub\":\"a\"}", NOW + 300, jti),
	    CA_ERR_INVAL, "token claims: empty \"sub\", or empty or overlong "
	    "\"jti\"", "a jti of 257 characters");
	jti[256] = '\0';
	s = tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"%s\",\"sub\":\"a\"}", NOW + 300, jti);
	is_int(check(s), 0, "a jti of 256 characters: accepted");
	free(s);
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\"}", NOW + 300), CA_ERR_INVAL,
	    "token claims: missing \"sub\"", "no sub");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"\"}", NOW + 300),
	    CA_ERR_INVAL, "token claims: empty \"sub\", or empty or overlong "
	    "\"jti\"", "an empty sub");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300), CA_ERR_INVAL,
	    "token claims: missing \"iss\"", "no iss");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\",\"cnf\":"
	    "{\"jwk\":{}}}", NOW + 300), CA_ERR_INVAL, "token claims: \"cnf\": "
	    "confirmation method \"jwk\" is not supported (x5rt#S256, kid)",
	    "a confirmation method we cannot check");
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\",\"sans\":[1]}",
	    NOW + 300), CA_ERR_INVAL, "token claims: \"sans\" holds a value "
	    "that is not a string", "a name that is not a string");
	refused(tok(prov_key, NULL, "[\"aud\",\"exp\"]"), CA_ERR_INVAL,
	    "token claims are not a JSON object", "claims not an object");
}

static void
test_encoding(void)
{
	char *s, *bad, h[256];
	size_t n, i;

	/* Duplicate members: in the claims (signed), and in the header. */
	refused(tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\",\"sub\":\"b\"}",
	    NOW + 300), CA_ERR_INVAL,
	    "token claims: duplicate member name in JSON",
	    "a duplicate claim");
	snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"kid\":\"%s\","
	    "\"alg\":\"none\"}", prov.kid);
	refused(raw(h, "{}", "c2ln"), CA_ERR_INVAL,
	    "JWS header: duplicate member name in JSON",
	    "a duplicate header member");

	/* base64url: one encoding for each value, nothing else. */
	s = tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
	    "\"iss\":\"prov\",\"jti\":\"j\",\"sub\":\"a\"}", NOW + 300);
	n = strlen(s);
	/*
	 * 64 signature bytes are 86 characters whose last holds 2 bits and 4
	 * unused ones: set one of those.
	 */
	bad = strdup(s);
	/* A, Q, g or w (value 0, 16, 32 or 48): the next has bit 0 set. */
	ok(strchr("AQgw", bad[n - 1]) != NULL, "the last character has "
	    "four zero bits");
	bad[n - 1]++;
	refused(bad, CA_ERR_INVAL,
	    "JWS signature: non-zero trailing bits in base64url",
	    "a non-canonical last character");
	if (asprintf(&bad, "%s==", s) < 0)
		bad = NULL;
	refused(bad, CA_ERR_INVAL, "JWS signature: invalid base64url "
	    "character at offset 86", "padding");
	bad = strdup(s);
	for (i = 0; bad[i] != '.'; i++)
		;
	bad[i + 3] = '+';
	refused(bad, CA_ERR_INVAL, "JWS payload: invalid base64url character "
	    "at offset 2", "the standard alphabet's +");
	if (asprintf(&bad, " %s", s) < 0)
		bad = NULL;
	refused(bad, CA_ERR_INVAL, "JWS header: invalid base64url character "
	    "at offset 0", "leading white space");
	if (asprintf(&bad, "%s.x", s) < 0)
		bad = NULL;
	refused(bad, CA_ERR_INVAL, "JWS: not 3 dot-separated parts",
	    "four parts");
	refused(strdup(""), CA_ERR_INVAL, "token is empty", "an empty token");
	free(s);
}

static void
test_size(void)
{
	char *s = NULL, *bad;
	size_t pad, n;

	/* The largest token accepted, CA_MAX_TOKEN bytes, then one more. */
	for (pad = CA_MAX_TOKEN * 3 / 4 - 400; pad < CA_MAX_TOKEN; pad++) {
		char *x = malloc(pad + 1);

		memset(x, 'x', pad);
		x[pad] = '\0';
		free(s);
		s = tok(prov_key, NULL, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
		    "\"iss\":\"prov\",\"jti\":\"j\",\"pad\":\"%s\","
		    "\"sub\":\"a\"}", NOW + 300, x);
		free(x);
		if (strlen(s) >= CA_MAX_TOKEN)
			break;
	}
	n = strlen(s);
	ok(n == CA_MAX_TOKEN || n == CA_MAX_TOKEN + 1,
	    "a token of %zu bytes made", n);
	if (n == CA_MAX_TOKEN) {
		is_int(check(s), 0, "a token of CA_MAX_TOKEN bytes: accepted");
		if (asprintf(&bad, "%sA", s) < 0)
			bad = NULL;
	} else {
		bad = s;
		s = NULL;
	}
	refused(bad, CA_ERR_TOOBIG, "token larger than 16384 bytes",
	    "a token of CA_MAX_TOKEN + 1 bytes");
	free(s);
}

int
main(void)
{
	if (gnutls_global_init() < 0)
		return 1;
	setup();
	test_good();
	test_signature();
	test_alg();
	test_times();
	test_claims();
	test_encoding();
	test_size();
	ca_jwk_free(prov_key);
	ca_jwk_free(other_key);
	ca_jwk_free(prov.key);
	free(prov.kid);
	gnutls_global_deinit();
	return tap_done();
}
