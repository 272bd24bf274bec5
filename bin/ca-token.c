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
#include <time.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "conf.h"
#include "jose.h"
#include "token.h"
#include "x509.h"

static const char usage[] =
"Usage: ca-token -d DIR [--provisioner NAME] (--password-file FILE | --key FILE)\n"
"                [OPTION]... SUBJECT\n"
"       ca-token --ca-url URL --root FILE [--provisioner NAME]\n"
"                (--password-file FILE | --key FILE) [OPTION]... SUBJECT\n"
"Print a one-time token that authorises a certificate for SUBJECT (or, with\n"
"--revoke, the revocation of serial number SUBJECT). With --ca-url, the\n"
"provisioner comes from the CA's server instead of its directory.\n"
"\n"
"  -d, --state-dir DIR          the CA's directory (default $CA_STATE_DIR)\n"
"      --ca-url URL             the CA's server, https://HOST[:PORT]\n"
"      --root FILE              the CA's root certificate, the only one\n"
"                               trusted for --ca-url (see ca-bootstrap)\n"
"      --provisioner NAME       the JWK provisioner (default: the only one)\n"
"      --password-file FILE     password that decrypts the provisioner key\n"
"      --key FILE               the provisioner's private key, PEM or JWK,\n"
"                               instead of decrypting encryptedKey\n"
"      --san NAME               a name the certificate may carry: DNS, IP,\n"
"                               e-mail or URI (repeatable; default SUBJECT)\n"
"      --not-before TIME        token valid from TIME (RFC 3339 or duration\n"
"                               from now; default now)\n"
"      --not-after DURATION     token lifetime (default 5m, at most 1h)\n"
"      --revoke                 a revocation token: SUBJECT is a serial\n"
"  -o, --output-file FILE       write the token to FILE (mode 0600)\n"
"  -q, --quiet                  no warnings\n"
"  -v, --verbose                say more\n"
"  -h, --help                   show this help and exit\n"
"  -V, --version                show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 CA unreachable (retry).\n";

#define MAX_SANS 100

static struct {
	const char	*prov, *key;
	const char	*sans[MAX_SANS];
	size_t		 nsans;
	long long	 life;
	time_t		 nb;
	int		 revoke;
} o;

/* --san, repeatable. */
static int
add_san(char *arg, void *dest)
{
	(void)dest;
	if (o.nsans == MAX_SANS)
		return ca_cli_usage("at most %d --san", MAX_SANS);
	o.sans[o.nsans++] = arg;
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("provisioner", 0, STRING, &o.prov),
	CA_OPT("key", 0, STRING, &o.key),
	{ "san", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, add_san, 0, 0 },
	CA_OPT("not-before", 0, TIME, &o.nb),
	CA_OPT("not-after", 0, DURATION, &o.life),
	CA_OPT("revoke", 0, FLAG, &o.revoke),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	if (cli->argc != 1)
		return ca_cli_usage(cli->argc == 0 ? "SUBJECT is required" :
		    "only one SUBJECT");
	if (ca_cli_given(cli, "not-after") &&
	    (o.life <= 0 || o.life > CA_TOKEN_MAX_LIFETIME))
		return ca_cli_usage("--not-after must be more than 0 and at most 1h");
	if (cli->pass_file != NULL && o.key != NULL)
		return ca_cli_usage("--password-file and --key exclude each other");
	if (cli->pass_file == NULL && o.key == NULL)
		return ca_cli_usage("--password-file or --key is required");
	if (o.revoke && o.nsans > 0)
		return ca_cli_usage("--revoke takes no --san");
	return 0;
}

/*
 * The provisioner's private key: --key, or encryptedKey and the password
 * in pass_file.
 */
static int
provisioner_key(const struct ca_provisioner *p, const char *pass_file,
    const char *key_file, struct ca_jwk **key)
{
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	if (pass_file != NULL &&
	    (rc = ca_secret_read(pass_file, &pw, &pwlen)) != 0)
		return rc;
	rc = ca_token_provisioner_key(p, pw, pwlen, key_file, key);
	ca_free_secret(pw, pwlen);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_TARGET |
	    CA_CLI_PASS | CA_CLI_OUT, .opts = opts, .maxargs = -1,
	    .pre = pre };
	struct ca_token_opts t;
	struct ca_authority *a = NULL;
	const struct ca_provisioner *prov = NULL;
	struct ca_jwk *key = NULL;
	const char *path;
	char *tok = NULL, *line = NULL, *aud = NULL;
	int rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	if (!o.revoke) {
		/* Refuse now the names ca-sign would refuse later. */
		struct ca_names names;
		const char *sub = cli.argv[0];
		if (ca_x509_cn_check(sub) != 0)
			return ca_cli_usage("SUBJECT: %s", ca_errmsg());
		if (ca_names_classify(o.nsans ? o.sans : &sub,
		    o.nsans ? o.nsans : 1, &names) != 0)
			return ca_cli_usage("%s", ca_errmsg());
		ca_names_free(&names);
	}
	path = o.revoke ? "/1.0/revoke" : "/1.0/sign";
	/* Offline, the configuration alone: no store, no lock file. */
	rc = cli.url != NULL ? ca_authority_open_remote(cli.url, cli.root, &a) :
	    ca_authority_open_config(cli.dir, &a);
	if (rc != 0 || (rc = ca_authority_provisioner(a, o.prov,
	    o.key == NULL, &prov)) != 0 ||
	    (rc = provisioner_key(prov, cli.pass_file, o.key, &key)) != 0 ||
	    (rc = ca_authority_audience(a, path, &aud)) != 0)
		goto fail;
	memset(&t, 0, sizeof(t));
	t.now = cli.now;
	t.not_before = o.nb;
	t.iss = prov->name;
	t.kid = prov->kid;
	t.sub = cli.argv[0];
	t.aud = aud;
	t.sans = o.nsans ? o.sans : NULL;
	t.n_sans = o.nsans;
	t.sha = ca_authority_root_fp(a);
	t.lifetime = o.life;
	t.no_sans = o.revoke;
	if ((rc = ca_token_mint(key, &t, &tok)) != 0)
		goto fail;
	if (asprintf(&line, "%s\n", tok) < 0) {
		line = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_file_publish(cli.out ? cli.out : "-", line,
	    strlen(line), 0600, 0)) != 0)
		goto fail;
	status = 0;
	goto out;
fail:
	status = ca_cli_fail(rc);
out:
	ca_jwk_free(key);
	free(aud);
	ca_authority_close(a);
	if (tok != NULL)
		ca_free_secret(tok, strlen(tok));
	if (line != NULL)
		ca_free_secret(line, strlen(line));
	return status;
}
