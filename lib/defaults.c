/*
 * defaults.c - the client defaults of ca-bootstrap --install, and step's.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ca.h"
#include "client.h"
#include "defaults.h"
#include "json.h"
#include "x509.h"

#define DEFAULTS_FILE	"config/defaults.json"
#define ROOT_FILE	"certs/root_ca.crt"
#define CURRENT_FILE	"current-context.json"

int
ca_defaults_context_check(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > CA_DEFAULTS_MAX_NAME || name[0] == '.')
		goto bad;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", name[i]) == NULL)
			goto bad;
	return 0;
bad:
	return ca_err(CA_ERR_INVAL, "context '%.80s' is not 1 to %d letters, "
	    "digits, '.', '_' or '-' (not starting with '.')", name,
	    CA_DEFAULTS_MAX_NAME);
}

/* A new string: fmt's expansion (NULL when out of memory). */
static char *
str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
str(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* An environment variable set to an absolute path, else NULL. */
static const char *
env_dir(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] == '/' ? v : NULL;
}

int
ca_defaults_dir(char **dir)
{
	const char *v;

	*dir = NULL;
	if ((v = env_dir("XDG_CONFIG_HOME")) != NULL)
		*dir = str("%s/ca-tools", v);
	else if ((v = env_dir("HOME")) != NULL)
		*dir = str("%s/.config/ca-tools", v);
	else
		return ca_err(CA_ERR_CONFIG, "no configuration directory: "
		    "HOME and XDG_CONFIG_HOME are not set to absolute paths");
	return *dir == NULL ? ca_err(CA_ERR_NOMEM, "out of memory") : 0;
}

/* Step's $STEPPATH, else ~/.step; NULL (nothing recorded) without. */
static char *
step_dir(void)
{
	const char *v;

	if ((v = env_dir("STEPPATH")) != NULL)
		return strdup(v);
	if ((v = env_dir("HOME")) != NULL)
		return str("%s/.step", v);
	return NULL;
}

void
ca_defaults_clear(struct ca_defaults *d)
{
	free(d->url);
	free(d->fp);
	free(d->root);
	free(d->file);
	free(d->context);
	free(d->ignored);
	memset(d, 0, sizeof(*d));
}

void
ca_defaults_free(struct ca_defaults *d)
{
	if (d == NULL)
		return;
	ca_defaults_clear(d);
	free(d);
}

/* Add name to the list of members not used. */
static int
ignore(struct ca_defaults *d, const char *name)
{
	char *s;

	s = d->ignored == NULL ? str("%.40s", name) :
	    str("%s, %.40s", d->ignored, name);
	if (s == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	free(d->ignored);
	d->ignored = s;
	return 0;
}

/* Member key of o, a string, required. */
static int
member(struct json_object *o, const char *what, const char *key,
    const char **v)
{
	if (ca_json_string(o, key, 1, v) != 0)
		return ca_err(CA_ERR_CONFIG, "%s: \"%s\" must be a string",
		    what, key);
	return 0;
}

int
ca_defaults_parse(const char *buf, size_t len, const char *what,
    struct ca_defaults *d)
{
	struct json_object *o = NULL;
	const char *url, *fp, *root;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = ca_json_parse(buf, len, what, &o)) != 0) {
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		rc = ca_err(CA_ERR_CONFIG, "%s: not a JSON object", what);
		goto out;
	}
	if ((rc = member(o, what, "ca-url", &url)) != 0 ||
	    (rc = member(o, what, "fingerprint", &fp)) != 0 ||
	    (rc = member(o, what, "root", &root)) != 0)
		goto out;
	if (ca_client_url_check(url) != 0) {
		ca_err_context("%s: \"ca-url\"", what);
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if (ca_client_fingerprint_parse(fp, &d->fp) != 0) {
		ca_err_context("%s: \"fingerprint\"", what);
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if (root[0] != '/') {
		rc = ca_err(CA_ERR_CONFIG, "%s: \"root\" is not an absolute "
		    "path", what);
		goto out;
	}
	if ((d->url = strdup(url)) == NULL || (d->root = strdup(root)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "ca-url") != 0 &&
		    strcmp(key, "fingerprint") != 0 &&
		    strcmp(key, "root") != 0 && (rc = ignore(d, key)) != 0)
			goto out;
	}
out:
	json_object_put(o);
	return rc;
}

/* Whether path exists: 1, 0 (ENOENT or ENOTDIR), or an error. */
static int
exists(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	return ca_err(CA_ERR_CONFIG, "%s: %s", path, strerror(errno));
}

/* A small JSON object from path; CA_ERR_CONFIG when not one. */
static int
read_object(const char *path, struct json_object **o)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*o = NULL;
	if ((rc = ca_file_read(path, CA_DEFAULTS_MAX_FILE, &buf, &len)) != 0 ||
	    (rc = ca_json_parse(buf, len, path, o)) != 0) {
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if (!json_object_is_type(*o, json_type_object)) {
		json_object_put(*o);
		*o = NULL;
		rc = ca_err(CA_ERR_CONFIG, "%s: not a JSON object", path);
	}
out:
	free(buf);
	return rc;
}

/*
 * The current context recorded in base/current-context.json into *name
 * (NULL: none recorded). Step's names an authority through contexts.json
 * (step = 1); ours names the context's directory itself.
 */
static int
current(const char *base, int step, char **name)
{
	struct json_object *o = NULL, *ctxs = NULL, *c;
	const char *s, *auth;
	char *path = NULL, *cpath = NULL;
	int rc;

	*name = NULL;
	if ((path = str("%s/%s", base, CURRENT_FILE)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = exists(path)) <= 0)
		goto out;
	if ((rc = read_object(path, &o)) != 0)
		goto out;
	if (ca_json_string(o, "context", 1, &s) != 0 ||
	    ca_defaults_context_check(s) != 0) {
		rc = ca_err(CA_ERR_CONFIG, "%s: \"context\" is not a context "
		    "name", path);
		goto out;
	}
	/* Step: contexts.json {"NAME": {"authority": "DIR", ...}}. */
	if (step) {
		if ((cpath = str("%s/contexts.json", base)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		if ((rc = exists(cpath)) < 0 ||
		    (rc == 1 && (rc = read_object(cpath, &ctxs)) != 0))
			goto out;
		if (ctxs != NULL && json_object_object_get_ex(ctxs, s, &c) &&
		    ca_json_string(c, "authority", 0, &auth) == 0) {
			if (ca_defaults_context_check(auth) != 0) {
				rc = ca_err(CA_ERR_CONFIG, "%s: the authority "
				    "of \"%.64s\" is not a directory name",
				    cpath, s);
				goto out;
			}
			s = auth;
		}
	}
	rc = (*name = strdup(s)) == NULL ?
	    ca_err(CA_ERR_NOMEM, "out of memory") : 0;
out:
	json_object_put(o);
	json_object_put(ctxs);
	free(path);
	free(cpath);
	return rc;
}

/* Read and check the defaults file path of context (NULL: none). */
static int
load_file(const char *path, const char *context, struct ca_defaults **out)
{
	struct ca_defaults *d;
	gnutls_x509_crt_t root = NULL;
	char *buf = NULL, *fp = NULL;
	size_t len = 0;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = ca_file_read(path, CA_DEFAULTS_MAX_FILE, &buf, &len)) != 0) {
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if ((rc = ca_defaults_parse(buf, len, path, d)) != 0)
		goto out;
	if ((d->file = strdup(path)) == NULL ||
	    (context != NULL && (d->context = strdup(context)) == NULL)) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The root the file names must be the one it pins. */
	if ((rc = ca_x509_load(d->root, &root)) != 0) {
		ca_err_context("root of %s", path);
		rc = CA_ERR_CONFIG;
		goto out;
	}
	if ((rc = ca_x509_fingerprint(root, &fp)) != 0)
		goto out;
	if (strcmp(fp, d->fp) != 0) {
		rc = ca_err(CA_ERR_CONFIG, "%s: the root %s has fingerprint "
		    "%s, not the file's %s", path, d->root, fp, d->fp);
		goto out;
	}
	*out = d;
	d = NULL;
out:
	if (root != NULL)
		gnutls_x509_crt_deinit(root);
	ca_defaults_free(d);
	free(buf);
	free(fp);
	return rc;
}

/* The defaults of context name under base, which must exist. */
static int
load_context(const char *base, const char *name, const char *why,
    struct ca_defaults **out)
{
	char *path;
	int rc;

	if ((path = str("%s/authorities/%s/%s", base, name,
	    DEFAULTS_FILE)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = exists(path)) == 0)
		rc = ca_err(CA_ERR_CONFIG, "%s '%s': no %s (see ca-bootstrap "
		    "--install --context)", why, name, path);
	else if (rc == 1)
		rc = load_file(path, name, out);
	free(path);
	return rc;
}

/*
 * Under base (ours, or step's with step = 1): the current context's
 * defaults, else the plain ones; CA_ERR_NOTFOUND when neither exists.
 */
static int
load_base(const char *base, int step, struct ca_defaults **out)
{
	char *name = NULL, *path = NULL;
	int rc;

	if ((rc = current(base, step, &name)) != 0)
		goto out;
	if (name != NULL) {
		rc = load_context(base, name, "current context", out);
		goto out;
	}
	if ((path = str("%s/%s", base, DEFAULTS_FILE)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = exists(path)) == 1)
		rc = load_file(path, NULL, out);
	else if (rc == 0)
		rc = CA_ERR_NOTFOUND;
out:
	free(name);
	free(path);
	return rc;
}

int
ca_defaults_load(const char *context, struct ca_defaults **out)
{
	char *dir = NULL, *sdir = NULL;
	const char *why = "context";
	int rc;

	*out = NULL;
	if (context == NULL && (context = getenv(CA_DEFAULTS_ENV)) != NULL) {
		if (context[0] == '\0')
			context = NULL;
		why = "context (" CA_DEFAULTS_ENV ")";
	}
	if (context != NULL && (rc = ca_defaults_context_check(context)) != 0)
		return rc;
	if ((rc = ca_defaults_dir(&dir)) != 0) {
		/* Nowhere to look: as if there were nothing. */
		if (context == NULL)
			rc = CA_ERR_NOTFOUND;
		goto out;
	}
	if (context != NULL) {
		rc = load_context(dir, context, why, out);
		goto out;
	}
	if ((rc = load_base(dir, 0, out)) != CA_ERR_NOTFOUND)
		goto out;
	rc = (sdir = step_dir()) != NULL ? load_base(sdir, 1, out) :
	    CA_ERR_NOTFOUND;
out:
	free(dir);
	free(sdir);
	return rc;
}

/* The trailing slashes of a URL cut. */
static char *
url_trim(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return str("%.*s", (int)n, url);
}

/* Whether an existing defaults file at path may be replaced by url, fp. */
static int
may_replace(const char *path, const char *url, const char *fp, int force)
{
	struct ca_defaults old;
	char *buf = NULL, why[256];
	size_t len = 0;
	int rc, same;

	memset(&old, 0, sizeof(old));
	if ((rc = exists(path)) <= 0 || force)
		return rc < 0 ? rc : 0;
	if ((rc = ca_file_read(path, CA_DEFAULTS_MAX_FILE, &buf, &len)) != 0 ||
	    (rc = ca_defaults_parse(buf, len, path, &old)) != 0) {
		/* Not ca_errmsg() as an argument: ca_err writes over it. */
		snprintf(why, sizeof(why), "%s", ca_errmsg());
		rc = ca_err(CA_ERR_EXISTS, "%s cannot be read (%s): --force "
		    "replaces it", path, why);
		goto out;
	}
	same = strcmp(old.url, url) == 0 && strcmp(old.fp, fp) == 0;
	if (!same)
		rc = ca_err(CA_ERR_EXISTS, "%s holds another CA (%s, %s): "
		    "--force replaces it", path, old.url, old.fp);
out:
	ca_defaults_clear(&old);
	free(buf);
	return rc;
}

/* The current context: name, or none. */
static int
set_current(const char *dir, const char *name)
{
	struct json_object *o = NULL;
	char *path, *json = NULL;
	int rc = 0;

	if ((path = str("%s/%s", dir, CURRENT_FILE)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (name == NULL) {
		if (unlink(path) != 0 && errno != ENOENT)
			rc = ca_err(CA_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((o = json_object_new_object()) == NULL ||
	    json_object_object_add(o, "context",
	    json_object_new_string(name)) != 0 ||
	    (json = ca_json_dump_pretty(o)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = ca_file_publish(path, json, strlen(json), 0644, 0);
out:
	json_object_put(o);
	free(json);
	free(path);
	return rc;
}

/* {"ca-url", "fingerprint", "root"} of d, for people. */
static char *
dump(const struct ca_defaults *d)
{
	struct json_object *o;
	char *s = NULL;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (json_object_object_add(o, "ca-url",
	    json_object_new_string(d->url)) == 0 &&
	    json_object_object_add(o, "fingerprint",
	    json_object_new_string(d->fp)) == 0 &&
	    json_object_object_add(o, "root",
	    json_object_new_string(d->root)) == 0)
		s = ca_json_dump_pretty(o);
	json_object_put(o);
	return s;
}

int
ca_defaults_install(const char *context, const char *url, const char *fp,
    const char *root_pem, size_t len, int force, struct ca_defaults **out)
{
	struct ca_defaults *d = NULL;
	struct ca_staged rs, ds;
	char *dir = NULL, *base = NULL, *sub = NULL, *json = NULL;
	int rc;

	memset(&rs, 0, sizeof(rs));
	memset(&ds, 0, sizeof(ds));
	if (out != NULL)
		*out = NULL;
	if (context != NULL && (rc = ca_defaults_context_check(context)) != 0)
		return rc;
	if ((rc = ca_defaults_dir(&dir)) != 0)
		return rc;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (base = context != NULL ? str("%s/authorities/%s", dir, context) :
	    strdup(dir)) == NULL ||
	    (d->url = url_trim(url)) == NULL ||
	    (context != NULL && (d->context = strdup(context)) == NULL) ||
	    (d->root = str("%s/%s", base, ROOT_FILE)) == NULL ||
	    (d->file = str("%s/%s", base, DEFAULTS_FILE)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_client_fingerprint_parse(fp, &d->fp)) != 0 ||
	    (rc = may_replace(d->file, d->url, d->fp, force)) != 0)
		goto out;
	if ((json = dump(d)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Step's modes: the directories 0700. */
	if ((sub = str("%s/certs", base)) == NULL ||
	    (rc = ca_mkdir_p(sub, 0700)) != 0)
		goto mkdir;
	free(sub);
	if ((sub = str("%s/config", base)) == NULL ||
	    (rc = ca_mkdir_p(sub, 0700)) != 0)
		goto mkdir;
	/* The root first: a defaults file never names a missing root. */
	if ((rc = ca_file_stage(d->root, root_pem, len, 0644, 0, &rs)) != 0 ||
	    (rc = ca_file_stage(d->file, json, strlen(json), 0644, 0,
	    &ds)) != 0 || (rc = ca_file_commit(&rs)) != 0 ||
	    (rc = ca_file_commit(&ds)) != 0 ||
	    (rc = set_current(dir, context)) != 0)
		goto out;
	if (out != NULL) {
		*out = d;
		d = NULL;
	}
	goto out;
mkdir:
	if (sub == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	ca_file_abort(&rs);
	ca_file_abort(&ds);
	ca_defaults_free(d);
	free(dir);
	free(base);
	free(sub);
	free(json);
	return rc;
}
