/*
 * conf.c - loading and validating config/ca.json.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scep.h"
#include "ca.h"
#include "authz.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "pkcs11.h"
#include "policy.h"
#include "certtmpl.h"

const char *
ca_config_state_dir(const char *opt)
{
	const char *env;

	if (opt != NULL && opt[0] != '\0')
		return opt;
	env = getenv("CA_STATE_DIR");
	if (env != NULL && env[0] != '\0')
		return env;
	ca_err(CA_ERR_INVAL,
	    "no state directory: use -d DIR or set CA_STATE_DIR");
	return NULL;
}

static int
claim_duration(struct json_object *o, const char *key, int64_t *v)
{
	const char *s;
	int rc;

	rc = ca_json_string(o, key, 0, &s);
	if (rc == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = ca_duration_parse(s, 0, v)) != 0)
		ca_err_context("claims.%s", key);
	return rc;
}

int
ca_claims_parse(struct json_object *o, struct ca_claims *c)
{
	int rc, b;

	if (o == NULL)
		return 0;
	if ((rc = claim_duration(o, "minTLSCertDuration", &c->min_dur)) != 0 ||
	    (rc = claim_duration(o, "maxTLSCertDuration", &c->max_dur)) != 0 ||
	    (rc = claim_duration(o, "defaultTLSCertDuration",
	    &c->default_dur)) != 0)
		return rc;
	rc = ca_json_bool(o, "disableRenewal", 0, &b);
	if (rc == 0)
		c->disable_renewal = b;
	else if (rc != CA_ERR_NOTFOUND)
		return rc;
	rc = ca_json_bool(o, "allowRenewalAfterExpiry", 0, &b);
	if (rc == 0)
		c->allow_renewal_after_expiry = b;
	else if (rc != CA_ERR_NOTFOUND)
		return rc;
	rc = ca_json_bool(o, "disableSmallstepExtensions", 0, &b);
	if (rc == 0)
		c->disable_step_ext = b;
	else if (rc != CA_ERR_NOTFOUND)
		return rc;
	return 0;
}

static int
claims_check(const struct ca_claims *c, const char *who)
{
	if (c->min_dur <= 0 || c->min_dur > c->max_dur ||
	    c->default_dur < c->min_dur || c->default_dur > c->max_dur)
		return ca_err(CA_ERR_CONFIG,
		    "%s: claims must satisfy 0 < minTLSCertDuration <= defaultTLSCertDuration <= maxTLSCertDuration",
		    who);
	return 0;
}

static int
path_member(struct ca_config *cfg, struct json_object *o, const char *key,
    const char *dflt, char **out)
{
	const char *s;
	int rc;

	rc = ca_json_string(o, key, dflt == NULL, &s);
	if (rc == CA_ERR_NOTFOUND)
		s = dflt;
	else if (rc != 0)
		return rc;
	if (s[0] == '\0')
		return ca_err(CA_ERR_CONFIG, "\"%s\" is empty", key);
	if ((*out = ca_path_join(cfg->dir, s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/*
 * A key: a file, or a pkcs11: URI, which needs the kms block (kms.uri is
 * checked by conf-fields.c).
 */
static int
key_member(struct ca_config *cfg, struct json_object *o, const char *key,
    const char *dflt, char **out)
{
	const char *s;

	if (ca_json_string(o, key, 0, &s) != 0 || !ca_pkcs11_is_uri(s))
		return path_member(cfg, o, key, dflt, out);
	if (cfg->kms_uri == NULL)
		return ca_err(CA_ERR_CONFIG, "\"%s\": a pkcs11: key needs a "
		    "\"kms\" block naming the module", key);
	if (ca_pkcs11_key_check(s, key) != 0)
		return CA_ERR_CONFIG;
	if ((*out = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_address_parse(const char *address, int *port)
{
	const char *colon;
	char *end;
	long p;

	*port = 443;
	if (address == NULL || address[0] == '\0')
		return 0;
	if ((colon = strrchr(address, ':')) == NULL)
		return ca_err(CA_ERR_INVAL, "address \"%s\" is not [HOST]:PORT",
		    address);
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0' || !isdigit((unsigned char)colon[1]) ||
	    p < 0 || p > 65535)
		return ca_err(CA_ERR_INVAL, "address \"%s\": invalid port",
		    address);
	if (address[0] == '[' && colon[-1] != ']')
		return ca_err(CA_ERR_INVAL,
		    "address \"%s\": unbalanced brackets", address);
	*port = (int)p;
	return 0;
}

/* An optional string member: 0 (*out NULL when absent) or the error. */
static int
opt_string(struct json_object *o, const char *key, const char **out)
{
	int rc;

	*out = NULL;
	rc = ca_json_string(o, key, 0, out);
	return rc == CA_ERR_NOTFOUND ? 0 : rc;
}

/* An optional boolean member, 0 when absent. */
static int
opt_bool(struct json_object *o, const char *key, int *out)
{
	int rc;

	*out = 0;
	rc = ca_json_bool(o, key, 0, out);
	return rc == CA_ERR_NOTFOUND ? 0 : rc;
}

static const struct {
	const char	*name;
	unsigned	 bit;
} acme_types[] = {
	{ "http-01", CA_ACME_HTTP01 },
	{ "dns-01", CA_ACME_DNS01 },
	{ "tls-alpn-01", CA_ACME_TLSALPN01 },
};

unsigned
ca_acme_challenge_bit(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(acme_types) / sizeof(acme_types[0]); i++)
		if (strcasecmp(name, acme_types[i].name) == 0)
			return acme_types[i].bit;
	return 0;
}

const char *
ca_acme_challenge_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(acme_types) / sizeof(acme_types[0]); i++)
		if (acme_types[i].bit == bit)
			return acme_types[i].name;
	return NULL;
}

/*
 * An ACME provisioner's own members, as step-ca has them: challenges
 * (default: http-01, dns-01, tls-alpn-01), requireEAB, forceCN,
 * termsOfService, website, caaIdentities. conf-fields.c refuses those
 * that would change issuance in a way not done here.
 */
static int
load_acme(struct json_object *o, struct ca_provisioner *p)
{
	struct json_object *a, *v;
	unsigned bit;
	size_t i, n;
	int rc;

	p->acme_challenges = CA_ACME_ALL;
	if ((rc = ca_json_array(o, "challenges", 0, &a)) == 0 &&
	    (n = json_object_array_length(a)) > 0) {
		p->acme_challenges = 0;
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(a, i);
			if (!json_object_is_type(v, json_type_string) ||
			    (bit = ca_acme_challenge_bit(
			    json_object_get_string(v))) == 0)
				return ca_err(CA_ERR_CONFIG, "challenges[%zu]: "
				    "not supported by ca-tools (http-01, "
				    "dns-01, tls-alpn-01)", i);
			p->acme_challenges |= bit;
		}
	} else if (rc != 0 && rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = opt_bool(o, "requireEAB", &p->require_eab)) != 0 ||
	    (rc = opt_bool(o, "forceCN", &p->force_cn)) != 0 ||
	    (rc = opt_string(o, "termsOfService",
	    &p->terms_of_service)) != 0 ||
	    (rc = opt_string(o, "website", &p->website)) != 0)
		return rc;
	if ((rc = ca_json_array(o, "caaIdentities", 0, &a)) == 0) {
		n = json_object_array_length(a);
		for (i = 0; i < n; i++)
			if (!json_object_is_type(json_object_array_get_idx(a,
			    i), json_type_string))
				return ca_err(CA_ERR_CONFIG, "caaIdentities[%zu]: "
				    "not a string", i);
		p->caa_identities = a;
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	return 0;
}

/*
 * options.x509's certificate template, parsed now so that a bad one is
 * refused at load. A registration authority refuses one: the CA it
 * relays to decides the certificate.
 */
static int
load_template(struct ca_config *cfg, struct json_object *o,
    struct ca_provisioner *p)
{
	struct json_object *opt, *x509 = NULL;
	char where[80];

	if (json_object_object_get_ex(o, "options", &opt) &&
	    json_object_is_type(opt, json_type_object))
		(void)json_object_object_get_ex(opt, "x509", &x509);
	snprintf(where, sizeof(where), "authority.provisioners[%zu]."
	    "options.x509", (size_t)(p - cfg->provisioners));
	if (ca_certtmpl_load(x509, cfg->dir, where, &p->x509_tmpl) != 0)
		return CA_ERR_CONFIG;
	if (p->x509_tmpl != NULL && cfg->is_ra)
		return ca_err(CA_ERR_CONFIG, "%s: a registration authority "
		    "takes no certificate template (its CA decides the "
		    "certificate)", where);
	return 0;
}

static int
load_provisioner(struct ca_config *cfg, struct json_object *o,
    struct ca_provisioner *p)
{
	struct json_object *key, *claims;
	const struct ca_provisioner *q;
	const char *s;
	char where[64];
	int rc;

	if (!json_object_is_type(o, json_type_object))
		return ca_err(CA_ERR_CONFIG, "provisioner is not an object");
	if ((rc = ca_json_string(o, "name", 1, &s)) != 0)
		return rc;
	if ((p->name = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_json_string(o, "type", 1, &s)) != 0)
		goto ctx;
	if ((p->type = strdup(s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	p->claims = cfg->claims;
	rc = ca_json_object(o, "claims", 0, &claims);
	if (rc == 0) {
		if ((rc = ca_claims_parse(claims, &p->claims)) != 0)
			goto ctx;
	} else if (rc != CA_ERR_NOTFOUND)
		goto ctx;
	if ((rc = claims_check(&p->claims, p->name)) != 0)
		return rc;
	snprintf(where, sizeof(where), "authority.provisioners[%zu].policy",
	    (size_t)(p - cfg->provisioners));
	if ((rc = ca_policy_parse(json_object_object_get(o, "policy"), where,
	    &p->policy)) != 0 || (rc = load_template(cfg, o, p)) != 0)
		return rc;
	p->kind = ca_prov_kind_of(p->type);
	if (p->kind == CA_PROV_ACME) {
		if ((rc = load_acme(o, p)) != 0)
			goto ctx;
		return 0;
	}
	if (p->kind == CA_PROV_OIDC &&
	    json_object_object_get_ex(o, "clientID", &key) &&
	    json_object_is_type(key, json_type_string))
		p->client_id = json_object_get_string(key);	/* its loader checks it */
	if (p->kind != CA_PROV_JWK) {
		/* Other kinds are kept but cannot issue here until served. */
		if (!ca_config_kind_served(p->kind))
			return 0;
		switch (p->kind) {
		case CA_PROV_X5C:
			rc = ca_x5c_conf_load(o, p);
			break;
		case CA_PROV_OIDC:
			rc = ca_oidc_conf_load(o, p);
			break;
		case CA_PROV_K8SSA:
			/* step-ca's K8sSA token id is a constant: one only. */
			rc = ca_k8ssa_conf_load(o, p);
			for (q = cfg->provisioners; rc == 0 && q < p; q++)
				if (q->kind == CA_PROV_K8SSA)
					rc = ca_err(CA_ERR_CONFIG, "a second "
					    "K8sSA provisioner (\"%s\" is one): "
					    "a CA has at most one", q->name);
			break;
		case CA_PROV_SCEP:
			rc = ca_scep_conf_load(o, p);
			break;
		default:
			rc = 0;
		}
		if (rc != 0)
			goto ctx;
		return 0;
	}
	if ((rc = ca_json_object(o, "key", 1, &key)) != 0 ||
	    (rc = ca_jwk_from_json(key, &p->key)) != 0)
		goto ctx;
	if (ca_jwk_is_private(p->key)) {
		rc = ca_err(CA_ERR_CONFIG,
		    "the public \"key\" holds a private key");
		goto ctx;
	}
	if (ca_jwk_kid(p->key) != NULL)
		p->kid = strdup(ca_jwk_kid(p->key));
	else if ((rc = ca_jwk_thumbprint(p->key, &p->kid)) != 0)
		goto ctx;
	if (p->kid == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = ca_json_string(o, "encryptedKey", 0, &p->encrypted_key);
	if (rc == CA_ERR_NOTFOUND)
		rc = 0;
	if (rc != 0)
		goto ctx;
	return 0;
ctx:
	ca_err_context("provisioner \"%s\"", p->name ? p->name : "?");
	return rc;
}

/*
 * A registration authority's upstream, in step-ca's StepCAS shape:
 * authority.certificateAuthority (https URL), .certificateAuthorityFingerprint
 * (SHA-256 of the upstream root, hex), .certificateIssuer {type "jwk",
 * provisioner NAME, key FILE (optional: else the encrypted key is fetched
 * and decrypted at start)}.
 */
static int
load_upstream(struct ca_config *cfg, struct json_object *auth)
{
	struct json_object *iss = NULL;
	const char *s;
	int rc;

	if ((rc = ca_json_string(auth, "certificateAuthority", 1,
	    &cfg->upstream_url)) != 0 ||
	    (rc = ca_json_string(auth, "certificateAuthorityFingerprint", 1,
	    &cfg->upstream_fp)) != 0 ||
	    (rc = ca_json_object(auth, "certificateIssuer", 1, &iss)) != 0 ||
	    (rc = ca_json_string(iss, "provisioner", 1,
	    &cfg->upstream_prov)) != 0) {
		ca_err_context("authority (a stepcas registration authority)");
		return rc;
	}
	if (strncmp(cfg->upstream_url, "https://", 8) != 0)
		return ca_err(CA_ERR_CONFIG, "authority.certificateAuthority: "
		    "not an https:// URL: %s", cfg->upstream_url);
	if ((rc = ca_json_string(iss, "type", 0, &s)) == 0) {
		if (strcasecmp(s, "jwk") != 0)
			return ca_err(CA_ERR_CONFIG, "authority.certificateIssuer"
			    ".type %s: only jwk is supported", s);
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = ca_json_string(iss, "key", 0, &s)) == 0) {
		if ((cfg->upstream_key = ca_path_join(cfg->dir, s)) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	return 0;
}

/* caTools.registrationAuthorities: https:// base URLs, no trailing '/'. */
static int
ra_urls_member(struct ca_config *cfg, struct json_object *ext)
{
	struct json_object *a, *v;
	const char *s;
	size_t i, n;
	int rc;

	if ((rc = ca_json_array(ext, "registrationAuthorities", 0, &a)) ==
	    CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	n = json_object_array_length(a);
	if ((cfg->ra_urls = calloc(n ? n : 1, sizeof(*cfg->ra_urls))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    strncmp((s = json_object_get_string(v)), "https://", 8) != 0 ||
		    s[strlen(s) - 1] == '/')
			return ca_err(CA_ERR_CONFIG, "caTools.registrationAuthorities"
			    "[%zu]: not an https:// URL without a trailing /", i);
		cfg->ra_urls[cfg->n_ra_urls++] = s;
	}
	return 0;
}

/* A duration member of obj (named in where) between min and max seconds;
 * *out keeps its default when the member is absent. */
static int
duration_member(struct json_object *obj, const char *where, const char *name,
    int64_t min, int64_t max, int64_t *out)
{
	const char *s;
	int64_t d;
	int rc;

	if ((rc = ca_json_string(obj, name, 0, &s)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = ca_duration_parse(s, 0, &d)) != 0) {
		ca_err_context("%s.%s", where, name);
		return rc;
	}
	if (d < min || d > max)
		return ca_err(CA_ERR_CONFIG, "%s.%s: %s is out of range "
		    "(%lld s to %lld s)", where, name, s, (long long)min,
		    (long long)max);
	*out = d;
	return 0;
}

/* An http:// or https:// URL member (for certificate extensions). */
static int
url_member(struct json_object *obj, const char *where, const char *name,
    const char **out)
{
	const char *s, *p;
	int rc;

	*out = NULL;
	if ((rc = ca_json_string(obj, name, 0, &s)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return ca_err(CA_ERR_CONFIG, "%s.%s: not an http:// or https:// "
		    "URL: %s", where, name, s);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return ca_err(CA_ERR_CONFIG, "%s.%s: spaces or "
			    "non-ASCII characters in the URL", where, name);
	*out = s;
	return 0;
}

/* "192.0.2.1:53" or "[2001:db8::1]:53". */
static int
ip_port(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t n;
	int port;

	if (colon == NULL || ca_address_parse(s, &port) != 0 || port == 0) {
		ca_err_clear();
		return 0;
	}
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return 0;
	memcpy(host, s, n);
	host[n] = '\0';
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host[n - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, buf) == 1;
	}
	return inet_pton(AF_INET, host, buf) == 1;
}

/*
 * caTools.acme: {"httpPort": 80, "tlsPort": 443, "dnsResolver":
 * "IP:PORT", "validationTimeout": "10s", "orderLifetime": "24h",
 * "authzLifetime": "168h", "maxValidationsPerAccount": 10}; other members
 * are refused.
 */
static int
acme_member(struct ca_config *cfg, struct json_object *ext)
{
	static const char *const known[] = {
		"httpPort", "tlsPort", "dnsResolver", "validationTimeout",
		"orderLifetime", "authzLifetime", "maxValidationsPerAccount",
		NULL
	};
	struct ca_acme_conf *c = &cfg->acme;
	struct json_object_iterator it, end;
	struct json_object *o;
	int64_t v;
	int rc;
	size_t i;

	c->http_port = 80;
	c->tls_port = 443;
	c->validation_timeout = 10;
	c->order_lifetime = 86400;
	c->authz_lifetime = 7 * 86400;
	c->max_validations = 10;
	if (ext == NULL ||
	    (rc = ca_json_object(ext, "acme", 0, &o)) == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);

		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], name) == 0)
				break;
		if (known[i] == NULL)
			return ca_err(CA_ERR_CONFIG, "caTools.acme: unknown "
			    "member \"%.32s\"", name);
	}
	if ((rc = ca_json_int64(o, "httpPort", 0, &v)) == 0) {
		if (v < 1 || v > 65535)
			return ca_err(CA_ERR_CONFIG, "caTools.acme.httpPort: "
			    "not a port");
		c->http_port = (int)v;
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = ca_json_int64(o, "tlsPort", 0, &v)) == 0) {
		if (v < 1 || v > 65535)
			return ca_err(CA_ERR_CONFIG, "caTools.acme.tlsPort: "
			    "not a port");
		c->tls_port = (int)v;
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = ca_json_int64(o, "maxValidationsPerAccount", 0, &v)) == 0) {
		if (v < 1 || v > 1000)
			return ca_err(CA_ERR_CONFIG, "caTools.acme."
			    "maxValidationsPerAccount: not from 1 to 1000");
		c->max_validations = v;
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = opt_string(o, "dnsResolver", &c->dns_resolver)) != 0)
		return rc;
	if (c->dns_resolver != NULL && !ip_port(c->dns_resolver))
		return ca_err(CA_ERR_CONFIG, "caTools.acme.dnsResolver: "
		    "\"%.64s\" is not IP:PORT ([IPv6]:PORT)", c->dns_resolver);
	if ((rc = duration_member(o, "caTools.acme", "validationTimeout", 1,
	    300, &c->validation_timeout)) != 0 ||
	    (rc = duration_member(o, "caTools.acme", "orderLifetime", 60,
	    30 * 86400, &c->order_lifetime)) != 0 ||
	    (rc = duration_member(o, "caTools.acme", "authzLifetime", 60,
	    30 * 86400, &c->authz_lifetime)) != 0)
		return rc;
	return 0;
}

static int
load(struct ca_config *cfg)
{
	struct json_object *o = cfg->json, *auth = NULL, *a, *claims, *db, *ext;
	struct json_object *kms;
	const char *s;
	size_t i, n;
	int64_t d;
	int rc;

	if (!json_object_is_type(o, json_type_object))
		return ca_err(CA_ERR_CONFIG, "not a JSON object");
	if ((rc = ca_json_object(o, "authority", 0, &auth)) != 0 &&
	    rc != CA_ERR_NOTFOUND)
		return rc;
	if (auth != NULL && ca_json_string(auth, "type", 0, &s) == 0 &&
	    strcasecmp(s, "stepcas") == 0)
		cfg->is_ra = 1;
	if (cfg->is_ra && (rc = load_upstream(cfg, auth)) != 0)
		return rc;
	if ((rc = path_member(cfg, o, "root", NULL, &cfg->root)) != 0)
		return rc;
	if ((rc = path_member(cfg, o, "crt", cfg->is_ra ?
	    "certs/intermediate_ca.crt" : NULL, &cfg->crt)) != 0)
		return rc;
	if (json_object_object_get_ex(o, "kms", &kms) &&
	    json_object_object_get_ex(kms, "uri", &kms) &&
	    json_object_is_type(kms, json_type_string))
		cfg->kms_uri = json_object_get_string(kms);
	if ((rc = key_member(cfg, o, "key", cfg->is_ra ? "-" : NULL,
	    &cfg->key)) != 0)
		return rc;
	if ((rc = ca_json_string(o, "address", 0, &cfg->address)) != 0 &&
	    rc != CA_ERR_NOTFOUND)
		return rc;
	if (ca_address_parse(cfg->address, &cfg->port) != 0)
		return CA_ERR_CONFIG;
	if ((rc = ca_json_string(o, "insecureAddress", 0,
	    &cfg->insecure_address)) != 0 && rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = ca_json_array(o, "dnsNames", 1, &a)) != 0)
		return rc;
	n = json_object_array_length(a);
	if (n == 0)
		return ca_err(CA_ERR_CONFIG, "\"dnsNames\" is empty");
	if ((cfg->dns_names = calloc(n, sizeof(char *))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    json_object_get_string_len(e) == 0)
			return ca_err(CA_ERR_CONFIG,
			    "\"dnsNames\" must hold non-empty strings");
		cfg->dns_names[i] = json_object_get_string(e);
	}
	cfg->n_dns_names = n;

	/* db: {"type": "gdbm", "dataSource": "db"} */
	s = "db";
	if ((rc = ca_json_object(o, "db", 0, &db)) == 0) {
		const char *type;
		if ((rc = ca_json_string(db, "type", 0, &type)) == 0 &&
		    strcmp(type, "gdbm") != 0)
			return ca_err(CA_ERR_CONFIG,
			    "db.type \"%s\" is not supported (gdbm)", type);
		if (rc != 0 && rc != CA_ERR_NOTFOUND)
			return rc;
		if ((rc = ca_json_string(db, "dataSource", 0, &s)) != 0 &&
		    rc != CA_ERR_NOTFOUND)
			return rc;
		if (rc != 0)
			s = "db";
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((cfg->db_dir = ca_path_join(cfg->dir, s)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");

	/* Our own settings, which step-ca ignores. */
	cfg->key_type = CA_KEY_EC_P256;
	cfg->lock_timeout_ms = 10000;
	cfg->crl_validity = CA_CRL_VALIDITY_DEFAULT;
	cfg->backdate = CA_BACKDATE;
	cfg->ocsp_validity = CA_OCSP_VALIDITY_DEFAULT;
	cfg->upstream_timeout = 10;
	cfg->max_sans = CA_MAX_SANS_DEFAULT;
	ext = NULL;
	if ((rc = ca_json_object(o, "caTools", 0, &ext)) != 0 &&
	    rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = key_member(cfg, ext, "rootKey", "secrets/root_ca_key",
	    &cfg->root_key)) != 0)
		return rc;
	if (ext != NULL) {
		if ((rc = ca_json_string(ext, "keyType", 0, &s)) == 0) {
			if ((rc = ca_key_type_parse(s, &cfg->key_type)) != 0)
				return rc;
		} else if (rc != CA_ERR_NOTFOUND)
			return rc;
		if ((rc = ca_json_string(ext, "lockTimeout", 0, &s)) == 0) {
			if ((rc = ca_duration_parse(s, 0, &d)) != 0)
				return rc;
			cfg->lock_timeout_ms = (unsigned)(d > 3600 ? 3600000 :
			    d * 1000);
		} else if (rc != CA_ERR_NOTFOUND)
			return rc;
		if ((rc = ca_json_int64(ext, "maxSANs", 0, &d)) == 0) {
			if (d < 1 || d > CA_MAX_SANS_LIMIT)
				return ca_err(CA_ERR_CONFIG, "caTools.maxSANs must "
				    "be 1 to %d", CA_MAX_SANS_LIMIT);
			cfg->max_sans = (size_t)d;
		} else if (rc != CA_ERR_NOTFOUND)
			return rc;
		if ((rc = duration_member(ext, "caTools", "upstreamTimeout",
		    1, 60, &cfg->upstream_timeout)) != 0 ||
		    (rc = ra_urls_member(cfg, ext)) != 0)
			return rc;
		if ((rc = duration_member(ext, "caTools", "ocspNextUpdate",
		    60, 7 * 86400, &cfg->ocsp_validity)) != 0 ||
		    (rc = url_member(ext, "caTools", "crlURL",
		    &cfg->crl_url)) != 0 ||
		    (rc = url_member(ext, "caTools", "ocspURL",
		    &cfg->ocsp_url)) != 0)
			return rc;
	}
	if ((rc = acme_member(cfg, ext)) != 0)
		return rc;
	/* step-ca's "crl" object: only cacheDuration is used here. */
	if ((rc = ca_json_object(o, "crl", 0, &ext)) == 0) {
		if ((rc = duration_member(ext, "crl", "cacheDuration", 1,
		    366 * 86400, &cfg->crl_validity)) != 0)
			return rc;
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;

	cfg->claims.min_dur = CA_CLAIMS_MIN_DEFAULT;
	cfg->claims.max_dur = CA_CLAIMS_MAX_DEFAULT;
	cfg->claims.default_dur = CA_CLAIMS_DEFAULT_DEFAULT;
	if (auth == NULL)
		return 0;
	/* step-ca's authority.backdate (null: the default). */
	if (json_object_object_get_ex(auth, "backdate", &ext) &&
	    !json_object_is_type(ext, json_type_null) &&
	    (rc = duration_member(auth, "authority", "backdate", 0,
	    CA_BACKDATE_MAX, &cfg->backdate)) != 0)
		return rc;
	if ((rc = ca_json_object(auth, "claims", 0, &claims)) == 0) {
		if ((rc = ca_claims_parse(claims, &cfg->claims)) != 0)
			return rc;
	} else if (rc != CA_ERR_NOTFOUND)
		return rc;
	if ((rc = claims_check(&cfg->claims, "authority")) != 0 ||
	    (rc = ca_policy_parse(json_object_object_get(auth, "policy"),
	    "authority.policy", &cfg->policy)) != 0)
		return rc;
	rc = ca_json_array(auth, "provisioners", 0, &a);
	if (rc == CA_ERR_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	n = json_object_array_length(a);
	if ((cfg->provisioners = calloc(n ? n : 1, sizeof(*cfg->provisioners)))
	    == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		cfg->n_provisioners = i + 1;
		if ((rc = load_provisioner(cfg, json_object_array_get_idx(a, i),
		    &cfg->provisioners[i])) != 0)
			return rc;
	}
	return ca_scep_config_check(cfg);
}

int
ca_config_load(const char *dir, struct ca_config **out)
{
	char *buf = NULL, *path;
	size_t len;
	int rc;

	*out = NULL;
	if ((path = ca_path_join(dir, "config/ca.json")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_file_read(path, CA_MAX_CONFIG, &buf, &len)) != 0) {
		if (rc == CA_ERR_NOTFOUND)
			rc = ca_err(CA_ERR_CONFIG,
			    "%s: no CA here (config/ca.json not found)", dir);
	} else
		rc = ca_config_parse(dir, buf, len, out);
	free(path);
	free(buf);
	return rc;
}

int
ca_config_parse(const char *dir, const char *buf, size_t len,
    struct ca_config **out)
{
	struct ca_config *cfg;
	int rc;

	*out = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((cfg->dir = strdup(dir)) == NULL ||
	    (cfg->path = ca_path_join(dir, "config/ca.json")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_json_parse(buf, len, cfg->path, &cfg->json)) != 0) {
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if ((rc = ca_config_check_fields(cfg->json, &cfg->ignored)) != 0 ||
	    (rc = load(cfg)) != 0) {
		ca_err_context("%s", cfg->path);
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if (cfg->ignored != NULL)
		ca_warn("%s: ignored here (see ca-state(5)): %s", cfg->path,
		    cfg->ignored);
out:
	if (rc != 0)
		ca_config_free(cfg);
	else
		*out = cfg;
	return rc;
}

void
ca_config_free(struct ca_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_provisioners; i++) {
		free(cfg->provisioners[i].name);
		free(cfg->provisioners[i].type);
		free(cfg->provisioners[i].kid);
		ca_jwk_free(cfg->provisioners[i].key);
		ca_policy_free(cfg->provisioners[i].policy);
		ca_certtmpl_free(cfg->provisioners[i].x509_tmpl);
		if (cfg->provisioners[i].impl_free != NULL)
			cfg->provisioners[i].impl_free(cfg->provisioners[i].impl);
	}
	ca_policy_free(cfg->policy);
	free(cfg->provisioners);
	free(cfg->dns_names);
	free(cfg->dir);
	free(cfg->path);
	free(cfg->root);
	free(cfg->crt);
	free(cfg->key);
	free(cfg->root_key);
	free(cfg->upstream_key);
	free(cfg->ra_urls);
	free(cfg->db_dir);
	free(cfg->ignored);
	json_object_put(cfg->json);
	free(cfg);
}

int
ca_config_provisioner(const struct ca_config *cfg, const char *name,
    const char *kid, const struct ca_provisioner **out)
{
	size_t i;

	*out = NULL;
	for (i = 0; i < cfg->n_provisioners; i++) {
		const struct ca_provisioner *p = &cfg->provisioners[i];
		if (strcmp(p->name, name) != 0)
			continue;
		if (kid != NULL && (p->kid == NULL || strcmp(p->kid, kid) != 0))
			continue;
		*out = p;
		return 0;
	}
	if (kid != NULL)
		return ca_err(CA_ERR_NOTFOUND,
		    "no provisioner \"%s\" with key id %s", name, kid);
	return ca_err(CA_ERR_NOTFOUND, "no provisioner \"%s\"", name);
}

int
ca_config_provisioner_of(const struct ca_config *cfg, enum ca_prov_kind kind,
    const char *name, const struct ca_provisioner **out)
{
	size_t i;

	*out = NULL;
	for (i = 0; i < cfg->n_provisioners; i++)
		if (cfg->provisioners[i].kind == kind &&
		    strcmp(cfg->provisioners[i].name, name) == 0) {
			*out = &cfg->provisioners[i];
			return 0;
		}
	return ca_err(CA_ERR_NOTFOUND, "no %s provisioner \"%s\"",
	    ca_prov_kind_name(kind), name);
}

static char *
audience_for(const char *dns, int port, const char *path)
{
	char *s;
	int bracket = strchr(dns, ':') != NULL;	/* an IPv6 literal */

	if (port == 0)
		return asprintf(&s, "https://%s%s%s%s", bracket ? "[" : "", dns,
		    bracket ? "]" : "", path) < 0 ? NULL : s;
	return asprintf(&s, "https://%s%s%s:%d%s", bracket ? "[" : "", dns,
	    bracket ? "]" : "", port, path) < 0 ? NULL : s;
}

char *
ca_config_audience(const struct ca_config *cfg, const char *path)
{
	/* https://host/... rather than https://host:443/... */
	return audience_for(cfg->dns_names[0], cfg->port == 443 ? 0 : cfg->port,
	    path);
}

int
ca_config_audience_ok(const struct ca_config *cfg, const char *path,
    const char *aud)
{
	const char *short_path = path;
	char *a;
	size_t i, j;
	int match;

	/* "/1.0/sign" is also accepted as "/sign", as step-ca does. */
	if (strncmp(path, "/1.0/", 5) == 0)
		short_path = path + 4;
	/* Renew tokens relayed by a registration authority carry its URL. */
	if (strcmp(short_path, "/renew") == 0 || strcmp(short_path, "/rekey") == 0)
		for (i = 0; i < cfg->n_ra_urls; i++) {
			size_t n = strlen(cfg->ra_urls[i]);
			if (strncmp(aud, cfg->ra_urls[i], n) == 0 &&
			    (strcmp(aud + n, path) == 0 ||
			    strcmp(aud + n, short_path) == 0))
				return 1;
		}
	for (i = 0; i < cfg->n_dns_names; i++) {
		/*
		 * j = 0: the configured port; then ca-serve's; then none.
		 * step-ca compares audiences without their ports, and step's
		 * offline tokens carry none (https://HOST/sign): accepted
		 * whatever port the CA is on. A port, when given, must be
		 * one of the CA's.
		 */
		for (j = 0; j <= cfg->n_extra_ports + 1; j++) {
			int port = j == 0 ? cfg->port : j <= cfg->n_extra_ports ?
			    cfg->extra_ports[j - 1] : 0;
			if ((a = audience_for(cfg->dns_names[i], port, path)) == NULL)
				return 0;
			match = strcmp(a, aud) == 0;
			free(a);
			if (match)
				return 1;
			if ((a = audience_for(cfg->dns_names[i], port,
			    short_path)) == NULL)
				return 0;
			match = strcmp(a, aud) == 0;
			free(a);
			if (match)
				return 1;
		}
	}
	return 0;
}

int
ca_config_audience_ok2(const struct ca_config *cfg, const char *path,
    const char *aud, const char **fragment)
{
	const char *h = strchr(aud, '#');
	char *base;
	int ok;

	*fragment = NULL;
	if (h == NULL)
		return ca_config_audience_ok(cfg, path, aud);
	if ((base = strndup(aud, (size_t)(h - aud))) == NULL)
		return 0;
	ok = ca_config_audience_ok(cfg, path, base);
	free(base);
	if (ok)
		*fragment = h + 1;
	return ok;
}
