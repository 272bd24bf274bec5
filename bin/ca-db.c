/*
 * ca-db - list, show and audit what the CA has issued.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "dbfmt.h"

static const char usage[] =
"Usage: ca-db -d DIR list [--json]\n"
"       ca-db -d DIR show [--json] SERIAL\n"
"       ca-db -d DIR check\n"
"List the certificates the CA has issued, show one (SERIAL in decimal, or\n"
"hex with 0x or colons), or audit the whole database.\n"
"\n"
"  -d, --state-dir DIR   the CA's directory (default $CA_STATE_DIR)\n"
"      --json            JSON output\n"
"  -q, --quiet           check: print only problems\n"
"  -v, --verbose         say more\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure (check: problems found), 2 usage error,\n"
"4 database busy (retry).\n";

static int json;

static const struct ca_cli_opt opts[] = {
	CA_OPT("json", 0, FLAG, &json),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	const char *cmd;

	if (cli->argc == 0)
		return ca_cli_usage("a command is required: list, show or check");
	cmd = cli->argv[0];
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "check") == 0) {
		if (cli->argc != 1)
			return ca_cli_usage("%s takes no arguments", cmd);
	} else if (strcmp(cmd, "show") == 0) {
		if (cli->argc != 2)
			return ca_cli_usage("show takes one SERIAL");
	} else
		return ca_cli_usage("unknown command '%s'", cmd);
	if (json && strcmp(cmd, "check") == 0)
		return ca_cli_usage("--json applies to list and show");
	return 0;
}

static void
report(void *arg, const char *problem)
{
	(void)arg;
	printf("%s\n", problem);
}

/* The command in argv on a; *problems counts what check found. */
static int
run(struct ca_authority *a, char **argv, size_t *problems)
{
	struct ca_cert_info ci, *v = NULL;
	char *serial = NULL;
	size_t n = 0, i, certs = 0;
	int rc;

	if (strcmp(argv[0], "list") == 0) {
		if ((rc = ca_authority_db_list(a, &v, &n)) != 0)
			return rc;
		rc = ca_dbfmt_list(stdout, v, n, time(NULL), json);
		for (i = 0; i < n; i++)
			ca_cert_info_free(&v[i]);
		free(v);
	} else if (strcmp(argv[0], "show") == 0) {
		if ((rc = ca_serial_canon(argv[1], &serial)) != 0)
			return rc;
		rc = ca_authority_db_get(a, serial, &ci);
		free(serial);
		if (rc != 0)
			return rc;
		rc = ca_dbfmt_show(stdout, &ci, time(NULL), json);
		ca_cert_info_free(&ci);
	} else {
		rc = ca_authority_db_check(a, report, NULL, problems, &certs);
		if (rc == 0 && (!ca_cli_quiet || *problems > 0))
			printf("%zu certificates, %zu problems\n", certs,
			    *problems);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_DIR,
	    .opts = opts, .maxargs = -1, .pre = pre };
	struct ca_authority *a = NULL;
	size_t problems = 0;
	char *canon;
	int rc;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (cli.argc == 2) {
		if (ca_serial_canon(cli.argv[1], &canon) != 0)
			return ca_cli_usage("%s", ca_errmsg());
		free(canon);
	}
	if ((rc = ca_authority_open_public(cli.dir, &a)) != 0)
		return ca_cli_fail(rc);
	rc = run(a, cli.argv, &problems);
	ca_authority_close(a);
	if (rc != 0)
		return ca_cli_fail(rc);
	if (fflush(stdout) != 0)
		return CA_EXIT_FAIL;
	return problems > 0 ? CA_EXIT_FAIL : 0;
}
