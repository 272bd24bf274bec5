/*
 * client-api.c - step-ca's API over the transport: provisioners,
 * /sign, /renew, /rekey and /revoke.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "client.h"
#include "client-internal.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "token.h"
#include "x509.h"

#define MAX_PAGES	100	/* of GET /provisioners */

/* Percent-encode s for a query or a path segment. Caller frees. */
static char *
pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *p;

	if ((out = malloc(strlen(s) * 3 + 1)) == NULL)
		return NULL;
	for (p = out; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '~')
			*p++ = (char)ch;
		else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = '\0';
	return out;
}

void
ca_client_provisioner_free(struct ca_remote_provisioner *p)
{
	if (p == NULL)
		return;
	free(p->prov.name);
	free(p->prov.type);
	free(p->prov.kid);
	ca_jwk_free(p->prov.key);
	free(p->encrypted_key);
	free(p);
}

/* Copy a JWK entry of the list into a new remote provisioner. */
static int
remote_from_json(struct json_object *e, const char *name,
    struct ca_remote_provisioner **out)
{
	struct ca_remote_provisioner *p;
	struct json_object *key;
	const char *ek = NULL;
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_json_object(e, "key", 1, &key)) != 0 ||
	    ((rc = ca_json_string(e, "encryptedKey", 0, &ek)) != 0 &&
	    rc != CA_ERR_NOTFOUND)) {
		ca_err_context("provisioner \"%s\"", name);
		goto fail;
	}
	if ((rc = ca_jwk_from_json(key, &p->prov.key)) != 0) {
		ca_err_context("provisioner \"%s\" key", name);
		goto fail;
	}
	if (ca_jwk_is_private(p->prov.key)) {
		rc = ca_err(CA_ERR_INVAL,
		    "the CA published a private key for provisioner \"%s\"", name);
		goto fail;
	}
	rc = CA_ERR_NOMEM;
	if ((p->prov.name = strdup(name)) == NULL ||
	    (p->prov.type = strdup("JWK")) == NULL)
		goto nomem;
	if (ca_jwk_kid(p->prov.key) != NULL) {
		if ((p->prov.kid = strdup(ca_jwk_kid(p->prov.key))) == NULL)
			goto nomem;
	} else if ((rc = ca_jwk_thumbprint(p->prov.key, &p->prov.kid)) != 0)
		goto fail;
	if (ek != NULL && ek[0] != '\0' &&
	    (p->encrypted_key = strdup(ek)) == NULL)
		goto nomem;
	p->prov.encrypted_key = p->encrypted_key;
	*out = p;
	return 0;
nomem:
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
fail:
	ca_client_provisioner_free(p);
	return rc;
}

/*
 * Look at one page of provisioners: the one called name, or with name
 * NULL the first JWK one (*n_jwk counts them). *next is the cursor of
 * the next page (caller frees), NULL at the end.
 */
static int
provisioner_page(struct json_object *o, const char *name,
    struct ca_remote_provisioner **found, size_t *n_jwk, char **next)
{
	struct json_object *list, *e;
	const char *pname, *type, *cursor = NULL;
	size_t i, n;
	int rc;

	*next = NULL;
	if ((rc = ca_json_array(o, "provisioners", 1, &list)) != 0 ||
	    ((rc = ca_json_string(o, "nextCursor", 0, &cursor)) != 0 &&
	    rc != CA_ERR_NOTFOUND)) {
		ca_err_context("GET /provisioners");
		return rc;
	}
	n = json_object_array_length(list);
	for (i = 0; i < n && (name == NULL || *found == NULL); i++) {
		e = json_object_array_get_idx(list, i);
		if (!json_object_is_type(e, json_type_object) ||
		    ca_json_string(e, "name", 1, &pname) != 0 ||
		    ca_json_string(e, "type", 1, &type) != 0) {
			ca_err_context("GET /provisioners: entry %zu", i);
			return CA_ERR_INVAL;
		}
		if (name != NULL && strcmp(pname, name) != 0)
			continue;
		if (strcmp(type, "JWK") != 0) {
			if (name == NULL)
				continue;
			return ca_err(CA_ERR_INVAL,
			    "provisioner \"%s\" is of type %s, not JWK", name,
			    type);
		}
		if (++*n_jwk == 1 &&
		    (rc = remote_from_json(e, pname, found)) != 0)
			return rc;
	}
	if (*found != NULL && name != NULL)
		return 0;
	if (cursor != NULL && cursor[0] != '\0' &&
	    (*next = strdup(cursor)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/* GET /provisioners?[cursor=CURSOR&]limit=LIMIT; NULL if out of memory. */
static char *
provisioners_path(const char *cursor, size_t limit)
{
	char *enc, *path;

	if (cursor == NULL || cursor[0] == '\0')
		return asprintf(&path, "/provisioners?limit=%zu", limit) < 0 ?
		    NULL : path;
	if ((enc = pct_encode(cursor)) == NULL)
		return NULL;
	if (asprintf(&path, "/provisioners?cursor=%s&limit=%zu", enc,
	    limit) < 0)
		path = NULL;
	free(enc);
	return path;
}

int
ca_client_provisioners(struct ca_client *c, const char *cursor, size_t limit,
    char **json)
{
	struct json_object *o = NULL;
	char *path;
	int rc;

	*json = NULL;
	if ((path = provisioners_path(cursor, limit == 0 ? 20 : limit)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = ca_client_get_json(c, path, &o);
	free(path);
	if (rc == 0 && (*json = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN))) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_put(o);
	return rc;
}

int
ca_client_encrypted_key(struct ca_client *c, const char *kid, char **jwe)
{
	struct ca_client_response r;
	struct json_object *o = NULL;
	const char *k;
	char *enc = NULL, *path = NULL;
	int rc;

	*jwe = NULL;
	if ((enc = pct_encode(kid)) == NULL ||
	    asprintf(&path, "/provisioners/%s/encrypted-key", enc) < 0) {
		free(enc);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	free(enc);
	rc = ca_client_get(c, path, &r);
	free(path);
	if (rc != 0)
		return rc;
	if (r.status == 404)
		rc = ca_err(CA_ERR_NOTFOUND,
		    "the CA has no encryptedKey with key id %s", kid);
	else if ((rc = ca_client_response_json(&r, 200, &o)) == 0) {
		if ((rc = ca_json_string(o, "key", 1, &k)) != 0)
			ca_err_context("GET /provisioners/KID/encrypted-key");
		else if ((*jwe = strdup(k)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
	}
	json_object_put(o);
	ca_client_response_free(&r);
	return rc;
}

/* GET /provisioners/KID/encrypted-key into p. */
static int
fetch_encrypted_key(struct ca_client *c, struct ca_remote_provisioner *p)
{
	int rc;

	rc = ca_client_encrypted_key(c, p->prov.kid, &p->encrypted_key);
	if (rc == CA_ERR_NOTFOUND)
		ca_err(rc,
		    "the CA has no encryptedKey for provisioner \"%s\": use --key",
		    p->prov.name);
	p->prov.encrypted_key = p->encrypted_key;
	return rc;
}

int
ca_client_provisioner(struct ca_client *c, const char *name, int want_key,
    struct ca_remote_provisioner **out)
{
	struct ca_remote_provisioner *found = NULL;
	struct json_object *o = NULL;
	char *cursor = NULL, *next = NULL, *path = NULL;
	size_t n_jwk = 0;
	int rc = 0, page;

	*out = NULL;
	for (page = 0; page < MAX_PAGES; page++) {
		if ((path = provisioners_path(cursor, 100)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		rc = ca_client_get_json(c, path, &o);
		free(path);
		path = NULL;
		if (rc != 0 || (rc = provisioner_page(o, name, &found, &n_jwk,
		    &next)) != 0)
			goto out;
		json_object_put(o);
		o = NULL;
		if (next == NULL)
			break;
		if (cursor != NULL && strcmp(next, cursor) == 0) {
			rc = ca_err(CA_ERR_INVAL,
			    "GET /provisioners: the CA repeats the cursor \"%.40s\"",
			    next);
			goto out;
		}
		free(cursor);
		cursor = next;
		next = NULL;
	}
	if (page == MAX_PAGES) {
		rc = ca_err(CA_ERR_TOOBIG,
		    "GET /provisioners: more than %d pages", MAX_PAGES);
		goto out;
	}
	if (found == NULL) {
		rc = name != NULL ?
		    ca_err(CA_ERR_NOTFOUND, "the CA has no provisioner \"%s\"",
		    name) :
		    ca_err(CA_ERR_NOTFOUND, "the CA has no JWK provisioner");
		goto out;
	}
	if (name == NULL && n_jwk > 1) {
		rc = ca_err(CA_ERR_INVAL,
		    "the CA has %zu JWK provisioners: name one with --provisioner",
		    n_jwk);
		goto out;
	}
	if (want_key && found->encrypted_key == NULL &&
	    (rc = fetch_encrypted_key(c, found)) != 0)
		goto out;
	ca_debug("provisioner \"%s\", key id %s", found->prov.name,
	    found->prov.kid);
	*out = found;
	found = NULL;
out:
	ca_client_provisioner_free(found);
	json_object_put(o);
	free(cursor);
	free(next);
	return rc;
}

/* A PEM member of a /sign response, ending in a newline. Caller frees. */
static int
pem_member(const char *pem, const char *what, char **out)
{
	gnutls_x509_crt_t crt = NULL;
	size_t n = strlen(pem);
	int rc;

	*out = NULL;
	if ((rc = ca_x509_import(pem, n, &crt)) != 0) {
		ca_err_context("CA response \"%s\"", what);
		return rc;
	}
	gnutls_x509_crt_deinit(crt);
	if (asprintf(out, "%s%s", pem, n > 0 && pem[n - 1] == '\n' ? "" :
	    "\n") < 0) {
		*out = NULL;
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* The CSR as PEM: sent as is if it is PEM, converted if DER. */
static int
csr_pem(const char *csr, size_t len, char **out)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t d = { NULL, 0 };
	int rc, ret;

	*out = NULL;
	if (memmem(csr, len, "-----BEGIN", 10) != NULL) {
		if (memchr(csr, '\0', len) != NULL)
			return ca_err(CA_ERR_INVAL, "CSR holds a NUL byte");
		if ((*out = strndup(csr, len)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		return 0;
	}
	if ((rc = ca_csr_import(csr, len, &crq)) != 0)
		return rc;
	if ((ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &d)) < 0)
		rc = ca_err(CA_ERR_CRYPTO, "CSR: %s", gnutls_strerror(ret));
	else if ((*out = strndup((const char *)d.data, d.size)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	gnutls_free(d.data);
	gnutls_x509_crq_deinit(crq);
	return rc;
}

/*
 * The token of a ca_client_request: trailing white space dropped, then only
 * base64url and '.' allowed, since it goes into a JSON string or a
 * header as is. *len is its length.
 */
static int
token_check(const char *token, size_t *len)
{
	size_t i;

	while (*len > 0 && isspace((unsigned char)token[*len - 1]))
		(*len)--;
	if (*len == 0)
		return ca_err(CA_ERR_INVAL, "token is empty");
	if (*len > CA_MAX_TOKEN)
		return ca_err(CA_ERR_TOOBIG, "token larger than %d bytes",
		    CA_MAX_TOKEN);
	for (i = 0; i < *len; i++)
		if (!isalnum((unsigned char)token[i]) && token[i] != '-' &&
		    token[i] != '_' && token[i] != '.')
			return ca_err(CA_ERR_INVAL,
			    "token holds characters outside base64url and '.'");
	return 0;
}

/*
 * The certificates of a 201 answer to /sign, /renew or /rekey: "crt",
 * and "ca" (or the second of "certChain"). Caller frees both.
 */
static int
issued_response(const struct ca_client_response *r, char **crt_pem,
    char **ca_pem)
{
	struct json_object *o = NULL, *chain;
	const char *crt = NULL, *ca = NULL;
	int rc;

	*crt_pem = NULL;
	*ca_pem = NULL;
	if ((rc = ca_client_response_json(r, 201, &o)) != 0)
		goto out;
	if ((rc = ca_json_string(o, "crt", 1, &crt)) != 0) {
		ca_err_context("CA response");
		goto out;
	}
	if ((rc = ca_json_string(o, "ca", 0, &ca)) == CA_ERR_NOTFOUND &&
	    ca_json_array(o, "certChain", 0, &chain) == 0 &&
	    json_object_array_length(chain) > 1 &&
	    json_object_is_type(json_object_array_get_idx(chain, 1),
	    json_type_string)) {
		ca = json_object_get_string(
		    json_object_array_get_idx(chain, 1));
		rc = 0;
	}
	if (rc != 0) {
		if (rc == CA_ERR_NOTFOUND)
			rc = ca_err(CA_ERR_INVAL,
			    "CA response: no intermediate (\"ca\")");
		else
			ca_err_context("CA response");
		goto out;
	}
	if ((rc = pem_member(crt, "crt", crt_pem)) != 0 ||
	    (rc = pem_member(ca, "ca", ca_pem)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		free(*crt_pem);
		*crt_pem = NULL;
	}
	json_object_put(o);
	return rc;
}

int
ca_client_sign(struct ca_client *c, const struct ca_sign_req *req,
    char **crt_pem, char **ca_pem)
{
	struct ca_client_response r;
	struct json_object *csr_js = NULL;
	const char *csr_json;
	char *csr = NULL, *body = NULL, nb[32], na[32];
	size_t toklen = req->token_len, blen = 0;
	int rc, n;

	*crt_pem = NULL;
	*ca_pem = NULL;
	memset(&r, 0, sizeof(r));
	if ((rc = token_check(req->token, &toklen)) != 0)
		return rc;
	if ((rc = csr_pem(req->csr, req->csr_len, &csr)) != 0)
		goto out;
	if ((csr_js = json_object_new_string(csr)) == NULL ||
	    (csr_json = json_object_to_json_string_ext(csr_js,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (req->not_before != 0)
		ca_time_format(req->not_before, nb, sizeof(nb));
	if (req->not_after != 0)
		ca_time_format(req->not_after, na, sizeof(na));
	/* The token is a secret: the body is built here and wiped. */
	if ((n = asprintf(&body, "{\"csr\":%s,\"ott\":\"%.*s\"%s%s%s%s%s%s}",
	    csr_json, (int)toklen, req->token,
	    req->not_before ? ",\"notBefore\":\"" : "",
	    req->not_before ? nb : "", req->not_before ? "\"" : "",
	    req->not_after ? ",\"notAfter\":\"" : "",
	    req->not_after ? na : "", req->not_after ? "\"" : "")) < 0) {
		body = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	blen = (size_t)n;
	rc = ca_client_post(c, "/sign", body, blen, &r);
	ca_free_secret(body, blen);
	body = NULL;
	if (rc == 0)
		rc = issued_response(&r, crt_pem, ca_pem);
out:
	ca_free_secret(body, blen);
	ca_client_response_free(&r);
	json_object_put(csr_js);
	free(csr);
	return rc;
}

int
ca_client_renew_token(struct ca_client *c, const char *token, const char *csr,
    size_t csr_len, char **crt_pem, char **ca_pem)
{
	struct ca_client_response r;
	struct json_object *o = NULL;
	const char *body = "";
	char *pem = NULL;
	int rc;

	*crt_pem = NULL;
	*ca_pem = NULL;
	memset(&r, 0, sizeof(r));
	if (csr != NULL) {
		if ((rc = csr_pem(csr, csr_len, &pem)) != 0)
			goto out;
		if ((o = json_object_new_object()) == NULL ||
		    json_object_object_add(o, "csr",
		    json_object_new_string(pem)) != 0 ||
		    (body = json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) ==
		    NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = ca_client_post_bearer(c, csr != NULL ? "/rekey" : "/renew",
	    body, strlen(body), token, &r)) != 0)
		goto out;
	rc = issued_response(&r, crt_pem, ca_pem);
out:
	ca_client_response_free(&r);
	json_object_put(o);
	free(pem);
	return rc;
}

int
ca_client_renew(struct ca_client *c, const struct ca_client_cert *cc,
    int mtls, const char *csr, size_t csr_len, char **crt_pem, char **ca_pem)
{
	char *aud = NULL, *token = NULL;
	int rc;

	*crt_pem = NULL;
	*ca_pem = NULL;
	if (mtls)
		rc = ca_client_set_identity(c, cc->cert_path, cc->key_path);
	else if ((aud = ca_client_url(c, csr != NULL ? "/1.0/rekey" :
	    "/1.0/renew")) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	else
		rc = ca_client_cert_x5c(cc, aud, time(NULL), &token);
	if (rc != 0)
		goto out;
	ca_debug("%s %s with %s", csr != NULL ? "rekey" : "renew", cc->serial,
	    mtls ? "mutual TLS" : "an x5c token");
	rc = ca_client_renew_token(c, token, csr, csr_len, crt_pem, ca_pem);
out:
	if (token != NULL)
		ca_free_secret(token, strlen(token));
	free(aud);
	return rc;
}

int
ca_client_revoke(struct ca_client *c, const struct ca_revoke_req *req)
{
	struct ca_client_response r;
	struct json_object *o = NULL, *text = NULL;
	unsigned char *sn = NULL;
	const char *tj = NULL;
	char *hex = NULL, *dec = NULL, *body = NULL, code[24];
	size_t snlen = 0, toklen = req->token_len, blen = 0;
	int rc, n;

	memset(&r, 0, sizeof(r));
	/* step-ca's clients send the serial in decimal. */
	if ((rc = ca_serial_canon(req->serial, &hex)) != 0 ||
	    (rc = ca_unhex(hex, &sn, &snlen)) != 0)
		goto out;
	if ((dec = ca_serial_decimal(sn, snlen)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (req->token != NULL && (rc = token_check(req->token, &toklen)) != 0)
		goto out;
	if (req->reason_text != NULL &&
	    ((text = json_object_new_string(req->reason_text)) == NULL ||
	    (tj = json_object_to_json_string_ext(text,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL)) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(code, sizeof(code), "%d", req->reason);
	/* The token is a secret: the body is built here and wiped. */
	if ((n = asprintf(&body,
	    "{\"serial\":\"%s\"%s%.*s%s%s%s%s%s,\"passive\":true}", dec,
	    req->token != NULL ? ",\"ott\":\"" : "",
	    req->token != NULL ? (int)toklen : 0,
	    req->token != NULL ? req->token : "",
	    req->token != NULL ? "\"" : "",
	    req->reason >= 0 ? ",\"reasonCode\":" : "",
	    req->reason >= 0 ? code : "",
	    tj != NULL ? ",\"reason\":" : "", tj != NULL ? tj : "")) < 0) {
		body = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	blen = (size_t)n;
	rc = ca_client_post(c, "/revoke", body, blen, &r);
	if (rc == 0)
		rc = ca_client_response_json(&r, 200, &o);
out:
	ca_free_secret(body, blen);
	ca_client_response_free(&r);
	json_object_put(o);
	json_object_put(text);
	free(hex);
	free(sn);
	free(dec);
	return rc;
}
