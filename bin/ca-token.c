/*
 * ca-token - mint a one-time token (JWT) from a JWK provisioner.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "oidc.h"
#include "token-args.h"

static const char usage[] =
"Usage: ca-token -d DIR [--provisioner NAME] (--password-file FILE | --key FILE)\n"
"                [OPTION]... SUBJECT\n"
"       ca-token --ca-url URL --root FILE [--provisioner NAME]\n"
"                (--password-file FILE | --key FILE) [OPTION]... SUBJECT\n"
"       ca-token (-d DIR | --ca-url URL --root FILE) [--provisioner NAME]\n"
"                --x5c-cert FILE --x5c-key FILE [OPTION]... SUBJECT\n"
"       ca-token (-d DIR | --ca-url URL --root FILE) --oidc [--provisioner NAME]\n"
"Print a one-time token that authorises a certificate for SUBJECT (or, with\n"
"--revoke, the revocation of serial number SUBJECT). With --ca-url, the\n"
"provisioner comes from the CA's server instead of its directory. With\n"
"--x5c-cert, an X5C provisioner's token, signed by a certificate's key. With\n"
"--oidc, log in at the OIDC provisioner's provider (the URL to open is\n"
"printed on standard error) and print the ID token.\n"
"\n"
"  -d, --state-dir DIR          the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL             the CA's server, https://HOST[:PORT]\n"
"      --root FILE              the CA's root certificate, the only one\n"
"                               trusted for --ca-url (see ca-bootstrap)\n"
"      --context NAME           the CA of the client defaults' context NAME\n"
CA_TOKEN_ARGS_HELP_KEY
"      --x5c-cert FILE          X5C: the certificate (PEM, the leaf first,\n"
"                               then its issuers) whose key signs the token\n"
"      --x5c-key FILE           X5C: that certificate's private key (PEM)\n"
"      --x5c-chain FILE         X5C: more issuer certificates (PEM)\n"
"      --san NAME               a name the certificate may carry: DNS, IP,\n"
"                               e-mail or URI (repeatable; default SUBJECT)\n"
"      --not-before TIME        token valid from TIME (RFC 3339 or duration\n"
"                               from now; default now)\n"
"      --not-after DURATION     token lifetime (default 5m, at most 1h)\n"
"      --revoke                 a revocation token: SUBJECT is a serial\n"
"      --oidc                   an ID token from the OIDC provisioner's\n"
"                               provider (browser login, 120 s at most)\n"
"  -o, --output-file FILE       write the token to FILE (mode 0600)\n"
"  -q, --quiet                  no warnings\n"
"  -v, --verbose                say more\n"
"  -h, --help                   show this help and exit\n"
"  -V, --version                show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 CA unreachable (retry).\n";

static struct ca_token_args o;
static int oidc;

/* --san, repeatable. */
static int
add_san(char *arg, void *dest)
{
	(void)dest;
	if (ca_token_args_san(&o, arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("provisioner", 0, STRING, &o.provisioner),
	CA_OPT("key", 0, STRING, &o.key_file),
	{ "san", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, add_san, 0, 0 },
	CA_OPT("not-before", 0, TIME, &o.not_before),
	CA_OPT("not-after", 0, DURATION, &o.lifetime),
	CA_OPT("revoke", 0, FLAG, &o.revoke),
	CA_OPT("x5c-cert", 0, STRING, &o.x5c_cert),
	CA_OPT("x5c-key", 0, STRING, &o.x5c_key),
	CA_OPT("x5c-chain", 0, STRING, &o.x5c_chain),
	CA_OPT("oidc", 0, FLAG, &oidc),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (oidc && (cli->argc != 0 || o.key_file != NULL || o.n_sans > 0 ||
	    o.revoke || cli->pass_file != NULL ||
	    ca_cli_given(cli, "not-after") || ca_cli_given(cli, "not-before")))
		return ca_cli_usage("--oidc takes --provisioner alone");
	if (oidc)
		return 0;
	if (cli->argc != 1)
		return ca_cli_usage(cli->argc == 0 ? "SUBJECT is required" :
		    "only one SUBJECT");
	o.lifetime_given = ca_cli_given(cli, "not-after");
	o.pass_file = cli->pass_file;
	if (ca_token_args_check(&o) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

/* --oidc: the URL to open on stderr, the ID token in *tok. */
static int
oidc_login(struct ca_authority *a, char **tok)
{
	struct ca_oidc_login *l;
	char *url;
	int rc;

	if ((rc = ca_oidc_login_start(a, o.provisioner, &l, &url)) != 0)
		return rc;
	fprintf(stderr, "Open this URL in a browser to log in:\n%s\n", url);
	fflush(stderr);
	free(url);
	return ca_oidc_login_wait(l, 120, tok);
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_OUT, .opts = opts, .maxargs = -1,
	    .pre = pre };
	struct ca_authority *a = NULL;
	char *tok = NULL, *line = NULL;
	int rc, status;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	o.subject = cli.argv[0];
	o.now = cli.now;
	/* Refuse now the names ca-sign would refuse later. */
	if (!oidc && ca_token_args_names(&o) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	/* Offline, the configuration alone: no store, no lock file. */
	rc = cli.url != NULL ? ca_authority_open_remote(cli.url, cli.root, &a) :
	    ca_authority_open_config(cli.dir, &a);
	if (rc == 0 && (rc = oidc ? oidc_login(a, &tok) :
	    ca_token_args_mint(&o, a, &tok)) == 0) {
		if (asprintf(&line, "%s\n", tok) < 0) {
			line = NULL;
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		} else
			rc = ca_file_publish(cli.out ? cli.out : "-", line,
			    strlen(line), 0600, 0);
	}
	status = rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
	ca_authority_close(a);
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	if (line != NULL)
		ca_free_secret(line, strlen(line));
	return status;
}
