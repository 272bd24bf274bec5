/*
 * http.c - fuzz ca-serve's request handler (lib/http.c): the input is a
 * request as a client sends it (method, path, headers, body), read by
 * libmicrohttpd from a socket pair and handed to the same callbacks
 * ca-serve registers (ca_http_begin, ca_http_handle, ca_http_completed),
 * with a server on the scratch CA (fuzz-ca.h). The handler's framing
 * checks read MHD's own buffers, so it is fuzzed with MHD below it, not
 * beside it; only TLS is left out (the daemon here speaks plain HTTP).
 * The clock is fixed (fuzz_now), so that a reproducer replays the same.
 * fuzz-dict: http
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/socket.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "http.h"
#include "serve-internal.h"

#include "fuzz-ca.h"

#define ROUNDS	64	/* MHD_run calls allowed for one request */
#define NOW	1780000000	/* a fixed "now": 2026-05-28 */

static struct ca_server *server;
static struct MHD_Daemon *daemon_;
static int completed, closed;

static void
mhd_quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

/* ca-serve's own callback, and a mark that the answer was made. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	ca_http_completed(cls, c, con_cls, toe);
	completed = 1;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	(void)c;
	(void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		closed = 1;
}

static void
server_done(void)
{
	MHD_stop_daemon(daemon_);
	ca_server_free(server);
}

/* The options of lib/serve.c's start_daemon, TLS and the watchdog aside. */
static void
server_make(void)
{
	struct ca_server_opts o;

	memset(&o, 0, sizeof(o));
	o.log_file = "/dev/null";
	o.threads = 1;
	if (ca_server_new(fuzz_ca, &o, &server) != 0) {
		fprintf(stderr, "ca_server_new: %s\n", ca_errmsg());
		abort();
	}
	daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, ca_http_handle, server,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_quiet, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
	    MHD_OPTION_URI_LOG_CALLBACK, ca_http_begin, server,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
	    MHD_OPTION_END);
	if (daemon_ == NULL)
		abort();
	atexit(server_done);
}

/* Read what the server answered, so that it never blocks on a full pipe. */
static void
drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr sa;
	size_t off = 0;
	ssize_t n;
	int sv[2], i;

	if (server == NULL) {
		fuzz_now = NOW;	/* the scratch CA, tokens, CRL, OCSP */
		fuzz_ca_local();
		server_make();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0)
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	completed = closed = 0;
	if (MHD_add_connection(daemon_, sv[1], &sa, sizeof(sa)) != MHD_YES)
		abort();
	/* The request as fast as the server reads it; ROUNDS idle at most. */
	for (i = 0; i < ROUNDS && !completed && !closed; i++) {
		while (off < size &&
		    (n = write(sv[0], data + off, size - off)) > 0) {
			off += (size_t)n;
			i = 0;
		}
		MHD_run(daemon_);
		drain(sv[0]);
	}
	/* Answered, or waiting for more: the client leaves. */
	close(sv[0]);
	for (i = 0; i < ROUNDS && !closed; i++)
		MHD_run(daemon_);
	if (!closed)
		abort();	/* a connection the server would keep */
	ca_err_clear();
	return 0;
}
