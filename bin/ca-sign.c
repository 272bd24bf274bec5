/*
 * ca-sign - turn a CSR and a one-time token into a certificate.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "conf.h"
#include "keys.h"

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
"      --token-file FILE      the one-time token (- for standard input)\n"
"      --csr FILE             the certificate signing request, PEM or DER\n"
"                             (- for standard input)\n"
"      --key-out FILE         make the key (type as the CA's default) and the\n"
"                             CSR here, from the token's subject and names;\n"
"                             the key is written to FILE (mode 0600)\n"
"      --key-type TYPE        with --ca-url and --key-out: ec-p256 (default),\n"
"                             ec-p384, ed25519 or rsa-3072\n"
"      --not-before TIME      start of validity: RFC 3339 or a duration from\n"
"                             now (default now, backdated one minute)\n"
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

enum { O_TOKEN = 256, O_CSR, O_KEYOUT, O_NB, O_NA, O_PASS, O_URL, O_ROOT,
	O_KEYTYPE };

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "ca-url", required_argument, NULL, O_URL },
	{ "root", required_argument, NULL, O_ROOT },
	{ "key-type", required_argument, NULL, O_KEYTYPE },
	{ "token-file", required_argument, NULL, O_TOKEN },
	{ "csr", required_argument, NULL, O_CSR },
	{ "key-out", required_argument, NULL, O_KEYOUT },
	{ "not-before", required_argument, NULL, O_NB },
	{ "not-after", required_argument, NULL, O_NA },
	{ "password-file", required_argument, NULL, O_PASS },
	{ "output-file", required_argument, NULL, 'o' },
	CA_CLI_COMMON_OPTIONS,
};

/*
 * Sign with the CA at dir or url; with key_out, the key and its CSR are
 * made here first (*key, *key_len).
 */
static int
sign(const char *dir, const char *url, const char *root,
    const char *pass_file, const char *key_out, const enum ca_key_type *kt,
    struct ca_sign_req *req, struct ca_sign_result *res, char **key,
    size_t *key_len)
{
	struct ca_authority *a = NULL;
	gnutls_datum_t csr = { NULL, 0 };
	int rc;

	if ((rc = ca_cli_open_target(dir, url, root, pass_file, CA_CLI_KEY,
	    &a)) != 0)
		return rc;
	if (key_out != NULL) {
		if ((rc = ca_cli_keygen(a, kt, req->token, req->token_len, &csr,
		    key, key_len)) != 0)
			goto out;
		req->csr = (const char *)csr.data;
		req->csr_len = csr.size;
	}
	if ((rc = ca_authority_sign(a, req, res)) == 0)
		ca_debug("issued serial %s for \"%s\" (%s)", res->serial,
		    res->subject, url != NULL ? url : dir);
out:
	req->csr = NULL;
	gnutls_free(csr.data);
	ca_authority_close(a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_sign_req req;
	struct ca_sign_result res;
	enum ca_key_type kt = CA_KEY_EC_P256;
	const char *dir = NULL, *tok_file = NULL, *csr_file = NULL;
	const char *key_out = NULL, *out = NULL, *pass_file = NULL;
	const char *nb_arg = NULL, *na_arg = NULL, *url = NULL, *root = NULL;
	const char *kt_arg = NULL;
	char *tok = NULL, *csr = NULL, *chain = NULL, *key = NULL;
	size_t toklen = 0, csrlen = 0, key_len = 0;
	unsigned long seen = 0;
	time_t now;
	int ch, rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	while ((ch = getopt_long(argc, argv, "d:o:" CA_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ca_cli_once(&seen, 0, "state-dir"))
				return CA_EXIT_USAGE;
			dir = optarg;
			break;
		case O_TOKEN:
			if (ca_cli_once(&seen, 1, "token-file"))
				return CA_EXIT_USAGE;
			tok_file = optarg;
			break;
		case O_CSR:
			if (ca_cli_once(&seen, 2, "csr"))
				return CA_EXIT_USAGE;
			csr_file = optarg;
			break;
		case O_KEYOUT:
			if (ca_cli_once(&seen, 3, "key-out"))
				return CA_EXIT_USAGE;
			key_out = optarg;
			break;
		case O_NB:
			if (ca_cli_once(&seen, 4, "not-before"))
				return CA_EXIT_USAGE;
			nb_arg = optarg;
			break;
		case O_NA:
			if (ca_cli_once(&seen, 5, "not-after"))
				return CA_EXIT_USAGE;
			na_arg = optarg;
			break;
		case O_PASS:
			if (ca_cli_once(&seen, 6, "password-file"))
				return CA_EXIT_USAGE;
			pass_file = optarg;
			break;
		case 'o':
			if (ca_cli_once(&seen, 7, "output-file"))
				return CA_EXIT_USAGE;
			out = optarg;
			break;
		case O_URL:
			if (ca_cli_once(&seen, 8, "ca-url"))
				return CA_EXIT_USAGE;
			url = optarg;
			break;
		case O_ROOT:
			if (ca_cli_once(&seen, 9, "root"))
				return CA_EXIT_USAGE;
			root = optarg;
			break;
		case O_KEYTYPE:
			if (ca_cli_once(&seen, 10, "key-type"))
				return CA_EXIT_USAGE;
			if (ca_key_type_parse(optarg, &kt) != 0)
				return ca_cli_usage("--key-type: %s", ca_errmsg());
			kt_arg = optarg;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (optind != argc)
		return ca_cli_usage("unexpected argument '%s'", argv[optind]);
	if (tok_file == NULL)
		return ca_cli_usage("--token-file is required");
	if ((csr_file == NULL) == (key_out == NULL))
		return ca_cli_usage("give exactly one of --csr and --key-out");
	if (csr_file != NULL && strcmp(tok_file, "-") == 0 &&
	    strcmp(csr_file, "-") == 0)
		return ca_cli_usage("the token and the CSR cannot both be standard input");
	if (key_out != NULL && strcmp(key_out, "-") == 0)
		return ca_cli_usage("--key-out needs a file name");
	if (url != NULL && dir != NULL)
		return ca_cli_usage("--state-dir and --ca-url exclude each other");
	if ((url == NULL) != (root == NULL))
		return ca_cli_usage(url != NULL ? "--ca-url needs --root" :
		    "--root needs --ca-url");
	if (url != NULL && pass_file != NULL)
		return ca_cli_usage("--password-file is for the CA's key: not with --ca-url");
	if (kt_arg != NULL && (url == NULL || key_out == NULL))
		return ca_cli_usage("--key-type needs --ca-url and --key-out (offline, the CA's key type is used)");
	if (url != NULL && ca_client_url_check(url) != 0)
		return ca_cli_usage("--ca-url: %s", ca_errmsg());
	if (url == NULL && (dir = ca_config_state_dir(dir)) == NULL)
		return ca_cli_usage("%s", ca_errmsg());
	now = time(NULL);
	if (nb_arg != NULL && ca_time_parse(nb_arg, now, &req.not_before) != 0)
		return ca_cli_usage("--not-before: %s", ca_errmsg());
	if (na_arg != NULL && ca_time_parse(na_arg, now, &req.not_after) != 0)
		return ca_cli_usage("--not-after: %s", ca_errmsg());

	/* Refuse what would fail after signing before the token is spent. */
	if ((key_out != NULL &&
	    (rc = ca_file_publish_check(key_out, CA_PUBLISH_NEW)) != 0) ||
	    (out != NULL && (rc = ca_file_publish_check(out, 0)) != 0))
		goto fail;
	if ((rc = ca_file_read(tok_file, CA_MAX_TOKEN, &tok, &toklen)) != 0 ||
	    (csr_file != NULL &&
	    (rc = ca_file_read(csr_file, CA_MAX_CSR, &csr, &csrlen)) != 0))
		goto fail;
	req.token = tok;
	req.token_len = toklen;
	req.csr = csr;
	req.csr_len = csrlen;
	if ((rc = sign(dir, url, root, pass_file, key_out,
	    kt_arg != NULL ? &kt : NULL, &req, &res, &key, &key_len)) != 0)
		goto fail;
	if (key_out != NULL && (rc = ca_file_publish(key_out, key, key_len,
	    0600, CA_PUBLISH_NEW)) != 0)
		goto fail;
	if (asprintf(&chain, "%s%s", res.crt_pem, res.chain_pem) < 0) {
		chain = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_file_publish(out ? out : "-", chain, strlen(chain),
	    0644, 0)) != 0)
		goto fail;
	status = 0;
	goto done;
fail:
	status = ca_cli_fail(rc);
done:
	ca_sign_result_free(&res);
	ca_free_secret(key, key_len);
	ca_free_secret(tok, toklen);
	free(csr);
	free(chain);
	return status;
}
