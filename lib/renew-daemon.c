/*
 * renew-daemon.c - ca-renew --daemon: sleep until due, renew, back off.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "ca.h"
#include "client.h"
#include "renew-daemon.h"

#define BASE_MIN_MS	100
#define BASE_MAX_MS	10000
#define BACKOFF_MAX_MS	(10 * 60 * 1000)
/* Sleep at most this long, to notice a wall clock set or a suspend. */
#define SLICE_MS	(10 * 60 * 1000)
#define FIELD		512
#define TICK_MS		20

int
ca_renew_daemon_due(const struct ca_renew_daemon *d, time_t nb, time_t na,
    int64_t *at)
{
	if (d->renew_period > 0) {
		*at = (int64_t)nb + d->renew_period;
		return 0;
	}
	return ca_client_due_time(nb, na, d->expires_in, at);
}

int64_t
ca_renew_backoff(unsigned attempt, int64_t lifetime_ms, int64_t left_ms,
    uint64_t rnd)
{
	int64_t base, d, cap;

	if (left_ms <= 0)
		return 0;
	base = lifetime_ms / 100;
	if (base < BASE_MIN_MS)
		base = BASE_MIN_MS;
	if (base > BASE_MAX_MS)
		base = BASE_MAX_MS;
	for (d = base; attempt > 0 && d < BACKOFF_MAX_MS; attempt--)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	d = d - d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
	/* Half of what is left, but not less than the base, nor past it. */
	cap = left_ms / 2;
	if (cap < base)
		cap = base < left_ms ? base : left_ms;
	return d < cap ? d : cap;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait at most ms for a signal of set: the signal, or 0 when the time
 * is up or something else interrupted it (the caller looks again).
 */
static int
wait_signal(const sigset_t *set, int64_t ms)
{
	struct timespec ts;
	int sig;

	if (ms > SLICE_MS)
		ms = SLICE_MS;
	if (ms < 0)
		ms = 0;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	sig = sigtimedwait(set, NULL, &ts);
	return sig > 0 ? sig : 0;
}

static const char *
signame(int sig)
{
	return sig == SIGTERM ? "TERM" : sig == SIGINT ? "INT" : "HUP";
}

/*
 * The certificate's due time, and a line saying when that is; renewed:
 * when the renewal that made it began (0: not renewed here).
 */
static int
schedule(const struct ca_renew_daemon *d, const struct ca_client_cert *cc,
    const char *cert, time_t renewed, int64_t *at)
{
	char na[32], when[32], life[32], ex[32];
	int64_t lifetime = (int64_t)cc->not_after - cc->not_before, now;
	int rc;

	/* step's check: a rule that would renew every certificate at once. */
	ca_duration_format(lifetime, life, sizeof(life));
	if (d->renew_period >= lifetime || d->expires_in >= lifetime) {
		ca_duration_format(d->renew_period > 0 ? d->renew_period :
		    d->expires_in, ex, sizeof(ex));
		return ca_err(CA_ERR_INVAL, "%s: --%s %s is not shorter than "
		    "the certificate's lifetime, %s", cert, d->renew_period > 0 ?
		    "renew-period" : "expires-in", ex, life);
	}
	if ((rc = ca_renew_daemon_due(d, cc->not_before, cc->not_after,
	    at)) != 0)
		return rc;
	/* Due before it was asked for: renewing again would loop. */
	if (renewed != 0 && *at < renewed)
		return ca_err(CA_ERR_INVAL, "%s: the renewed certificate, of "
		    "%s, is due at once: --%s too long for it", cert, life,
		    d->renew_period > 0 ? "renew-period" : "expires-in");
	now = time(NULL);
	ca_time_format(cc->not_after, na, sizeof(na));
	ca_time_format((time_t)*at, when, sizeof(when));
	ca_info("%s cert=\"%s\" serial=%s not_after=%s renew_at=%s in=%llds",
	    renewed != 0 ? "renewed" : "scheduled", cert, cc->serial, na, when,
	    (long long)(*at > now ? *at - now : 0));
	return 0;
}

int
ca_renew_daemon_run(const struct ca_renew_daemon *d)
{
	struct ca_client_cert *cc = NULL;
	sigset_t set, old;
	char cert[FIELD], msg[FIELD], exp[32], *serial = NULL;
	int64_t at = 0, now, delay, nb = 0, na = 0;
	uint64_t rnd;
	unsigned attempt = 0;
	time_t renewed = 0, began;	/* when the renewal began */
	int rc, sig = 0, force = d->force;

	ca_escape(cert, sizeof(cert), d->cert, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (;;) {
		/* 1: the certificate on disk, perhaps renewed by another. */
		if ((rc = ca_client_cert_load(d->cert, d->key, &cc)) != 0 &&
		    serial == NULL)
			goto out;
		if (rc == 0 && (serial == NULL || renewed != 0 ||
		    strcmp(serial, cc->serial) != 0)) {
			if (renewed != 0 && strcmp(serial, cc->serial) == 0) {
				rc = ca_err(CA_ERR_IO, "%s: renewed, but the "
				    "file still holds serial %s", d->cert,
				    serial);
				goto out;
			}
			if ((rc = schedule(d, cc, cert, renewed, &at)) != 0)
				goto out;
			free(serial);
			if ((serial = strdup(cc->serial)) == NULL) {
				rc = ca_err(CA_ERR_NOMEM, "out of memory");
				goto out;
			}
			/* Renewed, here or elsewhere: no retry due. */
			if (nb != 0) {
				force = 0;
				attempt = 0;
			}
			nb = cc->not_before;
			na = cc->not_after;
		}
		ca_client_cert_free(cc);
		cc = NULL;
		renewed = 0;
		/*
		 * 2: not due (ca_client_due: due once now > at), by time(),
		 * as the renewal counts, which may lag the clock read here by
		 * a tick: hence the margin.
		 */
		if (rc == 0 && !force && time(NULL) <= at) {
			delay = (at + 1) * 1000 + TICK_MS - now_ms();
			if ((sig = wait_signal(&set, delay)) == SIGHUP) {
				ca_info("renewing now cert=\"%s\" reason=SIGHUP",
				    cert);
				force = 1;
			} else if (sig != 0)
				break;
			continue;
		}
		/* 3: due, or forced: renew (finished before any signal). */
		if (rc == 0) {
			force = 0;
			began = time(NULL);
			if ((rc = d->renew(d->arg)) == 0) {
				attempt = 0;
				renewed = began;
				if (d->after != NULL && d->after(d->arg) != 0)
					ca_warn("after renewal cert=\"%s\" "
					    "error=\"%s\"", cert, ca_escape(msg,
					    sizeof(msg), ca_errmsg(), 0));
				continue;
			}
		}
		/* 4: failed; give up once the certificate has expired. */
		now = now_ms();
		ca_escape(msg, sizeof(msg), ca_errmsg(), 0);
		if (now >= na * 1000) {
			ca_time_format((time_t)na, exp, sizeof(exp));
			ca_err_context("%s expired at %s and was not renewed",
			    d->cert, exp);
			goto out;
		}
		if (gnutls_rnd(GNUTLS_RND_NONCE, &rnd, sizeof(rnd)) < 0)
			rnd = (uint64_t)now;
		delay = ca_renew_backoff(attempt++, (nb < na ? na - nb : 1) *
		    1000, na * 1000 - now, rnd);
		force = 1;	/* retried when the delay is up */
		ca_info("renewal failed cert=\"%s\" attempt=%u "
		    "retry_in=%lld.%03llds error=\"%s\"", cert, attempt,
		    (long long)(delay / 1000), (long long)(delay % 1000), msg);
		if ((sig = wait_signal(&set, delay)) != 0 && sig != SIGHUP)
			break;
	}
	ca_info("stopping signal=%s", signame(sig));
	rc = 0;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	ca_client_cert_free(cc);
	free(serial);
	return rc;
}
