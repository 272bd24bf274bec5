/*
 * ca-db - list, show and audit what the CA has issued.
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
#include "conf.h"
#include "crl.h"
#include "db.h"
#include "json.h"
#include "x509.h"

static const char usage[] =
"Usage: ca-db -d DIR list [--json]\n"
"       ca-db -d DIR show [--json] SERIAL\n"
"       ca-db -d DIR check\n"
"List the certificates the CA has issued, show one (SERIAL in decimal, or\n"
"hex with 0x or colons), or audit the whole database.\n"
"\n"
"  -d, --state-dir DIR   the CA's directory (default $CA_STATE_DIR)\n"
"      --json            JSON output\n"
"  -q, --quiet           check: print only problems\n"
"  -v, --verbose         say more\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"Exit status: 0 success, 1 failure (check: problems found), 2 usage error,\n"
"4 database busy (retry).\n";

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	CA_CLI_COMMON_OPTIONS,
};

/*
 * The names as JSON: "sans", an array with one string per name (a ','
 * inside a name stays inside it), and "names", the same by type.
 */
static void
names_json(struct json_object *o, const struct ca_names *nm)
{
	struct json_object *sans, *typed, *l;
	const char *name, *type;
	size_t i;

	if ((sans = json_object_new_array()) == NULL ||
	    (typed = json_object_new_object()) == NULL) {
		json_object_put(sans);
		return;
	}
	json_object_object_add(typed, "dns", json_object_new_array());
	json_object_object_add(typed, "ip", json_object_new_array());
	json_object_object_add(typed, "email", json_object_new_array());
	json_object_object_add(typed, "uri", json_object_new_array());
	for (i = 0; (name = ca_names_at(nm, i, &type)) != NULL; i++) {
		json_object_array_add(sans, json_object_new_string(name));
		if (json_object_object_get_ex(typed, type, &l))
			json_object_array_add(l, json_object_new_string(name));
	}
	json_object_object_add(o, "sans", sans);
	json_object_object_add(o, "names", typed);
}

static struct json_object *
info_json(const struct ca_cert_info *ci, time_t now)
{
	struct json_object *o = json_object_new_object();
	char t[32], *dec;
	unsigned char *bytes;
	size_t n;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "serial", json_object_new_string(ci->serial));
	if (ca_unhex(ci->serial, &bytes, &n) == 0) {
		if ((dec = ca_serial_decimal(bytes, n)) != NULL)
			json_object_object_add(o, "serialDecimal",
			    json_object_new_string(dec));
		free(dec);
		free(bytes);
	}
	json_object_object_add(o, "subject", json_object_new_string(ci->subject));
	names_json(o, &ci->names);
	ca_time_format(ci->not_before, t, sizeof(t));
	json_object_object_add(o, "notBefore", json_object_new_string(t));
	ca_time_format(ci->not_after, t, sizeof(t));
	json_object_object_add(o, "notAfter", json_object_new_string(t));
	json_object_object_add(o, "provisioner", ci->provisioner ?
	    json_object_new_string(ci->provisioner) : NULL);
	json_object_object_add(o, "status",
	    json_object_new_string(ca_cert_info_status(ci, now)));
	if (ci->issued_at) {
		ca_time_format(ci->issued_at, t, sizeof(t));
		json_object_object_add(o, "issuedAt", json_object_new_string(t));
	}
	if (ci->renewed_from != NULL)
		json_object_object_add(o, "renewedFrom",
		    json_object_new_string(ci->renewed_from));
	if (ci->revoked) {
		ca_time_format(ci->revoked_at, t, sizeof(t));
		json_object_object_add(o, "revokedAt", json_object_new_string(t));
		json_object_object_add(o, "reasonCode", json_object_new_int(
		    ci->reason < 0 ? 0 : ci->reason));
		json_object_object_add(o, "reason", json_object_new_string(
		    ca_reason_name(ci->reason)));
		if (ci->reason_text != NULL)
			json_object_object_add(o, "reasonText",
			    json_object_new_string(ci->reason_text));
	}
	return o;
}

static int
print_json(struct json_object *o)
{
	char *s = ca_json_dump_pretty(o);
	int rc;

	if (s == NULL)
		return ca_err(CA_ERR_NOMEM, "out of memory");
	rc = fputs(s, stdout) < 0 ? ca_err(CA_ERR_IO, "standard output") : 0;
	free(s);
	return rc;
}

static int
cmd_list(struct ca_authority *a, int json)
{
	struct ca_cert_info *v = NULL;
	struct json_object *arr = NULL;
	time_t now = time(NULL);
	char t[32];
	size_t n = 0, i;
	int rc;

	if ((rc = ca_authority_db_list(a, &v, &n)) != 0)
		return rc;
	if (json) {
		if ((arr = json_object_new_array()) == NULL)
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
		for (i = 0; i < n && rc == 0; i++)
			json_object_array_add(arr, info_json(&v[i], now));
		if (rc == 0)
			rc = print_json(arr);
		json_object_put(arr);
	} else {
		printf("SERIAL\tNOT-AFTER\tSTATUS\tPROVISIONER\tSUBJECT\tSANS\t"
		    "REVOKED-AT\tREASON\n");
		for (i = 0; i < n && rc == 0; i++) {
			char rt[32] = "-", *sans, *prov, *sub;

			ca_time_format(v[i].not_after, t, sizeof(t));
			if (v[i].revoked)
				ca_time_format(v[i].revoked_at, rt, sizeof(rt));
			sans = ca_names_text(&v[i].names);
			prov = ca_text_escape(v[i].provisioner ?
			    v[i].provisioner : "-", NULL);
			sub = ca_text_escape(v[i].subject, NULL);
			if (sans != NULL && prov != NULL && sub != NULL)
				printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				    v[i].serial, t,
				    ca_cert_info_status(&v[i], now), prov, sub,
				    sans, rt, v[i].revoked ?
				    ca_reason_name(v[i].reason) : "-");
			else
				rc = ca_err(CA_ERR_NOMEM, "out of memory");
			free(sans);
			free(prov);
			free(sub);
		}
	}
	for (i = 0; i < n; i++)
		ca_cert_info_free(&v[i]);
	free(v);
	return rc;
}

static int
cmd_show(struct ca_authority *a, const char *arg, int json)
{
	struct ca_cert_info ci;
	struct json_object *o;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	char *serial = NULL, *sans = NULL, *sub = NULL, *prov = NULL;
	char *why = NULL, t1[32], t2[32];
	int rc;

	if ((rc = ca_serial_canon(arg, &serial)) != 0)
		return rc;
	rc = ca_authority_db_get(a, serial, &ci);
	free(serial);
	if (rc != 0)
		return rc;
	if ((rc = ca_x509_import(ci.der, ci.der_len, &crt)) != 0 ||
	    (rc = ca_x509_export(crt, GNUTLS_X509_FMT_PEM, &pem)) != 0)
		goto out;
	if (json) {
		if ((o = info_json(&ci, time(NULL))) == NULL) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		json_object_object_add(o, "pem",
		    json_object_new_string_len((char *)pem.data, (int)pem.size));
		rc = print_json(o);
		json_object_put(o);
	} else {
		if ((sans = ca_names_text(&ci.names)) == NULL ||
		    (sub = ca_text_escape(ci.subject, NULL)) == NULL ||
		    (prov = ca_text_escape(ci.provisioner ? ci.provisioner :
		    "-", NULL)) == NULL || (ci.reason_text != NULL &&
		    (why = ca_text_escape(ci.reason_text, NULL)) == NULL)) {
			rc = ca_err(CA_ERR_NOMEM, "out of memory");
			goto out;
		}
		ca_time_format(ci.not_before, t1, sizeof(t1));
		ca_time_format(ci.not_after, t2, sizeof(t2));
		printf("serial: %s\nsubject: %s\nsans: %s\nnot-before: %s\n"
		    "not-after: %s\nstatus: %s\nprovisioner: %s\n",
		    ci.serial, sub, sans, t1, t2,
		    ca_cert_info_status(&ci, time(NULL)), prov);
		if (ci.renewed_from != NULL)
			printf("renewed-from: %s\n", ci.renewed_from);
		if (ci.revoked) {
			ca_time_format(ci.revoked_at, t1, sizeof(t1));
			printf("revoked-at: %s\nreason: %s\n", t1,
			    ca_reason_name(ci.reason));
			if (why != NULL)
				printf("reason-text: %s\n", why);
		}
		printf("%.*s", (int)pem.size, (char *)pem.data);
	}
out:
	free(sans);
	free(sub);
	free(prov);
	free(why);
	gnutls_free(pem.data);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	ca_cert_info_free(&ci);
	return rc;
}

static void
report(void *arg, const char *problem)
{
	(void)arg;
	printf("%s\n", problem);
}

static int
cmd_check(struct ca_authority *a, int quiet, size_t *problems)
{
	size_t certs = 0;
	int rc;

	rc = ca_authority_db_check(a, report, NULL, problems, &certs);
	if (rc == 0 && (!quiet || *problems > 0))
		printf("%zu certificates, %zu problems\n", certs, *problems);
	return rc;
}

int
main(int argc, char **argv)
{
	struct ca_authority *a = NULL;
	const char *dir = NULL, *cmd;
	unsigned long seen = 0;
	size_t problems = 0;
	int ch, rc, json = 0, nargs;

	ca_cli_init(argv);
	while ((ch = getopt_long(argc, argv, "d:" CA_CLI_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (ca_cli_once(&seen, 0, "state-dir"))
				return CA_EXIT_USAGE;
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			if ((rc = ca_cli_common(ch, usage)) >= 0)
				return rc;
			break;
		}
	}
	if (optind >= argc)
		return ca_cli_usage("a command is required: list, show or check");
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "check") == 0) {
		if (nargs != 0)
			return ca_cli_usage("%s takes no arguments", cmd);
	} else if (strcmp(cmd, "show") == 0) {
		if (nargs != 1)
			return ca_cli_usage("show takes one SERIAL");
	} else
		return ca_cli_usage("unknown command '%s'", cmd);
	if (json && strcmp(cmd, "check") == 0)
		return ca_cli_usage("--json applies to list and show");
	if ((dir = ca_config_state_dir(dir)) == NULL)
		return ca_cli_usage("%s", ca_errmsg());
	if (strcmp(cmd, "show") == 0) {
		char *canon;
		if (ca_serial_canon(argv[optind + 1], &canon) != 0)
			return ca_cli_usage("%s", ca_errmsg());
		free(canon);
	}
	if ((rc = ca_authority_open_public(dir, &a)) != 0)
		return ca_cli_fail(rc);
	if (strcmp(cmd, "list") == 0)
		rc = cmd_list(a, json);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(a, argv[optind + 1], json);
	else
		rc = cmd_check(a, ca_cli_quiet, &problems);
	ca_authority_close(a);
	if (rc != 0)
		return ca_cli_fail(rc);
	if (fflush(stdout) != 0)
		return CA_EXIT_FAIL;
	return problems > 0 ? CA_EXIT_FAIL : 0;
}
