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
#include "acme-eab.h"
#include "authority.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "dbfmt.h"

static const char usage[] =
"Usage: ca-db -d DIR list [--json]\n"
"       ca-db -d DIR show [--json] SERIAL\n"
"       ca-db -d DIR check\n"
"       ca-db -d DIR eab add PROVISIONER [REFERENCE]\n"
"       ca-db -d DIR eab list\n"
"       ca-db -d DIR eab revoke KID\n"
"List the certificates the CA has issued, show one (SERIAL in decimal, or\n"
"hex with 0x or colons), or audit the whole database. eab: the external\n"
"account binding keys of ACME provisioners with requireEAB: make one\n"
"(prints KID and HMAC key, base64url), list them, revoke one.\n"
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
		return ca_cli_usage("a command is required: list, show, check "
		    "or eab");
	cmd = cli->argv[0];
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "check") == 0) {
		if (cli->argc != 1)
			return ca_cli_usage("%s takes no arguments", cmd);
	} else if (strcmp(cmd, "show") == 0) {
		if (cli->argc != 2)
			return ca_cli_usage("show takes one SERIAL");
	} else if (strcmp(cmd, "eab") == 0) {
		if (cli->argc < 2)
			return ca_cli_usage("eab: add, list or revoke");
		if (strcmp(cli->argv[1], "add") == 0 ?
		    cli->argc != 3 && cli->argc != 4 :
		    strcmp(cli->argv[1], "list") == 0 ? cli->argc != 2 :
		    strcmp(cli->argv[1], "revoke") == 0 ? cli->argc != 3 : 1)
			return ca_cli_usage("eab add PROVISIONER [REFERENCE], "
			    "eab list or eab revoke KID");
		if (json)
			return ca_cli_usage("--json applies to list and show");
		return 0;
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

/* ca-db eab ...: the ACME external account binding keys. */
static int
eab(struct ca_authority *a, char **argv)
{
	struct ca_acme_eab *v = NULL;
	char *kid, *hmac, when[32];
	size_t n, i;
	int rc;

	if (strcmp(argv[1], "add") == 0) {
		if ((rc = ca_acme_eab_add(a, argv[2], argv[3], time(NULL), &kid,
		    &hmac)) != 0)
			return rc;
		printf("%s %s\n", kid, hmac);
		ca_free_secret(hmac, strlen(hmac));
		free(kid);
		return 0;
	}
	if (strcmp(argv[1], "revoke") == 0)
		return ca_acme_eab_revoke(a, argv[2]);
	if ((rc = ca_acme_eab_list(a, &v, &n)) != 0)
		return rc;
	printf("KID\tPROVISIONER\tSTATUS\tACCOUNT\tCREATED\tREFERENCE\n");
	for (i = 0; i < n; i++) {
		char *f[5];
		size_t j;

		ca_time_format(v[i].created, when, sizeof(when));
		f[0] = ca_text_escape(v[i].provisioner, "\t");
		f[1] = ca_text_escape(v[i].status, "\t");
		f[2] = ca_text_escape(v[i].account != NULL ? v[i].account : "-",
		    "\t");
		f[3] = ca_text_escape(v[i].reference != NULL ? v[i].reference :
		    "-", "\t");
		f[4] = ca_text_escape(v[i].kid, "\t");
		if (f[0] && f[1] && f[2] && f[3] && f[4])
			printf("%s\t%s\t%s\t%s\t%s\t%s\n", f[4], f[0], f[1],
			    f[2], when, f[3]);
		else
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		for (j = 0; j < 5; j++)
			free(f[j]);
	}
	ca_acme_eab_free(v, n);
	return rc;
}

/* The command in argv on a; *problems counts what check found. */
static int
run(struct ca_authority *a, char **argv, size_t *problems)
{
	struct ca_cert_info ci, *v = NULL;
	char *serial = NULL;
	size_t n = 0, i, certs = 0;
	int rc;

	if (strcmp(argv[0], "eab") == 0)
		return eab(a, argv);
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
	if (cli.argc == 2 && strcmp(cli.argv[0], "show") == 0) {
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
