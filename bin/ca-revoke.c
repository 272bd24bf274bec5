/*
 * ca-revoke - revoke a certificate, offline or through the CA's server.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "crl.h"
#include "db.h"
#include "revoke-args.h"

static const char usage[] =
"Usage: ca-revoke -d DIR [--reason REASON] [--reason-text TEXT] SERIAL\n"
"       ca-revoke --ca-url URL --root FILE [--reason REASON]\n"
"                 [--reason-text TEXT] --token-file FILE SERIAL\n"
"       ca-revoke --ca-url URL --root FILE [--reason REASON]\n"
"                 [--reason-text TEXT] --cert FILE --key FILE [SERIAL]\n"
"       ca-revoke -d DIR --crl [--password-file FILE] [-o FILE]\n"
"Revoke the certificate with serial number SERIAL (decimal, or hex with 0x\n"
"or colons): for good, it can no longer be renewed. Offline, the operator\n"
"of the state directory may revoke any; through the CA's server, a revoke\n"
"token (ca-token --revoke) or the certificate itself (mutual TLS) is\n"
"needed. With --crl, write the certificate revocation list instead.\n"
"\n"
"  -d, --state-dir DIR        the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL           the CA's server, https://HOST[:PORT]\n"
"      --root FILE            the CA's root certificate, the only one trusted\n"
"                             for --ca-url (see ca-bootstrap)\n"
"      --context NAME         the CA of the client defaults' context NAME\n"
"      --token-file FILE      the revoke token (- for standard input)\n"
"      --cert FILE            with --key: the certificate to revoke, which\n"
"                             proves itself over mutual TLS (SERIAL: its own)\n"
"      --key FILE             the private key of --cert\n"
"      --reason REASON        an RFC 5280 reason: a name such as\n"
"                             keyCompromise, superseded, cessationOfOperation\n"
"                             or a code (0-10 but 7)\n"
"      --reason-text TEXT     why, in words, for the record (256 bytes at most)\n"
"      --crl                  write the CRL (DER) signed by the intermediate\n"
"      --password-file FILE   with --crl: password of the intermediate key\n"
"  -o, --output-file FILE     with --crl: write it to FILE, not stdout\n"
"  -q, --quiet                no warnings\n"
"  -v, --verbose              say more\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure (refused: unknown serial, already\n"
"revoked, not authorised), 2 usage error, 4 database busy or CA unreachable\n"
"(retry).\n";

static struct ca_revoke_args o = { .reason = CA_REASON_NONE };

/* Revoke what o asks at the CA cli names, with the proof o names. */
static int
revoke(const struct ca_cli *cli)
{
	struct ca_authority *a = NULL;
	char *canon = NULL;
	int rc;

	if ((rc = ca_revoke_args_request(&o)) == 0 &&
	    (rc = ca_cli_open_target(cli->dir, cli->url, cli->root, NULL,
	    CA_CLI_PUBLIC, &a)) == 0 &&
	    (rc = ca_authority_revoke(a, &o.req, &canon)) == 0)
		ca_debug("revoked %s (%s)", canon, o.reason == CA_REASON_NONE ?
		    "no reason code" : ca_reason_name(o.reason));
	ca_authority_close(a);
	ca_revoke_args_free(&o);
	free(canon);
	return rc;
}

/* The current CRL (a new one when revocations or time call for it). */
static int
write_crl(const char *dir, const char *pass_file, const char *out)
{
	struct ca_authority *a = NULL;
	struct ca_db_crl crl;
	int rc;

	memset(&crl, 0, sizeof(crl));
	if ((rc = ca_cli_open_authority(dir, pass_file, &a)) != 0)
		return rc;
	if ((rc = ca_authority_crl(a, time(NULL), 0, &crl)) == 0 &&
	    (rc = ca_file_publish(out, crl.der, crl.len, 0644, 0)) == 0)
		ca_debug("CRL number %llu, next update %lld",
		    (unsigned long long)crl.number, (long long)crl.next_update);
	free(crl.der);
	ca_authority_close(a);
	return rc;
}

static int
reason(char *arg, void *dest)
{
	if (ca_reason_parse(arg, dest) != 0)
		return ca_cli_usage("--reason: %s", ca_errmsg());
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("token-file", 0, STRING, &o.token_file),
	CA_OPT("cert", 0, STRING, &o.cert),
	CA_OPT("key", 0, STRING, &o.key),
	CA_OPT_FN("reason", 0, reason, &o.reason),
	CA_OPT("reason-text", 0, STRING, &o.reason_text),
	CA_OPT("crl", 0, FLAG, &o.crl),
	CA_OPT_END,
};

static int
post(struct ca_cli *cli)
{
	o.serial = cli->argc == 1 ? cli->argv[0] : NULL;
	o.online = cli->url != NULL;
	o.output = cli->out != NULL;
	o.password = cli->pass_file != NULL;
	if (ca_revoke_args_check(&o) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_OUT, .opts = opts, .maxargs = 1,
	    .post = post };
	int rc;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (o.crl)
		rc = write_crl(cli.dir, cli.pass_file,
		    cli.out != NULL ? cli.out : "-");
	else
		rc = revoke(&cli);
	return rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
}
