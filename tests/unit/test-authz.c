/*
 * test-authz.c - the token dispatcher (lib/authz.c): its routing table,
 * without HTTP. Every token is hand-made and goes to exactly one
 * verifier (ca_authz_calls counts them); a token that names an ACME or
 * SCEP provisioner by iss or audience fragment never reaches anything
 * that would accept it (step-ca's GHSA-h8cp). Also the JWK verifier's
 * result (struct ca_authz), the names taken from a CSR (ca_authz_csr_names)
 * and the small shared helpers of the skeleton: ca_config_audience_ok2,
 * the kinds table, step-ca's type numbers.
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
#include <gnutls/x509.h>

#include "ca.h"
#include "authority.h"
#include "authz.h"
#include "client.h"
#include "conf.h"
#include "crl.h"
#include "jose.h"
#include "json.h"
#include "token.h"
#include "x509.h"
#include "tap.h"
#include "unit-ca.h"

#define NOW	1767225600LL	/* 2026-01-01T00:00:00Z */
#define SIGN	"https://ca.test/1.0/sign"
#define REVOKE	"https://ca.test/1.0/revoke"
#define TIMES	"\"iat\":1767225600,\"nbf\":1767225600,\"exp\":1767225900"

static struct ca_jwk *prov_key;		/* provisioner "jwk"'s private key */
static struct ca_jwk *evil_key;		/* an attacker's */
static struct ca_config cfg;
static struct ca_provisioner provs[6];
static const char *dns_names[] = { "ca.test" };
static struct ca_authz_ctx ctx = { &cfg, NULL, NULL, NULL };

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

static void
prov_set(size_t i, const char *name, const char *type)
{
	provs[i].name = strdup(name);
	provs[i].type = strdup(type);
	provs[i].kind = ca_prov_kind_of(type);
	provs[i].claims.max_dur = 86400;
}

/* One CA, one provisioner of each kind issue 13 knows. */
static void
setup(void)
{
	struct json_object *o = NULL;

	prov_key = new_key();
	evil_key = new_key();
	prov_set(0, "jwk", "JWK");
	provs[0].kid = strdup(ca_jwk_kid(prov_key));
	if (ca_jwk_to_json(prov_key, 0, &o) != 0 ||
	    ca_jwk_from_json(o, &provs[0].key) != 0) {
		printf("Bail out! public JWK: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(o);
	prov_set(1, "acme", "ACME");
	prov_set(2, "oidc", "OIDC");
	provs[2].client_id = "cid-123";
	prov_set(3, "k8s", "K8sSA");
	prov_set(4, "x5c", "X5C");
	prov_set(5, "scep", "SCEP");
	cfg.dns_names = dns_names;
	cfg.n_dns_names = 1;
	cfg.port = 443;
	cfg.provisioners = provs;
	cfg.n_provisioners = 6;
}

/*
 * A token: header {alg, kid (NULL: the provisioner's), typ, and the
 * extra members hdr ("" or ",\"x5c\":[...]")}, claims as given, signed
 * by key. Caller frees.
 */
static char *
tok(const struct ca_jwk *key, const char *kid, const char *hdr,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static char *
tok(const struct ca_jwk *key, const char *kid, const char *hdr,
    const char *fmt, ...)
{
	struct json_object *h = NULL;
	char *claims = NULL, *hs = NULL, *out = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&claims, fmt, ap) < 0)
		claims = NULL;
	va_end(ap);
	if (claims == NULL || asprintf(&hs, "{\"kid\":\"%s\",\"typ\":\"JWT\"%s}",
	    kid != NULL ? kid : provs[0].kid, hdr) < 0 ||
	    ca_json_parse(hs, strlen(hs), "header", &h) != 0 ||
	    ca_jws_sign(key, h, claims, strlen(claims), &out) != 0) {
		printf("Bail out! signing: %s\n", ca_errmsg());
		exit(1);
	}
	json_object_put(h);
	free(hs);
	free(claims);
	return out;
}

/* A JWK-shaped token from iss for aud, signed by key. */
static char *
jwk_tok(const struct ca_jwk *key, const char *iss, const char *aud)
{
	return tok(key, NULL, "", "{\"aud\":\"%s\",\"iss\":\"%s\",\"jti\":"
	    "\"j1\",\"sub\":\"a.test\"," TIMES "}", aud, iss);
}

static struct ca_authz z;

/* The last error contains msg (NULL: not checked). */
static void
said(const char *msg, const char *what)
{
	if (msg == NULL)
		return;
	ok(strstr(ca_errmsg(), msg) != NULL, "  %s: \"%s\"", what, msg);
	if (strstr(ca_errmsg(), msg) == NULL)
		printf("#   got \"%s\"\n", ca_errmsg());
}

/*
 * Dispatch s (freed) for op: the status is want, the message contains
 * msg (NULL: not checked), and exactly the verifier cred ran (-1: none).
 */
static void
route(char *s, enum ca_authz_op op, int want, int cred, const char *msg,
    const char *what)
{
	unsigned long before[CA_CRED_N];
	int i, ran = -1, n = 0;

	memcpy(before, ca_authz_calls, sizeof(before));
	ca_authz_free(&z);
	ca_err_clear();
	is_int(ca_authz_token(&ctx, op, s, strlen(s), (time_t)NOW, &z), want,
	    "%s", what);
	for (i = 0; i < CA_CRED_N; i++)
		if (ca_authz_calls[i] != before[i]) {
			ran = i;
			n += (int)(ca_authz_calls[i] - before[i]);
		}
	ok(n == (cred < 0 ? 0 : 1) && ran == cred,
	    "  %s: verifier %s, and only it", what,
	    cred < 0 ? "none" : ca_authz_cred_name((enum ca_cred)cred));
	said(msg, what);
	free(s);
}

static void
test_jwk(void)
{
	route(jwk_tok(prov_key, "jwk", SIGN), CA_AUTHZ_SIGN, 0, CA_CRED_JWK,
	    NULL, "a JWK sign token");
	ok(z.prov == &provs[0] && z.cred == CA_CRED_JWK &&
	    z.step_type == CA_STEP_TYPE_JWK && z.csr_must_match &&
	    !z.names_from_csr, "  provisioner jwk, type 1, CSR must match");
	is_str(z.cn, "a.test", "  CN from sub");
	is_int(z.n_sans, 1, "  sans: [sub]");
	is_int(z.names.n_dns, 1, "  one DNS name");
	is_str(z.ott_scope, provs[0].kid, "  used_ott scope: the kid, as before");
	is_str(z.ott_id, "j1", "  used_ott id: the jti");
	is_int(z.ott_exp, NOW + 300, "  used_ott exp: the token's");
	is_str(z.cred_id, provs[0].kid, "  extension credential: the kid");
	is_str(z.identity, "a.test", "  identity: sub");
	ok(z.revoke_serial == NULL, "  no revoke serial on a sign token");

	route(tok(prov_key, NULL, "", "{\"aud\":\"" REVOKE "\",\"iss\":\"jwk\","
	    "\"jti\":\"j2\",\"sub\":\"1234\"," TIMES "}"), CA_AUTHZ_REVOKE, 0,
	    CA_CRED_JWK, NULL, "a JWK revoke token");
	is_str(z.revoke_serial, "1234", "  revoke serial: sub");
	is_str(z.ott_scope, provs[0].kid, "  used_ott scope: the kid");
	route(jwk_tok(prov_key, "jwk", SIGN), CA_AUTHZ_REVOKE, CA_ERR_AUTH,
	    CA_CRED_JWK, "audience", "a sign token at revoke");
	route(jwk_tok(prov_key, "jwk", REVOKE), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    CA_CRED_JWK, "audience", "a revoke token at sign");
}

/* Each shape goes to its verifier, and nowhere else. */
static void
test_shapes(void)
{
	route(tok(evil_key, "x", ",\"x5c\":[\"AAAA\"]", "{\"aud\":\"" SIGN
	    "#x5c/x5c\",\"iss\":\"x5c\",\"sub\":\"a.test\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_X5C, "X5C", "x5c header: X5C");
	route(tok(evil_key, "x", ",\"x5c\":[\"AAAA\"]", "{\"aud\":\"cid-123\","
	    "\"iss\":\"kubernetes/serviceaccount\",\"sub\":\"a\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_X5C, "X5C",
	    "x5c header and every other shape: X5C first");
	route(tok(prov_key, NULL, ",\"x5cInsecure\":[\"AAAA\"]", "{\"aud\":\""
	    SIGN "\",\"iss\":\"jwk\",\"jti\":\"j\",\"sub\":\"a.test\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, -1, "only accepted at /1.0/renew",
	    "x5cInsecure (a renew token): no verifier");
	route(tok(evil_key, "x", "", "{\"aud\":\"" SIGN "\",\"iss\":"
	    "\"kubernetes/serviceaccount\",\"sub\":\"system:serviceaccount:"
	    "ns:sa\"}"), CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_K8SSA, "K8sSA",
	    "iss kubernetes/serviceaccount: K8sSA");
	route(tok(evil_key, "x", "", "{\"aud\":[\"" SIGN "\"],\"iss\":"
	    "\"https://kubernetes.default.svc\",\"kubernetes.io\":"
	    "{\"namespace\":\"ns\"},\"sub\":\"s\"," TIMES "}"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, CA_CRED_K8SSA, "K8sSA", "a kubernetes.io claim: K8sSA");
	route(tok(evil_key, "x", "", "{\"aud\":\"cid-123\",\"iss\":"
	    "\"https://idp.test\",\"sub\":\"alice\"," TIMES "}"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, CA_CRED_OIDC, "OIDC", "aud an OIDC clientID: OIDC");
	route(tok(evil_key, "x", "", "{\"aud\":[\"x\",\"cid-123\"],\"iss\":"
	    "\"http://127.0.0.1:5000\",\"sub\":\"alice\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_OIDC, "OIDC",
	    "clientID in an aud list, http issuer: OIDC");
	/* OIDC needs both: an http(s) issuer and a clientID in aud. */
	route(tok(evil_key, "x", "", "{\"aud\":\"cid-123\",\"iss\":\"oidc\","
	    "\"jti\":\"j\",\"sub\":\"alice\"," TIMES "}"), CA_AUTHZ_SIGN,
	    CA_ERR_AUTH, CA_CRED_JWK, "unknown provisioner",
	    "clientID but iss not a URL: JWK, refused");
	route(tok(evil_key, "x", "", "{\"aud\":\"oidc\",\"iss\":"
	    "\"https://idp.test\",\"jti\":\"j\",\"sub\":\"alice\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_JWK, "unknown provisioner",
	    "OIDC-shaped, aud the provisioner's name: JWK, refused");
	route(tok(evil_key, "x", "", "{\"aud\":\"acme\",\"iss\":"
	    "\"https://idp.test\",\"jti\":\"j\",\"sub\":\"alice\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_JWK, "unknown provisioner",
	    "OIDC-shaped, aud \"acme\": JWK, refused");
	route(tok(evil_key, "x", "", "{\"aud\":\"scep/scep\",\"iss\":"
	    "\"https://idp.test\",\"jti\":\"j\",\"sub\":\"alice\"," TIMES "}"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, CA_CRED_JWK, "unknown provisioner",
	    "OIDC-shaped, aud \"scep/scep\": JWK, refused");
	/* Not a token at all: nothing runs. */
	route(strdup("not.a.token"), CA_AUTHZ_SIGN, CA_ERR_AUTH, -1,
	    "invalid token", "garbage: no verifier");
	route(strdup(""), CA_AUTHZ_SIGN, CA_ERR_AUTH, -1, "token is empty",
	    "empty: no verifier");
}

/* step-ca's GHSA-h8cp: the token path never reaches ACME or SCEP. */
static void
test_ghsa(void)
{
	static const char *names[] = { "acme", "scep", "x5c", "oidc", "k8s" };
	static const char *frags[] = { "#acme/acme", "#scep/scep", "#x5c/jwk",
	    "#k8ssa/k8sSA-default", "#jwk" };
	char what[128], aud[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(what, sizeof(what), "an attacker's JWK token, iss %s",
		    names[i]);
		route(jwk_tok(evil_key, names[i], SIGN), CA_AUTHZ_SIGN,
		    CA_ERR_AUTH, CA_CRED_JWK, "unknown provisioner", what);
		/* Even with the JWK provisioner's kid and key. */
		snprintf(what, sizeof(what), "the JWK key's token, iss %s",
		    names[i]);
		route(jwk_tok(prov_key, names[i], SIGN), CA_AUTHZ_SIGN,
		    CA_ERR_AUTH, CA_CRED_JWK, "unknown provisioner", what);
	}
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		snprintf(aud, sizeof(aud), SIGN "%s", frags[i]);
		snprintf(what, sizeof(what), "an attacker's token, aud sign%s",
		    frags[i]);
		route(jwk_tok(evil_key, "acme", aud), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    CA_CRED_JWK, "unknown provisioner", what);
		/* A validly signed JWK token still gets no fragment. */
		snprintf(what, sizeof(what), "a good JWK token, aud sign%s",
		    frags[i]);
		route(jwk_tok(prov_key, "jwk", aud), CA_AUTHZ_SIGN, CA_ERR_AUTH,
		    CA_CRED_JWK, "audience", what);
	}
	ok(z.prov == NULL && z.ott_id == NULL, "a refused token leaves no result");
	/* A provisioner of another type that holds a JWK key and kid (a
	 * ca.json member loaded where it means nothing): the dispatcher
	 * refuses what its verifier answers with, whatever the verifier
	 * checked. */
	provs[4].key = provs[0].key;
	provs[4].kid = provs[0].kid;
	route(jwk_tok(prov_key, "x5c", SIGN), CA_AUTHZ_SIGN, CA_ERR_AUTH,
	    CA_CRED_JWK, "provisioner \"x5c\" (type X5C) does not verify JWK "
	    "tokens", "a JWK token from an X5C provisioner with a JWK key");
	ok(z.prov == NULL, "  no result");
	provs[4].key = NULL;
	provs[4].kid = NULL;
}

/*
 * A SAN for csr(): its GNUTLS_SAN_* type and value (NULL ends a list);
 * type 0: the whole extension's DER (GnuTLS drops a dNSName's controls).
 */
struct san {
	int		 type;
	const char	*v;
	unsigned	 len;		/* 0: strlen(v) */
};

static gnutls_x509_privkey_t csr_key;

/*
 * A signed CSR with the CNs cns (NULL-terminated; raw: DER values given
 * as "\x0c\x03abc") and the SANs sans (until a NULL value).
 */
static gnutls_x509_crq_t
csr(const char *const *cns, size_t raw_len, const struct san *sans)
{
	gnutls_x509_crq_t crq;
	size_t i;

	if (csr_key == NULL && (gnutls_x509_privkey_init(&csr_key) < 0 ||
	    gnutls_x509_privkey_generate(csr_key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0))
		goto fail;
	if (gnutls_x509_crq_init(&crq) < 0 ||
	    gnutls_x509_crq_set_key(crq, csr_key) < 0)
		goto fail;
	for (i = 0; cns != NULL && cns[i] != NULL; i++)
		if (gnutls_x509_crq_set_dn_by_oid(crq,
		    GNUTLS_OID_X520_COMMON_NAME, raw_len > 0, cns[i],
		    raw_len > 0 ? (unsigned)raw_len :
		    (unsigned)strlen(cns[i])) < 0)
			goto fail;
	for (i = 0; sans != NULL && sans[i].v != NULL; i++)
		if (sans[i].type == 0 ? gnutls_x509_crq_set_extension_by_oid(crq,
		    "2.5.29.17", sans[i].v, sans[i].len, 0) < 0 :
		    gnutls_x509_crq_set_subject_alt_name(crq, sans[i].type,
		    sans[i].v, sans[i].len ? sans[i].len :
		    (unsigned)strlen(sans[i].v), GNUTLS_FSAN_APPEND) < 0)
			goto fail;
	if (gnutls_x509_crq_sign2(crq, csr_key, GNUTLS_DIG_SHA256, 0) < 0)
		goto fail;
	return crq;
fail:
	printf("Bail out! making a CSR\n");
	exit(1);
}

/*
 * ca_authz_csr_names on crq (freed), max_sans 3, after a verifier that
 * set the default CN dflt: the status is want, the message contains msg
 * (NULL: not checked).
 */
static void
csr_names(gnutls_x509_crq_t crq, const char *dflt, int want, const char *msg,
    const char *what)
{
	ca_authz_free(&z);
	ca_err_clear();
	z.names_from_csr = 1;
	if (dflt != NULL)
		z.cn = strdup(dflt);
	is_int(ca_authz_csr_names(crq, 3, &z), want, "%s", what);
	said(msg, what);
	gnutls_x509_crq_deinit(crq);
}

/*
 * Each SAN taken from a CSR as the token path would type it
 * (ca_names_classify), or the leaf carries what no token could name and
 * an RA's upstream reads the relayed text as another type.
 */
static void
test_csr_bad_sans(void)
{
	static const struct {
		struct san	 san[2];
		const char	*msg, *what;
	} bad[] = {
		{ { { GNUTLS_SAN_DNSNAME, "10.0.0.1", 0 } },
		    "'10.0.0.1' is not a valid DNS name", "an IP as a dNSName" },
		{ { { GNUTLS_SAN_DNSNAME, "u@a.test", 0 } },
		    "'u@a.test' is not a valid DNS name", "an e-mail as a dNSName" },
		{ { { 0, "\x30\x0f\x82\x0d" "a.test\nb.test", 17 } },
		    "'a.test\\x0ab.test' is not a valid DNS name",
		    "a dNSName with a newline" },
		{ { { GNUTLS_SAN_DNSNAME, "a b.test", 0 } },
		    "not a valid DNS name", "a dNSName with a space" },
		{ { { GNUTLS_SAN_RFC822NAME, "a.test", 0 } },
		    "'a.test' is not a valid e-mail name", "an rfc822Name without @" },
		{ { { GNUTLS_SAN_URI, "a.test", 0 } },
		    "not a valid URI name", "a URI without a scheme" },
		{ { { GNUTLS_SAN_URI, "https://a.test/x y", 0 } },
		    "not a valid URI name", "a URI with a space" },
	};
	char what[96];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "CSR names: %s", bad[i].what);
		csr_names(csr(NULL, 0, bad[i].san), NULL, CA_ERR_INVAL,
		    bad[i].msg, what);
	}
}

/*
 * The CN as the CSR holds it, not GnuTLS's RFC 4514 rendering of it
 * ("a\\,b+c", "\\#x", and "#0c03610062" for a NUL or a non-string).
 */
static void
test_csr_cns(void)
{
	static const struct {
		const char	*cn[2];
		size_t		 raw;		/* DER of the value: its length */
		int		 want;
		const char	*msg;		/* the error, or the CN taken */
		const char	*what;
	} t[] = {
		{ { "a,b+c" }, 0, 0, "a,b+c", "a CN with RFC 4514 specials" },
		{ { "#x" }, 0, 0, "#x", "a CN starting with #" },
		{ { "\x1e\x04\0a\0\xe9" }, 6, 0, "a\xc3\xa9",
		    "a BMPString CN, as UTF-8" },
		{ { "\x0c\x03" "a\0b" }, 5, CA_ERR_INVAL, "holds a NUL",
		    "a UTF8String CN with a NUL" },
		{ { "\x1e\x04\0a\0\0" }, 6, CA_ERR_INVAL, "holds a NUL",
		    "a BMPString CN with a NUL" },
		{ { "\x04\x03" "abc" }, 5, CA_ERR_INVAL, "not a UTF8String",
		    "a CN that is not a string" },
	};
	char what[96];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(what, sizeof(what), "CSR names: %s", t[i].what);
		csr_names(csr(t[i].cn, t[i].raw, NULL), NULL, t[i].want,
		    t[i].want != 0 ? t[i].msg : NULL, what);
		if (t[i].want == 0)
			is_str(z.cn, t[i].msg, "  %s: the CN taken", t[i].what);
		else
			ok(z.cn == NULL, "  %s: no CN taken", t[i].what);
	}
}

static void
test_csr_names(void)
{
	static const char *const one[] = { "svc", NULL };
	static const char *const two[] = { "a", "b", NULL };
	static const char *const ctl[] = { "a\x01b", NULL };
	static const char *const big[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL };
	static const struct san good[] = {
		{ GNUTLS_SAN_DNSNAME, "a.test", 0 },
		{ GNUTLS_SAN_IPADDRESS, "\x0a\0\0\x01", 4 },
		{ GNUTLS_SAN_URI, "spiffe://t/ns/sa", 0 },
		{ 0, NULL, 0 } };
	static const struct san four[] = {
		{ GNUTLS_SAN_DNSNAME, "a.test", 0 },
		{ GNUTLS_SAN_DNSNAME, "b.test", 0 },
		{ GNUTLS_SAN_DNSNAME, "c.test", 0 },
		{ GNUTLS_SAN_DNSNAME, "d.test", 0 },
		{ 0, NULL, 0 } };

	csr_names(csr(one, 0, good), "dflt", 0, NULL, "CSR names: CN and SANs");
	is_str(z.cn, "svc", "  the CSR's CN over the verifier's default");
	ok(z.names.n_dns == 1 && z.names.n_ip == 1 && z.names.n_uri == 1 &&
	    z.names.n_email == 0, "  typed: one DNS, one IP, one URI");
	ok(z.n_sans == 3 && strcmp(z.sans[0], "a.test") == 0 &&
	    strcmp(z.sans[1], "10.0.0.1") == 0 &&
	    strcmp(z.sans[2], "spiffe://t/ns/sa") == 0,
	    "  the RA relay's sans: the same names as text");
	csr_names(csr(NULL, 0, good), "dflt", 0, NULL, "CSR names: no CN");
	is_str(z.cn, "dflt", "  the verifier's default CN stays");
	csr_names(csr(one, 0, NULL), NULL, 0, NULL, "CSR names: a CN only");
	ok(strcmp(z.cn, "svc") == 0 && z.n_sans == 0 && z.sans == NULL,
	    "  CN, no SANs");
	csr_names(csr(NULL, 0, NULL), NULL, CA_ERR_FORBIDDEN, "names nothing",
	    "CSR names: a CSR naming nothing, no default");
	ok(z.cn == NULL && z.n_sans == 0, "  nothing left behind");
	csr_names(csr(NULL, 0, NULL), "dflt", 0, NULL,
	    "CSR names: naming nothing, the verifier's default CN");
	csr_names(csr(two, 0, NULL), NULL, CA_ERR_INVAL, "more than one common",
	    "CSR names: two CNs");
	csr_names(csr(ctl, 0, NULL), NULL, CA_ERR_INVAL, "control character",
	    "CSR names: a CN with a control character");
	csr_names(csr(big, 0, NULL), NULL, CA_ERR_INVAL, "at most 64",
	    "CSR names: a 65-character CN");
	csr_names(csr(one, 0, four), NULL, CA_ERR_INVAL, "at most 3",
	    "CSR names: more SANs than max_sans");
	test_csr_cns();
	test_csr_bad_sans();
}

/*
 * The same ES256 token in a second compact form: the signature (r, s)
 * as (r, n - s) verifies too (ECDSA), so an id hashed from the compact
 * text would let it buy a second certificate; ca_authz_token_hash
 * (SHA-256 of the signed "header.payload") is the same for both.
 */
static void
test_hash_id(void)
{
	static const unsigned char n256[32] = {	/* the order of P-256 */
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51 };
	struct ca_jws *j1 = NULL, *j2 = NULL;
	unsigned char sig[64];
	char *t1, *t2 = NULL, *s2 = NULL, *h1 = NULL, *h2 = NULL;
	const char *dot;
	unsigned borrow = 0, d;
	int i;

	t1 = jwk_tok(prov_key, "jwk", SIGN);
	dot = strrchr(t1, '.');
	if (ca_jws_parse(t1, strlen(t1), &j1) != 0 || j1->sig_len != 64) {
		printf("Bail out! parsing a token: %s\n", ca_errmsg());
		exit(1);
	}
	memcpy(sig, j1->sig, 64);
	for (i = 31; i >= 0; i--) {
		d = (unsigned)n256[i] - sig[32 + i] - borrow;
		sig[32 + i] = (unsigned char)d;
		borrow = d >> 8 & 1;
	}
	if ((s2 = ca_b64url_encode(sig, sizeof(sig))) == NULL ||
	    asprintf(&t2, "%.*s.%s", (int)(dot - t1), t1, s2) < 0 ||
	    ca_jws_parse(t2, strlen(t2), &j2) != 0) {
		printf("Bail out! the second form\n");
		exit(1);
	}
	ok(strcmp(t1, t2) != 0, "a token's second compact form (r, n - s)");
	route(strdup(t2), CA_AUTHZ_SIGN, 0, CA_CRED_JWK, NULL,
	    "  it verifies (ECDSA signatures are malleable)");
	is_int(ca_authz_token_hash(j1, &h1), 0, "ca_authz_token_hash");
	is_int(ca_authz_token_hash(j2, &h2), 0, "  of the second form");
	ok(h1 != NULL && h2 != NULL && strcmp(h1, h2) == 0 &&
	    strlen(h1) == 64, "  the same id for both: %s", h1 ? h1 : "");
	ca_jws_free(j1);
	ca_jws_free(j2);
	free(t1);
	free(t2);
	free(s2);
	free(h1);
	free(h2);
}

/*
 * What a hostile client tried that held (tests/unit/test-authz.c is
 * where they stay held): claim and header confusions, audiences that are
 * almost this CA's, lifetimes just out of bounds. Each token is signed by
 * the JWK provisioner's own key unless the row says "evil".
 */
static void
test_confusions(void)
{
#define JWKC	"\"iss\":\"jwk\",\"jti\":\"j\",\"sub\":\"a.test\""
	static const struct {
		int		 evil;
		const char	*hdr, *claims;
		int		 want, cred;
		const char	*msg, *what;
	} t[] = {
		{ 0, "", "{\"aud\":\"" SIGN "\",\"iss\":\"x\"," JWKC "," TIMES "}",
		    CA_ERR_AUTH, -1, "duplicate member",
		    "a claim twice (iss), the second the provisioner's" },
		{ 0, ",\"x5c\":[\"AAAA\"],\"x5cInsecure\":[\"AAAA\"]",
		    "{\"aud\":\"" SIGN "\"," JWKC "," TIMES "}", CA_ERR_AUTH, -1,
		    "only accepted at /1.0/renew", "both x5c and x5cInsecure" },
		{ 1, "", "{\"aud\":[\"" SIGN "\",\"cid-123\"],\"iss\":"
		    "\"https://idp.test\",\"sub\":\"a\"," TIMES "}", CA_ERR_AUTH,
		    CA_CRED_OIDC, "OIDC", "aud: this CA's and a clientID: OIDC only" },
		{ 0, "", "{\"aud\":[\"" SIGN "\",\"cid-123\"]," JWKC "," TIMES "}",
		    0, CA_CRED_JWK, NULL, "the same from the JWK key, iss not a URL" },
		{ 1, "", "{\"aud\":\"cid-123\",\"iss\":\"https://idp.test\","
		    "\"kubernetes.io\":\"ns\",\"sub\":\"a\"," TIMES "}",
		    CA_ERR_AUTH, CA_CRED_OIDC, "OIDC",
		    "kubernetes.io a string: not K8sSA" },
		{ 0, "", "{\"aud\":\"" SIGN "\",\"iss\":7,\"jti\":\"j\",\"sub\":"
		    "\"a.test\"," TIMES "}", CA_ERR_AUTH, CA_CRED_JWK, "\"iss\"",
		    "iss a number" },
		{ 0, "", "{\"aud\":\"" SIGN "\",\"iss\":\"JWK\",\"jti\":\"j\","
		    "\"sub\":\"a.test\"," TIMES "}", CA_ERR_AUTH, CA_CRED_JWK,
		    "unknown provisioner", "iss in another case" },
		{ 0, "", "{\"aud\":\"" SIGN "\",\"iss\":\"\",\"jti\":\"j\","
		    "\"sub\":\"a.test\"," TIMES "}", CA_ERR_AUTH, CA_CRED_JWK,
		    "unknown provisioner", "iss empty" },
		{ 0, "", "{\"aud\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
		    "\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"" SIGN
		    "\"]," JWKC "," TIMES "}", CA_ERR_AUTH, CA_CRED_JWK,
		    "too many \"aud\"", "17 audiences" },
		{ 0, "", "{\"aud\":\"" SIGN "/\"," JWKC "," TIMES "}", CA_ERR_AUTH,
		    CA_CRED_JWK, "audience", "aud with a trailing slash" },
		{ 0, "", "{\"aud\":\"" SIGN "#\"," JWKC "," TIMES "}", CA_ERR_AUTH,
		    CA_CRED_JWK, "audience", "aud with an empty fragment" },
		{ 0, "", "{\"aud\":\"" SIGN "?a=b\"," JWKC "," TIMES "}",
		    CA_ERR_AUTH, CA_CRED_JWK, "audience", "aud with a query" },
		{ 0, "", "{\"aud\":\"https://CA.test/1.0/sign\"," JWKC "," TIMES
		    "}", CA_ERR_AUTH, CA_CRED_JWK, "audience", "aud host in capitals" },
		{ 0, "", "{\"aud\":\"http://ca.test/1.0/sign\"," JWKC "," TIMES "}",
		    CA_ERR_AUTH, CA_CRED_JWK, "audience", "aud over http" },
		{ 0, "", "{\"aud\":\"https://ca.test:8443/1.0/sign\"," JWKC ","
		    TIMES "}", CA_ERR_AUTH, CA_CRED_JWK, "audience",
		    "aud on a port that is not the CA's" },
		{ 0, "", "{\"aud\":\"https://ca.test:443/sign\"," JWKC "," TIMES
		    "}", 0, CA_CRED_JWK, NULL, "aud with the CA's port, step's /sign" },
		{ 0, "", "{\"aud\":\"" SIGN "\"," JWKC ",\"iat\":1767225600,"
		    "\"exp\":1767229201}", CA_ERR_AUTH, CA_CRED_JWK, "lifetime 3601 s",
		    "exp - iat one second over an hour" },
		{ 0, "", "{\"aud\":\"" SIGN "\"," JWKC ",\"iat\":1767225661,"
		    "\"exp\":1767225900}", CA_ERR_AUTH, CA_CRED_JWK,
		    "issued in the future", "iat 61 s ahead" },
		{ 0, "", "{\"aud\":\"" SIGN "\"," JWKC ",\"exp\":1767225539}",
		    CA_ERR_AUTH, CA_CRED_JWK, "expired 61 s ago", "exp 61 s ago" },
		{ 0, "", "{\"aud\":\"" SIGN "\"," JWKC ",\"exp\":1767229261}",
		    CA_ERR_AUTH, CA_CRED_JWK, "more than 3600 s from now",
		    "no iat, exp an hour and 61 s ahead" },
		{ 0, "", "{\"aud\":\"" SIGN "\"," JWKC ",\"nbf\":1767225661,"
		    "\"exp\":1767225900}", CA_ERR_AUTH, CA_CRED_JWK,
		    "not valid before", "nbf 61 s ahead" },
		{ 0, "", "{\"aud\":\"" SIGN "\",\"iss\":\"jwk\",\"jti\":\"\","
		    "\"sub\":\"a.test\"," TIMES "}", CA_ERR_AUTH, CA_CRED_JWK,
		    "empty or overlong \"jti\"", "jti empty" },
		{ 0, "", "{\"aud\":\"" SIGN "\",\"iss\":\"jwk\",\"jti\":\"j\","
		    "\"sub\":\"a.test\",\"sans\":[\"a.test\",\"10.0.0.1\\n\"],"
		    TIMES "}", CA_ERR_FORBIDDEN, CA_CRED_JWK, "invalid DNS name",
		    "a SAN with a newline" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		route(tok(t[i].evil ? evil_key : prov_key, t[i].evil ? "x" : NULL,
		    t[i].hdr, "%s", t[i].claims), CA_AUTHZ_SIGN, t[i].want,
		    t[i].cred, t[i].msg, t[i].what);
	/* A header member twice: refused before any verifier (hand-made:
	 * the signature is never looked at). */
	route(strdup("eyJhbGciOiJFUzI1NiIsImtpZCI6ImEiLCJraWQiOiJiIn0.e30.AAAA"),
	    CA_AUTHZ_SIGN, CA_ERR_AUTH, -1, "duplicate member",
	    "a header member twice (kid)");
#undef JWKC
}

static struct ca_jwk *unit_key;	/* the unit CA's provisioner key */

/* A token from the unit CA's provisioner for path, sub; NULL: failed. */
static char *
ca_mint(struct ca_authority *a, const char *path, const char *sub)
{
	struct ca_token_opts o = { NULL, NULL, NULL, NULL, 0, NULL, 0, 0, 0,
	    NULL, 0, NULL, 0 };
	char *aud = ca_config_audience(ca_authority_config(a), path), *t = NULL;

	o.iss = ca_authority_config(a)->provisioners[0].name;
	o.sub = sub;
	o.aud = aud;
	o.now = time(NULL);
	o.no_sans = strstr(path, "revoke") != NULL;
	if (aud == NULL || ca_token_mint(unit_key, &o, &t) != 0)
		t = NULL;
	free(aud);
	return t;
}

/* Revoke serial with token t (freed): the status is want. */
static int
revoke_with(struct ca_authority *a, const char *serial, char *t)
{
	struct ca_revoke_req vr;
	char *out = NULL;
	int rc;

	memset(&vr, 0, sizeof(vr));
	vr.serial = serial;
	vr.reason = CA_REASON_NONE;
	vr.token = t;
	vr.token_len = t != NULL ? strlen(t) : 0;
	ca_err_clear();
	rc = ca_authority_revoke(a, &vr, &out);
	free(out);
	free(t);
	return rc;
}

/*
 * The revoke token path on a real state directory: its sub is the
 * serial, and what a refusal says about it stays one line.
 */
static void
test_revoke(void)
{
	struct ca_authority *a = NULL;
	struct ca_sign_req sr;
	struct ca_sign_result r;
	gnutls_datum_t csr_pem = { NULL, 0 };
	char dir[4200], prov[4300], hex[80], *t, *key = NULL;
	size_t klen = 0;

	memset(&r, 0, sizeof(r));
	unit_ca_make(dir, sizeof(dir), prov, sizeof(prov));
	if (ca_authority_open(dir, NULL, &a) != 0 ||
	    ca_token_provisioner_key(&ca_authority_config(a)->provisioners[0],
	    NULL, 0, prov, &unit_key) != 0 ||
	    (t = ca_mint(a, "/1.0/sign", "svc.test")) == NULL ||
	    ca_client_keygen(CA_KEY_EC_P256, t, strlen(t), &csr_pem, &key,
	    &klen) != 0) {
		printf("Bail out! the unit CA: %s\n", ca_errmsg());
		exit(1);
	}
	memset(&sr, 0, sizeof(sr));
	sr.token = t;
	sr.token_len = strlen(t);
	sr.csr = (const char *)csr_pem.data;
	sr.csr_len = csr_pem.size;
	is_int(ca_authority_sign(a, &sr, &r), 0, "revoke: a certificate to revoke");
	free(t);
	snprintf(hex, sizeof(hex), "0x%s", r.serial != NULL ? r.serial : "");

	is_int(revoke_with(a, hex, ca_mint(a, "/1.0/sign", hex)),
	    CA_ERR_AUTH, "revoke: a sign token refused");
	is_int(revoke_with(a, hex, ca_mint(a, "/1.0/revoke",
	    "1\n2\x1b[31m")), CA_ERR_FORBIDDEN,
	    "revoke: a token whose sub is no serial");
	ok(strchr(ca_errmsg(), '\n') == NULL &&
	    strchr(ca_errmsg(), '\x1b') == NULL, "  the message is one line, "
	    "no terminal escape: %s", ca_errmsg());
	t = ca_mint(a, "/1.0/revoke", hex);
	is_int(revoke_with(a, "0x4242", t != NULL ? strdup(t) : NULL),
	    CA_ERR_FORBIDDEN, "revoke: a token for another serial");
	is_int(revoke_with(a, hex, t), 0, "  then for its own: not spent by "
	    "the refusal");
	ca_sign_result_free(&r);
	ca_free_secret(key, klen);
	gnutls_free(csr_pem.data);
	ca_jwk_free(unit_key);
	ca_authority_close(a);
}

static void
test_helpers(void)
{
	const struct ca_provisioner *p;
	const char *f;

	ok(ca_config_audience_ok2(&cfg, "/1.0/sign", SIGN, &f) && f == NULL,
	    "audience_ok2: no fragment");
	ok(ca_config_audience_ok2(&cfg, "/1.0/sign", SIGN "#x5c/x5c", &f) &&
	    f != NULL && strcmp(f, "x5c/x5c") == 0, "audience_ok2: the fragment");
	ok(!ca_config_audience_ok2(&cfg, "/1.0/sign", REVOKE "#x5c/x5c", &f) &&
	    f == NULL, "audience_ok2: another endpoint, no fragment back");
	ok(!ca_config_audience_ok(&cfg, "/1.0/sign", SIGN "#x5c/x5c"),
	    "audience_ok (JWK's) refuses any fragment");
	ok(ca_config_provisioner_of(&cfg, CA_PROV_SCEP, "scep", &p) == 0 &&
	    p == &provs[5], "provisioner_of: by kind and name");
	is_int(ca_config_provisioner_of(&cfg, CA_PROV_X5C, "jwk", &p),
	    CA_ERR_NOTFOUND, "provisioner_of: another kind is not found");
	is_str(ca_errmsg(), "no X5C provisioner \"jwk\"", "  the message");
	ok(ca_prov_kind_of("k8ssa") == CA_PROV_K8SSA &&
	    ca_prov_kind_of("Scep") == CA_PROV_SCEP &&
	    ca_prov_kind_of("AWS") == CA_PROV_OTHER &&
	    ca_prov_kind_of("nope") == CA_PROV_OTHER, "kinds, any case");
	ok(ca_config_kind_served(CA_PROV_JWK) &&
	    ca_config_kind_served(CA_PROV_ACME) &&
	    !ca_config_kind_served(CA_PROV_OTHER),
	    "JWK and ACME served, other types never");
	/* step-ca's authority/provisioner/provisioner.go Type constants. */
	ok(ca_step_prov_type("JWK") == 1 && ca_step_prov_type("oidc") == 2 &&
	    ca_step_prov_type("ACME") == 6 && ca_step_prov_type("X5C") == 7 &&
	    ca_step_prov_type("K8sSA") == 8 && ca_step_prov_type("SCEP") == 10 &&
	    ca_step_prov_type("AWS") == 0, "step-ca's type numbers");
}

int
main(void)
{
	size_t i;

	if (gnutls_global_init() < 0)
		return 1;
	tmpdir_make("authz");
	setup();
	test_jwk();
	test_shapes();
	test_ghsa();
	test_confusions();
	test_csr_names();
	test_hash_id();
	test_revoke();
	test_helpers();
	ca_authz_free(&z);
	ca_jwk_free(prov_key);
	ca_jwk_free(evil_key);
	gnutls_x509_privkey_deinit(csr_key);
	ca_jwk_free(provs[0].key);
	free(provs[0].kid);
	for (i = 0; i < 6; i++) {
		free(provs[i].name);
		free(provs[i].type);
	}
	tmpdir_remove();
	gnutls_global_deinit();
	return tap_done();
}
