/*
 * ca-serve - the online CA: step-ca's HTTPS API, served from inetd,
 * systemd socket activation, or its own listening sockets.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include "ca.h"
#include "cli.h"
#include "serve-run.h"

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
"      --insecure-listen ADDR:PORT\n"
"                               also serve plain HTTP there (SCEP, CRL, OCSP,\n"
"                               health only; repeatable; else insecureAddress)\n"
"      --ready-fd N             once listening, write each bound port and a\n"
"                               newline to descriptor N (plain HTTP ones\n"
"                               last), then close it\n"
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

static struct ca_serve_conf c = { .ready_fd = -1 };
static long threads, max_body;
static long long deadline = -1, idle = -1;
static int privsep, no_privsep;

/* --listen ADDR:PORT, repeatable. */
static int
listen_opt(char *arg, void *dest)
{
	struct ca_serve_conf *p = dest;

	if (p->nlisten == CA_SERVE_MAX_LISTEN)
		return ca_cli_usage("at most %d --listen", CA_SERVE_MAX_LISTEN);
	p->listen[p->nlisten++] = arg;
	return 0;
}

/* --insecure-listen ADDR:PORT, repeatable. */
static int
insecure_opt(char *arg, void *dest)
{
	struct ca_serve_conf *p = dest;

	if (p->ninsecure == CA_SERVE_MAX_LISTEN)
		return ca_cli_usage("at most %d --insecure-listen",
		    CA_SERVE_MAX_LISTEN);
	p->insecure[p->ninsecure++] = arg;
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("upstream-password-file", 0, STRING, &c.upass_file),
	CA_OPT("inetd", 0, FLAG, &c.inetd),
	{ "listen", 0, CA_OPT_CALL, &c, CA_OPT_MULTI, listen_opt, 0, 0 },
	{ "insecure-listen", 0, CA_OPT_CALL, &c, CA_OPT_MULTI, insecure_opt,
	    0, 0 },
	{ "ready-fd", 0, CA_OPT_NUMBER, &c.ready_fd, 0, NULL, 3, 65535 },
	CA_OPT("log-file", 0, STRING, &c.server.log_file),
	CA_OPT("syslog", 0, FLAG, &c.server.use_syslog),
	{ "threads", 0, CA_OPT_NUMBER, &threads, 0, NULL, 1, 64 },
	{ "max-body", 0, CA_OPT_NUMBER, &max_body, 0, NULL, 1024, 16 << 20 },
	CA_OPT("deadline", 0, DURATION, &deadline),
	CA_OPT("idle-timeout", 0, DURATION, &idle),
	CA_OPT("user", 0, STRING, &c.user),
	{ "privsep", 0, CA_OPT_FLAG, &privsep, CA_OPT_ONCE, NULL, 0, 0 },
	{ "no-privsep", 0, CA_OPT_FLAG, &no_privsep, CA_OPT_ONCE, NULL, 0, 0 },
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	(void)cli;
	if (deadline >= 0 && (deadline < 1 || deadline > 3600))
		return ca_cli_usage("--deadline: from 1s to 1h");
	if (idle >= 0 && (idle < 1 || idle > 3600))
		return ca_cli_usage("--idle-timeout: from 1s to 1h");
	if (privsep && no_privsep)
		return ca_cli_usage("--privsep and --no-privsep exclude each other");
	if (c.inetd && (c.nlisten > 0 || c.ninsecure > 0 || c.ready_fd >= 0))
		return ca_cli_usage("--inetd excludes --listen, "
		    "--insecure-listen and --ready-fd");
	if (no_privsep && c.user != NULL)
		return ca_cli_usage("--no-privsep excludes --user");
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_DIR |
	    CA_CLI_PASS, .opts = opts, .maxargs = 0, .pre = pre };
	int rc, status;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	c.dir = cli.dir;
	c.pass_file = cli.pass_file;
	c.server.threads = (unsigned)threads;
	c.server.max_body = (size_t)max_body;
	c.server.deadline_s = deadline > 0 ? (unsigned)deadline : 0;
	c.server.idle_s = idle > 0 ? (unsigned)idle : 0;
	c.privsep = privsep ? 1 : no_privsep ? -1 : 0;
	if ((rc = ca_serve_run(&c, &status)) != 0)
		return ca_cli_fail(rc);
	return status;
}
