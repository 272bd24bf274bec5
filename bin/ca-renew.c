/*
 * ca-renew - renew a certificate once it is due, from cron or a timer.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "exec.h"

static const char usage[] =
"Usage: ca-renew -d DIR [OPTION]... CERT KEY\n"
"       ca-renew --ca-url URL --root FILE [OPTION]... CERT KEY\n"
"Renew the certificate in CERT, whose key is KEY, once it is due: a new\n"
"certificate with the same names and lifetime and a new serial, written\n"
"over CERT with the intermediate. With --ca-url, the CA's server renews it,\n"
"over mutual TLS with CERT and KEY. Exits 3 when it is not due yet.\n"
"\n"
"  -d, --state-dir DIR        the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL           the CA's server, https://HOST[:PORT]\n"
"      --root FILE            the CA's root certificate, the only one trusted\n"
"                             for --ca-url (see ca-bootstrap)\n"
"      --no-mtls              with --ca-url: prove the key with an x5c token\n"
"                             (Authorization: Bearer), not with mutual TLS\n"
"                             (done anyway when CERT is not valid now)\n"
"      --expires-in DURATION  due when less than DURATION is left (default: a\n"
"                             third of its lifetime; up to a tenth more, at\n"
"                             random)\n"
"      --force                renew now, however long is left\n"
"      --rekey                a new key too, of the same kind as KEY\n"
"      --key-out FILE         with --rekey: where the new key goes (mode\n"
"                             0600; may be KEY), once renewed\n"
"      --exec COMMAND         run COMMAND after a renewal, split at spaces,\n"
"                             without a shell: 'systemctl reload nginx'\n"
"                             (empty: none)\n"
"      --password-file FILE   password of the intermediate key, if encrypted\n"
"  -o, --output-file FILE     write the certificate chain to FILE (- for\n"
"                             standard output), not over CERT\n"
"  -q, --quiet                no warnings\n"
"  -v, --verbose              say more\n"
"  -h, --help                 show this help and exit\n"
"  -V, --version              show the version and exit\n"
"\n"
"Exit status: 0 renewed, 1 failure (refused by the CA, or COMMAND failed\n"
"after the renewal), 2 usage error, 3 not due yet, 4 database busy or CA\n"
"unreachable (retry).\n";

#define MAX_ARGS 64

static struct {
	const char	*key_out, *exec;
	long long	 expires_in;
	int		 no_mtls, force, rekey;
	char		*cmd, *cmdv[MAX_ARGS + 1];
} o = { .expires_in = -1 };

static const struct ca_cli_opt opts[] = {
	CA_OPT("no-mtls", 0, FLAG, &o.no_mtls),
	CA_OPT("expires-in", 0, DURATION, &o.expires_in),
	CA_OPT("force", 0, FLAG, &o.force),
	CA_OPT("rekey", 0, FLAG, &o.rekey),
	CA_OPT("key-out", 0, STRING, &o.key_out),
	CA_OPT("exec", 0, STRING, &o.exec),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->argc < 2)
		return ca_cli_usage("CERT and KEY are required");
	if (o.rekey != (o.key_out != NULL))
		return ca_cli_usage(o.rekey ? "--rekey needs --key-out" :
		    "--key-out needs --rekey");
	if (o.key_out != NULL && strcmp(o.key_out, "-") == 0)
		return ca_cli_usage("--key-out needs a file name");
	return 0;
}

static int
post(struct ca_cli *cli)
{
	if (cli->url == NULL && o.no_mtls)
		return ca_cli_usage("--no-mtls needs --ca-url");
	return 0;
}

/*
 * Renew cc at the CA cli names. Offline, KEY was checked to be the
 * certificate's: the key is proven; online, by mutual TLS (mtls) or an
 * x5c token signed with it.
 */
static int
renew(const struct ca_cli *cli, int mtls, const struct ca_client_cert *cc,
    const gnutls_datum_t *csr, struct ca_sign_result *res)
{
	struct ca_authority *a = NULL;
	struct ca_renew_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.cc = cc;
	req.mtls = mtls;
	req.csr = (const char *)csr->data;
	req.csr_len = csr->size;
	if ((rc = ca_cli_open_target(cli->dir, cli->url, cli->root,
	    cli->pass_file, CA_CLI_KEY, &a)) == 0 &&
	    (rc = ca_authority_renew(a, &req, res)) == 0)
		ca_debug("renewed %s as %s", cc->serial, res->serial);
	ca_authority_close(a);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_PASS_LOCAL | CA_CLI_OUT,
	    .opts = opts, .maxargs = 2, .pre = pre, .post = post };
	struct ca_client_cert *cc = NULL;
	struct ca_sign_result res;
	gnutls_datum_t csr = { NULL, 0 };
	char *chain = NULL, *key = NULL, *target = NULL;
	size_t key_len = 0;
	int64_t left;
	int rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	memset(&res, 0, sizeof(res));
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (o.exec != NULL &&
	    ca_exec_split(o.exec, &o.cmd, o.cmdv, MAX_ARGS) != 0)
		return ca_cli_usage("--exec: %s", ca_errmsg());

	if ((rc = ca_client_cert_load(cli.argv[0], cli.argv[1], &cc)) != 0)
		goto fail;
	if ((rc = ca_client_cert_due(cc, o.expires_in, cli.now, &left)) < 0)
		goto fail;
	if (rc == 0 && !o.force) {
		ca_debug("%s: not due, %lld s left", cli.argv[0],
		    (long long)left);
		status = CA_EXIT_NOTHING;
		goto done;
	}
	/* In place: through a symbolic link, the file it names. */
	if (cli.out == NULL && (target = realpath(cli.argv[0], NULL)) == NULL) {
		rc = ca_err(CA_ERR_IO, "%s: %s", cli.argv[0], strerror(errno));
		goto fail;
	}
	if (target == NULL && strcmp(cli.out, "-") != 0 &&
	    (target = strdup(cli.out)) == NULL) {
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((target != NULL && (rc = ca_file_publish_check(target, 0)) != 0) ||
	    (o.key_out != NULL &&
	    (rc = ca_file_publish_check(o.key_out, 0)) != 0))
		goto fail;
	if (o.rekey &&
	    (rc = ca_client_cert_rekey_csr(cc, &csr, &key, &key_len)) != 0)
		goto fail;
	rc = renew(&cli, !o.no_mtls && cli.now >= cc->not_before &&
	    cli.now <= cc->not_after, cc, &csr, &res);
	if (rc != 0 || (rc = ca_client_cert_check_key(cc, res.crt_pem, key,
	    key_len)) != 0)
		goto fail;
	if (asprintf(&chain, "%s%s", res.crt_pem, res.chain_pem) < 0) {
		chain = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_file_publish_pair(target != NULL ? target : "-", chain,
	    o.key_out, key, key_len)) != 0)
		goto fail;
	ca_free_secret(key, key_len);
	key = NULL;
	if (o.cmd != NULL && (rc = ca_exec_run(o.cmdv)) != 0)
		goto fail;
	status = CA_EXIT_OK;
	goto done;
fail:
	status = ca_cli_fail(rc);
done:
	ca_client_cert_free(cc);
	ca_free_secret(key, key_len);
	gnutls_free(csr.data);
	ca_sign_result_free(&res);
	free(chain);
	free(target);
	free(o.cmd);
	return status;
}
