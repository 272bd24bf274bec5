/*
 * serve-run.h - ca-serve's process, from its options to its exit status:
 * the listening sockets (inherited from systemd, bound for --listen or
 * ca.json's address) or the inetd connection, the signer forked and the
 * worker's privileges dropped, the signals, the shutdown and its figures.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_SERVE_RUN_H
#define CA_SERVE_RUN_H

#include <stddef.h>

#include "http.h"

/* Listening sockets: inherited and bound together. */
#define CA_SERVE_MAX_LISTEN	16

/* What ca-serve's options ask for. */
struct ca_serve_conf {
	struct ca_server_opts	 server;
	const char		*dir;		/* the state directory */
	const char		*pass_file;	/* the intermediate key's
						   password; NULL: none */
	const char		*upass_file;	/* a registration authority:
						   the upstream key's */
	const char		*listen[CA_SERVE_MAX_LISTEN];	/* [HOST]:PORT */
	size_t			 nlisten;
	/* Plain HTTP (SCEP, CRL, OCSP): [HOST]:PORT; none: insecureAddress. */
	const char		*insecure[CA_SERVE_MAX_LISTEN];
	size_t			 ninsecure;
	long			 ready_fd;	/* gets the ports; -1: none */
	int			 inetd;		/* the connection on fd 0 */
	const char		*user;		/* the worker's; NULL: default */
	int			 privsep;	/* 1 --privsep, -1 --no-privsep,
						   0 as ca_privsep_want says */
};

/*
 * Serve the CA as conf says: the one inetd connection, or the listening
 * sockets until SIGTERM or SIGINT (SIGHUP reloads ca.json), or until the
 * signer exits. Returns 0 with *status the process's exit status (0; 1
 * when the signer exited; in the forked signer, the signer's own), or an
 * error recorded, also written to the log where that is not standard
 * error, for the caller to print (*status then 1).
 */
int	 ca_serve_run(const struct ca_serve_conf *conf, int *status);

#endif /* CA_SERVE_RUN_H */
