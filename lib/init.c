/*
 * init.c - creating a CA: keys, certificates, provisioner, ca.json, db/.
 *
 * Everything is built in a temporary directory next to the target and
 * renamed into place at the end, so a failure leaves nothing behind and
 * a reader never sees half a CA.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "certtmpl.h"
#include "token.h"
#include "client.h"
#include "authority.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "pkcs11.h"
#include "provisioner.h"
#include "store.h"
#include "x509.h"

#define CA_YEARS	10

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A target that does not exist or is an empty directory is fine. */
static int
check_target(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return ca_err(CA_ERR_IO, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return ca_err(CA_ERR_EXISTS,
		    "%s already exists and is not empty: refusing to touch it",
		    dir);
	return 0;
}

static int
write_key(const char *dir, const char *rel, gnutls_x509_privkey_t key,
    const char *password)
{
	gnutls_datum_t pem = { NULL, 0 };
	char *path;
	int rc;

	if ((path = ca_path_join(dir, rel)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_key_export(key, password, &pem)) == 0)
		rc = ca_file_publish(path, pem.data, pem.size, 0600,
		    CA_PUBLISH_NEW);
	if (pem.data != NULL) {
		ca_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	free(path);
	return rc;
}

static int
write_cert(const char *dir, const char *rel, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = { NULL, 0 };
	char *path;
	int rc;

	if ((path = ca_path_join(dir, rel)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_x509_export(crt, GNUTLS_X509_FMT_PEM, &pem)) == 0)
		rc = ca_file_publish(path, pem.data, pem.size, 0644,
		    CA_PUBLISH_NEW);
	gnutls_free(pem.data);
	free(path);
	return rc;
}

static struct json_object *
jstr(const char *s)
{
	return json_object_new_string(s);
}

/* The names of the CA keys in ca.json, and the kms block. */
struct keys_conf {
	const char	*kms;		/* kms.uri, or NULL */
	const char	*root_key;	/* file (relative) or pkcs11: URI */
	const char	*int_key;
};

static int
make_config(const struct ca_init_opts *o, struct json_object *prov,
    const char *key_type, const struct keys_conf *kc, char **out)
{
	struct json_object *c, *dns, *db, *auth, *claims, *provs, *ext, *logger;
	size_t i;

	*out = NULL;
	c = json_object_new_object();
	dns = json_object_new_array();
	db = json_object_new_object();
	auth = json_object_new_object();
	claims = json_object_new_object();
	provs = json_object_new_array();
	ext = json_object_new_object();
	logger = json_object_new_object();
	if (c == NULL || dns == NULL || db == NULL || auth == NULL ||
	    claims == NULL || provs == NULL || ext == NULL || logger == NULL) {
		json_object_put(c);
		json_object_put(dns);
		json_object_put(db);
		json_object_put(auth);
		json_object_put(claims);
		json_object_put(provs);
		json_object_put(ext);
		json_object_put(logger);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < o->n_dns; i++)
		json_object_array_add(dns, jstr(o->dns[i]));
	json_object_object_add(c, "root", jstr("certs/root_ca.crt"));
	json_object_object_add(c, "federatedRoots", NULL);
	if (o->ra_url == NULL) {
		json_object_object_add(c, "crt",
		    jstr("certs/intermediate_ca.crt"));
		json_object_object_add(c, "key", jstr(kc->int_key));
	}
	if (kc->kms != NULL) {
		struct json_object *kms = json_object_new_object();

		if (kms == NULL) {
			json_object_put(c);
			json_object_put(auth);
			json_object_put(ext);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		json_object_object_add(kms, "type", jstr("pkcs11"));
		json_object_object_add(kms, "uri", jstr(kc->kms));
		json_object_object_add(c, "kms", kms);
	}
	json_object_object_add(c, "address", jstr(o->address));
	json_object_object_add(c, "insecureAddress", jstr(""));
	json_object_object_add(c, "dnsNames", dns);
	json_object_object_add(logger, "format", jstr("text"));
	json_object_object_add(c, "logger", logger);
	json_object_object_add(db, "type", jstr("gdbm"));
	json_object_object_add(db, "dataSource", jstr("db"));
	json_object_object_add(c, "db", db);
	json_object_object_add(claims, "minTLSCertDuration", jstr("5m0s"));
	json_object_object_add(claims, "maxTLSCertDuration", jstr("24h0m0s"));
	json_object_object_add(claims, "defaultTLSCertDuration", jstr("24h0m0s"));
	json_object_object_add(claims, "disableRenewal",
	    json_object_new_boolean(0));
	json_object_object_add(claims, "allowRenewalAfterExpiry",
	    json_object_new_boolean(0));
	json_object_object_add(auth, "claims", claims);
	json_object_array_add(provs, json_object_get(prov));
	if (o->acme) {
		/* As step ca init --acme: {"type": "ACME", "name": "acme"}. */
		struct json_object *ap = json_object_new_object();

		json_object_object_add(ap, "type", jstr("ACME"));
		json_object_object_add(ap, "name", jstr("acme"));
		json_object_array_add(provs, ap);
	}
	json_object_object_add(auth, "provisioners", provs);
	if (o->ra_url != NULL) {
		/* step-ca's StepCAS registration authority. */
		struct json_object *iss = json_object_new_object();

		if (iss == NULL) {
			json_object_put(c);
			json_object_put(auth);
			json_object_put(ext);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		json_object_object_add(auth, "type", jstr("stepcas"));
		json_object_object_add(auth, "certificateAuthority",
		    jstr(o->ra_url));
		json_object_object_add(auth, "certificateAuthorityFingerprint",
		    jstr(o->ra_fingerprint));
		json_object_object_add(iss, "type", jstr("jwk"));
		json_object_object_add(iss, "provisioner",
		    jstr(o->ra_provisioner));
		json_object_object_add(auth, "certificateIssuer", iss);
	}
	json_object_object_add(c, "authority", auth);
	json_object_object_add(ext, "keyType", jstr(key_type));
	if (o->ra_url == NULL)
		json_object_object_add(ext, "rootKey", jstr(kc->root_key));
	json_object_object_add(ext, "lockTimeout", jstr("10s"));
	json_object_object_add(c, "caTools", ext);
	*out = ca_json_dump_pretty(c);
	json_object_put(c);
	return *out != NULL ? 0 : ca_err(CA_ERR_NOMEM, "out of memory");
}

/*
 * A registration authority: the upstream's root, fetched by fingerprint
 * (what ca-bootstrap does), into certs/root_ca.crt; and a check that the
 * upstream provisioner exists and its key opens with the password given,
 * so that a mistake shows now, not when ca-serve starts.
 */
static int
ra_fetch_root(const struct ca_init_opts *o, const char *tmp,
    gnutls_x509_crt_t *root)
{
	struct ca_remote_provisioner *rp = NULL;
	struct ca_client *c = NULL;
	struct ca_jwk *key = NULL;
	char *pem = NULL, *path = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ca_client_bootstrap(o->ra_url, o->ra_fingerprint, &pem,
	    &len)) != 0)
		return rc;
	if ((path = ca_path_join(tmp, "certs/root_ca.crt")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_file_publish(path, pem, len, 0644, CA_PUBLISH_NEW)) != 0 ||
	    (rc = ca_x509_import(pem, len, root)) != 0 ||
	    (rc = ca_client_open(o->ra_url, path, &c)) != 0)
		goto out;
	if ((rc = ca_client_provisioner(c, o->ra_provisioner, 1, &rp)) != 0 ||
	    (rc = ca_token_provisioner_key(&rp->prov, o->ra_password,
	    strlen(o->ra_password), NULL, &key)) != 0) {
		ca_err_context("upstream provisioner %s", o->ra_provisioner);
		goto out;
	}
out:
	ca_jwk_free(key);
	ca_client_provisioner_free(rp);
	ca_client_close(c);
	free(path);
	free(pem);
	return rc;
}

static int
check_opts(const struct ca_init_opts *o, enum ca_key_type *kt)
{
	struct ca_names names;
	int rc, port;

	if (o->name == NULL || o->name[0] == '\0')
		return ca_err(CA_ERR_INVAL, "the CA needs a name (--name)");
	if (o->n_dns == 0)
		return ca_err(CA_ERR_INVAL, "the CA needs a DNS name (--dns)");
	if ((rc = ca_names_classify(o->dns, o->n_dns, &names)) != 0)
		return rc;
	if (names.n_email > 0 || names.n_uri > 0)
		rc = ca_err(CA_ERR_INVAL, "--dns takes DNS names and IP addresses");
	ca_names_free(&names);
	if (rc != 0)
		return rc;
	if (o->address == NULL || ca_address_parse(o->address, &port) != 0)
		return ca_err(CA_ERR_INVAL, "--address must be [HOST]:PORT");
	if (o->provisioner == NULL || o->provisioner[0] == '\0')
		return ca_err(CA_ERR_INVAL,
		    "the CA needs a provisioner name (--provisioner)");
	if ((o->password == NULL && o->ra_url == NULL) ||
	    o->prov_password == NULL)
		return ca_err(CA_ERR_INVAL, "passwords are required");
	if (o->ra_url != NULL && (o->ra_fingerprint == NULL ||
	    o->ra_provisioner == NULL || o->ra_password == NULL))
		return ca_err(CA_ERR_INVAL, "a registration authority needs "
		    "the upstream's URL, root fingerprint, provisioner and "
		    "its password");
	if (o->ra_url != NULL && (o->root_template != NULL ||
	    o->int_template != NULL))
		return ca_err(CA_ERR_INVAL, "a registration authority makes no "
		    "CA certificates (--root-template, --intermediate-template)");
	*kt = CA_KEY_EC_P256;
	if (o->key_type != NULL)
		return ca_key_type_parse(o->key_type, kt);
	return 0;
}

/*
 * The CA templates, rendered and checked before any key is made: the
 * intermediate's path length must fit under the root's (defaults:
 * step's, root 1, intermediate 0).
 */
static int
load_templates(const struct ca_init_opts *o, const char *rootcn,
    const char *intcn, struct ca_certtmpl_cert **rt,
    struct ca_certtmpl_cert **it)
{
	int rc, rpl, ipl;

	if ((o->root_template != NULL && (rc = ca_certtmpl_ca_file(
	    o->root_template, rootcn, o->name, rt)) != 0) ||
	    (o->int_template != NULL && (rc = ca_certtmpl_ca_file(
	    o->int_template, intcn, o->name, it)) != 0))
		return rc;
	rpl = *rt != NULL ? (*rt)->max_path_len : 1;
	ipl = *it != NULL ? (*it)->max_path_len : 0;
	if (rpl == 0)
		return ca_err(CA_ERR_FORBIDDEN, "%s: maxPathLen 0 leaves no "
		    "room for the intermediate", o->root_template);
	if (rpl > 0 && (ipl < 0 || ipl > rpl - 1))
		return ca_err(CA_ERR_FORBIDDEN, ipl < 0 ? "the intermediate's "
		    "maxPathLen (no limit) exceeds the root's constraint "
		    "(maxPathLen %d)" : "the intermediate's maxPathLen %d "
		    "exceeds the root's constraint (maxPathLen %d)", ipl < 0 ?
		    rpl : ipl, rpl);
	return 0;
}

/* A CA key: on the token (*uri set), or in memory (*x, written later). */
static int
make_key(const struct ca_init_opts *o, enum ca_key_type kt, const char *label,
    gnutls_x509_privkey_t *x, char **uri, gnutls_privkey_t *k)
{
	int rc;

	if (o->kms != NULL)
		return ca_pkcs11_key_generate(kt, label, uri, k);
	if ((rc = ca_key_generate(kt, x)) != 0)
		return rc;
	return ca_key_wrap(*x, 0, k);
}

int
ca_init_create(const struct ca_init_opts *o, char **root_fp)
{
	gnutls_x509_privkey_t rootx = NULL, intx = NULL;
	gnutls_privkey_t rootk = NULL, intk = NULL;
	gnutls_x509_crt_t rootc = NULL, intc = NULL;
	struct json_object *prov = NULL;
	struct ca_store *st = NULL;
	struct ca_issuer parent;
	struct ca_certtmpl_cert *rt = NULL, *it = NULL;
	enum ca_key_type kt;
	char *tmp = NULL, *copy = NULL, *conf = NULL, *path = NULL;
	char *rootcn = NULL, *intcn = NULL;
	char *root_uri = NULL, *int_uri = NULL, *kms = NULL;
	struct keys_conf kc = { NULL, "secrets/root_ca_key",
	    "secrets/intermediate_ca_key" };
	int wrote_key = 0, token = 0;
	time_t now = time(NULL), nb = now - 60,
	    na = now + (time_t)CA_YEARS * 365 * 86400 + 2 * 86400;
	int rc;

	*root_fp = NULL;
	if ((rc = check_opts(o, &kt)) != 0 || (rc = check_target(o->dir)) != 0)
		return rc;
	/* Root and intermediate, named as step names them. */
	if (o->ra_url == NULL && (asprintf(&rootcn, "%s Root CA",
	    o->name) < 0 || asprintf(&intcn, "%s Intermediate CA",
	    o->name) < 0)) {
		free(rootcn);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	if ((rc = load_templates(o, rootcn, intcn, &rt, &it)) != 0)
		goto out;
	if ((copy = strdup(o->dir)) == NULL ||
	    asprintf(&tmp, "%s.init-XXXXXX", o->dir) < 0) {
		free(copy);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	if (mkdtemp(tmp) == NULL) {
		rc = ca_err(CA_ERR_IO, "%s: cannot create: %s", o->dir,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if ((rc = ca_mkdir_p(tmp, 0700)) != 0)
		goto out;
#define SUB(rel) do {							\
	free(path);							\
	if ((path = ca_path_join(tmp, rel)) == NULL) {			\
		rc = ca_err(CA_ERR_NOMEM, "out of memory");		\
		goto out;						\
	}								\
	if ((rc = ca_mkdir_p(path, 0700)) != 0)				\
		goto out;						\
} while (0)
	SUB("config");
	SUB("certs");
	SUB("secrets");
	SUB("db");
#undef SUB
	if (o->ra_url != NULL) {
		if ((rc = ra_fetch_root(o, tmp, &rootc)) != 0)
			goto out;
		goto config;
	}
	if (o->kms != NULL) {
		if (o->kms_pin_file != NULL && (rc = ca_pkcs11_kms_with_pin(
		    o->kms, o->kms_pin_file, &kms)) != 0)
			goto out;
		if ((rc = ca_pkcs11_login(o->kms, o->kms_pin_file)) != 0)
			goto out;
		token = 1;
		kc.kms = kms != NULL ? kms : o->kms;
	}
	if ((rc = make_key(o, kt, "root_ca_key", &rootx, &root_uri,
	    &rootk)) != 0 ||
	    (rc = rt != NULL ? ca_x509_make_ca_profile(rootk, &rt->profile,
	    nb, na, NULL, &rootc) : ca_x509_make_ca(rootk, o->name, rootcn, 1,
	    nb, na, NULL, &rootc)) != 0)
		goto out;
	parent.crt = rootc;
	parent.key = rootk;
	parent.dig = ca_key_digest(rootk);
	parent.not_after = na;
	if ((rc = make_key(o, kt, "intermediate_ca_key", &intx, &int_uri,
	    &intk)) != 0 ||
	    (rc = it != NULL ? ca_x509_make_ca_profile(intk, &it->profile,
	    nb, na, &parent, &intc) : ca_x509_make_ca(intk, o->name, intcn, 0,
	    nb, na, &parent, &intc)) != 0)
		goto out;
	if (o->kms != NULL) {
		kc.root_key = root_uri;
		kc.int_key = int_uri;
	} else if ((rc = write_key(tmp, "secrets/root_ca_key", rootx,
	    o->password)) != 0 ||
	    (rc = write_key(tmp, "secrets/intermediate_ca_key", intx,
	    o->unencrypted_intermediate ? NULL : o->password)) != 0)
		goto out;
	if ((rc = write_cert(tmp, "certs/root_ca.crt", rootc)) != 0 ||
	    (rc = write_cert(tmp, "certs/intermediate_ca.crt", intc)) != 0)
		goto out;
config:
	/* Provisioner and configuration. */
	if ((rc = ca_provisioner_jwk_new(o->provisioner, o->prov_password,
	    strlen(o->prov_password), o->p2c, o->prov_key_out, &prov,
	    &wrote_key)) != 0 ||
	    (rc = make_config(o, prov, ca_key_type_name(kt), &kc, &conf)) != 0)
		goto out;
	free(path);
	if ((path = ca_path_join(tmp, "config/ca.json")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_file_publish(path, conf, strlen(conf), 0600,
	    CA_PUBLISH_NEW)) != 0)
		goto out;
	/* An empty database, so that readers find one. */
	free(path);
	if ((path = ca_path_join(tmp, "db")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_store_open(path, 1000, &st)) != 0 ||
	    (rc = ca_store_begin(st, 1)) != 0 || (rc = ca_store_commit(st)) != 0)
		goto out;
	ca_store_close(st);
	st = NULL;
	if ((rc = ca_x509_fingerprint(rootc, root_fp)) != 0)
		goto out;
	/* Publish: rename replaces a missing or empty directory. */
	if (rename(tmp, o->dir) != 0) {
		rc = ca_err(errno == ENOTEMPTY || errno == EEXIST ?
		    CA_ERR_EXISTS : CA_ERR_IO, "%s: %s", o->dir, strerror(errno));
		goto out;
	}
	{
		int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	free(tmp);
	tmp = NULL;
	rc = 0;
out:
	if (rc != 0) {
		free(*root_fp);
		*root_fp = NULL;
		if (wrote_key)
			unlink(o->prov_key_out);
		/* Keys made on the token for a CA that is not there; the
		 * message stays the one that says why. */
		if (root_uri != NULL || int_uri != NULL) {
			char *msg = strdup(ca_errmsg());

			if (root_uri != NULL)
				ca_pkcs11_key_delete(root_uri);
			if (int_uri != NULL)
				ca_pkcs11_key_delete(int_uri);
			if (msg != NULL)
				ca_err(rc, "%s", msg);
			free(msg);
		}
	}
	if (token)
		ca_pkcs11_logout();
	free(root_uri);
	free(int_uri);
	free(kms);
	if (tmp != NULL) {
		rm_tree(tmp);
		free(tmp);
	}
	ca_store_close(st);
	free(copy);
	free(path);
	free(rootcn);
	free(intcn);
	ca_certtmpl_cert_free(rt);
	ca_certtmpl_cert_free(it);
	if (conf != NULL)
		ca_free_secret(conf, strlen(conf));
	json_object_put(prov);
	if (rootc != NULL)
		gnutls_x509_crt_deinit(rootc);
	if (intc != NULL)
		gnutls_x509_crt_deinit(intc);
	gnutls_privkey_deinit(rootk);
	gnutls_privkey_deinit(intk);
	if (rootx != NULL)
		gnutls_x509_privkey_deinit(rootx);
	if (intx != NULL)
		gnutls_x509_privkey_deinit(intx);
	return rc;
}
