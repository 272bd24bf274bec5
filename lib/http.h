/*
 * http.h - ca-serve: step-ca's HTTPS API on libmicrohttpd, one request
 * handler behind three front ends (inetd, socket activation, listen).
 *
 * The handler only calls the narrow authority API (sign, roots,
 * provisioners); it never touches a CA key.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_HTTP_H
#define CA_HTTP_H

#include <stddef.h>

struct ca_authority;
struct ca_server;

struct ca_server_opts {
	size_t		 max_body;	/* bytes; 0: 64 KiB */
	unsigned	 deadline_s;	/* per request, Go's ReadTimeout; 0: 15 */
	unsigned	 idle_s;	/* TLS handshake / idle; 0: 10 */
	unsigned	 threads;	/* per listening socket; 0: CPUs */
	unsigned	 max_conns;	/* 0: 1024 */
	const char	*log_file;	/* NULL: syslog if use_syslog, else stderr */
	int		 use_syslog;
};

/*
 * A server for authority a (borrowed; it must outlive the server). Its
 * TLS certificate is loaded from the state directory's cache
 * (secrets/ca-serve.pem) or issued and cached there.
 */
int	 ca_server_new(struct ca_authority *a, const struct ca_server_opts *o,
	    struct ca_server **out);
/* Threads per listening socket: o->threads, else 4 per CPU, 16 to 64. */
unsigned ca_server_threads(const struct ca_server_opts *o);
/* Serve a listening socket (taken over) with a thread pool; *port is its port. */
int	 ca_server_listen(struct ca_server *s, int fd, int *port);
/*
 * The same without TLS (ca-serve --insecure-listen): only SCEP, the CRL,
 * OCSP and /health are answered there (lib/http.c).
 */
int	 ca_server_listen_plain(struct ca_server *s, int fd, int *port);
/* Serve the one accepted connection on fd (inetd); returns when it ends. */
int	 ca_server_serve_connection(struct ca_server *s, int fd);
/* Stop accepting; wait up to grace_s for requests in progress; stop. */
void	 ca_server_shutdown(struct ca_server *s, unsigned grace_s);
/* SIGHUP: reload ca.json; log the outcome. */
void	 ca_server_reload(struct ca_server *s);
void	 ca_server_free(struct ca_server *s);
/*
 * Once the process has lost access to secrets/: the server certificate
 * is no longer cached there but issued (by the signer) when due.
 */
void	 ca_server_forget_cache(struct ca_server *s);
/* One line to the server log (time and program name are added). */
void	 ca_server_log(struct ca_server *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The listening sockets systemd passed (LISTEN_PID/LISTEN_FDS), or 0. */
int	 ca_listen_fds(int *fds, int max);
/* A listening TCP socket for "[HOST]:PORT" (port 0 allowed). */
int	 ca_listen_socket(const char *addr, int *fd);

#endif /* CA_HTTP_H */
