/*
 * ca-inspect - show a certificate, a CSR or a token, readable or as JSON,
 * or tell whether a certificate is due for renewal.
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
#include "inspect.h"

static const char usage[] =
"Usage: ca-inspect [OPTION]... FILE\n"
"Show what FILE (- for standard input) holds: a certificate (PEM or DER;\n"
"each one of a PEM bundle), a certificate request, or a token (JWT: its\n"
"header and claims, the signature NOT verified). Every value is escaped:\n"
"one field a line.\n"
"\n"
"      --json                 one JSON value (an array for several PEM\n"
"                             blocks), with the field names of step\n"
"      --needs-renewal        print nothing; exit 0 when the certificate is\n"
"                             due for renewal by ca-renew's rule, 1 when not,\n"
"                             2 on an error\n"
"      --expires-in DURATION  with --needs-renewal: due when less than\n"
"                             DURATION is left (default: a third of its\n"
"                             lifetime; up to a tenth more, at random)\n"
"  -q, --quiet                no warnings\n"
"  -v, --verbose              say more\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure (FILE unreadable or not understood),\n"
"2 usage error. With --needs-renewal: 0 due, 1 not due, 2 error.\n";

static struct {
	int		 json, needs_renewal;
	long long	 expires_in;
} o = { .expires_in = -1 };

static const struct ca_cli_opt opts[] = {
	CA_OPT("json", 0, FLAG, &o.json),
	CA_OPT("needs-renewal", 0, FLAG, &o.needs_renewal),
	CA_OPT("expires-in", 0, DURATION, &o.expires_in),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->argc < 1)
		return ca_cli_usage("FILE is required");
	if (o.json && o.needs_renewal)
		return ca_cli_usage("--json and --needs-renewal exclude each "
		    "other");
	if (ca_cli_given(cli, "expires-in") && !o.needs_renewal)
		return ca_cli_usage("--expires-in needs --needs-renewal");
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = 0, .opts = opts,
	    .maxargs = 1, .pre = pre };
	char *buf = NULL, *out = NULL;
	size_t len;
	int rc, status;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	rc = ca_file_read(cli.argv[0], CA_INSPECT_MAX_FILE, &buf, &len);
	if (o.needs_renewal) {
		if (rc == 0)
			rc = ca_inspect_due(buf, len, cli.argv[0],
			    o.expires_in, cli.now);
		/* step certificate needs-renewal's statuses. */
		status = rc == 1 ? 0 : rc == 0 ? 1 : 2;
		if (rc < 0)
			(void)ca_cli_fail(rc);
	} else {
		if (rc == 0 && (rc = ca_inspect(buf, len, cli.argv[0],
		    cli.now, o.json, &out)) == 0 &&
		    (rc = ca_write_all(1, out, strlen(out))) == 0)
			status = CA_EXIT_OK;
		else
			status = ca_cli_fail(rc);
	}
	free(buf);
	free(out);
	return status;
}
