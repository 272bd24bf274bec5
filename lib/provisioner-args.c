/*
 * provisioner-args.c - ca-provisioner's options checked together (see
 * provisioner-args.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <config.h>

#include <string.h>
#include <strings.h>

#include <stdlib.h>

#include "ca.h"
#include "certtmpl.h"
#include "conf.h"
#include "json.h"
#include "provisioner-args.h"

void
ca_prov_args_init(struct ca_prov_args *a)
{
	memset(a, 0, sizeof(*a));
	a->min_dur = a->max_dur = a->default_dur = -1;
	ca_prov_change_init(&a->change);
}

int
ca_prov_args_challenge(struct ca_prov_args *a, const char *name)
{
	unsigned bit = ca_acme_challenge_bit(name);

	if (bit != 0) {
		a->challenges |= bit;
		return 0;
	}
	return ca_err(CA_ERR_INVAL, "--challenge %s: http-01, dns-01 or "
	    "tls-alpn-01", name);
}

int
ca_prov_args_public_key(struct ca_prov_args *a, const char *path)
{
	if (a->n_public_keys == CA_PROV_KEYS_MAX)
		return ca_err(CA_ERR_INVAL, "at most %d --public-key",
		    CA_PROV_KEYS_MAX);
	a->public_keys[a->n_public_keys++] = path;
	a->public_key = a->public_keys[0];
	return 0;
}

int
ca_prov_args_rule(struct ca_prov_args *a, enum ca_prov_list list,
    const char *value)
{
	static const char *const name[CA_PROV_LIST_N] = { "allow-dns",
	    "allow-ip", "allow-email", "allow-uri", "allow-cn", "deny-dns",
	    "deny-ip", "deny-email", "deny-uri", "deny-cn" };

	if (list >= CA_PROV_LIST_N)
		return ca_err(CA_ERR_INVAL, "no such policy list");
	if (*value == '\0')
		return ca_err(CA_ERR_INVAL, "--x509-%s: an empty entry",
		    name[list]);
	if (a->nrules == CA_PROV_RULES_MAX)
		return ca_err(CA_ERR_INVAL, "more than %d policy entries",
		    CA_PROV_RULES_MAX);
	a->rules[a->nrules].list = list;
	a->rules[a->nrules++].value = value;
	return 0;
}

int
ca_prov_args_no_ssh(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--ssh-", 6) == 0)
			return ca_err(CA_ERR_INVAL, "%.*s: ca-tools issues no "
			    "SSH certificates, so it keeps no SSH policy or "
			    "claims", (int)strcspn(argv[i], "="), argv[i]);
	return 0;
}

int
ca_prov_args_read(struct ca_prov_args *a)
{
	char *buf = NULL;
	size_t len;
	int rc;

	if (a->x509_template != NULL) {
		if ((rc = ca_file_read(a->x509_template, CA_CERTTMPL_FILE_MAX,
		    &a->template_text, &len)) != 0)
			return rc;
		if (strlen(a->template_text) != len || !ca_utf8_valid(
		    a->template_text, len))
			return ca_err(CA_ERR_INVAL, "%s: not UTF-8 text",
			    a->x509_template);
		a->change.x509_template = a->template_text;
	}
	if (a->x509_template_data != NULL) {
		if ((rc = ca_file_read(a->x509_template_data,
		    CA_CERTTMPL_FILE_MAX, &buf, &len)) != 0)
			return rc;
		rc = ca_json_parse(buf, len, a->x509_template_data,
		    &a->template_data);
		free(buf);
		if (rc != 0)
			return rc;
		if (!json_object_is_type(a->template_data, json_type_object))
			return ca_err(CA_ERR_INVAL, "%s: not a JSON object",
			    a->x509_template_data);
		a->change.x509_template_data = a->template_data;
	}
	return 0;
}

void
ca_prov_args_free(struct ca_prov_args *a)
{
	free(a->template_text);
	json_object_put(a->template_data);
	a->template_text = NULL;
	a->template_data = NULL;
}

/* X5C (--x5c-roots) and K8sSA (--public-key...): no other key or ACME option. */
static int
check_add_pem(const struct ca_prov_args *a, int x5c)
{
	if (a->create || a->password || a->challenges || a->require_eab ||
	    (x5c ? a->public_key != NULL : a->x5c_roots != NULL))
		return ca_err(CA_ERR_INVAL, "--type %s takes %s, and no "
		    "--create, --password-file, --challenge, --require-eab",
		    x5c ? "X5C" : "K8sSA", x5c ? "--x5c-roots" :
		    "--public-key (repeatable)");
	if (x5c ? a->x5c_roots == NULL : a->public_key == NULL)
		return ca_err(CA_ERR_INVAL, "add --type %s: %s is required",
		    x5c ? "X5C" : "K8sSA", x5c ? "--x5c-roots FILE" :
		    "--public-key FILE");
	return 0;
}

static const char *const oidc_names[3] = { "admins", "domains", "groups" };

int
ca_prov_args_oidc_add(struct ca_prov_args *a, enum ca_prov_oidc_list list,
    const char *value)
{
	if (*value == '\0')
		return ca_err(CA_ERR_INVAL, "an empty --%.*s", (int)strlen(
		    oidc_names[list]) - 1, oidc_names[list]);
	if (a->n_oidc[list] == CA_PROV_OIDC_MAX)
		return ca_err(CA_ERR_INVAL, "more than %d %s", CA_PROV_OIDC_MAX,
		    oidc_names[list]);
	a->oidc_lists[list][a->n_oidc[list]++] = value;
	return 0;
}

int
ca_prov_args_oidc_new(const struct ca_prov_args *a, const char *name,
    struct json_object **p)
{
	struct json_object *o, *l;
	char *secret = NULL;
	size_t len = 0, i, j;
	int rc = 0;

	*p = NULL;
	if (a->client_secret_file != NULL &&
	    (rc = ca_secret_read(a->client_secret_file, &secret, &len)) != 0)
		return rc;
	if ((o = json_object_new_object()) == NULL)
		goto nomem;
	json_object_object_add(o, "type", json_object_new_string("OIDC"));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "clientID",
	    json_object_new_string(a->client_id));
	json_object_object_add(o, "clientSecret",
	    json_object_new_string(secret != NULL ? secret : ""));
	json_object_object_add(o, "configurationEndpoint",
	    json_object_new_string(a->config_endpoint));
	for (i = 0; i < 3; i++) {
		if (a->n_oidc[i] == 0)
			continue;
		if ((l = json_object_new_array()) == NULL)
			goto nomem;
		for (j = 0; j < a->n_oidc[i]; j++)
			json_object_array_add(l,
			    json_object_new_string(a->oidc_lists[i][j]));
		json_object_object_add(o, oidc_names[i], l);
	}
	if (a->listen_address != NULL)
		json_object_object_add(o, "listenAddress",
		    json_object_new_string(a->listen_address));
	*p = o;
	goto out;
nomem:
	json_object_put(o);
	rc = ca_err(CA_ERR_NOMEM, "out of memory");
out:
	if (secret != NULL)
		ca_free_secret(secret, len);
	return rc;
}

/* SCEP: a challenge, and a decrypter or the intermediate. */
static int
check_scep(const struct ca_prov_args *a)
{
	if (a->create || a->public_key || a->password || a->challenges ||
	    a->require_eab)
		return ca_err(CA_ERR_INVAL, "--type SCEP takes no key, "
		    "--challenge or --require-eab (--challenge-file is its "
		    "challenge password)");
	if (a->challenge_file == NULL)
		return ca_err(CA_ERR_INVAL, "add --type SCEP: --challenge-file");
	if ((a->decrypter_cert == NULL) != (a->decrypter_key == NULL))
		return ca_err(CA_ERR_INVAL, "--decrypter-cert and "
		    "--decrypter-key go together");
	return 0;
}

/* The options of add, whose type is JWK unless acme (or another type). */
static int
check_add(const struct ca_prov_args *a, int acme)
{
	int scep = a->type != NULL && strcasecmp(a->type, "SCEP") == 0;
	int oidc = a->type != NULL && strcasecmp(a->type, "OIDC") == 0;
	int oidc_opts = a->client_id || a->client_secret_file ||
	    a->config_endpoint || a->listen_address || a->n_oidc[0] ||
	    a->n_oidc[1] || a->n_oidc[2];

	if (scep && !oidc_opts && a->x5c_roots == NULL)
		return check_scep(a);
	if (!scep && (a->challenge_file || a->decrypter_cert ||
	    a->decrypter_key))
		return ca_err(CA_ERR_INVAL, "--challenge-file, --decrypter-cert "
		    "and --decrypter-key apply to --type SCEP");
	if (oidc_opts && !oidc)
		return ca_err(CA_ERR_INVAL, "--client-id, --client-secret-file, "
		    "--configuration-endpoint, --admin, --domain, --group and "
		    "--listen-address apply to --type OIDC");
	if (a->type != NULL && (strcasecmp(a->type, "X5C") == 0 ||
	    strcasecmp(a->type, "K8sSA") == 0))
		return check_add_pem(a, strcasecmp(a->type, "X5C") == 0);
	if (a->x5c_roots != NULL)
		return ca_err(CA_ERR_INVAL, "--x5c-roots applies to --type X5C");
	if (oidc && (a->create || a->public_key || a->password ||
	    a->challenges || a->require_eab))
		return ca_err(CA_ERR_INVAL, "--type OIDC takes no key or ACME "
		    "option");
	if (oidc && (a->client_id == NULL || a->config_endpoint == NULL))
		return ca_err(CA_ERR_INVAL, "--type OIDC needs --client-id "
		    "and --configuration-endpoint");
	if (oidc)
		return 0;
	if (a->n_public_keys > 1)
		return ca_err(CA_ERR_INVAL, "--public-key: one for --type JWK "
		    "(repeatable for K8sSA)");
	if (a->type != NULL && !acme && strcasecmp(a->type, "JWK") != 0)
		return ca_err(CA_ERR_INVAL, "--type %s: JWK, ACME, X5C, K8sSA, "
		    "OIDC or SCEP", a->type);
	if (acme && (a->create || a->public_key || a->password))
		return ca_err(CA_ERR_INVAL, "--type ACME takes no key "
		    "(--create, --public-key, --password-file)");
	if (!acme && (a->challenges || a->require_eab))
		return ca_err(CA_ERR_INVAL, "--challenge and --require-eab "
		    "apply to --type ACME");
	if (!acme && a->create == (a->public_key != NULL))
		return ca_err(CA_ERR_INVAL, "add --type JWK: --create or "
		    "--public-key");
	if (a->create && !a->password)
		return ca_err(CA_ERR_INVAL, "--create needs --password-file");
	if (a->public_key && a->password)
		return ca_err(CA_ERR_INVAL, "--public-key takes no "
		    "--password-file");
	return 0;
}

int
ca_prov_args_check(struct ca_prov_args *a)
{
	struct ca_prov_change *c = &a->change;
	const char *cmd = a->cmd;
	int list, add, claims, policy, acme;

	if (cmd == NULL)
		return ca_err(CA_ERR_INVAL, "a command is required: list, add, "
		    "update or remove");
	list = strcmp(cmd, "list") == 0;
	add = strcmp(cmd, "add") == 0;
	if (!list && !add && strcmp(cmd, "update") != 0 &&
	    strcmp(cmd, "remove") != 0)
		return ca_err(CA_ERR_INVAL, "unknown command '%s'", cmd);
	if (a->nargs != (list ? 0 : 1))
		return ca_err(CA_ERR_INVAL, list ? "list takes no arguments" :
		    "%s takes one NAME", cmd);
	if ((a->disable_renewal && a->no_disable_renewal) ||
	    (a->allow_after_expiry && a->no_allow_after_expiry))
		return ca_err(CA_ERR_INVAL, "--X and --no-X exclude each other");
	if (a->allow_wildcards && a->disallow_wildcards)
		return ca_err(CA_ERR_INVAL, "--x509-allow-wildcard-names and "
		    "--x509-disallow-wildcard-names exclude each other");
	ca_prov_change_init(c);
	c->min_dur = a->min_dur;
	c->max_dur = a->max_dur;
	c->default_dur = a->default_dur;
	c->disable_renewal = a->disable_renewal ? 1 :
	    a->no_disable_renewal ? 0 : -1;
	c->allow_renewal_after_expiry = a->allow_after_expiry ? 1 :
	    a->no_allow_after_expiry ? 0 : -1;
	c->challenges = a->challenges;
	c->require_eab = a->require_eab ? 1 : -1;
	c->rules = a->rules;
	c->nrules = a->nrules;
	c->remove_rules = a->remove_names;
	c->allow_wildcards = a->allow_wildcards ? 1 :
	    a->disallow_wildcards ? 0 : -1;
	policy = a->nrules > 0 || c->allow_wildcards >= 0;
	claims = c->min_dur >= 0 || c->max_dur >= 0 || c->default_dur >= 0 ||
	    c->disable_renewal >= 0 || c->allow_renewal_after_expiry >= 0 ||
	    a->x509_template != NULL || a->x509_template_data != NULL ||
	    policy;
	acme = a->type != NULL && strcasecmp(a->type, "ACME") == 0;
	if (a->json && !list)
		return ca_err(CA_ERR_INVAL, "--json applies to list");
	if (a->remove_names && (strcmp(cmd, "update") != 0 ||
	    a->nrules == 0))
		return ca_err(CA_ERR_INVAL, "--remove-names applies to update "
		    "with --x509-allow-* or --x509-deny-*");
	if (list && (claims || a->pid_file != NULL))
		return ca_err(CA_ERR_INVAL, "list takes only --json");
	if (!add && (a->type || a->create || a->public_key || a->challenges ||
	    a->require_eab || a->password || a->x5c_roots ||
	    a->challenge_file || a->decrypter_cert || a->decrypter_key))
		return ca_err(CA_ERR_INVAL, "--type, --create, --public-key, "
		    "--password-file, --challenge, --require-eab, "
		    "--x5c-roots and the SCEP options apply to add");
	if (!add && (a->client_id || a->client_secret_file ||
	    a->config_endpoint || a->listen_address || a->n_oidc[0] ||
	    a->n_oidc[1] || a->n_oidc[2]))
		return ca_err(CA_ERR_INVAL, "the OIDC options apply to add");
	if (strcmp(cmd, "remove") == 0 && claims)
		return ca_err(CA_ERR_INVAL, "remove takes no claims, "
		    "templates or policy");
	if (strcmp(cmd, "update") == 0 && !claims)
		return ca_err(CA_ERR_INVAL, "update: nothing to change (the "
		    "claims, template and policy options)");
	return add ? check_add(a, acme) : 0;
}
