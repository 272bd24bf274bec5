/*
 * signer.c - privilege separation: the message format, the signer's loop
 * and the worker's calls (see signer.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "authority-impl.h"
#include "conf.h"
#include "db.h"
#include "signer.h"
#include "x509.h"

/* Ops; a reply carries the request's op with REPLY set. */
enum {
	OP_SIGN = 1, OP_RENEW, OP_REVOKE, OP_PROVISIONERS, OP_ENCKEY,
	OP_SERVER_CERT, OP_CRL, OP_OCSP, OP_RELOAD, OP_SET_PORTS, OP_STATS,
	OP_ACME, OP_ACME_VALIDATED, OP_SCEP,
	OP_MAX
};
#define REPLY	0x80
static const char *const op_names[OP_MAX] = {
	[OP_SIGN] = "sign", [OP_RENEW] = "renew", [OP_REVOKE] = "revoke",
	[OP_PROVISIONERS] = "provisioners", [OP_ENCKEY] = "encrypted key",
	[OP_SERVER_CERT] = "server certificate", [OP_CRL] = "crl",
	[OP_OCSP] = "ocsp", [OP_RELOAD] = "reload",
	[OP_SET_PORTS] = "set ports", [OP_STATS] = "stats",
	[OP_ACME] = "acme", [OP_ACME_VALIDATED] = "acme validated",
	[OP_SCEP] = "scep",
};

/* Fields */
enum {
	T_TOKEN = 1, T_CSR, T_NB, T_NA, T_CERT, T_SERIAL, T_REASON,
	T_REASON_TEXT, T_PEER, T_CURSOR, T_LIMIT, T_KID, T_NOW, T_FRESH,
	T_DER, T_PORTS, T_STATUS, T_MSG, T_CRT, T_CHAIN, T_SUBJECT,
	T_PROV, T_JSON, T_JWE, T_PEM, T_CRL, T_NUMBER, T_REVISION, T_RESP,
	T_HITS, T_BUILT, T_BATCHES, T_BATCHED,
	T_METHOD, T_BASE, T_PATH, T_CTYPE, T_ABODY, T_HSTATUS, T_NONCE,
	T_LOCATION, T_LINKS, T_RETRY, T_JOB, T_OK, T_PTYPE, T_DETAIL,
	T_OVER, T_OPERATION,
	T_MAX
};
enum { K_BYTES, K_STR, K_INT };

static const struct field {
	const char	*name;
	int		 kind;
	uint32_t	 max;
} fields[T_MAX] = {
	[T_TOKEN] = { "token", K_STR, 1u << 20 },
	[T_CSR] = { "csr", K_STR, 1u << 20 },
	[T_NB] = { "not_before", K_INT, 8 },
	[T_NA] = { "not_after", K_INT, 8 },
	[T_CERT] = { "certificate", K_BYTES, 64u << 10 },
	[T_SERIAL] = { "serial", K_STR, 256 },
	[T_REASON] = { "reason", K_INT, 8 },
	[T_REASON_TEXT] = { "reason_text", K_STR, 4096 },
	[T_PEER] = { "peer", K_BYTES, 64u << 10 },
	[T_CURSOR] = { "cursor", K_STR, 4096 },
	[T_LIMIT] = { "limit", K_INT, 8 },
	[T_KID] = { "kid", K_STR, 256 },
	[T_NOW] = { "now", K_INT, 8 },
	[T_FRESH] = { "fresh", K_INT, 8 },
	[T_DER] = { "der", K_BYTES, 64u << 10 },
	[T_PORTS] = { "ports", K_BYTES, 4 * 16 },
	[T_STATUS] = { "status", K_INT, 8 },
	[T_MSG] = { "message", K_STR, 4096 },
	[T_CRT] = { "crt", K_STR, 256u << 10 },
	[T_CHAIN] = { "chain", K_STR, 256u << 10 },
	[T_SUBJECT] = { "subject", K_STR, 4096 },
	[T_PROV] = { "provisioner", K_STR, 4096 },
	[T_JSON] = { "json", K_STR, 16u << 20 },
	[T_JWE] = { "jwe", K_STR, 64u << 10 },
	[T_PEM] = { "pem", K_STR, 256u << 10 },
	[T_CRL] = { "crl", K_BYTES, CA_SIGNER_MAX_REPLY - 4096 },
	[T_NUMBER] = { "number", K_INT, 8 },
	[T_REVISION] = { "revision", K_INT, 8 },
	[T_RESP] = { "response", K_BYTES, 1u << 20 },
	[T_HITS] = { "hits", K_INT, 8 },
	[T_BUILT] = { "built", K_INT, 8 },
	[T_BATCHES] = { "batches", K_INT, 8 },
	[T_BATCHED] = { "batched", K_INT, 8 },
	[T_METHOD] = { "method", K_STR, 16 },
	[T_BASE] = { "base", K_STR, 1024 },
	[T_PATH] = { "path", K_STR, 1024 },
	[T_CTYPE] = { "content_type", K_STR, 256 },
	[T_ABODY] = { "body", K_BYTES, 1u << 20 },
	[T_HSTATUS] = { "http_status", K_INT, 8 },
	[T_NONCE] = { "nonce", K_STR, 64 },
	[T_LOCATION] = { "location", K_STR, 4096 },
	[T_LINKS] = { "links", K_STR, CA_ACME_MAX_LINKS * 4096 },
	[T_RETRY] = { "retry_after", K_INT, 8 },
	[T_JOB] = { "job", K_BYTES, 8 * (4 + 4096) },
	[T_OK] = { "ok", K_INT, 8 },
	[T_PTYPE] = { "problem_type", K_STR, 256 },
	[T_DETAIL] = { "detail", K_STR, 4096 },
	[T_OVER] = { "over_limit", K_INT, 8 },
	[T_OPERATION] = { "operation", K_STR, 64 },
};

#define B(t)	((uint64_t)1 << (t))
#define RESULT	(B(T_CRT) | B(T_CHAIN) | B(T_SERIAL) | B(T_SUBJECT) | \
	B(T_PROV) | B(T_NB) | B(T_NA))

/* What each request and reply may hold, and must. */
static const struct spec {
	uint64_t	 allowed, required;
} requests[OP_MAX] = {
	[OP_SIGN] = { B(T_TOKEN) | B(T_CSR) | B(T_NB) | B(T_NA),
	    B(T_TOKEN) | B(T_NB) | B(T_NA) },
	[OP_RENEW] = { B(T_CERT) | B(T_TOKEN) | B(T_CSR), 0 },
	[OP_REVOKE] = { B(T_SERIAL) | B(T_REASON) | B(T_REASON_TEXT) |
	    B(T_TOKEN) | B(T_PEER), B(T_SERIAL) | B(T_REASON) },
	[OP_PROVISIONERS] = { B(T_CURSOR) | B(T_LIMIT), B(T_LIMIT) },
	[OP_ENCKEY] = { B(T_KID), B(T_KID) },
	[OP_SERVER_CERT] = { 0, 0 },
	[OP_CRL] = { B(T_NOW) | B(T_FRESH), B(T_NOW) | B(T_FRESH) },
	[OP_OCSP] = { B(T_DER) | B(T_NOW), B(T_DER) | B(T_NOW) },
	[OP_RELOAD] = { 0, 0 },
	[OP_SET_PORTS] = { B(T_PORTS), B(T_PORTS) },
	[OP_STATS] = { 0, 0 },
	/* ACME: the signer's own clock, never the worker's. */
	[OP_ACME] = { B(T_METHOD) | B(T_BASE) | B(T_PATH) | B(T_CTYPE) |
	    B(T_ABODY) | B(T_OVER), B(T_METHOD) | B(T_BASE) | B(T_PATH) },
	[OP_ACME_VALIDATED] = { B(T_JOB) | B(T_OK) | B(T_PTYPE) |
	    B(T_DETAIL), B(T_JOB) | B(T_OK) },
	/* SCEP: the decrypter key stays here; the signer's own clock. */
	[OP_SCEP] = { B(T_PROV) | B(T_OPERATION) | B(T_ABODY), B(T_PROV) },
}, replies[OP_MAX] = {
	/* Results are present on success only: checked by the caller. */
	[OP_SIGN] = { RESULT, 0 },
	[OP_RENEW] = { RESULT, 0 },
	[OP_REVOKE] = { B(T_SERIAL), 0 },
	[OP_PROVISIONERS] = { B(T_JSON), 0 },
	[OP_ENCKEY] = { B(T_JWE), 0 },
	[OP_SERVER_CERT] = { B(T_PEM) | B(T_NB) | B(T_NA), 0 },
	[OP_CRL] = { B(T_CRL) | B(T_NUMBER) | B(T_NB) | B(T_NA) | B(T_REVISION),
	    0 },
	[OP_OCSP] = { B(T_RESP) | B(T_NA), 0 },
	[OP_RELOAD] = { 0, 0 },
	[OP_SET_PORTS] = { 0, 0 },
	[OP_STATS] = { B(T_HITS) | B(T_BUILT) | B(T_BATCHES) | B(T_BATCHED), 0 },
	[OP_ACME] = { B(T_HSTATUS) | B(T_CTYPE) | B(T_ABODY) | B(T_NONCE) |
	    B(T_LOCATION) | B(T_LINKS) | B(T_RETRY) | B(T_JOB), 0 },
	[OP_ACME_VALIDATED] = { 0, 0 },
	[OP_SCEP] = { B(T_HSTATUS) | B(T_CTYPE) | B(T_ABODY) | B(T_DETAIL), 0 },
};

/* A decoded message: each field NUL-terminated in arena. */
struct msg {
	int		 op;
	uint64_t	 seen;
	char		*v[T_MAX];
	uint32_t	 len[T_MAX];
	int64_t		 i[T_MAX];
	char		*arena;
	size_t		 arena_len;
};

static void
msg_free(struct msg *m)
{
	/* Replies may carry keys: wipe. */
	if (m->arena != NULL)
		ca_free_secret(m->arena, m->arena_len);
	memset(m, 0, sizeof(*m));
}

/*
 * Decode a frame body (op and fields). reply: the reply to op want.
 * Every refusal is CA_ERR_INVAL with what was wrong.
 */
static int
decode(const unsigned char *p, size_t len, int reply, int want, struct msg *m)
{
	const struct spec *sp;
	size_t off = 1, a = 0;
	uint32_t flen;
	int op, t, k;

	memset(m, 0, sizeof(*m));
	if (len < 1)
		return ca_err(CA_ERR_INVAL, "signer: empty frame");
	op = p[0];
	if (reply) {
		if (op != (want | REPLY))
			return ca_err(CA_ERR_INVAL,
			    "signer: reply op %d to request op %d", op, want);
		sp = &replies[want];
	} else {
		if (op < OP_SIGN || op >= OP_MAX)
			return ca_err(CA_ERR_INVAL, "signer: unknown op %d", op);
		sp = &requests[op];
	}
	m->op = op & ~REPLY;
	if ((m->arena = malloc(len + T_MAX)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	m->arena_len = len + T_MAX;
	while (off < len) {
		if (len - off < 5) {
			msg_free(m);
			return ca_err(CA_ERR_INVAL, "signer: truncated field");
		}
		t = p[off];
		flen = ca_be32_get(p + off + 1);
		off += 5;
		if (t >= T_MAX || (!(sp->allowed & B(t)) &&
		    !(reply && (t == T_STATUS || t == T_MSG)))) {
			msg_free(m);
			return ca_err(CA_ERR_INVAL, "signer: op %d: unexpected "
			    "field %d", op, t);
		}
		if (m->seen & B(t)) {
			msg_free(m);
			return ca_err(CA_ERR_INVAL, "signer: repeated field %s",
			    fields[t].name);
		}
		k = fields[t].kind;
		if (flen > fields[t].max || (k == K_INT && flen != 8)) {
			msg_free(m);
			return ca_err(CA_ERR_INVAL, "signer: field %s: bad "
			    "length %lu", fields[t].name, (unsigned long)flen);
		}
		if (flen > len - off) {
			msg_free(m);
			return ca_err(CA_ERR_INVAL, "signer: field %s: truncated",
			    fields[t].name);
		}
		if (k == K_STR && memchr(p + off, '\0', flen) != NULL) {
			msg_free(m);
			return ca_err(CA_ERR_INVAL, "signer: field %s: a NUL "
			    "byte", fields[t].name);
		}
		m->seen |= B(t);
		m->v[t] = m->arena + a;
		m->len[t] = flen;
		memcpy(m->v[t], p + off, flen);
		m->v[t][flen] = '\0';
		a += flen + 1;
		if (k == K_INT) {
			uint64_t u = (uint64_t)ca_be32_get(p + off) << 32 |
			    ca_be32_get(p + off + 4);
			m->i[t] = (int64_t)u;
		}
		off += flen;
	}
	if (reply && !(m->seen & B(T_STATUS))) {
		msg_free(m);
		return ca_err(CA_ERR_INVAL, "signer: reply without status");
	}
	if ((m->seen & sp->required) != sp->required) {
		for (t = 1; t < T_MAX; t++)
			if ((sp->required & B(t)) && !(m->seen & B(t)))
				break;
		msg_free(m);
		return ca_err(CA_ERR_INVAL, "signer: op %d: missing field %s",
		    op, fields[t].name);
	}
	return 0;
}

/* Encoding: a growing frame, its length filled in by enc_finish. */
struct enc {
	unsigned char	*p;
	size_t		 len, cap;
	int		 err;		/* 1: out of memory, 2: field over */
	int		 over;		/* its tag */
};

static void
enc_raw(struct enc *e, const void *d, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (e->err)
		return;
	if (e->len + n > e->cap) {
		cap = e->cap ? e->cap : 256;
		while (cap < e->len + n)
			cap *= 2;
		if ((np = malloc(cap)) == NULL) {
			e->err = 1;
			return;
		}
		/* Copy by hand: the old buffer may hold a key, wipe it. */
		if (e->p != NULL) {
			memcpy(np, e->p, e->len);
			ca_free_secret(e->p, e->cap);
		}
		e->p = np;
		e->cap = cap;
	}
	memcpy(e->p + e->len, d, n);
	e->len += n;
}

static void
enc_start(struct enc *e, int op)
{
	unsigned char h[5] = { 0, 0, 0, 0, (unsigned char)op };

	memset(e, 0, sizeof(*e));
	enc_raw(e, h, sizeof(h));
}

static void
enc_bytes(struct enc *e, int t, const void *d, size_t n)
{
	unsigned char h[5];

	if (n > fields[t].max) {
		if (!e->err) {
			e->err = 2;
			e->over = t;
		}
		return;
	}
	h[0] = (unsigned char)t;
	ca_be32_put(h + 1, (uint32_t)n);
	enc_raw(e, h, sizeof(h));
	if (n > 0)
		enc_raw(e, d, n);
}

static void
enc_str(struct enc *e, int t, const char *s, size_t n)
{
	if (s != NULL)
		enc_bytes(e, t, s, n);
}

static void
enc_int(struct enc *e, int t, int64_t v)
{
	unsigned char b[8];

	ca_be32_put(b, (uint32_t)((uint64_t)v >> 32));
	ca_be32_put(b + 4, (uint32_t)v);
	enc_bytes(e, t, b, sizeof(b));
}

static void
enc_free(struct enc *e)
{
	if (e->p != NULL)
		ca_free_secret(e->p, e->cap);
	memset(e, 0, sizeof(*e));
}

/* 0, or an error naming the field that does not fit. */
static int
enc_finish(struct enc *e)
{
	if (e->err == 1)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (e->err == 2)
		return ca_err(CA_ERR_TOOBIG, "%s: over %lu bytes",
		    fields[e->over].name, (unsigned long)fields[e->over].max);
	ca_be32_put(e->p, (uint32_t)(e->len - 4));
	return 0;
}

/* No SIGPIPE when the other process is gone: EPIPE instead. */
static int
send_all(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ca_err(CA_ERR_IO, "signer: write: %s",
			    strerror(errno));
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * n bytes: 0, 1 at a clean end of stream, else an error; CA_ERR_TEMP
 * when deadline (now_ms, or -1 for none) passes first.
 */
static int
read_full(int fd, void *buf, size_t n, int64_t deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	unsigned char *p = buf;
	int64_t left;
	ssize_t r;
	int pr;

	while (n > 0) {
		if (deadline >= 0) {
			if ((left = deadline - now_ms()) < 0)
				left = 0;
			pr = poll(&pfd, 1, (int)left);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return ca_err(CA_ERR_IO, "signer: poll: %s",
				    strerror(errno));
			if (pr == 0)
				return ca_err(CA_ERR_TEMP,
				    "signer: no reply in time");
		}
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ca_err(CA_ERR_IO, "signer: read: %s",
			    strerror(errno));
		if (r == 0)
			return 1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * One frame: 0 with *buf (malloc) and *len, 1 at a clean end of stream,
 * else an error (a frame over max or cut short, or the deadline passed).
 */
static int
read_frame(int fd, size_t max, int64_t deadline, unsigned char **buf,
    size_t *len)
{
	unsigned char h[4];
	uint32_t n;
	int rc;

	*buf = NULL;
	*len = 0;
	if ((rc = read_full(fd, h, sizeof(h), deadline)) != 0)
		return rc;
	n = ca_be32_get(h);
	if (n == 0 || n > max)
		return ca_err(CA_ERR_INVAL, "signer: frame of %lu bytes",
		    (unsigned long)n);
	if ((*buf = malloc(n)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if ((rc = read_full(fd, *buf, n, deadline)) != 0) {
		ca_free_secret(*buf, n);
		*buf = NULL;
		return rc == 1 ? ca_err(CA_ERR_INVAL, "signer: truncated frame") :
		    rc;
	}
	*len = n;
	return 0;
}

int
ca_signer_send_raw(int fd, const void *p, size_t len, int raw)
{
	unsigned char h[4];

	ca_be32_put(h, (uint32_t)len);
	if (!raw && send_all(fd, h, sizeof(h)) != 0)
		return CA_ERR_IO;
	return send_all(fd, p, len);
}

/* The signer */

static void
reply_result(struct enc *e, const struct ca_sign_result *r)
{
	enc_str(e, T_CRT, r->crt_pem, r->crt_pem ? strlen(r->crt_pem) : 0);
	enc_str(e, T_CHAIN, r->chain_pem, r->chain_pem ?
	    strlen(r->chain_pem) : 0);
	enc_str(e, T_SERIAL, r->serial, r->serial ? strlen(r->serial) : 0);
	enc_str(e, T_SUBJECT, r->subject, r->subject ?
	    strlen(r->subject) : 0);
	enc_str(e, T_PROV, r->provisioner, r->provisioner ?
	    strlen(r->provisioner) : 0);
	enc_int(e, T_NB, (int64_t)r->not_before);
	enc_int(e, T_NA, (int64_t)r->not_after);
}

/*
 * A validation job as one field: its eight strings in order, each a
 * 32-bit length and its bytes (NUL-free; a NULL member is absent: length
 * 0xffffffff).
 */
#define JOB_NONE	0xffffffffu
#define JOB_MEMBER_MAX	4096

static char **
job_member(struct ca_acme_job *j, size_t i)
{
	char **m[] = { &j->provisioner, &j->authz, &j->challenge, &j->type,
	    &j->id_type, &j->id_value, &j->token, &j->key_auth };

	return m[i];
}

static void
job_encode(struct enc *e, const struct ca_acme_job *job)
{
	struct enc j;
	unsigned char h[4];
	const char *v;
	size_t i, n;

	memset(&j, 0, sizeof(j));
	for (i = 0; i < 8; i++) {
		v = *job_member((struct ca_acme_job *)(uintptr_t)job, i);
		n = v != NULL ? strlen(v) : 0;
		if (n > JOB_MEMBER_MAX) {
			j.err = 2;
			j.over = T_JOB;
			break;
		}
		ca_be32_put(h, v != NULL ? (uint32_t)n : JOB_NONE);
		enc_raw(&j, h, sizeof(h));
		if (n > 0)
			enc_raw(&j, v, n);
	}
	if (j.err) {
		if (!e->err) {
			e->err = j.err;
			e->over = T_JOB;
		}
	} else
		enc_bytes(e, T_JOB, j.p, j.len);
	enc_free(&j);
}

/*
 * Decode a job field p (NUL-terminated by decode(), len bytes) into *job,
 * whose strings point into a copy made in place: p is modified.
 */
static int
job_decode(char *p, size_t len, struct ca_acme_job *job)
{
	char *q = p, *end = p + len, *prev_end = NULL;
	uint32_t n;
	size_t i;

	memset(job, 0, sizeof(*job));
	for (i = 0; i < 8; i++) {
		if ((size_t)(end - q) < 4)
			return ca_err(CA_ERR_INVAL, "signer: job truncated");
		n = ca_be32_get((unsigned char *)q);
		/* The previous member ends where this one's length began. */
		if (prev_end != NULL)
			*prev_end = '\0';
		q += 4;
		if (n == JOB_NONE) {
			prev_end = NULL;
			continue;
		}
		if (n > JOB_MEMBER_MAX || n > (size_t)(end - q) ||
		    memchr(q, '\0', n) != NULL)
			return ca_err(CA_ERR_INVAL, "signer: job member %zu "
			    "invalid", i);
		/* Shift down over the length so that a NUL fits after it. */
		memmove(q - 4, q, n);
		*job_member(job, i) = q - 4;
		prev_end = q - 4 + n;
		q += n;
	}
	if (q != end)
		return ca_err(CA_ERR_INVAL, "signer: job: trailing bytes");
	if (prev_end != NULL)
		*prev_end = '\0';
	return 0;
}

/* The content types an ACME answer has, as static strings. */
static const char *const acme_ctypes[] = {
	"application/json", "application/problem+json",
	"application/pem-certificate-chain", NULL
};

static int
handle_acme(struct ca_authority *a, const struct msg *m, struct enc *res)
{
	struct ca_acme_req q;
	struct ca_acme_resp r;
	size_t i;
	int rc;

	memset(&q, 0, sizeof(q));
	q.method = m->v[T_METHOD];
	q.base = m->v[T_BASE];
	q.path = m->v[T_PATH];
	q.content_type = m->v[T_CTYPE];
	q.body = (const unsigned char *)m->v[T_ABODY];
	q.body_len = m->len[T_ABODY];
	/* A body over the worker's limit: the signer's answer, 413. */
	if ((m->seen & B(T_OVER)) && m->i[T_OVER] > 0)
		q.over_limit = (size_t)m->i[T_OVER];
	q.now = time(NULL);	/* not the worker's */
	if ((rc = ca_authority_acme(a, &q, &r)) != 0)
		return rc;
	enc_int(res, T_HSTATUS, r.status);
	if (r.content_type != NULL)
		enc_str(res, T_CTYPE, r.content_type, strlen(r.content_type));
	if (r.body != NULL)
		enc_bytes(res, T_ABODY, r.body, r.body_len);
	enc_str(res, T_NONCE, r.nonce, r.nonce ? strlen(r.nonce) : 0);
	enc_str(res, T_LOCATION, r.location, r.location ?
	    strlen(r.location) : 0);
	if (r.n_links > 0) {
		struct enc l;

		/* Link values hold no newline (URLs, quoted rel). */
		memset(&l, 0, sizeof(l));
		for (i = 0; i < r.n_links; i++) {
			if (i > 0)
				enc_raw(&l, "\n", 1);
			enc_raw(&l, r.links[i], strlen(r.links[i]));
		}
		if (l.err)
			res->err = l.err;
		else
			enc_str(res, T_LINKS, (const char *)l.p, l.len);
		enc_free(&l);
	}
	if (r.retry_after > 0)
		enc_int(res, T_RETRY, r.retry_after);
	if (r.job != NULL)
		job_encode(res, r.job);
	ca_acme_resp_free(&r);
	return 0;
}

/* The content types a SCEP answer has, as static strings. */
static const char *const scep_ctypes[] = {
	"text/plain", "text/plain; charset=utf-8",
	"application/x-x509-ca-cert", "application/x-x509-ca-ra-cert",
	"application/x-pki-message", NULL
};

static int
handle_scep(struct ca_authority *a, const struct msg *m, struct enc *res)
{
	struct ca_scep_req q;
	struct ca_scep_resp r;
	int rc;

	memset(&q, 0, sizeof(q));
	q.name = m->v[T_PROV];
	q.operation = m->v[T_OPERATION];
	q.message = (const unsigned char *)m->v[T_ABODY];
	q.len = m->len[T_ABODY];
	q.now = time(NULL);	/* not the worker's */
	if ((rc = ca_authority_scep(a, &q, &r)) != 0)
		return rc;
	enc_int(res, T_HSTATUS, r.status);
	if (r.content_type != NULL)
		enc_str(res, T_CTYPE, r.content_type, strlen(r.content_type));
	if (r.body != NULL)
		enc_bytes(res, T_ABODY, r.body, r.len);
	if (r.log[0] != '\0')
		enc_str(res, T_DETAIL, r.log, strlen(r.log));
	ca_scep_resp_free(&r);
	return 0;
}

/* Run request m on a; the reply (status first) goes to e. */
static void
handle(struct ca_authority *a, const struct msg *m, struct enc *e)
{
	struct enc res;
	struct ca_sign_result sr;
	struct ca_db_crl crl;
	gnutls_datum_t resp = { NULL, 0 };
	char *s = NULL;
	size_t n = 0;
	time_t nb = 0, na = 0;
	unsigned long h = 0, b = 0;
	int rc = 0, ports[16];
	size_t i;

	/* Results go to res, sent after the status once it is known. */
	memset(&res, 0, sizeof(res));
	memset(&sr, 0, sizeof(sr));
	memset(&crl, 0, sizeof(crl));
	switch (m->op) {
	case OP_SIGN: {
		struct ca_sign_req q;

		memset(&q, 0, sizeof(q));
		q.token = m->v[T_TOKEN];
		q.token_len = m->len[T_TOKEN];
		q.csr = m->v[T_CSR];
		q.csr_len = m->len[T_CSR];
		q.not_before = (time_t)m->i[T_NB];
		q.not_after = (time_t)m->i[T_NA];
		if ((rc = ca_authority_sign(a, &q, &sr)) == 0)
			reply_result(&res, &sr);
		break;
	}
	case OP_RENEW: {
		struct ca_renew_req q;

		memset(&q, 0, sizeof(q));
		q.cert_der = (const unsigned char *)m->v[T_CERT];
		q.cert_len = m->len[T_CERT];
		q.token = m->v[T_TOKEN];
		q.token_len = m->len[T_TOKEN];
		q.csr = m->v[T_CSR];
		q.csr_len = m->len[T_CSR];
		if ((rc = ca_authority_renew(a, &q, &sr)) == 0)
			reply_result(&res, &sr);
		break;
	}
	case OP_REVOKE: {
		struct ca_revoke_req q;

		/* Never trusted: the worker is not the operator. */
		memset(&q, 0, sizeof(q));
		q.serial = m->v[T_SERIAL];
		q.reason = m->i[T_REASON] < INT32_MIN ||
		    m->i[T_REASON] > INT32_MAX ? 7 : (int)m->i[T_REASON];
		q.reason_text = m->v[T_REASON_TEXT];
		q.token = m->v[T_TOKEN];
		q.token_len = m->len[T_TOKEN];
		q.peer_der = (const unsigned char *)m->v[T_PEER];
		q.peer_len = m->len[T_PEER];
		if ((rc = ca_authority_revoke(a, &q, &s)) == 0)
			enc_str(&res, T_SERIAL, s, strlen(s));
		free(s);
		break;
	}
	case OP_PROVISIONERS:
		if ((rc = ca_authority_provisioners(a, m->v[T_CURSOR],
		    m->i[T_LIMIT] < 0 ? 0 : (size_t)m->i[T_LIMIT], &s)) == 0)
			enc_str(&res, T_JSON, s, strlen(s));
		free(s);
		break;
	case OP_ENCKEY:
		if ((rc = ca_authority_encrypted_key(a, m->v[T_KID], &s)) == 0)
			enc_str(&res, T_JWE, s, strlen(s));
		free(s);
		break;
	case OP_SERVER_CERT:
		if ((rc = ca_authority_server_cert(a, &s, &n, &nb, &na)) == 0) {
			enc_str(&res, T_PEM, s, n);
			enc_int(&res, T_NB, (int64_t)nb);
			enc_int(&res, T_NA, (int64_t)na);
			ca_free_secret(s, n);
		}
		break;
	case OP_CRL:
		if ((rc = ca_authority_crl(a, (time_t)m->i[T_NOW],
		    m->i[T_FRESH] != 0, &crl)) == 0) {
			enc_bytes(&res, T_CRL, crl.der, crl.len);
			enc_int(&res, T_NUMBER, (int64_t)crl.number);
			enc_int(&res, T_NB, (int64_t)crl.this_update);
			enc_int(&res, T_NA, (int64_t)crl.next_update);
			enc_int(&res, T_REVISION, (int64_t)crl.revision);
			free(crl.der);
		}
		break;
	case OP_OCSP:
		if ((rc = ca_authority_ocsp(a, m->v[T_DER], m->len[T_DER],
		    (time_t)m->i[T_NOW], &resp, &na)) == 0) {
			enc_bytes(&res, T_RESP, resp.data, resp.size);
			enc_int(&res, T_NA, (int64_t)na);
			gnutls_free(resp.data);
		}
		break;
	case OP_RELOAD:
		rc = ca_authority_reload(a);
		break;
	case OP_SET_PORTS:
		if (m->len[T_PORTS] % 4 != 0) {
			rc = ca_err(CA_ERR_INVAL, "signer: ports: bad length");
			break;
		}
		for (i = 0; i < m->len[T_PORTS] / 4; i++)
			ports[i] = (int)ca_be32_get((const unsigned char *)
			    m->v[T_PORTS] + 4 * i);
		ca_authority_set_ports(a, ports, i);
		break;
	case OP_ACME:
		rc = handle_acme(a, m, &res);
		break;
	case OP_SCEP:
		rc = handle_scep(a, m, &res);
		break;
	case OP_ACME_VALIDATED: {
		struct ca_acme_job job;

		if ((rc = job_decode(m->v[T_JOB], m->len[T_JOB], &job)) == 0)
			rc = ca_authority_acme_validated(a, &job,
			    m->i[T_OK] != 0, m->v[T_PTYPE], m->v[T_DETAIL],
			    time(NULL));
		break;
	}
	case OP_STATS:
		ca_authority_ocsp_stats(a, &h, &b);
		enc_int(&res, T_HITS, (int64_t)h);
		enc_int(&res, T_BUILT, (int64_t)b);
		ca_authority_commit_stats(a, &h, &b);
		enc_int(&res, T_BATCHES, (int64_t)b);
		enc_int(&res, T_BATCHED, (int64_t)h);
		break;
	}
	ca_sign_result_free(&sr);
	if (rc == 0 && res.err)
		rc = enc_finish(&res);
	enc_int(e, T_STATUS, rc);
	if (rc != 0) {
		const char *msg = ca_errmsg();
		enc_str(e, T_MSG, msg, strnlen(msg, fields[T_MSG].max));
	} else if (res.len > 0)
		enc_raw(e, res.p, res.len);
	enc_free(&res);
}

int
ca_signer_serve(int fd, struct ca_authority *a)
{
	struct enc e;
	struct msg m;
	unsigned char *buf;
	size_t len;
	int rc;

	for (;;) {
		if ((rc = read_frame(fd, CA_SIGNER_MAX_REQUEST, -1, &buf,
		    &len)) != 0)
			break;
		rc = decode(buf, len, 0, 0, &m);
		ca_free_secret(buf, len);
		if (rc != 0)
			break;
		enc_start(&e, m.op | REPLY);
		handle(a, &m, &e);
		msg_free(&m);
		if ((rc = enc_finish(&e)) == 0)
			rc = send_all(fd, e.p, e.len);
		enc_free(&e);
		if (rc != 0)
			break;
	}
	if (rc == 1)
		return 0;
	if (rc == CA_ERR_INVAL)
		ca_warn("%s: connection dropped", ca_errmsg());
	return rc;
}

/* The worker */

struct ca_signer {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cv;
	int		*fds;		/* -1: closed after a failure */
	char		*busy;
	size_t		 n, live;
	int		 timeout_ms;	/* for each reply */
};

int
ca_signer_new(const int *fds, size_t n, struct ca_signer **out)
{
	struct ca_signer *sg;
	size_t i;

	*out = NULL;
	if (n == 0)
		return ca_err(CA_ERR_INVAL, "signer: no connection");
	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    (sg->fds = calloc(n, sizeof(int))) == NULL ||
	    (sg->busy = calloc(n, 1)) == NULL) {
		if (sg != NULL)
			free(sg->fds);
		free(sg);
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&sg->lock, NULL);
	pthread_cond_init(&sg->cv, NULL);
	for (i = 0; i < n; i++)
		sg->fds[i] = fds[i];
	sg->n = sg->live = n;
	sg->timeout_ms = CA_SIGNER_TIMEOUT_MS;
	*out = sg;
	return 0;
}

void
ca_signer_set_timeout(struct ca_signer *sg, int ms)
{
	sg->timeout_ms = ms > 0 ? ms : CA_SIGNER_TIMEOUT_MS;
}

void
ca_signer_free(struct ca_signer *sg)
{
	size_t i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->n; i++)
		if (sg->fds[i] >= 0)
			close(sg->fds[i]);
	pthread_mutex_destroy(&sg->lock);
	pthread_cond_destroy(&sg->cv);
	free(sg->fds);
	free(sg->busy);
	free(sg);
}

/* A free connection's index, or -1 when none is left alive. */
static ssize_t
take(struct ca_signer *sg)
{
	ssize_t k = -1;
	size_t i;

	pthread_mutex_lock(&sg->lock);
	while (sg->live > 0) {
		for (i = 0; i < sg->n; i++)
			if (sg->fds[i] >= 0 && !sg->busy[i]) {
				sg->busy[i] = 1;
				k = (ssize_t)i;
				goto out;
			}
		pthread_cond_wait(&sg->cv, &sg->lock);
	}
out:
	pthread_mutex_unlock(&sg->lock);
	return k;
}

static void
give_back(struct ca_signer *sg, size_t k, int broken)
{
	pthread_mutex_lock(&sg->lock);
	sg->busy[k] = 0;
	if (broken && sg->fds[k] >= 0) {
		close(sg->fds[k]);
		sg->fds[k] = -1;
		sg->live--;
	}
	pthread_cond_broadcast(&sg->cv);
	pthread_mutex_unlock(&sg->lock);
}

/*
 * Send e (a finished request of op) and decode the reply into m. Returns
 * the signer's status (its message set as ours) or a transport error.
 */
static int
call(struct ca_signer *sg, struct enc *e, int op, struct msg *m)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int64_t deadline;
	ssize_t k;
	int rc, broken = 1;

	memset(m, 0, sizeof(*m));
	if ((rc = enc_finish(e)) != 0) {
		enc_free(e);
		return rc;
	}
	if ((k = take(sg)) < 0) {
		enc_free(e);
		return ca_err(CA_ERR_IO, "signer: not running");
	}
	deadline = now_ms() + sg->timeout_ms;
	rc = send_all(sg->fds[k], e->p, e->len);
	/* -v: the request is with the signer (tests wait on this line). */
	if (rc == 0)
		ca_debug("signer: %s request sent, %zu bytes, connection %zd",
		    op_names[op], e->len, k);
	if (rc == 0 && (rc = read_frame(sg->fds[k], CA_SIGNER_MAX_REPLY,
	    deadline, &buf, &len)) == 1)
		rc = ca_err(CA_ERR_IO, "signer: connection closed");
	if (rc == 0 && (rc = decode(buf, len, 1, op, m)) == 0)
		broken = 0;
	enc_free(e);
	if (buf != NULL)
		ca_free_secret(buf, len);
	/* After a timeout the late reply would answer the next call: the
	 * connection is closed with the others that broke. */
	give_back(sg, (size_t)k, broken);
	if (rc != 0)
		return rc == CA_ERR_NOMEM || rc == CA_ERR_TEMP ? rc : CA_ERR_IO;
	rc = (int)m->i[T_STATUS];
	if (rc > 0 || rc < CA_ERR_UPSTREAM_TIMEOUT) {
		msg_free(m);
		return ca_err(CA_ERR_IO, "signer: status %d", rc);
	}
	if (rc != 0) {
		ca_err(rc, "%s", m->v[T_MSG] != NULL ? m->v[T_MSG] :
		    "signer: failed");
		msg_free(m);
	}
	return rc;
}

static char *
take_str(const struct msg *m, int t)
{
	return m->v[t] != NULL ? strdup(m->v[t]) : NULL;
}

static int
sign_result(struct msg *m, struct ca_sign_result *res)
{
	int rc = 0;

	if (!(m->seen & B(T_CRT)) || !(m->seen & B(T_SERIAL)))
		rc = ca_err(CA_ERR_IO, "signer: reply without a certificate");
	else if ((res->crt_pem = take_str(m, T_CRT)) == NULL ||
	    (res->serial = take_str(m, T_SERIAL)) == NULL ||
	    (m->v[T_CHAIN] && (res->chain_pem = take_str(m, T_CHAIN)) == NULL) ||
	    (m->v[T_SUBJECT] &&
	    (res->subject = take_str(m, T_SUBJECT)) == NULL) ||
	    (m->v[T_PROV] && (res->provisioner = take_str(m, T_PROV)) == NULL))
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	if (rc == 0) {
		res->not_before = (time_t)m->i[T_NB];
		res->not_after = (time_t)m->i[T_NA];
	} else
		ca_sign_result_free(res);
	msg_free(m);
	return rc;
}

int
ca_signer_sign(struct ca_signer *sg, const struct ca_sign_req *req,
    struct ca_sign_result *res)
{
	struct enc e;
	struct msg m;
	int rc;

	memset(res, 0, sizeof(*res));
	enc_start(&e, OP_SIGN);
	enc_str(&e, T_TOKEN, req->token ? req->token : "", req->token_len);
	enc_str(&e, T_CSR, req->csr, req->csr_len);
	enc_int(&e, T_NB, (int64_t)req->not_before);
	enc_int(&e, T_NA, (int64_t)req->not_after);
	if ((rc = call(sg, &e, OP_SIGN, &m)) != 0)
		return rc;
	return sign_result(&m, res);
}

int
ca_signer_renew(struct ca_signer *sg, const struct ca_renew_req *req,
    struct ca_sign_result *res)
{
	struct enc e;
	struct msg m;
	int rc;

	memset(res, 0, sizeof(*res));
	enc_start(&e, OP_RENEW);
	if (req->cert_der != NULL)
		enc_bytes(&e, T_CERT, req->cert_der, req->cert_len);
	enc_str(&e, T_TOKEN, req->token, req->token_len);
	enc_str(&e, T_CSR, req->csr, req->csr_len);
	if ((rc = call(sg, &e, OP_RENEW, &m)) != 0)
		return rc;
	return sign_result(&m, res);
}

int
ca_signer_revoke(struct ca_signer *sg, const struct ca_revoke_req *req,
    char **serial)
{
	struct enc e;
	struct msg m;
	int rc;

	*serial = NULL;
	enc_start(&e, OP_REVOKE);
	enc_str(&e, T_SERIAL, req->serial ? req->serial : "",
	    req->serial ? strlen(req->serial) : 0);
	enc_int(&e, T_REASON, req->reason);
	enc_str(&e, T_REASON_TEXT, req->reason_text, req->reason_text ?
	    strlen(req->reason_text) : 0);
	enc_str(&e, T_TOKEN, req->token, req->token_len);
	if (req->peer_der != NULL)
		enc_bytes(&e, T_PEER, req->peer_der, req->peer_len);
	if ((rc = call(sg, &e, OP_REVOKE, &m)) != 0)
		return rc;
	if (m.v[T_SERIAL] == NULL)
		rc = ca_err(CA_ERR_IO, "signer: reply without a serial");
	else if ((*serial = take_str(&m, T_SERIAL)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	msg_free(&m);
	return rc;
}

/* A call whose result is one string field t. */
static int
call_str(struct ca_signer *sg, struct enc *e, int op, int t, char **out)
{
	struct msg m;
	int rc;

	*out = NULL;
	if ((rc = call(sg, e, op, &m)) != 0)
		return rc;
	if (m.v[t] == NULL)
		rc = ca_err(CA_ERR_IO, "signer: reply without %s",
		    fields[t].name);
	else if ((*out = take_str(&m, t)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	msg_free(&m);
	return rc;
}

int
ca_signer_provisioners(struct ca_signer *sg, const char *cursor,
    size_t limit, char **json)
{
	struct enc e;

	enc_start(&e, OP_PROVISIONERS);
	enc_str(&e, T_CURSOR, cursor, cursor ? strlen(cursor) : 0);
	enc_int(&e, T_LIMIT, limit > INT32_MAX ? INT32_MAX : (int64_t)limit);
	return call_str(sg, &e, OP_PROVISIONERS, T_JSON, json);
}

int
ca_signer_encrypted_key(struct ca_signer *sg, const char *kid, char **jwe)
{
	struct enc e;

	enc_start(&e, OP_ENCKEY);
	enc_str(&e, T_KID, kid, strlen(kid));
	return call_str(sg, &e, OP_ENCKEY, T_JWE, jwe);
}

int
ca_signer_server_cert(struct ca_signer *sg, char **pem, size_t *len,
    time_t *not_before, time_t *not_after)
{
	struct enc e;
	struct msg m;
	int rc;

	*pem = NULL;
	*len = 0;
	enc_start(&e, OP_SERVER_CERT);
	if ((rc = call(sg, &e, OP_SERVER_CERT, &m)) != 0)
		return rc;
	if (m.v[T_PEM] == NULL || !(m.seen & B(T_NA)))
		rc = ca_err(CA_ERR_IO, "signer: reply without a certificate");
	else if ((*pem = malloc(m.len[T_PEM] + 1)) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	else {
		memcpy(*pem, m.v[T_PEM], m.len[T_PEM] + 1);
		*len = m.len[T_PEM];
		*not_before = (time_t)m.i[T_NB];
		*not_after = (time_t)m.i[T_NA];
	}
	msg_free(&m);
	return rc;
}

int
ca_signer_crl(struct ca_signer *sg, time_t now, int fresh,
    struct ca_db_crl *out)
{
	struct enc e;
	struct msg m;
	int rc;

	memset(out, 0, sizeof(*out));
	enc_start(&e, OP_CRL);
	enc_int(&e, T_NOW, (int64_t)now);
	enc_int(&e, T_FRESH, fresh != 0);
	if ((rc = call(sg, &e, OP_CRL, &m)) != 0)
		return rc;
	if (m.v[T_CRL] == NULL || m.len[T_CRL] == 0)
		rc = ca_err(CA_ERR_IO, "signer: reply without a CRL");
	else if ((out->der = malloc(m.len[T_CRL])) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	else {
		memcpy(out->der, m.v[T_CRL], m.len[T_CRL]);
		out->len = m.len[T_CRL];
		out->number = (uint64_t)m.i[T_NUMBER];
		out->this_update = (time_t)m.i[T_NB];
		out->next_update = (time_t)m.i[T_NA];
		out->revision = (uint64_t)m.i[T_REVISION];
	}
	msg_free(&m);
	return rc;
}

int
ca_signer_ocsp(struct ca_signer *sg, const void *der, size_t len, time_t now,
    gnutls_datum_t *resp, time_t *next_update)
{
	struct enc e;
	struct msg m;
	int rc;

	resp->data = NULL;
	resp->size = 0;
	*next_update = 0;
	enc_start(&e, OP_OCSP);
	enc_bytes(&e, T_DER, der, len);
	enc_int(&e, T_NOW, (int64_t)now);
	if ((rc = call(sg, &e, OP_OCSP, &m)) != 0)
		return rc;
	if (m.v[T_RESP] == NULL || m.len[T_RESP] == 0)
		rc = ca_err(CA_ERR_IO, "signer: reply without a response");
	else if ((resp->data = gnutls_malloc(m.len[T_RESP])) == NULL)
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
	else {
		memcpy(resp->data, m.v[T_RESP], m.len[T_RESP]);
		resp->size = m.len[T_RESP];
		*next_update = (time_t)m.i[T_NA];
	}
	msg_free(&m);
	return rc;
}

int
ca_signer_acme(struct ca_signer *sg, const struct ca_acme_req *req,
    struct ca_acme_resp *resp)
{
	struct ca_acme_job job;
	struct enc e;
	struct msg m;
	char *p, *nl;
	size_t i;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (req->body_len > fields[T_ABODY].max)
		return ca_err(CA_ERR_TOOBIG, "ACME request body over %lu bytes",
		    (unsigned long)fields[T_ABODY].max);
	enc_start(&e, OP_ACME);
	enc_str(&e, T_METHOD, req->method, strlen(req->method));
	enc_str(&e, T_BASE, req->base, strlen(req->base));
	enc_str(&e, T_PATH, req->path, strlen(req->path));
	enc_str(&e, T_CTYPE, req->content_type, req->content_type ?
	    strlen(req->content_type) : 0);
	if (req->body != NULL)
		enc_bytes(&e, T_ABODY, req->body, req->body_len);
	if (req->over_limit > 0)
		enc_int(&e, T_OVER, (int64_t)req->over_limit);
	if ((rc = call(sg, &e, OP_ACME, &m)) != 0)
		return rc;
	if (!(m.seen & B(T_HSTATUS)) || m.i[T_HSTATUS] < 100 ||
	    m.i[T_HSTATUS] > 599) {
		rc = ca_err(CA_ERR_IO, "signer: ACME reply without a status");
		goto out;
	}
	resp->status = (int)m.i[T_HSTATUS];
	if (m.v[T_CTYPE] != NULL) {
		for (i = 0; acme_ctypes[i] != NULL; i++)
			if (strcmp(acme_ctypes[i], m.v[T_CTYPE]) == 0)
				resp->content_type = acme_ctypes[i];
		if (resp->content_type == NULL) {
			rc = ca_err(CA_ERR_IO, "signer: ACME reply of an "
			    "unknown content type");
			goto out;
		}
	}
	if (m.v[T_ABODY] != NULL) {
		if ((resp->body = malloc(m.len[T_ABODY] + 1)) == NULL)
			goto nomem;
		memcpy(resp->body, m.v[T_ABODY], m.len[T_ABODY] + 1);
		resp->body_len = m.len[T_ABODY];
	}
	if ((m.v[T_NONCE] != NULL &&
	    (resp->nonce = strdup(m.v[T_NONCE])) == NULL) ||
	    (m.v[T_LOCATION] != NULL &&
	    (resp->location = strdup(m.v[T_LOCATION])) == NULL))
		goto nomem;
	for (p = m.v[T_LINKS]; p != NULL && resp->n_links < CA_ACME_MAX_LINKS;
	    p = nl != NULL ? nl + 1 : NULL) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		if ((resp->links[resp->n_links] = strdup(p)) == NULL)
			goto nomem;
		resp->n_links++;
	}
	if (m.seen & B(T_RETRY))
		resp->retry_after = m.i[T_RETRY] < 0 || m.i[T_RETRY] > 86400 ?
		    0 : (unsigned)m.i[T_RETRY];
	if (m.v[T_JOB] != NULL) {
		if ((rc = job_decode(m.v[T_JOB], m.len[T_JOB], &job)) != 0)
			goto out;
		if ((resp->job = ca_acme_job_dup(&job)) == NULL)
			goto nomem;
	}
	goto out;
nomem:
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	msg_free(&m);
	if (rc != 0)
		ca_acme_resp_free(resp);
	return rc;
}

int
ca_signer_scep(struct ca_signer *sg, const struct ca_scep_req *req,
    struct ca_scep_resp *resp)
{
	struct enc e;
	struct msg m;
	size_t i;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (req->len > fields[T_ABODY].max)
		return ca_err(CA_ERR_TOOBIG, "SCEP message over %lu bytes",
		    (unsigned long)fields[T_ABODY].max);
	enc_start(&e, OP_SCEP);
	enc_str(&e, T_PROV, req->name, strlen(req->name));
	if (req->operation != NULL)
		enc_str(&e, T_OPERATION, req->operation,
		    strlen(req->operation));
	if (req->message != NULL)
		enc_bytes(&e, T_ABODY, req->message, req->len);
	if ((rc = call(sg, &e, OP_SCEP, &m)) != 0)
		return rc;
	if (!(m.seen & B(T_HSTATUS)) || m.i[T_HSTATUS] < 100 ||
	    m.i[T_HSTATUS] > 599) {
		rc = ca_err(CA_ERR_IO, "signer: SCEP reply without a status");
		goto out;
	}
	resp->status = (int)m.i[T_HSTATUS];
	for (i = 0; m.v[T_CTYPE] != NULL && scep_ctypes[i] != NULL; i++)
		if (strcmp(scep_ctypes[i], m.v[T_CTYPE]) == 0)
			resp->content_type = scep_ctypes[i];
	if (resp->content_type == NULL) {
		rc = ca_err(CA_ERR_IO, "signer: SCEP reply of an unknown "
		    "content type");
		goto out;
	}
	if (m.v[T_ABODY] != NULL) {
		if ((resp->body = malloc(m.len[T_ABODY] + 1)) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		memcpy(resp->body, m.v[T_ABODY], m.len[T_ABODY]);
		resp->len = m.len[T_ABODY];
	}
	if (m.v[T_DETAIL] != NULL)
		snprintf(resp->log, sizeof(resp->log), "%s", m.v[T_DETAIL]);
out:
	msg_free(&m);
	if (rc != 0)
		ca_scep_resp_free(resp);
	return rc;
}

int
ca_signer_acme_validated(struct ca_signer *sg, const struct ca_acme_job *job,
    int ok, const char *problem_type, const char *detail, time_t now)
{
	struct enc e;
	struct msg m;
	int rc;

	enc_start(&e, OP_ACME_VALIDATED);
	job_encode(&e, job);
	enc_int(&e, T_OK, ok != 0);
	enc_str(&e, T_PTYPE, problem_type, problem_type ?
	    strlen(problem_type) : 0);
	/* A detail is one line a validator wrote: cut, never refused. */
	enc_str(&e, T_DETAIL, detail, detail ?
	    strnlen(detail, fields[T_DETAIL].max) : 0);
	(void)now;	/* the signer uses its own clock */
	if ((rc = call(sg, &e, OP_ACME_VALIDATED, &m)) == 0)
		msg_free(&m);
	return rc;
}

int
ca_signer_reload(struct ca_signer *sg)
{
	struct enc e;
	struct msg m;
	int rc;

	enc_start(&e, OP_RELOAD);
	if ((rc = call(sg, &e, OP_RELOAD, &m)) == 0)
		msg_free(&m);
	return rc;
}

int
ca_signer_set_ports(struct ca_signer *sg, const int *ports, size_t n)
{
	unsigned char b[4 * 16];
	struct enc e;
	struct msg m;
	size_t i;
	int rc;

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++)
		ca_be32_put(b + 4 * i, (uint32_t)ports[i]);
	enc_start(&e, OP_SET_PORTS);
	enc_bytes(&e, T_PORTS, b, 4 * n);
	if ((rc = call(sg, &e, OP_SET_PORTS, &m)) == 0)
		msg_free(&m);
	return rc;
}

int
ca_signer_stats(struct ca_signer *sg, unsigned long *ocsp_hits,
    unsigned long *ocsp_built, unsigned long *batches, unsigned long *batched)
{
	struct enc e;
	struct msg m;
	int rc;

	*ocsp_hits = *ocsp_built = *batches = *batched = 0;
	enc_start(&e, OP_STATS);
	if ((rc = call(sg, &e, OP_STATS, &m)) != 0)
		return rc;
	*ocsp_hits = (unsigned long)m.i[T_HITS];
	*ocsp_built = (unsigned long)m.i[T_BUILT];
	*batches = (unsigned long)m.i[T_BATCHES];
	*batched = (unsigned long)m.i[T_BATCHED];
	msg_free(&m);
	return 0;
}

/* The "signer" kind of authority: the worker's handle. */

struct signer_impl {
	struct ca_signer	*sg;
	struct ca_config	*cfg;
	char			*dir, *root_fp;
	gnutls_datum_t		 root_pem, chain_pem;
};

#define SG(a)	(((struct signer_impl *)(a)->impl)->sg)

static int
op_sign(struct ca_authority *a, const struct ca_sign_req *q,
    struct ca_sign_result *r)
{
	return ca_signer_sign(SG(a), q, r);
}

static int
op_renew(struct ca_authority *a, const struct ca_renew_req *q,
    struct ca_sign_result *r)
{
	return ca_signer_renew(SG(a), q, r);
}

static int
op_revoke(struct ca_authority *a, const struct ca_revoke_req *q, char **serial)
{
	return ca_signer_revoke(SG(a), q, serial);
}

static int
op_provisioners(struct ca_authority *a, const char *cursor, size_t limit,
    char **json)
{
	return ca_signer_provisioners(SG(a), cursor, limit, json);
}

static int
op_encrypted_key(struct ca_authority *a, const char *kid, char **jwe)
{
	return ca_signer_encrypted_key(SG(a), kid, jwe);
}

static int
op_server_cert(struct ca_authority *a, char **pem, size_t *len, time_t *nb,
    time_t *na)
{
	return ca_signer_server_cert(SG(a), pem, len, nb, na);
}

static int
op_crl(struct ca_authority *a, time_t now, int fresh, struct ca_db_crl *out)
{
	return ca_signer_crl(SG(a), now, fresh, out);
}

static int
op_ocsp(struct ca_authority *a, const void *der, size_t len, time_t now,
    gnutls_datum_t *resp, time_t *next)
{
	return ca_signer_ocsp(SG(a), der, len, now, resp, next);
}

static void
op_ocsp_stats(struct ca_authority *a, unsigned long *hits,
    unsigned long *built)
{
	unsigned long b, n;

	(void)ca_signer_stats(SG(a), hits, built, &b, &n);
}

static void
op_commit_stats(struct ca_authority *a, unsigned long *issued,
    unsigned long *commits)
{
	unsigned long h, b;

	(void)ca_signer_stats(SG(a), &h, &b, commits, issued);
}

static int
op_acme(struct ca_authority *a, const struct ca_acme_req *q,
    struct ca_acme_resp *r)
{
	return ca_signer_acme(SG(a), q, r);
}

static int
op_scep(struct ca_authority *a, const struct ca_scep_req *q,
    struct ca_scep_resp *r)
{
	return ca_signer_scep(SG(a), q, r);
}

static int
op_acme_validated(struct ca_authority *a, const struct ca_acme_job *job,
    int ok, const char *type, const char *detail, time_t now)
{
	return ca_signer_acme_validated(SG(a), job, ok, type, detail, now);
}

static int
op_reload(struct ca_authority *a)
{
	return ca_signer_reload(SG(a));
}

static void
op_set_ports(struct ca_authority *a, const int *ports, size_t n)
{
	(void)ca_signer_set_ports(SG(a), ports, n);
}

static void
impl_free(struct signer_impl *im)
{
	if (im == NULL)
		return;
	ca_signer_free(im->sg);
	ca_config_free(im->cfg);
	free(im->dir);
	free(im->root_fp);
	gnutls_free(im->root_pem.data);
	gnutls_free(im->chain_pem.data);
	free(im);
}

static void
op_close(struct ca_authority *a)
{
	impl_free(a->impl);
}

static const struct ca_authority_ops signer_ops = {
	.kind = "signer",
	.sign = op_sign,
	.renew = op_renew,
	.revoke = op_revoke,
	.provisioners = op_provisioners,
	.encrypted_key = op_encrypted_key,
	.server_cert = op_server_cert,
	.crl = op_crl,
	.ocsp = op_ocsp,
	.ocsp_stats = op_ocsp_stats,
	.commit_stats = op_commit_stats,
	.reload = op_reload,
	.set_ports = op_set_ports,
	.close = op_close,
	.acme = op_acme,
	.acme_validated = op_acme_validated,
	.scep = op_scep,
};

/* A certificate file's PEM and, when fp is set, its fingerprint. */
static int
load_pem(const char *path, gnutls_datum_t *pem, char **fp)
{
	gnutls_x509_crt_t crt;
	int rc;

	if ((rc = ca_x509_load(path, &crt)) != 0)
		return rc;
	if (fp != NULL && (rc = ca_x509_fingerprint(crt, fp)) != 0)
		goto out;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, pem) < 0)
		rc = ca_err(CA_ERR_CRYPTO, "%s: cannot encode", path);
out:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int
ca_authority_open_signer(const int *fds, size_t n, const char *dir,
    struct ca_authority **out)
{
	struct signer_impl *im;
	struct ca_authority *a;
	int rc;

	*out = NULL;
	if ((im = calloc(1, sizeof(*im))) == NULL ||
	    (rc = ca_signer_new(fds, n, &im->sg)) != 0) {
		rc = im == NULL ? ca_err(CA_ERR_NOMEM, "out of memory") : rc;
		free(im);
		while (n-- > 0)
			close(fds[n]);
		return rc;
	}
	if ((im->dir = strdup(dir)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_config_load(dir, &im->cfg)) != 0)
		goto fail;
	if (im->cfg->is_ra) {
		rc = ca_err(CA_ERR_CONFIG, "%s is a registration authority: "
		    "privilege separation is for a CA with its key (use "
		    "--no-privsep)", dir);
		goto fail;
	}
	if ((rc = load_pem(im->cfg->root, &im->root_pem, &im->root_fp)) != 0 ||
	    (rc = load_pem(im->cfg->crt, &im->chain_pem, NULL)) != 0)
		goto fail;
	if ((rc = ca_authority_wrap(&signer_ops, im, &a)) != 0)
		goto fail;
	a->root_pem = im->root_pem;
	a->chain_pem = im->chain_pem;
	a->root_fp = im->root_fp;
	a->dir = im->dir;
	a->cfg = im->cfg;
	*out = a;
	return 0;
fail:
	impl_free(im);
	return rc;
}
