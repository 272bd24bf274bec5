/*
 * acme-dns.c - the validator's DNS lookups (TXT for dns-01, A and AAAA
 * for the hosts it connects to), through glibc's res_n* functions on a
 * resolver state of our own: the configured nameserver ("IP:PORT") or
 * the system's. res_nsend does the transport (UDP, TCP when truncated,
 * IDs and sources checked); the answer is parsed here, bounded by its
 * length, and CNAMEs are followed, also across queries.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca.h"
#include "acme-validate.h"

#define DNS_MAX_ANSWER	65536
#define DNS_MAX_RECORDS	64	/* records of one type kept from an answer */

struct acme_dns {
	struct __res_state	 rs;		/* for res_nmkquery */
	struct sockaddr_storage	 ns[MAXNS];	/* the nameservers */
	socklen_t		 nslen[MAXNS];
	int			 nns;
};

/* ns_get16 is in libresolv; this is all of it we need. */
static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

int64_t
acme_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "IP:PORT" or "[IPv6]:PORT" into a socket address. */
static int
resolver_parse(const char *s, struct sockaddr_in *sin,
    struct sockaddr_in6 *sin6, int *family)
{
	char host[INET6_ADDRSTRLEN + 1], *end;
	const char *colon, *h;
	size_t hlen;
	unsigned long port;

	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			goto bad;
		h = s + 1;
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			goto bad;
		h = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535)
		goto bad;
	memset(sin, 0, sizeof(*sin));
	memset(sin6, 0, sizeof(*sin6));
	if (s[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*family = AF_INET;
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*family = AF_INET6;
		return 0;
	}
bad:
	return ca_err(CA_ERR_INVAL,
	    "DNS resolver '%.80s' is not IP:PORT or [IPv6]:PORT", s);
}

int
ca_acme_resolver_check(const char *resolver)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int family;

	return resolver_parse(resolver, &sin, &sin6, &family);
}

int
acme_dns_open(const char *resolver, struct acme_dns **out)
{
	struct acme_dns *d;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int family = 0, i, rc;

	*out = NULL;
	if (resolver != NULL &&
	    (rc = resolver_parse(resolver, &sin, &sin6, &family)) != 0)
		return rc;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (res_ninit(&d->rs) != 0) {
		free(d);
		return ca_err(CA_ERR_CONFIG, "cannot set up a DNS resolver");
	}
	if (family == AF_INET) {
		memcpy(&d->ns[0], &sin, sizeof(sin));
		d->nslen[0] = sizeof(sin);
		d->nns = 1;
	} else if (family == AF_INET6) {
		memcpy(&d->ns[0], &sin6, sizeof(sin6));
		d->nslen[0] = sizeof(sin6);
		d->nns = 1;
	} else {
		/*
		 * The system's (resolv.conf): glibc keeps an IPv6 one in
		 * _u._ext.nsaddrs where nsaddr_list's family is 0.
		 */
		for (i = 0; i < d->rs.nscount && i < MAXNS; i++) {
			if (d->rs.nsaddr_list[i].sin_family == AF_INET) {
				memcpy(&d->ns[d->nns], &d->rs.nsaddr_list[i],
				    sizeof(struct sockaddr_in));
				d->nslen[d->nns++] = sizeof(struct sockaddr_in);
			} else if (d->rs._u._ext.nsaddrs[i] != NULL &&
			    d->rs._u._ext.nsaddrs[i]->sin6_family == AF_INET6) {
				memcpy(&d->ns[d->nns], d->rs._u._ext.nsaddrs[i],
				    sizeof(struct sockaddr_in6));
				d->nslen[d->nns++] = sizeof(struct sockaddr_in6);
			}
		}
		if (d->nns == 0) {
			/* No resolv.conf: the local server, as glibc. */
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			sin.sin_port = htons(NS_DEFAULTPORT);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			memcpy(&d->ns[0], &sin, sizeof(sin));
			d->nslen[0] = sizeof(sin);
			d->nns = 1;
		}
	}
	*out = d;
	return 0;
}

int
acme_dns_copy(const struct acme_dns *from, struct acme_dns **out)
{
	struct acme_dns *d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	if (res_ninit(&d->rs) != 0) {
		free(d);
		return ca_err(CA_ERR_CONFIG, "cannot set up a DNS resolver");
	}
	memcpy(d->ns, from->ns, sizeof(d->ns));
	memcpy(d->nslen, from->nslen, sizeof(d->nslen));
	d->nns = from->nns;
	*out = d;
	return 0;
}

void
acme_dns_close(struct acme_dns *d)
{
	if (d == NULL)
		return;
	res_nclose(&d->rs);
	free(d);
}

/* Wait for fd to be ready for events before the deadline: 1, 0 (timeout). */
static int
wait_fd(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p;
	int64_t left;
	int r;

	for (;;) {
		if ((left = deadline_ms - acme_now_ms()) <= 0)
			return 0;
		p.fd = fd;
		p.events = events;
		if ((r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left)) >=
		    0 || errno != EINTR)
			return r > 0;
	}
}

/* Whether ans answers q: same ID, a response, the same question. */
static int
answers(const unsigned char *q, int qlen, const unsigned char *ans, int alen)
{
	return alen >= qlen && alen >= NS_HFIXEDSZ && ans[0] == q[0] &&
	    ans[1] == q[1] && (ans[2] & 0x80) != 0 &&
	    memcmp(ans + 4, q + 4, 2) == 0 &&
	    memcmp(ans + NS_HFIXEDSZ, q + NS_HFIXEDSZ,
	    (size_t)qlen - NS_HFIXEDSZ) == 0;
}

/* A query over TCP (the UDP answer was truncated): its length, or -1. */
static int
send_tcp(const struct sockaddr *sa, socklen_t salen, const unsigned char *q,
    int qlen, unsigned char *ans, int64_t deadline_ms)
{
	unsigned char hdr[2];
	size_t want, got;
	ssize_t r;
	int fd, e = 0, n = -1;
	socklen_t sl = sizeof(e);

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, sa, salen) != 0 && (errno != EINPROGRESS ||
	    !wait_fd(fd, POLLOUT, deadline_ms) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || e != 0))
		goto out;
	hdr[0] = (unsigned char)(qlen >> 8);
	hdr[1] = (unsigned char)qlen;
	if (send(fd, hdr, 2, MSG_NOSIGNAL | MSG_MORE) != 2 ||
	    send(fd, q, (size_t)qlen, MSG_NOSIGNAL) != qlen)
		goto out;
	/* The length, then the message: each read before the deadline. */
	for (got = 0, want = 2; got < want;) {
		if (!wait_fd(fd, POLLIN, deadline_ms))
			goto out;
		r = got < 2 ? recv(fd, hdr + got, 2 - got, 0) :
		    recv(fd, ans + got - 2, want - got, 0);
		if (r <= 0)
			goto out;
		got += (size_t)r;
		if (got == 2 && want == 2)
			want = 2 + get16(hdr);
	}
	n = (int)want - 2;
out:
	close(fd);
	return n;
}

/*
 * Send q to the nameservers in turn until one answers with something
 * else than SERVFAIL or REFUSED, before the deadline. Returns the
 * answer's length, or -1 with err set.
 */
static int
dns_send(struct acme_dns *d, const unsigned char *q, int qlen,
    unsigned char *ans, int64_t deadline_ms, char *err, size_t errlen)
{
	int64_t left, until;
	ssize_t r;
	int i, fd, n, rcode, got = -1;

	snprintf(err, errlen, "timed out");
	for (i = 0; i < d->nns; i++) {
		if ((left = deadline_ms - acme_now_ms()) <= 0)
			break;
		/* The time left, shared among the servers left. */
		until = acme_now_ms() + left / (d->nns - i);
		if ((fd = socket(d->ns[i].ss_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) < 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			continue;
		}
		/* Connected: only this server's datagrams are received. */
		if (connect(fd, (struct sockaddr *)&d->ns[i], d->nslen[i]) !=
		    0 || send(fd, q, (size_t)qlen, 0) != qlen) {
			snprintf(err, errlen, "%s", strerror(errno));
			close(fd);
			continue;
		}
		n = -1;
		while (wait_fd(fd, POLLIN, until)) {
			if ((r = recv(fd, ans, DNS_MAX_ANSWER, 0)) < 0) {
				if (errno == EINTR)
					continue;
				snprintf(err, errlen, "%s", strerror(errno));
				break;
			}
			/* Anything else than the answer is ignored. */
			if (answers(q, qlen, ans, (int)r)) {
				n = (int)r;
				break;
			}
		}
		close(fd);
		if (n < 0)
			continue;
		if ((ans[2] & 0x02) != 0 &&	/* TC: again over TCP */
		    (n = send_tcp((struct sockaddr *)&d->ns[i], d->nslen[i], q,
		    qlen, ans, until)) < 0) {
			snprintf(err, errlen, "DNS over TCP failed");
			continue;
		}
		if (n >= 0 && !answers(q, qlen, ans, n)) {
			snprintf(err, errlen, "a malformed DNS answer");
			continue;
		}
		rcode = ans[3] & 0x0f;
		if (rcode == ns_r_servfail || rcode == ns_r_refused) {
			snprintf(err, errlen, "%s", rcode == ns_r_servfail ?
			    "SERVFAIL" : "REFUSED");
			continue;
		}
		got = n;
		break;
	}
	return got;
}

void
acme_dns_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static const char *
type_name(int type)
{
	switch (type) {
	case ns_t_a:
		return "A";
	case ns_t_aaaa:
		return "AAAA";
	case ns_t_txt:
		return "TXT";
	case ns_t_cname:
		return "CNAME";
	default:
		return "?";
	}
}

static const char *
rcode_name(int rcode)
{
	switch (rcode) {
	case ns_r_formerr:
		return "FORMERR";
	case ns_r_servfail:
		return "SERVFAIL";
	case ns_r_notimpl:
		return "NOTIMP";
	case ns_r_refused:
		return "REFUSED";
	default:
		return "an error";
	}
}

/* Names as dn_expand gives them: no trailing dot, compared without case. */
static int
name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * One record's value as text (TXT strings joined, addresses printed):
 * 0, CA_ERR_INVAL (malformed) or CA_ERR_NOMEM.
 */
static int
rdata_text(int type, const unsigned char *p, size_t len, char **out)
{
	char buf[INET6_ADDRSTRLEN], *s;
	size_t i, n;

	*out = NULL;
	if (type == ns_t_a || type == ns_t_aaaa) {
		if (len != (type == ns_t_a ? 4 : 16) ||
		    inet_ntop(type == ns_t_a ? AF_INET : AF_INET6, p, buf,
		    sizeof(buf)) == NULL)
			return CA_ERR_INVAL;
		s = strdup(buf);
	} else {
		if ((s = malloc(len + 1)) == NULL)
			return CA_ERR_NOMEM;
		for (i = 0, n = 0; i < len; i += 1 + (size_t)p[i]) {
			if (p[i] > len - i - 1) {
				free(s);
				return CA_ERR_INVAL;
			}
			memcpy(s + n, p + i + 1, p[i]);
			n += p[i];
		}
		s[n] = '\0';
	}
	if (s == NULL)
		return CA_ERR_NOMEM;
	*out = s;
	return 0;
}

/* The answer section of a message, record by record, bounds checked. */
struct rr_iter {
	const unsigned char	*msg, *end, *first, *p;
	unsigned		 an, i;
	/* the current record */
	char			 owner[NS_MAXDNAME];
	unsigned		 type, class;
	const unsigned char	*rdata;
	unsigned		 rdlen;
};

static int
rr_begin(struct rr_iter *it, const unsigned char *msg, int len)
{
	const unsigned char *p;
	unsigned qd, i;
	int k;

	memset(it, 0, sizeof(*it));
	if (len < NS_HFIXEDSZ)
		return CA_ERR_INVAL;
	it->msg = msg;
	it->end = msg + len;
	qd = get16(msg + 4);
	it->an = get16(msg + 6);
	p = msg + NS_HFIXEDSZ;
	for (i = 0; i < qd; i++) {
		if ((k = dn_skipname(p, it->end)) < 0 || it->end - p < k + 4)
			return CA_ERR_INVAL;
		p += k + 4;
	}
	it->first = it->p = p;
	return 0;
}

static void
rr_rewind(struct rr_iter *it)
{
	it->p = it->first;
	it->i = 0;
}

/* 1 and the next record, 0 at the end, CA_ERR_INVAL if malformed. */
static int
rr_next(struct rr_iter *it)
{
	int k;

	if (it->i == it->an)
		return 0;
	if ((k = dn_expand(it->msg, it->end, it->p, it->owner,
	    sizeof(it->owner))) < 0 || it->end - it->p < k + 10)
		return CA_ERR_INVAL;
	it->p += k;
	it->type = get16(it->p);
	it->class = get16(it->p + 2);
	it->rdlen = get16(it->p + 8);
	it->p += 10;
	if ((size_t)(it->end - it->p) < it->rdlen)
		return CA_ERR_INVAL;
	it->rdata = it->p;
	it->p += it->rdlen;
	it->i++;
	return 1;
}

/*
 * From the answer in msg: move cur (NS_MAXDNAME) along the CNAMEs it
 * holds (*hops counts them), then add the records of type owned by cur
 * to v (*n of them, at most DNS_MAX_RECORDS). Returns 0, CA_ERR_NOMEM,
 * or CA_ERR_INVAL (malformed, too many CNAMEs) with err set.
 */
static int
parse_answer(const unsigned char *msg, int len, int type, char *cur,
    unsigned *hops, char ***v, size_t *n, char *err, size_t errlen)
{
	struct rr_iter it;
	char target[NS_MAXDNAME], *s, **nv;
	int k, moved;

	if (rr_begin(&it, msg, len) != 0)
		goto bad;
	do {
		moved = 0;
		rr_rewind(&it);
		while ((k = rr_next(&it)) == 1) {
			if (it.type != ns_t_cname || it.class != ns_c_in ||
			    !name_eq(it.owner, cur))
				continue;
			if (dn_expand(msg, it.end, it.rdata, target,
			    sizeof(target)) < 0)
				goto bad;
			if (++*hops > CA_ACME_VA_MAX_CNAMES) {
				snprintf(err, errlen,
				    "more than %d CNAMEs from the name",
				    CA_ACME_VA_MAX_CNAMES);
				return CA_ERR_INVAL;
			}
			memcpy(cur, target, sizeof(target));
			moved = 1;
			break;
		}
		if (k < 0)
			goto bad;
	} while (moved);
	rr_rewind(&it);
	while ((k = rr_next(&it)) == 1) {
		if ((int)it.type != type || it.class != ns_c_in ||
		    !name_eq(it.owner, cur))
			continue;
		if (*n == DNS_MAX_RECORDS)
			break;
		if ((k = rdata_text(type, it.rdata, it.rdlen, &s)) ==
		    CA_ERR_NOMEM)
			return ca_err(CA_ERR_NOMEM, "out of memory");
		if (k != 0)
			goto bad;
		if ((nv = realloc(*v, (*n + 2) * sizeof(*nv))) == NULL) {
			free(s);
			return ca_err(CA_ERR_NOMEM, "out of memory");
		}
		*v = nv;
		nv[(*n)++] = s;
		nv[*n] = NULL;
	}
	if (k < 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "a malformed DNS answer");
	return CA_ERR_INVAL;
}

int
acme_dns_parse(const unsigned char *msg, size_t len, int type,
    const char *name, char ***out, size_t *n)
{
	char cur[NS_MAXDNAME], err[100];
	unsigned hops = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (len > DNS_MAX_ANSWER || strlen(name) >= sizeof(cur))
		return ACME_DNS_FAIL;
	strcpy(cur, name);
	rc = parse_answer(msg, (int)len, type, cur, &hops, out, n, err,
	    sizeof(err));
	if (rc == 0)
		return ACME_DNS_OK;
	acme_dns_free(*out);
	*out = NULL;
	*n = 0;
	return rc == CA_ERR_NOMEM ? rc : ACME_DNS_FAIL;
}

int
acme_dns_lookup(struct acme_dns *d, const char *name, int type,
    int64_t deadline_ms, char ***out, size_t *nout, char *err, size_t errlen)
{
	unsigned char query[NS_PACKETSZ], *ans = NULL;
	char cur[NS_MAXDNAME], ename[160], why[100];
	char **v = NULL;
	size_t n = 0;
	unsigned hops = 0, queries, was;
	int64_t left;
	int qlen, alen, rcode, rc;

	*out = NULL;
	*nout = 0;
	err[0] = '\0';
	if (strlen(name) >= sizeof(cur)) {
		snprintf(err, errlen, "name too long");
		return ACME_DNS_FAIL;
	}
	strcpy(cur, name);
	if ((ans = malloc(DNS_MAX_ANSWER)) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = ACME_DNS_FAIL;
	/* One query per name of the chain a server did not answer for. */
	for (queries = 0; queries <= CA_ACME_VA_MAX_CNAMES; queries++) {
		ca_escape(ename, sizeof(ename), cur, 0);
		if ((left = deadline_ms - acme_now_ms()) <= 0) {
			snprintf(err, errlen, "%s query for %s: timed out",
			    type_name(type), ename);
			goto out;
		}
		if ((qlen = res_nmkquery(&d->rs, ns_o_query, cur, ns_c_in,
		    type, NULL, 0, NULL, query, sizeof(query))) < 0) {
			snprintf(err, errlen, "%s: not a name DNS can look up",
			    ename);
			goto out;
		}
		if ((alen = dns_send(d, query, qlen, ans, deadline_ms, why,
		    sizeof(why))) < 0) {
			snprintf(err, errlen, "%s query for %s: %s",
			    type_name(type), ename, why);
			goto out;
		}
		if (alen < NS_HFIXEDSZ) {
			snprintf(err, errlen, "a malformed DNS answer");
			goto out;
		}
		rcode = ans[3] & 0x0f;
		if (rcode == ns_r_nxdomain) {
			rc = ACME_DNS_NXDOMAIN;
			goto out;
		}
		if (rcode != ns_r_noerror) {
			snprintf(err, errlen, "%s query for %s: %s",
			    type_name(type), ename, rcode_name(rcode));
			goto out;
		}
		was = hops;
		if ((rc = parse_answer(ans, alen, type, cur, &hops, &v, &n, err,
		    errlen)) != 0) {
			if (rc != CA_ERR_NOMEM)
				rc = ACME_DNS_FAIL;
			goto out;
		}
		/* Records, or no CNAME to follow: that is the answer. */
		if (n > 0 || was == hops) {
			rc = ACME_DNS_OK;
			goto out;
		}
	}
	snprintf(err, errlen, "more than %d CNAMEs from the name",
	    CA_ACME_VA_MAX_CNAMES);
	rc = ACME_DNS_FAIL;
out:
	free(ans);
	if (rc == ACME_DNS_OK) {
		*out = v;
		*nout = n;
	} else
		acme_dns_free(v);
	return rc;
}
