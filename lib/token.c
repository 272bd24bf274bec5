/*
 * token.c - minting and verifying one-time provisioning tokens.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "token.h"

#define MAX_SANS	100

/* A token id: 32 random bytes, as 64 hex characters (step's). */
static int
new_jti(char **jti)
{
	unsigned char rnd[32];
	int ret;

	if ((ret = gnutls_rnd(GNUTLS_RND_RANDOM, rnd, sizeof(rnd))) < 0)
		return ca_err(CA_ERR_CRYPTO, "random: %s", gnutls_strerror(ret));
	if ((*jti = ca_hex(rnd, sizeof(rnd))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static struct json_object *b64_array(const gnutls_datum_t *, size_t);

int
ca_token_mint(const struct ca_jwk *key, const struct ca_token_opts *o,
    char **out)
{
	struct json_object *hdr = NULL, *cl = NULL, *sans = NULL, *x5c;
	char *jti = NULL, *payload = NULL;
	time_t nbf = o->not_before ? o->not_before : o->now;
	int64_t life = o->lifetime ? o->lifetime : CA_TOKEN_DEFAULT_LIFETIME;
	const char *kid = o->kid != NULL ? o->kid : ca_jwk_kid(key);
	size_t i;
	int rc;

	*out = NULL;
	if (nbf + life - o->now > CA_TOKEN_MAX_LIFETIME)
		return ca_err(CA_ERR_INVAL,
		    "a token expiring more than %d s after it is made would be refused",
		    CA_TOKEN_MAX_LIFETIME);
	if (kid == NULL)
		return ca_err(CA_ERR_INVAL, "provisioner key has no kid");
	if ((rc = new_jti(&jti)) != 0)
		return rc;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((hdr = json_object_new_object()) == NULL ||
	    (cl = json_object_new_object()) == NULL ||
	    (sans = json_object_new_array()) == NULL)
		goto out;
	json_object_object_add(hdr, "alg", json_object_new_string(ca_jwk_alg(key)));
	json_object_object_add(hdr, "kid", json_object_new_string(kid));
	json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
	if (o->x5c != NULL) {
		if ((x5c = b64_array(o->x5c, o->n_x5c)) == NULL)
			goto out;
		json_object_object_add(hdr, "x5c", x5c);
	}
	if (o->sans != NULL && o->n_sans > 0)
		for (i = 0; i < o->n_sans; i++)
			json_object_array_add(sans,
			    json_object_new_string(o->sans[i]));
	else
		json_object_array_add(sans, json_object_new_string(o->sub));
	/* Member order as step writes it (alphabetical). */
	json_object_object_add(cl, "aud", json_object_new_string(o->aud));
	json_object_object_add(cl, "exp", json_object_new_int64(nbf + life));
	json_object_object_add(cl, "iat", json_object_new_int64(o->now));
	json_object_object_add(cl, "iss", json_object_new_string(o->iss));
	json_object_object_add(cl, "jti", json_object_new_string(jti));
	json_object_object_add(cl, "nbf", json_object_new_int64(nbf));
	if (!o->no_sans) {
		json_object_object_add(cl, "sans", sans);
		sans = NULL;
	}
	if (o->sha != NULL)
		json_object_object_add(cl, "sha", json_object_new_string(o->sha));
	json_object_object_add(cl, "sub", json_object_new_string(o->sub));
	if ((payload = ca_json_dump(cl)) == NULL)
		goto out;
	rc = ca_jws_sign(key, hdr, payload, strlen(payload), out);
out:
	json_object_put(hdr);
	json_object_put(cl);
	json_object_put(sans);
	free(payload);
	free(jti);
	return rc;
}

/* Standard base64 (RFC 4648 section 4, padded) of d, as x5c holds it. */
static struct json_object *
b64_string(const gnutls_datum_t *d)
{
	struct json_object *o;
	gnutls_datum_t b = { NULL, 0 };

	if (gnutls_base64_encode2(d, &b) < 0)
		return NULL;
	o = json_object_new_string_len((const char *)b.data, (int)b.size);
	gnutls_free(b.data);
	return o;
}

/* The JSON array of the standard base64 of each of d[0..n-1], or NULL. */
static struct json_object *
b64_array(const gnutls_datum_t *d, size_t n)
{
	struct json_object *a, *e;
	size_t i;

	if ((a = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((e = b64_string(&d[i])) == NULL ||
		    json_object_array_add(a, e) != 0) {
			json_object_put(e);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

int
ca_token_x5c_mint(const struct ca_jwk *key, const struct ca_x5c_opts *o,
    char **out)
{
	struct json_object *hdr = NULL, *cl = NULL, *x5c = NULL;
	char *kid = NULL, *payload = NULL;
	int64_t life = o->lifetime ? o->lifetime : CA_TOKEN_DEFAULT_LIFETIME;
	int rc;

	*out = NULL;
	if (o->n_chain == 0)
		return ca_err(CA_ERR_INVAL, "x5c token without a certificate");
	if (life <= 0 || life > CA_TOKEN_MAX_LIFETIME)
		return ca_err(CA_ERR_INVAL,
		    "a token living more than %d s would be refused",
		    CA_TOKEN_MAX_LIFETIME);
	/* step's kid: the key's RFC 7638 thumbprint. */
	if ((rc = ca_jwk_thumbprint(key, &kid)) != 0)
		return rc;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((hdr = json_object_new_object()) == NULL ||
	    (cl = json_object_new_object()) == NULL ||
	    (x5c = b64_array(o->chain, o->n_chain)) == NULL)
		goto out;
	/* ca_jws_sign adds "alg", from the key. */
	if (json_object_object_add(hdr, "kid",
	    json_object_new_string(kid)) != 0 ||
	    json_object_object_add(hdr, "typ",
	    json_object_new_string("JWT")) != 0 ||
	    json_object_object_add(hdr, "x5cInsecure", x5c) != 0)
		goto out;
	x5c = NULL;
	if (json_object_object_add(cl, "aud", json_object_new_string(o->aud)) ||
	    json_object_object_add(cl, "exp",
	    json_object_new_int64(o->now + life)) ||
	    json_object_object_add(cl, "iat", json_object_new_int64(o->now)) ||
	    json_object_object_add(cl, "iss",
	    json_object_new_string("step-ca-client/1.0")) ||
	    json_object_object_add(cl, "nbf", json_object_new_int64(o->now)) ||
	    json_object_object_add(cl, "sub",
	    json_object_new_string(o->sub != NULL ? o->sub : "")))
		goto out;
	if ((payload = ca_json_dump(cl)) == NULL)
		goto out;
	rc = ca_jws_sign(key, hdr, payload, strlen(payload), out);
out:
	json_object_put(hdr);
	json_object_put(cl);
	json_object_put(x5c);
	free(payload);
	free(kid);
	return rc;
}

void
ca_token_free(struct ca_token *t)
{
	size_t i;

	if (t == NULL)
		return;
	ca_jws_free(t->jws);
	free(t->kid);
	free(t->iss);
	free(t->sub);
	free(t->jti);
	free(t->sha);
	free(t->cnf_x5rt);
	free(t->cnf_kid);
	for (i = 0; i < t->n_aud; i++)
		free(t->aud[i]);
	free(t->aud);
	for (i = 0; i < t->n_sans; i++)
		free(t->sans[i]);
	free(t->sans);
	free(t);
}

static int
dup_member(struct json_object *o, const char *key, int required, char **out)
{
	const char *s;
	int rc;

	*out = NULL;
	if ((rc = ca_json_string(o, key, required, &s)) != 0)
		return rc == CA_ERR_NOTFOUND ? 0 : rc;
	if ((*out = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static int
string_list(struct json_object *v, const char *what, size_t max, char ***out,
    size_t *n)
{
	size_t len, i;

	*out = NULL;
	*n = 0;
	if (json_object_is_type(v, json_type_string)) {
		len = 1;
	} else if (json_object_is_type(v, json_type_array)) {
		len = json_object_array_length(v);
	} else
		return ca_err(CA_ERR_INVAL, "\"%s\" is not a string or array",
		    what);
	if (len > max)
		return ca_err(CA_ERR_INVAL, "too many \"%s\" values", what);
	if ((*out = calloc(len ? len : 1, sizeof(char *))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < len; i++) {
		struct json_object *e = json_object_is_type(v, json_type_array) ?
		    json_object_array_get_idx(v, i) : v;
		if (!json_object_is_type(e, json_type_string))
			return ca_err(CA_ERR_INVAL,
			    "\"%s\" holds a value that is not a string", what);
		if (((*out)[i] = strdup(json_object_get_string(e))) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		*n = i + 1;
	}
	return 0;
}

static int
time_member(struct json_object *o, const char *key, int64_t *v, int *has)
{
	int rc = ca_json_int64(o, key, 0, v);

	*has = rc == 0;
	if (rc == CA_ERR_NOTFOUND)
		return 0;
	if (rc == 0 && (*v < 0 || *v > 253402300799LL))	/* year 9999 */
		return ca_err(CA_ERR_INVAL, "\"%s\" out of range", key);
	return rc;
}

static int cnf_member(struct ca_token *, struct json_object *);

int
ca_token_parse(const char *buf, size_t len, struct ca_token **out)
{
	struct ca_token *t;
	struct json_object *cl = NULL, *v;
	int rc, has_exp;

	*out = NULL;
	/* Token files often end with a newline. */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' '))
		len--;
	if (len == 0)
		return ca_err(CA_ERR_INVAL, "token is empty");
	if (len > CA_MAX_TOKEN)
		return ca_err(CA_ERR_TOOBIG, "token larger than %d bytes",
		    CA_MAX_TOKEN);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_jws_parse(buf, len, &t->jws)) != 0)
		goto out;
	/* An X5C token's key is its x5c certificate's: kid optional. */
	if ((rc = dup_member(t->jws->header, "kid", !json_object_object_get_ex(
	    t->jws->header, "x5c", NULL), &t->kid)) != 0) {
		ca_err_context("token header");
		goto out;
	}
	if ((rc = ca_json_parse((const char *)t->jws->payload,
	    t->jws->payload_len, "token claims", &cl)) != 0)
		goto out;
	if (!json_object_is_type(cl, json_type_object)) {
		rc = ca_err(CA_ERR_INVAL, "token claims are not a JSON object");
		goto out;
	}
	if ((rc = dup_member(cl, "iss", 1, &t->iss)) != 0 ||
	    (rc = dup_member(cl, "sub", 1, &t->sub)) != 0 ||
	    (rc = dup_member(cl, "jti", 1, &t->jti)) != 0 ||
	    (rc = dup_member(cl, "sha", 0, &t->sha)) != 0 ||
	    (rc = time_member(cl, "nbf", &t->nbf, &t->has_nbf)) != 0 ||
	    (rc = time_member(cl, "iat", &t->iat, &t->has_iat)) != 0 ||
	    (rc = time_member(cl, "exp", &t->exp, &has_exp)) != 0)
		goto claims;
	if (!has_exp) {
		rc = ca_err(CA_ERR_INVAL, "missing \"exp\"");
		goto claims;
	}
	if (t->sub[0] == '\0' || t->jti[0] == '\0' || strlen(t->jti) > 256) {
		rc = ca_err(CA_ERR_INVAL, "empty \"sub\", or empty or overlong \"jti\"");
		goto claims;
	}
	if (!json_object_object_get_ex(cl, "aud", &v)) {
		rc = ca_err(CA_ERR_INVAL, "missing \"aud\"");
		goto claims;
	}
	if ((rc = string_list(v, "aud", 16, &t->aud, &t->n_aud)) != 0)
		goto claims;
	if (json_object_object_get_ex(cl, "cnf", &v) && v != NULL &&
	    (rc = cnf_member(t, v)) != 0)
		goto claims;
	if (json_object_object_get_ex(cl, "sans", &v) && v != NULL) {
		if ((rc = string_list(v, "sans", MAX_SANS, &t->sans,
		    &t->n_sans)) != 0)
			goto claims;
	}
	/* No names, or "sans": []: the subject is the name, as step-ca
	 * does (a leaf always has one). */
	if (t->n_sans == 0) {
		free(t->sans);
		t->sans = NULL;
		if ((rc = string_list(json_object_object_get(cl, "sub"), "sub",
		    1, &t->sans, &t->n_sans)) != 0)
			goto claims;
	}
	rc = 0;
	goto out;
claims:
	ca_err_context("token claims");
out:
	json_object_put(cl);
	if (rc != 0)
		ca_token_free(t);
	else
		*out = t;
	return rc;
}

/*
 * cnf: {"x5rt#S256": ...} as step-ca's JWK provisioner reads it, or a
 * "kid"; a confirmation method this CA cannot check is refused rather
 * than ignored.
 */
static int
cnf_member(struct ca_token *t, struct json_object *v)
{
	struct json_object_iterator it, end;
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return ca_err(CA_ERR_INVAL, "\"cnf\" is not an object");
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		if (strcmp(k, "x5rt#S256") != 0 && strcmp(k, "kid") != 0)
			return ca_err(CA_ERR_INVAL, "\"cnf\": confirmation "
			    "method \"%.32s\" is not supported (x5rt#S256, kid)",
			    k);
	}
	if ((rc = dup_member(v, "x5rt#S256", 0, &t->cnf_x5rt)) != 0 ||
	    (rc = dup_member(v, "kid", 0, &t->cnf_kid)) != 0)
		return rc;
	if (t->cnf_x5rt == NULL && t->cnf_kid == NULL)
		return ca_err(CA_ERR_INVAL, "\"cnf\" is empty");
	t->has_cnf = 1;
	return 0;
}

int
ca_token_verify(const struct ca_token *t, const struct ca_config *cfg,
    const char *path, const char *root_fp, time_t now,
    const struct ca_provisioner **prov)
{
	const struct ca_provisioner *p;
	size_t i;
	int rc, aud_ok = 0;

	*prov = NULL;
	if (t->kid == NULL)
		return ca_err(CA_ERR_AUTH, "token header has no \"kid\"");
	if ((rc = ca_config_provisioner(cfg, t->iss, t->kid, &p)) != 0)
		return ca_err(CA_ERR_AUTH,
		    "token from unknown provisioner \"%s\" (key id %s)",
		    t->iss, t->kid);
	if (p->key == NULL)
		return ca_err(CA_ERR_AUTH,
		    "provisioner \"%s\" (type %s) cannot authorise tokens here",
		    p->name, p->type);
	if (ca_jws_verify(t->jws, p->key) != 0)
		return ca_err(CA_ERR_AUTH,
		    "token signature does not verify with provisioner \"%s\"",
		    p->name);
	for (i = 0; i < t->n_aud && !aud_ok; i++)
		aud_ok = ca_config_audience_ok(cfg, path, t->aud[i]);
	if (!aud_ok)
		return ca_err(CA_ERR_AUTH,
		    "token audience \"%s\" is not this CA's %s endpoint",
		    t->n_aud ? t->aud[0] : "", path);
	if (t->exp + CA_TOKEN_LEEWAY < now)
		return ca_err(CA_ERR_AUTH, "token expired %lld s ago",
		    (long long)(now - t->exp));
	if (t->has_nbf && t->nbf - CA_TOKEN_LEEWAY > now)
		return ca_err(CA_ERR_AUTH, "token not valid before %lld s from now",
		    (long long)(t->nbf - now));
	if (t->has_iat) {
		if (t->iat - CA_TOKEN_LEEWAY > now)
			return ca_err(CA_ERR_AUTH, "token issued in the future");
		if (t->exp - t->iat > CA_TOKEN_MAX_LIFETIME)
			return ca_err(CA_ERR_AUTH,
			    "token lifetime %lld s exceeds %d s",
			    (long long)(t->exp - t->iat), CA_TOKEN_MAX_LIFETIME);
	} else if (t->exp - now > CA_TOKEN_MAX_LIFETIME + CA_TOKEN_LEEWAY)
		return ca_err(CA_ERR_AUTH, "token expires more than %d s from now",
		    CA_TOKEN_MAX_LIFETIME);
	if (t->sha != NULL && root_fp != NULL && strcasecmp(t->sha, root_fp) != 0)
		return ca_err(CA_ERR_AUTH,
		    "token is for another CA (root fingerprint %s)", t->sha);
	*prov = p;
	return 0;
}

int
ca_token_provisioner_key(const struct ca_provisioner *p, const char *password,
    size_t pwlen, const char *key_path, struct ca_jwk **out)
{
	struct ca_jwk *k = NULL;
	unsigned char *pt = NULL;
	char *buf = NULL, *t1 = NULL, *t2 = NULL;
	size_t len = 0, ptlen = 0, i;
	int rc;

	*out = NULL;
	if (p->key == NULL)
		return ca_err(CA_ERR_INVAL, "provisioner \"%s\" is not a JWK provisioner",
		    p->name);
	if (key_path != NULL) {
		if ((rc = ca_key_file_read(key_path, &buf, &len)) != 0)
			return rc;
		for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\n' ||
		    buf[i] == '\t' || buf[i] == '\r'); i++)
			;
		if (i < len && buf[i] == '{')
			rc = ca_jwk_parse(buf, len, &k);
		else
			rc = ca_jwk_from_pem(buf, len, &k);
		if (rc != 0)
			ca_err_context("%s", key_path);
	} else {
		if (p->encrypted_key == NULL)
			return ca_err(CA_ERR_INVAL,
			    "provisioner \"%s\" has no encryptedKey: use --key",
			    p->name);
		if (password == NULL)
			return ca_err(CA_ERR_INVAL,
			    "the provisioner key is encrypted: give --password-file or --key");
		rc = ca_jwe_decrypt_password(p->encrypted_key,
		    strlen(p->encrypted_key), password, pwlen, &pt, &ptlen);
		if (rc == CA_ERR_AUTH)
			rc = ca_err(CA_ERR_AUTH,
			    "wrong password for provisioner \"%s\"", p->name);
		if (rc == 0 && (rc = ca_jwk_parse((char *)pt, ptlen, &k)) != 0)
			ca_err_context("provisioner \"%s\" encryptedKey", p->name);
	}
	if (rc != 0)
		goto out;
	if (!ca_jwk_is_private(k)) {
		rc = ca_err(CA_ERR_INVAL, "%s is not a private key",
		    key_path ? key_path : "encryptedKey");
		goto out;
	}
	if ((rc = ca_jwk_thumbprint(k, &t1)) != 0 ||
	    (rc = ca_jwk_thumbprint(p->key, &t2)) != 0)
		goto out;
	if (strcmp(t1, t2) != 0) {
		rc = ca_err(CA_ERR_AUTH,
		    "that key is not provisioner \"%s\"'s key", p->name);
		goto out;
	}
	*out = k;
	k = NULL;
out:
	ca_jwk_free(k);
	ca_free_secret(buf, len);
	ca_free_secret(pt, ptlen);
	free(t1);
	free(t2);
	return rc;
}
