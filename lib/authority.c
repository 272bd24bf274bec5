/*
 * authority.c - the local authority (ops "local"): a state directory
 * opened in this process; its operations are in authority-issue.c,
 * authority-renew.c, authority-revoke.c and authority-record.c, a
 * registration authority's relay in ra.c. The interface is
 * lib/authority-api.c.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "ca.h"
#include "acme-nonce.h"
#include "authority-local.h"
#include "client.h"
#include "conf.h"
#include "crl.h"
#include "ra.h"
#include "db.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "policy.h"
#include "oidc.h"
#include "store.h"
#include "token.h"
#include "x509.h"

static int
pem_of(gnutls_x509_crt_t crt, gnutls_datum_t *out)
{
	return ca_x509_export(crt, GNUTLS_X509_FMT_PEM, out);
}

static void local_free(struct ca_local *a);
static int load_key(struct ca_local *a, const char *password);
static const struct ca_authority_ops local_ops, config_ops;

static int
open_common(const char *dir, int store, struct ca_local **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	pthread_rwlock_init(&a->cfg_lock, NULL);
	pthread_mutex_init(&a->sign_lock, NULL);
	pthread_mutex_init(&a->store_lock, NULL);
	pthread_mutex_init(&a->acme_lock, NULL);
	if ((rc = ca_status_new(&a->status)) != 0 ||
	    (rc = ca_oidc_cache_new(&a->oidc)) != 0)
		goto fail;
	if ((a->dir = strdup(dir)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_config_load(dir, &a->cfg)) != 0)
		goto fail;
	if ((rc = ca_x509_load(a->cfg->root, &a->root)) != 0 ||
	    (rc = ca_x509_fingerprint(a->root, &a->root_fp)) != 0 ||
	    (rc = pem_of(a->root, &a->root_pem)) != 0)
		goto fail;
	if (!a->cfg->is_ra) {
		if ((rc = ca_x509_load(a->cfg->crt, &a->issuer.crt)) != 0 ||
		    (rc = pem_of(a->issuer.crt, &a->crt_pem)) != 0)
			goto fail;
		a->issuer.not_after =
		    gnutls_x509_crt_get_expiration_time(a->issuer.crt);
		if ((rc = ca_x509_issuer_nc_load(&a->issuer)) != 0)
			goto fail;
	}
	if (!store)
		goto done;
	if ((rc = ca_store_open(a->cfg->db_dir, a->cfg->lock_timeout_ms,
	    &a->store)) != 0 ||
	    (rc = ca_store_group_new(a->store, &a->store_lock, &a->group)) != 0)
		goto fail;
done:
	*out = a;
	return 0;
fail:
	local_free(a);
	return rc;
}

/* The handle for a, which it then owns (a is freed on failure too). */
static int
wrap_ops(const struct ca_authority_ops *ops, struct ca_local *a,
    struct ca_authority **out)
{
	struct ca_authority *h;
	int rc;

	if ((rc = ca_authority_wrap(ops, a, &h)) != 0) {
		local_free(a);
		return rc;
	}
	a->pub = h;
	h->root_pem = a->root_pem;
	h->chain_pem = a->crt_pem;
	h->root_fp = a->root_fp;
	h->dir = a->dir;
	h->cfg = a->cfg;
	*out = h;
	return 0;
}

static int
wrap(struct ca_local *a, struct ca_authority **out)
{
	return wrap_ops(&local_ops, a, out);
}

int
ca_authority_open_public(const char *dir, struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, 1, &a)) != 0)
		return rc;
	return wrap(a, out);
}

int
ca_authority_open_config(const char *dir, struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, 0, &a)) != 0)
		return rc;
	return wrap_ops(&config_ops, a, out);
}

int
ca_authority_open(const char *dir, const char *password,
    struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, 1, &a)) != 0)
		return rc;
	if (a->cfg->is_ra) {
		rc = ca_err(CA_ERR_CONFIG,
		    "%s is a registration authority: it holds no CA key (use --ca-url)",
		    dir);
		goto fail;
	}
	if ((rc = load_key(a, password)) != 0)
		goto fail;
	return wrap(a, out);
fail:
	local_free(a);
	return rc;
}

int
ca_authority_open_server(const char *dir, const char *password,
    const char *upstream_password, struct ca_authority **out)
{
	struct ca_local *a;
	int rc;

	*out = NULL;
	if ((rc = open_common(dir, 1, &a)) != 0)
		return rc;
	if (a->cfg->is_ra)
		rc = ca_upstream_open(a, upstream_password,
		    upstream_password != NULL ? strlen(upstream_password) : 0,
		    &a->upstream);
	else
		rc = load_key(a, password);
	if (rc != 0) {
		local_free(a);
		return rc;
	}
	return wrap(a, out);
}

/* The intermediate's key, checked against its certificate. */
static int
load_key(struct ca_local *a, const char *password)
{
	gnutls_pubkey_t pub = NULL;
	int rc, ret;

	if ((rc = ca_key_open(a->cfg->key, a->cfg->kms_uri, password,
	    &a->issuer.key)) != 0) {
		if (rc == CA_ERR_AUTH && password == NULL)
			ca_err(CA_ERR_AUTH,
			    "%s: the intermediate key is encrypted: give --password-file",
			    a->cfg->key);
		goto fail;
	}
	/* The key must be the one the intermediate certificate certifies. */
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, a->issuer.key, 0, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto fail;
	}
	{
		gnutls_pubkey_t cpub = NULL;
		int same = gnutls_pubkey_init(&cpub) >= 0 &&
		    gnutls_pubkey_import_x509(cpub, a->issuer.crt, 0) >= 0 &&
		    ca_pubkey_same(pub, cpub) == 1;
		gnutls_pubkey_deinit(cpub);
		if (!same) {
			rc = ca_err(CA_ERR_CONFIG,
			    "%s does not match the certificate %s", a->cfg->key,
			    a->cfg->crt);
			goto fail;
		}
	}
	a->issuer.dig = ca_key_digest(a->issuer.key);
	gnutls_pubkey_deinit(pub);
	return 0;
fail:
	gnutls_pubkey_deinit(pub);
	return rc;
}

static void
local_free(struct ca_local *a)
{
	if (a == NULL)
		return;
	ca_status_free(a->status);
	acme_nonces_close(a->acme_nonces);
	ca_oidc_cache_free(a->oidc);
	ca_upstream_free(a->upstream);
	ca_store_group_free(a->group);
	ca_store_close(a->store);
	if (a->issuer.key != NULL)
		gnutls_privkey_deinit(a->issuer.key);
	if (a->issuer.nc != NULL)
		gnutls_x509_name_constraints_deinit(a->issuer.nc);
	if (a->issuer.crt != NULL)
		gnutls_x509_crt_deinit(a->issuer.crt);
	if (a->root != NULL)
		gnutls_x509_crt_deinit(a->root);
	gnutls_free(a->root_pem.data);
	gnutls_free(a->crt_pem.data);
	free(a->root_fp);
	ca_config_free(a->cfg);
	free(a->dir);
	pthread_rwlock_destroy(&a->cfg_lock);
	pthread_mutex_destroy(&a->sign_lock);
	pthread_mutex_destroy(&a->store_lock);
	pthread_mutex_destroy(&a->acme_lock);
	free(a);
}

static void
apply_ports(struct ca_local *a)
{
	size_t i;

	a->cfg->n_extra_ports = 0;
	for (i = 0; i < a->n_ports && i < CA_MAX_PORTS; i++)
		a->cfg->extra_ports[a->cfg->n_extra_ports++] = a->ports[i];
}

static void
local_set_ports(struct ca_authority *ah, const int *ports, size_t n)
{
	struct ca_local *a = ah->impl;
	size_t i;

	pthread_rwlock_wrlock(&a->cfg_lock);
	a->n_ports = 0;
	for (i = 0; i < n && i < CA_MAX_PORTS; i++)
		a->ports[a->n_ports++] = ports[i];
	apply_ports(a);
	pthread_rwlock_unlock(&a->cfg_lock);
}

void
ca_local_oidc_prepare(struct ca_local *a, const char *tok, size_t len)
{
	char *url = NULL, *kid = NULL;
	int rc;

	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = ca_oidc_want(a->cfg, tok, len, &url, &kid);
	pthread_rwlock_unlock(&a->cfg_lock);
	/* The cache is keyed by discovery URL: a reload that keeps a
	 * provisioner's endpoint keeps its keys. */
	if (rc == 0 && url != NULL &&
	    ca_oidc_refresh(a->oidc, url, kid, time(NULL)) != 0)
		ca_debug("OIDC: %s", ca_errmsg());
	ca_err_clear();
	free(url);
	free(kid);
}

static int
local_reload(struct ca_authority *ah)
{
	struct ca_local *a = ah->impl;
	struct ca_config *cfg, *old;
	int rc;

	if ((rc = ca_config_load(a->dir, &cfg)) != 0)
		return rc;
	pthread_rwlock_wrlock(&a->cfg_lock);
	old = a->cfg;
	a->cfg = cfg;
	ah->cfg = cfg;
	apply_ports(a);
	pthread_rwlock_unlock(&a->cfg_lock);
	ca_config_free(old);
	return 0;
}

#define REDACTED	"*** REDACTED ***"
#define REDACTED_B64	"KioqIFJFREFDVEVEICoqKg=="	/* a Go []byte of it */

/*
 * A provisioner as the API shows it: its ca.json entry, as step-ca does,
 * secrets redacted as its api.ProvisionersResponse does: a SCEP
 * provisioner's challenge and decrypter members always read REDACTED.
 * Webhook credentials, which step-ca never shows (json:"-"), are left out.
 * Returns a new reference, or NULL when out of memory.
 */
static struct json_object *
provisioner_public(struct json_object *p)
{
	static const char *const scep_str[] = {
		"challenge", "decrypterKey", "decrypterKeyPassword", NULL
	};
	static const char *const scep_bytes[] = {
		"decrypterCertificate", "decrypterKeyPEM", NULL
	};
	static const char *const hook_secrets[] = {
		"secret", "bearerToken", "basicAuth", NULL
	};
	struct json_object *c, *v, *hooks;
	const char *type = NULL;
	size_t i, j, n;
	int scep;

	if (ca_json_string(p, "type", 0, &type) != 0)
		type = NULL;
	scep = type != NULL && strcasecmp(type, "SCEP") == 0;
	hooks = NULL;
	if (ca_json_object(p, "options", 0, &v) == 0 &&
	    ca_json_array(v, "webhooks", 0, &hooks) != 0)
		hooks = NULL;
	ca_err_clear();
	if (!scep && hooks == NULL)
		return json_object_get(p);
	c = NULL;
	if (json_object_deep_copy(p, &c, NULL) != 0)
		return NULL;
	if (scep) {
		for (i = 0; scep_str[i] != NULL; i++)
			if (json_object_object_add(c, scep_str[i],
			    json_object_new_string(REDACTED)) != 0)
				goto fail;
		for (i = 0; scep_bytes[i] != NULL; i++)
			if (json_object_object_add(c, scep_bytes[i],
			    json_object_new_string(REDACTED_B64)) != 0)
				goto fail;
	}
	if (hooks != NULL &&
	    ca_json_object(c, "options", 0, &v) == 0 &&
	    ca_json_array(v, "webhooks", 0, &hooks) == 0) {
		n = json_object_array_length(hooks);
		for (i = 0; i < n; i++) {
			v = json_object_array_get_idx(hooks, i);
			if (!json_object_is_type(v, json_type_object))
				continue;
			for (j = 0; hook_secrets[j] != NULL; j++)
				json_object_object_del(v, hook_secrets[j]);
		}
	}
	ca_err_clear();
	return c;
fail:
	json_object_put(c);
	return NULL;
}

static int
local_provisioners(struct ca_authority *ah, const char *cursor,
    size_t limit, char **json)
{
	struct ca_local *a = ah->impl;
	struct json_object *o = NULL, *list = NULL, *all;
	size_t i, n, start = 0;
	char next[32] = "";
	int rc = 0;

	*json = NULL;
	if (cursor != NULL && cursor[0] != '\0') {
		char *end;
		unsigned long v = strtoul(cursor, &end, 10);
		if (*end != '\0' || !(cursor[0] >= '0' && cursor[0] <= '9'))
			return ca_err(CA_ERR_INVAL, "invalid cursor");
		start = v;
	}
	if (limit == 0 || limit > 100)
		limit = limit == 0 ? 20 : 100;
	pthread_rwlock_rdlock(&a->cfg_lock);
	if ((o = json_object_new_object()) == NULL ||
	    (list = json_object_new_array()) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	n = 0;
	if (ca_json_object(a->cfg->json, "authority", 0, &all) == 0 &&
	    ca_json_array(all, "provisioners", 0, &all) == 0) {
		n = json_object_array_length(all);
		for (i = start; i < n && i < start + limit; i++) {
			struct json_object *p = provisioner_public(
			    json_object_array_get_idx(all, i));
			if (p == NULL || json_object_array_add(list, p) != 0) {
				json_object_put(p);
				rc = ca_err(CA_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (start + limit < n)
		snprintf(next, sizeof(next), "%zu", start + limit);
	json_object_object_add(o, "provisioners", list);
	list = NULL;
	json_object_object_add(o, "nextCursor", json_object_new_string(next));
	if ((*json = ca_json_dump(o)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	pthread_rwlock_unlock(&a->cfg_lock);
	json_object_put(list);
	json_object_put(o);
	return rc;
}

static int
local_encrypted_key(struct ca_authority *ah, const char *kid,
    char **jwe)
{
	struct ca_local *a = ah->impl;
	size_t i;
	int rc = CA_ERR_NOTFOUND;

	*jwe = NULL;
	pthread_rwlock_rdlock(&a->cfg_lock);
	for (i = 0; i < a->cfg->n_provisioners; i++) {
		const struct ca_provisioner *p = &a->cfg->provisioners[i];
		if (p->kid == NULL || strcmp(p->kid, kid) != 0)
			continue;
		if (p->encrypted_key == NULL)
			break;
		rc = (*jwe = strdup(p->encrypted_key)) != NULL ? 0 :
		    ca_err(CA_ERR_NOMEM, "out of memory");
		break;
	}
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc == CA_ERR_NOTFOUND)
		ca_err(rc, "no provisioner with an encrypted key has kid %s", kid);
	return rc;
}

static int
local_provisioner(struct ca_authority *ah, const char *name, int want_key,
    const struct ca_provisioner **out)
{
	struct ca_local *a = ah->impl;
	const struct ca_provisioner *p = NULL;
	size_t i, n_jwk = 0;
	int rc;

	(void)want_key;		/* encryptedKey, if any, is in ca.json */
	if (name != NULL) {
		if ((rc = ca_config_provisioner(a->cfg, name, NULL, &p)) != 0)
			return rc;
		if (strcmp(p->type, "JWK") != 0)
			return ca_err(CA_ERR_INVAL,
			    "provisioner \"%s\" is of type %s, not JWK", name,
			    p->type);
		*out = p;
		return 0;
	}
	for (i = 0; i < a->cfg->n_provisioners; i++)
		if (strcmp(a->cfg->provisioners[i].type, "JWK") == 0 &&
		    n_jwk++ == 0)
			p = &a->cfg->provisioners[i];
	if (p == NULL)
		return ca_err(CA_ERR_NOTFOUND, "the CA has no JWK provisioner");
	if (n_jwk > 1)
		return ca_err(CA_ERR_INVAL,
		    "the CA has %zu JWK provisioners: name one with --provisioner",
		    n_jwk);
	*out = p;
	return 0;
}

static int
local_audience(struct ca_authority *ah, const char *path, char **out)
{
	struct ca_local *a = ah->impl;

	if ((*out = ca_config_audience(a->cfg, path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

#define CA_SERVER_CERT_LIFETIME	(24 * 3600)	/* seconds */

static int
local_server_cert(struct ca_authority *ah, char **pem, size_t *len,
    time_t *not_before, time_t *not_after)
{
	struct ca_local *a = ah->impl;
	struct ca_provisioner internal;
	struct ca_names names;
	gnutls_pubkey_t pub = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_x509_privkey_t x = NULL;
	gnutls_datum_t kpem = { NULL, 0 }, cpem = { NULL, 0 };
	char *serial = NULL;
	time_t now = time(NULL);
	int rc, ret;

	*pem = NULL;
	*len = 0;
	memset(&names, 0, sizeof(names));
	memset(&internal, 0, sizeof(internal));
	internal.name = (char *)(uintptr_t)CA_INTERNAL_PROVISIONER;
	internal.type = (char *)(uintptr_t)CA_INTERNAL_TYPE;
	internal.kid = (char *)(uintptr_t)"-";
	pthread_rwlock_rdlock(&a->cfg_lock);
	rc = ca_names_classify(a->cfg->dns_names, a->cfg->n_dns_names, &names);
	/*
	 * step-ca's: 24 h whatever the claims (authority/tls.go); an RA's
	 * as its upstream's provisioner allows, the default duration.
	 */
	*not_before = now - a->cfg->backdate;
	*not_after = now + (a->upstream != NULL ?
	    a->cfg->claims.default_dur : CA_SERVER_CERT_LIFETIME) - 1;
	pthread_rwlock_unlock(&a->cfg_lock);
	if (rc != 0)
		goto out;
	if (*not_after > a->issuer.not_after)
		*not_after = a->issuer.not_after;
	if (a->upstream != NULL) {
		rc = ca_local_ra_server_cert(a, &internal, &names, *not_before,
		    *not_after, now, pem, len);
		goto out;
	}
	/* The TLS key is always EC P-256: fast handshakes, any client. */
	if ((rc = ca_key_generate(CA_KEY_EC_P256, &x)) != 0 ||
	    (rc = ca_key_export(x, NULL, &kpem)) != 0 ||
	    (rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((ret = gnutls_pubkey_init(&pub)) < 0 ||
	    (ret = gnutls_pubkey_import_privkey(pub, k, 0, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	{
		struct ca_leaf leaf = { names.n_dns ? names.dns[0] : NULL, &names,
		    pub, *not_before, *not_after, NULL, NULL, 0, NULL, NULL, NULL };
		if ((rc = ca_local_issue_and_record(a, &internal, &leaf, NULL, 0, now,
		    &cpem, &serial)) != 0)
			goto out;
	}
	*len = kpem.size + cpem.size + a->crt_pem.size;
	if ((*pem = malloc(*len + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*pem, kpem.data, kpem.size);
	memcpy(*pem + kpem.size, cpem.data, cpem.size);
	memcpy(*pem + kpem.size + cpem.size, a->crt_pem.data, a->crt_pem.size);
	(*pem)[*len] = '\0';
	rc = 0;
out:
	if (kpem.data != NULL) {
		ca_wipe(kpem.data, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	gnutls_privkey_deinit(k);
	gnutls_pubkey_deinit(pub);
	ca_names_free(&names);
	free(serial);
	return rc;
}

static int
local_crl(struct ca_authority *ah, time_t now, int fresh,
    struct ca_db_crl *out)
{
	return ca_local_crl(ah->impl, now, fresh, out);
}

static int
local_ocsp(struct ca_authority *ah, const void *der, size_t len, time_t now,
    gnutls_datum_t *resp, time_t *next_update)
{
	return ca_local_ocsp(ah->impl, der, len, now, resp, next_update);
}

static void
local_ocsp_stats(struct ca_authority *ah, unsigned long *hits,
    unsigned long *built)
{
	ca_local_ocsp_stats(ah->impl, hits, built);
}

static void
local_commit_stats(struct ca_authority *ah, unsigned long *issuances,
    unsigned long *commits)
{
	struct ca_local *a = ah->impl;

	ca_store_group_stats(a->group, commits, issuances);
}

/* A read-only transaction on the store, for ca-db's reads. */
static struct ca_store *
read_begin(struct ca_local *a, int *rc)
{
	pthread_mutex_lock(&a->store_lock);
	if ((*rc = ca_store_begin(a->store, 0)) != 0) {
		pthread_mutex_unlock(&a->store_lock);
		return NULL;
	}
	return a->store;
}

static int
read_end(struct ca_local *a, int rc)
{
	ca_store_abort(a->store);
	pthread_mutex_unlock(&a->store_lock);
	return rc;
}

static int
local_db_list(struct ca_authority *ah, struct ca_cert_info **v, size_t *n)
{
	struct ca_local *a = ah->impl;
	struct ca_store *st;
	int rc;

	if ((st = read_begin(a, &rc)) == NULL)
		return rc;
	return read_end(a, ca_db_list(st, v, n));
}

static int
local_db_get(struct ca_authority *ah, const char *serial,
    struct ca_cert_info *ci)
{
	struct ca_local *a = ah->impl;
	struct ca_store *st;
	int rc;

	if ((st = read_begin(a, &rc)) == NULL)
		return rc;
	return read_end(a, ca_db_get(st, serial, ci));
}

/*
 * Valid certificates the policy of today denies (issued before it was
 * tightened): a warning each, not a problem of the database.
 */
static void
policy_warnings(struct ca_local *a, struct ca_store *st,
    void (*report)(void *, const char *), void *arg)
{
	struct ca_cert_info *v = NULL;
	time_t now = time(NULL);
	char line[640];
	size_t n = 0, i;

	if (ca_db_list(st, &v, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(ca_cert_info_status(&v[i], now), "valid") == 0 &&
		    ca_policy_check_cert(a->cfg, v[i].provisioner, v[i].der,
		    v[i].der_len) != 0) {
			snprintf(line, sizeof(line), "warning: %s: %s",
			    v[i].serial, ca_errmsg());
			report(arg, line);
		}
		ca_cert_info_free(&v[i]);
	}
	free(v);
	ca_err_clear();
}

static int
local_db_check(struct ca_authority *ah, void (*report)(void *, const char *),
    void *arg, size_t *problems, size_t *certs)
{
	struct ca_local *a = ah->impl;
	struct ca_store *st;
	int rc;

	if ((st = read_begin(a, &rc)) == NULL)
		return rc;
	if ((rc = ca_db_check(st, a->issuer.crt, report, arg, problems,
	    certs)) == 0 && ca_policy_any(a->cfg))
		policy_warnings(a, st, report, arg);
	return read_end(a, rc);
}

static void
local_close(struct ca_authority *ah)
{
	local_free(ah->impl);
}

static const struct ca_authority_ops local_ops = {
	.kind = "local",
	.sign = ca_local_sign,
	.renew = ca_local_renew,
	.revoke = ca_local_revoke,
	.provisioners = local_provisioners,
	.encrypted_key = local_encrypted_key,
	.server_cert = local_server_cert,
	.crl = local_crl,
	.ocsp = local_ocsp,
	.ocsp_stats = local_ocsp_stats,
	.commit_stats = local_commit_stats,
	.reload = local_reload,
	.set_ports = local_set_ports,
	.db_list = local_db_list,
	.db_get = local_db_get,
	.db_check = local_db_check,
	.close = local_close,
	.provisioner = local_provisioner,
	.audience = local_audience,
	.acme = ca_local_acme,
	.acme_validated = ca_local_acme_validated,
	.scep = ca_local_scep,
};

/* The configuration alone: nothing here opens the store. */
static const struct ca_authority_ops config_ops = {
	.kind = "local",
	.provisioners = local_provisioners,
	.encrypted_key = local_encrypted_key,
	.close = local_close,
	.provisioner = local_provisioner,
	.audience = local_audience,
};
