/*
 * ca-renew - renew a certificate once it is due, from cron or a timer.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "exec.h"
#include "renew-args.h"
#include "renew-daemon.h"

static const char usage[] =
"Usage: ca-renew -d DIR [OPTION]... CERT KEY\n"
"       ca-renew --ca-url URL --root FILE [OPTION]... CERT KEY\n"
"       ca-renew --daemon (-d DIR | --ca-url URL --root FILE) [OPTION]... CERT KEY\n"
"Renew the certificate in CERT, whose key is KEY, once it is due: a new\n"
"certificate with the same names and lifetime and a new serial, written\n"
"over CERT with the intermediate. With --ca-url, the CA's server renews it,\n"
"over mutual TLS with CERT and KEY. Exits 3 when it is not due yet.\n"
"With --daemon, keeps running and renews CERT whenever it is due.\n"
"\n"
"  -d, --state-dir DIR        the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL           the CA's server, https://HOST[:PORT]\n"
"      --root FILE            the CA's root certificate, the only one trusted\n"
"                             for --ca-url (see ca-bootstrap)\n"
"      --context NAME         the CA of the client defaults' context NAME\n"
"      --no-mtls              with --ca-url: prove the key with an x5c token\n"
"                             (Authorization: Bearer), not with mutual TLS\n"
"                             (done anyway when CERT is not valid now)\n"
"      --expires-in DURATION  due when less than DURATION is left (default: a\n"
"                             third of its lifetime; up to a tenth more, at\n"
"                             random)\n"
"      --force                renew now, however long is left\n"
"      --daemon               keep running: renew CERT each time it is due,\n"
"                             retry failures with growing delays; ends on\n"
"                             SIGTERM or SIGINT, renews at once on SIGHUP\n"
"      --renew-period DURATION  with --daemon: renew once CERT is DURATION\n"
"                             old, not by --expires-in\n"
"      --rekey                a new key too, of the same kind as KEY\n"
"      --key-out FILE         with --rekey: where the new key goes (mode\n"
"                             0600; may be KEY), once renewed\n"
"      --exec COMMAND         run COMMAND after a renewal, split at spaces,\n"
"                             without a shell: 'systemctl reload nginx'\n"
"                             (empty: none)\n"
"      --pid-file FILE        after a renewal, send --signal to the process\n"
"                             whose id FILE holds\n"
"      --signal SIG           with --pid-file: the signal, a name or number\n"
"                             (default HUP)\n"
"      --password-file FILE   password of the intermediate key, if encrypted\n"
"  -o, --output-file FILE     write the certificate chain to FILE (- for\n"
"                             standard output), not over CERT\n"
"  -q, --quiet                no warnings\n"
"  -v, --verbose              say more\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"Exit status: 0 renewed, 1 failure (refused by the CA, or COMMAND failed\n"
"after the renewal), 2 usage error, 3 not due yet, 4 database busy or CA\n"
"unreachable (retry). --daemon exits 0 on SIGTERM or SIGINT, else\n"
"as above once CERT has expired without being renewed.\n";

#define MAX_ARGS 64

static struct {
	struct ca_renew_args r;
	const char	*exec, *pid_file, *signal;
	char		*cmd, *cmdv[MAX_ARGS + 1];
	int		 daemon, sig;
	long long	 period;
} o = { .r.expires_in = -1, .sig = SIGHUP };

static const struct ca_cli_opt opts[] = {
	CA_OPT("no-mtls", 0, FLAG, &o.r.no_mtls),
	CA_OPT("expires-in", 0, DURATION, &o.r.expires_in),
	CA_OPT("force", 0, FLAG, &o.r.force),
	CA_OPT("rekey", 0, FLAG, &o.r.rekey),
	CA_OPT("key-out", 0, STRING, &o.r.key_out),
	CA_OPT("exec", 0, STRING, &o.exec),
	CA_OPT("daemon", 0, FLAG, &o.daemon),
	CA_OPT("renew-period", 0, DURATION, &o.period),
	CA_OPT("pid-file", 0, STRING, &o.pid_file),
	CA_OPT("signal", 0, STRING, &o.signal),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->argc < 2)
		return ca_cli_usage("CERT and KEY are required");
	if (o.r.rekey != (o.r.key_out != NULL))
		return ca_cli_usage(o.r.rekey ? "--rekey needs --key-out" :
		    "--key-out needs --rekey");
	if (o.r.key_out != NULL && strcmp(o.r.key_out, "-") == 0)
		return ca_cli_usage("--key-out needs a file name");
	if (o.signal != NULL && o.pid_file == NULL)
		return ca_cli_usage("--signal needs --pid-file");
	if (o.signal != NULL && ca_exec_signal_parse(o.signal, &o.sig) != 0)
		return ca_cli_usage("--signal: %s", ca_errmsg());
	if (ca_cli_given(cli, "renew-period") && !o.daemon)
		return ca_cli_usage("--renew-period needs --daemon");
	if (ca_cli_given(cli, "renew-period") && o.r.expires_in >= 0)
		return ca_cli_usage("--renew-period excludes --expires-in");
	if (ca_cli_given(cli, "renew-period") && o.period == 0)
		return ca_cli_usage("--renew-period must not be 0");
	/* The daemon reads the next renewal from CERT and KEY. */
	if (o.daemon && o.r.key_out != NULL &&
	    strcmp(o.r.key_out, cli->argv[1]) != 0)
		return ca_cli_usage("--daemon with --rekey needs --key-out KEY");
	return 0;
}

static int
post(struct ca_cli *cli)
{
	if (cli->url == NULL && o.r.no_mtls)
		return ca_cli_usage("--no-mtls needs --ca-url");
	if (o.daemon && cli->out != NULL)
		return ca_cli_usage("--daemon renews CERT in place: no -o");
	return 0;
}

/* What follows a renewal: --exec, then --signal to --pid-file. */
static int
after(void *arg)
{
	char *first = NULL;
	int rc = 0, rk;

	(void)arg;
	if (o.cmd != NULL)
		rc = ca_exec_run(o.cmdv);
	/* Sent even after a failed COMMAND, whose failure is told. */
	if (o.pid_file == NULL)
		return rc;
	if (rc != 0 && (first = strdup(ca_errmsg())) == NULL)
		return rc;
	if ((rk = ca_exec_kill(o.pid_file, o.sig)) != 0)
		ca_err_context("the certificate was renewed, but --pid-file");
	if (first != NULL) {
		ca_err(rc, "%s", first);
		free(first);
	}
	return rc != 0 ? rc : rk;
}

/* The daemon's renewal: now, whatever is left. */
static int
renew_now(void *arg)
{
	struct ca_sign_result res;
	int rc;

	(void)arg;
	o.r.force = 1;
	o.r.now = time(NULL);
	rc = ca_renew_args_run(&o.r, &res);
	ca_sign_result_free(&res);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_PASS_LOCAL | CA_CLI_OUT,
	    .opts = opts, .maxargs = 2, .pre = pre, .post = post };
	struct ca_renew_daemon d = { .expires_in = -1, .renew = renew_now,
	    .after = after };
	struct ca_sign_result res;
	int rc;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (o.exec != NULL &&
	    ca_exec_split(o.exec, &o.cmd, o.cmdv, MAX_ARGS) != 0)
		return ca_cli_usage("--exec: %s", ca_errmsg());
	o.r.cert = d.cert = cli.argv[0];
	o.r.key_file = d.key = cli.argv[1];
	o.r.now = cli.now;
	o.r.dir = cli.dir;
	o.r.url = cli.url;
	o.r.root = cli.root;
	o.r.pass_file = cli.pass_file;
	o.r.out = cli.out;
	if (o.daemon) {
		d.expires_in = o.r.expires_in;
		d.renew_period = o.period;
		d.force = o.r.force;
		rc = ca_renew_daemon_run(&d);
	} else {
		if ((rc = ca_renew_args_run(&o.r, &res)) == 0)
			rc = after(NULL);
		ca_sign_result_free(&res);
	}
	free(o.cmd);
	return rc == 1 ? CA_EXIT_NOTHING : rc != 0 ? ca_cli_fail(rc) :
	    CA_EXIT_OK;
}
