/*
 * ca-bootstrap - fetch a CA's root certificate by its fingerprint.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "cli.h"
#include "client.h"

static const char usage[] =
"Usage: ca-bootstrap --ca-url URL --fingerprint FP [-o FILE]\n"
"Fetch the root certificate of the CA at URL, check that its SHA-256\n"
"fingerprint is FP and that the server holds a certificate issued under it,\n"
"and print it (PEM): the --root of the online ca-token and ca-sign.\n"
"\n"
"      --ca-url URL             the CA, https://HOST[:PORT]\n"
"      --fingerprint FP         the root's SHA-256 fingerprint, as ca-init\n"
"                               prints it (64 hex digits, colons allowed)\n"
"  -o, --output-file FILE       write the root to FILE (mode 0644), not stdout\n"
"  -q, --quiet                  no warnings\n"
"  -v, --verbose                say more\n"
"  -h, --help                   show this help and exit\n"
"  -V, --version                show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure (fingerprint mismatch, untrusted server),\n"
"2 usage error, 4 CA unreachable (retry).\n";

static const char *fp;

static const struct ca_cli_opt opts[] = {
	CA_OPT("fingerprint", 0, STRING, &fp),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->url == NULL || fp == NULL)
		return ca_cli_usage("--ca-url and --fingerprint are required");
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_URL |
	    CA_CLI_OUT, .opts = opts, .pre = pre };
	char *pem = NULL, *canon = NULL;
	size_t len = 0;
	int rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (ca_client_fingerprint_parse(fp, &canon) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	free(canon);

	if ((rc = ca_client_bootstrap(cli.url, fp, &pem, &len)) != 0 ||
	    (rc = ca_file_publish(cli.out != NULL ? cli.out : "-", pem, len,
	    0644, 0)) != 0)
		status = ca_cli_fail(rc);
	else
		status = CA_EXIT_OK;
	free(pem);
	return status;
}
