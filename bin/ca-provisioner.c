/*
 * ca-provisioner - list, add, update and remove the provisioners of a
 * state directory's ca.json.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.h"
#include "cli.h"
#include "provisioner-args.h"

static const char usage[] =
"Usage: ca-provisioner -d DIR list [--json]\n"
"       ca-provisioner -d DIR add NAME [--type JWK] (--create --password-file FILE\n"
"                      | --public-key FILE) [CLAIMS | POLICY]...\n"
"                      [--pid-file FILE]\n"
"       ca-provisioner -d DIR add NAME --type ACME [--challenge NAME]...\n"
"                      [--require-eab] [CLAIMS | POLICY]... [--pid-file FILE]\n"
"       ca-provisioner -d DIR add NAME --type X5C --x5c-roots FILE\n"
"                      [CLAIMS | POLICY]... [--pid-file FILE]\n"
"       ca-provisioner -d DIR add NAME --type K8sSA --public-key FILE...\n"
"                      [CLAIMS | POLICY]... [--pid-file FILE]\n"
"       ca-provisioner -d DIR add NAME --type OIDC --client-id ID\n"
"                      --configuration-endpoint URL [--client-secret-file FILE]\n"
"                      [--admin E] [--domain D] [--group G] [--listen-address A]\n"
"                      [CLAIMS | POLICY]... [--pid-file FILE]\n"
"       ca-provisioner -d DIR add NAME --type SCEP --challenge-file FILE\n"
"                      [--decrypter-cert FILE --decrypter-key FILE]\n"
"                      [CLAIMS | POLICY]... [--pid-file FILE]\n"
"       ca-provisioner -d DIR update NAME (CLAIMS | TEMPLATE | POLICY)...\n"
"                      [--remove-names] [--pid-file FILE]\n"
"       ca-provisioner -d DIR remove NAME [--pid-file FILE]\n"
"List the provisioners of the CA's config/ca.json, or edit it: each edit is\n"
"checked by the loader ca-serve uses before it replaces ca.json (the old one\n"
"is kept as config/ca.json.bak).\n"
"\n"
"  -d, --state-dir DIR       the CA's directory (default $CA_STATE_DIR)\n"
"      --json                list: the provisioners as ca.json holds them\n"
"      --type TYPE           add: JWK (default), ACME, X5C, K8sSA, OIDC or\n"
"                            SCEP\n"
"      --create              add: make a new key, encrypted under the password\n"
"      --password-file FILE  the password of the new key\n"
"      --public-key FILE     add: the provisioner's public JWK instead\n"
"                            (K8sSA: a PEM public key, repeatable)\n"
"      --x5c-roots FILE      X5C: the root certificates (PEM) that token\n"
"                            certificate chains must verify to\n"
"      --challenge NAME      ACME: http-01, dns-01 or tls-alpn-01 (repeatable;\n"
"                            default: all three)\n"
"      --require-eab         ACME: accounts need external account binding\n"
"      --client-id ID        OIDC: the client at the OpenID provider\n"
"      --client-secret-file FILE  OIDC: its secret, if it has one (public\n"
"                            in /provisioners, as step-ca publishes it)\n"
"      --configuration-endpoint URL  OIDC: the provider's discovery URL\n"
"      --admin EMAIL|GROUP   OIDC: may ask for any name (repeatable)\n"
"      --domain DOMAIN       OIDC: allowed e-mail domain (repeatable)\n"
"      --group GROUP         OIDC: allowed group (repeatable)\n"
"      --listen-address ADDR  OIDC: ca-token --oidc's redirect listener\n"
"      --challenge-file FILE SCEP: the challenge password (its first line)\n"
"      --decrypter-cert FILE SCEP: the RSA certificate clients encrypt to\n"
"      --decrypter-key FILE  SCEP: its key (PEM); without them, the\n"
"                            intermediate's, which must then be RSA\n"
"      --x509-min-dur DUR    claims: shortest certificate lifetime\n"
"      --x509-max-dur DUR    claims: longest certificate lifetime\n"
"      --x509-default-dur DUR  claims: lifetime when none is asked for\n"
"      --disable-renewal     claims: no renewal ...\n"
"      --no-disable-renewal  ... or renewal again\n"
"      --allow-renewal-after-expiry  claims: renewal of an expired\n"
"                            certificate ...\n"
"      --no-allow-renewal-after-expiry  ... or not\n"
"      --x509-template FILE  template: certificate template (step's JSON\n"
"                            template), stored in ca.json\n"
"      --x509-template-data FILE  template: a JSON object given to it\n"
"      --x509-allow-dns NAME   policy: append to policy.x509.allow.dns\n"
"      --x509-allow-ip IP|CIDR   ... allow.ip (all repeatable)\n"
"      --x509-allow-email ADDR   ... allow.email\n"
"      --x509-allow-uri PATTERN  ... allow.uri\n"
"      --x509-allow-cn NAME    ... allow.cn\n"
"      --x509-deny-dns NAME    ... deny.dns\n"
"      --x509-deny-ip IP|CIDR  ... deny.ip\n"
"      --x509-deny-email ADDR  ... deny.email\n"
"      --x509-deny-uri PATTERN ... deny.uri\n"
"      --x509-deny-cn NAME     ... deny.cn\n"
"      --remove-names        update: remove those entries instead\n"
"      --x509-allow-wildcard-names  policy: wildcard names may be issued\n"
"      --x509-disallow-wildcard-names  ... or not (the default)\n"
"      --pid-file FILE       after the edit, SIGHUP to the ca-serve whose\n"
"                            process id FILE holds (it reloads ca.json)\n"
"  -q, --quiet               no warnings\n"
"  -v, --verbose             say more\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error, 4 another edit holds the\n"
"lock (retry).\n";

static struct ca_prov_args o;

static int
challenge(char *arg, void *dest)
{
	(void)dest;
	if (ca_prov_args_challenge(&o, arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

/* --public-key: one (JWK), or repeatable (K8sSA). */
static int
public_key(char *arg, void *dest)
{
	(void)dest;
	if (ca_prov_args_public_key(&o, arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static enum ca_prov_list lists[CA_PROV_LIST_N] = { CA_PROV_ALLOW_DNS,
	CA_PROV_ALLOW_IP, CA_PROV_ALLOW_EMAIL, CA_PROV_ALLOW_URI,
	CA_PROV_ALLOW_CN, CA_PROV_DENY_DNS, CA_PROV_DENY_IP, CA_PROV_DENY_EMAIL,
	CA_PROV_DENY_URI, CA_PROV_DENY_CN };

static int
rule(char *arg, void *dest)
{
	if (ca_prov_args_rule(&o, *(enum ca_prov_list *)dest, arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

static enum ca_prov_oidc_list oidc_lists[3] = { CA_PROV_OIDC_ADMINS,
	CA_PROV_OIDC_DOMAINS, CA_PROV_OIDC_GROUPS };

static int
oidc_list(char *arg, void *dest)
{
	if (ca_prov_args_oidc_add(&o, *(enum ca_prov_oidc_list *)dest,
	    arg) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

/* --x509-allow-dns ...: repeatable, each value appended in order. */
#define RULE(n, l)	{ (n), 0, CA_OPT_CALL, &lists[(l)], CA_OPT_MULTI, \
			    rule, 0, 0 }

static const struct ca_cli_opt opts[] = {
	CA_OPT("json", 0, FLAG, &o.json),
	CA_OPT("type", 0, STRING, &o.type),
	CA_OPT("create", 0, FLAG, &o.create),
	{ "public-key", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, public_key, 0, 0 },
	CA_OPT("x5c-roots", 0, STRING, &o.x5c_roots),
	{ "challenge", 0, CA_OPT_CALL, NULL, CA_OPT_MULTI, challenge, 0, 0 },
	CA_OPT("require-eab", 0, FLAG, &o.require_eab),
	CA_OPT("client-id", 0, STRING, &o.client_id),
	CA_OPT("client-secret-file", 0, STRING, &o.client_secret_file),
	CA_OPT("configuration-endpoint", 0, STRING, &o.config_endpoint),
	CA_OPT("listen-address", 0, STRING, &o.listen_address),
	{ "admin", 0, CA_OPT_CALL, &oidc_lists[0], CA_OPT_MULTI, oidc_list,
	    0, 0 },
	{ "domain", 0, CA_OPT_CALL, &oidc_lists[1], CA_OPT_MULTI, oidc_list,
	    0, 0 },
	{ "group", 0, CA_OPT_CALL, &oidc_lists[2], CA_OPT_MULTI, oidc_list,
	    0, 0 },
	CA_OPT("challenge-file", 0, STRING, &o.challenge_file),
	CA_OPT("decrypter-cert", 0, STRING, &o.decrypter_cert),
	CA_OPT("decrypter-key", 0, STRING, &o.decrypter_key),
	CA_OPT("x509-min-dur", 0, DURATION, &o.min_dur),
	CA_OPT("x509-max-dur", 0, DURATION, &o.max_dur),
	CA_OPT("x509-default-dur", 0, DURATION, &o.default_dur),
	CA_OPT("disable-renewal", 0, FLAG, &o.disable_renewal),
	CA_OPT("no-disable-renewal", 0, FLAG, &o.no_disable_renewal),
	CA_OPT("allow-renewal-after-expiry", 0, FLAG, &o.allow_after_expiry),
	CA_OPT("no-allow-renewal-after-expiry", 0, FLAG,
	    &o.no_allow_after_expiry),
	CA_OPT("pid-file", 0, STRING, &o.pid_file),
	CA_OPT("x509-template", 0, STRING, &o.x509_template),
	CA_OPT("x509-template-data", 0, STRING, &o.x509_template_data),
	RULE("x509-allow-dns", CA_PROV_ALLOW_DNS),
	RULE("x509-allow-ip", CA_PROV_ALLOW_IP),
	RULE("x509-allow-email", CA_PROV_ALLOW_EMAIL),
	RULE("x509-allow-uri", CA_PROV_ALLOW_URI),
	RULE("x509-allow-cn", CA_PROV_ALLOW_CN),
	RULE("x509-deny-dns", CA_PROV_DENY_DNS),
	RULE("x509-deny-ip", CA_PROV_DENY_IP),
	RULE("x509-deny-email", CA_PROV_DENY_EMAIL),
	RULE("x509-deny-uri", CA_PROV_DENY_URI),
	RULE("x509-deny-cn", CA_PROV_DENY_CN),
	CA_OPT("remove-names", 0, FLAG, &o.remove_names),
	CA_OPT("x509-allow-wildcard-names", 0, FLAG, &o.allow_wildcards),
	CA_OPT("x509-disallow-wildcard-names", 0, FLAG,
	    &o.disallow_wildcards),
	CA_OPT_END,
};

static int
pre(struct ca_cli *cli)
{
	o.cmd = cli->argc > 0 ? cli->argv[0] : NULL;
	o.nargs = cli->argc - 1;
	o.password = cli->pass_file != NULL;
	if (ca_prov_args_check(&o) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	return 0;
}

/* The new provisioner of add, made before ca.json is locked. */
static int
make(const char *name, const char *pass_file, struct json_object **p)
{
	char *pw = NULL;
	size_t len;
	int rc, wrote = 0;

	if (o.x5c_roots != NULL)
		return ca_provisioner_pem_new("X5C", name, "roots",
		    &o.x5c_roots, 1, p);
	if (o.type != NULL && strcasecmp(o.type, "K8sSA") == 0)
		return ca_provisioner_pem_new("K8sSA", name, "publicKeys",
		    o.public_keys, o.n_public_keys, p);
	if (o.public_key != NULL)
		return ca_provisioner_jwk_public(name, o.public_key, p);
	if (o.client_id != NULL)
		return ca_prov_args_oidc_new(&o, name, p);
	if (o.challenge_file != NULL)
		return ca_provisioner_scep_new(name, o.challenge_file,
		    o.decrypter_cert, o.decrypter_key, p);
	if (!o.create)
		return ca_provisioner_acme_new(name, p);
	if ((rc = ca_secret_read(pass_file, &pw, &len)) != 0)
		return rc;
	rc = ca_provisioner_jwk_new(name, pw, len, 0, NULL, p, &wrote);
	ca_free_secret(pw, len);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_cli cli = { .usage = usage, .common = CA_CLI_DIR |
	    CA_CLI_PASS, .opts = opts, .maxargs = 2, .pre = pre };
	struct json_object *p = NULL;
	const char *cmd;
	int rc;

	ca_cli_init(argv);
	ca_prov_args_init(&o);
	if (ca_prov_args_no_ssh(argc, argv) != 0)
		return ca_cli_usage("%s", ca_errmsg());
	if ((rc = ca_cli_parse(&cli, argc, argv)) >= 0)
		return rc;
	cmd = cli.argv[0];
	if ((rc = ca_prov_args_read(&o)) != 0)
		return ca_cli_fail(rc);
	if (strcmp(cmd, "list") == 0)
		rc = ca_provisioner_list(cli.dir, o.json, stdout);
	else if (strcmp(cmd, "add") == 0) {
		if ((rc = make(cli.argv[1], cli.pass_file, &p)) == 0)
			rc = ca_provisioner_edit(cli.dir, CA_PROV_ADD,
			    cli.argv[1], p, &o.change);
		json_object_put(p);
	} else
		rc = ca_provisioner_edit(cli.dir, strcmp(cmd, "update") == 0 ?
		    CA_PROV_UPDATE : CA_PROV_REMOVE, cli.argv[1], NULL, &o.change);
	if (rc == 0 && o.pid_file != NULL && (rc =
	    ca_provisioner_notify(o.pid_file)) != 0)
		ca_err_context("ca.json is changed, but the server was not told");
	ca_prov_args_free(&o);
	if (rc != 0)
		return ca_cli_fail(rc);
	return fflush(stdout) != 0 ? CA_EXIT_FAIL : 0;
}
