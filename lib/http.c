/*
 * http.c - ca-serve's requests: routing, bodies with limits, JSON in and
 * out, step-ca's routes, one log line per request.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>

#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca.h"
#include "acme.h"
#include "scep.h"
#include "authority.h"
#include "crl.h"
#include "db.h"
#include "json.h"
#include "ocsp.h"
#include "serve-internal.h"

/*
 * One request, from its request line to its log line. Text from the
 * client is kept escaped (ca_escape) for the log.
 */
struct req {
	int64_t		 start_ms;
	int		 started;	/* the handler has seen its headers */
	int		 close;		/* framing in doubt: close after answering */
	int		 raw_nul;	/* the URL holds a NUL (raw or %00) */
	int		 raw_bad;	/* ... or a space or control character */
	size_t		 raw_len;	/* strlen of the URL as sent */
	char		*body;
	size_t		 len, cap;
	int		 too_big;
	int		 status;
	size_t		 bytes;
	char		 method[48];	/* escaped */
	char		 path[1024];	/* for routing: without /1.0 */
	char		*acme_path;	/* an ACME request's path, as sent */
	char		 url[400];	/* as sent (not decoded), escaped */
	char		 cache[64];	/* Cache-Control; "" for no-store */
	char		 detail[300];	/* why it failed, for the log */
	char		 extra[400];	/* what was issued, for the log */
	struct ca_conn	*conn;
};

static int
is_post_route(const char *p)
{
	return strcmp(p, "/sign") == 0 || strcmp(p, "/revoke") == 0 ||
	    strcmp(p, "/renew") == 0 || strcmp(p, "/rekey") == 0 ||
	    strcmp(p, "/ocsp") == 0;
}

static struct ca_conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static enum MHD_Result
reply(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    unsigned status, const char *type, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->conn != NULL) {
		pthread_mutex_lock(&s->conn_lock);
		r->conn->processing = 0;
		r->conn->deadline_ms = ca_now_ms() + (int64_t)s->o.deadline_s * 1000;
		pthread_mutex_unlock(&s->conn_lock);
	}

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    r->cache[0] != '\0' ? r->cache : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    is_post_route(r->path) ? "POST" : "GET, HEAD");
	if (s->draining || r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	r->status = (int)status;
	r->bytes = len;
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
reply_json(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    unsigned status, struct json_object *o)
{
	char *body = ca_json_dump(o);

	json_object_put(o);
	if (body == NULL)
		return MHD_NO;
	return reply(s, c, r, status, "application/json", body, strlen(body));
}

/*
 * An error as step-ca sends it: {"status": N, "message": "..."}. The
 * message is what the client may know; detail (if any) goes to the log.
 */
static enum MHD_Result
reply_error(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    unsigned status, const char *message, const char *detail)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return MHD_NO;
	ca_escape(r->detail, sizeof(r->detail), detail != NULL ? detail :
	    message, 0);
	json_object_object_add(o, "status", json_object_new_int((int)status));
	json_object_object_add(o, "message", json_object_new_string(message));
	return reply_json(s, c, r, status, o);
}

/* The HTTP status for a library failure, and what the client is told. */
static enum MHD_Result
reply_failure(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    int rc)
{
	const char *msg = ca_errmsg();

	switch (rc) {
	case CA_ERR_AUTH:
	case CA_ERR_REPLAY:
		return reply_error(s, c, r, MHD_HTTP_UNAUTHORIZED, msg, NULL);
	case CA_ERR_FORBIDDEN:
		return reply_error(s, c, r, MHD_HTTP_FORBIDDEN, msg, NULL);
	case CA_ERR_INVAL:
	case CA_ERR_TOOBIG:
	case CA_ERR_EXISTS:	/* already revoked */
		return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, msg, NULL);
	case CA_ERR_NOTFOUND:
		return reply_error(s, c, r, MHD_HTTP_NOT_FOUND, msg, NULL);
	case CA_ERR_TEMP:
		return reply_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "the CA is busy, retry later", msg);
	case CA_ERR_UPSTREAM:
		return reply_error(s, c, r, MHD_HTTP_BAD_GATEWAY,
		    "the upstream CA failed", msg);
	case CA_ERR_UPSTREAM_TIMEOUT:
		return reply_error(s, c, r, MHD_HTTP_GATEWAY_TIMEOUT,
		    "the upstream CA did not answer in time", msg);
	default:
		/* Server-side detail (paths, library errors) stays in the log. */
		return reply_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error", msg);
	}
}

static enum MHD_Result
reply_pem_list(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    const gnutls_datum_t *pem, int as_pem)
{
	struct json_object *o, *a;
	char *body;

	if (as_pem) {
		if ((body = malloc(pem->size + 1)) == NULL)
			return MHD_NO;
		memcpy(body, pem->data, pem->size);
		return reply(s, c, r, MHD_HTTP_OK, "application/x-pem-file", body,
		    pem->size);
	}
	if ((o = json_object_new_object()) == NULL ||
	    (a = json_object_new_array()) == NULL) {
		json_object_put(o);
		return MHD_NO;
	}
	json_object_array_add(a, json_object_new_string_len((char *)pem->data,
	    (int)pem->size));
	json_object_object_add(o, "crts", a);
	return reply_json(s, c, r, MHD_HTTP_OK, o);
}

static enum MHD_Result
route_root(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    const char *fp)
{
	struct json_object *o;

	if (strcasecmp(fp, ca_authority_root_fp(s->a)) != 0)
		return reply_error(s, c, r, MHD_HTTP_NOT_FOUND,
		    "no root with that fingerprint", NULL);
	if ((o = json_object_new_object()) == NULL)
		return MHD_NO;
	json_object_object_add(o, "ca", json_object_new_string_len(
	    (char *)ca_authority_root_pem(s->a)->data,
	    (int)ca_authority_root_pem(s->a)->size));
	return reply_json(s, c, r, MHD_HTTP_OK, o);
}

static enum MHD_Result
route_provisioners(struct ca_server *s, struct MHD_Connection *c,
    struct req *r)
{
	const char *cursor, *limit;
	char *json, *end;
	unsigned long n = 0;
	int rc;

	cursor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cursor");
	limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	if (limit != NULL && limit[0] != '\0') {
		n = strtoul(limit, &end, 10);
		if (*end != '\0' || limit[0] < '0' || limit[0] > '9')
			return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST,
			    "invalid limit", NULL);
	}
	if ((rc = ca_authority_provisioners(s->a, cursor, n, &json)) != 0)
		return reply_failure(s, c, r, rc);
	return reply(s, c, r, MHD_HTTP_OK, "application/json", json,
	    strlen(json));
}

static enum MHD_Result
route_encrypted_key(struct ca_server *s, struct MHD_Connection *c,
    struct req *r, const char *rest)
{
	struct json_object *o;
	const char *slash = strchr(rest, '/');
	char kid[128], *jwe;
	int rc;

	if (slash == NULL || strcmp(slash, "/encrypted-key") != 0 ||
	    (size_t)(slash - rest) >= sizeof(kid) || slash == rest)
		return reply_error(s, c, r, MHD_HTTP_NOT_FOUND, "not found", NULL);
	memcpy(kid, rest, (size_t)(slash - rest));
	kid[slash - rest] = '\0';
	if ((rc = ca_authority_encrypted_key(s->a, kid, &jwe)) != 0)
		return reply_failure(s, c, r, rc);
	if ((o = json_object_new_object()) == NULL) {
		free(jwe);
		return MHD_NO;
	}
	json_object_object_add(o, "key", json_object_new_string(jwe));
	free(jwe);
	return reply_json(s, c, r, MHD_HTTP_OK, o);
}

/* A time in a request: RFC 3339, or a duration from now; "" is absent. */
static int
request_time(struct json_object *o, const char *key, time_t *out)
{
	const char *v;
	int rc;

	*out = 0;
	rc = ca_json_string(o, key, 0, &v);
	if (rc == CA_ERR_NOTFOUND || (rc == 0 && v[0] == '\0'))
		return 0;
	if (rc != 0)
		return rc;
	if ((rc = ca_time_parse(v, time(NULL), out)) != 0)
		ca_err_context("\"%s\"", key);
	return rc;
}

static enum MHD_Result
reply_certificate(struct ca_server *s, struct MHD_Connection *c,
    struct req *r, struct ca_sign_result *res)
{
	struct json_object *out, *chain;
	char sub[200], prov[100];

	ca_escape(sub, sizeof(sub), res->subject, 0);
	ca_escape(prov, sizeof(prov), res->provisioner, 0);
	snprintf(r->extra, sizeof(r->extra),
	    " serial=%s subject=\"%s\" provisioner=\"%s\"", res->serial, sub,
	    prov);
	if ((out = json_object_new_object()) == NULL ||
	    (chain = json_object_new_array()) == NULL) {
		json_object_put(out);
		ca_sign_result_free(res);
		return MHD_NO;
	}
	json_object_object_add(out, "crt", json_object_new_string(res->crt_pem));
	json_object_object_add(out, "ca", json_object_new_string(res->chain_pem));
	json_object_array_add(chain, json_object_new_string(res->crt_pem));
	json_object_array_add(chain, json_object_new_string(res->chain_pem));
	json_object_object_add(out, "certChain", chain);
	ca_sign_result_free(res);
	return reply_json(s, c, r, MHD_HTTP_CREATED, out);
}

static enum MHD_Result
route_sign(struct ca_server *s, struct MHD_Connection *c, struct req *r)
{
	struct ca_sign_req sreq;
	struct ca_sign_result res;
	struct json_object *o = NULL;
	const char *csr, *ott;
	enum MHD_Result ret;
	int rc;

	memset(&sreq, 0, sizeof(sreq));
	if ((rc = ca_json_parse(r->body != NULL ? r->body : "", r->len,
	    "request", &o)) != 0 || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST,
		    rc != 0 ? ca_errmsg() : "request: not a JSON object", NULL);
	}
	if ((rc = ca_json_string(o, "csr", 1, &csr)) != 0 ||
	    (rc = ca_json_string(o, "ott", 1, &ott)) != 0 ||
	    (rc = request_time(o, "notBefore", &sreq.not_before)) != 0 ||
	    (rc = request_time(o, "notAfter", &sreq.not_after)) != 0) {
		ca_err_context("request");
		ret = reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, ca_errmsg(), NULL);
		json_object_put(o);
		return ret;
	}
	sreq.token = ott;
	sreq.token_len = strlen(ott);
	sreq.csr = csr;
	sreq.csr_len = strlen(csr);
	rc = ca_authority_sign(s->a, &sreq, &res);
	json_object_put(o);
	if (rc != 0)
		return reply_failure(s, c, r, rc);
	return reply_certificate(s, c, r, &res);
}

/* The client's certificate (mutual TLS), DER, borrowed from the session. */
static const gnutls_datum_t *
peer_certificate(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *list;
	unsigned n = 0;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return NULL;
	list = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session,
	    &n);
	return list != NULL && n > 0 ? &list[0] : NULL;
}

/* The JSON object of a POST body; "" or absent is {} when allowed. */
static int
body_object(struct req *r, int empty_ok, struct json_object **o)
{
	int rc;

	*o = NULL;
	if (r->len == 0 && empty_ok) {
		*o = json_object_new_object();
		return *o != NULL ? 0 : ca_err(CA_ERR_NOMEM, "out of memory");
	}
	if ((rc = ca_json_parse(r->body != NULL ? r->body : "", r->len,
	    "request", o)) != 0)
		return rc;
	if (!json_object_is_type(*o, json_type_object)) {
		json_object_put(*o);
		*o = NULL;
		return ca_err(CA_ERR_INVAL, "request: not a JSON object");
	}
	return 0;
}

static enum MHD_Result
route_revoke(struct ca_server *s, struct MHD_Connection *c, struct req *r)
{
	struct ca_revoke_req rr;
	struct json_object *o, *out;
	const gnutls_datum_t *peer;
	const char *ott = NULL, *reason = NULL;
	char *serial = NULL;
	int64_t code = CA_REASON_NONE;
	int rc, passive;

	memset(&rr, 0, sizeof(rr));
	if ((rc = body_object(r, 0, &o)) != 0)
		return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, ca_errmsg(), NULL);
	if ((rc = ca_json_string(o, "serial", 1, &rr.serial)) != 0 ||
	    ((rc = ca_json_string(o, "ott", 0, &ott)) != 0 &&
	    rc != CA_ERR_NOTFOUND) ||
	    ((rc = ca_json_int64(o, "reasonCode", 0, &code)) != 0 &&
	    rc != CA_ERR_NOTFOUND) ||
	    ((rc = ca_json_string(o, "reason", 0, &reason)) != 0 &&
	    rc != CA_ERR_NOTFOUND) ||
	    ((rc = ca_json_bool(o, "passive", 0, &passive)) != 0 &&
	    rc != CA_ERR_NOTFOUND)) {
		enum MHD_Result ret;
		ca_err_context("request");
		ret = reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, ca_errmsg(), NULL);
		json_object_put(o);
		return ret;
	}
	rr.reason = code < INT32_MIN || code > INT32_MAX ? 7 : (int)code;
	rr.reason_text = reason != NULL && reason[0] != '\0' ? reason : NULL;
	if (ott != NULL && ott[0] != '\0') {
		rr.token = ott;
		rr.token_len = strlen(ott);
	} else if ((peer = peer_certificate(c)) != NULL) {
		rr.peer_der = peer->data;
		rr.peer_len = peer->size;
	}
	rc = ca_authority_revoke(s->a, &rr, &serial);
	json_object_put(o);
	if (rc != 0)
		return reply_failure(s, c, r, rc);
	snprintf(r->extra, sizeof(r->extra), " revoked=%s reason=%s", serial,
	    ca_reason_name(rr.reason));
	free(serial);
	if ((out = json_object_new_object()) == NULL)
		return MHD_NO;
	json_object_object_add(out, "status", json_object_new_string("ok"));
	return reply_json(s, c, r, MHD_HTTP_OK, out);
}

/* POST /renew and /rekey: mutual TLS, or Authorization: Bearer <x5c token>. */
static enum MHD_Result
route_renew(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    int rekey)
{
	struct ca_renew_req rr;
	struct ca_sign_result res;
	struct json_object *o;
	const gnutls_datum_t *peer;
	const char *auth, *csr;
	int rc;

	memset(&rr, 0, sizeof(rr));
	if ((rc = body_object(r, !rekey, &o)) != 0)
		return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, ca_errmsg(), NULL);
	if (rekey) {
		if ((rc = ca_json_string(o, "csr", 1, &csr)) != 0) {
			enum MHD_Result ret;
			ca_err_context("request");
			ret = reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, ca_errmsg(),
			    NULL);
			json_object_put(o);
			return ret;
		}
		rr.csr = csr;
		rr.csr_len = strlen(csr);
	}
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
		rr.token = auth + 7;
		rr.token_len = strlen(rr.token);
	} else if ((peer = peer_certificate(c)) != NULL) {
		rr.cert_der = peer->data;
		rr.cert_len = peer->size;
	}
	rc = ca_authority_renew(s->a, &rr, &res);
	json_object_put(o);
	if (rc != 0)
		return reply_failure(s, c, r, rc);
	return reply_certificate(s, c, r, &res);
}

static enum MHD_Result
has_pem(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	if (strcmp(key, "pem") == 0) {
		*(int *)cls = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/* GET /crl: DER, or PEM with ?pem. */
static enum MHD_Result
route_crl(struct ca_server *s, struct MHD_Connection *c, struct req *r)
{
	struct ca_db_crl crl;
	gnutls_datum_t der, pem = { NULL, 0 };
	char *body;
	size_t len;
	int rc, want_pem = 0, ret;

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, has_pem, &want_pem);
	if ((rc = ca_authority_crl(s->a, time(NULL), 0, &crl)) != 0)
		return reply_failure(s, c, r, rc);
	snprintf(r->extra, sizeof(r->extra), " crl=%llu",
	    (unsigned long long)crl.number);
	if (!want_pem)
		return reply(s, c, r, MHD_HTTP_OK, "application/pkix-crl",
		    (char *)crl.der, crl.len);
	der.data = crl.der;
	der.size = (unsigned)crl.len;
	ret = gnutls_pem_base64_encode2("X509 CRL", &der, &pem);
	free(crl.der);
	if (ret < 0 || (body = malloc(pem.size)) == NULL) {
		gnutls_free(pem.data);
		return reply_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error", "CRL to PEM");
	}
	memcpy(body, pem.data, pem.size);
	len = pem.size;
	gnutls_free(pem.data);
	return reply(s, c, r, MHD_HTTP_OK, "application/x-pem-file", body, len);
}

/*
 * POST /ocsp (the DER request as the body) and GET /ocsp/{base64 of it}
 * (RFC 6960 appendix A). Errors in the request are OCSP answers too
 * (malformedRequest, HTTP 200), as the RFC has them.
 */
static enum MHD_Result
route_ocsp(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    const char *b64)
{
	gnutls_datum_t in = { NULL, 0 }, enc, resp = { NULL, 0 };
	time_t now = time(NULL), next = 0;
	char *body;
	size_t len;
	int rc;

	if (b64 != NULL) {
		enc.data = (unsigned char *)(uintptr_t)b64;
		enc.size = (unsigned)strlen(b64);
		if (enc.size == 0 || enc.size > 16384 ||
		    gnutls_base64_decode2(&enc, &in) < 0) {
			in.data = NULL;
			in.size = 0;
		}
		rc = in.size == 0 ? ca_ocsp_response_error(1, &resp) :
		    ca_authority_ocsp(s->a, in.data, in.size, now, &resp,
		    &next);
		gnutls_free(in.data);
	} else
		rc = ca_authority_ocsp(s->a, r->body, r->len, now, &resp,
		    &next);
	if (rc != 0)
		return reply_failure(s, c, r, rc);
	if ((body = malloc(resp.size)) == NULL) {
		gnutls_free(resp.data);
		return MHD_NO;
	}
	memcpy(body, resp.data, resp.size);
	/* A GET answer may be cached as long as it is valid (RFC 5019 6.2). */
	if (b64 != NULL && next > now)
		snprintf(r->cache, sizeof(r->cache),
		    "max-age=%lld, public, no-transform, must-revalidate",
		    (long long)(next - now));
	if (next == 0)
		snprintf(r->extra, sizeof(r->extra), " ocsp=error");
	len = resp.size;
	gnutls_free(resp.data);
	return reply(s, c, r, MHD_HTTP_OK, "application/ocsp-response", body,
	    len);
}

/* ACME (lib/acme.h): /acme/NAME/... and /2.0/acme/NAME/..., as step-ca. */
static int
is_acme_path(const char *p)
{
	return strncmp(p, "/acme/", 6) == 0 || strncmp(p, "/2.0/acme/", 10) == 0;
}

/* For the log: an ACME problem's type (after the URN) and its detail. */
static void
acme_log_problem(struct req *r, const struct ca_acme_resp *resp)
{
	struct json_object *o = NULL;
	const char *type = NULL, *detail = NULL;
	char buf[300];

	if (resp->body == NULL || resp->content_type == NULL ||
	    strcmp(resp->content_type, "application/problem+json") != 0 ||
	    ca_json_parse(resp->body, resp->body_len, "problem", &o) != 0) {
		ca_err_clear();
		return;
	}
	if (ca_json_string(o, "type", 0, &type) == 0 &&
	    strncmp(type, "urn:ietf:params:acme:error:", 27) == 0)
		type += 27;
	(void)ca_json_string(o, "detail", 0, &detail);
	ca_err_clear();
	snprintf(buf, sizeof(buf), "%s: %s", type != NULL ? type : "?",
	    detail != NULL ? detail : "");
	ca_escape(r->detail, sizeof(r->detail), buf, 0);
	json_object_put(o);
}

static enum MHD_Result
route_acme(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    const char *method)
{
	struct ca_acme_req q;
	struct ca_acme_resp resp;
	struct MHD_Response *mr;
	enum MHD_Result ret;
	const char *host;
	char *base = NULL, num[16];
	size_t i;
	int rc;

	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	if (host == NULL || host[0] == '\0')
		return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST,
		    "ACME needs a Host header", NULL);
	if (asprintf(&base, "https://%s", host) < 0)
		return MHD_NO;
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.base = base;
	q.path = r->acme_path;
	q.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	q.body = (const unsigned char *)r->body;
	q.body_len = r->len;
	q.over_limit = r->too_big ? s->o.max_body : 0;
	q.now = time(NULL);
	rc = ca_authority_acme(s->a, &q, &resp);
	free(base);
	if (rc == CA_ERR_CONFIG)	/* a registration authority */
		return reply_error(s, c, r, MHD_HTTP_NOT_IMPLEMENTED,
		    ca_errmsg(), NULL);
	if (rc != 0)
		return reply_failure(s, c, r, rc);
	if (resp.status >= 400)
		acme_log_problem(r, &resp);
	/* The validation runs elsewhere; its job is the server's now. */
	if (resp.job != NULL) {
		ca_serve_acme_job(s, resp.job);
		resp.job = NULL;
	}
	if (r->conn != NULL) {
		pthread_mutex_lock(&s->conn_lock);
		r->conn->processing = 0;
		r->conn->deadline_ms = ca_now_ms() + (int64_t)s->o.deadline_s * 1000;
		pthread_mutex_unlock(&s->conn_lock);
	}
	mr = MHD_create_response_from_buffer(resp.body_len,
	    resp.body != NULL ? resp.body : (char *)(uintptr_t)"",
	    resp.body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (mr == NULL) {
		ca_acme_resp_free(&resp);
		return MHD_NO;
	}
	resp.body = NULL;	/* MHD frees it */
	if (resp.content_type != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
		    resp.content_type);
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	if (resp.nonce != NULL)
		MHD_add_response_header(mr, "Replay-Nonce", resp.nonce);
	if (resp.location != NULL)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION,
		    resp.location);
	for (i = 0; i < resp.n_links && i < CA_ACME_MAX_LINKS; i++)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_LINK,
		    resp.links[i]);
	if (resp.retry_after > 0) {
		snprintf(num, sizeof(num), "%u", resp.retry_after);
		MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (resp.status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW,
		    strstr(r->acme_path, "/directory") != NULL ||
		    strstr(r->acme_path, "/new-nonce") != NULL ?
		    "GET, HEAD" : "POST");
	if (s->draining || r->close)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	r->status = resp.status;
	r->bytes = resp.body_len;
	ret = MHD_queue_response(c, (unsigned)resp.status, mr);
	MHD_destroy_response(mr);
	ca_acme_resp_free(&resp);
	return ret;
}

/*
 * SCEP (lib/scep.h): /scep/NAME and /scep/NAME/anything (pkiclient.exe),
 * GET and POST, as step-ca. A GET PKIOperation carries the message in
 * base64 in message= (an unescaped '+' arrives as a space).
 */
static enum MHD_Result
route_scep(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    const char *method)
{
	struct ca_scep_req q;
	struct ca_scep_resp resp;
	gnutls_datum_t b64, der = { NULL, 0 };
	const char *msg, *end;
	char name[256], *m = NULL, *t;
	int rc;

	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		return reply_error(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed", NULL);
	end = strchr(r->path + 6, '/');
	if (end == NULL)
		end = r->path + strlen(r->path);
	if (end == r->path + 6 || (size_t)(end - r->path - 6) >= sizeof(name))
		return reply_error(s, c, r, MHD_HTTP_NOT_FOUND, "not found",
		    NULL);
	memcpy(name, r->path + 6, (size_t)(end - r->path - 6));
	name[end - r->path - 6] = '\0';
	memset(&q, 0, sizeof(q));
	q.name = name;
	q.operation = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "operation");
	q.now = time(NULL);
	if (q.operation != NULL && strcmp(q.operation, "PKIOperation") == 0) {
		if (strcmp(method, "POST") == 0) {
			q.message = (const unsigned char *)r->body;
			q.len = r->len;
		} else if ((msg = MHD_lookup_connection_value(c,
		    MHD_GET_ARGUMENT_KIND, "message")) != NULL) {
			if ((m = strdup(msg)) == NULL)
				return MHD_NO;
			for (t = m; *t != '\0'; t++)
				if (*t == ' ')
					*t = '+';
			b64.data = (unsigned char *)m;
			b64.size = (unsigned)strlen(m);
			if (gnutls_base64_decode2(&b64, &der) < 0) {
				free(m);
				return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST,
				    "message is not base64", NULL);
			}
			free(m);
			q.message = der.data;
			q.len = der.size;
		}
	}
	rc = ca_authority_scep(s->a, &q, &resp);
	gnutls_free(der.data);
	if (rc != 0)
		return reply_failure(s, c, r, rc);
	if (resp.status >= 400 && resp.body != NULL) {
		/* The body is bytes (resp.len), not a string. */
		char txt[256];
		size_t n = resp.len < sizeof(txt) - 1 ? resp.len :
		    sizeof(txt) - 1;

		memcpy(txt, resp.body, n);
		txt[n] = '\0';
		ca_escape(r->detail, sizeof(r->detail), txt, 0);
	}
	if (resp.log[0] != '\0') {
		char e[300];

		ca_escape(e, sizeof(e), resp.log, 0);
		snprintf(r->extra, sizeof(r->extra), " scep=\"%s\"", e);
	}
	/* reply frees the body */
	return reply(s, c, r, (unsigned)resp.status, resp.content_type,
	    (char *)resp.body, resp.len);
}

/* A connection without TLS (ca-serve --insecure-listen). */
static int
is_plain(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci == NULL || ci->tls_session == NULL;
}

/* Routes, at / and at /1.0/ as step-ca has them. */
static enum MHD_Result
route(struct ca_server *s, struct MHD_Connection *c, struct req *r,
    const char *method)
{
	const char *p = r->path;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post = strcmp(method, "POST") == 0;
	struct json_object *o;

	if (strncmp(p, "/scep/", 6) == 0)
		return route_scep(s, c, r, method);
	/* Plain HTTP: SCEP, CRL, OCSP and health only (DESIGN13 2.3). */
	if (is_plain(c) && strcmp(p, "/crl") != 0 && strcmp(p, "/ocsp") != 0 &&
	    strncmp(p, "/ocsp/", 6) != 0 && strcmp(p, "/health") != 0)
		return reply_error(s, c, r, MHD_HTTP_NOT_FOUND, "not found",
		    NULL);
	if (r->acme_path != NULL)
		return route_acme(s, c, r, method);
	if (is_post_route(p)) {
		if (!post)
			goto not_allowed;
		if (strcmp(p, "/sign") == 0)
			return route_sign(s, c, r);
		if (strcmp(p, "/revoke") == 0)
			return route_revoke(s, c, r);
		if (strcmp(p, "/ocsp") == 0)
			return route_ocsp(s, c, r, NULL);
		return route_renew(s, c, r, strcmp(p, "/rekey") == 0);
	}
	if (strcmp(p, "/crl") == 0 || strncmp(p, "/ocsp/", 6) == 0) {
		if (!get)
			goto not_allowed;
		return p[1] == 'c' ? route_crl(s, c, r) :
		    route_ocsp(s, c, r, p + 6);
	}
	if (strcmp(p, "/health") == 0 || strcmp(p, "/version") == 0 ||
	    strcmp(p, "/roots") == 0 || strcmp(p, "/roots.pem") == 0 ||
	    strcmp(p, "/intermediates") == 0 ||
	    strcmp(p, "/intermediates.pem") == 0 ||
	    strcmp(p, "/provisioners") == 0 || strncmp(p, "/root/", 6) == 0 ||
	    strncmp(p, "/provisioners/", 14) == 0) {
		if (!get)
			goto not_allowed;
	} else
		return reply_error(s, c, r, MHD_HTTP_NOT_FOUND, "not found", NULL);

	if (strcmp(p, "/health") == 0) {
		if ((o = json_object_new_object()) == NULL)
			return MHD_NO;
		json_object_object_add(o, "status", json_object_new_string("ok"));
		return reply_json(s, c, r, MHD_HTTP_OK, o);
	}
	if (strcmp(p, "/version") == 0) {
		if ((o = json_object_new_object()) == NULL)
			return MHD_NO;
		json_object_object_add(o, "version",
		    json_object_new_string(PACKAGE_VERSION));
		json_object_object_add(o, "requireClientAuthentication",
		    json_object_new_boolean(0));
		return reply_json(s, c, r, MHD_HTTP_OK, o);
	}
	if (strncmp(p, "/roots", 6) == 0)
		return reply_pem_list(s, c, r, ca_authority_root_pem(s->a),
		    p[6] == '.');
	if (strncmp(p, "/intermediates", 14) == 0)
		return reply_pem_list(s, c, r, ca_authority_chain_pem(s->a),
		    p[14] == '.');
	if (strncmp(p, "/root/", 6) == 0)
		return route_root(s, c, r, p + 6);
	if (strcmp(p, "/provisioners") == 0)
		return route_provisioners(s, c, r);
	return route_encrypted_key(s, c, r, p + 14);
not_allowed:
	return reply_error(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED,
	    "method not allowed", NULL);
}

static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Framing and headers as RFC 9112 has them: what libmicrohttpd 0.9.75
 * (Debian 12) lets through. MHD_OPTION_STRICT_FOR_CLIENT at 1 only refuses
 * an HTTP/1.1 request without Host (with an HTML answer of its own) and
 * drops one with a space in its URL without an answer; its check of
 * whitespace before a colon runs only at -1. MHD_OPTION_CLIENT_DISCIPLINE_LVL
 * came with 1.0. MHD refuses a malformed Content-Length itself, and answers
 * 505 to versions other than 1.x. Everything else is checked here: behind
 * a proxy that reads the framing differently, lenient parsing is request
 * smuggling.
 */
struct headers {
	unsigned	 n_host, n_cl, n_te;
	const char	*host, *te;
	const char	*bad;		/* why the request is refused */
};

/* RFC 9110 5.6.2: a token. */
static int
is_token(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    (p[i] != '\0' && strchr("!#$%&'*+-.^_`|~", p[i]) != NULL)))
			return 0;
	return 1;
}

/* RFC 3986 host [":" port], or empty: nothing else may reach routing. */
static int
is_host(const char *p)
{
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ||
		    strchr("-._~!$&'()*+,;=:[]%", *p) != NULL))
			return 0;
	return 1;
}

static enum MHD_Result
scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct headers *h = cls;
	size_t i;

	(void)kind;
	if (!is_token(key, key_size)) {
		/* A space before the colon included: "Host : x". */
		h->bad = "invalid header name";
		return MHD_NO;
	}
#if MHD_VERSION <= 0x00097500
	/*
	 * Obsolete line folding (RFC 9112 5.2: refuse or unfold). MHD 0.9.75
	 * keeps name and value where the line was read, name, NUL, blanks,
	 * value; it appends a folded line to the name, which moves it away.
	 */
	{
		uintptr_t k = (uintptr_t)key + key_size + 1, v = (uintptr_t)value;
		if (v < k || v - k > 4096)
			goto folded;
		for (; k < v; k++)
			if (*(const char *)k != ' ' && *(const char *)k != '\t')
				goto folded;
	}
#endif
	for (i = 0; i < value_size; i++)
		if (((unsigned char)value[i] < 0x20 && value[i] != '\t') ||
		    value[i] == 0x7f) {
			h->bad = "control character in a header value";
			return MHD_NO;
		}
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
		h->n_host++;
		h->host = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		h->n_cl++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		h->n_te++;
		h->te = value;
	}
	return MHD_YES;
#if MHD_VERSION <= 0x00097500
folded:
	h->bad = "obsolete line folding";
	return MHD_NO;
#endif
}

/*
 * NULL if the request's framing, URL and headers are sound, else why not;
 * *close when the body's length is in doubt, so that the connection must
 * not carry another request.
 */
static const char *
check_request(struct MHD_Connection *c, struct req *r, const char *url,
    const char *version, int *close)
{
	struct headers h;
	int http10 = strcmp(version, MHD_HTTP_VERSION_1_0) == 0;

	*close = 0;
	memset(&h, 0, sizeof(h));
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_header, &h);
	if (h.bad != NULL)
		return h.bad;
	if (h.n_te > 0 || h.n_cl > 1) {
		*close = 1;
		if (h.n_te > 0 && h.n_cl > 0)
			return "Content-Length and Transfer-Encoding together";
		if (h.n_cl > 1)
			return "more than one Content-Length";
		if (http10)
			return "Transfer-Encoding in an HTTP/1.0 request";
		if (h.n_te > 1 || strcasecmp(h.te, "chunked") != 0)
			return "Transfer-Encoding other than chunked";
		*close = 0;
	}
	if (h.n_host > 1)
		return "more than one Host";
	if (h.n_host == 0 && !http10)
		return "HTTP/1.1 request without Host";
	if (h.n_host == 1 && !is_host(h.host))
		return "invalid Host";
#if MHD_VERSION <= 0x00097500
	/*
	 * A raw NUL ends the URL early. MHD 0.9.75 hands over the URL where
	 * the request line was read, just before the version: the URL as
	 * sent ran up to there.
	 */
	if (version[0] != '\0' &&
	    (uintptr_t)url + r->raw_len + 1 != (uintptr_t)version)
		r->raw_nul = 1;
#else
	(void)url;
#endif
	if (r->raw_nul)
		return "NUL in the URL";
	if (r->raw_bad)
		return "space or control character in the URL";
	return NULL;
}

static struct req *
req_new(struct MHD_Connection *c, const char *raw_url)
{
	struct req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->start_ms = ca_now_ms();
	r->conn = conn_of(c);
	if (r->conn != NULL)
		r->conn->busy = 1;
	snprintf(r->method, sizeof(r->method), "-");
	if (raw_url == NULL)
		raw_url = "";
	ca_escape(r->url, sizeof(r->url), raw_url, 1);
	r->raw_len = strlen(raw_url);
	r->raw_nul = strstr(raw_url, "%00") != NULL;
	for (; *raw_url != '\0'; raw_url++)
		if ((unsigned char)*raw_url <= ' ' || *raw_url == 0x7f)
			r->raw_bad = 1;
	return r;
}

/*
 * MHD's URI log callback: the request line has been read, the URL not yet
 * decoded. What it returns is the request's *con_cls, so that the log
 * shows the URL as the client sent it, and a request MHD refuses itself
 * is logged too.
 */
void *
ca_http_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	return req_new(c, uri);
}

enum MHD_Result
ca_http_handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct ca_server *s = cls;
	struct req *r = *con_cls;
	const char *cl, *ct, *bad;
	char *nb;
	int close;

	if (r == NULL || !r->started) {
		/*
		 * Headers only: refuse early what must be refused. No request
		 * from ca_http_begin: it ran out of memory.
		 */
		if (r == NULL)
			return MHD_NO;
		r->started = 1;
		ca_escape(r->method, sizeof(r->method), method, 1);
		/* Answered here, MHD reads no body and closes the connection. */
		if ((bad = check_request(c, r, url, version, &close)) != NULL) {
			r->close = close;
			return reply_error(s, c, r, MHD_HTTP_BAD_REQUEST, bad,
			    NULL);
		}
		if (is_acme_path(url) && (r->acme_path = strdup(url)) == NULL)
			return MHD_NO;
		/* Step-ca serves every route at /1.0/ too. */
		if (strncmp(url, "/1.0/", 5) == 0)
			url += 4;
		snprintf(r->path, sizeof(r->path), "%s", url);
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > s->o.max_body) {
			/* An ACME client is answered in ACME (a nonce). */
			if (r->acme_path != NULL) {
				r->too_big = 1;
				return route_acme(s, c, r, method);
			}
			return reply_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body too large", NULL);
		}
		ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE);
		if (strcmp(method, "POST") == 0 && strcmp(r->path, "/ocsp") == 0) {
			if (ct != NULL && strncasecmp(ct,
			    "application/ocsp-request", 24) != 0)
				return reply_error(s, c, r,
				    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				    "Content-Type must be application/ocsp-request",
				    NULL);
		} else if (strcmp(method, "POST") == 0 &&
		    is_post_route(r->path) && ct != NULL && !is_json_type(ct))
			return reply_error(s, c, r,
			    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "Content-Type must be application/json", NULL);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* Chunked bodies have no Content-Length: count and drop. */
		if (!r->too_big && r->len + *upload_size > s->o.max_body) {
			r->too_big = 1;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
		}
		if (!r->too_big) {
			if (r->len + *upload_size + 1 > r->cap) {
				size_t ncap = r->len + *upload_size + 1;
				if (ncap < 4096)
					ncap = 4096;
				if ((nb = realloc(r->body, ncap)) == NULL)
					return MHD_NO;
				r->body = nb;
				r->cap = ncap;
			}
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_big && r->acme_path != NULL)
		return route_acme(s, c, r, method);
	if (r->too_big)
		return reply_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large", NULL);
	/*
	 * The request is in: while the server works on it (a wait for the
	 * store lock included, bounded by its timeout) the watchdog leaves
	 * the connection alone, so that nothing is issued and then lost.
	 * Writing the answer gets a deadline of its own.
	 */
	if (r->conn != NULL) {
		pthread_mutex_lock(&s->conn_lock);
		r->conn->processing = 1;
		pthread_mutex_unlock(&s->conn_lock);
	}
	return route(s, c, r, method);
}

static void
peer_of(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	char host[64], port[16];
	struct sockaddr *sa;

	snprintf(buf, len, "-");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_UNIX) {
		snprintf(buf, len, "unix");
		return;
	}
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), host,
	    sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%s" :
		    "%s:%s", host, port);
}

void
ca_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct ca_server *s = cls;
	struct req *r = *con_cls;
	char peer[96], status[8];

	if (r == NULL)
		return;
	peer_of(c, peer, sizeof(peer));
	if (r->status != 0)
		snprintf(status, sizeof(status), "%d", r->status);
	else
		snprintf(status, sizeof(status), "-");
	ca_server_log(s, "%s %s %s %s %zu %lldms%s%s%s%s%s", peer, r->method,
	    r->url, status, r->bytes, (long long)(ca_now_ms() - r->start_ms),
	    r->extra, r->detail[0] ? " error=\"" : "", r->detail,
	    r->detail[0] ? "\"" : "",
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
	    toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? " (timed out)" :
	    " (connection closed early)");
	/* The next request on this connection has its own deadline. */
	if (r->conn != NULL) {
		pthread_mutex_lock(&s->conn_lock);
		r->conn->busy = 0;
		r->conn->deadline_ms = ca_now_ms() + (int64_t)s->o.deadline_s * 1000;
		pthread_mutex_unlock(&s->conn_lock);
	}
	free(r->body);
	free(r->acme_path);
	free(r);
	*con_cls = NULL;
}
