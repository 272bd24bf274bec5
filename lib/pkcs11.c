/*
 * pkcs11.c - CA keys in PKCS#11 tokens, through GnuTLS (see pkcs11.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/pkcs11.h>

#include "ca.h"
#include "pkcs11.h"

#define PREFIX		"pkcs11:"
#define MAX_ATTRS	16

/* One attribute of a URI, pointing into it (value still percent-encoded). */
struct attr {
	const char	*name;
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
	int		 query;
};

struct uri {
	struct attr	 a[MAX_ATTRS];
	size_t		 n;
};

/* RFC 7512's path attributes; module-path also here, where step-ca puts it. */
static const char *const path_attrs[] = {
	"token", "manufacturer", "serial", "model", "library-manufacturer",
	"library-description", "library-version", "slot-description",
	"slot-manufacturer", "slot-id", "id", "object", "type", "module-path",
	NULL
};
static const char *const query_attrs[] = {
	"pin-source", "pin-value", "module-name", "module-path", NULL
};

/* The process's one module, and the PIN while logged in. */
static struct {
	char	*module;	/* path of the loaded module */
	pid_t	 pid;		/* the process that initialised it */
	char	*token;		/* "pkcs11:token=..." of the last login */
	char	*pin;
	size_t	 pin_len;
	char	*pin_file;	/* for messages */
	int	 refused;	/* the token said the PIN is wrong */
} p11;

int
ca_pkcs11_is_uri(const char *s)
{
	return s != NULL && strncmp(s, PREFIX, sizeof(PREFIX) - 1) == 0;
}

static int
attr_is(const struct attr *a, const char *name)
{
	return strlen(name) == a->nlen && memcmp(a->name, name, a->nlen) == 0;
}

static const struct attr *
uri_get(const struct uri *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (attr_is(&u->a[i], name))
			return &u->a[i];
	return NULL;
}

static int
known(const char *const *list, const char *name, size_t len)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == len && memcmp(*list, name, len) == 0)
			return 1;
	return 0;
}

static int
is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* RFC 7512 pk11-pchar and pk11-qchar, and '/' (paths in module-path). */
static int
value_char(int c, int query)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	if (c != '\0' && strchr("-._~:[]@!$'()*+,=/", c) != NULL)
		return 1;
	return query && (c == '?' || c == '|');
}

/*
 * Split "pkcs11:a=b;c=d?e=f&g=h" into its attributes, strictly: known
 * names only, each once, values of RFC 7512's characters with valid
 * percent escapes. Messages name what and never echo a value (pin-value
 * is one).
 */
static int
uri_parse(const char *s, const char *what, struct uri *u)
{
	const char *p, *end;
	int query = 0;

	u->n = 0;
	if (!ca_pkcs11_is_uri(s))
		return ca_err(CA_ERR_CONFIG, "%s: not a pkcs11: URI", what);
	if (strlen(s) > CA_PKCS11_MAX_URI)
		return ca_err(CA_ERR_CONFIG, "%s: longer than %d characters",
		    what, CA_PKCS11_MAX_URI);
	p = s + sizeof(PREFIX) - 1;
	while (*p != '\0') {
		struct attr *a;
		const char *eq;

		for (end = p; *end != '\0' && *end != (query ? '&' : ';') &&
		    !(!query && *end == '?'); end++)
			;
		if (end == p) {
			if (*end == '?' && !query) {
				query = 1;
				p++;
				continue;
			}
			return ca_err(CA_ERR_CONFIG, "%s: empty attribute", what);
		}
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL || eq == p)
			return ca_err(CA_ERR_CONFIG,
			    "%s: attribute without a name or '='", what);
		if (u->n == MAX_ATTRS)
			return ca_err(CA_ERR_CONFIG, "%s: too many attributes",
			    what);
		a = &u->a[u->n];
		a->name = p;
		a->nlen = (size_t)(eq - p);
		a->val = eq + 1;
		a->vlen = (size_t)(end - eq - 1);
		a->query = query;
		if (!known(query ? query_attrs : path_attrs, a->name, a->nlen))
			return ca_err(CA_ERR_CONFIG, "%s: unknown %s attribute "
			    "\"%.*s\"", what, query ? "query" : "path",
			    (int)(a->nlen > 32 ? 32 : a->nlen), a->name);
		{
			size_t i;

			for (i = 0; i < u->n; i++)
				if (u->a[i].nlen == a->nlen &&
				    memcmp(u->a[i].name, a->name, a->nlen) == 0)
					return ca_err(CA_ERR_CONFIG,
					    "%s: \"%.*s\" given twice", what,
					    (int)a->nlen, a->name);
		}
		{
			size_t i;

			for (i = 0; i < a->vlen; i++) {
				int c = (unsigned char)a->val[i];

				if (c == '%') {
					if (i + 2 >= a->vlen ||
					    !is_hex(a->val[i + 1]) ||
					    !is_hex(a->val[i + 2]))
						goto bad;
					i += 2;
				} else if (!value_char(c, query))
					goto bad;
			}
		}
		u->n++;
		p = end;
		if (*p == '?' && !query) {
			query = 1;
			p++;
		} else if (*p != '\0')
			p++;
		continue;
bad:
		return ca_err(CA_ERR_CONFIG, "%s: \"%.*s\": a character RFC 7512 "
		    "does not allow, or a bad %%-escape", what, (int)a->nlen,
		    a->name);
	}
	return 0;
}

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The decoded value of a (NUL refused); caller frees. */
static int
attr_decode(const struct attr *a, const char *what, char **out)
{
	char *d;
	size_t i, j;

	if ((d = malloc(a->vlen + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = j = 0; i < a->vlen; i++) {
		if (a->val[i] == '%') {
			d[j] = (char)(hexval(a->val[i + 1]) << 4 |
			    hexval(a->val[i + 2]));
			i += 2;
		} else
			d[j] = a->val[i];
		if (d[j++] == '\0') {
			free(d);
			return ca_err(CA_ERR_CONFIG, "%s: %.*s: a NUL byte",
			    what, (int)a->nlen, a->name);
		}
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

/* pin-source: an absolute file name, or a file: URI of one. */
static int
pin_source(const struct uri *u, const char *what, char **out)
{
	const struct attr *a;
	char *s;
	int rc;

	*out = NULL;
	if ((a = uri_get(u, "pin-source")) == NULL)
		return 0;
	if ((rc = attr_decode(a, what, &s)) != 0)
		return rc;
	if (strncmp(s, "file:", 5) == 0)
		memmove(s, s + 5, strlen(s + 5) + 1);
	if (s[0] != '/') {
		free(s);
		return ca_err(CA_ERR_CONFIG, "%s: pin-source must be an "
		    "absolute file name", what);
	}
	*out = s;
	return 0;
}

static int
kms_parse(const char *s, const char *what, struct uri *u)
{
	static const char *const not_here[] = { "id", "object", "type", NULL };
	size_t i;
	char *pin = NULL;
	int rc;

	if ((rc = uri_parse(s, what, u)) != 0)
		return rc;
	if (uri_get(u, "pin-value") != NULL)
		return ca_err(CA_ERR_CONFIG, "%s: pin-value writes the PIN into "
		    "ca.json: put it in a file (mode 0600) and name it with "
		    "pin-source=FILE", what);
	if (uri_get(u, "module-name") != NULL)
		return ca_err(CA_ERR_CONFIG, "%s: module-name: name the module "
		    "by module-path (p11-kit's configuration is not read)", what);
	if (uri_get(u, "module-path") == NULL)
		return ca_err(CA_ERR_CONFIG, "%s: no module-path=MODULE (the "
		    "PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so)",
		    what);
	for (i = 0; not_here[i] != NULL; i++)
		if (uri_get(u, not_here[i]) != NULL)
			return ca_err(CA_ERR_CONFIG, "%s: %s names a key: it "
			    "belongs in \"key\"", what, not_here[i]);
	if ((rc = pin_source(u, what, &pin)) != 0)
		return rc;
	free(pin);
	return 0;
}

int
ca_pkcs11_kms_check(const char *uri, const char *what)
{
	struct uri u;

	return kms_parse(uri, what, &u);
}

static int
key_parse(const char *s, const char *what, struct uri *u)
{
	const struct attr *t;
	size_t i;
	int rc;

	if ((rc = uri_parse(s, what, u)) != 0)
		return rc;
	for (i = 0; i < u->n; i++)
		if (u->a[i].query || attr_is(&u->a[i], "module-path"))
			return ca_err(CA_ERR_CONFIG, "%s: %.*s: the module and "
			    "the PIN belong in kms.uri", what,
			    (int)u->a[i].nlen, u->a[i].name);
	if (uri_get(u, "id") == NULL && uri_get(u, "object") == NULL)
		return ca_err(CA_ERR_CONFIG, "%s: names no key (id= or object=)",
		    what);
	if ((t = uri_get(u, "type")) != NULL &&
	    (t->vlen != 7 || memcmp(t->val, "private", 7) != 0))
		return ca_err(CA_ERR_CONFIG, "%s: type must be private", what);
	return 0;
}

int
ca_pkcs11_key_check(const char *uri, const char *what)
{
	struct uri u;

	return key_parse(uri, what, &u);
}

/* "pkcs11:" and the path attributes of a and b (module-path left out). */
static char *
uri_join(const struct uri *a, const struct uri *b, const char *extra)
{
	const struct uri *both[2] = { a, b };
	char *s;
	size_t i, k, len = sizeof(PREFIX) + (extra != NULL ? strlen(extra) : 0);

	for (k = 0; k < 2; k++)
		for (i = 0; both[k] != NULL && i < both[k]->n; i++)
			len += both[k]->a[i].nlen + both[k]->a[i].vlen + 2;
	if ((s = malloc(len)) == NULL)
		return NULL;
	strcpy(s, PREFIX);
	len = strlen(s);
	for (k = 0; k < 2; k++)
		for (i = 0; both[k] != NULL && i < both[k]->n; i++) {
			const struct attr *x = &both[k]->a[i];

			if (x->query || attr_is(x, "module-path"))
				continue;
			if (s[len - 1] != ':')
				s[len++] = ';';
			memcpy(s + len, x->name, x->nlen + 1 + x->vlen);
			len += x->nlen + 1 + x->vlen;
		}
	if (extra != NULL) {
		if (s[len - 1] != ':')
			s[len++] = ';';
		strcpy(s + len, extra);
	} else
		s[len] = '\0';
	return s;
}

/*
 * GnuTLS asks for the PIN here. It is answered once: when GnuTLS asks
 * again, the token refused it, and trying again could lock the token.
 */
static int
pin_cb(void *userdata, int attempt, const char *token_url,
    const char *token_label, unsigned int flags, char *pin, size_t pin_max)
{
	(void)userdata;
	(void)token_url;
	(void)token_label;
	if (attempt > 0 || (flags & GNUTLS_PIN_WRONG)) {
		p11.refused = 1;
		return -1;
	}
	if (p11.pin == NULL || (flags & GNUTLS_PIN_SO) ||
	    p11.pin_len >= pin_max)
		return -1;
	memcpy(pin, p11.pin, p11.pin_len);
	pin[p11.pin_len] = '\0';
	return 0;
}

/*
 * Finalise the module at exit, before its own destructors run. Left to
 * GnuTLS's destructor (or a static libmicrohttpd's, which calls
 * gnutls_global_deinit), C_Finalize comes after them, and SoftHSM2 then
 * crashes. Handlers run in the reverse order of registration: this one,
 * registered after the module was loaded, runs before the module's.
 */
static void
module_finalize(void)
{
	gnutls_pkcs11_deinit();
}

static int
module_load(const struct uri *u, const char *what)
{
	char *path = NULL;
	int ret, rc;

	if ((rc = attr_decode(uri_get(u, "module-path"), what, &path)) != 0)
		return rc;
	if (p11.module != NULL) {
		rc = strcmp(p11.module, path) == 0 ? 0 : ca_err(CA_ERR_CONFIG,
		    "%s: one PKCS#11 module per process (%s is loaded)", what,
		    p11.module);
		free(path);
		/* A forked child initialises the module anew (PKCS#11 says
		 * nothing of the parent's is valid there). */
		if (rc == 0 && p11.pid != getpid()) {
			if ((ret = gnutls_pkcs11_reinit()) < 0)
				return ca_err(CA_ERR_CRYPTO, "%s: reinitialising "
				    "the PKCS#11 module: %s", what,
				    gnutls_strerror(ret));
			p11.pid = getpid();
		}
		return rc;
	}
	if (access(path, R_OK) != 0) {
		rc = ca_err(CA_ERR_CONFIG, "%s: module-path %s: %s", what, path,
		    strerror(errno));
		free(path);
		return rc;
	}
	/* Only this module: no p11-kit configuration, no other tokens. */
	if ((ret = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL)) < 0 ||
	    (ret = gnutls_pkcs11_add_provider(path, NULL)) < 0) {
		rc = ca_err(CA_ERR_CONFIG, "%s: module-path %s: cannot load the "
		    "PKCS#11 module: %s", what, path, gnutls_strerror(ret));
		free(path);
		return rc;
	}
	gnutls_pkcs11_set_pin_function(pin_cb, NULL);
	p11.module = path;
	p11.pid = getpid();
	atexit(module_finalize);
	return 0;
}

void
ca_pkcs11_logout(void)
{
	if (p11.pin != NULL)
		ca_free_secret(p11.pin, p11.pin_len);
	p11.pin = NULL;
	p11.pin_len = 0;
	free(p11.pin_file);
	p11.pin_file = NULL;
	free(p11.token);
	p11.token = NULL;
	p11.refused = 0;
}

int
ca_pkcs11_login(const char *kms, const char *pin_file)
{
	struct uri u;
	unsigned int flags;
	char *src = NULL;
	int ret, rc;

	ca_pkcs11_logout();
	if ((rc = kms_parse(kms, "kms.uri", &u)) != 0 ||
	    (rc = module_load(&u, "kms.uri")) != 0 ||
	    (rc = pin_source(&u, "kms.uri", &src)) != 0)
		goto out;
	if ((p11.token = uri_join(&u, NULL, NULL)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = gnutls_pkcs11_token_get_flags(p11.token, &flags)) < 0) {
		rc = ca_err(CA_ERR_NOTFOUND, "kms.uri: no token matches %s "
		    "in the module %s", p11.token, p11.module);
		goto out;
	}
	if (pin_file == NULL && src == NULL) {
		rc = ca_err(CA_ERR_CONFIG, "kms.uri: no pin-source=FILE: the "
		    "token's PIN is read from a file");
		goto out;
	}
	if ((p11.pin_file = strdup(pin_file != NULL ? pin_file : src)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_secret_read(p11.pin_file, &p11.pin, &p11.pin_len)) != 0)
		ca_err_context("the token's PIN");
out:
	free(src);
	if (rc != 0)
		ca_pkcs11_logout();
	return rc;
}

/* Why GnuTLS failed, in the caller's words. */
static int
p11_error(int ret, const char *uri, const char *doing)
{
	if (p11.refused || ret == GNUTLS_E_PKCS11_PIN_ERROR)
		return ca_err(CA_ERR_FORBIDDEN, "%s: the token refused the PIN "
		    "in %s", p11.token, p11.pin_file);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ||
	    ret == GNUTLS_E_PKCS11_REQUESTED_OBJECT_NOT_AVAILBLE)
		return ca_err(CA_ERR_NOTFOUND, "%s: no such private key on the "
		    "token %s", uri, p11.token);
	return ca_err(CA_ERR_CRYPTO, "%s: %s: %s", uri, doing,
	    gnutls_strerror(ret));
}

int
ca_pkcs11_key_find(const char *key_uri, gnutls_privkey_t *out)
{
	gnutls_pkcs11_privkey_t p = NULL;
	struct uri tok, key;
	char *url = NULL;
	int ret, rc;

	*out = NULL;
	if (p11.token == NULL)
		return ca_err(CA_ERR_CONFIG, "%s: not logged in to a token",
		    key_uri);
	if ((rc = uri_parse(p11.token, "kms.uri", &tok)) != 0 ||
	    (rc = key_parse(key_uri, key_uri, &key)) != 0)
		return rc;
	if ((url = uri_join(&tok, &key, uri_get(&key, "type") != NULL ? NULL :
	    "type=private")) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((ret = gnutls_pkcs11_privkey_init(&p)) < 0 ||
	    (ret = gnutls_privkey_init(out)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
		goto out;
	}
	if ((ret = gnutls_pkcs11_privkey_import_url(p, url,
	    GNUTLS_PKCS11_OBJ_FLAG_LOGIN)) < 0) {
		rc = p11_error(ret, key_uri, "opening the key");
		goto out;
	}
	if ((ret = gnutls_privkey_import_pkcs11(*out, p,
	    GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE)) < 0) {
		rc = p11_error(ret, key_uri, "opening the key");
		goto out;
	}
	p = NULL;
	rc = 0;
out:
	if (p != NULL)
		gnutls_pkcs11_privkey_deinit(p);
	if (rc != 0) {
		gnutls_privkey_deinit(*out);
		*out = NULL;
	}
	free(url);
	return rc;
}

int
ca_pkcs11_key_open(const char *kms, const char *key_uri,
    gnutls_privkey_t *out)
{
	int rc;

	*out = NULL;
	if (kms == NULL)
		return ca_err(CA_ERR_CONFIG, "%s: a pkcs11: key needs a \"kms\" "
		    "block in ca.json naming the module", key_uri);
	if ((rc = ca_pkcs11_login(kms, NULL)) == 0)
		rc = ca_pkcs11_key_find(key_uri, out);
	/* The session stays logged in; the PIN is not needed any more. */
	ca_pkcs11_logout();
	return rc;
}

int
ca_pkcs11_key_generate(enum ca_key_type t, const char *label,
    char **key_uri, gnutls_privkey_t *out)
{
	unsigned char id[16];
	gnutls_datum_t cid = { id, sizeof(id) };
	gnutls_pk_algorithm_t pk = GNUTLS_PK_UNKNOWN;
	unsigned bits = 0;
	const char *l;
	char *uri = NULL, *p;
	size_t i;
	int ret, rc;

	*key_uri = NULL;
	*out = NULL;
	if (p11.token == NULL)
		return ca_err(CA_ERR_CONFIG, "not logged in to a token");
	if (t == CA_KEY_ED25519)
		return ca_err(CA_ERR_INVAL, "--key-type %s: not on a token here "
		    "(ec-p256, ec-p384 or rsa-3072)", ca_key_type_name(t));
	if ((rc = ca_key_type_params(t, &pk, &bits)) != 0)
		return rc;
	for (l = label; *l != '\0'; l++)
		if (!value_char((unsigned char)*l, 0) || *l == '=')
			return ca_err(CA_ERR_INVAL, "key label \"%s\": only "
			    "letters, digits and -._~", label);
	if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, id, sizeof(id))) < 0)
		return ca_err(CA_ERR_CRYPTO, "%s", gnutls_strerror(ret));
	if ((uri = malloc(sizeof(PREFIX) + 3 + 3 * sizeof(id) + 8 +
	    strlen(label))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	p = uri + sprintf(uri, "%sid=", PREFIX);
	for (i = 0; i < sizeof(id); i++)
		p += sprintf(p, "%%%02x", id[i]);
	sprintf(p, ";object=%s", label);
	/* Sensitive and not extractable (GnuTLS's default without
	 * GNUTLS_PKCS11_OBJ_FLAG_MARK_EXTRACTABLE), private (seen only
	 * after login). */
	ret = gnutls_pkcs11_privkey_generate3(p11.token, pk, bits, label, &cid,
	    GNUTLS_X509_FMT_DER, NULL, GNUTLS_KEY_DIGITAL_SIGNATURE |
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN,
	    GNUTLS_PKCS11_OBJ_FLAG_LOGIN | GNUTLS_PKCS11_OBJ_FLAG_MARK_SENSITIVE |
	    GNUTLS_PKCS11_OBJ_FLAG_MARK_PRIVATE);
	if (ret < 0) {
		rc = p11_error(ret, p11.token, "generating a key");
		free(uri);
		return rc;
	}
	if ((rc = ca_pkcs11_key_find(uri, out)) != 0) {
		ca_pkcs11_key_delete(uri);
		free(uri);
		return rc;
	}
	*key_uri = uri;
	return 0;
}

int
ca_pkcs11_key_delete(const char *key_uri)
{
	struct uri tok, key;
	char *url;
	int ret, rc;

	if (p11.token == NULL)
		return ca_err(CA_ERR_CONFIG, "not logged in to a token");
	if ((rc = uri_parse(p11.token, "kms.uri", &tok)) != 0 ||
	    (rc = key_parse(key_uri, key_uri, &key)) != 0)
		return rc;
	if ((url = uri_join(&tok, &key, NULL)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	ret = gnutls_pkcs11_delete_url(url, GNUTLS_PKCS11_OBJ_FLAG_LOGIN);
	free(url);
	if (ret < 0)
		return p11_error(ret, key_uri, "deleting the key");
	return 0;
}

int
ca_pkcs11_kms_with_pin(const char *kms, const char *pin_file, char **out)
{
	size_t n = strlen(kms), i;
	char *s, *p;

	*out = NULL;
	if (pin_file[0] != '/')
		return ca_err(CA_ERR_INVAL, "%s: not an absolute file name",
		    pin_file);
	if ((s = malloc(n + 13 + 3 * strlen(pin_file) + 1)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	memcpy(s, kms, n);
	p = s + n;
	p += sprintf(p, "%spin-source=", strchr(kms, '?') != NULL ? "&" : "?");
	for (i = 0; pin_file[i] != '\0'; i++) {
		unsigned char c = (unsigned char)pin_file[i];

		if (value_char(c, 0) && c != '=')
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = '\0';
	*out = s;
	return 0;
}
