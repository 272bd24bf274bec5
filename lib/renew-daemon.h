/*
 * renew-daemon.h - ca-renew --daemon: one process that keeps a
 * certificate renewed, for hosts without cron or timers (containers).
 * It sleeps until the certificate on disk is due (the rule of ca-renew
 * and ca-inspect --needs-renewal), renews it, runs what must follow a
 * renewal, and backs off on failures; SIGTERM or SIGINT end it, SIGHUP
 * renews at once. One line on standard error per event.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_RENEW_DAEMON_H
#define CA_RENEW_DAEMON_H

#include <stdint.h>
#include <time.h>

struct ca_renew_daemon {
	const char	*cert, *key;	/* renewed in place */
	int64_t		 expires_in;	/* seconds; -1: a third of the lifetime */
	int64_t		 renew_period;	/* seconds; 0: by expires_in */
	int		 force;		/* renew at once, then as due */
	/* Renew now, whatever is left: 0, or an error (recorded). */
	int		(*renew)(void *arg);
	/* After each renewal (--exec, --signal): 0, or an error (logged). */
	int		(*after)(void *arg);
	void		*arg;
};

/*
 * Keep d->cert renewed until SIGTERM or SIGINT (then 0; a renewal under
 * way is finished first, and what follows it). The certificate is read
 * from disk after every wake, so that a renewal by someone else is seen.
 * Errors: the certificate unreadable at the start, --expires-in or
 * --renew-period not shorter than its lifetime, a renewed certificate
 * due at once, or the certificate expired with its renewal failing: the
 * last error, with context. TERM, INT and HUP are blocked while it runs.
 */
int	 ca_renew_daemon_run(const struct ca_renew_daemon *d);

/*
 * When a certificate valid from nb to na is due under d's rule: by
 * renew_period, once it is that old; else ca_client_due_time's rule.
 */
int	 ca_renew_daemon_due(const struct ca_renew_daemon *d, time_t nb,
	    time_t na, int64_t *at);

/*
 * The delay in milliseconds before retry number attempt (0: the first)
 * of a certificate of lifetime_ms with left_ms before it expires, rnd a
 * random number: from a base of a hundredth of the lifetime (0.1 s to
 * 10 s) doubled per attempt up to 10 minutes, a random half of it off
 * ("equal jitter": each delay at least the one before), and at most
 * half of what is left (at least the base, never past the expiry), so
 * that retries come faster as the expiry nears.
 */
int64_t	 ca_renew_backoff(unsigned attempt, int64_t lifetime_ms,
	    int64_t left_ms, uint64_t rnd);

#endif /* CA_RENEW_DAEMON_H */
