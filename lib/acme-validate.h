/*
 * acme-validate.h - validating ACME challenges (RFC 8555 8.3 and 8.4,
 * RFC 8737, RFC 8738) in the serving process, outside the authority:
 * one check, synchronous and bounded in time, and a validator that runs
 * checks on threads of its own and reports each outcome.
 *
 * Every name the checks look up (TXT for dns-01, A and AAAA of the host
 * for http-01 and tls-alpn-01) goes through the configured resolver, or
 * the system's nameservers (/etc/resolv.conf) when none is set; never
 * through /etc/hosts, as Boulder. An IP identifier is connected to as
 * it is.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_ACME_VALIDATE_H
#define CA_ACME_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acme.h"

struct ca_authority;

struct ca_acme_va_opts {
	int		 http_port;	/* http-01 (80) */
	int		 tls_port;	/* tls-alpn-01, https redirects (443) */
	const char	*resolver;	/* "IP:PORT", "[IPv6]:PORT", NULL: the system's */
	unsigned	 timeout_ms;	/* one whole check, lookups included */
};

#define CA_ACME_VA_HTTP_PORT	80
#define CA_ACME_VA_TLS_PORT	443
#define CA_ACME_VA_TIMEOUT_MS	10000
/* An http-01 body longer than this is cut off and fails. */
#define CA_ACME_VA_MAX_BODY	8192
/* Redirects followed by http-01 (Boulder's limit). */
#define CA_ACME_VA_MAX_REDIRECTS 10
/* CNAMEs followed by one lookup. */
#define CA_ACME_VA_MAX_CNAMES	8
/* Jobs waiting for a thread; more are refused (they stay processing). */
#define CA_ACME_VA_QUEUE	256

/*
 * Validate one challenge. Returns 0 when it is valid. Otherwise returns
 * 1 when it is not (the responder's fault), or a negative CA_ERR_* when
 * it could not be checked here (out of memory, libcurl missing, a bad
 * resolver), and sets *problem_type to the RFC 8555 type (a full URN:
 * unauthorized, incorrectResponse, connection, dns, tls, or
 * serverInternal for the negative returns) and *detail to one line of
 * text where what came from the network is escaped; both freed by the
 * caller (NULL only when memory ran out).
 */
int	 ca_acme_check(const struct ca_acme_va_opts *o,
	    const struct ca_acme_job *job, char **problem_type, char **detail);

/* A resolver setting ("IP:PORT", "[IPv6]:PORT"): 0 or CA_ERR_INVAL. */
int	 ca_acme_resolver_check(const char *resolver);

/*
 * The validator: nthreads threads (1..64) running ca_acme_check on the
 * jobs submitted, in order (libcurl and the system's nameservers are
 * loaded when it is made: a chroot afterwards does not hinder it), each reported once with report(arg, job, ok,
 * problem_type, detail, now), and logged in one escaped line (ca_warn).
 * ca_acme_validator_new reports to ca_authority_acme_validated(a, ...);
 * ca_acme_validator_new_report to any function (tests). o is copied.
 */
struct ca_acme_validator;
typedef int ca_acme_report_fn(void *arg, const struct ca_acme_job *job,
	    int ok, const char *problem_type, const char *detail, time_t now);
int	 ca_acme_validator_new(struct ca_authority *a,
	    const struct ca_acme_va_opts *o, unsigned nthreads,
	    struct ca_acme_validator **out);
int	 ca_acme_validator_new_report(ca_acme_report_fn *report, void *arg,
	    const struct ca_acme_va_opts *o, unsigned nthreads,
	    struct ca_acme_validator **out);
/*
 * Queue job (taken, freed in every case). CA_ERR_TEMP when the queue is
 * full or the validator is stopping: the challenge then stays processing
 * and the authority gives it out again later.
 */
int	 ca_acme_validator_submit(struct ca_acme_validator *v,
	    struct ca_acme_job *job);
/*
 * Wait until every submitted job has been reported, for at most max_ms:
 * 0, or CA_ERR_TEMP if some are still running (an inetd process waits
 * for its jobs before it exits).
 */
int	 ca_acme_validator_drain(struct ca_acme_validator *v, unsigned max_ms);
/*
 * Stop: the checks running finish and are reported, the jobs still
 * queued are dropped (they stay processing). NULL is a no-op.
 */
void	 ca_acme_validator_free(struct ca_acme_validator *v);

/*
 * DNS for the checks (acme-dns.c), through res_n*: a resolver state
 * with the configured nameserver or the system's, and lookups bounded
 * by the monotonic deadline (milliseconds).
 */
struct acme_dns;
int	 acme_dns_open(const char *resolver, struct acme_dns **out);
/*
 * Another state with the same nameservers (a thread's own), read from
 * resolv.conf by acme_dns_open before a chroot.
 */
int	 acme_dns_copy(const struct acme_dns *from, struct acme_dns **out);
void	 acme_dns_close(struct acme_dns *d);
enum {
	ACME_DNS_OK = 0,	/* out holds the records, maybe none */
	ACME_DNS_NXDOMAIN = 1,	/* the name does not exist */
	ACME_DNS_FAIL = 2,	/* no answer: err says why */
};
/*
 * The records of type (ns_t_txt: each record's strings joined;
 * ns_t_a, ns_t_aaaa: addresses as text) of name, CNAMEs followed (at
 * most CA_ACME_VA_MAX_CNAMES). *out is a NULL-terminated array freed
 * with acme_dns_free, *n its length. Returns ACME_DNS_* or CA_ERR_NOMEM;
 * for ACME_DNS_FAIL err holds one line.
 */
int	 acme_dns_lookup(struct acme_dns *d, const char *name, int type,
	    int64_t deadline_ms, char ***out, size_t *n, char *err,
	    size_t errlen);
void	 acme_dns_free(char **v);
/*
 * The records of type owned by name, or by the end of its CNAME chain,
 * in the answer section of msg (what acme_dns_lookup does with one
 * answer; the fuzzer's entry). ACME_DNS_OK, ACME_DNS_FAIL (malformed,
 * too many CNAMEs) or CA_ERR_NOMEM.
 */
int	 acme_dns_parse(const unsigned char *msg, size_t len, int type,
	    const char *name, char ***out, size_t *n);
/* Monotonic milliseconds. */
int64_t	 acme_now_ms(void);

#endif /* CA_ACME_VALIDATE_H */
