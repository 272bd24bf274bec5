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
#include "json.h"
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
		{ "add", 1, 0, 0, 0, "k8ssa", "sa.pub", -1, NULL },
		{ "add", 1, 0, 0, 0, "K8sSA", NULL, -1, "add --type K8sSA: --public-key FILE is required" },
		{ "add", 1, 1, 1, 0, "K8sSA", "sa.pub", -1, "--type K8sSA takes --public-key (repeatable), and no --create" },
		{ "add", 1, 0, 0, 0, "X5C", NULL, -1, "add --type X5C: --x5c-roots FILE is required" },
		{ "add", 1, 0, 0, 0, "X5C", "k.json", -1, "--type X5C takes --x5c-roots, and no" },
		{ "add", 1, 0, 0, 0, "OIDC", NULL, -1, "--type OIDC needs --client-id" },
		{ "add", 1, 0, 0, 0, "SCEP", NULL, -1, "add --type SCEP: --challenge-file" },
		{ "add", 1, 0, 0, 0, "SSH", NULL, -1, "--type SSH: JWK, ACME, X5C, K8sSA, OIDC or SCEP" },
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
	a.cmd = "add";
	a.nargs = 1;
	a.type = "x5c";
	a.x5c_roots = "roots.pem";
	ok(ca_prov_args_check(&a) == 0, "add --type x5c --x5c-roots: accepted");
	a.type = NULL;
	ok(ca_prov_args_check(&a) == CA_ERR_INVAL && strstr(ca_errmsg(),
	    "--x5c-roots applies to --type X5C") != NULL,
	    "--x5c-roots for a JWK provisioner: refused");
	ca_prov_args_init(&a);
	a.cmd = "add";
	a.nargs = 1;
	ok(ca_prov_args_public_key(&a, "a.json") == 0 &&
	    ca_prov_args_public_key(&a, "b.json") == 0 &&
	    ca_prov_args_check(&a) == CA_ERR_INVAL && strstr(ca_errmsg(),
	    "--public-key: one for --type JWK") != NULL,
	    "two --public-key for a JWK provisioner: refused");
	a.type = "K8sSA";
	ok(ca_prov_args_check(&a) == 0 && a.n_public_keys == 2,
	    "two --public-key for K8sSA: accepted");
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

/* The policy options: which go with which command, and their change. */
static void
policy_args(void)
{
	struct ca_prov_args a;
	int i;

	ca_prov_args_init(&a);
	a.cmd = "update";
	a.nargs = 1;
	ok(ca_prov_args_rule(&a, CA_PROV_DENY_CN, "") == CA_ERR_INVAL &&
	    strcmp(ca_errmsg(), "--x509-deny-cn: an empty entry") == 0,
	    "policy: an empty entry refused (%s)", ca_errmsg());
	for (i = 0; i < CA_PROV_RULES_MAX; i++)
		if (ca_prov_args_rule(&a, CA_PROV_ALLOW_DNS, "x.test") != 0)
			break;
	ok(i == CA_PROV_RULES_MAX && ca_prov_args_rule(&a, CA_PROV_ALLOW_DNS,
	    "x.test") == CA_ERR_INVAL && strstr(ca_errmsg(), "more than 64"),
	    "policy: at most 64 entries");
	a.nrules = 1;
	a.remove_names = 1;
	ok(ca_prov_args_check(&a) == 0 && a.change.nrules == 1 &&
	    a.change.remove_rules == 1 && a.change.allow_wildcards == -1,
	    "policy: update --remove-names (%s)", ca_errmsg());
	a.nrules = 0;
	ok(ca_prov_args_check(&a) == CA_ERR_INVAL && strstr(ca_errmsg(),
	    "--remove-names applies to update with"), "policy: --remove-names "
	    "alone");
	a.remove_names = 0;
	a.allow_wildcards = 1;
	ok(ca_prov_args_check(&a) == 0 && a.change.allow_wildcards == 1,
	    "policy: update with only a policy option");
	a.disallow_wildcards = 1;
	ok(ca_prov_args_check(&a) == CA_ERR_INVAL, "policy: allow and "
	    "disallow wildcards exclude each other");
	a.allow_wildcards = 0;
	a.cmd = "remove";
	ok(ca_prov_args_check(&a) == CA_ERR_INVAL && strstr(ca_errmsg(),
	    "remove takes no claims, templates or policy"), "policy: remove");
	a.cmd = "list";
	a.nargs = 0;
	ok(ca_prov_args_check(&a) == CA_ERR_INVAL, "policy: list");
	a.cmd = "add";
	a.nargs = 1;
	a.disallow_wildcards = 0;
	a.nrules = 2;
	a.remove_names = 1;
	a.type = "ACME";
	ok(ca_prov_args_check(&a) == CA_ERR_INVAL, "policy: add "
	    "--remove-names");
	{
		char a0[] = "ca-provisioner", a1[] = "update",
		    a2[] = "--x509-allow-dns", a3[] = "a.test",
		    a4[] = "--ssh-host-allow-dns=b.test", dd[] = "--";
		char *v[] = { a0, a1, a2, a3, a4, NULL };

		ok(ca_prov_args_no_ssh(5, v) == CA_ERR_INVAL && strcmp(
		    ca_errmsg(), "--ssh-host-allow-dns: ca-tools issues no SSH "
		    "certificates, so it keeps no SSH policy or claims") == 0,
		    "policy: an SSH flag refused (%s)", ca_errmsg());
		v[4] = dd;
		ok(ca_prov_args_no_ssh(5, v) == 0, "policy: not after --");
	}
}

/* The policy member of provisioner i in ca.json, as plain JSON ("" none). */
static char *
policy_of(size_t i)
{
	struct json_object *doc = NULL, *a, *pol;
	char *buf = slurp("config/ca.json"), *s = NULL;

	if (buf != NULL && ca_json_parse(buf, strlen(buf), "ca.json",
	    &doc) == 0 && json_object_object_get_ex(doc, "authority", &a) &&
	    json_object_object_get_ex(a, "provisioners", &a))
		s = strdup(json_object_object_get_ex(json_object_array_get_idx(
		    a, i), "policy", &pol) ? json_object_to_json_string_ext(pol,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "");
	json_object_put(doc);
	free(buf);
	return s;
}

/* Edits of policy.x509: appended, removed, emptied parts gone, checked. */
static void
policy_edits(void)
{
	static const struct ca_prov_rule add[] = {
		{ CA_PROV_ALLOW_DNS, "*.ok.test" },
		{ CA_PROV_DENY_DNS, "bad.ok.test" },
		{ CA_PROV_ALLOW_DNS, "ok.test" },
		{ CA_PROV_ALLOW_IP, "10.0.0.0/8" },
	}, rm[] = {
		{ CA_PROV_ALLOW_DNS, "ok.test" },
		{ CA_PROV_ALLOW_IP, "10.0.0.0/8" },
		{ CA_PROV_DENY_DNS, "bad.ok.test" },
		{ CA_PROV_DENY_CN, "never.there" },
	}, bad[] = {
		{ CA_PROV_ALLOW_DNS, "*.*.ok.test" },
	}, rest[] = {
		{ CA_PROV_ALLOW_DNS, "*.ok.test" },
	};
	struct ca_prov_change c;
	char *s;

	ca_prov_change_init(&c);
	c.rules = add;
	c.nrules = 4;
	c.allow_wildcards = 1;
	is_int(ca_provisioner_edit(tmpdir, CA_PROV_UPDATE, "second", NULL, &c),
	    0, "policy: added");
	s = policy_of(1);
	is_str(s, "{\"x509\":{\"allow\":{\"dns\":[\"*.ok.test\",\"ok.test\"],"
	    "\"ip\":[\"10.0.0.0/8\"]},\"deny\":{\"dns\":[\"bad.ok.test\"]},"
	    "\"allowWildcardNames\":true}}", "policy: step's shape");
	free(s);
	c.rules = bad;
	c.nrules = 1;
	c.allow_wildcards = -1;
	refused(CA_PROV_UPDATE, "second", &c, CA_ERR_CONFIG, "*.*.ok.test");
	ca_prov_change_init(&c);
	c.rules = rm;
	c.nrules = 4;
	c.remove_rules = 1;
	c.allow_wildcards = 0;
	is_int(ca_provisioner_edit(tmpdir, CA_PROV_UPDATE, "second", NULL, &c),
	    0, "policy: removed");
	s = policy_of(1);
	is_str(s, "{\"x509\":{\"allow\":{\"dns\":[\"*.ok.test\"]}}}",
	    "policy: emptied lists and objects gone");
	free(s);
	c.rules = rest;
	c.nrules = 1;
	is_int(ca_provisioner_edit(tmpdir, CA_PROV_UPDATE, "second", NULL, &c),
	    0, "policy: the last entry removed");
	s = policy_of(1);
	is_str(s, "", "policy: no policy member left");
	free(s);
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
	policy_args();
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
	policy_edits();
	is_int(ca_provisioner_edit(tmpdir, CA_PROV_REMOVE, "acme", NULL, NULL),
	    0, "remove acme, second remains");
	refused(CA_PROV_REMOVE, "second", NULL, CA_ERR_INVAL, "last one");
	free(path);
	tmpdir_remove();
	return tap_done();
}
