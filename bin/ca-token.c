/*
 * ca-token - mint a one-time token (JWT) from a JWK provisioner.
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

enum { O_PROV = 256, O_PASS, O_KEY, O_SAN, O_NB, O_NA, O_REVOKE, O_URL,
	O_ROOT };

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "ca-url", required_argument, NULL, O_URL },
	{ "root", required_argument, NULL, O_ROOT },
	{ "provisioner", required_argument, NULL, O_PROV },
	{ "password-file", required_argument, NULL, O_PASS },
	{ "key", required_argument, NULL, O_KEY },
	{ "san", required_argument, NULL, O_SAN },
	{ "not-before", required_argument, NULL, O_NB },
	{ "not-after", required_argument, NULL, O_NA },
	{ "revoke", no_argument, NULL, O_REVOKE },
	{ "output-file", required_argument, NULL, 'o' },
	CA_CLI_COMMON_OPTIONS,
};

#define MAX_SANS 100

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
	struct ca_token_opts o;
	struct ca_authority *a = NULL;
	const struct ca_provisioner *prov = NULL;
	struct ca_jwk *key = NULL;
	const char *dir = NULL, *pname = NULL, *pass_file = NULL, *key_file = NULL;
	const char *nb_arg = NULL, *out_file = NULL, *url = NULL, *root = NULL;
	const char *sans[MAX_SANS], *path;
	char *tok = NULL, *line = NULL, *aud = NULL;
	size_t nsans = 0;
	unsigned long seen = 0;
	long long life = 0;
	int ch, rc, revoke = 0, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	memset(&o, 0, sizeof(o));
	while ((ch = getopt_long(argc, argv, "d:o:" CA_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ca_cli_once(&seen, 0, "state-dir"))
				return CA_EXIT_USAGE;
			dir = optarg;
			break;
		case O_PROV:
			if (ca_cli_once(&seen, 1, "provisioner"))
				return CA_EXIT_USAGE;
			pname = optarg;
			break;
		case O_PASS:
			if (ca_cli_once(&seen, 2, "password-file"))
				return CA_EXIT_USAGE;
			pass_file = optarg;
			break;
		case O_KEY:
			if (ca_cli_once(&seen, 3, "key"))
				return CA_EXIT_USAGE;
			key_file = optarg;
			break;
		case O_SAN:
			if (nsans == MAX_SANS)
				return ca_cli_usage("at most %d --san", MAX_SANS);
			sans[nsans++] = optarg;
			break;
		case O_NB:
			if (ca_cli_once(&seen, 4, "not-before"))
				return CA_EXIT_USAGE;
			nb_arg = optarg;
			break;
		case O_NA:
			if (ca_cli_once(&seen, 5, "not-after") ||
			    ca_cli_duration(optarg, "not-after", &life))
				return CA_EXIT_USAGE;
			if (life <= 0 || life > CA_TOKEN_MAX_LIFETIME)
				return ca_cli_usage("--not-after must be more than 0 and at most 1h");
			break;
		case O_REVOKE:
			revoke = 1;
			break;
		case 'o':
			if (ca_cli_once(&seen, 6, "output-file"))
				return CA_EXIT_USAGE;
			out_file = optarg;
			break;
		case O_URL:
			if (ca_cli_once(&seen, 7, "ca-url"))
				return CA_EXIT_USAGE;
			url = optarg;
			break;
		case O_ROOT:
			if (ca_cli_once(&seen, 8, "root"))
				return CA_EXIT_USAGE;
			root = optarg;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (argc - optind != 1)
		return ca_cli_usage(argc == optind ? "SUBJECT is required" :
		    "only one SUBJECT");
	if (pass_file != NULL && key_file != NULL)
		return ca_cli_usage("--password-file and --key exclude each other");
	if (pass_file == NULL && key_file == NULL)
		return ca_cli_usage("--password-file or --key is required");
	if (revoke && nsans > 0)
		return ca_cli_usage("--revoke takes no --san");
	if (url != NULL && dir != NULL)
		return ca_cli_usage("--state-dir and --ca-url exclude each other");
	if ((url == NULL) != (root == NULL))
		return ca_cli_usage(url != NULL ? "--ca-url needs --root" :
		    "--root needs --ca-url");
	if (url != NULL && ca_client_url_check(url) != 0)
		return ca_cli_usage("--ca-url: %s", ca_errmsg());
	if (url == NULL && (dir = ca_config_state_dir(dir)) == NULL)
		return ca_cli_usage("%s", ca_errmsg());

	o.now = time(NULL);
	if (nb_arg != NULL && ca_time_parse(nb_arg, o.now, &o.not_before) != 0)
		return ca_cli_usage("--not-before: %s", ca_errmsg());
	if (!revoke) {
		/* Refuse now the names ca-sign would refuse later. */
		struct ca_names names;
		const char *sub = argv[optind];
		if (ca_x509_cn_check(sub) != 0)
			return ca_cli_usage("SUBJECT: %s", ca_errmsg());
		if (ca_names_classify(nsans ? sans : &sub, nsans ? nsans : 1,
		    &names) != 0)
			return ca_cli_usage("%s", ca_errmsg());
		ca_names_free(&names);
	}
	path = revoke ? "/1.0/revoke" : "/1.0/sign";
	/* Offline, the configuration alone: no store, no lock file. */
	rc = url != NULL ? ca_authority_open_remote(url, root, &a) :
	    ca_authority_open_config(dir, &a);
	if (rc != 0 || (rc = ca_authority_provisioner(a, pname,
	    key_file == NULL, &prov)) != 0 ||
	    (rc = provisioner_key(prov, pass_file, key_file, &key)) != 0 ||
	    (rc = ca_authority_audience(a, path, &aud)) != 0)
		goto fail;
	o.iss = prov->name;
	o.kid = prov->kid;
	o.sub = argv[optind];
	o.aud = aud;
	o.sans = nsans ? sans : NULL;
	o.n_sans = nsans;
	o.sha = ca_authority_root_fp(a);
	o.lifetime = life;
	o.no_sans = revoke;
	if ((rc = ca_token_mint(key, &o, &tok)) != 0)
		goto fail;
	if (asprintf(&line, "%s\n", tok) < 0) {
		line = NULL;
		rc = ca_err(CA_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if ((rc = ca_file_publish(out_file ? out_file : "-", line,
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
