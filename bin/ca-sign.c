/*
 * ca-sign - turn a CSR and a one-time token into a certificate.
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

static struct {
	const char	*tok, *csr, *key_out;
	enum ca_key_type kt;
	time_t		 nb, na;
} o = { .kt = CA_KEY_EC_P256 };

static const struct ca_cli_opt opts[] = {
	CA_OPT("token-file", 0, STRING, &o.tok),
	CA_OPT("csr", 0, STRING, &o.csr),
	CA_OPT("key-out", 0, STRING, &o.key_out),
	CA_OPT("key-type", 0, KEYTYPE, &o.kt),
	CA_OPT("not-before", 0, TIME, &o.nb),
	CA_OPT("not-after", 0, TIME, &o.na),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	(void)cli;
	if (o.tok == NULL)
		return ca_cli_usage("--token-file is required");
	if ((o.csr == NULL) == (o.key_out == NULL))
		return ca_cli_usage("give exactly one of --csr and --key-out");
	if (o.csr != NULL && strcmp(o.tok, "-") == 0 &&
	    strcmp(o.csr, "-") == 0)
		return ca_cli_usage("the token and the CSR cannot both be standard input");
	if (o.key_out != NULL && strcmp(o.key_out, "-") == 0)
		return ca_cli_usage("--key-out needs a file name");
	return 0;
}

static int
post(struct ca_cli *cli)
{
	if (ca_cli_given(cli, "key-type") &&
	    (cli->url == NULL || o.key_out == NULL))
		return ca_cli_usage("--key-type needs --ca-url and --key-out (offline, the CA's key type is used)");
	return 0;
}

/*
 * Sign with the CA at dir or url; with key_out, the key and its CSR are
 * made here first (*key, *key_len).
 */
static int
sign(const struct ca_cli *cli, struct ca_sign_req *req,
    struct ca_sign_result *res, char **key, size_t *key_len)
{
	struct ca_authority *a = NULL;
	gnutls_datum_t csr = { NULL, 0 };
	int rc;

	if ((rc = ca_cli_open_target(cli->dir, cli->url, cli->root,
	    cli->pass_file, CA_CLI_KEY, &a)) != 0)
		return rc;
	if (o.key_out != NULL) {
		if ((rc = ca_cli_keygen(a, ca_cli_given(cli, "key-type") ?
		    &o.kt : NULL, req->token, req->token_len, &csr,
		    key, key_len)) != 0)
			goto out;
		req->csr = (const char *)csr.data;
		req->csr_len = csr.size;
	}
	if ((rc = ca_authority_sign(a, req, res)) == 0)
		ca_debug("issued serial %s for \"%s\" (%s)", res->serial,
		    res->subject, cli->url != NULL ? cli->url : cli->dir);
out:
	req->csr = NULL;
	gnutls_free(csr.data);
	ca_authority_close(a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_DIR |
	    CA_CLI_URL | CA_CLI_PASS | CA_CLI_PASS_LOCAL | CA_CLI_OUT,
	    .opts = opts, .pre = pre, .post = post };
	struct ca_sign_req req;
	struct ca_sign_result res;
	char *tok = NULL, *csr = NULL, *chain = NULL, *key = NULL;
	size_t toklen = 0, csrlen = 0, key_len = 0;
	int rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	req.not_before = o.nb;
	req.not_after = o.na;

	/* Refuse what would fail after signing before the token is spent. */
	if ((o.key_out != NULL &&
	    (rc = ca_file_publish_check(o.key_out, CA_PUBLISH_NEW)) != 0) ||
	    (cli.out != NULL && (rc = ca_file_publish_check(cli.out, 0)) != 0))
		goto fail;
	if ((rc = ca_file_read(o.tok, CA_MAX_TOKEN, &tok, &toklen)) != 0 ||
	    (o.csr != NULL &&
	    (rc = ca_file_read(o.csr, CA_MAX_CSR, &csr, &csrlen)) != 0))
		goto fail;
	req.token = tok;
	req.token_len = toklen;
	req.csr = csr;
	req.csr_len = csrlen;
	if ((rc = sign(&cli, &req, &res, &key, &key_len)) != 0)
		goto fail;
	if (o.key_out != NULL && (rc = ca_file_publish(o.key_out, key, key_len,
	    0600, CA_PUBLISH_NEW)) != 0)
		goto fail;
	if (asprintf(&chain, "%s%s", res.crt_pem, res.chain_pem) < 0) {
		chain = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_file_publish(cli.out ? cli.out : "-", chain, strlen(chain),
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
