/*
 * ca-init - create a certificate authority in a state directory.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "init-args.h"

static const char usage[] =
"Usage: ca-init -d DIR --name NAME --dns NAME[,NAME...] --provisioner NAME\n"
"               --password-file FILE [OPTION]...\n"
"       ca-init --ra --upstream URL --upstream-fingerprint FP\n"
"               --upstream-provisioner NAME --upstream-password-file FILE\n"
"               -d DIR --name NAME --dns NAME[,NAME...] --provisioner NAME\n"
"               --password-file FILE [OPTION]...\n"
"Create a certificate authority (root and intermediate certificates and keys,\n"
"a JWK provisioner, config/ca.json and db/) in DIR, and print the root\n"
"certificate's SHA-256 fingerprint. With --ra, a registration authority\n"
"instead: its own provisioner and no CA key; ca-serve on it has the\n"
"upstream CA sign what it authenticates.\n"
"\n"
"  -d, --state-dir DIR                 the CA's directory (default $CA_STATE_DIR);\n"
"                                      must not exist or be empty\n"
"  -n, --name NAME                     the CA's name, used in its certificates\n"
"      --dns NAME[,NAME...]            DNS names or IPs of the CA (repeatable)\n"
"      --address [HOST]:PORT           where ca-serve listens (default :443)\n"
"      --provisioner NAME              name of the first (JWK) provisioner\n"
"      --password-file FILE            password that encrypts the CA keys\n"
"      --provisioner-password-file FILE\n"
"                                      password of the provisioner key\n"
"                                      (default: the CA key password)\n"
"      --key-type TYPE                 ec-p256 (default), ec-p384, ed25519, rsa-3072\n"
"      --unencrypted-intermediate-key  store the intermediate key unencrypted\n"
"                                      (mode 0600) for unattended signing\n"
"      --kms URI                       generate the CA keys on a PKCS#11 token:\n"
"                                      pkcs11:module-path=MODULE;token=LABEL\n"
"                                      (sensitive, not extractable)\n"
"      --kms-pin-file FILE             the token's PIN (else the URI's\n"
"                                      pin-source=FILE)\n"
"      --provisioner-key-out FILE      also write the provisioner's private key,\n"
"                                      unencrypted JWK (mode 0600), for\n"
"                                      ca-token --key\n"
"      --acme                          also an ACME provisioner named acme\n"
"                                      (ca-serve: /acme/acme/directory)\n"
"      --root-template FILE            the root certificate from a template\n"
"      --intermediate-template FILE    the intermediate's from a template\n"
"                                      (step's JSON; see ca-init(1))\n"
"      --ra                            a registration authority (needs the\n"
"                                      four --upstream options)\n"
"      --upstream URL                  the upstream CA, https://HOST[:PORT]\n"
"      --upstream-fingerprint FP       SHA-256 of the upstream root (ca-init\n"
"                                      printed it there); the root is fetched\n"
"                                      and pinned\n"
"      --upstream-provisioner NAME     the upstream's JWK provisioner the RA\n"
"                                      signs its requests with\n"
"      --upstream-password-file FILE   its key's password (checked here; give\n"
"                                      it to ca-serve --upstream-password-file)\n"
"  -q, --quiet                         no warnings\n"
"  -v, --verbose                       say more\n"
"  -h, --help                          show this help and exit\n"
"  -V, --version                       show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 (--ra) the upstream CA\n"
"cannot be reached (retry).\n";

static struct ca_init_args o = { .opts.address = ":443" };

static int
dns_opt(char *arg, void *dest)
{
	(void)dest;
	if (ca_init_args_dns(&o, arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("name", 'n', STRING, &o.opts.name),
	{ "dns", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, dns_opt, 0, 0 },
	CA_OPT("address", 0, STRING, &o.opts.address),
	CA_OPT("provisioner", 0, STRING, &o.opts.provisioner),
	CA_OPT("provisioner-password-file", 0, STRING, &o.prov_pass_file),
	CA_OPT("key-type", 0, STRING, &o.opts.key_type),
	CA_OPT("unencrypted-intermediate-key", 0, FLAG,
	    &o.opts.unencrypted_intermediate),
	CA_OPT("provisioner-key-out", 0, STRING, &o.opts.prov_key_out),
	CA_OPT("acme", 0, FLAG, &o.opts.acme),
	CA_OPT("root-template", 0, STRING, &o.opts.root_template),
	CA_OPT("intermediate-template", 0, STRING, &o.opts.int_template),
	CA_OPT("ra", 0, FLAG, &o.ra),
	CA_OPT("upstream", 0, STRING, &o.opts.ra_url),
	CA_OPT("upstream-fingerprint", 0, STRING, &o.opts.ra_fingerprint),
	CA_OPT("upstream-provisioner", 0, STRING, &o.opts.ra_provisioner),
	CA_OPT("upstream-password-file", 0, STRING, &o.upstream_pass_file),
	CA_OPT("kms", 0, STRING, &o.opts.kms),
	CA_OPT("kms-pin-file", 0, STRING, &o.kms_pin_file),
	CA_OPT_END,
};

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_DIR |
	    CA_CLI_PASS, .opts = opts };
	char *fp = NULL;
	int rc, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	o.opts.dir = cli.dir;
	o.pass_file = cli.pass_file;
	/* Bad values are usage errors, found before any key is made. */
	if ((rc = ca_init_args_check(&o)) == CA_ERR_INVAL) {
		ca_init_args_free(&o);
		return ca_cli_usage("%s", ca_errmsg());
	}
	if (rc != 0 || (rc = ca_init_args_secrets(&o)) != 0)
		goto fail;
	if (o.opts.unencrypted_intermediate && !ca_cli_quiet)
		ca_cli_warn("warning: the intermediate key is stored unencrypted "
		    "(protected only by file mode 0600)");
	if ((rc = ca_init_create(&o.opts, &fp)) != 0)
		goto fail;
	printf("%s\n", fp);
	status = fflush(stdout) == 0 ? 0 : CA_EXIT_FAIL;
	goto out;
fail:
	status = ca_cli_fail(rc);
out:
	ca_init_args_free(&o);
	free(fp);
	return status;
}
