/*
 * serve-run.c - ca-serve's process from its options to its exit (see
 * serve-run.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "conf.h"
#include "http.h"
#include "privsep.h"
#include "serve-run.h"
#include "signer.h"

/* One run: what it holds, released once. */
struct run {
	struct ca_serve_conf	 c;
	struct ca_authority	*a;
	struct ca_server	*srv;
	struct ca_privsep	 ps;
	int			 sep;		/* the signer in its own process */
	int			 fds[CA_SERVE_MAX_LISTEN];
	int			 ports[CA_SERVE_MAX_LISTEN];
	int			 nfds;
	int			 plain[CA_SERVE_MAX_LISTEN];	/* no TLS */
	sigset_t		 set;		/* taken by sigwait() */
};

/* inetd may hand us the socket on fd 2 as well: nothing may go there. */
static void
quiet_stdio(int keep_stdin)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	if (!keep_stdin)
		dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* A failure before the server (and its log) exists, in --inetd mode. */
static void
early_log(const struct ca_server_opts *so, const char *msg)
{
	char t[32], *line;
	int fd;

	if (so->log_file == NULL) {
		openlog("ca-serve", LOG_PID, LOG_DAEMON);
		syslog(LOG_ERR, "%s", msg);
		closelog();
		return;
	}
	ca_time_format(time(NULL), t, sizeof(t));
	if (asprintf(&line, "%s ca-serve[%ld]: %s\n", t, (long)getpid(), msg) < 0)
		return;
	fd = open(so->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd >= 0) {
		(void)ca_write_all(fd, line, strlen(line));
		close(fd);
	}
	free(line);
}

/* Threads serving requests at once: one signer connection each. */
static size_t
connections(const struct run *r)
{
	size_t t;
	int n = r->nfds + (int)r->c.nlisten + (int)r->c.ninsecure;

	if (r->c.inetd)
		return 1;
	t = ca_server_threads(&r->c.server) * (size_t)(n > 0 ? n : 1);
	return t > 128 ? 128 : t;
}

/*
 * The worker's authority, on the connections to a signer not yet forked
 * (public material only: no key, no password read here); else the whole
 * authority in this process.
 */
static int
open_authority(struct run *r)
{
	char *pw = NULL, *upw = NULL;
	size_t pwlen = 0, upwlen = 0;
	int rc, *wfds;

	if (r->sep) {
		if ((rc = ca_privsep_pairs(connections(r), &r->ps,
		    &wfds)) != 0)
			return rc;
		rc = ca_authority_open_signer(wfds, r->ps.n, r->c.dir, &r->a);
		free(wfds);
		if (rc != 0)
			ca_privsep_abandon(&r->ps);
		return rc;
	}
	if (r->c.pass_file != NULL &&
	    (rc = ca_secret_read(r->c.pass_file, &pw, &pwlen)) != 0)
		return rc;
	if (r->c.upass_file != NULL &&
	    (rc = ca_secret_read(r->c.upass_file, &upw, &upwlen)) != 0) {
		ca_free_secret(pw, pwlen);
		return rc;
	}
	rc = ca_authority_open_server(r->c.dir, pw, upw, &r->a);
	ca_free_secret(pw, pwlen);
	ca_free_secret(upw, upwlen);
	return rc;
}

/* Bind addr, a plain HTTP socket or not. */
static int
bind_one(struct run *r, const char *addr, int plain)
{
	int rc;

	if (r->nfds == CA_SERVE_MAX_LISTEN)
		return ca_err(CA_ERR_INVAL, "more than %d sockets",
		    CA_SERVE_MAX_LISTEN);
	if ((rc = ca_listen_socket(addr, &r->fds[r->nfds])) != 0)
		return rc;
	r->plain[r->nfds++] = plain;
	return 0;
}

/*
 * Sockets from systemd, then ours; ca.json's address if neither. Plain
 * HTTP ones last: --ready-fd writes their ports after the others.
 */
static int
bind_sockets(struct run *r)
{
	const struct ca_config *cfg = ca_authority_config(r->a);
	size_t i;
	int rc;

	if (!r->c.inetd && r->nfds == 0 && r->c.nlisten == 0)
		r->c.listen[r->c.nlisten++] = cfg->address[0] ? cfg->address :
		    ":443";
	for (i = 0; i < r->c.nlisten; i++)
		if ((rc = bind_one(r, r->c.listen[i], 0)) != 0)
			return rc;
	if (!r->c.inetd && r->c.ninsecure == 0 &&
	    cfg->insecure_address != NULL && cfg->insecure_address[0] != '\0')
		r->c.insecure[r->c.ninsecure++] = cfg->insecure_address;
	for (i = 0; i < r->c.ninsecure; i++)
		if ((rc = bind_one(r, r->c.insecure[i], 1)) != 0)
			return rc;
	return 0;
}

/*
 * Bound: now the signer, before any thread exists. In the signer,
 * *signer is set and *status is its exit status once it is done.
 */
static int
start_signer(struct run *r, int *signer, int *status)
{
	int rc, i;

	if ((rc = ca_privsep_fork(&r->ps, signer)) != 0) {
		ca_privsep_abandon(&r->ps);
		return rc;
	}
	if (!*signer)
		return ca_privsep_wait_ready(&r->ps);
	for (i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	if (r->c.ready_fd >= 0)
		close((int)r->c.ready_fd);
	if (r->c.inetd)
		quiet_stdio(0);
	ca_authority_close(r->a);
	r->a = NULL;
	*status = ca_privsep_signer_main(&r->ps, r->c.dir, r->c.pass_file,
	    r->c.upass_file);
	return 0;
}

/* Serve the listening sockets; their ports to the log and --ready-fd. */
static int
announce(struct run *r)
{
	char buf[16];
	int i, n, rc, ntls = 0;

	for (i = 0; i < r->nfds; i++) {
		if ((rc = (r->plain[i] ? ca_server_listen_plain :
		    ca_server_listen)(r->srv, r->fds[i], &r->ports[i])) != 0)
			return rc;
		ntls += !r->plain[i];
	}
	/* Token audiences name the TLS ports (the plain ones come last). */
	ca_authority_set_ports(r->a, r->ports, (size_t)ntls);
	for (i = 0; i < r->nfds; i++)
		ca_server_log(r->srv, "listening on port %d%s", r->ports[i],
		    r->plain[i] ? " (plain HTTP: SCEP, CRL, OCSP)" : "");
	if (r->c.ready_fd < 0)
		return 0;
	for (i = 0; i < r->nfds; i++) {
		n = snprintf(buf, sizeof(buf), "%d\n", r->ports[i]);
		if (ca_write_all((int)r->c.ready_fd, buf, (size_t)n) != 0)
			return ca_err(CA_ERR_IO, "--ready-fd %ld: %s",
			    r->c.ready_fd, strerror(errno));
	}
	close((int)r->c.ready_fd);
	return 0;
}

/* Until a signal stops us, or the signer's end; the exit status. */
static int
wait_signals(struct run *r)
{
	unsigned long hits = 0, built = 0, issued = 0, commits = 0;
	unsigned grace = r->c.server.deadline_s ? r->c.server.deadline_s + 1 :
	    16;
	int sig, st;

	for (;;) {
		if (sigwait(&r->set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			ca_server_reload(r->srv);
			continue;
		}
		if (sig == SIGCHLD) {
			if (!r->sep || (st = ca_privsep_reap(&r->ps, 0)) < 0)
				continue;
			/* Requests in progress got a 500; a supervisor restarts us. */
			ca_server_log(r->srv, "the signer exited (status %d): "
			    "stopping", st);
			ca_server_shutdown(r->srv, grace);
			return CA_EXIT_FAIL;
		}
		ca_server_log(r->srv, "signal %d: finishing requests in "
		    "progress", sig);
		ca_server_shutdown(r->srv, grace);
		ca_authority_ocsp_stats(r->a, &hits, &built);
		ca_authority_commit_stats(r->a, &issued, &commits);
		ca_server_log(r->srv, "stopped: %lu issuances recorded in %lu "
		    "commits; OCSP: %lu answers signed, %lu from the cache",
		    issued, commits, built, hits);
		return 0;
	}
}

int
ca_serve_run(const struct ca_serve_conf *conf, int *status)
{
	struct run r;
	char msg[512];
	int rc, signer = 0;

	memset(&r, 0, sizeof(r));
	r.c = *conf;
	msg[0] = '\0';
	*status = CA_EXIT_FAIL;
	/*
	 * Two malloc arenas, not eight per core: each thread of the pool
	 * otherwise grows an arena of its own with the CRL and store buffers
	 * that it makes and another thread frees: RSS grew 16.7 % from the
	 * 100th to the 600th revocation + GET /crl, 4.0 % with two, levelling
	 * off (bench/memory.sh).
	 * MALLOC_ARENA_MAX in the environment still decides.
	 */
	if (getenv("MALLOC_ARENA_MAX") == NULL)
		mallopt(M_ARENA_MAX, 2);
	/*
	 * A descriptor that is not open would be reused by the time the
	 * ports are written: by a connection to the signer.
	 */
	if (r.c.ready_fd >= 0 && fcntl((int)r.c.ready_fd, F_GETFD) < 0) {
		rc = ca_err(CA_ERR_IO, "--ready-fd %ld: %s", r.c.ready_fd,
		    strerror(errno));
		goto fail;
	}
	if (r.c.inetd) {
		if (r.c.server.log_file == NULL)
			r.c.server.use_syslog = 1;
		quiet_stdio(1);
	}
	if ((rc = r.sep = ca_privsep_want(r.c.privsep, &r.c.user)) < 0)
		goto fail;
	/* Signals are taken by sigwait(), not by the serving threads. */
	sigemptyset(&r.set);
	sigaddset(&r.set, SIGTERM);
	sigaddset(&r.set, SIGINT);
	sigaddset(&r.set, SIGHUP);
	sigaddset(&r.set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &r.set, NULL);
	if (!r.c.inetd)
		r.nfds = ca_listen_fds(r.fds, CA_SERVE_MAX_LISTEN);
	if ((rc = open_authority(&r)) != 0 || (rc = bind_sockets(&r)) != 0)
		goto fail;
	if (r.sep && (rc = start_signer(&r, &signer, status)) != 0)
		goto fail;
	if (signer)
		return 0;
	if ((rc = ca_server_new(r.a, &r.c.server, &r.srv)) != 0)
		goto fail;
	if (r.c.user != NULL) {
		if ((rc = ca_privsep_drop(r.c.user)) != 0)
			goto fail;
		ca_server_forget_cache(r.srv);
	}
	if (r.sep)
		ca_server_log(r.srv, "privilege separation: signer %ld, serving "
		    "as uid %ld", (long)r.ps.pid, (long)getuid());
	if (r.c.inetd) {
		if ((rc = ca_server_serve_connection(r.srv, STDIN_FILENO)) != 0)
			goto fail;
		*status = 0;
	} else {
		if ((rc = announce(&r)) != 0)
			goto fail;
		*status = wait_signals(&r);
	}
	goto out;
fail:
	/* Where the log is not standard error, it gets the reason too. */
	if (r.srv != NULL && (r.c.server.log_file != NULL ||
	    r.c.server.use_syslog))
		ca_server_log(r.srv, "%s", ca_errmsg());
	else if (r.srv == NULL && r.c.inetd)
		early_log(&r.c.server, ca_errmsg());
	/* Kept for the caller, whatever the clean-up records. */
	snprintf(msg, sizeof(msg), "%s", ca_errmsg());
out:
	ca_server_free(r.srv);
	/* Its connections closed, the signer finishes and exits. */
	ca_authority_close(r.a);
	if (r.ps.pid > 0 && ca_privsep_reap(&r.ps, 1) != 0 && *status == 0)
		*status = CA_EXIT_FAIL;
	if (rc != 0)
		return ca_err(rc, "%s", msg);
	return 0;
}
