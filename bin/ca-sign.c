/*
 * ca-sign - turn a CSR and a one-time token into a certificate.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "keys.h"
#include "leafout.h"
#include "sign-args.h"

static const char usage[] =
"Usage: ca-sign -d DIR --token-file FILE (--csr FILE | --key-out FILE) [OPTION]...\n"
"       ca-sign --ca-url URL --root FILE --token-file FILE\n"
"               (--csr FILE | --key-out FILE) [OPTION]...\n"
"Verify the token, then the CSR, issue a certificate, record it, and print\n"
"the certificate followed by the intermediate (PEM). With --ca-url, the\n"
"CA's server does that.\n"
"\n"
"  -d, --state-dir DIR        the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL           the CA's server, https://HOST[:PORT]\n"
"      --root FILE            the CA's root certificate, the only one trusted\n"
"                             for --ca-url (see ca-bootstrap)\n"
"      --context NAME         the CA of the client defaults' context NAME\n"
"      --token-file FILE      the one-time token (- for standard input)\n"
"      --csr FILE             the certificate signing request, PEM or DER\n"
"                             (- for standard input)\n"
"      --key-out FILE         make the key (type as the CA's default) and the\n"
"                             CSR here, from the token's subject and names;\n"
"                             the key is written to FILE (mode 0600)\n"
"      --key-type TYPE        with --ca-url and --key-out: ec-p256 (default),\n"
"                             ec-p384, ed25519 or rsa-3072\n"
"      --not-before TIME      start of validity: RFC 3339 or a duration from\n"
"                             now (default now less authority.backdate, 1m)\n"
"      --not-after TIME       end of validity: RFC 3339 or a duration from now\n"
"                             (default: the provisioner's, 24h)\n"
"      --password-file FILE   password of the intermediate key, if encrypted\n"
"  -o, --output-file FILE     write the certificate chain to FILE, not stdout\n"
"  -q, --quiet                no warnings\n"
"  -v, --verbose              say more\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 database busy or CA\n"
"unreachable (retry).\n";

static struct ca_sign_args o = { .key_type = CA_KEY_EC_P256 };

static const struct ca_cli_opt opts[] = {
	CA_OPT("token-file", 0, STRING, &o.token_file),
	CA_OPT("csr", 0, STRING, &o.csr_file),
	CA_OPT("key-out", 0, STRING, &o.key_out),
	CA_OPT("key-type", 0, KEYTYPE, &o.key_type),
	CA_OPT("not-before", 0, TIME, &o.not_before),
	CA_OPT("not-after", 0, TIME, &o.not_after),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	(void)cli;
	if (ca_sign_args_check(&o) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static int
post(struct ca_cli *cli)
{
	o.key_type_given = ca_cli_given(cli, "key-type");
	if (o.key_type_given && (cli->url == NULL || o.key_out == NULL))
		return ca_cli_usage("--key-type needs --ca-url and --key-out (offline, the CA's key type is used)");
	return 0;
}

/* Sign with the CA cli names; with --key-out, the key is made here first. */
static int
sign(const struct ca_cli *cli, struct ca_sign_result *res)
{
	struct ca_authority *a = NULL;
	int rc;

	if ((rc = ca_cli_open_target(cli->dir, cli->url, cli->root,
	    cli->pass_file, CA_CLI_KEY, &a)) == 0 &&
	    (rc = ca_sign_args_keygen(&o, a)) == 0 &&
	    (rc = ca_authority_sign(a, &o.req, res)) == 0)
		ca_debug("issued serial %s for \"%s\" (%s)", res->serial,
		    res->subject, cli->url != NULL ? cli->url : cli->dir);
	ca_authority_close(a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_PASS_LOCAL | CA_CLI_OUT,
	    .opts = opts, .pre = pre, .post = post };
	struct ca_sign_result res;
	struct ca_leafout lo;
	int rc;

	ca_cli_init(argv);
	memset(&res, 0, sizeof(res));
	memset(&lo, 0, sizeof(lo));
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	/* Refuse what would fail after signing before the token is spent. */
	if ((rc = ca_leafout_prepare(&lo, NULL, cli.out, o.key_out,
	    CA_PUBLISH_NEW)) == 0 && (rc = ca_sign_args_read(&o)) == 0 &&
	    (rc = sign(&cli, &res)) == 0)
		rc = ca_leafout_publish(&lo, &res, o.key, o.key_len);
	ca_sign_args_free(&o);
	ca_sign_result_free(&res);
	ca_leafout_free(&lo);
	return rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
}
