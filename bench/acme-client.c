/*
 * acme-client - the scripted ACME client of bench/acme.sh, in C: complete
 * http-01 orders as fast as the server allows, over keep-alive HTTPS,
 * never sleeping between polls. tests/acme-bench-client.py does the same
 * in python at about 7.8 ms of client CPU per order against pebble, this
 * at about 3 ms (measured on the 2-core machine, where a syscall is dear):
 * python could not load a server five times faster than pebble on the
 * same two cores.
 *
 * Usage: acme-client --directory URL --trust CAFILE --http-port PORT
 *            --clients N --seconds S --webroot DIR [--server-pid PID]
 *            [--certs DIR]
 *
 * N worker processes (one per concurrent client), each with its own ES256
 * account and one libcurl handle (one kept-alive connection), start
 * together and complete orders until S seconds have passed: newOrder, the
 * authorization, the http-01 challenge (its key authorization written to
 * DIR/TOKEN, served by a responder thread of the parent on
 * 127.0.0.1:PORT), POST-as-GET polls of the challenge until it is not
 * pending or processing, finalize with a CSR for a new P-256 key, polls of
 * the order, the certificate downloaded. An error answer or an order that
 * fails counts as an error and the worker starts a new order.
 *
 * Prints the line tests/acme-bench-client.py prints (ACMEBENCH ...).
 * With --server-pid, the server's CPU (utime + stime + cutime + cstime of
 * /proc/PID/stat) is read when the workers start and after the last ends.
 *
 * Exit status: 0 when some order completed, 1 otherwise, 2 usage error.
 *
 * Build: cc -O2 -o acme-client acme-client.c $(pkg-config --cflags --libs
 *        gnutls json-c libcurl) -lpthread    (bench/acme.sh does)
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <json-c/json.h>

#define MAXBODY		(1 << 20)
#define MAXLAT		(1 << 20)

struct opts {
	const char	*directory, *trust, *webroot, *certs;
	int		 http_port, clients;
	double		 seconds;
	long		 server_pid;
};

struct buf {
	char	*p;
	size_t	 len;
};

struct acct {
	CURL			*curl;
	struct curl_slist	*jose;
	gnutls_privkey_t	 key;
	char			 jwk[256], thumb[64], kid[1024];
	char			 nonce[256], location[1024];
	char			*new_nonce, *new_account, *new_order;
	struct buf		 body;
	char			*pem;		/* the last certificate chain */
	long			 status;
	unsigned long		 codes[600];
	unsigned long		 polls;
	char			 err[400];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
b64u(const unsigned char *in, size_t n, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		v = in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = in[i] << 16 | in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
	}
	out[o] = '\0';
}

/* b64u_alloc: base64url of N bytes, malloc'd */
static char *
b64u_alloc(const void *in, size_t n)
{
	char *o;

	if ((o = malloc(n / 3 * 4 + 5)) != NULL)
		b64u(in, n, o);
	return o;
}

/* fixed32: a big-endian integer as exactly 32 octets (ECDSA P-256) */
static void
fixed32(const gnutls_datum_t *d, unsigned char out[32])
{
	const unsigned char *p = d->data;
	size_t n = d->size;

	while (n > 32 && *p == 0) {
		p++;
		n--;
	}
	memset(out, 0, 32);
	memcpy(out + 32 - n, p, n);
}

static void
seterr(struct acct *a, const char *fmt, ...)
{
	va_list ap;

	if (a->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
}

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	char *q;

	if (b->len + sz * n > MAXBODY)
		return 0;
	if ((q = realloc(b->p, b->len + sz * n + 1)) == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, p, sz * n);
	b->len += sz * n;
	b->p[b->len] = '\0';
	return sz * n;
}

static void
header_value(const char *p, size_t n, size_t skip, char *out, size_t outsz)
{
	p += skip;
	n -= skip;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct acct *a = arg;
	size_t len = sz * n;

	if (len > 13 && strncasecmp(p, "Replay-Nonce:", 13) == 0)
		header_value(p, len, 13, a->nonce, sizeof(a->nonce));
	else if (len > 9 && strncasecmp(p, "Location:", 9) == 0)
		header_value(p, len, 9, a->location, sizeof(a->location));
	return len;
}

/* request: METHOD ("GET", "HEAD", "POST") URL [BODY]; a->status, a->body */
static int
request(struct acct *a, const char *method, const char *url, const char *body)
{
	CURLcode rc;

	a->body.len = 0;
	if (a->body.p != NULL)
		a->body.p[0] = '\0';
	a->location[0] = '\0';
	curl_easy_setopt(a->curl, CURLOPT_URL, url);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(a->curl, CURLOPT_NOBODY, 0L);
		curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, a->jose);
	} else {
		curl_easy_setopt(a->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(a->curl, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
	}
	if ((rc = curl_easy_perform(a->curl)) != CURLE_OK) {
		seterr(a, "%s %s: %s", method, url, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &a->status);
	if (a->status >= 0 && a->status < 600)
		a->codes[a->status]++;
	return 0;
}

/* post: a JWS (kid, or jwk when KID is NULL) of PAYLOAD (NULL: POST-as-GET) */
static int
post(struct acct *a, const char *url, const char *payload, int use_jwk)
{
	char prot[2048], *p64 = NULL, *pl64 = NULL, *input = NULL, *body = NULL;
	char sig64[100];
	gnutls_datum_t data, sig = { NULL, 0 }, r = { NULL, 0 }, s = { NULL, 0 };
	unsigned char rs[64];
	int n, ret = -1;

	if (a->nonce[0] == '\0' && request(a, "HEAD", a->new_nonce, NULL) != 0)
		return -1;
	if (use_jwk)
		n = snprintf(prot, sizeof(prot),
		    "{\"alg\":\"ES256\",\"nonce\":\"%s\",\"url\":\"%s\",\"jwk\":%s}",
		    a->nonce, url, a->jwk);
	else
		n = snprintf(prot, sizeof(prot),
		    "{\"alg\":\"ES256\",\"nonce\":\"%s\",\"url\":\"%s\",\"kid\":\"%s\"}",
		    a->nonce, url, a->kid);
	a->nonce[0] = '\0';
	if (n < 0 || (size_t)n >= sizeof(prot))
		goto out;
	p64 = b64u_alloc(prot, (size_t)n);
	pl64 = payload == NULL ? strdup("") : b64u_alloc(payload, strlen(payload));
	if (p64 == NULL || pl64 == NULL ||
	    (input = malloc(strlen(p64) + strlen(pl64) + 2)) == NULL)
		goto out;
	sprintf(input, "%s.%s", p64, pl64);
	data.data = (unsigned char *)input;
	data.size = (unsigned)strlen(input);
	if (gnutls_privkey_sign_data(a->key, GNUTLS_DIG_SHA256, 0, &data, &sig) < 0 ||
	    gnutls_decode_rs_value(&sig, &r, &s) < 0) {
		seterr(a, "signing failed");
		goto out;
	}
	fixed32(&r, rs);
	fixed32(&s, rs + 32);
	b64u(rs, 64, sig64);
	if ((body = malloc(strlen(p64) + strlen(pl64) + strlen(sig64) + 64)) == NULL)
		goto out;
	sprintf(body, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
	    p64, pl64, sig64);
	if (request(a, "POST", url, body) != 0)
		goto out;
	if (a->status >= 400) {
		seterr(a, "%ld on %s: %.300s", a->status, url, a->body.p ? a->body.p : "");
		goto out;
	}
	ret = 0;
out:
	gnutls_free(sig.data);
	gnutls_free(r.data);
	gnutls_free(s.data);
	free(p64);
	free(pl64);
	free(input);
	free(body);
	return ret;
}

static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* body_json: the last answer's body parsed (NULL if it is not JSON) */
static json_object *
body_json(struct acct *a)
{
	return a->body.p == NULL ? NULL : json_tokener_parse(a->body.p);
}

static int
account(struct acct *a, const struct opts *o)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	unsigned char xb[32], yb[32], dg[32];
	char x64[48], y64[48];
	json_object *d;
	gnutls_ecc_curve_t curve;
	int ret = -1;

	if ((a->curl = curl_easy_init()) == NULL)
		return -1;
	a->jose = curl_slist_append(NULL, "Content-Type: application/jose+json");
	curl_easy_setopt(a->curl, CURLOPT_CAINFO, o->trust);
	curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, &a->body);
	curl_easy_setopt(a->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(a->curl, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(a->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
	/* HTTP/1.1 keep-alive for every server (pebble would speak h2). */
	curl_easy_setopt(a->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);

	if (gnutls_privkey_init(&a->key) < 0 ||
	    gnutls_privkey_generate(a->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_privkey_export_ecc_raw2(a->key, &curve, &x, &y, NULL, 0) < 0)
		goto out;
	fixed32(&x, xb);
	fixed32(&y, yb);
	b64u(xb, 32, x64);
	b64u(yb, 32, y64);
	snprintf(a->jwk, sizeof(a->jwk),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x64, y64);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, a->jwk, strlen(a->jwk), dg);
	b64u(dg, 32, a->thumb);

	if (request(a, "GET", o->directory, NULL) != 0)
		goto out;
	if ((d = body_json(a)) == NULL) {
		seterr(a, "the directory is not JSON");
		goto out;
	}
	a->new_nonce = jstr(d, "newNonce") ? strdup(jstr(d, "newNonce")) : NULL;
	a->new_account = jstr(d, "newAccount") ? strdup(jstr(d, "newAccount")) : NULL;
	a->new_order = jstr(d, "newOrder") ? strdup(jstr(d, "newOrder")) : NULL;
	json_object_put(d);
	if (a->new_nonce == NULL || a->new_account == NULL || a->new_order == NULL) {
		seterr(a, "the directory lacks newNonce, newAccount or newOrder");
		goto out;
	}
	if (post(a, a->new_account, "{\"termsOfServiceAgreed\":true}", 1) != 0)
		goto out;
	if (a->location[0] == '\0') {
		seterr(a, "newAccount: no Location");
		goto out;
	}
	snprintf(a->kid, sizeof(a->kid), "%s", a->location);
	ret = 0;
out:
	gnutls_free(x.data);
	gnutls_free(y.data);
	return ret;
}

/* poll: POST-as-GET URL until its status is neither pending nor
 * processing; the final object (the caller puts it) or NULL */
static json_object *
poll_url(struct acct *a, const char *url)
{
	json_object *o;
	const char *st;

	for (;;) {
		if (post(a, url, NULL, 0) != 0)
			return NULL;
		if ((o = body_json(a)) == NULL || (st = jstr(o, "status")) == NULL) {
			seterr(a, "%s: no status", url);
			json_object_put(o);
			return NULL;
		}
		if (strcmp(st, "pending") != 0 && strcmp(st, "processing") != 0)
			return o;
		json_object_put(o);
		a->polls++;
	}
}

static int
csr_der(const char *name, gnutls_datum_t *der)
{
	gnutls_privkey_t k = NULL;
	gnutls_pubkey_t pk = NULL;
	gnutls_x509_crq_t crq = NULL;
	int ret = -1;

	if (gnutls_privkey_init(&k) < 0 ||
	    gnutls_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_pubkey_init(&pk) < 0 ||
	    gnutls_pubkey_import_privkey(pk, k, 0, 0) < 0 ||
	    gnutls_x509_crq_init(&crq) < 0 ||
	    gnutls_x509_crq_set_version(crq, 1) < 0 ||
	    gnutls_x509_crq_set_pubkey(crq, pk) < 0 ||
	    gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0,
	    name, (unsigned)strlen(name)) < 0 ||
	    gnutls_x509_crq_set_subject_alt_name(crq, GNUTLS_SAN_DNSNAME, name,
	    (unsigned)strlen(name), GNUTLS_FSAN_SET) < 0 ||
	    gnutls_x509_crq_set_key_usage(crq, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
	    gnutls_x509_crq_privkey_sign(crq, k, GNUTLS_DIG_SHA256, 0) < 0 ||
	    gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der) < 0)
		goto out;
	ret = 0;
out:
	gnutls_x509_crq_deinit(crq);
	gnutls_pubkey_deinit(pk);
	gnutls_privkey_deinit(k);
	return ret;
}

/* order: one complete order for NAME; 0, or -1 (a->err says why) */
static int
order(struct acct *a, const struct opts *o, const char *name)
{
	char payload[512], order_url[1024], path[4096], ka[256], *csr64 = NULL;
	char *finalize = NULL, *authz = NULL, *chall = NULL, *cert = NULL;
	json_object *j = NULL, *arr, *c;
	gnutls_datum_t der = { NULL, 0 };
	const char *st, *tok = NULL;
	size_t i;
	FILE *f;
	int ret = -1;

	snprintf(payload, sizeof(payload),
	    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}", name);
	if (post(a, a->new_order, payload, 0) != 0)
		goto out;
	snprintf(order_url, sizeof(order_url), "%s", a->location);
	if ((j = body_json(a)) == NULL || jstr(j, "finalize") == NULL ||
	    !json_object_object_get_ex(j, "authorizations", &arr) ||
	    json_object_array_length(arr) != 1) {
		seterr(a, "newOrder: unexpected answer %.200s", a->body.p);
		goto out;
	}
	finalize = strdup(jstr(j, "finalize"));
	authz = strdup(json_object_get_string(json_object_array_get_idx(arr, 0)));
	json_object_put(j);
	j = NULL;

	if (post(a, authz, NULL, 0) != 0)
		goto out;
	if ((j = body_json(a)) == NULL || (st = jstr(j, "status")) == NULL ||
	    !json_object_object_get_ex(j, "challenges", &arr)) {
		seterr(a, "authz: unexpected answer");
		goto out;
	}
	if (strcmp(st, "valid") != 0) {
		for (i = 0; i < json_object_array_length(arr); i++) {
			c = json_object_array_get_idx(arr, i);
			if (jstr(c, "type") && strcmp(jstr(c, "type"), "http-01") == 0) {
				tok = jstr(c, "token");
				chall = jstr(c, "url") ? strdup(jstr(c, "url")) : NULL;
			}
		}
		if (tok == NULL || chall == NULL || strchr(tok, '/') != NULL ||
		    strlen(tok) > 128) {
			seterr(a, "authz: no usable http-01 challenge");
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", o->webroot, tok);
		snprintf(ka, sizeof(ka), "%s.%s", tok, a->thumb);
		if ((f = fopen(path, "w")) == NULL || fputs(ka, f) < 0 || fclose(f) != 0) {
			seterr(a, "%s: %s", path, strerror(errno));
			goto out;
		}
		json_object_put(j);
		j = NULL;
		if (post(a, chall, "{}", 0) != 0)
			goto unlink;
		j = body_json(a);
		if ((st = jstr(j, "status")) == NULL ||
		    strcmp(st, "pending") == 0 || strcmp(st, "processing") == 0) {
			json_object_put(j);
			j = poll_url(a, chall);
		}
unlink:
		unlink(path);
		if (j == NULL)
			goto out;
		if ((st = jstr(j, "status")) == NULL || strcmp(st, "valid") != 0) {
			seterr(a, "challenge not valid: %.300s",
			    json_object_to_json_string(j));
			goto out;
		}
	}
	json_object_put(j);
	j = NULL;

	if (csr_der(name, &der) != 0 || (csr64 = b64u_alloc(der.data, der.size)) == NULL) {
		seterr(a, "CSR failed");
		goto out;
	}
	snprintf(path, sizeof(path), "{\"csr\":\"%s\"}", csr64);
	if (post(a, finalize, path, 0) != 0)
		goto out;
	j = body_json(a);
	if ((st = jstr(j, "status")) == NULL || strcmp(st, "valid") != 0) {
		json_object_put(j);
		if ((j = poll_url(a, order_url)) == NULL)
			goto out;
	}
	if ((st = jstr(j, "status")) == NULL || strcmp(st, "valid") != 0 ||
	    jstr(j, "certificate") == NULL) {
		seterr(a, "order not valid: %.300s", json_object_to_json_string(j));
		goto out;
	}
	cert = strdup(jstr(j, "certificate"));
	if (post(a, cert, NULL, 0) != 0)
		goto out;
	if (a->body.p == NULL || strstr(a->body.p, "BEGIN CERTIFICATE") == NULL) {
		seterr(a, "no certificate at %s", cert);
		goto out;
	}
	free(a->pem);
	a->pem = strdup(a->body.p);
	ret = 0;
out:
	json_object_put(j);
	gnutls_free(der.data);
	free(csr64);
	free(finalize);
	free(authz);
	free(chall);
	free(cert);
	return ret;
}

/* --- the http-01 responder: DIR/TOKEN for GET /.well-known/acme-challenge/TOKEN */

static const char *responder_root;

static void
respond(int c)
{
	static const char pre[] = "GET /.well-known/acme-challenge/";
	char req[4096], path[4200], val[512], out[1024];
	const char *code = "404 Not Found";
	size_t n = 0, vl = 0, tl;
	ssize_t r;
	int fd;
	struct timeval tv = { 2, 0 };

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < sizeof(req) - 1 && (r = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	if (strncmp(req, pre, sizeof(pre) - 1) == 0) {
		tl = strcspn(req + sizeof(pre) - 1, " ?/.\r\n");
		if (tl > 0 && tl < 200 && req[sizeof(pre) - 1 + tl] == ' ') {
			snprintf(path, sizeof(path), "%s/%.*s", responder_root, (int)tl,
			    req + sizeof(pre) - 1);
			if ((fd = open(path, O_RDONLY)) >= 0) {
				if ((r = read(fd, val, sizeof(val))) > 0) {
					vl = (size_t)r;
					code = "200 OK";
				}
				close(fd);
			}
		}
	}
	n = (size_t)snprintf(out, sizeof(out), "HTTP/1.1 %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s", code, vl, (int)vl, val);
	if (write(c, out, n) < 0)
		return;
}

static void *
conn(void *arg)
{
	int c = (int)(intptr_t)arg;

	respond(c);
	close(c);
	return NULL;
}

/* A thread per connection: a validator opens several at once, and one
 * that is slow to send its request must not hold up the others. */
static void *
responder(void *arg)
{
	pthread_attr_t at;
	pthread_t t;
	int s = *(int *)arg, c;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if (pthread_create(&t, &at, conn, (void *)(intptr_t)c) != 0) {
			respond(c);
			close(c);
		}
	}
}

static unsigned long long
cpu_ticks(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long long v[4] = { 0, 0, 0, 0 };
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) == NULL || (p = strrchr(buf, ')')) == NULL) {
		fclose(f);
		return 0;
	}
	fclose(f);
	p += 2;
	/* fields 3..13 skipped, then utime stime cutime cstime (14-17) */
	for (i = 3; i < 14 && p != NULL; i++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p == NULL || sscanf(p, "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return 0;
	return v[0] + v[1] + v[2] + v[3];
}

static int
cmpd(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* worker I: account, then wait for the start (EOF on GO), orders until
 * the deadline; its results in RES (a file) */
static int
worker(int i, const struct opts *o, int ready, int go, const char *res)
{
	struct acct a;
	char name[256], c;
	double t0, end;
	unsigned long orders = 0, errors = 0, k;
	FILE *f;

	memset(&a, 0, sizeof(a));
	if (account(&a, o) != 0) {
		fprintf(stderr, "acme-client: worker %d: account: %s\n", i, a.err);
		/* the parent counts this as a failed start, not a ready worker */
		if (write(ready, "x", 1) != 1)
			return 1;
		return 1;
	}
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		return 1;
	if ((f = fopen(res, "w")) == NULL)
		return 1;
	end = now() + o->seconds;
	for (k = 1; (t0 = now()) < end; k++) {
		snprintf(name, sizeof(name), "w%d-%lu.bench.test", i, k);
		if (order(&a, o, name) == 0) {
			orders++;
			fprintf(f, "L %.6f\n", now() - t0);
		} else {
			errors++;
			a.nonce[0] = '\0';
			if (errors > 100 && orders == 0)
				break;
		}
	}
	fprintf(f, "R %lu %lu %lu\n", orders, errors, a.polls);
	for (k = 0; k < 600; k++)
		if (a.codes[k] > 0)
			fprintf(f, "C %lu %lu\n", k, a.codes[k]);
	if (a.err[0] != '\0')
		fprintf(f, "E %s\n", a.err);
	fclose(f);
	if (o->certs != NULL && a.pem != NULL) {
		snprintf(name, sizeof(name), "%s/w%d.pem", o->certs, i);
		if ((f = fopen(name, "w")) != NULL) {
			fputs(a.pem, f);
			fclose(f);
		}
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: acme-client --directory URL --trust CAFILE --http-port PORT "
	    "--clients N --seconds S --webroot DIR [--server-pid PID] [--certs DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "directory", required_argument, NULL, 'd' },
		{ "trust", required_argument, NULL, 't' },
		{ "http-port", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "webroot", required_argument, NULL, 'w' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "certs", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { NULL, NULL, NULL, NULL, 0, 1, 10, 0 };
	struct sockaddr_in sin;
	struct rusage ru;
	pthread_t th;
	int ch, s, one = 1, rp[2], gp[2], i, st, ok = 0;
	unsigned long orders = 0, errors = 0, polls = 0, codes[600], a, b, cc;
	unsigned long long cpu0 = 0, cpu1 = 0;
	double t0, t1, *lat, x, secs, cpu_s = -1;
	size_t nlat = 0;
	char res[4200], line[600], first[600] = "", cbuf[4096] = "";
	pid_t *pids;
	FILE *f;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': o.directory = optarg; break;
		case 't': o.trust = optarg; break;
		case 'p': o.http_port = atoi(optarg); break;
		case 'n': o.clients = atoi(optarg); break;
		case 's': o.seconds = atof(optarg); break;
		case 'w': o.webroot = optarg; break;
		case 'P': o.server_pid = atol(optarg); break;
		case 'c': o.certs = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || o.directory == NULL || o.trust == NULL ||
	    o.webroot == NULL || o.http_port <= 0 || o.http_port > 65535 ||
	    o.clients <= 0 || o.clients > 256 || o.seconds <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (gnutls_global_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;

	responder_root = o.webroot;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)o.http_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(s, 128) < 0) {
		fprintf(stderr, "acme-client: responder on 127.0.0.1:%d: %s\n",
		    o.http_port, strerror(errno));
		return 1;
	}

	if (pipe(rp) != 0 || pipe(gp) != 0 ||
	    (pids = calloc((size_t)o.clients, sizeof(*pids))) == NULL)
		return 1;
	for (i = 0; i < o.clients; i++) {
		snprintf(res, sizeof(res), "%s/.res%d", o.webroot, i);
		if ((pids[i] = fork()) < 0)
			return 1;
		if (pids[i] == 0) {
			close(s);
			close(rp[0]);
			close(gp[1]);
			_exit(worker(i, &o, rp[1], gp[0], res));
		}
	}
	/* The responder starts after the fork: no thread is forked. */
	if (pthread_create(&th, NULL, responder, &s) != 0)
		return 1;
	close(rp[1]);
	close(gp[0]);
	for (i = 0; i < o.clients; i++) {
		char c;

		if (read(rp[0], &c, 1) != 1 || c != 'r') {
			fprintf(stderr, "acme-client: a worker failed before the start\n");
			for (i = 0; i < o.clients; i++)
				kill(pids[i], SIGTERM);
			close(gp[1]);
			for (i = 0; i < o.clients; i++)
				waitpid(pids[i], NULL, 0);
			return 1;
		}
	}
	if (o.server_pid > 0)
		cpu0 = cpu_ticks(o.server_pid);
	t0 = now();
	close(gp[1]);
	for (i = 0; i < o.clients; i++)
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fprintf(stderr, "acme-client: worker %d failed\n", i);
	t1 = now();
	if (o.server_pid > 0) {
		cpu1 = cpu_ticks(o.server_pid);
		cpu_s = (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK);
	}
	getrusage(RUSAGE_CHILDREN, &ru);

	memset(codes, 0, sizeof(codes));
	if ((lat = malloc(MAXLAT * sizeof(*lat))) == NULL)
		return 1;
	for (i = 0; i < o.clients; i++) {
		snprintf(res, sizeof(res), "%s/.res%d", o.webroot, i);
		if ((f = fopen(res, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "L %lf", &x) == 1 && nlat < MAXLAT)
				lat[nlat++] = x;
			else if (sscanf(line, "R %lu %lu %lu", &a, &b, &cc) == 3) {
				orders += a;
				errors += b;
				polls += cc;
			} else if (sscanf(line, "C %lu %lu", &a, &b) == 2 && a < 600)
				codes[a] += b;
			else if (line[0] == 'E' && first[0] == '\0')
				snprintf(first, sizeof(first), "%s", line + 2);
		}
		fclose(f);
		unlink(res);
	}
	qsort(lat, nlat, sizeof(*lat), cmpd);
	secs = t1 - t0;
	for (a = 0; a < 600; a++)
		if (codes[a] > 0)
			snprintf(cbuf + strlen(cbuf), sizeof(cbuf) - strlen(cbuf), "%s%lu:%lu",
			    cbuf[0] ? "," : "", a, codes[a]);
	printf("ACMEBENCH clients=%d orders=%lu errors=%lu seconds=%.3f rate=%.1f ",
	    o.clients, orders, errors, secs, secs > 0 ? orders / secs : 0);
	if (nlat > 0)
		printf("p50_ms=%.1f p99_ms=%.1f ", lat[nlat / 2] * 1000,
		    lat[(size_t)(0.99 * nlat) < nlat ? (size_t)(0.99 * nlat) : nlat - 1] * 1000);
	else
		printf("p50_ms=? p99_ms=? ");
	if (cpu_s >= 0 && orders > 0)
		printf("server_cpu_s=%.2f cpu_ms_per_order=%.2f ", cpu_s, cpu_s * 1000 / orders);
	else
		printf("server_cpu_s=? cpu_ms_per_order=? ");
	if (orders > 0)
		printf("client_cpu_ms_per_order=%.2f ", ((double)ru.ru_utime.tv_sec +
		    ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		    ru.ru_stime.tv_usec / 1e6) * 1000 / orders);
	else
		printf("client_cpu_ms_per_order=? ");
	getrusage(RUSAGE_SELF, &ru);
	printf("responder_cpu_s=%.2f polls=%lu codes=%s\n", (double)ru.ru_utime.tv_sec +
	    ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    polls, cbuf[0] ? cbuf : "none");
	if (first[0] != '\0')
		fprintf(stderr, "first error: %s", first);
	ok = orders > 0;
	free(lat);
	free(pids);
	return ok ? 0 : 1;
}
