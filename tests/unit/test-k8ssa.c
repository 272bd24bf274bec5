/*
 * test-k8ssa.c - the K8sSA provisioner (lib/k8ssa.c) without a state
 * directory: its ca.json members (publicKeys), and its verifier on
 * hand-made legacy and projected service-account tokens: what it accepts
 * (struct ca_authz as sign_locked needs it) and each refusal.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "tap.h"
#include "authz-unit.h"

#define LEGACY	"\"iss\":\"kubernetes/serviceaccount\"," \
	"\"kubernetes.io/serviceaccount/namespace\":\"ns\"," \
	"\"kubernetes.io/serviceaccount/service-account.name\":\"robot\"," \
	"\"sub\":\"system:serviceaccount:ns:robot\""
#define PROJ	"\"iss\":\"https://k8s.test\",\"kubernetes.io\":{\"namespace\":" \
	"\"ns\",\"serviceaccount\":{\"name\":\"robot\"}}," \
	"\"sub\":\"system:serviceaccount:ns:robot\""

static struct ca_provisioner provs[2];	/* k8s (K8sSA), jwk (JWK) */
static struct ca_jwk *key1, *key2, *evil;
static char *pem1, *pem2;

/* A new EC key; *pem its SPKI PEM when pem is not NULL. */
static struct ca_jwk *
new_key(gnutls_pk_algorithm_t alg, unsigned bits, char **pem)
{
	gnutls_privkey_t k;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t d = { NULL, 0 };
	struct ca_jwk *j = NULL;

	if (gnutls_privkey_init(&k) < 0 ||
	    gnutls_privkey_generate2(k, alg, bits, 0, NULL, 0) < 0 ||
	    gnutls_pubkey_init(&pub) < 0 ||
	    gnutls_pubkey_import_privkey(pub, k, 0, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &d) < 0)
		bail("key");
	/* JOSE takes no RSA key under 2048 bits: the PEM alone then. */
	if (alg == GNUTLS_PK_RSA && bits < 2048)
		gnutls_privkey_deinit(k);
	else if (ca_jwk_from_privkey(k, NULL, &j) != 0)
		bail("JWK");
	gnutls_pubkey_deinit(pub);
	if (pem != NULL && (*pem = strndup((char *)d.data, d.size)) == NULL)
		bail("pem");
	gnutls_free(d.data);
	return j;
}

/* Load {"type": "K8sSA", "name", "publicKeys": base64(text)} (raw as is). */
static int
load(struct ca_provisioner *p, const char *text, const char *raw)
{
	struct json_object *o = json_object_new_object();
	gnutls_datum_t in, b = { NULL, 0 };
	int rc;

	p->name = strdup("k8s");
	p->type = strdup("K8sSA");
	p->kind = CA_PROV_K8SSA;
	if (raw != NULL)
		json_object_object_add(o, "publicKeys",
		    json_object_new_string(raw));
	else if (text != NULL) {
		in.data = (unsigned char *)(uintptr_t)text;
		in.size = (unsigned)strlen(text);
		if (gnutls_base64_encode2(&in, &b) < 0)
			bail("base64");
		json_object_object_add(o, "publicKeys",
		    json_object_new_string_len((char *)b.data, (int)b.size));
	}
	ca_err_clear();
	rc = ca_k8ssa_conf_load(o, p);
	json_object_put(o);
	gnutls_free(b.data);
	return rc;
}

/* A token {"alg" (key's), "kid": kid or none} with the claims given. */
static char *
tok(const struct ca_jwk *key, const char *kid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *
tok(const struct ca_jwk *key, const char *kid, const char *fmt, ...)
{
	struct json_object *h = json_object_new_object();
	char *claims = NULL, *out = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&claims, fmt, ap) < 0)
		claims = NULL;
	va_end(ap);
	if (kid != NULL)
		json_object_object_add(h, "kid", json_object_new_string(kid));
	if (claims == NULL ||
	    ca_jws_sign(key, h, claims, strlen(claims), &out) != 0)
		bail("signing");
	json_object_put(h);
	free(claims);
	return out;
}

static void
test_conf(void)
{
	struct ca_provisioner p;
	char *rsa1024, *two;
	struct ca_jwk *k;

	memset(&p, 0, sizeof(p));
	is_int(load(&p, NULL, NULL), CA_ERR_CONFIG, "publicKeys: missing");
	unload(&p);
	is_int(load(&p, NULL, "-----BEGIN"), CA_ERR_CONFIG,
	    "publicKeys: PEM, not its base64");
	is_str(ca_errmsg(), "\"publicKeys\" is not base64 (of PEM public "
	    "keys)", "  the message");
	unload(&p);
	is_int(load(&p, "hello\n", NULL), CA_ERR_CONFIG, "publicKeys: no PEM");
	is_str(ca_errmsg(), "\"publicKeys\" holds no PEM public key",
	    "  the message");
	unload(&p);
	is_int(load(&p, "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", NULL), CA_ERR_CONFIG,
	    "publicKeys: a certificate");
	is_str(ca_errmsg(), "\"publicKeys\": a PEM \"CERTIFICATE\" block; only "
	    "PUBLIC KEY (SPKI) blocks are read", "  the message");
	unload(&p);
	k = new_key(GNUTLS_PK_RSA, 1024, &rsa1024);
	is_int(load(&p, rsa1024, NULL), CA_ERR_CONFIG, "publicKeys: RSA-1024");
	is_str(ca_errmsg(), "\"publicKeys\" key 1: RSA of 1024 bits (2048 at "
	    "least)", "  the message");
	unload(&p);
	ca_jwk_free(k);
	free(rsa1024);
	if (asprintf(&two, "%s%s", pem1, pem2) < 0)
		bail("asprintf");
	is_int(load(&p, two, NULL), 0, "publicKeys: two EC keys");
	unload(&p);
	free(two);
}

static void
test_accept(void)
{
	char *kid2 = NULL, sum[65];
	unsigned char h[32];
	char *t;

	t = tok(key1, NULL, "{" LEGACY "}");
	/* Of the signed part, header.payload (ca_authz_token_hash). */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, t, (size_t)(strrchr(t, '.') - t),
	    h) < 0)
		bail("hash");
	for (size_t i = 0; i < 32; i++)
		snprintf(sum + 2 * i, 3, "%02x", h[i]);
	verify(t, CA_AUTHZ_SIGN, 0, NULL, "legacy token (no aud, exp, jti)");
	ok(z.prov == &provs[0] && z.cred == CA_CRED_K8SSA &&
	    z.step_type == CA_STEP_TYPE_K8SSA && z.names_from_csr &&
	    !z.csr_must_match, "  provisioner k8s, type 8, the CSR's names");
	is_str(z.cn, "robot", "  default CN: the service account");
	is_str(z.identity, "system:serviceaccount:ns:robot", "  identity: sub");
	is_str(z.ott_scope, "k8ssa/k8s", "  used_ott scope k8ssa/NAME");
	is_str(z.ott_id, sum, "  id: the SHA-256 of the token's signed part");
	ok(z.ott_exp > now + 9LL * 365 * 86400, "  kept ten years");
	is_str(z.cred_id, "", "  extension credential: \"\"");

	if (ca_jwk_thumbprint(key2, &kid2) != 0)
		bail("kid");
	verify(tok(key2, "not-its-kid", "{\"aud\":[\"" SIGN "\"],\"exp\":%lld,"
	    "\"iat\":%lld,\"jti\":\"j-1\"," PROJ "}", (long long)now + 3600,
	    (long long)now), CA_AUTHZ_SIGN, 0, NULL,
	    "projected token, the second key (a kid of none)");
	is_str(z.ott_id, "j-1", "  id: the jti");
	is_int(z.ott_exp, now + 3600, "  kept until exp");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "#k8ssa/k8s\",\"exp\":%lld,"
	    "\"iat\":%lld," PROJ "}", (long long)now + 60, (long long)now),
	    CA_AUTHZ_SIGN, 0, NULL, "projected, aud #k8ssa/NAME, no jti");
	ok(z.ott_id != NULL && strlen(z.ott_id) == 64, "  id: a SHA-256");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "#k8ssa/k8sSA-default\","
	    "\"exp\":%lld,\"iat\":%lld," PROJ "}", (long long)now + 60,
	    (long long)now), CA_AUTHZ_SIGN, 0, NULL,
	    "projected, aud #k8ssa/k8sSA-default (step's id)");
	free(kid2);
}

/*
 * A token by hand: header {"alg": alg, "kid": kid}, the claims, and an
 * HMAC-SHA256 of the signed part under secret (NULL: no signature).
 */
static char *
forged(const char *alg, const char *kid, const char *claims,
    const char *secret)
{
	char *h = NULL, *hb = NULL, *cb = NULL, *sb = NULL;
	char *in = NULL, *out = NULL;
	unsigned char mac[32];

	if (asprintf(&h, "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid) < 0 ||
	    (hb = ca_b64url_encode(h, strlen(h))) == NULL ||
	    (cb = ca_b64url_encode(claims, strlen(claims))) == NULL ||
	    asprintf(&in, "%s.%s", hb, cb) < 0 ||
	    (secret != NULL && (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret,
	    strlen(secret), in, strlen(in), mac) < 0 ||
	    (sb = ca_b64url_encode(mac, sizeof(mac))) == NULL)) ||
	    asprintf(&out, "%s.%s", in, sb != NULL ? sb : "") < 0)
		bail("forged");
	free(h);
	free(hb);
	free(cb);
	free(sb);
	free(in);
	return out;
}

/*
 * Algorithm confusion: HS256 keyed with the cluster's public key (its
 * PEM, as a JWT library that takes any key as a secret would), "none",
 * and a kid of one key on a token signed by a stranger.
 */
static void
test_algs(void)
{
	char claims[512], *kid1 = NULL;

	snprintf(claims, sizeof(claims), "{" LEGACY "}");
	if (ca_jwk_thumbprint(key1, &kid1) != 0)
		bail("kid");
	verify(forged("HS256", kid1, claims, pem1), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    NULL, "HS256 keyed with the public key's PEM");
	verify(forged("none", kid1, claims, NULL), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    NULL, "alg none, no signature");
	verify(forged("ES256", kid1, claims, NULL), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    NULL, "ES256, no signature");
	verify(tok(evil, kid1, "{" LEGACY "}"), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "does not verify", "a stranger's signature under a known kid");
	free(kid1);
}

static void
test_refuse(void)
{
	long long n = (long long)now;

	verify(tok(evil, NULL, "{" LEGACY "}"), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "does not verify with the publicKeys of K8sSA provisioner \"k8s\"",
	    "another key");
	verify(tok(key1, NULL, "{" LEGACY ",\"exp\":%lld}", n - 61),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, "K8sSA token expired 61 s ago",
	    "legacy with an exp past");
	verify(tok(key1, NULL, "{\"iss\":\"kubernetes/serviceaccount\","
	    "\"kubernetes.io/serviceaccount/namespace\":\"ns\","
	    "\"kubernetes.io/serviceaccount/service-account.name\":\"robot\","
	    "\"sub\":\"system:serviceaccount:kube-system:robot\"}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, "is not system:serviceaccount:"
	    "NAMESPACE:NAME of its claims", "legacy, sub of another namespace");
	verify(tok(key1, NULL, "{\"iss\":\"kubernetes/serviceaccount\","
	    "\"sub\":\"system:serviceaccount:ns:robot\"}"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "names no namespace or service account",
	    "legacy without its claims");
	verify(tok(key1, NULL, "{\"aud\":\"https://kubernetes.default.svc\","
	    "\"exp\":%lld,\"iat\":%lld," PROJ "}", n + 60, n), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, "K8sSA token audience \"https://kubernetes.default.svc"
	    "\" is not this CA's /1.0/sign endpoint", "projected, the "
	    "cluster's audience");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "#k8ssa/other\",\"exp\":%lld,"
	    "\"iat\":%lld," PROJ "}", n + 60, n), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "is not this CA's", "projected, #k8ssa/ another name");
	verify(tok(key1, NULL, "{\"exp\":%lld,\"iat\":%lld," PROJ "}", n + 60,
	    n), CA_AUTHZ_SIGN, CA_ERR_AUTH, "projected K8sSA token without "
	    "\"aud\"", "projected without aud");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "\",\"iat\":%lld," PROJ "}",
	    n), CA_AUTHZ_SIGN, CA_ERR_AUTH, "without \"exp\" or \"iat\"",
	    "projected without exp");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "\",\"exp\":%lld,\"iat\":"
	    "%lld," PROJ "}", n + 86401, n), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "K8sSA token lifetime 86401 s exceeds 86400 s", "projected, a day "
	    "and a second");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "\",\"exp\":%lld,\"iat\":"
	    "%lld,\"nbf\":%lld," PROJ "}", n + 600, n, n + 300),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, "not valid before", "projected, nbf "
	    "ahead");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "\",\"exp\":%lld,\"iat\":"
	    "%lld," PROJ "}", 9000000000000000000LL, -9000000000000000000LL),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, NULL, "projected, exp - iat past "
	    "INT64_MAX");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "\",\"exp\":\"soon\","
	    "\"iat\":%lld," PROJ "}", n), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "exp, nbf and iat integers", "exp a string");
	verify(tok(key1, NULL, "{\"aud\":\"" SIGN "\",\"exp\":%lld,\"iat\":"
	    "%lld,\"kubernetes.io\":{\"namespace\":\"ns\"},\"iss\":\"x\","
	    "\"sub\":\"system:serviceaccount:ns:robot\"}", n + 60, n),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, "lacks namespace or serviceaccount.name",
	    "projected without serviceaccount");
	verify(tok(key1, NULL, "{" LEGACY "}"), CA_AUTHZ_REVOKE,
	    CA_ERR_FORBIDDEN, "K8sSA tokens cannot revoke", "legacy at revoke");
	/* Without the K8sSA provisioner: the shape still routes here. */
	cfg.n_provisioners = 0;
	verify(tok(key1, NULL, "{" LEGACY "}"), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    "no K8sSA provisioner accepts this token", "no K8sSA provisioner");
	cfg.n_provisioners = 2;
}

int
main(void)
{
	char *both;

	now = time(NULL);
	key1 = new_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), &pem1);
	key2 = new_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), &pem2);
	evil = new_key(GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), NULL);
	if (asprintf(&both, "%s%s", pem1, pem2) < 0 ||
	    load(&provs[0], both, NULL) != 0)
		bail("load");
	free(both);
	provs[1].name = strdup("jwk");
	provs[1].type = strdup("JWK");
	provs[1].kind = CA_PROV_JWK;
	authz_unit_setup(provs, 2);

	test_conf();
	test_accept();
	test_refuse();
	test_algs();

	ca_authz_free(&z);
	unload(&provs[0]);
	free(provs[1].name);
	free(provs[1].type);
	ca_jwk_free(key1);
	ca_jwk_free(key2);
	ca_jwk_free(evil);
	free(pem1);
	free(pem2);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
