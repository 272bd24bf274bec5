/*
 * ca-revoke - revoke a certificate, offline or through the CA's server.
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
#include "client.h"
#include "conf.h"
#include "crl.h"
#include "db.h"
#include "x509.h"

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

#define MAX_REASON_TEXT 256

/*
 * Revoke serial at the CA in dir or at url. The operator of a state
 * directory may revoke anything; through a CA's server, a revoke token
 * or the certificate itself over mutual TLS authorises it.
 */
static int
revoke(const char *dir, const char *url, const char *root,
    const char *serial, const char *tok_file, const char *cert,
    const char *key, int reason, const char *text)
{
	struct ca_authority *a = NULL;
	struct ca_revoke_req req;
	struct ca_client_cert *cc = NULL;
	char *tok = NULL, *own = NULL, *canon = NULL;
	size_t toklen = 0;
	int rc;

	memset(&req, 0, sizeof(req));
	req.serial = serial;
	req.reason = reason;
	req.reason_text = text;
	if (tok_file != NULL) {
		if ((rc = ca_file_read(tok_file, CA_MAX_TOKEN, &tok,
		    &toklen)) != 0)
			goto out;
		req.token = tok;
		req.token_len = toklen;
	} else if (cert != NULL) {
		/* The key must be the certificate's: fail here, not in TLS. */
		if ((rc = ca_client_cert_load(cert, key, &cc)) != 0)
			goto out;
		if (serial == NULL) {
			if (asprintf(&own, "0x%s", cc->serial) < 0) {
				own = NULL;
				rc = ca_err(CA_ERR_NOMEM, "out of memory");
				goto out;
			}
			req.serial = own;
		}
		req.cert_path = cert;
		req.key_path = key;
		req.peer_der = cc->der[0].data;
		req.peer_len = cc->der[0].size;
	} else {
		req.trusted = 1;
		req.by = "ca-revoke -d";
	}
	if ((rc = ca_cli_open_target(dir, url, root, NULL, CA_CLI_PUBLIC,
	    &a)) != 0 || (rc = ca_authority_revoke(a, &req, &canon)) != 0)
		goto out;
	ca_debug("revoked %s (%s)", canon, reason == CA_REASON_NONE ?
	    "no reason code" : ca_reason_name(reason));
out:
	ca_authority_close(a);
	ca_client_cert_free(cc);
	ca_free_secret(tok, toklen);
	free(canon);
	free(own);
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

static struct {
	const char	*tok, *cert, *key, *text, *serial;
	int		 reason, crl;
} o = { .reason = CA_REASON_NONE };

static int
reason(char *arg, void *dest)
{
	if (ca_reason_parse(arg, dest) != 0)
		return ca_cli_usage("--reason: %s", ca_errmsg());
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("token-file", 0, STRING, &o.tok),
	CA_OPT("cert", 0, STRING, &o.cert),
	CA_OPT("key", 0, STRING, &o.key),
	CA_OPT_FN("reason", 0, reason, &o.reason),
	CA_OPT("reason-text", 0, STRING, &o.text),
	CA_OPT("crl", 0, FLAG, &o.crl),
	CA_OPT_END,
};

static int
post(struct ca_cli *cli)
{
	char *canon;

	o.serial = cli->argc == 1 ? cli->argv[0] : NULL;
	if (o.crl) {
		if (cli->url != NULL)
			return ca_cli_usage("--crl needs --state-dir, not --ca-url");
		if (o.serial != NULL || o.tok != NULL || o.cert != NULL ||
		    o.key != NULL || o.text != NULL || o.reason != CA_REASON_NONE)
			return ca_cli_usage("--crl revokes nothing: no SERIAL, --reason, --reason-text, --token-file, --cert or --key");
	} else if (cli->out != NULL || cli->pass_file != NULL)
		return ca_cli_usage("%s is for --crl", cli->out != NULL ?
		    "--output-file" : "--password-file");
	else if (cli->url != NULL) {
		if ((o.cert == NULL) != (o.key == NULL))
			return ca_cli_usage(o.cert != NULL ? "--cert needs --key" :
			    "--key needs --cert");
		if ((o.tok == NULL) == (o.cert == NULL))
			return ca_cli_usage("give either --token-file or --cert and --key");
		if (o.tok != NULL && o.serial == NULL)
			return ca_cli_usage("SERIAL is required");
	} else {
		if (o.tok != NULL || o.cert != NULL || o.key != NULL)
			return ca_cli_usage("--token-file, --cert and --key are for --ca-url");
		if (o.serial == NULL)
			return ca_cli_usage("SERIAL is required");
	}
	if (o.serial != NULL) {
		if (ca_serial_canon(o.serial, &canon) != 0)
			return ca_cli_usage("%s", ca_errmsg());
		free(canon);
	}
	if (o.text != NULL && strlen(o.text) > MAX_REASON_TEXT)
		return ca_cli_usage("--reason-text: longer than %d bytes",
		    MAX_REASON_TEXT);
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
		rc = revoke(cli.dir, cli.url, cli.root, o.serial, o.tok,
		    o.cert, o.key, o.reason, o.text);
	return rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
}
