/*
 * provisioner-args.h - ca-provisioner's command line checked together and
 * turned into the change an edit makes (lib/provisioner.h).
 *
 * Copyright (C) 2026 The ca-tools authors.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_PROVISIONER_ARGS_H
#define CA_PROVISIONER_ARGS_H

#include "provisioner.h"

#define CA_PROV_KEYS_MAX	16	/* --public-key given (K8sSA) */
#define CA_PROV_OIDC_MAX	64	/* --admin, --domain, --group each */
enum ca_prov_oidc_list { CA_PROV_OIDC_ADMINS, CA_PROV_OIDC_DOMAINS,
	CA_PROV_OIDC_GROUPS };

struct ca_prov_args {
	/* What the tool was given; NULL, 0 or -1 (durations): not given. */
	const char	*cmd;		/* list, add, update, remove */
	int		 nargs;		/* operands after cmd */
	int		 json, create, require_eab, password;
	const char	*type, *public_key, *pid_file;
	/* SCEP: --challenge-file, --decrypter-cert, --decrypter-key */
	const char	*challenge_file, *decrypter_cert, *decrypter_key;
	unsigned	 challenges;	/* --challenge, CA_ACME_* */
	long long	 min_dur, max_dur, default_dur;
	int		 disable_renewal, no_disable_renewal;
	int		 allow_after_expiry, no_allow_after_expiry;
	const char	*x509_template, *x509_template_data;	/* files */
	/* policy.x509: --x509-allow-dns ... in order; --remove-names */
	struct ca_prov_rule rules[CA_PROV_RULES_MAX];
	size_t		 nrules;
	int		 remove_names;
	int		 allow_wildcards, disallow_wildcards;
	/* X5C: --x5c-roots; K8sSA: --public-key, repeatable (JWK: one). */
	const char	*x5c_roots;
	const char	*public_keys[CA_PROV_KEYS_MAX];
	size_t		 n_public_keys;
	/* --type OIDC: --client-id ..., and the lists --admin, --domain,
	 * --group (index enum ca_prov_oidc_list). */
	const char	*client_id, *client_secret_file, *config_endpoint,
			*listen_address;
	const char	*oidc_lists[3][CA_PROV_OIDC_MAX];
	size_t		 n_oidc[3];
	/* Set by ca_prov_args_check; the templates by ca_prov_args_read. */
	struct ca_prov_change change;
	char		*template_text;
	struct json_object *template_data;
};

/* Clear a: nothing given. */
void	 ca_prov_args_init(struct ca_prov_args *a);
/* One --public-key FILE: 0, or CA_ERR_INVAL past CA_PROV_KEYS_MAX. */
int	 ca_prov_args_public_key(struct ca_prov_args *a, const char *path);
/* Add challenge name (http-01, dns-01, tls-alpn-01): 0 or CA_ERR_INVAL. */
int	 ca_prov_args_challenge(struct ca_prov_args *a, const char *name);
/*
 * Add value to the policy list (--x509-allow-dns ...), borrowed: 0, or
 * CA_ERR_INVAL past CA_PROV_RULES_MAX or for an empty value.
 */
int	 ca_prov_args_rule(struct ca_prov_args *a, enum ca_prov_list list,
	    const char *value);
/* Add value to --admin, --domain or --group: 0, or CA_ERR_INVAL. */
int	 ca_prov_args_oidc_add(struct ca_prov_args *a,
	    enum ca_prov_oidc_list list, const char *value);
/*
 * The OIDC provisioner name that a's options describe, as ca.json holds
 * it (the client secret read from its file): *p, or CA_ERR_*.
 */
int	 ca_prov_args_oidc_new(const struct ca_prov_args *a, const char *name,
	    struct json_object **p);
/*
 * Refuse step's SSH flags (--ssh-*: policy, claims, templates) among the
 * options argv[1..argc-1] before "--": 0, or CA_ERR_INVAL naming the flag.
 */
int	 ca_prov_args_no_ssh(int argc, char **argv);
/*
 * Whether the options in a go with its command, checked before anything
 * is read: 0 (and a->change set), or CA_ERR_INVAL with the usage error
 * recorded.
 */
int	 ca_prov_args_check(struct ca_prov_args *a);
/*
 * Read the files of --x509-template (text, at most CA_CERTTMPL_FILE_MAX
 * bytes) and --x509-template-data (a JSON object, strictly parsed) into
 * a->change. Free with ca_prov_args_free().
 */
int	 ca_prov_args_read(struct ca_prov_args *a);
void	 ca_prov_args_free(struct ca_prov_args *a);

#endif /* CA_PROVISIONER_ARGS_H */
