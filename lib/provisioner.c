/*
 * provisioner.c - making provisioners and editing them in ca.json
 * (see provisioner.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "conf.h"
#include "exec.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "provisioner.h"

#define P2C_DEFAULT	600000	/* step's PBKDF2 iterations */

void
ca_prov_change_init(struct ca_prov_change *c)
{
	memset(c, 0, sizeof(*c));
	c->min_dur = c->max_dur = c->default_dur = -1;
	c->disable_renewal = c->allow_renewal_after_expiry = -1;
	c->require_eab = -1;
	c->allow_wildcards = -1;
}

int
ca_provisioner_name_check(const char *name)
{
	const unsigned char *p;
	size_t n = strlen(name);

	if (n == 0)
		return ca_err(CA_ERR_INVAL, "a provisioner name cannot be empty");
	if (n > CA_PROV_NAME_MAX)
		return ca_err(CA_ERR_INVAL, "provisioner name of %zu bytes: "
		    "at most %d", n, CA_PROV_NAME_MAX);
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return ca_err(CA_ERR_INVAL, "provisioner name with a "
			    "control character (0x%02x)", *p);
	return 0;
}

/* {"type": type, "name": name}, the start of every provisioner. */
static int
prov_object(const char *type, const char *name, struct json_object **out)
{
	int rc;

	*out = NULL;
	if ((rc = ca_provisioner_name_check(name)) != 0)
		return rc;
	if ((*out = json_object_new_object()) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	json_object_object_add(*out, "type", json_object_new_string(type));
	json_object_object_add(*out, "name", json_object_new_string(name));
	return 0;
}

int
ca_provisioner_jwk_new(const char *name, const char *password, size_t pwlen,
    unsigned p2c, const char *key_out, struct json_object **out,
    int *wrote_key)
{
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	struct ca_jwk *jwk = NULL;
	struct json_object *p = NULL, *pub = NULL, *priv = NULL;
	char *priv_s = NULL, *jwe = NULL;
	int rc;

	*out = NULL;
	if ((rc = prov_object("JWK", name, &p)) != 0)
		goto out;
	if ((rc = ca_key_generate(CA_KEY_EC_P256, &x)) != 0)
		goto out;
	if ((rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((rc = ca_jwk_from_privkey(k, "ES256", &jwk)) != 0)
		goto out;
	k = NULL;
	if ((rc = ca_jwk_to_json(jwk, 0, &pub)) != 0 ||
	    (rc = ca_jwk_to_json(jwk, 1, &priv)) != 0)
		goto out;
	if ((priv_s = ca_json_dump(priv)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (key_out != NULL) {
		if ((rc = ca_file_publish(key_out, priv_s, strlen(priv_s),
		    0600, CA_PUBLISH_NEW)) != 0)
			goto out;
		*wrote_key = 1;
	}
	if ((rc = ca_jwe_encrypt_password(priv_s, strlen(priv_s), password,
	    pwlen, p2c ? p2c : P2C_DEFAULT, "jwk+json", &jwe)) != 0)
		goto out;
	json_object_object_add(p, "key", pub);
	pub = NULL;
	json_object_object_add(p, "encryptedKey", json_object_new_string(jwe));
	*out = p;
	p = NULL;
	rc = 0;
out:
	if (priv_s != NULL)
		ca_free_secret(priv_s, strlen(priv_s));
	free(jwe);
	json_object_put(p);
	json_object_put(pub);
	json_object_put(priv);
	ca_jwk_free(jwk);
	gnutls_privkey_deinit(k);
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	return rc;
}

int
ca_provisioner_jwk_public(const char *name, const char *path,
    struct json_object **out)
{
	struct json_object *p = NULL, *pub = NULL;
	struct ca_jwk *jwk = NULL;
	char *buf = NULL, *kid = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = prov_object("JWK", name, &p)) != 0)
		return rc;
	if ((rc = ca_file_read(path, CA_MAX_KEY, &buf, &len)) != 0)
		goto out;
	if ((rc = ca_jwk_parse(buf, len, &jwk)) != 0) {
		ca_err_context("%s", path);
		goto out;
	}
	if (ca_jwk_is_private(jwk)) {
		rc = ca_err(CA_ERR_INVAL, "%s: a private key: give its public "
		    "JWK (the private key stays with who signs tokens)", path);
		goto out;
	}
	if ((rc = ca_jwk_to_json(jwk, 0, &pub)) != 0)
		goto out;
	/* step names the key by its thumbprint when it has no kid. */
	if (ca_jwk_kid(jwk) == NULL) {
		if ((rc = ca_jwk_thumbprint(jwk, &kid)) != 0)
			goto out;
		json_object_object_add(pub, "kid", json_object_new_string(kid));
	}
	json_object_object_add(p, "key", pub);
	pub = NULL;
	*out = p;
	p = NULL;
out:
	free(buf);
	free(kid);
	ca_jwk_free(jwk);
	json_object_put(pub);
	json_object_put(p);
	return rc;
}

int
ca_provisioner_acme_new(const char *name, struct json_object **out)
{
	return prov_object("ACME", name, out);
}

int
ca_provisioner_pem_new(const char *type, const char *name, const char *member,
    const char *const *paths, size_t n, struct json_object **out)
{
	struct json_object *p = NULL;
	gnutls_datum_t all = { NULL, 0 }, b64 = { NULL, 0 };
	char *buf = NULL;
	unsigned char *grown;
	size_t len, i;
	int rc;

	*out = NULL;
	if ((rc = prov_object(type, name, &p)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((rc = ca_file_read(paths[i], CA_MAX_CERT, &buf, &len)) != 0)
			goto out;
		if ((grown = realloc(all.data, all.size + len + 1)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		all.data = grown;
		memcpy(all.data + all.size, buf, len);
		all.size += (unsigned)len;
		/* PEM files end with a newline; one may not. */
		if (len > 0 && buf[len - 1] != '\n')
			all.data[all.size++] = '\n';
		free(buf);
		buf = NULL;
	}
	if (gnutls_base64_encode2(&all, &b64) < 0 ||
	    json_object_object_add(p, member, json_object_new_string_len(
	    (const char *)b64.data, (int)b64.size)) != 0) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	*out = p;
	p = NULL;
out:
	json_object_put(p);
	free(buf);
	free(all.data);
	gnutls_free(b64.data);
	return rc;
}

/* Member name of p: the base64 of file path's bytes (a Go []byte). */
static int
b64_member(struct json_object *p, const char *name, const char *path)
{
	gnutls_datum_t d, b = { NULL, 0 };
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ca_file_read(path, 64 * 1024, &buf, &len)) != 0)
		return rc;
	d.data = (unsigned char *)buf;
	d.size = (unsigned)len;
	if (gnutls_base64_encode2(&d, &b) < 0)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	else
		json_object_object_add(p, name, json_object_new_string_len(
		    (const char *)b.data, (int)b.size));
	ca_free_secret(buf, len);
	gnutls_free(b.data);
	return rc;
}

int
ca_provisioner_scep_new(const char *name, const char *challenge_file,
    const char *crt_file, const char *key_file, struct json_object **out)
{
	struct json_object *p = NULL;
	char *chal = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = prov_object("SCEP", name, &p)) != 0)
		return rc;
	if ((rc = ca_secret_read(challenge_file, &chal, &len)) != 0)
		goto out;
	json_object_object_add(p, "challenge",
	    json_object_new_string_len(chal, (int)len));
	/* AES-256: certmonger (OpenSSL 3) cannot read step's default DES. */
	json_object_object_add(p, "encryptionAlgorithmIdentifier",
	    json_object_new_int(2));
	if (crt_file != NULL &&
	    ((rc = b64_member(p, "decrypterCertificate", crt_file)) != 0 ||
	    (rc = b64_member(p, "decrypterKeyPEM", key_file)) != 0))
		goto out;
	*out = p;
	p = NULL;
out:
	ca_free_secret(chal, len);
	json_object_put(p);
	return rc;
}

/* Take the edit lock, config/ca.json.lock, within CA_PROV_LOCK_MS. */
static int
lock_take(const char *dir, int *fd)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char *path;
	int i, rc = 0;

	if ((path = ca_path_join(dir, "config/ca.json.lock")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		rc = ca_err(errno == ENOENT ? CA_ERR_CONFIG : CA_ERR_IO,
		    "%s: %s", path, strerror(errno));
		goto out;
	}
	for (i = 0; flock(*fd, LOCK_EX | LOCK_NB) != 0; i++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			rc = ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (i * 10 >= CA_PROV_LOCK_MS) {
			rc = ca_err(CA_ERR_TEMP, "%s: another edit holds the "
			    "lock (waited %d ms)", path, CA_PROV_LOCK_MS);
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (rc != 0) {
		close(*fd);
		*fd = -1;
	}
out:
	free(path);
	return rc;
}

static int
is_type(struct json_object *p, const char *type)
{
	const char *s;

	return ca_json_string(p, "type", 0, &s) == 0 &&
	    strcasecmp(s, type) == 0;
}

/* The index of provisioner name in a, or -1. */
static int
find(struct json_object *a, const char *name)
{
	const char *s;
	size_t i, n = json_object_array_length(a);

	for (i = 0; i < n; i++)
		if (ca_json_string(json_object_array_get_idx(a, i), "name", 0,
		    &s) == 0 && strcmp(s, name) == 0)
			return (int)i;
	return -1;
}

static void
set_duration(struct json_object *claims, const char *key, int64_t secs)
{
	char buf[32];

	if (secs < 0)
		return;
	ca_duration_format(secs, buf, sizeof(buf));
	json_object_object_add(claims, key, json_object_new_string(buf));
}

static void
set_bool(struct json_object *o, const char *key, int v)
{
	if (v >= 0)
		json_object_object_add(o, key, json_object_new_boolean(v));
}

/* The object p[key], made if absent (or not an object). */
static struct json_object *
object_member(struct json_object *p, const char *key)
{
	struct json_object *o;

	if (json_object_object_get_ex(p, key, &o) &&
	    json_object_is_type(o, json_type_object))
		return o;
	if ((o = json_object_new_object()) != NULL &&
	    json_object_object_add(p, key, o) != 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* --x509-template, --x509-template-data: options.x509 of p. */
static int
apply_template(struct json_object *p, const struct ca_prov_change *c)
{
	struct json_object *opt, *x509;

	if (c->x509_template == NULL && c->x509_template_data == NULL)
		return 0;
	if ((opt = object_member(p, "options")) == NULL ||
	    (x509 = object_member(opt, "x509")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (c->x509_template != NULL) {
		json_object_object_del(x509, "templateFile");
		if (json_object_object_add(x509, "template",
		    json_object_new_string(c->x509_template)) != 0)
			return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	if (c->x509_template_data != NULL && json_object_object_add(x509,
	    "templateData", json_object_get(c->x509_template_data)) != 0)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/* Whether o is an object without members, or an array without elements. */
static int
is_empty(struct json_object *o)
{
	if (json_object_is_type(o, json_type_object))
		return json_object_object_length(o) == 0;
	return json_object_is_type(o, json_type_array) &&
	    json_object_array_length(o) == 0;
}

/* Remove every element of the array a equal to the string v. */
static void
array_remove(struct json_object *a, const char *v)
{
	struct json_object *e;
	size_t i = json_object_array_length(a);

	while (i-- > 0) {
		e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), v) == 0)
			json_object_array_del_idx(a, i, 1);
	}
}

/* The policy flags: policy.x509 of p; what ends up empty is removed. */
static int
apply_policy(struct json_object *p, const struct ca_prov_change *c)
{
	static const char *const side[2] = { "allow", "deny" };
	static const char *const type[5] = { "dns", "ip", "email", "uri",
	    "cn" };
	struct json_object *pol, *x509, *names, *a;
	size_t i;
	unsigned s, t;

	if (c->nrules == 0 && c->allow_wildcards < 0)
		return 0;
	if ((pol = object_member(p, "policy")) == NULL ||
	    (x509 = object_member(pol, "x509")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < c->nrules; i++) {
		s = c->rules[i].list / 5;
		t = c->rules[i].list % 5;
		if ((names = object_member(x509, side[s])) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		if (json_object_object_get_ex(names, type[t], &a) &&
		    json_object_is_type(a, json_type_array)) {
			if (c->remove_rules)
				array_remove(a, c->rules[i].value);
			else if (json_object_array_add(a,
			    json_object_new_string(c->rules[i].value)) != 0)
				return ca_err(CA_ERR_NOMEM, "out of memory");
		} else if (!c->remove_rules) {
			/* Not a list (null, a string): replaced, as step's
			 * protobuf would; the loader judged the old one. */
			if ((a = json_object_new_array()) == NULL ||
			    json_object_array_add(a, json_object_new_string(
			    c->rules[i].value)) != 0 ||
			    json_object_object_add(names, type[t], a) != 0)
				return ca_err(CA_ERR_NOMEM, "out of memory");
		}
	}
	if (c->allow_wildcards == 1)
		json_object_object_add(x509, "allowWildcardNames",
		    json_object_new_boolean(1));
	else if (c->allow_wildcards == 0)
		json_object_object_del(x509, "allowWildcardNames");
	for (s = 0; s < 2; s++) {
		if (!json_object_object_get_ex(x509, side[s], &names) ||
		    !json_object_is_type(names, json_type_object))
			continue;
		for (t = 0; t < 5; t++)
			if (json_object_object_get_ex(names, type[t], &a) &&
			    is_empty(a))
				json_object_object_del(names, type[t]);
		if (is_empty(names))
			json_object_object_del(x509, side[s]);
	}
	if (is_empty(x509))
		json_object_object_del(pol, "x509");
	if (is_empty(pol))
		json_object_object_del(p, "policy");
	return 0;
}

/* Apply c to the provisioner p (a JSON object). */
static int
apply(struct json_object *p, const struct ca_prov_change *c)
{
	struct json_object *claims, *a;
	unsigned bit;
	int rc;

	if (c->min_dur >= 0 || c->max_dur >= 0 || c->default_dur >= 0 ||
	    c->disable_renewal >= 0 || c->allow_renewal_after_expiry >= 0) {
		if (!json_object_object_get_ex(p, "claims", &claims) ||
		    !json_object_is_type(claims, json_type_object)) {
			if ((claims = json_object_new_object()) == NULL)
				return ca_err(CA_ERR_NOMEM, "out of memory");
			json_object_object_add(p, "claims", claims);
		}
		set_duration(claims, "minTLSCertDuration", c->min_dur);
		set_duration(claims, "maxTLSCertDuration", c->max_dur);
		set_duration(claims, "defaultTLSCertDuration", c->default_dur);
		set_bool(claims, "disableRenewal", c->disable_renewal);
		set_bool(claims, "allowRenewalAfterExpiry",
		    c->allow_renewal_after_expiry);
	}
	if ((c->challenges != 0 || c->require_eab >= 0) &&
	    !is_type(p, "ACME"))
		return ca_err(CA_ERR_INVAL, "--challenge and --require-eab "
		    "apply to an ACME provisioner");
	if (c->challenges != 0) {
		if ((a = json_object_new_array()) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		for (bit = 1; bit <= CA_ACME_ALL; bit <<= 1)
			if (c->challenges & bit)
				json_object_array_add(a, json_object_new_string(
				    ca_acme_challenge_name(bit)));
		json_object_object_add(p, "challenges", a);
	}
	set_bool(p, "requireEAB", c->require_eab);
	if ((rc = apply_template(p, c)) != 0)
		return rc;
	return apply_policy(p, c);
}

/* Change doc (the whole ca.json) as op says. */
static int
change_doc(struct json_object *doc, enum ca_prov_op op, const char *name,
    struct json_object *add, const struct ca_prov_change *c)
{
	struct json_object *auth, *a, *p = NULL;
	size_t i, n;
	int at, rc, left;

	if ((rc = ca_json_object(doc, "authority", 1, &auth)) != 0)
		return rc;
	rc = ca_json_array(auth, "provisioners", op == CA_PROV_ADD ? 0 : 1,
	    &a);
	if (rc == CA_ERR_NOTFOUND) {
		ca_err_clear();
		if ((a = json_object_new_array()) == NULL)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		json_object_object_add(auth, "provisioners", a);
	} else if (rc != 0)
		return rc;
	at = find(a, name);
	switch (op) {
	case CA_PROV_ADD:
		if (at >= 0)
			return ca_err(CA_ERR_EXISTS, "provisioner \"%s\" "
			    "already exists", name);
		p = json_object_get(add);
		json_object_array_add(a, p);
		break;
	case CA_PROV_UPDATE:
		if (at < 0)
			return ca_err(CA_ERR_NOTFOUND, "no provisioner \"%s\"",
			    name);
		p = json_object_array_get_idx(a, (size_t)at);
		break;
	case CA_PROV_REMOVE:
		if (at < 0)
			return ca_err(CA_ERR_NOTFOUND, "no provisioner \"%s\"",
			    name);
		n = json_object_array_length(a);
		for (i = 0, left = 0; i < n; i++) {
			p = json_object_array_get_idx(a, i);
			if ((int)i != at && (is_type(p, "JWK") ||
			    is_type(p, "ACME")))
				left++;
		}
		if (left == 0)
			return ca_err(CA_ERR_INVAL, "provisioner \"%s\" is the "
			    "last one that can issue (JWK or ACME): add "
			    "another first", name);
		return json_object_array_del_idx(a, (size_t)at, 1) == 0 ? 0 :
		    ca_err(CA_ERR_NOMEM, "out of memory");
	}
	return c != NULL ? apply(p, c) : 0;
}

int
ca_provisioner_edit(const char *dir, enum ca_prov_op op, const char *name,
    struct json_object *add, const struct ca_prov_change *change)
{
	struct json_object *doc = NULL;
	struct ca_config *cfg = NULL;
	struct stat st;
	char *path = NULL, *bak = NULL, *old = NULL, *new = NULL;
	size_t len;
	int fd = -1, rc;

	if ((rc = ca_provisioner_name_check(name)) != 0)
		return rc;
	if ((path = ca_path_join(dir, "config/ca.json")) == NULL ||
	    (bak = ca_path_join(dir, "config/ca.json.bak")) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* 1. The lock, then the file as it is now. */
	if ((rc = lock_take(dir, &fd)) != 0)
		goto out;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ca_err(CA_ERR_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	if ((rc = ca_file_read(path, CA_MAX_CONFIG, &old, &len)) != 0 ||
	    (rc = ca_json_parse(old, len, path, &doc)) != 0)
		goto out;
	/* 2. The change, and the loader's opinion of the result. */
	if ((rc = change_doc(doc, op, name, add, change)) != 0)
		goto out;
	if ((new = ca_json_dump_pretty(doc)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_config_parse(dir, new, strlen(new), &cfg)) != 0) {
		ca_err_context("the edit is refused, ca.json unchanged");
		goto out;
	}
	/* 3. The backup, then the new file: both atomic, mode kept. */
	if ((rc = ca_file_publish(bak, old, len, (int)(st.st_mode & 07777),
	    0)) != 0 ||
	    (rc = ca_file_publish(path, new, strlen(new), 0600,
	    CA_PUBLISH_KEEP_MODE)) != 0)
		goto out;
out:
	if (fd >= 0)
		close(fd);	/* releases the lock */
	ca_config_free(cfg);
	json_object_put(doc);
	free(path);
	free(bak);
	free(old);
	free(new);
	return rc;
}

int
ca_provisioner_list(const char *dir, int json, FILE *out)
{
	struct ca_config *cfg = NULL;
	struct json_object *auth, *a;
	const char *s;
	char *f[3];
	size_t i, j;
	int rc;

	if ((rc = ca_config_load(dir, &cfg)) != 0)
		return rc;
	if (json) {
		if (ca_json_object(cfg->json, "authority", 0, &auth) != 0 ||
		    ca_json_array(auth, "provisioners", 0, &a) != 0) {
			ca_err_clear();
			a = NULL;
		}
		s = a != NULL ? json_object_to_json_string_ext(a,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		    JSON_C_TO_STRING_NOSLASHESCAPE) : "[]";
		fprintf(out, "%s\n", s);
		goto out;
	}
	fprintf(out, "NAME\tTYPE\tKID\n");
	for (i = 0; i < cfg->n_provisioners; i++) {
		const struct ca_provisioner *p = &cfg->provisioners[i];

		f[0] = ca_text_escape(p->name, "\t");
		f[1] = ca_text_escape(p->type, "\t");
		f[2] = ca_text_escape(p->kid != NULL ? p->kid : "-", "\t");
		if (f[0] && f[1] && f[2])
			fprintf(out, "%s\t%s\t%s\n", f[0], f[1], f[2]);
		else
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		for (j = 0; j < 3; j++)
			free(f[j]);
	}
out:
	ca_config_free(cfg);
	return rc;
}

int
ca_provisioner_notify(const char *pid_file)
{
	return ca_exec_kill(pid_file, SIGHUP);
}
