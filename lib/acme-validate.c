/*
 * acme-validate.c - the checks of http-01 (RFC 8555 8.3), dns-01 (8.4)
 * and tls-alpn-01 (RFC 8737), for DNS names and IP addresses (RFC 8738),
 * and the validator that runs them on threads of its own.
 *
 * Each check has one deadline (timeout_ms from its start) that bounds
 * every lookup, connection and read in it. The problem types:
 *   unauthorized       the responder answered in the challenge's form,
 *                      with something else than this key authorization
 *                      (another body, no such TXT, another digest), or
 *                      an HTTP status other than 200 (as Boulder);
 *   incorrectResponse  the answer is not of the challenge's form: an
 *                      http-01 body over CA_ACME_VA_MAX_BODY, a
 *                      tls-alpn-01 certificate without the critical
 *                      acmeIdentifier or with other names;
 *   connection         no connection, a timeout, a redirect refused;
 *   dns                a lookup failed (timeout, SERVFAIL, no address);
 *   tls                the TLS handshake failed or did not select
 *                      acme-tls/1.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "curl.h"
#include "jose.h"
#include "acme-internal.h"
#include "acme-validate.h"

#define ACME_TLS_ALPN	"acme-tls/1"
#define OID_ACME_ID	"1.3.6.1.5.5.7.1.31"
#define DETAIL_MAX	512
#define ADDRS_MAX	16

/* One check. */
struct va {
	const struct ca_acme_va_opts *o;
	const struct ca_acme_job *job;
	int64_t			 deadline;	/* monotonic ms */
	struct acme_dns		*dns;
	char			 ename[300];	/* the identifier, escaped */
	/* the outcome when not valid */
	const char		*type;		/* after ACME_ERR */
	char			 detail[DETAIL_MAX];
	int			 internal;	/* a CA_ERR_*: not the peer's fault */
};

static int
va_fail(struct va *va, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the outcome (the first one) and return 1: not valid. */
static int
va_fail(struct va *va, const char *type, const char *fmt, ...)
{
	va_list ap;

	if (va->type != NULL)
		return 1;
	va->type = type;
	va_start(ap, fmt);
	vsnprintf(va->detail, sizeof(va->detail), fmt, ap);
	va_end(ap);
	return 1;
}

/* A failure of ours (out of memory, a bad setting): serverInternal. */
static int
va_internal(struct va *va, int rc)
{
	va->internal = rc;
	return va_fail(va, "serverInternal", "%s", ca_errmsg());
}

static int64_t
va_left(const struct va *va)
{
	return va->deadline - acme_now_ms();
}

/* base64url(SHA-256(s)), dns-01's TXT value. */
static int
digest_b64(const char *s, char **out)
{
	unsigned char h[32];

	*out = NULL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), h) != 0)
		return ca_err(CA_ERR_CRYPTO, "SHA-256 failed");
	if ((*out = ca_b64url_encode(h, sizeof(h))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

static void
addrs_free(char *addrs[ADDRS_MAX], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(addrs[i]);
}

/*
 * The addresses of a host: an IP identifier as it is, a name through
 * the resolver (AAAA first, then A, as Boulder tries them). Returns 0
 * with addrs[*n], or 1 (va_fail: dns).
 */
static int
host_addrs(struct va *va, const char *host, char *addrs[ADDRS_MAX],
    size_t *n)
{
	static const int types[] = { ns_t_aaaa, ns_t_a };
	char err[256], why[256], ehost[300], **v;
	unsigned char bin[16];
	size_t i, k, m;
	int rc, nx = 0;

	*n = 0;
	why[0] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1) {
		if ((addrs[0] = strdup(host)) == NULL)
			return va_internal(va, ca_err(CA_ERR_NOMEM,
			    "out of memory"));
		*n = 1;
		return 0;
	}
	ca_escape(ehost, sizeof(ehost), host, 0);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/*
		 * AAAA gets half the time, so that a server that drops
		 * those queries still lets A answer.
		 */
		rc = acme_dns_lookup(va->dns, host, types[i], i == 0 ?
		    acme_now_ms() + va_left(va) / 2 : va->deadline, &v, &m,
		    err, sizeof(err));
		if (rc < 0) {
			addrs_free(addrs, *n);
			*n = 0;
			return va_internal(va, rc);
		}
		if (rc == ACME_DNS_NXDOMAIN)
			nx = 1;
		/* Keep the first failure; the other type may answer. */
		if (rc == ACME_DNS_FAIL && why[0] == '\0')
			snprintf(why, sizeof(why), "%s", err);
		for (k = 0; rc == ACME_DNS_OK && k < m; k++) {
			if (*n < ADDRS_MAX)
				addrs[(*n)++] = v[k];
			else
				free(v[k]);
		}
		free(v);
	}
	if (*n > 0)
		return 0;
	if (why[0] != '\0')
		return va_fail(va, "dns", "DNS problem looking up %s: %s",
		    ehost, why);
	return va_fail(va, "dns", "DNS problem: %s for %s",
	    nx ? "NXDOMAIN" : "no A or AAAA record", ehost);
}

/* dns-01 (RFC 8555 8.4). */
static int
check_dns01(struct va *va)
{
	char name[NS_MAXDNAME], err[256], ename[NS_MAXDNAME + 64], **v = NULL;
	char *want = NULL, eval[100];
	size_t n = 0, i;
	int rc;

	if (strcmp(va->job->id_type, "dns") != 0)
		return va_fail(va, "malformed",
		    "dns-01 validates DNS names only, not %s", va->ename);
	/* A wildcard's job names the base name (acme.h). */
	if ((size_t)snprintf(name, sizeof(name), "_acme-challenge.%s",
	    va->job->id_value) >= sizeof(name))
		return va_fail(va, "dns", "name too long: %s", va->ename);
	ca_escape(ename, sizeof(ename), name, 0);
	if ((rc = digest_b64(va->job->key_auth, &want)) != 0)
		return va_internal(va, rc);
	rc = acme_dns_lookup(va->dns, name, ns_t_txt, va->deadline, &v, &n,
	    err, sizeof(err));
	if (rc < 0) {
		rc = va_internal(va, rc);
		goto out;
	}
	if (rc == ACME_DNS_FAIL) {
		rc = va_fail(va, "dns", "DNS problem: %s", err);
		goto out;
	}
	if (rc == ACME_DNS_NXDOMAIN || n == 0) {
		rc = va_fail(va, "unauthorized", "no TXT record found at %s%s",
		    ename, rc == ACME_DNS_NXDOMAIN ? " (NXDOMAIN)" : "");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(v[i], want) == 0) {
			rc = 0;
			goto out;
		}
	ca_escape(eval, sizeof(eval), v[0], 0);
	rc = va_fail(va, "unauthorized",
	    "incorrect TXT record \"%s\"%s found at %s", eval,
	    n > 1 ? " (and others)" : "", ename);
out:
	acme_dns_free(v);
	free(want);
	return rc;
}

/* The http-01 response being read. */
struct body {
	char		 buf[CA_ACME_VA_MAX_BODY + 1];
	size_t		 len;
	int		 toobig;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;

	n *= size;
	if (n > CA_ACME_VA_MAX_BODY - b->len) {
		b->toobig = 1;
		return 0;	/* curl stops reading: CURLE_WRITE_ERROR */
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return n;
}

/* URL host part: an IPv6 address in brackets. */
static int
url_host(const char *host, char *buf, size_t len)
{
	return snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]" : "%s",
	    host) < (int)len ? 0 : -1;
}

/*
 * Where a redirect may go (RFC 8555 8.3, as Boulder): http or https, to
 * the ports http-01 and tls-alpn-01 use (no port: the scheme's, which
 * here are those two), a host that is a name or an address. Fills
 * scheme ("http"/"https"), host, port, path (with query). 1: refused.
 */
static int
redirect_target(struct va *va, const char *url, char *scheme, size_t slen,
    char *host, size_t hlen, int *port, char *path, size_t plen)
{
	CURLU *u = NULL;
	char *s = NULL, *h = NULL, *p = NULL, *q = NULL, *pt = NULL, eurl[200];
	CURLUcode uc;
	long pn;
	int rc = 1;

	ca_escape(eurl, sizeof(eurl), url, 0);
	if ((u = ca_curl.url()) == NULL)
		return va_internal(va, ca_err(CA_ERR_NOMEM, "out of memory"));
	if ((uc = ca_curl.url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK ||
	    ca_curl.url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    ca_curl.url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    ca_curl.url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK) {
		va_fail(va, "connection", "redirect to a malformed URL \"%s\"",
		    eurl);
		goto out;
	}
	if (strcmp(s, "http") != 0 && strcmp(s, "https") != 0) {
		va_fail(va, "connection",
		    "redirect to \"%s\": only http and https are followed",
		    eurl);
		goto out;
	}
	if (ca_curl.url_get(u, CURLUPART_PORT, &pt, 0) == CURLUE_OK) {
		pn = strtol(pt, NULL, 10);
		if (pn != va->o->http_port && pn != va->o->tls_port) {
			va_fail(va, "connection",
			    "redirect to \"%s\": only ports %d and %d are followed, not %ld",
			    eurl, va->o->http_port, va->o->tls_port, pn);
			goto out;
		}
		*port = (int)pn;
	} else
		*port = strcmp(s, "http") == 0 ? va->o->http_port :
		    va->o->tls_port;
	(void)ca_curl.url_get(u, CURLUPART_QUERY, &q, 0);
	/* CURLUPART_HOST keeps an IPv6 address's brackets. */
	if (h[0] == '[') {
		memmove(h, h + 1, strlen(h));
		h[strcspn(h, "]")] = '\0';
	}
	if ((size_t)snprintf(scheme, slen, "%s", s) >= slen ||
	    (size_t)snprintf(host, hlen, "%s", h) >= hlen ||
	    (size_t)snprintf(path, plen, "%s%s%s", p, q != NULL ? "?" : "",
	    q != NULL ? q : "") >= plen) {
		va_fail(va, "connection", "redirect to \"%s\": URL too long",
		    eurl);
		goto out;
	}
	rc = 0;
out:
	ca_curl.free(s);
	ca_curl.free(h);
	ca_curl.free(p);
	ca_curl.free(q);
	ca_curl.free(pt);
	ca_curl.url_cleanup(u);
	return rc;
}

#define SETOPT(opt, val) do {						\
	if ((cc = ca_curl.easy_setopt(h, (opt), (val))) != CURLE_OK)	\
		goto setopt;						\
} while (0)

/*
 * One GET of url (host resolved to addrs, port). 0 with *status, the
 * body in b and, for a redirect, *location (malloc'd); else 1.
 */
static int
http_get(struct va *va, const char *url, const char *host, int port,
    char *addrs[ADDRS_MAX], size_t naddrs, long *status, struct body *b,
    char **location)
{
	CURL *h = NULL;
	struct curl_slist *resolve = NULL;
	char entry[1024], errbuf[CURL_ERROR_SIZE], eurl[200], eerr[200];
	char *loc = NULL;
	size_t i, off;
	CURLcode cc;
	int64_t left;
	int rc = 1;

	*status = 0;
	*location = NULL;
	b->len = 0;
	b->toobig = 0;
	errbuf[0] = '\0';
	ca_escape(eurl, sizeof(eurl), url, 0);
	if ((left = va_left(va)) <= 0)
		return va_fail(va, "connection", "%s: timed out", eurl);
	if ((h = ca_curl.easy_init()) == NULL)
		return va_internal(va, ca_err(CA_ERR_NOMEM, "out of memory"));
	/* The addresses we looked up, so that curl resolves nothing. */
	if (naddrs > 0 && strcmp(addrs[0], host) != 0) {
		off = (size_t)snprintf(entry, sizeof(entry), "%s:%d:", host,
		    port);
		for (i = 0; i < naddrs && off < sizeof(entry); i++)
			off += (size_t)snprintf(entry + off,
			    sizeof(entry) - off,
			    strchr(addrs[i], ':') != NULL ? "%s[%s]" : "%s%s",
			    i > 0 ? "," : "", addrs[i]);
		if (off >= sizeof(entry) ||
		    (resolve = ca_curl.slist_append(NULL, entry)) == NULL) {
			rc = va_internal(va, ca_err(CA_ERR_NOMEM,
			    "out of memory"));
			goto out;
		}
		SETOPT(CURLOPT_RESOLVE, resolve);
	}
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_PROXY, "");		/* no proxy from the environment */
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)left);
	SETOPT(CURLOPT_TIMEOUT_MS, (long)left);
	SETOPT(CURLOPT_MAXFILESIZE, (long)CA_ACME_VA_MAX_BODY);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, b);
	SETOPT(CURLOPT_USERAGENT, "ca-tools/" PACKAGE_VERSION " (ACME validator)");
	/* An https redirect's certificate is not checked (as Boulder). */
	SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	SETOPT(CURLOPT_FORBID_REUSE, 1L);
	cc = ca_curl.easy_perform(h);
	if (cc != CURLE_OK) {
		ca_escape(eerr, sizeof(eerr), errbuf[0] != '\0' ? errbuf :
		    ca_curl.easy_strerror(cc), 0);
		if (b->toobig || cc == CURLE_FILESIZE_EXCEEDED)
			rc = va_fail(va, "incorrectResponse",
			    "%s: the response is longer than %d bytes", eurl,
			    CA_ACME_VA_MAX_BODY);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = va_fail(va, "connection", "%s: timed out", eurl);
		else if (cc == CURLE_SSL_CONNECT_ERROR)
			rc = va_fail(va, "tls", "%s: %s", eurl, eerr);
		else
			rc = va_fail(va, "connection", "%s: %s", eurl, eerr);
		goto out;
	}
	ca_curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 300 && *status < 400 &&
	    ca_curl.easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK &&
	    loc != NULL && (*location = strdup(loc)) == NULL) {
		rc = va_internal(va, ca_err(CA_ERR_NOMEM, "out of memory"));
		goto out;
	}
	rc = 0;
	goto out;
setopt:
	rc = va_internal(va, ca_err(CA_ERR_CONFIG, "%s: %s", CA_LIBCURL_SONAME,
	    ca_curl.easy_strerror(cc)));
out:
	ca_curl.easy_cleanup(h);
	if (resolve != NULL)
		ca_curl.slist_free_all(resolve);
	return rc;
}

#undef SETOPT

/*
 * Whether s looks like a key authorization (base64url and '.'): only then
 * is some of it shown to the client.
 */
static int
keyauth_like(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* http-01 (RFC 8555 8.3), redirects followed as Boulder follows them. */
static int
check_http01(struct va *va)
{
	char scheme[8] = "http", host[NS_MAXDNAME], path[1024], url[2200];
	char hp[NS_MAXDNAME + 2], *addrs[ADDRS_MAX], *location = NULL;
	char eurl[200], ebody[120];
	struct body *b;
	size_t naddrs = 0;
	long status;
	int port = va->o->http_port, hops, rc;

	if ((b = malloc(sizeof(*b))) == NULL)
		return va_internal(va, ca_err(CA_ERR_NOMEM, "out of memory"));
	snprintf(host, sizeof(host), "%s", va->job->id_value);
	snprintf(path, sizeof(path), "/.well-known/acme-challenge/%s",
	    va->job->token);
	for (hops = 0;; hops++) {
		if (url_host(host, hp, sizeof(hp)) != 0 ||
		    (size_t)snprintf(url, sizeof(url), "%s://%s:%d%s", scheme,
		    hp, port, path) >= sizeof(url)) {
			rc = va_fail(va, "connection", "URL too long");
			goto out;
		}
		ca_escape(eurl, sizeof(eurl), url, 0);
		if ((rc = host_addrs(va, host, addrs, &naddrs)) != 0)
			goto out;
		rc = http_get(va, url, host, port, addrs, naddrs, &status, b,
		    &location);
		addrs_free(addrs, naddrs);
		naddrs = 0;
		if (rc != 0)
			goto out;
		if (location == NULL)
			break;
		if (hops == CA_ACME_VA_MAX_REDIRECTS) {
			rc = va_fail(va, "connection",
			    "%s: more than %d redirects", eurl,
			    CA_ACME_VA_MAX_REDIRECTS);
			goto out;
		}
		rc = redirect_target(va, location, scheme, sizeof(scheme), host,
		    sizeof(host), &port, path, sizeof(path));
		free(location);
		location = NULL;
		if (rc != 0)
			goto out;
	}
	/*
	 * After a redirect (to any host, maybe an internal one) only its
	 * host:port and the status are told, never what it answered.
	 */
	if (hops > 0) {
		char hpp[NS_MAXDNAME + 10];

		snprintf(hpp, sizeof(hpp), "%s:%d", hp, port);
		ca_escape(eurl, sizeof(eurl), hpp, 0);
	}
	if (status != 200) {
		rc = va_fail(va, "unauthorized",
		    "%s%s: HTTP status %ld, not 200", eurl,
		    hops > 0 ? " (redirected)" : "", status);
		goto out;
	}
	/* Trailing white space is allowed (as Boulder). */
	while (b->len > 0 && strchr(" \t\r\n", b->buf[b->len - 1]) != NULL)
		b->len--;
	b->buf[b->len] = '\0';
	if (strlen(b->buf) == b->len && strcmp(b->buf, va->job->key_auth) == 0) {
		rc = 0;
		goto out;
	}
	if (hops > 0)
		rc = va_fail(va, "unauthorized", "%s (redirected): HTTP status "
		    "200, the body is not the key authorization", eurl);
	else if (keyauth_like(b->buf, b->len)) {
		snprintf(ebody, sizeof(ebody), "%.40s", b->buf);
		rc = va_fail(va, "unauthorized", "%s: the body \"%s%s\" is not "
		    "the key authorization", eurl, ebody,
		    b->len > 40 ? "..." : "");
	} else
		rc = va_fail(va, "unauthorized", "%s: the body (%zu bytes) is "
		    "not the key authorization", eurl, b->len);
out:
	free(location);
	free(b);
	return rc;
}

/* A TCP connection to one of addrs:port before the deadline, or -1. */
static int
tcp_connect(struct va *va, char *addrs[ADDRS_MAX], size_t n, int port,
    char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	struct pollfd pfd;
	struct timeval tv;
	char service[8];
	socklen_t sl;
	int64_t left;
	size_t i;
	int fd = -1, e, r;

	snprintf(err, errlen, "no address");
	snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < n; i++) {
		if (ai != NULL)
			freeaddrinfo(ai);
		ai = NULL;
		if (fd >= 0)
			close(fd);
		fd = -1;
		if ((left = va_left(va)) <= 0) {
			snprintf(err, errlen, "timed out");
			break;
		}
		if (getaddrinfo(addrs[i], service, &hints, &ai) != 0)
			continue;
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			if (errno != EINPROGRESS) {
				snprintf(err, errlen, "%s", strerror(errno));
				continue;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			while ((r = poll(&pfd, 1, (int)left)) < 0 &&
			    errno == EINTR)
				left = va_left(va) > 0 ? va_left(va) : 0;
			if (r == 0) {
				snprintf(err, errlen, "timed out");
				continue;
			}
			sl = sizeof(e);
			if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
			    &sl) != 0 || e != 0) {
				snprintf(err, errlen, "%s",
				    strerror(r < 0 ? errno : e));
				continue;
			}
		}
		/* Blocking from here, each read and write bounded too. */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
			continue;
		left = va_left(va) > 1 ? va_left(va) : 1;
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		freeaddrinfo(ai);
		return fd;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The reverse name of an IP address (RFC 8738 6), for SNI. */
static int
reverse_name(const char *ip, char *buf, size_t len)
{
	unsigned char a[16];
	size_t off = 0;
	int i;

	buf[0] = '\0';
	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1 || len < 73)
		return -1;
	for (i = 15; i >= 0; i--)
		off += (size_t)snprintf(buf + off, len - off, "%x.%x.",
		    a[i] & 0xf, a[i] >> 4);
	snprintf(buf + off, len - off, "ip6.arpa");
	return 0;
}

/*
 * The certificate's identifiers and acmeIdentifier (RFC 8737 3): one
 * subjectAltName, the identifier; the extension critical, an OCTET
 * STRING of SHA-256(key authorization).
 */
static int
check_alpn_cert(struct va *va, gnutls_x509_crt_t crt)
{
	unsigned char want[32], san[NS_MAXDNAME + 1], ip[16];
	unsigned char ext[64];
	char oid[128], esan[300];
	size_t len, iplen;
	unsigned int critical, san_type;
	int i, r, found = 0, ret;
	gnutls_datum_t d;

	/* subjectAltName: exactly this identifier. */
	len = sizeof(san) - 1;
	r = gnutls_x509_crt_get_subject_alt_name2(crt, 0, san, &len,
	    &san_type, NULL);
	if (r < 0)
		return va_fail(va, "incorrectResponse",
		    "the tls-alpn-01 certificate has no subjectAltName");
	if (gnutls_x509_crt_get_subject_alt_name2(crt, 1, NULL, &(size_t){0},
	    NULL, NULL) != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
		return va_fail(va, "incorrectResponse",
		    "the tls-alpn-01 certificate has more than one subjectAltName");
	san[len < sizeof(san) ? len : sizeof(san) - 1] = '\0';
	if (strcmp(va->job->id_type, "ip") == 0) {
		iplen = inet_pton(AF_INET, va->job->id_value, ip) == 1 ? 4 :
		    inet_pton(AF_INET6, va->job->id_value, ip) == 1 ? 16 : 0;
		if (san_type != GNUTLS_SAN_IPADDRESS || len != iplen ||
		    memcmp(san, ip, iplen) != 0)
			return va_fail(va, "incorrectResponse",
			    "the tls-alpn-01 certificate does not name %s",
			    va->ename);
	} else if (san_type != GNUTLS_SAN_DNSNAME ||
	    strlen((char *)san) != len ||
	    strcasecmp((char *)san, va->job->id_value) != 0) {
		ca_escape(esan, sizeof(esan), (char *)san, 0);
		return va_fail(va, "incorrectResponse",
		    "the tls-alpn-01 certificate names \"%s\", not %s",
		    san_type == GNUTLS_SAN_DNSNAME ? esan : "something else",
		    va->ename);
	}
	/* acmeIdentifier. */
	for (i = 0;; i++) {
		len = sizeof(oid);
		r = gnutls_x509_crt_get_extension_info(crt, i, oid, &len,
		    &critical);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r < 0)
			return va_fail(va, "incorrectResponse",
			    "the tls-alpn-01 certificate's extensions do not parse");
		if (strcmp(oid, OID_ACME_ID) != 0)
			continue;
		if (found++)
			return va_fail(va, "incorrectResponse",
			    "the tls-alpn-01 certificate has two acmeIdentifier extensions");
		if (!critical)
			return va_fail(va, "incorrectResponse",
			    "the tls-alpn-01 certificate's acmeIdentifier is not critical");
		if (gnutls_x509_crt_get_extension_data2(crt, (unsigned)i, &d) <
		    0)
			return va_fail(va, "incorrectResponse",
			    "the tls-alpn-01 certificate's acmeIdentifier does not parse");
		/* DER: OCTET STRING (0x04) of 32 octets. */
		ret = d.size == 34 && d.data[0] == 0x04 && d.data[1] == 32;
		if (ret)
			memcpy(ext, d.data + 2, 32);
		gnutls_free(d.data);
		if (!ret)
			return va_fail(va, "incorrectResponse",
			    "the tls-alpn-01 certificate's acmeIdentifier is not an OCTET STRING of 32 octets");
	}
	if (!found)
		return va_fail(va, "incorrectResponse",
		    "the tls-alpn-01 certificate has no acmeIdentifier extension");
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, va->job->key_auth,
	    strlen(va->job->key_auth), want) != 0)
		return va_internal(va, ca_err(CA_ERR_CRYPTO, "SHA-256 failed"));
	if (gnutls_memcmp(want, ext, sizeof(want)) != 0)
		return va_fail(va, "unauthorized",
		    "the tls-alpn-01 certificate's acmeIdentifier is not the digest of the key authorization");
	return 0;
}

/* tls-alpn-01 (RFC 8737). The chain is not verified: self-signed is usual. */
static int
check_tlsalpn01(struct va *va)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t sess = NULL;
	gnutls_x509_crt_t crt = NULL;
	const gnutls_datum_t *peers;
	gnutls_datum_t proto = { (unsigned char *)(uintptr_t)ACME_TLS_ALPN,
	    sizeof(ACME_TLS_ALPN) - 1 }, sel;
	char *addrs[ADDRS_MAX], sni[NS_MAXDNAME], err[200], where[400];
	size_t naddrs = 0;
	unsigned npeers;
	int64_t left;
	int fd = -1, r, rc, is_ip;

	is_ip = strcmp(va->job->id_type, "ip") == 0;
	snprintf(where, sizeof(where), "%s:%d", va->ename, va->o->tls_port);
	if (is_ip) {
		if (reverse_name(va->job->id_value, sni, sizeof(sni)) != 0)
			return va_fail(va, "malformed", "%s is not an IP address",
			    va->ename);
	} else
		snprintf(sni, sizeof(sni), "%s", va->job->id_value);
	if ((rc = host_addrs(va, va->job->id_value, addrs, &naddrs)) != 0)
		return rc;
	fd = tcp_connect(va, addrs, naddrs, va->o->tls_port, err, sizeof(err));
	addrs_free(addrs, naddrs);
	if (fd < 0)
		return va_fail(va, "connection", "%s: %s", where, err);
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_init(&sess, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0 ||
	    /*
	     * The certificate is a throw-away that only carries the
	     * acmeIdentifier: its key usage is not ours to enforce (lego's
	     * and acme-client's lack digitalSignature), as Boulder. In
	     * GnuTLS 3.7 only %COMPAT lets a client accept the peer's.
	     */
	    gnutls_set_default_priority_append(sess, "%COMPAT", NULL, 0) < 0 ||
	    gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, cred) < 0 ||
	    gnutls_server_name_set(sess, GNUTLS_NAME_DNS, sni, strlen(sni)) <
	    0 ||
	    gnutls_alpn_set_protocols(sess, &proto, 1, 0) < 0) {
		rc = va_internal(va, ca_err(CA_ERR_CRYPTO,
		    "GnuTLS set-up failed"));
		goto out;
	}
	gnutls_transport_set_int(sess, fd);
	left = va_left(va);
	gnutls_handshake_set_timeout(sess, left > 1 ? (unsigned)left : 1);
	do
		r = gnutls_handshake(sess);
	while (r < 0 && gnutls_error_is_fatal(r) == 0 && va_left(va) > 0);
	if (r < 0) {
		rc = va_fail(va, r == GNUTLS_E_TIMEDOUT || r == GNUTLS_E_AGAIN ?
		    "connection" : "tls", "%s: TLS handshake: %s", where,
		    gnutls_strerror(r));
		goto out;
	}
	if (gnutls_alpn_get_selected_protocol(sess, &sel) < 0 ||
	    sel.size != proto.size || memcmp(sel.data, proto.data,
	    proto.size) != 0) {
		rc = va_fail(va, "tls", "%s: the server did not select %s",
		    where, ACME_TLS_ALPN);
		goto out;
	}
	if ((peers = gnutls_certificate_get_peers(sess, &npeers)) == NULL ||
	    npeers == 0) {
		rc = va_fail(va, "tls", "%s: no certificate", where);
		goto out;
	}
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0) {
		rc = va_fail(va, "incorrectResponse",
		    "%s: the certificate does not parse", where);
		goto out;
	}
	rc = check_alpn_cert(va, crt);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (sess != NULL) {
		if (rc == 0)
			(void)gnutls_bye(sess, GNUTLS_SHUT_WR);
		gnutls_deinit(sess);
	}
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	close(fd);
	return rc;
}

static int
job_ok(const struct ca_acme_job *j)
{
	return j != NULL && j->type != NULL && j->id_type != NULL &&
	    j->id_value != NULL && j->token != NULL && j->key_auth != NULL &&
	    (strcmp(j->id_type, "dns") == 0 || strcmp(j->id_type, "ip") == 0);
}

/*
 * ca_acme_check, with the nameservers of servers when it is not NULL
 * (the validator's, read before any chroot).
 */
static int
va_run(const struct ca_acme_va_opts *o, const struct acme_dns *servers,
    const struct ca_acme_job *job, char **problem_type, char **detail)
{
	struct va va;
	int rc, loaded = 0;

	*problem_type = NULL;
	*detail = NULL;
	memset(&va, 0, sizeof(va));
	va.o = o;
	va.job = job;
	va.deadline = acme_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms :
	    CA_ACME_VA_TIMEOUT_MS);
	if (!job_ok(job)) {
		rc = va_internal(&va, ca_err(CA_ERR_INVAL,
		    "a validation job without its fields"));
		goto out;
	}
	ca_escape(va.ename, sizeof(va.ename), job->id_value, 0);
	if ((rc = servers != NULL ? acme_dns_copy(servers, &va.dns) :
	    acme_dns_open(o->resolver, &va.dns)) != 0) {
		rc = va_internal(&va, rc);
		goto out;
	}
	if (strcmp(job->type, "http-01") == 0) {
		if ((rc = ca_curl_load()) != 0) {
			rc = va_internal(&va, rc);
			goto out;
		}
		loaded = 1;
		rc = check_http01(&va);
	} else if (strcmp(job->type, "dns-01") == 0)
		rc = check_dns01(&va);
	else if (strcmp(job->type, "tls-alpn-01") == 0)
		rc = check_tlsalpn01(&va);
	else
		rc = va_internal(&va, ca_err(CA_ERR_INVAL,
		    "no such challenge type"));
out:
	if (loaded)
		ca_curl_unload();
	acme_dns_close(va.dns);
	if (rc == 0)
		return 0;
	if (va.type == NULL)
		va_fail(&va, "serverInternal", "validation failed");
	if (asprintf(problem_type, "%s%s", ACME_ERR, va.type) < 0)
		*problem_type = NULL;
	*detail = strdup(va.detail);
	return va.internal != 0 ? va.internal : 1;
}

int
ca_acme_check(const struct ca_acme_va_opts *o, const struct ca_acme_job *job,
    char **problem_type, char **detail)
{
	return va_run(o, NULL, job, problem_type, detail);
}

/* The validator. Outcomes are events (ca_info), not warnings. */
struct ca_acme_validator {
	ca_acme_report_fn	*report;
	void			*arg;
	struct ca_acme_va_opts	 o;
	char			*resolver;
	pthread_mutex_t		 lock;
	pthread_cond_t		 more;		/* a job queued, or stopping */
	pthread_cond_t		 done;		/* a job reported */
	struct ca_acme_job	*q[CA_ACME_VA_QUEUE];
	size_t			 head, n;
	unsigned		 running;	/* jobs being checked */
	int			 stopping;
	pthread_t		*threads;
	unsigned		 nthreads;
	int			 curl_loaded;
	struct acme_dns		*servers;	/* the nameservers */
};

static void
log_outcome(const struct ca_acme_job *job, int ok, const char *type,
    const char *detail, int64_t ms)
{
	char ct[64], idv[300], ch[100], ty[120], de[700];

	ca_escape(ct, sizeof(ct), job->type, 1);
	ca_escape(idv, sizeof(idv), job->id_value, 0);
	ca_escape(ch, sizeof(ch), job->challenge != NULL ? job->challenge :
	    "-", 1);
	if (ok) {
		ca_info("acme: %s %s:\"%s\" challenge %s: valid (%lld ms)", ct,
		    job->id_type, idv, ch, (long long)ms);
		return;
	}
	ca_escape(ty, sizeof(ty), type != NULL ? type : "-", 1);
	ca_escape(de, sizeof(de), detail != NULL ? detail : "", 0);
	ca_info("acme: %s %s:\"%s\" challenge %s: invalid %s \"%s\" (%lld ms)",
	    ct, job->id_type, idv, ch, ty, de, (long long)ms);
}

static void *
validator_main(void *arg)
{
	struct ca_acme_validator *v = arg;
	struct ca_acme_job *job;
	char *type, *detail;
	int64_t t0;
	int rc, r;

	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (v->n == 0 && !v->stopping)
			pthread_cond_wait(&v->more, &v->lock);
		if (v->stopping)
			break;
		job = v->q[v->head];
		v->head = (v->head + 1) % CA_ACME_VA_QUEUE;
		v->n--;
		v->running++;
		pthread_mutex_unlock(&v->lock);

		t0 = acme_now_ms();
		rc = va_run(&v->o, v->servers, job, &type, &detail);
		log_outcome(job, rc == 0, type, detail, acme_now_ms() - t0);
		r = v->report(v->arg, job, rc == 0,
		    rc == 0 ? NULL : type != NULL ? type :
		    ACME_ERR "serverInternal",
		    rc == 0 ? NULL : detail != NULL ? detail : "out of memory",
		    time(NULL));
		if (r != 0)
			ca_warn("acme: challenge %s: the outcome was not recorded: %s",
			    job->challenge != NULL ? job->challenge : "-",
			    ca_errmsg());
		free(type);
		free(detail);
		ca_acme_job_free(job);

		pthread_mutex_lock(&v->lock);
		v->running--;
		pthread_cond_broadcast(&v->done);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

int
ca_acme_validator_new_report(ca_acme_report_fn *report, void *arg,
    const struct ca_acme_va_opts *o, unsigned nthreads,
    struct ca_acme_validator **out)
{
	struct ca_acme_validator *v;
	unsigned i;
	int rc;

	*out = NULL;
	if (nthreads < 1 || nthreads > 64)
		return ca_err(CA_ERR_INVAL,
		    "ACME validator: %u threads (1 to 64)", nthreads);
	if (o->resolver != NULL && (rc = ca_acme_resolver_check(o->resolver)) !=
	    0)
		return rc;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->threads = calloc(nthreads, sizeof(*v->threads))) == NULL) {
		free(v);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	v->report = report;
	v->arg = arg;
	v->o = *o;
	if (o->resolver != NULL && (v->resolver = strdup(o->resolver)) == NULL) {
		free(v->threads);
		free(v);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	v->o.resolver = v->resolver;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->more, NULL);
	pthread_cond_init(&v->done, NULL);
	if ((rc = acme_dns_open(v->resolver, &v->servers)) != 0) {
		ca_acme_validator_free(v);
		return rc;
	}
	/*
	 * libcurl's global set-up is not thread-safe: load it here, once,
	 * before the threads (the checks' own loads then only count).
	 */
	if ((rc = ca_curl_load()) == 0)
		v->curl_loaded = 1;
	else
		ca_warn("acme: http-01 cannot be validated: %s", ca_errmsg());
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&v->threads[i], NULL, validator_main, v) !=
		    0) {
			rc = ca_err(CA_ERR_IO,
			    "ACME validator: cannot start a thread");
			ca_acme_validator_free(v);
			return rc;
		}
		v->nthreads++;
	}
	*out = v;
	return 0;
}

int
ca_acme_validator_submit(struct ca_acme_validator *v, struct ca_acme_job *job)
{
	char ch[100];
	int full;

	pthread_mutex_lock(&v->lock);
	full = v->stopping || v->n == CA_ACME_VA_QUEUE;
	if (!full) {
		v->q[(v->head + v->n) % CA_ACME_VA_QUEUE] = job;
		v->n++;
		pthread_cond_signal(&v->more);
	}
	pthread_mutex_unlock(&v->lock);
	if (!full)
		return 0;
	ca_escape(ch, sizeof(ch), job->challenge != NULL ? job->challenge : "-",
	    1);
	ca_acme_job_free(job);
	return ca_err(CA_ERR_TEMP,
	    "acme: the validator's queue is full: challenge %s stays processing",
	    ch);
}

int
ca_acme_validator_drain(struct ca_acme_validator *v, unsigned max_ms)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += max_ms / 1000;
	ts.tv_nsec += (long)(max_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&v->lock);
	while ((v->n > 0 || v->running > 0) && rc == 0)
		if (pthread_cond_timedwait(&v->done, &v->lock, &ts) ==
		    ETIMEDOUT)
			rc = -1;
	rc = v->n > 0 || v->running > 0;
	pthread_mutex_unlock(&v->lock);
	return rc ? ca_err(CA_ERR_TEMP,
	    "acme: validations still running after %u ms", max_ms) : 0;
}

void
ca_acme_validator_free(struct ca_acme_validator *v)
{
	unsigned i;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	v->stopping = 1;
	pthread_cond_broadcast(&v->more);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < v->nthreads; i++)
		pthread_join(v->threads[i], NULL);
	for (; v->n > 0; v->n--) {
		ca_acme_job_free(v->q[v->head]);
		v->head = (v->head + 1) % CA_ACME_VA_QUEUE;
	}
	if (v->curl_loaded)
		ca_curl_unload();
	acme_dns_close(v->servers);
	pthread_cond_destroy(&v->done);
	pthread_cond_destroy(&v->more);
	pthread_mutex_destroy(&v->lock);
	free(v->threads);
	free(v->resolver);
	free(v);
}
