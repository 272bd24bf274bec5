/*
 * k8ssa.c - the K8sSA provisioner (DESIGN13 2.3, step-ca's
 * authority/provisioner/k8sSA.go): Kubernetes service-account tokens
 * verified with the provisioner's publicKeys (the cluster's signing
 * keys), the legacy (secret-based) and the projected (bound) claim sets.
 * The certificate takes the CSR's names (step-ca's
 * DefaultAdminLeafTemplate), the service account's name as the common
 * name when the CSR has none.
 *
 * Stricter than step-ca: every token is one-time (jti, else the SHA-256
 * of the token), a projected token must name this CA in its audience and
 * live at most a day; step-ca accepts legacy tokens only and burns none.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "token.h"

#define MAX_KEYS	16
#define MAX_KEYS_B64	(256 * 1024)
#define LEGACY_ISS	"kubernetes/serviceaccount"
#define SA_PREFIX	"kubernetes.io/serviceaccount/"
#define PROJECTED_MAX_LIFETIME	(24 * 3600)
/* A legacy token never expires: its used_ott record is kept this long. */
#define LEGACY_OTT_LIFETIME	(10LL * 366 * 24 * 3600)

/* The provisioner's parsed members (its impl). */
struct ca_k8ssa_conf {
	struct ca_jwk	*keys[MAX_KEYS];
	char		*kids[MAX_KEYS];	/* base64url SHA-256 of the SPKI */
	size_t		 n;
};

static void
conf_free(void *v)
{
	struct ca_k8ssa_conf *c = v;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		ca_jwk_free(c->keys[i]);
		free(c->kids[i]);
	}
	free(c);
}

/* One "PUBLIC KEY" PEM block into c, with Kubernetes' key id. */
static int
add_key(struct ca_k8ssa_conf *c, const char *pem, size_t len)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)pem, (unsigned)len };
	gnutls_datum_t der = { NULL, 0 };
	unsigned char sum[32];
	unsigned bits = 0;
	int rc, ret;

	if (c->n == MAX_KEYS)
		return ca_err(CA_ERR_CONFIG, "\"publicKeys\" holds more than "
		    "%d keys", MAX_KEYS);
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import(pub, &in, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (ret = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0) {
		gnutls_pubkey_deinit(pub);
		return ca_err(CA_ERR_CONFIG, "\"publicKeys\" key %zu: %s",
		    c->n + 1, gnutls_strerror(ret));
	}
	if (gnutls_pubkey_get_pk_algorithm(pub, &bits) == GNUTLS_PK_RSA &&
	    bits < 2048) {
		gnutls_pubkey_deinit(pub);
		gnutls_free(der.data);
		return ca_err(CA_ERR_CONFIG, "\"publicKeys\" key %zu: RSA of "
		    "%u bits (2048 at least)", c->n + 1, bits);
	}
	ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, sum);
	gnutls_free(der.data);
	if (ret < 0) {
		gnutls_pubkey_deinit(pub);
		return ca_err(CA_ERR_CRYPTO, "SHA-256: %s", gnutls_strerror(ret));
	}
	/* ca_jwk_from_pubkey takes pub (on success), and refuses the key
	 * types JOSE cannot sign with. */
	if ((rc = ca_jwk_from_pubkey(pub, NULL, &c->keys[c->n])) != 0) {
		gnutls_pubkey_deinit(pub);
		ca_err_context("\"publicKeys\" key %zu", c->n + 1);
		return rc == CA_ERR_NOMEM ? rc : CA_ERR_CONFIG;
	}
	if ((c->kids[c->n] = ca_b64url_encode(sum, sizeof(sum))) == NULL) {
		ca_jwk_free(c->keys[c->n]);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	c->n++;
	return 0;
}

/* The PEM blocks of text: each must be a PUBLIC KEY. */
static int
add_keys(struct ca_k8ssa_conf *c, const char *text)
{
	static const char begin[] = "-----BEGIN ", end[] = "-----END ";
	const char *p = text, *q, *e;
	char label[64];
	size_t n;
	int rc;

	while ((p = strstr(p, begin)) != NULL) {
		q = p + strlen(begin);
		n = strcspn(q, "-\n");
		if (n >= sizeof(label) || strncmp(q + n, "-----", 5) != 0)
			return ca_err(CA_ERR_CONFIG, "\"publicKeys\": a bad PEM "
			    "header");
		memcpy(label, q, n);
		label[n] = '\0';
		if (strcmp(label, "PUBLIC KEY") != 0)
			return ca_err(CA_ERR_CONFIG, "\"publicKeys\": a PEM "
			    "\"%s\" block; only PUBLIC KEY (SPKI) blocks are "
			    "read", label);
		if ((e = strstr(q, end)) == NULL ||
		    strncmp(e + strlen(end), "PUBLIC KEY-----", 15) != 0)
			return ca_err(CA_ERR_CONFIG, "\"publicKeys\": an "
			    "unterminated PEM block");
		e += strlen(end) + 15;
		if ((rc = add_key(c, p, (size_t)(e - p))) != 0)
			return rc;
		p = e;
	}
	if (c->n == 0)
		return ca_err(CA_ERR_CONFIG, "\"publicKeys\" holds no PEM "
		    "public key");
	return 0;
}

/* publicKeys: base64 (Go's encoding of []byte) of PEM public keys. */
int
ca_k8ssa_conf_load(struct json_object *o, struct ca_provisioner *p)
{
	struct ca_k8ssa_conf *c = NULL;
	gnutls_datum_t in, pem = { NULL, 0 };
	char *text = NULL;
	const char *s;
	int rc;

	if ((rc = ca_json_string(o, "publicKeys", 1, &s)) != 0)
		return rc == CA_ERR_NOMEM ? rc : CA_ERR_CONFIG;
	if (strlen(s) > MAX_KEYS_B64)
		return ca_err(CA_ERR_CONFIG, "\"publicKeys\" larger than %d "
		    "bytes", MAX_KEYS_B64);
	in.data = (unsigned char *)(uintptr_t)s;
	in.size = (unsigned)strlen(s);
	if (in.size == 0 || gnutls_base64_decode2(&in, &pem) < 0)
		return ca_err(CA_ERR_CONFIG, "\"publicKeys\" is not base64 "
		    "(of PEM public keys)");
	if ((text = malloc(pem.size + 1)) == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(text, pem.data, pem.size);
	text[pem.size] = '\0';
	if (strlen(text) != pem.size) {
		rc = ca_err(CA_ERR_CONFIG, "\"publicKeys\" is not PEM text");
		goto out;
	}
	if ((rc = add_keys(c, text)) != 0)
		goto out;
	p->impl = c;
	p->impl_free = conf_free;
	c = NULL;
out:
	conf_free(c);
	free(text);
	gnutls_free(pem.data);
	return rc;
}

/* The signature, by the key of the header's kid first, then any. */
static int
signature_check(const struct ca_provisioner *p, const struct ca_jws *jws)
{
	const struct ca_k8ssa_conf *c = p->impl;
	const char *kid = NULL;
	struct json_object *v;
	size_t i;

	if (json_object_object_get_ex(jws->header, "kid", &v) &&
	    json_object_is_type(v, json_type_string))
		kid = json_object_get_string(v);
	for (i = 0; kid != NULL && i < c->n; i++)
		if (strcmp(kid, c->kids[i]) == 0 &&
		    ca_jws_verify(jws, c->keys[i]) == 0)
			return 0;
	for (i = 0; i < c->n; i++)
		if (ca_jws_verify(jws, c->keys[i]) == 0)
			return 0;
	return ca_err(CA_ERR_AUTH, "token signature does not verify with the "
	    "publicKeys of K8sSA provisioner \"%s\"", p->name);
}

/* A string member of o, or NULL when absent; -1 when not a string. */
static int
str_member(struct json_object *o, const char *key, const char **out)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	return 0;
}

/* A NumericDate member: 1 present, 0 absent, -1 not an integer from 0
 * to year 9999 (as lib/token.c: exp - iat must not overflow). */
static int
time_member(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return *out >= 0 && *out <= 253402300799LL ? 1 : -1;
}

/* What a service-account token says, from either claim set. */
struct sa_claims {
	const char	*iss, *sub, *jti, *ns, *sa;
	int64_t		 exp, nbf, iat;
	int		 has_exp, has_nbf, has_iat, projected;
};

static int
read_claims(struct json_object *cl, struct sa_claims *t)
{
	struct json_object *k, *sa;
	char want[512];

	memset(t, 0, sizeof(*t));
	if (str_member(cl, "iss", &t->iss) != 0 || t->iss == NULL ||
	    *t->iss == '\0' || str_member(cl, "sub", &t->sub) != 0 ||
	    t->sub == NULL || str_member(cl, "jti", &t->jti) != 0 ||
	    (t->has_exp = time_member(cl, "exp", &t->exp)) < 0 ||
	    (t->has_nbf = time_member(cl, "nbf", &t->nbf)) < 0 ||
	    (t->has_iat = time_member(cl, "iat", &t->iat)) < 0)
		return ca_err(CA_ERR_AUTH, "K8sSA token: iss and sub must be "
		    "strings, jti a string, exp, nbf and iat integers (to year "
		    "9999)");
	if (json_object_object_get_ex(cl, "kubernetes.io", &k)) {
		/* Projected: {"namespace", "serviceaccount": {"name"}, ...}. */
		t->projected = 1;
		if (!json_object_is_type(k, json_type_object) ||
		    str_member(k, "namespace", &t->ns) != 0 ||
		    !json_object_object_get_ex(k, "serviceaccount", &sa) ||
		    !json_object_is_type(sa, json_type_object) ||
		    str_member(sa, "name", &t->sa) != 0)
			return ca_err(CA_ERR_AUTH, "K8sSA token: \"kubernetes.io\" "
			    "lacks namespace or serviceaccount.name");
	} else if (strcmp(t->iss, LEGACY_ISS) == 0) {
		if (str_member(cl, SA_PREFIX "namespace", &t->ns) != 0 ||
		    str_member(cl, SA_PREFIX "service-account.name",
		    &t->sa) != 0)
			return ca_err(CA_ERR_AUTH, "K8sSA token: the "
			    SA_PREFIX "* claims are not strings");
	} else
		return ca_err(CA_ERR_AUTH, "K8sSA token: neither a legacy nor "
		    "a projected service-account token");
	if (t->ns == NULL || t->sa == NULL || *t->ns == '\0' || *t->sa == '\0')
		return ca_err(CA_ERR_AUTH, "K8sSA token names no namespace or "
		    "service account");
	if (snprintf(want, sizeof(want), "system:serviceaccount:%s:%s", t->ns,
	    t->sa) >= (int)sizeof(want) || strcmp(t->sub, want) != 0)
		return ca_err(CA_ERR_AUTH, "K8sSA token: \"sub\" %.128s is not "
		    "system:serviceaccount:NAMESPACE:NAME of its claims",
		    t->sub);
	if (t->jti != NULL && (*t->jti == '\0' || strlen(t->jti) > 256))
		return ca_err(CA_ERR_AUTH, "K8sSA token: empty or overlong "
		    "\"jti\"");
	return 0;
}

/* Times: exp, nbf, iat when present (a minute's leeway); projected: more. */
static int
times_check(const struct sa_claims *t, time_t now)
{
	if (t->projected && (!t->has_exp || !t->has_iat))
		return ca_err(CA_ERR_AUTH, "projected K8sSA token without "
		    "\"exp\" or \"iat\"");
	if (t->has_exp && t->exp + CA_TOKEN_LEEWAY < now)
		return ca_err(CA_ERR_AUTH, "K8sSA token expired %lld s ago",
		    (long long)(now - t->exp));
	if (t->has_nbf && t->nbf - CA_TOKEN_LEEWAY > now)
		return ca_err(CA_ERR_AUTH, "K8sSA token not valid before %lld s "
		    "from now", (long long)(t->nbf - now));
	if (t->has_iat && t->iat - CA_TOKEN_LEEWAY > now)
		return ca_err(CA_ERR_AUTH, "K8sSA token issued in the future");
	if (t->projected && t->exp - t->iat > PROJECTED_MAX_LIFETIME)
		return ca_err(CA_ERR_AUTH, "K8sSA token lifetime %lld s exceeds "
		    "%d s", (long long)(t->exp - t->iat), PROJECTED_MAX_LIFETIME);
	return 0;
}

/* One audience: this CA's path, with no fragment or #k8ssa/NAME. */
static int
aud_one(const struct ca_authz_ctx *x, const struct ca_provisioner *p,
    const char *path, const char *aud)
{
	const char *f;

	return ca_config_audience_ok2(x->cfg, path, aud, &f) && (f == NULL ||
	    (strncmp(f, "k8ssa/", 6) == 0 && (strcmp(f + 6, p->name) == 0 ||
	    strcmp(f + 6, "k8sSA-default") == 0)));
}

/*
 * A projected token's aud (a string or an array of at most 16) must hold
 * this CA's sign endpoint (at revoke, sign or revoke: refused later).
 */
static int
audience_check(const struct ca_authz_ctx *x, const struct ca_provisioner *p,
    struct json_object *cl, enum ca_authz_op op)
{
	struct json_object *aud, *e;
	const char *first = "";
	size_t i, n = 1;

	if (!json_object_object_get_ex(cl, "aud", &aud) || aud == NULL)
		return ca_err(CA_ERR_AUTH, "projected K8sSA token without "
		    "\"aud\"");
	if (json_object_is_type(aud, json_type_array))
		n = json_object_array_length(aud);
	for (i = 0; i < n && i < 16; i++) {
		e = json_object_is_type(aud, json_type_array) ?
		    json_object_array_get_idx(aud, i) : aud;
		if (!json_object_is_type(e, json_type_string))
			continue;
		if (i == 0)
			first = json_object_get_string(e);
		if (aud_one(x, p, "/1.0/sign", json_object_get_string(e)) ||
		    (op == CA_AUTHZ_REVOKE && aud_one(x, p, "/1.0/revoke",
		    json_object_get_string(e))))
			return 0;
	}
	return ca_err(CA_ERR_AUTH, "K8sSA token audience \"%.200s\" is not "
	    "this CA's /1.0/sign endpoint", first);
}

/*
 * The token's one-time id: its jti, else the hex SHA-256 of its signed
 * part (ca_authz_token_hash: an ECDSA signature has a second valid form,
 * so the whole compact token would give a replay a new id).
 */
static int
token_id(const struct sa_claims *t, const struct ca_jws *jws, char **out)
{
	if (t->jti != NULL)
		return ca_authz_dup(t->jti, out);
	return ca_authz_token_hash(jws, out);
}

int
ca_authz_k8ssa(const struct ca_authz_ctx *x, const struct ca_jws *jws,
    struct json_object *claims, const char *tok, size_t len,
    enum ca_authz_op op, time_t now, struct ca_authz *out)
{
	const struct ca_provisioner *p = NULL;
	struct sa_claims t;
	size_t i;
	int rc;

	(void)tok;
	(void)len;
	/* The only K8sSA provisioner (the loader allows one). */
	for (i = 0; i < x->cfg->n_provisioners && p == NULL; i++)
		if (x->cfg->provisioners[i].kind == CA_PROV_K8SSA &&
		    x->cfg->provisioners[i].impl != NULL)
			p = &x->cfg->provisioners[i];
	if (p == NULL)
		return ca_err(CA_ERR_AUTH, "no K8sSA provisioner accepts this "
		    "token");
	if ((rc = signature_check(p, jws)) != 0 ||
	    (rc = read_claims(claims, &t)) != 0 ||
	    (rc = times_check(&t, now)) != 0 ||
	    (t.projected && (rc = audience_check(x, p, claims, op)) != 0))
		return rc;
	if (op == CA_AUTHZ_REVOKE)
		return ca_err(CA_ERR_FORBIDDEN, "K8sSA tokens cannot revoke: "
		    "their subject is not a serial");
	out->prov = p;
	out->step_type = CA_STEP_TYPE_K8SSA;
	out->cred_id = "";
	out->names_from_csr = 1;
	out->ott_exp = t.has_exp ? t.exp : (int64_t)now + LEGACY_OTT_LIFETIME;
	if (asprintf(&out->ott_scope, "k8ssa/%s", p->name) < 0) {
		out->ott_scope = NULL;
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	/* The service account's name: the CN when the CSR has none. */
	if ((rc = token_id(&t, jws, &out->ott_id)) != 0 ||
	    (rc = ca_authz_dup(t.sub, &out->identity)) != 0 ||
	    (ca_x509_cn_check(t.sa) == 0 &&
	    (rc = ca_authz_dup(t.sa, &out->cn)) != 0))
		return rc;
	ca_err_clear();
	return 0;
}
