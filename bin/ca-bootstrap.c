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
#include "defaults.h"

static const char usage[] =
"Usage: ca-bootstrap --ca-url URL --fingerprint FP [-o FILE]\n"
"       ca-bootstrap --ca-url URL --fingerprint FP --install [--context NAME]\n"
"                    [--force]\n"
"       ca-bootstrap [--context NAME] [-o FILE]\n"
"Fetch the root certificate of the CA at URL, check that its SHA-256\n"
"fingerprint is FP and that the server holds a certificate issued under it,\n"
"and print it (PEM): the --root of the online ca-token and ca-sign. With\n"
"--install, keep it and the CA as the client defaults instead. Without\n"
"--ca-url, check the CA of the defaults the same way.\n"
"\n"
"      --ca-url URL             the CA, https://HOST[:PORT]\n"
"      --fingerprint FP         the root's SHA-256 fingerprint, as ca-init\n"
"                               prints it (64 hex digits, colons allowed)\n"
"      --install                write the root and the defaults (ca-url,\n"
"                               fingerprint, root) that the online tools use\n"
"                               when given no CA, under ~/.config/ca-tools\n"
"      --context NAME           the defaults of context NAME; with --install,\n"
"                               made the current context\n"
"      --force                  with --install, replace the defaults of\n"
"                               another CA\n"
"  -o, --output-file FILE       write the root to FILE (mode 0644), not stdout\n"
"  -q, --quiet                  no warnings\n"
"  -v, --verbose                say more\n"
"  -h, --help                   show this help and exit\n"
"  -V, --version                show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure (fingerprint mismatch, untrusted server,\n"
"other defaults without --force), 2 usage error, 4 CA unreachable (retry).\n";

static const char *fp, *context;
static int install, force;

static const struct ca_cli_opt opts[] = {
	CA_OPT("fingerprint", 0, STRING, &fp),
	CA_OPT("install", 0, FLAG, &install),
	CA_OPT("context", 0, STRING, &context),
	CA_OPT("force", 0, FLAG, &force),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (context != NULL && ca_defaults_context_check(context) != 0)
		return ca_cli_usage("--context: %s", ca_errmsg());
	if (force && !install)
		return ca_cli_usage("--force needs --install");
	if (context != NULL && cli->url != NULL && !install)
		return ca_cli_usage("--context with --ca-url needs --install");
	if (install && cli->out != NULL)
		return ca_cli_usage("--install and --output-file exclude each other");
	if ((cli->url == NULL) != (fp == NULL) || (install && cli->url == NULL))
		return ca_cli_usage("--ca-url and --fingerprint are required%s",
		    install || fp != NULL ? "" : " (or client defaults)");
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_URL |
	    CA_CLI_OUT, .opts = opts, .pre = pre };
	struct ca_defaults *d = NULL, *w = NULL;
	char *pem = NULL, *canon = NULL;
	size_t len = 0;
	int rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	/* No CA given: the defaults' CA, checked again by its fingerprint. */
	if (cli.url == NULL) {
		if ((rc = ca_defaults_load(context, &d)) == CA_ERR_NOTFOUND)
			return ca_cli_usage("--ca-url and --fingerprint are "
			    "required (no client defaults)");
		if (rc != 0)
			return ca_cli_fail(rc);
		cli.url = d->url;
		fp = d->fp;
		ca_debug("CA %s, fingerprint %s (%s)", d->url, d->fp, d->file);
	}
	if (ca_client_fingerprint_parse(fp, &canon) != 0) {
		ca_defaults_free(d);
		return ca_cli_usage("%s", ca_errmsg());
	}
	free(canon);

	if ((rc = ca_client_bootstrap(cli.url, fp, &pem, &len)) == 0)
		rc = install ? ca_defaults_install(context, cli.url, fp, pem,
		    len, force, &w) : ca_file_publish(cli.out != NULL ?
		    cli.out : "-", pem, len, 0644, 0);
	if (rc == 0 && w != NULL)
		ca_debug("root in %s, defaults in %s%s%s", w->root, w->file,
		    w->context != NULL ? ", current context " : "",
		    w->context != NULL ? w->context : "");
	status = rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
	ca_defaults_free(d);
	ca_defaults_free(w);
	free(pem);
	return status;
}
