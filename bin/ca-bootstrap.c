/*
 * ca-bootstrap - fetch a CA's root certificate by its fingerprint.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <getopt.h>
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

enum { O_URL = 256, O_FP };

static const struct option longopts[] = {
	{ "ca-url", required_argument, NULL, O_URL },
	{ "fingerprint", required_argument, NULL, O_FP },
	{ "output-file", required_argument, NULL, 'o' },
	CA_CLI_COMMON_OPTIONS,
};

int
main(int argc, char **argv)
{
	const char *url = NULL, *fp = NULL, *out = NULL;
	char *pem = NULL, *canon = NULL;
	size_t len = 0;
	unsigned long seen = 0;
	int ch, rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	while ((ch = getopt_long(argc, argv, "o:" CA_CLI_COMMON_SHORT, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case O_URL:
			if (ca_cli_once(&seen, 0, "ca-url"))
				return CA_EXIT_USAGE;
			url = optarg;
			break;
		case O_FP:
			if (ca_cli_once(&seen, 1, "fingerprint"))
				return CA_EXIT_USAGE;
			fp = optarg;
			break;
		case 'o':
			if (ca_cli_once(&seen, 2, "output-file"))
				return CA_EXIT_USAGE;
			out = optarg;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (optind != argc)
		return ca_cli_usage("unexpected argument '%s'", argv[optind]);
	if (url == NULL || fp == NULL)
		return ca_cli_usage("--ca-url and --fingerprint are required");
	if (ca_client_url_check(url) != 0 ||
	    ca_client_fingerprint_parse(fp, &canon) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	free(canon);

	if ((rc = ca_client_bootstrap(url, fp, &pem, &len)) != 0 ||
	    (rc = ca_file_publish(out != NULL ? out : "-", pem, len,
	    0644, 0)) != 0)
		status = ca_cli_fail(rc);
	else
		status = CA_EXIT_OK;
	free(pem);
	return status;
}
