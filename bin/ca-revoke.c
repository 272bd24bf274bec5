/*
 * ca-revoke - revoke a certificate, offline or through the CA's server.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <getopt.h>
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

enum { O_URL = 256, O_ROOT, O_TOKEN, O_CERT, O_KEY, O_REASON, O_TEXT, O_CRL,
	O_PASS };

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "ca-url", required_argument, NULL, O_URL },
	{ "root", required_argument, NULL, O_ROOT },
	{ "token-file", required_argument, NULL, O_TOKEN },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "reason", required_argument, NULL, O_REASON },
	{ "reason-text", required_argument, NULL, O_TEXT },
	{ "crl", no_argument, NULL, O_CRL },
	{ "password-file", required_argument, NULL, O_PASS },
	{ "output-file", required_argument, NULL, 'o' },
	CA_CLI_COMMON_OPTIONS,
};

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

int
main(int argc, char **argv)
{
	const char *dir = NULL, *url = NULL, *root = NULL, *tok_file = NULL;
	const char *cert = NULL, *key = NULL, *text = NULL, *pass_file = NULL;
	const char *out = NULL, *serial = NULL;
	char *canon = NULL;
	unsigned long seen = 0;
	int ch, rc, reason = CA_REASON_NONE, crl = 0;

	ca_cli_init(argv);
	while ((ch = getopt_long(argc, argv, "d:o:" CA_CLI_COMMON_SHORT,
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ca_cli_once(&seen, 0, "state-dir"))
				return CA_EXIT_USAGE;
			dir = optarg;
			break;
		case O_URL:
			if (ca_cli_once(&seen, 1, "ca-url"))
				return CA_EXIT_USAGE;
			url = optarg;
			break;
		case O_ROOT:
			if (ca_cli_once(&seen, 2, "root"))
				return CA_EXIT_USAGE;
			root = optarg;
			break;
		case O_TOKEN:
			if (ca_cli_once(&seen, 3, "token-file"))
				return CA_EXIT_USAGE;
			tok_file = optarg;
			break;
		case O_CERT:
			if (ca_cli_once(&seen, 4, "cert"))
				return CA_EXIT_USAGE;
			cert = optarg;
			break;
		case O_KEY:
			if (ca_cli_once(&seen, 5, "key"))
				return CA_EXIT_USAGE;
			key = optarg;
			break;
		case O_REASON:
			if (ca_cli_once(&seen, 6, "reason"))
				return CA_EXIT_USAGE;
			if (ca_reason_parse(optarg, &reason) != 0)
				return ca_cli_usage("--reason: %s", ca_errmsg());
			break;
		case O_TEXT:
			if (ca_cli_once(&seen, 7, "reason-text"))
				return CA_EXIT_USAGE;
			text = optarg;
			break;
		case O_CRL:
			crl = 1;
			break;
		case O_PASS:
			if (ca_cli_once(&seen, 8, "password-file"))
				return CA_EXIT_USAGE;
			pass_file = optarg;
			break;
		case 'o':
			if (ca_cli_once(&seen, 9, "output-file"))
				return CA_EXIT_USAGE;
			out = optarg;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (argc - optind > 1)
		return ca_cli_usage("unexpected argument '%s'", argv[optind + 1]);
	serial = argc - optind == 1 ? argv[optind] : NULL;
	if (url != NULL && dir != NULL)
		return ca_cli_usage("--state-dir and --ca-url exclude each other");
	if ((url == NULL) != (root == NULL))
		return ca_cli_usage(url != NULL ? "--ca-url needs --root" :
		    "--root needs --ca-url");
	if (crl) {
		if (url != NULL)
			return ca_cli_usage("--crl needs --state-dir, not --ca-url");
		if (serial != NULL || tok_file != NULL || cert != NULL ||
		    key != NULL || text != NULL || reason != CA_REASON_NONE)
			return ca_cli_usage("--crl revokes nothing: no SERIAL, --reason, --reason-text, --token-file, --cert or --key");
	} else if (out != NULL || pass_file != NULL)
		return ca_cli_usage("%s is for --crl", out != NULL ?
		    "--output-file" : "--password-file");
	else if (url != NULL) {
		if ((cert == NULL) != (key == NULL))
			return ca_cli_usage(cert != NULL ? "--cert needs --key" :
			    "--key needs --cert");
		if ((tok_file == NULL) == (cert == NULL))
			return ca_cli_usage("give either --token-file or --cert and --key");
		if (tok_file != NULL && serial == NULL)
			return ca_cli_usage("SERIAL is required");
	} else {
		if (tok_file != NULL || cert != NULL || key != NULL)
			return ca_cli_usage("--token-file, --cert and --key are for --ca-url");
		if (serial == NULL)
			return ca_cli_usage("SERIAL is required");
	}
	if (serial != NULL) {
		if (ca_serial_canon(serial, &canon) != 0)
			return ca_cli_usage("%s", ca_errmsg());
		free(canon);
	}
	if (text != NULL && strlen(text) > MAX_REASON_TEXT)
		return ca_cli_usage("--reason-text: longer than %d bytes",
		    MAX_REASON_TEXT);
	if (url == NULL && (dir = ca_config_state_dir(dir)) == NULL)
		return ca_cli_usage("%s", ca_errmsg());

	if (crl)
		rc = write_crl(dir, pass_file, out != NULL ? out : "-");
	else
		rc = revoke(dir, url, root, serial, tok_file, cert, key, reason,
		    text);
	return rc != 0 ? ca_cli_fail(rc) : CA_EXIT_OK;
}
