/*
 * privsep.c - ca-serve's signer and worker processes (see privsep.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "privsep.h"
#include "signer.h"

/* A signer thread does little but call the authority: 1 MiB, locked. */
#define SIGNER_STACK	(1u << 20)

int
ca_privsep_want(int flag, const char **user)
{
	struct passwd *pw;

	if (flag < 0)
		return 0;
	if (*user != NULL && geteuid() != 0)
		return ca_err(CA_ERR_CONFIG, "--user %s: only root can change "
		    "user", *user);
	if (*user != NULL) {
		pw = getpwnam(*user);
		if (pw == NULL || pw->pw_uid == 0)
			return ca_err(CA_ERR_CONFIG, "--user %s: %s", *user,
			    pw == NULL ? "no such user" : "is root");
	}
	if (*user != NULL || flag > 0)
		return 1;
	if (geteuid() == 0 && getpwnam(CA_PRIVSEP_USER) != NULL) {
		*user = CA_PRIVSEP_USER;
		return 1;
	}
	return 0;
}

int
ca_privsep_pairs(size_t n, struct ca_privsep *ps, int **worker)
{
	int pair[2];
	size_t i;

	memset(ps, 0, sizeof(*ps));
	ps->status_fd = -1;
	*worker = NULL;
	if ((*worker = calloc(n, sizeof(int))) == NULL ||
	    (ps->fds = calloc(n, sizeof(int))) == NULL) {
		free(*worker);
		*worker = NULL;
		return ca_err(CA_ERR_NOMEM, "out of memory");
	}
	for (ps->n = 0; ps->n < n; ps->n++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    pair) != 0) {
			int rc = ca_err(CA_ERR_IO, "socketpair: %s",
			    strerror(errno));
			for (i = 0; i < ps->n; i++) {
				close((*worker)[i]);
				close(ps->fds[i]);
			}
			free(*worker);
			free(ps->fds);
			*worker = NULL;
			ps->fds = NULL;
			ps->n = 0;
			return rc;
		}
		(*worker)[ps->n] = pair[0];
		ps->fds[ps->n] = pair[1];
	}
	return 0;
}

int
ca_privsep_fork(struct ca_privsep *ps, int *is_signer)
{
	int st[2];
	size_t i;
	pid_t pid;

	*is_signer = 0;
	if (pipe2(st, O_CLOEXEC) != 0)
		return ca_err(CA_ERR_IO, "pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		close(st[0]);
		close(st[1]);
		return ca_err(CA_ERR_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(st[0]);
		ps->status_fd = st[1];
		*is_signer = 1;
		return 0;
	}
	for (i = 0; i < ps->n; i++)
		close(ps->fds[i]);
	free(ps->fds);
	ps->fds = NULL;
	ps->n = 0;
	close(st[1]);
	ps->status_fd = st[0];
	ps->pid = pid;
	return 0;
}

void
ca_privsep_abandon(struct ca_privsep *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		close(ps->fds[i]);
	free(ps->fds);
	ps->fds = NULL;
	ps->n = 0;
}

/* The outcome of the signer's start-up: status, then the message. */
static void
report(int fd, int rc)
{
	unsigned char b[4];
	const char *msg = rc != 0 ? ca_errmsg() : "";

	b[0] = (unsigned char)((unsigned)rc >> 24);
	b[1] = (unsigned char)((unsigned)rc >> 16);
	b[2] = (unsigned char)((unsigned)rc >> 8);
	b[3] = (unsigned char)rc;
	(void)ca_write_all(fd, b, sizeof(b));
	(void)ca_write_all(fd, msg, strnlen(msg, 1024));
	close(fd);
}

int
ca_privsep_wait_ready(struct ca_privsep *ps)
{
	char buf[1100];
	size_t got = 0;
	ssize_t r;
	int rc;

	while (got < sizeof(buf) - 1) {
		r = read(ps->status_fd, buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(ps->status_fd);
	ps->status_fd = -1;
	buf[got] = '\0';
	if (got < 4)
		return ca_err(CA_ERR_IO, "the signer did not start");
	rc = (int)((unsigned)(unsigned char)buf[0] << 24 |
	    (unsigned)(unsigned char)buf[1] << 16 |
	    (unsigned)(unsigned char)buf[2] << 8 | (unsigned char)buf[3]);
	if (rc == 0)
		return 0;
	if (rc > 0 || rc < CA_ERR_UPSTREAM_TIMEOUT)
		return ca_err(CA_ERR_IO, "the signer did not start");
	return ca_err(rc, "%s", buf + 4);
}

struct serve_arg {
	struct ca_authority	*a;
	int			 fd;
};

static void *
serve_thread(void *arg)
{
	struct serve_arg *sa = arg;

	(void)ca_signer_serve(sa->fd, sa->a);
	/* A refused frame or the worker gone: this connection is over. */
	close(sa->fd);
	return NULL;
}

/* Nothing of the signer reaches a core file or another process. */
static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	/*
	 * Locked memory: only as root, where RLIMIT_MEMLOCK does not make
	 * later allocations (thread stacks, GDBM's maps) fail.
	 */
	if (geteuid() == 0 && mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
		ca_warn("signer: mlockall: %s", strerror(errno));
}

int
ca_privsep_signer_main(struct ca_privsep *ps, const char *dir,
    const char *pass_file, const char *upass_file)
{
	struct ca_authority *a = NULL;
	struct serve_arg *args = NULL;
	pthread_t *th = NULL;
	pthread_attr_t attr;
	char *pw = NULL, *upw = NULL;
	size_t pwlen = 0, upwlen = 0, i, started = 0;
	sigset_t set;
	int rc;

	/*
	 * Signals are the worker's: it forwards SIGHUP as a reload, and
	 * SIGTERM or ^C end the signer by closing the connections.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	harden();
	if (pass_file != NULL &&
	    (rc = ca_secret_read(pass_file, &pw, &pwlen)) != 0)
		goto fail;
	if (upass_file != NULL &&
	    (rc = ca_secret_read(upass_file, &upw, &upwlen)) != 0)
		goto fail;
	rc = ca_authority_open_server(dir, pw, upw, &a);
	ca_free_secret(pw, pwlen);
	ca_free_secret(upw, upwlen);
	pw = upw = NULL;
	if (rc != 0)
		goto fail;
	if ((th = calloc(ps->n, sizeof(*th))) == NULL ||
	    (args = calloc(ps->n, sizeof(*args))) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SIGNER_STACK);
	for (i = 0; i < ps->n; i++) {
		args[i].a = a;
		args[i].fd = ps->fds[i];
		if (pthread_create(&th[i], &attr, serve_thread, &args[i]) != 0)
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	/* Connections without a thread are closed: the worker skips them. */
	for (i = started; i < ps->n; i++)
		close(ps->fds[i]);
	if (started == 0) {
		rc = ca_err(CA_ERR_IO, "signer: cannot start a thread");
		goto fail;
	}
	report(ps->status_fd, 0);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	free(args);
	free(ps->fds);
	ca_authority_close(a);
	return 0;
fail:
	ca_free_secret(pw, pwlen);
	ca_free_secret(upw, upwlen);
	report(ps->status_fd, rc);
	free(th);
	free(args);
	free(ps->fds);
	ca_authority_close(a);
	return ca_exit_status(rc);
}

int
ca_privsep_drop(const char *user)
{
	char tmp[] = "/tmp/ca-serve.XXXXXX";
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return ca_err(CA_ERR_CONFIG, "--user %s: %s", user,
		    errno != 0 ? strerror(errno) : "no such user");
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0)
		return ca_err(CA_ERR_CONFIG, "--user %s: is root", user);
	/*
	 * An empty directory, removed once we stand in it: nothing can be
	 * opened or created under the new root, and nothing is left behind.
	 */
	if (mkdtemp(tmp) == NULL || chdir(tmp) != 0 || rmdir(tmp) != 0 ||
	    chroot(".") != 0 || chdir("/") != 0)
		return ca_err(CA_ERR_IO, "chroot to an empty directory: %s",
		    strerror(errno));
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return ca_err(CA_ERR_IO, "--user %s: %s", user, strerror(errno));
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != uid ||
	    geteuid() != uid || getegid() != gid)
		return ca_err(CA_ERR_IO, "--user %s: root could be regained",
		    user);
	return 0;
}

int
ca_privsep_reap(struct ca_privsep *ps, int block)
{
	int st;
	pid_t r;

	if (ps->pid <= 0)
		return 0;
	do
		r = waitpid(ps->pid, &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -1;
	ps->pid = 0;
	if (r < 0)
		return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
