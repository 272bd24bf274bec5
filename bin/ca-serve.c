/*
 * ca-serve - the online CA: step-ca's HTTPS API, served from inetd,
 * systemd socket activation, or its own listening sockets.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "conf.h"
#include "http.h"
#include "privsep.h"
#include "signer.h"

static const char usage[] =
"Usage: ca-serve -d DIR [--password-file FILE] [--inetd | --listen ADDR:PORT...]\n"
"                [OPTION]...\n"
"Serve the CA in DIR over HTTPS with step-ca's API: from inetd (the\n"
"connection on standard input and output), from systemd socket activation,\n"
"or on its own sockets (--listen, else the address in ca.json). When DIR\n"
"is a registration authority (ca-init --ra), requests are authenticated\n"
"here and signed by the upstream CA.\n"
"\n"
"  -d, --state-dir DIR          the CA's directory (default $CA_STATE_DIR)\n"
"      --password-file FILE     password of the intermediate key, if encrypted\n"
"      --upstream-password-file FILE\n"
"                               a registration authority: password of the\n"
"                               upstream provisioner's encrypted key\n"
"      --inetd                  serve the one connection on fds 0 and 1, then exit\n"
"      --listen ADDR:PORT       listen on ADDR:PORT (repeatable; port 0 picks one)\n"
"      --ready-fd N             once listening, write each bound port and a\n"
"                               newline to descriptor N, then close it\n"
"      --log-file FILE          append the log to FILE\n"
"      --syslog                 log to syslog (the default with --inetd)\n"
"      --threads N              threads per listening socket (default: 4 per\n"
"                               CPU, at least 16)\n"
"      --max-body BYTES         largest request body (default 65536)\n"
"      --deadline DURATION      time to read and answer a request (default 15s)\n"
"      --idle-timeout DURATION  time a silent connection or TLS handshake may\n"
"                               take (default 10s)\n"
"      --user USER              privilege separation: the network side runs as\n"
"                               USER (as root; default ca-tools where it exists)\n"
"      --privsep                privilege separation without a user change\n"
"      --no-privsep             no separation: the CA key in the serving process\n"
"  -q, --quiet                  no warnings\n"
"  -v, --verbose                log more\n"
"  -h, --help                   show this help and exit\n"
"  -V, --version                show the version and exit\n"
"\n"
"Signals: SIGHUP reloads ca.json (provisioners, claims); SIGTERM stops\n"
"accepting, finishes the requests in progress and exits 0.\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 temporary failure at\n"
"start (database busy while issuing the server certificate).\n";

enum { O_PASS = 256, O_UPASS, O_INETD, O_LISTEN, O_READY, O_LOG, O_SYSLOG, O_THREADS,
	O_MAXBODY, O_DEADLINE, O_IDLE, O_USER, O_PRIVSEP, O_NOPRIVSEP };

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "password-file", required_argument, NULL, O_PASS },
	{ "upstream-password-file", required_argument, NULL, O_UPASS },
	{ "inetd", no_argument, NULL, O_INETD },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "ready-fd", required_argument, NULL, O_READY },
	{ "log-file", required_argument, NULL, O_LOG },
	{ "syslog", no_argument, NULL, O_SYSLOG },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "max-body", required_argument, NULL, O_MAXBODY },
	{ "deadline", required_argument, NULL, O_DEADLINE },
	{ "idle-timeout", required_argument, NULL, O_IDLE },
	{ "user", required_argument, NULL, O_USER },
	{ "privsep", no_argument, NULL, O_PRIVSEP },
	{ "no-privsep", no_argument, NULL, O_NOPRIVSEP },
	CA_CLI_COMMON_OPTIONS,
};

#define MAX_LISTEN 16

static int
number(const char *arg, const char *name, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(arg, &end, 10);
	if (errno != 0 || *end != '\0' || arg[0] == '\0' || *v < lo || *v > hi)
		return ca_cli_usage("--%s: '%s' is not a number from %ld to %ld",
		    name, arg, lo, hi);
	return 0;
}

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

/*
 * Separate the signer, or not: --no-privsep; --user or --privsep; by
 * default where ca-serve runs as root and the user ca-tools exists.
 * *user: the worker's user, or NULL to keep ours.
 */
static int
want_privsep(int flag, const char **user)
{
	if (flag < 0)
		return 0;
	if (*user != NULL && geteuid() != 0)
		return ca_err(CA_ERR_CONFIG, "--user %s: only root can change "
		    "user", *user);
	if (*user != NULL) {
		struct passwd *pw = getpwnam(*user);
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

/* Threads serving requests at once: one signer connection each. */
static size_t
connections(const struct ca_server_opts *so, int inetd, int nfds)
{
	long cpus;
	size_t t;

	if (inetd)
		return 1;
	t = so->threads;
	if (t == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		cpus = cpus > 0 ? cpus * 4 : 8;
		t = cpus < 16 ? 16 : cpus > 64 ? 64 : (size_t)cpus;
	}
	t *= (size_t)(nfds > 0 ? nfds : 1);
	return t > 128 ? 128 : t;
}

int
main(int argc, char **argv)
{
	struct ca_server_opts so;
	struct ca_authority *a = NULL;
	struct ca_server *srv = NULL;
	struct ca_privsep ps;
	const char *dir = NULL, *pass_file = NULL, *listen[MAX_LISTEN];
	const char *upass_file = NULL, *user = NULL;
	char *pw = NULL, *upw = NULL;
	size_t pwlen = 0, upwlen = 0, nlisten = 0, i;
	unsigned long seen = 0, hits = 0, built = 0, issued = 0, commits = 0;
	long v, ready_fd = -1;
	long long secs;
	int ch, rc, inetd = 0, fds[MAX_LISTEN], ports[MAX_LISTEN], nfds = 0;
	int status = CA_EXIT_FAIL, sig, sep_flag = 0, sep, is_signer, *wfds;
	sigset_t set;

	ca_cli_init(argv);
	memset(&ps, 0, sizeof(ps));
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
	memset(&so, 0, sizeof(so));
	while ((ch = getopt_long(argc, argv, "d:" CA_CLI_COMMON_SHORT, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ca_cli_once(&seen, 0, "state-dir"))
				return CA_EXIT_USAGE;
			dir = optarg;
			break;
		case O_PASS:
			if (ca_cli_once(&seen, 1, "password-file"))
				return CA_EXIT_USAGE;
			pass_file = optarg;
			break;
		case O_UPASS:
			if (ca_cli_once(&seen, 12, "upstream-password-file"))
				return CA_EXIT_USAGE;
			upass_file = optarg;
			break;
		case O_INETD:
			inetd = 1;
			break;
		case O_LISTEN:
			if (nlisten == MAX_LISTEN)
				return ca_cli_usage("at most %d --listen", MAX_LISTEN);
			listen[nlisten++] = optarg;
			break;
		case O_READY:
			if (ca_cli_once(&seen, 2, "ready-fd") ||
			    number(optarg, "ready-fd", 3, 65535, &ready_fd))
				return CA_EXIT_USAGE;
			break;
		case O_LOG:
			if (ca_cli_once(&seen, 3, "log-file"))
				return CA_EXIT_USAGE;
			so.log_file = optarg;
			break;
		case O_SYSLOG:
			so.use_syslog = 1;
			break;
		case O_THREADS:
			if (ca_cli_once(&seen, 4, "threads") ||
			    number(optarg, "threads", 1, 64, &v))
				return CA_EXIT_USAGE;
			so.threads = (unsigned)v;
			break;
		case O_MAXBODY:
			if (ca_cli_once(&seen, 5, "max-body") ||
			    number(optarg, "max-body", 1024, 16 << 20, &v))
				return CA_EXIT_USAGE;
			so.max_body = (size_t)v;
			break;
		case O_DEADLINE:
			if (ca_cli_once(&seen, 6, "deadline") ||
			    ca_cli_duration(optarg, "deadline", &secs))
				return CA_EXIT_USAGE;
			if (secs < 1 || secs > 3600)
				return ca_cli_usage("--deadline: from 1s to 1h");
			so.deadline_s = (unsigned)secs;
			break;
		case O_IDLE:
			if (ca_cli_once(&seen, 7, "idle-timeout") ||
			    ca_cli_duration(optarg, "idle-timeout", &secs))
				return CA_EXIT_USAGE;
			if (secs < 1 || secs > 3600)
				return ca_cli_usage("--idle-timeout: from 1s to 1h");
			so.idle_s = (unsigned)secs;
			break;
		case O_USER:
			if (ca_cli_once(&seen, 8, "user"))
				return CA_EXIT_USAGE;
			user = optarg;
			break;
		case O_PRIVSEP:
		case O_NOPRIVSEP:
			if (sep_flag == (ch == O_PRIVSEP ? -1 : 1))
				return ca_cli_usage("--privsep and --no-privsep "
				    "exclude each other");
			if (ca_cli_once(&seen, ch == O_PRIVSEP ? 9 : 10,
			    ch == O_PRIVSEP ? "privsep" : "no-privsep"))
				return CA_EXIT_USAGE;
			sep_flag = ch == O_PRIVSEP ? 1 : -1;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (optind != argc)
		return ca_cli_usage("unexpected argument '%s'", argv[optind]);
	if (inetd && (nlisten > 0 || ready_fd >= 0))
		return ca_cli_usage("--inetd excludes --listen and --ready-fd");
	if (sep_flag < 0 && user != NULL)
		return ca_cli_usage("--no-privsep excludes --user");
	if ((dir = ca_config_state_dir(dir)) == NULL)
		return ca_cli_usage("%s", ca_errmsg());
	if (inetd) {
		if (so.log_file == NULL)
			so.use_syslog = 1;
		quiet_stdio(1);
	}

	if ((sep = rc = want_privsep(sep_flag, &user)) < 0)
		goto fail;
	/* Signals are taken by sigwait() below, not by the serving threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!inetd)
		nfds = ca_listen_fds(fds, MAX_LISTEN);
	if (sep) {
		/*
		 * The worker's authority: the connections to a signer not yet
		 * forked, public material only; no key, no password read here.
		 */
		if ((rc = ca_privsep_pairs(connections(&so, inetd,
		    nfds + (int)nlisten), &ps, &wfds)) != 0)
			goto fail;
		rc = ca_authority_open_signer(wfds, ps.n, dir, &a);
		free(wfds);
		if (rc != 0) {
			ca_privsep_abandon(&ps);
			goto fail;
		}
	} else {
		if (pass_file != NULL &&
		    (rc = ca_secret_read(pass_file, &pw, &pwlen)) != 0)
			goto fail;
		if (upass_file != NULL &&
		    (rc = ca_secret_read(upass_file, &upw, &upwlen)) != 0) {
			ca_free_secret(pw, pwlen);
			goto fail;
		}
		rc = ca_authority_open_server(dir, pw, upw, &a);
		ca_free_secret(pw, pwlen);
		ca_free_secret(upw, upwlen);
		if (rc != 0)
			goto fail;
	}

	/* Sockets from systemd, then ours; ca.json's address if neither. */
	if (!inetd && nfds == 0 && nlisten == 0)
		listen[nlisten++] = ca_authority_config(a)->address[0] ?
		    ca_authority_config(a)->address : ":443";
	for (i = 0; i < nlisten; i++) {
		if (nfds == MAX_LISTEN) {
			rc = ca_err(CA_ERR_INVAL, "more than %d sockets",
			    MAX_LISTEN);
			goto fail;
		}
		if ((rc = ca_listen_socket(listen[i], &fds[nfds])) != 0)
			goto fail;
		nfds++;
	}
	if (sep) {
		/* Bound: now the signer, before any thread exists. */
		if ((rc = ca_privsep_fork(&ps, &is_signer)) != 0) {
			ca_privsep_abandon(&ps);
			goto fail;
		}
		if (is_signer) {
			for (i = 0; i < (size_t)nfds; i++)
				close(fds[i]);
			if (ready_fd >= 0)
				close((int)ready_fd);
			if (inetd)
				quiet_stdio(0);
			ca_authority_close(a);
			return ca_privsep_signer_main(&ps, dir, pass_file,
			    upass_file);
		}
		if ((rc = ca_privsep_wait_ready(&ps)) != 0)
			goto fail;
	}
	if ((rc = ca_server_new(a, &so, &srv)) != 0)
		goto fail;
	if (user != NULL) {
		if ((rc = ca_privsep_drop(user)) != 0)
			goto fail;
		ca_server_forget_cache(srv);
	}

	if (sep)
		ca_server_log(srv, "privilege separation: signer %ld, serving "
		    "as uid %ld", (long)ps.pid, (long)getuid());
	if (inetd) {
		if ((rc = ca_server_serve_connection(srv, STDIN_FILENO)) != 0)
			goto fail;
		status = 0;
		goto out;
	}

	for (i = 0; i < (size_t)nfds; i++)
		if ((rc = ca_server_listen(srv, fds[i], &ports[i])) != 0)
			goto fail;
	ca_authority_set_ports(a, ports, (size_t)nfds);
	for (i = 0; i < (size_t)nfds; i++)
		ca_server_log(srv, "listening on port %d", ports[i]);
	if (ready_fd >= 0) {
		char buf[16];
		for (i = 0; i < (size_t)nfds; i++) {
			int n = snprintf(buf, sizeof(buf), "%d\n", ports[i]);
			if (ca_write_all((int)ready_fd, buf, (size_t)n) != 0) {
				rc = ca_err(CA_ERR_IO, "--ready-fd %ld: %s", ready_fd,
				    strerror(errno));
				goto fail;
			}
		}
		close((int)ready_fd);
	}
	status = 0;
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			ca_server_reload(srv);
			continue;
		}
		if (sig == SIGCHLD) {
			int st;
			if (!sep || (st = ca_privsep_reap(&ps, 0)) < 0)
				continue;
			/* Requests in progress got a 500; a supervisor restarts us. */
			ca_server_log(srv, "the signer exited (status %d): "
			    "stopping", st);
			status = CA_EXIT_FAIL;
		} else
			ca_server_log(srv, "signal %d: finishing requests in "
			    "progress", sig);
		ca_server_shutdown(srv, so.deadline_s ? so.deadline_s + 1 : 16);
		if (status != 0)
			break;
		ca_authority_ocsp_stats(a, &hits, &built);
		ca_authority_commit_stats(a, &issued, &commits);
		ca_server_log(srv, "stopped: %lu issuances recorded in %lu "
		    "commits; OCSP: %lu answers signed, %lu from the cache",
		    issued, commits, built, hits);
		break;
	}
	goto out;
fail:
	/* Where the log is not standard error, it gets the reason too. */
	if (srv != NULL && (so.log_file != NULL || so.use_syslog))
		ca_server_log(srv, "%s", ca_errmsg());
	else if (srv == NULL && inetd)
		early_log(&so, ca_errmsg());
	status = ca_cli_fail(rc);
out:
	ca_server_free(srv);
	/* Its connections closed, the signer finishes and exits. */
	ca_authority_close(a);
	if (ps.pid > 0 && ca_privsep_reap(&ps, 1) != 0 && status == 0)
		status = CA_EXIT_FAIL;
	return status;
}
