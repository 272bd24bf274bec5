/*
 * serve.c - ca-serve's daemons: the three front ends, the server's TLS
 * certificate (issued by the CA, cached, renewed), per-request deadlines
 * and the log.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ca.h"
#include "authority.h"
#include "keys.h"
#include "serve-internal.h"
#include "x509.h"

/* TLS 1.2 and 1.3 only, ECDHE key exchange, AEAD ciphers only. */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM:" \
	"+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-GROUP-ALL:" \
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"
#define CACHE_NAME	"secrets/ca-serve.pem"
#define CACHE_LOCK	"secrets/ca-serve.lock"

int64_t
ca_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Log */

void
ca_server_log(struct ca_server *s, const char *fmt, ...)
{
	char line[2048], t[32];
	va_list ap;
	int n, m;

	va_start(ap, fmt);
	if (s->use_syslog) {
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		syslog(LOG_INFO, "%s", line);
		return;
	}
	ca_time_format(time(NULL), t, sizeof(t));
	n = snprintf(line, sizeof(line), "%s ca-serve[%ld]: ", t, (long)getpid());
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: lines from several threads do not mix. */
	(void)!write(s->log_fd, line, (size_t)n);
}

static struct ca_server *log_target;

/* Library messages may quote what a client sent: escaped, like every field. */
static void
lib_log(int level, const char *msg)
{
	char buf[1024];

	if (log_target != NULL)
		ca_server_log(log_target, "%s%s", level == 0 ? "warning: " : "",
		    ca_escape(buf, sizeof(buf), msg, 0));
}

/* MHD passes printf formats of its own: let the compiler check our use. */
static void mhd_log(void *, const char *, va_list)
    __attribute__((__format__(__printf__, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct ca_server *s = cls;
	char buf[512], esc[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* MHD's noise about TCP options on Unix sockets, and its own newlines. */
	if (strstr(buf, "TCP_CORK") != NULL || strstr(buf, "TCP_NODELAY") != NULL ||
	    strstr(buf, "Failed to push the data") != NULL)
		return;
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	ca_server_log(s, "mhd: %s", ca_escape(esc, sizeof(esc), buf, 0));
}

static void
mhd_panic(void *cls, const char *file, unsigned line, const char *reason)
{
	struct ca_server *s = cls;

	ca_server_log(s, "mhd: fatal: %s:%u: %s", file, line,
	    reason != NULL ? reason : "");
	abort();
}

/* TLS */

static void
pair_free(struct ca_tls_pair *p)
{
	unsigned i;

	while (p != NULL) {
		struct ca_tls_pair *older = p->older;
		for (i = 0; i < p->n_pcert; i++)
			gnutls_pcert_deinit(&p->pcert[i]);
		gnutls_privkey_deinit(p->key);
		free(p);
		p = older;
	}
}

/* Parse a cached bundle: key, certificate, intermediate. */
static int
pair_parse(const char *pem, size_t len, struct ca_tls_pair **out)
{
	struct ca_tls_pair *p;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	unsigned n = 2;
	int ret;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)len;
	if ((ret = gnutls_privkey_init(&p->key)) < 0 ||
	    (ret = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0)) < 0 ||
	    (ret = gnutls_pcert_list_import_x509_raw(p->pcert, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0)
		goto fail;
	p->n_pcert = n;
	if ((ret = gnutls_x509_crt_init(&crt)) < 0 ||
	    (ret = gnutls_x509_crt_import(crt, &p->pcert[0].cert,
	    GNUTLS_X509_FMT_DER)) < 0)
		goto fail;
	p->not_before = gnutls_x509_crt_get_activation_time(crt);
	p->not_after = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	*out = p;
	return 0;
fail:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	pair_free(p);
	return ca_err(CA_ERR_INVAL, "server certificate: %s",
	    gnutls_strerror(ret));
}

/* Renewed once two thirds of its life have passed. */
static int
pair_fresh(const struct ca_tls_pair *p, time_t now)
{
	return p != NULL && now >= p->not_before &&
	    now < p->not_before + (p->not_after - p->not_before) * 2 / 3;
}

/*
 * The server certificate: from the cache if fresh, else issued under the
 * cache lock (so that concurrent inetd processes issue one, not many).
 * Without a cache (ca_server_forget_cache) it is issued each time.
 */
static int
tls_load(struct ca_server *s, struct ca_tls_pair **out)
{
	struct ca_tls_pair *p = NULL;
	char *pem = NULL;
	size_t len = 0;
	time_t nb, na;
	int lockfd = -1, rc, pass;

	*out = NULL;
	for (pass = 0; pass < 2 && s->cache_path != NULL; pass++) {
		rc = ca_key_file_read(s->cache_path, &pem, &len);
		if (rc == 0) {
			rc = pair_parse(pem, len, &p);
			ca_free_secret(pem, len);
			pem = NULL;
			if (rc == 0 && pair_fresh(p, time(NULL)))
				goto done;
			pair_free(p);
			p = NULL;
		}
		if (pass == 1)
			break;
		lockfd = open(s->cache_lock, O_RDWR | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
			rc = ca_err(CA_ERR_IO, "%s: %s", s->cache_lock,
			    strerror(errno));
			goto done;
		}
		/* Another process may have renewed it while we waited. */
	}
	if ((rc = ca_authority_server_cert(s->a, &pem, &len, &nb, &na)) != 0)
		goto done;
	if ((s->cache_path != NULL &&
	    (rc = ca_file_publish(s->cache_path, pem, len, 0600, 0)) != 0) ||
	    (rc = pair_parse(pem, len, &p)) != 0)
		goto done;
	{
		char t[32];
		ca_time_format(na, t, sizeof(t));
		ca_server_log(s, "issued the server's TLS certificate, valid until %s",
		    t);
	}
done:
	if (pem != NULL)
		ca_free_secret(pem, len);
	if (lockfd >= 0)
		close(lockfd);
	if (rc == 0)
		*out = p;
	return rc;
}

/* The process's server, for GnuTLS's certificate callback. */
static struct ca_server *tls_server;

static int
cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct ca_server *s = tls_server;
	struct ca_tls_pair *p;

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (s == NULL)
		return -1;
	pthread_mutex_lock(&s->tls_lock);
	p = s->pair;
	pthread_mutex_unlock(&s->tls_lock);
	*pcert = p->pcert;
	*pcert_length = p->n_pcert;
	*privkey = p->key;
	return 0;
}

/* A new pair replaces the current one; old ones live until the end. */
static void
tls_renew(struct ca_server *s)
{
	struct ca_tls_pair *p;

	if (pair_fresh(s->pair, time(NULL)))
		return;
	if (tls_load(s, &p) != 0) {
		char esc[1024];
		ca_server_log(s, "renewing the server certificate failed: %s",
		    ca_escape(esc, sizeof(esc), ca_errmsg(), 0));
		return;
	}
	pthread_mutex_lock(&s->tls_lock);
	p->older = s->pair;
	s->pair = p;
	pthread_mutex_unlock(&s->tls_lock);
}

/* Connections and deadlines */

static void
notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct ca_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct ca_conn *k;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((k = calloc(1, sizeof(*k))) == NULL)
			return;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k->fd = ci != NULL ? ci->connect_fd : -1;
		k->deadline_ms = ca_now_ms() + (int64_t)s->o.deadline_s * 1000;
		pthread_mutex_lock(&s->conn_lock);
		k->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = k;
		s->conns = k;
		s->n_conns++;
		pthread_mutex_unlock(&s->conn_lock);
		*socket_context = k;
		return;
	}
	/* Closed: MHD closes the descriptor after this returns. */
	if ((k = *socket_context) != NULL) {
		pthread_mutex_lock(&s->conn_lock);
		if (k->prev != NULL)
			k->prev->next = k->next;
		else
			s->conns = k->next;
		if (k->next != NULL)
			k->next->prev = k->prev;
		s->n_conns--;
		pthread_mutex_unlock(&s->conn_lock);
		free(k);
		*socket_context = NULL;
	}
	s->inetd_closed = 1;
}

/*
 * The watchdog ends connections past their deadline (a request must be
 * read and answered within deadline_s of the previous one, or of the
 * accept: what Go's ReadTimeout and WriteTimeout give step-ca), idle ones
 * when draining, and renews the TLS certificate.
 */
static void *
watchdog(void *arg)
{
	struct ca_server *s = arg;
	struct ca_conn *k;
	int64_t now, last_renew = ca_now_ms();
	struct timespec ts = { 0, 100 * 1000000 };

	pthread_mutex_lock(&s->conn_lock);
	while (!s->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += ts.tv_nsec;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		/* Woken at once by ca_server_free(), so inetd processes end fast. */
		pthread_cond_timedwait(&s->wake, &s->conn_lock, &until);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->conn_lock);
		now = ca_now_ms();
		pthread_mutex_lock(&s->conn_lock);
		for (k = s->conns; k != NULL; k = k->next) {
			if (k->cut || k->fd < 0 || k->processing)
				continue;
			if (now > k->deadline_ms || (s->draining && !k->busy)) {
				shutdown(k->fd, SHUT_RDWR);
				k->cut = 1;
			}
		}
		pthread_mutex_unlock(&s->conn_lock);
		if (now - last_renew > 60000) {
			last_renew = now;
			tls_renew(s);
		}
		pthread_mutex_lock(&s->conn_lock);
	}
	pthread_mutex_unlock(&s->conn_lock);
	return NULL;
}

/* The server */

unsigned
ca_server_threads(const struct ca_server_opts *o)
{
	long cpus;

	if (o->threads != 0)
		return o->threads;
	/*
	 * A worker waits while its certificate is committed; more workers
	 * than CPUs let concurrent issuances share a commit (group commit):
	 * bench/serve.sh measured 1.04 certificates per commit with 2
	 * threads, 5.5 with 16.
	 */
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpus = cpus > 0 ? cpus * 4 : 8;
	return cpus < 16 ? 16 : cpus > 64 ? 64 : (unsigned)cpus;
}

int
ca_server_new(struct ca_authority *a, const struct ca_server_opts *o,
    struct ca_server **out)
{
	const struct ca_config *cfg = ca_authority_config(a);
	const gnutls_datum_t *root = ca_authority_root_pem(a);
	const gnutls_datum_t *chain = ca_authority_chain_pem(a);
	const char *dir = ca_authority_dir(a);
	struct ca_server *s;
	int rc;

	*out = NULL;
	if (cfg == NULL || dir == NULL)
		return ca_err(CA_ERR_CONFIG,
		    "a server needs an authority on a state directory");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	s->a = a;
	s->o = *o;
	if (s->o.max_body == 0)
		s->o.max_body = 64 * 1024;
	if (s->o.deadline_s == 0)
		s->o.deadline_s = 15;
	if (s->o.idle_s == 0)
		s->o.idle_s = 10;
	if (s->o.max_conns == 0)
		s->o.max_conns = 1024;
	s->o.threads = ca_server_threads(o);
	pthread_mutex_init(&s->tls_lock, NULL);
	pthread_mutex_init(&s->conn_lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	s->log_fd = STDERR_FILENO;
	if (o->log_file != NULL) {
		s->log_fd = open(o->log_file, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0640);
		if (s->log_fd < 0) {
			rc = ca_err(CA_ERR_IO, "%s: %s", o->log_file,
			    strerror(errno));
			s->log_fd = -1;
			goto fail;
		}
	} else if (o->use_syslog) {
		s->use_syslog = 1;
		openlog("ca-serve", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	log_target = s;
	ca_set_log_function(lib_log);
	/* Loading ca.json warned on standard error; the log gets it too. */
	if ((s->log_fd != STDERR_FILENO || s->use_syslog) &&
	    cfg->ignored != NULL)
		ca_warn("%s: ignored here (see ca-state(5)): %s", cfg->path,
		    cfg->ignored);
	MHD_set_panic_func(mhd_panic, s);
	if ((s->cache_path = ca_path_join(dir, CACHE_NAME)) == NULL ||
	    (s->cache_lock = ca_path_join(dir, CACHE_LOCK)) == NULL ||
	    asprintf(&s->trust_pem, "%.*s%.*s", (int)root->size,
	    (char *)root->data, (int)chain->size,
	    (char *)chain->data) < 0) {
		s->trust_pem = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = tls_load(s, &s->pair)) != 0 ||
	    (rc = ca_serve_acme_start(s)) != 0)
		goto fail;
	tls_server = s;
	*out = s;
	return 0;
fail:
	ca_server_free(s);
	return rc;
}

static struct MHD_Daemon *
start_daemon(struct ca_server *s, unsigned flags, int fd, int tls)
{
	struct MHD_OptionItem opts[16];
	size_t n = 0;

#define OPT(o, v, p) do {						\
	opts[n].option = (o);						\
	opts[n].value = (intptr_t)(v);					\
	opts[n].ptr_value = (p);					\
	n++;								\
} while (0)
	/* The logger must come first, or MHD logs to stderr before it. */
	OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, s);
	if (tls) {
		OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)cert_callback);
		OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, s->trust_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)(uintptr_t)TLS_PRIORITIES);
	}
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->o.idle_s, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, s->o.max_conns, NULL);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ca_http_begin, s);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)ca_http_completed, s);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_connection, s);
	if (fd >= 0)
		OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	if (flags & MHD_USE_INTERNAL_POLLING_THREAD && s->o.threads > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, s->o.threads, NULL);
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags | (tls ? MHD_USE_TLS : 0) |
	    MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, ca_http_handle, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

static int
start_watchdog(struct ca_server *s)
{
	if (s->watchdog_running)
		return 0;
	if (pthread_create(&s->watchdog, NULL, watchdog, s) != 0)
		return ca_err(CA_ERR_IO, "cannot start the watchdog thread");
	s->watchdog_running = 1;
	return 0;
}

static int
listen_on(struct ca_server *s, int fd, int *port, int tls)
{
	const union MHD_DaemonInfo *di;
	struct MHD_Daemon *d;
	int rc;

	*port = 0;
	if (s->n_daemons == CA_MAX_DAEMONS)
		return ca_err(CA_ERR_INVAL, "too many listening sockets");
	if ((rc = start_watchdog(s)) != 0)
		return rc;
	/*
	 * poll(), not epoll: with epoll, MHD's threads spin on
	 * epoll_wait/recv (EAGAIN) through every TLS handshake
	 * (bench/serve.sh, scenario B).
	 */
	d = start_daemon(s, MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC, fd, tls);
	if (d == NULL)
		return ca_err(CA_ERR_IO, "cannot start serving socket %d", fd);
	s->daemons[s->n_daemons++] = d;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (di != NULL)
		*port = di->port;
	return 0;
}

int
ca_server_listen(struct ca_server *s, int fd, int *port)
{
	return listen_on(s, fd, port, 1);
}

int
ca_server_listen_plain(struct ca_server *s, int fd, int *port)
{
	return listen_on(s, fd, port, 0);
}

/* The local TCP port of socket fd, or 0 (not TCP, or unknown). */
static int
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int
ca_server_serve_connection(struct ca_server *s, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct MHD_Daemon *d;
	struct stat st;
	int rc, port;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return ca_err(CA_ERR_INVAL,
		    "--inetd: standard input is not a socket");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return ca_err(CA_ERR_INVAL,
		    "--inetd: standard input is not a connected socket: %s",
		    strerror(errno));
	/*
	 * The port the client reached, as a listener knows its own: token
	 * audiences that name it are ours (a Unix socket has none).
	 */
	if ((port = local_port(fd)) > 0)
		ca_authority_set_ports(s->a, &port, 1);
	if ((rc = start_watchdog(s)) != 0)
		return rc;
	if ((d = start_daemon(s, MHD_USE_NO_LISTEN_SOCKET, -1, 1)) == NULL)
		return ca_err(CA_ERR_IO, "cannot start serving the connection");
	s->daemons[s->n_daemons++] = d;
	if (MHD_add_connection(d, fd, (struct sockaddr *)&ss, len) != MHD_YES)
		return ca_err(CA_ERR_IO, "cannot serve the connection");
	while (!s->inetd_closed)
		MHD_run_wait(d, 1000);
	/*
	 * The validations this connection started end before the process
	 * does (those that do not are given out again later).
	 */
	ca_serve_acme_drain(s, 2 * s->acme_timeout_ms);
	return 0;
}

void
ca_server_shutdown(struct ca_server *s, unsigned grace_s)
{
	int64_t end = ca_now_ms() + (int64_t)grace_s * 1000;
	struct timespec ts = { 0, 20 * 1000000 };
	size_t i;
	int fd;

	/* Stop accepting; let requests in progress finish. */
	for (i = 0; i < s->n_daemons; i++)
		if ((fd = MHD_quiesce_daemon(s->daemons[i])) >= 0)
			close(fd);
	s->draining = 1;
	while (ca_now_ms() < end) {
		size_t n;
		pthread_mutex_lock(&s->conn_lock);
		n = s->n_conns;
		pthread_mutex_unlock(&s->conn_lock);
		if (n == 0)
			break;
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < s->n_daemons; i++)
		MHD_stop_daemon(s->daemons[i]);
	s->n_daemons = 0;
}

void
ca_server_reload(struct ca_server *s)
{
	char esc[1024];

	if (ca_authority_reload(s->a) == 0)
		ca_server_log(s, "reloaded %s/config/ca.json",
		    ca_authority_dir(s->a));
	else
		ca_server_log(s, "reload failed, keeping the old configuration: %s",
		    ca_escape(esc, sizeof(esc), ca_errmsg(), 0));
}

void
ca_server_forget_cache(struct ca_server *s)
{
	free(s->cache_path);
	free(s->cache_lock);
	s->cache_path = s->cache_lock = NULL;
}

void
ca_server_free(struct ca_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_daemons; i++)
		MHD_stop_daemon(s->daemons[i]);
	/* Its checks in progress report through the authority, still open. */
	ca_serve_acme_stop(s);
	if (s->watchdog_running) {
		pthread_mutex_lock(&s->conn_lock);
		s->stopping = 1;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->conn_lock);
		pthread_join(s->watchdog, NULL);
	}
	pair_free(s->pair);
	free(s->trust_pem);
	free(s->cache_path);
	free(s->cache_lock);
	if (s->log_fd > STDERR_FILENO)
		close(s->log_fd);
	if (s->use_syslog)
		closelog();
	if (tls_server == s)
		tls_server = NULL;
	if (log_target == s) {
		log_target = NULL;
		ca_set_log_function(NULL);
	}
	pthread_mutex_destroy(&s->tls_lock);
	pthread_mutex_destroy(&s->conn_lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}

/* Front-end helpers */

int
ca_listen_fds(int *fds, int max)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	char *end;
	long v;
	int i, count;

	if (pid == NULL || n == NULL)
		return 0;
	v = strtol(pid, &end, 10);
	if (*end != '\0' || v != (long)getpid())
		return 0;
	v = strtol(n, &end, 10);
	if (*end != '\0' || v < 1)
		return 0;
	count = v > max ? max : (int)v;
	for (i = 0; i < count; i++) {
		fds[i] = 3 + i;
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return count;
}

int
ca_listen_socket(const char *addr, int *fdp)
{
	struct addrinfo hints, *res = NULL;
	char host[256], *colon;
	const char *port;
	int fd = -1, one = 1, zero = 0, err;

	*fdp = -1;
	if (strlen(addr) >= sizeof(host) || (colon = strrchr(addr, ':')) == NULL)
		return ca_err(CA_ERR_INVAL, "--listen %s: not [HOST]:PORT", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	port = colon + 1;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	/* ":PORT" is every address, IPv6 and IPv4 (a dual-stack socket). */
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err != 0 && !host[0]) {
		hints.ai_family = AF_INET;	/* no IPv6 here */
		err = getaddrinfo(NULL, port, &hints, &res);
	}
	if (err != 0)
		return ca_err(CA_ERR_INVAL, "--listen %s: %s", addr,
		    gai_strerror(err));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd >= 0 && res->ai_family == AF_INET6 && !host[0])
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 256) != 0) {
		err = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return ca_err(CA_ERR_IO, "--listen %s: %s", addr, strerror(err));
	}
	freeaddrinfo(res);
	*fdp = fd;
	return 0;
}
