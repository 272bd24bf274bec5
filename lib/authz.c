/*
 * authz.c - the token dispatcher: a credential's shape picks exactly one
 * verifier, which looks only at provisioners of its own type (DESIGN13
 * 2.1; the structural fix for step-ca's GHSA-h8cp).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "token.h"
#include "x509.h"

unsigned long ca_authz_calls[CA_CRED_N];

/*
 * The table: one verifier per shape, and the one kind of provisioner it
 * may answer with; ACME and SCEP have none.
 */
static const struct {
	const char	*name;
	ca_authz_fn	 fn;
	enum ca_prov_kind kind;
} verifiers[CA_CRED_N] = {
	[CA_CRED_JWK] = { "JWK", ca_authz_jwk, CA_PROV_JWK },
	[CA_CRED_X5C] = { "X5C", ca_authz_x5c, CA_PROV_X5C },
	[CA_CRED_OIDC] = { "OIDC", ca_authz_oidc, CA_PROV_OIDC },
	[CA_CRED_K8SSA] = { "K8sSA", ca_authz_k8ssa, CA_PROV_K8SSA },
};

/* The longest one-time id recorded (a JWK jti's bound, lib/token.c). */
#define OTT_ID_MAX	256

/*
 * What every verifier's answer must hold, checked here once rather than
 * trusted to each: a provisioner of the verifier's own kind (GHSA-h8cp),
 * and a one-time id to burn (ca_db_add_issuance spends nothing when
 * there is none, and would take any number of certificates for it).
 */
static int
result_ok(enum ca_cred cred, const struct ca_authz *z)
{
	const char *v = verifiers[cred].name;

	if (z->prov == NULL)
		return ca_err(CA_ERR_AUTH, "%s verifier named no provisioner",
		    v);
	if (z->prov->kind != verifiers[cred].kind)
		return ca_err(CA_ERR_AUTH, "provisioner \"%s\" (type %s) does "
		    "not verify %s tokens", z->prov->name, z->prov->type, v);
	if (z->ott_scope == NULL || z->ott_scope[0] == '\0' ||
	    z->ott_id == NULL || z->ott_id[0] == '\0' ||
	    strlen(z->ott_id) > OTT_ID_MAX)
		return ca_err(CA_ERR_AUTH, "%s verifier gave no one-time id "
		    "(or one longer than %d bytes) for provisioner \"%s\"", v,
		    OTT_ID_MAX, z->prov->name);
	return 0;
}

const char *
ca_authz_cred_name(enum ca_cred c)
{
	return (unsigned)c < CA_CRED_N ? verifiers[c].name : "?";
}

/* Whether some OIDC provisioner's clientID is in aud (a string or array). */
static int
oidc_audience(const struct ca_config *cfg, struct json_object *aud)
{
	size_t i, j, n;

	for (i = 0; i < cfg->n_provisioners; i++) {
		const char *id = cfg->provisioners[i].client_id;

		if (cfg->provisioners[i].kind != CA_PROV_OIDC || id == NULL)
			continue;
		if (json_object_is_type(aud, json_type_string) &&
		    strcmp(json_object_get_string(aud), id) == 0)
			return 1;
		if (!json_object_is_type(aud, json_type_array))
			continue;
		n = json_object_array_length(aud);
		for (j = 0; j < n && j < 16; j++) {
			struct json_object *a = json_object_array_get_idx(aud, j);
			if (json_object_is_type(a, json_type_string) &&
			    strcmp(json_object_get_string(a), id) == 0)
				return 1;
		}
	}
	return 0;
}

int
ca_authz_route(const struct ca_config *cfg, struct json_object *header,
    struct json_object *claims, enum ca_cred *cred)
{
	struct json_object *v;
	const char *iss = NULL;

	*cred = CA_CRED_JWK;
	if (json_object_object_get_ex(header, "x5cInsecure", NULL))
		return ca_err(CA_ERR_AUTH, "a renewal token (x5cInsecure) is "
		    "only accepted at /1.0/renew and /1.0/rekey");
	if (json_object_object_get_ex(header, "x5c", NULL)) {
		*cred = CA_CRED_X5C;
		return 0;
	}
	if (json_object_object_get_ex(claims, "iss", &v) &&
	    json_object_is_type(v, json_type_string))
		iss = json_object_get_string(v);
	if ((iss != NULL && strcmp(iss, "kubernetes/serviceaccount") == 0) ||
	    (json_object_object_get_ex(claims, "kubernetes.io", &v) &&
	    json_object_is_type(v, json_type_object))) {
		*cred = CA_CRED_K8SSA;
		return 0;
	}
	if (iss != NULL && (strncmp(iss, "https://", 8) == 0 ||
	    strncmp(iss, "http://", 7) == 0) &&
	    json_object_object_get_ex(claims, "aud", &v) &&
	    oidc_audience(cfg, v)) {
		*cred = CA_CRED_OIDC;
		return 0;
	}
	return 0;
}

int
ca_authz_dup(const char *s, char **out)
{
	*out = NULL;
	if (s != NULL && (*out = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_authz_token_names(struct ca_authz *z, const struct ca_token *t)
{
	size_t i;
	int rc;

	if ((rc = ca_x509_cn_check(t->sub)) != 0) {
		ca_err_context("token");
		return rc;
	}
	if (ca_names_classify((const char *const *)t->sans, t->n_sans,
	    &z->names) != 0) {
		ca_err_context("token sans");
		return CA_ERR_FORBIDDEN;
	}
	z->csr_must_match = 1;
	if ((rc = ca_authz_dup(t->sub, &z->cn)) != 0 ||
	    (rc = ca_authz_dup(t->cnf_x5rt, &z->cnf_x5rt)) != 0 ||
	    (rc = ca_authz_dup(t->cnf_kid, &z->cnf_kid)) != 0)
		return rc;
	if ((z->sans = calloc(t->n_sans + 1, sizeof(char *))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < t->n_sans; i++) {
		if ((rc = ca_authz_dup(t->sans[i], &z->sans[i])) != 0)
			return rc;
		z->n_sans++;
	}
	return 0;
}

void
ca_authz_free(struct ca_authz *z)
{
	size_t i;

	if (z == NULL)
		return;
	free(z->cn);
	ca_names_free(&z->names);
	for (i = 0; i < z->n_sans; i++)
		free(z->sans[i]);
	free(z->sans);
	free(z->ott_scope);
	free(z->ott_id);
	free(z->identity);
	free(z->check_unrevoked);
	free(z->revoke_serial);
	free(z->cnf_x5rt);
	free(z->cnf_kid);
	free(z->payload);
	memset(z, 0, sizeof(*z));
}

/*
 * Whether the CSR's name s (of X.509 type what) is what the token path
 * would type it as (ca_names_classify): a dNSName "10.0.0.1" or "a b",
 * an rfc822Name without '@', a URI without a scheme are refused rather
 * than issued, and an RA's upstream, which reads the relayed text again,
 * sees the same type.
 */
static int
csr_name_typed(const char *s, const char *type, const char *what)
{
	struct ca_names nm;
	const char *got = NULL;
	char esc[160];
	int same = 0;

	if (ca_names_classify(&s, 1, &nm) == 0) {
		same = ca_names_at(&nm, 0, &got) != NULL &&
		    strcmp(got, type) == 0;
		ca_names_free(&nm);
	}
	ca_err_clear();
	if (!same)
		return ca_err(CA_ERR_INVAL, "the CSR's subject alternative name "
		    "'%s' is not a valid %s name",
		    ca_escape(esc, sizeof(esc), s, 0), what);
	return 0;
}

/*
 * The CN's DER value d (n bytes) as UTF-8 into out (outlen bytes): the
 * string as the CSR holds it. GnuTLS's own reading renders it as RFC 4514
 * text ("a\\,b"), a NUL or a non-string as "#hex", and cuts a BMPString
 * at a NUL; none of those is a name the leaf should carry.
 */
static int
cn_string(const unsigned char *d, size_t n, char *out, size_t outlen)
{
	size_t len, off = 2, i, o = 0;
	unsigned c, tag = n > 0 ? d[0] : 0;

	if (n < 2 || d[1] > 0x82 || d[1] == 0x80)
		goto bad;
	len = d[1];
	if (d[1] == 0x81 && n >= 3) {
		len = d[2];
		off = 3;
	} else if (d[1] == 0x82 && n >= 4) {
		len = (size_t)d[2] << 8 | d[3];
		off = 4;
	} else if (d[1] > 0x80)
		goto bad;
	if (off + len != n)
		goto bad;
	d += off;
	switch (tag) {
	case 0x0c:	/* UTF8String */
	case 0x13:	/* PrintableString */
	case 0x16:	/* IA5String */
		if (memchr(d, '\0', len) != NULL)
			goto nul;
		if (len >= outlen)
			goto big;
		memcpy(out, d, len);
		out[len] = '\0';
		return 0;
	case 0x1e:	/* BMPString: UCS-2, big-endian */
		if (len % 2 != 0)
			goto bad;
		for (i = 0; i < len; i += 2) {
			c = (unsigned)d[i] << 8 | d[i + 1];
			if (c == 0)
				goto nul;
			if (c >= 0xd800 && c <= 0xdfff)
				goto bad;
			if (o + 4 >= outlen)
				goto big;
			if (c < 0x80)
				out[o++] = (char)c;
			else if (c < 0x800) {
				out[o++] = (char)(0xc0 | c >> 6);
				out[o++] = (char)(0x80 | (c & 0x3f));
			} else {
				out[o++] = (char)(0xe0 | c >> 12);
				out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
				out[o++] = (char)(0x80 | (c & 0x3f));
			}
		}
		out[o] = '\0';
		return 0;
	default:
		return ca_err(CA_ERR_INVAL, "the CSR's common name is not a "
		    "UTF8String, PrintableString, IA5String or BMPString");
	}
nul:
	return ca_err(CA_ERR_INVAL, "the CSR's common name holds a NUL");
big:
	return ca_err(CA_ERR_INVAL, "the CSR's common name is longer than %d "
	    "characters", CA_CN_MAX);
bad:
	return ca_err(CA_ERR_INVAL, "the CSR's common name is malformed");
}

/* For an OIDC admin or a K8sSA service account (DESIGN13 0.5). */
int
ca_authz_csr_names(gnutls_x509_crq_t crq, size_t max_sans, struct ca_authz *z)
{
	const struct {
		char **const *v;
		const size_t *n;
		const char *type, *what;
	} t[] = {
		{ &z->names.dns, &z->names.n_dns, "dns", "DNS" },
		{ &z->names.ip, &z->names.n_ip, "ip", "IP" },
		{ &z->names.email, &z->names.n_email, "email", "e-mail" },
		{ &z->names.uri, &z->names.n_uri, "uri", "URI" },
	};
	unsigned char der[CA_CN_MAX * 4 + 8];
	char buf[CA_CN_MAX * 4 + 1];
	size_t size = sizeof(der), s2 = 0, i, j, n;
	int ret, rc;

	ca_names_free(&z->names);
	for (i = 0; i < z->n_sans; i++)
		free(z->sans[i]);
	free(z->sans);
	z->sans = NULL;
	z->n_sans = 0;
	if ((rc = ca_csr_names(crq, max_sans, &z->names)) != 0)
		return rc;
	ret = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME,
	    0, 1, der, &size);
	if (ret >= 0) {
		if (gnutls_x509_crq_get_dn_by_oid(crq,
		    GNUTLS_OID_X520_COMMON_NAME, 1, 1, NULL, &s2) !=
		    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			return ca_err(CA_ERR_INVAL, "the CSR has more than one "
			    "common name");
		if ((rc = cn_string(der, size, buf, sizeof(buf))) != 0)
			return rc;
		if ((rc = ca_x509_cn_check(buf)) != 0) {
			ca_err_context("the CSR's common name");
			return rc;
		}
		free(z->cn);
		if ((z->cn = strdup(buf)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
	} else if (ret == GNUTLS_E_SHORT_MEMORY_BUFFER)
		return ca_err(CA_ERR_INVAL, "the CSR's common name is longer "
		    "than %d characters", CA_CN_MAX);
	else if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return ca_err(CA_ERR_INVAL, "the CSR's subject: %s",
		    gnutls_strerror(ret));
	n = z->names.n_dns + z->names.n_ip + z->names.n_email +
	    z->names.n_uri;
	if (n == 0 && z->cn == NULL)
		return ca_err(CA_ERR_FORBIDDEN, "the CSR names nothing: give it "
		    "a common name or a subject alternative name");
	if (n > 0 && (z->sans = calloc(n, sizeof(*z->sans))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (j = 0; j < *t[i].n; j++) {
			if ((rc = csr_name_typed((*t[i].v)[j], t[i].type,
			    t[i].what)) != 0)
				return rc;
			if ((z->sans[z->n_sans++] = strdup((*t[i].v)[j])) ==
			    NULL)
				return ca_err(CA_ERR_NOMEM, "out of memory");
		}
	return 0;
}

int
ca_authz_token_hash(const struct ca_jws *jws, char **hex)
{
	unsigned char sum[32];
	int ret;

	*hex = NULL;
	if ((ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, jws->signing_input,
	    jws->signing_input_len, sum)) < 0)
		return ca_err(CA_ERR_CRYPTO, "SHA-256: %s", gnutls_strerror(ret));
	if ((*hex = ca_hex(sum, sizeof(sum))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_authz_token(const struct ca_authz_ctx *x, enum ca_authz_op op,
    const char *tok, size_t len, time_t now, struct ca_authz *out)
{
	struct ca_jws *jws = NULL;
	struct json_object *claims = NULL;
	enum ca_cred cred;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Token files often end with a newline. */
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' ||
	    tok[len - 1] == ' '))
		len--;
	if (len == 0)
		rc = ca_err(CA_ERR_INVAL, "token is empty");
	else if (len > CA_MAX_TOKEN)
		rc = ca_err(CA_ERR_TOOBIG, "token larger than %d bytes",
		    CA_MAX_TOKEN);
	else if ((rc = ca_jws_parse(tok, len, &jws)) == 0 &&
	    (rc = ca_json_parse((const char *)jws->payload, jws->payload_len,
	    "token claims", &claims)) == 0 &&
	    !json_object_is_type(claims, json_type_object))
		rc = ca_err(CA_ERR_INVAL, "token claims are not a JSON object");
	if (rc != 0) {
		ca_err_context("invalid token");
		rc = rc == CA_ERR_NOMEM ? rc : CA_ERR_AUTH;
		goto out;
	}
	if ((rc = ca_authz_route(x->cfg, jws->header, claims, &cred)) != 0)
		goto out;
	__atomic_fetch_add(&ca_authz_calls[cred], 1, __ATOMIC_RELAXED);
	rc = verifiers[cred].fn(x, jws, claims, tok, len, op, now, out);
	if (rc == 0)
		rc = result_ok(cred, out);
	if (rc == 0) {
		out->cred = cred;
		if ((out->payload = malloc(jws->payload_len + 1)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		else {
			memcpy(out->payload, jws->payload, jws->payload_len);
			out->payload[jws->payload_len] = '\0';
			out->payload_len = jws->payload_len;
		}
	}
out:
	json_object_put(claims);
	ca_jws_free(jws);
	if (rc != 0)
		ca_authz_free(out);
	return rc;
}
