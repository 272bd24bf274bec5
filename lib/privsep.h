/*
 * privsep.h - ca-serve's two processes: the signer (holds the CA key and
 * the store's write side) and the worker (network, TLS, HTTP), which
 * drops to an unprivileged user and loses access to secrets/.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_PRIVSEP_H
#define CA_PRIVSEP_H

#include <stddef.h>
#include <sys/types.h>

/* The worker's user when ca-serve runs as root and none is named. */
#define CA_PRIVSEP_USER	"ca-tools"

struct ca_privsep {
	pid_t		 pid;		/* the signer */
	int		 status_fd;	/* worker: reads the signer's start-up */
	int		*fds;		/* the signer's ends */
	size_t		 n;
};

/*
 * Separate the signer, or not: flag -1 (--no-privsep) no; 1 (--privsep)
 * or a *user named, yes; 0, where we run as root and CA_PRIVSEP_USER
 * exists (*user set to it). A *user named is checked: we are root, it
 * exists, it is not root. Returns 1 or 0, or an error.
 */
int	 ca_privsep_want(int flag, const char **user);
/*
 * n socketpairs: the signer's ends kept in ps, the worker's in *worker
 * (malloc'd array), for ca_authority_open_signer.
 */
int	 ca_privsep_pairs(size_t n, struct ca_privsep *ps, int **worker);
/*
 * Fork the signer. In the worker (*is_signer 0) ps->pid is the signer and
 * the signer's ends are closed; in the signer (*is_signer 1) the caller
 * closes what it holds of the worker's (its authority, the listening
 * sockets) and calls ca_privsep_signer_main.
 */
int	 ca_privsep_fork(struct ca_privsep *ps, int *is_signer);
/* Before the fork: close the signer's ends (a failure on the way). */
void	 ca_privsep_abandon(struct ca_privsep *ps);
/*
 * The signer: core dumps off, not ptrace-able, memory locked (as root),
 * the password files read, the authority opened in dir with its key; its
 * outcome reported to the worker; then one thread per connection until
 * the worker closes them all. Returns the exit status.
 */
int	 ca_privsep_signer_main(struct ca_privsep *ps, const char *dir,
	    const char *pass_file, const char *upass_file);
/* The worker: wait for the signer's start-up; its error, if any. */
int	 ca_privsep_wait_ready(struct ca_privsep *ps);
/*
 * The worker, as root: chroot to an empty directory that no longer
 * exists (nothing can be created or opened in it), then become user
 * (groups, gid, uid), checked that root cannot be regained.
 */
int	 ca_privsep_drop(const char *user);
/* The worker: wait for the signer to exit; its status as ca-serve's. */
int	 ca_privsep_reap(struct ca_privsep *ps, int block);

#endif /* CA_PRIVSEP_H */
