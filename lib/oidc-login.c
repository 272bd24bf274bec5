/*
 * oidc-login.c - ca-token --oidc: a person's ID token from the OIDC
 * provisioner's provider, by the authorization-code flow with PKCE
 * (RFC 7636) on a loopback redirect (RFC 8252 7.3): the URL for the
 * browser is handed back to the tool, the redirect is awaited on a
 * socket of our own, and the code is traded at the token endpoint.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "authority.h"
#include "jose.h"
#include "json.h"
#include "oidc.h"

#define MAX_REQUEST	8192	/* the browser's redirect request */
#define MAX_URL		8192
#define CONN_TIMEOUT	2	/* s for a connection to send its request */

struct ca_oidc_login {
	int		 fd;		/* listening */
	char		*token_endpoint;
	char		*client_id, *client_secret;
	char		*redirect;	/* http://127.0.0.1:PORT/callback */
	char		 verifier[64], state[40], nonce[40];
};

void
ca_oidc_login_free(struct ca_oidc_login *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->token_endpoint);
	free(l->client_id);
	if (l->client_secret != NULL)
		ca_free_secret(l->client_secret, strlen(l->client_secret));
	free(l->redirect);
	free(l);
}

/* Append s to buf (size MAX_URL) percent-encoded (RFC 3986 unreserved). */
static int
put_enc(char *buf, size_t *off, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (*off + 4 >= MAX_URL)
			return ca_err(CA_ERR_TOOBIG, "OIDC: URL too long");
		if (isalnum(c) || strchr("-._~", c) != NULL)
			buf[(*off)++] = (char)c;
		else {
			buf[(*off)++] = '%';
			buf[(*off)++] = hex[c >> 4];
			buf[(*off)++] = hex[c & 15];
		}
	}
	buf[*off] = '\0';
	return 0;
}

/* Append "&name=value" (both encoded; sep instead of '&' when given). */
static int
put_param(char *buf, size_t *off, char sep, const char *name,
    const char *value)
{
	int rc;

	if (*off + 3 >= MAX_URL)
		return ca_err(CA_ERR_TOOBIG, "OIDC: URL too long");
	buf[(*off)++] = sep;
	if ((rc = put_enc(buf, off, name)) != 0)
		return rc;
	if (*off + 2 >= MAX_URL)
		return ca_err(CA_ERR_TOOBIG, "OIDC: URL too long");
	buf[(*off)++] = '=';
	return put_enc(buf, off, value);
}

/* n random bytes as base64url into out (size > 4n/3 + 1). */
static int
random_b64(char *out, size_t size, size_t n)
{
	unsigned char r[48];
	char *s;

	if (n > sizeof(r) || gnutls_rnd(GNUTLS_RND_NONCE, r, n) < 0)
		return ca_err(CA_ERR_CRYPTO, "random bytes");
	if ((s = ca_b64url_encode(r, n)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	snprintf(out, size, "%s", s);
	free(s);
	return 0;
}

/* The OIDC provisioner name (NULL: the only one) in a's list, a copy. */
static int
find_provisioner(struct ca_authority *a, const char *name,
    struct json_object **out)
{
	struct json_object *j = NULL, *list, *p, *found = NULL;
	const char *type, *pn;
	char *doc = NULL;
	size_t i, n;
	int rc;

	*out = NULL;
	if ((rc = ca_authority_provisioners(a, NULL, 1000, &doc)) != 0)
		return rc;
	if ((rc = ca_json_parse(doc, strlen(doc), "provisioners", &j)) != 0 ||
	    (rc = ca_json_array(j, "provisioners", 1, &list)) != 0)
		goto out;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(list, i);
		if (ca_json_string(p, "type", 0, &type) != 0 ||
		    strcasecmp(type, "OIDC") != 0 ||
		    ca_json_string(p, "name", 0, &pn) != 0 ||
		    (name != NULL && strcmp(pn, name) != 0))
			continue;
		if (found != NULL) {
			rc = ca_err(CA_ERR_INVAL, "several OIDC provisioners: "
			    "name one with --provisioner");
			goto out;
		}
		found = p;
	}
	ca_err_clear();
	if (found == NULL) {
		rc = ca_err(CA_ERR_NOTFOUND, name != NULL ? "no OIDC "
		    "provisioner \"%s\"" : "no OIDC provisioner%s",
		    name != NULL ? name : "");
		goto out;
	}
	*out = json_object_get(found);
out:
	json_object_put(j);
	free(doc);
	return rc;
}

/* Listen on addr ("HOST:PORT", ":PORT" or NULL: 127.0.0.1, any port). */
static int
listen_on(const char *addr, int *fd, int *port)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256] = "127.0.0.1", serv[16] = "0";
	const char *colon;
	int one = 1, s = -1, gai;

	if (addr != NULL && *addr != '\0') {
		if ((colon = strrchr(addr, ':')) == NULL ||
		    (size_t)(colon - addr) >= sizeof(host) ||
		    strlen(colon + 1) >= sizeof(serv))
			return ca_err(CA_ERR_INVAL, "listenAddress \"%s\": "
			    "not HOST:PORT", addr);
		if (colon > addr)
			snprintf(host, sizeof(host), "%.*s",
			    (int)(colon - addr), addr);
		snprintf(serv, sizeof(serv), "%s", colon + 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((gai = getaddrinfo(host, serv, &hints, &res)) != 0)
		return ca_err(CA_ERR_INVAL, "listenAddress %s:%s: %s", host,
		    serv, gai_strerror(gai));
	if ((s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, res->ai_addr, res->ai_addrlen) < 0 || listen(s, 4) < 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) < 0) {
		ca_err(CA_ERR_IO, "listen on %s:%s: %s", host, serv,
		    strerror(errno));
		if (s >= 0)
			close(s);
		freeaddrinfo(res);
		return CA_ERR_IO;
	}
	freeaddrinfo(res);
	*fd = s;
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* The URL's query: client, PKCE, state, nonce, scopes, authParams. */
static int
auth_url(struct ca_oidc_login *l, const char *endpoint,
    struct json_object *prov, char **url)
{
	struct json_object *v, *e;
	char buf[MAX_URL], scope[1024] = "openid email", challenge[64];
	unsigned char h[32];
	char *c;
	size_t off, i, n;
	int rc;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, l->verifier,
	    strlen(l->verifier), h) != 0 ||
	    (c = ca_b64url_encode(h, sizeof(h))) == NULL)
		return ca_err(CA_ERR_CRYPTO, "SHA-256");
	snprintf(challenge, sizeof(challenge), "%s", c);
	free(c);
	if (ca_json_array(prov, "scopes", 0, &v) == 0) {
		n = json_object_array_length(v);
		for (i = 0; i < n && i < 64; i++) {
			e = json_object_array_get_idx(v, i);
			if (json_object_is_type(e, json_type_string) &&
			    strlen(scope) + 1 + json_object_get_string_len(e) <
			    sizeof(scope)) {
				strcat(scope, " ");
				strcat(scope, json_object_get_string(e));
			}
		}
	}
	if ((off = strlen(endpoint)) >= MAX_URL / 2)
		return ca_err(CA_ERR_TOOBIG, "OIDC: authorization URL too long");
	memcpy(buf, endpoint, off + 1);
	if ((rc = put_param(buf, &off, strchr(endpoint, '?') ? '&' : '?',
	    "client_id", l->client_id)) != 0 ||
	    (rc = put_param(buf, &off, '&', "response_type", "code")) != 0 ||
	    (rc = put_param(buf, &off, '&', "scope", scope)) != 0 ||
	    (rc = put_param(buf, &off, '&', "redirect_uri", l->redirect)) != 0 ||
	    (rc = put_param(buf, &off, '&', "code_challenge", challenge)) != 0 ||
	    (rc = put_param(buf, &off, '&', "code_challenge_method",
	    "S256")) != 0 ||
	    (rc = put_param(buf, &off, '&', "state", l->state)) != 0 ||
	    (rc = put_param(buf, &off, '&', "nonce", l->nonce)) != 0)
		return rc;
	if (ca_json_object(prov, "authParams", 0, &v) == 0) {
		static const char *const ours[] = { "client_id",
		    "response_type", "scope", "redirect_uri", "code_challenge",
		    "code_challenge_method", "state", "nonce" };

		json_object_object_foreach(v, k, val) {
			/* Never one of the flow's own parameters. */
			for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
				if (strcmp(k, ours[i]) == 0)
					return ca_err(CA_ERR_CONFIG, "OIDC: "
					    "authParams may not set %s", k);
			if (json_object_is_type(val, json_type_string) &&
			    (rc = put_param(buf, &off, '&', k,
			    json_object_get_string(val))) != 0)
				return rc;
		}
	}
	ca_err_clear();
	if ((*url = strdup(buf)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	return 0;
}

int
ca_oidc_login_start(struct ca_authority *a, const char *name,
    struct ca_oidc_login **out, char **url)
{
	struct ca_oidc_login *l;
	struct json_object *prov = NULL, *d = NULL;
	const char *ep, *s, *authz, *tokep, *listen = NULL;
	char *disc = NULL, *doc = NULL;
	size_t len, n;
	int rc, port = 0;

	*out = NULL;
	*url = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	l->fd = -1;
	if ((rc = find_provisioner(a, name, &prov)) != 0)
		goto out;
	if ((rc = ca_json_string(prov, "clientID", 1, &s)) != 0 ||
	    (l->client_id = strdup(s)) == NULL ||
	    (rc = ca_json_string(prov, "configurationEndpoint", 1, &ep)) != 0) {
		ca_err_context("OIDC provisioner");
		rc = rc != 0 ? rc : ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (ca_json_string(prov, "clientSecret", 0, &s) == 0 && *s != '\0' &&
	    (l->client_secret = strdup(s)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (ca_json_string(prov, "listenAddress", 0, &listen) != 0)
		listen = NULL;
	ca_err_clear();
	/* The discovery document, as the CA finds it (step-ca's rule). */
	n = strlen(ep);
	if (asprintf(&disc, "%.*s%s", (int)(n > 0 && ep[n - 1] == '/' ? n - 1 :
	    n), ep, strstr(ep, "/.well-known/openid-configuration") != NULL ?
	    "" : "/.well-known/openid-configuration") < 0) {
		disc = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ca_oidc_http(disc, NULL, &doc, &len)) != 0 ||
	    (rc = ca_json_parse(doc, len, "discovery document", &d)) != 0 ||
	    (rc = ca_json_string(d, "authorization_endpoint", 1, &authz)) != 0 ||
	    (rc = ca_json_string(d, "token_endpoint", 1, &tokep)) != 0) {
		ca_err_context("%s", disc);
		goto out;
	}
	if (!ca_oidc_url_ok(tokep)) {
		rc = ca_err(CA_ERR_AUTH, "%s: token_endpoint is not an https "
		    "URL", disc);
		goto out;
	}
	if ((l->token_endpoint = strdup(tokep)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = random_b64(l->verifier, sizeof(l->verifier), 32)) != 0 ||
	    (rc = random_b64(l->state, sizeof(l->state), 16)) != 0 ||
	    (rc = random_b64(l->nonce, sizeof(l->nonce), 16)) != 0 ||
	    (rc = listen_on(listen, &l->fd, &port)) != 0)
		goto out;
	if (asprintf(&l->redirect, "http://127.0.0.1:%d/callback", port) < 0) {
		l->redirect = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = auth_url(l, authz, prov, url)) != 0)
		goto out;
	*out = l;
	l = NULL;
out:
	ca_oidc_login_free(l);
	json_object_put(prov);
	json_object_put(d);
	free(disc);
	free(doc);
	return rc;
}

/* The value of name in the query q ("a=1&b=2"), decoded, into out. */
static int
query_get(const char *q, const char *name, char *out, size_t size)
{
	size_t n = strlen(name), i = 0;
	const char *p;

	for (p = q; p != NULL && *p != '\0'; p = strchr(p, '&'), p = p ? p + 1 :
	    NULL) {
		if (strncmp(p, name, n) != 0 || p[n] != '=')
			continue;
		for (p += n + 1; *p != '\0' && *p != '&' && i + 1 < size; p++) {
			if (*p == '%' && isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2])) {
				char hx[3] = { p[1], p[2], '\0' };

				out[i++] = (char)strtol(hx, NULL, 16);
				p += 2;
			} else
				out[i++] = *p == '+' ? ' ' : *p;
		}
		out[i] = '\0';
		return 1;
	}
	return 0;
}

static void
answer(int c, const char *status, const char *text)
{
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\nContent-Type: text/html; "
	    "charset=utf-8\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n"
	    "%s", status, strlen(text), text);
	if (n > 0 && write(c, buf, (size_t)n) < 0)
		ca_debug("OIDC: answering the browser: %s", strerror(errno));
}

/*
 * One connection: 1 and the code when it is our redirect, 0 for anything
 * else (answered 404 or 400, or dropped after CONN_TIMEOUT s of silence),
 * or a CA_ERR_* for a redirect with our state that says no.
 */
static int
one_request(struct ca_oidc_login *l, int c, time_t deadline, char *code,
    size_t size)
{
	char req[MAX_REQUEST + 1], st[64], err[128];
	struct pollfd p = { c, POLLIN, 0 };
	size_t n = 0;
	ssize_t r;
	char *q, *end;

	req[0] = '\0';
	/* One at a time: an idle connection must not hold the others. */
	if (deadline > time(NULL) + CONN_TIMEOUT)
		deadline = time(NULL) + CONN_TIMEOUT;
	while (n < MAX_REQUEST && strstr(req, "\r\n") == NULL) {
		if (time(NULL) >= deadline || poll(&p, 1, 1000) < 0)
			return 0;
		if (!(p.revents & POLLIN))
			continue;
		if ((r = read(c, req + n, MAX_REQUEST - n)) <= 0)
			return 0;
		n += (size_t)r;
		req[n] = '\0';
	}
	if (strncmp(req, "GET /callback?", 14) != 0 ||
	    (end = strpbrk(req + 14, " \r\n")) == NULL) {
		answer(c, "404 Not Found", "Not found.");
		return 0;
	}
	*end = '\0';
	q = req + 14;
	/* Not our redirect (anyone may reach the port): wait for ours. */
	if (!query_get(q, "state", st, sizeof(st)) || strcmp(st, l->state) != 0) {
		answer(c, "400 Bad Request", "Unexpected state.");
		ca_warn("OIDC: a redirect with another state ignored");
		return 0;
	}
	if (query_get(q, "error", err, sizeof(err))) {
		answer(c, "200 OK", "Login refused. You can close this window.");
		return ca_err(CA_ERR_AUTH, "OIDC: the provider said %s", err);
	}
	if (!query_get(q, "code", code, size) || *code == '\0') {
		answer(c, "400 Bad Request", "No code.");
		return ca_err(CA_ERR_AUTH, "OIDC: the redirect has no code");
	}
	answer(c, "200 OK", "Logged in. You can close this window.");
	return 1;
}

/* The token endpoint's answer: its id_token, whose nonce must be ours. */
static int
take_id_token(struct ca_oidc_login *l, const char *doc, size_t len,
    char **id_token)
{
	struct json_object *j = NULL, *claims = NULL;
	struct ca_jws *jws = NULL;
	const char *t, *nonce;
	int rc;

	if ((rc = ca_json_parse(doc, len, "token response", &j)) != 0 ||
	    (rc = ca_json_string(j, "id_token", 1, &t)) != 0)
		goto out;
	if ((rc = ca_jws_parse(t, strlen(t), &jws)) != 0 ||
	    (rc = ca_json_parse((const char *)jws->payload, jws->payload_len,
	    "ID token claims", &claims)) != 0)
		goto out;
	if (ca_json_string(claims, "nonce", 0, &nonce) != 0 ||
	    strcmp(nonce, l->nonce) != 0) {
		rc = ca_err(CA_ERR_AUTH, "OIDC: the ID token's nonce is not "
		    "ours");
		goto out;
	}
	if ((*id_token = strdup(t)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	json_object_put(claims);
	ca_jws_free(jws);
	json_object_put(j);
	return rc;
}

int
ca_oidc_login_wait(struct ca_oidc_login *l, int timeout, char **id_token)
{
	char buf[MAX_URL], code[2048], *doc = NULL;
	struct pollfd p = { l->fd, POLLIN, 0 };
	time_t deadline = time(NULL) + timeout;
	size_t off = 0, len;
	int c, rc = 0;

	*id_token = NULL;
	code[0] = '\0';
	while (rc == 0) {
		if (time(NULL) >= deadline) {
			rc = ca_err(CA_ERR_TEMP, "OIDC: no login within %d "
			    "seconds", timeout);
			break;
		}
		if (poll(&p, 1, 1000) <= 0 || (c = accept4(l->fd, NULL, NULL,
		    SOCK_CLOEXEC)) < 0)
			continue;
		rc = one_request(l, c, deadline, code, sizeof(code));
		close(c);
	}
	if (rc < 0)
		goto out;
	buf[0] = '\0';
	if ((rc = put_param(buf, &off, '\0', "grant_type",
	    "authorization_code")) != 0 ||
	    (rc = put_param(buf, &off, '&', "code", code)) != 0 ||
	    (rc = put_param(buf, &off, '&', "client_id", l->client_id)) != 0 ||
	    (rc = put_param(buf, &off, '&', "redirect_uri", l->redirect)) != 0 ||
	    (rc = put_param(buf, &off, '&', "code_verifier", l->verifier)) != 0 ||
	    (l->client_secret != NULL && (rc = put_param(buf, &off, '&',
	    "client_secret", l->client_secret)) != 0))
		goto out;
	/* put_param's first separator: none. */
	memmove(buf, buf + 1, off);
	if ((rc = ca_oidc_http(l->token_endpoint, buf, &doc, &len)) != 0)
		goto out;
	rc = take_id_token(l, doc, len, id_token);
out:
	gnutls_memset(buf, 0, sizeof(buf));
	free(doc);
	ca_oidc_login_free(l);
	return rc;
}
