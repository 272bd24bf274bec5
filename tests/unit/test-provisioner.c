/*
 * test-provisioner.c - unit tests of lib/provisioner.c: the names a
 * provisioner may have, and edits of a ca.json: the refused ones leave
 * ca.json and ca.json.bak byte for byte as they were, the others keep the
 * previous ca.json as ca.json.bak.
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "provisioner-args.h"
#include "tap.h"

/* A ca.json the loader takes without any other file of a CA. */
static const char conf[] =
"{ \"root\": \"certs/root_ca.crt\", \"crt\": \"certs/intermediate_ca.crt\",\n"
"  \"key\": \"secrets/intermediate_ca_key\", \"dnsNames\": [\"ca.test\"],\n"
"  \"authority\": { \"provisioners\": [ { \"type\": \"ACME\", \"name\": \"acme\" } ] } }\n";

static char *
slurp(const char *rel)
{
	char *path, *buf = NULL;
	size_t len;

	if ((path = ca_path_join(tmpdir, rel)) == NULL ||
	    ca_file_read(path, CA_MAX_CONFIG, &buf, &len) != 0)
		buf = NULL;
	free(path);
	return buf;
}

/* Whether the op on name is refused with code, ca.json and .bak untouched. */
static void
refused(enum ca_prov_op op, const char *name, const struct ca_prov_change *c,
    int code, const char *msg)
{
	struct json_object *p = NULL;
	char *before = slurp("config/ca.json"), *bak = slurp("config/ca.json.bak");
	char *after, *bak_after;
	int rc;

	if (op == CA_PROV_ADD)
		ca_provisioner_acme_new(name, &p);
	rc = ca_provisioner_edit(tmpdir, op, name, p, c);
	is_int(rc, code, "%s: refused", msg);
	ok(strstr(ca_errmsg(), msg) != NULL, "%s: the message (%s)", msg,
	    ca_errmsg());
	after = slurp("config/ca.json");
	bak_after = slurp("config/ca.json.bak");
	ok(before != NULL && after != NULL && strcmp(before, after) == 0,
	    "%s: ca.json unchanged", msg);
	ok((bak == NULL && bak_after == NULL) || (bak != NULL &&
	    bak_after != NULL && strcmp(bak, bak_after) == 0),
	    "%s: ca.json.bak unchanged", msg);
	json_object_put(p);
	free(before);
	free(after);
	free(bak);
	free(bak_after);
}

/* ca-provisioner's options: which go with which command. */
static void
args(void)
{
	static const struct {
		const char	*cmd;
		int		 nargs, create, password, json;
		const char	*type, *pubkey;
		long long	 max;
		const char	*err;	/* NULL: accepted */
	} t[] = {
		{ "add", 1, 1, 1, 0, NULL, NULL, -1, NULL },
		{ "add", 1, 1, 1, 0, "jwk", NULL, 3600, NULL },
		{ "add", 1, 0, 0, 0, "ACME", NULL, -1, NULL },
		{ "add", 1, 0, 0, 0, NULL, "k.json", -1, NULL },
		{ "list", 0, 0, 0, 1, NULL, NULL, -1, NULL },
		{ "update", 1, 0, 0, 0, NULL, NULL, 3600, NULL },
		{ "add", 1, 1, 0, 0, NULL, NULL, -1, "--create needs --password-file" },
		{ "add", 1, 0, 0, 0, NULL, NULL, -1, "add --type JWK: --create or --public-key" },
		{ "add", 1, 1, 1, 0, NULL, "k.json", -1, "add --type JWK: --create or --public-key" },
		{ "add", 1, 1, 1, 0, "ACME", NULL, -1, "--type ACME takes no key" },
		{ "add", 1, 0, 0, 0, "OIDC", NULL, -1, "--type OIDC: JWK or ACME" },
		{ "add", 1, 1, 1, 1, NULL, NULL, -1, "--json applies to list" },
		{ "update", 1, 0, 0, 0, NULL, NULL, -1, "update: nothing to change" },
		{ "update", 1, 1, 1, 0, NULL, NULL, 3600, "apply to add" },
		{ "remove", 1, 0, 0, 0, NULL, NULL, 3600, "remove takes no claims" },
		{ "remove", 0, 0, 0, 0, NULL, NULL, -1, "remove takes one NAME" },
		{ "list", 0, 0, 0, 0, NULL, NULL, 60, "list takes only --json" },
		{ "rename", 1, 0, 0, 0, NULL, NULL, -1, "unknown command 'rename'" },
		{ NULL, 0, 0, 0, 0, NULL, NULL, -1, "a command is required" },
	};
	struct ca_prov_args a;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ca_prov_args_init(&a);
		a.cmd = t[i].cmd;
		a.nargs = t[i].nargs;
		a.create = t[i].create;
		a.password = t[i].password;
		a.json = t[i].json;
		a.type = t[i].type;
		a.public_key = t[i].pubkey;
		a.max_dur = t[i].max;
		ca_err_clear();
		rc = ca_prov_args_check(&a);
		if (t[i].err == NULL)
			is_int(rc, 0, "args %zu accepted (%s)", i, ca_errmsg());
		else
			ok(rc == CA_ERR_INVAL && strstr(ca_errmsg(),
			    t[i].err) != NULL, "args %zu: %s (%s)", i, t[i].err,
			    ca_errmsg());
	}
	ca_prov_args_init(&a);
	ok(ca_prov_args_challenge(&a, "dns-01") == 0 &&
	    ca_prov_args_challenge(&a, "device-attest-01") == CA_ERR_INVAL &&
	    a.challenges == 0x2, "challenges: dns-01 taken, device-attest-01 not");
	ca_prov_args_init(&a);
	a.cmd = "update";
	a.nargs = 1;
	a.disable_renewal = a.no_allow_after_expiry = 1;
	a.default_dur = 7200;
	ok(ca_prov_args_check(&a) == 0 && a.change.disable_renewal == 1 &&
	    a.change.allow_renewal_after_expiry == 0 &&
	    a.change.default_dur == 7200 && a.change.max_dur == -1 &&
	    a.change.require_eab == -1, "the change of update");
}

int
main(void)
{
	static const struct {
		const char	*name;
		int		 ok;
	} names[] = {
		{ "admin", 1 }, { "ops@example.com", 1 }, { "\xc3\xa9quipe", 1 },
		{ "", 0 }, { "a\tb", 0 }, { "a\nb", 0 }, { "del\x7f", 0 },
	};
	struct ca_prov_change c;
	struct json_object *p;
	char longname[CA_PROV_NAME_MAX + 2], *path, *before, *bak;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		is_int(ca_provisioner_name_check(names[i].name),
		    names[i].ok ? 0 : CA_ERR_INVAL, "name %zu", i);
	memset(longname, 'n', sizeof(longname));
	longname[CA_PROV_NAME_MAX] = '\0';
	is_int(ca_provisioner_name_check(longname), 0, "128 bytes");
	longname[CA_PROV_NAME_MAX] = 'n';
	longname[CA_PROV_NAME_MAX + 1] = '\0';
	is_int(ca_provisioner_name_check(longname), CA_ERR_INVAL, "129 bytes");

	args();
	tmpdir_make("provisioner");
	if ((path = ca_path_join(tmpdir, "config")) == NULL ||
	    mkdir(path, 0700) != 0)
		return printf("Bail out! mkdir\n"), 1;
	free(path);
	path = ca_path_join(tmpdir, "config/ca.json");
	ok(ca_file_publish(path, conf, strlen(conf), 0640, 0) == 0, "ca.json");

	/* Refused: nothing written, not even a first backup. */
	ca_prov_change_init(&c);
	refused(CA_PROV_ADD, "acme", NULL, CA_ERR_EXISTS, "already exists");
	refused(CA_PROV_REMOVE, "acme", NULL, CA_ERR_INVAL, "last one");
	refused(CA_PROV_UPDATE, "nobody", &c, CA_ERR_NOTFOUND, "no provisioner");
	c.max_dur = 3600;	/* below the default 24h */
	refused(CA_PROV_UPDATE, "acme", &c, CA_ERR_CONFIG, "claims must satisfy");

	/* Done: the old file is the backup, with its mode. */
	before = slurp("config/ca.json");
	ca_provisioner_acme_new("second", &p);
	ca_prov_change_init(&c);
	c.challenges = 0x2;
	rc = ca_provisioner_edit(tmpdir, CA_PROV_ADD, "second", p, &c);
	is_int(rc, 0, "add second");
	json_object_put(p);
	bak = slurp("config/ca.json.bak");
	ok(before != NULL && bak != NULL && strcmp(before, bak) == 0,
	    "ca.json.bak is the ca.json before the edit");
	free(before);
	free(bak);
	before = slurp("config/ca.json");
	ok(before != NULL && strstr(before, "\"dns-01\"") != NULL &&
	    strstr(before, "http-01") == NULL, "second has challenges [dns-01]");
	free(before);
	{
		struct stat st;

		ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640,
		    "ca.json keeps its mode");
		free(path);
		path = ca_path_join(tmpdir, "config/ca.json.bak");
		ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640,
		    "ca.json.bak has it too");
	}
	is_int(ca_provisioner_edit(tmpdir, CA_PROV_REMOVE, "acme", NULL, NULL),
	    0, "remove acme, second remains");
	refused(CA_PROV_REMOVE, "second", NULL, CA_ERR_INVAL, "last one");
	free(path);
	tmpdir_remove();
	return tap_done();
}
