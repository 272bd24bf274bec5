/*
 * serve-internal.h - what lib/http.c (requests) and lib/serve.c (daemons,
 * TLS, deadlines, log) share. Not part of the library's interface.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_SERVE_INTERNAL_H
#define CA_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <microhttpd.h>

#include "http.h"

#define CA_MAX_DAEMONS	16

/* A TLS certificate and key as GnuTLS hands them to a handshake. */
struct ca_tls_pair {
	gnutls_pcert_st		 pcert[2];	/* leaf, intermediate */
	unsigned		 n_pcert;
	gnutls_privkey_t	 key;
	time_t			 not_before, not_after;
	struct ca_tls_pair	*older;		/* kept: live sessions may use them */
};

/* A connection, for the per-request deadline. */
struct ca_conn {
	int			 fd;
	int64_t			 deadline_ms;	/* monotonic */
	int			 busy;		/* a request is in progress */
	int			 processing;	/* read in full, being answered */
	int			 cut;		/* shut down by the watchdog */
	struct ca_conn		*prev, *next;
};

struct ca_server {
	struct ca_authority	*a;
	struct ca_server_opts	 o;
	/* TLS */
	pthread_mutex_t		 tls_lock;
	struct ca_tls_pair	*pair;
	char			*trust_pem;
	char			*cache_path, *cache_lock;
	/* front ends */
	struct MHD_Daemon	*daemons[CA_MAX_DAEMONS];
	size_t			 n_daemons;
	int			 inetd_closed;
	/* deadlines */
	pthread_mutex_t		 conn_lock;
	struct ca_conn		*conns;
	size_t			 n_conns;
	pthread_t		 watchdog;
	pthread_cond_t		 wake;		/* ends the watchdog's wait */
	int			 watchdog_running;
	volatile int		 stopping;	/* watchdog: exit */
	volatile int		 draining;	/* SIGTERM: close idle connections */
	/* log */
	int			 log_fd;
	int			 use_syslog;
	/* ACME validations (lib/acme-serve.c) */
	struct ca_acme_validator *acme_va;	/* NULL: no ACME provisioner */
	unsigned		 acme_timeout_ms;	/* one check's */
};

int64_t	 ca_now_ms(void);
/* The URI log, access handler and request-completed callbacks of every daemon. */
void	*ca_http_begin(void *cls, const char *uri, struct MHD_Connection *c);
enum MHD_Result ca_http_handle(void *cls, struct MHD_Connection *c,
	    const char *url, const char *method, const char *version,
	    const char *upload, size_t *upload_size, void **con_cls);
void	 ca_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	    enum MHD_RequestTerminationCode toe);

struct ca_acme_job;
/*
 * A challenge to validate, from an ACME answer (lib/acme-serve.c): the
 * server owns job from here on and reports its outcome with
 * ca_authority_acme_validated(); it never validates on the caller's
 * thread.
 */
void	 ca_serve_acme_job(struct ca_server *s, struct ca_acme_job *job);
/*
 * The server's validator, made from caTools.acme when ca.json has an
 * ACME provisioner (before any chroot: it loads libcurl and reads the
 * system's nameservers); 0 or the error. _drain waits up to max_ms for
 * the jobs submitted (inetd: before the process exits); _stop lets the
 * checks in progress finish and report, and drops the queued ones.
 */
int	 ca_serve_acme_start(struct ca_server *s);
void	 ca_serve_acme_drain(struct ca_server *s, unsigned max_ms);
void	 ca_serve_acme_stop(struct ca_server *s);

#endif /* CA_SERVE_INTERNAL_H */
