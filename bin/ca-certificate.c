/*
 * ca-certificate - a key and its certificate in one command, as
 * `step ca certificate` does: token, key, CSR, certificate.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <string.h>

#include "ca.h"
#include "authority.h"
#include "certificate-args.h"
#include "cli.h"
#include "token-args.h"

static const char usage[] =
"Usage: ca-certificate [-d DIR | --ca-url URL --root FILE | --context NAME]\n"
"                      (--password-file FILE | --key FILE) [OPTION]...\n"
"                      NAME CRT KEY\n"
"Make a key, get a certificate for NAME from the CA with a token of its JWK\n"
"provisioner, and write the certificate with the intermediate to CRT and the\n"
"key to KEY (mode 0600); on failure neither is written. Given no CA, the\n"
"client defaults of ca-bootstrap --install are used.\n"
"\n"
"  -d, --state-dir DIR          the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL             the CA's server, https://HOST[:PORT]\n"
"      --root FILE              the CA's root certificate, the only one\n"
"                               trusted for --ca-url (see ca-bootstrap)\n"
"      --context NAME           the CA of the client defaults' context NAME\n"
CA_TOKEN_ARGS_HELP_KEY
"      --ca-password-file FILE  with -d: password of the intermediate key,\n"
"                               if encrypted\n"
"      --san NAME               a name of the certificate: DNS, IP, e-mail or\n"
"                               URI (repeatable; default NAME)\n"
"      --key-type TYPE          ec-p256, ec-p384, ed25519 or rsa-3072\n"
"                               (default: the CA's, else ec-p256)\n"
"      --not-before TIME        start of validity: RFC 3339 or a duration\n"
"                               from now (default now less the backdate)\n"
"      --not-after TIME         end of validity: RFC 3339 or a duration from\n"
"                               now (default: the provisioner's, 24h)\n"
"      --force                  replace CRT and KEY if they exist\n"
"  -q, --quiet                  no warnings\n"
"  -v, --verbose                say more\n"
"  -h, --help                   show this help and exit\n"
"  -V, --version                show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 database busy or CA\n"
"unreachable (retry).\n";

static struct ca_certificate_args o = { .sign = { .key_type = CA_KEY_EC_P256 } };
static const char *ca_pass;

/* --san, repeatable. */
static int
add_san(char *arg, void *dest)
{
	(void)dest;
	if (ca_token_args_san(&o.tok, arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("provisioner", 0, STRING, &o.tok.provisioner),
	CA_OPT("key", 0, STRING, &o.tok.key_file),
	CA_OPT("ca-password-file", 0, STRING, &ca_pass),
	{ "san", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, add_san, 0, 0 },
	CA_OPT("key-type", 0, KEYTYPE, &o.sign.key_type),
	CA_OPT("not-before", 0, TIME, &o.sign.not_before),
	CA_OPT("not-after", 0, TIME, &o.sign.not_after),
	CA_OPT("force", 0, FLAG, &o.force),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->argc != 3)
		return ca_cli_usage("NAME, CRT and KEY are required");
	o.tok.subject = cli->argv[0];
	o.crt = cli->argv[1];
	o.sign.key_out = cli->argv[2];
	o.tok.pass_file = cli->pass_file;
	o.sign.key_type_given = ca_cli_given(cli, "key-type");
	if (ca_certificate_args_check(&o) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static int
post(struct ca_cli *cli)
{
	if (ca_pass != NULL && cli->url != NULL)
		return ca_cli_usage("--ca-password-file is for the CA's key: not online");
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS, .opts = opts, .maxargs = -1, .pre = pre,
	    .post = post };
	struct ca_authority *a = NULL;
	struct ca_sign_result res;
	int rc;

	ca_cli_init(argv);
	memset(&res, 0, sizeof(res));
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	o.tok.now = cli.now;
	if ((rc = ca_cli_open_target(cli.dir, cli.url, cli.root, ca_pass,
	    CA_CLI_KEY, &a)) == 0)
		rc = ca_certificate_args_run(&o, a, &res);
	ca_authority_close(a);
	ca_sign_result_free(&res);
	return rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
}
