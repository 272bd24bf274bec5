/*
 * client.c - HTTPS requests to ca-serve over libcurl (GnuTLS flavour),
 * loaded with dlopen() when the first client is opened: linking it would
 * cost every offline run the start-up of some thirty libraries.
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

#include <curl/curl.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "client.h"
#include "conf.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "token.h"
#include "x509.h"

#define MAX_PAGES	100	/* of GET /provisioners */
#define MAX_MESSAGE	200	/* characters of a server's error message */

/* The part of libcurl we use, resolved with dlsym(). */
static struct {
	void				*dl;
	unsigned			 refs;
	__typeof__(curl_global_init)	*global_init;
	__typeof__(curl_global_cleanup)	*global_cleanup;
	__typeof__(curl_easy_init)	*easy_init;
	__typeof__(curl_easy_setopt)	*easy_setopt;
	__typeof__(curl_easy_perform)	*easy_perform;
	__typeof__(curl_easy_getinfo)	*easy_getinfo;
	__typeof__(curl_easy_cleanup)	*easy_cleanup;
	__typeof__(curl_easy_strerror)	*easy_strerror;
	__typeof__(curl_slist_append)	*slist_append;
	__typeof__(curl_slist_free_all)	*slist_free_all;
} cu;

struct ca_client {
	char			*base;		/* URL, no trailing slashes */
	char			*root_fp;
	char			*trust;		/* what is trusted, for messages */
	CURL			*h;
	struct curl_slist	*hdr_get, *hdr_post;
	int			 loaded;	/* holds a reference on cu */
	char			 errbuf[CURL_ERROR_SIZE];
	int			 last_transport;	/* CA_CLIENT_T_* of the last request */
	long			 last_status;	/* its HTTP status, 0 if none */
	/* the response being received */
	char			*buf;
	size_t			 len, cap;
	int			 toobig;
};

/* Take a reference on libcurl, loading it the first time. */
static int
curl_load(void)
{
	void *sym;
	const char *missing = NULL;
	CURLcode cc;

	if (cu.refs > 0) {
		cu.refs++;
		return 0;
	}
	if ((cu.dl = dlopen(CA_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return ca_err(CA_ERR_CONFIG,
		    "cannot load %s, which the online mode needs (install the Debian package libcurl3-gnutls): %s",
		    CA_LIBCURL_SONAME, dlerror());
#define LOAD(field, name) do {						\
	if ((sym = dlsym(cu.dl, name)) == NULL && missing == NULL)	\
		missing = name;						\
	memcpy(&cu.field, &sym, sizeof(sym));				\
} while (0)
	LOAD(global_init, "curl_global_init");
	LOAD(global_cleanup, "curl_global_cleanup");
	LOAD(easy_init, "curl_easy_init");
	LOAD(easy_setopt, "curl_easy_setopt");
	LOAD(easy_perform, "curl_easy_perform");
	LOAD(easy_getinfo, "curl_easy_getinfo");
	LOAD(easy_cleanup, "curl_easy_cleanup");
	LOAD(easy_strerror, "curl_easy_strerror");
	LOAD(slist_append, "curl_slist_append");
	LOAD(slist_free_all, "curl_slist_free_all");
#undef LOAD
	if (missing != NULL) {
		dlclose(cu.dl);
		memset(&cu, 0, sizeof(cu));
		return ca_err(CA_ERR_CONFIG, "%s has no %s: too old?",
		    CA_LIBCURL_SONAME, missing);
	}
	if ((cc = cu.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		int rc = ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
		    cu.easy_strerror(cc));
		dlclose(cu.dl);
		memset(&cu, 0, sizeof(cu));
		return rc;
	}
	cu.refs = 1;
	return 0;
}

/* Drop a reference; the last one unloads libcurl (no leaks at exit). */
static void
curl_unload(void)
{
	if (cu.refs == 0 || --cu.refs > 0)
		return;
	cu.global_cleanup();
	dlclose(cu.dl);
	memset(&cu, 0, sizeof(cu));
}

int
ca_client_url_check(const char *url)
{
	const char *host, *p;
	size_t hlen;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return ca_err(CA_ERR_INVAL,
			    "CA URL '%s' holds a space, a control or a non-ASCII character",
			    url);
	if (strncasecmp(url, "https://", 8) != 0)
		return ca_err(CA_ERR_INVAL,
		    "CA URL '%s' is not an https:// URL", url);
	host = url + 8;
	hlen = strcspn(host, "/");
	if (hlen == 0 || host[0] == ':')
		return ca_err(CA_ERR_INVAL, "CA URL '%s' has no host", url);
	if (memchr(host, '@', hlen) != NULL)
		return ca_err(CA_ERR_INVAL,
		    "CA URL '%s' holds user information", url);
	if (strpbrk(url, "?#") != NULL)
		return ca_err(CA_ERR_INVAL,
		    "CA URL '%s' holds a query or a fragment", url);
	return 0;
}

int
ca_client_fingerprint_parse(const char *s, char **out)
{
	char hex[65];
	size_t i, n = 0;

	*out = NULL;
	for (i = 0; s[i] != '\0'; i++) {
		/* Colons only between pairs: "ab:cd:...". */
		if (s[i] == ':' && i > 0 && n % 2 == 0 && n > 0 &&
		    s[i + 1] != '\0' && s[i + 1] != ':')
			continue;
		if (!isxdigit((unsigned char)s[i]) || n == 64)
			goto bad;
		hex[n++] = (char)tolower((unsigned char)s[i]);
	}
	if (n != 64)
		goto bad;
	hex[n] = '\0';
	if ((*out = strdup(hex)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
bad:
	return ca_err(CA_ERR_INVAL,
	    "fingerprint '%.80s' is not a SHA-256 in hex (64 digits, colons allowed)",
	    s);
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct ca_client *c = arg;
	size_t want;
	char *nb;

	n *= size;
	if (n > CA_CLIENT_MAX_RESPONSE - c->len) {
		c->toobig = 1;
		return 0;	/* curl aborts with CURLE_WRITE_ERROR */
	}
	if (c->len + n + 1 > c->cap) {
		want = c->cap ? c->cap : 4096;
		while (want < c->len + n + 1)
			want *= 2;
		if ((nb = realloc(c->buf, want)) == NULL)
			return 0;
		c->buf = nb;
		c->cap = want;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return n;
}

/* curl_slist_append that frees the list when it fails. */
static struct curl_slist *
slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = cu.slist_append(l, s);

	if (n == NULL && l != NULL)
		cu.slist_free_all(l);
	return n;
}

#define SETOPT(c, opt, val) do {					\
	if ((cc = cu.easy_setopt((c)->h, (opt), (val))) != CURLE_OK)	\
		goto setopt;						\
} while (0)

/*
 * A handle with the options every request shares. With verify, the peer
 * must present a certificate for the URL's host that chains to the root
 * in cafile, and to nothing else: CURLOPT_CAPATH is cleared because the
 * Debian builds of libcurl default it to /etc/ssl/certs, so that setting
 * CURLOPT_CAINFO alone would still trust the system store.
 */
static int
client_new(const char *url, const char *cafile, int verify, const char *trust,
    struct ca_client **out)
{
	struct ca_client *c;
	size_t n;
	CURLcode cc;
	int rc;

	*out = NULL;
	if ((rc = ca_client_url_check(url)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = curl_load()) != 0) {
		free(c);
		return rc;
	}
	c->loaded = 1;
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if ((c->base = strdup(url)) == NULL ||
	    (c->trust = strdup(trust != NULL ? trust : "")) == NULL)
		goto fail;
	for (n = strlen(c->base); n > 8 && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
	if ((c->h = cu.easy_init()) == NULL)
		goto fail;
	if ((c->hdr_get = cu.slist_append(NULL, "Accept: application/json")) ==
	    NULL ||
	    (c->hdr_post = cu.slist_append(NULL, "Accept: application/json")) ==
	    NULL ||
	    cu.slist_append(c->hdr_post, "Content-Type: application/json") ==
	    NULL ||
	    /* No "Expect: 100-continue" round trip. */
	    cu.slist_append(c->hdr_post, "Expect:") == NULL)
		goto fail;
	SETOPT(c, CURLOPT_ERRORBUFFER, c->errbuf);
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT, (long)CA_CLIENT_CONNECT_TIMEOUT);
	SETOPT(c, CURLOPT_TIMEOUT, (long)CA_CLIENT_TIMEOUT);
	SETOPT(c, CURLOPT_MAXFILESIZE, (long)CA_CLIENT_MAX_RESPONSE);
	SETOPT(c, CURLOPT_WRITEFUNCTION, on_data);
	SETOPT(c, CURLOPT_WRITEDATA, c);
	SETOPT(c, CURLOPT_USERAGENT, "ca-tools/" PACKAGE_VERSION);
	SETOPT(c, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(c, CURLOPT_CAPATH, NULL);
	if (verify) {
		SETOPT(c, CURLOPT_CAINFO, cafile);
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
	} else {
		/* The bootstrap's first request: trust comes afterwards. */
		SETOPT(c, CURLOPT_CAINFO, NULL);
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
		SETOPT(c, CURLOPT_FORBID_REUSE, 1L);
	}
	*out = c;
	return 0;
setopt:
	rc = ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
	    cu.easy_strerror(cc));
fail:
	ca_client_close(c);
	return rc;
}

int
ca_client_open(const char *url, const char *root_path, struct ca_client **out)
{
	struct ca_client *c = NULL;
	gnutls_x509_crt_t root = NULL;
	char *fp = NULL;
	int rc;

	*out = NULL;
	/* A root we cannot read would otherwise be a TLS failure later. */
	if ((rc = ca_x509_load(root_path, &root)) != 0 ||
	    (rc = ca_x509_fingerprint(root, &fp)) != 0)
		goto out;
	if ((rc = client_new(url, root_path, 1, root_path, &c)) != 0)
		goto out;
	c->root_fp = fp;
	fp = NULL;
	*out = c;
out:
	if (root != NULL)
		gnutls_x509_crt_deinit(root);
	free(fp);
	return rc;
}

void
ca_client_close(struct ca_client *c)
{
	if (c == NULL)
		return;
	if (c->h != NULL)
		cu.easy_cleanup(c->h);
	if (c->hdr_get != NULL)
		cu.slist_free_all(c->hdr_get);
	if (c->hdr_post != NULL)
		cu.slist_free_all(c->hdr_post);
	if (c->loaded)
		curl_unload();
	free(c->base);
	free(c->root_fp);
	free(c->trust);
	free(c->buf);
	free(c);
}

const char *
ca_client_root_fp(const struct ca_client *c)
{
	return c->root_fp;
}

char *
ca_client_url(const struct ca_client *c, const char *path)
{
	char *s;

	if (asprintf(&s, "%s%s", c->base, path) < 0)
		return NULL;
	return s;
}

/* A transport failure as a library error. */
static int
transport_error(const struct ca_client *c, CURLcode cc)
{
	const char *why = c->errbuf[0] != '\0' ? c->errbuf :
	    cu.easy_strerror(cc);
	int n;

	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return ca_err(CA_ERR_TEMP, "cannot reach the CA at %s: %s",
		    c->base, why);
	case CURLE_PEER_FAILED_VERIFICATION:
		/* GnuTLS's reason, without curl's "CAfile: ..." suffix. */
		n = strstr(why, ". CAfile:") != NULL ?
		    (int)(strstr(why, ". CAfile:") - why) : (int)strlen(why);
		return ca_err(CA_ERR_AUTH,
		    "%s: server certificate not trusted by %s (%.*s)", c->base,
		    c->trust, n, why);
	case CURLE_SSL_CONNECT_ERROR:
		return ca_err(CA_ERR_IO, "%s: TLS handshake failed: %s",
		    c->base, why);
	case CURLE_SSL_CACERT_BADFILE:
		return ca_err(CA_ERR_CONFIG, "%s: cannot use it as a root: %s",
		    c->trust, why);
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (c->toobig || cc == CURLE_FILESIZE_EXCEEDED)
			return ca_err(CA_ERR_TOOBIG,
			    "%s: response larger than %d bytes", c->base,
			    CA_CLIENT_MAX_RESPONSE);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	case CURLE_OUT_OF_MEMORY:
		return ca_err(CA_ERR_NOMEM, "out of memory");
	default:
		return ca_err(CA_ERR_IO, "%s: %s", c->base, why);
	}
}

static int
request(struct ca_client *c, const char *method, const char *path,
    const char *body, size_t blen, const char *bearer,
    struct ca_client_response *r)
{
	struct curl_slist *hdr = NULL, *l;
	char *url = NULL, *auth = NULL;
	CURLcode cc;
	long status = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	c->len = 0;
	c->toobig = 0;
	c->errbuf[0] = '\0';
	if ((url = ca_client_url(c, path)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (bearer != NULL) {
		/* This request's headers: the usual ones and the credential. */
		if (asprintf(&auth, "Authorization: Bearer %s", bearer) < 0) {
			auth = NULL;
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		for (l = body != NULL ? c->hdr_post : c->hdr_get; l != NULL;
		    l = l->next)
			if ((hdr = slist_add(hdr, l->data)) == NULL)
				break;
		if (l != NULL || (hdr = slist_add(hdr, auth)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	SETOPT(c, CURLOPT_URL, url);
	if (body != NULL) {
		SETOPT(c, CURLOPT_POST, 1L);
		SETOPT(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		SETOPT(c, CURLOPT_POSTFIELDS, body);
		SETOPT(c, CURLOPT_HTTPHEADER, hdr != NULL ? hdr : c->hdr_post);
	} else {
		SETOPT(c, CURLOPT_HTTPGET, 1L);
		SETOPT(c, CURLOPT_HTTPHEADER, hdr != NULL ? hdr : c->hdr_get);
	}
	c->last_transport = CA_CLIENT_T_OK;
	c->last_status = 0;
	cc = cu.easy_perform(c->h);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		c->last_transport = CA_CLIENT_T_TIMEOUT;
	else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CONNECT_ERROR)
		c->last_transport = CA_CLIENT_T_TLS;
	else if (cc != CURLE_OK)
		c->last_transport = CA_CLIENT_T_FAILED;
	/* curl keeps the pointers: the caller wipes the body after this. */
	if (body != NULL)
		cu.easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	if (hdr != NULL)
		cu.easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	if (cc != CURLE_OK) {
		rc = transport_error(c, cc);
		goto out;
	}
	cu.easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	c->last_status = status;
	ca_debug("%s %s: HTTP %ld, %zu bytes", method, url, status, c->len);
	r->status = status;
	if (c->buf == NULL && (c->buf = calloc(1, 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The response moves to r; the next one gets a new buffer. */
	r->body = c->buf;
	r->len = c->len;
	c->buf = NULL;
	c->len = c->cap = 0;
	rc = 0;
	goto out;
setopt:
	rc = ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
	    cu.easy_strerror(cc));
out:
	for (l = hdr; l != NULL; l = l->next)
		ca_wipe(l->data, strlen(l->data));
	if (hdr != NULL)
		cu.slist_free_all(hdr);
	if (auth != NULL)
		ca_free_secret(auth, strlen(auth));
	free(url);
	return rc;
}

int
ca_client_get(struct ca_client *c, const char *path,
    struct ca_client_response *r)
{
	return request(c, "GET", path, NULL, 0, NULL, r);
}

int
ca_client_post(struct ca_client *c, const char *path, const char *body,
    size_t len, struct ca_client_response *r)
{
	return request(c, "POST", path, body, len, NULL, r);
}

int
ca_client_post_bearer(struct ca_client *c, const char *path,
    const char *body, size_t len, const char *bearer,
    struct ca_client_response *r)
{
	return request(c, "POST", path, body, len, bearer, r);
}

void
ca_client_response_free(struct ca_client_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
ca_client_http_error(const struct ca_client_response *r)
{
	struct json_object *o = NULL;
	const char *m = NULL;
	char msg[MAX_MESSAGE + 4];
	size_t i, n = 0;
	int code, rc;

	switch (r->status) {
	case 400:
	case 405:
	case 415:
		code = CA_ERR_INVAL;
		break;
	case 401:
		code = CA_ERR_AUTH;
		break;
	case 403:
		code = CA_ERR_FORBIDDEN;
		break;
	case 404:
		code = CA_ERR_NOTFOUND;
		break;
	case 413:
		code = CA_ERR_TOOBIG;
		break;
	case 429:
	case 502:
	case 503:
	case 504:
		code = CA_ERR_TEMP;
		break;
	default:
		code = CA_ERR_IO;
		break;
	}
	if (r->body != NULL && r->len > 0 &&
	    ca_json_parse(r->body, r->len, "error", &o) == 0 &&
	    json_object_is_type(o, json_type_object))
		(void)ca_json_string(o, "message", 0, &m);
	/* The message is the peer's: printable ASCII only, and short. */
	if (m != NULL) {
		for (i = 0; m[i] != '\0' && n < MAX_MESSAGE; i++)
			msg[n++] = m[i] >= ' ' && m[i] < 0x7f ? m[i] : '?';
		if (m[i] != '\0') {
			memcpy(msg + n, "...", 3);
			n += 3;
		}
	}
	msg[n] = '\0';
	if (n > 0)
		rc = ca_err(code, "CA refused: %s (HTTP %ld)", msg, r->status);
	else if (r->status >= 300 && r->status < 400)
		rc = ca_err(code, "CA answered HTTP %ld (redirects are not followed)",
		    r->status);
	else
		rc = ca_err(code, "CA refused: HTTP %ld", r->status);
	json_object_put(o);
	return rc;
}

/* The JSON object of a response with status want. */
static int
response_json(const struct ca_client_response *r, long want,
    struct json_object **out)
{
	int rc;

	*out = NULL;
	if (r->status != want && !(want == 201 && r->status == 200))
		return ca_client_http_error(r);
	if ((rc = ca_json_parse(r->body, r->len, "CA response", out)) != 0)
		return rc;
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return ca_err(CA_ERR_INVAL, "CA response is not a JSON object");
	}
	return 0;
}

int
ca_client_get_json(struct ca_client *c, const char *path,
    struct json_object **out)
{
	struct ca_client_response r;
	int rc;

	*out = NULL;
	if ((rc = ca_client_get(c, path, &r)) != 0)
		return rc;
	rc = response_json(&r, 200, out);
	ca_client_response_free(&r);
	return rc;
}

/* The certificate of a PEM in a response member, and its fingerprint. */
static int
member_cert(struct json_object *o, const char *key, gnutls_x509_crt_t *crt,
    char **fp)
{
	const char *pem;
	int rc;

	*crt = NULL;
	*fp = NULL;
	if ((rc = ca_json_string(o, key, 1, &pem)) != 0) {
		ca_err_context("CA response");
		return rc;
	}
	if ((rc = ca_x509_import(pem, strlen(pem), crt)) != 0) {
		ca_err_context("CA response \"%s\"", key);
		return rc;
	}
	if ((rc = ca_x509_fingerprint(*crt, fp)) != 0) {
		gnutls_x509_crt_deinit(*crt);
		*crt = NULL;
	}
	return rc;
}

/* Write pem to a new private temporary file; *path: caller unlinks, frees. */
static int
temp_file(const char *pem, size_t len, char **path)
{
	const char *dir = getenv("TMPDIR");
	int fd, saved;

	*path = NULL;
	if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
	if (asprintf(path, "%s/ca-root.XXXXXX", dir) < 0) {
		*path = NULL;
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	if ((fd = mkostemp(*path, O_CLOEXEC)) < 0) {
		saved = errno;
		free(*path);
		*path = NULL;
		return ca_err(CA_ERR_IO, "cannot create a temporary file in %s: %s",
		    dir, strerror(saved));
	}
	if (ca_write_all(fd, pem, len) != 0) {
		saved = errno;
		close(fd);
		unlink(*path);
		free(*path);
		*path = NULL;
		return ca_err(CA_ERR_IO, "temporary file: %s", strerror(saved));
	}
	close(fd);
	return 0;
}

/* Whether the root with fingerprint fp is among /roots' "crts". */
static int
roots_hold(struct json_object *o, const char *fp)
{
	struct json_object *crts, *e;
	gnutls_x509_crt_t crt;
	char *efp;
	size_t i, n;
	int found = 0;

	if (ca_json_array(o, "crts", 1, &crts) != 0)
		return 0;
	n = json_object_array_length(crts);
	for (i = 0; i < n && !found; i++) {
		e = json_object_array_get_idx(crts, i);
		if (!json_object_is_type(e, json_type_string) ||
		    ca_x509_import(json_object_get_string(e),
		    (size_t)json_object_get_string_len(e), &crt) != 0)
			continue;
		if (ca_x509_fingerprint(crt, &efp) == 0) {
			found = strcmp(efp, fp) == 0;
			free(efp);
		}
		gnutls_x509_crt_deinit(crt);
	}
	return found;
}

int
ca_client_bootstrap(const char *url, const char *fingerprint, char **pem,
    size_t *len)
{
	struct ca_client *c = NULL;
	struct ca_client_response r;
	struct json_object *o = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { NULL, 0 };
	char *fp = NULL, *got = NULL, *path = NULL, *tmp = NULL, *trust = NULL;
	int rc;

	*pem = NULL;
	*len = 0;
	memset(&r, 0, sizeof(r));
	if ((rc = ca_client_fingerprint_parse(fingerprint, &fp)) != 0 ||
	    (rc = ca_client_url_check(url)) != 0)
		goto out;

	/* 1. Anyone may answer this one: the fingerprint decides. */
	if (asprintf(&path, "/root/%s", fp) < 0) {
		path = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = client_new(url, NULL, 0, "nothing", &c)) != 0 ||
	    (rc = ca_client_get(c, path, &r)) != 0)
		goto out;
	if (r.status == 404) {
		rc = ca_err(CA_ERR_AUTH,
		    "root fingerprint mismatch: the CA at %s has no root %s (HTTP 404)",
		    c->base, fp);
		goto out;
	}
	if ((rc = response_json(&r, 200, &o)) != 0 ||
	    (rc = member_cert(o, "ca", &crt, &got)) != 0)
		goto out;
	if (strcmp(got, fp) != 0) {
		rc = ca_err(CA_ERR_AUTH,
		    "root fingerprint mismatch: the CA at %s sent a root with fingerprint %s",
		    c->base, got);
		goto out;
	}
	ca_client_close(c);
	c = NULL;
	json_object_put(o);
	o = NULL;
	ca_client_response_free(&r);

	/* 2. The server must hold a certificate from that root. */
	if ((rc = ca_x509_export(crt, GNUTLS_X509_FMT_PEM, &d)) != 0 ||
	    (rc = temp_file((const char *)d.data, d.size, &tmp)) != 0)
		goto out;
	if (asprintf(&trust, "the root %s", fp) < 0) {
		trust = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = client_new(url, tmp, 1, trust, &c)) != 0 ||
	    (rc = ca_client_get_json(c, "/roots", &o)) != 0)
		goto out;
	if (!roots_hold(o, fp)) {
		rc = ca_err(CA_ERR_AUTH,
		    "the CA at %s does not list the root %s in /roots",
		    c->base, fp);
		goto out;
	}
	if ((*pem = malloc(d.size + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*pem, d.data, d.size);
	(*pem)[d.size] = '\0';
	*len = d.size;
	rc = 0;
out:
	if (tmp != NULL)
		unlink(tmp);
	ca_client_close(c);
	ca_client_response_free(&r);
	json_object_put(o);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	gnutls_free(d.data);
	free(fp);
	free(got);
	free(path);
	free(tmp);
	free(trust);
	return rc;
}

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

/* GET /provisioners/KID/encrypted-key into p. */
static int
fetch_encrypted_key(struct ca_client *c, struct ca_remote_provisioner *p)
{
	struct ca_client_response r;
	struct json_object *o = NULL;
	const char *k;
	char *kid = NULL, *path = NULL;
	int rc;

	if ((kid = pct_encode(p->prov.kid)) == NULL ||
	    asprintf(&path, "/provisioners/%s/encrypted-key", kid) < 0) {
		free(kid);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	free(kid);
	rc = ca_client_get(c, path, &r);
	free(path);
	if (rc != 0)
		return rc;
	if (r.status == 404)
		rc = ca_err(CA_ERR_NOTFOUND,
		    "the CA has no encryptedKey for provisioner \"%s\": use --key",
		    p->prov.name);
	else if ((rc = response_json(&r, 200, &o)) == 0) {
		if ((rc = ca_json_string(o, "key", 1, &k)) != 0)
			ca_err_context("GET /provisioners/KID/encrypted-key");
		else if ((p->encrypted_key = strdup(k)) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		p->prov.encrypted_key = p->encrypted_key;
	}
	json_object_put(o);
	ca_client_response_free(&r);
	return rc;
}

int
ca_client_provisioner(struct ca_client *c, const char *name, int want_key,
    struct ca_remote_provisioner **out)
{
	struct ca_remote_provisioner *found = NULL;
	struct json_object *o = NULL;
	char *cursor = NULL, *next = NULL, *enc = NULL, *path = NULL;
	size_t n_jwk = 0;
	int rc = 0, page;

	*out = NULL;
	for (page = 0; page < MAX_PAGES; page++) {
		if (cursor == NULL)
			path = strdup("/provisioners?limit=100");
		else if ((enc = pct_encode(cursor)) == NULL ||
		    asprintf(&path, "/provisioners?cursor=%s&limit=100",
		    enc) < 0)
			path = NULL;
		free(enc);
		enc = NULL;
		if (path == NULL) {
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
 * The token of a request: trailing white space dropped, then only
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
	if ((rc = response_json(r, 201, &o)) != 0)
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
ca_client_keygen(enum ca_key_type t, const char *token, size_t toklen,
    gnutls_datum_t *csr, char **key_pem, size_t *key_len)
{
	struct ca_token *tok = NULL;
	struct ca_names names;
	int rc;

	csr->data = NULL;
	csr->size = 0;
	*key_pem = NULL;
	*key_len = 0;
	memset(&names, 0, sizeof(names));
	if ((rc = ca_token_parse(token, toklen, &tok)) != 0) {
		ca_err_context("invalid token");
		return rc;
	}
	if ((rc = ca_names_classify((const char *const *)tok->sans,
	    tok->n_sans, &names)) != 0) {
		ca_err_context("token sans");
		goto out;
	}
	rc = ca_csr_make_new_key(t, tok->sub, &names, csr, key_pem, key_len);
out:
	ca_names_free(&names);
	ca_token_free(tok);
	return rc;
}

/* Mutual TLS */

/* Whether the file at path is PEM (1) or not (0, taken as DER). */
static int
file_is_pem(const char *path, int secret, int *pem)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*pem = 0;
	rc = secret ? ca_key_file_read(path, &buf, &len) :
	    ca_file_read(path, CA_MAX_CERT, &buf, &len);
	if (rc != 0)
		return rc;
	*pem = memmem(buf, len, "-----BEGIN", 10) != NULL;
	if (secret)
		ca_free_secret(buf, len);
	else
		free(buf);
	return 0;
}

int
ca_client_set_identity(struct ca_client *c, const char *cert_path,
    const char *key_path)
{
	CURLcode cc;
	int rc, cpem, kpem;

	if ((rc = file_is_pem(cert_path, 0, &cpem)) != 0 ||
	    (rc = file_is_pem(key_path, 1, &kpem)) != 0)
		return rc;
	/* libcurl's GnuTLS back end reads both with the certificate's type. */
	if (cpem != kpem)
		return ca_err(CA_ERR_INVAL,
		    "%s and %s: for mutual TLS, both must be PEM or both DER",
		    cert_path, key_path);
	SETOPT(c, CURLOPT_SSLCERT, cert_path);
	SETOPT(c, CURLOPT_SSLCERTTYPE, cpem ? "PEM" : "DER");
	SETOPT(c, CURLOPT_SSLKEY, key_path);
	SETOPT(c, CURLOPT_SSLKEYTYPE, kpem ? "PEM" : "DER");
	return 0;
setopt:
	return ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
	    cu.easy_strerror(cc));
}

/* Renewal */

void
ca_client_cert_free(struct ca_client_cert *cc)
{
	unsigned i;

	if (cc == NULL)
		return;
	for (i = 0; i < cc->n; i++) {
		if (cc->chain != NULL && cc->chain[i] != NULL)
			gnutls_x509_crt_deinit(cc->chain[i]);
		if (cc->der != NULL)
			gnutls_free(cc->der[i].data);
	}
	gnutls_free(cc->chain);
	free(cc->der);
	ca_jwk_free(cc->key);
	free(cc->cn);
	free(cc->serial);
	free(cc->cert_path);
	free(cc->key_path);
	free(cc);
}

/* The SHA-256 key id of a public key into id (32 bytes). */
static int
key_id(gnutls_pubkey_t pub, unsigned char *id)
{
	size_t len = 32;
	int ret;

	if ((ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id,
	    &len)) < 0 || len != 32)
		return ca_err(CA_ERR_CRYPTO, "key id: %s",
		    gnutls_strerror(ret < 0 ? ret : GNUTLS_E_INTERNAL_ERROR));
	return 0;
}

/* Whether crt certifies pub: 0, or CA_ERR_INVAL recording msg. */
static int
crt_has_key(gnutls_x509_crt_t crt, gnutls_pubkey_t pub, const char *msg)
{
	gnutls_pubkey_t cpub = NULL;
	unsigned char a[32], b[32];
	int rc, ret;

	if ((ret = gnutls_pubkey_init(&cpub)) < 0 ||
	    (ret = gnutls_pubkey_import_x509(cpub, crt, 0)) < 0) {
		rc = ca_err(CA_ERR_INVAL, "certificate public key: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = key_id(cpub, a)) != 0 || (rc = key_id(pub, b)) != 0)
		goto out;
	if (memcmp(a, b, sizeof(a)) != 0)
		rc = ca_err(CA_ERR_INVAL, "%s", msg);
out:
	gnutls_pubkey_deinit(cpub);
	return rc;
}

/* The first CN of crt, or "". Caller frees. */
static int
crt_cn(gnutls_x509_crt_t crt, char **out)
{
	char buf[1025];
	size_t len = sizeof(buf) - 1;
	int ret;

	*out = NULL;
	ret = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &len);
	if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		len = 0;
	else if (ret < 0)
		return ca_err(CA_ERR_INVAL, "certificate common name: %s",
		    gnutls_strerror(ret));
	buf[len] = '\0';
	if (strlen(buf) != len)
		return ca_err(CA_ERR_INVAL, "certificate common name holds a NUL");
	if ((*out = strdup(buf)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

/* The certificates of buf: a PEM list, or one DER certificate. */
static int
cert_list(struct ca_client_cert *cc, const char *buf, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)buf, (unsigned)len };
	unsigned i;
	int ret;

	if (memmem(buf, len, "-----BEGIN", 10) != NULL)
		ret = gnutls_x509_crt_list_import2(&cc->chain, &cc->n, &d,
		    GNUTLS_X509_FMT_PEM, 0);
	else if ((cc->chain = gnutls_calloc(1, sizeof(*cc->chain))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	else if ((ret = gnutls_x509_crt_init(&cc->chain[0])) >= 0) {
		cc->n = 1;
		ret = gnutls_x509_crt_import(cc->chain[0], &d,
		    GNUTLS_X509_FMT_DER);
	}
	if (ret < 0 || cc->n == 0)
		return ca_err(CA_ERR_INVAL, "%s: no certificate: %s",
		    cc->cert_path, ret < 0 ? gnutls_strerror(ret) : "empty");
	if ((cc->der = calloc(cc->n, sizeof(*cc->der))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	for (i = 0; i < cc->n; i++)
		if ((ret = gnutls_x509_crt_export2(cc->chain[i],
		    GNUTLS_X509_FMT_DER, &cc->der[i])) < 0)
			return ca_err(CA_ERR_CRYPTO, "%s: %s", cc->cert_path,
			    gnutls_strerror(ret));
	return 0;
}

int
ca_client_cert_load(const char *cert_path, const char *key_path,
    struct ca_client_cert **out)
{
	struct ca_client_cert *cc;
	gnutls_privkey_t key = NULL;
	unsigned char sn[CA_SERIAL_MAX + 2];
	size_t snlen = sizeof(sn);
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((cc->cert_path = strdup(cert_path)) == NULL ||
	    (cc->key_path = strdup(key_path)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_file_read(cert_path, CA_MAX_CERT, &buf, &len)) != 0 ||
	    (rc = cert_list(cc, buf, len)) != 0)
		goto out;
	if ((rc = ca_key_load(key_path, NULL, &key)) != 0) {
		if (rc == CA_ERR_AUTH)
			rc = ca_err(CA_ERR_INVAL,
			    "%s: the key is encrypted: an unencrypted key (mode 0600) is needed",
			    key_path);
		goto out;
	}
	if ((rc = ca_jwk_from_privkey(key, NULL, &cc->key)) != 0) {
		ca_err_context("%s", key_path);
		goto out;
	}
	key = NULL;
	if ((rc = crt_has_key(cc->chain[0], ca_jwk_pubkey(cc->key), "")) != 0) {
		if (rc == CA_ERR_INVAL)
			ca_err(rc, "%s is not the key of %s", key_path,
			    cert_path);
		goto out;
	}
	if ((rc = crt_cn(cc->chain[0], &cc->cn)) != 0)
		goto out;
	if (gnutls_x509_crt_get_serial(cc->chain[0], sn, &snlen) < 0) {
		rc = ca_err(CA_ERR_INVAL, "%s: cannot read the serial",
		    cert_path);
		goto out;
	}
	if ((cc->serial = ca_hex(sn, snlen)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	cc->not_before = gnutls_x509_crt_get_activation_time(cc->chain[0]);
	cc->not_after = gnutls_x509_crt_get_expiration_time(cc->chain[0]);
	if (cc->not_before == (time_t)-1 || cc->not_after == (time_t)-1 ||
	    cc->not_after <= cc->not_before) {
		rc = ca_err(CA_ERR_INVAL, "%s: bad validity period", cert_path);
		goto out;
	}
	*out = cc;
	cc = NULL;
	rc = 0;
out:
	if (key != NULL)
		gnutls_privkey_deinit(key);
	ca_client_cert_free(cc);
	free(buf);
	return rc;
}

int
ca_client_cert_due(const struct ca_client_cert *cc, int64_t expires_in,
    time_t now, int64_t *left)
{
	uint64_t r = 0;
	int64_t jitter = 0;
	int ret;

	*left = (int64_t)cc->not_after - (int64_t)now;
	if (expires_in < 0)
		expires_in = ((int64_t)cc->not_after - cc->not_before) / 3;
	if (expires_in >= 10) {
		if ((ret = gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r))) < 0)
			return ca_err(CA_ERR_CRYPTO, "random: %s",
			    gnutls_strerror(ret));
		jitter = (int64_t)(r % (uint64_t)(expires_in / 10 + 1));
	}
	return *left < expires_in + jitter;
}

int
ca_client_cert_x5c(const struct ca_client_cert *cc, const char *aud,
    time_t now, char **token)
{
	struct ca_x5c_opts o;

	memset(&o, 0, sizeof(o));
	o.aud = aud;
	o.sub = cc->cn;
	o.chain = cc->der;
	o.n_chain = cc->n;
	o.now = now;
	return ca_token_x5c_mint(cc->key, &o, token);
}

int
ca_client_cert_rekey_csr(const struct ca_client_cert *cc,
    gnutls_datum_t *csr, char **key_pem, size_t *key_len)
{
	gnutls_pubkey_t pub = ca_jwk_pubkey(cc->key);
	gnutls_x509_privkey_t x = NULL;
	gnutls_privkey_t k = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	gnutls_pk_algorithm_t pk;
	struct ca_names names;
	unsigned bits = 0;
	int rc, ret;

	csr->data = NULL;
	csr->size = 0;
	*key_pem = NULL;
	*key_len = 0;
	memset(&names, 0, sizeof(names));
	/* The same kind of key: curve, or RSA modulus size. */
	switch ((pk = gnutls_pubkey_get_pk_algorithm(pub, &bits))) {
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
		if ((ret = gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL,
		    0)) < 0)
			return ca_err(CA_ERR_CRYPTO, "key curve: %s",
			    gnutls_strerror(ret));
		bits = GNUTLS_CURVE_TO_BITS(curve);
		break;
	case GNUTLS_PK_RSA:
		break;
	default:
		return ca_err(CA_ERR_INVAL, "cannot make a new %s key",
		    gnutls_pk_get_name(pk));
	}
	if ((ret = gnutls_x509_privkey_init(&x)) < 0 ||
	    (ret = gnutls_x509_privkey_generate2(x, pk, bits, 0, NULL, 0)) < 0) {
		rc = ca_err(CA_ERR_CRYPTO, "key generation: %s",
		    gnutls_strerror(ret));
		goto out;
	}
	if ((rc = ca_key_export(x, NULL, &pem)) != 0 ||
	    (rc = ca_key_wrap(x, 1, &k)) != 0)
		goto out;
	x = NULL;
	if ((rc = ca_x509_names(cc->chain[0], &names)) != 0 ||
	    (rc = ca_csr_make(k, cc->cn, &names, csr)) != 0)
		goto out;
	if ((*key_pem = malloc(pem.size + 1)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*key_pem, pem.data, pem.size);
	(*key_pem)[pem.size] = '\0';
	*key_len = pem.size;
out:
	if (rc != 0) {
		gnutls_free(csr->data);
		csr->data = NULL;
		csr->size = 0;
	}
	if (pem.data != NULL) {
		ca_wipe(pem.data, pem.size);
		gnutls_free(pem.data);
	}
	if (x != NULL)
		gnutls_x509_privkey_deinit(x);
	gnutls_privkey_deinit(k);
	ca_names_free(&names);
	return rc;
}

int
ca_client_cert_check_key(const struct ca_client_cert *cc, const char *crt_pem,
    const char *key_pem, size_t key_len)
{
	gnutls_x509_crt_t crt = NULL;
	struct ca_jwk *k = NULL;
	int rc;

	if ((rc = ca_x509_import(crt_pem, strlen(crt_pem), &crt)) != 0)
		return rc;
	if (key_pem != NULL && (rc = ca_jwk_from_pem(key_pem, key_len, &k)) != 0)
		goto out;
	rc = crt_has_key(crt, ca_jwk_pubkey(k != NULL ? k : cc->key),
	    "the new certificate is not for the expected key");
out:
	ca_jwk_free(k);
	gnutls_x509_crt_deinit(crt);
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
		rc = response_json(&r, 200, &o);
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

int
ca_client_last_transport(const struct ca_client *c)
{
	return c->last_transport;
}

long
ca_client_last_status(const struct ca_client *c)
{
	return c->last_status;
}

int
ca_client_set_timeout(struct ca_client *c, long ms)
{
	CURLcode cc;

	SETOPT(c, CURLOPT_TIMEOUT_MS, ms);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
	return 0;
setopt:
	return ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
	    cu.easy_strerror(cc));
}
