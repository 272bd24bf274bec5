/*
 * ca-renew - renew a certificate once it is due, from cron or a timer.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "exec.h"
#include "leafout.h"
#include "renew-args.h"

static const char usage[] =
"Usage: ca-renew -d DIR [OPTION]... CERT KEY\n"
"       ca-renew --ca-url URL --root FILE [OPTION]... CERT KEY\n"
"Renew the certificate in CERT, whose key is KEY, once it is due: a new\n"
"certificate with the same names and lifetime and a new serial, written\n"
"over CERT with the intermediate. With --ca-url, the CA's server renews it,\n"
"over mutual TLS with CERT and KEY. Exits 3 when it is not due yet.\n"
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
"      --rekey                a new key too, of the same kind as KEY\n"
"      --key-out FILE         with --rekey: where the new key goes (mode\n"
"                             0600; may be KEY), once renewed\n"
"      --exec COMMAND         run COMMAND after a renewal, split at spaces,\n"
"                             without a shell: 'systemctl reload nginx'\n"
"                             (empty: none)\n"
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
"unreachable (retry).\n";

#define MAX_ARGS 64

static struct {
	struct ca_renew_args r;
	const char	*key_out, *exec;
	char		*cmd, *cmdv[MAX_ARGS + 1];
} o = { .r.expires_in = -1 };

static const struct ca_cli_opt opts[] = {
	CA_OPT("no-mtls", 0, FLAG, &o.r.no_mtls),
	CA_OPT("expires-in", 0, DURATION, &o.r.expires_in),
	CA_OPT("force", 0, FLAG, &o.r.force),
	CA_OPT("rekey", 0, FLAG, &o.r.rekey),
	CA_OPT("key-out", 0, STRING, &o.key_out),
	CA_OPT("exec", 0, STRING, &o.exec),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->argc < 2)
		return ca_cli_usage("CERT and KEY are required");
	if (o.r.rekey != (o.key_out != NULL))
		return ca_cli_usage(o.r.rekey ? "--rekey needs --key-out" :
		    "--key-out needs --rekey");
	if (o.key_out != NULL && strcmp(o.key_out, "-") == 0)
		return ca_cli_usage("--key-out needs a file name");
	return 0;
}

static int
post(struct ca_cli *cli)
{
	if (cli->url == NULL && o.r.no_mtls)
		return ca_cli_usage("--no-mtls needs --ca-url");
	return 0;
}

/* Renew at the CA cli names with the request o.r holds. */
static int
renew(const struct ca_cli *cli, struct ca_sign_result *res)
{
	struct ca_authority *a = NULL;
	int rc;

	if ((rc = ca_cli_open_target(cli->dir, cli->url, cli->root,
	    cli->pass_file, CA_CLI_KEY, &a)) == 0)
		rc = ca_authority_renew(a, &o.r.req, res);
	ca_authority_close(a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_PASS_LOCAL | CA_CLI_OUT,
	    .opts = opts, .maxargs = 2, .pre = pre, .post = post };
	struct ca_sign_result res;
	struct ca_leafout lo;
	int rc, status;

	ca_cli_init(argv);
	memset(&res, 0, sizeof(res));
	memset(&lo, 0, sizeof(lo));
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (o.exec != NULL &&
	    ca_exec_split(o.exec, &o.cmd, o.cmdv, MAX_ARGS) != 0)
		return ca_cli_usage("--exec: %s", ca_errmsg());
	o.r.cert = cli.argv[0];
	o.r.key_file = cli.argv[1];
	o.r.now = cli.now;

	/* 1: not due yet. */
	if ((rc = ca_renew_args_load(&o.r)) == 0 &&
	    (rc = ca_leafout_prepare(&lo, o.r.cert, cli.out, o.key_out,
	    0)) == 0 && (rc = ca_renew_args_request(&o.r)) == 0 &&
	    (rc = renew(&cli, &res)) == 0 &&
	    (rc = ca_renew_args_check(&o.r, &res)) == 0 &&
	    (rc = ca_leafout_publish(&lo, &res, o.r.key, o.r.key_len)) == 0) {
		ca_renew_args_free(&o.r);	/* the new key wiped */
		if (o.cmd != NULL)
			rc = ca_exec_run(o.cmdv);
	}
	status = rc == 1 ? CA_EXIT_NOTHING : rc != 0 ? ca_cli_fail(rc) :
	    CA_EXIT_OK;
	ca_renew_args_free(&o.r);
	ca_sign_result_free(&res);
	ca_leafout_free(&lo);
	free(o.cmd);
	return status;
}
