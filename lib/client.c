/*
 * client.c - the transport: HTTPS requests to ca-serve over libcurl
 * (GnuTLS flavour), and bootstrapping trust in a root; the step API is
 * in client-api.c, the leaf certificate and key in client-leaf.c. libcurl is
 * loaded with dlopen() when the first client is opened: linking it would
 * cost every offline run the start-up of some thirty libraries.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
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
#include "curl.h"
#include "jose.h"
#include "json.h"
#include "keys.h"
#include "token.h"
#include "x509.h"

#define MAX_MESSAGE	200	/* characters of a server's error message */

struct ca_client {
	char			*base;		/* URL, no trailing slashes */
	char			*root_fp;
	char			*trust;		/* what is trusted, for messages */
	CURL			*h;
	struct curl_slist	*hdr_get, *hdr_post;
	int			 loaded;	/* holds a reference on cu */
	char			 errbuf[CURL_ERROR_SIZE];
	int			 last_transport;	/* CA_CLIENT_T_* of the last ca_client_request */
	long			 last_status;	/* its HTTP status, 0 if none */
	/* the response being received */
	char			*buf;
	size_t			 len, cap;
	int			 toobig;
};

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
	struct curl_slist *n = ca_curl.slist_append(l, s);

	if (n == NULL && l != NULL)
		ca_curl.slist_free_all(l);
	return n;
}

#define SETOPT(c, opt, val) do {					\
	if ((cc = ca_curl.easy_setopt((c)->h, (opt), (val))) != CURLE_OK)	\
		goto setopt;						\
} while (0)

/*
 * A handle with the options every ca_client_request shares. With verify, the peer
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
	if ((rc = ca_curl_load()) != 0) {
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
	if ((c->h = ca_curl.easy_init()) == NULL)
		goto fail;
	if ((c->hdr_get = ca_curl.slist_append(NULL, "Accept: application/json")) ==
	    NULL ||
	    (c->hdr_post = ca_curl.slist_append(NULL, "Accept: application/json")) ==
	    NULL ||
	    ca_curl.slist_append(c->hdr_post, "Content-Type: application/json") ==
	    NULL ||
	    /* No "Expect: 100-continue" round trip. */
	    ca_curl.slist_append(c->hdr_post, "Expect:") == NULL)
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
		/* The bootstrap's first ca_client_request: trust comes afterwards. */
		SETOPT(c, CURLOPT_CAINFO, NULL);
		SETOPT(c, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(c, CURLOPT_SSL_VERIFYHOST, 0L);
		SETOPT(c, CURLOPT_FORBID_REUSE, 1L);
	}
	*out = c;
	return 0;
setopt:
	rc = ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
	    ca_curl.easy_strerror(cc));
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
		ca_curl.easy_cleanup(c->h);
	if (c->hdr_get != NULL)
		ca_curl.slist_free_all(c->hdr_get);
	if (c->hdr_post != NULL)
		ca_curl.slist_free_all(c->hdr_post);
	if (c->loaded)
		ca_curl_unload();
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
	    ca_curl.easy_strerror(cc);
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

int
ca_client_request(struct ca_client *c, const char *method, const char *path,
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
		/* This ca_client_request's headers: the usual ones and the credential. */
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
	cc = ca_curl.easy_perform(c->h);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		c->last_transport = CA_CLIENT_T_TIMEOUT;
	else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CONNECT_ERROR)
		c->last_transport = CA_CLIENT_T_TLS;
	else if (cc != CURLE_OK)
		c->last_transport = CA_CLIENT_T_FAILED;
	/* curl keeps the pointers: the caller wipes the body after this. */
	if (body != NULL)
		ca_curl.easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
	if (hdr != NULL)
		ca_curl.easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	if (cc != CURLE_OK) {
		rc = transport_error(c, cc);
		goto out;
	}
	ca_curl.easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
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
	    ca_curl.easy_strerror(cc));
out:
	for (l = hdr; l != NULL; l = l->next)
		ca_wipe(l->data, strlen(l->data));
	if (hdr != NULL)
		ca_curl.slist_free_all(hdr);
	if (auth != NULL)
		ca_free_secret(auth, strlen(auth));
	free(url);
	return rc;
}

int
ca_client_get(struct ca_client *c, const char *path,
    struct ca_client_response *r)
{
	return ca_client_request(c, "GET", path, NULL, 0, NULL, r);
}

int
ca_client_post(struct ca_client *c, const char *path, const char *body,
    size_t len, struct ca_client_response *r)
{
	return ca_client_request(c, "POST", path, body, len, NULL, r);
}

int
ca_client_post_bearer(struct ca_client *c, const char *path,
    const char *body, size_t len, const char *bearer,
    struct ca_client_response *r)
{
	return ca_client_request(c, "POST", path, body, len, bearer, r);
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
int
ca_client_response_json(const struct ca_client_response *r, long want,
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
	rc = ca_client_response_json(&r, 200, out);
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
	if ((rc = ca_client_response_json(&r, 200, &o)) != 0 ||
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
	    ca_curl.easy_strerror(cc));
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
	    ca_curl.easy_strerror(cc));
}
