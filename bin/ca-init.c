/*
 * ca-init - create a certificate authority in a state directory.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "authority.h"
#include "cli.h"
#include "client.h"
#include "conf.h"
#include "keys.h"
#include "pkcs11.h"
#include "x509.h"

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

static struct ca_init_opts o = { .address = ":443" };
static const char *ppass_file, *upass_file, *kms_pin;
static char *dns[64];
static size_t ndns;
static int ra;

static int
dns_opt(char *arg, void *dest)
{
	char *tok, *save;

	(void)dest;
	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (ndns == sizeof(dns) / sizeof(dns[0]))
			return ca_cli_usage("too many --dns names");
		dns[ndns++] = tok;
	}
	return 0;
}

static const struct ca_cli_opt opts[] = {
	CA_OPT("name", 'n', STRING, &o.name),
	{ "dns", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, dns_opt, 0, 0 },
	CA_OPT("address", 0, STRING, &o.address),
	CA_OPT("provisioner", 0, STRING, &o.provisioner),
	CA_OPT("provisioner-password-file", 0, STRING, &ppass_file),
	CA_OPT("key-type", 0, STRING, &o.key_type),
	CA_OPT("unencrypted-intermediate-key", 0, FLAG,
	    &o.unencrypted_intermediate),
	CA_OPT("provisioner-key-out", 0, STRING, &o.prov_key_out),
	CA_OPT("ra", 0, FLAG, &ra),
	CA_OPT("upstream", 0, STRING, &o.ra_url),
	CA_OPT("upstream-fingerprint", 0, STRING, &o.ra_fingerprint),
	CA_OPT("upstream-provisioner", 0, STRING, &o.ra_provisioner),
	CA_OPT("upstream-password-file", 0, STRING, &upass_file),
	CA_OPT("kms", 0, STRING, &o.kms),
	CA_OPT("kms-pin-file", 0, STRING, &kms_pin),
	CA_OPT_END,
};

/* --kms and --kms-pin-file: usage errors found before any key is made. */
static int
kms_opts(const char *pin, char **pin_abs)
{
	*pin_abs = NULL;
	if (o.kms == NULL)
		return pin == NULL ? 0 :
		    ca_cli_usage("--kms-pin-file needs --kms");
	if (ra || o.unencrypted_intermediate)
		return ca_cli_usage("--kms makes the CA keys on a token: no "
		    "--ra or --unencrypted-intermediate-key");
	if (o.key_type != NULL && strcmp(o.key_type, "ed25519") == 0)
		return ca_cli_usage("--kms: --key-type ec-p256, ec-p384 or "
		    "rsa-3072");
	if (ca_pkcs11_kms_check(o.kms, "--kms") != 0)
		return ca_cli_usage("%s", ca_errmsg());
	if (strstr(o.kms, "pin-source=") != NULL && pin != NULL)
		return ca_cli_usage("the PIN file twice: --kms-pin-file and "
		    "pin-source in --kms");
	if (strstr(o.kms, "pin-source=") == NULL && pin == NULL)
		return ca_cli_usage("--kms needs --kms-pin-file FILE (or "
		    "pin-source=FILE in the URI)");
	/* ca.json names the PIN file for the tools that open the key. */
	if (pin != NULL && (*pin_abs = realpath(pin, NULL)) == NULL) {
		ca_err(CA_ERR_IO, "--kms-pin-file %s: %s", pin, strerror(errno));
		return ca_cli_fail(CA_ERR_IO);
	}
	o.kms_pin_file = *pin_abs;
	return 0;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_DIR |
	    CA_CLI_PASS, .opts = opts };
	char *kms_pin_abs = NULL;
	char *pw = NULL, *ppw = NULL, *upw = NULL, *fp = NULL, *fpc;
	size_t pwlen = 0, ppwlen = 0, upwlen = 0;
	struct ca_names names;
	enum ca_key_type kt;
	int rc, port, bad, status = CA_EXIT_FAIL;

	ca_cli_init(argv);
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	o.dir = cli.dir;
	if (o.name == NULL)
		return ca_cli_usage("--name is required");
	if (ndns == 0)
		return ca_cli_usage("--dns is required");
	if (o.provisioner == NULL)
		return ca_cli_usage("--provisioner is required");
	if (cli.pass_file == NULL)
		return ca_cli_usage("--password-file is required");
	if (ra) {
		if (o.ra_url == NULL || o.ra_fingerprint == NULL ||
		    o.ra_provisioner == NULL || upass_file == NULL)
			return ca_cli_usage("--ra needs --upstream, "
			    "--upstream-fingerprint, --upstream-provisioner and "
			    "--upstream-password-file");
		if (o.key_type != NULL || o.unencrypted_intermediate)
			return ca_cli_usage("--ra makes no CA keys: no --key-type "
			    "or --unencrypted-intermediate-key");
		if (ca_client_url_check(o.ra_url) != 0)
			return ca_cli_usage("--upstream: %s", ca_errmsg());
		if (ca_client_fingerprint_parse(o.ra_fingerprint, &fpc) != 0)
			return ca_cli_usage("--upstream-fingerprint: %s",
			    ca_errmsg());
		free(fpc);
	} else if (o.ra_url != NULL || o.ra_fingerprint != NULL ||
	    o.ra_provisioner != NULL || upass_file != NULL)
		return ca_cli_usage("the --upstream options need --ra");
	if ((rc = kms_opts(kms_pin, &kms_pin_abs)) != 0)
		return rc;
	o.dns = (const char *const *)dns;
	o.n_dns = ndns;
	/* Bad values are usage errors, found before any key is made. */
	if (o.key_type != NULL && ca_key_type_parse(o.key_type, &kt) != 0)
		return ca_cli_usage("--key-type: %s", ca_errmsg());
	if (ca_address_parse(o.address, &port) != 0)
		return ca_cli_usage("--address: %s", ca_errmsg());
	if (ca_names_classify(o.dns, o.n_dns, &names) != 0)
		return ca_cli_usage("--dns: %s", ca_errmsg());
	bad = names.n_email > 0 || names.n_uri > 0;
	ca_names_free(&names);
	if (bad)
		return ca_cli_usage("--dns takes DNS names and IP addresses");
	if ((rc = ca_secret_read(cli.pass_file, &pw, &pwlen)) != 0)
		goto fail;
	if (ppass_file != NULL &&
	    (rc = ca_secret_read(ppass_file, &ppw, &ppwlen)) != 0)
		goto fail;
	if (upass_file != NULL &&
	    (rc = ca_secret_read(upass_file, &upw, &upwlen)) != 0)
		goto fail;
	o.password = pw;
	o.prov_password = ppw != NULL ? ppw : pw;
	o.ra_password = upw;
	if (o.unencrypted_intermediate && !ca_cli_quiet)
		ca_cli_warn("warning: the intermediate key is stored unencrypted "
		    "(protected only by file mode 0600)");
	if ((rc = ca_init_create(&o, &fp)) != 0)
		goto fail;
	printf("%s\n", fp);
	status = fflush(stdout) == 0 ? 0 : CA_EXIT_FAIL;
	goto out;
fail:
	status = ca_cli_fail(rc);
out:
	ca_free_secret(pw, pwlen);
	ca_free_secret(ppw, ppwlen);
	ca_free_secret(upw, upwlen);
	free(kms_pin_abs);
	free(fp);
	return status;
}
